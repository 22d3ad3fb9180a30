/*
 * obs_url.c — URLs in one normal form (RFC 3986 §6.2.2 plus the usual
 * scheme-based steps), parsed by libcurl's URL API.
 *
 * Order matters for idempotence: percent-encoding is normalised first
 * (RFC 3986 §6.2.2.2: "%7E" of an unreserved character is decoded, other
 * escapes get uppercase hex, a '%' not followed by two hex digits becomes
 * "%25", and bytes no URI may hold — controls, space, non-ASCII, "<>\"\\^`{|}"
 * — are escaped outside the authority), then libcurl parses the text and
 * removes dot segments (§6.2.2.3), then the parts are reassembled: scheme
 * lowercase, host normalised as a domain (IDN to punycode) or an IP
 * literal, the scheme's default port dropped (http 80, https 443, ftp 21,
 * ws 80, wss 443), an empty path written "/", an empty query and the
 * fragment dropped. A scheme is required: "example.com/x" is not a URL
 * here (curl's scheme guessing is off). libcurl 7.88 has no punycode or
 * escape-normalising option, so those steps are done here.
 *
 * Most URLs a lookup sees are already in that form and plain (http or
 * https, a lowercase ASCII host name, no userinfo or port, a path and
 * query of a few safe characters, no dot segment, no escape): those are
 * recognised by one scan and taken as they are (obs__url_is_plain), a
 * tenth of the cost of libcurl's parse. The unit tests and the url fuzz
 * target check that libcurl's path gives the same text for them.
 *
 * Known gap: userinfo is kept as written; hosts that are neither an IP
 * literal nor a valid domain name (e.g. "1.2.3.999") are refused.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "obs_internal.h"

#define OBS_URL_SCHEME_MAX 32

static bool
is_unreserved(unsigned char c)
{
	/* RFC 3986 §2.3 */
	return obs__is_alpha((char)c) || obs__is_digit((char)c) || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

static bool
needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || (c && strchr("\"<>\\^`{|}", c) != NULL);
}

static void
append_pct(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[3] = { '%', hex[c >> 4], hex[c & 15] };
	buf_append(b, t, 3);
}

/* The percent-encoding pass over the whole URL (see the top of the file).
 * Stops at the fragment. */
static void
pct_normalise(struct slice in, size_t auth_start, size_t auth_end, struct buf *b)
{
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		bool in_auth = i >= auth_start && i < auth_end;
		if (c == '#' && !in_auth)
			break;
		if (c == '%') {
			int h = i + 2 < in.len ? hex_digit(in.p[i + 1]) : -1;
			int l = i + 2 < in.len ? hex_digit(in.p[i + 2]) : -1;
			if (h < 0 || l < 0) {
				buf_append_cstr(b, "%25");
				continue;
			}
			unsigned char v = (unsigned char)(h << 4 | l);
			if (is_unreserved(v))
				buf_append_char(b, (char)v);
			else
				append_pct(b, v);
			i += 2;
			continue;
		}
		if (!in_auth && needs_escape(c))
			append_pct(b, c);
		else
			buf_append_char(b, (char)c);
	}
}

static enum tcerr
host_part(const char *host, struct buf *out, struct diag *d)
{
	struct slice h = slice_from_cstr(host);
	if (h.len && h.p[0] == '[') {
		uint8_t a[16];
		if (h.len < 2 || h.p[h.len - 1] != ']' ||
		    !obs__ipv6_parse(slice_make(h.p + 1, h.len - 2), a))
			return diag_set(d, TC_EINVAL, "URL host is not a valid IPv6 literal");
		buf_append_char(out, '[');
		obs__ipv6_format(a, out);
		buf_append_char(out, ']');
		return TC_OK;
	}
	uint8_t a4[4];
	if (obs__ipv4_parse(h, a4)) {
		buf_append_slice(out, h);
		return TC_OK;
	}
	enum tcerr rc = obs__domain(h, out, d);
	if (rc)
		diag_prefix(d, "URL host");
	return rc;
}

static unsigned long
default_port(const char *scheme)
{
	static const struct {
		const char *s;
		unsigned long port;
	} t[] = { { "http", 80 }, { "https", 443 }, { "ftp", 21 }, { "ws", 80 }, { "wss", 443 } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].s, scheme) == 0)
			return t[i].port;
	return 0;
}

static bool
plain_char(unsigned char c)
{
	return obs__is_alpha((char)c) || obs__is_digit((char)c) ||
	       (c && strchr("-._~/=&+,;:@!$", c) != NULL);
}

