/*
 * store_sqlite.c — the "sqlite:" log store: one SQLite file in WAL mode.
 *
 * Tables: collections; objects (one row per (collection, STIX id), its ref
 * is the rowid, found through idhash, a SipHash of the id keyed per
 * database so that chosen ids cannot pile onto one hash; it caches the seq
 * and version_us of its current and first versions); versions (one row
 * per stored version, seq is the rowid, with is_first / is_last kept
 * exact, and the version's observables packed in one blob: kind byte,
 * 16-bit little-endian length, value). Uniqueness of (collection, id) and
 * of (ref, version_us) is kept by the append path inside its write
 * transaction, which saves an index probe per row.
 * Invariants: objects.current_seq names the version with the greatest
 * version_us of its ref and only that version has is_last = 1; likewise
 * first_seq and is_first; seqs and refs are dense from 1 and never reused
 * once a batch is committed. Every append batch is one BEGIN IMMEDIATE
 * transaction committed with synchronous=FULL, so store_append returns
 * only when the batch is durable, and an error rolls all of it back.
 * A deletion removes the version's row and records a tombstone that takes
 * the next seq; an object whose last version goes keeps its row (its ref
 * is never reused) with current_seq = first_seq = 0 until a new append
 * revives it. The log position is the greatest seq of versions and
 * tombstones, and a tombstone's deleted_us is never below a date_added
 * stored before it, so dates assigned later stay above the deleted ones.
 * objects.producer is the producer of the version that created (or
 * revived) the object: only it, or the hub (producer 0), adds versions.
 * The schema is versioned: the settings row "schema_version" counts the
 * migration steps applied, and open applies the missing ones in one
 * transaction. The file carries its own application_id so that another
 * SQLite database is not mistaken for a tocsin store.
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/hex.h"
#include "stix/stix.h"
#include "store/store_backend.h"
#include "store/store_sqlite_dec.h"
#include "util/timestamp.h"

#define SQ_APPLICATION_ID 0x74637331 /* "tcs1" */
#define SQ_BUSY_TIMEOUT_MS 10000
#define SQ_CACHE_KIB 65536
#define SQ_JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
#define SQ_PATH_CKPT_MAX 4096 /* bytes of a checkpointer's database path */
#define SQ_QUERY_CACHE 8        /* dynamic query statements kept prepared */
#define SQ_QUERY_SQL_MAX 65536  /* bytes of generated query SQL */
#define SQ_HASH_KEY_SETTING "store.id_hash_key"
#define SQ_OBS_HEADER 3         /* kind byte + 16-bit length */

/* Issue 12: one row per signed batch: its root, signature and leaves
 * (leaf_count × 32 bytes), and seqs (leaf_count × 8 bytes, big-endian: the
 * log position each leaf's version got, 0 when it was not stored); found
 * by last_seq, the greatest of them. */
static const char sq_prov_schema[] =
	"CREATE TABLE IF NOT EXISTS prov_batches(id INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL,"
	" alg TEXT NOT NULL, origin_hub TEXT NOT NULL, root BLOB NOT NULL,"
	" leaf_count INTEGER NOT NULL, signed_at TEXT NOT NULL, signature TEXT NOT NULL,"
	" leaves BLOB NOT NULL, seqs BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS prov_batches_last ON prov_batches(last_seq);";
/* The step (1-based) that adds prov_batches (no post-step hook). */
#define SQ_STEP_PROV 6

/* Migration steps: schema_version N means steps [0, N) were applied. Never
 * edit a step once released; append a new one. */
static const char *const sq_migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE collections(num INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
	" alias TEXT NOT NULL UNIQUE, title TEXT NOT NULL, description TEXT NOT NULL);"
	"CREATE TABLE objects(ref INTEGER PRIMARY KEY,"
	" collection INTEGER NOT NULL REFERENCES collections(num),"
	" stix_id TEXT NOT NULL, idhash INTEGER NOT NULL,"
	" current_seq INTEGER NOT NULL, cur_version_us INTEGER NOT NULL,"
	" cur_revoked INTEGER NOT NULL, first_seq INTEGER NOT NULL,"
	" first_version_us INTEGER NOT NULL);"
	"CREATE INDEX objects_idhash ON objects(idhash);"
	"CREATE TABLE versions(seq INTEGER PRIMARY KEY, ref INTEGER NOT NULL REFERENCES objects(ref),"
	" collection INTEGER NOT NULL, date_added INTEGER NOT NULL, version_us INTEGER NOT NULL,"
	" version TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL,"
	" tlp INTEGER NOT NULL, revoked INTEGER NOT NULL, valid_until INTEGER NOT NULL,"
	" producer INTEGER NOT NULL, is_first INTEGER NOT NULL, is_last INTEGER NOT NULL,"
	" json BLOB NOT NULL, obs BLOB);"
	"CREATE INDEX versions_ref ON versions(ref, version_us);"
	"CREATE INDEX versions_coll_added ON versions(collection, date_added);"
	"CREATE INDEX versions_added ON versions(date_added);",
	/* 2: deletions (tombstones) and the producer of each object */
	"ALTER TABLE objects ADD COLUMN producer INTEGER NOT NULL DEFAULT 0;"
	"UPDATE objects SET producer = coalesce((SELECT v.producer FROM versions v"
	" WHERE v.seq = objects.first_seq), 0);"
	"CREATE TABLE tombstones(seq INTEGER PRIMARY KEY, deleted_us INTEGER NOT NULL,"
	" collection INTEGER NOT NULL, ref INTEGER NOT NULL REFERENCES objects(ref),"
	" version TEXT NOT NULL, version_us INTEGER NOT NULL, version_seq INTEGER NOT NULL);",
	/* 3: the key (registry key id) that posted each version; '' for the
	 * hub's own imports and for versions stored before this step */
	"ALTER TABLE versions ADD COLUMN key_id TEXT NOT NULL DEFAULT '';",
	/* 4: issue 8's TLP rules (granular markings count, unknown markings
	 * are RED, known statement markings nothing): versions.tlp is
	 * recomputed from each stored text by sq_migrate_tlp(), which
	 * sq_migrate runs after this step (SQ_STEP_TLP_RULES). */
	"-- versions.tlp recomputed by sq_migrate_tlp()",
	/* 5: decisions (issue 10, store_sqlite_dec.c); sq_migrate fills
	 * dvalues from the stored versions after this step
	 * (SQ_STEP_DECISIONS) */
	sq_dec_schema,
	/* 6 (issue 12): signed provenance batches (docs/federation.md) */
	sq_prov_schema,
};
/* The step (1-based) after which sq_migrate runs sq_dec_backfill(). */
#define SQ_STEP_DECISIONS 5
/* The step (1-based) after which sq_migrate runs sq_migrate_tlp(). */
#define SQ_STEP_TLP_RULES 4
#define SQ_SCHEMA_VERSION ((int)(sizeof sq_migrations / sizeof sq_migrations[0]))

#define SQ_ROW_COLS                                                                              \
	"v.seq, v.date_added, v.ref, v.collection, v.json, o.stix_id, v.type, v.version,"        \
	" v.version_us, v.spec_version, v.tlp, v.revoked, v.valid_until, v.producer,"            \
	" v.is_first, v.is_last, v.key_id"

enum sq_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_MAXES,
	S_COLL_EXISTS,
	S_COLL_UPDATE,
	S_OBJ_INSERT,
	S_OBJ_GET,
	S_VER_DUP,
	S_VER_INSERT,
	S_VER_UNLAST,
	S_VER_UNFIRST,
	S_OBJ_SETCUR,
	S_OBJ_SETFIRST,
	S_OBS_OF,
	S_OBJ_REVIVE,
	S_DEL_VERSIONS,
	S_VER_DELETE,
	S_VER_SETFLAGS,
	S_OBJ_SETBOTH,
	S_TOMB_INSERT,
	S_TOMBS,
	S_COLL_ADD,
	S_COLL_FIND,
	S_COLL_LIST,
	S_GET_REF,
	S_SCAN,
	S_SCAN_REVOKED,
	S_SETTING_GET,
	S_SETTING_SET,
	S_VERSIONS_OF,
	S_NSTMT
};

