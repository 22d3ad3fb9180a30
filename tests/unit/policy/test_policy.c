/* Unit tests of lib/policy: a registry of organisations in sectors and
 * sharing groups, principals of every role and collections with rights,
 * then a literal table of who sees which version: every TLP level
 * (unmarked and TLP 1.0 included) x producer (same organisation, sharing
 * a group, other, the hub) x named recipient or not x collection readable
 * or not. Rows are built from real STIX objects run through the
 * validator, so the TLP 1.0 mapping and the distribution extension are
 * exercised as ingest sees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "policy/policy.h"
#include "stix/stix.h"

/* marking-definition ids: TLP 2.0 and TLP 1.0 (STIX 2.1 §7.2.1.4) */
#define M_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define M_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define M_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define M_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define M_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define M1_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define M1_GREEN "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define M1_AMBER "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define M1_RED "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

enum { BANK, BANK2, TELCO, OTHER, CERT, NORGS };
static const struct {
	const char *name;
	enum reg_sector sector;
	const char *groups[2];
	size_t ngroups;
} org_defs[NORGS] = {
	[BANK] = { "Bank", SECTOR_FINANCE, { "fin-isac", "national" }, 2 },
	[BANK2] = { "Bank Two", SECTOR_FINANCE, { "fin-isac" }, 1 },
	[TELCO] = { "Telco", SECTOR_TELECOM, { "national" }, 1 },
	[OTHER] = { "Other", SECTOR_INTERNET, { NULL }, 0 },
	[CERT] = { "CERT", SECTOR_CERT, { "national" }, 1 },
};

enum { C_OPEN, C_CLOSED, C_FIN, C_ROLES, C_NONE, NCOLL };
static const struct {
	const char *alias, *read, *write; /* read NULL: no rights set */
} coll_defs[NCOLL] = {
	[C_OPEN] = { "open", "all", "all" },
	[C_CLOSED] = { "closed", "org:Other", "org:Other" },
	[C_FIN] = { "fin", "sector:finance", "group:fin-isac" },
	[C_ROLES] = { "roles", "role:reader,role:agent", "role:admin,Telco" },
	[C_NONE] = { "none", NULL, NULL },
};

static struct {
	char dir[64];
	struct registry *reg;
	struct store *store;
	struct reg_snapshot *snap;
	struct reg_org org[NORGS];
	struct reg_principal p[NORGS][ROLE_MAX + 1]; /* p[org][role] */
	int64_t coll[NCOLL];
} w;

static int
setup(void **state)
{
	struct diag d;

	snprintf(w.dir, sizeof(w.dir), "/tmp/tocsin-policy-XXXXXX");
	assert_non_null(mkdtemp(w.dir));
	assert_int_equal(registry_open(w.dir, &w.reg, &d), TC_OK);
	assert_int_equal(store_open("memory:", &w.store, &d), TC_OK);
	for (int o = 0; o < NORGS; o++) {
		if (registry_org_add(w.reg, org_defs[o].name, org_defs[o].sector, "DE",
		                     org_defs[o].groups, org_defs[o].ngroups, &w.org[o], &d))
			fail_msg("org %s: %s", org_defs[o].name, d.msg);
		for (int r = 1; r <= ROLE_MAX; r++) {
			char key[REG_KEY_TEXT_MAX + 1];
			if (registry_key_create(w.reg, org_defs[o].name, (enum reg_role)r, "test",
			                        NULL, key, &w.p[o][r], &d))
				fail_msg("key: %s", d.msg);
		}
	}
	for (int c = 0; c < NCOLL; c++) {
		struct store_collection sc;
		assert_int_equal(store_collection_add(w.store, coll_defs[c].alias, NULL, NULL, NULL,
		                                      &sc, &d),
		                 TC_OK);
		w.coll[c] = sc.num;
		if (coll_defs[c].read &&
		    registry_rights_set(w.reg, sc.uuid, coll_defs[c].read, coll_defs[c].write, &d))
			fail_msg("rights %s: %s", coll_defs[c].alias, d.msg);
	}
	if (reg_snapshot_build(w.reg, w.store, &w.snap, &d))
		fail_msg("snapshot: %s", d.msg);
	return 0;
}

static int
teardown(void **state)
{
	char p[128];

	reg_snapshot_unref(w.snap);
	store_close(w.store);
	registry_close(w.reg);
	static const char *const files[] = { "registry.db", "registry.db-wal", "registry.db-shm" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", w.dir, files[i]);
		unlink(p);
	}
	rmdir(w.dir);
	return 0;
}

/* One stored version as policy sees it, built from a validated object. */
struct ver {
	char json[4096];
	struct stix_meta meta;
	struct store_row row;
};

/* Builds an indicator with the given markings (NULL-terminated, may be
 * empty) and recipients (raw JSON text of the "recipients" value, NULL for
 * no extension), validates it and fills v->row. */
