/* Unit tests of lib/stix/stix_scan.c: the streaming skeleton scanner of
 * bundles and envelopes, fed whole and in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix_scan.h"

/* What one scan saw, as text: "M:key=value E0:{...} S1:size O END". */
static void
scan_text(const char *in, size_t piece, const struct stix_scan_limits *lim, char *out,
          size_t cap, struct diag *d)
{
	struct stix_scan s;
	size_t size = strlen(in), have = 0, fed = 0, o = 0;
	char *buf = malloc(size + 1);
	assert_non_null(buf);
	stix_scan_init(&s, lim);
	out[0] = '\0';
	diag_clear(d);
	for (;;) {
		if (piece == 0 && fed == 0) {
			memcpy(buf, in, size);
			have = fed = size;
		}
		enum stix_scan_ev e = stix_scan_next(&s, slice_make(buf, have), fed == size, d);
		int n = 0;
		switch (e) {
		case STIX_SCAN_MORE: {
			size_t keep = stix_scan_keep(&s);
			memmove(buf, buf + keep, have - keep);
			have -= keep;
			stix_scan_drop(&s, keep);
			size_t k = size - fed < piece ? size - fed : piece;
			memcpy(buf + have, in + fed, k);
			have += k;
			fed += k;
			continue;
		}
		case STIX_SCAN_MEMBER:
			n = snprintf(out + o, cap - o, "M:%s=%.*s ", s.key, (int)s.len, buf + s.off);
			break;
		case STIX_SCAN_OBJECTS:
			n = snprintf(out + o, cap - o, "O ");
			break;
		case STIX_SCAN_ELEMENT:
			n = snprintf(out + o, cap - o, "E%zu%s:%.*s ", s.index, s.ws ? "w" : "",
			             (int)s.len, buf + s.off);
			break;
		case STIX_SCAN_SKIPPED:
			n = snprintf(out + o, cap - o, "S%zu:%s ", s.index, s.too_deep ? "depth" : "size");
			break;
		case STIX_SCAN_END:
			n = snprintf(out + o, cap - o, "END");
			break;
		case STIX_SCAN_ERROR:
			n = snprintf(out + o, cap - o, "ERROR");
			break;
		}
		assert_true(n >= 0 && (size_t)n < cap - o);
		o += (size_t)n;
		if (e == STIX_SCAN_END || e == STIX_SCAN_ERROR)
			break;
	}
	free(buf);
}

/* The same answer whole and fed 1, 2, 3, 7 bytes at a time. */
static void
expect(const char *in, const char *want, const char *err)
{
	char got[4096];
	struct diag d;
	const struct stix_scan_limits lim = {.max_object = 40, .max_depth = 3, .max_member = 64};
	static const size_t pieces[] = {0, 1, 2, 3, 7};
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		scan_text(in, pieces[i], &lim, got, sizeof(got), &d);
		if (strcmp(got, want) != 0)
			fail_msg("input %s, pieces of %zu:\n got  %s\n want %s", in, pieces[i], got,
			         want);
		if (err && !strstr(d.msg, err))
			fail_msg("input %s: message '%s' lacks '%s'", in, d.msg, err);
	}
}

static void
test_bundle(void **state)
{
	(void)state;
	expect("{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[{\"type\":\"x\"},"
	       "{\"a\":[1,{\"b\":2}],\"c\":\"}]\\\"{[\"}]}",
	       "M:type=\"bundle\" M:id=\"bundle--1\" O E0:{\"type\":\"x\"} "
	       "E1:{\"a\":[1,{\"b\":2}],\"c\":\"}]\\\"{[\"} END",
	       NULL);
}

static void
test_envelope_members_after_objects_and_whitespace(void **state)
{
	(void)state;
	expect(" {\n \"objects\" : [ { \"a\" : \"x y\" } ,\n {\"b\":1} ] , \"more\": false ,"
	       "\"next\":\"abc\" }\n ",
	       "O E0w:{ \"a\" : \"x y\" } E1:{\"b\":1} M:more=false M:next=\"abc\" END", NULL);
	expect("{\"objects\":[]}", "O END", NULL);
	expect("{}", "END", NULL);
	expect("{\"objects\":{\"a\":1}}", "M:objects={\"a\":1} END", NULL);
}

static void
test_escapes(void **state)
{
	(void)state;
	/* "x\\" ends at its second quote; "\\\"]}" runs on past the escaped quote */
	expect("{\"objects\":[{\"a\":\"x\\\\\"},{\"b\":\"\\\\\\\"]}\"}]}",
	       "O E0:{\"a\":\"x\\\\\"} E1:{\"b\":\"\\\\\\\"]}\"} END", NULL);
	/* an escaped key is decoded */
	expect("{\"obj\\u0065cts\":[{}]}", "O E0:{} END", NULL);
}