static const char *const sq_sql[S_NSTMT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_MAXES] = "SELECT max(coalesce((SELECT max(seq) FROM versions), 0),"
	            " coalesce((SELECT max(seq) FROM tombstones), 0),"
	            " coalesce((SELECT max(seq) FROM devents), 0)),"
	            " (SELECT max(ref) FROM objects),"
	            " max(coalesce((SELECT max(date_added) FROM versions), 0),"
	            " coalesce((SELECT deleted_us FROM tombstones ORDER BY seq DESC LIMIT 1), 0))",
	[S_COLL_EXISTS] = "SELECT 1 FROM collections WHERE num = ?",
	[S_OBJ_INSERT] = "INSERT INTO objects(ref, collection, stix_id, idhash, current_seq,"
	                 " cur_version_us, cur_revoked, first_seq, first_version_us, producer)"
	                 " VALUES(?1, ?2, ?3, ?7, ?4, ?5, ?6, ?4, ?5, ?8)",
	[S_OBJ_GET] = "SELECT ref, current_seq, cur_version_us, cur_revoked, first_seq,"
	              " first_version_us, producer FROM objects WHERE idhash = ?3 AND stix_id = ?1"
	              " AND collection = ?2",
	[S_VER_DUP] = "SELECT seq, date_added, json FROM versions WHERE ref = ? AND version_us = ?",
	[S_VER_INSERT] = "INSERT INTO versions(seq, ref, collection, date_added, version_us, version,"
	                 " type, spec_version, tlp, revoked, valid_until, producer, is_first,"
	                 " is_last, json, obs, key_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_VER_UNLAST] = "UPDATE versions SET is_last = 0 WHERE seq = ?",
	[S_VER_UNFIRST] = "UPDATE versions SET is_first = 0 WHERE seq = ?",
	[S_OBJ_SETCUR] = "UPDATE objects SET current_seq = ?2, cur_version_us = ?3,"
	                 " cur_revoked = ?4 WHERE ref = ?1",
	[S_OBJ_SETFIRST] = "UPDATE objects SET first_seq = ?2, first_version_us = ?3 WHERE ref = ?1",
	[S_OBS_OF] = "SELECT obs FROM versions WHERE seq = ?",
	[S_OBJ_REVIVE] = "UPDATE objects SET current_seq = ?2, cur_version_us = ?3, cur_revoked = ?4,"
	                 " first_seq = ?2, first_version_us = ?3, producer = ?5 WHERE ref = ?1",
	[S_DEL_VERSIONS] = "SELECT " SQ_ROW_COLS ", v.obs FROM versions v JOIN objects o"
	                   " ON o.ref = v.ref WHERE v.ref = ? ORDER BY v.version_us",
	[S_VER_DELETE] = "DELETE FROM versions WHERE seq = ?",
	[S_VER_SETFLAGS] = "UPDATE versions SET is_first = ?2, is_last = ?3 WHERE seq = ?1",
	[S_OBJ_SETBOTH] = "UPDATE objects SET current_seq = ?2, cur_version_us = ?3,"
	                  " cur_revoked = ?4, first_seq = ?5, first_version_us = ?6 WHERE ref = ?1",
	[S_TOMB_INSERT] = "INSERT INTO tombstones(seq, deleted_us, collection, ref, version,"
	                  " version_us, version_seq, tlp, producer, rjson)"
	                  " VALUES(?,?,?,?,?,?,?,?,?,?)",
	[S_TOMBS] = "SELECT t.seq, t.deleted_us, t.collection, o.stix_id, t.version, t.version_seq,"
	            " t.tlp, t.producer, t.rjson"
	            " FROM tombstones t JOIN objects o ON o.ref = t.ref WHERE t.seq > ?"
	            " ORDER BY t.seq",
	[S_COLL_UPDATE] = "UPDATE collections SET alias = ?, title = ?, description = ? WHERE num = ?",
	[S_COLL_ADD] = "INSERT INTO collections(uuid, alias, title, description) VALUES(?,?,?,?)",
	[S_COLL_FIND] = "SELECT num, uuid, alias, title, description FROM collections"
	                " WHERE alias = ?1 OR uuid = ?1",
	[S_COLL_LIST] = "SELECT num, uuid, alias, title, description FROM collections ORDER BY num",
	[S_GET_REF] = "SELECT " SQ_ROW_COLS " FROM objects o JOIN versions v ON v.seq = o.current_seq"
	              " WHERE o.ref = ?",
	[S_SCAN] = "SELECT o.ref, v.obs, v.valid_until FROM objects o"
	           " JOIN versions v ON v.seq = o.current_seq WHERE o.cur_revoked = 0",
	[S_SCAN_REVOKED] = "SELECT o.ref, v.obs, v.valid_until FROM objects o"
	                   " JOIN versions v ON v.seq = o.current_seq WHERE o.cur_revoked = 1",
	[S_SETTING_GET] = "SELECT value FROM settings WHERE key = ?",
	[S_SETTING_SET] = "INSERT INTO settings(key, value) VALUES(?1, ?2)"
	                  " ON CONFLICT(key) DO UPDATE SET value = ?2",
	/* a statement of its own: it runs inside other queries' callbacks */
	[S_VERSIONS_OF] = "SELECT " SQ_ROW_COLS " FROM versions v JOIN objects o ON o.ref = v.ref"
	                  " WHERE v.ref = ? ORDER BY v.version_us",
};

struct sq_cached_query {
	char *sql;
	sqlite3_stmt *st;
};

struct sq_store {
	struct store base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[S_NSTMT];
	struct sq_cached_query qc[SQ_QUERY_CACHE];
	size_t qc_next;
	uint64_t hkey[2];  /* SipHash key of objects.idhash */
	struct sq_dec dec; /* decisions (store_sqlite_dec.c) */
};

static uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                 \
	do {                                                                                     \
		v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                        \
		v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                           \
		v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                           \
		v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                        \
	} while (0)

