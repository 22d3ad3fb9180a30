/*
 * export.c — the export writer: stored versions in, bundle / CSV / list out.
 *
 * Output goes through one buffer flushed to the sink every EXPORT_FLUSH
 * bytes; the first error (of the sink, of memory) is kept and ends the
 * export. The bundle is well-formed JSON at every flush boundary once
 * finished: the opening is written with the first object (or at finish),
 * objects are separated by ",\n", and the closing "]}" comes last.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "export.h"
#include "stix/stix_id.h"
#include "util/buf.h"
#include "util/timestamp.h"

struct export_writer {
	struct export_opts o;
	const struct obs_ctx *obs;
	export_write_fn write;
	void *wctx;
	struct buf out;
	enum tcerr err;
	bool started;           /* header written */
	size_t nobj;            /* objects written into the bundle */
	char bundle_id[STIX_ID_MAX];
	struct export_counts c;
	/* plain: a set of 64-bit value hashes, open addressing, 0 = empty */
	uint64_t *set;
	size_t set_cap, set_n;
	/* stix: producers of the objects written, for their identities */
	int64_t *producers;
	size_t nproducers, cap_producers;
	/* per row, for the extract callback */
	const struct store_row *row;
	size_t row_values;
	bool row_match;
	/* stix: the row's allowlisted values, as the marking property's
	 * elements (include_allowlisted) or only counted */
	json_t *row_allow;
	size_t row_nallow;
};

#define EXPORT_ROW_MARKS 64 /* allowlisted values marked on one stix object */

const char *
export_format_name(enum export_format f)
{
	switch (f) {
	case EXPORT_STIX: return "stix";
	case EXPORT_CSV: return "csv";
	case EXPORT_PLAIN: return "plain";
	case EXPORT_RPZ: return "rpz";
	case EXPORT_NFT: return "nft";
	case EXPORT_IPSET: return "ipset";
	case EXPORT_SURICATA_DATASET: return "suricata-dataset";
	case EXPORT_SURICATA_IPREP: return "suricata-iprep";
	case EXPORT_ZEEK: return "zeek";
	case EXPORT_MISP_FEED: return "misp-feed";
	}
	return "?";
}

enum tcerr
export_format_parse(const char *name, enum export_format *out)
{
	if (!name)
		return TC_EINVAL;
	if (strcasecmp(name, "stix") == 0 || strcasecmp(name, "json") == 0)
		*out = EXPORT_STIX;
	else if (strcasecmp(name, "csv") == 0)
		*out = EXPORT_CSV;
	else if (strcasecmp(name, "plain") == 0 || strcasecmp(name, "txt") == 0)
		*out = EXPORT_PLAIN;
	else {
		for (int f = EXPORT_RPZ; f <= EXPORT_FORMAT_LAST; f++) {
			if (strcasecmp(name, export_format_name((enum export_format)f)) == 0) {
				*out = (enum export_format)f;
				return TC_OK;
			}
		}
		return TC_EINVAL;
	}
	return TC_OK;
}

enum tcerr
export__sink(struct buf *out, export_write_fn write, void *wctx, enum tcerr *err, bool force,
             struct diag *d)
{
	if (*err)
		return *err;
	if ((*err = buf_error(out)))
		return diag_set(d, *err, "export: output buffer: %s", tcerr_str(*err));
	if (!out->len || (!force && out->len < EXPORT_FLUSH))
		return TC_OK;
	if ((*err = write(wctx, out->p, out->len)))
		return diag_set(d, *err, "export: write failed: %s", tcerr_str(*err));
	buf_clear(out);
	return TC_OK;
}

static enum tcerr
flush(struct export_writer *w, bool force, struct diag *d)
{
	return export__sink(&w->out, w->write, w->wctx, &w->err, force, d);
}

