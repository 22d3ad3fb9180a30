/*
 * sources.c — pulls the registry's sources on their schedule (issue 12,
 * point 4; docs/sources.md).
 *
 * One thread looks at the registry's sources every SOURCES_POLL_MS and
 * pulls, one at a time, each that is due (next_run_us passed) or asked
 * for (`tocsin source run`: requested > served), with lib/source's
 * source_pull() over the hub's one writer (group commit), the daemon's
 * audit log and its current registry snapshot, then logs the result and
 * keeps a copy of each source's status for /metrics. The pull itself
 * (fetch, parse, plan, writes, entries, status) is lib/source's, so the
 * CLI's `tocsin source run --here` does exactly the same.
 */
#include "sources.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "hub/hub.h"
#include "hub/hub_writer.h"
#include "log.h"
#include "source/source_run.h"
#include "util/timestamp.h"

/* What /metrics shows of a source: a copy of its last status. */
struct src_metric {
	char name[REG_SOURCE_NAME_MAX + 1];
	int64_t last_success_us;
	uint64_t entries, errors, runs, rejected;
};

struct sources {
	struct app *app;
	struct store *store;          /* the thread's own connection (collections) */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	_Atomic bool cancel;
	struct src_metric *m;         /* under mu */
	size_t nm;
};

/* The rows of one look at the registry. */
struct rows {
	struct reg_source *v;
	size_t n, cap;
};

static enum tcerr
rows_cb(void *ctx, const struct reg_source *s)
{
	struct rows *r = ctx;
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 8;
		struct reg_source *v = realloc(r->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		r->v = v;
		r->cap = nc;
	}
	r->v[r->n++] = *s;
	return TC_OK;
}

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		reg_source_wipe(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

static enum tcerr
ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res, struct diag *d)
{
	return hub_writer_ingest(ctx, items, n, res, d);
}

/* Pulls s with the daemon's writer, audit log and snapshot; logs it. */
static void
pull(struct sources *S, struct reg_source *s)
{
	struct app *a = S->app;
	const struct conf *c = a->conf;
	struct reg_snapshot *snap = app_snapshot_get(a);
	struct source_env env = {
		.reg = a->registry, .store = S->store, .obs = hub_obs_ctx(a->hub),
		.id_key = hub_id_key(a->hub), .id_key_len = HUB_ID_KEY_LEN, .snap = snap,
		.audit = a->audit,
		.fetch = { .allow_http = c->source_allow_http, .allow_private = c->source_allow_private,
		           .ca_file = c->source_ca_file,
		           .connect_timeout_ms = c->source_connect_timeout_ms,
		           .timeout_ms = c->source_timeout_ms, .max_bytes = c->source_max_bytes,
		           .cancel = &S->cancel },
		.max_entries = c->source_max_entries, .misp_max_events = c->source_misp_max_events,
		.ingest = ingest, .ingest_ctx = a->writer,
	};
	struct diag d;
	uint64_t added = 0;
	diag_clear(&d);
	if (snap && !reg_snapshot_org(snap, s->org)) {
		/* an organisation added a moment ago: the snapshot has it within
		 * a second (organisations are never removed, only marked
		 * deleted), so the pull waits for the next look */
		reg_snapshot_unref(snap);
		return;
	}
	enum tcerr rc = snap ? source_pull(&env, s, &added, &d)
	                     : diag_set(&d, TC_EINTERNAL, "no registry snapshot");
	if (snap)
		reg_snapshot_unref(snap);
	if (rc && rc != TC_ENOTFOUND)
		log_error("sources: cannot record a pull's status", d.msg);
	struct logline l;
	if (strcmp(s->result, "error") == 0) {
		log_begin(&l, CONF_LOG_WARN, "source pull failed");
		log_str(&l, "source", s->name);
		log_str(&l, "error", s->last_error);
	} else {
		bool fresh = strcmp(s->result, "ok") == 0;
		log_begin(&l, CONF_LOG_INFO, "source pulled");
		log_str(&l, "source", s->name);
		log_str(&l, "result", s->result);
		log_int(&l, "entries", (int64_t)s->entries);
		log_int(&l, "added", (int64_t)added);
		log_int(&l, "expired", fresh ? (int64_t)s->expired : 0);
		log_int(&l, "rejected", fresh ? (int64_t)s->rejected : 0);
	}
	log_end(&l);
}

static void
metrics_update(struct sources *S, const struct rows *r)
{
	struct src_metric *m = r->n ? calloc(r->n, sizeof *m) : NULL;
	if (r->n && !m)
		return;
	for (size_t i = 0; i < r->n; i++) {
		snprintf(m[i].name, sizeof m[i].name, "%s", r->v[i].name);
		m[i].last_success_us = r->v[i].last_success_us;
		m[i].entries = r->v[i].entries;
		m[i].errors = r->v[i].errors;
		m[i].runs = r->v[i].runs;
		m[i].rejected = r->v[i].rejected;
	}
	pthread_mutex_lock(&S->mu);
	free(S->m);
	S->m = m;
	S->nm = r->n;
	pthread_mutex_unlock(&S->mu);
}