/* SipHash-2-4 (Aumasson and Bernstein, 2012) of p under key k. */
static uint64_t
siphash24(const uint64_t k[2], const void *p, size_t len)
{
	const unsigned char *in = p;
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static sqlite3_int64
sq_idhash(const uint64_t k[2], const char *id)
{
	return (sqlite3_int64)siphash24(k, id, strlen(id));
}

bool
sq__obs_next(const unsigned char **p, const unsigned char *end, enum obs_kind *kind,
            struct slice *value)
{
	if (!*p || end - *p < SQ_OBS_HEADER)
		return false;
	size_t len = (size_t)(*p)[1] | (size_t)(*p)[2] << 8;
	if ((size_t)(end - *p) - SQ_OBS_HEADER < len)
		return false;
	*kind = (enum obs_kind)(*p)[0];
	*value = slice_make((const char *)*p + SQ_OBS_HEADER, len);
	*p += SQ_OBS_HEADER + len;
	return true;
}

bool
store_row_obs_next(struct slice *cursor, enum obs_kind *kind, struct slice *value)
{
	const unsigned char *p = (const unsigned char *)cursor->p;
	const unsigned char *end = p ? p + cursor->len : NULL;
	if (!sq__obs_next(&p, end, kind, value))
		return false;
	cursor->len = (size_t)(end - p);
	cursor->p = (const char *)p;
	return true;
}

static struct sq_store *
sq(struct store *s)
{
	return (struct sq_store *)s;
}

/* Maps a SQLite result code to ours and describes it in d. */
static enum tcerr
sq_err(struct sq_store *q, int rc, struct diag *d)
{
	int prim = rc & 0xff;
	enum tcerr t = TC_EDB;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		t = TC_EBUSY;
	else if (prim == SQLITE_NOMEM)
		t = TC_ENOMEM;
	else if (prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN || prim == SQLITE_FULL ||
	         prim == SQLITE_READONLY || prim == SQLITE_PERM)
		t = TC_EIO;
	return diag_set(d, t, "%s: %s", q->path, q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
}

static sqlite3_stmt *
sq_stmt(struct sq_store *q, enum sq_stmt which)
{
	sqlite3_stmt *st = q->st[which];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Runs a statement that returns no rows we need. */
static int
sq_run(sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
sq_free(struct sq_store *q)
{
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(q->st[i]);
	sq_dec_finalize(&q->dec);
	for (size_t i = 0; i < SQ_QUERY_CACHE; i++) {
		sqlite3_finalize(q->qc[i].st);
		free(q->qc[i].sql);
	}
	if (q->db)
		sqlite3_close_v2(q->db);
	free(q->path);
	free(q);
}

static void
sq_close(struct store *s)
{
	sq_free(sq(s));
}

/* Reads one integer from a single-row query; *out untouched when NULL. */
static int
sq_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Statement-marking ids stored in the database, for sq_migrate_tlp. */
struct sq_statements {
	char **ids;
	size_t n, cap;
};

static bool
sq_is_statement(void *ctx, const char *id)
{
	const struct sq_statements *st = ctx;
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->ids[i], id) == 0)
			return true;
	return false;
}

/* Recomputes versions.tlp under the rules stix_markings_tlp() states, in
 * the caller's (migration) transaction. Only rows whose text could hold
 * a marking ref are read: one naming "marking", or with a \u escape that
 * could spell it. Returns TC_OK, TC_ENOMEM or TC_EDB (d says which). */
static enum tcerr
sq_migrate_tlp(struct sq_store *q, struct diag *d)
{
	struct sq_statements stm = {0};
	sqlite3_stmt *sel = NULL, *upd = NULL;
	enum tcerr t = TC_OK;
	int rc;

	rc = sqlite3_prepare_v2(q->db,
	                        "SELECT o.stix_id, v.json FROM versions v JOIN objects o"
	                        " ON o.ref = v.ref WHERE v.type = 'marking-definition'",
	                        -1, &sel, NULL);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		json_t *o = json_loadb(sqlite3_column_blob(sel, 1),
		                       (size_t)sqlite3_column_bytes(sel, 1), 0, NULL);
		bool is = o && stix_marking_is_statement(o);
		json_decref(o);
		if (!is)
			continue;
		if (stm.n == stm.cap) {
			size_t nc = stm.cap ? 2 * stm.cap : 16;
			char **p = realloc(stm.ids, nc * sizeof *p);
			if (!p) {
				t = diag_set(d, TC_ENOMEM, "%s: out of memory", q->path);
				goto out;
			}
			stm.ids = p;
			stm.cap = nc;
		}
		if (!(stm.ids[stm.n] = strdup((const char *)sqlite3_column_text(sel, 0)))) {
			t = diag_set(d, TC_ENOMEM, "%s: out of memory", q->path);
			goto out;
		}
		stm.n++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(sel);
	sel = NULL;
	rc = sqlite3_prepare_v2(q->db,
	                        "SELECT seq, json, tlp FROM versions"
	                        " WHERE instr(json, 'marking') > 0 OR instr(json, '\\u') > 0",
	                        -1, &sel, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(q->db, "UPDATE versions SET tlp = ?2 WHERE seq = ?1", -1, &upd,
		                        NULL);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		json_t *o = json_loadb(sqlite3_column_blob(sel, 1),
		                       (size_t)sqlite3_column_bytes(sel, 1), 0, NULL);
		/* a stored text that no longer parses: in doubt, RED */
		enum tlp_level l = o ? stix_markings_tlp(o, sq_is_statement, &stm, NULL) : TLP_RED;
		json_decref(o);
		if ((int)l == sqlite3_column_int(sel, 2))
			continue;
		sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
		sqlite3_bind_int(upd, 2, (int)l);
		if ((rc = sq_run(upd)))
			break;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	if (rc && rc != SQLITE_DONE && !t)
		t = diag_set(d, TC_EDB, "%s: schema migration %d (TLP rules): %s", q->path,
		             SQ_STEP_TLP_RULES, sqlite3_errmsg(q->db));
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	for (size_t i = 0; i < stm.n; i++)
		free(stm.ids[i]);
	free(stm.ids);
	return t;
}

/* Brings the schema to SQ_SCHEMA_VERSION inside the caller's transaction. */
static enum tcerr
sq_migrate(struct sq_store *q, struct diag *d)
{
	int64_t appid = 0, ntables = 0, version = -1;
	int rc = sq_int(q->db, "PRAGMA application_id", &appid);
	if (!rc)
		rc = sq_int(q->db, "SELECT count(*) FROM sqlite_master", &ntables);
	if (rc)
		return sq_err(q, rc, d);
	if (appid == 0 && ntables == 0) {
		version = 0;
	} else if (appid != SQ_APPLICATION_ID) {
		return diag_set(d, TC_EDB, "%s: not a tocsin database (another SQLite database)",
		                q->path);
	} else {
		rc = sq_int(q->db,
		            "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'schema_version'",
		            &version);
		if (rc)
			return sq_err(q, rc, d);
		if (version < 1)
			return diag_set(d, TC_EDB, "%s: damaged tocsin database: no schema_version",
			                q->path);
	}
	if (version > SQ_SCHEMA_VERSION)
		return diag_set(d, TC_EUNSUPPORTED,
		                "%s: schema version %lld is newer than this build knows (%d); "
		                "upgrade tocsin to open it",
		                q->path, (long long)version, SQ_SCHEMA_VERSION);
	if (version == SQ_SCHEMA_VERSION)
		return TC_OK;
	for (int64_t v = version; v < SQ_SCHEMA_VERSION; v++) {
		char *err = NULL;
		rc = sqlite3_exec(q->db, sq_migrations[v], NULL, NULL, &err);
		if (rc) {
			enum tcerr t = diag_set(d, TC_EDB, "%s: schema migration %lld failed: %s",
			                        q->path, (long long)v + 1, err ? err : "?");
			sqlite3_free(err);
			return t;
		}
		if (v + 1 == SQ_STEP_TLP_RULES) {
			enum tcerr t = sq_migrate_tlp(q, d);
			if (t)
				return t;
		}
		if (v + 1 == SQ_STEP_DECISIONS) {
			int drc = SQLITE_OK;
			if (sq_dec_backfill(q->db, ts_now_us(), &drc))
				return diag_set(d, TC_EDB, "%s: schema migration %d (decisions): %s",
				                q->path, SQ_STEP_DECISIONS, sqlite3_errstr(drc));
		}
	}
	uint8_t key[16];
	size_t got = 0;
	while (got < sizeof key) {
		ssize_t r = getrandom(key + got, sizeof key - got, 0);
		if (r < 0 && errno != EINTR)
			return diag_set(d, TC_EIO, "%s: no randomness for the id hash key", q->path);
		if (r > 0)
			got += (size_t)r;
	}
	char hex[33];
	for (size_t i = 0; i < sizeof key; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	char sql[256];
	int k = snprintf(sql, sizeof sql,
	                 "INSERT OR REPLACE INTO settings(key, value) VALUES('schema_version', '%d');"
	                 "INSERT OR IGNORE INTO settings(key, value) VALUES('%s', '%s');"
	                 "PRAGMA application_id = %d;",
	                 SQ_SCHEMA_VERSION, SQ_HASH_KEY_SETTING, hex, SQ_APPLICATION_ID);
	if (k < 0 || (size_t)k >= sizeof sql)
		return diag_set(d, TC_EINTERNAL, "%s: migration statement too long", q->path);
	rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
	return rc ? sq_err(q, rc, d) : TC_OK;
}


static enum tcerr
sq_load_key(struct sq_store *q, struct diag *d)
{
	sqlite3_stmt *st = q->st[S_SETTING_GET];
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, SQ_HASH_KEY_SETTING, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	bool ok = v && strlen(v) == 32;
	q->hkey[0] = q->hkey[1] = 0;
	for (size_t i = 0; ok && i < 32; i++) {
		int h = hex_digit(v[i]);
		if (h < 0)
			ok = false;
		else
			q->hkey[i / 16] = q->hkey[i / 16] << 4 | (uint64_t)h;
	}
	sqlite3_reset(st);
	if (!ok)
		return diag_set(d, TC_EDB, "%s: damaged tocsin database: bad %s", q->path,
		                SQ_HASH_KEY_SETTING);
	return TC_OK;
}

static enum tcerr
sq_open(const char *path, struct store **out, struct diag *d)
{
	enum tcerr t = TC_OK;
	int rc;
	struct sq_store *q = calloc(1, sizeof *q);
	if (!q || !(q->path = strdup(path))) {
		free(q);
		return diag_set(d, TC_ENOMEM, "%s: out of memory", path);
	}
	q->base.be = &store__sqlite;
	rc = sqlite3_open_v2(path, &q->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                             SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc) {
		t = diag_set(d, (rc & 0xff) == SQLITE_NOMEM ? TC_ENOMEM : TC_EIO, "%s: %s", path,
		             q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(q->db, SQ_BUSY_TIMEOUT_MS);
	/* page_size only matters for a new file, and must precede WAL. */
	char pragmas[512];
	int k = snprintf(pragmas, sizeof pragmas,
	                 "PRAGMA page_size = 8192;"
	                 "PRAGMA journal_mode = WAL;"
	                 "PRAGMA synchronous = FULL;"
	                 "PRAGMA foreign_keys = ON;"
	                 "PRAGMA cache_size = -%d;"
	                 "PRAGMA journal_size_limit = %d;"
	                 "PRAGMA temp_store = MEMORY;",
	                 SQ_CACHE_KIB, SQ_JOURNAL_SIZE_LIMIT);
	if (k < 0 || (size_t)k >= sizeof pragmas) {
		t = diag_set(d, TC_EINTERNAL, "%s: pragma text too long", path);
		goto out;
	}
	char *err = NULL;
	rc = sqlite3_exec(q->db, pragmas, NULL, NULL, &err);
	sqlite3_free(err);
	if (rc) {
		t = sq_err(q, rc, d);
		goto out;
	}
	int64_t wal = 0;
	rc = sq_int(q->db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode", &wal);
	if (rc || !wal) {
		t = rc ? sq_err(q, rc, d)
		       : diag_set(d, TC_EDB, "%s: cannot switch the database to WAL mode", path);
		goto out;
	}
	rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc) {
		t = sq_err(q, rc, d);
		goto out;
	}
	t = sq_migrate(q, d);
	rc = sqlite3_exec(q->db, t ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (t)
		goto out;
	if (rc) {
		t = sq_err(q, rc, d);
		goto out;
	}
	for (int i = 0; i < S_NSTMT; i++) {
		rc = sqlite3_prepare_v3(q->db, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
		                        NULL);
		if (rc) {
			t = sq_err(q, rc, d);
			goto out;
		}
	}
	if ((rc = sq_dec_prepare(&q->dec, q->db))) {
		t = sq_err(q, rc, d);
		goto out;
	}
	t = sq_load_key(q, d);
	if (t)
		goto out;
	*out = &q->base;
out:
	if (t)
		sq_free(q);
	return t;
}

/* Per batch: the final current version of each ref the batch touched. */
struct sq_cur {
	uint32_t ref;       /* 0: empty slot */
	bool revoked;
	uint64_t seq;
};

static struct sq_cur *
sq_cur_slot(struct sq_cur *tab, size_t cap, uint32_t ref)
{
	size_t mask = cap - 1;
	size_t i = ((uint64_t)ref * 0x9E3779B97F4A7C15ull >> 20) & mask;
	while (tab[i].ref && tab[i].ref != ref)
		i = (i + 1) & mask;
	return &tab[i];
}

static bool
sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

/* Observables of versions superseded by the batch, gathered before commit:
 * records of ref (4 bytes), blob length (4), observables blob. */
static enum tcerr
sq_gather_obs(struct sq_store *q, uint64_t seq, uint32_t ref, struct buf *b, int *rcp)
{
	sqlite3_stmt *st = sq_stmt(q, S_OBS_OF);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(st, 0);
		uint32_t len = (uint32_t)sqlite3_column_bytes(st, 0);
		buf_append(b, &ref, sizeof ref);
		buf_append(b, &len, sizeof len);
		buf_append(b, blob, len);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*rcp = rc;
		return TC_EDB;
	}
	return buf_error(b);
}

/* Writes the staged provenance batch b, in the append's transaction. */
static enum tcerr
sq_prov_put(struct sq_store *q, const struct store_prov_batch *b,
            const struct store_append_out *out, size_t n, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	uint8_t *seqs = malloc(b->leaf_count ? b->leaf_count * 8 : 1);
	uint64_t last = 0;
	int rc;

	if (!seqs)
		return diag_set(d, TC_ENOMEM, "store: out of memory");
	for (size_t j = 0; j < b->leaf_count; j++) {
		size_t i = b->leaf_in[j];
		uint64_t seq = i < n && out[i].status == STORE_ADDED ? out[i].seq : 0;
		for (int k = 0; k < 8; k++)
			seqs[8 * j + (size_t)k] = (uint8_t)(seq >> (56 - 8 * k));
		if (seq > last)
			last = seq;
	}
	rc = sqlite3_prepare_v2(q->db,
	                        "INSERT INTO prov_batches(last_seq, alg, origin_hub, root, leaf_count,"
	                        " signed_at, signature, leaves, seqs) VALUES(?,?,?,?,?,?,?,?,?)",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)last);
		sqlite3_bind_text(st, 2, b->alg, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, b->origin_hub, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, b->root, 32, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)b->leaf_count);
		sqlite3_bind_text(st, 6, b->signed_at, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, b->signature, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 8, b->leaves, (sqlite3_uint64)b->leaf_count * 32, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 9, seqs, (sqlite3_uint64)b->leaf_count * 8, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	free(seqs);
	return rc == SQLITE_OK ? TC_OK : sq_err(q, rc, d);
}

static enum tcerr
sq_prov_find(struct store *s, uint64_t seq, uint8_t root[32], uint8_t **leaves,
             size_t *leaf_count, size_t *leaf_index, struct diag *d)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	int rc = sqlite3_prepare_v2(q->db,
	                            "SELECT root, leaf_count, leaves, seqs FROM prov_batches"
	                            " WHERE last_seq >= ? ORDER BY last_seq LIMIT 1",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return sq_err(q, rc, d);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t nl = (size_t)sqlite3_column_int64(st, 1);
		const uint8_t *sq = sqlite3_column_blob(st, 3);
		size_t found = SIZE_MAX;
		if ((size_t)sqlite3_column_bytes(st, 0) != 32 ||
		    (size_t)sqlite3_column_bytes(st, 2) != nl * 32 ||
		    (size_t)sqlite3_column_bytes(st, 3) != nl * 8) {
			t = diag_set(d, TC_ECORRUPT, "store: provenance batch of seq %llu is malformed",
			             (unsigned long long)seq);
		} else {
			for (size_t j = 0; j < nl && found == SIZE_MAX; j++) {
				uint64_t v = 0;
				for (int k = 0; k < 8; k++)
					v = v << 8 | sq[8 * j + (size_t)k];
				if (v == seq)
					found = j;
			}
			if (found == SIZE_MAX)
				t = diag_set(d, TC_ENOTFOUND, "store: version %llu has no provenance batch",
				             (unsigned long long)seq);
			else if (!(*leaves = malloc(nl * 32)))
				t = diag_set(d, TC_ENOMEM, "store: out of memory");
			else {
				memcpy(*leaves, sqlite3_column_blob(st, 2), nl * 32);
				memcpy(root, sqlite3_column_blob(st, 0), 32);
				*leaf_count = nl;
				*leaf_index = found;
			}
		}
	} else if (rc == SQLITE_DONE) {
		t = diag_set(d, TC_ENOTFOUND, "store: version %llu has no provenance batch",
		             (unsigned long long)seq);
	} else {
		t = sq_err(q, rc, d);
	}
	sqlite3_finalize(st);
	return t;
}

static enum tcerr
sq_append(struct store *s, const struct store_obj_in *in, size_t n, struct store_append_out *out,
          store_unindex_cb unindex, void *ctx, struct diag *d)
{
	struct sq_store *q = sq(s);
	enum tcerr t = TC_OK;
	int rc = SQLITE_OK;
	bool in_tx = false;
	struct buf gone, obs;
	buf_init(&gone, 0);
	buf_init(&obs, 0);
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	struct sq_cur *cur = calloc(cap, sizeof *cur);
	if (!cur) {
		t = diag_set(d, TC_ENOMEM, "store: out of memory for a batch of %zu", n);
		goto out;
	}

	rc = sq_run(sq_stmt(q, S_BEGIN));
	if (rc)
		goto out;
	in_tx = true;
	sqlite3_stmt *st = sq_stmt(q, S_MAXES);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		goto out;
	uint64_t next_seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	uint32_t next_ref = (uint32_t)sqlite3_column_int64(st, 1) + 1;
	const uint32_t first_new_ref = next_ref;
	int64_t last_added = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	rc = SQLITE_OK;
	const uint64_t batch_start = next_seq;
	const int64_t now = ts_now_us();
	int64_t checked_coll = 0;

	for (size_t i = 0; i < n; i++) {
		const struct store_obj_in *o = &in[i];
		const struct stix_meta *m = o->meta;
		if (o->collection != checked_coll) {
			st = sq_stmt(q, S_COLL_EXISTS);
			sqlite3_bind_int64(st, 1, o->collection);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc == SQLITE_DONE) {
				rc = SQLITE_OK;
				t = diag_set(d, TC_ENOTFOUND, "in[%zu]: no collection %lld", i,
				             (long long)o->collection);
				goto out;
			}
			if (rc != SQLITE_ROW)
				goto out;
			rc = SQLITE_OK;
			checked_coll = o->collection;
		}
		uint64_t seq = next_seq;
		bool is_first = true, is_last = true;
		uint32_t ref;
		/* the object's current version once this input is placed */
		uint64_t after_seq = seq;
		bool after_revoked = m->revoked;
		sqlite3_int64 idhash = sq_idhash(q->hkey, m->id);
		st = sq_stmt(q, S_OBJ_GET);
		sq_bind_text(st, 1, m->id);
		sqlite3_bind_int64(st, 2, o->collection);
		sqlite3_bind_int64(st, 3, idhash);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(st);
			st = sq_stmt(q, S_OBJ_INSERT);
			sqlite3_bind_int64(st, 1, next_ref);
			sqlite3_bind_int64(st, 2, o->collection);
			sq_bind_text(st, 3, m->id);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
			sqlite3_bind_int64(st, 5, m->version_us);
			sqlite3_bind_int(st, 6, m->revoked);
			sqlite3_bind_int64(st, 7, idhash);
			sqlite3_bind_int64(st, 8, o->producer);
			if ((rc = sq_run(st)))
				goto out;
			ref = next_ref++;
		} else {
			if (rc != SQLITE_ROW)
				goto out;
			ref = (uint32_t)sqlite3_column_int64(st, 0);
			uint64_t cur_seq = (uint64_t)sqlite3_column_int64(st, 1);
			int64_t cur_vus = sqlite3_column_int64(st, 2);
			bool cur_revoked = sqlite3_column_int(st, 3) != 0;
			uint64_t first_seq = (uint64_t)sqlite3_column_int64(st, 4);
			int64_t first_vus = sqlite3_column_int64(st, 5);
			int64_t producer = sqlite3_column_int64(st, 6);
			sqlite3_reset(st);
			rc = SQLITE_OK;
			if (cur_seq == 0) {
				/* every version was deleted: the object starts again */
				st = sq_stmt(q, S_OBJ_REVIVE);
				sqlite3_bind_int64(st, 1, ref);
				sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
				sqlite3_bind_int64(st, 3, m->version_us);
				sqlite3_bind_int(st, 4, m->revoked);
				sqlite3_bind_int64(st, 5, o->producer);
				if ((rc = sq_run(st)))
					goto out;
				goto insert;
			}
			after_seq = cur_seq;
			after_revoked = cur_revoked;

			st = sq_stmt(q, S_VER_DUP);
			sqlite3_bind_int64(st, 1, ref);
			sqlite3_bind_int64(st, 2, m->version_us);
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				struct slice stored = slice_make(
				    (const char *)sqlite3_column_blob(st, 2),
				    (size_t)sqlite3_column_bytes(st, 2));
				int same = store__same_json(stored, o->json);
				if (same < 0) {
					sqlite3_reset(st);
					t = diag_set(d, TC_ENOMEM, "store: out of memory");
					goto out;
				}
				out[i] = (struct store_append_out){
					.status = same ? STORE_DUPLICATE : STORE_CONFLICT,
					.seq = (uint64_t)sqlite3_column_int64(st, 0),
					.date_added_us = sqlite3_column_int64(st, 1),
					.ref = ref,
				};
				sqlite3_reset(st);
				rc = SQLITE_OK;
				*sq_cur_slot(cur, cap, ref) = (struct sq_cur){ ref, cur_revoked, cur_seq };
				continue;
			}
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				goto out;
			rc = SQLITE_OK;
			/* STIX 2.1 §3.6: only the producer of an object versions it */
			if (o->producer && o->producer != producer) {
				out[i] = (struct store_append_out){ .status = STORE_FOREIGN,
					                            .ref = ref };
				*sq_cur_slot(cur, cap, ref) = (struct sq_cur){ ref, cur_revoked, cur_seq };
				continue;
			}
			if (m->version_us > cur_vus) {
				st = sq_stmt(q, S_VER_UNLAST);
				sqlite3_bind_int64(st, 1, (sqlite3_int64)cur_seq);
				if ((rc = sq_run(st)))
					goto out;
				st = sq_stmt(q, S_OBJ_SETCUR);
				sqlite3_bind_int64(st, 1, ref);
				sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
				sqlite3_bind_int64(st, 3, m->version_us);
				sqlite3_bind_int(st, 4, m->revoked);
				if ((rc = sq_run(st)))
					goto out;
				if (cur_seq < batch_start && !cur_revoked) {
					t = sq_gather_obs(q, cur_seq, ref, &gone, &rc);
					if (t)
						goto out;
				}
			} else {
				is_last = false;
			}
			if (m->version_us < first_vus) {
				st = sq_stmt(q, S_VER_UNFIRST);
				sqlite3_bind_int64(st, 1, (sqlite3_int64)first_seq);
				if ((rc = sq_run(st)))
					goto out;
				st = sq_stmt(q, S_OBJ_SETFIRST);
				sqlite3_bind_int64(st, 1, ref);
				sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
				sqlite3_bind_int64(st, 3, m->version_us);
				if ((rc = sq_run(st)))
					goto out;
			} else {
				is_first = false;
			}
		}
insert:;
		int64_t added = o->date_added_us;
		if (!added)
			added = now > last_added ? now : last_added + 1;
		if (added > last_added)
			last_added = added;
		st = sq_stmt(q, S_VER_INSERT);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
		sqlite3_bind_int64(st, 2, ref);
		sqlite3_bind_int64(st, 3, o->collection);
		sqlite3_bind_int64(st, 4, added);
		sqlite3_bind_int64(st, 5, m->version_us);
		sq_bind_text(st, 6, m->version);
		sq_bind_text(st, 7, m->type);
		sq_bind_text(st, 8, m->spec_version);
		sqlite3_bind_int(st, 9, (int)m->tlp);
		sqlite3_bind_int(st, 10, m->revoked);
		sqlite3_bind_int64(st, 11, m->valid_until_us);
		sqlite3_bind_int64(st, 12, o->producer);
		sqlite3_bind_int(st, 13, is_first);
		sqlite3_bind_int(st, 14, is_last);
		sqlite3_bind_blob64(st, 15, o->json.p, o->json.len, SQLITE_STATIC);
		sq_bind_text(st, 17, o->key_id ? o->key_id : "");
		if (o->nobs) {
			buf_clear(&obs);
			for (size_t k = 0; k < o->nobs; k++) {
				unsigned char h[SQ_OBS_HEADER] = { (unsigned char)o->obs[k].kind,
					                           (unsigned char)(o->obs[k].value.len & 255),
					                           (unsigned char)(o->obs[k].value.len >> 8) };
				buf_append(&obs, h, sizeof h);
				buf_append_slice(&obs, o->obs[k].value);
			}
			if ((t = buf_error(&obs)))
				goto out;
			sqlite3_bind_blob64(st, 16, obs.p, obs.len, SQLITE_STATIC);
		}
		if ((rc = sq_run(st)))
			goto out;
		next_seq++;
		out[i] = (struct store_append_out){
			.status = STORE_ADDED, .seq = seq, .date_added_us = added, .ref = ref
		};
		if (is_last) {
			after_seq = seq;
			after_revoked = m->revoked;
		}
		*sq_cur_slot(cur, cap, ref) = (struct sq_cur){ ref, after_revoked, after_seq };
	}
	/* decisions follow each object whose current version is now one of
	 * this batch (store_sqlite_dec.c): its events come after the versions */
	for (size_t i = 0; i < n; i++) {
		if (out[i].status != STORE_ADDED ||
		    sq_cur_slot(cur, cap, out[i].ref)->seq != out[i].seq)
			continue;
		const struct stix_meta *m = in[i].meta;
		struct sq_dec_version v = {
			.seq = out[i].seq,
			.indicator = strcmp(m->type, "indicator") == 0,
			.revoked = m->revoked,
			.collection = in[i].collection,
			.tlp = m->tlp,
			.producer = in[i].producer,
			.confidence = m->has_confidence ? m->confidence : -1,
			.valid_until_us = m->valid_until_us,
			.json = in[i].json,
			.obs = in[i].obs,
			.nobs = in[i].nobs,
		};
		enum store_dreason why = m->revoked ? STORE_DR_REVOKED
		                          : m->valid_until_us && m->valid_until_us <= now
		                              ? STORE_DR_EXPIRED
		                              : STORE_DR_SUPERSEDED;
		if ((t = sq_dec_set(&q->dec, s, out[i].ref, &v, out[i].ref >= first_new_ref, why,
		                    &next_seq, now, &rc)))
			goto out;
	}
	if (s->prov && (t = sq_prov_put(q, s->prov, out, n, d)))
		goto out;
	rc = sq_run(sq_stmt(q, S_COMMIT));
	if (rc)
		goto out;
	in_tx = false;
	for (size_t i = 0; i < n; i++) {
		if (out[i].status == STORE_FOREIGN)
			continue;
		const struct sq_cur *c = sq_cur_slot(cur, cap, out[i].ref);
		out[i].current = c->seq == out[i].seq;
		out[i].indexable = out[i].current && !c->revoked;
	}
	if (unindex) {
		struct slice g = buf_slice(&gone);
		const char *p = g.p, *end = g.p + g.len;
		while (p < end) {
			uint32_t ref, len;
			memcpy(&ref, p, sizeof ref);
			memcpy(&len, p + 4, sizeof len);
			const unsigned char *b = (const unsigned char *)p + 8, *bend = b + len;
			enum obs_kind kind;
			struct slice value;
			while (sq__obs_next(&b, bend, &kind, &value))
				unindex(ctx, ref, kind, value);
			p += 8 + len;
		}
	}
out:
	if (rc && !t)
		t = sq_err(q, rc, d);
	if (t == TC_ENOMEM && !d->msg[0])
		diag_set(d, TC_ENOMEM, "store: out of memory for a batch of %zu", n);
	if (in_tx)
		sq_run(sq_stmt(q, S_ROLLBACK));
	free(cur);
	buf_reset(&gone);
	buf_reset(&obs);
	return t;
}

static void
sq_coll_from_row(sqlite3_stmt *st, struct store_collection *c)
{
	memset(c, 0, sizeof *c);
	c->num = sqlite3_column_int64(st, 0);
	snprintf(c->uuid, sizeof c->uuid, "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(c->alias, sizeof c->alias, "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(c->title, sizeof c->title, "%s", (const char *)sqlite3_column_text(st, 3));
	snprintf(c->description, sizeof c->description, "%s",
	         (const char *)sqlite3_column_text(st, 4));
}

static enum tcerr
sq_collection_add(struct store *s, struct store_collection *c, struct diag *d)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_COLL_FIND);
	sq_bind_text(st, 1, c->alias);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
	st = sq_stmt(q, S_COLL_FIND);
	sq_bind_text(st, 1, c->uuid);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return diag_set(d, TC_EEXIST, "collection %s already exists", c->uuid);
	st = sq_stmt(q, S_COLL_ADD);
	sq_bind_text(st, 1, c->uuid);
	sq_bind_text(st, 2, c->alias);
	sq_bind_text(st, 3, c->title);
	sq_bind_text(st, 4, c->description);
	rc = sq_run(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
	if (rc)
		return sq_err(q, rc, d);
	c->num = sqlite3_last_insert_rowid(q->db);
	return TC_OK;
}

static enum tcerr
sq_collection_update(struct store *s, const struct store_collection *c, struct diag *d)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_COLL_FIND);
	sq_bind_text(st, 1, c->alias);
	int rc = sqlite3_step(st);
	int64_t other = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc == SQLITE_ROW && other != c->num)
		return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
	st = sq_stmt(q, S_COLL_UPDATE);
	sq_bind_text(st, 1, c->alias);
	sq_bind_text(st, 2, c->title);
	sq_bind_text(st, 3, c->description);
	sqlite3_bind_int64(st, 4, c->num);
	rc = sq_run(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return diag_set(d, TC_EEXIST, "collection '%s' already exists", c->alias);
	if (rc)
		return sq_err(q, rc, d);
	if (sqlite3_changes(q->db) == 0)
		return diag_set(d, TC_ENOTFOUND, "no collection %lld", (long long)c->num);
	return TC_OK;
}

