/*
 * api_agents.c — tocsin-agent receipts and their metrics (api_agents.h).
 * The receipt is small and parsed with limits; it only ever moves a key's
 * stored position forward, and only up to the hub's own log position.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api_agents.h"
#include "log.h"
#include "util/timestamp.h"

bool
api_agents_route(const char *url)
{
	return strcmp(url, API_AGENTS_RECEIPT_PATH) == 0;
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

static bool
pos_of(json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	if (!s || n == 0 || n > 19 || strspn(s, "0123456789") != n)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	*out = x;
	return true;
}

void
api_agents_handle(struct app *a, const char *method, struct slice body,
                  const struct reg_principal *p, uint64_t log_pos, struct api_response *rs)
{
	struct diag d;
	buf_init(&rs->body, 0);
	rs->status = 200;
	rs->content_type = "application/json";
	if (strcmp(method, "POST") != 0)
		return error(rs, 405, "method not allowed", "/api/v1/agents/receipt answers POST");
	if (!p)
		return error(rs, 401, "authentication required", "a receipt needs an agent's key");
	if (p->role != ROLE_AGENT)
		return error(rs, 403, "forbidden", "only keys of role agent send receipts");
	if (body.len > API_AGENTS_BODY_MAX)
		return error(rs, 413, "request too large", "a receipt is at most 4096 bytes");
	json_error_t je;
	json_t *o = json_loadb(body.p ? body.p : "", body.len, JSON_REJECT_DUPLICATES, &je);
	struct reg_agent_receipt rc = { 0 };
	json_t *at = json_object_get(o, "applied_at");
	int frac;
	if (!json_is_object(o) || !pos_of(json_object_get(o, "position"), &rc.position)) {
		json_decref(o);
		return error(rs, 400, "bad receipt",
		             "the body is {\"position\":\"P\",\"applied_at\":\"RFC 3339 time\"}");
	}
	rc.received_us = ts_now_us();
	rc.applied_us = rc.received_us;
	if (at && (!json_is_string(at) ||
	           ts_parse(slice_from_cstr(json_string_value(at)), &rc.applied_us, &frac) ||
	           rc.applied_us < 0)) {
		json_decref(o);
		return error(rs, 400, "bad receipt", "applied_at is not an RFC 3339 time");
	}
	json_decref(o);
	if (rc.position > log_pos)
		return error(rs, 400, "bad receipt", "the position is beyond the hub's log");
	diag_clear(&d);
	if (registry_agent_receipt_put(a->registry, p->key_id, &rc, &d)) {
		log_error("agents: cannot store a receipt", d.msg);
		return error(rs, 503, "the hub could not store the receipt", "try again later");
	}
	buf_printf(&rs->body, "{\"position\":\"%" PRIu64 "\",\"log_position\":\"%" PRIu64
	           "\",\"lag\":%" PRIu64 "}\n", rc.position, log_pos, log_pos - rc.position);
}

struct mctx {
	const struct reg_snapshot *snap;
	uint64_t log_pos;
	int64_t now;
	int which;
	struct buf *out;
};

static void
label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(out, '\\');
		if (*s == '\n') {
			buf_append_cstr(out, "\\n");
			continue;
		}
		buf_append_char(out, *s);
	}
}

static enum tcerr
metric_row(void *ctx, const char *key_id, const struct reg_agent_receipt *rc)
{
	struct mctx *m = ctx;
	const struct reg_principal *p = m->snap ? reg_snapshot_key(m->snap, key_id) : NULL;
	const struct reg_org *o = p ? reg_snapshot_org(m->snap, p->org) : NULL;
	static const char *const names[] = { "tocsin_agent_applied_position",
		                             "tocsin_agent_lag_positions",
		                             "tocsin_agent_lag_seconds" };
	buf_printf(m->out, "%s{key=\"%s\",org=\"", names[m->which], key_id);
	label(m->out, o ? o->name : "");
	buf_append_cstr(m->out, "\"} ");
	uint64_t lag = m->log_pos > rc->position ? m->log_pos - rc->position : 0;
	if (m->which == 0)
		buf_printf(m->out, "%" PRIu64 "\n", rc->position);
	else if (m->which == 1)
		buf_printf(m->out, "%" PRIu64 "\n", lag);
	else
		buf_printf(m->out, "%.3f\n",
		           lag ? (double)(m->now - rc->applied_us) / 1e6 : 0.0);
	return TC_OK;
}

void
api_agents_metrics(struct app *a, const struct reg_snapshot *snap, uint64_t log_pos,
                   struct buf *out)
{
	static const char *const names[] = { "tocsin_agent_applied_position",
		                             "tocsin_agent_lag_positions",
		                             "tocsin_agent_lag_seconds" };
	static const char *const help[] = {
		"The log position a tocsin-agent last reported applied.",
		"Log positions after an agent's applied position (not yet enforced).",
		"Seconds since an agent's applied time while it is behind the log (0 when current).",
	};
	struct mctx m = { snap, log_pos, ts_now_us(), 0, out };
	for (int i = 0; i < 3; i++) {
		struct diag d;
		diag_clear(&d);
		m.which = i;
		buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[i], help[i], names[i]);
		if (registry_agent_receipts(a->registry, API_AGENTS_METRICS_MAX, metric_row, &m, &d)) {
			log_error("agents: cannot read receipts", d.msg);
			return;
		}
	}
}
