/*
 * store_sqlite_dec.c — decisions in the SQLite store (see
 * store_sqlite_dec.h and store.h, "Decisions").
 *
 * Invariant: dvalues holds exactly the observables of the current version
 * of every indicator object that is neither revoked nor expired (by the
 * last store_decisions_expire), each with allowlisted as the judges said at
 * insert or at the last rejudge (a mask: allowlisted, held); every change
 * of a row that is kept out by neither has its event in devents, in the
 * same transaction.
 */
#include "store/store_sqlite_dec.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_backend.h"
#include "util/buf.h"

const char sq_dec_schema[] =
	"CREATE TABLE dvalues(kind INTEGER NOT NULL, value TEXT NOT NULL, ref INTEGER NOT NULL,"
	" vseq INTEGER NOT NULL, collection INTEGER NOT NULL, tlp INTEGER NOT NULL,"
	" producer INTEGER NOT NULL, confidence INTEGER NOT NULL, until_us INTEGER NOT NULL,"
	" allowlisted INTEGER NOT NULL, rjson BLOB, PRIMARY KEY(kind, value, ref)) WITHOUT ROWID;"
	"CREATE INDEX dvalues_ref ON dvalues(ref);"
	"CREATE INDEX dvalues_until ON dvalues(until_us) WHERE until_us > 0;"
	"CREATE TABLE devents(seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, op INTEGER NOT NULL,"
	" reason INTEGER NOT NULL, kind INTEGER NOT NULL, value TEXT NOT NULL, ref INTEGER NOT NULL,"
	" vseq INTEGER NOT NULL, collection INTEGER NOT NULL, tlp INTEGER NOT NULL,"
	" producer INTEGER NOT NULL, confidence INTEGER NOT NULL, until_us INTEGER NOT NULL,"
	" rjson BLOB);"
	/* what policy needs to judge a deletion (feed.h) */
	"ALTER TABLE tombstones ADD COLUMN tlp INTEGER NOT NULL DEFAULT 5;"
	"ALTER TABLE tombstones ADD COLUMN producer INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tombstones ADD COLUMN rjson BLOB;";

#define SD_COLS "kind, value, ref, vseq, collection, tlp, producer, confidence, until_us"
/* the same, qualified, for selects that join objects (the indicator's id) */
#define SD_DCOLS "d.kind, d.value, d.ref, d.vseq, d.collection, d.tlp, d.producer," \
	" d.confidence, d.until_us"

static const char *const sd_sql[SD_NSTMT] = {
	[SD_SEL_REF] = "SELECT " SD_DCOLS ", d.allowlisted, d.rjson, o.stix_id FROM dvalues d"
	               " JOIN objects o ON o.ref = d.ref WHERE d.ref = ?",
	[SD_DEL_REF] = "DELETE FROM dvalues WHERE ref = ?",
	[SD_INS_VALUE] = "INSERT OR REPLACE INTO dvalues(" SD_COLS ", allowlisted, rjson)"
	                 " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[SD_INS_EVENT] = "INSERT INTO devents(seq, at_us, op, reason, " SD_COLS ", rjson)"
	                 " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[SD_EVENTS] = "SELECT d.seq, d.at_us, d.op, d.reason, " SD_DCOLS ", d.rjson, o.stix_id"
	              " FROM devents d JOIN objects o ON o.ref = d.ref"
	              " WHERE d.seq > ? ORDER BY d.seq LIMIT ?",
	[SD_DUE] = "SELECT " SD_DCOLS ", d.allowlisted, d.rjson, o.stix_id FROM dvalues d"
	           " JOIN objects o ON o.ref = d.ref"
	           " WHERE d.until_us > 0 AND d.until_us <= ? ORDER BY d.until_us LIMIT ?",
	[SD_DEL_ONE] = "DELETE FROM dvalues WHERE kind = ? AND value = ? AND ref = ?",
	[SD_NEXT_DUE] = "SELECT min(until_us) FROM dvalues WHERE until_us > 0",
	[SD_ALL] = "SELECT " SD_DCOLS ", d.allowlisted, d.rjson, o.stix_id FROM dvalues d"
	           " JOIN objects o ON o.ref = d.ref"
	           " WHERE d.allowlisted = 0 AND (d.until_us = 0 OR d.until_us > ?)"
	           " ORDER BY d.kind, d.value, d.ref",
	[SD_ONE] = "SELECT " SD_DCOLS ", d.allowlisted, d.rjson, o.stix_id FROM dvalues d"
	           " JOIN objects o ON o.ref = d.ref WHERE d.kind = ? AND d.value = ?"
	           " AND d.allowlisted = 0 AND (d.until_us = 0 OR d.until_us > ?)",
	[SD_VERSION] = "SELECT type, revoked, collection, tlp, producer,"
	               " coalesce(json_extract(json, '$.confidence'), -1), valid_until, obs, json,"
	               " json_extract(json, '$.id')"
	               " FROM versions WHERE seq = ?",
	[SD_SET_ALLOW] = "UPDATE dvalues SET allowlisted = ? WHERE kind = ? AND value = ? AND ref = ?",
};

