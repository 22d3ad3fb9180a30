/*
 * barena.h — a batch arena: bump allocation for values made in batches
 * and freed by any thread.
 *
 * `tocsin import` parses each object of a batch on its reader thread, and
 * the hub's writer thread frees the trees after committing them; with
 * malloc every node was a malloc here and a cross-thread free there (a
 * fifth of the import's CPU). The arena hands out memory from a few large
 * regions reserved once (virtual memory only until touched); a free is a
 * range check and an atomic decrement of its region's count of live
 * blocks, from any thread. A region is reused only when every block in it
 * was freed, so a value that outlives its batch (a document read whole)
 * keeps its region and is never overwritten: lifetimes stay the callers'
 * concern exactly as with malloc. When no region is free, a region is
 * full, a request is large or the arena is off on the calling thread,
 * allocation falls back to malloc (and free to free). Freed memory is not
 * reused within a region: memory grows with what a batch allocates, and
 * is bounded by BARENA_REGIONS × BARENA_REGION_BYTES.
 */
#ifndef TOCSIN_BARENA_H
#define TOCSIN_BARENA_H

#include <stdbool.h>
#include <stddef.h>

/* Regions reserved at once; a streamed import uses two (the batch being
 * read and the one being written), the rest cover values that outlive
 * their batch. */
#define BARENA_REGIONS 4
/* Virtual bytes of one region (touched only as used). */
#define BARENA_REGION_BYTES ((size_t)256 * 1024 * 1024)
/* Requests above this size go to malloc (they would waste a region). */
#define BARENA_MAX_BLOCK ((size_t)64 * 1024)

/* Reserves the regions (once per process; later calls do nothing).
 * Returns true when the arena is usable; false (no address space) leaves
 * every allocation to malloc, which is still correct. */
bool barena_init(void);

/* Makes the calling thread's allocations come from the arena (on) or
 * from malloc (off). At most one thread may have it on at a time. */
void barena_set_on(bool on);

/* malloc-compatible: 16-byte aligned; NULL when out of memory. */
void *barena_malloc(size_t n);

/* free-compatible, from any thread: p from barena_malloc, from malloc, or
 * NULL. */
void barena_free(void *p);

/* A batch boundary, by the thread that has the arena on: what it
 * allocates next goes to a region whose blocks were all freed (reset),
 * or to malloc when none is. */
void barena_next(void);

/* Tests: bytes handed out from regions since barena_init(), and the
 * region allocations now go to (-1: malloc). */
size_t barena_bytes_used(void);
int barena_current(void);

#endif
