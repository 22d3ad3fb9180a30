/*
 * webhooks.c — delivers the log to webhook receivers, at least once.
 *
 * Each subscription (registry_webhook_*) has a durable cursor: the feed
 * position (lib/feed) of the last event its receiver acknowledged with a
 * 2xx. A worker takes a due subscription, reads the events after the
 * cursor with feed_read() for the subscription's organisation as a whole
 * (policy_subject_org: the one policy door), and POSTs them as one batch
 * {"subscription": ID, "events": [...]} signed with the subscription's
 * secret. Before the first attempt it records the batch's last position
 * (pending_end), so every retry — also after a restart — sends the same
 * events under the same X-Tocsin-Delivery id. Only a 2xx moves the cursor;
 * a failure schedules the next attempt with jittered exponential backoff
 * and, after [webhooks] max_attempts failures in a row, dead-letters the
 * subscription until `tocsin webhook replay`.
 *
 * Invariants: a subscription is handled by one worker at a time (busy);
 * the cursor written is always a position the receiver acknowledged (or
 * one the feed skipped for this reader); a write made for an older
 * revision of the subscription (replayed or removed meanwhile) is refused
 * by the registry, and the worker re-reads it.
 *
 * Waking: until streams have a commit notification, workers look at the
 * log position every WEBHOOK_POLL_MS (app_log_position, and the store's
 * own position once a second for what the CLI commits); a subscription is
 * read again only when the log moved past where its last read ended.
 */
#include "webhooks.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "app.h"
#include "feed/feed.h"
#include "hub/hub.h"
#include "log.h"
#include "policy/policy.h"
#include "util/timestamp.h"
#include "webhook/webhook.h"

#define STORE_POSITION_US 1000000   /* the store's position is read once a second */
#define DELIVERY_ID_MAX (REG_WEBHOOK_ID_LEN + 2 * FEED_POS_TEXT_MAX + 4)

struct sub {
	struct reg_webhook w;       /* as stored (the worker's own copy while busy) */
	bool busy;                  /* a worker is delivering it */
	bool gone;                  /* removed from the registry; freed when not busy */
	bool reread;                /* the registry changed it while busy */
	bool has_read;              /* a read reached the log's end ... */
	uint64_t read_to_pos;       /* ... when the log was at this position */
	uint64_t failures, events;  /* since start, for /metrics */
	uint64_t cursor_seq;        /* w.cursor's seq, for lag */
};

struct webhooks;
struct worker {
	struct webhooks *h;
	struct store *store;        /* the worker's own connection */
	struct diag d;
};

struct webhooks {
	struct app *app;
	struct worker *workers;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	_Atomic bool cancel;        /* set at stop: deliveries in flight are abandoned */
	struct sub **subs;
	size_t nsubs, cap;
	uint64_t gen;
	int64_t gen_checked_us, store_checked_us;
	uint64_t log_pos;           /* the greatest log position seen */
	struct store *ctl;          /* the store position's connection; under mu */
	/* (position, first seen) samples in a ring, oldest first: a
	 * subscription's lag in seconds is the age of the first sample past
	 * its cursor */
	struct {
		uint64_t pos;
		int64_t t_us;
	} ring[WEBHOOK_LAG_SAMPLES];
	size_t ring_start, ring_n;
	size_t nthreads;
	pthread_t *threads;
};

static void
sub_set(struct sub *s, const struct reg_webhook *w)
{
	reg_webhook_wipe(&s->w);
	s->w = *w;
	s->cursor_seq = strtoull(w->cursor, NULL, 10);
	s->has_read = false;
}

static void
sub_free(struct sub *s)
{
	if (s) {
		reg_webhook_wipe(&s->w);
		free(s);
	}
}

