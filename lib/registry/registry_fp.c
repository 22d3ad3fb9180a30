/*
 * registry_fp.c — false-positive reports and their review (see
 * registry_fp.h and docs/sightings.md).
 *
 * Two tables (registry step REG_STEP_FP): fp_reports, one row per
 * (indicator, organisation), and fp_reviews, the latest review per
 * indicator. The state is derived, never stored: confirmed if the review
 * confirmed; else held if at least REG_FP_HOLD_ORGS reports count (made
 * after a rejection, or all when there is none); else rejected if
 * reviewed, open if not. Triggers move a generation of their own
 * (fp_generation; snapshots do not read these tables), which a running
 * tocsind polls, so it sees a change made by the CLI within a second.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/registry_fp.h"
#include "registry/registry_internal.h"
#include "stix/stix.h"
#include "util/text.h"

const char reg__fp_schema[] =
	"CREATE TABLE fp_reports(indicator TEXT NOT NULL, org INTEGER NOT NULL REFERENCES orgs(num),"
	" at_us INTEGER NOT NULL, note TEXT NOT NULL, PRIMARY KEY(indicator, org)) WITHOUT ROWID;"
	"CREATE TABLE fp_reviews(indicator TEXT PRIMARY KEY, confirmed INTEGER NOT NULL,"
	" at_us INTEGER NOT NULL, note TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE fp_generation(one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);"
	"INSERT INTO fp_generation VALUES (1, 1);"
	"CREATE TRIGGER fpgen_r_i AFTER INSERT ON fp_reports BEGIN"
	" UPDATE fp_generation SET n = n + 1; END;"
	"CREATE TRIGGER fpgen_r_u AFTER UPDATE ON fp_reports BEGIN"
	" UPDATE fp_generation SET n = n + 1; END;"
	"CREATE TRIGGER fpgen_v_i AFTER INSERT ON fp_reviews BEGIN"
	" UPDATE fp_generation SET n = n + 1; END;"
	"CREATE TRIGGER fpgen_v_u AFTER UPDATE ON fp_reviews BEGIN"
	" UPDATE fp_generation SET n = n + 1; END;";

enum tcerr
registry_fp_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	diag_clear(d);
	pthread_mutex_lock(reg__mu(r));
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	int s = sqlite3_prepare_v2(reg__db(r), "SELECT n FROM fp_generation", -1, &st, NULL);
	if (!s && (s = sqlite3_step(st)) == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = reg__dberr(r, s == SQLITE_DONE ? SQLITE_CORRUPT : s, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

/* a report counts unless a rejection came after it */
#define FP_COUNTED "(v.indicator IS NULL OR v.confirmed = 1 OR f.at_us > v.at_us)"

const char *
reg_fp_state_name(enum reg_fp_state s)
{
	switch (s) {
	case REG_FP_OPEN: return "open";
	case REG_FP_HELD: return "held";
	case REG_FP_CONFIRMED: return "confirmed";
	case REG_FP_REJECTED: return "rejected";
	}
	return "?";
}

bool
reg_fp_state_holds(enum reg_fp_state s)
{
	return s == REG_FP_HELD || s == REG_FP_CONFIRMED;
}

static enum tcerr
check_id(const char *indicator, struct diag *d)
{
	size_t tl = 0;
	if (!indicator || !stix_id_valid(slice_make(indicator, strlen(indicator)), &tl) || tl != 9 ||
	    strncmp(indicator, "indicator", 9) != 0)
		return diag_set(d, TC_EINVAL, "%s: not an indicator id (indicator--UUID)",
		                indicator ? indicator : "(none)");
	return TC_OK;
}

static enum tcerr
check_note(const char *note, struct diag *d)
{
	size_t n = note ? strlen(note) : 0, bad = 0;
	if (n > REG_FP_NOTE_MAX)
		return diag_set(d, TC_EINVAL, "note: %zu bytes, at most %d", n, REG_FP_NOTE_MAX);
	if (n && !text_printable(slice_make(note, n), &bad))
		return diag_set(d, TC_EINVAL, "note: byte %zu is not printable UTF-8", bad);
	return TC_OK;
}

static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

