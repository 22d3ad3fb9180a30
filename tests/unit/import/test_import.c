/* Unit tests of lib/import: each format from tests/data/import/, format
 * detection, limits, determinism of the objects made from CSV and MISP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "import/import.h"
#include "stix/stix_id.h"

#define MAXN 64

struct got {
	size_t n, nrej;
	json_t *obj[MAXN];
	char where[MAXN][IMPORT_WHERE_MAX];
	char rej_where[MAXN][IMPORT_WHERE_MAX];
	char rej_why[MAXN][DIAG_MSG_MAX];
	enum tcerr rej_rc[MAXN];
	size_t nnote;
	char note_where[MAXN][IMPORT_WHERE_MAX];
	char note_text[MAXN][DIAG_MSG_MAX];
	enum import_note note_what[MAXN];
	uint64_t progress_calls, progress_last;
	size_t stop_after; /* 0: never stop */
};

static enum tcerr
on_object(void *ctx, json_t *obj, const char *where)
{
	struct got *g = ctx;
	if (g->stop_after && g->n == g->stop_after)
		return TC_EPERM;
	assert_true(g->n < MAXN);
	g->obj[g->n] = json_incref(obj);
	snprintf(g->where[g->n], IMPORT_WHERE_MAX, "%s", where);
	g->n++;
	return TC_OK;
}

static enum tcerr
on_reject(void *ctx, const char *where, enum tcerr rc, const char *why)
{
	struct got *g = ctx;
	assert_true(g->nrej < MAXN);
	snprintf(g->rej_where[g->nrej], IMPORT_WHERE_MAX, "%s", where);
	snprintf(g->rej_why[g->nrej], DIAG_MSG_MAX, "%s", why);
	g->rej_rc[g->nrej] = rc;
	g->nrej++;
	return TC_OK;
}

static enum tcerr
on_note(void *ctx, const char *where, enum import_note what, const char *text)
{
	struct got *g = ctx;
	assert_true(g->nnote < MAXN);
	snprintf(g->note_where[g->nnote], IMPORT_WHERE_MAX, "%s", where);
	snprintf(g->note_text[g->nnote], DIAG_MSG_MAX, "%s", text);
	g->note_what[g->nnote] = what;
	g->nnote++;
	return TC_OK;
}

static void
on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct got *g = ctx;
	assert_true(done >= g->progress_last);
	g->progress_last = done;
	g->progress_calls++;
}

static void
got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		json_decref(g->obj[i]);
	memset(g, 0, sizeof(*g));
}

static const uint8_t card_key[OBS_CARD_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const struct obs_ctx obsctx = { .card_key = card_key, .card_key_len = sizeof(card_key) };

static struct import_opts
opts_for(struct got *g)
{
	struct import_opts o = { 0 };
	o.obs = &obsctx;
	o.on_object = on_object;
	o.on_reject = on_reject;
	o.on_progress = on_progress;
	o.on_note = on_note;
	o.ctx = g;
	return o;
}

static enum tcerr
run_file(const char *file, const struct import_opts *o, struct import_counts *c, struct diag *d)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", DATA_DIR, file);
	((struct got *)o->ctx)->progress_last = 0;
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	enum tcerr rc = import_file(file, f, o, c, d);
	fclose(f);
	return rc;
}

static enum tcerr
run_text(const char *name, const char *text, const struct import_opts *o,
         struct import_counts *c, struct diag *d)
{
	((struct got *)o->ctx)->progress_last = 0;
	return import_buffer(name, slice_from_cstr(text), o, c, d);
}

static const char *
sget(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_bundle(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("bundle.json", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_BUNDLE);
	assert_int_equal(c.objects, 5);
	assert_int_equal(g.n, 5);
	assert_int_equal(c.rejected, 0);
	const char *types[] = { "identity", "indicator", "malware", "relationship", "ipv4-addr" };
	for (size_t i = 0; i < 5; i++) {
		char w[64];
		snprintf(w, sizeof(w), "bundle.json: objects[%zu]", i);
		assert_string_equal(g.where[i], w);
		assert_string_equal(sget(g.obj[i], "type"), types[i]);
	}
	/* Passed through untouched: the pattern is as written. */
	assert_string_equal(sget(g.obj[1], "pattern"), "[ipv4-addr:value = '198.51.100.1']");
	assert_true(g.progress_calls >= 1);
	assert_int_equal(g.progress_last, c.bytes);
	got_free(&g);
}

static void
test_envelope_and_single_object(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("envelope.json", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_ENVELOPE);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.where[1], "envelope.json: objects[1]");
	got_free(&g);

	assert_int_equal(run_text("one.json",
	                          "{\"type\":\"domain-name\",\"id\":\"domain-name--3c10e93f-798e-"
	                          "5a26-a0c1-08156efab7f5\",\"value\":\"a.example\"}\n",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(c.format, IMPORT_OBJECT);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.where[0], "one.json");
	got_free(&g);

	/* A JSON array of objects; a non-object element is a rejection. */
	assert_int_equal(run_text("arr.json", "[{\"type\":\"x\",\"id\":\"x--1\"}, 3]", &o, &c, &d),
	                 TC_OK);
	assert_int_equal(c.format, IMPORT_ARRAY);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_where[0], "arr.json: [1]");
	got_free(&g);
}

