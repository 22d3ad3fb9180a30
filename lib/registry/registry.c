/*
 * registry.c — the registry database: organisations, principals, rights
 * and TAXII status resources in DIR/registry.db.
 *
 * One SQLite file in WAL mode with synchronous=FULL, so a change returns
 * only when it is durable. The schema is versioned like the store's: the
 * settings row "schema_version" counts the migration steps applied, open
 * applies the missing ones in one transaction, and the file carries its
 * own application_id. Invariants: an API key exists in clear only inside
 * registry_key_create() and the caller's key_text buffer (wiped here on
 * error, and every local copy is wiped with explicit_bzero); the database
 * holds SHA-256 of the whole key text, never the key. Organisation names
 * are unique under ASCII case folding (COLLATE NOCASE), and an
 * organisation's identity is derived from its lower-cased name, so the
 * two agree. Every public call takes r->mu for its whole length, so one
 * struct registry serves several threads; callbacks run after the lock is
 * released, on a copy of the rows, so they may call back into the registry.
 */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/registry_internal.h"
#include "stix/stix_id.h"
#include "util/text.h"
#include "util/timestamp.h"

#define REG_APPLICATION_ID 0x74637372 /* "tcsr" */
#define REG_BUSY_TIMEOUT_MS 10000
#define REG_PATH_MAX 4096
#define REG_SECRET_BYTES 32           /* 256 random bits per key */
#define REG_KEY_ID_TRIES 8            /* fresh key ids tried on a collision */
#define REG_KEY_PREFIX "tcs_"


/* Sources (registry_source.c, docs/sources.md): each feed's settings and
 * status, and source_entries, what each has listed (the version last
 * written, so a dropped entry can be expired). Snapshots do not read
 * them; they have a generation of their own, moved by what the operator
 * changes (add, remove, a run asked for), not by the daemon's status
 * writes. The step's number is REG_STEP_SOURCES (1-based). */
#define REG_STEP_SOURCES 6
#define REG_SQL_SOURCES                                                                    \
	"CREATE TABLE sources(name TEXT PRIMARY KEY, url TEXT NOT NULL, format TEXT NOT NULL,"  \
	" every_s INTEGER NOT NULL, org INTEGER NOT NULL REFERENCES orgs(num),"                \
	" collection TEXT NOT NULL, tlp TEXT NOT NULL, confidence INTEGER NOT NULL,"           \
	" expiry TEXT NOT NULL, options TEXT NOT NULL, auth BLOB NOT NULL,"                    \
	" etag TEXT NOT NULL DEFAULT '', last_modified TEXT NOT NULL DEFAULT '',"              \
	" cursor TEXT NOT NULL DEFAULT '', last_run_us INTEGER NOT NULL DEFAULT 0,"            \
	" last_success_us INTEGER NOT NULL DEFAULT 0, next_run_us INTEGER NOT NULL DEFAULT 0," \
	" result TEXT NOT NULL DEFAULT '', last_error TEXT NOT NULL DEFAULT '',"               \
	" warnings TEXT NOT NULL DEFAULT '', entries INTEGER NOT NULL DEFAULT 0,"              \
	" added INTEGER NOT NULL DEFAULT 0, expired INTEGER NOT NULL DEFAULT 0,"               \
	" rejected INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 0,"               \
	" errors INTEGER NOT NULL DEFAULT 0, requested INTEGER NOT NULL DEFAULT 0,"            \
	" served INTEGER NOT NULL DEFAULT 0, created_us INTEGER NOT NULL) WITHOUT ROWID;"      \
	"CREATE TABLE source_entries(source TEXT NOT NULL, id TEXT NOT NULL,"                  \
	" modified_us INTEGER NOT NULL, listed INTEGER NOT NULL, json TEXT NOT NULL,"          \
	" PRIMARY KEY(source, id)) WITHOUT ROWID;"                                             \
	"CREATE TABLE source_generation(one INTEGER PRIMARY KEY CHECK (one = 1),"              \
	" n INTEGER NOT NULL);"                                                                \
	"INSERT INTO source_generation VALUES (1, 1);"                                         \
	"CREATE TRIGGER sgen_i AFTER INSERT ON sources BEGIN"                                  \
	" UPDATE source_generation SET n = n + 1; END;"                                        \
	"CREATE TRIGGER sgen_d AFTER DELETE ON sources BEGIN"                                  \
	" UPDATE source_generation SET n = n + 1; END;"                                        \
	"CREATE TRIGGER sgen_u AFTER UPDATE OF requested ON sources BEGIN"                     \
	" UPDATE source_generation SET n = n + 1; END;"
/* Coordination (registry_task.c, registry_constituency.c; docs/coordination.md):
 * response tasks and their timestamped events, organisations' e-mail
 * contacts, each sector's lead organisation (where escalations go), and
 * the constituencies organisations answer for. coord_generation moves on
 * every change to what the daemon's coordination worker caches
 * (constituencies, leads), like webhook_generation. REG_STEP_COORD is
 * this step's 1-based number (the lead renumbers it at merge). */
#define REG_STEP_COORD 7
#define REG_SQL_COORD \
	"CREATE TABLE tasks(num INTEGER PRIMARY KEY, action TEXT NOT NULL," \
	" org INTEGER NOT NULL REFERENCES orgs(num), coordinator INTEGER NOT NULL," \
	" source TEXT NOT NULL, observables TEXT NOT NULL, note TEXT NOT NULL," \
	" reply TEXT NOT NULL DEFAULT '', dedup TEXT UNIQUE, state INTEGER NOT NULL," \
	" deadline_us INTEGER NOT NULL, created_us INTEGER NOT NULL," \
	" acked_us INTEGER NOT NULL DEFAULT 0, closed_us INTEGER NOT NULL DEFAULT 0," \
	" escalation INTEGER NOT NULL DEFAULT 0, escalated_us INTEGER NOT NULL DEFAULT 0," \
	" escalated_org INTEGER NOT NULL DEFAULT 0);" \
	"CREATE INDEX tasks_org ON tasks(org, num);" \
	"CREATE INDEX tasks_open ON tasks(state, deadline_us);" \
	"CREATE TABLE task_events(num INTEGER PRIMARY KEY, task INTEGER NOT NULL REFERENCES tasks(num)," \
	" at_us INTEGER NOT NULL, org INTEGER NOT NULL, what TEXT NOT NULL, note TEXT NOT NULL," \
	" mailed INTEGER NOT NULL DEFAULT 0);" \
	"CREATE INDEX task_events_task ON task_events(task, num);" \
	"CREATE INDEX task_events_unmailed ON task_events(num) WHERE mailed = 0;" \
	"CREATE TABLE org_contacts(org INTEGER NOT NULL REFERENCES orgs(num), email TEXT NOT NULL," \
	" PRIMARY KEY(org, email)) WITHOUT ROWID;" \
	"CREATE TABLE sector_leads(sector INTEGER PRIMARY KEY, org INTEGER NOT NULL REFERENCES orgs(num));" \
	"CREATE TABLE constituencies(kind INTEGER NOT NULL, value TEXT NOT NULL," \
	" org INTEGER NOT NULL REFERENCES orgs(num), created_us INTEGER NOT NULL," \
	" PRIMARY KEY(kind, value)) WITHOUT ROWID;" \
	"CREATE TABLE coord_generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);" \
	"INSERT INTO coord_generation VALUES (1, 1);" \
	"CREATE TRIGGER cgen_const_i AFTER INSERT ON constituencies BEGIN" \
	" UPDATE coord_generation SET n = n + 1; END;" \
	"CREATE TRIGGER cgen_const_d AFTER DELETE ON constituencies BEGIN" \
	" UPDATE coord_generation SET n = n + 1; END;" \
	"CREATE TRIGGER cgen_lead_i AFTER INSERT ON sector_leads BEGIN" \
	" UPDATE coord_generation SET n = n + 1; END;" \
	"CREATE TRIGGER cgen_lead_u AFTER UPDATE ON sector_leads BEGIN" \
	" UPDATE coord_generation SET n = n + 1; END;" \
	"CREATE TRIGGER cgen_lead_d AFTER DELETE ON sector_leads BEGIN" \
	" UPDATE coord_generation SET n = n + 1; END;"
/* Federation peers (issue 12, registry_peer.c): another hub or a plain
 * TAXII 2.1 server, the organisation standing for it (its producer
 * identity here and the holder of the key it reads us with), the key it
 * issued to us (in clear: the hub presents it), the pinned public key,
 * the border policy, and the durable cursor with its counters. Like
 * webhooks, a generation of their own: operator changes (revision) move
 * it, the daemon's progress writes do not. */
