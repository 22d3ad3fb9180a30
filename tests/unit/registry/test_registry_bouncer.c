/*
 * Unit tests of lib/registry's bouncer cursors on a real registry.db: a
 * key that never polled has none, a cursor only moves forward (a late
 * write from an older poll never moves a bouncer back), keys do not share
 * cursors, a malformed key id is refused, and cursors persist across a
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

static void
test_cursor(void **state)
{
	(void)state;
	char dir[] = "/tmp/tocsin-test-regbnc-XXXXXX";
	char cmd[128];
	struct registry *r;
	struct diag d;
	uint64_t seq;
	bool found;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	assert_int_equal(registry_bouncer_cursor_get(r, "kabc234", &seq, &found, &d), TC_OK);
	assert_false(found);
	assert_int_equal(seq, 0);
	assert_int_equal(registry_bouncer_cursor_advance(r, "kabc234", 40, &d), TC_OK);
	assert_int_equal(registry_bouncer_cursor_get(r, "kabc234", &seq, &found, &d), TC_OK);
	assert_true(found);
	assert_int_equal(seq, 40);
	/* forward only: 9 < 40 although "9" > "40" as text */
	assert_int_equal(registry_bouncer_cursor_advance(r, "kabc234", 9, &d), TC_OK);
	assert_int_equal(registry_bouncer_cursor_get(r, "kabc234", &seq, &found, &d), TC_OK);
	assert_int_equal(seq, 40);
	assert_int_equal(registry_bouncer_cursor_advance(r, "kabc234", 1000, &d), TC_OK);
	/* another key has its own */
	assert_int_equal(registry_bouncer_cursor_get(r, "kother22", &seq, &found, &d), TC_OK);
	assert_false(found);
	assert_int_equal(registry_bouncer_cursor_advance(r, "KABC234", 1, &d), TC_EINVAL);
	assert_int_equal(registry_bouncer_cursor_advance(r, "k' OR 1", 1, &d), TC_EINVAL);
	assert_int_equal(registry_bouncer_cursor_get(r, "", &seq, &found, &d), TC_EINVAL);
	assert_int_equal(registry_bouncer_cursor_advance(r, "kabc234", UINT64_MAX, &d), TC_EINVAL);
	registry_close(r);

	assert_int_equal(registry_open(dir, &r, &d), TC_OK);
	assert_int_equal(registry_bouncer_cursor_get(r, "kabc234", &seq, &found, &d), TC_OK);
	assert_true(found);
	assert_int_equal(seq, 1000);
	registry_close(r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
