/*
 * fake_observable.c — stand-ins for the lib/observable functions the import
 * and export tests need, linked only while lib/observable has no
 * implementation (see meson.build). They normalise the simple forms the
 * tests use the way observable.h documents (lowercase domains, dotted
 * quads, lowercase hex, Luhn-checked cards as keyed hashes); they are not
 * the real thing. Delete this file once lib/observable is merged.
 */
#include <ctype.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <string.h>

#include "observable/observable.h"

static const char *const names[] = {
	[OBS_IPV4] = "ipv4",       [OBS_IPV6] = "ipv6",
	[OBS_DOMAIN] = "domain",   [OBS_URL] = "url",
	[OBS_EMAIL] = "email",     [OBS_MD5] = "md5",
	[OBS_SHA1] = "sha1",       [OBS_SHA256] = "sha256",
	[OBS_SHA512] = "sha512",   [OBS_STREEBOG256] = "streebog256",
	[OBS_STREEBOG512] = "streebog512", [OBS_PHONE] = "phone",
	[OBS_BANK_ACCOUNT] = "bank-account", [OBS_CARD] = "card",
	[OBS_WALLET] = "wallet",   [OBS_ASN] = "asn",
};

const char *
obs_kind_name(enum obs_kind k)
{
	return k >= OBS_IPV4 && k <= OBS_ASN ? names[k] : "?";
}

enum tcerr
obs_kind_parse(struct slice name, enum obs_kind *out)
{
	for (int k = OBS_IPV4; k <= OBS_ASN; k++)
		if (slice_eq_cstr(name, names[k])) {
			*out = (enum obs_kind)k;
			return TC_OK;
		}
	if (slice_eq_cstr(name, "domain-name")) {
		*out = OBS_DOMAIN;
		return TC_OK;
	}
	return TC_EINVAL;
}

static bool
all(struct slice s, int (*pred)(int))
{
	for (size_t i = 0; i < s.len; i++)
		if (!pred((unsigned char)s.p[i]))
			return false;
	return s.len > 0;
}

static void
append_lower(struct buf *out, struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		buf_append_char(out, (char)tolower((unsigned char)s.p[i]));
}

static enum tcerr
norm_ipv4(struct slice s, struct buf *out, struct diag *d)
{
	int parts = 0, dig = 0, val = 0;
	for (size_t i = 0; i <= s.len; i++) {
		if (i == s.len || s.p[i] == '.') {
			if (!dig || val > 255)
				return diag_set(d, TC_EINVAL, "not an IPv4 address");
			parts++;
			dig = val = 0;
		} else if (isdigit((unsigned char)s.p[i]) && dig < 3) {
			val = val * 10 + (s.p[i] - '0');
			dig++;
		} else
			return diag_set(d, TC_EINVAL, "not an IPv4 address");
	}
	if (parts != 4)
		return diag_set(d, TC_EINVAL, "not an IPv4 address");
	buf_append_slice(out, s);
	return TC_OK;
}

static enum tcerr
norm_domain(struct slice s, struct buf *out, struct diag *d)
{
	if (s.len && s.p[s.len - 1] == '.')
		s.len--;
	if (!s.len || !memchr(s.p, '.', s.len))
		return diag_set(d, TC_EINVAL, "not a domain name");
	for (size_t i = 0; i < s.len; i++)
		if (!isalnum((unsigned char)s.p[i]) && s.p[i] != '-' && s.p[i] != '.')
			return diag_set(d, TC_EINVAL, "not a domain name");
	append_lower(out, s);
	return TC_OK;
}

static enum tcerr
norm_card(const struct obs_ctx *ctx, struct slice s, struct buf *out, struct diag *d)
{
	char digits[20];
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == ' ' || s.p[i] == '-')
			continue;
		if (!isdigit((unsigned char)s.p[i]) || n >= 19)
			return diag_set(d, TC_EINVAL, "not a card number");
		digits[n++] = s.p[i];
	}
	if (n < 13)
		return diag_set(d, TC_EINVAL, "not a card number");
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = digits[n - 1 - i] - '0';
		if (i % 2 == 1 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	if (sum % 10)
		return diag_set(d, TC_EINVAL, "card number fails the Luhn check");
	if (!ctx || !ctx->card_key)
		return diag_set(d, TC_EUNSUPPORTED, "card numbers need the hub's card key");
	struct hmac_sha256_ctx h;
	uint8_t mac[SHA256_DIGEST_SIZE];
	hmac_sha256_set_key(&h, ctx->card_key_len, ctx->card_key);
	hmac_sha256_update(&h, n, (const uint8_t *)digits);
	hmac_sha256_digest(&h, sizeof(mac), mac);
	buf_append_cstr(out, "hmac-sha256:");
	buf_append_hex(out, mac, sizeof(mac));
	return TC_OK;
}

