/*
 * Unit tests of lib/rpz: the trigger of each kind of decision (the names
 * BIND 9 and Unbound expect), the zone's set, and the journal that IXFR
 * answers from — only effective changes, in order, bounded, and "too
 * old" when a position fell out of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rpz/rpz.h"
#include "rpz/rpz_msg.h"

static void
trig(enum obs_kind kind, const char *value, const char *want, bool want_wild)
{
	char out[RPZ_NAME_MAX];
	bool wild;
	struct diag d;
	if (rpz_trigger(kind, slice_from_cstr(value), out, &wild, &d) != TC_OK)
		fail_msg("%s: %s", value, d.msg);
	assert_string_equal(out, want);
	assert_int_equal(wild, want_wild);
}

static void
test_triggers(void **state)
{
	(void)state;
	trig(OBS_DOMAIN, "evil.example", "evil.example", true);
	trig(OBS_DOMAIN, "xn--80ak6aa92e.example.", "xn--80ak6aa92e.example", true);
	trig(OBS_IPV4, "203.0.113.7", "32.7.113.0.203.rpz-ip", false);
	trig(OBS_IPV4, "198.51.100.0/24", "24.0.100.51.198.rpz-ip", false);
	trig(OBS_IPV6, "2001:db8::1", "128.1.zz.db8.2001.rpz-ip", false);
	trig(OBS_IPV6, "2001:db8::/32", "32.zz.db8.2001.rpz-ip", false);
	/* one zero word is written, not "zz"; of two equal runs, the first */
	trig(OBS_IPV6, "2001:db8:0:1:1:1:1:1", "128.1.1.1.1.1.0.db8.2001.rpz-ip", false);
	trig(OBS_IPV6, "2001:0:0:1:0:0:1:1", "128.1.1.0.0.1.zz.2001.rpz-ip", false);

	char out[RPZ_NAME_MAX];
	bool wild;
	struct diag d;
	assert_int_equal(rpz_trigger(OBS_URL, slice_from_cstr("http://x.example/"), out, &wild, &d),
	                 TC_EUNSUPPORTED);
	assert_int_equal(rpz_trigger(OBS_IPV4, slice_from_cstr("300.1.1.1"), out, &wild, &d),
	                 TC_EINVAL);
	assert_int_equal(rpz_trigger(OBS_IPV4, slice_from_cstr("0.0.0.0/0"), out, &wild, &d),
	                 TC_EINVAL);
	assert_int_equal(rpz_trigger(OBS_DOMAIN, slice_from_cstr("a..b"), out, &wild, &d),
	                 TC_EINVAL);
	assert_int_equal(rpz_trigger(OBS_DOMAIN, slice_from_cstr("evil example"), out, &wild, &d),
	                 TC_EINVAL);
}

static enum tcerr
count_cb(void *ctx, const char *name, bool wild)
{
	(void)name;
	(void)wild;
	(*(size_t *)ctx)++;
	return TC_OK;
}

static void
test_zone_journal(void **state)
{
	(void)state;
	struct rpz_zone *z;
	bool changed;
	const struct rpz_change *c;
	size_t n;
	assert_int_equal(rpz_zone_new(4, &z), TC_OK);
	rpz_zone_reset(z, 10);
	assert_int_equal(rpz_zone_load(z, "old.example", true), TC_OK);
	assert_int_equal(rpz_zone_count(z), 1);

	/* effective changes only */
	assert_int_equal(rpz_zone_apply(z, 11, true, "evil.example", true, &changed), TC_OK);
	assert_true(changed);
	assert_int_equal(rpz_zone_apply(z, 12, true, "evil.example", true, &changed), TC_OK);
	assert_false(changed); /* an add of what is there: a changed decision, same trigger */
	assert_int_equal(rpz_zone_apply(z, 13, false, "gone.example", true, &changed), TC_OK);
	assert_false(changed);
	assert_int_equal(rpz_zone_apply(z, 14, false, "old.example", true, &changed), TC_OK);
	assert_true(changed);
	rpz_zone_advance(z, 20);
	assert_int_equal(rpz_zone_position(z), 20);
	/* the SOA stays at the last change: nothing to transfer since */
	assert_int_equal(rpz_zone_serial_position(z), 14);
	bool wild = false;
	assert_true(rpz_zone_find(z, "evil.example", &wild));
	assert_true(wild);
	assert_false(rpz_zone_find(z, "old.example", &wild));
	assert_int_equal(rpz_zone_apply(z, 20, true, "x.example", true, &changed), TC_EINVAL);

	assert_int_equal(rpz_zone_since(z, 10, &c, &n), TC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].pos, 11);
	assert_true(c[0].add);
	assert_string_equal(c[0].name, "evil.example");
	assert_int_equal(c[1].pos, 14);
	assert_false(c[1].add);
	assert_string_equal(c[1].name, "old.example");
	assert_int_equal(rpz_zone_since(z, 12, &c, &n), TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rpz_zone_since(z, 20, &c, &n), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rpz_zone_since(z, 9, &c, &n), TC_ENOTFOUND);
	assert_int_equal(rpz_zone_since(z, 21, &c, &n), TC_ENOTFOUND);

	/* bounded: past 4 changes the oldest go, and a client from before
	 * them needs the whole zone */
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		assert_int_equal(rpz_zone_apply(z, 30 + (uint64_t)i, true, name, true, &changed),
		                 TC_OK);
	}
	assert_int_equal(rpz_zone_since(z, 20, &c, &n), TC_ENOTFOUND);
	assert_int_equal(rpz_zone_since(z, 30, &c, &n), TC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(rpz_zone_count(z), 6);

	/* many triggers: the table grows, removals leave the rest findable */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "m%d.example", i);
		assert_int_equal(rpz_zone_apply(z, 100 + (uint64_t)i, true, name, true, NULL), TC_OK);
	}
	for (int i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof name, "m%d.example", i);
		assert_int_equal(rpz_zone_apply(z, 10000 + (uint64_t)i, false, name, true, &changed),
		                 TC_OK);
		assert_true(changed);
	}
	size_t cnt = 0;
	assert_int_equal(rpz_zone_each(z, count_cb, &cnt), TC_OK);
	assert_int_equal(cnt, 6 + 2500);
	assert_int_equal(rpz_zone_count(z), 6 + 2500);
	/* a frozen copy keeps the triggers as they were while the zone moves on */
	struct rpz_frozen *fz;
	assert_int_equal(rpz_zone_freeze(z, &fz), TC_OK);
	assert_int_equal(rpz_zone_apply(z, 20000, false, "m1.example", true, &changed), TC_OK);
	assert_true(changed);
	cnt = 0;
	assert_int_equal(rpz_frozen_each(fz, count_cb, &cnt), TC_OK);
	assert_int_equal(cnt, 6 + 2500);
	assert_int_equal(rpz_frozen_count(fz), 6 + 2500);
	rpz_frozen_free(fz);
	rpz_zone_free(z);
}

