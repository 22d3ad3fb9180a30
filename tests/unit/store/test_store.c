/*
 * Conformance tests of lib/store: every test runs against "memory:" and
 * "sqlite:<tmpfile>", so both backends keep the same semantics. The last
 * group covers what only a file can do: reopening, refusing a file that is
 * no tocsin database, refusing a schema newer than the build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_backend.h"
#include "util/timestamp.h"

#define T0 1700000000000000LL /* 2023-11-14T22:13:20Z in µs */
#define SEC 1000000LL

struct fixture {
	struct store *s;
	char spec[128];
	char path[96];
	int64_t coll;  /* "default" */
	int64_t coll2; /* "second" */
};

/* One hand-built object version. */
struct obj {
	struct stix_meta meta;
	char json[512];
	struct store_obs obs[2];
	char val[2][64];
	struct store_obj_in in;
};

static void
mk(struct obj *o, int64_t coll, const char *type, int idnum, int64_t version_us, bool revoked,
   const char *domain)
{
	memset(o, 0, sizeof *o);
	snprintf(o->meta.type, sizeof o->meta.type, "%s", type);
	snprintf(o->meta.id, sizeof o->meta.id, "%s--00000000-0000-4000-8000-%012d", type, idnum);
	snprintf(o->meta.spec_version, sizeof o->meta.spec_version, "2.1");
	o->meta.version_us = version_us;
	if (version_us)
		ts_format(version_us, 3, o->meta.version);
	o->meta.modified_us = version_us;
	o->meta.revoked = revoked;
	o->meta.tlp = TLP_GREEN;
	o->meta.valid_until_us = version_us ? version_us + 3600 * SEC : 0;
	snprintf(o->json, sizeof o->json,
	         "{\"type\":\"%s\",\"id\":\"%s\",\"modified\":\"%s\",\"revoked\":%s}", type,
	         o->meta.id, o->meta.version, revoked ? "true" : "false");
	o->in.json = slice_from_cstr(o->json);
	o->in.meta = &o->meta;
	o->in.collection = coll;
	o->in.producer = 7;
	if (domain) {
		snprintf(o->val[0], sizeof o->val[0], "%s", domain);
		snprintf(o->val[1], sizeof o->val[1], "www.%s", domain);
		o->obs[0] = (struct store_obs){ OBS_DOMAIN, slice_from_cstr(o->val[0]) };
		o->obs[1] = (struct store_obs){ OBS_DOMAIN, slice_from_cstr(o->val[1]) };
		o->in.obs = o->obs;
		o->in.nobs = 2;
	}
}

static enum tcerr
add1(struct store *s, struct obj *o, struct store_append_out *out)
{
	struct diag d;
	return store_append(s, &o->in, 1, out, NULL, NULL, &d);
}

/* --- unindex recorder --- */
struct unidx {
	size_t n;
	uint32_t ref[16];
	char value[16][64];
	struct store *s;
	uint64_t versions_seen; /* store stats at callback time */
};

static void
unindex_cb(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value)
{
	struct unidx *u = ctx;
	assert_int_equal(kind, OBS_DOMAIN);
	if (u->n < 16) {
		u->ref[u->n] = ref;
		snprintf(u->value[u->n], sizeof u->value[0], "%.*s", (int)value.len, value.p);
	}
	u->n++;
	if (u->s) {
		struct store_stats st;
		assert_int_equal(store_stats(u->s, &st), TC_OK);
		u->versions_seen = st.versions;
	}
}

/* --- query recorder --- */
struct rows {
	size_t n;
	uint64_t seq[64];
	char id[64][80];
	bool first[64], last[64];
	int64_t version_us[64];
	int64_t date[64];
	size_t skip_every; /* SKIP rows whose seq is a multiple of this (0: never) */
	uint64_t stop_at;  /* STOP at this seq (0: never) */
};

static enum store_row_verdict
row_cb(void *ctx, const struct store_row *r)
{
	struct rows *w = ctx;
	if (w->stop_at && r->seq == w->stop_at)
		return STORE_ROW_STOP;
	if (w->skip_every && r->seq % w->skip_every == 0)
		return STORE_ROW_SKIP;
	assert_true(w->n < 64);
	w->seq[w->n] = r->seq;
	snprintf(w->id[w->n], sizeof w->id[0], "%s", r->id);
	w->first[w->n] = r->is_first;
	w->last[w->n] = r->is_last;
	w->version_us[w->n] = r->version_us;
	w->date[w->n] = r->date_added_us;
	/* the stored JSON comes back byte for byte */
	assert_true(r->json.len > 10 && r->json.p[0] == '{');
	assert_non_null(strstr(r->json.p, r->id) ? r->json.p : NULL);
	assert_true(strcmp(r->spec_version, "2.1") == 0 || strcmp(r->spec_version, "2.0") == 0);
	assert_int_equal(r->producer, 7);
	w->n++;
	return STORE_ROW_TAKE;
}

static size_t
run_query(struct store *s, const struct store_query *q, struct rows *w, bool *more)
{
	struct diag d;
	assert_int_equal(store_query(s, q, row_cb, w, more, &d), TC_OK);
	return w->n;
}

/* --- fixtures --- */
static int
open_with(void **state, const char *kind)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag d;
	if (strcmp(kind, "sqlite") == 0) {
		snprintf(f->path, sizeof f->path, "/tmp/tocsin-test-store-XXXXXX");
		int fd = mkstemp(f->path);
		assert_true(fd >= 0);
		close(fd);
		unlink(f->path);
		snprintf(f->spec, sizeof f->spec, "sqlite:%s", f->path);
	} else {
		snprintf(f->spec, sizeof f->spec, "memory:");
	}
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_OK);
	struct store_collection c;
	assert_int_equal(store_collection_add(f->s, "default", NULL, "Default", NULL, &c, &d), TC_OK);
	f->coll = c.num;
	assert_int_equal(store_collection_add(f->s, "second", NULL, NULL, NULL, &c, &d), TC_OK);
	f->coll2 = c.num;
	*state = f;
	return 0;
}

static int
setup_memory(void **state)
{
	return open_with(state, "memory");
}

static int
setup_sqlite(void **state)
{
	return open_with(state, "sqlite");
}

static void
remove_db(const char *path)
{
	char p[128];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	if (f->path[0])
		remove_db(f->path);
	free(f);
	return 0;
}

/* --- conformance tests --- */

static void
test_append_new(void **state)
{
	struct fixture *f = *state;
	struct obj a, b;
	struct store_append_out oa, ob;
	mk(&a, f->coll, "indicator", 1, T0, false, "evil.example");
	mk(&b, f->coll, "indicator", 2, T0, false, "bad.example");
	int64_t before = ts_now_us();
	assert_int_equal(add1(f->s, &a, &oa), TC_OK);
	assert_int_equal(add1(f->s, &b, &ob), TC_OK);
	assert_int_equal(oa.status, STORE_ADDED);
	assert_int_equal(oa.seq, 1);
	assert_int_equal(ob.seq, 2);
	assert_int_not_equal(oa.ref, 0);
	assert_int_not_equal(oa.ref, ob.ref);
	assert_true(oa.current && oa.indexable);
	assert_true(oa.date_added_us >= before);
	assert_true(ob.date_added_us > oa.date_added_us);
}

static void
test_date_added_strictly_increasing_in_batch(void **state)
{
	struct fixture *f = *state;
	struct obj o[5];
	struct store_obj_in in[5];
	struct store_append_out out[5];
	struct diag d;
	for (int i = 0; i < 5; i++) {
		mk(&o[i], f->coll, "indicator", 10 + i, T0, false, NULL);
		in[i] = o[i].in;
	}
	assert_int_equal(store_append(f->s, in, 5, out, NULL, NULL, &d), TC_OK);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(out[i].seq, out[i - 1].seq + 1);
		assert_true(out[i].date_added_us > out[i - 1].date_added_us);
	}
}

static void
test_duplicate(void **state)
{
	struct fixture *f = *state;
	struct obj a, a2;
	struct store_append_out o1, o2, ob[2];
	struct diag d;
	mk(&a, f->coll, "indicator", 1, T0, false, "evil.example");
	assert_int_equal(add1(f->s, &a, &o1), TC_OK);
	assert_int_equal(add1(f->s, &a, &o2), TC_OK);
	assert_int_equal(o2.status, STORE_DUPLICATE);
	assert_int_equal(o2.seq, o1.seq);
	assert_int_equal(o2.date_added_us, o1.date_added_us);
	assert_int_equal(o2.ref, o1.ref);
	assert_true(o2.current);

	/* twice in one batch: the second is a duplicate of the first */
	mk(&a2, f->coll, "indicator", 2, T0, false, NULL);
	struct store_obj_in in[2] = { a2.in, a2.in };
	assert_int_equal(store_append(f->s, in, 2, ob, NULL, NULL, &d), TC_OK);
	assert_int_equal(ob[0].status, STORE_ADDED);
	assert_int_equal(ob[1].status, STORE_DUPLICATE);
	assert_int_equal(ob[1].seq, ob[0].seq);

	/* the same id in another collection is another object */
	struct obj c;
	struct store_append_out oc;
	mk(&c, f->coll2, "indicator", 1, T0, false, NULL);
	assert_int_equal(add1(f->s, &c, &oc), TC_OK);
	assert_int_equal(oc.status, STORE_ADDED);
	assert_int_not_equal(oc.ref, o1.ref);

	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.versions, 3);
	assert_int_equal(st.objects, 3);
}

static void
test_unversioned_sco_duplicate(void **state)
{
	struct fixture *f = *state;
	struct obj a;
	struct store_append_out o1, o2;
	mk(&a, f->coll, "domain-name", 5, 0, false, "evil.example");
	assert_int_equal(add1(f->s, &a, &o1), TC_OK);
	assert_int_equal(add1(f->s, &a, &o2), TC_OK);
	assert_int_equal(o1.status, STORE_ADDED);
	assert_int_equal(o2.status, STORE_DUPLICATE);
	assert_true(o1.indexable);
}

static void
test_new_version_unindexes_previous(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2;
	struct store_append_out o1, o2;
	struct diag d;
	struct unidx u = { .s = f->s };
	mk(&v1, f->coll, "indicator", 1, T0, false, "old.example");
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, false, "new.example");
	assert_int_equal(store_append(f->s, &v1.in, 1, &o1, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(u.n, 0);
	assert_int_equal(store_append(f->s, &v2.in, 1, &o2, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(o2.status, STORE_ADDED);
	assert_int_equal(o2.ref, o1.ref);
	assert_true(o2.seq > o1.seq);
	assert_true(o2.current && o2.indexable);
	assert_int_equal(u.n, 2);
	assert_int_equal(u.ref[0], o1.ref);
	assert_true((strcmp(u.value[0], "old.example") == 0 &&
	             strcmp(u.value[1], "www.old.example") == 0) ||
	            (strcmp(u.value[1], "old.example") == 0 &&
	             strcmp(u.value[0], "www.old.example") == 0));
	/* told after commit: the new version was already visible */
	assert_int_equal(u.versions_seen, 2);

	/* the current version is v2 */
	struct rows w = { 0 };
	assert_int_equal(store_get_ref(f->s, o1.ref, row_cb, &w), TC_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.seq[0], o2.seq);
	assert_true(w.last[0] && !w.first[0]);
}

static void
test_out_of_order_version(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, v3;
	struct store_append_out o;
	struct diag d;
	struct unidx u = { 0 };
	mk(&v2, f->coll, "indicator", 1, T0 + 2 * SEC, false, "two.example");
	mk(&v1, f->coll, "indicator", 1, T0, false, "one.example");
	mk(&v3, f->coll, "indicator", 1, T0 + SEC, false, "three.example");
	assert_int_equal(store_append(f->s, &v2.in, 1, &o, unindex_cb, &u, &d), TC_OK);
	uint64_t seq2 = o.seq;
	assert_int_equal(store_append(f->s, &v1.in, 1, &o, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	assert_false(o.current);
	assert_false(o.indexable);
	uint64_t seq1 = o.seq;
	assert_int_equal(store_append(f->s, &v3.in, 1, &o, unindex_cb, &u, &d), TC_OK);
	assert_false(o.current);
	uint64_t seq3 = o.seq;
	assert_int_equal(u.n, 0);

	struct store_query q = { .collection = f->coll, .versions = STORE_V_ALL };
	struct rows w = { 0 };
	assert_int_equal(run_query(f->s, &q, &w, NULL), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(w.first[i], w.seq[i] == seq1);
		assert_int_equal(w.last[i], w.seq[i] == seq2);
	}
	(void)seq3;
	q.versions = STORE_V_FIRST;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], seq1);
	q.versions = STORE_V_LAST;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], seq2);
	q.versions = STORE_V_FIRST | STORE_V_LAST;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);

	/* the index sees only the current version's observables */
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.observables[OBS_DOMAIN], 2);
}

