/*
 * feed.c — the log as a live feed (see feed.h).
 *
 * FEED_STIX merges two walks of the log in seq order: object versions
 * (store_log_versions) and tombstones (store_tombstones), a round of at
 * most FEED_CHUNK of each at a time. FEED_DECISIONS walks the decision
 * events (store_decision_events). Every event is judged by policy_row for
 * the reader before anything of it is written; for a decision, each
 * indicator behind it is judged, and the decision the reader gets is made
 * of the indicators it may see only (feed_dec_*). Memory is bounded: one
 * round of tombstones and one event's text at a time.
 */
#include "feed/feed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "feed/feed_confidence.h"
#include "util/timestamp.h"

#define FEED_CHUNK 512            /* versions, tombstones or events read per round */
#define FEED_EVENT_MAX (64u << 20) /* bytes of one event's text (a stored object fits) */

enum tcerr
feed_view_parse(const char *name, enum feed_view *out)
{
	if (strcmp(name, "stix") == 0)
		*out = FEED_STIX;
	else if (strcmp(name, "decisions") == 0)
		*out = FEED_DECISIONS;
	else
		return TC_EINVAL;
	return TC_OK;
}

const char *
feed_view_name(enum feed_view v)
{
	return v == FEED_STIX ? "stix" : v == FEED_DECISIONS ? "decisions" : "unknown";
}

const char *
feed_event_name(enum feed_event_type t)
{
	switch (t) {
	case FEED_EV_VERSION: return "version";
	case FEED_EV_DELETE: return "delete";
	case FEED_EV_ADD: return "add";
	case FEED_EV_REMOVE: return "remove";
	}
	return "unknown";
}

enum tcerr
feed_pos_parse(struct slice text, struct feed_pos *out)
{
	if (text.len == 0 || text.len > 20 || (text.len > 1 && text.p[0] == '0'))
		return TC_EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < text.len; i++) {
		unsigned c = (unsigned char)text.p[i];
		if (c < '0' || c > '9')
			return TC_EINVAL;
		if (v > (UINT64_MAX - (c - '0')) / 10)
			return TC_EINVAL;
		v = v * 10 + (c - '0');
	}
	out->seq = v;
	return TC_OK;
}

void
feed_pos_format(struct feed_pos p, char out[FEED_POS_TEXT_MAX])
{
	snprintf(out, FEED_POS_TEXT_MAX, "%" PRIu64, p.seq);
}

/* --- filters --- */

void
feed_filter_init(struct feed_filter_store *fs)
{
	memset(fs, 0, sizeof *fs);
	fs->f.collections = fs->coll;
	fs->f.types = (const char *const *)fs->type;
	fs->f.min_confidence = -1;
	fs->f.tlp_max = TLP_NONE;
}

void
feed_filter_reset(struct feed_filter_store *fs)
{
	for (size_t i = 0; i < fs->f.ntypes; i++)
		free(fs->type[i]);
	feed_filter_init(fs);
}

/* value as a C string in out (size n). false if it does not fit or holds a NUL. */
static bool
slice_cstr(struct slice v, char *out, size_t n)
{
	if (v.len >= n || memchr(v.p, '\0', v.len))
		return false;
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return true;
}

