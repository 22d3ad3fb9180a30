/*
 * source_list.c — the line formats of public feeds: plain lists, IP
 * blocklists with trailing comments, URL lists and CSV with a header
 * line, plus the format names and options.
 *
 * Invariant: nothing of the feed is trusted. A line is at most
 * SOURCE_LINE_MAX bytes (a longer one is rejected, not cut), a value
 * passes import_refang and then lib/observable (obs_classify, or
 * obs_normalize when a CSV column names the kind) before it reaches the
 * callback, and the number of entries is bounded. A body that is no feed
 * at all (an HTML error page, binary data) fails the whole parse, so a
 * broken answer never reads as "the list is now empty".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import/import.h"
#include "source/source.h"

static const char *const format_names[SOURCE_FORMAT_MAX + 1] = {
	[SOURCE_PLAIN] = "plain",       [SOURCE_IP_BLOCKLIST] = "ip-blocklist",
	[SOURCE_URL_LIST] = "url-list", [SOURCE_CSV] = "csv",
	[SOURCE_MISP] = "misp-feed",    [SOURCE_TAXII] = "taxii",
};

const char *
source_format_name(enum source_format f)
{
	return f >= SOURCE_PLAIN && f <= SOURCE_FORMAT_MAX ? format_names[f] : "?";
}

enum tcerr
source_format_parse(const char *name, enum source_format *out, struct diag *d)
{
	for (int f = SOURCE_PLAIN; f <= SOURCE_FORMAT_MAX; f++)
		if (name && strcmp(name, format_names[f]) == 0) {
			*out = (enum source_format)f;
			return TC_OK;
		}
	return diag_set(d, TC_EINVAL,
	                "format '%s': must be plain, ip-blocklist, url-list, csv, misp-feed or taxii",
	                name ? name : "");
}

bool
source_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > SOURCE_NAME_MAX || !(islower((unsigned char)name[0]) ||
	                                       isdigit((unsigned char)name[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A column: a 1-based number or a header name. */
static enum tcerr
set_column(struct slice v, int *col, char *name, size_t nsize, const char *key, struct diag *d)
{
	*col = 0;
	name[0] = '\0';
	if (v.len == 0 || v.len >= nsize)
		return diag_set(d, TC_EINVAL, "option '%s': a column number or header name", key);
	bool digits = true;
	for (size_t i = 0; i < v.len; i++)
		digits = digits && isdigit((unsigned char)v.p[i]);
	if (digits) {
		if (v.len > 3)
			return diag_set(d, TC_EINVAL, "option '%s': column %.*s is out of range (1-%d)",
			                key, (int)v.len, v.p, SOURCE_CSV_MAX_FIELDS);
		int n = 0;
		for (size_t i = 0; i < v.len; i++)
			n = n * 10 + (v.p[i] - '0');
		if (n < 1 || n > SOURCE_CSV_MAX_FIELDS)
			return diag_set(d, TC_EINVAL, "option '%s': column %d is out of range (1-%d)", key,
			                n, SOURCE_CSV_MAX_FIELDS);
		*col = n;
		return TC_OK;
	}
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] < 0x20 || v.p[i] == ',' || v.p[i] == '"')
			return diag_set(d, TC_EINVAL, "option '%s': bad header name", key);
	memcpy(name, v.p, v.len);
	name[v.len] = '\0';
	return TC_OK;
}

