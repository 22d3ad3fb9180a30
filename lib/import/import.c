/*
 * import.c — the import driver: record reader, format detection, STIX
 * documents and JSON Lines.
 *
 * The reader keeps at most max_line + IMPORT_CHUNK bytes while streaming
 * records (JSON Lines, CSV) and at most max_document bytes when a format
 * needs the whole document; it never holds more, whatever the input. Every
 * object handed on carries the place it came from.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "util/timestamp.h"
#include "stix/stix_scan.h"

static const char *const format_names[] = {
	[IMPORT_AUTO] = "auto",       [IMPORT_BUNDLE] = "bundle", [IMPORT_ENVELOPE] = "envelope",
	[IMPORT_OBJECT] = "object",   [IMPORT_ARRAY] = "array",   [IMPORT_MISP] = "misp",
	[IMPORT_JSONL] = "jsonl",     [IMPORT_CSV] = "csv",
};

const char *
import_format_name(enum import_format f)
{
	if ((unsigned)f >= sizeof(format_names) / sizeof(format_names[0]))
		return "?";
	return format_names[f];
}

enum tcerr
import_format_parse(const char *name, enum import_format *out)
{
	if (!name)
		return TC_EINVAL;
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcasecmp(name, format_names[i]) == 0) {
			*out = (enum import_format)i;
			return TC_OK;
		}
	if (strcasecmp(name, "stix") == 0 || strcasecmp(name, "json") == 0) {
		*out = IMPORT_AUTO;
		return TC_OK;
	}
	if (strcasecmp(name, "ndjson") == 0) {
		*out = IMPORT_JSONL;
		return TC_OK;
	}
	return TC_EINVAL;
}

void
import__where(const struct import__run *r, char where[IMPORT_WHERE_MAX], const char *fmt, ...)
{
	char sfx[IMPORT_WHERE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(sfx, sizeof(sfx), fmt, ap);
	va_end(ap);
	if (n < 0)
		sfx[0] = '\0';
	n = snprintf(where, IMPORT_WHERE_MAX, "%s%s", r->name, sfx);
	if (n >= IMPORT_WHERE_MAX)
		memcpy(where + IMPORT_WHERE_MAX - 4, "...", 4);
}

enum tcerr
import__emit(struct import__run *r, json_t *obj, const char *where)
{
	return import__emit_text(r, obj, (struct slice){NULL, 0}, where);
}

enum tcerr
import__emit_text(struct import__run *r, json_t *obj, struct slice text, const char *where)
{
	enum tcerr rc = r->o->on_object_text
	                    ? r->o->on_object_text(r->o->ctx, obj, text, where)
	                    : r->o->on_object(r->o->ctx, obj, where);
	if (rc == TC_OK)
		r->c->objects++;
	else
		diag_set(r->d, rc, "%s: stopped by the caller", where);
	return rc;
}

enum tcerr
import__reject(struct import__run *r, const char *where, enum tcerr why_rc, const char *fmt,
               ...)
{
	char why[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (n < 0)
		why[0] = '\0';
	else if ((size_t)n >= sizeof(why))
		memcpy(why + sizeof(why) - 4, "...", 4);
	r->c->rejected++;
	if (!r->o->on_reject)
		return TC_OK;
	enum tcerr rc = r->o->on_reject(r->o->ctx, where, why_rc, why);
	if (rc)
		diag_set(r->d, rc, "%s: stopped by the caller", where);
	return rc;
}

enum tcerr
import__note(struct import__run *r, const char *where, enum import_note what, const char *fmt,
             ...)
{
	char text[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		text[0] = '\0';
	else if ((size_t)n >= sizeof(text))
		memcpy(text + sizeof(text) - 4, "...", 4);
	switch (what) {
	case IMPORT_NOTE_EXPIRED: r->c->expired++; break;
	case IMPORT_NOTE_REFANGED: r->c->refanged++; break;
	case IMPORT_NOTE_NOT_IDS: r->c->not_ids++; break;
	}
	if (!r->o->on_note)
		return TC_OK;
	enum tcerr rc = r->o->on_note(r->o->ctx, where, what, text);
	if (rc)
		diag_set(r->d, rc, "%s: stopped by the caller", where);
	return rc;
}

/* Reads more input after buf[len). Compacts first so that a streaming
 * reader stays within its cap. OUT: *got (0 at end of input). */