enum tcerr
feed_filter_set(struct feed_filter_store *fs, struct store *s, const char *key, struct slice value,
                struct diag *d)
{
	char v[256];
	if (!slice_cstr(value, v, sizeof v) || !v[0])
		return diag_set(d, TC_EINVAL, "%s: empty, too long or not text", key);
	if (strcmp(key, "collection") == 0) {
		if (fs->f.ncollections == FEED_FILTER_LIST_MAX)
			return diag_set(d, TC_ELIMIT, "collection: at most %d", FEED_FILTER_LIST_MAX);
		struct store_collection c;
		if (store_collection_find(s, v, &c))
			return diag_set(d, TC_ENOTFOUND, "collection: no collection named %s", v);
		fs->coll[fs->f.ncollections++] = c.num;
		return TC_OK;
	}
	if (strcmp(key, "type") == 0) {
		if (fs->f.ntypes == FEED_FILTER_LIST_MAX)
			return diag_set(d, TC_ELIMIT, "type: at most %d", FEED_FILTER_LIST_MAX);
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
				return diag_set(d, TC_EINVAL, "type: %s is no STIX type name", v);
		char *t = strdup(v);
		if (!t)
			return diag_set(d, TC_ENOMEM, "out of memory");
		fs->type[fs->f.ntypes++] = t;
		return TC_OK;
	}
	if (strcmp(key, "kind") == 0) {
		enum obs_kind k;
		if (obs_kind_parse(slice_from_cstr(v), &k))
			return diag_set(d, TC_EINVAL, "kind: %s is no observable kind", v);
		fs->f.kinds |= UINT32_C(1) << (unsigned)k;
		return TC_OK;
	}
	if (strcmp(key, "min_confidence") == 0) {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || *end || end == v || n < 0 || n > 100)
			return diag_set(d, TC_EINVAL, "min_confidence: %s is not 0 to 100", v);
		fs->f.min_confidence = (int)n;
		return TC_OK;
	}
	if (strcmp(key, "tlp") == 0) {
		enum tlp_level t;
		if (stix_tlp_parse(v, &t) || t == TLP_NONE)
			return diag_set(d, TC_EINVAL,
			                "tlp: %s is not clear, green, amber, amber+strict or red", v);
		fs->f.tlp_max = t;
		return TC_OK;
	}
	return diag_set(d, TC_EINVAL,
	                "%s: unknown filter (collection, type, kind, min_confidence, tlp)", key);
}

/* --- common --- */

struct reader {
	const struct feed_ctx *c;
	const struct feed_filter *f;
	feed_cb cb;
	void *cb_ctx;
	struct diag *d;
	int64_t now;
	size_t max, handed;
	uint64_t examined;       /* the last position looked at */
	enum tcerr err;          /* the callback's, or ours */
	bool stop;
	struct buf text;         /* the event being written */
};

static bool
may_see(const struct feed_ctx *c, const struct store_row *r)
{
	return !c->who || policy_row(c->who, r);
}

static enum tlp_level
eff_tlp(const struct feed_ctx *c, enum tlp_level stored)
{
	return policy_effective_tlp(c->names, stored, NULL);
}

static bool
coll_admitted(const struct feed_filter *f, int64_t coll)
{
	if (!f->ncollections)
		return true;
	for (size_t i = 0; i < f->ncollections; i++)
		if (f->collections[i] == coll)
			return true;
	return false;
}

static const char *
coll_alias(const struct feed_ctx *c, int64_t num, char *tmp, size_t n)
{
	const struct reg_collection *rc = c->names ? reg_snapshot_collection(c->names, num) : NULL;
	if (rc)
		return rc->c.alias;
	snprintf(tmp, n, "#%lld", (long long)num);
	return tmp;
}

static const char *
producer_name(const struct feed_ctx *c, int64_t num, char *tmp, size_t n)
{
	if (num == 0)
		return "hub";
	const struct reg_org *o = c->names ? reg_snapshot_org(c->names, num) : NULL;
	if (o)
		return o->name;
	snprintf(tmp, n, "#%lld", (long long)num);
	return tmp;
}

static void
put_pos(struct buf *b, uint64_t seq)
{
	buf_printf(b, "\"position\":\"%" PRIu64 "\",", seq);
}

static void
put_time(struct buf *b, int64_t us)
{
	if (!us) {
		buf_append_cstr(b, "null");
		return;
	}
	char t[TS_TEXT_MAX];
	ts_format(us, 3, t);
	buf_printf(b, "\"%s\"", t);
}

