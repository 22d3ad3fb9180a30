/*
 * source_run.c — one pull of a source, start to end: fetch (conditional),
 * parse, plan against the entries the source wrote before, write through
 * the caller's writer as the source's organisation, audit, record the
 * entries and the status. tocsind's scheduler (daemon/sources.c) and
 * `tocsin source run --here` call it.
 *
 * Invariant: a pull that fails before its writes (fetch, parse, a feed
 * with no usable line, an empty answer where entries were listed) writes
 * nothing and changes no entry, so a broken answer never expires what the
 * source listed; entries are recorded only for versions the hub stored
 * (or already had). What the hub refuses or warns about (allowlist, values
 * that would block everything, another producer's object, authorship) is
 * counted and named in the source's status, never fatal to the pull.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "policy/policy.h"
#include "source/source_run.h"
#include "util/timestamp.h"

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
	const struct source_env *env;
	struct reg_source *s;         /* the source; status written into it */
	enum source_format f;
	struct source_opts o;
	struct source_plan plan;
	struct known_set known;       /* what the source wrote before (plan.known) */
	bool planned;                 /* plan_start() ran */
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
	enum tcerr rc = source_plan_value(&p->plan, kind, value, &p->d);
	if (rc == TC_EINVAL) {
		/* one entry the plan cannot make an object of: counted, the pull
		 * goes on */
		char w[DIAG_MSG_MAX + 32];
		snprintf(w, sizeof w, "line %ld: %.480s", line, p->d.msg);
		p->rejected++;
		warn(p, w);
		diag_clear(&p->d);
		return TC_OK;
	}
	return rc;
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

/* Loads what the source wrote before and starts the plan, once the feed
 * answered with something to read: a 304 costs no more than the request. */
static enum tcerr
plan_start(struct pull *p)
{
	enum tcerr rc;
	if (p->planned)
		return TC_OK;
	p->planned = true;
	if (p->plan.track &&
	    (rc = registry_source_entries(p->env->reg, p->s->name, known_cb, &p->known, &p->d)))
		return rc;
	source_known_sort(p->known.v, p->known.n);
	p->plan.known = p->known.v;
	p->plan.nknown = p->known.n;
	return source_plan_init(&p->plan, &p->d);
}

