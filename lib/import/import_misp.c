/*
 * import_misp.c — MISP event JSON (MISP core format) to STIX 2.1.
 *
 * Each attribute marked to_ids of a supported type, in Event.Attribute and
 * Event.Object[].Attribute, becomes one indicator per observable part
 * (composite types are split: "domain|ip" gives a domain and an address
 * indicator; "ip-dst|port", "ip-src|port" and "hostname|port" the address
 * or name with the port in the description; "filename|<hash>" the hash
 * with the file name in the description); the event becomes one report
 * referring to them. Attributes with to_ids false are context, not for
 * detection or blocking: they are not imported (unless opts.misp_all) and
 * each is noted (IMPORT_NOTE_NOT_IDS). Ids are derived from the MISP uuids
 * (and the part, for split types) under the hub's id key (import__uuid)
 * and times come from the MISP
 * timestamps, so importing the same event again gives duplicates; an
 * attribute MISP changed (new timestamp) gives a new version.
 *
 * Kept: TLP tags (tlp:clear/white/green/amber/amber+strict/red) on the
 * event and on an attribute become TLP 2.0 markings, the most restrictive
 * winning; an unknown tlp: tag is refused, never guessed ("tlp:ex:chr",
 * an addition to a level, is a label). Other tags and
 * galaxy clusters become labels (a cluster as its MISP tag name,
 * misp-galaxy:TYPE="VALUE"): the event's on the report, an attribute's on
 * its indicators. The creating organisation (Orgc) becomes an external
 * reference {source_name "misp-orgc", external_id its uuid, description
 * its name} on the report and the indicators: an attribution to read, not
 * created_by_ref, which names the hub organisation that publishes.
 *
 * Malformed input is refused with its place, never coerced: an event
 * whose Attribute, Object, Tag or Galaxy is not a list, whose timestamp is
 * not a Unix time or whose date is not YYYY-MM-DD is rejected whole
 * before anything of it is handed on ("event.json: Event.timestamp: not a
 * Unix time"); an attribute with such a fault (a non-string value, a bad
 * timestamp, a to_ids that is no boolean) is rejected alone
 * ("event.json: Event.Attribute[3].timestamp: not a Unix time"). An event
 * or attribute without a timestamp takes its event's (or the event's
 * date, or IMPORT_FIXED_TIME_US): missing is inherited, not invented.
 *
 * Known gaps: sightings, event reports, attribute relations and
 * first_seen/last_seen are not imported; unsupported types are reported
 * one by one.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"
#include "util/pan.h"

/* Tags plus galaxy clusters kept as labels on one object. */
#define IMPORT_MISP_MAX_LABELS 256
/* Bytes of a member's path inside an event ("Galaxy[1].GalaxyCluster[2]"). */
#define MISP_MEMBER_MAX 128
/* Bytes of a file name kept in a description. */
#define IMPORT_MISP_FILENAME_MAX 255

enum misp_mode {
	MISP_PLAIN = 0,
	MISP_IP,         /* ipv4 or ipv6 by its text */
	MISP_IP_PORT,    /* "addr|port" */
	MISP_HOST_PORT,  /* "name|port" */
	MISP_DOMAIN_IP,  /* "name|addr": two indicators */
	MISP_FILE_HASH,  /* "filename|hash": the hash */
	MISP_BTC,
	MISP_XMR,
	MISP_AS,
};

