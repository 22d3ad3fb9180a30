/*
 * allowlist.c — values that must never be blocked, on the index's machinery.
 *
 * Entries live in a struct index whose refs are entry numbers; entry i
 * keeps its reason and whether it is an exception. A check looks the value
 * up and lets the most specific key found decide (index_lookup reports the
 * exact key first, then longer networks and nearer parents); among the
 * entries of that one key an exception wins. Invariant: every ref in the
 * index is < al->n, and each entry's reason is a NUL-terminated string the
 * allowlist owns or a static one (owned == false).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/allowlist.h"
#include "index/index.h"

#define ALLOWLIST_HITS 64 /* hits examined per check: all entries of the top key */

struct al_entry {
	const char *reason;
	bool owned;
	bool exception;
};

struct allowlist {
	struct index *idx;
	struct al_entry *e;
	size_t n, cap;
};

/* Defined in allowlist_default.c. */
enum tcerr allowlist__add_static(struct allowlist *al, enum obs_kind kind, const char *value,
                                 const char *reason, bool exception);

enum tcerr
allowlist_new(struct allowlist **out)
{
	*out = NULL;
	struct allowlist *al = calloc(1, sizeof *al);
	if (!al)
		return TC_ENOMEM;
	if (index_new(&al->idx)) {
		free(al);
		return TC_ENOMEM;
	}
	*out = al;
	return TC_OK;
}

void
allowlist_free(struct allowlist *al)
{
	if (!al)
		return;
	index_free(al->idx);
	for (size_t i = 0; i < al->n; i++)
		if (al->e[i].owned)
			free((char *)al->e[i].reason);
	free(al->e);
	free(al);
}

size_t
allowlist_count(const struct allowlist *al)
{
	return al->n;
}

/* Adds an entry; reason is copied when copy is set. */
static enum tcerr
add_entry(struct allowlist *al, enum obs_kind kind, struct slice value, const char *reason,
          bool copy, bool exception)
{
	if (al->n >= ALLOWLIST_MAX_ENTRIES)
		return TC_ELIMIT;
	if (al->n == al->cap) {
		size_t ncap = al->cap ? al->cap * 2 : 64;
		struct al_entry *ne = realloc(al->e, ncap * sizeof *ne);
		if (!ne)
			return TC_ENOMEM;
		al->e = ne;
		al->cap = ncap;
	}
	if (!reason) {
		reason = "allowlist";
		copy = false;
	}
	char *r = NULL;
	if (copy) {
		size_t len = strlen(reason) + 1;
		r = malloc(len);
		if (!r)
			return TC_ENOMEM;
		memcpy(r, reason, len);
	}
	enum tcerr rc = index_add(al->idx, kind, value, (uint32_t)al->n, 0);
	if (rc) {
		free(r);
		return rc;
	}
	al->e[al->n++] = (struct al_entry){ copy ? r : reason, copy, exception };
	return TC_OK;
}

enum tcerr
allowlist__add_static(struct allowlist *al, enum obs_kind kind, const char *value,
                      const char *reason, bool exception)
{
	return add_entry(al, kind, slice_from_cstr(value), reason, false, exception);
}

enum tcerr
allowlist_add(struct allowlist *al, enum obs_kind kind, struct slice value, const char *reason)
{
	return add_entry(al, kind, value, reason, true, false);
}

enum tcerr
allowlist_add_exception(struct allowlist *al, enum obs_kind kind, struct slice value,
                        const char *reason)
{
	return add_entry(al, kind, value, reason, true, true);
}

/* ---- checking ---- */

enum verdict { NO_ENTRY, ALLOWED, EXCEPTED };

static enum verdict
decide(const struct allowlist *al, enum obs_kind kind, struct slice value, const char **reason)
{
	struct index_hit hits[ALLOWLIST_HITS];
	size_t n = index_lookup(al->idx, kind, value, 0, hits, ALLOWLIST_HITS);
	if (n == 0)
		return NO_ENTRY;
	if (n > ALLOWLIST_HITS)
		n = ALLOWLIST_HITS;
	const struct index_hit *top = &hits[0];
	const char *why = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct index_hit *h = &hits[i];
		if (h->how != top->how || h->prefix_len != top->prefix_len ||
		    h->labels_up != top->labels_up)
			break; /* a less specific key: the top one decided */
		const struct al_entry *e = &al->e[h->ref];
		if (e->exception)
			return EXCEPTED;
		if (!why)
			why = e->reason;
	}
	if (reason)
		*reason = why;
	return ALLOWED;
}