int
sq_dec_prepare(struct sq_dec *x, sqlite3 *db)
{
	x->db = db;
	for (int i = 0; i < SD_NSTMT; i++) {
		int rc = sqlite3_prepare_v3(db, sd_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i],
		                            NULL);
		if (rc)
			return rc;
	}
	return SQLITE_OK;
}

void
sq_dec_finalize(struct sq_dec *x)
{
	for (int i = 0; i < SD_NSTMT; i++) {
		sqlite3_finalize(x->st[i]);
		x->st[i] = NULL;
	}
}

/* The version text is kept with a contribution only when it may name
 * recipients (policy_row reads them for AMBER+STRICT and RED, and an
 * unmarked version counts as the hub's default level, which may be RED). */
bool
sq__keeps_text(struct slice json)
{
	static const char ext[] = STIX_EXT_DISTRIBUTION;
	return json.len >= sizeof ext - 1 && memmem(json.p, json.len, ext, sizeof ext - 1);
}

/* Why a contribution is kept out of decisions, as the allowlisted
 * column records it (0: it is not): the allowlist judge and the hold
 * judge (store_decisions_set_hold, keyed by the indicator's STIX id). */
#define SQ_OUT_ALLOWLISTED 1
#define SQ_OUT_HELD 2

/* Reads a dvalues row (SD_COLS, allowlisted, rjson) from st at column 0. */
static void
row_decision(sqlite3_stmt *st, int col, struct store_decision *c)
{
	c->kind = (enum obs_kind)sqlite3_column_int(st, col);
	c->value = slice_make((const char *)sqlite3_column_text(st, col + 1),
	                      (size_t)sqlite3_column_bytes(st, col + 1));
	c->ref = (uint32_t)sqlite3_column_int64(st, col + 2);
	c->version_seq = (uint64_t)sqlite3_column_int64(st, col + 3);
	c->collection = sqlite3_column_int64(st, col + 4);
	c->tlp = (enum tlp_level)sqlite3_column_int(st, col + 5);
	c->producer = sqlite3_column_int64(st, col + 6);
	c->confidence = sqlite3_column_int(st, col + 7);
	c->valid_until_us = sqlite3_column_int64(st, col + 8);
}

/* SD_DCOLS, allowlisted, rjson, o.stix_id */
static void
row_decision_full(sqlite3_stmt *st, struct store_decision *c)
{
	row_decision(st, 0, c);
	/* the allowlisted column holds why a row is kept out (SQ_OUT_*) */
	c->allowlisted = (sqlite3_column_int(st, 9) & SQ_OUT_ALLOWLISTED) != 0;
	c->held = (sqlite3_column_int(st, 9) & SQ_OUT_HELD) != 0;
	c->json = slice_make(sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10));
	c->id = (const char *)sqlite3_column_text(st, 11);
}

