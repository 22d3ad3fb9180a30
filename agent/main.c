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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_conf.h"
#include "agent/agent_set.h"
#include "backend.h"
#include "sse/sse.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define AGENT_TICK_MS 50
#define AGENT_LOAD_CHUNK 1024          /* snapshot changes per transaction during a load */
#define AGENT_LOAD_ROUND_BYTES 65536   /* snapshot bytes read between two looks at the live stream */
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

enum conn_role {
	CONN_FOLLOW = 0,   /* resumed from a position: live events */
	CONN_SNAP,         /* no position: the snapshot, then live events */
	CONN_LIVE,         /* during a load: live events from the hub's position before it */
};

/* One stream connection. During an initial load there are two (CONN_SNAP
 * and CONN_LIVE); when the snapshot ends one of them goes on as
 * CONN_FOLLOW and the other is dropped (docs/agent.md). */
struct conn {
	struct agent *a;
	CURL *h;
	enum conn_role role;
	bool on;                       /* in the multi handle */
	bool dropped;                  /* not read any more: the load chose the other */
	bool paused;                   /* the snapshot read its share of this round */
	size_t round_bytes;            /* bytes read this round */
	struct sse_parser parser;
	long status;
	bool checked, got_event;
	struct buf errbody;
	enum tcerr fail;
	struct diag d;
	bool end;                      /* the hub said end (key revoked) */
};

struct agent {
	struct agent_conf *c;
	struct agent_set *set;
	struct agent_changes ch;       /* live changes not yet applied */
	struct agent_state_info info;
	struct backend be[AGENT_BACKENDS_MAX];
	unsigned nbe;
	int64_t saved_us;
	bool dirty;                    /* the position moved since the journal said it */
	struct agent_journal j;
	uint64_t jpos;                 /* the last position the journal holds */
	uint64_t synced;               /* journal lines when it was last fsync'd */
	int64_t synced_us;
	/* an initial load (no position): the snapshot's entries are applied in
	 * chunks as they arrive while live events are applied at once */
	bool loading;
	struct agent_changes sch;      /* the snapshot's changes not yet applied */
	struct agent_set *touched;     /* values a live event changed during the load */
	struct agent_set *snapt;       /* the snapshot's entries for touched values */
	struct agent_set *pre;         /* entries held before the load the snapshot has not named */
	uint64_t live_pos;             /* the last position the live connection gave */
	struct conn cn[2];
	pid_t saver;                   /* a child writing the state file, 0: none */
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

/* The child writing the state file ended (status st): the journal is
 * emptied if it succeeded, and what was held meanwhile written. */
static void
saver_done(struct agent *a, int st)
{
	struct diag d;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!ok)
		logmsg("writing the state file in the background failed; the journal goes on");
	if (agent_journal_release(&a->j, ok, &d))
		logmsg("%s", d.msg);
	a->synced = 0;
	a->saver = 0;
}