#define REG_STEP_PEERS 9
#define REG_SQL_PEERS                                                                        \
	"CREATE TABLE peers(name TEXT PRIMARY KEY COLLATE NOCASE,"                                \
	" org INTEGER NOT NULL REFERENCES orgs(num), url TEXT NOT NULL, api_root TEXT NOT NULL,"  \
	" kind TEXT NOT NULL, secret BLOB NOT NULL, pin TEXT NOT NULL, policy TEXT NOT NULL,"     \
	" collections TEXT NOT NULL, cursor TEXT NOT NULL DEFAULT '0',"                           \
	" objects_in INTEGER NOT NULL DEFAULT 0, deleted_in INTEGER NOT NULL DEFAULT 0,"          \
	" refused INTEGER NOT NULL DEFAULT 0, objects_out INTEGER NOT NULL DEFAULT 0,"            \
	" remote_position TEXT NOT NULL DEFAULT '0', last_error TEXT NOT NULL DEFAULT '',"        \
	" last_error_us INTEGER NOT NULL DEFAULT 0, last_ok_us INTEGER NOT NULL DEFAULT 0,"       \
	" last_event_us INTEGER NOT NULL DEFAULT 0, pushed TEXT NOT NULL DEFAULT '0',"            \
	" revision INTEGER NOT NULL DEFAULT 1, created_us INTEGER NOT NULL) WITHOUT ROWID;"      \
	"CREATE TABLE peer_generation(one INTEGER PRIMARY KEY CHECK (one = 1),"                   \
	" n INTEGER NOT NULL);"                                                                   \
	"INSERT INTO peer_generation VALUES (1, 1);"                                              \
	"CREATE TRIGGER pgen_i AFTER INSERT ON peers BEGIN"                                       \
	" UPDATE peer_generation SET n = n + 1; END;"                                             \
	"CREATE TRIGGER pgen_d AFTER DELETE ON peers BEGIN"                                       \
	" UPDATE peer_generation SET n = n + 1; END;"                                             \
	"CREATE TRIGGER pgen_u AFTER UPDATE OF revision ON peers BEGIN"                           \
	" UPDATE peer_generation SET n = n + 1; END;"

/* Migration steps: schema_version N means steps [0, N) were applied. Never
 * edit a released step; append a new one. */
static const char *const reg_migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE orgs(num INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" sector INTEGER NOT NULL, country TEXT NOT NULL, identity TEXT NOT NULL UNIQUE,"
	" created_us INTEGER NOT NULL);"
	"CREATE TABLE org_groups(org INTEGER NOT NULL REFERENCES orgs(num), grp TEXT NOT NULL,"
	" PRIMARY KEY(org, grp)) WITHOUT ROWID;"
	"CREATE TABLE principals(num INTEGER PRIMARY KEY, key_id TEXT NOT NULL UNIQUE,"
	" hash BLOB NOT NULL, org INTEGER NOT NULL REFERENCES orgs(num),"
	" role INTEGER NOT NULL, cred INTEGER NOT NULL, name TEXT NOT NULL,"
	" created_us INTEGER NOT NULL, revoked_us INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX principals_hash ON principals(hash);"
	"CREATE TABLE rights(collection TEXT PRIMARY KEY, read_spec TEXT NOT NULL,"
	" write_spec TEXT NOT NULL, updated_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE statuses(id TEXT PRIMARY KEY, created_us INTEGER NOT NULL,"
	" json BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX statuses_created ON statuses(created_us);",
	/* 2: API roots (TAXII 2.1 §4.2) and the root each collection belongs
	 * to; a collection without a row is in the daemon's default root */
	"CREATE TABLE api_roots(name TEXT PRIMARY KEY, title TEXT NOT NULL,"
	" description TEXT NOT NULL, max_content_length INTEGER NOT NULL,"
	" created_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE collection_roots(collection TEXT PRIMARY KEY, api_root TEXT NOT NULL)"
	" WITHOUT ROWID;",
	/* 3: a generation number every change to what a snapshot reads
	 * moves (triggers, so no writer can forget it): a running tocsind
	 * polls it and reloads by itself */
	"CREATE TABLE generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);"
	"INSERT INTO generation VALUES (1, 1);"
	"CREATE TRIGGER gen_orgs_i AFTER INSERT ON orgs BEGIN UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_orgs_u AFTER UPDATE ON orgs BEGIN UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_orgs_d AFTER DELETE ON orgs BEGIN UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_groups_i AFTER INSERT ON org_groups BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_groups_d AFTER DELETE ON org_groups BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_prs_i AFTER INSERT ON principals BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_prs_u AFTER UPDATE ON principals BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_prs_d AFTER DELETE ON principals BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_rights_i AFTER INSERT ON rights BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_rights_u AFTER UPDATE ON rights BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_rights_d AFTER DELETE ON rights BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_roots_i AFTER INSERT ON api_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_roots_u AFTER UPDATE ON api_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_croots_i AFTER INSERT ON collection_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_croots_u AFTER UPDATE ON collection_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;",
	/* 4: administration. An organisation is never removed (the log keeps
	 * its objects attributed to it and its identity stays reserved):
	 * deleted_us marks it deleted, updated_us is its last rename. A key
	 * may expire (expires_us, 0 = never; checked at each authentication).
	 * A deleted collection stays in the store (its objects' tombstones
	 * name it) and is listed here, so snapshots leave it out. The
	 * triggers of step 3 cover the new columns; the new table and the
	 * deletions step 3 did not foresee get theirs. */
	"ALTER TABLE orgs ADD COLUMN deleted_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE orgs ADD COLUMN updated_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE principals ADD COLUMN expires_us INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE deleted_collections(collection TEXT PRIMARY KEY, alias TEXT NOT NULL,"
	" deleted_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TRIGGER gen_dcolls_i AFTER INSERT ON deleted_collections BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_dcolls_d AFTER DELETE ON deleted_collections BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_croots_d AFTER DELETE ON collection_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;"
	"CREATE TRIGGER gen_roots_d AFTER DELETE ON api_roots BEGIN"
	" UPDATE generation SET n = n + 1; END;",
	/* 5: webhook subscriptions (registry_webhook.c). Snapshots do not
	 * read them, so they have a generation of their own: what the
	 * operator changes (add, remove, replay: revision) moves it, the
	 * daemon's own progress writes (cursor, attempts) do not. */
	"CREATE TABLE webhooks(id TEXT PRIMARY KEY, org INTEGER NOT NULL REFERENCES orgs(num),"
	" url TEXT NOT NULL, secret BLOB NOT NULL, view TEXT NOT NULL, filter TEXT NOT NULL,"
	" cursor TEXT NOT NULL, pending_end TEXT NOT NULL DEFAULT '', state INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
	" last_attempt_us INTEGER NOT NULL DEFAULT 0, last_delivery_us INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_us INTEGER NOT NULL DEFAULT 0, deliveries INTEGER NOT NULL DEFAULT 0,"
	" revision INTEGER NOT NULL DEFAULT 1, created_us INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE webhook_generation(one INTEGER PRIMARY KEY CHECK (one = 1),"
	" n INTEGER NOT NULL);"
	"INSERT INTO webhook_generation VALUES (1, 1);"
	"CREATE TRIGGER wgen_i AFTER INSERT ON webhooks BEGIN"
	" UPDATE webhook_generation SET n = n + 1; END;"
	"CREATE TRIGGER wgen_d AFTER DELETE ON webhooks BEGIN"
	" UPDATE webhook_generation SET n = n + 1; END;"
	"CREATE TRIGGER wgen_u AFTER UPDATE OF revision ON webhooks BEGIN"
	" UPDATE webhook_generation SET n = n + 1; END;",
	/* 6 (REG_STEP_SOURCES): feeds pulled on a schedule */
	REG_SQL_SOURCES,
	/* REG_STEP_COORD */
	REG_SQL_COORD,
	/* 8 (REG_STEP_FP): false-positive reports and reviews (registry_fp.c) */
	reg__fp_schema,
	/* 9 (REG_STEP_PEERS): federation peers (registry_peer.c) */
	REG_SQL_PEERS,
};
_Static_assert(sizeof reg_migrations / sizeof reg_migrations[0] == REG_STEP_PEERS,
               "REG_STEP_PEERS is the last registry step");
#define REG_SCHEMA_VERSION ((int)(sizeof reg_migrations / sizeof reg_migrations[0]))

/* One registry_status_put() waiting for the group commit (on its caller's
 * stack). */
struct status_put {
	struct status_put *next;
	const char *id;
	int64_t created_us;
	const char *json;
	size_t len;
	enum tcerr rc;
	struct diag d;
	bool done;
};

