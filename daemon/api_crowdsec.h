/*
 * api_crowdsec.h — the CrowdSec Local API endpoints bouncers read, served
 * from tocsin decisions (issue 11, docs/bouncers.md):
 *
 *   GET /v1/decisions/stream?startup=true|false   {"new":[...],"deleted":[...]}
 *   GET /v1/decisions?ip=|range=|scope=&value=    [...] or null
 *
 * for keys of role agent, given in X-Api-Key (as LAPI wants) or, as
 * everywhere in tocsind, in Authorization or a client certificate.
 */
#ifndef TOCSIN_DAEMON_API_CROWDSEC_H
#define TOCSIN_DAEMON_API_CROWDSEC_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/buf.h"

/* One answer, and what to record once it has been sent whole. */
struct api_crowdsec_answer {
	int status;
	struct buf body;                  /* JSON */
	char actor[REG_KEY_ID_LEN + 1];   /* the key that asked, for the access log */
	bool commit;                      /* move actor's cursor to seq once sent */
	uint64_t seq;
	bool holds;                       /* holds actor's poll turn until sent */
	bool polled;                      /* a stream answer: the bouncer is at seq once sent */
	int64_t org;
};

/* true for the paths this file serves. */
bool api_crowdsec_route(const char *path);

/* Answers a request to one of those paths. s: the request thread's store
 * connection (NULL if it could not be opened: 503). snap_gen: the
 * app->snap_gen snap was taken at (a live query's cache is rebuilt when
 * it moves: rights may have changed). p: the principal the
 * Authorization header or the client certificate named (NULL: none);
 * X-Api-Key, when present, is what counts. raw_uri: the request target
 * as sent (its query is read here). OUT: *ans, initialised here; the
 * caller sends ans->body and calls api_crowdsec_sent() afterwards. */
void api_crowdsec_handle(struct app *a, struct store *s, const struct reg_snapshot *snap,
                         uint64_t snap_gen, struct MHD_Connection *con, const char *method, const char *path,
                         const char *raw_uri, const struct reg_principal *p,
                         struct api_crowdsec_answer *ans);

/* After the answer: if it was sent whole (complete) and it asks for it,
 * durably moves the bouncer's cursor, so a poll whose answer never
 * reached the bouncer is answered again. Frees ans. */
void api_crowdsec_sent(struct app *a, struct api_crowdsec_answer *ans, bool complete);

/* Appends, for every bouncer key that polled the stream since tocsind
 * started, its position and how far behind the log (log_pos) it is, and
 * the seconds since its last poll (Prometheus text; organisations named
 * from snap). */
void api_crowdsec_metrics(const struct reg_snapshot *snap, uint64_t log_pos, struct buf *out);

#endif
