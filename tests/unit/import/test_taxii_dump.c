/* Unit tests of the medallion dump import (import_taxii_dump*.c): the
 * parse step over the files in tests/data/taxii-dump/ (both medallion
 * layouts, per-object rejections, malformed files, every limit), and the
 * ingest step into a hub in a temporary directory (ids kept, date_added
 * kept per version, a second run gives duplicates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "import/import.h"

#define C_HV "6c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"
#define C_24 "0f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c"
#define C_EMPTY "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
#define C_HV2 "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
#define C_M "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
#define C_M2 "1e2d3c4b-5a69-4788-8a9b-0c1d2e3f4a5b"
#define C_R "7f6e5d4c-3b2a-4190-8a7b-6c5d4e3f2a1b"
#define IND1 "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"

static int64_t
us(const char *ts)
{
	int64_t v = 0;
	assert_int_equal(ts_parse(slice_from_cstr(ts), &v, NULL), TC_OK);
	return v;
}

static struct import_dump *
load(const char *file, const struct import_dump_opts *o, enum tcerr want, struct diag *d)
{
	char path[512];
	struct import_dump *dump = NULL;
	snprintf(path, sizeof(path), "%s/%s", DATA_DIR, file);
	enum tcerr rc = import_dump_load(path, o, &dump, d);
	if (rc != want)
		fail_msg("%s: got %s (%s), want %s", file, tcerr_str(rc), d->msg, tcerr_str(want));
	if (want != TC_OK)
		assert_null(dump);
	return dump;
}

static const char *
item_id(const struct import_dump *dump, size_t i)
{
	return json_string_value(json_object_get(dump->items[i].obj, "id"));
}

static const char *
item_version(const struct import_dump *dump, size_t i)
{
	const json_t *o = dump->items[i].obj;
	const json_t *m = json_object_get(o, "modified");
	return json_string_value(m ? m : json_object_get(o, "created"));
}

/* Two API roots, statuses as a list and keyed by id, every combination
 * of can_read/can_write. */
static void
test_parse_roots_and_statuses(void **state)
{
	struct diag d;
	struct import_dump *dump = load("medallion-roots.json", NULL, TC_OK, &d);

	assert_int_equal(dump->napi_roots, 2);
	assert_string_equal(dump->roots[0].name, "api1");
	assert_string_equal(dump->roots[0].title, "General feeds");
	assert_int_equal(dump->roots[0].max_content_length, 4096);
	assert_string_equal(dump->roots[1].name, "trustgroup1");
	assert_int_equal(dump->nstatuses, 2);
	assert_int_equal(dump->statuses[0].root, 0);
	assert_int_equal(dump->statuses[1].root, 1);
	assert_string_equal(dump->statuses[1].id, "6b2a7d3f-4c5e-4f6a-9b7c-8d9e0f1a2b3c");
	assert_int_equal(dump->ncols, 4);
	assert_true(!dump->cols[1].can_read && dump->cols[1].can_write);
	assert_true(dump->cols[2].can_read && !dump->cols[2].can_write);
	assert_string_equal(dump->cols[3].api_root, "trustgroup1");
	import_dump_free(dump);
}

