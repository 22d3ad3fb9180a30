/*
 * gen.h — a deterministic generator of realistic synthetic STIX 2.1 feeds.
 *
 * One seed gives one stream of records, byte for byte, on every machine:
 * identity objects first (the created_by_ref targets), then indicators of
 * mixed kinds (IPv4 ~45 %, domains ~20 %, URLs ~12 %, file hashes ~10 %,
 * IPv4 networks, IPv6, phone numbers, IBANs ~3/3/3/2 %, wallets and e-mail
 * ~1 % each) interleaved with later versions of some indicators (same id,
 * later modified, some revoked) and ~5 % malware, relationship and sighting
 * objects. Every value is valid for its kind (public IPv4 ranges, IDNA 2008
 * domains, IBANs with correct mod-97 check digits, E.164 numbers,
 * checksummed Bitcoin addresses), so a hub must accept all of it; nothing
 * depends on the wall clock. Used by tocsin-gen and by the benchmarks.
 */
#ifndef TOCSIN_BENCH_GEN_H
#define TOCSIN_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum gen_format {
	GEN_BUNDLE = 1,  /* one STIX bundle: {"type":"bundle",...,"objects":[...]} */
	GEN_JSONL,       /* one STIX object a line */
	GEN_CSV,         /* kind,value,... one indicator a line (first versions only) */
};

enum gen_rec {
	GEN_REC_INDICATOR = 1, /* an indicator object version (or a CSV row) */
	GEN_REC_OTHER,         /* identity, malware, relationship, sighting */
};

/* Kinds as tocsin-gen counts them (for the closing summary). */
enum gen_kind {
	GEN_K_IPV4 = 0,
	GEN_K_DOMAIN,
	GEN_K_URL,
	GEN_K_HASH,
	GEN_K_CIDR,
	GEN_K_IPV6,
	GEN_K_PHONE,
	GEN_K_IBAN,
	GEN_K_WALLET,
	GEN_K_EMAIL,
	GEN_K_COUNT,
};

#define GEN_IDENTITIES 12      /* identity objects emitted first */
#define GEN_PENDING_MAX 1024   /* later versions waiting to be emitted */
#define GEN_RECENT_MAX 64      /* recent indicator ids for relationships */
#define GEN_ID_MAX 64          /* "indicator--" + UUID + NUL fits */

struct gen_pending {
	uint64_t subseed;      /* the indicator's own seed: same id, same value */
	int64_t modified_us;
	uint8_t version;       /* 2 or 3 */
	bool revoked;
};

struct gen_stats {
	size_t indicators;        /* indicator records, versions included */
	size_t later_versions;    /* of which version 2 or 3 */
	size_t revoked;
	size_t multi_value;       /* patterns with OR / IN */
	size_t others;            /* identity, malware, relationship, sighting */
	size_t kind[GEN_K_COUNT]; /* first versions by kind of their first value */
};

struct gen {
	uint64_t s[4];            /* xoshiro256** state */
	enum gen_format fmt;
	size_t nrecords;          /* records written (bundle separators) */
	size_t nidentities;       /* identities emitted so far */
	char identity[GEN_IDENTITIES][GEN_ID_MAX];
	unsigned malware_emitted; /* bit i: malware i already written */
	char recent[GEN_RECENT_MAX][GEN_ID_MAX];
	size_t nrecent;
	struct gen_pending pending[GEN_PENDING_MAX];
	size_t phead, pcount;
	struct gen_stats st;
	struct buf scratch;       /* one pattern being built */
	/* created_by_ref of every object (an organisation posting its own
	 * feed must name its own identity: the hub refuses others); "" for
	 * the generator's own identities */
	char creator[GEN_ID_MAX];
};

/* Starts a stream for seed in format fmt; gen_free() releases it. */
void gen_init(struct gen *g, uint64_t seed, enum gen_format fmt);
void gen_free(struct gen *g);
/* Appends what comes before the first record: the bundle opening or the
 * CSV header line; nothing for JSONL. */
void gen_header(struct gen *g, struct buf *out);
/* Appends the next record with its separator (newline, or ",\n" between
 * bundle members) and returns its kind. In CSV format every record is an
 * indicator row. */
enum gen_rec gen_next(struct gen *g, struct buf *out);
/* Appends what closes the stream (the bundle's "]}"). */
void gen_footer(struct gen *g, struct buf *out);

/* Appends one indicator pattern as gen_next would write it (not JSON
 * escaped), drawn from the same mix of kinds; for the pattern benchmark. */
void gen_pattern(struct gen *g, struct buf *out);

/* Name of a gen_kind for summaries ("ipv4", "ipv4-cidr", ...). */
const char *gen_kind_name(enum gen_kind k);

/* Punycode (RFC 3492) of n code points, appended without the "xn--"
 * prefix. Exposed for the generator's self-test. */
void gen_punycode(const uint32_t *cp, size_t n, struct buf *out);
/* Appends the IBAN for country cc (2 letters) and bban with its mod-97
 * check digits (ISO 13616). */
void gen_iban(const char *cc, const char *bban, struct buf *out);
/* Appends the Bitcoin P2PKH address (Base58Check, version 0) of hash160. */
void gen_p2pkh(const uint8_t hash160[20], struct buf *out);
/* Appends the Bitcoin segwit address of a witness program: v0 with bech32
 * (BIP 173) or, if taproot, v1 with bech32m (BIP 350). len <= 40. */
void gen_segwit(const uint8_t *prog, size_t len, bool taproot, struct buf *out);

#endif
