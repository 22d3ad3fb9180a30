/*
 * stix_validate.c — validation of one STIX 2.1 object and its extracted columns.
 *
 * stix_validate() checks, in a fixed order so the first error is stable:
 * the type name, the id, spec_version, created/modified, the common
 * properties (§3.2), every property by its name (§3.1 naming, _ref/_refs
 * identifiers, _hex/_bin encodings, known timestamp properties, hashes),
 * then the type's own rules (required properties and the constraints the
 * JSON schemas and the specification text state). Types are found by
 * binary search in one static sorted table. Each property is looked up by
 * hash (jansson) or visited once, so the cost is linear in the size of the
 * object; the only deep work is the indicator pattern parse. Invariant: on
 * TC_OK the object satisfies every rule named here and *meta is filled;
 * on failure d holds exactly one message that starts with the JSON path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix.h"
#include "stix_internal.h"
#include "stix_pattern.h"
#include "util/pan.h"
#include "util/timestamp.h"

#define STIX_PROP_MIN 3 /* STIX 2.1 §3.1: property names 3-250 chars */
#define STIX_PROP_MAX 250
#define STIX_COUNT_MAX 999999999 /* §4.14 number_observed, §5.2 count */
#define STIX_PROP_PATH_MAX 320   /* nested property path in a message */

/* ---------- messages ---------- */

enum tcerr
stix__verr(struct stix__vctx *c, enum tcerr rc, const char *prop, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;
	bool has_path = c->path && c->path[0];

	if (!c->d)
		return rc;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	/* a property name is quoted in the message: never a card number */
	if (prop && pan_suspect(slice_from_cstr(prop)))
		prop = "(a property whose name is not quoted: it may hold a card number)";
	if (has_path && prop)
		return diag_set(c->d, rc, "%s.%s: %s", c->path, prop, msg);
	if (has_path)
		return diag_set(c->d, rc, "%s: %s", c->path, msg);
	if (prop)
		return diag_set(c->d, rc, "%s: %s", prop, msg);
	return diag_set(c->d, rc, "%s", msg);
}

/* "prop[i]" or "prop[i].sub" into buf (cut if too long: messages only). */
static const char *
pidx(char *buf, size_t n, const char *prop, size_t i, const char *sub)
{
	int r = sub ? snprintf(buf, n, "%s[%zu].%s", prop, i, sub)
	            : snprintf(buf, n, "%s[%zu]", prop, i);
	if (r < 0)
		buf[0] = '\0';
	return buf;
}

/* "prop.key" (dictionary member) into buf. */
static const char *
pkey(char *buf, size_t n, const char *prop, const char *key)
{
	int r = snprintf(buf, n, "%s.%s", prop, key);
	if (r < 0)
		buf[0] = '\0';
	return buf;
}

/* ---------- names and identifiers ---------- */

static bool
is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool
is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* STIX 2.1 §3.1: type names are 3-250 characters of a-z, 0-9 and '-',
 * start with a letter; the identifier regex also needs the last character
 * to be alphanumeric, and "--" would make ids ambiguous. */
static bool
type_name_valid(const char *s, size_t len)
{
	if (len < 3 || len > STIX_TYPE_MAX)
		return false;
	if (!(s[0] >= 'a' && s[0] <= 'z') || s[len - 1] == '-')
		return false;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == '-') {
			if (s[i - 1] == '-')
				return false;
		} else if (!is_lower_alnum(s[i])) {
			return false;
		}
	}
	return true;
}

/* The UUID part's hex digits: lower case only. identifier.json's regex
 * also admits A-F, but STIX 2.1 §2.9 asks for an RFC 4122 UUID and RFC 4122
 * §3 outputs hex "as lower case characters" while reading either case on
 * input: the same object could then arrive under two spellings that byte
 * comparisons (the store's keys, TLP ids, recipients) would take for two.
 * Accepting only the canonical lower-case form makes the bytes the
 * identity everywhere ("marking-definition--E828B379-..." is refused, not
 * silently unmarked). */
static bool
is_lower_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* identifier.json: ^[a-z][a-z0-9-]+[a-z0-9]--<8>-<4>-[1-5]<3>-[89ab]<3>-<12>$,
 * hex digits in lower case (see is_lower_hex) */
bool
stix_id_valid(struct slice s, size_t *type_len)
{
	if (!s.p || s.len < 3 + 2 + 36 || s.len > STIX_ID_MAX - 1)
		return false;
	size_t tl = s.len - 38;
	const char *u = s.p + tl + 2;
	if (s.p[tl] != '-' || s.p[tl + 1] != '-')
		return false;
	if (!(s.p[0] >= 'a' && s.p[0] <= 'z') || !is_lower_alnum(s.p[tl - 1]))
		return false;
	for (size_t i = 1; i + 1 < tl; i++)
		if (!is_lower_alnum(s.p[i]) && s.p[i] != '-')
			return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!is_lower_hex(u[i])) {
			return false;
		}
	}
	if (u[14] < '1' || u[14] > '5')
		return false;
	if (!strchr("89ab", u[19]))
		return false;
	if (type_len)
		*type_len = tl;
	return true;
}

/* Why v is no identifier: names the case when only upper-case hex digits
 * keep it from being one, so a producer learns what to fix. */
static const char *
bad_id_msg(const json_t *v)
{
	char low[STIX_ID_MAX];
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	if (n == 0 || n >= sizeof(low))
		return "not a valid STIX identifier";
	const char *p = json_string_value(v);
	for (size_t i = 0; i < n; i++)
		low[i] = (p[i] >= 'A' && p[i] <= 'F') ? (char)(p[i] - 'A' + 'a') : p[i];
	if (stix_id_valid(slice_make(low, n), NULL))
		return "not a valid STIX identifier: the UUID must be in lower case "
		       "(STIX 2.1 §2.9, RFC 4122 §3)";
	return "not a valid STIX identifier";
}

/* True if v is a valid identifier; *tl = length of its type part. */
static bool
json_id(const json_t *v, size_t *tl)
{
	return json_is_string(v) &&
	       stix_id_valid(slice_make(json_string_value(v), json_string_length(v)), tl);
}

static bool
id_is_type(const json_t *v, size_t tl, const char *type)
{
	size_t n = strlen(type);
	return tl == n && memcmp(json_string_value(v), type, n) == 0;
}

/* STIX 2.1 §3.1: property names are ASCII a-z, A-Z, 0-9 and '_', 3-250
 * characters ("id" is the one shorter name the specification defines). */
static bool
prop_name_valid(const char *s, size_t len)
{
	if (len == 2 && s[0] == 'i' && s[1] == 'd')
		return true;
	if (len < STIX_PROP_MIN || len > STIX_PROP_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!is_lower_alnum(ch) && ch != '_' && !(ch >= 'A' && ch <= 'Z'))
			return false;
	}
	return true;
}

static bool
ends_with(const char *s, size_t len, const char *suf, size_t slen)
{
	return len > slen && memcmp(s + len - slen, suf, slen) == 0;
}

/* ---------- value helpers ---------- */

static enum tcerr
req(struct stix__vctx *c, const json_t *o, const char *prop, const json_t **out)
{
	const json_t *v = json_object_get(o, prop);
	if (out)
		*out = v;
	if (!v)
		return stix__verr(c, TC_EINVAL, prop, "required property missing");
	return TC_OK;
}

static enum tcerr
want_string(struct stix__vctx *c, const json_t *o, const char *prop, bool required)
{
	const json_t *v = json_object_get(o, prop);
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	if (!json_is_string(v))
		return stix__verr(c, TC_EINVAL, prop, "must be a string");
	return TC_OK;
}

static enum tcerr
want_bool(struct stix__vctx *c, const json_t *o, const char *prop, bool required)
{
	const json_t *v = json_object_get(o, prop);
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	if (!json_is_boolean(v))
		return stix__verr(c, TC_EINVAL, prop, "must be a boolean");
	return TC_OK;
}

static enum tcerr
want_int_range(struct stix__vctx *c, const json_t *o, const char *prop, bool required,
               json_int_t lo, json_int_t hi)
{
	const json_t *v = json_object_get(o, prop);
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return stix__verr(c, TC_EINVAL, prop, "must be an integer %lld-%lld", (long long)lo,
		                  (long long)hi);
	return TC_OK;
}

/* A list (§2.x: lists have at least one item) of strings. */
static enum tcerr
want_string_list(struct stix__vctx *c, const json_t *o, const char *prop, bool required)
{
	const json_t *v = json_object_get(o, prop);
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0)
		return stix__verr(c, TC_EINVAL, prop, "must be a non-empty list of strings");
	for (size_t i = 0; i < n; i++) {
		if (!json_is_string(json_array_get(v, i))) {
			char p[STIX_PROP_PATH_MAX];
			return stix__verr(c, TC_EINVAL, pidx(p, sizeof(p), prop, i, NULL),
			                  "must be a string");
		}
	}
	return TC_OK;
}

static bool
str_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/* A timestamp property (§2.16). ms: created/modified need at least
 * millisecond precision (§3.2). OUT: *us (0 when absent), *text. */
