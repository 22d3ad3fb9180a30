/*
 * peer.h — a federation peer's border policy (issue 12 point 5,
 * docs/peers.md): what may cross between this hub and one peer.
 *
 * The policy is one line of text the operator gives `tocsin peer add
 * --policy` and the registry stores (struct reg_peer.policy):
 *
 *     tlp=green;types=indicator,malware;kinds=ipv4,domain;strip=description;rate=500
 *
 * Terms are ';'-separated KEY=VALUE, lists ','-separated; every key is
 * optional:
 *   tlp    the most restrictive level accepted: clear, green (default) or
 *          amber. AMBER+STRICT and RED never cross a border, whatever the
 *          policy says; AMBER crosses only where the peer's organisation
 *          shares a sharing group with the producer (outbound: the policy
 *          door, policy_row; inbound: the peer's organisation must be in a
 *          group, or nobody here could read what it sends).
 *   types  STIX types admitted (default: all).
 *   kinds  observable kinds admitted: an object naming a value of another
 *          kind is refused (default: all).
 *   strip  top-level properties removed from every object before it is
 *          stored (never id, type, spec_version, created, modified).
 *   rate   objects per second taken from the peer at most (0: no limit);
 *          replication slows down, nothing is dropped.
 *
 * The policy is checked on arrival (peer_policy_admit) by the receiving
 * hub, whatever the sender did. Parsing is the operator's input, but it
 * is bounded all the same (PEER_POLICY_* limits).
 */
#ifndef TOCSIN_PEER_H
#define TOCSIN_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "crypto/hubkey.h"
#include "observable/observable.h"
#include "prov/prov.h"
#include "stix/stix.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/tcerr.h"

#define PEER_POLICY_LIST_MAX 32      /* entries of one list */
#define PEER_POLICY_WORD_MAX 64      /* bytes of a type or property name */
#define PEER_RATE_MAX 10000000u      /* objects per second */

struct peer_policy {
	enum tlp_level tlp_max;           /* TLP_CLEAR, TLP_GREEN or TLP_AMBER */
	size_t ntypes, nkinds, nstrip;
	char types[PEER_POLICY_LIST_MAX][PEER_POLICY_WORD_MAX + 1];
	enum obs_kind kinds[PEER_POLICY_LIST_MAX];
	char strip[PEER_POLICY_LIST_MAX][PEER_POLICY_WORD_MAX + 1];
	unsigned rate;                    /* objects/s, 0 = unlimited */
};

/* Parses text ("" or NULL: the defaults). OUT: *out. Errors: TC_EINVAL
 * naming the term (unknown key, level above amber, bad type or kind,
 * property that may not be stripped), TC_ELIMIT (a list too long). */
enum tcerr peer_policy_parse(const char *text, struct peer_policy *out, struct diag *d);

/* Appends the policy in its canonical text form (every key, defaults
 * spelled out) to out. */
void peer_policy_text(const struct peer_policy *p, struct buf *out);

/* Removes the properties p strips from obj (an object). Returns how many
 * were removed. */
size_t peer_policy_strip(const struct peer_policy *p, json_t *obj);

/* May a version cross the border inbound? meta is the validated object,
 * tlp its effective level (unmarked: the hub's default), obs its
 * observables, in_group whether the peer's organisation is in some
 * sharing group. Returns TC_OK or TC_EPERM with the reason in d
 * ("tlp amber+strict never crosses a border", "type malware not
 * admitted", "kind url not admitted"). */
enum tcerr peer_policy_admit(const struct peer_policy *p, const struct stix_meta *meta,
                             enum tlp_level tlp, const struct store_obs *obs, size_t nobs,
                             bool in_group, struct diag *d);

/* Provenance of an object a peer relays (peer_prov.c). Verifies obj's
 * provenance extension with v; refuses a loop (self_id, this hub's
 * "<alg>:<hex>", is the origin or among the hops); then appends relay_id
 * (the relaying peer's id, "" or NULL: none) to the hops unless it is the
 * origin or already the last hop. An object without the extension is
 * refused when require, else admitted unchanged. OUT: *out (may be NULL).
 * Returns TC_OK, or TC_EPERM with the reason in d ("ID: provenance: wrong
 * proof: ...", "ID: loop: ..."); TC_ENOMEM. */
enum tcerr peer_prov_check(struct prov_verifier *v, json_t *obj, const char *self_id,
                           const char *relay_id, bool require, struct prov_info *out,
                           struct diag *d);

/* A peer's pin ("<alg> <hex>" or "<alg>:<hex>") as the hub id provenance
 * names hubs by ("<alg>:<hex>"); "" for "none" or an empty pin. Returns
 * TC_OK or TC_EINVAL (not a key). */
enum tcerr peer_hub_id(const char *pin, char out[HUBKEY_ID_MAX]);

#endif
