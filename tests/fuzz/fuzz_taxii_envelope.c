/*
 * Fuzz target: POST objects/ (lib/taxii/taxii_write.c) with the envelope
 * body from the fuzzer, through taxii_handle() as the daemon calls it:
 * a real data directory (hub, registry, audit log) made once per process
 * in a temporary folder (on /dev/shm when there is one, so durable
 * commits stay cheap), one organisation, a contributor key, a collection
 * it may write, and a direct synchronous writer. Bounded: bodies above
 * FUZZ_BODY_MAX are refused with 413 before parsing, as the daemon would.
 * Invariant: every answer is a complete TAXII response — 202 with a status
 * resource whose counts add up, or an error resource of a 4xx status
 * whose http_status matches — never a 500 for bad input.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "taxii/taxii_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BODY_MAX (64 * 1024)

static struct {
	char root[128], dir[160];
	struct hub *hub;
	struct registry *reg;
	struct audit *audit;
	struct reg_snapshot *snap;
	struct taxii_server_cfg cfg;
	struct taxii_writer w;
	struct taxii_env env;
	struct policy_subject who;
	char path[128];
} fx;

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

static void
fx_done(void)
{
	char cmd[200];
	reg_snapshot_unref(fx.snap);
	audit_close(fx.audit);
	registry_close(fx.reg);
	hub_close(fx.hub);
	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.root) < (int)sizeof(cmd) &&
	    system(cmd) != 0)
		fprintf(stderr, "fuzz_taxii_envelope: could not remove %s\n", fx.root);
}

static void
need(enum tcerr rc, const struct diag *d, const char *what)
{
	if (rc == TC_OK)
		return;
	fprintf(stderr, "fuzz_taxii_envelope: %s: %s\n", what, d->msg);
	abort();
}

static void
fx_setup(void)
{
	struct diag d;
	struct reg_org o;
	struct store_collection c;
	char key[REG_KEY_TEXT_MAX + 1];
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(fx.root, sizeof(fx.root), "%s/tocsin-fuzz-envelope-XXXXXX", tmp);
	if (!mkdtemp(fx.root))
		abort();
	snprintf(fx.dir, sizeof(fx.dir), "%s/data", fx.root);
	atexit(fx_done);
	need(hub_init(fx.dir, &d), &d, "hub_init");
	need(hub_open(fx.dir, &fx.hub, &d), &d, "hub_open");
	need(registry_open(fx.dir, &fx.reg, &d), &d, "registry_open");
	need(audit_open(fx.dir, &fx.audit, &d), &d, "audit_open");
	need(registry_org_add(fx.reg, "bank", SECTOR_FINANCE, "LU", NULL, 0, &o, &d), &d,
	     "org add");
	need(registry_key_create(fx.reg, "bank", ROLE_CONTRIBUTOR, "fuzz", NULL, key, NULL, &d), &d,
	     "key create");
	need(store_collection_add(hub_store(fx.hub), "shared", NULL, "shared", NULL, &c, &d), &d,
	     "collection add");
	need(registry_rights_set(fx.reg, c.uuid, "all", "org:bank", &d), &d, "rights");
	need(reg_snapshot_build(fx.reg, hub_store(fx.hub), &fx.snap, &d), &d, "snapshot");
	const struct reg_principal *p = reg_snapshot_auth_key(fx.snap, key, strlen(key));
	if (!p)
		abort();
	explicit_bzero(key, sizeof(key));
	policy_subject_principal(&fx.who, fx.snap, p);
	fx.cfg = (struct taxii_server_cfg){
	    .api_root = "hub",
	    .title = "fuzz hub",
	    .max_content_length = FUZZ_BODY_MAX,
	    .max_page = 100,
	};
	memset(fx.cfg.cursor_key, 0x3c, sizeof(fx.cfg.cursor_key));
	fx.w = (struct taxii_writer){w_ingest, w_remove, fx.hub, hub_obs_ctx(fx.hub)};
	fx.env = (struct taxii_env){hub_store(fx.hub), fx.reg, fx.audit, &fx.w};
	snprintf(fx.path, sizeof(fx.path), "/taxii2/hub/collections/%s/objects/", c.uuid);
}

static json_int_t
count(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	if (!json_is_integer(v))
		abort();
	return json_integer_value(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct taxii_response rs;
	json_error_t e;

	if (!fx.hub)
		fx_setup();
	struct taxii_request rq = {
	    .method = "POST",
	    .path = fx.path,
	    .accept = TAXII_MEDIA_TYPE,
	    .content_type = TAXII_MEDIA_TYPE,
	    .body = slice_make((const char *)data, size),
	    .who = &fx.who,
	    .actor = "fuzz",
	};
	taxii_response_init(&rs);
	if (taxii_handle(&fx.cfg, &fx.env, &rq, &rs) != TC_OK)
		abort(); /* only out-of-memory may end without an answer */
	json_t *j = json_loadb(rs.body.p, rs.body.len, 0, &e);
	if (!j || strcmp(rs.content_type, TAXII_MEDIA_TYPE) != 0)
		abort(); /* a half or non-JSON body */
	if (rs.status == 202) {
		json_int_t total = count(j, "total_count");
		if (count(j, "success_count") + count(j, "failure_count") +
		        count(j, "pending_count") !=
		    total)
			abort();
		if (strcmp(json_string_value(json_object_get(j, "status")), "complete") != 0)
			abort();
	} else {
		char code[16];
		snprintf(code, sizeof(code), "%d", rs.status);
		if (rs.status < 400 || rs.status >= 500)
			abort(); /* bad input is never a 5xx */
		const char *hs = json_string_value(json_object_get(j, "http_status"));
		if (!hs || strcmp(hs, code) != 0 || !json_is_string(json_object_get(j, "title")))
			abort();
	}
	json_decref(j);
	taxii_response_reset(&rs);
	return 0;
}
