/*
 * registry_constituency.c — what each organisation answers for: its
 * networks (CIDR), AS numbers and domains (docs/coordination.md). The
 * daemon builds its fast lookup (lib/coord/coord_const.c) from these rows.
 *
 * Invariant: no entry of one organisation overlaps an entry of another
 * (checked under the registry's lock inside the inserting transaction, so
 * two writers cannot both pass the check); entries are stored normalised,
 * so one resource has one spelling.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "observable/observable.h"
#include "registry/registry_internal.h"
#include "util/timestamp.h"

enum tcerr
reg_const_parse(const char *text, struct reg_const *out, struct diag *d)
{
	size_t n = text ? strlen(text) : 0;
	char tmp[REG_CONST_VALUE_MAX];
	memset(out->value, 0, sizeof out->value);
	out->v6 = false;
	memset(out->addr, 0, sizeof out->addr);
	out->plen = 0;
	out->asn = 0;
	if (n == 0 || n >= sizeof tmp)
		return diag_set(d, TC_EINVAL, "a constituency entry is a CIDR, ASN or domain of "
		                              "1 to %d bytes", REG_CONST_VALUE_MAX - 1);
	memcpy(tmp, text, n + 1);

	/* AS number */
	if ((tmp[0] == 'A' || tmp[0] == 'a') && (tmp[1] == 'S' || tmp[1] == 's') &&
	    tmp[2] >= '0' && tmp[2] <= '9') {
		size_t k = strspn(tmp + 2, "0123456789");
		uint64_t v = 0;
		if (tmp[2 + k] || k > 10 || (tmp[2] == '0'))
			return diag_set(d, TC_EINVAL, "'%.32s' is not an AS number (AS1 to AS4294967295)",
			                text);
		for (size_t i = 0; i < k; i++)
			v = v * 10 + (uint64_t)(tmp[2 + i] - '0');
		if (v == 0 || v > UINT32_MAX)
			return diag_set(d, TC_EINVAL, "'%.32s' is not an AS number (AS1 to AS4294967295)",
			                text);
		out->kind = REG_CONST_ASN;
		out->asn = (uint32_t)v;
		snprintf(out->value, sizeof out->value, "AS%" PRIu32, out->asn);
		return TC_OK;
	}

	/* network */
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	uint8_t a[16];
	bool v6 = strchr(tmp, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, a) == 1) {
		unsigned max = v6 ? 128 : 32, plen = max;
		if (slash) {
			const char *p = slash + 1;
			size_t k = strspn(p, "0123456789");
			if (k == 0 || k > 3 || p[k] || (k > 1 && p[0] == '0'))
				return diag_set(d, TC_EINVAL, "'%.64s': bad prefix length", text);
			plen = (unsigned)strtoul(p, NULL, 10);
			if (plen > max)
				return diag_set(d, TC_EINVAL, "'%.64s': prefix length over %u", text, max);
		}
		size_t nb = v6 ? 16 : 4;
		for (size_t i = 0; i < nb; i++) {
			int keep = (int)plen - (int)(i * 8);
			uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
			if (a[i] & (uint8_t)~mask)
				return diag_set(d, TC_EINVAL,
				                "'%.64s': host bits set after the /%u prefix", text, plen);
		}
		out->kind = REG_CONST_NET;
		out->v6 = v6;
		memcpy(out->addr, a, nb);
		out->plen = plen;
		char addr[INET6_ADDRSTRLEN];
		inet_ntop(v6 ? AF_INET6 : AF_INET, a, addr, sizeof addr);
		snprintf(out->value, sizeof out->value, "%s/%u", addr, plen);
		return TC_OK;
	}
	if (slash || v6)
		return diag_set(d, TC_EINVAL, "'%.64s' is not a network (ADDRESS/PREFIX)", text);

	/* domain */
	struct buf b;
	buf_init(&b, REG_CONST_VALUE_MAX - 1);
	struct diag dd;
	diag_clear(&dd);
	enum tcerr t = obs_normalize(NULL, OBS_DOMAIN, slice_from_cstr(text), &b, &dd);
	if (!t && buf_error(&b))
		t = TC_ELIMIT;
	if (!t && !strchr(b.p, '.'))
		t = diag_set(&dd, TC_EINVAL, "a top-level domain is too wide");
	if (t) {
		buf_reset(&b);
		return diag_set(d, TC_EINVAL, "'%.64s' is not a CIDR, AS number or domain: %s", text,
		                dd.msg);
	}
	out->kind = REG_CONST_DOMAIN;
	snprintf(out->value, sizeof out->value, "%s", b.p);
	buf_reset(&b);
	return TC_OK;
}