struct registry {
	pthread_mutex_t mu;
	sqlite3 *db;
	char path[REG_PATH_MAX];
	/* status group commit: puts queue here; one of them (the leader)
	 * writes every queued one in one transaction, so concurrent POSTs
	 * share one fsync (DESIGN §2.2) */
	pthread_mutex_t smu;
	pthread_cond_t scv;
	struct status_put *sq_head, *sq_tail;
	bool s_committing;
};

#define reg_dberr reg__dberr
static enum tcerr reg_load_rights(struct registry *r, struct reg__loaded *l, struct diag *d);

sqlite3 *
reg__db(struct registry *r)
{
	return r->db;
}

pthread_mutex_t *
reg__mu(struct registry *r)
{
	return &r->mu;
}

/* Maps a SQLite result code to ours and describes it in d. */
enum tcerr
reg__dberr(struct registry *r, int rc, struct diag *d)
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
	return diag_set(d, t, "%s: %s", r->path, r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
}

/* Makes room for one more element in the array *v of *cap elements of
 * size elem holding len: doubles it (from 16) when full. TC_ENOMEM leaves
 * *v as it was. */
static enum tcerr
reg_grow(void **v, size_t *cap, size_t len, size_t elem, struct diag *d)
{
	if (len < *cap)
		return TC_OK;
	size_t nc = *cap ? 2 * *cap : 16;
	void *p = nc <= SIZE_MAX / elem ? realloc(*v, nc * elem) : NULL;
	if (!p)
		return diag_set(d, TC_ENOMEM, "out of memory");
	*v = p;
	*cap = nc;
	return TC_OK;
}

static enum tcerr
reg_prepare(struct registry *r, const char *sql, sqlite3_stmt **st, struct diag *d)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);
	return rc ? reg_dberr(r, rc, d) : TC_OK;
}

static enum tcerr
reg_exec(struct registry *r, const char *sql, struct diag *d)
{
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	return rc ? reg_dberr(r, rc, d) : TC_OK;
}

/* Steps a statement that returns no rows. */
static enum tcerr
reg_step_done(struct registry *r, sqlite3_stmt *st, struct diag *d)
{
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? TC_OK : reg_dberr(r, rc, d);
}

/* Reads one integer from a single-row query; *out untouched when no row. */
static int
reg_int(sqlite3 *db, const char *sql, int64_t *out)
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

/* Copies column i as text into out (size bytes), truncating. */
static void
reg_col_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

/* Brings the schema to REG_SCHEMA_VERSION inside the caller's transaction. */
static enum tcerr
reg_migrate(struct registry *r, struct diag *d)
{
	int64_t appid = 0, ntables = 0, version = -1;
	int rc = reg_int(r->db, "PRAGMA application_id", &appid);
	if (!rc)
		rc = reg_int(r->db, "SELECT count(*) FROM sqlite_master", &ntables);
	if (rc)
		return reg_dberr(r, rc, d);
	if (appid == 0 && ntables == 0) {
		version = 0;
	} else if (appid != REG_APPLICATION_ID) {
		return diag_set(d, TC_EDB, "%s: not a tocsin registry (another SQLite database)",
		                r->path);
	} else {
		rc = reg_int(r->db,
		             "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'schema_version'",
		             &version);
		if (rc)
			return reg_dberr(r, rc, d);
		if (version < 1)
			return diag_set(d, TC_EDB, "%s: damaged tocsin registry: no schema_version",
			                r->path);
	}
	if (version > REG_SCHEMA_VERSION)
		return diag_set(d, TC_EUNSUPPORTED,
		                "%s: schema version %lld is newer than this build knows (%d); "
		                "upgrade tocsin to open it",
		                r->path, (long long)version, REG_SCHEMA_VERSION);
	if (version == REG_SCHEMA_VERSION)
		return TC_OK;
	for (int64_t v = version; v < REG_SCHEMA_VERSION; v++) {
		char *err = NULL;
		rc = sqlite3_exec(r->db, reg_migrations[v], NULL, NULL, &err);
		if (rc) {
			enum tcerr t = diag_set(d, TC_EDB, "%s: schema migration %lld failed: %s",
			                        r->path, (long long)v + 1, err ? err : "?");
			sqlite3_free(err);
			return t;
		}
	}
	char sql[256];
	int k = snprintf(sql, sizeof sql,
	                 "INSERT OR REPLACE INTO settings(key, value)"
	                 " VALUES('schema_version', '%d'); PRAGMA application_id = %d;",
	                 REG_SCHEMA_VERSION, REG_APPLICATION_ID);
	if (k < 0 || (size_t)k >= sizeof sql)
		return diag_set(d, TC_EINTERNAL, "%s: migration statement too long", r->path);
	return reg_exec(r, sql, d);
}

static void
reg_free(struct registry *r)
{
	if (r->db)
		sqlite3_close_v2(r->db);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->smu);
	pthread_cond_destroy(&r->scv);
	free(r);
}

