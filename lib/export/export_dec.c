/*
 * export_dec.c — the decision writer (export_dec.h) and its plain format.
 *
 * Every decision offered goes, in this order, through: the format's kind
 * check (a kind it cannot carry is left out and counted), the one
 * allowlist filter export_filter_value() (left out, or with
 * include_allowlisted marked), and only then the format's add(). Output
 * goes through one buffer flushed to the sink every EXPORT_FLUSH bytes;
 * the first error (of the sink, of memory) is kept and ends the export.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "export_dec_int.h"
#include "util/timestamp.h"

static const char *const parts_dataset[] = { "domains", "urls", "md5", "sha256", "ip", NULL };
static const char *const parts_iprep[] = { "categories", "reputation", NULL };
static const char *const parts_misp[] = { "manifest.json", "hashes.csv", NULL };

const char *const *
export_dec_parts(enum export_format f)
{
	switch (f) {
	case EXPORT_SURICATA_DATASET: return parts_dataset;
	case EXPORT_SURICATA_IPREP: return parts_iprep;
	case EXPORT_MISP_FEED: return parts_misp;
	default: return NULL;
	}
}

bool
export_format_is_decisions(enum export_format f)
{
	return f >= EXPORT_PLAIN && f <= EXPORT_FORMAT_LAST;
}

const char *
export_dec_media_type(enum export_format f, const char *part)
{
	switch (f) {
	case EXPORT_STIX: return "application/stix+json;version=2.1";
	case EXPORT_CSV: return "text/csv; charset=utf-8";
	case EXPORT_RPZ: return "text/dns"; /* RFC 4027: a zone file */
	case EXPORT_MISP_FEED:
		if (part && strcmp(part, "hashes.csv") == 0)
			return "text/csv; charset=utf-8";
		return "application/json";
	default: return "text/plain; charset=utf-8";
	}
}

enum tcerr
export_rpz_action_parse(const char *name, enum export_rpz_action *out)
{
	if (!name)
		return TC_EINVAL;
	if (strcmp(name, "nxdomain") == 0)
		*out = EXPORT_RPZ_NXDOMAIN;
	else if (strcmp(name, "nodata") == 0)
		*out = EXPORT_RPZ_NODATA;
	else if (strcmp(name, "cname") == 0)
		*out = EXPORT_RPZ_CNAME;
	else
		return TC_EINVAL;
	return TC_OK;
}

const char *
export_left_out_name(enum export_left_out r)
{
	switch (r) {
	case EXPORT_LEFT_KIND: return "kind";
	case EXPORT_LEFT_ALLOWLISTED: return "allowlisted";
	case EXPORT_LEFT_COVERED: return "covered";
	case EXPORT_LEFT_TOO_LONG: return "too-long";
	case EXPORT_LEFT_MAX: return "max";
	case EXPORT_LEFT_UNSAFE: return "unsafe";
	case EXPORT_LEFT_ALERT: return "alert";
	case EXPORT_LEFT_NREASONS: break;
	}
	return "?";
}

void
export_dec_left_out_text(const struct export_dec_counts *c, char *out, size_t n)
{
	struct buf b;
	buf_init(&b, n ? n - 1 : 0);
	for (int r = 0; r < EXPORT_LEFT_NREASONS; r++)
		if (c->left_out[r])
			buf_printf(&b, "%s%s=%zu", b.len ? " " : "",
			           export_left_out_name((enum export_left_out)r), c->left_out[r]);
	if (c->left_out[EXPORT_LEFT_KIND]) {
		buf_append_cstr(&b, " (");
		bool first = true;
		for (int k = 1; k <= OBS_KIND_MAX; k++) {
			if (!c->kinds_left_out[k])
				continue;
			buf_printf(&b, "%s%s=%zu", first ? "" : " ", obs_kind_name((enum obs_kind)k),
			           c->kinds_left_out[k]);
			first = false;
		}
		buf_append_char(&b, ')');
	}
	if (n) {
		size_t len = buf_error(&b) ? 0 : b.len;
		if (len)
			memcpy(out, b.p, len);
		out[len] = '\0';
	}
	buf_reset(&b);
}

void
export__left_out(struct export_dec_writer *w, enum export_left_out r)
{
	w->c.left_out[r]++;
}

int64_t
export__timeout_s(const struct export_dec_writer *w, int64_t until_us)
{
	if (!until_us)
		return 0;
	int64_t left = until_us - w->o.now_us;
	if (left <= 0)
		return 1; /* expired between the snapshot and now: the shortest */
	return (left + 999999) / 1000000;
}

bool
export__is_network(struct slice v)
{
	return memchr(v.p, '/', v.len) != NULL;
}