enum tcerr
export_writer_new(const struct export_opts *opts, const struct obs_ctx *obs,
                  export_write_fn write, void *wctx, struct export_writer **out,
                  struct diag *d)
{
	*out = NULL;
	if (!opts || !write)
		return diag_set(d, TC_EINVAL, "export: no options or sink");
	if (opts->format < EXPORT_STIX || opts->format > EXPORT_PLAIN)
		return diag_set(d, TC_EINVAL, "export: format %s is written from decisions "
		                "(export_dec_writer), not stored rows", export_format_name(opts->format));
	struct export_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return diag_set(d, TC_ENOMEM, "out of memory");
	w->o = *opts;
	w->o.bundle_id = NULL;
	w->o.collection = NULL;
	w->obs = obs;
	w->write = write;
	w->wctx = wctx;
	/* Room for one object beyond the flush threshold. */
	buf_init(&w->out, EXPORT_FLUSH + EXPORT_MAX_OBJECT + 64);
	if (!w->o.now_us)
		w->o.now_us = ts_now_us();
	if (w->o.default_tlp == TLP_NONE)
		w->o.default_tlp = REG_DEFAULT_TLP;
	if (opts->format == EXPORT_STIX) {
		if (opts->bundle_id) {
			if (!stix_id_valid(slice_from_cstr(opts->bundle_id), NULL) ||
			    strncmp(opts->bundle_id, "bundle--", 8) != 0) {
				free(w);
				return diag_set(d, TC_EINVAL, "bundle id: not bundle--<uuid>");
			}
			snprintf(w->bundle_id, sizeof(w->bundle_id), "%s", opts->bundle_id);
		} else {
			char u[UUID_TEXT_MAX];
			enum tcerr rc = uuid_v4(u);
			if (rc) {
				free(w);
				return diag_set(d, rc, "export: cannot make a bundle id");
			}
			snprintf(w->bundle_id, sizeof(w->bundle_id), "bundle--%s", u);
		}
	}
	*out = w;
	return TC_OK;
}

static void
start(struct export_writer *w)
{
	if (w->started)
		return;
	w->started = true;
	switch (w->o.format) {
	case EXPORT_STIX:
		/* STIX 2.1 §8: type, id and objects. */
		buf_printf(&w->out, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", w->bundle_id);
		break;
	case EXPORT_CSV:
		buf_append_cstr(&w->out,
		                w->o.include_allowlisted
		                    ? "value,kind,indicator_id,valid_until,tlp,producer,key_id,"
		                      "allowlisted\r\n"
		                    : "value,kind,indicator_id,valid_until,tlp,producer,key_id\r\n");
		break;
	default: /* plain; the decision formats never reach this writer */
		break;
	}
}

/* RFC 4180 §2.6-2.7: quote a field holding a comma, quote, CR or LF (and
 * one with edge spaces, which some readers would trim). */
static void
csv_field(struct buf *b, struct slice s)
{
	bool q = s.len && (s.p[0] == ' ' || s.p[s.len - 1] == ' ');
	for (size_t i = 0; i < s.len && !q; i++)
		q = s.p[i] == ',' || s.p[i] == '"' || s.p[i] == '\r' || s.p[i] == '\n';
	if (!q) {
		buf_append_slice(b, s);
		return;
	}
	buf_append_char(b, '"');
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '"')
			buf_append_char(b, '"');
		buf_append_char(b, s.p[i]);
	}
	buf_append_char(b, '"');
}

/* Inserts h; returns 1 if new, 0 if present, -1 on error (w->err set). */
static int
set_add(struct export_writer *w, uint64_t h)
{
	if (!h)
		h = 1;
	if (2 * (w->set_n + 1) > w->set_cap) {
		if (w->set_n >= EXPORT_MAX_VALUES) {
			w->err = TC_ELIMIT;
			return -1;
		}
		size_t ncap = w->set_cap ? w->set_cap * 2 : 1024;
		uint64_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns) {
			w->err = TC_ENOMEM;
			return -1;
		}
		for (size_t i = 0; i < w->set_cap; i++) {
			if (!w->set[i])
				continue;
			size_t j = (size_t)w->set[i] & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = w->set[i];
		}
		free(w->set);
		w->set = ns;
		w->set_cap = ncap;
	}
	size_t j = (size_t)h & (w->set_cap - 1);
	while (w->set[j]) {
		if (w->set[j] == h)
			return 0;
		j = (j + 1) & (w->set_cap - 1);
	}
	w->set[j] = h;
	w->set_n++;
	return 1;
}

/* csv: the producer column (issue 8). */
static void
csv_producer(struct export_writer *w, int64_t producer)
{
	const struct reg_org *o =
	    producer && w->o.names ? reg_snapshot_org(w->o.names, producer) : NULL;

	if (producer == 0)
		buf_append_cstr(&w->out, "hub");
	else if (o)
		csv_field(&w->out, slice_from_cstr(o->name));
	else
		buf_printf(&w->out, "#%lld", (long long)producer);
}