enum tcerr
obs_normalize(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in, struct buf *out,
              struct diag *d)
{
	static const size_t hexlen[] = { [OBS_MD5] = 32, [OBS_SHA1] = 40, [OBS_SHA256] = 64,
		                         [OBS_SHA512] = 128 };
	switch (kind) {
	case OBS_IPV4: return norm_ipv4(in, out, d);
	case OBS_DOMAIN: return norm_domain(in, out, d);
	case OBS_MD5:
	case OBS_SHA1:
	case OBS_SHA256:
	case OBS_SHA512:
		if (in.len != hexlen[kind] || !all(in, isxdigit))
			return diag_set(d, TC_EINVAL, "not a %s hash", names[kind]);
		append_lower(out, in);
		return TC_OK;
	case OBS_URL:
		if (!memchr(in.p, ':', in.len))
			return diag_set(d, TC_EINVAL, "not a URL");
		buf_append_slice(out, in);
		return TC_OK;
	case OBS_EMAIL: {
		const char *at = memchr(in.p, '@', in.len);
		if (!at || at == in.p)
			return diag_set(d, TC_EINVAL, "not an email address");
		buf_append(out, in.p, (size_t)(at - in.p + 1));
		return norm_domain(slice_make(at + 1, (size_t)(in.p + in.len - at - 1)), out, d);
	}
	case OBS_PHONE:
		if (in.len < 8 || in.p[0] != '+' || !all(slice_make(in.p + 1, in.len - 1), isdigit))
			return diag_set(d, TC_EINVAL, "not an E.164 phone number");
		buf_append_slice(out, in);
		return TC_OK;
	case OBS_CARD: return norm_card(ctx, in, out, d);
	case OBS_ASN:
		if (in.len < 3 || (in.p[0] != 'A' && in.p[0] != 'a') ||
		    !all(slice_make(in.p + 2, in.len - 2), isdigit))
			return diag_set(d, TC_EINVAL, "not an AS number");
		buf_append_cstr(out, "AS");
		buf_append(out, in.p + 2, in.len - 2);
		return TC_OK;
	case OBS_WALLET:
	case OBS_BANK_ACCOUNT:
	case OBS_IPV6:
		if (!in.len)
			return diag_set(d, TC_EINVAL, "empty");
		buf_append_slice(out, in);
		return TC_OK;
	default: return diag_set(d, TC_EUNSUPPORTED, "kind not faked");
	}
}

enum tcerr
obs_classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind, struct buf *out,
             struct diag *d)
{
	size_t mark = out->len;
	static const enum obs_kind order[] = { OBS_IPV4, OBS_URL, OBS_EMAIL, OBS_MD5, OBS_SHA1,
		                               OBS_SHA256, OBS_SHA512, OBS_PHONE, OBS_CARD,
		                               OBS_ASN, OBS_DOMAIN };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == OBS_URL && !memmem(in.p, in.len, "://", 3))
			continue;
		struct diag tmp;
		enum tcerr rc = obs_normalize(ctx, order[i], in, out, &tmp);
		if (rc == TC_OK) {
			*kind = order[i];
			return TC_OK;
		}
		buf_truncate(out, mark);
		if (order[i] == OBS_CARD && rc == TC_EUNSUPPORTED)
			return diag_set(d, rc, "%s", tmp.msg);
	}
	return diag_set(d, TC_EINVAL, "not an IP address, URL, email, hash, phone, card, AS or "
	                              "domain");
}

static const char *const paths[] = {
	[OBS_IPV4] = "ipv4-addr:value",   [OBS_IPV6] = "ipv6-addr:value",
	[OBS_DOMAIN] = "domain-name:value", [OBS_URL] = "url:value",
	[OBS_EMAIL] = "email-addr:value", [OBS_MD5] = "file:hashes.MD5",
	[OBS_SHA1] = "file:hashes.'SHA-1'", [OBS_SHA256] = "file:hashes.'SHA-256'",
	[OBS_SHA512] = "file:hashes.'SHA-512'", [OBS_STREEBOG256] = "file:hashes.x",
	[OBS_STREEBOG512] = "file:hashes.y", [OBS_PHONE] = "x-tocsin-phone-number:value",
	[OBS_BANK_ACCOUNT] = "x-tocsin-bank-account:value",
	[OBS_CARD] = "x-tocsin-payment-card:value", [OBS_WALLET] = "x-tocsin-crypto-wallet:value",
	[OBS_ASN] = "autonomous-system:number",
};

void
obs_to_pattern(enum obs_kind kind, struct slice value, struct buf *out)
{
	buf_printf(out, "[%s = '", paths[kind]);
	for (size_t i = 0; i < value.len; i++) {
		if (value.p[i] == '\'' || value.p[i] == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, value.p[i]);
	}
	buf_append_cstr(out, "']");
}

bool
obs_kind_from_stix_path(const char *path_text, enum obs_kind *out)
{
	for (int k = OBS_IPV4; k <= OBS_ASN; k++)
		if (strcmp(path_text, paths[k]) == 0) {
			*out = (enum obs_kind)k;
			return true;
		}
	return false;
}

/* Only single-comparison patterns "[path = 'value']" and SCOs with value. */
enum tcerr
obs_extract(const struct obs_ctx *ctx, const json_t *obj, const struct stix_meta *meta,
            obs_extract_cb cb, void *cbctx, struct diag *d)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	if (!type)
		return TC_OK;
	if (strcmp(type, "indicator") == 0) {
		const char *p = json_string_value(json_object_get(obj, "pattern"));
		if (!p || p[0] != '[')
			return TC_OK;
		const char *eq = strstr(p, " = '");
		const char *end = p ? strrchr(p, '\'') : NULL;
		if (!eq || !end || end <= eq + 3)
			return TC_OK;
		char path[128];
		int n = snprintf(path, sizeof(path), "%.*s", (int)(eq - p - 1), p + 1);
		enum obs_kind k;
		if (n < 0 || (size_t)n >= sizeof(path) || !obs_kind_from_stix_path(path, &k))
			return TC_OK;
		return cb(cbctx, k, slice_make(eq + 4, (size_t)(end - eq - 4)));
	}
	const char *v = json_string_value(json_object_get(obj, "value"));
	if (!v)
		return TC_OK;
	if (strcmp(type, "ipv4-addr") == 0)
		return cb(cbctx, OBS_IPV4, slice_from_cstr(v));
	if (strcmp(type, "domain-name") == 0)
		return cb(cbctx, OBS_DOMAIN, slice_from_cstr(v));
	return TC_OK;
}
