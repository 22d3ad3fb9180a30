/* Unit tests of hub keys and batch provenance (lib/crypto/hubkey.c,
 * lib/prov/prov.c) with both algorithms: a signed batch verifies object by
 * object with one signature check; a tampered object, a replayed proof, a
 * changed signed field, a bad signature, an unknown algorithm and a
 * missing extension are each refused with their own fault; a rotated key
 * stays listed so old signatures still verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "prov/prov.h"

#define N_OBJ 7

static char dir[256];

static void
fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tocsin-prov-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
rm_dir(void)
{
	char p[512];
	const char *names[] = { HUBKEY_FILE, HUBKEY_PUB_FILE, HUBKEY_HISTORY_FILE };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* Signs N_OBJ indicators as one batch. OUT: texts[i] (free()). */
static void
sign_batch(const struct hubkey *k, char *texts[N_OBJ])
{
	json_t *objs[N_OBJ];
	uint8_t leaves[N_OBJ][PROV_HASH_LEN], root[PROV_HASH_LEN];
	uint8_t proof[PROV_PROOF_MAX][PROV_HASH_LEN];
	struct prov_root r;
	struct diag d;

	for (int i = 0; i < N_OBJ; i++) {
		char id[128];
		snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", i);
		objs[i] = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:{s:{s:s}}}", "type", "indicator",
		                    "spec_version", "2.1", "id", id, "created", "2026-01-01T00:00:00.000Z",
		                    "modified", "2026-01-01T00:00:00.000Z", "pattern",
		                    "[ipv4-addr:value = '192.0.2.1']", "pattern_type", "stix", "x_score",
		                    0.5 + i, "extensions", "extension-definition--1", "k", "v\u00e9");
		assert_non_null(objs[i]);
		assert_int_equal(prov_leaf_json(k->alg, objs[i], leaves[i], &d), TC_OK);
	}
	assert_int_equal(prov_merkle_root(k->alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, N_OBJ, root, &d),
	                 TC_OK);
	assert_int_equal(prov_sign_root(k, root, N_OBJ, 1796558400123456LL, &r, &d), TC_OK);
	assert_string_equal(r.signed_at, "2026-12-06T12:00:00.123456Z");
	for (int i = 0; i < N_OBJ; i++) {
		size_t len;
		assert_int_equal(prov_merkle_proof(k->alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, N_OBJ,
		                                   (size_t)i, proof, &len, &d),
		                 TC_OK);
		assert_int_equal(prov_attach(objs[i], &r, (uint64_t)i,
		                             (const uint8_t(*)[PROV_HASH_LEN])proof, len, &d),
		                 TC_OK);
		/* attaching does not change the leaf */
		{
			uint8_t again[PROV_HASH_LEN];
			assert_int_equal(prov_leaf_json(k->alg, objs[i], again, &d), TC_OK);
			assert_memory_equal(again, leaves[i], PROV_HASH_LEN);
		}
		texts[i] = json_dumps(objs[i], JSON_INDENT(1)); /* any layout verifies */
		json_decref(objs[i]);
	}
}

static enum prov_fault
verify_text(struct prov_verifier *v, const char *t)
{
	struct prov_info info;
	struct diag d;
	enum tcerr rc = prov_verify(v, t, strlen(t), &info, &d);
	assert_true((rc == TC_OK) == (info.fault == PROV_OK));
	if (rc)
		assert_non_null(strstr(d.msg, prov_fault_str(info.fault)));
	return info.fault;
}

/* Replaces the first occurrence of from by to in s (same length or not). */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;
	assert_non_null(at);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