static enum tcerr
reader_fill(struct import__run *r, size_t limit, size_t *got)
{
	*got = 0;
	if (r->eof)
		return TC_OK;
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	size_t want = IMPORT_CHUNK;
	if (r->len >= limit + 1)
		return diag_set(r->d, TC_ELIMIT, "%s: more than %zu bytes", r->name, limit);
	if (want > limit + 1 - r->len)
		want = limit + 1 - r->len;
	if (r->cap < r->len + want + 1) {
		size_t ncap = r->cap ? r->cap : IMPORT_CHUNK + 1;
		while (ncap < r->len + want + 1)
			ncap *= 2;
		char *np = realloc(r->buf, ncap);
		if (!np)
			return diag_set(r->d, TC_ENOMEM, "%s: out of memory", r->name);
		r->buf = np;
		r->cap = ncap;
	}
	enum tcerr rc = r->rd(r->rctx, r->buf + r->len, want, got);
	if (rc)
		return diag_set(r->d, rc, "%s: read failed", r->name);
	if (*got == 0)
		r->eof = true;
	r->len += *got;
	r->c->bytes += *got;
	if (r->o->on_progress && *got)
		r->o->on_progress(r->o->ctx, r->c->bytes, r->o->total_bytes);
	return TC_OK;
}

enum tcerr
import__next_record(struct import__run *r, bool csv_quotes, struct slice *rec, long *lineno,
                    bool *too_long)
{
	size_t pos = 0; /* scanned bytes after off */
	bool inq = false;
	long nl = 0;
	enum tcerr rc;

	*rec = (struct slice){ NULL, 0 };
	*too_long = false;
	*lineno = r->line;
	for (;;) {
		while (r->off + pos < r->len) {
			char ch = r->buf[r->off + pos];
			if (csv_quotes && ch == '"')
				inq = !inq;
			else if (ch == '\n') {
				nl++;
				if (!inq)
					goto found;
			}
			pos++;
			if (pos > r->max_line) {
				/* Drop what was scanned; keep looking for the end. */
				*too_long = true;
				r->off += pos;
				pos = 0;
			}
		}
		if (r->eof)
			break;
		size_t got;
		if ((rc = reader_fill(r, r->max_line + IMPORT_CHUNK, &got)))
			return rc;
	}
	/* End of input: the last record may lack its newline. */
	if (pos == 0 && !*too_long)
		return TC_OK;
	r->line += nl + 1;
	*rec = (struct slice){ r->buf + r->off, *too_long ? 0 : pos };
	r->off += pos;
	return TC_OK;
found:
	r->line += nl;
	*rec = (struct slice){ r->buf + r->off, *too_long ? 0 : pos };
	r->off += pos + 1;
	if (rec->len && rec->p[rec->len - 1] == '\r')
		rec->len--;
	return TC_OK;
}