static void
test_parse_list_layout(void **state)
{
	struct diag d;
	struct import_dump *dump = load("medallion.json", NULL, TC_OK, &d);

	assert_int_equal(dump->napi_roots, 3);
	assert_int_equal(dump->ncols, 4);
	/* file order: api1 has none, api2 two, trustgroup1 two */
	assert_string_equal(dump->cols[0].uuid, C_EMPTY);
	assert_string_equal(dump->cols[0].api_root, "api2");
	assert_int_equal(dump->cols[0].nobjects, 0);
	assert_string_equal(dump->cols[0].alias, "finance-sector-empty");
	assert_string_equal(dump->cols[1].uuid, C_HV2);
	assert_string_equal(dump->cols[2].uuid, C_HV);
	assert_string_equal(dump->cols[2].title, "High Value Indicators");
	assert_string_equal(dump->cols[2].alias, "high-value-indicators");
	assert_true(dump->cols[2].can_write);
	assert_false(dump->cols[3].can_write);
	assert_int_equal(dump->cols[2].nobjects, 7);
	assert_int_equal(dump->nitems, 11);
	assert_int_equal(dump->nrejected, 0);
	/* the API roots' information and status resources */
	assert_string_equal(dump->roots[0].name, "api1");
	assert_string_equal(dump->roots[1].title, "Sector feeds");
	assert_string_equal(dump->roots[1].description, "Per-sector collections");
	assert_int_equal(dump->roots[2].max_content_length, 9765625);
	assert_int_equal(dump->nstatuses, 1);
	assert_int_equal(dump->statuses[0].root, 2);
	assert_string_equal(dump->statuses[0].id, "2d086da7-4bdc-4f91-900e-d77486753710");
	assert_int_equal(json_integer_value(json_object_get(dump->statuses[0].obj, "total_count")),
	                 1);

	/* every item dated from its manifest record, in date order across
	 * collections, whatever the order in the file */
	int64_t prev = 0;
	for (size_t i = 0; i < dump->nitems; i++) {
		assert_non_null(dump->items[i].obj);
		assert_int_equal(dump->items[i].date_from, IMPORT_DATE_MANIFEST);
		assert_true(dump->items[i].date_added_us >= prev);
		prev = dump->items[i].date_added_us;
		assert_null(json_object_get(dump->items[i].obj, "__meta"));
	}
	assert_string_equal(item_id(dump, 0), "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff");
	/* the three versions of IND1 each keep their own date_added */
	int seen = 0;
	for (size_t i = 0; i < dump->nitems; i++) {
		if (strcmp(item_id(dump, i), IND1) != 0)
			continue;
		const char *v = item_version(dump, i);
		int64_t want = strcmp(v, "2024-03-01T10:00:00.000Z") == 0
		                   ? us("2024-03-01T10:00:05.123456Z")
		               : strcmp(v, "2024-03-05T08:00:00.000Z") == 0
		                   ? us("2024-03-05T08:00:00.5Z")
		                   : us("2024-04-02T12:30:01Z");
		assert_int_equal(dump->items[i].date_added_us, want);
		seen++;
	}
	assert_int_equal(seen, 3);
	/* the last one is IND1's third version, added last */
	assert_string_equal(item_id(dump, 10), IND1);
	/* the same indicator in two collections: C_HV2's copy was added
	 * half a second earlier, so it comes first */
	assert_string_equal(dump->cols[dump->items[8].collection].uuid, C_HV2);
	assert_string_equal(dump->cols[dump->items[9].collection].uuid, C_24);

	char where[IMPORT_WHERE_MAX];
	import_dump_where(dump, 10, where);
	assert_non_null(strstr(where, "medallion.json: trustgroup1/collections/" C_HV "/objects[6]"));
	assert_null(import_dump_why(dump, 10));
	import_dump_free(dump);
}

static void
test_parse_keyed_layout(void **state)
{
	struct diag d;
	struct import_dump *dump = load("medallion-keyed.json", NULL, TC_OK, &d);

	assert_int_equal(dump->ncols, 2);
	assert_string_equal(dump->cols[0].uuid, C_M);
	/* no "id" member: the key is the id */
	assert_string_equal(dump->cols[1].uuid, C_M2);
	assert_string_equal(dump->cols[1].alias, "network-observables");
	assert_int_equal(dump->nitems, 4);
	for (size_t i = 0; i < dump->nitems; i++) {
		assert_int_equal(dump->items[i].date_from, IMPORT_DATE_META);
		assert_null(json_object_get(dump->items[i].obj, "__meta"));
	}
	/* C_M2's observable (2023-10-30), then v1, the C_M observable, v2 */
	assert_int_equal(dump->items[0].collection, 1);
	assert_int_equal(dump->items[0].date_added_us, us("2023-10-30T12:00:00Z"));
	assert_int_equal(dump->items[1].date_added_us, us("2023-11-01T00:00:09.250Z"));
	assert_string_equal(item_version(dump, 1), "2023-11-01T00:00:00.000Z");
	assert_string_equal(json_string_value(json_object_get(dump->items[2].obj, "type")),
	                    "ipv4-addr");
	assert_string_equal(item_version(dump, 3), "2023-11-15T00:00:00.000Z");
	import_dump_free(dump);
}