static void
test_document_errors(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_text("bad.json", "{\"type\":\"bundle\",\n \"objects\": [1,}", &o, &c, &d),
	                 TC_EINVAL);
	assert_true(strncmp(d.msg, "bad.json", 8) == 0);
	assert_non_null(strstr(d.msg, "line 2"));

	assert_int_equal(run_text("b.json", "{\"type\":\"bundle\",\"objects\":{}}", &o, &c, &d),
	                 TC_EINVAL);
	assert_string_equal(d.msg, "b.json: objects: must be an array");

	assert_int_equal(run_text("w.json", "{\"hello\":1}", &o, &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "neither a STIX bundle"));

	/* Forced bundle on an envelope is refused, not guessed. */
	o.format = IMPORT_BUNDLE;
	assert_int_equal(run_file("envelope.json", &o, &c, &d), TC_EINVAL);
	assert_int_equal(g.n, 0);

	/* Duplicate keys are refused (I-JSON). */
	o.format = IMPORT_AUTO;
	assert_int_equal(run_text("dup.json", "{\"type\":\"bundle\",\"type\":\"bundle\"}", &o, &c,
	                          &d),
	                 TC_EINVAL);
	got_free(&g);
}

static void
test_limits(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	/* A bundle streams: the document limits do not bound it (memory is
	 * bounded by one object), the same content read whole is bounded. */
	o.max_document = 100;
	o.max_objects = 4;
	assert_int_equal(run_file("bundle.json", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 5);
	got_free(&g);
	o.format = IMPORT_ARRAY;
	assert_int_equal(run_text("a.json", "[{\"type\":\"x\",\"id\":\"x--1\"},"
	                                    "{\"type\":\"x\",\"id\":\"x--2\"}]",
	                          &o, &c, &d),
	                 TC_OK);
	o.max_objects = 1;
	assert_int_equal(run_text("a.json", "[{\"type\":\"x\"},{\"type\":\"x\"}]", &o, &c, &d),
	                 TC_ELIMIT);
	o.max_document = 10;
	assert_int_equal(run_text("a.json", "[{\"type\":\"x\"},{\"type\":\"x\"}]", &o, &c, &d),
	                 TC_ELIMIT);
	assert_non_null(strstr(d.msg, "more than 10 bytes"));
	o.format = IMPORT_AUTO;
	o.max_document = 0;
	got_free(&g);

	/* An object of a streamed bundle over max_object, or nested deeper
	 * than max_depth, is rejected alone; the others are read. */
	o.max_objects = 0;
	o.max_object = 40;
	o.max_depth = 5; /* {"objects":[ {…{…}} ]}: three levels inside */
	assert_int_equal(run_text("big.json",
	                          "{\"type\":\"bundle\",\"objects\":[{\"a\":1},"
	                          "{\"long\":\"0123456789012345678901234567890123456789\"},"
	                          "{\"b\":[[1]]},{\"c\":[[[1]]]}]}",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.nrej, 2);
	assert_string_equal(g.rej_where[0], "big.json: objects[1]");
	assert_int_equal(g.rej_rc[0], TC_ELIMIT);
	assert_non_null(strstr(g.rej_why[0], "larger than 40 bytes"));
	assert_string_equal(g.rej_where[1], "big.json: objects[3]");
	assert_non_null(strstr(g.rej_why[1], "nested deeper than 5"));
	o.max_object = 0;
	o.max_depth = 0;
	got_free(&g);

	/* A line longer than max_line is one rejection; reading goes on. */
	o.max_objects = 0;
	o.max_line = 64;
	char text[1024];
	char longval[200];
	memset(longval, 'a', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	snprintf(text, sizeof(text), "192.0.2.1\n%s.example\n192.0.2.2\n", longval);
	assert_int_equal(run_text("l.csv", text, &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_where[0], "l.csv:2");
	assert_int_equal(g.rej_rc[0], TC_ELIMIT);
	got_free(&g);
}

/* A generated bundle of n objects, read in small pieces by import_run. */
struct gen_src {
	size_t n, i, at;          /* objects, next object, bytes given of the current piece */
	size_t truncate_at;       /* stop in the middle of this object (0: never) */
	char piece[256];
	size_t plen;
	int part;                 /* 0 head, 1 objects, 2 tail, 3 done */
};

static void
gen_next_piece(struct gen_src *g)
{
	int k;
	g->at = 0;
	if (g->part == 0) {
		k = snprintf(g->piece, sizeof(g->piece),
		             "{\"type\":\"bundle\",\"id\":\"bundle--1\",\n\"objects\":[\n");
		g->part = 1;
	} else if (g->part == 1 && g->i < g->n) {
		k = snprintf(g->piece, sizeof(g->piece),
		             "%s{\"type\": \"x\", \"id\": \"x--%zu\", \"s\": \"a \\\"]} b\"}\n",
		             g->i ? "," : "", g->i);
		if (g->truncate_at && g->i == g->truncate_at)
			k /= 2, g->part = 3;
		g->i++;
	} else if (g->part == 1) {
		k = snprintf(g->piece, sizeof(g->piece), "]}\n");
		g->part = 3;
	} else {
		k = 0;
	}
	g->plen = (size_t)k;
}

static enum tcerr
gen_read(void *rctx, char *p, size_t cap, size_t *got)
{
	struct gen_src *g = rctx;
	size_t o = 0;
	while (o < cap) {
		if (g->at == g->plen) {
			gen_next_piece(g);
			if (g->plen == 0)
				break;
		}
		size_t k = g->plen - g->at < cap - o ? g->plen - g->at : cap - o;
		memcpy(p + o, g->piece + g->at, k);
		g->at += k;
		o += k;
	}
	*got = o;
	return TC_OK;
}

struct count_texts {
	size_t n, texts, bad_text;
	char last_text[256];
};

static enum tcerr
count_text(void *ctx, json_t *obj, struct slice text, const char *where)
{
	struct count_texts *ct = ctx;
	ct->n++;
	if (text.p) {
		ct->texts++;
		/* the text is obj's, without whitespace */
		json_t *again = json_loadb(text.p, text.len, 0, NULL);
		if (!json_equal(again, obj) || memchr(text.p, '\n', text.len))
			ct->bad_text++;
		json_decref(again);
		snprintf(ct->last_text, sizeof(ct->last_text), "%.*s", (int)text.len, text.p);
	}
	return TC_OK;
}

/* A bundle far bigger than the document limit streams through: 100,000
 * objects with max_document at 1,000 bytes, each handed on with its
 * compact text. */
static void
test_stream_large_bundle(void **state)
{
	struct count_texts ct = {0};
	struct import_opts o = {0};
	struct import_counts c;
	struct diag d;
	struct gen_src g = {.n = 100000};

	o.on_object_text = count_text;
	o.ctx = &ct;
	o.max_document = 1000;
	assert_int_equal(import_run("big.json", gen_read, &g, &o, &c, &d), TC_OK);
	assert_int_equal(ct.n, 100000);
	assert_int_equal(c.objects, 100000);
	assert_int_equal(c.format, IMPORT_BUNDLE);
	assert_int_equal(ct.texts, 100000);
	assert_int_equal(ct.bad_text, 0);
	assert_string_equal(ct.last_text, "{\"type\":\"x\",\"id\":\"x--99999\",\"s\":\"a \\\"]} b\"}");
}

/* Input that breaks off in object 700 stops the run there, naming the
 * place; the 700 objects before it were handed on. */
static void
test_stream_truncated(void **state)
{
	struct count_texts ct = {0};
	struct import_opts o = {0};
	struct import_counts c;
	struct diag d;
	struct gen_src g = {.n = 1000, .truncate_at = 700};

	o.on_object_text = count_text;
	o.ctx = &ct;
	assert_int_equal(import_run("cut.json", gen_read, &g, &o, &c, &d), TC_EINVAL);
	assert_int_equal(ct.n, 700);
	assert_non_null(strstr(d.msg, "cut.json: line 703 column "));
	assert_non_null(strstr(d.msg, "objects[700]: the input ends inside this element"));
}

struct failing_src {
	struct gen_src g;
	size_t fail_after; /* bytes, then TC_EIO */
	size_t given;
};

static enum tcerr
failing_read(void *rctx, char *p, size_t cap, size_t *got)
{
	struct failing_src *f = rctx;
	if (f->given >= f->fail_after)
		return TC_EIO;
	if (cap > f->fail_after - f->given)
		cap = f->fail_after - f->given;
	enum tcerr rc = gen_read(&f->g, p, cap, got);
	f->given += *got;
	return rc;
}

/* A read error part-way stops the run with the place; what was read
 * before it was handed on. */
static void
test_stream_read_error(void **state)
{
	struct count_texts ct = {0};
	struct import_opts o = {0};
	struct import_counts c;
	struct diag d;
	struct failing_src f = {.g = {.n = 100000}, .fail_after = 1000000};

	o.on_object_text = count_text;
	o.ctx = &ct;
	assert_int_equal(import_run("io.json", failing_read, &f, &o, &c, &d), TC_EIO);
	assert_true(ct.n > 10000 && ct.n < 100000);
	char want[128];
	snprintf(want, sizeof(want), "io.json: read failed at byte 1000000, after %zu objects", ct.n);
	assert_non_null(strstr(d.msg, want));
}

static void
test_stream_envelope_and_members(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	/* members after objects are read (and checked), not refused */
	assert_int_equal(run_text("e.json",
	                          "{\"objects\":[{\"type\":\"x\",\"id\":\"x--1\"},5],"
	                          "\"more\":false,\"next\":\"10\"}",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(c.format, IMPORT_ENVELOPE);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_where[0], "e.json: objects[1]");
	assert_string_equal(g.rej_why[0], "not a JSON object");
	got_free(&g);
	/* an object that does not parse is rejected alone, with its place */
	assert_int_equal(run_text("p.json",
	                          "{\"type\":\"bundle\",\"objects\":[{\"a\":1,\"a\":2},"
	                          "{\"type\":\"x\",\"id\":\"x--2\"}]}",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_where[0], "p.json: objects[0]");
	got_free(&g);
	/* a type after the objects that is not "bundle": stopped, with why */
	assert_int_equal(run_text("t.json",
	                          "{\"objects\":[{\"type\":\"x\",\"id\":\"x--1\"}],"
	                          "\"type\":\"indicator\"}",
	                          &o, &c, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "t.json: type (after objects)"));
	/* a member after objects that is no JSON */
	assert_int_equal(run_text("m.json", "{\"objects\":[],\"more\":fals}", &o, &c, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "more: not valid JSON"));
	got_free(&g);
}

static void
test_jsonl(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("feed.jsonl", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_JSONL);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.where[0], "feed.jsonl:1");
	assert_string_equal(g.where[1], "feed.jsonl:2");
	assert_string_equal(g.where[2], "feed.jsonl:7");
	assert_string_equal(sget(g.obj[2], "type"), "email-addr");
	assert_int_equal(g.nrej, 3);
	assert_string_equal(g.rej_where[0], "feed.jsonl:3");
	assert_string_equal(g.rej_where[1], "feed.jsonl:5");
	assert_string_equal(g.rej_why[1], "not a JSON object");
	assert_string_equal(g.rej_where[2], "feed.jsonl:6"); /* duplicate key */
	assert_int_equal(c.skipped, 1);
	got_free(&g);

	/* The caller can stop the run. */
	g.stop_after = 1;
	assert_int_equal(run_file("feed.jsonl", &o, &c, &d), TC_EPERM);
	assert_int_equal(g.n, 1);
	got_free(&g);
}

static void
test_csv(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("feed.csv", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_CSV);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.where[0], "feed.csv:2");
	assert_string_equal(g.where[1], "feed.csv:3");
	assert_string_equal(g.where[2], "feed.csv:7");
	assert_string_equal(g.where[3], "feed.csv:8");
	assert_int_equal(c.skipped, 2);

	json_t *a = g.obj[0];
	assert_string_equal(sget(a, "type"), "indicator");
	assert_string_equal(sget(a, "spec_version"), "2.1");
	assert_string_equal(sget(a, "name"), "ipv4 198.51.100.7");
	assert_string_equal(sget(a, "pattern_type"), "stix");
	assert_non_null(strstr(sget(a, "pattern"), "'198.51.100.7'"));
	assert_string_equal(sget(a, "created"), "2020-01-01T00:00:00.000Z");
	assert_string_equal(sget(a, "modified"), "2020-01-01T00:00:00.000Z");
	assert_string_equal(sget(a, "valid_from"), "2020-01-01T00:00:00.000Z");
	assert_string_equal(sget(a, "valid_until"), "2030-01-01T00:00:00.000Z");
	assert_string_equal(sget(a, "description"), "C2 server, seen \"twice\"");
	json_t *labels = json_object_get(a, "labels");
	assert_int_equal(json_array_size(labels), 2);
	assert_string_equal(json_string_value(json_array_get(labels, 1)), "c2");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(a, "object_marking_refs"), 0)),
	                    stix_tlp_marking_id(TLP_AMBER));
	/* id = indicator--uuidv5(namespace, "ipv4:198.51.100.7") */
	char uuid[UUID_TEXT_MAX], id[STIX_ID_MAX];
	assert_int_equal(uuid_v5(TOCSIN_UUID_NAMESPACE, SLICE_LIT("ipv4:198.51.100.7"), uuid),
	                 TC_OK);
	snprintf(id, sizeof(id), "indicator--%s", uuid);
	assert_string_equal(sget(a, "id"), id);

	/* Kind guessed and value normalised. */
	assert_string_equal(sget(g.obj[1], "name"), "domain evil.example");
	/* The card: only the keyed hash appears anywhere in the object. */
	char *dump = json_dumps(g.obj[2], JSON_COMPACT);
	assert_non_null(dump);
	assert_null(strstr(dump, "4111"));
	assert_non_null(strstr(dump, "hmac-sha256:"));
	free(dump);
	assert_string_equal(sget(g.obj[3], "description"), "line one\r\nline two");

	const char *rej[][2] = {
		{ "feed.csv:4", "value: " },
		{ "feed.csv:10", "valid_until: must be later than valid_from" },
		{ "feed.csv:11", "kind: 'colour' is not an observable kind" },
		{ "feed.csv:12", "tlp: 'purple' is not clear, green, amber, amber+strict or red" },
		{ "feed.csv:13", "8 fields, at most 6 expected" },
		{ "feed.csv:14", "text after a closing quote" },
		{ "feed.csv:15", "value: " },
	};
	assert_int_equal(g.nrej, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(g.rej_where[i], rej[i][0]);
		assert_true(strncmp(g.rej_why[i], rej[i][1], strlen(rej[i][1])) == 0);
		assert_null(strstr(g.rej_why[i], "4111"));
	}
	got_free(&g);
}

static void
test_csv_deterministic(void **state)
{
	struct got g1 = { 0 }, g2 = { 0 };
	struct import_opts o1 = opts_for(&g1), o2 = opts_for(&g2);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("feed.csv", &o1, &c, &d), TC_OK);
	assert_int_equal(run_file("feed.csv", &o2, &c, &d), TC_OK);
	assert_int_equal(g1.n, g2.n);
	for (size_t i = 0; i < g1.n; i++)
		assert_true(json_equal(g1.obj[i], g2.obj[i]));
	got_free(&g2);

	/* created_us moves the version, not the id. */
	o2.created_us = INT64_C(1700000000000000);
	assert_int_equal(run_file("feed.csv", &o2, &c, &d), TC_OK);
	assert_string_equal(sget(g1.obj[0], "id"), sget(g2.obj[0], "id"));
	assert_string_equal(sget(g2.obj[0], "modified"), "2023-11-14T22:13:20.000Z");
	got_free(&g1);
	got_free(&g2);
}

