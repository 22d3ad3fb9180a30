/*
 * http_resp.c — the incremental HTTP/1.1 response parser (see
 * http_resp.h). Lines are gathered in r->line whatever the size of the
 * pieces fed; body bytes are counted (and the first keep_max copied), so
 * a response is framed in one pass over its bytes.
 */
#include "http_resp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
http_resp_reset(struct http_resp *r, size_t keep_max)
{
	char *body = r->body;
	size_t cap = r->body_cap;
	bool no_body = r->no_body;
	memset(r, 0, offsetof(struct http_resp, line));
	r->line_len = 0;
	r->body = body;
	r->body_cap = cap;
	r->body_len = 0;
	r->err = NULL;
	r->keep_max = keep_max;
	r->truncated = false;
	r->no_body = no_body;
	r->state = HTTP_STATUS;
	if (body)
		body[0] = '\0';
}

void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->body_cap = r->body_len = 0;
}

static int
fail(struct http_resp *r, const char *why)
{
	r->state = HTTP_ERROR;
	r->err = why;
	return -1;
}

static int
keep(struct http_resp *r, const char *p, size_t n)
{
	r->body_bytes += n;
	if (r->body_len + n > r->keep_max) {
		r->truncated = true;
		n = r->keep_max - r->body_len;
	}
	if (n == 0)
		return 0;
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (!b)
			return fail(r, "out of memory keeping the body");
		r->body = b;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/* Parses a decimal number of at most 18 digits; false if s is not one. */
static bool
parse_dec(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void
trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason] */
static int
status_line(struct http_resp *r, const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ')
		return fail(r, "malformed status line");
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (n > 12 && l[12] != ' '))
		return fail(r, "malformed status code");
	r->minor = l[7] - '0';
	r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r->close = r->minor == 0; /* HTTP/1.0: closes unless it says keep-alive */
	r->state = HTTP_HEADER;
	return 0;
}

/* Does the comma-separated list v contain token tok (case-insensitive)? */
static bool
has_token(const char *v, size_t n, const char *tok, bool last_only)
{
	size_t tl = strlen(tok);
	bool found = false;
	while (n) {
		const char *c = memchr(v, ',', n);
		size_t el = c ? (size_t)(c - v) : n;
		const char *e = v;
		size_t en = el;
		trim(&e, &en);
		bool eq = en == tl && strncasecmp(e, tok, tl) == 0;
		if (last_only)
			found = eq;
		else if (eq)
			return true;
		if (!c)
			break;
		v = c + 1;
		n -= el + 1;
	}
	return found;
}

static int
header_line(struct http_resp *r, const char *l, size_t n)
{
	if (n == 0) { /* end of the header section */
		if (r->status >= 100 && r->status < 200 && r->status != 101) {
			/* interim response: the real one follows */
			r->status = 0;
			r->chunked = r->have_length = false;
			r->headers = 0;
			r->state = HTTP_STATUS;
			return 0;
		}
		if (r->no_body || r->status == 204 || r->status == 304 ||
		    (r->status >= 100 && r->status < 200)) {
			r->state = HTTP_DONE;
		} else if (r->chunked) {
			r->state = HTTP_CHUNK_SIZE;
		} else if (r->have_length) {
			r->state = r->length ? HTTP_BODY_LEN : HTTP_DONE;
		} else {
			r->close = true;
			r->state = HTTP_BODY_EOF;
		}
		if (r->state == HTTP_DONE)
			r->done = true;
		return 0;
	}
	if (++r->headers > HTTP_HEADERS_MAX)
		return fail(r, "too many header fields");
	if (l[0] == ' ' || l[0] == '\t')
		return fail(r, "obsolete header line folding");
	const char *colon = memchr(l, ':', n);
	if (!colon || colon == l)
		return fail(r, "header line without a field name");
	size_t nl = (size_t)(colon - l);
	for (size_t i = 0; i < nl; i++)
		if (l[i] == ' ' || l[i] == '\t')
			return fail(r, "white space in a header field name");
	const char *v = colon + 1;
	size_t vn = n - nl - 1;
	trim(&v, &vn);
	if (nl == 14 && strncasecmp(l, "content-length", 14) == 0) {
		uint64_t len;
		if (!parse_dec(v, vn, &len))
			return fail(r, "bad Content-Length");
		if (r->have_length && len != r->length)
			return fail(r, "conflicting Content-Length fields");
		r->have_length = true;
		r->length = len;
	} else if (nl == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
		/* RFC 9112 §6.1: chunked must be the last coding */
		r->chunked = has_token(v, vn, "chunked", true);
		if (!r->chunked)
			return fail(r, "Transfer-Encoding other than chunked");
	} else if (nl == 10 && strncasecmp(l, "connection", 10) == 0) {
		if (has_token(v, vn, "close", false))
			r->close = true;
		else if (has_token(v, vn, "keep-alive", false))
			r->close = false;
	}
	return 0;
}

