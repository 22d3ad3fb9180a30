/*
 * Unit tests of lib/coord: the constituency lookup (longest prefix for
 * addresses and networks in both families, a name or its nearest parent
 * but never a look-alike suffix, a URL by its host, an e-mail address by
 * its domain, AS numbers), the rules file (each mistake names its line)
 * and coord_plan (a phone indicator at or above a rule's confidence is
 * routed, below it is not; a compromised host in a constituency makes a
 * clean-up proposal for that organisation only; revoked indicators and
 * other types make nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coord/coord.h"

static struct reg_const
entry(const char *text, int64_t org)
{
	struct reg_const c;
	struct diag d;
	assert_int_equal(reg_const_parse(text, &c, &d), TC_OK);
	c.org = org;
	return c;
}

static int64_t
org_of(const struct coord_consts *c, enum obs_kind k, const char *v)
{
	const struct reg_const *e = coord_consts_lookup(c, k, slice_from_cstr(v));
	return e ? e->org : 0;
}

static void
test_lookup(void **state)
{
	(void)state;
	struct reg_const v[] = {
		entry("10.0.0.0/8", 1),        entry("10.1.0.0/16", 1), entry("192.0.2.0/24", 2),
		entry("198.51.100.7", 3),      entry("2001:db8::/32", 4), entry("example.ru", 5),
		entry("shop.example.com", 6),  entry("AS64500", 7),
	};
	struct coord_consts *c;
	struct diag d;
	assert_int_equal(coord_consts_build(v, sizeof v / sizeof v[0], &c, &d), TC_OK);
	assert_int_equal(coord_consts_count(c), 8);
	assert_int_equal(org_of(c, OBS_IPV4, "10.1.2.3"), 1);
	assert_int_equal(org_of(c, OBS_IPV4, "10.200.0.1"), 1);
	assert_int_equal(org_of(c, OBS_IPV4, "192.0.2.255"), 2);
	assert_int_equal(org_of(c, OBS_IPV4, "192.0.3.1"), 0);
	assert_int_equal(org_of(c, OBS_IPV4, "192.0.2.0/25"), 2);
	assert_int_equal(org_of(c, OBS_IPV4, "192.0.0.0/16"), 0); /* wider than the entry */
	assert_int_equal(org_of(c, OBS_IPV4, "198.51.100.7"), 3);
	assert_int_equal(org_of(c, OBS_IPV4, "198.51.100.8"), 0);
	assert_int_equal(org_of(c, OBS_IPV6, "2001:db8:5::1"), 4);
	assert_int_equal(org_of(c, OBS_IPV6, "2001:db9::1"), 0);
	assert_int_equal(org_of(c, OBS_DOMAIN, "example.ru"), 5);
	assert_int_equal(org_of(c, OBS_DOMAIN, "a.b.example.ru"), 5);
	assert_int_equal(org_of(c, OBS_DOMAIN, "badexample.ru"), 0);
	assert_int_equal(org_of(c, OBS_DOMAIN, "example.com"), 0);
	assert_int_equal(org_of(c, OBS_DOMAIN, "x.shop.example.com"), 6);
	assert_int_equal(org_of(c, OBS_URL, "https://login.example.ru:8443/a?b"), 5);
	assert_int_equal(org_of(c, OBS_URL, "http://user@10.9.9.9/x"), 1);
	assert_int_equal(org_of(c, OBS_URL, "http://[2001:db8::5]/x"), 4);
	assert_int_equal(org_of(c, OBS_EMAIL, "boss@mail.example.ru"), 5);
	assert_int_equal(org_of(c, OBS_ASN, "AS64500"), 7);
	assert_int_equal(org_of(c, OBS_ASN, "AS64501"), 0);
	assert_int_equal(org_of(c, OBS_PHONE, "+79991234567"), 0);
	coord_consts_free(c);
	/* an empty table */
	assert_int_equal(coord_consts_build(NULL, 0, &c, &d), TC_OK);
	assert_int_equal(org_of(c, OBS_IPV4, "10.0.0.1"), 0);
	coord_consts_free(c);
}

