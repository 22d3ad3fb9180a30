/*
 * hub_writer.c — one writer thread with group commit (DESIGN §2.2), shared
 * by the daemon (request threads submit) and `tocsin import` (the reader
 * thread submits a batch and parses the next while it is written).
 *
 * Submitters put a struct job (on their own stack, or allocated by
 * hub_writer_submit) on a FIFO queue under
 * w->mu and wait on the job's own condition variable. The writer thread
 * takes the queue's head: a delete alone; otherwise as many consecutive
 * ingest jobs as fit in batch_max_objects (at least one), copies their
 * items into one array, calls the backend once, and copies each job's
 * slice of the results back before waking it. Invariants: a job is
 * signalled exactly once, after the transaction holding it returned; a job
 * is never touched after it is signalled (its memory belongs to the
 * submitter again); when a whole-batch call fails and the batch held more
 * than one job, each job is retried alone, so one submitter's bad batch
 * never fails another's.
 */
#include "hub_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HUB_WRITER_TICK_US 250000 /* default idle time between ticks */

enum job_kind { JOB_INGEST = 1, JOB_DELETE };

struct job {
	enum job_kind kind;
	struct job *next;
	/* ingest */
	const struct hub_item *items;
	size_t n;
	struct hub_result *res;
	/* delete */
	const struct store_delete_q *q;
	store_delete_cb may;
	void *may_ctx;
	struct store_delete_out *out;
	/* answer */
	enum tcerr rc;
	struct diag d;
	bool done;
	pthread_cond_t cv;
};

struct hub_writer {
	struct hub_writer_cfg cfg;
	struct hub_writer_backend be;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;        /* the writer waits here for work */
	struct job *head, *tail;
	size_t queued_objects;
	bool stopping;
	struct hub_writer_stats stats;
	/* the writer thread's scratch arrays, grown as needed */
	struct hub_item *items;
	struct hub_result *res;
	size_t cap;
};