/* Hands the event in r->text to the reader. */
static void
hand_out(struct reader *r, enum feed_event_type type, uint64_t seq,
         const struct feed_decision *dec)
{
	if ((r->err = buf_error(&r->text))) {
		diag_set(r->d, r->err, "feed: an event of position %" PRIu64 " is too large", seq);
		r->stop = true;
		return;
	}
	struct feed_event ev = { .type = type, .pos = { seq }, .data = buf_slice(&r->text),
		                 .decision = dec };
	if ((r->err = r->cb(r->cb_ctx, &ev))) {
		r->stop = true;
		return;
	}
	r->handed++;
	if (r->max && r->handed >= r->max)
		r->stop = true;
}

/* --- FEED_STIX --- */

struct held_tomb {
	uint64_t seq;
	int64_t collection, producer;
	enum tlp_level tlp;
	size_t id_off, version_off, json_off, json_len;
};

struct tombs {
	struct held_tomb t[FEED_CHUNK];
	size_t n, next;
	struct buf text;
};

static enum tcerr
tomb_hold(void *ctx, const struct store_tombstone *t)
{
	struct tombs *h = ctx;
	if (h->n == FEED_CHUNK)
		return TC_ELIMIT; /* the round is full: not an error (tomb_read) */
	struct held_tomb *e = &h->t[h->n++];
	*e = (struct held_tomb){ .seq = t->seq, .collection = t->collection, .tlp = t->tlp,
		                 .producer = t->producer };
	e->id_off = h->text.len;
	buf_append(&h->text, t->id, strlen(t->id) + 1);
	e->version_off = h->text.len;
	buf_append(&h->text, t->version, strlen(t->version) + 1);
	e->json_off = h->text.len;
	e->json_len = t->json.len;
	buf_append_slice(&h->text, t->json);
	return buf_error(&h->text);
}

static bool
stix_admitted(const struct reader *r, int64_t coll, const char *type, uint32_t kinds,
              enum tlp_level tlp)
{
	const struct feed_filter *f = r->f;
	if (!coll_admitted(f, coll))
		return false;
	if (f->ntypes && type) {
		bool ok = false;
		for (size_t i = 0; !ok && i < f->ntypes; i++)
			ok = strcmp(f->types[i], type) == 0;
		if (!ok)
			return false;
	}
	if (f->kinds && !(f->kinds & kinds))
		return false;
	if (f->tlp_max != TLP_NONE && eff_tlp(r->c, tlp) > f->tlp_max)
		return false;
	return true;
}

static void
tomb_emit(struct reader *r, struct tombs *h, const struct held_tomb *t)
{
	r->examined = t->seq;
	struct store_row row = {
		.seq = t->seq, .collection = t->collection, .tlp = t->tlp, .producer = t->producer,
		.json = slice_make(t->json_len ? h->text.p + t->json_off : "", t->json_len),
		.id = h->text.p + t->id_off, .type = "", .version = h->text.p + t->version_off,
	};
	/* a type filter or a kind filter cannot judge a deletion: it passes */
	if (!stix_admitted(r, t->collection, NULL, 0, t->tlp) || !may_see(r->c, &row))
		return;
	char tmp[32];
	buf_clear(&r->text);
	buf_append_char(&r->text, '{');
	put_pos(&r->text, t->seq);
	buf_append_cstr(&r->text, "\"collection\":");
	buf_append_json_str(&r->text,
	                    slice_from_cstr(coll_alias(r->c, t->collection, tmp, sizeof tmp)));
	buf_append_cstr(&r->text, ",\"id\":");
	buf_append_json_str(&r->text, slice_from_cstr(row.id));
	buf_append_cstr(&r->text, ",\"version\":");
	buf_append_json_str(&r->text, slice_from_cstr(row.version));
	buf_append_char(&r->text, '}');
	hand_out(r, FEED_EV_DELETE, t->seq, NULL);
}

