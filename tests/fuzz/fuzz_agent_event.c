/*
 * Fuzz target: agent_set_apply_event (lib/agent/agent_set.c), what
 * tocsin-agent runs on each add/remove event's data from the hub. The
 * first byte picks the event name (add or remove); the rest is the data.
 * Invariants: a value the set holds is never empty, longer than
 * OBS_VALUE_MAX or holding a control byte (a backend puts it in an nft
 * command or a file line); applying the same event twice changes nothing
 * the second time; and agent_event_parse, the agent's one-pass decoder,
 * agrees with jansson: whenever both accept, they read the same kind,
 * value, action, expiry, confidence and TLP, and whatever jansson
 * accepts (nested no deeper than the decoder's limit) the decoder
 * accepts too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/agent_set.h"
#include "util/timestamp.h"

/* The reference: the same reading done on jansson's tree. 1 accepted,
 * 0 refused. */
static int
reference(struct slice data, bool add, struct agent_entry *e)
{
	json_error_t je;
	json_t *o = json_loadb(data.p, data.len, JSON_REJECT_DUPLICATES, &je);
	int ok = 0;
	memset(e, 0, sizeof *e);
	e->confidence = -1;
	if (!json_is_object(o))
		goto out;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *val = json_object_get(o, "value");
	if (!kind || !json_is_string(val) || obs_kind_parse(slice_from_cstr(kind), &e->kind))
		goto out;
	size_t n = json_string_length(val);
	const char *v = json_string_value(val);
	if (n == 0 || n > OBS_VALUE_MAX || strlen(v) != n)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			goto out;
	if (add) {
		const char *act = json_string_value(json_object_get(o, "action"));
		json_t *until = json_object_get(o, "until");
		json_t *conf = json_object_get(o, "confidence");
		const char *tlp = json_string_value(json_object_get(o, "tlp"));
		if (!act || (strcmp(act, "block") != 0 && strcmp(act, "alert") != 0))
			goto out;
		e->alert = strcmp(act, "alert") == 0;
		if (json_is_string(until)) {
			int frac;
			if (ts_parse(slice_from_cstr(json_string_value(until)), &e->until_us, &frac) ||
			    e->until_us <= 0)
				goto out;
		} else if (until && !json_is_null(until)) {
			goto out;
		}
		if (json_is_integer(conf) && json_integer_value(conf) >= 0 &&
		    json_integer_value(conf) <= 100)
			e->confidence = (int)json_integer_value(conf);
		if (!tlp || stix_tlp_parse(tlp, &e->tlp) != TC_OK)
			e->tlp = TLP_NONE;
	}
	e->len = n;
	e->value = strdup(v);
	ok = e->value != NULL;
out:
	json_decref(o);
	return ok;
}

static size_t
depth_of(struct slice b)
{
	size_t dep = 0, max = 0;
	bool str = false;
	for (size_t i = 0; i < b.len; i++) {
		char c = b.p[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == '{' || c == '[') {
			if (++dep > max)
				max = dep;
		} else if ((c == '}' || c == ']') && dep) {
			dep--;
		}
	}
	return max;
}

static void
differential(struct slice name, struct slice body)
{
	struct agent_entry a, b;
	struct diag d;
	bool add = false;
	enum tcerr rc = agent_event_parse(name, body, &a, &add, &d);
	int ref = reference(body, add, &b);
	if (rc == TC_ENOMEM) {
		free(b.value);
		return;
	}
	/* jansson reads a NUL byte between tokens as the end of its input */
	if (ref && rc != TC_OK && depth_of(body) <= 32 && !memchr(body.p, '\0', body.len))
		abort(); /* jansson accepts what the decoder refuses */
	if (ref && rc == TC_OK &&
	    (a.kind != b.kind || a.len != b.len || memcmp(a.value, b.value, a.len) != 0 ||
	     a.alert != b.alert || a.until_us != b.until_us || a.confidence != b.confidence ||
	     a.tlp != b.tlp))
		abort();
	if (rc == TC_OK)
		free(a.value);
	free(b.value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct agent_set *s = agent_set_new();
	struct agent_changes ch = { 0 };
	struct diag d;
	if (!s)
		return 0;
	struct slice name = slice_from_cstr(data[0] & 1 ? "remove" : "add");
	struct slice body = slice_make((const char *)data + 1, size - 1);
	differential(name, body);
	if (agent_set_apply_event(s, name, body, &ch, &d) == TC_OK) {
		for (size_t i = 0; i < ch.n; i++) {
			size_t n = strlen(ch.v[i].value);
			if (n == 0 || n > OBS_VALUE_MAX)
				abort();
			for (size_t k = 0; k < n; k++)
				if ((unsigned char)ch.v[i].value[k] < 0x20)
					abort();
		}
		size_t before = ch.n;
		if (agent_set_apply_event(s, name, body, &ch, &d) != TC_OK || ch.n != before)
			abort();
	}
	agent_changes_reset(&ch);
	agent_set_free(s);
	return 0;
}
