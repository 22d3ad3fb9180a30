/*
 * Unit tests of lib/taxii/taxii_server.c and friends: a real data
 * directory (hub, registry, audit log) in a temporary folder, organisations
 * and keys, collections with every combination of rights, and requests
 * driven through taxii_handle() as the daemon would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "taxii/taxii_server.h"
#include "util/timestamp.h"

enum { BANK, TELCO, CERT, OTHER, BANK_ADMIN, NP };
enum { C_SHARED, C_BANKONLY, C_READONLY, C_WRITEONLY, C_BULK, NC };

static const char *const org_names[] = {"bank", "telco", "cert", "other"};

struct fx {
	char dir[256];
	struct hub *hub;
	struct registry *reg;
	struct audit *audit;
	struct reg_snapshot *snap;
	struct taxii_server_cfg cfg;
	struct taxii_writer w;
	struct taxii_env env;
	char key[NP][REG_KEY_TEXT_MAX + 1];
	struct policy_subject who[NP];
	char identity[4][STIX_ID_MAX];
	char col[NC][37];
	struct taxii_response rs;
	json_t *j;
	char path[512];
};

static enum tcerr
w_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res, struct diag *d)
{
	return hub_ingest_items(ctx, items, n, res, d);
}

static enum tcerr
w_remove(void *ctx, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
         struct store_delete_out *out, struct diag *d)
{
	return hub_delete(ctx, q, may, may_ctx, out, d);
}

#define READERS "sector:finance,sector:telecom,sector:cert"

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d;
	struct reg_org o;
	static const enum reg_sector sectors[] = {SECTOR_FINANCE, SECTOR_TELECOM, SECTOR_CERT,
	                                          SECTOR_OTHER};
	static const char *const fin[] = {"fin"};
	static const struct {
		const char *alias, *read, *write;
	} cols[NC] = {
	    {"shared", READERS, READERS},
	    {"bankonly", "org:bank", "org:bank"},
	    {"readonly", READERS, "org:bank"},
	    {"writeonly", "org:bank", "sector:finance,sector:telecom"},
	    {"bulk", READERS, "org:bank"},
	};

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-taxii-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(registry_open(f->dir, &f->reg, &d), TC_OK);
	assert_int_equal(audit_open(f->dir, &f->audit, &d), TC_OK);
	for (int i = 0; i < 4; i++) {
		bool grouped = i == BANK || i == CERT;
		assert_int_equal(registry_org_add(f->reg, org_names[i], sectors[i], "LU",
		                                  grouped ? fin : NULL, grouped ? 1 : 0, &o, &d),
		                 TC_OK);
		memcpy(f->identity[i], o.identity, sizeof(o.identity));
	}
	static const enum reg_role roles[NP] = {ROLE_CONTRIBUTOR, ROLE_CONTRIBUTOR, ROLE_READER,
	                                        ROLE_READER, ROLE_ADMIN};
	for (int i = 0; i < NP; i++)
		assert_int_equal(registry_key_create(f->reg, org_names[i == BANK_ADMIN ? BANK : i],
		                                     roles[i], "test", NULL, f->key[i], NULL, &d),
		                 TC_OK);
	for (int i = 0; i < NC; i++) {
		struct store_collection c;
		assert_int_equal(store_collection_add(hub_store(f->hub), cols[i].alias, NULL,
		                                      cols[i].alias, "a test collection", &c, &d),
		                 TC_OK);
		memcpy(f->col[i], c.uuid, sizeof(c.uuid));
		assert_int_equal(
		    registry_rights_set(f->reg, c.uuid, cols[i].read, cols[i].write, &d), TC_OK);
	}
	assert_int_equal(reg_snapshot_build(f->reg, hub_store(f->hub), &f->snap, &d), TC_OK);
	for (int i = 0; i < NP; i++) {
		const struct reg_principal *p =
		    reg_snapshot_auth_key(f->snap, f->key[i], strlen(f->key[i]));
		assert_non_null(p);
		policy_subject_principal(&f->who[i], f->snap, p);
	}
	f->cfg = (struct taxii_server_cfg){
	    .api_root = "hub",
	    .title = "test hub",
	    .max_content_length = 256 * 1024,
	    .max_page = 100,
	};
	memset(f->cfg.cursor_key, 0x5a, sizeof(f->cfg.cursor_key));
	/* request-thread preparation on, as in tocsind */
	f->w = (struct taxii_writer){w_ingest, w_remove, f->hub, hub_obs_ctx(f->hub)};
	f->env = (struct taxii_env){hub_store(f->hub), f->reg, f->audit, &f->w};
	taxii_response_init(&f->rs);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];
	json_decref(f->j);
	taxii_response_reset(&f->rs);
	reg_snapshot_unref(f->snap);
	audit_close(f->audit);
	registry_close(f->reg);
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* ---- helpers ---- */

#define ACCEPT TAXII_MEDIA_TYPE

/* who < 0: no credential. Returns the status; f->j holds the parsed body. */
static int
call(struct fx *f, int who, const char *method, const char *path, const char *query,
     const char *accept, const char *ctype, const char *body)
{
	struct taxii_request rq = {
	    .method = method,
	    .path = path,
	    .query = slice_from_cstr(query ? query : ""),
	    .accept = accept,
	    .content_type = ctype,
	    .body = slice_from_cstr(body ? body : ""),
	    .who = who >= 0 ? &f->who[who] : NULL,
	    .actor = who >= 0 ? "test" : NULL,
	};
	json_error_t e;

	json_decref(f->j);
	f->j = NULL;
	assert_int_equal(taxii_handle(&f->cfg, &f->env, &rq, &f->rs), TC_OK);
	if (f->rs.body.len) {
		f->j = json_loadb(f->rs.body.p, f->rs.body.len, 0, &e);
		if (!f->j)
			fail_msg("response is not JSON: %s", f->rs.body.p);
		assert_string_equal(f->rs.content_type, TAXII_MEDIA_TYPE);
	}
	if (f->rs.status >= 400) {
		/* §3.6.1: an error resource whose http_status equals the status */
		char code[16];
		snprintf(code, sizeof(code), "%d", f->rs.status);
		assert_non_null(f->j);
		assert_string_equal(json_string_value(json_object_get(f->j, "http_status")), code);
		assert_non_null(json_string_value(json_object_get(f->j, "title")));
	}
	return f->rs.status;
}

static int
get(struct fx *f, int who, const char *path, const char *query)
{
	return call(f, who, "GET", path, query, ACCEPT, NULL, NULL);
}

static int
post(struct fx *f, int who, const char *path, const char *body)
{
	return call(f, who, "POST", path, NULL, ACCEPT, ACCEPT, body);
}

