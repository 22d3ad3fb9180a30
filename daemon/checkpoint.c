/*
 * checkpoint.c — the WAL checkpointer thread (see checkpoint.h).
 * Invariant: only this thread uses its store_checkpointer; it sleeps on
 * its own condition variable, so checkpointer_stop() wakes it at once.
 * A failed checkpoint is logged and retried at the next tick: the WAL
 * then grows, nothing is lost (SQLite keeps every committed page in it
 * until a checkpoint copies it).
 */
#include "checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/store.h"

struct checkpointer {
	struct store_checkpointer *sc;
	unsigned interval_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
};

static void
checkpoint_once(struct checkpointer *c)
{
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = store_checkpoint(c->sc, NULL, NULL, &d);
	if (rc != TC_OK && rc != TC_EBUSY)
		log_error("WAL checkpoint failed", d.msg);
}

static void *
checkpoint_main(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(c->interval_ms % 1000) * 1000000L;
		ts.tv_sec += c->interval_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&c->mu);
		checkpoint_once(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

enum tcerr
checkpointer_start(const char *spec, unsigned interval_ms, struct checkpointer **out,
                   struct diag *d)
{
	struct checkpointer *c = calloc(1, sizeof(*c));
	enum tcerr rc;

	*out = NULL;
	if (!c)
		return diag_set(d, TC_ENOMEM, "checkpointer: out of memory");
	if ((rc = store_checkpointer_open(spec, &c->sc, d))) {
		free(c);
		return rc;
	}
	c->interval_ms = interval_ms ? interval_ms : CHECKPOINT_INTERVAL_MS;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	int e = pthread_create(&c->thread, NULL, checkpoint_main, c);
	if (e) {
		store_checkpointer_close(c->sc);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		return diag_set(d, TC_EIO, "checkpointer: cannot start thread: %s", strerror(e));
	}
	pthread_setname_np(c->thread, "checkpoint");
	*out = c;
	return TC_OK;
}

void
checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	checkpoint_once(c);
	store_checkpointer_close(c->sc);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
