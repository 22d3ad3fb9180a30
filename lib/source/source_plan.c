/*
 * source_plan.c — what one pull of a source writes, and the JSON feeds
 * (a MISP feed's manifest, MISP events and TAXII envelopes through
 * lib/import).
 *
 * Invariant of the plan: an entry the source listed before and lists
 * still is never written again (the same id and version would be a
 * duplicate; the plan does not even ask); an entry new to the source gets
 * created = modified = valid_from = now; an entry listed again after it
 * expired gets its last version with valid_until removed and modified =
 * now; an entry that dropped off gets its last version with modified =
 * valid_until = now (later than valid_from and than the version before),
 * so the decision it made is removed ("expired", docs/decisions.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"
#include "source/source.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"

/* ---- JSON feeds ---- */

static bool
is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		if (shape[i] == '-' ? c != '-'
		                    : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		                        (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

enum tcerr
source_misp_manifest(struct slice data, size_t max_events,
                     enum tcerr (*cb)(void *ctx, const char *uuid), void *ctx, struct diag *d)
{
	json_error_t je;
	if (!max_events)
		max_events = SOURCE_MISP_MAX_EVENTS;
	json_t *doc = json_loadb(data.p ? data.p : "", data.len,
	                         JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return diag_set(d, TC_EINVAL, "manifest.json:%d:%d: %s", je.line, je.column, je.text);
	enum tcerr rc = TC_OK;
	if (!json_is_object(doc)) {
		rc = diag_set(d, TC_EINVAL, "manifest.json: not an object of events by UUID");
		goto out;
	}
	if (json_object_size(doc) > max_events) {
		rc = diag_set(d, TC_ELIMIT, "manifest.json: more than %zu events", max_events);
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v) {
		if (!is_uuid(k) || !json_is_object(v)) {
			rc = diag_set(d, TC_EINVAL, "manifest.json: '%.40s' is no event UUID with an object",
			              k);
			goto out;
		}
		char low[37];
		for (size_t i = 0; i < 37; i++)
			low[i] = (char)(k[i] >= 'A' && k[i] <= 'F' ? k[i] + 32 : k[i]);
		if ((rc = cb(ctx, low)))
			goto out;
	}
out:
	json_decref(doc);
	return rc;
}

struct op {
	enum tcerr (*cb)(void *ctx, json_t *obj);
	void *ctx;
	size_t *rejected;
	char *why;
};

static enum tcerr
op_obj(void *ctx, json_t *obj, const char *where)
{
	struct op *o = ctx;
	(void)where;
	return o->cb(o->ctx, obj);
}

static enum tcerr
op_reject(void *ctx, const char *where, enum tcerr rc, const char *why)
{
	struct op *o = ctx;
	(void)rc;
	if (o->rejected && (*o->rejected)++ == 0 && o->why)
		snprintf(o->why, DIAG_MSG_MAX, "%s: %s", where, why);
	return TC_OK;
}

enum tcerr
source_objects_parse(enum source_format f, struct slice data, const char *name,
                     const struct obs_ctx *obs, const uint8_t *id_key, size_t id_key_len,
                     enum tcerr (*cb)(void *ctx, json_t *obj), void *ctx, size_t *rejected,
                     char why[DIAG_MSG_MAX], struct diag *d)
{
	struct op o = { cb, ctx, rejected, why };
	struct import_opts io = {
		.format = f == SOURCE_MISP ? IMPORT_MISP : IMPORT_ENVELOPE,
		.obs = obs,
		.max_document = SOURCE_MAX_BYTES,
		.on_object = op_obj,
		.on_reject = op_reject,
		.id_key = id_key,
		.id_key_len = id_key_len,
		.ctx = &o,
	};
	if (f != SOURCE_MISP && f != SOURCE_TAXII)
		return diag_set(d, TC_EINVAL, "%s is not a JSON format", source_format_name(f));
	struct slice t = slice_trim(data);
	if (!t.len || (t.p[0] != '{' && t.p[0] != '['))
		return diag_set(d, TC_EINVAL, "%s: not JSON", name);
	return import_buffer(name, data, &io, NULL, d);
}

/* ---- the plan ---- */

static int
known_cmp(const void *a, const void *b)
{
	return strcmp(((const struct source_known *)a)->id, ((const struct source_known *)b)->id);
}

void
source_known_sort(struct source_known *k, size_t n)
{
	if (n > 1)
		qsort(k, n, sizeof *k, known_cmp);
}

static struct source_known *
known_find(struct source_plan *p, const char *id)
{
	struct source_known key = { .id = (char *)(uintptr_t)id };
	return p->nknown ? bsearch(&key, p->known, p->nknown, sizeof key, known_cmp) : NULL;
}

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Adds id to the set of new ids; OUT: *dup (was there already). */
static enum tcerr
ids_add(struct source_plan *p, const char *id, bool *dup)
{
	*dup = false;
	if (2 * (p->nids + 1) > p->capids) {
		size_t nc = p->capids ? 2 * p->capids : 1024;
		char **v = calloc(nc, sizeof *v);
		if (!v)
			return TC_ENOMEM;
		for (size_t i = 0; i < p->capids; i++)
			if (p->ids[i]) {
				size_t j = hash_id(p->ids[i]) & (nc - 1);
				while (v[j])
					j = (j + 1) & (nc - 1);
				v[j] = p->ids[i];
			}
		free(p->ids);
		p->ids = v;
		p->capids = nc;
	}
	size_t j = hash_id(id) & (p->capids - 1);
	while (p->ids[j]) {
		if (strcmp(p->ids[j], id) == 0) {
			*dup = true;
			return TC_OK;
		}
		j = (j + 1) & (p->capids - 1);
	}
	p->ids[j] = strdup(id);
	if (!p->ids[j])
		return TC_ENOMEM;
	p->nids++;
	return TC_OK;
}

enum tcerr
source_plan_init(struct source_plan *p, struct diag *d)
{
	p->w = NULL;
	p->nw = p->capw = 0;
	p->listed = p->unchanged = p->expiring = 0;
	p->ids = NULL;
	p->nids = p->capids = 0;
	p->seen = p->nknown ? calloc(p->nknown, sizeof *p->seen) : NULL;
	if (p->nknown && !p->seen)
		return diag_set(d, TC_ENOMEM, "out of memory");
	return TC_OK;
}

void
source_plan_reset(struct source_plan *p)
{
	for (size_t i = 0; i < p->nw; i++)
		json_decref(p->w[i].obj);
	free(p->w);
	for (size_t i = 0; i < p->capids; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p->seen);
	p->w = NULL;
	p->ids = NULL;
	p->seen = NULL;
	p->nw = p->capw = p->nids = p->capids = 0;
}

static enum tcerr
push(struct source_plan *p, json_t *obj, const char *id, int64_t modified_us, bool listed,
     struct diag *d)
{
	if (p->nw == p->capw) {
		size_t nc = p->capw ? 2 * p->capw : 64;
		struct source_write *v = realloc(p->w, nc * sizeof *v);
		if (!v) {
			json_decref(obj);
			return diag_set(d, TC_ENOMEM, "out of memory");
		}
		p->w = v;
		p->capw = nc;
	}
	struct source_write *w = &p->w[p->nw++];
	memset(w, 0, sizeof *w);
	w->obj = obj;
	snprintf(w->id, sizeof w->id, "%s", id);
	w->modified_us = modified_us;
	w->listed = listed;
	w->track = p->track;
	return TC_OK;
}

static int
set_time(json_t *o, const char *key, int64_t us)
{
	char t[TS_TEXT_MAX];
	ts_format(us, 3, t);
	return json_object_set_new(o, key, json_string(t));
}

static int64_t
get_time(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	int64_t us = 0;
	if (!s || ts_parse(slice_from_cstr(s), &us, NULL) != TC_OK)
		return 0;
	return us;
}

/* A time after both now and after_us, at millisecond precision (what
 * the versions are written with). */
static int64_t
later(int64_t now, int64_t after_us)
{
	int64_t t = now - now % 1000;
	if (t <= after_us)
		t = after_us - after_us % 1000 + 1000;
	return t;
}

/* Entry listed again after it expired: its last version, without
 * valid_until, modified now. */
static enum tcerr
relist(struct source_plan *p, struct source_known *k, struct diag *d)
{
	json_error_t je;
	json_t *o = json_loads(k->json ? k->json : "", 0, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return diag_set(d, TC_EINVAL, "the stored version of %s does not parse", k->id);
	}
	int64_t m = later(p->now_us, k->modified_us);
	json_object_del(o, "valid_until");
	json_object_del(o, "revoked");
	if (set_time(o, "modified", m)) {
		json_decref(o);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	return push(p, o, k->id, m, true, d);
}

enum tcerr
source_plan_value(struct source_plan *p, enum obs_kind kind, struct slice value, struct diag *d)
{
	struct buf name;
	char id[STIX_ID_MAX];
	char uuid[UUID_TEXT_MAX];
	enum tcerr rc;

	buf_init(&name, 0);
	buf_printf(&name, "source\n%s\n%s\n", p->name, obs_kind_name(kind));
	buf_append_slice(&name, value);
	if (buf_error(&name)) {
		buf_reset(&name);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	rc = import_id(p->id_key, p->id_key_len, buf_slice(&name), uuid);
	if (rc) {
		buf_reset(&name);
		return diag_set(d, rc, "cannot make an id");
	}
	snprintf(id, sizeof id, "indicator--%s", uuid);
	bool dup;
	if ((rc = ids_add(p, id, &dup))) {
		buf_reset(&name);
		return diag_set(d, rc, "out of memory");
	}
	if (dup) {
		buf_reset(&name);
		return TC_OK;
	}
	p->listed++;
	struct source_known *k = known_find(p, id);
	if (k) {
		p->seen[k - p->known] = true;
		buf_reset(&name);
		if (k->listed) {
			p->unchanged++;
			return TC_OK;
		}
		return relist(p, k, d);
	}
	int64_t now = later(p->now_us, 0);
	char desc[SOURCE_NAME_MAX + 32];
	snprintf(desc, sizeof desc, "Listed by source %s.", p->name);
	struct import_ind in = {
		.kind = kind,
		.value = value,
		.id_name = buf_slice(&name),
		.id_key = p->id_key,
		.id_key_len = p->id_key_len,
		.created_us = now,
		.valid_from_us = now,
		.tlp = p->tlp,
		.has_confidence = p->confidence >= 0,
		.confidence = p->confidence,
		.extra_desc = desc,
	};
	json_t *obj = NULL;
	char got[STIX_ID_MAX];
	rc = import_indicator(&in, &obj, got, d);
	buf_reset(&name);
	if (rc)
		return rc;
	if (p->identity && json_object_set_new(obj, "created_by_ref", json_string(p->identity))) {
		json_decref(obj);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	return push(p, obj, got, now, true, d);
}

static bool
has_tlp(const json_t *obj)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(obj, "object_marking_refs"), i, v) {
		const char *s = json_string_value(v);
		if (s && stix_tlp_from_marking(s) != TLP_NONE)
			return true;
	}
	return false;
}

enum tcerr
source_plan_object(struct source_plan *p, const json_t *in, struct diag *d)
{
	const char *id = json_string_value(json_object_get(in, "id"));
	const char *type = json_string_value(json_object_get(in, "type"));
	if (!id || !type || strlen(id) >= STIX_ID_MAX)
		return diag_set(d, TC_EINVAL, "an object without a usable id");
	int64_t m = get_time(in, "modified");
	/* SCOs and marking definitions have no modified: they are kept as they are */
	bool versioned = m != 0;
	bool dup;
	enum tcerr rc = ids_add(p, id, &dup);
	if (rc)
		return diag_set(d, rc, "out of memory");
	if (dup)
		return TC_OK;
	p->listed++;
	struct source_known *k = p->track ? known_find(p, id) : NULL;
	if (k) {
		p->seen[k - p->known] = true;
		if (k->listed && k->modified_us == m) {
			p->unchanged++;
			return TC_OK;
		}
		if (!k->listed && k->modified_us >= m)
			return relist(p, k, d);
	}
	json_t *o = json_deep_copy(in);
	if (!o)
		return diag_set(d, TC_ENOMEM, "out of memory");
	int bad = 0;
	if (versioned && strcmp(type, "marking-definition") != 0) {
		if (p->identity && strcmp(type, "identity") != 0)
			bad |= json_object_set_new(o, "created_by_ref", json_string(p->identity));
		const char *mk = stix_tlp_marking_id(p->tlp);
		if (mk && !has_tlp(o)) {
			json_t *refs = json_object_get(o, "object_marking_refs");
			if (!json_is_array(refs)) {
				refs = json_array();
				bad |= json_object_set_new(o, "object_marking_refs", refs);
			}
			bad |= json_array_append_new(refs, json_string(mk));
		}
		if (p->confidence >= 0 && !json_object_get(o, "confidence"))
			bad |= json_object_set_new(o, "confidence", json_integer(p->confidence));
	}
	if (bad) {
		json_decref(o);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	return push(p, o, id, m, true, d);
}

enum tcerr
source_plan_finish(struct source_plan *p, struct diag *d)
{
	if (!p->expire)
		return TC_OK;
	for (size_t i = 0; i < p->nknown; i++) {
		struct source_known *k = &p->known[i];
		if (p->seen[i] || !k->listed)
			continue;
		json_error_t je;
		json_t *o = json_loads(k->json ? k->json : "", 0, &je);
		if (!o || !json_is_object(o)) {
			json_decref(o);
			continue; /* nothing to expire it from: left as it is */
		}
		const char *type = json_string_value(json_object_get(o, "type"));
		if (!type || strcmp(type, "indicator") != 0) {
			json_decref(o);
			continue; /* only indicators expire; other objects stay */
		}
		int64_t vf = get_time(o, "valid_from");
		int64_t m = later(p->now_us, k->modified_us > vf ? k->modified_us : vf);
		if (set_time(o, "modified", m) || set_time(o, "valid_until", m)) {
			json_decref(o);
			return diag_set(d, TC_ENOMEM, "out of memory");
		}
		enum tcerr rc = push(p, o, k->id, m, false, d);
		if (rc)
			return rc;
		p->expiring++;
	}
	return TC_OK;
}
