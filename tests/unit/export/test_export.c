/* Unit tests of lib/export: the writer fed with stored rows made here (a
 * fake source), output compared with golden files in golden/. Set
 * TOCSIN_REGEN_GOLDEN=1 to rewrite them, on purpose only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export/export.h"
#include "import/import.h"
#include "stix/stix.h"
#include "store/store.h"
#include "util/timestamp.h"

#define CARD_HASH "hmac-sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct src {
	const char *json;
	bool revoked;
	const char *valid_until;
	enum tlp_level tlp;
};

static const struct src rows[] = {
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--11111111-1111-4111-8111-111111111111\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = '198.51.100.7']\",\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"],\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\",\"valid_until\":\"2030-01-01T00:00:00Z\"}",
	  false, "2030-01-01T00:00:00.000Z", TLP_AMBER },
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--22222222-2222-4222-8222-222222222222\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-02T00:00:00.000Z\",\"pattern\":\"[domain-name:value = 'evil.example']\",\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"],\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	  false, NULL, TLP_GREEN },
	{ "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":\"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5\",\"value\":\"evil.example\"}",
	  false, NULL, TLP_NONE },
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--33333333-3333-4333-8333-333333333333\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-03T00:00:00.000Z\",\"revoked\":true,\"pattern\":\"[domain-name:value = 'revoked.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	  true, NULL, TLP_NONE },
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--44444444-4444-4444-8444-444444444444\",\"created\":\"2020-01-01T00:00:00.000Z\",\"modified\":\"2020-01-01T00:00:00.000Z\",\"pattern\":\"[domain-name:value = 'expired.example']\",\"pattern_type\":\"stix\",\"valid_from\":\"2020-01-01T00:00:00Z\",\"valid_until\":\"2021-01-01T00:00:00Z\"}",
	  false, "2021-01-01T00:00:00.000Z", TLP_NONE },
	{ "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"Example CERT\"}",
	  false, NULL, TLP_NONE },
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--55555555-5555-4555-8555-555555555555\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[x-tocsin-payment-card:value = '" CARD_HASH "']\",\"object_marking_refs\":[\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"],\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	  false, NULL, TLP_RED },
	{ "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--66666666-6666-4666-8666-666666666666\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[url:value = 'http://evil.example/a,b']\",\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"],\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	  false, NULL, TLP_CLEAR },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const int64_t NOW = INT64_C(1735689600000000); /* 2025-01-01 */

/* Fills a store_row as the store would for src (type/id from the JSON). */
static void
make_row(const struct src *s, size_t i, struct store_row *r, char *id, char *type)
{
	json_t *o = json_loads(s->json, 0, NULL);
	assert_non_null(o);
	snprintf(id, STIX_ID_MAX, "%s", json_string_value(json_object_get(o, "id")));
	snprintf(type, STIX_TYPE_MAX, "%s", json_string_value(json_object_get(o, "type")));
	json_decref(o);
	memset(r, 0, sizeof(*r));
	r->seq = i + 1;
	r->ref = (uint32_t)i + 1;
	r->collection = 1;
	r->json = slice_from_cstr(s->json);
	r->id = id;
	r->type = type;
	r->spec_version = "2.1";
	r->version = "";
	r->tlp = s->tlp;
	r->revoked = s->revoked;
	if (s->valid_until)
		assert_int_equal(ts_parse(slice_from_cstr(s->valid_until), &r->valid_until_us, NULL),
		                 TC_OK);
	r->is_first = r->is_last = true;
}

struct sink {
	struct buf b;
	size_t writes;
	size_t fail_at; /* 0: never */
};

static enum tcerr
sink_write(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;
	if (s->fail_at && ++s->writes >= s->fail_at)
		return TC_EIO;
	buf_append(&s->b, p, n);
	return buf_error(&s->b);
}

static const uint8_t key[OBS_CARD_KEY_LEN] = { 9 };
static const struct obs_ctx obsctx = { .card_key = key, .card_key_len = sizeof(key) };

static enum tcerr
run(const struct export_opts *o, struct sink *s, struct export_counts *c)
{
	struct export_writer *w;
	struct diag d;
	enum tcerr rc = export_writer_new(o, &obsctx, sink_write, s, &w, &d);
	if (rc)
		return rc;
	for (size_t i = 0; i < NROWS && !rc; i++) {
		struct store_row r;
		char id[STIX_ID_MAX], type[STIX_TYPE_MAX + 1];
		make_row(&rows[i], i, &r, id, type);
		rc = export_writer_row(w, &r, &d);
	}
	if (!rc)
		rc = export_writer_finish(w, c, &d);
	export_writer_free(w);
	return rc;
}

