/*
 * api_indicators.c — false-positive reports, the producer's feedback and
 * sightings by sector (api_indicators.h, docs/sightings.md).
 *
 * Each route finds the current versions of the indicator the caller may
 * read (store_query by id, policy_row for each): none is a 404 like an
 * unknown id, so the answer never tells a member about an indicator
 * policy hides. Sightings are read from the log (type sighting, newest
 * version of each) and kept only when policy_row lets the caller read
 * them: a sighting the caller may not see is not counted at all, so
 * neither its organisation nor its existence shows. The scan is bounded
 * by API_SIGHTINGS_SCAN_MAX versions.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_indicators.h"
#include "hub/hub.h"
#include "log.h"
#include "registry/registry.h"
#include "registry/registry_fp.h"
#include "stix/stix.h"
#include "util/timestamp.h"

#define SECTORS_MAX 16 /* enum reg_sector values fit */
#define DAY_US (86400LL * 1000000LL)

bool
api_indicators_route(const char *url)
{
	return strncmp(url, API_INDICATORS_PREFIX, strlen(API_INDICATORS_PREFIX)) == 0;
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

static void
reply(struct api_response *rs, int status, json_t *o)
{
	char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!t) {
		error(rs, 503, "out of memory", "try again later");
		return;
	}
	rs->status = status;
	rs->content_type = "application/json";
	buf_clear(&rs->body);
	buf_append_cstr(&rs->body, t);
	free(t);
}

static json_t *
ts_json(int64_t us)
{
	char t[TS_TEXT_MAX];
	if (us <= 0 || ts_format(us, 6, t) < 0)
		return json_null();
	return json_string(t);
}

/* What the caller may read of the indicator. */
struct visible {
	const struct policy_subject *who;
	size_t n;                 /* current versions the caller may read */
	bool produced;            /* one of them is the caller's organisation's */
	int64_t producer;
};

static enum store_row_verdict
visible_row(void *ctx, const struct store_row *row)
{
	struct visible *v = ctx;
	if (strcmp(row->type, "indicator") != 0 || !policy_row(v->who, row))
		return STORE_ROW_SKIP;
	v->n++;
	v->producer = row->producer;
	if (v->who->org && row->producer == v->who->org->num)
		v->produced = true;
	return STORE_ROW_TAKE;
}

static enum tcerr
find_visible(struct store *s, const struct policy_subject *who, const char *id,
             struct visible *v, struct diag *d)
{
	memset(v, 0, sizeof *v);
	v->who = who;
	const char *ids[1] = { id };
	struct store_query q = { .ids = ids, .nids = 1, .versions = STORE_V_LAST };
	return store_query(s, &q, visible_row, v, NULL, d);
}

/* Per-sector sighting counts. */
struct sector_counts {
	size_t sightings;         /* sighting objects */
	int64_t count;            /* sum of their count (1 when absent) */
	int64_t first_us, last_us;
	size_t day, week, month;  /* sightings last seen in the last 1, 7, 30 days */
	json_t *orgs;             /* names of the organisations (the caller may see them all) */
};

struct sight_scan {
	const struct policy_subject *who;
	const char *id;
	size_t id_len;
	int64_t now;
	size_t scanned;
	bool truncated;
	size_t total;
	struct sector_counts sec[SECTORS_MAX];
};

static int64_t
json_ts(json_t *o, const char *key)
{
	const char *t = json_string_value(json_object_get(o, key));
	int64_t us = 0;
	if (!t || ts_parse(slice_from_cstr(t), &us, NULL))
		return 0;
	return us;
}

static enum store_row_verdict
sight_row(void *ctx, const struct store_row *row)
{
	struct sight_scan *sc = ctx;
	if (++sc->scanned > API_SIGHTINGS_SCAN_MAX) {
		sc->truncated = true;
		return STORE_ROW_STOP;
	}
	/* cheap test first: the id must appear in the text */
	if (!memmem(row->json.p, row->json.len, sc->id, sc->id_len))
		return STORE_ROW_SKIP;
	if (!policy_row(sc->who, row))
		return STORE_ROW_SKIP;
	json_t *o = json_loadb(row->json.p, row->json.len, 0, NULL);
	const char *of = json_string_value(json_object_get(o, "sighting_of_ref"));
	if (!of || strcmp(of, sc->id) != 0) {
		json_decref(o);
		return STORE_ROW_SKIP;
	}
	const struct reg_org *org = reg_snapshot_org(sc->who->snap, row->producer);
	unsigned sector = org && (unsigned)org->sector < SECTORS_MAX ? (unsigned)org->sector : 0;
	struct sector_counts *c = &sc->sec[sector];
	json_t *cnt = json_object_get(o, "count");
	int64_t n = json_is_integer(cnt) ? (int64_t)json_integer_value(cnt) : 1;
	int64_t first = json_ts(o, "first_seen"), last = json_ts(o, "last_seen");
	if (!first)
		first = json_ts(o, "created");
	if (!last)
		last = first;
	json_decref(o);
	c->sightings++;
	c->count += n > 0 ? n : 0;
	if (first && (!c->first_us || first < c->first_us))
		c->first_us = first;
	if (last > c->last_us)
		c->last_us = last;
	int64_t age = sc->now - last;
	c->day += age <= DAY_US;
	c->week += age <= 7 * DAY_US;
	c->month += age <= 30 * DAY_US;
	if (org) {
		if (!c->orgs)
			c->orgs = json_array();
		bool seen = false;
		size_t i;
		json_t *e;
		json_array_foreach(c->orgs, i, e) seen = seen || strcmp(json_string_value(e), org->name) == 0;
		if (!seen)
			json_array_append_new(c->orgs, json_string(org->name));
	}
	sc->total++;
	return STORE_ROW_TAKE;
}

