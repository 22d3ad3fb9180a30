/*
 * stix_id.c — UUIDs (v4 random, v5 SHA-1, keyed), RFC 8785 canonical JSON,
 * SCO ids.
 *
 * jcs_append() writes the JSON Canonicalization Scheme form of a jansson
 * value: object members sorted by their names' UTF-16 code units, numbers
 * as ECMAScript's Number.prototype.toString writes them (integers exactly,
 * doubles in the shortest form that reads back to the same double), strings
 * with only the escapes JSON requires. stix_id_sco() hashes that form of an
 * SCO's ID-contributing properties into a UUIDv5 in the STIX namespace
 * (STIX 2.1 §2.9). Invariant: equal JSON values (key order aside) produce
 * byte-identical JCS text and therefore identical ids.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/hmac.h>
#include <nettle/sha1.h>

#include "util/hex.h"
#include "stix_id.h"

#define JCS_SORT_STACK 32 /* members sorted without a heap allocation */

static void
uuid_format(const uint8_t u[16], char out[UUID_TEXT_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
}


static bool
uuid_parse(const char *s, uint8_t u[16])
{
	size_t j = 0;
	if (!s || strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			i++;
			continue;
		}
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		u[j++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return j == 16;
}

enum tcerr
uuid_v4(char out[UUID_TEXT_MAX])
{
	uint8_t u[16];
	size_t got = 0;
	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return TC_EIO;
		}
		got += (size_t)n;
	}
	/* RFC 4122 §4.4: version 4, variant 10xx */
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_format(u, out);
	return TC_OK;
}

enum tcerr
uuid_v5(const char *ns, struct slice name, char out[UUID_TEXT_MAX])
{
	uint8_t nsb[16], dig[SHA1_DIGEST_SIZE];
	struct sha1_ctx ctx;
	if (!uuid_parse(ns, nsb))
		return TC_EINVAL;
	/* RFC 4122 §4.3: SHA-1(namespace bytes || name), first 16 bytes */
	sha1_init(&ctx);
	sha1_update(&ctx, sizeof(nsb), nsb);
	sha1_update(&ctx, name.len, (const uint8_t *)name.p);
	sha1_digest(&ctx, sizeof(dig), dig);
	dig[6] = (uint8_t)((dig[6] & 0x0f) | 0x50);
	dig[8] = (uint8_t)((dig[8] & 0x3f) | 0x80);
	uuid_format(dig, out);
	return TC_OK;
}

enum tcerr
uuid_keyed(const uint8_t *key, size_t keylen, struct slice name, char out[UUID_TEXT_MAX])
{
	uint8_t dig[SHA256_DIGEST_SIZE];
	struct hmac_sha256_ctx ctx;
	if (!key || keylen < UUID_KEY_MIN)
		return TC_EINVAL;
	hmac_sha256_set_key(&ctx, keylen, key);
	hmac_sha256_update(&ctx, name.len, (const uint8_t *)name.p);
	hmac_sha256_digest(&ctx, sizeof(dig), dig);
	/* the form of a random UUID (RFC 4122 §4.4: version 4, variant
	 * 10xx): without the key it cannot be told from one */
	dig[6] = (uint8_t)((dig[6] & 0x0f) | 0x40);
	dig[8] = (uint8_t)((dig[8] & 0x3f) | 0x80);
	uuid_format(dig, out);
	explicit_bzero(&ctx, sizeof(ctx));
	return TC_OK;
}

/* ---------- JCS (RFC 8785) ---------- */

/* Next UTF-16 code unit of a UTF-8 string (jansson guarantees valid UTF-8).
 * *pending holds the low surrogate of a supplementary character. */
