/*
 * import_misp.c — MISP event JSON (MISP core format) to STIX 2.1.
 *
 * Each attribute marked to_ids (or every attribute with opts.misp_all) of
 * a supported type, in Event.Attribute and Event.Object[].Attribute,
 * becomes one indicator; the event becomes one report referring to them.
 * Ids are UUIDv5 over the MISP uuids and times come from the MISP
 * timestamps, so importing the same event again gives duplicates; an
 * attribute MISP changed (new timestamp) gives a new version.
 * TLP tags (tlp:white/clear/green/amber/amber+strict/red) on the event and
 * on an attribute become TLP 2.0 markings, the most restrictive winning.
 *
 * Known gaps: "ip-dst|port" keeps only the address in the pattern (the
 * port goes to the description); composite types other than
 * filename|<hash> and ip|port, sightings, galaxies and attribute
 * relations are not imported; unsupported types are reported one by one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"
#include "util/pan.h"

enum misp_mode {
	MISP_PLAIN = 0,
	MISP_IP,         /* ipv4 or ipv6 by its text */
	MISP_IP_PORT,    /* "addr|port" */
	MISP_AFTER_BAR,  /* "filename|hash": the hash */
	MISP_BTC,
	MISP_XMR,
	MISP_AS,
};

static const struct {
	const char *type;
	enum obs_kind kind;
	enum misp_mode mode;
} misp_types[] = {
	{ "ip-dst", OBS_IPV4, MISP_IP },
	{ "ip-src", OBS_IPV4, MISP_IP },
	{ "ip-dst|port", OBS_IPV4, MISP_IP_PORT },
	{ "ip-src|port", OBS_IPV4, MISP_IP_PORT },
	{ "domain", OBS_DOMAIN, MISP_PLAIN },
	{ "hostname", OBS_DOMAIN, MISP_PLAIN },
	{ "url", OBS_URL, MISP_PLAIN },
	{ "email", OBS_EMAIL, MISP_PLAIN },
	{ "email-src", OBS_EMAIL, MISP_PLAIN },
	{ "email-dst", OBS_EMAIL, MISP_PLAIN },
	{ "md5", OBS_MD5, MISP_PLAIN },
	{ "sha1", OBS_SHA1, MISP_PLAIN },
	{ "sha256", OBS_SHA256, MISP_PLAIN },
	{ "sha512", OBS_SHA512, MISP_PLAIN },
	{ "filename|md5", OBS_MD5, MISP_AFTER_BAR },
	{ "filename|sha1", OBS_SHA1, MISP_AFTER_BAR },
	{ "filename|sha256", OBS_SHA256, MISP_AFTER_BAR },
	{ "filename|sha512", OBS_SHA512, MISP_AFTER_BAR },
	{ "phone-number", OBS_PHONE, MISP_PLAIN },
	{ "iban", OBS_BANK_ACCOUNT, MISP_PLAIN },
	{ "bank-account-nr", OBS_BANK_ACCOUNT, MISP_PLAIN },
	{ "cc-number", OBS_CARD, MISP_PLAIN },
	{ "btc", OBS_WALLET, MISP_BTC },
	{ "xmr", OBS_WALLET, MISP_XMR },
	{ "AS", OBS_ASN, MISP_AS },
};

struct misp_event {
	const char *path;      /* "Event", "response[0].Event" */
	enum tlp_level tlp;
	int64_t time_us;       /* event timestamp, else date, else fixed */
	const char *id_base;   /* event uuid or "" */
	json_t *refs;          /* indicator ids made */
	size_t attrs;          /* attributes seen, for the limit */
};

/* Most restrictive TLP among the tags of o (Tag: [{"name": "tlp:amber"}]). */
static enum tlp_level
tags_tlp(const json_t *o)
{
	enum tlp_level best = TLP_NONE, l;
	size_t i;
	const json_t *t;
	json_array_foreach(json_object_get(o, "Tag"), i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		if (name && strncasecmp(name, "tlp:", 4) == 0 &&
		    import__parse_tlp(slice_from_cstr(name), &l) == TC_OK && l > best)
			best = l;
	}
	return best;
}

/* MISP timestamps are epoch seconds, as a string or a number. */
static bool
misp_time(const json_t *v, int64_t *us)
{
	long long s = 0;
	if (json_is_integer(v))
		s = json_integer_value(v);
	else if (json_is_string(v)) {
		const char *p = json_string_value(v);
		if (!*p || strlen(p) > 12)
			return false;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			s = s * 10 + (*p - '0');
		}
	} else
		return false;
	/* After 1970, before year 10000 (what timestamps can print). */
	if (s <= 0 || s > 253402300799LL)
		return false;
	*us = (int64_t)s * 1000000;
	return true;
}