static enum tcerr
want_ts(struct stix__vctx *c, const json_t *o, const char *prop, bool required, bool ms,
        int64_t *us, const char **text)
{
	const json_t *v = json_object_get(o, prop);
	int frac = 0;
	if (us)
		*us = 0;
	if (text)
		*text = NULL;
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	if (!json_is_string(v))
		return stix__verr(c, TC_EINVAL, prop, "must be a timestamp string");
	/* util/timestamp.h parses at most 64 characters; more fraction
	 * digits are legal STIX but beyond tocsin's named limit. */
	if (json_string_length(v) > STIX_VERSION_TEXT_MAX)
		return stix__verr(c, TC_ELIMIT, prop, "timestamp longer than %d characters",
		                  STIX_VERSION_TEXT_MAX);
	int64_t t;
	if (ts_parse(slice_make(json_string_value(v), json_string_length(v)), &t, &frac))
		return stix__verr(c, TC_EINVAL, prop,
		                  "not a valid timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)");
	if (ms && frac < 3)
		return stix__verr(c, TC_EINVAL, prop, "must have at least millisecond precision");
	if (us)
		*us = t;
	if (text)
		*text = json_string_value(v);
	return TC_OK;
}

/* hashes-type.json: a non-empty dictionary; keys 3-250 of [a-zA-Z0-9_-];
 * the spec's hash algorithm names have fixed value formats (§10.3). */
static enum tcerr
check_hashes(struct stix__vctx *c, const json_t *h, const char *prop)
{
	static const struct {
		const char *name;
		size_t len;
	} fixed[] = {
	    {"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
	    {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128},
	};
	char p[STIX_PROP_PATH_MAX];
	const char *key;
	size_t klen;
	json_t *v;

	if (!json_is_object(h) || json_object_size(h) == 0)
		return stix__verr(c, TC_EINVAL, prop, "must be a non-empty dictionary");
	json_object_keylen_foreach((json_t *)h, key, klen, v)
	{
		if (klen < 3 || klen > 250)
			return stix__verr(c, TC_EINVAL, pkey(p, sizeof(p), prop, key),
			                  "hash name must be 3-250 characters");
		for (size_t i = 0; i < klen; i++) {
			char ch = key[i];
			if (!is_lower_alnum(ch) && !(ch >= 'A' && ch <= 'Z') && ch != '_' &&
			    ch != '-')
				return stix__verr(c, TC_EINVAL, pkey(p, sizeof(p), prop, key),
				                  "hash name must be [a-zA-Z0-9_-]");
		}
		if (!json_is_string(v))
			return stix__verr(c, TC_EINVAL, pkey(p, sizeof(p), prop, key),
			                  "must be a string");
		const char *s = json_string_value(v);
		size_t sl = json_string_length(v);
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			if (strcmp(key, fixed[i].name) != 0)
				continue;
			bool ok = sl == fixed[i].len;
			for (size_t j = 0; ok && j < sl; j++)
				ok = is_hex(s[j]);
			if (!ok)
				return stix__verr(c, TC_EINVAL, pkey(p, sizeof(p), prop, key),
				                  "must be %zu hexadecimal digits", fixed[i].len);
		}
	}
	return TC_OK;
}

/* A single identifier; type (may be NULL) restricts its type part. */
static enum tcerr
want_ref(struct stix__vctx *c, const json_t *o, const char *prop, bool required, const char *type)
{
	const json_t *v = json_object_get(o, prop);
	size_t tl;
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	if (!json_id(v, &tl))
		return stix__verr(c, TC_EINVAL, prop, "%s", bad_id_msg(v));
	if (type && !id_is_type(v, tl, type))
		return stix__verr(c, TC_EINVAL, prop, "must be a %s id", type);
	return TC_OK;
}

/* A _refs list: non-empty, each an identifier (of type, if not NULL). */
static enum tcerr
want_refs(struct stix__vctx *c, const json_t *o, const char *prop, bool required, const char *type)
{
	const json_t *v = json_object_get(o, prop);
	char p[STIX_PROP_PATH_MAX];
	size_t tl;
	if (!v)
		return required ? stix__verr(c, TC_EINVAL, prop, "required property missing")
		                : TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0)
		return stix__verr(c, TC_EINVAL, prop, "must be a non-empty list of identifiers");
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_id(e, &tl))
			return stix__verr(c, TC_EINVAL, pidx(p, sizeof(p), prop, i, NULL), "%s",
			                  bad_id_msg(e));
		if (type && !id_is_type(e, tl, type))
			return stix__verr(c, TC_EINVAL, pidx(p, sizeof(p), prop, i, NULL),
			                  "must be a %s id", type);
	}
	return TC_OK;
}

/* A single identifier or a _refs list (list: true) whose members must each
 * have one of the types in types (NULL-terminated); what names them in the
 * message ("a file or artifact id"). Absent is fine unless required. */
static enum tcerr
want_refs_of(struct stix__vctx *c, const json_t *o, const char *prop, bool list,
             const char *const *types, const char *what)
{
	const json_t *v = json_object_get(o, prop);
	char p[STIX_PROP_PATH_MAX];
	size_t tl;
	enum tcerr rc;
	if (!v)
		return TC_OK;
	if ((rc = list ? want_refs(c, o, prop, false, NULL) : want_ref(c, o, prop, false, NULL)))
		return rc;
	size_t n = list ? json_array_size(v) : 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = list ? json_array_get(v, i) : v;
		json_id(e, &tl);
		bool ok = false;
		for (const char *const *t = types; *t && !ok; t++)
			ok = id_is_type(e, tl, *t);
		if (!ok)
			return stix__verr(c, TC_EINVAL, list ? pidx(p, sizeof(p), prop, i, NULL) : prop,
			                  "must be %s id", what);
	}
	return TC_OK;
}

static const struct type_def *type_find(const char *name);

/* tocsin's own SCO types (docs/extensions.md): custom types the validator
 * knows to be SCOs, so a reference that must name an SDO refuses them. */
static const char *const tocsin_sco_types[] = {
    "x-tocsin-phone-number", "x-tocsin-bank-account", "x-tocsin-payment-card",
    "x-tocsin-crypto-wallet", NULL};

/* The class of the object an identifier names, from its type part:
 * STIX_CLASS_CUSTOM for a type neither STIX 2.1 nor tocsin defines (it may
 * be a custom SDO or SCO: references to those are not judged). */
static enum stix_class ref_class(const json_t *v, size_t tl);

/* later must not be before earlier (both optional). strict: must be later. */
static enum tcerr
want_order(struct stix__vctx *c, const json_t *o, const char *first, const char *last, bool strict)
{
	int64_t a, b;
	enum tcerr rc;
	if ((rc = want_ts(c, o, first, false, false, &a, NULL)))
		return rc;
	if ((rc = want_ts(c, o, last, false, false, &b, NULL)))
		return rc;
	if (!json_object_get(o, first) || !json_object_get(o, last))
		return TC_OK;
	if (strict && b <= a)
		return stix__verr(c, TC_EINVAL, last, "must be later than %s", first);
	if (b < a)
		return stix__verr(c, TC_EINVAL, last, "must not be earlier than %s", first);
	return TC_OK;
}

/* kill-chain-phase.json: list of {kill_chain_name, phase_name}. */
static enum tcerr
want_kill_chain(struct stix__vctx *c, const json_t *o)
{
	const json_t *v = json_object_get(o, "kill_chain_phases");
	char p[STIX_PROP_PATH_MAX];
	if (!v)
		return TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0)
		return stix__verr(c, TC_EINVAL, "kill_chain_phases", "must be a non-empty list");
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_object(e))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "kill_chain_phases", i, NULL),
			                  "must be an object");
		if (!json_is_string(json_object_get(e, "kill_chain_name")))
			return stix__verr(
			    c, TC_EINVAL,
			    pidx(p, sizeof(p), "kill_chain_phases", i, "kill_chain_name"),
			    "must be a string");
		if (!json_is_string(json_object_get(e, "phase_name")))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "kill_chain_phases", i, "phase_name"),
			                  "must be a string");
	}
	return TC_OK;
}

/* Needs at least one of the listed properties (the schemas' anyOf). */
static enum tcerr
want_any(struct stix__vctx *c, const json_t *o, const char *const *props, const char *what)
{
	for (const char *const *p = props; *p; p++)
		if (json_object_get(o, *p))
			return TC_OK;
	return stix__verr(c, TC_EINVAL, NULL, "needs at least one of %s", what);
}

/* ---------- per-type rules ---------- */

typedef enum tcerr (*type_check_fn)(const json_t *o, struct stix__vctx *c);

static enum tcerr
chk_named(const json_t *o, struct stix__vctx *c)
{
	return want_string(c, o, "name", true);
}

static enum tcerr
chk_attack_pattern(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = chk_named(o, c);
	return rc ? rc : want_kill_chain(c, o);
}

static enum tcerr
chk_seen(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = chk_named(o, c);
	if (!rc)
		rc = want_order(c, o, "first_seen", "last_seen", false);
	if (!rc)
		rc = want_kill_chain(c, o);
	return rc;
}

static enum tcerr
chk_grouping(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = want_string(c, o, "context", true);
	return rc ? rc : want_refs(c, o, "object_refs", true, NULL);
}