static const struct {
	const char *type;
	enum obs_kind kind;
	enum misp_mode mode;
	const char *port_of; /* the port's role in the description */
} misp_types[] = {
	{ "ip-dst", OBS_IPV4, MISP_IP, NULL },
	{ "ip-src", OBS_IPV4, MISP_IP, NULL },
	{ "ip-dst|port", OBS_IPV4, MISP_IP_PORT, "destination port" },
	{ "ip-src|port", OBS_IPV4, MISP_IP_PORT, "source port" },
	{ "hostname|port", OBS_DOMAIN, MISP_HOST_PORT, "port" },
	{ "domain|ip", OBS_DOMAIN, MISP_DOMAIN_IP, NULL },
	{ "domain", OBS_DOMAIN, MISP_PLAIN, NULL },
	{ "hostname", OBS_DOMAIN, MISP_PLAIN, NULL },
	{ "url", OBS_URL, MISP_PLAIN, NULL },
	{ "email", OBS_EMAIL, MISP_PLAIN, NULL },
	{ "email-src", OBS_EMAIL, MISP_PLAIN, NULL },
	{ "email-dst", OBS_EMAIL, MISP_PLAIN, NULL },
	{ "email-reply-to", OBS_EMAIL, MISP_PLAIN, NULL },
	{ "whois-registrant-email", OBS_EMAIL, MISP_PLAIN, NULL },
	{ "md5", OBS_MD5, MISP_PLAIN, NULL },
	{ "sha1", OBS_SHA1, MISP_PLAIN, NULL },
	{ "sha256", OBS_SHA256, MISP_PLAIN, NULL },
	{ "sha512", OBS_SHA512, MISP_PLAIN, NULL },
	{ "filename|md5", OBS_MD5, MISP_FILE_HASH, NULL },
	{ "filename|sha1", OBS_SHA1, MISP_FILE_HASH, NULL },
	{ "filename|sha256", OBS_SHA256, MISP_FILE_HASH, NULL },
	{ "filename|sha512", OBS_SHA512, MISP_FILE_HASH, NULL },
	{ "phone-number", OBS_PHONE, MISP_PLAIN, NULL },
	{ "iban", OBS_BANK_ACCOUNT, MISP_PLAIN, NULL },
	{ "bank-account-nr", OBS_BANK_ACCOUNT, MISP_PLAIN, NULL },
	{ "cc-number", OBS_CARD, MISP_PLAIN, NULL },
	{ "btc", OBS_WALLET, MISP_BTC, NULL },
	{ "xmr", OBS_WALLET, MISP_XMR, NULL },
	{ "AS", OBS_ASN, MISP_AS, NULL },
};

struct misp_event {
	const char *path;      /* "Event", "response[0].Event" */
	enum tlp_level tlp;
	int64_t time_us;       /* event timestamp, else date, else fixed */
	const char *id_base;   /* event uuid or "" */
	json_t *refs;          /* indicator ids made */
	json_t *orgc;          /* external_references with the Orgc, or NULL */
	size_t attrs;          /* attributes seen, for the limit */
};

/* MISP timestamps are epoch seconds (RFC draft "MISP core format":
 * "seconds (decimal) since 1st of January 1970"), as a string or a
 * number. Returns false for anything else. */
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

/* to_ids: a boolean, or as older exports write it 0/1 or "0"/"1". OUT:
 * *on. Returns false if v is none of these. */
static bool
misp_to_ids(const json_t *v, bool *on)
{
	if (json_is_boolean(v)) {
		*on = json_is_true(v);
		return true;
	}
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
		*on = json_integer_value(v) == 1;
		return true;
	}
	const char *s = json_string_value(v);
	if (s && (strcmp(s, "0") == 0 || strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
	          strcmp(s, "false") == 0)) {
		*on = strcmp(s, "1") == 0 || strcmp(s, "true") == 0;
		return true;
	}
	return false;
}

/* A member that must be a list if present. */
static bool
list_or_absent(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return !v || json_is_array(v);
}

/* Writes "where.member" into out. */
static void
where_member(const char *where, const char *member, char out[IMPORT_WHERE_MAX])
{
	int n = snprintf(out, IMPORT_WHERE_MAX, "%s.%s", where, member);
	if (n < 0 || n >= IMPORT_WHERE_MAX)
		memcpy(out + IMPORT_WHERE_MAX - 4, "...", 4);
}

/* Adds s to the label array unless it is there. Returns 0, or -1 out of
 * memory. */
static int
label_add(json_t *labels, const char *s)
{
	size_t i;
	const json_t *v;
	json_array_foreach(labels, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0)
			return 0;
	}
	json_t *n = json_string(s);
	return !n || json_array_append_new(labels, n) ? -1 : 0;
}

