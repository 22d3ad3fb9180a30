/*
 * api_agents.h — tocsin-agent receipts (docs/agent.md):
 *
 *   POST /api/v1/agents/receipt   body {"position":"P","applied_at":"T"}
 *
 * A key of role agent reports that its enforcement point applied every
 * decision up to log position P at time T (RFC 3339). The hub stores it
 * per key (registry_agent_receipt_put: a position only grows) and answers
 * {"position":"P","log_position":"L","lag":L-P}. A position beyond the
 * hub's log is refused (400): an agent cannot claim what was never sent.
 * Other roles get 403; a body over API_AGENTS_BODY_MAX is 413.
 *
 * /metrics shows per agent key tocsin_agent_applied_position,
 * tocsin_agent_lag_positions and tocsin_agent_lag_seconds (0 when the
 * agent has applied the whole log, else the seconds since its receipt).
 */
#ifndef TOCSIN_DAEMON_API_AGENTS_H
#define TOCSIN_DAEMON_API_AGENTS_H

#include <stdbool.h>

#include "api_match.h"
#include "app.h"
#include "registry/registry.h"
#include "util/buf.h"

#define API_AGENTS_RECEIPT_PATH "/api/v1/agents/receipt"
#define API_AGENTS_BODY_MAX 4096       /* bytes of a receipt */
#define API_AGENTS_METRICS_MAX 10000   /* agent keys listed in /metrics */

bool api_agents_route(const char *url);

/* Answers one receipt from p (authenticated, or NULL) into rs. */
void api_agents_handle(struct app *a, const char *method, struct slice body,
                       const struct reg_principal *p, uint64_t log_pos, struct api_response *rs);

/* Appends the per-agent gauges to out. */
void api_agents_metrics(struct app *a, const struct reg_snapshot *snap, uint64_t log_pos,
                        struct buf *out);

#endif