static enum tcerr
sq_collection_find(struct store *s, const char *key, struct store_collection *out)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_COLL_FIND);
	sq_bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		sq_coll_from_row(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? TC_OK : rc == SQLITE_DONE ? TC_ENOTFOUND : TC_EDB;
}

static enum tcerr
sq_collection_list(struct store *s, enum tcerr (*cb)(void *ctx, const struct store_collection *c),
                   void *ctx)
{
	struct sq_store *q = sq(s);
	/* Read all first: the callback may call back into the store. */
	struct store_collection *all = NULL;
	size_t n = 0, cap = 0;
	enum tcerr t = TC_OK;
	sqlite3_stmt *st = sq_stmt(q, S_COLL_LIST);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct store_collection *na = realloc(all, cap * sizeof *na);
			if (!na) {
				t = TC_ENOMEM;
				goto out;
			}
			all = na;
		}
		sq_coll_from_row(st, &all[n++]);
	}
	if (rc != SQLITE_DONE) {
		t = TC_EDB;
		goto out;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && !t; i++)
		t = cb(ctx, &all[i]);
out:
	sqlite3_reset(st);
	free(all);
	return t;
}

static void
sq_row(sqlite3_stmt *st, struct store_row *r)
{
	*r = (struct store_row){
		.seq = (uint64_t)sqlite3_column_int64(st, 0),
		.date_added_us = sqlite3_column_int64(st, 1),
		.ref = (uint32_t)sqlite3_column_int64(st, 2),
		.collection = sqlite3_column_int64(st, 3),
		.id = (const char *)sqlite3_column_text(st, 5),
		.type = (const char *)sqlite3_column_text(st, 6),
		.version = (const char *)sqlite3_column_text(st, 7),
		.version_us = sqlite3_column_int64(st, 8),
		.spec_version = (const char *)sqlite3_column_text(st, 9),
		.tlp = (enum tlp_level)sqlite3_column_int(st, 10),
		.revoked = sqlite3_column_int(st, 11) != 0,
		.valid_until_us = sqlite3_column_int64(st, 12),
		.producer = sqlite3_column_int64(st, 13),
		.is_first = sqlite3_column_int(st, 14) != 0,
		.is_last = sqlite3_column_int(st, 15) != 0,
		.key_id = (const char *)sqlite3_column_text(st, 16),
	};
	if (!r->key_id)
		r->key_id = "";
	const void *json = sqlite3_column_blob(st, 4);
	r->json = slice_make(json ? json : "", (size_t)sqlite3_column_bytes(st, 4));
}