static bool
misp_to_ids(const json_t *v)
{
	if (json_is_true(v))
		return true;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	const char *s = json_string_value(v);
	return s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0);
}

/* Normalises the attribute value by its MISP type. OUT: norm, *kind,
 * extra (a note for the description, may stay ""). */
static enum tcerr
misp_value(struct import__run *r, size_t t, struct slice v, struct buf *norm,
           enum obs_kind *kind, char *extra, size_t extra_len, struct diag *od)
{
	char tmp[OBS_VALUE_MAX + 8];
	const char *bar = memchr(v.p, '|', v.len);
	*kind = misp_types[t].kind;
	switch (misp_types[t].mode) {
	case MISP_PLAIN:
		break;
	case MISP_IP_PORT:
		if (!bar)
			return diag_set(od, TC_EINVAL, "expected 'address|port'");
		{
			struct slice port = slice_make(bar + 1, (size_t)(v.p + v.len - bar - 1));
			int n = snprintf(extra, extra_len, "(port %.*s)",
			                 (int)(port.len > 8 ? 8 : port.len), port.p);
			if (n < 0 || (size_t)n >= extra_len)
				extra[0] = '\0';
		}
		v.len = (size_t)(bar - v.p);
		/* fall through */
	case MISP_IP:
		if (memchr(v.p, ':', v.len))
			*kind = OBS_IPV6;
		break;
	case MISP_AFTER_BAR:
		if (!bar)
			return diag_set(od, TC_EINVAL, "expected 'filename|hash'");
		v = slice_make(bar + 1, (size_t)(v.p + v.len - bar - 1));
		break;
	case MISP_BTC:
	case MISP_XMR:
	case MISP_AS: {
		const char *pre = misp_types[t].mode == MISP_BTC   ? "btc:"
		                  : misp_types[t].mode == MISP_XMR ? "xmr:"
		                                                   : "AS";
		bool has = misp_types[t].mode == MISP_AS
		                   ? (v.len >= 2 && (v.p[0] == 'A' || v.p[0] == 'a'))
		                   : memchr(v.p, ':', v.len) != NULL;
		if (!has) {
			if (v.len > OBS_VALUE_MAX)
				return diag_set(od, TC_ELIMIT, "longer than %d bytes", OBS_VALUE_MAX);
			int n = snprintf(tmp, sizeof(tmp), "%s%.*s", pre, (int)v.len, v.p);
			if (n < 0 || (size_t)n >= sizeof(tmp))
				return diag_set(od, TC_ELIMIT, "too long");
			v = slice_make(tmp, (size_t)n);
		}
		break;
	}
	}
	(void)r;
	return obs_normalize(r->o->obs, *kind, slice_trim(v), norm, od);
}