static void
check_golden(const char *name, const struct buf *got)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (getenv("TOCSIN_REGEN_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(got->p, 1, got->len, f);
		fclose(f);
	}
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char want[65536];
	size_t n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = '\0';
	assert_string_equal(got->p ? got->p : "", want);
}

static void
test_stix(void **state)
{
	struct export_opts o = { .format = EXPORT_STIX, .now_us = NOW,
		                 .bundle_id = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d" };
	struct sink s = { 0 };
	struct export_counts c;
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	check_golden("export.stix.json", &s.b);
	assert_int_equal(c.objects, 6);
	assert_int_equal(c.revoked, 1);
	assert_int_equal(c.expired, 1);

	/* The output is one valid bundle that the importer reads back. */
	json_error_t je;
	json_t *b = json_loadb(s.b.p, s.b.len, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(b);
	assert_int_equal(json_array_size(json_object_get(b, "objects")), 6);
	json_decref(b);
	buf_reset(&s.b);

	/* With revoked and expired versions. */
	o.include_revoked = o.include_expired = true;
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	assert_int_equal(c.objects, 8);
	buf_reset(&s.b);

	/* Kind filter keeps only objects with such an observable. */
	o.include_revoked = o.include_expired = false;
	o.kinds = EXPORT_KIND_BIT(OBS_DOMAIN);
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	assert_int_equal(c.objects, 2);
	assert_non_null(strstr(s.b.p, "indicator--2222"));
	assert_non_null(strstr(s.b.p, "domain-name--3c10"));
	assert_null(strstr(s.b.p, "identity--"));
	buf_reset(&s.b);
}

static void
test_empty_bundle_and_random_id(void **state)
{
	struct export_opts o = { .format = EXPORT_STIX };
	struct export_writer *w;
	struct sink s = { 0 };
	struct diag d;
	buf_init(&s.b, 0);
	assert_int_equal(export_writer_new(&o, NULL, sink_write, &s, &w, &d), TC_OK);
	assert_int_equal(export_writer_finish(w, NULL, &d), TC_OK);
	export_writer_free(w);
	json_t *b = json_loadb(s.b.p, s.b.len, 0, NULL);
	assert_non_null(b);
	assert_int_equal(json_array_size(json_object_get(b, "objects")), 0);
	const char *id = json_string_value(json_object_get(b, "id"));
	assert_true(strncmp(id, "bundle--", 8) == 0 && strlen(id) == 8 + 36);
	json_decref(b);
	buf_reset(&s.b);

	o.bundle_id = "bundle--nope";
	assert_int_equal(export_writer_new(&o, NULL, sink_write, &s, &w, &d), TC_EINVAL);
}

static enum tcerr
count_object(void *ctx, json_t *obj, const char *where)
{
	const char *tlp = json_string_value(json_array_get(json_object_get(obj, "object_marking_refs"), 0));
	/* The TLP column survives the trip. */
	if (strstr(where, ":2"))
		assert_string_equal(tlp, stix_tlp_marking_id(TLP_AMBER));
	return TC_OK;
}

static void
test_csv(void **state)
{
	struct export_opts o = { .format = EXPORT_CSV, .now_us = NOW };
	struct sink s = { 0 };
	struct export_counts c;
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	check_golden("export.csv", &s.b);
	assert_int_equal(c.values, 5);
	/* Cards are only their hash (there is nothing else to write). */
	assert_non_null(strstr(s.b.p, CARD_HASH ",card,"));
	/* RFC 4180: the comma in the URL is quoted. */
	assert_non_null(strstr(s.b.p, "\"http://evil.example/a,b\",url,"));

	/* The CSV reads back through the importer (indicator_id ignored),
	 * the card as its keyed hash (observable.h accepts that form). */
	struct import_counts ic;
	struct diag d;
	struct import_opts io = { 0 };
	io.obs = &obsctx;
	io.on_object = count_object;
	io.ctx = &ic;
	assert_int_equal(import_buffer("export.csv", buf_slice(&s.b), &io, &ic, &d), TC_OK);
	assert_int_equal(ic.format, IMPORT_CSV);
	assert_int_equal(ic.objects, 5);
	assert_int_equal(ic.rejected, 0);
	buf_reset(&s.b);

	o.kinds = EXPORT_KIND_BIT(OBS_IPV4) | EXPORT_KIND_BIT(OBS_URL);
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	assert_int_equal(c.values, 2);
	assert_int_equal(c.objects, 2);
	buf_reset(&s.b);
}

static void
test_plain(void **state)
{
	struct export_opts o = { .format = EXPORT_PLAIN, .now_us = NOW };
	struct sink s = { 0 };
	struct export_counts c;
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	check_golden("export.plain.txt", &s.b);
	/* evil.example comes from two objects but is listed once. */
	assert_int_equal(c.values, 4);
	buf_reset(&s.b);

	o.kinds = EXPORT_KIND_BIT(OBS_DOMAIN);
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, &c), TC_OK);
	assert_string_equal(s.b.p, "evil.example\n");
	buf_reset(&s.b);
}