enum tcerr
registry_open(const char *dir, struct registry **out, struct diag *d)
{
	enum tcerr t = TC_OK;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return diag_set(d, TC_EIO, "libsodium could not initialise (no randomness)");
	struct registry *r = calloc(1, sizeof *r);
	if (!r)
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (pthread_mutex_init(&r->mu, NULL)) {
		free(r);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	if (pthread_mutex_init(&r->smu, NULL)) {
		pthread_mutex_destroy(&r->mu);
		free(r);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	if (pthread_cond_init(&r->scv, NULL)) {
		pthread_mutex_destroy(&r->smu);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	int n = snprintf(r->path, sizeof r->path, "%s/%s", dir, REG_FILE);
	if (n < 0 || (size_t)n >= sizeof r->path) {
		t = diag_set(d, TC_ELIMIT, "%s: path too long", dir);
		goto out;
	}
	/* Our mutex serialises every use of the connection. */
	rc = sqlite3_open_v2(r->path, &r->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
	                             SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc) {
		t = diag_set(d, (rc & 0xff) == SQLITE_NOMEM ? TC_ENOMEM : TC_EIO, "%s: %s", r->path,
		             r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(r->db, REG_BUSY_TIMEOUT_MS);
	if ((t = reg_exec(r,
	                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                  " PRAGMA foreign_keys = ON;",
	                  d)))
		goto out;
	int64_t wal = 0;
	rc = reg_int(r->db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode", &wal);
	if (rc || !wal) {
		t = rc ? reg_dberr(r, rc, d)
		       : diag_set(d, TC_EDB, "%s: cannot switch the database to WAL mode", r->path);
		goto out;
	}
	if ((t = reg_exec(r, "BEGIN IMMEDIATE", d)))
		goto out;
	t = reg_migrate(r, d);
	rc = sqlite3_exec(r->db, t ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	if (!t && rc)
		t = reg_dberr(r, rc, d);
	if (t)
		goto out;
	*out = r;
out:
	if (t)
		reg_free(r);
	return t;
}

void
registry_close(struct registry *r)
{
	if (r)
		reg_free(r);
}

/* ---------- organisations ---------- */

/* Checks that s is valid UTF-8 without control characters. */
static bool
reg_printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		int more;
		unsigned cp, min;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		p++;
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
	}
	return true;
}

static enum tcerr
reg_check_org_name(const char *name, struct diag *d)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > REG_ORG_NAME_MAX)
		return diag_set(d, TC_EINVAL, "name: must be 1 to %d bytes", REG_ORG_NAME_MAX);
	if (!reg_printable_utf8(name))
		return diag_set(d, TC_EINVAL, "name: must be printable UTF-8");
	if (name[0] == ' ' || name[len - 1] == ' ')
		return diag_set(d, TC_EINVAL, "name: must not start or end with a space");
	/* ',' separates SPEC terms; '#' starts a "#num" reference */
	if (strchr(name, ','))
		return diag_set(d, TC_EINVAL, "name: must not contain ','");
	if (name[0] == '#')
		return diag_set(d, TC_EINVAL, "name: must not start with '#'");
	return TC_OK;
}

static int
reg_cmp_group(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Validates, lower-cases, sorts and de-duplicates groups into o. */
static enum tcerr
reg_norm_groups(const char *const *groups, size_t ngroups, struct reg_org *o, struct diag *d)
{
	o->ngroups = 0;
	if (ngroups && !groups)
		return diag_set(d, TC_EINVAL, "groups: missing");
	for (size_t i = 0; i < ngroups; i++) {
		char g[REG_GROUP_NAME_MAX + 1];
		enum tcerr rc = reg__group_norm(groups[i] ? groups[i] : "", g, d);
		if (rc) {
			diag_prefix(d, "groups[%zu]", i);
			return rc;
		}
		bool dup = false;
		for (size_t j = 0; j < o->ngroups && !dup; j++)
			dup = strcmp(o->groups[j], g) == 0;
		if (dup)
			continue;
		if (o->ngroups == REG_GROUPS_MAX)
			return diag_set(d, TC_ELIMIT, "groups: more than %d", REG_GROUPS_MAX);
		memcpy(o->groups[o->ngroups++], g, sizeof g);
	}
	qsort(o->groups, o->ngroups, sizeof o->groups[0], reg_cmp_group);
	return TC_OK;
}

static enum tcerr
reg_identity(const char *name, char out[STIX_ID_MAX])
{
	char lower[REG_ORG_NAME_MAX + 1];
	size_t len = strlen(name);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	char uuid[UUID_TEXT_MAX];
	enum tcerr rc = uuid_v5(REG_ORG_NAMESPACE, slice_make(lower, len), uuid);
	if (rc)
		return rc;
	int n = snprintf(out, STIX_ID_MAX, "identity--%s", uuid);
	return n < 0 || n >= STIX_ID_MAX ? TC_EINTERNAL : TC_OK;
}

static enum tcerr
reg_insert_groups(struct registry *r, const struct reg_org *o, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = reg_prepare(r, "INSERT INTO org_groups(org, grp) VALUES(?, ?)", &st, d);
	for (size_t i = 0; !rc && i < o->ngroups; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, o->num);
		sqlite3_bind_text(st, 2, o->groups[i], -1, SQLITE_STATIC);
		rc = reg_step_done(r, st, d);
	}
	sqlite3_finalize(st);
	return rc;
}

#define REG_ORG_COLS "num, name, sector, country, identity, created_us, deleted_us, updated_us"

static void
reg_org_row(sqlite3_stmt *st, struct reg_org *o)
{
	memset(o, 0, sizeof *o);
	o->num = sqlite3_column_int64(st, 0);
	reg_col_text(st, 1, o->name, sizeof o->name);
	o->sector = (enum reg_sector)sqlite3_column_int(st, 2);
	reg_col_text(st, 3, o->country, sizeof o->country);
	reg_col_text(st, 4, o->identity, sizeof o->identity);
	o->created_us = sqlite3_column_int64(st, 5);
	o->deleted_us = sqlite3_column_int64(st, 6);
	o->updated_us = sqlite3_column_int64(st, 7);
}

/* Fills the groups of o. */
static enum tcerr
reg_load_groups(struct registry *r, struct reg_org *o, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = reg_prepare(r, "SELECT grp FROM org_groups WHERE org = ? ORDER BY grp",
	                            &st, d);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, o->num);
	int s;
	o->ngroups = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && o->ngroups < REG_GROUPS_MAX)
		reg_col_text(st, 0, o->groups[o->ngroups++], sizeof o->groups[0]);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	return rc;
}

/* Finds an organisation by name (any case) or "#num"; lock held. */
static enum tcerr
reg_org_find_locked(struct registry *r, const char *name, struct reg_org *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (!name)
		return TC_ENOTFOUND;
	if (name[0] == '#') {
		char *end;
		long long num = strtoll(name + 1, &end, 10);
		if (end == name + 1 || *end)
			return TC_ENOTFOUND;
		rc = reg_prepare(r, "SELECT " REG_ORG_COLS " FROM orgs WHERE num = ?", &st, d);
		if (rc)
			return rc;
		sqlite3_bind_int64(st, 1, num);
	} else {
		rc = reg_prepare(r, "SELECT " REG_ORG_COLS " FROM orgs WHERE name = ?", &st, d);
		if (rc)
			return rc;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	}
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		reg_org_row(st, out);
	else
		rc = s == SQLITE_DONE ? TC_ENOTFOUND : reg_dberr(r, s, d);
	sqlite3_finalize(st);
	if (!rc)
		rc = reg_load_groups(r, out, d);
	return rc;
}

/* Runs body's statements in one IMMEDIATE transaction: commits when rc is
 * TC_OK, else rolls back. Returns the first error. */
static enum tcerr
reg_end_tx(struct registry *r, enum tcerr rc, struct diag *d)
{
	if (rc) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return reg_exec(r, "COMMIT", d);
}

/* TC_OK if no organisation holds identity; else TC_EEXIST saying whose
 * (a name an organisation had before a rename keeps its identity, so it
 * cannot be given to another organisation). Lock held. */
static enum tcerr
reg_identity_free_locked(struct registry *r, const char *identity, const char *name,
                         struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc = reg_prepare(r, "SELECT name, deleted_us FROM orgs WHERE identity = ?", &st,
	                            d);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, identity, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = diag_set(d, TC_EEXIST,
		              "name '%s' is reserved: it was a name of organisation '%s'%s, whose "
		              "identity %s it derives",
		              name, (const char *)sqlite3_column_text(st, 0),
		              sqlite3_column_int64(st, 1) ? " (deleted)" : "", identity);
	else if (s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	return rc;
}

enum tcerr
registry_org_add(struct registry *r, const char *name, enum reg_sector sector,
                 const char *country, const char *const *groups, size_t ngroups,
                 struct reg_org *out, struct diag *d)
{
	struct reg_org *o = calloc(1, sizeof *o), *tmp = calloc(1, sizeof *tmp);
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if (!o || !tmp) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = reg_check_org_name(name, d)))
		goto out;
	if (!reg_sector_name(sector)) {
		rc = diag_set(d, TC_EINVAL, "sector: out of range");
		goto out;
	}
	if ((rc = reg_country_check(country, d)))
		goto out;
	if ((rc = reg_norm_groups(groups, ngroups, o, d)))
		goto out;
	memcpy(o->name, name, strlen(name) + 1);
	o->sector = sector;
	o->country[0] = (char)(country[0] & ~0x20);
	o->country[1] = (char)(country[1] & ~0x20);
	o->created_us = ts_now_us();
	if ((rc = reg_identity(name, o->identity))) {
		diag_set(d, rc, "name: cannot derive an identity");
		goto out;
	}

	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_org_find_locked(r, name, tmp, d);
		if (rc == TC_OK)
			rc = diag_set(d, TC_EEXIST, "organisation '%s' already exists (as '%s')%s", name,
			              tmp->name,
			              tmp->deleted_us ? ", deleted: its name and identity stay reserved"
			                              : "");
		else if (rc == TC_ENOTFOUND)
			rc = reg_identity_free_locked(r, o->identity, name, d);
		if (!rc)
			rc = reg_prepare(r,
			                 "INSERT INTO orgs(name, sector, country, identity, created_us)"
			                 " VALUES(?, ?, ?, ?, ?)",
			                 &st, d);
		if (!rc) {
			sqlite3_bind_text(st, 1, o->name, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, (int)o->sector);
			sqlite3_bind_text(st, 3, o->country, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, o->identity, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, o->created_us);
			rc = reg_step_done(r, st, d);
			o->num = sqlite3_last_insert_rowid(r->db);
		}
		if (!rc)
			rc = reg_insert_groups(r, o, d);
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
	if (!rc && out)
		*out = *o;
out:
	sqlite3_finalize(st);
	free(o);
	free(tmp);
	return rc;
}

enum tcerr
registry_org_set_groups(struct registry *r, const char *name, const char *const *groups,
                        size_t ngroups, struct diag *d)
{
	struct reg_org *o = calloc(1, sizeof *o), *norm = calloc(1, sizeof *norm);
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if (!o || !norm) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = reg_norm_groups(groups, ngroups, norm, d)))
		goto out;
	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_org_find_locked(r, name, o, d);
		if (rc == TC_ENOTFOUND)
			rc = diag_set(d, TC_ENOTFOUND, "no organisation '%s'", name ? name : "");
		if (!rc && o->deleted_us)
			rc = diag_set(d, TC_EINVAL, "organisation '%s' was deleted", o->name);
		if (!rc)
			rc = reg_prepare(r, "DELETE FROM org_groups WHERE org = ?", &st, d);
		if (!rc) {
			sqlite3_bind_int64(st, 1, o->num);
			rc = reg_step_done(r, st, d);
		}
		if (!rc) {
			norm->num = o->num;
			rc = reg_insert_groups(r, norm, d);
		}
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
out:
	sqlite3_finalize(st);
	free(o);
	free(norm);
	return rc;
}

