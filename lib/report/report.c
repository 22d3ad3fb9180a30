/*
 * report.c — the parsers and the check of a citizen report (report.h).
 *
 * Both parsers write into the fixed arrays of struct report_in and never
 * allocate for the form; the JSON parser goes through stix_json_parse
 * (strict I-JSON: duplicates and invalid UTF-8 refused) on a body first
 * capped at REPORT_JSON_MAX. A field past its limit is marked and left
 * empty, so nothing oversized is kept or shown again.
 */
#include "report/report.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "stix/stix.h"
#include "util/hex.h"
#include "util/pan.h"
#include "util/text.h"

static const char *const kind_names[] = {
	[REPORT_PHISHING] = "phishing", [REPORT_PHONE] = "phone", [REPORT_ACCOUNT] = "account",
	[REPORT_CARD] = "card",         [REPORT_EMAIL] = "email",
};

const char *
report_kind_name(enum report_kind k)
{
	return k >= REPORT_PHISHING && k <= REPORT_KIND_MAX ? kind_names[k] : NULL;
}

bool
report_kind_parse(struct slice s, enum report_kind *out)
{
	for (int k = REPORT_PHISHING; k <= REPORT_KIND_MAX; k++)
		if (slice_eq_cstr(s, kind_names[k])) {
			*out = (enum report_kind)k;
			return true;
		}
	return false;
}

const char *
report_field_name(enum report_field f)
{
	static const char *const n[RF_COUNT] = { "kind", "value", "text", "contact", "body" };
	return (unsigned)f < RF_COUNT ? n[f] : "body";
}

const char *
report_problem_text(enum report_problem p)
{
	switch (p) {
	case RP_NONE: return "ok";
	case RP_MISSING: return "is required";
	case RP_TOO_LONG: return "is too long";
	case RP_ENCODING: return "holds characters that are not printable UTF-8";
	case RP_UNKNOWN_KIND: return "is not one of phishing, phone, account, card, email";
	case RP_INVALID: return "is not valid for the kind chosen";
	case RP_CARD_IN_TEXT: return "seems to hold a card number: give it as a card report";
	case RP_SYNTAX: return "cannot be parsed";
	}
	return "is invalid";
}

bool
report_errs_any(const struct report_errs *e)
{
	for (int i = 0; i < RF_COUNT; i++)
		if (e->p[i] != RP_NONE)
			return true;
	return false;
}

static void
err_set(struct report_errs *e, enum report_field f, enum report_problem p)
{
	if (e->p[f] == RP_NONE)
		e->p[f] = p;
}

/* Free text as kept: printable UTF-8, with LF and TAB allowed when
 * multiline, CR LF folded to LF. Writes at most cap bytes into dst (cap+1
 * with the NUL). Returns RP_NONE, RP_TOO_LONG or RP_ENCODING; on a
 * problem *len is 0. */
