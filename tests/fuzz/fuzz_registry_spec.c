/*
 * Fuzz target: the collection rights SPEC compiler
 * (lib/registry/registry_spec.c, reg__spec_compile), which needs no
 * database: it compiles against an array of organisations. The input is
 * the SPEC text; it is compiled with and without the group check against
 * four fixed organisations. Invariant checked on success: the compiled
 * spec holds only resolved terms (org numbers that exist, sorted and
 * unique; valid lower-case groups, sorted and unique; sector and role
 * bits inside their enums), and admission agrees with it. A spec that
 * compiles is also rewritten for a rename of organisation 2
 * (reg__spec_rename, what `tocsin org rename` does to stored rights): the
 * rewritten text compiles, against the renamed organisations, to the same
 * spec.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NORGS 4

static struct reg_org orgs[NORGS];

static void
org_init(struct reg_org *o, int64_t num, const char *name, enum reg_sector sector, const char *g0,
         const char *g1)
{
	memset(o, 0, sizeof(*o));
	o->num = num;
	memcpy(o->name, name, strlen(name) + 1);
	o->sector = sector;
	memcpy(o->country, "LU", 3);
	if (g0)
		memcpy(o->groups[o->ngroups++], g0, strlen(g0) + 1);
	if (g1)
		memcpy(o->groups[o->ngroups++], g1, strlen(g1) + 1);
}

static void
check_spec(const struct reg_spec *s)
{
	/* sector and role bits stay inside their enums */
	if (s->sectors & ~(((1u << (SECTOR_MAX + 1)) - 1) & ~1u))
		abort();
	if (s->roles & ~(((1u << (ROLE_MAX + 1)) - 1) & ~1u))
		abort();
	for (size_t i = 0; i < s->norgs; i++) {
		if (s->orgs[i] < 1 || s->orgs[i] > NORGS)
			abort();
		if (i && s->orgs[i] <= s->orgs[i - 1])
			abort();
	}
	for (size_t i = 0; i < s->ngroups; i++) {
		char norm[REG_GROUP_NAME_MAX + 1];
		struct diag d;
		size_t len = strnlen(s->groups[i], REG_GROUP_NAME_MAX + 1);
		if (len == 0 || len > REG_GROUP_NAME_MAX)
			abort();
		if (reg__group_norm(s->groups[i], norm, &d) != TC_OK || strcmp(norm, s->groups[i]))
			abort();
		if (i && strcmp(s->groups[i], s->groups[i - 1]) <= 0)
			abort();
	}
	/* admission: the hub itself only under `all`; an org listed by
	 * number is admitted */
	if (reg_spec_admits(s, NULL, NULL) != s->all)
		abort();
	for (size_t i = 0; i < s->norgs; i++)
		if (!reg_spec_admits(s, NULL, &orgs[s->orgs[i] - 1]))
			abort();
	struct reg_principal p = {.num = 1, .org = 1, .role = ROLE_READER};
	for (size_t i = 0; i < NORGS; i++)
		(void)reg_spec_admits(s, &p, &orgs[i]);
}

static bool
same_spec(const struct reg_spec *a, const struct reg_spec *b)
{
	if (a->all != b->all || a->sectors != b->sectors || a->roles != b->roles ||
	    a->norgs != b->norgs || a->ngroups != b->ngroups)
		return false;
	if (a->norgs && memcmp(a->orgs, b->orgs, a->norgs * sizeof *a->orgs))
		return false;
	for (size_t i = 0; i < a->ngroups; i++)
		if (strcmp(a->groups[i], b->groups[i]))
			return false;
	return true;
}

/* Renames organisation 2 in text and checks the result means the same. */
static void
check_rename(const char *text, const struct reg_spec *before)
{
	static struct reg_org renamed[NORGS];
	struct buf out;
	struct diag d;
	bool changed = false;
	buf_init(&out, 2 * REG_SPEC_MAX);
	enum tcerr rc = reg__spec_rename(text, orgs, NORGS, 2, "Telco Two", &out, &changed, &d);
	if (rc != TC_OK) {
		if (rc != TC_ELIMIT && rc != TC_ENOMEM)
			abort();
		buf_reset(&out);
		return;
	}
	memcpy(renamed, orgs, sizeof renamed);
	memcpy(renamed[1].name, "Telco Two", sizeof "Telco Two");
	struct reg_spec after;
	rc = reg__spec_compile(out.p ? out.p : "", renamed, NORGS, false, &after, &d);
	if (rc == TC_OK && !same_spec(before, &after))
		abort();
	if (rc != TC_OK && rc != TC_ELIMIT && rc != TC_ENOMEM)
		abort(); /* the rewritten text always parses */
	bool names2 = false;
	for (size_t i = 0; i < before->norgs; i++)
		names2 = names2 || before->orgs[i] == 2;
	if (changed && !names2)
		abort();
	reg__spec_free(&after);
	buf_reset(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		org_init(&orgs[0], 1, "bank", SECTOR_FINANCE, "fin", "eu.north");
		org_init(&orgs[1], 2, "Telco One", SECTOR_TELECOM, "eu.north", NULL);
		org_init(&orgs[2], 3, "cert", SECTOR_CERT, "fin", NULL);
		org_init(&orgs[3], 4, "finance", SECTOR_OTHER, NULL, NULL);
		ready = true;
	}
	/* a little over the limit is enough to test it */
	if (size > REG_SPEC_MAX + 64)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (int check_groups = 0; check_groups < 2; check_groups++) {
		struct reg_spec s;
		struct diag d;
		enum tcerr rc = reg__spec_compile(text, orgs, NORGS, check_groups, &s, &d);
		if (rc == TC_OK) {
			check_spec(&s);
			if (!check_groups)
				check_rename(text, &s);
		} else if (rc != TC_EINVAL && rc != TC_ELIMIT && rc != TC_ENOMEM)
			abort();
		else if (s.orgs || s.groups || s.norgs || s.ngroups || s.all)
			abort(); /* freed and emptied on error */
		reg__spec_free(&s);
	}
	free(text);
	return 0;
}
