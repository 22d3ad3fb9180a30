/*
 * api_stream.c — GET /api/v1/stream (see api_stream.h, docs/feeds.md).
 *
 * Threads and ownership:
 *  - A request thread authenticates, parses the query, checks the limits,
 *    creates the client and queues it to the stream thread (s->pending).
 *  - The stream thread owns every adopted client's place in the log (pos:
 *    the last event put in its buffer; scan: where to read on) and is the
 *    only one to read the log for live clients. It holds the registry
 *    snapshot that judges them and re-resolves each client's principal
 *    when the snapshot moves (a revoked key, a deleted organisation end
 *    the stream within a tick).
 *  - libmicrohttpd's workers call client_read(), which copies out of the
 *    client's buffer, or suspends the connection when it is empty.
 *  - Snapshot threads make view=decisions snapshots, appending as the
 *    client drains.
 * A client's buffer and flags are guarded by its mutex; it is freed by
 * its last reference (the MHD response's, the server's, a snapshot
 * job's). Invariant: the buffer never holds more than client_buffer
 * bytes plus one event (an event larger than the whole buffer is let
 * into an empty one, or no client could ever pass it) plus
 * STREAM_CUT_RESERVE for the last word; MHD_resume_connection() is
 * called only on a connection this file suspended and that has not
 * closed (c->suspended, under c->mu).
 *
 * A read for live clients (caught up with the log at the last round) is
 * shared: the round sorts the clients to read by (principal, view,
 * filter, scan position), reads once per distinct key into one buffer
 * and copies it to each. A client behind the log (resumed from an old
 * position) reads at most half its buffer per round and only when its
 * buffer is at most half full, so catching up is paced by the client and
 * never cuts it; a live client whose buffer cannot take what was
 * committed is cut.
 */
#include "api_stream.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "feed/feed.h"
#include "hub/hub.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "peers.h"
#include "policy/policy.h"
#include "util/hex.h"
#include "util/timestamp.h"

enum client_phase {
	PH_SNAPSHOT = 1,   /* a snapshot thread is filling the buffer */
	PH_READ,           /* the stream thread reads for it */
	PH_ENDED,          /* no more events: the reader ends when drained */
};

struct client {
	pthread_mutex_t mu;
	pthread_cond_t room;          /* the reader drained: a snapshot job may go on */
	atomic_int refs;
	struct stream_server *s;
	struct MHD_Connection *con;

	/* guarded by mu */
	char *buf;                    /* bytes [head, len) wait to be sent */
	size_t head, len, cap;
	bool suspended;               /* this file suspended con */
	bool gone;                    /* MHD freed the response: con is invalid */
	bool abort;                   /* shutdown: end now, unsent bytes dropped */
	bool ended;                   /* nothing more will be appended */
	bool want_room;               /* poke the stream thread when drained to half */
	enum client_phase phase;

	/* the stream thread's (and a snapshot job's while phase is PH_SNAPSHOT) */
	struct client *next;
	enum feed_view view;
	struct feed_filter_store fs;
	char *filter_key;             /* canonical filter parameters, for sharing reads */
	struct feed_pos pos;          /* the last event in the buffer (the cut position) */
	struct feed_pos scan;         /* read after this */
	bool caught_up;               /* the last read reached the log's end */
	bool counted;                 /* in s->nclients and its org's count */
	int64_t org;
	enum reg_cred cred;
	char actor[AUTH_ACTOR_MAX];   /* key id, or "cert:<hex>" */
	const struct reg_principal *p; /* in the stream thread's snapshot */
	uint64_t last_append_us;
	struct feed_pos rd_scan;      /* this round's read: scan and caught_up before it */
	bool rd_live;
};

struct org_count {
	int64_t org;
	unsigned n;
};

struct snapshot_job {
	struct client *c;
};

struct stream_server {
	struct app *app;
	pthread_t thread;
	bool thread_started;
	pthread_t snap_threads[STREAM_SNAPSHOT_THREADS];
	size_t nsnap_threads;
	_Atomic bool stopping;
	_Atomic uint64_t buffered;    /* bytes in every client's buffer */

	pthread_mutex_t mu;           /* guards the fields below */
	pthread_cond_t jobs_cv;
	struct client *pending;       /* opened, not yet adopted by the stream thread */
	uint64_t nclients;            /* counted clients (open streams) */
	struct org_count *orgs;
	size_t norgs, orgs_cap;
	struct snapshot_job jobs[STREAM_SNAPSHOT_QUEUE_MAX];
	size_t njobs;

