/*
 * hub_lookup.c — the concurrent, batched read path of matching (see
 * hub_lookup.h), and the lock and cache that make it safe against the
 * writer (hub_int.h).
 *
 * Invariants: the match index and the revoked index change only under
 * the write lock, and are read only under the read lock; a cache entry
 * describes the current version of its ref as some committed state of the
 * store had it, and is dropped (under the write lock) after any later
 * change of that ref is durable; a reader inserts what it read from the
 * store only if no commit happened since it began to read (gen). Cache
 * entries replaced by readers are retired, not freed: a reader copies an
 * entry under the read lock, so an entry is freed only under the write
 * lock. One call costs O(n) lookups, one store read per distinct
 * indicator not cached, and memory bounded by n, HUB_LOOKUP_MAX_REFS per
 * lookup and the indicators' own size.
 */
#include "hub_lookup.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hub_int.h"
#include "util/timestamp.h"

#define LK_CHANGED_MAX 65536            /* refs remembered per commit; more drop all */
#define LK_RETIRED_MAX 4096             /* retired entries a reader lets pile up */
#define LK_CONFIRM_SEED 0x243f6a8885a308d3ull /* not the index's seeds */
#define LOOKUP_HITBUF (HUB_LOOKUP_CHUNK * 4)

/* A resolved indicator: the struct, then hash[nhash] (sorted), then its
 * JSON text (json_len bytes) when the policy may need it. One block. */
struct lk_entry {
	struct lk_entry *next;          /* retired list */
	size_t size;                    /* bytes of the block */
	struct hub_lookup_ind ind;
	uint32_t nhash;
	uint32_t json_len;
};

static inline uint64_t *
e_hash(struct lk_entry *e)
{
	return (uint64_t *)(void *)(e + 1);
}

static inline const char *
e_json(struct lk_entry *e)
{
	return (const char *)(e_hash(e) + e->nhash);
}

/* A queued index change (hub_int.h); its value is in hub_lk.qvals. */
struct lk_op {
	bool add;
	enum hub_iop_target target;
	enum obs_kind kind;
	uint32_t ref;
	int64_t valid_until_us;
	size_t off, len;
};

struct hub_lk {
	pthread_rwlock_t rw;
	bool deferring;                 /* writer only */
	struct lk_op *q;
	size_t nq, capq;
	struct buf qvals;
	_Atomic uint64_t gen;           /* bumped by every commit */
	uint32_t *changed;              /* writer only, under the write lock */
	size_t nchanged;
	bool changed_all;
	_Atomic(struct lk_entry *) *slots; /* NULL: no cache */
	size_t mask;
	_Atomic(struct lk_entry *) retired;
	_Atomic size_t nretired;
};

enum tcerr
hub__lk_new(struct hub_lk **out, struct diag *d)
{
	pthread_rwlockattr_t a;
	struct hub_lk *lk = calloc(1, sizeof *lk);
	if (!lk)
		return diag_set(d, TC_ENOMEM, "out of memory");
	pthread_rwlockattr_init(&a);
	/* a writer waiting keeps new readers out: ingest never starves */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (pthread_rwlock_init(&lk->rw, &a) != 0) {
		pthread_rwlockattr_destroy(&a);
		free(lk);
		return diag_set(d, TC_ENOMEM, "out of memory (rwlock)");
	}
	pthread_rwlockattr_destroy(&a);
	buf_init(&lk->qvals, 0);
	*out = lk;
	return TC_OK;
}

void
hub__lk_defer(struct hub_lk *lk, bool on)
{
	lk->deferring = on;
}

bool
hub__lk_deferring(const struct hub_lk *lk)
{
	return lk->deferring;
}

bool
hub__lk_queue(struct hub_lk *lk, bool add, enum hub_iop_target t, enum obs_kind kind,
              struct slice value, uint32_t ref, int64_t valid_until_us)
{
	if (lk->nq == lk->capq) {
		size_t cap = lk->capq ? lk->capq * 2 : 1024;
		struct lk_op *q = realloc(lk->q, cap * sizeof *q);
		if (!q)
			return false;
		lk->q = q;
		lk->capq = cap;
	}
	size_t off = lk->qvals.len;
	buf_append_slice(&lk->qvals, value);
	if (buf_error(&lk->qvals)) {
		/* the values queued so far stay; only this one is refused */
		lk->qvals.err = TC_OK;
		buf_truncate(&lk->qvals, off);
		return false;
	}
	lk->q[lk->nq++] = (struct lk_op){ add, t, kind, ref, valid_until_us, off, value.len };
	return true;
}

void
hub__lk_discard(struct hub_lk *lk)
{
	lk->nq = 0;
	buf_clear(&lk->qvals);
}

static enum tcerr lk_apply_locked(struct hub *h);

