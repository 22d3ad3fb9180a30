/*
 * prov.c — Merkle trees, batch signatures and their verification (prov.h).
 *
 * The tree is RFC 6962's: an unpaired node at the end of a level is carried
 * up unchanged, which is the same tree as the recursive definition splitting
 * at the largest power of two below n. Proofs are verified as RFC 9162
 * §2.1.3.2 says. The verifier's cache maps SHA-256(signed message ||
 * signature) to "verified", so a cache hit proves exactly the same signed
 * fields and signature were checked before.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>
#include <nettle/streebog.h>

#include "prov/prov_int.h"
#include "util/hex.h"
#include "util/timestamp.h"

#define PROV_EXT_TYPE "property-extension"

/* Frees what json_dumps() returned, with the allocator jansson was given
 * (json_set_alloc_funcs: the daemon's and the importer's arenas). */
static void
dumps_free(char *p)
{
	json_free_t f = NULL;
	json_get_alloc_funcs(NULL, &f);
	if (f)
		f(p);
	else
		free(p);
}

/* ---- hashes ---------------------------------------------------------- */

void
prov_hash(enum hubkey_alg alg, const void *p, size_t len, uint8_t out[PROV_HASH_LEN])
{
	if (alg == HUBKEY_GOST2012_256) {
		struct streebog256_ctx c;
		streebog256_init(&c);
		streebog256_update(&c, len, p);
		streebog256_digest(&c, PROV_HASH_LEN, out);
	} else {
		struct sha256_ctx c;
		sha256_init(&c);
		sha256_update(&c, len, p);
		sha256_digest(&c, PROV_HASH_LEN, out);
	}
}

static void
node_hash(enum hubkey_alg alg, const uint8_t *l, const uint8_t *r, uint8_t out[PROV_HASH_LEN])
{
	uint8_t m[1 + 2 * PROV_HASH_LEN];
	m[0] = 0x01;
	memcpy(m + 1, l, PROV_HASH_LEN);
	memcpy(m + 1 + PROV_HASH_LEN, r, PROV_HASH_LEN);
	prov_hash(alg, m, sizeof(m), out);
}

/* H(0x00 || JCS(doc minus provenance)), with scratch as the buffer. */
static enum tcerr
doc_leaf(enum hubkey_alg alg, const struct jcs_doc *doc, struct buf *scratch,
         uint8_t out[PROV_HASH_LEN], struct diag *d)
{
	enum tcerr rc;
	buf_clear(scratch);
	buf_reserve_more(scratch, (size_t)doc->len_hint + 2);
	buf_append_char(scratch, '\0');
	if ((rc = jcs__emit(doc, 0, true, scratch, d)))
		return rc;
	prov_hash(alg, scratch->p, scratch->len, out);
	return TC_OK;
}

enum tcerr
prov_leaf(enum hubkey_alg alg, struct slice text, uint8_t out[PROV_HASH_LEN], struct diag *d)
{
	struct jcs_doc doc;
	struct buf b;
	enum tcerr rc;

	jcs__init(&doc);
	buf_init(&b, PROV_OBJECT_MAX + 1);
	rc = jcs__parse(&doc, text, d);
	if (rc == TC_OK)
		rc = doc_leaf(alg, &doc, &b, out, d);
	buf_reset(&b);
	jcs__free(&doc);
	return rc;
}

enum tcerr
prov_leaf_json(enum hubkey_alg alg, const json_t *obj, uint8_t out[PROV_HASH_LEN], struct diag *d)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	enum tcerr rc;
	if (!text)
		return diag_set(d, TC_ENOMEM, "JSON: cannot serialise");
	rc = prov_leaf(alg, slice_from_cstr(text), out, d);
	dumps_free(text);
	return rc;
}

/* ---- Merkle tree ----------------------------------------------------- */

/* All levels of the tree bottom-up in one allocation. OUT: *lv (free()),
 * off[level] (start index in lv of each level), *levels. */
