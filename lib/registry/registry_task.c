/*
 * registry_task.c — response tasks (docs/coordination.md): who must do
 * what, on which observables, by when; the assignee's answers; escalation
 * of overdue tasks; each organisation's e-mail contacts and each sector's
 * lead organisation.
 *
 * Invariants: a task's state only moves along reg_task_transition() and
 * each move is one transaction that also appends its event (so the events
 * are the task's whole history, each timestamped and attributed); a task
 * made with a de-duplication key exists at most once per key and
 * organisation (a UNIQUE column); an escalation level only grows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

#define TASK_COLS                                                                         \
	"num, action, org, coordinator, source, observables, note, reply, state, deadline_us," \
	" created_us, acked_us, closed_us, escalation, escalated_us, escalated_org"

static const char *const state_names[] = { NULL, "assigned", "acknowledged", "done",
	                                   "declined" };

static const char *const actions[] = { "block",           "takedown",    "suspend-number",
	                               "freeze-account",  "block-card",  "investigate",
	                               "notify-customers", "clean-up" };

const char *
reg_task_state_name(enum reg_task_state s)
{
	return s >= REG_TASK_ASSIGNED && s <= REG_TASK_DECLINED ? state_names[s] : NULL;
}

enum tcerr
reg_task_state_parse(const char *name, enum reg_task_state *out)
{
	for (int i = REG_TASK_ASSIGNED; i <= REG_TASK_DECLINED; i++)
		if (name && strcmp(name, state_names[i]) == 0) {
			*out = (enum reg_task_state)i;
			return TC_OK;
		}
	return TC_EINVAL;
}

bool
reg_task_state_open(enum reg_task_state s)
{
	return s == REG_TASK_ASSIGNED || s == REG_TASK_ACKNOWLEDGED;
}

enum tcerr
reg_task_transition(enum reg_task_state from, enum reg_task_state to, struct diag *d)
{
	if (!reg_task_state_name(from) || !reg_task_state_name(to))
		return diag_set(d, TC_EINVAL, "unknown task state");
	if (!reg_task_state_open(from))
		return diag_set(d, TC_EINVAL, "the task is already %s", state_names[from]);
	if (to == REG_TASK_ASSIGNED)
		return diag_set(d, TC_EINVAL, "a task cannot go back to assigned");
	if (to == from)
		return diag_set(d, TC_EINVAL, "the task is already %s", state_names[from]);
	return TC_OK;
}

enum tcerr
reg_task_action_check(const char *action, struct diag *d)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (action && strcmp(action, actions[i]) == 0)
			return TC_OK;
	return diag_set(d, TC_EINVAL, "unknown action '%.32s' (one of: " REG_TASK_ACTIONS ")",
	                action ? action : "");
}

bool
reg_task_visible(const struct reg_task *t, int64_t org)
{
	return org > 0 && (t->org == org || t->coordinator == org || t->escalated_org == org);
}

static void
col_text(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	snprintf(out, size, "%s", v ? (const char *)v : "");
}

static void
read_task(sqlite3_stmt *st, struct reg_task *t)
{
	memset(t, 0, sizeof *t);
	t->num = sqlite3_column_int64(st, 0);
	col_text(st, 1, t->action, sizeof t->action);
	t->org = sqlite3_column_int64(st, 2);
	t->coordinator = sqlite3_column_int64(st, 3);
	col_text(st, 4, t->source, sizeof t->source);
	col_text(st, 5, t->observables, sizeof t->observables);
	col_text(st, 6, t->note, sizeof t->note);
	col_text(st, 7, t->reply, sizeof t->reply);
	t->state = (enum reg_task_state)sqlite3_column_int(st, 8);
	t->deadline_us = sqlite3_column_int64(st, 9);
	t->created_us = sqlite3_column_int64(st, 10);
	t->acked_us = sqlite3_column_int64(st, 11);
	t->closed_us = sqlite3_column_int64(st, 12);
	t->escalation = (unsigned)sqlite3_column_int(st, 13);
	t->escalated_us = sqlite3_column_int64(st, 14);
	t->escalated_org = sqlite3_column_int64(st, 15);
}

/* The statements below run under the lock, inside the caller's transaction. */
static enum tcerr
exec(struct registry *r, const char *sql, struct diag *d)
{
	int rc = sqlite3_exec(reg__db(r), sql, NULL, NULL, NULL);
	return rc ? reg__dberr(r, rc, d) : TC_OK;
}