static void
sq_in_list(struct buf *b, const char *col, size_t n)
{
	buf_printf(b, " %s IN (", col);
	for (size_t i = 0; i < n; i++)
		buf_append_cstr(b, i ? ",?" : "?");
	buf_append_char(b, ')');
}

/* Returns a prepared statement for sql from the small cache, or NULL. */
static sqlite3_stmt *
sq_query_stmt(struct sq_store *q, const char *sql, int *rcp)
{
	for (size_t i = 0; i < SQ_QUERY_CACHE; i++)
		if (q->qc[i].sql && strcmp(q->qc[i].sql, sql) == 0) {
			sqlite3_reset(q->qc[i].st);
			sqlite3_clear_bindings(q->qc[i].st);
			return q->qc[i].st;
		}
	char *copy = strdup(sql);
	sqlite3_stmt *st = NULL;
	if (!copy) {
		*rcp = SQLITE_NOMEM;
		return NULL;
	}
	*rcp = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (*rcp) {
		free(copy);
		return NULL;
	}
	struct sq_cached_query *slot = &q->qc[q->qc_next];
	q->qc_next = (q->qc_next + 1) % SQ_QUERY_CACHE;
	sqlite3_finalize(slot->st);
	free(slot->sql);
	slot->sql = copy;
	slot->st = st;
	return st;
}

