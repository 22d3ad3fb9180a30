/* Unit tests of RFC 8785 canonicalisation (lib/prov/jcs.c): the RFC's own
 * examples (§3.2.2, §3.2.3, Appendix B numbers) and what I-JSON refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prov/prov.h"

static char *
canon(const char *in, bool strip, enum tcerr *rc)
{
	struct buf b;
	struct diag d;
	char *s;
	buf_init(&b, 0);
	*rc = prov_jcs(slice_from_cstr(in), strip, &b, &d);
	if (*rc) {
		buf_reset(&b);
		return NULL;
	}
	s = buf_detach(&b, NULL);
	return s;
}

static void
expect(const char *in, const char *want)
{
	enum tcerr rc;
	char *got = canon(in, false, &rc);
	assert_int_equal(rc, TC_OK);
	assert_string_equal(got, want);
	free(got);
}

static void
refuse(const char *in, enum tcerr want)
{
	enum tcerr rc;
	char *got = canon(in, false, &rc);
	assert_null(got);
	assert_int_equal(rc, want);
}

/* RFC 8785 §3.2.2: the example with numbers, a string and literals. */
static void
test_rfc_example(void **state)
{
	(void)state;
	expect("{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
	       "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	       "  \"literals\": [null, true, false]\n}",
	       "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	       "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 §3.2.3: sorting by UTF-16 code units puts U+1F600 (D83D DE00)
 * before U+FB33, unlike code point or UTF-8 order. */
static void
test_rfc_sorting(void **state)
{
	(void)state;
	expect("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
	       "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\","
	       "\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
	       "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
	       "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	       "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
	       "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
	       "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text. */
static void
test_rfc_numbers(void **state)
{
	static const struct {
		uint64_t bits;
		const char *want;
	} v[] = {
		{ 0x0000000000000000, "0" },
		{ 0x8000000000000000, "0" },
		{ 0x0000000000000001, "5e-324" },
		{ 0x8000000000000001, "-5e-324" },
		{ 0x7fefffffffffffff, "1.7976931348623157e+308" },
		{ 0xffefffffffffffff, "-1.7976931348623157e+308" },
		{ 0x4340000000000000, "9007199254740992" },
		{ 0xc340000000000000, "-9007199254740992" },
		{ 0x4430000000000000, "295147905179352830000" },
		{ 0x44b52d02c7e14af5, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6, "1e+23" },
		{ 0x44b52d02c7e14af7, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4e, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4f, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8d, "0.000001" },
		{ 0x41b3de4355555553, "333333333.3333332" },
		{ 0x41b3de4355555554, "333333333.33333325" },
		{ 0x41b3de4355555555, "333333333.3333333" },
		{ 0x41b3de4355555556, "333333333.3333334" },
		{ 0x41b3de4355555557, "333333333.33333343" },
		{ 0xbecbf647612f3696, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959, "1424953923781206.2" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double x;
		char in[64], want[80];
		memcpy(&x, &v[i].bits, sizeof(x));
		snprintf(in, sizeof(in), "[%.17g]", x);
		snprintf(want, sizeof(want), "[%s]", v[i].want);
		expect(in, want);
	}
	/* integers are canonical as they are; -0 is 0 */
	expect("[-0,0,100,-42,123456789012345]", "[0,0,100,-42,123456789012345]");
	expect("[1.0,1e2,-1.5E-1,0.1]", "[1,100,-0.15,0.1]");
	/* NaN and Infinity have no JSON form; a literal beyond double range is refused */
	refuse("[1e400]", TC_EINVAL);
	refuse("[-1e400]", TC_EINVAL);
}

static void
test_strings(void **state)
{
	(void)state;
	/* only the RFC's escapes; U+007F, '/' and non-ASCII stay as they are */
	expect("\"\\u007f\\/\\u00e9\\b\\f\\t\\u0001\\u001f\"", "\"\x7f/\xc3\xa9\\b\\f\\t\\u0001\\u001f\"");
	expect("\"\xf0\x9f\x98\x80\"", "\"\xf0\x9f\x98\x80\"");
	expect(" { \"b\" : [ ] , \"a\" : { } } ", "{\"a\":{},\"b\":[]}");
}

static void
test_refused(void **state)
{
	(void)state;
	refuse("{\"a\":1,\"a\":2}", TC_EINVAL);             /* duplicate names */
	refuse("{\"a\":1,\"\\u0061\":2}", TC_EINVAL);       /* the same name escaped */
	refuse("\"\\ud800\"", TC_EINVAL);                   /* lone high surrogate */
	refuse("\"\\udc00\"", TC_EINVAL);                   /* lone low surrogate */
	refuse("\"\xc3\"", TC_EINVAL);                      /* truncated UTF-8 */
	refuse("\"\xc0\xaf\"", TC_EINVAL);                  /* overlong */
	refuse("\"\xed\xa0\x80\"", TC_EINVAL);              /* encoded surrogate */
	refuse("\"a\nb\"", TC_EINVAL);                      /* raw control */
	refuse("[01]", TC_EINVAL);
	refuse("[1.]", TC_EINVAL);
	refuse("{\"a\":1} x", TC_EINVAL);
	refuse("[1,]", TC_EINVAL);
	refuse("", TC_EINVAL);
	refuse("tru", TC_EINVAL);
	{
		char deep[200];
		memset(deep, '[', sizeof(deep) - 1);
		deep[sizeof(deep) - 1] = '\0';
		refuse(deep, TC_ELIMIT);
	}
}

/* Leaving out the provenance extension, and `extensions` when it empties. */
static void
test_strip(void **state)
{
	enum tcerr rc;
	char *s;
	(void)state;
	s = canon("{\"type\":\"x\",\"extensions\":{\"" PROV_EXT_ID "\":{\"a\":1}}}", true, &rc);
	assert_string_equal(s, "{\"type\":\"x\"}");
	free(s);
	s = canon("{\"type\":\"x\",\"extensions\":{\"" PROV_EXT_ID "\":{\"a\":1},\"extension-definition--1\":{}}}",
	          true, &rc);
	assert_string_equal(s, "{\"extensions\":{\"extension-definition--1\":{}},\"type\":\"x\"}");
	free(s);
	/* only at the top level */
	s = canon("{\"o\":{\"extensions\":{\"" PROV_EXT_ID "\":1}}}", true, &rc);
	assert_string_equal(s, "{\"o\":{\"extensions\":{\"" PROV_EXT_ID "\":1}}}");
	free(s);
	assert_null(canon("[1]", true, &rc));
	assert_int_equal(rc, TC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_rfc_sorting),
		cmocka_unit_test(test_rfc_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_strip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