/* stix: remembers that an object of producer was written (once each). */
static void
note_producer(struct export_writer *w, int64_t producer)
{
	if (!producer || !w->o.names)
		return;
	for (size_t i = 0; i < w->nproducers; i++)
		if (w->producers[i] == producer)
			return;
	if (w->nproducers == w->cap_producers) {
		size_t ncap = w->cap_producers ? 2 * w->cap_producers : 16;
		int64_t *np = realloc(w->producers, ncap * sizeof(*np));
		if (!np) {
			w->err = TC_ENOMEM;
			return;
		}
		w->producers = np;
		w->cap_producers = ncap;
	}
	w->producers[w->nproducers++] = producer;
}

void
export_reason_text(const struct allowlist_hit *hit, char *out, size_t n)
{
	int k;
	if (hit->how == ALLOWLIST_CONTAINS)
		k = snprintf(out, n, "holds allowlisted %s: %s (%s%s)", hit->entry.value,
		             hit->entry.reason, hit->entry.builtin ? "" : "allowlist ",
		             hit->entry.source);
	else
		k = snprintf(out, n, "%s (%s%s)", hit->entry.reason,
		             hit->entry.builtin ? "" : "allowlist ", hit->entry.source);
	/* a cut reason is still a reason: end it visibly */
	if (k < 0 || (size_t)k >= n) {
		if (n > 4)
			memcpy(out + n - 4, "...", 4);
	}
}

bool
export_filter_value(const struct allowlist *al, enum obs_kind kind, struct slice value,
                    struct allowlist_hit *hit, struct export_counts *counts)
{
	struct allowlist_hit h;
	if (!al || !allowlist_check_block(al, kind, value, &h))
		return false;
	if (hit)
		*hit = h;
	if (!counts)
		return true;
	char text[EXPORT_REASON_MAX];
	export_reason_text(&h, text, sizeof(text));
	for (size_t i = 0; i < counts->nreasons; i++) {
		if (strcmp(counts->reasons[i].reason, text) == 0) {
			counts->reasons[i].count++;
			return true;
		}
	}
	if (counts->nreasons == EXPORT_MAX_REASONS) {
		counts->reasons_other++;
		return true;
	}
	struct export_reason *r = &counts->reasons[counts->nreasons++];
	memcpy(r->reason, text, sizeof(text));
	r->count = 1;
	return true;
}

/* The stix marking element of one allowlisted value, added to the row's
 * list. Returns TC_OK or TC_ENOMEM. */
static enum tcerr
row_mark(struct export_writer *w, enum obs_kind kind, struct slice value,
         const struct allowlist_hit *h)
{
	w->row_nallow++;
	if (!w->o.include_allowlisted || w->row_nallow > EXPORT_ROW_MARKS)
		return TC_OK;
	if (!w->row_allow && !(w->row_allow = json_array()))
		return TC_ENOMEM;
	json_t *e = json_pack("{s:s%,s:s,s:s,s:s,s:s,s:s}", "value", value.p, value.len, "kind",
	                      obs_kind_name(kind), "how",
	                      h->how == ALLOWLIST_CONTAINS ? "contains" : "covered", "entry",
	                      h->entry.value, "reason", h->entry.reason, "source",
	                      h->entry.source);
	if (!e || json_array_append_new(w->row_allow, e))
		return TC_ENOMEM;
	return TC_OK;
}

