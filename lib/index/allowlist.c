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
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/allowlist.h"
#include "index/index.h"

#define ALLOWLIST_HITS 64 /* hits examined per check: all entries of the top key */

struct al_entry {
	const char *value;
	const char *reason;
	const char *source;
	enum obs_kind kind;
	bool owned;     /* value and reason were copied */
	bool exception;
	bool builtin;
};

/* An allow entry for an address or network, for allowlist_check_block's
 * "does this network hold a listed one" question: sorted by (fam, a) when
 * nets_sorted, so the entries inside a network are found by a binary
 * search; an entry added alone (allowlist_add) leaves them unsorted and
 * the search a scan, until the next sorting load. */
struct al_net {
	uint8_t fam;    /* 4 or 6 */
	uint8_t plen;
	uint8_t a[16];  /* network address, host bits zero */
	uint32_t entry;
};

struct allowlist {
	struct index *idx;
	/* each proper parent of an allow domain entry ("example.org" for
	 * www.example.org), ref = the entry: a domain holding an entry */
	struct index *parents;
	struct al_entry *e;
	size_t n, cap;
	struct al_net *nets;
	size_t nnets, capnets;
	bool nets_sorted;
	char **sources;             /* file names given to load_buf */
	size_t nsources;
	atomic_uint refs;
};

/* Defined in allowlist_default.c. */
enum tcerr allowlist__add_static(struct allowlist *al, enum obs_kind kind, const char *value,
                                 const char *reason, bool exception);
void allowlist__sort_nets(struct allowlist *al);

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
	if (index_new(&al->parents)) {
		index_free(al->idx);
		free(al);
		return TC_ENOMEM;
	}
	atomic_init(&al->refs, 1);
	al->nets_sorted = true;
	*out = al;
	return TC_OK;
}

struct allowlist *
allowlist_ref(struct allowlist *al)
{
	atomic_fetch_add(&al->refs, 1);
	return al;
}

void
allowlist_free(struct allowlist *al)
{
	if (!al || atomic_fetch_sub(&al->refs, 1) != 1)
		return;
	index_free(al->idx);
	index_free(al->parents);
	for (size_t i = 0; i < al->n; i++) {
		if (al->e[i].owned) {
			free((char *)al->e[i].value);
			free((char *)al->e[i].reason);
		}
	}
	for (size_t i = 0; i < al->nsources; i++)
		free(al->sources[i]);
	free(al->sources);
	free(al->nets);
	free(al->e);
	free(al);
}

size_t
allowlist_count(const struct allowlist *al)
{
	return al->n;
}

static void
entry_out(const struct allowlist *al, size_t i, struct allowlist_entry *e)
{
	const struct al_entry *x = &al->e[i];
	*e = (struct allowlist_entry){ x->kind, x->value, x->reason, x->source, x->exception,
		                       x->builtin };
}

bool
allowlist_entry_at(const struct allowlist *al, size_t i, struct allowlist_entry *e)
{
	if (i >= al->n)
		return false;
	entry_out(al, i, e);
	return true;
}

/* Parses a normalised "addr" or "addr/len" of kind into *n. */
static bool
net_parse(enum obs_kind kind, struct slice v, struct al_net *n)
{
	char text[INET6_ADDRSTRLEN + 8];
	unsigned full = kind == OBS_IPV4 ? 32 : 128;
	if ((kind != OBS_IPV4 && kind != OBS_IPV6) || v.len == 0 || v.len >= sizeof text)
		return false;
	memcpy(text, v.p, v.len);
	text[v.len] = '\0';
	memset(n, 0, sizeof *n);
	n->plen = (uint8_t)full;
	char *slash = strchr(text, '/');
	if (slash) {
		*slash = '\0';
		unsigned plen = 0;
		const char *q = slash + 1;
		if (!*q || strlen(q) > 3)
			return false;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return false;
			plen = plen * 10 + (unsigned)(*q - '0');
		}
		if (plen > full)
			return false;
		n->plen = (uint8_t)plen;
	}
	n->fam = kind == OBS_IPV4 ? 4 : 6;
	if (inet_pton(kind == OBS_IPV4 ? AF_INET : AF_INET6, text, n->a) != 1)
		return false;
	for (unsigned i = 0; i < full / 8; i++) {
		unsigned keep = n->plen > i * 8 ? n->plen - i * 8 : 0;
		if (keep < 8)
			n->a[i] &= (uint8_t)(0xff << (8 - keep));
	}
	return true;
}

