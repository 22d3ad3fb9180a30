/*
 * store.h — the log store: every accepted object version, in order.
 *
 * Everything is a log (DESIGN §2): each object version appended to a
 * collection gets the next sequence number of this hub (seq, from 1) and a
 * date_added in µs that is strictly increasing with seq unless the caller
 * supplies one (migrations keep the date_added of their source). The store
 * keeps every version, knows which version of each object is the current
 * one (greatest modified), the observables extracted from each version, and
 * the collections. Appends come in batches: one transaction per call, and
 * store_append() returns only after the batch is durable (SQLite WAL with
 * synchronous=FULL). Appending the same (collection, id, version) again is
 * a duplicate, reported as such, not an error, when the content is the
 * same (byte for byte or canonically), and a conflict when it is not; a
 * new modified is a new version. A revoked version stays in the log; it is never current for
 * matching purposes (see store_scan_indexable).
 *
 * Backends sit behind a small function table (store_backend.h): "sqlite:"
 * (default, a file) and "memory:" (tests). Both pass the same conformance
 * tests (tests/unit/store/).
 *
 * Objects are referred to by a dense 32-bit ref, one per (collection,
 * object id), assigned on first append and never reused; the match index
 * stores refs, not ids.
 */
#ifndef TOCSIN_STORE_H
#define TOCSIN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "observable/observable.h"
#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

struct store;

#define STORE_ALIAS_MAX 64
#define STORE_TITLE_MAX 256
#define STORE_DESCRIPTION_MAX 1024

struct store_collection {
	int64_t num;                       /* store-internal number, from 1 */
	char uuid[37];                     /* TAXII collection id */
	char alias[STORE_ALIAS_MAX + 1];   /* unique name, e.g. "default" */
	char title[STORE_TITLE_MAX + 1];
	char description[STORE_DESCRIPTION_MAX + 1];
};

struct store_obs {
	enum obs_kind kind;
	struct slice value;    /* normalised, at most STORE_OBS_VALUE_MAX bytes */
};
#define STORE_OBS_VALUE_MAX 65535

/* One object version to append. */
struct store_obj_in {
	struct slice json;               /* the validated object, compact JSON */
	const struct stix_meta *meta;
	int64_t collection;              /* struct store_collection.num */
	int64_t date_added_us;           /* 0: assigned by the store */
	const struct store_obs *obs;     /* observables extracted from this version */
	size_t nobs;
	int64_t producer;                /* producing organisation, 0 if unknown */
	/* The credential that posted this version (a registry key id, e.g.
	 * "kabc..."); NULL or "": none (the hub's own imports). At most
	 * STORE_KEY_ID_MAX bytes (TC_EINVAL). */
	const char *key_id;
};
#define STORE_KEY_ID_MAX 32

enum store_status {
	STORE_ADDED = 1,     /* appended as a new version */
	STORE_DUPLICATE,     /* this (collection, id, version) was already stored */
	STORE_FOREIGN,       /* not stored: the object exists in this collection and its
	                      * first version came from another producer (in->producer is
	                      * not 0 and differs); STIX §3.6: only the creator versions.
	                      * "First" is the append that created the object (or revived
	                      * it after every version was deleted); versions the hub (0)
	                      * added do not change who owns it. A duplicate is reported
	                      * as STORE_DUPLICATE whoever sends it. */
	STORE_CONFLICT,      /* not stored: this (collection, id, version) is stored with
	                      * other content (store__same_json: not the same bytes nor
	                      * the same RFC 8785 canonical form); seq and date_added
	                      * are the stored version's. Checked before STORE_FOREIGN,
	                      * like a duplicate. */
};

struct store_append_out {
	enum store_status status;
	uint64_t seq;            /* log position (of the stored copy for a duplicate) */
	int64_t date_added_us;
	uint32_t ref;
	bool current;            /* after the batch, this version is the object's current one
	                          * (greatest version_us), revoked or not */
	bool indexable;          /* current and not revoked: the caller indexes its observables */
};