static enum tcerr
chk_indicator(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	const json_t *pat;
	if ((rc = req(c, o, "pattern", &pat)))
		return rc;
	if (!json_is_string(pat))
		return stix__verr(c, TC_EINVAL, "pattern", "must be a string");
	/* STIX 2.0 §4.3 (2.0 part 2): labels required, no pattern_type (the
	 * pattern is a STIX pattern) */
	if (c->v20 && (rc = want_string_list(c, o, "labels", true)))
		return rc;
	if (!c->v20 && (rc = want_string(c, o, "pattern_type", true)))
		return rc;
	if ((rc = want_ts(c, o, "valid_from", true, false, NULL, NULL)))
		return rc;
	/* §4.7: valid_until, if present, MUST be greater than valid_from. */
	if ((rc = want_order(c, o, "valid_from", "valid_until", true)))
		return rc;
	if ((rc = want_string(c, o, "pattern_version", false)))
		return rc;
	if ((rc = want_string_list(c, o, "indicator_types", false)))
		return rc;
	if ((rc = want_kill_chain(c, o)))
		return rc;
	size_t plen = json_string_length(pat);
	if (plen > c->lim->max_pattern)
		return stix__verr(c, TC_ELIMIT, "pattern", "longer than %zu bytes",
		                  c->lim->max_pattern);
	if (!c->v20 && strcmp(json_string_value(json_object_get(o, "pattern_type")), "stix") != 0)
		return TC_OK;
	/* §9.4: a STIX pattern that does not parse is invalid. */
	struct sp_limits pl = {.max_len = c->lim->max_pattern,
	                       .max_depth = STIX_PATTERN_MAX_DEPTH_DEFAULT,
	                       .max_nodes = STIX_PATTERN_MAX_NODES_DEFAULT};
	struct stix_pattern *p = NULL;
	struct diag pd;
	diag_clear(&pd);
	rc = stix_pattern_parse(slice_make(json_string_value(pat), plen), &pl, &p, &pd);
	stix_pattern_free(p);
	if (rc == TC_ENOMEM)
		return stix__verr(c, rc, "pattern", "out of memory");
	if (rc)
		return stix__verr(c, rc, "pattern", "%s", pd.msg);
	return TC_OK;
}

static enum tcerr
chk_location(const json_t *o, struct stix__vctx *c)
{
	static const char *const any[] = {"region", "country", "latitude", NULL};
	const json_t *lat = json_object_get(o, "latitude");
	const json_t *lon = json_object_get(o, "longitude");
	enum tcerr rc;
	if ((rc = want_any(c, o, any, "region, country or latitude/longitude")))
		return rc;
	if (!lat != !lon)
		return stix__verr(c, TC_EINVAL, lat ? "longitude" : "latitude",
		                  "latitude and longitude go together");
	if (lat && (!json_is_number(lat) || json_number_value(lat) < -90.0 ||
	            json_number_value(lat) > 90.0))
		return stix__verr(c, TC_EINVAL, "latitude", "must be a number -90..90");
	if (lon && (!json_is_number(lon) || json_number_value(lon) < -180.0 ||
	            json_number_value(lon) > 180.0))
		return stix__verr(c, TC_EINVAL, "longitude", "must be a number -180..180");
	const json_t *pr = json_object_get(o, "precision");
	if (pr && !lat)
		return stix__verr(c, TC_EINVAL, "precision", "needs latitude and longitude");
	if (pr && (!json_is_number(pr) || json_number_value(pr) < 0))
		return stix__verr(c, TC_EINVAL, "precision", "must be a non-negative number");
	return TC_OK;
}

static enum tcerr
chk_malware(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	/* STIX 2.0: labels and name required, no is_family */
	if (c->v20) {
		if ((rc = want_string_list(c, o, "labels", true)) ||
		    (rc = want_string(c, o, "name", true)))
			return rc;
	} else if ((rc = want_bool(c, o, "is_family", true))) {
		return rc;
	}
	/* §4.10: name is required when is_family is true. */
	if (json_is_true(json_object_get(o, "is_family")) && (rc = want_string(c, o, "name", true)))
		return rc;
	if ((rc = want_string(c, o, "name", false)))
		return rc;
	if ((rc = want_order(c, o, "first_seen", "last_seen", false)))
		return rc;
	if ((rc = want_refs(c, o, "operating_system_refs", false, "software")))
		return rc;
	/* §4.10: sample_refs names file or artifact SCOs. */
	static const char *const samples[] = {"file", "artifact", NULL};
	if ((rc = want_refs_of(c, o, "sample_refs", true, samples, "a file or artifact")))
		return rc;
	return want_kill_chain(c, o);
}

static enum tcerr
chk_malware_analysis(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	if ((rc = want_string(c, o, "product", true)))
		return rc;
	if (!json_object_get(o, "result") && !json_object_get(o, "analysis_sco_refs"))
		return stix__verr(c, TC_EINVAL, NULL, "needs result or analysis_sco_refs");
	if ((rc = want_ref(c, o, "host_vm_ref", false, "software")))
		return rc;
	if ((rc = want_ref(c, o, "operating_system_ref", false, "software")))
		return rc;
	if ((rc = want_refs(c, o, "installed_software_refs", false, "software")))
		return rc;
	/* §4.11: sample_ref is a file, network-traffic or artifact;
	 * analysis_sco_refs are SCOs. */
	static const char *const samples[] = {"file", "network-traffic", "artifact", NULL};
	if ((rc = want_refs_of(c, o, "sample_ref", false, samples,
	                       "a file, network-traffic or artifact")))
		return rc;
	const json_t *sr = json_object_get(o, "analysis_sco_refs");
	if ((rc = want_refs(c, o, "analysis_sco_refs", false, NULL)))
		return rc;
	for (size_t i = 0; i < json_array_size(sr); i++) {
		const json_t *e = json_array_get(sr, i);
		size_t tl;
		json_id(e, &tl);
		enum stix_class k = ref_class(e, tl);
		if (k != STIX_CLASS_SCO && k != STIX_CLASS_CUSTOM) {
			char p[STIX_PROP_PATH_MAX];
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "analysis_sco_refs", i, NULL),
			                  "must refer to an SCO");
		}
	}
	return want_order(c, o, "analysis_started", "analysis_ended", false);
}

static enum tcerr
chk_note(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = want_string(c, o, "content", true);
	if (!rc)
		rc = want_refs(c, o, "object_refs", true, NULL);
	if (!rc)
		rc = want_string_list(c, o, "authors", false);
	return rc;
}

static enum tcerr
chk_observed_data(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	if ((rc = want_ts(c, o, "first_observed", true, false, NULL, NULL)))
		return rc;
	if ((rc = want_ts(c, o, "last_observed", true, false, NULL, NULL)))
		return rc;
	if ((rc = want_order(c, o, "first_observed", "last_observed", false)))
		return rc;
	if ((rc = want_int_range(c, o, "number_observed", true, 1, STIX_COUNT_MAX)))
		return rc;
	const json_t *objs = json_object_get(o, "objects");
	const json_t *refs = json_object_get(o, "object_refs");
	/* STIX 2.0: objects only (object_refs is 2.1) */
	if (c->v20 && (refs || !objs))
		return stix__verr(c, TC_EINVAL, refs ? "object_refs" : "objects",
		                  refs ? "not a STIX 2.0 property (2.0 uses objects)"
		                       : "required property missing");
	/* §4.14: exactly one of objects (deprecated) and object_refs. */
	if (!objs == !refs)
		return stix__verr(c, TC_EINVAL, NULL,
		                  "needs exactly one of objects or object_refs");
	if (objs && (!json_is_object(objs) || json_object_size(objs) == 0))
		return stix__verr(c, TC_EINVAL, "objects", "must be a non-empty dictionary");
	if (!refs)
		return TC_OK;
	if ((rc = want_refs(c, o, "object_refs", true, NULL)))
		return rc;
	/* §4.14: object_refs lists SCOs, and relationships between them; at
	 * least one SCO. A custom type may be an SCO: it counts as one. */
	bool sco = false;
	for (size_t i = 0; i < json_array_size(refs); i++) {
		const json_t *e = json_array_get(refs, i);
		size_t tl;
		json_id(e, &tl);
		enum stix_class k = ref_class(e, tl);
		if (k != STIX_CLASS_SCO && k != STIX_CLASS_CUSTOM &&
		    !id_is_type(e, tl, "relationship")) {
			char p[STIX_PROP_PATH_MAX];
			return stix__verr(c, TC_EINVAL, pidx(p, sizeof(p), "object_refs", i, NULL),
			                  "must refer to an SCO or a relationship");
		}
		sco |= k == STIX_CLASS_SCO || k == STIX_CLASS_CUSTOM;
	}
	if (!sco)
		return stix__verr(c, TC_EINVAL, "object_refs", "must contain at least one SCO");
	return TC_OK;
}

static enum tcerr
chk_opinion(const json_t *o, struct stix__vctx *c)
{
	static const char *const ops[] = {"strongly-disagree", "disagree", "neutral", "agree",
	                                  "strongly-agree",    NULL};
	enum tcerr rc;
	const json_t *v;
	if ((rc = want_refs(c, o, "object_refs", true, NULL)))
		return rc;
	if ((rc = req(c, o, "opinion", &v)))
		return rc;
	if (!json_is_string(v) || !str_in(json_string_value(v), ops))
		return stix__verr(c, TC_EINVAL, "opinion",
		                  "must be one of strongly-disagree, disagree, neutral, agree, "
		                  "strongly-agree");
	return want_string_list(c, o, "authors", false);
}

