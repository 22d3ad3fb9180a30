/*
 * registry_spec.c — sector and role names, and the read/write SPEC of a
 * collection: parsing, compiling against the organisations, and deciding
 * whether a principal is admitted.
 *
 * Invariant: a compiled struct reg_spec holds only resolved terms: org
 * numbers that exist (sorted, unique), sector and role bits inside their
 * enums, and valid lower-case group names (sorted, unique). `none`
 * compiles to the empty spec, which admits nobody; `all` admits every
 * authenticated principal and the hub itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry/registry_internal.h"

static const char *const reg_sector_names[SECTOR_MAX + 1] = {
	[SECTOR_TELECOM] = "telecom",
	[SECTOR_FINANCE] = "finance",
	[SECTOR_INTERNET] = "internet",
	[SECTOR_GOVERNMENT] = "government",
	[SECTOR_LAW_ENFORCEMENT] = "law-enforcement",
	[SECTOR_CERT] = "cert",
	[SECTOR_CRITICAL_INFRASTRUCTURE] = "critical-infrastructure",
	[SECTOR_OTHER] = "other",
};

static const char *const reg_role_names[ROLE_MAX + 1] = {
	[ROLE_READER] = "reader",
	[ROLE_CONTRIBUTOR] = "contributor",
	[ROLE_COORDINATOR] = "coordinator",
	[ROLE_ADMIN] = "admin",
	[ROLE_AGENT] = "agent",
	[ROLE_PEER] = "peer",
};

const char *
reg_sector_name(enum reg_sector s)
{
	return s >= 1 && s <= SECTOR_MAX ? reg_sector_names[s] : NULL;
}

const char *
reg_role_name(enum reg_role r)
{
	return r >= 1 && r <= ROLE_MAX ? reg_role_names[r] : NULL;
}

/* Index of name (any case) in names[1..max], or 0. */
static int
reg_name_index(const char *const *names, int max, const char *name, size_t len)
{
	for (int i = 1; i <= max; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return i;
	return 0;
}

/* "telecom, finance, ..." for messages. */
static void
reg_name_list(const char *const *names, int max, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 1; i <= max; i++) {
		int n = snprintf(out + used, size - used, "%s%s", i > 1 ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

enum tcerr
reg_sector_parse(const char *name, enum reg_sector *out, struct diag *d)
{
	int i = name ? reg_name_index(reg_sector_names, SECTOR_MAX, name, strlen(name)) : 0;
	if (i) {
		*out = (enum reg_sector)i;
		return TC_OK;
	}
	char list[256];
	reg_name_list(reg_sector_names, SECTOR_MAX, list, sizeof list);
	return diag_set(d, TC_EINVAL, "unknown sector '%s'; sectors are: %s", name ? name : "",
	                list);
}

enum tcerr
reg_role_parse(const char *name, enum reg_role *out, struct diag *d)
{
	int i = name ? reg_name_index(reg_role_names, ROLE_MAX, name, strlen(name)) : 0;
	if (i) {
		*out = (enum reg_role)i;
		return TC_OK;
	}
	char list[256];
	reg_name_list(reg_role_names, ROLE_MAX, list, sizeof list);
	return diag_set(d, TC_EINVAL, "unknown role '%s'; roles are: %s", name ? name : "", list);
}

bool
reg_role_writes(enum reg_role r)
{
	return r == ROLE_CONTRIBUTOR || r == ROLE_COORDINATOR || r == ROLE_ADMIN ||
	       r == ROLE_PEER;
}

enum tcerr
reg__group_norm(const char *g, char out[REG_GROUP_NAME_MAX + 1], struct diag *d)
{
	size_t len = strlen(g);
	if (len == 0 || len > REG_GROUP_NAME_MAX)
		return diag_set(d, TC_EINVAL, "group '%s': must be 1 to %d characters", g,
		                REG_GROUP_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = g[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return diag_set(d, TC_EINVAL,
			                "group '%s': use letters, digits, '.', '_' and '-', "
			                "starting with a letter or digit",
			                g);
		out[i] = c;
	}
	out[len] = '\0';
	return TC_OK;
}

void
reg__spec_free(struct reg_spec *s)
{
	free(s->orgs);
	free(s->groups);
	memset(s, 0, sizeof *s);
}

static int
reg_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int
reg_cmp_group(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The organisation called name (len bytes, any ASCII case), or NULL. */
static const struct reg_org *
reg_org_by_name(const struct reg_org *orgs, size_t norgs, const char *name, size_t len)
{
	for (size_t i = 0; i < norgs; i++)
		if (strlen(orgs[i].name) == len && strncasecmp(orgs[i].name, name, len) == 0)
			return &orgs[i];
	return NULL;
}

static bool
reg_group_known(const struct reg_org *orgs, size_t norgs, const char *g)
{
	for (size_t i = 0; i < norgs; i++)
		for (size_t j = 0; j < orgs[i].ngroups; j++)
			if (strcmp(orgs[i].groups[j], g) == 0)
				return true;
	return false;
}

/* Compiles one trimmed, non-empty term t (len bytes) into s. */
static enum tcerr
reg_term(struct reg_spec *s, const char *t, size_t len, const struct reg_org *orgs, size_t norgs,
         bool check_groups, bool *none, struct diag *d)
{
	int ilen = (int)len;
	if (len == 3 && strncasecmp(t, "all", 3) == 0) {
		s->all = true;
		return TC_OK;
	}
	if (len == 4 && strncasecmp(t, "none", 4) == 0) {
		*none = true;
		return TC_OK;
	}
	const char *colon = memchr(t, ':', len);
	const char *v = t;
	size_t vlen = len;
	enum { K_BARE, K_ORG, K_SECTOR, K_ROLE, K_GROUP } kind = K_BARE;
	if (colon) {
		size_t plen = (size_t)(colon - t);
		v = colon + 1;
		vlen = len - plen - 1;
		if (plen == 3 && strncasecmp(t, "org", 3) == 0)
			kind = K_ORG;
		else if (plen == 6 && strncasecmp(t, "sector", 6) == 0)
			kind = K_SECTOR;
		else if (plen == 4 && strncasecmp(t, "role", 4) == 0)
			kind = K_ROLE;
		else if (plen == 5 && strncasecmp(t, "group", 5) == 0)
			kind = K_GROUP;
		else
			return diag_set(d, TC_EINVAL,
			                "'%.*s': unknown kind of term (use org:, sector:, role:, "
			                "group:, all or none)",
			                ilen, t);
		if (vlen == 0)
			return diag_set(d, TC_EINVAL, "'%.*s': a name must follow ':'", ilen, t);
	}
	int i;
	if (kind == K_BARE || kind == K_SECTOR) {
		if ((i = reg_name_index(reg_sector_names, SECTOR_MAX, v, vlen))) {
			s->sectors |= 1u << i;
			return TC_OK;
		}
		if (kind == K_SECTOR) {
			char list[256];
			reg_name_list(reg_sector_names, SECTOR_MAX, list, sizeof list);
			return diag_set(d, TC_EINVAL, "'%.*s': unknown sector; sectors are: %s", ilen,
			                t, list);
		}
	}
	if (kind == K_BARE || kind == K_ROLE) {
		if ((i = reg_name_index(reg_role_names, ROLE_MAX, v, vlen))) {
			s->roles |= 1u << i;
			return TC_OK;
		}
		if (kind == K_ROLE) {
			char list[256];
			reg_name_list(reg_role_names, ROLE_MAX, list, sizeof list);
			return diag_set(d, TC_EINVAL, "'%.*s': unknown role; roles are: %s", ilen, t,
			                list);
		}
	}
	if (kind == K_GROUP) {
		char g[REG_GROUP_NAME_MAX + 1], raw[REG_GROUP_NAME_MAX + 2];
		if (vlen > REG_GROUP_NAME_MAX)
			return diag_set(d, TC_EINVAL, "'%.*s': group name longer than %d", ilen, t,
			                REG_GROUP_NAME_MAX);
		memcpy(raw, v, vlen);
		raw[vlen] = '\0';
		enum tcerr rc = reg__group_norm(raw, g, d);
		if (rc)
			return rc;
		if (check_groups && !reg_group_known(orgs, norgs, g))
			return diag_set(d, TC_EINVAL, "'%.*s': no organisation is in group '%s'", ilen,
			                t, g);
		void *p = realloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
		if (!p)
			return diag_set(d, TC_ENOMEM, "out of memory");
		s->groups = p;
		memcpy(s->groups[s->ngroups++], g, sizeof g);
		return TC_OK;
	}
	/* K_ORG, or a bare word that names no sector or role */
	const struct reg_org *o = reg_org_by_name(orgs, norgs, v, vlen);
	if (!o)
		return diag_set(d, TC_EINVAL,
		                kind == K_ORG ? "'%.*s': no such organisation"
		                              : "'%.*s': no sector, role or organisation of that name",
		                ilen, t);
	void *p = realloc(s->orgs, (s->norgs + 1) * sizeof *s->orgs);
	if (!p)
		return diag_set(d, TC_ENOMEM, "out of memory");
	s->orgs = p;
	s->orgs[s->norgs++] = o->num;
	return TC_OK;
}

enum tcerr
reg__spec_compile(const char *text, const struct reg_org *orgs, size_t norgs, bool check_groups,
                  struct reg_spec *out, struct diag *d)
{
	enum tcerr rc = TC_OK;
	bool none = false;
	size_t nterms = 0, len = strlen(text);

	memset(out, 0, sizeof *out);
	if (len > REG_SPEC_MAX)
		return diag_set(d, TC_ELIMIT, "longer than %d bytes", REG_SPEC_MAX);
	struct slice all = slice_trim(slice_make(text, len));
	if (all.len == 0)
		return diag_set(d, TC_EINVAL, "empty (write 'none' for nobody)");
	const char *p = text, *end = text + len;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct slice t = slice_trim(slice_make(p, (size_t)(stop - p)));
		if (++nterms > REG_SPEC_TERMS_MAX) {
			rc = diag_set(d, TC_ELIMIT, "more than %d terms", REG_SPEC_TERMS_MAX);
			goto out;
		}
		if (t.len == 0) {
			rc = diag_set(d, TC_EINVAL, "term %zu is empty", nterms);
			goto out;
		}
		if ((rc = reg_term(out, t.p, t.len, orgs, norgs, check_groups, &none, d)))
			goto out;
		p = stop + 1;
	}
	if (none && nterms > 1) {
		rc = diag_set(d, TC_EINVAL, "'none' cannot be combined with other terms");
		goto out;
	}
	/* sort and drop duplicates so lookups can bisect and merge */
	if (out->norgs) {
		qsort(out->orgs, out->norgs, sizeof *out->orgs, reg_cmp_i64);
		size_t k = 1;
		for (size_t i = 1; i < out->norgs; i++)
			if (out->orgs[i] != out->orgs[k - 1])
				out->orgs[k++] = out->orgs[i];
		out->norgs = k;
	}
	if (out->ngroups) {
		qsort(out->groups, out->ngroups, sizeof *out->groups, reg_cmp_group);
		size_t k = 1;
		for (size_t i = 1; i < out->ngroups; i++)
			if (strcmp(out->groups[i], out->groups[k - 1]) != 0)
				memcpy(out->groups[k++], out->groups[i], sizeof *out->groups);
		out->ngroups = k;
	}
out:
	if (rc)
		reg__spec_free(out);
	return rc;
}

enum tcerr
reg__spec_rename(const char *text, const struct reg_org *orgs, size_t norgs, int64_t num,
                 const char *newname, struct buf *out, bool *changed, struct diag *d)
{
	size_t len = strlen(text);
	const char *p = text, *end = text + len;
	bool first = true;

	*changed = false;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct slice t = slice_trim(slice_make(p, (size_t)(stop - p)));
		p = stop + 1;
		if (!first)
			buf_append_char(out, ',');
		first = false;
		/* does this term name organisation num? (compile it alone) */
		struct reg_spec one;
		bool none = false, hit = false;
		memset(&one, 0, sizeof one);
		if (t.len && reg_term(&one, t.p, t.len, orgs, norgs, false, &none, NULL) == TC_OK)
			hit = one.norgs == 1 && one.orgs[0] == num;
		reg__spec_free(&one);
		if (hit) {
			buf_append_cstr(out, "org:");
			buf_append_cstr(out, newname);
			*changed = true;
		} else {
			buf_append_slice(out, t);
		}
	}
	if (buf_error(out))
		return diag_set(d, buf_error(out), "rights too long after the rename");
	return TC_OK;
}

bool
reg_spec_admits(const struct reg_spec *spec, const struct reg_principal *p,
                const struct reg_org *o)
{
	if (spec->all)
		return true;
	if (!o)
		return false; /* the hub itself: only `all` */
	if (o->sector >= 1 && o->sector <= SECTOR_MAX && (spec->sectors & (1u << o->sector)))
		return true;
	if (p && p->role >= 1 && p->role <= ROLE_MAX && (spec->roles & (1u << p->role)))
		return true;
	if (spec->norgs &&
	    bsearch(&o->num, spec->orgs, spec->norgs, sizeof *spec->orgs, reg_cmp_i64))
		return true;
	/* both group lists are sorted: merge */
	size_t i = 0, j = 0;
	while (i < spec->ngroups && j < o->ngroups) {
		int c = strcmp(spec->groups[i], o->groups[j]);
		if (c == 0)
			return true;
		if (c < 0)
			i++;
		else
			j++;
	}
	return false;
}
