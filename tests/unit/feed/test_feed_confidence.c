/*
 * Unit tests of the effective confidence rule (lib/feed/feed_confidence.c,
 * docs/sightings.md): off by default, the boost per sighting organisation
 * and its cap, the cap at 100, halving per half-life with linear steps
 * between, age from the later of the version and the last sighting, no
 * confidence stays none, a future basis does not raise it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "feed/feed_confidence.h"

#define DAY (86400LL * 1000000LL)
#define NOW (20000LL * DAY)

static const struct feed_conf_rule rule = { .half_life_days = 30, .sighting_boost = 10,
	                                    .boost_orgs = 3 };

static void
test_off_is_identity(void **state)
{
	(void)state;
	struct feed_conf_rule off = { 0 };
	assert_false(feed_conf_rule_active(&off));
	assert_false(feed_conf_rule_active(NULL));
	assert_int_equal(feed_conf_effective(&off, 55, 5, NOW, NOW - 400 * DAY, NOW), 55);
	assert_int_equal(feed_conf_effective(NULL, 55, 5, 0, 0, NOW), 55);
}

static void
test_sightings_raise_up_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(feed_conf_effective(&rule, 50, 0, 0, NOW, NOW), 50);
	assert_int_equal(feed_conf_effective(&rule, 50, 1, NOW, NOW, NOW), 60);
	assert_int_equal(feed_conf_effective(&rule, 50, 3, NOW, NOW, NOW), 80);
	/* only boost_orgs organisations count */
	assert_int_equal(feed_conf_effective(&rule, 50, 9, NOW, NOW, NOW), 80);
	/* never above 100 */
	assert_int_equal(feed_conf_effective(&rule, 95, 3, NOW, NOW, NOW), 100);
}

static void
test_age_halves_per_half_life(void **state)
{
	(void)state;
	assert_int_equal(feed_conf_effective(&rule, 80, 0, 0, NOW - 30 * DAY, NOW), 40);
	assert_int_equal(feed_conf_effective(&rule, 80, 0, 0, NOW - 60 * DAY, NOW), 20);
	/* halfway through a half-life: linear between 80 and 40 */
	assert_int_equal(feed_conf_effective(&rule, 80, 0, 0, NOW - 15 * DAY, NOW), 60);
	/* long ago: nothing left */
	assert_int_equal(feed_conf_effective(&rule, 100, 0, 0, NOW - 3000 * DAY, NOW), 0);
	/* a basis in the future does not raise it */
	assert_int_equal(feed_conf_effective(&rule, 80, 0, 0, NOW + DAY, NOW), 80);
	/* unknown basis: no decay */
	assert_int_equal(feed_conf_effective(&rule, 80, 0, 0, 0, NOW), 80);
}

static void
test_a_sighting_resets_the_age(void **state)
{
	(void)state;
	/* the version is two half-lives old; a sighting a half-life ago */
	assert_int_equal(feed_conf_effective(&rule, 70, 1, NOW - 30 * DAY, NOW - 60 * DAY, NOW),
	                 40);
	/* a sighting today: raised and fresh */
	assert_int_equal(feed_conf_effective(&rule, 70, 1, NOW, NOW - 60 * DAY, NOW), 80);
}

static void
test_no_confidence_stays_none(void **state)
{
	(void)state;
	assert_int_equal(feed_conf_effective(&rule, -1, 3, NOW, NOW, NOW), -1);
	assert_int_equal(feed_conf_effective(&rule, 0, 0, 0, NOW - 30 * DAY, NOW), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_is_identity),
		cmocka_unit_test(test_sightings_raise_up_to_the_cap),
		cmocka_unit_test(test_age_halves_per_half_life),
		cmocka_unit_test(test_a_sighting_resets_the_age),
		cmocka_unit_test(test_no_confidence_stays_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