enum tcerr
source_opts_parse(enum source_format f, struct slice text, struct source_opts *o, struct diag *d)
{
	memset(o, 0, sizeof *o);
	o->delimiter = ',';
	o->header = true;
	snprintf(o->comments, sizeof o->comments, "%s", f == SOURCE_CSV ? "#" : "#;");
	if (text.len > SOURCE_OPTIONS_MAX)
		return diag_set(d, TC_ELIMIT, "options: longer than %d bytes", SOURCE_OPTIONS_MAX);
	size_t i = 0;
	while (i < text.len) {
		size_t e = i;
		while (e < text.len && text.p[e] != '\n')
			e++;
		struct slice line = slice_trim(slice_make(text.p + i, e - i));
		i = e + 1;
		if (!line.len)
			continue;
		const char *eq = memchr(line.p, '=', line.len);
		if (!eq)
			return diag_set(d, TC_EINVAL, "option '%.*s': key=value expected", (int)line.len,
			                line.p);
		struct slice k = slice_make(line.p, (size_t)(eq - line.p));
		struct slice v = slice_make(eq + 1, line.len - k.len - 1);
		enum tcerr rc = TC_OK;
		if (slice_eq_cstr(k, "value")) {
			rc = set_column(v, &o->value_col, o->value_name, sizeof o->value_name, "value", d);
		} else if (slice_eq_cstr(k, "type")) {
			rc = set_column(v, &o->type_col, o->type_name, sizeof o->type_name, "type", d);
		} else if (slice_eq_cstr(k, "comment")) {
			if (v.len >= sizeof o->comments)
				return diag_set(d, TC_EINVAL, "option 'comment': at most %zu characters",
				                sizeof o->comments - 1);
			memcpy(o->comments, v.p, v.len);
			o->comments[v.len] = '\0';
			o->comments_set = true;
		} else if (slice_eq_cstr(k, "delimiter")) {
			if (v.len == 2 && v.p[0] == '\\' && v.p[1] == 't')
				o->delimiter = '\t';
			else if (v.len == 1 && v.p[0] != '"' && v.p[0] != '\n')
				o->delimiter = v.p[0];
			else
				return diag_set(d, TC_EINVAL, "option 'delimiter': one character (or \\t)");
		} else if (slice_eq_cstr(k, "header")) {
			if (slice_eq_cstr(v, "yes"))
				o->header = true;
			else if (slice_eq_cstr(v, "no"))
				o->header = false;
			else
				return diag_set(d, TC_EINVAL, "option 'header': yes or no");
		} else {
			return diag_set(d, TC_EINVAL,
			                "option '%.*s': unknown (value, type, comment, delimiter, header)",
			                (int)k.len, k.p);
		}
		if (rc)
			return rc;
	}
	if (f != SOURCE_CSV && (o->value_col || o->value_name[0] || o->type_col || o->type_name[0]))
		return diag_set(d, TC_EINVAL, "column mappings are for the csv format only");
	if (!o->header && (o->value_name[0] || o->type_name[0]))
		return diag_set(d, TC_EINVAL, "a column named by its header needs header=yes");
	return TC_OK;
}

enum tcerr
source_opts_column(const char *mapping, struct buf *out, struct diag *d)
{
	/* "value=2" or several at once: "value=2,type=3" (a header name never
	 * holds a comma: set_column refuses it) */
	const char *p = mapping ? mapping : "";
	do {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		if (!eq || eq == p || (size_t)(eq - p) + 1 == n)
			return diag_set(d, TC_EINVAL,
			                "--column %s: NAME=COLUMN expected (value=2, type=kind)",
			                mapping ? mapping : "");
		size_t kl = (size_t)(eq - p);
		if (!((kl == 5 && strncmp(p, "value", 5) == 0) ||
		      (kl == 4 && strncmp(p, "type", 4) == 0)))
			return diag_set(d, TC_EINVAL, "--column %s: the columns are value and type",
			                mapping);
		buf_append(out, p, n);
		buf_append_char(out, '\n');
		p = end ? end + 1 : p + n;
		if (end && !*p)
			return diag_set(d, TC_EINVAL, "--column %s: nothing after ','", mapping);
	} while (*p);
	return buf_error(out) ? diag_set(d, buf_error(out), "out of memory") : TC_OK;
}

/* ---- parsing ---- */

struct lp {
	enum source_format f;
	const struct source_opts *o;
	const struct obs_ctx *obs;
	size_t max_entries;
	source_entry_cb cb;
	void *ctx;
	struct source_list_counts *c;
	struct diag *d;
	struct buf fanged, norm;
	size_t nrejects;
};

static void
reject(struct lp *p, long line, const char *fmt, const char *why)
{
	p->c->rejected++;
	if (p->nrejects < SOURCE_REJECTS_KEPT) {
		int n = snprintf(p->c->rejects[p->nrejects], DIAG_MSG_MAX, "line %ld: %s%s", line,
		                 fmt, why ? why : "");
		if (n < 0 || n >= DIAG_MSG_MAX) /* cut: mark it */
			memcpy(p->c->rejects[p->nrejects] + DIAG_MSG_MAX - 4, "...", 4);
		p->nrejects++;
	}
}

static bool
kind_fits(enum source_format f, enum obs_kind k)
{
	switch (f) {
	case SOURCE_IP_BLOCKLIST:
		return k == OBS_IPV4 || k == OBS_IPV6;
	case SOURCE_URL_LIST:
		return k == OBS_URL;
	default:
		return true;
	}
}

/* Kind names a CSV type column may hold besides lib/observable's. */
static bool
kind_from_type(struct slice t, enum obs_kind *k)
{
	static const struct {
		const char *name;
		int kind; /* 0: classify */
	} extra[] = {
		{ "ip", 0 },       { "ip-dst", 0 },      { "ip-src", 0 },     { "ip-dst|port", 0 },
		{ "hostname", OBS_DOMAIN }, { "fqdn", OBS_DOMAIN }, { "uri", OBS_URL },
		{ "link", OBS_URL }, { "email-src", OBS_EMAIL }, { "email-dst", OBS_EMAIL },
		{ "md5_hash", OBS_MD5 }, { "sha1_hash", OBS_SHA1 }, { "sha256_hash", OBS_SHA256 },
	};
	t = slice_trim(t);
	if (t.len == 0)
		return false;
	if (obs_kind_parse(t, k) == TC_OK)
		return true;
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
		if (strlen(extra[i].name) == t.len && strncasecmp(t.p, extra[i].name, t.len) == 0) {
			if (!extra[i].kind)
				return false;
			*k = (enum obs_kind)extra[i].kind;
			return true;
		}
	return false;
}

