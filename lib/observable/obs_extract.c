/*
 * obs_extract.c — the observables an object makes the hub index.
 *
 * An SCO gives its indexed property (value; every known hash of a file;
 * the number of an autonomous-system); an indicator whose pattern_type is
 * "stix" gives the exact values of its pattern that alone satisfy it
 * (stix_pattern_exact(), "sufficient") on paths that map to a kind. Each
 * value is normalised before the callback sees it, and each distinct
 * (kind, value) is reported once per object. A value that does not
 * normalise stops the extraction with its place and reason, except that a
 * card number is never quoted in a message.
 *
 * Known gap: duplicates are found by a linear scan with a hash prefilter,
 * quadratic in the number of values of one object (bounded by the pattern
 * node limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs_internal.h"
#include "stix/stix_pattern.h"
#include "util/pan.h"

#define EXTRACT_QUOTE_MAX 64 /* bytes of a bad value quoted in a message */

struct seen {
	enum obs_kind kind;
	uint32_t hash;
	size_t off, len;
};

struct extract {
	const struct obs_ctx *ctx;
	obs_extract_cb cb;
	void *cbctx;
	struct diag *d;
	struct buf vals;   /* every reported value, concatenated */
	struct seen *seen;
	size_t nseen, capseen;
	struct buf tmp;
};

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static enum tcerr
emit(struct extract *x, enum obs_kind kind, struct slice raw, const char *where)
{
	enum obs_kind got;
	enum tcerr rc;

	/* network-traffic addresses: the value says which family */
	if (kind == OBS_IPV4 && memchr(raw.p, ':', raw.len))
		kind = OBS_IPV6;
	buf_clear(&x->tmp);
	rc = obs__normalize_kind(x->ctx, kind, raw, &x->tmp, &got, x->d);
	if (rc == TC_ENOMEM)
		return rc;
	if (rc) {
		if (kind == OBS_CARD) {
			diag_prefix(x->d, "%s: card number", where);
		} else if (pan_suspect(raw)) {
			/* never quote what may be a card number, whatever its path */
			diag_prefix(x->d, "%s: a value with a long run of digits (not quoted)", where);
		} else {
			int n = raw.len > EXTRACT_QUOTE_MAX ? EXTRACT_QUOTE_MAX : (int)raw.len;
			diag_prefix(x->d, "%s: '%.*s%s'", where, n, raw.p,
			            raw.len > EXTRACT_QUOTE_MAX ? "..." : "");
		}
		return rc;
	}
	struct slice v = buf_slice(&x->tmp);
	uint32_t h = fnv1a(v.p, v.len) ^ (uint32_t)got;
	for (size_t i = 0; i < x->nseen; i++) {
		const struct seen *s = &x->seen[i];
		if (s->hash == h && s->kind == got && s->len == v.len &&
		    memcmp(x->vals.p + s->off, v.p, v.len) == 0)
			return TC_OK;
	}
	if (x->nseen == x->capseen) {
		size_t ncap = x->capseen ? 2 * x->capseen : 8;
		struct seen *ns = realloc(x->seen, ncap * sizeof(*ns));
		if (!ns)
			return diag_set(x->d, TC_ENOMEM, "out of memory");
		x->seen = ns;
		x->capseen = ncap;
	}
	size_t off = x->vals.len;
	buf_append_slice(&x->vals, v);
	if (buf_error(&x->vals))
		return diag_set(x->d, buf_error(&x->vals), "%s", tcerr_str(buf_error(&x->vals)));
	x->seen[x->nseen++] = (struct seen){ got, h, off, v.len };
	return x->cb(x->cbctx, got, v);
}

static enum tcerr
exact_cb(void *ctx, const char *path_text, struct slice value, bool sufficient)
{
	struct extract *x = ctx;
	enum obs_kind kind;
	if (!sufficient || !obs_kind_from_stix_path(path_text, &kind))
		return TC_OK;
	return emit(x, kind, value, "pattern");
}