bool
obs__url_is_plain(struct slice in)
{
	size_t i;
	if (in.len > 8 && memcmp(in.p, "https://", 8) == 0)
		i = 8;
	else if (in.len > 7 && memcmp(in.p, "http://", 7) == 0)
		i = 7;
	else
		return false;
	/* host: labels of [a-z0-9-], no '-' at either end or "--" anywhere
	 * (no IDNA label, no hyphen rule of IDNA 2008 to apply), the last of
	 * letters only (so never an address), at least two labels */
	size_t hstart = i, lstart = i, labels = 0;
	bool last_alpha = true;
	for (;; i++) {
		char c = i < in.len ? in.p[i] : '/';
		if (c == '.' || c == '/' || c == '?') {
			size_t l = i - lstart;
			if (l == 0 || l > 63 || in.p[lstart] == '-' || in.p[i - 1] == '-')
				return false;
			labels++;
			if (c != '.')
				break;
			lstart = i + 1;
			last_alpha = true;
			continue;
		}
		if (c >= 'a' && c <= 'z')
			continue;
		if ((c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && i > hstart && in.p[i - 1] == '-')
				return false;
			last_alpha = false;
			continue;
		}
		return false;
	}
	if (labels < 2 || !last_alpha || i - hstart > 253 || i >= in.len || in.p[i] != '/')
		return false;
	/* path, then an optional query: plain characters only; in the path
	 * no empty, "." or ".." segment (libcurl would remove or keep them:
	 * leave that to it); a query is not empty (an empty one is dropped) */
	size_t seg = i + 1;
	for (i++; i <= in.len; i++) {
		char c = i < in.len ? in.p[i] : '?';
		if (c == '/' || c == '?') {
			size_t l = i - seg;
			if ((l == 0 && c == '/') || (l == 1 && in.p[seg] == '.') ||
			    (l == 2 && in.p[seg] == '.' && in.p[seg + 1] == '.'))
				return false;
			if (c == '?')
				break;
			seg = i + 1;
			continue;
		}
		if (!plain_char((unsigned char)c))
			return false;
	}
	if (i < in.len) {
		if (i + 1 == in.len)
			return false;
		for (i++; i < in.len; i++)
			if (!plain_char((unsigned char)in.p[i]) && in.p[i] != '?')
				return false;
	}
	return in.len <= OBS_VALUE_MAX;
}

enum tcerr
obs__url(struct slice in, struct buf *out, struct diag *d)
{
	if (obs__url_is_plain(in)) {
		buf_append_slice(out, in);
		return buf_error(out);
	}
	return obs__url_curl(in, out, d);
}

enum tcerr
obs__url_curl(struct slice in, struct buf *out, struct diag *d)
{
	enum tcerr rc = TC_OK;
	CURLU *u = NULL;
	char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL, *port = NULL,
	     *path = NULL, *query = NULL, *zone = NULL;
	struct buf pre;
	buf_init(&pre, 3 * OBS_VALUE_MAX + 1);

	/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	size_t i = 0;
	while (i < in.len && i <= OBS_URL_SCHEME_MAX &&
	       (obs__is_alpha(in.p[i]) ||
	        (i > 0 && (obs__is_digit(in.p[i]) || strchr("+-.", in.p[i]) != NULL))))
		i++;
	if (i == 0 || i > OBS_URL_SCHEME_MAX || i >= in.len || in.p[i] != ':') {
		rc = diag_set(d, TC_EINVAL, "not a URL: no scheme (write e.g. http://...)");
		goto out;
	}
	if (memchr(in.p, '\0', in.len)) {
		rc = diag_set(d, TC_EINVAL, "URL contains a NUL byte");
		goto out;
	}
	size_t auth_start = i + 1, auth_end = i + 1;
	if (i + 2 < in.len && in.p[i + 1] == '/' && in.p[i + 2] == '/') {
		auth_start = auth_end = i + 3;
		while (auth_end < in.len && !strchr("/?#", in.p[auth_end]))
			auth_end++;
	}
	pct_normalise(in, auth_start, auth_end, &pre);
	if (buf_error(&pre)) {
		rc = buf_error(&pre);
		goto out;
	}

	u = curl_url();
	if (!u) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, pre.p, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		rc = uc == CURLUE_OUT_OF_MEMORY
		             ? diag_set(d, TC_ENOMEM, "out of memory")
		             : diag_set(d, TC_EINVAL, "not a URL: %s", curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		rc = diag_set(d, TC_EINVAL, "not a URL: no scheme");
		goto out;
	}
	for (char *s = scheme; *s; s++)
		*s = obs__lower(*s);
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
		rc = diag_set(d, TC_EINVAL, "URL host has an IPv6 zone id");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_USER, &user, 0);
	(void)curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	(void)curl_url_get(u, CURLUPART_HOST, &host, 0);
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);

	size_t mark = out->len;
	buf_append_cstr(out, scheme);
	buf_append_cstr(out, "://");
	if (user) {
		buf_append_cstr(out, user);
		if (pass) {
			buf_append_char(out, ':');
			buf_append_cstr(out, pass);
		}
		buf_append_char(out, '@');
	}
	if (host && *host) {
		rc = host_part(host, out, d);
		if (rc)
			goto out;
	}
	if (port) {
		char *end = NULL;
		unsigned long pn = strtoul(port, &end, 10);
		if (!end || *end || pn > 65535) {
			rc = diag_set(d, TC_EINVAL, "URL port is not a number 0-65535");
			goto out;
		}
		if (pn != default_port(scheme))
			buf_printf(out, ":%lu", pn);
	}
	if (!path || !*path)
		buf_append_char(out, '/');
	else
		buf_append_cstr(out, path);
	if (query && *query) {
		buf_append_char(out, '?');
		buf_append_cstr(out, query);
	}
	if (buf_error(out) == TC_OK && out->len - mark > OBS_VALUE_MAX)
		rc = diag_set(d, TC_ELIMIT, "normalised URL longer than %d bytes", OBS_VALUE_MAX);
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(zone);
	curl_url_cleanup(u);
	buf_reset(&pre);
	return rc;
}