/* Hands out the held tombstones before seq (all of them: UINT64_MAX). */
static void
tombs_until(struct reader *r, struct tombs *h, uint64_t seq)
{
	while (!r->stop && h->next < h->n && h->t[h->next].seq < seq)
		tomb_emit(r, h, &h->t[h->next++]);
}

struct vwalk {
	struct reader *r;
	struct tombs *h;
	uint64_t tomb_hi;       /* versions past it wait for the next round */
	size_t rows;
	bool past;
};

static int
confidence_of(struct slice json)
{
	json_t *o = json_loadb(json.p, json.len, 0, NULL);
	const json_t *c = o ? json_object_get(o, "confidence") : NULL;
	int v = json_is_integer(c) ? (int)json_integer_value(c) : -1;
	json_decref(o);
	return v;
}

static enum store_row_verdict
version_cb(void *ctx, const struct store_row *row, uint32_t kinds)
{
	struct vwalk *w = ctx;
	struct reader *r = w->r;
	if (row->seq > w->tomb_hi) {
		w->past = true;
		return STORE_ROW_STOP;
	}
	w->rows++;
	tombs_until(r, w->h, row->seq);
	if (r->stop)
		return STORE_ROW_STOP;
	r->examined = row->seq;
	if (!stix_admitted(r, row->collection, row->type, kinds, row->tlp))
		return STORE_ROW_TAKE;
	if (r->f->min_confidence >= 0) {
		int c = confidence_of(row->json);
		if (c < r->f->min_confidence)
			return STORE_ROW_TAKE;
	}
	if (!may_see(r->c, row))
		return STORE_ROW_TAKE;
	char tmp[32];
	buf_clear(&r->text);
	buf_append_char(&r->text, '{');
	put_pos(&r->text, row->seq);
	buf_append_cstr(&r->text, "\"collection\":");
	buf_append_json_str(&r->text,
	                    slice_from_cstr(coll_alias(r->c, row->collection, tmp, sizeof tmp)));
	buf_append_cstr(&r->text, ",\"object\":");
	buf_append_slice(&r->text, row->json);
	buf_append_char(&r->text, '}');
	hand_out(r, FEED_EV_VERSION, row->seq, NULL);
	return r->stop ? STORE_ROW_STOP : STORE_ROW_TAKE;
}

static enum tcerr
read_stix(struct reader *r, uint64_t pos)
{
	struct tombs *h = malloc(sizeof *h);
	if (!h)
		return diag_set(r->d, TC_ENOMEM, "feed: out of memory");
	buf_init(&h->text, 0);
	enum tcerr t = TC_OK;
	while (!r->stop) {
		h->n = h->next = 0;
		buf_clear(&h->text);
		t = store_tombstones(r->c->store, pos, tomb_hold, h, r->d);
		bool tomb_full = t == TC_ELIMIT && h->n == FEED_CHUNK;
		if (tomb_full)
			t = TC_OK, diag_clear(r->d);
		if (t)
			break;
		struct vwalk w = { .r = r, .h = h,
			           .tomb_hi = tomb_full ? h->t[FEED_CHUNK - 1].seq : UINT64_MAX };
		uint64_t last = 0;
		t = store_log_versions(r->c->store, pos, FEED_CHUNK, version_cb, &w, &last, r->d);
		if (t)
			break;
		if (r->stop)
			break;
		bool vers_full = w.rows == FEED_CHUNK;
		/* tombstones up to where both walks are complete */
		uint64_t upto = vers_full ? last : w.tomb_hi;
		if (upto != UINT64_MAX)
			upto++;
		tombs_until(r, h, upto);
		if (r->stop)
			break;
		uint64_t np = r->examined > pos ? r->examined : pos;
		if (vers_full && last > np)
			np = last;
		if (!vers_full && !tomb_full)
			break; /* the log's end */
		if (np == pos)
			break;
		pos = np;
	}
	buf_reset(&h->text);
	free(h);
	return t;
}

