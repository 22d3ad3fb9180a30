/*
 * bench_export_lib — where the time of an export of decisions goes, in
 * process, on a data directory (bench/bench_export.py builds one):
 *   snapshot   feed_snapshot() with a callback that does nothing (reading
 *              the decisions, judging them, their event text)
 *   FORMAT     export_decisions() into a sink that discards (the same
 *              snapshot plus the format's writer)
 * each as the operator (no policy subject), the best of --repeat runs,
 * wall time and the process's CPU time (the machine may be shared).
 * usage: bench_export_lib DATA_DIR [--repeat N] [--format F]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/export_dec.h"
#include "hub/hub.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t bytes;

static enum tcerr
discard(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	bytes += n;
	return TC_OK;
}

static size_t events;

static enum tcerr
count(void *ctx, const struct feed_event *ev)
{
	(void)ctx;
	(void)ev;
	events++;
	return TC_OK;
}

int
main(int argc, char **argv)
{
	const char *formats[16];
	size_t nformats = 0;
	int repeat = 3;
	if (argc < 2) {
		fprintf(stderr, "usage: bench_export_lib DATA_DIR [--repeat N] [--format F]...\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--repeat") == 0)
			repeat = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
		else if (strcmp(argv[i], "--format") == 0 && nformats < 16)
			formats[nformats++] = argv[i + 1];
	}
	if (!nformats) {
		formats[nformats++] = "rpz";
		formats[nformats++] = "nft";
	}
	struct hub *h = NULL;
	struct diag d;
	if (hub_open(argv[1], &h, &d)) {
		fprintf(stderr, "bench_export_lib: %s\n", d.msg);
		return 1;
	}
	struct allowlist *al = hub_allowlist_get(h);
	struct feed_ctx fc = { .store = hub_store(h), .allow = al };
	double best = 1e9, best_cpu = 1e9;
	for (int r = 0; r < repeat; r++) {
		struct feed_pos at;
		events = 0;
		double t = now_s(), c0 = cpu_s();
		if (feed_snapshot(&fc, NULL, count, NULL, &at, &d)) {
			fprintf(stderr, "bench_export_lib: %s\n", d.msg);
			return 1;
		}
		t = now_s() - t;
		c0 = cpu_s() - c0;
		best = t < best ? t : best;
		best_cpu = c0 < best_cpu ? c0 : best_cpu;
	}
	printf("snapshot of %zu decisions: %.2f s, CPU %.2f s (best of %d)\n", events, best,
	       best_cpu, repeat);
	for (size_t f = 0; f < nformats; f++) {
		struct export_dec_opts o = { 0 };
		if (export_format_parse(formats[f], &o.format)) {
			fprintf(stderr, "bench_export_lib: no format %s\n", formats[f]);
			return 2;
		}
		o.part = strcmp(formats[f], "misp-feed") == 0 ? "hashes.csv" : NULL;
		best = best_cpu = 1e9;
		struct export_dec_counts c;
		for (int r = 0; r < repeat; r++) {
			bytes = 0;
			double t = now_s(), c0 = cpu_s();
			if (export_decisions(&fc, NULL, &o, discard, NULL, &c, NULL, &d)) {
				fprintf(stderr, "bench_export_lib: %s\n", d.msg);
				return 1;
			}
			t = now_s() - t;
			c0 = cpu_s() - c0;
			best = t < best ? t : best;
			best_cpu = c0 < best_cpu ? c0 : best_cpu;
		}
		printf("export %s in process: %.2f s, CPU %.2f s, %zu values, %.1f MB (best of %d)\n",
		       formats[f], best, best_cpu, c.written, (double)bytes / 1e6, repeat);
	}
	allowlist_free(al);
	hub_close(h);
	return 0;
}
