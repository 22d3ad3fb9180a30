/*
 * sources.c — pulls the registry's sources on their schedule (issue 12,
 * point 4; docs/sources.md).
 *
 * One thread looks at the registry's sources every SOURCES_POLL_MS and
 * pulls, one at a time, each that is due (next_run_us passed) or asked
 * for (`tocsin source run`: requested > served). A pull: a conditional GET
 * (lib/source source_fetch; 304 = nothing to do), the parse (lib/source,
 * lib/import), the plan (what is new, listed again or dropped off, against
 * the entries the registry keeps), then the writes through the hub's one
 * writer, as the source's organisation (hub_item.producer), after the same
 * authorship check as a POST (policy_author_check), in submissions of
 * SOURCES_BATCH objects, each audited ("source.pull", with its log
 * positions) and synced. What the hub refuses (allowlist warnings, values
 * that would block everything, another producer's object) is counted and
 * named in the source's status, never fatal to the pull.
 *
 * Invariant: a pull that fails before its writes (fetch, parse, a feed
 * with no usable line) writes nothing and changes no entry, so a broken
 * answer never expires what the source listed; the entries are recorded
 * only for versions the hub stored (or already had).
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
#include "policy/policy.h"
#include "source/source.h"
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

/* ---- one pull ---- */

struct known_set {
	struct source_known *v;
	size_t n, cap;
};

static enum tcerr
known_cb(void *ctx, const struct reg_source_entry *e)
{
	struct known_set *k = ctx;
	if (k->n == k->cap) {
		size_t nc = k->cap ? 2 * k->cap : 256;
		struct source_known *v = realloc(k->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		k->v = v;
		k->cap = nc;
	}
	struct source_known *x = &k->v[k->n];
	x->id = strdup(e->id);
	x->json = strdup(e->json);
	x->modified_us = e->modified_us;
	x->listed = e->listed;
	if (!x->id || !x->json) {
		free(x->id);
		free(x->json);
		return TC_ENOMEM;
	}
	k->n++;
	return TC_OK;
}

static void
known_free(struct known_set *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].id);
		free(k->v[i].json);
	}
	free(k->v);
}

/* A pull's state. */
struct pull {
	struct sources *S;
	struct reg_source *s;         /* the source; status written into it */
	enum source_format f;
	struct source_opts o;
	struct source_plan plan;
	struct diag d;
	struct buf warn;              /* warnings of this pull, "; "-separated, capped */
	size_t nwarn;
	uint64_t added, rejected;
};

static void
warn(struct pull *p, const char *text)
{
	p->nwarn++;
	if (p->nwarn > SOURCE_REJECTS_KEPT)
		return;
	if (p->warn.len)
		buf_append_cstr(&p->warn, "; ");
	buf_append_cstr(&p->warn, text);
}

static enum tcerr
entry_cb(void *ctx, enum obs_kind kind, struct slice value, long line)
{
	struct pull *p = ctx;
	(void)line;
	return source_plan_value(&p->plan, kind, value, &p->d);
}

static enum tcerr
object_cb(void *ctx, json_t *obj)
{
	struct pull *p = ctx;
	enum tcerr rc = source_plan_object(&p->plan, obj, &p->d);
	if (rc == TC_EINVAL) {
		/* one object without an id: counted, the pull goes on */
		p->rejected++;
		warn(p, p->d.msg);
		diag_clear(&p->d);
		return TC_OK;
	}
	return rc;
}

static struct source_fetch_cfg
fetch_cfg(struct sources *S)
{
	const struct conf *c = S->app->conf;
	return (struct source_fetch_cfg){
		.allow_http = c->source_allow_http,
		.allow_private = c->source_allow_private,
		.ca_file = c->source_ca_file,
		.connect_timeout_ms = c->source_connect_timeout_ms,
		.timeout_ms = c->source_timeout_ms,
		.max_bytes = c->source_max_bytes,
		.cancel = &S->cancel,
	};
}

