/*
 * policy.c — the one door (policy.h): collection rights and TLP 2.0 per
 * stored version, decided from an immutable registry snapshot.
 *
 * Invariant: every answer is computed from the subject, the snapshot and
 * the row alone, and any doubt hides: an unknown collection, an unknown
 * producer, a subject without an organisation, or a recipients list that
 * cannot be read (not JSON, wrong shape, more than POLICY_RECIPIENTS_MAX)
 * makes policy_row() answer false for everyone but the operator. The
 * version's JSON is parsed only when the answer depends on its named
 * recipients (AMBER+STRICT versions another organisation produced, and RED
 * versions), and then only when its bytes could hold the extension: a
 * version whose text contains neither POLICY_EXT_ID nor a \u escape (the
 * only way JSON can spell that ASCII key differently) names nobody, which
 * is what parsing it would find. The id occurring elsewhere (inside a
 * string value) only means the version is parsed; parsing decides.
 * Identifiers are compared byte for byte: the hub accepts only their
 * canonical lower-case form (stix_id_valid), and a recipients entry in
 * another form makes the list unreadable.
 */
#include <string.h>

#include <jansson.h>

#include "policy/policy.h"

void
policy_subject_principal(struct policy_subject *who, const struct reg_snapshot *snap,
                         const struct reg_principal *p)
{
	memset(who, 0, sizeof(*who));
	who->snap = snap;
	who->principal = p;
	who->org = p ? reg_snapshot_org(snap, p->org) : NULL;
}

void
policy_subject_org(struct policy_subject *who, const struct reg_snapshot *snap,
                   const struct reg_org *org)
{
	memset(who, 0, sizeof(*who));
	who->snap = snap;
	who->org = org;
}

void
policy_subject_operator(struct policy_subject *who, const struct reg_snapshot *snap)
{
	memset(who, 0, sizeof(*who));
	who->snap = snap;
	who->operator_ = true;
}

struct policy_rights
policy_collection(const struct policy_subject *who, const struct reg_collection *c)
{
	struct policy_rights r = { false, false };

	if (who->operator_)
		return (struct policy_rights){ true, true };
	/* A subject that is neither the operator nor of an organisation has
	 * no rights at all (not even through `all`). */
	if (!c || !who->org)
		return r;
	r.can_read = reg_spec_admits(&c->read, who->principal, who->org);
	r.can_write = who->principal && reg_role_writes(who->principal->role) &&
	              reg_spec_admits(&c->write, who->principal, who->org);
	return r;
}

/* true if the two organisations share a sharing group (both lists are
 * sorted and unique). */
static bool
share_group(const struct reg_org *a, const struct reg_org *b)
{
	size_t i = 0, j = 0;

	while (i < a->ngroups && j < b->ngroups) {
		int c = strcmp(a->groups[i], b->groups[j]);
		if (c == 0)
			return true;
		if (c < 0)
			i++;
		else
			j++;
	}
	return false;
}

/* Could json hold the key POLICY_EXT_ID? Only if the id occurs in it
 * literally or a \u escape could spell it (JSON §7: any character may be
 * written \uXXXX; none of the id's characters has a two-character escape).
 * A false answer is certain; a true one means "parse and see". */
static bool
may_hold_extension(struct slice json)
{
	static const char ext_id[] = POLICY_EXT_ID;
	const char *p = json.p, *end = json.p + json.len;

	if (memmem(json.p, json.len, ext_id, sizeof(ext_id) - 1))
		return true;
	/* a \u escape: memchr for the backslash, then skip the escaped
	 * character (the bytes \\u are an escaped backslash and a u). glibc's
	 * memmem walks a two-byte needle byte by byte: 545 ns for 700 bytes,
	 * against 9 ns for this loop. */
	while (p < end && (p = memchr(p, '\\', (size_t)(end - p)))) {
		if (end - p < 2)
			break;
		if (p[1] == 'u')
			return true;
		p += 2;
	}
	return false;
}

/* Is identity among the version's named recipients (extension
 * POLICY_EXT_ID, property "recipients")? A version without the extension
 * names nobody. Returns 1 named, 0 not named, -1 unreadable. */