enum tcerr
registry_org_find(struct registry *r, const char *name, struct reg_org *out)
{
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_org_find_locked(r, name, out, NULL);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* Loads every organisation with its groups, in num order; lock held. */
static enum tcerr
reg_load_orgs(struct registry *r, struct reg_org **out, size_t *n, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	struct reg_org *v = NULL;
	size_t len = 0, cap = 0;
	enum tcerr rc = reg_prepare(r, "SELECT " REG_ORG_COLS " FROM orgs ORDER BY num", &st, d);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = v;
		if ((rc = reg_grow(&grown, &cap, len, sizeof *v, d)))
			break;
		v = grown;
		reg_org_row(st, &v[len++]);
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	for (size_t i = 0; !rc && i < len; i++)
		rc = reg_load_groups(r, &v[i], d);
	if (rc) {
		free(v);
		v = NULL;
		len = 0;
	}
	*out = v;
	*n = len;
	return rc;
}

enum tcerr
registry_org_list(struct registry *r, enum tcerr (*cb)(void *ctx, const struct reg_org *o),
                  void *ctx)
{
	struct reg_org *v = NULL;
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_exec(r, "BEGIN", NULL);
	if (!rc) {
		rc = reg_load_orgs(r, &v, &n, NULL);
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(ctx, &v[i]);
	free(v);
	return rc;
}

/* Rewrites, in the rights rows, every term that names organisation num
 * to name it newname; lock and transaction held. OUT: *changed. */
static enum tcerr
reg_rename_in_rights(struct registry *r, int64_t num, const char *newname, size_t *changed,
                     struct diag *d)
{
	struct reg_org *orgs = NULL;
	size_t norgs = 0;
	struct reg__loaded l = { 0 };
	sqlite3_stmt *st = NULL;
	struct buf rd, wr;
	buf_init(&rd, REG_SPEC_MAX + REG_SPEC_TERMS_MAX * (REG_ORG_NAME_MAX + 8));
	buf_init(&wr, REG_SPEC_MAX + REG_SPEC_TERMS_MAX * (REG_ORG_NAME_MAX + 8));
	*changed = 0;
	enum tcerr rc = reg_load_orgs(r, &orgs, &norgs, d);
	if (!rc)
		rc = reg_load_rights(r, &l, d);
	if (!rc)
		rc = reg_prepare(r, "UPDATE rights SET read_spec = ?, write_spec = ?, updated_us = ?"
		                    " WHERE collection = ?",
		                 &st, d);
	for (size_t i = 0; !rc && i < l.nrights; i++) {
		bool c1 = false, c2 = false;
		buf_clear(&rd);
		buf_clear(&wr);
		rc = reg__spec_rename(l.rights[i].read, orgs, norgs, num, newname, &rd, &c1, d);
		if (!rc)
			rc = reg__spec_rename(l.rights[i].write, orgs, norgs, num, newname, &wr, &c2, d);
		if (rc || !(c1 || c2))
			continue;
		const char *nr = c1 ? rd.p : l.rights[i].read, *nw = c2 ? wr.p : l.rights[i].write;
		if (strlen(nr) > REG_SPEC_MAX || strlen(nw) > REG_SPEC_MAX) {
			rc = diag_set(d, TC_ELIMIT,
			              "collection %s: its rights would grow beyond %d bytes",
			              l.rights[i].collection, REG_SPEC_MAX);
			break;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, nr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, nw, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, ts_now_us());
		sqlite3_bind_text(st, 4, l.rights[i].collection, -1, SQLITE_STATIC);
		if (!(rc = reg_step_done(r, st, d)))
			(*changed)++;
	}
	sqlite3_finalize(st);
	buf_reset(&rd);
	buf_reset(&wr);
	free(orgs);
	reg__loaded_free(&l);
	return rc;
}

enum tcerr
registry_org_rename(struct registry *r, const char *name, const char *newname,
                    struct reg_org *out, size_t *nrights, struct diag *d)
{
	struct reg_org *o = calloc(1, sizeof *o), *other = calloc(1, sizeof *other);
	sqlite3_stmt *st = NULL;
	size_t changed = 0;
	enum tcerr rc;

	if (!o || !other) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = reg_check_org_name(newname, d)))
		goto out;
	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_org_find_locked(r, name, o, d);
		if (rc == TC_ENOTFOUND)
			rc = diag_set(d, TC_ENOTFOUND, "no organisation '%s'", name ? name : "");
		if (!rc && o->deleted_us)
			rc = diag_set(d, TC_EINVAL, "organisation '%s' was deleted", o->name);
		if (!rc) {
			enum tcerr f = reg_org_find_locked(r, newname, other, d);
			if (f == TC_OK && other->num != o->num)
				rc = diag_set(d, TC_EEXIST, "organisation '%s' already exists (as '%s')%s",
				              newname, other->name,
				              other->deleted_us ? ", deleted: its name stays reserved"
				                                : "");
			else if (f != TC_OK && f != TC_ENOTFOUND)
				rc = f;
		}
		/* rights name organisations by name: they follow the rename
		 * (resolved against the names before it) */
		if (!rc)
			rc = reg_rename_in_rights(r, o->num, newname, &changed, d);
		if (!rc)
			rc = reg_prepare(r, "UPDATE orgs SET name = ?, updated_us = ? WHERE num = ?", &st,
			                 d);
		if (!rc) {
			o->updated_us = ts_now_us();
			sqlite3_bind_text(st, 1, newname, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, o->updated_us);
			sqlite3_bind_int64(st, 3, o->num);
			rc = reg_step_done(r, st, d);
		}
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
	if (!rc) {
		memcpy(o->name, newname, strlen(newname) + 1);
		if (out)
			*out = *o;
		if (nrights)
			*nrights = changed;
	}
out:
	sqlite3_finalize(st);
	free(o);
	free(other);
	return rc;
}

enum tcerr
registry_org_delete(struct registry *r, const char *name, struct reg_org *out, size_t *nrevoked,
                    struct diag *d)
{
	struct reg_org *o = calloc(1, sizeof *o);
	sqlite3_stmt *st = NULL;
	size_t revoked = 0;
	enum tcerr rc;

	if (!o)
		return diag_set(d, TC_ENOMEM, "out of memory");
	int64_t now = ts_now_us();
	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_org_find_locked(r, name, o, d);
		if (rc == TC_ENOTFOUND)
			rc = diag_set(d, TC_ENOTFOUND, "no organisation '%s'", name ? name : "");
		if (!rc && o->deleted_us)
			rc = diag_set(d, TC_EINVAL, "organisation '%s' was already deleted", o->name);
		if (!rc)
			rc = reg_prepare(r, "UPDATE principals SET revoked_us = ? WHERE org = ?"
			                    " AND revoked_us = 0",
			                 &st, d);
		if (!rc) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_int64(st, 2, o->num);
			rc = reg_step_done(r, st, d);
			revoked = (size_t)sqlite3_changes(r->db);
		}
		sqlite3_finalize(st);
		st = NULL;
		if (!rc)
			rc = reg_prepare(r, "UPDATE orgs SET deleted_us = ? WHERE num = ?", &st, d);
		if (!rc) {
			sqlite3_bind_int64(st, 1, now);
			sqlite3_bind_int64(st, 2, o->num);
			rc = reg_step_done(r, st, d);
		}
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
	if (!rc) {
		o->deleted_us = now;
		if (out)
			*out = *o;
		if (nrevoked)
			*nrevoked = revoked;
	}
	sqlite3_finalize(st);
	free(o);
	return rc;
}

/* ---------- principals ---------- */

/* "k" + 11 lower-case base32 characters. */
static void
reg_new_key_id(char out[REG_KEY_ID_LEN + 1])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	out[0] = 'k';
	for (int i = 1; i < REG_KEY_ID_LEN; i++)
		out[i] = b32[randombytes_uniform(32)];
	out[REG_KEY_ID_LEN] = '\0';
}