static enum tcerr
chk_report(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = want_string(c, o, "name", true);
	if (!rc)
		rc = want_ts(c, o, "published", true, false, NULL, NULL);
	if (!rc)
		rc = want_refs(c, o, "object_refs", true, NULL);
	return rc;
}

/* Types an SRO may not point at (relationship.json, sighting.json). */
static bool
ref_is_meta_or_sro(const json_t *v, size_t tl)
{
	return id_is_type(v, tl, "relationship") || id_is_type(v, tl, "sighting") ||
	       id_is_type(v, tl, "bundle") || id_is_type(v, tl, "marking-definition") ||
	       id_is_type(v, tl, "language-content");
}

static enum tcerr
chk_relationship(const json_t *o, struct stix__vctx *c)
{
	static const char *const ends[] = {"source_ref", "target_ref", NULL};
	enum tcerr rc;
	const json_t *v;
	size_t tl;
	if ((rc = req(c, o, "relationship_type", &v)))
		return rc;
	/* §5.1: relationship_type is kebab-case, a-z 0-9 and '-'. */
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	bool ok = s[0] != '\0';
	for (; ok && *s; s++)
		ok = is_lower_alnum(*s) || *s == '-';
	if (!ok)
		return stix__verr(c, TC_EINVAL, "relationship_type",
		                  "must be a non-empty string of a-z, 0-9 and '-'");
	for (const char *const *e = ends; *e; e++) {
		if ((rc = want_ref(c, o, *e, true, NULL)))
			return rc;
		v = json_object_get(o, *e);
		json_id(v, &tl);
		if (ref_is_meta_or_sro(v, tl))
			return stix__verr(c, TC_EINVAL, *e,
			                  "must not refer to an SRO, bundle or meta object");
	}
	return want_order(c, o, "start_time", "stop_time", true);
}

static enum tcerr
chk_sighting(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	size_t tl;
	if ((rc = want_ref(c, o, "sighting_of_ref", true, NULL)))
		return rc;
	const json_t *v = json_object_get(o, "sighting_of_ref");
	json_id(v, &tl);
	if (ref_is_meta_or_sro(v, tl))
		return stix__verr(c, TC_EINVAL, "sighting_of_ref",
		                  "must refer to an SDO, not an SRO, bundle or meta object");
	/* §5.7: sighting_of_ref points to the SDO that was sighted. */
	if (ref_class(v, tl) == STIX_CLASS_SCO)
		return stix__verr(c, TC_EINVAL, "sighting_of_ref",
		                  "must refer to an SDO, not an SCO");
	if ((rc = want_int_range(c, o, "count", false, 0, STIX_COUNT_MAX)))
		return rc;
	if ((rc = want_order(c, o, "first_seen", "last_seen", false)))
		return rc;
	if ((rc = want_refs(c, o, "observed_data_refs", false, "observed-data")))
		return rc;
	const json_t *w = json_object_get(o, "where_sighted_refs");
	if ((rc = want_refs(c, o, "where_sighted_refs", false, NULL)))
		return rc;
	for (size_t i = 0; i < json_array_size(w); i++) {
		const json_t *e = json_array_get(w, i);
		json_id(e, &tl);
		if (!id_is_type(e, tl, "identity") && !id_is_type(e, tl, "location")) {
			char p[STIX_PROP_PATH_MAX];
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "where_sighted_refs", i, NULL),
			                  "must be an identity or location id");
		}
	}
	return want_bool(c, o, "summary", false);
}

/* SCOs (§6) */

static enum tcerr
chk_value(const json_t *o, struct stix__vctx *c)
{
	return want_string(c, o, "value", true);
}

/* §6.4: resolves_to_refs of a domain name are addresses or domains. */
static enum tcerr
chk_domain_name(const json_t *o, struct stix__vctx *c)
{
	static const char *const to[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
	enum tcerr rc = chk_value(o, c);
	return rc ? rc
	          : want_refs_of(c, o, "resolves_to_refs", true, to,
	                         "an ipv4-addr, ipv6-addr or domain-name");
}

/* §6.8, §6.9: an address resolves to MAC addresses and belongs to
 * autonomous systems. */
static enum tcerr
chk_addr_refs(const json_t *o, struct stix__vctx *c)
{
	static const char *const mac[] = {"mac-addr", NULL};
	static const char *const as[] = {"autonomous-system", NULL};
	enum tcerr rc = want_refs_of(c, o, "resolves_to_refs", true, mac, "a mac-addr");
	return rc ? rc : want_refs_of(c, o, "belongs_to_refs", true, as, "an autonomous-system");
}

static enum tcerr
chk_ipv6(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = chk_value(o, c);
	return rc ? rc : chk_addr_refs(o, c);
}

/* §6.5: belongs_to_ref of an e-mail address is a user account. */
static enum tcerr
chk_email_addr(const json_t *o, struct stix__vctx *c)
{
	static const char *const ua[] = {"user-account", NULL};
	enum tcerr rc = chk_value(o, c);
	return rc ? rc : want_refs_of(c, o, "belongs_to_ref", false, ua, "a user-account");
}

static enum tcerr
chk_artifact(const json_t *o, struct stix__vctx *c)
{
	const json_t *bin = json_object_get(o, "payload_bin");
	const json_t *url = json_object_get(o, "url");
	/* §6.1: payload_bin or url (with hashes), never both. */
	if (bin && url)
		return stix__verr(c, TC_EINVAL, "url", "must not be present with payload_bin");
	if (!bin && !url)
		return stix__verr(c, TC_EINVAL, NULL, "needs payload_bin or url");
	if (url && !json_object_get(o, "hashes"))
		return stix__verr(c, TC_EINVAL, "hashes", "required when url is present");
	if (url && !json_is_string(url))
		return stix__verr(c, TC_EINVAL, "url", "must be a string");
	if (json_object_get(o, "decryption_key") && !json_object_get(o, "encryption_algorithm"))
		return stix__verr(c, TC_EINVAL, "decryption_key", "needs encryption_algorithm");
	return want_string(c, o, "mime_type", false);
}

static enum tcerr
chk_as(const json_t *o, struct stix__vctx *c)
{
	return want_int_range(c, o, "number", true, 0, 4294967295LL);
}

static enum tcerr
chk_directory(const json_t *o, struct stix__vctx *c)
{
	return want_string(c, o, "path", true);
}

static enum tcerr
chk_email_message(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	if ((rc = want_bool(c, o, "is_multipart", true)))
		return rc;
	/* §6.6: body only when not multipart; body_multipart only when it is. */
	if (json_is_true(json_object_get(o, "is_multipart"))) {
		if (json_object_get(o, "body"))
			return stix__verr(c, TC_EINVAL, "body",
			                  "must not be present when is_multipart is true");
	} else if (json_object_get(o, "body_multipart")) {
		return stix__verr(c, TC_EINVAL, "body_multipart",
		                  "must not be present when is_multipart is false");
	}
	if ((rc = want_ref(c, o, "from_ref", false, "email-addr")))
		return rc;
	if ((rc = want_ref(c, o, "sender_ref", false, "email-addr")))
		return rc;
	if ((rc = want_refs(c, o, "to_refs", false, "email-addr")))
		return rc;
	if ((rc = want_refs(c, o, "cc_refs", false, "email-addr")))
		return rc;
	return want_refs(c, o, "bcc_refs", false, "email-addr");
}

static enum tcerr
chk_file(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	if (!json_object_get(o, "hashes") && !json_object_get(o, "name"))
		return stix__verr(c, TC_EINVAL, NULL, "needs hashes or name");
	if ((rc = want_string(c, o, "name", false)))
		return rc;
	if ((rc = want_int_range(c, o, "size", false, 0, 9007199254740991LL)))
		return rc;
	return want_ref(c, o, "parent_directory_ref", false, "directory");
}

static enum tcerr
chk_ipv4(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = chk_value(o, c);
	if (rc)
		return rc;
	/* ipv4-addr.json: dotted quad without leading zeros, optional /0-32. */
	const char *s = json_string_value(json_object_get(o, "value"));
	for (int part = 0; part < 4; part++) {
		int n = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (*s - '0');
			digits++;
			s++;
		}
		if (digits == 0 || digits > 3 || n > 255 || (digits > 1 && s[-digits] == '0'))
			goto bad;
		if (part < 3 && *s++ != '.')
			goto bad;
	}
	if (*s == '/') {
		s++;
		int n = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 3) {
			n = n * 10 + (*s - '0');
			digits++;
			s++;
		}
		if (digits == 0 || n > 32 || (digits > 1 && s[-digits] == '0'))
			goto bad;
	}
	if (*s == '\0')
		return chk_addr_refs(o, c);
bad:
	return stix__verr(c, TC_EINVAL, "value", "not an IPv4 address or CIDR");
}

static enum tcerr
chk_mac(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = chk_value(o, c);
	if (rc)
		return rc;
	/* §6.10: colon-delimited, lowercase MAC-48 address with leading zeros. */
	const json_t *v = json_object_get(o, "value");
	const char *s = json_string_value(v);
	bool ok = json_string_length(v) == 17;
	for (size_t i = 0; ok && i < 17; i++)
		ok = (i % 3 == 2) ? s[i] == ':'
		                  : ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
	if (!ok)
		return stix__verr(c, TC_EINVAL, "value",
		                  "must be a lowercase, colon-delimited MAC-48 address");
	return TC_OK;
}

