/*
 * taxii_jarena.c — the per-thread jansson arena (see taxii_jarena.h).
 * Invariant: a pointer lies in one of this thread's chunks exactly when
 * it came from the arena during the current scope; every other pointer
 * jansson frees came from malloc and goes to free. Chunks are freed only
 * at the end of a scope, when (by the caller's promise) no value in them
 * is live.
 */
#include "taxii_jarena.h"

#include "stix/stix.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define JARENA_CHUNK (1024 * 1024) /* bytes of a chunk; larger requests get their own */
#define JARENA_ALIGN 16

struct jchunk {
	struct jchunk *next;
	size_t size, used;
	_Alignas(JARENA_ALIGN) unsigned char data[];
};

static _Thread_local struct jchunk *ja_head; /* chunks of this scope, newest first */
static _Thread_local bool ja_on;

static bool
ja_owns(const void *p)
{
	const unsigned char *q = p;
	for (const struct jchunk *c = ja_head; c; c = c->next)
		if (q >= c->data && q < c->data + c->size)
			return true;
	return false;
}

static struct jchunk *
ja_chunk(size_t size)
{
	struct jchunk *c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	return c;
}

static void *
ja_malloc(size_t n)
{
	if (!ja_on)
		return malloc(n);
	if (n > SIZE_MAX - JARENA_ALIGN)
		return NULL;
	n = (n + JARENA_ALIGN - 1) & ~(size_t)(JARENA_ALIGN - 1);
	struct jchunk *c = ja_head;
	if (n > JARENA_CHUNK / 4) {
		/* a large block: its own chunk, behind the current one */
		struct jchunk *big = ja_chunk(n);
		if (!big)
			return NULL;
		big->used = n;
		if (c) {
			big->next = c->next;
			c->next = big;
		} else {
			big->next = NULL;
			ja_head = big;
		}
		return big->data;
	}
	if (!c || c->size - c->used < n) {
		c = ja_chunk(JARENA_CHUNK);
		if (!c)
			return NULL;
		c->next = ja_head;
		ja_head = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

static void
ja_free(void *p)
{
	if (!p || (ja_head && ja_owns(p)))
		return; /* arena memory goes back at taxii_jarena_end() */
	free(p);
}

void
taxii_jarena_install(void)
{
	/* through lib/stix, which keeps telling out-of-memory from bad input */
	stix_json_set_alloc(ja_malloc, ja_free);
}

void
taxii_jarena_begin(void)
{
	ja_on = true;
}

void
taxii_jarena_end(void)
{
	ja_on = false;
	/* nothing is kept between scopes: a thread that ends leaves nothing */
	for (struct jchunk *c = ja_head, *nx; c; c = nx) {
		nx = c->next;
		free(c);
	}
	ja_head = NULL;
}
