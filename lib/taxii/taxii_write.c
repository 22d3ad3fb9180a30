/*
 * taxii_write.c — the write endpoints: objects POST (§5.5) and object
 * DELETE (§5.7).
 *
 * POST checks, in order: write right (403), Content-Type (415), size
 * (413), JSON (400), envelope shape (422: not an envelope, an item that is
 * not a STIX object, a bundle, a spec version other than 2.1, or an
 * object without a STIX id its status could name it by, §4.3.1), then
 * hands every object to env->writer with the requester's organisation as
 * producer and its key id. An object whose created_by_ref is not the
 * requester's organisation's identity is a failure in the status, with
 * the reason (policy_author_check). Objects the hub rejects (invalid
 * STIX, TC_EPERM for a version of an object another organisation
 * produced, TC_EEXIST for a conflict: the same id and modified with other
 * content) are failures in the status, with the hub's message; duplicates
 * are successes (§5.5). A duplicate or conflict is judged only against a
 * stored copy the poster may see (policy_row); against one it may not, the
 * answer is a plain success, as for a new object, and the poster's copy is
 * not kept (issue 9); so is a new version of another organisation's object
 * of which the poster may see no version (TC_EPERM only when it may see
 * one). The status is
 * `complete` (the writer returns only when the batch is durable), kept in
 * the registry, audited, and the audit log synced, before the 202.
 *
 * DELETE needs can_read and can_write (§5.7 table: otherwise 403; neither
 * is the 404 of an unknown collection). It removes only versions
 * policy_may_delete() allows; when some visible selected version is not
 * the requester's to delete nothing is deleted (403), when none is
 * visible the answer is 404. Invariant: every write that reached the
 * writer is in the audit log, synced, before the answer.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_id.h"
#include "taxii_envelope.h"
#include "taxii_internal.h"
#include "taxii_jarena.h"
#include "util/timestamp.h"

#define TAXII_PATH_TEXT_MAX 32 /* "objects[" SIZE_MAX "]" */

/* §4.3.1 status-details version: the object's modified, else created,
 * else (an SCO) its date_added, else the request time. */
static const char *
object_version(const json_t *obj, int64_t fallback_us, char tmp[TS_TEXT_MAX])
{
	const char *v = json_string_value(json_object_get(obj, "modified"));
	if (!v)
		v = json_string_value(json_object_get(obj, "created"));
	if (v && strlen(v) <= STIX_VERSION_TEXT_MAX)
		return v;
	taxii__ts(fallback_us, tmp);
	return tmp;
}

/* §5.5: why item o of an envelope is no STIX 2.1 or 2.0 object (a 422), or NULL. */
static const char *
item_problem(const json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const json_t *sv = json_object_get(o, "spec_version");

	if (!json_is_object(o))
		return "not a JSON object";
	if (!type)
		return "no type: not a STIX object";
	if (strcmp(type, "bundle") == 0)
		return "a bundle; post the bundle's objects in the envelope instead";
	if (sv && (!json_is_string(sv) || strcmp(json_string_value(sv), "2.1") != 0))
		return "spec_version: this API root accepts STIX 2.1 objects only";
	/* no spec_version: STIX 2.0 (or an SCO); stix_validate judges it */
	/* §4.3.1: a status names each object by its STIX identifier; one
	 * without an id it could name is unprocessable */
	const json_t *id = json_object_get(o, "id");
	if (!json_is_string(id) ||
	    !stix_id_valid(slice_make(json_string_value(id), json_string_length(id)), NULL))
		return "id: missing or not a STIX identifier (TYPE--UUID)";
	return NULL;
}

/* §5.5: 422 for what is no envelope of STIX 2.1 objects. Returns true when
 * the envelope may go to the writer; else rs holds the 422. */