/* --- FEED_DECISIONS --- */

/* The decision a reader sees for one value: the indicators it may see. */
struct agg {
	struct feed_decision dec;
	struct feed_indicator ind[FEED_DECISION_MAX_INDICATORS];
	char id[FEED_DECISION_MAX_INDICATORS][STIX_ID_MAX];
	char coll[FEED_DECISION_MAX_INDICATORS][STORE_ALIAS_MAX + 1];
	char prod[FEED_DECISION_MAX_INDICATORS][REG_ORG_NAME_MAX + 1];
	char value[OBS_VALUE_MAX + 1];
	bool no_end;
	uint64_t skip_vseq;    /* a contribution not to count (the one removed) */
};

static void
agg_start(struct agg *a, enum obs_kind kind, struct slice value)
{
	a->dec = (struct feed_decision){ .kind = kind, .confidence = -1, .tlp = TLP_NONE,
		                         .indicators = a->ind };
	size_t n = value.len < OBS_VALUE_MAX ? value.len : OBS_VALUE_MAX;
	memcpy(a->value, value.p, n);
	a->value[n] = '\0';
	a->dec.value = slice_make(a->value, n);
	a->no_end = false;
	a->skip_vseq = 0;
}

/* The effective confidence rule (feed_set_conf_rule; docs/sightings.md) */
static struct feed_conf_rule feed_rule;

void
feed_set_conf_rule(const struct feed_conf_rule *r)
{
	feed_rule = r ? *r : (struct feed_conf_rule){ 0 };
}

/* cd, or a copy in tmp with the effective confidence when the rule is
 * active (a store error leaves the producer's confidence). */
static const struct store_decision *
rescored(const struct feed_ctx *c, const struct store_decision *cd, struct store_decision *tmp)
{
	if (!feed_conf_rule_active(&feed_rule) || cd->confidence < 0 || !cd->id)
		return cd;
	struct store_sighted st;
	struct diag d;
	if (store_sighting_stats(c->store, cd->id, cd->producer, cd->version_seq, &st, &d))
		return cd;
	*tmp = *cd;
	tmp->confidence = feed_conf_effective(&feed_rule, cd->confidence, st.orgs, st.last_us,
	                                      st.version_us, c->now_us ? c->now_us : ts_now_us());
	return tmp;
}

/* Does the reader see contribution cd (filters and policy)? */
static bool
dec_admitted(const struct feed_ctx *c, const struct feed_filter *f,
             const struct store_decision *cd)
{
	if (f->kinds && !(f->kinds & (UINT32_C(1) << (unsigned)cd->kind)))
		return false;
	if (!coll_admitted(f, cd->collection))
		return false;
	if (f->min_confidence >= 0 && cd->confidence < f->min_confidence)
		return false;
	if (f->tlp_max != TLP_NONE && eff_tlp(c, cd->tlp) > f->tlp_max)
		return false;
	struct store_row row = { .seq = cd->version_seq, .ref = cd->ref,
		                 .collection = cd->collection, .tlp = cd->tlp,
		                 .producer = cd->producer, .json = cd->json, .type = "indicator",
		                 .id = cd->id ? cd->id : "", .version = "", .key_id = "" };
	if (!row.json.p)
		row.json = slice_make("", 0);
	return may_see(c, &row);
}