static void
test_sink_error_stops(void **state)
{
	struct export_opts o = { .format = EXPORT_PLAIN, .now_us = NOW };
	struct sink s = { .fail_at = 1 };
	buf_init(&s.b, 0);
	assert_int_equal(run(&o, &s, NULL), TC_EIO);
	buf_reset(&s.b);
}

struct obs_list {
	struct store_obs obs[8];
	struct buf vals;
	size_t off[8], n;
};

static enum tcerr
collect_obs(void *ctx, enum obs_kind kind, struct slice value)
{
	struct obs_list *l = ctx;
	assert_true(l->n < 8);
	l->obs[l->n].kind = kind;
	l->off[l->n++] = l->vals.len;
	buf_append_slice(&l->vals, value);
	buf_append_char(&l->vals, '\0');
	return TC_OK;
}

struct feed {
	struct export_writer *w;
	enum tcerr rc;
};

static enum store_row_verdict
feed_row(void *ctx, const struct store_row *row)
{
	struct feed *f = ctx;
	struct diag d;
	f->rc = export_writer_row(f->w, row, &d);
	return f->rc ? STORE_ROW_STOP : STORE_ROW_TAKE;
}

/* The same objects through a real (memory) store: validated, stored,
 * queried for last versions as export_hub() does, give the same files. */
