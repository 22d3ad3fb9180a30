/*
 * taxii_query.h — the URL parameters of TAXII 2.1 GET requests (§3.4, §3.5).
 *
 * added_after (one timestamp, exclusive), limit (integer > 0), next (an
 * opaque cursor), and the match[...] filters: id, type, version (first,
 * last, all or timestamps), spec_version. Each field may appear at most
 * once; its comma-separated values are ORed; fields are ANDed. Anything
 * malformed is TC_EINVAL with a message naming the parameter, which the
 * daemon answers with 400. Unknown match[] fields and unknown parameters
 * are ignored, as §3.4 allows.
 */
#ifndef TOCSIN_TAXII_QUERY_H
#define TOCSIN_TAXII_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define TAXII_QUERY_MAX_LEN 16384      /* bytes of query string */
#define TAXII_QUERY_MAX_VALUES 256     /* comma-separated values per match[] field */
#define TAXII_NEXT_MAX 512             /* bytes of a next cursor */

/* Which parameters an endpoint accepts (§5.3-§5.8 differ). */
enum taxii_param {
	TAXII_P_ADDED_AFTER = 1 << 0,
	TAXII_P_LIMIT = 1 << 1,
	TAXII_P_NEXT = 1 << 2,
	TAXII_P_MATCH_ID = 1 << 3,
	TAXII_P_MATCH_TYPE = 1 << 4,
	TAXII_P_MATCH_VERSION = 1 << 5,
	TAXII_P_MATCH_SPEC_VERSION = 1 << 6,
};

enum taxii_version_bits {
	TAXII_V_LAST = 1,
	TAXII_V_FIRST = 2,
	TAXII_V_ALL = 4,
};

struct taxii_query {
	unsigned present;             /* enum taxii_param bits seen */
	int64_t added_after_us;
	size_t limit;
	char next[TAXII_NEXT_MAX + 1];
	char **ids; size_t nids;      /* owned */
	char **types; size_t ntypes;  /* owned */
	unsigned versions;            /* enum taxii_version_bits; 0 = default (last) */
	int64_t *version_us; size_t nversion_us; /* owned */
	char **spec_versions; size_t nspec_versions; /* owned */
};

/* Empties q (no allocation). */
void taxii_query_init(struct taxii_query *q);
/* Frees what q owns and empties it. */
void taxii_query_reset(struct taxii_query *q);

/* Adds one decoded key=value pair. allowed is a set of enum taxii_param:
 * a known parameter outside it is ignored (a TAXII server MAY ignore
 * parameters it does not support). Errors: TC_EINVAL (message names the
 * parameter: "match[version]: 'all' cannot be combined with other values"),
 * TC_ELIMIT, TC_ENOMEM. */
enum tcerr taxii_query_add(struct taxii_query *q, unsigned allowed, struct slice key,
                           struct slice value, struct diag *d);

/* Parses a raw query string ("a=1&b=2", percent-encoded, '+' as space)
 * with taxii_query_add. Errors as above plus bad percent-encoding. */
enum tcerr taxii_query_parse(struct taxii_query *q, unsigned allowed, struct slice raw,
                             struct diag *d);

#endif