bool
reg_const_overlaps(const struct reg_const *a, const struct reg_const *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case REG_CONST_ASN:
		return a->asn == b->asn;
	case REG_CONST_NET: {
		if (a->v6 != b->v6)
			return false;
		unsigned p = a->plen < b->plen ? a->plen : b->plen;
		for (unsigned i = 0; i < p / 8; i++)
			if (a->addr[i] != b->addr[i])
				return false;
		if (p % 8) {
			uint8_t m = (uint8_t)(0xff << (8 - p % 8));
			if ((a->addr[p / 8] & m) != (b->addr[p / 8] & m))
				return false;
		}
		return true;
	}
	case REG_CONST_DOMAIN: {
		size_t la = strlen(a->value), lb = strlen(b->value);
		const struct reg_const *s = la <= lb ? a : b, *l = la <= lb ? b : a;
		size_t ls = la <= lb ? la : lb, ll = la <= lb ? lb : la;
		if (ls == ll)
			return strcmp(s->value, l->value) == 0;
		return l->value[ll - ls - 1] == '.' && strcmp(l->value + ll - ls, s->value) == 0;
	}
	}
	return false;
}

/* The organisation of name ("#num" or name): TC_ENOTFOUND, TC_EINVAL
 * (deleted). Under the lock. */
static enum tcerr
org_of(struct registry *r, const char *name, int64_t *num, char *out_name, size_t size,
       struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	bool by_num = name && name[0] == '#';
	char *end = NULL;
	long long n = by_num ? strtoll(name + 1, &end, 10) : 0;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            by_num ? "SELECT num, name, deleted_us FROM orgs WHERE num = ?1"
	                                   : "SELECT num, name, deleted_us FROM orgs WHERE name = ?1",
	                            -1, &st, NULL);
	if (rc)
		return reg__dberr(r, rc, d);
	if (by_num)
		sqlite3_bind_int64(st, 1, (end && *end) ? -1 : n);
	else
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*num = sqlite3_column_int64(st, 0);
		if (out_name) {
			const unsigned char *v = sqlite3_column_text(st, 1);
			snprintf(out_name, size, "%s", v ? (const char *)v : "");
		}
		if (sqlite3_column_int64(st, 2))
			t = diag_set(d, TC_EINVAL, "organisation '%.128s' is deleted", name);
	} else if (rc == SQLITE_DONE) {
		t = diag_set(d, TC_ENOTFOUND, "no organisation '%.128s'", name ? name : "");
	} else {
		t = reg__dberr(r, rc, d);
	}
	sqlite3_finalize(st);
	return t;
}

