/*
 * registry_snapshot.c — the immutable picture of the registry and the
 * store's collections that request threads share.
 *
 * Invariant: after reg_snapshot_build() returns, nothing in a snapshot
 * changes until the last reg_snapshot_unref() frees it, so readers need
 * no lock; the reference count is atomic. Keys are sorted by key id and
 * certificates by fingerprint for bisection; only active principals are
 * present, so a revoked credential is simply not found; an expired one
 * is found and refused by the clock at that moment. A key is
 * accepted only if the SHA-256 of the whole presented text equals the
 * stored one, compared in constant time (sodium_memcmp); the key id that
 * selects the row is public. Certificate fingerprints are looked up by
 * bisection, which is not constant-time: a fingerprint is not a secret
 * (TLS already verified the certificate against the CA).
 */
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/registry_internal.h"
#include "util/timestamp.h"

struct reg_snapshot {
	atomic_size_t refs;
	struct reg_org *orgs;           /* by num */
	size_t norgs;
	const struct reg_org **by_identity; /* orgs sorted by identity id */
	struct reg__principal *keys;    /* REG_CRED_KEY, by key_id */
	size_t nkeys;
	struct reg__principal *certs;   /* REG_CRED_CERT, by hash */
	size_t ncerts;
	struct reg_collection *colls;   /* creation order */
	size_t ncolls;
	struct reg_api_root *roots;     /* creation order */
	size_t nroots;
	enum tlp_level default_tlp;     /* what an unmarked version counts as */
};

/* Identity ids are made lower case (registry_org_add); compared without
 * regard to case so that an upper-case spelling finds its organisation. */
static int
org_identity_cmp(const void *a, const void *b)
{
	const struct reg_org *const *x = a, *const *y = b;
	return strcasecmp((*x)->identity, (*y)->identity);
}

static void
snap_free(struct reg_snapshot *s)
{
	free(s->by_identity);
	free(s->orgs);
	if (s->keys)
		explicit_bzero(s->keys, s->nkeys * sizeof *s->keys);
	free(s->keys);
	if (s->certs)
		explicit_bzero(s->certs, s->ncerts * sizeof *s->certs);
	free(s->certs);
	for (size_t i = 0; i < s->ncolls; i++) {
		reg__spec_free(&s->colls[i].read);
		reg__spec_free(&s->colls[i].write);
	}
	free(s->colls);
	free(s->roots);
	free(s);
}

static int
snap_cmp_key(const void *a, const void *b)
{
	const struct reg__principal *x = a, *y = b;
	return strcmp(x->p.key_id, y->p.key_id);
}

static int
snap_cmp_cert(const void *a, const void *b)
{
	const struct reg__principal *x = a, *y = b;
	return memcmp(x->hash, y->hash, REG__HASH_LEN);
}

struct snap_colls {
	struct reg_collection *v;
	size_t n, cap;
};

static enum tcerr
snap_add_coll(void *ctx, const struct store_collection *c)
{
	struct snap_colls *sc = ctx;
	if (sc->n == sc->cap) {
		size_t nc = sc->cap ? 2 * sc->cap : 8;
		void *p = realloc(sc->v, nc * sizeof *sc->v);
		if (!p)
			return TC_ENOMEM;
		sc->v = p;
		sc->cap = nc;
	}
	memset(&sc->v[sc->n], 0, sizeof sc->v[sc->n]);
	sc->v[sc->n++].c = *c;
	return TC_OK;
}

enum tcerr
reg_snapshot_build(struct registry *r, struct store *s, struct reg_snapshot **out,
                   struct diag *d)
{
	struct reg__loaded l;
	struct snap_colls sc = { 0 };
	struct reg_snapshot *snap = NULL;
	enum tcerr rc;

