/*
 * bench_store.c — how fast the log store appends and pages.
 *
 * append (the default mode): appends TOTAL new indicator versions (about
 * 600 bytes of JSON and one or two observables each, as the ingest path
 * produces them) in batches of BATCH into a fresh store, then prints
 * "store append: N versions/s". Target (DESIGN §8 ingest ≥ 100,000
 * indicators/s end to end): the store alone ≥ 200,000 versions/s into
 * SQLite. Bounded: at most a few seconds.
 *
 * query: loads TOTAL versions (default 1,000,000: nine in ten new
 * objects, one in ten a newer version of one of them) into one
 * collection, then pages through the whole collection as a TAXII client
 * does (`GET objects/?limit=100`, then `next`: the (date_added, seq)
 * cursor), and looks up single ids (match[id]). Prints µs per page of 100
 * (mean and p99) and per id lookup. The daemon's target is ≥ 5,000 pages/s
 * over HTTP, so the store's share must stay well under 200 µs.
 *
 * Usage: bench_store [append|query] [SPEC [TOTAL [BATCH]]]   SPEC defaults
 * to a temporary SQLite file that is removed afterwards; "memory:"
 * measures the memory backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/timestamp.h"

#define DEFAULT_TOTAL 300000
#define DEFAULT_QUERY_TOTAL 1000000
#define DEFAULT_BATCH 10000
#define TOTAL_MAX 10000000
#define PAGE 100            /* objects per page, as `limit=100` */
#define ID_LOOKUPS 20000
#define FIRST_PAGE_RUNS 2000

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

/* Object k; bump > 0 makes a newer version of it. */
static void
fill(struct item *it, struct store_obj_in *in, uint64_t k, int64_t coll, int64_t bump)
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
	it->meta.version_us = t0 + (int64_t)k + bump;
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

/* Appends versions [from, to) of the load plan: object k < nobj for
 * k < nobj, then newer versions of scattered objects. */
static int
load(struct store *s, int64_t coll, long from, long to, long nobj, long batch,
     struct item *items, struct store_obj_in *in, struct store_append_out *out, double *spent,
     double *cpu, double *json_bytes)
{
	struct diag d;
	for (long done = from; done < to;) {
		long n = to - done < batch ? to - done : batch;
		for (long i = 0; i < n; i++) {
			long j = done + i;
			if (j < nobj)
				fill(&items[i], &in[i], (uint64_t)j, coll, 0);
			else
				fill(&items[i], &in[i], (uint64_t)((j - nobj) * 7919 % nobj), coll,
				     1000000000LL);
			*json_bytes += (double)in[i].json.len;
		}
		double t = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (store_append(s, in, (size_t)n, out, NULL, NULL, &d)) {
			fprintf(stderr, "bench_store: %s\n", d.msg);
			return 1;
		}
		*spent += clock_s(CLOCK_MONOTONIC) - t;
		*cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		done += n;
	}
	return 0;
}

struct page {
	size_t n;
	int64_t last_date;
	uint64_t last_seq;
	size_t bytes;
};

