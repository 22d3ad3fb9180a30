/*
 * buf.c — growable byte buffer with a hard cap and a sticky error.
 *
 * Invariant: when p != NULL, p[len] == '\0' and len < cap; once err is set
 * no append changes the contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
	b->err = TC_OK;
}

void
buf_reset(struct buf *b)
{
	size_t max = b->max;
	free(b->p);
	buf_init(b, max);
}

void
buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
	b->err = TC_OK;
}

/* Makes room for extra more bytes plus the NUL; returns 0 or sets err. */
static int
buf_reserve(struct buf *b, size_t extra)
{
	if (b->err)
		return -1;
	if (extra > b->max || b->len > b->max - extra) {
		b->err = TC_ELIMIT;
		return -1;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	char *np = realloc(b->p, ncap);
	if (!np) {
		b->err = TC_ENOMEM;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
buf_reserve_more(struct buf *b, size_t extra)
{
	(void)buf_reserve(b, extra);
}

void
buf_append(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len))
		return;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
buf_append_slice(struct buf *b, struct slice s)
{
	buf_append(b, s.p, s.len);
}

void
buf_append_cstr(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_append_char(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	char small[256];

	if (b->err)
		return;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = TC_EINVAL;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_append(b, small, (size_t)n);
		return;
	}
	if (buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Length of the UTF-8 sequence at p (2-4 bytes, p[0] >= 0x80), or 0 when
 * it is not valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t
buf_utf8_len(const unsigned char *p, size_t len)
{
	unsigned c = p[0], cp, min;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

void
buf_append_json_str(struct buf *b, struct slice s)
{
	static const char hex[] = "0123456789abcdef";
	buf_append_char(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 0x80) {
			/* RFC 8259 §8.1: JSON text is UTF-8; a byte that is not
			 * (a message quoting bad input, a cut-off text) becomes
			 * U+FFFD so the output always parses */
			size_t n = buf_utf8_len((const unsigned char *)s.p + i, s.len - i);
			if (n) {
				i += n - 1;
				continue;
			}
			buf_append(b, s.p + start, i - start);
			buf_append(b, "\xef\xbf\xbd", 3);
			start = i + 1;
			continue;
		}
		/* DEL too: JSON allows it raw, a terminal does not want it */
		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			continue;
		buf_append(b, s.p + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		default: {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(b, e, 6);
		}
		}
	}
	buf_append(b, s.p + start, s.len - start);
	buf_append_char(b, '"');
}

void
buf_append_hex(struct buf *b, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_reserve(b, len * 2))
		return;
	for (size_t i = 0; i < len; i++) {
		b->p[b->len++] = hex[p[i] >> 4];
		b->p[b->len++] = hex[p[i] & 15];
	}
	b->p[b->len] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

char *
buf_detach(struct buf *b, size_t *len)
{
	if (b->err) {
		buf_reset(b);
		return NULL;
	}
	char *p = b->p;
	if (!p) {
		p = malloc(1);
		if (!p)
			return NULL;
		p[0] = '\0';
	}
	if (len)
		*len = b->len;
	b->p = NULL;
	buf_reset(b);
	return p;
}
