/*
 * test_text.c — text_printable(): what free text may hold before it is
 * stored and printed (titles, names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/text.h"

static bool
ok(const char *s, size_t len, size_t *bad)
{
	return text_printable(slice_make(s, len), bad);
}

static void
test_accepts_text(void **state)
{
	(void)state;
	assert_true(ok("CERT-EU feed", 12, NULL));
	assert_true(ok("Zürich – 東京 🛡", sizeof "Zürich – 東京 🛡" - 1, NULL));
	assert_true(ok("", 0, NULL));
}

static void
test_refuses_controls(void **state)
{
	size_t bad = 99;
	(void)state;
	assert_false(ok("a\nb", 3, &bad));
	assert_int_equal(bad, 1);
	assert_false(ok("x\033[31mred", 9, &bad));
	assert_int_equal(bad, 1);
	assert_false(ok("tab\t", 4, &bad));
	assert_false(ok("del\x7f", 4, &bad));
	assert_int_equal(bad, 3);
	assert_false(ok("nul\0x", 5, &bad));
	/* C1 controls encoded in UTF-8: U+009B is a CSI for some terminals */
	assert_false(ok("a\xc2\x9b" "31m", 6, &bad));
	assert_int_equal(bad, 1);
}

static void
test_refuses_bad_utf8(void **state)
{
	size_t bad = 99;
	(void)state;
	assert_false(ok("\xff", 1, &bad));
	assert_int_equal(bad, 0);
	assert_false(ok("ab\xc3", 3, &bad));      /* truncated */
	assert_int_equal(bad, 2);
	assert_false(ok("\xc0\xaf", 2, &bad));    /* overlong '/' */
	assert_false(ok("\xed\xa0\x80", 3, &bad)); /* surrogate */
	assert_false(ok("\xf4\x90\x80\x80", 4, &bad)); /* above U+10FFFF */
	assert_false(ok("a\xe2\x82", 3, &bad));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_text),
		cmocka_unit_test(test_refuses_controls),
		cmocka_unit_test(test_refuses_bad_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
