/*
 * webhook_url.c — the receiver URL check: what a webhook may connect to.
 *
 * Invariant: webhook_addr_check() is the only judge of an address, and it
 * refuses every address that is not public unless the operator allowed
 * its class; an IPv6 address that carries an IPv4 one is judged by the
 * IPv4 address (::ffff:127.0.0.1 is loopback). Metadata endpoints,
 * unspecified, multicast and reserved addresses are never allowed: no
 * receiver has a use for them. URLs are parsed by libcurl's own parser,
 * the one that will use them, so the host checked is the host connected
 * to.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/webhook.h"

static const char *const class_names[] = {
	"public", "loopback", "private", "link-local", "metadata", "unspecified", "multicast",
	"reserved",
};

const char *
webhook_addr_class_name(enum webhook_addr_class c)
{
	return (unsigned)c < sizeof class_names / sizeof class_names[0] ? class_names[c]
	                                                                 : "reserved";
}

/* a within net/len (host byte order). */
static bool
in4(uint32_t a, uint32_t net, unsigned len)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (a & mask) == (net & mask);
}

static enum webhook_addr_class
classify4(uint32_t a)
{
	if (a == 0xa9fea9feu) /* 169.254.169.254 */
		return WA_METADATA;
	if (in4(a, 0x00000000u, 8))
		return WA_UNSPECIFIED;
	if (in4(a, 0x7f000000u, 8))
		return WA_LOOPBACK;
	if (in4(a, 0x0a000000u, 8) || in4(a, 0xac100000u, 12) || in4(a, 0xc0a80000u, 16) ||
	    in4(a, 0x64400000u, 10))
		return WA_PRIVATE;
	if (in4(a, 0xa9fe0000u, 16))
		return WA_LINK_LOCAL;
	if (in4(a, 0xe0000000u, 4))
		return WA_MULTICAST;
	if (in4(a, 0xf0000000u, 4) ||          /* 240/4, 255.255.255.255 */
	    in4(a, 0xc0000000u, 24) ||         /* 192.0.0/24 IETF protocol assignments */
	    in4(a, 0xc0000200u, 24) ||         /* 192.0.2/24 TEST-NET-1 */
	    in4(a, 0xc6336400u, 24) ||         /* 198.51.100/24 TEST-NET-2 */
	    in4(a, 0xcb007100u, 24) ||         /* 203.0.113/24 TEST-NET-3 */
	    in4(a, 0xc6120000u, 15))           /* 198.18/15 benchmarking */
		return WA_RESERVED;
	return WA_PUBLIC;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum webhook_addr_class
classify6(const uint8_t *b)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t metadata[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02 };

	if (memcmp(b, zero, 16) == 0)
		return WA_UNSPECIFIED;
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return WA_LOOPBACK;
	if (memcmp(b, metadata, 16) == 0)
		return WA_METADATA;
	/* IPv4 inside: mapped, compatible (deprecated), NAT64, 6to4 */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return classify4(be32(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02)
		return classify4(be32(b + 2));
	if (b[0] == 0xff)
		return WA_MULTICAST;
	if ((b[0] & 0xfe) == 0xfc)
		return WA_PRIVATE;                /* fc00::/7 ULA */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return WA_LINK_LOCAL;             /* fe80::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return WA_PRIVATE;                /* fec0::/10 site-local (deprecated) */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return WA_RESERVED;               /* 2001:db8::/32 documentation */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
		return WA_RESERVED;               /* 2001::/32 Teredo: the IPv4 end is hidden */
	if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0)
		return WA_RESERVED;               /* 100::/64 discard-only */
	if ((b[0] & 0xe0) != 0x20)
		return WA_RESERVED;               /* outside 2000::/3, the global unicast space */
	return WA_PUBLIC;
}

enum webhook_addr_class
webhook_addr_classify(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		return classify4(ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return classify6(s6->sin6_addr.s6_addr);
	}
	return WA_RESERVED;
}

