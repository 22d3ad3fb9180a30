/*
 * peers.c — replication from federation peers (issue 12, docs/peers.md).
 *
 * A manager thread watches the registry's peers (registry_peer_generation)
 * and runs one worker thread per peer. A worker of a tocsin peer reads the
 * remote hub's log through its event stream (GET /api/v1/stream?view=stix
 * with last_event_id = the durable cursor): from position 0 that is the
 * catch-up, paced by the remote, and then the same connection goes on
 * live. Every version event is checked against the border policy
 * (lib/peer), the authorship rule for relayed objects
 * (policy_author_check_peer) and stored through the hub's writer as
 * produced by the organisation standing for the peer; every delete event
 * deletes that version if the peer's organisation produced it here. Only
 * after the batch is durable does the cursor move (registry_peer_progress),
 * so a crash or a partition replays at most the last batch, which the
 * store answers as duplicates: nothing is lost and nothing is stored
 * twice. A worker of a plain TAXII 2.1 peer polls each collection's
 * objects by added_after (the cursor holds one per collection) and POSTs
 * to it, in envelopes, the versions this hub holds that the peer's
 * organisation may read as a peer (policy_row).
 *
 * Invariants: a worker handles one peer and only while the peer is at the
 * revision it started with (the manager restarts it otherwise); the
 * cursor written is always a position whose events are durable here;
 * every object that arrives is accounted for, stored (audit "peer.in"),
 * or refused with the reason (audit "peer.refused", counted).
 */
#include "peers.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "feed/feed.h"
#include "hub/hub.h"
#include "hub/hub_writer.h"
#include "log.h"
#include "peer/peer.h"
#include "policy/policy.h"
#include "sse/sse.h"
#include "util/timestamp.h"

struct peers;

/* One peer's worker. */
struct prt {
	struct peers *ps;
	struct prt *next;
	char name[REG_PEER_NAME_MAX + 1];
	int64_t org;
	int64_t revision;
	pthread_t th;
	_Atomic bool stop;
	_Atomic bool done;          /* the thread has finished */
	/* for /metrics, written by the worker */
	_Atomic uint64_t in, deleted, refused, out, errors, cursor, remote;
	_Atomic int64_t behind_since_us;
	_Atomic bool connected;
};

struct peers {
	struct app *app;
	struct prov_verifier *verifier;  /* shared by the workers (thread-safe) */
	char self_id[HUBKEY_ID_MAX];     /* this hub's "<alg>:<hex>": loops name it */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct prt *list;           /* under mu */
	pthread_t th;
	bool started;
};

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static bool
stopping(const struct prt *r)
{
	return atomic_load(&r->stop);
}

/* Sleeps ms, waking early when the worker is told to stop. */
static void
nap(struct prt *r, unsigned ms)
{
	while (ms && !stopping(r)) {
		unsigned step = ms < 50 ? ms : 50;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void
url_join(struct buf *b, const char *base, const char *path)
{
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	buf_append(b, base, n);
	buf_append_cstr(b, path);
}

static void
q_escape(struct buf *q, const char *v)
{
	static const char hexd[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_append_char(q, (char)*p);
		} else {
			buf_append_char(q, '%');
			buf_append_char(q, hexd[*p >> 4]);
			buf_append_char(q, hexd[*p & 15]);
		}
	}
}

/* "ed25519 <hex>", "ed25519:<hex>" and any case compare equal. */
static bool
pin_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == ' ' ? ':' : *a, y = *b == ' ' ? ':' : *b;
		if ((x | 0x20) != (y | 0x20) && !(x == y))
			return false;
		if (!x)
			return true;
	}
}

/* ------------------------------------------------------------------ */
/* one worker's state while it replicates                             */

/* A version received and not yet stored. */
struct pend {
	json_t *obj;
	char coll[STORE_ALIAS_MAX + 40];
	uint64_t pos;
};

struct sync {
	struct prt *r;
	struct app *app;
	struct reg_peer *p;          /* the peer as read at the start (the worker's copy) */
	char relay_id[HUBKEY_ID_MAX]; /* the peer's hub id (its pin), appended to hops */
	struct peer_policy pol;
	struct pend *pend;
	size_t npend, cap;
	uint64_t pos;                /* the last position whose events are durable here */
	uint64_t seen;               /* the last position received */
	uint64_t received;           /* stream bytes parsed */
	uint64_t saved;              /* the cursor as last written to the registry */
	int64_t saved_us;
	uint64_t rate_count;         /* objects taken since rate_t0 */
	int64_t rate_t0;
	/* transfer */
	struct sse_parser sse;
	struct buf body;             /* a non-stream answer, or an error's first bytes */
	long http_status;
	bool streaming;
	enum tcerr cb_rc;            /* why the write callback stopped the transfer */
	struct diag cb_d;
	char hdr_pos[FEED_POS_TEXT_MAX + 1]; /* X-Tocsin-Log-Position */
	char date_last[64];          /* X-TAXII-Date-Added-Last */
};

static void
pend_clear(struct sync *s)
{
	for (size_t i = 0; i < s->npend; i++)
		json_decref(s->pend[i].obj);
	s->npend = 0;
}

/* Writes the worker's cursor and counters (and the error, if any). A
 * peer removed or changed meanwhile: TC_ENOTFOUND, the worker ends. */
static enum tcerr
progress(struct sync *s, const char *error)
{
	struct prt *r = s->r;
	struct reg_peer *p = s->p;
	struct diag d;
	int64_t now = ts_now_us();
	if (strcmp(p->kind, "tocsin") == 0)
		snprintf(p->cursor, sizeof p->cursor, "%" PRIu64, s->pos);
	p->objects_in = atomic_load(&r->in);
	p->deleted_in = atomic_load(&r->deleted);
	p->refused = atomic_load(&r->refused);
	p->objects_out = atomic_load(&r->out);
	snprintf(p->remote_position, sizeof p->remote_position, "%" PRIu64,
	         atomic_load(&r->remote));
	/* since when the cursor has been behind the remote's end (0: caught up) */
	p->last_event_us = atomic_load(&r->behind_since_us);
	if (error) {
		snprintf(p->last_error, sizeof p->last_error, "%s", error);
		p->last_error_us = now;
	} else {
		p->last_ok_us = now;
	}
	diag_clear(&d);
	enum tcerr rc = registry_peer_progress(s->app->registry, p, &d);
	if (rc && rc != TC_ENOTFOUND)
		log_error("peer: cannot record progress", d.msg);
	return rc;
}

