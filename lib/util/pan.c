/*
 * pan.c — the "may hold a card number" test of pan.h.
 *
 * One pass over the bytes; a run of digits continues across a single
 * space or dash that has a digit on both sides.
 */
#include "pan.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
pan_suspect(struct slice s)
{
	size_t run = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (is_digit(c)) {
			if (++run >= PAN_SUSPECT_DIGITS)
				return true;
		} else if ((c == ' ' || c == '-') && run > 0 && i + 1 < s.len &&
		           is_digit(s.p[i + 1])) {
			continue;
		} else {
			run = 0;
		}
	}
	return false;
}