static int
net_cmp(const struct al_net *x, const struct al_net *y)
{
	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	int c = memcmp(x->a, y->a, 16);
	if (c)
		return c;
	return x->plen < y->plen ? -1 : x->plen > y->plen;
}

static int
net_qcmp(const void *x, const void *y)
{
	return net_cmp(x, y);
}

void
allowlist__sort_nets(struct allowlist *al)
{
	if (!al->nets_sorted && al->nnets)
		qsort(al->nets, al->nnets, sizeof *al->nets, net_qcmp);
	al->nets_sorted = true;
}

/* Whether the first plen bits of a and b agree. */
static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned whole = plen / 8, rest = plen % 8;
	if (memcmp(a, b, whole))
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & m) == (b[whole] & m);
}

static enum tcerr
note_net(struct allowlist *al, enum obs_kind kind, struct slice value, uint32_t entry)
{
	struct al_net n;
	if (!net_parse(kind, value, &n))
		return TC_OK; /* index_add refused it already, or will */
	if (al->nnets == al->capnets) {
		size_t ncap = al->capnets ? al->capnets * 2 : 64;
		struct al_net *nn = realloc(al->nets, ncap * sizeof *nn);
		if (!nn)
			return TC_ENOMEM;
		al->nets = nn;
		al->capnets = ncap;
	}
	n.entry = entry;
	if (al->nnets && al->nets_sorted && net_cmp(&al->nets[al->nnets - 1], &n) > 0)
		al->nets_sorted = false;
	al->nets[al->nnets++] = n;
	return TC_OK;
}

/* Indexes the parents of domain entry ref that have a dot ("b.example"
 * and "example" of a.b.example: not the top-level label, which no
 * indicator may name). On error removes what it added. */
static enum tcerr
note_parents(struct allowlist *al, struct slice v, uint32_t ref)
{
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] != '.')
			continue;
		struct slice parent = slice_make(v.p + i + 1, v.len - i - 1);
		if (!parent.len || !memchr(parent.p, '.', parent.len))
			break;
		enum tcerr rc = index_add(al->parents, OBS_DOMAIN, parent, ref, 0);
		if (rc) {
			for (size_t k = 0; k < i; k++)
				if (v.p[k] == '.')
					index_remove(al->parents, OBS_DOMAIN,
					             slice_make(v.p + k + 1, v.len - k - 1), ref);
			return rc;
		}
	}
	return TC_OK;
}

static char *
dup_slice(struct slice s)
{
	char *p = malloc(s.len + 1);
	if (p) {
		memcpy(p, s.p, s.len);
		p[s.len] = '\0';
	}
	return p;
}

/* Adds an entry; value and reason are copied when copy is set. */
static enum tcerr
add_entry(struct allowlist *al, enum obs_kind kind, struct slice value, const char *reason,
          bool copy, bool exception, const char *source)
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
	if (!reason)
		reason = "allowlist";
	char *r = NULL, *v = NULL;
	if (copy) {
		r = dup_slice(slice_from_cstr(reason));
		v = dup_slice(value);
		if (!r || !v) {
			free(r);
			free(v);
			return TC_ENOMEM;
		}
	}
	enum tcerr rc = index_add(al->idx, kind, value, (uint32_t)al->n, 0);
	if (!rc && !exception && kind == OBS_DOMAIN)
		rc = note_parents(al, value, (uint32_t)al->n);
	if (!rc && !exception)
		rc = note_net(al, kind, value, (uint32_t)al->n);
	if (rc) {
		if (rc == TC_ENOMEM) {
			index_remove(al->idx, kind, value, (uint32_t)al->n);
			if (kind == OBS_DOMAIN && !exception)
				for (size_t k = 0; k < value.len; k++)
					if (value.p[k] == '.')
						index_remove(al->parents, OBS_DOMAIN,
						             slice_make(value.p + k + 1, value.len - k - 1),
						             (uint32_t)al->n);
		}
		free(r);
		free(v);
		return rc;
	}
	al->e[al->n++] = (struct al_entry){
		.value = copy ? v : value.p,
		.reason = copy ? r : reason,
		.source = source,
		.kind = kind,
		.owned = copy,
		.exception = exception,
		.builtin = !copy,
	};
	return TC_OK;
}

