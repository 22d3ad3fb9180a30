/*
 * Unit tests of lib/hub/hub.c: the ingest path and matching through a real
 * SQLite data directory in a temporary folder.
 */
#include <dirent.h>
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

struct fixture {
	char dir[256];
	struct hub *hub;
	int64_t coll;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;
	struct store_collection c;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-hub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(hub_collection(f->hub, NULL, &c, &d), TC_OK);
	f->coll = c.num;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *
indicator(const char *uuid_tail, const char *modified, const char *pattern, const char *extra)
{
	char text[2048];
	json_error_t e;
	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	         "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%s\","
	         "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	         "\"pattern\":\"%s\",\"pattern_type\":\"stix\","
	         "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}",
	         uuid_tail, modified, pattern, extra ? extra : "");
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static void
ingest1(struct fixture *f, json_t *obj, enum hub_verdict want)
{
	struct hub_result r;
	struct diag d;
	assert_int_equal(hub_ingest(f->hub, f->coll, &obj, NULL, 1, &r, &d), TC_OK);
	if (r.verdict != want)
		fail_msg("verdict %d, want %d: %s", r.verdict, want, r.why);
	json_decref(obj);
}

static size_t
match(struct fixture *f, const char *value, struct hub_match *m)
{
	struct diag d;
	assert_int_equal(hub_match(f->hub, slice_from_cstr(value), NULL, m, &d), TC_OK);
	return m->nhits;
}

static void
test_ingest_and_match(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;

	ingest1(f, indicator("0001", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example']",
	                     NULL),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0002", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '203.0.113.0/24']", NULL),
	        HUB_ACCEPTED);

