/*
 * Unit tests of lib/hub/hub_lookup.c: batched lookups answer as hub_match
 * does, value by value and in order; a reader sees only what its callback
 * admits, as if the hidden indicators did not exist; the cache follows
 * revocations and new versions; lookups run while another thread ingests.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/hub_lookup.h"

struct fixture {
	char dir[256];
	struct hub *hub;
	struct store *reader;   /* a second connection, as a request thread's */
	int64_t coll;
	struct hub_lookup out;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;
	struct store_collection c;
	char spec[300];

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-lookup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(hub_lookup_cache(f->hub, 1024, &d), TC_OK);
	assert_int_equal(hub_collection(f->hub, NULL, &c, &d), TC_OK);
	f->coll = c.num;
	snprintf(spec, sizeof spec, "sqlite:%s/tocsin.db", f->dir);
	assert_int_equal(store_open(spec, &f->reader, &d), TC_OK);
	hub_lookup_init(&f->out);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	hub_lookup_reset(&f->out);
	store_close(f->reader);
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *
indicator(const char *tail, const char *modified, const char *pattern, const char *extra)
{
	char text[2048];
	json_error_t e;
	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	         "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%s\","
	         "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	         "\"pattern\":\"%s\",\"pattern_type\":\"stix\","
	         "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}",
	         tail, modified, pattern, extra ? extra : "");
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static void
ingest1(struct fixture *f, json_t *obj)
{
	struct hub_result r;
	struct diag d;
	assert_int_equal(hub_ingest(f->hub, f->coll, &obj, NULL, 1, &r, &d), TC_OK);
	if (r.verdict != HUB_ACCEPTED)
		fail_msg("not accepted: %s", r.why);
	json_decref(obj);
}

static const struct hub_lookup_value *
lookup(struct fixture *f, const char *const *values, size_t n, hub_lookup_see_cb see, void *ctx)
{
	struct slice v[16];
	struct diag d;
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		v[i] = slice_from_cstr(values[i]);
	assert_int_equal(hub_lookup_batch(f->hub, f->reader, v, n, NULL, see, ctx, &f->out, &d),
	                 TC_OK);
	assert_int_equal(f->out.nvalues, n);
	return f->out.values;
}

static const struct hub_lookup_hit *
hit(struct fixture *f, const struct hub_lookup_value *v, size_t i)
{
	return &f->out.hits[v->hit0 + i];
}

static const char *
hit_id(struct fixture *f, const struct hub_lookup_value *v, size_t i)
{
	return f->out.inds[hit(f, v, i)->ind].id;
}

