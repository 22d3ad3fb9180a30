/*
 * notify.c — the writer's "the log moved" signal to the live feeds (see
 * notify.h): a generation counter under a mutex and a condition variable
 * on the monotonic clock. A poke wakes waiters through a second counter,
 * so a waiter can tell a commit (gen moved) from a poke.
 */
#include "notify.h"

#include <time.h>

void
notify_init(struct notify *n)
{
	pthread_condattr_t ca;
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	n->gen = 0;
	n->pokes = 0;
}

void
notify_destroy(struct notify *n)
{
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
}

void
notify_commit(struct notify *n)
{
	pthread_mutex_lock(&n->mu);
	n->gen++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

void
notify_poke(struct notify *n)
{
	pthread_mutex_lock(&n->mu);
	n->pokes++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

uint64_t
notify_gen(struct notify *n)
{
	pthread_mutex_lock(&n->mu);
	uint64_t g = n->gen;
	pthread_mutex_unlock(&n->mu);
	return g;
}

bool
notify_wait(struct notify *n, struct notify_seen *seen, unsigned timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000u;
	until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while (timeout_ms && n->gen == seen->gen && n->pokes == seen->pokes)
		if (pthread_cond_timedwait(&n->cv, &n->mu, &until) != 0)
			break;
	bool moved = n->gen != seen->gen;
	seen->gen = n->gen;
	seen->pokes = n->pokes;
	pthread_mutex_unlock(&n->mu);
	return moved;
}
