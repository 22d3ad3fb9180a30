/*
 * api_crowdsec.c — CrowdSec LAPI endpoints for the bouncers organisations
 * already run (see api_crowdsec.h, docs/bouncers.md).
 *
 * A bouncer is a key of role agent; it reads the decisions its
 * organisation may see (policy_subject_principal: the one policy door,
 * through lib/feed). startup=true answers the snapshot (feed_snapshot) as
 * "new"; a later poll answers the decision events after the key's cursor
 * (feed_read), the last event per value deciding whether it is "new"
 * (block) or "deleted" (removed, or no longer a block). The cursor lives
 * in registry.db (registry_bouncer_cursor_*) and moves only once the
 * answer was sent whole (api_crowdsec_sent), and only forward: a
 * bouncer's or the hub's restart neither loses nor repeats a decision,
 * and an answer lost on the way is answered again at the next poll.
 *
 * A live query (GET /v1/decisions) is answered from a cache of its
 * organisation's address decisions (struct live_cache), kept up to date
 * with the log's events at each query and rebuilt when the registry
 * moves, so an address costs a few hash lookups, not a read of every
 * decision.
 *
 * One poll per key at a time: a poll waits (at most POLL_TURN_WAIT_MS)
 * until the key's previous answer was sent and its cursor recorded, so
 * a bouncer that polls again at once is not answered from the old
 * cursor.
 *
 * Only addresses (scope Ip) and networks (scope Range) are given: every
 * other kind of decision is not for a firewall. Costs are bounded by
 * [bouncers] startup_max_decisions (a larger snapshot is refused with
 * 503, never cut: a bouncer must not believe it has everything) and
 * poll_max_decisions (the rest comes at the next poll).
 */
#include "api_crowdsec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "crowdsec/crowdsec.h"
#include "feed/feed.h"
#include "hub/hub.h"
#include "log.h"
#include "policy/policy.h"
#include "util/timestamp.h"

#define STREAM_PATH "/v1/decisions/stream"
#define LIVE_PATH "/v1/decisions"
#define API_KEY_HEADER "X-Api-Key"
#define POLL_TURN_WAIT_MS 5000   /* a poll waits at most this for the key's previous one */
#define SNAPSHOTS_AT_ONCE 4      /* whole-snapshot answers built at once (memory) */
#define SNAPSHOT_WAIT_MS 5000    /* a snapshot answer waits at most this for its turn */
#define SEEN_MAX 4096            /* bouncer keys /metrics follows */
#define LIVE_CACHE_ORGS 4        /* organisations whose decisions live queries keep at hand */
#define LIVE_CATCH_UP_ROUNDS 4   /* reads of poll_max_decisions events before a rebuild */

/* Snapshot answers (startup, a live query) are built in memory, up to
 * startup_max_decisions each: at most SNAPSHOTS_AT_ONCE at a time. */
static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cv = PTHREAD_COND_INITIALIZER;
static unsigned snaps_building;

static void
deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool
snapshot_slot_take(void)
{
	struct timespec until;
	deadline_in(&until, SNAPSHOT_WAIT_MS);
	pthread_mutex_lock(&snap_mu);
	while (snaps_building >= SNAPSHOTS_AT_ONCE) {
		if (pthread_cond_timedwait(&snap_cv, &snap_mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&snap_mu);
			return false;
		}
	}
	snaps_building++;
	pthread_mutex_unlock(&snap_mu);
	return true;
}

static void
snapshot_slot_give(void)
{
	pthread_mutex_lock(&snap_mu);
	snaps_building--;
	pthread_cond_signal(&snap_cv);
	pthread_mutex_unlock(&snap_mu);
}

/* The keys whose poll is being answered (a short list: one entry per
 * bouncer polling right now). */
struct turn {
	struct turn *next;
	char key_id[REG_KEY_ID_LEN + 1];
};
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static struct turn *turns;

static struct turn **
turn_find(const char *key_id)
{
	struct turn **pp = &turns;
	while (*pp && strcmp((*pp)->key_id, key_id) != 0)
		pp = &(*pp)->next;
	return pp;
}

/* Takes key_id's turn, waiting for the poll before it. false when it
 * could not (waited too long, out of memory): the poll goes on without
 * it, which may repeat decisions but never lose one. */