static enum tcerr
chk_mutex(const json_t *o, struct stix__vctx *c)
{
	return want_string(c, o, "name", true);
}

static enum tcerr
chk_network_traffic(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	if (!json_object_get(o, "src_ref") && !json_object_get(o, "dst_ref"))
		return stix__verr(c, TC_EINVAL, NULL, "needs src_ref or dst_ref");
	/* §6.12: the ends are addresses or domain names; encapsulation
	 * names other traffic; payloads are artifacts. */
	static const char *const ends[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name",
	                                   NULL};
	static const char *const traffic[] = {"network-traffic", NULL};
	static const char *const artifact[] = {"artifact", NULL};
	static const char *const end_what = "an ipv4-addr, ipv6-addr, mac-addr or domain-name";
	if ((rc = want_refs_of(c, o, "src_ref", false, ends, end_what)) ||
	    (rc = want_refs_of(c, o, "dst_ref", false, ends, end_what)) ||
	    (rc = want_refs_of(c, o, "encapsulates_refs", true, traffic, "a network-traffic")) ||
	    (rc = want_refs_of(c, o, "encapsulated_by_ref", false, traffic, "a network-traffic")) ||
	    (rc = want_refs_of(c, o, "src_payload_ref", false, artifact, "an artifact")) ||
	    (rc = want_refs_of(c, o, "dst_payload_ref", false, artifact, "an artifact")))
		return rc;
	if ((rc = want_string_list(c, o, "protocols", true)))
		return rc;
	if ((rc = want_int_range(c, o, "src_port", false, 0, 65535)))
		return rc;
	if ((rc = want_int_range(c, o, "dst_port", false, 0, 65535)))
		return rc;
	if ((rc = want_bool(c, o, "is_active", false)))
		return rc;
	/* §6.12: end MUST NOT be present when is_active is true. */
	if (json_is_true(json_object_get(o, "is_active")) && json_object_get(o, "end"))
		return stix__verr(c, TC_EINVAL, "end",
		                  "must not be present when is_active is true");
	return want_order(c, o, "start", "end", false);
}

/* Properties that show a process / user-account / registry key / x509
 * certificate object says something (their schemas' anyOf). */
static enum tcerr
chk_process(const json_t *o, struct stix__vctx *c)
{
	static const char *const any[] = {"extensions",
	                                  "is_hidden",
	                                  "pid",
	                                  "created_time",
	                                  "cwd",
	                                  "command_line",
	                                  "environment_variables",
	                                  "opened_connection_refs",
	                                  "creator_user_ref",
	                                  "image_ref",
	                                  "parent_ref",
	                                  "child_refs",
	                                  NULL};
	return want_any(c, o, any, "the process properties");
}

static enum tcerr
chk_software(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc = want_string(c, o, "name", true);
	return rc ? rc : want_string_list(c, o, "languages", false);
}

static enum tcerr
chk_user_account(const json_t *o, struct stix__vctx *c)
{
	static const char *const any[] = {"extensions",
	                                  "user_id",
	                                  "credential",
	                                  "account_login",
	                                  "account_type",
	                                  "display_name",
	                                  "is_service_account",
	                                  "is_privileged",
	                                  "can_escalate_privs",
	                                  "is_disabled",
	                                  "account_created",
	                                  "account_expires",
	                                  "credential_last_changed",
	                                  "account_first_login",
	                                  "account_last_login",
	                                  NULL};
	return want_any(c, o, any, "the user-account properties");
}

static enum tcerr
chk_registry_key(const json_t *o, struct stix__vctx *c)
{
	static const char *const any[] = {
	    "key", "values", "modified_time", "creator_user_ref", "number_of_subkeys", NULL};
	return want_any(c, o, any,
	                "key, values, modified_time, creator_user_ref or "
	                "number_of_subkeys");
}

static enum tcerr
chk_x509(const json_t *o, struct stix__vctx *c)
{
	static const char *const any[] = {"is_self_signed",
	                                  "hashes",
	                                  "version",
	                                  "serial_number",
	                                  "signature_algorithm",
	                                  "issuer",
	                                  "validity_not_before",
	                                  "validity_not_after",
	                                  "subject",
	                                  "subject_public_key_algorithm",
	                                  "subject_public_key_modulus",
	                                  "subject_public_key_exponent",
	                                  "x509_v3_extensions",
	                                  NULL};
	enum tcerr rc = want_any(c, o, any, "the x509-certificate properties");
	return rc ? rc : want_order(c, o, "validity_not_before", "validity_not_after", false);
}

/* Meta objects (§7) */

static enum tcerr
chk_language_content(const json_t *o, struct stix__vctx *c)
{
	enum tcerr rc;
	size_t tl;
	if ((rc = want_ref(c, o, "object_ref", true, NULL)))
		return rc;
	const json_t *v = json_object_get(o, "object_ref");
	json_id(v, &tl);
	if (id_is_type(v, tl, "bundle") || id_is_type(v, tl, "language-content"))
		return stix__verr(c, TC_EINVAL, "object_ref",
		                  "must not refer to a bundle or language-content");
	if ((rc = want_ts(c, o, "object_modified", false, true, NULL, NULL)))
		return rc;
	v = json_object_get(o, "contents");
	if (!v)
		return stix__verr(c, TC_EINVAL, "contents", "required property missing");
	if (!json_is_object(v) || json_object_size(v) == 0)
		return stix__verr(c, TC_EINVAL, "contents", "must be a non-empty dictionary");
	return TC_OK;
}

static enum tcerr
chk_marking_definition(const json_t *o, struct stix__vctx *c)
{
	const json_t *dt = json_object_get(o, "definition_type");
	const json_t *def = json_object_get(o, "definition");
	enum tcerr rc;
	/* §7.2.1: definition_type and definition, unless an extension
	 * (e.g. TLP 2.0) carries the marking. */
	if (!json_object_get(o, "extensions") || dt || def) {
		if (!dt)
			return stix__verr(c, TC_EINVAL, "definition_type",
			                  "required property missing");
		if (!json_is_string(dt))
			return stix__verr(c, TC_EINVAL, "definition_type", "must be a string");
		if (!def)
			return stix__verr(c, TC_EINVAL, "definition", "required property missing");
		if (!json_is_object(def))
			return stix__verr(c, TC_EINVAL, "definition", "must be an object");
		if (strcmp(json_string_value(dt), "statement") == 0 &&
		    !json_is_string(json_object_get(def, "statement")))
			return stix__verr(c, TC_EINVAL, "definition.statement", "must be a string");
	}
	if ((rc = want_string(c, o, "name", false)))
		return rc;
	return stix__tlp_check_definition(o, json_string_value(json_object_get(o, "id")), c);
}

static enum tcerr
chk_extension_definition(const json_t *o, struct stix__vctx *c)
{
	static const char *const types[] = {
	    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension",
	    NULL};
	enum tcerr rc;
	if ((rc = want_string(c, o, "name", true)))
		return rc;
	if ((rc = want_string(c, o, "schema", true)))
		return rc;
	if ((rc = want_string(c, o, "version", true)))
		return rc;
	if ((rc = want_string_list(c, o, "extension_types", true)))
		return rc;
	const json_t *et = json_object_get(o, "extension_types");
	bool toplevel = false;
	for (size_t i = 0; i < json_array_size(et); i++) {
		const char *s = json_string_value(json_array_get(et, i));
		if (!str_in(s, types)) {
			char p[STIX_PROP_PATH_MAX];
			return stix__verr(
			    c, TC_EINVAL, pidx(p, sizeof(p), "extension_types", i, NULL),
			    "must be new-sdo, new-sco, new-sro, property-extension or "
			    "toplevel-property-extension");
		}
		toplevel |= strcmp(s, "toplevel-property-extension") == 0;
	}
	if (json_object_get(o, "extension_properties") && !toplevel)
		return stix__verr(c, TC_EINVAL, "extension_properties",
		                  "only allowed with toplevel-property-extension");
	return want_string_list(c, o, "extension_properties", false);
}

/* ---------- the type table ---------- */

struct type_def {
	const char *name;
	enum stix_class cls;
	type_check_fn check;
};

