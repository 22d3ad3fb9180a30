/*
 * rpz_msg.h — a DNS request to tocsind's RPZ server, parsed (ldns) and
 * classified: the first code that touches a client's bytes
 * (daemon/dns.c), kept in lib/ so a fuzzer runs it (tests/fuzz/
 * fuzz_dns_msg.c).
 *
 * Untrusted bytes: ldns_wire2pkt bounds every read by the message's
 * length; what it accepts is then held to this server's own rules: one
 * question, a name of at most 255 bytes, the IXFR client's SOA (if any)
 * well formed. Names are given as lower-case text with the final dot,
 * the form zone origins are configured in.
 */
#ifndef TOCSIN_RPZ_MSG_H
#define TOCSIN_RPZ_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "rpz/rpz.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define RPZ_DNAME_TEXT_MAX 1100   /* ldns's text of a 255-byte name (escapes: \DDD) */
#define RPZ_MSG_MIN 12            /* the header (RFC 1035 §4.1.1) */

struct rpz_request {
	ldns_pkt *pkt;                /* owned: rpz_request_free */
	bool response;                /* QR set: an answer (to our NOTIFY), not a request */
	ldns_pkt_opcode opcode;
	bool one_question;            /* exactly one question: qname, qtype, qclass are set */
	char qname[RPZ_DNAME_TEXT_MAX];
	ldns_rr_type qtype;
	ldns_rr_class qclass;
	bool tsig;                    /* signed: tsig_key names the key */
	char tsig_key[RPZ_DNAME_TEXT_MAX];
	bool has_serial;              /* IXFR: the client's SOA serial (RFC 1995 §3) */
	uint32_t serial;
};

/* Parses wire. Errors: TC_EINVAL (shorter than a header, or ldns refuses
 * it: the caller sends nothing back), TC_ENOMEM. On success the caller
 * frees with rpz_request_free. */
enum tcerr rpz_request_parse(struct slice wire, struct rpz_request *out, struct diag *d);
void rpz_request_free(struct rpz_request *r);

/* Is name (lower-case text, final dot) origin itself or below it? OUT:
 * rel, the part before origin without its final dot ("" for the origin
 * itself). false when it is not in origin or rel would not fit. */
bool rpz_relative(const char *name, const char *origin, char rel[RPZ_NAME_MAX]);

#endif
