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
 * valid_until has passed does not match. The index stores 64-bit hashes,
 * not the values (≤ 100 bytes per indicator): a hit is confirmed by the
 * caller through the store when it needs the indicator ids, so the 2^-64
 * chance of a false hit never reaches a user.
 *
 * Concurrency: one writer, and readers that do not run at the same time as
 * the writer (the caller locks); a lock-free read path is the daemon's job.
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
 * Adding the same (kind, value, ref) twice keeps one entry (the later
 * valid_until). Errors: TC_EINVAL (unparsable ip/cidr), TC_ENOMEM. */
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

/* Entries held, and bytes of memory the index uses. */
size_t index_count(const struct index *idx);
size_t index_memory(const struct index *idx);

#endif
