/*
 * export_misp.c — decisions as a MISP feed (the directory MISP's feed
 * fetcher reads: manifest.json, one <event uuid>.json per event,
 * hashes.csv), one file (part) per writer.
 *
 * Events: one per (producer, TLP) among the indicators the reader may see
 * behind the decisions: "tocsin: decisions from PRODUCER (tlp:green)". A
 * decision is an attribute of each event one of its indicators belongs
 * to. Ids are derived from the feed name and producer and level (event),
 * the event and the value (attribute), and the feed and producer (Orgc)
 * — under the hub's id key (uuid_keyed) when the caller gives it, else
 * UUIDv5 in EXPORT_MISP_NAMESPACE — so that each pull names the same
 * things the same way and MISP updates rather than duplicates them.
 *
 * Files, as PyMISP's feed generator writes them:
 *   manifest.json  {"<event uuid>": {"Orgc": {"name","uuid"}, "Tag":
 *                  [{"name":"tlp:..","colour":".."}], "info", "date":
 *                  "YYYY-MM-DD", "analysis", "threat_level_id",
 *                  "timestamp"}, ...}
 *   <uuid>.json    {"Event": {"uuid", "info", "date", "timestamp",
 *                  "publish_timestamp", "published", "analysis",
 *                  "threat_level_id", "Orgc", "Tag", "Attribute": [{"uuid",
 *                  "type", "category", "value", "to_ids", "timestamp",
 *                  "comment"}]}}
 *   hashes.csv     "<md5 of the attribute value>,<event uuid>" a line
 * Timestamps are the export's time: MISP fetches an event again when the
 * manifest's timestamp is newer than its copy (the HTTP ETag spares a
 * re-poll when nothing changed).
 * Kinds and MISP types: ipv4/ipv6 ip-dst, domain domain, url url, email
 * email-src, md5/sha1/sha256/sha512 the same, phone phone-number, an IBAN
 * iban and a national account bank-account-nr, wallets btc: and xmr: btc
 * and xmr, asn AS. Cards (a keyed hash only this hub can compute),
 * Streebog hashes and other wallets have no MISP type: left out.
 */
#include <nettle/md5.h>
#include <stdlib.h>
#include <string.h>

#include "export_dec_int.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"

#define EXPORT_MISP_NAMESPACE "6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c10"

/* The MISP attribute type and category of a decision; NULL when none. */
static const char *
misp_type(enum obs_kind kind, struct slice v, const char **category)
{
	*category = "Network activity";
	switch (kind) {
	case OBS_IPV4:
	case OBS_IPV6: return "ip-dst";
	case OBS_DOMAIN: return "domain";
	case OBS_URL: return "url";
	case OBS_ASN: return "AS";
	default: break;
	}
	*category = "Payload delivery";
	switch (kind) {
	case OBS_EMAIL: return "email-src";
	case OBS_MD5: return "md5";
	case OBS_SHA1: return "sha1";
	case OBS_SHA256: return "sha256";
	case OBS_SHA512: return "sha512";
	default: break;
	}
	*category = "Financial fraud";
	switch (kind) {
	case OBS_PHONE: return "phone-number";
	case OBS_BANK_ACCOUNT:
		/* national accounts are "CC:bank:account"; an IBAN has no ':' */
		return memchr(v.p, ':', v.len) ? "bank-account-nr" : "iban";
	case OBS_WALLET:
		if (v.len > 4 && memcmp(v.p, "btc:", 4) == 0)
			return "btc";
		if (v.len > 4 && memcmp(v.p, "xmr:", 4) == 0)
			return "xmr";
		return NULL;
	default: return NULL;
	}
}

/* The value as MISP holds it: a wallet without its chain prefix. */
static struct slice
misp_value(enum obs_kind kind, struct slice v)
{
	if (kind == OBS_WALLET && v.len > 4)
		return slice_make(v.p + 4, v.len - 4);
	return v;
}

static bool
misp_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	(void)w;
	const char *cat;
	/* wallets are decided per chain in add() */
	return kind == OBS_WALLET || misp_type(kind, slice_make("", 0), &cat) != NULL;
}

static const char *
tlp_colour(enum tlp_level t)
{
	switch (t) {
	case TLP_CLEAR: return "#ffffff";
	case TLP_GREEN: return "#33ff00";
	case TLP_AMBER:
	case TLP_AMBER_STRICT: return "#ffc000";
	case TLP_RED: return "#ff2b2b";
	default: return "#cccccc";
	}
}

/* The uuid of name: keyed under the hub's id key when given. */
static enum tcerr
misp_uuid(const struct export_dec_opts *o, struct buf *name, char *out)
{
	enum tcerr rc = buf_error(name);
	if (rc)
		return rc;
	if (o->id_key)
		return uuid_keyed(o->id_key, o->id_key_len, buf_slice(name), out);
	return uuid_v5(EXPORT_MISP_NAMESPACE, buf_slice(name), out);
}

