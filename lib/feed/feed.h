/*
 * feed.h — the log as a live feed: events after a position, judged for
 * one reader (issue 10).
 *
 * Everything is a log (DESIGN §2.1): object versions, deletions
 * (tombstones) and decision events (store_decision_events) all take their
 * position (seq) from one counter. A feed reads that log after a position
 * in one of two views and hands each event, as the JSON text a consumer
 * receives, to a callback:
 *
 *   FEED_STIX       "version": an object version as stored (its text,
 *                   byte for byte, inside the event), "delete": a
 *                   tombstone (collection, id, version). Every version
 *                   and tombstone has its own position.
 *   FEED_DECISIONS  "add" / "remove" of a decision: what an enforcement
 *                   point does with one value (block this address,
 *                   domain, URL, phone number, card hash, ...) until a
 *                   time, because of these indicators. Positions are
 *                   those of the decision events (docs/feeds.md).
 *
 * Policy: every event goes through the one door (policy_row) for the
 * subject that reads, exactly as a TAXII read would judge the version it
 * names; an event the subject may not see is skipped, and the subject
 * learns nothing of it (not even that a position was used: positions it
 * sees simply jump). A decision is judged per indicator behind it: the
 * subject sees the decision for a value while at least one indicator it
 * may see names the value, with only those indicators listed.
 *
 * Resuming: an event's position is its seq; a reader that stored the
 * position of the last event it processed and asks again from there gets
 * exactly the rest, nothing lost and nothing repeated. FEED_DECISIONS
 * first hands a reader with no position a snapshot (feed_snapshot) of the
 * decisions current at a position P, then the events after P.
 *
 * Threads: a feed reads through the caller's own store connection (a
 * request thread's), never the writer's.
 */
#ifndef TOCSIN_FEED_H
#define TOCSIN_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/allowlist.h"
#include "observable/observable.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

enum feed_view {
	FEED_STIX = 1,
	FEED_DECISIONS,
};

/* "stix", "decisions". TC_EINVAL otherwise. */
enum tcerr feed_view_parse(const char *name, enum feed_view *out);
const char *feed_view_name(enum feed_view v);

#define FEED_FILTER_LIST_MAX 64    /* collections or types in one filter */

/* What a reader wants; every member that is set must hold (AND), list
 * members are ORed. Zero is "everything". */
struct feed_filter {
	const int64_t *collections;   /* store collection numbers */
	size_t ncollections;
	const char *const *types;     /* STIX types (FEED_STIX); decisions come from indicators */
	size_t ntypes;
	uint32_t kinds;               /* observable kinds, EXPORT_KIND_BIT()-style bits
	                               * (1u << kind); 0: every kind. FEED_STIX: versions with
	                               * an observable of one of these kinds (and tombstones) */
	int min_confidence;           /* 0..100; -1: no minimum. An indicator without a
	                               * confidence does not pass a minimum */
	enum tlp_level tlp_max;       /* the most restrictive level wanted; TLP_NONE: any */
};

/* Parses a filter from URL query parameters or CLI words:
 * collection=ALIAS|ID (repeatable), type=T (repeatable), kind=K
 * (repeatable; obs_kind names), min_confidence=N, tlp=clear|green|amber|
 * amber+strict|red. Collections are looked up in s. Everything the
 * filter names is copied into f's own storage (feed_filter_reset frees).
 * Errors: TC_EINVAL (the message names the parameter and why),
 * TC_ENOTFOUND (no such collection), TC_ELIMIT (more than
 * FEED_FILTER_LIST_MAX). */
struct feed_filter_store {
	struct feed_filter f;
	int64_t coll[FEED_FILTER_LIST_MAX];
	char *type[FEED_FILTER_LIST_MAX];
};
void feed_filter_init(struct feed_filter_store *fs);
enum tcerr feed_filter_set(struct feed_filter_store *fs, struct store *s, const char *key,
                           struct slice value, struct diag *d);
void feed_filter_reset(struct feed_filter_store *fs);

/* A position in the log: every version, tombstone and decision event
 * has its own seq, so a position is one number. Text form (SSE id,
 * webhook cursor, CLI state file): decimal "SEQ". */
struct feed_pos {
	uint64_t seq;
};
#define FEED_POS_TEXT_MAX 24
/* Errors: TC_EINVAL (not a decimal number without sign or leading zeros,
 * or past UINT64_MAX). */
enum tcerr feed_pos_parse(struct slice text, struct feed_pos *out);
void feed_pos_format(struct feed_pos p, char out[FEED_POS_TEXT_MAX]);

enum feed_event_type {
	FEED_EV_VERSION = 1,   /* FEED_STIX: an object version */
	FEED_EV_DELETE,        /* FEED_STIX: a deleted version */
	FEED_EV_ADD,           /* FEED_DECISIONS: block/alert this value (new, or changed) */
	FEED_EV_REMOVE,        /* FEED_DECISIONS: stop */
};
const char *feed_event_name(enum feed_event_type t); /* "version", "delete", "add", "remove" */

/* One indicator behind a decision, as the reader may see it. */
struct feed_indicator {
	const char *id;                /* "indicator--..." */
	const char *collection;        /* alias */
	const char *producer;          /* organisation name, "hub" for the hub's own */
	enum tlp_level tlp;            /* effective (default_tlp for an unmarked one) */
	int confidence;                /* 0..100, -1 none */
	int64_t valid_until_us;        /* 0: no end */
};

