/*
 * main.c — tocsin-agent: follows a hub's decisions stream
 * (GET /api/v1/stream?view=decisions, docs/feeds.md) and applies each
 * decision to the enforcement backends (nftables, files), keeping what it
 * applied and the log position it is exact at in a state file
 * (lib/agent/agent_set.h), so that a restart or a hub outage resumes from
 * that position with Last-Event-ID and no reload. Without a state it
 * takes the hub's snapshot, then follows live.
 *
 * One thread: libcurl's multi interface waits on the connection at most
 * AGENT_TICK_MS at a time. Every chunk of bytes received is parsed (lib/sse,
 * with limits: the hub's bytes are untrusted) into events; the changes of
 * all events in a chunk are one burst, handed to every backend at once
 * (for nftables, one transaction). Between chunks the backends' ticks run
 * (debounced file rewrites), local expiry is applied and the state file is
 * saved every state_interval_ms (replaying events after an older saved
 * position is harmless: add and remove are idempotent).
 *
 * `tocsin-agent status` reads the state file and, if the hub answers, its
 * /healthz position, to print the lag.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_conf.h"
#include "agent/agent_set.h"
#include "backend.h"
#include "sse/sse.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define AGENT_TICK_MS 50
#define AGENT_JOURNAL_LINES_MIN 100000 /* journal lines before the state is rewritten */
#define AGENT_BACKOFF_MIN_MS 250
#define AGENT_BACKOFF_MAX_MS 30000
#define AGENT_ERROR_BODY_MAX 65536
#define AGENT_URL_MAX 16384
#define AGENT_BACKENDS_MAX (1 + AGENT_CONF_FILES_MAX)
#define AGENT_DEFAULT_CONF "/etc/tocsin/agent.conf"

static const char usage[] =
	"usage: tocsin-agent [-c FILE] [--dry-run] [--check] [run]\n"
	"       tocsin-agent [-c FILE] status [--json]\n"
	"\n"
	"Follows the hub's decisions stream and applies each decision to\n"
	"nftables (table inet TABLE, sets ipv4_addr, ipv6_addr, ipv4_net and\n"
	"ipv6_net) and to the\n"
	"configured files (RPZ zone, Suricata dataset, Zeek intel, plain list,\n"
	"ipset restore file), keeping its position and set in a state file.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE  configuration (default " AGENT_DEFAULT_CONF ")\n"
	"  --dry-run          the nftables rules count matching packets and do\n"
	"                     not drop them\n"
	"  --check            check the configuration and exit\n"
	"  --json             status: one JSON object\n"
	"  -h, --help         show this help\n"
	"\n"
	"status prints the state file's position, the hub's position and the lag\n"
	"(if the hub answers), the set sizes and the last error.\n";

static volatile sig_atomic_t stop;

static void setup_tls(CURL *h, const struct agent_conf *c);

static void
on_signal(int sig)
{
	stop = sig;
}

static void
logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("tocsin-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct agent {
	struct agent_conf *c;
	struct agent_set *set;
	struct agent_set *snap;        /* the snapshot being received, NULL live */
	struct agent_changes ch;
	struct agent_state_info info;
	struct backend be[AGENT_BACKENDS_MAX];
	unsigned nbe;
	int64_t saved_us;
	bool dirty;                    /* the position moved since the journal said it */
	struct agent_journal j;
	uint64_t jpos;                 /* the last position the journal holds */
	uint64_t synced;               /* journal lines when it was last fsync'd */
	int64_t synced_us;
	/* this connection */
	struct sse_parser parser;
	long status;
	bool checked, got_event;
	struct buf errbody;
	enum tcerr fail;
	struct diag d;
	bool end;                      /* the hub said end (key revoked) */
	/* receipts (POST /api/v1/agents/receipt) */
	CURLM *multi;
	CURL *rh;                      /* NULL: none in flight */
	struct curl_slist *rhdrs;
	char rbody[128];
	uint64_t receipted;            /* the last position the hub acknowledged */
	uint64_t rsent;                /* the position in flight */
	int64_t receipt_us;            /* when the last one was sent */
	long rstatus;
};

