/*
 * sse.h — a bounded parser of Server-Sent Events (the HTML Living
 * Standard, "9.2 Server-sent events", §9.2.6 "Interpreting an event
 * stream"), for clients of the hub's stream (`tocsin stream`, later the
 * agent).
 *
 * Push bytes as they arrive with sse_feed(); each complete event is
 * handed to a callback. Lines end with CRLF, LF or CR (a CR at the end of
 * one push and an LF at the start of the next count as one line end); a
 * leading UTF-8 BOM is skipped; a line starting with ':' is a comment
 * (the hub's heartbeats); "field: value" loses one space after the colon;
 * data lines are joined with "\n"; an empty line dispatches the event
 * (an event with no data line is dropped, as the standard says). Unlike a
 * browser, the parser refuses what a hostile server could use to exhaust
 * memory: a line longer than max_event, data larger than max_event, an
 * event name or id longer than SSE_NAME_MAX / SSE_ID_MAX are TC_ELIMIT,
 * after which the parser stays failed (the caller reconnects). An id
 * holding NUL is ignored (the standard's rule); retry is reported.
 */
#ifndef TOCSIN_SSE_H
#define TOCSIN_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define SSE_ID_MAX 64                  /* bytes of an id */
#define SSE_NAME_MAX 64                /* bytes of an event name */
#define SSE_EVENT_MAX_DEFAULT (16u << 20) /* bytes of one event's data, and of a line */

struct sse_event {
	struct slice name;      /* "message" when the event named none */
	struct slice data;      /* the data lines joined by "\n" */
	bool has_id;            /* this event carried its own id field */
	struct slice id;        /* the last event id (kept across events, per the standard) */
};

/* Returns TC_OK to go on; anything else stops sse_feed, which returns it. */
typedef enum tcerr (*sse_cb)(void *ctx, const struct sse_event *ev);

struct sse_parser {
	size_t max_event;
	struct buf line;        /* the line being read */
	struct buf data;        /* the event's data so far */
	char name[SSE_NAME_MAX + 1];
	char id[SSE_ID_MAX + 1];
	size_t name_len, id_len;
	bool has_id, has_data, cr, started;
	int64_t retry_ms;       /* the last retry field, -1 none */
	uint64_t comments;      /* comment lines seen (heartbeats) */
	enum tcerr err;         /* sticky */
};

/* Prepares p; max_event 0 means SSE_EVENT_MAX_DEFAULT. */
void sse_init(struct sse_parser *p, size_t max_event);
/* Frees what p holds (p may be reused after sse_init). */
void sse_reset(struct sse_parser *p);

/* Parses n more bytes (untrusted), calling cb for each complete event.
 * Errors: TC_ELIMIT (a limit above; the message names it), TC_ENOMEM,
 * or what cb returned; after an error every later call returns it. */
enum tcerr sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_cb cb, void *ctx,
                    struct diag *d);

#endif
