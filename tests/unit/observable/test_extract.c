/* Unit tests of obs_extract(): SCO properties and indicator patterns. */
#include <stdlib.h>

#include "obs_test.h"

struct got {
	char text[2048]; /* "kind=value;" for each reported value */
	int calls;
	int stop_after; /* 0: never */
};

static enum tcerr
collect(void *ctx, enum obs_kind kind, struct slice value)
{
	struct got *g = ctx;
	size_t n = strlen(g->text);
	int w = snprintf(g->text + n, sizeof(g->text) - n, "%s=%.*s;", obs_kind_name(kind),
	                 (int)value.len, value.p);
	assert_true(w > 0 && (size_t)w < sizeof(g->text) - n);
	g->calls++;
	if (g->stop_after && g->calls >= g->stop_after)
		return TC_EPERM;
	return TC_OK;
}

static enum tcerr
extract(const char *json, struct got *g, struct diag *d)
{
	json_error_t je;
	json_t *obj = json_loads(json, 0, &je);
	if (!obj)
		fail_msg("bad test JSON: %s", je.text);
	memset(g->text, 0, sizeof(g->text));
	g->calls = 0;
	diag_clear(d);
	enum tcerr rc = obs_extract(&test_ctx, obj, NULL, collect, g, d);
	json_decref(obj);
	return rc;
}

static const char *
indicator(const char *pattern, const char *ptype)
{
	static char tmp[1024];
	json_t *o = json_pack("{s:s, s:s, s:s}", "type", "indicator", "pattern", pattern,
	                      "pattern_type", ptype);
	char *s = json_dumps(o, 0);
	snprintf(tmp, sizeof(tmp), "%s", s);
	free(s);
	json_decref(o);
	return tmp;
}