static void
ver_make(struct ver *v, const char *const *markings, const char *recipients, int producer_org,
         int coll)
{
	static int serial;
	char marks[1024] = "", ext[2048] = "";
	size_t m = 0;
	struct diag d;
	json_t *o;
	int n;

	for (size_t i = 0; markings && markings[i]; i++) {
		n = snprintf(marks + m, sizeof(marks) - m, "%s\"%s\"", i ? "," : "", markings[i]);
		assert_true(n > 0 && (size_t)n < sizeof(marks) - m);
		m += (size_t)n;
	}
	if (recipients) {
		n = snprintf(ext, sizeof(ext),
		             ",\"extensions\":{\"" POLICY_EXT_ID "\":{\"extension_type\":"
		             "\"property-extension\",\"recipients\":%s}}",
		             recipients);
		assert_true(n > 0 && (size_t)n < (int)sizeof(ext));
	}
	serial++;
	n = snprintf(v->json, sizeof(v->json),
	             "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	             "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
	             "\"created\":\"2024-01-01T00:00:00.000Z\","
	             "\"modified\":\"2024-01-01T00:00:00.000Z\","
	             "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
	             "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\""
	             "%s%s%s%s}",
	             serial, m ? ",\"object_marking_refs\":[" : "", marks, m ? "]" : "", ext);
	assert_true(n > 0 && (size_t)n < sizeof(v->json));
	assert_int_equal(stix_json_parse(slice_from_cstr(v->json), NULL, &o, &d), TC_OK);
	/* The hub refuses recipients lists it cannot read (stix_validate);
	 * policy must still hide a stored one (a row of an older build, a
	 * damaged row): validate without the extension, keep it in the row. */
	if (recipients)
		json_object_del(o, "extensions");
	if (stix_validate(o, NULL, NULL, &v->meta, &d) != TC_OK)
		fail_msg("invalid test object: %s\n%s", d.msg, v->json);
	json_decref(o);
	memset(&v->row, 0, sizeof(v->row));
	v->row.seq = (uint64_t)serial;
	v->row.collection = w.coll[coll];
	v->row.json = slice_from_cstr(v->json);
	v->row.id = v->meta.id;
	v->row.type = v->meta.type;
	v->row.version = v->meta.version;
	v->row.version_us = v->meta.version_us;
	v->row.spec_version = v->meta.spec_version;
	v->row.tlp = v->meta.tlp;
	v->row.producer = producer_org < 0 ? 0 : w.org[producer_org].num;
	v->row.is_first = v->row.is_last = true;
}

static void
subject(struct policy_subject *who, int org, enum reg_role role)
{
	policy_subject_principal(who, w.snap, &w.p[org][role]);
}

/* ---- collection rights ---- */

static void
test_collection_rights(void **state)
{
	/* [org][collection] for a reader and for a contributor: "rw" letters */
	static const struct {
		int org;
		enum reg_role role;
		const char *rights[NCOLL]; /* open closed fin roles none */
	} t[] = {
		{ BANK, ROLE_READER, { "r", "", "r", "r", "" } },
		{ BANK, ROLE_CONTRIBUTOR, { "rw", "", "rw", "", "" } },
		{ BANK, ROLE_ADMIN, { "rw", "", "rw", "w", "" } },
		{ BANK, ROLE_AGENT, { "r", "", "r", "r", "" } },
		{ BANK2, ROLE_COORDINATOR, { "rw", "", "rw", "", "" } },
		{ BANK2, ROLE_PEER, { "rw", "", "rw", "", "" } },
		{ TELCO, ROLE_READER, { "r", "", "", "r", "" } },
		{ TELCO, ROLE_CONTRIBUTOR, { "rw", "", "", "w", "" } },
		{ OTHER, ROLE_READER, { "r", "r", "", "r", "" } },
		{ OTHER, ROLE_CONTRIBUTOR, { "rw", "rw", "", "", "" } },
		{ CERT, ROLE_AGENT, { "r", "", "", "r", "" } },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct policy_subject who;
		subject(&who, t[i].org, t[i].role);
		for (int c = 0; c < NCOLL; c++) {
			const struct reg_collection *rc = reg_snapshot_collection(w.snap, w.coll[c]);
			assert_non_null(rc);
			struct policy_rights r = policy_collection(&who, rc);
			char got[3] = "";
			size_t n = 0;
			if (r.can_read)
				got[n++] = 'r';
			if (r.can_write)
				got[n++] = 'w';
			got[n] = '\0';
			if (strcmp(got, t[i].rights[c]) != 0)
				fail_msg("%s %s on %s: got '%s', want '%s'", org_defs[t[i].org].name,
				         reg_role_name(t[i].role), coll_defs[c].alias, got,
				         t[i].rights[c]);
		}
	}
}