enum tcerr
hub__lk_apply(struct hub *h)
{
	struct hub_lk *lk = hub__lk(h);
	if (lk->nq == 0)
		return TC_OK;
	pthread_rwlock_wrlock(&lk->rw);
	enum tcerr rc = lk_apply_locked(h);
	pthread_rwlock_unlock(&lk->rw);
	return rc;
}

/* Frees the retired entries; with the write lock held (or no readers). */
static void
lk_free_retired(struct hub_lk *lk)
{
	struct lk_entry *e = atomic_exchange(&lk->retired, NULL);
	while (e) {
		struct lk_entry *next = e->next;
		free(e);
		e = next;
	}
	atomic_store(&lk->nretired, 0);
}

static void
lk_clear(struct hub_lk *lk)
{
	if (!lk->slots)
		return;
	for (size_t i = 0; i <= lk->mask; i++)
		free(atomic_exchange(&lk->slots[i], NULL));
}

void
hub__lk_free(struct hub_lk *lk)
{
	if (!lk)
		return;
	lk_clear(lk);
	lk_free_retired(lk);
	free(lk->slots);
	free(lk->changed);
	free(lk->q);
	buf_reset(&lk->qvals);
	pthread_rwlock_destroy(&lk->rw);
	free(lk);
}

void
hub__lk_wlock(struct hub_lk *lk)
{
	pthread_rwlock_wrlock(&lk->rw);
}

void
hub__lk_wunlock(struct hub_lk *lk)
{
	pthread_rwlock_unlock(&lk->rw);
}

void
hub__lk_changed(struct hub_lk *lk, uint32_t ref)
{
	if (!lk->slots || lk->changed_all)
		return;
	if (!lk->changed)
		lk->changed = malloc(LK_CHANGED_MAX * sizeof *lk->changed);
	if (!lk->changed || lk->nchanged == LK_CHANGED_MAX) {
		lk->changed_all = true; /* cheaper than remembering: drop the cache */
		return;
	}
	lk->changed[lk->nchanged++] = ref;
}

/* With the write lock held: the queued changes, in order. */
static enum tcerr
lk_apply_locked(struct hub *h)
{
	struct hub_lk *lk = hub__lk(h);
	enum tcerr rc = TC_OK;
	for (size_t i = 0; i < lk->nq; i++) {
		const struct lk_op *o = &lk->q[i];
		struct slice v = slice_make(lk->qvals.p + o->off, o->len);
		if (o->target == HUB_IOP_REVOKED) {
			struct index *rv = hub__revoked(h);
			if (rv && o->add && index_add(rv, o->kind, v, o->ref, 0) == TC_ENOMEM)
				hub__revoked_drop(h);
			continue;
		}
		if (o->add) {
			/* a value the index cannot parse was refused at ingest */
			if (index_add(hub_index(h), o->kind, v, o->ref, o->valid_until_us) == TC_ENOMEM)
				rc = TC_ENOMEM;
		} else {
			index_remove(hub_index(h), o->kind, v, o->ref);
		}
		hub__lk_changed(lk, o->ref);
	}
	hub__lk_discard(lk);
	return rc;
}

enum tcerr
hub__lk_commit(struct hub *h, bool apply)
{
	struct hub_lk *lk = hub__lk(h);
	enum tcerr rc = TC_OK;
	pthread_rwlock_wrlock(&lk->rw);
	if (apply)
		rc = lk_apply_locked(h);
	else
		hub__lk_discard(lk);
	if (lk->changed_all) {
		lk_clear(lk);
	} else if (lk->slots) {
		for (size_t i = 0; i < lk->nchanged; i++) {
			uint32_t ref = lk->changed[i];
			_Atomic(struct lk_entry *) *slot = &lk->slots[ref & lk->mask];
			struct lk_entry *e = atomic_load(slot);
			if (e && e->ind.ref == ref) {
				atomic_store(slot, NULL);
				free(e);
			}
		}
	}
	lk->nchanged = 0;
	lk->changed_all = false;
	lk_free_retired(lk);
	atomic_fetch_add(&lk->gen, 1);
	pthread_rwlock_unlock(&lk->rw);
	return rc;
}

enum tcerr
hub_lookup_cache(struct hub *h, size_t entries, struct diag *d)
{
	struct hub_lk *lk = hub__lk(h);
	size_t cap = 1;

	if (entries == 0)
		entries = HUB_LOOKUP_DEFAULT_CACHE;
	if (entries > HUB_LOOKUP_CACHE_MAX)
		return diag_set(d, TC_ELIMIT, "lookup cache of %zu entries exceeds the limit of %u",
		                entries, HUB_LOOKUP_CACHE_MAX);
	while (cap < entries)
		cap <<= 1;
	_Atomic(struct lk_entry *) *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return diag_set(d, TC_ENOMEM, "lookup cache: out of memory");
	pthread_rwlock_wrlock(&lk->rw);
	lk_clear(lk);
	free(lk->slots);
	lk->slots = slots;
	lk->mask = cap - 1;
	pthread_rwlock_unlock(&lk->rw);
	return TC_OK;
}

