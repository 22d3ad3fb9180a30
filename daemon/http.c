/*
 * http.c — the libmicrohttpd glue of tocsind (see http.h).
 *
 * One struct req lives per request, from the URI callback (which keeps
 * the raw URI: MHD hands the handler only the decoded path) to the
 * completion callback (access log line, metrics, free). The body is
 * accumulated in a buf capped at the largest max_content_length of any
 * configured API root (each root's own limit is checked in lib/taxii): a larger
 * Content-Length is refused before reading, a larger streamed body is
 * discarded as it arrives and refused at its end, both with 413. Every
 * answer this file makes is a JSON error resource (TAXII 2.1 §3.6.1) —
 * with the TAXII media type on /taxii2/ — never HTML.
 *
 * Connections are tracked from accept to close (struct conn, MHD's
 * socket context), so that:
 *  - a request MHD gave up on after the URI callback is freed and logged
 *    when its connection closes, whatever path MHD took;
 *  - one client address holds at most per_address_limit connections
 *    (the accept policy callback refuses the next at once, with a log
 *    line and a metric);
 *  - a connection that has not delivered a complete request header
 *    within header_timeout seconds (of its accept, or of the previous
 *    answer on it) is cut by the reaper thread: shutdown(2) on its
 *    socket, which MHD then closes. MHD notifies the close before it
 *    closes the descriptor, and the wait list is guarded by one mutex,
 *    so the reaper never touches a descriptor that was reused.
 * The query string is parsed by lib/taxii with its own limits, never by
 * MHD (see on_uri), so no number of parameters exhausts MHD's memory.
 *
 * Known gap: errors MHD raises itself before calling us (a header block
 * larger than HTTP_MEMORY_LIMIT, a request line MHD cannot parse) are
 * answered by libmicrohttpd 0.9.75 with its own short HTML body; it has
 * no way to replace it. Such requests are logged and counted.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_agents.h"
#include "api_tasks.h"
#include "api_crowdsec.h"
#include "api_stream.h"
#include "api_export.h"
#include "api_match.h"
#include "api_indicators.h"
#include "api_reports.h"
#include "auth.h"
#include "log.h"
#include "metrics.h"
#include "peers.h"
#include "webhooks.h"
#include "sources.h"
#include "policy/policy.h"
#include "util/hex.h"

#define WWW_AUTHENTICATE "Basic realm=\"tocsin\", Bearer realm=\"tocsin\""
#define JSON_TYPE "application/json"

struct conn;
struct addr_count;

struct listener {
	struct MHD_Daemon *d;
	struct app *app;
	bool tls;
	bool quiesced;                  /* listen_fd is ours to close after MHD_stop_daemon */
	MHD_socket listen_fd;
	char addr[CONF_ADDR_MAX + 8];
	pthread_mutex_t mu;             /* guards the fields below */
	struct conn *waiting;           /* connections owing a request header */
	struct addr_count *by_addr[HTTP_ADDR_BUCKETS];
	uint64_t last_refusal_log_us;   /* rate limit of refusal log lines */
	uint64_t refusals_unlogged;
};

struct http_server {
	struct app *app;
	struct listener l[2];
	size_t n;
	char *pem_cert, *pem_key, *pem_ca;
	pthread_t reaper;
	bool reaper_started;
	_Atomic bool stopping;
};

/* Connections open from one client address. */
struct addr_count {
	struct addr_count *next;
	unsigned char a[16];            /* IPv6, or IPv4-mapped */
	unsigned n;
};

/* One accepted connection, from MHD's "started" to its "closed" notice. */
struct conn {
	struct listener *lis;
	struct req *req;                /* begun and not completed by MHD */
	struct conn *prev, *next;       /* in lis->waiting while waiting */
	bool waiting, counted;
	uint64_t since_us;              /* when it began to owe a request header */
	int fd;
	unsigned char a[16];
	char addr[INET6_ADDRSTRLEN];
};

struct req {
	struct listener *lis;
	struct conn *conn;       /* NULL if MHD gave no socket context */
	uint64_t t0_us;
	char *uri;               /* raw request target, NUL-terminated, capped */
	bool uri_cut;
	struct buf body;
	bool started, counted, too_large, body_nomem, busy, retry_after;
	size_t reserved;         /* bytes counted in app->body_bytes for this body */
	int status;
	size_t bytes;
	char method[16];
	char actor[AUTH_ACTOR_MAX];
	enum metrics_route route; /* what was served (set by dispatch) */
	bool routed;
	struct api_crowdsec_answer *cs; /* told how the answer went (api_crowdsec_sent) */
};

/* Per worker thread: its store connection and its snapshot reference. */
struct tstate {
	struct store *store;
	struct reg_snapshot *snap;
	uint64_t gen;
};

static pthread_key_t tkey;
static pthread_once_t tkey_once = PTHREAD_ONCE_INIT;

static void
tstate_free(void *p)
{
	struct tstate *t = p;
	if (t->store)
		store_close(t->store);
	if (t->snap)
		reg_snapshot_unref(t->snap);
	free(t);
}

static void
tkey_init(void)
{
	if (pthread_key_create(&tkey, tstate_free) != 0)
		abort();
}

static struct tstate *
tstate_get(void)
{
	struct tstate *t = pthread_getspecific(tkey);
	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			abort(); /* the daemon's glue may die on OOM (STYLE) */
		pthread_setspecific(tkey, t);
	}
	return t;
}

static const struct reg_snapshot *
thread_snapshot(struct app *a, struct tstate *t)
{
	uint64_t g = atomic_load_explicit(&a->snap_gen, memory_order_acquire);
	if (!t->snap || t->gen != g) {
		struct reg_snapshot *s = app_snapshot_get(a);
		if (t->snap)
			reg_snapshot_unref(t->snap);
		t->snap = s;
		t->gen = g;
	}
	return t->snap;
}

