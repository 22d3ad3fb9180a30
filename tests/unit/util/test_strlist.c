/*
 * Unit tests of lib/util/strlist.c: JSON arrays of strings and lines, with
 * their limits and the errors a client sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/strlist.h"

static const struct strlist_limits lim = { 3, 8 };

static enum tcerr
json(struct strlist *l, const char *in, struct diag *d)
{
	return strlist_parse_json(l, slice_from_cstr(in), &lim, d);
}

static void
test_json(void **state)
{
	struct strlist l;
	struct diag d;
	(void)state;
	strlist_init(&l);
	assert_int_equal(json(&l, " [ \"a.example\" , \"1.2.3.4\" ] ", &d), TC_ELIMIT);
	assert_int_equal(json(&l, " [ \"a.ex\" , \"1.2.3.4\" ]\n", &d), TC_OK);
	assert_int_equal(l.n, 2);
	assert_true(slice_eq(l.v[0], slice_from_cstr("a.ex")));
	assert_int_equal(json(&l, "[]", &d), TC_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(json(&l, "[\"\\u00e9\\n\", \"\\ud83d\\ude00\"]", &d), TC_OK);
	assert_true(slice_eq(l.v[0], slice_from_cstr("\xc3\xa9\n")));
	assert_true(slice_eq(l.v[1], slice_from_cstr("\xf0\x9f\x98\x80")));
	assert_int_equal(json(&l, "[\"a\",\"b\",\"c\",\"d\"]", &d), TC_ELIMIT);
	assert_non_null(strstr(d.msg, "more than 3 values"));
	const char *bad[] = { "", "{}", "\"a\"", "[1]", "[\"a\",]", "[\"a\" \"b\"]", "[\"a\"] x",
		              "[\"\\ud83d\"]", "[\"\\u0000\"]", "[\"\xc3\x28\"]", "[\"a\x01\"]",
		              "[\"a", "[\"a\"", "[\"\\x\"]", "[\"\xed\xa0\x80\"]" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (json(&l, bad[i], &d) != TC_EINVAL)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(json(&l, "[1]", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "element 0 is not a string"));
	strlist_reset(&l);
}

static void
test_lines(void **state)
{
	struct strlist l;
	struct diag d;
	(void)state;
	strlist_init(&l);
	assert_int_equal(strlist_parse_lines(&l, slice_from_cstr(" a \r\n\n\tb\nc"), &lim, &d), TC_OK);
	assert_int_equal(l.n, 3);
	assert_true(slice_eq(l.v[0], slice_from_cstr("a")));
	assert_true(slice_eq(l.v[2], slice_from_cstr("c")));
	assert_int_equal(strlist_parse_lines(&l, slice_from_cstr("a\nb\nc\nd\n"), &lim, &d),
	                 TC_ELIMIT);
	assert_int_equal(strlist_parse_lines(&l, slice_from_cstr("123456789"), &lim, &d), TC_ELIMIT);
	assert_int_equal(strlist_parse_lines(&l, slice_from_cstr("a\n\xff\n"), &lim, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "line 2"));
	strlist_reset(&l);
}

static void
test_query(void **state)
{
	struct strlist l;
	struct diag d;
	struct slice kind;
	(void)state;
	strlist_init(&l);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("value=+7999&value=a%2Eb&kind=phone&"),
	                                     &lim, 8, true, &kind, &d), TC_OK);
	assert_int_equal(l.n, 2);
	assert_true(slice_eq(l.v[0], slice_from_cstr("+7999")));  /* '+' is a plus */
	assert_true(slice_eq(l.v[1], slice_from_cstr("a.b")));
	assert_true(slice_eq(kind, slice_from_cstr("phone")));
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("value=%zz"), &lim, 8, true, &kind, &d),
	                 TC_EINVAL);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("valeu=1"), &lim, 8, true, &kind, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "valeu"));
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("value=a%0Ab"), &lim, 8, true, &kind,
	                                     &d), TC_EINVAL);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("value=1&value=2&value=3&value=4"),
	                                     &lim, 8, true, &kind, &d), TC_ELIMIT);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("kind=a&kind=b&kind=c"), &lim, 2,
	                                     true, &kind, &d),
	                 TC_ELIMIT);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("value=1"), &lim, 8, false, &kind, &d),
	                 TC_EINVAL);
	assert_int_equal(strlist_parse_query(&l, slice_from_cstr("kind=url"), &lim, 8, false, &kind, &d),
	                 TC_OK);
	strlist_reset(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