/* Fetches and parses into the plan. OUT: *unchanged (a 304). */
static enum tcerr
pull_fetch(struct pull *p, bool *unchanged)
{
	const struct source_env *env = p->env;
	struct reg_source *s = p->s;
	struct source_fetch_cfg fc = env->fetch;
	struct source_fetch_res res;
	const struct obs_ctx *obs = env->obs;
	const uint8_t *key = env->id_key;
	char url[REG_SOURCE_URL_MAX + 64];
	enum tcerr rc;

	*unchanged = false;
	if (p->f == SOURCE_TAXII) {
		if ((rc = plan_start(p)))
			return rc;
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
				                          key, env->id_key_len, object_cb, p, &rej, why, &p->d);
			}
			buf_reset(&res.body);
			if (rc)
				return rc;
			if (rej) {
				p->rejected += rej;
				warn(p, why);
			}
			int64_t t;
			if (res.taxii_last[0] &&
			    ts_parse(slice_from_cstr(res.taxii_last), &t, NULL) != TC_OK) {
				/* it goes into the next request's query: only a timestamp */
				warn(p, "X-TAXII-Date-Added-Last is no timestamp: paging stopped");
				break;
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
	if ((rc = plan_start(p))) {
		buf_reset(&res.body);
		return rc;
	}
	char etag[sizeof s->etag], lm[sizeof s->last_modified];
	snprintf(etag, sizeof etag, "%s", res.etag);
	snprintf(lm, sizeof lm, "%s", res.last_modified);
	if (p->f == SOURCE_MISP) {
		struct uuids u = { 0 };
		rc = source_misp_manifest(buf_slice(&res.body), env->misp_max_events,
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
				                          env->id_key_len, object_cb, p, &rej, why, &p->d);
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
		                       env->max_entries, entry_cb, p, &c, &p->d);
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
	const struct source_env *env = p->env;
	size_t n = p->plan.nw;
	struct hub_item *items = calloc(SOURCE_WRITE_BATCH, sizeof *items);
	struct hub_result *res = calloc(SOURCE_WRITE_BATCH, sizeof *res);
	size_t *which = calloc(SOURCE_WRITE_BATCH, sizeof *which);
	struct reg_source_entry *ents = calloc(SOURCE_WRITE_BATCH, sizeof *ents);
	char **texts = calloc(SOURCE_WRITE_BATCH, sizeof *texts);
	const char **ids = calloc(SOURCE_WRITE_BATCH, sizeof *ids);
	uint64_t *seqs = calloc(SOURCE_WRITE_BATCH, sizeof *seqs);
	enum tcerr rc = TC_OK;

	if (!items || !res || !which || !ents || !texts || !ids || !seqs) {
		rc = diag_set(&p->d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t at = 0; !rc && at < n; at += SOURCE_WRITE_BATCH) {
		size_t m = 0, nent = 0, nids = 0, nseqs = 0, expired = 0;
		for (size_t i = at; i < n && i < at + SOURCE_WRITE_BATCH; i++) {
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
		rc = env->ingest(env->ingest_ctx, items, m, res, &p->d);
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
			if (audit_append(env->audit, &e, &ad) != TC_OK ||
			    audit_sync(env->audit, &ad) != TC_OK) {
				/* stored already: audit_recover() writes the entry later */
				char w[DIAG_MSG_MAX + 64];
				snprintf(w, sizeof w, "the writes could not be audited (%.400s)", ad.msg);
				warn(p, w);
			}
		}
		if (!rc && nent) {
			struct diag ed;
			diag_clear(&ed);
			if ((rc = registry_source_entries_put(env->reg, p->s->name, ents, nent, &ed)))
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

enum tcerr
source_pull(const struct source_env *env, struct reg_source *s, uint64_t *out_added,
            struct diag *d)
{
	struct pull p = { .env = env, .s = s };
	struct reg_snapshot *snap = env->snap;
	struct store_collection coll;
	enum tlp_level tlp = TLP_NONE;
	bool unchanged = false;
	enum tcerr rc;
	int64_t start = ts_now_us();
	int64_t requested = s->requested;
	/* what the next pull asks from; restored if this one fails, so that a
	 * feed fetched but not written is fetched whole again */
	char etag0[sizeof s->etag], lm0[sizeof s->last_modified], cursor0[sizeof s->cursor];
	memcpy(etag0, s->etag, sizeof etag0);
	memcpy(lm0, s->last_modified, sizeof lm0);
	memcpy(cursor0, s->cursor, sizeof cursor0);

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
	if ((rc = store_collection_find(env->store, s->collection, &coll)) != TC_OK) {
		rc = diag_set(&p.d, rc, "collection '%s': %s", s->collection,
		              rc == TC_ENOTFOUND ? "not found (deleted?)" : tcerr_str(rc));
		goto done;
	}
	bool track = p.f != SOURCE_TAXII;
	p.plan = (struct source_plan){
		.name = s->name, .identity = org->identity, .tlp = tlp,
		.confidence = s->confidence, .expire = track && strcmp(s->expiry, "drop") == 0,
		.track = track, .now_us = start, .id_key = env->id_key,
		.id_key_len = env->id_key_len,
	};
	if ((rc = pull_fetch(&p, &unchanged)) || unchanged)
		goto done;
	if (track && p.plan.listed == 0) {
		for (size_t i = 0; i < p.known.n; i++)
			if (p.known.v[i].listed) {
				/* an empty answer expires nothing: more likely a fault of
				 * the feed than every entry withdrawn at once */
				rc = diag_set(&p.d, TC_EINVAL, "the feed lists nothing (it listed %zu "
				                               "before): taken for a fault, nothing expired",
				              p.known.n);
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
		memcpy(s->etag, etag0, sizeof etag0);
		memcpy(s->last_modified, lm0, sizeof lm0);
		memcpy(s->cursor, cursor0, sizeof cursor0);
		s->errors++;
		snprintf(s->result, sizeof s->result, "error");
		snprintf(s->last_error, sizeof s->last_error, "%s",
		         p.d.msg[0] ? p.d.msg : tcerr_str(rc));
		int64_t retry = s->every_s < SOURCE_RETRY_S ? s->every_s : SOURCE_RETRY_S;
		s->next_run_us = ts_now_us() + retry * 1000000;
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
	}
	if (out_added)
		*out_added = unchanged ? 0 : p.added;
	enum tcerr w = registry_source_progress(env->reg, s, d);
	source_plan_reset(&p.plan);
	known_free(&p.known);
	buf_reset(&p.warn);
	return w;
}