	/* the stream thread's */
	struct client *clients;
	struct store *store;
	struct reg_snapshot *snap;
	uint64_t snap_gen;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- clients: references, the buffer, the content reader ---- */

static void
client_unref(struct client *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	atomic_fetch_sub_explicit(&c->s->buffered, c->len - c->head, memory_order_relaxed);
	feed_filter_reset(&c->fs);
	free(c->filter_key);
	free(c->buf);
	pthread_cond_destroy(&c->room);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* With c->mu held: the bytes waiting. */
static size_t
fill(const struct client *c)
{
	return c->len - c->head;
}

/* With c->mu held: resumes the connection if this file suspended it. */
static void
wake_locked(struct client *c)
{
	if (c->suspended && !c->gone) {
		c->suspended = false;
		MHD_resume_connection(c->con);
	}
}

/* With c->mu held: appends len bytes, growing the buffer. false when out
 * of memory (the caller ends the client). The caller checked the room. */
static bool
append_locked(struct client *c, const char *p, size_t len)
{
	if (c->head && c->len + len > c->cap) {
		memmove(c->buf, c->buf + c->head, c->len - c->head);
		c->len -= c->head;
		c->head = 0;
	}
	if (c->len + len > c->cap) {
		size_t nc = c->cap ? c->cap : 4096;
		while (nc < c->len + len)
			nc *= 2;
		char *nb = realloc(c->buf, nc);
		if (!nb)
			return false;
		c->buf = nb;
		c->cap = nc;
	}
	memcpy(c->buf + c->len, p, len);
	c->len += len;
	atomic_fetch_add_explicit(&c->s->buffered, len, memory_order_relaxed);
	return true;
}

/* With c->mu held: may n more bytes go in? An empty buffer takes any one
 * piece (an event larger than the buffer must still pass). */
static bool
fits_locked(const struct client *c, size_t n)
{
	size_t max = c->s->app->conf->stream_client_buffer;
	return fill(c) == 0 || fill(c) + n <= max;
}

/* MHD's content reader: copies what is buffered, ends a finished stream,
 * or suspends the connection until the stream thread appends. */
static ssize_t
client_read(void *cls, uint64_t off, char *out, size_t max)
{
	struct client *c = cls;
	bool poke = false;
	ssize_t ret;
	(void)off;

	pthread_mutex_lock(&c->mu);
	if (c->abort) {
		ret = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (fill(c)) {
		size_t n = fill(c) < max ? fill(c) : max;
		memcpy(out, c->buf + c->head, n);
		c->head += n;
		atomic_fetch_sub_explicit(&c->s->buffered, n, memory_order_relaxed);
		if (c->head == c->len) {
			c->head = c->len = 0;
			if (c->cap > STREAM_KEEP_BUFFER) {
				free(c->buf);
				c->buf = NULL;
				c->cap = 0;
			}
		}
		size_t half = c->s->app->conf->stream_client_buffer / 2;
		if (c->want_room && fill(c) <= half) {
			c->want_room = false;
			poke = true;
		}
		pthread_cond_broadcast(&c->room);
		ret = (ssize_t)n;
	} else if (c->ended) {
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		c->suspended = true;
		MHD_suspend_connection(c->con);
		ret = 0;
	}
	pthread_mutex_unlock(&c->mu);
	if (poke)
		notify_poke(&c->s->app->notify);
	return ret;
}

/* Forgets c's place in s's counts. With s->mu held. */
static void
uncount_locked(struct stream_server *s, struct client *c)
{
	if (!c->counted)
		return;
	c->counted = false;
	s->nclients--;
	for (size_t i = 0; i < s->norgs; i++)
		if (s->orgs[i].org == c->org) {
			if (--s->orgs[i].n == 0)
				s->orgs[i] = s->orgs[--s->norgs];
			break;
		}
}

/* MHD is done with the response (the connection closed, or the response
 * was never queued): con is invalid from now on. */
static void
client_free_cb(void *cls)
{
	struct client *c = cls;
	struct stream_server *s = c->s;
	pthread_mutex_lock(&s->mu);
	uncount_locked(s, c);
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&c->mu);
	c->gone = true;
	c->suspended = false;
	pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->mu);
	client_unref(c);
}

/* Appends one SSE event: "id: ID\n" (if id), "event: NAME\n", "data: DATA\n\n". */
static void
sse_event(struct buf *b, const char *id, const char *name, struct slice data)
{
	if (id) {
		buf_append_cstr(b, "id: ");
		buf_append_cstr(b, id);
		buf_append_char(b, '\n');
	}
	buf_append_cstr(b, "event: ");
	buf_append_cstr(b, name);
	buf_append_cstr(b, "\ndata: ");
	buf_append_slice(b, data);
	buf_append_cstr(b, "\n\n");
}

/* Ends c with a last event (cut, end) carrying its position, whatever its
 * buffer holds (the reserve is for this). why goes into the data. */
static void
client_end(struct client *c, const char *event, const char *why)
{
	char pos[FEED_POS_TEXT_MAX];
	struct buf b, data;
	feed_pos_format(c->pos, pos);
	buf_init(&data, 0);
	buf_append_cstr(&data, "{\"position\":");
	buf_append_json_str(&data, slice_from_cstr(pos));
	buf_append_cstr(&data, ",\"reason\":");
	buf_append_json_str(&data, slice_from_cstr(why));
	buf_append_char(&data, '}');
	buf_init(&b, 0);
	sse_event(&b, pos, event, buf_slice(&data));
	pthread_mutex_lock(&c->mu);
	if (!c->ended && !buf_error(&b) && !buf_error(&data))
		(void)append_locked(c, (const char *)b.p, b.len);
	c->ended = true;
	c->phase = PH_ENDED;
	wake_locked(c);
	pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->mu);
	buf_reset(&b);
	buf_reset(&data);
}

static void
log_client(const struct client *c, enum conf_log_level level, const char *msg, const char *why)
{
	char pos[FEED_POS_TEXT_MAX];
	struct logline l;
	feed_pos_format(c->pos, pos);
	log_begin(&l, level, msg);
	log_str(&l, "key", c->actor);
	log_int(&l, "org", c->org);
	log_str(&l, "view", feed_view_name(c->view));
	log_str(&l, "position", pos);
	if (why)
		log_str(&l, "reason", why);
	log_end(&l);
}

/* A slow consumer: its buffer cannot take what the log holds for it. */
static void
client_cut(struct client *c)
{
	client_end(c, "cut", "buffer full: the client reads too slowly; resume from position");
	log_client(c, CONF_LOG_WARN, "stream client cut", "buffer full");
	metrics_stream_cut();
}

/* ---- principals: is the stream's key still good? ---- */

/* The principal c authenticated as, in snap: NULL when its key was
 * revoked or expired, its certificate unmapped, or its organisation
 * deleted. OUT: *why. */
