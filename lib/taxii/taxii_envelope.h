/*
 * taxii_envelope.h — finds the byte span of each object of a POSTed
 * envelope without building the envelope's tree, so each object is parsed
 * on its own and stored as the client sent it (no re-serialisation).
 */
#ifndef TOCSIN_TAXII_ENVELOPE_H
#define TOCSIN_TAXII_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/slice.h"
#include "util/tcerr.h"

struct taxii_span {
	size_t off, len; /* the element's bytes: body.p[off .. off+len) */
	bool ws;         /* holds whitespace outside strings (compact it before storing) */
};

/* Scans body for exactly the shape {"objects": [ {…}, {…}, … ]} (any JSON
 * whitespace between tokens; "objects" the only member, spelt without
 * escapes; at least one element, each starting with '{'), and records the
 * span of each element, cut by bracket depth outside strings. It checks
 * only the skeleton: an element span is a valid JSON value only if the
 * caller's parser says so; when every span parses, the body is valid JSON.
 * OUT: *spans (caller frees with free()), *n. Returns TC_OK; TC_EINVAL
 * when the body has another shape (the caller parses it whole, for the
 * precise error); TC_ELIMIT when it has more than max elements; TC_ENOMEM. */
enum tcerr taxii_envelope_scan(struct slice body, size_t max, struct taxii_span **spans, size_t *n);

/* Copies span s of body to out without the whitespace outside strings.
 * out must have room for s.len bytes. Returns the length written. */
size_t taxii_envelope_compact(struct slice body, const struct taxii_span *s, char *out);

#endif