static void
set_error(struct agent *a, const struct diag *d, enum tcerr t)
{
	struct diag jd;
	snprintf(a->info.error, sizeof a->info.error, "%s",
	         d->msg[0] ? d->msg : tcerr_str(t));
	logmsg("%s", a->info.error);
	if (agent_journal_error(&a->j, a->info.error, &jd))
		logmsg("%s", jd.msg);
}

/* Writes the state file whole (the set and its position) and empties the
 * journal: at start, after a snapshot, on exit, and when the journal has
 * grown past AGENT_JOURNAL_LINES_MIN and twice the set. */
static void
save_state(struct agent *a, int64_t now)
{
	struct diag d;
	diag_clear(&d);
	a->info.saved_us = now;
	enum tcerr t = agent_state_save(a->c->state_file, a->set, &a->info, &d);
	if (!t)
		t = agent_journal_truncate(&a->j, &d);
	if (t)
		logmsg("%s", d.msg);
	a->jpos = a->info.position;
	a->dirty = false;
	a->synced = 0;
	a->saved_us = now;
}

/* Appends what changed (and the position) to the journal. */
static void
journal(struct agent *a)
{
	struct diag d;
	if (agent_journal_append(&a->j, &a->ch, a->set, a->info.position, a->info.applied_us,
	                         &d))
		logmsg("%s", d.msg);
	a->jpos = a->info.position;
	a->dirty = false;
}

/* Hands the changes held to every backend (one burst), then journals
 * them, unless the caller writes the state file whole next. */
static void
apply_burst(struct agent *a, bool to_journal)
{
	if (!a->ch.n)
		return;
	int64_t now = ts_now_us();
	for (unsigned i = 0; i < a->nbe; i++) {
		struct diag d;
		diag_clear(&d);
		enum tcerr t = a->be[i].ops->apply(a->be[i].b, &a->ch, a->set, &d);
		if (t)
			set_error(a, &d, t);
	}
	a->info.applied_us = now;
	if (to_journal)
		journal(a);
	agent_changes_clear(&a->ch);
}

static void
flush_burst(struct agent *a)
{
	apply_burst(a, true);
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *ctx)
{
	return size * nmemb;
}

/* Sends "applied up to position P at time T" when the position moved and
 * receipt_interval_ms passed since the last one; one in flight at most. */