/* The summary, under the registry's lock. */
static enum tcerr
summary_locked(struct registry *r, const char *indicator, struct reg_fp_summary *out,
               struct diag *d)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = NULL;
	int s = sqlite3_prepare_v2(reg__db(r),
	                           "SELECT count(*), coalesce(sum(" FP_COUNTED "), 0),"
	                           " coalesce(max(f.at_us), 0),"
	                           " (SELECT confirmed FROM fp_reviews WHERE indicator = ?1),"
	                           " (SELECT at_us FROM fp_reviews WHERE indicator = ?1),"
	                           " (SELECT note FROM fp_reviews WHERE indicator = ?1)"
	                           " FROM fp_reports f LEFT JOIN fp_reviews v"
	                           " ON v.indicator = f.indicator WHERE f.indicator = ?1",
	                           -1, &st, NULL);
	if (s)
		return reg__dberr(r, s, d);
	sqlite3_bind_text(st, 1, indicator, -1, SQLITE_STATIC);
	enum tcerr rc = TC_OK;
	if ((s = sqlite3_step(st)) != SQLITE_ROW) {
		rc = reg__dberr(r, s, d);
		goto out;
	}
	out->reports = (size_t)sqlite3_column_int64(st, 0);
	if (!out->reports) {
		rc = diag_set(d, TC_ENOTFOUND, "%s: no false-positive report", indicator);
		goto out;
	}
	snprintf(out->indicator, sizeof out->indicator, "%s", indicator);
	out->orgs = (size_t)sqlite3_column_int64(st, 1);
	out->last_us = sqlite3_column_int64(st, 2);
	bool reviewed = sqlite3_column_type(st, 3) != SQLITE_NULL;
	bool confirmed = reviewed && sqlite3_column_int(st, 3) != 0;
	if (reviewed) {
		out->reviewed_us = sqlite3_column_int64(st, 4);
		col_copy(st, 5, out->review_note, sizeof out->review_note);
	}
	out->state = confirmed                       ? REG_FP_CONFIRMED
	             : out->orgs >= REG_FP_HOLD_ORGS ? REG_FP_HELD
	             : reviewed                      ? REG_FP_REJECTED
	                                             : REG_FP_OPEN;
out:
	sqlite3_finalize(st);
	return rc;
}

