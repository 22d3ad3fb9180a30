/*
 * bench_ingest.c — ingest rate into a fresh SQLite data directory.
 *
 *   bench_ingest [--count N] [--batch N] [--seconds S] [--seed N] [--dir DIR] [--keep]
 *
 * Does what `tocsin import` does minus reading a file: the generator writes
 * N indicators (plus the ~5 % identities, malware, relationships and
 * sightings around them) as JSON text in batches of --batch objects
 * (default 10,000); each batch is parsed with stix_json_parse() and handed
 * to hub_ingest(), which validates, extracts observables, appends durably
 * and indexes. Only parse + ingest + free are timed, not generation. The
 * data directory is made with hub_init() in a fresh temporary directory
 * (removed afterwards unless --keep). Prints the rate against the DESIGN §8
 * target, the index memory per indicator, the store size and the time to
 * reopen (which rebuilds the index from the store). With --seconds the
 * run stops after the batch that passes S seconds of timed work, and the
 * rate is over what was ingested by then (bench/run.sh bounds it so).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"
#include "gen.h"
#include "hub/hub.h"

#define INGEST_TARGET 100000.0   /* indicators/s, DESIGN §8 */
#define INDEX_BYTES_TARGET 100.0 /* bytes per indicator, DESIGN §8 */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static uint64_t
file_size(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size;
}