/* Splits "addr[/n]" into the address text (NUL-terminated in a) and n. */
static bool
split_prefix(struct slice v, char *a, size_t asz, unsigned maxlen, unsigned *plen)
{
	const char *slash = memchr(v.p, '/', v.len);
	size_t alen = slash ? (size_t)(slash - v.p) : v.len;
	if (alen == 0 || alen >= asz)
		return false;
	memcpy(a, v.p, alen);
	a[alen] = '\0';
	*plen = maxlen;
	if (slash) {
		unsigned n = 0;
		size_t i = alen + 1;
		if (i == v.len || v.len - i > 3)
			return false;
		for (; i < v.len; i++) {
			if (v.p[i] < '0' || v.p[i] > '9')
				return false;
			n = n * 10 + (unsigned)(v.p[i] - '0');
		}
		if (n > maxlen)
			return false;
		*plen = n;
	}
	return true;
}

bool
export__ip4_parse(struct slice v, struct export__ip4 *out)
{
	char a[INET_ADDRSTRLEN];
	unsigned plen;
	struct in_addr in;
	if (!split_prefix(v, a, sizeof(a), 32, &plen) || inet_pton(AF_INET, a, &in) != 1)
		return false;
	out->a = ntohl(in.s_addr);
	out->plen = (uint8_t)plen;
	return true;
}

bool
export__ip6_parse(struct slice v, struct export__ip6 *out)
{
	char a[INET6_ADDRSTRLEN];
	unsigned plen;
	if (!split_prefix(v, a, sizeof(a), 128, &plen) || inet_pton(AF_INET6, a, out->a) != 1)
		return false;
	out->plen = (uint8_t)plen;
	return true;
}

bool
export__safe(struct slice v, const char *bad)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		if (ch < 0x21 || ch > 0x7e || (bad && strchr(bad, ch)))
			return false;
	}
	return v.len > 0;
}

void
export__u64(struct buf *b, uint64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, t + i, sizeof(t) - i);
}

void
export__quad(struct buf *b, uint32_t a, bool reversed)
{
	char t[16];
	size_t n = 0;
	for (int k = 0; k < 4; k++) {
		unsigned o = reversed ? a >> (8 * k) & 0xff : a >> (24 - 8 * k) & 0xff;
		if (k)
			t[n++] = '.';
		if (o >= 100)
			t[n++] = (char)('0' + o / 100);
		if (o >= 10)
			t[n++] = (char)('0' + o / 10 % 10);
		t[n++] = (char)('0' + o % 10);
	}
	buf_append(b, t, n);
}