static enum tcerr
add_event(struct registry *r, int64_t task, int64_t at_us, int64_t org, const char *what,
          const char *note, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "INSERT INTO task_events(task, at_us, org, what, note)"
	                            " VALUES(?1, ?2, ?3, ?4, ?5)",
	                            -1, &st, NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, task);
		sqlite3_bind_int64(st, 2, at_us);
		sqlite3_bind_int64(st, 3, org);
		sqlite3_bind_text(st, 4, what, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, note ? note : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc ? reg__dberr(r, rc, d) : TC_OK;
}

/* The organisation named name ("#num" or a name): OUT *num, *sector. */
static enum tcerr
find_org(struct registry *r, const char *name, int64_t *num, int *sector, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	char *end = NULL;
	bool by_num = name && name[0] == '#';
	long long n = by_num ? strtoll(name + 1, &end, 10) : 0;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            by_num ? "SELECT num, sector, deleted_us FROM orgs WHERE num = ?1"
	                                   : "SELECT num, sector, deleted_us FROM orgs WHERE name = ?1",
	                            -1, &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	if (by_num)
		sqlite3_bind_int64(st, 1, (end && *end) ? -1 : n);
	else
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*num = sqlite3_column_int64(st, 0);
		if (sector)
			*sector = sqlite3_column_int(st, 1);
		if (sqlite3_column_int64(st, 2))
			t = diag_set(d, TC_EINVAL, "organisation '%.128s' is deleted", name);
	} else if (rc == SQLITE_DONE) {
		t = diag_set(d, TC_ENOTFOUND, "no organisation '%.128s'", name ? name : "");
	} else {
		t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	return t;
}

struct made {
	struct reg_task *v;
	size_t n, cap;
};