/* Told, after a batch is durable, about each version that was indexable
 * before the batch (current, not revoked) and is not any more (a newer
 * version, possibly revoked, replaced it), once per observable it carried,
 * so the caller can remove them from its index. Versions appended and
 * superseded within the same batch were never indexable and are not
 * reported. */
typedef void (*store_unindex_cb)(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value);

/* Opens (creating if needed, migrating if old) a store. spec is
 * "sqlite:PATH", "memory:" or a bare PATH (sqlite). OUT: *out.
 * Errors: TC_EIO, TC_EDB (message says which file and why), TC_ENOMEM,
 * TC_EUNSUPPORTED (a schema newer than this build). */
enum tcerr store_open(const char *spec, struct store **out, struct diag *d);
void store_close(struct store *s);

/* Appends n object versions in one durable transaction. On error nothing
 * of the batch is stored. OUT: out[i] for each input. unindex may be NULL.
 * A version older than the object's current one (out-of-order arrival) is
 * stored but is not current and unindexes nothing. Errors: TC_EINVAL (no
 * meta, empty id or json, bad observable kind), TC_ENOTFOUND (no such
 * collection; the message names the input, "in[3]: no collection 42"),
 * TC_ELIMIT (n > STORE_BATCH_MAX, an observable longer than
 * STORE_OBS_VALUE_MAX), TC_EDB, TC_EBUSY, TC_ENOMEM.
 * One struct store is used by one thread at a time. */
#define STORE_BATCH_MAX 1000000
enum tcerr store_append(struct store *s, const struct store_obj_in *in, size_t n,
                        struct store_append_out *out, store_unindex_cb unindex, void *ctx,
                        struct diag *d);

/* Provenance (docs/federation.md): a signed batch root, kept beside the
 * versions of the append that carried it, so that a version's inclusion
 * proof can be produced again later (prov_merkle_proof over leaves). */
struct store_prov_batch {
	const char *alg;            /* "ed25519", "gost2012-256" */
	const char *origin_hub;     /* "<alg>:<hex>" */
	const uint8_t *root;        /* 32 bytes */
	const char *signed_at;      /* RFC 3339 */
	const char *signature;      /* hex */
	const uint8_t *leaves;      /* leaf_count × 32 bytes, in leaf order */
	size_t leaf_count;
	const size_t *leaf_in;      /* per leaf: its index in the append's in[] */
};

/* Stages b (which must stay valid until the next store_append returns) to
 * be written in the same transaction as the next store_append, with the
 * log position each leaf's version got (0: not stored, a duplicate).
 * NULL unstages. A backend that keeps no provenance (memory) drops it. */
void store_prov_stage(struct store *s, const struct store_prov_batch *b);

/* The batch that holds version seq. OUT: *leaves (leaf_count × 32 bytes,
 * free()), *leaf_count, *leaf_index, root (32 bytes). Errors:
 * TC_ENOTFOUND (seq was stored without a batch), TC_EUNSUPPORTED
 * (memory), TC_EDB, TC_ENOMEM. */
enum tcerr store_prov_find(struct store *s, uint64_t seq, uint8_t root[32], uint8_t **leaves,
                           size_t *leaf_count, size_t *leaf_index, struct diag *d);

/* Collections. add: alias unique ([a-z0-9][a-z0-9._-]*, ≤ 64), uuid NULL for
 * a new v4 id; title and description printable UTF-8 (util/text.h: no
 * control characters). Errors: TC_EEXIST, TC_EINVAL (names the field and
 * the byte). OUT: *out (may be NULL). */
enum tcerr store_collection_add(struct store *s, const char *alias, const char *uuid,
                                const char *title, const char *description,
                                struct store_collection *out, struct diag *d);
/* Finds by alias or uuid (any case). TC_ENOTFOUND if none. */
enum tcerr store_collection_find(struct store *s, const char *alias_or_uuid,
                                 struct store_collection *out);
/* Changes the alias, title and/or description of collection num (NULL:
 * keep that one); its number and id never change, so its objects stay
 * where they are. Title and description are printable UTF-8 (as for add).
 * Errors: TC_ENOTFOUND, TC_EINVAL, TC_EEXIST (alias taken), TC_EDB.
 * OUT: *out (may be NULL), the collection as it is now. */
