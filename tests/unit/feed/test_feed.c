/*
 * Unit tests of lib/feed over a real hub (SQLite store, registry): the
 * stix view merges versions and deletions in log order; every position of
 * a recorded run resumes to exactly the rest; decisions appear, change and
 * go for publish, revoke, delete, expiry and the allowlist; a reader sees
 * only what policy_row lets it see, decisions included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "feed/feed.h"
#include "hub/hub.h"
#include "registry/registry.h"
#include "util/timestamp.h"

#define M_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define M_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

struct fixture {
	char dir[96];
	struct hub *hub;
	struct registry *reg;
	struct reg_snapshot *snap;
	struct reg_org bank, telco;
	int64_t coll;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag d;
	struct store_collection c;
	snprintf(f->dir, sizeof f->dir, "/tmp/tocsin-test-feed-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof f->dir - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(hub_collection(f->hub, NULL, &c, &d), TC_OK);
	f->coll = c.num;
	assert_int_equal(registry_open(f->dir, &f->reg, &d), TC_OK);
	if (registry_org_add(f->reg, "Bank", SECTOR_FINANCE, "DE", NULL, 0, &f->bank, &d) ||
	    registry_org_add(f->reg, "Telco", SECTOR_TELECOM, "DE", NULL, 0, &f->telco, &d))
		fail_msg("org: %s", d.msg);
	if (registry_rights_set(f->reg, c.uuid, "all", "all", &d))
		fail_msg("rights: %s", d.msg);
	if (reg_snapshot_build(f->reg, hub_store(f->hub), &f->snap, &d))
		fail_msg("snapshot: %s", d.msg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];
	reg_snapshot_unref(f->snap);
	registry_close(f->reg);
	hub_close(f->hub);
	snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Publishes one indicator (producer org num, 0: the hub). */
static void
publish(struct fixture *f, int n, const char *modified, const char *pattern, const char *extra,
        int64_t producer)
{
	char text[2048];
	struct diag d;
	snprintf(text, sizeof text,
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000"
	         "-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	         "\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":"
	         "\"2026-01-01T00:00:00.000Z\"%s}",
	         n, modified, pattern, extra ? extra : "");
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);
	if (!o)
		fail_msg("json: %s: %s", e.text, text);
	struct hub_item it = { .obj = o, .collection = f->coll, .producer = producer };
	struct hub_result r;
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	if (r.verdict != HUB_ACCEPTED)
		fail_msg("rejected: %s", r.why);
	json_decref(o);
}

static void
delete_all(struct fixture *f, int n)
{
	char id[80];
	struct diag d;
	struct store_delete_out out;
	snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
	struct store_delete_q q = { .collection = f->coll, .id = id };
	assert_int_equal(hub_delete(f->hub, &q, NULL, NULL, &out, &d), TC_OK);
	assert_true(out.deleted > 0);
}

/* What a reader received. */
struct got {
	size_t n;
	uint64_t pos[64];
	enum feed_event_type type[64];
	char data[64][1024];
};

static enum tcerr
got_cb(void *ctx, const struct feed_event *ev)
{
	struct got *g = ctx;
	assert_true(g->n < 64);
	g->pos[g->n] = ev->pos.seq;
	g->type[g->n] = ev->type;
	snprintf(g->data[g->n], sizeof g->data[0], "%.*s", (int)ev->data.len, ev->data.p);
	/* every event's text is one JSON object */
	json_t *o = json_loadb(ev->data.p, ev->data.len, 0, NULL);
	assert_non_null(o);
	json_decref(o);
	g->n++;
	return TC_OK;
}

static void
read_all(struct fixture *f, const struct policy_subject *who, enum feed_view v, uint64_t after,
         const struct feed_filter *flt, struct got *g)
{
	struct diag d;
	struct feed_ctx c = { .store = hub_store(f->hub), .who = who, .names = f->snap,
		              .allow = hub_allowlist(f->hub) };
	memset(g, 0, sizeof *g);
	struct feed_pos next;
	if (feed_read(&c, v, flt, (struct feed_pos){ after }, 0, got_cb, g, &next, &d))
		fail_msg("feed_read: %s", d.msg);
}

