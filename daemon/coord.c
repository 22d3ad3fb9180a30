/*
 * coord.c — the coordination worker (coord.h). One thread, its own store
 * handle: reads the log after its cursor (store_log_versions), skips at
 * once every version whose observable kinds no rule and no constituency
 * can use (the store hands the kinds as a bit set, so most versions cost
 * no JSON parse), plans the rest with coord_plan, and assigns each
 * proposal to the organisations it names that may see the version
 * (policy_row for the organisation as a whole: the one policy door — a
 * task must not tell an organisation about an indicator it may not see).
 *
 * Invariants: the cursor is advanced only after the tasks of every
 * version up to it were made (a crash replans, and the de-duplication
 * keys make that harmless); the constituency table is rebuilt only when
 * the registry's coord generation moves; the writer is never waited on.
 */
#include "coord.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "coord/coord.h"
#include "log.h"
#include "policy/policy.h"
#include "stix/stix_id.h"
#include "store/store.h"
#include "util/timestamp.h"

struct coord_worker {
	struct app *a;
	pthread_t th;
	bool started;
	_Atomic bool stop;
	struct coord_rules rules;
	struct coord_consts *consts;
	uint64_t consts_gen;
	unsigned kinds;                 /* kinds some rule or constituency can use */
	struct store *store;
	uint64_t cursor;

	_Atomic uint64_t objects;       /* versions planned (parsed) */
	_Atomic uint64_t skipped;       /* versions skipped by kind */
	_Atomic uint64_t tasks;         /* tasks made */
	_Atomic uint64_t hidden;        /* proposals policy kept from an organisation */
	_Atomic uint64_t eval_ns;       /* time spent planning and assigning */
	_Atomic uint64_t escalations;
	_Atomic uint64_t position;
	_Atomic uint64_t mails, mail_failures;
	int64_t mail_next_us;           /* after a failure, the next attempt */
	bool warned_collection;         /* [coord] tasks_collection named no collection */
	_Atomic uint64_t logged;        /* task versions committed to the log */
	struct coord_mail_cfg mail;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct cvec {
	struct reg_const *v;
	size_t n, cap;
};

static enum tcerr
cvec_add(void *ctx, const struct reg_const *c)
{
	struct cvec *cv = ctx;
	if (cv->n == cv->cap) {
		size_t nc = cv->cap ? 2 * cv->cap : 64;
		struct reg_const *v = realloc(cv->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		cv->v = v;
		cv->cap = nc;
	}
	cv->v[cv->n++] = *c;
	return TC_OK;
}

/* Rebuilds the constituency table when the registry says it changed. */
static void
consts_refresh(struct coord_worker *w)
{
	struct diag d;
	uint64_t g = 0;
	diag_clear(&d);
	if (registry_coord_generation(w->a->registry, &g, &d)) {
		log_error("coord: cannot read the registry", d.msg);
		return;
	}
	if (w->consts && g == w->consts_gen)
		return;
	struct cvec cv = { 0 };
	struct coord_consts *c = NULL;
	if (!w->a->conf->coord_constituency_tasks) {
		if (coord_consts_build(NULL, 0, &c, &d) == TC_OK) {
			coord_consts_free(w->consts);
			w->consts = c;
		}
		w->consts_gen = g;
		return;
	}
	if (registry_constituency_list(w->a->registry, 0, cvec_add, &cv, &d) ||
	    coord_consts_build(cv.v, cv.n, &c, &d)) {
		log_error("coord: cannot load the constituencies", d.msg[0] ? d.msg : "out of memory");
		free(cv.v);
		return;
	}
	free(cv.v);
	coord_consts_free(w->consts);
	w->consts = c;
	w->consts_gen = g;
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "coord: constituencies loaded");
	log_int(&l, "entries", (int64_t)coord_consts_count(c));
	log_end(&l);
}

struct plan_ctx {
	struct coord_worker *w;
	const struct reg_snapshot *snap;
	const struct store_row *row;
	int64_t now;
};

static void
assign_one(struct plan_ctx *pc, const struct coord_proposal *p, const struct reg_org *o)
{
	struct coord_worker *w = pc->w;
	struct policy_subject who;
	struct diag d;
	if (o->deleted_us)
		return;
	policy_subject_org(&who, pc->snap, o);
	if (!policy_row(&who, pc->row)) {
		atomic_fetch_add(&w->hidden, 1);
		return;
	}
	struct reg_task t;
	memset(&t, 0, sizeof t);
	snprintf(t.action, sizeof t.action, "%s", p->action);
	snprintf(t.source, sizeof t.source, "%s", p->source);
	snprintf(t.observables, sizeof t.observables, "%s", p->observables);
	snprintf(t.note, sizeof t.note, "%s (log position %" PRIu64 ")", pc->row->id,
	         pc->row->seq);
	t.deadline_us = pc->now + p->deadline_us;
	char key[24];
	snprintf(key, sizeof key, "#%" PRId64, o->num);
	size_t made = 0;
	diag_clear(&d);
	if (registry_task_assign(w->a->registry, &t, key, 0, p->dedup, pc->now, NULL, NULL, &made,
	                         &d)) {
		log_error("coord: cannot assign a task", d.msg);
		return;
	}
	if (made) {
		atomic_fetch_add(&w->tasks, made);
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "coord: task assigned");
		log_str(&l, "org", o->name);
		log_str(&l, "action", p->action);
		log_str(&l, "source", p->source);
		log_str(&l, "object", pc->row->id);
		log_end(&l);
	}
}