enum tcerr store_collection_update(struct store *s, int64_t num, const char *alias,
                                   const char *title, const char *description,
                                   struct store_collection *out, struct diag *d);
/* Calls cb for each collection in creation order. */
enum tcerr store_collection_list(struct store *s,
                                 enum tcerr (*cb)(void *ctx, const struct store_collection *c),
                                 void *ctx);

/* What a query sees of one stored version. Pointers are valid only during
 * the callback. */
struct store_row {
	uint64_t seq;
	int64_t date_added_us;
	uint32_t ref;
	int64_t collection;
	struct slice json;
	const char *id;
	const char *type;
	const char *version;       /* as in stix_meta.version */
	int64_t version_us;
	const char *spec_version;
	enum tlp_level tlp;
	bool revoked;
	int64_t valid_until_us;
	int64_t producer;
	const char *key_id;        /* who posted this version (store_obj_in.key_id); "" none */
	bool is_first, is_last;    /* first / last version of its object in its collection */
	/* store_log_versions only (empty elsewhere): the version's indexed
	 * observables, read with store_row_obs_next() */
	struct slice obs;
};

/* The next observable of row->obs, from *cursor (start with row->obs; it
 * advances). OUT: *kind, *value (normalised, pointing into the row: valid
 * as long as the row). false at the end. */
bool store_row_obs_next(struct slice *cursor, enum obs_kind *kind, struct slice *value);

enum store_version_sel {
	STORE_V_LAST = 1,   /* the version with the greatest modified (default) */
	STORE_V_FIRST = 2,
	STORE_V_ALL = 4,
};

/* A read of the log. Filters are ANDed; list members are ORed (TAXII 2.1
 * §3.4). Rows come in ascending date_added order (ties by seq). versions
 * 0 with no exact version_us means STORE_V_LAST; versions 0 with exact
 * versions selects only those. Each list holds at most STORE_QUERY_LIST_MAX
 * members (TC_ELIMIT). */
#define STORE_QUERY_LIST_MAX 1000
struct store_query {
	int64_t collection;            /* 0: every collection */
	int64_t added_after_us;        /* exclusive; 0: from the start */
	uint64_t after_seq;            /* exclusive; 0: from the start (cursors) */
	/* A page cursor: when after_date_us is not 0, only rows after the
	 * position (after_date_us, after_date_seq) in the (date_added, seq)
	 * order, i.e. date_added > after_date_us, or date_added ==
	 * after_date_us and seq > after_date_seq. This is how TAXII `next`
	 * resumes even where migrated rows share a date_added. */
	int64_t after_date_us;
	uint64_t after_date_seq;
	const char *const *ids;  size_t nids;
	const char *const *types; size_t ntypes;
	unsigned versions;             /* STORE_V_* bits; 0 means STORE_V_LAST */
	const int64_t *version_us; size_t nversion_us; /* exact versions, ORed with the bits */
	const char *const *spec_versions; size_t nspec_versions;
	size_t limit;                  /* rows taken before stopping; 0: no limit */
};

enum store_row_verdict {
	STORE_ROW_TAKE = 1,  /* counts towards limit */
	STORE_ROW_SKIP,      /* e.g. policy hid it: does not count */
	STORE_ROW_STOP,      /* end the query now */
};

typedef enum store_row_verdict (*store_row_cb)(void *ctx, const struct store_row *row);

/* Runs q, calling cb per matching row. OUT: *more (may be NULL) = another
 * row matching q exists after the last one taken (after q->limit rows were
 * taken, or the row cb answered STORE_ROW_STOP for). Errors: TC_ELIMIT,
 * TC_EINVAL (a negative date bound), TC_EDB. */
enum tcerr store_query(struct store *s, const struct store_query *q, store_row_cb cb, void *ctx,
                       bool *more, struct diag *d);

