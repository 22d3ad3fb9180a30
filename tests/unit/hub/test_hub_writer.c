/*
 * test_hub_writer.c — the group-commit writer (lib/hub/hub_writer.c): concurrent submitters share
 * transactions, each gets its own results, a rejected object or a failed
 * batch does not fail the others, the batch cap holds, stop drains, a submission need not wait.
 */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub_writer.h"

/* A fake hub: one "transaction" per call, slow like an fsync. Objects
 * with "bad": true are rejected; a batch holding "poison": true fails as
 * a whole (as a database error would). */
struct fake {
	pthread_mutex_t mu;      /* only to satisfy the race detector: calls are serial */
	size_t calls, max_n, objects;
	uint64_t seq;
	size_t cap;              /* assert n <= cap unless a single submission is bigger */
	int in_call;             /* must never exceed 1 */
	size_t deletes;
};

static enum tcerr
fake_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res,
            struct diag *d)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	f->in_call++;
	assert_int_equal(f->in_call, 1);
	pthread_mutex_unlock(&f->mu);
	usleep(2000);
	for (size_t i = 0; i < n; i++)
		if (json_is_true(json_object_get(items[i].obj, "poison"))) {
			pthread_mutex_lock(&f->mu);
			f->calls++;
			f->in_call--;
			pthread_mutex_unlock(&f->mu);
			return diag_set(d, TC_EDB, "disk on fire");
		}
	pthread_mutex_lock(&f->mu);
	f->calls++;
	f->objects += n;
	if (n > f->max_n)
		f->max_n = n;
	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof res[i]);
		snprintf(res[i].id, sizeof res[i].id, "%s",
		         json_string_value(json_object_get(items[i].obj, "id")));
		if (json_is_true(json_object_get(items[i].obj, "bad"))) {
			res[i].verdict = HUB_REJECTED;
			res[i].rc = TC_EINVAL;
			snprintf(res[i].why, sizeof res[i].why, "%s: bad", items[i].path);
		} else {
			res[i].verdict = HUB_ACCEPTED;
			res[i].seq = ++f->seq;
			res[i].date_added_us = items[i].collection; /* echo to prove routing */
		}
	}
	f->in_call--;
	pthread_mutex_unlock(&f->mu);
	return TC_OK;
}

static enum tcerr
fake_remove(void *ctx, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
            struct store_delete_out *out, struct diag *d)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->mu);
	f->deletes++;
	out->deleted = 1;
	out->seq = ++f->seq;
	pthread_mutex_unlock(&f->mu);
	return TC_OK;
}

#define THREADS 16
#define ROUNDS 20

struct worker {
	struct hub_writer *w;
	int tid;
	size_t failures;       /* submissions whose results were not their own */
	size_t poison_seen;
};

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = 1 + (size_t)((wk->tid + r) % 3);
		struct hub_item items[3];
		struct hub_result res[3];
		json_t *objs[3];
		char paths[3][32];
		bool poison = (wk->tid == 3 && r == 5);
		for (size_t i = 0; i < n; i++) {
			char id[64];
			snprintf(id, sizeof id, "indicator--%d-%d-%zu", wk->tid, r, i);
			snprintf(paths[i], sizeof paths[i], "objects[%zu]", i);
			objs[i] = json_pack("{s:s, s:b, s:b}", "id", id, "bad", i == 1,
			                    "poison", poison);
			items[i] = (struct hub_item){ .obj = objs[i], .path = paths[i],
			                              .collection = 1000 * wk->tid + r };
		}
		struct diag d;
		enum tcerr rc = hub_writer_ingest(wk->w, items, n, res, &d);
		if (poison) {
			/* the poisoned submission fails alone, with its own message */
			if (rc != TC_EDB || strcmp(d.msg, "disk on fire") != 0)
				wk->failures++;
			wk->poison_seen++;
		} else if (rc) {
			wk->failures++;
		} else {
			for (size_t i = 0; i < n; i++) {
				char want[64];
				snprintf(want, sizeof want, "indicator--%d-%d-%zu", wk->tid, r, i);
				if (strcmp(res[i].id, want) != 0)
					wk->failures++;
				if (i == 1 && (res[i].verdict != HUB_REJECTED ||
				               strcmp(res[i].why, "objects[1]: bad") != 0))
					wk->failures++;
				if (i != 1 && (res[i].verdict != HUB_ACCEPTED || res[i].seq == 0 ||
				               res[i].date_added_us != 1000 * wk->tid + r))
					wk->failures++;
			}
		}
		for (size_t i = 0; i < n; i++)
			json_decref(objs[i]);
	}
	return NULL;
}

