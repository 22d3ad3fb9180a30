/*
 * barena.c — the batch arena (see barena.h).
 * Invariants: the regions are one mapping [ba_lo, ba_hi), made once and
 * never unmapped, so a pointer is the arena's exactly when it lies in it,
 * whatever thread asks and whenever. Region r handed out ba_given[r]
 * blocks (counted by the one thread that allocates, without a locked
 * instruction) of which ba_freed[r] were freed (by any thread, atomically);
 * only the allocating thread resets a region, and only when the two are
 * equal: then no thread holds or will free a block of it.
 */
#include "barena.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define BARENA_ALIGN 16

static pthread_once_t ba_once = PTHREAD_ONCE_INIT;
static unsigned char *ba_lo, *ba_hi;       /* NULL: no regions */
static size_t ba_given[BARENA_REGIONS];    /* the allocating thread's */
static atomic_size_t ba_freed[BARENA_REGIONS];
static size_t ba_used[BARENA_REGIONS];     /* the allocating thread's */
static bool ba_touched[BARENA_REGIONS];    /* ever allocated from */
static size_t ba_total;                    /* bytes handed out (tests) */
static int ba_cur;                         /* -1: malloc */
static _Thread_local bool ba_on;

static void
ba_reserve(void)
{
	size_t len = (size_t)BARENA_REGIONS * BARENA_REGION_BYTES;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		ba_cur = -1;
		return;
	}
	ba_lo = p;
	ba_hi = ba_lo + len;
	ba_cur = 0;
}

bool
barena_init(void)
{
	pthread_once(&ba_once, ba_reserve);
	return ba_lo != NULL;
}

void
barena_set_on(bool on)
{
	ba_on = on && ba_lo;
}

void *
barena_malloc(size_t n)
{
	if (!ba_on || ba_cur < 0 || n > BARENA_MAX_BLOCK)
		return malloc(n);
	n = (n + BARENA_ALIGN - 1) & ~(size_t)(BARENA_ALIGN - 1);
	if (n == 0)
		n = BARENA_ALIGN;
	if (BARENA_REGION_BYTES - ba_used[ba_cur] < n) {
		ba_cur = -1; /* full: malloc until the next batch */
		return malloc(n);
	}
	unsigned char *p = ba_lo + (size_t)ba_cur * BARENA_REGION_BYTES + ba_used[ba_cur];
	ba_used[ba_cur] += n;
	ba_touched[ba_cur] = true;
	ba_total += n;
	ba_given[ba_cur]++;
	return p;
}

void
barena_free(void *p)
{
	unsigned char *q = p;
	if (q && q >= ba_lo && q < ba_hi) {
		size_t r = (size_t)(q - ba_lo) / BARENA_REGION_BYTES;
		/* release: this thread's reads of the block come before a reset */
		atomic_fetch_add_explicit(&ba_freed[r], 1, memory_order_release);
		return;
	}
	free(p);
}

static bool
ba_idle(int r)
{
	return atomic_load_explicit(&ba_freed[r], memory_order_acquire) == ba_given[r];
}

void
barena_next(void)
{
	if (!ba_on)
		return;
	/* the current region if nothing in it is alive, else an idle one,
	 * preferring regions already touched (their pages are resident:
	 * resident memory stays that of the regions in use at once) */
	int start = ba_cur < 0 ? 0 : ba_cur;
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < BARENA_REGIONS; k++) {
			int r = (start + k) % BARENA_REGIONS;
			if ((pass == 1 || ba_touched[r]) && ba_idle(r)) {
				ba_used[r] = 0;
				ba_given[r] = 0;
				atomic_store_explicit(&ba_freed[r], 0, memory_order_relaxed);
				ba_cur = r;
				return;
			}
		}
	ba_cur = -1;
}

size_t
barena_bytes_used(void)
{
	return ba_total;
}

int
barena_current(void)
{
	return ba_cur;
}
