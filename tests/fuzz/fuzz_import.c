/*
 * fuzz_import.c — libFuzzer target for lib/import.
 *
 * Runs the reader over the input once per format (detection, then each
 * format forced), with small limits so the limit paths are reached, and
 * once more feeding the input in small uneven chunks so records that span
 * reads are exercised. Every object handed on must be a JSON object and
 * every location non-empty; every note (expired, re-fanged, to_ids false)
 * has a place and a text, and the counts agree with the notes made.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"

static enum tcerr
on_object(void *ctx, json_t *obj, const char *where)
{
	if (!json_is_object(obj) || !where[0])
		abort();
	(*(size_t *)ctx)++;
	return TC_OK;
}

static enum tcerr
on_reject(void *ctx, const char *where, enum tcerr rc, const char *why)
{
	if (!where[0] || rc == TC_OK)
		abort();
	return TC_OK;
}

static size_t notes;

static enum tcerr
on_note(void *ctx, const char *where, enum import_note what, const char *text)
{
	if (!where[0] || !text[0] || what < IMPORT_NOTE_EXPIRED || what > IMPORT_NOTE_NOT_IDS)
		abort();
	notes++;
	return TC_OK;
}

struct chunks {
	const uint8_t *p;
	size_t len, off, step;
};

static enum tcerr
read_chunks(void *rctx, char *p, size_t cap, size_t *got)
{
	struct chunks *c = rctx;
	size_t n = c->len - c->off;
	if (n > c->step)
		n = c->step;
	if (n > cap)
		n = cap;
	memcpy(p, c->p + c->off, n);
	c->off += n;
	*got = n;
	return TC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[OBS_CARD_KEY_LEN] = { 42 };
	static const struct obs_ctx obs = { .card_key = key, .card_key_len = sizeof(key) };
	static const enum import_format fmts[] = {
		IMPORT_AUTO, IMPORT_BUNDLE, IMPORT_ENVELOPE, IMPORT_OBJECT,
		IMPORT_ARRAY, IMPORT_MISP, IMPORT_JSONL, IMPORT_CSV,
	};
	size_t n = 0;
	struct import_counts c;
	struct diag d;
	struct import_opts o = { 0 };

	o.obs = &obs;
	o.on_object = on_object;
	o.on_reject = on_reject;
	o.on_note = on_note;
	o.now_us = INT64_C(1767225600000000); /* fixed: runs are reproducible */
	o.ctx = &n;
	o.max_document = 1 << 20;
	o.max_line = 256;
	o.max_objects = 1000;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		o.format = fmts[i];
		o.misp_all = i % 2;
		notes = 0;
		import_buffer("fuzz", (struct slice){ (const char *)data, size }, &o, &c, &d);
		if (c.bytes != size && d.msg[0] == '\0')
			abort(); /* stopped early without saying why */
		if (notes != c.expired + c.refanged + c.not_ids)
			abort();
	}
	struct chunks ch = { data, size, 0, 1 + size % 13 };
	o.format = IMPORT_AUTO;
	import_run("fuzz", read_chunks, &ch, &o, &c, &d);
	return 0;
}
