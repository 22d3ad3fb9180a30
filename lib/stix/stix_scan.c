/*
 * stix_scan.c — the resumable skeleton scanner of a bundle or envelope
 * (see stix_scan.h). Invariant: between calls the scanner's state and
 * s->pos describe exactly the input before pos; everything it still needs
 * lies at or after stix_scan_keep(), so a caller that drops the bytes
 * before it loses nothing. Inside an element the scan is byte by byte
 * outside strings (depth counted over {} and [], a backslash in a string
 * escaping the next byte, RFC 8259 §7) and memchr() inside strings; keys
 * and the bytes between tokens are re-read from their start when the input
 * arrives in pieces, which their bounds (STIX_SCAN_KEY_MAX, max_member)
 * keep cheap.
 */
#include "stix_scan.h"

#include <jansson.h>
#include <stdarg.h>
#include <string.h>

const struct stix_scan_limits stix_scan_default_limits = {
	.max_object = STIX_SCAN_MAX_OBJECT,
	.max_depth = STIX_SCAN_MAX_DEPTH,
	.max_member = STIX_SCAN_MAX_MEMBER,
};

enum state {
	S_BEGIN = 0,   /* before '{' */
	S_KEY_FIRST,   /* after '{': a key or '}' */
	S_KEY,         /* after ',': a key */
	S_MEMBER,      /* inside the value of a member other than objects */
	S_ELEM_FIRST,  /* after '[' of objects: an element or ']' */
	S_ELEM_NEXT,   /* after ',' in objects: an element */
	S_ELEM,        /* inside an element */
	S_AFTER_ELEM,  /* after an element: ',' or ']' */
	S_AFTER_MEMBER,/* after a member: ',' or '}' */
	S_TAIL,        /* after the closing '}': whitespace only */
	S_END,
	S_ERROR,
};

enum vkind { V_BRACKET = 1, V_STRING, V_SCALAR };

