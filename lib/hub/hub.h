/*
 * hub.h — one hub's data directory: store, match index, allowlist, secrets.
 *
 * This is the single path every program takes: accept → validate →
 * extract observables → append to the log (durable) → index. The CLI, the
 * daemon, the benchmarks and the tests all go through it.
 *
 * A data directory holds:
 *   tocsin.db        the SQLite log store (WAL)
 *   card.key         32 random bytes, mode 0600: the payment-card hash key
 *   allowlist.txt    optional operator allowlist (see allowlist.h)
 *   hub.key, hub.pub the hub's Ed25519 key pair (crypto/hubkey.h), made by hub_init
 */
#ifndef TOCSIN_HUB_H
#define TOCSIN_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "index/allowlist.h"
#include "index/index.h"
#include "observable/observable.h"
#include "stix/stix.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct hub;

#define HUB_DEFAULT_DIR "./var"
#define HUB_DEFAULT_COLLECTION "default"
#define HUB_MAX_BATCH 100000    /* objects in one hub_ingest() call */
#define HUB_MATCH_MAX_HITS 64   /* hits reported per matched value */
#define HUB_MATCH_MAX_INACTIVE 8 /* expired or revoked indicators reported per miss */

/* Returns the directory to use: dir if not NULL, else $TOCSIN_DATA, else
 * HUB_DEFAULT_DIR. Never NULL. */
const char *hub_default_dir(const char *dir);

/* Creates a data directory (mode 0700) with an empty store, a fresh card
 * key and the default collection. Errors: TC_EEXIST if dir already holds a
 * store, TC_EIO, TC_EDB. */
enum tcerr hub_init(const char *dir, struct diag *d);

/* Checks that dir (as hub_default_dir) is an initialised data directory,
 * without opening it. Errors: TC_ENOTFOUND (missing, or no store: "run
 * 'tocsin init'"), TC_EINVAL (not a directory), TC_ELIMIT. */
enum tcerr hub_check_dir(const char *dir, struct diag *d);

/* Opens an initialised directory and builds the index. OUT: *out.
 * Errors: TC_ENOTFOUND ("run tocsin init"), TC_EIO, TC_EDB, TC_EINVAL (bad
 * allowlist line: "DIR/allowlist.txt:12: ..."). */
enum tcerr hub_open(const char *dir, struct hub **out, struct diag *d);
void hub_close(struct hub *h);

struct store *hub_store(struct hub *h);
const struct obs_ctx *hub_obs_ctx(const struct hub *h);
struct index *hub_index(struct hub *h);
const struct allowlist *hub_allowlist(const struct hub *h);

/* Finds a collection by alias or id; NULL or "" means the default one. */
enum tcerr hub_collection(struct hub *h, const char *name, struct store_collection *out,
                          struct diag *d);

enum hub_verdict {
	HUB_ACCEPTED = 1,
	HUB_DUPLICATE,
	HUB_REJECTED,
};

struct hub_result {
	enum hub_verdict verdict;
	char id[STIX_ID_MAX];       /* "" if the object had no usable id */
	uint64_t seq;               /* log position when accepted or duplicate */
	int64_t date_added_us;
	enum tcerr rc;              /* why it was rejected */
	char why[DIAG_MSG_MAX];     /* "objects[3].valid_until: must be later than valid_from" */
	enum tlp_level tlp;         /* accepted or duplicate: the version's TLP as stored */
};

/* Validates n objects, appends the valid ones to collection in one durable
 * transaction, and updates the index. paths[i] names object i in messages
 * ("objects[3]", "feed.jsonl:12"); paths may be NULL. OUT: res[i].
 * Returns TC_OK when the batch was processed (some objects may be
 * rejected: see res), or the error that stopped it, in which case nothing
 * of the batch was stored (TC_EDB, TC_ENOMEM, TC_ELIMIT if n > HUB_MAX_BATCH). */
enum tcerr hub_ingest(struct hub *h, int64_t collection, json_t *const *objs,
                      const char *const *paths, size_t n, struct hub_result *res,
                      struct diag *d);

/* One object for hub_ingest_items(): objects of one batch may go to
 * different collections, from different producers (the daemon's group
 * commit). date_added_us 0 lets the store assign it; a migration passes
 * the source's (see store_obj_in). */
struct hub_item {
	json_t *obj;
	const char *path;          /* names the object in messages; may be NULL */
	int64_t collection;
	int64_t producer;          /* organisation number, 0 for the hub */
	int64_t date_added_us;
	/* Optional: obj's JSON text as received (e.g. its span of a POST
	 * body), stored as is instead of json_dumps(obj). The caller
	 * promises it is obj's text: valid JSON that parses to obj, without
	 * insignificant whitespace (what is stored is copied into TAXII
	 * responses). { NULL, 0 }: obj is serialised. */
	struct slice text;
	/* Optional, set by hub_prepare(): obj was validated into *meta and its
	 * observables to index are obs[0..nobs); hub_ingest_items then only
	 * appends and indexes. NULL: hub_ingest_items does it all. */
	const struct stix_meta *meta;
	const struct store_obs *obs;
	size_t nobs;
	/* The registry key id of the principal that posted obj (stored with
	 * the version, shown to readers); NULL: none (the hub's imports). */
	const char *key_id;
};

