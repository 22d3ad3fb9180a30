/*
 * api_tasks.c — the task inbox over HTTP (api_tasks.h). The registry keeps
 * the tasks; this file decides who may see and move which: an organisation
 * its own (assignee, assigner, escalated to), coordinators and admins all.
 * Invariant: a task the caller may not see gets the same 404 as a task
 * that does not exist, so ids tell nothing.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_tasks.h"
#include "coord.h"
#include "coord/coord.h"
#include "log.h"
#include "util/timestamp.h"

bool
api_tasks_route(const char *url)
{
	size_t n = strlen(API_TASKS_PATH);
	return strncmp(url, API_TASKS_PATH, n) == 0 && (url[n] == '\0' || url[n] == '/');
}

static void
error(struct api_response *rs, int status, const char *title, const char *desc)
{
	rs->status = status;
	rs->content_type = "application/json";
	buf_clear(&rs->body);
	buf_append_cstr(&rs->body, "{\"title\":");
	buf_append_json_str(&rs->body, slice_from_cstr(title));
	buf_append_cstr(&rs->body, ",\"description\":");
	buf_append_json_str(&rs->body, slice_from_cstr(desc));
	buf_printf(&rs->body, ",\"http_status\":\"%d\"}", status);
}

static const char *
org_name(const struct reg_snapshot *snap, int64_t num)
{
	const struct reg_org *o = num > 0 ? reg_snapshot_org(snap, num) : NULL;
	return o ? o->name : NULL;
}

static void
task_json(const struct reg_snapshot *snap, const struct reg_task *t, struct buf *out)
{
	coord_task_json(t, org_name(snap, t->org), t->coordinator ? org_name(snap, t->coordinator) : "",
	                org_name(snap, t->escalated_org), ts_now_us(), out);
}

/* Appends and syncs one audit entry for a change made through the inbox
 * (the change is made: a failure is logged, not answered). */
static void
audit_task(struct app *a, const struct reg_snapshot *snap, const struct reg_principal *p,
           const char *action, const char *detail)
{
	struct diag d;
	const struct reg_org *o = reg_snapshot_org(snap, p->org);
	struct audit_entry e = { .action = action, .actor = p->key_id,
		                 .org = o ? o->name : NULL, .detail = detail };
	diag_clear(&d);
	if (!a->audit)
		return;
	if (audit_append(a->audit, &e, &d) || audit_sync(a->audit, &d))
		log_error("tasks: cannot audit a change", d.msg);
}

static bool
sees_all(const struct reg_principal *p)
{
	return p->role == ROLE_COORDINATOR || p->role == ROLE_ADMIN;
}

struct list_ctx {
	const struct reg_snapshot *snap;
	struct buf *out;
	size_t n;
	int64_t last;
};

static enum tcerr
list_cb(void *ctx, const struct reg_task *t)
{
	struct list_ctx *lc = ctx;
	if (lc->n++)
		buf_append_char(lc->out, ',');
	task_json(lc->snap, t, lc->out);
	lc->last = t->num;
	return TC_OK;
}

struct ev_ctx {
	const struct reg_snapshot *snap;
	struct buf *out;
	size_t n;
};

static enum tcerr
ev_cb(void *ctx, const struct reg_task_event *e)
{
	struct ev_ctx *ec = ctx;
	if (ec->n++)
		buf_append_char(ec->out, ',');
	coord_event_json(e, org_name(ec->snap, e->org), ec->out);
	return TC_OK;
}

/* The value of key in a query string ("a=1&b=2"), copied to out. */
static bool
query_get(const char *q, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = q; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = len - kl - 1;
			if (vl >= size)
				return false;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
	return false;
}

static bool
uint_of(const char *s, int64_t max, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return false;
	int64_t v = strtoll(s, NULL, 10);
	if (v > max)
		return false;
	*out = v;
	return true;
}

