/*
 * text.c — the check of free text (text.h): one pass over the bytes,
 * decoding UTF-8 and refusing controls, so a title or name stored once
 * is safe to print everywhere afterwards.
 */
#include "util/text.h"

bool
text_printable(struct slice s, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0;

	while (i < s.len) {
		unsigned c = p[i], cp, min;
		size_t more;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				goto no;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			more = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			more = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			more = 3, cp = c & 0x07, min = 0x10000;
		else
			goto no;
		if (more > s.len - i - 1)
			goto no;
		for (size_t k = 1; k <= more; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto no;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
			goto no;
		i += more + 1;
	}
	return true;
no:
	if (bad)
		*bad = i;
	return false;
}
