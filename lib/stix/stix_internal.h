/*
 * stix_internal.h — library-private helpers shared by the lib/stix files.
 *
 * Not part of the contract: only the lib/stix sources include this. Names carry the
 * double-underscore prefix (stix__) that marks them as library-private.
 */
#ifndef TOCSIN_STIX_INTERNAL_H
#define TOCSIN_STIX_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "stix.h"

/* Validation context: where messages go and how they are prefixed. */
struct stix__vctx {
	const char *path; /* "objects[3]", or NULL/"" for none */
	struct diag *d;
	const struct stix_limits *lim;
	bool v20; /* the object has no spec_version: STIX 2.0 rules */
};

/* Records "<path>.<prop>: <message>" (prop NULL: "<path>: <message>") in
 * c->d and returns rc. */
enum tcerr stix__verr(struct stix__vctx *c, enum tcerr rc, const char *prop, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks that a marking-definition whose id is a TLP id carries the
 * canonical TLP content, and that no other id claims to be TLP. Returns
 * TC_OK or TC_EINVAL (message in c->d). */
enum tcerr stix__tlp_check_definition(const json_t *obj, const char *id, struct stix__vctx *c);

#endif