enum tcerr
registry_fp_summary(struct registry *r, const char *indicator, struct reg_fp_summary *out,
                    struct diag *d)
{
	diag_clear(d);
	enum tcerr rc = check_id(indicator, d);
	if (rc)
		return rc;
	pthread_mutex_lock(reg__mu(r));
	rc = summary_locked(r, indicator, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

/* Runs one statement with text/int binds ("t" text, "i" int64), then the
 * summary, under the lock. */
static enum tcerr
write_then_summary(struct registry *r, const char *sql, const char *indicator, int64_t a,
                   int64_t b, const char *note, struct reg_fp_summary *out, struct diag *d)
{
	pthread_mutex_lock(reg__mu(r));
	sqlite3_stmt *st = NULL;
	enum tcerr rc = TC_OK;
	int s = sqlite3_prepare_v2(reg__db(r), sql, -1, &st, NULL);
	if (!s) {
		sqlite3_bind_text(st, 1, indicator, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, a);
		sqlite3_bind_int64(st, 3, b);
		sqlite3_bind_text(st, 4, note ? note : "", -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			s = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (s) {
		rc = reg__dberr(r, s, d);
	} else {
		struct reg_fp_summary tmp;
		rc = summary_locked(r, indicator, out ? out : &tmp, d);
	}
	pthread_mutex_unlock(reg__mu(r));
	return rc;
}

enum tcerr
registry_fp_report(struct registry *r, const char *indicator, int64_t org, const char *note,
                   int64_t now_us, struct reg_fp_summary *out, struct diag *d)
{
	diag_clear(d);
	enum tcerr rc;
	if ((rc = check_id(indicator, d)) || (rc = check_note(note, d)))
		return rc;
	pthread_mutex_lock(reg__mu(r));
	sqlite3_stmt *st = NULL;
	int s = sqlite3_prepare_v2(reg__db(r), "SELECT 1 FROM orgs WHERE num = ? AND deleted_us = 0",
	                           -1, &st, NULL);
	if (!s) {
		sqlite3_bind_int64(st, 1, org);
		s = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	if (s == SQLITE_DONE)
		return diag_set(d, TC_ENOTFOUND, "organisation %lld: no such organisation",
		                (long long)org);
	if (s != SQLITE_ROW)
		return reg__dberr(r, s, d);
	return write_then_summary(r,
	                          "INSERT OR REPLACE INTO fp_reports(indicator, org, at_us, note)"
	                          " VALUES(?1, ?2, ?3, ?4)",
	                          indicator, org, now_us, note, out, d);
}

enum tcerr
registry_fp_review(struct registry *r, const char *indicator, bool confirm, const char *note,
                   int64_t now_us, struct reg_fp_summary *out, struct diag *d)
{
	diag_clear(d);
	enum tcerr rc;
	struct reg_fp_summary cur;
	if ((rc = check_id(indicator, d)) || (rc = check_note(note, d)) ||
	    (rc = registry_fp_summary(r, indicator, &cur, d)))
		return rc;
	return write_then_summary(r,
	                          "INSERT OR REPLACE INTO fp_reviews(indicator, confirmed, at_us, note)"
	                          " VALUES(?1, ?2, ?3, ?4)",
	                          indicator, confirm, now_us, note, out, d);
}

/* Reads the first column of every row of sql (text) into a string array. */
static enum tcerr
read_ids(struct registry *r, const char *sql, char ***ids, size_t *n, struct diag *d)
{
	*ids = NULL;
	*n = 0;
	char **v = NULL;
	size_t k = 0, cap = 0;
	enum tcerr rc = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	sqlite3_stmt *st = NULL;
	int s = sqlite3_prepare_v2(reg__db(r), sql, -1, &st, NULL);
	if (s)
		rc = reg__dberr(r, s, d);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			size_t nc = cap ? 2 * cap : 16;
			char **nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = diag_set(d, TC_ENOMEM, "false positives: out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (!(v[k] = strdup(t ? t : ""))) {
			rc = diag_set(d, TC_ENOMEM, "false positives: out of memory");
			break;
		}
		k++;
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg__dberr(r, s, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	if (rc) {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	*ids = v;
	*n = k;
	return TC_OK;
}

static void
free_ids(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

#define FP_STR_(x) #x
#define FP_STR(x) FP_STR_(x)

enum tcerr
registry_fp_held(struct registry *r, char ***ids, size_t *n, struct diag *d)
{
	diag_clear(d);
	return read_ids(r,
	                "SELECT indicator FROM fp_reviews WHERE confirmed = 1 UNION"
	                " SELECT f.indicator FROM fp_reports f LEFT JOIN fp_reviews v"
	                " ON v.indicator = f.indicator WHERE " FP_COUNTED
	                " GROUP BY f.indicator HAVING count(*) >= " FP_STR(REG_FP_HOLD_ORGS),
	                ids, n, d);
}

enum tcerr
registry_fp_list(struct registry *r,
                 enum tcerr (*cb)(void *ctx, const struct reg_fp_summary *s), void *ctx,
                 struct diag *d)
{
	diag_clear(d);
	char **v;
	size_t n;
	enum tcerr rc = read_ids(r,
	                         "SELECT indicator FROM fp_reports GROUP BY indicator"
	                         " ORDER BY max(at_us) DESC, indicator LIMIT " FP_STR(REG_FP_LIST_MAX),
	                         &v, &n, d);
	if (rc)
		return rc;
	struct reg_fp_summary *s = malloc(sizeof *s);
	if (!s)
		rc = diag_set(d, TC_ENOMEM, "false positives: out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		pthread_mutex_lock(reg__mu(r));
		rc = summary_locked(r, v[i], s, d);
		pthread_mutex_unlock(reg__mu(r));
		if (rc == TC_ENOTFOUND) { /* gone meanwhile (cannot happen: never deleted) */
			rc = TC_OK;
			continue;
		}
		if (!rc)
			rc = cb(ctx, s);
	}
	free(s);
	free_ids(v, n);
	return rc;
}

enum tcerr
registry_fp_reports(struct registry *r, const char *indicator,
                    enum tcerr (*cb)(void *ctx, const struct reg_fp_report *p), void *ctx,
                    struct diag *d)
{
	diag_clear(d);
	enum tcerr rc = check_id(indicator, d);
	if (rc)
		return rc;
	struct reg_fp_report *v = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(reg__mu(r));
	sqlite3_stmt *st = NULL;
	int s = sqlite3_prepare_v2(reg__db(r),
	                           "SELECT f.org, o.name, o.sector, f.at_us, f.note, " FP_COUNTED
	                           " FROM fp_reports f JOIN orgs o ON o.num = f.org"
	                           " LEFT JOIN fp_reviews v ON v.indicator = f.indicator"
	                           " WHERE f.indicator = ? ORDER BY f.at_us, f.org",
	                           -1, &st, NULL);
	if (s)
		rc = reg__dberr(r, s, d);
	else
		sqlite3_bind_text(st, 1, indicator, -1, SQLITE_STATIC);
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 4;
			struct reg_fp_report *nv = realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = diag_set(d, TC_ENOMEM, "false positives: out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		struct reg_fp_report *p = &v[n++];
		memset(p, 0, sizeof *p);
		snprintf(p->indicator, sizeof p->indicator, "%s", indicator);
		p->org = sqlite3_column_int64(st, 0);
		col_copy(st, 1, p->org_name, sizeof p->org_name);
		p->sector = (enum reg_sector)sqlite3_column_int(st, 2);
		p->at_us = sqlite3_column_int64(st, 3);
		col_copy(st, 4, p->note, sizeof p->note);
		p->counted = sqlite3_column_int(st, 5) != 0;
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg__dberr(r, s, d);
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	for (size_t i = 0; !rc && i < n; i++)
		rc = cb(ctx, &v[i]);
	free(v);
	return rc;
}
