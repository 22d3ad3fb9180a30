/*
 * coord_const.c — the constituency lookup (coord.h): which organisation
 * answers for an address, network, AS number or domain, at ingest speed.
 *
 * Networks are kept per family in one array sorted by (prefix length,
 * network); a lookup tries each prefix length present, longest first, as
 * a binary search of the address masked to it — at most 33 (IPv4) or 129
 * (IPv6) searches, in practice the handful of lengths operators use.
 * Domains are a sorted array searched for the name and then each parent;
 * AS numbers a sorted array. Invariant: the table is immutable once built,
 * so any number of threads may look up at once.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "coord/coord.h"

struct net {
	uint64_t hi, lo;        /* the network, masked; v4 in lo's low 32 bits */
	unsigned plen;
	const struct reg_const *e;
};

struct coord_consts {
	struct reg_const *all;
	size_t n;
	struct net *v4, *v6;
	size_t n4, n6;
	size_t start4[34], start6[130]; /* per prefix length: [start[p], start[p+1]) */
	const struct reg_const **asns, **domains;
	size_t nasn, ndom;
};

static int
net_cmp(const void *a, const void *b)
{
	const struct net *x = a, *y = b;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int
asn_cmp(const void *a, const void *b)
{
	uint32_t x = (*(const struct reg_const *const *)a)->asn;
	uint32_t y = (*(const struct reg_const *const *)b)->asn;
	return x < y ? -1 : x > y;
}

static int
dom_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct reg_const *const *)a)->value,
	              (*(const struct reg_const *const *)b)->value);
}

static void
mask(uint64_t *hi, uint64_t *lo, unsigned plen, bool v6)
{
	if (!v6) {
		*hi = 0;
		*lo = plen == 0 ? 0 : *lo & (0xffffffffULL << (32 - plen)) & 0xffffffffULL;
		return;
	}
	if (plen == 0) {
		*hi = *lo = 0;
	} else if (plen < 64) {
		*hi &= ~0ULL << (64 - plen);
		*lo = 0;
	} else if (plen < 128) {
		*lo &= plen == 64 ? 0 : ~0ULL << (128 - plen);
	}
}

static void
to_words(const uint8_t *a, bool v6, uint64_t *hi, uint64_t *lo)
{
	*hi = *lo = 0;
	if (!v6) {
		*lo = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
		return;
	}
	for (int i = 0; i < 8; i++)
		*hi = *hi << 8 | a[i];
	for (int i = 8; i < 16; i++)
		*lo = *lo << 8 | a[i];
}

enum tcerr
coord_consts_build(const struct reg_const *v, size_t n, struct coord_consts **out,
                   struct diag *d)
{
	struct coord_consts *c = calloc(1, sizeof *c);
	if (!c)
		return diag_set(d, TC_ENOMEM, "out of memory");
	c->all = malloc((n ? n : 1) * sizeof *c->all);
	c->v4 = malloc((n ? n : 1) * sizeof *c->v4);
	c->v6 = malloc((n ? n : 1) * sizeof *c->v6);
	c->asns = malloc((n ? n : 1) * sizeof *c->asns);
	c->domains = malloc((n ? n : 1) * sizeof *c->domains);
	if (!c->all || !c->v4 || !c->v6 || !c->asns || !c->domains) {
		coord_consts_free(c);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	if (n)
		memcpy(c->all, v, n * sizeof *v);
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct reg_const *e = &c->all[i];
		if (e->kind == REG_CONST_NET) {
			struct net x;
			to_words(e->addr, e->v6, &x.hi, &x.lo);
			x.plen = e->plen;
			x.e = e;
			mask(&x.hi, &x.lo, x.plen, e->v6);
			if (e->v6)
				c->v6[c->n6++] = x;
			else
				c->v4[c->n4++] = x;
		} else if (e->kind == REG_CONST_ASN) {
			c->asns[c->nasn++] = e;
		} else if (e->kind == REG_CONST_DOMAIN) {
			c->domains[c->ndom++] = e;
		}
	}
	qsort(c->v4, c->n4, sizeof *c->v4, net_cmp);
	qsort(c->v6, c->n6, sizeof *c->v6, net_cmp);
	qsort(c->asns, c->nasn, sizeof *c->asns, asn_cmp);
	qsort(c->domains, c->ndom, sizeof *c->domains, dom_cmp);
	size_t k = 0;
	for (unsigned p = 0; p <= 33; p++) {
		c->start4[p] = k;
		while (p <= 32 && k < c->n4 && c->v4[k].plen == p)
			k++;
	}
	k = 0;
	for (unsigned p = 0; p <= 129; p++) {
		c->start6[p] = k;
		while (p <= 128 && k < c->n6 && c->v6[k].plen == p)
			k++;
	}
	*out = c;
	return TC_OK;
}

void
coord_consts_free(struct coord_consts *c)
{
	if (!c)
		return;
	free(c->all);
	free(c->v4);
	free(c->v6);
	free(c->asns);
	free(c->domains);
	free(c);
}