/* Deleting versions (TAXII 2.1 §5.7). A deletion is a log entry: each
 * deleted version is removed from every query and a tombstone with the
 * next sequence number records (collection, id, version, seq of the
 * version). If the object's current version goes, the greatest remaining
 * version becomes current (and first/last flags follow); unindex is told
 * about the observables of a deleted indexable version and reindex about
 * those of a version that became indexable, as after an append.
 *
 * q selects the versions of one object in one collection: versions 0
 * with no exact version_us means every version (a DELETE without
 * match[version] removes the object); spec_versions filters as in
 * store_query. may is asked about each selected version, in version
 * order; the whole call is one transaction. When no version is left the
 * object vanishes: from every query, store_get_ref and
 * store_scan_indexable, and from store_stats' objects; appending its id
 * again revives it under the same ref, owned by whoever appends then. A
 * deleted version may be appended again (it is new, not a duplicate).
 * Dates assigned after a deletion are greater than its deleted_us. */
struct store_delete_q {
	int64_t collection;
	const char *id;
	unsigned versions;             /* STORE_V_* bits; 0 with no exact: all */
	const int64_t *version_us; size_t nversion_us;
	const char *const *spec_versions; size_t nspec_versions;
};

enum store_delete_verdict {
	STORE_DEL_YES = 1,   /* delete this version */
	STORE_DEL_HIDDEN,    /* the requester cannot see it: leave it, do not count it */
	STORE_DEL_REFUSED,   /* visible but not the requester's to delete: leave it, count it */
};
typedef enum store_delete_verdict (*store_delete_cb)(void *ctx, const struct store_row *row);
typedef enum tcerr (*store_indexable_cb)(void *ctx, uint32_t ref, enum obs_kind kind,
                                         struct slice value, int64_t valid_until_us);

struct store_delete_out {
	size_t deleted;          /* versions removed */
	size_t refused;          /* versions visible but refused by may */
	uint64_t seq;            /* log position of the last tombstone (0 if none) */
};

/* Errors: TC_EINVAL (no id), TC_ENOTFOUND (no such collection), TC_ELIMIT,
 * TC_EDB. Deleting nothing is TC_OK with deleted == 0. unindex and
 * reindex may be NULL. */
enum tcerr store_delete(struct store *s, const struct store_delete_q *q, store_delete_cb may,
                        void *may_ctx, store_unindex_cb unindex, store_indexable_cb reindex,
                        void *ictx, struct store_delete_out *out, struct diag *d);

/* Tombstones after seq, in order (for streams and peers). cb's error
 * stops the walk and is returned. Pointers are valid during the callback.
 * Errors: TC_EDB. */
struct store_tombstone {
	uint64_t seq;            /* of the deletion */
	int64_t deleted_us;      /* when, never below a date_added stored before it */
	int64_t collection;
	const char *id;
	const char *version;
	uint64_t version_seq;    /* seq of the deleted version */
	/* what policy_row needs to judge the deleted version (a store_row
	 * with these and collection): its TLP as stored, producer, and its
	 * text when it may name recipients (else empty). Tombstones made
	 * before schema step 5 say TLP_RED and producer 0. */
	enum tlp_level tlp;
	int64_t producer;
	struct slice json;
};
enum tcerr store_tombstones(struct store *s, uint64_t after_seq,
                            enum tcerr (*cb)(void *ctx, const struct store_tombstone *t),
                            void *ctx, struct diag *d);

/* The log's object versions after after_seq in seq order (the order of
 * positions; store_query's is date_added's), at most limit (0: no limit),
 * deleted ones left out, until cb answers STORE_ROW_STOP. kinds holds
 * bit (1u << kind) for each observable kind the version carries. OUT:
 * *last (may be NULL): the seq of the last row handed to cb (0: none).
 * Errors: TC_EDB, TC_EUNSUPPORTED (a backend without it). */
typedef enum store_row_verdict (*store_log_cb)(void *ctx, const struct store_row *row,
                                               uint32_t kinds);
enum tcerr store_log_versions(struct store *s, uint64_t after_seq, size_t limit, store_log_cb cb,
                              void *ctx, uint64_t *last, struct diag *d);

/* Calls cb for every observable of every current, non-revoked version
 * (any collection), for building the index at open. */
enum tcerr store_scan_indexable(struct store *s, store_indexable_cb cb, void *ctx,
                                struct diag *d);

