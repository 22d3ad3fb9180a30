/*
 * taxii_query.c — parsing TAXII 2.1 URL parameters into a query.
 *
 * Invariant: after an error q still holds only fully parsed fields and can
 * be reset; no field is half-filled.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "taxii_query.h"
#include "util/buf.h"
#include "util/timestamp.h"

void
taxii_query_init(struct taxii_query *q)
{
	memset(q, 0, sizeof(*q));
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
taxii_query_reset(struct taxii_query *q)
{
	free_list(q->ids, q->nids);
	free_list(q->types, q->ntypes);
	free_list(q->spec_versions, q->nspec_versions);
	free(q->version_us);
	taxii_query_init(q);
}

/* Calls fn for each comma-separated item of value. Empty items are errors
 * ("no spaces" and no empty members, §3.4). */
static enum tcerr
split_values(struct slice value, const char *name, struct slice *items, size_t *nitems,
             struct diag *d)
{
	size_t n = 0, start = 0;
	if (value.len == 0)
		return diag_set(d, TC_EINVAL, "%s: empty value", name);
	for (size_t i = 0; i <= value.len; i++) {
		if (i < value.len && value.p[i] != ',')
			continue;
		if (i == start)
			return diag_set(d, TC_EINVAL, "%s: empty item in comma-separated list", name);
		if (n == TAXII_QUERY_MAX_VALUES)
			return diag_set(d, TC_ELIMIT, "%s: more than %d values", name,
			                TAXII_QUERY_MAX_VALUES);
		items[n++] = slice_make(value.p + start, i - start);
		start = i + 1;
	}
	*nitems = n;
	return TC_OK;
}

static bool
has_space(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ' ' || s.p[i] == '\t')
			return true;
	return false;
}

/* Makes an owned list of NUL-terminated copies; checks each with ok(). */
static enum tcerr
copy_list(const struct slice *items, size_t n, const char *name,
          bool (*ok)(struct slice), const char *what, char ***out, struct diag *d)
{
	char **v = calloc(n, sizeof(*v));
	if (!v)
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!ok(items[i])) {
			free_list(v, i);
			return diag_set(d, TC_EINVAL, "%s: '%.*s' is not %s", name,
			                (int)(items[i].len > 80 ? 80 : items[i].len), items[i].p, what);
		}
		v[i] = strndup(items[i].p, items[i].len);
		if (!v[i]) {
			free_list(v, i);
			return diag_set(d, TC_ENOMEM, "out of memory");
		}
	}
	*out = v;
	return TC_OK;
}

static bool
is_lower_alnum_hyphen(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* STIX 2.1 §3.1: type names are [a-z0-9-], 3-250 characters. */
static bool
valid_type(struct slice s)
{
	if (s.len < 3 || s.len > 250)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_lower_alnum_hyphen(s.p[i]))
			return false;
	return true;
}

/* "<type>--<uuid>" with the UUID in 8-4-4-4-12 lower-case hex form: the
 * only form the hub stores (stix_id_valid), so an upper-case id is refused
 * rather than matching nothing in silence. */