static bool
turn_take(const char *key_id)
{
	struct timespec until;
	deadline_in(&until, POLL_TURN_WAIT_MS);
	pthread_mutex_lock(&turn_mu);
	while (*turn_find(key_id)) {
		if (pthread_cond_timedwait(&turn_cv, &turn_mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&turn_mu);
			return false;
		}
	}
	struct turn *t = calloc(1, sizeof *t);
	if (t) {
		snprintf(t->key_id, sizeof t->key_id, "%s", key_id);
		t->next = turns;
		turns = t;
	}
	pthread_mutex_unlock(&turn_mu);
	return t != NULL;
}

static void
turn_give(const char *key_id)
{
	pthread_mutex_lock(&turn_mu);
	struct turn **pp = turn_find(key_id);
	struct turn *t = *pp;
	if (t) {
		*pp = t->next;
		free(t);
	}
	pthread_cond_broadcast(&turn_cv);
	pthread_mutex_unlock(&turn_mu);
}

bool
api_crowdsec_route(const char *path)
{
	return strcmp(path, STREAM_PATH) == 0 || strcmp(path, LIVE_PATH) == 0;
}

/* An error as LAPI writes it ({"message"}) and as tocsin does (title,
 * description, http_status), in one object. */
static void
answer_error(struct api_crowdsec_answer *ans, int status, const char *message,
             const char *description)
{
	buf_clear(&ans->body);
	buf_append_cstr(&ans->body, "{\"message\":");
	buf_append_json_str(&ans->body, slice_from_cstr(message));
	buf_append_cstr(&ans->body, ",\"title\":");
	buf_append_json_str(&ans->body, slice_from_cstr(message));
	if (description) {
		buf_append_cstr(&ans->body, ",\"description\":");
		buf_append_json_str(&ans->body, slice_from_cstr(description));
	}
	buf_printf(&ans->body, ",\"http_status\":\"%d\"}", status);
	ans->status = status;
	ans->commit = false;
}

/* One decision of an answer, kept until the read ends (a poll keeps
 * only the last event of each value). */
struct entry {
	enum obs_kind kind;
	unsigned scope;
	char *value;
	size_t vlen;
	bool add;               /* goes to "new" */
	int64_t until_us;
	char *scenario;
	size_t order;
	bool last;              /* the last entry of its value */
};

struct collect {
	const struct cs_query *q;
	const struct conf *conf;
	int64_t now_us;
	bool delta;             /* a poll: events; otherwise a snapshot */
	bool live;              /* GET /v1/decisions: only what the query asks */
	size_t max;             /* entries kept at most (a snapshot: more is an error) */
	bool over;
	uint64_t stop_after;    /* a read past this position ends (0: no end) */
	struct entry *e;
	size_t n, cap;
	struct buf scratch;
};

static void
collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].value);
		free(c->e[i].scenario);
	}
	free(c->e);
	buf_reset(&c->scratch);
}

static enum tcerr
collect_push(struct collect *c, const struct feed_decision *dn, unsigned scope, bool add,
             int64_t until_us, const char *scenario)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;
		struct entry *v = realloc(c->e, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		c->e = v;
		c->cap = nc;
	}
	struct entry *e = &c->e[c->n];
	memset(e, 0, sizeof *e);
	e->value = malloc(dn->value.len + 1);
	e->scenario = strdup(scenario);
	if (!e->value || !e->scenario) {
		free(e->value);
		free(e->scenario);
		return TC_ENOMEM;
	}
	memcpy(e->value, dn->value.p, dn->value.len);
	e->value[dn->value.len] = '\0';
	e->vlen = dn->value.len;
	e->kind = dn->kind;
	e->scope = scope;
	e->add = add;
	e->until_us = until_us;
	e->order = c->n;
	e->last = true;
	c->n++;
	return TC_OK;
}

