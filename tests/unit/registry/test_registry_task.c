/*
 * Unit tests of lib/registry's tasks and constituencies on a real
 * registry.db: the state machine (assigned -> acknowledged -> done, a
 * decline needs a note, final states stay final, only the assignee moves
 * a task), a sector assignment makes one task per organisation of the
 * sector and is idempotent under a de-duplication key, each organisation
 * lists only its tasks, escalation goes to the assigning organisation and
 * then to the sector's lead, time-to-act sums, and constituency overlaps
 * are refused naming the other organisation.
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

#define S 1000000LL

static void
test_state_machine(void **state)
{
	(void)state;
	struct diag d;
	assert_int_equal(reg_task_transition(REG_TASK_ASSIGNED, REG_TASK_ACKNOWLEDGED, &d), TC_OK);
	assert_int_equal(reg_task_transition(REG_TASK_ASSIGNED, REG_TASK_DONE, &d), TC_OK);
	assert_int_equal(reg_task_transition(REG_TASK_ACKNOWLEDGED, REG_TASK_DECLINED, &d), TC_OK);
	assert_int_equal(reg_task_transition(REG_TASK_ACKNOWLEDGED, REG_TASK_ACKNOWLEDGED, &d),
	                 TC_EINVAL);
	assert_int_equal(reg_task_transition(REG_TASK_DONE, REG_TASK_DECLINED, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "already done"));
	assert_int_equal(reg_task_transition(REG_TASK_DECLINED, REG_TASK_DONE, &d), TC_EINVAL);
	assert_int_equal(reg_task_transition(REG_TASK_ACKNOWLEDGED, REG_TASK_ASSIGNED, &d),
	                 TC_EINVAL);
	assert_int_equal(reg_task_action_check("suspend-number", &d), TC_OK);
	assert_int_equal(reg_task_action_check("nuke", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "takedown"));
}

struct got {
	int64_t nums[16];
	int64_t orgs[16];
	int n;
};

static enum tcerr
got_cb(void *ctx, const struct reg_task *t)
{
	struct got *g = ctx;
	if (g->n < 16) {
		g->nums[g->n] = t->num;
		g->orgs[g->n] = t->org;
	}
	g->n++;
	return TC_OK;
}

static struct reg_task
task(const char *action, int64_t coordinator, int64_t deadline_us)
{
	struct reg_task t;
	memset(&t, 0, sizeof t);
	snprintf(t.action, sizeof t.action, "%s", action);
	snprintf(t.source, sizeof t.source, "manual");
	snprintf(t.observables, sizeof t.observables,
	         "[{\"kind\":\"phone\",\"value\":\"+79991234567\"}]");
	snprintf(t.note, sizeof t.note, "scam calls");
	t.coordinator = coordinator;
	t.deadline_us = deadline_us;
	return t;
}

static struct reg_task_stats stats_of[8];
static enum tcerr
stats_cb(void *ctx, const struct reg_task_stats *s)
{
	(void)ctx;
	if (s->org >= 0 && s->org < 8)
		stats_of[s->org] = *s;
	return TC_OK;
}

static void
test_tasks(void **state)
{
	(void)state;
	char dir[] = "/tmp/tocsin-test-regtask-XXXXXX";
	char cmd[128];
	struct registry *r;
	struct diag d;
	struct reg_org cert, tel1, tel2, bank;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	assert_int_equal(registry_org_add(r, "CERT", SECTOR_CERT, "RU", NULL, 0, &cert, &d), TC_OK);
	assert_int_equal(registry_org_add(r, "Tel One", SECTOR_TELECOM, "RU", NULL, 0, &tel1, &d),
	                 TC_OK);
	assert_int_equal(registry_org_add(r, "Tel Two", SECTOR_TELECOM, "RU", NULL, 0, &tel2, &d),
	                 TC_OK);
	assert_int_equal(registry_org_add(r, "Bank", SECTOR_FINANCE, "RU", NULL, 0, &bank, &d),
	                 TC_OK);
	int64_t now = 1000 * S;
	struct reg_task t = task("suspend-number", cert.num, now + 60 * S);
	struct got g = { 0 };
	size_t made = 0;
	assert_int_equal(registry_task_assign(r, &t, NULL, SECTOR_TELECOM, "k1", now, got_cb, &g,
	                                      &made, &d),
	                 TC_OK);
	assert_int_equal(made, 2);
	assert_int_equal(g.orgs[0], tel1.num);
	assert_int_equal(g.orgs[1], tel2.num);
	/* idempotent under the key */
	assert_int_equal(registry_task_assign(r, &t, NULL, SECTOR_TELECOM, "k1", now, NULL, NULL,
	                                      &made, &d),
	                 TC_OK);
	assert_int_equal(made, 0);
	/* a deadline in the past, a sector without organisations */
	struct reg_task late = task("block", cert.num, now - 1);
	assert_int_equal(registry_task_assign(r, &late, "Bank", 0, NULL, now, NULL, NULL, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(registry_task_assign(r, &t, NULL, SECTOR_GOVERNMENT, NULL, now, NULL, NULL,
	                                      NULL, &d),
	                 TC_EINVAL);

	/* each sees only its own; the coordinator sees both */
	struct got l1 = { 0 }, lc = { 0 }, lb = { 0 };
	assert_int_equal(registry_task_list(r, tel1.num, 0, 0, 100, got_cb, &l1, &d), TC_OK);
	assert_int_equal(l1.n, 1);
	assert_int_equal(l1.nums[0], g.nums[0]);
	assert_int_equal(registry_task_list(r, cert.num, 0, 0, 100, got_cb, &lc, &d), TC_OK);
	assert_int_equal(lc.n, 2);
	assert_int_equal(registry_task_list(r, bank.num, 0, 0, 100, got_cb, &lb, &d), TC_OK);
	assert_int_equal(lb.n, 0);

	/* only the assignee moves it; ack, then done */
	struct reg_task out;
	assert_int_equal(registry_task_update(r, g.nums[0], tel2.num, REG_TASK_ACKNOWLEDGED, NULL,
	                                      now + S, &out, &d),
	                 TC_ENOTFOUND);
	assert_int_equal(registry_task_update(r, g.nums[0], tel1.num, REG_TASK_ACKNOWLEDGED, NULL,
	                                      now + 2 * S, &out, &d),
	                 TC_OK);
	assert_int_equal(out.state, REG_TASK_ACKNOWLEDGED);
	assert_int_equal(out.acked_us, now + 2 * S);
	assert_int_equal(registry_task_update(r, g.nums[0], tel1.num, REG_TASK_DONE, "suspended",
	                                      now + 10 * S, &out, &d),
	                 TC_OK);
	assert_int_equal(out.state, REG_TASK_DONE);
	assert_string_equal(out.reply, "suspended");
	assert_int_equal(registry_task_update(r, g.nums[0], tel1.num, REG_TASK_DECLINED, "x",
	                                      now + 11 * S, &out, &d),
	                 TC_EINVAL);
	/* a decline needs a note */
	assert_int_equal(registry_task_update(r, g.nums[1], tel2.num, REG_TASK_DECLINED, "",
	                                      now + S, &out, &d),
	                 TC_EINVAL);

	/* escalation: overdue -> the coordinator (level 1), then the lead */
	size_t steps = 0;
	assert_int_equal(registry_task_escalate(r, now + 30 * S, 60 * S, 100, &steps, &d), TC_OK);
	assert_int_equal(steps, 0);
	assert_int_equal(registry_task_escalate(r, now + 61 * S, 60 * S, 100, &steps, &d), TC_OK);
	assert_int_equal(steps, 1);
	assert_int_equal(registry_task_get(r, g.nums[1], &out, &d), TC_OK);
	assert_int_equal(out.escalation, 1);
	assert_int_equal(out.escalated_org, cert.num);
	/* no lead yet: stays at level 1 */
	assert_int_equal(registry_task_escalate(r, now + 200 * S, 60 * S, 100, &steps, &d), TC_OK);
	assert_int_equal(steps, 0);
	assert_int_equal(registry_sector_lead_set(r, SECTOR_TELECOM, "Tel One", &d), TC_OK);
	assert_int_equal(registry_task_escalate(r, now + 200 * S, 60 * S, 100, &steps, &d), TC_OK);
	assert_int_equal(steps, 1);
	assert_int_equal(registry_task_get(r, g.nums[1], &out, &d), TC_OK);
	assert_int_equal(out.escalation, 2);
	assert_int_equal(out.escalated_org, tel1.num);
	/* now the lead sees Tel Two's task too */
	struct got l1b = { 0 };
	assert_int_equal(registry_task_list(r, tel1.num, 0, 0, 100, got_cb, &l1b, &d), TC_OK);
	assert_int_equal(l1b.n, 2);

	/* time to act */
	memset(stats_of, 0, sizeof stats_of);
	assert_int_equal(registry_task_stats(r, now + 200 * S, stats_cb, NULL, &d), TC_OK);
	assert_int_equal(stats_of[tel1.num].done, 1);
	assert_int_equal(stats_of[tel1.num].n_acked, 1);
	assert_int_equal(stats_of[tel1.num].ack_us_sum, 2 * S);
	assert_int_equal(stats_of[tel1.num].close_us_sum, 10 * S);
	assert_int_equal(stats_of[tel2.num].assigned, 1);
	assert_int_equal(stats_of[tel2.num].overdue, 1);

	registry_close(r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_constituency(void **state)
{
	(void)state;
	char dir[] = "/tmp/tocsin-test-regconst-XXXXXX";
	char cmd[128];
	struct registry *r;
	struct diag d;
	struct reg_const c;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	assert_int_equal(registry_org_add(r, "Tel One", SECTOR_TELECOM, "RU", NULL, 0, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_org_add(r, "Tel Two", SECTOR_TELECOM, "RU", NULL, 0, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel One", "192.0.2.0/24", &c, &d), TC_OK);
	assert_int_equal(c.kind, REG_CONST_NET);
	assert_int_equal(registry_constituency_add(r, "Tel One", "192.0.2.128/25", NULL, &d), TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "192.0.2.64/26", NULL, &d),
	                 TC_EEXIST);
	assert_non_null(strstr(d.msg, "Tel One"));
	assert_int_equal(registry_constituency_add(r, "Tel Two", "192.0.0.0/16", NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "198.51.100.0/24", NULL, &d), TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "192.0.2.1/24", NULL, &d), TC_EINVAL);
	assert_int_equal(registry_constituency_add(r, "Tel One", "as64500", &c, &d), TC_OK);
	assert_string_equal(c.value, "AS64500");
	assert_int_equal(registry_constituency_add(r, "Tel Two", "AS64500", NULL, &d), TC_EEXIST);
	assert_int_equal(registry_constituency_add(r, "Tel One", "Example.RU", &c, &d), TC_OK);
	assert_string_equal(c.value, "example.ru");
	assert_int_equal(registry_constituency_add(r, "Tel Two", "shop.example.ru", NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "notexample.ru", NULL, &d), TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "2001:db8::/32", NULL, &d), TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel One", "2001:db8:1::/48", NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(registry_constituency_remove(r, "Tel Two", "example.ru", &d), TC_ENOTFOUND);
	assert_int_equal(registry_constituency_remove(r, "Tel One", "example.ru", &d), TC_OK);
	assert_int_equal(registry_constituency_add(r, "Tel Two", "shop.example.ru", NULL, &d), TC_OK);
	registry_close(r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_constituency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
