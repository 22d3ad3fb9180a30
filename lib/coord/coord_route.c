/*
 * coord_route.c — routing rules and the plan (coord.h): which tasks one
 * committed indicator makes. The rules file is the operator's (not
 * untrusted input), but it is parsed with limits all the same and every
 * mistake names its line. Invariant: coord_plan only reads its inputs, so
 * the daemon's worker and `tocsin route test` give the same answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord/coord.h"
#include "util/buf.h"

void
coord_rules_free(struct coord_rules *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= COORD_RULE_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static bool
duration(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno || v <= 0 || end[0] == '\0' || end[1] != '\0')
		return false;
	int64_t unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
	             : end[0] == 'd' ? 86400 : 0;
	if (!unit || v > COORD_DEADLINE_MAX_US / 1000000 / unit)
		return false;
	*out = v * unit * 1000000;
	return true;
}

/* The next token of *p separated by any of seps (NUL-terminated in place;
 * NULL at the end): strtok_r without its hidden state. */
static char *
next_tok(char **p, const char *seps)
{
	char *s = *p + strspn(*p, seps);
	if (!*s) {
		*p = s;
		return NULL;
	}
	size_t n = strcspn(s, seps);
	*p = s[n] ? s + n + 1 : s + n;
	s[n] = '\0';
	return s;
}

static enum tcerr
parse_line(char *line, const char *file, unsigned lineno, struct coord_rule *r, struct diag *d)
{
	char *save = line;
	char *tok = next_tok(&save, " \t"); /* "route" */
	bool have_action = false, have_to = false;
	memset(r, 0, sizeof *r);
	r->deadline_us = COORD_DEADLINE_DEFAULT_US;
	r->line = lineno;
	if (!tok || strcmp(tok, "route") != 0)
		return diag_set(d, TC_EINVAL, "%s:%u: a rule starts with 'route NAME'", file, lineno);
	tok = next_tok(&save, " \t");
	if (!tok || !name_ok(tok))
		return diag_set(d, TC_EINVAL, "%s:%u: the rule's name is 1-%d letters, digits, '.', "
		                "'_' or '-'", file, lineno, COORD_RULE_NAME_MAX);
	snprintf(r->name, sizeof r->name, "%s", tok);
	while ((tok = next_tok(&save, " \t"))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return diag_set(d, TC_EINVAL, "%s:%u: expected KEY=VALUE, got '%.64s'", file,
			                lineno, tok);
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		if (strcmp(k, "kind") == 0) {
			char tmp[COORD_LINE_MAX];
			snprintf(tmp, sizeof tmp, "%s", v);
			char *s2 = tmp;
			for (char *kk = next_tok(&s2, ","); kk; kk = next_tok(&s2, ",")) {
				enum obs_kind kind;
				if (obs_kind_parse(slice_from_cstr(kk), &kind))
					return diag_set(d, TC_EINVAL, "%s:%u: unknown kind '%.32s'", file,
					                lineno, kk);
				r->kinds |= 1u << kind;
			}
		} else if (strcmp(k, "min_confidence") == 0) {
			char *end;
			long c = strtol(v, &end, 10);
			if (end == v || *end || c < 0 || c > 100)
				return diag_set(d, TC_EINVAL, "%s:%u: min_confidence is 0 to 100", file,
				                lineno);
			r->min_confidence = (int)c;
		} else if (strcmp(k, "action") == 0) {
			struct diag dd;
			if (reg_task_action_check(v, &dd))
				return diag_set(d, TC_EINVAL, "%s:%u: %s", file, lineno, dd.msg);
			snprintf(r->action, sizeof r->action, "%s", v);
			have_action = true;
		} else if (strcmp(k, "to") == 0) {
			struct diag dd;
			if (strncmp(v, "sector:", 7) == 0) {
				if (reg_sector_parse(v + 7, &r->sector, &dd))
					return diag_set(d, TC_EINVAL, "%s:%u: %s", file, lineno, dd.msg);
			} else if (strncmp(v, "org:", 4) == 0 && v[4] &&
			           strlen(v + 4) <= REG_ORG_NAME_MAX) {
				snprintf(r->org, sizeof r->org, "%s", v + 4);
			} else {
				return diag_set(d, TC_EINVAL,
				                "%s:%u: to= is sector:SECTOR or org:NAME (a name without "
				                "spaces)", file, lineno);
			}
			have_to = true;
		} else if (strcmp(k, "deadline") == 0) {
			if (!duration(v, &r->deadline_us))
				return diag_set(d, TC_EINVAL,
				                "%s:%u: deadline is a number and s, m, h or d, at most a "
				                "year", file, lineno);
		} else {
			return diag_set(d, TC_EINVAL, "%s:%u: unknown key '%.32s' (kind, min_confidence, "
			                "action, to, deadline)", file, lineno, k);
		}
	}
	if (!r->kinds || !have_action || !have_to)
		return diag_set(d, TC_EINVAL, "%s:%u: rule %s needs kind=, action= and to=", file,
		                lineno, r->name);
	return TC_OK;
}