/* Calls cb for every observable of every current version that is revoked
 * (any collection), with its valid_until: what `tocsin match` needs to say
 * "revoked" instead of "miss". The same callback as store_scan_indexable;
 * an error cb returns stops the scan and is returned. */
enum tcerr store_scan_revoked(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d);

/* Calls cb once with the current version of ref (its verdict is ignored).
 * TC_ENOTFOUND if no object has that ref. */
enum tcerr store_get_ref(struct store *s, uint32_t ref, store_row_cb cb, void *ctx);

/* Calls cb with every live version of ref (its object in its collection),
 * in ascending version_us, until cb answers STORE_ROW_STOP. May be called
 * from inside a store_query callback on the same store (a reader that
 * must know an object's other versions, e.g. the newest one a requester
 * may see). TC_ENOTFOUND if no object has that ref; TC_EDB. */
enum tcerr store_versions_of(struct store *s, uint32_t ref, store_row_cb cb, void *ctx);

struct store_stats {
	uint64_t log_position;     /* greatest seq */
	uint64_t versions;         /* stored versions */
	uint64_t objects;          /* distinct (collection, id) */
	uint64_t collections;
	uint64_t observables[OBS_KIND_MAX + 1]; /* per kind, over indexable versions */
	uint64_t indicators;       /* current indicator objects, not revoked */
	uint64_t revoked;          /* current versions that are revoked */
};
enum tcerr store_stats(struct store *s, struct store_stats *out);
/* The log position (greatest seq, of versions and tombstones alike), as
 * store_stats's but cheap: what other processes (the CLI) committed
 * counts too. OUT: *out. Errors: TC_EDB. */
enum tcerr store_position(struct store *s, uint64_t *out);

/* SQLite store: how many WAL pages a commit may leave before that commit
 * copies them into the database itself (SQLite's wal_autocheckpoint, 1000
 * by default). 0: never — another thread calls store_checkpoint(), so the
 * writer's commits do not pay for checkpoints. Errors: TC_EUNSUPPORTED
 * (another backend), TC_EDB. */
enum tcerr store_wal_autocheckpoint(struct store *s, int pages);

/* A second connection to a SQLite store (spec as store_open), for one
 * other thread that checkpoints its WAL. OUT: *out. Errors:
 * TC_EUNSUPPORTED (not SQLite), TC_EIO, TC_ENOMEM. */
struct store_checkpointer;
enum tcerr store_checkpointer_open(const char *spec, struct store_checkpointer **out,
                                   struct diag *d);
/* Copies committed WAL pages into the database without blocking the
 * writer or readers (SQLITE_CHECKPOINT_PASSIVE), then syncs it. OUT:
 * *wal_pages, *copied (may be NULL). Errors: TC_EDB (TC_EBUSY: another
 * checkpoint ran; try later). */
enum tcerr store_checkpoint(struct store_checkpointer *c, int *wal_pages, int *copied,
                            struct diag *d);
void store_checkpointer_close(struct store_checkpointer *c);

/* Decisions (issue 10; docs/feeds.md). What an enforcement point does
 * with one value is derived from the indicators that name it. The store
 * keeps, in the same transaction as every append and delete, one
 * contribution per (kind, value, ref) for the current version of every
 * indicator object that is not revoked and not expired: its exact
 * observables (what the match index holds), with the version's
 * collection, TLP, producer, confidence and valid_until. Each change of
 * an effective contribution (one that is not allowlisted) is a decision
 * event in the log with its own seq, after the versions and tombstones of
 * its transaction:
 *   add     published (a new current version), unallowlisted
 *   remove  superseded (a newer version no longer names the value, or
 *           names it again: then an add follows), revoked, deleted,
 *           expired (store_decisions_expire, by the hub's clock),
 *           allowlisted (store_decisions_rejudge)
 * A version that names a value again is a remove and an add: each event
 * is judged by readers against its own version (feed.h).
 * Allowlisted contributions are kept, marked, and make no event; the
 * judge set with store_decisions_set_judge() decides at insert. */
