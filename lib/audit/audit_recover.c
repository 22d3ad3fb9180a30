/*
 * audit_recover.c — completing the audit log after a crash (audit.h).
 *
 * A write is committed to the store first and audited after: a process
 * killed between the two leaves versions (and tombstones) that no entry
 * names. Entries that record commits carry the log positions they cover
 * ("seqs"), and the head keeps a checkpoint: every position up to
 * ckpt.seq is audited by entry ckpt.n (which ends at byte ckpt.at). A
 * program that commits opens the log alone (audit_open_writer()) and
 * calls audit_recover() before its first commit: positions after the
 * checkpoint that no later entry covers are written as entries marked
 * "recovered" from what the store holds (id@version, collection, the key
 * that posted it), then the checkpoint moves to the store's position.
 * The work is bounded by what was written since the last program
 * started, not by the size of the log.
 *
 * Invariant: while the log is open alone nobody else commits (every
 * program that commits holds audit.lock), so the store's position read
 * here is final until audit_checkpoint() shares the lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "store/store.h"
#include "util/buf.h"

/* Versions named by one recovered entry. */
#define RECOVER_BATCH 1000

struct rec {
	struct audit *a;
	struct store *s;
	const struct audit_seqset *covered;
	uint64_t through;                /* the store's position */
	const char *action;              /* "write" or "delete" */
	int64_t collection;              /* of the pending ids */
	char key_id[STORE_KEY_ID_MAX + 1];
	struct buf ids;                  /* NUL-separated id@version */
	const char *idv[RECOVER_BATCH];
	uint64_t seqs[RECOVER_BATCH];
	size_t n;
	uint64_t count;
	enum tcerr rc;
	struct diag *d;
};

struct coll_find {
	int64_t num;
	char uuid[37];
};

static enum tcerr
coll_cb(void *ctx, const struct store_collection *c)
{
	struct coll_find *f = ctx;
	if (c->num == f->num)
		snprintf(f->uuid, sizeof(f->uuid), "%s", c->uuid);
	return TC_OK;
}

/* Writes the pending ids as one entry. */
static enum tcerr
flush(struct rec *r)
{
	struct coll_find cf = { .num = r->collection };
	char detail[256];
	const char *p;

	if (r->n == 0)
		return TC_OK;
	if (buf_error(&r->ids))
		return diag_set(r->d, TC_ENOMEM, "audit recovery: out of memory");
	(void)store_collection_list(r->s, coll_cb, &cf);
	p = r->ids.p;
	for (size_t i = 0; i < r->n; i++) {
		r->idv[i] = p;
		p += strlen(p) + 1;
	}
	snprintf(detail, sizeof(detail),
	         "recovered at start: %zu %s committed to the store but not audited before the "
	         "process that made them stopped",
	         r->n, strcmp(r->action, "delete") == 0 ? "deletions" : "versions");
	struct audit_entry e = {
		.action = r->action,
		.actor = r->key_id[0] ? r->key_id : "operator",
		.collection = cf.uuid[0] ? cf.uuid : NULL,
		.ids = r->idv,
		.nids = r->n,
		.seqs = r->seqs,
		.nseqs = r->n,
		.recovered = true,
		.detail = detail,
	};
	enum tcerr rc = audit_append(r->a, &e, r->d);
	r->count += r->n;
	r->n = 0;
	buf_clear(&r->ids);
	return rc;
}

static enum tcerr
take(struct rec *r, const char *action, int64_t collection, const char *key_id, uint64_t seq,
     const char *id, const char *version)
{
	enum tcerr rc;

	if (seq > r->through || audit_seqset_has(r->covered, seq))
		return TC_OK;
	if (r->n && (r->n == RECOVER_BATCH || r->collection != collection ||
	             strcmp(r->key_id, key_id) != 0 || strcmp(r->action, action) != 0))
		if ((rc = flush(r)) != TC_OK)
			return rc;
	r->action = action;
	r->collection = collection;
	snprintf(r->key_id, sizeof(r->key_id), "%s", key_id);
	buf_printf(&r->ids, "%s@%s", id, version);
	buf_append_char(&r->ids, '\0');
	r->seqs[r->n++] = seq;
	return TC_OK;
}

static enum store_row_verdict
row_cb(void *ctx, const struct store_row *row)
{
	struct rec *r = ctx;
	r->rc = take(r, "write", row->collection, row->key_id ? row->key_id : "", row->seq,
	             row->id, row->version);
	return r->rc ? STORE_ROW_STOP : STORE_ROW_TAKE;
}

static enum tcerr
tomb_cb(void *ctx, const struct store_tombstone *t)
{
	struct rec *r = ctx;
	return take(r, "delete", t->collection, "", t->seq, t->id, t->version);
}

enum tcerr
audit_recover(struct audit *a, struct store *s, struct audit_recovery *out, struct diag *d)
{
	struct audit_seqset *covered = NULL;
	struct audit_ckpt ckpt;
	bool has_ckpt = false;
	uint64_t pos = 0;
	enum tcerr rc;
	struct rec r = { .a = a, .s = s, .d = d };

	memset(out, 0, sizeof(*out));
	if (!audit_may_recover(a)) {
		out->skipped = true;
		return TC_OK;
	}
	if ((rc = store_position(s, &pos)) != TC_OK)
		return diag_set(d, rc, "audit recovery: cannot read the store's position");
	if ((rc = audit_covered(a, &has_ckpt, &ckpt, &covered, d)) != TC_OK)
		return rc;
	out->from = has_ckpt ? ckpt.seq : pos;
	out->through = pos;
	/* Positions are dense (each version and each deletion takes the next
	 * one): when the entries since the checkpoint cover them all, as
	 * after every clean stop, the store need not be read. */
	if (has_ckpt && pos > ckpt.seq && !audit_seqset_covers(covered, ckpt.seq + 1, pos)) {
		struct store_query q = { .after_seq = ckpt.seq, .versions = STORE_V_ALL };
		r.covered = covered;
		r.through = pos;
		buf_init(&r.ids, 0);
		rc = store_query(s, &q, row_cb, &r, NULL, d);
		if (rc == TC_OK)
			rc = r.rc;
		if (rc == TC_OK)
			rc = flush(&r);
		out->versions = r.count;
		r.count = 0;
		if (rc == TC_OK)
			rc = store_tombstones(s, ckpt.seq, tomb_cb, &r, d);
		if (rc == TC_OK)
			rc = flush(&r);
		out->deletions = r.count;
		buf_reset(&r.ids);
	}
	audit_seqset_free(covered);
	if (rc != TC_OK)
		return rc;
	return audit_checkpoint(a, pos, d);
}