enum tcerr
export_misp_event_uuid(const struct export_dec_opts *o, const char *producer,
                       enum tlp_level tlp, char *out)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "misp-event\n%s\n%s\n%s", o->feed_name ? o->feed_name : "tocsin",
	           producer ? producer : "", tlp == TLP_NONE ? "" : stix_tlp_name(tlp));
	enum tcerr rc = misp_uuid(o, &b, out);
	buf_reset(&b);
	return rc;
}

static enum tcerr
org_uuid(const struct export_dec_opts *o, const char *producer, char *out)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "misp-org\n%s\n%s", o->feed_name ? o->feed_name : "tocsin", producer);
	enum tcerr rc = misp_uuid(o, &b, out);
	buf_reset(&b);
	return rc;
}

static void
misp_start(struct export_dec_writer *w)
{
	(void)w;
}

static void
tag(struct buf *b, enum tlp_level t)
{
	buf_append_char(b, '[');
	if (t != TLP_NONE)
		buf_printf(b, "{\"name\":\"tlp:%s\",\"colour\":\"%s\"}", stix_tlp_name(t),
		           tlp_colour(t));
	buf_append_char(b, ']');
}

/* The event head common to the manifest entry and the event file. */
static enum tcerr
event_head(struct export_dec_writer *w, const char *producer, enum tlp_level t, bool full)
{
	char ou[UUID_TEXT_MAX], date[TS_TEXT_MAX], info[EXPORT_NAME_MAX * 4];
	enum tcerr rc = org_uuid(&w->o, producer, ou);
	if (rc)
		return rc;
	ts_format(w->o.now_us, 0, date);
	date[10] = '\0';
	long long ts = (long long)(w->o.now_us / 1000000);
	snprintf(info, sizeof(info), "%s: decisions from %.64s%s%s", w->feed, producer,
	         t != TLP_NONE ? " tlp:" : "", t != TLP_NONE ? stix_tlp_name(t) : "");
	buf_append_cstr(&w->out, "\"Orgc\":{\"name\":");
	buf_append_json_str(&w->out, slice_from_cstr(producer));
	buf_printf(&w->out, ",\"uuid\":\"%s\"},\"Tag\":", ou);
	tag(&w->out, t);
	buf_append_cstr(&w->out, ",\"info\":");
	buf_append_json_str(&w->out, slice_from_cstr(info));
	/* analysis 2: completed; threat_level_id 2: medium (MISP's scales) */
	if (full)
		buf_printf(&w->out, ",\"date\":\"%s\",\"analysis\":\"2\",\"threat_level_id\":\"2\","
		                    "\"timestamp\":\"%lld\",\"publish_timestamp\":\"%lld\","
		                    "\"published\":true",
		           date, ts, ts);
	else
		buf_printf(&w->out, ",\"date\":\"%s\",\"analysis\":2,\"threat_level_id\":2,"
		                    "\"timestamp\":%lld",
		           date, ts);
	return buf_error(&w->out);
}

/* The events dec belongs to, each once: calls fn with each. */
static enum tcerr
each_event(struct export_dec_writer *w, const struct feed_decision *dec,
           enum tcerr (*fn)(struct export_dec_writer *w, const struct feed_decision *dec,
                            const struct feed_indicator *ind, const char *uuid))
{
	size_t n = dec->nindicators < FEED_DECISION_MAX_INDICATORS ? dec->nindicators
	                                                             : FEED_DECISION_MAX_INDICATORS;
	char seen[FEED_DECISION_MAX_INDICATORS][UUID_TEXT_MAX];
	size_t nseen = 0;
	for (size_t i = 0; i < n && dec->indicators; i++) {
		const struct feed_indicator *ind = &dec->indicators[i];
		char u[UUID_TEXT_MAX];
		enum tcerr rc = export_misp_event_uuid(&w->o, ind->producer, ind->tlp, u);
		if (rc)
			return rc;
		bool dup = false;
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = strcmp(seen[j], u) == 0;
		if (dup)
			continue;
		memcpy(seen[nseen++], u, UUID_TEXT_MAX);
		if ((rc = fn(w, dec, ind, u)))
			return rc;
	}
	return TC_OK;
}

static enum tcerr
manifest_note(struct export_dec_writer *w, const struct feed_decision *dec,
              const struct feed_indicator *ind, const char *uuid)
{
	(void)dec;
	for (size_t i = 0; i < w->nev; i++) {
		if (strcmp(w->ev[i].uuid, uuid) == 0) {
			w->ev[i].attributes++;
			return TC_OK;
		}
	}
	if (w->nev == EXPORT_MISP_MAX_EVENTS)
		return TC_ELIMIT;
	if (w->nev == w->capev) {
		size_t ncap = w->capev ? 2 * w->capev : 16;
		struct export__misp_event *n = realloc(w->ev, ncap * sizeof(*n));
		if (!n)
			return TC_ENOMEM;
		w->ev = n;
		w->capev = ncap;
	}
	struct export__misp_event *e = &w->ev[w->nev];
	if (!(e->producer = strdup(ind->producer ? ind->producer : "")))
		return TC_ENOMEM;
	e->tlp = ind->tlp;
	e->attributes = 1;
	memcpy(e->uuid, uuid, UUID_TEXT_MAX);
	w->nev++;
	return TC_OK;
}