static void
test_through_memory_store(void **state)
{
	struct store *st;
	struct store_collection coll;
	struct diag d;

	assert_int_equal(store_open("memory:", &st, &d), TC_OK);
	assert_int_equal(store_collection_add(st, "default", NULL, "Default", "", &coll, &d),
	                 TC_OK);
	for (size_t i = 0; i < NROWS; i++) {
		json_t *o;
		struct stix_meta meta;
		struct obs_list l = { 0 };
		struct store_append_out out;
		buf_init(&l.vals, 0);
		assert_int_equal(stix_json_parse(slice_from_cstr(rows[i].json), NULL, &o, &d), TC_OK);
		if (stix_validate(o, NULL, NULL, &meta, &d))
			fail_msg("row %zu: %s", i, d.msg);
		assert_int_equal(meta.tlp, rows[i].tlp);
		assert_int_equal(obs_extract(&obsctx, o, &meta, collect_obs, &l, &d), TC_OK);
		for (size_t k = 0; k < l.n; k++)
			l.obs[k].value = slice_from_cstr(l.vals.p + l.off[k]);
		struct store_obj_in in = { .json = slice_from_cstr(rows[i].json), .meta = &meta,
			                   .collection = coll.num, .obs = l.obs, .nobs = l.n };
		assert_int_equal(store_append(st, &in, 1, &out, NULL, NULL, &d), TC_OK);
		assert_int_equal(out.status, STORE_ADDED);
		json_decref(o);
		buf_reset(&l.vals);
	}
	static const struct {
		enum export_format f;
		const char *golden;
	} cases[] = {
		{ EXPORT_STIX, "export.stix.json" },
		{ EXPORT_CSV, "export.csv" },
		{ EXPORT_PLAIN, "export.plain.txt" },
	};
	for (size_t k = 0; k < 3; k++) {
		struct export_opts o = { .format = cases[k].f, .now_us = NOW,
			                 .bundle_id = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d" };
		struct sink s = { 0 };
		struct feed f = { 0 };
		struct store_query q = { .collection = coll.num, .versions = STORE_V_LAST };
		buf_init(&s.b, 0);
		assert_int_equal(export_writer_new(&o, &obsctx, sink_write, &s, &f.w, &d), TC_OK);
		assert_int_equal(store_query(st, &q, feed_row, &f, NULL, &d), TC_OK);
		assert_int_equal(f.rc, TC_OK);
		assert_int_equal(export_writer_finish(f.w, NULL, &d), TC_OK);
		export_writer_free(f.w);
		check_golden(cases[k].golden, &s.b);
		buf_reset(&s.b);
	}
	store_close(st);
}

static void
test_format_names(void **state)
{
	enum export_format f;
	assert_int_equal(export_format_parse("csv", &f), TC_OK);
	assert_int_equal(f, EXPORT_CSV);
	assert_int_equal(export_format_parse("txt", &f), TC_OK);
	assert_int_equal(f, EXPORT_PLAIN);
	assert_int_equal(export_format_parse("xml", &f), TC_EINVAL);
	assert_string_equal(export_format_name(EXPORT_STIX), "stix");
}

/* ---- issue 8: the allowlist filter on every format ---- */

#define IND(uuid, pattern)                                                                  \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" uuid           \
	"\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\"," \
	"\"pattern\":\"" pattern "\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}"

static const struct src allow_rows[] = {
	{ IND("a1111111-1111-4111-8111-111111111111", "[ipv4-addr:value = '8.8.8.8']"), false, NULL, TLP_NONE },
	{ IND("a2222222-2222-4222-8222-222222222222", "[domain-name:value = 'www.google.com'] OR [domain-name:value = 'bad.example']"), false, NULL, TLP_NONE },
	{ IND("a3333333-3333-4333-8333-333333333333", "[ipv4-addr:value = '10.1.0.0/16']"), false, NULL, TLP_NONE },
	{ IND("a4444444-4444-4444-8444-444444444444", "[ipv4-addr:value = '8.0.0.0/8']"), false, NULL, TLP_NONE },
	{ IND("a5555555-5555-4555-8555-555555555555", "[ipv4-addr:value = '5.6.7.8']"), false, NULL, TLP_NONE },
	/* an SCO is an observation, not a block: a STIX export keeps it */
	{ "{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\",\"value\":\"8.8.8.8\"}", false, NULL, TLP_NONE },
};
#define NALLOW (sizeof(allow_rows) / sizeof(allow_rows[0]))

static enum tcerr
run_rows(const struct export_opts *o, const struct src *rows_, size_t n, struct sink *s,
         struct export_counts *c)
{
	struct export_writer *w;
	struct diag d;
	enum tcerr rc = export_writer_new(o, &obsctx, sink_write, s, &w, &d);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		struct store_row r;
		char id[STIX_ID_MAX], type[STIX_TYPE_MAX + 1];
		make_row(&rows_[i], i, &r, id, type);
		rc = export_writer_row(w, &r, &d);
	}
	if (!rc)
		rc = export_writer_finish(w, c, &d);
	export_writer_free(w);
	return rc;
}

static enum tcerr
run_allow(const struct export_opts *o, struct sink *s, struct export_counts *c)
{
	return run_rows(o, allow_rows, NALLOW, s, c);
}

static size_t
reason_count(const struct export_counts *c, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nreasons; i++)
		if (strstr(c->reasons[i].reason, needle))
			n += c->reasons[i].count;
	return n;
}

static void
test_allowlist_plain_csv(void **state)
{
	struct allowlist *al;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_add_defaults(al), TC_OK);
	struct export_opts o = { .format = EXPORT_PLAIN, .now_us = NOW, .allow = al };
	struct sink s = { 0 };
	struct export_counts c;

	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	assert_string_equal(s.b.p, "bad.example\n5.6.7.8\n");
	/* 8.8.8.8 (twice: indicator and SCO, one value), www.google.com,
	 * 10.1.0.0/16 inside 10.0.0.0/8, 8.0.0.0/8 holding 8.8.4.4 */
	assert_int_equal(c.allowlisted, 4);
	assert_int_equal(reason_count(&c, "Google Public DNS"), 2);
	assert_int_equal(reason_count(&c, "RFC 1918 private range"), 1);
	assert_int_equal(reason_count(&c, "popular domain"), 1);
	assert_int_equal(reason_count(&c, "holds allowlisted 8.8.4.4"), 1);
	assert_non_null(strstr(c.reasons[0].reason, "built-in allowlist"));
	buf_reset(&s.b);

	/* kept and marked: a comment line before each value */
	o.include_allowlisted = true;
	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	assert_non_null(strstr(s.b.p, "# allowlisted: Google Public DNS (built-in allowlist)\n8.8.8.8\n"));
	assert_non_null(strstr(s.b.p, "\n10.1.0.0/16\n"));
	assert_int_equal(c.allowlisted, 0);
	assert_int_equal(c.allowlisted_kept, 4);
	buf_reset(&s.b);

	/* csv: the rows left out; kept, an "allowlisted" column says why */
	o.format = EXPORT_CSV;
	o.include_allowlisted = false;
	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	assert_null(strstr(s.b.p, "8.8.8.8"));
	assert_null(strstr(s.b.p, "google"));
	assert_non_null(strstr(s.b.p, "bad.example,domain,"));
	assert_int_equal(c.values, 2);
	assert_int_equal(c.allowlisted, 5); /* per row: 8.8.8.8 twice */
	buf_reset(&s.b);
	o.include_allowlisted = true;
	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	const char *head = "value,kind,indicator_id,valid_until,tlp,producer,key_id,allowlisted\r\n";
	assert_true(strncmp(s.b.p, head, strlen(head)) == 0);
	assert_non_null(strstr(s.b.p, "8.8.8.8,ipv4,indicator--a1111111-1111-4111-8111-111111111111,,green,hub,,Google Public DNS (built-in allowlist)\r\n"));
	assert_non_null(strstr(s.b.p, "bad.example,domain,indicator--a2222222-2222-4222-8222-222222222222,,green,hub,,\r\n"));
	assert_int_equal(c.values, 7);
	buf_reset(&s.b);
	allowlist_free(al);
}

