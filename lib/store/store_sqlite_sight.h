/*
 * store_sqlite_sight.h — who sighted which indicator, in the SQLite store
 * (store_sqlite_sight.c), private to lib/store.
 *
 * One table (schema step SQ_STEP_SIGHTINGS): sight_orgs, one row per
 * (indicator id, sighting organisation) with the latest last_seen of that
 * organisation's sightings of it. sq_sight_note() runs inside the append
 * transaction for each sighting version appended, so it costs nothing to
 * other objects. What the confidence rule (docs/sightings.md) reads.
 */
#ifndef TOCSIN_STORE_SQLITE_SIGHT_H
#define TOCSIN_STORE_SQLITE_SIGHT_H

#include <sqlite3.h>

#include "store/store.h"

/* The schema step (SQL): the table, filled from the sightings stored. */
extern const char sq_sight_schema[];

/* Records the sighting version json (a validated sighting) of producer,
 * inside the caller's transaction. Returns a SQLite result code. */
int sq_sight_note(sqlite3 *db, struct slice json, int64_t producer);

/* store_sighting_stats for SQLite. Returns a SQLite result code. */
int sq_sight_stats(sqlite3 *db, const char *id, int64_t producer, uint64_t version_seq,
                   struct store_sighted *out);

#endif