static void
test_operator_and_org_rights(void **state)
{
	struct policy_subject op, org;
	const struct reg_collection *none = reg_snapshot_collection(w.snap, w.coll[C_NONE]);
	const struct reg_collection *roles = reg_snapshot_collection(w.snap, w.coll[C_ROLES]);
	const struct reg_collection *fin = reg_snapshot_collection(w.snap, w.coll[C_FIN]);

	policy_subject_operator(&op, w.snap);
	assert_true(policy_collection(&op, none).can_read);
	assert_true(policy_collection(&op, none).can_write);

	/* an organisation as a whole: role terms admit nobody, writes nothing */
	policy_subject_org(&org, w.snap, &w.org[BANK]);
	assert_true(policy_collection(&org, fin).can_read);
	assert_false(policy_collection(&org, fin).can_write);
	assert_false(policy_collection(&org, roles).can_read);
	assert_false(policy_collection(&org, NULL).can_read);
}

/* ---- the visibility matrix ---- */

enum { P_SAME, P_GROUP, P_OTHER, P_HUB, NPROD };
static const int producer_org[NPROD] = { BANK, BANK2, OTHER, -1 };

static void
test_visibility_matrix(void **state)
{
	/* The requester is a reader of Bank. Recipients name Bank (and Telco)
	 * or only Telco. Each cell: named, not named; readable collection
	 * "open". In the unreadable collection "closed" every cell is 0. */
	static const struct {
		const char *what;
		const char *marks[3];
		int see[NPROD][2]; /* [producer][named? 0 : 1] */
	} t[] = {
		{ "unmarked", { NULL }, { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } } },
		{ "CLEAR", { M_CLEAR }, { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } } },
		{ "TLP1 WHITE", { M1_WHITE }, { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } } },
		{ "GREEN", { M_GREEN }, { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } } },
		{ "TLP1 GREEN", { M1_GREEN }, { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } } },
		{ "AMBER", { M_AMBER }, { { 1, 1 }, { 1, 1 }, { 0, 0 }, { 1, 1 } } },
		{ "TLP1 AMBER", { M1_AMBER }, { { 1, 1 }, { 1, 1 }, { 0, 0 }, { 1, 1 } } },
		{ "AMBER+STRICT", { M_AMBER_STRICT }, { { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 } } },
		{ "RED", { M_RED }, { { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 } } },
		{ "TLP1 RED", { M1_RED }, { { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 } } },
		{ "GREEN and RED", { M_GREEN, M_RED }, { { 1, 1 }, { 1, 0 }, { 1, 0 }, { 1, 0 } } },
		{ "TLP1 GREEN and AMBER", { M1_GREEN, M_AMBER },
		  { { 1, 1 }, { 1, 1 }, { 0, 0 }, { 1, 1 } } },
	};
	char named[2 * STIX_ID_MAX + 16], not_named[STIX_ID_MAX + 8];
	struct policy_subject who, op;
	size_t cells = 0;

	snprintf(named, sizeof(named), "[\"%s\",\"%s\"]", w.org[TELCO].identity,
	         w.org[BANK].identity);
	snprintf(not_named, sizeof(not_named), "[\"%s\"]", w.org[TELCO].identity);
	subject(&who, BANK, ROLE_READER);
	policy_subject_operator(&op, w.snap);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (int p = 0; p < NPROD; p++)
			for (int nm = 0; nm < 2; nm++)
				for (int readable = 0; readable < 2; readable++) {
					struct ver v;
					ver_make(&v, t[i].marks, nm == 0 ? named : not_named,
					         producer_org[p], readable ? C_OPEN : C_CLOSED);
					bool want = readable && t[i].see[p][nm];
					bool got = policy_row(&who, &v.row);
					if (got != want)
						fail_msg("%s, producer %s, %s, %s: got %d want %d",
						         t[i].what,
						         (const char *[]){ "same org", "group",
						                           "other", "hub" }[p],
						         nm == 0 ? "named" : "not named",
						         readable ? "readable" : "unreadable", got,
						         want);
					/* the operator sees everything */
					assert_true(policy_row(&op, &v.row));
					/* audit exactly the AMBER and RED levels */
					assert_int_equal(policy_audit_read(&who, &v.row),
					                 v.row.tlp >= TLP_AMBER);
					cells++;
				}
	assert_int_equal(cells, sizeof(t) / sizeof(t[0]) * NPROD * 2 * 2);
}

static void
test_amber_group_is_the_producers(void **state)
{
	/* Telco shares "national" with Bank but nothing with Bank Two. */
	struct policy_subject telco, cert, other;
	struct ver v;
	static const char *const amber[] = { M_AMBER, NULL };

	subject(&telco, TELCO, ROLE_READER);
	subject(&cert, CERT, ROLE_AGENT);
	subject(&other, OTHER, ROLE_READER);
	ver_make(&v, amber, NULL, BANK, C_OPEN);
	assert_true(policy_row(&telco, &v.row));
	assert_true(policy_row(&cert, &v.row));
	assert_false(policy_row(&other, &v.row));
	ver_make(&v, amber, NULL, BANK2, C_OPEN);
	assert_false(policy_row(&telco, &v.row));
	assert_false(policy_row(&cert, &v.row));
	/* AMBER does not read recipients: naming Other does not show it */
	char rec[STIX_ID_MAX + 8];
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[OTHER].identity);
	ver_make(&v, amber, rec, BANK2, C_OPEN);
	assert_false(policy_row(&other, &v.row));
}