/* URL + "/" + leaf (a MISP feed's files). */
static enum tcerr
join_url(const char *base, const char *leaf, char *out, size_t size, struct diag *d)
{
	size_t n = strlen(base);
	int k = snprintf(out, size, "%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", leaf);
	if (k < 0 || (size_t)k >= size)
		return diag_set(d, TC_ELIMIT, "URL too long");
	return TC_OK;
}

struct uuids {
	char (*v)[37];
	size_t n, cap;
};

static enum tcerr
uuid_cb(void *ctx, const char *uuid)
{
	struct uuids *u = ctx;
	if (u->n == u->cap) {
		size_t nc = u->cap ? 2 * u->cap : 64;
		char (*v)[37] = realloc(u->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		u->v = v;
		u->cap = nc;
	}
	memcpy(u->v[u->n++], uuid, 37);
	return TC_OK;
}

/* Fetches and parses into the plan. OUT: *unchanged (a 304). */
static enum tcerr
pull_fetch(struct pull *p, bool *unchanged)
{
	struct sources *S = p->S;
	struct reg_source *s = p->s;
	struct source_fetch_cfg fc = fetch_cfg(S);
	struct source_fetch_res res;
	const struct obs_ctx *obs = hub_obs_ctx(S->app->hub);
	const uint8_t *key = hub_id_key(S->app->hub);
	char url[REG_SOURCE_URL_MAX + 64];
	enum tcerr rc;

	*unchanged = false;
	if (p->f == SOURCE_TAXII) {
		/* TAXII 2.1 §5.4: added_after, then the next page's from
		 * X-TAXII-Date-Added-Last, while "more" says so */
		for (int page = 0; page < SOURCE_TAXII_MAX_PAGES; page++) {
			int k = s->cursor[0]
			                ? snprintf(url, sizeof url, "%s%sadded_after=%s&limit=%d", s->url,
			                           strchr(s->url, '?') ? "&" : "?", s->cursor,
			                           SOURCE_TAXII_PAGE)
			                : snprintf(url, sizeof url, "%s%slimit=%d", s->url,
			                           strchr(s->url, '?') ? "&" : "?", SOURCE_TAXII_PAGE);
			if (k < 0 || (size_t)k >= sizeof url)
				return diag_set(&p->d, TC_ELIMIT, "URL too long");
			struct source_fetch_req rq = { .url = url, .auth_header = s->auth,
				                       .accept = "application/taxii+json;version=2.1" };
			rc = source_fetch(&fc, &rq, &res, &p->d);
			if (rc) {
				buf_reset(&res.body);
				return rc;
			}
			bool more = false;
			size_t rej = 0;
			char why[DIAG_MSG_MAX] = "";
			if (res.body.len) {
				json_error_t je;
				json_t *doc = json_loadb(res.body.p, res.body.len, 0, &je);
				more = doc && json_is_true(json_object_get(doc, "more"));
				json_decref(doc);
				rc = source_objects_parse(SOURCE_TAXII, buf_slice(&res.body), "envelope", obs,
				                          key, HUB_ID_KEY_LEN, object_cb, p, &rej, why, &p->d);
			}
			buf_reset(&res.body);
			if (rc)
				return rc;
			if (rej) {
				p->rejected += rej;
				warn(p, why);
			}
			if (!res.taxii_last[0] || strcmp(res.taxii_last, s->cursor) == 0 || !more) {
				if (res.taxii_last[0])
					snprintf(s->cursor, sizeof s->cursor, "%s", res.taxii_last);
				break;
			}
			snprintf(s->cursor, sizeof s->cursor, "%s", res.taxii_last);
		}
		return TC_OK;
	}
	if (p->f == SOURCE_MISP) {
		if ((rc = join_url(s->url, "manifest.json", url, sizeof url, &p->d)))
			return rc;
	} else {
		snprintf(url, sizeof url, "%s", s->url);
	}
	struct source_fetch_req rq = { .url = url, .etag = s->etag,
		                       .last_modified = s->last_modified, .auth_header = s->auth };
	if ((rc = source_fetch(&fc, &rq, &res, &p->d))) {
		buf_reset(&res.body);
		return rc;
	}
	if (res.status == 304) {
		buf_reset(&res.body);
		*unchanged = true;
		return TC_OK;
	}
	char etag[sizeof s->etag], lm[sizeof s->last_modified];
	snprintf(etag, sizeof etag, "%s", res.etag);
	snprintf(lm, sizeof lm, "%s", res.last_modified);
	if (p->f == SOURCE_MISP) {
		struct uuids u = { 0 };
		rc = source_misp_manifest(buf_slice(&res.body), S->app->conf->source_misp_max_events,
		                          uuid_cb, &u, &p->d);
		buf_reset(&res.body);
		for (size_t i = 0; !rc && i < u.n; i++) {
			char leaf[48], eu[REG_SOURCE_URL_MAX + 64];
			snprintf(leaf, sizeof leaf, "%s.json", u.v[i]);
			if ((rc = join_url(s->url, leaf, eu, sizeof eu, &p->d)))
				break;
			struct source_fetch_req er = { .url = eu, .auth_header = s->auth };
			struct source_fetch_res eres;
			rc = source_fetch(&fc, &er, &eres, &p->d);
			if (rc) {
				diag_prefix(&p->d, "event %s", u.v[i]);
			} else {
				size_t rej = 0;
				char why[DIAG_MSG_MAX] = "";
				rc = source_objects_parse(SOURCE_MISP, buf_slice(&eres.body), leaf, obs, key,
				                          HUB_ID_KEY_LEN, object_cb, p, &rej, why, &p->d);
				if (rej) {
					p->rejected += rej;
					warn(p, why);
				}
			}
			buf_reset(&eres.body);
		}
		free(u.v);
	} else {
		struct source_list_counts c;
		rc = source_list_parse(p->f, &p->o, obs, buf_slice(&res.body),
		                       S->app->conf->source_max_entries, entry_cb, p, &c, &p->d);
		buf_reset(&res.body);
		if (!rc && c.rejected) {
			p->rejected += c.rejected;
			for (size_t i = 0; i < c.rejected && i < SOURCE_REJECTS_KEPT; i++)
				warn(p, c.rejects[i]);
		}
	}
	if (!rc) {
		snprintf(s->etag, sizeof s->etag, "%s", etag);
		snprintf(s->last_modified, sizeof s->last_modified, "%s", lm);
	}
	return rc;
}

/* Writes the plan through the writer; records entries and audits. */
static enum tcerr
pull_write(struct pull *p, const struct reg_org *org, const struct store_collection *coll,
           struct reg_snapshot *snap)
{
	struct sources *S = p->S;
	struct app *a = S->app;
	size_t n = p->plan.nw;
	struct hub_item *items = calloc(SOURCES_BATCH, sizeof *items);
	struct hub_result *res = calloc(SOURCES_BATCH, sizeof *res);
	size_t *which = calloc(SOURCES_BATCH, sizeof *which);
	struct reg_source_entry *ents = calloc(SOURCES_BATCH, sizeof *ents);
	char **texts = calloc(SOURCES_BATCH, sizeof *texts);
	const char **ids = calloc(SOURCES_BATCH, sizeof *ids);
	uint64_t *seqs = calloc(SOURCES_BATCH, sizeof *seqs);
	enum tcerr rc = TC_OK;

	if (!items || !res || !which || !ents || !texts || !ids || !seqs) {
		rc = diag_set(&p->d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t at = 0; !rc && at < n; at += SOURCES_BATCH) {
		size_t m = 0, nent = 0, nids = 0, nseqs = 0, expired = 0;
		for (size_t i = at; i < n && i < at + SOURCES_BATCH; i++) {
			struct source_write *w = &p->plan.w[i];
			struct diag ad;
			diag_clear(&ad);
			if (policy_author_check(snap, org, w->obj, w->id, &ad) != TC_OK) {
				p->rejected++;
				warn(p, ad.msg);
				continue;
			}
			items[m] = (struct hub_item){ .obj = w->obj, .path = w->id,
				                      .collection = coll->num, .producer = org->num };
			which[m++] = i;
		}
		if (!m)
			continue;
		memset(res, 0, m * sizeof *res);
		rc = hub_writer_ingest(a->writer, items, m, res, &p->d);
		if (rc)
			break;
		for (size_t k = 0; k < m; k++) {
			struct source_write *w = &p->plan.w[which[k]];
			if (res[k].verdict == HUB_REJECTED) {
				p->rejected++;
				warn(p, res[k].why);
				continue;
			}
			if (res[k].warned)
				warn(p, res[k].why);
			if (res[k].verdict == HUB_ACCEPTED && !res[k].unseen_copy) {
				if (w->listed)
					p->added++;
				else
					expired++;
				ids[nids++] = w->id;
				if (res[k].seq)
					seqs[nseqs++] = res[k].seq;
			}
			if (!w->track)
				continue;
			texts[nent] = json_dumps(w->obj, JSON_COMPACT);
			if (!texts[nent]) {
				rc = diag_set(&p->d, TC_ENOMEM, "out of memory");
				break;
			}
			ents[nent] = (struct reg_source_entry){ .id = w->id, .modified_us = w->modified_us,
				                                .listed = w->listed, .json = texts[nent] };
			nent++;
		}
		p->s->expired += expired;
		if (nids) {
			char detail[128];
			struct diag ad;
			snprintf(detail, sizeof detail, "source %s: %zu written (%zu expired)", p->s->name,
			         nids, expired);
			char actor[REG_SOURCE_NAME_MAX + 8];
			snprintf(actor, sizeof actor, "source:%s", p->s->name);
			diag_clear(&ad);
			struct audit_entry e = { .action = "source.pull", .actor = actor,
				                 .org = org->name, .collection = coll->uuid,
				                 .ids = ids, .nids = nids, .detail = detail,
				                 .seqs = seqs, .nseqs = nseqs };
			if (audit_append(a->audit, &e, &ad) != TC_OK || audit_sync(a->audit, &ad) != TC_OK)
				log_error("sources: cannot audit a pull (recovery will)", ad.msg);
		}
		if (!rc && nent) {
			struct diag ed;
			diag_clear(&ed);
			if ((rc = registry_source_entries_put(a->registry, p->s->name, ents, nent, &ed)))
				p->d = ed;
		}
		for (size_t k = 0; k < nent; k++) {
			free(texts[k]);
			texts[k] = NULL;
		}
	}
out:
	free(items);
	free(res);
	free(which);
	free(ents);
	free(texts);
	free(ids);
	free(seqs);
	return rc;
}

/* Pulls s once and writes its status (s is updated in place). */
static void
pull(struct sources *S, struct reg_source *s)
{
	struct app *a = S->app;
	struct pull p = { .S = S, .s = s };
	struct known_set known = { 0 };
	struct reg_snapshot *snap = app_snapshot_get(a);
	struct store_collection coll;
	enum tlp_level tlp = TLP_NONE;
	bool unchanged = false;
	enum tcerr rc;
	int64_t start = ts_now_us();
	int64_t requested = s->requested;

	diag_clear(&p.d);
	buf_init(&p.warn, 0);
	const struct reg_org *org = snap ? reg_snapshot_org(snap, s->org) : NULL;
	if (!org || org->deleted_us) {
		rc = diag_set(&p.d, TC_EPERM, "organisation %s was deleted", s->org_name);
		goto done;
	}
	if ((rc = source_format_parse(s->format, &p.f, &p.d)) ||
	    (rc = source_opts_parse(p.f, slice_from_cstr(s->options), &p.o, &p.d)))
		goto done;
	if (s->tlp[0] && stix_tlp_parse(s->tlp, &tlp) != TC_OK) {
		rc = diag_set(&p.d, TC_EINVAL, "stored TLP '%s' is invalid", s->tlp);
		goto done;
	}
	if ((rc = store_collection_find(S->store, s->collection, &coll)) != TC_OK) {
		rc = diag_set(&p.d, rc, "collection '%s': %s", s->collection,
		              rc == TC_ENOTFOUND ? "not found (deleted?)" : tcerr_str(rc));
		goto done;
	}
	bool track = p.f != SOURCE_TAXII;
	if (track && (rc = registry_source_entries(a->registry, s->name, known_cb, &known, &p.d)))
		goto done;
	source_known_sort(known.v, known.n);
	p.plan = (struct source_plan){
		.name = s->name, .identity = org->identity, .tlp = tlp,
		.confidence = s->confidence, .expire = track && strcmp(s->expiry, "drop") == 0,
		.track = track, .now_us = start, .id_key = hub_id_key(a->hub),
		.id_key_len = HUB_ID_KEY_LEN, .known = known.v, .nknown = known.n,
	};
	if ((rc = source_plan_init(&p.plan, &p.d)))
		goto done;
	if ((rc = pull_fetch(&p, &unchanged)) || unchanged)
		goto done;
	if (track && p.plan.listed == 0) {
		for (size_t i = 0; i < known.n; i++)
			if (known.v[i].listed) {
				/* an empty answer expires nothing: more likely a fault of
				 * the feed than every entry withdrawn at once */
				rc = diag_set(&p.d, TC_EINVAL, "the feed lists nothing (it listed %zu "
				                               "before): taken for a fault, nothing expired",
				              known.n);
				goto done;
			}
	}
	if ((rc = source_plan_finish(&p.plan, &p.d)))
		goto done;
	s->expired = 0;
	rc = pull_write(&p, org, &coll, snap);
done:
	s->last_run_us = start;
	s->runs++;
	if (requested > s->served)
		s->served = requested;
	if (rc) {
		s->errors++;
		snprintf(s->result, sizeof s->result, "error");
		snprintf(s->last_error, sizeof s->last_error, "%s",
		         p.d.msg[0] ? p.d.msg : tcerr_str(rc));
		int64_t retry = s->every_s < SOURCES_RETRY_S ? s->every_s : SOURCES_RETRY_S;
		s->next_run_us = ts_now_us() + retry * 1000000;
		struct logline l;
		log_begin(&l, CONF_LOG_WARN, "source pull failed");
		log_str(&l, "source", s->name);
		log_str(&l, "error", s->last_error);
		log_end(&l);
	} else {
		snprintf(s->result, sizeof s->result, "%s", unchanged ? "unchanged" : "ok");
		s->last_error[0] = '\0';
		s->last_success_us = ts_now_us();
		s->next_run_us = start + s->every_s * 1000000;
		if (!unchanged) {
			s->entries = p.plan.listed;
			s->added = p.added;
			s->rejected = p.rejected;
			if (p.nwarn > SOURCE_REJECTS_KEPT)
				buf_printf(&p.warn, "; and %zu more", p.nwarn - SOURCE_REJECTS_KEPT);
			snprintf(s->warnings, sizeof s->warnings, "%s", p.warn.len ? p.warn.p : "");
		}
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "source pulled");
		log_str(&l, "source", s->name);
		log_str(&l, "result", s->result);
		log_int(&l, "entries", (int64_t)s->entries);
		log_int(&l, "added", unchanged ? 0 : (int64_t)p.added);
		log_int(&l, "expired", unchanged ? 0 : (int64_t)s->expired);
		log_int(&l, "rejected", unchanged ? 0 : (int64_t)p.rejected);
		log_end(&l);
	}
	struct diag d;
	diag_clear(&d);
	enum tcerr w = registry_source_progress(a->registry, s, &d);
	if (w && w != TC_ENOTFOUND)
		log_error("sources: cannot record a pull's status", d.msg);
	source_plan_reset(&p.plan);
	known_free(&known);
	buf_reset(&p.warn);
	if (snap)
		reg_snapshot_unref(snap);
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
	pthread_mutex_lock(&S->mu);
	while (!S->stop) {
		pthread_mutex_unlock(&S->mu);
		struct diag d;
		diag_clear(&d);
		rows_free(&r);
		if (registry_source_list(S->app->registry, rows_cb, &r, &d) != TC_OK)
			log_error("sources: cannot read the registry", d.msg);
		for (size_t i = 0; i < r.n && !atomic_load(&S->cancel); i++) {
			struct reg_source *s = &r.v[i];
			int64_t now = ts_now_us();
			if (s->requested > s->served || s->next_run_us <= now)
				pull(S, s);
		}
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