static void
test_rules(void **state)
{
	(void)state;
	struct coord_rules r = { 0 };
	struct diag d;
	const char *good = "# routes\n"
	                   "route scam-phones kind=phone min_confidence=70 action=suspend-number "
	                   "to=sector:telecom deadline=2h\n"
	                   "\n"
	                   "route cards kind=card,bank-account action=freeze-account to=sector:finance\n"
	                   "route cert kind=domain action=investigate to=org:CERT\n";
	assert_int_equal(coord_rules_parse(slice_from_cstr(good), "routes", &r, &d), TC_OK);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.v[0].name, "scam-phones");
	assert_int_equal(r.v[0].min_confidence, 70);
	assert_int_equal(r.v[0].deadline_us, 2LL * 3600 * 1000000);
	assert_int_equal(r.v[0].sector, SECTOR_TELECOM);
	assert_true(r.v[1].kinds & (1u << OBS_BANK_ACCOUNT));
	assert_int_equal(r.v[1].deadline_us, COORD_DEADLINE_DEFAULT_US);
	assert_string_equal(r.v[2].org, "CERT");
	coord_rules_free(&r);

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "route a kind=phone action=nuke to=sector:telecom\n", "routes:1: unknown action" },
		{ "\nroute a kind=fone action=block to=sector:telecom\n", "routes:2: unknown kind" },
		{ "route a kind=phone action=block\n", "needs kind=, action= and to=" },
		{ "route a kind=phone action=block to=sector:banks\n", "routes:1:" },
		{ "route a kind=phone action=block to=sector:telecom deadline=5w\n", "deadline" },
		{ "route a kind=phone action=block to=sector:telecom min_confidence=101\n",
		  "min_confidence" },
		{ "route a kind=phone action=block to=sector:telecom\n"
		  "route a kind=phone action=block to=sector:telecom\n", "routes:2: a second rule" },
		{ "rule a\n", "starts with 'route NAME'" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(coord_rules_parse(slice_from_cstr(bad[i].text), "routes", &r, &d),
		                 TC_EINVAL);
		if (!strstr(d.msg, bad[i].msg))
			fail_msg("%zu: '%s' lacks '%s'", i, d.msg, bad[i].msg);
		assert_null(r.v);
	}
}

struct props {
	int n;
	char src[8][80];
	char action[8][32];
	int64_t org[8];
	enum reg_sector sector[8];
};

static enum tcerr
prop_cb(void *ctx, const struct coord_proposal *p)
{
	struct props *ps = ctx;
	if (ps->n < 8) {
		snprintf(ps->src[ps->n], sizeof ps->src[0], "%s", p->source);
		snprintf(ps->action[ps->n], sizeof ps->action[0], "%s", p->action);
		ps->org[ps->n] = p->org_num;
		ps->sector[ps->n] = p->sector;
	}
	ps->n++;
	return TC_OK;
}

static struct props
plan(const char *json, const struct coord_rules *r, const struct coord_consts *c)
{
	struct props ps;
	struct diag d;
	json_error_t je;
	memset(&ps, 0, sizeof ps);
	json_t *o = json_loads(json, 0, &je);
	assert_non_null(o);
	assert_int_equal(coord_plan(o, NULL, r, c, prop_cb, &ps, NULL, &d), TC_OK);
	json_decref(o);
	return ps;
}