static enum tcerr
revoked_cb(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value, int64_t valid_until_us)
{
	struct unidx *u = ctx;
	unindex_cb(u, ref, kind, value);
	return TC_OK;
}

static enum tcerr
count_indexable(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value,
                int64_t valid_until_us)
{
	size_t *n = ctx;
	assert_true(valid_until_us > 0);
	(*n)++;
	return TC_OK;
}

static void
test_revocation(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, other;
	struct store_append_out o1, o2, oo;
	struct diag d;
	struct unidx u = { 0 };
	mk(&v1, f->coll, "indicator", 1, T0, false, "evil.example");
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, true, "evil.example");
	mk(&other, f->coll, "indicator", 2, T0, false, "other.example");
	assert_int_equal(add1(f->s, &v1, &o1), TC_OK);
	assert_int_equal(add1(f->s, &other, &oo), TC_OK);
	size_t n = 0;
	assert_int_equal(store_scan_indexable(f->s, count_indexable, &n, &d), TC_OK);
	assert_int_equal(n, 4);

	assert_int_equal(store_append(f->s, &v2.in, 1, &o2, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(o2.status, STORE_ADDED);
	assert_true(o2.current);
	assert_false(o2.indexable);
	assert_int_equal(u.n, 2);
	assert_int_equal(u.ref[0], o1.ref);
	n = 0;
	assert_int_equal(store_scan_indexable(f->s, count_indexable, &n, &d), TC_OK);
	assert_int_equal(n, 2); /* only other's */
	/* ... and the revoked one is found by store_scan_revoked, with its
	 * ref, so that match can say "revoked" rather than "miss" */
	struct unidx rv = { 0 };
	assert_int_equal(store_scan_revoked(f->s, revoked_cb, &rv, &d), TC_OK);
	assert_int_equal(rv.n, 2);
	assert_int_equal(rv.ref[0], o1.ref);

	/* a revoked current version stays queryable as the last version */
	struct store_query q = { .collection = f->coll };
	struct rows w = { 0 };
	const char *ids[] = { v1.meta.id };
	q.ids = ids;
	q.nids = 1;
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], o2.seq);

	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.revoked, 1);
	assert_int_equal(st.indicators, 1);
	assert_int_equal(st.observables[OBS_DOMAIN], 2);

	/* a newer version after a revoked one does not unindex again */
	struct obj v3;
	struct store_append_out o3;
	memset(&u, 0, sizeof u);
	mk(&v3, f->coll, "indicator", 1, T0 + 2 * SEC, false, "evil.example");
	assert_int_equal(store_append(f->s, &v3.in, 1, &o3, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(u.n, 0);
	assert_true(o3.indexable);
}

static void
test_versions_within_one_batch(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, v3;
	struct store_append_out out[3], o;
	struct diag d;
	struct unidx u = { 0 };
	mk(&v1, f->coll, "indicator", 1, T0, false, "a.example");
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, false, "b.example");
	mk(&v3, f->coll, "indicator", 1, T0 + 2 * SEC, false, "c.example");
	struct store_obj_in in[2] = { v1.in, v2.in };
	assert_int_equal(store_append(f->s, in, 2, out, unindex_cb, &u, &d), TC_OK);
	assert_false(out[0].current);
	assert_true(out[1].current && out[1].indexable);
	assert_int_equal(u.n, 0); /* v1 was never indexable */

	/* v3 then a duplicate of v2 in one batch: v2 is no longer current */
	struct store_obj_in in2[2] = { v3.in, v2.in };
	assert_int_equal(store_append(f->s, in2, 2, out, unindex_cb, &u, &d), TC_OK);
	assert_true(out[0].current);
	assert_int_equal(out[1].status, STORE_DUPLICATE);
	assert_false(out[1].current);
	assert_int_equal(u.n, 2);
	assert_true(strstr(u.value[0], "b.example") != NULL);
	(void)o;
}

static enum tcerr
longest_value(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value,
              int64_t valid_until_us)
{
	size_t *n = ctx;
	if (value.len > *n)
		*n = value.len;
	return TC_OK;
}

static void
test_failed_batch_stores_nothing(void **state)
{
	struct fixture *f = *state;
	struct obj a, b;
	struct store_append_out out[2];
	struct diag d;
	mk(&a, f->coll, "indicator", 1, T0, false, "evil.example");
	mk(&b, 999, "indicator", 2, T0, false, NULL);
	struct store_obj_in in[2] = { a.in, b.in };
	assert_int_equal(store_append(f->s, in, 2, out, NULL, NULL, &d), TC_ENOTFOUND);
	assert_non_null(strstr(d.msg, "in[1]"));
	assert_non_null(strstr(d.msg, "999"));
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.versions, 0);
	assert_int_equal(st.objects, 0);
	struct rows w = { 0 };
	struct store_query q = { 0 };
	assert_int_equal(run_query(f->s, &q, &w, NULL), 0);
	/* the log continues from 1 */
	assert_int_equal(add1(f->s, &a, out), TC_OK);
	assert_int_equal(out[0].seq, 1);
	assert_int_equal(out[0].ref, 1);

	/* malformed input is refused before anything happens */
	struct store_obj_in bad = a.in;
	bad.meta = NULL;
	assert_int_equal(store_append(f->s, &bad, 1, out, NULL, NULL, &d), TC_EINVAL);
	bad = a.in;
	bad.json = slice_make("", 0);
	assert_int_equal(store_append(f->s, &bad, 1, out, NULL, NULL, &d), TC_EINVAL);
	struct store_obs o = { 0, SLICE_LIT("x") };
	bad = a.in;
	bad.obs = &o;
	bad.nobs = 1;
	assert_int_equal(store_append(f->s, &bad, 1, out, NULL, NULL, &d), TC_EINVAL);
	static char huge[STORE_OBS_VALUE_MAX + 1];
	memset(huge, 'a', sizeof huge);
	o = (struct store_obs){ OBS_DOMAIN, slice_make(huge, sizeof huge) };
	assert_int_equal(store_append(f->s, &bad, 1, out, NULL, NULL, &d), TC_ELIMIT);
	/* the longest value is kept whole */
	struct obj big;
	mk(&big, f->coll, "domain-name", 50, 0, false, NULL);
	o.value.len = STORE_OBS_VALUE_MAX;
	big.in.obs = &o;
	big.in.nobs = 1;
	struct store_append_out ok;
	assert_int_equal(store_append(f->s, &big.in, 1, &ok, NULL, NULL, &d), TC_OK);
	struct store_stats st2;
	assert_int_equal(store_stats(f->s, &st2), TC_OK);
	assert_int_equal(st2.observables[OBS_DOMAIN], 3);
	size_t longest = 0;
	assert_int_equal(store_scan_indexable(f->s, longest_value, &longest, &d), TC_OK);
	assert_int_equal(longest, STORE_OBS_VALUE_MAX);
	assert_int_equal(store_append(f->s, &a.in, 0, out, NULL, NULL, &d), TC_OK);
}

/* Six objects in two collections, two types, one with three versions. */
static void
load_six(struct fixture *f, struct store_append_out *out)
{
	static struct obj o[8];
	struct store_obj_in in[8];
	struct diag d;
	mk(&o[0], f->coll, "indicator", 1, T0, false, "a.example");
	mk(&o[1], f->coll, "malware", 2, T0, false, NULL);
	mk(&o[2], f->coll, "indicator", 3, T0, false, "c.example");
	mk(&o[3], f->coll2, "indicator", 4, T0, false, "d.example");
	mk(&o[4], f->coll, "indicator", 1, T0 + SEC, false, "a.example");
	mk(&o[5], f->coll, "malware", 6, T0, false, NULL);
	snprintf(o[5].meta.spec_version, sizeof o[5].meta.spec_version, "2.0");
	mk(&o[6], f->coll, "indicator", 1, T0 + 2 * SEC, false, "a.example");
	mk(&o[7], f->coll, "indicator", 8, T0, false, "h.example");
	for (int i = 0; i < 8; i++)
		in[i] = o[i].in;
	/* seq 1..8; seq 5 and 7 are versions 2 and 3 of object 1 */
	assert_int_equal(store_append(f->s, in, 8, out, NULL, NULL, &d), TC_OK);
}

static void
test_query_filters(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct rows w;
	struct store_query q;
	bool more;

	/* default: last versions of every collection, in log order */
	memset(&q, 0, sizeof q);
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, &more), 6);
	assert_false(more);
	uint64_t want_last[] = { 2, 3, 4, 6, 7, 8 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(w.seq[i], want_last[i]);

	/* collection */
	q.collection = f->coll2;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], 4);
	q.collection = f->coll;

	/* all versions */
	q.versions = STORE_V_ALL;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 7);

	/* exact versions, alone and ORed with first */
	int64_t exact[] = { T0 + SEC };
	q.versions = 0;
	q.version_us = exact;
	q.nversion_us = 1;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], 5);
	q.versions = STORE_V_FIRST;
	const char *id1[] = { "indicator--00000000-0000-4000-8000-000000000001" };
	q.ids = id1;
	q.nids = 1;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);
	assert_int_equal(w.seq[0], 1);
	assert_int_equal(w.seq[1], 5);
	q.version_us = NULL;
	q.nversion_us = 0;

	/* ids: ORed */
	const char *ids[] = { "indicator--00000000-0000-4000-8000-000000000001",
		              "malware--00000000-0000-4000-8000-000000000002",
		              "indicator--00000000-0000-4000-8000-000000000099" };
	q.ids = ids;
	q.nids = 3;
	q.versions = STORE_V_LAST;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);
	assert_int_equal(w.seq[0], 2);
	assert_int_equal(w.seq[1], 7);
	q.ids = NULL;
	q.nids = 0;

	/* types */
	const char *types[] = { "malware" };
	q.types = types;
	q.ntypes = 1;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);
	assert_int_equal(w.seq[0], 2);
	assert_int_equal(w.seq[1], 6);
	q.types = NULL;
	q.ntypes = 0;

	/* spec versions */
	const char *sv[] = { "2.0" };
	q.spec_versions = sv;
	q.nspec_versions = 1;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], 6);
	q.spec_versions = NULL;
	q.nspec_versions = 0;

	/* TAXII 2.1 §3.4.1: added_after is exclusive */
	q.versions = STORE_V_ALL;
	q.added_after_us = out[2].date_added_us;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 4);
	assert_int_equal(w.seq[0], 5);
	q.added_after_us = 0;

	/* after_seq is exclusive */
	q.after_seq = 6;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);
	assert_int_equal(w.seq[0], 7);
	q.after_seq = 0;

	/* limit and more */
	q.limit = 3;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, &more), 3);
	assert_true(more);
	q.limit = 7;
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, &more), 7);
	assert_false(more);

	/* SKIP does not count towards limit */
	q.limit = 3;
	memset(&w, 0, sizeof w);
	w.skip_every = 2; /* skips seq 2 */
	assert_int_equal(run_query(f->s, &q, &w, &more), 3);
	assert_int_equal(w.seq[0], 1);
	assert_int_equal(w.seq[1], 3);
	assert_int_equal(w.seq[2], 5);
	assert_true(more);

	/* STOP ends the query; the stopped row remains */
	q.limit = 0;
	memset(&w, 0, sizeof w);
	w.stop_at = 3;
	assert_int_equal(run_query(f->s, &q, &w, &more), 2);
	assert_true(more);
}