static enum tcerr
on_proposal(void *ctx, const struct coord_proposal *p)
{
	struct plan_ctx *pc = ctx;
	size_t n = reg_snapshot_norgs(pc->snap);
	for (size_t i = 0; i < n; i++) {
		const struct reg_org *o = reg_snapshot_org_at(pc->snap, i);
		bool hit = p->org_num ? o->num == p->org_num
		         : p->org_name ? strcasecmp(o->name, p->org_name) == 0
		                       : o->sector == p->sector;
		if (hit)
			assign_one(pc, p, o);
	}
	return TC_OK;
}

struct pass {
	struct coord_worker *w;
	const struct reg_snapshot *snap;
	int64_t now;
};

static int
row_confidence(void *cctx)
{
	return coord_confidence_text(((const struct store_row *)cctx)->json);
}

static enum store_row_verdict
on_row(void *ctx, const struct store_row *row, uint32_t kinds)
{
	struct pass *ps = ctx;
	struct coord_worker *w = ps->w;
	if (!(kinds & w->kinds) || row->revoked || strcmp(row->type, "indicator") != 0) {
		atomic_fetch_add(&w->skipped, 1);
		return STORE_ROW_TAKE;
	}
	uint64_t t0 = mono_ns();
	/* the observables as the store indexed them: no parse */
	struct coord_obs v[COORD_ROW_OBS_MAX];
	size_t n = 0;
	struct slice cur = row->obs;
	enum obs_kind k;
	struct slice val;
	while (n < COORD_ROW_OBS_MAX && store_row_obs_next(&cur, &k, &val))
		v[n++] = (struct coord_obs){ k, val };
	struct plan_ctx pc = { w, ps->snap, row, ps->now };
	struct diag d;
	diag_clear(&d);
	if (coord_plan_obs(v, n, row_confidence, (void *)row, &w->rules, w->consts, on_proposal, &pc,
	                   NULL, &d))
		log_error("coord: cannot plan", d.msg);
	atomic_fetch_add(&w->objects, 1);
	atomic_fetch_add(&w->eval_ns, mono_ns() - t0);
	return STORE_ROW_TAKE;
}

