/*
 * registry.h — who may talk to a hub: organisations, principals and their
 * credentials, each collection's read/write rights, and TAXII status
 * resources.
 *
 * The registry lives in DATA/registry.db (SQLite, WAL), beside the log
 * store; the CLI changes it, the daemon reads it at start, on SIGHUP and
 * whenever its generation moves (registry_generation) into an immutable
 * snapshot (struct reg_snapshot) that authenticates
 * requests and answers policy questions without touching the database.
 * API keys are shown once, at creation, and stored only as a hash: a key
 * carries 256 random bits, so a fast hash (SHA-256) is as safe as a slow
 * password hash and costs no time per request. A principal authenticated
 * by a client certificate is stored by the certificate's SHA-256
 * fingerprint. A struct registry may be used from several threads: calls
 * are serialised internally.
 */
#ifndef TOCSIN_REGISTRY_H
#define TOCSIN_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stix/stix.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct registry;
struct reg_snapshot;

#define REG_FILE "registry.db"
#define REG_ORG_NAME_MAX 128        /* bytes of an organisation name */
#define REG_GROUPS_MAX 32           /* sharing groups per organisation */
#define REG_GROUP_NAME_MAX 64       /* [a-z0-9][a-z0-9._-]* */
#define REG_KEY_NAME_MAX 128        /* bytes of a principal's free-text name */
#define REG_KEY_ID_LEN 12           /* "k" + 11 lower-case base32 characters */
#define REG_KEY_TEXT_MAX 96         /* the whole key as shown once: "tcs_<id>_<secret>" */
#define REG_SPEC_MAX 4096           /* bytes of a read/write SPEC */
#define REG_SPEC_TERMS_MAX 256      /* terms in one SPEC */
#define REG_STATUS_MAX (64 * 1024 * 1024) /* bytes of one stored status resource */

/* DESIGN §4: the sectors an organisation belongs to. */
enum reg_sector {
	SECTOR_TELECOM = 1,
	SECTOR_FINANCE,
	SECTOR_INTERNET,
	SECTOR_GOVERNMENT,
	SECTOR_LAW_ENFORCEMENT,
	SECTOR_CERT,
	SECTOR_CRITICAL_INFRASTRUCTURE,
	SECTOR_OTHER,
};
#define SECTOR_MAX SECTOR_OTHER

/* What a principal may do. reader and agent read; contributor,
 * coordinator, admin and peer also write (collection rights permitting);
 * admin may delete versions other organisations produced. */
enum reg_role {
	ROLE_READER = 1,
	ROLE_CONTRIBUTOR,
	ROLE_COORDINATOR,
	ROLE_ADMIN,
	ROLE_AGENT,
	ROLE_PEER,
};
#define ROLE_MAX ROLE_PEER

/* "telecom", "law-enforcement", ... NULL for an out-of-range value. */
const char *reg_sector_name(enum reg_sector s);
const char *reg_role_name(enum reg_role r);
/* TC_EINVAL (message lists the valid names) for an unknown name. */
enum tcerr reg_sector_parse(const char *name, enum reg_sector *out, struct diag *d);
enum tcerr reg_role_parse(const char *name, enum reg_role *out, struct diag *d);
/* true if role r may write at all. */
bool reg_role_writes(enum reg_role r);

struct reg_org {
	int64_t num;                          /* from 1; 0 is the hub itself */
	char name[REG_ORG_NAME_MAX + 1];      /* unique, case-insensitively */
	enum reg_sector sector;
	char country[3];                      /* ISO 3166-1 alpha-2, upper case */
	/* The organisation's STIX identity: identity--UUIDv5(tocsin namespace,
	 * name). Objects name recipients by these ids (see policy.h). */
	char identity[STIX_ID_MAX];
	size_t ngroups;
	char groups[REG_GROUPS_MAX][REG_GROUP_NAME_MAX + 1]; /* sorted, unique */
	int64_t created_us;
	int64_t deleted_us;                   /* 0 while it exists (registry_org_delete) */
	int64_t updated_us;                   /* last rename, 0 if never */
};

enum reg_cred {
	REG_CRED_KEY = 1,    /* API key: HTTP Basic password or Bearer token */
	REG_CRED_CERT,       /* TLS client certificate, by SHA-256 fingerprint */
};

struct reg_principal {
	int64_t num;                          /* from 1 */
	char key_id[REG_KEY_ID_LEN + 1];      /* public; what `key revoke` takes */
	int64_t org;
	enum reg_role role;
	enum reg_cred cred;
	char name[REG_KEY_NAME_MAX + 1];
	int64_t created_us;
	int64_t revoked_us;                   /* 0 while valid */
	int64_t expires_us;                   /* 0: never; refused from then on */
};

/* Opens (creating if needed) DIR/registry.db. Errors: TC_EIO, TC_EDB
 * (message names the file), TC_ENOMEM. */
enum tcerr registry_open(const char *dir, struct registry **out, struct diag *d);
void registry_close(struct registry *r);

/* A number that moves whenever anything a snapshot reads changes in the
 * registry (organisations, groups, keys and their revocation, rights),
 * whoever changed it: triggers keep it, so a running tocsind polls it
 * and reloads without SIGHUP. OUT: *out. Errors: TC_EDB. */
enum tcerr registry_generation(struct registry *r, uint64_t *out, struct diag *d);
/* Moves the generation by hand, for a change a snapshot reads that lives
 * outside the registry (a collection's title in the store). TC_EDB. */
enum tcerr registry_touch(struct registry *r, struct diag *d);

/* Organisations. add: name 1..REG_ORG_NAME_MAX printable UTF-8, without
 * ',' (it separates SPEC terms), not starting with '#' (see find) and
 * without leading or trailing spaces; unique under ASCII case folding.
 * country two letters (stored upper case). groups may be NULL; each is
 * lower-cased, checked, sorted and de-duplicated. The identity is
 * identity--UUIDv5(REG_ORG_NAMESPACE, ASCII-lower-cased name). Errors:
 * TC_EEXIST, TC_EINVAL (message names the field), TC_ELIMIT (more than
 * REG_GROUPS_MAX groups). OUT: *out (may be NULL). */
#define REG_ORG_NAMESPACE "8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62"

enum tcerr registry_org_add(struct registry *r, const char *name, enum reg_sector sector,
                            const char *country, const char *const *groups, size_t ngroups,
                            struct reg_org *out, struct diag *d);