static enum tcerr
build_levels(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
             uint8_t (**lv)[PROV_HASH_LEN], size_t off[PROV_PROOF_MAX + 2], size_t *levels,
             struct diag *d)
{
	size_t total = 0, w = n, l = 0;
	uint8_t (*a)[PROV_HASH_LEN];

	if (n == 0 || (uint64_t)n > PROV_LEAF_COUNT_MAX)
		return diag_set(d, TC_EINVAL, "Merkle tree: %zu leaves", n);
	for (w = n;; w = (w + 1) / 2) {
		total += w;
		if (w == 1)
			break;
	}
	if (!(a = malloc(total * sizeof(*a))))
		return diag_set(d, TC_ENOMEM, "Merkle tree: out of memory");
	memcpy(a, leaves, n * sizeof(*a));
	off[0] = 0;
	for (w = n; w > 1; w = (w + 1) / 2) {
		size_t base = off[l], next = base + w;
		for (size_t i = 0; i + 1 < w; i += 2)
			node_hash(alg, a[base + i], a[base + i + 1], a[next + i / 2]);
		if (w & 1)
			memcpy(a[next + w / 2], a[base + w - 1], PROV_HASH_LEN);
		off[++l] = next;
	}
	*levels = l + 1;
	*lv = a;
	return TC_OK;
}

enum tcerr
prov_merkle_root(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
                 uint8_t root[PROV_HASH_LEN], struct diag *d)
{
	uint8_t (*lv)[PROV_HASH_LEN];
	size_t off[PROV_PROOF_MAX + 2], levels;
	enum tcerr rc = build_levels(alg, leaves, n, &lv, off, &levels, d);
	if (rc)
		return rc;
	memcpy(root, lv[off[levels - 1]], PROV_HASH_LEN);
	free(lv);
	return TC_OK;
}

struct prov_tree {
	uint8_t (*lv)[PROV_HASH_LEN];
	size_t off[PROV_PROOF_MAX + 2], levels, n;
};

enum tcerr
prov_tree_new(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
              struct prov_tree **out, struct diag *d)
{
	struct prov_tree *t = calloc(1, sizeof(*t));
	enum tcerr rc;
	if (!t)
		return diag_set(d, TC_ENOMEM, "Merkle tree: out of memory");
	if ((rc = build_levels(alg, leaves, n, &t->lv, t->off, &t->levels, d))) {
		free(t);
		return rc;
	}
	t->n = n;
	*out = t;
	return TC_OK;
}

void
prov_tree_free(struct prov_tree *t)
{
	if (t) {
		free(t->lv);
		free(t);
	}
}

void
prov_tree_root(const struct prov_tree *t, uint8_t root[PROV_HASH_LEN])
{
	memcpy(root, t->lv[t->off[t->levels - 1]], PROV_HASH_LEN);
}

size_t
prov_tree_size(const struct prov_tree *t)
{
	return t->n;
}

size_t
prov_tree_proof(const struct prov_tree *t, size_t index, uint8_t (*proof)[PROV_HASH_LEN])
{
	size_t len = 0, w = t->n, idx = index;
	if (index >= t->n)
		return 0;
	for (size_t l = 0; l + 1 < t->levels; l++) {
		size_t sib = idx ^ 1;
		if (sib < w)
			memcpy(proof[len++], t->lv[t->off[l] + sib], PROV_HASH_LEN);
		idx >>= 1;
		w = (w + 1) / 2;
	}
	return len;
}

enum tcerr
prov_merkle_proof(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
                  size_t index, uint8_t (*proof)[PROV_HASH_LEN], size_t *len, struct diag *d)
{
	uint8_t (*lv)[PROV_HASH_LEN];
	size_t off[PROV_PROOF_MAX + 2], levels, w = n, idx = index;
	enum tcerr rc;

	*len = 0;
	if (index >= n)
		return diag_set(d, TC_EINVAL, "Merkle proof: leaf %zu of %zu", index, n);
	if ((rc = build_levels(alg, leaves, n, &lv, off, &levels, d)))
		return rc;
	for (size_t l = 0; l + 1 < levels; l++) {
		size_t sib = idx ^ 1;
		if (sib < w)
			memcpy(proof[(*len)++], lv[off[l] + sib], PROV_HASH_LEN);
		idx >>= 1;
		w = (w + 1) / 2;
	}
	free(lv);
	return TC_OK;
}

