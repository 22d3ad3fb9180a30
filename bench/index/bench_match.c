/*
 * bench_match.c — the match index at national-hub scale (DESIGN §8).
 *
 * Builds an index of --count indicators (default 10M) generated from a
 * seed, so every run sees the same data: 60% IPv4 addresses, 25% domains,
 * 10% URLs, 5% SHA-256 hashes, plus 1% more as IPv4 networks (mostly /24,
 * some /16-/23 and /25-/31, a few /14-/15). Reports the build time, the
 * memory per indicator (index_memory and the RSS growth), and lookups per
 * second on one thread over --queries queries (default 10M) of the same
 * kind mix, half of them hits (half of the domain hits are a subdomain of
 * an indicator) and half misses, then all misses; each through
 * index_lookup one at a time and through index_lookup_batch. The queries
 * are generated before the clock starts. Invariant: hit queries name
 * generated indicators; miss queries cannot equal one (disjoint name and
 * address spaces), though a miss address may fall in a network.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index/index.h"

#define DEFAULT_COUNT 10000000
#define DEFAULT_QUERIES 10000000
#define TARGET_LOOKUPS 5e6
#define TARGET_BYTES 100.0
#define BATCH 1024
#define NOW_US (1800000000LL * 1000000)

static const char *tlds[] = { "com", "ru", "net", "org", "info", "xyz", "top", "su" };

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double
clock_s(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this thread: "per core" figures do not count the time the
 * machine's other work (2 cores, shared) keeps this thread off a core. */
static double
now_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static double
wall_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static long
rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

/* Kind of indicator i (per 100): 60 ipv4, 25 domain, 10 url, 5 sha256. */
static enum obs_kind
kind_of(uint64_t r)
{
	unsigned k = (unsigned)(r % 100);
	return k < 60 ? OBS_IPV4 : k < 85 ? OBS_DOMAIN : k < 95 ? OBS_URL : OBS_SHA256;
}

/* Writes value number i of kind k into out (space "h" for indicators, "m"
 * for misses). Returns its length. */
static int
gen_value(uint64_t seed, uint64_t i, enum obs_kind k, bool miss, char *out, size_t cap)
{
	uint64_t r = mix64(seed ^ mix64(i * 4 + (miss ? 1 : 0)));
	int n;
	switch (k) {
	case OBS_IPV4: {
		/* indicators have an even last octet, misses an odd one */
		uint32_t a = (uint32_t)r;
		a = (a & ~1u) | (miss ? 1u : 0u);
		n = snprintf(out, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		             a & 255);
		break;
	}
	case OBS_DOMAIN:
		n = snprintf(out, cap, "%c%" PRIx64 ".%s", miss ? 'm' : 'h', r >> 20,
		             tlds[(r >> 8) % 8]);
		break;
	case OBS_URL:
		n = snprintf(out, cap, "http://%c%" PRIx64 ".%s/p/%" PRIx64 "/index.php?id=%u",
		             miss ? 'm' : 'h', r >> 28, tlds[(r >> 8) % 8], mix64(r) >> 24,
		             (unsigned)(r & 0xffff));
		break;
	default: {
		uint64_t a = mix64(r), b = mix64(a), c = mix64(b);
		n = snprintf(out, cap, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64,
		             r, a, b, c ^ (miss ? 1 : 0));
	}
	}
	return n > 0 && (size_t)n < cap ? n : 0;
}

/* Network number i. */
static int
gen_net(uint64_t seed, uint64_t i, char *out, size_t cap)
{
	uint64_t r = mix64(seed ^ mix64(i * 4 + 2));
	unsigned p = (unsigned)(r % 1000), len;
	if (p < 700)
		len = 24;
	else if (p < 900)
		len = 16 + (unsigned)((r >> 10) % 8);
	else if (p < 990)
		len = 25 + (unsigned)((r >> 10) % 7);
	else
		len = 14 + (unsigned)((r >> 10) % 2);
	uint32_t a = (uint32_t)(r >> 32);
	a &= len ? ~(uint32_t)0 << (32 - len) : 0;
	int n = snprintf(out, cap, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
	                 a & 255, len);
	return n > 0 && (size_t)n < cap ? n : 0;
}