static bool
check_envelope(struct taxii__rq *r, const json_t *root, const json_t **objs)
{
	char msg[DIAG_MSG_MAX];
	const json_t *list;
	size_t i;
	const json_t *o;
	int n;

	*objs = NULL;
	if (!json_is_object(root)) {
		taxii_error(r->rs, 422, "Not an envelope",
		            "the body must be a TAXII envelope: {\"objects\": [...]}");
		return false;
	}
	if (json_object_get(root, "type")) {
		/* A bundle ({"type": "bundle", ...}) or a lone STIX object. */
		taxii_error(r->rs, 422, "Not an envelope",
		            "the body has a \"type\": it is a STIX bundle or object, not a "
		            "TAXII envelope; post {\"objects\": [...]}");
		return false;
	}
	list = json_object_get(root, "objects");
	if (!list || (json_is_array(list) && json_array_size(list) == 0)) {
		/* TAXII 2.1 §2: a list has at least one item; a POST adds objects. */
		taxii_error(r->rs, 422, "Not an envelope",
		            "objects: the envelope must list at least one STIX object");
		return false;
	}
	if (!json_is_array(list)) {
		taxii_error(r->rs, 422, "Not an envelope",
		            "objects: must be a list of STIX objects");
		return false;
	}
	json_array_foreach(list, i, o)
	{
		const char *why = item_problem(o);
		if (!why)
			continue;
		n = snprintf(msg, sizeof(msg), "objects[%zu]: %s", i, why);
		(void)n; /* a truncated message is still a message */
		taxii_error(r->rs, 422, "Unprocessable envelope", msg);
		return false;
	}
	*objs = list;
	return true;
}

/* Appends one status-details (§4.3.1). */
static void
status_detail(struct buf *b, bool comma, const char *id, const char *version, const char *msg)
{
	if (comma)
		buf_append_char(b, ',');
	buf_append_char(b, '{');
	taxii__json_kv(b, false, "id", id);
	taxii__json_kv(b, true, "version", version);
	if (msg && *msg)
		taxii__json_kv(b, true, "message", msg);
	buf_append_char(b, '}');
}

static const char *
reject_message(const struct hub_result *res, char tmp[DIAG_MSG_MAX])
{
	if (res->why[0])
		return res->why;
	snprintf(tmp, DIAG_MSG_MAX, "rejected: %s", tcerr_str(res->rc));
	return tmp;
}

/* Builds the status resource into b. OUT: the audit list of stored ids;
 * the counts of added, duplicate and unseen-copy (hub_result.unseen_copy:
 * answered as new, not kept) objects. */
static void
build_status(struct buf *b, const char *status_id, int64_t now_us, const struct hub_item *items,
             const struct hub_result *res, size_t n, struct taxii__idlist *ids, size_t *nadded,
             size_t *ndup, size_t *nunseen)
{
	char ts[TS_TEXT_MAX], vtmp[TS_TEXT_MAX], mtmp[DIAG_MSG_MAX];
	size_t ok = 0, bad = 0, k;

	for (size_t i = 0; i < n; i++) {
		if (res[i].verdict == HUB_REJECTED)
			bad++;
		else
			ok++;
	}
	taxii__ts(now_us, ts);
	buf_append_char(b, '{');
	taxii__json_kv(b, false, "id", status_id);
	taxii__json_kv(b, true, "status", "complete");
	taxii__json_kv(b, true, "request_timestamp", ts);
	buf_printf(b, ",\"total_count\":%zu,\"success_count\":%zu", n, ok);
	/* §1.3: omit empty lists rather than send [] */
	if (ok) {
		buf_append_cstr(b, ",\"successes\":[");
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (res[i].verdict == HUB_REJECTED)
				continue;
			const json_t *o = items[i].obj;
			const char *v = object_version(o, res[i].date_added_us, vtmp);
			bool dup = res[i].verdict == HUB_DUPLICATE;
			/* A success may carry notes: card numbers hashed
			 * (docs/extensions.md: the producer learns that what is
			 * stored is not byte for byte what it sent) and warnings
			 * (an allowlisted value); §4.3.1 status-details "message" */
			const char *msg =
			    res[i].cards_hashed
			        ? (dup ? "duplicate: already stored (payment card numbers replaced "
			                 "by their keyed hash)"
			               : "stored with payment card numbers replaced by their keyed "
			                 "hash")
			        : (dup ? "duplicate: already stored" : NULL);
			if (res[i].warned) {
				snprintf(mtmp, sizeof(mtmp), "%s%s%s", msg ? msg : "", msg ? "; " : "",
				         res[i].why);
				msg = mtmp;
			}
			status_detail(b, k++ > 0, res[i].id, v, msg);
			if (res[i].unseen_copy) {
				/* answered as new, not kept: the audit says so */
				(*nunseen)++;
				continue;
			}
			if (dup) {
				(*ndup)++;
			} else {
				(*nadded)++;
				taxii__idlist_seq(ids, res[i].seq); /* this commit's position */
			}
			taxii__idlist_add(ids, res[i].id, v);
		}
		buf_append_char(b, ']');
	}
	buf_printf(b, ",\"failure_count\":%zu", bad);
	if (bad) {
		buf_append_cstr(b, ",\"failures\":[");
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (res[i].verdict != HUB_REJECTED)
				continue;
			const json_t *o = items[i].obj;
			const char *id = res[i].id[0] ? res[i].id : "";
			if (!id[0]) {
				const char *jid = json_string_value(json_object_get(o, "id"));
				id = jid && strlen(jid) < STIX_ID_MAX ? jid : "";
			}
			status_detail(b, k++ > 0, id, object_version(o, now_us, vtmp),
			              reject_message(&res[i], mtmp));
		}
		buf_append_char(b, ']');
	}
	buf_append_cstr(b, ",\"pending_count\":0}");
}