/* ISO 3166-1 alpha-2: TC_OK if cc (any case) is an officially assigned
 * code, or XK (user-assigned, but what the European Commission and CERTs
 * use for Kosovo). Other user-assigned codes (AA, QM-QZ, XA-XZ, ZZ) and
 * reserved ones (UK, EU, ...) are TC_EINVAL with a message naming cc. */
enum tcerr reg_country_check(const char *cc, struct diag *d);

/* Renames an organisation. Its number and STIX identity never change
 * (objects name it by its identity); collection rights that name it are
 * rewritten to the new name in the same transaction. The new name obeys
 * add's rules and may differ from the old only in case. OUT: *out (may
 * be NULL) as it is now, *nrights (may be NULL) the rights rows
 * rewritten. Errors: TC_ENOTFOUND, TC_EINVAL (bad name, deleted
 * organisation), TC_EEXIST (name taken, also by a deleted one), TC_EDB. */
enum tcerr registry_org_rename(struct registry *r, const char *name, const char *newname,
                               struct reg_org *out, size_t *nrights, struct diag *d);
/* Deletes an organisation: revokes every key and certificate it has and
 * marks it deleted. The row stays: objects it produced keep their
 * attribution (name and identity), and its name and identity stay
 * reserved so that nobody can later publish as it. A deleted organisation
 * gets no keys, groups or new rights and cannot be renamed. OUT: *out,
 * *nrevoked (both may be NULL). Errors: TC_ENOTFOUND, TC_EINVAL (already
 * deleted), TC_EDB. */
enum tcerr registry_org_delete(struct registry *r, const char *name, struct reg_org *out,
                               size_t *nrevoked, struct diag *d);
/* Replaces an organisation's sharing groups. TC_ENOTFOUND, TC_EINVAL. */
enum tcerr registry_org_set_groups(struct registry *r, const char *name,
                                   const char *const *groups, size_t ngroups, struct diag *d);
/* By name (any case) or by "#num". TC_ENOTFOUND. */
enum tcerr registry_org_find(struct registry *r, const char *name, struct reg_org *out);
/* In creation order. cb's error stops the walk and is returned. */
enum tcerr registry_org_list(struct registry *r,
                             enum tcerr (*cb)(void *ctx, const struct reg_org *o), void *ctx);

/* Appends to out the organisation's STIX 2.1 identity object (compact
 * JSON): its identity id, name, identity_class "organization", sectors
 * (the STIX industry sector of its tocsin sector, where one fits) and
 * created = modified = the organisation's creation time, so the same
 * organisation always gives the same object. Errors: those of out
 * (buf_error). */
void reg_org_identity_sdo(const struct reg_org *o, struct buf *out);

/* Creates a principal of org. For REG_CRED_KEY, key_text receives the key
 * (REG_KEY_TEXT_MAX + 1 bytes), the only time it exists outside the
 * caller; cert_sha256 is NULL. For REG_CRED_CERT, cert_sha256 is the
 * certificate's fingerprint and key_text is left empty. Errors:
 * TC_ENOTFOUND (no such org), TC_EINVAL, TC_EEXIST (certificate already
 * mapped). OUT: *out (may be NULL). */
enum tcerr registry_key_create(struct registry *r, const char *org, enum reg_role role,
                               const char *name, const uint8_t *cert_sha256,
                               char *key_text, struct reg_principal *out, struct diag *d);
/* As registry_key_create, with an expiry: expires_us 0 never expires,
 * else it must lie in the future (TC_EINVAL) and from then on the
 * credential is refused at authentication (reg_snapshot_auth_*), by the
 * clock at that moment, without a reload. */
enum tcerr registry_key_create_expiring(struct registry *r, const char *org,
                                        enum reg_role role, const char *name,
                                        const uint8_t *cert_sha256, int64_t expires_us,
                                        char *key_text, struct reg_principal *out,
                                        struct diag *d);
/* The SHA-256 fingerprint of a certificate given as PEM (the first
 * "-----BEGIN CERTIFICATE-----" block) or as DER, as a TLS layer computes
 * it over the DER bytes. Errors: TC_EINVAL (no certificate, bad base64;
 * message says which), TC_ELIMIT (larger than REG_CERT_MAX). */
#define REG_CERT_MAX (64 * 1024)
enum tcerr registry_cert_fingerprint(const char *data, size_t len, uint8_t sha256[32],
                                     struct diag *d);
/* Revokes by key id; revoking twice is TC_OK. TC_ENOTFOUND. */
enum tcerr registry_key_revoke(struct registry *r, const char *key_id, struct diag *d);
enum tcerr registry_key_list(struct registry *r,
                             enum tcerr (*cb)(void *ctx, const struct reg_principal *p),
                             void *ctx);

/* Collection rights. A SPEC is a comma-separated list of terms, ORed:
 *   all                  every authenticated principal
 *   none                 nobody (the default for a collection without rights)
 *   org:NAME             an organisation
 *   sector:SECTOR        every organisation of a sector
 *   role:ROLE            every principal with that role
 *   group:GROUP          every organisation in a sharing group
 * A bare word is a sector or role name if it is one, else an organisation
 * name. Names are checked against the registry when set (TC_EINVAL names
 * the unknown term; a group: term must name a group some organisation is
 * in). Keywords, sectors and roles match in any case. `none` stands alone;
 * an empty SPEC is TC_EINVAL. collection is a TAXII collection id (UUID,
 * stored lower-cased). */
enum tcerr registry_rights_set(struct registry *r, const char *collection, const char *read_spec,
                               const char *write_spec, struct diag *d);
/* Checks a SPEC as registry_rights_set() would, storing nothing (so a
 * caller can check rights before creating the collection). TC_EINVAL,
 * TC_ELIMIT (message names the term), TC_EDB. */
enum tcerr registry_spec_check(struct registry *r, const char *spec, struct diag *d);
/* Records that collection (a UUID) was deleted (tocsin collection delete):
 * snapshots leave it out from then on, and its rights and API root are
 * dropped; the store keeps its row (its objects' tombstones name it).
 * alias is the alias it had, kept for the record. Errors: TC_EINVAL,
 * TC_EDB. */
enum tcerr registry_collection_deleted_add(struct registry *r, const char *collection,
                                           const char *alias, struct diag *d);
/* OUT: *out = collection was deleted. Errors: TC_EDB. */
enum tcerr registry_collection_deleted(struct registry *r, const char *collection, bool *out,
                                       struct diag *d);