static enum report_problem
text_keep(struct slice s, bool multiline, char *dst, size_t cap, size_t *len)
{
	size_t o = 0;
	*len = 0;
	dst[0] = '\0';
	for (size_t i = 0; i < s.len;) {
		unsigned char c = (unsigned char)s.p[i];
		size_t n;
		if (multiline && c == '\r' && i + 1 < s.len && s.p[i + 1] == '\n') {
			i++;
			continue;
		}
		if (multiline && (c == '\n' || c == '\t'))
			n = 1;
		else if ((n = text_printable_len(s.p + i, s.len - i)) == 0) {
			dst[0] = '\0';
			return RP_ENCODING;
		}
		if (o + n > cap) {
			dst[0] = '\0';
			return RP_TOO_LONG;
		}
		memcpy(dst + o, s.p + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	*len = o;
	return RP_NONE;
}

/* Stores a decoded field by name. seen: a bit per known field. */
static void
field_put(struct report_in *in, struct report_errs *e, struct slice name, struct slice v,
          unsigned *seen)
{
	static const char *const names[] = { "kind", "value", "text", "contact", "lang",
		                             REPORT_HONEYPOT_FIELD };
	int which = -1;
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
		if (slice_eq_cstr(name, names[i]))
			which = i;
	if (which < 0)
		return; /* a submit button's name, or anything else: ignored */
	if (*seen & (1u << which)) {
		err_set(e, RF_BODY, RP_SYNTAX);
		snprintf(e->why, sizeof e->why, "field '%s' is given twice", names[which]);
		return;
	}
	*seen |= 1u << which;
	enum report_problem p;
	switch (which) {
	case 0: {
		struct slice t = slice_trim(v);
		if (t.len == 0)
			err_set(e, RF_KIND, RP_MISSING);
		else if (!report_kind_parse(t, &in->kind))
			err_set(e, RF_KIND, RP_UNKNOWN_KIND);
		break;
	}
	case 1:
		if ((p = text_keep(slice_trim(v), false, in->value, REPORT_VALUE_MAX, &in->value_len)))
			err_set(e, RF_VALUE, p);
		break;
	case 2:
		if ((p = text_keep(slice_trim(v), true, in->text, REPORT_TEXT_MAX, &in->text_len)))
			err_set(e, RF_TEXT, p);
		break;
	case 3:
		if ((p = text_keep(slice_trim(v), false, in->contact, REPORT_CONTACT_MAX,
		                   &in->contact_len)))
			err_set(e, RF_CONTACT, p);
		break;
	case 4:
		if (slice_eq_cstr(v, "ru") || slice_eq_cstr(v, "en"))
			memcpy(in->lang, v.p, 2), in->lang[2] = '\0';
		break;
	default:
		in->honeypot = slice_trim(v).len > 0;
		break;
	}
}

static void
in_init(struct report_in *in, struct report_errs *e)
{
	memset(e, 0, sizeof *e);
	in->kind = 0;
	in->value[0] = in->text[0] = in->contact[0] = in->lang[0] = '\0';
	in->value_len = in->text_len = in->contact_len = 0;
	in->honeypot = false;
}

/* Percent-decodes s ('+' is a space) into dst (cap bytes). Returns the
 * decoded length, or (size_t)-1 for a bad escape, (size_t)-2 when past cap. */
static size_t
form_decode(struct slice s, char *dst, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= s.len || hex_digit(s.p[i + 1]) < 0 || hex_digit(s.p[i + 2]) < 0)
				return (size_t)-1;
			c = (char)(hex_digit(s.p[i + 1]) * 16 + hex_digit(s.p[i + 2]));
			i += 2;
		}
		if (o >= cap)
			return (size_t)-2;
		dst[o++] = c;
	}
	return o;
}

enum tcerr
report_parse_form(struct slice body, struct report_in *in, struct report_errs *e)
{
	/* the largest decoded field kept, plus one byte to tell "too long" */
	char tmp[REPORT_TEXT_MAX * 4 + 1];
	unsigned seen = 0;
	size_t nfields = 0;
	in_init(in, e);
	for (size_t i = 0; i <= body.len && body.len > 0;) {
		size_t j = i;
		while (j < body.len && body.p[j] != '&')
			j++;
		struct slice pair = slice_make(body.p + i, j - i);
		i = j + 1;
		if (pair.len == 0)
			continue;
		if (++nfields > REPORT_FORM_FIELDS_MAX) {
			err_set(e, RF_BODY, RP_SYNTAX);
			snprintf(e->why, sizeof e->why, "more than %d form fields",
			         REPORT_FORM_FIELDS_MAX);
			break;
		}
		const char *eq = memchr(pair.p, '=', pair.len);
		struct slice rawname = slice_make(pair.p, eq ? (size_t)(eq - pair.p) : pair.len);
		struct slice rawval = eq ? slice_make(eq + 1, pair.len - rawname.len - 1)
		                         : slice_make("", 0);
		char name[REPORT_FORM_NAME_MAX];
		size_t nl = form_decode(rawname, name, sizeof name);
		if (nl == (size_t)-2)
			continue; /* a long name is none of ours */
		if (nl == (size_t)-1) {
			err_set(e, RF_BODY, RP_SYNTAX);
			snprintf(e->why, sizeof e->why, "a form field name holds a bad %%-escape");
			continue;
		}
		struct slice nm = slice_make(name, nl);
		size_t vl = form_decode(rawval, tmp, sizeof tmp);
		if (vl == (size_t)-1 || vl == (size_t)-2) {
			enum report_field f = slice_eq_cstr(nm, "value")   ? RF_VALUE
			                      : slice_eq_cstr(nm, "text")    ? RF_TEXT
			                      : slice_eq_cstr(nm, "contact") ? RF_CONTACT
			                      : slice_eq_cstr(nm, "kind")    ? RF_KIND
			                                                     : RF_COUNT;
			if (f != RF_COUNT)
				err_set(e, f, vl == (size_t)-1 ? RP_ENCODING : RP_TOO_LONG);
			continue;
		}
		field_put(in, e, nm, slice_make(tmp, vl), &seen);
	}
	sodium_memzero(tmp, sizeof tmp); /* it may have held a card number */
	return report_errs_any(e) ? TC_EINVAL : TC_OK;
}

