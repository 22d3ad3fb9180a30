/*
 * obs_phone.c — telephone numbers as ITU-T E.164 "+<digits>".
 *
 * Spaces, dashes, dots and parentheses are layout and are dropped, as is a
 * "(0)" trunk prefix written after the country code ("+44 (0)20 ..."). The
 * number is then "+" and 8-15 digits (E.164 §6: at most 15) whose country
 * code does not start with 0; the "00" international prefix is read as
 * "+", and the Russian national form "8 XXX XXX-XX-XX" (11 digits starting
 * with 8) as +7. Any other national form is refused: without a country
 * code the number is ambiguous.
 */
#include <string.h>

#include "obs_internal.h"

#define OBS_PHONE_MIN_DIGITS 8
#define OBS_PHONE_MAX_DIGITS 15 /* ITU-T E.164 §6 */

enum tcerr
obs__phone(struct slice in, struct buf *out, struct diag *d)
{
	char dig[OBS_PHONE_MAX_DIGITS + 8];
	size_t n = 0;
	bool plus = false;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == ' ' || c == '-' || c == '.' || c == '\t')
			continue;
		if (c == '(' && i + 2 < in.len && in.p[i + 1] == '0' && in.p[i + 2] == ')' &&
		    (plus ? n > 0 : n > 2 && dig[0] == '0' && dig[1] == '0')) {
			i += 2; /* "+44 (0)20": the trunk 0 is not dialled from abroad */
			continue;
		}
		if (c == '(' || c == ')')
			continue;
		if (c == '+') {
			if (plus || n > 0)
				return diag_set(d, TC_EINVAL, "phone number has '+' after the start");
			plus = true;
			continue;
		}
		if (!obs__is_digit(c))
			return diag_set(d, TC_EINVAL,
			                "phone number contains '%c': only digits, '+', spaces, dashes, "
			                "dots and parentheses are allowed",
			                (c >= 0x20 && c < 0x7f) ? c : '?');
		if (n >= sizeof(dig))
			return diag_set(d, TC_EINVAL, "phone number has more than %d digits",
			                OBS_PHONE_MAX_DIGITS);
		dig[n++] = c;
	}
	const char *p = dig;
	if (!plus) {
		if (n >= 2 && dig[0] == '0' && dig[1] == '0') {
			p += 2; /* "00" international prefix */
			n -= 2;
		} else if (n == 11 && dig[0] == '8') {
			dig[0] = '7'; /* Russian national trunk 8 → country code 7 */
		} else {
			return diag_set(d, TC_EINVAL,
			                "phone number without a country code: write it as +<country "
			                "code><number>");
		}
	}
	if (n == 0)
		return diag_set(d, TC_EINVAL, "phone number has no digits");
	if (p[0] == '0')
		return diag_set(d, TC_EINVAL, "country codes do not start with 0");
	if (n < OBS_PHONE_MIN_DIGITS)
		return diag_set(d, TC_EINVAL, "phone number has fewer than %d digits",
		                OBS_PHONE_MIN_DIGITS);
	if (n > OBS_PHONE_MAX_DIGITS)
		return diag_set(d, TC_EINVAL, "phone number has more than %d digits",
		                OBS_PHONE_MAX_DIGITS);
	buf_append_char(out, '+');
	buf_append(out, p, n);
	return TC_OK;
}
