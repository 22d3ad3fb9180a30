/*
 * feed_confidence.c — the effective confidence rule (feed_confidence.h).
 * Integer arithmetic only: whole halvings by shifting, the rest of a
 * half-life linearly, so the rule is the same on every machine.
 */
#include "feed/feed_confidence.h"

#define US_PER_DAY (86400LL * 1000000LL)

bool
feed_conf_rule_active(const struct feed_conf_rule *r)
{
	return r && (r->half_life_days || r->sighting_boost);
}

int
feed_conf_effective(const struct feed_conf_rule *r, int base, size_t orgs,
                    int64_t last_sighting_us, int64_t version_us, int64_t now_us)
{
	if (base < 0 || !feed_conf_rule_active(r))
		return base;
	int64_t v = base;
	size_t n = orgs < r->boost_orgs ? orgs : r->boost_orgs;
	v += (int64_t)r->sighting_boost * (int64_t)n;
	if (v > 100)
		v = 100;
	int64_t since = last_sighting_us > version_us ? last_sighting_us : version_us;
	if (r->half_life_days && since > 0 && now_us > since) {
		int64_t hl = (int64_t)r->half_life_days * US_PER_DAY;
		int64_t age = now_us - since;
		int64_t k = age / hl, rem = age % hl;
		if (k >= 8) /* 100 >> 7 == 0 */
			return 0;
		int64_t hi = (v * 1000) >> k, lo = hi >> 1; /* in thousandths */
		v = (hi - (hi - lo) * rem / hl) / 1000;
	}
	return (int)v;
}