/* Writes "tcs_<id>_<secret>" from 256 fresh random bits. */
static enum tcerr
reg_new_key_text(const char *key_id, char text[REG_KEY_TEXT_MAX + 1])
{
	uint8_t secret[REG_SECRET_BYTES];
	char b64[sodium_base64_ENCODED_LEN(REG_SECRET_BYTES,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	randombytes_buf(secret, sizeof secret);
	sodium_bin2base64(b64, sizeof b64, secret, sizeof secret,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	int n = snprintf(text, REG_KEY_TEXT_MAX + 1, REG_KEY_PREFIX "%s_%s", key_id, b64);
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(b64, sizeof b64);
	if (n < 0 || n > REG_KEY_TEXT_MAX) {
		explicit_bzero(text, REG_KEY_TEXT_MAX + 1);
		return TC_EINTERNAL;
	}
	return TC_OK;
}

static enum tcerr
reg_check_key_name(const char *name, struct diag *d)
{
	if (strlen(name) > REG_KEY_NAME_MAX)
		return diag_set(d, TC_EINVAL, "name: longer than %d bytes", REG_KEY_NAME_MAX);
	if (!reg_printable_utf8(name))
		return diag_set(d, TC_EINVAL, "name: must be printable UTF-8");
	return TC_OK;
}

enum tcerr
registry_key_create(struct registry *r, const char *org, enum reg_role role, const char *name,
                    const uint8_t *cert_sha256, char *key_text, struct reg_principal *out,
                    struct diag *d)
{
	return registry_key_create_expiring(r, org, role, name, cert_sha256, 0, key_text, out, d);
}

enum tcerr
registry_key_create_expiring(struct registry *r, const char *org, enum reg_role role,
                             const char *name, const uint8_t *cert_sha256, int64_t expires_us,
                             char *key_text, struct reg_principal *out, struct diag *d)
{
	struct reg_org *o = calloc(1, sizeof *o);
	struct reg_principal p = { 0 };
	uint8_t hash[REG__HASH_LEN];
	char text[REG_KEY_TEXT_MAX + 1] = "";
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	bool locked = false, tx = false;

	if (key_text)
		key_text[0] = '\0';
	if (!o) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if (!reg_role_name(role)) {
		rc = diag_set(d, TC_EINVAL, "role: out of range");
		goto out;
	}
	if (!name)
		name = "";
	if ((rc = reg_check_key_name(name, d)))
		goto out;
	if (!cert_sha256 && !key_text) {
		rc = diag_set(d, TC_EINVAL, "key_text: missing");
		goto out;
	}
	p.role = role;
	p.cred = cert_sha256 ? REG_CRED_CERT : REG_CRED_KEY;
	memcpy(p.name, name, strlen(name) + 1);
	p.created_us = ts_now_us();
	if (expires_us < 0 || (expires_us && expires_us <= p.created_us)) {
		rc = diag_set(d, TC_EINVAL, "expires: must be in the future");
		goto out;
	}
	p.expires_us = expires_us;

	pthread_mutex_lock(&r->mu);
	locked = true;
	if ((rc = reg_exec(r, "BEGIN IMMEDIATE", d)))
		goto out;
	tx = true;
	rc = reg_org_find_locked(r, org, o, d);
	if (rc == TC_ENOTFOUND)
		rc = diag_set(d, TC_ENOTFOUND, "no organisation '%s'", org ? org : "");
	if (!rc && o->deleted_us)
		rc = diag_set(d, TC_EINVAL, "organisation '%s' was deleted: it gets no keys", o->name);
	if (rc)
		goto out;
	p.org = o->num;
	if (cert_sha256) {
		memcpy(hash, cert_sha256, sizeof hash);
		if ((rc = reg_prepare(r,
		                      "SELECT key_id FROM principals WHERE hash = ? AND cred = ?"
		                      " AND revoked_us = 0",
		                      &st, d)))
			goto out;
		sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, REG_CRED_CERT);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			rc = diag_set(d, TC_EEXIST, "certificate already mapped to key %s",
			              (const char *)sqlite3_column_text(st, 0));
		else if (s != SQLITE_DONE)
			rc = reg_dberr(r, s, d);
		sqlite3_finalize(st);
		st = NULL;
		if (rc)
			goto out;
	}
	if ((rc = reg_prepare(r,
	                      "INSERT INTO principals(key_id, hash, org, role, cred, name,"
	                      " created_us, expires_us) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
	                      &st, d)))
		goto out;
	for (int tries = 0;; tries++) {
		reg_new_key_id(p.key_id);
		if (!cert_sha256) {
			if ((rc = reg_new_key_text(p.key_id, text))) {
				diag_set(d, rc, "key text too long");
				goto out;
			}
			crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, p.key_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, hash, sizeof hash, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, p.org);
		sqlite3_bind_int(st, 4, (int)p.role);
		sqlite3_bind_int(st, 5, (int)p.cred);
		sqlite3_bind_text(st, 6, p.name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, p.created_us);
		sqlite3_bind_int64(st, 8, p.expires_us);
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_CONSTRAINT_UNIQUE || tries + 1 == REG_KEY_ID_TRIES) {
			rc = reg_dberr(r, s, d);
			goto out;
		}
		/* a key id collided (1 in 2^55 per pair): draw another */
	}
	p.num = sqlite3_last_insert_rowid(r->db);
	sqlite3_finalize(st);
	st = NULL;
	tx = false;
	if ((rc = reg_exec(r, "COMMIT", d))) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	if (key_text)
		memcpy(key_text, text, strlen(text) + 1);
	if (out)
		*out = p;
out:
	sqlite3_finalize(st);
	if (tx)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	if (locked)
		pthread_mutex_unlock(&r->mu);
	explicit_bzero(text, sizeof text);
	explicit_bzero(hash, sizeof hash);
	if (rc && key_text)
		key_text[0] = '\0';
	free(o);
	return rc;
}

enum tcerr
registry_key_revoke(struct registry *r, const char *key_id, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	pthread_mutex_lock(&r->mu);
	rc = reg_prepare(r,
	                 "UPDATE principals SET revoked_us = CASE WHEN revoked_us = 0 THEN ?"
	                 " ELSE revoked_us END WHERE key_id = ?",
	                 &st, d);
	if (!rc) {
		sqlite3_bind_int64(st, 1, ts_now_us());
		sqlite3_bind_text(st, 2, key_id ? key_id : "", -1, SQLITE_STATIC);
		rc = reg_step_done(r, st, d);
	}
	if (!rc && sqlite3_changes(r->db) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "no key '%s'", key_id ? key_id : "");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

#define REG_PRINCIPAL_COLS \
	"num, key_id, org, role, cred, name, created_us, revoked_us, hash, expires_us"

static void
reg_principal_row(sqlite3_stmt *st, struct reg__principal *out)
{
	struct reg_principal *p = &out->p;
	memset(out, 0, sizeof *out);
	p->num = sqlite3_column_int64(st, 0);
	reg_col_text(st, 1, p->key_id, sizeof p->key_id);
	p->org = sqlite3_column_int64(st, 2);
	p->role = (enum reg_role)sqlite3_column_int(st, 3);
	p->cred = (enum reg_cred)sqlite3_column_int(st, 4);
	reg_col_text(st, 5, p->name, sizeof p->name);
	p->created_us = sqlite3_column_int64(st, 6);
	p->revoked_us = sqlite3_column_int64(st, 7);
	p->expires_us = sqlite3_column_int64(st, 9);
	const void *h = sqlite3_column_blob(st, 8);
	if (h && sqlite3_column_bytes(st, 8) == REG__HASH_LEN)
		memcpy(out->hash, h, REG__HASH_LEN);
}

/* Loads principals in num order (only active ones when active_only); lock held. */
static enum tcerr
reg_load_principals(struct registry *r, bool active_only, struct reg__principal **out,
                    size_t *n, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	struct reg__principal *v = NULL;
	size_t len = 0, cap = 0;
	enum tcerr rc = reg_prepare(r,
	                            active_only ? "SELECT " REG_PRINCIPAL_COLS " FROM principals"
	                                          " WHERE revoked_us = 0 ORDER BY num"
	                                        : "SELECT " REG_PRINCIPAL_COLS " FROM principals"
	                                          " ORDER BY num",
	                            &st, d);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = v;
		if ((rc = reg_grow(&grown, &cap, len, sizeof *v, d)))
			break;
		v = grown;
		reg_principal_row(st, &v[len++]);
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	if (rc) {
		if (v)
			explicit_bzero(v, len * sizeof *v);
		free(v);
		v = NULL;
		len = 0;
	}
	*out = v;
	*n = len;
	return rc;
}

enum tcerr
registry_key_list(struct registry *r, enum tcerr (*cb)(void *ctx, const struct reg_principal *p),
                  void *ctx)
{
	struct reg__principal *v = NULL;
	size_t n = 0;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_load_principals(r, false, &v, &n, NULL);
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(ctx, &v[i].p);
	if (v)
		explicit_bzero(v, n * sizeof *v);
	free(v);
	return rc;
}

/* ---------- rights ---------- */

/* Checks a UUID's text form and writes it lower-cased. */
static bool
reg_uuid_norm(const char *s, char out[37])
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else {
			return false;
		}
		out[i] = c;
	}
	out[36] = '\0';
	return true;
}

/* Compiles spec against the organisations to check it; lock held. */
static enum tcerr
reg_check_spec_locked(struct registry *r, const char *what, const char *spec, struct diag *d)
{
	struct reg_org *orgs = NULL;
	size_t norgs = 0;
	struct reg_spec s;
	size_t bad;
	/* stored specs are printed by `collection list`: printable text only */
	if (spec && !text_printable(slice_from_cstr(spec), &bad)) {
		diag_set(d, TC_EINVAL, "a control character or invalid UTF-8 at byte %zu", bad);
		if (what)
			diag_prefix(d, "%s", what);
		return TC_EINVAL;
	}
	enum tcerr rc = reg_load_orgs(r, &orgs, &norgs, d);
	if (!rc) {
		/* a deleted organisation is no name to grant rights to */
		size_t k = 0;
		for (size_t i = 0; i < norgs; i++)
			if (!orgs[i].deleted_us)
				orgs[k++] = orgs[i];
		norgs = k;
		rc = reg__spec_compile(spec ? spec : "", orgs, norgs, true, &s, d);
		if (rc && what)
			diag_prefix(d, "%s", what);
		else
			reg__spec_free(&s);
	}
	free(orgs);
	return rc;
}