/* Why split_envelope() did not split a body, for an answer that needs no
 * parse of the whole body. */
struct envelope_fault {
	bool too_many;        /* more than TAXII_POST_OBJECTS_MAX elements */
	bool element;         /* element index is at fault: */
	bool unprocessable;   /*   parsed, but no STIX 2.1 object (422) */
	size_t index;
	enum tcerr rc;        /*   TC_EINVAL (malformed) or TC_ELIMIT */
	char why[DIAG_MSG_MAX];
};

static bool
poster_may_see(void *ctx, const struct store_row *row)
{
	return policy_row(ctx, row);
}

/* The common case of a POST body, parsed object by object: each object
 * is parsed alone (no tree of the whole envelope, which is costly to
 * build and to free at once) and keeps its received text, so the hub
 * stores it without serialising it again. OUT: *items (obj owned: the
 * caller decrefs each; text set), *n, *compact (holds the texts of
 * objects that had whitespace; caller frees). Returns TC_OK; TC_EINVAL
 * when the body must be parsed whole instead — another shape, an object
 * that does not parse or that check_envelope would refuse — so that the
 * answer is the one the whole parse gives; TC_ENOMEM. */
static enum tcerr
split_envelope(struct slice body, struct hub_item **items_out, size_t *n_out, char **compact_out,
               struct envelope_fault *fault)
{
	struct taxii_span *sp = NULL;
	struct hub_item *items = NULL;
	char *compact = NULL;
	size_t n = 0, i = 0, at = 0;
	struct diag d;
	enum tcerr rc;
	/* the whole body's limits, seen from inside {"objects": [ ... ]} */
	struct stix_limits lim = stix_default_limits;
	lim.max_depth = lim.max_depth > 2 ? lim.max_depth - 2 : 0;

	*items_out = NULL;
	*n_out = 0;
	*compact_out = NULL;
	memset(fault, 0, sizeof(*fault));
	rc = taxii_envelope_scan(body, TAXII_POST_OBJECTS_MAX, &sp, &n);
	if (rc == TC_ELIMIT) {
		fault->too_many = true;
		rc = TC_EINVAL;
	}
	if (rc)
		return rc;
	items = calloc(n, sizeof(*items));
	if (!items) {
		rc = TC_ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct slice t = slice_make(body.p + sp[i].off, sp[i].len);
		json_t *o;
		if ((rc = stix_json_parse(t, &lim, &o, &d))) {
			if (rc != TC_ENOMEM) {
				fault->element = true;
				fault->index = i;
				fault->rc = rc;
				snprintf(fault->why, sizeof(fault->why), "%s", d.msg);
			}
			goto fail;
		}
		items[i].obj = o;
		const char *why = item_problem(o);
		if (why) {
			fault->element = true;
			fault->index = i;
			fault->rc = TC_EINVAL;
			fault->unprocessable = true;
			snprintf(fault->why, sizeof(fault->why), "%s", why);
			i++;
			rc = TC_EINVAL;
			goto fail;
		}
		if (sp[i].ws) {
			if (!compact && !(compact = malloc(body.len))) {
				i++;
				rc = TC_ENOMEM;
				goto fail;
			}
			size_t len = taxii_envelope_compact(body, &sp[i], compact + at);
			t = slice_make(compact + at, len);
			at += len;
		}
		items[i].text = t;
	}
	free(sp);
	*items_out = items;
	*n_out = n;
	*compact_out = compact;
	return TC_OK;
fail:
	for (size_t k = 0; items && k < i; k++)
		json_decref(items[k].obj);
	free(items);
	free(compact);
	free(sp);
	return rc;
}