/*
 * The tags and galaxies of o (an event or an attribute): TLP tags into
 * *tlp (the most restrictive), the others and every galaxy cluster into
 * labels. Checks their shape. Returns NULL, or the problem with its
 * member in member[] ("Tag[2].name") and the reason.
 */
static const char *
misp_tags(const json_t *o, enum tlp_level *tlp, json_t *labels, char member[MISP_MEMBER_MAX])
{
	size_t i, j, k;
	const json_t *t, *g, *cl;

	*tlp = TLP_NONE;
	if (!list_or_absent(o, "Tag")) {
		snprintf(member, MISP_MEMBER_MAX, "Tag");
		return "not a list";
	}
	json_array_foreach(json_object_get(o, "Tag"), i, t)
	{
		const json_t *nm = json_object_get(t, "name");
		snprintf(member, MISP_MEMBER_MAX, "Tag[%zu].name", i);
		if (!json_is_object(t) || !json_is_string(nm))
			return "not a string";
		const char *name = json_string_value(nm);
		/* MISP's tlp taxonomy also has "tlp:ex:chr" (Chatham House
		 * rule), an addition to a level, not one: kept as a label. */
		if (strncasecmp(name, "tlp:", 4) == 0 && strncasecmp(name, "tlp:ex:", 7) != 0) {
			enum tlp_level l;
			if (import__parse_tlp(slice_from_cstr(name), &l) != TC_OK)
				return "not a TLP 2.0 tag (tlp:clear, green, amber, amber+strict, "
				       "red; tlp:white)";
			if (l > *tlp)
				*tlp = l;
			continue;
		}
		if (!*name)
			return "empty";
		if (json_array_size(labels) >= IMPORT_MISP_MAX_LABELS)
			return "more tags and galaxy clusters than the limit";
		if (label_add(labels, name))
			return "out of memory";
	}
	if (!list_or_absent(o, "Galaxy")) {
		snprintf(member, MISP_MEMBER_MAX, "Galaxy");
		return "not a list";
	}
	json_array_foreach(json_object_get(o, "Galaxy"), j, g)
	{
		snprintf(member, MISP_MEMBER_MAX, "Galaxy[%zu]", j);
		if (!json_is_object(g))
			return "not an object";
		if (!list_or_absent(g, "GalaxyCluster")) {
			snprintf(member, MISP_MEMBER_MAX, "Galaxy[%zu].GalaxyCluster", j);
			return "not a list";
		}
		const char *gtype = json_string_value(json_object_get(g, "type"));
		json_array_foreach(json_object_get(g, "GalaxyCluster"), k, cl)
		{
			char lab[512];
			const char *tag = json_string_value(json_object_get(cl, "tag_name"));
			const char *value = json_string_value(json_object_get(cl, "value"));
			const char *ctype = json_string_value(json_object_get(cl, "type"));
			snprintf(member, MISP_MEMBER_MAX, "Galaxy[%zu].GalaxyCluster[%zu]", j, k);
			if (!json_is_object(cl))
				return "not an object";
			if (tag && *tag) {
				int n = snprintf(lab, sizeof(lab), "%s", tag);
				if (n < 0 || (size_t)n >= sizeof(lab))
					return "tag_name too long";
			} else if (value && *value) {
				/* MISP's own tag form of a cluster. */
				int n = snprintf(lab, sizeof(lab), "misp-galaxy:%s=\"%s\"",
				                 ctype ? ctype : gtype ? gtype : "cluster", value);
				if (n < 0 || (size_t)n >= sizeof(lab))
					return "value too long";
			} else {
				return "neither tag_name nor value";
			}
			if (json_array_size(labels) >= IMPORT_MISP_MAX_LABELS)
				return "more tags and galaxy clusters than the limit";
			if (label_add(labels, lab))
				return "out of memory";
		}
	}
	return NULL;
}

/* A port: 1-65535, digits only. */
static bool
misp_port(struct slice s, unsigned *port)
{
	unsigned v = 0;
	s = slice_trim(s);
	if (!s.len || s.len > 5)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = v;
	return true;
}