static bool
valid_id(struct slice s)
{
	if (s.len < 3 + 2 + 36)
		return false;
	struct slice type = slice_make(s.p, s.len - 38);
	const char *u = s.p + s.len - 36;
	if (memcmp(s.p + s.len - 38, "--", 2) != 0 || !valid_type(type))
		return false;
	for (int i = 0; i < 36; i++) {
		char c = u[i];
		bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
		if (hyphen ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool
valid_spec_version(struct slice s)
{
	if (s.len == 0 || s.len > 8)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.'))
			return false;
	return true;
}

static enum tcerr
parse_versions(struct taxii_query *q, const struct slice *items, size_t n, struct diag *d)
{
	const char *name = "match[version]";
	int64_t *ts = calloc(n, sizeof(*ts));
	size_t nts = 0;
	unsigned bits = 0;

	if (!ts)
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		unsigned bit = 0;
		if (slice_eq_cstr(items[i], "last"))
			bit = TAXII_V_LAST;
		else if (slice_eq_cstr(items[i], "first"))
			bit = TAXII_V_FIRST;
		else if (slice_eq_cstr(items[i], "all"))
			bit = TAXII_V_ALL;
		if (bit) {
			if (bits & bit)
				goto dup;
			bits |= bit;
			continue;
		}
		int64_t us;
		if (ts_parse(items[i], &us, NULL) != TC_OK) {
			free(ts);
			return diag_set(d, TC_EINVAL,
			                "%s: '%.*s' is not first, last, all or a timestamp", name,
			                (int)(items[i].len > 80 ? 80 : items[i].len), items[i].p);
		}
		/* §3.4.1: compare instants, not strings; no duplicates */
		for (size_t k = 0; k < nts; k++)
			if (ts[k] == us)
				goto dup;
		ts[nts++] = us;
	}
	if ((bits & TAXII_V_ALL) && (n > 1)) {
		free(ts);
		return diag_set(d, TC_EINVAL, "%s: 'all' cannot be combined with other values", name);
	}
	q->versions = bits;
	q->version_us = ts;
	q->nversion_us = nts;
	return TC_OK;
dup:
	free(ts);
	return diag_set(d, TC_EINVAL, "%s: a value is repeated", name);
}

static enum tcerr
parse_uint(struct slice v, const char *name, size_t *out, struct diag *d)
{
	size_t n = 0;
	if (v.len == 0 || v.len > 9)
		return diag_set(d, TC_EINVAL, "%s: must be an integer from 1 to 999999999", name);
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return diag_set(d, TC_EINVAL, "%s: must be an integer from 1 to 999999999",
			                name);
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	if (n == 0)
		return diag_set(d, TC_EINVAL, "%s: must be greater than 0", name);
	*out = n;
	return TC_OK;
}

enum tcerr
taxii_query_add(struct taxii_query *q, unsigned allowed, struct slice key, struct slice value,
                struct diag *d)
{
	static const struct {
		const char *key;
		enum taxii_param bit;
	} params[] = {
		{ "added_after", TAXII_P_ADDED_AFTER },
		{ "limit", TAXII_P_LIMIT },
		{ "next", TAXII_P_NEXT },
		{ "match[id]", TAXII_P_MATCH_ID },
		{ "match[type]", TAXII_P_MATCH_TYPE },
		{ "match[version]", TAXII_P_MATCH_VERSION },
		{ "match[spec_version]", TAXII_P_MATCH_SPEC_VERSION },
	};
	struct slice items[TAXII_QUERY_MAX_VALUES];
	size_t n = 0;
	enum taxii_param bit = 0;
	const char *name = NULL;
	enum tcerr rc;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (slice_eq_cstr(key, params[i].key)) {
			bit = params[i].bit;
			name = params[i].key;
		}
	}
	if (!bit || !(allowed & bit))
		return TC_OK; /* §3.4: unknown parameters MAY be ignored */
	if (q->present & bit)
		return diag_set(d, TC_EINVAL, "%s: given more than once", name);
	if (bit >= TAXII_P_MATCH_ID && has_space(value))
		return diag_set(d, TC_EINVAL, "%s: spaces are not allowed", name);

	switch (bit) {
	case TAXII_P_ADDED_AFTER:
		if (ts_parse(value, &q->added_after_us, NULL) != TC_OK)
			return diag_set(d, TC_EINVAL, "%s: not a timestamp such as "
			                              "2024-01-31T12:00:00.000000Z", name);
		break;
	case TAXII_P_LIMIT:
		if ((rc = parse_uint(value, name, &q->limit, d)))
			return rc;
		break;
	case TAXII_P_NEXT:
		if (value.len == 0 || value.len > TAXII_NEXT_MAX)
			return diag_set(d, TC_EINVAL, "%s: not a cursor this server issued", name);
		memcpy(q->next, value.p, value.len);
		q->next[value.len] = '\0';
		break;
	case TAXII_P_MATCH_ID:
		if ((rc = split_values(value, name, items, &n, d)) ||
		    (rc = copy_list(items, n, name, valid_id, "a STIX identifier", &q->ids, d)))
			return rc;
		q->nids = n;
		break;
	case TAXII_P_MATCH_TYPE:
		if ((rc = split_values(value, name, items, &n, d)) ||
		    (rc = copy_list(items, n, name, valid_type, "a STIX type name", &q->types, d)))
			return rc;
		q->ntypes = n;
		break;
	case TAXII_P_MATCH_VERSION:
		if ((rc = split_values(value, name, items, &n, d)) ||
		    (rc = parse_versions(q, items, n, d)))
			return rc;
		break;
	case TAXII_P_MATCH_SPEC_VERSION:
		if ((rc = split_values(value, name, items, &n, d)) ||
		    (rc = copy_list(items, n, name, valid_spec_version, "a spec version",
		                    &q->spec_versions, d)))
			return rc;
		q->nspec_versions = n;
		break;
	}
	q->present |= bit;
	return TC_OK;
}


/* Percent-decodes s into out ('+' is a space, as in HTML forms). */
static enum tcerr
url_decode(struct slice s, struct buf *out, struct diag *d)
{
	buf_clear(out);
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < s.len ? hex_digit(s.p[i + 1]) : -1;
			int lo = hi >= 0 ? hex_digit(s.p[i + 2]) : -1;
			if (lo < 0)
				return diag_set(d, TC_EINVAL, "bad percent-encoding in the query string");
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return diag_set(d, TC_EINVAL, "NUL byte in the query string");
		buf_append_char(out, c);
	}
	return buf_error(out);
}

enum tcerr
taxii_query_parse(struct taxii_query *q, unsigned allowed, struct slice raw, struct diag *d)
{
	struct buf k, v;
	enum tcerr rc = TC_OK;
	size_t start = 0;

	if (raw.len > TAXII_QUERY_MAX_LEN)
		return diag_set(d, TC_ELIMIT, "query string longer than %d bytes",
		                TAXII_QUERY_MAX_LEN);
	buf_init(&k, TAXII_QUERY_MAX_LEN);
	buf_init(&v, TAXII_QUERY_MAX_LEN);
	for (size_t i = 0; i <= raw.len && rc == TC_OK; i++) {
		if (i < raw.len && raw.p[i] != '&')
			continue;
		struct slice pair = slice_make(raw.p + start, i - start);
		start = i + 1;
		if (pair.len == 0)
			continue;
		const char *eq = memchr(pair.p, '=', pair.len);
		struct slice rk = slice_make(pair.p, eq ? (size_t)(eq - pair.p) : pair.len);
		struct slice rv = eq ? slice_make(eq + 1, pair.len - rk.len - 1) : slice_make("", 0);
		if ((rc = url_decode(rk, &k, d)) || (rc = url_decode(rv, &v, d)))
			break;
		rc = taxii_query_add(q, allowed, buf_slice(&k), buf_slice(&v), d);
	}
	buf_reset(&k);
	buf_reset(&v);
	return rc;
}
