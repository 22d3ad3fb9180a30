/*
 * Out-of-memory tests of lib/taxii: for a few representative requests
 * (GET collections, GET a page of objects, POST an envelope of 10 objects)
 * the Nth allocation fails, for N = 1, 2, ... until the request runs
 * through without the failure firing. Each answer must be complete: the
 * normal one, or a 500/503 TAXII error resource, or TC_ENOMEM with no
 * answer at all (the daemon then sends its own 500) — never half a body.
 * Nothing may leak (the sanitizer build checks). malloc, calloc and
 * realloc are wrapped at link time (-Wl,--wrap); jansson (a shared
 * library the wrap does not reach) allocates through lib/stix's allocator
 * (stix_json_alloc_init), whose malloc is wrapped too; SQLite keeps its
 * own allocator.
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

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static long calls, fail_at; /* fail_at 0: never */

static bool
fail_now(void)
{
	return fail_at && ++calls == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

struct fx {
	char root[256], dir[300];
	struct hub *hub;
	struct registry *reg;
	struct audit *audit;
	struct reg_snapshot *snap;
	struct taxii_server_cfg cfg;
	struct taxii_writer w;
	struct taxii_env env;
	struct policy_subject who;
	char col[37];
	char path[256];
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

/* An envelope of n indicators numbered from first. */
static char *
envelope(int first, int n)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "{\"objects\":[");
	for (int i = first; i < first + n; i++)
		buf_printf(&b,
		           "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		           "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
		           "\"created\":\"2024-01-01T00:00:00.000Z\","
		           "\"modified\":\"2024-01-01T00:00:00.000Z\","
		           "\"pattern\":\"[ipv4-addr:value = '198.51.100.%d']\","
		           "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
		           i > first ? "," : "", i, i % 250);
	buf_append_cstr(&b, "]}");
	assert_int_equal(buf_error(&b), TC_OK);
	return buf_detach(&b, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d;
	struct reg_org o;
	struct store_collection c;
	char key[REG_KEY_TEXT_MAX + 1];

	stix_json_alloc_init();
	snprintf(f->root, sizeof(f->root), "/tmp/tocsin-test-taxii-oom-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/data", f->root);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(registry_open(f->dir, &f->reg, &d), TC_OK);
	assert_int_equal(audit_open(f->dir, &f->audit, &d), TC_OK);
	assert_int_equal(registry_org_add(f->reg, "bank", SECTOR_FINANCE, "LU", NULL, 0, &o, &d),
	                 TC_OK);
	assert_int_equal(
	    registry_key_create(f->reg, "bank", ROLE_CONTRIBUTOR, "oom", NULL, key, NULL, &d),
	    TC_OK);
	assert_int_equal(
	    store_collection_add(hub_store(f->hub), "shared", NULL, "shared", "oom", &c, &d),
	    TC_OK);
	memcpy(f->col, c.uuid, sizeof(f->col));
	assert_int_equal(registry_rights_set(f->reg, c.uuid, "all", "org:bank", &d), TC_OK);
	assert_int_equal(reg_snapshot_build(f->reg, hub_store(f->hub), &f->snap, &d), TC_OK);
	const struct reg_principal *p = reg_snapshot_auth_key(f->snap, key, strlen(key));
	assert_non_null(p);
	policy_subject_principal(&f->who, f->snap, p);
	f->cfg = (struct taxii_server_cfg){
	    .api_root = "hub",
	    .title = "oom hub",
	    .max_content_length = 1024 * 1024,
	    .max_page = 100,
	};
	memset(f->cfg.cursor_key, 0x11, sizeof(f->cfg.cursor_key));
	f->w = (struct taxii_writer){w_ingest, w_remove, f->hub, hub_obs_ctx(f->hub)};
	f->env = (struct taxii_env){hub_store(f->hub), f->reg, f->audit, &f->w};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[300];
	reg_snapshot_unref(f->snap);
	audit_close(f->audit);
	registry_close(f->reg);
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs one request with the Nth allocation failing (0: none). OUT: *rs
 * (the caller resets it). Returns taxii_handle's result. */
static enum tcerr
request(struct fx *f, long n, const char *method, const char *path, const char *query,
        const char *body, struct taxii_response *rs)
{
	struct taxii_request rq = {
	    .method = method,
	    .path = path,
	    .query = slice_from_cstr(query ? query : ""),
	    .accept = TAXII_MEDIA_TYPE,
	    .content_type = body ? TAXII_MEDIA_TYPE : NULL,
	    .body = slice_from_cstr(body ? body : ""),
	    .who = &f->who,
	    .actor = "oom",
	};
	taxii_response_init(rs);
	calls = 0;
	fail_at = n;
	enum tcerr rc = taxii_handle(&f->cfg, &f->env, &rq, rs);
	fail_at = 0;
	return rc;
}

/* Asserts rs is a complete 500/503 TAXII error resource. */
static void
assert_error_resource(const struct taxii_response *rs, long n)
{
	json_error_t e;
	char code[16];
	if (rs->status != 500 && rs->status != 503)
		fail_msg("allocation %ld failed: status %d, body %s", n, rs->status,
		         rs->body.p ? rs->body.p : "");
	json_t *j = json_loadb(rs->body.p, rs->body.len, 0, &e);
	if (!j)
		fail_msg("allocation %ld failed: error body is not JSON: %s", n,
		         rs->body.p ? rs->body.p : "");
	snprintf(code, sizeof(code), "%d", rs->status);
	assert_string_equal(json_string_value(json_object_get(j, "http_status")), code);
	assert_non_null(json_string_value(json_object_get(j, "title")));
	assert_string_equal(rs->content_type, TAXII_MEDIA_TYPE);
	json_decref(j);
}

/* Fails allocation 1, 2, ... of a request whose normal answer is
 * want_status; check (may be NULL) judges a normal body. Returns the
 * number of allocations the request makes. */
static long
torture(struct fx *f, const char *method, const char *path, const char *query, const char *body,
        int want_status, const char *want_body, void (*check)(struct fx *f, json_t *j))
{
	struct taxii_response rs;
	json_error_t e;
	long n;
	for (n = 1;; n++) {
		enum tcerr rc = request(f, n, method, path, query, body, &rs);
		bool fired = calls >= n;
		if (rc == TC_ENOMEM) {
			assert_true(fired);
		} else {
			assert_int_equal(rc, TC_OK);
			if (rs.status == want_status) {
				json_t *j = json_loadb(rs.body.p, rs.body.len, 0, &e);
				if (!j)
					fail_msg("allocation %ld failed: body is not JSON: %s", n,
					         rs.body.p);
				if (want_body && strcmp(rs.body.p, want_body) != 0)
					fail_msg(
					    "allocation %ld failed: answer differs:\n%s\n---\n%s",
					    n, rs.body.p, want_body);
				if (check)
					check(f, j);
				json_decref(j);
			} else {
				assert_error_resource(&rs, n);
				assert_true(fired);
			}
		}
		taxii_response_reset(&rs);
		if (!fired)
			return n - 1;
	}
}

static char *
reference(struct fx *f, const char *path, const char *query)
{
	struct taxii_response rs;
	assert_int_equal(request(f, 0, "GET", path, query, NULL, &rs), TC_OK);
	assert_int_equal(rs.status, 200);
	char *s = strdup(rs.body.p);
	taxii_response_reset(&rs);
	return s;
}

static void
test_get_collections(void **state)
{
	struct fx *f = *state;
	char *want = reference(f, "/taxii2/hub/collections/", NULL);
	long n = torture(f, "GET", "/taxii2/hub/collections/", NULL, NULL, 200, want, NULL);
	assert_true(n > 0);
	free(want);
	want = reference(f, "/taxii2/", NULL);
	torture(f, "GET", "/taxii2/", NULL, NULL, 200, want, NULL);
	free(want);
}

static void
posted_ten(struct fx *f, json_t *j)
{
	(void)f;
	/* the normal answer: every object stored (or a duplicate of one that
	 * an earlier, failed attempt already stored) */
	assert_int_equal(json_integer_value(json_object_get(j, "total_count")), 10);
	if (json_integer_value(json_object_get(j, "success_count")) != 10)
		fail_msg("a partial status: %s", json_dumps(json_object_get(j, "failures"), 0));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "complete");
}

static void
test_post_envelope(void **state)
{
	struct fx *f = *state;
	char *env = envelope(1, 10);
	snprintf(f->path, sizeof(f->path), "/taxii2/hub/collections/%s/objects/", f->col);
	long n = torture(f, "POST", f->path, NULL, env, 202, NULL, posted_ten);
	assert_true(n > 10);
	free(env);
}

static void
test_get_objects_page(void **state)
{
	struct fx *f = *state;
	struct taxii_response rs;
	char *env = envelope(100, 10);
	snprintf(f->path, sizeof(f->path), "/taxii2/hub/collections/%s/objects/", f->col);
	assert_int_equal(request(f, 0, "POST", f->path, NULL, env, &rs), TC_OK);
	assert_int_equal(rs.status, 202);
	taxii_response_reset(&rs);
	free(env);

	/* a first page with a cursor, and a manifest */
	char *want = reference(f, f->path, "limit=4");
	torture(f, "GET", f->path, "limit=4", NULL, 200, want, NULL);
	free(want);
	snprintf(f->path, sizeof(f->path), "/taxii2/hub/collections/%s/manifest/", f->col);
	want = reference(f, f->path, "match[type]=indicator");
	torture(f, "GET", f->path, "match[type]=indicator", NULL, 200, want, NULL);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_collections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_envelope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_objects_page, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