	*out = NULL;
	if ((rc = reg__load(r, &l, d)))
		return rc;
	if (!(snap = calloc(1, sizeof *snap))) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	atomic_init(&snap->refs, 1);
	snap->orgs = l.orgs;
	snap->norgs = l.norgs;
	l.orgs = NULL;
	l.norgs = 0;
	if (!(snap->by_identity = calloc(snap->norgs ? snap->norgs : 1, sizeof *snap->by_identity))) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < snap->norgs; i++)
		snap->by_identity[i] = &snap->orgs[i];
	qsort(snap->by_identity, snap->norgs, sizeof *snap->by_identity, org_identity_cmp);

	size_t nkeys = 0;
	for (size_t i = 0; i < l.nprs; i++)
		nkeys += l.prs[i].p.cred == REG_CRED_KEY;
	snap->keys = calloc(nkeys ? nkeys : 1, sizeof *snap->keys);
	snap->certs = calloc(l.nprs - nkeys ? l.nprs - nkeys : 1, sizeof *snap->certs);
	if (!snap->keys || !snap->certs) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.nprs; i++) {
		if (l.prs[i].p.cred == REG_CRED_KEY)
			snap->keys[snap->nkeys++] = l.prs[i];
		else if (l.prs[i].p.cred == REG_CRED_CERT)
			snap->certs[snap->ncerts++] = l.prs[i];
	}
	qsort(snap->keys, snap->nkeys, sizeof *snap->keys, snap_cmp_key);
	qsort(snap->certs, snap->ncerts, sizeof *snap->certs, snap_cmp_cert);

	if ((rc = store_collection_list(s, snap_add_coll, &sc))) {
		if (rc == TC_ENOMEM)
			diag_set(d, rc, "out of memory");
		else
			diag_set(d, rc, "cannot list the store's collections: %s", tcerr_str(rc));
		goto out;
	}
	/* a deleted collection stays in the store but is served no more */
	size_t kept = 0;
	for (size_t i = 0; i < sc.n; i++) {
		bool gone = false;
		for (size_t j = 0; j < l.ndeleted_colls && !gone; j++)
			gone = strcasecmp(l.deleted_colls[j], sc.v[i].c.uuid) == 0;
		if (!gone)
			sc.v[kept++] = sc.v[i];
	}
	snap->colls = sc.v;
	snap->ncolls = kept;
	sc.v = NULL;
	snap->roots = l.roots;
	snap->nroots = l.nroots;
	l.roots = NULL;
	l.nroots = 0;
	if ((rc = reg_default_tlp_get(s, &snap->default_tlp, d)))
		goto out;
	for (size_t i = 0; i < snap->ncolls; i++) {
		struct reg_collection *c = &snap->colls[i];
		for (size_t j = 0; j < l.ncroots; j++) {
			if (strcasecmp(l.croots[j].collection, c->c.uuid) == 0) {
				memcpy(c->api_root, l.croots[j].api_root, sizeof c->api_root);
				break;
			}
		}
		for (size_t j = 0; j < l.nrights; j++) {
			if (strcasecmp(l.rights[j].collection, c->c.uuid) != 0)
				continue;
			rc = reg__spec_compile(l.rights[j].read, snap->orgs, snap->norgs, false,
			                       &c->read, d);
			if (rc) {
				diag_prefix(d, "collection %s read rights", c->c.alias);
				goto out;
			}
			rc = reg__spec_compile(l.rights[j].write, snap->orgs, snap->norgs, false,
			                       &c->write, d);
			if (rc) {
				diag_prefix(d, "collection %s write rights", c->c.alias);
				goto out;
			}
			break;
		}
	}
	*out = snap;
	snap = NULL;
out:
	free(sc.v);
	if (snap)
		snap_free(snap);
	reg__loaded_free(&l);
	return rc;
}

enum tcerr
reg_default_tlp_get(struct store *s, enum tlp_level *out, struct diag *d)
{
	struct buf b;
	enum tcerr rc;

	*out = REG_DEFAULT_TLP;
	buf_init(&b, STORE_SETTING_VALUE_MAX);
	rc = store_setting_get(s, REG_DEFAULT_TLP_SETTING, &b);
	if (rc == TC_ENOTFOUND) {
		rc = TC_OK;
	} else if (rc) {
		diag_set(d, rc, "setting %s: %s", REG_DEFAULT_TLP_SETTING, tcerr_str(rc));
	} else {
		buf_append_char(&b, '\0');
		enum tlp_level l;
		if (buf_error(&b))
			rc = diag_set(d, buf_error(&b), "out of memory");
		else if (stix_tlp_parse(b.p, &l) != TC_OK || l == TLP_NONE)
			rc = diag_set(d, TC_EINVAL, "setting %s: '%.32s' is no TLP level",
			              REG_DEFAULT_TLP_SETTING, b.p);
		else
			*out = l;
	}
	buf_reset(&b);
	return rc;
}

enum tcerr
reg_default_tlp_set(struct store *s, enum tlp_level lvl, struct diag *d)
{
	if (lvl == TLP_NONE)
		return diag_set(d, TC_EINVAL, "default_tlp: must be a TLP level");
	enum tcerr rc = store_setting_set(s, REG_DEFAULT_TLP_SETTING, stix_tlp_name(lvl));
	if (rc)
		return diag_set(d, rc, "setting %s: %s", REG_DEFAULT_TLP_SETTING, tcerr_str(rc));
	return TC_OK;
}

enum tlp_level
reg_snapshot_default_tlp(const struct reg_snapshot *snap)
{
	return snap ? snap->default_tlp : REG_DEFAULT_TLP;
}

void
reg_snapshot_ref(struct reg_snapshot *snap)
{
	atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
}

void
reg_snapshot_unref(struct reg_snapshot *snap)
{
	if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
		snap_free(snap);
}

/* The clock is read at each authentication, not when the snapshot was
 * built, so a key stops working at its expiry without a reload. */