static void
note_remote(struct prt *r, uint64_t remote, uint64_t have)
{
	uint64_t old = atomic_load(&r->remote);
	if (remote > old)
		atomic_store(&r->remote, remote);
	else
		remote = old;
	atomic_store(&r->cursor, have);
	if (have >= remote)
		atomic_store(&r->behind_since_us, 0);
	else if (!atomic_load(&r->behind_since_us))
		atomic_store(&r->behind_since_us, ts_now_us());
}

/* Audits one batch: what arrived ("peer.in", with the log positions it
 * committed here) or what was refused ("peer.refused", with why). */
static void
audit_batch(struct sync *s, const char *action, const char *const *ids, size_t n,
            const uint64_t *seqs, size_t nseqs, const char *detail)
{
	struct diag d;
	for (size_t i = 0; i < n || (i == 0 && n == 0); i += AUDIT_IDS_MAX) {
		size_t k = n - i < AUDIT_IDS_MAX ? n - i : AUDIT_IDS_MAX;
		struct audit_entry e = {
			.action = action,
			.actor = s->p->name,
			.org = s->p->org_name,
			.request = s->p->url,
			.ids = k ? ids + i : NULL,
			.nids = k,
			.detail = detail,
			.seqs = i == 0 ? seqs : NULL,
			.nseqs = i == 0 ? nseqs : 0,
		};
		diag_clear(&d);
		if (audit_append(s->app->audit, &e, &d))
			log_error("peer: cannot write the audit log", d.msg);
		if (n == 0)
			break;
	}
}

/* Paces the worker to the policy's rate (objects per second). */
static void
pace(struct sync *s, size_t n)
{
	if (!s->pol.rate)
		return;
	int64_t now = ts_now_us();
	if (!s->rate_t0 || now - s->rate_t0 > 10 * 1000000LL) {
		s->rate_t0 = now;
		s->rate_count = 0;
	}
	s->rate_count += n;
	int64_t due = s->rate_t0 + (int64_t)(s->rate_count * 1000000ULL / s->pol.rate);
	if (due > now)
		nap(s->r, (unsigned)((due - now) / 1000));
}

/* Stores the pending versions: policy, authorship, then one writer
 * submission; audits and counts the outcome. upto is the position the
 * batch ends at (tocsin peers), 0 for TAXII pages. */
static enum tcerr
flush(struct sync *s, uint64_t upto)
{
	struct prt *r = s->r;
	size_t n = s->npend;
	enum tcerr rc = TC_OK;
	struct diag d;
	if (n == 0) {
		if (upto > s->pos)
			s->pos = upto;
		return TC_OK;
	}
	struct reg_snapshot *snap = app_snapshot_get(s->app);
	const struct reg_org *org = reg_snapshot_org(snap, s->p->org);
	struct hub_item *items = calloc(n, sizeof *items);
	struct hub_item *ok = calloc(n, sizeof *ok);
	struct hub_result *res = calloc(n, sizeof *res);
	struct hub_result *okres = calloc(n, sizeof *okres);
	size_t *okidx = calloc(n, sizeof *okidx);
	const char **ids = calloc(n, sizeof *ids);
	const char **bad = calloc(n, sizeof *bad);
	uint64_t *seqs = calloc(n, sizeof *seqs);
	char (*paths)[96] = calloc(n, sizeof *paths);
	struct hub_prep *prep = NULL;
	struct buf why;
	buf_init(&why, 4096);
	size_t nok = 0, nids = 0, nbad = 0, nseqs = 0, nwhy = 0;

	if (!items || !ok || !res || !okres || !okidx || !ids || !bad || !seqs || !paths) {
		rc = diag_set(&s->cb_d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if (!org || org->deleted_us) {
		/* (also for a moment after `tocsin peer add`, until the
		 * registry snapshot that knows the organisation is loaded) */
		rc = diag_set(&s->cb_d, TC_EPERM, "organisation '%s' is not (yet) in the registry "
		              "snapshot", s->p->org_name);
		goto out;
	}
	/* the peer writes as a principal of role peer of its organisation:
	 * the collection's write rights decide which collections it fills */
	struct reg_principal as = { .org = org->num, .role = ROLE_PEER, .cred = REG_CRED_KEY };
	struct policy_subject who;
	policy_subject_principal(&who, snap, &as);
	for (size_t i = 0; i < n; i++) {
		struct pend *e = &s->pend[i];
		const struct reg_collection *c = reg_snapshot_collection_find(snap, e->coll);
		if (c && !policy_collection(&who, c).can_write) {
			res[i].verdict = HUB_REJECTED;
			snprintf(res[i].why, sizeof res[i].why,
			         "%s: organisation '%s' may not write collection '%s'", paths[i],
			         org->name, e->coll);
			items[i] = (struct hub_item){ .obj = e->obj, .path = paths[i] };
			continue;
		}
		snprintf(paths[i], sizeof paths[i], "peer %s position %" PRIu64, s->p->name, e->pos);
		/* signed provenance first, on the object as the origin signed
		 * it: missing (when required), wrong, tampered or replayed
		 * proofs and loops are refused; the relaying peer joins the hops */
		diag_clear(&d);
		if (peer_prov_check(r->ps->verifier, e->obj, r->ps->self_id, s->relay_id,
		                    s->app->conf->peer_require_provenance &&
		                        strcmp(s->p->kind, "tocsin") == 0,
		                    NULL, &d)) {
			res[i].verdict = HUB_REJECTED;
			snprintf(res[i].why, sizeof res[i].why, "%s", d.msg);
			items[i] = (struct hub_item){ .obj = e->obj, .path = paths[i] };
			continue;
		}
		/* (stripping a property of a signed object leaves a provenance
		 * that no longer verifies: docs/peers.md) */
		peer_policy_strip(&s->pol, e->obj);
		items[i] = (struct hub_item){ .obj = e->obj, .path = paths[i],
			                      .collection = c ? c->c.num : 0, .producer = org->num,
			                      /* verified above: stored as the origin signed
			                       * it (with the hops), not signed again */
			                      .peer_provenance = prov_present_json(e->obj) };
		if (!c) {
			res[i].verdict = HUB_REJECTED;
			snprintf(res[i].why, sizeof res[i].why, "%s: no local collection '%s'", paths[i],
			         e->coll);
		}
	}
	/* validate and extract (only what is not refused already) */
	for (size_t i = 0; i < n; i++)
		if (res[i].verdict != HUB_REJECTED)
			ok[nok++] = items[i], okidx[nok - 1] = i;
	diag_clear(&d);
	if (nok && (rc = hub_prepare(hub_obs_ctx(s->app->hub), ok, nok, okres, &prep, &d))) {
		diag_set(&s->cb_d, rc, "validating: %s", d.msg);
		goto out;
	}
	size_t m = 0;
	for (size_t j = 0; j < nok; j++) {
		size_t i = okidx[j];
		if (okres[j].verdict == HUB_REJECTED) {
			res[i] = okres[j];
			continue;
		}
		enum tlp_level tlp = policy_effective_tlp(snap, ok[j].meta->tlp, NULL);
		diag_clear(&d);
		if (peer_policy_admit(&s->pol, ok[j].meta, tlp, ok[j].obs, ok[j].nobs,
		                      org->ngroups > 0, &d) ||
		    policy_author_check_peer(snap, org, ok[j].obj, ok[j].path, &d)) {
			res[i].verdict = HUB_REJECTED;
			snprintf(res[i].why, sizeof res[i].why, "%s", d.msg);
			continue;
		}
		ok[m] = ok[j];
		okidx[m] = i;
		m++;
	}
	if (m) {
		diag_clear(&d);
		rc = hub_writer_ingest(s->app->writer, ok, m, okres, &d);
		if (rc) {
			diag_set(&s->cb_d, rc, "storing: %s", d.msg);
			goto out;
		}
		for (size_t j = 0; j < m; j++)
			res[okidx[j]] = okres[j];
	}
	uint64_t nin = 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_object_get(s->pend[i].obj, "id"));
		if (res[i].verdict == HUB_ACCEPTED && !res[i].unseen_copy) {
			ids[nids++] = id ? id : "?";
			if (res[i].seq)
				seqs[nseqs++] = res[i].seq;
			nin++;
		} else if (res[i].verdict == HUB_REJECTED) {
			bad[nbad++] = id ? id : "?";
			if (nwhy < 8) {
				buf_printf(&why, "%s%s", nwhy ? "; " : "", res[i].why);
				nwhy++;
			}
			struct logline l;
			log_begin(&l, CONF_LOG_WARN, "peer object refused");
			log_str(&l, "peer", s->p->name);
			log_str(&l, "why", res[i].why);
			log_end(&l);
		}
	}
	if (nids)
		audit_batch(s, "peer.in", ids, nids, seqs, nseqs, NULL);
	if (nbad)
		audit_batch(s, "peer.refused", bad, nbad, NULL, 0, buf_error(&why) ? "" : why.p);
	atomic_fetch_add(&r->in, nin);
	atomic_fetch_add(&r->refused, nbad);
	pace(s, n);
	if (upto > s->pos)
		s->pos = upto;
out:
	hub_prep_free(prep);
	buf_reset(&why);
	free(items);
	free(ok);
	free(res);
	free(okres);
	free(okidx);
	free(ids);
	free(bad);
	free(seqs);
	free(paths);
	reg_snapshot_unref(snap);
	pend_clear(s);
	return rc;
}

