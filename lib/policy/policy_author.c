/*
 * policy_author.c — who may say an object is theirs (issue 8): the
 * authorship rule every write path applies before storing an object, and
 * the question "can any organisation read this version at all?" that an
 * import asks to warn its operator.
 *
 * Invariant: an organisation publishes only as itself. An object's
 * created_by_ref is absent or names the producer's own STIX identity
 * (struct reg_org.identity); naming another organisation's identity, or
 * an identity the hub does not know, is refused with the reason, so no
 * reader is told that a bank said what an operator posted. The hub itself
 * (producer 0: the operator's imports, migrations) may name identities no
 * organisation has (a feed names its source) but not an organisation's:
 * it imports those with `--as ORG`, under that organisation's rules.
 * Identity ids compare without regard to case, so a spelling in upper
 * case is the same identity.
 */
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "policy/policy.h"

/* "PATH." or "" for messages. */
static const char *
dot(const char *path)
{
	return path && *path ? "." : "";
}

enum tcerr
policy_author_check(const struct reg_snapshot *snap, const struct reg_org *producer,
                    const json_t *obj, const char *path, struct diag *d)
{
	const char *by = json_string_value(json_object_get(obj, "created_by_ref"));
	const char *type = json_string_value(json_object_get(obj, "type"));
	const char *id = json_string_value(json_object_get(obj, "id"));
	const struct reg_org *named;

	if (!path)
		path = "";
	/* an identity object describing an organisation is that
	 * organisation's to publish (or the hub's) */
	if (producer && type && id && strcmp(type, "identity") == 0 &&
	    strcasecmp(id, producer->identity) != 0 &&
	    (named = reg_snapshot_org_by_identity(snap, id)))
		return diag_set(d, TC_EPERM,
		                "%s%sid: %s is the identity of organisation '%s'; only that "
		                "organisation publishes it",
		                path, dot(path), id, named->name);
	/* a created_by_ref that is no string is the validator's to refuse */
	if (!by)
		return TC_OK;
	if (producer) {
		if (strcasecmp(by, producer->identity) == 0)
			return TC_OK;
		named = reg_snapshot_org_by_identity(snap, by);
		if (named)
			return diag_set(d, TC_EPERM,
			                "%s%screated_by_ref: %s is the identity of organisation "
			                "'%s'; '%s' may publish only as itself (%s) or leave "
			                "created_by_ref out",
			                path, dot(path), by, named->name, producer->name,
			                producer->identity);
		return diag_set(d, TC_EPERM,
		                "%s%screated_by_ref: %s is not the identity of '%s' (%s); name "
		                "your own identity or leave created_by_ref out",
		                path, dot(path), by, producer->name, producer->identity);
	}
	named = reg_snapshot_org_by_identity(snap, by);
	if (named)
		return diag_set(d, TC_EPERM,
		                "%s%screated_by_ref: %s is the identity of organisation '%s'; "
		                "import its objects with --as '%s'",
		                path, dot(path), by, named->name, named->name);
	return TC_OK;
}

/* The federation path (issue 12, daemon/peers.c): the one narrow
 * exception to "an organisation publishes only as itself". A peer hub
 * relays objects other hubs' organisations made, so their created_by_ref
 * names identities this hub does not know; that is accepted, but a peer
 * may never speak for one of this hub's own organisations (other than
 * the organisation standing for the peer). */
enum tcerr
policy_author_check_peer(const struct reg_snapshot *snap, const struct reg_org *peer,
                         const json_t *obj, const char *path, struct diag *d)
{
	const char *by = json_string_value(json_object_get(obj, "created_by_ref"));
	const char *type = json_string_value(json_object_get(obj, "type"));
	const char *id = json_string_value(json_object_get(obj, "id"));
	const struct reg_org *named;

	if (!path)
		path = "";
	if (type && id && strcmp(type, "identity") == 0 && (named = reg_snapshot_org_by_identity(snap, id)) &&
	    named->num != peer->num)
		return diag_set(d, TC_EPERM,
		                "%s%sid: %s is the identity of this hub's organisation '%s'; a peer "
		                "may not publish it",
		                path, dot(path), id, named->name);
	if (by && (named = reg_snapshot_org_by_identity(snap, by)) && named->num != peer->num)
		return diag_set(d, TC_EPERM,
		                "%s%screated_by_ref: %s is the identity of this hub's organisation "
		                "'%s'; a peer may not publish as it",
		                path, dot(path), by, named->name);
	return TC_OK;
}

bool
policy_any_reader(const struct reg_snapshot *snap, const struct store_row *row)
{
	size_t n = reg_snapshot_norgs(snap);

	for (size_t i = 0; i < n; i++) {
		struct policy_subject who;
		policy_subject_org(&who, snap, reg_snapshot_org_at(snap, i));
		if (policy_row(&who, row))
			return true;
	}
	return false;
}