static const char *
cpath(struct fx *f, int c, const char *rest)
{
	snprintf(f->path, sizeof(f->path), "/taxii2/hub/collections/%s/%s", f->col[c], rest);
	return f->path;
}

static const char *
opath(struct fx *f, int c, const char *id, const char *rest)
{
	snprintf(f->path, sizeof(f->path), "/taxii2/hub/collections/%s/objects/%s/%s", f->col[c],
	         id, rest);
	return f->path;
}

static void
ind_id(int n, char out[64])
{
	snprintf(out, 64, "indicator--00000000-0000-4000-8000-%012d", n);
}

/* An indicator, as JSON text appended to b (with a leading comma if b is
 * not empty). tlp TLP_NONE: unmarked. recipient may be NULL. */
static void
ind(struct buf *b, int n, const char *modified, enum tlp_level tlp, const char *recipient)
{
	char id[64];
	ind_id(n, id);
	if (b->len)
		buf_append_char(b, ',');
	buf_printf(b,
	           "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
	           "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	           "\"pattern\":\"[file:hashes.'SHA-256' = "
	           "'%064d']\",\"pattern_type\":\"stix\","
	           "\"valid_from\":\"2024-01-01T00:00:00Z\"",
	           id, modified, n);
	if (tlp != TLP_NONE)
		buf_printf(b, ",\"object_marking_refs\":[\"%s\"]", stix_tlp_marking_id(tlp));
	if (recipient)
		buf_printf(b,
		           ",\"extensions\":{\"" POLICY_EXT_ID "\":{\"extension_type\":"
		           "\"property-extension\",\"recipients\":[\"%s\"]}}",
		           recipient);
	buf_append_char(b, '}');
}

static char *
envelope(struct buf *objs)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "{\"objects\":[");
	buf_append_slice(&b, buf_slice(objs));
	buf_append_cstr(&b, "]}");
	return buf_detach(&b, NULL);
}

/* Posts one indicator as who into collection c; asserts it was stored. */
static void
post_one(struct fx *f, int who, int c, int n, const char *modified, enum tlp_level tlp,
         const char *recipient)
{
	struct buf o;
	buf_init(&o, 0);
	ind(&o, n, modified, tlp, recipient);
	char *env = envelope(&o);
	assert_int_equal(post(f, who, cpath(f, c, "objects/"), env), 202);
	assert_int_equal(json_integer_value(json_object_get(f->j, "success_count")), 1);
	free(env);
	buf_reset(&o);
}

static size_t
list_len(json_t *j, const char *key)
{
	return json_array_size(json_object_get(j, key));
}

/* true if the objects (or versions) list of f->j has an entry with this id */
static bool
has_id(struct fx *f, const char *key, const char *id)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(f->j, key), i, v)
	{
		const char *s = json_is_string(v) ? json_string_value(v)
		                                  : json_string_value(json_object_get(v, "id"));
		if (s && strcmp(s, id) == 0)
			return true;
	}
	return false;
}

/* ---- discovery, API root, auth, media types, paths ---- */

static void
test_discovery_and_api_root(void **state)
{
	struct fx *f = *state;

	assert_int_equal(get(f, OTHER, "/taxii2/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "title")), "test hub");
	assert_string_equal(json_string_value(json_object_get(f->j, "default")), "/taxii2/hub/");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(f->j, "api_roots"), 0)),
	    "/taxii2/hub/");

	assert_int_equal(get(f, OTHER, "/taxii2/hub/", NULL), 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f->j, "versions"), 0)),
	                    "application/taxii+json;version=2.1");
	assert_int_equal(json_integer_value(json_object_get(f->j, "max_content_length")),
	                 256 * 1024);
}

static void
test_no_credential_is_401(void **state)
{
	struct fx *f = *state;
	const char *paths[] = {"/taxii2/", "/taxii2/hub/", "/taxii2/hub/collections/",
	                       "/taxii2/nothing/here/"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(get(f, -1, paths[i], NULL), 401);
		assert_true(f->rs.www_authenticate);
	}
	assert_int_equal(
	    call(f, -1, "POST", cpath(f, C_SHARED, "objects/"), NULL, ACCEPT, ACCEPT, "{}"), 401);
}