static enum tcerr
merge_cb(void *ctx, const struct reg_webhook *w)
{
	struct webhooks *h = ctx;
	for (size_t i = 0; i < h->nsubs; i++) {
		struct sub *s = h->subs[i];
		if (strcmp(s->w.id, w->id) != 0)
			continue;
		s->gone = false;
		if (s->busy)
			s->reread = s->reread || s->w.revision != w->revision;
		else if (s->w.revision != w->revision)
			sub_set(s, w);
		return TC_OK;
	}
	if (h->nsubs == h->cap) {
		size_t nc = h->cap ? 2 * h->cap : 16;
		struct sub **v = realloc(h->subs, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		h->subs = v;
		h->cap = nc;
	}
	struct sub *s = calloc(1, sizeof *s);
	if (!s)
		return TC_ENOMEM;
	sub_set(s, w);
	h->subs[h->nsubs++] = s;
	return TC_OK;
}

/* Re-reads the subscriptions when the operator changed them; mu held. */
static void
reload_locked(struct webhooks *h, int64_t now)
{
	struct diag d;
	uint64_t g = 0;
	if (now - h->gen_checked_us < WEBHOOK_RELOAD_MS * 1000LL)
		return;
	h->gen_checked_us = now;
	diag_clear(&d);
	if (registry_webhook_generation(h->app->registry, &g, &d)) {
		log_error("webhooks: cannot read the registry", d.msg);
		return;
	}
	if (g == h->gen)
		return;
	for (size_t i = 0; i < h->nsubs; i++)
		h->subs[i]->gone = true;
	enum tcerr rc = registry_webhook_list(h->app->registry, merge_cb, h, &d);
	if (rc) {
		for (size_t i = 0; i < h->nsubs; i++)
			h->subs[i]->gone = false;
		log_error("webhooks: cannot read the subscriptions", d.msg[0] ? d.msg : tcerr_str(rc));
		return;
	}
	h->gen = g;
	size_t k = 0;
	for (size_t i = 0; i < h->nsubs; i++) {
		struct sub *s = h->subs[i];
		if (s->gone && !s->busy)
			sub_free(s);
		else
			h->subs[k++] = s;
	}
	h->nsubs = k;
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "webhook subscriptions loaded");
	log_int(&l, "subscriptions", (int64_t)k);
	log_end(&l);
}

/* Looks at the log position and records a sample when it moved; mu held. */
static void
position_locked(struct webhooks *h, int64_t now)
{
	uint64_t pos = app_log_position(h->app);
	if (h->ctl && now - h->store_checked_us >= STORE_POSITION_US) {
		uint64_t sp = 0;
		h->store_checked_us = now;
		if (store_position(h->ctl, &sp) == TC_OK && sp > pos)
			pos = sp;
	}
	if (pos <= h->log_pos)
		return;
	h->log_pos = pos;
	if (h->ring_n == WEBHOOK_LAG_SAMPLES) {
		h->ring_start = (h->ring_start + 1) % WEBHOOK_LAG_SAMPLES;
		h->ring_n--;
	}
	size_t i = (h->ring_start + h->ring_n++) % WEBHOOK_LAG_SAMPLES;
	h->ring[i].pos = pos;
	h->ring[i].t_us = now;
}

/* Seconds since the first position after cursor seq was seen; 0 when
 * caught up. mu held. */
static double
lag_seconds_locked(const struct webhooks *h, uint64_t seq, int64_t now)
{
	if (seq >= h->log_pos)
		return 0;
	for (size_t k = 0; k < h->ring_n; k++) {
		size_t i = (h->ring_start + k) % WEBHOOK_LAG_SAMPLES;
		if (h->ring[i].pos > seq)
			return (double)(now - h->ring[i].t_us) / 1e6;
	}
	return 0;
}

static bool
pos_after(struct feed_pos a, struct feed_pos b)
{
	return a.seq > b.seq;
}

/* The batch being built by feed_read's callback. */
struct batch {
	struct buf body;
	size_t n, max_bytes;
	struct feed_pos first, last;
	bool has_end;
	struct feed_pos end;
	bool stopped;               /* the callback ended the read (end or size) */
};