static struct store *
thread_store(struct app *a, struct tstate *t, struct diag *d)
{
	if (!t->store && store_open(a->store_spec, &t->store, d) != TC_OK)
		t->store = NULL;
	return t->store;
}

static uint64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- connections: per-address counts and the header deadline ---- */

/* The 16-byte key of a client address (IPv4 as IPv4-mapped IPv6) and its
 * text. false for another family (not counted). */
static bool
addr_key(const struct sockaddr *sa, unsigned char key[16], char *text, size_t tlen)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		if (text)
			inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)tlen);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key, &in6->sin6_addr, 16);
		if (text)
			inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)tlen);
		return true;
	}
	return false;
}

static size_t
addr_bucket(const unsigned char a[16])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (size_t)(h % HTTP_ADDR_BUCKETS);
}

/* With lis->mu held: the count of address a, created at 0 if create. */
static struct addr_count *
addr_find(struct listener *lis, const unsigned char a[16], bool create)
{
	struct addr_count **pp = &lis->by_addr[addr_bucket(a)];
	for (struct addr_count *c = *pp; c; c = c->next)
		if (memcmp(c->a, a, 16) == 0)
			return c;
	if (!create)
		return NULL;
	struct addr_count *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	memcpy(c->a, a, 16);
	c->next = *pp;
	*pp = c;
	return c;
}

/* With lis->mu held: one connection of address a less. */
static void
addr_release(struct listener *lis, const unsigned char a[16])
{
	struct addr_count **pp = &lis->by_addr[addr_bucket(a)];
	for (struct addr_count *c = *pp; c; pp = &c->next, c = c->next) {
		if (memcmp(c->a, a, 16) != 0)
			continue;
		if (c->n > 1) {
			c->n--;
			return;
		}
		*pp = c->next;
		free(c);
		return;
	}
}

/* With lis->mu held: (re)starts c's header deadline. */
static void
wait_add(struct listener *lis, struct conn *c)
{
	if (c->waiting)
		return;
	c->since_us = now_us();
	c->prev = NULL;
	c->next = lis->waiting;
	if (lis->waiting)
		lis->waiting->prev = c;
	lis->waiting = c;
	c->waiting = true;
}

/* With lis->mu held: c has delivered its request header (or is gone). */
static void
wait_remove(struct listener *lis, struct conn *c)
{
	if (!c->waiting)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		lis->waiting = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->waiting = false;
}

/* A log line for a refused or cut connection, at most one a second per
 * listener (a flood must not become a flood of log lines): it says how
 * many went unlogged since the last one. With lis->mu held. */
static void
log_refusal(struct listener *lis, const char *limit, const char *addr)
{
	uint64_t now = now_us();
	if (lis->last_refusal_log_us && now - lis->last_refusal_log_us < 1000000u) {
		lis->refusals_unlogged++;
		return;
	}
	struct logline l;
	log_begin(&l, CONF_LOG_WARN, "connection refused");
	log_str(&l, "limit", limit);
	log_str(&l, "client", addr);
	log_str(&l, "listener", lis->addr);
	log_int(&l, "unlogged_before", (int64_t)lis->refusals_unlogged);
	log_end(&l);
	lis->last_refusal_log_us = now;
	lis->refusals_unlogged = 0;
}

/* MHD's accept policy: refuses a connection from an address that holds
 * per_address_limit already. The count itself moves in on_connection. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
	struct listener *lis = cls;
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN] = "";
	(void)salen;
	if (!addr_key(sa, a, text, sizeof text))
		return MHD_YES;
	pthread_mutex_lock(&lis->mu);
	struct addr_count *c = addr_find(lis, a, false);
	bool refuse = c && c->n >= lis->app->conf->per_address_limit;
	if (refuse)
		log_refusal(lis, "per_address_limit", text);
	pthread_mutex_unlock(&lis->mu);
	if (refuse)
		metrics_conn_refused(MC_PER_ADDRESS);
	return refuse ? MHD_NO : MHD_YES;
}

/* Logs and frees a request MHD began (URI callback) but never completed. */
static void req_abandoned(struct listener *lis, struct req *r);

static void
on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
	struct listener *lis = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *c = calloc(1, sizeof *c);
		*socket_context = c;
		if (!c)
			return; /* untracked: no deadline, not counted */
		c->lis = lis;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		bool keyed = ci && addr_key(ci->client_addr, c->a, c->addr, sizeof c->addr);
		pthread_mutex_lock(&lis->mu);
		if (keyed) {
			struct addr_count *ac = addr_find(lis, c->a, true);
			if (ac) {
				ac->n++;
				c->counted = true;
			}
		}
		if (c->fd >= 0)
			wait_add(lis, c);
		pthread_mutex_unlock(&lis->mu);
		return;
	}
	struct conn *c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&lis->mu);
	wait_remove(lis, c);
	if (c->counted)
		addr_release(lis, c->a);
	pthread_mutex_unlock(&lis->mu);
	if (c->req)
		req_abandoned(lis, c->req);
	free(c);
	*socket_context = NULL;
}

/* Cuts every connection of s that owes a request header for longer than
 * header_timeout. */
static void
reap(struct http_server *s)
{
	uint64_t limit = (uint64_t)s->app->conf->header_timeout * 1000000u;
	uint64_t now = now_us();
	for (size_t i = 0; i < s->n; i++) {
		struct listener *lis = &s->l[i];
		size_t cut = 0;
		pthread_mutex_lock(&lis->mu);
		for (struct conn *c = lis->waiting, *next; c; c = next) {
			next = c->next;
			if (now - c->since_us < limit)
				continue;
			wait_remove(lis, c);
			shutdown(c->fd, SHUT_RDWR); /* MHD sees the end and closes it */
			log_refusal(lis, "header_timeout", c->addr);
			cut++;
		}
		pthread_mutex_unlock(&lis->mu);
		while (cut--)
			metrics_conn_refused(MC_HEADER_TIMEOUT);
	}
}