static enum tcerr
misp_attribute(struct import__run *r, struct misp_event *ev, const json_t *a, const char *where)
{
	enum tcerr rc = TC_OK, orc;
	struct buf norm, idn;
	struct diag od;
	char extra[32] = "";
	char id[STIX_ID_MAX];
	json_t *obj = NULL;
	struct import__ind in = { 0 };

	if (++ev->attrs > r->max_objects)
		return diag_set(r->d, TC_ELIMIT, "%s: more than %zu attributes", where,
		                r->max_objects);
	if (!json_is_object(a))
		return import__reject(r, where, TC_EINVAL, "not a JSON object");
	if (!r->o->misp_all && !misp_to_ids(json_object_get(a, "to_ids"))) {
		r->c->skipped++;
		return TC_OK;
	}
	const char *type = json_string_value(json_object_get(a, "type"));
	if (!type)
		return import__reject(r, where, TC_EINVAL, "type: missing");
	size_t t;
	for (t = 0; t < sizeof(misp_types) / sizeof(misp_types[0]); t++)
		if (strcmp(type, misp_types[t].type) == 0)
			break;
	if (t == sizeof(misp_types) / sizeof(misp_types[0]))
		return import__reject(r, where, TC_EUNSUPPORTED, "MISP type '%.64s' is not supported",
		                      pan_suspect(slice_from_cstr(type)) ? "(not quoted)" : type);
	const json_t *jv = json_object_get(a, "value");
	if (!json_is_string(jv))
		return import__reject(r, where, TC_EINVAL, "value: not a string");
	struct slice v = slice_make(json_string_value(jv), json_string_length(jv));
	if (v.len > OBS_VALUE_MAX)
		return import__reject(r, where, TC_ELIMIT, "value: longer than %d bytes",
		                      OBS_VALUE_MAX);

	buf_init(&norm, OBS_VALUE_MAX * 4);
	buf_init(&idn, 0);
	diag_clear(&od);
	orc = misp_value(r, t, v, &norm, &in.kind, extra, sizeof(extra), &od);
	if (orc == TC_ENOMEM) {
		rc = diag_set(r->d, orc, "%s: out of memory", where);
		goto out;
	}
	if (orc) {
		rc = import__reject(r, where, orc, "value: %s",
		                    od.msg[0] ? od.msg : "not an observable");
		goto out;
	}
	in.value = buf_slice(&norm);
	in.created_us = ev->time_us;
	misp_time(json_object_get(a, "timestamp"), &in.created_us);
	in.valid_from_us = in.created_us;
	/* Attribute tags can only make the marking stricter than the event's. */
	in.tlp = ev->tlp;
	enum tlp_level at = tags_tlp(a);
	if (at > in.tlp)
		in.tlp = at;
	const json_t *comment = json_object_get(a, "comment");
	if (json_is_string(comment) && json_string_length(comment))
		in.description = slice_make(json_string_value(comment), json_string_length(comment));
	if (extra[0])
		in.extra_desc = extra;

	const char *auuid = json_string_value(json_object_get(a, "uuid"));
	if (auuid && *auuid)
		buf_printf(&idn, "misp-attribute:%s", auuid);
	else {
		buf_printf(&idn, "misp-attribute:%s:%s:", ev->id_base, type);
		buf_append_slice(&idn, in.value);
	}
	in.id_name = buf_slice(&idn);
	if (buf_error(&idn))
		orc = buf_error(&idn);
	else
		orc = import__indicator(&in, &obj, id, &od);
	if (orc == TC_ENOMEM) {
		rc = diag_set(r->d, orc, "%s: out of memory", where);
		goto out;
	}
	if (orc) {
		rc = import__reject(r, where, orc, "%s", od.msg);
		goto out;
	}
	if ((rc = import__emit(r, obj, where)))
		goto out;
	if (json_array_append_new(ev->refs, json_string(id)))
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
out:
	json_decref(obj);
	if (norm.p)
		explicit_bzero(norm.p, norm.cap);
	buf_reset(&norm);
	buf_reset(&idn);
	return rc;
}

static const char *
threat_level(const json_t *v)
{
	const char *s = json_string_value(v);
	long n = s && s[0] && !s[1] ? s[0] - '0' : json_is_integer(v) ? (long)json_integer_value(v) : 0;
	switch (n) {
	case 1: return "threat-level:high";
	case 2: return "threat-level:medium";
	case 3: return "threat-level:low";
	default: return NULL;
	}
}

/* The report that stands for the event, referring to its indicators. */
static enum tcerr
misp_report(struct import__run *r, struct misp_event *ev, const json_t *e, const char *where)
{
	enum tcerr rc = TC_OK;
	struct buf idn;
	char uuid[UUID_TEXT_MAX], id[STIX_ID_MAX], t[TS_TEXT_MAX];
	json_t *o = NULL;
	int bad = 0;

	buf_init(&idn, 0);
	const char *info = json_string_value(json_object_get(e, "info"));
	const char *date = json_string_value(json_object_get(e, "date"));
	if (ev->id_base[0])
		buf_printf(&idn, "misp-event:%s", ev->id_base);
	else
		buf_printf(&idn, "misp-event:%s|%s", info ? info : "", date ? date : "");
	if (buf_error(&idn) || uuid_v5(TOCSIN_UUID_NAMESPACE, buf_slice(&idn), uuid)) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: cannot make an id", where);
		goto out;
	}
	int n = snprintf(id, sizeof(id), "report--%s", uuid);
	if (n < 0 || (size_t)n >= sizeof(id)) {
		rc = diag_set(r->d, TC_EINTERNAL, "%s: id too long", where);
		goto out;
	}
	int64_t published = ev->time_us;
	if (date)
		import__parse_time(slice_from_cstr(date), &published);
	o = json_object();
	if (!o) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		goto out;
	}
	/* STIX 2.1 §4.14: name, published and object_refs are required. */
	bad |= json_object_set_new(o, "type", json_string("report"));
	bad |= json_object_set_new(o, "spec_version", json_string("2.1"));
	bad |= json_object_set_new(o, "id", json_string(id));
	ts_format(ev->time_us, 3, t);
	bad |= json_object_set_new(o, "created", json_string(t));
	bad |= json_object_set_new(o, "modified", json_string(t));
	bad |= json_object_set_new(o, "name", json_string(info && *info ? info : "MISP event"));
	ts_format(published, 3, t);
	bad |= json_object_set_new(o, "published", json_string(t));
	json_t *rt = json_array();
	bad |= !rt || json_array_append_new(rt, json_string("threat-report"));
	bad |= json_object_set_new(o, "report_types", rt);
	bad |= json_object_set(o, "object_refs", ev->refs);
	const char *tl = threat_level(json_object_get(e, "threat_level_id"));
	if (tl) {
		json_t *lab = json_array();
		bad |= !lab || json_array_append_new(lab, json_string(tl));
		bad |= json_object_set_new(o, "labels", lab);
	}
	if (ev->id_base[0]) {
		json_t *ext = json_pack("[{s:s, s:s}]", "source_name", "misp", "external_id",
		                        ev->id_base);
		bad |= !ext || json_object_set_new(o, "external_references", ext);
	}
	const char *mk = stix_tlp_marking_id(ev->tlp);
	if (mk) {
		json_t *refs = json_pack("[s]", mk);
		bad |= !refs || json_object_set_new(o, "object_marking_refs", refs);
	}
	if (bad) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		goto out;
	}
	rc = import__emit(r, o, where);