static enum tcerr
collect_cb(void *ctx, const struct feed_event *ev)
{
	struct collect *c = ctx;
	const struct feed_decision *dn = ev->decision;
	if (!dn)
		return TC_OK;
	if (c->stop_after && ev->pos.seq > c->stop_after)
		return TC_ELIMIT;
	if (c->q->origins_given && !c->q->origin_tocsin)
		return TC_OK; /* every decision's origin is tocsin: none was ever given */
	unsigned scope = crowdsec_scope_of(dn->kind, dn->value);
	if (!scope || (!c->live && !(scope & c->q->scopes)))
		return TC_OK;
	if (c->live && c->q->has_value && !crowdsec_live_match(c->q, scope, dn->value))
		return TC_OK;
	buf_clear(&c->scratch);
	bool add = ev->type == FEED_EV_ADD;
	if (add) {
		const struct feed_indicator *fi = dn->nindicators && dn->indicators ? &dn->indicators[0]
		                                                                     : NULL;
		crowdsec_scenario(fi ? fi->collection : NULL, fi ? fi->id : NULL, NULL, &c->scratch);
	} else {
		crowdsec_scenario(NULL, NULL, dn->reason, &c->scratch);
	}
	buf_append_char(&c->scratch, '\0');
	if (buf_error(&c->scratch))
		return TC_ENOMEM;
	const char *scenario = c->scratch.p;
	/* what a bouncer must not apply: an alert, an end already past, a
	 * decision its own filters refuse (a poll gives these as deleted, in
	 * case an earlier version of the decision was applied) */
	if (add && (!dn->action || strcmp(dn->action, "block") != 0 ||
	            (dn->until_us && dn->until_us <= c->now_us) || c->q->type_other ||
	            !crowdsec_admits(c->q, scenario)))
		add = false;
	if (!add && !c->delta)
		return TC_OK;
	/* a poll is bounded by feed_read's max_events (the rest comes next
	 * time); a snapshot, or a restarted bouncer's deletions, by max */
	if ((!c->delta || c->stop_after) && c->n >= c->max) {
		c->over = true;
		return TC_ELIMIT;
	}
	return collect_push(c, dn, scope, add, add ? dn->until_us : 0, scenario);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
	int r = memcmp(x->value, y->value, n);
	if (r)
		return r;
	if (x->vlen != y->vlen)
		return x->vlen < y->vlen ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* By (kind, value) only. */
static int
key_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
	int r = memcmp(x->value, y->value, n);
	if (r)
		return r;
	return x->vlen < y->vlen ? -1 : x->vlen > y->vlen;
}

static int
order_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A poll: only the last event of each value counts. */
static void
collapse(struct collect *c)
{
	if (c->n < 2)
		return;
	qsort(c->e, c->n, sizeof *c->e, entry_cmp);
	for (size_t i = 0; i + 1 < c->n; i++)
		if (c->e[i].kind == c->e[i + 1].kind && c->e[i].vlen == c->e[i + 1].vlen &&
		    memcmp(c->e[i].value, c->e[i + 1].value, c->e[i].vlen) == 0)
			c->e[i].last = false;
	qsort(c->e, c->n, sizeof *c->e, order_cmp);
}

/* Writes c's entries for "new" (add) or "deleted", leaving out a deleted
 * one that skip (sorted by key_cmp; may be NULL) holds. first: nothing
 * written before in this list. */
static void
write_entries(const struct collect *c, bool add, const struct collect *skip, bool *first_io,
              struct buf *out)
{
	bool first = first_io ? *first_io : true;
	int64_t unbounded = (int64_t)c->conf->bouncer_no_expiry_hours * 3600 * 1000000;
	for (size_t i = 0; i < c->n; i++) {
		const struct entry *e = &c->e[i];
		if (!e->last || e->add != add)
			continue;
		if (skip && skip->n && bsearch(e, skip->e, skip->n, sizeof *e, key_cmp))
			continue;
		if (!first)
			buf_append_char(out, ',');
		first = false;
		struct slice v = slice_make(e->value, e->vlen);
		int64_t id = crowdsec_decision_id(e->kind, v);
		if (!add)
			crowdsec_decision_json(out, id, e->scope, v, 0, 0, e->scenario);
		else if (e->until_us)
			crowdsec_decision_json(out, id, e->scope, v, e->until_us - c->now_us, e->until_us,
			                       e->scenario);
		else
			crowdsec_decision_json(out, id, e->scope, v, unbounded, c->now_us + unbounded,
			                       e->scenario);
	}
	if (first_io)
		*first_io = first;
}

