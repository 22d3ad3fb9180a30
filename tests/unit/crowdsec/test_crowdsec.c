/*
 * Unit tests of lib/crowdsec: the query string bouncers send (as
 * crowdsec-firewall-bouncer 0.0.25 and the LAPI swagger write it), the
 * scope of a value, Go durations (checked against what Go's
 * time.ParseDuration reads: hours, minutes, seconds with a fraction), the
 * decision object (parsed back with jansson), the scenario filters and
 * the live-mode address and network match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crowdsec/crowdsec.h"

static struct cs_query
parse_ok(const char *q, bool stream)
{
	struct cs_query out;
	struct diag d;
	diag_clear(&d);
	if (crowdsec_query_parse(slice_from_cstr(q), stream, &out, &d) != TC_OK)
		fail_msg("refused %s: %s", q, d.msg);
	return out;
}

static void
test_stream_query(void **state)
{
	(void)state;
	struct cs_query q = parse_ok("startup=true", true);
	assert_true(q.startup);
	assert_int_equal(q.scopes, CS_SCOPE_IP | CS_SCOPE_RANGE); /* LAPI's default */
	q = parse_ok("", true); /* the firewall bouncer's later polls: "stream?" */
	assert_false(q.startup);
	q = parse_ok("startup=false&scopes=Ip", true);
	assert_false(q.startup);
	assert_int_equal(q.scopes, CS_SCOPE_IP);
	q = parse_ok("scopes=range%2Ccountry", true);
	assert_int_equal(q.scopes, CS_SCOPE_RANGE);
	q = parse_ok("scopes=country", true);
	assert_int_equal(q.scopes, 0);
	q = parse_ok("origins=crowdsec,cscli", true);
	assert_true(q.origins_given);
	assert_false(q.origin_tocsin);
	q = parse_ok("origins=cscli,+TOCSIN+", true);
	assert_true(q.origin_tocsin);
	q = parse_ok("scenarios_containing=ssh,http&scenarios_not_containing=probe", true);
	assert_int_equal(q.ncontaining, 2);
	assert_string_equal(q.containing[1], "http");
	assert_int_equal(q.nnot_containing, 1);
	q = parse_ok("unknown=1&ip=1.2.3.4", true); /* ignored in a stream */
	assert_false(q.has_value);
}

static void
test_stream_query_refused(void **state)
{
	(void)state;
	static const char *bad[] = { "startup=yes", "startup=%2", "startup=%zz", "startup=a%00b",
	                             "ip=1.2.3.4&contains=maybe" };
	char big[CS_QUERY_MAX + 8];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cs_query q;
		struct diag d;
		diag_clear(&d);
		if (crowdsec_query_parse(slice_from_cstr(bad[i]), i < 4, &q, &d) == TC_OK)
			fail_msg("accepted %s", bad[i]);
		assert_true(d.msg[0] != '\0');
	}
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct cs_query q;
	struct diag d;
	assert_int_equal(crowdsec_query_parse(slice_from_cstr(big), true, &q, &d), TC_ELIMIT);
	struct buf many;
	buf_init(&many, 0);
	for (int i = 0; i < CS_PARAMS_MAX + 1; i++)
		buf_append_cstr(&many, "a=1&");
	assert_int_equal(crowdsec_query_parse(buf_slice(&many), true, &q, &d), TC_ELIMIT);
	buf_clear(&many);
	buf_append_cstr(&many, "scopes=");
	for (int i = 0; i < CS_WORDS_MAX + 1; i++)
		buf_append_cstr(&many, "ip,");
	assert_int_equal(crowdsec_query_parse(buf_slice(&many), true, &q, &d), TC_ELIMIT);
	buf_reset(&many);
}

