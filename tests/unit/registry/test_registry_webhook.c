/*
 * Unit tests of lib/registry's webhook subscriptions on a real
 * registry.db: add and its checks, list, replay (dead-letter revived, a
 * new cursor, the revision guard against a delivery in flight), progress,
 * remove, the generation and persistence across a reopen.
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

#include "registry/registry.h"

struct fixture {
	char dir[256];
	struct registry *r;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag d;
	snprintf(f->dir, sizeof f->dir, "/tmp/tocsin-test-regwh-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_org_add(f->r, "northbank", SECTOR_FINANCE, "NO", NULL, 0, NULL, &d),
	                 TC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	registry_close(f->r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
fill(struct reg_webhook *w, const char *org, const char *secret, const char *view,
     const char *cursor)
{
	memset(w, 0, sizeof *w);
	snprintf(w->org_name, sizeof w->org_name, "%s", org);
	snprintf(w->url, sizeof w->url, "%s", "https://hooks.example.org/tocsin");
	w->secret_len = strlen(secret);
	memcpy(w->secret, secret, w->secret_len);
	snprintf(w->view, sizeof w->view, "%s", view);
	snprintf(w->filter, sizeof w->filter, "%s", "kind=ipv4-addr&min_confidence=50");
	snprintf(w->cursor, sizeof w->cursor, "%s", cursor);
}

static enum tcerr
count_cb(void *ctx, const struct reg_webhook *w)
{
	(void)w;
	(*(int *)ctx)++;
	return TC_OK;
}

static void
test_add_checks(void **state)
{
	struct fixture *f = *state;
	struct reg_webhook w, out;
	struct diag d;
	uint64_t g0, g1;

	assert_int_equal(registry_webhook_generation(f->r, &g0, &d), TC_OK);
	fill(&w, "NorthBank", "0123456789abcdef-secret", "decisions", "42");
	assert_int_equal(registry_webhook_add(f->r, &w, &out, &d), TC_OK);
	assert_int_equal(strlen(out.id), REG_WEBHOOK_ID_LEN);
	assert_int_equal(out.id[0], 'w');
	assert_string_equal(out.org_name, "northbank");
	assert_string_equal(out.cursor, "42");
	assert_string_equal(out.filter, "kind=ipv4-addr&min_confidence=50");
	assert_int_equal(out.state, REG_WEBHOOK_ACTIVE);
	assert_int_equal(out.secret_len, strlen("0123456789abcdef-secret"));
	assert_memory_equal(out.secret, "0123456789abcdef-secret", out.secret_len);
	assert_int_equal(registry_webhook_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0);

	fill(&w, "nobody", "0123456789abcdef", "stix", "0");
	assert_int_equal(registry_webhook_add(f->r, &w, NULL, &d), TC_ENOTFOUND);
	fill(&w, "northbank", "short", "stix", "0");
	assert_int_equal(registry_webhook_add(f->r, &w, NULL, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "secret"));
	fill(&w, "northbank", "0123456789abcdef", "everything", "0");
	assert_int_equal(registry_webhook_add(f->r, &w, NULL, &d), TC_EINVAL);
	for (const char *const *bad = (const char *const[]){ "", "x", "-1", "1.", ".1", "1.2.3", "1.2",
	                                                      "123456789012345678901", "1 ", "01",
	                                                      "18446744073709551616", NULL };
	     *bad; bad++) {
		fill(&w, "northbank", "0123456789abcdef", "stix", *bad);
		assert_int_equal(registry_webhook_add(f->r, &w, NULL, &d), TC_EINVAL);
	}
	assert_true(reg_webhook_pos_ok("0"));
	assert_true(reg_webhook_pos_ok("18446744073709551615"));
	int n = 0;
	assert_int_equal(registry_webhook_list(f->r, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(registry_org_delete(f->r, "northbank", NULL, NULL, &d), TC_OK);
	fill(&w, "northbank", "0123456789abcdef", "stix", "0");
	assert_int_equal(registry_webhook_add(f->r, &w, NULL, &d), TC_EINVAL);
}

static void
test_progress_replay_remove(void **state)
{
	struct fixture *f = *state;
	struct reg_webhook w, a, b;
	struct diag d;
	uint64_t g0, g1;

	fill(&w, "northbank", "0123456789abcdef", "stix", "10");
	assert_int_equal(registry_webhook_add(f->r, &w, &a, &d), TC_OK);

	/* the worker delivers up to 15.2 and fails the next batch into dead-letter */
	assert_int_equal(registry_webhook_generation(f->r, &g0, &d), TC_OK);
	snprintf(a.cursor, sizeof a.cursor, "%s", "152");
	snprintf(a.pending_end, sizeof a.pending_end, "%s", "20");
	a.state = REG_WEBHOOK_DEAD;
	a.attempts = 8;
	a.deliveries = 3;
	snprintf(a.last_error, sizeof a.last_error, "%s", "HTTP 500");
	a.last_delivery_us = 1234;
	assert_int_equal(registry_webhook_progress(f->r, &a, &d), TC_OK);
	assert_int_equal(registry_webhook_generation(f->r, &g1, &d), TC_OK);
	assert_int_equal(g1, g0); /* the daemon's own writes do not wake it up */
	assert_int_equal(registry_webhook_get(f->r, a.id, &b, &d), TC_OK);
	assert_string_equal(b.cursor, "152");
	assert_string_equal(b.pending_end, "20");
	assert_int_equal(b.state, REG_WEBHOOK_DEAD);
	assert_int_equal(b.attempts, 8);
	assert_int_equal(b.deliveries, 3);
	assert_string_equal(b.last_error, "HTTP 500");

	/* replay from its cursor: active again, pending batch and failures gone */
	struct reg_webhook c;
	assert_int_equal(registry_webhook_replay(f->r, a.id, NULL, &c, &d), TC_OK);
	assert_int_equal(c.state, REG_WEBHOOK_ACTIVE);
	assert_int_equal(c.attempts, 0);
	assert_string_equal(c.cursor, "152");
	assert_string_equal(c.pending_end, "");
	assert_string_equal(c.last_error, "");
	assert_true(c.revision > a.revision);
	assert_int_equal(registry_webhook_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0);

	/* a delivery that was in flight (read at the old revision) cannot
	 * write over the replay */
	snprintf(a.cursor, sizeof a.cursor, "%s", "99");
	assert_int_equal(registry_webhook_progress(f->r, &a, &d), TC_ENOTFOUND);
	assert_int_equal(registry_webhook_get(f->r, a.id, &b, &d), TC_OK);
	assert_string_equal(b.cursor, "152");

	/* replay from a position given */
	assert_int_equal(registry_webhook_replay(f->r, a.id, "3", &c, &d), TC_OK);
	assert_string_equal(c.cursor, "3");
	assert_int_equal(registry_webhook_replay(f->r, a.id, "three", NULL, &d), TC_EINVAL);
	assert_int_equal(registry_webhook_replay(f->r, "wnothere", NULL, NULL, &d), TC_ENOTFOUND);

	/* survives a reopen */
	registry_close(f->r);
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_webhook_get(f->r, a.id, &b, &d), TC_OK);
	assert_string_equal(b.cursor, "3");
	assert_memory_equal(b.secret, "0123456789abcdef", 16);

	assert_int_equal(registry_webhook_remove(f->r, a.id, &d), TC_OK);
	assert_int_equal(registry_webhook_remove(f->r, a.id, &d), TC_ENOTFOUND);
	assert_int_equal(registry_webhook_get(f->r, a.id, &b, &d), TC_ENOTFOUND);
	assert_int_equal(registry_webhook_progress(f->r, &c, &d), TC_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_progress_replay_remove, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
