/*
 * benchutil.c — clock, number formatting and verdict lines for the
 * benchmarks (see benchutil.h). Output is the contract with bench/run.sh.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"

double
bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
bench_fmt(uint64_t v, char out[BENCH_NUM_MAX])
{
	char tmp[BENCH_NUM_MAX];
	size_t n = 0, k = 0;
	do {
		if (n && n % 3 == 0)
			tmp[k++] = ',';
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
		n++;
	} while (v);
	for (size_t i = 0; i < k; i++)
		out[i] = tmp[k - 1 - i];
	out[k] = '\0';
	return out;
}

bool
bench_parse_count(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	bool any = false;
	if (!s)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return false;
			v = v * 10 + (uint64_t)(*s - '0');
			any = true;
		} else if (*s == ',' || *s == '_') {
			continue;
		} else {
			break;
		}
	}
	if (!any)
		return false;
	uint64_t mul = 1;
	if (*s == 'k' || *s == 'K')
		mul = 1000, s++;
	else if (*s == 'm' || *s == 'M')
		mul = 1000000, s++;
	if (*s || v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

bool
bench_verdict(const char *figure, double value, const char *unit, double target,
              bool lower_is_better)
{
	char v[BENCH_NUM_MAX], t[BENCH_NUM_MAX];
	bool ok = lower_is_better ? value <= target : value >= target;
	printf("%s: %s %s (target %s %s) %s\n", figure, bench_fmt((uint64_t)(value + 0.5), v), unit,
	       lower_is_better ? "<=" : ">=", bench_fmt((uint64_t)target, t), ok ? "PASS" : "BELOW");
	fflush(stdout);
	return ok;
}
