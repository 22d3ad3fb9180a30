/*
 * api_export.h — GET /api/v1/export/{format}[/{part}]: the hub's current
 * decisions (or, for stix and csv, its current objects) in a format an
 * enforcement point loads, as the authenticated principal may see them.
 *
 * Formats and parts: plain, csv, stix, rpz, nft, ipset,
 * suricata-dataset/{domains,urls,md5,sha256,ip},
 * suricata-iprep/{categories,reputation}, zeek,
 * misp-feed/{manifest.json,hashes.csv,<event uuid>.json}.
 * Query: collection, kind (repeatable), min_confidence, tlp (the feed
 * filter); plain: offset, limit, max, strip_scheme; rpz: zone, action
 * (nxdomain|nodata|cname), cname; nft and ipset: name. stix and csv take
 * collection and kind only.
 *
 * Cheap re-polling: the ETag names the log position, the registry
 * generation, the allowlist in force, the principal, the path and the
 * query; If-None-Match with it answers 304 before anything is read.
 * Memory: the export is written to an unlinked temporary file in the data
 * directory (at most API_EXPORT_MAX_BYTES), then sent from it, so the
 * daemon's memory does not grow with the export.
 * At most API_EXPORT_MAX_RUNNING exports are computed at once (a 304 is
 * not one): each holds a request thread for up to seconds at 1M decisions,
 * and the others stay for TAXII; one more is answered 503 with
 * Retry-After.
 * Headers: X-Tocsin-Position (the log position), X-Tocsin-Left-Out (what
 * the format could not carry, per reason: "kind=3 allowlisted=1 (url=3)"),
 * X-Tocsin-Total (plain: values in the list, for paging).
 */
#ifndef TOCSIN_DAEMON_API_EXPORT_H
#define TOCSIN_DAEMON_API_EXPORT_H

#include <microhttpd.h>
#include <stdint.h>

#include "app.h"
#include "policy/policy.h"
#include "store/store.h"

#define API_EXPORT_PREFIX "/api/v1/export/"
#define API_EXPORT_MAX_BYTES ((int64_t)4 << 30) /* one export's temporary file */
#define API_EXPORT_MAX_RUNNING 4  /* exports computed at once; more: 503, Retry-After */
#define API_EXPORT_RETRY_AFTER "5"

struct api_export_req {
	struct app *app;
	struct store *store;                  /* the request thread's */
	const struct reg_snapshot *snap;
	uint64_t snap_gen;
	const struct policy_subject *who;     /* the authenticated principal's */
	const char *method;                   /* GET or HEAD */
	const char *path;                     /* decoded, starts with API_EXPORT_PREFIX */
	const char *query;                    /* raw, without '?'; "" when none */
	const char *if_none_match;            /* header, or NULL */
};

/* Answers the request on con (queues the response). OUT: *status, *bytes
 * (for the access log). */
enum MHD_Result api_export_serve(struct MHD_Connection *con, const struct api_export_req *rq,
                                 int *status, size_t *bytes);

#endif
