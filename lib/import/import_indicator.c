/*
 * import_indicator.c — the STIX 2.1 indicator an import makes from one
 * observable (a CSV row, a MISP attribute).
 *
 * The indicator is a pure function of its inputs: the id is derived from
 * id_name under the hub's id key (import__uuid; without a key, UUIDv5 in
 * TOCSIN_UUID_NAMESPACE) and every timestamp comes from the input, never from the clock, so the same input gives the same object
 * byte for byte. Its name shows the normalised value, which for a payment
 * card is the keyed hash: the PAN never reaches an object.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"

static int
set_text(json_t *o, const char *key, const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	if (!v)
		return -1;
	return json_object_set_new(o, key, v);
}

static int
set_time(json_t *o, const char *key, int64_t us)
{
	char t[TS_TEXT_MAX];
	int n = ts_format(us, 3, t);
	return set_text(o, key, t, (size_t)n);
}

enum tcerr
import__uuid(const uint8_t *key, size_t keylen, struct slice name, char out[UUID_TEXT_MAX])
{
	if (key)
		return uuid_keyed(key, keylen, name, out);
	return uuid_v5(TOCSIN_UUID_NAMESPACE, name, out);
}

enum tcerr
import__indicator(const struct import_ind *in, json_t **out, char id[STIX_ID_MAX],
                  struct diag *d)
{
	enum tcerr rc = TC_OK;
	struct buf b;
	char uuid[UUID_TEXT_MAX];
	json_t *o = NULL;
	int bad = 0;

	*out = NULL;
	buf_init(&b, 0);
	if ((rc = import__uuid(in->id_key, in->id_key_len, in->id_name, uuid)))
		return diag_set(d, rc, "cannot make an id");
	int n = snprintf(id, STIX_ID_MAX, "indicator--%s", uuid);
	if (n < 0 || n >= STIX_ID_MAX)
		return diag_set(d, TC_EINTERNAL, "id too long");
	o = json_object();
	if (!o)
		return diag_set(d, TC_ENOMEM, "out of memory");
	/* STIX 2.1 §4.7: type, spec_version, id, created, modified, pattern,
	 * pattern_type, valid_from are required. */
	bad |= set_text(o, "type", "indicator", 9);
	bad |= set_text(o, "spec_version", "2.1", 3);
	bad |= set_text(o, "id", id, strlen(id));
	bad |= set_time(o, "created", in->created_us);
	bad |= set_time(o, "modified", in->created_us);

	const char *kname = obs_kind_name(in->kind);
	if (in->name.p && in->name.len) {
		buf_append_slice(&b, in->name);
	} else {
		buf_printf(&b, "%s ", kname);
		buf_append_slice(&b, in->value);
	}
	if (buf_error(&b)) {
		rc = diag_set(d, buf_error(&b), "name too long");
		goto out;
	}
	json_t *nv = json_stringn(b.p, b.len);
	if (!nv) {
		rc = diag_set(d, TC_EINVAL, "name: not valid UTF-8");
		goto out;
	}
	bad |= json_object_set_new(o, "name", nv);
	if (in->description.p || in->extra_desc) {
		buf_clear(&b);
		if (in->description.p)
			buf_append_slice(&b, in->description);
		if (in->extra_desc) {
			if (b.len)
				buf_append_cstr(&b, " ");
			buf_append_cstr(&b, in->extra_desc);
		}
		if (buf_error(&b)) {
			rc = diag_set(d, buf_error(&b), "description too long");
			goto out;
		}
		json_t *v = json_stringn(b.p, b.len);
		if (!v) {
			rc = diag_set(d, TC_EINVAL, "description: not valid UTF-8");
			goto out;
		}
		bad |= json_object_set_new(o, "description", v);
	}
	json_t *types = json_array();
	if (!types || json_array_append_new(types, json_string("malicious-activity")))
		bad = -1;
	bad |= json_object_set_new(o, "indicator_types", types);

	buf_clear(&b);
	obs_to_pattern(in->kind, in->value, &b);
	if (buf_error(&b)) {
		rc = diag_set(d, buf_error(&b), "pattern too long");
		goto out;
	}
	bad |= set_text(o, "pattern", b.p, b.len);
	bad |= set_text(o, "pattern_type", "stix", 4);
	bad |= set_time(o, "valid_from", in->valid_from_us);
	if (in->valid_until_us)
		bad |= set_time(o, "valid_until", in->valid_until_us);
	if (in->labels && json_array_size(in->labels))
		bad |= json_object_set(o, "labels", in->labels);
	if (in->has_confidence)
		bad |= json_object_set_new(o, "confidence", json_integer(in->confidence));
	if (in->ext_refs && json_array_size(in->ext_refs))
		bad |= json_object_set(o, "external_references", in->ext_refs);
	const char *mk = stix_tlp_marking_id(in->tlp);
	if (mk) {
		json_t *refs = json_array();
		if (!refs || json_array_append_new(refs, json_string(mk)))
			bad = -1;
		bad |= json_object_set_new(o, "object_marking_refs", refs);
	}
	if (bad) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	buf_reset(&b);
	return rc;
}

