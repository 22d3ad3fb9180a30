/*
 * Out-of-memory tests of lib/stix/stix_pattern*.c: malloc and realloc are
 * wrapped (-Wl,--wrap) to fail the Nth call, for every N until a run
 * succeeds; each failure must come back as TC_ENOMEM without leaks or
 * crashes (the sanitizer build checks the leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix_pattern.h"
#include "util/buf.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1; /* 0-based index of the call to fail; -1: never */
static long calls;

static bool
should_fail(void)
{
	return fail_at >= 0 && calls++ == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

static enum tcerr
count_cb(void *ctx, const char *path_text, struct slice value, bool sufficient)
{
	(*(int *)ctx)++;
	return TC_OK;
}

/* A pattern large enough to need several arena chunks, a heap stack in
 * exact() and buffer growth in print(). */
static char *
big_pattern(void)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "%s[file:hashes.'SHA-256' = '%064d' OR x:y IN (%d, 'z')]",
		           i ? " OR " : "", i, i);
	char *s = buf_detach(&b, NULL);
	assert_non_null(s);
	return s;
}

static void
test_parse_oom(void **state)
{
	char *text = big_pattern();
	bool done = false;
	int parse_fails = 0, exact_fails = 0, print_fails = 0;

	for (long n = 0; !done; n++) {
		struct stix_pattern *p = NULL;
		struct diag d;
		calls = 0;
		fail_at = n;
		enum tcerr rc = stix_pattern_parse(slice_from_cstr(text), NULL, &p, &d);
		if (rc == TC_ENOMEM) {
			assert_null(p);
			assert_string_equal(d.msg, "out of memory parsing pattern");
			parse_fails++;
			continue;
		}
		assert_int_equal(rc, TC_OK);
		/* the parse needed fewer than n allocations: now exact and print */
		int count = 0;
		enum tcerr erc = stix_pattern_exact(p, count_cb, &count);
		struct buf b;
		buf_init(&b, 0);
		stix_pattern_print(p, &b);
		enum tcerr prc = buf_error(&b);
		fail_at = -1;
		assert_true(erc == TC_OK || erc == TC_ENOMEM);
		assert_true(prc == TC_OK || prc == TC_ENOMEM);
		exact_fails += erc == TC_ENOMEM;
		print_fails += prc == TC_ENOMEM;
		done = erc == TC_OK && prc == TC_OK;
		if (done)
			assert_int_equal(count, 600);
		buf_reset(&b);
		stix_pattern_free(p);
	}
	fail_at = -1;
	/* every allocation site was hit: arena chunks, exact's stack and
	 * buffers, print's spine stack and buffer growth */
	assert_true(parse_fails >= 3);
	assert_true(exact_fails >= 2);
	assert_true(print_fails >= 2);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