static enum tcerr
insert_task(struct registry *r, const struct reg_task *in, int64_t org, const char *dedup,
            int64_t now_us, struct made *m, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	char key[REG_TASK_DEDUP_MAX + 32];
	if (dedup) {
		int k = snprintf(key, sizeof key, "%s|%" PRId64, dedup, org);
		if (k < 0 || (size_t)k >= sizeof key)
			return diag_set(d, TC_ELIMIT, "de-duplication key too long");
	}
	int rc = sqlite3_prepare_v2(
		reg__db(r),
		"INSERT OR IGNORE INTO tasks(action, org, coordinator, source, observables, note,"
		" dedup, state, deadline_us, created_us) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
		-1, &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_text(st, 1, in->action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, org);
	sqlite3_bind_int64(st, 3, in->coordinator);
	sqlite3_bind_text(st, 4, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, in->observables, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, in->note, -1, SQLITE_STATIC);
	if (dedup)
		sqlite3_bind_text(st, 7, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int(st, 8, REG_TASK_ASSIGNED);
	sqlite3_bind_int64(st, 9, in->deadline_us);
	sqlite3_bind_int64(st, 10, now_us);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return reg__dberr(r, rc, d);
	if (sqlite3_changes(reg__db(r)) == 0)
		return TC_OK; /* made before under this key */
	int64_t num = sqlite3_last_insert_rowid(reg__db(r));
	enum tcerr t = add_event(r, num, now_us, in->coordinator, "assigned", in->note, d);
	if (t)
		return t;
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 8;
		struct reg_task *v = realloc(m->v, nc * sizeof *v);
		if (!v)
			return diag_set(d, TC_ENOMEM, "out of memory");
		m->v = v;
		m->cap = nc;
	}
	struct reg_task *o = &m->v[m->n++];
	*o = *in;
	o->num = num;
	o->org = org;
	o->state = REG_TASK_ASSIGNED;
	o->created_us = now_us;
	o->acked_us = o->closed_us = o->escalated_us = o->escalated_org = 0;
	o->escalation = 0;
	o->reply[0] = '\0';
	return TC_OK;
}

enum tcerr
registry_task_assign(struct registry *r, const struct reg_task *t_in, const char *org_name,
                     enum reg_sector sector, const char *dedup, int64_t now_us,
                     enum tcerr (*cb)(void *ctx, const struct reg_task *t), void *ctx,
                     size_t *made, struct diag *d)
{
	struct made m = { 0 };
	enum tcerr t;
	sqlite3_stmt *st = NULL;

	if (made)
		*made = 0;
	if ((t = reg_task_action_check(t_in->action, d)))
		return t;
	if (t_in->deadline_us <= now_us)
		return diag_set(d, TC_EINVAL, "the deadline must be later than now");
	if (strnlen(t_in->note, sizeof t_in->note) > REG_TASK_NOTE_MAX ||
	    strnlen(t_in->observables, sizeof t_in->observables) > REG_TASK_OBS_TEXT_MAX ||
	    strnlen(t_in->source, sizeof t_in->source) > REG_TASK_SOURCE_MAX)
		return diag_set(d, TC_ELIMIT, "task text too long");
	if (dedup && strlen(dedup) > REG_TASK_DEDUP_MAX)
		return diag_set(d, TC_ELIMIT, "de-duplication key too long");
	if (!org_name && !reg_sector_name(sector))
		return diag_set(d, TC_EINVAL, "a task goes to an organisation or a sector");

	pthread_mutex_lock(reg__mu(r));
	if ((t = exec(r, "BEGIN IMMEDIATE", d)))
		goto unlock;
	if (org_name) {
		int64_t num = 0;
		if (!(t = find_org(r, org_name, &num, NULL, d)))
			t = insert_task(r, t_in, num, dedup, now_us, &m, d);
	} else {
		int rc = sqlite3_prepare_v2(reg__db(r),
		                            "SELECT num FROM orgs WHERE sector = ?1 AND deleted_us = 0"
		                            " ORDER BY num",
		                            -1, &st, NULL);
		size_t norgs = 0;
		if (rc) {
			t = reg__dberr(r, rc, d);
		} else {
			sqlite3_bind_int(st, 1, (int)sector);
			/* collect first: inserting while the SELECT steps is allowed
			 * in SQLite, but the order of effects is clearer this way */
			int64_t *orgs = NULL;
			size_t cap = 0;
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				if (norgs == cap) {
					size_t nc = cap ? 2 * cap : 16;
					int64_t *v = realloc(orgs, nc * sizeof *v);
					if (!v) {
						t = diag_set(d, TC_ENOMEM, "out of memory");
						break;
					}
					orgs = v;
					cap = nc;
				}
				orgs[norgs++] = sqlite3_column_int64(st, 0);
			}
			if (!t && rc != SQLITE_DONE)
				t = reg__dberr(r, rc, d);
			sqlite3_finalize(st);
			st = NULL;
			if (!t && norgs == 0)
				t = diag_set(d, TC_EINVAL, "sector %s has no organisations",
				             reg_sector_name(sector));
			for (size_t i = 0; !t && i < norgs; i++)
				t = insert_task(r, t_in, orgs[i], dedup, now_us, &m, d);
			free(orgs);
		}
	}
	if (!t)
		t = exec(r, "COMMIT", d);
	if (t)
		sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	if (!t) {
		if (made)
			*made = m.n;
		for (size_t i = 0; cb && i < m.n && !t; i++)
			t = cb(ctx, &m.v[i]);
	}
	free(m.v);
	return t;
}