/* One observable part of an attribute. */
struct misp_part {
	enum obs_kind kind;
	struct slice text;     /* as in the attribute, before normalising */
	const char *suffix;    /* id suffix for split types, or NULL */
};

/* Splits the attribute value by its MISP type. OUT: parts[0..*n), extra
 * (text for the description). Returns NULL or why the value is
 * malformed. */
static const char *
misp_split(size_t t, struct slice v, char *tmp, size_t tmplen, struct misp_part parts[2],
           size_t *n, struct buf *extra)
{
	const char *bar = memchr(v.p, '|', v.len);
	struct slice left = v, right = { NULL, 0 };
	unsigned port;

	if (bar) {
		left = slice_make(v.p, (size_t)(bar - v.p));
		right = slice_make(bar + 1, (size_t)(v.p + v.len - bar - 1));
	}
	*n = 1;
	parts[0] = (struct misp_part){ misp_types[t].kind, v, NULL };
	switch (misp_types[t].mode) {
	case MISP_PLAIN:
		return NULL;
	case MISP_IP:
		if (memchr(v.p, ':', v.len))
			parts[0].kind = OBS_IPV6;
		return NULL;
	case MISP_IP_PORT:
	case MISP_HOST_PORT:
		if (!bar)
			return misp_types[t].mode == MISP_IP_PORT ? "expected 'address|port'"
			                                          : "expected 'hostname|port'";
		if (!misp_port(right, &port))
			return "port: not a number from 1 to 65535";
		parts[0].text = left;
		if (misp_types[t].mode == MISP_IP_PORT && memchr(left.p, ':', left.len))
			parts[0].kind = OBS_IPV6;
		buf_printf(extra, "(%s %u)", misp_types[t].port_of, port);
		return NULL;
	case MISP_DOMAIN_IP:
		if (!bar)
			return "expected 'domain|ip'";
		*n = 2;
		parts[0] = (struct misp_part){ OBS_DOMAIN, left, "domain" };
		parts[1] = (struct misp_part){ memchr(right.p, ':', right.len) ? OBS_IPV6 : OBS_IPV4,
			                       right, "ip" };
		buf_append_cstr(extra, "(");
		buf_append_slice(extra, slice_trim(left));
		buf_append_cstr(extra, " resolves to ");
		buf_append_slice(extra, slice_trim(right));
		buf_append_cstr(extra, ")");
		return NULL;
	case MISP_FILE_HASH:
		if (!bar)
			return "expected 'filename|hash'";
		parts[0].text = right;
		if (left.len) {
			buf_append_cstr(extra, "(file name ");
			size_t fl = left.len;
			if (fl > IMPORT_MISP_FILENAME_MAX) {
				/* cut at a character boundary */
				fl = IMPORT_MISP_FILENAME_MAX;
				while (fl && ((unsigned char)left.p[fl] & 0xc0) == 0x80)
					fl--;
			}
			buf_append_slice(extra, slice_make(left.p, fl));
			buf_append_cstr(extra, ")");
		}
		return NULL;
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
			int k = snprintf(tmp, tmplen, "%s%.*s", pre, (int)v.len, v.p);
			if (k < 0 || (size_t)k >= tmplen)
				return "too long";
			parts[0].text = slice_make(tmp, (size_t)k);
		}
		return NULL;
	}
	}
	return NULL;
}

