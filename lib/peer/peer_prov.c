/*
 * peer_prov.c — what a hub checks of an object's signed provenance
 * (lib/prov) when a peer relays it (issue 12, docs/peers.md): the proof
 * and the origin's signature verify, the object did not come round to the
 * hub that signed it or already relayed it (a loop), and the relaying
 * peer is appended to the unsigned hop list before the object is stored.
 *
 * Invariant: an object is admitted only after prov_verify says its leaf
 * (its content without the provenance extension) is in a tree whose root
 * the origin signed; a changed object (tampered) or a proof copied from
 * another object (replayed) fails there.
 */
#include <string.h>
#include <strings.h>

#include "peer/peer.h"

enum tcerr
peer_prov_check(struct prov_verifier *v, json_t *obj, const char *self_id,
                const char *relay_id, bool require, struct prov_info *out, struct diag *d)
{
	struct prov_info info;
	struct diag vd;
	const char *id = json_string_value(json_object_get(obj, "id"));
	if (!id)
		id = "?";
	memset(&info, 0, sizeof info);
	if (out)
		memset(out, 0, sizeof *out);
	if (!prov_present_json(obj)) {
		if (out)
			out->fault = PROV_MISSING;
		return require ? diag_set(d, TC_EPERM, "%s: provenance: missing (the peer's hub "
		                                      "must sign what it sends)", id)
		               : TC_OK;
	}
	diag_clear(&vd);
	if (prov_verify_json(v, obj, &info, &vd) != TC_OK) {
		if (out)
			*out = info;
		return diag_set(d, TC_EPERM, "%s: provenance: %s: %s", id,
		                prov_fault_str(info.fault), vd.msg);
	}
	if (self_id && *self_id) {
		if (strcasecmp(info.origin_hub, self_id) == 0)
			return diag_set(d, TC_EPERM, "%s: loop: this hub is the object's origin", id);
		for (size_t i = 0; i < info.n_hops; i++)
			if (strcasecmp(info.hops[i], self_id) == 0)
				return diag_set(d, TC_EPERM, "%s: loop: this hub relayed the object "
				                "before (hop %zu)", id, i + 1);
	}
	if (relay_id && *relay_id && strcasecmp(relay_id, info.origin_hub) != 0 &&
	    (info.n_hops == 0 || strcasecmp(info.hops[info.n_hops - 1], relay_id) != 0)) {
		struct diag hd;
		diag_clear(&hd);
		enum tcerr rc = prov_add_hop(obj, relay_id, &hd);
		if (rc)
			return diag_set(d, rc == TC_ELIMIT ? TC_EPERM : rc, "%s: provenance hops: %s",
			                id, hd.msg);
	}
	if (out)
		*out = info;
	return TC_OK;
}

enum tcerr
peer_hub_id(const char *pin, char out[HUBKEY_ID_MAX])
{
	struct hubkey_pub p;
	size_t n = pin ? strlen(pin) : 0;
	out[0] = '\0';
	if (!n || strcasecmp(pin, "none") == 0)
		return TC_OK;
	const char *sp = memchr(pin, ' ', n);
	if (!hubkey_pub_parse(pin, n, sp ? ' ' : ':', &p, NULL))
		return TC_EINVAL;
	hubkey_pub_id(&p, out);
	return TC_OK;
}
