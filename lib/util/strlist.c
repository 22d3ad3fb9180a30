/*
 * strlist.c — a JSON array of strings, or one value a line (strlist.h).
 *
 * The JSON scanner accepts exactly RFC 8259's array of strings with
 * insignificant whitespace: a string's bytes are copied only when it has
 * an escape. UTF-8 is checked as in RFC 3629 (no overlong forms, no
 * surrogates, nothing above U+10FFFF); \u escapes must pair surrogates;
 * control characters must be escaped; \u0000 is refused (a value is never
 * a C string with a hole in it).
 */
#include "strlist.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/text.h"

void
strlist_init(struct strlist *l)
{
	memset(l, 0, sizeof *l);
}

void
strlist_reset(struct strlist *l)
{
	free(l->v);
	free(l->own);
	strlist_init(l);
}

/* Length of the UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

static enum tcerr
push(struct strlist *l, struct slice s, const struct strlist_limits *lim, struct diag *d)
{
	if (l->n >= lim->max_values)
		return diag_set(d, TC_ELIMIT, "more than %zu values", lim->max_values);
	if (s.len > lim->max_value_bytes)
		return diag_set(d, TC_ELIMIT, "value %zu is longer than %zu bytes", l->n,
		                lim->max_value_bytes);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct slice *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return diag_set(d, TC_ENOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return TC_OK;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_digit(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void
put_utf8(char *o, size_t *k, unsigned cp)
{
	if (cp < 0x80) {
		o[(*k)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*k)++] = (char)(0xc0 | (cp >> 6));
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		o[(*k)++] = (char)(0xe0 | (cp >> 12));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		o[(*k)++] = (char)(0xf0 | (cp >> 18));
		o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Scans the string whose opening quote is at in.p[*i]; on success *i is
 * past its closing quote and *out the value. */
static enum tcerr
scan_string(struct strlist *l, struct slice in, size_t *i, struct slice *out, struct diag *d)
{
	const unsigned char *p = (const unsigned char *)in.p;
	size_t start = ++*i, j = start;
	bool esc = false;

	/* pass 1: find the end, check everything */
	for (;;) {
		if (j >= in.len)
			return diag_set(d, TC_EINVAL, "byte %zu: unterminated string", start - 1);
		unsigned char c = p[j];
		if (c == '"')
			break;
		if (c < 0x20)
			return diag_set(d, TC_EINVAL, "byte %zu: control character in a string", j);
		if (c == '\\') {
			esc = true;
			if (j + 1 >= in.len)
				return diag_set(d, TC_EINVAL, "byte %zu: unterminated string", start - 1);
			char e = (char)p[j + 1];
			if (e == 'u') {
				int cp = j + 6 <= in.len ? hex4(in.p + j + 2) : -1;
				if (cp < 0)
					return diag_set(d, TC_EINVAL, "byte %zu: bad \\u escape", j);
				if (cp == 0)
					return diag_set(d, TC_EINVAL, "byte %zu: \\u0000 in a value", j);
				if (cp >= 0xd800 && cp <= 0xdbff) {
					int lo = j + 12 <= in.len && p[j + 6] == '\\' && p[j + 7] == 'u'
					             ? hex4(in.p + j + 8)
					             : -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return diag_set(d, TC_EINVAL,
						                "byte %zu: unpaired surrogate escape", j);
					j += 12;
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return diag_set(d, TC_EINVAL, "byte %zu: unpaired surrogate escape",
					                j);
				} else {
					j += 6;
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0')
				return diag_set(d, TC_EINVAL, "byte %zu: bad escape", j);
			j += 2;
			continue;
		}
		if (c < 0x80) {
			j++;
			continue;
		}
		size_t n = utf8_len(p + j, in.len - j);
		if (!n)
			return diag_set(d, TC_EINVAL, "byte %zu: invalid UTF-8", j);
		j += n;
	}
	*i = j + 1;
	if (!esc) {
		*out = slice_make(in.p + start, j - start);
		return TC_OK;
	}
	/* pass 2: unescape into own (sized once to the input: never moves) */
	if (!l->own) {
		if (!(l->own = malloc(in.len ? in.len : 1)))
			return diag_set(d, TC_ENOMEM, "out of memory");
		l->own_cap = in.len;
	}
	char *o = l->own + l->own_len;
	size_t k = 0;
	for (size_t x = start; x < j;) {
		if (p[x] != '\\') {
			o[k++] = (char)p[x++];
			continue;
		}
		char e = (char)p[x + 1];
		if (e == 'u') {
			unsigned cp = (unsigned)hex4(in.p + x + 2);
			x += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo = (unsigned)hex4(in.p + x + 2);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				x += 6;
			}
			put_utf8(o, &k, cp);
			continue;
		}
		o[k++] = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
		         : e == 't' ? '\t' : e;
		x += 2;
	}
	/* an escape is never shorter than what it stands for */
	l->own_len += k;
	*out = slice_make(o, k);
	return TC_OK;
}

enum tcerr
strlist_parse_json(struct strlist *l, struct slice in, const struct strlist_limits *lim,
                   struct diag *d)
{
	size_t i = 0;
	enum tcerr rc;

	l->n = 0;
	l->own_len = 0;
	if (l->own && l->own_cap < in.len) {
		free(l->own);
		l->own = NULL;
	}
	while (i < in.len && is_ws(in.p[i]))
		i++;
	if (i >= in.len || in.p[i] != '[')
		return diag_set(d, TC_EINVAL, "not a JSON array of strings");
	i++;
	for (bool first = true;; first = false) {
		while (i < in.len && is_ws(in.p[i]))
			i++;
		if (i >= in.len)
			return diag_set(d, TC_EINVAL, "byte %zu: the array does not end", i);
		if (in.p[i] == ']' && first) {
			i++;
			break;
		}
		if (!first) {
			if (in.p[i] == ']') {
				i++;
				break;
			}
			if (in.p[i] != ',')
				return diag_set(d, TC_EINVAL, "byte %zu: expected ',' or ']'", i);
			i++;
			while (i < in.len && is_ws(in.p[i]))
				i++;
		}
		if (i >= in.len || in.p[i] != '"')
			return diag_set(d, TC_EINVAL, "byte %zu: element %zu is not a string", i, l->n);
		struct slice s = { NULL, 0 };
		if ((rc = scan_string(l, in, &i, &s, d)) || (rc = push(l, s, lim, d)))
			return rc;
	}
	while (i < in.len && is_ws(in.p[i]))
		i++;
	if (i != in.len)
		return diag_set(d, TC_EINVAL, "byte %zu: data after the array", i);
	return TC_OK;
}

enum tcerr
strlist_parse_lines(struct strlist *l, struct slice in, const struct strlist_limits *lim,
                    struct diag *d)
{
	size_t line = 0;
	enum tcerr rc;

	l->n = 0;
	l->own_len = 0;
	for (size_t i = 0; i < in.len;) {
		const char *nl = memchr(in.p + i, '\n', in.len - i);
		size_t end = nl ? (size_t)(nl - in.p) : in.len;
		struct slice s = slice_trim(slice_make(in.p + i, end - i));
		line++;
		i = end + 1;
		if (!s.len)
			continue;
		if (memchr(s.p, '\0', s.len))
			return diag_set(d, TC_EINVAL, "line %zu: NUL byte", line);
		for (size_t k = 0; k < s.len;) {
			size_t n = utf8_len((const unsigned char *)s.p + k, s.len - k);
			if (!n)
				return diag_set(d, TC_EINVAL, "line %zu: invalid UTF-8", line);
			k += n;
		}
		if ((rc = push(l, s, lim, d)))
			return rc;
	}
	return TC_OK;
}

/* Percent-decodes s into out (room for s.len bytes). Returns the length,
 * or -1 for a bad escape. */
static long
pct_decode(struct slice s, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] != '%') {
			out[k++] = s.p[i];
			continue;
		}
		if (i + 2 >= s.len)
			return -1;
		int hi = hex_digit(s.p[i + 1]);
		int lo = hex_digit(s.p[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[k++] = (char)(hi * 16 + lo);
		i += 2;
	}
	return (long)k;
}