/* Reads the rest of the input into the buffer (whole-document formats). */
static enum tcerr
reader_slurp(struct import__run *r)
{
	enum tcerr rc;
	size_t got;
	do {
		if ((rc = reader_fill(r, r->max_document, &got)))
			return rc;
	} while (got);
	return TC_OK;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Ensures the buffer holds the first line (or max_line bytes, or all). */
static enum tcerr
reader_peek_line(struct import__run *r)
{
	enum tcerr rc;
	size_t got;
	while (!memchr(r->buf + r->off, '\n', r->len - r->off) && !r->eof &&
	       r->len - r->off <= r->max_line)
		if ((rc = reader_fill(r, r->max_line + IMPORT_CHUNK, &got)))
			return rc;
	return TC_OK;
}

/* Parses a JSON text with the project's strict parser; on error the
 * message gets the place ("where:line:column: ..."). */
static enum tcerr
parse_json(struct import__run *r, struct slice text, json_t **out, struct diag *d)
{
	diag_clear(d);
	enum tcerr rc = stix_json_parse(text, r->o->lim, out, d);
	if (rc && d && d->line > 0 && d->msg[0] >= 'a' && d->msg[0] <= 'z') {
		long line = d->line, col = d->column;
		diag_prefix(d, "line %ld column %ld", line, col);
	}
	return rc;
}

/* Decides between one JSON document and JSON Lines: JSON Lines when the
 * first line alone is a JSON object and more non-blank input follows. */
static enum tcerr
detect_json(struct import__run *r, enum import_format *fmt)
{
	enum tcerr rc = reader_peek_line(r);
	if (rc)
		return rc;
	size_t nlpos, q;
	const char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
	*fmt = IMPORT_AUTO; /* a document, classified after parsing */
	if (!nl)
		return TC_OK;
	nlpos = (size_t)(nl - (r->buf + r->off));
	/* Is there more than blank space after the first line? */
	q = r->off + nlpos + 1;
	for (;;) {
		while (q < r->len && is_space(r->buf[q]))
			q++;
		if (q < r->len || r->eof)
			break;
		if (r->len - r->off > r->max_line)
			break; /* lots of blank space: let the parser decide */
		size_t got, rel = q - r->off;
		if ((rc = reader_fill(r, r->max_line + IMPORT_CHUNK, &got)))
			return rc;
		q = r->off + rel;
	}
	if (q >= r->len)
		return TC_OK;
	const char *s = r->buf + r->off;
	nl = s + nlpos;
	json_t *v = NULL;
	struct diag tmp;
	if (parse_json(r, slice_trim(slice_make(s, (size_t)(nl - s))), &v, &tmp) == TC_OK &&
	    json_is_object(v))
		*fmt = IMPORT_JSONL;
	json_decref(v);
	return TC_OK;
}

/* OUT: *out, t without its insignificant whitespace, in r->compact
 * (valid until the next call). Errors: TC_ENOMEM. */
static enum tcerr
compact_text(struct import__run *r, struct slice t, struct slice *out)
{
	if (r->compact_cap < t.len) {
		size_t cap = r->compact_cap ? r->compact_cap : 4096;
		while (cap < t.len)
			cap *= 2;
		if (r->compact) /* the text may hold card numbers: wipe it */
			explicit_bzero(r->compact, r->compact_cap);
		free(r->compact);
		r->compact_cap = 0;
		if (!(r->compact = malloc(cap)))
			return diag_set(r->d, TC_ENOMEM, "%s: out of memory", r->name);
		r->compact_cap = cap;
	}
	*out = slice_make(r->compact, stix_scan_compact(t, r->compact));
	return TC_OK;
}

static enum tcerr
run_jsonl(struct import__run *r)
{
	enum tcerr rc;
	struct slice rec;
	long lineno;
	bool too_long;
	char where[IMPORT_WHERE_MAX];

	for (;;) {
		if ((rc = import__next_record(r, false, &rec, &lineno, &too_long)))
			return rc;
		if (!rec.p)
			return TC_OK;
		import__where(r, where, ":%ld", lineno);
		if (too_long) {
			if ((rc = import__reject(r, where, TC_ELIMIT, "line longer than %zu bytes",
			                         r->max_line)))
				return rc;
			continue;
		}
		struct slice t = slice_trim(rec);
		if (t.len == 0) {
			r->c->skipped++;
			continue;
		}
		json_t *v = NULL;
		struct diag pd;
		enum tcerr prc = parse_json(r, t, &v, &pd);
		if (prc == TC_ENOMEM)
			return diag_set(r->d, prc, "%s: out of memory", where);
		if (prc) {
			if ((rc = import__reject(r, where, prc, "%s", pd.msg)))
				return rc;
			continue;
		}
		if (!json_is_object(v)) {
			json_decref(v);
			if ((rc = import__reject(r, where, TC_EINVAL, "not a JSON object")))
				return rc;
			continue;
		}
		struct slice text = {NULL, 0};
		if (r->o->on_object_text && (rc = compact_text(r, t, &text))) {
			json_decref(v);
			return rc;
		}
		rc = import__emit_text(r, v, text, where);
		json_decref(v);
		if (rc)
			return rc;
	}
}

/* Hands on each element of arr; prefix names the array ("objects"). */
static enum tcerr
emit_array(struct import__run *r, const json_t *arr, const char *prefix)
{
	enum tcerr rc;
	char where[IMPORT_WHERE_MAX];
	size_t n = json_array_size(arr);
	if (n > r->max_objects)
		return diag_set(r->d, TC_ELIMIT, "%s: %s: %zu objects, more than the limit of %zu",
		                r->name, prefix[0] ? prefix : "array", n, r->max_objects);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		import__where(r, where, ": %s[%zu]", prefix, i);
		if (!json_is_object(v)) {
			if ((rc = import__reject(r, where, TC_EINVAL, "not a JSON object")))
				return rc;
			continue;
		}
		if ((rc = import__emit(r, v, where)))
			return rc;
	}
	return TC_OK;
}