static void *
reaper_main(void *arg)
{
	struct http_server *s = arg;
	while (!atomic_load(&s->stopping)) {
		usleep(HTTP_REAP_INTERVAL_MS * 1000u);
		reap(s);
	}
	return NULL;
}

/* Queues body (a malloc'd buffer, taken over) with the headers given. */
static enum MHD_Result
respond_loc(struct MHD_Connection *con, struct req *r, int status, const char *ctype,
            struct buf *body, bool www_auth, const char *first, const char *last,
            const char *location)
{
	size_t len = 0;
	char *p = buf_error(body) ? NULL : buf_detach(body, &len);
	if (!p) {
		buf_reset(body);
		p = strdup("{\"title\":\"out of memory\",\"http_status\":\"503\"}");
		if (!p)
			return MHD_NO;
		len = strlen(p);
		status = 503;
		ctype = JSON_TYPE;
	}
	struct MHD_Response *rs = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
	if (!rs) {
		free(p);
		return MHD_NO;
	}
	if (ctype)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
	if (www_auth)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_WWW_AUTHENTICATE, WWW_AUTHENTICATE);
	if (r->retry_after)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, HTTP_RETRY_AFTER);
	if (first && first[0])
		MHD_add_response_header(rs, "X-TAXII-Date-Added-First", first);
	if (last && last[0])
		MHD_add_response_header(rs, "X-TAXII-Date-Added-Last", last);
	if (location && location[0])
		MHD_add_response_header(rs, MHD_HTTP_HEADER_LOCATION, location);
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, rs);
	MHD_destroy_response(rs);
	r->status = status;
	r->bytes = len;
	return ret;
}

static enum MHD_Result
respond(struct MHD_Connection *con, struct req *r, int status, const char *ctype,
        struct buf *body, bool www_auth, const char *first, const char *last)
{
	return respond_loc(con, r, status, ctype, body, www_auth, first, last, NULL);
}

/* A TAXII 2.1 §3.6.1 error resource; the TAXII media type on /taxii2/. */
static enum MHD_Result
respond_error(struct MHD_Connection *con, struct req *r, int status, bool taxii,
              const char *title, const char *description, bool www_auth)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "{\"title\":");
	buf_append_json_str(&b, slice_from_cstr(title));
	if (description) {
		buf_append_cstr(&b, ",\"description\":");
		buf_append_json_str(&b, slice_from_cstr(description));
	}
	buf_printf(&b, ",\"http_status\":\"%d\"}", status);
	if (!taxii) {
		/* elsewhere JSON, unless the client asked for TAXII (a TAXII client
		 * that mistyped a path gets an answer it can parse) */
		const char *acc = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                              MHD_HTTP_HEADER_ACCEPT);
		taxii = acc && strstr(acc, "application/taxii+json") != NULL;
	}
	return respond(con, r, status, taxii ? TAXII_MEDIA_TYPE : JSON_TYPE, &b, www_auth, NULL,
	               NULL);
}

static bool
is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static enum MHD_Result
serve_healthz(struct MHD_Connection *con, struct req *r, struct app *a)
{
	struct buf b;
	if (!is_get(r->method))
		return respond_error(con, r, 405, false, "method not allowed",
		                     "/healthz answers GET", false);
	buf_init(&b, 0);
	buf_printf(&b, "{\"status\":\"ok\",\"log_position\":%llu}\n",
	           (unsigned long long)app_log_position(a));
	return respond(con, r, 200, JSON_TYPE, &b, false, NULL, NULL);
}

static enum MHD_Result
serve_metrics(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
              const struct reg_snapshot *snap)
{
	struct buf b;
	struct diag d;
	struct store *s = thread_store(a, t, &d);
	uint64_t pos = 0;
	/* the store's position counts what the CLI committed too */
	if (!s || store_position(s, &pos) != TC_OK)
		pos = 0;
	if (pos < app_log_position(a))
		pos = app_log_position(a);
	struct metrics_gauges g = {
		.log_position = pos,
		.index_entries = atomic_load(&a->index_entries),
		.organisations = snap ? reg_snapshot_norgs(snap) : 0,
		.principals = snap ? reg_snapshot_nprincipals(snap) : 0,
		.collections = snap ? reg_snapshot_ncollections(snap) : 0,
		.writer = a->writer ? hub_writer_stats(a->writer) : NULL,
		.stream_clients = stream_clients(a->stream),
		.stream_buffered = stream_buffered(a->stream),
	};
	if (!is_get(r->method))
		return respond_error(con, r, 405, false, "method not allowed",
		                     "/metrics answers GET", false);
	buf_init(&b, 0);
	metrics_render(&b, &g);
	webhooks_metrics(a->webhooks, &b);
	sources_metrics(a->sources, &b);
	peers_metrics(a->peers, &b);
	api_crowdsec_metrics(snap, pos, &b);
	api_agents_metrics(a, snap, pos, &b);
	api_reports_metrics(a, &b);
	api_tasks_metrics(a, snap, &b);
	return respond(con, r, 200, "text/plain; version=0.0.4; charset=utf-8", &b, false, NULL,
	               NULL);
}

static enum MHD_Result
serve_taxii(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
            const char *url, const struct policy_subject *who)
{
	struct diag d;
	struct store *s = thread_store(a, t, &d);
	if (!s) {
		log_error("store open failed", d.msg);
		return respond_error(con, r, 503, true, "the hub's store is unavailable",
		                     "try again later", false);
	}
	const char *q = strchr(r->uri, '?');
	struct taxii_env env = {
		.store = s, .registry = a->registry, .audit = a->audit, .writer = &a->tw,
	};
	struct taxii_request rq = {
		.method = r->method,
		.path = url,
		.query = q ? slice_make(q + 1, strcspn(q + 1, "#")) : slice_make("", 0),
		.accept = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
		.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                            MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = buf_slice(&r->body),
		.who = who,
		.actor = r->actor[0] ? r->actor : NULL,
	};
	struct taxii_response rs;
	taxii_response_init(&rs);
	enum tcerr rc = taxii_handle(&a->tcfg, &env, &rq, &rs);
	enum MHD_Result ret;
	if (rc) {
		taxii_response_reset(&rs);
		return respond_error(con, r, 503, true, "the hub could not answer",
		                     tcerr_str(rc), false);
	}
	ret = respond_loc(con, r, rs.status, rs.content_type, &rs.body, rs.www_authenticate,
	                  rs.date_added_first, rs.date_added_last, rs.location);
	taxii_response_reset(&rs);
	return ret;
}

