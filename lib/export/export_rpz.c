/*
 * export_rpz.c — decisions as a DNS Response Policy Zone file.
 *
 * The zone (draft-vixie-dnsop-dns-rpz, "DNS Response Policy Zones"):
 *   $TTL, SOA (serial = the log position the decisions are exact at,
 *   modulo 2^32, RFC 1982 serial arithmetic), NS;
 *   a domain D:            D.ZONE CNAME ACTION and *.D.ZONE CNAME ACTION
 *                          (QNAME trigger, the name and every name under it)
 *   an IPv4 address/network a.b.c.d/n: n.d.c.b.a.rpz-ip.ZONE CNAME ACTION
 *   an IPv6 address/network: n.W8.W7...W1.rpz-ip.ZONE, the 16-bit words in
 *                          reverse order, hex without leading zeros, the
 *                          longest run of two or more zero words as "zz"
 *                          (the draft's §4.1.1 form, as RFC 5952's "::")
 * ACTION is "." (NXDOMAIN), "*." (NODATA) or the walled garden's name
 * (a CNAME to it). rpz-ip triggers match addresses in answers; every other
 * kind (url, email, hashes, phone...) has no trigger and is left out.
 * The invariant: every record written names one decision's value in this
 * zone, and the zone parses (tests run named-checkzone on it).
 */
#include <string.h>

#include "export_dec_int.h"

static bool
rpz_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	(void)w;
	return kind == OBS_DOMAIN || kind == OBS_IPV4 || kind == OBS_IPV6;
}

static void
rpz_start(struct export_dec_writer *w)
{
	/* RFC 1035 §5: a master file; SOA serial 32-bit (RFC 1982) */
	buf_printf(&w->out,
	           "; tocsin RPZ: decisions at log position %llu\n"
	           "$TTL %d\n"
	           "$ORIGIN %s\n"
	           "@ SOA %s hostmaster.%s %lu 3600 600 86400 %d\n"
	           "@ NS %s\n",
	           (unsigned long long)w->o.position, EXPORT_RPZ_TTL, w->origin, w->ns, w->origin,
	           (unsigned long)(w->o.position & 0xffffffffu), EXPORT_RPZ_TTL, w->ns);
}

static const char *
action(const struct export_dec_writer *w)
{
	switch (w->o.rpz_action) {
	case EXPORT_RPZ_NODATA: return "*.";
	case EXPORT_RPZ_CNAME: return w->cname;
	case EXPORT_RPZ_NXDOMAIN: break;
	}
	return ".";
}

/* Appends the rpz-ip owner label sequence of an IPv6 network. */
static void
ip6_trigger(struct buf *b, const struct export__ip6 *ip)
{
	unsigned words[8];
	for (int i = 0; i < 8; i++)
		words[i] = (unsigned)ip->a[2 * i] << 8 | ip->a[2 * i + 1];
	/* the longest run of 2+ zero words, the first of equals (RFC 5952 §4.2.3) */
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8;) {
		if (words[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !words[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	buf_printf(b, "%u", ip->plen);
	for (int i = 7; i >= 0; i--) {
		if (best >= 0 && i >= best && i < best + bestlen) {
			if (i == best)
				buf_append_cstr(b, ".zz");
			continue;
		}
		buf_printf(b, ".%x", words[i]);
	}
}

static enum tcerr
rpz_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	const char *act = action(w);
	size_t origin_len = strlen(w->origin);
	switch (dec->kind) {
	case OBS_DOMAIN:
		/* the zone file holds only names it can hold plainly */
		if (!export__safe(dec->value, "\"();\\$@*")) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		/* RFC 1035 §2.3.4: 255 bytes on the wire, i.e. 253 in text; the
		 * wildcard's "*." counts */
		if (dec->value.len + 2 + 1 + origin_len > 254) {
			export__left_out(w, EXPORT_LEFT_TOO_LONG);
			return TC_OK;
		}
		buf_append_slice(&w->out, dec->value);
		buf_append_cstr(&w->out, " CNAME ");
		buf_append_cstr(&w->out, act);
		buf_append_cstr(&w->out, "\n*.");
		buf_append_slice(&w->out, dec->value);
		buf_append_cstr(&w->out, " CNAME ");
		buf_append_cstr(&w->out, act);
		buf_append_char(&w->out, '\n');
		w->c.written++;
		return TC_OK;
	case OBS_IPV4: {
		struct export__ip4 ip;
		if (!export__ip4_parse(dec->value, &ip)) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		/* n.d.c.b.a.rpz-ip */
		export__u64(&w->out, ip.plen);
		buf_append_char(&w->out, '.');
		export__quad(&w->out, ip.a, true);
		buf_append_cstr(&w->out, ".rpz-ip CNAME ");
		buf_append_cstr(&w->out, act);
		buf_append_char(&w->out, '\n');
		w->c.written++;
		return TC_OK;
	}
	case OBS_IPV6: {
		struct export__ip6 ip;
		if (!export__ip6_parse(dec->value, &ip)) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		ip6_trigger(&w->out, &ip);
		buf_append_cstr(&w->out, ".rpz-ip CNAME ");
		buf_append_cstr(&w->out, act);
		buf_append_char(&w->out, '\n');
		w->c.written++;
		return TC_OK;
	}
	default:
		export__left_out(w, EXPORT_LEFT_KIND);
		return TC_OK;
	}
}

static enum tcerr
rpz_finish(struct export_dec_writer *w)
{
	(void)w;
	return TC_OK;
}

const struct export__fmt export__rpz = {
	EXPORT_RPZ, rpz_carries, rpz_start, rpz_add, rpz_finish,
};
