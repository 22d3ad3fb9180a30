/*
 * taxii_read.c — the paged read endpoints: manifest (§5.3), objects GET
 * (§5.4), object GET (§5.6) and versions (§5.8).
 *
 * One engine serves all four: the URL parameters become a store_query in
 * (date_added, seq) order, a `next` cursor resumes after the last row the
 * previous page showed, and every row passes policy_row() before it is
 * written (hidden rows answer STORE_ROW_SKIP and never count towards the
 * limit). Stored objects are already compact JSON and are copied byte for
 * byte. Invariant: nothing reaches the body that policy_row() refused, and
 * a page whose AMBER/RED rows could not be written to the audit log is
 * replaced by an error, never sent. match[version]=last (the default) and
 * first select among the versions the requester may see: where the
 * newest version is hidden from it, it gets the newest one it may see.
 *
 * Choices: X-TAXII-Date-Added-First/Last are omitted on an empty page
 * (§3.2 defines them from the first and last object of the response; there
 * are none). An unversioned object (an SCO) reports its date_added as its
 * version (§3.4.1 "a server-consistent value"); match[version] with a
 * timestamp therefore only selects versioned objects. Reads are audited on
 * the endpoints that show object content (objects, object); manifest and
 * versions show ids and timestamps only.
 */
#include <stdlib.h>
#include <string.h>

#include "taxii_internal.h"
#include "util/timestamp.h"

struct page {
	struct taxii__rq *r;
	enum taxii__endpoint ep;
	struct buf *b;
	size_t shown;
	struct taxii__pos first, last;
	bool audit; /* collect ids of versions policy_audit_read() flags */
	struct taxii__idlist ids;
	/* Version selection done here rather than in the store (see
	 * read_page): pick != 0 holds the STORE_V_LAST / STORE_V_FIRST bits
	 * asked for, exact[] the exact versions asked for. */
	unsigned pick;
	const int64_t *exact;
	size_t nexact;
	/* match[spec_version], also for the picking: first and last are
	 * judged among the versions of the spec versions asked for, or,
	 * without the filter, of the latest spec version the object has
	 * (TAXII 2.1 §3.4.2) */
	const char *const *specs;
	size_t nspecs;
	enum tcerr err;
};

/* Is spec among the spec versions asked for? */
static bool
spec_asked(const struct page *pg, const char *spec)
{
	for (size_t i = 0; i < pg->nspecs; i++)
		if (spec && strcmp(pg->specs[i], spec) == 0)
			return true;
	return false;
}

/* Does the requester see a version of row's object on the given side of
 * it (newer, or older)? */
struct other_seen {
	const struct page *pg;
	const char *spec;          /* the row's spec version */
	int64_t version_us;
	bool newer;
	bool higher_spec;          /* look for a visible version of a later spec version */
	bool seen;
};

/* Does a version compete with the row for first or last? The same spec
 * version without a filter (the row's is then the object's latest, see
 * picked), or any spec version asked for. */
static bool
competes(const struct other_seen *o, const struct store_row *row)
{
	if (o->pg->nspecs)
		return spec_asked(o->pg, row->spec_version);
	return row->spec_version && o->spec && strcmp(row->spec_version, o->spec) == 0;
}

static enum store_row_verdict
other_seen_row(void *ctx, const struct store_row *row)
{
	struct other_seen *o = ctx;
	bool hit;
	if (o->higher_spec)
		hit = row->spec_version && o->spec && strcmp(row->spec_version, o->spec) > 0;
	else
		hit = (o->newer ? row->version_us > o->version_us : row->version_us < o->version_us) &&
		      competes(o, row);
	if (hit && policy_row(o->pg->r->who, row)) {
		o->seen = true;
		return STORE_ROW_STOP;
	}
	return STORE_ROW_SKIP;
}

/* TAXII 2.1 §3.4.2 match[version] as the requester sees the object: "last"
 * is the newest version it may see, "first" the oldest, so that a newer
 * version hidden from it (a RED version 2 over a GREEN version 1) leaves
 * it version 1 rather than nothing. row is visible to the requester.
 * Returns 1 selected, 0 not, -1 store error (pg->err). */
