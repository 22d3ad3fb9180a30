/*
 * api_match.h — the lookup API (docs/lookup.md):
 *
 *   POST /api/v1/match            body: a JSON array of strings
 *                                 (application/json) or one value a line
 *                                 (text/plain)
 *   GET  /api/v1/match?value=V    value repeatable up to API_MATCH_GET_MAX
 *   both: kind=KIND               every value as KIND instead of guessing
 *
 * The answer is {"results":[...]}, one result per value in the order
 * given. It shows only indicators the caller may see (policy_row through
 * hub_lookup_batch): the answer for a value is the same as if the
 * indicators it may not see did not exist. Limits ([match] max_values,
 * max_value_bytes, max_body) are refused with 413, bad input with 400,
 * each a JSON error resource.
 */
#ifndef TOCSIN_DAEMON_API_MATCH_H
#define TOCSIN_DAEMON_API_MATCH_H

#include <stdbool.h>

#include "app.h"
#include "policy/policy.h"
#include "util/buf.h"
#include "util/slice.h"

#define API_MATCH_PATH "/api/v1/match"
#define API_MATCH_GET_MAX 100      /* value= parameters of one GET */
#define API_MATCH_QUERY_PARAMS_MAX 128 /* parameters of one query string */

struct api_match_request {
	const char *method;
	struct slice query;            /* raw, after '?' */
	const char *content_type;      /* may be NULL */
	struct slice body;
	const struct policy_subject *who; /* the authenticated caller */
	struct store *store;           /* the request thread's own connection */
};

struct api_response {
	int status;
	const char *content_type;
	struct buf body;               /* the handler fills it; the caller sends and frees it */
};

/* true for the lookup API's path. */
bool api_match_path(const char *url);

/* Answers rq into rs (status, type, body). Never fails: errors are JSON
 * error resources in rs. Thread-safe: each request thread keeps its own
 * reusable memory. */
void api_match_handle(struct app *a, const struct api_match_request *rq, struct api_response *rs);

#endif