/* ---- one call ---- */

/* One lookup: a value, or the host of a URL / domain of an e-mail. */
struct lq {
	uint32_t value;
	enum hub_via via;
	enum obs_kind kind;
	uint32_t off, len;              /* in out->text, NUL-terminated there */
};

/* One index hit of a lookup. */
struct raw {
	uint32_t q;
	uint32_t ref;
	uint32_t ind;                   /* in out->inds, once resolved */
	uint8_t how, prefix_len, labels_up;
};

struct hub_lookup_scratch {
	struct lq *q;
	size_t nq, capq;
	struct raw *raw[2];             /* the match index; the revoked index */
	size_t nraw[2], capraw[2];
	uint32_t *sel;                  /* lookups of a pass */
	size_t capsel;
	struct index_query iq[HUB_LOOKUP_CHUNK];
	size_t counts[HUB_LOOKUP_CHUNK];
	struct index_hit hb[LOOKUP_HITBUF];
	struct index_hit one[HUB_LOOKUP_MAX_REFS];
	uint32_t *map;                  /* ref -> ind + 1, open addressing */
	size_t mapcap;
	struct lk_entry **ent;          /* per ind: this call's copy */
	bool *visible;
	size_t capinds, capent, capvis;
	size_t capvalues, caphits, caplive;
	bool *live;                     /* per value: a live hit it may see */
};

void
hub_lookup_init(struct hub_lookup *out)
{
	memset(out, 0, sizeof *out);
	buf_init(&out->text, 0);
}

static void
scratch_free_entries(struct hub_lookup *out)
{
	struct hub_lookup_scratch *sc = out->scratch;
	if (!sc || !sc->ent)
		return;
	for (size_t i = 0; i < out->ninds; i++) {
		free(sc->ent[i]);
		sc->ent[i] = NULL;
	}
}

void
hub_lookup_reset(struct hub_lookup *out)
{
	struct hub_lookup_scratch *sc = out->scratch;
	scratch_free_entries(out);
	if (sc) {
		free(sc->q);
		free(sc->raw[0]);
		free(sc->raw[1]);
		free(sc->sel);
		free(sc->map);
		free(sc->ent);
		free(sc->visible);
		free(sc->live);
		free(sc);
	}
	free(out->values);
	free(out->hits);
	free(out->inds);
	buf_reset(&out->text);
	hub_lookup_init(out);
}

/* Grows *p (of *cap elements of size sz) to hold need. */
static bool
grow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *np = realloc(*p, n * sz);
	if (!np)
		return false;
	*p = np;
	*cap = n;
	return true;
}

