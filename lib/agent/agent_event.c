/*
 * agent_event.c — the decoder of a decision event's data (agent_set.h,
 * agent_event_parse), the one parser tocsin-agent runs on every event the
 * hub sends: a million of them at an initial load, where a general JSON
 * parser building a tree was a quarter of the agent's CPU.
 *
 * It reads one JSON object (RFC 8259) in one pass and keeps only the
 * members a decision needs (kind, value, action, until, confidence, tlp);
 * every other member is checked and skipped, never built. It is as strict
 * as a full parser: the grammar, string escapes (\uXXXX with surrogate
 * pairs), UTF-8, nesting (AGENT_EVENT_DEPTH_MAX), numbers, a member named
 * twice among the kept ones, and nothing after the object are all
 * checked, and every failure is TC_EINVAL with what was wrong.
 */
#include "agent_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timestamp.h"

#define AGENT_EVENT_DEPTH_MAX 32  /* nesting of the members skipped */
#define AGENT_EVENT_WORD_MAX 64   /* bytes of kind, action, until, tlp and member names kept */

struct rd {
	const unsigned char *p, *end;
	const char *err; /* the first error, static text */
};

static bool
bad(struct rd *r, const char *why)
{
	if (!r->err)
		r->err = why;
	return false;
}

static void
ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
hex4(struct rd *r, unsigned *out)
{
	if (r->end - r->p < 4)
		return bad(r, "a cut \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->p[i]);
		if (h < 0)
			return bad(r, "a bad \\u escape");
		v = v << 4 | (unsigned)h;
	}
	r->p += 4;
	*out = v;
	return true;
}

/* The length of the UTF-8 sequence at p (at most n bytes), 0 if invalid
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends code point cp as UTF-8 to out (room checked by the caller). */
static size_t
put_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Reads a string (at its '"'). With out, decodes it into out (cap bytes,
 * NUL-terminated, *n its length; a string longer than cap - 1 is
 * TOO_LONG, which the caller judges); without, only checks it. A \u0000
 * is refused where it is kept (out). */
enum str_res { STR_OK, STR_BAD, STR_TOO_LONG };

static enum str_res
string(struct rd *r, char *out, size_t cap, size_t *n)
{
	size_t k = 0;
	bool too_long = false;
	if (r->p >= r->end || *r->p != '"')
		return bad(r, "a string was expected"), STR_BAD;
	r->p++;
	for (;;) {
		if (r->p >= r->end)
			return bad(r, "an unterminated string"), STR_BAD;
		unsigned char c = *r->p;
		char tmp[4];
		size_t tn;
		if (c == '"') {
			r->p++;
			break;
		}
		if (c < 0x20)
			return bad(r, "a control byte in a string"), STR_BAD;
		if (c == '\\') {
			r->p++;
			if (r->p >= r->end)
				return bad(r, "a cut escape"), STR_BAD;
			unsigned char e = *r->p++;
			unsigned cp;
			switch (e) {
			case '"': case '\\': case '/':
				cp = e;
				break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (!hex4(r, &cp))
					return STR_BAD;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;
					if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
						return bad(r, "a lone surrogate escape"), STR_BAD;
					r->p += 2;
					if (!hex4(r, &lo))
						return STR_BAD;
					if (lo < 0xdc00 || lo > 0xdfff)
						return bad(r, "a lone surrogate escape"), STR_BAD;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return bad(r, "a lone surrogate escape"), STR_BAD;
				}
				if (cp == 0 && out)
					return bad(r, "a NUL in a string"), STR_BAD;
				break;
			default:
				return bad(r, "a bad escape"), STR_BAD;
			}
			tn = put_utf8(cp, tmp);
		} else {
			tn = utf8_len(r->p, (size_t)(r->end - r->p));
			if (!tn)
				return bad(r, "invalid UTF-8 in a string"), STR_BAD;
			memcpy(tmp, r->p, tn);
			r->p += tn;
		}
		if (out && !too_long) {
			if (k + tn >= cap)
				too_long = true;
			else {
				memcpy(out + k, tmp, tn);
				k += tn;
			}
		}
	}
	if (out) {
		out[too_long ? 0 : k] = '\0';
		*n = too_long ? 0 : k;
	}
	return too_long ? STR_TOO_LONG : STR_OK;
}

/* Reads a number; *is_int with *iv when it has neither fraction nor
 * exponent and fits in an int64 (a larger integer is an error, as the
 * hub never sends one). */
