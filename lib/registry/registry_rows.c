/*
 * registry_rows.c — what the registry's own tables of secret-holding rows
 * (webhook subscriptions, sources, peers) share: listing every row into
 * copies that are handed out after the lock is released and wiped after,
 * and removing one row by its key.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

enum tcerr
reg__list_secret_rows(struct registry *r, const char *sql, size_t elem,
                      void (*row)(sqlite3_stmt *st, void *out),
                      enum tcerr (*cb)(void *ctx, const void *e), void *ctx, struct diag *d)
{
	unsigned char *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;

	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r), sql, -1, &st, NULL);
	if (s)
		rc = reg__dberr(r, s, d);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			unsigned char *nv = nc <= SIZE_MAX / elem ? malloc(nc * elem) : NULL;
			if (!nv) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				break;
			}
			if (n) {
				memcpy(nv, v, n * elem);
				sodium_memzero(v, n * elem);
			}
			free(v);
			v = nv;
			cap = nc;
		}
		row(st, v + n++ * elem);
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg__dberr(r, s, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(ctx, v + i * elem);
	if (v)
		sodium_memzero(v, n * elem);
	free(v);
	return rc;
}

enum tcerr
reg__delete_row(struct registry *r, const char *sql, const char *key, const char *what,
                struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int s = sqlite3_prepare_v2(reg__db(r), sql, -1, &st, NULL);
	if (!s) {
		sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		s = s == SQLITE_DONE ? SQLITE_OK : s;
	}
	if (s)
		rc = reg__dberr(r, s, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "no %s '%s'", what, key ? key : "");
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}
