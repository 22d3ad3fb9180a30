/* Unit tests of the hub's provenance (lib/hub/hub.c with lib/prov): a
 * batch is signed once and every stored version carries its extension,
 * which verifies; the store keeps the batch (root and leaves), from which
 * the same proof is produced again; a duplicate, the hub's own export
 * imported again and an object that carries another hub's provenance are
 * treated as docs/federation.md says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "prov/prov.h"

struct fixture {
	char dir[256];
	struct hub *hub;
	int64_t coll;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;
	struct store_collection c;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-hubprov-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(hub_collection(f->hub, NULL, &c, &d), TC_OK);
	f->coll = c.num;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *
indicator(int i)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	         "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%04d\","
	         "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
	         "\"pattern\":\"[domain-name:value = 'p%d.example']\",\"pattern_type\":\"stix\","
	         "\"valid_from\":\"2024-01-01T00:00:00Z\"}",
	         i, i);
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

struct got {
	char *json[8];
	uint64_t seq[8];
	size_t n;
};

static enum store_row_verdict
take(void *ctx, const struct store_row *r)
{
	struct got *g = ctx;
	if (g->n < 8) {
		g->json[g->n] = strndup(r->json.p, r->json.len);
		g->seq[g->n++] = r->seq;
	}
	return STORE_ROW_TAKE;
}

static void
test_batch_signed_stored_and_proved_again(void **state)
{
	struct fixture *f = *state;
	json_t *objs[5];
	struct hub_result r[5];
	struct diag d;
	struct got g = {0};
	struct store_query q = {.versions = STORE_V_ALL};
	struct prov_verifier *v = prov_verifier_new(0);
	struct hubkey_pub pub;
	char id[HUBKEY_ID_MAX];
	uint64_t checks, hits;

	for (int i = 0; i < 5; i++)
		objs[i] = indicator(i);
	assert_int_equal(hub_ingest(f->hub, f->coll, objs, NULL, 5, r, &d), TC_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i].verdict, HUB_ACCEPTED);
	assert_true(hub_identity(f->hub, &pub));
	hubkey_pub_id(&pub, id);
	assert_int_equal(store_query(hub_store(f->hub), &q, take, &g, NULL, &d), TC_OK);
	assert_int_equal(g.n, 5);
	for (size_t i = 0; i < g.n; i++) {
		struct prov_info info;
		uint8_t root[32], proof[PROV_PROOF_MAX][PROV_HASH_LEN], *leaves = NULL;
		size_t nl = 0, li = 0, plen;

		assert_int_equal(prov_verify(v, g.json[i], strlen(g.json[i]), &info, &d), TC_OK);
		assert_string_equal(info.origin_hub, id);
		assert_int_equal(info.leaf_count, 5);
		/* the store's batch gives the same root, leaf and proof */
		assert_int_equal(store_prov_find(hub_store(f->hub), g.seq[i], root, &leaves, &nl, &li,
		                                 &d),
		                 TC_OK);
		assert_memory_equal(root, info.root, 32);
		assert_int_equal(nl, 5);
		assert_int_equal(li, info.leaf_index);
		assert_memory_equal(leaves + 32 * li, info.leaf, 32);
		assert_int_equal(prov_merkle_proof(HUBKEY_ED25519, (const uint8_t(*)[32])leaves, nl, li,
		                                   proof, &plen, &d),
		                 TC_OK);
		assert_true(prov_merkle_verify(HUBKEY_ED25519, info.leaf, li, nl,
		                               (const uint8_t(*)[32])proof, plen, root));
		free(leaves);
	}
	prov_verifier_stats(v, &checks, &hits);
	assert_int_equal(checks, 1);
	/* the same objects again: duplicates, not conflicts */
	assert_int_equal(hub_ingest(f->hub, f->coll, objs, NULL, 5, r, &d), TC_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r[i].verdict, HUB_DUPLICATE);
	/* the hub's own export imported again: its provenance is dropped, and
	 * the versions are duplicates */
	{
		json_t *own = json_loads(g.json[1], 0, NULL);
		assert_int_equal(hub_ingest(f->hub, f->coll, &own, NULL, 1, r, &d), TC_OK);
		assert_int_equal(r[0].verdict, HUB_DUPLICATE);
		json_decref(own);
	}
	/* an object with another hub's provenance, from a member: refused */
	{
		json_t *back = json_loads(g.json[0], 0, NULL);
		json_object_set_new(back, "id",
		                    json_string("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b39999"));
		json_object_set_new(
		    json_object_get(json_object_get(back, "extensions"), PROV_EXT_ID), "origin_hub",
		    json_string("ed25519:1111111111111111111111111111111111111111111111111111111111111111"));
		assert_int_equal(hub_ingest(f->hub, f->coll, &back, NULL, 1, r, &d), TC_OK);
		assert_int_equal(r[0].verdict, HUB_REJECTED);
		assert_int_equal(r[0].rc, TC_EPERM);
		assert_non_null(strstr(r[0].why, "only replication"));
		/* through the peer path it is kept as received, not signed again */
		struct hub_item it = {.obj = back, .collection = f->coll, .peer_provenance = true};
		assert_int_equal(hub_ingest_items(f->hub, &it, 1, r, &d), TC_OK);
		assert_int_equal(r[0].verdict, HUB_ACCEPTED);
		struct got g2 = {0};
		const char *ids[1] = {"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b39999"};
		struct store_query q2 = {.ids = ids, .nids = 1, .versions = STORE_V_ALL};
		assert_int_equal(store_query(hub_store(f->hub), &q2, take, &g2, NULL, &d), TC_OK);
		assert_int_equal(g2.n, 1);
		json_t *stored = json_loads(g2.json[0], 0, NULL);
		assert_true(json_equal(json_object_get(stored, "extensions"),
		                       json_object_get(back, "extensions")));
		/* its leaf is object 0's with another id: the proof no longer holds */
		assert_int_equal(prov_verify(v, g2.json[0], strlen(g2.json[0]), NULL, &d), TC_EINVAL);
		assert_non_null(strstr(d.msg, "wrong proof"));
		json_decref(stored);
		json_decref(back);
		free(g2.json[0]);
	}
	for (size_t i = 0; i < g.n; i++)
		free(g.json[i]);
	for (int i = 0; i < 5; i++)
		json_decref(objs[i]);
	prov_verifier_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_signed_stored_and_proved_again, setup,
		                                teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