static bool
number(struct rd *r, bool *is_int, long long *iv)
{
	bool neg = false, integral = true;
	unsigned long long v = 0;
	bool overflow = false;
	if (r->p < r->end && *r->p == '-') {
		neg = true;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return bad(r, "a bad number");
	if (*r->p == '0') {
		r->p++;
	} else {
		/* an int64: -2^63 .. 2^63 - 1 */
		unsigned long long lim = neg ? 0x8000000000000000ULL : 0x7fffffffffffffffULL;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			unsigned d = (unsigned)(*r->p - '0');
			if (v > (lim - d) / 10)
				overflow = true;
			else
				v = v * 10 + d;
			r->p++;
		}
	}
	if (r->p < r->end && *r->p == '.') {
		integral = false;
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "a bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		integral = false;
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return bad(r, "a bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (integral && overflow)
		return bad(r, "an integer too large");
	*is_int = integral;
	*iv = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

static bool
literal(struct rd *r, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return bad(r, "a bad literal");
	r->p += n;
	return true;
}

/* Checks and skips any value. */
static bool
skip_value(struct rd *r, int depth)
{
	bool is_int;
	long long iv;
	ws(r);
	if (r->p >= r->end)
		return bad(r, "a value was expected");
	switch (*r->p) {
	case '"':
		return string(r, NULL, 0, NULL) == STR_OK;
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	case '[':
	case '{': {
		bool obj = *r->p == '{';
		if (depth >= AGENT_EVENT_DEPTH_MAX)
			return bad(r, "nested too deep");
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
			r->p++;
			return true;
		}
		for (;;) {
			if (obj) {
				ws(r);
				if (string(r, NULL, 0, NULL) != STR_OK)
					return false;
				ws(r);
				if (r->p >= r->end || *r->p != ':')
					return bad(r, "':' was expected");
				r->p++;
			}
			if (!skip_value(r, depth + 1))
				return false;
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
				r->p++;
				return true;
			}
			return bad(r, obj ? "',' or '}' was expected" : "',' or ']' was expected");
		}
	}
	default:
		return number(r, &is_int, &iv);
	}
}

enum member { M_KIND, M_VALUE, M_ACTION, M_UNTIL, M_CONFIDENCE, M_TLP, M_OTHER };

static enum member
member_of(const char *k)
{
	static const char *const names[] = { "kind", "value", "action", "until", "confidence", "tlp" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(k, names[i]) == 0)
			return (enum member)i;
	return M_OTHER;
}

/* One kept string member into out (cap). false with r->err on error; a
 * value other than a string sets *not_string (kept members judge it). */
static bool
kept_string(struct rd *r, char *out, size_t cap, size_t *n, bool *not_string, bool *too_long)
{
	ws(r);
	*not_string = r->p >= r->end || *r->p != '"';
	*too_long = false;
	if (*not_string)
		return skip_value(r, 1);
	enum str_res sr = string(r, out, cap, n);
	if (sr == STR_BAD)
		return false;
	*too_long = sr == STR_TOO_LONG;
	return true;
}

enum tcerr
agent_event_parse(struct slice name, struct slice data, struct agent_entry *e, bool *is_add,
                  struct diag *d)
{
	char kind[AGENT_EVENT_WORD_MAX], action[AGENT_EVENT_WORD_MAX], until[AGENT_EVENT_WORD_MAX];
	char tlp[AGENT_EVENT_WORD_MAX], key[AGENT_EVENT_WORD_MAX];
	char *value = NULL;
	size_t value_len = 0, n;
	bool seen[M_OTHER] = { false };
	bool kind_str = false, value_str = false, value_long = false, action_str = false;
	bool until_str = false, until_null = false, tlp_str = false, until_long = false;
	bool conf_int = false;
	long long conf = -1;
	struct rd r = { (const unsigned char *)data.p, (const unsigned char *)data.p + data.len, NULL };
	enum tcerr t = TC_OK;
	const char *ev;

	memset(e, 0, sizeof *e);
	e->confidence = -1;
	kind[0] = action[0] = until[0] = tlp[0] = '\0';
	if (slice_eq_cstr(name, "add"))
		*is_add = true;
	else if (slice_eq_cstr(name, "remove"))
		*is_add = false;
	else
		return diag_set(d, TC_ENOTFOUND, "not a decision event");
	ev = *is_add ? "add" : "remove";
	value = malloc(OBS_VALUE_MAX + 2);
	if (!value)
		return diag_set(d, TC_ENOMEM, "out of memory");

	ws(&r);
	if (r.p >= r.end || *r.p != '{') {
		t = diag_set(d, TC_EINVAL, "%s event: not a JSON object", ev);
		goto out;
	}
	r.p++;
	ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
	} else {
		for (;;) {
			ws(&r);
			enum str_res kr = string(&r, key, sizeof key, &n);
			if (kr == STR_BAD)
				goto syntax;
			ws(&r);
			if (r.p >= r.end || *r.p != ':') {
				bad(&r, "':' was expected");
				goto syntax;
			}
			r.p++;
			enum member m = kr == STR_TOO_LONG ? M_OTHER : member_of(key);
			if (m != M_OTHER) {
				if (seen[m]) {
					bad(&r, "a member named twice");
					goto syntax;
				}
				seen[m] = true;
			}
			bool ns, tl, ok = true;
			switch (m) {
			case M_KIND:
				ok = kept_string(&r, kind, sizeof kind, &n, &ns, &tl);
				kind_str = !ns && !tl;
				break;
			case M_VALUE:
				ok = kept_string(&r, value, OBS_VALUE_MAX + 2, &value_len, &ns, &tl);
				value_str = !ns;
				value_long = tl;
				break;
			case M_ACTION:
				ok = kept_string(&r, action, sizeof action, &n, &ns, &tl);
				action_str = !ns && !tl;
				break;
			case M_UNTIL:
				ws(&r);
				until_null = r.end - r.p >= 4 && memcmp(r.p, "null", 4) == 0;
				ok = kept_string(&r, until, sizeof until, &n, &ns, &tl);
				until_str = !ns;
				until_long = tl;
				break;
			case M_TLP:
				ok = kept_string(&r, tlp, sizeof tlp, &n, &ns, &tl);
				tlp_str = !ns && !tl;
				break;
			case M_CONFIDENCE:
				ws(&r);
				if (r.p < r.end && (*r.p == '-' || (*r.p >= '0' && *r.p <= '9')))
					ok = number(&r, &conf_int, &conf);
				else
					ok = skip_value(&r, 1);
				break;
			case M_OTHER:
				ok = skip_value(&r, 1);
				break;
			}
			if (!ok)
				goto syntax;
			ws(&r);
			if (r.p < r.end && *r.p == ',') {
				r.p++;
				continue;
			}
			if (r.p < r.end && *r.p == '}') {
				r.p++;
				break;
			}
			bad(&r, "',' or '}' was expected");
			goto syntax;
		}
	}
	ws(&r);
	if (r.p != r.end) {
		bad(&r, "bytes after the object");
		goto syntax;
	}

	if (!kind_str || !value_str || obs_kind_parse(slice_from_cstr(kind), &e->kind) != TC_OK) {
		t = diag_set(d, TC_EINVAL, "%s event: no known kind or no value", ev);
		goto out;
	}
	if (value_long || value_len == 0 || value_len > OBS_VALUE_MAX) {
		t = diag_set(d, TC_EINVAL, "%s event: a bad value", ev);
		goto out;
	}
	for (size_t i = 0; i < value_len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			t = diag_set(d, TC_EINVAL, "%s event: a bad value", ev);
			goto out;
		}
	if (*is_add) {
		if (!action_str || (strcmp(action, "block") != 0 && strcmp(action, "alert") != 0)) {
			t = diag_set(d, TC_EINVAL, "add event: action is not block or alert");
			goto out;
		}
		e->alert = strcmp(action, "alert") == 0;
		if (until_str) {
			int frac;
			if (until_long || ts_parse(slice_from_cstr(until), &e->until_us, &frac) ||
			    e->until_us <= 0) {
				t = diag_set(d, TC_EINVAL, "add event: until is not a timestamp");
				goto out;
			}
		} else if (seen[M_UNTIL] && !until_null) {
			t = diag_set(d, TC_EINVAL, "add event: until is not a timestamp");
			goto out;
		}
		if (conf_int && conf >= 0 && conf <= 100)
			e->confidence = (int)conf;
		if (!tlp_str || stix_tlp_parse(tlp, &e->tlp) != TC_OK)
			e->tlp = TLP_NONE;
	}
	e->len = value_len;
	e->value = value;
	value = NULL;
	goto out;
syntax:
	t = diag_set(d, TC_EINVAL, "%s event: not a JSON object (%s at byte %zu)", ev,
	             r.err ? r.err : "a syntax error", (size_t)(r.p - (const unsigned char *)data.p));
out:
	free(value);
	return t;
}
