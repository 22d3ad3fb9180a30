/*
 * index.h — the in-memory match index.
 *
 * Answers "is this value named by a current indicator?" millions of times a
 * second. Keys are normalised observables (observable.h); values are store
 * refs. Exact values are found by XXH3 hash; IPv4/IPv6 addresses also match
 * indicator networks (longest prefix first, every covering prefix
 * reported); domains match on the name and on each parent domain
 * ("a.b.evil.example" hits an indicator on "evil.example", reported as
 * INDEX_PARENT_DOMAIN); URLs match after normalisation. An entry whose
 * valid_until has passed does not match. The index stores 63-bit hashes,
 * not the values (≤ 100 bytes per indicator): a hit is confirmed by the
 * caller through the store when it needs the indicator ids, so the 2^-63
 * chance of a false hit never reaches a user.
 *
 * Concurrency: one writer, and readers that do not run at the same time as
 * the writer (the caller locks); a lock-free read path is the daemon's job.
 *
 * Layout (index.c): one open-addressing table of 16-byte slots (hash, ref,
 * valid_until in whole seconds), four to a cache line, for exact values, a
 * second, small one for IP networks; a value named by several indicators
 * keeps its refs in an overflow list. About 27 bytes per indicator at 10M.
 * Lookups cost about one cache miss each: use index_lookup_batch for many
 * values, it overlaps the misses (several times faster). valid_until is kept to the second, rounded up: an entry
 * whose valid_until_us is not a whole second matches until the next whole
 * second (at most 1 s late, never early); times before 1970 count as
 * 1970-01-01T00:00:01Z and times after 2106 as "no end" minus one second.
 * Networks: IPv4 keeps, per /16 block, a mask of the prefix lengths that
 * exist in or over it, so a lookup probes only those; IPv6 probes every
 * prefix length present anywhere (a known gap: many IPv6 lengths cost many
 * probes). An address indicator is a full-length network: "10.0.0.1/32" and
 * "10.0.0.1" are the same key. Removal leaves the table as dense as it was
 * (no shrinking); heavy churn may leave lines marked as spilled, costing a
 * miss one extra cache line until the table next grows.
 */
#ifndef TOCSIN_INDEX_H
#define TOCSIN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "util/slice.h"
#include "util/tcerr.h"

struct index;

enum index_how {
	INDEX_EXACT = 1,
	INDEX_CIDR,            /* the address lies in an indicator network */
	INDEX_PARENT_DOMAIN,   /* a parent of the name is an indicator */
};

/* "exact", "cidr", "parent-domain" (the names every output uses). */
const char *index_how_name(enum index_how how);

struct index_hit {
	uint32_t ref;
	enum index_how how;
	uint8_t prefix_len;    /* INDEX_CIDR: the network's prefix length */
	uint8_t labels_up;     /* INDEX_PARENT_DOMAIN: labels removed (1 = parent) */
};

/* OUT: *out. Errors: TC_ENOMEM. */
enum tcerr index_new(struct index **out);
void index_free(struct index *idx);

/* Adds (kind, value) → ref. value is normalised. valid_until_us 0 = no end.
 * Adding the same (kind, value, ref) twice keeps one entry (with the
 * valid_until of the later add). Errors: TC_EINVAL (unparsable ip/cidr,
 * network with host bits set, empty value, unknown kind), TC_ENOMEM (the
 * index is unchanged). */
enum tcerr index_add(struct index *idx, enum obs_kind kind, struct slice value, uint32_t ref,
                     int64_t valid_until_us);
/* Removes (kind, value) → ref; absent entries are ignored. */
void index_remove(struct index *idx, enum obs_kind kind, struct slice value, uint32_t ref);

/* Looks up a normalised value. Writes up to max hits, most specific first
 * (exact, then longest prefix / nearest parent). Returns the number of
 * hits found (may exceed max; only max are written). now_us: entries with
 * valid_until_us != 0 && valid_until_us <= now_us are skipped. */
size_t index_lookup(const struct index *idx, enum obs_kind kind, struct slice value,
                    int64_t now_us, struct index_hit *hits, size_t max);

/* One query of a batch. */
struct index_query {
	enum obs_kind kind;
	struct slice value;
};

/* Looks up n queries at once, as index_lookup would one by one, but
 * overlapping their memory accesses (hashes first, prefetches, then the
 * probes): several times faster than n index_lookup calls on a large index.
 * OUT: counts[i] = hits found for q[i] (as index_lookup returns). Hits are
 * written in query order, each query's most specific first, until max are
 * written: query i's hits start at the sum of min(counts[j]) written before
 * it. Returns the total number of hits found (may exceed max). */
size_t index_lookup_batch(const struct index *idx, const struct index_query *q, size_t n,
                          int64_t now_us, struct index_hit *hits, size_t max, size_t *counts);

/* Makes room for n more exact entries without growing again (for a bulk
 * load at start-up). Errors: TC_ENOMEM. */
enum tcerr index_reserve(struct index *idx, size_t n);

/* Entries held, (kind, value, ref) triples. */
size_t index_count(const struct index *idx);
/* Bytes the index has allocated: tables, overflow lists, network masks
 * (malloc's own bookkeeping, a few bytes per overflow list, not counted). */
size_t index_memory(const struct index *idx);

#endif