static void
test_serials(void **state)
{
	(void)state;
	struct rpz_zone *z;
	assert_int_equal(rpz_zone_new(0, &z), TC_OK);
	rpz_zone_reset(z, 1000);
	assert_int_equal(rpz_serial(1000), 1000);
	assert_int_equal(rpz_serial_position(z, 990), 990);
	assert_int_equal(rpz_serial_position(z, 2000), UINT64_MAX); /* from the future */
	rpz_zone_reset(z, ((uint64_t)1 << 32) + 5);
	assert_int_equal(rpz_serial(rpz_zone_position(z)), 5);
	assert_int_equal(rpz_serial_position(z, 3), ((uint64_t)1 << 32) + 3);
	assert_int_equal(rpz_serial_position(z, 4000000000u), 4000000000u);
	/* no journal: every older client gets the whole zone */
	const struct rpz_change *c;
	size_t n;
	bool changed;
	assert_int_equal(rpz_zone_apply(z, rpz_zone_position(z) + 1, true, "a.example", true,
	                                &changed), TC_OK);
	assert_int_equal(rpz_zone_since(z, rpz_zone_position(z) - 1, &c, &n), TC_ENOTFOUND);
	assert_int_equal(rpz_zone_since(z, rpz_zone_position(z), &c, &n), TC_OK);
	rpz_zone_free(z);
}

/* An IXFR request with the client's SOA: classified; a second TSIG (ldns
 * would leak the first) and a record past the end refused. */
static void
test_request_parse(void **state)
{
	(void)state;
	static const uint8_t ixfr[] = {
		0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,
		3, 'R', 'p', 'Z', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 251, 0, 1,
		0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22,
		0, 0, 0, 0, 0, 41, 0, 0, 0, 60, 0, 0, 0, 10, 0, 1, 0x51, 0x80, 0, 0, 0, 60,
	};
	struct rpz_request r;
	struct diag d;
	assert_int_equal(rpz_request_parse(slice_make((const char *)ixfr, sizeof ixfr), &r, &d),
	                 TC_OK);
	assert_true(r.one_question);
	assert_false(r.response);
	assert_string_equal(r.qname, "rpz.example.");
	assert_int_equal(r.qtype, LDNS_RR_TYPE_IXFR);
	assert_true(r.has_serial);
	assert_int_equal(r.serial, 41);
	assert_false(r.tsig);
	rpz_request_free(&r);
	/* cut one byte: the SOA runs past the end */
	assert_int_equal(rpz_request_parse(slice_make((const char *)ixfr, sizeof ixfr - 1), &r, &d),
	                 TC_EINVAL);
	assert_int_equal(rpz_request_parse(slice_make((const char *)ixfr, 11), &r, &d), TC_EINVAL);
	/* two TSIG records (type 250) */
	static const uint8_t two[] = {
		0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
		1, 'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0,
	};
	assert_int_equal(rpz_request_parse(slice_make((const char *)two, sizeof two), &r, &d),
	                 TC_EINVAL);

	char rel[RPZ_NAME_MAX];
	assert_true(rpz_relative("evil.example.rpz.example.", "rpz.example.", rel));
	assert_string_equal(rel, "evil.example");
	assert_true(rpz_relative("rpz.example.", "rpz.example.", rel));
	assert_string_equal(rel, "");
	assert_false(rpz_relative("xrpz.example.", "rpz.example.", rel));
	assert_false(rpz_relative("example.", "rpz.example.", rel));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_triggers),
		cmocka_unit_test(test_zone_journal),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_request_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
