/*
 * rpz_msg.c — parsing and classifying a request to the RPZ server
 * (rpz_msg.h). Invariant: whatever rpz_request_parse returns TC_OK for
 * has its text fields NUL-terminated and within their sizes, and pkt set.
 */
#include "rpz/rpz_msg.h"

#include <stdlib.h>
#include <string.h>

/* The text of a name, lower case, final dot. false if it does not fit. */
static bool
name_text(const ldns_rdf *name, char *out, size_t n)
{
	char *t = ldns_rdf2str(name);
	if (!t)
		return false;
	size_t len = strlen(t);
	if (len + 1 > n) {
		free(t);
		return false;
	}
	for (size_t i = 0; i <= len; i++)
		out[i] = (t[i] >= 'A' && t[i] <= 'Z') ? (char)(t[i] - 'A' + 'a') : t[i];
	free(t);
	return true;
}

/* Skips a (possibly compressed) name at *at. false past the end. */
static bool
skip_name(const uint8_t *p, size_t len, size_t *at)
{
	size_t i = *at;
	for (int labels = 0; labels < 128; labels++) {
		if (i >= len)
			return false;
		uint8_t b = p[i];
		if (b == 0) {
			*at = i + 1;
			return true;
		}
		if ((b & 0xc0) == 0xc0) {
			if (i + 2 > len)
				return false;
			*at = i + 2;
			return true;
		}
		if (b & 0xc0)
			return false;
		i += 1u + b;
	}
	return false;
}

/* RFC 8945 §5.1: at most one TSIG, the last record of the additional
 * section. Checked on the wire before ldns parses it: ldns keeps only
 * the last TSIG of a message and leaks the others, which a client could
 * repeat at will. */
static bool
tsig_placement_ok(const uint8_t *p, size_t len)
{
	size_t at = RPZ_MSG_MIN;
	unsigned qd = (unsigned)p[4] << 8 | p[5], an = (unsigned)p[6] << 8 | p[7];
	unsigned ns = (unsigned)p[8] << 8 | p[9], ar = (unsigned)p[10] << 8 | p[11];
	for (unsigned i = 0; i < qd; i++) {
		if (!skip_name(p, len, &at) || at + 4 > len)
			return false;
		at += 4;
	}
	unsigned total = an + ns + ar;
	for (unsigned i = 0; i < total; i++) {
		if (!skip_name(p, len, &at) || at + 10 > len)
			return false;
		unsigned type = (unsigned)p[at] << 8 | p[at + 1];
		size_t rdlen = (size_t)p[at + 8] << 8 | p[at + 9];
		at += 10;
		if (at + rdlen > len)
			return false;
		at += rdlen;
		if (type == LDNS_RR_TYPE_TSIG && i + 1 != total)
			return false; /* not last, or not alone */
	}
	return true;
}

enum tcerr
rpz_request_parse(struct slice wire, struct rpz_request *r, struct diag *d)
{
	memset(r, 0, sizeof *r);
	if (wire.len < RPZ_MSG_MIN)
		return diag_set(d, TC_EINVAL, "shorter than a DNS header");
	if (!tsig_placement_ok((const uint8_t *)wire.p, wire.len))
		return diag_set(d, TC_EINVAL, "a TSIG that is not the message's last record, or "
		                              "a record past the message's end");
	ldns_status st = ldns_wire2pkt(&r->pkt, (const uint8_t *)wire.p, wire.len);
	if (st != LDNS_STATUS_OK) {
		r->pkt = NULL;
		return diag_set(d, st == LDNS_STATUS_MEM_ERR ? TC_ENOMEM : TC_EINVAL, "%s",
		                ldns_get_errorstr_by_id(st));
	}
	r->response = ldns_pkt_qr(r->pkt);
	r->opcode = ldns_pkt_get_opcode(r->pkt);
	ldns_rr_list *ql = ldns_pkt_question(r->pkt);
	if (ql && ldns_rr_list_rr_count(ql) == 1) {
		const ldns_rr *q = ldns_rr_list_rr(ql, 0);
		if (ldns_rr_owner(q) && name_text(ldns_rr_owner(q), r->qname, sizeof r->qname)) {
			r->one_question = true;
			r->qtype = ldns_rr_get_type(q);
			r->qclass = ldns_rr_get_class(q);
		}
	}
	const ldns_rr *tsig = ldns_pkt_tsig(r->pkt);
	if (tsig && ldns_rr_owner(tsig) && ldns_rr_rd_count(tsig) >= 4 &&
	    name_text(ldns_rr_owner(tsig), r->tsig_key, sizeof r->tsig_key))
		r->tsig = true;
	ldns_rr_list *auth = ldns_pkt_authority(r->pkt);
	if (r->qtype == LDNS_RR_TYPE_IXFR && auth && ldns_rr_list_rr_count(auth) == 1) {
		const ldns_rr *soa = ldns_rr_list_rr(auth, 0);
		if (ldns_rr_get_type(soa) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(soa) == 7 &&
		    ldns_rr_rdf(soa, 2) && ldns_rdf_size(ldns_rr_rdf(soa, 2)) == 4) {
			r->has_serial = true;
			r->serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
		}
	}
	return TC_OK;
}

void
rpz_request_free(struct rpz_request *r)
{
	if (r->pkt)
		ldns_pkt_free(r->pkt);
	r->pkt = NULL;
}

bool
rpz_relative(const char *name, const char *origin, char rel[RPZ_NAME_MAX])
{
	size_t nl = strlen(name), ol = strlen(origin);
	if (nl == ol && strcmp(name, origin) == 0) {
		rel[0] = '\0';
		return true;
	}
	if (strcmp(origin, ".") == 0) {
		if (nl < 2 || nl > RPZ_NAME_MAX)
			return false;
		memcpy(rel, name, nl - 1);
		rel[nl - 1] = '\0';
		return true;
	}
	/* "REL." + origin, with the dot a label boundary (not an escaped one) */
	if (nl <= ol + 1 || strcmp(name + nl - ol, origin) != 0 || name[nl - ol - 1] != '.' ||
	    (nl - ol >= 2 && name[nl - ol - 2] == '\\'))
		return false;
	size_t rl = nl - ol - 1;
	if (rl >= RPZ_NAME_MAX)
		return false;
	memcpy(rel, name, rl);
	rel[rl] = '\0';
	return true;
}