struct del_ctx {
	int64_t org;
};

static enum store_delete_verdict
del_may(void *ctx, const struct store_row *row)
{
	const struct del_ctx *c = ctx;
	return row->producer == c->org ? STORE_DEL_YES : STORE_DEL_REFUSED;
}

/* A delete event: the version goes if the peer's organisation produced
 * it here (a peer deletes only what came from it). */
static enum tcerr
apply_delete(struct sync *s, json_t *data, uint64_t pos)
{
	const char *coll = json_string_value(json_object_get(data, "collection"));
	const char *id = json_string_value(json_object_get(data, "id"));
	const char *ver = json_string_value(json_object_get(data, "version"));
	struct reg_snapshot *snap = app_snapshot_get(s->app);
	const struct reg_collection *c = coll ? reg_snapshot_collection_find(snap, coll) : NULL;
	struct diag d;
	enum tcerr rc = TC_OK;
	int64_t vus = 0;
	if (!c || !id) {
		reg_snapshot_unref(snap);
		atomic_fetch_add(&s->r->refused, 1);
		return TC_OK; /* nothing here to delete */
	}
	struct store_delete_q q = { .collection = c->c.num, .id = id };
	if (ver && *ver && ts_parse(slice_from_cstr(ver), &vus, NULL) == TC_OK) {
		q.version_us = &vus;
		q.nversion_us = 1;
	} else {
		q.versions = STORE_V_ALL;
	}
	struct del_ctx dc = { s->p->org };
	struct store_delete_out out = { 0 };
	diag_clear(&d);
	rc = hub_writer_delete(s->app->writer, &q, del_may, &dc, &out, &d);
	reg_snapshot_unref(snap);
	if (rc == TC_ENOTFOUND)
		rc = TC_OK;
	if (rc)
		return rc;
	if (out.deleted) {
		char ref[STIX_ID_MAX + 64];
		snprintf(ref, sizeof ref, "%s@%s", id, ver ? ver : "");
		const char *ids[1] = { ref };
		uint64_t seq = out.seq;
		audit_batch(s, "peer.delete", ids, 1, seq ? &seq : NULL, seq ? 1 : 0, NULL);
		atomic_fetch_add(&s->r->deleted, out.deleted);
	}
	if (pos > s->pos)
		s->pos = pos;
	return TC_OK;
}

