/*
 * observable.c — kind names, the obs_normalize() dispatch, obs_classify(),
 * and the mapping between kinds and STIX object paths.
 *
 * Invariant: whatever obs_normalize() returns TC_OK for is a fixed point
 * (normalising the output again yields the same bytes, which the fuzz
 * targets check), and on error nothing is left appended to out.
 */
#include <string.h>

#include "obs_internal.h"

static const char *const kind_names[OBS_KIND_MAX + 1] = {
	[OBS_IPV4] = "ipv4",         [OBS_IPV6] = "ipv6",
	[OBS_DOMAIN] = "domain",     [OBS_URL] = "url",
	[OBS_EMAIL] = "email",       [OBS_MD5] = "md5",
	[OBS_SHA1] = "sha1",         [OBS_SHA256] = "sha256",
	[OBS_SHA512] = "sha512",     [OBS_STREEBOG256] = "streebog256",
	[OBS_STREEBOG512] = "streebog512", [OBS_PHONE] = "phone",
	[OBS_BANK_ACCOUNT] = "bank-account", [OBS_CARD] = "card",
	[OBS_WALLET] = "wallet",     [OBS_ASN] = "asn",
};

static const struct {
	const char *name;
	enum obs_kind kind;
} kind_aliases[] = {
	{ "ipv4-addr", OBS_IPV4 },
	{ "ipv6-addr", OBS_IPV6 },
	{ "domain-name", OBS_DOMAIN },
	{ "email-addr", OBS_EMAIL },
	{ "sha-1", OBS_SHA1 },
	{ "sha-256", OBS_SHA256 },
	{ "sha-512", OBS_SHA512 },
	{ "streebog-256", OBS_STREEBOG256 },
	{ "streebog-512", OBS_STREEBOG512 },
	{ "phone-number", OBS_PHONE },
	{ "bank_account", OBS_BANK_ACCOUNT },
	{ "autonomous-system", OBS_ASN },
	{ TOCSIN_TYPE_PHONE, OBS_PHONE },
	{ TOCSIN_TYPE_BANK_ACCOUNT, OBS_BANK_ACCOUNT },
	{ TOCSIN_TYPE_CARD, OBS_CARD },
	{ TOCSIN_TYPE_WALLET, OBS_WALLET },
};

const char *
obs_kind_name(enum obs_kind k)
{
	if (k < OBS_IPV4 || k > OBS_KIND_MAX)
		return "unknown";
	return kind_names[k];
}

static bool
slice_eq_ci(struct slice s, const char *name)
{
	return strlen(name) == s.len && obs__prefix_ci(s, name);
}

enum tcerr
obs_kind_parse(struct slice name, enum obs_kind *out)
{
	for (int k = OBS_IPV4; k <= OBS_KIND_MAX; k++)
		if (slice_eq_ci(name, kind_names[k])) {
			*out = (enum obs_kind)k;
			return TC_OK;
		}
	for (size_t i = 0; i < sizeof(kind_aliases) / sizeof(kind_aliases[0]); i++)
		if (slice_eq_ci(name, kind_aliases[i].name)) {
			*out = kind_aliases[i].kind;
			return TC_OK;
		}
	return TC_EINVAL;
}

enum tcerr
obs__normalize_kind(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in,
                    struct buf *out, enum obs_kind *got, struct diag *d)
{
	size_t mark = out->len;
	enum tcerr rc;

	*got = kind;
	in = slice_trim(in);
	if (in.len == 0)
		return diag_set(d, TC_EINVAL, "empty %s value", obs_kind_name(kind));
	if (in.len > OBS_VALUE_MAX)
		return diag_set(d, TC_ELIMIT, "value longer than %d bytes", OBS_VALUE_MAX);
	switch (kind) {
	case OBS_IPV4:
		rc = obs__ipv4(in, out, got, d);
		break;
	case OBS_IPV6:
		rc = obs__ipv6(in, out, got, d);
		break;
	case OBS_DOMAIN:
		rc = obs__domain(in, out, d);
		break;
	case OBS_URL:
		rc = obs__url(in, out, d);
		break;
	case OBS_EMAIL:
		rc = obs__email(in, out, d);
		break;
	case OBS_MD5:
	case OBS_SHA1:
	case OBS_SHA256:
	case OBS_SHA512:
	case OBS_STREEBOG256:
	case OBS_STREEBOG512:
		rc = obs__hash(kind, in, out, d);
		break;
	case OBS_PHONE:
		rc = obs__phone(in, out, d);
		break;
	case OBS_BANK_ACCOUNT:
		rc = obs__bank(in, out, d);
		break;
	case OBS_CARD:
		rc = obs__card(ctx, in, out, d);
		break;
	case OBS_WALLET:
		rc = obs__wallet(in, out, d);
		break;
	case OBS_ASN:
		rc = obs__asn(in, out, d);
		break;
	default:
		rc = diag_set(d, TC_EINVAL, "unknown observable kind %d", (int)kind);
		break;
	}
	if (rc == TC_OK && buf_error(out))
		rc = diag_set(d, buf_error(out), "%s", tcerr_str(buf_error(out)));
	if (rc == TC_OK && out->len - mark > OBS_VALUE_MAX)
		rc = diag_set(d, TC_ELIMIT, "normalised value longer than %d bytes", OBS_VALUE_MAX);
	if (rc != TC_OK && buf_error(out) == TC_OK)
		buf_truncate(out, mark);
	return rc;
}