static unsigned
utf16_next(const unsigned char **p, const unsigned char *end, unsigned *pending)
{
	if (*pending) {
		unsigned u = *pending;
		*pending = 0;
		return u;
	}
	const unsigned char *s = *p;
	unsigned cp;
	if (s[0] < 0x80) {
		cp = s[0];
		*p += 1;
	} else if ((s[0] & 0xe0) == 0xc0 && s + 1 < end) {
		cp = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		*p += 2;
	} else if ((s[0] & 0xf0) == 0xe0 && s + 2 < end) {
		cp = (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		*p += 3;
	} else if (s + 3 < end) {
		cp = (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3f) << 12 |
		     (unsigned)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		*p += 4;
	} else {
		/* truncated sequence: cannot happen with jansson strings */
		*p = end;
		return s[0];
	}
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*pending = 0xdc00 | (cp & 0x3ff);
		return 0xd800 | (cp >> 10);
	}
	return cp;
}

struct jcs_member {
	const char *key;
	size_t len;
	json_t *value;
};

/* RFC 8785 §3.2.3: compare names as arrays of UTF-16 code units. */
static int
jcs_key_cmp(const void *a, const void *b)
{
	const struct jcs_member *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->key, *pe = p + x->len;
	const unsigned char *q = (const unsigned char *)y->key, *qe = q + y->len;
	unsigned pp = 0, qp = 0;
	while ((p < pe || pp) && (q < qe || qp)) {
		unsigned u = utf16_next(&p, pe, &pp);
		unsigned v = utf16_next(&q, qe, &qp);
		if (u != v)
			return u < v ? -1 : 1;
	}
	bool xmore = p < pe || pp, ymore = q < qe || qp;
	return xmore ? 1 : ymore ? -1 : 0;
}

/* ECMAScript Number::toString for a finite double (RFC 8785 §3.2.2.3). */
static void
jcs_double(struct buf *out, double v)
{
	char tmp[40], digits[20];
	int prec, exp10 = 0;

	if (v == 0) { /* covers -0 */
		buf_append_char(out, '0');
		return;
	}
	if (!isfinite(v)) {
		/* JSON cannot carry these; RFC 8785 says it is an error. */
		buf_append_cstr(out, "null");
		return;
	}
	if (v < 0) {
		buf_append_char(out, '-');
		v = -v;
	}
	/* Shortest round-trip: the fewest significant digits that read back. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp is "d.ddde[+-]xx": collect digits, read exponent */
	size_t k = 0;
	const char *s = tmp;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[k++] = *s;
	if (*s == 'e')
		exp10 = (int)strtol(s + 1, NULL, 10);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	int n = exp10 + 1; /* value = 0.digits × 10^n */
	if ((int)k <= n && n <= 21) {
		buf_append(out, digits, k);
		for (int i = 0; i < n - (int)k; i++)
			buf_append_char(out, '0');
	} else if (0 < n && n <= 21) {
		buf_append(out, digits, (size_t)n);
		buf_append_char(out, '.');
		buf_append(out, digits + n, k - (size_t)n);
	} else if (-6 < n && n <= 0) {
		buf_append(out, "0.", 2);
		for (int i = 0; i < -n; i++)
			buf_append_char(out, '0');
		buf_append(out, digits, k);
	} else {
		buf_append_char(out, digits[0]);
		if (k > 1) {
			buf_append_char(out, '.');
			buf_append(out, digits + 1, k - 1);
		}
		buf_printf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
}

#define JCS_EXACT_INT 9007199254740992LL /* 2^53: doubles are exact up to here */

void
jcs_append(struct buf *out, const json_t *v)
{
	if (!v) {
		/* no value: record it like any other failed append */
		if (out->err == TC_OK)
			out->err = TC_EINVAL;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		struct jcs_member stackm[JCS_SORT_STACK], *m = stackm;
		if (n > JCS_SORT_STACK) {
			m = calloc(n, sizeof(*m));
			if (!m) {
				out->err = out->err ? out->err : TC_ENOMEM;
				return;
			}
		}
		const char *key;
		size_t klen;
		json_t *item;
		json_object_keylen_foreach((json_t *)v, key, klen, item)
		{
			m[i].key = key;
			m[i].len = klen;
			m[i].value = item;
			i++;
		}
		qsort(m, n, sizeof(*m), jcs_key_cmp);
		buf_append_char(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_append_char(out, ',');
			buf_append_json_str(out, slice_make(m[i].key, m[i].len));
			buf_append_char(out, ':');
			jcs_append(out, m[i].value);
		}
		buf_append_char(out, '}');
		if (m != stackm)
			free(m);
		return;
	}
	case JSON_ARRAY: {
		buf_append_char(out, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_append_char(out, ',');
			jcs_append(out, json_array_get(v, i));
		}
		buf_append_char(out, ']');
		return;
	}
	case JSON_STRING:
		buf_append_json_str(out, slice_make(json_string_value(v), json_string_length(v)));
		return;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);
		if (i >= -JCS_EXACT_INT && i <= JCS_EXACT_INT)
			buf_printf(out, "%lld", (long long)i);
		else
			jcs_double(out, (double)i); /* what an ECMAScript reader would hold */
		return;
	}
	case JSON_REAL:
		jcs_double(out, json_real_value(v));
		return;
	case JSON_TRUE:
		buf_append(out, "true", 4);
		return;
	case JSON_FALSE:
		buf_append(out, "false", 5);
		return;
	case JSON_NULL:
		buf_append(out, "null", 4);
		return;
	}
}