/* Who asks: X-Api-Key, else what the Authorization header or the client
 * certificate named. NULL (and the answer set) when refused. */
static const struct reg_principal *
authenticate(const struct reg_snapshot *snap, struct MHD_Connection *con,
             const struct reg_principal *p, struct api_crowdsec_answer *ans)
{
	const char *key = MHD_lookup_connection_value(con, MHD_HEADER_KIND, API_KEY_HEADER);
	if (key) {
		size_t len = strnlen(key, AUTH_HEADER_MAX + 1);
		while (len && *key == ' ') {
			key++;
			len--;
		}
		while (len && key[len - 1] == ' ')
			len--;
		p = len <= AUTH_HEADER_MAX && snap ? reg_snapshot_auth_key(snap, key, len) : NULL;
		if (!p) {
			answer_error(ans, 403, "access forbidden", "the X-Api-Key is unknown or revoked");
			return NULL;
		}
	}
	if (!p) {
		answer_error(ans, 403, "access forbidden",
		             "send a tocsin key of role agent in the X-Api-Key header");
		return NULL;
	}
	snprintf(ans->actor, sizeof ans->actor, "%s", p->key_id);
	if (p->role != ROLE_AGENT) {
		answer_error(ans, 403, "access forbidden",
		             "the bouncer endpoints answer keys of role agent (tocsin key create "
		             "--role agent)");
		return NULL;
	}
	return p;
}

/* ---- what /metrics says of each bouncer ---- */

/* The bouncers that polled since tocsind started: where each is, and
 * when it last asked. At most SEEN_MAX keys are followed (more are
 * counted, not listed). */
struct seen {
	char key_id[REG_KEY_ID_LEN + 1];
	int64_t org;
	uint64_t pos;
	int64_t last_us;
};
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen *seen;
static size_t nseen, seen_cap, seen_dropped;

static void
seen_record(const char *key_id, int64_t org, uint64_t pos)
{
	pthread_mutex_lock(&seen_mu);
	size_t i = 0;
	while (i < nseen && strcmp(seen[i].key_id, key_id) != 0)
		i++;
	if (i == nseen) {
		if (nseen == seen_cap) {
			size_t nc = seen_cap ? 2 * seen_cap : 16;
			struct seen *v = nc <= SEEN_MAX ? realloc(seen, nc * sizeof *v) : NULL;
			if (!v) {
				seen_dropped++;
				pthread_mutex_unlock(&seen_mu);
				return;
			}
			seen = v;
			seen_cap = nc;
		}
		memset(&seen[i], 0, sizeof seen[i]);
		snprintf(seen[i].key_id, sizeof seen[i].key_id, "%s", key_id);
		nseen++;
	}
	seen[i].org = org;
	if (pos > seen[i].pos)
		seen[i].pos = pos;
	seen[i].last_us = ts_now_us();
	pthread_mutex_unlock(&seen_mu);
}

static void
label_escaped(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(out, '\\');
		if (*s == '\n') {
			buf_append_cstr(out, "\\n");
			continue;
		}
		buf_append_char(out, *s);
	}
}

void
api_crowdsec_metrics(const struct reg_snapshot *snap, uint64_t log_pos, struct buf *out)
{
	static const char *const names[] = {
		"tocsin_bouncer_position", "tocsin_bouncer_lag_positions",
		"tocsin_bouncer_last_poll_seconds",
	};
	static const char *const help[] = {
		"The log position a CrowdSec bouncer key was last answered up to.",
		"Log positions after a bouncer's position (not yet given to it).",
		"Seconds since a bouncer's last answered poll.",
	};
	int64_t now = ts_now_us();
	pthread_mutex_lock(&seen_mu);
	buf_printf(out,
	           "# HELP tocsin_bouncers_untracked_total Bouncer keys not listed (more than %d).\n"
	           "# TYPE tocsin_bouncers_untracked_total counter\n"
	           "tocsin_bouncers_untracked_total %zu\n",
	           SEEN_MAX, seen_dropped);
	for (size_t m = 0; m < sizeof names / sizeof names[0]; m++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[m], help[m], names[m]);
		for (size_t i = 0; i < nseen; i++) {
			const struct reg_org *o = snap ? reg_snapshot_org(snap, seen[i].org) : NULL;
			buf_printf(out, "%s{key=\"%s\",org=\"", names[m], seen[i].key_id);
			label_escaped(out, o ? o->name : "");
			buf_append_cstr(out, "\"} ");
			if (m == 0)
				buf_printf(out, "%llu\n", (unsigned long long)seen[i].pos);
			else if (m == 1)
				buf_printf(out, "%llu\n", (unsigned long long)(log_pos > seen[i].pos
				                                                     ? log_pos - seen[i].pos
				                                                     : 0));
			else
				buf_printf(out, "%.3f\n", (double)(now - seen[i].last_us) / 1e6);
		}
	}
	pthread_mutex_unlock(&seen_mu);
}