static void
receipt_maybe(struct agent *a, int64_t now)
{
	if (!a->c->receipt_interval_ms || !a->multi || a->rh || a->snap ||
	    a->info.position == a->receipted || a->info.position == 0 ||
	    now - a->receipt_us < (int64_t)a->c->receipt_interval_ms * 1000)
		return;
	char at[TS_TEXT_MAX], url[AGENT_CONF_VALUE_MAX + 64];
	ts_format(a->info.applied_us ? a->info.applied_us : now, 6, at);
	size_t ul = strlen(a->c->url);
	while (ul && a->c->url[ul - 1] == '/')
		ul--;
	snprintf(url, sizeof url, "%.*s/api/v1/agents/receipt", (int)ul, a->c->url);
	snprintf(a->rbody, sizeof a->rbody, "{\"position\":\"%" PRIu64 "\",\"applied_at\":\"%s\"}",
	         a->info.position, at);
	a->rh = curl_easy_init();
	if (!a->rh)
		return;
	a->rsent = a->info.position;
	a->receipt_us = now;
	curl_easy_setopt(a->rh, CURLOPT_URL, url);
	curl_easy_setopt(a->rh, CURLOPT_HTTPHEADER, a->rhdrs);
	curl_easy_setopt(a->rh, CURLOPT_POSTFIELDS, a->rbody);
	curl_easy_setopt(a->rh, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(a->rh, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->rh, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(a->rh, CURLOPT_PROTOCOLS_STR, "http,https");
	setup_tls(a->rh, a->c);
	curl_multi_add_handle(a->multi, a->rh);
}

/* The receipt in flight finished with cc. */
static void
receipt_done(struct agent *a, CURLcode cc)
{
	long st = 0;
	curl_easy_getinfo(a->rh, CURLINFO_RESPONSE_CODE, &st);
	if (cc == CURLE_OK && st == 200)
		a->receipted = a->rsent;
	else
		logmsg("receipt for position %" PRIu64 " not taken: %s (HTTP %ld)", a->rsent,
		       curl_easy_strerror(cc), st);
	curl_multi_remove_handle(a->multi, a->rh);
	curl_easy_cleanup(a->rh);
	a->rh = NULL;
}

static void
tick(struct agent *a)
{
	int64_t now = ts_now_us();
	struct diag d;
	diag_clear(&d);
	if (!a->snap) {
		enum tcerr t = agent_set_expire(a->set, now, &a->ch, &d);
		if (t)
			set_error(a, &d, t);
		flush_burst(a);
	}
	for (unsigned i = 0; i < a->nbe; i++) {
		diag_clear(&d);
		enum tcerr t = a->be[i].ops->tick(a->be[i].b, a->set, a->info.position, now, &d);
		if (t)
			set_error(a, &d, t);
	}
	if (!a->snap && a->info.position != a->jpos)
		journal(a); /* events that changed nothing moved the position */
	if (a->j.lines != a->synced &&
	    now - a->synced_us >= (int64_t)a->c->state_interval_ms * 1000) {
		if (agent_journal_sync(&a->j, &d))
			logmsg("%s", d.msg);
		a->synced = a->j.lines;
		a->synced_us = now;
	}
	if (a->j.lines > AGENT_JOURNAL_LINES_MIN && a->j.lines > 2 * agent_set_count(a->set))
		save_state(a, now);
	receipt_maybe(a, now);
}

static bool
pos_parse(struct slice s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0 || s.len > 19)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return true;
}

/* The snapshot is complete: the set becomes it, as one burst of changes. */
static enum tcerr
snapshot_done(struct agent *a, struct diag *d)
{
	const struct agent_entry **v = NULL;
	size_t n = 0;
	enum tcerr t;
	if (agent_set_sorted(a->set, &v, &n))
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct agent_entry *e = v[i];
		if (!agent_set_get(a->snap, e->kind, slice_make(e->value, e->len))) {
			/* copy: the entry goes away with the delete */
			char *val = strndup(e->value, e->len);
			if (!val) {
				free(v);
				return diag_set(d, TC_ENOMEM, "out of memory");
			}
			enum obs_kind k = e->kind;
			t = agent_set_del(a->set, k, slice_make(val, strlen(val)), &a->ch, d);
			free(val);
			if (t) {
				free(v);
				return t;
			}
		}
	}
	free(v);
	if (agent_set_sorted(a->snap, &v, &n))
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((t = agent_set_put(a->set, v[i], &a->ch, d))) {
			free(v);
			return t;
		}
	free(v);
	agent_set_free(a->snap);
	a->snap = NULL;
	return TC_OK;
}

static enum tcerr
on_event(void *ctx, const struct sse_event *ev)
{
	struct agent *a = ctx;
	enum tcerr t = TC_OK;
	uint64_t pos = 0;
	bool has_pos = ev->has_id && pos_parse(ev->id, &pos);

	a->got_event = true;
	if (slice_eq_cstr(ev->name, "add") || slice_eq_cstr(ev->name, "remove")) {
		struct diag d;
		diag_clear(&d);
		if (a->snap && !has_pos)
			t = agent_set_apply_event(a->snap, ev->name, ev->data, NULL, &d);
		else
			t = agent_set_apply_event(a->set, ev->name, ev->data, &a->ch, &d);
		if (t == TC_EINVAL) {
			set_error(a, &d, t); /* one bad event: reported, skipped */
			t = TC_OK;
		} else if (t) {
			a->d = d;
			return t;
		}
	} else if (slice_eq_cstr(ev->name, "snapshot-end")) {
		if (a->snap && (t = snapshot_done(a, &a->d)))
			return t;
		if (has_pos && pos > a->info.position)
			a->info.position = pos;
		apply_burst(a, false);
		save_state(a, ts_now_us()); /* the whole set once, not a journal of it */
	} else if (slice_eq_cstr(ev->name, "end")) {
		a->end = true;
		return diag_set(&a->d, TC_EPERM, "the hub ended the stream: %.*s",
		                (int)(ev->data.len > 200 ? 200 : ev->data.len), ev->data.p);
	} else if (slice_eq_cstr(ev->name, "cut")) {
		return diag_set(&a->d, TC_ELIMIT, "the hub cut the stream (too slow); resuming");
	}
	if (has_pos && !a->snap && pos > a->info.position) {
		a->info.position = pos;
		a->dirty = true;
	}
	return TC_OK;
}