static void
test_parse_rejects(void **state)
{
	struct diag d;
	struct import_dump *dump = load("rejects.json", NULL, TC_OK, &d);
	char where[IMPORT_WHERE_MAX];
	int found = 0;

	assert_int_equal(dump->nitems, 6);
	assert_int_equal(dump->nrejected, 3);
	for (size_t i = 0; i < dump->nitems; i++) {
		const char *why = import_dump_why(dump, i);
		import_dump_where(dump, i, where);
		if (dump->items[i].index == 0) {
			assert_string_equal(why, "not a JSON object");
			assert_non_null(strstr(where, "rejects.json: api1/collections/" C_R "/objects[0]"));
			found++;
		} else if (dump->items[i].index == 1) {
			assert_string_equal(why, "__meta: not an object");
			found++;
		} else if (dump->items[i].index == 4) {
			assert_non_null(strstr(why, "__meta.date_added"));
			found++;
		} else {
			assert_null(why);
			assert_non_null(dump->items[i].obj);
		}
	}
	assert_int_equal(found, 3);
	/* the older "versions" manifest form dates the STIX 2.0 object */
	for (size_t i = 0; i < dump->nitems; i++)
		if (dump->items[i].index == 3)
			assert_int_equal(dump->items[i].date_added_us, us("2018-02-23T18:30:01Z"));
	import_dump_free(dump);
}

static void
test_parse_malformed(void **state)
{
	static const struct {
		const char *file;
		enum tcerr rc;
		const char *msg;
	} cases[] = {
		{"bad-top-array.json", TC_EINVAL, "top level must be an object"},
		{"bad-collection-id.json", TC_EINVAL, "api1/collections[0]: id: not a UUID"},
		{"bad-collection-noid.json", TC_EINVAL, "api1/collections[0]: id: missing"},
		{"bad-manifest-date.json", TC_EINVAL, "/manifest[0]: date_added: not a timestamp"},
		{"bad-objects.json", TC_EINVAL, "objects: not an array"},
		{"bad-dup-collection.json", TC_EINVAL, "also in API root 'api1'"},
		{"bad-api-root.json", TC_EINVAL, "api1: an API root must be an object"},
		{"bad-keyed-mismatch.json", TC_EINVAL, "differs from the collection's key"},
		{"bad-not-json.json", TC_EINVAL, "line 1"},
		{"bad-duplicate-key.json", TC_EINVAL, "line 1"},
		{"bad-root-name.json", TC_EINVAL, "API 1: not usable as an API root name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag d;
		load(cases[i].file, NULL, cases[i].rc, &d);
		if (!strstr(d.msg, cases[i].msg) || !strstr(d.msg, cases[i].file))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].file, d.msg, cases[i].msg);
	}
	struct diag d;
	struct import_dump *dump = NULL;
	assert_int_equal(import_dump_load("/nonexistent/dump.json", NULL, &dump, &d), TC_EIO);
	assert_non_null(strstr(d.msg, "/nonexistent/dump.json"));
	assert_int_equal(import_dump_load(DATA_DIR, NULL, &dump, &d), TC_EIO);
	assert_null(dump);
}

static void
test_parse_limits(void **state)
{
	struct import_dump_opts o;
	struct diag d;
	struct import_dump *dump;

	/* exactly at each limit parses; one below fails with the limit named */
	memset(&o, 0, sizeof(o));
	o.max_objects = 11;
	o.max_collections = 4;
	o.max_api_roots = 3;
	o.max_manifest = 11;
	dump = load("medallion.json", &o, TC_OK, &d);
	import_dump_free(dump);

	memset(&o, 0, sizeof(o));
	o.max_objects = 10;
	load("medallion.json", &o, TC_ELIMIT, &d);
	assert_non_null(strstr(d.msg, "more than 10 object versions"));

	memset(&o, 0, sizeof(o));
	o.max_collections = 3;
	load("medallion.json", &o, TC_ELIMIT, &d);
	assert_non_null(strstr(d.msg, "more than 3 collections"));

	memset(&o, 0, sizeof(o));
	o.max_api_roots = 2;
	load("medallion.json", &o, TC_ELIMIT, &d);
	assert_non_null(strstr(d.msg, "more than 2 API roots"));

	memset(&o, 0, sizeof(o));
	o.max_manifest = 10;
	load("medallion.json", &o, TC_ELIMIT, &d);
	assert_non_null(strstr(d.msg, "more than 10 manifest records"));

	memset(&o, 0, sizeof(o));
	o.max_bytes = 1000;
	load("medallion.json", &o, TC_ELIMIT, &d);
	assert_non_null(strstr(d.msg, "larger than 1000 bytes"));

	/* objects sit 6 levels deep, their arrays 7 */
	memset(&o, 0, sizeof(o));
	o.max_depth = 6;
	load("medallion.json", &o, TC_ELIMIT, &d);
	memset(&o, 0, sizeof(o));
	o.max_depth = 8;
	dump = load("medallion.json", &o, TC_OK, &d);
	import_dump_free(dump);

	/* the same limit on bytes in memory */
	memset(&o, 0, sizeof(o));
	o.max_bytes = 5;
	assert_int_equal(import_dump_parse("mem", slice_from_cstr("{\"a\":{}}"), &o, &dump, &d),
	                 TC_ELIMIT);
	assert_null(dump);
}