/* ---- the live query, answered from a per-organisation cache ---- */

/* The decisions one organisation's agent keys may see, by value, as of
 * log position pos and registry generation gen; brought up to date with
 * the events after pos at each query, rebuilt from a snapshot when the
 * registry (rights) changed. An agent key sees what its organisation's
 * agents see (policy_subject_principal: organisation and role), so keys
 * of one organisation share it. */
struct live_cache {
	pthread_mutex_t mu;       /* held by the query using it */
	int64_t org;              /* 0: unused */
	unsigned busy;            /* queries holding or waiting for mu (under live_mu) */
	bool valid;
	uint64_t pos, gen;
	int64_t used_us;
	struct cs_map map;
};
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct live_cache live[LIVE_CACHE_ORGS];
static pthread_once_t live_once = PTHREAD_ONCE_INIT;

static void
live_init(void)
{
	for (size_t i = 0; i < LIVE_CACHE_ORGS; i++)
		pthread_mutex_init(&live[i].mu, NULL);
}

/* The cache of org, locked; NULL when every cache serves another
 * organisation right now (the caller reads without one). */
static struct live_cache *
live_take(int64_t org)
{
	struct live_cache *pick = NULL;
	pthread_once(&live_once, live_init);
	pthread_mutex_lock(&live_mu);
	for (size_t i = 0; i < LIVE_CACHE_ORGS && !pick; i++)
		if (live[i].org == org)
			pick = &live[i];
	/* else the least recently used one nobody holds (an unused one first) */
	for (size_t i = 0; i < LIVE_CACHE_ORGS && (!pick || pick->org != org); i++)
		if (!live[i].busy && (!pick || live[i].used_us < pick->used_us))
			pick = &live[i];
	if (pick) {
		if (pick->org != org) {
			/* nobody holds it (busy == 0): it is ours to reset */
			cs_map_reset(&pick->map);
			pick->org = org;
			pick->valid = false;
		}
		pick->busy++;
	}
	pthread_mutex_unlock(&live_mu);
	if (pick)
		pthread_mutex_lock(&pick->mu);
	return pick;
}

static void
live_give(struct live_cache *lc)
{
	lc->used_us = ts_now_us();
	pthread_mutex_unlock(&lc->mu);
	pthread_mutex_lock(&live_mu);
	lc->busy--;
	pthread_mutex_unlock(&live_mu);
}

struct live_fill {
	struct cs_map *map;
	size_t n, max;
	bool over;
	struct buf scratch;
};

static enum tcerr
live_fill_cb(void *ctx, const struct feed_event *ev)
{
	struct live_fill *lf = ctx;
	const struct feed_decision *dn = ev->decision;
	if (!dn || !crowdsec_scope_of(dn->kind, dn->value))
		return TC_OK;
	lf->n++;
	if (ev->type != FEED_EV_ADD) {
		cs_map_del(lf->map, dn->value);
		return TC_OK;
	}
	if (lf->map->n >= lf->max) {
		lf->over = true;
		return TC_ELIMIT;
	}
	const struct feed_indicator *fi = dn->nindicators && dn->indicators ? &dn->indicators[0]
	                                                                     : NULL;
	buf_clear(&lf->scratch);
	crowdsec_scenario(fi ? fi->collection : NULL, fi ? fi->id : NULL, NULL, &lf->scratch);
	buf_append_char(&lf->scratch, '\0');
	if (buf_error(&lf->scratch))
		return TC_ENOMEM;
	return cs_map_put(lf->map, dn->kind, dn->value,
	                  dn->action && strcmp(dn->action, "block") == 0, dn->until_us,
	                  lf->scratch.p);
}