static void
md5_hex(struct buf *b, struct slice v)
{
	struct md5_ctx m;
	uint8_t dig[MD5_DIGEST_SIZE];
	md5_init(&m);
	md5_update(&m, v.len, (const uint8_t *)v.p);
	md5_digest(&m, sizeof(dig), dig);
	buf_append_hex(b, dig, sizeof(dig));
}

static enum tcerr
hashes_line(struct export_dec_writer *w, const struct feed_decision *dec,
            const struct feed_indicator *ind, const char *uuid)
{
	(void)ind;
	/* PyMISP: attribute.hash_values('md5') over the value's UTF-8 */
	md5_hex(&w->out, misp_value(dec->kind, dec->value));
	buf_printf(&w->out, ",%s\n", uuid);
	w->c.written++;
	return buf_error(&w->out);
}

static enum tcerr
event_attribute(struct export_dec_writer *w, const struct feed_decision *dec,
                const struct feed_indicator *ind, const char *uuid)
{
	if (strcmp(uuid, w->misp_uuid) != 0)
		return TC_OK;
	enum tcerr rc;
	if (!w->misp_attrs++) {
		buf_printf(&w->out, "{\"Event\":{\"uuid\":\"%s\",", uuid);
		if ((rc = event_head(w, ind->producer ? ind->producer : "", ind->tlp, true)))
			return rc;
		buf_append_cstr(&w->out, ",\"Attribute\":[\n");
	} else {
		buf_append_cstr(&w->out, ",\n");
	}
	const char *cat;
	const char *type = misp_type(dec->kind, dec->value, &cat);
	struct slice v = misp_value(dec->kind, dec->value);
	struct buf name;
	char au[UUID_TEXT_MAX];
	buf_init(&name, 0);
	buf_printf(&name, "misp-attribute\n%s\n%s\n", uuid, obs_kind_name(dec->kind));
	buf_append_slice(&name, dec->value);
	rc = misp_uuid(&w->o, &name, au);
	buf_reset(&name);
	if (rc)
		return rc;
	buf_printf(&w->out, "{\"uuid\":\"%s\",\"type\":\"%s\",\"category\":\"%s\",\"value\":", au,
	           type, cat);
	buf_append_json_str(&w->out, v);
	buf_printf(&w->out, ",\"to_ids\":true,\"timestamp\":\"%lld\",\"comment\":",
	           (long long)(w->o.now_us / 1000000));
	/* the indicators of this event behind the value */
	struct buf cm;
	buf_init(&cm, 4096);
	size_t n = dec->nindicators < FEED_DECISION_MAX_INDICATORS ? dec->nindicators
	                                                             : FEED_DECISION_MAX_INDICATORS;
	for (size_t i = 0; i < n; i++) {
		const struct feed_indicator *x = &dec->indicators[i];
		if (x->tlp != ind->tlp || strcmp(x->producer ? x->producer : "",
		                                 ind->producer ? ind->producer : "") != 0)
			continue;
		buf_printf(&cm, "%s%s", cm.len ? " " : "", x->id ? x->id : "");
	}
	if (dec->confidence >= 0)
		buf_printf(&cm, " confidence=%d", dec->confidence);
	buf_append_json_str(&w->out, buf_error(&cm) ? slice_make("", 0) : buf_slice(&cm));
	buf_reset(&cm);
	buf_append_char(&w->out, '}');
	w->c.written++;
	return buf_error(&w->out);
}

static enum tcerr
misp_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	const char *cat;
	if (!misp_type(dec->kind, dec->value, &cat)) {
		export__left_out(w, EXPORT_LEFT_KIND);
		w->c.kinds_left_out[dec->kind]++;
		return TC_OK;
	}
	if (w->misp_event_part)
		return each_event(w, dec, event_attribute);
	if (strcmp(w->part, "hashes.csv") == 0)
		return each_event(w, dec, hashes_line);
	w->c.written++;
	return each_event(w, dec, manifest_note);
}

static enum tcerr
misp_finish(struct export_dec_writer *w)
{
	enum tcerr rc;
	if (w->misp_event_part) {
		if (!w->misp_attrs)
			return TC_ENOTFOUND;
		w->c.events = 1;
		buf_append_cstr(&w->out, "\n]}}\n");
		return TC_OK;
	}
	if (strcmp(w->part, "hashes.csv") == 0)
		return TC_OK;
	buf_append_char(&w->out, '{');
	for (size_t i = 0; i < w->nev; i++) {
		buf_printf(&w->out, "%s\"%s\":{", i ? ",\n" : "\n", w->ev[i].uuid);
		if ((rc = event_head(w, w->ev[i].producer, w->ev[i].tlp, false)))
			return rc;
		buf_append_char(&w->out, '}');
		if ((rc = export__flush(w)))
			return rc;
	}
	buf_append_cstr(&w->out, w->nev ? "\n}\n" : "}\n");
	w->c.events = w->nev;
	return TC_OK;
}

const struct export__fmt export__misp = {
	EXPORT_MISP_FEED, misp_carries, misp_start, misp_add, misp_finish,
};