static void
test_accept_header(void **state)
{
	struct fx *f = *state;
	const char *good[] = {
	    "application/taxii+json;version=2.1",
	    "application/taxii+json",
	    "application/taxii+json; version=2.1",
	    "application/taxii+json ; version = \"2.1\"",
	    "Application/TAXII+JSON;version=2.1",
	    "text/html, application/taxii+json;version=2.1;q=0.9",
	    "application/taxii+json;q=0.5;version=2.1",
	    "application/taxii+json;charset=utf-8",
	};
	const char *bad[] = {
	    NULL,
	    "",
	    "*/*",
	    "application/*",
	    "application/json",
	    "application/taxii+json;version=2.0",
	    "application/taxii+json;q=0",
	    "application/taxii+json;version=2.1;q=0.000",
	    "application/stix+json;version=2.1",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (call(f, OTHER, "GET", "/taxii2/", NULL, good[i], NULL, NULL) != 200)
			fail_msg("Accept '%s' refused", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (call(f, OTHER, "GET", "/taxii2/", NULL, bad[i], NULL, NULL) != 406)
			fail_msg("Accept '%s' accepted", bad[i] ? bad[i] : "(none)");
	}
}

static void
test_paths_and_methods(void **state)
{
	struct fx *f = *state;

	/* §3.1: paths end in '/'; without it, a path that names a resource is
	 * redirected (test_trailing_slash_redirects), any other is 404 */
	assert_int_equal(get(f, BANK, "/taxii2/other", NULL), 404);
	assert_int_equal(get(f, BANK, "/taxii2/other/", NULL), 404);
	assert_int_equal(get(f, BANK, "/taxii2/hub//", NULL), 404);
	assert_int_equal(get(f, BANK, "/taxii2/hub/collections/x/y/", NULL), 404);
	assert_int_equal(get(f, BANK, "/taxii2/hub/collections/x/y", NULL), 404);
	assert_int_equal(get(f, BANK, cpath(f, C_SHARED, "objects/a/b/c/"), NULL), 404);
	assert_int_equal(
	    call(f, BANK, "PUT", cpath(f, C_SHARED, "objects/"), NULL, ACCEPT, ACCEPT, "{}"), 405);
	assert_int_equal(
	    call(f, BANK, "POST", "/taxii2/hub/collections/", NULL, ACCEPT, ACCEPT, "{}"), 405);
	assert_int_equal(call(f, BANK, "DELETE", cpath(f, C_SHARED, ""), NULL, ACCEPT, NULL, NULL),
	                 405);
	/* an object id that is no STIX id */
	assert_int_equal(get(f, BANK, opath(f, C_SHARED, "nonsense", ""), NULL), 404);
}

/* A path without its trailing '/' that names a resource: 308 to the
 * path with it, query kept, no body. */
static void
test_trailing_slash_redirects(void **state)
{
	struct fx *f = *state;
	char want[600];
	static const char oid[] = "indicator--00000000-0000-4000-8000-000000000001";
	struct {
		const char *path, *query;
	} cases[] = {
	    {"/taxii2", NULL},
	    {"/taxii2/hub", NULL},
	    {"/taxii2/hub/collections", NULL},
	    {"/taxii2/hub/status/6a7a0b7e-0000-4000-8000-000000000000", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(get(f, BANK, cases[i].path, cases[i].query), 308);
		snprintf(want, sizeof(want), "%s/", cases[i].path);
		assert_string_equal(f->rs.location, want);
		assert_int_equal(f->rs.body.len, 0);
	}
	const char *rest[] = {"", "objects", "manifest"};
	for (size_t i = 0; i < 3; i++) {
		char p[512];
		snprintf(p, sizeof(p), "%s", cpath(f, C_SHARED, rest[i]));
		if (!rest[i][0])
			p[strlen(p) - 1] = '\0'; /* .../collections/ID */
		assert_int_equal(get(f, BANK, p, "match[type]=indicator&limit=5"), 308);
		snprintf(want, sizeof(want), "%s/?match[type]=indicator&limit=5", p);
		assert_string_equal(f->rs.location, want);
	}
	assert_int_equal(get(f, BANK, opath(f, C_SHARED, oid, ""), NULL), 404); /* none yet */
	char p[512];
	snprintf(p, sizeof(p), "%s", opath(f, C_SHARED, oid, "versions"));
	assert_int_equal(get(f, BANK, p, "limit=1"), 308);
	snprintf(want, sizeof(want), "%s/?limit=1", p);
	assert_string_equal(f->rs.location, want);
	snprintf(p, sizeof(p), "%s", opath(f, C_SHARED, oid, ""));
	p[strlen(p) - 1] = '\0';
	/* a POST or DELETE is redirected too: 308 keeps the method */
	assert_int_equal(call(f, BANK, "DELETE", p, NULL, ACCEPT, NULL, NULL), 308);
	snprintf(want, sizeof(want), "%s/", p);
	assert_string_equal(f->rs.location, want);
	/* nothing is revealed before authentication */
	assert_int_equal(get(f, -1, "/taxii2/hub", NULL), 401);
	assert_string_equal(f->rs.location, "");
	/* bytes that would need encoding in a Location are not redirected */
	assert_int_equal(get(f, BANK, "/taxii2/hub/collections", "a=b c"), 404);
	assert_int_equal(get(f, BANK, "/taxii2/h\"ub", NULL), 404);
}

/* Rebuilds the registry snapshot (after registry changes) and the
 * subjects that point into it. */
static void
resnap(struct fx *f)
{
	struct diag d;
	reg_snapshot_unref(f->snap);
	assert_int_equal(reg_snapshot_build(f->reg, hub_store(f->hub), &f->snap, &d), TC_OK);
	for (int i = 0; i < NP; i++) {
		const struct reg_principal *p =
		    reg_snapshot_auth_key(f->snap, f->key[i], strlen(f->key[i]));
		assert_non_null(p);
		policy_subject_principal(&f->who[i], f->snap, p);
	}
}

/* Several API roots (§4.1, §4.2): configured ones with their own
 * information and limits, ones the registry knows, each with its own
 * collections, none reachable under another root. */
static void
test_api_roots(void **state)
{
	struct fx *f = *state;
	struct diag d;
	char p[512], hidden[512], unknown[512];
	static const struct taxii_api_root roots[] = {
	    {"trusted", "Trusted partners", "Closed group", 2048},
	    {"hub", "The hub root", NULL, 0}, /* the default root's information */
	};
	struct reg_api_root rr = {.name = "peers", .title = "Peer hubs", .max_content_length = 4096};

	f->cfg.roots = roots;
	f->cfg.nroots = 2;
	assert_int_equal(registry_api_root_ensure(f->reg, &rr, NULL, &d), TC_OK);
	assert_int_equal(registry_collection_root_set(f->reg, f->col[C_BULK], "trusted", &d), TC_OK);
	resnap(f);

	/* discovery lists every root, the default first */
	assert_int_equal(get(f, TELCO, "/taxii2/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "default")), "/taxii2/hub/");
	json_t *ar = json_object_get(f->j, "api_roots");
	assert_int_equal(json_array_size(ar), 3);
	assert_string_equal(json_string_value(json_array_get(ar, 0)), "/taxii2/hub/");
	assert_string_equal(json_string_value(json_array_get(ar, 1)), "/taxii2/trusted/");
	assert_string_equal(json_string_value(json_array_get(ar, 2)), "/taxii2/peers/");
	assert_string_equal(json_string_value(json_object_get(f->j, "title")), "test hub");

	/* each root's own information */
	assert_int_equal(get(f, TELCO, "/taxii2/trusted/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "title")), "Trusted partners");
	assert_string_equal(json_string_value(json_object_get(f->j, "description")),
	                    "Closed group");
	assert_int_equal(json_integer_value(json_object_get(f->j, "max_content_length")), 2048);
	assert_int_equal(get(f, TELCO, "/taxii2/hub/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "title")), "The hub root");
	assert_int_equal(json_integer_value(json_object_get(f->j, "max_content_length")),
	                 256 * 1024);
	assert_int_equal(get(f, TELCO, "/taxii2/peers/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "title")), "Peer hubs");
	assert_int_equal(json_integer_value(json_object_get(f->j, "max_content_length")), 4096);
	assert_int_equal(get(f, TELCO, "/taxii2/peers/collections/", NULL), 200);
	assert_int_equal(json_object_size(f->j), 0);

	/* bulk is in trusted only */
	assert_int_equal(get(f, TELCO, "/taxii2/hub/collections/", NULL), 200);
	assert_false(has_id(f, "collections", f->col[C_BULK]));
	assert_int_equal(list_len(f->j, "collections"), 3);
	assert_int_equal(get(f, TELCO, "/taxii2/trusted/collections/", NULL), 200);
	assert_int_equal(list_len(f->j, "collections"), 1);
	assert_true(has_id(f, "collections", f->col[C_BULK]));
	snprintf(p, sizeof(p), "/taxii2/trusted/collections/%s/", f->col[C_BULK]);
	assert_int_equal(get(f, TELCO, p, NULL), 200);
	snprintf(p, sizeof(p), "/taxii2/trusted/collections/%s/", f->col[C_SHARED]);
	assert_int_equal(get(f, TELCO, p, NULL), 404);
	/* under another root: exactly the 404 of an unknown collection */
	assert_int_equal(get(f, TELCO, cpath(f, C_BULK, ""), NULL), 404);
	snprintf(hidden, sizeof(hidden), "%s", f->rs.body.p);
	assert_int_equal(get(f, TELCO, cpath(f, C_BULK, "objects/"), NULL), 404);
	assert_int_equal(
	    get(f, TELCO, "/taxii2/hub/collections/7c7f7a5e-0000-4000-8000-000000000000/", NULL),
	    404);
	snprintf(unknown, sizeof(unknown), "%s", f->rs.body.p);
	assert_string_equal(hidden, unknown);
	assert_int_equal(get(f, TELCO, "/taxii2/hub/collections/bulk/", NULL), 404);

	/* POST bodies are limited by the root's max_content_length */
	struct buf o, big;
	buf_init(&o, 0);
	ind(&o, 7, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	char *env = envelope(&o);
	snprintf(p, sizeof(p), "/taxii2/trusted/collections/%s/objects/", f->col[C_BULK]);
	assert_int_equal(post(f, BANK, p, env), 202);
	char sid[64], sp[128];
	snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(f->j, "id")));
	buf_init(&big, 0);
	buf_append_cstr(&big, env);
	buf_truncate(&big, big.len - 2); /* drop "]}" */
	for (int i = 0; big.len < 3000; i++)
		buf_printf(&big, ",{\"type\":\"x-pad\",\"id\":\"x-pad--%08d-0000-4000-8000-000000000000\"}", i);
	buf_append_cstr(&big, "]}");
	assert_int_equal(post(f, BANK, p, big.p), 413);
	assert_non_null(strstr(json_string_value(json_object_get(f->j, "description")), "2048"));
	/* the same body fits the hub root's limit */
	assert_int_not_equal(post(f, BANK, cpath(f, C_SHARED, "objects/"), big.p), 413);

	/* a status is reachable under the root it was posted to only */
	snprintf(sp, sizeof(sp), "/taxii2/trusted/status/%s/", sid);
	assert_int_equal(get(f, BANK, sp, NULL), 200);
	snprintf(sp, sizeof(sp), "/taxii2/hub/status/%s/", sid);
	assert_int_equal(get(f, BANK, sp, NULL), 404);

	/* a migrated status: to whoever may read or write a collection of its root */
	static const char mig[] = "{\"id\":\"2d086da7-4bdc-4f91-900e-d77486753710\","
	                          "\"status\":\"complete\",\"total_count\":0,"
	                          "\"success_count\":0,\"failure_count\":0,\"pending_count\":0}";
	assert_int_equal(registry_status_put(f->reg,
	                                     REG_STATUS_IMPORTED_PREFIX
	                                     "trusted/2d086da7-4bdc-4f91-900e-d77486753710",
	                                     ts_now_us(), mig, strlen(mig), &d),
	                 TC_OK);
	assert_int_equal(
	    get(f, TELCO, "/taxii2/trusted/status/2d086da7-4bdc-4f91-900e-d77486753710/", NULL), 200);
	assert_string_equal(f->rs.body.p, mig);
	assert_int_equal(
	    get(f, OTHER, "/taxii2/trusted/status/2d086da7-4bdc-4f91-900e-d77486753710/", NULL), 404);
	assert_int_equal(
	    get(f, TELCO, "/taxii2/hub/status/2d086da7-4bdc-4f91-900e-d77486753710/", NULL), 404);
	free(env);
	buf_reset(&o);
	buf_reset(&big);
}

/* ---- collections ---- */

static void
test_collections_per_requester(void **state)
{
	struct fx *f = *state;
	json_t *v;
	size_t i;

	/* telco: shared (T,T), readonly (T,F), writeonly (F,T), bulk; not
	 * bankonly nor the default collection (no rights); creation order */
	assert_int_equal(get(f, TELCO, "/taxii2/hub/collections/", NULL), 200);
	json_t *list = json_object_get(f->j, "collections");
	assert_int_equal(json_array_size(list), 4);
	const char *want[] = {"shared", "readonly", "writeonly", "bulk"};
	const bool rd[] = {true, true, false, true}, wr[] = {true, false, true, false};
	json_array_foreach(list, i, v)
	{
		assert_string_equal(json_string_value(json_object_get(v, "alias")), want[i]);
		assert_int_equal(json_is_true(json_object_get(v, "can_read")), rd[i]);
		assert_int_equal(json_is_true(json_object_get(v, "can_write")), wr[i]);
		assert_string_equal(
		    json_string_value(json_array_get(json_object_get(v, "media_types"), 0)),
		    "application/stix+json;version=2.1");
		assert_non_null(json_string_value(json_object_get(v, "title")));
	}
	/* bank sees five */
	assert_int_equal(get(f, BANK, "/taxii2/hub/collections/", NULL), 200);
	assert_int_equal(list_len(f->j, "collections"), 5);
	/* an organisation no collection admits: {} (§5.1: omit the empty list) */
	assert_int_equal(get(f, OTHER, "/taxii2/hub/collections/", NULL), 200);
	assert_int_equal(json_object_size(f->j), 0);
}

static void
test_collection_hidden_is_404(void **state)
{
	struct fx *f = *state;
	char unknown_body[512], hidden_body[512];

	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, ""), NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "id")), f->col[C_SHARED]);
	assert_true(json_is_true(json_object_get(f->j, "can_read")));
	/* alias in place of the id */
	assert_int_equal(get(f, TELCO, "/taxii2/hub/collections/readonly/", NULL), 200);
	assert_string_equal(json_string_value(json_object_get(f->j, "id")), f->col[C_READONLY]);
	assert_false(json_is_true(json_object_get(f->j, "can_write")));

	/* never reveal that bankonly exists: same answer as an unknown id */
	assert_int_equal(get(f, TELCO, cpath(f, C_BANKONLY, ""), NULL), 404);
	snprintf(hidden_body, sizeof(hidden_body), "%s", f->rs.body.p);
	assert_int_equal(
	    get(f, TELCO, "/taxii2/hub/collections/7c7f7a5e-0000-4000-8000-000000000000/", NULL),
	    404);
	snprintf(unknown_body, sizeof(unknown_body), "%s", f->rs.body.p);
	assert_string_equal(hidden_body, unknown_body);
	const char *sub[] = {"manifest/", "objects/"};
	for (int i = 0; i < 2; i++)
		assert_int_equal(get(f, TELCO, cpath(f, C_BANKONLY, sub[i]), NULL), 404);
	assert_int_equal(get(f, BANK, cpath(f, C_BANKONLY, ""), NULL), 200);
}

/* ---- POST and status ---- */

static void
test_post_status_and_duplicates(void **state)
{
	struct fx *f = *state;
	struct buf o;
	char *env, status_id[64], status_body[4096];

	buf_init(&o, 0);
	ind(&o, 1, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	ind(&o, 2, "2024-01-01T00:00:00.000Z", TLP_NONE, NULL);
	/* invalid: valid_until before valid_from */
	buf_append_cstr(&o, ",{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	                    "\"id\":\"indicator--00000000-0000-4000-8000-000000000003\","
	                    "\"created\":\"2024-01-01T00:00:00.000Z\","
	                    "\"modified\":\"2024-01-01T00:00:00.000Z\","
	                    "\"pattern\":\"[file:name = 'x']\",\"pattern_type\":\"stix\","
	                    "\"valid_from\":\"2024-01-01T00:00:00Z\","
	                    "\"valid_until\":\"2023-01-01T00:00:00Z\"}");
	env = envelope(&o);
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"), env), 202);
	assert_string_equal(json_string_value(json_object_get(f->j, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(f->j, "total_count")), 3);
	assert_int_equal(json_integer_value(json_object_get(f->j, "success_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(f->j, "failure_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(f->j, "pending_count")), 0);
	assert_int_equal(list_len(f->j, "successes"), 2);
	assert_int_equal(list_len(f->j, "failures"), 1);
	json_t *fail = json_array_get(json_object_get(f->j, "failures"), 0);
	assert_string_equal(json_string_value(json_object_get(fail, "id")),
	                    "indicator--00000000-0000-4000-8000-000000000003");
	assert_string_equal(json_string_value(json_object_get(fail, "version")),
	                    "2024-01-01T00:00:00.000Z");
	assert_non_null(strstr(json_string_value(json_object_get(fail, "message")), "valid_until"));
	const char *rts = json_string_value(json_object_get(f->j, "request_timestamp"));
	assert_int_equal(strlen(rts), 27); /* µs precision */
	snprintf(status_id, sizeof(status_id), "%s",
	         json_string_value(json_object_get(f->j, "id")));
	snprintf(status_body, sizeof(status_body), "%s", f->rs.body.p);

	/* §4.3: the status resource is kept */
	char sp[128];
	snprintf(sp, sizeof(sp), "/taxii2/hub/status/%s/", status_id);
	assert_int_equal(get(f, TELCO, sp, NULL), 200);
	assert_string_equal(f->rs.body.p, status_body);
	/* another organisation learns nothing about it */
	assert_int_equal(get(f, BANK, sp, NULL), 404);
	assert_int_equal(
	    get(f, TELCO, "/taxii2/hub/status/6a7a0b7e-0000-4000-8000-000000000000/", NULL), 404);

	/* §5.5: a duplicate succeeds */
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"), env), 202);
	assert_int_equal(json_integer_value(json_object_get(f->j, "success_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(f->j, "failure_count")), 1);
	free(env);

	/* an envelope without objects adds nothing: 422, not a status */
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"), "{}"), 422);
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"), "{\"objects\":[]}"), 422);
	/* a bundle is not an envelope, even an empty one */
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"),
	                      "{\"type\":\"bundle\",\"id\":\"bundle--6d1f3b0a-0c2e-4c62-9d4e-"
	                      "3f2a1b0c9d8e\",\"objects\":[]}"),
	                 422);
	buf_reset(&o);
}

static void
test_post_errors(void **state)
{
	struct fx *f = *state;
	const char *p = cpath(f, C_SHARED, "objects/");
	char path[512];
	snprintf(path, sizeof(path), "%s", p);

	/* 415 */
	assert_int_equal(call(f, TELCO, "POST", path, NULL, ACCEPT, "application/json", "{}"), 415);
	assert_int_equal(call(f, TELCO, "POST", path, NULL, ACCEPT, NULL, "{}"), 415);
	assert_int_equal(
	    call(f, TELCO, "POST", path, NULL, ACCEPT, "application/taxii+json;version=2.0", "{}"),
	    415);
	/* the bare type passes the 415 check (then {} is a 422) */
	assert_int_equal(call(f, TELCO, "POST", path, NULL, ACCEPT, "application/taxii+json", "{}"),
	                 422);
	/* 406 on POST too */
	assert_int_equal(call(f, TELCO, "POST", path, NULL, "application/json", ACCEPT, "{}"), 406);
	/* 400: not JSON */
	assert_int_equal(post(f, TELCO, path, "{\"objects\": ["), 400);
	assert_int_equal(post(f, TELCO, path, "{\"a\":1,\"a\":2}"), 400);
	/* 422: not an envelope, not STIX, the wrong spec version, a bundle */
	const char *e422[] = {
	    "[]",
	    "{\"objects\":{}}",
	    "{\"objects\":[1]}",
	    "{\"objects\":[{\"id\":\"x\"}]}",
	    "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.0\"}]}",
	    ("{\"objects\":[{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
	     "000000000001\",\"objects\":[]}]}"),
	    /* §4.3.1: no id the status could name it by */
	    "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\"}]}",
	    "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"x\"}]}",
	    "{\"objects\":[{\"type\":\"ipv4-addr\",\"value\":\"192.0.2.1\"}]}",
	};
	for (size_t i = 0; i < sizeof(e422) / sizeof(e422[0]); i++)
		if (post(f, TELCO, path, e422[i]) != 422)
			fail_msg("%s: %d, not 422", e422[i], f->rs.status);
	/* no spec_version: STIX 2.0, validated by its rules and listed as a
	 * failure with the reason, not a 422 for the whole envelope */
	assert_int_equal(post(f, TELCO, path,
	                      "{\"objects\":[{\"type\":\"indicator\",\"id\":\"indicator--00000000-"
	                      "0000-4000-8000-000000000001\"}]}"),
	                 202);
	assert_non_null(strstr(f->rs.body.p, "objects[0].labels: required property missing"));
	/* 413 above max_content_length */
	size_t big = f->cfg.max_content_length + 1;
	char *body = malloc(big + 1);
	memset(body, ' ', big);
	memcpy(body, "{}", 2);
	body[big] = '\0';
	assert_int_equal(post(f, TELCO, path, body), 413);
	free(body);
	/* rights: readonly (T,F) → 403, bankonly (F,F) → 404, writeonly (F,T) → 202 */
	assert_int_equal(post(f, TELCO, cpath(f, C_READONLY, "objects/"), "{}"), 403);
	assert_int_equal(post(f, TELCO, cpath(f, C_BANKONLY, "objects/"), "{}"), 404);
	assert_int_equal(post(f, TELCO, cpath(f, C_WRITEONLY, "objects/"), "{}"), 422); /* past 403/404 */
	/* a reader role never writes, even where the collection admits it */
	assert_int_equal(post(f, CERT, cpath(f, C_SHARED, "objects/"), "{}"), 403);
	/* nothing of the rejected requests was stored */
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), NULL), 200);
	assert_int_equal(json_object_size(f->j), 0);
}

static void
test_foreign_producer_is_a_failure(void **state)
{
	struct fx *f = *state;
	struct buf o;

	post_one(f, BANK, C_SHARED, 7, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	buf_init(&o, 0);
	ind(&o, 7, "2024-02-01T00:00:00.000Z", TLP_GREEN, NULL);
	char *env = envelope(&o);
	assert_int_equal(post(f, TELCO, cpath(f, C_SHARED, "objects/"), env), 202);
	assert_int_equal(json_integer_value(json_object_get(f->j, "failure_count")), 1);
	json_t *fail = json_array_get(json_object_get(f->j, "failures"), 0);
	assert_string_equal(json_string_value(json_object_get(fail, "version")),
	                    "2024-02-01T00:00:00.000Z");
	assert_true(strlen(json_string_value(json_object_get(fail, "message"))) > 0);
	/* the producer itself may version it */
	assert_int_equal(post(f, BANK, cpath(f, C_SHARED, "objects/"), env), 202);
	assert_int_equal(json_integer_value(json_object_get(f->j, "success_count")), 1);
	free(env);
	buf_reset(&o);
}

/* ---- reads ---- */

static void
test_objects_manifest_headers_and_filters(void **state)
{
	struct fx *f = *state;
	char id1[64], id2[64];
	ind_id(1, id1);
	ind_id(2, id2);

	post_one(f, BANK, C_SHARED, 1, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	post_one(f, BANK, C_SHARED, 1, "2024-03-01T00:00:00.000Z", TLP_GREEN, NULL);
	post_one(f, BANK, C_SHARED, 2, "2024-01-01T00:00:00.000Z", TLP_CLEAR, NULL);

	/* default: the last version of each object, oldest date_added first */
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), NULL), 200);
	assert_int_equal(list_len(f->j, "objects"), 2);
	assert_false(json_is_true(json_object_get(f->j, "more")));
	json_t *first = json_array_get(json_object_get(f->j, "objects"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "id")), id1);
	assert_string_equal(json_string_value(json_object_get(first, "modified")),
	                    "2024-03-01T00:00:00.000Z");
	assert_int_equal(strlen(f->rs.date_added_first), 27);
	assert_int_equal(strlen(f->rs.date_added_last), 27);
	assert_true(strcmp(f->rs.date_added_first, f->rs.date_added_last) < 0);

	/* match[version]=all; first; a timestamp at another precision (§3.4.1) */
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[version]=all"), 200);
	assert_int_equal(list_len(f->j, "objects"), 3);
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"),
	                     "match[version]=first&match[id]=indicator--00000000-0000-4000-8000-"
	                     "000000000001"),
	                 200);
	assert_int_equal(list_len(f->j, "objects"), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(f->j, "objects"), 0), "modified")),
	                    "2024-01-01T00:00:00.000Z");
	assert_int_equal(
	    get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[version]=2024-03-01T00:00:00Z"),
	    200);
	assert_int_equal(list_len(f->j, "objects"), 1);
	/* match[type], match[spec_version] */
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[type]=malware"), 200);
	assert_int_equal(json_object_size(f->j), 0);
	assert_int_equal(f->rs.date_added_first[0], '\0'); /* no header on an empty page */
	assert_int_equal(
	    get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[type]=malware,indicator"), 200);
	assert_int_equal(list_len(f->j, "objects"), 2);
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[spec_version]=2.0"),
	                 200);
	assert_int_equal(json_object_size(f->j), 0);
	/* 400 for malformed parameters */
	const char *bad[] = {"limit=0",
	                     "limit=x",
	                     "added_after=yesterday",
	                     "match[version]=all,first",
	                     "match[id]=nope",
	                     "added_after=2024-01-01T00:00:00Z&added_after=2024-01-01T00:00:00Z",
	                     "next=AAAA"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (get(f, TELCO, cpath(f, C_SHARED, "objects/"), bad[i]) != 400)
			fail_msg("%s: %d, not 400", bad[i], f->rs.status);

	/* manifest: one record per version, with date_added and media_type */
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "manifest/"), "match[version]=all"), 200);
	assert_int_equal(list_len(f->j, "objects"), 3);
	json_t *rec = json_array_get(json_object_get(f->j, "objects"), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "version")),
	                    "2024-01-01T00:00:00.000Z");
	assert_string_equal(json_string_value(json_object_get(rec, "media_type")),
	                    "application/stix+json;version=2.1");
	assert_int_equal(strlen(json_string_value(json_object_get(rec, "date_added"))), 27);
	assert_string_equal(json_string_value(json_object_get(rec, "date_added")),
	                    f->rs.date_added_first);
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "manifest/"), "match[type]=indicator"),
	                 200);
	assert_int_equal(list_len(f->j, "objects"), 2);

	/* object: last version by default, all on request */
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id1, ""), NULL), 200);
	assert_int_equal(list_len(f->j, "objects"), 1);
	assert_true(f->rs.date_added_first[0] != '\0');
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id1, ""), "match[version]=all"), 200);
	assert_int_equal(list_len(f->j, "objects"), 2);
	/* a visible object with nothing after added_after: an empty page, not 404 */
	assert_int_equal(
	    get(f, TELCO, opath(f, C_SHARED, id1, ""), "added_after=2999-01-01T00:00:00Z"), 200);
	assert_int_equal(json_object_size(f->j), 0);
	assert_int_equal(f->rs.date_added_last[0], '\0');
	assert_int_equal(get(f, TELCO,
	                     opath(f, C_SHARED,
	                           "indicator--00000000-0000-4000-8000-"
	                           "000000009999",
	                           ""),
	                     NULL),
	                 404);
	/* versions */
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id1, "versions/"), NULL), 200);
	json_t *vs = json_object_get(f->j, "versions");
	assert_int_equal(json_array_size(vs), 2);
	assert_string_equal(json_string_value(json_array_get(vs, 0)), "2024-01-01T00:00:00.000Z");
	assert_string_equal(json_string_value(json_array_get(vs, 1)), "2024-03-01T00:00:00.000Z");
	assert_true(f->rs.date_added_last[0] != '\0');
	/* the write-only requester reads nothing: 403 */
	post_one(f, TELCO, C_WRITEONLY, 3, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	assert_int_equal(get(f, TELCO, cpath(f, C_WRITEONLY, "objects/"), NULL), 403);
	assert_int_equal(get(f, TELCO, cpath(f, C_WRITEONLY, "manifest/"), NULL), 403);
}