/* The address in text form, for messages. */
static void
addr_text(const struct sockaddr *sa, char out[WEBHOOK_ADDR_TEXT_MAX])
{
	const void *a = sa->sa_family == AF_INET
	                        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
	                        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    !inet_ntop(sa->sa_family, a, out, WEBHOOK_ADDR_TEXT_MAX))
		snprintf(out, WEBHOOK_ADDR_TEXT_MAX, "%s", "?");
}

enum tcerr
webhook_addr_check(const struct webhook_url_policy *pol, const struct sockaddr *sa,
                   struct diag *d)
{
	enum webhook_addr_class c = webhook_addr_classify(sa);
	char text[WEBHOOK_ADDR_TEXT_MAX];
	switch (c) {
	case WA_PUBLIC:
		return TC_OK;
	case WA_LOOPBACK:
	case WA_PRIVATE:
	case WA_LINK_LOCAL:
		if (pol->allow_private)
			return TC_OK;
		addr_text(sa, text);
		return diag_set(d, TC_EPERM,
		                "address %s is %s: webhooks go to public addresses only "
		                "(tocsind.conf [webhooks] allow_private = true allows it)",
		                text, webhook_addr_class_name(c));
	default:
		addr_text(sa, text);
		return diag_set(d, TC_EPERM, "address %s is %s: never a webhook receiver", text,
		                webhook_addr_class_name(c));
	}
}

static bool
printable_ascii(const char *s, size_t *len)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	*len = n;
	return true;
}

/* Copies a URL part; false if absent. */
static bool
url_part(CURLU *u, CURLUPart what, char *out, size_t size)
{
	char *p = NULL;
	if (curl_url_get(u, what, &p, 0) != CURLUE_OK || !p)
		return false;
	int n = snprintf(out, size, "%s", p);
	curl_free(p);
	return n >= 0 && (size_t)n < size;
}

enum tcerr
webhook_url_parse(const struct webhook_url_policy *pol, const char *url,
                  struct webhook_url *out, struct diag *d)
{
	struct webhook_url w;
	char scheme[16], tmp[8];
	size_t len;
	enum tcerr rc = TC_OK;

