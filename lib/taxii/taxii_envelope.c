/*
 * taxii_envelope.c — the skeleton scanner of a POST envelope (see
 * taxii_envelope.h). Invariant: when it returns TC_OK, the body is the
 * skeleton {"objects":[E1,…,En]} with JSON whitespace between tokens and
 * each Ei a span that starts with '{' and ends with the '}' closing it
 * (depth counted over {} and [] outside strings, a backslash in a string
 * escaping the next byte); so the body is valid JSON exactly when every
 * Ei is (RFC 8259 §2, §4, §5).
 */
#include "taxii_envelope.h"

#include <stdlib.h>
#include <string.h>

#define ENVELOPE_SPANS_FIRST 64 /* spans allocated before the first growth */

static bool
is_ws(char c)
{
	/* RFC 8259 §2: the four insignificant whitespace bytes */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_ws(struct slice b, size_t i)
{
	while (i < b.len && is_ws(b.p[i]))
		i++;
	return i;
}

/* Scans the object starting at b.p[i] == '{'. Returns the offset after its
 * closing brace, or 0 when the input ends first or brackets go below
 * zero. *ws: whitespace outside strings was seen. */
static size_t
scan_object(struct slice b, size_t i, bool *ws)
{
	size_t depth = 0;
	*ws = false;
	while (i < b.len) {
		char c = b.p[i++];
		switch (c) {
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return 0;
			if (--depth == 0)
				return i;
			break;
		case '"':
			/* to the first quote not escaped: preceded by an even
			 * run of backslashes (memchr: strings are most of it) */
			for (;;) {
				const char *q = memchr(b.p + i, '"', b.len - i);
				if (!q)
					return 0;
				size_t j = (size_t)(q - b.p), k = j;
				while (k > i && b.p[k - 1] == '\\')
					k--;
				i = j + 1;
				if (((j - k) & 1) == 0)
					break;
			}
			break;
		default:
			if (is_ws(c))
				*ws = true;
		}
	}
	return 0;
}

enum tcerr
taxii_envelope_scan(struct slice b, size_t max, struct taxii_span **spans, size_t *n)
{
	static const char key[] = "\"objects\"";
	struct taxii_span *sp = NULL;
	size_t cap = 0, cnt = 0, i;
	enum tcerr rc = TC_EINVAL;

	*spans = NULL;
	*n = 0;
	i = skip_ws(b, 0);
	if (i >= b.len || b.p[i] != '{')
		goto out;
	i = skip_ws(b, i + 1);
	if (b.len - i < sizeof(key) - 1 || memcmp(b.p + i, key, sizeof(key) - 1) != 0)
		goto out;
	i = skip_ws(b, i + sizeof(key) - 1);
	if (i >= b.len || b.p[i] != ':')
		goto out;
	i = skip_ws(b, i + 1);
	if (i >= b.len || b.p[i] != '[')
		goto out;
	for (;;) {
		i = skip_ws(b, i + 1); /* past '[' or ',' */
		if (i >= b.len || b.p[i] != '{')
			goto out;
		if (cnt == max) {
			rc = TC_ELIMIT;
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : ENVELOPE_SPANS_FIRST;
			struct taxii_span *p = realloc(sp, ncap * sizeof(*p));
			if (!p) {
				rc = TC_ENOMEM;
				goto out;
			}
			sp = p;
			cap = ncap;
		}
		bool ws;
		size_t end = scan_object(b, i, &ws);
		if (!end)
			goto out;
		sp[cnt++] = (struct taxii_span){i, end - i, ws};
		i = skip_ws(b, end);
		if (i >= b.len)
			goto out;
		if (b.p[i] == ']')
			break;
		if (b.p[i] != ',')
			goto out;
	}
	i = skip_ws(b, i + 1);
	if (i >= b.len || b.p[i] != '}')
		goto out;
	if (skip_ws(b, i + 1) != b.len)
		goto out;
	*spans = sp;
	*n = cnt;
	return TC_OK;
out:
	free(sp);
	return rc;
}

size_t
taxii_envelope_compact(struct slice b, const struct taxii_span *s, char *out)
{
	const char *p = b.p + s->off, *end = p + s->len;
	size_t o = 0;
	while (p < end) {
		char c = *p++;
		if (is_ws(c))
			continue;
		out[o++] = c;
		if (c != '"')
			continue;
		while (p < end && *p != '"') {
			if (*p == '\\' && p + 1 < end)
				out[o++] = *p++;
			out[o++] = *p++;
		}
		if (p < end)
			out[o++] = *p++;
	}
	return o;
}
