/*
 * registry_webhook.c — webhook subscriptions in registry.db: who receives
 * the log at which URL, and how far each delivery got.
 *
 * Invariant: a subscription's cursor only moves forward through
 * registry_webhook_progress(), which writes only if the subscription is
 * still at the revision the worker read (so an operator's replay or
 * remove is never overwritten by a delivery that was in flight), or
 * through registry_webhook_replay(). Secrets leave this file only in a
 * struct reg_webhook, which the caller wipes (reg_webhook_wipe); the
 * copies made here are wiped before they are freed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"
#include "util/timestamp.h"

#define W_COLS                                                                             \
	"w.id, w.org, o.name, w.url, w.secret, w.view, w.filter, w.cursor, w.pending_end, "   \
	"w.state, w.attempts, w.last_error, w.last_attempt_us, w.last_delivery_us, "          \
	"w.next_attempt_us, w.created_us, w.deliveries, w.revision"
#define W_FROM " FROM webhooks w JOIN orgs o ON o.num = w.org"

const char *
reg_webhook_state_name(enum reg_webhook_state s)
{
	return s == REG_WEBHOOK_ACTIVE ? "active" : s == REG_WEBHOOK_DEAD ? "dead" : "?";
}

void
reg_webhook_wipe(struct reg_webhook *w)
{
	if (w) {
		sodium_memzero(w->secret, sizeof w->secret);
		w->secret_len = 0;
	}
}

bool
reg_webhook_pos_ok(const char *s)
{
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > 20 || strspn(s, "0123456789") != len || (s[0] == '0' && len > 1))
		return false;
	/* at most UINT64_MAX */
	return len < 20 || strcmp(s, "18446744073709551615") <= 0;
}

static void
col_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

static void
w_row(sqlite3_stmt *st, struct reg_webhook *w)
{
	memset(w, 0, sizeof *w);
	col_text(st, 0, w->id, sizeof w->id);
	w->org = sqlite3_column_int64(st, 1);
	col_text(st, 2, w->org_name, sizeof w->org_name);
	col_text(st, 3, w->url, sizeof w->url);
	const void *sec = sqlite3_column_blob(st, 4);
	size_t sl = (size_t)sqlite3_column_bytes(st, 4);
	if (sec && sl <= sizeof w->secret) {
		memcpy(w->secret, sec, sl);
		w->secret_len = sl;
	}
	col_text(st, 5, w->view, sizeof w->view);
	col_text(st, 6, w->filter, sizeof w->filter);
	col_text(st, 7, w->cursor, sizeof w->cursor);
	col_text(st, 8, w->pending_end, sizeof w->pending_end);
	w->state = (enum reg_webhook_state)sqlite3_column_int(st, 9);
	w->attempts = (unsigned)sqlite3_column_int(st, 10);
	col_text(st, 11, w->last_error, sizeof w->last_error);
	w->last_attempt_us = sqlite3_column_int64(st, 12);
	w->last_delivery_us = sqlite3_column_int64(st, 13);
	w->next_attempt_us = sqlite3_column_int64(st, 14);
	w->created_us = sqlite3_column_int64(st, 15);
	w->deliveries = (uint64_t)sqlite3_column_int64(st, 16);
	w->revision = sqlite3_column_int64(st, 17);
}

/* Reads one subscription; lock held. */
static enum tcerr
w_get_locked(struct registry *r, const char *id, struct reg_webhook *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT " W_COLS W_FROM " WHERE w.id = ?", -1, &st,
	                            NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
	enum tcerr t = TC_OK;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		w_row(st, out);
	else if (rc == SQLITE_DONE)
		t = diag_set(d, TC_ENOTFOUND, "no webhook subscription '%s'", id ? id : "");
	else
		t = reg__dberr(r, rc, d);
	sqlite3_finalize(st);
	return t;
}