struct qset {
	struct index_query *q;
	char *arena;
	size_t n;
};

/* Generates n queries; hit_pct of them name indicators. */
static int
gen_queries(struct qset *qs, uint64_t seed, size_t count, size_t n, unsigned hit_pct)
{
	qs->n = n;
	qs->q = malloc(n * sizeof *qs->q);
	qs->arena = malloc(n * 128);
	if (!qs->q || !qs->arena)
		return -1;
	char *p = qs->arena;
	for (size_t j = 0; j < n; j++) {
		uint64_t r = mix64(seed * 31 + j + ((uint64_t)hit_pct << 40));
		bool hit = r % 100 < hit_pct;
		uint64_t i = hit ? (r >> 8) % count : r >> 8;
		enum obs_kind k = kind_of(mix64(seed + i));
		char *start = p;
		if (k == OBS_DOMAIN && (r >> 4) % 2) {
			memcpy(p, "www.", 4); /* a subdomain: a parent-domain hit or miss */
			p += 4;
		}
		int len = gen_value(seed, i, k, !hit, p, 120);
		p += len;
		qs->q[j] = (struct index_query){ k, slice_make(start, (size_t)(p - start)) };
	}
	return 0;
}

static void
qset_free(struct qset *qs)
{
	free(qs->q);
	free(qs->arena);
}

/* Runs the queries one by one or in batches; returns lookups per CPU
 * second. OUT: *found, *wall_rate (lookups per wall-clock second). */
