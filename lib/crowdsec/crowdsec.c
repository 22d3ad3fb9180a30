/*
 * crowdsec.c — the CrowdSec LAPI shape of tocsin decisions (see
 * crowdsec.h): the bouncer's query, the scope of a value, one decision
 * as LAPI writes it, Go durations and the live-mode address match.
 *
 * Invariant: the query parser reads at most CS_QUERY_MAX bytes, keeps at
 * most CS_PARAMS_MAX parameters and copies nothing longer than its fixed
 * buffers, so a hostile query costs a bounded, small amount of work and
 * no allocation.
 */
#include "crowdsec/crowdsec.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "util/hex.h"
#include "util/timestamp.h"

/* An address or network, parsed. */
struct cs_net {
	int family;           /* AF_INET, AF_INET6 */
	unsigned char a[16];  /* 4 or 16 bytes used */
	unsigned prefix;      /* 32 / 128 for an address */
};

/* Parses "ADDR" or "ADDR/N" (text, NUL-terminated). An IPv4-mapped IPv6
 * address is its IPv4 form, as tocsin normalises it. */
static bool
net_parse(const char *text, struct cs_net *out)
{
	char tmp[CS_VALUE_MAX + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long prefix = -1;
	if (alen == 0 || alen > CS_VALUE_MAX)
		return false;
	memcpy(tmp, text, alen);
	tmp[alen] = '\0';
	if (slash) {
		const char *p = slash + 1;
		size_t n = strlen(p);
		if (n == 0 || n > 3 || strspn(p, "0123456789") != n || (n > 1 && p[0] == '0'))
			return false;
		prefix = 0;
		for (size_t i = 0; i < n; i++)
			prefix = prefix * 10 + (p[i] - '0');
	}
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, tmp, out->a) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, tmp, out->a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		out->family = AF_INET6;
		out->prefix = 128;
		if (memcmp(out->a, mapped, 12) == 0) {
			memmove(out->a, out->a + 12, 4);
			memset(out->a + 4, 0, 12);
			out->family = AF_INET;
			out->prefix = 32;
			if (prefix >= 0) {
				if (prefix < 96)
					return false;
				prefix -= 96;
			}
		}
	} else {
		return false;
	}
	if (prefix >= 0) {
		if ((unsigned long)prefix > out->prefix)
			return false;
		out->prefix = (unsigned)prefix;
	}
	return true;
}