/* Appends the stored specs to read/write; TC_ENOTFOUND if none were set. */
enum tcerr registry_rights_get(struct registry *r, const char *collection, struct buf *read_spec,
                               struct buf *write_spec);

/* TAXII API roots (§4.2). A root is known to the registry once a
 * collection is put in it (tocsin collection add --api-root) or a
 * migration brings it; tocsind serves these beside the roots its
 * configuration file defines (which override title, description and
 * max_content_length of a root of the same name). A collection with no
 * root recorded belongs to the daemon's default root. */
#define REG_API_ROOT_NAME_MAX 63    /* [a-z0-9][a-z0-9_-]* */
struct reg_api_root {
	char name[REG_API_ROOT_NAME_MAX + 1];
	char title[STORE_TITLE_MAX + 1];          /* "" = the name */
	char description[STORE_DESCRIPTION_MAX + 1];
	uint64_t max_content_length;              /* 0 = the daemon's default */
};
/* TC_EINVAL (message names the root) for a name that is not
 * [a-z0-9][a-z0-9_-]* of 1..REG_API_ROOT_NAME_MAX bytes. */
enum tcerr reg_api_root_name_check(const char *name, struct diag *d);
/* Records root unless a root of that name exists (which is kept as it
 * is). OUT: *created (may be NULL). Errors: TC_EINVAL, TC_ELIMIT, TC_EDB. */
enum tcerr registry_api_root_ensure(struct registry *r, const struct reg_api_root *root,
                                    bool *created, struct diag *d);
/* Puts collection (a UUID) in API root root (replacing its previous root).
 * The root need not be recorded. Errors: TC_EINVAL, TC_EDB. */
enum tcerr registry_collection_root_set(struct registry *r, const char *collection,
                                        const char *root, struct diag *d);
/* The root recorded for collection, "" when none (the default root).
 * Errors: TC_EDB. */
enum tcerr registry_collection_root_get(struct registry *r, const char *collection,
                                        char out[REG_API_ROOT_NAME_MAX + 1]);

/* TAXII status resources (§4.3), kept at least REG_STATUS_KEEP_US. put
 * replaces; it returns once the status is durable, and concurrent puts
 * share one transaction (one fsync) — group commit, thread-safe. get appends the stored JSON text to out; TC_ENOTFOUND when
 * unknown or expired. purge drops those older than now_us - keep_us. */
#define REG_STATUS_KEEP_US (48LL * 3600 * 1000000)
/* Keys: "ORG/ID" for a status of the default API root, "ORG/ROOT/ID" for
 * another root (ORG the posting organisation's number, 0 for the hub
 * itself), and "import/ROOT/ID" for a status a migration brought (its
 * poster is unknown: lib/taxii shows it to whoever may read or write a
 * collection of ROOT). */
#define REG_STATUS_IMPORTED_PREFIX "import/"
enum tcerr registry_status_put(struct registry *r, const char *id, int64_t created_us,
                               const char *json, size_t len, struct diag *d);
enum tcerr registry_status_get(struct registry *r, const char *id, int64_t now_us,
                               struct buf *out);
enum tcerr registry_status_purge(struct registry *r, int64_t now_us, struct diag *d);

/* A compiled SPEC. */
struct reg_spec {
	bool all;
	unsigned sectors;         /* bit (1 << enum reg_sector) */
	unsigned roles;           /* bit (1 << enum reg_role) */
	size_t norgs;
	int64_t *orgs;            /* sorted */
	size_t ngroups;
	char (*groups)[REG_GROUP_NAME_MAX + 1];
};

/* One collection as the daemon serves it: the store's collection and its
 * rights (both specs empty = nobody). */
struct reg_collection {
	struct store_collection c;
	struct reg_spec read, write;
	char api_root[REG_API_ROOT_NAME_MAX + 1]; /* "" = the daemon's default root */
};

/* An immutable picture of the registry plus the store's collections,
 * shared by request threads: reference-counted, freed by the last unref.
 * Errors: TC_EDB, TC_ENOMEM, TC_EINVAL (a stored spec no longer resolves:
 * the message names the collection and term). */
/* s is read (store_collection_list) during the call, so the caller must
 * not use it from another thread meanwhile (store.h). */
enum tcerr reg_snapshot_build(struct registry *r, struct store *s, struct reg_snapshot **out,
                              struct diag *d);
void reg_snapshot_ref(struct reg_snapshot *snap);
void reg_snapshot_unref(struct reg_snapshot *snap);

/* Authentication. key_text is the whole key ("tcs_<id>_<secret>"); the
 * comparison is constant-time. NULL when unknown, revoked or expired (the
 * expiry is checked against the clock at each call, so a key stops
 * working at its expiry whatever the snapshot's age). */
const struct reg_principal *reg_snapshot_auth_key(const struct reg_snapshot *snap,
                                                  const char *key_text, size_t len);
const struct reg_principal *reg_snapshot_auth_cert(const struct reg_snapshot *snap,
                                                   const uint8_t sha256[32]);
/* The active principal of key key_id (the public part of a key; no
 * secret is checked): for a holder that authenticated earlier against
 * another snapshot (a stream) to learn whether its key still stands.
 * NULL when unknown, revoked or expired (by the clock now). */
const struct reg_principal *reg_snapshot_key(const struct reg_snapshot *snap,
                                             const char *key_id);
/* Lookups; NULL when absent. */
const struct reg_org *reg_snapshot_org(const struct reg_snapshot *snap, int64_t num);
/* The organisation whose STIX identity id is identity (compared without
 * regard to case; bisection, O(log n)). */
const struct reg_org *reg_snapshot_org_by_identity(const struct reg_snapshot *snap,
                                                   const char *identity);
/* The i-th organisation in number order, i < reg_snapshot_norgs(). */
const struct reg_org *reg_snapshot_org_at(const struct reg_snapshot *snap, size_t i);
const struct reg_collection *reg_snapshot_collection(const struct reg_snapshot *snap,
                                                     int64_t num);
/* By id (UUID, any case) or alias. */
const struct reg_collection *reg_snapshot_collection_find(const struct reg_snapshot *snap,
                                                          const char *id_or_alias);
/* Collections in creation order (a stable order, TAXII §3.3). */
size_t reg_snapshot_ncollections(const struct reg_snapshot *snap);
const struct reg_collection *reg_snapshot_collection_at(const struct reg_snapshot *snap,
                                                        size_t i);
