/*
 * rpz.h — the content of a DNS Response Policy Zone built from decisions,
 * and the changes between two log positions (issue 11, docs/dns.md).
 *
 * An RPZ zone (draft-vixie-dnsop-dns-rpz, as BIND 9 and Unbound read it)
 * says what a resolver does with a name or an address: each decision a
 * zone carries becomes a trigger, an owner name relative to the zone's
 * origin, and the zone's one policy action as its CNAME:
 *
 *   domain  evil.example      evil.example.ORIGIN   CNAME ACTION
 *                             *.evil.example.ORIGIN CNAME ACTION
 *   ipv4    203.0.113.7       32.7.113.0.203.rpz-ip.ORIGIN CNAME ACTION
 *           198.51.100.0/24   24.0.100.51.198.rpz-ip.ORIGIN ...
 *   ipv6    2001:db8::1       128.1.zz.db8.2001.rpz-ip.ORIGIN ...
 *
 * with ACTION "." (NXDOMAIN), "*." (NODATA) or a walled garden's name.
 *
 * struct rpz_zone holds the zone as of one log position — the set of
 * triggers — and a bounded journal of the changes that brought it there,
 * one per decision event that changed the set, each with its event's
 * position. IXFR (RFC 1995) from a position P is exactly the journal's
 * changes after P, in order; when P is older than the journal's start,
 * the caller answers with the whole zone. Every change in the journal is
 * effective (an add of a trigger present, or a remove of one absent, is
 * not recorded), so a secondary that applies it never deletes what it
 * does not hold nor adds what it has.
 *
 * Not thread-safe: one owner (tocsind's DNS thread).
 */
#ifndef TOCSIN_RPZ_H
#define TOCSIN_RPZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define RPZ_NAME_MAX 256      /* bytes of a trigger name (relative, no final dot) */

/* The trigger of a decision: its owner name relative to the origin, no
 * final dot ("evil.example", "32.7.113.0.203.rpz-ip"). OUT: *wild: the
 * trigger also needs its "*." twin (domains). Errors: TC_EUNSUPPORTED
 * (a kind an RPZ zone cannot carry: URL, e-mail, hashes...), TC_EINVAL
 * (a value that is not a normalised address, network or domain),
 * TC_ELIMIT (longer than RPZ_NAME_MAX). */
enum tcerr rpz_trigger(enum obs_kind kind, struct slice value, char out[RPZ_NAME_MAX],
                       bool *wild, struct diag *d);

struct rpz_zone;

/* A change of the zone: the trigger name (and its twin) added or removed
 * at position pos. name is valid while the zone is not changed. */
struct rpz_change {
	uint64_t pos;
	bool add;
	bool wild;
	const char *name;
};

/* A new, empty zone at position 0 keeping up to journal_max changes.
 * Errors: TC_ENOMEM. rpz_zone_free frees. */
enum tcerr rpz_zone_new(size_t journal_max, struct rpz_zone **out);
void rpz_zone_free(struct rpz_zone *z);

/* Empties the zone and its journal; it is now exact at position pos
 * (then rpz_zone_load each trigger of a snapshot taken at pos). */
void rpz_zone_reset(struct rpz_zone *z, uint64_t pos);
/* The zone as loaded is exact at pos: its position, SOA position and the
 * journal's start (after rpz_zone_reset(z, 0) and the loads). */
void rpz_zone_mark(struct rpz_zone *z, uint64_t pos);
/* Adds a trigger without a journal entry (loading a snapshot).
 * Errors: TC_ENOMEM. */
enum tcerr rpz_zone_load(struct rpz_zone *z, const char *name, bool wild);

/* Applies one decision event at position pos (> the zone's position):
 * add or remove the trigger. OUT: *changed (may be NULL): the set
 * changed and the change was journalled. Errors: TC_EINVAL (pos not
 * after the zone's position), TC_ENOMEM (the zone is unchanged). */
enum tcerr rpz_zone_apply(struct rpz_zone *z, uint64_t pos, bool add, const char *name,
                          bool wild, bool *changed);
/* The zone is exact at pos now (>= its position): events between were
 * not the zone's (other views, filtered, no-ops). */
void rpz_zone_advance(struct rpz_zone *z, uint64_t pos);

uint64_t rpz_zone_position(const struct rpz_zone *z);
/* The zone's SOA position: that of its last effective change (or of the
 * snapshot it was loaded from). The content is the same at every
 * position from it to rpz_zone_position(), so secondaries transfer only
 * when something changed. */
uint64_t rpz_zone_serial_position(const struct rpz_zone *z);
/* Is name (relative, no final dot) a trigger? OUT: *wild. */
bool rpz_zone_find(const struct rpz_zone *z, const char *name, bool *wild);
size_t rpz_zone_count(const struct rpz_zone *z);

/* Calls cb for each trigger (in no particular order); stops at cb's
 * first error and returns it. */
typedef enum tcerr (*rpz_trigger_cb)(void *ctx, const char *name, bool wild);
enum tcerr rpz_zone_each(const struct rpz_zone *z, rpz_trigger_cb cb, void *ctx);

/* A copy of the zone's triggers that outlives later changes: what a
 * transfer thread writes out while the zone moves on. One allocation of
 * about the names' total size. Errors: TC_ENOMEM. rpz_frozen_free
 * frees. */
struct rpz_frozen;
enum tcerr rpz_zone_freeze(const struct rpz_zone *z, struct rpz_frozen **out);
size_t rpz_frozen_count(const struct rpz_frozen *f);
enum tcerr rpz_frozen_each(const struct rpz_frozen *f, rpz_trigger_cb cb, void *ctx);
void rpz_frozen_free(struct rpz_frozen *f);

/* The changes after position from, in order. Returns TC_OK with *n
 * changes in *changes (the zone's own storage, valid until it changes;
 * *n may be 0 when from is the zone's position or nothing changed), or
 * TC_ENOTFOUND when from is before what the journal holds (or after
 * the zone's position): answer with the whole zone. */
enum tcerr rpz_zone_since(const struct rpz_zone *z, uint64_t from,
                          const struct rpz_change **changes, size_t *n);

/* RFC 1982 serials: the SOA serial of a position (its low 32 bits), and
 * the position a client's serial stands for, the latest one not after
 * the zone's position. */
uint32_t rpz_serial(uint64_t pos);
uint64_t rpz_serial_position(const struct rpz_zone *z, uint32_t serial);

#endif