static enum tcerr
classify_doc(const json_t *doc, enum import_format *fmt)
{
	if (json_is_array(doc)) {
		const json_t *first = json_array_get(doc, 0);
		*fmt = json_is_object(first) && json_object_get(first, "Event") ? IMPORT_MISP
		                                                                 : IMPORT_ARRAY;
		return TC_OK;
	}
	if (!json_is_object(doc))
		return TC_EINVAL;
	const json_t *type = json_object_get(doc, "type");
	if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0)
		*fmt = IMPORT_BUNDLE;
	else if (json_object_get(doc, "Event") || json_object_get(doc, "response"))
		*fmt = IMPORT_MISP;
	else if (!type && json_object_get(doc, "info") &&
	         (json_object_get(doc, "Attribute") || json_object_get(doc, "Object")))
		*fmt = IMPORT_MISP; /* an unwrapped MISP event */
	else if (!type && json_object_get(doc, "objects"))
		*fmt = IMPORT_ENVELOPE;
	else if (type && json_object_get(doc, "id"))
		*fmt = IMPORT_OBJECT;
	else
		return TC_EINVAL;
	return TC_OK;
}

static enum tcerr
run_document(struct import__run *r, enum import_format fmt)
{
	enum tcerr rc;
	json_t *doc = NULL;
	char where[IMPORT_WHERE_MAX];

	if ((rc = reader_slurp(r)))
		return rc;
	if ((rc = parse_json(r, slice_make(r->buf + r->off, r->len - r->off), &doc, r->d))) {
		diag_prefix(r->d, "%s", r->name);
		return rc;
	}
	if (fmt == IMPORT_AUTO && classify_doc(doc, &fmt)) {
		rc = diag_set(r->d, TC_EINVAL,
		              "%s: neither a STIX bundle, a TAXII envelope, a STIX object nor a "
		              "MISP event",
		              r->name);
		goto out;
	}
	r->c->format = fmt;
	switch (fmt) {
	case IMPORT_BUNDLE:
	case IMPORT_ENVELOPE: {
		const json_t *type = json_object_get(doc, "type");
		if (fmt == IMPORT_BUNDLE && !(json_is_string(type) &&
		                              strcmp(json_string_value(type), "bundle") == 0)) {
			/* STIX 2.1 §8: a bundle's type is "bundle". */
			rc = diag_set(r->d, TC_EINVAL, "%s: type: not a STIX bundle", r->name);
			goto out;
		}
		if (!json_is_object(doc)) {
			rc = diag_set(r->d, TC_EINVAL, "%s: not a JSON object", r->name);
			goto out;
		}
		const json_t *objs = json_object_get(doc, "objects");
		if (!objs)
			break; /* an empty bundle or envelope: objects is optional */
		if (!json_is_array(objs)) {
			rc = diag_set(r->d, TC_EINVAL, "%s: objects: must be an array", r->name);
			goto out;
		}
		rc = emit_array(r, objs, "objects");
		break;
	}
	case IMPORT_ARRAY:
		if (!json_is_array(doc)) {
			rc = diag_set(r->d, TC_EINVAL, "%s: not a JSON array", r->name);
			goto out;
		}
		rc = emit_array(r, doc, "");
		break;
	case IMPORT_OBJECT:
		if (!json_is_object(doc)) {
			rc = diag_set(r->d, TC_EINVAL, "%s: not a JSON object", r->name);
			goto out;
		}
		import__where(r, where, "%s", "");
		rc = import__emit(r, doc, where);
		break;
	case IMPORT_MISP:
		rc = import__misp(r, doc);
		break;
	default:
		rc = diag_set(r->d, TC_EINTERNAL, "%s: format %s is not a document", r->name,
		              import_format_name(fmt));
	}
out:
	json_decref(doc);
	return rc;
}

/* The value of a top-level member of a streamed document, checked as
 * strict JSON (it is not stored). OUT: *out, a new reference. */
