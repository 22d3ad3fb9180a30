/*
 * export_query.h — the URL query of GET /api/v1/export/{format}: split
 * and percent-decoded into (key, value) pairs, with limits.
 *
 * The string is hostile: at most EXPORT_QUERY_MAX_LEN bytes and
 * EXPORT_QUERY_MAX_PARAMS parameters; "%XX" is decoded and '+' is a space
 * (application/x-www-form-urlencoded); a bad escape, or a decoded control
 * byte (NUL included), is refused rather than passed on.
 */
#ifndef TOCSIN_EXPORT_QUERY_H
#define TOCSIN_EXPORT_QUERY_H

#include <stddef.h>

#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define EXPORT_QUERY_MAX_LEN 8192   /* bytes of the raw query */
#define EXPORT_QUERY_MAX_PARAMS 64  /* parameters */

struct export_query {
	size_t n;
	const char *key[EXPORT_QUERY_MAX_PARAMS];   /* NUL-terminated, in mem */
	const char *value[EXPORT_QUERY_MAX_PARAMS]; /* "" for "key" without '=' */
	char mem[EXPORT_QUERY_MAX_LEN + EXPORT_QUERY_MAX_PARAMS * 2];
};

/* Parses raw ("a=1&b=2", without '?') into q (no allocation; empty
 * pieces such as "a=1&&b=2" are skipped). Errors: TC_ELIMIT (too long,
 * too many), TC_EINVAL (bad escape, control byte, empty key); the message
 * says which. */
enum tcerr export_query_parse(struct slice raw, struct export_query *q, struct diag *d);

#endif