/* Sorted by strcmp for bsearch (test_stix_validate checks every entry). */
static const struct type_def type_defs[] = {
    {"artifact", STIX_CLASS_SCO, chk_artifact},
    {"attack-pattern", STIX_CLASS_SDO, chk_attack_pattern},
    {"autonomous-system", STIX_CLASS_SCO, chk_as},
    {"bundle", STIX_CLASS_BUNDLE, NULL},
    {"campaign", STIX_CLASS_SDO, chk_seen},
    {"course-of-action", STIX_CLASS_SDO, chk_named},
    {"directory", STIX_CLASS_SCO, chk_directory},
    {"domain-name", STIX_CLASS_SCO, chk_domain_name},
    {"email-addr", STIX_CLASS_SCO, chk_email_addr},
    {"email-message", STIX_CLASS_SCO, chk_email_message},
    {"extension-definition", STIX_CLASS_META, chk_extension_definition},
    {"file", STIX_CLASS_SCO, chk_file},
    {"grouping", STIX_CLASS_SDO, chk_grouping},
    {"identity", STIX_CLASS_SDO, chk_named},
    {"incident", STIX_CLASS_SDO, chk_named},
    {"indicator", STIX_CLASS_SDO, chk_indicator},
    {"infrastructure", STIX_CLASS_SDO, chk_seen},
    {"intrusion-set", STIX_CLASS_SDO, chk_seen},
    {"ipv4-addr", STIX_CLASS_SCO, chk_ipv4},
    {"ipv6-addr", STIX_CLASS_SCO, chk_ipv6},
    {"language-content", STIX_CLASS_META, chk_language_content},
    {"location", STIX_CLASS_SDO, chk_location},
    {"mac-addr", STIX_CLASS_SCO, chk_mac},
    {"malware", STIX_CLASS_SDO, chk_malware},
    {"malware-analysis", STIX_CLASS_SDO, chk_malware_analysis},
    {"marking-definition", STIX_CLASS_META, chk_marking_definition},
    {"mutex", STIX_CLASS_SCO, chk_mutex},
    {"network-traffic", STIX_CLASS_SCO, chk_network_traffic},
    {"note", STIX_CLASS_SDO, chk_note},
    {"observed-data", STIX_CLASS_SDO, chk_observed_data},
    {"opinion", STIX_CLASS_SDO, chk_opinion},
    {"process", STIX_CLASS_SCO, chk_process},
    {"relationship", STIX_CLASS_SRO, chk_relationship},
    {"report", STIX_CLASS_SDO, chk_report},
    {"sighting", STIX_CLASS_SRO, chk_sighting},
    {"software", STIX_CLASS_SCO, chk_software},
    {"threat-actor", STIX_CLASS_SDO, chk_seen},
    {"tool", STIX_CLASS_SDO, chk_attack_pattern},
    {"url", STIX_CLASS_SCO, chk_value},
    {"user-account", STIX_CLASS_SCO, chk_user_account},
    {"vulnerability", STIX_CLASS_SDO, chk_named},
    {"windows-registry-key", STIX_CLASS_SCO, chk_registry_key},
    {"x509-certificate", STIX_CLASS_SCO, chk_x509},
};

static const struct type_def *
type_find(const char *name)
{
	size_t lo = 0, hi = sizeof(type_defs) / sizeof(type_defs[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(name, type_defs[mid].name);
		if (r == 0)
			return &type_defs[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static enum stix_class
ref_class(const json_t *v, size_t tl)
{
	char type[STIX_TYPE_MAX + 1];
	if (tl > STIX_TYPE_MAX)
		return STIX_CLASS_CUSTOM;
	memcpy(type, json_string_value(v), tl);
	type[tl] = '\0';
	for (const char *const *t = tocsin_sco_types; *t; t++)
		if (strcmp(type, *t) == 0)
			return STIX_CLASS_SCO;
	const struct type_def *td = type_find(type);
	return td ? td->cls : STIX_CLASS_CUSTOM;
}

enum stix_class
stix_classify(const char *type)
{
	if (!type || !type_name_valid(type, strlen(type)))
		return 0;
	const struct type_def *t = type_find(type);
	return t ? t->cls : STIX_CLASS_CUSTOM;
}

/* Timestamp-valued properties of the predefined types (§4-§7), sorted.
 * created and modified are checked separately (millisecond rule). */
static const char *const ts_props[] = {
    "account_created",
    "account_expires",
    "account_first_login",
    "account_last_login",
    "analysis_ended",
    "analysis_started",
    "atime",
    "created_time",
    "credential_last_changed",
    "ctime",
    "date",
    "end",
    "first_observed",
    "first_seen",
    "last_observed",
    "last_seen",
    "modified_time",
    "mtime",
    "object_modified",
    "published",
    "start",
    "start_time",
    "stop_time",
    "submitted",
    "valid_from",
    "valid_until",
    "validity_not_after",
    "validity_not_before",
};

static bool
is_ts_prop(const char *key)
{
	size_t lo = 0, hi = sizeof(ts_props) / sizeof(ts_props[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(key, ts_props[mid]);
		if (r == 0)
			return true;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Predefined SCO extensions (§6: archive-ext ... windows-service-ext). */
static const char *const sco_exts[] = {
    "archive-ext",
    "http-request-ext",
    "icmp-ext",
    "ntfs-ext",
    "pdf-ext",
    "raster-image-ext",
    "socket-ext",
    "tcp-ext",
    "unix-account-ext",
    "windows-pebinary-ext",
    "windows-process-ext",
    "windows-service-ext",
    NULL,
};

/* ---------- common properties (§3.2) ---------- */

static bool
str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static bool
all_digits(const char *s, size_t min)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return false;
	return n >= min;
}

/* ^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$ */
static bool
cve_id_valid(const char *s)
{
	if (strncmp(s, "CVE-", 4) != 0 || strlen(s) < 13 || s[8] != '-')
		return false;
	for (int i = 4; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	const char *n = s + 9;
	return all_digits(n, 4) && (n[0] != '0' || strlen(n) == 4);
}

/* ^CAPEC-\d+$ */
static bool
capec_id_valid(const char *s)
{
	return strncmp(s, "CAPEC-", 6) == 0 && all_digits(s + 6, 1);
}

static enum tcerr
chk_external_references(struct stix__vctx *c, const json_t *o)
{
	const json_t *v = json_object_get(o, "external_references");
	char p[STIX_PROP_PATH_MAX];
	enum tcerr rc;
	if (!v)
		return TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0)
		return stix__verr(c, TC_EINVAL, "external_references", "must be a non-empty list");
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_object(e))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "external_references", i, NULL),
			                  "must be an object");
		static const char *const fields[] = {"source_name", "description", "url",
		                                     "external_id", NULL};
		for (const char *const *f = fields; *f; f++) {
			const json_t *fv = json_object_get(e, *f);
			if (f == fields && !fv)
				return stix__verr(c, TC_EINVAL,
				                  pidx(p, sizeof(p), "external_references", i, *f),
				                  "required property missing");
			if (fv && !json_is_string(fv))
				return stix__verr(c, TC_EINVAL,
				                  pidx(p, sizeof(p), "external_references", i, *f),
				                  "must be a string");
		}
		/* §2.5: at least one of description, url, external_id. */
		if (!json_object_get(e, "description") && !json_object_get(e, "url") &&
		    !json_object_get(e, "external_id"))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "external_references", i, NULL),
			                  "needs description, url or external_id");
		/* external-reference.json: the cve and capec sources fix the
		 * form of external_id. */
		const json_t *src = json_object_get(e, "source_name");
		const json_t *xid = json_object_get(e, "external_id");
		if (str_is(src, "cve") || str_is(src, "capec")) {
			bool cve = str_is(src, "cve");
			if (!xid || !(cve ? cve_id_valid(json_string_value(xid))
			                  : capec_id_valid(json_string_value(xid))))
				return stix__verr(
				    c, TC_EINVAL,
				    pidx(p, sizeof(p), "external_references", i, "external_id"),
				    cve ? "must be CVE-YYYY-NNNN for source_name cve"
				        : "must be CAPEC-N for source_name capec");
		}
		const json_t *h = json_object_get(e, "hashes");
		if (h && (rc = check_hashes(
		              c, h, pidx(p, sizeof(p), "external_references", i, "hashes"))))
			return rc;
	}
	return TC_OK;
}

static enum tcerr
chk_granular_markings(struct stix__vctx *c, const json_t *o)
{
	const json_t *v = json_object_get(o, "granular_markings");
	char p[STIX_PROP_PATH_MAX];
	size_t tl;
	if (!v)
		return TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0)
		return stix__verr(c, TC_EINVAL, "granular_markings", "must be a non-empty list");
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_object(e))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, NULL),
			                  "must be an object");
		const json_t *sel = json_object_get(e, "selectors");
		size_t ns = json_array_size(sel);
		bool ok = json_is_array(sel) && ns > 0;
		for (size_t j = 0; ok && j < ns; j++)
			ok = json_is_string(json_array_get(sel, j)) &&
			     json_string_length(json_array_get(sel, j)) > 0;
		if (!ok)
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, "selectors"),
			                  "must be a non-empty list of selector strings");
		const json_t *mr = json_object_get(e, "marking_ref");
		const json_t *lang = json_object_get(e, "lang");
		/* §7.2.3: exactly one of marking_ref and lang. */
		if (!mr == !lang)
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, NULL),
			                  "needs exactly one of marking_ref or lang");
		if (mr && !json_id(mr, &tl))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, "marking_ref"),
			                  "%s", bad_id_msg(mr));
		if (mr && !id_is_type(mr, tl, "marking-definition"))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, "marking_ref"),
			                  "must be a marking-definition id");
		if (lang && !json_is_string(lang))
			return stix__verr(c, TC_EINVAL,
			                  pidx(p, sizeof(p), "granular_markings", i, "lang"),
			                  "must be a string");
	}
	return TC_OK;
}

/* x-tocsin-distribution (docs/extensions.md): recipients, a non-empty
 * list of at most STIX_RECIPIENTS_MAX identity ids in canonical form, so
 * that policy compares them byte for byte with organisations' ids. */