/* RFC 9112 §7.1: chunk-size [ chunk-ext ] */
static int
chunk_size_line(struct http_resp *r, const char *l, size_t n)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < n; i++) {
		char c = l[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		if (i >= 15)
			return fail(r, "chunk size too large");
		v = v * 16 + (uint64_t)d;
	}
	if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
		return fail(r, "malformed chunk size");
	r->length = v;
	r->state = v ? HTTP_CHUNK_DATA : HTTP_TRAILER;
	return 0;
}

static int
line(struct http_resp *r, const char *l, size_t n)
{
	switch (r->state) {
	case HTTP_STATUS:
		if (n == 0 && r->status == 0 && r->headers == 0)
			return 0; /* RFC 9112 §2.2: tolerate an empty line before the status */
		return status_line(r, l, n);
	case HTTP_HEADER:
		return header_line(r, l, n);
	case HTTP_CHUNK_SIZE:
		return chunk_size_line(r, l, n);
	case HTTP_CHUNK_CRLF:
		if (n != 0)
			return fail(r, "chunk data longer than its size");
		r->state = HTTP_CHUNK_SIZE;
		return 0;
	case HTTP_TRAILER:
		if (n == 0) {
			r->state = HTTP_DONE;
			r->done = true;
		}
		return 0;
	default:
		return fail(r, "internal: line in a body state");
	}
}

ssize_t
http_resp_feed(struct http_resp *r, const char *p, size_t n)
{
	size_t i = 0;
	if (r->state == HTTP_ERROR)
		return -1;
	while (i < n && !r->done) {
		switch (r->state) {
		case HTTP_BODY_LEN:
		case HTTP_CHUNK_DATA: {
			size_t take = n - i;
			if (take > r->length)
				take = (size_t)r->length;
			if (keep(r, p + i, take))
				return -1;
			i += take;
			r->length -= take;
			if (r->length == 0) {
				if (r->state == HTTP_BODY_LEN) {
					r->state = HTTP_DONE;
					r->done = true;
				} else {
					r->state = HTTP_CHUNK_CRLF;
				}
			}
			break;
		}
		case HTTP_BODY_EOF:
			if (keep(r, p + i, n - i))
				return -1;
			i = n;
			break;
		case HTTP_DONE:
		case HTTP_ERROR:
			return -1;
		default: {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t take = nl ? (size_t)(nl - (p + i)) : n - i;
			if (r->line_len + take >= HTTP_LINE_MAX)
				return fail(r, "line too long");
			memcpy(r->line + r->line_len, p + i, take);
			r->line_len += take;
			i += take;
			if (!nl)
				break;
			i++; /* the '\n' */
			size_t ln = r->line_len;
			if (ln && r->line[ln - 1] == '\r')
				ln--;
			r->line_len = 0;
			if (memchr(r->line, '\r', ln) || memchr(r->line, '\0', ln))
				return fail(r, "stray CR or NUL in a line");
			if (line(r, r->line, ln))
				return -1;
			break;
		}
		}
	}
	return (ssize_t)i;
}

int
http_resp_eof(struct http_resp *r)
{
	if (r->done)
		return 0;
	if (r->state == HTTP_BODY_EOF) {
		r->state = HTTP_DONE;
		r->done = true;
		return 0;
	}
	if (r->state == HTTP_ERROR)
		return -1;
	return fail(r, r->state == HTTP_STATUS && r->line_len == 0 && r->status == 0
	                   ? "connection closed before the response"
	                   : "connection closed in the middle of the response");
}
