/*
 * api_stream.h — GET /api/v1/stream: the log as Server-Sent Events
 * (docs/feeds.md).
 *
 * A stream client is a libmicrohttpd response whose content comes from a
 * bounded per-client buffer. One stream thread owns every client's place
 * in the log: woken by the writer (notify.h) it reads the events after
 * each client's position through lib/feed (policy judged for the
 * principal that opened the stream) and appends them, SSE-framed, to the
 * client's buffer; libmicrohttpd's workers copy the buffer out in the
 * content reader and suspend the connection when it is empty, so an idle
 * client holds no thread, and the stream thread resumes it when it
 * appends. Clients that ask the same thing from the same position share
 * one read. A client whose buffer cannot take the next live event (it
 * stopped reading) is cut: a final `event: cut` with its position, a log
 * line and a metric; memory never grows with a consumer's slowness.
 * view=decisions without a position starts with a snapshot, made by a
 * small pool of snapshot threads that wait for the client to drain.
 */
#ifndef TOCSIN_DAEMON_API_STREAM_H
#define TOCSIN_DAEMON_API_STREAM_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "auth.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/slice.h"

#define STREAM_PATH "/api/v1/stream"
#define STREAM_BLOCK_SIZE (16 * 1024)     /* bytes libmicrohttpd asks for at once */
#define STREAM_PARAM_MAX 1024             /* bytes of one decoded query value */
#define STREAM_QUERY_MAX 16384            /* bytes of the query string */
#define STREAM_READ_EVENTS_MAX 4096       /* events read for one client in one round */
#define STREAM_TICK_MS 250                /* heartbeats, key expiry, foreign commits */
#define STREAM_POSITION_POLL_MS 1000      /* the store's position, for the CLI's commits */
#define STREAM_SNAPSHOT_THREADS 2         /* decision snapshots made at once */
#define STREAM_SNAPSHOT_QUEUE_MAX 64      /* snapshots waiting for a thread */
#define STREAM_CUT_RESERVE 512            /* bytes past client_buffer for the last event */
#define STREAM_KEEP_BUFFER (64 * 1024)    /* an emptied buffer larger than this is freed */

struct stream_server;

/* Starts the stream thread and the snapshot threads for a (its conf, its
 * store_spec, notify and hub must be set). OUT: *out. Errors: TC_ENOMEM,
 * TC_EIO (no thread), TC_EDB (the store). */
enum tcerr stream_start(struct app *a, struct stream_server **out, struct diag *d);

/* Ends every stream now (shutdown): the stream and snapshot threads stop
 * and every client's connection is resumed and ended, so libmicrohttpd
 * can close them and stop. Later requests are answered 503. s may be
 * NULL. */
void stream_stop(struct stream_server *s);

/* Frees s after stream_stop() and after the listeners stopped (their
 * connections reference it until they close). s may be NULL. */
void stream_free(struct stream_server *s);

/* Open streams, and the bytes waiting in their buffers, for /metrics. */
uint64_t stream_clients(struct stream_server *s);
uint64_t stream_buffered(struct stream_server *s);

struct api_stream_req {
	struct MHD_Connection *con;
	const char *method;
	struct slice query;                   /* raw, after '?' */
	const char *last_event_id;            /* the Last-Event-ID header, or NULL */
	const struct reg_snapshot *snap;      /* the request thread's */
	const struct reg_principal *who;      /* authenticated (never NULL) */
	const char *actor;                    /* key id, or "cert:<sha256 hex>" */
	struct store *store;                  /* the request thread's connection */
};

/* The answer: a stream (status 200, resp set: queue it, then destroy your
 * reference), or a JSON error (status, title, description). */
struct api_stream_out {
	int status;
	struct MHD_Response *resp;
	const char *title;
	char description[DIAG_MSG_MAX];
	bool retry_after;
};

/* Opens a stream for rq. Never fails without saying why in out. */
void api_stream_open(struct stream_server *s, const struct api_stream_req *rq,
                     struct api_stream_out *out);

#endif
