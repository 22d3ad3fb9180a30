/*
 * export_hub.c — an export over a hub's store, as the hub operator or as
 * a policy subject (opts->who).
 *
 * Kept apart from the writer so that programs and tests that feed rows
 * themselves (the daemon through its policy check, unit tests) do not link
 * the hub. The query asks for the last version of each object, in log
 * order; the writer drops revoked and expired ones, and the values the
 * hub's allowlist holds (opts->allow, else the hub's in force).
 */
#include "export.h"

struct hub_export {
	struct export_writer *w;
	const struct policy_subject *who;
	enum tcerr (*taken)(void *ctx, const struct store_row *row);
	void *taken_ctx;
	size_t hidden;
	enum tcerr rc;
	struct diag *d;
};

static enum store_row_verdict
on_row(void *ctx, const struct store_row *row)
{
	struct hub_export *x = ctx;
	/* DESIGN §2.3: the one door decides what the subject sees. */
	if (x->who && !policy_row(x->who, row)) {
		x->hidden++;
		return STORE_ROW_SKIP;
	}
	size_t before = export_writer_objects(x->w);
	if ((x->rc = export_writer_row(x->w, row, x->d)))
		return STORE_ROW_STOP;
	if (x->taken && export_writer_objects(x->w) != before &&
	    (x->rc = x->taken(x->taken_ctx, row)))
		return STORE_ROW_STOP;
	return STORE_ROW_TAKE;
}

enum tcerr
export_store(struct store *s, const struct obs_ctx *obs, const struct export_opts *opts,
             export_write_fn write, void *wctx, struct export_counts *counts, struct diag *d)
{
	struct hub_export x = {
		.d = d, .who = opts->who, .taken = opts->taken, .taken_ctx = opts->taken_ctx
	};
	struct store_query q = { .versions = STORE_V_LAST };
	struct store_collection coll;
	enum tcerr rc;

	if (counts)
		*counts = (struct export_counts){ 0 };
	if (opts->collection) {
		rc = store_collection_find(s, opts->collection, &coll);
		if (rc == TC_ENOTFOUND)
			return diag_set(d, rc, "no collection '%s'", opts->collection);
		if (rc)
			return diag_set(d, rc, "collection '%s': %s", opts->collection, tcerr_str(rc));
		q.collection = coll.num;
	}
	struct export_opts o = *opts;
	if (o.default_tlp == TLP_NONE && (rc = reg_default_tlp_get(s, &o.default_tlp, d)))
		return rc;
	rc = export_writer_new(&o, obs, write, wctx, &x.w, d);
	if (rc)
		return rc;
	rc = store_query(s, &q, on_row, &x, NULL, d);
	if (!rc)
		rc = x.rc;
	/* After an error nothing more is written: the output is cut short
	 * and the caller must say so. */
	if (!rc)
		rc = export_writer_finish(x.w, counts, d);
	if (!rc && counts)
		counts->hidden = x.hidden;
	export_writer_free(x.w);
	return rc;
}

enum tcerr
export_hub(struct hub *h, const struct export_opts *opts, export_write_fn write, void *wctx,
           struct export_counts *counts, struct diag *d)
{
	struct store_collection coll;
	enum tcerr rc;

	if (counts)
		*counts = (struct export_counts){ 0 };
	if (opts->collection && (rc = hub_collection(h, opts->collection, &coll, d)))
		return rc;
	/* the allowlist filter is never off for an export of the hub */
	struct export_opts o = *opts;
	struct allowlist *al = NULL;
	if (!o.allow)
		o.allow = al = hub_allowlist_get(h);
	/* nor is the hold of false positives (hub_holds_set) */
	if (!o.held) {
		o.held = hub_held;
		o.held_ctx = h;
	}
	rc = export_store(hub_store(h), hub_obs_ctx(h), &o, write, wctx, counts, d);
	allowlist_free(al);
	return rc;
}