static size_t
on_bytes(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct agent *a = ctx;
	size_t n = size * nmemb;
	if (!a->checked)
		return 0;
	if (a->status != 200) {
		size_t room = AGENT_ERROR_BODY_MAX - a->errbody.len;
		buf_append(&a->errbody, p, n < room ? n : room);
		return n;
	}
	enum tcerr t = sse_feed(&a->parser, p, n, on_event, a, &a->d);
	flush_burst(a); /* what this chunk held, as one burst */
	if (t) {
		a->fail = t;
		return 0;
	}
	return n;
}

struct hdr {
	struct agent *a;
	CURL *h;
};

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct hdr *hc = ctx;
	size_t n = size * nmemb;
	if (n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) {
		long st = 0;
		curl_easy_getinfo(hc->h, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200) {
			hc->a->status = st;
			hc->a->checked = true;
		}
	}
	return n;
}

static void
sleep_ticks(struct agent *a, unsigned ms)
{
	while (ms && !stop) {
		unsigned step = ms < AGENT_TICK_MS ? ms : AGENT_TICK_MS;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		tick(a);
		ms -= step;
	}
}

/* Appends "&NAME=V" for each space-separated word of list. */
static void
add_params(struct buf *u, CURL *h, const char *name, const char *list)
{
	for (const char *w = list; *w;) {
		size_t l = strcspn(w, " ,");
		if (l) {
			char *e = curl_easy_escape(h, w, (int)l);
			if (e)
				buf_printf(u, "&%s=%s", name, e);
			else
				u->err = TC_ENOMEM;
			curl_free(e);
		}
		w += l;
		w += strspn(w, " ,");
	}
}

static void
setup_tls(CURL *h, const struct agent_conf *c)
{
	if (c->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->pinned_public_key[0])
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pinned_public_key);
}

