/*
 * notify.h — "the log moved": how the writer wakes the live feeds.
 *
 * The writer calls notify_commit() after every durable batch (objects,
 * deletions) and after every decision event it appends (publish, revoke,
 * delete, expiry, allowlist change), on its own thread. A reader (the
 * stream thread, api_stream.c) remembers the generation it last acted on
 * and sleeps in notify_wait() until the generation moves or its timeout
 * passes: readers are woken by commits, never by polling the database.
 * Invariant: the generation only grows; every notify_commit() after a
 * reader read the generation wakes it (a broadcast under the mutex, so no
 * wake-up is lost between the read and the wait).
 */
#ifndef TOCSIN_DAEMON_NOTIFY_H
#define TOCSIN_DAEMON_NOTIFY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct notify {
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* CLOCK_MONOTONIC */
	uint64_t gen;            /* guarded by mu */
	uint64_t pokes;          /* guarded by mu; only compared for change */
};

/* Initialises n (generation 0). */
void notify_init(struct notify *n);
void notify_destroy(struct notify *n);

/* The log moved: bumps the generation and wakes every waiter. Cheap (one
 * mutex, one broadcast); safe from any thread. */
void notify_commit(struct notify *n);

/* Like notify_commit, for a reader's own reasons (a new client, a client
 * that drained its buffer): wakes the waiters without meaning a commit. */
void notify_poke(struct notify *n);

/* What a waiter has seen: the generation and the pokes. */
struct notify_seen {
	uint64_t gen, pokes;
};

/* The generation now. */
uint64_t notify_gen(struct notify *n);

/* Waits until the generation or the pokes differ from *seen, or
 * timeout_ms passed (0: does not wait), and updates *seen. Returns true
 * when the generation moved (a commit), false for a poke or the timeout. */
bool notify_wait(struct notify *n, struct notify_seen *seen, unsigned timeout_ms);

#endif
