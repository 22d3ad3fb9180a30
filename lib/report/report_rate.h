/*
 * report_rate.h — per-client rate limits of the public report intake
 * (docs/reports.md): a token bucket per client address in a table of a
 * fixed number of slots, so that no number of distinct addresses grows
 * memory.
 *
 * Each address (16 bytes: IPv6, or IPv4-mapped; the caller masks an IPv6
 * address to its /64) hashes with a per-table random seed to a window of
 * REPORT_RATE_PROBE slots. Its bucket is found there, or takes an empty
 * slot, or evicts the least recently seen bucket of the window. An
 * evicted address starts again with a full bucket: a client holding many
 * addresses gets a bucket per address anyway, so eviction gives it
 * nothing it had not; the table bounds memory, the rates bound each
 * address. Thread-safe (one mutex; a take is a few dozen instructions).
 */
#ifndef TOCSIN_REPORT_RATE_H
#define TOCSIN_REPORT_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/tcerr.h"

#define REPORT_RATE_PROBE 8             /* slots an address may live in */
#define REPORT_RATE_SLOTS_MIN 64
#define REPORT_RATE_SLOTS_MAX (1u << 24)

struct report_rate;

/* A table of slots buckets (rounded up to a power of two) refilling
 * per_minute tokens a minute up to burst. OUT: *out. Errors: TC_EINVAL
 * (a zero rate or burst, slots outside the limits), TC_ENOMEM. */
enum tcerr report_rate_new(size_t slots, unsigned per_minute, unsigned burst,
                           struct report_rate **out, struct diag *d);
void report_rate_free(struct report_rate *r);

/* Takes one token of addr's bucket at now_us (monotonic). Returns true
 * if it had one (the request may go on), false if the client is over its
 * rate. */
bool report_rate_take(struct report_rate *r, const uint8_t addr[16], int64_t now_us);

/* Buckets evicted to make room so far (for /metrics). */
uint64_t report_rate_evictions(const struct report_rate *r);

#endif
