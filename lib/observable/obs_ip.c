/*
 * obs_ip.c — IPv4 and IPv6 addresses and networks in one canonical text.
 *
 * IPv4 is a strict dotted quad (no leading zeros: "01.2.3.4" could be octal
 * to one reader and decimal to another, so it is refused); IPv6 is parsed
 * like inet_pton() and written as RFC 5952 §4 text. A network keeps its
 * prefix only if it is shorter than the address (no "/32", no "/128") and
 * its host bits are zero. An IPv4-mapped IPv6 address (::ffff:0:0/96) is
 * an IPv4 address and is always written as one.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "obs_internal.h"

#define IPV6_TEXT_MAX 45 /* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" */

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool
obs__ipv4_parse(struct slice in, uint8_t a[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= in.len || in.p[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < in.len && obs__is_digit(in.p[i]) && i - start < 4) {
			v = v * 10 + (unsigned)(in.p[i] - '0');
			i++;
		}
		size_t n = i - start;
		if (n == 0 || n > 3 || v > 255)
			return false;
		if (n > 1 && in.p[start] == '0')
			return false; /* leading zero: octal to some parsers */
		a[part] = (uint8_t)v;
	}
	return i == in.len;
}

bool
obs__ipv6_parse(struct slice in, uint8_t a[16])
{
	char tmp[IPV6_TEXT_MAX + 1];
	if (in.len == 0 || in.len > IPV6_TEXT_MAX || memchr(in.p, '\0', in.len))
		return false;
	memcpy(tmp, in.p, in.len);
	tmp[in.len] = '\0';
	return inet_pton(AF_INET6, tmp, a) == 1;
}

void
obs__ipv6_format(const uint8_t a[16], struct buf *out)
{
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* RFC 5952 §4.2: compress the longest run of two or more zero fields,
	 * the first one if two runs are equally long. */
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8;) {
		if (w[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	static const char hex[] = "0123456789abcdef";
	char tmp[48];
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			tmp[n++] = ':';
			if (i == 0)
				tmp[n++] = ':';
			i += bestlen - 1;
			continue;
		}
		/* RFC 5952 §4.1: no leading zeros; §4.3: lowercase */
		bool started = false;
		for (int s = 12; s >= 0; s -= 4) {
			unsigned nib = (w[i] >> s) & 0xf;
			if (nib || started || s == 0) {
				tmp[n++] = hex[nib];
				started = true;
			}
		}
		if (i < 7)
			tmp[n++] = ':';
	}
	buf_append(out, tmp, n);
}