static void
test_query_limits(void **state)
{
	struct fixture *f = *state;
	static const char *ids[STORE_QUERY_LIST_MAX + 1];
	for (size_t i = 0; i <= STORE_QUERY_LIST_MAX; i++)
		ids[i] = "indicator--00000000-0000-4000-8000-000000000001";
	struct store_query q = { .ids = ids, .nids = STORE_QUERY_LIST_MAX + 1 };
	struct rows w = { 0 };
	struct diag d;
	assert_int_equal(store_query(f->s, &q, row_cb, &w, NULL, &d), TC_ELIMIT);
	q.nids = STORE_QUERY_LIST_MAX;
	assert_int_equal(store_query(f->s, &q, row_cb, &w, NULL, &d), TC_OK);
}

static void
test_caller_date_added_orders_queries(void **state)
{
	struct fixture *f = *state;
	struct obj a, b;
	struct store_append_out oa, ob;
	mk(&a, f->coll, "indicator", 1, T0, false, NULL);
	mk(&b, f->coll, "indicator", 2, T0, false, NULL);
	assert_int_equal(add1(f->s, &a, &oa), TC_OK);
	b.in.date_added_us = T0; /* migrated: older than anything assigned */
	assert_int_equal(add1(f->s, &b, &ob), TC_OK);
	assert_int_equal(ob.date_added_us, T0);
	assert_true(ob.seq > oa.seq);
	struct store_query q = { 0 };
	struct rows w = { 0 };
	assert_int_equal(run_query(f->s, &q, &w, NULL), 2);
	assert_int_equal(w.seq[0], ob.seq);
	assert_int_equal(w.seq[1], oa.seq);
	/* later assigned dates stay above every stored one */
	struct obj c;
	struct store_append_out oc;
	mk(&c, f->coll, "indicator", 3, T0, false, NULL);
	assert_int_equal(add1(f->s, &c, &oc), TC_OK);
	assert_true(oc.date_added_us > oa.date_added_us);
}

struct coll_list {
	size_t n;
	char alias[8][STORE_ALIAS_MAX + 1];
};

static enum tcerr
coll_cb(void *ctx, const struct store_collection *c)
{
	struct coll_list *l = ctx;
	if (l->n < 8)
		snprintf(l->alias[l->n], sizeof l->alias[0], "%s", c->alias);
	l->n++;
	return TC_OK;
}

static void
test_collections(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, g;
	struct diag d;
	assert_int_equal(store_collection_add(f->s, "default", NULL, NULL, NULL, NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(store_collection_add(f->s, "Bad", NULL, NULL, NULL, NULL, &d), TC_EINVAL);
	assert_int_equal(store_collection_add(f->s, "-x", NULL, NULL, NULL, NULL, &d), TC_EINVAL);
	assert_int_equal(store_collection_add(f->s, "", NULL, NULL, NULL, NULL, &d), TC_EINVAL);
	char longalias[STORE_ALIAS_MAX + 2];
	memset(longalias, 'a', sizeof longalias - 1);
	longalias[STORE_ALIAS_MAX + 1] = '\0';
	assert_int_equal(store_collection_add(f->s, longalias, NULL, NULL, NULL, NULL, &d),
	                 TC_EINVAL);
	longalias[STORE_ALIAS_MAX] = '\0';
	assert_int_equal(store_collection_add(f->s, longalias, NULL, NULL, NULL, NULL, &d), TC_OK);
	assert_int_equal(store_collection_add(f->s, "ok", "not-a-uuid", NULL, NULL, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(store_collection_add(f->s, "feeds.bank_1", "91A7B528-80EB-42ED-A74D-C6FBD5A26116",
	                                      "Bank feeds", "From banks", &c, &d),
	                 TC_OK);
	assert_string_equal(c.uuid, "91a7b528-80eb-42ed-a74d-c6fbd5a26116");
	assert_int_equal(store_collection_add(f->s, "other", "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
	                                      NULL, NULL, NULL, &d),
	                 TC_EEXIST);

	assert_int_equal(store_collection_find(f->s, "feeds.bank_1", &g), TC_OK);
	assert_int_equal(g.num, c.num);
	assert_string_equal(g.title, "Bank feeds");
	assert_string_equal(g.description, "From banks");
	assert_int_equal(store_collection_find(f->s, "91A7B528-80EB-42ED-A74D-C6FBD5A26116", &g),
	                 TC_OK);
	assert_int_equal(g.num, c.num);
	assert_int_equal(store_collection_find(f->s, "nope", &g), TC_ENOTFOUND);
	assert_int_equal(store_collection_find(f->s, "default", &g), TC_OK);
	assert_int_equal(g.num, f->coll);
	assert_string_equal(g.title, "Default");
	/* a generated uuid is a v4 uuid */
	assert_int_equal(strlen(g.uuid), 36);
	assert_int_equal(g.uuid[14], '4');

	struct coll_list l = { 0 };
	assert_int_equal(store_collection_list(f->s, coll_cb, &l), TC_OK);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.alias[0], "default");
	assert_string_equal(l.alias[1], "second");
	assert_string_equal(l.alias[2], longalias);
	assert_string_equal(l.alias[3], "feeds.bank_1");
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.collections, 4);
}

static void
test_stats(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.log_position, 8);
	assert_int_equal(st.versions, 8);
	assert_int_equal(st.objects, 6);
	assert_int_equal(st.indicators, 4);
	assert_int_equal(st.revoked, 0);
	assert_int_equal(st.observables[OBS_DOMAIN], 8);
	assert_int_equal(st.observables[OBS_IPV4], 0);
}

static void
test_get_ref(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct rows w = { 0 };
	assert_int_equal(store_get_ref(f->s, out[0].ref, row_cb, &w), TC_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.seq[0], 7);
	assert_int_equal(w.version_us[0], T0 + 2 * SEC);
	assert_string_equal(w.id[0], "indicator--00000000-0000-4000-8000-000000000001");
	assert_int_equal(store_get_ref(f->s, 0, row_cb, &w), TC_ENOTFOUND);
	assert_int_equal(store_get_ref(f->s, 1000, row_cb, &w), TC_ENOTFOUND);
}

static void
test_settings(void **state)
{
	struct fixture *f = *state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_setting_get(f->s, "hub_id", &b), TC_ENOTFOUND);
	assert_int_equal(store_setting_set(f->s, "hub_id", "hub-a"), TC_OK);
	assert_int_equal(store_setting_get(f->s, "hub_id", &b), TC_OK);
	assert_string_equal(b.p, "hub-a");
	assert_int_equal(store_setting_set(f->s, "hub_id", "hub-b"), TC_OK);
	buf_clear(&b);
	assert_int_equal(store_setting_get(f->s, "hub_id", &b), TC_OK);
	assert_string_equal(b.p, "hub-b");
	assert_int_equal(store_setting_set(f->s, "schema_version", "99"), TC_EPERM);
	assert_int_equal(store_setting_set(f->s, "store.id_hash_key", "00"), TC_EPERM);
	assert_int_equal(store_setting_set(f->s, "", "x"), TC_EINVAL);
	char big[STORE_SETTING_KEY_MAX + 2];
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(store_setting_set(f->s, big, "x"), TC_ELIMIT);
	buf_reset(&b);
}

/* --- sqlite only --- */

static void
test_sqlite_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8], o;
	struct diag d;
	load_six(f, out);
	assert_int_equal(store_setting_set(f->s, "hub_id", "hub-a"), TC_OK);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_OK);
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.versions, 8);
	assert_int_equal(st.objects, 6);
	assert_int_equal(st.collections, 2);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_setting_get(f->s, "hub_id", &b), TC_OK);
	assert_string_equal(b.p, "hub-a");
	buf_clear(&b);
	assert_int_equal(store_setting_get(f->s, "schema_version", &b), TC_OK);
	assert_string_equal(b.p, "6");
	buf_reset(&b);
	struct store_collection c;
	assert_int_equal(store_collection_find(f->s, "second", &c), TC_OK);
	assert_int_equal(c.num, f->coll2);
	/* the log continues, and an old object is still known */
	struct obj a, n;
	mk(&a, f->coll, "indicator", 3, T0, false, "c.example");
	assert_int_equal(add1(f->s, &a, &o), TC_OK);
	assert_int_equal(o.status, STORE_DUPLICATE);
	assert_int_equal(o.seq, 3);
	mk(&n, f->coll, "indicator", 77, T0, false, NULL);
	assert_int_equal(add1(f->s, &n, &o), TC_OK);
	assert_int_equal(o.seq, 9);
	assert_int_equal(o.ref, 7);
	assert_true(o.date_added_us > out[7].date_added_us);
}

static void
test_sqlite_not_a_database(void **state)
{
	char path[] = "/tmp/tocsin-test-garbage-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	struct store *s = NULL;
	struct diag d;
	char spec[64];
	snprintf(spec, sizeof spec, "sqlite:%s", path);
	assert_int_equal(store_open(spec, &s, &d), TC_EDB);
	assert_null(s);
	assert_non_null(strstr(d.msg, path));
	/* a bare path means sqlite too */
	assert_int_equal(store_open(path, &s, &d), TC_EDB);
	remove_db(path);
}

static void
test_sqlite_foreign_database(void **state)
{
	char path[] = "/tmp/tocsin-test-foreign-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct store *s = NULL;
	struct diag d;
	assert_int_equal(store_open(path, &s, &d), TC_EDB);
	assert_non_null(strstr(d.msg, path));
	assert_non_null(strstr(d.msg, "not a tocsin database"));
	remove_db(path);
}

static void
test_sqlite_newer_schema(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	f->s = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "UPDATE settings SET value = '9999' WHERE key = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	struct diag d;
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_EUNSUPPORTED);
	assert_null(f->s);
	assert_non_null(strstr(d.msg, "9999"));
	assert_non_null(strstr(d.msg, f->path));
}

static void
test_bad_spec(void **state)
{
	struct store *s = NULL;
	struct diag d;
	assert_int_equal(store_open("", &s, &d), TC_EINVAL);
	assert_int_equal(store_open("sqlite:", &s, &d), TC_EINVAL);
	assert_int_not_equal(store_open("sqlite:/nonexistent-dir/x/y.db", &s, &d), TC_OK);
	assert_null(s);
}

