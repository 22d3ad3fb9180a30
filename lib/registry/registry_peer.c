/*
 * registry_peer.c — federation peers in registry.db (docs/peers.md): which
 * hubs and TAXII servers this hub replicates with, under which border
 * policy, and how far replication got.
 *
 * Invariant: a peer's cursor only moves through registry_peer_progress(),
 * which writes only if the peer is still at the revision the worker read,
 * so an operator's remove or re-add is never overwritten by a worker that
 * was in flight. The key the remote issued leaves this file only in a
 * struct reg_peer, which the caller wipes (reg_peer_wipe); copies made
 * here are wiped before they are freed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"
#include "util/timestamp.h"

#define P_COLS                                                                              \
	"p.name, p.org, o.name, p.url, p.api_root, p.kind, p.secret, p.pin, p.policy,"        \
	" p.collections, p.cursor, p.pushed, p.objects_in, p.deleted_in, p.refused,"          \
	" p.objects_out, p.remote_position, p.last_error, p.last_error_us, p.last_ok_us,"    \
	" p.last_event_us, p.created_us, p.revision"
#define P_FROM " FROM peers p JOIN orgs o ON o.num = p.org"

void
reg_peer_wipe(struct reg_peer *p)
{
	if (p) {
		sodium_memzero(p->secret, sizeof p->secret);
		p->secret_len = 0;
	}
}

enum tcerr
reg_peer_name_check(const char *name, struct diag *d)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > REG_PEER_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", name[0]))
		return diag_set(d, TC_EINVAL,
		                "peer name '%s': must be 1 to %d of a-z 0-9 . _ - (starting with a "
		                "letter or digit)",
		                name ? name : "", REG_PEER_NAME_MAX);
	return TC_OK;
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
p_row(sqlite3_stmt *st, struct reg_peer *p)
{
	memset(p, 0, sizeof *p);
	col_text(st, 0, p->name, sizeof p->name);
	p->org = sqlite3_column_int64(st, 1);
	col_text(st, 2, p->org_name, sizeof p->org_name);
	col_text(st, 3, p->url, sizeof p->url);
	col_text(st, 4, p->api_root, sizeof p->api_root);
	col_text(st, 5, p->kind, sizeof p->kind);
	const void *sec = sqlite3_column_blob(st, 6);
	size_t sl = (size_t)sqlite3_column_bytes(st, 6);
	if (sec && sl <= sizeof p->secret) {
		memcpy(p->secret, sec, sl);
		p->secret_len = sl;
	}
	col_text(st, 7, p->pin, sizeof p->pin);
	col_text(st, 8, p->policy, sizeof p->policy);
	col_text(st, 9, p->collections, sizeof p->collections);
	col_text(st, 10, p->cursor, sizeof p->cursor);
	col_text(st, 11, p->pushed, sizeof p->pushed);
	p->objects_in = (uint64_t)sqlite3_column_int64(st, 12);
	p->deleted_in = (uint64_t)sqlite3_column_int64(st, 13);
	p->refused = (uint64_t)sqlite3_column_int64(st, 14);
	p->objects_out = (uint64_t)sqlite3_column_int64(st, 15);
	col_text(st, 16, p->remote_position, sizeof p->remote_position);
	col_text(st, 17, p->last_error, sizeof p->last_error);
	p->last_error_us = sqlite3_column_int64(st, 18);
	p->last_ok_us = sqlite3_column_int64(st, 19);
	p->last_event_us = sqlite3_column_int64(st, 20);
	p->created_us = sqlite3_column_int64(st, 21);
	p->revision = sqlite3_column_int64(st, 22);
}

static enum tcerr
p_get_locked(struct registry *r, const char *name, struct reg_peer *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT " P_COLS P_FROM " WHERE p.name = ?", -1,
	                            &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
	enum tcerr t = TC_OK;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		p_row(st, out);
	else if (rc == SQLITE_DONE)
		t = diag_set(d, TC_ENOTFOUND, "no peer '%s'", name ? name : "");
	else
		t = reg__dberr(r, rc, d);
	sqlite3_finalize(st);
	return t;
}

enum tcerr
registry_peer_add(struct registry *r, const struct reg_peer *p, struct reg_peer *out,
                  struct diag *d)
{
	struct reg_org o;
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if ((rc = reg_peer_name_check(p->name, d)))
		return rc;
	if (!p->url[0])
		return diag_set(d, TC_EINVAL, "URL: empty");
	if (strcmp(p->kind, "tocsin") != 0 && strcmp(p->kind, "taxii") != 0)
		return diag_set(d, TC_EINVAL, "kind: must be tocsin or taxii");
	if (p->secret_len == 0 || p->secret_len > REG_PEER_KEY_MAX)
		return diag_set(d, TC_EINVAL, "key: must be 1 to %d bytes", REG_PEER_KEY_MAX);
	if (p->api_root[0] && reg_api_root_name_check(p->api_root, d))
		return TC_EINVAL;
	if ((rc = registry_org_find(r, p->org_name, &o)) != TC_OK)
		return rc == TC_ENOTFOUND ? diag_set(d, rc, "no organisation '%s'", p->org_name)
		                          : diag_set(d, rc, "cannot read organisation '%s'", p->org_name);
	if (o.deleted_us)
		return diag_set(d, TC_EINVAL, "organisation '%s' was deleted", o.name);

	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_exec(reg__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (s) {
		rc = reg__dberr(r, s, d);
		goto unlock;
	}
	s = sqlite3_prepare_v2(reg__db(r), "SELECT count(*) FROM peers", -1, &st, NULL);
	if (!s && (s = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) >= REG_PEERS_MAX)
			rc = diag_set(d, TC_ELIMIT, "the hub already has %d peers", REG_PEERS_MAX);
		s = SQLITE_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (s)
		rc = reg__dberr(r, s, d);
	if (!rc) {
		s = sqlite3_prepare_v2(reg__db(r),
		                       "INSERT INTO peers(name, org, url, api_root, kind, secret, pin,"
		                       " policy, collections, cursor, created_us)"
		                       " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		                       -1, &st, NULL);
		if (!s) {
			sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, o.num);
			sqlite3_bind_text(st, 3, p->url, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, p->api_root, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, p->kind, -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 6, p->secret, (int)p->secret_len, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, p->pin, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 8, p->policy, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 9, p->collections, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 10, p->cursor[0] ? p->cursor : "0", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 11, ts_now_us());
			s = sqlite3_step(st);
			if ((s & 0xff) == SQLITE_CONSTRAINT)
				rc = diag_set(d, TC_EEXIST, "a peer '%s' exists already", p->name);
			else if (s != SQLITE_DONE)
				rc = reg__dberr(r, s, d);
		} else {
			rc = reg__dberr(r, s, d);
		}
		sqlite3_finalize(st);
	}
	if (!rc && out)
		rc = p_get_locked(r, p->name, out, d);
	if (rc)
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
	else if ((s = sqlite3_exec(reg__db(r), "COMMIT", NULL, NULL, NULL)))
		rc = reg__dberr(r, s, d);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_peer_get(struct registry *r, const char *name, struct reg_peer *out, struct diag *d)
{
	pthread_mutex_lock(reg__mu(r));
	enum tcerr rc = p_get_locked(r, name, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

struct peer_each {
	enum tcerr (*cb)(void *ctx, const struct reg_peer *p);
	void *ctx;
};

static void
peer_row_any(sqlite3_stmt *st, void *out)
{
	p_row(st, out);
}

static enum tcerr
peer_each_one(void *x, const void *e)
{
	struct peer_each *c = x;
	return c->cb(c->ctx, e);
}

enum tcerr
registry_peer_list(struct registry *r, enum tcerr (*cb)(void *ctx, const struct reg_peer *p),
                   void *ctx, struct diag *d)
{
	struct peer_each c = { cb, ctx };
	return reg__list_secret_rows(r, "SELECT " P_COLS P_FROM " ORDER BY p.name",
	                             sizeof(struct reg_peer), peer_row_any, peer_each_one, &c, d);
}

enum tcerr
registry_peer_remove(struct registry *r, const char *name, struct diag *d)
{
	return reg__delete_row(r, "DELETE FROM peers WHERE name = ?", name, "peer", d);
}

enum tcerr
registry_peer_progress(struct registry *r, const struct reg_peer *p, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r),
	                           "UPDATE peers SET cursor = ?, pushed = ?, objects_in = ?,"
	                           " deleted_in = ?, refused = ?, objects_out = ?,"
	                           " remote_position = ?, last_error = ?, last_error_us = ?,"
	                           " last_ok_us = ?, last_event_us = ?"
	                           " WHERE name = ? AND revision = ?",
	                           -1, &st, NULL);
	if (!s) {
		sqlite3_bind_text(st, 1, p->cursor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->pushed[0] ? p->pushed : "0", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)p->objects_in);
		sqlite3_bind_int64(st, 4, (int64_t)p->deleted_in);
		sqlite3_bind_int64(st, 5, (int64_t)p->refused);
		sqlite3_bind_int64(st, 6, (int64_t)p->objects_out);
		sqlite3_bind_text(st, 7, p->remote_position[0] ? p->remote_position : "0", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(st, 8, p->last_error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, p->last_error_us);
		sqlite3_bind_int64(st, 10, p->last_ok_us);
		sqlite3_bind_int64(st, 11, p->last_event_us);
		sqlite3_bind_text(st, 12, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 13, p->revision);
		s = sqlite3_step(st);
		s = s == SQLITE_DONE ? SQLITE_OK : s;
	}
	if (s)
		rc = reg__dberr(r, s, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "peer %s was removed or changed", p->name);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_peer_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r), "SELECT n FROM peer_generation", -1, &st, NULL);
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