static void
list(struct app *a, const struct reg_snapshot *snap, const struct reg_principal *p,
     const char *query, struct api_response *rs)
{
	char v[32];
	unsigned states = 0;
	int64_t after = 0, limit = API_TASKS_PAGE_DEFAULT;
	struct diag d;
	if (query_get(query, "state", v, sizeof v)) {
		enum reg_task_state s;
		if (reg_task_state_parse(v, &s))
			return error(rs, 400, "bad request",
			             "state is assigned, acknowledged, done or declined");
		states = 1u << s;
	}
	if (query_get(query, "after", v, sizeof v) && !uint_of(v, INT64_MAX, &after))
		return error(rs, 400, "bad request", "after is a task id");
	if (query_get(query, "limit", v, sizeof v) &&
	    (!uint_of(v, API_TASKS_PAGE_MAX, &limit) || limit == 0))
		return error(rs, 400, "bad request", "limit is 1 to 1000");
	buf_append_cstr(&rs->body, "{\"tasks\":[");
	struct list_ctx lc = { snap, &rs->body, 0, 0 };
	diag_clear(&d);
	/* a full page says there may be more: ask again after "next" */
	if (registry_task_list(a->registry, sees_all(p) ? -1 : p->org, states, after,
	                       (size_t)limit, list_cb, &lc, &d)) {
		log_error("tasks: cannot list", d.msg);
		return error(rs, 503, "the hub could not read its tasks", "try again later");
	}
	buf_printf(&rs->body, "],\"more\":%s", lc.n == (size_t)limit ? "true" : "false");
	if (lc.n == (size_t)limit)
		buf_printf(&rs->body, ",\"next\":\"%" PRId64 "\"", lc.last);
	buf_append_cstr(&rs->body, "}\n");
}

static void
show(struct app *a, const struct reg_snapshot *snap, const struct reg_principal *p,
     int64_t num, struct api_response *rs)
{
	struct reg_task t;
	struct diag d;
	diag_clear(&d);
	enum tcerr e = registry_task_get(a->registry, num, &t, &d);
	if (e == TC_ENOTFOUND || (!e && !sees_all(p) && !reg_task_visible(&t, p->org)))
		return error(rs, 404, "not found", "no such task");
	if (e) {
		log_error("tasks: cannot read", d.msg);
		return error(rs, 503, "the hub could not read the task", "try again later");
	}
	task_json(snap, &t, &rs->body);
	buf_truncate(&rs->body, rs->body.len - 1); /* the closing brace */
	buf_append_cstr(&rs->body, ",\"events\":[");
	struct ev_ctx ec = { snap, &rs->body, 0 };
	if (registry_task_events(a->registry, num, ev_cb, &ec, &d)) {
		log_error("tasks: cannot read events", d.msg);
		return error(rs, 503, "the hub could not read the task", "try again later");
	}
	buf_append_cstr(&rs->body, "]}\n");
}