static int
named_recipient(struct slice json, const char *identity)
{
	json_t *o, *ext, *rec, *v;
	size_t i;
	int named = 0;

	/* ~10 % of rows are AMBER+STRICT or RED and most name nobody: do not
	 * parse what cannot name anyone (measured: −40 % CPU per page) */
	if (!may_hold_extension(json))
		return 0;
	o = json_loadb(json.p, json.len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	ext = json_object_get(json_object_get(o, "extensions"), POLICY_EXT_ID);
	if (!ext)
		goto out;
	rec = json_object_get(ext, "recipients");
	if (!json_is_object(ext) || !json_is_array(rec) ||
	    json_array_size(rec) > POLICY_RECIPIENTS_MAX) {
		named = -1;
		goto out;
	}
	json_array_foreach(rec, i, v) {
		size_t tl;
		/* an identity id in the canonical lower-case form, or the list
		 * cannot be read: "IDENTITY--..." names nobody the hub knows,
		 * and in doubt the version is hidden */
		if (!json_is_string(v) ||
		    !stix_id_valid(slice_make(json_string_value(v), json_string_length(v)), &tl) ||
		    tl != sizeof("identity") - 1 || memcmp(json_string_value(v), "identity", tl) != 0) {
			named = -1;
			goto out;
		}
		if (strcmp(json_string_value(v), identity) == 0)
			named = 1;
	}
out:
	json_decref(o);
	return named;
}

bool
policy_row(const struct policy_subject *who, const struct store_row *row)
{
	const struct reg_collection *c;
	const struct reg_org *producer;
	enum tlp_level tlp;
	bool own;

	if (who->operator_)
		return true;
	if (!who->org)
		return false;
	c = reg_snapshot_collection(who->snap, row->collection);
	if (!c || !policy_collection(who, c).can_read)
		return false;
	/* TLP 1.0 levels arrive mapped onto 2.0 (stix_tlp_from_marking);
	 * unknown markings as RED (stix_markings_tlp) */
	tlp = policy_effective_tlp(who->snap, row->tlp, NULL);
	own = row->producer != 0 && row->producer == who->org->num;
	/* A peer hub (issue 12, docs/peers.md) reads across a border:
	 * AMBER+STRICT and RED never leave, AMBER only towards a peer whose
	 * organisation shares a sharing group with the producer (the hub's
	 * own AMBER, in no group, stays home), and what the peer itself sent
	 * is not echoed back to it. */
	if (who->principal && who->principal->role == ROLE_PEER) {
		if (own || tlp == TLP_AMBER_STRICT || tlp == TLP_RED)
			return false;
		if (tlp == TLP_AMBER) {
			producer = row->producer ? reg_snapshot_org(who->snap, row->producer) : NULL;
			return producer && share_group(producer, who->org);
		}
		return tlp == TLP_CLEAR || tlp == TLP_GREEN;
	}
	/* A producer always sees its own versions, RED included (issue 8):
	 * it wrote them, hiding them from it protects nothing. */
	if (own)
		return true;
	switch (tlp) {
	case TLP_CLEAR:
	case TLP_GREEN:
		return true;
	case TLP_AMBER:
		/* TLP 2.0 AMBER: the producer's organisation and those it
		 * shares a sharing group with. The hub itself (producer 0) is
		 * in no group: it is the source, and the operator chose the
		 * audience by the collection's read rights, as a producer
		 * chooses its groups, so every reader of the collection sees
		 * the hub's AMBER. */
		if (row->producer == 0)
			return true;
		producer = reg_snapshot_org(who->snap, row->producer);
		return producer && share_group(producer, who->org);
	case TLP_AMBER_STRICT:
		return named_recipient(row->json, who->org->identity) == 1;
	case TLP_RED:
		/* named recipients only (and the producer, above) */
		return named_recipient(row->json, who->org->identity) == 1;
	case TLP_NONE:
		break;
	}
	return false;
}

bool
policy_may_delete(const struct policy_subject *who, const struct store_row *row)
{
	const struct reg_collection *c;
	struct policy_rights r;

	if (who->operator_)
		return true;
	if (!who->principal || !who->org)
		return false;
	c = reg_snapshot_collection(who->snap, row->collection);
	r = policy_collection(who, c);
	if (!r.can_read || !r.can_write || !policy_row(who, row))
		return false;
	return (row->producer != 0 && row->producer == who->org->num) ||
	       who->principal->role == ROLE_ADMIN;
}

enum tlp_level
policy_effective_tlp(const struct reg_snapshot *snap, enum tlp_level stored, bool *defaulted)
{
	if (defaulted)
		*defaulted = stored == TLP_NONE;
	return stored == TLP_NONE ? reg_snapshot_default_tlp(snap) : stored;
}

bool
policy_audit_read(const struct policy_subject *who, const struct store_row *row)
{
	enum tlp_level tlp = policy_effective_tlp(who ? who->snap : NULL, row->tlp, NULL);
	return tlp == TLP_AMBER || tlp == TLP_AMBER_STRICT || tlp == TLP_RED;
}
