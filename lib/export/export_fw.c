/*
 * export_fw.c — decisions as firewall sets: an nftables script and an
 * ipset restore file.
 *
 * nft: one transaction (`nft -f FILE`) that creates the table inet NAME
 * and its sets v4 and v6 when missing (`add` is idempotent), empties the
 * sets and fills them: the sets are replaced atomically and whatever else
 * the table holds (the operator's chains that match @v4 / @v6) stays.
 * Sets have `flags interval,timeout`: networks and addresses share one
 * set, and an element with an until gets a timeout (whole seconds from now,
 * rounded up, written as days, hours, minutes, seconds: "1d2h3s"). nft refuses overlapping intervals ("conflicting
 * intervals specified") and its auto-merge loses timeouts, so the
 * addresses and networks are held (16 / 32 bytes each), sorted at the end,
 * and one inside a network written before it is left out as covered.
 *
 * ipset: hash:net sets NAME-v4 (family inet) and NAME-v6 (inet6) with
 * timeout support; filled under NAME-v4-tmp / NAME-v6-tmp, swapped in and
 * the temporary destroyed, so `ipset restore` replaces the sets atomically
 * while rules keep naming them. hash:net accepts an address inside a
 * network: nothing is left out but other kinds. A timeout longer than the
 * kernel's EXPORT_IPSET_MAX_TIMEOUT is cut to it (a reload puts the
 * element back; it never outlives its decision).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "export_dec_int.h"

#define NFT_ELEMENTS_PER_LINE 512 /* elements in one "add element" statement */
#define NFT_MAX_TIMEOUT_S (INT64_C(36500) * 86400) /* longer is cut to 100 years */

static bool
ip_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	(void)w;
	return kind == OBS_IPV4 || kind == OBS_IPV6;
}

/* ---- nft ---- */

static void
nft_start(struct export_dec_writer *w)
{
	const char *t = w->name;
	buf_printf(&w->out,
	           "#!/usr/sbin/nft -f\n"
	           "# tocsin decisions at log position %llu\n"
	           "add table inet %s\n"
	           "add set inet %s v4 { type ipv4_addr; flags interval,timeout; }\n"
	           "add set inet %s v6 { type ipv6_addr; flags interval,timeout; }\n"
	           "flush set inet %s v4\n"
	           "flush set inet %s v6\n",
	           (unsigned long long)w->o.position, t, t, t, t, t);
}

static enum tcerr
nft_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	if (dec->kind == OBS_IPV4) {
		struct export__ip4 ip;
		if (!export__ip4_parse(dec->value, &ip)) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		if (w->n4 + w->n6 >= EXPORT_DEC_MAX_IPS)
			return TC_ELIMIT;
		if (w->n4 == w->cap4) {
			size_t ncap = w->cap4 ? 2 * w->cap4 : 1024;
			struct export__ip4 *n = realloc(w->v4, ncap * sizeof(*n));
			if (!n)
				return TC_ENOMEM;
			w->v4 = n;
			w->cap4 = ncap;
		}
		ip.until_us = dec->until_us;
		w->v4[w->n4++] = ip;
	} else {
		struct export__ip6 ip;
		if (!export__ip6_parse(dec->value, &ip)) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		if (w->n4 + w->n6 >= EXPORT_DEC_MAX_IPS)
			return TC_ELIMIT;
		if (w->n6 == w->cap6) {
			size_t ncap = w->cap6 ? 2 * w->cap6 : 1024;
			struct export__ip6 *n = realloc(w->v6, ncap * sizeof(*n));
			if (!n)
				return TC_ENOMEM;
			w->v6 = n;
			w->cap6 = ncap;
		}
		ip.until_us = dec->until_us;
		w->v6[w->n6++] = ip;
	}
	return TC_OK;
}

/* By address, then the wider network first. */
static int
cmp4(const void *a, const void *b)
{
	const struct export__ip4 *x = a, *y = b;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return (int)x->plen - (int)y->plen;
}

static int
cmp6(const void *a, const void *b)
{
	const struct export__ip6 *x = a, *y = b;
	int c = memcmp(x->a, y->a, 16);
	return c ? c : (int)x->plen - (int)y->plen;
}