/* Versions and deletions come in log order, each with its own position,
 * and resuming from any position gives exactly the rest. */
static void
test_stix_view_order_and_resume(void **state)
{
	struct fixture *f = *state;
	publish(f, 1, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'one.example']", NULL, 0);
	publish(f, 2, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'two.example']", NULL, 0);
	delete_all(f, 1);
	publish(f, 1, "2026-01-02T00:00:00.000Z", "[domain-name:value = 'one.example']", NULL, 0);
	struct got all;
	read_all(f, NULL, FEED_STIX, 0, NULL, &all);
	/* the deleted version is no longer in the log; its deletion is */
	assert_int_equal(all.n, 3);
	assert_int_equal(all.type[0], FEED_EV_VERSION);
	assert_int_equal(all.type[1], FEED_EV_DELETE);
	assert_non_null(strstr(all.data[1], "indicator--00000000-0000-4000-8000-000000000001"));
	assert_non_null(strstr(all.data[2], "indicator--00000000-0000-4000-8000-000000000001"));
	assert_non_null(strstr(all.data[0], "\"object\":{"));
	for (size_t i = 1; i < all.n; i++)
		assert_true(all.pos[i] > all.pos[i - 1]);
	for (size_t i = 0; i < all.n; i++) {
		struct got rest;
		read_all(f, NULL, FEED_STIX, all.pos[i], NULL, &rest);
		assert_int_equal(rest.n, all.n - i - 1);
		for (size_t k = 0; k < rest.n; k++)
			assert_int_equal(rest.pos[k], all.pos[i + 1 + k]);
	}
	/* a reader limited to a few events per call misses nothing either */
	struct diag d;
	struct feed_ctx c = { .store = hub_store(f->hub), .names = f->snap };
	struct feed_pos p = { 0 };
	size_t total = 0;
	for (int round = 0; round < 10; round++) {
		struct got g = { 0 };
		assert_int_equal(feed_read(&c, FEED_STIX, NULL, p, 1, got_cb, &g, &p, &d), TC_OK);
		if (!g.n)
			break;
		assert_int_equal(g.pos[0], all.pos[total]);
		total += g.n;
	}
	assert_int_equal(total, all.n);
}

/* Decisions: published, superseded, revoked, deleted, each as seen. */
static void
test_decisions_follow_indicators(void **state)
{
	struct fixture *f = *state;
	struct got g;
	publish(f, 1, "2026-01-01T00:00:00.000Z",
	        "[ipv4-addr:value = '185.220.101.1' OR ipv4-addr:value = '185.220.101.2']",
	        ",\"confidence\":70", 0);
	publish(f, 2, "2026-01-01T00:00:00.000Z", "[ipv4-addr:value = '185.220.101.1']",
	        ",\"confidence\":90", 0);
	read_all(f, NULL, FEED_DECISIONS, 0, NULL, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.type[0], FEED_EV_ADD);
	/* the third event: .1 now backed by both, confidence the highest */
	assert_non_null(strstr(g.data[2], "\"value\":\"185.220.101.1\""));
	assert_non_null(strstr(g.data[2], "\"confidence\":90"));
	assert_non_null(strstr(g.data[2], "\"indicators_total\":2"));
	uint64_t pos = g.pos[2];

	/* revoking indicator 2: .1 stays (indicator 1), as an add */
	publish(f, 2, "2026-01-02T00:00:00.000Z", "[ipv4-addr:value = '185.220.101.1']",
	        ",\"confidence\":90,\"revoked\":true", 0);
	read_all(f, NULL, FEED_DECISIONS, pos, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.type[0], FEED_EV_ADD);
	assert_non_null(strstr(g.data[0], "\"reason\":\"revoked\""));
	assert_non_null(strstr(g.data[0], "\"indicators_total\":1"));
	pos = g.pos[0];

	/* deleting indicator 1: both values go */
	delete_all(f, 1);
	read_all(f, NULL, FEED_DECISIONS, pos, NULL, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.type[0], FEED_EV_REMOVE);
	assert_int_equal(g.type[1], FEED_EV_REMOVE);
	assert_non_null(strstr(g.data[0], "\"reason\":\"deleted\""));

	/* the snapshot is now empty; a pattern with AND makes no decision */
	publish(f, 3, "2026-01-01T00:00:00.000Z",
	        "[ipv4-addr:value = '185.220.101.3' AND ipv4-addr:value = '185.220.101.4']", NULL, 0);
	struct diag d;
	struct feed_ctx c = { .store = hub_store(f->hub), .names = f->snap };
	memset(&g, 0, sizeof g);
	struct feed_pos at;
	assert_int_equal(feed_snapshot(&c, NULL, got_cb, &g, &at, &d), TC_OK);
	assert_int_equal(g.n, 0);
	uint64_t end;
	assert_int_equal(store_position(hub_store(f->hub), &end), TC_OK);
	assert_int_equal(at.seq, end);
}

