/*
 * tocsin-gen.c — writes a synthetic STIX 2.1 feed (see gen.h) for tests,
 * demos and benchmarks.
 *
 *   tocsin-gen [--seed N] [--count N] [--format bundle|jsonl|csv] [-o FILE] [--stats]
 *
 * The same seed and count give the same bytes. --count counts indicator
 * records (later versions included); identities, malware, relationships
 * and sightings come on top. A summary goes to stderr with --stats.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"

#define GEN_FLUSH_AT (1u << 20) /* write out every MiB */

static void
usage(FILE *f)
{
	fputs("usage: tocsin-gen [--seed N] [--count N] [--format bundle|jsonl|csv] [-o FILE] [--stats]\n"
	      "                  [--creator IDENTITY]\n"
	      "Writes a deterministic synthetic STIX 2.1 feed (default: seed 1, 1000\n"
	      "indicators, jsonl, to stdout). --creator makes IDENTITY the created_by_ref\n"
	      "of every object, as an organisation posting its own feed must.\n",
	      f);
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	uint64_t seed = 1, count = 1000;
	enum gen_format fmt = GEN_JSONL;
	const char *path = NULL;
	int stats = 0, rc = 2;
	FILE *f = stdout;
	const char *badarg = "";
	const char *creator = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		badarg = a;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(v, &seed))
				goto bad;
			i++;
		} else if (strcmp(a, "--count") == 0 || strcmp(a, "-n") == 0) {
			if (parse_u64(v, &count))
				goto bad;
			i++;
		} else if (strcmp(a, "--format") == 0) {
			if (!v)
				goto bad;
			if (strcmp(v, "bundle") == 0)
				fmt = GEN_BUNDLE;
			else if (strcmp(v, "jsonl") == 0)
				fmt = GEN_JSONL;
			else if (strcmp(v, "csv") == 0)
				fmt = GEN_CSV;
			else
				goto bad;
			i++;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (!v)
				goto bad;
			path = v;
			i++;
		} else if (strcmp(a, "--creator") == 0) {
			if (!v || strncmp(v, "identity--", 10) != 0 || strlen(v) >= GEN_ID_MAX)
				goto bad;
			creator = v;
			i++;
		} else if (strcmp(a, "--stats") == 0) {
			stats = 1;
		} else {
			goto bad;
		}
	}

	if (path && !(f = fopen(path, "w"))) {
		fprintf(stderr, "tocsin-gen: %s: %s\n", path, strerror(errno));
		return 2;
	}
	struct gen *g = malloc(sizeof(*g));
	struct buf b;
	buf_init(&b, 0);
	if (!g) {
		fputs("tocsin-gen: out of memory\n", stderr);
		goto out_buf;
	}
	gen_init(g, seed, fmt);
	if (creator)
		snprintf(g->creator, sizeof(g->creator), "%s", creator);
	double t0 = now_s();
	gen_header(g, &b);
	for (uint64_t n = 0; n < count;) {
		if (gen_next(g, &b) == GEN_REC_INDICATOR)
			n++;
		if (b.len >= GEN_FLUSH_AT || n == count) {
			if (n == count)
				gen_footer(g, &b);
			if (buf_error(&b)) {
				fputs("tocsin-gen: out of memory\n", stderr);
				goto out_buf;
			}
			if (b.len && fwrite(b.p, 1, b.len, f) != b.len)
				break;
			buf_clear(&b);
		}
	}
	if (count == 0) {
		gen_footer(g, &b);
		if (b.len)
			(void)fwrite(b.p, 1, b.len, f);
	}
	if (fflush(f) != 0 || ferror(f)) {
		fprintf(stderr, "tocsin-gen: %s: write failed: %s\n", path ? path : "stdout",
		        strerror(errno));
		goto out_buf;
	}
	double dt = now_s() - t0;
	if (stats) {
		const struct gen_stats *st = &g->st;
		fprintf(stderr, "tocsin-gen: seed %" PRIu64 ": %zu indicator records (%zu later versions, %zu revoked, %zu with OR/IN), %zu other objects in %.2f s (%.0f indicators/s)\n",
		        seed, st->indicators, st->later_versions, st->revoked, st->multi_value,
		        st->others, dt, dt > 0 ? (double)st->indicators / dt : 0.0);
		size_t first = st->indicators - st->later_versions;
		for (int k = 0; k < GEN_K_COUNT; k++)
			fprintf(stderr, "  %-14s %8zu  %5.1f %%\n", gen_kind_name((enum gen_kind)k),
			        st->kind[k], first ? 100.0 * (double)st->kind[k] / (double)first : 0.0);
	}
	rc = 0;
out_buf:
	buf_reset(&b);
	if (g)
		gen_free(g);
	free(g);
	if (path && f && fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "tocsin-gen: %s: %s\n", path, strerror(errno));
		rc = 2;
	}
	return rc;
bad:
	fprintf(stderr, "tocsin-gen: bad or incomplete argument '%s'\n", badarg);
	usage(stderr);
	return 2;
}
