/*
 * report.h — citizen reports (docs/reports.md): what a person sends
 * through the public form (GET/POST /report, application/x-www-form-
 * urlencoded) or an app through POST /api/v1/reports (JSON), parsed with
 * hard limits and turned into one normalised observable.
 *
 * Invariant: every text a struct report_in holds is valid, printable
 * UTF-8 (line feeds and tabs allowed in the free text, CR LF folded to
 * LF) within its REPORT_*_MAX; a card number is never kept in it once
 * report_check() has run (the value is replaced by its keyed hash, and a
 * free text or contact that looks as if it held a card number is
 * refused, never quoted). Parsing never allocates more than the fixed
 * struct: a body of any size costs one pass over it.
 *
 * The kinds a citizen picks map to observable kinds (lib/observable):
 *   phishing   a site: url, domain, or an IP address
 *   phone      a scam call or SMS number: phone (E.164)
 *   account    a fraudulent bank account: bank-account
 *   card       a card: card (hmac-sha256 under the hub's card key)
 *   email      a suspicious e-mail address: email
 */
#ifndef TOCSIN_REPORT_H
#define TOCSIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define REPORT_VALUE_MAX 2048        /* bytes of the reported value (= OBS_VALUE_MAX) */
#define REPORT_TEXT_MAX 4000         /* bytes of the free text */
#define REPORT_CONTACT_MAX 256       /* bytes of the optional contact details */
#define REPORT_FORM_FIELDS_MAX 16    /* fields of one form body */
#define REPORT_FORM_NAME_MAX 32      /* bytes of one form field name */
#define REPORT_JSON_MAX (64 * 1024)  /* bytes of a JSON body, whatever [reports] max_body */
#define REPORT_HONEYPOT_FIELD "website" /* the field a person never sees nor fills */

enum report_kind {
	REPORT_PHISHING = 1,
	REPORT_PHONE,
	REPORT_ACCOUNT,
	REPORT_CARD,
	REPORT_EMAIL,
};
#define REPORT_KIND_MAX REPORT_EMAIL

/* The fields of a report, for messages tied to one of them. */
enum report_field {
	RF_KIND = 0,
	RF_VALUE,
	RF_TEXT,
	RF_CONTACT,
	RF_BODY,             /* the request as a whole */
	RF_COUNT
};

/* What is wrong with a field (the page words it in the reader's language). */
enum report_problem {
	RP_NONE = 0,
	RP_MISSING,          /* required and empty */
	RP_TOO_LONG,         /* past its REPORT_*_MAX */
	RP_ENCODING,         /* not printable UTF-8, or a bad %-escape */
	RP_UNKNOWN_KIND,     /* not one of the kinds above */
	RP_INVALID,          /* the value is not of the kind chosen (why: report_errs.why) */
	RP_CARD_IN_TEXT,     /* a card number in the free text or the contact */
	RP_SYNTAX,           /* the body does not parse (JSON, form encoding, field count) */
};

struct report_errs {
	enum report_problem p[RF_COUNT];
	char why[DIAG_MSG_MAX];  /* RP_INVALID / RP_SYNTAX: the parser's reason (English) */
};

struct report_in {
	enum report_kind kind;           /* 0 until parsed */
	char value[REPORT_VALUE_MAX + 1];
	size_t value_len;
	char text[REPORT_TEXT_MAX + 1];
	size_t text_len;
	char contact[REPORT_CONTACT_MAX + 1];
	size_t contact_len;
	char lang[3];                    /* "ru", "en" or "" */
	bool honeypot;                   /* the hidden field was filled in */
};

/* A checked report: the observable it names. */
struct report_obs {
	enum obs_kind kind;
	char value[OBS_VALUE_MAX + 1];   /* normalised (a card: its keyed hash) */
	size_t value_len;
};

/* "phishing", "phone", "account", "card", "email"; NULL out of range. */
const char *report_kind_name(enum report_kind k);
/* Inverse of report_kind_name; false for anything else. */
bool report_kind_parse(struct slice s, enum report_kind *out);
/* "kind", "value", "text", "contact", "body". */
const char *report_field_name(enum report_field f);
/* A short English description of p ("is required", "is too long"...). */
const char *report_problem_text(enum report_problem p);
/* true if e holds any problem. */
bool report_errs_any(const struct report_errs *e);

/* Decodes an application/x-www-form-urlencoded body (at most
 * REPORT_FORM_FIELDS_MAX fields; names kind, value, text, contact, lang
 * and the honeypot REPORT_HONEYPOT_FIELD; other names are ignored, as a
 * browser may send a submit button's) into *in. '+' is a space, %XX a
 * byte; a repeated field is a syntax error. Field problems go into *e.
 * Returns TC_OK, or TC_EINVAL when e holds a problem (in is still filled
 * as far as it could be, for the page to show again). */
enum tcerr report_parse_form(struct slice body, struct report_in *in, struct report_errs *e);

/* Parses a JSON body: one object with string members kind and value
 * (required), text, contact, lang and REPORT_HONEYPOT_FIELD (optional);
 * any other member, a duplicate, or a non-string is an error (RF_BODY,
 * RP_SYNTAX, with why). Bodies over REPORT_JSON_MAX are RP_TOO_LONG.
 * Returns as report_parse_form. */
enum tcerr report_parse_json(struct slice body, struct report_in *in, struct report_errs *e);

/* Checks a parsed report and normalises its value under obs (which holds
 * the card key): kind and value present, value of the kind chosen (a
 * phishing site is a URL, a domain that is not a public suffix, or an
 * address; a scheme-less "host/path" is read as http://host/path), no
 * card number in text or contact. A card value is wiped from in once
 * hashed. OUT: *out. Returns TC_OK, TC_EINVAL (problems in e), or
 * TC_ENOMEM. */
enum tcerr report_check(const struct obs_ctx *obs, struct report_in *in, struct report_obs *out,
                        struct report_errs *e);

/* Picks "ru" or "en" from an Accept-Language header (q-values honoured,
 * "ru-RU" counts as "ru"; the first of equal q wins); "en" when neither
 * is named or h is NULL. Bounded: at most 32 ranges are read. */
const char *report_lang_pick(const char *h);

#endif
