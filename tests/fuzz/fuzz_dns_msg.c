/*
 * Fuzz target: a DNS request as tocsind's RPZ server receives it
 * (lib/rpz/rpz_msg.c: ldns_wire2pkt, then this server's classification),
 * and the name lookups that follow. Invariants:
 *   - whatever is accepted has its text fields NUL-terminated within
 *     their sizes, and a qname that rpz_relative splits against an origin
 *     gives a relative name that fits a trigger;
 *   - what ldns accepted, written back to wire format, parses again to
 *     the same classification (opcode, question, TSIG, IXFR serial).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpz/rpz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpz_request r, r2;
	struct diag d;
	char rel[RPZ_NAME_MAX];
	if (rpz_request_parse(slice_make((const char *)data, size), &r, &d) != TC_OK)
		return 0;
	if (strnlen(r.qname, sizeof r.qname) == sizeof r.qname ||
	    strnlen(r.tsig_key, sizeof r.tsig_key) == sizeof r.tsig_key)
		abort();
	if (r.one_question && rpz_relative(r.qname, "rpz.tocsin.example.", rel) &&
	    strnlen(rel, sizeof rel) == sizeof rel)
		abort();
	uint8_t *wire = NULL;
	size_t len = 0;
	if (ldns_pkt2wire(&wire, r.pkt, &len) == LDNS_STATUS_OK) {
		if (rpz_request_parse(slice_make((const char *)wire, len), &r2, &d) == TC_OK) {
			if (r2.opcode != r.opcode || r2.one_question != r.one_question ||
			    (r.one_question && (strcmp(r.qname, r2.qname) != 0 || r.qtype != r2.qtype)) ||
			    r2.tsig != r.tsig || r2.has_serial != r.has_serial ||
			    (r.has_serial && r.serial != r2.serial))
				abort();
			rpz_request_free(&r2);
		}
		free(wire);
	}
	rpz_request_free(&r);
	return 0;
}