static void
answer(struct app *a, const struct reg_snapshot *snap, const struct reg_principal *p,
       int64_t num, const char *verb, struct slice body, struct api_response *rs)
{
	enum reg_task_state to;
	if (strcmp(verb, "ack") == 0)
		to = REG_TASK_ACKNOWLEDGED;
	else if (strcmp(verb, "done") == 0)
		to = REG_TASK_DONE;
	else if (strcmp(verb, "decline") == 0)
		to = REG_TASK_DECLINED;
	else
		return error(rs, 404, "not found", "a task answers ack, done or decline");
	if (p->role == ROLE_AGENT || p->role == ROLE_PEER)
		return error(rs, 403, "forbidden", "agent and peer keys do not answer tasks");
	const char *note = NULL;
	json_t *o = NULL;
	if (body.len) {
		json_error_t je;
		o = json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &je);
		json_t *n = json_object_get(o, "note");
		if (!json_is_object(o) || (n && !json_is_string(n))) {
			json_decref(o);
			return error(rs, 400, "bad request", "the body is {\"note\":\"TEXT\"}");
		}
		note = json_string_value(n);
	}
	struct reg_task t;
	struct diag d;
	diag_clear(&d);
	enum tcerr e = registry_task_update(a->registry, num, p->org, to, note, ts_now_us(), &t, &d);
	json_decref(o);
	if (e == TC_ENOTFOUND) {
		/* not the caller's: a coordinator may see it but not answer it */
		struct reg_task x;
		if (sees_all(p) && registry_task_get(a->registry, num, &x, &d) == TC_OK)
			return error(rs, 403, "forbidden", "only the assignee answers a task");
		return error(rs, 404, "not found", "no such task");
	}
	if (e == TC_EINVAL || e == TC_ELIMIT)
		return error(rs, 409, "conflict", d.msg);
	if (e) {
		log_error("tasks: cannot update", d.msg);
		return error(rs, 503, "the hub could not store the answer", "try again later");
	}
	char detail[64], action[32];
	snprintf(detail, sizeof detail, "task %" PRId64 " %s", num, reg_task_state_name(to));
	snprintf(action, sizeof action, "task.%s", verb);
	audit_task(a, snap, p, action, detail);
	task_json(snap, &t, &rs->body);
	buf_append_char(&rs->body, '\n');
}

struct made_ctx {
	const struct reg_snapshot *snap;
	struct buf *out;
	size_t n;
};

static enum tcerr
made_cb(void *ctx, const struct reg_task *t)
{
	struct made_ctx *mc = ctx;
	if (mc->n++)
		buf_append_char(mc->out, ',');
	task_json(mc->snap, t, mc->out);
	return TC_OK;
}