/* --- cursors --- */

/* TAXII `next` resumes at (date_added, seq): migrated rows share a
 * date_added, and a page boundary may fall among them. */
static void
test_cursor_resumes_across_equal_dates(void **state)
{
	struct fixture *f = *state;
	struct obj o[9];
	struct store_obj_in in[9];
	struct store_append_out out[9];
	struct diag d;
	for (int i = 0; i < 9; i++) {
		mk(&o[i], f->coll, "indicator", 100 + i, T0, false, NULL);
		/* 0-5 share T0, 6-7 share T0 + 1 µs, 8 is assigned */
		o[i].in.date_added_us = i < 6 ? T0 : i < 8 ? T0 + 1 : 0;
		in[i] = o[i].in;
	}
	/* appended in two batches so that the ties are not in seq order alone */
	assert_int_equal(store_append(f->s, in + 3, 6, out + 3, NULL, NULL, &d), TC_OK);
	assert_int_equal(store_append(f->s, in, 3, out, NULL, NULL, &d), TC_OK);
	/* expected order: date_added, then seq */
	uint64_t want[9] = { out[3].seq, out[4].seq, out[5].seq, out[0].seq, out[1].seq,
		             out[2].seq, out[6].seq, out[7].seq, out[8].seq };
	struct store_query q = { .collection = f->coll, .limit = 2 };
	uint64_t got[12];
	size_t ngot = 0, pages = 0;
	bool more = true;
	while (more) {
		struct rows w = { 0 };
		run_query(f->s, &q, &w, &more);
		assert_true(w.n <= 2);
		for (size_t i = 0; i < w.n && ngot < 12; i++)
			got[ngot++] = w.seq[i];
		assert_true(w.n > 0);
		q.after_date_us = w.date[w.n - 1];
		q.after_date_seq = w.seq[w.n - 1];
		assert_true(++pages <= 5);
	}
	assert_int_equal(ngot, 9);
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(got[i], want[i]);

	/* with added_after: the tighter bound wins either way */
	struct rows w = { 0 };
	q = (struct store_query){ .collection = f->coll, .added_after_us = T0,
		                  .after_date_us = T0, .after_date_seq = out[4].seq };
	assert_int_equal(run_query(f->s, &q, &w, NULL), 3);
	assert_int_equal(w.seq[0], out[6].seq);
	memset(&w, 0, sizeof w);
	q.added_after_us = T0 - 1;
	assert_int_equal(run_query(f->s, &q, &w, NULL), 7);
	assert_int_equal(w.seq[0], out[5].seq);
	memset(&w, 0, sizeof w);
	q.after_date_us = T0 + 1;
	q.after_date_seq = out[7].seq;
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], out[8].seq);
	q.after_date_us = -1;
	assert_int_equal(store_query(f->s, &q, row_cb, &w, NULL, &d), TC_EINVAL);
}

/* --- deletion --- */

/* What store_delete told the index, and what it asked about. */
struct delrec {
	size_t nun, nre, nmay;
	char un[8][64], re[8][64];
	uint32_t un_ref[8], re_ref[8];
	int64_t re_valid_until[8];
	int64_t may_version[8];
	/* verdict per version_us; YES when not listed */
	int64_t hide_us, refuse_us;
	struct store *s;
	uint64_t versions_seen;
};

static void
del_unindex(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value)
{
	struct delrec *r = ctx;
	assert_int_equal(kind, OBS_DOMAIN);
	assert_true(r->nun < 8);
	r->un_ref[r->nun] = ref;
	snprintf(r->un[r->nun++], sizeof r->un[0], "%.*s", (int)value.len, value.p);
	if (r->s) {
		struct store_stats st;
		assert_int_equal(store_stats(r->s, &st), TC_OK);
		r->versions_seen = st.versions;
	}
}

static enum tcerr
del_reindex(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value, int64_t valid_until)
{
	struct delrec *r = ctx;
	assert_int_equal(kind, OBS_DOMAIN);
	assert_true(r->nre < 8);
	r->re_ref[r->nre] = ref;
	r->re_valid_until[r->nre] = valid_until;
	snprintf(r->re[r->nre++], sizeof r->re[0], "%.*s", (int)value.len, value.p);
	return TC_OK;
}

static enum store_delete_verdict
del_may(void *ctx, const struct store_row *row)
{
	struct delrec *r = ctx;
	assert_true(r->nmay < 8);
	assert_non_null(strstr(row->json.p, row->id));
	r->may_version[r->nmay++] = row->version_us;
	if (row->version_us == r->hide_us)
		return STORE_DEL_HIDDEN;
	if (row->version_us == r->refuse_us)
		return STORE_DEL_REFUSED;
	return STORE_DEL_YES;
}

static enum tcerr
del_run(struct fixture *f, int idnum, unsigned versions, const int64_t *exact, size_t nexact,
        struct delrec *r, struct store_delete_out *out)
{
	char id[80];
	struct diag d;
	snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", idnum);
	struct store_delete_q q = { .collection = f->coll, .id = id, .versions = versions,
		                    .version_us = exact, .nversion_us = nexact };
	return store_delete(f->s, &q, del_may, r, del_unindex, del_reindex, r, out, &d);
}

/* Object 50 in three versions, appended out of order; each version has its
 * own domains. Returns the seqs of v1, v2, v3 (by modified). */
static void
load_three(struct fixture *f, uint64_t seq[3], uint32_t *ref)
{
	static struct obj v[3];
	struct store_append_out o;
	static const char *dom[3] = { "one.example", "two.example", "three.example" };
	int order[3] = { 1, 0, 2 };
	for (int k = 0; k < 3; k++) {
		int i = order[k];
		mk(&v[i], f->coll, "indicator", 50, T0 + i * SEC, false, dom[i]);
		assert_int_equal(add1(f->s, &v[i], &o), TC_OK);
		assert_int_equal(o.status, STORE_ADDED);
		seq[i] = o.seq;
		*ref = o.ref;
	}
}

static size_t
count_versions(struct fixture *f, int idnum, struct rows *w)
{
	char id[80];
	const char *ids[1] = { id };
	snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", idnum);
	struct store_query q = { .ids = ids, .nids = 1, .versions = STORE_V_ALL };
	memset(w, 0, sizeof *w);
	return run_query(f->s, &q, w, NULL);
}

static void
test_delete_all_versions(void **state)
{
	struct fixture *f = *state;
	uint64_t seq[3];
	uint32_t ref;
	struct obj other;
	struct store_append_out oo;
	mk(&other, f->coll, "indicator", 51, T0, false, "other.example");
	load_three(f, seq, &ref);
	assert_int_equal(add1(f->s, &other, &oo), TC_OK);
	struct delrec r = { .s = f->s };
	struct store_delete_out out;
	assert_int_equal(del_run(f, 50, 0, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 3);
	assert_int_equal(out.refused, 0);
	assert_int_equal(out.seq, 7); /* 4 versions, then tombstones 5, 6, 7 */
	/* asked in version order, though appended out of order */
	assert_int_equal(r.nmay, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r.may_version[i], T0 + i * SEC);
	/* the current version's observables leave the index, after commit */
	assert_int_equal(r.nun, 2);
	assert_string_equal(r.un[0], "three.example");
	assert_int_equal(r.un_ref[0], ref);
	assert_int_equal(r.versions_seen, 1);
	assert_int_equal(r.nre, 0);

	struct rows w;
	assert_int_equal(count_versions(f, 50, &w), 0);
	struct store_query q = { 0 };
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], oo.seq);
	assert_int_equal(store_get_ref(f->s, ref, row_cb, &w), TC_ENOTFOUND);
	size_t n = 0;
	struct diag d;
	assert_int_equal(store_scan_indexable(f->s, count_indexable, &n, &d), TC_OK);
	assert_int_equal(n, 2);
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.log_position, 7);
	assert_int_equal(st.versions, 1);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.indicators, 1);
	assert_int_equal(st.observables[OBS_DOMAIN], 2);

	/* deleting again deletes nothing */
	memset(&r, 0, sizeof r);
	assert_int_equal(del_run(f, 50, 0, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 0);
	assert_int_equal(out.seq, 0);
	assert_int_equal(r.nmay, 0);

	/* the id may come back, from anyone: the same ref, the next seq, a
	 * date_added after the deletion */
	struct obj back;
	struct store_append_out ob;
	mk(&back, f->coll, "indicator", 50, T0 + SEC, false, "back.example");
	back.in.producer = 8;
	assert_int_equal(add1(f->s, &back, &ob), TC_OK);
	assert_int_equal(ob.status, STORE_ADDED);
	assert_int_equal(ob.ref, ref);
	assert_int_equal(ob.seq, 8);
	assert_true(ob.current && ob.indexable);
	assert_true(ob.date_added_us > oo.date_added_us);
	/* now producer 8 owns it */
	mk(&back, f->coll, "indicator", 50, T0 + 5 * SEC, false, NULL);
	assert_int_equal(add1(f->s, &back, &ob), TC_OK);
	assert_int_equal(ob.status, STORE_FOREIGN);
}