static void
pass(struct coord_worker *w)
{
	struct diag d;
	consts_refresh(w);
	w->kinds = 0;
	for (size_t i = 0; i < w->rules.n; i++)
		w->kinds |= w->rules.v[i].kinds;
	if (coord_consts_count(w->consts))
		w->kinds |= 1u << OBS_IPV4 | 1u << OBS_IPV6 | 1u << OBS_DOMAIN | 1u << OBS_URL |
		            1u << OBS_EMAIL | 1u << OBS_ASN;
	struct reg_snapshot *snap = app_snapshot_get(w->a);
	for (;;) {
		uint64_t last = 0;
		struct pass ps = { w, snap, ts_now_us() };
		diag_clear(&d);
		if (!snap || store_log_versions(w->store, w->cursor, COORD_BATCH_ROWS, on_row, &ps,
		                                &last, &d)) {
			if (snap)
				log_error("coord: cannot read the log", d.msg);
			break;
		}
		if (last == 0 || last <= w->cursor)
			break;
		w->cursor = last;
		atomic_store(&w->position, last);
		if (registry_coord_cursor_advance(w->a->registry, REG_COORD_CURSOR, last, &d))
			log_error("coord: cannot store the position", d.msg);
		if (atomic_load(&w->stop))
			break;
	}
	if (snap)
		reg_snapshot_unref(snap);
	size_t n = 0;
	diag_clear(&d);
	if (registry_task_escalate(w->a->registry, ts_now_us(),
	                           (int64_t)w->a->conf->coord_escalate_lead_after * 1000000,
	                           COORD_ESCALATE_MAX, &n, &d))
		log_error("coord: cannot escalate", d.msg);
	else if (n) {
		atomic_fetch_add(&w->escalations, n);
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "coord: overdue tasks escalated");
		log_int(&l, "steps", (int64_t)n);
		log_end(&l);
	}
}

struct evec {
	struct reg_task_event *v;
	size_t n, cap;
};