/* Waits for the child writing the state file, if any. */
static void
saver_wait(struct agent *a, bool block)
{
	int st;
	if (a->saver <= 0)
		return;
	pid_t r;
	while ((r = waitpid(a->saver, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == a->saver)
		saver_done(a, st);
	else if (r < 0)
		saver_done(a, 1 << 8); /* gone: treated as failed */
}

/* Writes the state file whole (the set and its position) and empties the
 * journal: at start and on exit. */
static void
save_state(struct agent *a, int64_t now)
{
	struct diag d;
	diag_clear(&d);
	saver_wait(a, true);
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

/* The same, off the event path: a child process writes the state file
 * from its copy of the set while the agent goes on applying events; what
 * the agent journals meanwhile is held in memory and written after the
 * journal is emptied (a journal line never follows a state file it is
 * not about). After a snapshot, and when the journal has grown past
 * AGENT_JOURNAL_LINES_MIN and twice the set. */
static void
save_state_bg(struct agent *a, int64_t now)
{
	if (a->saver > 0)
		return; /* one at a time: the journal goes on */
	a->info.saved_us = now;
	fflush(stderr);
	agent_journal_hold(&a->j);
	pid_t pid = fork();
	if (pid < 0) {
		struct diag d;
		if (agent_journal_release(&a->j, false, &d))
			logmsg("%s", d.msg);
		save_state(a, now);
		return;
	}
	if (pid == 0) {
		struct diag d;
		diag_clear(&d);
		enum tcerr t = agent_state_save(a->c->state_file, a->set, &a->info, &d);
		if (t)
			logmsg("%s", d.msg);
		_exit(t ? 1 : 0);
	}
	a->saver = pid;
	a->jpos = a->info.position;
	a->dirty = false;
	a->saved_us = now;
}

/* Appends what changed (and the position) to the journal. */
static void
journal(struct agent *a, const struct agent_changes *ch)
{
	struct diag d;
	if (agent_journal_append(&a->j, ch, a->set, a->info.position, a->info.applied_us, &d))
		logmsg("%s", d.msg);
	a->jpos = a->info.position;
	a->dirty = false;
}

/* Hands the changes in ch to every backend (one burst), then journals
 * them, unless the caller writes the state file whole next (or the agent
 * is loading: a load interrupted starts again from a snapshot). */
static void
apply_changes(struct agent *a, struct agent_changes *ch, bool to_journal)
{
	if (!ch->n)
		return;
	int64_t now = ts_now_us();
	for (unsigned i = 0; i < a->nbe; i++) {
		struct diag d;
		diag_clear(&d);
		enum tcerr t = a->be[i].ops->apply(a->be[i].b, ch, a->set, &d);
		if (t)
			set_error(a, &d, t);
	}
	a->info.applied_us = now;
	if (to_journal && !a->loading)
		journal(a, ch);
	agent_changes_clear(ch);
}

static void
apply_burst(struct agent *a, bool to_journal)
{
	apply_changes(a, &a->ch, to_journal);
}

/* The live changes at once; the snapshot's when a chunk is full (or
 * always). Live first: they are what someone is waiting for. */
static void
flush_burst(struct agent *a, bool snapshot_always)
{
	apply_burst(a, true);
	if (a->sch.n && (snapshot_always || a->sch.n >= AGENT_LOAD_CHUNK))
		apply_changes(a, &a->sch, false);
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
	if (!a->c->receipt_interval_ms || !a->multi || a->rh || a->loading ||
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
	if (!a->loading) {
		enum tcerr t = agent_set_expire(a->set, now, &a->ch, &d);
		if (t)
			set_error(a, &d, t);
		flush_burst(a, true);
		/* the file backends write the whole set: not while it is half loaded */
		for (unsigned i = 0; i < a->nbe; i++) {
			diag_clear(&d);
			t = a->be[i].ops->tick(a->be[i].b, a->set, a->info.position, now, &d);
			if (t)
				set_error(a, &d, t);
		}
		if (a->info.position != a->jpos)
			journal(a, &a->ch); /* events that changed nothing moved the position */
	} else {
		flush_burst(a, false); /* the snapshot's changes in full chunks */
	}
	if (a->j.lines != a->synced &&
	    now - a->synced_us >= (int64_t)a->c->state_interval_ms * 1000) {
		if (agent_journal_sync(&a->j, &d))
			logmsg("%s", d.msg);
		a->synced = a->j.lines;
		a->synced_us = now;
	}
	saver_wait(a, false);
	if (a->j.lines > AGENT_JOURNAL_LINES_MIN && a->j.lines > 2 * agent_set_count(a->set))
		save_state_bg(a, now);
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

static void
load_free(struct agent *a)
{
	agent_set_free(a->touched);
	agent_set_free(a->snapt);
	agent_set_free(a->pre);
	a->touched = a->snapt = a->pre = NULL;
	a->loading = false;
}

/* Starts an initial load: what the set holds now (left by a load cut
 * short) stays until the snapshot has ended, and goes then unless the
 * snapshot or a live event named it. */
static enum tcerr
load_begin(struct agent *a, struct diag *d)
{
	load_free(a);
	agent_changes_clear(&a->sch);
	a->loading = true;
	a->live_pos = 0;
	if (!(a->touched = agent_set_new()) || !(a->snapt = agent_set_new()))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (agent_set_count(a->set)) {
		const struct agent_entry **v = NULL;
		size_t n = 0;
		if (!(a->pre = agent_set_new()) || agent_set_sorted(a->set, &v, &n))
			return diag_set(d, TC_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			enum tcerr t = agent_set_put(a->pre, v[i], NULL, d);
			if (t) {
				free(v);
				return t;
			}
		}
		free(v);
	}
	return TC_OK;
}

/* A snapshot entry: applied (in the next chunk) unless a live event
 * already changed the value, whose snapshot entry is then kept aside. */
static enum tcerr
load_snapshot_entry(struct agent *a, const struct agent_entry *e, struct diag *d)
{
	struct slice v = slice_make(e->value, e->len);
	if (a->pre)
		agent_set_del(a->pre, e->kind, v, NULL, d);
	if (agent_set_get(a->touched, e->kind, v))
		return agent_set_put(a->snapt, e, NULL, d);
	return agent_set_put(a->set, e, &a->sch, d);
}

/* A live event during the load: remembered as touched (with the
 * snapshot's entry for the value, if it came already), then applied. */
static enum tcerr
load_live_touch(struct agent *a, const struct agent_entry *e, struct diag *d)
{
	struct slice v = slice_make(e->value, e->len);
	enum tcerr t;
	if (agent_set_get(a->touched, e->kind, v))
		return TC_OK;
	const struct agent_entry *have = agent_set_get(a->set, e->kind, v);
	bool from_pre = a->pre && agent_set_get(a->pre, e->kind, v);
	if (have && !from_pre && (t = agent_set_put(a->snapt, have, NULL, d)))
		return t;
	if (from_pre)
		agent_set_del(a->pre, e->kind, v, NULL, d);
	struct agent_entry k = { .kind = e->kind, .confidence = -1, .len = e->len,
	                         .value = e->value };
	return agent_set_put(a->touched, &k, NULL, d);
}

/* The snapshot ended at position at (cs its connection). The set is made
 * exact at one position: if the live connection has passed at, the
 * values it touched hold their live state and every other value its
 * snapshot state, so the set is exact at the live position, and the live
 * connection goes on; otherwise every touched value takes its snapshot
 * state, the set is exact at at, and the snapshot connection goes on. */
static enum tcerr
load_end(struct agent *a, struct conn *cs, uint64_t at, struct diag *d)
{
	enum tcerr t = TC_OK;
	const struct agent_entry **v = NULL;
	size_t n = 0;
	struct conn *live = NULL;
	for (int i = 0; i < 2; i++)
		if (a->cn[i].on && !a->cn[i].dropped && a->cn[i].role == CONN_LIVE)
			live = &a->cn[i];
	if (a->pre) {
		if (agent_set_sorted(a->pre, &v, &n))
			return diag_set(d, TC_ENOMEM, "out of memory");
		for (size_t i = 0; i < n && !t; i++)
			t = agent_set_del(a->set, v[i]->kind, slice_make(v[i]->value, v[i]->len),
			                  &a->sch, d);
		free(v);
		v = NULL;
		if (t)
			return t;
	}
	if (live && a->live_pos >= at) {
		a->info.position = a->live_pos;
		cs->dropped = true;
		live->role = CONN_FOLLOW;
	} else {
		if (agent_set_sorted(a->touched, &v, &n))
			return diag_set(d, TC_ENOMEM, "out of memory");
		for (size_t i = 0; i < n && !t; i++) {
			struct slice val = slice_make(v[i]->value, v[i]->len);
			const struct agent_entry *s = agent_set_get(a->snapt, v[i]->kind, val);
			t = s ? agent_set_put(a->set, s, &a->sch, d)
			      : agent_set_del(a->set, v[i]->kind, val, &a->sch, d);
		}
		free(v);
		if (t)
			return t;
		if (live)
			live->dropped = true;
		if (at > a->info.position)
			a->info.position = at;
		cs->role = CONN_FOLLOW;
	}
	load_free(a);
	a->dirty = true;
	return TC_OK;
}

static enum tcerr
on_event(void *ctx, const struct sse_event *ev)
{
	struct conn *cn = ctx;
	struct agent *a = cn->a;
	enum tcerr t = TC_OK;
	uint64_t pos = 0;
	bool has_pos = ev->has_id && pos_parse(ev->id, &pos);

	if (cn->dropped)
		return TC_OK;
	cn->got_event = true;
	if (slice_eq_cstr(ev->name, "add") || slice_eq_cstr(ev->name, "remove")) {
		struct diag d;
		struct agent_entry e;
		bool add;
		diag_clear(&d);
		if (cn->role == CONN_LIVE && has_pos && pos <= a->live_pos)
			return TC_OK; /* already applied */
		t = agent_event_parse(ev->name, ev->data, &e, &add, &d);
		if (!t) {
			bool snap = cn->role == CONN_SNAP && !has_pos;
			if (snap && add)
				t = load_snapshot_entry(a, &e, &d);
			else if (!snap && cn->role == CONN_LIVE)
				t = load_live_touch(a, &e, &d);
			if (!snap && !t)
				t = add ? agent_set_put(a->set, &e, &a->ch, &d)
				        : agent_set_del(a->set, e.kind, slice_make(e.value, e.len),
				                        &a->ch, &d);
			free(e.value);
		}
		if (t == TC_EINVAL) {
			set_error(a, &d, t); /* one bad event: reported, skipped */
			t = TC_OK;
		} else if (t) {
			cn->d = d;
			return t;
		}
		if (cn->role == CONN_LIVE && has_pos)
			a->live_pos = pos;
	} else if (slice_eq_cstr(ev->name, "snapshot-end")) {
		if (cn->role == CONN_SNAP) {
			if ((t = load_end(a, cn, has_pos ? pos : 0, &cn->d)))
				return t;
			flush_burst(a, true);
			a->info.applied_us = ts_now_us();
			logmsg("snapshot applied: %zu decisions, position %" PRIu64,
			       agent_set_count(a->set), a->info.position);
			save_state_bg(a, ts_now_us()); /* the whole set once, not a journal of it */
		}
		return TC_OK;
	} else if (slice_eq_cstr(ev->name, "end")) {
		cn->end = true;
		return diag_set(&cn->d, TC_EPERM, "the hub ended the stream: %.*s",
		                (int)(ev->data.len > 200 ? 200 : ev->data.len), ev->data.p);
	} else if (slice_eq_cstr(ev->name, "cut")) {
		return diag_set(&cn->d, TC_ELIMIT, "the hub cut the stream (too slow); resuming");
	}
	if (has_pos && cn->role == CONN_FOLLOW && pos > a->info.position) {
		a->info.position = pos;
		a->dirty = true;
	}
	return TC_OK;
}

static size_t
on_bytes(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct conn *cn = ctx;
	struct agent *a = cn->a;
	size_t n = size * nmemb;
	if (cn->dropped)
		return n;
	if (!cn->checked)
		return 0;
	if (cn->role == CONN_SNAP && cn->round_bytes >= AGENT_LOAD_ROUND_BYTES) {
		/* the live stream's turn: curl keeps these bytes until resumed */
		cn->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	cn->round_bytes += n;
	if (cn->status != 200) {
		size_t room = AGENT_ERROR_BODY_MAX - cn->errbody.len;
		buf_append(&cn->errbody, p, n < room ? n : room);
		return n;
	}
	enum tcerr t = sse_feed(&cn->parser, p, n, on_event, cn, &cn->d);
	flush_burst(a, false); /* what this chunk held, as one burst */
	if (t) {
		cn->fail = t;
		return 0;
	}
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct conn *cn = ctx;
	size_t n = size * nmemb;
	if (n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) {
		long st = 0;
		curl_easy_getinfo(cn->h, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200) {
			cn->status = st;
			cn->checked = true;
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

static bool hub_position(const struct agent_conf *c, uint64_t *pos);

/* Starts cn: the stream URL with the filters, from position pos when
 * from is set (else the snapshot). false when the URL cannot be made. */
static bool
conn_start(struct agent *a, struct conn *cn, enum conn_role role, bool from, uint64_t pos,
           struct curl_slist *hdrs, struct buf *url)
{
	const struct agent_conf *c = a->c;
	CURL *h = cn->h;
	size_t ul = strlen(c->url);
	while (ul && c->url[ul - 1] == '/')
		ul--;
	buf_clear(url);
	buf_printf(url, "%.*s/api/v1/stream?view=decisions", (int)ul, c->url);
	add_params(url, h, "kind", c->kinds);
	add_params(url, h, "collection", c->collections);
	if (c->min_confidence >= 0)
		buf_printf(url, "&min_confidence=%d", c->min_confidence);
	if (c->tlp[0])
		add_params(url, h, "tlp", c->tlp);
	if (from)
		buf_printf(url, "&last_event_id=%" PRIu64, pos);
	if (buf_error(url))
		return false;
	cn->a = a;
	cn->role = role;
	cn->dropped = cn->paused = false;
	cn->round_bytes = 0;
	sse_init(&cn->parser, 0);
	buf_clear(&cn->errbody);
	cn->status = 0;
	cn->checked = cn->got_event = cn->end = false;
	cn->fail = TC_OK;
	diag_clear(&cn->d);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url->p);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, cn);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, cn);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->idle_timeout);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	setup_tls(h, c);
	curl_multi_add_handle(a->multi, h);
	cn->on = true;
	return true;
}

static void
conn_stop(struct agent *a, struct conn *cn)
{
	if (!cn->on)
		return;
	curl_multi_remove_handle(a->multi, cn->h);
	sse_reset(&cn->parser);
	cn->on = false;
}

/* Reports why cn's transfer (result cc) ended. Returns true when the
 * agent must stop (400, 401, 403, the hub's end). */
static bool
conn_report(struct agent *a, struct conn *cn, CURLcode cc)
{
	const struct agent_conf *c = a->c;
	if (cn->fail && cn->fail != TC_ELIMIT) {
		struct diag d = cn->d;
		set_error(a, &d, cn->fail);
		if (cn->end)
			return true;
	} else if (cn->fail) {
		logmsg("%s", cn->d.msg);
	}
	if (cn->checked && cn->status != 200) {
		json_t *e = json_loadb(cn->errbody.p ? cn->errbody.p : "", cn->errbody.len, 0, NULL);
		const char *title = e ? json_string_value(json_object_get(e, "title")) : NULL;
		const char *desc = e ? json_string_value(json_object_get(e, "description")) : NULL;
		struct diag ed;
		diag_set(&ed, TC_EIO, "the hub answered %ld: %s%s%s", cn->status,
		         title ? title : "", desc ? ": " : "", desc ? desc : "");
		json_decref(e);
		set_error(a, &ed, TC_EIO);
		if (cn->status == 401 || cn->status == 403 || cn->status == 400)
			return true;
	} else if (cc != CURLE_OK && !cn->fail) {
		struct diag ed;
		diag_set(&ed, TC_EIO, "%s: %s; reconnecting", c->url, curl_easy_strerror(cc));
		set_error(a, &ed, TC_EIO);
	}
	return false;
}

static int
follow(struct agent *a)
{
	CURLM *m = curl_multi_init();
	struct curl_slist *hdrs = NULL;
	struct buf url;
	char auth[AGENT_CONF_VALUE_MAX + 32];
	unsigned backoff = AGENT_BACKOFF_MIN_MS;
	int rc = 1;
	const struct agent_conf *c = a->c;

	buf_init(&url, AGENT_URL_MAX);
	for (int i = 0; i < 2; i++) {
		buf_init(&a->cn[i].errbody, AGENT_ERROR_BODY_MAX);
		a->cn[i].h = curl_easy_init();
	}
	if (!a->cn[0].h || !a->cn[1].h || !m) {
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
	while (!stop) {
		bool ok;
		if (a->info.position) {
			load_free(a);
			ok = conn_start(a, &a->cn[0], CONN_FOLLOW, true, a->info.position, hdrs, &url);
		} else {
			/* an initial load: the live events from the hub's position now
			 * (which the snapshot's cannot be before) on a second
			 * connection, applied while the snapshot is */
			struct diag d;
			uint64_t p0 = 0;
			if (load_begin(a, &d)) {
				logmsg("%s", d.msg);
				goto out;
			}
			bool side = hub_position(c, &p0);
			if (!side)
				logmsg("the hub's position is unknown: live events wait for the snapshot");
			ok = conn_start(a, &a->cn[0], CONN_SNAP, false, 0, hdrs, &url) &&
			     (!side || conn_start(a, &a->cn[1], CONN_LIVE, true, p0, hdrs, &url));
		}
		if (!ok) {
			logmsg("the stream URL is too long");
			goto out;
		}
		CURLcode cc = CURLE_OK;
		struct conn *done = NULL;
		while (!done && !stop) {
			int running, left;
			CURLMsg *msg;
			if (curl_multi_perform(m, &running) != CURLM_OK)
				break;
			while ((msg = curl_multi_info_read(m, &left))) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				if (msg->easy_handle == a->rh) {
					receipt_done(a, msg->data.result);
					continue;
				}
				for (int i = 0; i < 2; i++)
					if (a->cn[i].on && msg->easy_handle == a->cn[i].h &&
					    !a->cn[i].dropped && !done) {
						cc = msg->data.result;
						done = &a->cn[i];
					}
			}
			bool more = false;
			for (int i = 0; i < 2; i++) {
				more |= a->cn[i].paused;
				if (a->cn[i].on && a->cn[i].dropped)
					conn_stop(a, &a->cn[i]); /* the load chose the other one */
				a->cn[i].round_bytes = 0;
				if (a->cn[i].on && a->cn[i].paused) {
					a->cn[i].paused = false;
					curl_easy_pause(a->cn[i].h, CURLPAUSE_CONT);
				}
			}
			if (!done)
				curl_multi_poll(m, NULL, 0, more ? 0 : AGENT_TICK_MS, NULL);
			tick(a);
		}
		bool got = false;
		for (int i = 0; i < 2; i++) {
			got |= a->cn[i].got_event && a->cn[i].status == 200;
			conn_stop(a, &a->cn[i]);
		}
		flush_burst(a, true);
		if (stop)
			break;
		if (done && conn_report(a, done, cc)) {
			rc = 1;
			goto out;
		}
		if (got)
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
	for (int i = 0; i < 2; i++) {
		if (m)
			conn_stop(a, &a->cn[i]);
		if (a->cn[i].h)
			curl_easy_cleanup(a->cn[i].h);
		a->cn[i].h = NULL;
		buf_reset(&a->cn[i].errbody);
	}
	load_free(a);
	a->multi = NULL;
	curl_slist_free_all(hdrs);
	curl_slist_free_all(a->rhdrs);
	a->rhdrs = NULL;
	if (m)
		curl_multi_cleanup(m);
	buf_reset(&url);
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
	agent_changes_reset(&a.sch);
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