static void *
sources_main(void *arg)
{
	struct sources *S = arg;
	struct rows r = { 0 };
	uint64_t gen = 0;
	bool loaded = false;
	pthread_mutex_lock(&S->mu);
	while (!S->stop) {
		pthread_mutex_unlock(&S->mu);
		struct diag d;
		uint64_t g = 0;
		bool changed = false;
		diag_clear(&d);
		/* the rows are read again only when the operator changed them
		 * (add, remove, run: the generation); a pull updates its row */
		if (registry_source_generation(S->app->registry, &g, &d) != TC_OK) {
			log_error("sources: cannot read the registry", d.msg);
		} else if (!loaded || g != gen) {
			rows_free(&r);
			if (registry_source_list(S->app->registry, rows_cb, &r, &d) != TC_OK) {
				log_error("sources: cannot read the registry", d.msg);
				rows_free(&r);
			} else {
				loaded = true;
				gen = g;
				changed = true;
			}
		}
		for (size_t i = 0; i < r.n && !atomic_load(&S->cancel); i++) {
			struct reg_source *s = &r.v[i];
			int64_t now = ts_now_us();
			if (s->requested > s->served || s->next_run_us <= now) {
				pull(S, s);
				changed = true;
			}
		}
		if (changed)
			metrics_update(S, &r);
		pthread_mutex_lock(&S->mu);
		if (S->stop)
			break;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SOURCES_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&S->cv, &S->mu, &until);
	}
	pthread_mutex_unlock(&S->mu);
	rows_free(&r);
	return NULL;
}

enum tcerr
sources_start(struct app *a, struct sources **out, struct diag *d)
{
	*out = NULL;
	if (!a->conf->sources_enabled)
		return TC_OK;
	struct sources *S = calloc(1, sizeof *S);
	if (!S)
		return diag_set(d, TC_ENOMEM, "out of memory");
	S->app = a;
	atomic_init(&S->cancel, false);
	pthread_mutex_init(&S->mu, NULL);
	pthread_cond_init(&S->cv, NULL);
	enum tcerr rc = store_open(a->store_spec, &S->store, d);
	if (!rc && pthread_create(&S->thread, NULL, sources_main, S))
		rc = diag_set(d, TC_EIO, "cannot start the sources thread");
	else if (!rc)
		pthread_setname_np(S->thread, "sources");
	if (rc) {
		sources_stop(S);
		return rc;
	}
	S->started = true;
	*out = S;
	return TC_OK;
}

void
sources_stop(struct sources *S)
{
	if (!S)
		return;
	atomic_store(&S->cancel, true);
	pthread_mutex_lock(&S->mu);
	S->stop = true;
	pthread_cond_broadcast(&S->cv);
	pthread_mutex_unlock(&S->mu);
	if (S->started)
		pthread_join(S->thread, NULL);
	if (S->store)
		store_close(S->store);
	free(S->m);
	pthread_cond_destroy(&S->cv);
	pthread_mutex_destroy(&S->mu);
	free(S);
}

void
sources_metrics(struct sources *S, struct buf *out)
{
	if (!S)
		return;
	static const char *const names[] = {
		"tocsin_source_last_success_timestamp_seconds", "tocsin_source_entries",
		"tocsin_source_rejected", "tocsin_source_runs_total", "tocsin_source_errors_total",
	};
	static const char *const help[] = {
		"Unix time of a source's last successful pull (0: never).",
		"Entries a source listed at its last successful pull.",
		"Entries of a source's last pull the parser or the hub refused.",
		"Pulls of a source since it was added.",
		"Failed pulls of a source since it was added.",
	};
	static const char *const types[] = { "gauge", "gauge", "gauge", "counter", "counter" };
	pthread_mutex_lock(&S->mu);
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", names[k], help[k], names[k], types[k]);
		for (size_t i = 0; i < S->nm; i++) {
			const struct src_metric *m = &S->m[i];
			/* source names are [a-z0-9._-]: nothing to escape */
			buf_printf(out, "%s{source=\"%s\"} ", names[k], m->name);
			switch (k) {
			case 0:
				buf_printf(out, "%.3f\n", (double)m->last_success_us / 1e6);
				break;
			case 1:
				buf_printf(out, "%" PRIu64 "\n", m->entries);
				break;
			case 2:
				buf_printf(out, "%" PRIu64 "\n", m->rejected);
				break;
			case 3:
				buf_printf(out, "%" PRIu64 "\n", m->runs);
				break;
			default:
				buf_printf(out, "%" PRIu64 "\n", m->errors);
				break;
			}
		}
	}
	pthread_mutex_unlock(&S->mu);
}
