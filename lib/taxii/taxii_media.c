/*
 * taxii_media.c — the Accept and Content-Type checks of TAXII 2.1 §1.6.8
 * and §3.1.
 *
 * A request must name the TAXII media type: `application/taxii+json`
 * (bare: the latest version this server supports, §1.6.8.2) or with
 * `version=2.1`; spaces around ';' and '=', upper-case type names, quoted
 * parameter values, extra parameters and q-values are accepted. Our
 * choice: the wildcard ranges (star-slash-star, application/star) are not
 * TAXII media ranges, so an Accept made only of them, like a missing
 * Accept, is answered with 406 — §3.1 requires a TAXII media range, and a
 * client that sends one gets the exact type it asked for. A range with
 * q=0 means "not acceptable" (RFC 9110 §12.4.2) and does not count.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "taxii_internal.h"
#include "util/slice.h"

#define TAXII_TYPE "application/taxii+json"

static bool
ci_eq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* Removes one pair of double quotes around s. */
static struct slice
unquote(struct slice s)
{
	if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"')
		return slice_make(s.p + 1, s.len - 2);
	return s;
}

/* RFC 9110 §12.4.2: qvalue = "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ].
 * Returns true when q is zero; a malformed q counts as non-zero (lenient:
 * the client did name the type). */
static bool
q_is_zero(struct slice v)
{
	if (v.len == 0 || v.p[0] != '0')
		return false;
	for (size_t i = 1; i < v.len; i++)
		if (!(v.p[i] == '0' || (i == 1 && v.p[i] == '.')))
			return false;
	return true;
}

/* Judges one media type with its parameters ("application/taxii+json;
 * version=2.1; q=0.5"). with_q: the q parameter is honoured (Accept). */
static bool
media_ok(struct slice m, bool with_q)
{
	size_t i = 0;
	struct slice type;
	bool ok = true;

	while (i < m.len && m.p[i] != ';')
		i++;
	type = slice_trim(slice_make(m.p, i));
	if (!ci_eq(type, TAXII_TYPE))
		return false;
	while (i < m.len) {
		size_t start = ++i; /* past ';' */
		while (i < m.len && m.p[i] != ';')
			i++;
		struct slice p = slice_trim(slice_make(m.p + start, i - start));
		if (p.len == 0)
			continue;
		size_t eq = 0;
		while (eq < p.len && p.p[eq] != '=')
			eq++;
		struct slice name = slice_trim(slice_make(p.p, eq));
		struct slice value = eq < p.len
		                         ? slice_trim(slice_make(p.p + eq + 1, p.len - eq - 1))
		                         : slice_make("", 0);
		value = unquote(value);
		if (ci_eq(name, "version")) {
			/* §1.6.8.2: this server speaks 2.1 only */
			if (!slice_eq_cstr(value, "2.1"))
				ok = false;
		} else if (with_q && ci_eq(name, "q")) {
			if (q_is_zero(value))
				ok = false;
		}
		/* other parameters (charset, ...) are ignored */
	}
	return ok;
}

bool
taxii__accept_ok(const char *accept)
{
	if (!accept)
		return false;
	struct slice a = slice_from_cstr(accept);
	size_t start = 0;
	for (size_t i = 0; i <= a.len; i++) {
		/* a ',' inside a quoted parameter value does not occur in TAXII
		 * media types; splitting on every ',' is enough here */
		if (i < a.len && a.p[i] != ',')
			continue;
		if (media_ok(slice_make(a.p + start, i - start), true))
			return true;
		start = i + 1;
	}
	return false;
}

bool
taxii__content_type_ok(const char *content_type)
{
	if (!content_type)
		return false;
	return media_ok(slice_from_cstr(content_type), false);
}
