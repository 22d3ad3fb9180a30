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
 *   id.key           32 random bytes, mode 0600: the key the ids of objects
 *                    imported from values are derived under (hub_id_key);
 *                    made by hub_init, and by hub_open for a directory made
 *                    before it existed
 *                    (written by hub_init; without it the hub opens and
 *                    refuses card numbers: TC_EUNSUPPORTED naming the file)
 *   allowlist.txt    optional operator allowlist (see allowlist.h);
 *                    `tocsin allowlist` edits it
 *
 * Ingest refuses an indicator whose pattern names a value that would block
 * everything (obs_breadth_check: "0.0.0.0/0", networks wider than the
 * hub's limit, a top-level domain or public suffix), anywhere in its
 * pattern, OR included: the whole object, with the value in the reason.
 * SCOs are observations and are not judged. An indicator value on the
 * allowlist is accepted with a warning (hub_result.warned): exports leave
 * it out.
 *   hub.key, hub.pub the hub's identity key pair (crypto/hubkey.h), made by hub_init
 */
#ifndef TOCSIN_HUB_H
#define TOCSIN_HUB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/hubkey.h"
#include "index/allowlist.h"
#include "prov/prov.h"
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
/* As hub_init with the hub's identity key of algorithm alg (hub_init:
 * ed25519). */
enum tcerr hub_init_alg(const char *dir, enum hubkey_alg alg, struct diag *d);

/* Checks that dir (as hub_default_dir) is an initialised data directory,
 * without opening it. Errors: TC_ENOTFOUND (missing, or no store: "run
 * 'tocsin init'"), TC_EINVAL (not a directory), TC_ELIMIT. */
enum tcerr hub_check_dir(const char *dir, struct diag *d);

/* Opens an initialised directory and builds the index; writes DIR/id.key
 * if the directory has none yet (made by an older tocsin). OUT: *out.
 * Errors: TC_ENOTFOUND ("run tocsin init"), TC_EIO, TC_EDB, TC_EINVAL (bad
 * allowlist line: "DIR/allowlist.txt:12: ..."). */
enum tcerr hub_open(const char *dir, struct hub **out, struct diag *d);
void hub_close(struct hub *h);

struct store *hub_store(struct hub *h);
/* The public key this hub signs provenance with (loaded at hub_open: a
 * later `tocsin hub-key rotate` takes effect at the next open). Returns
 * false when the directory has no hub.key. OUT: *out. */
bool hub_identity(const struct hub *h, struct hubkey_pub *out);
const struct obs_ctx *hub_obs_ctx(const struct hub *h);
/* The hub's id key (HUB_ID_KEY_LEN bytes, owned by h): what imports
 * derive the ids of the indicators they make under (import_opts.id_key),
 * so that the same file imported again into this hub gives the same ids
 * and nobody without the key can compute them (issue 9). */
#define HUB_ID_KEY_LEN 32
const uint8_t *hub_id_key(const struct hub *h);
struct index *hub_index(struct hub *h);
/* The allowlist in force, without a reference: for single-threaded
 * programs (valid until the next hub_allowlist_reload). */
const struct allowlist *hub_allowlist(const struct hub *h);

#define HUB_ALLOWLIST_FILE "allowlist.txt"

/* The allowlist in force, with a reference (allowlist_ref): the caller
 * drops it with allowlist_free(). Thread-safe: any thread, while the
 * owner reloads. Never NULL. */
struct allowlist *hub_allowlist_get(struct hub *h);

/* Re-reads the built-in entries and DATA/allowlist.txt when the file
 * changed since it was last read (modification time, size, inode; created
 * or removed) or when force is set. OUT: *reloaded (may be NULL). On error
 * the allowlist in force stays (and a failed file is not read again until
 * it changes). Thread-safe: any thread, while another ingests; ingest and
 * exports hold a reference to the allowlist they use.
 * Errors: as hub_open's allowlist errors ("DATA/allowlist.txt:12: ...").
 * `tocsind` calls it before a write batch, at most once a second, and
 * with force on SIGHUP. */
enum tcerr hub_allowlist_reload(struct hub *h, bool force, bool *reloaded, struct diag *d);

/* Decisions (store.h, "Decisions"): judges the store's contributions
 * again when the allowlist was reloaded since the last call (or the hub
 * was opened: what changed while nobody watched), and removes those
 * whose valid_until is not after now_us (0: the clock), each change an
 * event in the log. Writer thread only (it writes to the store). OUT:
 * *events (may be NULL): events appended. Errors: TC_EDB, TC_ENOMEM,
 * TC_EUNSUPPORTED (a store without decisions). */
enum tcerr hub_decisions_maintain(struct hub *h, int64_t now_us, size_t *events,
                                  struct diag *d);
/* When hub_decisions_maintain next has something to expire (µs; 0: none
 * known, or not looked yet). */
int64_t hub_decisions_due(const struct hub *h);

/* Sets the widest network an indicator may name (obs_breadth_check): 0
 * keeps the default (/8, /32). Call before other threads use
 * hub_obs_ctx(). tocsind: [ingest] widest_prefix_v4 / widest_prefix_v6;
 * tocsin import: the same keys read from --config FILE. */
void hub_set_widest_prefix(struct hub *h, unsigned v4, unsigned v6);

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
	/* HUB_REJECTED: why ("objects[3].valid_until: must be later than
	 * valid_from"). Accepted or duplicate with warned set: the warnings,
	 * "; "-separated, each "PATH: warning: ..." — today an allowlisted
	 * value ("objects[0]: warning: 8.8.8.8 is on the built-in allowlist
	 * (Google Public DNS): accepted, but never exported for blocking").
	 * Otherwise "". Add one with hub_result_warn(). */
	char why[DIAG_MSG_MAX];
	bool warned;
	enum tlp_level tlp;         /* accepted or duplicate: the version's TLP as stored */
	/* accepted or duplicate after payment card numbers in the object were
	 * replaced by their keyed hash (obs_cards_protect): what was stored is
	 * not what was sent */
	bool cards_hashed;
	/* the object carried this hub's own provenance (an export imported
	 * again): it was dropped, so the text is serialised again, and the
	 * object signed in this batch */
	bool prov_dropped;
	/* HUB_ACCEPTED but not stored: the hub holds this (collection, id,
	 * version) in a copy the poster may not see, or the object in
	 * versions of another producer none of which it may see
	 * (hub_item.may_see), and answers as it would had it never held it;
	 * the poster's copy is dropped (docs/policy.md). seq is 0. */
	bool unseen_copy;
};

