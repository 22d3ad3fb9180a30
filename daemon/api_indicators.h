/*
 * api_indicators.h — feedback on indicators (docs/sightings.md):
 *
 *   POST /api/v1/indicators/{id}/false-positive   body {"note": "..."} (optional)
 *   GET  /api/v1/indicators/{id}/feedback         the producer's view of the reports
 *   GET  /api/v1/indicators/{id}/sightings        sightings by sector and time window
 *
 * Every route first asks policy_row whether the caller may read a current
 * version of the indicator: if not, 404, the same answer as for an id that
 * does not exist. Errors are JSON error resources.
 */
#ifndef TOCSIN_DAEMON_API_INDICATORS_H
#define TOCSIN_DAEMON_API_INDICATORS_H

#include <stdbool.h>

#include "api_match.h"
#include "app.h"
#include "policy/policy.h"
#include "store/store.h"

#define API_INDICATORS_PREFIX "/api/v1/indicators/"
/* sighting versions one /sightings request reads before it stops (the
 * answer then says "truncated": true) */
#define API_SIGHTINGS_SCAN_MAX 200000
#define API_FP_BODY_MAX 4096       /* bytes of a false-positive report's body */

/* true for a path under API_INDICATORS_PREFIX. */
bool api_indicators_route(const char *url);

/* Answers one request into rs. who is the authenticated caller (never
 * NULL); store the request thread's connection. */
void api_indicators_handle(struct app *a, struct store *store, const struct policy_subject *who,
                           const char *method, const char *url, struct slice body,
                           struct api_response *rs);

/* Reads the held indicators from the registry into the hub
 * (hub_holds_set); logs and keeps the old set on error. Any thread. */
void api_indicators_reload_holds(struct app *a);

#endif
