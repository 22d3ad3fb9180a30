/*
 * export_feed.c — an enforcement export over a feed snapshot: the
 * decisions the reader may see now (lib/feed), through a decision writer.
 *
 * Kept apart from the writer so that the writer's tests feed decisions
 * directly and do not need a store.
 */
#include "export_dec_int.h"

struct snap_export {
	struct export_dec_writer *w;
	const struct feed_pos *at;
	bool started;
	const struct export_dec_opts *o;
	enum tcerr rc;
	struct diag *d;
};

static enum tcerr
on_event(void *ctx, const struct feed_event *ev)
{
	struct snap_export *x = ctx;
	if (ev->type != FEED_EV_ADD || !ev->decision)
		return TC_OK;
	/* the exact position, when the feed tells it before the first
	 * decision (rpz's serial); else the one read before */
	if (!x->started) {
		x->started = true;
		if (x->at->seq)
			x->w->o.position = x->at->seq;
	}
	size_t before = x->w->c.written;
	enum tcerr rc = export_dec_writer_add(x->w, ev->decision, x->d);
	if (!rc && x->o->taken && x->w->c.written != before)
		rc = x->o->taken(x->o->taken_ctx, ev->decision);
	return x->rc = rc;
}

enum tcerr
export_decisions(const struct feed_ctx *fc, const struct feed_filter *f,
                 const struct export_dec_opts *opts, export_write_fn write, void *wctx,
                 struct export_dec_counts *counts, uint64_t *position, struct diag *d)
{
	struct export_dec_opts o = *opts;
	struct snap_export x = { .o = opts, .d = d };
	struct feed_pos at = { 0 };
	enum tcerr rc;

	if (counts)
		*counts = (struct export_dec_counts){ 0 };
	if (!o.allow)
		o.allow = fc->allow;
	if (!o.now_us)
		o.now_us = fc->now_us;
	if (!o.position && (rc = store_position(fc->store, &o.position)))
		return diag_set(d, rc, "export: cannot read the log position: %s", tcerr_str(rc));
	if ((rc = export_dec_writer_new(&o, write, wctx, &x.w, d)))
		return rc;
	x.at = &at;
	/* the writers read ev->decision only: no event text is built */
	struct feed_ctx bare = *fc;
	bare.decisions_only = true;
	rc = feed_snapshot(&bare, f, on_event, &x, &at, d);
	if (!rc && !x.started && at.seq)
		x.w->o.position = at.seq; /* nothing written yet: the header takes it */
	if (rc && x.rc)
		rc = x.rc; /* the writer's (its message is in d) */
	/* after an error nothing more is written: the caller says so */
	if (!rc)
		rc = export_dec_writer_finish(x.w, counts, d);
	if (position)
		*position = at.seq ? at.seq : o.position;
	export_dec_writer_free(x.w);
	return rc;
}