static enum tcerr
sq_query(struct store *s, const struct store_query *qr, store_row_cb cb, void *ctx, bool *more,
         struct diag *d)
{
	struct sq_store *q = sq(s);
	struct buf sql;
	buf_init(&sql, SQ_QUERY_SQL_MAX);
	enum tcerr t = TC_OK;
	int rc = SQLITE_OK;
	buf_append_cstr(&sql, "SELECT " SQ_ROW_COLS
	                      " FROM versions v JOIN objects o ON o.ref = v.ref WHERE 1");
	/* Plans (checked with EXPLAIN QUERY PLAN): without ids, walk
	 * versions_coll_added (collection, date_added, and the rowid seq) in
	 * order, no sort step, seeking to the bound or cursor; with ids, find
	 * the objects through objects_idhash and their versions through
	 * versions_ref, then sort those few rows. The unary + keeps the
	 * planner off the date index when ids are given, which would
	 * otherwise walk the whole collection to save a small sort. */
	const char *ix = qr->nids ? "+" : "";
	if (qr->collection)
		buf_printf(&sql, " AND %sv.collection = ?", ix);
	if (qr->added_after_us)
		buf_printf(&sql, " AND %sv.date_added > ?", ix);
	if (qr->after_seq)
		buf_append_cstr(&sql, " AND v.seq > ?");
	/* the cursor as a range on the index, then the ties by seq */
	if (qr->after_date_us)
		buf_printf(&sql, " AND %sv.date_added >= ? AND (v.date_added > ? OR v.seq > ?)", ix);
	if (qr->nids) {
		buf_append_cstr(&sql, " AND");
		sq_in_list(&sql, "o.idhash", qr->nids);
		buf_append_cstr(&sql, " AND");
		sq_in_list(&sql, "o.stix_id", qr->nids);
	}
	if (qr->ntypes) {
		buf_append_cstr(&sql, " AND");
		sq_in_list(&sql, "v.type", qr->ntypes);
	}
	if (qr->nspec_versions) {
		buf_append_cstr(&sql, " AND");
		sq_in_list(&sql, "v.spec_version", qr->nspec_versions);
	}
	if (!(qr->versions & STORE_V_ALL)) {
		const char *sep = "";
		buf_append_cstr(&sql, " AND (");
		if (qr->versions & STORE_V_LAST) {
			buf_append_cstr(&sql, "v.is_last = 1");
			sep = " OR";
		}
		if (qr->versions & STORE_V_FIRST) {
			buf_printf(&sql, "%s v.is_first = 1", sep);
			sep = " OR";
		}
		if (qr->nversion_us) {
			buf_append_cstr(&sql, sep);
			sq_in_list(&sql, "v.version_us", qr->nversion_us);
		}
		buf_append_char(&sql, ')');
	}
	buf_append_cstr(&sql, " ORDER BY v.date_added, v.seq");
	if ((t = buf_error(&sql))) {
		diag_set(d, t, "query: too many filters");
		goto out;
	}
	sqlite3_stmt *st = sq_query_stmt(q, sql.p, &rc);
	if (!st)
		goto out;
	int k = 1;
	if (qr->collection)
		sqlite3_bind_int64(st, k++, qr->collection);
	if (qr->added_after_us)
		sqlite3_bind_int64(st, k++, qr->added_after_us);
	if (qr->after_seq)
		sqlite3_bind_int64(st, k++, (sqlite3_int64)qr->after_seq);
	if (qr->after_date_us) {
		sqlite3_bind_int64(st, k++, qr->after_date_us);
		sqlite3_bind_int64(st, k++, qr->after_date_us);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)qr->after_date_seq);
	}
	for (size_t i = 0; i < qr->nids; i++)
		sqlite3_bind_int64(st, k++, sq_idhash(q->hkey, qr->ids[i]));
	for (size_t i = 0; i < qr->nids; i++)
		sq_bind_text(st, k++, qr->ids[i]);
	for (size_t i = 0; i < qr->ntypes; i++)
		sq_bind_text(st, k++, qr->types[i]);
	for (size_t i = 0; i < qr->nspec_versions; i++)
		sq_bind_text(st, k++, qr->spec_versions[i]);
	if (!(qr->versions & STORE_V_ALL))
		for (size_t i = 0; i < qr->nversion_us; i++)
			sqlite3_bind_int64(st, k++, qr->version_us[i]);
	size_t taken = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (qr->limit && taken == qr->limit) {
			if (more)
				*more = true;
			break;
		}
		struct store_row r;
		sq_row(st, &r);
		enum store_row_verdict vd = cb(ctx, &r);
		if (vd == STORE_ROW_STOP) {
			if (more)
				*more = true;
			break;
		}
		if (vd == STORE_ROW_TAKE)
			taken++;
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_reset(st);
out:
	if (rc && !t)
		t = sq_err(q, rc, d);
	buf_reset(&sql);
	return t;
}

/* One version of the object being deleted from, as read before any change. */
struct sq_dv {
	uint64_t seq;
	int64_t version_us, valid_until;
	bool revoked, is_first, is_last, del;
	size_t version_off, obs_off, obs_len; /* in the text buffer */
	enum tlp_level tlp;
	int64_t producer;
	size_t rjson_off, rjson_len;          /* the text if it may name recipients */
};

static bool
sq_delete_selects(const struct store_delete_q *q, const struct store_row *r)
{
	bool ver = (q->versions & STORE_V_ALL) || ((q->versions & STORE_V_LAST) && r->is_last) ||
	           ((q->versions & STORE_V_FIRST) && r->is_first);
	for (size_t i = 0; !ver && i < q->nversion_us; i++)
		ver = r->version_us == q->version_us[i];
	if (!ver)
		return false;
	if (!q->nspec_versions)
		return true;
	for (size_t i = 0; i < q->nspec_versions; i++)
		if (strcmp(q->spec_versions[i], r->spec_version) == 0)
			return true;
	return false;
}

/* Calls unindex (or reindex) for each observable of the blob at b. */
static enum tcerr
sq_tell_obs(const struct buf *b, const struct sq_dv *v, uint32_t ref, store_unindex_cb unindex,
            store_indexable_cb reindex, void *ctx)
{
	const unsigned char *p = (const unsigned char *)b->p + v->obs_off, *end = p + v->obs_len;
	enum obs_kind kind;
	struct slice value;
	enum tcerr t = TC_OK;
	while (!t && sq__obs_next(&p, end, &kind, &value)) {
		if (unindex)
			unindex(ctx, ref, kind, value);
		else
			t = reindex(ctx, ref, kind, value, v->valid_until);
	}
	return t;
}

static enum tcerr
sq_delete(struct store *s, const struct store_delete_q *dq, store_delete_cb may, void *may_ctx,
          store_unindex_cb unindex, store_indexable_cb reindex, void *ictx,
          struct store_delete_out *out, struct diag *d)
{
	struct sq_store *q = sq(s);
	enum tcerr t = TC_OK;
	int rc = SQLITE_OK;
	bool in_tx = false;
	struct sq_dv *vs = NULL;
	size_t nvs = 0, capvs = 0, ndel = 0;
	struct buf text; /* versions' text and observables, NUL-separated */
	buf_init(&text, 0);