/* Walks a collection page by page via next; returns the number of objects
 * seen, checks order and page size, and fills ids. */
static size_t
walk_next(struct fx *f, int who, int c, const char *endpoint, size_t limit, char (*ids)[64],
          size_t max)
{
	char query[256];
	char next[600] = "";
	char last_date[TS_TEXT_MAX] = "";
	size_t seen = 0, pages = 0;
	char path[512];
	snprintf(path, sizeof(path), "%s", cpath(f, c, endpoint));

	for (;;) {
		if (next[0])
			snprintf(query, sizeof(query), "limit=%zu&next=%s", limit, next);
		else
			snprintf(query, sizeof(query), "limit=%zu", limit);
		assert_int_equal(get(f, who, path, query), 200);
		size_t n = list_len(f->j, "objects");
		assert_true(n <= limit);
		pages++;
		assert_true(pages < 1000);
		if (n) {
			/* ascending date_added across pages */
			assert_true(strcmp(last_date, f->rs.date_added_first) < 0);
			snprintf(last_date, sizeof(last_date), "%s", f->rs.date_added_last);
		}
		for (size_t i = 0; i < n && seen < max; i++) {
			json_t *o = json_array_get(json_object_get(f->j, "objects"), i);
			snprintf(ids[seen++], 64, "%s",
			         json_string_value(json_object_get(o, "id")));
		}
		if (!json_is_true(json_object_get(f->j, "more"))) {
			assert_null(json_object_get(f->j, "next"));
			break;
		}
		const char *nx = json_string_value(json_object_get(f->j, "next"));
		assert_non_null(nx);
		snprintf(next, sizeof(next), "%s", nx);
	}
	return seen;
}