/* Makes and hands on the indicator of one part. */
static enum tcerr
misp_part_indicator(struct import__run *r, struct misp_event *ev, const json_t *a,
                    const char *type, const struct misp_part *pt, struct import_ind *in,
                    const char *where)
{
	enum tcerr rc = TC_OK, orc;
	struct buf norm, idn, fanged;
	struct diag od;
	char id[STIX_ID_MAX];
	json_t *obj = NULL;
	struct slice text = slice_trim(pt->text);
	bool refanged;

	buf_init(&norm, OBS_VALUE_MAX * 4);
	buf_init(&idn, 0);
	buf_init(&fanged, OBS_VALUE_MAX);
	diag_clear(&od);
	refanged = import__refang(text, &fanged);
	if (refanged) {
		if (buf_error(&fanged)) {
			rc = buf_error(&fanged) == TC_ENOMEM
			             ? diag_set(r->d, TC_ENOMEM, "%s: out of memory", where)
			             : import__reject(r, where, TC_ELIMIT, "value: longer than %d bytes",
			                              OBS_VALUE_MAX);
			goto out;
		}
		text = buf_slice(&fanged);
	}
	orc = obs_normalize(r->o->obs, pt->kind, text, &norm, &od);
	if (orc == TC_ENOMEM) {
		rc = diag_set(r->d, orc, "%s: out of memory", where);
		goto out;
	}
	if (orc) {
		rc = import__reject(r, where, orc, "value: %s",
		                    od.msg[0] ? od.msg : "not an observable");
		goto out;
	}
	in->kind = pt->kind;
	in->value = buf_slice(&norm);

	const char *auuid = json_string_value(json_object_get(a, "uuid"));
	if (auuid && *auuid)
		buf_printf(&idn, "misp-attribute:%s", auuid);
	else {
		buf_printf(&idn, "misp-attribute:%s:%s:", ev->id_base, type);
		buf_append_slice(&idn, in->value);
	}
	if (pt->suffix)
		buf_printf(&idn, ":%s", pt->suffix);
	in->id_name = buf_slice(&idn);
	in->id_key = r->o->id_key;
	in->id_key_len = r->o->id_key_len;
	if (buf_error(&idn))
		orc = buf_error(&idn);
	else
		orc = import__indicator(in, &obj, id, &od);
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
	if (json_array_append_new(ev->refs, json_string(id))) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		goto out;
	}
	if (refanged)
		rc = import__note(r, where, IMPORT_NOTE_REFANGED, "defanged value re-fanged to '%.*s'",
		                  in->kind == OBS_CARD ? 4 : (int)in->value.len,
		                  in->kind == OBS_CARD ? "card" : in->value.p);
out:
	json_decref(obj);
	if (norm.p)
		explicit_bzero(norm.p, norm.cap);
	buf_reset(&norm);
	if (fanged.p)
		explicit_bzero(fanged.p, fanged.cap);
	buf_reset(&fanged);
	buf_reset(&idn);
	return rc;
}