static int
picked(struct page *pg, const struct store_row *row)
{
	for (size_t i = 0; i < pg->nexact; i++)
		if (pg->exact[i] == row->version_us)
			return 1;
	if (row->is_first && row->is_last)
		return 1; /* the object's one version */
	/* without match[spec_version], only versions of the latest spec
	 * version the requester sees of the object compete (§3.4.2); a 2.1
	 * version has no later one to lose to */
	if (!pg->nspecs && !(row->spec_version && strcmp(row->spec_version, "2.1") == 0)) {
		struct other_seen o = {pg, row->spec_version, 0, false, true, false};
		enum tcerr rc = store_versions_of(pg->r->env->store, row->ref, other_seen_row, &o);
		if (rc && rc != TC_ENOTFOUND) {
			pg->err = rc;
			return -1;
		}
		if (o.seen)
			return 0;
	}
	for (int side = 0; side < 2; side++) {
		unsigned bit = side == 0 ? STORE_V_LAST : STORE_V_FIRST;
		bool edge = side == 0 ? row->is_last : row->is_first;
		if (!(pg->pick & bit))
			continue;
		if (edge)
			return 1; /* no version at all on that side */
		struct other_seen o = {pg, row->spec_version, row->version_us, side == 0, false, false};
		enum tcerr rc = store_versions_of(pg->r->env->store, row->ref, other_seen_row, &o);
		if (rc && rc != TC_ENOTFOUND) {
			pg->err = rc;
			return -1;
		}
		if (!o.seen)
			return 1;
	}
	return 0;
}

/* The version TAXII reports for a row: modified, else created, else (an
 * unversioned SCO) its date_added. */
static const char *
row_version(const struct store_row *row, char tmp[TS_TEXT_MAX])
{
	if (row->version && row->version[0])
		return row->version;
	taxii__ts(row->date_added_us, tmp);
	return tmp;
}

/* Issue 8: who posted this version, as TAXII custom properties of the
 * manifest record (TAXII 2.1 allows custom properties on its resources:
 * names of [a-z0-9_], x_ prefix; clients ignore what they do not know).
 * The stored object itself is never changed. For the hub's own versions
 * (producer 0: the operator's imports, migrations) the record says
 * x_tocsin_producer_hub: true instead (a name could be any
 * organisation's); x_tocsin_key_id is left out when no key posted the
 * version. */
static void
manifest_producer(struct buf *b, const struct reg_snapshot *snap, const struct store_row *row)
{
	const struct reg_org *o = row->producer ? reg_snapshot_org(snap, row->producer) : NULL;

	if (row->producer == 0) {
		buf_append_cstr(b, ",\"x_tocsin_producer_hub\":true");
	} else if (o) {
		taxii__json_kv(b, true, "x_tocsin_producer", o->name);
		taxii__json_kv(b, true, "x_tocsin_producer_identity", o->identity);
	}
	if (row->key_id && row->key_id[0])
		taxii__json_kv(b, true, "x_tocsin_key_id", row->key_id);
}

static enum store_row_verdict
page_row(void *ctx, const struct store_row *row)
{
	struct page *pg = ctx;
	struct buf *b = pg->b;
	char vtmp[TS_TEXT_MAX], dtmp[TS_TEXT_MAX];
	const char *version;

	if (!policy_row(pg->r->who, row))
		return STORE_ROW_SKIP;
	if (pg->pick) {
		int p = picked(pg, row);
		if (p < 0)
			return STORE_ROW_STOP;
		if (!p)
			return STORE_ROW_SKIP;
	}
	/* App. B: cap the bytes of one response; the next page continues */
	if (pg->shown > 0 && b->len + row->json.len + 256 > TAXII_PAGE_BYTES_MAX)
		return STORE_ROW_STOP;
	version = row_version(row, vtmp);
	if (pg->shown > 0)
		buf_append_char(b, ',');
	switch (pg->ep) {
	case TAXII__EP_MANIFEST:
		/* §5.3.1 manifest-record */
		taxii__ts(row->date_added_us, dtmp);
		buf_append_char(b, '{');
		taxii__json_kv(b, false, "id", row->id);
		taxii__json_kv(b, true, "date_added", dtmp);
		taxii__json_kv(b, true, "version", version);
		taxii__json_kv(b, true, "media_type",
		               row->spec_version && strcmp(row->spec_version, "2.0") == 0
		                   ? TAXII_STIX20_MEDIA_TYPE
		                   : TAXII_STIX_MEDIA_TYPE);
		manifest_producer(b, pg->r->who->snap, row);
		buf_append_char(b, '}');
		break;
	case TAXII__EP_OBJECTS:
	case TAXII__EP_OBJECT:
		buf_append_slice(b, row->json);
		break;
	case TAXII__EP_VERSIONS:
		buf_append_json_str(b, slice_from_cstr(version));
		break;
	}
	if (pg->audit && policy_audit_read(pg->r->who, row)) {
		taxii__idlist_add(&pg->ids, row->id, version);
	}
	if (pg->shown == 0)
		pg->first = (struct taxii__pos){row->date_added_us, row->seq};
	pg->last = (struct taxii__pos){row->date_added_us, row->seq};
	pg->shown++;
	return STORE_ROW_TAKE;
}