static void
test_delete_exact_version(void **state)
{
	struct fixture *f = *state;
	uint64_t seq[3];
	uint32_t ref;
	load_three(f, seq, &ref);
	struct delrec r = { 0 };
	struct store_delete_out out;
	int64_t exact[] = { T0 + SEC, T0 + 9 * SEC };
	assert_int_equal(del_run(f, 50, 0, exact, 2, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(out.seq, 4);
	assert_int_equal(r.nmay, 1);
	assert_int_equal(r.nun + r.nre, 0); /* the current version stays */
	struct rows w;
	assert_int_equal(count_versions(f, 50, &w), 2);
	assert_int_equal(w.seq[0], seq[0]);
	assert_true(w.first[0] && !w.last[0]);
	assert_int_equal(w.seq[1], seq[2]);
	assert_true(!w.first[1] && w.last[1]);
}

static void
test_delete_last_reindexes_previous(void **state)
{
	struct fixture *f = *state;
	uint64_t seq[3];
	uint32_t ref;
	load_three(f, seq, &ref);
	struct delrec r = { 0 };
	struct store_delete_out out;
	assert_int_equal(del_run(f, 50, STORE_V_LAST, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(r.nun, 2);
	assert_string_equal(r.un[0], "three.example");
	assert_int_equal(r.nre, 2);
	assert_string_equal(r.re[0], "two.example");
	assert_string_equal(r.re[1], "www.two.example");
	assert_int_equal(r.re_ref[0], ref);
	assert_int_equal(r.re_valid_until[0], T0 + SEC + 3600 * SEC);
	/* the previous version is current: get_ref, last flag, default query */
	struct rows w = { 0 };
	assert_int_equal(store_get_ref(f->s, ref, row_cb, &w), TC_OK);
	assert_int_equal(w.seq[0], seq[1]);
	assert_true(w.last[0] && !w.first[0]);
	struct store_query q = { .collection = f->coll };
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], seq[1]);
	size_t n = 0;
	struct diag d;
	assert_int_equal(store_scan_indexable(f->s, count_indexable, &n, &d), TC_OK);
	assert_int_equal(n, 2);
	/* and again: the first version is also the last */
	memset(&r, 0, sizeof r);
	assert_int_equal(del_run(f, 50, STORE_V_LAST, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(r.nre, 2);
	assert_string_equal(r.re[0], "one.example");
	assert_int_equal(count_versions(f, 50, &w), 1);
	assert_true(w.first[0] && w.last[0]);
}

static void
test_delete_first(void **state)
{
	struct fixture *f = *state;
	uint64_t seq[3];
	uint32_t ref;
	load_three(f, seq, &ref);
	struct delrec r = { 0 };
	struct store_delete_out out;
	assert_int_equal(del_run(f, 50, STORE_V_FIRST, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(r.nun + r.nre, 0);
	struct rows w;
	assert_int_equal(count_versions(f, 50, &w), 2);
	assert_int_equal(w.seq[0], seq[1]); /* v2 (appended first) is first now */
	assert_true(w.first[0] && !w.last[0]);
	struct store_query q = { .collection = f->coll, .versions = STORE_V_FIRST };
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 1);
	assert_int_equal(w.seq[0], seq[1]);
}

static void
test_delete_verdicts(void **state)
{
	struct fixture *f = *state;
	uint64_t seq[3];
	uint32_t ref;
	load_three(f, seq, &ref);
	struct delrec r = { .hide_us = T0, .refuse_us = T0 + SEC };
	struct store_delete_out out;
	assert_int_equal(del_run(f, 50, 0, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(r.nmay, 3);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(out.refused, 1);
	/* the newest went; the refused one is current again */
	assert_int_equal(r.nre, 2);
	assert_string_equal(r.re[0], "two.example");
	struct rows w;
	assert_int_equal(count_versions(f, 50, &w), 2);
	/* nothing allowed: no tombstone, no seq */
	r = (struct delrec){ .hide_us = T0, .refuse_us = T0 + SEC };
	assert_int_equal(del_run(f, 50, 0, NULL, 0, &r, &out), TC_OK);
	assert_int_equal(out.deleted, 0);
	assert_int_equal(out.refused, 1);
	assert_int_equal(out.seq, 0);
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.log_position, 4);
}

static void
test_delete_only_version_vanishes(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct delrec r = { 0 };
	struct store_delete_out dout;
	assert_int_equal(del_run(f, 3, 0, NULL, 0, &r, &dout), TC_OK);
	assert_int_equal(dout.deleted, 1);
	assert_int_equal(dout.seq, 9);
	assert_int_equal(r.nun, 2);
	assert_string_equal(r.un[0], "c.example");
	struct rows w;
	assert_int_equal(count_versions(f, 3, &w), 0);
	struct store_query q = { .versions = STORE_V_ALL };
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 7);
	for (size_t i = 0; i < w.n; i++)
		assert_int_not_equal(w.seq[i], 3);
	q = (struct store_query){ .versions = STORE_V_FIRST | STORE_V_LAST };
	memset(&w, 0, sizeof w);
	assert_int_equal(run_query(f->s, &q, &w, NULL), 6);
	assert_int_equal(store_get_ref(f->s, out[2].ref, row_cb, &w), TC_ENOTFOUND);
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.objects, 5);
	assert_int_equal(st.versions, 7);
	assert_int_equal(st.observables[OBS_DOMAIN], 6);
	/* other objects are untouched */
	assert_int_equal(store_get_ref(f->s, out[7].ref, row_cb, &w), TC_OK);
}

static void
test_delete_errors(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct store_delete_out dout;
	struct diag d;
	struct store_delete_q q = { .collection = f->coll };
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d),
	                 TC_EINVAL);
	q.id = "indicator--00000000-0000-4000-8000-000000000001";
	q.collection = 99;
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d),
	                 TC_ENOTFOUND);
	assert_non_null(strstr(d.msg, "99"));
	/* the object is in another collection */
	q.collection = f->coll2;
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d), TC_OK);
	assert_int_equal(dout.deleted, 0);
	/* spec_version filters */
	q.collection = f->coll;
	const char *sv[] = { "2.0" };
	q.spec_versions = sv;
	q.nspec_versions = 1;
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d), TC_OK);
	assert_int_equal(dout.deleted, 0);
	q.nspec_versions = STORE_QUERY_LIST_MAX + 1;
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d),
	                 TC_ELIMIT);
	/* no callbacks at all: everything selected goes */
	q.spec_versions = NULL;
	q.nspec_versions = 0;
	assert_int_equal(store_delete(f->s, &q, NULL, NULL, NULL, NULL, NULL, &dout, &d), TC_OK);
	assert_int_equal(dout.deleted, 3);
}

struct tomblist {
	size_t n;
	uint64_t seq[8], version_seq[8];
	int64_t deleted_us[8], collection[8];
	char id[8][80], version[8][40];
	size_t stop_after;
};

static enum tcerr
tomb_cb(void *ctx, const struct store_tombstone *t)
{
	struct tomblist *l = ctx;
	assert_true(l->n < 8);
	l->seq[l->n] = t->seq;
	l->version_seq[l->n] = t->version_seq;
	l->deleted_us[l->n] = t->deleted_us;
	l->collection[l->n] = t->collection;
	snprintf(l->id[l->n], sizeof l->id[0], "%s", t->id);
	snprintf(l->version[l->n], sizeof l->version[0], "%s", t->version);
	l->n++;
	return l->stop_after && l->n == l->stop_after ? TC_EEXIST : TC_OK;
}

static void
test_tombstones(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	load_six(f, out);
	struct delrec r = { 0 };
	struct store_delete_out d1, d2;
	struct diag d;
	int64_t before = ts_now_us();
	int64_t exact[] = { T0 + SEC };
	assert_int_equal(del_run(f, 1, 0, exact, 1, &r, &d1), TC_OK);
	assert_int_equal(del_run(f, 8, 0, NULL, 0, &r, &d2), TC_OK);
	assert_int_equal(d1.seq, 9);
	assert_int_equal(d2.seq, 10);
	struct tomblist l = { 0 };
	assert_int_equal(store_tombstones(f->s, 0, tomb_cb, &l, &d), TC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seq[0], 9);
	assert_int_equal(l.version_seq[0], 5);
	assert_string_equal(l.id[0], "indicator--00000000-0000-4000-8000-000000000001");
	char v[40];
	ts_format(T0 + SEC, 3, v);
	assert_string_equal(l.version[0], v);
	assert_int_equal(l.collection[0], f->coll);
	assert_true(l.deleted_us[0] >= before);
	assert_int_equal(l.seq[1], 10);
	assert_int_equal(l.version_seq[1], 8);
	assert_true(l.deleted_us[1] > out[7].date_added_us);
	/* after a seq */
	memset(&l, 0, sizeof l);
	assert_int_equal(store_tombstones(f->s, 9, tomb_cb, &l, &d), TC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.seq[0], 10);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_tombstones(f->s, 10, tomb_cb, &l, &d), TC_OK);
	assert_int_equal(l.n, 0);
	/* the callback's error stops the walk */
	memset(&l, 0, sizeof l);
	l.stop_after = 1;
	assert_int_equal(store_tombstones(f->s, 0, tomb_cb, &l, &d), TC_EEXIST);
	assert_int_equal(l.n, 1);
	/* the log goes on after the tombstones, dates above the deletion's */
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.log_position, 10);
	assert_int_equal(st.versions, 6);
	struct obj n;
	struct store_append_out on;
	mk(&n, f->coll, "indicator", 20, T0, false, NULL);
	assert_int_equal(add1(f->s, &n, &on), TC_OK);
	assert_int_equal(on.seq, 11);
	assert_true(on.date_added_us > l.deleted_us[0]);
	/* a deleted version may be appended again: it is new */
	mk(&n, f->coll, "indicator", 1, T0 + SEC, false, "a.example");
	assert_int_equal(add1(f->s, &n, &on), TC_OK);
	assert_int_equal(on.status, STORE_ADDED);
	assert_int_equal(on.seq, 12);
	assert_false(on.current);
}