static enum tcerr
chk_recipients(struct stix__vctx *c, const json_t *e, const char *path)
{
	char p[STIX_PROP_PATH_MAX];
	const json_t *rec = json_object_get(e, "recipients");
	size_t n = json_array_size(rec), tl;
	snprintf(p, sizeof p, "%s.recipients", path);
	if (!json_is_array(rec) || n == 0 || n > STIX_RECIPIENTS_MAX)
		return stix__verr(c, TC_EINVAL, p,
		                  "must be a list of 1 to %d identity ids", STIX_RECIPIENTS_MAX);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(rec, i);
		char q[STIX_PROP_PATH_MAX + 24];
		snprintf(q, sizeof q, "%s[%zu]", p, i); /* a path cut short is still a path */
		if (!json_id(v, &tl))
			return stix__verr(c, TC_EINVAL, q, "%s", bad_id_msg(v));
		if (!id_is_type(v, tl, "identity"))
			return stix__verr(c, TC_EINVAL, q, "must be an identity id");
	}
	return TC_OK;
}

/* A non-empty list of at most STIX_INCIDENT_LIST_MAX under e[key]; NULL
 * and TC_OK when absent. */
static enum tcerr
incident_list(struct stix__vctx *c, const json_t *e, const char *path, const char *key,
              const json_t **out)
{
	char p[STIX_PROP_PATH_MAX];
	const json_t *v = json_object_get(e, key);
	*out = NULL;
	if (!v)
		return TC_OK;
	size_t n = json_array_size(v);
	if (!json_is_array(v) || n == 0 || n > STIX_INCIDENT_LIST_MAX)
		return stix__verr(c, TC_EINVAL, pkey(p, sizeof p, path, key),
		                  "must be a list of 1 to %d items", STIX_INCIDENT_LIST_MAX);
	*out = v;
	return TC_OK;
}

/* The incident extension (STIX_EXT_INCIDENT). */
static enum tcerr
chk_incident(struct stix__vctx *c, const json_t *o, const json_t *e, const char *path)
{
	static const char *const severities[] = {"low", "medium", "high", "critical", NULL};
	static const char *const statuses[] = {"open", "investigating", "contained", "resolved",
	                                       "closed", NULL};
	/* = reg_sector_name()'s names (lib/registry; lib/stix cannot depend on it) */
	static const char *const sectors[] = {"telecom", "finance", "internet", "government",
	                                      "law-enforcement", "cert",
	                                      "critical-infrastructure", "other", NULL};
	char p[STIX_PROP_PATH_MAX], q[STIX_PROP_PATH_MAX + 32];
	const char *type = json_string_value(json_object_get(o, "type"));
	const json_t *v, *list;
	size_t tl;
	enum tcerr rc;
	if (!type || strcmp(type, "incident") != 0)
		return stix__verr(c, TC_EINVAL, path, "the incident extension is for incidents only");
	v = json_object_get(e, "extension_type");
	if (strcmp(json_string_value(v), "property-extension") != 0)
		return stix__verr(c, TC_EINVAL, pkey(p, sizeof p, path, "extension_type"),
		                  "must be property-extension");
	v = json_object_get(e, "severity");
	if (!json_is_string(v) || !str_in(json_string_value(v), severities))
		return stix__verr(c, TC_EINVAL, pkey(p, sizeof p, path, "severity"),
		                  "must be low, medium, high or critical");
	v = json_object_get(e, "status");
	if (!json_is_string(v) || !str_in(json_string_value(v), statuses))
		return stix__verr(c, TC_EINVAL, pkey(p, sizeof p, path, "status"),
		                  "must be open, investigating, contained, resolved or closed");
	if ((rc = incident_list(c, e, path, "affected_sectors", &list)))
		return rc;
	for (size_t i = 0; list && i < json_array_size(list); i++) {
		v = json_array_get(list, i);
		snprintf(q, sizeof q, "%s.affected_sectors[%zu]", path, i);
		if (!json_is_string(v) || !str_in(json_string_value(v), sectors))
			return stix__verr(c, TC_EINVAL, q, "must be a sector: telecom, finance, "
			                  "internet, government, law-enforcement, cert, "
			                  "critical-infrastructure or other");
	}
	if ((rc = incident_list(c, e, path, "affected_organization_refs", &list)))
		return rc;
	for (size_t i = 0; list && i < json_array_size(list); i++) {
		v = json_array_get(list, i);
		snprintf(q, sizeof q, "%s.affected_organization_refs[%zu]", path, i);
		if (!json_id(v, &tl) || !id_is_type(v, tl, "identity"))
			return stix__verr(c, TC_EINVAL, q, "must be an identity id");
	}
	if ((rc = incident_list(c, e, path, "timeline", &list)))
		return rc;
	for (size_t i = 0; list && i < json_array_size(list); i++) {
		const json_t *t = json_array_get(list, i);
		int64_t us;
		int frac;
		snprintf(q, sizeof q, "%s.timeline[%zu]", path, i);
		if (!json_is_object(t))
			return stix__verr(c, TC_EINVAL, q, "must be {\"at\", \"event\"[, \"by_ref\"]}");
		v = json_object_get(t, "at");
		if (!json_is_string(v) || ts_parse(slice_from_cstr(json_string_value(v)), &us, &frac))
			return stix__verr(c, TC_EINVAL, q, "at: must be a timestamp");
		v = json_object_get(t, "event");
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > STIX_INCIDENT_TEXT_MAX)
			return stix__verr(c, TC_EINVAL, q, "event: must be a text of 1 to %d bytes",
			                  STIX_INCIDENT_TEXT_MAX);
		v = json_object_get(t, "by_ref");
		if (v && (!json_id(v, &tl) || !id_is_type(v, tl, "identity")))
			return stix__verr(c, TC_EINVAL, q, "by_ref: must be an identity id");
	}
	return TC_OK;
}

static enum tcerr
chk_extensions(struct stix__vctx *c, const json_t *o)
{
	static const char *const ext_types[] = {
	    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension",
	    NULL};
	const json_t *v = json_object_get(o, "extensions");
	char p[STIX_PROP_PATH_MAX];
	const char *key;
	size_t klen, tl;
	json_t *e;
	if (!v)
		return TC_OK;
	if (!json_is_object(v) || json_object_size(v) == 0)
		return stix__verr(c, TC_EINVAL, "extensions", "must be a non-empty dictionary");
	json_object_keylen_foreach((json_t *)v, key, klen, e)
	{
		pkey(p, sizeof(p), "extensions", key);
		if (stix_id_valid(slice_make(key, klen), &tl)) {
			if (tl != sizeof("extension-definition") - 1 ||
			    memcmp(key, "extension-definition", tl) != 0)
				return stix__verr(
				    c, TC_EINVAL, p,
				    "extension key must be an extension-definition id");
			/* §7.3: the value is an object with extension_type. */
			if (!json_is_object(e))
				return stix__verr(c, TC_EINVAL, p, "must be an object");
			const json_t *et = json_object_get(e, "extension_type");
			if (!et)
				return stix__verr(c, TC_EINVAL, p,
				                  "extension_type: required property missing");
			if (!json_is_string(et) || !str_in(json_string_value(et), ext_types))
				return stix__verr(
				    c, TC_EINVAL, p,
				    "extension_type: must be new-sdo, new-sco, new-sro, "
				    "property-extension or toplevel-property-extension");
			if (klen == sizeof(STIX_EXT_DISTRIBUTION) - 1 &&
			    memcmp(key, STIX_EXT_DISTRIBUTION, klen) == 0) {
				enum tcerr rc = chk_recipients(c, e, p);
				if (rc)
					return rc;
			}
			if (klen == sizeof(STIX_EXT_INCIDENT) - 1 &&
			    memcmp(key, STIX_EXT_INCIDENT, klen) == 0) {
				enum tcerr rc = chk_incident(c, o, e, p);
				if (rc)
					return rc;
			}
			continue;
		}
		if (!str_in(key, sco_exts))
			return stix__verr(c, TC_EINVAL, p,
			                  "unknown extension (not an extension-definition id nor a "
			                  "predefined SCO extension)");
		if (!json_is_object(e) || json_object_size(e) == 0)
			return stix__verr(c, TC_EINVAL, p, "must be a non-empty object");
	}
	return TC_OK;
}

/* Checks every top-level property by its name: naming rules, _ref/_refs,
 * _hex/_bin encodings, hashes, timestamps of predefined types. */