/* One SSE event from the remote's stream. */
static enum tcerr
on_event(void *ctx, const struct sse_event *ev)
{
	struct sync *s = ctx;
	struct feed_pos fp = { 0 };
	if (ev->has_id && feed_pos_parse(ev->id, &fp) != TC_OK)
		return diag_set(&s->cb_d, TC_EIO, "stream: bad event id");
	if (slice_eq_cstr(ev->name, "version") || slice_eq_cstr(ev->name, "delete")) {
		json_t *data = json_loadb(ev->data.p, ev->data.len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(data)) {
			json_decref(data);
			return diag_set(&s->cb_d, TC_EIO, "stream: event %" PRIu64 " is not JSON",
			                fp.seq);
		}
		note_remote(s->r, fp.seq, s->pos);
		atomic_store(&s->r->connected, true);
		uint64_t prev = s->seen;
		s->seen = fp.seq;
		enum tcerr rc = TC_OK;
		if (slice_eq_cstr(ev->name, "delete")) {
			if ((rc = flush(s, prev)) == TC_OK)
				rc = apply_delete(s, data, fp.seq);
			json_decref(data);
			return rc ? diag_set(&s->cb_d, rc, "storing a deletion failed") : TC_OK;
		}
		json_t *obj = json_object_get(data, "object");
		const char *coll = json_string_value(json_object_get(data, "collection"));
		if (!json_is_object(obj) || !coll) {
			json_decref(data);
			return diag_set(&s->cb_d, TC_EIO, "stream: event %" PRIu64 " has no object",
			                fp.seq);
		}
		if (s->npend == s->cap) {
			size_t nc = s->cap ? 2 * s->cap : 256;
			struct pend *np = realloc(s->pend, nc * sizeof *np);
			if (!np) {
				json_decref(data);
				return diag_set(&s->cb_d, TC_ENOMEM, "out of memory");
			}
			s->pend = np;
			s->cap = nc;
		}
		struct pend *e = &s->pend[s->npend++];
		e->obj = json_incref(obj);
		snprintf(e->coll, sizeof e->coll, "%s", coll);
		e->pos = fp.seq;
		json_decref(data);
		if (s->npend >= s->app->conf->peer_batch_max_objects &&
		    (rc = flush(s, fp.seq)))
			return diag_set(&s->cb_d, rc, "storing a batch failed");
		return TC_OK;
	}
	if (slice_eq_cstr(ev->name, "cut"))
		return diag_set(&s->cb_d, TC_EBUSY, "the remote cut the stream (this hub read too "
		                                     "slowly); resuming");
	if (slice_eq_cstr(ev->name, "end"))
		return diag_set(&s->cb_d, TC_EPERM, "the remote ended the stream: %.*s",
		                (int)(ev->data.len < 200 ? ev->data.len : 200), ev->data.p);
	return TC_OK;
}

static size_t
on_header(char *b, size_t size, size_t n, void *ctx)
{
	struct sync *s = ctx;
	size_t len = size * n;
	static const char pos_h[] = "x-tocsin-log-position:";
	static const char last_h[] = "x-taxii-date-added-last:";
	const char *v = NULL;
	char *dst = NULL;
	size_t cap = 0;
	if (len > sizeof pos_h - 1 && strncasecmp(b, pos_h, sizeof pos_h - 1) == 0) {
		v = b + sizeof pos_h - 1;
		dst = s->hdr_pos;
		cap = sizeof s->hdr_pos;
	} else if (len > sizeof last_h - 1 && strncasecmp(b, last_h, sizeof last_h - 1) == 0) {
		v = b + sizeof last_h - 1;
		dst = s->date_last;
		cap = sizeof s->date_last;
	}
	if (v) {
		const char *end = b + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		size_t k = (size_t)(end - v);
		if (k < cap) {
			memcpy(dst, v, k);
			dst[k] = '\0';
		}
	}
	return len;
}

static size_t
on_body(char *b, size_t size, size_t n, void *ctx)
{
	struct sync *s = ctx;
	size_t len = size * n;
	if (stopping(s->r))
		return 0;
	if (s->streaming && s->http_status == 200) {
		diag_clear(&s->cb_d);
		enum tcerr rc = sse_feed(&s->sse, b, len, on_event, s, &s->cb_d);
		if (rc) {
			s->cb_rc = rc;
			return 0;
		}
		s->received += len;
		return len;
	}
	size_t lim = s->http_status == 200 || s->http_status == 0 ? PEERS_BODY_MAX
	                                                           : PEERS_ERROR_BODY_MAX;
	if (s->body.len + len > lim) {
		if (s->http_status == 200 || !s->http_status) {
			s->cb_rc = diag_set(&s->cb_d, TC_ELIMIT, "answer larger than %u bytes",
			                    PEERS_BODY_MAX);
			return 0;
		}
		len = lim > s->body.len ? lim - s->body.len : 0;
		buf_append(&s->body, b, len);
		return size * n;
	}
	buf_append(&s->body, b, len);
	return len;
}

static int
on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	struct sync *s = ctx;
	return stopping(s->r) ? 1 : 0;
}

/* Learns the status code before the first body byte (on_body needs it). */
static size_t
on_header_status(char *b, size_t size, size_t n, void *ctx)
{
	struct sync *s = ctx;
	size_t len = size * n;
	if (len > 9 && strncmp(b, "HTTP/", 5) == 0) {
		const char *sp = memchr(b, ' ', len);
		if (sp && sp + 4 <= b + len)
			s->http_status = strtol(sp + 1, NULL, 10);
		s->hdr_pos[0] = '\0';
		s->date_last[0] = '\0';
	}
	return on_header(b, size, n, ctx);
}

/* Stores what was received and moves the cursor past it. The cursor is
 * written at most every PEERS_SAVE_MS (or when force): one written late
 * only means events received again after a crash, which the store
 * answers as duplicates. */
static enum tcerr
settle(struct sync *s, bool force)
{
	enum tcerr rc = TC_OK;
	if (s->seen > s->pos || s->npend)
		rc = flush(s, s->seen);
	if (rc)
		return rc;
	note_remote(s->r, 0, s->pos);
	int64_t now = ts_now_us();
	if (s->pos == s->saved || (!force && now - s->saved_us < PEERS_SAVE_MS * 1000LL))
		return TC_OK;
	/* the versions are durable: the cursor may move */
	rc = progress(s, NULL);
	if (rc == TC_ENOTFOUND)
		return rc;
	if (rc == TC_OK) {
		s->saved = s->pos;
		s->saved_us = now;
	}
	return TC_OK;
}

/* Runs a stream transfer: received events are stored as soon as the
 * socket has nothing more to read right now (or a batch is full: the
 * event callback stores it), so a burst — the catch-up — is stored in
 * large transactions and a lone live event at once. */
static CURLcode
perform_stream(struct sync *s, CURL *c)
{
	CURLM *m = curl_multi_init();
	CURLcode cc = CURLE_OK;
	int running = 1;
	if (!m)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(m, c) != CURLM_OK) {
		curl_multi_cleanup(m);
		return CURLE_OUT_OF_MEMORY;
	}
	while (running) {
		uint64_t before = s->received;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		bool got = s->received != before;
		if (!got && !s->cb_rc) {
			enum tcerr rc = settle(s, false);
			if (rc) {
				s->cb_rc = rc;
				break;
			}
		}
		if (!running || s->cb_rc)
			break;
		int nfds = 0;
		/* more may be waiting: look again at once; idle: sleep on the socket */
		curl_multi_poll(m, NULL, 0, got ? 0 : PEERS_POLL_MS, &nfds);
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	if (!s->cb_rc && settle(s, true))
		log_error("peer: storing the stream's last events failed", s->cb_d.msg);
	curl_multi_remove_handle(m, c);
	curl_multi_cleanup(m);
	return cc;
}