/* true if network outer holds all of inner. */
static bool
net_holds(const struct cs_net *outer, const struct cs_net *inner)
{
	if (outer->family != inner->family || outer->prefix > inner->prefix)
		return false;
	unsigned full = outer->prefix / 8, rest = outer->prefix % 8;
	if (memcmp(outer->a, inner->a, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((outer->a[full] & mask) != (inner->a[full] & mask))
			return false;
	}
	return true;
}

static int
pct_decode(struct slice in, char *out, size_t cap, size_t *len)
{
	size_t o = 0;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == '%') {
			if (i + 2 >= in.len || hex_digit(in.p[i + 1]) < 0 || hex_digit(in.p[i + 2]) < 0)
				return -1;
			c = (char)(hex_digit(in.p[i + 1]) * 16 + hex_digit(in.p[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0')
			return -1;
		if (o + 1 >= cap)
			return -2;
		out[o++] = c;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

static enum tcerr
parse_bool(const char *key, const char *v, bool *out, struct diag *d)
{
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return diag_set(d, TC_EINVAL, "%s: must be true or false", key);
	return TC_OK;
}

/* Splits a comma-separated list into words (trimmed, empty ones dropped). */
static enum tcerr
parse_words(const char *key, const char *v, char words[][CS_WORD_MAX + 1], size_t *n,
            struct diag *d)
{
	*n = 0;
	while (*v) {
		size_t len = strcspn(v, ",");
		const char *w = v;
		size_t wl = len;
		while (wl && *w == ' ') {
			w++;
			wl--;
		}
		while (wl && w[wl - 1] == ' ')
			wl--;
		if (wl) {
			if (*n == CS_WORDS_MAX)
				return diag_set(d, TC_ELIMIT, "%s: more than %d words", key, CS_WORDS_MAX);
			if (wl > CS_WORD_MAX)
				return diag_set(d, TC_ELIMIT, "%s: a word longer than %d bytes", key,
				                CS_WORD_MAX);
			memcpy(words[*n], w, wl);
			words[*n][wl] = '\0';
			(*n)++;
		}
		v += len;
		if (*v == ',')
			v++;
	}
	return TC_OK;
}

static unsigned
scope_parse(const char *s)
{
	if (strcasecmp(s, "ip") == 0)
		return CS_SCOPE_IP;
	if (strcasecmp(s, "range") == 0)
		return CS_SCOPE_RANGE;
	return 0;
}

static enum tcerr
set_value(struct cs_query *q, const char *key, const char *v, unsigned scope, struct diag *d)
{
	struct cs_net n;
	size_t len = strlen(v);
	if (len > CS_VALUE_MAX)
		return diag_set(d, TC_ELIMIT, "%s: longer than %d bytes", key, CS_VALUE_MAX);
	memcpy(q->value, v, len + 1);
	q->has_value = true;
	q->value_scope = scope;
	if (scope == 0)
		return TC_OK; /* a scope tocsin has no decisions in */
	if (!net_parse(v, &n))
		return diag_set(d, TC_EINVAL, "%s: not an IP address or network", key);
	if (scope == CS_SCOPE_IP && strchr(v, '/') && n.prefix != (n.family == AF_INET ? 32u : 128u))
		return diag_set(d, TC_EINVAL, "%s: an address is wanted, not a network", key);
	return TC_OK;
}

enum tcerr
crowdsec_query_parse(struct slice query, bool stream, struct cs_query *q, struct diag *d)
{
	char scope_text[CS_WORD_MAX + 1] = "";
	char value_text[CS_VALUE_MAX + 2] = "";
	bool has_scope = false, has_scope_value = false, scopes_given = false;
	size_t nparams = 0;
	enum tcerr rc;

	memset(q, 0, sizeof *q);
	q->contains = true;
	if (query.len > CS_QUERY_MAX)
		return diag_set(d, TC_ELIMIT, "the query string is longer than %d bytes", CS_QUERY_MAX);
	for (size_t i = 0; i < query.len;) {
		size_t end = i;
		while (end < query.len && query.p[end] != '&')
			end++;
		struct slice part = slice_make(query.p + i, end - i);
		i = end + 1;
		if (part.len == 0)
			continue;
		if (++nparams > CS_PARAMS_MAX)
			return diag_set(d, TC_ELIMIT, "more than %d query parameters", CS_PARAMS_MAX);
		const char *eq = memchr(part.p, '=', part.len);
		struct slice ks = eq ? slice_make(part.p, (size_t)(eq - part.p)) : part;
		struct slice vs = eq ? slice_make(eq + 1, part.len - ks.len - 1) : slice_make("", 0);
		char key[32], val[CS_QUERY_MAX + 1];
		size_t kl, vl;
		int e = pct_decode(ks, key, sizeof key, &kl);
		if (e == -2)
			continue; /* a key longer than any we know */
		if (e < 0 || pct_decode(vs, val, sizeof val, &vl) < 0)
			return diag_set(d, TC_EINVAL, "the query string has bad percent-encoding");
		if (strcmp(key, "startup") == 0) {
			if ((rc = parse_bool(key, val, &q->startup, d)))
				return rc;
		} else if (strcmp(key, "scopes") == 0) {
			char w[CS_WORDS_MAX][CS_WORD_MAX + 1];
			size_t n;
			if ((rc = parse_words(key, val, w, &n, d)))
				return rc;
			scopes_given = true;
			q->scopes = 0;
			for (size_t k = 0; k < n; k++)
				q->scopes |= scope_parse(w[k]);
		} else if (strcmp(key, "origins") == 0) {
			char w[CS_WORDS_MAX][CS_WORD_MAX + 1];
			size_t n;
			if ((rc = parse_words(key, val, w, &n, d)))
				return rc;
			q->origins_given = n > 0;
			q->origin_tocsin = false;
			for (size_t k = 0; k < n; k++)
				if (strcasecmp(w[k], CS_ORIGIN) == 0)
					q->origin_tocsin = true;
		} else if (strcmp(key, "scenarios_containing") == 0) {
			if ((rc = parse_words(key, val, q->containing, &q->ncontaining, d)))
				return rc;
		} else if (strcmp(key, "scenarios_not_containing") == 0) {
			if ((rc = parse_words(key, val, q->not_containing, &q->nnot_containing, d)))
				return rc;
		} else if (!stream && strcmp(key, "contains") == 0) {
			if ((rc = parse_bool(key, val, &q->contains, d)))
				return rc;
		} else if (!stream && strcmp(key, "type") == 0) {
			q->type_other = val[0] && strcasecmp(val, CS_TYPE) != 0;
		} else if (!stream && (strcmp(key, "ip") == 0 || strcmp(key, "range") == 0)) {
			if ((rc = set_value(q, key, val, key[0] == 'i' ? CS_SCOPE_IP : CS_SCOPE_RANGE, d)))
				return rc;
		} else if (!stream && strcmp(key, "scope") == 0) {
			if (vl > CS_WORD_MAX)
				return diag_set(d, TC_ELIMIT, "scope: longer than %d bytes", CS_WORD_MAX);
			memcpy(scope_text, val, vl + 1);
			has_scope = true;
		} else if (!stream && strcmp(key, "value") == 0) {
			if (vl > CS_VALUE_MAX)
				return diag_set(d, TC_ELIMIT, "value: longer than %d bytes", CS_VALUE_MAX);
			memcpy(value_text, val, vl + 1);
			has_scope_value = true;
		}
	}
	if (stream && !scopes_given)
		q->scopes = CS_SCOPE_IP | CS_SCOPE_RANGE; /* LAPI's default: "ip,range" */
	if (!stream && has_scope_value && !q->has_value) {
		/* scope=&value=; LAPI's scope defaults to ip */
		unsigned sc = has_scope ? scope_parse(scope_text) : CS_SCOPE_IP;
		if ((rc = set_value(q, "value", value_text, sc, d)))
			return rc;
	}
	return TC_OK;
}

unsigned
crowdsec_scope_of(enum obs_kind kind, struct slice value)
{
	if (kind != OBS_IPV4 && kind != OBS_IPV6)
		return 0;
	return memchr(value.p, '/', value.len) ? CS_SCOPE_RANGE : CS_SCOPE_IP;
}

const char *
crowdsec_scope_name(unsigned scope)
{
	return scope == CS_SCOPE_RANGE ? "Range" : "Ip";
}

int64_t
crowdsec_decision_id(enum obs_kind kind, struct slice value)
{
	uint64_t h = XXH3_64bits_withSeed(value.p, value.len, (XXH64_hash_t)kind) &
	             ((UINT64_C(1) << 53) - 1);
	return h ? (int64_t)h : 1;
}

void
crowdsec_scenario(const char *collection, const char *indicator_id, const char *reason,
                  struct buf *out)
{
	buf_append_cstr(out, CS_ORIGIN);
	if (indicator_id && indicator_id[0]) {
		buf_append_char(out, '/');
		buf_append_cstr(out, collection && collection[0] ? collection : "-");
		buf_append_char(out, '/');
		buf_append_cstr(out, indicator_id);
	} else if (reason && reason[0]) {
		buf_append_char(out, '/');
		buf_append_cstr(out, reason);
	}
}

/* strcasestr over ASCII, without relying on _GNU_SOURCE. */
static bool
contains_fold(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

bool
crowdsec_admits(const struct cs_query *q, const char *scenario)
{
	if (q->origins_given && !q->origin_tocsin)
		return false;
	if (q->ncontaining) {
		bool any = false;
		for (size_t i = 0; i < q->ncontaining && !any; i++)
			any = contains_fold(scenario, q->containing[i]);
		if (!any)
			return false;
	}
	for (size_t i = 0; i < q->nnot_containing; i++)
		if (contains_fold(scenario, q->not_containing[i]))
			return false;
	return true;
}

void
crowdsec_duration(int64_t us, char out[CS_DURATION_MAX])
{
	if (us <= 0) {
		snprintf(out, CS_DURATION_MAX, "0s");
		return;
	}
	int64_t ms = us / 1000;
	int64_t h = ms / 3600000;
	int m = (int)(ms / 60000 % 60);
	int s = (int)(ms / 1000 % 60);
	int frac = (int)(ms % 1000);
	int n;
	if (frac)
		n = snprintf(out, CS_DURATION_MAX, "%" PRId64 "h%dm%d.%03ds", h, m, s, frac);
	else
		n = snprintf(out, CS_DURATION_MAX, "%" PRId64 "h%dm%ds", h, m, s);
	if (n < 0 || n >= CS_DURATION_MAX)
		snprintf(out, CS_DURATION_MAX, "0s"); /* cannot happen below 2^63 µs */
}

void
crowdsec_decision_json(struct buf *out, int64_t id, unsigned scope, struct slice value,
                       int64_t duration_us, int64_t until_us, const char *scenario)
{
	char dur[CS_DURATION_MAX];
	crowdsec_duration(duration_us, dur);
	buf_printf(out, "{\"id\":%" PRId64 ",\"origin\":\"" CS_ORIGIN "\",\"type\":\"" CS_TYPE
	                "\",\"scope\":\"%s\",\"value\":",
	           id, crowdsec_scope_name(scope));
	buf_append_json_str(out, value);
	buf_printf(out, ",\"duration\":\"%s\"", dur);
	if (until_us > 0) {
		char ts[TS_TEXT_MAX];
		ts_format(until_us, 0, ts);
		buf_printf(out, ",\"until\":\"%s\"", ts);
	}
	buf_append_cstr(out, ",\"scenario\":");
	buf_append_json_str(out, slice_from_cstr(scenario ? scenario : CS_ORIGIN));
	buf_append_cstr(out, ",\"simulated\":false}");
}

size_t
crowdsec_live_candidates(const struct cs_query *q, char out[][CS_VALUE_MAX + 1])
{
	struct cs_net n;
	struct obs_ctx oc;
	struct buf b;
	struct diag d;
	size_t k = 0;

	if (!q->has_value || !q->value_scope || !net_parse(q->value, &n))
		return 0;
	if (q->value_scope == CS_SCOPE_RANGE && !q->contains)
		return 0;
	memset(&oc, 0, sizeof oc);
	buf_init(&b, CS_VALUE_MAX + 1);
	enum obs_kind kind = n.family == AF_INET ? OBS_IPV4 : OBS_IPV6;
	for (int p = (int)n.prefix; p >= 0 && k < CS_CANDIDATES_MAX; p--) {
		unsigned char a[16];
		char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
		memcpy(a, n.a, sizeof a);
		unsigned full = (unsigned)p / 8, rest = (unsigned)p % 8;
		if (full < 16) {
			if (rest)
				a[full] &= (unsigned char)(0xff << (8 - rest));
			memset(a + full + (rest ? 1 : 0), 0, 16 - full - (rest ? 1 : 0));
		}
		if (!inet_ntop(n.family, a, addr, sizeof addr))
			continue;
		int tl = snprintf(text, sizeof text, "%s/%d", addr, p);
		if (tl < 0 || (size_t)tl >= sizeof text)
			continue;
		buf_clear(&b);
		if (obs_normalize(&oc, kind, slice_from_cstr(text), &b, &d) != TC_OK ||
		    buf_error(&b) || b.len > CS_VALUE_MAX)
			continue;
		memcpy(out[k], b.p, b.len);
		out[k][b.len] = '\0';
		k++;
	}
	buf_reset(&b);
	return k;
}

bool
crowdsec_live_match(const struct cs_query *q, unsigned scope, struct slice value)
{
	struct cs_net asked, have;
	char text[CS_VALUE_MAX + 1];
	if (!q->has_value || !q->value_scope || !scope || value.len > CS_VALUE_MAX)
		return false;
	memcpy(text, value.p, value.len);
	text[value.len] = '\0';
	if (!net_parse(q->value, &asked) || !net_parse(text, &have))
		return false;
	if (q->value_scope == CS_SCOPE_IP || q->contains)
		return net_holds(&have, &asked);
	return net_holds(&asked, &have);
}