static const struct reg_principal *
client_principal(const struct client *c, const struct reg_snapshot *snap, const char **why)
{
	const struct reg_principal *p = NULL;
	*why = "the key was revoked or has expired";
	if (!snap)
		return NULL;
	if (c->cred == REG_CRED_CERT) {
		uint8_t sha[32];
		const char *hex = c->actor + 5;
		if (strncmp(c->actor, "cert:", 5) != 0 || strlen(hex) != 64)
			return NULL;
		for (size_t i = 0; i < 32; i++) {
			int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return NULL;
			sha[i] = (uint8_t)(hi * 16 + lo);
		}
		p = reg_snapshot_auth_cert(snap, sha);
		*why = "the certificate is no longer mapped to a principal";
	} else {
		p = reg_snapshot_key(snap, c->actor);
	}
	if (p && !reg_snapshot_org(snap, p->org)) {
		*why = "the organisation was deleted";
		return NULL;
	}
	return p;
}

/* ---- reading the log for clients ---- */

/* One read's output, shared by the clients that asked the same. */
struct memo {
	struct buf out;               /* SSE-framed events */
	struct feed_pos last;         /* position of the last event in out */
	struct feed_pos next;         /* where to read on */
	size_t nevents;
	size_t budget;                /* stop after this many bytes */
	bool stopped;                 /* the budget stopped the read */
	bool complete;                /* the read reached the log's end */
	enum tcerr rc;
	/* a peer hub's read (docs/peers.md): the ids of what leaves, for the
	 * audit log ("peer.out"), as "id@version" strings, NUL-separated */
	bool peer;
	struct buf ids;
	size_t nids;
	struct feed_pos first;
};

static enum tcerr
memo_cb(void *ctx, const struct feed_event *ev)
{
	struct memo *m = ctx;
	char id[FEED_POS_TEXT_MAX];
	feed_pos_format(ev->pos, id);
	sse_event(&m->out, id, feed_event_name(ev->type), ev->data);
	if (buf_error(&m->out))
		return TC_ENOMEM;
	if (m->peer) {
		json_t *j = json_loadb(ev->data.p, ev->data.len, 0, NULL);
		json_t *o = json_object_get(j, "object");
		const char *oid = json_string_value(json_object_get(o ? o : j, "id"));
		const char *ver = o ? json_string_value(json_object_get(o, "modified"))
		                    : json_string_value(json_object_get(j, "version"));
		if (!m->nids)
			m->first = ev->pos;
		buf_printf(&m->ids, "%s%s%s%s", ev->type == FEED_EV_DELETE ? "delete " : "",
		           oid ? oid : "?", ver ? "@" : "", ver ? ver : "");
		buf_append_char(&m->ids, '\0');
		m->nids++;
		json_decref(j);
	}
	m->last = ev->pos;
	m->nevents++;
	if (m->out.len >= m->budget) {
		m->stopped = true;
		return TC_ELIMIT;
	}
	return TC_OK;
}

static bool
pos_eq(struct feed_pos a, struct feed_pos b)
{
	return a.seq == b.seq;
}

