/*
 * taxii_server.c — taxii_handle(): authentication, routing, media-type
 * checks and error resources, and the small resources (discovery, API
 * roots, status, collections, collection). The paged endpoints live in
 * taxii_read.c, the writes in taxii_write.c.
 *
 * Invariant: every answer is a TAXII resource or error resource with the
 * TAXII content type (except a DELETE's empty 200 and a 308, which have no
 * body), and every answer that concerns a collection was decided after
 * policy_collection(): a requester who may neither read nor write a
 * collection, or asks for it under another API root than its own, gets
 * exactly the 404 an unknown collection gets (App. B: do not reveal what
 * the client may not see). Order of checks: credential (401), path (308
 * for a missing last '/', 404 for an unknown root or path), method (405),
 * Accept (406), collection rights (404, 403), then the endpoint's own
 * (400, 413 against the root's max_content_length, 415, 422).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "taxii_internal.h"
#include "util/timestamp.h"

#define TAXII_PATH_SEGMENTS_MAX 6 /* root/collections/ID/objects/OID/versions */
#define TAXII_STATUS_ID_MAX 36    /* a UUID */

void
taxii_response_init(struct taxii_response *rs)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, TAXII_RESPONSE_MAX);
	rs->content_type = TAXII_MEDIA_TYPE;
}

void
taxii_response_reset(struct taxii_response *rs)
{
	buf_reset(&rs->body);
	taxii_response_init(rs);
}

void
taxii__ts(int64_t us, char out[TS_TEXT_MAX])
{
	ts_format(us, 6, out);
}

void
taxii__json_kv(struct buf *b, bool comma, const char *key, const char *value)
{
	if (comma)
		buf_append_char(b, ',');
	buf_append_json_str(b, slice_from_cstr(key));
	buf_append_char(b, ':');
	buf_append_json_str(b, slice_from_cstr(value));
}

int64_t
taxii__principal_num(const struct policy_subject *who)
{
	return who && who->principal ? who->principal->num : 0;
}

/* Statuses are stored under "<org>/<id>" (the default root) or
 * "<org>/<root>/<id>", so that only the organisation that posted (any of
 * its principals: a client may poll with another key), under the root it
 * posted to, can read one; for anyone else the id is unknown (404). */
void
taxii__status_key(const struct taxii__rq *r, const char *id, char out[TAXII__STATUS_KEY_MAX])
{
	int64_t org = r->who && r->who->org ? r->who->org->num : 0;
	int n = r->root.is_default
	            ? snprintf(out, TAXII__STATUS_KEY_MAX, "%lld/%s", (long long)org, id)
	            : snprintf(out, TAXII__STATUS_KEY_MAX, "%lld/%s/%s", (long long)org,
	                       r->root.name, id);
	if (n < 0 || n >= TAXII__STATUS_KEY_MAX)
		out[0] = '\0'; /* cannot happen: id is at most a UUID, a root name 63 bytes */
}

const char *
taxii__org_name(const struct policy_subject *who)
{
	if (!who || who->operator_)
		return "operator";
	return who->org ? who->org->name : NULL;
}

const char *
taxii__actor(const struct taxii__rq *r)
{
	if (r->rq->actor)
		return r->rq->actor;
	if (r->who && r->who->principal)
		return r->who->principal->key_id;
	return "operator";
}

/* taxii__audit with the log positions the entry covers (on its first
 * part when the ids take several entries). */
static enum tcerr
audit_seqs(const struct taxii__rq *r, const char *action, int http_status, const char *status_id,
           const char *const *ids, size_t nids, const uint64_t *seqs, size_t nseqs,
           const char *detail)
{
	struct diag d;
	size_t i = 0;
	enum tcerr rc;

	do {
		size_t n = nids - i < AUDIT_IDS_MAX ? nids - i : AUDIT_IDS_MAX;
		struct audit_entry e = {
		    .action = action,
		    .actor = taxii__actor(r),
		    .org = taxii__org_name(r->who),
		    .collection = r->col ? r->col->c.uuid : NULL,
		    .request = r->request_line,
		    .status_id = status_id,
		    .http_status = http_status,
		    .ids = n ? ids + i : NULL,
		    .nids = n,
		    .detail = detail,
		    .seqs = i == 0 ? seqs : NULL,
		    .nseqs = i == 0 ? nseqs : 0,
		};
		diag_clear(&d);
		if ((rc = audit_append(r->env->audit, &e, &d)))
			return rc;
		i += n;
	} while (i < nids);
	return TC_OK;
}