/* One request to the peer. method NULL is GET; body with POST. Returns
 * TC_OK when the transfer completed (check s->http_status), else the
 * error with the message in d. */
static enum tcerr
request(struct sync *s, const char *url, const char *accept, const char *method,
        const char *content_type, const struct buf *post, bool stream, struct diag *d)
{
	struct reg_peer *p = s->p;
	struct curl_slist *hl = NULL;
	struct buf auth;
	enum tcerr rc = TC_OK;
	CURL *c = curl_easy_init();
	if (!c)
		return diag_set(d, TC_ENOMEM, "libcurl: cannot make a handle");
	buf_init(&auth, 0);
	buf_append_cstr(&auth, "Authorization: Bearer ");
	buf_append(&auth, (const char *)p->secret, p->secret_len);
	buf_append_char(&auth, '\0');
	struct buf acc;
	buf_init(&acc, 0);
	buf_printf(&acc, "Accept: %s", accept);
	if (buf_error(&auth) || buf_error(&acc)) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	hl = curl_slist_append(hl, auth.p);
	hl = hl ? curl_slist_append(hl, acc.p) : NULL;
	if (hl && content_type) {
		char ct[128];
		snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
		hl = curl_slist_append(hl, ct);
	}
	if (!hl) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	buf_clear(&s->body);
	s->http_status = 0;
	s->streaming = stream;
	s->cb_rc = TC_OK;
	diag_clear(&s->cb_d);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)s->app->conf->peer_connect_timeout_ms);
	if (!stream)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)PEERS_STALL_S);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)PEERS_RECV_BUFFER);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->app->conf->peer_ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, s->app->conf->peer_ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header_status);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	if (method && post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post->p);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post->len);
	}
	CURLcode cc = stream ? perform_stream(s, c) : curl_easy_perform(c);
	if (s->cb_rc) {
		rc = s->cb_rc;
		diag_set(d, rc, "%s", s->cb_d.msg[0] ? s->cb_d.msg : tcerr_str(rc));
	} else if (stopping(s->r)) {
		rc = diag_set(d, TC_EBUSY, "stopping");
	} else if (cc != CURLE_OK) {
		rc = diag_set(d, TC_EIO, "%s: %s", url, curl_easy_strerror(cc));
	} else if (stream && s->http_status == 200) {
		rc = diag_set(d, TC_EBUSY, "the remote closed the stream");
	}
out:
	curl_slist_free_all(hl);
	buf_reset(&acc);
	if (auth.p)
		explicit_bzero(auth.p, auth.cap);
	buf_reset(&auth);
	curl_easy_cleanup(c);
	return rc;
}

/* An error answer's message: the JSON error resource's title and
 * description when there is one. */
static enum tcerr
http_error(struct sync *s, const char *what, struct diag *d)
{
	json_t *j = s->body.len ? json_loadb((const char *)s->body.p, s->body.len, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(j, "title"));
	const char *ds = json_string_value(json_object_get(j, "description"));
	enum tcerr rc = diag_set(d, s->http_status == 401 || s->http_status == 403 ? TC_EPERM : TC_EIO,
	                         "%s: HTTP %ld%s%s%s%s", what, s->http_status, t ? ": " : "",
	                         t ? t : "", ds ? ": " : "", ds ? ds : "");
	json_decref(j);
	return rc;
}

/* Checks the pin against the remote's discovery (x_tocsin_hub), when the
 * discovery carries one. */