/* The CrowdSec LAPI routes (api_crowdsec.c); the answer is told whether
 * it was sent whole when the request completes (req_finish). */
static enum MHD_Result
serve_crowdsec(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
               const struct reg_snapshot *snap, const char *url, const struct reg_principal *p)
{
	struct diag d;
	struct api_crowdsec_answer *ans = malloc(sizeof *ans);
	if (!ans)
		abort(); /* the daemon's glue may die on OOM (STYLE) */
	api_crowdsec_handle(a, thread_store(a, t, &d), snap, t->gen, con, r->method, url, r->uri, p,
	                    ans);
	if (ans->actor[0])
		snprintf(r->actor, sizeof r->actor, "%s", ans->actor);
	r->cs = ans;
	return respond(con, r, ans->status, JSON_TYPE, &ans->body, false, NULL, NULL);
}

/* GET /api/v1/stream (api_stream.c): authenticated like TAXII; the
 * stream itself is a response libmicrohttpd pulls from the stream
 * thread's buffers. */
static enum MHD_Result
serve_stream(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
             const struct reg_snapshot *snap, enum auth_result ar, const struct reg_principal *p,
             const char *why)
{
	struct diag d;
	if (ar != AUTH_OK || !p)
		return respond_error(con, r, 401, false,
		                     ar == AUTH_BAD ? "authentication failed" : "authentication required",
		                     ar == AUTH_BAD ? why : "the stream needs an API key or a client "
		                                            "certificate",
		                     true);
	struct store *s = thread_store(a, t, &d);
	if (!s) {
		log_error("store open failed", d.msg);
		return respond_error(con, r, 503, false, "the hub's store is unavailable",
		                     "try again later", false);
	}
	const char *q = strchr(r->uri, '?');
	struct api_stream_req rq = {
		.con = con,
		.method = r->method,
		.query = q ? slice_make(q + 1, strcspn(q + 1, "#")) : slice_make("", 0),
		.last_event_id = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Last-Event-ID"),
		.snap = snap,
		.who = p,
		.actor = r->actor,
		.store = s,
	};
	struct api_stream_out out;
	api_stream_open(a->stream, &rq, &out);
	if (!out.resp) {
		r->retry_after = out.retry_after;
		return respond_error(con, r, out.status, false, out.title, out.description, false);
	}
	enum MHD_Result ret = MHD_queue_response(con, 200, out.resp);
	MHD_destroy_response(out.resp); /* the connection holds it; its end frees the client */
	r->status = 200;
	return ret;
}

/* GET /api/v1/export/...: an authenticated principal's export
 * (api_export.c). */
static enum MHD_Result
serve_export(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
             const struct reg_snapshot *snap, const char *url, enum auth_result ar,
             const struct reg_principal *p, const char *why)
{
	struct diag d;
	if (ar != AUTH_OK)
		return respond_error(con, r, 401, false, "authentication required",
		                     ar == AUTH_BAD ? why : "/api/v1/export needs an API key", true);
	struct store *s = thread_store(a, t, &d);
	if (!s)
		return respond_error(con, r, 503, false, "the hub's store is unavailable",
		                     "try again later", false);
	struct policy_subject who;
	policy_subject_principal(&who, snap, p);
	const char *q = strchr(r->uri, '?');
	char *query = strndup(q ? q + 1 : "", q ? strcspn(q + 1, "#") : 0);
	if (!query)
		return MHD_NO;
	struct api_export_req rq = {
		.app = a, .store = s, .snap = snap, .snap_gen = t->gen, .who = &who,
		.method = r->method, .path = url, .query = query,
		.if_none_match = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_IF_NONE_MATCH),
	};
	enum MHD_Result ret = api_export_serve(con, &rq, &r->status, &r->bytes);
	free(query);
	return ret;
}

/* The largest body a request to url may send: the lookup API's own
 * limit, else the largest of the API roots' (each root's is checked in
 * lib/taxii). */
static size_t
body_max(struct app *a, const char *url)
{
	if (api_reports_public_body(a, url, "POST"))
		return api_reports_max_body(a);
	return api_match_path(url) ? a->conf->match_max_body : conf_body_max(a->conf);
}

/* The lookup API (api_match.c): an authenticated caller's values. */
static enum MHD_Result
serve_match(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
            const struct reg_snapshot *snap, enum auth_result ar, const struct reg_principal *p,
            const char *why)
{
	struct diag d;
	if (ar != AUTH_OK || !p)
		return respond_error(con, r, 401, false,
		                     ar == AUTH_BAD ? "authentication failed"
		                                    : "authentication required",
		                     ar == AUTH_BAD ? why : "the lookup API needs an API key", true);
	struct store *s = thread_store(a, t, &d);
	if (!s) {
		log_error("store open failed", d.msg);
		return respond_error(con, r, 503, false, "the hub's store is unavailable",
		                     "try again later", false);
	}
	struct policy_subject who;
	policy_subject_principal(&who, snap, p);
	const char *q = strchr(r->uri, '?');
	struct api_match_request rq = {
		.method = r->method,
		.query = q ? slice_make(q + 1, strcspn(q + 1, "#")) : slice_make("", 0),
		.content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                            MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = buf_slice(&r->body),
		.who = &who,
		.store = s,
	};
	struct api_response rs;
	api_match_handle(a, &rq, &rs);
	return respond(con, r, rs.status, rs.content_type, &rs.body, false, NULL, NULL);
}

