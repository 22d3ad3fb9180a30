/*
 * coord_task.c — tasks as JSON (coord.h): the observables a task is given
 * (normalised as the index normalises them, so a task names a value the
 * way a match does) and one task or event as the CLI and the HTTP inbox
 * show it. Invariant: the JSON written is valid whatever the stored texts
 * hold (every string goes through buf_append_json_str).
 */
#include <inttypes.h>
#include <string.h>

#include "coord/coord.h"
#include "util/timestamp.h"

enum tcerr
coord_task_observables(const struct obs_ctx *obs, const char *const *kinds,
                       const char *const *values, size_t n, struct buf *out, struct diag *d)
{
	struct buf v;
	enum tcerr t = TC_OK;
	buf_clear(out);
	if (n == 0)
		return diag_set(d, TC_ELIMIT, "a task needs at least one observable");
	if (n > COORD_TASK_OBS_MAX)
		return diag_set(d, TC_ELIMIT, "a task has at most %d observables", COORD_TASK_OBS_MAX);
	buf_init(&v, OBS_VALUE_MAX * 4);
	buf_append_char(out, '[');
	for (size_t i = 0; i < n && !t; i++) {
		enum obs_kind kind;
		struct diag dd;
		diag_clear(&dd);
		buf_clear(&v);
		const char *k = kinds ? kinds[i] : NULL;
		if (k && obs_kind_parse(slice_from_cstr(k), &kind)) {
			t = diag_set(d, TC_EINVAL, "observables[%zu]: unknown kind '%.32s'", i, k);
			break;
		}
		enum tcerr e = k ? obs_normalize(obs, kind, slice_from_cstr(values[i]), &v, &dd)
		                 : obs_classify(obs, slice_from_cstr(values[i]), &kind, &v, &dd);
		if (e) {
			t = diag_set(d, e == TC_ENOMEM ? TC_ENOMEM : TC_EINVAL, "observables[%zu]: %s", i,
			             dd.msg);
			break;
		}
		if (i)
			buf_append_char(out, ',');
		buf_printf(out, "{\"kind\":\"%s\",\"value\":", obs_kind_name(kind));
		buf_append_json_str(out, buf_slice(&v));
		buf_append_char(out, '}');
	}
	buf_append_char(out, ']');
	buf_reset(&v);
	if (!t && buf_error(out))
		t = diag_set(d, buf_error(out), "out of memory");
	if (!t && out->len > REG_TASK_OBS_TEXT_MAX)
		t = diag_set(d, TC_ELIMIT, "the observables take more than %d bytes",
		             REG_TASK_OBS_TEXT_MAX);
	return t;
}

static void
time_or_null(struct buf *out, const char *key, int64_t us)
{
	char ts[TS_TEXT_MAX];
	buf_printf(out, ",\"%s\":", key);
	if (us > 0 && ts_format(us, 3, ts) > 0)
		buf_printf(out, "\"%s\"", ts);
	else
		buf_append_cstr(out, "null");
}

static void
name_or_num(struct buf *out, const char *key, const char *name, int64_t num)
{
	buf_printf(out, ",\"%s\":", key);
	if (name) {
		buf_append_json_str(out, slice_from_cstr(name));
	} else if (num > 0) {
		buf_printf(out, "\"#%" PRId64 "\"", num);
	} else {
		buf_append_cstr(out, "null");
	}
}

void
coord_task_json(const struct reg_task *t, const char *org, const char *coordinator,
                const char *escalated_to, int64_t now_us, struct buf *out)
{
	buf_printf(out, "{\"id\":%" PRId64 ",\"action\":", t->num);
	buf_append_json_str(out, slice_from_cstr(t->action));
	name_or_num(out, "org", org, t->org);
	buf_append_cstr(out, ",\"coordinator\":");
	buf_append_json_str(out, slice_from_cstr(coordinator ? coordinator
	                                          : t->coordinator ? "?" : ""));
	buf_append_cstr(out, ",\"source\":");
	buf_append_json_str(out, slice_from_cstr(t->source));
	/* stored as the JSON array coord_task_observables wrote */
	buf_append_cstr(out, ",\"observables\":");
	buf_append_cstr(out, t->observables[0] == '[' ? t->observables : "[]");
	buf_append_cstr(out, ",\"note\":");
	buf_append_json_str(out, slice_from_cstr(t->note));
	buf_append_cstr(out, ",\"reply\":");
	buf_append_json_str(out, slice_from_cstr(t->reply));
	buf_printf(out, ",\"state\":\"%s\"",
	           reg_task_state_name(t->state) ? reg_task_state_name(t->state) : "?");
	time_or_null(out, "deadline", t->deadline_us);
	time_or_null(out, "created", t->created_us);
	time_or_null(out, "acknowledged", t->acked_us);
	time_or_null(out, "closed", t->closed_us);
	buf_printf(out, ",\"overdue\":%s,\"escalation\":%u",
	           reg_task_state_open(t->state) && t->deadline_us < now_us ? "true" : "false",
	           t->escalation);
	name_or_num(out, "escalated_to", escalated_to, t->escalated_org);
	if (t->acked_us > 0)
		buf_printf(out, ",\"time_to_acknowledge_s\":%.3f",
		           (double)(t->acked_us - t->created_us) / 1e6);
	else
		buf_append_cstr(out, ",\"time_to_acknowledge_s\":null");
	if (t->closed_us > 0)
		buf_printf(out, ",\"time_to_close_s\":%.3f",
		           (double)(t->closed_us - t->created_us) / 1e6);
	else
		buf_append_cstr(out, ",\"time_to_close_s\":null");
	buf_append_char(out, '}');
}