static enum tcerr
misp_attribute(struct import__run *r, struct misp_event *ev, const json_t *a, const char *where)
{
	enum tcerr rc = TC_OK;
	char at[IMPORT_WHERE_MAX], member[MISP_MEMBER_MAX];
	char tmp[OBS_VALUE_MAX + 8];
	struct buf extra;
	json_t *labels = NULL;
	struct import_ind in = { 0 };
	struct misp_part parts[2];
	size_t nparts = 0;
	bool ids = false;
	const char *bad;

	if (++ev->attrs > r->max_objects)
		return diag_set(r->d, TC_ELIMIT, "%s: more than %zu attributes", where,
		                r->max_objects);
	if (!json_is_object(a))
		return import__reject(r, where, TC_EINVAL, "not a JSON object");

	/* The shape first: a malformed attribute is rejected whatever its
	 * to_ids says. */
	static const char *const strings[] = { "type", "value", "uuid", "comment", "category" };
	for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
		const json_t *v = json_object_get(a, strings[k]);
		if ((v || k < 2) && !json_is_string(v)) {
			where_member(where, strings[k], at);
			return import__reject(r, at, TC_EINVAL, v ? "not a string" : "missing");
		}
	}
	const json_t *ts = json_object_get(a, "timestamp");
	in.created_us = ev->time_us;
	if (ts && !misp_time(ts, &in.created_us)) {
		where_member(where, "timestamp", at);
		return import__reject(r, at, TC_EINVAL, "not a Unix time (seconds since 1970)");
	}
	const json_t *ti = json_object_get(a, "to_ids");
	if (ti && !misp_to_ids(ti, &ids)) {
		where_member(where, "to_ids", at);
		return import__reject(r, at, TC_EINVAL, "not a boolean");
	}
	labels = json_array();
	if (!labels)
		return diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
	enum tlp_level atlp;
	if ((bad = misp_tags(a, &atlp, labels, member))) {
		json_decref(labels);
		if (strcmp(bad, "out of memory") == 0)
			return diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		where_member(where, member, at);
		return import__reject(r, at, TC_EINVAL, "%s", bad);
	}

	const char *type = json_string_value(json_object_get(a, "type"));
	if (!r->o->misp_all && !ids) {
		json_decref(labels);
		return import__note(r, where, IMPORT_NOTE_NOT_IDS,
		                    "%.64s attribute with to_ids false: context, not for detection; "
		                    "not imported",
		                    type);
	}
	size_t t;
	for (t = 0; t < sizeof(misp_types) / sizeof(misp_types[0]); t++)
		if (strcmp(type, misp_types[t].type) == 0)
			break;
	if (t == sizeof(misp_types) / sizeof(misp_types[0])) {
		json_decref(labels);
		return import__reject(r, where, TC_EUNSUPPORTED, "MISP type '%.64s' is not supported",
		                      pan_suspect(slice_from_cstr(type)) ? "(not quoted)" : type);
	}
	const json_t *jv = json_object_get(a, "value");
	struct slice v = slice_make(json_string_value(jv), json_string_length(jv));
	if (v.len > OBS_VALUE_MAX * 2) {
		json_decref(labels);
		return import__reject(r, where, TC_ELIMIT, "value: longer than %d bytes",
		                      OBS_VALUE_MAX * 2);
	}
	buf_init(&extra, 0);
	if ((bad = misp_split(t, v, tmp, sizeof(tmp), parts, &nparts, &extra))) {
		rc = import__reject(r, where, TC_EINVAL, "value: %s", bad);
		goto out;
	}
	if (buf_error(&extra)) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		goto out;
	}

	in.valid_from_us = in.created_us;
	/* Attribute tags can only make the marking stricter than the event's. */
	in.tlp = ev->tlp > atlp ? ev->tlp : atlp;
	in.labels = labels;
	in.ext_refs = ev->orgc;
	const json_t *comment = json_object_get(a, "comment");
	if (json_is_string(comment) && json_string_length(comment))
		in.description = slice_make(json_string_value(comment), json_string_length(comment));
	if (extra.len)
		in.extra_desc = extra.p;
	for (size_t k = 0; k < nparts && rc == TC_OK; k++)
		rc = misp_part_indicator(r, ev, a, type, &parts[k], &in, where);