static void
test_scos(void **s)
{
	struct got g = { 0 };
	struct diag d;
	assert_int_equal(extract("{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.0/24\"}", &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "ipv4=198.51.100.0/24;");
	assert_int_equal(extract("{\"type\":\"ipv6-addr\",\"value\":\"::FFFF:1.2.3.4\"}", &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "ipv4=1.2.3.4;");
	assert_int_equal(extract("{\"type\":\"domain-name\",\"value\":\"Exämple.COM.\"}", &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "domain=xn--exmple-cua.com;");
	assert_int_equal(extract("{\"type\":\"file\",\"hashes\":{\"MD5\":"
	                         "\"D41D8CD98F00B204E9800998ECF8427E\",\"SHA-256\":"
	                         "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
	                         "\"SHA3-256\":\"abcd\",\"STREEBOG-256\":"
	                         "\"3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb\"},"
	                         "\"name\":\"x\"}",
	                         &g, &d),
	                 TC_OK);
	assert_int_equal(g.calls, 3);
	assert_non_null(strstr(g.text, "md5=d41d8cd98f00b204e9800998ecf8427e;"));
	assert_non_null(strstr(g.text,
	                       "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;"));
	assert_non_null(strstr(g.text, "streebog256=3f539a"));
	assert_int_equal(extract("{\"type\":\"autonomous-system\",\"number\":64496}", &g, &d), TC_OK);
	assert_string_equal(g.text, "asn=AS64496;");
	assert_int_equal(
		extract("{\"type\":\"x-tocsin-phone-number\",\"value\":\"8 (999) 123-45-67\"}", &g, &d),
		TC_OK);
	assert_string_equal(g.text, "phone=+79991234567;");
	assert_int_equal(
		extract("{\"type\":\"x-tocsin-payment-card\",\"value\":\"4111 1111 1111 1111\"}", &g, &d),
		TC_OK);
	assert_string_equal(
		g.text,
		"card=hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9;");
	assert_int_equal(extract("{\"type\":\"x-tocsin-crypto-wallet\",\"value\":"
	                         "\"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}",
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "wallet=btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa;");
	/* types without an indexed value give nothing */
	assert_int_equal(extract("{\"type\":\"mutex\",\"name\":\"x\"}", &g, &d), TC_OK);
	assert_int_equal(g.calls, 0);
	assert_int_equal(extract("{\"type\":\"file\",\"name\":\"x\"}", &g, &d), TC_OK);
	assert_int_equal(g.calls, 0);
	/* a bad value is an error naming the property and the value */
	assert_int_equal(extract("{\"type\":\"ipv4-addr\",\"value\":\"01.2.3.4\"}", &g, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "value: '01.2.3.4': not an IPv4 address"));
	assert_int_equal(extract("{\"type\":\"file\",\"hashes\":{\"SHA-256\":\"abc\"}}", &g, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "hashes.SHA-256: 'abc'"));
	assert_int_equal(extract("{\"type\":\"x-tocsin-payment-card\",\"value\":\"4111111111111112\"}",
	                         &g, &d),
	                 TC_EINVAL);
	assert_null(strstr(d.msg, "4111"));
	assert_non_null(strstr(d.msg, "Luhn"));
}

static void
test_patterns(void **s)
{
	struct got g = { 0 };
	struct diag d;
	assert_int_equal(extract(indicator("[ipv4-addr:value = '198.51.100.1' OR "
	                                   "domain-name:value = 'Evil.Example.']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "ipv4=198.51.100.1;domain=evil.example;");
	/* AND: neither value alone is sufficient */
	assert_int_equal(extract(indicator("[ipv4-addr:value = '198.51.100.1' AND "
	                                   "domain-name:value = 'evil.example']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_int_equal(g.calls, 0);
	/* each distinct value once: the same address written three ways */
	assert_int_equal(extract(indicator("[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = "
	                                   "'::ffff:1.2.3.4'] OR [ipv4-addr:value = '1.2.3.4/32']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "ipv4=1.2.3.4;");
	assert_int_equal(extract(indicator("[domain-name:value IN ('a.example', 'A.EXAMPLE', "
	                                   "'b.example')]",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "domain=a.example;domain=b.example;");
	assert_int_equal(extract(indicator("[network-traffic:dst_ref.value = '2001:DB8::1'] OR "
	                                   "[network-traffic:src_ref.value = '192.0.2.7']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "ipv6=2001:db8::1;ipv4=192.0.2.7;");
	assert_int_equal(extract(indicator("[file:hashes.'SHA-256' = "
	                                   "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'"
	                                   " OR file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text,
	                    "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;"
	                    "md5=d41d8cd98f00b204e9800998ecf8427e;");
	assert_int_equal(extract(indicator("[autonomous-system:number = 64496] OR "
	                                   "[x-tocsin-phone-number:value = '+7 999 123 45 67'] OR "
	                                   "[email-message:from_ref.value = 'A@Example.com']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "asn=AS64496;phone=+79991234567;email=A@example.com;");
	/* paths tocsin does not index and non-equality comparisons are skipped */
	assert_int_equal(extract(indicator("[file:name = 'x.exe'] OR [domain-name:value != "
	                                   "'a.example'] OR [url:value LIKE 'http://%']",
	                                   "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_int_equal(g.calls, 0);
	/* REPEATS makes a single sighting insufficient */
	assert_int_equal(extract(indicator("[ipv4-addr:value = '1.2.3.4'] REPEATS 3 TIMES", "stix"),
	                         &g, &d),
	                 TC_OK);
	assert_int_equal(g.calls, 0);
	/* other pattern languages give nothing */
	assert_int_equal(extract(indicator("title: x", "sigma"), &g, &d), TC_OK);
	assert_int_equal(g.calls, 0);
}

static void
test_pattern_errors(void **s)
{
	struct got g = { 0 };
	struct diag d;
	assert_int_equal(extract(indicator("[ipv4-addr:value = '01.2.3.4']", "stix"), &g, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "pattern: '01.2.3.4': not an IPv4 address"));
	assert_int_equal(extract(indicator("[ipv4-addr:value = ", "stix"), &g, &d), TC_EINVAL);
	assert_true(strncmp(d.msg, "pattern: ", 9) == 0);
	assert_int_equal(
		extract(indicator("[x-tocsin-payment-card:value = '4111111111111112']", "stix"), &g,
	                &d),
		TC_EINVAL);
	assert_null(strstr(d.msg, "4111"));
	/* the callback's error stops the walk and is returned */
	g.stop_after = 1;
	assert_int_equal(extract(indicator("[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = "
	                                   "'1.2.3.5']",
	                                   "stix"),
	                         &g, &d),
	                 TC_EPERM);
	assert_int_equal(g.calls, 1);
}

/* STIX 2.0 indicators have neither pattern_type nor spec_version: their
 * patterns are STIX patterns all the same. */
static void
test_stix20_indicator(void **s)
{
	struct got g = { 0 };
	struct diag d;
	(void)s;
	assert_int_equal(extract("{\"type\":\"indicator\",\"labels\":[\"malicious-activity\"],"
	                         "\"pattern\":\"[domain-name:value = 'evil.example']\"}",
	                         &g, &d),
	                 TC_OK);
	assert_string_equal(g.text, "domain=evil.example;");
	/* a 2.1 indicator without pattern_type is not read as STIX */
	assert_int_equal(extract("{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	                         "\"pattern\":\"[domain-name:value = 'evil.example']\"}",
	                         &g, &d),
	                 TC_OK);
	assert_int_equal(g.calls, 0);
}

/* A value that may hold a card number is never quoted, whatever its path. */
static void
test_long_digit_runs_not_quoted(void **s)
{
	struct got g = { 0 };
	struct diag d;
	(void)s;
	assert_int_equal(
		extract(indicator("[ipv4-addr:value = '4111 1111 1111 1111']", "stix"), &g, &d),
		TC_EINVAL);
	assert_null(strstr(d.msg, "1111"));
	assert_non_null(strstr(d.msg, "not quoted"));
	assert_int_equal(extract(indicator("[email-addr:value = 'card 4111111111111111']", "stix"),
	                         &g, &d),
	                 TC_EINVAL);
	assert_null(strstr(d.msg, "4111"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stix20_indicator),
		cmocka_unit_test(test_long_digit_runs_not_quoted),
		cmocka_unit_test(test_scos),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_pattern_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
