/* Unit tests of lib/peer: the border policy's text form and its checks on
 * arrival (AMBER+STRICT and RED never cross, AMBER only within a group,
 * types, kinds, stripped properties), and the provenance a hub checks of
 * a peer's object: a signed object passes and gains the relaying peer as
 * a hop, a tampered object, a replayed proof and a missing extension (when
 * required) are refused, and so is an object that comes back to its
 * origin or to a hub that relayed it (a loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer/peer.h"

static void
test_policy_parse(void **state)
{
	(void)state;
	struct peer_policy p;
	struct diag d;
	struct buf b;
	assert_int_equal(peer_policy_parse(NULL, &p, &d), TC_OK);
	assert_int_equal(p.tlp_max, TLP_GREEN);
	assert_int_equal(peer_policy_parse("tlp=amber;types=indicator,malware;kinds=ipv4,domain;"
	                                   "strip=description;rate=500",
	                                   &p, &d),
	                 TC_OK);
	assert_int_equal(p.tlp_max, TLP_AMBER);
	assert_int_equal(p.ntypes, 2);
	assert_int_equal(p.nkinds, 2);
	assert_int_equal(p.nstrip, 1);
	assert_int_equal(p.rate, 500);
	buf_init(&b, 0);
	peer_policy_text(&p, &b);
	buf_append_char(&b, '\0');
	assert_string_equal(b.p, "tlp=amber;types=indicator,malware;kinds=ipv4,domain;"
	                         "strip=description;rate=500");
	buf_reset(&b);
	/* never above amber, whatever the operator writes */
	assert_int_equal(peer_policy_parse("tlp=red", &p, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "never crosses"));
	assert_int_equal(peer_policy_parse("tlp=amber+strict", &p, &d), TC_EINVAL);
	assert_int_equal(peer_policy_parse("colour=red", &p, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "unknown key"));
	assert_int_equal(peer_policy_parse("kinds=nonsense", &p, &d), TC_EINVAL);
	assert_int_equal(peer_policy_parse("strip=id", &p, &d), TC_EINVAL);
	assert_int_equal(peer_policy_parse("rate=-1", &p, &d), TC_EINVAL);
	assert_int_equal(peer_policy_parse("tlp", &p, &d), TC_EINVAL);
}

static void
test_policy_admit(void **state)
{
	(void)state;
	struct peer_policy p;
	struct stix_meta m;
	struct diag d;
	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "indicator--00000000-0000-4000-8000-000000000001");
	snprintf(m.type, sizeof m.type, "indicator");
	struct store_obs ip = { OBS_IPV4, slice_from_cstr("192.0.2.1") };
	struct store_obs dom = { OBS_DOMAIN, slice_from_cstr("example.com") };

	assert_int_equal(peer_policy_parse("", &p, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_GREEN, &ip, 1, false, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_AMBER, &ip, 1, true, &d), TC_EPERM);
	assert_int_equal(peer_policy_parse("tlp=amber", &p, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_AMBER, &ip, 1, true, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_AMBER, &ip, 1, false, &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "sharing group"));
	assert_int_equal(peer_policy_admit(&p, &m, TLP_RED, &ip, 1, true, &d), TC_EPERM);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_AMBER_STRICT, &ip, 1, true, &d), TC_EPERM);
	assert_int_equal(peer_policy_parse("types=malware", &p, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_GREEN, &ip, 1, false, &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "type indicator"));
	assert_int_equal(peer_policy_parse("kinds=ipv4", &p, &d), TC_OK);
	assert_int_equal(peer_policy_admit(&p, &m, TLP_GREEN, &ip, 1, false, &d), TC_OK);
	struct store_obs both[2] = { ip, dom };
	assert_int_equal(peer_policy_admit(&p, &m, TLP_GREEN, both, 2, false, &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "kind domain"));

	json_t *o = json_pack("{s:s,s:s,s:s}", "id", m.id, "description", "x", "name", "n");
	assert_int_equal(peer_policy_parse("strip=description,labels", &p, &d), TC_OK);
	assert_int_equal(peer_policy_strip(&p, o), 1);
	assert_null(json_object_get(o, "description"));
	assert_non_null(json_object_get(o, "name"));
	json_decref(o);
}

/* ---- provenance ---- */

#define N_OBJ 3
static char dir[2][64];
static struct hubkey key[2];
static char hub_id[2][HUBKEY_ID_MAX];

static void
make_key(int i)
{
	struct hubkey_pub pub;
	struct diag d;
	snprintf(dir[i], sizeof dir[i], "/tmp/tocsin-peer-XXXXXX");
	assert_non_null(mkdtemp(dir[i]));
	assert_int_equal(hubkey_create(dir[i], &d), TC_OK);
	assert_int_equal(hubkey_load(dir[i], &key[i], &d), TC_OK);
	hubkey_pub_of(&key[i], &pub);
	hubkey_pub_id(&pub, hub_id[i]);
}

static void
rm_key(int i)
{
	char p[128];
	const char *names[] = { HUBKEY_FILE, HUBKEY_PUB_FILE, HUBKEY_HISTORY_FILE };
	for (size_t j = 0; j < 3; j++) {
		snprintf(p, sizeof p, "%s/%s", dir[i], names[j]);
		unlink(p);
	}
	rmdir(dir[i]);
	hubkey_wipe(&key[i]);
}

