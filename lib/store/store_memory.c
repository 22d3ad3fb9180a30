/*
 * store_memory.c — the "memory:" log store, for tests and throw-away hubs.
 *
 * Versions live in an array indexed by seq - 1, objects in an array
 * indexed by ref - 1, found by (collection, id) through an open-addressing
 * hash; each object chains its versions newest-appended first. A deletion
 * marks the version dead (its block stays: the object's id lives in it)
 * and takes the next slot of the array for its tombstone, also dead, so
 * that seq stays the array position. Invariants: an object's cur_seq /
 * first_seq name its live versions with the greatest / smallest
 * version_us, and exactly those carry is_last / is_first; both are 0 when
 * no live version is left (the object has vanished; a new append revives
 * the same ref). A batch or a deletion is all or nothing: every check and
 * every allocation happens before the first change, so nothing can fail
 * half-way.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"
#include "util/timestamp.h"

struct mem_obs {
	enum obs_kind kind;
	struct slice value; /* points into the version's block */
};

struct mem_version {
	uint64_t prev_seq;  /* previous version appended for the same ref, 0 none */
	int64_t date_added;
	uint32_t ref;
	int64_t collection;
	int64_t version_us;
	int64_t valid_until;
	int64_t producer;
	char key_id[STORE_KEY_ID_MAX + 1];
	enum tlp_level tlp;
	bool revoked, is_first, is_last;
	bool dead;          /* deleted, or the slot of a tombstone */
	char spec_version[8];
	char *block;        /* one allocation: obs array, json, id, type, version, values */
	struct mem_obs *obs;
	size_t nobs;
	struct slice json;
	const char *id, *type, *version;
};

struct mem_object {
	int64_t collection;
	const char *id;     /* in the block of its first version */
	uint64_t cur_seq, first_seq, last_appended; /* cur_seq 0: no live version */
	int64_t producer;   /* of the version that created (or revived) the object */
};

struct mem_tomb {
	uint64_t seq;
	int64_t deleted_us;
	uint64_t version_seq; /* the dead version: its id, version, collection */
};

struct mem_setting {
	char *key, *value;
};

struct mem_store {
	struct store base;
	struct store_collection *colls;
	size_t ncolls, capcolls;
	struct mem_version *v;
	size_t nv, capv;
	struct mem_object *obj;
	size_t nobj, capobj;
	uint32_t *hash;     /* refs, 0 = empty */
	size_t hashcap;     /* power of two */
	struct mem_setting *settings;
	size_t nsettings;
	int64_t last_added;
	bool unsorted;      /* some date_added is not greater than an earlier one */
	uint64_t *order;    /* seqs by (date_added, seq), valid while order_n == nv */
	size_t order_n;
	struct mem_tomb *tombs;
	size_t ntombs, captombs;
};

static struct mem_store *
mem(struct store *s)
{
	return (struct mem_store *)s;
}

static enum tcerr
mem_open(const char *path, struct store **out, struct diag *d)
{
	struct mem_store *m = calloc(1, sizeof *m);
	if (!m)
		return diag_set(d, TC_ENOMEM, "memory store: out of memory");
	m->base.be = &store__memory;
	*out = &m->base;
	return TC_OK;
}

static void
mem_close(struct store *s)
{
	struct mem_store *m = mem(s);
	for (size_t i = 0; i < m->nv; i++)
		free(m->v[i].block);
	for (size_t i = 0; i < m->nsettings; i++) {
		free(m->settings[i].key);
		free(m->settings[i].value);
	}
	free(m->settings);
	free(m->v);
	free(m->obj);
	free(m->hash);
	free(m->colls);
	free(m->order);
	free(m->tombs);
	free(m);
}