static void
bind_decision(sqlite3_stmt *st, int col, const struct store_decision *c)
{
	sqlite3_bind_int(st, col, (int)c->kind);
	sqlite3_bind_text(st, col + 1, c->value.p, (int)c->value.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, col + 2, c->ref);
	sqlite3_bind_int64(st, col + 3, (sqlite3_int64)c->version_seq);
	sqlite3_bind_int64(st, col + 4, c->collection);
	sqlite3_bind_int(st, col + 5, (int)c->tlp);
	sqlite3_bind_int64(st, col + 6, c->producer);
	sqlite3_bind_int(st, col + 7, c->confidence);
	sqlite3_bind_int64(st, col + 8, c->valid_until_us);
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
put_event(struct sq_dec *x, uint64_t seq, int64_t now, bool add, enum store_dreason why,
          const struct store_decision *c)
{
	sqlite3_stmt *st = x->st[SD_INS_EVENT];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, add);
	sqlite3_bind_int(st, 4, (int)why);
	bind_decision(st, 5, c);
	if (c->json.len)
		sqlite3_bind_blob64(st, 14, c->json.p, c->json.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 14);
	return step_done(st);
}

static int
judged(const struct store *s, enum obs_kind kind, struct slice value, const char *id)
{
	int out = 0;
	if (s && s->judge && s->judge(s->judge_ctx, kind, value))
		out |= SQ_OUT_ALLOWLISTED;
	if (s && s->hold && id && s->hold(s->hold_ctx, id))
		out |= SQ_OUT_HELD;
	return out;
}

static int
out_of(const struct store_decision *c)
{
	return (c->allowlisted ? SQ_OUT_ALLOWLISTED : 0) | (c->held ? SQ_OUT_HELD : 0);
}

enum tcerr
sq_dec_set(struct sq_dec *x, const struct store *s, uint32_t ref, const struct sq_dec_version *v,
           bool fresh, enum store_dreason gone, uint64_t *next_seq, int64_t now, int *rcp)
{
	int rc = SQLITE_OK;
	if (!fresh) {
		/* the old contributions leave, each effective one with its event */
		sqlite3_stmt *st = x->st[SD_SEL_REF];
		sqlite3_bind_int64(st, 1, ref);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_decision c;
			row_decision_full(st, &c);
			if (out_of(&c))
				continue;
			int erc = put_event(x, (*next_seq)++, now, false, gone, &c);
			if (erc) {
				rc = erc;
				break;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto fail;
		st = x->st[SD_DEL_REF];
		sqlite3_bind_int64(st, 1, ref);
		if ((rc = step_done(st)))
			goto fail;
	}
	if (!v || !v->indicator || v->revoked || (v->valid_until_us && v->valid_until_us <= now))
		return TC_OK;
	struct slice text = sq__keeps_text(v->json) ? v->json : slice_make(NULL, 0);
	for (size_t i = 0; i < v->nobs; i++) {
		struct store_decision c = {
			.kind = v->obs[i].kind, .value = v->obs[i].value, .ref = ref,
			.version_seq = v->seq, .collection = v->collection, .tlp = v->tlp,
			.producer = v->producer, .confidence = v->confidence,
			.valid_until_us = v->valid_until_us, .json = text,
		};
		int out = judged(s, c.kind, c.value, v->id);
		c.allowlisted = (out & SQ_OUT_ALLOWLISTED) != 0;
		c.held = (out & SQ_OUT_HELD) != 0;
		sqlite3_stmt *st = x->st[SD_INS_VALUE];
		bind_decision(st, 1, &c);
		sqlite3_bind_int(st, 10, out);
		if (text.len)
			sqlite3_bind_blob64(st, 11, text.p, text.len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 11);
		if ((rc = step_done(st)))
			goto fail;
		if (!out &&
		    (rc = put_event(x, (*next_seq)++, now, true, STORE_DR_PUBLISHED, &c)))
			goto fail;
	}
	return TC_OK;
fail:
	*rcp = rc;
	return TC_EDB;
}

enum tcerr
sq_dec_set_seq(struct sq_dec *x, const struct store *s, uint32_t ref, uint64_t seq,
               enum store_dreason gone, uint64_t *next_seq, int64_t now, int *rcp)
{
	if (!seq)
		return sq_dec_set(x, s, ref, NULL, false, gone, next_seq, now, rcp);
	sqlite3_stmt *st = x->st[SD_VERSION];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		*rcp = rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
		return TC_EDB;
	}
	struct sq_dec_version v = {
		.seq = seq,
		.indicator = strcmp((const char *)sqlite3_column_text(st, 0), "indicator") == 0,
		.revoked = sqlite3_column_int(st, 1) != 0,
		.collection = sqlite3_column_int64(st, 2),
		.tlp = (enum tlp_level)sqlite3_column_int(st, 3),
		.producer = sqlite3_column_int64(st, 4),
		.confidence = sqlite3_column_int(st, 5),
		.valid_until_us = sqlite3_column_int64(st, 6),
		.json = slice_make(sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8)),
		.id = (const char *)sqlite3_column_text(st, 9),
	};
	const unsigned char *p = sqlite3_column_blob(st, 7);
	const unsigned char *end = p ? p + sqlite3_column_bytes(st, 7) : NULL;
	struct store_obs obs[64], *o = obs;
	size_t n = 0, cap = sizeof obs / sizeof obs[0];
	enum obs_kind k;
	struct slice val;
	enum tcerr t = TC_OK;
	while (sq__obs_next(&p, end, &k, &val)) {
		if (n == cap) {
			struct store_obs *no = malloc(cap * 2 * sizeof *no);
			if (!no) {
				t = TC_ENOMEM;
				*rcp = 0;
				break;
			}
			memcpy(no, o, n * sizeof *no);
			if (o != obs)
				free(o);
			o = no;
			cap *= 2;
		}
		o[n++] = (struct store_obs){ .kind = k, .value = val };
	}
	v.obs = o;
	v.nobs = n;
	if (!t)
		t = sq_dec_set(x, s, ref, &v, false, gone, next_seq, now, rcp);
	sqlite3_reset(st);
	if (o != obs)
		free(o);
	return t;
}