static int
pos_cmp(struct feed_pos a, struct feed_pos b)
{
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

/* Do a and b ask the same read (same principal, view, filter, position)? */
static bool
same_read(const struct client *a, const struct client *b)
{
	return a->p == b->p && a->view == b->view && pos_eq(a->rd_scan, b->rd_scan) &&
	       a->rd_live == b->rd_live && strcmp(a->filter_key, b->filter_key) == 0;
}

static int
read_order(const void *x, const void *y)
{
	const struct client *a = *(const struct client *const *)x;
	const struct client *b = *(const struct client *const *)y;
	if (a->p != b->p)
		return (uintptr_t)a->p < (uintptr_t)b->p ? -1 : 1;
	if (a->view != b->view)
		return a->view < b->view ? -1 : 1;
	int r = strcmp(a->filter_key, b->filter_key);
	if (r)
		return r;
	if (a->rd_live != b->rd_live)
		return a->rd_live ? -1 : 1;
	return pos_cmp(a->rd_scan, b->rd_scan);
}

/* Reads for c into m (emptied first). */
static void
memo_read(struct stream_server *s, struct client *c, struct memo *m,
          const struct allowlist *allow)
{
	struct policy_subject who;
	struct diag d;
	buf_clear(&m->out);
	buf_clear(&m->ids);
	m->nids = 0;
	m->peer = c->p && c->p->role == ROLE_PEER;
	m->nevents = 0;
	m->stopped = m->complete = false;
	m->last = c->scan;
	m->next = c->scan;
	/* a live client may take a whole buffer of new events (more than
	 * that at once makes it a client catching up); one behind the log
	 * reads half a buffer at a time */
	m->budget = s->app->conf->stream_client_buffer / (c->rd_live ? 1 : 2);
	policy_subject_principal(&who, s->snap, c->p);
	struct feed_ctx fc = {
		.store = s->store, .who = &who, .names = s->snap, .allow = allow,
		.now_us = 0, .block_min_confidence = (int)s->app->conf->block_min_confidence,
	};
	diag_clear(&d);
	struct feed_pos next = c->scan;
	m->rc = feed_read(&fc, c->view, &c->fs.f, c->scan, STREAM_READ_EVENTS_MAX, memo_cb, m,
	                  &next, &d);
	if (m->rc == TC_ELIMIT && m->stopped) {
		m->rc = TC_OK;
		m->next = m->last;
	} else if (m->rc == TC_OK) {
		m->next = next;
		m->complete = m->nevents < STREAM_READ_EVENTS_MAX;
	} else {
		log_error("stream: reading the log failed", d.msg[0] ? d.msg : tcerr_str(m->rc));
	}
}

/* A peer hub was handed m's events: counted as objects out of that peer
 * and written to the audit log, one "peer.out" entry naming every version
 * (and deletion) that left, so `tocsin audit --peer` shows exactly what
 * crossed the border. */
static void
peer_out(struct stream_server *s, struct client *c, const struct memo *m)
{
	const char **ids = buf_error(&m->ids) ? NULL : calloc(m->nids, sizeof *ids);
	const struct reg_org *o = reg_snapshot_org(s->snap, c->p->org);
	char detail[96];
	struct diag d;
	size_t k = 0;
	for (const char *p = (const char *)m->ids.p; ids && k < m->nids; p += strlen(p) + 1)
		ids[k++] = p;
	snprintf(detail, sizeof detail, "stream: %zu events, positions %llu to %llu", m->nids,
	         (unsigned long long)m->first.seq, (unsigned long long)m->last.seq);
	for (size_t i = 0; i < k || i == 0; i += AUDIT_IDS_MAX) {
		size_t n = k - i < AUDIT_IDS_MAX ? k - i : AUDIT_IDS_MAX;
		struct audit_entry e = { .action = "peer.out", .actor = c->actor,
			                 .org = o ? o->name : NULL, .request = STREAM_PATH,
			                 .ids = n ? ids + i : NULL, .nids = n, .detail = detail };
		diag_clear(&d);
		if (audit_append(s->app->audit, &e, &d))
			log_error("stream: cannot write the audit log", d.msg);
		if (!k)
			break;
	}
	free(ids);
	peers_count_out(s->app->peers, c->p->org, m->nids);
}

/* Hands m's events to c: all of them, or (a live client that cannot take
 * them) a cut; a client catching up that cannot take them yet waits. */
static void
memo_apply(struct stream_server *s, struct client *c, const struct memo *m, uint64_t now)
{
	if (m->rc)
		return; /* tried again next round */
	pthread_mutex_lock(&c->mu);
	if (c->gone || c->ended) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	if (m->out.len && !fits_locked(c, m->out.len)) {
		bool live = c->caught_up;
		if (!live)
			c->want_room = true;
		pthread_mutex_unlock(&c->mu);
		if (live)
			client_cut(c);
		return;
	}
	if (m->out.len && !append_locked(c, (const char *)m->out.p, m->out.len)) {
		pthread_mutex_unlock(&c->mu);
		client_end(c, "end", "the hub is out of memory");
		return;
	}
	if (m->out.len) {
		wake_locked(c);
		c->last_append_us = now;
	}
	c->caught_up = m->complete;
	if (!c->caught_up)
		c->want_room = true;
	pthread_mutex_unlock(&c->mu);
	if (m->nevents) {
		c->pos = m->last;
		metrics_stream_events(m->nevents);
	}
	if (m->peer && m->nids)
		peer_out(s, c, m);
	c->scan = m->next;
}

/* ---- the stream thread ---- */

/* Takes the clients queued by request threads. */
static void
adopt(struct stream_server *s)
{
	pthread_mutex_lock(&s->mu);
	struct client *list = s->pending;
	s->pending = NULL;
	pthread_mutex_unlock(&s->mu);
	while (list) {
		struct client *c = list;
		list = c->next;
		c->next = s->clients;
		s->clients = c;
		c->p = NULL; /* resolved against the thread's snapshot below */
	}
}

/* Takes the current registry snapshot when it moved. true if it did. */
static bool
refresh_snapshot(struct stream_server *s)
{
	struct app *a = s->app;
	uint64_t g = atomic_load_explicit(&a->snap_gen, memory_order_acquire);
	if (s->snap && g == s->snap_gen)
		return false;
	struct reg_snapshot *ns = app_snapshot_get(a);
	if (s->snap)
		reg_snapshot_unref(s->snap);
	s->snap = ns;
	s->snap_gen = g;
	return true;
}

/* Drops the clients MHD is done with. */
static void
reap(struct stream_server *s)
{
	for (struct client **pp = &s->clients; *pp;) {
		struct client *c = *pp;
		pthread_mutex_lock(&c->mu);
		bool gone = c->gone;
		pthread_mutex_unlock(&c->mu);
		if (!gone) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		client_unref(c);
	}
}

/* Queues a snapshot job for c. false when the queue is full. */
static bool
snapshot_queue(struct stream_server *s, struct client *c)
{
	bool ok = false;
	pthread_mutex_lock(&s->mu);
	if (s->njobs < STREAM_SNAPSHOT_QUEUE_MAX) {
		atomic_fetch_add(&c->refs, 1);
		s->jobs[s->njobs++].c = c;
		pthread_cond_signal(&s->jobs_cv);
		ok = true;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

/* One round: every client that needs a read gets it; heartbeats; ends. */
static void
round_run(struct stream_server *s, bool committed, bool snap_moved, struct client ***vec,
          size_t *veccap, struct memo *m)
{
	struct app *a = s->app;
	uint64_t now = mono_us();
	uint64_t hb = (uint64_t)a->conf->stream_heartbeat * 1000000u;
	size_t n = 0;
	struct allowlist *allow = NULL;

	for (struct client *c = s->clients; c; c = c->next) {
		pthread_mutex_lock(&c->mu);
		bool skip = c->gone || c->ended;
		enum client_phase ph = c->phase;
		size_t f = fill(c);
		pthread_mutex_unlock(&c->mu);
		if (skip)
			continue;
		if (!c->p || snap_moved || (c->p->expires_us && ts_now_us() >= c->p->expires_us)) {
			const char *why;
			c->p = client_principal(c, s->snap, &why);
			if (!c->p) {
				client_end(c, "end", why);
				log_client(c, CONF_LOG_INFO, "stream ended", why);
				continue;
			}
		}
		if (ph == PH_SNAPSHOT) {
			continue;
		}
		if (c->last_append_us + hb <= now && f == 0) {
			pthread_mutex_lock(&c->mu);
			if (!c->gone && !c->ended && append_locked(c, ": heartbeat\n\n", 13)) {
				wake_locked(c);
				c->last_append_us = now;
			}
			pthread_mutex_unlock(&c->mu);
		}
		bool want = c->caught_up ? committed
		                         : f <= a->conf->stream_client_buffer / 2;
		if (!want)
			continue;
		if (n == *veccap) {
			size_t nc = *veccap ? 2 * *veccap : 64;
			struct client **nv = realloc(*vec, nc * sizeof **vec);
			if (!nv)
				continue; /* it reads next round (its principal is checked) */
			*vec = nv;
			*veccap = nc;
		}
		c->rd_scan = c->scan;
		c->rd_live = c->caught_up;
		(*vec)[n++] = c;
	}
	if (!n)
		return;
	qsort(*vec, n, sizeof **vec, read_order);
	if (a->hub)
		allow = hub_allowlist_get(a->hub);
	for (size_t i = 0; i < n; i++) {
		struct client *c = (*vec)[i];
		if (i == 0 || !same_read((*vec)[i - 1], c))
			memo_read(s, c, m, allow);
		memo_apply(s, c, m, now);
	}
	if (allow)
		allowlist_free(allow);
	/* the memo's buffer is kept between rounds only while small */
	if (m->out.cap > STREAM_KEEP_BUFFER)
		buf_reset(&m->out);
	if (m->ids.cap > STREAM_KEEP_BUFFER)
		buf_reset(&m->ids);
}

static void *
stream_main(void *arg)
{
	struct stream_server *s = arg;
	struct app *a = s->app;
	struct notify_seen seen = { 0, 0 };
	struct client **vec = NULL;
	size_t veccap = 0;
	struct memo m;
	uint64_t last_pos = 0, pos_checked = 0;

	buf_init(&m.out, 0);
	buf_init(&m.ids, 0);
	seen.gen = notify_gen(&a->notify);
	(void)store_position(s->store, &last_pos);
	while (!atomic_load(&s->stopping)) {
		bool committed = notify_wait(&a->notify, &seen, STREAM_TICK_MS);
		if (atomic_load(&s->stopping))
			break;
		uint64_t now = mono_us();
		if (now - pos_checked >= STREAM_POSITION_POLL_MS * 1000u) {
			/* `tocsin import` commits without the daemon's writer: its
			 * entries are noticed here, once a second, cheaply */
			uint64_t p = 0;
			pos_checked = now;
			if (store_position(s->store, &p) == TC_OK && p != last_pos) {
				last_pos = p;
				committed = true;
			}
		}
		adopt(s);
		bool moved = refresh_snapshot(s);
		reap(s);
		/* a commit always counts: the round after a commit reads */
		round_run(s, committed, moved, &vec, &veccap, &m);
	}
	free(vec);
	buf_reset(&m.out);
	buf_reset(&m.ids);
	return NULL;
}

/* ---- snapshots (view=decisions without a position) ---- */

struct snap_ctx {
	struct client *c;
	struct stream_server *s;
	struct buf ev;
	size_t nevents;
};

/* Appends one snapshot event, waiting for the client to drain. */
static enum tcerr
snap_cb(void *ctx, const struct feed_event *ev)
{
	struct snap_ctx *x = ctx;
	struct client *c = x->c;
	unsigned timeout = x->s->app->conf->connection_timeout;
	buf_clear(&x->ev);
	sse_event(&x->ev, NULL, feed_event_name(ev->type), ev->data);
	if (buf_error(&x->ev))
		return TC_ENOMEM;
	pthread_mutex_lock(&c->mu);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout;
	while (!c->gone && !c->abort && !c->ended && !fits_locked(c, x->ev.len) &&
	       !atomic_load(&x->s->stopping))
		if (pthread_cond_timedwait(&c->room, &c->mu, &until) == ETIMEDOUT)
			break;
	enum tcerr rc = TC_OK;
	if (c->gone || c->abort || c->ended || atomic_load(&x->s->stopping))
		rc = TC_EIO;
	else if (!fits_locked(c, x->ev.len))
		rc = TC_ELIMIT; /* it did not read for connection_timeout */
	else if (!append_locked(c, (const char *)x->ev.p, x->ev.len))
		rc = TC_ENOMEM;
	else
		wake_locked(c);
	pthread_mutex_unlock(&c->mu);
	if (!rc)
		x->nevents++;
	return rc;
}

static void
snapshot_run(struct stream_server *s, struct client *c, struct store *st)
{
	struct snap_ctx x = { .c = c, .s = s };
	struct reg_snapshot *snap = app_snapshot_get(s->app);
	const char *why = "";
	const struct reg_principal *p = client_principal(c, snap, &why);
	struct feed_pos at = { .seq = 0 };
	struct diag d;
	enum tcerr rc;

	diag_clear(&d);
	buf_init(&x.ev, 0);
	if (!p) {
		client_end(c, "end", why);
		goto out;
	}
	struct policy_subject who;
	policy_subject_principal(&who, snap, p);
	struct allowlist *allow = s->app->hub ? hub_allowlist_get(s->app->hub) : NULL;
	struct feed_ctx fc = {
		.store = st, .who = &who, .names = snap, .allow = allow,
		.now_us = 0, .block_min_confidence = (int)s->app->conf->block_min_confidence,
	};
	rc = feed_snapshot(&fc, &c->fs.f, snap_cb, &x, &at, &d);
	if (allow)
		allowlist_free(allow);
	metrics_stream_events(x.nevents);
	if (rc == TC_ELIMIT) {
		client_cut(c); /* its position is where it started: nothing */
		goto out;
	}
	if (rc) {
		if (rc != TC_EIO)
			log_error("stream: the decisions snapshot failed",
			          d.msg[0] ? d.msg : tcerr_str(rc));
		client_end(c, "end", "the snapshot could not be read; try again");
		goto out;
	}
	char id[FEED_POS_TEXT_MAX], data[FEED_POS_TEXT_MAX + 32];
	feed_pos_format(at, id);
	snprintf(data, sizeof data, "{\"position\":\"%s\"}", id);
	buf_clear(&x.ev);
	sse_event(&x.ev, id, "snapshot-end", slice_from_cstr(data));
	pthread_mutex_lock(&c->mu);
	/* the snapshot-end goes in whatever the fill: the reserve covers it */
	bool ok = !buf_error(&x.ev) && !c->ended &&
	          append_locked(c, (const char *)x.ev.p, x.ev.len);
	if (ok) {
		c->pos = c->scan = at;
		c->caught_up = false; /* read on at the next round ... */
		c->want_room = true;  /* ... or when the snapshot has drained to half */
		c->last_append_us = mono_us();
		c->phase = PH_READ;
		wake_locked(c);
	}
	pthread_mutex_unlock(&c->mu);
	if (!ok)
		client_end(c, "end", "the hub is out of memory");
	notify_poke(&s->app->notify);
out:
	buf_reset(&x.ev);
	if (snap)
		reg_snapshot_unref(snap);
}

static void *
snapshot_main(void *arg)
{
	struct stream_server *s = arg;
	struct store *st = NULL;
	struct diag d;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->njobs && !atomic_load(&s->stopping))
			pthread_cond_wait(&s->jobs_cv, &s->mu);
		if (atomic_load(&s->stopping)) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		struct client *c = s->jobs[0].c;
		memmove(s->jobs, s->jobs + 1, (s->njobs - 1) * sizeof s->jobs[0]);
		s->njobs--;
		pthread_mutex_unlock(&s->mu);
		if (!st && store_open(s->app->store_spec, &st, &d) != TC_OK) {
			log_error("stream: cannot open the store for a snapshot", d.msg);
			st = NULL;
			client_end(c, "end", "the hub's store is unavailable; try again");
		} else {
			snapshot_run(s, c, st);
		}
		client_unref(c);
	}
	if (st)
		store_close(st);
	return NULL;
}

/* ---- start, stop ---- */

enum tcerr
stream_start(struct app *a, struct stream_server **out, struct diag *d)
{
	struct stream_server *s = calloc(1, sizeof *s);
	enum tcerr rc;
	if (!s)
		return diag_set(d, TC_ENOMEM, "out of memory");
	s->app = a;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->jobs_cv, NULL);
	if ((rc = store_open(a->store_spec, &s->store, d)))
		goto bad;
	s->snap = app_snapshot_get(a);
	s->snap_gen = atomic_load(&a->snap_gen);
	if (pthread_create(&s->thread, NULL, stream_main, s) != 0) {
		rc = diag_set(d, TC_EIO, "cannot start the stream thread");
		goto bad;
	}
	s->thread_started = true;
	for (size_t i = 0; i < STREAM_SNAPSHOT_THREADS; i++) {
		if (pthread_create(&s->snap_threads[i], NULL, snapshot_main, s) != 0) {
			stream_stop(s);
			stream_free(s);
			return diag_set(d, TC_EIO, "cannot start a stream snapshot thread");
		}
		s->nsnap_threads++;
	}
	*out = s;
	return TC_OK;
bad:
	stream_free(s);
	return rc;
}