static enum tcerr
batch_cb(void *ctx, const struct feed_event *ev)
{
	struct batch *b = ctx;
	if (b->has_end && pos_after(ev->pos, b->end)) {
		b->stopped = true;
		return TC_ELIMIT;
	}
	if (b->n && b->body.len + ev->data.len + 3 > b->max_bytes) {
		b->stopped = true;
		return TC_ELIMIT;
	}
	if (b->n)
		buf_append_char(&b->body, ',');
	else
		b->first = ev->pos;
	buf_append_slice(&b->body, ev->data);
	b->last = ev->pos;
	b->n++;
	return buf_error(&b->body);
}

/* What one delivery attempt did. */
enum outcome {
	OUT_NOTHING,     /* no event to send; the cursor may have moved past skipped ones */
	OUT_DELIVERED,   /* 2xx */
	OUT_FAILED,      /* the receiver did not take it: counts towards dead-letter */
	OUT_HUB_ERROR,   /* our side (database, memory): retried without counting */
	OUT_CHANGED,     /* replayed or removed meanwhile: nothing sent, re-read it */
};

/* Delivers one batch for w (the worker's copy), updating w in place. */
static enum outcome
deliver(struct worker *wk, struct reg_webhook *w, uint64_t *nevents)
{
	struct webhooks *h = wk->h;
	const struct conf *conf = h->app->conf;
	struct diag *d = &wk->d;
	struct reg_snapshot *snap = app_snapshot_get(h->app);
	struct feed_filter_store fs;
	struct batch b = { .max_bytes = conf->webhook_batch_max_bytes };
	struct feed_pos after, next = { 0 };
	struct allowlist *allow = NULL;
	enum feed_view view;
	enum outcome out = OUT_HUB_ERROR;
	enum tcerr rc;
	int64_t now = ts_now_us();

	*nevents = 0;
	diag_clear(d);
	feed_filter_init(&fs);
	buf_init(&b.body, 0);
	const struct reg_org *org = snap ? reg_snapshot_org(snap, w->org) : NULL;
	if (!org || org->deleted_us) {
		diag_set(d, TC_EPERM, "organisation %s was deleted", w->org_name);
		out = OUT_FAILED;
		goto done;
	}
	if (feed_view_parse(w->view, &view) != TC_OK ||
	    feed_pos_parse(slice_from_cstr(w->cursor), &after) != TC_OK) {
		diag_set(d, TC_EINVAL, "stored view '%s' or cursor '%s' is invalid", w->view,
		         w->cursor);
		out = OUT_FAILED;
		goto done;
	}
	if ((rc = webhook_filter_parse(&fs, wk->store, w->filter, d))) {
		diag_prefix(d, "filter '%s'", w->filter);
		out = rc == TC_EDB || rc == TC_ENOMEM || rc == TC_EBUSY ? OUT_HUB_ERROR : OUT_FAILED;
		goto done;
	}
	if (w->pending_end[0]) {
		b.has_end = feed_pos_parse(slice_from_cstr(w->pending_end), &b.end) == TC_OK;
	}
	struct policy_subject who;
	policy_subject_org(&who, snap, org);
	allow = h->app->hub ? hub_allowlist_get(h->app->hub) : NULL;
	struct feed_ctx fc = {
		.store = wk->store, .who = &who, .names = snap, .allow = allow, .now_us = 0,
		.block_min_confidence = (int)conf->block_min_confidence,
	};
	buf_printf(&b.body, "{\"subscription\":\"%s\",\"events\":[", w->id);
	/* a retried batch is the same events (it ends at pending_end); the
	 * limits still hold if policy let more of that range through since */
	rc = feed_read(&fc, view, &fs.f, after, conf->webhook_batch_max_events, batch_cb, &b, &next,
	               d);
	if (rc && !(b.stopped && rc == TC_ELIMIT))
		goto done; /* OUT_HUB_ERROR */
	buf_append_cstr(&b.body, "]}");
	if (buf_error(&b.body)) {
		diag_set(d, TC_ENOMEM, "out of memory");
		goto done;
	}
	char text[FEED_POS_TEXT_MAX];
	if (b.n == 0) {
		/* nothing this reader may see: skip what was examined */
		if (!rc && pos_after(next, after)) {
			feed_pos_format(next, text);
			snprintf(w->cursor, sizeof w->cursor, "%s", text);
		}
		w->pending_end[0] = '\0';
		out = OUT_NOTHING;
		goto done;
	}
	char first[FEED_POS_TEXT_MAX], last[FEED_POS_TEXT_MAX];
	feed_pos_format(b.first, first);
	feed_pos_format(b.last, last);
	if (!w->pending_end[0] || !b.has_end) {
		/* the batch is fixed before it is first sent */
		snprintf(w->pending_end, sizeof w->pending_end, "%s", last);
		if ((rc = registry_webhook_progress(h->app->registry, w, d))) {
			out = rc == TC_ENOTFOUND ? OUT_CHANGED : OUT_HUB_ERROR;
			goto done;
		}
	}
	char id_hdr[sizeof WEBHOOK_ID_HEADER + DELIVERY_ID_MAX + 4];
	char ts_hdr[sizeof WEBHOOK_TS_HEADER + 32], sig_hdr[sizeof WEBHOOK_SIG_HEADER + WEBHOOK_SIG_TEXT_MAX + 4];
	char sub_hdr[sizeof WEBHOOK_SUB_HEADER + REG_WEBHOOK_ID_LEN + 4];
	char sig[WEBHOOK_SIG_TEXT_MAX];
	int64_t ts = now / 1000000;
	webhook_sign(slice_make((const char *)w->secret, w->secret_len), ts, buf_slice(&b.body), sig);
	snprintf(id_hdr, sizeof id_hdr, "%s: %s-%s-%s", WEBHOOK_ID_HEADER, w->id, first, last);
	snprintf(ts_hdr, sizeof ts_hdr, "%s: %" PRId64, WEBHOOK_TS_HEADER, ts);
	snprintf(sig_hdr, sizeof sig_hdr, "%s: %s", WEBHOOK_SIG_HEADER, sig);
	snprintf(sub_hdr, sizeof sub_hdr, "%s: %s", WEBHOOK_SUB_HEADER, w->id);
	const char *hdrs[] = { id_hdr, ts_hdr, sig_hdr, sub_hdr };
	struct webhook_post_cfg pc = {
		.policy = { conf->webhook_allow_http, conf->webhook_allow_private },
		.ca_file = conf->webhook_ca_file,
		.connect_timeout_ms = conf->webhook_connect_timeout_ms,
		.timeout_ms = conf->webhook_timeout_ms,
		.response_max = conf->webhook_response_max_bytes,
		.cancel = &h->cancel,
	};
	struct webhook_post_result res;
	w->last_attempt_us = now;
	rc = webhook_post(&pc, w->url, hdrs, sizeof hdrs / sizeof hdrs[0], buf_slice(&b.body), &res,
	                  d);
	if (rc) {
		/* abandoned at shutdown: the receiver is not to blame; the batch
		 * (pending_end) is sent again after the restart */
		out = rc == TC_EBUSY ? OUT_HUB_ERROR : OUT_FAILED;
		goto done;
	}
	/* acknowledged: past the batch, and past what the read skipped after it */
	feed_pos_format(!b.stopped && pos_after(next, b.last) ? next : b.last, text);
	snprintf(w->cursor, sizeof w->cursor, "%s", text);
	w->pending_end[0] = '\0';
	w->last_delivery_us = ts_now_us();
	w->deliveries++;
	*nevents = b.n;
	out = OUT_DELIVERED;
done:
	if (allow)
		allowlist_free(allow);
	feed_filter_reset(&fs);
	buf_reset(&b.body);
	if (snap)
		reg_snapshot_unref(snap);
	return out;
}