static void
run(enum hubkey_alg alg)
{
	struct hubkey k;
	struct hubkey_pub pub;
	struct prov_verifier *v = prov_verifier_new(0);
	char *t[N_OBJ], *bad, id[HUBKEY_ID_MAX];
	uint64_t checks, hits;
	struct diag d;
	json_t *o, *ext;

	fresh_dir();
	assert_int_equal(hubkey_create_alg(dir, alg, &d), TC_OK);
	assert_int_equal(hubkey_load(dir, &k, &d), TC_OK);
	assert_int_equal(k.alg, alg);
	assert_int_equal(hubkey_load_pub(dir, &pub, &d), TC_OK);
	assert_int_equal(pub.alg, alg);
	assert_memory_equal(pub.pk, k.pk, k.pk_len);
	hubkey_pub_id(&pub, id);
	sign_batch(&k, t);

	for (int i = 0; i < N_OBJ; i++) {
		struct prov_info info;
		assert_int_equal(prov_verify(v, t[i], strlen(t[i]), &info, &d), TC_OK);
		assert_string_equal(info.origin_hub, id);
		assert_int_equal(info.leaf_index, (uint64_t)i);
		assert_int_equal(info.leaf_count, N_OBJ);
	}
	prov_verifier_stats(v, &checks, &hits);
	assert_int_equal(checks, 1); /* one signature check for the batch */
	assert_int_equal(hits, N_OBJ - 1);

	/* tampered: a property changed after signing */
	bad = replace(t[2], "192.0.2.1", "192.0.2.9");
	assert_int_equal(verify_text(v, bad), PROV_WRONG_PROOF);
	free(bad);
	/* replayed: object 3's provenance on object 2 */
	o = json_loads(t[2], 0, NULL);
	{
		json_t *o3 = json_loads(t[3], 0, NULL);
		ext = json_object_get(json_object_get(o3, "extensions"), PROV_EXT_ID);
		json_object_set(json_object_get(o, "extensions"), PROV_EXT_ID, ext);
		json_decref(o3);
	}
	bad = json_dumps(o, 0);
	assert_int_equal(verify_text(v, bad), PROV_WRONG_PROOF);
	free(bad);
	json_decref(o);
	/* a signed field changed: leaf_count, signed_at */
	o = json_loads(t[0], 0, NULL);
	ext = json_object_get(json_object_get(o, "extensions"), PROV_EXT_ID);
	json_object_set_new(ext, "signed_at", json_string("2026-12-06T12:00:01.123456Z"));
	bad = json_dumps(o, 0);
	assert_int_equal(verify_text(v, bad), PROV_BAD_SIGNATURE);
	free(bad);
	/* the signature of another key */
	{
		struct hubkey k2;
		char other[256], *ot[N_OBJ];
		snprintf(other, sizeof(other), "%s", dir);
		rm_dir();
		fresh_dir();
		assert_int_equal(hubkey_create_alg(dir, alg, &d), TC_OK);
		assert_int_equal(hubkey_load(dir, &k2, &d), TC_OK);
		sign_batch(&k2, ot);
		json_t *o2 = json_loads(ot[0], 0, NULL);
		json_t *e2 = json_object_get(json_object_get(o2, "extensions"), PROV_EXT_ID);
		json_object_set_new(e2, "origin_hub", json_string(id)); /* claims the first hub */
		bad = json_dumps(o2, 0);
		assert_int_equal(verify_text(v, bad), PROV_BAD_SIGNATURE);
		free(bad);
		json_decref(o2);
		for (int i = 0; i < N_OBJ; i++)
			free(ot[i]);
		hubkey_wipe(&k2);
	}
	/* hops are not signed: a relay appends itself */
	json_decref(o);
	o = json_loads(t[1], 0, NULL);
	assert_int_equal(prov_add_hop(o, id, &d), TC_OK);
	bad = json_dumps(o, 0);
	{
		struct prov_info info;
		assert_int_equal(prov_verify(v, bad, strlen(bad), &info, &d), TC_OK);
		assert_int_equal(info.n_hops, 1);
		assert_string_equal(info.hops[0], id);
	}
	free(bad);
	assert_int_equal(prov_add_hop(o, "rsa:00", &d), TC_EINVAL);
	json_decref(o);
	/* unknown algorithm, malformed, missing */
	bad = replace(t[0], hubkey_alg_name(alg), "rsa4096");
	assert_int_equal(verify_text(v, bad), PROV_UNKNOWN_ALG);
	free(bad);
	bad = replace(t[0], "\"leaf_index\": 0", "\"leaf_index\": \"0\"");
	assert_int_equal(verify_text(v, bad), PROV_MALFORMED);
	free(bad);
	assert_int_equal(verify_text(v, "{\"type\":\"indicator\"}"), PROV_MISSING);
	assert_int_equal(verify_text(v, "{\"type\":"), PROV_MALFORMED);

	for (int i = 0; i < N_OBJ; i++)
		free(t[i]);
	hubkey_wipe(&k);
	prov_verifier_free(v);
	rm_dir();
}

static void
test_ed25519(void **state)
{
	(void)state;
	run(HUBKEY_ED25519);
}

static void
test_gost(void **state)
{
	(void)state;
	run(HUBKEY_GOST2012_256);
}

/* Rotation lists the old key; a signature made before verifies with it. */
static void
test_rotate(void **state)
{
	struct hubkey k, k2;
	struct hubkey_pub *hist, pub;
	size_t n;
	uint8_t sig[HUBKEY_SIG_LEN];
	struct diag d;
	char fpr[HUBKEY_FPR_MAX];
	(void)state;

	fresh_dir();
	assert_int_equal(hubkey_create(dir, &d), TC_OK);
	assert_int_equal(hubkey_create(dir, &d), TC_EEXIST);
	assert_int_equal(hubkey_load(dir, &k, &d), TC_OK);
	hubkey_sign(&k, "m", 1, sig);
	assert_int_equal(hubkey_history(dir, &hist, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hubkey_rotate(dir, HUBKEY_GOST2012_256, &d), TC_OK);
	assert_int_equal(hubkey_load(dir, &k2, &d), TC_OK);
	assert_int_equal(k2.alg, HUBKEY_GOST2012_256);
	assert_int_equal(hubkey_load_pub(dir, &pub, &d), TC_OK);
	assert_int_equal(pub.len, 64);
	assert_false(hubkey_pub_verify(&pub, "m", 1, sig));
	assert_int_equal(hubkey_history(dir, &hist, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hist[0].alg, HUBKEY_ED25519);
	assert_memory_equal(hist[0].pk, k.pk, HUBKEY_PK_LEN);
	assert_true(hubkey_pub_verify(&hist[0], "m", 1, sig));
	assert_false(hubkey_pub_verify(&hist[0], "n", 1, sig));
	free(hist);
	hubkey_fingerprint(&pub, fpr);
	assert_int_equal(strlen(fpr), 7 + 64);
	assert_int_equal(hubkey_rotate(dir, HUBKEY_ED25519, &d), TC_OK);
	assert_int_equal(hubkey_history(dir, &hist, &n, &d), TC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(hist[1].alg, HUBKEY_GOST2012_256);
	free(hist);
	hubkey_wipe(&k);
	hubkey_wipe(&k2);
	rm_dir();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_gost),
		cmocka_unit_test(test_rotate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