enum tcerr
report_parse_json(struct slice body, struct report_in *in, struct report_errs *e)
{
	in_init(in, e);
	if (body.len > REPORT_JSON_MAX) {
		err_set(e, RF_BODY, RP_TOO_LONG);
		return TC_EINVAL;
	}
	json_t *root = NULL;
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = stix_json_parse(body, NULL, &root, &d);
	if (rc == TC_ENOMEM)
		return TC_ENOMEM;
	if (rc) {
		err_set(e, RF_BODY, RP_SYNTAX);
		/* jansson quotes the text near an error: never a card number */
		snprintf(e->why, sizeof e->why, "%s",
		         pan_suspect(slice_from_cstr(d.msg)) ? "the body is not valid JSON" : d.msg);
		return TC_EINVAL;
	}
	if (!json_is_object(root)) {
		err_set(e, RF_BODY, RP_SYNTAX);
		snprintf(e->why, sizeof e->why, "the body must be a JSON object");
		json_decref(root);
		return TC_EINVAL;
	}
	unsigned seen = 0;
	const char *k;
	json_t *v;
	json_object_foreach (root, k, v) {
		if (strcmp(k, "kind") && strcmp(k, "value") && strcmp(k, "text") &&
		    strcmp(k, "contact") && strcmp(k, "lang") && strcmp(k, REPORT_HONEYPOT_FIELD)) {
			err_set(e, RF_BODY, RP_SYNTAX);
			snprintf(e->why, sizeof e->why,
			         "unknown member '%.40s' (kind, value, text, contact, lang)", k);
			break;
		}
		if (!json_is_string(v)) {
			err_set(e, RF_BODY, RP_SYNTAX);
			snprintf(e->why, sizeof e->why, "member '%s' must be a string", k);
			break;
		}
		field_put(in, e, slice_from_cstr(k),
		          slice_make(json_string_value(v), json_string_length(v)), &seen);
	}
	json_decref(root);
	return report_errs_any(e) ? TC_EINVAL : TC_OK;
}

/* true if s holds "://" */
static bool
has_scheme_sep(struct slice s)
{
	for (size_t i = 0; i + 3 <= s.len; i++)
		if (s.p[i] == ':' && s.p[i + 1] == '/' && s.p[i + 2] == '/')
			return true;
	return false;
}

/* The phishing kind: URL, domain or address; "host/path" as http://. */
static enum tcerr
check_site(const struct obs_ctx *obs, struct slice v, struct buf *out, enum obs_kind *k,
           struct diag *d)
{
	enum tcerr rc = obs_classify(obs, v, k, out, d);
	if (rc == TC_OK && *k != OBS_URL && *k != OBS_DOMAIN && *k != OBS_IPV4 && *k != OBS_IPV6)
		return diag_set(d, TC_EINVAL, "not a web site address (a URL or a domain)");
	if (rc == TC_EINVAL && memchr(v.p, '/', v.len) && !has_scheme_sep(v)) {
		char u[REPORT_VALUE_MAX + 8];
		int n = snprintf(u, sizeof u, "http://%.*s", (int)v.len, v.p);
		if (n < 0 || (size_t)n >= sizeof u)
			return diag_set(d, TC_ELIMIT, "too long");
		buf_clear(out);
		*k = OBS_URL;
		rc = obs_normalize(obs, OBS_URL, slice_make(u, (size_t)n), out, d);
	}
	if (rc == TC_OK && (*k == OBS_DOMAIN || *k == OBS_IPV4 || *k == OBS_IPV6))
		rc = obs_breadth_check(obs, *k, buf_slice(out), d);
	return rc;
}