/* A principal of role peer (another hub, issue 12) reads across a border:
 * AMBER only where its organisation shares a group with the producer, not
 * the hub's own AMBER (a reader of the collection would see it), never
 * AMBER+STRICT or RED even when named. */
static void
test_peer_border(void **state)
{
	struct policy_subject telco_peer, telco_reader, other_peer;
	struct ver v;
	static const char *const amber[] = { M_AMBER, NULL };
	static const char *const green[] = { M_GREEN, NULL };
	static const char *const strict[] = { M_AMBER_STRICT, NULL };
	char rec[STIX_ID_MAX + 8];

	subject(&telco_peer, TELCO, ROLE_PEER);
	subject(&telco_reader, TELCO, ROLE_READER);
	subject(&other_peer, OTHER, ROLE_PEER);
	ver_make(&v, green, NULL, BANK, C_OPEN);
	assert_true(policy_row(&other_peer, &v.row));
	ver_make(&v, amber, NULL, BANK, C_OPEN); /* Telco shares "national" with Bank */
	assert_true(policy_row(&telco_peer, &v.row));
	assert_false(policy_row(&other_peer, &v.row));
	ver_make(&v, amber, NULL, -1, C_OPEN);   /* the hub's own AMBER */
	assert_true(policy_row(&telco_reader, &v.row));
	assert_false(policy_row(&telco_peer, &v.row));
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[TELCO].identity);
	ver_make(&v, strict, rec, BANK, C_OPEN);
	assert_true(policy_row(&telco_reader, &v.row));
	assert_false(policy_row(&telco_peer, &v.row));
	(void)state;
}

static void
test_every_principal_of_a_named_org(void **state)
{
	/* RED by Other named to Telco: every role of Telco sees it where it
	 * can read; nobody of Bank does. */
	static const char *const red[] = { M_RED, NULL };
	struct ver v;
	char rec[STIX_ID_MAX + 8];

	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[TELCO].identity);
	ver_make(&v, red, rec, OTHER, C_OPEN);
	for (int r = 1; r <= ROLE_MAX; r++) {
		struct policy_subject a, b;
		subject(&a, TELCO, (enum reg_role)r);
		subject(&b, BANK, (enum reg_role)r);
		/* a peer hub never gets RED, named or not (issue 12) */
		assert_int_equal(policy_row(&a, &v.row), r != ROLE_PEER);
		assert_false(policy_row(&b, &v.row));
	}
	/* the organisation subject (export --for) agrees */
	struct policy_subject org;
	policy_subject_org(&org, w.snap, &w.org[TELCO]);
	assert_true(policy_row(&org, &v.row));
	policy_subject_org(&org, w.snap, &w.org[BANK]);
	assert_false(policy_row(&org, &v.row));
}

static void
test_unreadable_recipients_hide(void **state)
{
	static const char *const red[] = { M_RED, NULL };
	static const char *const strict[] = { M_AMBER_STRICT, NULL };
	struct policy_subject bank, op;
	struct ver v;
	char rec[STIX_ID_MAX + 16];

	subject(&bank, BANK, ROLE_READER);
	policy_subject_operator(&op, w.snap);
	/* a non-string member spoils the list, even next to Bank's id */
	snprintf(rec, sizeof(rec), "[\"%s\",42]", w.org[BANK].identity);
	ver_make(&v, red, rec, TELCO, C_OPEN);
	assert_false(policy_row(&bank, &v.row));
	assert_true(policy_row(&op, &v.row));
	/* AMBER+STRICT of one's own organisation needs no recipients */
	ver_make(&v, strict, rec, BANK, C_OPEN);
	assert_true(policy_row(&bank, &v.row));
	/* more than POLICY_RECIPIENTS_MAX recipients: hidden */
	{
		struct buf b;
		buf_init(&b, 0);
		buf_printf(&b, "[\"%s\"", w.org[BANK].identity);
		for (int i = 0; i < POLICY_RECIPIENTS_MAX; i++)
			buf_printf(&b, ",\"identity--00000000-0000-4000-8000-%012d\"", i);
		buf_append_cstr(&b, "]");
		assert_int_equal(buf_error(&b), TC_OK);
		struct store_row row;
		struct ver big;
		ver_make(&big, red, "[]", TELCO, C_OPEN);
		/* splice the long list into the stored JSON by hand */
		char *json = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&json, &len);
		const char *at = strstr(big.json, "\"recipients\":[]");
		assert_non_null(at);
		fprintf(f, "%.*s\"recipients\":%s%s", (int)(at - big.json), big.json, b.p,
		        at + strlen("\"recipients\":[]"));
		fclose(f);
		row = big.row;
		row.json = slice_make(json, len);
		assert_false(policy_row(&bank, &row));
		/* one fewer and Bank is seen */
		buf_clear(&b);
		buf_printf(&b, "[\"%s\"", w.org[BANK].identity);
		for (int i = 0; i < POLICY_RECIPIENTS_MAX - 1; i++)
			buf_printf(&b, ",\"identity--00000000-0000-4000-8000-%012d\"", i);
		buf_append_cstr(&b, "]");
		free(json);
		f = open_memstream(&json, &len);
		fprintf(f, "%.*s\"recipients\":%s%s", (int)(at - big.json), big.json, b.p,
		        at + strlen("\"recipients\":[]"));
		fclose(f);
		row.json = slice_make(json, len);
		assert_true(policy_row(&bank, &row));
		free(json);
		buf_reset(&b);
	}
	/* not JSON at all */
	ver_make(&v, red, "[]", TELCO, C_OPEN);
	v.row.json = SLICE_LIT("{\"recipients\":");
	assert_false(policy_row(&bank, &v.row));
}