static enum tcerr
exec_locked(struct registry *r, const char *sql, struct diag *d)
{
	int rc = sqlite3_exec(reg__db(r), sql, NULL, NULL, NULL);
	return rc ? reg__dberr(r, rc, d) : TC_OK;
}

enum tcerr
registry_webhook_add(struct registry *r, const struct reg_webhook *w, struct reg_webhook *out,
                     struct diag *d)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct reg_org o;
	sqlite3_stmt *st = NULL;
	char id[REG_WEBHOOK_ID_LEN + 1];
	enum tcerr rc;

	if (!w->url[0])
		return diag_set(d, TC_EINVAL, "URL: empty");
	if (w->secret_len < 16 || w->secret_len > REG_WEBHOOK_SECRET_MAX)
		return diag_set(d, TC_EINVAL, "secret: must be 16 to %d bytes", REG_WEBHOOK_SECRET_MAX);
	if (strcmp(w->view, "stix") != 0 && strcmp(w->view, "decisions") != 0)
		return diag_set(d, TC_EINVAL, "view: must be stix or decisions");
	if (!reg_webhook_pos_ok(w->cursor))
		return diag_set(d, TC_EINVAL, "position '%s': must be a log position (a decimal number)", w->cursor);
	if ((rc = registry_org_find(r, w->org_name, &o)) != TC_OK)
		return rc == TC_ENOTFOUND ? diag_set(d, rc, "no organisation '%s'", w->org_name)
		                          : diag_set(d, rc, "cannot read organisation '%s'", w->org_name);
	if (o.deleted_us)
		return diag_set(d, TC_EINVAL, "organisation '%s' was deleted", o.name);

	pthread_mutex_lock(reg__mu(r));
	if ((rc = exec_locked(r, "BEGIN IMMEDIATE", d)))
		goto unlock;
	{
		int64_t n = 0;
		int s = sqlite3_prepare_v2(reg__db(r), "SELECT count(*) FROM webhooks", -1, &st, NULL);
		if (!s && (s = sqlite3_step(st)) == SQLITE_ROW) {
			n = sqlite3_column_int64(st, 0);
			s = SQLITE_OK;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (s)
			rc = reg__dberr(r, s, d);
		else if (n >= REG_WEBHOOKS_MAX)
			rc = diag_set(d, TC_ELIMIT, "the hub already has %d webhook subscriptions",
			              REG_WEBHOOKS_MAX);
	}
	if (!rc) {
		int s = sqlite3_prepare_v2(reg__db(r),
		                           "INSERT INTO webhooks(id, org, url, secret, view, filter,"
		                           " cursor, state, created_us) VALUES(?,?,?,?,?,?,?,?,?)",
		                           -1, &st, NULL);
		if (s)
			rc = reg__dberr(r, s, d);
	}
	/* a fresh id; a collision (1 in 2^55) takes another */
	for (int tries = 0; !rc && tries < 8; tries++) {
		id[0] = 'w';
		for (int i = 1; i < REG_WEBHOOK_ID_LEN; i++)
			id[i] = b32[randombytes_uniform(32)];
		id[REG_WEBHOOK_ID_LEN] = '\0';
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, o.num);
		sqlite3_bind_text(st, 3, w->url, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, w->secret, (int)w->secret_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, w->view, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, w->filter, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, w->cursor, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, REG_WEBHOOK_ACTIVE);
		sqlite3_bind_int64(st, 9, ts_now_us());
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if ((s & 0xff) != SQLITE_CONSTRAINT || tries == 7)
			rc = reg__dberr(r, s, d);
	}
	sqlite3_finalize(st);
	if (!rc && out)
		rc = w_get_locked(r, id, out, d);
	if (rc)
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
	else
		rc = exec_locked(r, "COMMIT", d);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_webhook_get(struct registry *r, const char *id, struct reg_webhook *out,
                     struct diag *d)
{
	pthread_mutex_lock(reg__mu(r));
	enum tcerr rc = w_get_locked(r, id, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

struct webhook_each {
	enum tcerr (*cb)(void *ctx, const struct reg_webhook *w);
	void *ctx;
};

static void
webhook_row_any(sqlite3_stmt *st, void *out)
{
	w_row(st, out);
}

static enum tcerr
webhook_each_one(void *x, const void *e)
{
	struct webhook_each *c = x;
	return c->cb(c->ctx, e);
}

enum tcerr
registry_webhook_list(struct registry *r, enum tcerr (*cb)(void *ctx, const struct reg_webhook *w),
                      void *ctx, struct diag *d)
{
	struct webhook_each c = { cb, ctx };
	return reg__list_secret_rows(r, "SELECT " W_COLS W_FROM " ORDER BY w.created_us, w.id",
	                             sizeof(struct reg_webhook), webhook_row_any, webhook_each_one, &c, d);
}

enum tcerr
registry_webhook_remove(struct registry *r, const char *id, struct diag *d)
{
	return reg__delete_row(r, "DELETE FROM webhooks WHERE id = ?", id, "webhook subscription", d);
}

enum tcerr
registry_webhook_replay(struct registry *r, const char *id, const char *from,
                        struct reg_webhook *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (from && !reg_webhook_pos_ok(from))
		return diag_set(d, TC_EINVAL, "position '%s': must be a log position (a decimal number)", from);
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r),
	                           "UPDATE webhooks SET state = ?, attempts = 0, last_error = '',"
	                           " pending_end = '', next_attempt_us = 0,"
	                           " cursor = coalesce(?, cursor), revision = revision + 1"
	                           " WHERE id = ?",
	                           -1, &st, NULL);
	if (!s) {
		sqlite3_bind_int(st, 1, REG_WEBHOOK_ACTIVE);
		if (from)
			sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_text(st, 3, id ? id : "", -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		s = s == SQLITE_DONE ? SQLITE_OK : s;
	}
	if (s)
		rc = reg__dberr(r, s, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "no webhook subscription '%s'", id ? id : "");
	sqlite3_finalize(st);
	if (!rc && out)
		rc = w_get_locked(r, id, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_webhook_progress(struct registry *r, const struct reg_webhook *w, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (!reg_webhook_pos_ok(w->cursor) || (w->pending_end[0] && !reg_webhook_pos_ok(w->pending_end)))
		return diag_set(d, TC_EINTERNAL, "webhook %s: bad position", w->id);
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r),
	                           "UPDATE webhooks SET cursor = ?, pending_end = ?, state = ?,"
	                           " attempts = ?, last_error = ?, last_attempt_us = ?,"
	                           " last_delivery_us = ?, next_attempt_us = ?, deliveries = ?"
	                           " WHERE id = ? AND revision = ?",
	                           -1, &st, NULL);
	if (!s) {
		sqlite3_bind_text(st, 1, w->cursor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, w->pending_end, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)w->state);
		sqlite3_bind_int(st, 4, (int)w->attempts);
		sqlite3_bind_text(st, 5, w->last_error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, w->last_attempt_us);
		sqlite3_bind_int64(st, 7, w->last_delivery_us);
		sqlite3_bind_int64(st, 8, w->next_attempt_us);
		sqlite3_bind_int64(st, 9, (int64_t)w->deliveries);
		sqlite3_bind_text(st, 10, w->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 11, w->revision);
		s = sqlite3_step(st);
		s = s == SQLITE_DONE ? SQLITE_OK : s;
	}
	if (s)
		rc = reg__dberr(r, s, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "webhook %s was removed or replayed", w->id);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_webhook_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r), "SELECT n FROM webhook_generation", -1, &st, NULL);
	if (!s) {
		s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			*out = (uint64_t)sqlite3_column_int64(st, 0);
			s = SQLITE_OK;
		} else if (s == SQLITE_DONE) {
			s = SQLITE_CORRUPT;
		}
	}
	if (s)
		rc = reg__dberr(r, s, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}