/* The API roots the registry knows, in creation order. */
size_t reg_snapshot_napi_roots(const struct reg_snapshot *snap);
const struct reg_api_root *reg_snapshot_api_root_at(const struct reg_snapshot *snap, size_t i);
/* Counts, for /metrics and logs. */
size_t reg_snapshot_norgs(const struct reg_snapshot *snap);
size_t reg_snapshot_nprincipals(const struct reg_snapshot *snap);

/* default_tlp: the level an unmarked object version counts as (policy.h).
 * One value per data directory, kept in the store's settings so that the
 * daemon and the CLI judge alike: tocsind writes its configuration key
 * default_tlp there at start; until then REG_DEFAULT_TLP applies. get:
 * OUT: *out. Errors: TC_EINVAL (a stored value that is no level; the
 * message names it), TC_EDB. set: TC_EINVAL for TLP_NONE, TC_EDB. */
#define REG_DEFAULT_TLP TLP_GREEN
#define REG_DEFAULT_TLP_SETTING "default_tlp"
enum tcerr reg_default_tlp_get(struct store *s, enum tlp_level *out, struct diag *d);
enum tcerr reg_default_tlp_set(struct store *s, enum tlp_level lvl, struct diag *d);
/* The default_tlp read when snap was built (REG_DEFAULT_TLP for NULL). */
enum tlp_level reg_snapshot_default_tlp(const struct reg_snapshot *snap);

/* true if the spec admits principal p of organisation o (o may be NULL
 * for the hub itself: only `all` admits it). */
bool reg_spec_admits(const struct reg_spec *spec, const struct reg_principal *p,
                     const struct reg_org *o);

/* Webhook subscriptions (docs/webhooks.md): an organisation's receiver
 * that tocsind POSTs the log to, with the subscription's durable cursor
 * and delivery state. The secret is kept in clear (the hub must sign
 * with it) in registry.db, which only the hub's user may read. The URL
 * and filter are checked by the caller (lib/webhook, lib/feed) before
 * add; the registry checks their sizes, the view name and the cursor's
 * form. */
#define REG_WEBHOOK_ID_LEN 12          /* "w" + 11 lower-case base32 characters */
#define REG_WEBHOOK_URL_MAX 2048       /* = WEBHOOK_URL_MAX */
#define REG_WEBHOOK_SECRET_MAX 256     /* = WEBHOOK_SECRET_MAX */
#define REG_WEBHOOK_FILTER_MAX 4096    /* bytes of the filter's query string */
#define REG_WEBHOOK_POS_MAX 32         /* = FEED_POS_TEXT_MAX */
#define REG_WEBHOOK_ERROR_MAX 512      /* bytes of the last error kept */
#define REG_WEBHOOKS_MAX 1024          /* subscriptions on one hub */

enum reg_webhook_state {
	REG_WEBHOOK_ACTIVE = 1,
	REG_WEBHOOK_DEAD,                  /* dead-letter: max_attempts failures in a row */
};
const char *reg_webhook_state_name(enum reg_webhook_state s); /* "active", "dead" */

struct reg_webhook {
	char id[REG_WEBHOOK_ID_LEN + 1];
	int64_t org;
	char org_name[REG_ORG_NAME_MAX + 1];
	char url[REG_WEBHOOK_URL_MAX + 1];
	uint8_t secret[REG_WEBHOOK_SECRET_MAX];
	size_t secret_len;
	char view[16];                          /* "stix" or "decisions" */
	char filter[REG_WEBHOOK_FILTER_MAX + 1]; /* "kind=ipv4-addr&min_confidence=50", "" = all */
	char cursor[REG_WEBHOOK_POS_MAX];       /* feed position delivered up to ("SEQ") */
	/* the last event of the batch being delivered, "" when none: a retry
	 * (also after a restart) sends the same events with the same
	 * delivery id */
	char pending_end[REG_WEBHOOK_POS_MAX];
	enum reg_webhook_state state;
	unsigned attempts;                      /* failures in a row */
	char last_error[REG_WEBHOOK_ERROR_MAX + 1];
	int64_t last_attempt_us, last_delivery_us, next_attempt_us, created_us;
	uint64_t deliveries;                    /* batches acknowledged with a 2xx */
	int64_t revision;                       /* moved by add and replay */
};

/* Wipes w's secret. */
void reg_webhook_wipe(struct reg_webhook *w);

/* Adds a subscription from w's org_name (an organisation's name or
 * "#num"), url, secret, view, filter and cursor; the id, state (active),
 * counters and times are set here. OUT: *out (may be NULL) the stored
 * row. Errors: TC_ENOTFOUND (no such organisation), TC_EINVAL (deleted
 * organisation, empty URL, secret shorter than 16 bytes, unknown view,
 * cursor not a position), TC_ELIMIT (REG_WEBHOOKS_MAX), TC_EDB. */
enum tcerr registry_webhook_add(struct registry *r, const struct reg_webhook *w,
                                struct reg_webhook *out, struct diag *d);
/* By id. TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_webhook_get(struct registry *r, const char *id, struct reg_webhook *out,
                                struct diag *d);
/* Every subscription, in creation order, each handed to cb (a copy,
 * wiped after the call; cb may call the registry). cb's error stops the
 * walk and is returned. Errors: TC_ENOMEM, TC_EDB. */
enum tcerr registry_webhook_list(struct registry *r,
                                 enum tcerr (*cb)(void *ctx, const struct reg_webhook *w),
                                 void *ctx, struct diag *d);
/* TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_webhook_remove(struct registry *r, const char *id, struct diag *d);
/* Revives a subscription (dead or not): active, no failures, no pending
 * batch, due now; the cursor is from when given ("SEQ"), else kept.
 * Moves its revision, so a delivery in flight does not write over it.
 * OUT: *out (may be NULL). Errors: TC_ENOTFOUND, TC_EINVAL (from), TC_EDB. */
enum tcerr registry_webhook_replay(struct registry *r, const char *id, const char *from,
                                   struct reg_webhook *out, struct diag *d);
/* The delivery worker's write: cursor, pending_end, state, attempts,
 * last_error, the times and deliveries of w, for w->id at w->revision
 * only. Returns once durable. TC_ENOTFOUND when the subscription was
 * removed or replayed meanwhile (the caller re-reads it), TC_EDB. */
enum tcerr registry_webhook_progress(struct registry *r, const struct reg_webhook *w,
                                     struct diag *d);
/* A number that moves when a subscription is added, removed or
 * replayed. TC_EDB. */
