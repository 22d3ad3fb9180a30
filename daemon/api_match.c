/*
 * api_match.c — the lookup API (see api_match.h, docs/lookup.md).
 *
 * A request is parsed into a list of values (lib/util/strlist for a POST
 * body; the query string, percent-decoded, for a GET), looked up in one
 * hub_lookup_batch() call that asks policy_row() about every indicator
 * behind a hit, and answered with a JSON text written straight into the
 * response buffer. Each request thread keeps its parser, lookup and
 * decoding memory between requests (released when the thread ends), so a
 * request of 10,000 values allocates almost nothing. Every request's cost
 * is bounded by [match] max_values, max_value_bytes and max_body.
 */
#include "api_match.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hub/hub_lookup.h"
#include "metrics.h"
#include "util/strlist.h"
#include "util/timestamp.h"

#define JSON_TYPE "application/json"
#define API_MATCH_KEEP_HITS 20000          /* hits of the last answer a thread keeps room for */
#define API_MATCH_KEEP_BYTES (4u << 20)    /* text of the last answer a thread keeps room for */

struct match_tls {
	struct strlist list;
	struct hub_lookup out;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void
tls_free(void *p)
{
	struct match_tls *t = p;
	strlist_reset(&t->list);
	hub_lookup_reset(&t->out);
	free(t);
}

static void
tls_init(void)
{
	if (pthread_key_create(&tls_key, tls_free) != 0)
		abort();
}

static struct match_tls *
tls_get(void)
{
	pthread_once(&tls_once, tls_init);
	struct match_tls *t = pthread_getspecific(tls_key);
	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			abort(); /* the daemon's glue may die on OOM (STYLE) */
		strlist_init(&t->list);
		hub_lookup_init(&t->out);
		pthread_setspecific(tls_key, t);
	}
	return t;
}

bool
api_match_path(const char *url)
{
	return strcmp(url, API_MATCH_PATH) == 0 || strcmp(url, API_MATCH_PATH "/") == 0;
}

static void
error(struct api_response *rs, int status, const char *title, const char *desc)
{
	buf_clear(&rs->body);
	buf_append_cstr(&rs->body, "{\"title\":");
	buf_append_json_str(&rs->body, slice_from_cstr(title));
	if (desc) {
		buf_append_cstr(&rs->body, ",\"description\":");
		buf_append_json_str(&rs->body, slice_from_cstr(desc));
	}
	buf_printf(&rs->body, ",\"http_status\":\"%d\"}", status);
	rs->status = status;
	rs->content_type = JSON_TYPE;
}

/* policy_row as hub_lookup's callback. */
static bool
may_see(void *ctx, const struct store_row *row)
{
	return policy_row(ctx, row);
}

static void
write_hit(struct buf *b, const struct hub_lookup *L, const struct hub_lookup_hit *h,
          const struct reg_snapshot *snap)
{
	const struct hub_lookup_ind *ind = &L->inds[h->ind];
	const struct reg_collection *c = reg_snapshot_collection(snap, ind->collection);
	const struct reg_org *o = ind->producer ? reg_snapshot_org(snap, ind->producer) : NULL;
	bool dflt = false;
	enum tlp_level tlp = policy_effective_tlp(snap, ind->tlp, &dflt);

	buf_append_cstr(b, "{\"indicator_id\":");
	buf_append_json_str(b, slice_from_cstr(ind->id));
	buf_printf(b, ",\"how\":\"%s\",\"via\":\"%s\",\"matched\":", index_how_name(h->how),
	           hub_via_name(h->via));
	buf_append_json_str(b, hub_lookup_text(L, h->matched_off, h->matched_len));
	buf_append_cstr(b, ",\"collection\":");
	if (c)
		buf_append_json_str(b, slice_from_cstr(c->c.alias));
	else
		buf_append_cstr(b, "null");
	buf_append_cstr(b, ",\"producer\":");
	if (!ind->producer)
		buf_append_cstr(b, "\"hub\"");
	else if (o)
		buf_append_json_str(b, slice_from_cstr(o->name));
	else
		buf_printf(b, "\"#%lld\"", (long long)ind->producer);
	buf_append_cstr(b, ",\"key_id\":");
	if (ind->key_id[0])
		buf_append_json_str(b, slice_from_cstr(ind->key_id));
	else
		buf_append_cstr(b, "null");
	if (ind->confidence >= 0)
		buf_printf(b, ",\"confidence\":%d", ind->confidence);
	else
		buf_append_cstr(b, ",\"confidence\":null");
	buf_printf(b, ",\"tlp\":\"%s\",\"tlp_default\":%s,\"valid_until\":", stix_tlp_name(tlp),
	           dflt ? "true" : "false");
	if (ind->valid_until_us) {
		char t[TS_TEXT_MAX];
		ts_format(ind->valid_until_us, 3, t);
		buf_printf(b, "\"%s\"}", t);
	} else {
		buf_append_cstr(b, "null}");
	}
}