static uint64_t
key_hash(int64_t collection, const char *id)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)collection;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static uint32_t
mem_find_ref(const struct mem_store *m, int64_t collection, const char *id)
{
	if (!m->hashcap)
		return 0;
	size_t mask = m->hashcap - 1;
	for (size_t i = key_hash(collection, id) & mask;; i = (i + 1) & mask) {
		uint32_t ref = m->hash[i];
		if (ref == 0)
			return 0;
		const struct mem_object *o = &m->obj[ref - 1];
		if (o->collection == collection && strcmp(o->id, id) == 0)
			return ref;
	}
}

static void
hash_put(uint32_t *tab, size_t cap, const struct mem_object *o, uint32_t ref)
{
	size_t mask = cap - 1;
	size_t i = key_hash(o->collection, o->id) & mask;
	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = ref;
}

/* Makes room for n more objects and versions; changes nothing visible. */
static enum tcerr
mem_reserve(struct mem_store *m, size_t n)
{
	if (m->nv + n > m->capv) {
		size_t cap = m->capv ? m->capv : 64;
		while (cap < m->nv + n)
			cap *= 2;
		struct mem_version *nvv = realloc(m->v, cap * sizeof *nvv);
		if (!nvv)
			return TC_ENOMEM;
		m->v = nvv;
		m->capv = cap;
	}
	if (m->nobj + n > m->capobj) {
		size_t cap = m->capobj ? m->capobj : 64;
		while (cap < m->nobj + n)
			cap *= 2;
		struct mem_object *no = realloc(m->obj, cap * sizeof *no);
		if (!no)
			return TC_ENOMEM;
		m->obj = no;
		m->capobj = cap;
	}
	if ((m->nobj + n) * 2 > m->hashcap) {
		size_t cap = m->hashcap ? m->hashcap : 128;
		while ((m->nobj + n) * 2 > cap)
			cap *= 2;
		uint32_t *tab = calloc(cap, sizeof *tab);
		if (!tab)
			return TC_ENOMEM;
		for (size_t r = 0; r < m->nobj; r++)
			hash_put(tab, cap, &m->obj[r], (uint32_t)(r + 1));
		free(m->hash);
		m->hash = tab;
		m->hashcap = cap;
	}
	return TC_OK;
}

/* Copies everything of in that the store keeps into one allocation. */
static enum tcerr
mem_stage(const struct store_obj_in *in, struct mem_version *v)
{
	const struct stix_meta *meta = in->meta;
	size_t idlen = strlen(meta->id), tlen = strlen(meta->type), vlen = strlen(meta->version);
	size_t sz = in->nobs * sizeof(struct mem_obs) + in->json.len + idlen + tlen + vlen + 3;
	for (size_t k = 0; k < in->nobs; k++)
		sz += in->obs[k].value.len + 1;
	char *b = malloc(sz);
	if (!b)
		return TC_ENOMEM;
	memset(v, 0, sizeof *v);
	v->block = b;
	v->obs = (struct mem_obs *)(void *)b;
	v->nobs = in->nobs;
	char *p = b + in->nobs * sizeof(struct mem_obs);
	for (size_t k = 0; k < in->nobs; k++) {
		v->obs[k].kind = in->obs[k].kind;
		if (in->obs[k].value.len)
			memcpy(p, in->obs[k].value.p, in->obs[k].value.len);
		p[in->obs[k].value.len] = '\0';
		v->obs[k].value = slice_make(p, in->obs[k].value.len);
		p += in->obs[k].value.len + 1;
	}
	memcpy(p, in->json.p, in->json.len);
	v->json = slice_make(p, in->json.len);
	p += in->json.len;
	memcpy(p, meta->id, idlen + 1);
	v->id = p;
	p += idlen + 1;
	memcpy(p, meta->type, tlen + 1);
	v->type = p;
	p += tlen + 1;
	memcpy(p, meta->version, vlen + 1);
	v->version = p;
	v->collection = in->collection;
	v->version_us = meta->version_us;
	v->valid_until = meta->valid_until_us;
	v->producer = in->producer;
	snprintf(v->key_id, sizeof v->key_id, "%s", in->key_id ? in->key_id : ""); /* checked */
	v->tlp = meta->tlp;
	v->revoked = meta->revoked;
	memcpy(v->spec_version, meta->spec_version, sizeof v->spec_version);
	v->spec_version[sizeof v->spec_version - 1] = '\0';
	return TC_OK;
}