static void
test_foreign_producer(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, v3, v4, dup;
	struct store_append_out o;
	mk(&v1, f->coll, "indicator", 1, T0, false, "a.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	uint32_t ref = o.ref;
	/* another producer: refused, nothing stored, no seq taken */
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, false, "b.example");
	v2.in.producer = 8;
	struct unidx u = { 0 };
	struct diag d;
	assert_int_equal(store_append(f->s, &v2.in, 1, &o, unindex_cb, &u, &d), TC_OK);
	assert_int_equal(o.status, STORE_FOREIGN);
	assert_int_equal(o.ref, ref);
	assert_false(o.current || o.indexable);
	assert_int_equal(u.n, 0);
	struct rows w;
	assert_int_equal(count_versions(f, 1, &w), 1);
	/* the same producer versions it */
	mk(&v3, f->coll, "indicator", 1, T0 + SEC, false, "c.example");
	assert_int_equal(add1(f->s, &v3, &o), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	assert_int_equal(o.seq, 2);
	/* a duplicate stays a duplicate, whoever sends it */
	dup = v1;
	dup.in.meta = &dup.meta;
	dup.in.producer = 8;
	assert_int_equal(add1(f->s, &dup, &o), TC_OK);
	assert_int_equal(o.status, STORE_DUPLICATE);
	assert_int_equal(o.seq, 1);
	/* the same object id in another collection is another object */
	mk(&v4, f->coll2, "indicator", 1, T0, false, NULL);
	v4.in.producer = 8;
	assert_int_equal(add1(f->s, &v4, &o), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	/* within one batch: 9 creates, 7 may not version it, the hub (0) may */
	struct obj b[3];
	struct store_obj_in in[3];
	struct store_append_out out[3];
	mk(&b[0], f->coll, "indicator", 2, T0, false, NULL);
	b[0].in.producer = 9;
	mk(&b[1], f->coll, "indicator", 2, T0 + SEC, false, NULL);
	mk(&b[2], f->coll, "indicator", 2, T0 + 2 * SEC, false, NULL);
	b[2].in.producer = 0;
	for (int i = 0; i < 3; i++)
		in[i] = b[i].in;
	assert_int_equal(store_append(f->s, in, 3, out, NULL, NULL, &d), TC_OK);
	assert_int_equal(out[0].status, STORE_ADDED);
	assert_int_equal(out[1].status, STORE_FOREIGN);
	assert_int_equal(out[2].status, STORE_ADDED);
	assert_int_equal(out[2].seq, out[0].seq + 1);
	assert_true(out[2].current);
	/* the hub may version anything, also the first producer's */
	mk(&v4, f->coll, "indicator", 1, T0 + 3 * SEC, false, NULL);
	v4.in.producer = 0;
	assert_int_equal(add1(f->s, &v4, &o), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	/* and the object still belongs to its first producer */
	mk(&v4, f->coll, "indicator", 1, T0 + 4 * SEC, false, NULL);
	assert_int_equal(add1(f->s, &v4, &o), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	v4.meta.version_us = T0 + 5 * SEC;
	v4.in.producer = 8;
	assert_int_equal(add1(f->s, &v4, &o), TC_OK);
	assert_int_equal(o.status, STORE_FOREIGN);
}

/* --- sqlite only, continued --- */

static void
test_sqlite_tombstones_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	struct diag d;
	load_six(f, out);
	struct delrec r = { 0 };
	struct store_delete_out dout;
	/* the newest version in the log goes: the log position must not */
	assert_int_equal(del_run(f, 8, 0, NULL, 0, &r, &dout), TC_OK);
	assert_int_equal(dout.seq, 9);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_OK);
	struct tomblist l = { 0 };
	assert_int_equal(store_tombstones(f->s, 0, tomb_cb, &l, &d), TC_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.id[0], "indicator--00000000-0000-4000-8000-000000000008");
	struct store_stats st;
	assert_int_equal(store_stats(f->s, &st), TC_OK);
	assert_int_equal(st.log_position, 9);
	assert_int_equal(st.objects, 5);
	struct obj n;
	struct store_append_out on;
	mk(&n, f->coll, "indicator", 20, T0, false, NULL);
	assert_int_equal(add1(f->s, &n, &on), TC_OK);
	assert_int_equal(on.seq, 10);
	assert_true(on.date_added_us > l.deleted_us[0]);
}

/* A store made by a build of schema 1 (no producer column, no
 * tombstones) opens, learns each object's producer from its first
 * version, and refuses foreign versions. */
static void
test_sqlite_migrates_schema_1(void **state)
{
	struct fixture *f = *state;
	struct store_append_out out[8];
	struct diag d;
	load_six(f, out);
	store_close(f->s);
	f->s = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "DROP TABLE devents; DROP TABLE dvalues;"
	                              "DROP TABLE tombstones;"
	                              "ALTER TABLE objects DROP COLUMN producer;"
	                              "ALTER TABLE versions DROP COLUMN key_id;"
	                              "UPDATE settings SET value = '1' WHERE key = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_OK);
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(store_setting_get(f->s, "schema_version", &b), TC_OK);
	assert_string_equal(b.p, "6");
	buf_reset(&b);
	struct obj v;
	struct store_append_out o;
	mk(&v, f->coll, "indicator", 3, T0 + SEC, false, NULL);
	v.in.producer = 8;
	assert_int_equal(add1(f->s, &v, &o), TC_OK);
	assert_int_equal(o.status, STORE_FOREIGN);
	v.in.producer = 7;
	assert_int_equal(add1(f->s, &v, &o), TC_OK);
	assert_int_equal(o.status, STORE_ADDED);
	struct delrec r = { 0 };
	struct store_delete_out dout;
	assert_int_equal(del_run(f, 3, 0, NULL, 0, &r, &dout), TC_OK);
	assert_int_equal(dout.deleted, 2);
	assert_int_equal(dout.seq, 11);
}

/* --- who posted each version: the key id (issue 8) --- */

struct keyrec {
	size_t n;
	uint64_t seq[8];
	char key[8][STORE_KEY_ID_MAX + 1];
	int64_t producer[8];
};

static enum store_row_verdict
key_cb(void *ctx, const struct store_row *r)
{
	struct keyrec *k = ctx;
	assert_non_null(r->key_id);
	assert_true(k->n < 8);
	k->seq[k->n] = r->seq;
	snprintf(k->key[k->n], sizeof k->key[0], "%s", r->key_id);
	k->producer[k->n] = r->producer;
	k->n++;
	return STORE_ROW_TAKE;
}

static void
test_key_id(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, v3, bad;
	struct store_append_out o;
	struct diag d;
	mk(&v1, f->coll, "indicator", 1, T0, false, "a.example");
	v1.in.key_id = "kaaaaaaaaaaa";
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, false, "b.example");
	v2.in.key_id = "kbbbbbbbbbbb";
	assert_int_equal(add1(f->s, &v2, &o), TC_OK);
	/* no key: the hub's own import */
	mk(&v3, f->coll, "indicator", 2, T0, false, NULL);
	v3.in.producer = 0;
	assert_int_equal(add1(f->s, &v3, &o), TC_OK);
	struct keyrec k = { 0 };
	struct store_query q = { .collection = f->coll, .versions = STORE_V_ALL };
	assert_int_equal(store_query(f->s, &q, key_cb, &k, NULL, &d), TC_OK);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.key[0], "kaaaaaaaaaaa");
	assert_string_equal(k.key[1], "kbbbbbbbbbbb");
	assert_string_equal(k.key[2], "");
	assert_int_equal(k.producer[0], 7);
	assert_int_equal(k.producer[2], 0);
	/* the current version of the object names its own key */
	struct keyrec g = { 0 };
	assert_int_equal(store_get_ref(f->s, o.ref - 1, key_cb, &g), TC_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.key[0], "kbbbbbbbbbbb");
	/* a duplicate keeps the key of the stored copy */
	struct obj dup = v1;
	dup.in.meta = &dup.meta;
	dup.in.json = slice_from_cstr(dup.json);
	dup.in.key_id = "kccccccccccc";
	assert_int_equal(add1(f->s, &dup, &o), TC_OK);
	assert_int_equal(o.status, STORE_DUPLICATE);
	memset(&k, 0, sizeof k);
	assert_int_equal(store_query(f->s, &q, key_cb, &k, NULL, &d), TC_OK);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.key[0], "kaaaaaaaaaaa");
	/* a key id longer than the limit is refused, nothing stored */
	mk(&bad, f->coll, "indicator", 3, T0, false, NULL);
	char longkey[STORE_KEY_ID_MAX + 2];
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	bad.in.key_id = longkey;
	assert_int_equal(store_append(f->s, &bad.in, 1, &o, NULL, NULL, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "key id"));
	memset(&k, 0, sizeof k);
	assert_int_equal(store_query(f->s, &q, key_cb, &k, NULL, &d), TC_OK);
	assert_int_equal(k.n, 3);
}

/* A schema-2 file (before key ids) opens, keeps its rows with no key, and
 * records keys from then on. */
static void
test_sqlite_migrates_schema_2(void **state)
{
	struct fixture *f = *state;
	struct store_append_out o;
	struct diag d;
	struct obj v1, v2;
	mk(&v1, f->coll, "indicator", 1, T0, false, "a.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	store_close(f->s);
	f->s = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "DROP TABLE devents; DROP TABLE dvalues;"
	                              "ALTER TABLE tombstones DROP COLUMN tlp;"
	                              "ALTER TABLE tombstones DROP COLUMN producer;"
	                              "ALTER TABLE tombstones DROP COLUMN rjson;"
	                              "ALTER TABLE versions DROP COLUMN key_id;"
	                              "UPDATE settings SET value = '2' WHERE key = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->spec, &f->s, &d), TC_OK);
	mk(&v2, f->coll, "indicator", 1, T0 + SEC, false, NULL);
	v2.in.key_id = "kddddddddddd";
	assert_int_equal(add1(f->s, &v2, &o), TC_OK);
	struct keyrec k = { 0 };
	struct store_query q = { .collection = f->coll, .versions = STORE_V_ALL };
	assert_int_equal(store_query(f->s, &q, key_cb, &k, NULL, &d), TC_OK);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.key[0], "");
	assert_string_equal(k.key[1], "kddddddddddd");
	/* deleting still works after the migration (its query reads every column) */
	struct delrec r = { 0 };
	struct store_delete_out dout;
	assert_int_equal(del_run(f, 1, 0, NULL, 0, &r, &dout), TC_OK);
	assert_int_equal(dout.deleted, 2);
}

/* issue 8 point 7: the same (collection, id, version) with other content
 * is a conflict, not a duplicate; key order or escapes alone are not */
static void
test_conflict_same_version_other_content(void **state)
{
	struct fixture *f = *state;
	struct obj a, b, c;
	struct store_append_out o1, o2, ob[2];
	struct diag d;
	mk(&a, f->coll, "indicator", 41, T0, false, NULL);
	assert_int_equal(add1(f->s, &a, &o1), TC_OK);
	assert_int_equal(o1.status, STORE_ADDED);
	/* the same object, keys in another order and a \u escape */
	b = a;
	b.in.meta = &b.meta;
	snprintf(b.json, sizeof b.json,
	         "{\"revoked\":false,\"modified\":\"%s\",\"id\":\"%s\",\"type\":\"indic\\u0061tor\"}",
	         a.meta.version, a.meta.id);
	b.in.json = slice_from_cstr(b.json);
	assert_int_equal(add1(f->s, &b, &o2), TC_OK);
	assert_int_equal(o2.status, STORE_DUPLICATE);
	assert_int_equal(o2.seq, o1.seq);
	/* other content under the same id and modified */
	c = a;
	c.in.meta = &c.meta;
	snprintf(c.json, sizeof c.json,
	         "{\"type\":\"indicator\",\"id\":\"%s\",\"modified\":\"%s\",\"revoked\":false,"
	         "\"description\":\"changed\"}",
	         a.meta.id, a.meta.version);
	c.in.json = slice_from_cstr(c.json);
	assert_int_equal(add1(f->s, &c, &o2), TC_OK);
	assert_int_equal(o2.status, STORE_CONFLICT);
	assert_int_equal(o2.seq, o1.seq);
	struct rows w;
	assert_int_equal(count_versions(f, 41, &w), 1);
	/* within one batch: the second copy conflicts with the first */
	struct obj e, g;
	mk(&e, f->coll, "indicator", 42, T0, false, NULL);
	g = e;
	g.in.meta = &g.meta;
	snprintf(g.json, sizeof g.json, "{\"type\":\"indicator\",\"id\":\"%s\",\"x\":1}",
	         e.meta.id);
	g.in.json = slice_from_cstr(g.json);
	struct store_obj_in in[2] = { e.in, g.in };
	assert_int_equal(store_append(f->s, in, 2, ob, NULL, NULL, &d), TC_OK);
	assert_int_equal(ob[0].status, STORE_ADDED);
	assert_int_equal(ob[1].status, STORE_CONFLICT);
	/* numbers are compared as JCS writes them: 1.0 is 1 */
	assert_int_equal(store__same_json(SLICE_LIT("{\"a\":1.0,\"b\":[1,2]}"),
	                                  SLICE_LIT("{\"b\":[1,2],\"a\":1}")),
	                 1);
	assert_int_equal(store__same_json(SLICE_LIT("{\"a\":1}"), SLICE_LIT("{\"a\":2}")), 0);
	assert_int_equal(store__same_json(SLICE_LIT("{\"a\":"), SLICE_LIT("{\"a\":1}")), 0);
}

/* Renaming keeps a collection's number, id and objects; titles are
 * printable text (issue 9 point 8), on both backends. */