/* Defanging marks, each restored to what it stands for. */
static const struct {
	const char *from, *to;
} fang_marks[] = {
	{ "[.]", "." },   { "(.)", "." },   { "{.}", "." },   { "[dot]", "." },
	{ "(dot)", "." }, { "{dot}", "." }, { "[://]", "://" }, { "[:]", ":" },
	{ "[/]", "/" },   { "[@]", "@" },   { "[at]", "@" },  { "(at)", "@" },
	{ "{at}", "@" },
};

bool
import__refang(struct slice in, struct buf *out)
{
	bool changed = false;
	size_t i = 0;

	buf_clear(out);
	/* hxxp:// and hxxps:// (any case) at the start: the scheme. */
	if (in.len >= 4 && strncasecmp(in.p, "hxxp", 4) == 0) {
		buf_append_cstr(out, "http");
		i = 4;
		changed = true;
	}
	while (i < in.len) {
		char c = in.p[i];
		if (c == '[' || c == '(' || c == '{') {
			size_t k;
			for (k = 0; k < sizeof(fang_marks) / sizeof(fang_marks[0]); k++) {
				size_t n = strlen(fang_marks[k].from);
				if (n <= in.len - i && strncasecmp(in.p + i, fang_marks[k].from, n) == 0)
					break;
			}
			if (k < sizeof(fang_marks) / sizeof(fang_marks[0])) {
				buf_append_cstr(out, fang_marks[k].to);
				i += strlen(fang_marks[k].from);
				changed = true;
				continue;
			}
		}
		buf_append_char(out, c);
		i++;
	}
	return changed;
}

enum tcerr
import__parse_time(struct slice s, int64_t *us)
{
	s = slice_trim(s);
	if (s.len == 10) {
		/* "YYYY-MM-DD": midnight UTC. */
		char t[TS_TEXT_MAX];
		memcpy(t, s.p, 10);
		memcpy(t + 10, "T00:00:00Z", 10);
		return ts_parse(slice_make(t, 20), us, NULL);
	}
	return ts_parse(s, us, NULL);
}

enum tcerr
import__parse_tlp(struct slice s, enum tlp_level *out)
{
	char t[32];
	s = slice_trim(s);
	if (s.len >= sizeof(t))
		return TC_EINVAL;
	for (size_t i = 0; i < s.len; i++)
		t[i] = (char)tolower((unsigned char)s.p[i]);
	t[s.len] = '\0';
	const char *name = t;
	if (strncmp(name, "tlp:", 4) == 0)
		name += 4;
	/* TLP 2.0: WHITE became CLEAR. */
	if (strcmp(name, "white") == 0)
		name = "clear";
	if (strcmp(name, "none") == 0)
		return TC_EINVAL;
	return stix_tlp_parse(name, out);
}

enum tcerr
import_indicator(const struct import_ind *in, json_t **out, char id[STIX_ID_MAX], struct diag *d)
{
	return import__indicator(in, out, id, d);
}

enum tcerr
import_id(const uint8_t *key, size_t keylen, struct slice name, char out[37])
{
	return import__uuid(key, keylen, name, out);
}

bool
import_refang(struct slice in, struct buf *out)
{
	return import__refang(in, out);
}

enum tcerr
import_tlp_parse(struct slice s, enum tlp_level *out)
{
	return import__parse_tlp(s, out);
}