static enum tcerr
evec_add(void *ctx, const struct reg_task_event *e)
{
	struct evec *ev = ctx;
	if (ev->n == ev->cap) {
		size_t nc = ev->cap ? 2 * ev->cap : 16;
		struct reg_task_event *v = realloc(ev->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		ev->v = v;
		ev->cap = nc;
	}
	ev->v[ev->n++] = *e;
	return TC_OK;
}

struct rcpts {
	char v[REG_CONTACTS_MAX][REG_TASK_EMAIL_MAX + 1];
	const char *p[REG_CONTACTS_MAX];
	size_t n;
};

static enum tcerr
rcpt_add(void *ctx, const char *email)
{
	struct rcpts *r = ctx;
	if (r->n < REG_CONTACTS_MAX) {
		snprintf(r->v[r->n], sizeof r->v[0], "%s", email);
		r->p[r->n] = r->v[r->n];
		r->n++;
	}
	return TC_OK;
}

/* Mails the task events not mailed yet, to the contacts of whom each
 * concerns: a new task its assignee, an escalation the organisation
 * escalated to, an answer the organisation that assigned the task. An
 * event older than COORD_MAIL_STALE_US is dropped unsent (a hub that
 * gets an SMTP server later does not mail its history). */
static void
mail_pass(struct coord_worker *w)
{
	struct app *a = w->a;
	struct evec ev = { 0 };
	struct diag d;
	int64_t now = ts_now_us();
	if (!a->conf->coord_smtp_url[0] || now < w->mail_next_us)
		return;
	diag_clear(&d);
	if (registry_task_outbox(a->registry, COORD_MAIL_BATCH, evec_add, &ev, &d)) {
		log_error("coord: cannot read the mail outbox", d.msg[0] ? d.msg : "out of memory");
		free(ev.v);
		return;
	}
	struct reg_snapshot *snap = app_snapshot_get(a);
	struct buf msg;
	buf_init(&msg, COORD_MAIL_MAX);
	for (size_t i = 0; i < ev.n && !atomic_load(&w->stop); i++) {
		const struct reg_task_event *e = &ev.v[i];
		struct reg_task t;
		struct rcpts rc = { .n = 0 };
		int64_t to = 0;
		diag_clear(&d);
		if (registry_task_get(a->registry, e->task, &t, &d))
			goto handled;
		to = strcmp(e->what, "assigned") == 0    ? t.org
		     : strcmp(e->what, "escalated") == 0 ? e->org
		                                         : t.coordinator;
		if (to <= 0 || now - e->at_us > COORD_MAIL_STALE_US)
			goto handled;
		if (registry_contact_list(a->registry, to, rcpt_add, &rc, &d) || rc.n == 0)
			goto handled;
		const struct reg_org *ao = snap ? reg_snapshot_org(snap, t.org) : NULL;
		const struct reg_org *bo = snap && e->org > 0 ? reg_snapshot_org(snap, e->org) : NULL;
		buf_clear(&msg);
		coord_mail_compose(&w->mail, &t, e, ao ? ao->name : "?", bo ? bo->name : NULL, &msg);
		if (buf_error(&msg))
			goto handled;
		if (coord_mail_send(&w->mail, rc.p, rc.n, buf_slice(&msg), &d)) {
			atomic_fetch_add(&w->mail_failures, 1);
			log_error("coord: cannot mail a task notification; retrying later", d.msg);
			w->mail_next_us = now + COORD_MAIL_RETRY_US;
			break;
		}
		atomic_fetch_add(&w->mails, 1);
	handled:
		if (registry_task_event_mailed(a->registry, e->num, &d)) {
			log_error("coord: cannot mark a notification sent", d.msg);
			break;
		}
	}
	buf_reset(&msg);
	if (snap)
		reg_snapshot_unref(snap);
	free(ev.v);
}

/* The x-tocsin-task id of task num: keyed with the hub's id key, so two
 * hubs' task 1 differ and nobody outside predicts ids. */
static bool
task_id(struct coord_worker *w, int64_t num, char out[STIX_ID_MAX])
{
	char name[48], uuid[UUID_TEXT_MAX];
	snprintf(name, sizeof name, "tocsin-task:%" PRId64, num);
	if (uuid_keyed(hub_id_key(w->a->hub), HUB_ID_KEY_LEN, slice_from_cstr(name), uuid))
		return false;
	snprintf(out, STIX_ID_MAX, "x-tocsin-task--%s", uuid);
	return true;
}

static const char *
identity_of(const struct reg_snapshot *snap, int64_t num)
{
	const struct reg_org *o = num > 0 ? reg_snapshot_org(snap, num) : NULL;
	return o ? o->identity : NULL;
}

/* Mirrors task events into the log ([coord] tasks_collection): each event
 * becomes a new version of its task's x-tocsin-task object, committed by
 * the writer like any object, so the stream, webhooks and TAXII deliver
 * it to whom policy shows it (TLP:RED to the recipients it names). */
static void
log_pass(struct coord_worker *w)
{
	struct app *a = w->a;
	struct diag d;
	struct evec ev = { 0 };
	uint64_t after = 0;
	bool found;
	if (!a->conf->coord_tasks_collection[0] || !a->writer)
		return;
	struct reg_snapshot *snap = app_snapshot_get(a);
	const struct reg_collection *col =
		snap ? reg_snapshot_collection_find(snap, a->conf->coord_tasks_collection) : NULL;
	diag_clear(&d);
	if (!col) {
		if (!w->warned_collection)
			log_error("coord: [coord] tasks_collection names no collection; tasks are not "
			          "mirrored into the log", a->conf->coord_tasks_collection);
		w->warned_collection = true;
		goto out;
	}
	w->warned_collection = false;
	if (registry_coord_cursor_get(a->registry, REG_TASK_LOG_CURSOR, &after, &found, &d) ||
	    registry_task_events_after(a->registry, (int64_t)after, COORD_LOG_BATCH, evec_add, &ev,
	                               &d)) {
		log_error("coord: cannot read the task events", d.msg[0] ? d.msg : "out of memory");
		goto out;
	}
	if (ev.n == 0)
		goto out;
	struct hub_item items[COORD_LOG_BATCH];
	struct hub_result res[COORD_LOG_BATCH];
	size_t n = 0;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < ev.n; i++) {
		const struct reg_task_event *e = &ev.v[i];
		struct reg_task t;
		char id[STIX_ID_MAX];
		enum reg_task_state st;
		if (registry_task_get(a->registry, e->task, &t, &d) || !task_id(w, t.num, id))
			continue;
		/* the version shows the state this event made */
		if (reg_task_state_parse(e->what, &st) == TC_OK)
			t.state = st;
		struct coord_task_ids ids = {
			identity_of(snap, t.org), identity_of(snap, t.coordinator),
			identity_of(snap, t.escalated_org), identity_of(snap, e->org),
		};
		if (!ids.assignee)
			continue;
		buf_clear(&b);
		coord_task_stix(&t, e, id, &ids, &b);
		json_error_t je;
		json_t *o = buf_error(&b) ? NULL : json_loadb(b.p, b.len, 0, &je);
		if (!o)
			continue;
		memset(&items[n], 0, sizeof items[n]);
		items[n].obj = o;
		items[n].path = "x-tocsin-task";
		items[n].collection = col->c.num;
		items[n].producer = 0;
		n++;
	}
	buf_reset(&b);
	enum tcerr t = n ? hub_writer_ingest(a->writer, items, n, res, &d) : TC_OK;
	for (size_t i = 0; i < n; i++) {
		if (!t && res[i].verdict == HUB_REJECTED)
			log_error("coord: a task version was refused", res[i].why);
		json_decref(items[i].obj);
	}
	if (t) {
		log_error("coord: cannot commit task versions; retrying", d.msg);
		goto out;
	}
	atomic_fetch_add(&w->logged, n);
	if (registry_coord_cursor_advance(a->registry, REG_TASK_LOG_CURSOR,
	                                  (uint64_t)ev.v[ev.n - 1].num, &d))
		log_error("coord: cannot store the task log position", d.msg);
out:
	free(ev.v);
	if (snap)
		reg_snapshot_unref(snap);
}