struct visible {
	const struct policy_subject *who;
	bool seen;
};

static enum store_row_verdict
visible_row(void *ctx, const struct store_row *row)
{
	struct visible *v = ctx;
	if (!policy_row(v->who, row))
		return STORE_ROW_SKIP;
	v->seen = true;
	return STORE_ROW_STOP;
}

/* Is any version of r->object_id visible to the requester? */
static enum tcerr
object_visible(struct taxii__rq *r, bool *seen)
{
	struct visible v = {r->who, false};
	const char *ids[1] = {r->object_id};
	struct store_query sq = {
	    .collection = r->col->c.num,
	    .ids = ids,
	    .nids = 1,
	    .versions = STORE_V_ALL,
	};
	struct diag d;
	enum tcerr rc = store_query(r->env->store, &sq, visible_row, &v, NULL, &d);

	*seen = v.seen;
	return rc;
}

static enum tcerr read_page(struct taxii__rq *r, enum taxii__endpoint ep);

enum tcerr
taxii__get_manifest(struct taxii__rq *r)
{
	return read_page(r, TAXII__EP_MANIFEST);
}

enum tcerr
taxii__get_objects(struct taxii__rq *r)
{
	return read_page(r, TAXII__EP_OBJECTS);
}

enum tcerr
taxii__get_object(struct taxii__rq *r)
{
	return read_page(r, TAXII__EP_OBJECT);
}

enum tcerr
taxii__get_versions(struct taxii__rq *r)
{
	return read_page(r, TAXII__EP_VERSIONS);
}

/* Which URL parameters each endpoint takes (§3.1 table; §5.6 also lists
 * match[spec_version]). */
static unsigned
allowed_params(enum taxii__endpoint ep)
{
	unsigned paging = TAXII_P_ADDED_AFTER | TAXII_P_LIMIT | TAXII_P_NEXT;
	switch (ep) {
	case TAXII__EP_MANIFEST:
	case TAXII__EP_OBJECTS:
		return paging | TAXII_P_MATCH_ID | TAXII_P_MATCH_TYPE | TAXII_P_MATCH_VERSION |
		       TAXII_P_MATCH_SPEC_VERSION;
	case TAXII__EP_OBJECT:
		return paging | TAXII_P_MATCH_VERSION | TAXII_P_MATCH_SPEC_VERSION;
	case TAXII__EP_VERSIONS:
		return paging | TAXII_P_MATCH_SPEC_VERSION;
	}
	return 0;
}