/* Puts `"description":"<text>",` first in v's stored JSON (after validation:
 * policy reads the row's bytes only). */
static void
ver_describe(struct ver *v, const char *text)
{
	char tmp[sizeof(v->json)];
	int n = snprintf(tmp, sizeof(tmp), "{\"description\":\"%s\",%s", text, v->json + 1);
	assert_true(n > 0 && (size_t)n < sizeof(tmp));
	memcpy(v->json, tmp, (size_t)n + 1);
	v->row.json = slice_from_cstr(v->json);
}

static void
test_producer_sees_own(void **state)
{
	/* Issue 8: a producer always sees its own versions, RED and
	 * AMBER+STRICT included, without naming itself; others do not. */
	static const char *const red[] = { M_RED, NULL };
	static const char *const strict[] = { M_AMBER_STRICT, NULL };
	static const char *const amber[] = { M_AMBER, NULL };
	const char *const *levels[] = { red, strict, amber };
	struct ver v;
	char rec[STIX_ID_MAX + 8];

	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[TELCO].identity);
	for (size_t i = 0; i < 3; i++)
		for (int named = 0; named < 2; named++) {
			ver_make(&v, levels[i], named ? rec : NULL, OTHER, C_OPEN);
			for (int r = 1; r <= ROLE_MAX; r++) {
				struct policy_subject own, bank;
				subject(&own, OTHER, (enum reg_role)r);
				subject(&bank, BANK, (enum reg_role)r);
				/* a peer hub is not sent back what it sent (issue 12) */
				assert_int_equal(policy_row(&own, &v.row), r != ROLE_PEER);
				assert_false(policy_row(&bank, &v.row));
			}
			struct policy_subject org;
			policy_subject_org(&org, w.snap, &w.org[OTHER]);
			assert_true(policy_row(&org, &v.row));
			/* the collection's rights still apply to the producer */
			ver_make(&v, levels[i], named ? rec : NULL, OTHER, C_NONE);
			assert_false(policy_row(&org, &v.row));
		}
}

static void
test_author(void **state)
{
	/* Issue 8 point 5: created_by_ref is absent or the poster's own
	 * identity; the hub may not name an organisation's identity. */
	char buf[512];
	struct diag d;
	json_t *o;
	const struct reg_org *bank = &w.org[BANK], *telco = &w.org[TELCO];

	o = json_pack("{s:s, s:s}", "type", "indicator", "id",
	              "indicator--00000000-0000-4000-8000-000000000001");
	assert_int_equal(policy_author_check(w.snap, bank, o, "objects[0]", &d), TC_OK);
	assert_int_equal(policy_author_check(w.snap, NULL, o, "objects[0]", &d), TC_OK);
	json_object_set_new(o, "created_by_ref", json_string(bank->identity));
	assert_int_equal(policy_author_check(w.snap, bank, o, "objects[0]", &d), TC_OK);
	/* Telco posting as Bank: refused, naming Bank */
	diag_clear(&d);
	assert_int_equal(policy_author_check(w.snap, telco, o, "objects[0]", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "objects[0].created_by_ref"));
	assert_non_null(strstr(d.msg, "'Bank'"));
	/* the hub (CLI import without --as): refused, pointing at --as */
	diag_clear(&d);
	assert_int_equal(policy_author_check(w.snap, NULL, o, "feed.json:3", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "--as 'Bank'"));
	/* Bank's identity in upper case is still Bank's */
	snprintf(buf, sizeof buf, "%s", bank->identity);
	for (char *q = buf + strlen("identity--"); *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 32);
	json_object_set_new(o, "created_by_ref", json_string(buf));
	assert_int_equal(policy_author_check(w.snap, telco, o, NULL, &d), TC_EPERM);
	assert_int_equal(policy_author_check(w.snap, bank, o, NULL, &d), TC_OK);
	/* an identity no organisation has: refused for an organisation,
	 * allowed for the hub (a feed names its source) */
	json_object_set_new(o, "created_by_ref",
	                    json_string("identity--00000000-0000-4000-8000-0000000000aa"));
	diag_clear(&d);
	assert_int_equal(policy_author_check(w.snap, bank, o, "objects[1]", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "not the identity of 'Bank'"));
	assert_int_equal(policy_author_check(w.snap, NULL, o, "objects[1]", &d), TC_OK);
	json_decref(o);
	/* an identity object with Bank's id: Bank's (or the hub's) to post */
	o = json_pack("{s:s, s:s, s:s}", "type", "identity", "id", bank->identity, "name", "Bank");
	assert_int_equal(policy_author_check(w.snap, bank, o, "x", &d), TC_OK);
	assert_int_equal(policy_author_check(w.snap, NULL, o, "x", &d), TC_OK);
	diag_clear(&d);
	assert_int_equal(policy_author_check(w.snap, telco, o, "x", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "x.id"));
	json_decref(o);
}