static void
test_plan(void **state)
{
	(void)state;
	struct coord_rules r = { 0 };
	struct diag d;
	assert_int_equal(coord_rules_parse(slice_from_cstr("route scam kind=phone "
	                                                   "min_confidence=70 "
	                                                   "action=suspend-number "
	                                                   "to=sector:telecom\n"),
	                                   "routes", &r, &d),
	                 TC_OK);
	struct reg_const v[] = { entry("192.0.2.0/24", 2), entry("example.ru", 5) };
	struct coord_consts *c;
	assert_int_equal(coord_consts_build(v, 2, &c, &d), TC_OK);
#define PHONE \
		"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--1\"," \
		"\"pattern_type\":\"stix\",\"confidence\":%d," \
		"\"pattern\":\"[x-tocsin-phone-number:value = '+79991234567']\"}"
	char buf[512];
	snprintf(buf, sizeof buf, PHONE, 80);
	struct props ps = plan(buf, &r, c);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.src[0], "route:scam");
	assert_string_equal(ps.action[0], "suspend-number");
	assert_int_equal(ps.sector[0], SECTOR_TELECOM);
	snprintf(buf, sizeof buf, PHONE, 60);
	assert_int_equal(plan(buf, &r, c).n, 0);

	ps = plan("{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	          "\"pattern\":\"[ipv4-addr:value = '192.0.2.10']\"}",
	          &r, c);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.src[0], "constituency");
	assert_string_equal(ps.action[0], "clean-up");
	assert_int_equal(ps.org[0], 2);
	ps = plan("{\"type\":\"indicator\",\"pattern_type\":\"stix\","
	          "\"pattern\":\"[url:value = 'http://login.example.ru/x']\"}",
	          &r, c);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.action[0], "takedown");
	assert_int_equal(ps.org[0], 5);
	assert_int_equal(plan("{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"revoked\":true,"
	                      "\"pattern\":\"[ipv4-addr:value = '192.0.2.10']\"}",
	                      &r, c)
	                         .n,
	                 0);
	assert_int_equal(plan("{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.10\"}", &r, c).n, 0);
	coord_consts_free(c);
	coord_rules_free(&r);
}

static void
test_confidence_text(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		int want;
	} c[] = {
		{ "{\"type\":\"indicator\",\"confidence\":85}", 85 },
		{ "{\"confidence\":0,\"x\":1}", 0 },
		{ "{\"name\":\"confidence\",\"confidence\":70}", 70 },
		{ "{\"extensions\":{\"e\":{\"confidence\":99}},\"confidence\":40}", 40 },
		{ "{\"extensions\":{\"e\":{\"confidence\":99}}}", 0 },
		{ "{\"description\":\"a \\\"confidence\\\":90 quote\"}", 0 },
		{ "{\"confidence\":\"high\"}", 0 },
		{ "{\"confidence\":1000}", 0 },
		{ "{\"unterminated", 0 },
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		if (coord_confidence_text(slice_from_cstr(c[i].json)) != c[i].want)
			fail_msg("%zu: %s", i, c[i].json);
}

static int conf_asked;
static int
conf_80(void *ctx)
{
	(void)ctx;
	conf_asked++;
	return 80;
}

static void
test_plan_obs(void **state)
{
	(void)state;
	struct coord_rules r = { 0 };
	struct diag d;
	struct props ps;
	assert_int_equal(coord_rules_parse(slice_from_cstr("route a kind=phone min_confidence=70 "
	                                                   "action=suspend-number to=sector:telecom\n"
	                                                   "route b kind=phone min_confidence=90 "
	                                                   "action=investigate to=org:CERT\n"),
	                                   "r", &r, &d),
	                 TC_OK);
	struct coord_obs v[] = { { OBS_PHONE, slice_from_cstr("+79990001122") },
		                 { OBS_IPV4, slice_from_cstr("10.0.0.1") } };
	memset(&ps, 0, sizeof ps);
	conf_asked = 0;
	assert_int_equal(coord_plan_obs(v, 2, conf_80, NULL, &r, NULL, prop_cb, &ps, NULL, &d), TC_OK);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.src[0], "route:a");
	assert_int_equal(conf_asked, 1);
	/* no rule for the kind: the confidence is never asked */
	memset(&ps, 0, sizeof ps);
	conf_asked = 0;
	assert_int_equal(coord_plan_obs(v + 1, 1, conf_80, NULL, &r, NULL, prop_cb, &ps, NULL, &d),
	                 TC_OK);
	assert_int_equal(ps.n, 0);
	assert_int_equal(conf_asked, 0);
	coord_rules_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_confidence_text),
		cmocka_unit_test(test_plan_obs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