enum tcerr registry_webhook_generation(struct registry *r, uint64_t *out, struct diag *d);
/* true if s is a feed position in text form: a decimal number without
 * sign or leading zeros, at most UINT64_MAX (as feed_pos_parse reads it;
 * the registry cannot depend on lib/feed). */
bool reg_webhook_pos_ok(const char *s);

/* CrowdSec-compatible bouncers (docs/bouncers.md): the log position each
 * key of role agent has been served up to, kept in registry.db's
 * settings under "bouncer_cursor:KEY_ID" (no schema step: the settings
 * table is there from the first). get: OUT: *seq, *found (false when the
 * key never polled). advance: stores seq unless a greater position is
 * stored already (so a late write from an older poll never moves a
 * bouncer back); returns once durable. Errors: TC_EINVAL (key_id not a
 * key id), TC_EDB. */
#define REG_BOUNCER_CURSOR_PREFIX "bouncer_cursor:"
enum tcerr registry_bouncer_cursor_get(struct registry *r, const char *key_id, uint64_t *seq,
                                       bool *found, struct diag *d);
enum tcerr registry_bouncer_cursor_advance(struct registry *r, const char *key_id, uint64_t seq,
                                           struct diag *d);

/* tocsin-agent receipts (docs/agent.md, registry_agent.c): per key of
 * role agent, the log position its enforcement point reported applied,
 * kept in registry.db's settings under "agent_receipt:KEY_ID". */
#define REG_AGENT_RECEIPT_PREFIX "agent_receipt:"
struct reg_agent_receipt {
	uint64_t position;      /* applied up to this log position */
	int64_t applied_us;     /* when, by the agent's clock */
	int64_t received_us;    /* when the hub heard it */
};
/* Stores rc for key_id unless a greater position is stored (an equal one
 * refreshes the times); returns once durable. Errors: TC_EINVAL, TC_EDB. */
enum tcerr registry_agent_receipt_put(struct registry *r, const char *key_id,
                                      const struct reg_agent_receipt *rc, struct diag *d);
/* Calls cb for each stored receipt (at most max), in key id order; an
 * error cb returns stops the walk and is returned. Holds the registry's
 * lock meanwhile: cb must not call the registry. Errors: TC_EDB. */
enum tcerr registry_agent_receipts(struct registry *r, size_t max,
                                   enum tcerr (*cb)(void *ctx, const char *key_id,
                                                    const struct reg_agent_receipt *rc),
                                   void *ctx, struct diag *d);

/* Sources (docs/sources.md, registry_source.c): feeds tocsind pulls on a
 * schedule, each producing as its own organisation. The auth header
 * ("Name: value", sent with every request) is kept in clear like a
 * webhook secret (the hub must send it) and leaves this file only in a
 * struct reg_source, which the caller wipes (reg_source_wipe). The
 * format, options and URL are checked by the caller (lib/source,
 * lib/webhook) before add; the registry checks sizes and names. */
#define REG_SOURCE_NAME_MAX 64          /* = SOURCE_NAME_MAX */
#define REG_SOURCE_URL_MAX 2048         /* = WEBHOOK_URL_MAX */
#define REG_SOURCE_OPTIONS_MAX 1024     /* = SOURCE_OPTIONS_MAX */
#define REG_SOURCE_AUTH_MAX 512         /* bytes of the auth header line */
#define REG_SOURCE_HEADER_MAX 512       /* ETag, Last-Modified kept */
#define REG_SOURCE_ERROR_MAX 512        /* bytes of the last error kept */
#define REG_SOURCE_WARN_MAX 1024        /* bytes of the last run's warnings kept */
#define REG_SOURCES_MAX 1024            /* sources on one hub */
#define REG_SOURCE_EVERY_MIN 60         /* seconds: the shortest schedule */
#define REG_SOURCE_EVERY_MAX (31 * 86400)

struct reg_source {
	char name[REG_SOURCE_NAME_MAX + 1];
	char url[REG_SOURCE_URL_MAX + 1];
	char format[16];                         /* source_format_name */
	int64_t every_s;                         /* the schedule */
	int64_t org;
	char org_name[REG_ORG_NAME_MAX + 1];
	char org_identity[STIX_ID_MAX];          /* the producer's STIX identity */
	char collection[STORE_ALIAS_MAX + 1];    /* alias or id, as given */
	char tlp[16];                            /* stix_tlp_name; "" none added */
	int confidence;                          /* -1: none added */
	char expiry[8];                          /* "drop" or "keep" */
	char options[REG_SOURCE_OPTIONS_MAX + 1]; /* "key=value" lines */
	char auth[REG_SOURCE_AUTH_MAX + 1];      /* the auth header line; "" none */
	/* status, written by tocsind */
	char etag[REG_SOURCE_HEADER_MAX + 1];
	char last_modified[REG_SOURCE_HEADER_MAX + 1];
	char cursor[64];                         /* TAXII added_after of the next pull */
	int64_t last_run_us, last_success_us, next_run_us, created_us;
	char result[16];                         /* "", "ok", "unchanged", "error" */
	char last_error[REG_SOURCE_ERROR_MAX + 1];
	char warnings[REG_SOURCE_WARN_MAX + 1];
	uint64_t entries;                        /* listed after the last successful pull */
	uint64_t added, expired, rejected;       /* in the last successful pull */
	uint64_t runs, errors;                   /* pulls, failed pulls */
	int64_t requested, served;               /* `source run` asks: due while requested > served */
};

/* Wipes s's auth header. */
void reg_source_wipe(struct reg_source *s);

/* Adds a source from s's settings (name, url, format, every_s, org_name,
 * collection, tlp, confidence, expiry, options, auth); status fields
 * start empty and the source is due at once. OUT: *out (may be NULL).
 * Errors: TC_EEXIST, TC_ENOTFOUND (no such organisation), TC_EINVAL
 * (deleted organisation, a name or field out of form — d names it),
 * TC_ELIMIT (REG_SOURCES_MAX), TC_EDB. */
enum tcerr registry_source_add(struct registry *r, const struct reg_source *s,
                               struct reg_source *out, struct diag *d);
/* By name. TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_source_get(struct registry *r, const char *name, struct reg_source *out,
                               struct diag *d);
/* Every source in name order, each handed to cb (a copy, wiped after;
 * cb may call the registry). Errors: cb's, TC_ENOMEM, TC_EDB. */
enum tcerr registry_source_list(struct registry *r,
                                enum tcerr (*cb)(void *ctx, const struct reg_source *s),
                                void *ctx, struct diag *d);