static double
run(const struct index *idx, const struct qset *qs, bool batch, size_t *found,
    size_t *matched, double *wall_rate)
{
	struct index_hit hits[BATCH * 4];
	size_t counts[BATCH];
	size_t total = 0, with = 0;
	double w0 = wall_s();
	double t0 = now_s();
	if (batch) {
		for (size_t j = 0; j < qs->n; j += BATCH) {
			size_t m = qs->n - j < BATCH ? qs->n - j : BATCH;
			total += index_lookup_batch(idx, qs->q + j, m, NOW_US, hits,
			                            sizeof hits / sizeof hits[0], counts);
			for (size_t i = 0; i < m; i++)
				with += counts[i] > 0;
		}
	} else {
		for (size_t j = 0; j < qs->n; j++) {
			size_t n = index_lookup(idx, qs->q[j].kind, qs->q[j].value, NOW_US, hits, 8);
			total += n;
			with += n > 0;
		}
	}
	double dt = now_s() - t0;
	*wall_rate = (double)qs->n / (wall_s() - w0);
	*found = total;
	*matched = with;
	return (double)qs->n / dt;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_match [--count N] [--queries N] [--seed N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t count = DEFAULT_COUNT, nq = DEFAULT_QUERIES;
	uint64_t seed = 20260101;
	for (int i = 1; i < argc; i += 2) {
		char *end;
		if (i + 1 >= argc)
			usage();
		unsigned long long v = strtoull(argv[i + 1], &end, 10);
		if (*end || v == 0)
			usage();
		if (strcmp(argv[i], "--count") == 0)
			count = (size_t)v;
		else if (strcmp(argv[i], "--queries") == 0)
			nq = (size_t)v;
		else if (strcmp(argv[i], "--seed") == 0)
			seed = v;
		else
			usage();
	}
	size_t nets = count / 100;

	long rss0 = rss_bytes();
	struct index *idx;
	if (index_new(&idx)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	char v[256];
	double t0 = now_s(), bw0 = wall_s();
	if (index_reserve(idx, count)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < count; i++) {
		enum obs_kind k = kind_of(mix64(seed + i));
		int len = gen_value(seed, i, k, false, v, sizeof v);
		/* a third expire in the future, a few have already expired */
		int64_t until = i % 3 == 0 ? NOW_US + 86400LL * 1000000 : i % 97 == 0 ? NOW_US - 1 : 0;
		if (index_add(idx, k, slice_make(v, (size_t)len), (uint32_t)i, until)) {
			fprintf(stderr, "index_add failed on %s\n", v);
			return 1;
		}
	}
	for (size_t i = 0; i < nets; i++) {
		int len = gen_net(seed, i, v, sizeof v);
		if (index_add(idx, OBS_IPV4, slice_make(v, (size_t)len), (uint32_t)(count + i), 0)) {
			fprintf(stderr, "index_add failed on %s\n", v);
			return 1;
		}
	}
	double build = now_s() - t0, build_wall = wall_s() - bw0;
	long rss1 = rss_bytes();
	size_t held = index_count(idx), mem = index_memory(idx);
	double per = (double)mem / (double)(count + nets);
	double per_rss = (double)(rss1 - rss0) / (double)(count + nets);

	printf("indicators: %zu (+%zu IPv4 networks), %zu entries held\n", count, nets, held);
	printf("build: %.2f s CPU, %.2f s wall (%.2fM adds per CPU second, values generated "
	       "on the fly, index_reserve first)\n",
	       build, build_wall, (double)(count + nets) / build / 1e6);
	printf("memory: %.1f bytes/indicator by index_memory, %.1f by RSS growth "
	       "(target <= %.0f) %s\n",
	       per, per_rss, TARGET_BYTES,
	       per <= TARGET_BYTES && per_rss <= TARGET_BYTES ? "PASS" : "FAIL");
	fflush(stdout);

	struct qset mixed, misses;
	if (gen_queries(&mixed, seed, count, nq, 50) || gen_queries(&misses, seed, count, nq, 0)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	size_t f1, f2, f3, f4, m1, m2, m3, m4;
	double w1, w2, w3, w4;
	double single = run(idx, &mixed, false, &f1, &m1, &w1);
	double batch = run(idx, &mixed, true, &f2, &m2, &w2);
	double single_miss = run(idx, &misses, false, &f3, &m3, &w3);
	double batch_miss = run(idx, &misses, true, &f4, &m4, &w4);
	printf("queries: %zu, 50%% hits: %.1f%% matched; all-miss: %.2f%% matched (networks)\n", nq,
	       100.0 * (double)m2 / (double)nq, 100.0 * (double)m4 / (double)nq);
	if (f1 != f2 || f3 != f4 || m1 != m2 || m3 != m4)
		printf("MISMATCH: batch and single lookups disagree (%zu/%zu, %zu/%zu)\n", f1, f2,
		       f3, f4);
	printf("(lookups per CPU second of the thread; per wall-clock second in brackets)\n");
	printf("match, index_lookup, 50%% hits: %.2fM lookups/s [%.2fM]\n", single / 1e6, w1 / 1e6);
	printf("match, index_lookup, all misses: %.2fM lookups/s [%.2fM]\n", single_miss / 1e6,
	       w3 / 1e6);
	printf("match, index_lookup_batch, all misses: %.2fM lookups/s [%.2fM]\n",
	       batch_miss / 1e6, w4 / 1e6);
	printf("match: %.1fM lookups/s [%.1fM] (index_lookup_batch, 50%% hits, mixed kinds; "
	       "target >= 5M/s per core) %s\n",
	       batch / 1e6, w2 / 1e6,
	       batch >= TARGET_LOOKUPS && batch_miss >= TARGET_LOOKUPS ? "PASS" : "FAIL");
	qset_free(&mixed);
	qset_free(&misses);
	index_free(idx);
	return f1 != f2 || f3 != f4 || m1 != m2 || m3 != m4;
}