static void
test_any_reader(void **state)
{
	/* RED by the hub named to nobody: no organisation reads it; named to
	 * Telco: Telco does; in a collection nobody reads: nobody. */
	static const char *const red[] = { M_RED, NULL };
	static const char *const green[] = { M_GREEN, NULL };
	char rec[STIX_ID_MAX + 8];
	struct ver v;

	ver_make(&v, red, NULL, -1, C_OPEN);
	assert_false(policy_any_reader(w.snap, &v.row));
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[TELCO].identity);
	ver_make(&v, red, rec, -1, C_OPEN);
	assert_true(policy_any_reader(w.snap, &v.row));
	ver_make(&v, green, NULL, -1, C_NONE);
	assert_false(policy_any_reader(w.snap, &v.row));
	ver_make(&v, green, NULL, -1, C_OPEN);
	assert_true(policy_any_reader(w.snap, &v.row));
}

static void
test_extension_id_elsewhere(void **state)
{
	/* The recipients are read only when the extension id occurs in the
	 * version's bytes; the id (and Bank's identity) inside a string value
	 * must not make it look named. */
	static const char *const red[] = { M_RED, NULL };
	static const char *const strict[] = { M_AMBER_STRICT, NULL };
	struct policy_subject bank, telco;
	struct ver v;
	char text[512], rec[STIX_ID_MAX + 8];

	subject(&bank, BANK, ROLE_READER);
	subject(&telco, TELCO, ROLE_READER);
	snprintf(text, sizeof(text), "for " POLICY_EXT_ID " recipients: [%s]",
	         w.org[BANK].identity);
	/* no extension, the id only in the description: hidden */
	ver_make(&v, red, NULL, TELCO, C_OPEN);
	ver_describe(&v, text);
	assert_false(policy_row(&bank, &v.row));
	ver_make(&v, strict, NULL, TELCO, C_OPEN);
	ver_describe(&v, text);
	assert_false(policy_row(&bank, &v.row));
	/* the id in the description and the extension naming Telco: Bank
	 * still hidden, Telco named */
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[TELCO].identity);
	ver_make(&v, red, rec, TELCO, C_OPEN);
	ver_describe(&v, text);
	assert_false(policy_row(&bank, &v.row));
	assert_true(policy_row(&telco, &v.row));
	/* the extension naming Bank after such a description: seen */
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[BANK].identity);
	ver_make(&v, red, rec, OTHER, C_OPEN);
	ver_describe(&v, text);
	assert_true(policy_row(&bank, &v.row));
	/* the extension's key spelled with a \u escape is still read */
	ver_make(&v, red, rec, OTHER, C_OPEN);
	char *k = strstr(v.json, "\"" POLICY_EXT_ID "\"");
	assert_non_null(k);
	{
		char tmp[sizeof(v.json)];
		int n =
		    snprintf(tmp, sizeof(tmp), "%.*s\"\\u0065%s", (int)(k - v.json), v.json, k + 2);
		assert_true(n > 0 && (size_t)n < sizeof(tmp));
		memcpy(v.json, tmp, (size_t)n + 1);
		v.row.json = slice_from_cstr(v.json);
	}
	assert_null(strstr(v.json, POLICY_EXT_ID));
	assert_true(policy_row(&bank, &v.row));
	assert_false(policy_row(&telco, &v.row));
	/* ... also after escaped backslashes (C:\\u is no \u escape) */
	ver_describe(&v, "C:\\\\u\\\\");
	assert_true(policy_row(&bank, &v.row));
	assert_false(policy_row(&telco, &v.row));
}