enum store_dreason {
	STORE_DR_PUBLISHED = 1,
	STORE_DR_SUPERSEDED,
	STORE_DR_REVOKED,
	STORE_DR_DELETED,
	STORE_DR_EXPIRED,
	STORE_DR_ALLOWLISTED,
	STORE_DR_UNALLOWLISTED,
};
/* "published", "superseded", ... */
const char *store_dreason_name(enum store_dreason r);

struct store_decision {
	enum obs_kind kind;
	struct slice value;
	uint32_t ref;
	const char *id;            /* the indicator's STIX id */
	uint64_t version_seq;      /* the indicator version */
	int64_t collection;
	enum tlp_level tlp;        /* as stored (TLP_NONE: unmarked) */
	int64_t producer;
	int confidence;            /* 0..100; -1: none */
	int64_t valid_until_us;    /* 0: no end */
	bool allowlisted;
	struct slice json;         /* store_decision_events: the version's text when
	                            * tlp is AMBER+STRICT or RED (its named recipients),
	                            * kept even after the version is deleted; else empty */
};

struct store_devent {
	uint64_t seq;
	int64_t at_us;
	bool add;
	enum store_dreason reason;
	struct store_decision d;
};

/* Says whether (kind, value) is allowlisted now. */
typedef bool (*store_judge_fn)(void *ctx, enum obs_kind kind, struct slice value);
/* Sets the allowlist judge used for new contributions (NULL: none is
 * allowlisted). ctx must outlive the store or the next call. */
void store_decisions_set_judge(struct store *s, store_judge_fn judge, void *ctx);

/* Decision events after after_seq, in seq order, at most limit (0: no
 * limit), until cb answers an error (returned). Pointers are valid during
 * the callback. Errors: TC_EDB, TC_EUNSUPPORTED (a backend without
 * decisions), cb's. */
enum tcerr store_decision_events(struct store *s, uint64_t after_seq, size_t limit,
                                 enum tcerr (*cb)(void *ctx, const struct store_devent *e),
                                 void *ctx, struct diag *d);

/* The contributions in (kind, value, ref) order — of one value when value
 * is not NULL, else all — that are not allowlisted and not expired at
 * now_us (0: the clock), read in one transaction. OUT: *position (may be
 * NULL): the log position they are exact at. json is empty. Errors:
 * TC_EDB, TC_EUNSUPPORTED, cb's. */
enum tcerr store_decisions(struct store *s, enum obs_kind kind, const struct slice *value,
                           int64_t now_us,
                           enum tcerr (*cb)(void *ctx, const struct store_decision *c),
                           void *ctx, uint64_t *position, struct diag *d);

/* Removes the contributions whose valid_until is not after now_us, with a
 * remove event (expired) for each effective one, at most max (0: no
 * limit) in one durable transaction. OUT: *events (may be NULL), *next_us
 * (may be NULL): the earliest valid_until left (0: none). Errors: TC_EDB,
 * TC_EUNSUPPORTED. */
enum tcerr store_decisions_expire(struct store *s, int64_t now_us, size_t max, size_t *events,
                                  int64_t *next_us, struct diag *d);

/* Asks the judge again about every contribution and records the changes
 * (remove allowlisted / add unallowlisted events) in one durable
 * transaction. OUT: *events (may be NULL). Errors: TC_EDB,
 * TC_EUNSUPPORTED. */
enum tcerr store_decisions_rejudge(struct store *s, size_t *events, struct diag *d);

/* Small key/value settings kept with the data (schema version, hub id).
 * get appends the value to out; TC_ENOTFOUND if key is unset. set
 * replaces; "schema_version" and keys starting "store." belong to the
 * store (TC_EPERM). Keys are at
 * most STORE_SETTING_KEY_MAX bytes, values STORE_SETTING_VALUE_MAX
 * (TC_ELIMIT). */
#define STORE_SETTING_KEY_MAX 128
#define STORE_SETTING_VALUE_MAX 65536
enum tcerr store_setting_get(struct store *s, const char *key, struct buf *out);
enum tcerr store_setting_set(struct store *s, const char *key, const char *value);

#endif
