/*
 * crowdsec.h — tocsin decisions in the shape of the CrowdSec Local API
 * (LAPI) that bouncers read (issue 11, docs/bouncers.md).
 *
 * A CrowdSec bouncer (crowdsec-firewall-bouncer, the nginx, HAProxy and
 * cloud bouncers) polls GET /v1/decisions/stream?startup=true|false and
 * reads {"new":[...],"deleted":[...]}, or asks GET /v1/decisions?ip=...
 * per client in "live" mode. This module is the translation, without I/O:
 * the query string as bouncers send it (crowdsec_query_parse), which
 * decisions a bouncer is given (crowdsec_scope_of: an address is scope
 * "Ip", a network "Range", every other kind is not for a bouncer), one
 * decision as LAPI writes it (crowdsec_decision_json), the Go duration
 * text bouncers parse with time.ParseDuration (crowdsec_duration), and
 * the live-mode match of an address or network (crowdsec_live_match).
 *
 * Invariant: everything written is built from the decision's normalised
 * value and fixed text, so the JSON is valid whatever the value holds
 * (buf_append_json_str escapes it).
 */
#ifndef TOCSIN_CROWDSEC_H
#define TOCSIN_CROWDSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define CS_QUERY_MAX 4096        /* bytes of a query string looked at */
#define CS_PARAMS_MAX 32         /* parameters in one query */
#define CS_WORDS_MAX 16          /* words in one comma-separated list */
#define CS_WORD_MAX 128          /* bytes of one word */
#define CS_VALUE_MAX 64          /* bytes of an ip=/range=/value= (an IPv6 network fits) */
#define CS_DURATION_MAX 40       /* "2562047h47m16.854775807s" and a NUL */
#define CS_ORIGIN "tocsin"       /* every decision's origin */
#define CS_TYPE "ban"            /* every decision's type: tocsin's "block" */

/* Scopes, as bits. LAPI's names are "Ip" and "Range" (matched without
 * regard to case in queries). */
enum {
	CS_SCOPE_IP = 1u << 0,
	CS_SCOPE_RANGE = 1u << 1,
};

/* A bouncer's query. Stream: startup, scopes, origins, the scenario
 * words. Live (GET /v1/decisions): value + value_scope (from ip=, range=
 * or scope=&value=), contains, type, and the same filters. */
struct cs_query {
	bool startup;
	unsigned scopes;             /* CS_SCOPE_* wanted; a stream without scopes= wants
	                              * Ip and Range (LAPI's default) */
	bool origins_given;          /* origins= was sent ... */
	bool origin_tocsin;          /* ... and names CS_ORIGIN */
	size_t ncontaining, nnot_containing;
	char containing[CS_WORDS_MAX][CS_WORD_MAX + 1];     /* scenarios_containing */
	char not_containing[CS_WORDS_MAX][CS_WORD_MAX + 1]; /* scenarios_not_containing */
	/* live */
	bool has_value;
	unsigned value_scope;        /* CS_SCOPE_IP or CS_SCOPE_RANGE; 0: a scope no
	                              * tocsin decision has (answer: none) */
	char value[CS_VALUE_MAX + 1];
	bool contains;               /* default true (LAPI) */
	bool type_other;             /* type= names something other than "ban" */
};

/* Parses a raw query string ("startup=true&scopes=ip,range", percent-
 * encoded, '+' a space) for the stream (stream true) or the live query.
 * Parameters bouncers send that tocsin has no use for are ignored, as
 * LAPI ignores unknown ones. Errors: TC_EINVAL (bad percent-encoding, a
 * startup/contains that is not true or false, an ip/range that is not an
 * address/network; the message names the parameter), TC_ELIMIT (more than
 * CS_PARAMS_MAX parameters, CS_WORDS_MAX words, a word or value too long,
 * a query longer than CS_QUERY_MAX). OUT: *q, always initialised. */
enum tcerr crowdsec_query_parse(struct slice query, bool stream, struct cs_query *q,
                                struct diag *d);