enum tcerr
allowlist__add_static(struct allowlist *al, enum obs_kind kind, const char *value,
                      const char *reason, bool exception)
{
	return add_entry(al, kind, slice_from_cstr(value), reason, false, exception,
	                 ALLOWLIST_BUILTIN);
}

enum tcerr
allowlist_add(struct allowlist *al, enum obs_kind kind, struct slice value, const char *reason)
{
	return add_entry(al, kind, value, reason, true, false, "allowlist_add");
}

enum tcerr
allowlist_add_exception(struct allowlist *al, enum obs_kind kind, struct slice value,
                        const char *reason)
{
	return add_entry(al, kind, value, reason, true, true, "allowlist_add");
}

/* ---- checking ---- */

enum verdict { NO_ENTRY, ALLOWED, EXCEPTED };

static enum verdict
decide(const struct allowlist *al, enum obs_kind kind, struct slice value, size_t *entry)
{
	struct index_hit hits[ALLOWLIST_HITS];
	size_t n = index_lookup(al->idx, kind, value, 0, hits, ALLOWLIST_HITS);
	if (n == 0)
		return NO_ENTRY;
	if (n > ALLOWLIST_HITS)
		n = ALLOWLIST_HITS;
	const struct index_hit *top = &hits[0];
	size_t which = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct index_hit *h = &hits[i];
		if (h->how != top->how || h->prefix_len != top->prefix_len ||
		    h->labels_up != top->labels_up)
			break; /* a less specific key: the top one decided */
		const struct al_entry *e = &al->e[h->ref];
		if (e->exception)
			return EXCEPTED;
		if (which == SIZE_MAX)
			which = h->ref;
	}
	if (entry)
		*entry = which;
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

/* The verdict on (kind, value) and the deciding entry; a URL that names
 * a whole site falls back on its host's entry. */
static enum verdict
check(const struct allowlist *al, enum obs_kind kind, struct slice value, size_t *entry)
{
	enum verdict v = decide(al, kind, value, entry);
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
			v = decide(al, hk, host, entry);
	}
	return v;
}

bool
allowlist_check(const struct allowlist *al, enum obs_kind kind, struct slice value,
                const char **reason)
{
	size_t entry = SIZE_MAX;
	enum verdict v = check(al, kind, value, &entry);
	if (reason)
		*reason = v == ALLOWED && entry < al->n ? al->e[entry].reason : NULL;
	return v == ALLOWED;
}