/* Copies src into dst (size n), cut to fit. */
static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void
agg_add(const struct feed_ctx *c, struct agg *a, const struct store_decision *cd)
{
	struct feed_decision *dec = &a->dec;
	enum tlp_level tlp = eff_tlp(c, cd->tlp);
	if (dec->nindicators == 0 || tlp > dec->tlp)
		dec->tlp = tlp;
	if (cd->confidence > dec->confidence)
		dec->confidence = cd->confidence;
	if (!cd->valid_until_us)
		a->no_end = true;
	else if (cd->valid_until_us > dec->until_us)
		dec->until_us = cd->valid_until_us;
	size_t i = dec->nindicators++;
	if (i >= FEED_DECISION_MAX_INDICATORS)
		return;
	copy_str(a->id[i], sizeof a->id[i], cd->id ? cd->id : "");
	char tmp[32];
	copy_str(a->coll[i], sizeof a->coll[i], coll_alias(c, cd->collection, tmp, sizeof tmp));
	copy_str(a->prod[i], sizeof a->prod[i], producer_name(c, cd->producer, tmp, sizeof tmp));
	a->ind[i] = (struct feed_indicator){ .id = a->id[i], .collection = a->coll[i],
		                             .producer = a->prod[i], .tlp = tlp,
		                             .confidence = cd->confidence,
		                             .valid_until_us = cd->valid_until_us };
}

static void
agg_finish(const struct feed_ctx *c, struct agg *a)
{
	if (a->no_end)
		a->dec.until_us = 0;
	a->dec.action = c->block_min_confidence > 0 && a->dec.confidence < c->block_min_confidence
	                    ? "alert"
	                    : "block";
}

static void
write_add(struct buf *b, const struct agg *a, const uint64_t *seq)
{
	const struct feed_decision *dec = &a->dec;
	buf_clear(b);
	buf_append_char(b, '{');
	if (seq)
		put_pos(b, *seq);
	buf_printf(b, "\"kind\":\"%s\",\"value\":", obs_kind_name(dec->kind));
	buf_append_json_str(b, dec->value);
	buf_printf(b, ",\"action\":\"%s\",\"until\":", dec->action);
	put_time(b, dec->until_us);
	buf_append_cstr(b, ",\"confidence\":");
	if (dec->confidence >= 0)
		buf_printf(b, "%d", dec->confidence);
	else
		buf_append_cstr(b, "null");
	buf_printf(b, ",\"tlp\":\"%s\"", stix_tlp_name(dec->tlp));
	if (dec->reason)
		buf_printf(b, ",\"reason\":\"%s\"", dec->reason);
	buf_append_cstr(b, ",\"indicators\":[");
	size_t n = dec->nindicators < FEED_DECISION_MAX_INDICATORS ? dec->nindicators
	                                                          : FEED_DECISION_MAX_INDICATORS;
	for (size_t i = 0; i < n; i++) {
		const struct feed_indicator *in = &dec->indicators[i];
		buf_append_cstr(b, i ? ",{\"id\":" : "{\"id\":");
		buf_append_json_str(b, slice_from_cstr(in->id));
		buf_append_cstr(b, ",\"collection\":");
		buf_append_json_str(b, slice_from_cstr(in->collection));
		buf_append_cstr(b, ",\"producer\":");
		buf_append_json_str(b, slice_from_cstr(in->producer));
		buf_printf(b, ",\"tlp\":\"%s\",\"confidence\":", stix_tlp_name(in->tlp));
		if (in->confidence >= 0)
			buf_printf(b, "%d", in->confidence);
		else
			buf_append_cstr(b, "null");
		buf_append_cstr(b, ",\"valid_until\":");
		put_time(b, in->valid_until_us);
		buf_append_char(b, '}');
	}
	buf_printf(b, "],\"indicators_total\":%zu}", dec->nindicators);
}

struct value_walk {
	const struct feed_ctx *c;
	const struct feed_filter *f;
	struct agg *a;
};

static enum tcerr
value_cb(void *ctx, const struct store_decision *cd)
{
	struct value_walk *w = ctx;
	struct store_decision tmp;
	cd = rescored(w->c, cd, &tmp);
	if (cd->version_seq == w->a->skip_vseq || !dec_admitted(w->c, w->f, cd))
		return TC_OK;
	agg_add(w->c, w->a, cd);
	return TC_OK;
}