static enum tcerr
member_value(struct slice v, json_t **out)
{
	json_error_t je;
	*out = json_loadb(v.p, v.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	return *out ? TC_OK : TC_EINVAL;
}

/* One element of a streamed objects array: parsed alone and handed on,
 * or rejected alone. */
static enum tcerr
stream_element(struct import__run *r, const struct stix_scan *sc, const struct stix_limits *plim)
{
	char where[IMPORT_WHERE_MAX];
	struct slice span = slice_make(r->buf + r->off + sc->off, sc->len);
	struct diag pd;
	json_t *v = NULL;
	enum tcerr rc, prc;

	import__where(r, where, ": objects[%zu]", sc->index);
	diag_clear(&pd);
	prc = stix_json_parse(span, plim, &v, &pd);
	if (prc == TC_ENOMEM)
		return diag_set(r->d, prc, "%s: out of memory", where);
	if (prc) {
		if (pd.line > 0 && pd.msg[0] >= 'a' && pd.msg[0] <= 'z') {
			long line = pd.line, col = pd.column;
			diag_prefix(&pd, "line %ld column %ld", line, col);
		}
		return import__reject(r, where, prc, "%s", pd.msg);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return import__reject(r, where, TC_EINVAL, "not a JSON object");
	}
	struct slice text = span;
	if (r->o->on_object_text && sc->ws && (rc = compact_text(r, span, &text))) {
		json_decref(v);
		return rc;
	}
	rc = import__emit_text(r, v, r->o->on_object_text ? text : (struct slice){NULL, 0}, where);
	json_decref(v);
	return rc;
}

/* Line and column in a streamed document, counted as bytes are dropped. */
struct stream_lines {
	long line;          /* of the byte at offset counted */
	uint64_t counted;   /* bytes of the document looked at */
	uint64_t line_at;   /* offset of the first byte of that line */
};

/* Counts the newlines of p[0..n), the document's bytes from offset base. */
static void
lines_count(struct stream_lines *L, const char *p, uint64_t base, uint64_t upto)
{
	while (L->counted < upto) {
		const char *q = p + (L->counted - base);
		const char *nl = memchr(q, '\n', (size_t)(upto - L->counted));
		if (!nl) {
			L->counted = upto;
			break;
		}
		L->line++;
		L->counted += (uint64_t)(nl - q) + 1;
		L->line_at = L->counted;
	}
}

/* Reads a document that starts with '{' as a stream when it is a bundle or
 * an envelope (see import.h, Memory), else whole (run_document). fmt:
 * IMPORT_AUTO, IMPORT_BUNDLE or IMPORT_ENVELOPE. Invariant: until the
 * objects array starts ("streaming"), no byte of the document is dropped,
 * so r->buf + r->off is still the document's start and the whole-document
 * path can take over. */
static enum tcerr
run_stream(struct import__run *r, enum import_format fmt)
{
	size_t depth = r->max_depth > 2 ? r->max_depth - 2 : 1; /* inside {"objects":[ */
	const struct stix_scan_limits lim = {r->max_object, depth, STIX_SCAN_MAX_MEMBER};
	struct stix_limits plim = r->o->lim ? *r->o->lim : stix_default_limits;
	struct stix_scan *sc = malloc(sizeof(*sc));
	char type[STIX_SCAN_KEY_MAX + 1] = "";
	bool streaming = false, has_type = false;
	struct stream_lines lines = {r->line, 0, 0};
	uint64_t base = 0; /* the document's offset of r->buf + r->off */
	struct diag sd;
	enum tcerr rc = TC_OK;
	size_t got;

	if (!sc)
		return diag_set(r->d, TC_ENOMEM, "%s: out of memory", r->name);
	if (plim.max_depth > depth)
		plim.max_depth = depth;
	stix_scan_init(sc, &lim);
	for (;;) {
		struct slice b = slice_make(r->buf + r->off, r->len - r->off);
		enum stix_scan_ev e = stix_scan_next(sc, b, r->eof, &sd);
		json_t *v;

		switch (e) {
		case STIX_SCAN_MORE:
			if (streaming) {
				size_t keep = stix_scan_keep(sc);
				lines_count(&lines, r->buf + r->off, base, base + keep);
				r->off += keep;
				base += keep;
				stix_scan_drop(sc, keep);
			}
			if ((rc = reader_fill(r,
			                      streaming ? r->max_object + STIX_SCAN_MAX_MEMBER + IMPORT_CHUNK
			                                : r->max_document,
			                      &got))) {
				if (streaming && rc == TC_EIO)
					diag_set(r->d, rc,
					         "%s: read failed at byte %llu, after %zu objects "
					         "(objects[0..%zu] were read)",
					         r->name, (unsigned long long)r->c->bytes, sc->next_index,
					         sc->next_index ? sc->next_index - 1 : 0);
				goto out;
			}
			continue;
		case STIX_SCAN_MEMBER:
			if (member_value(slice_make(b.p + sc->off, sc->len), &v)) {
				if (!streaming)
					goto whole;
				rc = diag_set(r->d, TC_EINVAL, "%s: byte %llu: %s: not valid JSON", r->name,
				              (unsigned long long)sc->at, sc->key);
				goto out;
			}
			if (strcmp(sc->key, "type") == 0) {
				has_type = true;
				snprintf(type, sizeof(type), "%s",
				         json_is_string(v) ? json_string_value(v) : "?");
			}
			json_decref(v);
			if (!streaming && (strcmp(sc->key, "Event") == 0 ||
			                   strcmp(sc->key, "response") == 0 ||
			                   (has_type && strcmp(type, "bundle") != 0)))
				goto whole; /* MISP, a single object: read whole */
			if (streaming && (strcmp(sc->key, "Event") == 0 ||
			                  strcmp(sc->key, "response") == 0 ||
			                  (has_type && strcmp(type, "bundle") != 0))) {
				rc = diag_set(r->d, TC_EINVAL,
				              "%s: %s (after objects): a document with an objects array "
				              "is read as a STIX bundle (type \"bundle\") or a TAXII "
				              "envelope (no type); the objects before were read",
				              r->name, sc->key);
				goto out;
			}
			continue;
		case STIX_SCAN_OBJECTS:
			if (fmt == IMPORT_BUNDLE && !has_type)
				goto whole; /* a bundle is told by its type: read whole to check it */
			streaming = true;
			r->c->format = has_type || fmt == IMPORT_BUNDLE ? IMPORT_BUNDLE : IMPORT_ENVELOPE;
			continue;
		case STIX_SCAN_ELEMENT:
			if ((rc = stream_element(r, sc, &plim)))
				goto out;
			continue;
		case STIX_SCAN_SKIPPED: {
			char where[IMPORT_WHERE_MAX];
			import__where(r, where, ": objects[%zu]", sc->index);
			if (sc->too_deep)
				rc = import__reject(r, where, TC_ELIMIT,
				                    "nested deeper than %zu levels (the limit)", r->max_depth);
			else
				rc = import__reject(r, where, TC_ELIMIT,
				                    "larger than %zu bytes (the limit of one object)",
				                    r->max_object);
			if (rc)
				goto out;
			continue;
		}
		case STIX_SCAN_END:
			if (!streaming)
				goto whole;
			if (fmt == IMPORT_BUNDLE && strcmp(type, "bundle") != 0) {
				/* STIX 2.1 §8: a bundle's type is "bundle" */
				rc = diag_set(r->d, TC_EINVAL, "%s: type: not a STIX bundle", r->name);
				goto out;
			}
			r->c->format = has_type ? IMPORT_BUNDLE : r->c->format;
			rc = TC_OK;
			goto out;
		case STIX_SCAN_ERROR:
			if (!streaming)
				goto whole; /* the whole parse gives the line and column */
			lines_count(&lines, r->buf + r->off, base, base + sc->off);
			rc = diag_set(r->d, TC_EINVAL, "%s: line %ld column %llu: %s", r->name,
			              lines.line,
			              (unsigned long long)(base + sc->off - lines.line_at + 1), sd.msg);
			goto out;
		}
	}
whole:
	free(sc);
	return run_document(r, fmt);
out:
	free(sc);
	return rc;
}

enum tcerr
import_run(const char *name, import_read_fn rd, void *rctx, const struct import_opts *opts,
           struct import_counts *counts, struct diag *d)
{
	struct import_counts tmp_counts;
	struct import__run r = { 0 };
	enum tcerr rc;

	if (!counts)
		counts = &tmp_counts;
	memset(counts, 0, sizeof(*counts));
	diag_clear(d);
	if (!opts || !(opts->on_object || opts->on_object_text) || !rd)
		return diag_set(d, TC_EINVAL, "import: no object callback or reader");
	r.name = name && strcmp(name, "-") != 0 ? name : "stdin";
	r.o = opts;
	r.c = counts;
	r.d = d;
	r.rd = rd;
	r.rctx = rctx;
	r.line = 1;
	r.max_document = opts->max_document ? opts->max_document : IMPORT_MAX_DOCUMENT;
	r.max_line = opts->max_line ? opts->max_line : IMPORT_MAX_LINE;
	r.max_objects = opts->max_objects ? opts->max_objects : IMPORT_MAX_OBJECTS;
	r.max_object = opts->max_object ? opts->max_object : IMPORT_MAX_OBJECT;
	r.max_depth = opts->max_depth ? opts->max_depth : IMPORT_MAX_DEPTH;
	r.csv_time_us = opts->created_us ? opts->created_us : IMPORT_FIXED_TIME_US;
	r.now_us = opts->now_us ? opts->now_us : ts_now_us();

	enum import_format fmt = opts->format;
	size_t got;
	if ((rc = reader_fill(&r, r.max_line + IMPORT_CHUNK, &got)))
		goto out;
	/* Skip a UTF-8 byte order mark (spreadsheet exports write one). */
	if (r.len >= 3 && memcmp(r.buf, "\xEF\xBB\xBF", 3) == 0)
		r.off = 3;
	if (fmt == IMPORT_AUTO) {
		/* Skip leading blanks (dropping them, so any amount fits). */
		for (;;) {
			while (r.off < r.len && is_space(r.buf[r.off])) {
				if (r.buf[r.off] == '\n')
					r.line++;
				r.off++;
			}
			if (r.off < r.len || r.eof)
				break;
			if ((rc = reader_fill(&r, r.max_line + IMPORT_CHUNK, &got)))
				goto out;
		}
		if (r.off >= r.len) {
			/* Empty input: nothing to import, in any format. */
			rc = TC_OK;
			goto out;
		}
		size_t i = r.off;
		if (r.buf[i] == '{') {
			if ((rc = detect_json(&r, &fmt)))
				goto out;
		} else if (r.buf[i] != '[')
			fmt = IMPORT_CSV;
	}
	counts->format = fmt;
	if (fmt == IMPORT_JSONL)
		rc = run_jsonl(&r);
	else if (fmt == IMPORT_CSV)
		rc = import__csv(&r);
	else if ((fmt == IMPORT_AUTO || fmt == IMPORT_BUNDLE || fmt == IMPORT_ENVELOPE) &&
	         r.off < r.len && r.buf[r.off] == '{')
		rc = run_stream(&r, fmt);
	else
		rc = run_document(&r, fmt);
out:
	if (r.buf) {
		/* The input may hold card numbers: wipe it. */
		explicit_bzero(r.buf, r.cap);
		free(r.buf);
	}
	if (r.compact) {
		explicit_bzero(r.compact, r.compact_cap);
		free(r.compact);
	}
	return rc;
}

static enum tcerr
read_file(void *rctx, char *p, size_t cap, size_t *got)
{
	FILE *f = rctx;
	*got = fread(p, 1, cap, f);
	if (*got == 0 && ferror(f))
		return TC_EIO;
	return TC_OK;
}

enum tcerr
import_file(const char *name, FILE *in, const struct import_opts *opts,
            struct import_counts *counts, struct diag *d)
{
	return import_run(name, read_file, in, opts, counts, d);
}

struct mem_src {
	struct slice s;
	size_t off;
};

static enum tcerr
read_mem(void *rctx, char *p, size_t cap, size_t *got)
{
	struct mem_src *m = rctx;
	size_t n = m->s.len - m->off;
	if (n > cap)
		n = cap;
	if (n)
		memcpy(p, m->s.p + m->off, n);
	m->off += n;
	*got = n;
	return TC_OK;
}

enum tcerr
import_buffer(const char *name, struct slice data, const struct import_opts *opts,
              struct import_counts *counts, struct diag *d)
{
	struct mem_src m = { data, 0 };
	return import_run(name, read_mem, &m, opts, counts, d);
}