/* Parses "/n" (0 <= n <= max, no leading zeros). Returns -1 if malformed. */
static int
parse_prefix(struct slice s, int max)
{
	if (s.len == 0 || s.len > 3 || (s.len > 1 && s.p[0] == '0'))
		return -1;
	int v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (!obs__is_digit(s.p[i]))
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Returns true if any bit after the first plen bits of a (n bytes) is set;
 * clears them in net. */
static bool
host_bits(const uint8_t *a, uint8_t *net, size_t n, int plen)
{
	bool set = false;
	for (size_t i = 0; i < n; i++) {
		int keep = plen - (int)(i * 8);
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
		net[i] = a[i] & mask;
		if (net[i] != a[i])
			set = true;
	}
	return set;
}

static void
format_v4(const uint8_t a[4], int plen, struct buf *out)
{
	char tmp[24];
	int n;
	if (plen >= 0 && plen < 32)
		n = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u/%d", a[0], a[1], a[2], a[3], plen);
	else
		n = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	if (n > 0 && (size_t)n < sizeof(tmp))
		buf_append(out, tmp, (size_t)n);
}

/* Splits "addr/prefix". Returns the prefix length, -1 if there is none,
 * -2 if it is malformed. */
static int
split_prefix(struct slice in, struct slice *addr, int max)
{
	const char *slash = memchr(in.p, '/', in.len);
	if (!slash) {
		*addr = in;
		return -1;
	}
	*addr = slice_make(in.p, (size_t)(slash - in.p));
	int plen = parse_prefix(slice_make(slash + 1, in.len - addr->len - 1), max);
	return plen < 0 ? -2 : plen;
}

static enum tcerr
emit_v4(const uint8_t a[4], int plen, struct buf *out, struct diag *d)
{
	uint8_t net[4];
	if (plen >= 0 && host_bits(a, net, 4, plen)) {
		char tmp[24];
		struct buf nb = { .p = NULL };
		buf_init(&nb, 64);
		format_v4(net, plen, &nb);
		int n = snprintf(tmp, sizeof(tmp), "%s", nb.p ? nb.p : "");
		buf_reset(&nb);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			tmp[0] = '\0';
		return diag_set(d, TC_EINVAL, "host bits are set after /%d: the network is %s",
		                plen, tmp);
	}
	format_v4(a, plen, out);
	return TC_OK;
}

static enum tcerr
ipv6_any(struct slice in, struct buf *out, enum obs_kind *kind, struct diag *d)
{
	struct slice addr;
	if (memchr(in.p, '%', in.len))
		return diag_set(d, TC_EINVAL, "IPv6 zone ids (%%...) are not accepted");
	int plen = split_prefix(in, &addr, 128);
	if (plen == -2)
		return diag_set(d, TC_EINVAL, "IPv6 prefix length must be 0-128 without leading zeros");
	uint8_t a[16], net[16];
	if (!obs__ipv6_parse(addr, a))
		return diag_set(d, TC_EINVAL, "not an IPv6 address");
	bool mapped = memcmp(a, v4mapped_prefix, 12) == 0 && (plen < 0 || plen >= 96);
	if (mapped) {
		*kind = OBS_IPV4;
		return emit_v4(a + 12, plen < 0 ? -1 : plen - 96, out, d);
	}
	*kind = OBS_IPV6;
	if (plen >= 0 && host_bits(a, net, 16, plen)) {
		struct buf nb;
		buf_init(&nb, 64);
		obs__ipv6_format(net, &nb);
		enum tcerr rc = diag_set(d, TC_EINVAL,
		                         "host bits are set after /%d: the network is %s/%d", plen,
		                         nb.p ? nb.p : "", plen);
		buf_reset(&nb);
		return rc;
	}
	obs__ipv6_format(a, out);
	if (plen >= 0 && plen < 128)
		buf_printf(out, "/%d", plen);
	return TC_OK;
}

enum tcerr
obs__ipv4(struct slice in, struct buf *out, enum obs_kind *kind, struct diag *d)
{
	if (memchr(in.p, ':', in.len)) {
		/* only an IPv4-mapped IPv6 address is an IPv4 address */
		size_t mark = out->len;
		enum tcerr rc = ipv6_any(in, out, kind, d);
		if (rc == TC_OK && *kind != OBS_IPV4) {
			buf_truncate(out, mark);
			return diag_set(d, TC_EINVAL, "not an IPv4 address (an IPv6 address)");
		}
		return rc;
	}
	*kind = OBS_IPV4;
	struct slice addr;
	int plen = split_prefix(in, &addr, 32);
	uint8_t a[4];
	if (!obs__ipv4_parse(addr, a)) {
		/* say why when it is nearly right */
		bool digits_dots = addr.len > 0;
		for (size_t i = 0; i < addr.len; i++)
			if (!obs__is_digit(addr.p[i]) && addr.p[i] != '.')
				digits_dots = false;
		if (digits_dots)
			return diag_set(d, TC_EINVAL,
			                "not an IPv4 address: four decimal octets 0-255 without "
			                "leading zeros expected");
		return diag_set(d, TC_EINVAL, "not an IPv4 address");
	}
	if (plen == -2)
		return diag_set(d, TC_EINVAL, "IPv4 prefix length must be 0-32 without leading zeros");
	return emit_v4(a, plen, out, d);
}

enum tcerr
obs__ipv6(struct slice in, struct buf *out, enum obs_kind *kind, struct diag *d)
{
	if (!memchr(in.p, ':', in.len))
		return diag_set(d, TC_EINVAL, "not an IPv6 address");
	return ipv6_any(in, out, kind, d);
}
