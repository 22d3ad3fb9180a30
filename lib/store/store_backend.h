/*
 * store_backend.h — the table of functions a log-store backend provides.
 *
 * store.c checks arguments once (spec, aliases, uuids, limits, batch
 * inputs) and then dispatches through the backend chosen at open from the
 * spec prefix; a backend may trust what it receives. Every backend
 * embeds struct store as its first member, so a struct store * is also a
 * pointer to the backend's own state. Both backends keep the same
 * semantics, checked by one conformance suite (tests/unit/store/).
 */
#ifndef TOCSIN_STORE_BACKEND_H
#define TOCSIN_STORE_BACKEND_H

#include "store/store.h"

struct store__backend {
	const char *name; /* "sqlite", "memory" */
	/* path: what follows the spec prefix. OUT: *out. */
	enum tcerr (*open)(const char *path, struct store **out, struct diag *d);
	void (*close)(struct store *s);
	/* Inputs were checked by store_append (n >= 1). */
	enum tcerr (*append)(struct store *s, const struct store_obj_in *in, size_t n,
	                     struct store_append_out *out, store_unindex_cb unindex, void *ctx,
	                     struct diag *d);
	/* c is complete (uuid, alias, title, description checked); c->num is
	 * assigned. Errors: TC_EEXIST (alias or uuid taken). */
	enum tcerr (*collection_add)(struct store *s, struct store_collection *c, struct diag *d);
	/* c is the whole new row (num and uuid as stored; alias, title and
	 * description checked). Errors: TC_EEXIST (alias taken), TC_ENOTFOUND. */
	enum tcerr (*collection_update)(struct store *s, const struct store_collection *c,
	                                struct diag *d);
	/* key: an alias, or a lowercase uuid. */
	enum tcerr (*collection_find)(struct store *s, const char *key, struct store_collection *out);
	enum tcerr (*collection_list)(struct store *s,
	                              enum tcerr (*cb)(void *ctx, const struct store_collection *c),
	                              void *ctx);
	/* q->versions is never 0 when no exact versions are given; at most one
	 * of added_after_us and after_date_us is set (store_query keeps the
	 * tighter of the two). */
	enum tcerr (*query)(struct store *s, const struct store_query *q, store_row_cb cb,
	                    void *ctx, bool *more, struct diag *d);
	enum tcerr (*scan_indexable)(struct store *s, store_indexable_cb cb, void *ctx,
	                             struct diag *d);
	enum tcerr (*scan_revoked)(struct store *s, store_indexable_cb cb, void *ctx,
	                           struct diag *d);
	/* q is checked and normalised: q->id set, q->versions is STORE_V_ALL
	 * alone or other bits and/or exact versions; may is never NULL. */
	enum tcerr (*delete)(struct store *s, const struct store_delete_q *q, store_delete_cb may,
	                     void *may_ctx, store_unindex_cb unindex, store_indexable_cb reindex,
	                     void *ictx, struct store_delete_out *out, struct diag *d);
	enum tcerr (*tombstones)(struct store *s, uint64_t after_seq,
	                         enum tcerr (*cb)(void *ctx, const struct store_tombstone *t),
	                         void *ctx, struct diag *d);
	enum tcerr (*get_ref)(struct store *s, uint32_t ref, store_row_cb cb, void *ctx);
	/* ref is not 0; must not disturb a query in progress */
	enum tcerr (*versions_of)(struct store *s, uint32_t ref, store_row_cb cb, void *ctx);
	enum tcerr (*stats)(struct store *s, struct store_stats *out);
	enum tcerr (*position)(struct store *s, uint64_t *out);
	/* optional (NULL: TC_EUNSUPPORTED) */
	enum tcerr (*wal_autocheckpoint)(struct store *s, int pages);
	enum tcerr (*setting_get)(struct store *s, const char *key, struct buf *out);
	enum tcerr (*setting_set)(struct store *s, const char *key, const char *value);
	/* optional (NULL: TC_EUNSUPPORTED) */
	enum tcerr (*log_versions)(struct store *s, uint64_t after_seq, size_t limit,
	                           store_log_cb cb, void *ctx, uint64_t *last, struct diag *d);
	/* decisions; optional (NULL: TC_EUNSUPPORTED) */
	enum tcerr (*decision_events)(struct store *s, uint64_t after_seq, size_t limit,
	                              enum tcerr (*cb)(void *ctx, const struct store_devent *e),
	                              void *ctx, struct diag *d);
	enum tcerr (*decisions)(struct store *s, enum obs_kind kind, const struct slice *value,
	                        int64_t now_us,
	                        enum tcerr (*cb)(void *ctx, const struct store_decision *c),
	                        void *ctx, uint64_t *position, struct diag *d);
	enum tcerr (*decisions_expire)(struct store *s, int64_t now_us, size_t max,
	                               size_t *events, int64_t *next_us, struct diag *d);
	enum tcerr (*decisions_rejudge)(struct store *s, size_t *events, struct diag *d);
	/* provenance; optional (NULL: TC_EUNSUPPORTED) */
	enum tcerr (*prov_find)(struct store *s, uint64_t seq, uint8_t root[32], uint8_t **leaves,
	                        size_t *leaf_count, size_t *leaf_index, struct diag *d);
};

struct store {
	const struct store__backend *be;
	store_judge_fn judge;      /* store_decisions_set_judge */
	void *judge_ctx;
	/* store_prov_stage: written by the next append's transaction (a
	 * backend that keeps provenance), then cleared by store_append */
	const struct store_prov_batch *prov;
};

/* Do two stored texts of one (collection, id, version) say the same? The
 * bytes, or else their RFC 8785 canonical forms (so key order, whitespace
 * and escapes alone are no difference). Returns 1 same, 0 different (a
 * text that does not parse differs from any other), -1 out of memory. */
int store__same_json(struct slice a, struct slice b);

extern const struct store__backend store__memory;
extern const struct store__backend store__sqlite;

#endif