static enum tcerr
on_obs(void *ctx, enum obs_kind kind, struct slice value)
{
	struct export_writer *w = ctx;
	bool wanted = !w->o.kinds || (w->o.kinds & EXPORT_KIND_BIT(kind));
	/* stix writes the whole indicator: each of its values is judged,
	 * those of the kinds --kind leaves out too */
	if (!wanted && w->o.format != EXPORT_STIX)
		return TC_OK;
	if (wanted)
		w->row_match = true;
	if (w->o.format == EXPORT_PLAIN) {
		/* A value is one line: one with a line break cannot be written
		 * safely and is left out (no normalised value has one). */
		if (memchr(value.p, '\n', value.len) || memchr(value.p, '\r', value.len))
			return TC_OK;
		/* 64-bit hashes: two distinct values collide with odds of
		 * about n^2 / 2^65, i.e. never at hub sizes. Checked before
		 * the allowlist so each distinct value is counted once. */
		int added = set_add(w, XXH3_64bits_withSeed(value.p, value.len, (uint64_t)kind));
		if (added < 0)
			return w->err;
		if (!added)
			return TC_OK;
	}
	/* The one filter every format passes (export.h): nothing below may
	 * write a value before it. An SCO's values are observations: a stix
	 * export keeps the object (only indicators become blocks). */
	struct allowlist_hit hit;
	bool stix_sco = w->o.format == EXPORT_STIX && strcmp(w->row->type, "indicator") != 0;
	bool listed = !stix_sco && export_filter_value(w->o.allow, kind, value, &hit, &w->c);
	char why[EXPORT_REASON_MAX] = "";
	if (listed) {
		if (w->o.format == EXPORT_STIX)
			return row_mark(w, kind, value, &hit);
		if (!w->o.include_allowlisted) {
			w->c.allowlisted++;
			return TC_OK;
		}
		w->c.allowlisted_kept++;
		export_reason_text(&hit, why, sizeof(why));
	}
	switch (w->o.format) {
	case EXPORT_STIX:
		break;
	case EXPORT_CSV: {
		char t[TS_TEXT_MAX] = "";
		csv_field(&w->out, value);
		buf_printf(&w->out, ",%s,", obs_kind_name(kind));
		csv_field(&w->out, slice_from_cstr(w->row->id));
		buf_append_char(&w->out, ',');
		if (w->row->valid_until_us)
			ts_format(w->row->valid_until_us, 3, t);
		/* never blank: an unmarked version has the default's level */
		buf_printf(&w->out, "%s,%s,", t,
		           stix_tlp_name(w->row->tlp == TLP_NONE ? w->o.default_tlp : w->row->tlp));
		csv_producer(w, w->row->producer);
		buf_append_char(&w->out, ',');
		csv_field(&w->out, slice_from_cstr(w->row->key_id ? w->row->key_id : ""));
		if (w->o.include_allowlisted) {
			buf_append_char(&w->out, ',');
			csv_field(&w->out, slice_from_cstr(why));
		}
		buf_append_cstr(&w->out, "\r\n");
		w->row_values++;
		break;
	}
	case EXPORT_PLAIN: {
		if (listed) {
			/* a reason is one line too */
			buf_append_cstr(&w->out, "# allowlisted: ");
			for (const char *p = why; *p; p++)
				buf_append_char(&w->out, *p == '\n' || *p == '\r' ? ' ' : *p);
			buf_append_char(&w->out, '\n');
		}
		buf_append_slice(&w->out, value);
		buf_append_char(&w->out, '\n');
		w->row_values++;
		break;
	}
	default:
		break;
	}
	return buf_error(&w->out);
}

/* Writes a stored object with "x_tocsin_allowlisted" added as its last
 * property (export.h). The stored text is one JSON object without
 * insignificant whitespace at its end: the property goes before its
 * closing brace. Errors: TC_ENOMEM. */
static enum tcerr
mark_object(struct export_writer *w, struct slice json)
{
	size_t end = json.len;
	while (end && json.p[end - 1] != '}')
		end--;
	if (!end || !w->row_allow) {
		buf_append_slice(&w->out, json);
		return TC_OK;
	}
	char *marks = json_dumps(w->row_allow, JSON_COMPACT);
	if (!marks)
		return TC_ENOMEM;
	buf_append_slice(&w->out, slice_make(json.p, end - 1));
	/* "{}" has no property before ours */
	size_t k = end - 1;
	while (k && (json.p[k - 1] == ' ' || json.p[k - 1] == '\n'))
		k--;
	if (k && json.p[k - 1] != '{')
		buf_append_char(&w->out, ',');
	buf_append_cstr(&w->out, "\"x_tocsin_allowlisted\":");
	buf_append_cstr(&w->out, marks);
	buf_append_char(&w->out, '}');
	/* with the allocator jansson was given (the daemon's arena) */
	json_free_t f = NULL;
	json_get_alloc_funcs(NULL, &f);
	if (f)
		f(marks);
	else
		free(marks);
	return TC_OK;
}