/* Brings lc up to date. Errors: those of feed_read/feed_snapshot;
 * TC_ELIMIT when the organisation has more than max decisions. */
static enum tcerr
live_refresh(struct live_cache *lc, const struct feed_ctx *fc, const struct feed_filter *f,
             uint64_t gen, size_t max, size_t step, struct diag *d)
{
	struct live_fill lf = { .map = &lc->map, .max = max };
	enum tcerr rc = TC_OK;
	buf_init(&lf.scratch, 0);
	if (lc->valid && lc->gen == gen) {
		/* the events since: a few reads of step events, then a rebuild */
		for (int round = 0; round < LIVE_CATCH_UP_ROUNDS; round++) {
			struct feed_pos after = { lc->pos }, next = { 0 };
			lf.n = 0;
			rc = feed_read(fc, FEED_DECISIONS, f, after, step, live_fill_cb, &lf, &next, d);
			if (rc)
				break;
			if (next.seq > lc->pos)
				lc->pos = next.seq;
			if (lf.n < step)
				goto done;
		}
	}
	/* first use, rights changed, far behind, or an error: from a snapshot */
	cs_map_reset(&lc->map);
	lc->valid = false;
	struct feed_pos at = { 0 };
	rc = feed_snapshot(fc, f, live_fill_cb, &lf, &at, d);
	if (!rc) {
		lc->pos = at.seq;
		lc->gen = gen;
		lc->valid = true;
	} else {
		cs_map_reset(&lc->map);
	}
done:
	buf_reset(&lf.scratch);
	return rc;
}

static void
live_write(struct buf *out, const struct cs_map_entry *e, const struct cs_query *q,
           int64_t now, int64_t unbounded, bool *first)
{
	if (!e->block || (e->until_us && e->until_us <= now) || q->type_other ||
	    !crowdsec_admits(q, e->scenario))
		return;
	struct slice v = slice_make(e->value, e->vlen);
	unsigned scope = crowdsec_scope_of(e->kind, v);
	if (!*first)
		buf_append_char(out, ',');
	*first = false;
	int64_t id = crowdsec_decision_id(e->kind, v);
	if (e->until_us)
		crowdsec_decision_json(out, id, scope, v, e->until_us - now, e->until_us, e->scenario);
	else
		crowdsec_decision_json(out, id, scope, v, unbounded, now + unbounded, e->scenario);
}

/* GET /v1/decisions from the organisation's cache. false when no cache
 * could be had (the caller answers by reading every decision). */
static bool
live_answer(struct app *a, uint64_t gen, const struct feed_ctx *fc, const struct feed_filter *f,
            const struct cs_query *q, const struct reg_principal *p,
            struct api_crowdsec_answer *ans)
{
	struct live_cache *lc = live_take(p->org);
	struct diag d;
	if (!lc)
		return false;
	diag_clear(&d);
	enum tcerr rc = live_refresh(lc, fc, f, gen, a->conf->bouncer_startup_max_decisions,
	                             a->conf->bouncer_poll_max_decisions, &d);
	if (rc == TC_ELIMIT) {
		char desc[160];
		snprintf(desc, sizeof desc,
		         "more than %zu decisions; raise [bouncers] startup_max_decisions",
		         a->conf->bouncer_startup_max_decisions);
		answer_error(ans, 503, "too many decisions", desc);
		live_give(lc);
		return true;
	}
	if (rc) {
		log_error("bouncers: cannot read decisions", d.msg[0] ? d.msg : tcerr_str(rc));
		answer_error(ans, 503, "the hub could not answer", "try again later");
		live_give(lc);
		return true;
	}
	int64_t now = ts_now_us();
	int64_t unbounded = (int64_t)a->conf->bouncer_no_expiry_hours * 3600 * 1000000;
	bool first = true;
	buf_append_char(&ans->body, '[');
	if (!q->has_value || (q->value_scope == CS_SCOPE_RANGE && !q->contains)) {
		/* everything, or what lies inside a network: every entry */
		for (size_t i = 0; i < lc->map.cap; i++) {
			const struct cs_map_entry *e = &lc->map.slots[i];
			if (!e->value || e->value == &cs_map_tomb)
				continue;
			struct slice v = slice_make(e->value, e->vlen);
			if (q->has_value && !crowdsec_live_match(q, crowdsec_scope_of(e->kind, v), v))
				continue;
			live_write(&ans->body, e, q, now, unbounded, &first);
		}
	} else {
		static _Thread_local char cand[CS_CANDIDATES_MAX][CS_VALUE_MAX + 1];
		size_t n = crowdsec_live_candidates(q, cand);
		for (size_t i = 0; i < n; i++) {
			const struct cs_map_entry *e = cs_map_get(&lc->map, slice_from_cstr(cand[i]));
			if (e)
				live_write(&ans->body, e, q, now, unbounded, &first);
		}
	}
	live_give(lc);
	if (first) {
		buf_clear(&ans->body);
		buf_append_cstr(&ans->body, "null"); /* LAPI's answer when nothing matches */
	} else {
		buf_append_char(&ans->body, ']');
	}
	if (buf_error(&ans->body))
		answer_error(ans, 503, "out of memory", NULL);
	else
		ans->status = 200;
	return true;
}