void
coord_event_json(const struct reg_task_event *e, const char *org, struct buf *out)
{
	char ts[TS_TEXT_MAX] = "";
	ts_format(e->at_us, 3, ts);
	buf_printf(out, "{\"at\":\"%s\",\"what\":", ts);
	buf_append_json_str(out, slice_from_cstr(e->what));
	buf_append_cstr(out, ",\"org\":");
	if (org)
		buf_append_json_str(out, slice_from_cstr(org));
	else
		buf_append_cstr(out, "null");
	buf_append_cstr(out, ",\"note\":");
	buf_append_json_str(out, slice_from_cstr(e->note));
	buf_append_char(out, '}');
}

#define TLP_RED_ID "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

static void
ref_or_skip(struct buf *out, const char *key, const char *id)
{
	if (!id)
		return;
	buf_printf(out, ",\"%s\":", key);
	buf_append_json_str(out, slice_from_cstr(id));
}

void
coord_task_stix(const struct reg_task *t, const struct reg_task_event *e, const char *id,
                const struct coord_task_ids *ids, struct buf *out)
{
	char created[TS_TEXT_MAX] = "", modified[TS_TEXT_MAX] = "", dl[TS_TEXT_MAX] = "";
	ts_format(t->created_us, 6, created);
	ts_format(e->at_us > t->created_us ? e->at_us : t->created_us, 6, modified);
	ts_format(t->deadline_us, 3, dl);
	buf_append_cstr(out, "{\"type\":\"x-tocsin-task\",\"spec_version\":\"2.1\",\"id\":");
	buf_append_json_str(out, slice_from_cstr(id));
	buf_printf(out, ",\"created\":\"%s\",\"modified\":\"%s\"", created, modified);
	buf_append_cstr(out, ",\"object_marking_refs\":[\"" TLP_RED_ID "\"],\"extensions\":{\""
	                     COORD_EXT_TASK "\":{\"extension_type\":\"new-sdo\"},\""
	                     STIX_EXT_DISTRIBUTION "\":{\"extension_type\":\"property-extension\","
	                     "\"recipients\":[");
	const char *rec[3] = { ids->assignee, ids->coordinator, ids->escalated_to };
	size_t n = 0;
	for (size_t i = 0; i < 3; i++) {
		bool dup = !rec[i];
		for (size_t k = 0; k < i && !dup; k++)
			dup = rec[k] && strcmp(rec[k], rec[i]) == 0;
		if (dup)
			continue;
		if (n++)
			buf_append_char(out, ',');
		buf_append_json_str(out, slice_from_cstr(rec[i]));
	}
	buf_printf(out, "]}},\"task_number\":%" PRId64 ",\"action\":", t->num);
	buf_append_json_str(out, slice_from_cstr(t->action));
	ref_or_skip(out, "assignee_ref", ids->assignee);
	ref_or_skip(out, "coordinator_ref", ids->coordinator);
	buf_append_cstr(out, ",\"source\":");
	buf_append_json_str(out, slice_from_cstr(t->source));
	buf_append_cstr(out, ",\"observables\":");
	buf_append_cstr(out, t->observables[0] == '[' ? t->observables : "[]");
	if (t->note[0]) {
		buf_append_cstr(out, ",\"note\":");
		buf_append_json_str(out, slice_from_cstr(t->note));
	}
	if (t->reply[0]) {
		buf_append_cstr(out, ",\"reply\":");
		buf_append_json_str(out, slice_from_cstr(t->reply));
	}
	buf_printf(out, ",\"state\":\"%s\",\"deadline\":\"%s\",\"escalation\":%u",
	           reg_task_state_name(t->state) ? reg_task_state_name(t->state) : "assigned", dl,
	           t->escalation);
	ref_or_skip(out, "escalated_to_ref", ids->escalated_to);
	buf_append_cstr(out, ",\"event\":{\"what\":");
	buf_append_json_str(out, slice_from_cstr(e->what));
	ref_or_skip(out, "by_ref", ids->by);
	if (e->note[0]) {
		buf_append_cstr(out, ",\"note\":");
		buf_append_json_str(out, slice_from_cstr(e->note));
	}
	buf_append_cstr(out, "}}");
}
