/*
 * report_rate.c — the bounded per-client token buckets (report_rate.h).
 * Tokens are kept in millionths, refilled from the time since the
 * bucket's last take, so the table needs no timer.
 */
#include "report/report_rate.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define MICRO 1000000ll

struct slot {
	uint8_t addr[16];
	int64_t last_us;     /* 0: empty */
	int64_t tokens;      /* millionths of a token */
};

struct report_rate {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t mask;
	uint64_t seed;
	unsigned per_minute;
	int64_t burst;       /* millionths */
	_Atomic uint64_t evictions;
};

enum tcerr
report_rate_new(size_t slots, unsigned per_minute, unsigned burst, struct report_rate **out,
                struct diag *d)
{
	*out = NULL;
	if (!per_minute || !burst)
		return diag_set(d, TC_EINVAL, "a report rate and burst must be at least 1");
	if (slots < REPORT_RATE_SLOTS_MIN || slots > REPORT_RATE_SLOTS_MAX)
		return diag_set(d, TC_EINVAL, "report rate table: %zu slots is outside %u..%u", slots,
		                REPORT_RATE_SLOTS_MIN, REPORT_RATE_SLOTS_MAX);
	size_t n = REPORT_RATE_SLOTS_MIN;
	while (n < slots)
		n <<= 1;
	struct report_rate *r = calloc(1, sizeof *r);
	if (!r || !(r->slots = calloc(n, sizeof *r->slots))) {
		free(r);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&r->mu, NULL);
	r->mask = n - 1;
	if (sodium_init() >= 0)
		randombytes_buf(&r->seed, sizeof r->seed);
	r->per_minute = per_minute;
	r->burst = (int64_t)burst * MICRO;
	*out = r;
	return TC_OK;
}

void
report_rate_free(struct report_rate *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}

uint64_t
report_rate_evictions(const struct report_rate *r)
{
	return r ? atomic_load(&r->evictions) : 0;
}

bool
report_rate_take(struct report_rate *r, const uint8_t addr[16], int64_t now_us)
{
	if (now_us <= 0)
		now_us = 1;
	size_t h = (size_t)XXH3_64bits_withSeed(addr, 16, r->seed);
	pthread_mutex_lock(&r->mu);
	struct slot *found = NULL, *victim = NULL;
	for (size_t i = 0; i < REPORT_RATE_PROBE; i++) {
		struct slot *s = &r->slots[(h + i) & r->mask];
		if (s->last_us && memcmp(s->addr, addr, 16) == 0) {
			found = s;
			break;
		}
		if (!victim || (victim->last_us && s->last_us < victim->last_us))
			victim = s;
	}
	if (!found) {
		if (victim->last_us)
			atomic_fetch_add(&r->evictions, 1);
		found = victim;
		memcpy(found->addr, addr, 16);
		found->tokens = r->burst;
		found->last_us = now_us;
	}
	int64_t dt = now_us - found->last_us;
	if (dt > 0) {
		/* per_minute tokens per 60e6 µs, in millionths: per_minute * dt / 60 */
		int64_t gain = dt >= 3600ll * MICRO ? r->burst : (int64_t)r->per_minute * dt / 60;
		found->tokens = found->tokens + gain > r->burst ? r->burst : found->tokens + gain;
		found->last_us = now_us;
	}
	bool ok = found->tokens >= MICRO;
	if (ok)
		found->tokens -= MICRO;
	pthread_mutex_unlock(&r->mu);
	return ok;
}
