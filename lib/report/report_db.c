/*
 * report_db.c — DATA/reports.db (report_db.h).
 *
 * One connection behind one mutex. Reports are added with group commit:
 * the first report of a batch opens an IMMEDIATE transaction, the ones
 * that arrive meanwhile join it (each under its own savepoint: upsert its
 * group, count its reporter and contact once, insert it), and the first
 * commits it for all; nobody is answered before the commit holding its
 * report. The reporter and contact hashes are HMAC-SHA256 (cut to 16
 * bytes) under a random key kept in the file's settings table, so the
 * file alone does not tell which address reported: an address space of
 * 2^32 could otherwise be hashed through in minutes. The receipt is
 * kept as its SHA-256 only.
 *
 * synchronous = NORMAL (WAL): a crash of tocsind loses nothing
 * committed; a power cut may lose the last reports (docs/reports.md).
 */
#include "report/report_db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"

#define REPORT_KEY_LEN 32
#define REPORT_DB_BATCH_RING 64   /* commit results kept for the members of recent batches */
#define REPORT_HASH_LEN 16

struct report_db {
	pthread_mutex_t mu;
	sqlite3 *db;
	char path[PATH_MAX];
	uint8_t key[REPORT_KEY_LEN];
	/* group commit (report_db_add): the open batch, its leader, the last
	 * committed batch and the results of recent ones */
	pthread_cond_t cv;
	bool tx_open, leader;
	uint64_t batch, done;
	enum tcerr commit_rc[REPORT_DB_BATCH_RING];
	char commit_msg[REPORT_DB_BATCH_RING][DIAG_MSG_MAX];
	sqlite3_stmt *st_group, *st_reporter, *st_contact_h, *st_count, *st_report, *st_contact;
};

static const char *const state_names[] = {
	[RS_OPEN] = "open", [RS_CONFIRMED] = "confirmed", [RS_REJECTED] = "rejected",
	[RS_PROMOTED] = "promoted",
};

const char *
report_state_name(enum report_state s)
{
	return s >= RS_OPEN && s <= RS_MAX ? state_names[s] : "open";
}

