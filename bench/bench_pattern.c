/*
 * bench_pattern.c — STIX pattern parse rate.
 *
 *   bench_pattern [--count N] [--seconds S] [--seed N]
 *
 * Generates N patterns with the feed generator's mix (one comparison of
 * each kind, 5 % OR / IN of 2-3 values), then parses and frees them with
 * stix_pattern_parse() / stix_pattern_free() in rounds until S seconds
 * have passed, and prints "pattern parse: N patterns/s". Every pattern
 * must parse: a failure is a bug in the generator or the parser, so the
 * benchmark stops with the message (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "gen.h"
#include "stix/stix_pattern.h"

int
main(int argc, char **argv)
{
	uint64_t count = 200000, seed = 1, seconds = 3;
	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t *dst = strcmp(argv[i], "--count") == 0     ? &count
		                : strcmp(argv[i], "--seed") == 0    ? &seed
		                : strcmp(argv[i], "--seconds") == 0 ? &seconds
		                                                    : NULL;
		if (!dst || !bench_parse_count(v, dst)) {
			fprintf(stderr, "usage: bench_pattern [--count N] [--seconds S] [--seed N]\n");
			return 2;
		}
	}
	if (count == 0)
		count = 1;

	struct gen g;
	struct buf text;
	size_t *off = malloc((count + 1) * sizeof(*off));
	int rc = 1;
	gen_init(&g, seed, GEN_JSONL);
	buf_init(&text, 0);
	if (!off)
		goto out;
	for (uint64_t i = 0; i < count; i++) {
		off[i] = text.len;
		gen_pattern(&g, &text);
	}
	off[count] = text.len;
	if (buf_error(&text)) {
		fprintf(stderr, "bench_pattern: out of memory\n");
		goto out;
	}

	char n1[BENCH_NUM_MAX], n2[BENCH_NUM_MAX];
	uint64_t parsed = 0;
	double t0 = bench_now(), t = t0;
	do {
		for (uint64_t i = 0; i < count; i++) {
			struct slice s = slice_make(text.p + off[i], off[i + 1] - off[i]);
			struct stix_pattern *p = NULL;
			struct diag d;
			enum tcerr e = stix_pattern_parse(s, NULL, &p, &d);
			if (e) {
				fprintf(stderr, "bench_pattern: pattern %llu does not parse: %s: %.*s\n",
				        (unsigned long long)i, d.msg, (int)s.len, s.p);
				goto out;
			}
			stix_pattern_free(p);
		}
		parsed += count;
		t = bench_now();
	} while (t - t0 < (double)seconds);
	double dt = t - t0;
	printf("pattern parse: %s patterns in %.2f s, %.1f MB/s of pattern text (%s distinct)\n",
	       bench_fmt(parsed, n1), dt,
	       (double)text.len * (double)(parsed / count) / dt / 1e6, bench_fmt(count, n2));
	printf("pattern parse: %s patterns/s\n", bench_fmt((uint64_t)((double)parsed / dt), n1));
	rc = 0;
out:
	free(off);
	buf_reset(&text);
	gen_free(&g);
	return rc;
}