static enum store_row_verdict
page_row(void *ctx, const struct store_row *r)
{
	struct page *p = ctx;
	p->n++;
	p->last_date = r->date_added_us;
	p->last_seq = r->seq;
	p->bytes += r->json.len;
	return STORE_ROW_TAKE;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int
bench_query(struct store *s, int64_t coll, long nobj)
{
	struct diag d;
	size_t cap = (size_t)nobj / PAGE + 2;
	double *lat = calloc(cap, sizeof *lat);
	if (!lat)
		return 1;
	/* 1. the whole collection, page after page */
	struct store_query q = { .collection = coll, .limit = PAGE };
	size_t pages = 0, rows = 0;
	bool more = true;
	double total = 0, cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	while (more && pages < cap) {
		struct page p = { 0 };
		double t = clock_s(CLOCK_MONOTONIC);
		if (store_query(s, &q, page_row, &p, &more, &d)) {
			fprintf(stderr, "bench_store: %s\n", d.msg);
			free(lat);
			return 1;
		}
		lat[pages] = (clock_s(CLOCK_MONOTONIC) - t) * 1e6;
		total += lat[pages++];
		rows += p.n;
		q.after_date_us = p.last_date;
		q.after_date_seq = p.last_seq;
	}
	if ((long)rows != nobj) {
		fprintf(stderr, "bench_store: paged %zu objects, expected %ld\n", rows, nobj);
		free(lat);
		return 1;
	}
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	qsort(lat, pages, sizeof *lat, cmp_double);
	printf("store page of %d (cursor walk over %ld objects): %.1f us mean, %.1f us p50, "
	       "%.1f us p99 (%zu pages, %.0f pages/s)\n",
	       PAGE, nobj, total / (double)pages, lat[pages / 2], lat[pages * 99 / 100], pages,
	       (double)pages / (total / 1e6));
	printf("store page of %d cpu: %.1f us per page (wall includes waiting for the CPU)\n",
	       PAGE, cpu * 1e6 / (double)pages);
	/* 2. the first page again and again */
	q.after_date_us = 0;
	q.after_date_seq = 0;
	double t = clock_s(CLOCK_MONOTONIC);
	for (int i = 0; i < FIRST_PAGE_RUNS; i++) {
		struct page p = { 0 };
		if (store_query(s, &q, page_row, &p, &more, &d) || p.n != PAGE) {
			fprintf(stderr, "bench_store: first page: %s\n", d.msg);
			free(lat);
			return 1;
		}
	}
	printf("store first page of %d: %.1f us\n", PAGE,
	       (clock_s(CLOCK_MONOTONIC) - t) * 1e6 / FIRST_PAGE_RUNS);
	/* 3. match[id]: one id, every version */
	struct item it;
	struct store_obj_in in;
	const char *ids[1] = { it.meta.id };
	q = (struct store_query){ .collection = coll, .ids = ids, .nids = 1,
		                  .versions = STORE_V_ALL };
	double spent = 0;
	size_t found = 0;
	for (long i = 0; i < ID_LOOKUPS; i++) {
		fill(&it, &in, (uint64_t)((i * 104729) % nobj), coll, 0);
		struct page p = { 0 };
		double t0 = clock_s(CLOCK_MONOTONIC);
		if (store_query(s, &q, page_row, &p, NULL, &d)) {
			fprintf(stderr, "bench_store: %s\n", d.msg);
			free(lat);
			return 1;
		}
		spent += clock_s(CLOCK_MONOTONIC) - t0; /* fill() is not timed */
		found += p.n;
	}
	printf("store match[id] lookup: %.1f us (%ld lookups, %zu versions found)\n",
	       spent * 1e6 / ID_LOOKUPS, (long)ID_LOOKUPS, found);
	free(lat);
	return 0;
}

int
main(int argc, char **argv)
{
	bool query = false;
	if (argc > 1 && (strcmp(argv[1], "query") == 0 || strcmp(argv[1], "append") == 0)) {
		query = strcmp(argv[1], "query") == 0;
		argc--, argv++;
	}
	char tmp[] = "/tmp/tocsin-bench-store-XXXXXX";
	char spec[128];
	const char *sp = argc > 1 ? argv[1] : NULL;
	long total = argc > 2 ? strtol(argv[2], NULL, 10) : query ? DEFAULT_QUERY_TOTAL : DEFAULT_TOTAL;
	long batch = argc > 3 ? strtol(argv[3], NULL, 10) : DEFAULT_BATCH;
	if (total <= 0 || total > TOTAL_MAX || batch <= 0 || batch > STORE_BATCH_MAX) {
		fprintf(stderr, "usage: bench_store [append|query] [SPEC [TOTAL<=%d [BATCH]]]\n",
		        TOTAL_MAX);
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
	long nobj = query ? total - total / 10 : total;
	int rc = load(s, c.num, 0, total, nobj, batch, items, in, out, &spent, &cpu, &json_bytes);
	if (!rc && !query) {
		printf("store append: %.0f versions/s (%ld versions in batches of %ld, %.0f bytes "
		       "JSON avg, %s)\n",
		       (double)total / spent, total, batch, json_bytes / (double)total, sp);
		printf("store append cpu: %.0f versions per CPU second (wall includes fsync and "
		       "other load)\n",
		       (double)total / cpu);
		printf("target: >= 200000 versions/s into SQLite\n");
	}
	if (!rc && query) {
		printf("store loaded %ld versions of %ld objects (%.0f versions/s)\n", total, nobj,
		       (double)total / spent);
		rc = bench_query(s, c.num, nobj);
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
