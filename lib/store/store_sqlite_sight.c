/*
 * store_sqlite_sight.c — sight_orgs (see store_sqlite_sight.h).
 *
 * Invariant: for every stored sighting version (any version, any
 * collection) there is a row (its sighting_of_ref, its producer) whose
 * last_us is at least the version's last_seen (first_seen, else created,
 * when it has none). Deleting a sighting does not remove its row: a
 * sighting that happened stays a fact for the confidence rule.
 */
#include "store/store_sqlite_sight.h"

/* µs since the epoch of an RFC 3339 text in SQLite (julianday) */
#define SQ_SIGHT_US(x) "CAST((julianday(" x ") - 2440587.5) * 86400000000 AS INTEGER)"
#define SQ_SIGHT_WHEN(j)                                                                    \
	SQ_SIGHT_US("coalesce(json_extract(" j ", '$.last_seen'), json_extract(" j                \
	            ", '$.first_seen'), json_extract(" j ", '$.created'))")

const char sq_sight_schema[] =
	"CREATE TABLE sight_orgs(indicator TEXT NOT NULL, org INTEGER NOT NULL,"
	" last_us INTEGER NOT NULL, PRIMARY KEY(indicator, org)) WITHOUT ROWID;"
	"INSERT INTO sight_orgs(indicator, org, last_us)"
	" SELECT json_extract(json, '$.sighting_of_ref'), producer, max(" SQ_SIGHT_WHEN("json") ")"
	" FROM versions WHERE type = 'sighting'"
	" AND json_extract(json, '$.sighting_of_ref') LIKE 'indicator--%'"
	" GROUP BY 1, 2;";

int
sq_sight_note(sqlite3 *db, struct slice json, int64_t producer)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT INTO sight_orgs(indicator, org, last_us)"
		" SELECT json_extract(?1, '$.sighting_of_ref'), ?2, coalesce(" SQ_SIGHT_WHEN("?1") ", 0)"
		" WHERE json_extract(?1, '$.sighting_of_ref') LIKE 'indicator--%'"
		" ON CONFLICT(indicator, org) DO UPDATE SET last_us = max(last_us, excluded.last_us)",
		-1, &st, NULL);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, json.p, (int)json.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, producer);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
sq_sight_stats(sqlite3 *db, const char *id, int64_t producer, uint64_t version_seq,
               struct store_sighted *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT count(*), coalesce(max(last_us), 0),"
	                            " (SELECT version_us FROM versions WHERE seq = ?3)"
	                            " FROM sight_orgs WHERE indicator = ?1 AND org != ?2",
	                            -1, &st, NULL);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, producer);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)version_seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->orgs = (size_t)sqlite3_column_int64(st, 0);
		out->last_us = sqlite3_column_int64(st, 1);
		out->version_us = sqlite3_column_int64(st, 2);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}