enum tcerr
obs_normalize(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in, struct buf *out,
              struct diag *d)
{
	enum obs_kind got;
	return obs__normalize_kind(ctx, kind, in, out, &got, d);
}

/* ---- classify ---- */

static bool
only_chars(struct slice s, const char *set, bool hex)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (obs__is_digit(c) || (hex && hex_digit(c) >= 0))
			continue;
		if (!c || !strchr(set, c))
			return false;
	}
	return true;
}

static size_t
count_digits(struct slice s)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++)
		n += obs__is_digit(s.p[i]);
	return n;
}

static bool
looks_iban(struct slice s)
{
	if (s.len < 4 || !obs__is_alpha(s.p[0]) || !obs__is_alpha(s.p[1]) ||
	    !obs__is_digit(s.p[2]) || !obs__is_digit(s.p[3]))
		return false;
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == ' ')
			continue;
		if (!obs__is_alpha(s.p[i]) && !obs__is_digit(s.p[i]))
			return false;
		n++;
	}
	return n >= 15 && n <= 34;
}

static bool
looks_wallet(struct slice s)
{
	static const char *const chains[] = { "btc:", "eth:", "ltc:", "trx:", "xmr:" };
	for (size_t i = 0; i < 5; i++)
		if (obs__prefix_ci(s, chains[i]))
			return true;
	if (s.len == 42 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X'))
		return true;
	if (obs__prefix_ci(s, "bc1") || obs__prefix_ci(s, "ltc1"))
		return true;
	for (size_t i = 0; i < s.len; i++)
		if (!strchr("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", s.p[i]) ||
		    !s.p[i])
			return false;
	if (s.len == 95 || s.len == 106)
		return s.p[0] == '4' || s.p[0] == '8';
	return s.len >= 26 && s.len <= 35 && strchr("13LMT", s.p[0]) != NULL;
}

static enum obs_kind
guess(struct slice s)
{
	if (s.len == 0)
		return 0;
	if (obs__is_digit(s.p[0]) && memchr(s.p, '.', s.len) && only_chars(s, "./", false))
		return OBS_IPV4;
	if (memchr(s.p, ':', s.len) && only_chars(s, ":./%", true))
		return OBS_IPV6;
	if (s.len >= 4 && memmem(s.p, s.len, "://", 3))
		return OBS_URL;
	if (memchr(s.p, '@', s.len))
		return OBS_EMAIL;
	if (only_chars(s, "", true)) {
		switch (s.len) {
		case 32:
			return OBS_MD5;
		case 40:
			return OBS_SHA1;
		case 64:
			return OBS_SHA256;
		case 128:
			return OBS_SHA512;
		}
	}
	if (s.p[0] == '+')
		return OBS_PHONE;
	if (s.p[0] == '8' && only_chars(s, " -().", false) && count_digits(s) == 11)
		return OBS_PHONE;
	if (looks_iban(s))
		return OBS_BANK_ACCOUNT;
	if (s.len > 3 && obs__is_alpha(s.p[0]) && obs__is_alpha(s.p[1]) && s.p[2] == ':')
		return OBS_BANK_ACCOUNT;
	if (only_chars(s, " /", false) && count_digits(s) == 29 && s.len > 9 &&
	    (s.p[9] == ' ' || s.p[9] == '/'))
		return OBS_BANK_ACCOUNT;
	if (obs__prefix_ci(s, "hmac-sha256:"))
		return OBS_CARD;
	if (only_chars(s, " -", false) && count_digits(s) >= 13 && count_digits(s) <= 19)
		return OBS_CARD;
	if (looks_wallet(s))
		return OBS_WALLET;
	if (only_chars(s, "", false) || (obs__prefix_ci(s, "AS") && s.len > 2 &&
	                                 only_chars(slice_make(s.p + 2, s.len - 2), "", false)))
		return OBS_ASN;
	if (memchr(s.p, '.', s.len))
		return OBS_DOMAIN;
	return 0;
}

enum tcerr
obs_classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind, struct buf *out,
             struct diag *d)
{
	in = slice_trim(in);
	if (in.len > OBS_VALUE_MAX)
		return diag_set(d, TC_ELIMIT, "value longer than %d bytes", OBS_VALUE_MAX);
	enum obs_kind k = guess(in);
	if (!k)
		return diag_set(d, TC_EINVAL, "not a recognised observable value");
	enum tcerr rc = obs__normalize_kind(ctx, k, in, out, kind, d);
	if (rc)
		diag_prefix(d, "looks like %s", k == OBS_IPV6 ? "an IP address" : obs_kind_name(k));
	return rc;
}

/* ---- STIX paths ---- */