/* N_OBJ indicators signed as one batch by hub 0. */
static void
sign_batch(json_t *objs[N_OBJ])
{
	uint8_t leaves[N_OBJ][PROV_HASH_LEN], root[PROV_HASH_LEN];
	uint8_t proof[PROV_PROOF_MAX][PROV_HASH_LEN];
	struct prov_root r;
	struct diag d;
	for (int i = 0; i < N_OBJ; i++) {
		char id[128];
		snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
		objs[i] = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator",
		                    "spec_version", "2.1", "id", id, "created",
		                    "2026-01-01T00:00:00.000Z", "modified", "2026-01-01T00:00:00.000Z",
		                    "pattern", "[ipv4-addr:value = '192.0.2.1']", "pattern_type", "stix");
		assert_int_equal(prov_leaf_json(key[0].alg, objs[i], leaves[i], &d), TC_OK);
	}
	assert_int_equal(prov_merkle_root(key[0].alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, N_OBJ,
	                                  root, &d),
	                 TC_OK);
	assert_int_equal(prov_sign_root(&key[0], root, N_OBJ, 1796558400123456LL, &r, &d), TC_OK);
	for (int i = 0; i < N_OBJ; i++) {
		size_t len;
		assert_int_equal(prov_merkle_proof(key[0].alg, (const uint8_t(*)[PROV_HASH_LEN])leaves,
		                                   N_OBJ, (size_t)i, proof, &len, &d),
		                 TC_OK);
		assert_int_equal(prov_attach(objs[i], &r, (uint64_t)i,
		                             (const uint8_t(*)[PROV_HASH_LEN])proof, len, &d),
		                 TC_OK);
	}
}

static void
test_provenance(void **state)
{
	(void)state;
	struct prov_verifier *v = prov_verifier_new(0);
	json_t *objs[N_OBJ];
	struct prov_info info;
	struct diag d;
	const char *relay = "ed25519:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	assert_non_null(v);
	make_key(0); /* the origin, hub A */
	make_key(1); /* this hub */
	sign_batch(objs);

	/* a signed object passes, and the relaying peer joins its hops */
	assert_int_equal(peer_prov_check(v, objs[0], hub_id[1], relay, true, &info, &d), TC_OK);
	assert_string_equal(info.origin_hub, hub_id[0]);
	assert_int_equal(prov_verify_json(v, objs[0], &info, &d), TC_OK);
	assert_int_equal(info.n_hops, 1);
	assert_string_equal(info.hops[0], relay);
	/* received again from the same relay: not appended twice */
	assert_int_equal(peer_prov_check(v, objs[0], hub_id[1], relay, true, &info, &d), TC_OK);
	assert_int_equal(prov_verify_json(v, objs[0], &info, &d), TC_OK);
	assert_int_equal(info.n_hops, 1);
	/* from the origin itself: no hop */
	assert_int_equal(peer_prov_check(v, objs[1], hub_id[1], hub_id[0], true, &info, &d), TC_OK);
	assert_int_equal(prov_verify_json(v, objs[1], &info, &d), TC_OK);
	assert_int_equal(info.n_hops, 0);

	/* a loop: back at its origin, or at a hub that relayed it */
	assert_int_equal(peer_prov_check(v, objs[1], hub_id[0], relay, true, NULL, &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "loop"));
	assert_int_equal(peer_prov_check(v, objs[0], relay, hub_id[1], true, NULL, &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "loop"));

	/* tampered: changed after signing */
	json_t *t = json_deep_copy(objs[2]);
	json_object_set_new(t, "pattern", json_string("[ipv4-addr:value = '192.0.2.99']"));
	assert_int_equal(peer_prov_check(v, t, hub_id[1], relay, true, &info, &d), TC_EPERM);
	assert_int_equal(info.fault, PROV_WRONG_PROOF);
	assert_non_null(strstr(d.msg, "provenance"));
	json_decref(t);

	/* replayed: object 2's content with object 1's proof */
	json_t *rp = json_deep_copy(objs[2]);
	json_t *ext1 = json_object_get(json_object_get(objs[1], "extensions"), PROV_EXT_ID);
	json_object_set_new(json_object_get(rp, "extensions"), PROV_EXT_ID, json_deep_copy(ext1));
	assert_int_equal(peer_prov_check(v, rp, hub_id[1], NULL, true, &info, &d), TC_EPERM);
	assert_int_equal(info.fault, PROV_WRONG_PROOF);
	json_decref(rp);

	/* missing: refused when required, admitted unchanged otherwise */
	json_t *bare = json_pack("{s:s,s:s}", "type", "indicator", "id",
	                         "indicator--00000000-0000-4000-8000-000000000009");
	assert_int_equal(peer_prov_check(v, bare, hub_id[1], relay, true, &info, &d), TC_EPERM);
	assert_int_equal(info.fault, PROV_MISSING);
	assert_non_null(strstr(d.msg, "missing"));
	assert_int_equal(peer_prov_check(v, bare, hub_id[1], relay, false, NULL, &d), TC_OK);
	assert_null(json_object_get(bare, "extensions"));
	json_decref(bare);

	/* pins as hub ids */
	char id[HUBKEY_ID_MAX];
	char line[HUBKEY_ID_MAX];
	struct hubkey_pub pub;
	hubkey_pub_of(&key[0], &pub);
	hubkey_pub_line(&pub, line);
	assert_int_equal(peer_hub_id(line, id), TC_OK);
	assert_string_equal(id, hub_id[0]);
	assert_int_equal(peer_hub_id(hub_id[0], id), TC_OK);
	assert_string_equal(id, hub_id[0]);
	assert_int_equal(peer_hub_id("none", id), TC_OK);
	assert_string_equal(id, "");
	assert_int_equal(peer_hub_id("ed25519 xyz", id), TC_EINVAL);

	for (int i = 0; i < N_OBJ; i++)
		json_decref(objs[i]);
	prov_verifier_free(v);
	rm_key(0);
	rm_key(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_policy_admit),
		cmocka_unit_test(test_provenance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