static void
test_live_query(void **state)
{
	(void)state;
	struct cs_query q = parse_ok("ip=45.33.32.156", false);
	assert_true(q.has_value);
	assert_int_equal(q.value_scope, CS_SCOPE_IP);
	assert_true(q.contains);
	q = parse_ok("range=45.33.0.0/16&contains=false", false);
	assert_int_equal(q.value_scope, CS_SCOPE_RANGE);
	assert_false(q.contains);
	q = parse_ok("scope=Ip&value=2a01:4f8::1", false);
	assert_int_equal(q.value_scope, CS_SCOPE_IP);
	q = parse_ok("value=45.33.32.1", false); /* scope defaults to ip */
	assert_int_equal(q.value_scope, CS_SCOPE_IP);
	q = parse_ok("scope=username&value=bob", false);
	assert_true(q.has_value);
	assert_int_equal(q.value_scope, 0);
	q = parse_ok("ip=1.2.3.4&type=captcha", false);
	assert_true(q.type_other);
	q = parse_ok("ip=1.2.3.4&type=ban", false);
	assert_false(q.type_other);
	struct diag d;
	assert_int_equal(crowdsec_query_parse(slice_from_cstr("ip=1.2.3.0/24"), false, &q, &d),
	                 TC_EINVAL);
	assert_int_equal(crowdsec_query_parse(slice_from_cstr("ip=example.com"), false, &q, &d),
	                 TC_EINVAL);
	assert_int_equal(crowdsec_query_parse(slice_from_cstr("range=1.2.3.0/33"), false, &q, &d),
	                 TC_EINVAL);
}

static void
test_live_match(void **state)
{
	(void)state;
	struct cs_query q = parse_ok("ip=45.33.50.9", false);
	assert_true(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("45.33.50.0/24")));
	assert_true(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.50.9")));
	assert_false(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.50.8")));
	assert_false(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("45.33.51.0/24")));
	assert_false(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("2a01:4f8::/32")));
	q = parse_ok("ip=::ffff:45.33.50.9", false); /* IPv4-mapped: the IPv4 address */
	assert_true(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.50.9")));
	q = parse_ok("range=45.33.50.0/25", false);
	assert_true(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("45.33.50.0/24")));
	assert_false(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.50.1")));
	q = parse_ok("range=45.33.48.0/20&contains=false", false);
	assert_true(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.51.7")));
	assert_true(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("45.33.50.0/24")));
	assert_false(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("45.33.0.0/16")));
	q = parse_ok("ip=2a01:4f8:1:2::10", false);
	assert_true(crowdsec_live_match(&q, CS_SCOPE_RANGE, slice_from_cstr("2a01:4f8::/32")));
	q = parse_ok("scope=username&value=bob", false);
	assert_false(crowdsec_live_match(&q, CS_SCOPE_IP, slice_from_cstr("45.33.50.9")));
}

static void
test_scope(void **state)
{
	(void)state;
	assert_int_equal(crowdsec_scope_of(OBS_IPV4, slice_from_cstr("45.33.32.1")), CS_SCOPE_IP);
	assert_int_equal(crowdsec_scope_of(OBS_IPV6, slice_from_cstr("2a01:4f8::1")), CS_SCOPE_IP);
	assert_int_equal(crowdsec_scope_of(OBS_IPV4, slice_from_cstr("45.33.0.0/16")),
	                 CS_SCOPE_RANGE);
	assert_int_equal(crowdsec_scope_of(OBS_IPV6, slice_from_cstr("2a01:4f8::/32")),
	                 CS_SCOPE_RANGE);
	assert_int_equal(crowdsec_scope_of(OBS_DOMAIN, slice_from_cstr("evil.example")), 0);
	assert_int_equal(crowdsec_scope_of(OBS_URL, slice_from_cstr("http://a/b")), 0);
	assert_int_equal(crowdsec_scope_of(OBS_PHONE, slice_from_cstr("+4712345678")), 0);
	assert_string_equal(crowdsec_scope_name(CS_SCOPE_IP), "Ip");
	assert_string_equal(crowdsec_scope_name(CS_SCOPE_RANGE), "Range");
}