/* The host of a canonical URL "scheme://[user@]host[:port][/...]", as
 * (kind, text). OUT: *site_root = the URL names the whole site (nothing
 * after the authority but "/"). Returns false if there is no host. */
static bool
url_host(struct slice url, enum obs_kind *kind, struct slice *host, bool *site_root)
{
	const char *p = url.p, *end = url.p + url.len;
	const char *sep = NULL;
	for (const char *q = p; q + 3 <= end; q++) {
		if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
			sep = q;
			break;
		}
		if (q[0] == '/' || q[0] == '?' || q[0] == '#')
			return false;
	}
	if (!sep)
		return false;
	const char *a = sep + 3, *ae = a;
	while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
		ae++;
	*site_root = ae == end || (ae + 1 == end && *ae == '/');
	for (const char *q = ae; q > a; q--) {
		if (q[-1] == '@') {
			a = q;
			break;
		}
	}
	if (a < ae && *a == '[') {
		const char *close = memchr(a, ']', (size_t)(ae - a));
		if (!close)
			return false;
		*kind = OBS_IPV6;
		*host = slice_make(a + 1, (size_t)(close - a - 1));
		return host->len > 0;
	}
	const char *he = a;
	while (he < ae && *he != ':')
		he++;
	*host = slice_make(a, (size_t)(he - a));
	if (host->len == 0)
		return false;
	bool v4 = true;
	for (size_t i = 0; i < host->len; i++)
		if (!((host->p[i] >= '0' && host->p[i] <= '9') || host->p[i] == '.'))
			v4 = false;
	*kind = v4 ? OBS_IPV4 : OBS_DOMAIN;
	return true;
}

bool
allowlist_check(const struct allowlist *al, enum obs_kind kind, struct slice value,
                const char **reason)
{
	const char *why = NULL;
	enum verdict v = decide(al, kind, value, &why);
	/* A URL is covered by its host's entry only when it names the whole
	 * site: "block https://github.com/" must be refused, but a malware
	 * file at https://github.com/user/repo/x.exe is a legitimate block.
	 * For the same reason an email address is covered only by an entry
	 * for itself, never by its domain (scams come from gmail.com). */
	if (v == NO_ENTRY && kind == OBS_URL) {
		enum obs_kind hk;
		struct slice host;
		bool site_root;
		if (url_host(value, &hk, &host, &site_root) && site_root)
			v = decide(al, hk, host, &why);
	}
	if (reason)
		*reason = v == ALLOWED ? why : NULL;
	return v == ALLOWED;
}