static void
test_unknown_collection_and_org(void **state)
{
	static const char *const green[] = { M_GREEN, NULL };
	struct policy_subject bank, ghost, nobody;
	struct reg_principal p = w.p[BANK][ROLE_ADMIN];
	struct ver v;

	subject(&bank, BANK, ROLE_READER);
	ver_make(&v, green, NULL, BANK, C_OPEN);
	assert_true(policy_row(&bank, &v.row));
	v.row.collection = 9999;
	assert_false(policy_row(&bank, &v.row));
	/* a principal whose organisation is not in the snapshot sees nothing */
	p.org = 9999;
	policy_subject_principal(&ghost, w.snap, &p);
	ver_make(&v, green, NULL, BANK, C_OPEN);
	assert_false(policy_row(&ghost, &v.row));
	policy_subject_org(&nobody, w.snap, NULL);
	assert_false(policy_row(&nobody, &v.row));
	/* the "none" collection shows nothing to anyone but the operator */
	ver_make(&v, green, NULL, BANK, C_NONE);
	for (int o = 0; o < NORGS; o++)
		for (int r = 1; r <= ROLE_MAX; r++) {
			struct policy_subject s;
			subject(&s, o, (enum reg_role)r);
			assert_false(policy_row(&s, &v.row));
		}
}

/* ---- deleting ---- */

static void
test_delete_rules(void **state)
{
	static const char *const green[] = { M_GREEN, NULL };
	static const char *const amber[] = { M_AMBER, NULL };
	static const struct {
		const char *what;
		int org;
		enum reg_role role;
		const char *const *marks;
		int producer, coll;
		bool want;
	} t[] = {
		{ "own version", BANK, ROLE_CONTRIBUTOR, green, BANK, C_OPEN, true },
		{ "another org's version", BANK, ROLE_CONTRIBUTOR, green, BANK2, C_OPEN, false },
		{ "the hub's version", BANK, ROLE_COORDINATOR, green, -1, C_OPEN, false },
		{ "admin, another org's version", BANK, ROLE_ADMIN, green, BANK2, C_OPEN, true },
		{ "admin, the hub's version", BANK, ROLE_ADMIN, green, -1, C_OPEN, true },
		{ "admin, a version it cannot see", BANK, ROLE_ADMIN, amber, OTHER, C_OPEN, false },
		{ "admin, visible AMBER of its group", BANK, ROLE_ADMIN, amber, BANK2, C_OPEN,
		  true },
		{ "reader, own version", BANK, ROLE_READER, green, BANK, C_OPEN, false },
		{ "agent, own version", BANK, ROLE_AGENT, green, BANK, C_OPEN, false },
		{ "own version, unreadable collection", BANK, ROLE_ADMIN, green, BANK, C_CLOSED,
		  false },
		{ "own version, no write right", TELCO, ROLE_CONTRIBUTOR, green, TELCO, C_ROLES,
		  false },
		{ "reader, readable but not writable", BANK, ROLE_READER, green, BANK, C_ROLES,
		  false },
		{ "Telco admin in roles: write yes, read no", TELCO, ROLE_ADMIN, green, TELCO,
		  C_ROLES, false },
		{ "own version, group-writable", BANK2, ROLE_CONTRIBUTOR, green, BANK2, C_FIN, true },
		/* a peer hub's principal does not see (so cannot delete) what its
		 * organisation sent: replication deletes through the hub itself */
		{ "peer principal, own version", BANK2, ROLE_PEER, green, BANK2, C_FIN, false },
	};
	struct policy_subject op, org;

	policy_subject_operator(&op, w.snap);
	policy_subject_org(&org, w.snap, &w.org[BANK]);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct policy_subject who;
		struct ver v;
		subject(&who, t[i].org, t[i].role);
		ver_make(&v, t[i].marks, NULL, t[i].producer, t[i].coll);
		if (policy_may_delete(&who, &v.row) != t[i].want)
			fail_msg("%s: got %d want %d", t[i].what, !t[i].want, t[i].want);
		assert_true(policy_may_delete(&op, &v.row));
		assert_false(policy_may_delete(&org, &v.row));
	}
}


/* ---- issue 8: unknown markings, default_tlp, canonical recipients ---- */

static void
test_unknown_marking_is_red(void **state)
{
	/* a marking no TLP id names and the hub does not know as a statement */
	static const char *const unknown[] = {
		"marking-definition--0b5e6e3b-0c1a-4f27-a3c8-3d2a0e8e6c1c", NULL };
	struct policy_subject bank, bank2, op;
	struct ver v;
	char rec[STIX_ID_MAX + 8];

	subject(&bank, BANK, ROLE_READER);
	subject(&bank2, BANK2, ROLE_READER);
	policy_subject_operator(&op, w.snap);
	ver_make(&v, unknown, NULL, BANK2, C_OPEN);
	assert_int_equal(v.row.tlp, TLP_RED);
	assert_false(policy_row(&bank, &v.row));
	assert_true(policy_row(&op, &v.row));
	assert_true(policy_audit_read(&bank, &v.row));
	/* RED semantics: the named recipients see it */
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[BANK].identity);
	ver_make(&v, unknown, rec, BANK2, C_OPEN);
	assert_true(policy_row(&bank, &v.row));
}

