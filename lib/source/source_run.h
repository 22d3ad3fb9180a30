/*
 * source_run.h — one pull of a source (source_run.c): what it needs from
 * its caller (the registry, a store to find the collection, the hub's
 * normalisation and id key, a registry snapshot, the audit log, a writer)
 * and the one call. Kept apart from source.h so the parsers and the plan
 * need neither the registry nor the hub.
 */
#ifndef TOCSIN_SOURCE_RUN_H
#define TOCSIN_SOURCE_RUN_H

#include "hub/hub.h"
#include "registry/registry.h"
#include "source/source.h"

struct audit;

#define SOURCE_WRITE_BATCH 10000    /* objects per writer submission (<= AUDIT_IDS_MAX) */
#define SOURCE_RETRY_S 60           /* a failed pull is tried again after at most this */

struct source_env {
	struct registry *reg;
	struct store *store;            /* the collection is looked up here */
	const struct obs_ctx *obs;      /* the hub's (hub_obs_ctx) */
	const uint8_t *id_key;          /* the hub's id key (hub_id_key) */
	size_t id_key_len;
	struct reg_snapshot *snap;      /* organisations, for the producer and authorship */
	struct audit *audit;            /* each submission's writes are audited and synced */
	struct source_fetch_cfg fetch;
	size_t max_entries;             /* of one feed; 0: SOURCE_MAX_ENTRIES */
	size_t misp_max_events;         /* of one manifest; 0: SOURCE_MISP_MAX_EVENTS */
	/* One durable write of n items, as hub_ingest_items (tocsind:
	 * hub_writer_ingest; the CLI: hub_ingest_items on its own hub). */
	enum tcerr (*ingest)(void *ctx, const struct hub_item *items, size_t n,
	                     struct hub_result *res, struct diag *d);
	void *ingest_ctx;
};

/* Pulls s once: s's settings say what, and its status fields (result,
 * last_error, warnings, counts, etag, cursor, times, served) are updated
 * in place and written to the registry (registry_source_progress). A pull
 * that fails sets result "error" and last_error; that is not an error of
 * this call. OUT: *added (may be NULL): versions the pull stored. Returns
 * TC_OK, or the error of the status write (TC_ENOTFOUND: the source was
 * removed meanwhile; TC_EDB) with d. */
enum tcerr source_pull(const struct source_env *env, struct reg_source *s, uint64_t *added,
                       struct diag *d);

#endif