static enum tcerr
get_locked(struct registry *r, int64_t num, struct reg_task *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT " TASK_COLS " FROM tasks WHERE num = ?1",
	                            -1, &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_int64(st, 1, num);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_task(st, out);
	else if (rc == SQLITE_DONE)
		t = diag_set(d, TC_ENOTFOUND, "no task %" PRId64, num);
	else
		t = reg__dberr(r, rc, d);
	sqlite3_finalize(st);
	return t;
}

enum tcerr
registry_task_get(struct registry *r, int64_t num, struct reg_task *out, struct diag *d)
{
	pthread_mutex_lock(reg__mu(r));
	enum tcerr t = get_locked(r, num, out, d);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

#define LIST_CHUNK 64

enum tcerr
registry_task_list(struct registry *r, int64_t viewer, unsigned states, int64_t after_num,
                   size_t limit, enum tcerr (*cb)(void *ctx, const struct reg_task *t),
                   void *ctx, struct diag *d)
{
	struct reg_task *v = malloc(LIST_CHUNK * sizeof *v);
	enum tcerr t = TC_OK;
	size_t given = 0;
	if (!v)
		return diag_set(d, TC_ENOMEM, "out of memory");
	/* in chunks, the lock released between them, so cb may call the
	 * registry */
	while (given < limit && !t) {
		sqlite3_stmt *st = NULL;
		size_t n = 0;
		pthread_mutex_lock(reg__mu(r));
		int rc = sqlite3_prepare_v2(
			reg__db(r),
			"SELECT " TASK_COLS " FROM tasks WHERE num > ?1 AND (?2 < 0 OR org = ?2 OR"
			" coordinator = ?2 OR escalated_org = ?2) AND (?3 = 0 OR ((1 << state) & ?3))"
			" ORDER BY num LIMIT ?4",
			-1, &st, NULL);
		if (rc) {
			t = reg__dberr(r, rc, d);
		} else {
			size_t want = limit - given < LIST_CHUNK ? limit - given : LIST_CHUNK;
			sqlite3_bind_int64(st, 1, after_num);
			sqlite3_bind_int64(st, 2, viewer);
			sqlite3_bind_int64(st, 3, states);
			sqlite3_bind_int64(st, 4, (int64_t)want);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				read_task(st, &v[n++]);
			if (rc != SQLITE_DONE)
				t = reg__dberr(r, rc, d);
		}
		sqlite3_finalize(st);
		pthread_mutex_unlock(reg__mu(r));
		for (size_t i = 0; i < n && !t; i++)
			t = cb(ctx, &v[i]);
		given += n;
		if (n < LIST_CHUNK)
			break;
		after_num = v[n - 1].num;
	}
	free(v);
	return t;
}

enum tcerr
registry_task_update(struct registry *r, int64_t num, int64_t by_org, enum reg_task_state to,
                     const char *note, int64_t now_us, struct reg_task *out, struct diag *d)
{
	struct reg_task cur;
	enum tcerr t;
	sqlite3_stmt *st = NULL;

	if (note && strlen(note) > REG_TASK_NOTE_MAX)
		return diag_set(d, TC_ELIMIT, "the note is longer than %d bytes", REG_TASK_NOTE_MAX);
	if (to == REG_TASK_DECLINED && (!note || !note[0]))
		return diag_set(d, TC_EINVAL, "a decline needs a note saying why");
	pthread_mutex_lock(reg__mu(r));
	if ((t = exec(r, "BEGIN IMMEDIATE", d)))
		goto unlock;
	if ((t = get_locked(r, num, &cur, d)))
		goto rollback;
	if (cur.org != by_org) {
		t = diag_set(d, TC_ENOTFOUND, "no task %" PRId64, num);
		goto rollback;
	}
	if ((t = reg_task_transition(cur.state, to, d)))
		goto rollback;
	int rc = sqlite3_prepare_v2(
		reg__db(r),
		"UPDATE tasks SET state = ?2, reply = ?3,"
		" acked_us = CASE WHEN acked_us = 0 AND ?2 = 2 THEN ?4 ELSE acked_us END,"
		" closed_us = CASE WHEN ?2 IN (3, 4) THEN ?4 ELSE closed_us END WHERE num = ?1",
		-1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, num);
	sqlite3_bind_int(st, 2, (int)to);
	sqlite3_bind_text(st, 3, note ? note : cur.reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now_us);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	if ((t = add_event(r, num, now_us, by_org, state_names[to], note, d)))
		goto rollback;
	if (out && (t = get_locked(r, num, out, d)))
		goto rollback;
	t = exec(r, "COMMIT", d);
	if (!t)
		goto unlock;
rollback:
	sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

static void
read_event(sqlite3_stmt *st, struct reg_task_event *e)
{
	memset(e, 0, sizeof *e);
	e->num = sqlite3_column_int64(st, 0);
	e->task = sqlite3_column_int64(st, 1);
	e->at_us = sqlite3_column_int64(st, 2);
	e->org = sqlite3_column_int64(st, 3);
	col_text(st, 4, e->what, sizeof e->what);
	col_text(st, 5, e->note, sizeof e->note);
}

/* Runs sql (binding ?1 = a) and hands each event to cb after the lock is
 * released; at most max. */
static enum tcerr
events_query(struct registry *r, const char *sql, int64_t a, size_t max,
             enum tcerr (*cb)(void *ctx, const struct reg_task_event *e), void *ctx,
             struct diag *d)
{
	sqlite3_stmt *st = NULL;
	struct reg_task_event *v = NULL;
	size_t n = 0, cap = 0;
	enum tcerr t = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r), sql, -1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
	} else {
		sqlite3_bind_int64(st, 1, a);
		while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct reg_task_event *w = realloc(v, nc * sizeof *w);
				if (!w) {
					t = diag_set(d, TC_ENOMEM, "out of memory");
					break;
				}
				v = w;
				cap = nc;
			}
			read_event(st, &v[n++]);
		}
		if (!t && n < max && rc != SQLITE_DONE)
			t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	for (size_t i = 0; i < n && !t; i++)
		t = cb(ctx, &v[i]);
	free(v);
	return t;
}

