/*
 * taxii_envelope.c — the skeleton scanner of a POST envelope (see
 * taxii_envelope.h). Invariant: when it returns TC_OK, the body is the
 * skeleton {"objects":[E1,…,En]} with JSON whitespace between tokens and
 * each Ei a span that starts with '{' and ends with the '}' closing it
 * (depth counted over {} and [] outside strings, a backslash in a string
 * escaping the next byte); so the body is valid JSON exactly when every
 * Ei is (RFC 8259 §2, §4, §5). The scanning itself is lib/stix/stix_scan.c,
 * which the importer uses too for documents read in pieces; here the body
 * is whole and only this one shape is taken (anything else is parsed whole
 * by the caller, for the precise error).
 */
#include "taxii_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "stix/stix_scan.h"

#define ENVELOPE_SPANS_FIRST 64 /* spans allocated before the first growth */

enum tcerr
taxii_envelope_scan(struct slice b, size_t max, struct taxii_span **spans, size_t *n)
{
	/* the whole body is in memory: no element is skipped for its size or
	 * depth here (the parser of each span checks depth) */
	const struct stix_scan_limits lim = {
		.max_object = b.len + 1, .max_depth = (size_t)-1, .max_member = b.len + 1};
	struct taxii_span *sp = NULL;
	struct stix_scan *s;
	struct diag d;
	size_t cap = 0, cnt = 0;
	bool objects = false;
	enum tcerr rc = TC_EINVAL;

	*spans = NULL;
	*n = 0;
	if (!(s = malloc(sizeof(*s))))
		return TC_ENOMEM;
	stix_scan_init(s, &lim);
	for (;;) {
		enum stix_scan_ev e = stix_scan_next(s, b, true, &d);
		if (e == STIX_SCAN_END)
			break;
		if (e == STIX_SCAN_OBJECTS && !s->key_escaped) {
			objects = true;
			continue;
		}
		/* another member, an escaped key, an error: not the shape */
		if (e != STIX_SCAN_ELEMENT || b.p[s->off] != '{')
			goto out;
		if (cnt == max) {
			rc = TC_ELIMIT;
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : ENVELOPE_SPANS_FIRST;
			struct taxii_span *p = realloc(sp, ncap * sizeof(*p));
			if (!p) {
				rc = TC_ENOMEM;
				goto out;
			}
			sp = p;
			cap = ncap;
		}
		sp[cnt++] = (struct taxii_span){s->off, s->len, s->ws};
	}
	if (!objects || cnt == 0)
		goto out;
	free(s);
	*spans = sp;
	*n = cnt;
	return TC_OK;
out:
	free(s);
	free(sp);
	return rc;
}

size_t
taxii_envelope_compact(struct slice b, const struct taxii_span *s, char *out)
{
	return stix_scan_compact(slice_make(b.p + s->off, s->len), out);
}
