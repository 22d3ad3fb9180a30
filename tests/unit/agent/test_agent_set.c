/*
 * Unit tests of lib/agent/agent_set: events change the set as a reader of
 * the decisions stream expects (add sets or replaces, remove takes away,
 * both idempotent), and the state file keeps the set and its position
 * across a restart, refusing a damaged file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_set.h"

#define ADD(v, until) "{\"position\":\"1\",\"kind\":\"ipv4\",\"value\":\"" v "\"," \
	"\"action\":\"block\",\"until\":" until ",\"confidence\":80,\"tlp\":\"green\"," \
	"\"reason\":\"published\",\"indicators\":[],\"indicators_total\":0}"
#define REM(v) "{\"position\":\"2\",\"kind\":\"ipv4\",\"value\":\"" v "\",\"reason\":\"revoked\"}"

static enum tcerr
ev(struct agent_set *s, const char *name, const char *data, struct agent_changes *ch)
{
	struct diag d;
	diag_clear(&d);
	return agent_set_apply_event(s, slice_from_cstr(name), slice_from_cstr(data), ch, &d);
}

static void
test_add_replace_remove(void **state)
{
	struct agent_set *s = agent_set_new();
	struct agent_changes ch = { 0 };
	assert_non_null(s);
	assert_int_equal(ev(s, "add", ADD("203.0.113.7", "null"), &ch), TC_OK);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.v[0].op, AGENT_OP_ADD);
	assert_string_equal(ch.v[0].value, "203.0.113.7");
	/* the same add again changes nothing */
	assert_int_equal(ev(s, "add", ADD("203.0.113.7", "null"), &ch), TC_OK);
	assert_int_equal(ch.n, 1);
	/* a new expiry is a replace */
	assert_int_equal(ev(s, "add", ADD("203.0.113.7", "\"2030-01-01T00:00:00Z\""), &ch), TC_OK);
	assert_int_equal(ch.n, 2);
	assert_int_equal(ch.v[1].op, AGENT_OP_REPLACE);
	assert_true(ch.v[1].until_us > 0);
	assert_int_equal(ch.v[1].old_until_us, 0);
	const struct agent_entry *e =
		agent_set_get(s, OBS_IPV4, slice_from_cstr("203.0.113.7"));
	assert_non_null(e);
	assert_int_equal(e->confidence, 80);
	assert_int_equal(e->tlp, TLP_GREEN);
	assert_int_equal(agent_set_count_kind(s, OBS_IPV4), 1);
	/* remove, twice: the second is a no-op */
	assert_int_equal(ev(s, "remove", REM("203.0.113.7"), &ch), TC_OK);
	assert_int_equal(ev(s, "remove", REM("203.0.113.7"), &ch), TC_OK);
	assert_int_equal(ch.n, 3);
	assert_int_equal(ch.v[2].op, AGENT_OP_REMOVE);
	assert_int_equal(agent_set_count(s), 0);
	agent_changes_reset(&ch);
	agent_set_free(s);
}

static void
test_bad_events(void **state)
{
	struct agent_set *s = agent_set_new();
	assert_int_equal(ev(s, "add", "not json", NULL), TC_EINVAL);
	assert_int_equal(ev(s, "add", "{\"kind\":\"nope\",\"value\":\"x\",\"action\":\"block\"}",
	                    NULL), TC_EINVAL);
	assert_int_equal(ev(s, "add", "{\"kind\":\"ipv4\",\"value\":\"1.2.3.4\",\"action\":\"x\"}",
	                    NULL), TC_EINVAL);
	assert_int_equal(ev(s, "add", "{\"kind\":\"url\",\"value\":\"http://a/\\n\","
	                    "\"action\":\"block\"}", NULL), TC_EINVAL);
	assert_int_equal(ev(s, "add", "{\"kind\":\"ipv4\",\"value\":\"1.2.3.4\","
	                    "\"action\":\"block\",\"until\":\"yesterday\"}", NULL), TC_EINVAL);
	assert_int_equal(ev(s, "version", "{}", NULL), TC_ENOTFOUND);
	assert_int_equal(agent_set_count(s), 0);
	agent_set_free(s);
}