static enum tcerr
read_page(struct taxii__rq *r, enum taxii__endpoint ep)
{
	struct taxii_query q;
	struct page pg = {.r = r, .ep = ep, .b = &r->rs->body};
	struct taxii__pos pos = {0, 0};
	struct store_query sq = {0};
	const char *one_id[1] = {r->object_id};
	struct diag d;
	bool more = false;
	enum tcerr rc = TC_OK;
	size_t limit;
	const char *list_key = ep == TAXII__EP_MANIFEST   ? "objects"
	                       : ep == TAXII__EP_VERSIONS ? "versions"
	                                                  : "objects";

	taxii_query_init(&q);
	taxii__idlist_init(&pg.ids);
	pg.audit = ep == TAXII__EP_OBJECTS || ep == TAXII__EP_OBJECT;

	/* §5.3, §5.4, §5.6, §5.8: can_read=false → 403 (the collection is
	 * visible: the requester may write it) */
	if (!r->rights.can_read) {
		taxii_error(r->rs, 403, "Not allowed to read this collection", NULL);
		goto out;
	}
	diag_clear(&d);
	rc = taxii_query_parse(&q, allowed_params(ep), r->rq->query, &d);
	if (rc == TC_ENOMEM)
		goto out;
	if (rc) {
		rc = TC_OK;
		taxii_error(r->rs, 400, "Bad query parameter", d.msg);
		goto out;
	}
	/* App. B: `next` is not trusted; it must be ours, for this principal
	 * and this very query */
	if ((q.present & TAXII_P_NEXT) && taxii__cursor_check(r, ep, &q, q.next, &pos) != TC_OK) {
		taxii_error(r->rs, 400, "Bad query parameter",
		            "next: not a cursor issued for this query and this requester");
		goto out;
	}

	limit = r->cfg->max_page ? r->cfg->max_page : TAXII_DEFAULT_MAX_PAGE;
	if ((q.present & TAXII_P_LIMIT) && q.limit < limit)
		limit = q.limit; /* §3.4: never more than asked; the server may cap */

	sq.collection = r->col->c.num;
	sq.added_after_us = (q.present & TAXII_P_ADDED_AFTER) ? q.added_after_us : 0;
	sq.after_date_us = pos.date_us;
	sq.after_date_seq = pos.seq;
	sq.limit = limit;
	sq.spec_versions = (const char *const *)q.spec_versions;
	sq.nspec_versions = q.nspec_versions;
	/* enum taxii_version_bits and enum store_version_sel share values */
	sq.versions = q.versions;
	sq.version_us = q.version_us;
	sq.nversion_us = q.nversion_us;
	if (ep == TAXII__EP_MANIFEST || ep == TAXII__EP_OBJECTS) {
		sq.ids = (const char *const *)q.ids;
		sq.nids = q.nids;
		sq.types = (const char *const *)q.types;
		sq.ntypes = q.ntypes;
	} else {
		sq.ids = one_id;
		sq.nids = 1;
	}
	if (ep == TAXII__EP_VERSIONS) {
		sq.versions = STORE_V_ALL;
		sq.version_us = NULL;
		sq.nversion_us = 0;
	}
	/* §3.4.2: the store's first and last are over every version; a
	 * requester who may not see them all gets the first and last of
	 * those it may see. The store then gives every version, in the same
	 * (date_added, seq) order, and page_row keeps the picked ones, so
	 * `next` cursors, limits and policy work as for any other row. */
	unsigned want = sq.versions;
	if (!want && !sq.nversion_us)
		want = STORE_V_LAST;
	if (!r->who->operator_ && ep != TAXII__EP_VERSIONS && !(want & STORE_V_ALL) &&
	    (want & (STORE_V_LAST | STORE_V_FIRST))) {
		pg.pick = want & (STORE_V_LAST | STORE_V_FIRST);
		pg.exact = sq.version_us;
		pg.nexact = sq.nversion_us;
		pg.specs = sq.spec_versions;
		pg.nspecs = sq.nspec_versions;
		sq.versions = STORE_V_ALL;
		sq.version_us = NULL;
		sq.nversion_us = 0;
	}

	buf_append_char(pg.b, '{');
	buf_append_json_str(pg.b, slice_from_cstr(list_key));
	buf_append_cstr(pg.b, ":[");
	diag_clear(&d);
	rc = store_query(r->env->store, &sq, page_row, &pg, &more, &d);
	if (!rc && pg.err) {
		rc = pg.err;
		diag_set(&d, rc, "reading an object's versions: %s", tcerr_str(rc));
	}
	if (rc == TC_ENOMEM)
		goto out;
	if (rc) {
		taxii_error(r->rs, rc == TC_ELIMIT ? 400 : 503,
		            rc == TC_ELIMIT ? "Query too large" : "Store unavailable", d.msg);
		rc = TC_OK;
		goto out;
	}
	if (buf_error(pg.b))
		goto out; /* taxii_handle answers 500 */

	if (pg.shown == 0) {
		/* §5.6, §5.8: 404 when the object has no version this requester may
		 * see; an empty page of a visible object is `{}` */
		if (ep == TAXII__EP_OBJECT || ep == TAXII__EP_VERSIONS) {
			bool seen = false;
			if ((rc = object_visible(r, &seen))) {
				if (rc != TC_ENOMEM) {
					rc = TC_OK;
					taxii_error(r->rs, 503, "Store unavailable", NULL);
				}
				goto out;
			}
			if (!seen) {
				taxii_error(r->rs, 404, "No such object", NULL);
				goto out;
			}
		}
		buf_clear(pg.b);
		buf_append_cstr(pg.b, "{}");
		more = false;
	} else {
		buf_append_char(pg.b, ']');
		buf_printf(pg.b, ",\"more\":%s", more ? "true" : "false");
		if (more) {
			char next[TAXII__CURSOR_TEXT + 1];
			taxii__cursor_make(r, ep, &q, pg.last, next);
			taxii__json_kv(pg.b, true, "next", next);
		}
		buf_append_char(pg.b, '}');
		/* §3.2 */
		taxii__ts(pg.first.date_us, r->rs->date_added_first);
		taxii__ts(pg.last.date_us, r->rs->date_added_last);
	}
	/* audit before answering: a read that cannot be audited is not sent */
	if ((rc = taxii__idlist_audit(r, &pg.ids, true, "read", 200, NULL, NULL))) {
		if (rc == TC_ENOMEM)
			goto out;
		rc = TC_OK;
		taxii_error(r->rs, 503, "Audit log unavailable", NULL);
		goto out;
	}
	r->rs->status = 200;
	r->rs->objects = pg.shown;
out:
	taxii__idlist_reset(&pg.ids);
	taxii_query_reset(&q);
	return rc;
}