static void
test_parse_undated_and_manifest_forms(void **state)
{
	const char *text =
	    "{\"r\":{\"collections\":[{\"id\":\"" C_R "\",\"title\":\"\","
	    "\"objects\":["
	    "{\"type\":\"x\",\"id\":\"indicator--11111111-1111-4111-8111-111111111111\","
	    "\"modified\":\"2020-01-01T00:00:00Z\"},"
	    "{\"type\":\"x\",\"id\":\"indicator--22222222-2222-4222-8222-222222222222\","
	    "\"modified\":\"2020-01-01T00:00:00Z\"},"
	    "{\"type\":\"x\",\"id\":\"indicator--33333333-3333-4333-8333-333333333333\","
	    "\"created\":\"2020-01-01T00:00:00Z\",\"__meta\":{\"date_added\":\"2021-01-01T00:00:00Z\"}},"
	    "{\"type\":\"x\",\"id\":\"indicator--44444444-4444-4444-8444-444444444444\","
	    "\"modified\":\"2020-01-01T00:00:00.000Z\",\"__meta\":{\"date_added\":\"2021-01-01T00:00:00Z\"}}"
	    "],\"manifest\":["
	    "{\"id\":\"indicator--22222222-2222-4222-8222-222222222222\",\"date_added\":\"2019-06-01T00:00:00Z\"},"
	    "{\"id\":\"indicator--44444444-4444-4444-8444-444444444444\",\"version\":\"2020-01-01T00:00:00Z\","
	    "\"date_added\":\"2022-01-01T00:00:00Z\"}"
	    "]}]}}";
	struct diag d;
	struct import_dump *dump = NULL;

	assert_int_equal(import_dump_parse("t.json", slice_from_cstr(text), NULL, &dump, &d), TC_OK);
	assert_int_equal(dump->nitems, 4);
	/* 2: a versionless manifest record; 3: __meta; 4: the manifest
	 * record of the same version (same instant, other precision) wins
	 * over __meta; 1: nothing, last */
	assert_int_equal(dump->items[0].index, 1);
	assert_int_equal(dump->items[0].date_from, IMPORT_DATE_MANIFEST);
	assert_int_equal(dump->items[1].index, 2);
	assert_int_equal(dump->items[1].date_from, IMPORT_DATE_META);
	assert_int_equal(dump->items[2].index, 3);
	assert_int_equal(dump->items[2].date_added_us, us("2022-01-01T00:00:00Z"));
	assert_int_equal(dump->items[3].index, 0);
	assert_int_equal(dump->items[3].date_from, IMPORT_DATE_NONE);
	assert_int_equal(dump->items[3].date_added_us, 0);
	/* no title: the alias comes from the API root and the id */
	assert_string_equal(dump->cols[0].alias, "r-7f6e5d4c");
	import_dump_free(dump);

	/* a date before 1970 would mean "none" to the store: refused */
	const char *old = "{\"r\":{\"collections\":[{\"id\":\"" C_R "\",\"objects\":[],"
	                  "\"manifest\":[{\"id\":\"indicator--22222222-2222-4222-8222-222222222222\","
	                  "\"date_added\":\"1969-12-31T23:59:59Z\"}]}]}}";
	assert_int_equal(import_dump_parse("t.json", slice_from_cstr(old), NULL, &dump, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "t.json: r/collections/" C_R "/manifest[0]: date_added"));
}

static void
test_alias(void **state)
{
	char a[IMPORT_DUMP_ALIAS_MAX + 1];
	char longt[300];

	import_dump_alias("High Value Indicator Collection", NULL, a);
	assert_string_equal(a, "high-value-indicator-collection");
	import_dump_alias("  --Indicators from the past 24-hours!! ", NULL, a);
	assert_string_equal(a, "indicators-from-the-past-24-hours");
	import_dump_alias("Überwachung ÄÖ", NULL, a);
	assert_string_equal(a, "berwachung");
	import_dump_alias("", "api1-91a7b528", a);
	assert_string_equal(a, "api1-91a7b528");
	import_dump_alias("!!!", "???", a);
	assert_string_equal(a, "collection");
	memset(longt, 'x', sizeof(longt) - 1);
	longt[sizeof(longt) - 1] = '\0';
	longt[58] = ' ';
	import_dump_alias(longt, NULL, a);
	/* room for a "-1000" suffix, no trailing dash */
	assert_int_equal(strlen(a), IMPORT_DUMP_ALIAS_MAX - 5 - 1);
	assert_true(a[strlen(a) - 1] == 'x');
}