static enum tcerr
check_pin(struct sync *s, struct diag *d)
{
	struct buf url;
	buf_init(&url, 0);
	url_join(&url, s->p->url, "/taxii2/");
	buf_append_char(&url, '\0');
	if (buf_error(&url)) {
		buf_reset(&url);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	enum tcerr rc = request(s, url.p, "application/taxii+json;version=2.1", NULL, NULL, NULL,
	                        false, d);
	buf_reset(&url);
	if (rc)
		return rc;
	if (s->http_status != 200)
		return http_error(s, "discovery", d);
	json_t *j = json_loadb((const char *)s->body.p, s->body.len, 0, NULL);
	json_t *hub = json_object_get(j, "x_tocsin_hub");
	const char *have = json_string_value(hub);
	if (!have && json_is_object(hub))
		have = json_string_value(json_object_get(hub, "id"));
	if (have && strcasecmp(s->p->pin, "none") != 0 && !pin_equal(have, s->p->pin))
		rc = diag_set(d, TC_EPERM, "the remote's hub key %s is not the pinned %s", have,
		              s->p->pin);
	json_decref(j);
	return rc;
}

/* A tocsin peer: the stream from the cursor, until it breaks. */
static enum tcerr
sync_tocsin(struct sync *s, struct diag *d)
{
	enum tcerr rc = check_pin(s, d);
	if (rc)
		return rc;
	struct buf url;
	buf_init(&url, 0);
	url_join(&url, s->p->url, "/api/v1/stream?view=stix");
	if (s->p->collections[0]) {
		char tmp[REG_PEER_COLLS_MAX + 1];
		snprintf(tmp, sizeof tmp, "%s", s->p->collections);
		for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			buf_append_cstr(&url, "&collection=");
			q_escape(&url, t);
		}
	}
	buf_printf(&url, "&last_event_id=%" PRIu64, s->pos);
	buf_append_char(&url, '\0');
	if (buf_error(&url)) {
		buf_reset(&url);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	sse_reset(&s->sse);
	sse_init(&s->sse, 0);
	rc = request(s, url.p, "text/event-stream", NULL, NULL, NULL, true, d);
	buf_reset(&url);
	if (rc == TC_OK && s->http_status != 200)
		rc = http_error(s, "stream", d);
	return rc;
}

/* ---- plain TAXII 2.1 peers ---- */

/* The collection mapping "REMOTE_ID[=LOCAL]" items of p->collections. */
static enum tcerr
taxii_pull_one(struct sync *s, json_t *cursor, const char *remote, const char *local,
               struct diag *d)
{
	for (;;) {
		if (stopping(s->r))
			return TC_EBUSY;
		struct buf url;
		buf_init(&url, 0);
		url_join(&url, s->p->url, "/");
		if (s->p->api_root[0])
			buf_printf(&url, "%s/", s->p->api_root);
		buf_append_cstr(&url, "collections/");
		q_escape(&url, remote);
		buf_printf(&url, "/objects/?limit=%d&match%%5Bversion%%5D=all", PEERS_TAXII_PAGE);
		const char *after = json_string_value(json_object_get(cursor, remote));
		if (after) {
			buf_append_cstr(&url, "&added_after=");
			q_escape(&url, after);
		}
		buf_append_char(&url, '\0');
		if (buf_error(&url)) {
			buf_reset(&url);
			return diag_set(d, TC_ENOMEM, "out of memory");
		}
		enum tcerr rc = request(s, url.p, "application/taxii+json;version=2.1", NULL, NULL,
		                        NULL, false, d);
		buf_reset(&url);
		if (rc)
			return rc;
		if (s->http_status != 200)
			return http_error(s, "TAXII objects", d);
		json_t *env = json_loadb((const char *)s->body.p, s->body.len, 0, NULL);
		json_t *objs = json_object_get(env, "objects");
		size_t i;
		json_t *o;
		json_array_foreach(objs, i, o) {
			if (!json_is_object(o))
				continue;
			if (s->npend == s->cap) {
				size_t nc = s->cap ? 2 * s->cap : 256;
				struct pend *np = realloc(s->pend, nc * sizeof *np);
				if (!np) {
					json_decref(env);
					return diag_set(d, TC_ENOMEM, "out of memory");
				}
				s->pend = np;
				s->cap = nc;
			}
			struct pend *e = &s->pend[s->npend++];
			e->obj = json_incref(o);
			snprintf(e->coll, sizeof e->coll, "%s", local);
			e->pos = 0;
		}
		bool more = json_is_true(json_object_get(env, "more"));
		size_t got = json_array_size(objs);
		json_decref(env);
		if ((rc = flush(s, 0)))
			return diag_set(d, rc, "storing a page failed: %s", s->cb_d.msg);
		if (s->date_last[0]) {
			json_object_set_new(cursor, remote, json_string(s->date_last));
			char *text = json_dumps(cursor, JSON_COMPACT | JSON_SORT_KEYS);
			if (text && strlen(text) < sizeof s->p->cursor)
				snprintf(s->p->cursor, sizeof s->p->cursor, "%s", text);
			free(text);
		}
		if (progress(s, NULL) == TC_ENOTFOUND)
			return TC_ENOTFOUND;
		if (!more || got == 0)
			return TC_OK;
	}
}

struct push_ctx {
	struct buf env;
	size_t n;
	struct feed_pos last;
};

static enum tcerr
push_cb(void *ctx, const struct feed_event *ev)
{
	struct push_ctx *c = ctx;
	c->last = ev->pos;
	if (ev->type != FEED_EV_VERSION)
		return TC_OK;
	json_t *data = json_loadb(ev->data.p, ev->data.len, 0, NULL);
	json_t *obj = json_object_get(data, "object");
	if (obj) {
		char *t = json_dumps(obj, JSON_COMPACT);
		if (t) {
			buf_append_cstr(&c->env, c->n ? "," : "");
			buf_append_cstr(&c->env, t);
			c->n++;
			free(t);
		}
	}
	json_decref(data);
	return TC_OK;
}

/* POSTs to the peer's first collection the versions this hub holds after
 * the pushed position that the peer's organisation may read as a peer. */
static enum tcerr
taxii_push(struct sync *s, struct store *st, const char *remote, struct diag *d)
{
	struct reg_snapshot *snap = app_snapshot_get(s->app);
	const struct reg_org *org = reg_snapshot_org(snap, s->p->org);
	enum tcerr rc = TC_OK;
	if (!org) {
		reg_snapshot_unref(snap);
		return diag_set(d, TC_EPERM, "the peer's organisation is gone");
	}
	/* the peer reads as a principal of role peer of its organisation */
	struct reg_principal as = { .org = org->num, .role = ROLE_PEER, .cred = REG_CRED_KEY };
	struct policy_subject who;
	policy_subject_principal(&who, snap, &as);
	struct feed_ctx fc = { .store = st, .who = &who, .names = snap };
	struct feed_filter_store fs;
	feed_filter_init(&fs); /* everything the peer may read */
	for (;;) {
		struct push_ctx pc = { .n = 0 };
		struct feed_pos after = { .seq = strtoull(s->p->pushed, NULL, 10) }, next = after;
		buf_init(&pc.env, 0);
		buf_append_cstr(&pc.env, "{\"objects\":[");
		pc.last = after;
		rc = feed_read(&fc, FEED_STIX, &fs.f, after, PEERS_PUSH_MAX, push_cb, &pc, &next, d);
		buf_append_cstr(&pc.env, "]}");
		if (!rc && buf_error(&pc.env))
			rc = diag_set(d, TC_ENOMEM, "out of memory");
		if (!rc && pc.n) {
			struct buf url;
			buf_init(&url, 0);
			url_join(&url, s->p->url, "/");
			if (s->p->api_root[0])
				buf_printf(&url, "%s/", s->p->api_root);
			buf_append_cstr(&url, "collections/");
			q_escape(&url, remote);
			buf_append_cstr(&url, "/objects/");
			buf_append_char(&url, '\0');
			rc = buf_error(&url) ? diag_set(d, TC_ENOMEM, "out of memory")
			                     : request(s, url.p, "application/taxii+json;version=2.1",
			                               "POST", "application/taxii+json;version=2.1",
			                               &pc.env, false, d);
			buf_reset(&url);
			if (!rc && (s->http_status < 200 || s->http_status > 299))
				rc = http_error(s, "TAXII POST", d);
			if (!rc) {
				atomic_fetch_add(&s->r->out, pc.n);
				char what[64];
				snprintf(what, sizeof what, "%zu versions through position %" PRIu64, pc.n,
				         next.seq);
				audit_batch(s, "peer.out", NULL, 0, NULL, 0, what);
			}
		}
		buf_reset(&pc.env);
		if (rc)
			break;
		if (next.seq <= after.seq)
			break;
		snprintf(s->p->pushed, sizeof s->p->pushed, "%" PRIu64, next.seq);
		if (progress(s, NULL) == TC_ENOTFOUND) {
			rc = TC_ENOTFOUND;
			break;
		}
	}
	feed_filter_reset(&fs);
	reg_snapshot_unref(snap);
	return rc;
}

static enum tcerr
sync_taxii(struct sync *s, struct store *st, struct diag *d)
{
	json_t *cursor = json_loads(s->p->cursor, 0, NULL);
	if (!json_is_object(cursor)) {
		json_decref(cursor);
		cursor = json_object();
	}
	if (!cursor)
		return diag_set(d, TC_ENOMEM, "out of memory");
	enum tcerr rc = TC_OK;
	char tmp[REG_PEER_COLLS_MAX + 1], first[REG_PEER_COLLS_MAX + 1] = "";
	snprintf(tmp, sizeof tmp, "%s", s->p->collections);
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && !rc;
	     t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		const char *local = HUB_DEFAULT_COLLECTION;
		if (eq) {
			*eq = '\0';
			local = eq + 1;
		}
		if (!first[0])
			snprintf(first, sizeof first, "%s", t);
		rc = taxii_pull_one(s, cursor, t, local, d);
	}
	json_decref(cursor);
	if (!rc && first[0] && st)
		rc = taxii_push(s, st, first, d);
	atomic_store(&s->r->connected, rc == TC_OK);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the worker                                                         */

static void *
worker(void *arg)
{
	struct prt *r = arg;
	struct app *a = r->ps->app;
	struct reg_peer *p = calloc(1, sizeof *p);
	struct sync *s = calloc(1, sizeof *s);
	struct store *st = NULL;
	struct diag d;
	unsigned backoff = PEERS_BACKOFF_MIN_MS;

	if (!p || !s)
		goto out;
	s->r = r;
	s->app = a;
	s->p = p;
	buf_init(&s->body, 0);
	sse_init(&s->sse, 0);
	while (!stopping(r)) {
		diag_clear(&d);
		enum tcerr rc = registry_peer_get(a->registry, r->name, p, &d);
		if (rc == TC_ENOTFOUND || (rc == TC_OK && p->revision != r->revision))
			break;
		if (rc) {
			nap(r, 1000);
			continue;
		}
		s->pos = s->seen = s->saved = strtoull(p->cursor, NULL, 10);
		atomic_store(&r->in, p->objects_in);
		atomic_store(&r->deleted, p->deleted_in);
		atomic_store(&r->refused, p->refused);
		if (atomic_load(&r->out) < p->objects_out)
			atomic_store(&r->out, p->objects_out);
		note_remote(r, strtoull(p->remote_position, NULL, 10), s->pos);
		diag_clear(&d);
		if (peer_hub_id(p->pin, s->relay_id) != TC_OK) {
			progress(s, "the pin is not a hub key ('<alg> <hex>', '<alg>:<hex>' or 'none')");
			nap(r, a->conf->peer_backoff_max_ms);
			continue;
		}
		if ((rc = peer_policy_parse(p->policy, &s->pol, &d))) {
			progress(s, d.msg);
			nap(r, a->conf->peer_backoff_max_ms);
			continue;
		}
		diag_clear(&d);
		int64_t t0 = ts_now_us();
		if (strcmp(p->kind, "taxii") == 0) {
			if (!st && store_open(a->store_spec, &st, &d)) {
				rc = TC_EDB;
			} else {
				rc = sync_taxii(s, st, &d);
			}
		} else {
			rc = sync_tocsin(s, &d);
		}
		atomic_store(&r->connected, false);
		if (stopping(r) || rc == TC_ENOTFOUND)
			break;
		pend_clear(s);
		if (rc == TC_OK) {
			/* a TAXII poll round finished */
			progress(s, NULL);
			backoff = PEERS_BACKOFF_MIN_MS;
			nap(r, a->conf->peer_poll_interval_ms);
			continue;
		}
		/* a stream that ran a while and broke is retried at once */
		if (ts_now_us() - t0 > 5 * 1000000LL)
			backoff = PEERS_BACKOFF_MIN_MS;
		if (rc != TC_EBUSY || strstr(d.msg, "closed") == NULL) {
			atomic_fetch_add(&r->errors, 1);
			progress(s, d.msg[0] ? d.msg : tcerr_str(rc));
			struct logline l;
			log_begin(&l, CONF_LOG_WARN, "peer replication interrupted");
			log_str(&l, "peer", r->name);
			log_str(&l, "error", d.msg[0] ? d.msg : tcerr_str(rc));
			log_int(&l, "retry_ms", backoff);
			log_end(&l);
		}
		nap(r, backoff);
		backoff = backoff * 2 > a->conf->peer_backoff_max_ms ? a->conf->peer_backoff_max_ms
		                                                     : backoff * 2;
	}
out:
	if (s) {
		pend_clear(s);
		free(s->pend);
		sse_reset(&s->sse);
		buf_reset(&s->body);
	}
	if (st)
		store_close(st);
	reg_peer_wipe(p);
	free(p);
	free(s);
	atomic_store(&r->done, true);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the manager                                                        */

struct merge {
	struct peers *ps;
	bool seen[REG_PEERS_MAX];
	struct prt *add[REG_PEERS_MAX];
	size_t nadd;
};

static enum tcerr
merge_cb(void *ctx, const struct reg_peer *p)
{
	struct merge *m = ctx;
	size_t i = 0;
	for (struct prt *r = m->ps->list; r; r = r->next, i++) {
		if (i < REG_PEERS_MAX && strcasecmp(r->name, p->name) == 0 &&
		    r->revision == p->revision && !atomic_load(&r->stop)) {
			m->seen[i] = true;
			return TC_OK;
		}
	}
	if (m->nadd == REG_PEERS_MAX)
		return TC_OK;
	struct prt *r = calloc(1, sizeof *r);
	if (!r)
		return TC_ENOMEM;
	r->ps = m->ps;
	snprintf(r->name, sizeof r->name, "%s", p->name);
	r->org = p->org;
	r->revision = p->revision;
	m->add[m->nadd++] = r;
	return TC_OK;
}

static void
reap(struct peers *ps, bool all)
{
	struct prt **pp = &ps->list;
	while (*pp) {
		struct prt *r = *pp;
		if ((all || atomic_load(&r->stop)) && (all || atomic_load(&r->done))) {
			atomic_store(&r->stop, true);
			pthread_join(r->th, NULL);
			*pp = r->next;
			free(r);
			continue;
		}
		pp = &r->next;
	}
}

static void
reload(struct peers *ps)
{
	struct merge *m = calloc(1, sizeof *m);
	struct diag d;
	if (!m)
		return;
	m->ps = ps;
	pthread_mutex_lock(&ps->mu);
	diag_clear(&d);
	enum tcerr rc = registry_peer_list(ps->app->registry, merge_cb, m, &d);
	if (rc == TC_OK) {
		size_t i = 0;
		for (struct prt *r = ps->list; r; r = r->next, i++)
			if (i < REG_PEERS_MAX && !m->seen[i])
				atomic_store(&r->stop, true);
	} else {
		log_error("peers: cannot read the registry", d.msg);
	}
	for (size_t i = 0; i < m->nadd; i++) {
		struct prt *r = m->add[i];
		if (rc || pthread_create(&r->th, NULL, worker, r) != 0) {
			free(r);
			continue;
		}
		r->next = ps->list;
		ps->list = r;
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "peer replication started");
		log_str(&l, "peer", r->name);
		log_end(&l);
	}
	pthread_mutex_unlock(&ps->mu);
	free(m);
}

static void *
manager(void *arg)
{
	struct peers *ps = arg;
	uint64_t gen = 0;
	struct diag d;
	pthread_mutex_lock(&ps->mu);
	while (!ps->stop) {
		uint64_t g = 0;
		pthread_mutex_unlock(&ps->mu);
		diag_clear(&d);
		if (registry_peer_generation(ps->app->registry, &g, &d) == TC_OK && g != gen) {
			gen = g;
			reload(ps);
		}
		pthread_mutex_lock(&ps->mu);
		/* workers that ended by themselves (peer removed or changed) */
		bool ended = false;
		for (struct prt *r = ps->list; r; r = r->next)
			if (atomic_load(&r->done) && !atomic_load(&r->stop)) {
				atomic_store(&r->stop, true);
				ended = true;
			}
		reap(ps, false);
		if (ended)
			gen = 0; /* look again: a changed peer gets a new worker */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PEERS_RELOAD_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!ps->stop)
			pthread_cond_timedwait(&ps->cv, &ps->mu, &ts);
	}
	pthread_mutex_unlock(&ps->mu);
	return NULL;
}