enum tcerr
strlist_parse_query(struct strlist *l, struct slice q, const struct strlist_limits *lim,
                    size_t max_params, bool values, struct slice *kind, struct diag *d)
{
	size_t nparams = 0;
	enum tcerr rc;

	l->n = 0;
	l->own_len = 0;
	*kind = slice_make(NULL, 0);
	if (l->own && l->own_cap < q.len) {
		free(l->own);
		l->own = NULL;
	}
	if (!l->own) {
		if (!(l->own = malloc(q.len ? q.len : 1)))
			return diag_set(d, TC_ENOMEM, "out of memory");
		l->own_cap = q.len;
	}
	for (size_t i = 0; i < q.len;) {
		const char *amp = memchr(q.p + i, '&', q.len - i);
		size_t end = amp ? (size_t)(amp - q.p) : q.len;
		struct slice kv = slice_make(q.p + i, end - i);
		i = end + 1;
		if (!kv.len)
			continue;
		if (++nparams > max_params)
			return diag_set(d, TC_ELIMIT, "more than %zu query parameters", max_params);
		const char *eq = memchr(kv.p, '=', kv.len);
		struct slice key = slice_make(kv.p, eq ? (size_t)(eq - kv.p) : kv.len);
		struct slice raw = eq ? slice_make(eq + 1, kv.len - key.len - 1) : slice_make("", 0);
		char *o = l->own + l->own_len;
		long n = pct_decode(raw, o);
		if (n < 0)
			return diag_set(d, TC_EINVAL, "a parameter holds a bad %%-escape");
		struct slice val = slice_make(o, (size_t)n);
		l->own_len += (size_t)n;
		if (slice_eq_cstr(key, "kind")) {
			*kind = val;
			continue;
		}
		if (!slice_eq_cstr(key, "value")) {
			bool printable = text_printable(key, NULL);
			return diag_set(d, TC_EINVAL,
			                "unknown parameter \"%.*s\" (the lookup API takes value and "
			                "kind)",
			                printable ? (int)(key.len > 40 ? 40 : key.len) : 1,
			                printable ? key.p : "?");
		}
		if (!values)
			return diag_set(d, TC_EINVAL,
			                "POST takes its values in the body; the query may name kind "
			                "only");
		if (l->n >= lim->max_values)
			return diag_set(d, TC_ELIMIT, "more than %zu values in one query: POST them",
			                lim->max_values);
		if (val.len > lim->max_value_bytes)
			return diag_set(d, TC_ELIMIT, "value %zu is longer than %zu bytes", l->n,
			                lim->max_value_bytes);
		if (!text_printable(val, NULL))
			return diag_set(d, TC_EINVAL, "value %zu is not printable UTF-8", l->n);
		if ((rc = push(l, val, lim, d)))
			return rc;
	}
	return TC_OK;
}