/* One value: refang, classify or normalise, check, hand on. */
static enum tcerr
value(struct lp *p, struct slice v, const enum obs_kind *kind, long line)
{
	struct diag od;
	enum obs_kind k = kind ? *kind : 0;
	v = slice_trim(v);
	if (!v.len) {
		reject(p, line, "no value", NULL);
		return TC_OK;
	}
	if (v.len > OBS_VALUE_MAX) {
		reject(p, line, "value too long", NULL);
		return TC_OK;
	}
	if (import_refang(v, &p->fanged)) {
		p->c->refanged++;
		v = buf_slice(&p->fanged);
	}
	if (buf_error(&p->fanged))
		return diag_set(p->d, TC_ENOMEM, "out of memory");
	buf_clear(&p->norm);
	diag_clear(&od);
	enum tcerr rc = kind ? obs_normalize(p->obs, k, v, &p->norm, &od)
	                     : obs_classify(p->obs, v, &k, &p->norm, &od);
	if (rc == TC_ENOMEM)
		return diag_set(p->d, rc, "out of memory");
	if (rc) {
		reject(p, line, "", od.msg[0] ? od.msg : "not an observable");
		return TC_OK;
	}
	if (!kind_fits(p->f, k)) {
		char why[64];
		snprintf(why, sizeof why, "a %s, not what a%s holds", obs_kind_name(k),
		         p->f == SOURCE_URL_LIST ? " URL list" : "n IP blocklist");
		reject(p, line, "", why);
		return TC_OK;
	}
	if (p->c->entries >= p->max_entries)
		return diag_set(p->d, TC_ELIMIT, "more than %zu entries (max_entries)", p->max_entries);
	p->c->entries++;
	return p->cb(p->ctx, k, buf_slice(&p->norm), line);
}

/* Splits one CSV record (no quoted line breaks: one line) into fields.
 * Quoted fields lose their quotes ("" is a quote) in place, in scratch. */
