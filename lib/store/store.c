/*
 * store.c — the public log-store API: argument checks, then dispatch.
 *
 * Everything a caller can get wrong is checked here, once, so that the
 * backends (store_backend.h) receive only well-formed requests and keep
 * identical semantics: aliases and uuids are validated and normalised,
 * batch inputs are checked before any backend sees them, and query lists
 * are bounded. A backend is chosen once, from the spec prefix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store/store_backend.h"
#include "util/text.h"
#include "util/timestamp.h"

enum tcerr
store_open(const char *spec, struct store **out, struct diag *d)
{
	diag_clear(d);
	*out = NULL;
	if (!spec || !*spec)
		return diag_set(d, TC_EINVAL, "store: empty location");
	if (strncmp(spec, "memory:", 7) == 0)
		return store__memory.open(spec + 7, out, d);
	const char *path = spec;
	if (strncmp(spec, "sqlite:", 7) == 0)
		path = spec + 7;
	if (!*path)
		return diag_set(d, TC_EINVAL, "%s: no file name after the prefix", spec);
	return store__sqlite.open(path, out, d);
}

void
store_close(struct store *s)
{
	if (s)
		s->be->close(s);
}

void
store_prov_stage(struct store *s, const struct store_prov_batch *b)
{
	s->prov = b;
}

enum tcerr
store_prov_find(struct store *s, uint64_t seq, uint8_t root[32], uint8_t **leaves,
                size_t *leaf_count, size_t *leaf_index, struct diag *d)
{
	diag_clear(d);
	*leaves = NULL;
	if (!s->be->prov_find)
		return diag_set(d, TC_EUNSUPPORTED, "store: the %s backend keeps no provenance",
		                s->be->name);
	return s->be->prov_find(s, seq, root, leaves, leaf_count, leaf_index, d);
}

static enum tcerr store_append_do(struct store *s, const struct store_obj_in *in, size_t n,
                                  struct store_append_out *out, store_unindex_cb unindex,
                                  void *ctx, struct diag *d);

enum tcerr
store_append(struct store *s, const struct store_obj_in *in, size_t n,
             struct store_append_out *out, store_unindex_cb unindex, void *ctx, struct diag *d)
{
	enum tcerr rc = store_append_do(s, in, n, out, unindex, ctx, d);
	s->prov = NULL;
	return rc;
}

static enum tcerr
store_append_do(struct store *s, const struct store_obj_in *in, size_t n,
                struct store_append_out *out, store_unindex_cb unindex, void *ctx, struct diag *d)
{
	diag_clear(d);
	if (n == 0)
		return TC_OK;
	if (n > STORE_BATCH_MAX)
		return diag_set(d, TC_ELIMIT, "batch of %zu versions exceeds the limit of %d", n,
		                STORE_BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct store_obj_in *o = &in[i];
		if (!o->meta)
			return diag_set(d, TC_EINVAL, "in[%zu]: no extracted columns (meta)", i);
		if (!o->meta->id[0] || !memchr(o->meta->id, '\0', sizeof o->meta->id))
			return diag_set(d, TC_EINVAL, "in[%zu]: empty or unterminated id", i);
		if (!o->meta->type[0] || !memchr(o->meta->type, '\0', sizeof o->meta->type) ||
		    !memchr(o->meta->version, '\0', sizeof o->meta->version) ||
		    !memchr(o->meta->spec_version, '\0', sizeof o->meta->spec_version))
			return diag_set(d, TC_EINVAL, "in[%zu]: empty or unterminated type or version",
			                i);
		if (!o->json.p || o->json.len == 0)
			return diag_set(d, TC_EINVAL, "in[%zu]: empty json", i);
		if (o->collection <= 0)
			return diag_set(d, TC_ENOTFOUND, "in[%zu]: no collection %lld", i,
			                (long long)o->collection);
		if (o->date_added_us < 0)
			return diag_set(d, TC_EINVAL, "in[%zu]: negative date_added", i);
		if (o->nobs && !o->obs)
			return diag_set(d, TC_EINVAL, "in[%zu]: observables missing", i);
		if (o->key_id && strnlen(o->key_id, STORE_KEY_ID_MAX + 1) > STORE_KEY_ID_MAX)
			return diag_set(d, TC_EINVAL, "in[%zu]: key id longer than %d bytes", i,
			                STORE_KEY_ID_MAX);
		for (size_t k = 0; k < o->nobs; k++) {
			if (o->obs[k].kind < OBS_IPV4 || o->obs[k].kind > OBS_KIND_MAX)
				return diag_set(d, TC_EINVAL, "in[%zu].obs[%zu]: unknown kind %d", i,
				                k, (int)o->obs[k].kind);
			if (!o->obs[k].value.p && o->obs[k].value.len)
				return diag_set(d, TC_EINVAL, "in[%zu].obs[%zu]: no value", i, k);
			if (o->obs[k].value.len > STORE_OBS_VALUE_MAX)
				return diag_set(d, TC_ELIMIT,
				                "in[%zu].obs[%zu]: value longer than %d bytes", i, k,
				                STORE_OBS_VALUE_MAX);
		}
	}
	return s->be->append(s, in, n, out, unindex, ctx, d);
}

/* [a-z0-9][a-z0-9._-]*, at most STORE_ALIAS_MAX bytes. */
static bool
alias_valid(const char *a)
{
	size_t len = strlen(a);
	if (len == 0 || len > STORE_ALIAS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = a[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          (i > 0 && (c == '.' || c == '_' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

/* RFC 4122 text form 8-4-4-4-12 hex digits; copies it lowercased to out. */
static bool
uuid_normalise(const char *u, char out[37])
{
	if (strlen(u) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = u[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
		out[i] = c;
	}
	out[36] = '\0';
	return true;
}

/* RFC 4122 §4.4: a random (version 4) UUID. */
static enum tcerr
uuid_v4(char out[37], struct diag *d)
{
	uint8_t r[16];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t k = getrandom(r + got, sizeof r - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return diag_set(d, TC_EIO, "collection: no randomness for a uuid: %s",
			                strerror(errno));
		}
		got += (size_t)k;
	}
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
	return TC_OK;
}

/* Checks free text (a title or description: at most max bytes of
 * printable UTF-8, text.h) and copies it to out; NULL is "". */
static enum tcerr
coll_text(char *out, const char *what, const char *text, size_t max, struct diag *d)
{
	size_t len = text ? strlen(text) : 0, bad;
	if (len > max)
		return diag_set(d, TC_EINVAL, "%s: longer than %zu bytes", what, max);
	if (!text_printable(slice_make(text ? text : "", len), &bad))
		return diag_set(d, TC_EINVAL,
		                "%s: a control character or invalid UTF-8 at byte %zu (titles and "
		                "descriptions are printable text)",
		                what, bad);
	if (len)
		memcpy(out, text, len);
	out[len] = '\0';
	return TC_OK;
}

enum tcerr
store_collection_add(struct store *s, const char *alias, const char *uuid, const char *title,
                     const char *description, struct store_collection *out, struct diag *d)
{
	diag_clear(d);
	struct store_collection c;
	memset(&c, 0, sizeof c);
	if (!alias || !alias_valid(alias))
		return diag_set(d, TC_EINVAL,
		                "alias: must be 1-%d characters [a-z0-9._-], starting with a letter "
		                "or digit",
		                STORE_ALIAS_MAX);
	memcpy(c.alias, alias, strlen(alias) + 1);
	if (uuid) {
		if (!uuid_normalise(uuid, c.uuid))
			return diag_set(d, TC_EINVAL, "uuid: '%.40s' is not an RFC 4122 uuid", uuid);
	} else {
		enum tcerr rc = uuid_v4(c.uuid, d);
		if (rc)
			return rc;
	}
	enum tcerr rc = coll_text(c.title, "title", title, STORE_TITLE_MAX, d);
	if (!rc)
		rc = coll_text(c.description, "description", description, STORE_DESCRIPTION_MAX, d);
	if (rc)
		return rc;
	rc = s->be->collection_add(s, &c, d);
	if (rc == TC_OK && out)
		*out = c;
	return rc;
}

/* store_collection_update's walk: copies the collection numbered num. */
struct coll_by_num {
	int64_t num;
	struct store_collection *c;
	bool *found;
};

static enum tcerr
coll_match_num(void *ctx, const struct store_collection *c)
{
	struct coll_by_num *x = ctx;
	if (c->num == x->num) {
		*x->c = *c;
		*x->found = true;
	}
	return TC_OK;
}

enum tcerr
store_collection_find(struct store *s, const char *alias_or_uuid, struct store_collection *out)
{
	if (!alias_or_uuid || !*alias_or_uuid)
		return TC_ENOTFOUND;
	char u[37];
	if (alias_valid(alias_or_uuid)) {
		enum tcerr rc = s->be->collection_find(s, alias_or_uuid, out);
		if (rc != TC_ENOTFOUND)
			return rc;
	}
	if (uuid_normalise(alias_or_uuid, u))
		return s->be->collection_find(s, u, out);
	return TC_ENOTFOUND;
}

enum tcerr
store_collection_update(struct store *s, int64_t num, const char *alias, const char *title,
                        const char *description, struct store_collection *out, struct diag *d)
{
	struct store_collection c;
	enum tcerr rc;
	bool found = false;

	diag_clear(d);
	memset(&c, 0, sizeof c);
	/* find the current row by number */
	struct coll_by_num ctx = { num, &c, &found };
	rc = s->be->collection_list(s, coll_match_num, &ctx);
	if (rc)
		return diag_set(d, rc, "collection %lld: %s", (long long)num, tcerr_str(rc));
	if (!found)
		return diag_set(d, TC_ENOTFOUND, "no collection %lld", (long long)num);
	if (alias) {
		if (!alias_valid(alias))
			return diag_set(d, TC_EINVAL,
			                "alias: must be 1-%d characters [a-z0-9._-], starting with a "
			                "letter or digit",
			                STORE_ALIAS_MAX);
		memcpy(c.alias, alias, strlen(alias) + 1);
	}
	if (title && (rc = coll_text(c.title, "title", title, STORE_TITLE_MAX, d)))
		return rc;
	if (description &&
	    (rc = coll_text(c.description, "description", description, STORE_DESCRIPTION_MAX, d)))
		return rc;
	if ((rc = s->be->collection_update(s, &c, d)))
		return rc;
	if (out)
		*out = c;
	return TC_OK;
}

enum tcerr
store_collection_list(struct store *s,
                      enum tcerr (*cb)(void *ctx, const struct store_collection *c), void *ctx)
{
	return s->be->collection_list(s, cb, ctx);
}

static bool
list_ok(const void *p, size_t n)
{
	return n <= STORE_QUERY_LIST_MAX && (n == 0 || p != NULL);
}

enum tcerr
store_query(struct store *s, const struct store_query *q, store_row_cb cb, void *ctx, bool *more,
            struct diag *d)
{
	diag_clear(d);
	if (more)
		*more = false;
	if (!list_ok(q->ids, q->nids) || !list_ok(q->types, q->ntypes) ||
	    !list_ok(q->version_us, q->nversion_us) ||
	    !list_ok(q->spec_versions, q->nspec_versions))
		return diag_set(d, TC_ELIMIT, "query: a filter lists more than %d values",
		                STORE_QUERY_LIST_MAX);
	struct store_query qq = *q;
	qq.versions &= STORE_V_LAST | STORE_V_FIRST | STORE_V_ALL;
	if (qq.versions == 0 && qq.nversion_us == 0)
		qq.versions = STORE_V_LAST;
	if (qq.versions & STORE_V_ALL)
		qq.versions = STORE_V_ALL, qq.nversion_us = 0;
	/* date_added > x and the cursor (a, s): the cursor is implied by
	 * x >= a, and implies the bound when x < a; keep one, so a backend
	 * has one lower bound on date_added to seek to. */
	if (qq.after_date_us < 0 || qq.added_after_us < 0)
		return diag_set(d, TC_EINVAL, "query: negative date_added bound");
	if (qq.after_date_us && qq.added_after_us >= qq.after_date_us)
		qq.after_date_us = 0, qq.after_date_seq = 0;
	else if (qq.after_date_us)
		qq.added_after_us = 0;
	return s->be->query(s, &qq, cb, ctx, more, d);
}

static enum store_delete_verdict
delete_all(void *ctx, const struct store_row *row)
{
	(void)ctx;
	(void)row;
	return STORE_DEL_YES;
}

enum tcerr
store_delete(struct store *s, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
             store_unindex_cb unindex, store_indexable_cb reindex, void *ictx,
             struct store_delete_out *out, struct diag *d)
{
	diag_clear(d);
	memset(out, 0, sizeof *out);
	if (!q->id || !*q->id)
		return diag_set(d, TC_EINVAL, "delete: no object id");
	if (q->collection <= 0)
		return diag_set(d, TC_ENOTFOUND, "delete: no collection %lld",
		                (long long)q->collection);
	if (!list_ok(q->version_us, q->nversion_us) ||
	    !list_ok(q->spec_versions, q->nspec_versions))
		return diag_set(d, TC_ELIMIT, "delete: a filter lists more than %d values",
		                STORE_QUERY_LIST_MAX);
	struct store_delete_q qq = *q;
	qq.versions &= STORE_V_LAST | STORE_V_FIRST | STORE_V_ALL;
	if (qq.versions == 0 && qq.nversion_us == 0)
		qq.versions = STORE_V_ALL;
	if (qq.versions & STORE_V_ALL)
		qq.versions = STORE_V_ALL, qq.nversion_us = 0;
	if (!may)
		may = delete_all;
	return s->be->delete(s, &qq, may, may_ctx, unindex, reindex, ictx, out, d);
}

enum tcerr
store_tombstones(struct store *s, uint64_t after_seq,
                 enum tcerr (*cb)(void *ctx, const struct store_tombstone *t), void *ctx,
                 struct diag *d)
{
	diag_clear(d);
	return s->be->tombstones(s, after_seq, cb, ctx, d);
}

enum tcerr
store_scan_indexable(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	diag_clear(d);
	return s->be->scan_indexable(s, cb, ctx, d);
}

enum tcerr
store_scan_revoked(struct store *s, store_indexable_cb cb, void *ctx, struct diag *d)
{
	diag_clear(d);
	return s->be->scan_revoked(s, cb, ctx, d);
}

enum tcerr
store_get_ref(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	if (ref == 0)
		return TC_ENOTFOUND;
	return s->be->get_ref(s, ref, cb, ctx);
}

enum tcerr
store_position(struct store *s, uint64_t *out)
{
	*out = 0;
	return s->be->position(s, out);
}

enum tcerr
store_versions_of(struct store *s, uint32_t ref, store_row_cb cb, void *ctx)
{
	if (ref == 0)
		return TC_ENOTFOUND;
	return s->be->versions_of(s, ref, cb, ctx);
}

enum tcerr
store_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	return s->be->stats(s, out);
}

enum tcerr
store_wal_autocheckpoint(struct store *s, int pages)
{
	if (!s->be->wal_autocheckpoint)
		return TC_EUNSUPPORTED;
	return s->be->wal_autocheckpoint(s, pages);
}

static enum tcerr
setting_key_check(const char *key)
{
	if (!key || !*key)
		return TC_EINVAL;
	if (strlen(key) > STORE_SETTING_KEY_MAX)
		return TC_ELIMIT;
	return TC_OK;
}

enum tcerr
store_setting_get(struct store *s, const char *key, struct buf *out)
{
	enum tcerr rc = setting_key_check(key);
	if (rc)
		return rc;
	return s->be->setting_get(s, key, out);
}

enum tcerr
store_setting_set(struct store *s, const char *key, const char *value)
{
	enum tcerr rc = setting_key_check(key);
	if (rc)
		return rc;
	if (!value)
		return TC_EINVAL;
	if (strlen(value) > STORE_SETTING_VALUE_MAX)
		return TC_ELIMIT;
	if (strcmp(key, "schema_version") == 0 || strncmp(key, "store.", 6) == 0)
		return TC_EPERM;
	return s->be->setting_set(s, key, value);
}


const char *
store_dreason_name(enum store_dreason r)
{
	switch (r) {
	case STORE_DR_PUBLISHED: return "published";
	case STORE_DR_SUPERSEDED: return "superseded";
	case STORE_DR_REVOKED: return "revoked";
	case STORE_DR_DELETED: return "deleted";
	case STORE_DR_EXPIRED: return "expired";
	case STORE_DR_ALLOWLISTED: return "allowlisted";
	case STORE_DR_UNALLOWLISTED: return "unallowlisted";
	}
	return "unknown";
}

void
store_decisions_set_judge(struct store *s, store_judge_fn judge, void *ctx)
{
	s->judge = judge;
	s->judge_ctx = ctx;
}

enum tcerr
store_decision_events(struct store *s, uint64_t after_seq, size_t limit,
                      enum tcerr (*cb)(void *ctx, const struct store_devent *e), void *ctx,
                      struct diag *d)
{
	diag_clear(d);
	if (!s->be->decision_events)
		return diag_set(d, TC_EUNSUPPORTED, "the %s store keeps no decisions", s->be->name);
	return s->be->decision_events(s, after_seq, limit, cb, ctx, d);
}

enum tcerr
store_decisions(struct store *s, enum obs_kind kind, const struct slice *value, int64_t now_us,
                enum tcerr (*cb)(void *ctx, const struct store_decision *c), void *ctx,
                uint64_t *position, struct diag *d)
{
	diag_clear(d);
	if (position)
		*position = 0;
	if (!s->be->decisions)
		return diag_set(d, TC_EUNSUPPORTED, "the %s store keeps no decisions", s->be->name);
	return s->be->decisions(s, kind, value, now_us ? now_us : ts_now_us(), cb, ctx, position,
	                        d);
}

enum tcerr
store_decisions_expire(struct store *s, int64_t now_us, size_t max, size_t *events,
                       int64_t *next_us, struct diag *d)
{
	diag_clear(d);
	size_t e = 0;
	int64_t nx = 0;
	enum tcerr t = TC_EUNSUPPORTED;
	if (!s->be->decisions_expire)
		diag_set(d, t, "the %s store keeps no decisions", s->be->name);
	else
		t = s->be->decisions_expire(s, now_us ? now_us : ts_now_us(), max, &e, &nx, d);
	if (events)
		*events = e;
	if (next_us)
		*next_us = nx;
	return t;
}

enum tcerr
store_decisions_rejudge(struct store *s, size_t *events, struct diag *d)
{
	diag_clear(d);
	size_t e = 0;
	enum tcerr t = TC_EUNSUPPORTED;
	if (!s->be->decisions_rejudge)
		diag_set(d, t, "the %s store keeps no decisions", s->be->name);
	else
		t = s->be->decisions_rejudge(s, &e, d);
	if (events)
		*events = e;
	return t;
}

enum tcerr
store_log_versions(struct store *s, uint64_t after_seq, size_t limit, store_log_cb cb,
                   void *ctx, uint64_t *last, struct diag *d)
{
	diag_clear(d);
	if (last)
		*last = 0;
	if (!s->be->log_versions)
		return diag_set(d, TC_EUNSUPPORTED, "the %s store cannot walk its log", s->be->name);
	uint64_t l = 0;
	enum tcerr t = s->be->log_versions(s, after_seq, limit, cb, ctx, &l, d);
	if (last)
		*last = l;
	return t;
}