/* Removes the source and its entries (what it wrote stays in the log).
 * TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_source_remove(struct registry *r, const char *name, struct diag *d);
/* Asks tocsind to pull now (`tocsin source run`): requested moves.
 * OUT: *out (may be NULL), the row after. TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_source_request(struct registry *r, const char *name, struct reg_source *out,
                                   struct diag *d);
/* tocsind's write of a run's status (etag ... served of s). TC_ENOTFOUND
 * (removed meanwhile), TC_EDB. */
enum tcerr registry_source_progress(struct registry *r, const struct reg_source *s,
                                    struct diag *d);
/* Moves when a source is added, removed or asked to run. TC_EDB. */
enum tcerr registry_source_generation(struct registry *r, uint64_t *out, struct diag *d);

/* One entry a source wrote (the version last written). */
struct reg_source_entry {
	const char *id;
	int64_t modified_us;
	bool listed;
	const char *json;
};
/* Calls cb for each entry of source name (strings valid during the
 * call; cb must not call the registry). Errors: cb's, TC_EDB. */
enum tcerr registry_source_entries(struct registry *r, const char *name,
                                   enum tcerr (*cb)(void *ctx, const struct reg_source_entry *e),
                                   void *ctx, struct diag *d);
/* Records n entries (insert or replace) in one transaction, returning
 * once durable. TC_EDB. */
enum tcerr registry_source_entries_put(struct registry *r, const char *name,
                                       const struct reg_source_entry *e, size_t n,
                                       struct diag *d);
/* Coordination (docs/coordination.md, registry_task.c): response tasks a
 * coordinator (or a routing rule, or a constituency match) assigns to an
 * organisation, each with a deadline; the assignee acknowledges,
 * completes or declines it with a note; every change is a timestamped
 * event; an overdue open task escalates, first to the organisation that
 * assigned it, then to the lead organisation of the assignee's sector. */
#define REG_TASK_ACTION_MAX 32         /* bytes of an action name */
#define REG_TASK_SOURCE_MAX 96         /* "manual", "route:NAME", "constituency" */
#define REG_TASK_OBS_TEXT_MAX 8192     /* bytes of a task's observables (JSON array) */
#define REG_TASK_NOTE_MAX 1024         /* bytes of a note or a reply */
#define REG_TASK_DEDUP_MAX 4096        /* bytes of a de-duplication key */
#define REG_TASK_EMAIL_MAX 254         /* RFC 5321 §4.5.3.1.3 path, less the brackets */
#define REG_CONTACTS_MAX 16            /* e-mail contacts per organisation */

enum reg_task_state {
	REG_TASK_ASSIGNED = 1,
	REG_TASK_ACKNOWLEDGED,
	REG_TASK_DONE,
	REG_TASK_DECLINED,
};
/* "assigned", "acknowledged", "done", "declined"; NULL out of range. */
const char *reg_task_state_name(enum reg_task_state s);
/* TC_EINVAL for an unknown name. */
enum tcerr reg_task_state_parse(const char *name, enum reg_task_state *out);
/* true while a task waits for its assignee (assigned, acknowledged). */
bool reg_task_state_open(enum reg_task_state s);
/* The task state machine: assigned -> acknowledged | done | declined;
 * acknowledged -> done | declined; done and declined are final.
 * TC_OK when from -> to is allowed, else TC_EINVAL saying why ("task is
 * already done"). */
enum tcerr reg_task_transition(enum reg_task_state from, enum reg_task_state to,
                               struct diag *d);
/* The actions a task may ask for: block, takedown, suspend-number,
 * freeze-account, block-card, investigate, notify-customers, clean-up.
 * TC_EINVAL (listing them) for another name. */
enum tcerr reg_task_action_check(const char *action, struct diag *d);
#define REG_TASK_ACTIONS \
	"block, takedown, suspend-number, freeze-account, block-card, investigate, " \
	"notify-customers, clean-up"

struct reg_task {
	int64_t num;                            /* from 1: the task's id */
	char action[REG_TASK_ACTION_MAX + 1];
	int64_t org;                            /* the assignee */
	int64_t coordinator;                    /* the organisation that assigned it; 0 the hub */
	char source[REG_TASK_SOURCE_MAX + 1];
	/* JSON array of {"kind":KIND,"value":NORMALISED}: what to act on */
	char observables[REG_TASK_OBS_TEXT_MAX + 1];
	char note[REG_TASK_NOTE_MAX + 1];       /* the coordinator's words */
	char reply[REG_TASK_NOTE_MAX + 1];      /* the assignee's last note */
	enum reg_task_state state;
	int64_t deadline_us, created_us;
	int64_t acked_us;                       /* 0 until acknowledged */
	int64_t closed_us;                      /* done or declined; 0 while open */
	unsigned escalation;                    /* 0 none, 1 coordinator, 2 sector lead */
	int64_t escalated_us;
	int64_t escalated_org;                  /* the last organisation escalated to */
};

/* One timestamped change of a task. */
struct reg_task_event {
	int64_t num;                            /* from 1, hub-wide */
	int64_t task;
	int64_t at_us;
	int64_t org;                            /* who made it (0 the hub); for "escalated",
	                                         * the organisation escalated to */
	char what[16];                          /* "assigned", "acknowledged", "done",
	                                         * "declined", "escalated" */
	char note[REG_TASK_NOTE_MAX + 1];
};

/* Assigns a task to organisation org_name, or (org_name NULL) to every
 * existing organisation of sector, one task each, in one transaction.
 * From t: action, coordinator, source, observables (a JSON array text, as
 * the caller normalised it), note, deadline_us (> created); the rest is
 * set here (state assigned, created_us now). dedup, when not NULL, makes
 * the assignment idempotent: a task whose key (dedup + "|" + the
 * organisation's number) exists is not made again. cb (may be NULL) gets
 * each task made, after the commit. OUT: *made (may be NULL). Errors:
 * TC_ENOTFOUND (no such organisation), TC_EINVAL (bad action, deleted
 * organisation, deadline not later than now, sector without
 * organisations, texts too long), TC_EDB. */
enum tcerr registry_task_assign(struct registry *r, const struct reg_task *t,
                                const char *org_name, enum reg_sector sector,
                                const char *dedup, int64_t now_us,
                                enum tcerr (*cb)(void *ctx, const struct reg_task *t),
                                void *ctx, size_t *made, struct diag *d);