bool
prov_merkle_verify(enum hubkey_alg alg, const uint8_t leaf[PROV_HASH_LEN], uint64_t index,
                   uint64_t n, const uint8_t (*proof)[PROV_HASH_LEN], size_t len,
                   const uint8_t root[PROV_HASH_LEN])
{
	uint64_t fn = index, sn = n - 1;
	uint8_t r[PROV_HASH_LEN];

	if (n == 0 || index >= n || len > PROV_PROOF_MAX)
		return false;
	memcpy(r, leaf, PROV_HASH_LEN);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			node_hash(alg, proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(alg, r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, PROV_HASH_LEN) == 0;
}

/* ---- signing --------------------------------------------------------- */

static void
append_hex(struct buf *b, const uint8_t *p, size_t n)
{
	buf_append_hex(b, p, n);
}

void
prov_signed_message(const struct prov_root *r, struct buf *out)
{
	/* RFC 8785: members in code-unit order; every value is ASCII without
	 * characters that need escaping (checked when parsed) */
	buf_append_cstr(out, "{\"alg\":\"");
	buf_append_cstr(out, hubkey_alg_name(r->alg));
	buf_printf(out, "\",\"leaf_count\":%llu,\"origin_hub\":\"", (unsigned long long)r->leaf_count);
	buf_append_cstr(out, r->origin_hub);
	buf_append_cstr(out, "\",\"root\":\"");
	append_hex(out, r->root, PROV_HASH_LEN);
	buf_append_cstr(out, "\",\"signed_at\":\"");
	buf_append_cstr(out, r->signed_at);
	buf_append_cstr(out, "\"}");
}

enum tcerr
prov_sign_root(const struct hubkey *k, const uint8_t root[PROV_HASH_LEN], uint64_t leaf_count,
               int64_t signed_at_us, struct prov_root *r, struct diag *d)
{
	struct hubkey_pub pub;
	uint8_t sig[HUBKEY_SIG_LEN];
	char msg[512];
	struct buf b;
	enum tcerr rc;

	if (leaf_count == 0 || leaf_count > PROV_LEAF_COUNT_MAX)
		return diag_set(d, TC_EINVAL, "provenance: a batch of %llu leaves",
		                (unsigned long long)leaf_count);
	if (signed_at_us < 0)
		return diag_set(d, TC_EINVAL, "provenance: signing time before 1970");
	memset(r, 0, sizeof(*r));
	r->alg = k->alg;
	hubkey_pub_of(k, &pub);
	hubkey_pub_id(&pub, r->origin_hub);
	memcpy(r->root, root, PROV_HASH_LEN);
	r->leaf_count = leaf_count;
	ts_format(signed_at_us, 6, r->signed_at);
	buf_init(&b, sizeof(msg) * 4);
	prov_signed_message(r, &b);
	if ((rc = buf_error(&b))) {
		buf_reset(&b);
		return diag_set(d, rc, "provenance: signed message: %s", tcerr_str(rc));
	}
	hubkey_sign(k, b.p, b.len, sig);
	buf_reset(&b);
	for (size_t i = 0; i < HUBKEY_SIG_LEN; i++) {
		static const char hx[] = "0123456789abcdef";
		r->signature[2 * i] = hx[sig[i] >> 4];
		r->signature[2 * i + 1] = hx[sig[i] & 15];
	}
	r->signature[HUBKEY_SIG_HEX] = '\0';
	return TC_OK;
}

void
prov_ext_text(const struct prov_root *r, uint64_t index, const uint8_t (*proof)[PROV_HASH_LEN],
              size_t proof_len, struct buf *out)
{
	buf_append_cstr(out, "{\"extension_type\":\"" PROV_EXT_TYPE "\",\"origin_hub\":\"");
	buf_append_cstr(out, r->origin_hub);
	buf_append_cstr(out, "\",\"root\":\"");
	append_hex(out, r->root, PROV_HASH_LEN);
	buf_printf(out, "\",\"leaf_index\":%llu,\"leaf_count\":%llu",
	           (unsigned long long)index, (unsigned long long)r->leaf_count);
	/* STIX lists are never empty (§3.1): a batch of one has no proof and
	 * an object no relay has passed no hops, so both are left out */
	for (size_t i = 0; i < proof_len; i++) {
		buf_append_cstr(out, i ? ",\"" : ",\"proof\":[\"");
		append_hex(out, proof[i], PROV_HASH_LEN);
		buf_append_char(out, '"');
	}
	if (proof_len)
		buf_append_char(out, ']');
	buf_append_cstr(out, ",\"signed_at\":\"");
	buf_append_cstr(out, r->signed_at);
	buf_append_cstr(out, "\",\"signature\":\"");
	buf_append_cstr(out, r->signature);
	buf_append_cstr(out, "\"}");
}

enum tcerr
prov_attach(json_t *obj, const struct prov_root *r, uint64_t index,
            const uint8_t (*proof)[PROV_HASH_LEN], size_t proof_len, struct diag *d)
{
	json_t *ext, *v;
	struct buf b;
	json_error_t je;

	if (!json_is_object(obj))
		return diag_set(d, TC_EINVAL, "provenance: not an object");
	ext = json_object_get(obj, "extensions");
	if (ext && !json_is_object(ext))
		return diag_set(d, TC_EINVAL, "provenance: extensions is not an object");
	buf_init(&b, 0);
	prov_ext_text(r, index, proof, proof_len, &b);
	if (buf_error(&b)) {
		buf_reset(&b);
		return diag_set(d, TC_ENOMEM, "provenance: out of memory");
	}
	v = json_loadb(b.p, b.len, 0, &je);
	buf_reset(&b);
	if (!v)
		return diag_set(d, TC_ENOMEM, "provenance: out of memory");
	if (!ext) {
		if (!(ext = json_object()) || json_object_set_new(obj, "extensions", ext)) {
			json_decref(v);
			return diag_set(d, TC_ENOMEM, "provenance: out of memory");
		}
	}
	if (json_object_set_new(ext, PROV_EXT_ID, v))
		return diag_set(d, TC_ENOMEM, "provenance: out of memory");
	return TC_OK;
}

bool
prov_present_json(const json_t *obj)
{
	json_t *ext = json_object_get(obj, "extensions");
	return ext && json_object_get(ext, PROV_EXT_ID) != NULL;
}

bool
prov_maybe_present(struct slice text)
{
	static const char id[] = "6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06";
	/* the id may be written with escapes; the uuid's hex tail rarely is,
	 * but a \u-escaped id must not slip past: look for the last group too */
	if (text.len >= sizeof(id) - 1 && memmem(text.p, text.len, id, sizeof(id) - 1))
		return true;
	return memmem(text.p, text.len, "\\u", 2) != NULL &&
	       memmem(text.p, text.len, "0d1f2a3b4c06", 12) != NULL;
}

enum tcerr
prov_add_hop(json_t *obj, const char *hub, struct diag *d)
{
	json_t *ext = json_object_get(json_object_get(obj, "extensions"), PROV_EXT_ID), *hops;
	struct hubkey_pub p;

	if (!json_is_object(ext))
		return diag_set(d, TC_ENOTFOUND, "provenance: missing");
	if (!hubkey_pub_parse(hub, strlen(hub), ':', &p, NULL))
		return diag_set(d, TC_EINVAL, "provenance: hop \"%.80s\" is not <alg>:<hex>", hub);
	hops = json_object_get(ext, "hops");
	if (!hops) {
		if (!(hops = json_array()) || json_object_set_new(ext, "hops", hops))
			return diag_set(d, TC_ENOMEM, "provenance: out of memory");
	}
	if (!json_is_array(hops))
		return diag_set(d, TC_EINVAL, "provenance: hops is not an array");
	if (json_array_size(hops) >= PROV_HOPS_MAX)
		return diag_set(d, TC_ELIMIT, "provenance: already %d hops", PROV_HOPS_MAX);
	if (json_array_append_new(hops, json_string(hub)))
		return diag_set(d, TC_ENOMEM, "provenance: out of memory");
	return TC_OK;
}

/* ---- verifying ------------------------------------------------------- */

const char *
prov_fault_str(enum prov_fault f)
{
	switch (f) {
	case PROV_OK: return "ok";
	case PROV_MISSING: return "missing";
	case PROV_MALFORMED: return "malformed";
	case PROV_UNKNOWN_ALG: return "unknown algorithm";
	case PROV_WRONG_PROOF: return "wrong proof";
	case PROV_BAD_SIGNATURE: return "bad signature";
	}
	return "?";
}

/* One verified batch signature: everything it signed, and the signature. */
struct prov_cached {
	uint8_t used;
	uint8_t root[PROV_HASH_LEN];
	uint8_t sig[HUBKEY_SIG_LEN];
	uint64_t leaf_count;
	char signed_at[PROV_TIME_MAX];
	char origin_hub[HUBKEY_ID_MAX];
};

struct prov_verifier {
	pthread_mutex_t mu;
	size_t cap;
	struct prov_cached *e;
	uint64_t sig_checks, hits;
};

struct prov_verifier *
prov_verifier_new(size_t cache_entries)
{
	struct prov_verifier *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->cap = cache_entries ? cache_entries : PROV_VERIFIER_CACHE;
	v->e = calloc(v->cap, sizeof(*v->e));
	if (!v->e || pthread_mutex_init(&v->mu, NULL) != 0) {
		free(v->e);
		free(v);
		return NULL;
	}
	return v;
}

void
prov_verifier_free(struct prov_verifier *v)
{
	if (!v)
		return;
	pthread_mutex_destroy(&v->mu);
	free(v->e);
	free(v);
}

void
prov_verifier_stats(const struct prov_verifier *v, uint64_t *sig_checks, uint64_t *cache_hits)
{
	struct prov_verifier *m = (struct prov_verifier *)v;
	pthread_mutex_lock(&m->mu);
	*sig_checks = v->sig_checks;
	*cache_hits = v->hits;
	pthread_mutex_unlock(&m->mu);
}

/* The cache slot of a batch: its root's first bytes (an attacker choosing
 * roots can only evict, never forge: a hit compares every field). */
static size_t
slot_of(const struct prov_verifier *v, const uint8_t root[PROV_HASH_LEN])
{
	uint64_t h;
	memcpy(&h, root, sizeof(h));
	return (size_t)(h % v->cap);
}

static bool
cached_is(const struct prov_cached *c, const struct prov_info *in, const uint8_t *sig)
{
	return c->used && c->leaf_count == in->leaf_count &&
	       memcmp(c->root, in->root, PROV_HASH_LEN) == 0 &&
	       memcmp(c->sig, sig, HUBKEY_SIG_LEN) == 0 &&
	       strcmp(c->signed_at, in->signed_at) == 0 && strcmp(c->origin_hub, in->origin_hub) == 0;
}

static enum tcerr
fault(struct prov_info *out, enum prov_fault f, enum tcerr rc, struct diag *d, const char *fmt,
      const char *arg)
{
	out->fault = f;
	return diag_set(d, rc, "provenance: %s: %s%s", prov_fault_str(f), fmt, arg ? arg : "");
}

static const struct jcs_node *
member(const struct jcs_doc *doc, int32_t obj, const char *key)
{
	int32_t i = jcs__get(doc, obj, key);
	return i < 0 ? NULL : &doc->nodes[i];
}

/* Lower-case hex digits only: what prov_ext_text writes. */
static bool
hex_bytes(const struct jcs_node *n, uint8_t *out, size_t len)
{
	static const int8_t val[256] = {
		['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
		['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13,
		['d'] = 14, ['e'] = 15, ['f'] = 16,
	};
	const unsigned char *p;
	if (!n || n->type != JCS_STR || n->len != 2 * len)
		return false;
	p = (const unsigned char *)n->s;
	for (size_t i = 0; i < len; i++) {
		int a = val[p[2 * i]], b = val[p[2 * i + 1]];
		if (!a || !b)
			return false;
		out[i] = (uint8_t)((a - 1) << 4 | (b - 1));
	}
	return true;
}

static bool
uint_of(const struct jcs_node *n, uint64_t *out)
{
	uint64_t v = 0;
	if (!n || n->type != JCS_NUM || n->len == 0 || n->len > 15)
		return false;
	for (size_t i = 0; i < n->len; i++) {
		if (n->s[i] < '0' || n->s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(n->s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
time_ok(const struct jcs_node *n)
{
	int64_t us;
	if (!n || n->type != JCS_STR || n->len == 0 || n->len >= PROV_TIME_MAX)
		return false;
	for (size_t i = 0; i < n->len; i++) {
		char c = n->s[i];
		if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == '.' || c == 'T' ||
		      c == 'Z'))
			return false;
	}
	return ts_parse(slice_make(n->s, n->len), &us, NULL) == TC_OK;
}

/* A buffer kept per thread between verifications, so that verifying an
 * object allocates nothing in the common case; one bigger than
 * PROV_SCRATCH_KEEP is given back after use, and a thread's is freed when
 * the thread ends (a pthread key's destructor). */
#define PROV_SCRATCH_KEEP (64u << 10)
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ok;

static void
scratch_free(void *p)
{
	struct buf *b = p;
	buf_reset(b);
	free(b);
}

static void
scratch_init(void)
{
	scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static struct buf
scratch_take(void)
{
	struct buf b, *kept = NULL;
	pthread_once(&scratch_once, scratch_init);
	if (scratch_ok && (kept = pthread_getspecific(scratch_key)) && kept->p) {
		b = *kept;
		memset(kept, 0, sizeof(*kept));
	} else {
		buf_init(&b, PROV_OBJECT_MAX + 1);
	}
	buf_clear(&b);
	return b;
}

static void
scratch_give(struct buf *b)
{
	struct buf *kept = scratch_ok ? pthread_getspecific(scratch_key) : NULL;
	if (b->cap <= PROV_SCRATCH_KEEP && scratch_ok && !kept) {
		kept = calloc(1, sizeof(*kept));
		if (kept && pthread_setspecific(scratch_key, kept) != 0) {
			free(kept);
			kept = NULL;
		}
	}
	if (!kept || kept->p || b->cap > PROV_SCRATCH_KEEP) {
		buf_reset(b);
		return;
	}
	*kept = *b;
	memset(b, 0, sizeof(*b));
}

static enum tcerr
verify_doc(struct prov_verifier *v, const struct jcs_doc *doc, struct prov_info *out,
           struct diag *d)
{
	const struct jcs_node *et, *oh, *rt, *li, *lc, *pf, *sa, *sg, *hp;
	uint8_t proof[PROV_PROOF_MAX][PROV_HASH_LEN], sig[HUBKEY_SIG_LEN];
	struct prov_root r;
	bool unknown = false, hit = false;
	size_t np = 0, slot;
	int32_t ext;
	struct buf b;
	enum tcerr rc;

	if (doc->nodes[0].type != JCS_OBJ)
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "not a JSON object", NULL);
	ext = jcs__get(doc, jcs__get(doc, 0, "extensions"), PROV_EXT_ID);
	if (ext < 0)
		return fault(out, PROV_MISSING, TC_EINVAL, d, "no extension ", PROV_EXT_ID);
	if (doc->nodes[ext].type != JCS_OBJ)
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "the extension is not an object", NULL);
	et = member(doc, ext, "extension_type");
	oh = member(doc, ext, "origin_hub");
	rt = member(doc, ext, "root");
	li = member(doc, ext, "leaf_index");
	lc = member(doc, ext, "leaf_count");
	pf = member(doc, ext, "proof");
	sa = member(doc, ext, "signed_at");
	sg = member(doc, ext, "signature");
	hp = member(doc, ext, "hops");
	if (!et || et->type != JCS_STR || et->len != sizeof(PROV_EXT_TYPE) - 1 ||
	    memcmp(et->s, PROV_EXT_TYPE, et->len) != 0)
		return fault(out, PROV_MALFORMED, TC_EINVAL, d,
		             "extension_type is not \"" PROV_EXT_TYPE "\"", NULL);
	if (!oh || oh->type != JCS_STR || oh->len >= HUBKEY_ID_MAX)
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "origin_hub is not \"<alg>:<hex>\"",
		             NULL);
	memcpy(out->origin_hub, oh->s, oh->len);
	out->origin_hub[oh->len] = '\0';
	if (!hubkey_pub_parse(oh->s, oh->len, ':', &out->origin, &unknown)) {
		if (unknown)
			return fault(out, PROV_UNKNOWN_ALG, TC_EINVAL, d, "origin_hub ",
			             out->origin_hub);
		return fault(out, PROV_MALFORMED, TC_EINVAL, d,
		             "origin_hub is not \"<alg>:<lower-case hex key>\": ", out->origin_hub);
	}
	if (!hex_bytes(rt, out->root, PROV_HASH_LEN))
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "root is not 64 hex digits", NULL);
	if (!uint_of(li, &out->leaf_index) || !uint_of(lc, &out->leaf_count) ||
	    out->leaf_count == 0 || out->leaf_count > PROV_LEAF_COUNT_MAX ||
	    out->leaf_index >= out->leaf_count)
		return fault(out, PROV_MALFORMED, TC_EINVAL, d,
		             "leaf_index and leaf_count are not 0 <= leaf_index < leaf_count", NULL);
	/* no proof: a batch of one (its leaf is the root) */
	if (pf && (pf->type != JCS_ARR || pf->count > PROV_PROOF_MAX))
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "proof is not an array of hashes",
		             NULL);
	for (int32_t c = pf ? pf->child : -1; c >= 0; c = doc->nodes[c].next)
		if (!hex_bytes(&doc->nodes[c], proof[np++], PROV_HASH_LEN))
			return fault(out, PROV_MALFORMED, TC_EINVAL, d,
			             "a proof entry is not 64 hex digits", NULL);
	if (!time_ok(sa))
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "signed_at is not an RFC 3339 time",
		             NULL);
	memcpy(out->signed_at, sa->s, sa->len);
	out->signed_at[sa->len] = '\0';
	if (!hex_bytes(sg, sig, HUBKEY_SIG_LEN))
		return fault(out, PROV_MALFORMED, TC_EINVAL, d, "signature is not 128 hex digits",
		             NULL);
	out->n_hops = 0;
	if (hp) {
		if (hp->type != JCS_ARR || hp->count > PROV_HOPS_MAX)
			return fault(out, PROV_MALFORMED, TC_EINVAL, d,
			             "hops is not an array of at most 16 hub ids", NULL);
		for (int32_t c = hp->child; c >= 0; c = doc->nodes[c].next) {
			const struct jcs_node *h = &doc->nodes[c];
			struct hubkey_pub hk;
			if (h->type != JCS_STR || h->len >= HUBKEY_ID_MAX ||
			    !hubkey_pub_parse(h->s, h->len, ':', &hk, NULL))
				return fault(out, PROV_MALFORMED, TC_EINVAL, d,
				             "a hop is not \"<alg>:<hex>\"", NULL);
			memcpy(out->hops[out->n_hops], h->s, h->len);
			out->hops[out->n_hops++][h->len] = '\0';
		}
	}

	/* the object's leaf and its path to root, in this thread's scratch */
	b = scratch_take();
	rc = doc_leaf(out->origin.alg, doc, &b, out->leaf, d);
	if (rc) {
		scratch_give(&b);
		out->fault = PROV_MALFORMED;
		diag_prefix(d, "provenance: malformed: ");
		return rc;
	}
	if (!prov_merkle_verify(out->origin.alg, out->leaf, out->leaf_index, out->leaf_count,
	                        (const uint8_t(*)[PROV_HASH_LEN])proof, np, out->root)) {
		scratch_give(&b);
		return fault(out, PROV_WRONG_PROOF, TC_EINVAL, d,
		             "the object and its proof do not lead to the signed root "
		             "(changed after signing, or another object's proof)", NULL);
	}

	/* the batch signature, once per batch */
	slot = slot_of(v, out->root);
	pthread_mutex_lock(&v->mu);
	if (cached_is(&v->e[slot], out, sig)) {
		hit = true;
		v->hits++;
	}
	pthread_mutex_unlock(&v->mu);
	if (!hit) {
		bool ok;
		memset(&r, 0, sizeof(r));
		r.alg = out->origin.alg;
		memcpy(r.origin_hub, out->origin_hub, sizeof(r.origin_hub));
		memcpy(r.root, out->root, PROV_HASH_LEN);
		r.leaf_count = out->leaf_count;
		memcpy(r.signed_at, out->signed_at, sizeof(r.signed_at));
		buf_clear(&b);
		prov_signed_message(&r, &b);
		if ((rc = buf_error(&b))) {
			scratch_give(&b);
			out->fault = PROV_MALFORMED;
			return diag_set(d, rc, "provenance: %s", tcerr_str(rc));
		}
		ok = hubkey_pub_verify(&out->origin, b.p, b.len, sig);
		pthread_mutex_lock(&v->mu);
		v->sig_checks++;
		if (ok) {
			struct prov_cached *c = &v->e[slot];
			c->used = 1;
			memcpy(c->root, out->root, PROV_HASH_LEN);
			memcpy(c->sig, sig, HUBKEY_SIG_LEN);
			c->leaf_count = out->leaf_count;
			memcpy(c->signed_at, out->signed_at, sizeof(c->signed_at));
			memcpy(c->origin_hub, out->origin_hub, sizeof(c->origin_hub));
		}
		pthread_mutex_unlock(&v->mu);
		if (!ok) {
			scratch_give(&b);
			return fault(out, PROV_BAD_SIGNATURE, TC_EINVAL, d,
			             "the root's signature does not verify with origin_hub ",
			             out->origin_hub);
		}
	}
	scratch_give(&b);
	out->fault = PROV_OK;
	return TC_OK;
}

enum tcerr
prov_verify(struct prov_verifier *v, const char *json, size_t len, struct prov_info *out,
            struct diag *d)
{
	struct prov_info local;
	struct jcs_doc doc;
	enum tcerr rc;

	if (!out)
		out = &local;
	memset(out, 0, sizeof(*out));
	jcs__init(&doc);
	rc = jcs__parse(&doc, slice_make(json, len), d);
	if (rc) {
		out->fault = PROV_MALFORMED;
		diag_prefix(d, "provenance: malformed: ");
	} else {
		rc = verify_doc(v, &doc, out, d);
	}
	jcs__free(&doc);
	return rc;
}

enum tcerr
prov_verify_json(struct prov_verifier *v, const json_t *obj, struct prov_info *out,
                 struct diag *d)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	enum tcerr rc;
	if (!text) {
		if (out)
			out->fault = PROV_MALFORMED;
		return diag_set(d, TC_ENOMEM, "provenance: cannot serialise the object");
	}
	rc = prov_verify(v, text, strlen(text), out, d);
	dumps_free(text);
	return rc;
}