static void
test_limits_skip_the_element_only(void **state)
{
	(void)state;
	expect("{\"objects\":[{\"big\":\"0123456789012345678901234567890123456789\"},{}]}",
	       "O S0:size E1:{} END", NULL);
	expect("{\"objects\":[{\"a\":[[[1]]]},{\"b\":[[1]]}]}", "O S0:depth E1:{\"b\":[[1]]} END",
	       NULL);
	/* elements that are no objects are the caller's to refuse */
	expect("{\"objects\":[1,\"s\",null]}", "O E0:1 E1:\"s\" E2:null END", NULL);
}

static void
test_errors_name_the_place(void **state)
{
	(void)state;
	expect("{\"objects\":[{},{\"a\":1}", "O E0:{} E1:{\"a\":1} ERROR",
	       "objects[2]: the input ends here");
	expect("{\"objects\":[{},{\"a\":", "O E0:{} ERROR",
	       "objects[1]: the input ends inside this element");
	expect("{\"objects\":[{}]} x", "O E0:{} ERROR", "text after the end");
	expect("{\"objects\":[{} {}]}", "O E0:{} ERROR", "expected ',' or ']' after objects[0]");
	expect("{\"objects\":[{},]}", "O E0:{} ERROR", "objects[1]: expected a value");
	expect("{\"type\":\"bundle\",\"type\":\"x\"}", "M:type=\"bundle\" ERROR",
	       "the key \"type\" is given twice");
	expect("[{}]", "ERROR", "expected '{'");
	expect("{\"type\" \"x\"}", "ERROR", "expected ':'");
	expect("{\"x\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	       "ERROR", "the member \"x\" is too long");
	expect("", "ERROR", "the input ends before the document does");
}

/* Memory stays bounded: a long input fed in small pieces never needs more
 * than one element (plus one piece) kept. */
static void
test_keep_is_bounded(void **state)
{
	(void)state;
	struct stix_scan s;
	struct diag d;
	static const char head[] = "{\"type\":\"bundle\",\"objects\":[";
	static const char elem[] = "{\"type\":\"indicator\",\"name\":\"a \\\" b\"},\n";
	char buf[256];
	size_t have = 0, max_have = 0, elems = 0;
	const size_t total = 100000;
	size_t fed_elems = 0;
	bool head_fed = false, tail_fed = false;

	stix_scan_init(&s, NULL);
	for (;;) {
		bool eof = tail_fed;
		enum stix_scan_ev e = stix_scan_next(&s, slice_make(buf, have), eof, &d);
		if (e == STIX_SCAN_ELEMENT) {
			elems++;
			continue;
		}
		if (e == STIX_SCAN_END)
			break;
		assert_true(e == STIX_SCAN_MORE || e == STIX_SCAN_OBJECTS || e == STIX_SCAN_MEMBER);
		if (e != STIX_SCAN_MORE)
			continue;
		size_t keep = stix_scan_keep(&s);
		memmove(buf, buf + keep, have - keep);
		have -= keep;
		stix_scan_drop(&s, keep);
		const char *add;
		if (!head_fed) {
			add = head;
			head_fed = true;
		} else if (fed_elems < total) {
			add = fed_elems + 1 == total ? "{\"last\":1}" : elem;
			fed_elems++;
		} else {
			add = "]}";
			tail_fed = true;
		}
		size_t k = strlen(add);
		assert_true(have + k <= sizeof(buf));
		memcpy(buf + have, add, k);
		have += k;
		if (have > max_have)
			max_have = have;
	}
	assert_int_equal(elems, total);
	assert_true(max_have < 2 * sizeof(elem));
}

static void
test_compact(void **state)
{
	(void)state;
	const char *in = "{ \"type\" : \"a b\\\" c\" ,\n \"n\": [ 1 , 2 ] }";
	char out[128];
	size_t n = stix_scan_compact(slice_from_cstr(in), out);
	out[n] = '\0';
	assert_string_equal(out, "{\"type\":\"a b\\\" c\",\"n\":[1,2]}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_envelope_members_after_objects_and_whitespace),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_limits_skip_the_element_only),
		cmocka_unit_test(test_errors_name_the_place),
		cmocka_unit_test(test_keep_is_bounded),
		cmocka_unit_test(test_compact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