/* The scope a decision of kind with (normalised) value has for bouncers:
 * CS_SCOPE_IP for an IPv4/IPv6 address, CS_SCOPE_RANGE for a network
 * ("/" in the value), 0 for every other kind (domains, URLs, hashes,
 * phone numbers...: not for a firewall). */
unsigned crowdsec_scope_of(enum obs_kind kind, struct slice value);
const char *crowdsec_scope_name(unsigned scope); /* "Ip", "Range" */

/* A decision's LAPI id: stable per (kind, value) — the same in a startup
 * answer, a later "new" and its "deleted" — positive and below 2^53 so
 * that JavaScript bouncers read it exactly. */
int64_t crowdsec_decision_id(enum obs_kind kind, struct slice value);

/* The scenario text tocsin gives a decision: "tocsin/COLLECTION/ID" of
 * its first indicator, or "tocsin/REASON" for a deleted one. */
void crowdsec_scenario(const char *collection, const char *indicator_id, const char *reason,
                       struct buf *out);

/* true if q's origins and scenario words admit a decision with scenario
 * (LAPI: words are matched as substrings, without regard to case;
 * containing: any word; not_containing: no word). */
bool crowdsec_admits(const struct cs_query *q, const char *scenario);

/* Writes us (≥ 0) as a Go duration ("3h59m59.5s", "0s"), which
 * time.ParseDuration reads back exactly to the millisecond. */
void crowdsec_duration(int64_t us, char out[CS_DURATION_MAX]);

/* Appends one LAPI decision object:
 *   {"id":N,"origin":"tocsin","type":"ban","scope":"Ip","value":"...",
 *    "duration":"...","until":"...Z","scenario":"...","simulated":false}
 * until_us 0 leaves "until" out. Errors: those of out (buf_error). */
void crowdsec_decision_json(struct buf *out, int64_t id, unsigned scope, struct slice value,
                            int64_t duration_us, int64_t until_us, const char *scenario);

/* Live mode: true if a decision (scope, value) answers q's value. An
 * address asked (ip=) is answered by that address and by every network
 * holding it. A network asked (range=) with contains (the default) is
 * answered by decisions holding all of it; with contains=false by
 * decisions inside it. */
bool crowdsec_live_match(const struct cs_query *q, unsigned scope, struct slice value);

/* The values a live query may be answered by, in tocsin's normalised
 * form: the address itself and every network holding it (ip=, and range=
 * with contains), most specific first; for range= with contains=false,
 * nothing (every decision must be looked at). out holds at most
 * CS_CANDIDATES_MAX texts of CS_VALUE_MAX + 1 bytes. Returns how many. */
#define CS_CANDIDATES_MAX 129
size_t crowdsec_live_candidates(const struct cs_query *q,
                                char out[][CS_VALUE_MAX + 1]);

/* A set of decisions by value: what a live query of one organisation is
 * answered from without reading every decision again (crowdsec_map.c).
 * Values are tocsin's normalised text (an IPv4 or IPv6 address or
 * network: unique across kinds). Not thread-safe: the caller locks. */
struct cs_map_entry {
	char *value;
	size_t vlen;
	enum obs_kind kind;
	bool block;               /* action block (else alert) */
	int64_t until_us;         /* 0: no end */
	char *scenario;
};
struct cs_map {
	struct cs_map_entry *slots;   /* value NULL: empty; value == &cs_map_tomb: removed */
	size_t cap, n, used;          /* slots, live entries, live + removed */
};
extern char cs_map_tomb;
void cs_map_init(struct cs_map *m);
void cs_map_reset(struct cs_map *m);
/* Sets or replaces value's entry (copies value and scenario). Errors:
 * TC_ENOMEM (the map is unchanged). */
enum tcerr cs_map_put(struct cs_map *m, enum obs_kind kind, struct slice value, bool block,
                      int64_t until_us, const char *scenario);
void cs_map_del(struct cs_map *m, struct slice value);
const struct cs_map_entry *cs_map_get(const struct cs_map *m, struct slice value);

#endif