/* Sorts v (n) as cmp4 would, by a 40-bit key (address, then prefix
 * length) in five passes of a byte each (LSD radix: ~10x qsort at 1M).
 * tmp: n elements. */
static void
sort4(struct export__ip4 *v, struct export__ip4 *tmp, size_t n)
{
	struct export__ip4 *src = v, *dst = tmp;
	for (int pass = 0; pass < 5; pass++) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++) {
			unsigned b = pass == 0 ? src[i].plen : src[i].a >> (8 * (pass - 1)) & 0xff;
			count[b + 1]++;
		}
		for (int b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++) {
			unsigned b = pass == 0 ? src[i].plen : src[i].a >> (8 * (pass - 1)) & 0xff;
			dst[count[b]++] = src[i];
		}
		struct export__ip4 *t = src;
		src = dst;
		dst = t;
	}
	/* five passes: the result is in tmp */
	memcpy(v, src, n * sizeof(*v));
}

/* Whether the network (a, plen) holds b (16 bytes). */
static bool
in6(const uint8_t *a, unsigned plen, const uint8_t *b)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Appends the nft timeout of until_us (nothing for none): days, hours,
 * minutes, seconds ("1d2h3s"): nft's parser refuses a number of seconds
 * past 2^32 / 1000 or so ("value too large"). The last text is kept: a
 * feed's decisions often share one end. */
static void
nft_timeout(struct export_dec_writer *w, int64_t until_us, int64_t *last_t, char *last,
            size_t *last_len)
{
	int64_t t = export__timeout_s(w, until_us);
	if (t > NFT_MAX_TIMEOUT_S)
		t = NFT_MAX_TIMEOUT_S;
	if (!t)
		return;
	if (t != *last_t) {
		struct buf b;
		buf_init(&b, 63);
		buf_append_cstr(&b, " timeout ");
		int64_t parts[4] = { t / 86400, t / 3600 % 24, t / 60 % 60, t % 60 };
		const char units[4] = { 'd', 'h', 'm', 's' };
		for (int i = 0; i < 4; i++) {
			if (!parts[i])
				continue;
			export__u64(&b, (uint64_t)parts[i]);
			buf_append_char(&b, units[i]);
		}
		*last_len = buf_error(&b) ? 0 : b.len;
		if (*last_len)
			memcpy(last, b.p, *last_len);
		buf_reset(&b);
		*last_t = t;
	}
	buf_append(&w->out, last, *last_len);
}

/* Starts an element: opens a statement every NFT_ELEMENTS_PER_LINE. */
static void
nft_open(struct export_dec_writer *w, const char *set, size_t *in_line)
{
	if (*in_line == 0) {
		buf_append_cstr(&w->out, "add element inet ");
		buf_append_cstr(&w->out, w->name);
		buf_append_char(&w->out, ' ');
		buf_append_cstr(&w->out, set);
		buf_append_cstr(&w->out, " { ");
	} else {
		buf_append_cstr(&w->out, ", ");
	}
}

/* Ends an element. */
static enum tcerr
nft_close(struct export_dec_writer *w, size_t *in_line)
{
	w->c.written++;
	if (++*in_line == NFT_ELEMENTS_PER_LINE) {
		buf_append_cstr(&w->out, " }\n");
		*in_line = 0;
	}
	return export__flush(w);
}

