/*
 * text.c — the check of free text (text.h): one pass over the bytes,
 * decoding UTF-8 and refusing controls, so a title or name stored once
 * is safe to print everywhere afterwards.
 */
#include "util/text.h"

size_t
text_printable_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c, cp, min;
	size_t more;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return c >= 0x20 && c != 0x7f ? 1 : 0;
	if ((c & 0xe0) == 0xc0)
		more = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		more = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		more = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (more >= n)
		return 0;
	for (size_t k = 1; k <= more; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if (cp < min || cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return more + 1;
}

bool
text_printable(struct slice s, size_t *bad)
{
	size_t i = 0, k;

	while (i < s.len) {
		if (!(k = text_printable_len(s.p + i, s.len - i))) {
			if (bad)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}
