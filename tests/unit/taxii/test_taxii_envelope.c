/* Unit tests of lib/taxii/taxii_envelope.c: the POST envelope skeleton
 * scanner, which cuts the objects out of a body without parsing it whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "taxii/taxii_envelope.h"

static enum tcerr
scan(const char *body, size_t max, struct taxii_span **sp, size_t *n)
{
	return taxii_envelope_scan(slice_from_cstr(body), max, sp, n);
}

static void
assert_span(const char *body, const struct taxii_span *s, const char *want)
{
	assert_int_equal(s->len, strlen(want));
	assert_memory_equal(body + s->off, want, s->len);
}

static void
test_compact_envelope(void **state)
{
	(void)state;
	const char *b = "{\"objects\":[{\"type\":\"x\"},{\"a\":[1,{\"b\":2}],\"c\":\"}]\\\"{[\"}]}";
	struct taxii_span *sp;
	size_t n;
	assert_int_equal(scan(b, 10, &sp, &n), TC_OK);
	assert_int_equal(n, 2);
	assert_span(b, &sp[0], "{\"type\":\"x\"}");
	assert_span(b, &sp[1], "{\"a\":[1,{\"b\":2}],\"c\":\"}]\\\"{[\"}");
	assert_false(sp[0].ws);
	assert_false(sp[1].ws);
	free(sp);
}

/* a backslash escapes the next byte only: "x\\" ends at its second
 * quote, "\\\"]" runs on past the escaped quote */
static void
test_escapes(void **state)
{
	(void)state;
	const char *b = "{\"objects\":[{\"a\":\"x\\\\\"},{\"b\":\"\\\\\\\"]}\"}]}";
	struct taxii_span *sp;
	size_t n;
	assert_int_equal(scan(b, 10, &sp, &n), TC_OK);
	assert_int_equal(n, 2);
	assert_span(b, &sp[0], "{\"a\":\"x\\\\\"}");
	assert_span(b, &sp[1], "{\"b\":\"\\\\\\\"]}\"}");
	free(sp);
}

static void
test_whitespace_is_compacted_outside_strings(void **state)
{
	(void)state;
	const char *b =
	    " \r\n{ \"objects\" :\t[ { \"type\" : \"a b\\\" c\" ,\n \"n\": [ 1 , 2 ] } ]\n}\n";
	struct taxii_span *sp;
	size_t n;
	char out[128];
	assert_int_equal(scan(b, 10, &sp, &n), TC_OK);
	assert_int_equal(n, 1);
	assert_true(sp[0].ws);
	size_t len = taxii_envelope_compact(slice_from_cstr(b), &sp[0], out);
	out[len] = '\0';
	assert_string_equal(out, "{\"type\":\"a b\\\" c\",\"n\":[1,2]}");
	free(sp);
}

static void
test_other_shapes_fall_back(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "[]",
	    "{}",
	    "{\"objects\":[]}", /* empty: the whole parse's 422 */
	    "{\"objects\":{}}",
	    "{\"objects\":[1]}",                 /* not an object */
	    "{\"objects\":[{}],\"more\":false}", /* another member */
	    "{\"more\":false,\"objects\":[{}]}",
	    "{\"obj\\u0065cts\":[{}]}",   /* escaped key */
	    "{\"objects\":[{}]}x",        /* trailing bytes */
	    "{\"objects\":[{}]",          /* truncated */
	    "{\"objects\":[{\"a\":\"}]}", /* unterminated string */
	    "{\"objects\":[{\"a\" 1}]}",  /* a span that is no JSON */
	    "{\"objects\":[{},]}",        /* trailing comma */
	    "{\"objects\":[{} {}]}",
	    "{\"objects\":[{}}]}",
	    "{\"objects\":[{]}]}", /* cut at depth 0, then '}' */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct taxii_span *sp = (void *)1;
		size_t n = 7;
		enum tcerr rc = scan(bad[i], 10, &sp, &n);
		if (i == 12) {
			/* the skeleton is right; the span "{]}" does not parse as JSON,
			 * which the caller's parser finds */
			assert_int_equal(rc, TC_OK);
			assert_int_equal(n, 1);
			assert_span(bad[i], &sp[0], "{\"a\" 1}");
			free(sp);
			continue;
		}
		assert_int_equal(rc, TC_EINVAL);
		assert_null(sp);
		assert_int_equal(n, 0);
	}
}

static void
test_limit(void **state)
{
	(void)state;
	struct taxii_span *sp;
	size_t n;
	assert_int_equal(scan("{\"objects\":[{},{},{}]}", 2, &sp, &n), TC_ELIMIT);
	assert_null(sp);
	assert_int_equal(scan("{\"objects\":[{},{},{}]}", 3, &sp, &n), TC_OK);
	assert_int_equal(n, 3);
	free(sp);
}

static void
test_many_objects_grow(void **state)
{
	(void)state;
	size_t count = 1000;
	char *b = malloc(count * 3 + 32);
	assert_non_null(b);
	size_t at = strlen("{\"objects\":[");
	memcpy(b, "{\"objects\":[", at);
	for (size_t i = 0; i < count; i++) {
		if (i)
			b[at++] = ',';
		memcpy(b + at, "{}", 2);
		at += 2;
	}
	memcpy(b + at, "]}", 3);
	struct taxii_span *sp;
	size_t n;
	assert_int_equal(scan(b, 100000, &sp, &n), TC_OK);
	assert_int_equal(n, count);
	assert_span(b, &sp[count - 1], "{}");
	free(sp);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compact_envelope),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_whitespace_is_compacted_outside_strings),
	    cmocka_unit_test(test_other_shapes_fall_back),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_many_objects_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