static bool
snap_expired(const struct reg_principal *p)
{
	return p->expires_us && ts_now_us() >= p->expires_us;
}

const struct reg_principal *
reg_snapshot_auth_key(const struct reg_snapshot *snap, const char *key_text, size_t len)
{
	static const size_t id_at = sizeof "tcs_" - 1;
	struct reg__principal probe;
	uint8_t hash[REG__HASH_LEN];

	if (!key_text || len > REG_KEY_TEXT_MAX || len < id_at + REG_KEY_ID_LEN + 2 ||
	    memcmp(key_text, "tcs_", id_at) != 0 || key_text[id_at + REG_KEY_ID_LEN] != '_')
		return NULL;
	memcpy(probe.p.key_id, key_text + id_at, REG_KEY_ID_LEN);
	probe.p.key_id[REG_KEY_ID_LEN] = '\0';
	const struct reg__principal *hit =
		bsearch(&probe, snap->keys, snap->nkeys, sizeof *snap->keys, snap_cmp_key);
	if (!hit)
		return NULL;
	crypto_hash_sha256(hash, (const unsigned char *)key_text, len);
	int same = sodium_memcmp(hash, hit->hash, REG__HASH_LEN);
	explicit_bzero(hash, sizeof hash);
	return same == 0 && !snap_expired(&hit->p) ? &hit->p : NULL;
}

const struct reg_principal *
reg_snapshot_key(const struct reg_snapshot *snap, const char *key_id)
{
	struct reg__principal probe;
	if (!key_id || strlen(key_id) != REG_KEY_ID_LEN)
		return NULL;
	memcpy(probe.p.key_id, key_id, REG_KEY_ID_LEN + 1);
	const struct reg__principal *hit =
		bsearch(&probe, snap->keys, snap->nkeys, sizeof *snap->keys, snap_cmp_key);
	return hit && !snap_expired(&hit->p) ? &hit->p : NULL;
}

const struct reg_principal *
reg_snapshot_auth_cert(const struct reg_snapshot *snap, const uint8_t sha256[32])
{
	struct reg__principal probe;
	memcpy(probe.hash, sha256, REG__HASH_LEN);
	const struct reg__principal *hit =
		bsearch(&probe, snap->certs, snap->ncerts, sizeof *snap->certs, snap_cmp_cert);
	return hit && !snap_expired(&hit->p) ? &hit->p : NULL;
}

const struct reg_org *
reg_snapshot_org(const struct reg_snapshot *snap, int64_t num)
{
	/* orgs are in num order: bisect */
	size_t lo = 0, hi = snap->norgs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (snap->orgs[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < snap->norgs && snap->orgs[lo].num == num ? &snap->orgs[lo] : NULL;
}

const struct reg_org *
reg_snapshot_org_by_identity(const struct reg_snapshot *snap, const char *identity)
{
	size_t lo = 0, hi = snap->norgs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(snap->by_identity[mid]->identity, identity);
		if (c == 0)
			return snap->by_identity[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct reg_org *
reg_snapshot_org_at(const struct reg_snapshot *snap, size_t i)
{
	return i < snap->norgs ? &snap->orgs[i] : NULL;
}

const struct reg_collection *
reg_snapshot_collection(const struct reg_snapshot *snap, int64_t num)
{
	for (size_t i = 0; i < snap->ncolls; i++)
		if (snap->colls[i].c.num == num)
			return &snap->colls[i];
	return NULL;
}

const struct reg_collection *
reg_snapshot_collection_find(const struct reg_snapshot *snap, const char *id_or_alias)
{
	if (!id_or_alias)
		return NULL;
	for (size_t i = 0; i < snap->ncolls; i++)
		if (strcasecmp(snap->colls[i].c.uuid, id_or_alias) == 0 ||
		    strcmp(snap->colls[i].c.alias, id_or_alias) == 0)
			return &snap->colls[i];
	return NULL;
}

size_t
reg_snapshot_ncollections(const struct reg_snapshot *snap)
{
	return snap->ncolls;
}

const struct reg_collection *
reg_snapshot_collection_at(const struct reg_snapshot *snap, size_t i)
{
	return i < snap->ncolls ? &snap->colls[i] : NULL;
}

size_t
reg_snapshot_napi_roots(const struct reg_snapshot *snap)
{
	return snap->nroots;
}

const struct reg_api_root *
reg_snapshot_api_root_at(const struct reg_snapshot *snap, size_t i)
{
	return i < snap->nroots ? &snap->roots[i] : NULL;
}

size_t
reg_snapshot_norgs(const struct reg_snapshot *snap)
{
	return snap->norgs;
}

size_t
reg_snapshot_nprincipals(const struct reg_snapshot *snap)
{
	return snap->nkeys + snap->ncerts;
}