	if ((rc = sq_run(sq_stmt(q, S_BEGIN))))
		goto out;
	in_tx = true;
	sqlite3_stmt *st = sq_stmt(q, S_COLL_EXISTS);
	sqlite3_bind_int64(st, 1, dq->collection);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
		t = diag_set(d, TC_ENOTFOUND, "delete: no collection %lld",
		             (long long)dq->collection);
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	st = sq_stmt(q, S_OBJ_GET);
	sq_bind_text(st, 1, dq->id);
	sqlite3_bind_int64(st, 2, dq->collection);
	sqlite3_bind_int64(st, 3, sq_idhash(q->hkey, dq->id));
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
		goto out;
	}
	uint32_t ref = (uint32_t)sqlite3_column_int64(st, 0);
	uint64_t old_cur = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	rc = SQLITE_OK;
	if (!old_cur)
		goto out;

	/* 1. read the versions in version order and ask about the selected */
	st = sq_stmt(q, S_DEL_VERSIONS);
	sqlite3_bind_int64(st, 1, ref);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (nvs == capvs) {
			size_t cap = capvs ? capvs * 2 : 8;
			struct sq_dv *nv = realloc(vs, cap * sizeof *nv);
			if (!nv) {
				t = diag_set(d, TC_ENOMEM, "store: out of memory");
				sqlite3_reset(st);
				goto out;
			}
			vs = nv;
			capvs = cap;
		}
		struct store_row r;
		sq_row(st, &r);
		struct sq_dv *v = &vs[nvs++];
		*v = (struct sq_dv){ .seq = r.seq, .version_us = r.version_us,
			             .valid_until = r.valid_until_us, .revoked = r.revoked,
			             .is_first = r.is_first, .is_last = r.is_last,
			             .tlp = r.tlp, .producer = r.producer };
		if (sq__keeps_text(r.json)) {
			v->rjson_off = text.len;
			v->rjson_len = r.json.len;
			buf_append_slice(&text, r.json);
		}
		v->version_off = text.len;
		buf_append_cstr(&text, r.version);
		buf_append_char(&text, '\0');
		v->obs_off = text.len;
		v->obs_len = (size_t)sqlite3_column_bytes(st, 17);
		if (v->obs_len)
			buf_append(&text, sqlite3_column_blob(st, 17), v->obs_len);
		if (sq_delete_selects(dq, &r)) {
			enum store_delete_verdict vd = may(may_ctx, &r);
			if (vd == STORE_DEL_YES)
				v->del = true, ndel++;
			else if (vd == STORE_DEL_REFUSED)
				out->refused++;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto out;
	rc = SQLITE_OK;
	if ((t = buf_error(&text))) {
		diag_set(d, t, "store: out of memory");
		goto out;
	}
	if (!ndel)
		goto out;

	/* 2. tombstones, removal, new first and current */
	st = sq_stmt(q, S_MAXES);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		goto out;
	uint64_t next_seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	int64_t last_added = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	rc = SQLITE_OK;
	int64_t now = ts_now_us();
	int64_t deleted_us = now > last_added ? now : last_added + 1;
	const struct sq_dv *first = NULL, *last = NULL, *was = NULL;
	for (size_t i = 0; i < nvs; i++) {
		struct sq_dv *v = &vs[i];
		if (v->seq == old_cur)
			was = v;
		if (!v->del) {
			if (!first)
				first = v;
			last = v;
			continue;
		}
		st = sq_stmt(q, S_TOMB_INSERT);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)next_seq);
		sqlite3_bind_int64(st, 2, deleted_us);
		sqlite3_bind_int64(st, 3, dq->collection);
		sqlite3_bind_int64(st, 4, ref);
		sq_bind_text(st, 5, text.p + v->version_off);
		sqlite3_bind_int64(st, 6, v->version_us);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)v->seq);
		sqlite3_bind_int(st, 8, (int)v->tlp);
		sqlite3_bind_int64(st, 9, v->producer);
		if (v->rjson_len)
			sqlite3_bind_blob64(st, 10, text.p + v->rjson_off, v->rjson_len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 10);
		if ((rc = sq_run(st)))
			goto out;
		st = sq_stmt(q, S_VER_DELETE);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v->seq);
		if ((rc = sq_run(st)))
			goto out;
		out->seq = next_seq++;
		out->deleted++;
	}
	for (size_t i = 0; i < nvs; i++) {
		const struct sq_dv *v = &vs[i];
		bool want_first = v == first, want_last = v == last;
		if (v->del || (v->is_first == want_first && v->is_last == want_last))
			continue;
		st = sq_stmt(q, S_VER_SETFLAGS);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v->seq);
		sqlite3_bind_int(st, 2, want_first);
		sqlite3_bind_int(st, 3, want_last);
		if ((rc = sq_run(st)))
			goto out;
	}
	st = sq_stmt(q, S_OBJ_SETBOTH);
	sqlite3_bind_int64(st, 1, ref);
	sqlite3_bind_int64(st, 2, last ? (sqlite3_int64)last->seq : 0);
	sqlite3_bind_int64(st, 3, last ? last->version_us : 0);
	sqlite3_bind_int(st, 4, last ? last->revoked : 0);
	sqlite3_bind_int64(st, 5, first ? (sqlite3_int64)first->seq : 0);
	sqlite3_bind_int64(st, 6, first ? first->version_us : 0);
	if ((rc = sq_run(st)))
		goto out;
	if (last != was &&
	    (t = sq_dec_set_seq(&q->dec, s, ref, last ? last->seq : 0, STORE_DR_DELETED, &next_seq,
	                        now, &rc)))
		goto out;
	if ((rc = sq_run(sq_stmt(q, S_COMMIT))))
		goto out;
	in_tx = false;

	/* 3. the index follows the current version */
	if (last != was) {
		if (unindex && was && !was->revoked)
			sq_tell_obs(&text, was, ref, unindex, NULL, ictx);
		if (reindex && last && !last->revoked &&
		    (t = sq_tell_obs(&text, last, ref, NULL, reindex, ictx)))
			diag_set(d, t, "delete: the deletion is stored; reindexing %s failed",
			         dq->id);
	}
out:
	if (rc && !t)
		t = sq_err(q, rc, d);
	if (in_tx)
		sq_run(sq_stmt(q, S_ROLLBACK));
	free(vs);
	buf_reset(&text);
	return t;
}

static enum tcerr
sq_tombstones(struct store *s, uint64_t after_seq,
              enum tcerr (*cb)(void *ctx, const struct store_tombstone *t), void *ctx,
              struct diag *d)
{
	struct sq_store *q = sq(s);
	/* its own statement: the callback may read the store meanwhile */
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	int rc = sqlite3_prepare_v2(q->db, sq_sql[S_TOMBS], -1, &st, NULL);
	if (rc)
		return sq_err(q, rc, d);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq);
	while (!t && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_tombstone ts = {
			.seq = (uint64_t)sqlite3_column_int64(st, 0),
			.deleted_us = sqlite3_column_int64(st, 1),
			.collection = sqlite3_column_int64(st, 2),
			.id = (const char *)sqlite3_column_text(st, 3),
			.version = (const char *)sqlite3_column_text(st, 4),
			.version_seq = (uint64_t)sqlite3_column_int64(st, 5),
			.tlp = (enum tlp_level)sqlite3_column_int(st, 6),
			.producer = sqlite3_column_int64(st, 7),
			.json = slice_make(sqlite3_column_blob(st, 8),
			                   (size_t)sqlite3_column_bytes(st, 8)),
		};
		t = cb(ctx, &ts);
	}
	if (!t && rc != SQLITE_DONE)
		t = sq_err(q, rc, d);
	sqlite3_finalize(st);
	return t;
}

static enum tcerr
sq_scan(struct store *s, int which, store_indexable_cb cb, void *ctx, struct diag *d)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, which);
	enum tcerr t = TC_OK;
	int rc;
	while (!t && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t ref = (uint32_t)sqlite3_column_int64(st, 0);
		const unsigned char *b = sqlite3_column_blob(st, 1);
		const unsigned char *end = b ? b + sqlite3_column_bytes(st, 1) : NULL;
		int64_t valid_until = sqlite3_column_int64(st, 2);
		enum obs_kind kind;
		struct slice value;
		while (!t && sq__obs_next(&b, end, &kind, &value))
			t = cb(ctx, ref, kind, value, valid_until);
	}
	if (!t && rc != SQLITE_DONE)
		t = sq_err(q, rc, d);
	sqlite3_reset(st);
	return t;
}

static enum tcerr
sq_scan_indexable(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	return sq_scan(s, S_SCAN, cb, ctx, d);
}

static enum tcerr
sq_scan_revoked(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	return sq_scan(s, S_SCAN_REVOKED, cb, ctx, d);
}

static enum tcerr
sq_get_ref(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_GET_REF);
	sqlite3_bind_int64(st, 1, ref);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct store_row r;
		sq_row(st, &r);
		cb(ctx, &r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? TC_OK : rc == SQLITE_DONE ? TC_ENOTFOUND : TC_EDB;
}

static enum tcerr
sq_position(struct store *s, uint64_t *out)
{
	int64_t v = 0;
	if (sq_int(sq(s)->db,
	           "SELECT max(coalesce((SELECT max(seq) FROM versions), 0),"
	           " coalesce((SELECT max(seq) FROM tombstones), 0),"
	           " coalesce((SELECT max(seq) FROM devents), 0))",
	           &v))
		return TC_EDB;
	*out = (uint64_t)v;
	return TC_OK;
}

static enum tcerr
sq_versions_of(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_VERSIONS_OF);
	bool any = false;
	int rc;
	sqlite3_bind_int64(st, 1, ref);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row r;
		any = true;
		sq_row(st, &r);
		if (cb(ctx, &r) == STORE_ROW_STOP) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return TC_EDB;
	return any ? TC_OK : TC_ENOTFOUND;
}