/* Picks a due subscription and marks it busy; mu held. */
static struct sub *
pick_locked(struct webhooks *h, int64_t now)
{
	for (size_t i = 0; i < h->nsubs; i++) {
		struct sub *s = h->subs[i];
		if (s->busy || s->gone || s->w.state != REG_WEBHOOK_ACTIVE)
			continue;
		if (s->w.next_attempt_us > now)
			continue;
		/* something new in the log, or a batch to retry */
		if (!s->w.pending_end[0] && s->has_read && s->read_to_pos >= h->log_pos)
			continue;
		s->busy = true;
		/* round robin: the next pick starts after this one */
		if (h->nsubs > 1 && i + 1 < h->nsubs) {
			memmove(&h->subs[i], &h->subs[i + 1], (h->nsubs - i - 1) * sizeof h->subs[0]);
			h->subs[h->nsubs - 1] = s;
		}
		return s;
	}
	return NULL;
}

static void
log_outcome(const struct reg_webhook *w, enum outcome o, const char *err, uint64_t n)
{
	struct logline l;
	if (o == OUT_DELIVERED) {
		log_begin(&l, CONF_LOG_DEBUG, "webhook delivered");
		log_str(&l, "subscription", w->id);
		log_int(&l, "events", (int64_t)n);
		log_str(&l, "cursor", w->cursor);
	} else {
		log_begin(&l, w->state == REG_WEBHOOK_DEAD ? CONF_LOG_ERROR : CONF_LOG_WARN,
		          w->state == REG_WEBHOOK_DEAD ? "webhook dead-lettered" : "webhook failed");
		log_str(&l, "subscription", w->id);
		log_str(&l, "org", w->org_name);
		log_int(&l, "attempts", (int64_t)w->attempts);
		log_str(&l, "error", err);
	}
	log_end(&l);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct webhooks *h = wk->h;
	const struct conf *conf = h->app->conf;
	struct reg_webhook *w = calloc(1, sizeof *w);
	if (!w) {
		log_error("webhooks: worker", "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		int64_t now = ts_now_us();
		reload_locked(h, now);
		position_locked(h, now);
		struct sub *s = pick_locked(h, now);
		if (!s) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += WEBHOOK_POLL_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&h->cv, &h->mu, &until);
			continue;
		}
		*w = s->w;
		uint64_t pos = h->log_pos;
		pthread_mutex_unlock(&h->mu);

		uint64_t n = 0;
		enum outcome o = deliver(wk, w, &n);
		now = ts_now_us();
		bool write = true;
		switch (o) {
		case OUT_NOTHING:
			write = strcmp(w->cursor, s->w.cursor) != 0 ||
			        strcmp(w->pending_end, s->w.pending_end) != 0;
			break;
		case OUT_DELIVERED:
			w->attempts = 0;
			w->last_error[0] = '\0';
			w->next_attempt_us = 0;
			break;
		case OUT_FAILED:
			w->attempts++;
			snprintf(w->last_error, sizeof w->last_error, "%s", wk->d.msg);
			if (w->attempts >= conf->webhook_max_attempts) {
				w->state = REG_WEBHOOK_DEAD;
				w->next_attempt_us = 0;
			} else {
				w->next_attempt_us =
				        now + (int64_t)webhook_backoff_us(
				                      w->attempts,
				                      (uint64_t)conf->webhook_backoff_initial_ms * 1000u,
				                      (uint64_t)conf->webhook_backoff_max_ms * 1000u,
				                      randombytes_random());
			}
			break;
		case OUT_CHANGED:
			write = false;
			break;
		case OUT_HUB_ERROR:
			log_error("webhooks: delivery postponed (hub side)", wk->d.msg);
			w->next_attempt_us = now + WEBHOOK_DB_RETRY_MS * 1000LL;
			write = false;
			break;
		}
		enum tcerr rc = TC_OK;
		struct diag d;
		diag_clear(&d);
		if (write)
			rc = registry_webhook_progress(h->app->registry, w, &d);
		if (o == OUT_DELIVERED || o == OUT_FAILED)
			log_outcome(w, o, wk->d.msg, n);
		if (rc && rc != TC_ENOTFOUND)
			log_error("webhooks: cannot record the delivery", d.msg);

		pthread_mutex_lock(&h->mu);
		s->busy = false;
		if (o == OUT_FAILED)
			s->failures++;
		s->events += n;
		if (rc == TC_ENOTFOUND || o == OUT_CHANGED || s->reread) {
			/* replayed or removed meanwhile: the registry's row wins */
			s->reread = false;
			struct reg_webhook *fresh = calloc(1, sizeof *fresh);
			enum tcerr g = fresh ? registry_webhook_get(h->app->registry, w->id, fresh, &d)
			                     : TC_ENOMEM;
			if (g == TC_OK)
				sub_set(s, fresh);
			else if (g == TC_ENOTFOUND)
				s->gone = true;
			if (fresh) {
				reg_webhook_wipe(fresh);
				free(fresh);
			}
			h->gen_checked_us = 0; /* drop it (or see others) at once */
		} else {
			if (o == OUT_HUB_ERROR)
				s->w.next_attempt_us = w->next_attempt_us;
			else
				sub_set(s, w);
			/* up to date with the log as it was before the read */
			if (o == OUT_NOTHING) {
				s->has_read = true;
				s->read_to_pos = pos;
			}
		}
		if (s->gone) {
			/* removed while it was being delivered: nobody else holds it */
			for (size_t i = 0; i < h->nsubs; i++)
				if (h->subs[i] == s) {
					h->subs[i] = h->subs[--h->nsubs];
					break;
				}
			sub_free(s);
		}
		reg_webhook_wipe(w);
		if (o == OUT_DELIVERED)
			pthread_cond_broadcast(&h->cv); /* more may be waiting */
	}
	pthread_mutex_unlock(&h->mu);
	free(w);
	return NULL;
}