static void
test_duration(void **state)
{
	(void)state;
	char out[CS_DURATION_MAX];
	crowdsec_duration(0, out);
	assert_string_equal(out, "0s");
	crowdsec_duration(-5, out);
	assert_string_equal(out, "0s");
	crowdsec_duration(1500000, out);
	assert_string_equal(out, "0h0m1.500s");
	crowdsec_duration(((int64_t)3 * 3600 + 59 * 60 + 59) * 1000000 + 123000, out);
	assert_string_equal(out, "3h59m59.123s");
	crowdsec_duration((int64_t)87600 * 3600 * 1000000, out);
	assert_string_equal(out, "87600h0m0s");
	crowdsec_duration(INT64_MAX, out); /* fits, whatever comes */
	assert_true(strlen(out) < CS_DURATION_MAX && out[strlen(out) - 1] == 's');
}

static void
test_decision_json(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	int64_t id = crowdsec_decision_id(OBS_IPV4, slice_from_cstr("45.33.32.156"));
	assert_true(id > 0 && id < ((int64_t)1 << 53));
	assert_int_equal(id, crowdsec_decision_id(OBS_IPV4, slice_from_cstr("45.33.32.156")));
	assert_int_not_equal(id, crowdsec_decision_id(OBS_IPV4, slice_from_cstr("45.33.32.157")));
	crowdsec_decision_json(&b, id, CS_SCOPE_IP, slice_from_cstr("45.33.32.156"),
	                       (int64_t)3600 * 1000000, (int64_t)1893456000 * 1000000,
	                       "tocsin/open/indicator--x\"y");
	json_error_t e;
	json_t *j = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
	assert_string_equal(json_string_value(json_object_get(j, "origin")), "tocsin");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "ban");
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "Ip");
	assert_string_equal(json_string_value(json_object_get(j, "value")), "45.33.32.156");
	assert_string_equal(json_string_value(json_object_get(j, "duration")), "1h0m0s");
	assert_string_equal(json_string_value(json_object_get(j, "until")), "2030-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(j, "scenario")),
	                    "tocsin/open/indicator--x\"y");
	assert_true(json_is_false(json_object_get(j, "simulated")));
	json_decref(j);
	buf_clear(&b);
	crowdsec_decision_json(&b, id, CS_SCOPE_RANGE, slice_from_cstr("45.33.0.0/16"), 0, 0,
	                       "tocsin/revoked");
	j = json_loadb(b.p, b.len, 0, &e);
	assert_non_null(j);
	assert_null(json_object_get(j, "until"));
	assert_string_equal(json_string_value(json_object_get(j, "duration")), "0s");
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "Range");
	json_decref(j);
	buf_reset(&b);
}

static void
test_scenario_filters(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	crowdsec_scenario("phishing", "indicator--1", NULL, &b);
	buf_append_char(&b, '\0');
	assert_string_equal(b.p, "tocsin/phishing/indicator--1");
	buf_clear(&b);
	crowdsec_scenario(NULL, NULL, "revoked", &b);
	buf_append_char(&b, '\0');
	assert_string_equal(b.p, "tocsin/revoked");
	buf_reset(&b);

	struct cs_query q = parse_ok("startup=true", true);
	assert_true(crowdsec_admits(&q, "tocsin/open/indicator--1"));
	q = parse_ok("origins=crowdsec", true);
	assert_false(crowdsec_admits(&q, "tocsin/open/indicator--1"));
	q = parse_ok("scenarios_containing=ssh,OPEN", true);
	assert_true(crowdsec_admits(&q, "tocsin/open/indicator--1"));
	q = parse_ok("scenarios_containing=ssh", true);
	assert_false(crowdsec_admits(&q, "tocsin/open/indicator--1"));
	q = parse_ok("scenarios_not_containing=phish", true);
	assert_false(crowdsec_admits(&q, "tocsin/phishing/indicator--1"));
	assert_true(crowdsec_admits(&q, "tocsin/open/indicator--1"));
}