out:
	json_decref(labels);
	buf_reset(&extra);
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
misp_report(struct import__run *r, struct misp_event *ev, const json_t *e, json_t *labels,
            const char *where)
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
	if (buf_error(&idn) || import__uuid(r->o->id_key, r->o->id_key_len, buf_slice(&idn), uuid)) {
		rc = diag_set(r->d, buf_error(&idn) ? TC_ENOMEM : TC_EINVAL, "%s: cannot make an id", where);
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
	json_t *lab = json_array();
	bad |= !lab;
	if (lab && tl)
		bad |= json_array_append_new(lab, json_string(tl));
	/* the event's tags and galaxy clusters */
	if (lab)
		bad |= json_array_extend(lab, labels);
	if (lab && json_array_size(lab))
		bad |= json_object_set(o, "labels", lab);
	json_decref(lab);
	json_t *ext = json_array();
	bad |= !ext;
	if (ext && ev->id_base[0])
		bad |= json_array_append_new(ext, json_pack("{s:s, s:s}", "source_name", "misp",
		                                             "external_id", ev->id_base));
	if (ext && ev->orgc)
		bad |= json_array_extend(ext, ev->orgc);
	if (ext && json_array_size(ext))
		bad |= json_object_set(o, "external_references", ext);
	json_decref(ext);
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

/* The Orgc as an external reference list, or NULL if the event has none.
 * OUT: *out (new reference or NULL). Returns NULL or why Orgc is
 * malformed (member names the place). */
static const char *
misp_orgc(const json_t *e, json_t **out, char member[MISP_MEMBER_MAX])
{
	const json_t *o = json_object_get(e, "Orgc");
	*out = NULL;
	if (!o)
		return NULL;
	if (!json_is_object(o)) {
		snprintf(member, MISP_MEMBER_MAX, "Orgc");
		return "not an object";
	}
	const json_t *name = json_object_get(o, "name"), *uuid = json_object_get(o, "uuid");
	if (name && !json_is_string(name)) {
		snprintf(member, MISP_MEMBER_MAX, "Orgc.name");
		return "not a string";
	}
	if (uuid && !json_is_string(uuid)) {
		snprintf(member, MISP_MEMBER_MAX, "Orgc.uuid");
		return "not a string";
	}
	if (!json_string_length(name) && !json_string_length(uuid))
		return NULL;
	json_t *ref = json_object();
	json_t *arr = json_array();
	int bad = !ref || !arr;
	if (!bad) {
		/* STIX 2.1 §2.5: source_name and one of description, url,
		 * external_id. */
		bad |= json_object_set_new(ref, "source_name", json_string("misp-orgc"));
		if (json_string_length(name))
			bad |= json_object_set(ref, "description", (json_t *)name);
		if (json_string_length(uuid))
			bad |= json_object_set(ref, "external_id", (json_t *)uuid);
		bad |= json_array_append(arr, ref);
	}
	json_decref(ref);
	if (bad) {
		json_decref(arr);
		return "out of memory";
	}
	*out = arr;
	return NULL;
}

/* Checks the event's own shape (not its attributes'). Returns NULL or
 * why, with the member in member[]. */
static const char *
misp_check_event(const json_t *e, int64_t *time_us, char member[MISP_MEMBER_MAX])
{
	static const char *const strings[] = { "info", "uuid", "date" };
	for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
		const json_t *v = json_object_get(e, strings[k]);
		if (v && !json_is_string(v)) {
			snprintf(member, MISP_MEMBER_MAX, "%s", strings[k]);
			return "not a string";
		}
	}
	if (!list_or_absent(e, "Attribute")) {
		snprintf(member, MISP_MEMBER_MAX, "Attribute");
		return "not a list (MISP core format: Attribute is an array)";
	}
	if (!list_or_absent(e, "Object")) {
		snprintf(member, MISP_MEMBER_MAX, "Object");
		return "not a list (MISP core format: Object is an array)";
	}
	size_t j;
	const json_t *ob;
	json_array_foreach(json_object_get(e, "Object"), j, ob)
	{
		if (!json_is_object(ob)) {
			snprintf(member, MISP_MEMBER_MAX, "Object[%zu]", j);
			return "not an object";
		}
		if (!list_or_absent(ob, "Attribute")) {
			snprintf(member, MISP_MEMBER_MAX, "Object[%zu].Attribute", j);
			return "not a list (MISP core format: Attribute is an array)";
		}
	}
	const json_t *ts = json_object_get(e, "timestamp");
	const char *date = json_string_value(json_object_get(e, "date"));
	int64_t day;
	if (date && (strlen(date) != 10 || import__parse_time(slice_from_cstr(date), &day))) {
		snprintf(member, MISP_MEMBER_MAX, "date");
		return "not a YYYY-MM-DD date";
	}
	if (ts && !misp_time(ts, time_us)) {
		snprintf(member, MISP_MEMBER_MAX, "timestamp");
		return "not a Unix time (seconds since 1970)";
	}
	if (!ts && date)
		*time_us = day;
	return NULL;
}