/* Appends a warning to an accepted or duplicate result r (format as
 * printf), "; "-separated after an earlier one; text past why's size is
 * cut with "...". Sets r->warned. */
void hub_result_warn(struct hub_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
	/* Set by hub_prepare() with meta: obj was rewritten (card numbers
	 * replaced by their keyed hash, obs_cards_protect) and text was
	 * cleared, so obj is serialised; hub_ingest_items reports it as
	 * res[i].cards_hashed. */
	bool cards_hashed;
	/* Optional: may the poster see a stored version? Asked about the
	 * stored copy when this item repeats a stored (collection, id,
	 * version), and about the stored versions when it would be a new
	 * version of another producer's object, so that the answer depends
	 * only on versions the poster may see (see hub_ingest_items). NULL: it sees everything (the hub's
	 * own imports). Called on the thread that runs hub_ingest_items. */
	bool (*may_see)(void *ctx, const struct store_row *row);
	void *may_see_ctx;
	/* Set by hub_prepare when the hub signs provenance (obs_ctx.prov_alg):
	 * the object's Merkle leaf (prov_leaf), computed in the request thread
	 * so the writer only builds the batch's tree and signs its root. */
	uint8_t prov_leaf[PROV_HASH_LEN];
	bool has_prov_leaf;
	/* The object comes from a peer hub with its provenance extension,
	 * which the caller verified (prov_verify): it is stored as received
	 * and not signed again. false: an object that carries the provenance
	 * extension is refused (TC_EPERM: only replication may store another
	 * hub's provenance). */
	bool peer_provenance;
};

/* As hub_ingest, per item. Threads: hub_ingest_items and every other
 * function taking a struct hub are called from one thread at a time (the
 * daemon's writer); hub_prepare needs no hub. hub_ingest(h, c, objs, paths, n, ...) is
 * hub_ingest_items with collection c, producer 0. An item that would be a
 * new version of an object another producer made (STORE_FOREIGN) is
 * HUB_REJECTED with rc TC_EPERM and why "PATH: another organisation
 * produced this object; only its producer may add versions" when its
 * poster may see some stored version of the object (item.may_see; NULL:
 * always); when it may see none, the item is answered as a new object
 * (HUB_ACCEPTED, unseen_copy set) and not kept (issue 9). An item
 * whose (collection, id, version) is stored already is HUB_DUPLICATE
 * when the content is the same (canonically) and HUB_REJECTED with rc
 * TC_EEXIST and why "PATH: conflict: a different version with the same
 * id and modified is already stored" when it is not — both only when the
 * poster may see the stored copy (item.may_see); otherwise the answer is
 * the one a new object gets (HUB_ACCEPTED, unseen_copy set), so that it
 * tells nothing about objects the poster cannot see. An item
 * with a negative date_added_us or no obj is rejected with TC_EINVAL.
 * Every collection named must exist (else TC_ENOTFOUND for the batch). */
enum tcerr hub_ingest_items(struct hub *h, const struct hub_item *items, size_t n,
                            struct hub_result *res, struct diag *d);

/* The per-object work of hub_ingest_items that needs no hub: validates
 * each item's obj (stix_validate), keeps payment card numbers out of it
 * (obs_cards_protect: obj may be changed in place, and then its text is
 * cleared and cards_hashed set), and extracts its observables with obs
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

/* "value", "url-host", "email-domain" (the names every output uses). */
const char *hub_via_name(enum hub_via via);

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
	enum tlp_level tlp;                /* as stored: TLP_NONE when unmarked (default_tlp
	                                    * applies: reg_default_tlp_get) */
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