/* The common case, a plain miss of a value that needs no escaping, in one
 * append: 10,000 of them are most of an antifraud system's answer. false
 * when the value needs the general path. */
static bool
write_plain_miss(struct buf *b, const struct hub_lookup *L, const struct hub_lookup_value *v)
{
	static const char head[] = "{\"kind\":\"";
	static const char mid[] = "\",\"normalized\":\"";
	static const char tail[] = "\",\"hit\":false,\"allowlisted\":false,\"hits_total\":0,"
	                           "\"hits\":[],\"expired\":[],\"revoked\":[]}";
	char rec[sizeof head + 16 + sizeof mid + OBS_VALUE_MAX + sizeof tail];
	struct slice val = hub_lookup_text(L, v->text_off, v->text_len);
	const char *kind = obs_kind_name(v->kind);
	size_t klen = strlen(kind), n = 0;

	if (v->rc || v->nhits || v->ninactive || v->allowlisted || klen > 16 ||
	    val.len > OBS_VALUE_MAX)
		return false;
	for (size_t i = 0; i < val.len; i++) {
		unsigned char c = (unsigned char)val.p[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	memcpy(rec + n, head, sizeof head - 1);
	n += sizeof head - 1;
	memcpy(rec + n, kind, klen);
	n += klen;
	memcpy(rec + n, mid, sizeof mid - 1);
	n += sizeof mid - 1;
	memcpy(rec + n, val.p, val.len);
	n += val.len;
	memcpy(rec + n, tail, sizeof tail - 1);
	n += sizeof tail - 1;
	buf_append(b, rec, n);
	return true;
}

static void
write_result(struct buf *b, const struct hub_lookup *L, const struct hub_lookup_value *v,
             const struct reg_snapshot *snap)
{
	if (write_plain_miss(b, L, v))
		return;
	if (v->rc) {
		buf_append_cstr(b, "{\"hit\":false,\"error\":");
		buf_append_json_str(b, hub_lookup_text(L, v->text_off, v->text_len));
		buf_append_char(b, '}');
		return;
	}
	buf_printf(b, "{\"kind\":\"%s\",\"normalized\":", obs_kind_name(v->kind));
	buf_append_json_str(b, hub_lookup_text(L, v->text_off, v->text_len));
	if (v->nhits) {
		const struct hub_lookup_hit *h = &L->hits[v->hit0];
		buf_printf(b, ",\"hit\":true,\"how\":\"%s\"",
		           h->via == HUB_VIA_VALUE ? index_how_name(h->how) : hub_via_name(h->via));
	} else {
		buf_append_cstr(b, ",\"hit\":false");
	}
	if (v->allowlisted) {
		buf_append_cstr(b, ",\"allowlisted\":true,\"allowlist_reason\":");
		buf_append_json_str(b, hub_lookup_text(L, v->reason_off, v->reason_len));
	} else {
		buf_append_cstr(b, ",\"allowlisted\":false");
	}
	buf_printf(b, ",\"hits_total\":%u,\"hits\":[", v->hits_total);
	for (uint32_t i = 0; i < v->nhits; i++) {
		if (i)
			buf_append_char(b, ',');
		write_hit(b, L, &L->hits[v->hit0 + i], snap);
	}
	for (int st = HUB_HIT_EXPIRED; st <= HUB_HIT_REVOKED; st++) {
		bool first = true;
		buf_append_cstr(b, st == HUB_HIT_EXPIRED ? "],\"expired\":[" : "],\"revoked\":[");
		for (uint32_t i = 0; i < v->ninactive; i++) {
			const struct hub_lookup_hit *h = &L->hits[v->hit0 + v->nhits + i];
			if (h->state != (enum hub_hit_state)st)
				continue;
			if (!first)
				buf_append_char(b, ',');
			first = false;
			write_hit(b, L, h, snap);
		}
	}
	buf_append_cstr(b, "]}");
}

/* The query string: value (repeatable, a GET) and kind. OUT: t->list,
 * *kind (into t->list's memory). false: rs holds the error. */
static bool
parse_query(struct match_tls *t, struct slice q, size_t max_value_bytes, bool values,
            struct slice *kind, struct api_response *rs)
{
	struct strlist_limits lim = { API_MATCH_GET_MAX, max_value_bytes };
	struct diag d;
	diag_clear(&d);
	enum tcerr rc =
	    strlist_parse_query(&t->list, q, &lim, API_MATCH_QUERY_PARAMS_MAX, values, kind, &d);
	if (rc == TC_ENOMEM)
		error(rs, 503, "out of memory", NULL);
	else if (rc == TC_ELIMIT)
		error(rs, 413, "request too large", d.msg);
	else if (rc)
		error(rs, 400, "bad query string", d.msg);
	else if (values && t->list.n == 0)
		error(rs, 400, "no value", "give value=V (repeatable), or POST a list of values");
	else
		return true;
	return false;
}

/* The media type of a POST body: 1 JSON, 2 lines, 0 other. Without a
 * Content-Type, a body that starts with '[' is JSON. */
static int
body_type(const char *ct, struct slice body)
{
	if (!ct || !*ct) {
		struct slice t = slice_trim(body);
		return t.len && t.p[0] == '[' ? 1 : 2;
	}
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	while (n && (*ct == ' ' || *ct == '\t')) {
		ct++;
		n--;
	}
	if (n == strlen(JSON_TYPE) && strncasecmp(ct, JSON_TYPE, n) == 0)
		return 1;
	if (n == strlen("text/plain") && strncasecmp(ct, "text/plain", n) == 0)
		return 2;
	return 0;
}

void
api_match_handle(struct app *a, const struct api_match_request *rq, struct api_response *rs)
{
	const struct conf *c = a->conf;
	struct match_tls *t = tls_get();
	struct slice kind_text = slice_make(NULL, 0);
	struct strlist_limits lim = { c->match_max_values, c->match_max_value_bytes };
	enum obs_kind kind;
	struct diag d;
	char msg[DIAG_MSG_MAX + 128];
	enum tcerr rc;

	buf_init(&rs->body, 0);
	rs->content_type = JSON_TYPE;
	diag_clear(&d);
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	if (!get && strcmp(rq->method, "POST") != 0) {
		error(rs, 405, "method not allowed", API_MATCH_PATH " answers GET and POST");
		return;
	}
	if (!parse_query(t, rq->query, c->match_max_value_bytes, get, &kind_text, rs))
		return;
	/* kind_text points into t->list, which the body's parse reuses */
	char kbuf[32];
	if (kind_text.len >= sizeof kbuf) {
		error(rs, 400, "bad kind", "no such observable kind");
		return;
	}
	if (kind_text.len) {
		memcpy(kbuf, kind_text.p, kind_text.len);
		kind_text = slice_make(kbuf, kind_text.len);
	}
	if (!get) {
		if (rq->body.len > c->match_max_body) {
			snprintf(msg, sizeof msg, "the body is larger than %zu bytes ([match] max_body)",
			         c->match_max_body);
			error(rs, 413, "request too large", msg);
			return;
		}
		int bt = body_type(rq->content_type, rq->body);
		if (bt == 0) {
			error(rs, 415, "unsupported media type",
			      "POST a JSON array of strings (application/json) or one value a line "
			      "(text/plain)");
			return;
		}
		rc = bt == 1 ? strlist_parse_json(&t->list, rq->body, &lim, &d)
		             : strlist_parse_lines(&t->list, rq->body, &lim, &d);
		if (rc == TC_ELIMIT) {
			snprintf(msg, sizeof msg, "%s ([match] max_values %zu, max_value_bytes %zu)",
			         d.msg, c->match_max_values, c->match_max_value_bytes);
			error(rs, 413, "request too large", msg);
			return;
		}
		if (rc == TC_ENOMEM) {
			error(rs, 503, "out of memory", NULL);
			return;
		}
		if (rc) {
			error(rs, 400, bt == 1 ? "bad JSON" : "bad text", d.msg);
			return;
		}
	}
	if (t->list.n > c->match_max_values) {
		snprintf(msg, sizeof msg, "more than %zu values ([match] max_values)",
		         c->match_max_values);
		error(rs, 413, "request too large", msg);
		return;
	}
	if (kind_text.len && obs_kind_parse(kind_text, &kind) != TC_OK) {
		error(rs, 400, "bad kind",
		      "kind must be one of ipv4, ipv6, domain, url, email, md5, sha1, sha256, "
		      "sha512, streebog256, streebog512, phone, bank-account, card, wallet, asn");
		return;
	}
	rc = hub_lookup_batch(a->hub, rq->store, t->list.v, t->list.n,
	                      kind_text.len ? &kind : NULL, may_see, (void *)rq->who, &t->out, &d);
	if (rc) {
		error(rs, 503, "the hub could not answer", d.msg[0] ? d.msg : tcerr_str(rc));
		return;
	}
	struct buf *b = &rs->body;
	buf_clear(b);
	/* a miss is about 120 bytes: one allocation for most answers */
	buf_reserve_more(b, 64 + t->out.nvalues * 160 + t->out.nhits * 400);
	buf_append_cstr(b, "{\"results\":[");
	size_t hits = 0;
	for (size_t i = 0; i < t->out.nvalues; i++) {
		if (i)
			buf_append_char(b, ',');
		write_result(b, &t->out, &t->out.values[i], rq->who->snap);
		hits += t->out.values[i].nhits != 0;
	}
	metrics_match(t->out.nvalues, hits);
	buf_append_cstr(b, "]}\n");
	/* a thread keeps its memory for the next request, unless this one was
	 * exceptionally large */
	if (t->out.nhits > API_MATCH_KEEP_HITS || t->out.text.len > API_MATCH_KEEP_BYTES) {
		hub_lookup_reset(&t->out);
		strlist_reset(&t->list);
	}
	rs->status = buf_error(b) ? 503 : 200;
	if (buf_error(b))
		error(rs, 503, "out of memory", NULL);
}