enum tcerr
registry_spec_check(struct registry *r, const char *spec, struct diag *d)
{
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_check_spec_locked(r, NULL, spec, d);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_rights_set(struct registry *r, const char *collection, const char *read_spec,
                    const char *write_spec, struct diag *d)
{
	char id[37];
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (!reg_uuid_norm(collection, id))
		return diag_set(d, TC_EINVAL, "collection '%s': not a UUID",
		                collection ? collection : "");
	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_check_spec_locked(r, "read", read_spec, d);
		if (!rc)
			rc = reg_check_spec_locked(r, "write", write_spec, d);
		if (!rc)
			rc = reg_prepare(r,
			                 "INSERT INTO rights(collection, read_spec, write_spec,"
			                 " updated_us) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(collection)"
			                 " DO UPDATE SET read_spec = ?2, write_spec = ?3,"
			                 " updated_us = ?4",
			                 &st, d);
		if (!rc) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, read_spec, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, write_spec, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, ts_now_us());
			rc = reg_step_done(r, st, d);
		}
		sqlite3_finalize(st);
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_rights_get(struct registry *r, const char *collection, struct buf *read_spec,
                    struct buf *write_spec)
{
	char id[37];
	sqlite3_stmt *st = NULL;
	if (!reg_uuid_norm(collection, id))
		return TC_ENOTFOUND;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(
		r, "SELECT read_spec, write_spec FROM rights WHERE collection = ?", &st, NULL);
	if (!rc) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			buf_append_cstr(read_spec, (const char *)sqlite3_column_text(st, 0));
			buf_append_cstr(write_spec, (const char *)sqlite3_column_text(st, 1));
			rc = buf_error(read_spec) ? buf_error(read_spec) : buf_error(write_spec);
		} else {
			rc = s == SQLITE_DONE ? TC_ENOTFOUND : reg_dberr(r, s, NULL);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---------- API roots ---------- */

enum tcerr
reg_api_root_name_check(const char *name, struct diag *d)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > REG_API_ROOT_NAME_MAX)
		return diag_set(d, TC_EINVAL, "API root '%s': a name has 1..%d characters",
		                name ? name : "", REG_API_ROOT_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          (i > 0 && (c == '-' || c == '_'));
		if (!ok)
			return diag_set(d, TC_EINVAL,
			                "API root '%s': use lower-case letters, digits, '-' and '_' "
			                "(starting with a letter or digit)",
			                name);
	}
	return TC_OK;
}