out:
	json_decref(o);
	buf_reset(&idn);
	return rc;
}

static enum tcerr
misp_event(struct import__run *r, const json_t *e, const char *path, size_t *attrs)
{
	enum tcerr rc = TC_OK;
	char where[IMPORT_WHERE_MAX];
	struct misp_event ev = { .path = path, .time_us = r->csv_time_us };
	size_t i, j;
	const json_t *a, *ob;

	import__where(r, where, ": %s", path);
	if (!json_is_object(e))
		return import__reject(r, where, TC_EINVAL, "not a JSON object");
	ev.attrs = *attrs;
	ev.tlp = tags_tlp(e);
	const char *date = json_string_value(json_object_get(e, "date"));
	if (!misp_time(json_object_get(e, "timestamp"), &ev.time_us) && date)
		import__parse_time(slice_from_cstr(date), &ev.time_us);
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	ev.id_base = uuid ? uuid : "";
	ev.refs = json_array();
	if (!ev.refs)
		return diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);

	json_array_foreach(json_object_get(e, "Attribute"), i, a)
	{
		import__where(r, where, ": %s.Attribute[%zu]", path, i);
		if ((rc = misp_attribute(r, &ev, a, where)))
			goto out;
	}
	json_array_foreach(json_object_get(e, "Object"), j, ob)
	{
		json_array_foreach(json_object_get(ob, "Attribute"), i, a)
		{
			import__where(r, where, ": %s.Object[%zu].Attribute[%zu]", path, j, i);
			if ((rc = misp_attribute(r, &ev, a, where)))
				goto out;
		}
	}
	import__where(r, where, ": %s", path);
	/* A report needs at least one object_refs entry (STIX 2.1 §4.14). */
	if (json_array_size(ev.refs))
		rc = misp_report(r, &ev, e, where);
out:
	*attrs = ev.attrs;
	json_decref(ev.refs);
	return rc;
}

enum tcerr
import__misp(struct import__run *r, const json_t *doc)
{
	enum tcerr rc;
	char path[64];
	size_t i, attrs = 0;
	const json_t *x;

	if (json_is_array(doc)) {
		json_array_foreach(doc, i, x)
		{
			int n = snprintf(path, sizeof(path), "[%zu].Event", i);
			if (n < 0 || (size_t)n >= sizeof(path))
				return TC_EINTERNAL;
			if ((rc = misp_event(r, json_object_get(x, "Event"), path, &attrs)))
				return rc;
		}
		return TC_OK;
	}
	if (!json_is_object(doc))
		return diag_set(r->d, TC_EINVAL, "%s: not a MISP event", r->name);
	const json_t *ev = json_object_get(doc, "Event");
	if (ev)
		return misp_event(r, ev, "Event", &attrs);
	const json_t *resp = json_object_get(doc, "response");
	if (json_is_object(resp))
		return misp_event(r, json_object_get(resp, "Event"), "response.Event", &attrs);
	if (!json_is_array(resp))
		return diag_set(r->d, TC_EINVAL, "%s: neither Event nor response: not a MISP event",
		                r->name);
	json_array_foreach(resp, i, x)
	{
		int n = snprintf(path, sizeof(path), "response[%zu].Event", i);
		if (n < 0 || (size_t)n >= sizeof(path))
			return TC_EINTERNAL;
		if ((rc = misp_event(r, json_object_get(x, "Event"), path, &attrs)))
			return rc;
	}
	return TC_OK;
}