static enum tcerr
sq_stats(struct store *s, struct store_stats *out)
{
	struct sq_store *q = sq(s);
	int64_t v = 0;
	int rc;
	/* seqs and refs are dense from 1; each tombstone took one seq and
	 * removed one version, each decision event took one seq */
	int64_t ntombs = 0, ndevents = 0, vanished = 0;
	if ((rc = sq_int(q->db,
	                 "SELECT max(coalesce((SELECT max(seq) FROM versions), 0),"
	                 " coalesce((SELECT max(seq) FROM tombstones), 0),"
	                 " coalesce((SELECT max(seq) FROM devents), 0))",
	                 &v)) ||
	    (rc = sq_int(q->db, "SELECT count(*) FROM tombstones", &ntombs)) ||
	    (rc = sq_int(q->db, "SELECT count(*) FROM devents", &ndevents)))
		return TC_EDB;
	out->log_position = (uint64_t)v;
	out->versions = (uint64_t)(v - 2 * ntombs - ndevents);
	v = 0;
	if ((rc = sq_int(q->db, "SELECT max(ref) FROM objects", &v)))
		return TC_EDB;
	if (ntombs && (rc = sq_int(q->db, "SELECT count(*) FROM objects WHERE current_seq = 0",
	                           &vanished)))
		return TC_EDB;
	out->objects = (uint64_t)(v - vanished);
	v = 0;
	if ((rc = sq_int(q->db, "SELECT count(*) FROM collections", &v)))
		return TC_EDB;
	out->collections = (uint64_t)v;
	v = 0;
	if ((rc = sq_int(q->db, "SELECT count(*) FROM objects WHERE cur_revoked = 1", &v)))
		return TC_EDB;
	out->revoked = (uint64_t)v;
	v = 0;
	if ((rc = sq_int(q->db,
	                 "SELECT count(*) FROM objects o JOIN versions v ON v.seq = o.current_seq"
	                 " WHERE o.cur_revoked = 0 AND v.type = 'indicator'",
	                 &v)))
		return TC_EDB;
	out->indicators = (uint64_t)v;
	sqlite3_stmt *st = NULL;
	rc = sqlite3_prepare_v2(q->db,
	                        "SELECT v.obs FROM objects o JOIN versions v ON v.seq = o.current_seq"
	                        " WHERE o.cur_revoked = 0 AND v.obs IS NOT NULL",
	                        -1, &st, NULL);
	if (rc)
		return TC_EDB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(st, 0);
		const unsigned char *end = b ? b + sqlite3_column_bytes(st, 0) : NULL;
		enum obs_kind kind;
		struct slice value;
		while (sq__obs_next(&b, end, &kind, &value))
			if (kind >= 0 && kind <= OBS_KIND_MAX)
				out->observables[kind]++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? TC_OK : TC_EDB;
}

static enum tcerr
sq_setting_get(struct store *s, const char *key, struct buf *out)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_SETTING_GET);
	sq_bind_text(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return buf_error(out);
	return rc == SQLITE_DONE ? TC_ENOTFOUND : TC_EDB;
}

static enum tcerr
sq_setting_set(struct store *s, const char *key, const char *value)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = sq_stmt(q, S_SETTING_SET);
	sq_bind_text(st, 1, key);
	sq_bind_text(st, 2, value);
	int rc = sq_run(st);
	if ((rc & 0xff) == SQLITE_BUSY)
		return TC_EBUSY;
	return rc ? TC_EDB : TC_OK;
}

static enum tcerr
sq_wal_autocheckpoint(struct store *s, int pages)
{
	return sqlite3_wal_autocheckpoint(sq(s)->db, pages) == SQLITE_OK ? TC_OK : TC_EDB;
}

struct store_checkpointer {
	sqlite3 *db;
	char path[SQ_PATH_CKPT_MAX];
};

enum tcerr
store_checkpointer_open(const char *spec, struct store_checkpointer **out, struct diag *d)
{
	struct store_checkpointer *c;
	const char *path = spec;

	*out = NULL;
	if (strncmp(spec, "sqlite:", 7) == 0)
		path = spec + 7;
	else if (strchr(spec, ':') && strncmp(spec, "memory:", 7) == 0)
		return diag_set(d, TC_EUNSUPPORTED, "%s: not a SQLite store", spec);
	if (!(c = calloc(1, sizeof(*c))))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (strlen(path) >= sizeof(c->path)) {
		free(c);
		return diag_set(d, TC_ELIMIT, "%s: path too long", path);
	}
	memcpy(c->path, path, strlen(path) + 1);
	int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		diag_set(d, TC_EIO, "%s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close_v2(c->db);
		free(c);
		return TC_EIO;
	}
	sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
	*out = c;
	return TC_OK;
}

enum tcerr
store_checkpoint(struct store_checkpointer *c, int *wal_pages, int *copied, struct diag *d)
{
	int log = 0, ckpt = 0;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
	if (wal_pages)
		*wal_pages = log;
	if (copied)
		*copied = ckpt;
	if (rc == SQLITE_OK)
		return TC_OK;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return diag_set(d, TC_EBUSY, "%s: checkpoint busy", c->path);
	return diag_set(d, TC_EDB, "%s: checkpoint: %s", c->path, sqlite3_errmsg(c->db));
}

void
store_checkpointer_close(struct store_checkpointer *c)
{
	if (!c)
		return;
	sqlite3_close_v2(c->db);
	free(c);
}

static enum tcerr
sq_log_versions(struct store *s, uint64_t after_seq, size_t limit, store_log_cb cb, void *ctx,
                uint64_t *last, struct diag *d)
{
	struct sq_store *q = sq(s);
	/* its own statement: the callback may read the store meanwhile */
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(q->db,
	                            "SELECT " SQ_ROW_COLS ", v.obs FROM versions v JOIN objects o"
	                            " ON o.ref = v.ref WHERE v.seq > ? ORDER BY v.seq LIMIT ?",
	                            -1, &st, NULL);
	if (rc)
		return sq_err(q, rc, d);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq);
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row r;
		sq_row(st, &r);
		uint32_t kinds = 0;
		const unsigned char *p = sqlite3_column_blob(st, 17);
		const unsigned char *end = p ? p + sqlite3_column_bytes(st, 17) : NULL;
		r.obs = slice_make(p ? (const char *)p : "", p ? (size_t)(end - p) : 0);
		enum obs_kind k;
		struct slice v;
		while (sq__obs_next(&p, end, &k, &v))
			if ((unsigned)k < 32)
				kinds |= UINT32_C(1) << (unsigned)k;
		*last = r.seq;
		if (cb(ctx, &r, kinds) == STORE_ROW_STOP) {
			rc = SQLITE_DONE;
			break;
		}
	}
	enum tcerr t = rc == SQLITE_DONE ? TC_OK : sq_err(q, rc, d);
	sqlite3_finalize(st);
	return t;
}

static enum tcerr
sq_decision_events(struct store *s, uint64_t after_seq, size_t limit,
                   enum tcerr (*cb)(void *ctx, const struct store_devent *e), void *ctx,
                   struct diag *d)
{
	struct sq_store *q = sq(s);
	int rc = SQLITE_OK;
	enum tcerr t = sq_dec_events(&q->dec, after_seq, limit, cb, ctx, &rc);
	if (t == TC_EDB || (t == TC_ENOMEM && rc))
		return sq_err(q, rc, d);
	return t;
}

static enum tcerr
sq_decisions(struct store *s, enum obs_kind kind, const struct slice *value, int64_t now_us,
             enum tcerr (*cb)(void *ctx, const struct store_decision *c), void *ctx,
             uint64_t *position, struct diag *d)
{
	struct sq_store *q = sq(s);
	/* with a position, one read transaction: the rows and the position
	 * agree (without, the caller may be inside another statement's walk) */
	int rc = SQLITE_OK;
	if (position && (rc = sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL)))
		return sq_err(q, rc, d);
	enum tcerr t = TC_OK;
	if (position)
		t = sq_position(s, position);
	if (t)
		rc = sqlite3_errcode(q->db);
	else
		t = sq_dec_list(&q->dec, kind, value, now_us, cb, ctx, &rc);
	if (t == TC_EDB)
		sq_err(q, rc, d);
	if (position)
		sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	return t;
}

/* Runs fn inside a write transaction with the next seq. */
static enum tcerr
sq_dec_write(struct sq_store *q, int64_t now, size_t max, size_t *events, int64_t *next_us,
             bool rejudge, struct diag *d)
{
	int rc = sq_run(sq_stmt(q, S_BEGIN));
	if (rc)
		return sq_err(q, rc, d);
	enum tcerr t = TC_OK;
	sqlite3_stmt *st = sq_stmt(q, S_MAXES);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		t = sq_err(q, rc, d);
		goto out;
	}
	uint64_t next_seq = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	rc = SQLITE_OK;
	t = rejudge ? sq_dec_rejudge(&q->dec, &q->base, &next_seq, now, events, &rc)
	            : sq_dec_expire(&q->dec, now, max, &next_seq, events, next_us, &rc);
	if (t) {
		if (rc)
			sq_err(q, rc, d);
		else
			diag_set(d, t, "%s: out of memory for decisions", q->path);
		goto out;
	}
	if ((rc = sq_run(sq_stmt(q, S_COMMIT))))
		t = sq_err(q, rc, d);
	else
		return TC_OK;
out:
	sq_run(sq_stmt(q, S_ROLLBACK));
	return t;
}

static enum tcerr
sq_decisions_expire(struct store *s, int64_t now_us, size_t max, size_t *events,
                    int64_t *next_us, struct diag *d)
{
	return sq_dec_write(sq(s), now_us, max, events, next_us, false, d);
}

static enum tcerr
sq_decisions_rejudge(struct store *s, size_t *events, struct diag *d)
{
	return sq_dec_write(sq(s), ts_now_us(), 0, events, NULL, true, d);
}

const struct store__backend store__sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.wal_autocheckpoint = sq_wal_autocheckpoint,
	.append = sq_append,
	.collection_add = sq_collection_add,
	.collection_update = sq_collection_update,
	.collection_find = sq_collection_find,
	.collection_list = sq_collection_list,
	.query = sq_query,
	.scan_indexable = sq_scan_indexable,
	.scan_revoked = sq_scan_revoked,
	.delete = sq_delete,
	.tombstones = sq_tombstones,
	.get_ref = sq_get_ref,
	.versions_of = sq_versions_of,
	.stats = sq_stats,
	.position = sq_position,
	.setting_get = sq_setting_get,
	.setting_set = sq_setting_set,
	.log_versions = sq_log_versions,
	.decision_events = sq_decision_events,
	.decisions = sq_decisions,
	.decisions_expire = sq_decisions_expire,
	.decisions_rejudge = sq_decisions_rejudge,
	.prov_find = sq_prov_find,
};
