/*
 * bench_prov.c — provenance verification objects/s (issue 12; DESIGN §8
 * target >= 200,000 on 2 cores).
 *
 * Generates --count generator objects (bench/gen.c: indicators and the
 * objects around them), signs them in batches of --batch as the origin hub
 * does (leaf per object, Merkle root, one signature per batch), attaches
 * each object's provenance and serialises it. Then --threads threads share
 * one prov_verifier and verify every object from its JSON text, as a peer
 * hub does on receipt: parse, canonicalise without the extension, leaf
 * hash, proof, and the batch signature (checked once per batch, then
 * cached). Prints the figure by wall clock and by CPU time.
 *
 *   bench_prov [--count N] [--batch N] [--threads N] [--alg ed25519|gost2012-256]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "gen.h"
#include "prov/prov.h"

#define TARGET 200000.0

struct job {
	struct prov_verifier *v;
	char **texts;
	size_t *lens;
	size_t from, to;
	size_t failed;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct diag d;
	for (size_t i = j->from; i < j->to; i++)
		if (prov_verify(j->v, j->texts[i], j->lens[i], NULL, &d) != TC_OK) {
			if (!j->failed)
				fprintf(stderr, "bench_prov: object %zu: %s\n", i, d.msg);
			j->failed++;
		}
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t count = 200000, batch = 1000, threads = 2;
	enum hubkey_alg alg = HUBKEY_ED25519;
	char dir[] = "/tmp/tocsin-bench-prov-XXXXXX", num[BENCH_NUM_MAX], p[600];
	struct hubkey k;
	struct diag d;
	struct gen g;
	struct buf text, line;
	char **texts;
	size_t *lens, n = 0, failed = 0, bytes = 0;
	uint8_t (*leaves)[PROV_HASH_LEN];
	uint8_t proof[PROV_PROOF_MAX][PROV_HASH_LEN];
	json_t **objs;
	double t0, c0, wall, cpu;
	struct prov_verifier *v;
	uint64_t checks, hits;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--count") == 0 && bench_parse_count(argv[i + 1], &count))
			i++;
		else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0 &&
		         bench_parse_count(argv[i + 1], &batch) && batch > 0)
			i++;
		else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0 &&
		         bench_parse_count(argv[i + 1], &threads) && threads > 0 && threads <= 64)
			i++;
		else if (i + 1 < argc && strcmp(argv[i], "--alg") == 0 &&
		         hubkey_alg_parse(argv[i + 1], strlen(argv[i + 1]), &alg))
			i++;
		else {
			fprintf(stderr, "usage: bench_prov [--count N] [--batch N] [--threads N] "
			                "[--alg ed25519|gost2012-256]\n");
			return 2;
		}
	}
	if (!mkdtemp(dir) || hubkey_create_alg(dir, alg, &d) || hubkey_load(dir, &k, &d)) {
		fprintf(stderr, "bench_prov: key: %s\n", d.msg);
		return 1;
	}
	snprintf(p, sizeof(p), "%s/%s", dir, HUBKEY_FILE);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", dir, HUBKEY_PUB_FILE);
	unlink(p);
	rmdir(dir);

	texts = calloc(count, sizeof(*texts));
	lens = calloc(count, sizeof(*lens));
	leaves = calloc(batch, sizeof(*leaves));
	objs = calloc(batch, sizeof(*objs));
	if (!texts || !lens || !leaves || !objs)
		return 1;
	gen_init(&g, 12, GEN_JSONL);
	buf_init(&text, 0);
	buf_init(&line, 0);
	fprintf(stderr, "bench_prov: signing %s objects in batches of %llu (%s)\n",
	        bench_fmt(count, num), (unsigned long long)batch, hubkey_alg_name(alg));
	while (n < count) {
		size_t m = 0;
		uint8_t root[PROV_HASH_LEN];
		struct prov_root r;
		while (m < batch && n + m < count) {
			json_error_t je;
			buf_clear(&line);
			gen_next(&g, &line);
			objs[m] = json_loadb(line.p, line.len, 0, &je);
			if (!objs[m] || prov_leaf_json(alg, objs[m], leaves[m], &d)) {
				fprintf(stderr, "bench_prov: generator object: %s\n", objs[m] ? d.msg : je.text);
				return 1;
			}
			m++;
		}
		struct prov_tree *tree;
		if (prov_tree_new(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, m, &tree, &d))
			return 1;
		prov_tree_root(tree, root);
		if (prov_sign_root(&k, root, m, 1796558400000000LL + (int64_t)n, &r, &d))
			return 1;
		for (size_t i = 0; i < m; i++) {
			size_t plen = prov_tree_proof(tree, i, proof);
			if (prov_attach(objs[i], &r, i, (const uint8_t(*)[PROV_HASH_LEN])proof, plen, &d))
				return 1;
			texts[n + i] = json_dumps(objs[i], JSON_COMPACT);
			lens[n + i] = strlen(texts[n + i]);
			bytes += lens[n + i];
			json_decref(objs[i]);
		}
		prov_tree_free(tree);
		n += m;
	}
	hubkey_wipe(&k);

	v = prov_verifier_new(0);
	{
		pthread_t th[64];
		struct job jobs[64];
		t0 = bench_now();
		c0 = bench_cpu();
		for (size_t t = 0; t < threads; t++) {
			jobs[t] = (struct job){ v, texts, lens, n * t / threads, n * (t + 1) / threads, 0 };
			pthread_create(&th[t], NULL, worker, &jobs[t]);
		}
		for (size_t t = 0; t < threads; t++) {
			pthread_join(th[t], NULL);
			failed += jobs[t].failed;
		}
		wall = bench_now() - t0;
		cpu = bench_cpu() - c0;
	}
	prov_verifier_stats(v, &checks, &hits);
	printf("objects: %s, %.0f bytes each on average, batches of %llu, %llu threads, %s\n",
	       bench_fmt(n, num), (double)bytes / (double)n, (unsigned long long)batch,
	       (unsigned long long)threads, hubkey_alg_name(alg));
	printf("signature checks: %llu, cache hits: %llu, refused: %zu\n", (unsigned long long)checks,
	       (unsigned long long)hits, failed);
	printf("per core (CPU time): %s objects/s\n", bench_fmt((uint64_t)((double)n / cpu), num));
	bench_verdict(alg == HUBKEY_ED25519 ? "provenance verification"
	                                    : "provenance verification (gost2012-256)",
	              (double)n / wall, "objects/s", TARGET, false);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	free(leaves);
	free(objs);
	buf_reset(&text);
	buf_reset(&line);
	gen_free(&g);
	prov_verifier_free(v);
	return failed ? 1 : 0;
}