static void
test_collection_update(void **state)
{
	struct fixture *f = *state;
	struct store_collection c, u;
	struct diag d;

	assert_int_equal(store_collection_add(f->s, "t", NULL, "a\x1b[31mb", NULL, &c, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "title"));
	assert_int_equal(store_collection_add(f->s, "t", NULL, "ok", "line\nbreak", &c, &d),
	                 TC_EINVAL);
	assert_int_equal(store_collection_find(f->s, "t", &c), TC_ENOTFOUND);
	assert_int_equal(store_collection_update(f->s, f->coll2, "renamed", "Zürich", "d", &u, &d),
	                 TC_OK);
	assert_int_equal(u.num, f->coll2);
	assert_int_equal(store_collection_find(f->s, "second", &c), TC_ENOTFOUND);
	assert_int_equal(store_collection_find(f->s, "renamed", &c), TC_OK);
	assert_int_equal(c.num, f->coll2);
	assert_string_equal(c.uuid, u.uuid);
	assert_string_equal(c.title, "Zürich");
	assert_string_equal(c.description, "d");
	/* NULL keeps a field; the same alias is no clash with itself */
	assert_int_equal(store_collection_update(f->s, f->coll2, "renamed", NULL, NULL, &u, &d),
	                 TC_OK);
	assert_string_equal(u.title, "Zürich");
	assert_int_equal(store_collection_update(f->s, f->coll2, "default", NULL, NULL, NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(store_collection_update(f->s, f->coll2, "Bad Alias", NULL, NULL, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(store_collection_update(f->s, f->coll2, NULL, "\x7f", NULL, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(store_collection_update(f->s, 999, "x", NULL, NULL, NULL, &d),
	                 TC_ENOTFOUND);
}

#define CONFORMANCE(setup)                                                                        \
	cmocka_unit_test_setup_teardown(test_append_new, setup, teardown),                         \
	cmocka_unit_test_setup_teardown(test_date_added_strictly_increasing_in_batch, setup,     \
	                                teardown),                                                 \
	cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),                          \
	cmocka_unit_test_setup_teardown(test_conflict_same_version_other_content, setup,           \
	                                teardown),                                                 \
	cmocka_unit_test_setup_teardown(test_unversioned_sco_duplicate, setup, teardown),          \
	cmocka_unit_test_setup_teardown(test_new_version_unindexes_previous, setup, teardown),     \
	cmocka_unit_test_setup_teardown(test_out_of_order_version, setup, teardown),               \
	cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),                         \
	cmocka_unit_test_setup_teardown(test_versions_within_one_batch, setup, teardown),          \
	cmocka_unit_test_setup_teardown(test_failed_batch_stores_nothing, setup, teardown),        \
	cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),                      \
	cmocka_unit_test_setup_teardown(test_query_limits, setup, teardown),                       \
	cmocka_unit_test_setup_teardown(test_caller_date_added_orders_queries, setup, teardown),   \
	cmocka_unit_test_setup_teardown(test_collections, setup, teardown),                        \
	cmocka_unit_test_setup_teardown(test_collection_update, setup, teardown),                  \
	cmocka_unit_test_setup_teardown(test_stats, setup, teardown),                              \
	cmocka_unit_test_setup_teardown(test_get_ref, setup, teardown),                            \
	cmocka_unit_test_setup_teardown(test_settings, setup, teardown),                           \
	cmocka_unit_test_setup_teardown(test_cursor_resumes_across_equal_dates, setup, teardown),  \
	cmocka_unit_test_setup_teardown(test_delete_all_versions, setup, teardown),                \
	cmocka_unit_test_setup_teardown(test_delete_exact_version, setup, teardown),               \
	cmocka_unit_test_setup_teardown(test_delete_last_reindexes_previous, setup, teardown),     \
	cmocka_unit_test_setup_teardown(test_delete_first, setup, teardown),                       \
	cmocka_unit_test_setup_teardown(test_delete_verdicts, setup, teardown),                    \
	cmocka_unit_test_setup_teardown(test_delete_only_version_vanishes, setup, teardown),       \
	cmocka_unit_test_setup_teardown(test_delete_errors, setup, teardown),                      \
	cmocka_unit_test_setup_teardown(test_tombstones, setup, teardown),                         \
	cmocka_unit_test_setup_teardown(test_foreign_producer, setup, teardown),                  \
	cmocka_unit_test_setup_teardown(test_key_id, setup, teardown),                            \
	cmocka_unit_test_setup_teardown(test_versions_of, setup, teardown)


/* Issue 8: a store whose versions.tlp was computed under the old rules
 * (unknown and granular markings ignored, upper-case TLP ids unmarked)
 * is judged by the new ones after the migration step SQ_STEP_TLP_RULES. */
static enum store_row_verdict
tlp_of_row(void *ctx, const struct store_row *r)
{
	int *tlp = ctx;
	int n = atoi(r->id + strlen(r->id) - 2);
	if (n >= 0 && n < 16)
		tlp[n] = (int)r->tlp;
	return STORE_ROW_TAKE;
}

static void
test_sqlite_migrates_tlp_rules(void **state)
{
	struct fixture *f = *state;
	static const char *const marks[] = {
		/* 0: unknown marking: RED */
		"\"object_marking_refs\":[\"marking-definition--0b5e6e3b-0c1a-4f27-a3c8-3d2a0e8e6c1c\"]",
		/* 1: TLP:RED on the pattern only: RED */
		("\"granular_markings\":[{\"selectors\":[\"pattern\"],\"marking_ref\":"
		 "\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"}]"),
		/* 2: TLP:RED written in upper case (accepted by old builds): RED */
		"\"object_marking_refs\":[\"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1\"]",
		/* 3: the stored statement marking alone: unmarked */
		"\"object_marking_refs\":[\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\"]",
		/* 4: AMBER stays AMBER */
		"\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]",
		/* 5: unmarked stays unmarked */
		"\"name\":\"x\"",
	};
	enum { N = sizeof marks / sizeof marks[0] };
	static const int want[N] = { TLP_RED, TLP_RED, TLP_RED, TLP_NONE, TLP_AMBER, TLP_NONE };
	struct obj o[N + 1];
	struct store_append_out out[N + 1];
	struct store_obj_in in[N + 1];
	struct diag d;
	for (int i = 0; i < N; i++) {
		mk(&o[i], f->coll, "indicator", 10 + i, T0, false, NULL);
		snprintf(o[i].json, sizeof o[i].json, "{\"type\":\"indicator\",\"id\":\"%.80s\",%s}",
		         o[i].meta.id, marks[i]);
		o[i].in.json = slice_from_cstr(o[i].json);
		/* what the old rules computed */
		o[i].meta.tlp = i == 4 ? TLP_AMBER : TLP_NONE;
		in[i] = o[i].in;
		in[i].meta = &o[i].meta;
	}
	mk(&o[N], f->coll, "marking-definition", 0, 0, false, NULL);
	snprintf(o[N].meta.id, sizeof o[N].meta.id, "%s",
	         "marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c");
	snprintf(o[N].json, sizeof o[N].json,
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
	         "\"created\":\"2020-01-01T00:00:00.000Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"(c)\"}}",
	         o[N].meta.id);
	o[N].meta.tlp = TLP_NONE;
	in[N] = o[N].in;
	in[N].json = slice_from_cstr(o[N].json);
	in[N].meta = &o[N].meta;
	assert_int_equal(store_append(f->s, in, N + 1, out, NULL, NULL, &d), TC_OK);
	store_close(f->s);
	f->s = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE devents; DROP TABLE dvalues;"
	                                  "ALTER TABLE tombstones DROP COLUMN tlp;"
	                                  "ALTER TABLE tombstones DROP COLUMN producer;"
	                                  "ALTER TABLE tombstones DROP COLUMN rjson;"
	                                  "UPDATE settings SET value = '3' WHERE key = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	if (store_open(f->spec, &f->s, &d) != TC_OK)
		fail_msg("reopen: %s", d.msg);
	int tlp[16];
	memset(tlp, -1, sizeof tlp);
	const char *types[1] = { "indicator" };
	struct store_query q = { .types = types, .ntypes = 1, .versions = STORE_V_ALL };
	assert_int_equal(store_query(f->s, &q, tlp_of_row, tlp, NULL, &d), TC_OK);
	for (int i = 0; i < N; i++)
		if (tlp[10 + i] != want[i])
			fail_msg("row %d: tlp %d, want %d", i, tlp[10 + i], want[i]);
}

struct vof {
	struct store *s;
	size_t n, inner;
	int64_t v[8];
	bool bad_order;
};

static enum store_row_verdict
vof_inner(void *ctx, const struct store_row *r)
{
	struct vof *w = ctx;
	if (w->n && r->version_us <= w->v[w->n - 1])
		w->bad_order = true;
	if (w->n < 8)
		w->v[w->n] = r->version_us;
	w->n++;
	return STORE_ROW_TAKE;
}

static enum store_row_verdict
vof_outer(void *ctx, const struct store_row *r)
{
	struct vof *w = ctx;
	w->n = 0;
	assert_int_equal(store_versions_of(w->s, r->ref, vof_inner, w), TC_OK);
	w->inner += w->n;
	return STORE_ROW_TAKE;
}

static void
test_versions_of(void **state)
{
	struct fixture *f = *state;
	struct obj v[3];
	struct store_append_out o;
	struct diag d;
	/* appended out of order */
	mk(&v[0], f->coll, "indicator", 60, T0 + 2 * SEC, false, NULL);
	mk(&v[1], f->coll, "indicator", 60, T0, false, NULL);
	mk(&v[2], f->coll, "indicator", 60, T0 + SEC, false, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(add1(f->s, &v[i], &o), TC_OK);
	struct vof w = { .s = f->s };
	assert_int_equal(store_versions_of(f->s, o.ref, vof_inner, &w), TC_OK);
	assert_int_equal(w.n, 3);
	assert_false(w.bad_order);
	assert_int_equal(w.v[0], T0);
	assert_int_equal(w.v[2], T0 + 2 * SEC);
	assert_int_equal(store_versions_of(f->s, 0, vof_inner, &w), TC_ENOTFOUND);
	assert_int_equal(store_versions_of(f->s, 9999, vof_inner, &w), TC_ENOTFOUND);
	/* nested in a query over the same object's versions */
	const char *ids[1] = { v[0].meta.id };
	struct store_query q = { .ids = ids, .nids = 1, .versions = STORE_V_ALL };
	w = (struct vof){ .s = f->s };
	assert_int_equal(store_query(f->s, &q, vof_outer, &w, NULL, &d), TC_OK);
	assert_int_equal(w.inner, 9);
	assert_false(w.bad_order);
}


/* --- decisions (SQLite) --- */

struct devs {
	size_t n;
	uint64_t seq[32];
	bool add[32];
	enum store_dreason why[32];
	char value[32][64];
	uint64_t vseq[32];
};

static enum tcerr
dev_cb(void *ctx, const struct store_devent *e)
{
	struct devs *v = ctx;
	assert_true(v->n < 32);
	v->seq[v->n] = e->seq;
	v->add[v->n] = e->add;
	v->why[v->n] = e->reason;
	v->vseq[v->n] = e->d.version_seq;
	snprintf(v->value[v->n], sizeof v->value[0], "%.*s", (int)e->d.value.len, e->d.value.p);
	v->n++;
	return TC_OK;
}

static size_t
events_after(struct store *s, uint64_t after, struct devs *v)
{
	struct diag d;
	memset(v, 0, sizeof *v);
	assert_int_equal(store_decision_events(s, after, 0, dev_cb, v, &d), TC_OK);
	return v->n;
}

static enum tcerr
count_cb(void *ctx, const struct store_decision *c)
{
	(void)c;
	(*(size_t *)ctx)++;
	return TC_OK;
}

static size_t
current_decisions(struct store *s, int64_t now)
{
	struct diag d;
	size_t n = 0;
	assert_int_equal(store_decisions(s, 0, NULL, now, count_cb, &n, NULL, &d), TC_OK);
	return n;
}

/* An indicator valid from now for a day (mk's are long expired). */
static void
mk_live(struct obj *o, int64_t coll, int idnum, int64_t version_us, bool revoked,
        const char *domain)
{
	mk(o, coll, "indicator", idnum, version_us, revoked, domain);
	o->meta.valid_until_us = ts_now_us() + 86400 * SEC;
	o->meta.has_confidence = true;
	o->meta.confidence = 80;
}

/* Publish, new version, revoke: each change of a value's decision is an
 * event with its own position after the version's, and the current
 * decisions follow. */
static void
test_sqlite_decisions_follow_versions(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2, v3, sco;
	struct store_append_out o;
	struct devs ev;
	mk_live(&v1, f->coll, 1, T0, false, "a.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	assert_int_equal(events_after(f->s, 0, &ev), 2);
	assert_true(ev.add[0] && ev.add[1]);
	assert_int_equal(ev.why[0], STORE_DR_PUBLISHED);
	assert_int_equal(ev.seq[0], o.seq + 1);
	assert_int_equal(ev.seq[1], o.seq + 2);
	assert_int_equal(ev.vseq[0], o.seq);
	assert_int_equal(current_decisions(f->s, 0), 2);
	uint64_t pos;
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	assert_int_equal(pos, o.seq + 2);
	/* decision events hold positions, not versions */
	struct store_stats sst;
	assert_int_equal(store_stats(f->s, &sst), TC_OK);
	assert_int_equal(sst.versions, 1);
	assert_int_equal(sst.log_position, pos);

	/* a new version that names the same values: remove and add again */
	mk_live(&v2, f->coll, 1, T0 + SEC, false, "a.example");
	assert_int_equal(add1(f->s, &v2, &o), TC_OK);
	assert_int_equal(o.seq, pos + 1);
	assert_int_equal(events_after(f->s, pos, &ev), 4);
	assert_false(ev.add[0]);
	assert_int_equal(ev.why[0], STORE_DR_SUPERSEDED);
	assert_true(ev.add[2] && ev.add[3]);
	assert_int_equal(ev.vseq[2], o.seq);
	assert_int_equal(current_decisions(f->s, 0), 2);
	assert_int_equal(store_position(f->s, &pos), TC_OK);

	/* revoked: the decisions go */
	mk_live(&v3, f->coll, 1, T0 + 2 * SEC, true, "a.example");
	assert_int_equal(add1(f->s, &v3, &o), TC_OK);
	assert_int_equal(events_after(f->s, pos, &ev), 2);
	assert_false(ev.add[0] || ev.add[1]);
	assert_int_equal(ev.why[0], STORE_DR_REVOKED);
	assert_int_equal(current_decisions(f->s, 0), 0);

	/* an older version arriving late changes nothing; an SCO makes no decision */
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	mk_live(&v1, f->coll, 1, T0 - SEC, false, "a.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	mk(&sco, f->coll, "domain-name", 9, 0, false, "b.example");
	assert_int_equal(add1(f->s, &sco, &o), TC_OK);
	assert_int_equal(events_after(f->s, pos, &ev), 0);
	assert_int_equal(current_decisions(f->s, 0), 0);
}

static enum store_delete_verdict
del_yes(void *ctx, const struct store_row *r)
{
	(void)ctx;
	(void)r;
	return STORE_DEL_YES;
}

/* Deleting the current version removes its decisions (deleted) and the
 * version that becomes current brings its own back. */
static void
test_sqlite_decisions_delete(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2;
	struct store_append_out o1, o2;
	struct devs ev;
	struct diag d;
	mk_live(&v1, f->coll, 3, T0, false, "old.example");
	assert_int_equal(add1(f->s, &v1, &o1), TC_OK);
	mk_live(&v2, f->coll, 3, T0 + SEC, false, "new.example");
	assert_int_equal(add1(f->s, &v2, &o2), TC_OK);
	uint64_t pos;
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	int64_t vus = T0 + SEC;
	struct store_delete_q q = { .collection = f->coll, .id = v2.meta.id, .version_us = &vus,
		                    .nversion_us = 1 };
	struct store_delete_out out;
	assert_int_equal(store_delete(f->s, &q, del_yes, NULL, NULL, NULL, NULL, &out, &d), TC_OK);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(events_after(f->s, pos, &ev), 4);
	assert_true(ev.seq[0] > out.seq);
	assert_false(ev.add[0]);
	assert_int_equal(ev.why[0], STORE_DR_DELETED);
	assert_string_equal(ev.value[0], "new.example");
	assert_true(ev.add[2]);
	assert_int_equal(ev.vseq[2], o1.seq);
	assert_int_equal(current_decisions(f->s, 0), 2);
	/* deleting the object leaves nothing */
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	struct store_delete_q all = { .collection = f->coll, .id = v2.meta.id };
	assert_int_equal(store_delete(f->s, &all, del_yes, NULL, NULL, NULL, NULL, &out, &d), TC_OK);
	assert_int_equal(events_after(f->s, pos, &ev), 2);
	assert_int_equal(ev.why[1], STORE_DR_DELETED);
	assert_int_equal(current_decisions(f->s, 0), 0);
}

/* valid_until passes: expire removes them with their events, once. */
static void
test_sqlite_decisions_expire(void **state)
{
	struct fixture *f = *state;
	struct obj v1, v2;
	struct store_append_out o;
	struct devs ev;
	struct diag d;
	int64_t now = ts_now_us();
	mk_live(&v1, f->coll, 4, T0, false, "soon.example");
	v1.meta.valid_until_us = now + 10 * SEC;
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	mk_live(&v2, f->coll, 5, T0, false, "later.example");
	assert_int_equal(add1(f->s, &v2, &o), TC_OK);
	/* an indicator already expired on arrival makes none */
	mk(&v1, f->coll, "indicator", 6, T0, false, "past.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	uint64_t pos;
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	assert_int_equal(current_decisions(f->s, now), 4);
	assert_int_equal(current_decisions(f->s, now + 11 * SEC), 2);
	size_t n;
	int64_t next;
	assert_int_equal(store_decisions_expire(f->s, now, 0, &n, &next, &d), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(next, now + 10 * SEC);
	assert_int_equal(store_decisions_expire(f->s, now + 11 * SEC, 0, &n, &next, &d), TC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(next, v2.meta.valid_until_us);
	assert_int_equal(events_after(f->s, pos, &ev), 2);
	assert_int_equal(ev.why[0], STORE_DR_EXPIRED);
	assert_string_equal(ev.value[0], "soon.example");
	assert_int_equal(store_decisions_expire(f->s, now + 11 * SEC, 0, &n, &next, &d), TC_OK);
	assert_int_equal(n, 0);
}

static bool
judge_www(void *ctx, enum obs_kind kind, struct slice value)
{
	(void)kind;
	return *(bool *)ctx && value.len > 4 && memcmp(value.p, "www.", 4) == 0;
}

/* Allowlisted contributions are kept, marked, with no event; a change of
 * the allowlist is a remove or an add. */
static void
test_sqlite_decisions_allowlist(void **state)
{
	struct fixture *f = *state;
	struct obj v1;
	struct store_append_out o;
	struct devs ev;
	struct diag d;
	bool on = true;
	store_decisions_set_judge(f->s, judge_www, &on);
	mk_live(&v1, f->coll, 7, T0, false, "c.example");
	assert_int_equal(add1(f->s, &v1, &o), TC_OK);
	assert_int_equal(events_after(f->s, 0, &ev), 1);
	assert_string_equal(ev.value[0], "c.example");
	assert_int_equal(current_decisions(f->s, 0), 1);
	uint64_t pos;
	assert_int_equal(store_position(f->s, &pos), TC_OK);
	size_t n;
	assert_int_equal(store_decisions_rejudge(f->s, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	on = false;
	assert_int_equal(store_decisions_rejudge(f->s, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(events_after(f->s, pos, &ev), 1);
	assert_true(ev.add[0]);
	assert_int_equal(ev.why[0], STORE_DR_UNALLOWLISTED);
	assert_string_equal(ev.value[0], "www.c.example");
	assert_int_equal(current_decisions(f->s, 0), 2);
	on = true;
	assert_int_equal(store_decisions_rejudge(f->s, &n, &d), TC_OK);
	assert_int_equal(events_after(f->s, pos, &ev), 2);
	assert_false(ev.add[1]);
	assert_int_equal(ev.why[1], STORE_DR_ALLOWLISTED);
	assert_int_equal(current_decisions(f->s, 0), 1);
	/* one value asked for alone */
	size_t one = 0;
	struct slice v = slice_from_cstr("c.example");
	assert_int_equal(store_decisions(f->s, OBS_DOMAIN, &v, 0, count_cb, &one, NULL, &d), TC_OK);
	assert_int_equal(one, 1);
	store_decisions_set_judge(f->s, NULL, NULL);
}


static enum tcerr
tomb_tlp_cb(void *ctx, const struct store_tombstone *t)
{
	int *out = ctx;
	out[0] = (int)t->tlp;
	out[1] = (int)t->producer;
	return TC_OK;
}

struct logrec {
	size_t n;
	uint64_t seq[8];
	uint32_t kinds[8];
};

static enum store_row_verdict
log_cb(void *ctx, const struct store_row *r, uint32_t kinds)
{
	struct logrec *l = ctx;
	assert_true(l->n < 8);
	l->seq[l->n] = r->seq;
	l->kinds[l->n++] = kinds;
	return STORE_ROW_TAKE;
}

/* The log walks versions in seq order with their observable kinds, and
 * a tombstone says what policy needs to judge the deleted version. */
static void
test_sqlite_log_and_tombstone_policy(void **state)
{
	struct fixture *f = *state;
	struct obj a, b;
	struct store_append_out oa, ob;
	struct diag d;
	mk_live(&a, f->coll, 11, T0, false, "log.example");
	a.meta.tlp = TLP_AMBER;
	assert_int_equal(add1(f->s, &a, &oa), TC_OK);
	mk(&b, f->coll, "note", 12, T0, false, NULL);
	assert_int_equal(add1(f->s, &b, &ob), TC_OK);
	struct logrec l = { 0 };
	uint64_t last;
	assert_int_equal(store_log_versions(f->s, 0, 0, log_cb, &l, &last, &d), TC_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seq[0], oa.seq);
	assert_int_equal(l.kinds[0], 1u << OBS_DOMAIN);
	assert_int_equal(l.kinds[1], 0);
	assert_int_equal(last, ob.seq);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_log_versions(f->s, oa.seq, 1, log_cb, &l, &last, &d), TC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.seq[0], ob.seq);
	struct store_delete_q q = { .collection = f->coll, .id = a.meta.id };
	struct store_delete_out out;
	assert_int_equal(store_delete(f->s, &q, del_yes, NULL, NULL, NULL, NULL, &out, &d), TC_OK);
	int tp[2] = { -1, -1 };
	assert_int_equal(store_tombstones(f->s, 0, tomb_tlp_cb, tp, &d), TC_OK);
	assert_int_equal(tp[0], TLP_AMBER);
	assert_int_equal(tp[1], 7);
}

/* The memory backend keeps no decisions and says so. */
static void
test_memory_decisions_unsupported(void **state)
{
	(void)state;
	struct store *s;
	struct diag d;
	struct devs ev;
	assert_int_equal(store_open("memory:", &s, &d), TC_OK);
	assert_int_equal(store_decision_events(s, 0, 0, dev_cb, &ev, &d), TC_EUNSUPPORTED);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest memory[] = { CONFORMANCE(setup_memory) };
	const struct CMUnitTest sqlite[] = {
		CONFORMANCE(setup_sqlite),
		cmocka_unit_test_setup_teardown(test_sqlite_reopen, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_newer_schema, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_tombstones_survive_reopen, setup_sqlite,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_migrates_schema_1, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_migrates_schema_2, setup_sqlite, teardown),
		cmocka_unit_test(test_sqlite_not_a_database),
		cmocka_unit_test(test_sqlite_foreign_database),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test_setup_teardown(test_sqlite_migrates_tlp_rules, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_decisions_follow_versions, setup_sqlite,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_decisions_delete, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_decisions_expire, setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_decisions_allowlist, setup_sqlite,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_log_and_tombstone_policy, setup_sqlite,
		                                teardown),
		cmocka_unit_test(test_memory_decisions_unsupported),
	};
	int rc = cmocka_run_group_tests_name("store-memory", memory, NULL, NULL);
	rc |= cmocka_run_group_tests_name("store-sqlite", sqlite, NULL, NULL);
	return rc;
}
