/*
 * Unit tests of lib/stix/stix_id.c: UUIDv4/v5, RFC 8785 canonical JSON and
 * deterministic SCO ids. The SCO id vectors other than the specification's
 * own (ipv4-addr 198.51.100.3) were computed independently with Python's
 * uuid.uuid5 over json.dumps(sort_keys=True, separators=(',', ':')), which
 * equals JCS for these ASCII-keyed objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix_id.h"

static json_t *
parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
	assert_non_null(v);
	return v;
}

static void
assert_jcs(const char *in, const char *want)
{
	struct buf b;
	json_t *v = parse(in);
	buf_init(&b, 0);
	jcs_append(&b, v);
	assert_int_equal(buf_error(&b), TC_OK);
	assert_string_equal(b.p, want);
	buf_reset(&b);
	json_decref(v);
}

static void
test_jcs_rfc8785_example(void **state)
{
	/* RFC 8785 §3.2.2 sample input and its canonical output */
	assert_jcs(
	    "{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
	    " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
	    " \"literals\": [null, true, false]}",
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
	    "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

static void
test_jcs_key_order_utf16(void **state)
{
	/* RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before
	 * U+FB33 in UTF-16 although its UTF-8 bytes sort after. */
	assert_jcs("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew\","
	           "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji\",\"\\u0080\":\"Control\","
	           "\"\\u00f6\":\"Latin\"}",
	           "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
	           "\"\xc3\xb6\":\"Latin\",\"\xe2\x82\xac\":\"Euro Sign\","
	           "\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":\"Hebrew\"}");
	/* a prefix sorts first; nested objects are sorted too */
	assert_jcs("{\"ab\":1,\"a\":{\"z\":1,\"y\":[{\"b\":1,\"a\":2}]}}",
	           "{\"a\":{\"y\":[{\"a\":2,\"b\":1}],\"z\":1},\"ab\":1}");
}

static void
test_jcs_numbers(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
	    {"0", "0"},
	    {"-0.0", "0"},
	    {"1.0", "1"},
	    {"-1.5", "-1.5"},
	    {"9007199254740991", "9007199254740991"},
	    {"-9007199254740991", "-9007199254740991"},
	    {"1e20", "100000000000000000000"},
	    {"1e21", "1e+21"},
	    {"1.2345678901234568e20", "123456789012345680000"},
	    {"0.000001", "0.000001"},
	    {"1e-7", "1e-7"},
	    {"1.5e-7", "1.5e-7"},
	    {"5e-324", "5e-324"},
	    {"1.7976931348623157e308", "1.7976931348623157e+308"},
	    {"0.1", "0.1"},
	    {"123.456", "123.456"},
	    {"100", "100"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_jcs(v[i].in, v[i].want);
}

static void
test_jcs_many_keys(void **state)
{
	/* more members than the on-stack sort array */
	json_t *o = json_object();
	char k[8];
	for (int i = 99; i >= 0; i--) {
		snprintf(k, sizeof(k), "k%02d", i);
		json_object_set_new(o, k, json_integer(i));
	}
	struct buf b;
	buf_init(&b, 0);
	jcs_append(&b, o);
	assert_int_equal(buf_error(&b), TC_OK);
	assert_memory_equal(b.p, "{\"k00\":0,\"k01\":1,", 17);
	assert_non_null(strstr(b.p, "\"k98\":98,\"k99\":99}"));
	buf_reset(&b);
	json_decref(o);
}

static void
test_uuid_v5(void **state)
{
	char u[UUID_TEXT_MAX];
	/* Python: uuid.uuid5(UUID(TOCSIN_UUID_NAMESPACE), "hello") */
	assert_int_equal(uuid_v5(TOCSIN_UUID_NAMESPACE, SLICE_LIT("hello"), u), TC_OK);
	assert_string_equal(u, "978e7f16-52dd-516a-a4e8-8b52c08646df");
	/* RFC 4122 appendix namespace DNS, name "python.org" (a widely quoted vector) */
	assert_int_equal(
	    uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", SLICE_LIT("python.org"), u), TC_OK);
	assert_string_equal(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	assert_int_equal(uuid_v5("not-a-uuid", SLICE_LIT("x"), u), TC_EINVAL);
	assert_int_equal(uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430cg", SLICE_LIT("x"), u),
	                 TC_EINVAL);
}

static void
test_uuid_v4(void **state)
{
	char a[UUID_TEXT_MAX], b[UUID_TEXT_MAX];
	assert_int_equal(uuid_v4(a), TC_OK);
	assert_int_equal(uuid_v4(b), TC_OK);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
	char id[STIX_ID_MAX];
	snprintf(id, sizeof(id), "indicator--%s", a);
	assert_true(stix_id_valid(slice_from_cstr(id), NULL));
}

static void
assert_sco_id(const char *type, const char *json, const char *want)
{
	char id[STIX_ID_MAX];
	json_t *o = parse(json);
	assert_int_equal(stix_id_sco(type, o, id), TC_OK);
	assert_string_equal(id, want);
	json_decref(o);
}

static void
test_sco_vectors(void **state)
{
	/* STIX 2.1 §2.9 test vector */
	assert_sco_id("ipv4-addr", "{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.3\"}",
	              "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	/* non-contributing properties (type, spec_version, id, resolves_to_refs) are ignored */
	assert_sco_id("ipv4-addr",
	              "{\"spec_version\":\"2.1\",\"value\":\"198.51.100.3\",\"id\":\"x\","
	              "\"resolves_to_refs\":[\"mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00\"]}",
	              "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	assert_sco_id("domain-name", "{\"value\":\"example.com\"}",
	              "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
	assert_sco_id("url", "{\"value\":\"https://example.com/research/index.html\"}",
	              "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55");
	assert_sco_id("email-addr", "{\"value\":\"john@example.com\",\"display_name\":\"John\"}",
	              "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934");
	assert_sco_id("autonomous-system", "{\"number\":15139,\"name\":\"Slime Industries\"}",
	              "autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff");
	assert_sco_id("file",
	              "{\"name\":\"qwerty.dll\",\"size\":25536,\"hashes\":{\"SHA-256\":"
	              "\"ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a\"}}",
	              "file--7cdc1fbe-5cfd-5e09-8e87-648a1cf1080c");
	assert_sco_id("network-traffic",
	              "{\"protocols\":[\"tcp\"],\"dst_port\":80,"
	              "\"dst_ref\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
	              "\"src_ref\":\"ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53\"}",
	              "network-traffic--e98b386d-e6e6-5707-8791-53f7a0df4d12");
	assert_sco_id(
	    "domain-name",
	    "{\"value\":\"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84\"}",
	    "domain-name--ac751e41-42cb-5f89-83af-ac2d5d38d973");
}

static void
test_sco_random(void **state)
{
	char a[STIX_ID_MAX], b[STIX_ID_MAX];
	json_t *o = parse("{\"pid\":1221}");
	/* process has no contributing properties: v4, different every time */
	assert_int_equal(stix_id_sco("process", o, a), TC_OK);
	assert_int_equal(stix_id_sco("process", o, b), TC_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(a[sizeof("process--") - 1 + 14], '4');
	/* a known type without any contributing property present: v4 too */
	assert_int_equal(stix_id_sco("ipv4-addr", o, a), TC_OK);
	assert_int_equal(a[sizeof("ipv4-addr--") - 1 + 14], '4');
	/* custom SCO types: v4 */
	assert_int_equal(stix_id_sco("x-phone-number", o, a), TC_OK);
	assert_true(stix_id_valid(slice_from_cstr(a), NULL));
	assert_int_equal(stix_id_sco("", o, a), TC_EINVAL);
	json_decref(o);
}

/* issue 9: ids derived under a key: stable per key, other under another,
 * in the form of a random UUID, and HMAC-SHA256 as documented */
static void
test_uuid_keyed(void **state)
{
	(void)state;
	uint8_t k1[32], k2[32];
	char a[UUID_TEXT_MAX], b[UUID_TEXT_MAX], c[UUID_TEXT_MAX];
	memset(k1, 0x0b, sizeof k1);
	memset(k2, 0x0c, sizeof k2);
	assert_int_equal(uuid_keyed(k1, sizeof k1, SLICE_LIT("ipv4:198.51.100.7"), a), TC_OK);
	assert_int_equal(uuid_keyed(k1, sizeof k1, SLICE_LIT("ipv4:198.51.100.7"), b), TC_OK);
	assert_string_equal(a, b);
	assert_int_equal(uuid_keyed(k2, sizeof k2, SLICE_LIT("ipv4:198.51.100.7"), c), TC_OK);
	assert_string_not_equal(a, c);
	assert_int_equal(uuid_keyed(k1, sizeof k1, SLICE_LIT("ipv4:198.51.100.8"), c), TC_OK);
	assert_string_not_equal(a, c);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	/* RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for
	 * nothing?") = 5bdcc146bf60754e6a042426089575c7..., version and
	 * variant bits set; the key is too short for ids, so pad it: a
	 * 16-byte key "Jefe" + 12 NULs gives the same HMAC (RFC 2104 pads
	 * keys with zeros) */
	uint8_t jefe[UUID_KEY_MIN] = {'J', 'e', 'f', 'e'};
	assert_int_equal(uuid_keyed(jefe, sizeof jefe, SLICE_LIT("what do ya want for nothing?"), c),
	                 TC_OK);
	assert_string_equal(c, "5bdcc146-bf60-454e-aa04-2426089575c7");
	/* no key, or one too short: refused, never a computable id */
	assert_int_equal(uuid_keyed(NULL, 0, SLICE_LIT("x"), c), TC_EINVAL);
	assert_int_equal(uuid_keyed(k1, UUID_KEY_MIN - 1, SLICE_LIT("x"), c), TC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jcs_rfc8785_example),
	    cmocka_unit_test(test_jcs_key_order_utf16),
	    cmocka_unit_test(test_jcs_numbers),
	    cmocka_unit_test(test_jcs_many_keys),
	    cmocka_unit_test(test_uuid_v5),
	    cmocka_unit_test(test_uuid_v4),
	    cmocka_unit_test(test_uuid_keyed),
	    cmocka_unit_test(test_sco_vectors),
	    cmocka_unit_test(test_sco_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