static int
follow(struct agent *a)
{
	CURL *h = curl_easy_init();
	CURLM *m = curl_multi_init();
	struct curl_slist *hdrs = NULL;
	struct buf url;
	char auth[AGENT_CONF_VALUE_MAX + 32];
	unsigned backoff = AGENT_BACKOFF_MIN_MS;
	int rc = 1;
	const struct agent_conf *c = a->c;

	buf_init(&url, AGENT_URL_MAX);
	buf_init(&a->errbody, AGENT_ERROR_BODY_MAX);
	if (!h || !m) {
		logmsg("cannot start libcurl");
		goto out;
	}
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = hdrs ? curl_slist_append(hdrs, "Accept: text/event-stream") : NULL;
	a->rhdrs = curl_slist_append(NULL, auth);
	if (a->rhdrs)
		a->rhdrs = curl_slist_append(a->rhdrs, "Content-Type: application/json");
	explicit_bzero(auth, sizeof auth);
	a->multi = m;
	if (!hdrs || !a->rhdrs) {
		logmsg("out of memory");
		goto out;
	}
	size_t ul = strlen(c->url);
	while (ul && c->url[ul - 1] == '/')
		ul--;
	while (!stop) {
		struct hdr hc = { a, h };
		buf_clear(&url);
		buf_printf(&url, "%.*s/api/v1/stream?view=decisions", (int)ul, c->url);
		add_params(&url, h, "kind", c->kinds);
		add_params(&url, h, "collection", c->collections);
		if (c->min_confidence >= 0)
			buf_printf(&url, "&min_confidence=%d", c->min_confidence);
		if (c->tlp[0])
			add_params(&url, h, "tlp", c->tlp);
		if (a->info.position)
			buf_printf(&url, "&last_event_id=%" PRIu64, a->info.position);
		if (buf_error(&url)) {
			logmsg("the stream URL is too long");
			goto out;
		}
		agent_set_free(a->snap);
		a->snap = NULL;
		if (!a->info.position && !(a->snap = agent_set_new())) {
			logmsg("out of memory");
			goto out;
		}
		sse_init(&a->parser, 0);
		buf_clear(&a->errbody);
		a->status = 0;
		a->checked = a->got_event = false;
		a->fail = TC_OK;
		diag_clear(&a->d);
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url.p);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_bytes);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &hc);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->idle_timeout);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
		setup_tls(h, c);
		curl_multi_add_handle(m, h);
		CURLcode cc = CURLE_OK;
		bool done = false;
		while (!done && !stop) {
			int running, left;
			CURLMsg *msg;
			if (curl_multi_perform(m, &running) != CURLM_OK)
				break;
			while ((msg = curl_multi_info_read(m, &left))) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				if (msg->easy_handle == h) {
					cc = msg->data.result;
					done = true;
				} else if (msg->easy_handle == a->rh) {
					receipt_done(a, msg->data.result);
				}
			}
			if (!done)
				curl_multi_poll(m, NULL, 0, AGENT_TICK_MS, NULL);
			tick(a);
		}
		curl_multi_remove_handle(m, h);
		sse_reset(&a->parser);
		flush_burst(a);
		if (stop)
			break;
		if (a->fail && a->fail != TC_ELIMIT) {
			struct diag d = a->d;
			set_error(a, &d, a->fail);
			if (a->end) {
				rc = 1;
				goto out;
			}
		} else if (a->fail) {
			logmsg("%s", a->d.msg);
		}
		if (a->checked && a->status != 200) {
			json_t *e = json_loadb(a->errbody.p ? a->errbody.p : "", a->errbody.len, 0, NULL);
			const char *title = e ? json_string_value(json_object_get(e, "title")) : NULL;
			const char *desc = e ? json_string_value(json_object_get(e, "description")) : NULL;
			struct diag ed;
			diag_set(&ed, TC_EIO, "the hub answered %ld: %s%s%s", a->status,
			         title ? title : "", desc ? ": " : "", desc ? desc : "");
			json_decref(e);
			set_error(a, &ed, TC_EIO);
			if (a->status == 401 || a->status == 403 || a->status == 400) {
				rc = 1;
				goto out;
			}
		} else if (cc != CURLE_OK && !a->fail) {
			struct diag ed;
			diag_set(&ed, TC_EIO, "%s: %s; reconnecting", c->url, curl_easy_strerror(cc));
			set_error(a, &ed, TC_EIO);
		}
		if (a->got_event && a->status == 200)
			backoff = AGENT_BACKOFF_MIN_MS;
		sleep_ticks(a, backoff);
		backoff = backoff * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : backoff * 2;
	}
	rc = 0;
out:
	if (a->rh) {
		curl_multi_remove_handle(m, a->rh);
		curl_easy_cleanup(a->rh);
		a->rh = NULL;
	}
	a->multi = NULL;
	curl_slist_free_all(hdrs);
	curl_slist_free_all(a->rhdrs);
	a->rhdrs = NULL;
	if (m)
		curl_multi_cleanup(m);
	if (h)
		curl_easy_cleanup(h);
	buf_reset(&url);
	buf_reset(&a->errbody);
	return rc;
}