static void
test_recipients_in_upper_case_hide(void **state)
{
	static const char *const red[] = { M_RED, NULL };
	struct policy_subject bank;
	struct ver v;
	char rec[STIX_ID_MAX + 8], up[STIX_ID_MAX];

	subject(&bank, BANK, ROLE_READER);
	snprintf(up, sizeof(up), "%s", w.org[BANK].identity);
	for (char *p = up + strlen("identity--"); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(rec, sizeof(rec), "[\"%s\"]", up);
	ver_make(&v, red, rec, TELCO, C_OPEN);
	/* not Bank's id in the only form the hub knows: in doubt, hidden */
	assert_false(policy_row(&bank, &v.row));
	snprintf(rec, sizeof(rec), "[\"%s\"]", w.org[BANK].identity);
	ver_make(&v, red, rec, TELCO, C_OPEN);
	assert_true(policy_row(&bank, &v.row));
}

static void
test_default_tlp(void **state)
{
	struct policy_subject bank, bank2, other;
	struct reg_snapshot *snap;
	struct ver v;
	struct diag d;
	enum tlp_level l;
	bool dflt;

	/* nothing stored: green */
	assert_int_equal(reg_default_tlp_get(w.store, &l, &d), TC_OK);
	assert_int_equal(l, TLP_GREEN);
	assert_int_equal(policy_effective_tlp(w.snap, TLP_NONE, &dflt), TLP_GREEN);
	assert_true(dflt);
	assert_int_equal(policy_effective_tlp(w.snap, TLP_AMBER, &dflt), TLP_AMBER);
	assert_false(dflt);
	ver_make(&v, NULL, NULL, BANK2, C_OPEN);
	assert_int_equal(v.row.tlp, TLP_NONE);
	subject(&other, OTHER, ROLE_READER);
	assert_true(policy_row(&other, &v.row));
	assert_false(policy_audit_read(&other, &v.row));

	/* default_tlp = amber: unmarked versions reach the producer's groups */
	assert_int_equal(reg_default_tlp_set(w.store, TLP_AMBER, &d), TC_OK);
	assert_int_equal(reg_default_tlp_set(w.store, TLP_NONE, &d), TC_EINVAL);
	assert_int_equal(reg_snapshot_build(w.reg, w.store, &snap, &d), TC_OK);
	assert_int_equal(reg_snapshot_default_tlp(snap), TLP_AMBER);
	policy_subject_principal(&bank, snap, &w.p[BANK][ROLE_READER]);
	policy_subject_principal(&bank2, snap, &w.p[BANK2][ROLE_READER]);
	policy_subject_principal(&other, snap, &w.p[OTHER][ROLE_READER]);
	assert_true(policy_row(&bank, &v.row));   /* shares fin-isac with the producer */
	assert_true(policy_row(&bank2, &v.row));  /* the producer */
	assert_false(policy_row(&other, &v.row));
	assert_true(policy_audit_read(&bank, &v.row));
	assert_int_equal(policy_effective_tlp(snap, TLP_NONE, &dflt), TLP_AMBER);
	reg_snapshot_unref(snap);

	/* a damaged stored value is an error, not a guess */
	assert_int_equal(store_setting_set(w.store, REG_DEFAULT_TLP_SETTING, "purple"), TC_OK);
	assert_int_equal(reg_default_tlp_get(w.store, &l, &d), TC_EINVAL);
	assert_int_equal(reg_snapshot_build(w.reg, w.store, &snap, &d), TC_EINVAL);
	assert_int_equal(reg_default_tlp_set(w.store, TLP_GREEN, &d), TC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collection_rights),
		cmocka_unit_test(test_operator_and_org_rights),
		cmocka_unit_test(test_visibility_matrix),
		cmocka_unit_test(test_amber_group_is_the_producers),
		cmocka_unit_test(test_peer_border),
		cmocka_unit_test(test_every_principal_of_a_named_org),
		cmocka_unit_test(test_unreadable_recipients_hide),
		cmocka_unit_test(test_producer_sees_own),
		cmocka_unit_test(test_author),
		cmocka_unit_test(test_any_reader),
		cmocka_unit_test(test_extension_id_elsewhere),
		cmocka_unit_test(test_unknown_collection_and_org),
		cmocka_unit_test(test_delete_rules),
		cmocka_unit_test(test_unknown_marking_is_red),
		cmocka_unit_test(test_recipients_in_upper_case_hide),
		cmocka_unit_test(test_default_tlp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