enum tcerr
export_writer_row(struct export_writer *w, const struct store_row *row, struct diag *d)
{
	enum tcerr rc;
	json_t *obj = NULL;

	if (w->err)
		return w->err;
	if (row->revoked && !w->o.include_revoked) {
		w->c.revoked++;
		return TC_OK;
	}
	if (row->valid_until_us && row->valid_until_us <= w->o.now_us && !w->o.include_expired) {
		w->c.expired++;
		return TC_OK;
	}
	if (w->o.held && strcmp(row->type, "indicator") == 0 && w->o.held(w->o.held_ctx, row->id)) {
		w->c.held++;
		return TC_OK;
	}
	start(w);
	/* stix: an indicator's values are checked against the allowlist */
	bool need_obs = w->o.format != EXPORT_STIX || w->o.kinds ||
	                (w->o.allow && strcmp(row->type, "indicator") == 0);
	size_t mark = w->out.len;
	w->row = row;
	w->row_values = 0;
	w->row_match = false;
	json_decref(w->row_allow);
	w->row_allow = NULL;
	w->row_nallow = 0;
	if (need_obs) {
		if (row->json.len > EXPORT_MAX_OBJECT)
			return w->err = diag_set(d, TC_ELIMIT, "%s: stored object larger than %zu bytes",
			                         row->id, EXPORT_MAX_OBJECT);
		json_error_t je;
		obj = json_loadb(row->json.p, row->json.len, 0, &je);
		if (!obj) {
			w->c.unreadable++;
			return TC_OK;
		}
		/* The columns obs_extract needs, as the store extracted them. */
		struct stix_meta meta = { 0 };
		snprintf(meta.id, sizeof(meta.id), "%s", row->id);
		snprintf(meta.type, sizeof(meta.type), "%s", row->type);
		snprintf(meta.spec_version, sizeof(meta.spec_version), "%s",
		         row->spec_version ? row->spec_version : "2.1");
		if (row->version)
			snprintf(meta.version, sizeof(meta.version), "%s", row->version);
		meta.cls = stix_classify(row->type);
		meta.version_us = row->version_us;
		meta.modified_us = row->version_us;
		meta.tlp = row->tlp;
		meta.revoked = row->revoked;
		meta.valid_until_us = row->valid_until_us;
		struct diag od;
		rc = obs_extract(w->obs, obj, &meta, on_obs, w, &od);
		json_decref(obj);
		if (rc == TC_ENOMEM || rc == TC_ELIMIT || w->err) {
			if (!w->err)
				w->err = rc;
			return diag_set(d, w->err, "%s: %s", row->id, tcerr_str(w->err));
		}
		if (rc) {
			/* A stored version whose observables no longer extract
			 * (a stricter build): leave out what it wrote. */
			buf_truncate(&w->out, mark);
			w->c.unreadable++;
			return TC_OK;
		}
	}
	if (w->o.format == EXPORT_STIX) {
		if (w->o.kinds && !w->row_match)
			return TC_OK;
		if (w->row_nallow && !w->o.include_allowlisted) {
			w->c.allowlisted++;
			return TC_OK;
		}
		if (w->nobj++)
			buf_append_cstr(&w->out, ",\n");
		else
			buf_append_char(&w->out, '\n');
		if (w->row_nallow)
			w->c.allowlisted_kept++;
		if (w->row_nallow && (rc = mark_object(w, row->json)))
			return w->err = diag_set(d, rc, "%s: %s", row->id, tcerr_str(rc));
		else if (!w->row_nallow)
			buf_append_slice(&w->out, row->json);
		w->c.objects++;
		note_producer(w, row->producer);
		if (w->err)
			return diag_set(d, w->err, "%s: %s", row->id, tcerr_str(w->err));
	} else if (w->row_values) {
		w->c.objects++;
		w->c.values += w->row_values;
	}
	return flush(w, false, d);
}

size_t
export_writer_objects(const struct export_writer *w)
{
	return w->c.objects;
}

enum tcerr
export_writer_finish(struct export_writer *w, struct export_counts *counts, struct diag *d)
{
	if (!w->err) {
		start(w);
		/* the producers' identities, after the objects (issue 8) */
		for (size_t i = 0; w->o.format == EXPORT_STIX && i < w->nproducers; i++) {
			const struct reg_org *o = reg_snapshot_org(w->o.names, w->producers[i]);
			if (!o)
				continue;
			buf_append_cstr(&w->out, w->nobj++ ? ",\n" : "\n");
			reg_org_identity_sdo(o, &w->out);
		}
		if (w->o.format == EXPORT_STIX)
			buf_append_cstr(&w->out, w->nobj ? "\n]}\n" : "]}\n");
		flush(w, true, d);
	}
	if (counts)
		*counts = w->c;
	return w->err;
}

void
export_writer_free(struct export_writer *w)
{
	if (!w)
		return;
	buf_reset(&w->out);
	json_decref(w->row_allow);
	free(w->set);
	free(w->producers);
	free(w);
}