/* The first allow entry (lowest address) inside network n, or SIZE_MAX. */
static size_t
net_inside(const struct allowlist *al, const struct al_net *n)
{
	size_t best = SIZE_MAX;
	if (!al->nets_sorted) {
		const struct al_net *low = NULL;
		for (size_t i = 0; i < al->nnets; i++) {
			const struct al_net *x = &al->nets[i];
			if (x->fam == n->fam && x->plen >= n->plen && prefix_eq(x->a, n->a, n->plen) &&
			    (!low || net_cmp(x, low) < 0))
				low = x;
		}
		return low ? low->entry : SIZE_MAX;
	}
	/* the first entry not below n: those inside n follow it in a row */
	size_t lo = 0, hi = al->nnets;
	struct al_net key = *n;
	key.plen = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (net_cmp(&al->nets[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < al->nnets; i++) {
		const struct al_net *x = &al->nets[i];
		if (x->fam != n->fam || !prefix_eq(x->a, n->a, n->plen))
			break;
		if (x->plen >= n->plen) {
			best = x->entry;
			break;
		}
	}
	return best;
}

/* An allow entry below domain value (value is one of its parents), or
 * SIZE_MAX: the first one added. */
static size_t
domain_below(const struct allowlist *al, struct slice value)
{
	struct index_hit hits[ALLOWLIST_HITS];
	size_t n = index_lookup(al->parents, OBS_DOMAIN, value, 0, hits, ALLOWLIST_HITS);
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < n && i < ALLOWLIST_HITS; i++)
		if (hits[i].how == INDEX_EXACT && hits[i].ref < best)
			best = hits[i].ref;
	return best;
}

bool
allowlist_check_block(const struct allowlist *al, enum obs_kind kind, struct slice value,
                      struct allowlist_hit *hit)
{
	struct allowlist_hit h = { .how = ALLOWLIST_NONE };
	size_t entry = SIZE_MAX;
	struct al_net n;

	if (check(al, kind, value, &entry) == ALLOWED && entry < al->n) {
		h.how = ALLOWLIST_COVERED;
		entry_out(al, entry, &h.entry);
	} else if (value.len && memchr(value.p, '/', value.len) && /* a network */
	           net_parse(kind, value, &n) && n.plen < (n.fam == 4 ? 32 : 128) &&
	           (entry = net_inside(al, &n)) != SIZE_MAX) {
		h.how = ALLOWLIST_CONTAINS;
		entry_out(al, entry, &h.entry);
	} else if (kind == OBS_DOMAIN && (entry = domain_below(al, value)) != SIZE_MAX) {
		h.how = ALLOWLIST_CONTAINS;
		entry_out(al, entry, &h.entry);
	}
	if (hit)
		*hit = h;
	return h.how != ALLOWLIST_NONE;
}

/* ---- files ---- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

enum tcerr
allowlist_parse_line(const struct allowlist_normalizer *norm, const char *name, long lineno,
                     struct slice line, struct allowlist_line *out, struct buf *val,
                     struct buf *why, struct diag *d)
{
	struct diag inner;
	diag_clear(&inner);
	memset(out, 0, sizeof *out);
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
	buf_append_char(val, '\0');
	buf_clear(why);
	if (comment.len)
		buf_append_slice(why, comment);
	buf_append_char(why, '\0');
	if (buf_error(val) || buf_error(why))
		return diag_set(d, TC_ENOMEM, "%s:%ld: out of memory", name, lineno);
	out->value = val->p;
	out->reason = comment.len ? why->p : NULL;
	out->kind = kind;
	out->exception = exception;
	return TC_OK;
}

/* One line, without its newline. */
static enum tcerr
load_line(struct allowlist *al, const struct allowlist_normalizer *norm, const char *name,
          const char *source, long lineno, struct slice text, struct buf *val, struct buf *why,
          struct diag *d)
{
	struct allowlist_line line;
	enum tcerr rc = allowlist_parse_line(norm, name, lineno, text, &line, val, why, d);
	if (rc || !line.value)
		return rc;
	char where[1024 + 24];
	const char *reason = line.reason;
	if (!reason) {
		snprintf(where, sizeof where, "%.1024s:%ld", name, lineno);
		reason = where;
	}
	struct slice v = slice_from_cstr(line.value);
	rc = add_entry(al, line.kind, v, reason, true, line.exception, source);
	if (rc == TC_ELIMIT)
		return diag_set(d, rc, "%s:%ld: more than %d entries", name, lineno,
		                ALLOWLIST_MAX_ENTRIES);
	if (rc == TC_EINVAL)
		return diag_set(d, rc, "%s:%ld: '%s' cannot be matched", name, lineno, line.value);
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
	/* the entries' source: the name, kept as long as the allowlist */
	char **ns = realloc(al->sources, (al->nsources + 1) * sizeof *ns);
	if (!ns) {
		rc = diag_set(d, TC_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	al->sources = ns;
	const char *source = ns[al->nsources] = dup_slice(slice_from_cstr(name));
	if (!source) {
		rc = diag_set(d, TC_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	al->nsources++;
	long lineno = 0;
	size_t i = 0;
	while (i < text.len) {
		const char *nl = memchr(text.p + i, '\n', text.len - i);
		size_t len = nl ? (size_t)(nl - (text.p + i)) : text.len - i;
		lineno++;
		rc = load_line(al, norm, name, source, lineno, slice_make(text.p + i, len), &val,
		               &why, d);
		if (rc) {
			if (d)
				d->line = lineno;
			goto out;
		}
		i += len + 1;
	}
out:
	allowlist__sort_nets(al);
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