	assert_int_equal(match(f, "198.51.100.7", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_EXACT);
	assert_string_equal(m.hits[0].indicator_id,
	                    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30001");
	assert_string_equal(m.hits[0].collection, "default");

	assert_int_equal(match(f, "a.b.EVIL.example.", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_PARENT_DOMAIN);
	assert_string_equal(m.hits[0].matched, "evil.example");

	assert_int_equal(match(f, "203.0.113.99", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_CIDR);
	assert_string_equal(m.hits[0].matched, "203.0.113.0/24");

	assert_int_equal(match(f, "198.51.100.8", &m), 0);
	assert_int_equal(match(f, "8.8.8.8", &m), 0);
	assert_true(m.allowlisted);
}

static void
test_duplicate_version_and_revocation(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	const char *p1 = "[domain-name:value = 'one.example']";
	const char *p2 = "[domain-name:value = 'two.example']";

	ingest1(f, indicator("0003", "2024-01-01T00:00:00.000Z", p1, NULL), HUB_ACCEPTED);
	ingest1(f, indicator("0003", "2024-01-01T00:00:00.000Z", p1, NULL), HUB_DUPLICATE);
	assert_int_equal(match(f, "one.example", &m), 1);
	/* a new version that names another value replaces the first in the index */
	ingest1(f, indicator("0003", "2024-02-01T00:00:00.000Z", p2, NULL), HUB_ACCEPTED);
	assert_int_equal(match(f, "one.example", &m), 0);
	assert_int_equal(match(f, "two.example", &m), 1);
	/* an older version arriving late changes nothing */
	ingest1(f, indicator("0003", "2024-01-15T00:00:00.000Z", p1, NULL), HUB_ACCEPTED);
	assert_int_equal(match(f, "one.example", &m), 0);
	/* revocation removes it */
	ingest1(f, indicator("0003", "2024-03-01T00:00:00.000Z", p2, ",\"revoked\":true"),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "two.example", &m), 0);
}

static void
test_expired_does_not_match(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	ingest1(f, indicator("0004", "2024-01-01T00:00:00.000Z",
	                     "[url:value = 'http://old.example/x']",
	                     ",\"valid_until\":\"2024-06-01T00:00:00Z\""),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "http://old.example/x", &m), 0);
	ingest1(f, indicator("0005", "2024-01-01T00:00:00.000Z",
	                     "[url:value = 'HTTP://New.Example:80/a/../x']",
	                     ",\"valid_until\":\"2999-01-01T00:00:00Z\""),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "http://new.example/x", &m), 1);
}

static void
test_rejections_keep_the_rest(void **state)
{
	struct fixture *f = *state;
	struct hub_result r[3];
	struct diag d;
	struct hub_match m;
	json_t *objs[3] = {
		indicator("0006", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.77']", NULL),
		indicator("0007", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.78'",
		          NULL),
		indicator("0008", "2023-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.79']",
		          NULL),
	};
	const char *paths[3] = { "objects[0]", "objects[1]", "objects[2]" };

	assert_int_equal(hub_ingest(f->hub, f->coll, objs, paths, 3, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_ACCEPTED);
	assert_int_equal(r[1].verdict, HUB_REJECTED);
	assert_non_null(strstr(r[1].why, "objects[1].pattern"));
	assert_int_equal(r[2].verdict, HUB_REJECTED); /* modified before created */
	assert_non_null(strstr(r[2].why, "objects[2].modified"));
	assert_int_equal(match(f, "192.0.2.77", &m), 1);
	assert_int_equal(match(f, "192.0.2.78", &m), 0);
	for (int i = 0; i < 3; i++)
		json_decref(objs[i]);
}

/* The daemon's split: hub_prepare in a request thread, then
 * hub_ingest_items with the valid items only; stored text as given. */
static void
test_prepare_then_ingest(void **state)
{
	struct fixture *f = *state;
	struct hub_result r[3], r2[2];
	struct hub_prep *prep = NULL;
	struct diag d;
	struct hub_match m;
	struct hub_item it[3];
	const char *paths[3] = { "objects[0]", "objects[1]", "objects[2]" };
	json_t *objs[3] = {
		indicator("0020", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.80']", NULL),
		indicator("0021", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.81'",
		          NULL),
		indicator("0022", "2024-01-01T00:00:00.000Z", "[domain-name:value = 'p.example']",
		          NULL),
	};
	char *text = json_dumps(objs[2], JSON_COMPACT);
	assert_non_null(text);
	for (int i = 0; i < 3; i++)
		it[i] = (struct hub_item){ .obj = objs[i], .path = paths[i], .collection = f->coll };
	it[2].text = slice_from_cstr(text);

	assert_int_equal(hub_prepare(hub_obs_ctx(f->hub), it, 3, r, &prep, &d), TC_OK);
	assert_int_equal(r[0].verdict, 0);
	assert_non_null(it[0].meta);
	assert_int_equal(it[0].nobs, 1);
	assert_int_equal(r[1].verdict, HUB_REJECTED);
	assert_non_null(strstr(r[1].why, "objects[1].pattern"));
	assert_null(it[1].meta);
	/* nothing is stored or indexed before the commit */
	assert_int_equal(match(f, "192.0.2.80", &m), 0);

	struct hub_item ok[2] = { it[0], it[2] };
	assert_int_equal(hub_ingest_items(f->hub, ok, 2, r2, &d), TC_OK);
	assert_int_equal(r2[0].verdict, HUB_ACCEPTED);
	assert_int_equal(r2[1].verdict, HUB_ACCEPTED);
	assert_string_equal(r2[1].id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30022");
	assert_int_equal(match(f, "192.0.2.80", &m), 1);
	assert_int_equal(match(f, "p.example", &m), 1);
	hub_prep_free(prep);
	free(text);
	for (int i = 0; i < 3; i++)
		json_decref(objs[i]);
}

static void
test_reopen_rebuilds_index(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	struct diag d;
	ingest1(f, indicator("0009", "2024-01-01T00:00:00.000Z",
	                     "[x-tocsin-phone-number:value = '+79991234567']", NULL),
	        HUB_ACCEPTED);
	hub_close(f->hub);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(match(f, "+7 (999) 123-45-67", &m), 1);
}

struct seen {
	size_t n;
	int64_t producer[8], collection[8], date_added[8];
	char id[8][80];
	char key[8][40];
};

static enum store_row_verdict
seen_row(void *ctx, const struct store_row *r)
{
	struct seen *s = ctx;
	assert_true(s->n < 8);
	s->producer[s->n] = r->producer;
	s->collection[s->n] = r->collection;
	s->date_added[s->n] = r->date_added_us;
	snprintf(s->id[s->n], sizeof(s->id[0]), "%s", r->id);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", r->key_id);
	s->n++;
	return STORE_ROW_TAKE;
}

/* The daemon's group commit: one batch, two collections, three producers. */
static void
test_ingest_items_mixed_batch(void **state)
{
	struct fixture *f = *state;
	struct store_collection c2;
	struct diag d;
	struct hub_match m;
	assert_int_equal(store_collection_add(hub_store(f->hub), "second", NULL, NULL, NULL, &c2, &d),
	                 TC_OK);
	const char *pa1 = "[domain-name:value = 'a1.example']";
	const char *pa2 = "[domain-name:value = 'a2.example']";
	const char *pb = "[domain-name:value = 'b.example']";
	const int64_t migrated = 1600000000000000LL;
	struct hub_item it[6] = {
		{ indicator("0010", "2024-01-01T00:00:00.000Z", pa1, NULL), "objects[0]", f->coll, 5, 0, { NULL, 0 }, NULL, NULL, 0, "kaaaaaaaaaaa", false, NULL, NULL, { 0 }, false, false },
		{ indicator("0011", "2024-01-01T00:00:00.000Z", pb, NULL), "objects[1]", c2.num, 6,
		  migrated, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false },
		/* a new version of 0010 from another organisation */
		{ indicator("0010", "2024-02-01T00:00:00.000Z", pa2, NULL), "objects[2]", f->coll, 6, 0, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false },
		/* the same id in the other collection is another object */
		{ indicator("0010", "2024-01-01T00:00:00.000Z", pa1, NULL), "objects[3]", c2.num, 6, 0, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false },
		/* the hub versions anything */
		{ indicator("0011", "2024-02-01T00:00:00.000Z", pb, NULL), "objects[4]", c2.num, 0, 0, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false },
		{ indicator("0012", "2024-01-01T00:00:00.000Z", "[bad", NULL), "objects[5]", f->coll, 5,
		  0, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false },
	};
	struct hub_result r[6];
	assert_int_equal(hub_ingest_items(f->hub, it, 6, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_ACCEPTED);
	assert_int_equal(r[1].verdict, HUB_ACCEPTED);
	assert_int_equal(r[1].date_added_us, migrated);
	assert_int_equal(r[2].verdict, HUB_REJECTED);
	assert_int_equal(r[2].rc, TC_EPERM);
	assert_string_equal(r[2].id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30010");
	assert_non_null(strstr(r[2].why, "objects[2]: "));
	assert_non_null(strstr(r[2].why, "only its producer may add versions"));
	assert_int_equal(r[3].verdict, HUB_ACCEPTED);
	assert_int_equal(r[4].verdict, HUB_ACCEPTED);
	assert_int_equal(r[5].verdict, HUB_REJECTED);
	assert_int_equal(r[5].rc, TC_EINVAL);
	/* seqs in batch order, the refused ones took none */
	assert_int_equal(r[1].seq, r[0].seq + 1);
	assert_int_equal(r[3].seq, r[1].seq + 1);
	assert_int_equal(r[4].seq, r[3].seq + 1);

	assert_int_equal(match(f, "a1.example", &m), 2);
	assert_int_equal(match(f, "a2.example", &m), 0);
	assert_int_equal(match(f, "b.example", &m), 1);
	assert_string_equal(m.hits[0].collection, "second");

	/* what the store holds: collection, producer and date_added per version */
	struct seen s = { 0 };
	struct store_query q = { .versions = STORE_V_ALL };
	assert_int_equal(store_query(hub_store(f->hub), &q, seen_row, &s, NULL, &d), TC_OK);
	assert_int_equal(s.n, 4);
	/* the migrated date sorts first */
	assert_int_equal(s.date_added[0], migrated);
	assert_int_equal(s.collection[0], c2.num);
	assert_int_equal(s.producer[0], 6);
	assert_int_equal(s.collection[1], f->coll);
	assert_int_equal(s.producer[1], 5);
	/* the key that posted it is kept with the version (issue 8) */
	assert_string_equal(s.key[1], "kaaaaaaaaaaa");
	assert_string_equal(s.key[0], "");
	assert_int_equal(s.collection[2], c2.num);
	assert_int_equal(s.producer[2], 6);
	assert_int_equal(s.producer[3], 0);
	/* the producer's own new version is accepted */
	struct hub_item again = { indicator("0010", "2024-02-01T00:00:00.000Z", pa2, NULL), NULL,
		                  f->coll, 5, 0, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false };
	assert_int_equal(hub_ingest_items(f->hub, &again, 1, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_ACCEPTED);
	assert_int_equal(match(f, "a2.example", &m), 1);
	json_decref(again.obj);
	/* and a negative date_added is refused on its own */
	again = (struct hub_item){ indicator("0013", "2024-01-01T00:00:00.000Z", pa2, NULL),
		                   "x", f->coll, 5, -1, { NULL, 0 }, NULL, NULL, 0, NULL, false, NULL, NULL, { 0 }, false, false };
	assert_int_equal(hub_ingest_items(f->hub, &again, 1, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_REJECTED);
	json_decref(again.obj);
	for (int i = 0; i < 6; i++)
		json_decref(it[i].obj);
}

static void
hub_delete1(struct fixture *f, const char *tail, unsigned versions, size_t want)
{
	char id[80];
	struct diag d;
	struct store_delete_out out;
	snprintf(id, sizeof(id), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%s", tail);
	struct store_delete_q q = { .collection = f->coll, .id = id, .versions = versions };
	assert_int_equal(hub_delete(f->hub, &q, NULL, NULL, &out, &d), TC_OK);
	assert_int_equal(out.deleted, want);
}

static void
test_delete_keeps_index_in_step(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	struct diag d;
	const char *p1 = "[domain-name:value = 'first.example']";
	const char *p2 = "[domain-name:value = 'second.example']";
	ingest1(f, indicator("0020", "2024-01-01T00:00:00.000Z", p1, NULL), HUB_ACCEPTED);
	ingest1(f, indicator("0020", "2024-02-01T00:00:00.000Z", p2, NULL), HUB_ACCEPTED);
	ingest1(f, indicator("0021", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '192.0.2.10']", NULL),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "first.example", &m), 0);
	assert_int_equal(match(f, "second.example", &m), 1);
	assert_int_equal(index_count(hub_index(f->hub)), 2);
	/* deleting the newest version brings the older one back */
	hub_delete1(f, "0020", STORE_V_LAST, 1);
	assert_int_equal(match(f, "second.example", &m), 0);
	assert_int_equal(match(f, "first.example", &m), 1);
	assert_string_equal(m.hits[0].indicator_id,
	                    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30020");
	/* the index itself, not only the confirmed matches, follows */
	assert_int_equal(index_count(hub_index(f->hub)), 2);
	/* deleting the object removes it */
	hub_delete1(f, "0021", 0, 1);
	assert_int_equal(match(f, "192.0.2.10", &m), 0);
	assert_int_equal(index_count(hub_index(f->hub)), 1);
	hub_delete1(f, "0020", 0, 1);
	assert_int_equal(match(f, "first.example", &m), 0);
	assert_int_equal(index_count(hub_index(f->hub)), 0);
	hub_delete1(f, "0020", 0, 0);
	/* and a reopened hub agrees */
	hub_close(f->hub);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(match(f, "first.example", &m), 0);
	assert_int_equal(match(f, "second.example", &m), 0);
	assert_int_equal(match(f, "192.0.2.10", &m), 0);
	assert_int_equal(index_count(hub_index(f->hub)), 0);
}

static void
test_open_uninitialised(void **state)
{
	struct hub *h;
	struct diag d;
	assert_int_equal(hub_open("/nonexistent/tocsin", &h, &d), TC_ENOTFOUND);
	assert_non_null(strstr(d.msg, "tocsin init"));
	struct fixture *f = *state;
	assert_int_equal(hub_init(f->dir, &d), TC_EEXIST);
}


/* issue 8 point 12: a URL or an e-mail address under a listed domain is a
 * hit; an expired or revoked indicator is said to be one on a miss, also
 * when the revocation arrives after the revoked index was built. */
static void
test_match_via_host_expired_revoked(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;

	ingest1(f, indicator("0030", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'evil.example']", NULL),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0031", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'old.example']",
	                     ",\"valid_until\":\"2024-06-01T00:00:00Z\""),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0032", "2024-01-01T00:00:00.000Z",
	                     "[domain-name:value = 'gone.example']", NULL),
	        HUB_ACCEPTED);

	assert_int_equal(match(f, "http://a.evil.example/x", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_PARENT_DOMAIN);
	assert_int_equal(m.hits[0].via, HUB_VIA_URL_HOST);
	assert_string_equal(m.hits[0].matched, "evil.example");
	assert_int_equal(match(f, "user@evil.example", &m), 1);
	assert_int_equal(m.hits[0].via, HUB_VIA_EMAIL_DOMAIN);
	assert_int_equal(m.ninactive, 0);

	assert_int_equal(match(f, "old.example", &m), 0);
	assert_int_equal(m.ninactive, 1);
	assert_int_equal(m.inactive[0].state, HUB_HIT_EXPIRED);
	assert_string_equal(m.inactive[0].indicator_id,
	                    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30031");
	assert_int_equal(m.inactive[0].valid_until_us, INT64_C(1717200000000000));

	assert_int_equal(match(f, "gone.example", &m), 1);
	/* a miss builds the revoked index (empty so far) */
	assert_int_equal(match(f, "never.example", &m), 0);
	assert_int_equal(m.ninactive, 0);
	ingest1(f, indicator("0032", "2024-02-01T00:00:00.000Z",
	                     "[domain-name:value = 'gone.example']", ",\"revoked\":true"),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "www.gone.example", &m), 0);
	assert_int_equal(m.ninactive, 1);
	assert_int_equal(m.inactive[0].state, HUB_HIT_REVOKED);
	assert_int_equal(m.inactive[0].how, INDEX_PARENT_DOMAIN);
	/* and a reopened hub agrees */
	struct diag d;
	hub_close(f->hub);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(match(f, "gone.example", &m), 0);
	assert_int_equal(m.ninactive, 1);
	assert_int_equal(m.inactive[0].state, HUB_HIT_REVOKED);
	assert_int_equal(match(f, "never.example", &m), 0);
	assert_int_equal(m.ninactive, 0);
}

/* ---- issue 8: indicators that would block everything; allowlist warnings ---- */

static struct hub_result
ingest_r(struct fixture *f, json_t *obj)
{
	struct hub_result r;
	struct diag d;
	const char *path = "objects[0]";
	assert_int_equal(hub_ingest(f->hub, f->coll, &obj, &path, 1, &r, &d), TC_OK);
	json_decref(obj);
	return r;
}

static void
test_breadth_refused(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *pattern, *says;
	} cases[] = {
		{ "[ipv4-addr:value = '0.0.0.0/0']", "'0.0.0.0/0' would block every IPv4 address" },
		{ "[ipv6-addr:value = '::/0']", "'::/0' would block every IPv6 address" },
		{ "[ipv4-addr:value = '64.0.0.0/2']", "wider than /8" },
		{ "[ipv6-addr:value = '2001::/16']", "wider than /32" },
		{ "[domain-name:value = 'com']", "'com' is a top-level domain" },
		{ "[domain-name:value = 'co.uk']", "'co.uk' is a public suffix" },
		{ "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '0.0.0.0/0']",
		  "'0.0.0.0/0'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hub_result r = ingest_r(f, indicator("0100", "2024-01-01T00:00:00.000Z",
		                                            cases[i].pattern, NULL));
		if (r.verdict != HUB_REJECTED || !strstr(r.why, cases[i].says))
			fail_msg("%s: verdict %d, why '%s'", cases[i].pattern, r.verdict, r.why);
		assert_true(strncmp(r.why, "objects[0]: ", 12) == 0);
	}
	/* the limits themselves pass; an SCO naming a wide network is an
	 * observation, not a block */
	ingest1(f, indicator("0101", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '45.0.0.0/8']", NULL),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0102", "2024-01-01T00:00:00.000Z", "[ipv6-addr:value = '2001:db8::/32']", NULL),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0103", "2024-01-01T00:00:00.000Z", "[domain-name:value = 'evil.co.uk']", NULL),
	        HUB_ACCEPTED);
	json_t *sco = json_loads("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\",\"value\":\"0.0.0.0/0\"}", 0, NULL);
	assert_non_null(sco);
	ingest1(f, sco, HUB_ACCEPTED);

	/* configured limits: /16 and /48 */
	hub_set_widest_prefix(f->hub, 16, 48);
	struct hub_result r = ingest_r(f, indicator("0104", "2024-01-01T00:00:00.000Z",
	                                            "[ipv4-addr:value = '46.0.0.0/8']", NULL));
	assert_int_equal(r.verdict, HUB_REJECTED);
	assert_non_null(strstr(r.why, "wider than /16 (widest_prefix_v4)"));
	ingest1(f, indicator("0105", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '46.1.0.0/16']", NULL),
	        HUB_ACCEPTED);
}

static void
test_allowlisted_accepted_with_warning(void **state)
{
	struct fixture *f = *state;
	struct hub_result r = ingest_r(f, indicator("0200", "2024-01-01T00:00:00.000Z",
	                                            "[ipv4-addr:value = '8.8.8.8']", NULL));
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_true(r.warned);
	assert_string_equal(r.why, "objects[0]: warning: 8.8.8.8 is on the built-in allowlist "
	                           "(Google Public DNS): accepted, but never exported for blocking");
	r = ingest_r(f, indicator("0201", "2024-01-01T00:00:00.000Z",
	                          "[ipv4-addr:value = '8.0.0.0/8']", NULL));
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_non_null(strstr(r.why, "8.0.0.0/8 holds 8.8.4.4, on the built-in allowlist (Google Public DNS)"));
	r = ingest_r(f, indicator("0202", "2024-01-01T00:00:00.000Z",
	                          "[domain-name:value = 'evil.example']", NULL));
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_false(r.warned);
	assert_string_equal(r.why, "");

	/* a local entry, picked up by a reload, names its file and reason */
	char path[400];
	snprintf(path, sizeof path, "%s/allowlist.txt", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("evil2.example # partner's portal\n", fp);
	fclose(fp);
	bool reloaded = false;
	struct diag d;
	assert_int_equal(hub_allowlist_reload(f->hub, false, &reloaded, &d), TC_OK);
	assert_true(reloaded);
	assert_int_equal(hub_allowlist_reload(f->hub, false, &reloaded, &d), TC_OK);
	assert_false(reloaded);
	r = ingest_r(f, indicator("0203", "2024-01-01T00:00:00.000Z",
	                          "[url:value = 'http://evil2.example/']", NULL));
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_true(r.warned);
	assert_non_null(strstr(r.why, "allowlist.txt (partner's portal)"));

	/* a bad file keeps the allowlist in force */
	fp = fopen(path, "w");
	fputs("not a value at all\n", fp);
	fclose(fp);
	assert_int_not_equal(hub_allowlist_reload(f->hub, true, &reloaded, &d), TC_OK);
	assert_false(reloaded);
	assert_non_null(strstr(d.msg, "allowlist.txt:1:"));
	struct allowlist *al = hub_allowlist_get(f->hub);
	assert_true(allowlist_check(al, OBS_DOMAIN, slice_from_cstr("evil2.example"), NULL));
	allowlist_free(al);
}

/* ---- payment cards (docs/extensions.md: never in clear) ---- */

#define PAN1 "4111111111111111"
#define PAN2 "5500000000000004"

/* True if any file of dir holds needle (the store, its WAL, anything). */
static bool
dir_holds(const char *dir, const char *needle)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	bool found = false;
	assert_non_null(dh);
	while (!found && (e = readdir(dh))) {
		char path[600];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *fp = fopen(path, "rb");
		if (!fp)
			continue;
		static char buf[1 << 20];
		size_t n, nl = strlen(needle), keep = 0;
		while (!found && (n = fread(buf + keep, 1, sizeof(buf) - keep, fp)) > 0) {
			n += keep;
			found = memmem(buf, n, needle, nl) != NULL;
			keep = n >= nl ? nl - 1 : n;
			memmove(buf, buf + n - keep, keep);
		}
		fclose(fp);
	}
	closedir(dh);
	return found;
}

static void
test_card_numbers_hashed_before_storing(void **state)
{
	struct fixture *f = *state;
	struct hub_result r[2], r2[2];
	struct hub_prep *prep = NULL;
	struct hub_match m;
	struct diag d;
	json_t *objs[2] = {
		indicator("0040", "2024-01-01T00:00:00.000Z",
		          "[x-tocsin-payment-card:value = '" PAN1 "'] OR "
		          "[x-tocsin-payment-card:value IN ('5500 0000 0000 0004', "
		          "'hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9')]",
		          NULL),
		indicator("0041", "2024-01-01T00:00:00.000Z",
		          "[x-tocsin-payment-card:value != '4111-1111-1111-1111' AND "
		          "ipv4-addr:value = '192.0.2.1']",
		          NULL),
	};
	/* the daemon hands the received text: it must not be what is stored */
	char *text = json_dumps(objs[0], JSON_COMPACT);
	struct hub_item it[2] = {
		{ .obj = objs[0], .path = "objects[0]", .collection = f->coll,
		  .text = slice_from_cstr(text) },
		{ .obj = objs[1], .path = "objects[1]", .collection = f->coll },
	};
	assert_int_equal(hub_prepare(hub_obs_ctx(f->hub), it, 2, r, &prep, &d), TC_OK);
	assert_int_equal(r[0].verdict, 0);
	assert_int_equal(r[1].verdict, 0);
	assert_true(it[0].cards_hashed);
	assert_int_equal(it[0].text.len, 0);
	const char *pat = json_string_value(json_object_get(objs[0], "pattern"));
	assert_null(strstr(pat, PAN1));
	assert_non_null(strstr(pat, "hmac-sha256:"));
	assert_int_equal(hub_ingest_items(f->hub, it, 2, r2, &d), TC_OK);
	assert_int_equal(r2[0].verdict, HUB_ACCEPTED);
	assert_true(r2[0].cards_hashed);
	assert_int_equal(r2[1].verdict, HUB_ACCEPTED);
	assert_true(r2[1].cards_hashed);
	hub_prep_free(prep);
	free(text);
	json_decref(objs[0]);
	json_decref(objs[1]);

	/* the CLI's path (no hub_prepare) does the same */
	ingest1(f, indicator("0042", "2024-01-01T00:00:00.000Z",
	                     "[x-tocsin-payment-card:value = '4012 8888 8888 1881']", NULL),
	        HUB_ACCEPTED);

	/* matched by the number, stored only as its hash */
	assert_int_equal(match(f, "4111 1111 1111 1111", &m), 1);
	assert_string_equal(m.hits[0].indicator_id,
	                    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30040");
	assert_int_equal(match(f, PAN2, &m), 1);
	assert_int_equal(match(f, "4012888888881881", &m), 1);
	assert_false(dir_holds(f->dir, PAN1));
	assert_false(dir_holds(f->dir, "4111-1111-1111-1111"));
	assert_false(dir_holds(f->dir, "5500 0000 0000 0004"));
	assert_false(dir_holds(f->dir, "4012 8888 8888 1881"));
	assert_true(dir_holds(f->dir, "hmac-sha256:"));
}

/* Refused objects: the message says why and never holds the digits. */
static void
reject_no_digits(struct fixture *f, json_t *obj, const char *want)
{
	struct hub_result r;
	struct diag d;
	const char *path = "objects[0]";
	assert_int_equal(hub_ingest(f->hub, f->coll, &obj, &path, 1, &r, &d), TC_OK);
	if (r.verdict != HUB_REJECTED)
		fail_msg("accepted, want a rejection with '%s'", want);
	if (!strstr(r.why, want))
		fail_msg("why '%s' lacks '%s'", r.why, want);
	if (strstr(r.why, "4111") || strstr(r.why, "1111 1111") || strstr(r.why, "0000000"))
		fail_msg("why quotes the digits: %s", r.why);
	json_decref(obj);
}

static json_t *
card_sco(const char *id, const char *value)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:s}}}", "type", "x-tocsin-payment-card",
	                      "spec_version", "2.1", "id", id, "value", value, "extensions",
	                      "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c03",
	                      "extension_type", "new-sco");
	assert_non_null(j);
	return j;
}

static void
test_card_numbers_refused_without_echo(void **state)
{
	struct fixture *f = *state;
	reject_no_digits(f, indicator("0050", "2024-01-01T00:00:00.000Z",
	                              "[x-tocsin-payment-card:value LIKE '" PAN1 "%']", NULL),
	                 "may be compared only with =, != or IN");
	reject_no_digits(f, indicator("0051", "2024-01-01T00:00:00.000Z",
	                              "[x-tocsin-payment-card:value = '4111111111111112']", NULL),
	                 "Luhn");
	reject_no_digits(f, indicator("0052", "2024-01-01T00:00:00.000Z",
	                              "[x-tocsin-payment-card:value = 4111111111111111]", NULL),
	                 "must be compared with strings");
	/* the pattern parser and other paths do not quote it either */
	reject_no_digits(f, indicator("0053", "2024-01-01T00:00:00.000Z",
	                              "[x-tocsin-payment-card:value = '" PAN1 "' '" PAN1 "']",
	                              NULL),
	                 "not quoted");
	reject_no_digits(f, indicator("0054", "2024-01-01T00:00:00.000Z",
	                              "[ipv4-addr:value = '4111 1111 1111 1111']", NULL),
	                 "not quoted");
	/* an SCO carries the hash; its id says nothing about the number */
	reject_no_digits(f,
	                 card_sco("x-tocsin-payment-card--9d0abaef-e0c7-56ff-a809-f3adbff4267d",
	                          PAN1),
	                 "a card number in clear is refused");
	reject_no_digits(
	    f,
	    card_sco("x-tocsin-payment-card--9d0abaef-e0c7-56ff-a809-f3adbff4267e",
	             "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9"),
	    "id: must be random (UUIDv4) or the UUIDv5 of the keyed value");
	ingest1(f,
	        card_sco("x-tocsin-payment-card--9d0abaef-e0c7-56ff-a809-f3adbff4267d",
	                 "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9"),
	        HUB_ACCEPTED);
	ingest1(f,
	        card_sco("x-tocsin-payment-card--9d0abaef-e0c7-46ff-a809-f3adbff4267e",
	                 "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9"),
	        HUB_ACCEPTED);
	assert_false(dir_holds(f->dir, PAN1));
}

static void
test_open_without_card_key(void **state)
{
	struct fixture *f = *state;
	char key[600];
	struct diag d;
	hub_close(f->hub);
	f->hub = NULL;
	snprintf(key, sizeof(key), "%s/card.key", f->dir);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	ingest1(f, indicator("0060", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.60']",
	                     NULL),
	        HUB_ACCEPTED);
	reject_no_digits(f, indicator("0061", "2024-01-01T00:00:00.000Z",
	                              "[x-tocsin-payment-card:value = '" PAN1 "']", NULL),
	                 "card.key");
	struct hub_match m;
	assert_int_equal(hub_match(f->hub, SLICE_LIT(PAN1), NULL, &m, &d), TC_EUNSUPPORTED);
	assert_non_null(strstr(d.msg, "card.key"));
}

/* STIX 2.0 (no spec_version, no pattern_type): stored as 2.0, indexed, and
 * its card numbers hashed like 2.1 ones. */
static void
test_stix20_indicator_indexed(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	json_error_t e;
	json_t *o = json_loads(
	    "{\"type\":\"indicator\",\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30070\","
	    "\"created\":\"2017-01-01T00:00:00.000Z\",\"modified\":\"2017-01-01T00:00:00.000Z\","
	    "\"labels\":[\"malicious-activity\"],\"valid_from\":\"2017-01-01T00:00:00Z\","
	    "\"pattern\":\"[domain-name:value = 'old.example'] OR "
	    "[x-tocsin-payment-card:value = '" PAN1 "']\"}",
	    0, &e);
	assert_non_null(o);
	struct hub_result r;
	struct diag d;
	assert_int_equal(hub_ingest(f->hub, f->coll, &o, NULL, 1, &r, &d), TC_OK);
	if (r.verdict != HUB_ACCEPTED)
		fail_msg("%s", r.why);
	assert_true(r.cards_hashed);
	assert_null(json_object_get(o, "spec_version"));
	json_decref(o);
	assert_int_equal(match(f, "old.example", &m), 1);
	assert_int_equal(match(f, PAN1, &m), 1);
	assert_false(dir_holds(f->dir, PAN1));
}

/* ---- issue 8: which marking definitions the hub knows ---- */

#define STATEMENT_A "marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c"
#define STATEMENT_B "marking-definition--5b6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c"
#define UNKNOWN_M "marking-definition--6c6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c"

static json_t *
statement(const char *id)
{
	char text[512];
	snprintf(text, sizeof(text),
	         "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
	         "\"created\":\"2020-01-01T00:00:00.000Z\",\"definition_type\":\"statement\","
	         "\"definition\":{\"statement\":\"Copyright ACME\"}}",
	         id);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static enum store_row_verdict
tlp_row(void *ctx, const struct store_row *r)
{
	*(enum tlp_level *)ctx = r->tlp;
	return STORE_ROW_TAKE;
}

static enum tlp_level
stored_tlp(struct fixture *f, const char *id)
{
	enum tlp_level l = (enum tlp_level)-1;
	const char *ids[1] = {id};
	struct store_query q = {.ids = ids, .nids = 1, .versions = STORE_V_LAST};
	struct diag d;
	assert_int_equal(store_query(hub_store(f->hub), &q, tlp_row, &l, NULL, &d), TC_OK);
	return l;
}

static void
test_markings_the_hub_knows(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	struct hub_result r[2];
	struct diag d;

	/* a statement marking stored earlier: an object marked only by it is
	 * unmarked (default_tlp applies), one that adds AMBER is AMBER */
	ingest1(f, statement(STATEMENT_A), HUB_ACCEPTED);
	ingest1(f, indicator("0101", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's1.example']",
	                     ",\"object_marking_refs\":[\"" STATEMENT_A "\"]"),
	        HUB_ACCEPTED);
	assert_int_equal(stored_tlp(f, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30101"), TLP_NONE);
	ingest1(f, indicator("0102", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's2.example']",
	                     ",\"object_marking_refs\":[\"" STATEMENT_A "\","
	                     "\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]"),
	        HUB_ACCEPTED);
	assert_int_equal(stored_tlp(f, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30102"), TLP_AMBER);
	/* the statement arrives later in the same batch: still known */
	json_t *objs[2] = {
	    indicator("0103", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's3.example']",
	              ",\"object_marking_refs\":[\"" STATEMENT_B "\"]"),
	    statement(STATEMENT_B)};
	assert_int_equal(hub_ingest(f->hub, f->coll, objs, NULL, 2, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_ACCEPTED);
	assert_int_equal(r[1].verdict, HUB_ACCEPTED);
	json_decref(objs[0]);
	json_decref(objs[1]);
	assert_int_equal(stored_tlp(f, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30103"), TLP_NONE);
	/* a marking the hub does not know: RED, in the object or granular */
	ingest1(f, indicator("0104", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's4.example']",
	                     ",\"object_marking_refs\":[\"" UNKNOWN_M "\"]"),
	        HUB_ACCEPTED);
	assert_int_equal(stored_tlp(f, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30104"), TLP_RED);
	ingest1(f, indicator("0105", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's5.example']",
	                     ",\"granular_markings\":[{\"selectors\":[\"pattern\"],"
	                     "\"marking_ref\":\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"}]"),
	        HUB_ACCEPTED);
	assert_int_equal(stored_tlp(f, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30105"), TLP_RED);
	/* match reports what was stored, unmarked ones as TLP_NONE */
	assert_int_equal(match(f, "s1.example", &m), 1);
	assert_int_equal(m.hits[0].tlp, TLP_NONE);
	assert_int_equal(match(f, "s5.example", &m), 1);
	assert_int_equal(m.hits[0].tlp, TLP_RED);
	/* an upper-case TLP id is refused, not taken for unmarked */
	ingest1(f, indicator("0106", "2024-01-01T00:00:00.000Z", "[domain-name:value = 's6.example']",
	                     ",\"object_marking_refs\":[\"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1\"]"),
	        HUB_REJECTED);
}


/* issue 8 point 7: same id and modified, other content: a conflict,
 * judged only against a stored copy the poster may see */
static bool
sees_nothing(void *ctx, const struct store_row *row)
{
	(void)row;
	(*(int *)ctx)++;
	return false;
}

static bool
sees_everything(void *ctx, const struct store_row *row)
{
	(void)row;
	(*(int *)ctx)++;
	return true;
}

static void
test_conflict_is_a_failure(void **state)
{
	struct fixture *f = *state;
	struct hub_result r;
	struct diag d;
	const char *p = "[domain-name:value = 'c.example']";

	ingest1(f, indicator("0201", "2024-01-01T00:00:00.000Z", p, NULL), HUB_ACCEPTED);
	/* the same content again: a duplicate */
	ingest1(f, indicator("0201", "2024-01-01T00:00:00.000Z", p, NULL), HUB_DUPLICATE);
	/* other content, same id and modified: refused with the reason */
	json_t *o = indicator("0201", "2024-01-01T00:00:00.000Z", p, ",\"description\":\"x\"");
	const char *path = "objects[0]";
	assert_int_equal(hub_ingest(f->hub, f->coll, &o, &path, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_REJECTED);
	assert_int_equal(r.rc, TC_EEXIST);
	assert_string_equal(r.why, "objects[0]: conflict: a different version with the same id "
	                           "and modified is already stored");
	/* a poster who sees the stored copy gets the same answers */
	int asked = 0;
	struct hub_item it = {.obj = o, .path = path, .collection = f->coll,
	                      .may_see = sees_everything, .may_see_ctx = &asked};
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_REJECTED);
	assert_int_equal(asked, 1);
	/* one who may not see it is answered as for a new object, and its
	 * copy is not kept: the stored version is unchanged */
	asked = 0;
	it.may_see = sees_nothing;
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_true(r.unseen_copy);
	assert_int_equal(asked, 1);
	json_decref(o);
	o = indicator("0201", "2024-01-01T00:00:00.000Z", p, NULL);
	it.obj = o;
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_ACCEPTED); /* not "duplicate" either */
	assert_true(r.unseen_copy);
	it.may_see = sees_everything;
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_DUPLICATE);
	assert_false(r.unseen_copy);
	json_decref(o);
	/* a new object is never asked about */
	asked = 0;
	o = indicator("0202", "2024-01-01T00:00:00.000Z", p, NULL);
	it.obj = o;
	it.may_see = sees_nothing;
	assert_int_equal(hub_ingest_items(f->hub, &it, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_false(r.unseen_copy);
	assert_int_equal(asked, 0);
	json_decref(o);
}

/* may_see of a poster that sees only the object's first version */
static bool
sees_first_version(void *ctx, const struct store_row *row)
{
	(*(int *)ctx)++;
	return memmem(row->json.p, row->json.len, "2024-01-01T00:00:00.000Z", 24) != NULL;
}

static void
test_foreign_version_tells_nothing(void **state)
{
	struct fixture *f = *state;
	struct hub_result r;
	struct hub_match m;
	struct diag d;
	int asked = 0;

	struct hub_item a = {.obj = indicator("0301", "2024-01-01T00:00:00.000Z",
	                                      "[domain-name:value = 'f1.example']", NULL),
	                     .path = "objects[0]", .collection = f->coll, .producer = 5};
	assert_int_equal(hub_ingest_items(f->hub, &a, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	json_decref(a.obj);

	/* another organisation that sees nothing of it: a new object's answer */
	struct hub_item b = {.obj = indicator("0301", "2024-02-01T00:00:00.000Z",
	                                      "[domain-name:value = 'f2.example']", NULL),
	                     .path = "objects[0]", .collection = f->coll, .producer = 6,
	                     .may_see = sees_nothing, .may_see_ctx = &asked};
	assert_int_equal(hub_ingest_items(f->hub, &b, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_ACCEPTED);
	assert_true(r.unseen_copy);
	assert_int_equal(r.seq, 0);
	assert_string_equal(r.why, "");
	assert_int_equal(asked, 1);
	/* and its version is not kept: the producer's stays current */
	assert_int_equal(match(f, "f2.example", &m), 0);
	assert_int_equal(match(f, "f1.example", &m), 1);
	struct seen s = {0};
	const char *ids[1] = {"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30301"};
	struct store_query q = {
	    .collection = f->coll, .ids = ids, .nids = 1, .versions = STORE_V_ALL};
	assert_int_equal(store_query(hub_store(f->hub), &q, seen_row, &s, NULL, &d), TC_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.producer[0], 5);

	/* one that sees a version is told the producer rule */
	asked = 0;
	b.may_see = sees_first_version;
	assert_int_equal(hub_ingest_items(f->hub, &b, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_REJECTED);
	assert_int_equal(r.rc, TC_EPERM);
	assert_false(r.unseen_copy);
	assert_string_equal(r.why, "objects[0]: another organisation produced this object; only "
	                           "its producer may add versions");
	assert_int_equal(asked, 1);
	/* so is a caller that sees everything (no may_see: the CLI's hub) */
	b.may_see = NULL;
	assert_int_equal(hub_ingest_items(f->hub, &b, 1, &r, &d), TC_OK);
	assert_int_equal(r.verdict, HUB_REJECTED);
	json_decref(b.obj);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ingest_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_breadth_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowlisted_accepted_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_version_and_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_does_not_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejections_keep_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_then_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_rebuilds_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_uninitialised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_items_mixed_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_keeps_index_in_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_via_host_expired_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_numbers_hashed_before_storing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_card_numbers_refused_without_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_without_card_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stix20_indicator_indexed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markings_the_hub_knows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_is_a_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_version_tells_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