int
main(int argc, char **argv)
{
	uint64_t count = 1000000, batch = 10000, seed = 1, seconds = 0;
	const char *dir_arg = NULL;
	bool keep = false;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
			continue;
		}
		if (strcmp(argv[i], "--dir") == 0 && v) {
			dir_arg = v;
			i++;
			continue;
		}
		uint64_t *dst = strcmp(argv[i], "--count") == 0   ? &count
		                : strcmp(argv[i], "--batch") == 0 ? &batch
		                : strcmp(argv[i], "--seed") == 0  ? &seed
		                : strcmp(argv[i], "--seconds") == 0 ? &seconds
		                                                  : NULL;
		if (!dst || !bench_parse_count(v, dst)) {
			fprintf(stderr, "usage: bench_ingest [--count N] [--batch N] [--seconds S] "
			                "[--seed N] [--dir DIR] [--keep]\n");
			return 2;
		}
		i++;
	}
	if (batch == 0 || batch > HUB_MAX_BATCH) {
		fprintf(stderr, "bench_ingest: --batch must be 1..%d\n", HUB_MAX_BATCH);
		return 2;
	}

	char dir[4096], top[4096] = "";
	if (dir_arg) {
		int n = snprintf(dir, sizeof(dir), "%s", dir_arg);
		if (n < 0 || (size_t)n >= sizeof(dir))
			return 2;
	} else {
		const char *tmpdir = getenv("TMPDIR");
		int n = snprintf(top, sizeof(top), "%s/tocsin-bench-ingest-XXXXXX",
		                 tmpdir && *tmpdir ? tmpdir : "/tmp");
		if (n < 0 || (size_t)n >= sizeof(top) || !mkdtemp(top)) {
			perror("bench_ingest: mkdtemp");
			return 2;
		}
		n = snprintf(dir, sizeof(dir), "%s/var", top);
		if (n < 0 || (size_t)n >= sizeof(dir))
			return 2;
	}

	int rc = 1;
	struct hub *h = NULL;
	struct diag d;
	struct gen g;
	struct buf text;
	size_t *off = malloc((batch + 1) * sizeof(*off));
	json_t **objs = calloc(batch, sizeof(*objs));
	struct hub_result *res = calloc(batch, sizeof(*res));
	gen_init(&g, seed, GEN_JSONL);
	buf_init(&text, 0);
	if (!off || !objs || !res) {
		fprintf(stderr, "bench_ingest: out of memory\n");
		goto out;
	}

	char n1[BENCH_NUM_MAX], n2[BENCH_NUM_MAX], n3[BENCH_NUM_MAX];
	double t0 = bench_now();
	enum tcerr e = hub_init(dir, &d);
	if (!e)
		e = hub_open(dir, &h, &d);
	if (e) {
		fprintf(stderr, "bench_ingest: %s: %s (%s)\n", dir, d.msg, tcerr_str(e));
		goto out;
	}
	struct store_collection coll;
	e = hub_collection(h, NULL, &coll, &d);
	if (e) {
		fprintf(stderr, "bench_ingest: default collection: %s\n", d.msg);
		goto out;
	}
	double t_init = bench_now() - t0;

	uint64_t indicators = 0, objects = 0, accepted = 0, dups = 0, rejected = 0;
	double t_parse = 0, t_ingest = 0, t_free = 0;
	double c_parse = 0, c_ingest = 0, c_free = 0; /* CPU seconds */
	while (indicators < count) {
		/* generate one batch (not timed) */
		buf_clear(&text);
		size_t n = 0;
		uint64_t batch_ind = 0;
		while (n < batch && indicators + batch_ind < count) {
			off[n++] = text.len;
			if (gen_next(&g, &text) == GEN_REC_INDICATOR)
				batch_ind++;
		}
		off[n] = text.len;
		if (buf_error(&text)) {
			fprintf(stderr, "bench_ingest: out of memory\n");
			goto out;
		}

		double a = bench_now(), ca = bench_cpu();
		for (size_t i = 0; i < n; i++) {
			struct slice s = slice_make(text.p + off[i], off[i + 1] - off[i]);
			e = stix_json_parse(s, NULL, &objs[i], &d);
			if (e) {
				fprintf(stderr, "bench_ingest: object %llu: %s\n",
				        (unsigned long long)(objects + i), d.msg);
				for (size_t j = 0; j < i; j++)
					json_decref(objs[j]);
				goto out;
			}
		}
		double b = bench_now(), cb = bench_cpu();
		e = hub_ingest(h, coll.num, objs, NULL, n, res, &d);
		double c = bench_now(), cc = bench_cpu();
		for (size_t i = 0; i < n; i++)
			json_decref(objs[i]);
		double dd = bench_now(), cd = bench_cpu();
		if (e) {
			fprintf(stderr, "bench_ingest: batch at object %llu: %s (%s)\n",
			        (unsigned long long)objects, d.msg, tcerr_str(e));
			goto out;
		}
		t_parse += b - a;
		t_ingest += c - b;
		t_free += dd - c;
		c_parse += cb - ca;
		c_ingest += cc - cb;
		c_free += cd - cc;
		for (size_t i = 0; i < n; i++) {
			if (res[i].verdict == HUB_ACCEPTED) {
				accepted++;
			} else if (res[i].verdict == HUB_DUPLICATE) {
				dups++;
			} else {
				if (rejected < 5)
					fprintf(stderr, "bench_ingest: rejected object %llu: %s\n",
					        (unsigned long long)(objects + i), res[i].why);
				rejected++;
			}
		}
		objects += n;
		indicators += batch_ind;
		if (seconds && t_parse + t_ingest + t_free >= (double)seconds && indicators < count) {
			printf("ingest: stopped after %llu s of work (--seconds), %s of %s indicators\n",
			       (unsigned long long)seconds, bench_fmt(indicators, n1),
			       bench_fmt(count, n2));
			break;
		}
	}
	double total = t_parse + t_ingest + t_free;
	double rate = total > 0 ? (double)indicators / total : 0;

	printf("ingest: %s indicators (%s objects: %s accepted, %s duplicate, %s rejected)\n",
	       bench_fmt(indicators, n1), bench_fmt(objects, n2), bench_fmt(accepted, n3),
	       bench_fmt(dups, (char[BENCH_NUM_MAX]){ 0 }),
	       bench_fmt(rejected, (char[BENCH_NUM_MAX]){ 0 }));
	double cpu = c_parse + c_ingest + c_free;
	printf("ingest: init %.2f s; wall: parse %.2f s, hub_ingest %.2f s, free %.2f s; batches of %s\n",
	       t_init, t_parse, t_ingest, t_free, bench_fmt(batch, n1));
	printf("ingest: cpu: parse %.2f s, hub_ingest %.2f s, free %.2f s = %s indicators per CPU second\n",
	       c_parse, c_ingest, c_free,
	       bench_fmt(cpu > 0 ? (uint64_t)((double)indicators / cpu) : 0, n1));
	if (total > 1.5 * cpu)
		printf("ingest: note: wall time is %.1fx CPU time: waiting for the disk or for a busy "
		       "machine (load average counts)\n",
		       total / cpu);
	uint64_t distinct = g.st.indicators - g.st.later_versions;
	size_t mem = index_memory(hub_index(h)), entries = index_count(hub_index(h));
	uint64_t db = file_size(dir, "tocsin.db") + file_size(dir, "tocsin.db-wal");
	printf("store: %s bytes on disk, %s bytes per object\n", bench_fmt(db, n1),
	       bench_fmt(objects ? db / objects : 0, n2));
	printf("index: %s entries, %s bytes\n", bench_fmt(entries, n1), bench_fmt(mem, n2));

	hub_close(h);
	h = NULL;
	double r0 = bench_now();
	e = hub_open(dir, &h, &d);
	double t_open = bench_now() - r0;
	if (e) {
		fprintf(stderr, "bench_ingest: reopen: %s\n", d.msg);
		goto out;
	}
	printf("reopen (index rebuilt from the store): %.2f s, %s index entries\n", t_open,
	       bench_fmt(index_count(hub_index(h)), n1));

	bool ok = bench_verdict("ingest (SQLite)", rate, "indicators/s", INGEST_TARGET, false);
	if (distinct)
		ok &= bench_verdict("index memory", (double)mem / (double)distinct,
		                    "bytes per indicator", INDEX_BYTES_TARGET, true);
	(void)ok;
	rc = rejected ? 1 : 0;
out:
	if (h)
		hub_close(h);
	if (top[0] && !keep)
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else if (top[0])
		printf("kept %s\n", dir);
	free(off);
	free(objs);
	free(res);
	buf_reset(&text);
	gen_free(&g);
	return rc;
}