/* --- ingest into a hub in a temporary directory --- */

struct fixture {
	char dir[256];
	struct hub *hub;
	char created[8][IMPORT_DUMP_ALIAS_MAX + 1];
	size_t ncreated, nreused;
	char rej[16][IMPORT_WHERE_MAX + DIAG_MSG_MAX];
	size_t nrej;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-dump-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
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

static void
on_collection(void *ctx, const struct import_dump_collection *c, const char *alias, bool created)
{
	struct fixture *f = ctx;
	if (created) {
		assert_true(f->ncreated < 8);
		snprintf(f->created[f->ncreated++], sizeof(f->created[0]), "%s", alias);
	} else {
		f->nreused++;
	}
}

static void
on_reject(void *ctx, const char *where, const char *why)
{
	struct fixture *f = ctx;
	assert_true(f->nrej < 16);
	snprintf(f->rej[f->nrej++], sizeof(f->rej[0]), "%s | %s", where, why);
}

struct rows {
	size_t n;
	char id[32][STIX_ID_MAX];
	char version[32][STIX_VERSION_TEXT_MAX + 1];
	int64_t date_added_us[32];
};

static enum store_row_verdict
row_cb(void *ctx, const struct store_row *row)
{
	struct rows *r = ctx;
	assert_true(r->n < 32);
	snprintf(r->id[r->n], sizeof(r->id[0]), "%s", row->id);
	snprintf(r->version[r->n], sizeof(r->version[0]), "%s", row->version);
	r->date_added_us[r->n] = row->date_added_us;
	r->n++;
	assert_null(strstr(row->json.p, "__meta"));
	return STORE_ROW_TAKE;
}

static void
rows_of(struct fixture *f, const char *uuid, int64_t added_after, struct rows *r)
{
	struct store_collection c;
	struct store_query q;
	struct diag d;
	memset(r, 0, sizeof(*r));
	assert_int_equal(store_collection_find(hub_store(f->hub), uuid, &c), TC_OK);
	memset(&q, 0, sizeof(q));
	q.collection = c.num;
	q.versions = STORE_V_ALL;
	q.added_after_us = added_after;
	assert_int_equal(store_query(hub_store(f->hub), &q, row_cb, r, NULL, &d), TC_OK);
}

static void
test_ingest(void **state)
{
	struct fixture *f = *state;
	struct import_dump_ingest_cbs cbs = {on_collection, on_reject, f};
	struct import_dump_totals t;
	struct diag d;
	struct import_dump *dump = load("medallion.json", NULL, TC_OK, &d);
	struct store_collection c;
	struct rows r;

	assert_int_equal(import_dump_ingest(f->hub, dump, &cbs, &t, &d), TC_OK);
	assert_int_equal(f->nrej, 0);
	assert_int_equal(t.created, 4);
	assert_int_equal(t.reused, 0);
	assert_int_equal(t.imported, 11);
	assert_int_equal(t.duplicates, 0);
	assert_int_equal(t.rejected, 0);
	assert_int_equal(t.undated, 0);
	/* two collections titled alike get distinct aliases */
	assert_string_equal(f->created[1], "high-value-indicators");
	assert_string_equal(f->created[2], "high-value-indicators-2");

	/* ids kept, title and description too */
	assert_int_equal(store_collection_find(hub_store(f->hub), C_HV, &c), TC_OK);
	assert_string_equal(c.uuid, C_HV);
	assert_string_equal(c.title, "High Value Indicators");
	assert_string_equal(c.description, "High value IOCs from members");
	assert_int_equal(store_collection_find(hub_store(f->hub), C_EMPTY, &c), TC_OK);

	/* every version with its medallion date_added, in that order */
	rows_of(f, C_HV, 0, &r);
	assert_int_equal(r.n, 7);
	for (size_t i = 1; i < r.n; i++)
		assert_true(r.date_added_us[i] >= r.date_added_us[i - 1]);
	size_t ind1 = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.id[i], IND1) != 0)
			continue;
		ind1++;
		if (strcmp(r.version[i], "2024-03-05T08:00:00.000Z") == 0)
			assert_int_equal(r.date_added_us[i], us("2024-03-05T08:00:00.500000Z"));
	}
	assert_int_equal(ind1, 3);
	/* a client's added_after cursor from medallion still means the same */
	rows_of(f, C_HV, us("2024-03-05T08:00:00.5Z"), &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.version[0], "2024-04-02T12:30:00.250Z");
	rows_of(f, C_HV, us("2024-03-01T10:00:05.123456Z"), &r);
	assert_int_equal(r.n, 3); /* rel, IND1 v2, IND1 v3 */

	/* a second run: collections reused, every version a duplicate */
	f->ncreated = 0;
	assert_int_equal(import_dump_ingest(f->hub, dump, &cbs, &t, &d), TC_OK);
	assert_int_equal(t.created, 0);
	assert_int_equal(t.reused, 4);
	assert_int_equal(f->nreused, 4);
	assert_int_equal(t.imported, 0);
	assert_int_equal(t.duplicates, 11);
	rows_of(f, C_HV, 0, &r);
	assert_int_equal(r.n, 7);
	import_dump_free(dump);
}

