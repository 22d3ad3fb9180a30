/*
 * Unit tests of lib/util/barena.c: the batch arena `tocsin import` gives
 * jansson. A region is reused only once every block in it was freed, by
 * whatever thread; a value that outlives its batch is never overwritten.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/barena.h"

/* The tests share one process-wide arena: each leaves every block freed. */

static void
test_off_is_malloc(void **state)
{
	(void)state;
	assert_true(barena_init());
	barena_set_on(false);
	size_t before = barena_bytes_used();
	char *p = barena_malloc(100);
	assert_non_null(p);
	assert_int_equal(barena_bytes_used(), before); /* from malloc */
	barena_free(p);                                  /* to free: no crash */
	barena_free(NULL);
}

static void
test_aligned_and_distinct(void **state)
{
	(void)state;
	barena_set_on(true);
	barena_next();
	char *a = barena_malloc(1), *b = barena_malloc(17), *c = barena_malloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 16, 0);
	assert_int_equal((uintptr_t)c % 16, 0);
	assert_true(b >= a + 16 && c >= b + 32);
	/* a large request goes to malloc */
	size_t before = barena_bytes_used();
	char *big = barena_malloc(BARENA_MAX_BLOCK + 1);
	assert_non_null(big);
	assert_int_equal(barena_bytes_used(), before);
	memset(big, 1, BARENA_MAX_BLOCK + 1);
	barena_free(big);
	barena_free(a);
	barena_free(b);
	barena_free(c);
	barena_set_on(false);
}

/* A block still alive keeps its region: the next batch goes elsewhere and
 * never overwrites it. */
static void
test_live_region_kept(void **state)
{
	(void)state;
	barena_set_on(true);
	barena_next();
	int r0 = barena_current();
	assert_true(r0 >= 0);
	char *keep = barena_malloc(64);
	memset(keep, 'k', 64);
	barena_next();
	int r1 = barena_current();
	assert_true(r1 >= 0);
	assert_int_not_equal(r1, r0);
	static char *more[1000];
	for (int i = 0; i < 1000; i++) {
		more[i] = barena_malloc(64);
		memset(more[i], 'x', 64);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(keep[i], 'k');
	/* r1 holds 1000 live blocks, r0 one: neither is reused */
	barena_next();
	assert_int_not_equal(barena_current(), r0);
	assert_int_not_equal(barena_current(), r1);
	barena_free(keep);
	for (int i = 0; i < 1000; i++)
		barena_free(more[i]);
	/* all freed, nothing allocated in the current one: a region already
	 * touched is preferred (its pages are resident already) */
	barena_next();
	assert_true(barena_current() == r0 || barena_current() == r1);
	barena_set_on(false);
}

struct batch {
	void **p;
	size_t n;
};

static void *
free_batch(void *arg)
{
	struct batch *b = arg;
	for (size_t i = 0; i < b->n; i++)
		barena_free(b->p[i]);
	return NULL;
}

/* Blocks freed by another thread (the import's writer) make their region
 * reusable; once every region holds live blocks allocation goes to malloc
 * and stays correct. */
static void
test_freed_elsewhere_reused(void **state)
{
	(void)state;
	enum { N = 1000 };
	static void *blocks[BARENA_REGIONS + 1][N];

	barena_set_on(true);
	/* fill every region, freeing nothing yet */
	int used[BARENA_REGIONS + 1];
	size_t k = 0;
	for (;; k++) {
		barena_next();
		used[k] = barena_current();
		for (size_t i = 0; i < N; i++) {
			blocks[k][i] = barena_malloc(32);
			assert_non_null(blocks[k][i]);
			memset(blocks[k][i], (int)k, 32);
		}
		if (used[k] < 0)
			break; /* every region busy: these came from malloc */
		assert_true(k < BARENA_REGIONS);
	}
	/* free batch 0 on another thread: its region is the next one used */
	struct batch b = {blocks[0], N};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, free_batch, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	barena_next();
	assert_int_equal(barena_current(), used[0]);
	/* the others were not touched */
	for (size_t j = 1; j <= k; j++)
		for (size_t i = 0; i < N; i++)
			assert_int_equal(((unsigned char *)blocks[j][i])[31], (unsigned char)j);
	for (size_t j = 1; j <= k; j++) {
		b = (struct batch){blocks[j], N};
		free_batch(&b);
	}
	barena_set_on(false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_is_malloc),
		cmocka_unit_test(test_aligned_and_distinct),
		cmocka_unit_test(test_live_region_kept),
		cmocka_unit_test(test_freed_elsewhere_reused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