/* Hands items to the writer; with w->obs, validates and extracts them
 * here first (hub_prepare: in this request thread, in parallel with the
 * others) so the writer only appends the valid ones and indexes. OUT:
 * res[i] for every item. Returns what the writer returns, or TC_ENOMEM. */
static enum tcerr
ingest(const struct taxii_writer *w, const struct policy_subject *who, struct hub_item *items,
       size_t n, struct hub_result *res, struct diag *d)
{
	struct hub_prep *prep = NULL;
	struct hub_item *ok = NULL;
	struct hub_result *okres = NULL;
	size_t *at = NULL, m = 0;
	enum tcerr rc;

	if (w->obs) {
		if ((rc = hub_prepare(w->obs, items, n, res, &prep, d)))
			return rc;
	} else {
		memset(res, 0, n * sizeof(*res));
	}
	/* issue 8: an organisation publishes only as itself (policy.h) */
	for (size_t i = 0; i < n; i++) {
		struct diag ad;
		if (res[i].verdict == HUB_REJECTED)
			continue;
		diag_clear(&ad);
		if (policy_author_check(who->snap, who->org, items[i].obj, items[i].path, &ad)) {
			const char *jid = json_string_value(json_object_get(items[i].obj, "id"));
			res[i].verdict = HUB_REJECTED;
			res[i].rc = TC_EPERM;
			snprintf(res[i].id, sizeof(res[i].id), "%s",
			         jid && strlen(jid) < STIX_ID_MAX ? jid : "");
			snprintf(res[i].why, sizeof(res[i].why), "%s", ad.msg);
		}
	}
	for (size_t i = 0; i < n; i++)
		m += res[i].verdict != HUB_REJECTED;
	if (m == n) {
		rc = w->ingest(w->ctx, items, n, res, d);
		goto out;
	}
	rc = TC_OK;
	if (m == 0)
		goto out;
	ok = calloc(m, sizeof(*ok));
	okres = calloc(m, sizeof(*okres));
	at = calloc(m, sizeof(*at));
	if (!ok || !okres || !at) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0, k = 0; i < n; i++) {
		if (res[i].verdict == HUB_REJECTED)
			continue;
		ok[k] = items[i];
		at[k++] = i;
	}
	if ((rc = w->ingest(w->ctx, ok, m, okres, d)))
		goto out;
	for (size_t k = 0; k < m; k++)
		res[at[k]] = okres[k];
out:
	free(ok);
	free(okres);
	free(at);
	hub_prep_free(prep);
	return rc;
}

