/*
 * taxii_jarena.h — a per-thread arena for jansson's allocations while a
 * request builds and drops a large tree (a POST envelope: ~30 values per
 * object, 1,000 objects), so that they cost a pointer bump instead of a
 * malloc/free pair each.
 */
#ifndef TOCSIN_TAXII_JARENA_H
#define TOCSIN_TAXII_JARENA_H

/* Makes jansson allocate through the arena functions (for every thread;
 * outside a taxii_jarena_begin/end scope they are malloc and free). Call
 * once, before other threads use JSON (the daemon's start); it goes through
 * stix_json_set_alloc(). */
void taxii_jarena_install(void);

/* Starts a scope on this thread: JSON values made until
 * taxii_jarena_end() come from the thread's arena, and freeing them
 * returns nothing. Every such value must be released, and no longer
 * used by any thread, before taxii_jarena_end(). Without
 * taxii_jarena_install() it changes nothing. Scopes do not nest. */
void taxii_jarena_begin(void);

/* Ends the scope and gives the arena's memory back. */
void taxii_jarena_end(void);

#endif