enum tcerr
taxii__audit(const struct taxii__rq *r, const char *action, int http_status, const char *status_id,
             const char *const *ids, size_t nids, const char *detail)
{
	return audit_seqs(r, action, http_status, status_id, ids, nids, NULL, 0, detail);
}

void
taxii__idlist_init(struct taxii__idlist *l)
{
	buf_init(&l->b, 0);
	l->n = 0;
	buf_init(&l->seqs, 0);
	l->nseqs = 0;
}

void
taxii__idlist_reset(struct taxii__idlist *l)
{
	buf_reset(&l->b);
	l->n = 0;
	buf_reset(&l->seqs);
	l->nseqs = 0;
}

void
taxii__idlist_add(struct taxii__idlist *l, const char *id, const char *version)
{
	buf_append_cstr(&l->b, id);
	buf_append_char(&l->b, '@');
	buf_append_cstr(&l->b, version);
	buf_append_char(&l->b, '\0');
	l->n++;
}

void
taxii__idlist_seq(struct taxii__idlist *l, uint64_t seq)
{
	buf_append(&l->seqs, (const char *)&seq, sizeof(seq));
	l->nseqs++;
}

enum tcerr
taxii__idlist_audit(const struct taxii__rq *r, const struct taxii__idlist *l, bool skip_empty,
                    const char *action, int http_status, const char *status_id, const char *detail)
{
	const char **v = NULL;
	const char *p;
	enum tcerr rc;

	if (l->n == 0 && skip_empty)
		return TC_OK;
	if (buf_error(&l->b))
		return buf_error(&l->b);
	if (buf_error(&l->seqs))
		return buf_error(&l->seqs);
	if (l->n && !(v = calloc(l->n, sizeof(*v))))
		return TC_ENOMEM;
	p = l->b.p;
	for (size_t i = 0; i < l->n; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	/* the buffer is malloc'ed: aligned for uint64_t */
	rc = audit_seqs(r, action, http_status, status_id, v, l->n,
	                l->nseqs ? (const uint64_t *)(void *)l->seqs.p : NULL, l->nseqs, detail);
	free(v);
	return rc;
}

void
taxii_error(struct taxii_response *rs, int status, const char *title, const char *description)
{
	char code[16];

	buf_clear(&rs->body);
	rs->status = status;
	rs->content_type = TAXII_MEDIA_TYPE;
	rs->date_added_first[0] = '\0';
	rs->date_added_last[0] = '\0';
	rs->location[0] = '\0';
	rs->objects = 0;
	snprintf(code, sizeof(code), "%d", status); /* cannot truncate: an int */
	buf_append_char(&rs->body, '{');
	taxii__json_kv(&rs->body, false, "title", title);
	if (description && *description)
		taxii__json_kv(&rs->body, true, "description", description);
	taxii__json_kv(&rs->body, true, "http_status", code);
	buf_append_char(&rs->body, '}');
}

/* ---- API roots ---- */

/* Fills out with the root name names: known if it is the default root,
 * a configured root or a root the registry knows. Its information comes
 * from the configuration where set, else from the registry, else the
 * defaults ([taxii] title and description for the default root, the name
 * as title for others). The registry may lower max_content_length below
 * the daemon's, never raise it (bodies below an advertised limit never
 * get 413). false when no root has that name. */
static bool
root_find(const struct taxii_server_cfg *cfg, const struct reg_snapshot *snap, struct slice name,
          struct taxii__root *out)
{
	const struct taxii_api_root *c = NULL;
	const struct reg_api_root *g = NULL;

	memset(out, 0, sizeof(*out));
	if (name.len == 0 || name.len > REG_API_ROOT_NAME_MAX)
		return false;
	memcpy(out->name, name.p, name.len);
	out->name[name.len] = '\0';
	out->is_default = cfg->api_root && strcmp(out->name, cfg->api_root) == 0;
	for (size_t i = 0; i < cfg->nroots && !c; i++)
		if (cfg->roots[i].name && strcmp(cfg->roots[i].name, out->name) == 0)
			c = &cfg->roots[i];
	size_t n = snap ? reg_snapshot_napi_roots(snap) : 0;
	for (size_t i = 0; i < n && !g; i++)
		if (strcmp(reg_snapshot_api_root_at(snap, i)->name, out->name) == 0)
			g = reg_snapshot_api_root_at(snap, i);
	if (!out->is_default && !c && !g)
		return false;

	out->max_content_length = cfg->max_content_length;
	if (out->is_default) {
		out->title = cfg->title && cfg->title[0] ? cfg->title : "tocsin";
		out->description = cfg->description && cfg->description[0] ? cfg->description : NULL;
	}
	if (g) {
		if (g->title[0])
			out->title = g->title;
		if (g->description[0])
			out->description = g->description;
		if (g->max_content_length && g->max_content_length < cfg->max_content_length)
			out->max_content_length = (size_t)g->max_content_length;
	}
	if (c) {
		if (c->title && c->title[0])
			out->title = c->title;
		if (c->description && c->description[0])
			out->description = c->description;
		if (c->max_content_length)
			out->max_content_length = c->max_content_length;
	}
	if (!out->title)
		out->title = out->name;
	return true;
}

/* true if collection c belongs to the request's API root. */
static bool
in_root(const struct taxii__rq *r, const struct reg_collection *c)
{
	return c->api_root[0] ? strcmp(c->api_root, r->root.name) == 0 : r->root.is_default;
}

/* ---- small resources ---- */

/* Appends root name as a relative URL (taxii2client joins it with the
 * discovery URL), with a leading comma when comma. */
static void
discovery_root(struct buf *b, bool comma, const char *name)
{
	if (comma)
		buf_append_char(b, ',');
	buf_append_char(b, '"');
	buf_append_cstr(b, TAXII_PREFIX);
	buf_append_cstr(b, name); /* [a-z0-9_-]: nothing to escape */
	buf_append_cstr(b, "/\"");
}

/* true if name was already listed before position (configured roots at
 * index < ci, or the default root). */
static bool
root_listed(const struct taxii_server_cfg *cfg, size_t ci, const char *name)
{
	if (cfg->api_root && strcmp(cfg->api_root, name) == 0)
		return true;
	for (size_t i = 0; i < ci && i < cfg->nroots; i++)
		if (cfg->roots[i].name && strcmp(cfg->roots[i].name, name) == 0)
			return true;
	return false;
}

/* §4.1.1: every API root, the default first, as relative URLs. */
static enum tcerr
get_discovery(struct taxii__rq *r)
{
	struct buf *b = &r->rs->body;
	const struct taxii_server_cfg *cfg = r->cfg;

	buf_append_char(b, '{');
	taxii__json_kv(b, false, "title", cfg->title && cfg->title[0] ? cfg->title : "tocsin");
	if (cfg->description && cfg->description[0])
		taxii__json_kv(b, true, "description", cfg->description);
	if (cfg->contact && cfg->contact[0])
		taxii__json_kv(b, true, "contact", cfg->contact);
	buf_append_cstr(b, ",\"default\":");
	discovery_root(b, false, cfg->api_root);
	buf_append_cstr(b, ",\"api_roots\":[");
	discovery_root(b, false, cfg->api_root);
	for (size_t i = 0; i < cfg->nroots; i++)
		if (cfg->roots[i].name && !root_listed(cfg, i, cfg->roots[i].name))
			discovery_root(b, true, cfg->roots[i].name);
	size_t n = reg_snapshot_napi_roots(r->who->snap);
	for (size_t i = 0; i < n; i++) {
		const char *name = reg_snapshot_api_root_at(r->who->snap, i)->name;
		if (!root_listed(cfg, cfg->nroots, name))
			discovery_root(b, true, name);
	}
	buf_append_char(b, ']');
	/* a custom property (§4.1.1 allows none, and clients ignore unknown
	 * ones): the hub's identity, so a peer can pin its key */
	if (cfg->hub_key) {
		char id[HUBKEY_ID_MAX];
		const char *name = hubkey_alg_name(cfg->hub_key->alg);
		hubkey_pub_id(cfg->hub_key, id);
		buf_append_cstr(b, ",\"x_tocsin_hub\":{");
		taxii__json_kv(b, false, "alg", name);
		taxii__json_kv(b, true, "public_key", id + strlen(name) + 1);
		taxii__json_kv(b, true, "id", id);
		buf_append_char(b, '}');
	}
	buf_append_char(b, '}');
	r->rs->status = 200;
	return TC_OK;
}

/* §4.2.1, with this root's own title, description and limit */
static enum tcerr
get_api_root(struct taxii__rq *r)
{
	struct buf *b = &r->rs->body;

	buf_append_char(b, '{');
	taxii__json_kv(b, false, "title", r->root.title ? r->root.title : r->root.name);
	if (r->root.description)
		taxii__json_kv(b, true, "description", r->root.description);
	buf_append_cstr(b, ",\"versions\":[\"" TAXII_MEDIA_TYPE "\"]");
	buf_printf(b, ",\"max_content_length\":%zu}", r->root.max_content_length);
	r->rs->status = 200;
	return TC_OK;
}

/* true if the requester may read or write some collection of the
 * request's root (who may see a migrated status of that root). */
static bool
sees_some_collection(const struct taxii__rq *r)
{
	size_t n = reg_snapshot_ncollections(r->who->snap);
	for (size_t i = 0; i < n; i++) {
		const struct reg_collection *c = reg_snapshot_collection_at(r->who->snap, i);
		if (!in_root(r, c))
			continue;
		struct policy_rights rights = policy_collection(r->who, c);
		if (rights.can_read || rights.can_write)
			return true;
	}
	return false;
}

/* §4.3: the stored resource, as written after the POST, shown only to
 * the organisation that posted (taxii__status_key) under the root it
 * posted to; a status a migration brought (REG_STATUS_IMPORTED_PREFIX)
 * to whoever may read or write a collection of its root. */
static enum tcerr
get_status(struct taxii__rq *r, struct slice id)
{
	char key[TAXII_STATUS_ID_MAX + 1];
	enum tcerr rc;

	if (id.len == 0 || id.len > TAXII_STATUS_ID_MAX) {
		taxii_error(r->rs, 404, "No such status", NULL);
		return TC_OK;
	}
	memcpy(key, id.p, id.len);
	key[id.len] = '\0';
	char skey[TAXII__STATUS_KEY_MAX];
	taxii__status_key(r, key, skey);
	rc = registry_status_get(r->env->registry, skey, ts_now_us(), &r->rs->body);
	if (rc == TC_ENOTFOUND && sees_some_collection(r)) {
		int n = snprintf(skey, sizeof(skey), REG_STATUS_IMPORTED_PREFIX "%s/%s",
		                 r->root.name, key);
		if (n > 0 && (size_t)n < sizeof(skey))
			rc = registry_status_get(r->env->registry, skey, ts_now_us(),
			                         &r->rs->body);
	}
	if (rc == TC_ENOTFOUND) {
		taxii_error(r->rs, 404, "No such status",
		            "unknown or expired status id (statuses are kept 48 hours)");
		return TC_OK;
	}
	if (rc) {
		taxii_error(r->rs, rc == TC_ENOMEM ? 500 : 503, "Status unavailable",
		            tcerr_str(rc));
		return TC_OK;
	}
	r->rs->status = 200;
	return TC_OK;
}

/* §5.2.1, as this requester sees it. */
static void
write_collection(struct buf *b, const struct reg_collection *c, struct policy_rights rights)
{
	const struct store_collection *sc = &c->c;

	buf_append_char(b, '{');
	taxii__json_kv(b, false, "id", sc->uuid);
	taxii__json_kv(b, true, "title",
	               sc->title[0]   ? sc->title
	               : sc->alias[0] ? sc->alias
	                              : sc->uuid);
	if (sc->description[0])
		taxii__json_kv(b, true, "description", sc->description);
	if (sc->alias[0])
		taxii__json_kv(b, true, "alias", sc->alias);
	buf_printf(b, ",\"can_read\":%s,\"can_write\":%s", rights.can_read ? "true" : "false",
	           rights.can_write ? "true" : "false");
	buf_append_cstr(b, ",\"media_types\":[\"" TAXII_STIX_MEDIA_TYPE "\",\"" TAXII_STIX20_MEDIA_TYPE
	                   "\"]}");
}

/* §5.1: only the collections of this root this requester may read or
 * write, in creation order (§3.3: a consistent order); `{}` when there are none. */
static enum tcerr
get_collections(struct taxii__rq *r)
{
	struct buf *b = &r->rs->body;
	size_t n = reg_snapshot_ncollections(r->who->snap), shown = 0;

	buf_append_char(b, '{');
	for (size_t i = 0; i < n; i++) {
		const struct reg_collection *c = reg_snapshot_collection_at(r->who->snap, i);
		if (!in_root(r, c))
			continue;
		struct policy_rights rights = policy_collection(r->who, c);
		if (!rights.can_read && !rights.can_write)
			continue;
		buf_append_cstr(b, shown ? "," : "\"collections\":[");
		write_collection(b, c, rights);
		shown++;
	}
	buf_append_cstr(b, shown ? "]}" : "}");
	r->rs->status = 200;
	r->rs->objects = shown;
	return TC_OK;
}

static enum tcerr
get_collection(struct taxii__rq *r)
{
	write_collection(&r->rs->body, r->col, r->rights);
	r->rs->status = 200;
	return TC_OK;
}

/* ---- routing ---- */

enum route {
	R_NONE = 0,
	R_DISCOVERY,
	R_API_ROOT,
	R_STATUS,
	R_COLLECTIONS,
	R_COLLECTION,
	R_MANIFEST,
	R_OBJECTS,
	R_OBJECT,
	R_VERSIONS,
};

struct path {
	size_t n;
	struct slice seg[TAXII_PATH_SEGMENTS_MAX];
};

/* Splits what follows "/taxii2/" into segments. false for a path that does
 * not end in '/' (§3.1), has an empty segment or too many. */
static bool
split_path(const char *p, struct path *out)
{
	struct slice s = slice_from_cstr(p);
	size_t plen = strlen(TAXII_PREFIX), start;

	out->n = 0;
	if (!slice_starts_with(s, TAXII_PREFIX))
		return false;
	start = plen;
	for (size_t i = plen; i < s.len; i++) {
		if (s.p[i] != '/')
			continue;
		if (i == start || out->n == TAXII_PATH_SEGMENTS_MAX)
			return false;
		out->seg[out->n++] = slice_make(s.p + start, i - start);
		start = i + 1;
	}
	return start == s.len; /* ends in '/' */
}

/* The route of p; fills r->root when p is under an API root. */
static enum route
route_of(struct taxii__rq *r, const struct path *p)
{
	const struct slice *s = p->seg;

	if (p->n == 0)
		return R_DISCOVERY;
	if (!root_find(r->cfg, r->who->snap, s[0], &r->root))
		return R_NONE;
	if (p->n == 1)
		return R_API_ROOT;
	if (p->n == 3 && slice_eq_cstr(s[1], "status"))
		return R_STATUS;
	if (!slice_eq_cstr(s[1], "collections"))
		return R_NONE;
	switch (p->n) {
	case 2:
		return R_COLLECTIONS;
	case 3:
		return R_COLLECTION;
	case 4:
		if (slice_eq_cstr(s[3], "manifest"))
			return R_MANIFEST;
		return slice_eq_cstr(s[3], "objects") ? R_OBJECTS : R_NONE;
	case 5:
		return slice_eq_cstr(s[3], "objects") ? R_OBJECT : R_NONE;
	case 6:
		if (slice_eq_cstr(s[3], "objects") && slice_eq_cstr(s[5], "versions"))
			return R_VERSIONS;
		return R_NONE;
	default:
		return R_NONE;
	}
}

static bool
method_ok(enum route rt, const char *m)
{
	if (strcmp(m, "GET") == 0)
		return true;
	if (strcmp(m, "POST") == 0)
		return rt == R_OBJECTS;
	if (strcmp(m, "DELETE") == 0)
		return rt == R_OBJECT;
	return false;
}

/* Finds the collection of the path and the requester's rights on it. A
 * collection the requester may neither read nor write, or of another API
 * root, is answered exactly like an unknown one. Returns false when rs holds the 404. */
static bool
resolve_collection(struct taxii__rq *r, struct slice id)
{
	char key[STORE_ALIAS_MAX + 40];

	if (id.len >= sizeof(key))
		goto notfound;
	memcpy(key, id.p, id.len);
	key[id.len] = '\0';
	r->col = reg_snapshot_collection_find(r->who->snap, key);
	if (!r->col || !in_root(r, r->col))
		goto notfound; /* another root's collection is unknown here */
	r->rights = policy_collection(r->who, r->col);
	if (!r->rights.can_read && !r->rights.can_write)
		goto notfound;
	return true;
notfound:
	r->col = NULL;
	taxii_error(r->rs, 404, "No such collection",
	            "the collection does not exist or is not shared with you");
	return false;
}

static enum tcerr
dispatch(struct taxii__rq *r, enum route rt, const struct path *p)
{
	bool get = strcmp(r->rq->method, "GET") == 0;

	switch (rt) {
	case R_DISCOVERY:
		return get_discovery(r);
	case R_API_ROOT:
		return get_api_root(r);
	case R_STATUS:
		return get_status(r, p->seg[2]);
	case R_COLLECTIONS:
		return get_collections(r);
	default:
		break;
	}
	if (!resolve_collection(r, p->seg[2]))
		return TC_OK;
	if (rt == R_OBJECT || rt == R_VERSIONS) {
		struct slice oid = p->seg[4];
		if (oid.len >= sizeof(r->object_id) || !stix_id_valid(oid, NULL)) {
			/* not an id: no object can have it; still check rights first */
			if (!r->rights.can_read) {
				taxii_error(r->rs, 403, "Not allowed to read this collection",
				            NULL);
				return TC_OK;
			}
			taxii_error(r->rs, 404, "No such object", NULL);
			return TC_OK;
		}
		memcpy(r->object_id, oid.p, oid.len);
		r->object_id[oid.len] = '\0';
	}
	switch (rt) {
	case R_COLLECTION:
		return get_collection(r);
	case R_MANIFEST:
		return taxii__get_manifest(r);
	case R_OBJECTS:
		return get ? taxii__get_objects(r) : taxii__post_objects(r);
	case R_OBJECT:
		return get ? taxii__get_object(r) : taxii__delete_object(r);
	case R_VERSIONS:
		return taxii__get_versions(r);
	default:
		taxii_error(r->rs, 404, "Not found", NULL);
		return TC_OK;
	}
}

/* §3.1: paths end in '/'. A client that builds URLs by hand and drops the
 * last '/' of a path that names a resource gets a 308 to the path with
 * it, query kept (308, unlike 301, keeps the method and body). Only paths
 * and queries of printable ASCII are redirected, so the Location header
 * needs no encoding. Returns true when rs holds the 308. */
static bool
redirect_slash(struct taxii__rq *r)
{
	const struct taxii_request *rq = r->rq;
	char fixed[TAXII_LOCATION_MAX];
	size_t len = strlen(rq->path);
	struct path p;
	int n;

	if (len == 0 || rq->path[len - 1] == '/' || len + 2 > sizeof(fixed))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = rq->path[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		          c == '~' || c == '/';
		if (!ok)
			return false;
	}
	for (size_t i = 0; i < rq->query.len; i++)
		if ((unsigned char)rq->query.p[i] <= 0x20 || (unsigned char)rq->query.p[i] >= 0x7f)
			return false;
	memcpy(fixed, rq->path, len);
	fixed[len] = '/';
	fixed[len + 1] = '\0';
	if (!split_path(fixed, &p) || route_of(r, &p) == R_NONE)
		return false;
	n = snprintf(r->rs->location, sizeof(r->rs->location), "%s%s%.*s", fixed,
	             rq->query.len ? "?" : "", (int)rq->query.len, rq->query.p);
	if (n < 0 || (size_t)n >= sizeof(r->rs->location)) {
		r->rs->location[0] = '\0';
		return false;
	}
	buf_clear(&r->rs->body);
	r->rs->status = 308;
	r->rs->content_type = NULL; /* no body */
	return true;
}

enum tcerr
taxii_handle(const struct taxii_server_cfg *cfg, const struct taxii_env *env,
             const struct taxii_request *rq, struct taxii_response *rs)
{
	struct taxii__rq r = {.cfg = cfg, .env = env, .rq = rq, .rs = rs, .who = rq->who};
	struct path p;
	enum route rt = R_NONE;
	enum tcerr rc = TC_OK;
	int n;

	buf_clear(&rs->body);
	rs->status = 0;
	rs->content_type = TAXII_MEDIA_TYPE;
	rs->date_added_first[0] = rs->date_added_last[0] = '\0';
	rs->www_authenticate = false;
	rs->location[0] = '\0';
	rs->objects = 0;
	n = snprintf(r.request_line, sizeof(r.request_line), "%s %s", rq->method ? rq->method : "",
	             rq->path ? rq->path : "");
	if (n < 0 || (size_t)n >= sizeof(r.request_line))
		memcpy(r.request_line + sizeof(r.request_line) - 4, "...", 4);

	/* §1.6.9: a request without a credential gets 401 and a challenge,
	 * whatever it asks for */
	if (!rq->who || !rq->who->snap) {
		taxii_error(rs, 401, "Authentication required",
		            "send an API key: Authorization: Basic (any user, the key as password) "
		            "or Bearer");
		rs->www_authenticate = true;
		goto out;
	}
	if (rq->method && rq->path && redirect_slash(&r))
		goto out;
	if (!rq->method || !rq->path || !split_path(rq->path, &p) ||
	    (rt = route_of(&r, &p)) == R_NONE) {
		taxii_error(rs, 404, "Not found",
		            "no TAXII resource at this path (paths end in '/')");
		goto out;
	}
	if (!method_ok(rt, rq->method)) {
		taxii_error(rs, 405, "Method not allowed", NULL);
		goto out;
	}
	/* §3.1: requests carry a TAXII media range in Accept */
	if (!taxii__accept_ok(rq->accept)) {
		taxii_error(rs, 406, "Not acceptable",
		            "send Accept: " TAXII_MEDIA_TYPE
		            " (this server speaks TAXII 2.1 only)");
		goto out;
	}
	rc = dispatch(&r, rt, &p);
out:
	if (rc || buf_error(&rs->body)) {
		enum tcerr e = rc ? rc : buf_error(&rs->body);
		taxii_error(rs, 500, e == TC_ELIMIT ? "Response too large" : "Out of memory", NULL);
	}
	return buf_error(&rs->body) ? TC_ENOMEM : TC_OK;
}