static void
test_group_commit(void **state)
{
	struct fake f = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct hub_writer_backend be = { fake_ingest, fake_remove, NULL, &f, NULL };
	struct hub_writer_cfg cfg = { .batch_max_objects = 8, .batch_max_wait_us = 0 };
	struct hub_writer *w;
	struct diag d;
	pthread_t th[THREADS];
	struct worker wk[THREADS];

	assert_int_equal(hub_writer_start(&cfg, &be, &w, &d), TC_OK);
	for (int i = 0; i < THREADS; i++) {
		wk[i] = (struct worker){ .w = w, .tid = i };
		pthread_create(&th[i], NULL, worker_main, &wk[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wk[i].failures, 0);
	}
	assert_int_equal(wk[3].poison_seen, 1);
	const struct hub_writer_stats *st = hub_writer_stats(w);
	size_t subs = THREADS * ROUNDS;
	assert_int_equal(atomic_load(&st->submissions), subs);
	/* group commit: far fewer transactions than submissions (each call
	 * sleeps 2 ms, so 16 eager submitters queue up behind it) */
	fprintf(stderr, "# %zu submissions, %zu transactions, largest batch %zu\n", subs, f.calls,
	        f.max_n);
	assert_true(f.calls < subs / 2);
	assert_true(f.max_n <= cfg.batch_max_objects);
	assert_true(f.max_n > 3); /* more than one submission shared a batch */
	assert_int_equal(atomic_load(&st->max_seq), f.seq);
	hub_writer_stop(w);
}

static void
test_single_and_big(void **state)
{
	struct fake f = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct hub_writer_backend be = { fake_ingest, fake_remove, NULL, &f, NULL };
	struct hub_writer_cfg cfg = { .batch_max_objects = 2, .batch_max_wait_us = 1000 };
	struct hub_writer *w;
	struct diag d;
	struct hub_item items[5];
	struct hub_result res[5];
	json_t *objs[5];

	assert_int_equal(hub_writer_start(&cfg, &be, &w, &d), TC_OK);
	for (int i = 0; i < 5; i++) {
		objs[i] = json_pack("{s:s}", "id", "x--1");
		items[i] = (struct hub_item){ .obj = objs[i], .path = "p" };
	}
	/* a submission bigger than the cap still goes, alone and whole */
	assert_int_equal(hub_writer_ingest(w, items, 5, res, &d), TC_OK);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.max_n, 5);
	assert_int_equal(res[4].verdict, HUB_ACCEPTED);
	/* zero items: nothing to do, no transaction */
	assert_int_equal(hub_writer_ingest(w, items, 0, res, &d), TC_OK);
	assert_int_equal(f.calls, 1);
	/* deletes go through the same thread */
	struct store_delete_q q = { .collection = 1, .id = "x--1" };
	struct store_delete_out out = { 0 };
	assert_int_equal(hub_writer_delete(w, &q, NULL, NULL, &out, &d), TC_OK);
	assert_int_equal(out.deleted, 1);
	assert_int_equal(f.deletes, 1);
	/* submitted without waiting: the caller goes on, then collects */
	struct hub_writer_job *j1, *j2, *j0;
	struct hub_result r1[2], r2[3];
	assert_int_equal(hub_writer_submit(w, items, 2, r1, &j1, &d), TC_OK);
	assert_int_equal(hub_writer_submit(w, items + 2, 3, r2, &j2, &d), TC_OK);
	assert_int_equal(hub_writer_submit(w, items, 0, r1, &j0, &d), TC_OK);
	assert_int_equal(hub_writer_wait(w, j2, &d), TC_OK);
	assert_int_equal(hub_writer_wait(w, j1, &d), TC_OK);
	assert_int_equal(hub_writer_wait(w, j0, &d), TC_OK);
	assert_int_equal(r1[1].verdict, HUB_ACCEPTED);
	assert_int_equal(r2[2].verdict, HUB_ACCEPTED);
	assert_true(r1[0].seq < r2[0].seq); /* written in the order submitted */
	assert_int_equal(atomic_load(&hub_writer_stats(w)->accepted), 10);
	hub_writer_stop(w);
	for (int i = 0; i < 5; i++)
		json_decref(objs[i]);
}


static _Atomic int ticks, afters;

static bool
count_tick(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&ticks, 1);
	return true;
}

static void
count_after(void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&afters, 1);
}

/* An idle writer still does the clock's work (expiring decisions) every
 * tick_us, with no submission needed, and after_batch follows a tick
 * that changed the log. */
static void
test_tick_when_idle(void **state)
{
	(void)state;
	struct fake f = { .cap = 100 };
	pthread_mutex_init(&f.mu, NULL);
	struct hub_writer_backend be = { fake_ingest, fake_remove, count_after, &f, count_tick };
	struct hub_writer_cfg cfg = { .batch_max_objects = 100, .tick_us = 10000 };
	struct hub_writer *w;
	struct diag d;
	assert_int_equal(hub_writer_start(&cfg, &be, &w, &d), TC_OK);
	usleep(100000);
	hub_writer_stop(w);
	assert_true(atomic_load(&ticks) >= 3);
	assert_int_equal(atomic_load(&afters), atomic_load(&ticks));
	pthread_mutex_destroy(&f.mu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_single_and_big),
		cmocka_unit_test(test_tick_when_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