enum tcerr
peers_start(struct app *a, struct peers **out, struct diag *d)
{
	struct peers *ps = calloc(1, sizeof *ps);
	if (!ps)
		return diag_set(d, TC_ENOMEM, "out of memory");
	CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		free(ps);
		return diag_set(d, TC_EIO, "libcurl: %s", curl_easy_strerror(cc));
	}
	ps->app = a;
	{
		struct hubkey_pub me;
		struct diag kd;
		diag_clear(&kd);
		if (hubkey_load_pub(a->data_dir, &me, &kd) == TC_OK)
			hubkey_pub_id(&me, ps->self_id);
		else
			log_error("peers: no hub key: loops cannot be recognised by it", kd.msg);
	}
	if (!(ps->verifier = prov_verifier_new(0))) {
		free(ps);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	if (pthread_create(&ps->th, NULL, manager, ps) != 0) {
		pthread_mutex_destroy(&ps->mu);
		pthread_cond_destroy(&ps->cv);
		prov_verifier_free(ps->verifier);
		free(ps);
		return diag_set(d, TC_EIO, "cannot start the peers thread");
	}
	ps->started = true;
	*out = ps;
	return TC_OK;
}

void
peers_stop(struct peers *ps)
{
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	ps->stop = true;
	for (struct prt *r = ps->list; r; r = r->next)
		atomic_store(&r->stop, true);
	pthread_cond_broadcast(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
	if (ps->started)
		pthread_join(ps->th, NULL);
	pthread_mutex_lock(&ps->mu);
	reap(ps, true);
	pthread_mutex_unlock(&ps->mu);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	prov_verifier_free(ps->verifier);
	free(ps);
}

void
peers_count_out(struct peers *ps, int64_t org, uint64_t n)
{
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	for (struct prt *r = ps->list; r; r = r->next)
		if (r->org == org && !atomic_load(&r->stop)) {
			atomic_fetch_add(&r->out, n);
			break;
		}
	pthread_mutex_unlock(&ps->mu);
}

void
peers_metrics(struct peers *ps, struct buf *out)
{
	if (!ps)
		return;
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "tocsin_peer_lag_positions", "gauge",
		  "Positions of the peer's log not yet replicated here (tocsin peers)." },
		{ "tocsin_peer_lag_seconds", "gauge",
		  "Seconds replication has been behind the peer's log end (0 when caught up)." },
		{ "tocsin_peer_objects_in_total", "counter", "Object versions stored from the peer." },
		{ "tocsin_peer_deleted_total", "counter", "Versions deleted because the peer deleted them." },
		{ "tocsin_peer_refused_total", "counter",
		  "Objects from the peer refused (border policy, authorship, validation, provenance)." },
		{ "tocsin_peer_objects_out_total", "counter",
		  "Object versions sent to the peer (its stream reads, or POSTs to a TAXII peer)." },
		{ "tocsin_peer_errors_total", "counter",
		  "Replication interruptions (connection, HTTP or storage errors)." },
		{ "tocsin_peer_connected", "gauge", "1 while the peer's stream is open." },
	};
	int64_t now = ts_now_us();
	pthread_mutex_lock(&ps->mu);
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name,
		           m[k].type);
		for (struct prt *r = ps->list; r; r = r->next) {
			if (atomic_load(&r->stop))
				continue;
			uint64_t cur = atomic_load(&r->cursor), rem = atomic_load(&r->remote);
			int64_t since = atomic_load(&r->behind_since_us);
			switch (k) {
			case 0: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           rem > cur ? rem - cur : 0); break;
			case 1: buf_printf(out, "%s{peer=\"%s\"} %.3f\n", m[k].name, r->name,
				           since ? (double)(now - since) / 1e6 : 0.0); break;
			case 2: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           atomic_load(&r->in)); break;
			case 3: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           atomic_load(&r->deleted)); break;
			case 4: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           atomic_load(&r->refused)); break;
			case 5: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           atomic_load(&r->out)); break;
			case 6: buf_printf(out, "%s{peer=\"%s\"} %" PRIu64 "\n", m[k].name, r->name,
				           atomic_load(&r->errors)); break;
			default: buf_printf(out, "%s{peer=\"%s\"} %d\n", m[k].name, r->name,
				            atomic_load(&r->connected) ? 1 : 0); break;
			}
		}
	}
	pthread_mutex_unlock(&ps->mu);
}
