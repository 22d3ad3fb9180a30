/*
 * store_sqlite_dec.h — decisions in the SQLite store (store_sqlite_dec.c),
 * private to lib/store.
 *
 * Two tables (schema step 5): dvalues holds one contribution per (kind,
 * value, ref) for the current version of each indicator that is neither
 * revoked nor expired; devents is the log of changes of the effective
 * (not allowlisted) ones, each with its own seq in the store's one
 * sequence. sq_dec_set() runs inside the append or delete transaction of
 * store_sqlite.c, so a version and its decision events are durable
 * together.
 */
#ifndef TOCSIN_STORE_SQLITE_DEC_H
#define TOCSIN_STORE_SQLITE_DEC_H

#include <sqlite3.h>

#include "store/store.h"

/* The schema step that creates the tables (SQL); sq_dec_backfill() then
 * fills dvalues from what is stored. */
extern const char sq_dec_schema[];

enum sq_dec_stmt {
	SD_SEL_REF,
	SD_DEL_REF,
	SD_INS_VALUE,
	SD_INS_EVENT,
	SD_EVENTS,
	SD_DUE,
	SD_DEL_ONE,
	SD_NEXT_DUE,
	SD_ALL,
	SD_ONE,
	SD_SET_ALLOW,
	SD_VERSION,
	SD_NSTMT
};

struct sq_dec {
	sqlite3 *db;
	sqlite3_stmt *st[SD_NSTMT];
};

/* The current version of a ref, as far as decisions go. */
struct sq_dec_version {
	uint64_t seq;
	const char *id;            /* STIX id, for the hold judge (may be NULL) */
	bool indicator, revoked;
	int64_t collection;
	enum tlp_level tlp;
	int64_t producer;
	int confidence;            /* -1: none */
	int64_t valid_until_us;
	struct slice json;
	const struct store_obs *obs;
	size_t nobs;
};

/* Prepares the statements. Returns a SQLite result code. */
int sq_dec_prepare(struct sq_dec *x, sqlite3 *db);
void sq_dec_finalize(struct sq_dec *x);

/* Makes ref's contributions those of v (NULL: none — the object has no
 * current version), inside the caller's transaction: removes the old ones
 * (a remove event with reason gone for each effective one) unless fresh
 * (a ref new in this transaction has none), inserts v's when v is a
 * current indicator, not revoked and not expired at now (an add event,
 * published, for each one judge does not allowlist). Events take seqs
 * from *next_seq. Returns TC_OK or TC_EDB / TC_ENOMEM with *rcp the
 * SQLite code (0 for TC_ENOMEM). */
enum tcerr sq_dec_set(struct sq_dec *x, const struct store *s, uint32_t ref,
                      const struct sq_dec_version *v, bool fresh, enum store_dreason gone,
                      uint64_t *next_seq, int64_t now, int *rcp);

/* As sq_dec_set with the stored version seq (0: none). */
enum tcerr sq_dec_set_seq(struct sq_dec *x, const struct store *s, uint32_t ref, uint64_t seq,
                          enum store_dreason gone, uint64_t *next_seq, int64_t now, int *rcp);

/* Whether a version's text is kept with its decisions and tombstones:
 * when it may name recipients (the distribution extension), which
 * policy_row reads. */
bool sq__keeps_text(struct slice json);

/* Walks an observables blob of the versions table (store_sqlite.c).
 * Returns false at its end or on damage. */
bool sq__obs_next(const unsigned char **p, const unsigned char *end, enum obs_kind *kind,
                  struct slice *value);

/* The store_decision_events / store_decisions / _expire / _rejudge work;
 * expire and rejudge run in the caller's transaction and take seqs from
 * *next_seq. */
enum tcerr sq_dec_events(struct sq_dec *x, uint64_t after_seq, size_t limit,
                         enum tcerr (*cb)(void *ctx, const struct store_devent *e), void *ctx,
                         int *rcp);
enum tcerr sq_dec_list(struct sq_dec *x, enum obs_kind kind, const struct slice *value,
                       int64_t now, enum tcerr (*cb)(void *ctx, const struct store_decision *c),
                       void *ctx, int *rcp);
enum tcerr sq_dec_expire(struct sq_dec *x, int64_t now, size_t max, uint64_t *next_seq,
                         size_t *events, int64_t *next_us, int *rcp);
enum tcerr sq_dec_rejudge(struct sq_dec *x, const struct store *s, uint64_t *next_seq,
                          int64_t now, size_t *events, int *rcp);

/* Fills dvalues from the current, non-revoked indicator versions (schema
 * step 5 on a store that has data), without events: what was published
 * before decisions existed is current, not news. */
enum tcerr sq_dec_backfill(sqlite3 *db, int64_t now, int *rcp);

#endif