#define BULK 250

static void
bulk_load(struct fx *f)
{
	struct buf o;
	buf_init(&o, 0);
	for (int i = 0; i < BULK; i++)
		ind(&o, 1000 + i, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	char *env = envelope(&o);
	/* bulk is write-only for the bank: post through the bank */
	assert_int_equal(post(f, BANK, cpath(f, C_BULK, "objects/"), env), 202);
	assert_int_equal(json_integer_value(json_object_get(f->j, "success_count")), BULK);
	free(env);
	buf_reset(&o);
}

static void
test_pagination(void **state)
{
	struct fx *f = *state;
	static char ids[BULK + 10][64];

	bulk_load(f);
	/* via next, limit 7 */
	size_t n = walk_next(f, TELCO, C_BULK, "objects/", 7, ids, BULK + 10);
	assert_int_equal(n, BULK);
	for (int i = 0; i < BULK; i++) {
		char want[64];
		ind_id(1000 + i, want);
		assert_string_equal(ids[i], want);
	}
	/* manifest too */
	assert_int_equal(walk_next(f, TELCO, C_BULK, "manifest/", 7, ids, BULK + 10), BULK);

	/* via added_after = the last X-TAXII-Date-Added-Last (§3.5 alternative) */
	char after[TS_TEXT_MAX] = "", query[128], path[512];
	size_t seen = 0;
	snprintf(path, sizeof(path), "%s", cpath(f, C_BULK, "objects/"));
	for (int pages = 0; pages < 100; pages++) {
		if (after[0])
			snprintf(query, sizeof(query), "limit=7&added_after=%s", after);
		else
			snprintf(query, sizeof(query), "limit=7");
		assert_int_equal(get(f, TELCO, path, query), 200);
		seen += list_len(f->j, "objects");
		if (!json_is_true(json_object_get(f->j, "more")))
			break;
		snprintf(after, sizeof(after), "%s", f->rs.date_added_last);
	}
	assert_int_equal(seen, BULK);

	/* the server caps a page at max_page (100) */
	assert_int_equal(get(f, TELCO, path, "limit=1000"), 200);
	assert_int_equal(list_len(f->j, "objects"), 100);
	assert_true(json_is_true(json_object_get(f->j, "more")));
	assert_int_equal(get(f, TELCO, path, NULL), 200);
	assert_int_equal(list_len(f->j, "objects"), 100);
}

static void
test_cursor_is_bound(void **state)
{
	struct fx *f = *state;
	char next[600], q[800], path[512];

	bulk_load(f);
	snprintf(path, sizeof(path), "%s", cpath(f, C_BULK, "objects/"));
	assert_int_equal(get(f, TELCO, path, "limit=5"), 200);
	snprintf(next, sizeof(next), "%s", json_string_value(json_object_get(f->j, "next")));

	snprintf(q, sizeof(q), "limit=5&next=%s", next);
	assert_int_equal(get(f, TELCO, path, q), 200);
	assert_int_equal(list_len(f->j, "objects"), 5);
	/* another principal, even of the same reading rights */
	assert_int_equal(get(f, CERT, path, q), 400);
	assert_int_equal(get(f, BANK, path, q), 400);
	/* another endpoint, another filter */
	assert_int_equal(get(f, TELCO, cpath(f, C_BULK, "manifest/"), q), 400);
	snprintf(q, sizeof(q), "limit=5&match[type]=indicator&next=%s", next);
	assert_int_equal(get(f, TELCO, path, q), 400);
	/* a damaged cursor */
	next[10] = next[10] == 'A' ? 'B' : 'A';
	snprintf(q, sizeof(q), "limit=5&next=%s", next);
	assert_int_equal(get(f, TELCO, path, q), 400);
}

/* TLP on every read path: objects, manifest, object, versions. */
static void
test_tlp_hiding(void **state)
{
	struct fx *f = *state;
	enum { GREEN = 10, AMBER, STRICT, RED, RED_CERT };
	char id[5][64];
	for (int i = 0; i < 5; i++)
		ind_id(GREEN + i, id[i]);

	post_one(f, BANK, C_SHARED, GREEN, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	post_one(f, BANK, C_SHARED, AMBER, "2024-01-01T00:00:00.000Z", TLP_AMBER, NULL);
	post_one(f, BANK, C_SHARED, STRICT, "2024-01-01T00:00:00.000Z", TLP_AMBER_STRICT,
	         f->identity[CERT]);
	post_one(f, BANK, C_SHARED, RED, "2024-01-01T00:00:00.000Z", TLP_RED, f->identity[BANK]);
	post_one(f, BANK, C_SHARED, RED_CERT, "2024-01-01T00:00:00.000Z", TLP_RED,
	         f->identity[CERT]);

	/* who sees what: telco (no group) GREEN only; cert (group fin,
	 * recipient) GREEN, AMBER, STRICT, RED_CERT; bank, the producer, all
	 * (RED_CERT included: a producer always sees its own, issue 8) */
	static const bool sees[3][5] = {
	    {true, true, true, true, true},     /* BANK */
	    {true, false, false, false, false}, /* TELCO */
	    {true, true, true, false, true},    /* CERT */
	};
	for (int w = 0; w < 3; w++) {
		size_t want = 0;
		for (int i = 0; i < 5; i++)
			want += sees[w][i];
		assert_int_equal(get(f, w, cpath(f, C_SHARED, "objects/"), NULL), 200);
		assert_int_equal(list_len(f->j, "objects"), want);
		for (int i = 0; i < 5; i++)
			assert_int_equal(has_id(f, "objects", id[i]), sees[w][i]);
		assert_int_equal(get(f, w, cpath(f, C_SHARED, "manifest/"), NULL), 200);
		assert_int_equal(list_len(f->j, "objects"), want);
		for (int i = 0; i < 5; i++)
			assert_int_equal(has_id(f, "objects", id[i]), sees[w][i]);
		for (int i = 0; i < 5; i++) {
			int code = sees[w][i] ? 200 : 404;
			assert_int_equal(get(f, w, opath(f, C_SHARED, id[i], ""), NULL), code);
			assert_int_equal(get(f, w, opath(f, C_SHARED, id[i], "versions/"), NULL),
			                 code);
			assert_int_equal(
			    get(f, w, opath(f, C_SHARED, id[i], ""), "match[version]=all"), code);
		}
	}
	/* hidden rows never count towards the limit: after the four rows the
	 * telco may not see comes a second GREEN one; pages of one show it */
	char late[64];
	ind_id(GREEN + 5, late);
	post_one(f, BANK, C_SHARED, GREEN + 5, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	static char seen[8][64];
	assert_int_equal(walk_next(f, TELCO, C_SHARED, "objects/", 1, seen, 8), 2);
	assert_string_equal(seen[0], id[0]);
	assert_string_equal(seen[1], late);
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), "limit=2"), 200);
	assert_int_equal(list_len(f->j, "objects"), 2);
	assert_false(json_is_true(json_object_get(f->j, "more")));
	/* the cert's AMBER/RED reads went to the audit log, as id@version */
	audit_sync(f->audit, NULL);
	char path[300], line[8192];
	snprintf(path, sizeof(path), "%s/" AUDIT_FILE, f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	bool found = false, green_read = false;
	char want[128];
	snprintf(want, sizeof(want), "%s@2024-01-01T00:00:00.000Z", id[4]);
	while (fgets(line, sizeof(line), fp)) {
		if (!strstr(line, "\"read\""))
			continue;
		if (strstr(line, want))
			found = true;
		if (strstr(line, id[0]))
			green_read = true;
	}
	fclose(fp);
	assert_true(found);
	assert_false(green_read); /* GREEN reads are not audited */
}

static void
test_delete_table(void **state)
{
	struct fx *f = *state;
	char id[64], id2[64];
	ind_id(20, id);
	ind_id(21, id2);

	post_one(f, BANK, C_SHARED, 20, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	post_one(f, BANK, C_SHARED, 20, "2024-02-01T00:00:00.000Z", TLP_GREEN, NULL);
	post_one(f, BANK, C_SHARED, 21, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);

	/* §5.7: (F,F) 404, (T,F) 403, (F,T) 403 */
	assert_int_equal(
	    call(f, TELCO, "DELETE", opath(f, C_BANKONLY, id, ""), NULL, ACCEPT, NULL, NULL), 404);
	assert_int_equal(
	    call(f, TELCO, "DELETE", opath(f, C_READONLY, id, ""), NULL, ACCEPT, NULL, NULL), 403);
	assert_int_equal(
	    call(f, TELCO, "DELETE", opath(f, C_WRITEONLY, id, ""), NULL, ACCEPT, NULL, NULL), 403);
	/* (T,T) but another organisation's object: 403, nothing deleted */
	assert_int_equal(
	    call(f, TELCO, "DELETE", opath(f, C_SHARED, id, ""), NULL, ACCEPT, NULL, NULL), 403);
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id, "versions/"), NULL), 200);
	assert_int_equal(list_len(f->j, "versions"), 2);
	/* unknown object: 404 */
	assert_int_equal(
	    call(f, BANK, "DELETE",
	         opath(f, C_SHARED, "indicator--00000000-0000-4000-8000-000000009999", ""), NULL,
	         ACCEPT, NULL, NULL),
	    404);
	/* the producer deletes the first version only */
	assert_int_equal(call(f, BANK, "DELETE", opath(f, C_SHARED, id, ""), "match[version]=first",
	                      ACCEPT, NULL, NULL),
	                 200);
	assert_int_equal(f->rs.body.len, 0);
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id, "versions/"), NULL), 200);
	assert_int_equal(list_len(f->j, "versions"), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f->j, "versions"), 0)),
	                    "2024-02-01T00:00:00.000Z");
	/* then all of it: gone from object, manifest and objects */
	assert_int_equal(
	    call(f, BANK, "DELETE", opath(f, C_SHARED, id, ""), NULL, ACCEPT, NULL, NULL), 200);
	assert_int_equal(get(f, TELCO, opath(f, C_SHARED, id, ""), NULL), 404);
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "manifest/"), "match[version]=all"), 200);
	assert_false(has_id(f, "objects", id));
	assert_true(has_id(f, "objects", id2));
	assert_int_equal(get(f, TELCO, cpath(f, C_SHARED, "objects/"), "match[version]=all"), 200);
	assert_false(has_id(f, "objects", id));
	/* an admin of the hub may delete what another organisation produced */
	post_one(f, TELCO, C_SHARED, 22, "2024-01-01T00:00:00.000Z", TLP_GREEN, NULL);
	char id3[64];
	ind_id(22, id3);
	/* the bank admin is not an admin of the hub's... role admin: allowed */
	assert_int_equal(
	    call(f, BANK_ADMIN, "DELETE", opath(f, C_SHARED, id3, ""), NULL, ACCEPT, NULL, NULL),
	    200);
	/* the deletions are audited */
	char path[300], line[8192];
	snprintf(path, sizeof(path), "%s/" AUDIT_FILE, f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	int deletes = 0, writes = 0;
	while (fgets(line, sizeof(line), fp)) {
		deletes += strstr(line, "\"delete\"") != NULL;
		writes += strstr(line, "\"write\"") != NULL;
	}
	fclose(fp);
	assert_int_equal(deletes, 3);
	assert_int_equal(writes, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_discovery_and_api_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_credential_is_401, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accept_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_and_methods, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_slash_redirects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_roots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collections_per_requester, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collection_hidden_is_404, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_status_and_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_producer_is_a_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_objects_manifest_headers_and_filters, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cursor_is_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tlp_hiding, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