static uint64_t
confirm_hash(enum obs_kind kind, struct slice v)
{
	return XXH3_64bits_withSeed(v.p, v.len, LK_CONFIRM_SEED ^ (uint64_t)kind);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool
entry_names(struct lk_entry *e, uint64_t h)
{
	const uint64_t *a = e_hash(e);
	size_t lo = 0, hi = e->nhash;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] == h)
			return true;
		if (a[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Filling an entry from the store. */
struct fill {
	const struct obs_ctx *obs;
	struct lk_entry *e;             /* NULL: not found, or rc */
	enum tcerr rc;
	uint64_t *hash;
	size_t nhash, cap;
};

static enum tcerr
fill_obs(void *ctx, enum obs_kind kind, struct slice value)
{
	struct fill *f = ctx;
	if (!grow(&f->hash, &f->cap, f->nhash + 1, sizeof *f->hash))
		return TC_ENOMEM;
	f->hash[f->nhash++] = confirm_hash(kind, value);
	return TC_OK;
}

/* Keeps the text for the policy when the level needs the recipients
 * (AMBER+STRICT, RED) or depends on the default (unmarked). */
static bool
needs_text(enum tlp_level t)
{
	return t == TLP_NONE || t >= TLP_AMBER_STRICT;
}

static enum store_row_verdict
fill_row(void *ctx, const struct store_row *row)
{
	struct fill *f = ctx;
	json_error_t jerr;
	struct stix_meta meta;
	struct diag d;
	int confidence = -1;
	json_t *obj = json_loadb(row->json.p, row->json.len, 0, &jerr);

	if (!obj)
		return STORE_ROW_STOP; /* unreadable: no hit can be confirmed */
	f->nhash = 0;
	if (stix_validate(obj, NULL, NULL, &meta, &d) == TC_OK) {
		enum tcerr rc = obs_extract(f->obs, obj, &meta, fill_obs, f, &d);
		if (rc == TC_ENOMEM) {
			f->rc = TC_ENOMEM;
			json_decref(obj);
			return STORE_ROW_STOP;
		}
	}
	json_t *c = json_object_get(obj, "confidence");
	if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 100)
		confidence = (int)json_integer_value(c);
	json_decref(obj);
	if (f->nhash)
		qsort(f->hash, f->nhash, sizeof *f->hash, cmp_u64);

	size_t jlen = needs_text(row->tlp) ? row->json.len : 0;
	if (jlen > UINT32_MAX) {
		f->rc = TC_ELIMIT;
		return STORE_ROW_STOP;
	}
	size_t size = sizeof(struct lk_entry) + f->nhash * sizeof(uint64_t) + jlen;
	struct lk_entry *e = calloc(1, size);
	if (!e) {
		f->rc = TC_ENOMEM;
		return STORE_ROW_STOP;
	}
	e->size = size;
	e->nhash = (uint32_t)f->nhash;
	e->json_len = (uint32_t)jlen;
	if (f->nhash)
		memcpy(e_hash(e), f->hash, f->nhash * sizeof(uint64_t));
	if (jlen)
		memcpy((char *)e_json(e), row->json.p, jlen);
	e->ind.ref = row->ref;
	snprintf(e->ind.id, sizeof e->ind.id, "%s", row->id ? row->id : "");
	e->ind.collection = row->collection;
	e->ind.producer = row->producer;
	snprintf(e->ind.key_id, sizeof e->ind.key_id, "%s", row->key_id ? row->key_id : "");
	e->ind.tlp = row->tlp;
	e->ind.confidence = confidence;
	e->ind.valid_until_us = row->valid_until_us;
	e->ind.revoked = row->revoked;
	f->e = e;
	return STORE_ROW_TAKE;
}

static struct lk_entry *
entry_dup(const struct lk_entry *e)
{
	struct lk_entry *c = malloc(e->size);
	if (c) {
		memcpy(c, e, e->size);
		c->next = NULL;
	}
	return c;
}

/* ref -> ind, adding a new ind (unresolved) when absent. */
static enum tcerr
ind_of(struct hub_lookup *out, uint32_t ref, uint32_t *ind)
{
	struct hub_lookup_scratch *sc = out->scratch;
	if ((out->ninds + 1) * 2 > sc->mapcap) {
		size_t ncap = sc->mapcap ? sc->mapcap * 2 : 1024;
		uint32_t *nm = calloc(ncap, sizeof *nm);
		if (!nm)
			return TC_ENOMEM;
		for (size_t i = 0; i < out->ninds; i++) {
			size_t j = (out->inds[i].ref * 2654435761u) & (ncap - 1);
			while (nm[j])
				j = (j + 1) & (ncap - 1);
			nm[j] = (uint32_t)i + 1;
		}
		free(sc->map);
		sc->map = nm;
		sc->mapcap = ncap;
	}
	size_t j = (ref * 2654435761u) & (sc->mapcap - 1);
	while (sc->map[j]) {
		if (out->inds[sc->map[j] - 1].ref == ref) {
			*ind = sc->map[j] - 1;
			return TC_OK;
		}
		j = (j + 1) & (sc->mapcap - 1);
	}
	if (!grow(&out->inds, &sc->capinds, out->ninds + 1, sizeof *out->inds) ||
	    !grow(&sc->ent, &sc->capent, out->ninds + 1, sizeof *sc->ent) ||
	    !grow(&sc->visible, &sc->capvis, out->ninds + 1, sizeof *sc->visible))
		return TC_ENOMEM;
	memset(&out->inds[out->ninds], 0, sizeof out->inds[0]);
	out->inds[out->ninds].ref = ref;
	sc->ent[out->ninds] = NULL;
	sc->visible[out->ninds] = false;
	sc->map[j] = (uint32_t)out->ninds + 1;
	*ind = (uint32_t)out->ninds++;
	return TC_OK;
}

/* Looks the lookups sel[0..nsel) up in the match index (revoked false,
 * expired entries included) or the revoked index, appending to raw[pass]. */
static enum tcerr
lookup_pass(struct hub *h, struct hub_lookup *out, int pass, size_t nsel)
{
	struct hub_lookup_scratch *sc = out->scratch;
	struct hub_lk *lk = hub__lk(h);

	for (size_t c = 0; c < nsel; c += HUB_LOOKUP_CHUNK) {
		size_t m = nsel - c < HUB_LOOKUP_CHUNK ? nsel - c : HUB_LOOKUP_CHUNK;
		for (size_t k = 0; k < m; k++) {
			const struct lq *q = &sc->q[sc->sel[c + k]];
			sc->iq[k] = (struct index_query){ q->kind,
				                          slice_make(out->text.p + q->off, q->len) };
		}
		enum tcerr rc = TC_OK;
		pthread_rwlock_rdlock(&lk->rw);
		const struct index *idx = pass ? hub__revoked(h) : hub_index(h);
		if (idx)
			index_lookup_batch(idx, sc->iq, m, 0, sc->hb, LOOKUP_HITBUF, sc->counts);
		size_t pos = 0;
		bool over = false;
		for (size_t k = 0; idx && k < m && !rc; k++) {
			const struct index_hit *src;
			size_t cnt = sc->counts[k];
			if (!over && cnt <= LOOKUP_HITBUF - pos) {
				src = sc->hb + pos;
				pos += cnt;
			} else {
				/* the batch's buffer filled up: the rest one by one */
				over = true;
				cnt = index_lookup(idx, sc->iq[k].kind, sc->iq[k].value, 0, sc->one,
				                   HUB_LOOKUP_MAX_REFS);
				src = sc->one;
			}
			if (cnt > HUB_LOOKUP_MAX_REFS)
				cnt = HUB_LOOKUP_MAX_REFS;
			if (!grow(&sc->raw[pass], &sc->capraw[pass], sc->nraw[pass] + cnt,
			          sizeof(struct raw))) {
				rc = TC_ENOMEM;
				break;
			}
			for (size_t j = 0; j < cnt; j++)
				sc->raw[pass][sc->nraw[pass]++] = (struct raw){
					.q = sc->sel[c + k], .ref = src[j].ref, .how = (uint8_t)src[j].how,
					.prefix_len = src[j].prefix_len, .labels_up = src[j].labels_up,
				};
		}
		pthread_rwlock_unlock(&lk->rw);
		if (rc)
			return rc;
	}
	return TC_OK;
}

/* Resolves the inds from first on: from the cache, else the store through
 * s (caching what it read if nothing was committed meanwhile); then asks
 * see about each. */
static enum tcerr
resolve(struct hub *h, struct store *s, struct hub_lookup *out, size_t first,
        hub_lookup_see_cb see, void *see_ctx, struct diag *d)
{
	struct hub_lookup_scratch *sc = out->scratch;
	struct hub_lk *lk = hub__lk(h);
	enum tcerr rc = TC_OK;
	size_t missing = 0;

	if (first == out->ninds)
		return TC_OK;
	if (lk->slots) {
		pthread_rwlock_rdlock(&lk->rw);
		for (size_t i = first; i < out->ninds; i++) {
			uint32_t ref = out->inds[i].ref;
			struct lk_entry *e = atomic_load(&lk->slots[ref & lk->mask]);
			if (e && e->ind.ref == ref && !(sc->ent[i] = entry_dup(e))) {
				rc = TC_ENOMEM;
				break;
			}
		}
		pthread_rwlock_unlock(&lk->rw);
		if (rc)
			return diag_set(d, rc, "out of memory");
	}
	uint64_t gen0 = atomic_load(&lk->gen);
	struct fill f = { .obs = hub_obs_ctx(h) };
	for (size_t i = first; i < out->ninds; i++) {
		if (sc->ent[i])
			continue;
		f.e = NULL;
		f.rc = TC_OK;
		enum tcerr grc = store_get_ref(s, out->inds[i].ref, fill_row, &f);
		if (f.rc == TC_ENOMEM || grc == TC_EDB) {
			free(f.e);
			free(f.hash);
			return diag_set(d, f.rc ? f.rc : grc, "reading indicator ref %u: %s",
			                out->inds[i].ref, tcerr_str(f.rc ? f.rc : grc));
		}
		sc->ent[i] = f.e; /* NULL: gone or unreadable, never a hit */
		missing += f.e != NULL;
	}
	free(f.hash);
	if (missing && lk->slots) {
		bool reclaim = false;
		pthread_rwlock_rdlock(&lk->rw);
		if (atomic_load(&lk->gen) == gen0) {
			for (size_t i = first; i < out->ninds; i++) {
				struct lk_entry *e = sc->ent[i];
				if (!e)
					continue;
				_Atomic(struct lk_entry *) *slot = &lk->slots[e->ind.ref & lk->mask];
				struct lk_entry *cur = atomic_load(slot);
				if (cur && cur->ind.ref == e->ind.ref)
					continue;
				struct lk_entry *c = entry_dup(e);
				if (!c)
					break; /* not caching costs only speed */
				struct lk_entry *old = atomic_exchange(slot, c);
				if (old) {
					/* another reader may be copying it: retire */
					old->next = atomic_load(&lk->retired);
					while (!atomic_compare_exchange_weak(&lk->retired, &old->next, old))
						;
					reclaim = atomic_fetch_add(&lk->nretired, 1) + 1 > LK_RETIRED_MAX;
				}
			}
		}
		pthread_rwlock_unlock(&lk->rw);
		if (reclaim) {
			pthread_rwlock_wrlock(&lk->rw);
			lk_free_retired(lk);
			pthread_rwlock_unlock(&lk->rw);
		}
	}
	for (size_t i = first; i < out->ninds; i++) {
		struct lk_entry *e = sc->ent[i];
		if (!e)
			continue;
		uint32_t ref = out->inds[i].ref;
		out->inds[i] = e->ind;
		out->inds[i].ref = ref;
		struct store_row row = {
			.ref = ref,
			.collection = e->ind.collection,
			.json = slice_make(e_json(e), e->json_len),
			.id = e->ind.id,
			.type = "indicator",
			.tlp = e->ind.tlp,
			.revoked = e->ind.revoked,
			.valid_until_us = e->ind.valid_until_us,
			.producer = e->ind.producer,
			.key_id = e->ind.key_id,
			.is_last = true,
		};
		sc->visible[i] = !see || see(see_ctx, &row);
	}
	return TC_OK;
}

/* The indexed value raw stands for, when lookup q was made, into m;
 * OUT: *how, *kind (of the matched value). */
static void
raw_matched(const struct hub_lookup *out, const struct lq *q, const struct raw *r,
            char m[OBS_VALUE_MAX + 1], size_t *mlen, enum index_how *how, enum obs_kind *kind)
{
	const char *v = out->text.p + q->off;
	*how = (enum index_how)r->how;
	*kind = *how == INDEX_PARENT_DOMAIN ? OBS_DOMAIN : q->kind;
	switch (*how) {
	case INDEX_CIDR:
		if ((q->kind == OBS_IPV4 && r->prefix_len == 32) ||
		    (q->kind == OBS_IPV6 && r->prefix_len == 128))
			snprintf(m, OBS_VALUE_MAX + 1, "%s", v);
		else
			hub__network_text(q->kind, v, r->prefix_len, m, OBS_VALUE_MAX + 1);
		break;
	case INDEX_PARENT_DOMAIN:
		snprintf(m, OBS_VALUE_MAX + 1, "%s", hub__parent_domain(v, r->labels_up));
		break;
	default:
		snprintf(m, OBS_VALUE_MAX + 1, "%s", v);
	}
	*mlen = strlen(m);
	/* as hub_match: a domain found for a URL's host or an e-mail's domain
	 * is the value's parent domain; an address in a URL lies in the
	 * indicator's address or network */
	if (q->via != HUB_VIA_VALUE)
		*how = q->kind == OBS_DOMAIN ? INDEX_PARENT_DOMAIN : INDEX_CIDR;
}

/* Whether raw hit r (of pass) counts for the reader, and its state. */
static bool
raw_counts(struct hub_lookup *out, int pass, const struct raw *r, int64_t now,
           enum hub_hit_state *state)
{
	struct hub_lookup_scratch *sc = out->scratch;
	struct lk_entry *e = sc->ent[r->ind];
	if (!e || !sc->visible[r->ind])
		return false;
	const struct lq *q = &sc->q[r->q];
	char m[OBS_VALUE_MAX + 1];
	size_t mlen;
	enum index_how how;
	enum obs_kind kind;
	raw_matched(out, q, r, m, &mlen, &how, &kind);
	if (!entry_names(e, confirm_hash(kind, slice_make(m, mlen))))
		return false; /* a stale entry or a hash collision */
	*state = e->ind.revoked ? HUB_HIT_REVOKED
	         : e->ind.valid_until_us && e->ind.valid_until_us <= now ? HUB_HIT_EXPIRED
	                                                                : HUB_HIT_LIVE;
	return pass == 0 ? *state != HUB_HIT_REVOKED : *state == HUB_HIT_REVOKED;
}

static enum tcerr
add_hit(struct hub_lookup *out, const struct raw *r, enum hub_hit_state state)
{
	struct hub_lookup_scratch *sc = out->scratch;
	const struct lq *q = &sc->q[r->q];
	char m[OBS_VALUE_MAX + 1];
	size_t mlen;
	enum index_how how;
	enum obs_kind kind;
	if (!grow(&out->hits, &sc->caphits, out->nhits + 1, sizeof *out->hits))
		return TC_ENOMEM;
	raw_matched(out, q, r, m, &mlen, &how, &kind);
	size_t off = out->text.len;
	buf_append(&out->text, m, mlen);
	buf_append_char(&out->text, '\0');
	out->hits[out->nhits++] = (struct hub_lookup_hit){
		.ind = r->ind, .how = how, .via = q->via, .state = state,
		.matched_off = (uint32_t)off, .matched_len = (uint32_t)mlen,
	};
	return buf_error(&out->text);
}

/* Appends s and a NUL to out->text. OUT: *off, *len. */
static void
text_add(struct hub_lookup *out, struct slice s, uint32_t *off, uint32_t *len)
{
	*off = (uint32_t)out->text.len;
	*len = (uint32_t)s.len;
	buf_append_slice(&out->text, s);
	buf_append_char(&out->text, '\0');
}

/* Classifies and normalises every value, checks the allowlist, and plans
 * the lookups (the value; a URL's host, an e-mail's domain). */
static enum tcerr
plan(struct hub *h, const struct slice *values, size_t n, const enum obs_kind *kind,
     struct hub_lookup *out, struct diag *d)
{
	struct hub_lookup_scratch *sc = out->scratch;
	struct allowlist *al = hub_allowlist_get(h);
	struct buf norm, host;
	enum tcerr rc = TC_OK;

	buf_init(&norm, OBS_VALUE_MAX);
	buf_init(&host, OBS_VALUE_MAX);
	for (size_t i = 0; i < n && !rc; i++) {
		struct hub_lookup_value *v = &out->values[i];
		struct diag vd;
		enum tcerr vrc;
		diag_clear(&vd);
		buf_clear(&norm);
		memset(v, 0, sizeof *v);
		if (kind) {
			v->kind = *kind;
			vrc = obs_normalize(hub_obs_ctx(h), *kind, values[i], &norm, &vd);
		} else {
			vrc = obs_classify(hub_obs_ctx(h), values[i], &v->kind, &norm, &vd);
		}
		if (!vrc && buf_error(&norm))
			vrc = diag_set(&vd, TC_ELIMIT, "value too long (limit %d bytes)", OBS_VALUE_MAX);
		if (vrc == TC_ENOMEM) {
			rc = diag_set(d, vrc, "out of memory");
			break;
		}
		if (vrc) {
			v->rc = vrc;
			text_add(out, slice_from_cstr(vd.msg[0] ? vd.msg : tcerr_str(vrc)),
			         &v->text_off, &v->text_len);
			continue;
		}
		text_add(out, buf_slice(&norm), &v->text_off, &v->text_len);
		const char *reason = NULL;
		v->allowlisted = allowlist_check(al, v->kind, buf_slice(&norm), &reason);
		if (v->allowlisted)
			text_add(out, slice_from_cstr(reason ? reason : ""), &v->reason_off,
			         &v->reason_len);
		if (!grow(&sc->q, &sc->capq, sc->nq + 2, sizeof *sc->q)) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			break;
		}
		sc->q[sc->nq++] = (struct lq){ (uint32_t)i, HUB_VIA_VALUE, v->kind, v->text_off,
			                       v->text_len };
		enum obs_kind hkind;
		buf_clear(&host);
		if ((v->kind == OBS_URL || v->kind == OBS_EMAIL) &&
		    hub__match_host(h, v->kind, norm.p, &host, &hkind) && host.p) {
			struct lq hq = { (uint32_t)i,
				         v->kind == OBS_URL ? HUB_VIA_URL_HOST : HUB_VIA_EMAIL_DOMAIN,
				         hkind, 0, 0 };
			text_add(out, buf_slice(&host), &hq.off, &hq.len);
			sc->q[sc->nq++] = hq;
		}
	}
	if (!rc && buf_error(&out->text))
		rc = diag_set(d, buf_error(&out->text), "out of memory");
	buf_reset(&norm);
	buf_reset(&host);
	allowlist_free(al);
	return rc;
}