/* Feedback on indicators (api_indicators.c): false positives, the
 * producer's feedback, sightings by sector. */
static enum MHD_Result
serve_indicators(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
                 const struct reg_snapshot *snap, const char *url, enum auth_result ar,
                 const struct reg_principal *p, const char *why)
{
	struct diag d;
	if (ar != AUTH_OK || !p)
		return respond_error(con, r, 401, false,
		                     ar == AUTH_BAD ? "authentication failed" : "authentication required",
		                     ar == AUTH_BAD ? why : "/api/v1/indicators needs an API key", true);
	struct store *s = thread_store(a, t, &d);
	if (!s)
		return respond_error(con, r, 503, false, "the hub's store is unavailable",
		                     "try again later", false);
	struct policy_subject who;
	policy_subject_principal(&who, snap, p);
	struct api_response rs;
	api_indicators_handle(a, s, &who, r->method, url, buf_slice(&r->body), &rs);
	return respond(con, r, rs.status, rs.content_type, &rs.body, false, NULL, NULL);
}

/* tocsin-agent receipts (api_agents.c). */
static enum MHD_Result
serve_agents(struct MHD_Connection *con, struct req *r, struct app *a, enum auth_result ar,
             const struct reg_principal *p, const char *why)
{
	if (ar == AUTH_BAD)
		return respond_error(con, r, 401, false, "authentication failed", why, true);
	struct api_response rs;
	api_agents_handle(a, r->method, buf_slice(&r->body), ar == AUTH_OK ? p : NULL,
	                  app_log_position(a), &rs);
	return respond(con, r, rs.status, rs.content_type, &rs.body, false, NULL, NULL);
}

/* Citizen reports (api_reports.c): public pages and intake, and the
 * coordinators' triage. */
static enum MHD_Result
serve_reports(struct MHD_Connection *con, struct req *r, struct app *a, struct tstate *t,
              const struct reg_snapshot *snap, const char *url, enum auth_result ar,
              const struct reg_principal *p, const char *why)
{
	struct diag d;
	struct api_reports_req rq = {
		.a = a,
		.method = r->method,
		.url = url,
		.raw_uri = r->uri,
		.body = buf_slice(&r->body),
		.have_client = r->conn != NULL,
		.snap = snap,
		.who = ar == AUTH_OK ? p : NULL,
		.auth_bad = ar == AUTH_BAD,
		.auth_why = why,
		.store = thread_store(a, t, &d),
	};
	if (r->conn) {
		memcpy(rq.client, r->conn->a, sizeof rq.client);
		/* IPv6: one client is its /64 (a host picks any address in it) */
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(rq.client, mapped, sizeof mapped) != 0)
			memset(rq.client + 8, 0, 8);
	}
	return api_reports_serve(con, &rq, &r->status, &r->bytes);
}

/* The task inbox (api_tasks.c). */
static enum MHD_Result
serve_tasks(struct MHD_Connection *con, struct req *r, struct app *a,
            const struct reg_snapshot *snap, const char *url, enum auth_result ar,
            const struct reg_principal *p, const char *why)
{
	if (ar == AUTH_BAD)
		return respond_error(con, r, 401, false, "authentication failed", why, true);
	const char *q = strchr(r->uri, '?');
	struct api_response rs;
	api_tasks_handle(a, snap, r->method, url, q ? q + 1 : "", buf_slice(&r->body),
	                 ar == AUTH_OK ? p : NULL, &rs);
	return respond(con, r, rs.status, rs.content_type, &rs.body, false, NULL, NULL);
}

/* Who sent r: the API key or client certificate against snap. OUT: *p,
 * *why (for AUTH_BAD); r->actor names the key. */
static enum auth_result
req_auth(struct MHD_Connection *con, struct req *r, const struct reg_snapshot *snap,
         const struct reg_principal **p, const char **why)
{
	struct app *a = r->lis->app;
	const union MHD_ConnectionInfo *ci =
		r->lis->tls ? MHD_get_connection_info(con, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
	gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
	if (!snap)
		return AUTH_NONE;
	return auth_request(snap,
	                    MHD_lookup_connection_value(con, MHD_HEADER_KIND,
	                                                MHD_HTTP_HEADER_AUTHORIZATION),
	                    tls, a->conf->client_ca[0] != '\0', p, r->actor, why);
}

/* Counts len more body bytes of r against body_memory_limit. false (and
 * nothing counted) when they would go past it. */
static bool
body_reserve(struct app *a, struct req *r, size_t len)
{
	size_t cur = atomic_load(&a->body_bytes);
	do {
		if (len > a->conf->body_memory_limit || cur > a->conf->body_memory_limit - len)
			return false;
	} while (!atomic_compare_exchange_weak(&a->body_bytes, &cur, cur + len));
	r->reserved += len;
	return true;
}

/* false if the path of raw (the request target as sent, up to '?' or
 * '#') holds a control character, raw or percent-encoded (%00-%1F,
 * %7F): MHD decodes the path before handing it over, and a NUL there
 * ends the string early, so "/collections/%00/objects/" would be served
 * as "/collections/". */
static bool
path_ok(const char *raw)
{
	for (const char *p = raw; *p && *p != '?' && *p != '#'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
			int v = hex_digit(p[1]) * 16 + hex_digit(p[2]);
			if (v < 0x20 || v == 0x7f)
				return false;
		}
	}
	return true;
}