#define TASK_EVENTS_MAX 100000 /* events of one task handed out */

enum tcerr
registry_task_events(struct registry *r, int64_t num,
                     enum tcerr (*cb)(void *ctx, const struct reg_task_event *e), void *ctx,
                     struct diag *d)
{
	return events_query(r,
	                    "SELECT num, task, at_us, org, what, note FROM task_events"
	                    " WHERE task = ?1 ORDER BY num",
	                    num, TASK_EVENTS_MAX, cb, ctx, d);
}

enum tcerr
registry_task_outbox(struct registry *r, size_t max,
                     enum tcerr (*cb)(void *ctx, const struct reg_task_event *e), void *ctx,
                     struct diag *d)
{
	return events_query(r,
	                    "SELECT num, task, at_us, org, what, note FROM task_events"
	                    " WHERE mailed = 0 AND num > ?1 ORDER BY num",
	                    0, max, cb, ctx, d);
}

enum tcerr
registry_task_event_mailed(struct registry *r, int64_t event, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r), "UPDATE task_events SET mailed = 1 WHERE num = ?1",
	                            -1, &st, NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, event);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	enum tcerr t = rc ? reg__dberr(r, rc, d) : TC_OK;
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

/* The lead of sector, 0 when none; under the lock. */
static int64_t
lead_locked(struct registry *r, int sector)
{
	sqlite3_stmt *st = NULL;
	int64_t org = 0;
	if (sqlite3_prepare_v2(reg__db(r), "SELECT org FROM sector_leads WHERE sector = ?1", -1,
	                       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, sector);
		if (sqlite3_step(st) == SQLITE_ROW)
			org = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return org;
}

static enum tcerr
escalate_one(struct registry *r, const struct reg_task *t, int sector, int64_t now_us,
             int64_t lead_after_us, bool *moved, struct diag *d)
{
	unsigned level = 0;
	int64_t to = 0;
	*moved = false;
	if (t->escalation == 0 && t->coordinator > 0 && t->coordinator != t->org) {
		level = 1;
		to = t->coordinator;
	} else if (t->escalation < 2 &&
	           (t->escalation == 0 || now_us - t->deadline_us >= lead_after_us)) {
		to = lead_locked(r, sector);
		if (!to || to == t->org) {
			/* no one further to tell: stop at level 1 (recorded, so the
			 * task is not looked at again until a lead is named) */
			if (t->escalation == 1)
				return TC_OK;
			to = 0;
		}
		level = to ? 2 : 1;
	} else {
		return TC_OK;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "UPDATE tasks SET escalation = ?2, escalated_us = ?3,"
	                            " escalated_org = CASE WHEN ?4 > 0 THEN ?4 ELSE escalated_org END"
	                            " WHERE num = ?1",
	                            -1, &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	sqlite3_bind_int64(st, 1, t->num);
	sqlite3_bind_int(st, 2, (int)level);
	sqlite3_bind_int64(st, 3, now_us);
	sqlite3_bind_int64(st, 4, to);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return reg__dberr(r, rc, d);
	char note[128];
	snprintf(note, sizeof note, "overdue: level %u (%s)", level,
	         level == 1 ? (to ? "the assigning organisation" : "no one to escalate to")
	                    : "the sector's lead organisation");
	*moved = true;
	return add_event(r, t->num, now_us, to, "escalated", note, d);
}

enum tcerr
registry_task_escalate(struct registry *r, int64_t now_us, int64_t lead_after_us, size_t max,
                       size_t *n, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t;
	size_t steps = 0;
	if (n)
		*n = 0;
	pthread_mutex_lock(reg__mu(r));
	if ((t = exec(r, "BEGIN IMMEDIATE", d)))
		goto unlock;
	int rc = sqlite3_prepare_v2(
		reg__db(r),
		"SELECT t.num, t.action, t.org, t.coordinator, t.source, '', '', '', t.state,"
		" t.deadline_us, t.created_us, t.acked_us, t.closed_us, t.escalation,"
		" t.escalated_us, t.escalated_org, o.sector FROM tasks t JOIN orgs o ON o.num = t.org"
		" WHERE t.state IN (1, 2) AND t.deadline_us < ?1 AND t.escalation < 2"
		" ORDER BY t.deadline_us LIMIT ?2",
		-1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, now_us);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	struct reg_task *v = malloc((max ? max : 1) * sizeof *v);
	int *sectors = malloc((max ? max : 1) * sizeof *sectors);
	size_t k = 0;
	if (!v || !sectors) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
	} else {
		while (k < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			read_task(st, &v[k]);
			sectors[k++] = sqlite3_column_int(st, 16);
		}
		if (k < max && rc != SQLITE_DONE)
			t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; !t && i < k; i++) {
		bool moved;
		t = escalate_one(r, &v[i], sectors[i], now_us, lead_after_us, &moved, d);
		steps += moved;
	}
	free(v);
	free(sectors);
	if (!t)
		t = exec(r, "COMMIT", d);
	if (!t) {
		if (n)
			*n = steps;
		goto unlock;
	}
rollback:
	sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

#define STATS_ORGS_MAX 100000

enum tcerr
registry_task_stats(struct registry *r, int64_t now_us,
                    enum tcerr (*cb)(void *ctx, const struct reg_task_stats *s), void *ctx,
                    struct diag *d)
{
	sqlite3_stmt *st = NULL;
	struct reg_task_stats *v = NULL;
	size_t n = 0, cap = 0;
	enum tcerr t = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(
		reg__db(r),
		"SELECT org, sum(state = 1), sum(state = 2), sum(state = 3), sum(state = 4),"
		" sum(state IN (1, 2) AND deadline_us < ?1),"
		" sum(acked_us > 0), sum(CASE WHEN acked_us > 0 THEN acked_us - created_us END),"
		" sum(closed_us > 0), sum(CASE WHEN closed_us > 0 THEN closed_us - created_us END)"
		" FROM tasks GROUP BY org ORDER BY org",
		-1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
	} else {
		sqlite3_bind_int64(st, 1, now_us);
		while (n < STATS_ORGS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct reg_task_stats *w = realloc(v, nc * sizeof *w);
				if (!w) {
					t = diag_set(d, TC_ENOMEM, "out of memory");
					break;
				}
				v = w;
				cap = nc;
			}
			struct reg_task_stats *s = &v[n++];
			s->org = sqlite3_column_int64(st, 0);
			s->assigned = (uint64_t)sqlite3_column_int64(st, 1);
			s->acknowledged = (uint64_t)sqlite3_column_int64(st, 2);
			s->done = (uint64_t)sqlite3_column_int64(st, 3);
			s->declined = (uint64_t)sqlite3_column_int64(st, 4);
			s->overdue = (uint64_t)sqlite3_column_int64(st, 5);
			s->n_acked = (uint64_t)sqlite3_column_int64(st, 6);
			s->ack_us_sum = sqlite3_column_int64(st, 7);
			s->n_closed = (uint64_t)sqlite3_column_int64(st, 8);
			s->close_us_sum = sqlite3_column_int64(st, 9);
		}
		if (!t && n < STATS_ORGS_MAX && rc != SQLITE_DONE)
			t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	for (size_t i = 0; i < n && !t; i++)
		t = cb(ctx, &v[i]);
	free(v);
	return t;
}

enum tcerr
registry_sector_lead_set(struct registry *r, enum reg_sector sector, const char *org_name,
                         struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	int64_t org = 0;
	int osec = 0;
	if (!reg_sector_name(sector))
		return diag_set(d, TC_EINVAL, "unknown sector");
	pthread_mutex_lock(reg__mu(r));
	if (org_name && (t = find_org(r, org_name, &org, &osec, d)))
		goto out;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            org_name ? "INSERT OR REPLACE INTO sector_leads VALUES(?1, ?2)"
	                                     : "DELETE FROM sector_leads WHERE sector = ?1",
	                            -1, &st, NULL);
	if (!rc) {
		sqlite3_bind_int(st, 1, (int)sector);
		if (org_name)
			sqlite3_bind_int64(st, 2, org);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	if (rc)
		t = reg__dberr(r, rc, d);
out:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_sector_lead_get(struct registry *r, enum reg_sector sector, int64_t *org,
                         struct diag *d)
{
	(void)d;
	pthread_mutex_lock(reg__mu(r));
	*org = lead_locked(r, (int)sector);
	pthread_mutex_unlock(reg__mu(r));
	return TC_OK;
}

static bool
email_ok(const char *e)
{
	size_t n = e ? strlen(e) : 0;
	const char *at = e ? strchr(e, '@') : NULL;
	if (n < 3 || n > REG_TASK_EMAIL_MAX || !at || at == e || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = e; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("<>,\"()[];:\\", c))
			return false;
	}
	return strchr(at + 1, '.') != NULL;
}

enum tcerr
registry_contact_add(struct registry *r, const char *org_name, const char *email,
                     struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t;
	int64_t org = 0, count = 0;
	if (!email_ok(email))
		return diag_set(d, TC_EINVAL, "'%.64s' is not an e-mail address (LOCAL@DOMAIN)",
		                email ? email : "");
	pthread_mutex_lock(reg__mu(r));
	if ((t = find_org(r, org_name, &org, NULL, d)))
		goto out;
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT count(*) FROM org_contacts WHERE org = ?1",
	                            -1, &st, NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, org);
		if (sqlite3_step(st) == SQLITE_ROW)
			count = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (count >= REG_CONTACTS_MAX) {
		t = diag_set(d, TC_ELIMIT, "an organisation has at most %d contacts",
		             REG_CONTACTS_MAX);
		goto out;
	}
	rc = sqlite3_prepare_v2(reg__db(r), "INSERT INTO org_contacts VALUES(?1, ?2)", -1, &st,
	                        NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, org);
		sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		t = diag_set(d, TC_EEXIST, "%.128s has contact %.254s already", org_name, email);
	else if (rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
out:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_contact_remove(struct registry *r, const char *org_name, const char *email,
                        struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t;
	int64_t org = 0;
	pthread_mutex_lock(reg__mu(r));
	if ((t = find_org(r, org_name, &org, NULL, d)))
		goto out;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "DELETE FROM org_contacts WHERE org = ?1 AND email = ?2", -1,
	                            &st, NULL);
	if (!rc) {
		sqlite3_bind_int64(st, 1, org);
		sqlite3_bind_text(st, 2, email ? email : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		t = diag_set(d, TC_ENOTFOUND, "%.128s has no contact %.254s", org_name,
		             email ? email : "");
out:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_contact_list(struct registry *r, int64_t org,
                      enum tcerr (*cb)(void *ctx, const char *email), void *ctx,
                      struct diag *d)
{
	sqlite3_stmt *st = NULL;
	char v[REG_CONTACTS_MAX][REG_TASK_EMAIL_MAX + 1];
	size_t n = 0;
	enum tcerr t = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "SELECT email FROM org_contacts WHERE org = ?1 ORDER BY email",
	                            -1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
	} else {
		sqlite3_bind_int64(st, 1, org);
		while (n < REG_CONTACTS_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW)
			col_text(st, 0, v[n++], sizeof v[0]);
		if (n < REG_CONTACTS_MAX && rc != SQLITE_DONE)
			t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	for (size_t i = 0; i < n && !t; i++)
		t = cb(ctx, v[i]);
	return t;
}

enum tcerr
registry_coord_generation(struct registry *r, uint64_t *out, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT n FROM coord_generation", -1, &st, NULL);
	if (!rc && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc)
		t = reg__dberr(r, rc, d);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

static bool
cursor_name_ok(const char *name)
{
	return name && (strcmp(name, REG_COORD_CURSOR) == 0 || strcmp(name, REG_TASK_LOG_CURSOR) == 0);
}

enum tcerr
registry_task_events_after(struct registry *r, int64_t after, size_t max,
                           enum tcerr (*cb)(void *ctx, const struct reg_task_event *e), void *ctx,
                           struct diag *d)
{
	return events_query(r,
	                    "SELECT num, task, at_us, org, what, note FROM task_events"
	                    " WHERE num > ?1 ORDER BY num",
	                    after, max, cb, ctx, d);
}

enum tcerr
registry_coord_cursor_get(struct registry *r, const char *name, uint64_t *seq, bool *found,
                          struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	*found = false;
	*seq = 0;
	if (!cursor_name_ok(name))
		return diag_set(d, TC_EINVAL, "unknown cursor");
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?1", -1,
	                            &st, NULL);
	if (!rc) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*found = true;
			*seq = (uint64_t)sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc)
		t = reg__dberr(r, rc, d);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_coord_cursor_advance(struct registry *r, const char *name, uint64_t seq, struct diag *d)
{
	char val[32];
	if (!cursor_name_ok(name))
		return diag_set(d, TC_EINVAL, "unknown cursor");
	if (seq > INT64_MAX)
		return diag_set(d, TC_EINVAL, "position out of range");
	snprintf(val, sizeof val, "%" PRIu64, seq);
	return reg__setting_forward(r, name, val, false, d);
}