enum tcerr
coord_rules_parse(struct slice text, const char *file, struct coord_rules *out, struct diag *d)
{
	size_t cap = 0;
	unsigned lineno = 0;
	coord_rules_free(out);
	if (text.len > COORD_RULES_FILE_MAX)
		return diag_set(d, TC_ELIMIT, "%s: larger than %d bytes", file, COORD_RULES_FILE_MAX);
	const char *p = text.p, *end = text.p + text.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[COORD_LINE_MAX];
		lineno++;
		if (len >= sizeof line) {
			coord_rules_free(out);
			return diag_set(d, TC_ELIMIT, "%s:%u: line longer than %d bytes", file, lineno,
			                COORD_LINE_MAX - 1);
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : end;
		if (memchr(line, '\0', len)) {
			coord_rules_free(out);
			return diag_set(d, TC_EINVAL, "%s:%u: NUL byte", file, lineno);
		}
		char *s = line + strspn(line, " \t\r");
		size_t sl = strlen(s);
		while (sl && (s[sl - 1] == '\r' || s[sl - 1] == ' ' || s[sl - 1] == '\t'))
			s[--sl] = '\0';
		if (!*s || *s == '#')
			continue;
		if (out->n == COORD_RULES_MAX) {
			coord_rules_free(out);
			return diag_set(d, TC_ELIMIT, "%s:%u: more than %d rules", file, lineno,
			                COORD_RULES_MAX);
		}
		if (out->n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			struct coord_rule *v = realloc(out->v, nc * sizeof *v);
			if (!v) {
				coord_rules_free(out);
				return diag_set(d, TC_ENOMEM, "out of memory");
			}
			out->v = v;
			cap = nc;
		}
		enum tcerr t = parse_line(s, file, lineno, &out->v[out->n], d);
		if (t) {
			coord_rules_free(out);
			return t;
		}
		for (size_t i = 0; i < out->n; i++)
			if (strcmp(out->v[i].name, out->v[out->n].name) == 0) {
				/* the message first: it names a rule the free releases */
				enum tcerr e = diag_set(d, TC_EINVAL, "%s:%u: a second rule named %s", file,
				                        lineno, out->v[i].name);
				out->n++; /* the new rule is freed with the others */
				coord_rules_free(out);
				return e;
			}
		out->n++;
	}
	return TC_OK;
}

enum tcerr
coord_rules_load(const char *path, struct coord_rules *out, struct diag *d)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;
	if (!f)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	buf_init(&b, COORD_RULES_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		buf_reset(&b);
		return diag_set(d, TC_EIO, "%s: read error", path);
	}
	if (buf_error(&b)) {
		enum tcerr t = buf_error(&b);
		buf_reset(&b);
		return diag_set(d, t, "%s: larger than %d bytes", path, COORD_RULES_FILE_MAX);
	}
	enum tcerr t = coord_rules_parse(b.p ? buf_slice(&b) : slice_make("", 0), path, out, d);
	buf_reset(&b);
	return t;
}

const char *
coord_const_action(enum obs_kind kind)
{
	switch (kind) {
	case OBS_IPV4:
	case OBS_IPV6:
		return "clean-up";
	case OBS_DOMAIN:
	case OBS_URL:
	case OBS_EMAIL:
		return "takedown";
	case OBS_ASN:
		return "investigate";
	default:
		return NULL;
	}
}

#define PLAN_OBS_MAX 1000 /* observables of one object planned for */

struct obsv {
	enum obs_kind kind;
	char *value;
	size_t len;
};

struct collect {
	struct obsv *v;
	size_t n, cap;
	bool nomem;
};

static enum tcerr
collect_cb(void *ctx, enum obs_kind kind, struct slice value)
{
	struct collect *c = ctx;
	if (c->n >= PLAN_OBS_MAX)
		return TC_OK;
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 8;
		struct obsv *v = realloc(c->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		c->v = v;
		c->cap = nc;
	}
	char *s = malloc(value.len + 1);
	if (!s)
		return TC_ENOMEM;
	memcpy(s, value.p, value.len);
	s[value.len] = '\0';
	c->v[c->n++] = (struct obsv){ kind, s, value.len };
	return TC_OK;
}

static enum tcerr
propose(const struct coord_obs *o, const char *source, const char *action, enum reg_sector sector,
        int64_t org_num, const char *org_name, int64_t deadline_us,
        enum tcerr (*cb)(void *ctx, const struct coord_proposal *p), void *ctx, size_t *n,
        struct diag *d)
{
	struct buf dedup, obs;
	buf_init(&dedup, REG_TASK_DEDUP_MAX);
	buf_init(&obs, REG_TASK_OBS_TEXT_MAX);
	buf_printf(&dedup, "%s|%s|%s:", source, action, obs_kind_name(o->kind));
	buf_append_slice(&dedup, o->value);
	buf_printf(&obs, "[{\"kind\":\"%s\",\"value\":", obs_kind_name(o->kind));
	buf_append_json_str(&obs, o->value);
	buf_append_cstr(&obs, "}]");
	enum tcerr t = buf_error(&dedup) ? buf_error(&dedup) : buf_error(&obs);
	if (t == TC_ELIMIT) {
		t = TC_OK; /* a value too long for a task: none proposed */
	} else if (t) {
		t = diag_set(d, t, "out of memory");
	} else {
		struct coord_proposal p = {
			.source = source,
			.action = action,
			.sector = sector,
			.org_num = org_num,
			.org_name = org_name,
			.deadline_us = deadline_us,
			.kind = o->kind,
			.value = o->value,
			.dedup = dedup.p,
			.observables = obs.p,
		};
		(*n)++;
		t = cb(ctx, &p);
	}
	buf_reset(&dedup);
	buf_reset(&obs);
	return t;
}

