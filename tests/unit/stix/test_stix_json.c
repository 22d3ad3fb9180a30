/*
 * Unit tests of lib/stix/stix_json.c: I-JSON strictness and every named
 * limit of struct stix_limits, each at its boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix.h"
#include "util/buf.h"

static enum tcerr
parse_lim(const char *s, size_t len, const struct stix_limits *lim, struct diag *d)
{
	json_t *v = NULL;
	enum tcerr rc = stix_json_parse(slice_make(s, len), lim, &v, d);
	if (rc == TC_OK)
		assert_non_null(v);
	else
		assert_null(v);
	json_decref(v);
	return rc;
}

static enum tcerr
parse(const char *s, struct diag *d)
{
	return parse_lim(s, strlen(s), NULL, d);
}

static void
test_defaults(void **state)
{
	assert_int_equal(stix_default_limits.max_depth, 64);
	assert_int_equal(stix_default_limits.max_string, 1024 * 1024);
	assert_int_equal(stix_default_limits.max_properties, 10000);
	assert_int_equal(stix_default_limits.max_array, 100000);
	assert_int_equal(stix_default_limits.max_pattern, 64 * 1024);
}

static void
test_strict(void **state)
{
	struct diag d;
	assert_int_equal(parse("{\"a\":1,\"b\":[true,null,\"x\"]}", &d), TC_OK);
	assert_int_equal(parse("\"scalar\"", &d), TC_OK);

	assert_int_equal(parse("{\"a\":1,\"a\":2}", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "duplicate object key"));
	assert_int_equal(d.line, 1);
	assert_true(d.column > 0);

	/* invalid UTF-8: a lone continuation byte, an overlong encoding, a surrogate */
	assert_int_equal(parse("[\"\x80\"]", &d), TC_EINVAL);
	assert_int_equal(parse("[\"\xc0\xaf\"]", &d), TC_EINVAL);
	assert_int_equal(parse("[\"\xed\xa0\x80\"]", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "line 1, column"));

	assert_int_equal(parse("[\"a\\u0000b\"]", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "\\u0000 is not allowed"));
	assert_int_equal(parse_lim("[\"a\0b\"]", 7, NULL, &d), TC_EINVAL);

	/* trailing garbage, second line position */
	assert_int_equal(parse("{}\n x", &d), TC_EINVAL);
	assert_int_equal(d.line, 2);
	assert_int_equal(parse("", &d), TC_EINVAL);
	assert_int_equal(parse("[1,]", &d), TC_EINVAL);
}

static void
test_ijson_integers(void **state)
{
	struct diag d;
	assert_int_equal(parse("[9007199254740991,-9007199254740991]", &d), TC_OK);
	assert_int_equal(parse("[9007199254740992]", &d), TC_EINVAL);
	assert_string_equal(d.msg, "[0]: integer outside ±(2^53-1) (I-JSON, RFC 7493 §2.2)");
	assert_int_equal(parse("{\"n\":-9007199254740992}", &d), TC_EINVAL);
	assert_string_equal(d.msg, "n: integer outside ±(2^53-1) (I-JSON, RFC 7493 §2.2)");
	assert_int_equal(parse("[99999999999999999999999]", &d), TC_EINVAL); /* jansson overflow */
	/* reals are doubles already */
	assert_int_equal(parse("[9007199254740993.0]", &d), TC_OK);
}