enum tcerr
sq_dec_events(struct sq_dec *x, uint64_t after_seq, size_t limit,
              enum tcerr (*cb)(void *ctx, const struct store_devent *e), void *ctx, int *rcp)
{
	sqlite3_stmt *st = x->st[SD_EVENTS];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	int rc;
	enum tcerr t = TC_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_devent e = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.at_us = sqlite3_column_int64(st, 1),
			.add = sqlite3_column_int(st, 2) != 0,
			.reason = (enum store_dreason)sqlite3_column_int(st, 3),
		};
		row_decision(st, 4, &e.d);
		e.d.json = slice_make(sqlite3_column_blob(st, 13),
		                      (size_t)sqlite3_column_bytes(st, 13));
		e.d.id = (const char *)sqlite3_column_text(st, 14);
		if ((t = cb(ctx, &e)))
			break;
	}
	sqlite3_reset(st);
	if (t)
		return t;
	if (rc != SQLITE_DONE) {
		*rcp = rc;
		return TC_EDB;
	}
	return TC_OK;
}

enum tcerr
sq_dec_list(struct sq_dec *x, enum obs_kind kind, const struct slice *value, int64_t now,
            enum tcerr (*cb)(void *ctx, const struct store_decision *c), void *ctx, int *rcp)
{
	sqlite3_stmt *st;
	if (value) {
		st = x->st[SD_ONE];
		sqlite3_bind_int(st, 1, (int)kind);
		sqlite3_bind_text(st, 2, value->p, (int)value->len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
	} else {
		st = x->st[SD_ALL];
		sqlite3_bind_int64(st, 1, now);
	}
	int rc;
	enum tcerr t = TC_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_decision c;
		row_decision_full(st, &c);
		if ((t = cb(ctx, &c)))
			break;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (t)
		return t;
	if (rc != SQLITE_DONE) {
		*rcp = rc;
		return TC_EDB;
	}
	return TC_OK;
}

/* A copy of a row, for changes made after the select that found it. */
struct held {
	struct store_decision c;
	size_t off_value, off_json, off_id;
};

/* The rows of st that keep (NULL: all) selects, copied (values and texts
 * into text), so that they can be changed after the select is done. */
static enum tcerr
hold_rows(sqlite3_stmt *st, bool (*keep)(const struct store *s, const struct store_decision *c),
          const struct store *ks, struct held **out, size_t *n, struct buf *text, int *rcp)
{
	struct held *h = NULL;
	size_t cap = 0, k = 0;
	int rc;
	enum tcerr t = TC_OK;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct held *nh = realloc(h, nc * sizeof *nh);
			if (!nh) {
				t = TC_ENOMEM;
				break;
			}
			h = nh;
			cap = nc;
		}
		struct held *e = &h[k];
		row_decision_full(st, &e->c);
		if (keep && !keep(ks, &e->c))
			continue;
		k++;
		e->off_value = text->len;
		buf_append_slice(text, e->c.value);
		e->off_json = text->len;
		buf_append_slice(text, e->c.json);
		e->off_id = text->len;
		buf_append_cstr(text, e->c.id ? e->c.id : "");
		buf_append_char(text, '\0');
	}
	sqlite3_reset(st);
	if (!t && (t = buf_error(text)) == TC_OK && rc != SQLITE_DONE) {
		*rcp = rc;
		t = TC_EDB;
	}
	if (t == TC_ENOMEM)
		*rcp = 0;
	if (t) {
		free(h);
		return t;
	}
	for (size_t i = 0; i < k; i++) {
		h[i].c.value = slice_make(text->p + h[i].off_value, h[i].c.value.len);
		h[i].c.json = slice_make(h[i].c.json.len ? text->p + h[i].off_json : NULL,
		                         h[i].c.json.len);
		h[i].c.id = text->p + h[i].off_id;
	}
	*out = h;
	*n = k;
	return TC_OK;
}