/* As hub_ingest, per item. Threads: hub_ingest_items and every other
 * function taking a struct hub are called from one thread at a time (the
 * daemon's writer); hub_prepare needs no hub. hub_ingest(h, c, objs, paths, n, ...) is
 * hub_ingest_items with collection c, producer 0. An item that would be a
 * new version of an object another producer made (STORE_FOREIGN) is
 * HUB_REJECTED with rc TC_EPERM and why "PATH: another organisation
 * produced this object; only its producer may add versions"; an item
 * with a negative date_added_us or no obj is rejected with TC_EINVAL.
 * Every collection named must exist (else TC_ENOTFOUND for the batch). */
enum tcerr hub_ingest_items(struct hub *h, const struct hub_item *items, size_t n,
                            struct hub_result *res, struct diag *d);

/* The per-object work of hub_ingest_items that needs no hub: validates
 * each item's obj (stix_validate) and extracts its observables with obs
 * (read-only), setting items[i].meta, .obs and .nobs, and res[i] to
 * HUB_REJECTED (with why) for an item that fails; res[i].verdict is 0 for
 * the others, which the caller hands to hub_ingest_items (the rejected
 * ones are not to be passed). Threads: safe to call from any number of
 * threads at once (obs is only read), so the daemon's request threads do
 * it and its one writer thread only appends and indexes. OUT: *prep, the
 * memory the items now point into (hub_prep_free() after the items were
 * ingested). Errors: TC_ENOMEM, TC_ELIMIT (n > HUB_MAX_BATCH). */
struct hub_prep;
enum tcerr hub_prepare(const struct obs_ctx *obs, struct hub_item *items, size_t n,
                       struct hub_result *res, struct hub_prep **prep, struct diag *d);
void hub_prep_free(struct hub_prep *prep);

/* Deletes versions (store_delete) and keeps the index in step: the
 * observables of deleted current versions leave it, those of versions
 * that became current enter it. OUT: *out. Errors as store_delete. */
enum tcerr hub_delete(struct hub *h, const struct store_delete_q *q, store_delete_cb may,
                      void *may_ctx, struct store_delete_out *out, struct diag *d);

/* What part of the value a hit is for. */
enum hub_via {
	HUB_VIA_VALUE = 0,     /* the value itself */
	HUB_VIA_URL_HOST,      /* the host of a URL (how: parent-domain, or cidr for an address) */
	HUB_VIA_EMAIL_DOMAIN,  /* the domain of an e-mail address (how: parent-domain) */
};

/* Why an indicator that names the value does not make it a hit. */
enum hub_hit_state {
	HUB_HIT_LIVE = 0,
	HUB_HIT_EXPIRED,       /* valid_until is not after now */
	HUB_HIT_REVOKED,       /* its current version is revoked */
};

struct hub_hit {
	uint32_t ref;
	enum index_how how;
	uint8_t prefix_len;
	enum hub_via via;
	enum hub_hit_state state;
	int64_t valid_until_us;            /* of the indicator's current version; 0: none */
	char indicator_id[STIX_ID_MAX];
	char collection[STORE_ALIAS_MAX + 1];
	char matched[OBS_VALUE_MAX + 1];   /* the indexed value that matched (network, parent domain) */
	int64_t producer;                  /* the indicator version's producer, 0 the hub */
	char key_id[STORE_KEY_ID_MAX + 1]; /* the key that posted it, "" none */
};

struct hub_match {
	enum obs_kind kind;
	char value[OBS_VALUE_MAX + 1];      /* normalised */
	bool allowlisted;
	char allowlist_reason[128];
	size_t nhits;                       /* may exceed HUB_MATCH_MAX_HITS */
	struct hub_hit hits[HUB_MATCH_MAX_HITS];
	/* Only when there is no hit: indicators that would name the value
	 * but have expired or are revoked (state says which), at most
	 * HUB_MATCH_MAX_INACTIVE. */
	size_t ninactive;
	struct hub_hit inactive[HUB_MATCH_MAX_INACTIVE];
};

/* Classifies and normalises value (or uses *kind if kind != NULL), looks it
 * up, and resolves each hit to its indicator id. A URL is also looked up
 * by its host (a domain: on the name and each parent, as a domain is; an
 * address: exact and in networks), an e-mail address by its domain: such
 * hits have via HUB_VIA_URL_HOST or HUB_VIA_EMAIL_DOMAIN. When nothing
 * hits, the expired and revoked indicators that would have are listed in
 * inactive (revoked ones come from a second index, built from the store
 * at the first miss that needs it and kept in step by later ingests:
 * hub_match is not to be called concurrently with itself or an ingest).
 * OUT: *out. Errors: TC_EINVAL (the value is no observable: message says
 * why), TC_ENOMEM, TC_EDB (building the revoked index). */
enum tcerr hub_match(struct hub *h, struct slice value, const enum obs_kind *kind,
                     struct hub_match *out, struct diag *d);

#endif