/* valid_until passes: the hub's clock removes the decision, no request needed. */
static void
test_decisions_expire(void **state)
{
	struct fixture *f = *state;
	struct got g;
	char until[TS_TEXT_MAX], extra[128];
	int64_t now = ts_now_us();
	ts_format(now + 2000000, 3, until);
	snprintf(extra, sizeof extra, ",\"valid_until\":\"%s\"", until);
	publish(f, 1, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'brief.example']", extra, 0);
	read_all(f, NULL, FEED_DECISIONS, 0, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.data[0], until));
	uint64_t pos = g.pos[0];
	struct diag d;
	size_t n;
	assert_int_equal(hub_decisions_maintain(f->hub, now, &n, &d), TC_OK);
	assert_int_equal(hub_decisions_due(f->hub) / 1000, (now + 2000000) / 1000);
	assert_int_equal(hub_decisions_maintain(f->hub, now + 3000000, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	read_all(f, NULL, FEED_DECISIONS, pos, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.type[0], FEED_EV_REMOVE);
	assert_non_null(strstr(g.data[0], "\"reason\":\"expired\""));
}

/* A value put on the allowlist is removed; taken off, it comes back. */
static void
test_decisions_allowlist(void **state)
{
	struct fixture *f = *state;
	struct got g;
	struct diag d;
	size_t n;
	publish(f, 1, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'fine.example']", NULL, 0);
	assert_int_equal(hub_decisions_maintain(f->hub, 0, &n, &d), TC_OK);
	read_all(f, NULL, FEED_DECISIONS, 0, NULL, &g);
	assert_int_equal(g.n, 1);
	uint64_t pos = g.pos[0];
	char path[200];
	snprintf(path, sizeof path, "%s/allowlist.txt", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("fine.example # a partner\n", fp);
	fclose(fp);
	bool re;
	assert_int_equal(hub_allowlist_reload(f->hub, true, &re, &d), TC_OK);
	assert_int_equal(hub_decisions_maintain(f->hub, 0, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	read_all(f, NULL, FEED_DECISIONS, pos, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.type[0], FEED_EV_REMOVE);
	assert_non_null(strstr(g.data[0], "\"reason\":\"allowlisted\""));
	pos = g.pos[0];
	unlink(path);
	assert_int_equal(hub_allowlist_reload(f->hub, true, &re, &d), TC_OK);
	assert_int_equal(hub_decisions_maintain(f->hub, 0, &n, &d), TC_OK);
	read_all(f, NULL, FEED_DECISIONS, pos, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.type[0], FEED_EV_ADD);
	assert_non_null(strstr(g.data[0], "\"reason\":\"unallowlisted\""));
}

/* A RED indicator of the bank reaches neither the telco's stix view nor
 * its decisions; a value both name shows the telco only the green one. */
static void
test_policy_per_reader(void **state)
{
	struct fixture *f = *state;
	char red[256], green[256];
	snprintf(red, sizeof red, ",\"object_marking_refs\":[\"%s\"],\"confidence\":99", M_RED);
	snprintf(green, sizeof green, ",\"object_marking_refs\":[\"%s\"],\"confidence\":40",
	         M_GREEN);
	publish(f, 1, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'secret.example']", red,
	        f->bank.num);
	publish(f, 2, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'both.example']", red,
	        f->bank.num);
	publish(f, 3, "2026-01-01T00:00:00.000Z", "[domain-name:value = 'both.example']", green,
	        f->bank.num);
	struct policy_subject bank, telco;
	policy_subject_org(&bank, f->snap, reg_snapshot_org(f->snap, f->bank.num));
	policy_subject_org(&telco, f->snap, reg_snapshot_org(f->snap, f->telco.num));
	struct got g;
	read_all(f, &telco, FEED_STIX, 0, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.data[0], "000000000003"));
	read_all(f, &telco, FEED_DECISIONS, 0, NULL, &g);
	for (size_t i = 0; i < g.n; i++) {
		assert_null(strstr(g.data[i], "secret.example"));
		assert_null(strstr(g.data[i], "000000000002"));
		assert_null(strstr(g.data[i], "\"confidence\":99"));
	}
	assert_int_equal(g.n, 1);
	read_all(f, &bank, FEED_DECISIONS, 0, NULL, &g);
	assert_int_equal(g.n, 3);
	/* the snapshot: the same rule */
	struct diag d;
	struct feed_ctx c = { .store = hub_store(f->hub), .who = &telco, .names = f->snap };
	memset(&g, 0, sizeof g);
	assert_int_equal(feed_snapshot(&c, NULL, got_cb, &g, NULL, &d), TC_OK);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.data[0], "\"tlp\":\"green\""));
	/* filters: a TLP ceiling and a minimum confidence */
	struct feed_filter_store fs;
	feed_filter_init(&fs);
	assert_int_equal(feed_filter_set(&fs, hub_store(f->hub), "min_confidence",
	                                 slice_from_cstr("50"), &d),
	                 TC_OK);
	read_all(f, &bank, FEED_DECISIONS, 0, &fs.f, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(feed_filter_set(&fs, hub_store(f->hub), "bogus", slice_from_cstr("1"), &d),
	                 TC_EINVAL);
	assert_int_equal(feed_filter_set(&fs, hub_store(f->hub), "tlp", slice_from_cstr("pink"), &d),
	                 TC_EINVAL);
	feed_filter_reset(&fs);
}