static int
run(struct agent_conf *c)
{
	struct agent a;
	struct diag d;
	int rc = 1;
	enum tcerr t;

	memset(&a, 0, sizeof a);
	a.c = c;
	a.j.fd = -1;
	diag_clear(&d);
	a.set = agent_set_new();
	if (!a.set) {
		logmsg("out of memory");
		return 1;
	}
	t = agent_state_load(c->state_file, a.set, &a.info, &d);
	if (t == TC_ENOTFOUND) {
		logmsg("no state file %s: taking the hub's snapshot", c->state_file);
	} else if (t) {
		logmsg("%s", d.msg);
		goto out;
	} else {
		logmsg("resuming after position %" PRIu64 " with %zu decisions", a.info.position,
		       agent_set_count(a.set));
	}
	a.info.error[0] = '\0';
	if ((t = agent_journal_open(&a.j, c->state_file, &d))) {
		logmsg("%s", d.msg);
		goto out;
	}
	/* what expired while the agent was away */
	agent_set_expire(a.set, ts_now_us(), NULL, &d);
	if (c->nft) {
		if ((t = backend_nft_new(c, &a.be[a.nbe], &d))) {
			logmsg("%s", d.msg);
			goto out;
		}
		a.nbe++;
	}
	for (unsigned i = 0; i < c->nfiles; i++) {
		if ((t = backend_file_new(&c->files[i], &a.be[a.nbe], &d))) {
			logmsg("%s", d.msg);
			goto out;
		}
		a.nbe++;
	}
	for (unsigned i = 0; i < a.nbe; i++) {
		diag_clear(&d);
		if ((t = a.be[i].ops->start(a.be[i].b, a.set, a.info.position, &d))) {
			logmsg("%s", d.msg);
			if (a.be[i].ops == a.be[0].ops && c->nft && i == 0)
				goto out; /* no firewall: nothing to protect with */
			set_error(&a, &d, t);
		}
	}
	save_state(&a, ts_now_us());
	logmsg("following %s (%s)", c->url, c->dry_run ? "dry run: counting only" : "blocking");
	rc = follow(&a);
	save_state(&a, ts_now_us());
out:
	for (unsigned i = 0; i < a.nbe; i++)
		a.be[i].ops->free(a.be[i].b);
	agent_journal_close(&a.j);
	agent_changes_reset(&a.ch);
	agent_set_free(a.snap);
	agent_set_free(a.set);
	return rc;
}

struct hbody {
	struct buf b;
};

static size_t
on_hbody(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * nmemb);
	return buf_error(b) ? 0 : size * nmemb;
}

/* The hub's log position from /healthz; false if it does not answer. */
static bool
hub_position(const struct agent_conf *c, uint64_t *pos)
{
	CURL *h = curl_easy_init();
	struct buf b, u;
	bool ok = false;
	buf_init(&b, 4096);
	buf_init(&u, AGENT_URL_MAX);
	size_t ul = strlen(c->url);
	while (ul && c->url[ul - 1] == '/')
		ul--;
	buf_printf(&u, "%.*s/healthz", (int)ul, c->url);
	if (h && !buf_error(&u)) {
		curl_easy_setopt(h, CURLOPT_URL, u.p);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_hbody);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		setup_tls(h, c);
		long st = 0;
		if (curl_easy_perform(h) == CURLE_OK &&
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 200) {
			json_t *j = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
			json_t *p = json_object_get(j, "log_position");
			if (json_is_integer(p) && json_integer_value(p) >= 0) {
				*pos = (uint64_t)json_integer_value(p);
				ok = true;
			}
			json_decref(j);
		}
	}
	if (h)
		curl_easy_cleanup(h);
	buf_reset(&b);
	buf_reset(&u);
	return ok;
}