static void
test_candidates(void **state)
{
	(void)state;
	static char c[CS_CANDIDATES_MAX][CS_VALUE_MAX + 1];
	struct cs_query q = parse_ok("ip=45.33.50.9", false);
	size_t n = crowdsec_live_candidates(&q, c);
	assert_int_equal(n, 33);
	assert_string_equal(c[0], "45.33.50.9");       /* "/32" dropped, as tocsin writes it */
	assert_string_equal(c[1], "45.33.50.8/31");
	assert_string_equal(c[8], "45.33.50.0/24");
	assert_string_equal(c[32], "0.0.0.0/0");
	q = parse_ok("ip=2A01:04F8:0001:0002:0000:0000:0000:0010", false); /* as tocsin writes it */
	n = crowdsec_live_candidates(&q, c);
	assert_int_equal(n, 129);
	assert_string_equal(c[0], "2a01:4f8:1:2::10");
	assert_string_equal(c[128 - 32], "2a01:4f8::/32");
	q = parse_ok("ip=::ffff:45.33.50.9", false);
	n = crowdsec_live_candidates(&q, c);
	assert_int_equal(n, 33);
	assert_string_equal(c[0], "45.33.50.9");
	q = parse_ok("range=45.33.50.0/24", false);
	n = crowdsec_live_candidates(&q, c);
	assert_int_equal(n, 25);
	assert_string_equal(c[0], "45.33.50.0/24");
	q = parse_ok("range=45.33.50.0/24&contains=false", false);
	assert_int_equal(crowdsec_live_candidates(&q, c), 0);
	q = parse_ok("scope=username&value=bob", false);
	assert_int_equal(crowdsec_live_candidates(&q, c), 0);
}

static void
test_map(void **state)
{
	(void)state;
	struct cs_map m;
	char v[32];
	cs_map_init(&m);
	assert_null(cs_map_get(&m, slice_from_cstr("45.33.0.1")));
	cs_map_del(&m, slice_from_cstr("45.33.0.1")); /* on an empty map */
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof v, "45.33.%d.%d", i / 256, i % 256);
		assert_int_equal(cs_map_put(&m, OBS_IPV4, slice_from_cstr(v), true, i, "s"), TC_OK);
	}
	assert_int_equal(m.n, 5000);
	/* replace keeps one entry; remove leaves the others */
	assert_int_equal(cs_map_put(&m, OBS_IPV4, slice_from_cstr("45.33.0.7"), false, 99, "t"),
	                 TC_OK);
	assert_int_equal(m.n, 5000);
	const struct cs_map_entry *e = cs_map_get(&m, slice_from_cstr("45.33.0.7"));
	assert_non_null(e);
	assert_false(e->block);
	assert_int_equal(e->until_us, 99);
	assert_string_equal(e->scenario, "t");
	for (int i = 0; i < 5000; i += 2) {
		snprintf(v, sizeof v, "45.33.%d.%d", i / 256, i % 256);
		cs_map_del(&m, slice_from_cstr(v));
	}
	assert_int_equal(m.n, 2500);
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof v, "45.33.%d.%d", i / 256, i % 256);
		e = cs_map_get(&m, slice_from_cstr(v));
		if (i % 2)
			assert_true(e && e->vlen == strlen(v) && memcmp(e->value, v, e->vlen) == 0);
		else
			assert_null(e);
	}
	/* churn: removed slots are reused, the table does not grow without bound */
	size_t cap = m.cap;
	for (int round = 0; round < 20; round++) {
		assert_int_equal(cs_map_put(&m, OBS_IPV6, slice_from_cstr("2a01:4f8::1"), true, 0, ""),
		                 TC_OK);
		cs_map_del(&m, slice_from_cstr("2a01:4f8::1"));
	}
	assert_true(m.cap <= 2 * cap);
	assert_null(cs_map_get(&m, slice_from_cstr("2a01:4f8::1")));
	cs_map_reset(&m);
	assert_int_equal(m.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_query), cmocka_unit_test(test_stream_query_refused),
		cmocka_unit_test(test_live_query),   cmocka_unit_test(test_live_match),
		cmocka_unit_test(test_scope),        cmocka_unit_test(test_duration),
		cmocka_unit_test(test_decision_json), cmocka_unit_test(test_scenario_filters),
		cmocka_unit_test(test_candidates),   cmocka_unit_test(test_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
