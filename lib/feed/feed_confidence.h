/*
 * feed_confidence.h — an indicator's effective confidence (docs/sightings.md,
 * "Effective confidence"): what decisions and exports use instead of the
 * confidence the producer wrote, when [decisions] confidence_half_life
 * or sighting_boost is set.
 *
 *   raised    = base + sighting_boost * min(orgs, sighting_boost_orgs)
 *   age       = now - max(the version's modified, the last sighting)
 *   effective = min(100, raised) halved every confidence_half_life days
 *               of age (linear between halvings), rounded down
 *
 * orgs counts the organisations other than the producer that sighted the
 * indicator (independent sightings). An indicator without a confidence
 * (-1) keeps none. Both settings 0 (the default): effective = base.
 */
#ifndef TOCSIN_FEED_CONFIDENCE_H
#define TOCSIN_FEED_CONFIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct feed_conf_rule {
	unsigned half_life_days;   /* 0: no decay */
	unsigned sighting_boost;   /* points per sighting organisation; 0: none */
	unsigned boost_orgs;       /* at most this many organisations count */
};

/* Whether the rule changes anything (else effective = base, and the
 * store is not asked about sightings). */
bool feed_conf_rule_active(const struct feed_conf_rule *r);

/* The effective confidence (0..100, or -1 when base is -1) of an
 * indicator of confidence base, sighted by orgs other organisations last
 * at last_sighting_us (0: never), whose version was modified at
 * version_us (0: unknown), at now_us. */
int feed_conf_effective(const struct feed_conf_rule *r, int base, size_t orgs,
                        int64_t last_sighting_us, int64_t version_us, int64_t now_us);

#endif