static void *
run(void *arg)
{
	struct coord_worker *w = arg;
	struct notify_seen seen = { notify_gen(&w->a->notify), 0 };
	while (!atomic_load(&w->stop)) {
		pass(w);
		log_pass(w);
		mail_pass(w);
		notify_wait(&w->a->notify, &seen, COORD_WAIT_MS);
	}
	return NULL;
}

enum tcerr
coord_worker_start(struct app *a, struct coord_worker **out, struct diag *d)
{
	struct coord_worker *w = calloc(1, sizeof *w);
	enum tcerr t;
	bool found = false;
	if (!w)
		return diag_set(d, TC_ENOMEM, "out of memory");
	w->a = a;
	snprintf(w->mail.url, sizeof w->mail.url, "%s", a->conf->coord_smtp_url);
	size_t fl = strlen(a->conf->coord_mail_from);
	if (fl > REG_TASK_EMAIL_MAX || !strchr(a->conf->coord_mail_from, '@')) {
		t = diag_set(d, TC_EINVAL, "[coord] mail_from: an address of at most %d bytes",
		             REG_TASK_EMAIL_MAX);
		goto fail;
	}
	memcpy(w->mail.from, a->conf->coord_mail_from, fl + 1);
	w->mail.starttls = a->conf->coord_smtp_starttls;
	w->mail.timeout_ms = a->conf->coord_smtp_timeout_ms;
	if (gethostname(w->mail.hostname, sizeof w->mail.hostname - 1))
		w->mail.hostname[0] = '\0';
	if (a->conf->coord_routes[0] && (t = coord_rules_load(a->conf->coord_routes, &w->rules, d)))
		goto fail;
	if ((t = store_open(a->store_spec, &w->store, d)))
		goto fail;
	if ((t = registry_coord_cursor_get(a->registry, REG_COORD_CURSOR, &w->cursor, &found, d)))
		goto fail;
	if (!found) {
		/* a first start: from the log's end */
		if ((t = store_position(w->store, &w->cursor)) ||
		    (t = registry_coord_cursor_advance(a->registry, REG_COORD_CURSOR, w->cursor, d)))
			goto fail;
	}
	atomic_store(&w->position, w->cursor);
	if (pthread_create(&w->th, NULL, run, w)) {
		t = diag_set(d, TC_EIO, "cannot start the coordination thread");
		goto fail;
	}
	w->started = true;
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "coord: started");
	log_int(&l, "rules", (int64_t)w->rules.n);
	log_int(&l, "position", (int64_t)w->cursor);
	log_end(&l);
	*out = w;
	return TC_OK;