static bool
text_is(struct fixture *f, uint32_t off, uint32_t len, const char *want)
{
	struct slice s = hub_lookup_text(&f->out, off, len);
	return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

static void
test_batch_kinds_and_order(void **state)
{
	struct fixture *f = *state;
	ingest1(f, indicator("0001", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example']",
	                     ",\"confidence\":80"));
	ingest1(f, indicator("0002", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '203.0.113.0/24']", NULL));
	ingest1(f, indicator("0003", "2024-01-01T00:00:00.000Z",
	                     "[x-tocsin-phone-number:value = '+79991234567']", NULL));
	const char *vals[] = { "198.51.100.7", "not a value at all", "a.b.EVIL.example.",
		               "203.0.113.99", "http://www.evil.example/login", "x@mail.evil.example",
		               "+7 999 123-45-67", "198.51.100.8", "8.8.8.8", "y@other.example",
		               "z@evil.example" };
	const struct hub_lookup_value *v = lookup(f, vals, 11, NULL, NULL);
	/* one e-mail's domain does not leak into the next one's lookup */
	assert_int_equal(v[9].nhits, 0);
	assert_int_equal(v[10].nhits, 1);
	assert_int_equal(hit(f, &v[10], 0)->via, HUB_VIA_EMAIL_DOMAIN);

	assert_int_equal(v[0].rc, TC_OK);
	assert_int_equal(v[0].nhits, 1);
	assert_int_equal(hit(f, &v[0], 0)->how, INDEX_EXACT);
	assert_string_equal(hit_id(f, &v[0], 0), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30001");
	assert_int_equal(f->out.inds[hit(f, &v[0], 0)->ind].confidence, 80);
	assert_int_not_equal(v[1].rc, TC_OK); /* answered in place, not an error of the call */
	assert_int_equal(v[2].nhits, 1);
	assert_true(text_is(f, v[2].text_off, v[2].text_len, "a.b.evil.example"));
	assert_int_equal(hit(f, &v[2], 0)->how, INDEX_PARENT_DOMAIN);
	assert_true(text_is(f, hit(f, &v[2], 0)->matched_off, hit(f, &v[2], 0)->matched_len,
	                    "evil.example"));
	assert_int_equal(v[3].nhits, 1);
	assert_int_equal(hit(f, &v[3], 0)->how, INDEX_CIDR);
	assert_true(text_is(f, hit(f, &v[3], 0)->matched_off, hit(f, &v[3], 0)->matched_len,
	                    "203.0.113.0/24"));
	assert_int_equal(v[4].kind, OBS_URL);
	assert_int_equal(v[4].nhits, 1);
	assert_int_equal(hit(f, &v[4], 0)->via, HUB_VIA_URL_HOST);
	assert_int_equal(hit(f, &v[4], 0)->how, INDEX_PARENT_DOMAIN);
	assert_int_equal(v[5].nhits, 1);
	assert_int_equal(hit(f, &v[5], 0)->via, HUB_VIA_EMAIL_DOMAIN);
	assert_int_equal(v[6].kind, OBS_PHONE);
	assert_int_equal(v[6].nhits, 1);
	assert_int_equal(v[7].nhits, 0);
	assert_int_equal(v[7].ninactive, 0);
	assert_int_equal(v[8].nhits, 0);
	assert_true(v[8].allowlisted);

	/* the same answers as hub_match, value by value */
	for (size_t i = 0; i < 11; i++) {
		struct hub_match m;
		struct diag d;
		enum tcerr rc = hub_match(f->hub, slice_from_cstr(vals[i]), NULL, &m, &d);
		assert_int_equal(rc != TC_OK, v[i].rc != TC_OK);
		if (rc)
			continue;
		assert_int_equal(m.nhits, v[i].hits_total);
		assert_int_equal(m.kind, v[i].kind);
		for (size_t k = 0; k < m.nhits; k++)
			assert_string_equal(m.hits[k].indicator_id, hit_id(f, &v[i], k));
	}
}

static void
test_expired_and_revoked(void **state)
{
	struct fixture *f = *state;
	ingest1(f, indicator("0010", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'old.example']",
	                     ",\"valid_until\":\"2024-06-01T00:00:00Z\""));
	ingest1(f, indicator("0011", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'gone.example']", NULL));
	const char *vals[] = { "gone.example", "old.example" };
	const struct hub_lookup_value *v = lookup(f, vals, 2, NULL, NULL);
	assert_int_equal(v[0].nhits, 1); /* cached now */
	assert_int_equal(v[1].nhits, 0);
	assert_int_equal(v[1].ninactive, 1);
	assert_int_equal(hit(f, &v[1], 0)->state, HUB_HIT_EXPIRED);

	/* revoked: the cached entry must not survive the new version */
	ingest1(f, indicator("0011", "2024-02-01T00:00:00.000Z",
	                     "[domain-name:value = 'gone.example']", ",\"revoked\":true"));
	v = lookup(f, vals, 2, NULL, NULL);
	assert_int_equal(v[0].nhits, 0);
	assert_int_equal(v[0].ninactive, 1);
	assert_int_equal(hit(f, &v[0], 0)->state, HUB_HIT_REVOKED);
	assert_string_equal(hit_id(f, &v[0], 0), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30011");
}

static void
test_new_version_changes_value(void **state)
{
	struct fixture *f = *state;
	ingest1(f, indicator("0020", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'first.example']", NULL));
	const char *vals[] = { "first.example", "second.example" };
	const struct hub_lookup_value *v = lookup(f, vals, 2, NULL, NULL);
	assert_int_equal(v[0].nhits, 1);
	ingest1(f, indicator("0020", "2024-02-01T00:00:00.000Z",
	                     "[domain-name:value = 'second.example']", NULL));
	v = lookup(f, vals, 2, NULL, NULL);
	assert_int_equal(v[0].nhits, 0);
	assert_int_equal(v[1].nhits, 1);
}

/* The writer's queued index changes keep their order: a new version that
 * names the same value leaves it indexed (removal, then addition), in
 * separate batches and in one; deleting the newest version brings the
 * value of the one before back. */
static void
test_same_value_versions_and_delete(void **state)
{
	struct fixture *f = *state;
	const char *vals[] = { "keep.example", "old.example", "new.example" };
	ingest1(f, indicator("0040", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'keep.example']", NULL));
	const struct hub_lookup_value *v = lookup(f, vals, 1, NULL, NULL);
	assert_int_equal(v[0].nhits, 1);
	ingest1(f, indicator("0040", "2024-02-01T00:00:00.000Z",
	                     "[domain-name:value = 'keep.example']", ",\"confidence\":70"));
	v = lookup(f, vals, 1, NULL, NULL);
	assert_int_equal(v[0].nhits, 1);
	assert_int_equal(f->out.inds[hit(f, &v[0], 0)->ind].confidence, 70); /* not the cached v1 */

	/* two versions of one object in one batch */
	json_t *objs[2] = {
		indicator("0041", "2024-01-01T00:00:00.000Z", "[domain-name:value = 'old.example']",
		          NULL),
		indicator("0041", "2024-02-01T00:00:00.000Z", "[domain-name:value = 'new.example']",
		          NULL),
	};
	struct hub_result r[2];
	struct diag d;
	assert_int_equal(hub_ingest(f->hub, f->coll, objs, NULL, 2, r, &d), TC_OK);
	json_decref(objs[0]);
	json_decref(objs[1]);
	v = lookup(f, vals, 3, NULL, NULL);
	assert_int_equal(v[0].nhits, 1);
	assert_int_equal(v[1].nhits, 0);
	assert_int_equal(v[2].nhits, 1);

	/* delete the newest version: the one before is current again */
	struct store_delete_out out;
	int64_t newest = 1706745600000000LL; /* 2024-02-01T00:00:00Z */
	struct store_delete_q q = { .collection = f->coll,
		                    .id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30041",
		                    .version_us = &newest, .nversion_us = 1 };
	assert_int_equal(hub_delete(f->hub, &q, NULL, NULL, &out, &d), TC_OK);
	assert_int_equal(out.deleted, 1);
	v = lookup(f, vals, 3, NULL, NULL);
	assert_int_equal(v[1].nhits, 1);
	assert_int_equal(v[2].nhits, 0);
}

/* Hides every indicator whose id ends in "0031". */
static bool
hide_31(void *ctx, const struct store_row *row)
{
	(*(int *)ctx)++;
	size_t n = strlen(row->id);
	return !(n >= 4 && strcmp(row->id + n - 4, "0031") == 0);
}

static void
test_hidden_is_as_if_absent(void **state)
{
	struct fixture *f = *state;
	int asked = 0;
	ingest1(f, indicator("0030", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'shared.example']", NULL));
	ingest1(f, indicator("0031", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'shared.example'] OR [domain-name:value = "
	                     "'secret.example'] OR [domain-name:value = 'secretgone.example']",
	                     NULL));
	const char *vals[] = { "shared.example", "secret.example", "x.secret.example",
		               "secretgone.example", "never.example" };
	const struct hub_lookup_value *v = lookup(f, vals, 5, hide_31, &asked);
	assert_true(asked > 0);
	assert_int_equal(v[0].nhits, 1);
	assert_int_equal(v[0].hits_total, 1);
	assert_string_equal(hit_id(f, &v[0], 0), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30030");
	for (size_t i = 1; i < 5; i++) {
		assert_int_equal(v[i].nhits, 0);
		assert_int_equal(v[i].hits_total, 0);
		assert_int_equal(v[i].ninactive, 0);
	}
	/* revoked and expired details of a hidden indicator stay hidden too */
	ingest1(f, indicator("0031", "2024-02-01T00:00:00.000Z",
	                     "[domain-name:value = 'secretgone.example']", ",\"revoked\":true"));
	v = lookup(f, vals, 5, hide_31, &asked);
	assert_int_equal(v[3].nhits, 0);
	assert_int_equal(v[3].ninactive, 0);
	v = lookup(f, vals, 5, NULL, NULL);
	assert_int_equal(v[3].ninactive, 1); /* the operator sees it */
}

struct writer_arg {
	struct fixture *f;
	int n;
};

static void *
writer_main(void *p)
{
	struct writer_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		char tail[16], pat[128];
		snprintf(tail, sizeof tail, "%04d", 1000 + i);
		snprintf(pat, sizeof pat, "[domain-name:value = 'w%d.example']", i);
		json_t *obj = indicator(tail, "2024-01-01T00:00:00.000Z", pat, NULL);
		struct hub_result r;
		struct diag d;
		if (hub_ingest(a->f->hub, a->f->coll, &obj, NULL, 1, &r, &d) != TC_OK)
			abort();
		json_decref(obj);
	}
	return NULL;
}

/* Lookups on this thread while another ingests: every answer is whole,
 * and once the writer is done every value hits. */
static void
test_concurrent_with_writer(void **state)
{
	struct fixture *f = *state;
	struct writer_arg a = { f, 200 };
	pthread_t t;
	char names[8][32];
	const char *vals[8];
	for (int i = 0; i < 8; i++) {
		snprintf(names[i], sizeof names[i], "w%d.example", i * 25);
		vals[i] = names[i];
	}
	assert_int_equal(pthread_create(&t, NULL, writer_main, &a), 0);
	for (int round = 0; round < 200; round++) {
		const struct hub_lookup_value *v = lookup(f, vals, 8, NULL, NULL);
		for (int i = 0; i < 8; i++)
			assert_true(v[i].nhits <= 1);
	}
	pthread_join(t, NULL);
	const struct hub_lookup_value *v = lookup(f, vals, 8, NULL, NULL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(v[i].nhits, 1);
}

struct flip_arg {
	struct fixture *f;
	int n;
};

/* New versions of one indicator, naming a.example and b.example in turn. */
static void *
flip_main(void *p)
{
	struct flip_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		char modified[40], pat[80];
		snprintf(modified, sizeof modified, "2024-03-01T00:%02d:%02d.000Z", i / 60, i % 60);
		snprintf(pat, sizeof pat, "[domain-name:value = '%s.example']", i % 2 ? "b" : "a");
		json_t *obj = indicator("0050", modified, pat, NULL);
		struct hub_result r;
		struct diag d;
		if (hub_ingest(a->f->hub, a->f->coll, &obj, NULL, 1, &r, &d) != TC_OK ||
		    r.verdict != HUB_ACCEPTED)
			abort();
		json_decref(obj);
	}
	return NULL;
}

/* While the writer flips the value, a reader never sees both values hit
 * (index and cache of one state); after it, exactly the last one. */
static void
test_concurrent_versions(void **state)
{
	struct fixture *f = *state;
	struct flip_arg a = { f, 201 };
	const char *vals[] = { "a.example", "b.example" };
	pthread_t t;
	int both = 0;
	assert_int_equal(pthread_create(&t, NULL, flip_main, &a), 0);
	for (int round = 0; round < 400; round++) {
		const struct hub_lookup_value *v = lookup(f, vals, 2, NULL, NULL);
		both += v[0].nhits && v[1].nhits;
	}
	pthread_join(t, NULL);
	assert_int_equal(both, 0);
	const struct hub_lookup_value *v = lookup(f, vals, 2, NULL, NULL);
	assert_int_equal(v[0].nhits, 1); /* version 200 names a.example */
	assert_int_equal(v[1].nhits, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_kinds_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_and_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_version_changes_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_value_versions_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_is_as_if_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_with_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_versions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