static enum tcerr
chk_props(struct stix__vctx *c, const json_t *o, bool predefined)
{
	const char *key;
	size_t klen, tl;
	json_t *v;
	char p[STIX_PROP_PATH_MAX];
	enum tcerr rc;

	json_object_keylen_foreach((json_t *)o, key, klen, v)
	{
		if (!prop_name_valid(key, klen))
			return stix__verr(
			    c, TC_EINVAL, key,
			    "property names must be 3-250 characters a-z, A-Z, 0-9, _");
		if (ends_with(key, klen, "_ref", 4)) {
			if (!json_id(v, &tl))
				return stix__verr(c, TC_EINVAL, key, "%s", bad_id_msg(v));
		} else if (ends_with(key, klen, "_refs", 5)) {
			size_t n = json_array_size(v);
			if (!json_is_array(v) || n == 0)
				return stix__verr(c, TC_EINVAL, key,
				                  "must be a non-empty list of identifiers");
			for (size_t i = 0; i < n; i++)
				if (!json_id(json_array_get(v, i), &tl))
					return stix__verr(c, TC_EINVAL,
					                  pidx(p, sizeof(p), key, i, NULL), "%s",
					                  bad_id_msg(json_array_get(v, i)));
		} else if (ends_with(key, klen, "_hex", 4)) {
			/* hex.json: ^([a-fA-F0-9]{2})+$ */
			const char *s = json_string_value(v);
			size_t sl = json_string_length(v);
			bool ok = json_is_string(v) && sl > 0 && sl % 2 == 0;
			for (size_t i = 0; ok && i < sl; i++)
				ok = is_hex(s[i]);
			if (!ok)
				return stix__verr(c, TC_EINVAL, key,
				                  "must be an even number of hexadecimal digits");
		} else if (ends_with(key, klen, "_bin", 4)) {
			/* binary.json: RFC 4648 base64 with padding */
			const char *s = json_string_value(v);
			size_t sl = json_string_length(v);
			bool ok = json_is_string(v) && sl % 4 == 0;
			for (size_t i = 0; ok && i < sl; i++) {
				char ch = s[i];
				bool pad =
				    ch == '=' && i + 2 >= sl && (i + 1 == sl || s[i + 1] == '=');
				ok = pad || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
			}
			if (!ok)
				return stix__verr(c, TC_EINVAL, key, "must be base64 (RFC 4648)");
		} else if (klen == 6 && memcmp(key, "hashes", 6) == 0) {
			if ((rc = check_hashes(c, v, key)))
				return rc;
		} else if (predefined && is_ts_prop(key)) {
			if ((rc = want_ts(c, o, key, false, false, NULL, NULL)))
				return rc;
		}
	}
	return TC_OK;
}

/* Types STIX 2.0 defines as top-level objects (SDOs, SROs, the marking
 * definition; SCOs only live inside observed-data there), and custom
 * types. */
static bool
v20_type(const char *type, enum stix_class cls)
{
	static const char *const v20[] = {
	    "attack-pattern", "campaign",   "course-of-action", "identity", "indicator",
	    "intrusion-set",  "malware",    "observed-data",    "report",   "threat-actor",
	    "tool",           "vulnerability", "relationship",  "sighting", "marking-definition",
	    NULL};
	return cls == STIX_CLASS_CUSTOM || str_in(type, v20);
}

static void
copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

enum tcerr
stix_validate(const json_t *obj, const char *path, const struct stix_limits *lim,
              struct stix_meta *meta, struct diag *d)
{
	struct stix__vctx cx = {.path = path, .d = d, .lim = lim ? lim : &stix_default_limits};
	struct stix__vctx *c = &cx;
	const json_t *tv, *idv, *sv;
	enum tcerr rc;
	size_t tl;

	diag_clear(d);
	if (!json_is_object(obj))
		return stix__verr(c, TC_EINVAL, NULL, "must be a JSON object");

	/* type (§3.1) */
	if ((rc = req(c, obj, "type", &tv)))
		return rc;
	if (!json_is_string(tv))
		return stix__verr(c, TC_EINVAL, "type", "must be a string");
	const char *type = json_string_value(tv);
	size_t typelen = json_string_length(tv);
	if (!type_name_valid(type, typelen))
		return stix__verr(c, TC_EINVAL, "type",
		                  "invalid type name (3-250 characters a-z, 0-9, '-', starting "
		                  "with a letter)");
	const struct type_def *td = type_find(type);
	enum stix_class cls = td ? td->cls : STIX_CLASS_CUSTOM;
	if (cls == STIX_CLASS_BUNDLE)
		return stix__verr(c, TC_EINVAL, "type", "a bundle is not a STIX object");

	/* id (§2.9, identifier.json): "<type>--<uuid>", type part = type */
	if ((rc = req(c, obj, "id", &idv)))
		return rc;
	if (!json_id(idv, &tl))
		return stix__verr(c, TC_EINVAL, "id", "%s", bad_id_msg(idv));
	if (tl != typelen || memcmp(json_string_value(idv), type, tl) != 0)
		return stix__verr(c, TC_EINVAL, "id", "type part must be \"%s\"", type);

	/* Which objects are versioned: SDO, SRO, language-content,
	 * extension-definition, and custom objects that have created. */
	bool has_created = json_object_get(obj, "created") != NULL;
	bool is_marking = cls == STIX_CLASS_META && strcmp(type, "marking-definition") == 0;
	bool versioned = cls == STIX_CLASS_SDO || cls == STIX_CLASS_SRO ||
	                 (cls == STIX_CLASS_META && !is_marking) ||
	                 (cls == STIX_CLASS_CUSTOM && has_created);

	/* spec_version (§3.2): required except on SCOs; "2.1". An SDO, SRO,
	 * marking definition or custom object without it is STIX 2.0, which
	 * had no spec_version: validated by the 2.0 rules, kept as 2.0. */
	sv = json_object_get(obj, "spec_version");
	if (!sv && cls != STIX_CLASS_SCO && (cls != STIX_CLASS_CUSTOM || has_created)) {
		if (!v20_type(type, cls))
			return stix__verr(c, TC_EINVAL, "spec_version",
			                  "required property missing (and \"%s\" is no STIX 2.0 "
			                  "type)", type);
		c->v20 = true;
	}
	if (sv && (!json_is_string(sv) || strcmp(json_string_value(sv), "2.1") != 0))
		return stix__verr(c, TC_EINVAL, "spec_version", "must be \"2.1\"");
	/* STIX 2.0 (part 1 §3.1): labels required on these SDOs; identity
	 * has identity_class; report has labels too. */
	if (c->v20) {
		static const char *const labelled[] = {"indicator", "malware", "report",
		                                       "threat-actor", "tool", NULL};
		if (str_in(type, labelled) && (rc = want_string_list(c, obj, "labels", true)))
			return rc;
		if (strcmp(type, "identity") == 0 &&
		    (rc = want_string(c, obj, "identity_class", true)))
			return rc;
	}

	/* created / modified (§3.2): millisecond precision, modified >= created */
	int64_t created_us = 0, modified_us = 0;
	const char *created_txt = NULL, *modified_txt = NULL;
	if (cls != STIX_CLASS_SCO) {
		if ((rc = want_ts(c, obj, "created", versioned || is_marking, true, &created_us,
		                  &created_txt)))
			return rc;
		if ((rc =
		         want_ts(c, obj, "modified", versioned, true, &modified_us, &modified_txt)))
			return rc;
		if (created_txt && modified_txt && modified_us < created_us)
			return stix__verr(c, TC_EINVAL, "modified",
			                  "must not be earlier than created");
	}

	/* common optional properties (§3.2) */
	if ((rc = want_ref(c, obj, "created_by_ref",
	                   cls == STIX_CLASS_META && strcmp(type, "extension-definition") == 0,
	                   "identity")))
		return rc;
	if ((rc = want_bool(c, obj, "revoked", false)))
		return rc;
	if ((rc = want_string_list(c, obj, "labels", false)))
		return rc;
	if ((rc = want_int_range(c, obj, "confidence", false, 0, 100)))
		return rc;
	if ((rc = want_string(c, obj, "lang", false)))
		return rc;
	if ((rc = want_bool(c, obj, "defanged", false)))
		return rc;
	if ((rc = chk_external_references(c, obj)))
		return rc;
	if ((rc = want_refs(c, obj, "object_marking_refs", false, "marking-definition")))
		return rc;
	if ((rc = chk_granular_markings(c, obj)))
		return rc;
	if ((rc = chk_extensions(c, obj)))
		return rc;
	if ((rc = chk_props(c, obj, td != NULL)))
		return rc;
	if (td && td->check && (rc = td->check(obj, c)))
		return rc;

	if (!meta)
		return TC_OK;
	memset(meta, 0, sizeof(*meta));
	copy_text(meta->id, sizeof(meta->id), json_string_value(idv));
	copy_text(meta->type, sizeof(meta->type), type);
	meta->cls = cls;
	copy_text(meta->spec_version, sizeof(meta->spec_version), c->v20 ? "2.0" : "2.1");
	meta->created_us = created_us;
	meta->modified_us = modified_us;
	if (modified_txt) {
		copy_text(meta->version, sizeof(meta->version), modified_txt);
		meta->version_us = modified_us;
	} else if (created_txt) {
		copy_text(meta->version, sizeof(meta->version), created_txt);
		meta->version_us = created_us;
	}
	/* no statement marking is known here: other refs count as RED until
	 * the hub resolves them (stix_markings_tlp) */
	meta->tlp = stix_markings_tlp(obj, NULL, NULL, &meta->other_markings);
	meta->revoked = json_is_true(json_object_get(obj, "revoked"));
	if (td && strcmp(type, "indicator") == 0) {
		ts_parse(slice_from_cstr(json_string_value(json_object_get(obj, "valid_from"))),
		         &meta->valid_from_us, NULL);
		const json_t *vu = json_object_get(obj, "valid_until");
		if (vu)
			ts_parse(slice_make(json_string_value(vu), json_string_length(vu)),
			         &meta->valid_until_us, NULL);
	}
	const json_t *conf = json_object_get(obj, "confidence");
	if (json_is_integer(conf)) {
		meta->has_confidence = true;
		meta->confidence = (int)json_integer_value(conf);
	}
	const json_t *cbr = json_object_get(obj, "created_by_ref");
	if (cbr)
		copy_text(meta->created_by_ref, sizeof(meta->created_by_ref),
		          json_string_value(cbr));
	return TC_OK;
}