fail:
	coord_rules_free(&w->rules);
	if (w->store)
		store_close(w->store);
	free(w);
	return t;
}

void
coord_worker_stop(struct coord_worker *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	notify_poke(&w->a->notify);
	if (w->started)
		pthread_join(w->th, NULL);
	coord_rules_free(&w->rules);
	coord_consts_free(w->consts);
	store_close(w->store);
	free(w);
}

void
coord_worker_metrics(struct coord_worker *w, struct buf *out)
{
	if (!w)
		return;
	buf_printf(out,
	           "# HELP tocsin_coord_position The log position the coordination worker has "
	           "planned tasks up to.\n# TYPE tocsin_coord_position gauge\n"
	           "tocsin_coord_position %" PRIu64 "\n"
	           "# HELP tocsin_coord_objects_total Indicators the routing rules and "
	           "constituencies were evaluated on.\n# TYPE tocsin_coord_objects_total counter\n"
	           "tocsin_coord_objects_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_skipped_total Log versions skipped by kind without "
	           "evaluation.\n# TYPE tocsin_coord_skipped_total counter\n"
	           "tocsin_coord_skipped_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_tasks_total Tasks the routing rules and constituencies "
	           "made.\n# TYPE tocsin_coord_tasks_total counter\n"
	           "tocsin_coord_tasks_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_hidden_total Proposed tasks not made because the "
	           "organisation may not see the indicator.\n"
	           "# TYPE tocsin_coord_hidden_total counter\n"
	           "tocsin_coord_hidden_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_eval_seconds_total Time spent evaluating and assigning.\n"
	           "# TYPE tocsin_coord_eval_seconds_total counter\n"
	           "tocsin_coord_eval_seconds_total %.6f\n"
	           "# HELP tocsin_coord_task_versions_total Task versions committed to the log "
	           "([coord] tasks_collection).\n# TYPE tocsin_coord_task_versions_total counter\n"
	           "tocsin_coord_task_versions_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_mails_total Task notifications mailed.\n"
	           "# TYPE tocsin_coord_mails_total counter\n"
	           "tocsin_coord_mails_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_mail_failures_total Task notifications the SMTP server "
	           "did not take (retried).\n# TYPE tocsin_coord_mail_failures_total counter\n"
	           "tocsin_coord_mail_failures_total %" PRIu64 "\n"
	           "# HELP tocsin_coord_escalations_total Escalation steps of overdue tasks.\n"
	           "# TYPE tocsin_coord_escalations_total counter\n"
	           "tocsin_coord_escalations_total %" PRIu64 "\n",
	           atomic_load(&w->position), atomic_load(&w->objects), atomic_load(&w->skipped),
	           atomic_load(&w->tasks), atomic_load(&w->hidden),
	           (double)atomic_load(&w->eval_ns) / 1e9, atomic_load(&w->logged),
	           atomic_load(&w->mails),
	           atomic_load(&w->mail_failures), atomic_load(&w->escalations));
}
