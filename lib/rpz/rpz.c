/*
 * rpz.c — RPZ triggers from decisions, and a zone's trigger set with its
 * journal of effective changes (rpz.h).
 *
 * The set is an open-addressing hash table of trigger names (XXH3),
 * linear probing, tombstones on removal, grown at 3/4 load. The journal
 * is an array of changes in position order, its oldest dropped when it
 * holds more than journal_max; each change owns a copy of its name, so a
 * trigger removed from the set stays nameable in the journal.
 */
#include "rpz/rpz.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define RPZ_TABLE_MIN 64               /* slots of a new table */
#define TOMBSTONE ((struct slot *)1)

/* draft-vixie-dnsop-dns-rpz §4.1, §4.2 (as BIND 9's rpz.c writes them):
 * IPv4 "PREFIX.B4.B3.B2.B1.rpz-ip"; IPv6 "PREFIX.W8.....W1.rpz-ip", the
 * 16-bit words in hex without leading zeros, the longest run of two or
 * more zero words (the first of equal runs) written once as "zz". */
static enum tcerr
ip_trigger(int family, const uint8_t *a, unsigned prefix, char *out, struct diag *d)
{
	size_t n = 0;
	int w;
	if (family == AF_INET) {
		w = snprintf(out, RPZ_NAME_MAX, "%u.%u.%u.%u.%u.rpz-ip", prefix, a[3], a[2], a[1],
		             a[0]);
		if (w < 0 || w >= RPZ_NAME_MAX)
			return diag_set(d, TC_ELIMIT, "trigger too long");
		return TC_OK;
	}
	unsigned words[8];
	int best = -1, bestlen = 0, cur = -1, curlen = 0;
	for (int i = 0; i < 8; i++) {
		words[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (words[i] == 0) {
			if (cur < 0)
				cur = i, curlen = 0;
			curlen++;
			if (curlen > bestlen)
				best = cur, bestlen = curlen;
		} else {
			cur = -1;
		}
	}
	if (bestlen < 2)
		best = -1;
	w = snprintf(out, RPZ_NAME_MAX, "%u", prefix);
	n = (size_t)w;
	for (int i = 7; i >= 0; i--) {
		if (best >= 0 && i >= best && i < best + bestlen) {
			if (i == best)
				w = snprintf(out + n, RPZ_NAME_MAX - n, ".zz");
			else
				continue;
		} else {
			w = snprintf(out + n, RPZ_NAME_MAX - n, ".%x", words[i]);
		}
		if (w < 0 || (size_t)w >= RPZ_NAME_MAX - n)
			return diag_set(d, TC_ELIMIT, "trigger too long");
		n += (size_t)w;
	}
	w = snprintf(out + n, RPZ_NAME_MAX - n, ".rpz-ip");
	if (w < 0 || (size_t)w >= RPZ_NAME_MAX - n)
		return diag_set(d, TC_ELIMIT, "trigger too long");
	return TC_OK;
}

enum tcerr
rpz_trigger(enum obs_kind kind, struct slice v, char out[RPZ_NAME_MAX], bool *wild, struct diag *d)
{
	*wild = false;
	if (kind == OBS_DOMAIN) {
		size_t len = v.len;
		if (len && v.p[len - 1] == '.')
			len--;
		if (len == 0)
			return diag_set(d, TC_EINVAL, "an empty domain");
		/* "*." + the name + "." + the origin must fit a domain name */
		if (len + 2 >= RPZ_NAME_MAX)
			return diag_set(d, TC_ELIMIT, "the domain is too long for a trigger");
		for (size_t i = 0; i < len; i++) {
			char ch = v.p[i];
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			          ch == '_' || (ch == '.' && i > 0 && v.p[i - 1] != '.');
			if (!ok)
				return diag_set(d, TC_EINVAL, "not a normalised domain name");
		}
		memcpy(out, v.p, len);
		out[len] = '\0';
		*wild = true;
		return TC_OK;
	}
	if (kind != OBS_IPV4 && kind != OBS_IPV6)
		return diag_set(d, TC_EUNSUPPORTED, "an RPZ zone carries domains and addresses only");
	char host[64];
	const char *slash = memchr(v.p, '/', v.len);
	size_t hlen = slash ? (size_t)(slash - v.p) : v.len;
	unsigned max = kind == OBS_IPV4 ? 32 : 128, prefix = max;
	uint8_t a[16];
	if (hlen == 0 || hlen >= sizeof host)
		return diag_set(d, TC_EINVAL, "not an address");
	memcpy(host, v.p, hlen);
	host[hlen] = '\0';
	if (inet_pton(kind == OBS_IPV4 ? AF_INET : AF_INET6, host, a) != 1)
		return diag_set(d, TC_EINVAL, "not an address");
	if (slash) {
		unsigned p = 0;
		size_t i = hlen + 1;
		if (i == v.len || v.len - i > 3)
			return diag_set(d, TC_EINVAL, "bad prefix");
		for (; i < v.len; i++) {
			if (v.p[i] < '0' || v.p[i] > '9')
				return diag_set(d, TC_EINVAL, "bad prefix");
			p = p * 10 + (unsigned)(v.p[i] - '0');
		}
		if (p > max)
			return diag_set(d, TC_EINVAL, "bad prefix");
		prefix = p;
	}
	/* RPZ: a prefix below /1 names nothing a resolver can match */
	if (prefix == 0)
		return diag_set(d, TC_EINVAL, "a /0 network is no trigger");
	return ip_trigger(kind == OBS_IPV4 ? AF_INET : AF_INET6, a, prefix, out, d);
}

struct slot {
	uint64_t hash;
	bool wild;
	char name[]; /* NUL-terminated */
};

struct jchange {
	uint64_t pos;
	bool add, wild;
	char *name;
};

struct rpz_zone {
	struct slot **slots;
	size_t cap, count, used;   /* used: live + tombstones */
	uint64_t pos;
	uint64_t changed;          /* the last effective change's position */
	uint64_t journal_from;     /* the journal holds every change after it */
	struct jchange *j;
	size_t jn, jcap, jmax;
	struct rpz_change *view;   /* rpz_zone_since's output */
	size_t viewcap;
};

enum tcerr
rpz_zone_new(size_t journal_max, struct rpz_zone **out)
{
	struct rpz_zone *z = calloc(1, sizeof *z);
	if (!z)
		return TC_ENOMEM;
	z->slots = calloc(RPZ_TABLE_MIN, sizeof *z->slots);
	if (!z->slots) {
		free(z);
		return TC_ENOMEM;
	}
	z->cap = RPZ_TABLE_MIN;
	z->jmax = journal_max;
	*out = z;
	return TC_OK;
}

static void
journal_clear(struct rpz_zone *z)
{
	for (size_t i = 0; i < z->jn; i++)
		free(z->j[i].name);
	z->jn = 0;
}

void
rpz_zone_reset(struct rpz_zone *z, uint64_t pos)
{
	for (size_t i = 0; i < z->cap; i++) {
		if (z->slots[i] && z->slots[i] != TOMBSTONE)
			free(z->slots[i]);
		z->slots[i] = NULL;
	}
	z->count = z->used = 0;
	journal_clear(z);
	z->pos = z->journal_from = z->changed = pos;
}

void
rpz_zone_mark(struct rpz_zone *z, uint64_t pos)
{
	journal_clear(z);
	z->pos = z->journal_from = z->changed = pos;
}

void
rpz_zone_free(struct rpz_zone *z)
{
	if (!z)
		return;
	rpz_zone_reset(z, 0);
	free(z->slots);
	free(z->j);
	free(z->view);
	free(z);
}

static uint64_t
name_hash(const char *name)
{
	return XXH3_64bits(name, strlen(name));
}

/* The slot holding name, or the slot where it would go (NULL or a
 * tombstone), in *at. Returns true when found. */
static bool
find(const struct rpz_zone *z, const char *name, uint64_t h, size_t *at)
{
	size_t mask = z->cap - 1, i = (size_t)h & mask, free_at = SIZE_MAX;
	for (;;) {
		struct slot *s = z->slots[i];
		if (!s) {
			*at = free_at != SIZE_MAX ? free_at : i;
			return false;
		}
		if (s == TOMBSTONE) {
			if (free_at == SIZE_MAX)
				free_at = i;
		} else if (s->hash == h && strcmp(s->name, name) == 0) {
			*at = i;
			return true;
		}
		i = (i + 1) & mask;
	}
}

static enum tcerr
grow(struct rpz_zone *z)
{
	size_t ncap = z->count * 2 >= z->cap ? z->cap * 2 : z->cap; /* else: only tombstones */
	struct slot **ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return TC_ENOMEM;
	for (size_t i = 0; i < z->cap; i++) {
		struct slot *s = z->slots[i];
		if (!s || s == TOMBSTONE)
			continue;
		size_t k = (size_t)s->hash & (ncap - 1);
		while (ns[k])
			k = (k + 1) & (ncap - 1);
		ns[k] = s;
	}
	free(z->slots);
	z->slots = ns;
	z->cap = ncap;
	z->used = z->count;
	return TC_OK;
}

/* Adds or removes name; OUT: *changed. */
static enum tcerr
set_change(struct rpz_zone *z, bool add, const char *name, bool wild, bool *changed)
{
	uint64_t h = name_hash(name);
	size_t at;
	*changed = false;
	if ((z->used + 1) * 4 > z->cap * 3) {
		enum tcerr rc = grow(z);
		if (rc)
			return rc;
	}
	bool found = find(z, name, h, &at);
	if (add == found)
		return TC_OK;
	if (!add) {
		free(z->slots[at]);
		z->slots[at] = TOMBSTONE;
		z->count--;
		*changed = true;
		return TC_OK;
	}
	size_t len = strlen(name);
	struct slot *s = malloc(sizeof *s + len + 1);
	if (!s)
		return TC_ENOMEM;
	s->hash = h;
	s->wild = wild;
	memcpy(s->name, name, len + 1);
	if (!z->slots[at])
		z->used++;
	z->slots[at] = s;
	z->count++;
	*changed = true;
	return TC_OK;
}

enum tcerr
rpz_zone_load(struct rpz_zone *z, const char *name, bool wild)
{
	bool changed;
	return set_change(z, true, name, wild, &changed);
}

/* Drops the oldest changes beyond jmax (the journal then starts at the
 * last dropped change's position). */
static void
journal_trim(struct rpz_zone *z)
{
	if (z->jn <= z->jmax)
		return;
	size_t drop = z->jn - z->jmax;
	for (size_t i = 0; i < drop; i++)
		free(z->j[i].name);
	z->journal_from = z->j[drop - 1].pos;
	memmove(z->j, z->j + drop, (z->jn - drop) * sizeof *z->j);
	z->jn -= drop;
}

enum tcerr
rpz_zone_apply(struct rpz_zone *z, uint64_t pos, bool add, const char *name, bool wild,
               bool *changed)
{
	bool ch = false;
	enum tcerr rc;
	if (changed)
		*changed = false;
	if (pos <= z->pos)
		return TC_EINVAL;
	/* room in the journal first, so that a failure leaves the zone as it was */
	if (z->jmax && z->jn == z->jcap) {
		size_t ncap = z->jcap ? z->jcap * 2 : 64;
		struct jchange *nj = realloc(z->j, ncap * sizeof *nj);
		if (!nj)
			return TC_ENOMEM;
		z->j = nj;
		z->jcap = ncap;
	}
	char *copy = NULL;
	if (z->jmax && !(copy = strdup(name)))
		return TC_ENOMEM;
	if ((rc = set_change(z, add, name, wild, &ch))) {
		free(copy);
		return rc;
	}
	z->pos = pos;
	if (!ch) {
		free(copy);
		return TC_OK;
	}
	if (!z->jmax) {
		z->journal_from = pos;
	} else {
		z->j[z->jn++] = (struct jchange){ pos, add, wild, copy };
		journal_trim(z);
	}
	z->changed = pos;
	if (changed)
		*changed = true;
	return TC_OK;
}

void
rpz_zone_advance(struct rpz_zone *z, uint64_t pos)
{
	if (pos > z->pos)
		z->pos = pos;
}

uint64_t
rpz_zone_position(const struct rpz_zone *z)
{
	return z->pos;
}

uint64_t
rpz_zone_serial_position(const struct rpz_zone *z)
{
	return z->changed;
}

bool
rpz_zone_find(const struct rpz_zone *z, const char *name, bool *wild)
{
	size_t at;
	if (!find(z, name, name_hash(name), &at))
		return false;
	*wild = z->slots[at]->wild;
	return true;
}

size_t
rpz_zone_count(const struct rpz_zone *z)
{
	return z->count;
}

enum tcerr
rpz_zone_each(const struct rpz_zone *z, rpz_trigger_cb cb, void *ctx)
{
	for (size_t i = 0; i < z->cap; i++) {
		const struct slot *s = z->slots[i];
		if (!s || s == TOMBSTONE)
			continue;
		enum tcerr rc = cb(ctx, s->name, s->wild);
		if (rc)
			return rc;
	}
	return TC_OK;
}

struct rpz_frozen {
	size_t count, len;
	char *buf; /* per trigger: a wild byte ('0'/'1'), the name, NUL */
};

enum tcerr
rpz_zone_freeze(const struct rpz_zone *z, struct rpz_frozen **out)
{
	size_t len = 0;
	for (size_t i = 0; i < z->cap; i++) {
		const struct slot *s = z->slots[i];
		if (s && s != TOMBSTONE)
			len += strlen(s->name) + 2;
	}
	struct rpz_frozen *f = calloc(1, sizeof *f);
	if (!f)
		return TC_ENOMEM;
	f->buf = malloc(len ? len : 1);
	if (!f->buf) {
		free(f);
		return TC_ENOMEM;
	}
	for (size_t i = 0; i < z->cap; i++) {
		const struct slot *s = z->slots[i];
		if (!s || s == TOMBSTONE)
			continue;
		size_t n = strlen(s->name);
		f->buf[f->len] = s->wild ? '1' : '0';
		memcpy(f->buf + f->len + 1, s->name, n + 1);
		f->len += n + 2;
		f->count++;
	}
	*out = f;
	return TC_OK;
}

size_t
rpz_frozen_count(const struct rpz_frozen *f)
{
	return f->count;
}

enum tcerr
rpz_frozen_each(const struct rpz_frozen *f, rpz_trigger_cb cb, void *ctx)
{
	for (size_t at = 0; at < f->len;) {
		const char *name = f->buf + at + 1;
		enum tcerr rc = cb(ctx, name, f->buf[at] == '1');
		if (rc)
			return rc;
		at += strlen(name) + 2;
	}
	return TC_OK;
}

void
rpz_frozen_free(struct rpz_frozen *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}

enum tcerr
rpz_zone_since(const struct rpz_zone *z, uint64_t from, const struct rpz_change **changes,
               size_t *n)
{
	struct rpz_zone *mz = (struct rpz_zone *)z;
	*n = 0;
	*changes = NULL;
	if (from < z->journal_from || from > z->pos)
		return TC_ENOTFOUND;
	size_t lo = 0, hi = z->jn;
	while (lo < hi) { /* the first change after from */
		size_t mid = lo + (hi - lo) / 2;
		if (z->j[mid].pos <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t cnt = z->jn - lo;
	if (cnt > mz->viewcap) {
		struct rpz_change *nv = realloc(mz->view, cnt * sizeof *nv);
		if (!nv)
			return TC_ENOMEM;
		mz->view = nv;
		mz->viewcap = cnt;
	}
	for (size_t i = 0; i < cnt; i++) {
		const struct jchange *c = &z->j[lo + i];
		mz->view[i] = (struct rpz_change){ c->pos, c->add, c->wild, c->name };
	}
	*changes = mz->view;
	*n = cnt;
	return TC_OK;
}

uint32_t
rpz_serial(uint64_t pos)
{
	return (uint32_t)pos;
}

uint64_t
rpz_serial_position(const struct rpz_zone *z, uint32_t serial)
{
	uint64_t cand = (z->pos & ~(uint64_t)UINT32_MAX) | serial;
	if (cand > z->pos) {
		if (cand < (uint64_t)1 << 32)
			return UINT64_MAX; /* from the future: no such position */
		cand -= (uint64_t)1 << 32;
	}
	return cand;
}
