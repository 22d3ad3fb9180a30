/*
 * policy.h — the one door (DESIGN §2.3): may this requester see this
 * object version, read or write this collection, delete this version?
 *
 * Every read path (TAXII objects, object, versions, manifest; CLI export;
 * later stream, match and federation) calls policy_row() for each stored
 * version before showing it; nothing else decides. The rules:
 *
 *  - Collections: can_read when the collection's read SPEC admits the
 *    principal; can_write when its write SPEC admits it and the role
 *    writes at all (reg_role_writes).
 *  - TLP 2.0 on the version (TLP 1.0 maps onto it; granular markings
 *    count for the whole version; a marking the hub does not know counts
 *    as RED, a known statement marking as nothing: stix_markings_tlp();
 *    an unmarked version counts as the hub's default_tlp, green unless
 *    configured: reg_snapshot_default_tlp()):
 *      CLEAR, GREEN   every reader of the collection;
 *      AMBER          readers whose organisation is the producer or shares
 *                     a sharing group with it; for the hub's own versions
 *                     (producer 0) every reader of the collection;
 *      AMBER+STRICT   readers of the producer's organisation and of the
 *                     named recipients;
 *      RED            readers of the producer's organisation and of the
 *                     named recipients.
 *    The producer's organisation always sees its own versions.
 *  - Named recipients: the identity ids (struct reg_org.identity) listed
 *    in the version's property extension POLICY_EXT_ID, property
 *    "recipients". Read only for AMBER+STRICT and RED versions.
 *  - Deleting a version: the requester can read and write the collection,
 *    can see the version, and its organisation produced it or its role is
 *    admin.
 *  - A principal of role peer (another hub, docs/peers.md) never sees
 *    AMBER+STRICT or RED, sees AMBER only where its organisation shares
 *    a sharing group with the producer (not the hub's own AMBER), and
 *    does not see the versions its own organisation produced (what it
 *    sent us is not echoed back).
 *  - The operator subject (the hub's own CLI, with access to the data
 *    directory) sees and may do everything; a --for ORG option on the CLI
 *    builds an organisation subject instead.
 */
#ifndef TOCSIN_POLICY_H
#define TOCSIN_POLICY_H

#include <stdbool.h>

#include <jansson.h>

#include "registry/registry.h"
#include "store/store.h"

/* The tocsin distribution extension (data/extensions/x-tocsin-distribution.json). */
#define POLICY_EXT_ID STIX_EXT_DISTRIBUTION
#define POLICY_RECIPIENTS_MAX STIX_RECIPIENTS_MAX /* recipients read from one version */

/* Who asks. Built once per request. */
struct policy_subject {
	const struct reg_snapshot *snap;
	const struct reg_principal *principal;  /* NULL for the operator */
	const struct reg_org *org;              /* NULL for the operator */
	bool operator_;
};

/* A subject for principal p (org looked up in snap; a principal whose
 * organisation is not in snap sees nothing); the operator subject. */
void policy_subject_principal(struct policy_subject *who, const struct reg_snapshot *snap,
                              const struct reg_principal *p);
void policy_subject_operator(struct policy_subject *who, const struct reg_snapshot *snap);
/* A subject for organisation org as a whole, with no principal (CLI
 * `export --for ORG`): `role:` terms of a SPEC admit nobody, so it sees
 * what every principal of org may see, and it may write nothing. org
 * belongs to snap (or outlives the subject). A NULL org sees nothing. */
void policy_subject_org(struct policy_subject *who, const struct reg_snapshot *snap,
                        const struct reg_org *org);

struct policy_rights {
	bool can_read, can_write;
};

/* The requester's rights on collection c (TAXII can_read / can_write). */
struct policy_rights policy_collection(const struct policy_subject *who,
                                       const struct reg_collection *c);

/* May who see this stored version? Checks the collection's read rights
 * (row->collection) and the version's TLP. Never errors: a version it
 * cannot judge (unparsable recipients, unknown collection) is hidden. */
bool policy_row(const struct policy_subject *who, const struct store_row *row);

/* May who delete this version? (Implies policy_row.) */
bool policy_may_delete(const struct policy_subject *who, const struct store_row *row);

/* The level a version counts as: its stored level (stix_meta.tlp), or
 * for an unmarked version (TLP_NONE) snap's default_tlp (REG_DEFAULT_TLP
 * for a NULL snap). OUT: *defaulted (may be NULL) = the level is the
 * default, so outputs can say "green (default)". */
enum tlp_level policy_effective_tlp(const struct reg_snapshot *snap, enum tlp_level stored,
                                    bool *defaulted);

/* True when reading this version must be written to the audit log:
 * its effective level (who's snapshot's default for an unmarked one;
 * who may be NULL) is AMBER, AMBER+STRICT or RED. */
bool policy_audit_read(const struct policy_subject *who, const struct store_row *row);

/* Authorship (issue 8, policy_author.c). May producer publish obj as far
 * as its authorship goes? producer NULL is the hub itself. Rules:
 * created_by_ref absent, or (for an organisation) its own identity id; the
 * hub may name any identity that is no organisation's; an `identity`
 * object whose id is an organisation's identity is published only by that
 * organisation or the hub. Ids compare without regard to case. Returns
 * TC_OK, or TC_EPERM with the reason in d ("PATH.created_by_ref: ...",
 * naming the organisation and what to do instead). obj is only read. */
enum tcerr policy_author_check(const struct reg_snapshot *snap, const struct reg_org *producer,
                               const json_t *obj, const char *path, struct diag *d);

/* The one exception, for objects a peer hub relays (daemon/peers.c only):
 * created_by_ref may name identities this hub does not know (other hubs'
 * organisations), but never one of this hub's organisations other than
 * peer (the organisation standing for the peer); likewise an identity
 * object. Returns TC_OK or TC_EPERM with the reason. */
enum tcerr policy_author_check_peer(const struct reg_snapshot *snap, const struct reg_org *peer,
                                    const json_t *obj, const char *path, struct diag *d);

/* true if some organisation of snap, as a whole (policy_subject_org: no
 * role), may see row. An import asks it to warn of versions nobody can
 * read. O(organisations) policy_row() calls at worst. */
bool policy_any_reader(const struct reg_snapshot *snap, const struct store_row *row);

#endif