enum tcerr
coord_plan_obs(const struct coord_obs *v, size_t n, int (*confidence)(void *cctx), void *cctx,
               const struct coord_rules *rules, const struct coord_consts *consts,
               enum tcerr (*cb)(void *ctx, const struct coord_proposal *p), void *ctx,
               size_t *nproposed, struct diag *d)
{
	size_t np = 0;
	enum tcerr t = TC_OK;
	int conf = -1; /* asked once, when a rule needs it */
	for (size_t i = 0; i < n && i < PLAN_OBS_MAX && !t; i++) {
		const struct coord_obs *o = &v[i];
		for (size_t k = 0; rules && k < rules->n && !t; k++) {
			const struct coord_rule *r = &rules->v[k];
			if (!(r->kinds & (1u << o->kind)))
				continue;
			if (r->min_confidence > 0) {
				if (conf < 0)
					conf = confidence ? confidence(cctx) : 0;
				if (conf < r->min_confidence)
					continue;
			}
			char src[COORD_RULE_NAME_MAX + 8];
			snprintf(src, sizeof src, "route:%s", r->name);
			t = propose(o, src, r->action, r->org[0] ? 0 : r->sector, 0,
			            r->org[0] ? r->org : NULL, r->deadline_us, cb, ctx, &np, d);
		}
		const char *action = coord_const_action(o->kind);
		const struct reg_const *e =
			t || !action ? NULL : coord_consts_lookup(consts, o->kind, o->value);
		if (e)
			t = propose(o, "constituency", action, 0, e->org, NULL, COORD_CONST_DEADLINE_US,
			            cb, ctx, &np, d);
	}
	if (nproposed)
		*nproposed = np;
	return t;
}

static int
json_confidence(void *cctx)
{
	json_t *jc = json_object_get(cctx, "confidence");
	return json_is_integer(jc) ? (int)json_integer_value(jc) : 0;
}

enum tcerr
coord_plan(const json_t *obj, const struct obs_ctx *obs, const struct coord_rules *rules,
           const struct coord_consts *consts,
           enum tcerr (*cb)(void *ctx, const struct coord_proposal *p), void *ctx,
           size_t *nproposed, struct diag *d)
{
	struct collect c = { 0 };
	enum tcerr t = TC_OK;
	if (nproposed)
		*nproposed = 0;
	const char *type = json_string_value(json_object_get(obj, "type"));
	if (!type || strcmp(type, "indicator") != 0 || json_is_true(json_object_get(obj, "revoked")))
		return TC_OK;
	struct diag dd;
	diag_clear(&dd);
	t = obs_extract(obs, obj, NULL, collect_cb, &c, &dd);
	if (t == TC_ENOMEM) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	/* an object whose observables do not extract plans nothing */
	struct coord_obs *v = malloc((c.n ? c.n : 1) * sizeof *v);
	if (!v) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.n; i++)
		v[i] = (struct coord_obs){ c.v[i].kind, slice_make(c.v[i].value, c.v[i].len) };
	t = coord_plan_obs(v, c.n, json_confidence, (void *)obj, rules, consts, cb, ctx, nproposed,
	                   d);
	free(v);
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].value);
	free(c.v);
	return t;
}

int
coord_confidence_text(struct slice json)
{
	/* a top-level "confidence" of compact JSON: walk it, tracking depth
	 * and strings, and read the integer after the key at depth 1 */
	const char *p = json.p, *end = json.p + json.len;
	int depth = 0;
	static const char key[] = "\"confidence\"";
	while (p < end) {
		char c = *p;
		if (c == '"') {
			const char *s = p++;
			while (p < end && *p != '"') {
				if (*p == '\\')
					p++;
				p++;
			}
			if (p >= end)
				return 0;
			p++;
			if (depth == 1 && (size_t)(p - s) == sizeof key - 1 &&
			    memcmp(s, key, sizeof key - 1) == 0) {
				while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
					p++;
				if (p >= end || *p != ':')
					continue; /* a value "confidence", not the key */
				p++;
				while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
					p++;
				int v = 0, digits = 0;
				while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
					v = v * 10 + (*p++ - '0');
					digits++;
				}
				return digits && v <= 100 ? v : 0;
			}
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		p++;
	}
	return 0;
}
