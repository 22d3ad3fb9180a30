/* Unit tests of the Merkle tree (lib/prov/prov.c): the root equals RFC
 * 6962's recursive definition for 1..33 leaves, every leaf's proof verifies,
 * and a changed leaf, index, count, proof or root does not. Both hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prov/prov.h"

/* RFC 6962 §2.1 MTH, literally. */
static void
mth(enum hubkey_alg alg, uint8_t (*leaves)[PROV_HASH_LEN], size_t n, uint8_t out[PROV_HASH_LEN])
{
	size_t k = 1;
	uint8_t m[1 + 2 * PROV_HASH_LEN];
	if (n == 1) {
		memcpy(out, leaves[0], PROV_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	m[0] = 1;
	mth(alg, leaves, k, m + 1);
	mth(alg, leaves + k, n - k, m + 1 + PROV_HASH_LEN);
	prov_hash(alg, m, sizeof(m), out);
}

static void
run(enum hubkey_alg alg)
{
	uint8_t leaves[33][PROV_HASH_LEN], root[PROV_HASH_LEN], want[PROV_HASH_LEN];
	uint8_t proof[PROV_PROOF_MAX][PROV_HASH_LEN];
	struct diag d;

	for (size_t i = 0; i < 33; i++) {
		uint8_t m[9] = { 0 };
		m[1] = (uint8_t)i;
		prov_hash(alg, m, sizeof(m), leaves[i]);
	}
	for (size_t n = 1; n <= 33; n++) {
		assert_int_equal(prov_merkle_root(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, n, root, &d),
		                 TC_OK);
		mth(alg, leaves, n, want);
		assert_memory_equal(root, want, PROV_HASH_LEN);
		{
			struct prov_tree *t;
			uint8_t tr[PROV_HASH_LEN];
			assert_int_equal(prov_tree_new(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, n, &t, &d),
			                 TC_OK);
			prov_tree_root(t, tr);
			assert_memory_equal(tr, want, PROV_HASH_LEN);
			for (size_t i = 0; i < n; i++) {
				uint8_t tp[PROV_PROOF_MAX][PROV_HASH_LEN];
				size_t tl = prov_tree_proof(t, i, tp);
				assert_true(prov_merkle_verify(alg, leaves[i], i, n,
				                               (const uint8_t(*)[PROV_HASH_LEN])tp, tl, root));
			}
			prov_tree_free(t);
		}
		for (size_t i = 0; i < n; i++) {
			size_t len;
			uint8_t bad[PROV_HASH_LEN];
			assert_int_equal(prov_merkle_proof(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, n, i,
			                                   proof, &len, &d),
			                 TC_OK);
			assert_true(prov_merkle_verify(alg, leaves[i], i, n,
			                               (const uint8_t(*)[PROV_HASH_LEN])proof, len, root));
			/* another leaf with this proof */
			if (n > 1)
				assert_false(prov_merkle_verify(alg, leaves[(i + 1) % n], i, n,
				                                 (const uint8_t(*)[PROV_HASH_LEN])proof, len,
				                                 root));
			/* another index (the count is covered by the signature) */
			if (n > 1)
				assert_false(prov_merkle_verify(alg, leaves[i], (i + 1) % n, n,
				                                 (const uint8_t(*)[PROV_HASH_LEN])proof, len,
				                                 root));
			/* a flipped bit in the leaf, a proof entry, the root */
			memcpy(bad, leaves[i], PROV_HASH_LEN);
			bad[0] ^= 1;
			assert_false(prov_merkle_verify(alg, bad, i, n,
			                                (const uint8_t(*)[PROV_HASH_LEN])proof, len, root));
			if (len) {
				proof[len - 1][5] ^= 0x10;
				assert_false(prov_merkle_verify(alg, leaves[i], i, n,
				                                (const uint8_t(*)[PROV_HASH_LEN])proof, len,
				                                root));
				proof[len - 1][5] ^= 0x10;
				/* a shortened or lengthened proof */
				assert_false(prov_merkle_verify(alg, leaves[i], i, n,
				                                (const uint8_t(*)[PROV_HASH_LEN])proof, len - 1,
				                                root));
			}
			memcpy(proof[len], leaves[0], PROV_HASH_LEN);
			assert_false(prov_merkle_verify(alg, leaves[i], i, n,
			                                (const uint8_t(*)[PROV_HASH_LEN])proof, len + 1, root));
			memcpy(bad, root, PROV_HASH_LEN);
			bad[31] ^= 0x80;
			assert_false(prov_merkle_verify(alg, leaves[i], i, n,
			                                (const uint8_t(*)[PROV_HASH_LEN])proof, len, bad));
		}
		/* an index past the end */
		assert_false(prov_merkle_verify(alg, leaves[0], n, n,
		                                (const uint8_t(*)[PROV_HASH_LEN])proof, 0, root));
	}
	assert_int_equal(prov_merkle_root(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, 0, root, &d),
	                 TC_EINVAL);
}

static void
test_sha256(void **state)
{
	(void)state;
	run(HUBKEY_ED25519);
}

static void
test_streebog(void **state)
{
	(void)state;
	run(HUBKEY_GOST2012_256);
}

/* The hashes are what their standards say. */
static void
test_hash_vectors(void **state)
{
	uint8_t h[PROV_HASH_LEN];
	/* SHA-256("abc") */
	static const uint8_t sha[] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea };
	/* GOST R 34.11-2012 256-bit, example M1 ("012345678901234567890123456789012345678901234567890123456789012") */
	static const uint8_t gost[] = { 0x9d, 0x15, 0x1e, 0xef, 0xd8, 0x59, 0x0b, 0x89 };
	(void)state;
	prov_hash(HUBKEY_ED25519, "abc", 3, h);
	assert_memory_equal(h, sha, sizeof(sha));
	prov_hash(HUBKEY_GOST2012_256,
	          "012345678901234567890123456789012345678901234567890123456789012", 63, h);
	assert_memory_equal(h, gost, sizeof(gost));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_streebog),
		cmocka_unit_test(test_hash_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