/* Maps the raw hits of pass from index first on to inds (new ones
 * resolved). */
static enum tcerr
map_raw(struct hub *h, struct store *s, struct hub_lookup *out, int pass, hub_lookup_see_cb see,
        void *see_ctx, struct diag *d)
{
	struct hub_lookup_scratch *sc = out->scratch;
	size_t first = out->ninds;
	for (size_t i = 0; i < sc->nraw[pass]; i++)
		if (ind_of(out, sc->raw[pass][i].ref, &sc->raw[pass][i].ind))
			return diag_set(d, TC_ENOMEM, "out of memory");
	return resolve(h, s, out, first, see, see_ctx, d);
}

enum tcerr
hub_lookup_batch(struct hub *h, struct store *s, const struct slice *values, size_t n,
                 const enum obs_kind *kind, hub_lookup_see_cb see, void *see_ctx,
                 struct hub_lookup *out, struct diag *d)
{
	struct hub_lookup_scratch *sc;
	int64_t now = ts_now_us();
	enum tcerr rc;

	/* keep the scratch, forget the last answer */
	scratch_free_entries(out);
	out->nvalues = out->nhits = out->ninds = 0;
	buf_clear(&out->text);
	if (n > HUB_LOOKUP_MAX_VALUES)
		return diag_set(d, TC_ELIMIT, "%zu values exceed the limit of %d", n,
		                HUB_LOOKUP_MAX_VALUES);
	if (!out->scratch && !(out->scratch = calloc(1, sizeof *out->scratch)))
		return diag_set(d, TC_ENOMEM, "out of memory");
	sc = out->scratch;
	sc->nq = sc->nraw[0] = sc->nraw[1] = 0;
	if (sc->mapcap)
		memset(sc->map, 0, sc->mapcap * sizeof *sc->map);
	if (!grow(&out->values, &sc->capvalues, n, sizeof *out->values) ||
	    !grow(&sc->live, &sc->caplive, n, sizeof *sc->live))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (n)
		memset(sc->live, 0, n * sizeof *sc->live);
	out->nvalues = n;
	if ((rc = plan(h, values, n, kind, out, d)))
		return rc;