static char *
nest(size_t depth)
{
	char *s = malloc(depth * 2 + 1);
	for (size_t i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

static void
test_limit_depth(void **state)
{
	struct diag d;
	char *ok = nest(64), *deep = nest(65);
	assert_int_equal(parse(ok, &d), TC_OK);
	assert_int_equal(parse(deep, &d), TC_ELIMIT);
	assert_non_null(strstr(d.msg, "nesting deeper than 64"));
	free(ok);
	free(deep);
	struct stix_limits lim = stix_default_limits;
	lim.max_depth = 2;
	assert_int_equal(parse_lim("{\"a\":[1]}", 9, &lim, &d), TC_OK);
	assert_int_equal(parse_lim("{\"a\":[{}]}", 10, &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "a[0]: nesting deeper than 2");
	/* far beyond jansson's own stack limit: still a clean error */
	char *huge = nest(5000);
	assert_int_equal(parse(huge, &d), TC_ELIMIT);
	free(huge);
}

static void
test_limit_string(void **state)
{
	struct diag d;
	struct stix_limits lim = stix_default_limits;
	lim.max_string = 4;
	assert_int_equal(parse_lim("[\"abcd\"]", 8, &lim, &d), TC_OK);
	assert_int_equal(parse_lim("[\"abcde\"]", 9, &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "[0]: string longer than 4 bytes");
	assert_int_equal(parse_lim("{\"abcde\":1}", 11, &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "property name longer than 4 bytes");
	/* the default: 1 MiB */
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "[\"");
	for (size_t i = 0; i < 1024 * 1024 + 1; i++)
		buf_append_char(&b, 'x');
	buf_append_cstr(&b, "\"]");
	assert_int_equal(parse_lim(b.p, b.len, NULL, &d), TC_ELIMIT);
	buf_reset(&b);
}

static void
test_limit_properties(void **state)
{
	struct diag d;
	struct stix_limits lim = stix_default_limits;
	lim.max_properties = 2;
	assert_int_equal(parse_lim("{\"a\":1,\"b\":2}", 13, &lim, &d), TC_OK);
	assert_int_equal(parse_lim("{\"x\":{\"a\":1,\"b\":2,\"c\":3}}", 25, &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "x: more than 2 properties");
}

static void
test_limit_array(void **state)
{
	struct diag d;
	struct stix_limits lim = stix_default_limits;
	lim.max_array = 3;
	assert_int_equal(parse_lim("[1,2,3]", 7, &lim, &d), TC_OK);
	assert_int_equal(parse_lim("{\"o\":[[1,2,3,4]]}", 17, &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "o[0]: more than 3 array items");
}

static size_t counted_allocs;

static void *
counting_malloc(size_t n)
{
	counted_allocs++;
	return malloc(n);
}

/* A document far beyond a limit (here 25 times max_array integers) is
 * refused by the byte pre-scan, before jansson allocates a single value,
 * and the message says where. */
static void
test_prescan_refuses_before_parsing(void **state)
{
	(void)state;
	struct diag d;
	struct stix_limits lim = stix_default_limits;
	lim.max_array = 1000;
	size_t n = 25000, len = 0;
	char *doc = malloc(n * 2 + 16);
	assert_non_null(doc);
	doc[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		doc[len++] = '7';
		doc[len++] = i + 1 < n ? ',' : ']';
	}
	stix_json_set_alloc(counting_malloc, free);
	counted_allocs = 0;
	enum tcerr rc = parse_lim(doc, len, &lim, &d);
	size_t allocs = counted_allocs;
	stix_json_set_alloc(malloc, free);
	assert_int_equal(rc, TC_ELIMIT);
	assert_int_equal(allocs, 0);
	assert_string_equal(d.msg, "line 1, column 4001: more than 1000 array items");
	free(doc);
}

/* jansson quotes the text near a syntax error, and a path names keys:
 * neither may carry a card number into a message. */
static void
test_no_card_number_in_messages(void **state)
{
	struct diag d;
	struct stix_limits lim = stix_default_limits;
	(void)state;
	assert_int_equal(parse("{\"a\": \"4111111111111111\\q\"}", &d), TC_EINVAL);
	assert_null(strstr(d.msg, "4111"));
	assert_non_null(strstr(d.msg, "invalid escape"));
	assert_int_equal(parse("{\"a\": \"ok\\q\"}", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "near")); /* other texts are still quoted */
	lim.max_string = 19;
	const char *s = "{\"4111 1111 1111 1111\": \"abcdefghijklmnopqrstuvwxyz\"}";
	assert_int_equal(parse_lim(s, strlen(s), &lim, &d), TC_ELIMIT);
	assert_null(strstr(d.msg, "1111"));
	assert_non_null(strstr(d.msg, "string longer than 19 bytes"));
	s = "{\"abc\": \"abcdefghijklmnopqrstuvwxyz\"}";
	assert_int_equal(parse_lim(s, strlen(s), &lim, &d), TC_ELIMIT);
	assert_non_null(strstr(d.msg, "abc: string longer")); /* other paths are named */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prescan_refuses_before_parsing),
	    cmocka_unit_test(test_defaults),       cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_ijson_integers), cmocka_unit_test(test_limit_depth),
	    cmocka_unit_test(test_limit_string),   cmocka_unit_test(test_limit_properties),
	    cmocka_unit_test(test_limit_array),
	    cmocka_unit_test(test_no_card_number_in_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
