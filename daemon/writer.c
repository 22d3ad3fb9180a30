/*
 * writer.c — the TAXII server's writer (struct taxii_writer) over the
 * hub's group-commit writer thread (lib/hub/hub_writer.c): each POST and
 * DELETE blocks in its request thread until its transaction is durable.
 */
#include "writer.h"

static enum tcerr
tw_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res,
          struct diag *d)
{
	return hub_writer_ingest(ctx, items, n, res, d);
}

static enum tcerr
tw_remove(void *ctx, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
          struct store_delete_out *out, struct diag *d)
{
	return hub_writer_delete(ctx, q, may, may_ctx, out, d);
}

void
writer_taxii(struct hub_writer *w, struct taxii_writer *tw)
{
	tw->ingest = tw_ingest;
	tw->remove = tw_remove;
	tw->ctx = w;
}
