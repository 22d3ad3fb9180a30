/*
 * Unit tests of lib/registry's false-positive reports on a real
 * registry.db (registry_fp.c): one organisation does not hold, a second
 * one does, the same organisation twice counts once, a rejection
 * releases and only later reports count again, a confirmation holds for
 * good, the held list, refusals (bad id, long note, unknown organisation,
 * review of an unreported indicator), and the false-positive generation
 * moves.
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
#include "registry/registry_fp.h"

#define IND "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
#define IND2 "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"

struct fixture {
	char dir[256];
	struct registry *r;
	int64_t bank, bank2, telco;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag d;
	struct reg_org o;
	snprintf(f->dir, sizeof f->dir, "/tmp/tocsin-test-regfp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_org_add(f->r, "northbank", SECTOR_FINANCE, "NO", NULL, 0, &o, &d),
	                 TC_OK);
	f->bank = o.num;
	assert_int_equal(registry_org_add(f->r, "southbank", SECTOR_FINANCE, "SE", NULL, 0, &o, &d),
	                 TC_OK);
	f->bank2 = o.num;
	assert_int_equal(registry_org_add(f->r, "telenord", SECTOR_TELECOM, "NO", NULL, 0, &o, &d),
	                 TC_OK);
	f->telco = o.num;
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

static size_t
nheld(struct registry *r, const char *want, bool *found)
{
	char **ids;
	size_t n;
	struct diag d;
	assert_int_equal(registry_fp_held(r, &ids, &n, &d), TC_OK);
	*found = false;
	for (size_t i = 0; i < n; i++) {
		*found = *found || strcmp(ids[i], want) == 0;
		free(ids[i]);
	}
	free(ids);
	return n;
}

static void
test_two_organisations_hold_and_a_rejection_releases(void **state)
{
	struct fixture *f = *state;
	struct reg_fp_summary s;
	struct diag d;
	bool found;
	uint64_t g0, g1;
	assert_int_equal(registry_fp_generation(f->r, &g0, &d), TC_OK);
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, "gateway", 1000, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_OPEN);
	assert_int_equal(s.orgs, 1);
	assert_int_equal(nheld(f->r, IND, &found), 0);
	assert_int_equal(registry_fp_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0);
	/* the same organisation again: still one */
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, "again", 1100, &s, &d), TC_OK);
	assert_int_equal(s.orgs, 1);
	assert_int_equal(s.state, REG_FP_OPEN);
	assert_int_equal(registry_fp_report(f->r, IND, f->bank2, NULL, 1200, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_HELD);
	assert_true(reg_fp_state_holds(s.state));
	assert_int_equal(nheld(f->r, IND, &found), 1);
	assert_true(found);

	assert_int_equal(registry_fp_review(f->r, IND, false, "a real C2", 1300, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_REJECTED);
	assert_int_equal(s.orgs, 0);
	assert_string_equal(s.review_note, "a real C2");
	assert_int_equal(nheld(f->r, IND, &found), 0);
	/* a report after the rejection counts; two hold again */
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, NULL, 1400, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_REJECTED);
	assert_int_equal(s.orgs, 1);
	assert_int_equal(registry_fp_report(f->r, IND, f->telco, NULL, 1500, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_HELD);
	assert_int_equal(s.reports, 3);
}

static void
test_confirmed_holds_for_good(void **state)
{
	struct fixture *f = *state;
	struct reg_fp_summary s;
	struct diag d;
	bool found;
	assert_int_equal(registry_fp_report(f->r, IND2, f->bank, NULL, 1000, &s, &d), TC_OK);
	assert_int_equal(registry_fp_review(f->r, IND2, true, NULL, 1100, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_CONFIRMED);
	assert_int_equal(nheld(f->r, IND2, &found), 1);
	assert_true(found);
	assert_int_equal(registry_fp_summary(f->r, IND2, &s, &d), TC_OK);
	assert_int_equal(s.state, REG_FP_CONFIRMED);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	struct reg_fp_summary s;
	struct diag d;
	char note[REG_FP_NOTE_MAX + 2];
	memset(note, 'x', sizeof note - 1);
	note[sizeof note - 1] = '\0';
	assert_int_equal(registry_fp_report(f->r, "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
	                                    f->bank, NULL, 1, &s, &d),
	                 TC_EINVAL);
	assert_int_equal(registry_fp_report(f->r, "indicator--nope", f->bank, NULL, 1, &s, &d),
	                 TC_EINVAL);
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, note, 1, &s, &d), TC_EINVAL);
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, "a\x01", 1, &s, &d), TC_EINVAL);
	assert_int_equal(registry_fp_report(f->r, IND, 9999, NULL, 1, &s, &d), TC_ENOTFOUND);
	assert_int_equal(registry_fp_review(f->r, IND, true, NULL, 1, &s, &d), TC_ENOTFOUND);
	assert_int_equal(registry_fp_summary(f->r, IND, &s, &d), TC_ENOTFOUND);
}

static enum tcerr
count_cb(void *ctx, const struct reg_fp_summary *s)
{
	(void)s;
	(*(size_t *)ctx)++;
	return TC_OK;
}

static enum tcerr
report_cb(void *ctx, const struct reg_fp_report *p)
{
	assert_string_equal(p->org_name, (*(size_t *)ctx)++ == 0 ? "northbank" : "southbank");
	assert_int_equal(p->sector, SECTOR_FINANCE);
	return TC_OK;
}

static void
test_list_and_reports(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	size_t n = 0;
	assert_int_equal(registry_fp_report(f->r, IND, f->bank, "a", 10, NULL, &d), TC_OK);
	assert_int_equal(registry_fp_report(f->r, IND, f->bank2, "b", 20, NULL, &d), TC_OK);
	assert_int_equal(registry_fp_report(f->r, IND2, f->bank, "c", 30, NULL, &d), TC_OK);
	assert_int_equal(registry_fp_list(f->r, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(registry_fp_reports(f->r, IND, report_cb, &n, &d), TC_OK);
	assert_int_equal(n, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_organisations_hold_and_a_rejection_releases,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirmed_holds_for_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_reports, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