static bool
allowlisted_now(const struct feed_ctx *c, enum obs_kind kind, struct slice value)
{
	return c->allow && allowlist_check_block(c->allow, kind, value, NULL);
}

struct dwalk {
	struct reader *r;
	struct agg *a;
};

static enum tcerr
devent_cb(void *ctx, const struct store_devent *e)
{
	struct dwalk *w = ctx;
	struct reader *r = w->r;
	const struct feed_ctx *c = r->c;
	r->examined = e->seq;
	struct store_decision tmp;
	const struct store_decision *ed = rescored(c, &e->d, &tmp);
	if (!dec_admitted(c, r->f, ed))
		return TC_OK;
	if (e->add && ((e->d.valid_until_us && e->d.valid_until_us <= r->now) ||
	               allowlisted_now(c, e->d.kind, e->d.value)))
		return TC_OK; /* gone already: its remove follows in the log */
	/* what the reader sees of the value now, this event's own indicator
	 * aside for a remove */
	struct agg *a = w->a;
	agg_start(a, e->d.kind, e->d.value);
	if (!e->add)
		a->skip_vseq = e->d.version_seq;
	struct value_walk vw = { c, r->f, a };
	enum tcerr t = store_decisions(c->store, e->d.kind, &e->d.value, r->now, value_cb, &vw,
	                               NULL, r->d);
	if (t)
		return t;
	if (e->add) {
		bool in = false;
		size_t n = a->dec.nindicators < FEED_DECISION_MAX_INDICATORS
		                   ? a->dec.nindicators
		                   : FEED_DECISION_MAX_INDICATORS;
		for (size_t i = 0; !in && i < n; i++)
			in = e->d.id && strcmp(a->id[i], e->d.id) == 0;
		if (!in) /* read back after it changed again: it counts as it was */
			agg_add(c, a, ed);
	}
	a->dec.reason = store_dreason_name(e->reason);
	if (a->dec.nindicators) {
		agg_finish(c, a);
		buf_clear(&r->text);
		if (!c->decisions_only)
			write_add(&r->text, a, &e->seq);
		hand_out(r, FEED_EV_ADD, e->seq, &a->dec);
	} else {
		buf_clear(&r->text);
		if (!c->decisions_only) {
			buf_append_char(&r->text, '{');
			put_pos(&r->text, e->seq);
			buf_printf(&r->text, "\"kind\":\"%s\",\"value\":",
			           obs_kind_name(e->d.kind));
			buf_append_json_str(&r->text, e->d.value);
			buf_printf(&r->text, ",\"reason\":\"%s\"}", a->dec.reason);
		}
		a->dec.action = "block";
		hand_out(r, FEED_EV_REMOVE, e->seq, &a->dec);
	}
	return r->stop ? (r->err ? r->err : TC_ELIMIT) : TC_OK;
}

static enum tcerr
read_decisions(struct reader *r, uint64_t pos)
{
	struct agg *a = malloc(sizeof *a);
	if (!a)
		return diag_set(r->d, TC_ENOMEM, "feed: out of memory");
	struct dwalk w = { r, a };
	enum tcerr t = TC_OK;
	while (!r->stop) {
		uint64_t before = r->examined;
		t = store_decision_events(r->c->store, pos, FEED_CHUNK, devent_cb, &w, r->d);
		if (r->stop) {
			t = r->err;
			break;
		}
		if (t || r->examined == before)
			break;
		pos = r->examined;
	}
	free(a);
	return t;
}

enum tcerr
feed_read(const struct feed_ctx *c, enum feed_view v, const struct feed_filter *f,
          struct feed_pos after, size_t max_events, feed_cb cb, void *cb_ctx,
          struct feed_pos *next, struct diag *d)
{
	static const struct feed_filter none = { .min_confidence = -1 };
	diag_clear(d);
	struct reader r = { .c = c, .f = f ? f : &none, .cb = cb, .cb_ctx = cb_ctx, .d = d,
		            .now = c->now_us ? c->now_us : ts_now_us(), .max = max_events,
		            .examined = after.seq };
	buf_init(&r.text, FEED_EVENT_MAX);
	enum tcerr t = v == FEED_STIX ? read_stix(&r, after.seq) : read_decisions(&r, after.seq);
	if (r.stop && r.err)
		t = r.err;
	if (next)
		next->seq = r.examined;
	buf_reset(&r.text);
	return t;
}