	memset(&w, 0, sizeof w);
	if (!url || !printable_ascii(url, &len) || len == 0)
		return diag_set(d, TC_EINVAL, "URL: must be printable ASCII without spaces");
	if (len > WEBHOOK_URL_MAX)
		return diag_set(d, TC_EINVAL, "URL: longer than %d bytes", WEBHOOK_URL_MAX);
	CURLU *u = curl_url();
	if (!u)
		return diag_set(d, TC_ENOMEM, "out of memory");
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		rc = diag_set(d, TC_EINVAL, "URL: %s", curl_url_strerror(uc));
		goto out;
	}
	if (!url_part(u, CURLUPART_SCHEME, scheme, sizeof scheme) ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		rc = diag_set(d, TC_EINVAL, "URL: must start with https://");
		goto out;
	}
	w.https = strcmp(scheme, "https") == 0;
	if (!w.https && !pol->allow_http) {
		rc = diag_set(d, TC_EPERM,
		              "URL: must be https:// (the events and their signature would cross the "
		              "network in clear; tocsind.conf [webhooks] allow_http = true allows it)");
		goto out;
	}
	if (url_part(u, CURLUPART_USER, tmp, sizeof tmp) ||
	    url_part(u, CURLUPART_PASSWORD, tmp, sizeof tmp)) {
		rc = diag_set(d, TC_EINVAL, "URL: must not hold a user name or password (the "
		                            "signature authenticates the hub)");
		goto out;
	}
	if (url_part(u, CURLUPART_FRAGMENT, tmp, sizeof tmp)) {
		rc = diag_set(d, TC_EINVAL, "URL: must not have a #fragment");
		goto out;
	}
	if (!url_part(u, CURLUPART_HOST, w.host, sizeof w.host) || !w.host[0]) {
		rc = diag_set(d, TC_EINVAL, "URL: no host, or a host longer than %zu bytes",
		              sizeof w.host - 1);
		goto out;
	}
	{
		char *pp = NULL;
		if (curl_url_get(u, CURLUPART_PORT, &pp, CURLU_DEFAULT_PORT) != CURLUE_OK || !pp) {
			rc = diag_set(d, TC_EINVAL, "URL: bad port");
			goto out;
		}
		long p = strtol(pp, NULL, 10);
		curl_free(pp);
		if (p <= 0 || p > 65535) {
			rc = diag_set(d, TC_EINVAL, "URL: bad port");
			goto out;
		}
		w.port = (uint16_t)p;
	}
	/* an IPv6 literal comes as "[::1]" (with a zone id "[fe80::1%25eth0]") */
	size_t hl = strlen(w.host);
	if (w.host[0] == '[' && hl >= 2 && w.host[hl - 1] == ']') {
		memmove(w.host, w.host + 1, hl - 2);
		w.host[hl - 2] = '\0';
		char *zone = strchr(w.host, '%');
		if (zone) {
			rc = diag_set(d, TC_EINVAL, "URL: an IPv6 zone id is link-local only");
			goto out;
		}
	}
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, w.host, &s4.sin_addr) == 1) {
		w.host_is_addr = true;
		rc = webhook_addr_check(pol, (struct sockaddr *)&s4, d);
	} else if (inet_pton(AF_INET6, w.host, &s6.sin6_addr) == 1) {
		w.host_is_addr = true;
		rc = webhook_addr_check(pol, (struct sockaddr *)&s6, d);
	}
	if (rc)
		diag_prefix(d, "URL");
	else if (out)
		*out = w;
out:
	curl_url_cleanup(u);
	return rc;
}

enum tcerr
webhook_url_check(const struct webhook_url_policy *pol, const char *url, struct webhook_url *out,
                  char (*addrs)[WEBHOOK_ADDR_TEXT_MAX], size_t *naddrs, struct diag *d)
{
	struct webhook_url w;
	enum tcerr rc = webhook_url_parse(pol, url, &w, d);
	size_t n = 0;
	if (rc)
		return rc;
	if (w.host_is_addr) {
		size_t hl = strlen(w.host);
		if (hl >= WEBHOOK_ADDR_TEXT_MAX) /* inet_pton accepted it: cannot be */
			return diag_set(d, TC_EINVAL, "URL: bad address");
		if (addrs)
			memcpy(addrs[0], w.host, hl + 1);
		n = 1;
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
		struct addrinfo *res = NULL;
		int e = getaddrinfo(w.host, NULL, &hints, &res);
		if (e)
			return diag_set(d, e == EAI_MEMORY ? TC_ENOMEM : TC_ENOTFOUND,
			                "URL: host %s does not resolve: %s", w.host, gai_strerror(e));
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
				continue;
			if ((rc = webhook_addr_check(pol, ai->ai_addr, d))) {
				diag_prefix(d, "URL: host %s", w.host);
				break;
			}
			char text[WEBHOOK_ADDR_TEXT_MAX];
			addr_text(ai->ai_addr, text);
			bool dup = false;
			for (size_t i = 0; addrs && i < n && !dup; i++)
				dup = strcmp(addrs[i], text) == 0;
			if (dup || n == WEBHOOK_ADDRS_MAX)
				continue;
			if (addrs)
				memcpy(addrs[n], text, sizeof text);
			n++;
		}
		freeaddrinfo(res);
		if (rc)
			return rc;
		if (n == 0)
			return diag_set(d, TC_ENOTFOUND, "URL: host %s has no IPv4 or IPv6 address",
			                w.host);
	}
	if (out)
		*out = w;
	if (naddrs)
		*naddrs = n;
	return TC_OK;
}
