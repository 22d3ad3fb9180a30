/*
 * Unit tests of lib/registry's agent receipts on a real registry.db: a
 * receipt's position only grows (a late receipt never moves an agent
 * back; an equal one refreshes its times), keys keep their own, the walk
 * lists them by key id and only them (not the bouncer cursors beside
 * them), a malformed key id is refused, and receipts persist across a
 * reopen.
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

struct seen {
	char keys[4][32];
	struct reg_agent_receipt rc[4];
	int n;
};

static enum tcerr
rec(void *ctx, const char *key_id, const struct reg_agent_receipt *rc)
{
	struct seen *s = ctx;
	if (s->n < 4) {
		snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key_id);
		s->rc[s->n] = *rc;
	}
	s->n++;
	return TC_OK;
}

static void
test_receipts(void **state)
{
	(void)state;
	char dir[] = "/tmp/tocsin-test-regagent-XXXXXX";
	char cmd[128];
	struct registry *r;
	struct diag d;
	struct seen s;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	struct reg_agent_receipt a = { 40, 1000, 1001 }, late = { 9, 5000, 5001 },
	                         again = { 40, 2000, 2001 }, b = { 7, 1, 2 };
	assert_int_equal(registry_agent_receipt_put(r, "kagent1", &a, &d), TC_OK);
	assert_int_equal(registry_agent_receipt_put(r, "kagent1", &late, &d), TC_OK);
	assert_int_equal(registry_agent_receipt_put(r, "kagent2", &b, &d), TC_OK);
	assert_int_equal(registry_bouncer_cursor_advance(r, "kbouncer", 99, &d), TC_OK);
	memset(&s, 0, sizeof s);
	assert_int_equal(registry_agent_receipts(r, 100, rec, &s, &d), TC_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "kagent1");
	assert_int_equal(s.rc[0].position, 40); /* 9 < 40: not moved back */
	assert_int_equal(s.rc[0].applied_us, 1000);
	assert_string_equal(s.keys[1], "kagent2");
	assert_int_equal(s.rc[1].position, 7);
	/* the same position again refreshes the times */
	assert_int_equal(registry_agent_receipt_put(r, "kagent1", &again, &d), TC_OK);
	assert_int_equal(registry_agent_receipt_put(r, "K' OR 1", &a, &d), TC_EINVAL);
	assert_int_equal(registry_agent_receipt_put(r, "", &a, &d), TC_EINVAL);
	struct reg_agent_receipt huge = { UINT64_MAX, 0, 0 };
	assert_int_equal(registry_agent_receipt_put(r, "kagent1", &huge, &d), TC_EINVAL);
	/* max bounds the walk */
	memset(&s, 0, sizeof s);
	assert_int_equal(registry_agent_receipts(r, 1, rec, &s, &d), TC_OK);
	assert_int_equal(s.n, 1);
	registry_close(r);

	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	memset(&s, 0, sizeof s);
	assert_int_equal(registry_agent_receipts(r, 100, rec, &s, &d), TC_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rc[0].position, 40);
	assert_int_equal(s.rc[0].applied_us, 2000);
	assert_int_equal(s.rc[0].received_us, 2001);
	registry_close(r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receipts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