/* A decision: what to do with one value. For an add, the indicators the
 * reader may see that name the value now; until is the latest of their
 * valid_until (0: one has none), confidence the highest, tlp the most
 * restrictive. For a remove, only kind, value and reason are set. */
#define FEED_DECISION_MAX_INDICATORS 16 /* listed per decision; more are counted */
struct feed_decision {
	enum obs_kind kind;
	struct slice value;            /* normalised; a card is its keyed hash */
	const char *action;            /* "block" or "alert" */
	int64_t until_us;
	int confidence;
	enum tlp_level tlp;
	const char *reason;            /* "published", "revoked", "deleted", "expired",
	                                * "allowlisted", "unallowlisted", "superseded",
	                                * "held", "released" (docs/sightings.md) */
	size_t nindicators;            /* may exceed FEED_DECISION_MAX_INDICATORS */
	const struct feed_indicator *indicators;
};

/* One event as the reader receives it. data is compact JSON, one line
 * (no newline), valid during the callback:
 *   version  {"position":"S","collection":"ALIAS","object":{...as stored}}
 *   delete   {"position":"S","collection":"ALIAS","id":"...","version":"..."}
 *   add      {"position":"S","kind":"ipv4","value":"203.0.113.7",
 *             "action":"block","until":"2027-...Z"|null,"confidence":80|null,
 *             "tlp":"green","reason":"published"|"unallowlisted"|...,
 *             "indicators":[{"id":"indicator--...","collection":"ALIAS",
 *             "producer":"ORG","tlp":"green","confidence":80|null,
 *             "valid_until":...|null}],"indicators_total":1}
 *            (kind: obs_kind_name(), e.g. "ipv4", "domain", "url", "phone")
 *   remove   {"position":"S","kind":...,"value":...,"reason":"revoked"|
 *             "deleted"|"expired"|"allowlisted"|"superseded"}
 * snapshot events (feed_snapshot) are "add" with no position. */
struct feed_event {
	enum feed_event_type type;
	struct feed_pos pos;
	struct slice data;
	const struct feed_decision *decision; /* add, remove; NULL for version, delete */
};

/* Returns TC_OK to go on, or an error that stops the read and is
 * returned by it (e.g. TC_EIO: the consumer went away; TC_ELIMIT: its
 * buffer is full). */
typedef enum tcerr (*feed_cb)(void *ctx, const struct feed_event *ev);

struct feed_ctx {
	struct store *store;                  /* the reader's own connection */
	const struct policy_subject *who;     /* NULL: the operator (sees everything) */
	const struct reg_snapshot *names;     /* names organisations and collections */
	const struct allowlist *allow;        /* FEED_DECISIONS: values never to block */
	int64_t now_us;                       /* 0: the clock */
	/* a decision whose confidence is below it is "alert", not "block"
	 * ([decisions] block_min_confidence); 0: always "block" */
	int block_min_confidence;
	/* FEED_DECISIONS: the reader uses only feed_event.decision (an export
	 * formatting values itself): data is left empty, which saves building
	 * the JSON text of every event */
	bool decisions_only;
};

/* Reads events after `after` in view v that f admits and who may see,
 * in log order, calling cb for each, until the log's end or max_events
 * were handed out (0: no limit). OUT: *next (may be NULL): the position
 * to read from next time — the last event handed out, or, when events
 * were skipped after it (policy, filter), the last position examined, so
 * a reader with nothing to see does not rescan. Errors: TC_EDB, TC_ENOMEM,
 * and cb's. */
enum tcerr feed_read(const struct feed_ctx *c, enum feed_view v, const struct feed_filter *f,
                     struct feed_pos after, size_t max_events, feed_cb cb, void *cb_ctx,
                     struct feed_pos *next, struct diag *d);

/* FEED_DECISIONS: the decisions current now that who may see and f
 * admits, one "add" event per value (sorted by kind, then value), read in
 * one store transaction. OUT: *at (may be NULL), the log position the
 * snapshot is exact at — set before the first callback, so a writer can
 * put it in a header (an RPZ serial) — then read on with
 * feed_read(after = *at). Errors: as feed_read. */
enum tcerr feed_snapshot(const struct feed_ctx *c, const struct feed_filter *f, feed_cb cb,
                         void *cb_ctx, struct feed_pos *at, struct diag *d);

/* Sets the effective confidence rule every later read uses
 * (feed_confidence.h; NULL: none, the producer's confidence). Call before
 * other threads read: tocsind at start from [decisions]
 * confidence_half_life and sighting_boost. */
struct feed_conf_rule;
void feed_set_conf_rule(const struct feed_conf_rule *r);

/* [decisions] block_min_confidence as tocsind recorded it in the store
 * at start (feed_set_block_min_confidence), so the CLI's exports agree
 * with the daemon's; 0 when never recorded. */
#define FEED_BLOCK_MIN_SETTING "decisions.block_min_confidence"
int feed_block_min_confidence(struct store *s);
/* Errors: TC_EDB. */
enum tcerr feed_set_block_min_confidence(struct store *s, int v);

#endif