enum tcerr
webhooks_start(struct app *a, struct webhooks **out, struct diag *d)
{
	struct webhooks *h = calloc(1, sizeof *h);
	enum tcerr rc;
	*out = NULL;
	if (h)
		atomic_init(&h->cancel, false);
	if (!h)
		return diag_set(d, TC_ENOMEM, "out of memory");
	h->app = a;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if ((rc = webhook_global_init(d)))
		goto fail;
	/* a CA file that cannot be read would fail every delivery: say so now */
	if (a->conf->webhook_ca_file[0] && access(a->conf->webhook_ca_file, R_OK) != 0) {
		rc = diag_set(d, TC_EIO, "[webhooks] ca_file %s: %s", a->conf->webhook_ca_file,
		              strerror(errno));
		goto fail;
	}
	if ((rc = store_open(a->store_spec, &h->ctl, d)))
		goto fail;
	size_t n = a->conf->webhook_workers ? a->conf->webhook_workers : 1;
	h->threads = calloc(n, sizeof *h->threads);
	struct worker *wks = calloc(n, sizeof *wks);
	if (!h->threads || !wks) {
		free(wks);
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		wks[i].h = h;
		if ((rc = store_open(a->store_spec, &wks[i].store, d)))
			break;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		if (pthread_create(&h->threads[i], NULL, worker_main, &wks[i])) {
			rc = diag_set(d, TC_EIO, "cannot start a webhook thread");
			break;
		}
		h->nthreads++;
	}
	h->workers = wks;
	if (rc) {
		webhooks_stop(h);
		return rc;
	}
	*out = h;
	return TC_OK;
fail:
	webhooks_stop(h);
	return rc;
}