void
export__base64(struct buf *b, struct slice v)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)v.p;
	size_t i = 0;
	char q[4];
	for (; i + 3 <= v.len; i += 3) {
		q[0] = t[p[i] >> 2];
		q[1] = t[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = t[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		q[3] = t[p[i + 2] & 63];
		buf_append(b, q, 4);
	}
	if (v.len - i == 1) {
		q[0] = t[p[i] >> 2];
		q[1] = t[(p[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_append(b, q, 4);
	} else if (v.len - i == 2) {
		q[0] = t[p[i] >> 2];
		q[1] = t[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = t[(p[i + 1] & 15) << 2];
		q[3] = '=';
		buf_append(b, q, 4);
	}
}

/* ---- plain ---- */

static bool
plain_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	(void)w;
	(void)kind;
	return true;
}

static void
plain_start(struct export_dec_writer *w)
{
	(void)w;
}

static enum tcerr
plain_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	/* a value is one line */
	if (memchr(dec->value.p, '\n', dec->value.len) || memchr(dec->value.p, '\r', dec->value.len)) {
		export__left_out(w, EXPORT_LEFT_UNSAFE);
		return TC_OK;
	}
	uint64_t n = w->plain_n;
	if (w->o.max && n >= w->o.max) {
		export__left_out(w, EXPORT_LEFT_MAX);
		return TC_OK;
	}
	w->plain_n++;
	if (n < w->o.offset || (w->o.limit && n - w->o.offset >= w->o.limit))
		return TC_OK; /* another page */
	if (why) {
		buf_append_cstr(&w->out, "# allowlisted: ");
		for (const char *p = why; *p; p++)
			buf_append_char(&w->out, *p == '\n' || *p == '\r' ? ' ' : *p);
		buf_append_char(&w->out, '\n');
	}
	struct slice v = dec->value;
	if (w->o.strip_scheme && dec->kind == OBS_URL) {
		if (v.len > 7 && memcmp(v.p, "http://", 7) == 0)
			v = slice_make(v.p + 7, v.len - 7);
		else if (v.len > 8 && memcmp(v.p, "https://", 8) == 0)
			v = slice_make(v.p + 8, v.len - 8);
	}
	buf_append_slice(&w->out, v);
	buf_append_char(&w->out, '\n');
	w->c.written++;
	return TC_OK;
}

static enum tcerr
plain_finish(struct export_dec_writer *w)
{
	(void)w;
	return TC_OK;
}

static const struct export__fmt export__plain = {
	EXPORT_PLAIN, plain_carries, plain_start, plain_add, plain_finish,
};

/* ---- the writer ---- */

static const struct export__fmt *
fmt_of(enum export_format f)
{
	switch (f) {
	case EXPORT_PLAIN: return &export__plain;
	case EXPORT_RPZ: return &export__rpz;
	case EXPORT_NFT: return &export__nft;
	case EXPORT_IPSET: return &export__ipset;
	case EXPORT_SURICATA_DATASET: return &export__suricata_dataset;
	case EXPORT_SURICATA_IPREP: return &export__suricata_iprep;
	case EXPORT_ZEEK: return &export__zeek;
	case EXPORT_MISP_FEED: return &export__misp;
	default: return NULL;
	}
}

/* A DNS name as given (with or without its final dot) into out, with
 * the final dot: letters, digits, '-', '_' and dots only, labels of 1..63
 * bytes. false otherwise. */
static bool
dns_name(const char *in, char *out, size_t n)
{
	size_t len = strlen(in), label = 0;
	if (len && in[len - 1] == '.')
		len--;
	if (len == 0 || len + 2 > n || len > 240)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') || ++label > 63)
			return false;
	}
	memcpy(out, in, len);
	out[len] = '.';
	out[len + 1] = '\0';
	return label > 0;
}

/* A table or set name: a letter, then letters, digits, '_' or '-'. */
static bool
plain_name(const char *in, size_t max)
{
	size_t len = strlen(in);
	if (!len || len > max ||
	    !((in[0] >= 'a' && in[0] <= 'z') || (in[0] >= 'A' && in[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool
is_uuid_json(const char *part, char *uuid)
{
	size_t len = strlen(part);
	if (len != 36 + 5 || strcmp(part + 36, ".json") != 0)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char ch = part[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	memcpy(uuid, part, 36);
	uuid[36] = '\0';
	return true;
}

bool
export_dec_part_ok(enum export_format f, const char *part)
{
	const char *const *parts = export_dec_parts(f);
	char uuid[37];
	for (size_t i = 0; part && parts && parts[i]; i++)
		if (strcmp(parts[i], part) == 0)
			return true;
	return part && f == EXPORT_MISP_FEED && is_uuid_json(part, uuid);
}

enum tcerr
export_dec_writer_new(const struct export_dec_opts *opts, export_write_fn write, void *wctx,
                      struct export_dec_writer **out, struct diag *d)
{
	*out = NULL;
	if (!opts || !write)
		return diag_set(d, TC_EINVAL, "export: no options or sink");
	const struct export__fmt *fmt = fmt_of(opts->format);
	if (!fmt)
		return diag_set(d, TC_EINVAL, "export: format %s is not written from decisions",
		                export_format_name(opts->format));
	struct export_dec_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return diag_set(d, TC_ENOMEM, "out of memory");
	w->o = *opts;
	w->fmt = fmt;
	w->write = write;
	w->wctx = wctx;
	if (!w->o.now_us)
		w->o.now_us = ts_now_us();
	const char *const *parts = export_dec_parts(opts->format);
	const char *part = opts->part;
	if (!part && parts)
		part = parts[0];
	if (part) {
		bool ok = false;
		for (size_t i = 0; parts && parts[i]; i++)
			ok = ok || strcmp(parts[i], part) == 0;
		if (!ok && opts->format == EXPORT_MISP_FEED && is_uuid_json(part, w->misp_uuid))
			ok = w->misp_event_part = true;
		if (!ok || strlen(part) >= sizeof(w->part)) {
			free(w);
			return diag_set(d, TC_EINVAL, "export %s: no part '%.64s'",
			                export_format_name(opts->format), part);
		}
		snprintf(w->part, sizeof(w->part), "%s", part);
	}
	const char *name = opts->name ? opts->name : "tocsin";
	/* ipset: NAME-v4-tmp must fit 31 bytes */
	if (!plain_name(name, opts->format == EXPORT_IPSET ? 24 : EXPORT_NAME_MAX - 1)) {
		free(w);
		return diag_set(d, TC_EINVAL, "export: name '%.64s': a letter, then letters, digits, "
		                "'_' or '-'%s", name, opts->format == EXPORT_IPSET ? ", at most 24" : "");
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	const char *feed = opts->feed_name ? opts->feed_name : "tocsin";
	if (strlen(feed) >= sizeof(w->feed)) {
		free(w);
		return diag_set(d, TC_EINVAL, "export: feed name longer than %d bytes",
		                EXPORT_NAME_MAX - 1);
	}
	snprintf(w->feed, sizeof(w->feed), "%s", feed);
	if (opts->format == EXPORT_RPZ) {
		const char *why = NULL;
		if (!dns_name(opts->rpz_origin ? opts->rpz_origin : "rpz.tocsin", w->origin,
		              sizeof(w->origin)))
			why = "zone name";
		else if (!dns_name(opts->rpz_ns ? opts->rpz_ns : "localhost", w->ns, sizeof(w->ns)))
			why = "name server";
		else if (opts->rpz_action == EXPORT_RPZ_CNAME &&
		         (!opts->rpz_cname || !dns_name(opts->rpz_cname, w->cname, sizeof(w->cname))))
			why = "walled garden (the CNAME action's target)";
		if (why) {
			free(w);
			return diag_set(d, TC_EINVAL, "export rpz: %s: not a DNS name", why);
		}
	}
	buf_init(&w->out, EXPORT_FLUSH + 4 * OBS_VALUE_MAX + 4096);
	*out = w;
	return TC_OK;
}

static enum tcerr
flush(struct export_dec_writer *w, bool force, struct diag *d)
{
	return export__sink(&w->out, w->write, w->wctx, &w->err, force, d);
}

enum tcerr
export__flush(struct export_dec_writer *w)
{
	struct diag d;
	return flush(w, false, &d);
}

static void
start(struct export_dec_writer *w)
{
	if (w->started)
		return;
	w->started = true;
	w->fmt->start(w);
}

enum tcerr
export_dec_writer_add(struct export_dec_writer *w, const struct feed_decision *dec,
                      struct diag *d)
{
	if (w->err)
		return w->err;
	start(w);
	w->c.decisions++;
	if (dec->kind < 1 || dec->kind > OBS_KIND_MAX || !w->fmt->carries(w, dec->kind)) {
		w->c.left_out[EXPORT_LEFT_KIND]++;
		if (dec->kind >= 1 && dec->kind <= OBS_KIND_MAX)
			w->c.kinds_left_out[dec->kind]++;
		return TC_OK;
	}
	/* an enforcement point blocks what the hub says to block, no more */
	if (dec->action && strcmp(dec->action, "alert") == 0 &&
	    (w->o.format == EXPORT_PLAIN || w->o.format == EXPORT_RPZ ||
	     w->o.format == EXPORT_NFT || w->o.format == EXPORT_IPSET)) {
		export__left_out(w, EXPORT_LEFT_ALERT);
		return TC_OK;
	}
	/* The one filter every format passes (export.h): nothing below may
	 * write a value before it. */
	struct allowlist_hit hit;
	char why[EXPORT_REASON_MAX];
	const char *mark = NULL;
	if (export_filter_value(w->o.allow, dec->kind, dec->value, &hit, &w->c.allow)) {
		if (!w->o.include_allowlisted || w->o.format != EXPORT_PLAIN) {
			w->c.allow.allowlisted++;
			export__left_out(w, EXPORT_LEFT_ALLOWLISTED);
			return TC_OK;
		}
		w->c.allow.allowlisted_kept++;
		export_reason_text(&hit, why, sizeof(why));
		mark = why;
	}
	enum tcerr rc = w->fmt->add(w, dec, mark);
	if (rc) {
		w->err = rc;
		return diag_set(d, rc, "export %s: %s", export_format_name(w->o.format),
		                tcerr_str(rc));
	}
	return flush(w, false, d);
}

enum tcerr
export_dec_writer_finish(struct export_dec_writer *w, struct export_dec_counts *counts,
                         struct diag *d)
{
	if (!w->err) {
		start(w);
		enum tcerr rc = w->fmt->finish(w);
		if (rc == TC_ENOTFOUND) {
			buf_clear(&w->out);
			w->err = diag_set(d, rc, "misp-feed: no event %s", w->misp_uuid);
		} else if (rc) {
			w->err = diag_set(d, rc, "export %s: %s", export_format_name(w->o.format),
			                  tcerr_str(rc));
		} else {
			flush(w, true, d);
		}
	}
	w->c.listed = w->plain_n;
	if (counts)
		*counts = w->c;
	return w->err;
}

void
export_dec_writer_free(struct export_dec_writer *w)
{
	if (!w)
		return;
	buf_reset(&w->out);
	free(w->v4);
	free(w->v6);
	for (size_t i = 0; i < w->nev; i++)
		free(w->ev[i].producer);
	free(w->ev);
	free(w);
}
