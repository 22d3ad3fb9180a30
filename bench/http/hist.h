/*
 * hist.h — a latency histogram with logarithmic buckets, in the manner of
 * HdrHistogram: values below 128 have a bucket each; above, every power of
 * two is cut into 64 buckets, so any recorded value is reported within
 * 1/64 (1.6 %) of itself, over the whole 64-bit range, in 30 KB. Recording
 * is an index computation and an increment; histograms of several threads
 * merge by addition.
 */
#ifndef TOCSIN_BENCH_HIST_H
#define TOCSIN_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7                           /* 2^7 = 128 linear buckets first */
#define HIST_HALF (1u << (HIST_SUB_BITS - 1))     /* buckets per power of two above */
#define HIST_BUCKETS ((1u << HIST_SUB_BITS) + (64 - HIST_SUB_BITS) * HIST_HALF)

struct hist {
	uint64_t count, min, max;
	double sum;
	uint64_t b[HIST_BUCKETS];
};

/* Empties h. */
void hist_init(struct hist *h);
/* Counts one value. */
void hist_record(struct hist *h, uint64_t v);
/* Adds src's counts to dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at quantile q (0..1): the highest value of the bucket holding
 * the ceil(q * count)-th smallest recorded value, capped at the maximum
 * recorded. 0 when h is empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* The bucket of v, and the lowest and highest value of bucket i (exposed
 * for the unit test). */
unsigned hist_bucket(uint64_t v);
uint64_t hist_low(unsigned i);
uint64_t hist_high(unsigned i);

#endif