/* ---------- SCO ids (§2.9 and each SCO's "ID Contributing Properties") ---------- */

struct sco_idprops {
	const char *type;
	const char *props[9]; /* NULL-terminated */
};

/* Sorted by type. process has none: always UUIDv4. */
static const struct sco_idprops sco_idprops[] = {
    {"artifact", {"hashes", "payload_bin", NULL}},
    {"autonomous-system", {"number", NULL}},
    {"directory", {"path", NULL}},
    {"domain-name", {"value", NULL}},
    {"email-addr", {"value", NULL}},
    {"email-message", {"from_ref", "subject", "body", NULL}},
    {"file", {"hashes", "name", "parent_directory_ref", "extensions", NULL}},
    {"ipv4-addr", {"value", NULL}},
    {"ipv6-addr", {"value", NULL}},
    {"mac-addr", {"value", NULL}},
    {"mutex", {"name", NULL}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions",
      NULL}},
    {"software", {"name", "cpe", "swid", "vendor", "version", NULL}},
    {"url", {"value", NULL}},
    {"user-account", {"account_type", "user_id", "account_login", NULL}},
    {"windows-registry-key", {"key", "values", NULL}},
    {"x509-certificate", {"hashes", "serial_number", NULL}},
};

static const struct sco_idprops *
sco_find(const char *type)
{
	size_t lo = 0, hi = sizeof(sco_idprops) / sizeof(sco_idprops[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(type, sco_idprops[mid].type);
		if (r == 0)
			return &sco_idprops[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Known gap: hashes contribute as the whole dictionary, as the
 * specification text says; implementations that pick a single preferred
 * hash first compute different ids for multi-hash objects. */
enum tcerr
stix_id_sco(const char *type, const json_t *obj, char out[STIX_ID_MAX])
{
	char uuid[UUID_TEXT_MAX];
	enum tcerr rc;
	size_t tlen = type ? strlen(type) : 0;

	if (tlen == 0 || tlen > STIX_TYPE_MAX)
		return TC_EINVAL;
	const struct sco_idprops *sp = sco_find(type);
	json_t *sub = NULL;
	if (sp && json_is_object(obj)) {
		sub = json_object();
		if (!sub)
			return TC_ENOMEM;
		for (const char *const *p = sp->props; *p; p++) {
			json_t *v = json_object_get(obj, *p);
			if (v && json_object_set(sub, *p, v) != 0) {
				json_decref(sub);
				return TC_ENOMEM;
			}
		}
	}
	if (sub && json_object_size(sub) > 0) {
		struct buf b;
		buf_init(&b, 0);
		jcs_append(&b, sub);
		rc = buf_error(&b);
		if (!rc)
			rc = uuid_v5(STIX_SCO_NAMESPACE, buf_slice(&b), uuid);
		buf_reset(&b);
	} else {
		rc = uuid_v4(uuid);
	}
	json_decref(sub);
	if (rc)
		return rc;
	int n = snprintf(out, STIX_ID_MAX, "%s--%s", type, uuid);
	if (n < 0 || n >= STIX_ID_MAX)
		return TC_EINVAL;
	return TC_OK;
}