static void
name_of(struct registry *r, int64_t num, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	snprintf(out, size, "#%" PRId64, num);
	if (sqlite3_prepare_v2(reg__db(r), "SELECT name FROM orgs WHERE num = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, num);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
}

enum tcerr
registry_constituency_add(struct registry *r, const char *org_name, const char *text,
                          struct reg_const *out, struct diag *d)
{
	struct reg_const c;
	enum tcerr t;
	sqlite3_stmt *st = NULL;
	int64_t org = 0, count = 0;
	char oname[REG_ORG_NAME_MAX + 1];

	if ((t = reg_const_parse(text, &c, d)))
		return t;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_exec(reg__db(r), "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto unlock;
	}
	if ((t = org_of(r, org_name, &org, oname, sizeof oname, d)))
		goto rollback;
	c.org = org;
	c.created_us = ts_now_us();
	/* the overlap check: every entry of the kind (a network: of the family) */
	rc = sqlite3_prepare_v2(reg__db(r), "SELECT value, org FROM constituencies WHERE kind = ?1",
	                        -1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	sqlite3_bind_int(st, 1, (int)c.kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_const o;
		struct diag dd;
		const char *v = (const char *)sqlite3_column_text(st, 0);
		count++;
		if (!v || reg_const_parse(v, &o, &dd) || !reg_const_overlaps(&c, &o))
			continue;
		int64_t other = sqlite3_column_int64(st, 1);
		if (other == org && strcmp(o.value, c.value) != 0)
			continue; /* an organisation's own entries may nest */
		char who[REG_ORG_NAME_MAX + 1];
		name_of(r, other, who, sizeof who);
		if (other == org)
			t = diag_set(d, TC_EEXIST, "%s has %s already", oname, c.value);
		else
			t = diag_set(d, TC_EEXIST, "%s overlaps %s, in the constituency of %s", c.value,
			             o.value, who);
		break;
	}
	if (!t && rc != SQLITE_ROW && rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
	sqlite3_finalize(st);
	st = NULL;
	if (t)
		goto rollback;
	if (count >= REG_CONSTS_MAX) {
		t = diag_set(d, TC_ELIMIT, "a hub holds at most %d constituency entries of a kind",
		             REG_CONSTS_MAX);
		goto rollback;
	}
	rc = sqlite3_prepare_v2(reg__db(r), "INSERT INTO constituencies VALUES(?1, ?2, ?3, ?4)", -1,
	                        &st, NULL);
	if (!rc) {
		sqlite3_bind_int(st, 1, (int)c.kind);
		sqlite3_bind_text(st, 2, c.value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, org);
		sqlite3_bind_int64(st, 4, c.created_us);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	rc = sqlite3_exec(reg__db(r), "COMMIT", NULL, NULL, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto rollback;
	}
	if (out)
		*out = c;
	goto unlock;
rollback:
	sqlite3_exec(reg__db(r), "ROLLBACK", NULL, NULL, NULL);
unlock:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_constituency_remove(struct registry *r, const char *org_name, const char *text,
                             struct diag *d)
{
	struct reg_const c;
	enum tcerr t;
	sqlite3_stmt *st = NULL;
	int64_t org = 0;
	char oname[REG_ORG_NAME_MAX + 1];
	if ((t = reg_const_parse(text, &c, d)))
		return t;
	pthread_mutex_lock(reg__mu(r));
	if ((t = org_of(r, org_name, &org, oname, sizeof oname, d)) && t != TC_EINVAL)
		goto out;
	t = TC_OK;
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "DELETE FROM constituencies WHERE kind = ?1 AND value = ?2"
	                            " AND org = ?3",
	                            -1, &st, NULL);
	if (!rc) {
		sqlite3_bind_int(st, 1, (int)c.kind);
		sqlite3_bind_text(st, 2, c.value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, org);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
	else if (sqlite3_changes(reg__db(r)) == 0)
		t = diag_set(d, TC_ENOTFOUND, "%s is not in the constituency of %s", c.value, oname);
out:
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_constituency_list(struct registry *r, int64_t org,
                           enum tcerr (*cb)(void *ctx, const struct reg_const *c), void *ctx,
                           struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	struct reg_const *v = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "SELECT value, org, created_us FROM constituencies"
	                            " WHERE ?1 = 0 OR org = ?1 ORDER BY kind, value",
	                            -1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto out;
	}
	sqlite3_bind_int64(st, 1, org);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct diag dd;
		const char *val = (const char *)sqlite3_column_text(st, 0);
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			struct reg_const *w = realloc(v, nc * sizeof *w);
			if (!w) {
				t = diag_set(d, TC_ENOMEM, "out of memory");
				break;
			}
			v = w;
			cap = nc;
		}
		if (!val || reg_const_parse(val, &v[n], &dd))
			continue;
		v[n].org = sqlite3_column_int64(st, 1);
		v[n].created_us = sqlite3_column_int64(st, 2);
		n++;
	}
	if (!t && rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	/* after the lock, so cb may call the registry */
	for (size_t i = 0; i < n && !t; i++)
		t = cb(ctx, &v[i]);
	free(v);
	return t;
}