enum tcerr
report_check(const struct obs_ctx *obs, struct report_in *in, struct report_obs *out,
             struct report_errs *e)
{
	static const enum obs_kind kind_obs[] = {
		[REPORT_PHONE] = OBS_PHONE, [REPORT_ACCOUNT] = OBS_BANK_ACCOUNT,
		[REPORT_CARD] = OBS_CARD,   [REPORT_EMAIL] = OBS_EMAIL,
	};
	out->value[0] = '\0';
	out->value_len = 0;
	if (!in->kind && e->p[RF_KIND] == RP_NONE)
		err_set(e, RF_KIND, RP_MISSING);
	if (in->value_len == 0 && e->p[RF_VALUE] == RP_NONE)
		err_set(e, RF_VALUE, RP_MISSING);
	if (in->text_len && pan_suspect(slice_make(in->text, in->text_len))) {
		err_set(e, RF_TEXT, RP_CARD_IN_TEXT);
		sodium_memzero(in->text, sizeof in->text);
		in->text_len = 0;
	}
	if (in->contact_len && pan_suspect(slice_make(in->contact, in->contact_len))) {
		err_set(e, RF_CONTACT, RP_CARD_IN_TEXT);
		sodium_memzero(in->contact, sizeof in->contact);
		in->contact_len = 0;
	}
	if (in->kind && in->value_len && e->p[RF_VALUE] == RP_NONE) {
		struct buf b;
		struct diag d;
		diag_clear(&d);
		buf_init(&b, OBS_VALUE_MAX + 1);
		struct slice v = slice_make(in->value, in->value_len);
		enum tcerr rc;
		if (in->kind == REPORT_PHISHING)
			rc = check_site(obs, v, &b, &out->kind, &d);
		else {
			out->kind = kind_obs[in->kind];
			rc = obs_normalize(obs, out->kind, v, &b, &d);
		}
		if (!rc && buf_error(&b))
			rc = buf_error(&b) == TC_ENOMEM ? TC_ENOMEM : diag_set(&d, TC_ELIMIT, "too long");
		if (rc == TC_ENOMEM) {
			buf_reset(&b);
			return TC_ENOMEM;
		}
		if (rc) {
			err_set(e, RF_VALUE, RP_INVALID);
			/* messages never repeat the value (obs_normalize's promise) */
			snprintf(e->why, sizeof e->why, "%s", d.msg);
		} else {
			memcpy(out->value, b.p, b.len);
			out->value[b.len] = '\0';
			out->value_len = b.len;
		}
		buf_reset(&b);
	}
	if (in->kind == REPORT_CARD) {
		/* the digits go now, whatever the outcome */
		sodium_memzero(in->value, sizeof in->value);
		in->value_len = 0;
	}
	return report_errs_any(e) ? TC_EINVAL : TC_OK;
}

const char *
report_lang_pick(const char *h)
{
	if (!h)
		return "en";
	double best_q = -1;
	const char *best = "en";
	int ranges = 0;
	for (const char *p = h; *p && ranges < 32; ranges++) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *tag = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ')
			p++;
		size_t tl = (size_t)(p - tag);
		double q = 1.0;
		while (*p && *p != ',') {
			if (*p == ';') {
				p++;
				while (*p == ' ')
					p++;
				if (p[0] == 'q' && p[1] == '=') {
					q = 0;
					p += 2;
					if (*p == '1')
						q = 1;
					else if (*p == '0' && p[1] == '.') {
						double f = 0.1;
						for (p += 2; *p >= '0' && *p <= '9'; p++, f /= 10)
							q += (*p - '0') * f;
					}
					continue;
				}
			}
			if (*p && *p != ',')
				p++;
		}
		const char *l = NULL;
		if (tl >= 2 && (tag[0] | 0x20) == 'r' && (tag[1] | 0x20) == 'u' &&
		    (tl == 2 || tag[2] == '-'))
			l = "ru";
		else if (tl >= 2 && (tag[0] | 0x20) == 'e' && (tag[1] | 0x20) == 'n' &&
		         (tl == 2 || tag[2] == '-'))
			l = "en";
		if (l && q > 0 && q > best_q) {
			best_q = q;
			best = l;
		}
		if (tl == 0 && !*p)
			break;
	}
	return best;
}
