/*
 * obs_domain.c — domain names as lowercase A-labels.
 *
 * An ASCII name is checked and lowercased in place without a library call
 * (this is the hot path): labels of 1-63 letters, digits, hyphens and
 * underscores (real DNS names such as "_dmarc.example.com" carry them), no
 * hyphen first or last, at most 253 bytes, no trailing dot, and a last
 * label that is not all digits (that would be an IP address). Labels
 * written as "xn--" A-labels are verified by libidn2. A name with non-ASCII
 * bytes goes through libidn2 (IDNA 2008 with UTS #46 non-transitional
 * mapping, so "Faß.DE" is "xn--fa-hia.de"); if that refuses the name the
 * transitional mapping is tried, as curl does, and the result checked by
 * the ASCII rules. A mixed-script or homoglyph name is kept as its
 * punycode: "аpple.com" (Cyrillic а) is "xn--pple-43d.com", which is
 * what an analyst wants to see.
 *
 * Known gap: ASCII labels with "--" in positions 3-4 that are not "xn--"
 * are accepted (they exist in the wild), though IDNA 2008 reserves them.
 */
#include <idn2.h>
#include <string.h>

#include "obs_internal.h"
#include "util/pan.h"

bool
obs__prefix_ci(struct slice s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (s.len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (obs__lower(s.p[i]) != obs__lower(prefix[i]))
			return false;
	return true;
}

static bool
is_ldh_(char c)
{
	return (c >= 'a' && c <= 'z') || obs__is_digit(c) || c == '-' || c == '_';
}

/* Verifies one "xn--" label with libidn2: it must decode and be the
 * canonical A-label of what it decodes to. */
static enum tcerr
check_alabel(const char *label, size_t len, struct diag *d)
{
	char tmp[OBS_LABEL_MAX + 1];
	memcpy(tmp, label, len);
	tmp[len] = '\0';
	char *res = NULL;
	int rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&res,
	                        IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	enum tcerr e = TC_OK;
	if (rc != IDN2_OK)
		e = diag_set(d, TC_EINVAL, "label '%s' is not a valid A-label: %s",
		             pan_suspect(slice_from_cstr(tmp)) ? "(not quoted)" : tmp,
		             idn2_strerror(rc));
	else if (strcmp(res, tmp) != 0)
		e = diag_set(d, TC_EINVAL, "label '%s' is not in canonical form",
		             pan_suspect(slice_from_cstr(tmp)) ? "(not quoted)" : tmp);
	idn2_free(res);
	return e;
}

/* Checks and appends an ASCII name (already lowercase, no trailing dot). */
static enum tcerr
check_ascii(const char *p, size_t len, struct buf *out, struct diag *d)
{
	if (len == 0)
		return diag_set(d, TC_EINVAL, "empty domain name");
	if (len > OBS_DOMAIN_MAX)
		return diag_set(d, TC_ELIMIT, "domain name longer than %d bytes", OBS_DOMAIN_MAX);
	size_t start = 0;
	bool all_digits = true;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '.') {
			if (!is_ldh_(p[i])) {
				if (p[i] == ' ')
					return diag_set(d, TC_EINVAL, "domain name contains a space");
				if (p[i] == ':' && i + 1 < len && p[i + 1] == '/')
					return diag_set(d, TC_EINVAL,
					                "not a domain name (a URL?)");
				if (p[i] == ':' || p[i] == '[')
					return diag_set(d, TC_EINVAL,
					                "not a domain name (an IPv6 address?)");
				if (p[i] == '/' || p[i] == '@')
					return diag_set(d, TC_EINVAL,
					                "not a domain name (a URL or email address?)");
				return diag_set(d, TC_EINVAL,
				                "domain name contains '%c': only letters, digits, "
				                "'-' and '_' are allowed in labels",
				                p[i]);
			}
			if (!obs__is_digit(p[i]))
				all_digits = false;
			continue;
		}
		size_t n = i - start;
		if (n == 0)
			return diag_set(d, TC_EINVAL, "domain name has an empty label");
		if (n > OBS_LABEL_MAX)
			return diag_set(d, TC_ELIMIT, "domain label longer than %d bytes",
			                OBS_LABEL_MAX);
		if (p[start] == '-' || p[i - 1] == '-')
			return diag_set(d, TC_EINVAL, "domain label starts or ends with '-'");
		if (n >= 4 && memcmp(p + start, "xn--", 4) == 0) {
			enum tcerr rc = check_alabel(p + start, n, d);
			if (rc)
				return rc;
		}
		if (i < len)
			all_digits = true;
		start = i + 1;
	}
	if (all_digits)
		return diag_set(d, TC_EINVAL,
		                "not a domain name: the last label is all digits (an IP address?)");
	buf_append(out, p, len);
	return TC_OK;
}

enum tcerr
obs__domain(struct slice in, struct buf *out, struct diag *d)
{
	char tmp[OBS_VALUE_MAX + 1];
	if (in.len > OBS_VALUE_MAX)
		return diag_set(d, TC_ELIMIT, "domain name longer than %d bytes", OBS_DOMAIN_MAX);
	if (in.len && in.p[in.len - 1] == '.')
		in.len--; /* the root: "example.com." is "example.com" */
	bool ascii = true;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if (c >= 0x80)
			ascii = false;
		else if (c < 0x20 || c == 0x7f)
			return diag_set(d, TC_EINVAL, "domain name contains a control character");
		tmp[i] = obs__lower((char)c);
	}
	if (ascii)
		return check_ascii(tmp, in.len, out, d);

	memcpy(tmp, in.p, in.len);
	tmp[in.len] = '\0';
	char *res = NULL;
	int rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&res,
	                        IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		/* curl's fallback: some names only map transitionally */
		int rc2 = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&res,
		                         IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
		if (rc2 != IDN2_OK) {
			if (rc == IDN2_MALLOC || rc2 == IDN2_MALLOC)
				return diag_set(d, TC_ENOMEM, "out of memory");
			return diag_set(d, TC_EINVAL, "not a valid internationalised domain name: %s",
			                idn2_strerror(rc));
		}
	}
	size_t n = strlen(res);
	if (n && res[n - 1] == '.')
		n--;
	enum tcerr e = check_ascii(res, n, out, d);
	idn2_free(res);
	return e;
}