enum tcerr
taxii__post_objects(struct taxii__rq *r)
{
	struct taxii_response *rs = r->rs;
	json_t *root = NULL;
	const json_t *list = NULL;
	struct hub_item *items = NULL;
	struct hub_result *res = NULL;
	char *paths = NULL, *compact = NULL;
	bool split = false;
	char status_id[UUID_TEXT_MAX];
	char detail[DIAG_MSG_MAX + 128];
	struct taxii__idlist ids;
	struct diag d;
	size_t n = 0, nadded = 0, ndup = 0, nunseen = 0;
	int64_t now_us = ts_now_us();
	enum tcerr rc = TC_OK, wrc;

	taxii__idlist_init(&ids);
	/* every JSON value of this request is released at out:, before the
	 * scope ends (the writer thread only reads them while we wait) */
	taxii_jarena_begin();
	/* §5.5: can_write=false → 403 (the collection is visible: readable) */
	if (!r->rights.can_write) {
		taxii_error(rs, 403, "Not allowed to write this collection", NULL);
		goto out;
	}
	/* §3.1: a POST carries the TAXII Content-Type */
	if (!taxii__content_type_ok(r->rq->content_type)) {
		taxii_error(rs, 415, "Unsupported media type",
		            "send Content-Type: " TAXII_MEDIA_TYPE);
		goto out;
	}
	/* §4.2.1: bodies above this root's max_content_length get 413 */
	if (r->rq->body.len > r->root.max_content_length) {
		char m[128];
		snprintf(m, sizeof(m), "the body exceeds max_content_length (%zu bytes)",
		         r->root.max_content_length);
		taxii_error(rs, 413, "Request too large", m);
		goto out;
	}
	struct envelope_fault fault;
	rc = split_envelope(r->rq->body, &items, &n, &compact, &fault);
	if (rc == TC_ENOMEM)
		goto out;
	split = rc == TC_OK;
	if (!split && (fault.too_many || r->rq->body.len > TAXII_WHOLE_PARSE_MAX)) {
		/* Answered from the scan: parsing a large body whole for a
		 * more precise message would cost far more than the body's
		 * size in memory and time. */
		char m[DIAG_MSG_MAX + 64];
		rc = TC_OK;
		if (fault.too_many) {
			snprintf(m, sizeof(m), "an envelope may carry at most %d objects",
			         TAXII_POST_OBJECTS_MAX);
			taxii_error(rs, 413, "Request too large", m);
		} else if (fault.element) {
			snprintf(m, sizeof(m), "objects[%zu]: %s", fault.index, fault.why);
			if (fault.unprocessable)
				taxii_error(rs, 422, "Unprocessable envelope", m);
			else if (fault.rc == TC_ELIMIT)
				taxii_error(rs, 413, "Request too large", m);
			else
				taxii_error(rs, 400, "Malformed JSON", m);
		} else {
			snprintf(m, sizeof(m),
			         "the body is not a TAXII envelope {\"objects\": [{...}, ...]} of "
			         "valid JSON (a body over %d bytes is not parsed whole to find where)",
			         TAXII_WHOLE_PARSE_MAX);
			taxii_error(rs, 400, "Malformed envelope", m);
		}
		goto out;
	}
	if (!split) {
		/* another shape, or some object is not right: parse the body
		 * whole, for the precise answer */
		diag_clear(&d);
		rc = stix_json_parse(r->rq->body, NULL, &root, &d);
		if (rc == TC_ENOMEM)
			goto out;
		if (rc) {
			char m[DIAG_MSG_MAX + 64];
			if (d.line)
				snprintf(m, sizeof(m), "body:%ld:%ld: %s", d.line, d.column, d.msg);
			else
				snprintf(m, sizeof(m), "body: %s", d.msg);
			if (rc == TC_ELIMIT)
				taxii_error(rs, 413, "Request too large", m);
			else
				taxii_error(rs, 400, "Malformed JSON", m);
			rc = TC_OK;
			goto out;
		}
		if (!check_envelope(r, root, &list))
			goto out;
		n = list ? json_array_size(list) : 0;
		if (n > TAXII_POST_OBJECTS_MAX) {
			char m[96];
			snprintf(m, sizeof(m), "an envelope may carry at most %d objects",
			         TAXII_POST_OBJECTS_MAX);
			taxii_error(rs, 413, "Request too large", m);
			goto out;
		}
		if (n) {
			items = calloc(n, sizeof(*items));
			if (!items) {
				rc = TC_ENOMEM;
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				items[i].obj = json_array_get(list, i);
		}
	}
	if (uuid_v4(status_id) != TC_OK) {
		taxii_error(rs, 503, "No randomness", "cannot make a status id; retry later");
		goto out;
	}
	if (n) {
		res = calloc(n, sizeof(*res));
		paths = calloc(n, TAXII_PATH_TEXT_MAX);
		if (!res || !paths) {
			rc = TC_ENOMEM;
			goto out;
		}
		int64_t producer = r->who->org ? r->who->org->num : 0;
		const char *key_id = r->who->principal ? r->who->principal->key_id : NULL;
		for (size_t i = 0; i < n; i++) {
			char *p = paths + i * TAXII_PATH_TEXT_MAX;
			snprintf(p, TAXII_PATH_TEXT_MAX, "objects[%zu]", i); /* fits: n ≤ 100000 */
			items[i].path = p;
			items[i].collection = r->col->c.num;
			items[i].producer = producer;
			items[i].key_id = key_id;
			/* a duplicate or conflict is judged against what the
			 * poster may see (the writer thread asks, while this
			 * request holds its snapshot) */
			items[i].may_see = poster_may_see;
			items[i].may_see_ctx = (void *)r->who;
		}
		diag_clear(&d);
		wrc = ingest(r->env->writer, r->who, items, n, res, &d);
		if (wrc) {
			/* nothing of the batch was stored: audit the attempt, then fail */
			snprintf(detail, sizeof(detail), "%zu objects not stored: %s", n,
			         d.msg[0] ? d.msg : tcerr_str(wrc));
			int code = wrc == TC_ENOMEM ? 500 : 503;
			if (taxii__audit(r, "write", code, NULL, NULL, 0, detail) == TC_OK)
				audit_sync(r->env->audit, &d);
			if (wrc == TC_ELIMIT)
				taxii_error(rs, 413, "Request too large", detail);
			else
				taxii_error(rs, code, "Store unavailable",
				            "nothing was stored; retry later");
			goto out;
		}
	}

	build_status(&rs->body, status_id, now_us, items, res, n, &ids, &nadded, &ndup, &nunseen);
	if (buf_error(&rs->body) || buf_error(&ids.b)) {
		rc = TC_ENOMEM;
		goto out;
	}
	/* §4.3: keep it for the status endpoint */
	diag_clear(&d);
	char skey[TAXII__STATUS_KEY_MAX];
	taxii__status_key(r, status_id, skey);
	wrc = registry_status_put(r->env->registry, skey, now_us, rs->body.p, rs->body.len, &d);
	char unseen[96] = "";
	if (nunseen)
		snprintf(unseen, sizeof unseen,
		         "; %zu not kept (a stored version the poster may not see)", nunseen);
	snprintf(detail, sizeof(detail), "%zu added, %zu duplicates, %zu failed%s%s", nadded, ndup,
	         n - nadded - ndup - nunseen, unseen, wrc ? "; the status could not be kept" : "");
	wrc = taxii__idlist_audit(r, &ids, false, "write", 202, status_id, detail);
	if (wrc == TC_OK)
		wrc = audit_sync(r->env->audit, &d);
	if (wrc) {
		if (wrc == TC_ENOMEM) {
			rc = wrc;
			goto out;
		}
		taxii_error(rs, 503, "Audit log unavailable",
		            "the objects were stored but the write could not be audited; posting "
		            "them again is safe (duplicates succeed)");
		goto out;
	}
	rs->status = 202;
	rs->objects = n;
out:
	taxii__idlist_reset(&ids);
	if (split)
		for (size_t i = 0; i < n; i++)
			json_decref(items[i].obj);
	free(items);
	free(res);
	free(paths);
	free(compact);
	json_decref(root);
	taxii_jarena_end();
	return rc;
}

/* ---- DELETE ---- */

struct del {
	const struct policy_subject *who;
	size_t visible, refused;
	struct taxii__idlist *ids;
};

static enum store_row_verdict
del_check_row(void *ctx, const struct store_row *row)
{
	struct del *x = ctx;
	if (!policy_row(x->who, row))
		return STORE_ROW_SKIP;
	x->visible++;
	if (!policy_may_delete(x->who, row))
		x->refused++;
	return STORE_ROW_TAKE;
}

static enum store_delete_verdict
del_may(void *ctx, const struct store_row *row)
{
	struct del *x = ctx;
	char tmp[TS_TEXT_MAX];

	if (!policy_row(x->who, row))
		return STORE_DEL_HIDDEN;
	if (!policy_may_delete(x->who, row))
		return STORE_DEL_REFUSED;
	if (row->version && row->version[0]) {
		taxii__idlist_add(x->ids, row->id, row->version);
	} else {
		taxii__ts(row->date_added_us, tmp);
		taxii__idlist_add(x->ids, row->id, tmp);
	}
	return STORE_DEL_YES;
}

enum tcerr
taxii__delete_object(struct taxii__rq *r)
{
	struct taxii_response *rs = r->rs;
	struct taxii_query q;
	struct taxii__idlist ids;
	struct del x = {.who = r->who, .ids = &ids};
	const char *one_id[1] = {r->object_id};
	struct store_delete_out out = {0};
	char detail[DIAG_MSG_MAX + 128];
	struct diag d;
	enum tcerr rc = TC_OK, wrc;

	taxii_query_init(&q);
	taxii__idlist_init(&ids);
	/* §5.7: (T,F) and (F,T) → 403; (F,F) was the 404 of resolve_collection */
	if (!r->rights.can_read || !r->rights.can_write) {
		taxii_error(rs, 403, "Not allowed to delete from this collection",
		            "deleting needs both read and write rights");
		goto out;
	}
	diag_clear(&d);
	rc = taxii_query_parse(&q, TAXII_P_MATCH_VERSION | TAXII_P_MATCH_SPEC_VERSION, r->rq->query,
	                       &d);
	if (rc == TC_ENOMEM)
		goto out;
	if (rc) {
		rc = TC_OK;
		taxii_error(rs, 400, "Bad query parameter", d.msg);
		goto out;
	}

	/* look first, so that a refusal deletes nothing */
	struct store_query sq = {
	    .collection = r->col->c.num,
	    .ids = one_id,
	    .nids = 1,
	    .versions = q.versions,
	    .version_us = q.version_us,
	    .nversion_us = q.nversion_us,
	    .spec_versions = (const char *const *)q.spec_versions,
	    .nspec_versions = q.nspec_versions,
	};
	/* §5.7: without match[version], every version */
	if (q.versions == 0 && q.nversion_us == 0)
		sq.versions = STORE_V_ALL;
	diag_clear(&d);
	if ((rc = store_query(r->env->store, &sq, del_check_row, &x, NULL, &d))) {
		if (rc != TC_ENOMEM) {
			rc = TC_OK;
			taxii_error(rs, 503, "Store unavailable", NULL);
		}
		goto out;
	}
	if (x.visible == 0) {
		taxii_error(rs, 404, "No such object", NULL);
		goto out;
	}
	if (x.refused) {
		taxii_error(rs, 403, "Not allowed to delete this object",
		            "only the producing organisation (or an admin) deletes its versions");
		goto out;
	}

	struct store_delete_q dq = {
	    .collection = r->col->c.num,
	    .id = r->object_id,
	    .versions = q.versions,
	    .version_us = q.version_us,
	    .nversion_us = q.nversion_us,
	    .spec_versions = (const char *const *)q.spec_versions,
	    .nspec_versions = q.nspec_versions,
	};
	diag_clear(&d);
	wrc = r->env->writer->remove(r->env->writer->ctx, &dq, del_may, &x, &out, &d);
	if (wrc) {
		snprintf(detail, sizeof(detail), "nothing deleted: %s",
		         d.msg[0] ? d.msg : tcerr_str(wrc));
		if (taxii__audit(r, "delete", 503, NULL, NULL, 0, detail) == TC_OK)
			audit_sync(r->env->audit, &d);
		if (wrc == TC_ENOMEM) {
			rc = wrc;
			goto out;
		}
		taxii_error(rs, 503, "Store unavailable", "nothing was deleted; retry later");
		goto out;
	}
	snprintf(detail, sizeof(detail), "%zu versions deleted, %zu refused", out.deleted,
	         out.refused);
	/* one transaction: its tombstones took consecutive positions */
	for (size_t k = 0; k < out.deleted && out.seq > k; k++)
		taxii__idlist_seq(&ids, out.seq - k);
	int code = out.deleted ? 200 : 404;
	wrc = taxii__idlist_audit(r, &ids, false, "delete", code, NULL, detail);
	if (wrc == TC_OK)
		wrc = audit_sync(r->env->audit, &d);
	if (wrc) {
		if (wrc == TC_ENOMEM) {
			rc = wrc;
			goto out;
		}
		taxii_error(rs, 503, "Audit log unavailable",
		            "the versions were deleted but the deletion could not be audited");
		goto out;
	}
	if (!out.deleted) {
		/* changed between the look and the delete */
		taxii_error(rs, 404, "No such object", NULL);
		goto out;
	}
	/* §5.7: 200 with no body */
	buf_clear(&rs->body);
	rs->status = 200;
	rs->content_type = NULL;
	rs->objects = out.deleted;
out:
	taxii__idlist_reset(&ids);
	taxii_query_reset(&q);
	return rc;
}