/* --- snapshot --- */

struct snap {
	struct reader *r;
	struct agg *a;
	bool open;
	const uint64_t *pos;     /* the store's position, known before the first row */
	struct feed_pos *at;     /* the caller's, set at the first row */
};

static void
snap_flush(struct snap *s)
{
	struct reader *r = s->r;
	if (!s->open)
		return;
	s->open = false;
	if (!s->a->dec.nindicators)
		return;
	agg_finish(r->c, s->a);
	s->a->dec.reason = NULL;
	buf_clear(&r->text);
	if (!r->c->decisions_only)
		write_add(&r->text, s->a, NULL);
	hand_out(r, FEED_EV_ADD, 0, &s->a->dec);
}

static enum tcerr
snap_cb(void *ctx, const struct store_decision *cd)
{
	struct snap *s = ctx;
	struct reader *r = s->r;
	struct agg *a = s->a;
	if (s->at && !s->at->seq)
		s->at->seq = *s->pos;
	if (!s->open || cd->kind != a->dec.kind || !slice_eq(cd->value, a->dec.value)) {
		snap_flush(s);
		if (r->stop)
			return r->err ? r->err : TC_ELIMIT;
		agg_start(a, cd->kind, cd->value);
		s->open = !allowlisted_now(r->c, cd->kind, cd->value);
	}
	struct store_decision tmp;
	if (s->open && (cd = rescored(r->c, cd, &tmp)) && dec_admitted(r->c, r->f, cd))
		agg_add(r->c, a, cd);
	return TC_OK;
}

enum tcerr
feed_snapshot(const struct feed_ctx *c, const struct feed_filter *f, feed_cb cb, void *cb_ctx,
              struct feed_pos *at, struct diag *d)
{
	static const struct feed_filter none = { .min_confidence = -1 };
	diag_clear(d);
	struct reader r = { .c = c, .f = f ? f : &none, .cb = cb, .cb_ctx = cb_ctx, .d = d,
		            .now = c->now_us ? c->now_us : ts_now_us() };
	buf_init(&r.text, FEED_EVENT_MAX);
	struct agg *a = malloc(sizeof *a);
	if (!a)
		return diag_set(d, TC_ENOMEM, "feed: out of memory");
	uint64_t pos = 0;
	if (at)
		at->seq = 0;
	struct snap s = { &r, a, false, &pos, at };
	enum tcerr t = store_decisions(c->store, 0, NULL, r.now, snap_cb, &s, &pos, d);
	if (!t)
		snap_flush(&s);
	if (r.stop && r.err)
		t = r.err;
	if (at)
		at->seq = pos;
	free(a);
	buf_reset(&r.text);
	return t;
}

int
feed_block_min_confidence(struct store *s)
{
	struct buf b;
	buf_init(&b, 16);
	int v = 0;
	if (store_setting_get(s, FEED_BLOCK_MIN_SETTING, &b) == TC_OK && !buf_error(&b)) {
		buf_append_char(&b, '\0');
		char *end;
		long n = strtol(b.p, &end, 10);
		if (!buf_error(&b) && *end == '\0' && n >= 0 && n <= 100)
			v = (int)n;
	}
	buf_reset(&b);
	return v;
}

enum tcerr
feed_set_block_min_confidence(struct store *s, int v)
{
	char t[16];
	snprintf(t, sizeof t, "%d", v);
	return store_setting_set(s, FEED_BLOCK_MIN_SETTING, t);
}