/* By number. TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_task_get(struct registry *r, int64_t num, struct reg_task *out,
                             struct diag *d);
/* Tasks in number order after after_num, at most limit. viewer -1: all;
 * else those viewer is assigned, assigned, or was escalated to. states: a
 * mask of (1u << state), 0 all. cb gets a copy (it may call the
 * registry). Errors: TC_ENOMEM, TC_EDB, cb's. */
enum tcerr registry_task_list(struct registry *r, int64_t viewer, unsigned states,
                              int64_t after_num, size_t limit,
                              enum tcerr (*cb)(void *ctx, const struct reg_task *t),
                              void *ctx, struct diag *d);
/* true if organisation org may see t (assignee, coordinator, escalated to). */
bool reg_task_visible(const struct reg_task *t, int64_t org);
/* The assignee by_org moves task num to state to (acknowledged, done,
 * declined) with note (may be NULL; a decline needs one). OUT: *out
 * (may be NULL). Errors: TC_ENOTFOUND (no such task, or not by_org's:
 * nobody learns of another's task), TC_EINVAL (reg_task_transition, no
 * note for a decline, note too long), TC_EDB. */
enum tcerr registry_task_update(struct registry *r, int64_t num, int64_t by_org,
                                enum reg_task_state to, const char *note, int64_t now_us,
                                struct reg_task *out, struct diag *d);
/* The events of task num in order. TC_EDB, cb's. */
enum tcerr registry_task_events(struct registry *r, int64_t num,
                                enum tcerr (*cb)(void *ctx, const struct reg_task_event *e),
                                void *ctx, struct diag *d);
/* Escalates overdue open tasks (deadline_us < now_us): level 1 to the
 * organisation that assigned the task (skipped when the hub did), level 2
 * to the lead organisation of the assignee's sector once lead_after_us
 * more have passed (or at once when level 1 was skipped); a sector
 * without a lead stops at level 1. Each step is an "escalated" event
 * naming the organisation. At most max tasks per call. OUT: *n (may be
 * NULL) steps taken. Errors: TC_EDB. */
enum tcerr registry_task_escalate(struct registry *r, int64_t now_us, int64_t lead_after_us,
                                  size_t max, size_t *n, struct diag *d);

/* Time to act, per assignee organisation: tasks by state, overdue open
 * ones, and the sums of assigned -> acknowledged and assigned -> closed
 * (done or declined) in microseconds over the tasks that got there. */
struct reg_task_stats {
	int64_t org;
	uint64_t assigned, acknowledged, done, declined, overdue;
	uint64_t n_acked, n_closed;             /* tasks with a time to ack / close */
	int64_t ack_us_sum, close_us_sum;
};
enum tcerr registry_task_stats(struct registry *r, int64_t now_us,
                               enum tcerr (*cb)(void *ctx, const struct reg_task_stats *s),
                               void *ctx, struct diag *d);

/* Task events not yet mailed (the notification outbox), in order, at most
 * max; then registry_task_event_mailed marks one handled. Errors: TC_EDB. */
enum tcerr registry_task_outbox(struct registry *r, size_t max,
                                enum tcerr (*cb)(void *ctx, const struct reg_task_event *e),
                                void *ctx, struct diag *d);
enum tcerr registry_task_event_mailed(struct registry *r, int64_t event, struct diag *d);

/* Each sector's lead organisation, where a task escalates last. set:
 * org_name NULL clears it. TC_ENOTFOUND, TC_EINVAL (deleted), TC_EDB.
 * get: *org 0 when none. */
enum tcerr registry_sector_lead_set(struct registry *r, enum reg_sector sector,
                                    const char *org_name, struct diag *d);
enum tcerr registry_sector_lead_get(struct registry *r, enum reg_sector sector, int64_t *org,
                                    struct diag *d);

/* An organisation's e-mail contacts (task notifications), at most
 * REG_CONTACTS_MAX. add: TC_EINVAL (not LOCAL@DOMAIN of printable ASCII
 * without spaces, <, >, commas or quotes), TC_ELIMIT, TC_EEXIST.
 * remove: TC_ENOTFOUND. list: cb per address, sorted. */
enum tcerr registry_contact_add(struct registry *r, const char *org_name, const char *email,
                                struct diag *d);
enum tcerr registry_contact_remove(struct registry *r, const char *org_name, const char *email,
                                   struct diag *d);
enum tcerr registry_contact_list(struct registry *r, int64_t org,
                                 enum tcerr (*cb)(void *ctx, const char *email), void *ctx,
                                 struct diag *d);
/* The positions tocsind's coordination worker keeps in registry.db's
 * settings, by name: REG_COORD_CURSOR (the log position it has planned
 * tasks up to) and REG_TASK_LOG_CURSOR (the last task event mirrored into
 * the log). get: *found false when never set. advance: only forward.
 * Errors: TC_EINVAL (another name), TC_EDB. */
#define REG_COORD_CURSOR "coord_cursor"
#define REG_TASK_LOG_CURSOR "task_log_cursor"
enum tcerr registry_coord_cursor_get(struct registry *r, const char *name, uint64_t *seq,
                                     bool *found, struct diag *d);
enum tcerr registry_coord_cursor_advance(struct registry *r, const char *name, uint64_t seq,
                                         struct diag *d);
/* Task events with a number after after, in order, at most max. TC_EDB. */
enum tcerr registry_task_events_after(struct registry *r, int64_t after, size_t max,
                                      enum tcerr (*cb)(void *ctx, const struct reg_task_event *e),
                                      void *ctx, struct diag *d);
/* A number that moves when a constituency or a sector lead changes. */
enum tcerr registry_coord_generation(struct registry *r, uint64_t *out, struct diag *d);

/* Constituencies (registry_constituency.c): the networks, AS numbers and
 * domains an organisation answers for. No two organisations' entries
 * overlap (a network inside another's, a domain under another's); one
 * organisation's may nest. */