void
api_crowdsec_handle(struct app *a, struct store *s, const struct reg_snapshot *snap,
                    uint64_t snap_gen, struct MHD_Connection *con, const char *method, const char *path,
                    const char *raw_uri, const struct reg_principal *p,
                    struct api_crowdsec_answer *ans)
{
	struct cs_query q;
	struct diag d;
	struct collect c, gone;
	struct allowlist *allow = NULL;
	bool stream = strcmp(path, STREAM_PATH) == 0;
	bool slot = false;
	enum tcerr rc;

	memset(ans, 0, sizeof *ans);
	memset(&c, 0, sizeof c);
	memset(&gone, 0, sizeof gone);
	buf_init(&ans->body, 0);
	buf_init(&c.scratch, 0);
	buf_init(&gone.scratch, 0);
	diag_clear(&d);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		answer_error(ans, 405, "method not allowed", "the decisions endpoints answer GET");
		return;
	}
	if (!(p = authenticate(snap, con, p, ans)))
		return;
	const char *qs = strchr(raw_uri, '?');
	struct slice query = qs ? slice_make(qs + 1, strcspn(qs + 1, "#")) : slice_make("", 0);
	if ((rc = crowdsec_query_parse(query, stream, &q, &d))) {
		answer_error(ans, 400, "bad request", d.msg);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		/* LAPI: a HEAD reads nothing and moves nothing */
		ans->status = 200;
		return;
	}
	if (!s) {
		answer_error(ans, 503, "the hub's store is unavailable", "try again later");
		return;
	}
	if (stream)
		ans->holds = turn_take(p->key_id);
	uint64_t cursor = 0;
	bool has_cursor = false;
	if (stream &&
	    (rc = registry_bouncer_cursor_get(a->registry, p->key_id, &cursor, &has_cursor, &d))) {
		log_error("bouncers: cannot read a cursor", d.msg);
		answer_error(ans, 503, "the hub could not answer", "try again later");
		return;
	}

	struct policy_subject who;
	policy_subject_principal(&who, snap, p);
	allow = a->hub ? hub_allowlist_get(a->hub) : NULL;
	struct feed_ctx fc = {
		.store = s, .who = &who, .names = snap, .allow = allow, .now_us = 0,
		.block_min_confidence = (int)a->conf->block_min_confidence,
	};
	struct feed_filter f;
	memset(&f, 0, sizeof f);
	f.kinds = (1u << OBS_IPV4) | (1u << OBS_IPV6);
	f.min_confidence = -1;
	f.tlp_max = TLP_NONE;
	if (!stream && live_answer(a, snap_gen, &fc, &f, &q, p, ans))
		goto out;
	c.q = gone.q = &q;
	c.conf = gone.conf = a->conf;
	c.now_us = ts_now_us();
	c.live = !stream;
	c.delta = stream && has_cursor && !q.startup;
	c.max = c.delta ? a->conf->bouncer_poll_max_decisions : a->conf->bouncer_startup_max_decisions;
	struct feed_pos at = { 0 }, next = { 0 };
	if (!c.delta && !(slot = snapshot_slot_take())) {
		answer_error(ans, 503, "the hub is busy",
		             "too many full answers are being built; try again");
		goto out;
	}
	if (c.delta) {
		struct feed_pos after = { cursor };
		rc = feed_read(&fc, FEED_DECISIONS, &f, after, c.max, collect_cb, &c, &next, &d);
		collapse(&c);
	} else {
		rc = feed_snapshot(&fc, &f, collect_cb, &c, &at, &d);
		if (!rc && c.n)
			qsort(c.e, c.n, sizeof *c.e, key_cmp);
	}
	if (!rc && stream && !c.delta && has_cursor && cursor < at.seq) {
		/* A bouncer that starts again may still hold what it was given
		 * before (one killed without cleaning its firewall up): the
		 * values removed since its cursor, up to the snapshot, go in
		 * "deleted" (deleting what it does not hold is harmless). At
		 * most startup_max_decisions of them. */
		gone.q = &q;
		gone.conf = a->conf;
		gone.now_us = c.now_us;
		gone.delta = true;
		gone.max = a->conf->bouncer_startup_max_decisions;
		gone.stop_after = at.seq;
		struct feed_pos after = { cursor };
		enum tcerr g = feed_read(&fc, FEED_DECISIONS, &f, after, 0, collect_cb, &gone, NULL,
		                         &d);
		if (g && g != TC_ELIMIT) {
			rc = g;
		} else {
			collapse(&gone);
			if (gone.over) {
				struct logline l;
				log_begin(&l, CONF_LOG_WARN, "bouncer startup: deletions cut");
				log_str(&l, "key", p->key_id);
				log_int(&l, "max", (int64_t)gone.max);
				log_end(&l);
			}
		}
	}
	if (rc == TC_ELIMIT && c.over) {
		char desc[160];
		snprintf(desc, sizeof desc,
		         "more than %zu decisions; raise [bouncers] startup_max_decisions", c.max);
		answer_error(ans, 503, "too many decisions", desc);
		goto out;
	}
	if (rc) {
		log_error("bouncers: cannot read decisions", d.msg[0] ? d.msg : tcerr_str(rc));
		answer_error(ans, 503, "the hub could not answer", "try again later");
		goto out;
	}
	if (stream) {
		bool first = true;
		buf_append_cstr(&ans->body, "{\"new\":[");
		write_entries(&c, true, NULL, NULL, &ans->body);
		buf_append_cstr(&ans->body, "],\"deleted\":[");
		write_entries(&c, false, NULL, &first, &ans->body);
		write_entries(&gone, false, &c, &first, &ans->body);
		buf_append_cstr(&ans->body, "]}");
		ans->commit = !c.delta || next.seq > cursor;
		ans->seq = !c.delta ? at.seq : ans->commit ? next.seq : cursor;
		ans->polled = true;
		ans->org = p->org;
	} else if (c.n == 0) {
		buf_append_cstr(&ans->body, "null"); /* LAPI's answer when nothing matches */
	} else {
		buf_append_char(&ans->body, '[');
		write_entries(&c, true, NULL, NULL, &ans->body);
		buf_append_char(&ans->body, ']');
	}
	if (buf_error(&ans->body)) {
		answer_error(ans, 503, "out of memory", NULL);
		goto out;
	}
	ans->status = 200;
out:
	if (slot)
		snapshot_slot_give();
	if (allow)
		allowlist_free(allow);
	collect_free(&c);
	collect_free(&gone);
}

void
api_crowdsec_sent(struct app *a, struct api_crowdsec_answer *ans, bool complete)
{
	struct diag d;
	if (!ans)
		return;
	if (complete && ans->polled && ans->status == 200)
		seen_record(ans->actor, ans->org, ans->seq);
	if (complete && ans->commit && ans->status == 200) {
		diag_clear(&d);
		if (registry_bouncer_cursor_advance(a->registry, ans->actor, ans->seq, &d))
			log_error("bouncers: cannot record a cursor", d.msg);
	}
	if (ans->holds)
		turn_give(ans->actor);
	buf_reset(&ans->body);
	free(ans);
}