static enum tcerr
from_indicator(struct extract *x, const json_t *obj)
{
	const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
	const json_t *pat = json_object_get(obj, "pattern");
	/* STIX 2.0 has no pattern_type (nor spec_version): its patterns are
	 * STIX patterns, a subset of the 2.1 grammar */
	bool v20 = !json_object_get(obj, "pattern_type") && !json_object_get(obj, "spec_version");
	if (!v20 && (!ptype || strcmp(ptype, "stix") != 0))
		return TC_OK; /* Sigma, YARA, Snort...: nothing tocsin can match */
	if (!json_is_string(pat))
		return diag_set(x->d, TC_EINVAL, "pattern: must be a string");
	struct stix_pattern *p = NULL;
	enum tcerr rc = stix_pattern_parse(
		slice_make(json_string_value(pat), json_string_length(pat)), NULL, &p, x->d);
	if (rc) {
		diag_prefix(x->d, "pattern");
		return rc;
	}
	rc = stix_pattern_exact(p, exact_cb, x);
	stix_pattern_free(p);
	return rc;
}

static enum tcerr
value_of(struct extract *x, const json_t *obj, enum obs_kind kind)
{
	const json_t *v = json_object_get(obj, "value");
	if (!json_is_string(v))
		return diag_set(x->d, TC_EINVAL, "value: must be a string");
	return emit(x, kind, slice_make(json_string_value(v), json_string_length(v)), "value");
}

static enum tcerr
from_file(struct extract *x, const json_t *obj)
{
	const json_t *hashes = json_object_get(obj, "hashes");
	const char *alg;
	const json_t *h;
	char where[96];

	if (!json_is_object(hashes))
		return TC_OK;
	json_object_foreach((json_t *)hashes, alg, h)
	{
		enum obs_kind kind;
		if (!obs__hash_name_kind(slice_from_cstr(alg), &kind))
			continue; /* an algorithm tocsin does not index */
		int n = snprintf(where, sizeof(where), "hashes.%s", alg);
		if (n < 0 || (size_t)n >= sizeof(where))
			memcpy(where, "hashes", sizeof("hashes"));
		if (!json_is_string(h))
			return diag_set(x->d, TC_EINVAL, "%s: must be a string", where);
		enum tcerr rc = emit(x, kind, slice_make(json_string_value(h), json_string_length(h)),
		                     where);
		if (rc)
			return rc;
	}
	return TC_OK;
}

static enum tcerr
from_asn(struct extract *x, const json_t *obj)
{
	const json_t *num = json_object_get(obj, "number");
	char tmp[24];
	if (!json_is_integer(num))
		return diag_set(x->d, TC_EINVAL, "number: must be an integer");
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(num));
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return diag_set(x->d, TC_EINTERNAL, "number: cannot format");
	return emit(x, OBS_ASN, slice_make(tmp, (size_t)n), "number");
}

static const struct {
	const char *type;
	enum obs_kind kind;
} value_types[] = {
	{ "ipv4-addr", OBS_IPV4 },
	{ "ipv6-addr", OBS_IPV6 },
	{ "domain-name", OBS_DOMAIN },
	{ "url", OBS_URL },
	{ "email-addr", OBS_EMAIL },
	{ TOCSIN_TYPE_PHONE, OBS_PHONE },
	{ TOCSIN_TYPE_BANK_ACCOUNT, OBS_BANK_ACCOUNT },
	{ TOCSIN_TYPE_CARD, OBS_CARD },
	{ TOCSIN_TYPE_WALLET, OBS_WALLET },
};

enum tcerr
obs_extract(const struct obs_ctx *ctx, const json_t *obj, const struct stix_meta *meta,
            obs_extract_cb cb, void *cbctx, struct diag *d)
{
	struct extract x = { .ctx = ctx, .cb = cb, .cbctx = cbctx, .d = d };
	enum tcerr rc = TC_OK;
	const char *type = meta ? meta->type : json_string_value(json_object_get(obj, "type"));

	buf_init(&x.vals, 0);
	buf_init(&x.tmp, 0);
	if (!type || !json_is_object(obj)) {
		rc = diag_set(d, TC_EINVAL, "type: missing");
		goto out;
	}
	if (strcmp(type, "indicator") == 0) {
		rc = from_indicator(&x, obj);
		goto out;
	}
	if (strcmp(type, "file") == 0) {
		rc = from_file(&x, obj);
		goto out;
	}
	if (strcmp(type, "autonomous-system") == 0) {
		rc = from_asn(&x, obj);
		goto out;
	}
	for (size_t i = 0; i < sizeof(value_types) / sizeof(value_types[0]); i++)
		if (strcmp(type, value_types[i].type) == 0) {
			rc = value_of(&x, obj, value_types[i].kind);
			goto out;
		}
out:
	free(x.seen);
	buf_reset(&x.vals);
	buf_reset(&x.tmp);
	return rc;
}
