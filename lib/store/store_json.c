/*
 * store_json.c — comparing two stored texts of one object version, for
 * both backends (store__same_json in store_backend.h).
 *
 * A version is kept as the JSON text it was received in (without
 * insignificant whitespace), so the same object may come back with its
 * keys in another order or its strings escaped otherwise: it is the same
 * version, a duplicate. The comparison is by bytes first and then by the
 * RFC 8785 (JCS) canonical form, which also makes 1.0 and 1 the same
 * number. The hub's signed provenance (docs/federation.md) is left out of
 * the comparison: a version posted again is signed in another batch, and
 * it is still the same version. Kept apart from store.c, whose own uuid_v4
 * would clash with stix_id.h's.
 */
#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "prov/prov.h"
#include "stix/stix_id.h"
#include "store/store_backend.h"
/* Canonical text of one stored object into out; false if it does not
 * parse. */
static bool
canonical(struct slice s, struct buf *out)
{
	json_t *v = json_loadb(s.p, s.len, JSON_DECODE_ANY, NULL);
	if (!v)
		return false;
	json_t *ext = json_object_get(v, "extensions");
	if (json_is_object(ext) && json_object_get(ext, PROV_EXT_ID)) {
		json_object_del(ext, PROV_EXT_ID);
		if (json_object_size(ext) == 0)
			json_object_del(v, "extensions");
	}
	jcs_append(out, v);
	json_decref(v);
	return true;
}

/* The length of text before the hub's provenance when the writer appended
 * it to an object without extensions (`...,"extensions":{"<PROV_EXT_ID>":
 * {...}}}`), so that text[0..n) + "}" is the object as posted; text.len
 * when it is not there. The common duplicate, a version posted again, is
 * then found without parsing either text. */
static size_t
plain_len(struct slice text)
{
	static const char mid[] = ",\"extensions\":{\"" PROV_EXT_ID "\":{";
	const char *at = text.len > sizeof(mid) ? memmem(text.p, text.len, mid, sizeof(mid) - 1)
	                                        : NULL;
	const char *end = text.p + text.len;
	if (!at || end - at < (ptrdiff_t)sizeof(mid) + 2 || memcmp(end - 3, "}}}", 3) != 0)
		return text.len;
	/* the rest is the extension's members: strings of hex, digits, names
	 * and a time, no nested object, no escape (prov_ext_text) */
	for (const char *p = at + sizeof(mid) - 1; p < end - 3; p++)
		if (*p == '{' || *p == '}' || *p == '\\')
			return text.len;
	return (size_t)(at - text.p);
}

int
store__same_json(struct slice a, struct slice b)
{
	struct buf ca, cb;
	int same = 0;

	if (a.len == b.len && memcmp(a.p, b.p, a.len) == 0)
		return 1;
	{
		size_t na = plain_len(a), nb = plain_len(b);
		if ((na != a.len || nb != b.len) && a.len && b.len && a.p[a.len - 1] == '}' &&
		    b.p[b.len - 1] == '}') {
			/* a text without the splice ends in its own '}' */
			size_t la = na == a.len ? a.len - 1 : na, lb = nb == b.len ? b.len - 1 : nb;
			if (la == lb && memcmp(a.p, b.p, la) == 0)
				return 1;
		}
	}
	buf_init(&ca, 0);
	buf_init(&cb, 0);
	if (canonical(a, &ca) && canonical(b, &cb)) {
		if (buf_error(&ca) == TC_ENOMEM || buf_error(&cb) == TC_ENOMEM)
			same = -1;
		else if (!buf_error(&ca) && !buf_error(&cb))
			same = ca.len == cb.len && memcmp(ca.p, cb.p, ca.len) == 0;
	}
	buf_reset(&ca);
	buf_reset(&cb);
	return same;
}