static void
test_expire(void **state)
{
	struct agent_set *s = agent_set_new();
	struct agent_changes ch = { 0 };
	struct diag d;
	assert_int_equal(ev(s, "add", ADD("192.0.2.1", "\"2020-01-01T00:00:00Z\""), NULL), TC_OK);
	assert_int_equal(ev(s, "add", ADD("192.0.2.2", "null"), NULL), TC_OK);
	assert_int_equal(agent_set_expire(s, 1700000000000000, &ch, &d), TC_OK);
	assert_int_equal(ch.n, 1);
	assert_string_equal(ch.v[0].value, "192.0.2.1");
	assert_int_equal(agent_set_count(s), 1);
	/* one expiring later: not before its time, then at it */
	assert_int_equal(ev(s, "add", ADD("192.0.2.3", "\"2025-01-01T00:00:00Z\""), NULL), TC_OK);
	assert_int_equal(agent_set_expire(s, 1700000000000000, &ch, &d), TC_OK);
	assert_int_equal(ch.n, 1);
	assert_int_equal(agent_set_expire(s, 1735689600000000, &ch, &d), TC_OK);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.v[1].value, "192.0.2.3");
	assert_int_equal(agent_set_count(s), 1);
	agent_changes_reset(&ch);
	agent_set_free(s);
}

static void
test_many_and_sorted(void **state)
{
	struct agent_set *s = agent_set_new();
	struct diag d;
	char v[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(v, sizeof v, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		struct agent_entry e = { .kind = OBS_IPV4, .confidence = -1, .value = v,
		                         .len = strlen(v) };
		assert_int_equal(agent_set_put(s, &e, NULL, &d), TC_OK);
	}
	assert_int_equal(agent_set_count(s), 20000);
	const struct agent_entry **arr;
	size_t n;
	assert_int_equal(agent_set_sorted(s, &arr, &n), TC_OK);
	assert_int_equal(n, 20000);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(arr[i - 1]->value, arr[i]->value) < 0);
	free(arr);
	agent_set_free(s);
}

static void
test_state_roundtrip(void **state)
{
	char dir[] = "/tmp/agent-state-XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
	struct agent_set *s = agent_set_new(), *r = agent_set_new();
	struct agent_state_info info = { .position = 4712, .saved_us = 1, .applied_us = 2 };
	struct agent_state_info got;
	struct diag d;
	snprintf(info.error, sizeof info.error, "nftables:\tbroken\nline");
	assert_int_equal(ev(s, "add", ADD("203.0.113.7", "\"2030-01-01T00:00:00Z\""), NULL), TC_OK);
	assert_int_equal(ev(s, "add", "{\"kind\":\"domain\",\"value\":\"evil.example\","
	                    "\"action\":\"alert\",\"until\":null,\"confidence\":null,"
	                    "\"tlp\":\"amber\"}", NULL), TC_OK);
	assert_int_equal(agent_state_load(path, r, &got, &d), TC_ENOTFOUND);
	assert_int_equal(agent_state_save(path, s, &info, &d), TC_OK);
	assert_int_equal(agent_state_load(path, r, &got, &d), TC_OK);
	assert_int_equal(got.position, 4712);
	assert_int_equal(got.applied_us, 2);
	assert_string_equal(got.error, "nftables: broken line");
	assert_int_equal(agent_set_count(r), 2);
	const struct agent_entry *e = agent_set_get(r, OBS_DOMAIN, slice_from_cstr("evil.example"));
	assert_non_null(e);
	assert_true(e->alert);
	assert_int_equal(e->confidence, -1);
	assert_int_equal(e->tlp, TLP_AMBER);
	e = agent_set_get(r, OBS_IPV4, slice_from_cstr("203.0.113.7"));
	assert_non_null(e);
	assert_int_equal(e->until_us, agent_set_get(s, OBS_IPV4,
	                                            slice_from_cstr("203.0.113.7"))->until_us);
	/* no temporary file is left behind */
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* a truncated file (no end line) is refused, not half-read */
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fclose(f);
	assert_int_equal(truncate(path, sz - 6), 0);
	struct agent_set *r2 = agent_set_new();
	assert_int_equal(agent_state_load(path, r2, &got, &d), TC_ECORRUPT);
	/* a line that lies about its fields */
	f = fopen(path, "w");
	fputs("tocsin-agent-state 1\nposition\t5\nd\tipv4\tblock\tx\t1\tgreen\t1.2.3.4\nend\t1\n", f);
	fclose(f);
	struct agent_set *r3 = agent_set_new();
	assert_int_equal(agent_state_load(path, r3, &got, &d), TC_ECORRUPT);
	assert_non_null(strstr(d.msg, ":3:"));
	unlink(path);
	rmdir(dir);
	agent_set_free(s);
	agent_set_free(r);
	agent_set_free(r2);
	agent_set_free(r3);
}

