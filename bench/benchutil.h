/*
 * benchutil.h — what every benchmark shares: a monotonic clock, numbers
 * with thousands separators, and the one-line verdict format bench/run.sh
 * reads ("<figure>: <number> <unit> (target >= N) PASS|BELOW").
 */
#ifndef TOCSIN_BENCH_BENCHUTIL_H
#define TOCSIN_BENCH_BENCHUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_NUM_MAX 32 /* "18,446,744,073,709,551,615" + NUL fits */

/* Seconds on the monotonic clock. */
double bench_now(void);
/* CPU seconds this process has used (all threads): on a shared machine
 * the wall clock also counts the time other programs held the CPU. */
double bench_cpu(void);
/* Writes v with ',' every three digits ("1,234,567"); returns out. */
const char *bench_fmt(uint64_t v, char out[BENCH_NUM_MAX]);
/* Parses a count such as "1000000", "1,000,000", "1M" or "250k". Returns
 * false if s is not one. */
bool bench_parse_count(const char *s, uint64_t *out);
/* Prints "<figure>: <value> <unit> (target >= <target>) PASS|BELOW" (or
 * "<=" when lower is better) and returns true if the target is met. */
bool bench_verdict(const char *figure, double value, const char *unit, double target,
                   bool lower_is_better);

#endif