static int
status(const struct agent_conf *c, bool as_json)
{
	struct agent_set *s = agent_set_new();
	struct agent_state_info info;
	struct diag d;
	diag_clear(&d);
	if (!s) {
		logmsg("out of memory");
		return 1;
	}
	enum tcerr t = agent_state_load(c->state_file, s, &info, &d);
	if (t) {
		logmsg("%s", d.msg);
		agent_set_free(s);
		return 1;
	}
	uint64_t hubpos = 0, v4 = 0, v6 = 0;
	size_t n4 = 0, n6 = 0;
	bool reach = hub_position(c, &hubpos);
	struct diag nd;
	bool nft = c->nft && backend_nft_counts(c->nft_table, &v4, &v6, &n4, &n6, &nd) == TC_OK;
	int64_t lag = reach ? (int64_t)hubpos - (int64_t)info.position : -1;
	char saved[TS_TEXT_MAX] = "-", applied[TS_TEXT_MAX] = "-";
	if (info.saved_us)
		ts_format(info.saved_us, 0, saved);
	if (info.applied_us)
		ts_format(info.applied_us, 0, applied);
	if (as_json) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:{s:I,s:I,s:I,s:I}}", "position",
		                      (json_int_t)info.position, "saved", saved, "applied", applied,
		                      "decisions", (json_int_t)agent_set_count(s), "by_kind",
		                      "ipv4", (json_int_t)agent_set_count_kind(s, OBS_IPV4), "ipv6",
		                      (json_int_t)agent_set_count_kind(s, OBS_IPV6), "domain",
		                      (json_int_t)agent_set_count_kind(s, OBS_DOMAIN), "url",
		                      (json_int_t)agent_set_count_kind(s, OBS_URL));
		if (o) {
			json_object_set_new(o, "hub_position", reach ? json_integer((json_int_t)hubpos)
			                                             : json_null());
			json_object_set_new(o, "lag", reach ? json_integer(lag) : json_null());
			json_object_set_new(o, "last_error", info.error[0] ? json_string(info.error)
			                                                    : json_null());
			if (nft)
				json_object_set_new(o, "nftables",
				                    json_pack("{s:s,s:I,s:I,s:I,s:I}", "table",
				                              c->nft_table, "ipv4_elements",
				                              (json_int_t)n4, "ipv6_elements",
				                              (json_int_t)n6, "ipv4_packets",
				                              (json_int_t)v4, "ipv6_packets",
				                              (json_int_t)v6));
			char *txt = json_dumps(o, JSON_COMPACT);
			if (txt)
				puts(txt);
			free(txt);
			json_decref(o);
		}
	} else {
		printf("position      %" PRIu64 "\n", info.position);
		if (reach)
			printf("hub position  %" PRIu64 "\nlag           %" PRId64 " positions\n",
			       hubpos, lag);
		else
			printf("hub position  unknown (%s does not answer)\n", c->url);
		printf("saved         %s\napplied       %s\n", saved, applied);
		printf("decisions     %zu (ipv4 %zu, ipv6 %zu, domain %zu, url %zu)\n",
		       agent_set_count(s), agent_set_count_kind(s, OBS_IPV4),
		       agent_set_count_kind(s, OBS_IPV6), agent_set_count_kind(s, OBS_DOMAIN),
		       agent_set_count_kind(s, OBS_URL));
		if (nft)
			printf("nftables      inet %s: %zu ipv4 and %zu ipv6 elements, %" PRIu64
			       " packets matched\n", c->nft_table, n4, n6, v4 + v6);
		printf("last error    %s\n", info.error[0] ? info.error : "none");
	}
	agent_set_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = AGENT_DEFAULT_CONF;
	bool dry = false, check = false, as_json = false;
	int o;
	static struct agent_conf c;
	struct diag d;

	while ((o = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'c': conf_path = optarg; break;
		case 'n': dry = true; break;
		case 'k': check = true; break;
		case 'j': as_json = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : "run";
	if (optind < argc || (strcmp(cmd, "run") != 0 && strcmp(cmd, "status") != 0)) {
		fputs(usage, stderr);
		return 2;
	}
	diag_clear(&d);
	agent_conf_defaults(&c);
	if (agent_conf_load(&c, conf_path, &d) || agent_conf_check(&c, &d)) {
		logmsg("%s", d.msg);
		return 2;
	}
	if (dry)
		c.dry_run = true;
	if (check) {
		printf("%s: ok\n", conf_path);
		return 0;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		logmsg("cannot start libcurl");
		return 1;
	}
	int rc;
	if (strcmp(cmd, "status") == 0) {
		rc = status(&c, as_json);
	} else {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		rc = run(&c);
	}
	curl_global_cleanup();
	return rc;
}