/* Ends c at once (shutdown). */
static void
client_abort(struct client *c)
{
	pthread_mutex_lock(&c->mu);
	c->abort = true;
	c->ended = true;
	if (!c->gone && !c->suspended) {
		/* a client that stopped reading would hold its connection (and the
		 * shutdown) until connection_timeout: its socket is shut now. The
		 * connection is open while the response is (c->gone unset). */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c->con, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
	}
	wake_locked(c);
	pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->mu);
}

void
stream_stop(struct stream_server *s)
{
	if (!s || atomic_exchange(&s->stopping, true))
		return;
	notify_poke(&s->app->notify);
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->jobs_cv);
	/* jobs still queued: their clients wake their snapshot waits below */
	pthread_mutex_unlock(&s->mu);
	if (s->thread_started) {
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
	adopt(s);
	for (struct client *c = s->clients; c; c = c->next)
		client_abort(c);
	for (size_t i = 0; i < s->nsnap_threads; i++)
		pthread_join(s->snap_threads[i], NULL);
	s->nsnap_threads = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->njobs; i++)
		client_unref(s->jobs[i].c);
	s->njobs = 0;
	pthread_mutex_unlock(&s->mu);
}

void
stream_free(struct stream_server *s)
{
	if (!s)
		return;
	stream_stop(s);
	adopt(s);
	while (s->clients) {
		struct client *c = s->clients;
		s->clients = c->next;
		client_unref(c);
	}
	if (s->snap)
		reg_snapshot_unref(s->snap);
	if (s->store)
		store_close(s->store);
	free(s->orgs);
	pthread_cond_destroy(&s->jobs_cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

uint64_t
stream_buffered(struct stream_server *s)
{
	return s ? atomic_load_explicit(&s->buffered, memory_order_relaxed) : 0;
}

uint64_t
stream_clients(struct stream_server *s)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	uint64_t n = s->nclients;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ---- opening a stream ---- */

static void
fail(struct api_stream_out *out, int status, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
fail(struct api_stream_out *out, int status, const char *title, const char *fmt, ...)
{
	va_list ap;
	out->status = status;
	out->title = title;
	va_start(ap, fmt);
	vsnprintf(out->description, sizeof out->description, fmt, ap);
	va_end(ap);
}

/* Percent-decodes s ('+' as space) into out (NUL-terminated). false if
 * malformed, longer than cap - 1, or holding a NUL. */
static bool
pct_decode(struct slice s, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.p[i];
		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			if (i + 2 >= s.len)
				return false;
			int hi = hex_digit(s.p[i + 1]), lo = hex_digit(s.p[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (ch == '\0' || n + 1 >= cap)
			return false;
		out[n++] = ch;
	}
	out[n] = '\0';
	return true;
}

static const char *const filter_keys[] = { "collection", "type", "kind", "min_confidence",
	                                   "tlp" };

static bool
is_filter_key(const char *k)
{
	for (size_t i = 0; i < sizeof filter_keys / sizeof filter_keys[0]; i++)
		if (strcmp(k, filter_keys[i]) == 0)
			return true;
	return false;
}

/* Parses rq's query into c (view, filter, filter_key) and *pos_text.
 * Answers 400 in out on error. */
static bool
parse_query(const struct api_stream_req *rq, struct client *c, char *pos_text, size_t poscap,
            struct api_stream_out *out)
{
	char key[64], val[STREAM_PARAM_MAX];
	struct buf fk;
	bool view_seen = false, ok = false;
	struct slice q = rq->query;
	struct diag d;

	buf_init(&fk, STREAM_QUERY_MAX * 2);
	if (q.len > STREAM_QUERY_MAX) {
		fail(out, 400, "bad request", "the query string is longer than %d bytes",
		     STREAM_QUERY_MAX);
		goto out;
	}
	while (q.len) {
		const char *amp = memchr(q.p, '&', q.len);
		size_t plen = amp ? (size_t)(amp - q.p) : q.len;
		struct slice part = slice_make(q.p, plen);
		q = amp ? slice_make(amp + 1, q.len - plen - 1) : slice_make(q.p + q.len, 0);
		if (!plen)
			continue;
		const char *eq = memchr(part.p, '=', part.len);
		size_t klen = eq ? (size_t)(eq - part.p) : part.len;
		if (!pct_decode(slice_make(part.p, klen), key, sizeof key) ||
		    !pct_decode(eq ? slice_make(eq + 1, part.len - klen - 1) : slice_make("", 0), val,
		                sizeof val)) {
			fail(out, 400, "bad request",
			     "a query parameter is badly percent-encoded or too long (at most %d bytes)",
			     STREAM_PARAM_MAX - 1);
			goto out;
		}
		if (strcmp(key, "view") == 0) {
			if (view_seen) {
				fail(out, 400, "bad request", "view: given twice");
				goto out;
			}
			view_seen = true;
			if (feed_view_parse(val, &c->view) != TC_OK) {
				fail(out, 400, "bad request", "view: \"%.64s\" is not stix or decisions", val);
				goto out;
			}
		} else if (strcmp(key, "last_event_id") == 0) {
			if (pos_text[0]) {
				fail(out, 400, "bad request", "last_event_id: given twice");
				goto out;
			}
			snprintf(pos_text, poscap, "%.*s", (int)(poscap - 1), val);
			if (!val[0] || strlen(val) >= poscap) {
				fail(out, 400, "bad request", "last_event_id: not a position");
				goto out;
			}
		} else if (is_filter_key(key)) {
			diag_clear(&d);
			enum tcerr rc = feed_filter_set(&c->fs, rq->store, key, slice_from_cstr(val), &d);
			if (rc == TC_ENOMEM || rc == TC_EDB) {
				fail(out, 503, "the hub could not answer", "%s", tcerr_str(rc));
				goto out;
			}
			if (rc == TC_ENOTFOUND && strcmp(key, "collection") == 0) {
				/* worded as for a collection the principal may not read */
				fail(out, 400, "bad request", "collection: no such collection");
				goto out;
			}
			if (rc) {
				fail(out, 400, "bad request", "%s", d.msg[0] ? d.msg : tcerr_str(rc));
				goto out;
			}
			buf_printf(&fk, "%s=%s&", key, val);
		} else {
			fail(out, 400, "bad request",
			     "unknown parameter \"%.64s\" (view, last_event_id, collection, type, kind, "
			     "min_confidence, tlp)",
			     key);
			goto out;
		}
	}
	/* a collection the principal may not read answers as an unknown one:
	 * the stream must not tell which collections exist */
	struct policy_subject who;
	policy_subject_principal(&who, rq->snap, rq->who);
	for (size_t i = 0; i < c->fs.f.ncollections; i++) {
		const struct reg_collection *rc = reg_snapshot_collection(rq->snap, c->fs.f.collections[i]);
		if (!rc || !policy_collection(&who, rc).can_read) {
			fail(out, 400, "bad request", "collection: no such collection");
			goto out;
		}
	}
	if (buf_error(&fk)) {
		fail(out, 503, "the hub could not answer", "out of memory");
		goto out;
	}
	buf_append_char(&fk, '\0');
	c->filter_key = buf_detach(&fk, NULL);
	ok = c->filter_key != NULL;
	if (!ok)
		fail(out, 503, "the hub could not answer", "out of memory");
out:
	buf_reset(&fk);
	return ok;
}

/* Counts c against the limits. false (503 in out) when one is reached. */
static bool
count_in(struct stream_server *s, struct client *c, struct api_stream_out *out)
{
	const struct conf *cf = s->app->conf;
	bool ok = false;
	pthread_mutex_lock(&s->mu);
	struct org_count *oc = NULL;
	for (size_t i = 0; i < s->norgs; i++)
		if (s->orgs[i].org == c->org)
			oc = &s->orgs[i];
	if (s->nclients >= cf->stream_max_clients) {
		metrics_stream_refused(MS_MAX_CLIENTS);
		fail(out, 503, "too many streams",
		     "the hub serves at most %u streams ([stream] max_clients); retry later",
		     cf->stream_max_clients);
	} else if (oc && oc->n >= cf->stream_max_clients_per_org) {
		metrics_stream_refused(MS_MAX_CLIENTS_PER_ORG);
		fail(out, 503, "too many streams",
		     "your organisation holds %u streams already ([stream] max_clients_per_org)",
		     cf->stream_max_clients_per_org);
	} else {
		if (!oc && s->norgs == s->orgs_cap) {
			size_t nc = s->orgs_cap ? 2 * s->orgs_cap : 16;
			void *p = realloc(s->orgs, nc * sizeof *s->orgs);
			if (p) {
				s->orgs = p;
				s->orgs_cap = nc;
			}
		}
		if (!oc && s->norgs < s->orgs_cap) {
			oc = &s->orgs[s->norgs++];
			*oc = (struct org_count){ c->org, 0 };
		}
		if (oc) {
			oc->n++;
			s->nclients++;
			c->counted = true;
			ok = true;
		} else {
			fail(out, 503, "the hub could not answer", "out of memory");
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		out->retry_after = true;
	return ok;
}

void
api_stream_open(struct stream_server *s, const struct api_stream_req *rq,
                struct api_stream_out *out)
{
	char pos_text[FEED_POS_TEXT_MAX + 1] = "";
	struct client *c = NULL;
	memset(out, 0, sizeof *out);

	if (strcmp(rq->method, "GET") != 0) {
		fail(out, 405, "method not allowed", "%s answers GET", STREAM_PATH);
		return;
	}
	if (!s || atomic_load(&s->stopping)) {
		fail(out, 503, "the hub is stopping", "retry later");
		out->retry_after = true;
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		fail(out, 503, "the hub could not answer", "out of memory");
		return;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->room, NULL);
	atomic_init(&c->refs, 1);
	c->s = s;
	c->con = rq->con;
	c->view = FEED_STIX;
	c->org = rq->who->org;
	c->cred = rq->who->cred;
	snprintf(c->actor, sizeof c->actor, "%s", rq->actor ? rq->actor : "");
	feed_filter_init(&c->fs);
	if (!parse_query(rq, c, pos_text, sizeof pos_text, out))
		goto bad;
	if (!pos_text[0] && rq->last_event_id)
		snprintf(pos_text, sizeof pos_text, "%.*s", (int)sizeof pos_text - 1,
		         rq->last_event_id);
	if (pos_text[0]) {
		if (feed_pos_parse(slice_from_cstr(pos_text), &c->pos) != TC_OK) {
			fail(out, 400, "bad request",
			     "Last-Event-ID / last_event_id: \"%.32s\" is not a position (a log sequence number)",
			     pos_text);
			goto bad;
		}
		c->phase = PH_READ;
	} else if (c->view == FEED_DECISIONS) {
		c->phase = PH_SNAPSHOT;
	} else {
		/* view=stix without a position: from the log's end now */
		uint64_t end = 0;
		if (store_position(rq->store, &end) != TC_OK) {
			fail(out, 503, "the hub's store is unavailable", "try again later");
			goto bad;
		}
		c->pos = (struct feed_pos){ .seq = end };
		c->phase = PH_READ;
	}
	c->scan = c->pos;
	c->last_append_us = mono_us();
	if (!count_in(s, c, out))
		goto bad;
	out->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_SIZE,
	                                              client_read, c, client_free_cb);
	if (!out->resp) {
		pthread_mutex_lock(&s->mu);
		uncount_locked(s, c);
		pthread_mutex_unlock(&s->mu);
		fail(out, 503, "the hub could not answer", "out of memory");
		goto bad;
	}
	MHD_add_response_header(out->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/event-stream; charset=utf-8");
	MHD_add_response_header(out->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(out->resp, "X-Accel-Buffering", "no");
	MHD_add_response_header(out->resp, "X-Content-Type-Options", "nosniff");
	{
		/* the log's end as the stream opens: a peer hub's lag in
		 * positions while it catches up (docs/peers.md) */
		uint64_t end = 0;
		char endtxt[24];
		if (store_position(rq->store, &end) == TC_OK) {
			snprintf(endtxt, sizeof endtxt, "%llu", (unsigned long long)end);
			MHD_add_response_header(out->resp, "X-Tocsin-Log-Position", endtxt);
		}
	}
	out->status = 200;
	/* the response holds one reference (client_free_cb drops it), the
	 * server the other */
	atomic_fetch_add(&c->refs, 1);
	/* what the client asked for: a snapshot job may change c->phase at once */
	const char *after = pos_text[0] ? pos_text : c->phase == PH_SNAPSHOT ? "snapshot" : "end";
	if (c->phase == PH_SNAPSHOT && !snapshot_queue(s, c))
		client_end(c, "end", "too many snapshots are being made; retry later");
	pthread_mutex_lock(&s->mu);
	c->next = s->pending;
	s->pending = c;
	pthread_mutex_unlock(&s->mu);
	/* stream_stop() sets stopping before it takes the pending clients:
	 * one queued after that is ended here */
	if (atomic_load(&s->stopping))
		client_abort(c);
	notify_poke(&s->app->notify);
	{
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "stream opened");
		log_str(&l, "key", c->actor);
		log_int(&l, "org", c->org);
		log_str(&l, "view", feed_view_name(c->view));
		log_str(&l, "after", after);
		log_end(&l);
	}
	return;
bad:
	client_unref(c);
}
