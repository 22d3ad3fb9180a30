/*
 * api_tasks.h — the task inbox over HTTP (docs/coordination.md):
 *
 *   GET  /api/v1/tasks[?state=S&after=ID&limit=N]   tasks the caller sees
 *   GET  /api/v1/tasks/{id}                          one task and its events
 *   POST /api/v1/tasks                               assign (coordinator, admin)
 *   POST /api/v1/tasks/{id}/ack|done|decline         answer (the assignee)
 *
 * An organisation sees only tasks it is assigned, assigned itself, or was
 * escalated to; keys of role coordinator or admin see every task. A task
 * the caller may not see is answered 404 like one that does not exist.
 * Only the assignee's keys answer a task (roles reader, contributor,
 * coordinator, admin; agent and peer keys get 403). Bodies are JSON of at
 * most API_TASKS_BODY_MAX bytes.
 *
 * /metrics: per organisation the tasks by state, the overdue ones, and
 * the time to act (sums and counts of assigned -> acknowledged and
 * assigned -> closed), plus the coordination worker's counters.
 */
#ifndef TOCSIN_DAEMON_API_TASKS_H
#define TOCSIN_DAEMON_API_TASKS_H

#include <stdbool.h>

#include "api_match.h"
#include "app.h"
#include "registry/registry.h"
#include "util/buf.h"

#define API_TASKS_PATH "/api/v1/tasks"
#define API_TASKS_BODY_MAX (64 * 1024)
#define API_TASKS_PAGE_DEFAULT 100
#define API_TASKS_PAGE_MAX 1000
#define API_TASKS_METRICS_ORGS_MAX 10000

bool api_tasks_route(const char *url);

/* Answers one request from p (authenticated, or NULL) into rs. url is the
 * path, query the text after '?' ("" when none). */
void api_tasks_handle(struct app *a, const struct reg_snapshot *snap, const char *method,
                      const char *url, const char *query, struct slice body,
                      const struct reg_principal *p, struct api_response *rs);

/* Appends the time-to-act gauges and counters to out. */
void api_tasks_metrics(struct app *a, const struct reg_snapshot *snap, struct buf *out);

#endif