static void
serve_sightings(struct store *s, const struct policy_subject *who, const char *id,
                struct api_response *rs)
{
	struct sight_scan *sc = calloc(1, sizeof *sc);
	if (!sc) {
		error(rs, 503, "out of memory", "try again later");
		return;
	}
	sc->who = who;
	sc->id = id;
	sc->id_len = strlen(id);
	sc->now = ts_now_us();
	const char *types[1] = { "sighting" };
	struct store_query q = { .types = types, .ntypes = 1, .versions = STORE_V_LAST };
	struct diag d;
	diag_clear(&d);
	if (store_query(s, &q, sight_row, sc, NULL, &d)) {
		log_error("sightings: store query failed", d.msg);
		error(rs, 503, "the hub's store is unavailable", "try again later");
		goto out;
	}
	json_t *o = json_object(), *by = json_object();
	json_object_set_new(o, "indicator", json_string(id));
	json_object_set_new(o, "sightings", json_integer((json_int_t)sc->total));
	for (unsigned i = 0; i < SECTORS_MAX; i++) {
		struct sector_counts *c = &sc->sec[i];
		if (!c->sightings)
			continue;
		const char *name = reg_sector_name((enum reg_sector)i);
		json_t *e = json_object();
		json_object_set_new(e, "sightings", json_integer((json_int_t)c->sightings));
		json_object_set_new(e, "count", json_integer((json_int_t)c->count));
		json_object_set_new(e, "first_seen", ts_json(c->first_us));
		json_object_set_new(e, "last_seen", ts_json(c->last_us));
		json_object_set_new(e, "last_24h", json_integer((json_int_t)c->day));
		json_object_set_new(e, "last_7d", json_integer((json_int_t)c->week));
		json_object_set_new(e, "last_30d", json_integer((json_int_t)c->month));
		json_object_set_new(e, "organisations", c->orgs ? c->orgs : json_array());
		c->orgs = NULL;
		json_object_set_new(by, name ? name : "unknown", e);
	}
	json_object_set_new(o, "by_sector", by);
	json_object_set_new(o, "truncated", json_boolean(sc->truncated));
	reply(rs, 200, o);
out:
	for (unsigned i = 0; i < SECTORS_MAX; i++)
		json_decref(sc->sec[i].orgs);
	free(sc);
}

void
api_indicators_reload_holds(struct app *a)
{
	struct diag d;
	char **ids = NULL;
	size_t n = 0;
	diag_clear(&d);
	if (registry_fp_held(a->registry, &ids, &n, &d)) {
		log_error("false positives: cannot read the held indicators; keeping the old set",
		          d.msg);
		return;
	}
	bool changed = false;
	if (hub_holds_set(a->hub, (const char *const *)ids, n, &changed, &d))
		log_error("false positives: cannot hold the indicators; keeping the old set", d.msg);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (changed) {
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "held indicators changed");
		log_int(&l, "held", (int64_t)n);
		log_end(&l);
	}
}

static json_t *
summary_json(const struct reg_fp_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "indicator", json_string(s->indicator));
	json_object_set_new(o, "state", json_string(reg_fp_state_name(s->state)));
	json_object_set_new(o, "held", json_boolean(reg_fp_state_holds(s->state)));
	json_object_set_new(o, "organisations", json_integer((json_int_t)s->orgs));
	json_object_set_new(o, "hold_at", json_integer(REG_FP_HOLD_ORGS));
	json_object_set_new(o, "last_report", ts_json(s->last_us));
	if (s->reviewed_us) {
		json_t *r = json_object();
		json_object_set_new(r, "at", ts_json(s->reviewed_us));
		json_object_set_new(r, "note", json_string(s->review_note));
		json_object_set_new(o, "review", r);
	}
	return o;
}