static enum tcerr
nft_finish(struct export_dec_writer *w)
{
	enum tcerr rc;
	size_t in_line = 0;
	char last[64];
	size_t last_len = 0;
	int64_t last_t = -1;

	struct export__ip4 *tmp = w->n4 > 4096 ? malloc(w->n4 * sizeof(*tmp)) : NULL;
	if (tmp)
		sort4(w->v4, tmp, w->n4);
	else if (w->n4)
		qsort(w->v4, w->n4, sizeof(*w->v4), cmp4); /* small, or no memory for the radix */
	free(tmp);
	bool have = false;
	uint32_t lo = 0, hi = 0; /* the last network written */
	for (size_t i = 0; i < w->n4; i++) {
		const struct export__ip4 *ip = &w->v4[i];
		if (have && ip->a >= lo && ip->a <= hi) {
			export__left_out(w, EXPORT_LEFT_COVERED);
			continue;
		}
		uint32_t size = ip->plen == 0 ? UINT32_MAX : (UINT32_C(1) << (32 - ip->plen)) - 1;
		have = true;
		lo = ip->a;
		hi = ip->a + size;
		nft_open(w, "v4", &in_line);
		export__quad(&w->out, ip->a, false);
		if (ip->plen != 32) {
			buf_append_char(&w->out, '/');
			export__u64(&w->out, ip->plen);
		}
		nft_timeout(w, ip->until_us, &last_t, last, &last_len);
		if ((rc = nft_close(w, &in_line)))
			return rc;
	}
	if (in_line)
		buf_append_cstr(&w->out, " }\n");
	in_line = 0;
	if (w->n6)
		qsort(w->v6, w->n6, sizeof(*w->v6), cmp6);
	const struct export__ip6 *prev = NULL;
	for (size_t i = 0; i < w->n6; i++) {
		const struct export__ip6 *ip = &w->v6[i];
		if (prev && in6(prev->a, prev->plen, ip->a)) {
			export__left_out(w, EXPORT_LEFT_COVERED);
			continue;
		}
		char a[INET6_ADDRSTRLEN];
		if (!inet_ntop(AF_INET6, ip->a, a, sizeof(a)))
			continue;
		prev = ip;
		nft_open(w, "v6", &in_line);
		buf_append_cstr(&w->out, a);
		if (ip->plen != 128) {
			buf_append_char(&w->out, '/');
			export__u64(&w->out, ip->plen);
		}
		nft_timeout(w, ip->until_us, &last_t, last, &last_len);
		if ((rc = nft_close(w, &in_line)))
			return rc;
	}
	if (in_line)
		buf_append_cstr(&w->out, " }\n");
	return TC_OK;
}

const struct export__fmt export__nft = {
	EXPORT_NFT, ip_carries, nft_start, nft_add, nft_finish,
};

/* ---- ipset ---- */

static void
ipset_start(struct export_dec_writer *w)
{
	buf_printf(&w->out, "# tocsin decisions at log position %llu\n",
	           (unsigned long long)w->o.position);
	const char *fam[2] = { "inet", "inet6" };
	const char *v[2] = { "v4", "v6" };
	for (int i = 0; i < 2; i++) {
		for (int tmp = 0; tmp < 2; tmp++)
			buf_printf(&w->out,
			           "create %s-%s%s hash:net family %s hashsize 1024 maxelem %d "
			           "timeout 0 -exist\n",
			           w->name, v[i], tmp ? "-tmp" : "", fam[i], EXPORT_IPSET_MAXELEM);
		buf_printf(&w->out, "flush %s-%s-tmp\n", w->name, v[i]);
	}
}

static enum tcerr
ipset_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	/* hash:net takes "a.b.c.d[/n]" and RFC 5952 text: the normalised forms */
	if (!export__safe(dec->value, NULL) ||
	    (dec->kind == OBS_IPV4 ? !export__ip4_parse(dec->value, &(struct export__ip4){ 0 })
	                           : !export__ip6_parse(dec->value, &(struct export__ip6){ 0 }))) {
		export__left_out(w, EXPORT_LEFT_UNSAFE);
		return TC_OK;
	}
	int64_t t = export__timeout_s(w, dec->until_us);
	if (t > EXPORT_IPSET_MAX_TIMEOUT)
		t = EXPORT_IPSET_MAX_TIMEOUT;
	buf_printf(&w->out, "add %s-%s-tmp ", w->name, dec->kind == OBS_IPV4 ? "v4" : "v6");
	buf_append_slice(&w->out, dec->value);
	/* timeout 0: never expires (the set's default) */
	buf_printf(&w->out, " timeout %lld -exist\n", (long long)t);
	w->c.written++;
	return TC_OK;
}

static enum tcerr
ipset_finish(struct export_dec_writer *w)
{
	const char *v[2] = { "v4", "v6" };
	for (int i = 0; i < 2; i++)
		buf_printf(&w->out, "swap %s-%s-tmp %s-%s\ndestroy %s-%s-tmp\n", w->name, v[i],
		           w->name, v[i], w->name, v[i]);
	return TC_OK;
}

const struct export__fmt export__ipset = {
	EXPORT_IPSET, ip_carries, ipset_start, ipset_add, ipset_finish,
};