static void
finish(struct hub_writer *w, struct job *j)
{
	pthread_mutex_lock(&w->mu);
	j->done = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
note_seq(struct hub_writer *w, uint64_t mx)
{
	uint64_t cur = atomic_load_explicit(&w->stats.max_seq, memory_order_relaxed);
	while (mx > cur && !atomic_compare_exchange_weak_explicit(
	                       &w->stats.max_seq, &cur, mx, memory_order_relaxed,
	                       memory_order_relaxed))
		;
}

static void
note_results(struct hub_writer *w, const struct hub_result *res, size_t n)
{
	uint64_t acc = 0, mx = 0;
	for (size_t i = 0; i < n; i++) {
		if (res[i].verdict == HUB_ACCEPTED)
			acc++;
		if (res[i].verdict != HUB_REJECTED && res[i].seq > mx)
			mx = res[i].seq;
	}
	atomic_fetch_add_explicit(&w->stats.accepted, acc, memory_order_relaxed);
	note_seq(w, mx);
}

static bool
grow(struct hub_writer *w, size_t n)
{
	if (n <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < n)
		cap *= 2;
	struct hub_item *it = realloc(w->items, cap * sizeof *it);
	if (!it)
		return false;
	w->items = it;
	struct hub_result *r = realloc(w->res, cap * sizeof *r);
	if (!r)
		return false;
	w->res = r;
	w->cap = cap;
	return true;
}

/* Runs one job alone, straight into its own result array. */
static void
run_alone(struct hub_writer *w, struct job *j)
{
	j->rc = w->be.ingest(w->be.ctx, j->items, j->n, j->res, &j->d);
	atomic_fetch_add_explicit(&w->stats.batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->stats.objects, j->n, memory_order_relaxed);
	if (!j->rc)
		note_results(w, j->res, j->n);
}

/* Commits the jobs first..last (linked, all ingest) as one transaction. */
static void
run_batch(struct hub_writer *w, struct job *first, size_t njobs, size_t nobj)
{
	struct job *j;
	size_t k;

	if (njobs == 1 || !grow(w, nobj)) {
		/* alone, or no memory for a joint batch: one transaction each */
		for (j = first, k = 0; k < njobs; k++, j = j->next)
			run_alone(w, j);
		goto out;
	}
	size_t at = 0;
	for (j = first, k = 0; k < njobs; k++, j = j->next) {
		memcpy(w->items + at, j->items, j->n * sizeof *j->items);
		at += j->n;
	}
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = w->be.ingest(w->be.ctx, w->items, nobj, w->res, &d);
	atomic_fetch_add_explicit(&w->stats.batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->stats.objects, nobj, memory_order_relaxed);
	if (rc) {
		/* Nothing of the batch was stored: give each job its own chance. */
		for (j = first, k = 0; k < njobs; k++, j = j->next)
			run_alone(w, j);
		goto out;
	}
	note_results(w, w->res, nobj);
	at = 0;
	for (j = first, k = 0; k < njobs; k++, j = j->next) {
		memcpy(j->res, w->res + at, j->n * sizeof *j->res);
		at += j->n;
		j->rc = TC_OK;
	}
out:
	atomic_fetch_add_explicit(&w->stats.submissions, njobs, memory_order_relaxed);
}

static void *
writer_main(void *arg)
{
	struct hub_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stopping) {
			if (!w->be.tick) {
				pthread_cond_wait(&w->wake, &w->mu);
				continue;
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			unsigned tick = w->cfg.tick_us ? w->cfg.tick_us : HUB_WRITER_TICK_US;
			ts.tv_nsec += (long)(tick % 1000000) * 1000;
			ts.tv_sec += tick / 1000000 + ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			if (pthread_cond_timedwait(&w->wake, &w->mu, &ts) == ETIMEDOUT && !w->head &&
			    !w->stopping) {
				pthread_mutex_unlock(&w->mu);
				if (w->be.tick(w->be.ctx) && w->be.after_batch)
					w->be.after_batch(w->be.ctx);
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->head)
			break; /* stopping and drained */
		if (w->cfg.batch_max_wait_us && !w->stopping &&
		    w->queued_objects < w->cfg.batch_max_objects) {
			/* wait a little for more submitters to join this batch */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)w->cfg.batch_max_wait_us * 1000;
			ts.tv_sec += ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			while (w->queued_objects < w->cfg.batch_max_objects && !w->stopping)
				if (pthread_cond_timedwait(&w->wake, &w->mu, &ts) == ETIMEDOUT)
					break;
		}
		/* Take the head run: one delete, or ingest jobs up to the cap. */
		struct job *first = w->head, *last = first;
		size_t njobs = 1, nobj = first->n;
		if (first->kind == JOB_INGEST) {
			while (last->next && last->next->kind == JOB_INGEST &&
			       nobj + last->next->n <= w->cfg.batch_max_objects) {
				last = last->next;
				nobj += last->n;
				njobs++;
			}
		}
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		w->queued_objects -= nobj;
		last->next = NULL;
		pthread_mutex_unlock(&w->mu);

		if (first->kind == JOB_DELETE) {
			first->rc = w->be.remove(w->be.ctx, first->q, first->may, first->may_ctx,
			                         first->out, &first->d);
			atomic_fetch_add_explicit(&w->stats.deletes, 1, memory_order_relaxed);
			if (!first->rc)
				note_seq(w, first->out->seq);
		} else {
			run_batch(w, first, njobs, nobj);
		}
		if (w->be.after_batch)
			w->be.after_batch(w->be.ctx);
		/* wake every job of the run; read next before the job is handed back */
		for (struct job *j = first, *nx; j; j = nx) {
			nx = j->next;
			finish(w, j);
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

enum tcerr
hub_writer_start(const struct hub_writer_cfg *cfg, const struct hub_writer_backend *be,
                 struct hub_writer **out, struct diag *d)
{
	struct hub_writer *w = calloc(1, sizeof *w);
	if (!w)
		return diag_set(d, TC_ENOMEM, "writer: out of memory");
	w->cfg = *cfg;
	if (w->cfg.batch_max_objects == 0)
		w->cfg.batch_max_objects = 1;
	w->be = *be;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	int e = pthread_create(&w->thread, NULL, writer_main, w);
#ifdef __GLIBC__
	if (!e) /* shown by top -H and /proc/PID/task/TID/comm */
		pthread_setname_np(w->thread, "hub-writer");
#endif
	if (e) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return diag_set(d, TC_EIO, "writer: cannot start thread: %s", strerror(e));
	}
	*out = w;
	return TC_OK;
}

void
hub_writer_stop(struct hub_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	free(w->items);
	free(w->res);
	free(w);
}

/* Puts j on the queue. Returns TC_OK, or TC_EBUSY when stopping. */
static enum tcerr
enqueue(struct hub_writer *w, struct job *j, struct diag *d)
{
	diag_clear(&j->d);
	pthread_cond_init(&j->cv, NULL);
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		pthread_cond_destroy(&j->cv);
		return diag_set(d, TC_EBUSY, "the hub is shutting down");
	}
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued_objects += j->n;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	return TC_OK;
}

/* Waits until the writer is done with j. Returns j's answer. */
static enum tcerr
await(struct hub_writer *w, struct job *j, struct diag *d)
{
	pthread_mutex_lock(&w->mu);
	while (!j->done)
		pthread_cond_wait(&j->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	pthread_cond_destroy(&j->cv);
	if (j->rc && d)
		*d = j->d;
	return j->rc;
}

static enum tcerr
submit(struct hub_writer *w, struct job *j, struct diag *d)
{
	enum tcerr rc = enqueue(w, j, d);
	return rc ? rc : await(w, j, d);
}

enum tcerr
hub_writer_ingest(struct hub_writer *w, const struct hub_item *items, size_t n,
                  struct hub_result *res, struct diag *d)
{
	struct job j = { .kind = JOB_INGEST, .items = items, .n = n, .res = res };
	if (n == 0)
		return TC_OK;
	return submit(w, &j, d);
}

enum tcerr
hub_writer_submit(struct hub_writer *w, const struct hub_item *items, size_t n,
                  struct hub_result *res, struct hub_writer_job **out, struct diag *d)
{
	struct job *j = calloc(1, sizeof(*j));
	enum tcerr rc;

	*out = NULL;
	if (!j)
		return diag_set(d, TC_ENOMEM, "writer: out of memory");
	*j = (struct job){ .kind = JOB_INGEST, .items = items, .n = n, .res = res };
	if (n == 0) {
		/* nothing to write: an answered job, so that wait stays uniform */
		j->done = true;
		pthread_cond_init(&j->cv, NULL);
	} else if ((rc = enqueue(w, j, d))) {
		free(j);
		return rc;
	}
	*out = (struct hub_writer_job *)j;
	return TC_OK;
}

enum tcerr
hub_writer_wait(struct hub_writer *w, struct hub_writer_job *job, struct diag *d)
{
	struct job *j = (struct job *)job;
	if (!j)
		return TC_OK;
	enum tcerr rc = await(w, j, d);
	free(j);
	return rc;
}

enum tcerr
hub_writer_delete(struct hub_writer *w, const struct store_delete_q *q, store_delete_cb may,
                  void *may_ctx, struct store_delete_out *out, struct diag *d)
{
	struct job j = { .kind = JOB_DELETE, .q = q, .may = may, .may_ctx = may_ctx, .out = out };
	return submit(w, &j, d);
}

const struct hub_writer_stats *
hub_writer_stats(const struct hub_writer *w)
{
	return &w->stats;
}

