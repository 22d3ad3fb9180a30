/* Unit tests of lib/util/timestamp.c: RFC 3339 'Z' parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/timestamp.h"

static void
test_parse_precision(void **state)
{
	int64_t us;
	int digits;
	assert_int_equal(ts_parse(SLICE_LIT("2016-04-06T20:03:48.123Z"), &us, &digits), TC_OK);
	assert_int_equal(digits, 3);
	assert_int_equal(us, 1459973028123000LL);
	assert_int_equal(ts_parse(SLICE_LIT("1970-01-01T00:00:00Z"), &us, &digits), TC_OK);
	assert_int_equal(us, 0);
	assert_int_equal(digits, 0);
	/* digits past microseconds are accepted and truncated */
	assert_int_equal(ts_parse(SLICE_LIT("2020-02-29T23:59:59.123456789Z"), &us, &digits), TC_OK);
	assert_int_equal(digits, 9);
	assert_int_equal(us % 1000000, 123456);
}

static void
test_parse_rejects(void **state)
{
	int64_t us;
	const char *bad[] = {
		"2016-04-06T20:03:48.Z",      /* '.' without digits */
		"2016-04-06T20:03:48+00:00",  /* only Z */
		"2016-04-06 20:03:48Z",
		"2019-02-29T00:00:00Z",       /* not a leap year */
		"2016-13-01T00:00:00Z",
		"2016-04-06T24:00:00Z",
		"2016-04-06T20:03:48.000z",
		"16-04-06T20:03:48Z",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ts_parse(slice_from_cstr(bad[i]), &us, NULL), TC_EINVAL);
}

static void
test_format_roundtrip(void **state)
{
	char out[TS_TEXT_MAX];
	int64_t us;
	ts_format(1459973028123456LL, 6, out);
	assert_string_equal(out, "2016-04-06T20:03:48.123456Z");
	ts_format(1459973028123456LL, 3, out);
	assert_string_equal(out, "2016-04-06T20:03:48.123Z");
	ts_format(-1, 6, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
	assert_int_equal(ts_parse(slice_from_cstr(out), &us, NULL), TC_OK);
	assert_int_equal(us, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_precision),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_format_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