static void
serve_fp(struct app *a, const struct policy_subject *who, const struct visible *v,
         const char *id, struct slice body, struct api_response *rs)
{
	enum reg_role role = who->principal->role;
	if (role == ROLE_AGENT || role == ROLE_PEER || !who->org) {
		error(rs, 403, "forbidden",
		      "false positives are reported by a member organisation's key (reader, "
		      "contributor, coordinator or admin)");
		return;
	}
	if (v->produced) {
		error(rs, 409, "your own indicator",
		      "the producer revokes its own indicator instead of reporting it");
		return;
	}
	if (body.len > API_FP_BODY_MAX) {
		error(rs, 413, "request too large", "a false-positive report is at most 4096 bytes");
		return;
	}
	const char *note = "";
	json_t *o = NULL;
	if (body.len) {
		json_error_t je;
		o = json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &je);
		json_t *n = json_object_get(o, "note");
		if (!json_is_object(o) || (n && !json_is_string(n))) {
			json_decref(o);
			error(rs, 400, "bad request", "the body is a JSON object {\"note\": \"...\"}");
			return;
		}
		if (n)
			note = json_string_value(n);
	}
	struct reg_fp_summary s;
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = registry_fp_report(a->registry, id, who->org->num, note, ts_now_us(), &s,
	                                   &d);
	json_decref(o);
	if (rc == TC_EINVAL) {
		error(rs, 400, "bad request", d.msg);
		return;
	}
	if (rc) {
		log_error("false positives: cannot record a report", d.msg);
		error(rs, 503, "the registry is unavailable", "try again later");
		return;
	}
	/* the writer's next tick removes the decisions (remove held events) */
	api_indicators_reload_holds(a);
	reply(rs, 200, summary_json(&s));
}

static enum tcerr
report_json(void *ctx, const struct reg_fp_report *p)
{
	json_t *e = json_object();
	const char *sec = reg_sector_name(p->sector);
	json_object_set_new(e, "sector", json_string(sec ? sec : "unknown"));
	json_object_set_new(e, "at", ts_json(p->at_us));
	json_object_set_new(e, "note", json_string(p->note));
	json_object_set_new(e, "counted", json_boolean(p->counted));
	json_array_append_new(ctx, e);
	return TC_OK;
}

static void
serve_feedback(struct app *a, const struct policy_subject *who, const struct visible *v,
               const char *id, struct api_response *rs)
{
	enum reg_role role = who->principal->role;
	if (!v->produced && role != ROLE_COORDINATOR && role != ROLE_ADMIN) {
		error(rs, 403, "forbidden",
		      "feedback on an indicator is for its producer's keys and coordinators");
		return;
	}
	struct reg_fp_summary s;
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = registry_fp_summary(a->registry, id, &s, &d);
	json_t *o;
	if (rc == TC_ENOTFOUND) {
		o = json_object();
		json_object_set_new(o, "indicator", json_string(id));
		json_object_set_new(o, "state", json_string("none"));
		json_object_set_new(o, "held", json_false());
		json_object_set_new(o, "organisations", json_integer(0));
		json_object_set_new(o, "hold_at", json_integer(REG_FP_HOLD_ORGS));
		json_object_set_new(o, "false_positives", json_array());
		reply(rs, 200, o);
		return;
	}
	if (rc) {
		log_error("false positives: cannot read", d.msg);
		error(rs, 503, "the registry is unavailable", "try again later");
		return;
	}
	o = summary_json(&s);
	json_t *arr = json_array();
	json_object_set_new(o, "false_positives", arr);
	if ((rc = registry_fp_reports(a->registry, id, report_json, arr, &d))) {
		json_decref(o);
		log_error("false positives: cannot read", d.msg);
		error(rs, 503, "the registry is unavailable", "try again later");
		return;
	}
	reply(rs, 200, o);
}

void
api_indicators_handle(struct app *a, struct store *store, const struct policy_subject *who,
                      const char *method, const char *url, struct slice body,
                      struct api_response *rs)
{
	buf_init(&rs->body, 0);
	const char *rest = url + strlen(API_INDICATORS_PREFIX);
	const char *slash = strchr(rest, '/');
	char id[STIX_ID_MAX];
	size_t tl = 0;
	if (!slash || (size_t)(slash - rest) >= sizeof id) {
		error(rs, 404, "not found",
		      "/api/v1/indicators/{id}/ serves false-positive, feedback and sightings");
		return;
	}
	memcpy(id, rest, (size_t)(slash - rest));
	id[slash - rest] = '\0';
	const char *what = slash + 1;
	bool fp = strcmp(what, "false-positive") == 0, fb = strcmp(what, "feedback") == 0,
	     si = strcmp(what, "sightings") == 0;
	if (!fp && !fb && !si) {
		error(rs, 404, "not found",
		      "/api/v1/indicators/{id}/ serves false-positive, feedback and sightings");
		return;
	}
	if (strcmp(method, fp ? "POST" : "GET") != 0) {
		error(rs, 405, "method not allowed", fp ? "use POST" : "use GET");
		return;
	}
	if (!stix_id_valid(slice_from_cstr(id), &tl) || tl != 9 || strncmp(id, "indicator", 9)) {
		error(rs, 400, "bad request", "the path names an indicator id (indicator--UUID)");
		return;
	}
	struct visible v;
	struct diag d;
	diag_clear(&d);
	if (find_visible(store, who, id, &v, &d)) {
		log_error("indicators: store query failed", d.msg);
		error(rs, 503, "the hub's store is unavailable", "try again later");
		return;
	}
	if (!v.n) {
		error(rs, 404, "not found", "no indicator with this id that you may read");
		return;
	}
	if (fp)
		serve_fp(a, who, &v, id, body, rs);
	else if (fb)
		serve_feedback(a, who, &v, id, rs);
	else
		serve_sightings(store, who, id, rs);
}