	/* 1. every lookup in the match index, expired entries included */
	if (!grow(&sc->sel, &sc->capsel, sc->nq, sizeof *sc->sel))
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < sc->nq; i++)
		sc->sel[i] = (uint32_t)i;
	if ((rc = lookup_pass(h, out, 0, sc->nq)))
		return diag_set(d, rc, "out of memory");
	if ((rc = map_raw(h, s, out, 0, see, see_ctx, d)))
		return rc;
	for (size_t i = 0; i < sc->nraw[0]; i++) {
		enum hub_hit_state st;
		if (raw_counts(out, 0, &sc->raw[0][i], now, &st) && st == HUB_HIT_LIVE)
			sc->live[sc->q[sc->raw[0][i].q].value] = true;
	}

	/* 2. values without a live hit: the revoked index, built at the first need */
	size_t nsel = 0;
	for (size_t i = 0; i < sc->nq; i++)
		if (!sc->live[sc->q[i].value])
			sc->sel[nsel++] = (uint32_t)i;
	if (nsel) {
		struct hub_lk *lk = hub__lk(h);
		pthread_rwlock_rdlock(&lk->rw);
		bool built = hub__revoked(h) != NULL;
		/* nothing revoked: no second pass of hashing (the common case) */
		bool empty = built && index_count(hub__revoked(h)) == 0;
		pthread_rwlock_unlock(&lk->rw);
		if (empty)
			nsel = 0;
		if (!built) {
			pthread_rwlock_wrlock(&lk->rw);
			rc = hub__revoked_build(h, s, d);
			pthread_rwlock_unlock(&lk->rw);
			if (rc)
				return rc;
		}
	}
	if (nsel) {
		if ((rc = lookup_pass(h, out, 1, nsel)))
			return diag_set(d, rc, "out of memory");
		if ((rc = map_raw(h, s, out, 1, see, see_ctx, d)))
			return rc;
	}

	/* 3. the answer, value by value: raw hits are in lookup order, and
	 * lookups in value order */
	size_t r0 = 0, r1 = 0;
	for (size_t v = 0; v < n; v++) {
		struct hub_lookup_value *val = &out->values[v];
		val->hit0 = (uint32_t)out->nhits;
		size_t e0 = r0, e1 = r1;
		while (e0 < sc->nraw[0] && sc->q[sc->raw[0][e0].q].value == v)
			e0++;
		while (e1 < sc->nraw[1] && sc->q[sc->raw[1][e1].q].value == v)
			e1++;
		enum hub_hit_state st;
		for (size_t i = r0; i < e0; i++) {
			if (!raw_counts(out, 0, &sc->raw[0][i], now, &st) || st != HUB_HIT_LIVE)
				continue;
			val->hits_total++;
			/* the answer's size is bounded: past HUB_LOOKUP_MAX_LISTED
			 * hits a value lists only its first (what the reader may
			 * see decides it, so it tells nothing of hidden ones) */
			if (val->nhits < HUB_MATCH_MAX_HITS &&
			    (val->nhits == 0 || out->nhits < HUB_LOOKUP_MAX_LISTED)) {
				if ((rc = add_hit(out, &sc->raw[0][i], st)))
					return diag_set(d, rc, "out of memory");
				val->nhits++;
			}
		}
		for (size_t i = r0; !val->hits_total && i < e0; i++) {
			if (val->ninactive >= HUB_MATCH_MAX_INACTIVE ||
			    !raw_counts(out, 0, &sc->raw[0][i], now, &st) || st != HUB_HIT_EXPIRED)
				continue;
			if ((rc = add_hit(out, &sc->raw[0][i], st)))
				return diag_set(d, rc, "out of memory");
			val->ninactive++;
		}
		for (size_t i = r1; !val->hits_total && i < e1; i++) {
			if (val->ninactive >= HUB_MATCH_MAX_INACTIVE ||
			    !raw_counts(out, 1, &sc->raw[1][i], now, &st))
				continue;
			if ((rc = add_hit(out, &sc->raw[1][i], st)))
				return diag_set(d, rc, "out of memory");
			val->ninactive++;
		}
		r0 = e0;
		r1 = e1;
	}
	return TC_OK;
}