/* ---- files ---- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line, without its newline. */
static enum tcerr
load_line(struct allowlist *al, const struct allowlist_normalizer *norm, const char *name,
          long lineno, struct slice line, struct buf *val, struct buf *why, struct diag *d)
{
	struct diag inner;
	diag_clear(&inner);
	if (line.len > ALLOWLIST_MAX_LINE)
		return diag_set(d, TC_ELIMIT, "%s:%ld: line longer than %d bytes", name, lineno,
		                ALLOWLIST_MAX_LINE);
	if (line.len && memchr(line.p, '\0', line.len))
		return diag_set(d, TC_EINVAL, "%s:%ld: NUL byte in line", name, lineno);
	line = slice_trim(line);
	if (line.len == 0 || line.p[0] == '#')
		return TC_OK;
	/* a reason: whitespace, then '#' */
	struct slice comment = { NULL, 0 };
	for (size_t i = 1; i < line.len; i++) {
		if (line.p[i] == '#' && is_space(line.p[i - 1])) {
			comment = slice_trim(slice_make(line.p + i + 1, line.len - i - 1));
			line = slice_trim(slice_make(line.p, i));
			break;
		}
	}
	bool exception = false;
	if (line.p[0] == '!') {
		exception = true;
		line = slice_trim(slice_make(line.p + 1, line.len - 1));
		if (line.len == 0)
			return diag_set(d, TC_EINVAL, "%s:%ld: '!' without a value", name, lineno);
	}
	size_t sp = 0;
	while (sp < line.len && !is_space(line.p[sp]))
		sp++;
	enum obs_kind kind;
	enum tcerr rc;
	buf_clear(val);
	if (sp < line.len) {
		struct slice kname = slice_make(line.p, sp);
		struct slice value = slice_trim(slice_make(line.p + sp, line.len - sp));
		for (size_t i = 0; i < value.len; i++)
			if (is_space(value.p[i]))
				return diag_set(d, TC_EINVAL,
				                "%s:%ld: expected 'kind value' or a value, found more",
				                name, lineno);
		if (norm->kind_parse(kname, &kind))
			return diag_set(d, TC_EINVAL, "%s:%ld: unknown kind '%.*s'", name, lineno,
			                (int)(kname.len > 64 ? 64 : kname.len), kname.p);
		rc = norm->normalize(norm->ctx, kind, value, val, &inner);
	} else {
		rc = norm->classify(norm->ctx, line, &kind, val, &inner);
	}
	if (!rc)
		rc = buf_error(val);
	if (rc) {
		diag_set(d, rc, "%s:%ld: %s", name, lineno,
		         inner.msg[0] ? inner.msg : tcerr_str(rc));
		if (d)
			d->line = lineno;
		return rc;
	}
	buf_clear(why);
	if (comment.len)
		buf_append_slice(why, comment);
	else
		buf_printf(why, "%s:%ld", name, lineno);
	if (buf_error(why))
		return diag_set(d, TC_ENOMEM, "%s:%ld: out of memory", name, lineno);
	rc = add_entry(al, kind, buf_slice(val), why->p, true, exception);
	if (rc == TC_ELIMIT)
		return diag_set(d, rc, "%s:%ld: more than %d entries", name, lineno,
		                ALLOWLIST_MAX_ENTRIES);
	if (rc == TC_EINVAL)
		return diag_set(d, rc, "%s:%ld: '%s' cannot be matched", name, lineno, val->p);
	if (rc)
		return diag_set(d, rc, "%s:%ld: %s", name, lineno, tcerr_str(rc));
	return TC_OK;
}

enum tcerr
allowlist_load_buf(struct allowlist *al, const struct allowlist_normalizer *norm,
                   const char *name, struct slice text, struct diag *d)
{
	struct buf val, why;
	enum tcerr rc = TC_OK;
	buf_init(&val, OBS_VALUE_MAX * 4);
	buf_init(&why, ALLOWLIST_MAX_LINE + 64);
	diag_clear(d);
	if (text.len > ALLOWLIST_MAX_FILE) {
		rc = diag_set(d, TC_ELIMIT, "%s: larger than %zu bytes", name, ALLOWLIST_MAX_FILE);
		goto out;
	}
	long lineno = 0;
	size_t i = 0;
	while (i < text.len) {
		const char *nl = memchr(text.p + i, '\n', text.len - i);
		size_t len = nl ? (size_t)(nl - (text.p + i)) : text.len - i;
		lineno++;
		rc = load_line(al, norm, name, lineno, slice_make(text.p + i, len), &val, &why, d);
		if (rc) {
			if (d)
				d->line = lineno;
			goto out;
		}
		i += len + 1;
	}
out:
	buf_reset(&val);
	buf_reset(&why);
	return rc;
}

enum tcerr
allowlist_load_file(struct allowlist *al, const struct allowlist_normalizer *norm,
                    const char *path, struct diag *d)
{
	struct buf text;
	enum tcerr rc = TC_OK;
	buf_init(&text, ALLOWLIST_MAX_FILE);
	diag_clear(d);
	FILE *f = fopen(path, "rb");
	if (!f) {
		int err = errno;
		char eb[128];
		rc = diag_set(d, err == ENOENT ? TC_ENOTFOUND : TC_EIO, "%s: cannot read: %s", path,
		              strerror_r(err, eb, sizeof eb));
		goto out;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&text, chunk, n);
	if (ferror(f)) {
		rc = diag_set(d, TC_EIO, "%s: cannot read", path);
		goto out;
	}
	if (buf_error(&text)) {
		rc = buf_error(&text);
		if (rc == TC_ELIMIT)
			diag_set(d, rc, "%s: larger than %zu bytes", path, ALLOWLIST_MAX_FILE);
		else
			diag_set(d, rc, "%s: out of memory", path);
		goto out;
	}
	rc = allowlist_load_buf(al, norm, path, buf_slice(&text), d);
out:
	if (f)
		fclose(f);
	buf_reset(&text);
	return rc;
}