static void
test_csv_plain_and_header_variants(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	/* A plain list, LF endings, no final newline, BOM. */
	assert_int_equal(run_text("l.txt", "\xEF\xBB\xBF" "192.0.2.1\nevil.example", &o, &c, &d),
	                 TC_OK);
	assert_int_equal(c.format, IMPORT_CSV);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.where[1], "l.txt:2");
	got_free(&g);

	/* Named columns in another order, valid_from given. */
	assert_int_equal(run_text("h.csv",
	                          "kind,value,valid_from,indicator_id\n"
	                          "domain,a.example,2024-02-03,indicator--x\n",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(sget(g.obj[0], "valid_from"), "2024-02-03T00:00:00.000Z");
	assert_string_equal(sget(g.obj[0], "modified"), "2024-02-03T00:00:00.000Z");
	got_free(&g);

	assert_int_equal(run_text("h.csv", "value,tlp_level\n", &o, &c, &d), TC_EINVAL);
	assert_string_equal(d.msg, "h.csv:1: unknown column 'tlp_level'");

	/* Cards without the hub's key are refused, per row. */
	o.obs = NULL;
	assert_int_equal(run_text("c.csv", "4111111111111111,card\n", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 0);
	assert_int_equal(g.nrej, 1);
	assert_int_equal(g.rej_rc[0], TC_EUNSUPPORTED);
	got_free(&g);

	/* Unterminated quote at the end. */
	o.obs = &obsctx;
	assert_int_equal(run_text("q.csv", "192.0.2.1\n\"192.0.2.2,ipv4\n", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_why[0], "unterminated quoted field");
	got_free(&g);

	/* Empty input is nothing, not an error. */
	assert_int_equal(run_text("e", "  \n\n", &o, &c, &d), TC_OK);
	assert_int_equal(c.objects, 0);
}

static void
test_misp(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_file("event.json", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_MISP);
	assert_int_equal(g.n, 6); /* 5 indicators + the report */
	assert_string_equal(g.where[0], "event.json: Event.Attribute[0]");
	assert_string_equal(g.where[1], "event.json: Event.Attribute[1]");
	assert_string_equal(g.where[2], "event.json: Event.Attribute[3]");
	assert_string_equal(g.where[3], "event.json: Event.Attribute[6]");
	assert_string_equal(g.where[4], "event.json: Event.Object[0].Attribute[1]");
	assert_string_equal(g.where[5], "event.json: Event");
	/* to_ids false: noted and counted, not imported, not rejected. */
	assert_int_equal(c.skipped, 0);
	assert_int_equal(c.not_ids, 2);
	assert_int_equal(g.nnote, 2);
	assert_int_equal(g.note_what[0], IMPORT_NOTE_NOT_IDS);
	assert_string_equal(g.note_where[0], "event.json: Event.Attribute[2]");
	assert_non_null(strstr(g.note_text[0], "to_ids false"));
	assert_string_equal(g.note_where[1], "event.json: Event.Object[0].Attribute[0]");

	json_t *ip = g.obj[0];
	assert_string_equal(sget(ip, "name"), "ipv4 203.0.113.5");
	assert_string_equal(sget(ip, "created"), "2024-03-05T14:48:20.000Z");
	assert_string_equal(sget(ip, "description"), "landing page host");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(ip, "object_marking_refs"), 0)),
	                    stix_tlp_marking_id(TLP_AMBER));
	char uuid[UUID_TEXT_MAX], id[STIX_ID_MAX];
	uuid_v5(TOCSIN_UUID_NAMESPACE,
	        SLICE_LIT("misp-attribute:5f1c2a3b-2222-4a2b-9c3d-0123456789ab"), uuid);
	snprintf(id, sizeof(id), "indicator--%s", uuid);
	assert_string_equal(sget(ip, "id"), id);
	/* The attribute's tlp:red is stricter than the event's amber. */
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(g.obj[1], "object_marking_refs"), 0)),
	                    stix_tlp_marking_id(TLP_RED));
	assert_string_equal(sget(g.obj[1], "name"), "domain bank-login.example");
	assert_string_equal(sget(g.obj[2], "name"), "ipv4 198.51.100.23");
	assert_non_null(strstr(sget(g.obj[2], "description"), "port 8443"));
	char *dump = json_dumps(g.obj[3], JSON_COMPACT);
	assert_null(strstr(dump, "4111"));
	free(dump);
	assert_string_equal(sget(g.obj[4], "name"),
	                    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	json_t *rep = g.obj[5];
	assert_string_equal(sget(rep, "type"), "report");
	assert_string_equal(sget(rep, "name"), "Phishing wave against bank customers");
	assert_string_equal(sget(rep, "published"), "2024-03-05T00:00:00.000Z");
	assert_string_equal(sget(rep, "created"), "2024-03-05T14:46:40.000Z");
	json_t *refs = json_object_get(rep, "object_refs");
	assert_int_equal(json_array_size(refs), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(json_string_value(json_array_get(refs, i)), sget(g.obj[i], "id"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(rep, "labels"), 0)),
	                    "threat-level:high");

	assert_int_equal(g.nrej, 2);
	assert_string_equal(g.rej_where[0], "event.json: Event.Attribute[4]");
	assert_string_equal(g.rej_why[0], "MISP type 'yara' is not supported");
	assert_int_equal(g.rej_rc[0], TC_EUNSUPPORTED);
	assert_string_equal(g.rej_where[1], "event.json: Event.Attribute[5]");

	/* Importing again: the same objects. */
	struct got g2 = { 0 };
	struct import_opts o2 = opts_for(&g2);
	assert_int_equal(run_file("event.json", &o2, &c, &d), TC_OK);
	assert_int_equal(g2.n, g.n);
	for (size_t i = 0; i < g.n; i++)
		assert_true(json_equal(g.obj[i], g2.obj[i]));
	got_free(&g2);
	got_free(&g);

	/* misp_all takes the attributes without to_ids (the url; filename
	 * is an unsupported type then). */
	o.misp_all = true;
	assert_int_equal(run_file("event.json", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 7);
	assert_int_equal(g.nrej, 3);
	got_free(&g);
}

static void
test_misp_wrappers(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;
	const char *ev = "{\"Event\":{\"info\":\"x\",\"uuid\":\"5f1c2a3b-1111-4a2b-9c3d-"
	                 "0123456789ab\",\"Attribute\":[{\"type\":\"AS\",\"to_ids\":true,"
	                 "\"value\":\"64496\"}]}}";
	char text[1024];

	snprintf(text, sizeof(text), "{\"response\":[%s,%s]}", ev, ev);
	assert_int_equal(run_text("r.json", text, &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_MISP);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.where[2], "r.json: response[1].Event.Attribute[0]");
	assert_string_equal(sget(g.obj[0], "name"), "asn AS64496");
	/* No timestamps: the fixed time. */
	assert_string_equal(sget(g.obj[0], "created"), "2020-01-01T00:00:00.000Z");
	got_free(&g);

	snprintf(text, sizeof(text), "[%s]", ev);
	assert_int_equal(run_text("l.json", text, &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.where[1], "l.json: [0].Event");
	got_free(&g);

	/* An event without importable attributes makes no report. */
	assert_int_equal(run_text("n.json", "{\"Event\":{\"info\":\"x\",\"Attribute\":[]}}", &o, &c,
	                          &d),
	                 TC_OK);
	assert_int_equal(g.n, 0);
	got_free(&g);
}


/* The CSV that bench's generator writes: its header names every column,
 * in its own order, and is neither imported nor rejected. */
static void
test_csv_generator_header(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	o.now_us = INT64_C(1767225600000000); /* 2026-01-01 */
	assert_int_equal(
	    run_text("gen.csv",
	             "kind,value,name,tlp,confidence,valid_from,valid_until,labels\n"
	             "ipv4,154.9.153.44,Malicious IP 154.9.153.44,clear,65,"
	             "2025-06-09T00:35:15.096Z,,ddos;spam\n"
	             "ipv4,176.29.201.0/24,Malicious network 176.29.201.0/24,green,,"
	             "2025-07-10T02:17:55.332Z,,\n"
	             "domain,livel.kz,Phishing domain livel.kz,green,85,2025-04-18T21:32:24.232Z,"
	             "2025-05-27T21:32:24.232Z,\n",
	             &o, &c, &d),
	    TC_OK);
	assert_int_equal(g.nrej, 0);
	assert_int_equal(c.rejected, 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.where[0], "gen.csv:2");
	assert_string_equal(sget(g.obj[0], "name"), "Malicious IP 154.9.153.44");
	assert_int_equal(json_integer_value(json_object_get(g.obj[0], "confidence")), 65);
	assert_null(json_object_get(g.obj[1], "confidence"));
	assert_string_equal(sget(g.obj[0], "valid_from"), "2025-06-09T00:35:15.096Z");
	assert_string_equal(json_string_value(json_array_get(json_object_get(g.obj[0], "labels"), 1)),
	                    "spam");
	/* The third row expired before now: imported, and said so. */
	assert_int_equal(c.expired, 1);
	assert_int_equal(g.nnote, 1);
	assert_int_equal(g.note_what[0], IMPORT_NOTE_EXPIRED);
	assert_string_equal(g.note_where[0], "gen.csv:4");
	assert_non_null(strstr(g.note_text[0], "2025-05-27T21:32:24.232Z"));
	got_free(&g);

	/* A bad confidence is the row's problem, not the file's. */
	assert_int_equal(run_text("gen.csv", "value,confidence\nevil.example,101\n", &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.nrej, 1);
	assert_string_equal(g.rej_why[0], "confidence: '101' is not an integer from 0 to 100");
	got_free(&g);

	/* A name column never repeats a card number in the indicator. */
	assert_int_equal(run_text("gen.csv", "value,kind,name\n4111111111111111,card,"
	                                     "card 4111111111111111\n",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 1);
	char *dump = json_dumps(g.obj[0], JSON_COMPACT);
	assert_null(strstr(dump, "4111"));
	free(dump);
	got_free(&g);
}

static void
test_refang(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	assert_int_equal(run_text("f.csv",
	                          "hxxps://evil[.]example/a\n"
	                          "hXXp://bad(dot)example[:]8080/b\n"
	                          "user[@]phish[dot]example\n"
	                          "x(at)phish(.)example\n"
	                          "203.0.113[.]9\n"
	                          "plain.example\n",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.nrej, 0);
	assert_int_equal(g.n, 6);
	assert_string_equal(sget(g.obj[0], "name"), "url https://evil.example/a");
	assert_string_equal(sget(g.obj[1], "name"), "url http://bad.example:8080/b");
	assert_string_equal(sget(g.obj[2], "name"), "email user@phish.example");
	assert_string_equal(sget(g.obj[3], "name"), "email x@phish.example");
	assert_string_equal(sget(g.obj[4], "name"), "ipv4 203.0.113.9");
	assert_int_equal(c.refanged, 5);
	assert_int_equal(g.nnote, 5);
	assert_int_equal(g.note_what[0], IMPORT_NOTE_REFANGED);
	assert_string_equal(g.note_where[4], "f.csv:5");
	assert_non_null(strstr(g.note_text[0], "https://evil.example/a"));
	got_free(&g);
}

static const char *
label(const json_t *o, size_t i)
{
	return json_string_value(json_array_get(json_object_get(o, "labels"), i));
}

static void
test_misp_composite_tags_orgc(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	/* event_rich.json is an unwrapped event. */
	assert_int_equal(run_file("event_rich.json", &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_MISP);
	assert_int_equal(g.nrej, 0);
	assert_int_equal(g.n, 7); /* domain|ip gives two; four more; the report */
	/* domain|ip: split into a domain and an address indicator. */
	assert_string_equal(g.where[0], "event_rich.json: Attribute[0]");
	assert_string_equal(sget(g.obj[0], "name"), "domain c2.bad-actor.example");
	assert_string_equal(sget(g.obj[1], "name"), "ipv4 203.0.113.77");
	assert_string_not_equal(sget(g.obj[0], "id"), sget(g.obj[1], "id"));
	/* ip-src|port and hostname|port: the address or name, the port said. */
	assert_string_equal(sget(g.obj[2], "name"), "ipv6 2001:db8::66");
	assert_non_null(strstr(sget(g.obj[2], "description"), "source port 4444"));
	assert_string_equal(sget(g.obj[3], "name"), "domain panel.bad-actor.example");
	assert_non_null(strstr(sget(g.obj[3], "description"), "port 8080"));
	assert_string_equal(label(g.obj[3], 0), "kill-chain:command-and-control");
	/* filename|sha1: the hash, the file name said; the galaxy a label. */
	assert_string_equal(sget(g.obj[4], "name"),
	                    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709");
	assert_non_null(strstr(sget(g.obj[4], "description"), "dropper.exe"));
	assert_string_equal(label(g.obj[4], 0), "misp-galaxy:malware=\"X-Agent\"");
	/* the defanged url */
	assert_string_equal(sget(g.obj[5], "name"), "url https://login.bad-actor.example/owa");
	assert_int_equal(c.refanged, 1);
	/* TLP from the event's tag, Orgc as an external reference. */
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(json_string_value(json_array_get(
		                            json_object_get(g.obj[i], "object_marking_refs"), 0)),
		                    stix_tlp_marking_id(TLP_GREEN));
		json_t *ext = json_object_get(g.obj[i], "external_references");
		json_t *orgc = json_array_get(ext, json_array_size(ext) - 1);
		assert_string_equal(sget(orgc, "source_name"), "misp-orgc");
		assert_string_equal(sget(orgc, "description"), "CERT-Example");
		assert_string_equal(sget(orgc, "external_id"), "6a2b3c4d-0000-4e5f-8a9b-0123456789ab");
	}
	/* The report: the event's tags and galaxy clusters as labels. */
	json_t *rep = g.obj[6];
	assert_string_equal(sget(rep, "type"), "report");
	assert_string_equal(g.where[6], "event_rich.json");
	assert_int_equal(json_array_size(json_object_get(rep, "object_refs")), 6);
	assert_string_equal(label(rep, 0), "threat-level:medium");
	assert_string_equal(label(rep, 1), "osint:source-type=\"block-or-filter-list\"");
	assert_string_equal(label(rep, 2), "misp-galaxy:threat-actor=\"Sofacy\"");
	/* to_ids false: noted, not imported. */
	assert_int_equal(c.not_ids, 1);
	got_free(&g);
}

static void
test_misp_malformed(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;

	/* Faults confined to an attribute reject that attribute, by place. */
	assert_int_equal(run_file("event_bad.json", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 2); /* the good attribute and the report */
	assert_string_equal(sget(g.obj[0], "created"), "2024-05-01T10:40:01.000Z");
	const char *rej[][2] = {
		{ "event_bad.json: Event.Attribute[1].value", "not a string" },
		{ "event_bad.json: Event.Attribute[2].timestamp", "not a Unix time" },
		{ "event_bad.json: Event.Attribute[3].to_ids", "not a boolean" },
		{ "event_bad.json: Event.Attribute[4]", "value: port: not a number from 1 to 65535" },
		{ "event_bad.json: Event.Attribute[5].Tag[0].name", "not a TLP 2.0 tag" },
	};
	assert_int_equal(g.nrej, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(g.rej_where[i], rej[i][0]);
		assert_true(strncmp(g.rej_why[i], rej[i][1], strlen(rej[i][1])) == 0);
	}
	got_free(&g);

	/* tlp:ex:chr is no level: a label, not a refusal. */
	assert_int_equal(run_text("x.json",
	                          "{\"Event\":{\"info\":\"x\",\"Tag\":[{\"name\":\"tlp:ex:chr\"},"
	                          "{\"name\":\"tlp:amber\"}],\"Attribute\":[{\"type\":\"domain\","
	                          "\"to_ids\":true,\"value\":\"chr.example\"}]}}",
	                          &o, &c, &d),
	                 TC_OK);
	assert_int_equal(g.nrej, 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(label(g.obj[1], 0), "tlp:ex:chr");
	assert_string_equal(json_string_value(json_array_get(
	                            json_object_get(g.obj[0], "object_marking_refs"), 0)),
	                    stix_tlp_marking_id(TLP_AMBER));
	got_free(&g);

	/* Faults of the event's shape reject the whole event, nothing of it
	 * handed on, and never turn into a made-up time. */
	static const char *const events[][3] = {
		{ "{\"Event\":{\"info\":\"x\",\"Attribute\":{\"type\":\"ip-dst\",\"to_ids\":true,"
		  "\"value\":\"192.0.2.1\"}}}",
		  "a.json: Event.Attribute", "not a list" },
		{ "{\"Event\":{\"info\":\"x\",\"timestamp\":\"2024-01-01\",\"Attribute\":[{\"type\":"
		  "\"ip-dst\",\"to_ids\":true,\"value\":\"192.0.2.1\"}]}}",
		  "a.json: Event.timestamp", "not a Unix time" },
		{ "{\"Event\":{\"info\":\"x\",\"timestamp\":-5,\"Attribute\":[]}}",
		  "a.json: Event.timestamp", "not a Unix time" },
		{ "{\"Event\":{\"info\":\"x\",\"date\":\"01/02/2024\",\"Attribute\":[]}}",
		  "a.json: Event.date", "not a YYYY-MM-DD date" },
		{ "{\"Event\":{\"info\":\"x\",\"Object\":[{\"Attribute\":{}}]}}",
		  "a.json: Event.Object[0].Attribute", "not a list" },
		{ "{\"Event\":{\"info\":\"x\",\"Tag\":{\"name\":\"tlp:red\"},\"Attribute\":[]}}",
		  "a.json: Event.Tag", "not a list" },
		{ "{\"Event\":{\"info\":\"x\",\"Orgc\":\"CIRCL\",\"Attribute\":[]}}",
		  "a.json: Event.Orgc", "not an object" },
		{ "{\"info\":\"x\",\"timestamp\":\"soon\",\"Attribute\":[]}",
		  "a.json: timestamp", "not a Unix time" },
	};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		assert_int_equal(run_text("a.json", events[i][0], &o, &c, &d), TC_OK);
		assert_int_equal(g.n, 0);
		assert_int_equal(g.nrej, 1);
		assert_string_equal(g.rej_where[0], events[i][1]);
		assert_true(strncmp(g.rej_why[0], events[i][2], strlen(events[i][2])) == 0);
		got_free(&g);
	}
}

static void
test_misp_unwrapped_and_response(void **state)
{
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;
	const char *bare = "{\"info\":\"x\",\"uuid\":\"5f1c2a3b-1111-4a2b-9c3d-0123456789ab\","
	                   "\"timestamp\":1700000000,\"Attribute\":[{\"type\":\"domain\","
	                   "\"to_ids\":true,\"value\":\"bare.example\"}]}";
	char text[1024];

	assert_int_equal(run_text("b.json", bare, &o, &c, &d), TC_OK);
	assert_int_equal(c.format, IMPORT_MISP);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.where[0], "b.json: Attribute[0]");
	assert_string_equal(sget(g.obj[0], "created"), "2023-11-14T22:13:20.000Z");
	got_free(&g);

	/* The API's list form, with bare events in it too. */
	snprintf(text, sizeof(text), "{\"response\":[%s,{\"Event\":%s}]}", bare, bare);
	assert_int_equal(run_text("r.json", text, &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.where[0], "r.json: response[0].Attribute[0]");
	assert_string_equal(g.where[2], "r.json: response[1].Event.Attribute[0]");
	got_free(&g);
}

static void
test_format_names(void **state)
{
	enum import_format f;
	assert_int_equal(import_format_parse("csv", &f), TC_OK);
	assert_int_equal(f, IMPORT_CSV);
	assert_int_equal(import_format_parse("stix", &f), TC_OK);
	assert_int_equal(f, IMPORT_AUTO);
	assert_int_equal(import_format_parse("xml", &f), TC_EINVAL);
	assert_string_equal(import_format_name(IMPORT_MISP), "misp");

	/* Forcing csv on JSON makes rejections, not objects. */
	struct got g = { 0 };
	struct import_opts o = opts_for(&g);
	struct import_counts c;
	struct diag d;
	o.format = IMPORT_CSV;
	assert_int_equal(run_file("envelope.json", &o, &c, &d), TC_OK);
	assert_int_equal(g.n, 0);
	assert_true(g.nrej > 0);
	got_free(&g);
}

/* issue 9: with an id key (a hub's), ids are uuid_keyed over the same
 * names, so they are stable under one key and differ under another */
static void
test_csv_ids_under_a_key(void **state)
{
	(void)state;
	static const uint8_t k1[32] = { 9 }, k2[32] = { 10 };
	const char *csv = "198.51.100.7,ipv4\n";
	char uuid[UUID_TEXT_MAX], id[STIX_ID_MAX], first[STIX_ID_MAX];
	struct import_counts c;
	struct diag d;

	for (int round = 0; round < 3; round++) {
		struct got g = { 0 };
		struct import_opts o = opts_for(&g);
		o.id_key = round < 2 ? k1 : k2;
		o.id_key_len = 32;
		assert_int_equal(run_text("k.csv", csv, &o, &c, &d), TC_OK);
		assert_int_equal(g.n, 1);
		assert_int_equal(uuid_keyed(o.id_key, 32, SLICE_LIT("ipv4:198.51.100.7"), uuid), TC_OK);
		snprintf(id, sizeof(id), "indicator--%s", uuid);
		assert_string_equal(sget(g.obj[0], "id"), id);
		if (round == 0)
			snprintf(first, sizeof(first), "%s", id);
		else if (round == 1)
			assert_string_equal(id, first);
		else
			assert_string_not_equal(id, first);
		assert_int_equal(uuid_v5(TOCSIN_UUID_NAMESPACE, SLICE_LIT("ipv4:198.51.100.7"), uuid),
		                 TC_OK);
		assert_null(strstr(sget(g.obj[0], "id"), uuid));
		got_free(&g);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle),
		cmocka_unit_test(test_envelope_and_single_object),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_stream_large_bundle),
		cmocka_unit_test(test_stream_truncated),
		cmocka_unit_test(test_stream_read_error),
		cmocka_unit_test(test_stream_envelope_and_members),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_deterministic),
		cmocka_unit_test(test_csv_ids_under_a_key),
		cmocka_unit_test(test_csv_plain_and_header_variants),
		cmocka_unit_test(test_misp),
		cmocka_unit_test(test_misp_wrappers),
		cmocka_unit_test(test_csv_generator_header),
		cmocka_unit_test(test_refang),
		cmocka_unit_test(test_misp_composite_tags_orgc),
		cmocka_unit_test(test_misp_malformed),
		cmocka_unit_test(test_misp_unwrapped_and_response),
		cmocka_unit_test(test_format_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