enum tcerr
registry_api_root_ensure(struct registry *r, const struct reg_api_root *root, bool *created,
                         struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if (created)
		*created = false;
	if ((rc = reg_api_root_name_check(root->name, d)))
		return rc;
	if (root->max_content_length > INT64_MAX)
		return diag_set(d, TC_ELIMIT, "API root '%s': max_content_length too large",
		                root->name);
	pthread_mutex_lock(&r->mu);
	rc = reg_prepare(r,
	                 "INSERT INTO api_roots(name, title, description, max_content_length,"
	                 " created_us) VALUES(?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
	                 &st, d);
	if (!rc) {
		sqlite3_bind_text(st, 1, root->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, root->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, root->description, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)root->max_content_length);
		sqlite3_bind_int64(st, 5, ts_now_us());
		rc = reg_step_done(r, st, d);
		if (!rc && created)
			*created = sqlite3_changes(r->db) > 0;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_collection_root_set(struct registry *r, const char *collection, const char *root,
                             struct diag *d)
{
	char id[37];
	sqlite3_stmt *st = NULL;
	enum tcerr rc;

	if (!reg_uuid_norm(collection, id))
		return diag_set(d, TC_EINVAL, "collection '%s': not a UUID",
		                collection ? collection : "");
	if ((rc = reg_api_root_name_check(root, d)))
		return rc;
	pthread_mutex_lock(&r->mu);
	rc = reg_prepare(r,
	                 "INSERT INTO collection_roots(collection, api_root) VALUES(?1, ?2)"
	                 " ON CONFLICT(collection) DO UPDATE SET api_root = ?2",
	                 &st, d);
	if (!rc) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, root, -1, SQLITE_STATIC);
		rc = reg_step_done(r, st, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_collection_root_get(struct registry *r, const char *collection,
                             char out[REG_API_ROOT_NAME_MAX + 1])
{
	char id[37];
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (!reg_uuid_norm(collection, id))
		return TC_OK;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(
		r, "SELECT api_root FROM collection_roots WHERE collection = ?", &st, NULL);
	if (!rc) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			reg_col_text(st, 0, out, REG_API_ROOT_NAME_MAX + 1);
		else if (s != SQLITE_DONE)
			rc = reg_dberr(r, s, NULL);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---------- status resources ---------- */

/* Writes the puts of list in one transaction (r->mu held), setting each
 * one's rc and d. */
static void
status_commit(struct registry *r, struct status_put *list)
{
	sqlite3_stmt *st = NULL;
	struct diag d;
	enum tcerr rc = reg_exec(r, "BEGIN IMMEDIATE", &d);
	if (!rc)
		rc = reg_prepare(r,
		                 "INSERT OR REPLACE INTO statuses(id, created_us, json)"
		                 " VALUES(?, ?, ?)",
		                 &st, &d);
	for (struct status_put *p = list; !rc && p; p = p->next) {
		sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, p->created_us);
		sqlite3_bind_blob64(st, 3, p->json ? p->json : "", (sqlite3_uint64)p->len,
		                    SQLITE_STATIC);
		p->rc = reg_step_done(r, st, &p->d);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	if (!rc)
		rc = reg_exec(r, "COMMIT", &d);
	if (rc) {
		reg_exec(r, "ROLLBACK", NULL);
		for (struct status_put *p = list; p; p = p->next) {
			p->rc = rc;
			p->d = d;
		}
	}
}

enum tcerr
registry_status_put(struct registry *r, const char *id, int64_t created_us, const char *json,
                    size_t len, struct diag *d)
{
	struct status_put me = {.id = id, .created_us = created_us, .json = json, .len = len};

	if (!id || !id[0])
		return diag_set(d, TC_EINVAL, "status id: empty");
	if (!json && len)
		return diag_set(d, TC_EINVAL, "status %s: no JSON text", id);
	if (len > REG_STATUS_MAX)
		return diag_set(d, TC_ELIMIT, "status %s: larger than %d bytes", id, REG_STATUS_MAX);
	diag_clear(&me.d);
	pthread_mutex_lock(&r->smu);
	if (r->sq_tail)
		r->sq_tail->next = &me;
	else
		r->sq_head = &me;
	r->sq_tail = &me;
	while (!me.done) {
		if (r->s_committing) {
			/* the leader's transaction may already hold us */
			pthread_cond_wait(&r->scv, &r->smu);
			continue;
		}
		/* lead: everything queued so far goes in one transaction */
		struct status_put *list = r->sq_head;
		r->sq_head = r->sq_tail = NULL;
		r->s_committing = true;
		pthread_mutex_unlock(&r->smu);
		pthread_mutex_lock(&r->mu);
		status_commit(r, list);
		pthread_mutex_unlock(&r->mu);
		pthread_mutex_lock(&r->smu);
		for (struct status_put *p = list, *nx; p; p = nx) {
			nx = p->next; /* p belongs to its caller again once done */
			p->done = true;
		}
		r->s_committing = false;
		pthread_cond_broadcast(&r->scv);
	}
	pthread_mutex_unlock(&r->smu);
	if (me.rc && d)
		*d = me.d;
	return me.rc;
}

enum tcerr
registry_status_get(struct registry *r, const char *id, int64_t now_us, struct buf *out)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(r, "SELECT created_us, json FROM statuses WHERE id = ?", &st,
	                            NULL);
	if (!rc) {
		sqlite3_bind_text(st, 1, id ? id : "", -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			if (sqlite3_column_int64(st, 0) < now_us - REG_STATUS_KEEP_US) {
				rc = TC_ENOTFOUND; /* expired, not yet purged */
			} else {
				const void *p = sqlite3_column_blob(st, 1);
				buf_append(out, p ? p : "", (size_t)sqlite3_column_bytes(st, 1));
				rc = buf_error(out);
			}
		} else {
			rc = s == SQLITE_DONE ? TC_ENOTFOUND : reg_dberr(r, s, NULL);
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_status_purge(struct registry *r, int64_t now_us, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(r, "DELETE FROM statuses WHERE created_us < ?", &st, d);
	if (!rc) {
		sqlite3_bind_int64(st, 1, now_us - REG_STATUS_KEEP_US);
		rc = reg_step_done(r, st, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(r, "SELECT n FROM generation", &st, d);
	if (!rc) {
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			*out = (uint64_t)sqlite3_column_int64(st, 0);
		else
			rc = reg_dberr(r, s == SQLITE_DONE ? SQLITE_CORRUPT : s, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_touch(struct registry *r, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(r, "UPDATE generation SET n = n + 1", &st, d);
	if (!rc)
		rc = reg_step_done(r, st, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---------- deleted collections ---------- */

enum tcerr
registry_collection_deleted_add(struct registry *r, const char *collection, const char *alias,
                                struct diag *d)
{
	char u[37];
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (!reg_uuid_norm(collection, u))
		return diag_set(d, TC_EINVAL, "collection '%s': not a UUID",
		                collection ? collection : "");
	pthread_mutex_lock(&r->mu);
	if (!(rc = reg_exec(r, "BEGIN IMMEDIATE", d))) {
		rc = reg_prepare(r, "INSERT OR REPLACE INTO deleted_collections(collection, alias,"
		                    " deleted_us) VALUES(?, ?, ?)",
		                 &st, d);
		if (!rc) {
			sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, alias ? alias : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, ts_now_us());
			rc = reg_step_done(r, st, d);
		}
		sqlite3_finalize(st);
		st = NULL;
		static const char *const drop[] = {
			"DELETE FROM rights WHERE collection = ?",
			"DELETE FROM collection_roots WHERE collection = ?",
		};
		for (size_t i = 0; !rc && i < sizeof drop / sizeof drop[0]; i++) {
			rc = reg_prepare(r, drop[i], &st, d);
			if (!rc) {
				sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
				rc = reg_step_done(r, st, d);
			}
			sqlite3_finalize(st);
			st = NULL;
		}
		rc = reg_end_tx(r, rc, d);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum tcerr
registry_collection_deleted(struct registry *r, const char *collection, bool *out,
                            struct diag *d)
{
	char u[37];
	sqlite3_stmt *st = NULL;
	*out = false;
	if (!reg_uuid_norm(collection, u))
		return TC_OK;
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_prepare(r, "SELECT 1 FROM deleted_collections WHERE collection = ?",
	                            &st, d);
	if (!rc) {
		sqlite3_bind_text(st, 1, u, -1, SQLITE_STATIC);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			*out = true;
		else if (s != SQLITE_DONE)
			rc = reg_dberr(r, s, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---------- what a snapshot reads ---------- */

void
reg__loaded_free(struct reg__loaded *l)
{
	free(l->orgs);
	if (l->prs)
		explicit_bzero(l->prs, l->nprs * sizeof *l->prs);
	free(l->prs);
	for (size_t i = 0; i < l->nrights; i++) {
		free(l->rights[i].read);
		free(l->rights[i].write);
	}
	free(l->rights);
	free(l->roots);
	free(l->croots);
	free(l->deleted_colls);
	memset(l, 0, sizeof *l);
}

static enum tcerr
reg_load_roots(struct registry *r, struct reg__loaded *l, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	enum tcerr rc = reg_prepare(r,
	                            "SELECT name, title, description, max_content_length"
	                            " FROM api_roots ORDER BY created_us, name",
	                            &st, d);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = l->roots;
		if ((rc = reg_grow(&grown, &cap, l->nroots, sizeof *l->roots, d)))
			break;
		l->roots = grown;
		struct reg_api_root *x = &l->roots[l->nroots++];
		reg_col_text(st, 0, x->name, sizeof x->name);
		reg_col_text(st, 1, x->title, sizeof x->title);
		reg_col_text(st, 2, x->description, sizeof x->description);
		int64_t m = sqlite3_column_int64(st, 3);
		x->max_content_length = m > 0 ? (uint64_t)m : 0;
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	cap = 0;
	rc = reg_prepare(r, "SELECT collection, api_root FROM collection_roots", &st, d);
	s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = l->croots;
		if ((rc = reg_grow(&grown, &cap, l->ncroots, sizeof *l->croots, d)))
			break;
		l->croots = grown;
		struct reg__croot *x = &l->croots[l->ncroots++];
		reg_col_text(st, 0, x->collection, sizeof x->collection);
		reg_col_text(st, 1, x->api_root, sizeof x->api_root);
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	return rc;
}

static enum tcerr
reg_load_rights(struct registry *r, struct reg__loaded *l, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	enum tcerr rc = reg_prepare(r, "SELECT collection, read_spec, write_spec FROM rights",
	                            &st, d);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = l->rights;
		if ((rc = reg_grow(&grown, &cap, l->nrights, sizeof *l->rights, d)))
			break;
		l->rights = grown;
		struct reg__rights *x = &l->rights[l->nrights];
		reg_col_text(st, 0, x->collection, sizeof x->collection);
		x->read = strdup((const char *)sqlite3_column_text(st, 1));
		x->write = strdup((const char *)sqlite3_column_text(st, 2));
		l->nrights++;
		if (!x->read || !x->write)
			rc = diag_set(d, TC_ENOMEM, "out of memory");
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	return rc;
}

static enum tcerr
reg_load_deleted_colls(struct registry *r, struct reg__loaded *l, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	enum tcerr rc = reg_prepare(r, "SELECT collection FROM deleted_collections", &st, d);
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		void *grown = l->deleted_colls;
		if ((rc = reg_grow(&grown, &cap, l->ndeleted_colls, sizeof *l->deleted_colls, d)))
			break;
		l->deleted_colls = grown;
		reg_col_text(st, 0, l->deleted_colls[l->ndeleted_colls++], sizeof *l->deleted_colls);
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_dberr(r, s, d);
	sqlite3_finalize(st);
	return rc;
}

enum tcerr
reg__load(struct registry *r, struct reg__loaded *out, struct diag *d)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&r->mu);
	enum tcerr rc = reg_exec(r, "BEGIN", d);
	if (!rc) {
		rc = reg_load_orgs(r, &out->orgs, &out->norgs, d);
		if (!rc)
			rc = reg_load_principals(r, true, &out->prs, &out->nprs, d);
		if (!rc)
			rc = reg_load_rights(r, out, d);
		if (!rc)
			rc = reg_load_roots(r, out, d);
		if (!rc)
			rc = reg_load_deleted_colls(r, out, d);
		sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&r->mu);
	if (rc)
		reg__loaded_free(out);
	return rc;
}

/* STIX 2.1 §10.14 industry-sector-ov for each tocsin sector; NULL where
 * none fits (a CERT may be public or private; "other"). */
static const char *
stix_sector(enum reg_sector s)
{
	switch (s) {
	case SECTOR_TELECOM:
		return "telecommunications";
	case SECTOR_FINANCE:
		return "financial-services";
	case SECTOR_INTERNET:
		return "technology";
	case SECTOR_GOVERNMENT:
		return "government-national";
	case SECTOR_LAW_ENFORCEMENT:
		return "government-public-services";
	case SECTOR_CRITICAL_INFRASTRUCTURE:
		return "infrastructure";
	case SECTOR_CERT:
	case SECTOR_OTHER:
		break;
	}
	return NULL;
}

void
reg_org_identity_sdo(const struct reg_org *o, struct buf *out)
{
	char ts[TS_TEXT_MAX], mod[TS_TEXT_MAX];
	const char *sector = stix_sector(o->sector);

	/* a rename is a new version of the same identity */
	ts_format(o->created_us, 3, ts);
	ts_format(o->updated_us > o->created_us ? o->updated_us : o->created_us, 3, mod);
	buf_printf(out, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
	                "\"created\":\"%s\",\"modified\":\"%s\",\"name\":",
	           o->identity, ts, mod);
	buf_append_json_str(out, slice_from_cstr(o->name));
	buf_append_cstr(out, ",\"identity_class\":\"organization\"");
	if (sector)
		buf_printf(out, ",\"sectors\":[\"%s\"]", sector);
	buf_append_char(out, '}');
}

enum tcerr
reg__setting_forward(struct registry *r, const char *key, const char *val, bool strict,
                     struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(
		reg__db(r),
		strict ? "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE"
		         " SET value = excluded.value"
		         " WHERE CAST(settings.value AS INTEGER) < CAST(excluded.value AS INTEGER)"
		       : "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE"
		         " SET value = excluded.value"
		         " WHERE CAST(settings.value AS INTEGER) <= CAST(excluded.value AS INTEGER)",
		-1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}