static enum MHD_Result
dispatch(struct MHD_Connection *con, struct req *r, const char *url)
{
	struct app *a = r->lis->app;
	struct tstate *t = tstate_get();
	const struct reg_snapshot *snap = thread_snapshot(a, t);
	bool taxii = strncmp(url, TAXII_PREFIX, strlen(TAXII_PREFIX)) == 0 ||
	             strcmp(url, "/taxii2") == 0;

	if (r->body_nomem)
		return respond_error(con, r, 503, taxii, "out of memory", NULL, false);
	if (r->too_large) {
		char desc[128];
		if (api_reports_public_body(a, url, r->method))
			api_reports_refused_size();
		snprintf(desc, sizeof desc, "the request body is larger than %zu bytes%s",
		         body_max(a, url), api_match_path(url) ? " ([match] max_body)" : "");
		return respond_error(con, r, 413, taxii, "request too large", desc, false);
	}
	if (r->busy) {
		r->retry_after = true;
		return respond_error(con, r, 503, taxii, "the hub is busy",
		                     "too many large request bodies are being received; retry later",
		                     false);
	}
	if (r->uri_cut)
		return respond_error(con, r, 414, taxii, "request URI too long", NULL, false);
	if (!path_ok(r->uri))
		return respond_error(con, r, 400, taxii, "bad request path",
		                     "the path holds a control character (raw or percent-encoded)",
		                     false);
	r->route = metrics_route_of(url);
	r->routed = true;
	if (strcmp(url, "/healthz") == 0)
		return serve_healthz(con, r, a);

	/* Authenticate: /metrics (if configured) and TAXII. */
	const struct reg_principal *p = NULL;
	const char *why = "";
	enum auth_result ar = req_auth(con, r, snap, &p, &why);

	if (strcmp(url, "/metrics") == 0) {
		if (a->conf->metrics_require_auth && ar != AUTH_OK)
			return respond_error(con, r, 401, false, "authentication required",
			                     ar == AUTH_BAD ? why : "/metrics needs an API key", true);
		return serve_metrics(con, r, a, t, snap);
	}
	if (api_crowdsec_route(url))
		return serve_crowdsec(con, r, a, t, snap, url, ar == AUTH_OK ? p : NULL);
	if (strcmp(url, STREAM_PATH) == 0)
		return serve_stream(con, r, a, t, snap, ar, p, why);
	if (strncmp(url, API_EXPORT_PREFIX, strlen(API_EXPORT_PREFIX)) == 0)
		return serve_export(con, r, a, t, snap, url, ar, p, why);
	if (api_match_path(url))
		return serve_match(con, r, a, t, snap, ar, p, why);
	if (api_agents_route(url))
		return serve_agents(con, r, a, ar, p, why);
	if (api_reports_route(url))
		return serve_reports(con, r, a, t, snap, url, ar, p, why);
	if (api_tasks_route(url))
		return serve_tasks(con, r, a, snap, url, ar, p, why);
	if (api_indicators_route(url))
		return serve_indicators(con, r, a, t, snap, url, ar, p, why);
	if (!taxii)
		return respond_error(con, r, 404, false, "not found",
		                     "tocsind serves /taxii2/, /api/v1/stream, /api/v1/export/, "
		                     "/api/v1/match, /api/v1/agents/receipt, /api/v1/tasks, "
		                     "/api/v1/indicators/, /healthz and "
		                     "/metrics",
		                     false);
	if (ar == AUTH_BAD)
		return respond_error(con, r, 401, true, "authentication failed", why, true);
	struct policy_subject who;
	if (p)
		policy_subject_principal(&who, snap, p);
	return serve_taxii(con, r, a, t, url, p ? &who : NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
	struct req *r = *con_cls;
	struct app *a = ((struct listener *)cls)->app;

	if (!r)
		return MHD_NO; /* the URI callback could not allocate */
	if (!r->started) {
		r->started = true;
		r->counted = true;
		if (r->conn) {
			/* the whole header is in: the deadline no longer runs */
			pthread_mutex_lock(&r->lis->mu);
			wait_remove(r->lis, r->conn);
			pthread_mutex_unlock(&r->lis->mu);
		}
		atomic_fetch_add(&a->inflight, 1);
		snprintf(r->method, sizeof r->method, "%s", method);
		buf_init(&r->body, body_max(a, url));
		const char *cl =
			MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long n = 0;
		if (cl) {
			char *end;
			errno = 0;
			n = strtoull(cl, &end, 10);
			if (errno || *end || n > body_max(a, url)) {
				r->too_large = true;
				return dispatch(con, r, url); /* answered before reading the body */
			}
		}
		if (n || MHD_lookup_connection_value(con, MHD_HEADER_KIND,
		                                     MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
			/* A body is read only from a client the hub knows, and only
			 * while the bodies held at once stay under body_memory_limit;
			 * anyone else is answered before a byte of it is read. */
			struct tstate *t = tstate_get();
			const struct reg_principal *p = NULL;
			const char *why = "";
			if (req_auth(con, r, thread_snapshot(a, t), &p, &why) != AUTH_OK &&
			    !api_reports_public_body(a, url, method))
				return dispatch(con, r, url);
			if (!body_reserve(a, r, (size_t)n)) {
				r->busy = true;
				return dispatch(con, r, url);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* a body without Content-Length is counted as it comes */
		if (!r->too_large && !r->body_nomem && !r->busy &&
		    r->body.len + *upload_data_size > r->reserved &&
		    !body_reserve(a, r, r->body.len + *upload_data_size - r->reserved)) {
			r->busy = true;
			buf_reset(&r->body);
		}
		if (!r->too_large && !r->body_nomem && !r->busy) {
			buf_append(&r->body, upload_data, *upload_data_size);
			if (buf_error(&r->body) == TC_ELIMIT)
				r->too_large = true;
			else if (buf_error(&r->body))
				r->body_nomem = true;
			if (r->too_large || r->body_nomem)
				buf_reset(&r->body);
		}
		*upload_data_size = 0; /* consumed, or discarded */
		return MHD_YES;
	}
	if (r->status)
		return MHD_YES; /* answered already */
	return dispatch(con, r, url);
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct listener *lis = cls;
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	size_t len = strnlen(uri, HTTP_URI_MAX + 1);
	if (len > HTTP_URI_MAX) {
		len = HTTP_URI_MAX;
		r->uri_cut = true;
	}
	r->uri = strndup(uri, len);
	if (!r->uri) {
		free(r);
		return NULL;
	}
	r->lis = lis;
	r->t0_us = now_us();
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context) {
		r->conn = ci->socket_context;
		r->conn->req = r;
	}
	/* The query string is lib/taxii's to parse, with its limits. MHD
	 * would split it into one record per parameter in the connection's
	 * fixed memory pool, and a few thousand parameters exhaust it: MHD
	 * then neither answers nor completes the request. MHD has found the
	 * '?' before calling us and parses what follows it after we return,
	 * in its own writable buffer (the argument is const only in the
	 * callback's signature), so ending the string right after the '?'
	 * leaves it no parameter to parse. Our copy above keeps the query. */
	char *q = strchr(uri, '?');
	if (q && q[1])
		q[1] = '\0';
	return r;
}

/* The access log line and the metrics of r, then frees it. */
static void
req_finish(struct listener *lis, struct req *r, enum MHD_RequestTerminationCode toe,
           bool abandoned)
{
	uint64_t us = now_us() - r->t0_us;
	size_t plen = strcspn(r->uri, "?");
	char path[256];
	snprintf(path, sizeof path, "%.*s", (int)(plen < 255 ? plen : 255), r->uri);
	/* the route label names what was served; a request refused before
	 * routing counts under the shape of its raw path */
	metrics_request(r->routed ? r->route : metrics_route_of(path), r->method, r->status, us);
	if (lis->app->conf->log_access) {
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "request");
		log_str(&l, "method", r->method);
		/* a receipt is a reporter's secret: the log names its route only */
		log_strn(&l, "path", r->uri, api_reports_log_len(r->uri, plen));
		log_int(&l, "status", r->status);
		log_int(&l, "bytes", (int64_t)r->bytes);
		log_int(&l, "us", (int64_t)us);
		log_str(&l, "key", r->actor[0] ? r->actor : NULL);
		log_bool(&l, "tls", lis->tls);
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			log_bool(&l, "aborted", true);
		if (!r->status)
			log_str(&l, "answered_by", abandoned ? "nobody" : "libmicrohttpd");
		log_end(&l);
	}
	if (r->cs)
		api_crowdsec_sent(lis->app, r->cs,
		                  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && !abandoned);
	if (r->counted)
		atomic_fetch_sub(&lis->app->inflight, 1);
	if (r->reserved)
		atomic_fetch_sub(&lis->app->body_bytes, r->reserved);
	buf_reset(&r->body);
	free(r->uri);
	free(r);
}

static void
req_abandoned(struct listener *lis, struct req *r)
{
	req_finish(lis, r, MHD_REQUEST_TERMINATED_WITH_ERROR, true);
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	struct listener *lis = cls;
	(void)con;
	if (!r)
		return;
	if (r->conn) {
		r->conn->req = NULL;
		/* a kept-alive connection owes the next request's header */
		pthread_mutex_lock(&lis->mu);
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			wait_add(lis, r->conn);
		pthread_mutex_unlock(&lis->mu);
	}
	req_finish(lis, r, toe, false);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		return;
	size_t len = strnlen(msg, sizeof msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	struct logline l;
	log_begin(&l, CONF_LOG_WARN, "libmicrohttpd");
	log_str(&l, "detail", msg);
	log_end(&l);
}

/* Reads a whole PEM file into a NUL-terminated string. */
static enum tcerr
read_pem(const char *key, const char *path, char **out, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *p = NULL;
	size_t len = 0;
	enum tcerr rc = TC_OK;

	*out = NULL;
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s %s: %s", key, path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > HTTP_PEM_MAX) {
		rc = diag_set(d, TC_EINVAL, "%s %s: not a regular file of at most %d bytes", key,
		              path, HTTP_PEM_MAX);
		goto out;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		rc = diag_set(d, TC_ENOMEM, "%s: out of memory", key);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, p + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	p[len] = '\0';
	*out = p;
out:
	close(fd);
	return rc;
}

static void
free_secret(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

/* Loads the PEM texts and checks them with GnuTLS. OUT: the three texts
 * (ca may stay NULL). */
static enum tcerr
tls_load(const struct conf *c, char **cert, char **key, char **ca, struct diag *d)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_priority_t prio = NULL;
	const char *err_pos = NULL;
	enum tcerr rc;
	int e;

	*cert = *key = *ca = NULL;
	if ((rc = read_pem("tls_cert", c->tls_cert, cert, d)) ||
	    (rc = read_pem("tls_key", c->tls_key, key, d)))
		goto out;
	if (c->client_ca[0] && (rc = read_pem("client_ca", c->client_ca, ca, d)))
		goto out;
	if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
		rc = diag_set(d, TC_ENOMEM, "TLS: out of memory");
		goto out;
	}
	gnutls_datum_t dc = { (unsigned char *)*cert, (unsigned)strlen(*cert) };
	gnutls_datum_t dk = { (unsigned char *)*key, (unsigned)strlen(*key) };
	e = gnutls_certificate_set_x509_key_mem(cred, &dc, &dk, GNUTLS_X509_FMT_PEM);
	if (e < 0) {
		rc = diag_set(d, TC_EINVAL, "tls_cert %s / tls_key %s: %s", c->tls_cert, c->tls_key,
		              gnutls_strerror(e));
		goto out;
	}
	if (*ca) {
		gnutls_datum_t da = { (unsigned char *)*ca, (unsigned)strlen(*ca) };
		e = gnutls_certificate_set_x509_trust_mem(cred, &da, GNUTLS_X509_FMT_PEM);
		if (e <= 0) {
			rc = diag_set(d, TC_EINVAL, "client_ca %s: %s", c->client_ca,
			              e < 0 ? gnutls_strerror(e) : "no certificate in the file");
			goto out;
		}
	}
	e = gnutls_priority_init(&prio, HTTP_TLS_PRIORITIES, &err_pos);
	if (e < 0) {
		rc = diag_set(d, TC_EINTERNAL, "TLS priorities rejected by GnuTLS at \"%s\": %s",
		              err_pos ? err_pos : "", gnutls_strerror(e));
		goto out;
	}
	rc = TC_OK;
out:
	if (prio)
		gnutls_priority_deinit(prio);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	if (rc) {
		free_secret(*cert);
		free_secret(*key);
		free_secret(*ca);
		*cert = *key = *ca = NULL;
	}
	return rc;
}

enum tcerr
http_tls_check(const struct conf *c, struct diag *d)
{
	char *cert, *key, *ca;
	if (!c->tls_listen[0])
		return TC_OK;
	enum tcerr rc = tls_load(c, &cert, &key, &ca, d);
	if (!rc) {
		free_secret(cert);
		free_secret(key);
		free_secret(ca);
	}
	return rc;
}

static enum tcerr
listener_start(struct http_server *s, struct listener *l, const char *addr, bool tls,
               struct diag *d)
{
	const struct conf *c = s->app->conf;
	struct sockaddr_storage sa;
	socklen_t salen;
	enum tcerr rc;
	unsigned threads = c->threads;

	if ((rc = conf_addr_parse(addr, &sa, &salen, d)))
		return rc;
	if (threads == 0) {
		/* Request threads block on SQLite reads and, for writes, on the
		 * writer: more threads than CPUs keep the CPUs busy and let more
		 * writes join one group commit (measured: docs/daemon.md). */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? HTTP_THREADS_PER_CPU * (unsigned)n : HTTP_THREADS_MIN;
		if (threads < HTTP_THREADS_MIN)
			threads = HTTP_THREADS_MIN;
		if (threads > CONF_THREADS_MAX)
			threads = CONF_THREADS_MAX;
	}
	l->app = s->app;
	l->tls = tls;
	pthread_mutex_init(&l->mu, NULL);
	/* streams suspend their connections while they have nothing to send */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	                 MHD_ALLOW_SUSPEND_RESUME;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, s->pem_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, s->pem_key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_TLS_PRIORITIES },
		{ s->pem_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->pem_ca },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_OptionItem none[] = { { MHD_OPTION_END, 0, NULL } };
	l->d = MHD_start_daemon(
		flags, 0, on_accept, l, on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
		c->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT, c->connection_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, l, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
		MHD_OPTION_ARRAY,
		tls ? tls_opts : none, MHD_OPTION_END);
	if (!l->d)
		return diag_set(d, TC_EIO, "%s %s: cannot listen (address in use, or not local?)",
		                tls ? "tls_listen" : "listen", addr);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : 0;
	char host[INET6_ADDRSTRLEN];
	if (sa.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
		snprintf(l->addr, sizeof l->addr, "[%s]:%u", host, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
		snprintf(l->addr, sizeof l->addr, "%s:%u", host, port);
	}
	struct logline ll;
	log_begin(&ll, CONF_LOG_INFO, "listening");
	log_str(&ll, "addr", l->addr);
	log_bool(&ll, "tls", tls);
	if (tls)
		log_bool(&ll, "client_certificates", s->pem_ca != NULL);
	log_int(&ll, "threads", threads);
	log_end(&ll);
	return TC_OK;
}

static void
server_free(struct http_server *s)
{
	if (s->reaper_started) {
		atomic_store(&s->stopping, true);
		pthread_join(s->reaper, NULL);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct listener *l = &s->l[i];
		if (l->d)
			MHD_stop_daemon(l->d); /* closes every connection: the counts empty */
		/* only now: MHD's threads may use a quiesced socket until they are
		 * stopped, and a number closed earlier can be reused under them */
		if (l->quiesced)
			close(l->listen_fd);
		for (size_t b = 0; b < HTTP_ADDR_BUCKETS; b++)
			for (struct addr_count *c = l->by_addr[b], *next; c; c = next) {
				next = c->next;
				free(c);
			}
		pthread_mutex_destroy(&l->mu);
	}
	free_secret(s->pem_cert);
	free_secret(s->pem_key);
	free_secret(s->pem_ca);
	free(s);
}

enum tcerr
http_start(struct app *app, struct http_server **out, struct diag *d)
{
	const struct conf *c = app->conf;
	struct http_server *s = calloc(1, sizeof *s);
	enum tcerr rc = TC_OK;

	if (!s)
		return diag_set(d, TC_ENOMEM, "out of memory");
	pthread_once(&tkey_once, tkey_init);
	s->app = app;
	if (c->tls_listen[0] && (rc = tls_load(c, &s->pem_cert, &s->pem_key, &s->pem_ca, d)))
		goto out;
	if (c->listen[0]) {
		if ((rc = listener_start(s, &s->l[s->n++], c->listen, false, d)))
			goto out;
	}
	if (c->tls_listen[0]) {
		if ((rc = listener_start(s, &s->l[s->n++], c->tls_listen, true, d)))
			goto out;
	}
	if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
		rc = diag_set(d, TC_ENOMEM, "cannot start the connection reaper thread");
		goto out;
	}
	s->reaper_started = true;
	*out = s;
out:
	if (rc)
		server_free(s);
	return rc;
}

void
http_shutdown(struct http_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		MHD_socket fd = MHD_quiesce_daemon(s->l[i].d);
		if (fd != MHD_INVALID_SOCKET) {
			s->l[i].listen_fd = fd; /* closed by server_free(), after MHD_stop_daemon */
			s->l[i].quiesced = true;
		}
	}
	/* streams never finish by themselves: end them, so that their
	 * requests complete and no connection stays suspended */
	stream_stop(s->app->stream);
	uint64_t t0 = now_us();
	while (atomic_load(&s->app->inflight) > 0 && now_us() - t0 < HTTP_DRAIN_MS * 1000ull)
		usleep(5000);
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "stopped accepting");
	log_int(&l, "unfinished_requests", atomic_load(&s->app->inflight));
	log_end(&l);
	server_free(s);
}