static void
assign(struct app *a, const struct reg_snapshot *snap, const struct reg_principal *p,
       struct slice body, struct api_response *rs)
{
	json_error_t je;
	struct diag d;
	struct reg_task t;
	struct buf obs;
	enum reg_sector sector = 0;
	const char *kinds[COORD_TASK_OBS_MAX], *values[COORD_TASK_OBS_MAX];
	if (!sees_all(p))
		return error(rs, 403, "forbidden", "only coordinator and admin keys assign tasks");
	json_t *o = json_loadb(body.p ? body.p : "", body.len, JSON_REJECT_DUPLICATES, &je);
	const char *action = json_string_value(json_object_get(o, "action"));
	const char *org = json_string_value(json_object_get(o, "org"));
	const char *sec = json_string_value(json_object_get(o, "sector"));
	const char *deadline = json_string_value(json_object_get(o, "deadline"));
	json_t *within = json_object_get(o, "within");
	json_t *note = json_object_get(o, "note");
	json_t *ov = json_object_get(o, "observables");
	int64_t now = ts_now_us();
	diag_clear(&d);
	memset(&t, 0, sizeof t);
	buf_init(&obs, 0);
	if (!json_is_object(o) || !action || !json_is_array(ov) || (note && !json_is_string(note))) {
		error(rs, 400, "bad request",
		      "the body is {\"action\":A,\"org\":ORG or \"sector\":S,\"observables\":[...],"
		      "\"deadline\":RFC3339 or \"within\":SECONDS,\"note\":TEXT}");
		goto out;
	}
	if (!!org == !!sec) {
		error(rs, 400, "bad request", "a task goes to one \"org\" or one \"sector\"");
		goto out;
	}
	if (sec && reg_sector_parse(sec, &sector, &d)) {
		error(rs, 400, "bad request", d.msg);
		goto out;
	}
	int frac;
	if (deadline) {
		if (ts_parse(slice_from_cstr(deadline), &t.deadline_us, &frac)) {
			error(rs, 400, "bad request", "deadline is an RFC 3339 time");
			goto out;
		}
	} else if (json_is_integer(within) && json_integer_value(within) > 0 &&
	           json_integer_value(within) <= COORD_DEADLINE_MAX_US / 1000000) {
		t.deadline_us = now + (int64_t)json_integer_value(within) * 1000000;
	} else {
		error(rs, 400, "bad request", "a task needs \"deadline\" or \"within\" (seconds)");
		goto out;
	}
	size_t n = json_array_size(ov);
	if (n > COORD_TASK_OBS_MAX) {
		error(rs, 413, "too many observables", "a task has at most 100 observables");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ov, i);
		kinds[i] = json_is_object(e) ? json_string_value(json_object_get(e, "kind")) : NULL;
		values[i] = json_is_object(e) ? json_string_value(json_object_get(e, "value"))
		                              : json_string_value(e);
		if (!values[i]) {
			error(rs, 400, "bad request",
			      "an observable is \"VALUE\" or {\"kind\":K,\"value\":V}");
			goto out;
		}
	}
	if (coord_task_observables(hub_obs_ctx(a->hub), kinds, values, n, &obs, &d)) {
		error(rs, 400, "bad observable", d.msg);
		goto out;
	}
	snprintf(t.action, sizeof t.action, "%s", action);
	snprintf(t.source, sizeof t.source, "manual");
	snprintf(t.observables, sizeof t.observables, "%s", obs.p);
	if (note && strlen(json_string_value(note)) > REG_TASK_NOTE_MAX) {
		error(rs, 413, "note too long", "a note is at most 1024 bytes");
		goto out;
	}
	snprintf(t.note, sizeof t.note, "%s", note ? json_string_value(note) : "");
	t.coordinator = p->org;
	buf_append_cstr(&rs->body, "{\"tasks\":[");
	struct made_ctx mc = { snap, &rs->body, 0 };
	if (org && org[0] == '#') {
		/* by name; "#num" is the CLI's, not the API's */
		error(rs, 404, "not found", "no such organisation");
		goto out;
	}
	enum tcerr e = registry_task_assign(a->registry, &t, org, sector, NULL, now, made_cb, &mc,
	                                    NULL, &d);
	if (e == TC_ENOTFOUND) {
		error(rs, 404, "not found", d.msg);
		goto out;
	}
	if (e == TC_EINVAL || e == TC_ELIMIT) {
		error(rs, 400, "bad request", d.msg);
		goto out;
	}
	if (e) {
		log_error("tasks: cannot assign", d.msg);
		error(rs, 503, "the hub could not store the task", "try again later");
		goto out;
	}
	buf_append_cstr(&rs->body, "]}\n");
	rs->status = 201;
	char detail[REG_ORG_NAME_MAX + 64];
	snprintf(detail, sizeof detail, "%s to %s%s: %zu task(s)", t.action, org ? "" : "sector ",
	         org ? org : sec, mc.n);
	audit_task(a, snap, p, "task.assign", detail);
out:
	buf_reset(&obs);
	json_decref(o);
}

void
api_tasks_handle(struct app *a, const struct reg_snapshot *snap, const char *method,
                 const char *url, const char *query, struct slice body,
                 const struct reg_principal *p, struct api_response *rs)
{
	buf_init(&rs->body, 0);
	rs->status = 200;
	rs->content_type = "application/json";
	if (!p || !snap)
		return error(rs, 401, "authentication required", "the task inbox needs an API key");
	if (body.len > API_TASKS_BODY_MAX)
		return error(rs, 413, "request too large", "a task request is at most 65536 bytes");
	const char *rest = url + strlen(API_TASKS_PATH);
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (get)
			return list(a, snap, p, query, rs);
		if (post)
			return assign(a, snap, p, body, rs);
		return error(rs, 405, "method not allowed", "/api/v1/tasks answers GET and POST");
	}
	/* "/{id}" or "/{id}/{verb}" */
	rest++;
	char idtxt[24], verb[16] = "";
	size_t k = strspn(rest, "0123456789");
	int64_t num;
	if (k == 0 || k >= sizeof idtxt)
		return error(rs, 404, "not found", "no such task");
	memcpy(idtxt, rest, k);
	idtxt[k] = '\0';
	if (!uint_of(idtxt, INT64_MAX, &num) || num == 0)
		return error(rs, 404, "not found", "no such task");
	rest += k;
	if (*rest == '/') {
		if (strlen(rest + 1) >= sizeof verb)
			return error(rs, 404, "not found", "a task answers ack, done or decline");
		snprintf(verb, sizeof verb, "%s", rest + 1);
	} else if (*rest) {
		return error(rs, 404, "not found", "no such task");
	}
	if (!verb[0]) {
		if (!get)
			return error(rs, 405, "method not allowed", "a task answers GET");
		return show(a, snap, p, num, rs);
	}
	if (!post)
		return error(rs, 405, "method not allowed", "an answer is a POST");
	answer(a, snap, p, num, verb, body, rs);
}