static bool
is_ws(char c)
{
	/* RFC 8259 §2: the four insignificant whitespace bytes */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
stix_scan_init(struct stix_scan *s, const struct stix_scan_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->lim = lim ? *lim : stix_scan_default_limits;
	if (!s->lim.max_object)
		s->lim.max_object = STIX_SCAN_MAX_OBJECT;
	if (!s->lim.max_depth)
		s->lim.max_depth = STIX_SCAN_MAX_DEPTH;
	if (!s->lim.max_member)
		s->lim.max_member = STIX_SCAN_MAX_MEMBER;
	s->state = S_BEGIN;
}

size_t
stix_scan_keep(const struct stix_scan *s)
{
	if ((s->state == S_MEMBER || s->state == S_ELEM) && !s->skip)
		return s->start;
	return s->pos;
}

void
stix_scan_drop(struct stix_scan *s, size_t n)
{
	s->pos -= n;
	if (s->start >= n)
		s->start -= n;
	else
		s->start = 0;
	if (s->off >= n)
		s->off -= n;
	s->dropped += n;
}

static enum stix_scan_ev __attribute__((format(printf, 3, 4)))
fail(struct stix_scan *s, struct diag *d, const char *fmt, ...)
{
	va_list ap;
	s->state = S_ERROR;
	va_start(ap, fmt);
	diag_vset(d, TC_EINVAL, fmt, ap);
	va_end(ap);
	return STIX_SCAN_ERROR;
}

/* Skips whitespace from s->pos. Returns true when a byte follows. */
static bool
skip_ws(struct stix_scan *s, struct slice b)
{
	while (s->pos < b.len && is_ws(b.p[s->pos]))
		s->pos++;
	return s->pos < b.len;
}

/* Starts scanning the value whose first byte is b.p[s->pos]. */
static void
value_start(struct stix_scan *s, struct slice b)
{
	char c = b.p[s->pos];
	s->start = s->pos;
	s->depth = 0;
	s->maxdepth = 0;
	s->in_str = false;
	s->esc = false;
	s->vws = false;
	s->skip = false;
	if (c == '{' || c == '[') {
		s->vkind = V_BRACKET;
		s->depth = s->maxdepth = 1;
		s->pos++;
	} else if (c == '"') {
		s->vkind = V_STRING;
		s->in_str = true;
		s->pos++;
	} else {
		s->vkind = V_SCALAR;
	}
}

/* Inside a string from s->pos: to the closing quote (true) or the end of
 * the buffer (false), keeping track of a backslash cut from what it
 * escapes. */
static bool
string_on(struct stix_scan *s, struct slice b)
{
	for (;;) {
		const char *q = memchr(b.p + s->pos, '"', b.len - s->pos);
		size_t end = q ? (size_t)(q - b.p) : b.len, k = end;
		while (k > s->pos && b.p[k - 1] == '\\')
			k--;
		size_t run = end - k;
		if (k == s->pos && s->esc)
			run++;
		if (!q) {
			s->esc = (run & 1) != 0;
			s->pos = b.len;
			return false;
		}
		s->pos = end + 1;
		s->esc = false;
		if ((run & 1) == 0) {
			s->in_str = false;
			return true;
		}
	}
}

static int value_run(struct stix_scan *s, struct slice b, size_t limit);

/* Scans the value started by value_start() on. Returns 1 when it is
 * complete (s->pos just after it), 0 when the buffer ran out first. In
 * skip mode (s->skip) the bytes are not kept. limit: bytes after which
 * the value is skipped (elements) or 0 for none. */
static int
value_on(struct stix_scan *s, struct slice b, size_t limit)
{
	int r = value_run(s, b, limit);
	/* skipped exactly when longer than limit, however the input was cut */
	if (r && limit && s->pos - s->start > limit)
		s->skip = true;
	return r;
}

static int
value_run(struct stix_scan *s, struct slice b, size_t limit)
{
	for (;;) {
		if (limit && !s->skip && s->pos - s->start > limit)
			s->skip = true;
		if (s->in_str) {
			if (!string_on(s, b))
				return 0;
			if (s->vkind == V_STRING)
				return 1;
			continue;
		}
		if (s->vkind == V_SCALAR) {
			while (s->pos < b.len) {
				char c = b.p[s->pos];
				if (c == ',' || c == ']' || c == '}' || is_ws(c))
					return 1;
				s->pos++;
				if (limit && !s->skip && s->pos - s->start > limit)
					s->skip = true;
			}
			return 0;
		}
		/* V_BRACKET, outside strings: up to the next quote at most */
		while (s->pos < b.len) {
			char c = b.p[s->pos++];
			if (c == '"') {
				s->in_str = true;
				break;
			}
			if (c == '{' || c == '[') {
				if (++s->depth > s->maxdepth)
					s->maxdepth = s->depth;
			} else if (c == '}' || c == ']') {
				if (--s->depth == 0)
					return 1;
			} else if (is_ws(c)) {
				s->vws = true;
			}
		}
		if (!s->in_str)
			return 0;
	}
}

/* Reads "key" : and the first byte of the value, from s->pos (after any
 * whitespace). Returns 1 done (s->pos at the value's first byte), 0 more
 * input needed (s->pos unchanged), -1 error (reported). */
static int
key_on(struct stix_scan *s, struct slice b, bool eof, struct diag *d)
{
	size_t i = s->pos, kstart = i;
	uint64_t at = s->dropped + i;
	bool plain = true;

	if (b.p[i] != '"') {
		fail(s, d, "byte %llu: expected a key (a string)", (unsigned long long)(at));
		return -1;
	}
	for (i++;; i++) {
		if (i >= b.len)
			goto more;
		if (i - kstart > STIX_SCAN_KEY_MAX * 6 + 2) {
			fail(s, d, "byte %llu: a key longer than 128 bytes", (unsigned long long)(at));
			return -1;
		}
		unsigned char c = (unsigned char)b.p[i];
		if (c == '\\') {
			plain = false;
			i++;
			continue;
		}
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x80)
			plain = false;
	}
	size_t kend = i + 1; /* after the closing quote */
	if (plain) {
		size_t n = kend - kstart - 2;
		if (n > STIX_SCAN_KEY_MAX) {
			fail(s, d, "byte %llu: a key longer than 128 bytes", (unsigned long long)(at));
			return -1;
		}
		memcpy(s->key, b.p + kstart + 1, n);
		s->key[n] = '\0';
		s->key_escaped = false;
	} else {
		json_error_t je;
		json_t *k = json_loadb(b.p + kstart, kend - kstart, JSON_DECODE_ANY, &je);
		size_t n = k ? json_string_length(k) : 0;
		if (!json_is_string(k) || n > STIX_SCAN_KEY_MAX ||
		    memchr(json_string_value(k), '\0', n)) {
			json_decref(k);
			fail(s, d, "byte %llu: a key that is not a valid string of at most "
			                            "128 bytes", (unsigned long long)(at));
			return -1;
		}
		memcpy(s->key, json_string_value(k), n + 1);
		json_decref(k);
		s->key_escaped = true;
	}
	for (i = kend; i < b.len && is_ws(b.p[i]); i++)
		if (i - kend > s->lim.max_member) {
			fail(s, d, "byte %llu: too much whitespace after a key", (unsigned long long)(at));
			return -1;
		}
	if (i >= b.len)
		goto more;
	if (b.p[i] != ':') {
		fail(s, d, "byte %llu: expected ':' after the key \"%s\"", (unsigned long long)(s->dropped + i), s->key);
		return -1;
	}
	for (i++; i < b.len && is_ws(b.p[i]); i++)
		if (i - kend > s->lim.max_member) {
			fail(s, d, "byte %llu: too much whitespace after a key", (unsigned long long)(at));
			return -1;
		}
	if (i >= b.len)
		goto more;
	for (size_t m = 0; m < s->nmembers; m++)
		if (strcmp(s->seen[m], s->key) == 0) {
			/* I-JSON (RFC 7493 §2.3): member names are unique */
			fail(s, d, "byte %llu: the key \"%s\" is given twice", (unsigned long long)(at), s->key);
			return -1;
		}
	if (s->nmembers == STIX_SCAN_MAX_MEMBERS) {
		fail(s, d, "byte %llu: more than 64 top-level members", (unsigned long long)(at));
		return -1;
	}
	memcpy(s->seen[s->nmembers++], s->key, sizeof(s->key));
	s->at = at;
	s->pos = i;
	return 1;
more:
	if (eof) {
		fail(s, d, "byte %llu: the input ends inside a key", (unsigned long long)(at));
		return -1;
	}
	return 0;
}