static bool
mem_coll_exists(const struct mem_store *m, int64_t num)
{
	return num >= 1 && (uint64_t)num <= m->ncolls;
}

static enum tcerr
mem_append(struct store *s, const struct store_obj_in *in, size_t n, struct store_append_out *out,
           store_unindex_cb unindex, void *ctx, struct diag *d)
{
	struct mem_store *m = mem(s);
	struct mem_version *staged = NULL;
	uint64_t *unidx = NULL;
	size_t nunidx = 0;
	enum tcerr rc = TC_OK;

	for (size_t i = 0; i < n; i++)
		if (!mem_coll_exists(m, in[i].collection))
			return diag_set(d, TC_ENOTFOUND, "in[%zu]: no collection %lld", i,
			                (long long)in[i].collection);
	staged = calloc(n, sizeof *staged);
	unidx = malloc(n * sizeof *unidx);
	if (!staged || !unidx || mem_reserve(m, n)) {
		rc = diag_set(d, TC_ENOMEM, "store: out of memory for a batch of %zu", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (mem_stage(&in[i], &staged[i])) {
			rc = diag_set(d, TC_ENOMEM, "store: out of memory for a batch of %zu", n);
			goto out;
		}
	}

	/* From here on nothing fails. */
	uint64_t batch_start = m->nv + 1;
	int64_t now = ts_now_us();
	for (size_t i = 0; i < n; i++) {
		struct mem_version *nv = &staged[i];
		uint32_t ref = mem_find_ref(m, nv->collection, nv->id);
		struct mem_object *o = ref ? &m->obj[ref - 1] : NULL;
		if (o) {
			uint64_t dup = 0;
			for (uint64_t q = o->last_appended; q; q = m->v[q - 1].prev_seq)
				if (!m->v[q - 1].dead && m->v[q - 1].version_us == nv->version_us) {
					dup = q;
					break;
				}
			if (dup) {
				/* Nothing may fail here: a comparison without
				 * memory (-1) counts as a conflict, which refuses
				 * the copy rather than claim it is stored. This
				 * backend serves tests. */
				int same = store__same_json(m->v[dup - 1].json, nv->json);
				free(nv->block);
				nv->block = NULL;
				out[i] = (struct store_append_out){ .status = same == 1 ? STORE_DUPLICATE
				                                                        : STORE_CONFLICT,
					                            .seq = dup,
					                            .date_added_us = m->v[dup - 1].date_added,
					                            .ref = ref };
				continue;
			}
			/* STIX 2.1 §3.6: only the producer of an object versions it */
			if (o->cur_seq && nv->producer && nv->producer != o->producer) {
				free(nv->block);
				nv->block = NULL;
				out[i] = (struct store_append_out){ .status = STORE_FOREIGN,
					                            .ref = ref };
				continue;
			}
		}
		uint64_t seq = m->nv + 1;
		int64_t added = in[i].date_added_us;
		if (!added)
			added = now > m->last_added ? now : m->last_added + 1;
		if (added <= m->last_added)
			m->unsorted = true;
		else
			m->last_added = added;
		nv->date_added = added;
		if (!o) {
			ref = (uint32_t)(m->nobj + 1);
			o = &m->obj[m->nobj++];
			o->collection = nv->collection;
			o->id = nv->id;
			o->cur_seq = o->first_seq = seq;
			o->last_appended = 0;
			o->producer = nv->producer;
			hash_put(m->hash, m->hashcap, o, ref);
			nv->is_first = nv->is_last = true;
		} else if (!o->cur_seq) {
			/* every version was deleted: the object starts again */
			o->cur_seq = o->first_seq = seq;
			o->producer = nv->producer;
			nv->is_first = nv->is_last = true;
		} else {
			struct mem_version *cur = &m->v[o->cur_seq - 1];
			if (nv->version_us > cur->version_us) {
				cur->is_last = false;
				nv->is_last = true;
				if (o->cur_seq < batch_start && !cur->revoked)
					unidx[nunidx++] = o->cur_seq;
				o->cur_seq = seq;
			}
			struct mem_version *first = &m->v[o->first_seq - 1];
			if (nv->version_us < first->version_us) {
				first->is_first = false;
				nv->is_first = true;
				o->first_seq = seq;
			}
		}
		nv->ref = ref;
		nv->prev_seq = o->last_appended;
		o->last_appended = seq;
		m->v[m->nv++] = *nv;
		nv->block = NULL;
		out[i] = (struct store_append_out){ .status = STORE_ADDED,
			                            .seq = seq,
			                            .date_added_us = added,
			                            .ref = ref };
	}
	for (size_t i = 0; i < n; i++) {
		const struct mem_object *o = &m->obj[out[i].ref - 1];
		if (out[i].status == STORE_FOREIGN)
			continue;
		out[i].current = o->cur_seq == out[i].seq;
		out[i].indexable = out[i].current && !m->v[out[i].seq - 1].revoked;
	}
	if (unindex) {
		for (size_t k = 0; k < nunidx; k++) {
			const struct mem_version *v = &m->v[unidx[k] - 1];
			for (size_t j = 0; j < v->nobs; j++)
				unindex(ctx, v->ref, v->obs[j].kind, v->obs[j].value);
		}
	}
out:
	if (staged && rc)
		for (size_t i = 0; i < n; i++)
			free(staged[i].block);
	free(staged);
	free(unidx);
	return rc;
}

static enum tcerr
mem_collection_add(struct store *s, struct store_collection *c, struct diag *d)
{
	struct mem_store *m = mem(s);
	for (size_t i = 0; i < m->ncolls; i++) {
		if (strcmp(m->colls[i].alias, c->alias) == 0)
			return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
		if (strcmp(m->colls[i].uuid, c->uuid) == 0)
			return diag_set(d, TC_EEXIST, "collection %s already exists", c->uuid);
	}
	if (m->ncolls == m->capcolls) {
		size_t cap = m->capcolls ? m->capcolls * 2 : 8;
		struct store_collection *nc = realloc(m->colls, cap * sizeof *nc);
		if (!nc)
			return diag_set(d, TC_ENOMEM, "store: out of memory");
		m->colls = nc;
		m->capcolls = cap;
	}
	c->num = (int64_t)m->ncolls + 1;
	m->colls[m->ncolls++] = *c;
	return TC_OK;
}

static enum tcerr
mem_collection_update(struct store *s, const struct store_collection *c, struct diag *d)
{
	struct mem_store *m = mem(s);
	struct store_collection *self = NULL;
	for (size_t i = 0; i < m->ncolls; i++) {
		if (m->colls[i].num == c->num)
			self = &m->colls[i];
		else if (strcmp(m->colls[i].alias, c->alias) == 0)
			return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
	}
	if (!self)
		return diag_set(d, TC_ENOTFOUND, "no collection %lld", (long long)c->num);
	*self = *c;
	return TC_OK;
}

static enum tcerr
mem_collection_find(struct store *s, const char *key, struct store_collection *out)
{
	struct mem_store *m = mem(s);
	for (size_t i = 0; i < m->ncolls; i++)
		if (strcmp(m->colls[i].alias, key) == 0 || strcmp(m->colls[i].uuid, key) == 0) {
			*out = m->colls[i];
			return TC_OK;
		}
	return TC_ENOTFOUND;
}

static enum tcerr
mem_collection_list(struct store *s, enum tcerr (*cb)(void *ctx, const struct store_collection *c),
                    void *ctx)
{
	struct mem_store *m = mem(s);
	for (size_t i = 0; i < m->ncolls; i++) {
		enum tcerr rc = cb(ctx, &m->colls[i]);
		if (rc)
			return rc;
	}
	return TC_OK;
}

static void
mem_row(const struct mem_store *m, uint64_t seq, struct store_row *r)
{
	const struct mem_version *v = &m->v[seq - 1];
	*r = (struct store_row){
		.seq = seq,
		.date_added_us = v->date_added,
		.ref = v->ref,
		.collection = v->collection,
		.json = v->json,
		.id = m->obj[v->ref - 1].id,
		.type = v->type,
		.version = v->version,
		.version_us = v->version_us,
		.spec_version = v->spec_version,
		.tlp = v->tlp,
		.revoked = v->revoked,
		.valid_until_us = v->valid_until,
		.producer = v->producer,
		.key_id = v->key_id,
		.is_first = v->is_first,
		.is_last = v->is_last,
	};
}

static bool
in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool
mem_matches(const struct mem_store *m, const struct store_query *q, uint64_t seq)
{
	const struct mem_version *v = &m->v[seq - 1];
	if (v->dead)
		return false;
	if (q->collection && v->collection != q->collection)
		return false;
	if (v->date_added <= q->added_after_us && q->added_after_us)
		return false;
	if (q->after_date_us && (v->date_added < q->after_date_us ||
	                         (v->date_added == q->after_date_us && seq <= q->after_date_seq)))
		return false;
	if (seq <= q->after_seq)
		return false;
	if (q->nids && !in_list(q->ids, q->nids, m->obj[v->ref - 1].id))
		return false;
	if (q->ntypes && !in_list(q->types, q->ntypes, v->type))
		return false;
	if (q->nspec_versions && !in_list(q->spec_versions, q->nspec_versions, v->spec_version))
		return false;
	bool ver = (q->versions & STORE_V_ALL) || ((q->versions & STORE_V_LAST) && v->is_last) ||
	           ((q->versions & STORE_V_FIRST) && v->is_first);
	for (size_t i = 0; !ver && i < q->nversion_us; i++)
		ver = v->version_us == q->version_us[i];
	return ver;
}

static int
order_cmp(const void *a, const void *b, void *arg)
{
	const struct mem_store *m = arg;
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	int64_t dx = m->v[x - 1].date_added, dy = m->v[y - 1].date_added;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Returns the seq at position i of (date_added, seq) order. */
static uint64_t
mem_order_at(const struct mem_store *m, size_t i)
{
	return m->unsorted ? m->order[i] : (uint64_t)i + 1;
}

static enum tcerr
mem_query(struct store *s, const struct store_query *q, store_row_cb cb, void *ctx, bool *more,
          struct diag *d)
{
	struct mem_store *m = mem(s);
	if (m->unsorted && m->order_n != m->nv) {
		uint64_t *ord = realloc(m->order, (m->nv ? m->nv : 1) * sizeof *ord);
		if (!ord)
			return diag_set(d, TC_ENOMEM, "store: out of memory");
		for (size_t i = 0; i < m->nv; i++)
			ord[i] = i + 1;
		qsort_r(ord, m->nv, sizeof *ord, order_cmp, m);
		m->order = ord;
		m->order_n = m->nv;
	}
	size_t taken = 0;
	for (size_t i = 0; i < m->nv; i++) {
		uint64_t seq = mem_order_at(m, i);
		if (!mem_matches(m, q, seq))
			continue;
		if (q->limit && taken == q->limit) {
			if (more)
				*more = true;
			return TC_OK;
		}
		struct store_row r;
		mem_row(m, seq, &r);
		enum store_row_verdict vd = cb(ctx, &r);
		if (vd == STORE_ROW_STOP) {
			if (more)
				*more = true;
			return TC_OK;
		}
		if (vd == STORE_ROW_TAKE)
			taken++;
	}
	return TC_OK;
}

static bool
mem_delete_selects(const struct store_delete_q *q, const struct mem_version *v)
{
	if (q->nspec_versions && !in_list(q->spec_versions, q->nspec_versions, v->spec_version))
		return false;
	bool ver = (q->versions & STORE_V_ALL) || ((q->versions & STORE_V_LAST) && v->is_last) ||
	           ((q->versions & STORE_V_FIRST) && v->is_first);
	for (size_t i = 0; !ver && i < q->nversion_us; i++)
		ver = v->version_us == q->version_us[i];
	return ver;
}

static int
by_version_cmp(const void *a, const void *b, void *arg)
{
	const struct mem_store *m = arg;
	int64_t x = m->v[*(const uint64_t *)a - 1].version_us;
	int64_t y = m->v[*(const uint64_t *)b - 1].version_us;
	return x < y ? -1 : x > y;
}

static void
mem_tell(const struct mem_version *v, store_unindex_cb unindex, void *ctx)
{
	for (size_t j = 0; j < v->nobs; j++)
		unindex(ctx, v->ref, v->obs[j].kind, v->obs[j].value);
}

static enum tcerr
mem_delete(struct store *s, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
           store_unindex_cb unindex, store_indexable_cb reindex, void *ictx,
           struct store_delete_out *out, struct diag *d)
{
	struct mem_store *m = mem(s);
	uint64_t *vs = NULL;
	bool *del = NULL;
	size_t nvs = 0, ndel = 0;
	enum tcerr rc = TC_OK;

	if (!mem_coll_exists(m, q->collection))
		return diag_set(d, TC_ENOTFOUND, "delete: no collection %lld",
		                (long long)q->collection);
	uint32_t ref = mem_find_ref(m, q->collection, q->id);
	if (!ref || !m->obj[ref - 1].cur_seq)
		return TC_OK;
	struct mem_object *o = &m->obj[ref - 1];
	for (uint64_t k = o->last_appended; k; k = m->v[k - 1].prev_seq)
		nvs++;
	vs = malloc(nvs * sizeof *vs);
	del = calloc(nvs, sizeof *del);
	if (!vs || !del) {
		rc = diag_set(d, TC_ENOMEM, "store: out of memory");
		goto out;
	}
	nvs = 0;
	for (uint64_t k = o->last_appended; k; k = m->v[k - 1].prev_seq)
		if (!m->v[k - 1].dead)
			vs[nvs++] = k;
	qsort_r(vs, nvs, sizeof *vs, by_version_cmp, m);
	for (size_t i = 0; i < nvs; i++) {
		if (!mem_delete_selects(q, &m->v[vs[i] - 1]))
			continue;
		struct store_row r;
		mem_row(m, vs[i], &r);
		enum store_delete_verdict vd = may(may_ctx, &r);
		if (vd == STORE_DEL_YES)
			del[i] = true, ndel++;
		else if (vd == STORE_DEL_REFUSED)
			out->refused++;
	}
	if (!ndel)
		goto out;
	/* room for the tombstones first: from here on nothing fails */
	if (mem_reserve(m, ndel)) {
		rc = diag_set(d, TC_ENOMEM, "store: out of memory");
		goto out;
	}
	if (m->ntombs + ndel > m->captombs) {
		size_t cap = m->captombs ? m->captombs : 16;
		while (cap < m->ntombs + ndel)
			cap *= 2;
		struct mem_tomb *nt = realloc(m->tombs, cap * sizeof *nt);
		if (!nt) {
			rc = diag_set(d, TC_ENOMEM, "store: out of memory");
			goto out;
		}
		m->tombs = nt;
		m->captombs = cap;
	}
	int64_t now = ts_now_us();
	int64_t deleted_us = now > m->last_added ? now : m->last_added + 1;
	m->last_added = deleted_us;
	uint64_t old_cur = o->cur_seq;
	uint64_t new_cur = 0, new_first = 0;
	for (size_t i = 0; i < nvs; i++) {
		struct mem_version *v = &m->v[vs[i] - 1];
		if (!del[i]) {
			if (!new_first)
				new_first = vs[i];
			new_cur = vs[i];
			continue;
		}
		v->dead = true;
		uint64_t seq = m->nv + 1;
		m->v[m->nv++] = (struct mem_version){ .date_added = deleted_us, .dead = true };
		m->tombs[m->ntombs++] = (struct mem_tomb){ seq, deleted_us, vs[i] };
		out->deleted++;
		out->seq = seq;
	}
	for (size_t i = 0; i < nvs; i++) {
		struct mem_version *v = &m->v[vs[i] - 1];
		v->is_first = vs[i] == new_first;
		v->is_last = vs[i] == new_cur;
	}
	o->cur_seq = new_cur;
	o->first_seq = new_first;
	if (new_cur != old_cur) {
		const struct mem_version *ov = &m->v[old_cur - 1];
		if (unindex && !ov->revoked)
			mem_tell(ov, unindex, ictx);
		const struct mem_version *cv = new_cur ? &m->v[new_cur - 1] : NULL;
		for (size_t j = 0; reindex && cv && !cv->revoked && j < cv->nobs; j++) {
			rc = reindex(ictx, ref, cv->obs[j].kind, cv->obs[j].value, cv->valid_until);
			if (rc) {
				diag_set(d, rc, "delete: the deletion is stored; reindexing %s failed",
				         q->id);
				goto out;
			}
		}
	}
out:
	free(vs);
	free(del);
	return rc;
}

static enum tcerr
mem_tombstones(struct store *s, uint64_t after_seq,
               enum tcerr (*cb)(void *ctx, const struct store_tombstone *t), void *ctx,
               struct diag *d)
{
	struct mem_store *m = mem(s);
	(void)d;
	size_t lo = 0, hi = m->ntombs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->tombs[mid].seq <= after_seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->ntombs; i++) {
		const struct mem_tomb *t = &m->tombs[i];
		const struct mem_version *v = &m->v[t->version_seq - 1];
		struct store_tombstone st = {
			.seq = t->seq,
			.deleted_us = t->deleted_us,
			.collection = v->collection,
			.id = m->obj[v->ref - 1].id,
			.version = v->version,
			.version_seq = t->version_seq,
			.tlp = v->tlp,
			.producer = v->producer,
			.json = v->json,
		};
		enum tcerr rc = cb(ctx, &st);
		if (rc)
			return rc;
	}
	return TC_OK;
}

static enum tcerr
mem_scan(struct store *s, bool revoked, store_indexable_cb cb, void *ctx)
{
	struct mem_store *m = mem(s);
	for (size_t r = 0; r < m->nobj; r++) {
		if (!m->obj[r].cur_seq)
			continue;
		const struct mem_version *v = &m->v[m->obj[r].cur_seq - 1];
		if (v->revoked != revoked)
			continue;
		for (size_t k = 0; k < v->nobs; k++) {
			enum tcerr rc = cb(ctx, v->ref, v->obs[k].kind, v->obs[k].value, v->valid_until);
			if (rc)
				return rc;
		}
	}
	return TC_OK;
}

static enum tcerr
mem_scan_indexable(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	return mem_scan(s, false, cb, ctx);
}

static enum tcerr
mem_scan_revoked(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	return mem_scan(s, true, cb, ctx);
}

static enum tcerr
mem_get_ref(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	struct mem_store *m = mem(s);
	if (ref == 0 || ref > m->nobj || !m->obj[ref - 1].cur_seq)
		return TC_ENOTFOUND;
	struct store_row r;
	mem_row(m, m->obj[ref - 1].cur_seq, &r);
	cb(ctx, &r);
	return TC_OK;
}

static int
mem_cmp_version(const void *a, const void *b, void *ctx)
{
	const struct mem_store *m = ctx;
	int64_t x = m->v[*(const uint64_t *)a - 1].version_us;
	int64_t y = m->v[*(const uint64_t *)b - 1].version_us;
	return x < y ? -1 : x > y;
}

static enum tcerr
mem_versions_of(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	struct mem_store *m = mem(s);
	size_t n = 0, k = 0;
	uint64_t *seqs;
	if (ref > m->nobj || !m->obj[ref - 1].cur_seq)
		return TC_ENOTFOUND;
	for (uint64_t q = m->obj[ref - 1].last_appended; q; q = m->v[q - 1].prev_seq)
		n += !m->v[q - 1].dead;
	if (!(seqs = malloc((n ? n : 1) * sizeof *seqs)))
		return TC_ENOMEM;
	for (uint64_t q = m->obj[ref - 1].last_appended; q; q = m->v[q - 1].prev_seq)
		if (!m->v[q - 1].dead)
			seqs[k++] = q;
	qsort_r(seqs, n, sizeof *seqs, mem_cmp_version, m);
	for (k = 0; k < n; k++) {
		struct store_row r;
		mem_row(m, seqs[k], &r);
		if (cb(ctx, &r) == STORE_ROW_STOP)
			break;
	}
	free(seqs);
	return TC_OK;
}

static enum tcerr
mem_position(struct store *s, uint64_t *out)
{
	*out = mem(s)->nv;
	return TC_OK;
}

static enum tcerr
mem_stats(struct store *s, struct store_stats *out)
{
	struct mem_store *m = mem(s);
	out->log_position = m->nv;
	out->versions = m->nv - 2 * m->ntombs; /* each tombstone killed one version */
	out->collections = m->ncolls;
	for (size_t r = 0; r < m->nobj; r++) {
		if (!m->obj[r].cur_seq)
			continue;
		out->objects++;
		const struct mem_version *v = &m->v[m->obj[r].cur_seq - 1];
		if (v->revoked) {
			out->revoked++;
			continue;
		}
		if (strcmp(v->type, "indicator") == 0)
			out->indicators++;
		for (size_t k = 0; k < v->nobs; k++)
			out->observables[v->obs[k].kind]++;
	}
	return TC_OK;
}

static enum tcerr
mem_setting_get(struct store *s, const char *key, struct buf *out)
{
	struct mem_store *m = mem(s);
	for (size_t i = 0; i < m->nsettings; i++)
		if (strcmp(m->settings[i].key, key) == 0) {
			buf_append_cstr(out, m->settings[i].value);
			return buf_error(out);
		}
	return TC_ENOTFOUND;
}

static enum tcerr
mem_setting_set(struct store *s, const char *key, const char *value)
{
	struct mem_store *m = mem(s);
	char *v = strdup(value);
	if (!v)
		return TC_ENOMEM;
	for (size_t i = 0; i < m->nsettings; i++)
		if (strcmp(m->settings[i].key, key) == 0) {
			free(m->settings[i].value);
			m->settings[i].value = v;
			return TC_OK;
		}
	char *k = strdup(key);
	struct mem_setting *ns = realloc(m->settings, (m->nsettings + 1) * sizeof *ns);
	if (!k || !ns) {
		free(k);
		free(v);
		if (ns)
			m->settings = ns;
		return TC_ENOMEM;
	}
	m->settings = ns;
	m->settings[m->nsettings++] = (struct mem_setting){ k, v };
	return TC_OK;
}

const struct store__backend store__memory = {
	.name = "memory",
	.open = mem_open,
	.close = mem_close,
	.append = mem_append,
	.collection_add = mem_collection_add,
	.collection_update = mem_collection_update,
	.collection_find = mem_collection_find,
	.collection_list = mem_collection_list,
	.query = mem_query,
	.scan_indexable = mem_scan_indexable,
	.scan_revoked = mem_scan_revoked,
	.delete = mem_delete,
	.tombstones = mem_tombstones,
	.get_ref = mem_get_ref,
	.versions_of = mem_versions_of,
	.stats = mem_stats,
	.position = mem_position,
	.setting_get = mem_setting_get,
	.setting_set = mem_setting_set,
};