static size_t
csv_split(struct slice line, char delim, struct buf *scratch, struct slice *f, size_t maxf,
          bool *bad)
{
	size_t n = 0, i = 0;
	*bad = false;
	buf_clear(scratch);
	buf_reserve_more(scratch, line.len + 1);
	if (buf_error(scratch)) {
		*bad = true;
		return 0;
	}
	for (;;) {
		if (n == maxf) {
			*bad = true;
			return n;
		}
		size_t start = scratch->len;
		if (i < line.len && line.p[i] == '"') {
			i++;
			for (;;) {
				if (i >= line.len) {
					*bad = true; /* unterminated quote */
					return n;
				}
				if (line.p[i] == '"') {
					if (i + 1 < line.len && line.p[i + 1] == '"') {
						buf_append_char(scratch, '"');
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf_append_char(scratch, line.p[i++]);
			}
			while (i < line.len && line.p[i] != delim)
				i++;
		} else {
			while (i < line.len && line.p[i] != delim)
				buf_append_char(scratch, line.p[i++]);
		}
		f[n++] = slice_make(scratch->p + start, scratch->len - start);
		if (i >= line.len)
			return n;
		i++; /* the delimiter */
	}
}

static bool
name_eq(struct slice a, const char *b)
{
	a = slice_trim(a);
	return strlen(b) == a.len && strncasecmp(a.p, b, a.len) == 0;
}

enum tcerr
source_list_parse(enum source_format f, const struct source_opts *o, const struct obs_ctx *obs,
                  struct slice data, size_t max_entries, source_entry_cb cb, void *ctx,
                  struct source_list_counts *c, struct diag *d)
{
	struct lp p = { f, o, obs, max_entries ? max_entries : SOURCE_MAX_ENTRIES, cb, ctx, c, d,
	                { 0 }, { 0 }, 0 };
	struct buf scratch;
	struct slice fields[SOURCE_CSV_MAX_FIELDS];
	enum tcerr rc = TC_OK;
	int vcol = o->value_col, tcol = o->type_col; /* 1-based; 0 unknown */
	bool header_pending = f == SOURCE_CSV && o->header;

	memset(c, 0, sizeof *c);
	if (f < SOURCE_PLAIN || f > SOURCE_CSV)
		return diag_set(d, TC_EINVAL, "%s is not a list format", source_format_name(f));
	if (memchr(data.p ? data.p : "", '\0', data.len))
		return diag_set(d, TC_EINVAL, "the feed holds a NUL byte: binary data, not a list");
	{
		struct slice t = slice_trim(data);
		if (t.len && t.p[0] == '<')
			return diag_set(d, TC_EINVAL,
			                "the feed starts with '<': an HTML or XML page, not a list");
		if (t.len && (t.p[0] == '{' || t.p[0] == '['))
			return diag_set(d, TC_EINVAL, "the feed is JSON, not a list");
	}
	buf_init(&p.fanged, OBS_VALUE_MAX * 4);
	buf_init(&p.norm, 0);
	buf_init(&scratch, SOURCE_LINE_MAX + 1);
	size_t i = 0;
	/* a UTF-8 byte order mark */
	if (data.len >= 3 && memcmp(data.p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	long line = 0;
	while (!rc && i < data.len) {
		size_t e = i;
		const char *nl = memchr(data.p + i, '\n', data.len - i);
		e = nl ? (size_t)(nl - data.p) : data.len;
		struct slice ln = slice_make(data.p + i, e - i);
		i = e + 1;
		line++;
		c->lines++;
		if (ln.len && ln.p[ln.len - 1] == '\r')
			ln.len--;
		if (ln.len > SOURCE_LINE_MAX) {
			reject(&p, line, "longer than the line limit", NULL);
			continue;
		}
		struct slice t = slice_trim(ln);
		if (!t.len || strchr(o->comments, t.p[0]) != NULL) {
			c->skipped++;
			continue;
		}
		if (f == SOURCE_CSV) {
			bool bad;
			size_t nf = csv_split(t, o->delimiter, &scratch, fields, SOURCE_CSV_MAX_FIELDS, &bad);
			if (buf_error(&scratch)) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				break;
			}
			if (header_pending) {
				header_pending = false;
				c->skipped++;
				if (bad) {
					rc = diag_set(d, TC_EINVAL, "line %ld: the CSV header does not parse", line);
					break;
				}
				static const char *const guesses[] = { "value", "url", "ip", "ip_address",
					                               "dst_ip", "domain", "indicator", "ioc",
					                               "host" };
				for (size_t k = 0; k < nf; k++) {
					if (o->value_name[0] && name_eq(fields[k], o->value_name))
						vcol = (int)k + 1;
					if (o->type_name[0] && name_eq(fields[k], o->type_name))
						tcol = (int)k + 1;
				}
				if (o->value_name[0] && !vcol) {
					rc = diag_set(d, TC_EINVAL, "line %ld: the CSV header has no column '%s'",
					              line, o->value_name);
					break;
				}
				if (o->type_name[0] && !tcol) {
					rc = diag_set(d, TC_EINVAL, "line %ld: the CSV header has no column '%s'",
					              line, o->type_name);
					break;
				}
				for (size_t g = 0; !vcol && g < sizeof guesses / sizeof guesses[0]; g++)
					for (size_t k = 0; !vcol && k < nf; k++)
						if (name_eq(fields[k], guesses[g]))
							vcol = (int)k + 1;
				if (!vcol)
					vcol = 1;
				if ((size_t)vcol > nf) {
					rc = diag_set(d, TC_EINVAL,
					              "line %ld: the CSV header has %zu columns; value is column %d",
					              line, nf, vcol);
					break;
				}
				continue;
			}
			if (bad) {
				reject(&p, line, "the CSV record does not parse", NULL);
				continue;
			}
			int vc = vcol ? vcol : 1;
			if ((size_t)vc > nf) {
				reject(&p, line, "no value column", NULL);
				continue;
			}
			enum obs_kind k;
			bool have_kind = tcol && (size_t)tcol <= nf && kind_from_type(fields[tcol - 1], &k);
			rc = value(&p, fields[vc - 1], have_kind ? &k : NULL, line);
			continue;
		}
		/* the value is the first token; what follows a blank, '#' or ';'
		 * is a comment (Spamhaus DROP "1.2.3.0/24 ; SBL123") */
		size_t n = 0;
		while (n < t.len && !isspace((unsigned char)t.p[n]) &&
		       !(f == SOURCE_IP_BLOCKLIST && (t.p[n] == '#' || t.p[n] == ';')))
			n++;
		rc = value(&p, slice_make(t.p, n), NULL, line);
	}
	buf_reset(&p.fanged);
	buf_reset(&p.norm);
	buf_reset(&scratch);
	if (!rc && c->entries == 0 && c->rejected > 0)
		rc = diag_set(d, TC_EINVAL, "no line of the feed is a usable value (%zu rejected; %s)",
		              c->rejected, c->rejects[0]);
	return rc;
}