static void
test_allowlist_stix(void **state)
{
	struct allowlist *al;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_add_defaults(al), TC_OK);
	struct export_opts o = { .format = EXPORT_STIX, .now_us = NOW, .allow = al,
		                 .bundle_id = "bundle--00000000-0000-4000-8000-000000000000" };
	struct sink s = { 0 };
	struct export_counts c;

	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	json_t *b = json_loadb(s.b.p, s.b.len, 0, NULL);
	assert_non_null(b);
	json_t *objs = json_object_get(b, "objects");
	/* indicator 2 has one allowlisted value of two: left out whole */
	assert_int_equal(json_array_size(objs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 0), "id")),
	                    "indicator--a5555555-5555-4555-8555-555555555555");
	assert_string_equal(json_string_value(json_object_get(json_array_get(objs, 1), "type")),
	                    "ipv4-addr");
	assert_int_equal(c.allowlisted, 4);
	json_decref(b);
	buf_reset(&s.b);

	/* --kind domain: an indicator having one (bad2.example) whose other
	 * value, of another kind, is allowlisted: still left out whole */
	static const struct src mixed[] = {
		{ IND("a7777777-7777-4777-8777-777777777777", "[domain-name:value = 'bad2.example'] OR [ipv4-addr:value = '8.8.8.8']"), false, NULL, TLP_NONE },
	};
	o.kinds = EXPORT_KIND_BIT(OBS_DOMAIN);
	buf_init(&s.b, 0);
	assert_int_equal(run_rows(&o, mixed, 1, &s, &c), TC_OK);
	assert_null(strstr(s.b.p, "a7777777"));
	assert_int_equal(c.objects, 0);
	assert_int_equal(c.allowlisted, 1);
	buf_reset(&s.b);
	o.kinds = 0;

	o.include_allowlisted = true;
	buf_init(&s.b, 0);
	assert_int_equal(run_allow(&o, &s, &c), TC_OK);
	b = json_loadb(s.b.p, s.b.len, 0, NULL);
	assert_non_null(b);
	objs = json_object_get(b, "objects");
	assert_int_equal(json_array_size(objs), NALLOW);
	json_t *m = json_object_get(json_array_get(objs, 1), "x_tocsin_allowlisted");
	assert_true(json_is_array(m));
	assert_int_equal(json_array_size(m), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "value")),
	                    "www.google.com");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "entry")),
	                    "google.com");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "source")),
	                    "built-in allowlist");
	m = json_object_get(json_array_get(objs, 3), "x_tocsin_allowlisted");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "how")),
	                    "contains");
	assert_null(json_object_get(json_array_get(objs, 4), "x_tocsin_allowlisted"));
	assert_null(json_object_get(json_array_get(objs, 5), "x_tocsin_allowlisted"));
	assert_int_equal(c.allowlisted_kept, 4);
	json_decref(b);
	buf_reset(&s.b);
	allowlist_free(al);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stix),
		cmocka_unit_test(test_empty_bundle_and_random_id),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_sink_error_stops),
		cmocka_unit_test(test_through_memory_store),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_allowlist_plain_csv),
		cmocka_unit_test(test_allowlist_stix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
