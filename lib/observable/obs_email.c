/*
 * obs_email.c — email addresses as "local@domain".
 *
 * The local part is kept exactly as written (RFC 5321 §2.4: only the
 * receiving host may interpret its case); the domain is normalised as a
 * domain name. The local part is a dot-atom (RFC 5322 §3.2.3: atext and
 * single inner dots; UTF-8 allowed as RFC 6531 does) or a quoted string,
 * at most 64 bytes; the whole address at most 254. Address literals
 * ("user@[192.0.2.1]") and comments are not accepted.
 */
#include <string.h>

#include "obs_internal.h"

static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true; /* RFC 6531 UTF8-non-ascii */
	if (obs__is_alpha((char)c) || obs__is_digit((char)c))
		return true;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static enum tcerr
check_local(struct slice l, struct diag *d)
{
	if (l.len == 0)
		return diag_set(d, TC_EINVAL, "email address has an empty local part");
	if (l.len > OBS_EMAIL_LOCAL_MAX)
		return diag_set(d, TC_ELIMIT, "email local part longer than %d bytes",
		                OBS_EMAIL_LOCAL_MAX);
	if (l.p[0] == '"') {
		/* RFC 5322 §3.2.4 quoted-string: qtext or quoted-pair */
		if (l.len < 2 || l.p[l.len - 1] != '"')
			return diag_set(d, TC_EINVAL, "email local part has an unterminated quote");
		for (size_t i = 1; i + 1 < l.len; i++) {
			unsigned char c = (unsigned char)l.p[i];
			if (c == '\\') {
				i++;
				if (i + 1 >= l.len)
					return diag_set(d, TC_EINVAL,
					                "email local part ends in a backslash");
				c = (unsigned char)l.p[i];
				if (c < 0x20 || c == 0x7f)
					return diag_set(d, TC_EINVAL,
					                "email local part contains a control character");
				continue;
			}
			if (c == '"')
				return diag_set(d, TC_EINVAL, "email local part has a stray quote");
			if (c < 0x20 || c == 0x7f)
				return diag_set(d, TC_EINVAL,
				                "email local part contains a control character");
		}
		return TC_OK;
	}
	for (size_t i = 0; i < l.len; i++) {
		unsigned char c = (unsigned char)l.p[i];
		if (c == '.') {
			if (i == 0 || i + 1 == l.len || l.p[i + 1] == '.')
				return diag_set(d, TC_EINVAL,
				                "email local part has a leading, trailing or double dot");
			continue;
		}
		if (!is_atext(c)) {
			if (c == ' ')
				return diag_set(d, TC_EINVAL, "email address contains a space");
			return diag_set(d, TC_EINVAL, "email local part contains '%c'",
			                (c > 0x20 && c < 0x7f) ? c : '?');
		}
	}
	return TC_OK;
}

enum tcerr
obs__email(struct slice in, struct buf *out, struct diag *d)
{
	if (in.len > 7 && obs__prefix_ci(in, "mailto:"))
		return diag_set(d, TC_EINVAL, "email address has a mailto: scheme: give the address");
	const char *at = NULL;
	for (size_t i = in.len; i > 0; i--)
		if (in.p[i - 1] == '@') {
			at = in.p + i - 1;
			break;
		}
	if (!at)
		return diag_set(d, TC_EINVAL, "not an email address: no '@'");
	struct slice local = slice_make(in.p, (size_t)(at - in.p));
	struct slice dom = slice_make(at + 1, in.len - local.len - 1);
	enum tcerr rc = check_local(local, d);
	if (rc)
		return rc;
	if (dom.len && dom.p[0] == '[')
		return diag_set(d, TC_EINVAL, "email address literals ([...]) are not accepted");
	size_t mark = out->len;
	buf_append(out, local.p, local.len);
	buf_append_char(out, '@');
	rc = obs__domain(dom, out, d);
	if (rc) {
		diag_prefix(d, "email domain");
		return rc;
	}
	if (out->len - mark > OBS_EMAIL_MAX)
		return diag_set(d, TC_ELIMIT, "email address longer than %d bytes", OBS_EMAIL_MAX);
	return TC_OK;
}