static enum tcerr
misp_event(struct import__run *r, const json_t *e, const char *path, size_t *attrs)
{
	enum tcerr rc = TC_OK;
	char where[IMPORT_WHERE_MAX], member[MISP_MEMBER_MAX] = "";
	struct misp_event ev = { .path = path, .time_us = r->csv_time_us };
	size_t i, j;
	const json_t *a, *ob;
	json_t *labels = NULL;
	const char *bad;

	import__where(r, where, ": %s", path);
	if (!json_is_object(e))
		return import__reject(r, where, TC_EINVAL, "not a JSON object");
	/* The whole event's shape before any of it is handed on: a malformed
	 * event is refused whole, with the place. */
	if (!(labels = json_array()))
		return diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
	if (!(bad = misp_check_event(e, &ev.time_us, member)) &&
	    !(bad = misp_tags(e, &ev.tlp, labels, member)))
		bad = misp_orgc(e, &ev.orgc, member);
	if (bad) {
		json_decref(labels);
		if (strcmp(bad, "out of memory") == 0)
			return diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		import__where(r, where, ": %s%s%s", path, path[0] ? "." : "", member);
		return import__reject(r, where, TC_EINVAL, "%s", bad);
	}
	ev.attrs = *attrs;
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	ev.id_base = uuid ? uuid : "";
	ev.refs = json_array();
	if (!ev.refs) {
		rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
		goto out;
	}

	json_array_foreach(json_object_get(e, "Attribute"), i, a)
	{
		import__where(r, where, ": %s%sAttribute[%zu]", path, path[0] ? "." : "", i);
		if ((rc = misp_attribute(r, &ev, a, where)))
			goto out;
	}
	json_array_foreach(json_object_get(e, "Object"), j, ob)
	{
		json_array_foreach(json_object_get(ob, "Attribute"), i, a)
		{
			import__where(r, where, ": %s%sObject[%zu].Attribute[%zu]", path,
			              path[0] ? "." : "", j, i);
			if ((rc = misp_attribute(r, &ev, a, where)))
				goto out;
		}
	}
	import__where(r, where, path[0] ? ": %s" : "%s", path);
	/* A report needs at least one object_refs entry (STIX 2.1 §4.14). */
	if (json_array_size(ev.refs))
		rc = misp_report(r, &ev, e, labels, where);
out:
	*attrs = ev.attrs;
	json_decref(ev.refs);
	json_decref(ev.orgc);
	json_decref(labels);
	return rc;
}

/* An event without its {"Event": ...} wrapper: what MISP's API answers
 * for a single event in some versions, and what hand-made files hold. */
static bool
is_bare_event(const json_t *x)
{
	return json_is_object(x) && !json_object_get(x, "Event") && json_object_get(x, "info") &&
	       (json_object_get(x, "Attribute") || json_object_get(x, "Object"));
}

/* One element of a list of events: {"Event": {...}} or a bare event. */
static enum tcerr
misp_list_item(struct import__run *r, const json_t *x, const char *prefix, size_t i,
               size_t *attrs)
{
	char path[64];
	bool bare = is_bare_event(x);
	int n = snprintf(path, sizeof(path), "%s[%zu]%s", prefix, i, bare ? "" : ".Event");
	if (n < 0 || (size_t)n >= sizeof(path))
		return diag_set(r->d, TC_EINTERNAL, "%s: path too long", r->name);
	return misp_event(r, bare ? x : json_object_get(x, "Event"), path, attrs);
}

enum tcerr
import__misp(struct import__run *r, const json_t *doc)
{
	enum tcerr rc;
	size_t i, attrs = 0;
	const json_t *x;

	if (json_is_array(doc)) {
		json_array_foreach(doc, i, x)
		{
			if ((rc = misp_list_item(r, x, "", i, &attrs)))
				return rc;
		}
		return TC_OK;
	}
	if (!json_is_object(doc))
		return diag_set(r->d, TC_EINVAL, "%s: not a MISP event", r->name);
	const json_t *ev = json_object_get(doc, "Event");
	if (ev)
		return misp_event(r, ev, "Event", &attrs);
	if (is_bare_event(doc))
		return misp_event(r, doc, "", &attrs);
	const json_t *resp = json_object_get(doc, "response");
	if (json_is_object(resp))
		return misp_event(r, is_bare_event(resp) ? resp : json_object_get(resp, "Event"),
		                  is_bare_event(resp) ? "response" : "response.Event", &attrs);
	if (!json_is_array(resp))
		return diag_set(r->d, TC_EINVAL,
		                "%s: neither Event, response nor an event's info and Attribute: not "
		                "a MISP event",
		                r->name);
	json_array_foreach(resp, i, x)
	{
		if ((rc = misp_list_item(r, x, "response", i, &attrs)))
			return rc;
	}
	return TC_OK;
}