static void
test_positions(void **state)
{
	(void)state;
	struct feed_pos p;
	char t[FEED_POS_TEXT_MAX];
	assert_int_equal(feed_pos_parse(slice_from_cstr("42"), &p), TC_OK);
	assert_int_equal(p.seq, 42);
	feed_pos_format(p, t);
	assert_string_equal(t, "42");
	assert_int_equal(feed_pos_parse(slice_from_cstr("18446744073709551615"), &p), TC_OK);
	assert_int_equal(feed_pos_parse(slice_from_cstr("18446744073709551616"), &p), TC_EINVAL);
	assert_int_equal(feed_pos_parse(slice_from_cstr("-1"), &p), TC_EINVAL);
	assert_int_equal(feed_pos_parse(slice_from_cstr("042"), &p), TC_EINVAL);
	assert_int_equal(feed_pos_parse(slice_from_cstr(""), &p), TC_EINVAL);
	assert_int_equal(feed_pos_parse(slice_from_cstr("4.2"), &p), TC_EINVAL);
}


static enum tcerr
bare_cb(void *ctx, const struct feed_event *ev)
{
	size_t *n = ctx;
	assert_int_equal(ev->data.len, 0);
	assert_non_null(ev->decision);
	assert_true(ev->decision->nindicators >= 1);
	assert_string_equal(ev->decision->action, "block");
	(*n)++;
	return TC_OK;
}

/* An export reads only the decision: no event text is built for it. */
static void
test_decisions_only(void **state)
{
	struct fixture *f = *state;
	publish(f, 1, "2026-01-01T00:00:00.000Z",
	        "[ipv4-addr:value = '185.220.101.1' OR domain-name:value = 'x.example']", NULL, 0);
	struct diag d;
	struct feed_ctx c = { .store = hub_store(f->hub), .names = f->snap, .decisions_only = true };
	size_t n = 0;
	assert_int_equal(feed_snapshot(&c, NULL, bare_cb, &n, NULL, &d), TC_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(feed_read(&c, FEED_DECISIONS, NULL, (struct feed_pos){ 0 }, 0, bare_cb, &n,
	                           NULL, &d),
	                 TC_OK);
	assert_int_equal(n, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test_setup_teardown(test_stix_view_order_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions_follow_indicators, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions_allowlist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_per_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decisions_only, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