enum tcerr
sq_dec_expire(struct sq_dec *x, int64_t now, size_t max, uint64_t *next_seq, size_t *events,
              int64_t *next_us, int *rcp)
{
	struct buf text;
	buf_init(&text, 0);
	struct held *h = NULL;
	size_t n = 0;
	sqlite3_stmt *st = x->st[SD_DUE];
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max ? (sqlite3_int64)max : -1);
	enum tcerr t = hold_rows(st, NULL, NULL, &h, &n, &text, rcp);
	int rc = SQLITE_OK;
	if (t)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct store_decision *c = &h[i].c;
		st = x->st[SD_DEL_ONE];
		sqlite3_bind_int(st, 1, (int)c->kind);
		sqlite3_bind_text(st, 2, c->value.p, (int)c->value.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, c->ref);
		if ((rc = step_done(st)))
			break;
		if (!out_of(c)) {
			if ((rc = put_event(x, (*next_seq)++, now, false, STORE_DR_EXPIRED, c)))
				break;
			(*events)++;
		}
	}
	if (!rc) {
		st = x->st[SD_NEXT_DUE];
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*next_us = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
		sqlite3_reset(st);
	}
	if (rc) {
		*rcp = rc;
		t = TC_EDB;
	}
out:
	free(h);
	buf_reset(&text);
	return t;
}

/* Whether the judge now says otherwise than the row records. */
static bool
judged_otherwise(const struct store *s, const struct store_decision *c)
{
	return judged(s, c->kind, c->value, c->id) != out_of(c);
}

