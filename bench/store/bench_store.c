/*
 * bench_store.c — how fast the log store appends indicator versions.
 *
 * Appends TOTAL new indicator versions (about 600 bytes of JSON and one or
 * two observables each, as the ingest path produces them) in batches of
 * BATCH into a fresh store, then prints "store append: N versions/s".
 * Target (DESIGN §8 ingest ≥ 100,000 indicators/s end to end): the store
 * alone ≥ 200,000 versions/s into SQLite. Bounded: at most a few seconds.
 *
 * Usage: bench_store [SPEC [TOTAL [BATCH]]]   SPEC defaults to a temporary
 * SQLite file that is removed afterwards; "memory:" measures the memory
 * backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/timestamp.h"

#define DEFAULT_TOTAL 300000
#define DEFAULT_BATCH 10000
#define TOTAL_MAX 10000000

struct item {
	struct stix_meta meta;
	char json[700];
	char val[2][64];
	struct store_obs obs[2];
};

static double
clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill(struct item *it, struct store_obj_in *in, uint64_t k, int64_t coll)
{
	static const int64_t t0 = 1700000000000000LL;
	memset(&it->meta, 0, sizeof it->meta);
	snprintf(it->meta.type, sizeof it->meta.type, "indicator");
	/* pseudo-random uuid tail so ids do not arrive in index order */
	uint64_t h = k * 0x9E3779B97F4A7C15ull;
	snprintf(it->meta.id, sizeof it->meta.id,
	         "indicator--%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(h >> 32),
	         (unsigned)(h >> 16) & 0xffff, (unsigned)(h >> 4) & 0xfff, (unsigned)h & 0xfff,
	         (unsigned long long)(k & 0xffffffffffffull));
	snprintf(it->meta.spec_version, sizeof it->meta.spec_version, "2.1");
	it->meta.version_us = t0 + (int64_t)k;
	ts_format(it->meta.version_us, 3, it->meta.version);
	it->meta.tlp = TLP_GREEN;
	it->meta.valid_until_us = t0 + 86400000000LL;
	snprintf(it->val[0], sizeof it->val[0], "host%llu.evil%llu.example",
	         (unsigned long long)k, (unsigned long long)(k % 977));
	snprintf(it->val[1], sizeof it->val[1], "198.51.%llu.%llu",
	         (unsigned long long)(k >> 8) & 255, (unsigned long long)k & 255);
	int len = snprintf(
		it->json, sizeof it->json,
		"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\","
		"\"created\":\"%s\",\"modified\":\"%s\",\"name\":\"Phishing host %llu\","
		"\"description\":\"Host seen serving a credential phishing kit that imitates a "
		"national bank login page; reported by several operators.\","
		"\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[domain-name:value = "
		"'%s'] OR [ipv4-addr:value = '%s']\",\"pattern_type\":\"stix\","
		"\"valid_from\":\"%s\",\"valid_until\":\"2023-11-15T22:13:20.000Z\","
		"\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
		"\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-"
		"dfca5abac2bb\"]}",
		it->meta.id, it->meta.version, it->meta.version, (unsigned long long)k, it->val[0],
		it->val[1], it->meta.version);
	if (len < 0 || (size_t)len >= sizeof it->json)
		len = (int)sizeof it->json - 1;
	it->obs[0] = (struct store_obs){ OBS_DOMAIN, slice_from_cstr(it->val[0]) };
	it->obs[1] = (struct store_obs){ OBS_IPV4, slice_from_cstr(it->val[1]) };
	*in = (struct store_obj_in){
		.json = slice_make(it->json, (size_t)len),
		.meta = &it->meta,
		.collection = coll,
		.obs = it->obs,
		.nobs = 1 + (k & 1),
		.producer = 1,
	};
}

int
main(int argc, char **argv)
{
	char tmp[] = "/tmp/tocsin-bench-store-XXXXXX";
	char spec[128];
	const char *sp = argc > 1 ? argv[1] : NULL;
	long total = argc > 2 ? strtol(argv[2], NULL, 10) : DEFAULT_TOTAL;
	long batch = argc > 3 ? strtol(argv[3], NULL, 10) : DEFAULT_BATCH;
	if (total <= 0 || total > TOTAL_MAX || batch <= 0 || batch > STORE_BATCH_MAX) {
		fprintf(stderr, "usage: bench_store [SPEC [TOTAL<=%d [BATCH]]]\n", TOTAL_MAX);
		return 2;
	}
	bool own = sp == NULL;
	if (own) {
		int fd = mkstemp(tmp);
		if (fd < 0) {
			perror("mkstemp");
			return 1;
		}
		close(fd);
		unlink(tmp);
		snprintf(spec, sizeof spec, "sqlite:%s", tmp);
		sp = spec;
	}
	struct store *s = NULL;
	struct diag d;
	struct store_collection c;
	if (store_open(sp, &s, &d) ||
	    store_collection_add(s, "bench", NULL, NULL, NULL, &c, &d)) {
		fprintf(stderr, "bench_store: %s\n", d.msg);
		return 1;
	}
	struct item *items = calloc((size_t)batch, sizeof *items);
	struct store_obj_in *in = calloc((size_t)batch, sizeof *in);
	struct store_append_out *out = calloc((size_t)batch, sizeof *out);
	if (!items || !in || !out) {
		fprintf(stderr, "bench_store: out of memory\n");
		return 1;
	}
	double spent = 0, cpu = 0, json_bytes = 0;
	long done = 0;
	int rc = 0;
	while (done < total) {
		long n = total - done < batch ? total - done : batch;
		for (long i = 0; i < n; i++) {
			fill(&items[i], &in[i], (uint64_t)(done + i), c.num);
			json_bytes += (double)in[i].json.len;
		}
		double t = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (store_append(s, in, (size_t)n, out, NULL, NULL, &d)) {
			fprintf(stderr, "bench_store: %s\n", d.msg);
			rc = 1;
			break;
		}
		spent += clock_s(CLOCK_MONOTONIC) - t;
		cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		done += n;
	}
	if (!rc) {
		printf("store append: %.0f versions/s (%ld versions in batches of %ld, %.0f bytes "
		       "JSON avg, %s)\n",
		       (double)done / spent, done, batch, json_bytes / (double)done, sp);
		printf("store append cpu: %.0f versions per CPU second (wall includes fsync and "
		       "other load)\n",
		       (double)done / cpu);
		printf("target: >= 200000 versions/s into SQLite\n");
	}
	store_close(s);
	if (own) {
		char p[160];
		unlink(tmp);
		snprintf(p, sizeof p, "%s-wal", tmp);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", tmp);
		unlink(p);
	}
	free(items);
	free(in);
	free(out);
	return rc;
}