static enum stix_scan_ev scan_next(struct stix_scan *s, struct slice b, bool eof,
                                   struct diag *d);

enum stix_scan_ev
stix_scan_next(struct stix_scan *s, struct slice b, bool eof, struct diag *d)
{
	enum stix_scan_ev e = scan_next(s, b, eof, d);
	if (e == STIX_SCAN_ERROR) {
		s->off = s->pos < b.len ? s->pos : b.len;
		s->len = 0;
	}
	return e;
}

static enum stix_scan_ev
scan_next(struct stix_scan *s, struct slice b, bool eof, struct diag *d)
{
	int r;

	for (;;) {
		switch (s->state) {
		case S_END:
			return STIX_SCAN_END;
		case S_ERROR:
			return STIX_SCAN_ERROR;
		case S_BEGIN:
			if (!skip_ws(s, b))
				goto more;
			if (b.p[s->pos] != '{')
				return fail(s, d, "byte %llu: expected '{' (a JSON object)", (unsigned long long)(s->dropped + s->pos));
			s->pos++;
			s->state = S_KEY_FIRST;
			break;
		case S_KEY_FIRST:
		case S_KEY:
			if (!skip_ws(s, b))
				goto more;
			if (s->state == S_KEY_FIRST && b.p[s->pos] == '}') {
				s->pos++;
				s->state = S_TAIL;
				break;
			}
			if ((r = key_on(s, b, eof, d)) < 0)
				return STIX_SCAN_ERROR;
			if (r == 0)
				return STIX_SCAN_MORE;
			if (strcmp(s->key, "objects") == 0 && b.p[s->pos] == '[') {
				s->pos++;
				s->next_index = 0;
				s->state = S_ELEM_FIRST;
				return STIX_SCAN_OBJECTS;
			}
			value_start(s, b);
			s->state = S_MEMBER;
			break;
		case S_MEMBER:
			r = value_on(s, b, 0);
			if (s->pos - s->start > s->lim.max_member)
				return fail(s, d, "byte %llu: the member \"%s\" is too long", (unsigned long long)(s->at), s->key);
			if (!r)
				goto more;
			if (s->vkind == V_SCALAR && s->pos == s->start)
				return fail(s, d, "byte %llu: expected a value after the key \"%s\"", (unsigned long long)(s->at), s->key);
			s->off = s->start;
			s->len = s->pos - s->start;
			s->state = S_AFTER_MEMBER;
			return STIX_SCAN_MEMBER;
		case S_ELEM_FIRST:
		case S_ELEM_NEXT:
			if (!skip_ws(s, b))
				goto more;
			if (s->state == S_ELEM_FIRST && b.p[s->pos] == ']') {
				s->pos++;
				s->state = S_AFTER_MEMBER;
				break;
			}
			s->at = s->dropped + s->pos;
			s->index = s->next_index;
			value_start(s, b);
			s->state = S_ELEM;
			break;
		case S_ELEM:
			if (!value_on(s, b, s->lim.max_object))
				goto more;
			if (s->vkind == V_SCALAR && s->pos == s->start && !s->skip) {
				s->state = S_ERROR;
				diag_set(d, TC_EINVAL, "byte %llu: objects[%zu]: expected a value",
				         (unsigned long long)s->at, s->index);
				return STIX_SCAN_ERROR;
			}
			s->next_index++;
			s->state = S_AFTER_ELEM;
			if (s->skip || s->maxdepth > s->lim.max_depth) {
				s->too_deep = !s->skip;
				s->off = s->pos;
				s->len = 0;
				return STIX_SCAN_SKIPPED;
			}
			s->off = s->start;
			s->len = s->pos - s->start;
			s->ws = s->vws;
			return STIX_SCAN_ELEMENT;
		case S_AFTER_ELEM:
			if (!skip_ws(s, b))
				goto more;
			if (b.p[s->pos] == ',') {
				s->pos++;
				s->state = S_ELEM_NEXT;
			} else if (b.p[s->pos] == ']') {
				s->pos++;
				s->state = S_AFTER_MEMBER;
			} else {
				s->state = S_ERROR;
				diag_set(d, TC_EINVAL, "byte %llu: expected ',' or ']' after objects[%zu]",
				         (unsigned long long)(s->dropped + s->pos), s->next_index - 1);
				return STIX_SCAN_ERROR;
			}
			break;
		case S_AFTER_MEMBER:
			if (!skip_ws(s, b))
				goto more;
			if (b.p[s->pos] == ',') {
				s->pos++;
				s->state = S_KEY;
			} else if (b.p[s->pos] == '}') {
				s->pos++;
				s->state = S_TAIL;
			} else {
				return fail(s, d, "byte %llu: expected ',' or '}' after a member", (unsigned long long)(s->dropped + s->pos));
			}
			break;
		case S_TAIL:
			if (skip_ws(s, b))
				return fail(s, d, "byte %llu: text after the end of the document", (unsigned long long)(s->dropped + s->pos));
			if (!eof)
				return STIX_SCAN_MORE;
			s->state = S_END;
			return STIX_SCAN_END;
		}
	}
more:
	if (!eof)
		return STIX_SCAN_MORE;
	if (s->state == S_ELEM)
		diag_set(d, TC_EINVAL, "objects[%zu]: the input ends inside this element (byte %llu)",
		         s->index, (unsigned long long)s->at);
	else if (s->state == S_MEMBER)
		diag_set(d, TC_EINVAL, "byte %llu: the input ends inside the member \"%s\"",
		         (unsigned long long)s->at, s->key);
	else if (s->state == S_ELEM_FIRST || s->state == S_ELEM_NEXT || s->state == S_AFTER_ELEM)
		diag_set(d, TC_EINVAL, "objects[%zu]: the input ends here, before the array does",
		         s->next_index);
	else
		diag_set(d, TC_EINVAL, "byte %llu: the input ends before the document does",
		         (unsigned long long)(s->dropped + s->pos));
	s->state = S_ERROR;
	return STIX_SCAN_ERROR;
}

size_t
stix_scan_compact(struct slice span, char *out)
{
	const char *p = span.p, *end = p + span.len;
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
