/*
 * Fuzz target: decoding and checking a `next` cursor
 * (lib/taxii/taxii_cursor.c). The input is a URL query string, parsed as
 * the objects endpoint would (so the fuzzer controls both the filters and
 * the `next` text). Invariants:
 *   - a cursor the server did not make is rejected: whenever
 *     taxii__cursor_check accepts q.next, it is byte for byte the cursor
 *     taxii__cursor_make gives for the decoded position;
 *   - a cursor the server makes for these filters is accepted and gives
 *     back its position, and is refused for another principal, endpoint,
 *     collection or object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
mix(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct taxii_server_cfg cfg;
	struct reg_principal p1 = {.num = 7, .org = 1, .role = ROLE_READER};
	struct reg_principal p2 = {.num = 8, .org = 1, .role = ROLE_READER};
	struct reg_org org = {.num = 1, .name = "bank", .sector = SECTOR_FINANCE};
	struct policy_subject who1 = {.principal = &p1, .org = &org};
	struct policy_subject who2 = {.principal = &p2, .org = &org};
	struct reg_collection col1 = {.c = {.num = 3}}, col2 = {.c = {.num = 4}};
	struct taxii__rq r = {.cfg = &cfg, .who = &who1, .col = &col1};
	struct taxii_query q;
	struct taxii__pos pos;
	struct diag d;
	char text[TAXII__CURSOR_TEXT + 1];

	memset(cfg.cursor_key, 0xa5, sizeof(cfg.cursor_key));
	taxii_query_init(&q);
	if (taxii_query_parse(&q, 0x7f, slice_make((const char *)data, size), &d) != TC_OK)
		goto out;

	/* arbitrary text as `next` */
	if ((q.present & TAXII_P_NEXT) &&
	    taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, q.next, &pos) == TC_OK) {
		taxii__cursor_make(&r, TAXII__EP_OBJECTS, &q, pos, text);
		if (strcmp(text, q.next) != 0)
			abort(); /* accepted a cursor the server never made */
	}

	/* a cursor made here round-trips, and only for its own query */
	uint64_t h = mix(data, size);
	struct taxii__pos made = {.date_us = (int64_t)(h >> 2) | 1, .seq = h * 31};
	taxii__cursor_make(&r, TAXII__EP_OBJECTS, &q, made, text);
	if (strlen(text) != 60 || strlen(text) > TAXII_NEXT_MAX)
		abort();
	if (taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, text, &pos) != TC_OK ||
	    pos.date_us != made.date_us || pos.seq != made.seq)
		abort();
	if (taxii__cursor_check(&r, TAXII__EP_MANIFEST, &q, text, &pos) == TC_OK)
		abort();
	r.who = &who2;
	if (taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, text, &pos) == TC_OK)
		abort();
	r.who = &who1;
	r.col = &col2;
	if (taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, text, &pos) == TC_OK)
		abort();
	r.col = &col1;
	memcpy(r.object_id, "indicator--x", sizeof("indicator--x"));
	if (taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, text, &pos) == TC_OK)
		abort();
	r.object_id[0] = '\0';
	/* one character changed: refused */
	size_t i = (size_t)(h % 60);
	text[i] = text[i] == 'A' ? 'B' : 'A';
	if (taxii__cursor_check(&r, TAXII__EP_OBJECTS, &q, text, &pos) == TC_OK)
		abort();
out:
	taxii_query_reset(&q);
	return 0;
}