enum tcerr
sq_dec_rejudge(struct sq_dec *x, const struct store *s, uint64_t *next_seq, int64_t now,
               size_t *events, int *rcp)
{
	struct buf text;
	buf_init(&text, 0);
	struct held *h = NULL;
	size_t n = 0;
	/* every row, allowlisted ones included */
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(x->db,
	                            "SELECT " SD_DCOLS ", d.allowlisted, d.rjson, o.stix_id"
	                            " FROM dvalues d JOIN objects o ON o.ref = d.ref"
	                            " ORDER BY d.kind, d.value, d.ref",
	                            -1, &st, NULL);
	if (rc) {
		*rcp = rc;
		return TC_EDB;
	}
	/* only the rows whose judgement changed are held */
	enum tcerr t = hold_rows(st, judged_otherwise, s, &h, &n, &text, rcp);
	sqlite3_finalize(st);
	if (t)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct store_decision *c = &h[i].c;
		int was = out_of(c), now_out = judged(s, c->kind, c->value, c->id);
		st = x->st[SD_SET_ALLOW];
		sqlite3_bind_int(st, 1, now_out);
		sqlite3_bind_int(st, 2, (int)c->kind);
		sqlite3_bind_text(st, 3, c->value.p, (int)c->value.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->ref);
		if ((rc = step_done(st)))
			break;
		if (was && now_out)
			continue; /* still kept out, for another reason: no event */
		enum store_dreason why = now_out ? now_out & SQ_OUT_ALLOWLISTED ? STORE_DR_ALLOWLISTED
		                                                               : STORE_DR_HELD
		                         : was & SQ_OUT_ALLOWLISTED ? STORE_DR_UNALLOWLISTED
		                                                    : STORE_DR_RELEASED;
		if ((rc = put_event(x, (*next_seq)++, now, !now_out, why, c)))
			break;
		(*events)++;
	}
	if (rc) {
		*rcp = rc;
		t = TC_EDB;
	}
out:
	free(h);
	buf_reset(&text);
	return t;
}

enum tcerr
sq_dec_backfill(sqlite3 *db, int64_t now, int *rcp)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	int rc = sqlite3_prepare_v2(
		db,
		"SELECT o.ref, v.seq, v.collection, v.tlp, v.producer,"
		" coalesce(json_extract(v.json, '$.confidence'), -1), v.valid_until, v.obs, v.json"
		" FROM objects o JOIN versions v ON v.seq = o.current_seq"
		" WHERE o.cur_revoked = 0 AND v.type = 'indicator' AND v.obs IS NOT NULL"
		" AND (v.valid_until = 0 OR v.valid_until > ?)",
		-1, &sel, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db,
		                        "INSERT OR REPLACE INTO dvalues(" SD_COLS ", allowlisted, rjson)"
		                        " VALUES(?,?,?,?,?,?,?,?,?,0,?)",
		                        -1, &ins, NULL);
	if (rc)
		goto out;
	sqlite3_bind_int64(sel, 1, now);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		struct store_decision c = {
			.ref = (uint32_t)sqlite3_column_int64(sel, 0),
			.version_seq = (uint64_t)sqlite3_column_int64(sel, 1),
			.collection = sqlite3_column_int64(sel, 2),
			.tlp = (enum tlp_level)sqlite3_column_int(sel, 3),
			.producer = sqlite3_column_int64(sel, 4),
			.confidence = sqlite3_column_int(sel, 5),
			.valid_until_us = sqlite3_column_int64(sel, 6),
		};
		const unsigned char *p = sqlite3_column_blob(sel, 7);
		const unsigned char *end = p ? p + sqlite3_column_bytes(sel, 7) : NULL;
		struct slice json = slice_make(sqlite3_column_blob(sel, 8),
		                               (size_t)sqlite3_column_bytes(sel, 8));
		if (!sq__keeps_text(json))
			json = slice_make(NULL, 0);
		while (sq__obs_next(&p, end, &c.kind, &c.value)) {
			bind_decision(ins, 1, &c);
			if (json.len)
				sqlite3_bind_blob64(ins, 10, json.p, json.len, SQLITE_STATIC);
			else
				sqlite3_bind_null(ins, 10);
			if ((rc = step_done(ins)))
				goto out;
		}
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	if (rc) {
		*rcp = rc;
		return TC_EDB;
	}
	return TC_OK;
}