void
webhooks_stop(struct webhooks *h)
{
	if (!h)
		return;
	atomic_store(&h->cancel, true); /* deliveries in flight end now */
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (size_t i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i], NULL);
	size_t n = h->app->conf->webhook_workers ? h->app->conf->webhook_workers : 1;
	for (size_t i = 0; h->workers && i < n; i++)
		if (h->workers[i].store)
			store_close(h->workers[i].store);
	free(h->workers);
	free(h->threads);
	for (size_t i = 0; i < h->nsubs; i++)
		sub_free(h->subs[i]);
	free(h->subs);
	if (h->ctl)
		store_close(h->ctl);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

void
webhooks_metrics(struct webhooks *h, struct buf *out)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	int64_t now = ts_now_us();
	position_locked(h, now);
	size_t dead = 0, active = 0;
	for (size_t i = 0; i < h->nsubs; i++) {
		if (h->subs[i]->gone)
			continue;
		if (h->subs[i]->w.state == REG_WEBHOOK_DEAD)
			dead++;
		else
			active++;
	}
	buf_printf(out,
	           "# HELP tocsin_webhook_subscriptions Webhook subscriptions, by state.\n"
	           "# TYPE tocsin_webhook_subscriptions gauge\n"
	           "tocsin_webhook_subscriptions{state=\"active\"} %zu\n"
	           "tocsin_webhook_subscriptions{state=\"dead\"} %zu\n"
	           "# HELP tocsin_webhook_dead_subscriptions Subscriptions in dead-letter, waiting "
	           "for `tocsin webhook replay`.\n"
	           "# TYPE tocsin_webhook_dead_subscriptions gauge\n"
	           "tocsin_webhook_dead_subscriptions %zu\n",
	           active, dead, dead);
	static const char *const names[] = {
		"tocsin_webhook_lag_positions", "tocsin_webhook_lag_seconds",
		"tocsin_webhook_deliveries_total", "tocsin_webhook_events_total",
		"tocsin_webhook_failures_total",
	};
	static const char *const help[] = {
		"Log positions after a subscription's cursor (not yet delivered or skipped).",
		("Seconds since the oldest log position not yet delivered to a subscription was "
		 "committed (0: caught up)."),
		"Batches a subscription's receiver acknowledged with a 2xx.",
		"Events delivered to a subscription since tocsind started.",
		"Failed delivery attempts of a subscription since tocsind started.",
	};
	static const char *const types[] = { "gauge", "gauge", "counter", "counter", "counter" };
	for (size_t m = 0; m < sizeof names / sizeof names[0]; m++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", names[m], help[m], names[m], types[m]);
		for (size_t i = 0; i < h->nsubs; i++) {
			const struct sub *s = h->subs[i];
			if (s->gone)
				continue;
			buf_printf(out, "%s{subscription=\"%s\",org=\"", names[m], s->w.id);
			for (const char *c = s->w.org_name; *c; c++) {
				if (*c == '"' || *c == '\\')
					buf_append_char(out, '\\');
				buf_append_char(out, *c);
			}
			buf_append_cstr(out, "\"} ");
			switch (m) {
			case 0:
				buf_printf(out, "%llu\n",
				           (unsigned long long)(h->log_pos > s->cursor_seq
				                                        ? h->log_pos - s->cursor_seq
				                                        : 0));
				break;
			case 1:
				buf_printf(out, "%.3f\n", lag_seconds_locked(h, s->cursor_seq, now));
				break;
			case 2:
				buf_printf(out, "%llu\n", (unsigned long long)s->w.deliveries);
				break;
			case 3:
				buf_printf(out, "%llu\n", (unsigned long long)s->events);
				break;
			default:
				buf_printf(out, "%llu\n", (unsigned long long)s->failures);
				break;
			}
		}
	}
	pthread_mutex_unlock(&h->mu);
}