bool
report_state_parse(const char *s, enum report_state *out)
{
	for (int i = RS_OPEN; i <= RS_MAX; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum report_state)i;
			return true;
		}
	return false;
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS report_groups("
	" id INTEGER PRIMARY KEY, okind TEXT NOT NULL, value TEXT NOT NULL, rkind TEXT NOT NULL,"
	" nreports INTEGER NOT NULL DEFAULT 0, nreporters INTEGER NOT NULL DEFAULT 0,"
	" ncontacts INTEGER NOT NULL DEFAULT 0, first_us INTEGER NOT NULL,"
	" last_us INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 1,"
	" held INTEGER NOT NULL DEFAULT 0, decided_by TEXT NOT NULL DEFAULT '',"
	" decided_us INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',"
	" indicator TEXT NOT NULL DEFAULT '', UNIQUE(okind, value));"
	"CREATE INDEX IF NOT EXISTS report_groups_state ON report_groups(state, nreporters);"
	"CREATE TABLE IF NOT EXISTS reports("
	" id INTEGER PRIMARY KEY, receipt BLOB NOT NULL UNIQUE,"
	" group_id INTEGER NOT NULL REFERENCES report_groups(id), rkind TEXT NOT NULL,"
	" received_us INTEGER NOT NULL, text TEXT NOT NULL, has_contact INTEGER NOT NULL,"
	" lang TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS reports_group ON reports(group_id, id);"
	"CREATE TABLE IF NOT EXISTS reporters(group_id INTEGER NOT NULL, reporter BLOB NOT NULL,"
	" PRIMARY KEY(group_id, reporter)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS contacts(report_id INTEGER PRIMARY KEY, contact TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS contact_hashes(group_id INTEGER NOT NULL, h BLOB NOT NULL,"
	" PRIMARY KEY(group_id, h)) WITHOUT ROWID;";

static enum tcerr
dberr(struct report_db *db, struct diag *d, const char *what)
{
	int ec = sqlite3_errcode(db->db);
	return diag_set(d, ec == SQLITE_BUSY || ec == SQLITE_LOCKED ? TC_EBUSY : TC_EDB,
	                "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

static int
prep(struct report_db *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

static enum tcerr
load_key(struct report_db *db, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->db, "SELECT value FROM settings WHERE name = 'reporter_key'", -1,
	                       &st, NULL))
		return dberr(db, d, "reading the reporter key");
	bool have = false;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == REPORT_KEY_LEN) {
		memcpy(db->key, sqlite3_column_blob(st, 0), REPORT_KEY_LEN);
		have = true;
	}
	sqlite3_finalize(st);
	if (have)
		return TC_OK;
	randombytes_buf(db->key, sizeof db->key);
	if (sqlite3_prepare_v2(db->db,
	                       "INSERT OR IGNORE INTO settings(name, value) VALUES('reporter_key', ?)",
	                       -1, &st, NULL))
		return dberr(db, d, "writing the reporter key");
	sqlite3_bind_blob(st, 1, db->key, sizeof db->key, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dberr(db, d, "writing the reporter key");
	/* another process may have won the race: read back what is stored */
	return load_key(db, d);
}

enum tcerr
report_db_open(const char *dir, struct report_db **out, struct diag *d)
{
	*out = NULL;
	if (sodium_init() < 0)
		return diag_set(d, TC_EINTERNAL, "libsodium cannot start");
	struct report_db *db = calloc(1, sizeof *db);
	if (!db)
		return diag_set(d, TC_ENOMEM, "out of memory");
	int n = snprintf(db->path, sizeof db->path, "%s/%s", dir, REPORT_DB_FILE);
	if (n < 0 || (size_t)n >= sizeof db->path) {
		free(db);
		return diag_set(d, TC_EINVAL, "%s: path too long", dir);
	}
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, NULL);
	/* made 0600 before SQLite opens it: it holds reporters' details */
	int fd = open(db->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		enum tcerr rc = diag_set(d, TC_EDB, "%s: %s", db->path, strerror(errno));
		pthread_mutex_destroy(&db->mu);
		pthread_cond_destroy(&db->cv);
		free(db);
		return rc;
	}
	close(fd);
	enum tcerr rc = TC_OK;
	if (sqlite3_open_v2(db->path, &db->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		rc = dberr(db, d, "open");
		goto fail;
	}
	sqlite3_busy_timeout(db->db, REPORT_DB_BUSY_MS);
	char *msg = NULL;
	if (sqlite3_exec(db->db,
	                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	                 "PRAGMA foreign_keys = ON;",
	                 NULL, NULL, &msg) ||
	    sqlite3_exec(db->db, schema, NULL, NULL, &msg)) {
		rc = diag_set(d, TC_EDB, "%s: %s", db->path, msg ? msg : "cannot set up");
		sqlite3_free(msg);
		goto fail;
	}
	if ((rc = load_key(db, d)))
		goto fail;
	if (prep(db,
	         "INSERT INTO report_groups(okind, value, rkind, first_us, last_us)"
	         " VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(okind, value) DO UPDATE SET"
	         " last_us = max(last_us, ?4) RETURNING id, first_us = ?4 AND nreports = 0",
	         &db->st_group) ||
	    prep(db, "INSERT OR IGNORE INTO reporters(group_id, reporter) VALUES(?, ?)",
	         &db->st_reporter) ||
	    prep(db, "INSERT OR IGNORE INTO contact_hashes(group_id, h) VALUES(?, ?)",
	         &db->st_contact_h) ||
	    prep(db,
	         "UPDATE report_groups SET nreports = nreports + 1,"
	         " nreporters = nreporters + ?2, ncontacts = ncontacts + ?3 WHERE id = ?1"
	         " RETURNING nreporters, state, held",
	         &db->st_count) ||
	    prep(db,
	         "INSERT INTO reports(receipt, group_id, rkind, received_us, text, has_contact,"
	         " lang) VALUES(?, ?, ?, ?, ?, ?, ?)",
	         &db->st_report) ||
	    prep(db, "INSERT INTO contacts(report_id, contact) VALUES(?, ?)", &db->st_contact)) {
		rc = dberr(db, d, "prepare");
		goto fail;
	}
	*out = db;
	return TC_OK;
fail:
	report_db_close(db);
	return rc;
}

void
report_db_close(struct report_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->st_group);
	sqlite3_finalize(db->st_reporter);
	sqlite3_finalize(db->st_contact_h);
	sqlite3_finalize(db->st_count);
	sqlite3_finalize(db->st_report);
	sqlite3_finalize(db->st_contact);
	sqlite3_close(db->db);
	sodium_memzero(db->key, sizeof db->key);
	pthread_mutex_destroy(&db->mu);
	pthread_cond_destroy(&db->cv);
	free(db);
}

static void
keyed(const struct report_db *db, const void *p, size_t len, uint8_t out[REPORT_HASH_LEN])
{
	uint8_t h[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, db->key, sizeof db->key);
	crypto_auth_hmacsha256_update(&st, p, len);
	crypto_auth_hmacsha256_final(&st, h);
	memcpy(out, h, REPORT_HASH_LEN);
}

void
report_receipt_make(char out[REPORT_RECEIPT_LEN + 1])
{
	/* one call for all the bits: each randombytes call is a system call */
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t r[(REPORT_RECEIPT_LEN * 5 + 7) / 8];
	randombytes_buf(r, sizeof r);
	for (int i = 0; i < REPORT_RECEIPT_LEN; i++) {
		unsigned bit = (unsigned)i * 5, v = (unsigned)r[bit / 8] << 8;
		if (bit / 8 + 1 < sizeof r)
			v |= r[bit / 8 + 1];
		out[i] = b32[(v >> (11 - bit % 8)) & 31];
	}
	out[REPORT_RECEIPT_LEN] = '\0';
	sodium_memzero(r, sizeof r);
}

static void
st_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static enum tcerr
add_locked(struct report_db *db, const struct report_add *a, struct report_added *out,
           struct diag *d)
{
	const char *okind = obs_kind_name(a->obs->kind);
	const char *rkind = report_kind_name(a->rkind);
	sqlite3_stmt *st = db->st_group;
	sqlite3_bind_text(st, 1, okind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->obs->value, (int)a->obs->value_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rkind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, a->now_us);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_done(st);
		return dberr(db, d, "adding to a group");
	}
	out->group = sqlite3_column_int64(st, 0);
	out->new_group = sqlite3_column_int(st, 1) != 0;
	st_done(st);

	uint8_t h[REPORT_HASH_LEN];
	keyed(db, a->client, sizeof a->client, h);
	st = db->st_reporter;
	sqlite3_bind_int64(st, 1, out->group);
	sqlite3_bind_blob(st, 2, h, sizeof h, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	st_done(st);
	if (rc != SQLITE_DONE)
		return dberr(db, d, "counting the reporter");
	int new_reporter = sqlite3_changes(db->db);
	int new_contact = 0;
	if (a->contact.len) {
		/* distinct contacts: case and surrounding spaces do not count */
		char c[REPORT_CONTACT_MAX];
		size_t n = a->contact.len < sizeof c ? a->contact.len : sizeof c;
		for (size_t i = 0; i < n; i++) {
			char ch = a->contact.p[i];
			c[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch;
		}
		uint8_t ch[REPORT_HASH_LEN];
		keyed(db, c, n, ch);
		st = db->st_contact_h;
		sqlite3_bind_int64(st, 1, out->group);
		sqlite3_bind_blob(st, 2, ch, sizeof ch, SQLITE_STATIC);
		rc = sqlite3_step(st);
		st_done(st);
		if (rc != SQLITE_DONE)
			return dberr(db, d, "counting the contact");
		new_contact = sqlite3_changes(db->db);
	}
	st = db->st_count;
	sqlite3_bind_int64(st, 1, out->group);
	sqlite3_bind_int(st, 2, new_reporter);
	sqlite3_bind_int(st, 3, new_contact);
	if (sqlite3_step(st) != SQLITE_ROW) {
		st_done(st);
		return dberr(db, d, "counting the report");
	}
	out->nreporters = (uint32_t)sqlite3_column_int64(st, 0);
	out->state = (enum report_state)sqlite3_column_int(st, 1);
	out->held = sqlite3_column_int(st, 2) != 0;
	st_done(st);

	uint8_t rh[crypto_hash_sha256_BYTES];
	for (int tries = 0;; tries++) {
		report_receipt_make(out->receipt);
		crypto_hash_sha256(rh, (const uint8_t *)out->receipt, REPORT_RECEIPT_LEN);
		st = db->st_report;
		sqlite3_bind_blob(st, 1, rh, sizeof rh, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, out->group);
		sqlite3_bind_text(st, 3, rkind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, a->now_us);
		sqlite3_bind_text(st, 5, a->text.p ? a->text.p : "", (int)a->text.len, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, a->contact.len > 0);
		sqlite3_bind_text(st, 7, a->lang ? a->lang : "en", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		st_done(st);
		if (rc == SQLITE_DONE)
			break;
		/* 2^-130 per try: a collision means a broken random source */
		if (rc != SQLITE_CONSTRAINT || tries > 2)
			return dberr(db, d, "adding the report");
	}
	out->id = sqlite3_last_insert_rowid(db->db);
	if (a->contact.len) {
		st = db->st_contact;
		sqlite3_bind_int64(st, 1, out->id);
		sqlite3_bind_text(st, 2, a->contact.p, (int)a->contact.len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		st_done(st);
		if (rc != SQLITE_DONE)
			return dberr(db, d, "keeping the contact");
	}
	return TC_OK;
}

/* Statements outside report_db_add wait for an open batch to commit, so
 * that their writes are never committed (or lost) with it. */
static void
lock_idle(struct report_db *db)
{
	pthread_mutex_lock(&db->mu);
	while (db->tx_open)
		pthread_cond_wait(&db->cv, &db->mu);
}

enum tcerr
report_db_add(struct report_db *db, const struct report_add *a, struct report_added *out,
              struct diag *d)
{
	memset(out, 0, sizeof *out);
	if (!a->obs || !report_kind_name(a->rkind) || !obs_kind_name(a->obs->kind))
		return diag_set(d, TC_EINVAL, "report_db_add: no kind");
	pthread_mutex_lock(&db->mu);
	enum tcerr rc;
	if (!db->tx_open) {
		if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			rc = dberr(db, d, "begin");
			pthread_mutex_unlock(&db->mu);
			return rc;
		}
		db->tx_open = true;
		db->batch++;
	}
	uint64_t my = db->batch;
	/* a savepoint per report: one that fails leaves the others of the batch */
	if (sqlite3_exec(db->db, "SAVEPOINT r", NULL, NULL, NULL) != SQLITE_OK)
		rc = dberr(db, d, "savepoint");
	else if ((rc = add_locked(db, a, out, d)) != TC_OK)
		sqlite3_exec(db->db, "ROLLBACK TO r; RELEASE r", NULL, NULL, NULL);
	else if (sqlite3_exec(db->db, "RELEASE r", NULL, NULL, NULL) != SQLITE_OK)
		rc = dberr(db, d, "release");
	if (!db->leader) {
		/* the first of the batch commits it, after letting the reports
		 * that wait for the mutex join: one commit for all of them */
		db->leader = true;
		pthread_mutex_unlock(&db->mu);
		sched_yield();
		pthread_mutex_lock(&db->mu);
		enum tcerr crc = TC_OK;
		struct diag cd;
		if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			crc = dberr(db, &cd, "commit");
			sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
			snprintf(db->commit_msg[my % REPORT_DB_BATCH_RING],
			         sizeof db->commit_msg[0], "%s", cd.msg);
		}
		db->commit_rc[my % REPORT_DB_BATCH_RING] = crc;
		db->tx_open = false;
		db->leader = false;
		db->done = my;
		pthread_cond_broadcast(&db->cv);
	} else {
		while (db->done < my)
			pthread_cond_wait(&db->cv, &db->mu);
	}
	/* batches commit in order; a member is woken before REPORT_DB_BATCH_RING
	 * more batches can commit only if it runs at all, which it does long
	 * before: the ring is a bound, not a race in practice */
	enum tcerr crc = db->commit_rc[my % REPORT_DB_BATCH_RING];
	if (rc == TC_OK && crc != TC_OK)
		rc = diag_set(d, crc, "%s", db->commit_msg[my % REPORT_DB_BATCH_RING]);
	if (rc)
		sodium_memzero(out->receipt, sizeof out->receipt);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static bool
receipt_ok(struct slice r)
{
	if (r.len != REPORT_RECEIPT_LEN)
		return false;
	for (size_t i = 0; i < r.len; i++) {
		char c = r.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return false;
	}
	return true;
}

enum tcerr
report_db_status(struct report_db *db, struct slice receipt, struct report_status *out,
                 struct diag *d)
{
	memset(out, 0, sizeof *out);
	if (!receipt_ok(receipt))
		return diag_set(d, TC_ENOTFOUND, "no such receipt");
	uint8_t rh[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(rh, (const uint8_t *)receipt.p, receipt.len);
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (sqlite3_prepare_v2(db->db,
	                       "SELECT r.rkind, r.received_us, g.state FROM reports r"
	                       " JOIN report_groups g ON g.id = r.group_id WHERE r.receipt = ?",
	                       -1, &st, NULL)) {
		rc = dberr(db, d, "status");
		goto out;
	}
	sqlite3_bind_blob(st, 1, rh, sizeof rh, SQLITE_STATIC);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		report_kind_parse(slice_from_cstr(k ? k : ""), &out->rkind);
		out->received_us = sqlite3_column_int64(st, 1);
		out->state = (enum report_state)sqlite3_column_int(st, 2);
	} else if (s == SQLITE_DONE)
		rc = diag_set(d, TC_ENOTFOUND, "no such receipt");
	else
		rc = dberr(db, d, "status");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

#define GROUP_COLS                                                                           \
	"id, okind, value, rkind, nreports, nreporters, ncontacts, first_us, last_us,"     \
	" decided_us, state, held, decided_by, note, indicator"

static void
text_col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", s ? s : "");
}

static void
group_row(sqlite3_stmt *st, struct report_group *g)
{
	memset(g, 0, sizeof *g);
	g->id = sqlite3_column_int64(st, 0);
	const char *k = (const char *)sqlite3_column_text(st, 1);
	obs_kind_parse(slice_from_cstr(k ? k : ""), &g->okind);
	text_col(st, 2, g->value, sizeof g->value);
	k = (const char *)sqlite3_column_text(st, 3);
	report_kind_parse(slice_from_cstr(k ? k : ""), &g->rkind);
	g->nreports = (uint32_t)sqlite3_column_int64(st, 4);
	g->nreporters = (uint32_t)sqlite3_column_int64(st, 5);
	g->ncontacts = (uint32_t)sqlite3_column_int64(st, 6);
	g->first_us = sqlite3_column_int64(st, 7);
	g->last_us = sqlite3_column_int64(st, 8);
	g->decided_us = sqlite3_column_int64(st, 9);
	g->state = (enum report_state)sqlite3_column_int(st, 10);
	g->held = sqlite3_column_int(st, 11) != 0;
	text_col(st, 12, g->decided_by, sizeof g->decided_by);
	text_col(st, 13, g->note, sizeof g->note);
	text_col(st, 14, g->indicator, sizeof g->indicator);
}

/* Runs a prepared group query and calls cb per row (max rows). The
 * mutex is held; cb must not call back into db. */
static enum tcerr
groups_run(struct report_db *db, sqlite3_stmt *st, size_t max, report_group_cb cb, void *ctx,
           struct diag *d)
{
	enum tcerr rc = TC_OK;
	struct report_group *g = malloc(sizeof *g);
	if (!g)
		return diag_set(d, TC_ENOMEM, "out of memory");
	size_t n = 0;
	int s;
	while (n < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
		group_row(st, g);
		n++;
		if ((rc = cb(ctx, g)))
			break;
	}
	if (rc == TC_OK && n < max && s != SQLITE_DONE)
		rc = dberr(db, d, "listing groups");
	free(g);
	return rc;
}

enum tcerr
report_db_groups(struct report_db *db, enum report_state state, size_t max,
                 report_group_cb cb, void *ctx, struct diag *d)
{
	if (max > REPORT_LIST_MAX)
		max = REPORT_LIST_MAX;
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (sqlite3_prepare_v2(db->db,
	                       "SELECT " GROUP_COLS " FROM report_groups WHERE ?1 = 0 OR state = ?1"
	                       " ORDER BY nreporters DESC, last_us DESC, id LIMIT ?2",
	                       -1, &st, NULL)) {
		rc = dberr(db, d, "listing groups");
	} else {
		sqlite3_bind_int(st, 1, (int)state);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
		rc = groups_run(db, st, max, cb, ctx, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static enum tcerr
copy_group(void *ctx, const struct report_group *g)
{
	*(struct report_group *)ctx = *g;
	return TC_OK;
}

enum tcerr
report_db_group(struct report_db *db, int64_t id, struct report_group *out, struct diag *d)
{
	memset(out, 0, sizeof *out);
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (sqlite3_prepare_v2(db->db, "SELECT " GROUP_COLS " FROM report_groups WHERE id = ?", -1,
	                       &st, NULL)) {
		rc = dberr(db, d, "reading a group");
	} else {
		sqlite3_bind_int64(st, 1, id);
		rc = groups_run(db, st, 1, copy_group, out, d);
		if (rc == TC_OK && out->id != id)
			rc = diag_set(d, TC_ENOTFOUND, "no report group %lld", (long long)id);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

enum tcerr
report_db_group_reports(struct report_db *db, int64_t group, size_t max, bool contacts,
                        report_row_cb cb, void *ctx, struct diag *d)
{
	if (max > REPORT_LIST_MAX)
		max = REPORT_LIST_MAX;
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	const char *sql =
		contacts ? "SELECT r.id, r.received_us, r.rkind, r.text, r.has_contact, c.contact"
		           " FROM reports r LEFT JOIN contacts c ON c.report_id = r.id"
		           " WHERE r.group_id = ? ORDER BY r.id LIMIT ?"
		         : "SELECT id, received_us, rkind, text, has_contact, NULL FROM reports"
		           " WHERE group_id = ? ORDER BY id LIMIT ?";
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL)) {
		rc = dberr(db, d, "listing reports");
		goto out;
	}
	sqlite3_bind_int64(st, 1, group);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_row r = {
			.id = sqlite3_column_int64(st, 0),
			.received_us = sqlite3_column_int64(st, 1),
			.text = (const char *)sqlite3_column_text(st, 3),
			.has_contact = sqlite3_column_int(st, 4) != 0,
			.contact = contacts ? (const char *)sqlite3_column_text(st, 5) : NULL,
		};
		const char *k = (const char *)sqlite3_column_text(st, 2);
		report_kind_parse(slice_from_cstr(k ? k : ""), &r.rkind);
		if (!r.text)
			r.text = "";
		if ((rc = cb(ctx, &r)))
			break;
	}
	if (rc == TC_OK && s != SQLITE_DONE)
		rc = dberr(db, d, "listing reports");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* Copies s into dst (cap bytes with NUL) as printable UTF-8, cut at a
 * character boundary; a non-printable character becomes '?'. */
static void
text_clip(const char *s, char *dst, size_t cap)
{
	size_t o = 0, n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		size_t l = text_printable_len(s + i, n - i);
		if (l == 0) {
			if (o + 1 >= cap)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + l >= cap)
			break;
		memcpy(dst + o, s + i, l);
		o += l;
		i += l;
	}
	dst[o] = '\0';
}

enum tcerr
report_db_decide(struct report_db *db, int64_t group, enum report_state to, const char *by,
                 const char *note, int64_t now_us, struct diag *d)
{
	if (to != RS_CONFIRMED && to != RS_REJECTED)
		return diag_set(d, TC_EINVAL, "a decision confirms or rejects");
	char b[REPORT_BY_MAX + 1], nt[REPORT_NOTE_MAX + 1];
	text_clip(by, b, sizeof b);
	text_clip(note, nt, sizeof nt);
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (sqlite3_prepare_v2(db->db,
	                       "UPDATE report_groups SET state = ?2, decided_by = ?3, note = ?4,"
	                       " decided_us = ?5, held = 0 WHERE id = ?1 AND state <> ?6"
	                       " RETURNING id",
	                       -1, &st, NULL)) {
		rc = dberr(db, d, "deciding");
		goto out;
	}
	sqlite3_bind_int64(st, 1, group);
	sqlite3_bind_int(st, 2, (int)to);
	sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_us);
	sqlite3_bind_int(st, 6, RS_PROMOTED);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = TC_OK;
	else if (s != SQLITE_DONE)
		rc = dberr(db, d, "deciding");
	else {
		sqlite3_finalize(st);
		st = NULL;
		rc = sqlite3_prepare_v2(db->db, "SELECT 1 FROM report_groups WHERE id = ?", -1, &st,
		                        NULL)
		         ? dberr(db, d, "deciding")
		         : TC_OK;
		if (!rc) {
			sqlite3_bind_int64(st, 1, group);
			rc = sqlite3_step(st) == SQLITE_ROW
			         ? diag_set(d, TC_EEXIST, "report group %lld was promoted already",
			                    (long long)group)
			         : diag_set(d, TC_ENOTFOUND, "no report group %lld", (long long)group);
		}
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

enum tcerr
report_db_due(struct report_db *db, unsigned threshold, size_t max, report_group_cb cb,
              void *ctx, struct diag *d)
{
	if (max > REPORT_LIST_MAX)
		max = REPORT_LIST_MAX;
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc;
	if (sqlite3_prepare_v2(db->db,
	                       "SELECT " GROUP_COLS " FROM report_groups WHERE state = ?1"
	                       " OR (?2 > 0 AND state = ?3 AND held = 0 AND nreporters >= ?2)"
	                       " ORDER BY id LIMIT ?4",
	                       -1, &st, NULL)) {
		rc = dberr(db, d, "listing due groups");
	} else {
		sqlite3_bind_int(st, 1, RS_CONFIRMED);
		sqlite3_bind_int64(st, 2, threshold);
		sqlite3_bind_int(st, 3, RS_OPEN);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
		rc = groups_run(db, st, max, cb, ctx, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

static enum tcerr
exec_group(struct report_db *db, const char *sql, int64_t group, const char *text, int64_t now,
           struct diag *d)
{
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL)) {
		rc = dberr(db, d, "updating a group");
		goto out;
	}
	sqlite3_bind_int64(st, 1, group);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, RS_PROMOTED);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = dberr(db, d, "updating a group");
	else if (sqlite3_changes(db->db) == 0)
		rc = diag_set(d, TC_ENOTFOUND, "no report group %lld", (long long)group);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

enum tcerr
report_db_promoted(struct report_db *db, int64_t group, const char *indicator, int64_t now_us,
                   struct diag *d)
{
	return exec_group(db,
	                  "UPDATE report_groups SET state = ?4, indicator = ?2,"
	                  " decided_us = CASE WHEN decided_us = 0 THEN ?3 ELSE decided_us END,"
	                  " decided_by = CASE WHEN decided_by = '' THEN 'promote_threshold'"
	                  " ELSE decided_by END WHERE id = ?1",
	                  group, indicator, now_us, d);
}

enum tcerr
report_db_hold(struct report_db *db, int64_t group, const char *why, struct diag *d)
{
	char nt[REPORT_NOTE_MAX + 1];
	text_clip(why, nt, sizeof nt);
	return exec_group(db, "UPDATE report_groups SET held = 1, note = ?2 WHERE id = ?1 AND ?3 = ?3"
	                      " AND ?4 = ?4",
	                  group, nt, 0, d);
}

enum tcerr
report_db_counts(struct report_db *db, uint64_t counts[RS_MAX + 1], uint64_t *reports,
                 struct diag *d)
{
	memset(counts, 0, sizeof(uint64_t) * (RS_MAX + 1));
	*reports = 0;
	lock_idle(db);
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	if (sqlite3_prepare_v2(db->db,
	                       "SELECT state, count(*), sum(nreports) FROM report_groups"
	                       " GROUP BY state",
	                       -1, &st, NULL)) {
		rc = dberr(db, d, "counting");
		goto out;
	}
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 0);
		if (k >= RS_OPEN && k <= RS_MAX)
			counts[k] = (uint64_t)sqlite3_column_int64(st, 1);
		*reports += (uint64_t)sqlite3_column_int64(st, 2);
	}
	if (s != SQLITE_DONE)
		rc = dberr(db, d, "counting");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mu);
	return rc;
}
