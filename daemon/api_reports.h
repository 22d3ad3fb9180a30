/*
 * api_reports.h — citizen reports in tocsind (docs/reports.md):
 *
 *   GET  /report                      the public form (HTML + CSS, no script,
 *                                     Russian and English)
 *   GET  /report/style.css            its style sheet
 *   POST /report                      the form (x-www-form-urlencoded)
 *   GET  /report/status/RECEIPT       one report's state (HTML)
 *   POST /api/v1/reports              a report from an app (JSON)
 *   GET  /api/v1/reports/status/RECEIPT  one report's state (JSON)
 *   GET  /api/v1/reports/triage       the triage queue   (coordinator, admin)
 *   GET  /api/v1/reports/triage/ID    one group           (coordinator, admin)
 *   POST /api/v1/reports/triage/ID/confirm|reject         (coordinator, admin)
 *
 * No login for the public routes: every one of them is limited per client
 * address (lib/report/report_rate.h) and in size ([reports] max_body, read
 * without authentication, unlike any other body). A confirmed group — or
 * an open one with [reports] promote_threshold independent reporters —
 * becomes an indicator of the hub-owned organisation "citizen reports",
 * published through the hub's writer like any other object
 * (reports_promote_due). Contact details never leave DATA/reports.db
 * through any route here: the triage shows only whether one was given.
 *
 * Hook for later work (routing rules, tasks): reports_set_hook() names a
 * function called after each promotion with the group and the indicator
 * id, on the promoting thread.
 */
#ifndef TOCSIN_DAEMON_API_REPORTS_H
#define TOCSIN_DAEMON_API_REPORTS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "hub/hub.h"
#include "registry/registry.h"
#include "report/report_db.h"
#include "util/buf.h"

#define REPORTS_ORG_NAME "citizen reports"
#define REPORTS_PROMOTE_BATCH 64        /* groups promoted per pass */
#define REPORTS_PROMOTE_POLL_MS 1000    /* the promoter looks for CLI confirmations */
#define REPORTS_TRIAGE_DEFAULT 100      /* groups listed by default */
#define REPORTS_TRIAGE_REPORTS 100      /* reports shown with one group */
#define REPORTS_RETRY_AFTER "60"

struct reports;

/* Makes sure the organisation "citizen reports" exists in the registry
 * (sector government, [reports] country); done at the first promotion.
 * Errors: those of registry_org_add, TC_EINVAL (country). */
enum tcerr reports_org_ensure(struct registry *reg, const struct conf *c, struct diag *d);

/* Opens DATA/reports.db and the rate table; a->reports is set. Call before
 * http_start. Errors: TC_EDB, TC_ENOMEM, TC_EINVAL. */
enum tcerr reports_open(struct app *a, struct diag *d);
/* Starts the promoter thread (after the writer). Errors: TC_EIO. */
enum tcerr reports_start(struct app *a, struct diag *d);
/* Stops the promoter (before the writer stops) and closes everything. */
void reports_close(struct app *a);

/* Called after a group became indicator_id (on the promoting thread). */
typedef void (*reports_hook)(void *ctx, const struct report_group *g, const char *indicator_id);
void reports_set_hook(struct app *a, reports_hook hook, void *ctx);

/* Promotes every group due (confirmed, or over the threshold), through the
 * writer. Returns how many were promoted. Thread-safe (serialised). */
size_t reports_promote_due(struct app *a);

/* true for every path this file serves. */
bool api_reports_route(const char *url);
/* true when a body to url may be read without authentication (the public
 * POSTs); its limit is reports_max_body(). */
bool api_reports_public_body(const struct app *a, const char *url, const char *method);
size_t api_reports_max_body(const struct app *a);
/* How much of a request path (len bytes) the access log may show: a
 * status path up to its receipt's place, any other path whole. */
size_t api_reports_log_len(const char *path, size_t len);
/* Counts a public POST refused for size before it reached the handler. */
void api_reports_refused_size(void);

struct api_reports_req {
	struct app *a;
	const char *method;
	const char *url;                  /* decoded path */
	const char *raw_uri;              /* with the query */
	struct slice body;
	uint8_t client[16];               /* the peer address (IPv4-mapped or IPv6) */
	bool have_client;
	const struct reg_snapshot *snap;
	const struct reg_principal *who;  /* NULL: anonymous */
	bool auth_bad;                    /* credentials given and refused */
	const char *auth_why;
	struct store *store;              /* the request thread's own connection */
};

/* Answers rq on con. OUT: *status, *bytes (for the access log). */
enum MHD_Result api_reports_serve(struct MHD_Connection *con, const struct api_reports_req *rq,
                                  int *status, size_t *bytes);

/* The reports' lines of /metrics. */
void api_reports_metrics(struct app *a, struct buf *out);

#endif