size_t
coord_consts_count(const struct coord_consts *c)
{
	return c ? c->n : 0;
}

static const struct reg_const *
net_lookup(const struct coord_consts *c, const uint8_t *a, bool v6, unsigned plen)
{
	const struct net *v = v6 ? c->v6 : c->v4;
	const size_t *start = v6 ? c->start6 : c->start4;
	uint64_t hi0, lo0;
	to_words(a, v6, &hi0, &lo0);
	for (int p = (int)plen; p >= 0; p--) {
		size_t lo = start[p], hi = start[p + 1];
		if (lo == hi)
			continue;
		struct net key = { hi0, lo0, (unsigned)p, NULL };
		mask(&key.hi, &key.lo, (unsigned)p, v6);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = net_cmp(&key, &v[mid]);
			if (r == 0)
				return v[mid].e;
			if (r < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return NULL;
}

/* The entry for address text s (len bytes, optionally "/PLEN"). */
static const struct reg_const *
addr_lookup(const struct coord_consts *c, const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	uint8_t a[16];
	if (len == 0 || len >= sizeof tmp)
		return NULL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	char *slash = strchr(tmp, '/');
	bool v6 = strchr(tmp, ':') != NULL;
	unsigned plen = v6 ? 128 : 32;
	if (slash) {
		*slash = '\0';
		char *end;
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (*end || p > plen)
			return NULL;
		plen = (unsigned)p;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, a) != 1)
		return NULL;
	return net_lookup(c, a, v6, plen);
}

static const struct reg_const *
domain_lookup(const struct coord_consts *c, const char *s, size_t len)
{
	char tmp[REG_CONST_VALUE_MAX];
	while (len > 0) {
		if (len < sizeof tmp) {
			memcpy(tmp, s, len);
			tmp[len] = '\0';
			struct reg_const key;
			memcpy(key.value, tmp, len + 1);
			const struct reg_const *kp = &key;
			const struct reg_const **hit =
				bsearch(&kp, c->domains, c->ndom, sizeof *c->domains, dom_cmp);
			if (hit)
				return *hit;
		}
		const char *dot = memchr(s, '.', len);
		if (!dot)
			break;
		len -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	return NULL;
}

/* host of a normalised URL: after "://", before the path; userinfo and
 * port left out; an IPv6 literal without its brackets. */
static const struct reg_const *
url_lookup(const struct coord_consts *c, struct slice v)
{
	const char *p = v.p, *end = v.p + v.len;
	const char *sch = NULL;
	for (const char *q = p; q + 2 < end; q++)
		if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
			sch = q;
			break;
		}
	if (!sch)
		return NULL;
	const char *h = sch + 3, *he = h;
	while (he < end && *he != '/' && *he != '?' && *he != '#')
		he++;
	for (const char *q = he; q > h; q--)
		if (q[-1] == '@') {
			h = q;
			break;
		}
	if (h < he && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(he - h));
		if (!rb)
			return NULL;
		return addr_lookup(c, h + 1, (size_t)(rb - h - 1));
	}
	const char *colon = memchr(h, ':', (size_t)(he - h));
	if (colon)
		he = colon;
	size_t n = (size_t)(he - h);
	bool numeric = n > 0 && strspn(h, "0123456789.") >= n;
	return numeric ? addr_lookup(c, h, n) : domain_lookup(c, h, n);
}

const struct reg_const *
coord_consts_lookup(const struct coord_consts *c, enum obs_kind kind, struct slice value)
{
	if (!c || !value.p || value.len == 0)
		return NULL;
	switch (kind) {
	case OBS_IPV4:
	case OBS_IPV6:
		return addr_lookup(c, value.p, value.len);
	case OBS_DOMAIN:
		return domain_lookup(c, value.p, value.len);
	case OBS_URL:
		return url_lookup(c, value);
	case OBS_EMAIL: {
		const char *at = NULL;
		for (size_t i = value.len; i > 0; i--)
			if (value.p[i - 1] == '@') {
				at = value.p + i - 1;
				break;
			}
		return at ? domain_lookup(c, at + 1, (size_t)(value.p + value.len - at - 1)) : NULL;
	}
	case OBS_ASN: {
		const char *s = value.p;
		size_t n = value.len;
		if (n > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's')) {
			s += 2;
			n -= 2;
		}
		uint64_t x = 0;
		if (n == 0 || n > 10)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return NULL;
			x = x * 10 + (uint64_t)(s[i] - '0');
		}
		if (x > UINT32_MAX)
			return NULL;
		struct reg_const key;
		key.asn = (uint32_t)x;
		const struct reg_const *kp = &key;
		const struct reg_const **hit =
			bsearch(&kp, c->asns, c->nasn, sizeof *c->asns, asn_cmp);
		return hit ? *hit : NULL;
	}
	default:
		return NULL;
	}
}
