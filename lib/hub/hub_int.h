/*
 * hub_int.h — what hub.c and hub_lookup.c share inside lib/hub (not for
 * other modules).
 *
 * The concurrent read path (hub_lookup.h) needs three things of the
 * writer's code in hub.c: a lock held around every change of the match
 * index and of the revoked index (hub__lk_wlock), the refs whose current
 * version changed (hub__lk_changed: superseded, revoked, deleted, made
 * current again), and a call once those changes are durable
 * (hub__lk_commit), which drops what readers cached of those refs. The
 * write side is taken only by the one thread that calls hub_ingest_items
 * and hub_delete (the writer), never across a store transaction: the
 * changes of one write are queued while the store works
 * (hub__lk_defer, hub__lk_queue) and made once it is durable, with the
 * cache invalidation, in one hold of the lock (hub__lk_commit), so a batch
 * of 10,000 objects takes the lock once, not once per value (each take may
 * wait for a reader's chunk), and a reader never sees the new index with
 * the old cache. hub__lk_apply makes the queue's changes early, when
 * queueing one more fails for memory.
 */
#ifndef TOCSIN_HUB_INT_H
#define TOCSIN_HUB_INT_H

#include <stdint.h>

#include "hub.h"

struct hub_lk;

/* OUT: *out. Errors: TC_ENOMEM. */
enum tcerr hub__lk_new(struct hub_lk **out, struct diag *d);
void hub__lk_free(struct hub_lk *lk);
void hub__lk_wlock(struct hub_lk *lk);
void hub__lk_wunlock(struct hub_lk *lk);
/* With the write lock held: ref's current version changed. */
void hub__lk_changed(struct hub_lk *lk, uint32_t ref);
/* After a write: in one hold of the write lock, makes its queued index
 * changes (apply: the write is durable) or forgets them, drops the cached
 * entries of the refs that changed, and tells readers that began before
 * it not to cache what they read — so a reader sees the index and the
 * cache of one state. Returns as hub__lk_apply. */
enum tcerr hub__lk_commit(struct hub *h, bool apply);

/* Index changes queued by the writer (in the order made). */
enum hub_iop_target {
	HUB_IOP_INDEX = 0,      /* the match index */
	HUB_IOP_REVOKED,        /* the revoked index, if built */
};
/* Starts (on) or stops queueing; while on, hub.c queues its changes. */
void hub__lk_defer(struct hub_lk *lk, bool on);
bool hub__lk_deferring(const struct hub_lk *lk);
/* Queues one change (value copied). false when out of memory: the caller
 * then calls hub__lk_apply and makes the change itself. */
bool hub__lk_queue(struct hub_lk *lk, bool add, enum hub_iop_target t, enum obs_kind kind,
                   struct slice value, uint32_t ref, int64_t valid_until_us);
/* Makes the queued changes, in order, under one hold of the write lock,
 * and empties the queue. TC_ENOMEM when the match index could not take an
 * add (the others are made; an add to the revoked index that fails drops
 * that index, rebuilt at the next need). */
enum tcerr hub__lk_apply(struct hub *h);
/* Forgets the queued changes (the write they belong to failed). */
void hub__lk_discard(struct hub_lk *lk);
/* With the write lock held: drops the revoked index (out of memory). */
void hub__revoked_drop(struct hub *h);

struct hub_lk *hub__lk(struct hub *h);
/* The revoked index, NULL until built. Read under the read lock. */
struct index *hub__revoked(struct hub *h);
/* Builds it (if not yet) reading s; call with the write lock held. */
enum tcerr hub__revoked_build(struct hub *h, struct store *s, struct diag *d);

/* Match helpers shared with hub_match (hub.c). */
/* Writes the network of prefix_len bits around addr ("a.b.c.d/n"); "" if
 * addr is no address of kind. */
void hub__network_text(enum obs_kind kind, const char *addr, unsigned prefix_len, char *out,
                       size_t outlen);
/* The parent domain labels_up labels above name (a suffix of name). */
const char *hub__parent_domain(const char *name, unsigned labels_up);
/* The host of a normalised URL, or the domain of an e-mail address,
 * normalised into host (cleared first) as a domain or an address. OUT:
 * *hkind. false: none to look up. */
bool hub__match_host(struct hub *h, enum obs_kind kind, const char *value, struct buf *host,
                     enum obs_kind *hkind);

#endif
