/*
 * hub_lookup.h — many values looked up at once, by many threads, while the
 * writer ingests: the read path of the lookup API (POST /api/v1/match).
 *
 * hub_match() answers one value for a single-threaded program (the CLI).
 * hub_lookup_batch() answers n values for one reader, as hub_match would
 * one by one (normalised value, hits with how and via, allowlist, and for
 * a miss the expired and revoked indicators that would have hit), but:
 *
 *  - only indicators the reader may see count (the may_see callback, the
 *    daemon's policy_row): a hit on an indicator it may not see is no hit,
 *    and such an indicator is not listed as expired or revoked either, so
 *    the answer for a value is the one it would get if those indicators
 *    did not exist (docs/policy.md, existence oracle);
 *  - the index is looked up for all values at once (index_lookup_batch),
 *    under a read lock taken per chunk of HUB_LOOKUP_CHUNK queries: the
 *    writer changes the index under the write lock of the same
 *    writer-preferring rwlock, per change, so neither waits long;
 *  - an indicator is resolved once per call, from a shared cache of its
 *    current version (id, producer, TLP, confidence, valid_until, revoked,
 *    the hashes of the values it names, and its text when the policy
 *    needs it), else from the store through the caller's own connection,
 *    without any lock held. The writer drops a cache entry after a change
 *    to that indicator is durable (hub_int.h), and a reader that began
 *    before such a change does not cache what it read.
 *
 * Threads: once hub_lookup_cache() was called (before other threads use
 * the hub), any number of threads may call hub_lookup_batch() at once,
 * each with its own store connection, while one writer thread runs
 * hub_ingest_items / hub_delete. hub_match() stays single-threaded.
 */
#ifndef TOCSIN_HUB_LOOKUP_H
#define TOCSIN_HUB_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"
#include "util/buf.h"

#define HUB_LOOKUP_MAX_VALUES 1000000     /* values in one call */
#define HUB_LOOKUP_MAX_REFS 256           /* indicators considered per lookup of a value */
#define HUB_LOOKUP_CHUNK 1024             /* lookups per hold of the read lock */
#define HUB_LOOKUP_MAX_LISTED 100000      /* hits listed in one call; past it one a value */
#define HUB_LOOKUP_DEFAULT_CACHE (1u << 20) /* cached indicators (hub_lookup_cache) */
#define HUB_LOOKUP_CACHE_MAX (1u << 26)

/* An indicator behind a hit, as its current version is stored. */
struct hub_lookup_ind {
	uint32_t ref;
	char id[STIX_ID_MAX];
	int64_t collection;                /* store collection number */
	int64_t producer;                  /* organisation number, 0 the hub */
	char key_id[STORE_KEY_ID_MAX + 1]; /* the key that posted it, "" none */
	enum tlp_level tlp;                /* as stored: TLP_NONE when unmarked */
	int confidence;                    /* 0..100, -1 none */
	int64_t valid_until_us;            /* 0: none */
	bool revoked;
};

struct hub_lookup_hit {
	uint32_t ind;                      /* index into hub_lookup.inds */
	enum index_how how;
	enum hub_via via;
	enum hub_hit_state state;
	uint32_t matched_off, matched_len; /* the indexed value that matched, in text */
};

struct hub_lookup_value {
	enum tcerr rc;                     /* TC_OK, or why the value is no observable */
	enum obs_kind kind;
	uint32_t text_off, text_len;       /* in text: the normalised value, or the reason */
	bool allowlisted;
	uint32_t reason_off, reason_len;   /* in text: the allowlist entry's reason */
	uint32_t hit0;                     /* its first hit in hits */
	uint32_t nhits;                    /* live hits listed (at most HUB_MATCH_MAX_HITS; one
	                                    * once the call listed HUB_LOOKUP_MAX_LISTED) */
	uint32_t hits_total;               /* live hits the reader may see */
	uint32_t ninactive;                /* no live hit: expired, then revoked, listed after
	                                    * the live ones (at most HUB_MATCH_MAX_INACTIVE) */
};

/* The answer of one call: values[i] answers values[i] of the call. */
struct hub_lookup {
	struct hub_lookup_value *values;
	size_t nvalues;
	struct hub_lookup_hit *hits;
	size_t nhits;
	struct hub_lookup_ind *inds;
	size_t ninds;
	struct buf text;
	struct hub_lookup_scratch *scratch; /* reused between calls */
};

void hub_lookup_init(struct hub_lookup *out);
/* Frees everything out holds (it may be used again after init). */
void hub_lookup_reset(struct hub_lookup *out);

/* A text of out (text_off/len, reason_off/len, matched_off/len). */
static inline struct slice
hub_lookup_text(const struct hub_lookup *out, uint32_t off, uint32_t len)
{
	return slice_make(out->text.p + off, len);
}

/* Sets up the shared cache of resolved indicators with room for entries
 * (0: HUB_LOOKUP_DEFAULT_CACHE; each costs 8 bytes, and about 200 more
 * while it holds an indicator). Call once, before other threads use h.
 * Without it hub_lookup_batch works, resolving every indicator from the
 * store. Errors: TC_ENOMEM, TC_ELIMIT (entries > HUB_LOOKUP_CACHE_MAX). */
enum tcerr hub_lookup_cache(struct hub *h, size_t entries, struct diag *d);

/* May the reader see this stored version (the indicator's current one)?
 * Called on the caller's thread, possibly under the read lock: it must
 * not call back into the hub. */
typedef bool (*hub_lookup_see_cb)(void *ctx, const struct store_row *row);

/* Looks up values[0..n) (classified and normalised as hub_match does, or
 * all as *kind when kind is not NULL) for a reader who sees what see
 * admits (NULL: everything), reading indicators through s (the calling
 * thread's own store connection). OUT: *out (reset first; keep it for the
 * next call to reuse its memory). A value that is no observable gets rc
 * and a reason and is not an error of the call. Errors: TC_ELIMIT (n >
 * HUB_LOOKUP_MAX_VALUES), TC_ENOMEM, TC_EDB (building the revoked index,
 * or reading an indicator). */
enum tcerr hub_lookup_batch(struct hub *h, struct store *s, const struct slice *values, size_t n,
                            const enum obs_kind *kind, hub_lookup_see_cb see, void *see_ctx,
                            struct hub_lookup *out, struct diag *d);

#endif