static void
test_ingest_rejects_and_alias_taken(void **state)
{
	struct fixture *f = *state;
	struct import_dump_ingest_cbs cbs = {on_collection, on_reject, f};
	struct import_dump_totals t;
	struct diag d;
	struct store_collection c;

	/* an existing collection already holds the alias the title gives */
	assert_int_equal(store_collection_add(hub_store(f->hub), "mixed-bag", NULL, "x", "", &c, &d),
	                 TC_OK);
	struct import_dump *dump = load("rejects.json", NULL, TC_OK, &d);
	assert_int_equal(import_dump_ingest(f->hub, dump, &cbs, &t, &d), TC_OK);
	assert_int_equal(t.created, 1);
	assert_string_equal(f->created[0], "mixed-bag-2");
	/* the STIX 2.0 malware (no spec_version) is accepted as 2.0 */
	assert_int_equal(t.imported, 2);
	assert_int_equal(t.rejected, 4);
	assert_int_equal(t.imported + t.duplicates + t.rejected, dump->nitems);
	assert_int_equal(f->nrej, 4);
	for (size_t i = 0; i < f->nrej; i++)
		assert_non_null(strstr(f->rej[i], "rejects.json: api1/collections/" C_R "/objects["));
	import_dump_free(dump);
}

static void
test_ingest_keyed_and_undated(void **state)
{
	struct fixture *f = *state;
	struct import_dump_totals t;
	struct diag d;
	struct rows r;
	struct import_dump *dump = load("medallion-keyed.json", NULL, TC_OK, &d);
	struct import_dump_ingest_cbs cbs = {on_collection, on_reject, f};

	assert_int_equal(import_dump_ingest(f->hub, dump, NULL, &t, &d), TC_OK);
	assert_int_equal(t.imported, 4);
	rows_of(f, C_M, 0, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.date_added_us[0], us("2023-11-01T00:00:09.250Z"));
	assert_int_equal(r.date_added_us[2], us("2023-11-15T00:00:07Z"));
	import_dump_free(dump);

	/* an object the file gives no date gets the import time */
	const char *text =
	    "{\"r\":{\"collections\":[{\"id\":\"" C_R "\",\"title\":\"Undated\",\"objects\":["
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	    "\"id\":\"indicator--11111111-1111-4111-8111-111111111111\","
	    "\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\","
	    "\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\",\"pattern_type\":\"stix\","
	    "\"valid_from\":\"2020-01-01T00:00:00Z\"}]}]}}";
	int64_t before = ts_now_us();
	assert_int_equal(import_dump_parse("t.json", slice_from_cstr(text), NULL, &dump, &d), TC_OK);
	assert_int_equal(import_dump_ingest(f->hub, dump, &cbs, &t, &d), TC_OK);
	assert_int_equal(f->nrej, 0);
	assert_int_equal(t.imported, 1);
	assert_int_equal(t.undated, 1);
	rows_of(f, C_R, 0, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.date_added_us[0] >= before);
	import_dump_free(dump);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list_layout),
		cmocka_unit_test(test_parse_roots_and_statuses),
		cmocka_unit_test(test_parse_keyed_layout),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_undated_and_manifest_forms),
		cmocka_unit_test(test_alias),
		cmocka_unit_test_setup_teardown(test_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_rejects_and_alias_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_keyed_and_undated, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