static void
test_journal(void **state)
{
	char dir[] = "/tmp/agent-journal-XXXXXX", path[128], jpath[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(jpath, sizeof jpath, "%s.journal", path);
	struct agent_set *s = agent_set_new(), *r = agent_set_new();
	struct agent_changes ch = { 0 };
	struct agent_state_info info = { .position = 10 }, got;
	struct agent_journal j;
	struct diag d;
	assert_int_equal(ev(s, "add", ADD("192.0.2.1", "null"), NULL), TC_OK);
	assert_int_equal(agent_state_save(path, s, &info, &d), TC_OK);
	assert_int_equal(agent_journal_open(&j, path, &d), TC_OK);
	/* after the state file: one add, one remove, a position */
	assert_int_equal(ev(s, "add", ADD("192.0.2.2", "\"2030-01-01T00:00:00Z\""), &ch), TC_OK);
	assert_int_equal(ev(s, "remove", REM("192.0.2.1"), &ch), TC_OK);
	assert_int_equal(agent_journal_append(&j, &ch, s, 12, 777, &d), TC_OK);
	agent_changes_clear(&ch);
	assert_int_equal(agent_journal_error(&j, "nftables:\tgone", &d), TC_OK);
	assert_int_equal(agent_journal_sync(&j, &d), TC_OK);
	assert_int_equal(j.lines, 4);
	assert_int_equal(agent_state_load(path, r, &got, &d), TC_OK);
	assert_int_equal(got.position, 12);
	assert_int_equal(got.applied_us, 777);
	assert_string_equal(got.error, "nftables: gone");
	assert_int_equal(agent_set_count(r), 1);
	const struct agent_entry *e = agent_set_get(r, OBS_IPV4, slice_from_cstr("192.0.2.2"));
	assert_non_null(e);
	assert_int_equal(e->confidence, 80);
	assert_true(e->until_us > 0);
	/* a line cut by a crash is ignored, not an error */
	FILE *f = fopen(jpath, "a");
	fputs("a\tipv4\tblock\t0\t-1\tnone\t192.0.2.9", f);
	fclose(f);
	struct agent_set *r2 = agent_set_new();
	assert_int_equal(agent_state_load(path, r2, &got, &d), TC_OK);
	assert_null(agent_set_get(r2, OBS_IPV4, slice_from_cstr("192.0.2.9")));
	assert_int_equal(got.position, 12);
	/* a whole but bad line is */
	f = fopen(jpath, "a");
	fputs("\nx\tnonsense\n", f);
	fclose(f);
	struct agent_set *r3 = agent_set_new();
	assert_int_equal(agent_state_load(path, r3, &got, &d), TC_ECORRUPT);
	/* truncated after a full save: the state file alone */
	assert_int_equal(agent_journal_truncate(&j, &d), TC_OK);
	struct agent_set *r4 = agent_set_new();
	assert_int_equal(agent_state_load(path, r4, &got, &d), TC_OK);
	assert_int_equal(got.position, 10);
	assert_non_null(agent_set_get(r4, OBS_IPV4, slice_from_cstr("192.0.2.1")));
	agent_journal_close(&j);
	unlink(jpath);
	unlink(path);
	rmdir(dir);
	agent_changes_reset(&ch);
	agent_set_free(s);
	agent_set_free(r);
	agent_set_free(r2);
	agent_set_free(r3);
	agent_set_free(r4);
}

/* While another process writes the state file, journal lines are held:
 * the journal on disk never gets a line about a state file not yet
 * written; released after a good write, the journal holds only them. */
static void
test_journal_hold(void **state)
{
	char dir[] = "/tmp/agent-jhold-XXXXXX", path[128], jpath[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(jpath, sizeof jpath, "%s.journal", path);
	struct agent_set *s = agent_set_new();
	struct agent_changes ch = { 0 };
	struct agent_state_info info = { .position = 10 }, got;
	struct agent_journal j;
	struct diag d;
	struct stat st;
	assert_int_equal(agent_state_save(path, s, &info, &d), TC_OK);
	assert_int_equal(agent_journal_open(&j, path, &d), TC_OK);
	assert_int_equal(ev(s, "add", ADD("192.0.2.1", "null"), &ch), TC_OK);
	assert_int_equal(agent_journal_append(&j, &ch, s, 11, 1, &d), TC_OK);
	agent_changes_clear(&ch);
	/* a state at 11 is being written elsewhere: what follows is held */
	info.position = 11;
	agent_journal_hold(&j);
	assert_int_equal(stat(jpath, &st), 0);
	off_t before = st.st_size;
	assert_int_equal(ev(s, "add", ADD("192.0.2.2", "null"), &ch), TC_OK);
	assert_int_equal(agent_journal_append(&j, &ch, s, 12, 2, &d), TC_OK);
	agent_changes_clear(&ch);
	assert_int_equal(stat(jpath, &st), 0);
	assert_int_equal(st.st_size, before);
	/* the other process's state file (192.0.2.1 at 11) is in place */
	struct agent_set *at11 = agent_set_new();
	assert_int_equal(ev(at11, "add", ADD("192.0.2.1", "null"), NULL), TC_OK);
	assert_int_equal(agent_state_save(path, at11, &info, &d), TC_OK);
	assert_int_equal(agent_journal_release(&j, true, &d), TC_OK);
	assert_int_equal(j.lines, 2); /* the held add and its position */
	struct agent_set *r = agent_set_new();
	assert_int_equal(agent_state_load(path, r, &got, &d), TC_OK);
	assert_int_equal(got.position, 12);
	assert_int_equal(agent_set_count(r), 2);
	/* a failed write: the journal goes on whole */
	agent_journal_hold(&j);
	assert_int_equal(ev(s, "remove", REM("192.0.2.1"), &ch), TC_OK);
	assert_int_equal(agent_journal_append(&j, &ch, s, 13, 3, &d), TC_OK);
	agent_changes_clear(&ch);
	assert_int_equal(agent_journal_release(&j, false, &d), TC_OK);
	struct agent_set *r2 = agent_set_new();
	assert_int_equal(agent_state_load(path, r2, &got, &d), TC_OK);
	assert_int_equal(got.position, 13);
	assert_int_equal(agent_set_count(r2), 1);
	assert_non_null(agent_set_get(r2, OBS_IPV4, slice_from_cstr("192.0.2.2")));
	agent_journal_close(&j);
	unlink(jpath);
	unlink(path);
	rmdir(dir);
	agent_changes_reset(&ch);
	agent_set_free(s);
	agent_set_free(at11);
	agent_set_free(r);
	agent_set_free(r2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_replace_remove),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_many_and_sorted),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_journal),
		cmocka_unit_test(test_journal_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