struct mctx {
	const struct reg_snapshot *snap;
	struct buf *out;
	int which;
	size_t n;
};

static void
label(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(out, '\\');
		if (*s == '\n') {
			buf_append_cstr(out, "\\n");
			continue;
		}
		buf_append_char(out, *s);
	}
}

static const char *const metric_names[] = {
	"tocsin_tasks",                      "tocsin_tasks_overdue",
	"tocsin_task_acknowledge_seconds_sum", "tocsin_task_acknowledge_seconds_count",
	"tocsin_task_close_seconds_sum",     "tocsin_task_close_seconds_count",
};

static enum tcerr
metric_row(void *ctx, const struct reg_task_stats *s)
{
	struct mctx *m = ctx;
	char num[24];
	const char *name = org_name(m->snap, s->org);
	snprintf(num, sizeof num, "#%" PRId64, s->org);
	if (m->n++ >= API_TASKS_METRICS_ORGS_MAX)
		return TC_OK;
	if (m->which == 0) {
		static const char *const st[] = { "assigned", "acknowledged", "done", "declined" };
		const uint64_t v[] = { s->assigned, s->acknowledged, s->done, s->declined };
		for (int i = 0; i < 4; i++) {
			buf_append_cstr(m->out, "tocsin_tasks{org=\"");
			label(m->out, name ? name : num);
			buf_printf(m->out, "\",state=\"%s\"} %" PRIu64 "\n", st[i], v[i]);
		}
		return TC_OK;
	}
	buf_printf(m->out, "%s{org=\"", metric_names[m->which]);
	label(m->out, name ? name : num);
	buf_append_cstr(m->out, "\"} ");
	switch (m->which) {
	case 1: buf_printf(m->out, "%" PRIu64 "\n", s->overdue); break;
	case 2: buf_printf(m->out, "%.3f\n", (double)s->ack_us_sum / 1e6); break;
	case 3: buf_printf(m->out, "%" PRIu64 "\n", s->n_acked); break;
	case 4: buf_printf(m->out, "%.3f\n", (double)s->close_us_sum / 1e6); break;
	default: buf_printf(m->out, "%" PRIu64 "\n", s->n_closed); break;
	}
	return TC_OK;
}

void
api_tasks_metrics(struct app *a, const struct reg_snapshot *snap, struct buf *out)
{
	static const char *const help[] = {
		"Tasks per assignee organisation and state.",
		"Open tasks past their deadline, per assignee organisation.",
		"Time to act: seconds from assignment to acknowledgement, summed per organisation.",
		"Time to act: acknowledged tasks per organisation.",
		"Time to act: seconds from assignment to done or declined, summed per organisation.",
		"Time to act: closed (done or declined) tasks per organisation.",
	};
	static const char *const types[] = { "gauge", "gauge", "counter", "counter", "counter",
		                             "counter" };
	for (int i = 0; i < 6; i++) {
		struct diag d;
		struct mctx m = { snap, out, i, 0 };
		diag_clear(&d);
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", metric_names[i], help[i],
		           metric_names[i], types[i]);
		if (registry_task_stats(a->registry, ts_now_us(), metric_row, &m, &d)) {
			log_error("tasks: cannot read the statistics", d.msg);
			return;
		}
	}
	coord_worker_metrics(a->coord, out);
}