enum reg_const_kind {
	REG_CONST_NET = 1,                  /* an IPv4 or IPv6 network (CIDR) */
	REG_CONST_ASN,
	REG_CONST_DOMAIN,
};
#define REG_CONST_VALUE_MAX 256
#define REG_CONSTS_MAX 1000000          /* entries on one hub */
struct reg_const {
	enum reg_const_kind kind;
	char value[REG_CONST_VALUE_MAX];    /* "192.0.2.0/24", "2001:db8::/32", "AS64500",
	                                     * "example.ru" (normalised) */
	bool v6;                            /* REG_CONST_NET */
	uint8_t addr[16];                   /* REG_CONST_NET: the network, first 4 for v4 */
	unsigned plen;
	uint32_t asn;                       /* REG_CONST_ASN */
	int64_t org;
	int64_t created_us;
};
/* Parses "192.0.2.0/24", "192.0.2.1" (a /32), "2001:db8::/32", "AS64500"
 * (any case) or a domain ("Example.RU." is example.ru; IDNA through
 * obs_normalize) into *out (org and created_us untouched). Errors:
 * TC_EINVAL saying why (host bits set, prefix out of range, not a domain,
 * AS number out of range). */
enum tcerr reg_const_parse(const char *text, struct reg_const *out, struct diag *d);
/* true if a and b overlap: networks of one family where one contains the
 * other, the same AS number, or domains one of which is the other or
 * under it. */
bool reg_const_overlaps(const struct reg_const *a, const struct reg_const *b);
/* Adds text to org_name's constituency. Errors: TC_ENOTFOUND, TC_EINVAL
 * (parse; deleted organisation), TC_EEXIST (the organisation has it
 * already, or an overlap with another organisation's entry: the message
 * names it and the organisation), TC_ELIMIT, TC_EDB. OUT: *out (may be
 * NULL). */
enum tcerr registry_constituency_add(struct registry *r, const char *org_name,
                                     const char *text, struct reg_const *out, struct diag *d);
/* Removes an entry (as parsed from text) of org_name. TC_ENOTFOUND, TC_EINVAL. */
enum tcerr registry_constituency_remove(struct registry *r, const char *org_name,
                                        const char *text, struct diag *d);
/* Every entry (org 0) or org's, by kind and value; cb gets a parsed copy
 * (after the lock is released: it may call the registry). TC_ENOMEM,
 * TC_EDB, cb's. */
enum tcerr registry_constituency_list(struct registry *r, int64_t org,
                                      enum tcerr (*cb)(void *ctx, const struct reg_const *c),
                                      void *ctx, struct diag *d);
/* Federation peers (docs/peers.md): another hub this hub replicates from
 * (and is read by), or a plain TAXII 2.1 server it pulls from and pushes
 * to. Each peer has an organisation standing for it (org: its producer
 * identity here, the owner of the key it reads this hub with), the API
 * key the remote issued to this hub (kept in clear: the hub presents
 * it; registry.db is readable by the hub's user only), the remote hub's
 * pinned public key, its border policy (lib/peer's text form) and the
 * collections to pull. The cursor is the remote's log position (tocsin)
 * or a JSON object of per-collection added_after values (taxii); it only
 * moves forward through registry_peer_progress(), which writes only for
 * the revision the worker read. */
#define REG_PEER_NAME_MAX 63           /* [a-z0-9][a-z0-9._-]* */
#define REG_PEER_URL_MAX 2048
#define REG_PEER_KEY_MAX 256           /* bytes of the key the remote issued */
#define REG_PEER_PIN_MAX 256           /* "<alg>:<hex>" or "<alg> <hex>" */
#define REG_PEER_POLICY_MAX 4096
#define REG_PEER_COLLS_MAX 2048        /* comma-separated collection ids or aliases */
#define REG_PEER_CURSOR_MAX 4096
#define REG_PEER_ERROR_MAX 512
#define REG_PEERS_MAX 256              /* peers of one hub */

struct reg_peer {
	char name[REG_PEER_NAME_MAX + 1];
	int64_t org;
	char org_name[REG_ORG_NAME_MAX + 1];
	char url[REG_PEER_URL_MAX + 1];        /* the remote's base URL ("https://hub-b:8480") */
	char api_root[REG_API_ROOT_NAME_MAX + 1]; /* TAXII API root path part ("" = default) */
	char kind[8];                          /* "tocsin" or "taxii" */
	uint8_t secret[REG_PEER_KEY_MAX];
	size_t secret_len;
	char pin[REG_PEER_PIN_MAX + 1];
	char policy[REG_PEER_POLICY_MAX + 1];
	char collections[REG_PEER_COLLS_MAX + 1];
	char cursor[REG_PEER_CURSOR_MAX + 1];
	char pushed[REG_WEBHOOK_POS_MAX];      /* taxii: our log position pushed up to */
	uint64_t objects_in, deleted_in, refused, objects_out;
	char remote_position[REG_WEBHOOK_POS_MAX]; /* the remote log's end as last seen */
	char last_error[REG_PEER_ERROR_MAX + 1];
	/* last_event_us: since when replication has been behind the remote's
	 * log end (0: caught up), for the lag in seconds */
	int64_t last_error_us, last_ok_us, last_event_us, created_us;
	int64_t revision;
};

/* Wipes p's secret. */
void reg_peer_wipe(struct reg_peer *p);
/* TC_EINVAL unless name is [a-z0-9][a-z0-9._-]* of 1..REG_PEER_NAME_MAX. */
enum tcerr reg_peer_name_check(const char *name, struct diag *d);
/* Adds p (name, org_name, url, api_root, kind, secret, pin, policy,
 * collections; cursor "" = "0"). OUT: *out (may be NULL). Errors:
 * TC_EEXIST, TC_ENOTFOUND (organisation), TC_EINVAL, TC_ELIMIT, TC_EDB. */
enum tcerr registry_peer_add(struct registry *r, const struct reg_peer *p, struct reg_peer *out,
                             struct diag *d);
/* By name (any case). TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_peer_get(struct registry *r, const char *name, struct reg_peer *out,
                             struct diag *d);
/* Every peer by name, each a copy handed to cb (wiped after). cb's error
 * stops the walk. TC_ENOMEM, TC_EDB. */
enum tcerr registry_peer_list(struct registry *r,
                              enum tcerr (*cb)(void *ctx, const struct reg_peer *p), void *ctx,
                              struct diag *d);
/* TC_ENOTFOUND, TC_EDB. */
enum tcerr registry_peer_remove(struct registry *r, const char *name, struct diag *d);
/* Writes p's cursor, pushed position, counters, remote position, error
 * and times, only if the peer is still at p->revision (else
 * TC_ENOTFOUND: removed or changed meanwhile). TC_EDB. */
enum tcerr registry_peer_progress(struct registry *r, const struct reg_peer *p, struct diag *d);
/* Moves when a peer is added, removed or changed by the operator. */
enum tcerr registry_peer_generation(struct registry *r, uint64_t *out, struct diag *d);

#endif
