/*
 * hist.c — the logarithmic latency histogram (see hist.h). Bucket i < 128
 * holds exactly the value i; above, bucket 128 + (s - 1) * 64 + (m - 64)
 * holds the values whose top seven bits are m (64..127) when shifted right
 * by s, so each bucket spans 2^s values starting at m << s.
 */
#include "hist.h"

#include <math.h>
#include <string.h>

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned
hist_bucket(uint64_t v)
{
	if (v < (1u << HIST_SUB_BITS))
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - (HIST_SUB_BITS - 1);
	return (1u << HIST_SUB_BITS) + (shift - 1) * HIST_HALF + (unsigned)((v >> shift) - HIST_HALF);
}

uint64_t
hist_low(unsigned i)
{
	if (i < (1u << HIST_SUB_BITS))
		return i;
	unsigned k = i - (1u << HIST_SUB_BITS);
	unsigned shift = k / HIST_HALF + 1;
	return (uint64_t)(k % HIST_HALF + HIST_HALF) << shift;
}

uint64_t
hist_high(unsigned i)
{
	if (i < (1u << HIST_SUB_BITS))
		return i;
	unsigned k = i - (1u << HIST_SUB_BITS);
	unsigned shift = k / HIST_HALF + 1;
	return hist_low(i) + ((uint64_t)1 << shift) - 1;
}

void
hist_record(struct hist *h, uint64_t v)
{
	h->b[hist_bucket(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->count && src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t hi = hist_high(i);
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}
