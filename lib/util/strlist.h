/*
 * strlist.h — a list of strings from untrusted bytes: a JSON array of
 * strings (RFC 8259, strict: valid UTF-8, escapes checked, surrogates
 * paired, nothing after the array), text with one value a line, or a URL
 * query string: the lookup API's request (/api/v1/match).
 *
 * Invariant: every value handed out is valid UTF-8 without NUL, at most
 * lim->max_value_bytes long, and there are at most lim->max_values of
 * them; values that needed no unescaping point into the input (which must
 * outlive the list), the others into the list's own memory, allocated
 * once at most the size of the input. Cost: one pass over the input.
 */
#ifndef TOCSIN_UTIL_STRLIST_H
#define TOCSIN_UTIL_STRLIST_H

#include <stddef.h>

#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

struct strlist_limits {
	size_t max_values;        /* values in the list */
	size_t max_value_bytes;   /* bytes of one value, after unescaping */
};

struct strlist {
	struct slice *v;
	size_t n, cap;
	char *own;                /* unescaped values */
	size_t own_len, own_cap;
};

void strlist_init(struct strlist *l);
/* Frees what l holds; it may be used again. */
void strlist_reset(struct strlist *l);

/* Parses in as a JSON array of strings into l (emptied first).
 * Errors: TC_EINVAL ("byte 17: element 2 is not a string", "not a JSON
 * array", "byte 40: invalid UTF-8", ...), TC_ELIMIT ("more than N
 * values", "value 3 is longer than N bytes"), TC_ENOMEM. */
enum tcerr strlist_parse_json(struct strlist *l, struct slice in, const struct strlist_limits *lim,
                              struct diag *d);

/* Parses in as lines ("\n" or "\r\n"), each trimmed of blanks; blank
 * lines are skipped. Errors: TC_EINVAL ("line 3: invalid UTF-8", "line 3:
 * NUL byte"), TC_ELIMIT as strlist_parse_json, TC_ENOMEM. */
enum tcerr strlist_parse_lines(struct strlist *l, struct slice in,
                               const struct strlist_limits *lim, struct diag *d);

/* Parses a URL query string (RFC 3986 §3.4: '&'-separated key=value
 * pairs, percent-decoded; '+' stays a plus sign, so a phone number keeps
 * it): each "value" parameter is a value (only when values is set; else
 * one is TC_EINVAL), "kind" (the last one) goes to *kind. Values are
 * printable UTF-8 (util/text.h). At most max_params parameters and
 * lim->max_values values. The decoded text lives in l. OUT: *kind ({NULL,
 * 0} when absent). Errors: TC_EINVAL ("unknown parameter \"x\"", "a
 * parameter holds a bad %-escape", "value 2 is not printable UTF-8", "POST
 * takes its values in the body"), TC_ELIMIT ("more than N query
 * parameters", "more than N values in one query", "value 2 is longer than
 * N bytes"), TC_ENOMEM. */
enum tcerr strlist_parse_query(struct strlist *l, struct slice q, const struct strlist_limits *lim,
                               size_t max_params, bool values, struct slice *kind,
                               struct diag *d);

#endif