static const struct {
	const char *path;
	enum obs_kind kind;
} stix_paths[] = {
	{ "ipv4-addr:value", OBS_IPV4 },
	{ "ipv6-addr:value", OBS_IPV6 },
	{ "domain-name:value", OBS_DOMAIN },
	{ "url:value", OBS_URL },
	{ "email-addr:value", OBS_EMAIL },
	{ "email-message:from_ref.value", OBS_EMAIL },
	{ "email-message:sender_ref.value", OBS_EMAIL },
	/* the kind of an address is decided by its value (obs_extract) */
	{ "network-traffic:dst_ref.value", OBS_IPV4 },
	{ "network-traffic:src_ref.value", OBS_IPV4 },
	{ "autonomous-system:number", OBS_ASN },
	{ TOCSIN_TYPE_PHONE ":value", OBS_PHONE },
	{ TOCSIN_TYPE_BANK_ACCOUNT ":value", OBS_BANK_ACCOUNT },
	{ TOCSIN_TYPE_CARD ":value", OBS_CARD },
	{ TOCSIN_TYPE_WALLET ":value", OBS_WALLET },
};

/* STIX 2.1 §10.7 hash-algorithm-ov, plus the custom Streebog names. */
static const struct {
	const char *name;
	enum obs_kind kind;
} hash_names[] = {
	{ "MD5", OBS_MD5 },
	{ "SHA-1", OBS_SHA1 },
	{ "SHA1", OBS_SHA1 },
	{ "SHA-256", OBS_SHA256 },
	{ "SHA256", OBS_SHA256 },
	{ "SHA-512", OBS_SHA512 },
	{ "SHA512", OBS_SHA512 },
	{ "STREEBOG-256", OBS_STREEBOG256 },
	{ "STREEBOG256", OBS_STREEBOG256 },
	{ "STREEBOG-512", OBS_STREEBOG512 },
	{ "STREEBOG512", OBS_STREEBOG512 },
};

bool
obs__hash_name_kind(struct slice name, enum obs_kind *out)
{
	if (name.len >= 2 && name.p[0] == '\'' && name.p[name.len - 1] == '\'') {
		name.p++;
		name.len -= 2;
	}
	for (size_t i = 0; i < sizeof(hash_names) / sizeof(hash_names[0]); i++)
		if (slice_eq_ci(name, hash_names[i].name)) {
			*out = hash_names[i].kind;
			return true;
		}
	return false;
}

bool
obs_kind_from_stix_path(const char *path_text, enum obs_kind *out)
{
	if (!path_text)
		return false;
	struct slice p = slice_from_cstr(path_text);
	for (size_t i = 0; i < sizeof(stix_paths) / sizeof(stix_paths[0]); i++)
		if (slice_eq_cstr(p, stix_paths[i].path)) {
			*out = stix_paths[i].kind;
			return true;
		}
	if (slice_starts_with(p, "file:hashes."))
		return obs__hash_name_kind(slice_make(p.p + 12, p.len - 12), out);
	return false;
}

static const char *
pattern_path(enum obs_kind kind)
{
	switch (kind) {
	case OBS_IPV4:
		return "ipv4-addr:value";
	case OBS_IPV6:
		return "ipv6-addr:value";
	case OBS_DOMAIN:
		return "domain-name:value";
	case OBS_URL:
		return "url:value";
	case OBS_EMAIL:
		return "email-addr:value";
	case OBS_MD5:
		return "file:hashes.MD5";
	case OBS_SHA1:
		return "file:hashes.'SHA-1'";
	case OBS_SHA256:
		return "file:hashes.'SHA-256'";
	case OBS_SHA512:
		return "file:hashes.'SHA-512'";
	case OBS_STREEBOG256:
		return "file:hashes.'STREEBOG-256'";
	case OBS_STREEBOG512:
		return "file:hashes.'STREEBOG-512'";
	case OBS_PHONE:
		return TOCSIN_TYPE_PHONE ":value";
	case OBS_BANK_ACCOUNT:
		return TOCSIN_TYPE_BANK_ACCOUNT ":value";
	case OBS_CARD:
		return TOCSIN_TYPE_CARD ":value";
	case OBS_WALLET:
		return TOCSIN_TYPE_WALLET ":value";
	case OBS_ASN:
		return "autonomous-system:number";
	}
	return NULL;
}

void
obs_to_pattern(enum obs_kind kind, struct slice value, struct buf *out)
{
	const char *path = pattern_path(kind);
	if (!path)
		return;
	buf_append_char(out, '[');
	buf_append_cstr(out, path);
	buf_append_cstr(out, " = ");
	if (kind == OBS_ASN) {
		/* STIX 2.1 §6.2: autonomous-system number is an integer */
		if (obs__prefix_ci(value, "AS")) {
			value.p += 2;
			value.len -= 2;
		}
		buf_append_slice(out, value);
	} else {
		/* STIX 2.1 §9.3: in a string constant ' and \ are escaped */
		buf_append_char(out, '\'');
		for (size_t i = 0; i < value.len; i++) {
			if (value.p[i] == '\'' || value.p[i] == '\\')
				buf_append_char(out, '\\');
			buf_append_char(out, value.p[i]);
		}
		buf_append_char(out, '\'');
	}
	buf_append_char(out, ']');
}
