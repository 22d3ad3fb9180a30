/*
 * registry_source.c — sources in registry.db: which feeds tocsind pulls,
 * as which organisation, into which collection, how each pull went, and
 * what each source has listed (source_entries).
 *
 * Invariant: the operator's settings change only through add and remove
 * (no edit: remove and add again), `source run` only moves requested, and
 * tocsind's status write (registry_source_progress) never touches the
 * settings, so an operator's change and a pull in flight never overwrite
 * each other. Auth headers leave this file only in a struct reg_source,
 * which the caller wipes; the copies made here are wiped before they are
 * freed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"
#include "util/timestamp.h"

#define S_COLS                                                                               \
	"s.name, s.url, s.format, s.every_s, s.org, o.name, o.identity, s.collection, s.tlp,"   \
	" s.confidence, s.expiry, s.options, s.auth, s.etag, s.last_modified, s.cursor,"        \
	" s.last_run_us, s.last_success_us, s.next_run_us, s.created_us, s.result,"             \
	" s.last_error, s.warnings, s.entries, s.added, s.expired, s.rejected, s.runs,"         \
	" s.errors, s.requested, s.served"
#define S_FROM " FROM sources s JOIN orgs o ON o.num = s.org"

void
reg_source_wipe(struct reg_source *s)
{
	if (s)
		sodium_memzero(s->auth, sizeof s->auth);
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
s_row(sqlite3_stmt *st, struct reg_source *s)
{
	memset(s, 0, sizeof *s);
	col_text(st, 0, s->name, sizeof s->name);
	col_text(st, 1, s->url, sizeof s->url);
	col_text(st, 2, s->format, sizeof s->format);
	s->every_s = sqlite3_column_int64(st, 3);
	s->org = sqlite3_column_int64(st, 4);
	col_text(st, 5, s->org_name, sizeof s->org_name);
	col_text(st, 6, s->org_identity, sizeof s->org_identity);
	col_text(st, 7, s->collection, sizeof s->collection);
	col_text(st, 8, s->tlp, sizeof s->tlp);
	s->confidence = sqlite3_column_int(st, 9);
	col_text(st, 10, s->expiry, sizeof s->expiry);
	col_text(st, 11, s->options, sizeof s->options);
	const void *a = sqlite3_column_blob(st, 12);
	size_t al = (size_t)sqlite3_column_bytes(st, 12);
	if (a && al < sizeof s->auth) {
		memcpy(s->auth, a, al);
		s->auth[al] = '\0';
	}
	col_text(st, 13, s->etag, sizeof s->etag);
	col_text(st, 14, s->last_modified, sizeof s->last_modified);
	col_text(st, 15, s->cursor, sizeof s->cursor);
	s->last_run_us = sqlite3_column_int64(st, 16);
	s->last_success_us = sqlite3_column_int64(st, 17);
	s->next_run_us = sqlite3_column_int64(st, 18);
	s->created_us = sqlite3_column_int64(st, 19);
	col_text(st, 20, s->result, sizeof s->result);
	col_text(st, 21, s->last_error, sizeof s->last_error);
	col_text(st, 22, s->warnings, sizeof s->warnings);
	s->entries = (uint64_t)sqlite3_column_int64(st, 23);
	s->added = (uint64_t)sqlite3_column_int64(st, 24);
	s->expired = (uint64_t)sqlite3_column_int64(st, 25);
	s->rejected = (uint64_t)sqlite3_column_int64(st, 26);
	s->runs = (uint64_t)sqlite3_column_int64(st, 27);
	s->errors = (uint64_t)sqlite3_column_int64(st, 28);
	s->requested = sqlite3_column_int64(st, 29);
	s->served = sqlite3_column_int64(st, 30);
}

static enum tcerr
s_get_locked(struct registry *r, const char *name, struct reg_source *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT " S_COLS S_FROM " WHERE s.name = ?", -1,
	                            &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
	enum tcerr t = TC_OK;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s_row(st, out);
	else if (rc == SQLITE_DONE)
		t = diag_set(d, TC_ENOTFOUND, "no source '%s'", name ? name : "");
	else
		t = reg__dberr(r, rc, d);
	sqlite3_finalize(st);
	return t;
}

static bool
fits(const char *s, size_t max)
{
	return strnlen(s, max + 1) <= max;
}

enum tcerr
registry_source_add(struct registry *r, const struct reg_source *s, struct reg_source *out,
                    struct diag *d)
{
	struct reg_org o;
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if (!s->name[0] || !fits(s->name, REG_SOURCE_NAME_MAX))
		return diag_set(d, TC_EINVAL, "name: 1 to %d characters", REG_SOURCE_NAME_MAX);
	if (!s->url[0] || !fits(s->url, REG_SOURCE_URL_MAX))
		return diag_set(d, TC_EINVAL, "URL: 1 to %d bytes", REG_SOURCE_URL_MAX);
	if (s->every_s < REG_SOURCE_EVERY_MIN || s->every_s > REG_SOURCE_EVERY_MAX)
		return diag_set(d, TC_EINVAL, "--every: between %d seconds and %d days",
		                REG_SOURCE_EVERY_MIN, REG_SOURCE_EVERY_MAX / 86400);
	if (s->confidence < -1 || s->confidence > 100)
		return diag_set(d, TC_EINVAL, "--confidence: 0 to 100");
	if (strcmp(s->expiry, "drop") != 0 && strcmp(s->expiry, "keep") != 0)
		return diag_set(d, TC_EINVAL, "--expiry: drop or keep");
	if (!s->collection[0])
		return diag_set(d, TC_EINVAL, "--collection: required");
	if ((rc = registry_org_find(r, s->org_name, &o)) != TC_OK)
		return rc == TC_ENOTFOUND ? diag_set(d, rc, "no organisation '%s'", s->org_name)
		                          : diag_set(d, rc, "cannot read organisation '%s'", s->org_name);
	if (o.deleted_us)
		return diag_set(d, TC_EINVAL, "organisation '%s' was deleted", o.name);

	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_exec(reg__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (q) {
		rc = reg__dberr(r, q, d);
		goto unlock;
	}
	int64_t n = 0;
	q = sqlite3_prepare_v2(reg__db(r), "SELECT count(*) FROM sources", -1, &st, NULL);
	if (!q && (q = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		q = SQLITE_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (q)
		rc = reg__dberr(r, q, d);
	else if (n >= REG_SOURCES_MAX)
		rc = diag_set(d, TC_ELIMIT, "the hub already has %d sources", REG_SOURCES_MAX);
	if (!rc) {
		q = sqlite3_prepare_v2(reg__db(r),
		                       "INSERT INTO sources(name, url, format, every_s, org, collection,"
		                       " tlp, confidence, expiry, options, auth, created_us)"
		                       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		                       -1, &st, NULL);
		if (!q) {
			sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, s->url, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, s->format, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, s->every_s);
			sqlite3_bind_int64(st, 5, o.num);
			sqlite3_bind_text(st, 6, s->collection, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, s->tlp, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 8, s->confidence);
			sqlite3_bind_text(st, 9, s->expiry, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 10, s->options, -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 11, s->auth, (int)strnlen(s->auth, sizeof s->auth),
			                  SQLITE_STATIC);
			sqlite3_bind_int64(st, 12, ts_now_us());
			q = sqlite3_step(st);
			if ((q & 0xff) == SQLITE_CONSTRAINT)
				rc = diag_set(d, TC_EEXIST, "source '%s' exists already", s->name);
			else if (q != SQLITE_DONE)
				rc = reg__dberr(r, q, d);
		} else {
			rc = reg__dberr(r, q, d);
		}
		sqlite3_finalize(st);
	}
	if (!rc && out)
		rc = s_get_locked(r, s->name, out, d);
	if (rc)
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
	else if ((q = sqlite3_exec(reg__db(r), "COMMIT", NULL, NULL, NULL)))
		rc = reg__dberr(r, q, d);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_get(struct registry *r, const char *name, struct reg_source *out, struct diag *d)
{
	pthread_mutex_lock(reg__mu(r));
	enum tcerr rc = s_get_locked(r, name, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

struct source_each {
	enum tcerr (*cb)(void *ctx, const struct reg_source *s);
	void *ctx;
};

static void
source_row_any(sqlite3_stmt *st, void *out)
{
	s_row(st, out);
}

static enum tcerr
source_each_one(void *x, const void *e)
{
	struct source_each *c = x;
	return c->cb(c->ctx, e);
}

enum tcerr
registry_source_list(struct registry *r, enum tcerr (*cb)(void *ctx, const struct reg_source *s),
                     void *ctx, struct diag *d)
{
	struct source_each c = { cb, ctx };
	return reg__list_secret_rows(r, "SELECT " S_COLS S_FROM " ORDER BY s.name",
	                             sizeof(struct reg_source), source_row_any, source_each_one, &c, d);
}

enum tcerr
registry_source_remove(struct registry *r, const char *name, struct diag *d)
{
	enum tcerr rc = TC_OK;
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_exec(reg__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (!q)
		q = sqlite3_prepare_v2(reg__db(r), "DELETE FROM sources WHERE name = ?", -1, &st, NULL);
	if (!q) {
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
		q = sqlite3_step(st);
		q = q == SQLITE_DONE ? SQLITE_OK : q;
	}
	sqlite3_finalize(st);
	st = NULL;
	bool found = !q && sqlite3_changes(reg__db(r)) > 0;
	if (!q && found)
		q = sqlite3_prepare_v2(reg__db(r), "DELETE FROM source_entries WHERE source = ?", -1,
		                       &st, NULL);
	if (!q && found) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		q = sqlite3_step(st);
		q = q == SQLITE_DONE ? SQLITE_OK : q;
	}
	sqlite3_finalize(st);
	if (q)
		rc = reg__dberr(r, q, d);
	else if (!found)
		rc = diag_set(d, TC_ENOTFOUND, "no source '%s'", name ? name : "");
	if (rc)
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
	else if ((q = sqlite3_exec(reg__db(r), "COMMIT", NULL, NULL, NULL)))
		rc = reg__dberr(r, q, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_request(struct registry *r, const char *name, struct reg_source *out,
                        struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_prepare_v2(reg__db(r),
	                           "UPDATE sources SET requested = requested + 1 WHERE name = ?", -1,
	                           &st, NULL);
	if (!q) {
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
		q = sqlite3_step(st);
		q = q == SQLITE_DONE ? SQLITE_OK : q;
	}
	sqlite3_finalize(st);
	if (q)
		rc = reg__dberr(r, q, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "no source '%s'", name ? name : "");
	if (!rc && out)
		rc = s_get_locked(r, name, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_progress(struct registry *r, const struct reg_source *s, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_prepare_v2(reg__db(r),
	                           "UPDATE sources SET etag = ?, last_modified = ?, cursor = ?,"
	                           " last_run_us = ?, last_success_us = ?, next_run_us = ?,"
	                           " result = ?, last_error = ?, warnings = ?, entries = ?,"
	                           " added = ?, expired = ?, rejected = ?, runs = ?, errors = ?,"
	                           " served = ? WHERE name = ?",
	                           -1, &st, NULL);
	if (!q) {
		sqlite3_bind_text(st, 1, s->etag, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->last_modified, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, s->cursor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, s->last_run_us);
		sqlite3_bind_int64(st, 5, s->last_success_us);
		sqlite3_bind_int64(st, 6, s->next_run_us);
		sqlite3_bind_text(st, 7, s->result, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, s->last_error, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, s->warnings, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, (int64_t)s->entries);
		sqlite3_bind_int64(st, 11, (int64_t)s->added);
		sqlite3_bind_int64(st, 12, (int64_t)s->expired);
		sqlite3_bind_int64(st, 13, (int64_t)s->rejected);
		sqlite3_bind_int64(st, 14, (int64_t)s->runs);
		sqlite3_bind_int64(st, 15, (int64_t)s->errors);
		sqlite3_bind_int64(st, 16, s->served);
		sqlite3_bind_text(st, 17, s->name, -1, SQLITE_STATIC);
		q = sqlite3_step(st);
		q = q == SQLITE_DONE ? SQLITE_OK : q;
	}
	sqlite3_finalize(st);
	if (q)
		rc = reg__dberr(r, q, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "source %s was removed", s->name);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_prepare_v2(reg__db(r), "SELECT n FROM source_generation", -1, &st, NULL);
	if (!q) {
		q = sqlite3_step(st);
		if (q == SQLITE_ROW) {
			*out = (uint64_t)sqlite3_column_int64(st, 0);
			q = SQLITE_OK;
		} else if (q == SQLITE_DONE) {
			q = SQLITE_CORRUPT;
		}
	}
	sqlite3_finalize(st);
	if (q)
		rc = reg__dberr(r, q, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_entries(struct registry *r, const char *name,
                        enum tcerr (*cb)(void *ctx, const struct reg_source_entry *e), void *ctx,
                        struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_prepare_v2(reg__db(r),
	                           "SELECT id, modified_us, listed, json FROM source_entries"
	                           " WHERE source = ?",
	                           -1, &st, NULL);
	if (!q)
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
	while (!q && !rc && (q = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_source_entry e = {
			.id = (const char *)sqlite3_column_text(st, 0),
			.modified_us = sqlite3_column_int64(st, 1),
			.listed = sqlite3_column_int(st, 2) != 0,
			.json = (const char *)sqlite3_column_text(st, 3),
		};
		if (!e.id || !e.json)
			continue;
		rc = cb(ctx, &e);
		q = SQLITE_OK;
	}
	if (!rc && q != SQLITE_DONE && q != SQLITE_OK)
		rc = reg__dberr(r, q, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_source_entries_put(struct registry *r, const char *name,
                            const struct reg_source_entry *e, size_t n, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (n == 0)
		return TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int q = sqlite3_exec(reg__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (!q)
		q = sqlite3_prepare_v2(reg__db(r),
		                       "INSERT OR REPLACE INTO source_entries(source, id, modified_us,"
		                       " listed, json) VALUES(?,?,?,?,?)",
		                       -1, &st, NULL);
	for (size_t i = 0; !q && i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, e[i].modified_us);
		sqlite3_bind_int(st, 4, e[i].listed ? 1 : 0);
		sqlite3_bind_text(st, 5, e[i].json, -1, SQLITE_STATIC);
		q = sqlite3_step(st);
		q = q == SQLITE_DONE ? SQLITE_OK : q;
	}
	sqlite3_finalize(st);
	if (q) {
		rc = reg__dberr(r, q, d);
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
	} else if ((q = sqlite3_exec(reg__db(r), "COMMIT", NULL, NULL, NULL))) {
		rc = reg__dberr(r, q, d);
	}
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}
