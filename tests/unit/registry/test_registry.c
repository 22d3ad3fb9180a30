/*
 * Unit tests of lib/registry: organisations, keys and certificates, SPECs
 * and their admission matrix, snapshots over a memory store, and status
 * resources, all on a real registry.db in a temporary folder.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"

struct fixture {
	char dir[256];
	struct registry *r;
	struct store *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-registry-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(store_open("memory:", &f->s, &d), TC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	registry_close(f->r);
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t
add_org(struct fixture *f, const char *name, enum reg_sector sector, const char *groups)
{
	const char *g[REG_GROUPS_MAX];
	char copy[512];
	size_t n = 0;
	struct reg_org o;
	struct diag d;
	if (groups) {
		snprintf(copy, sizeof copy, "%s", groups);
		for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			g[n++] = t;
	}
	enum tcerr rc = registry_org_add(f->r, name, sector, "DE", g, n, &o, &d);
	if (rc)
		fail_msg("org_add %s: %s", name, d.msg);
	return o.num;
}

static void
new_key(struct fixture *f, const char *org, enum reg_role role, char text[REG_KEY_TEXT_MAX + 1],
        struct reg_principal *p)
{
	struct diag d;
	enum tcerr rc = registry_key_create(f->r, org, role, "test key", NULL, text, p, &d);
	if (rc)
		fail_msg("key_create: %s", d.msg);
}

static struct reg_snapshot *
snap(struct fixture *f)
{
	struct reg_snapshot *sn = NULL;
	struct diag d;
	enum tcerr rc = reg_snapshot_build(f->r, f->s, &sn, &d);
	if (rc)
		fail_msg("snapshot: %s", d.msg);
	return sn;
}

/* ---------- organisations ---------- */

static void
test_org_add(void **state)
{
	struct fixture *f = *state;
	struct reg_org o, o2;
	struct diag d;
	char uuid[UUID_TEXT_MAX], want[STIX_ID_MAX];

	assert_int_equal(registry_org_add(f->r, "ACME Bank", SECTOR_FINANCE, "de", NULL, 0, &o, &d),
	                 TC_OK);
	assert_int_equal(o.num, 1);
	assert_string_equal(o.name, "ACME Bank");
	assert_string_equal(o.country, "DE");
	assert_int_equal(o.sector, SECTOR_FINANCE);
	assert_int_equal(o.ngroups, 0);
	/* identity--UUIDv5(namespace, lower-cased name) */
	assert_int_equal(uuid_v5(REG_ORG_NAMESPACE, SLICE_LIT("acme bank"), uuid), TC_OK);
	snprintf(want, sizeof want, "identity--%s", uuid);
	assert_string_equal(o.identity, want);

	/* duplicate names in any case */
	assert_int_equal(registry_org_add(f->r, "acme BANK", SECTOR_OTHER, "FR", NULL, 0, NULL, &d),
	                 TC_EEXIST);
	assert_non_null(strstr(d.msg, "ACME Bank"));
	assert_int_equal(registry_org_add(f->r, "ACME Bank", SECTOR_FINANCE, "DE", NULL, 0, NULL,
	                                  &d),
	                 TC_EEXIST);

	/* find by any case and by number */
	assert_int_equal(registry_org_find(f->r, "acme bank", &o2), TC_OK);
	assert_string_equal(o2.identity, o.identity);
	assert_int_equal(registry_org_find(f->r, "#1", &o2), TC_OK);
	assert_string_equal(o2.name, "ACME Bank");
	assert_int_equal(registry_org_find(f->r, "#2", &o2), TC_ENOTFOUND);
	assert_int_equal(registry_org_find(f->r, "#x", &o2), TC_ENOTFOUND);
	assert_int_equal(registry_org_find(f->r, "ACME", &o2), TC_ENOTFOUND);
}

static void
test_org_bad_fields(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	static const char *const bad_countries[] = { "", "D", "DEU", "U1", "1A", "é" };
	for (size_t i = 0; i < sizeof bad_countries / sizeof *bad_countries; i++) {
		assert_int_equal(registry_org_add(f->r, "X", SECTOR_CERT, bad_countries[i], NULL, 0,
		                                  NULL, &d),
		                 TC_EINVAL);
		assert_non_null(strstr(d.msg, "country"));
	}
	assert_int_equal(registry_org_add(f->r, "X", SECTOR_CERT, NULL, NULL, 0, NULL, &d),
	                 TC_EINVAL);

	char longname[REG_ORG_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	static const char *const bad_names[] = { "", "a,b", "#1", " lead", "trail ", "tab\there",
		                                 "bad\xff", "\xc0\x80" };
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
		assert_int_equal(registry_org_add(f->r, bad_names[i], SECTOR_CERT, "DE", NULL, 0,
		                                  NULL, &d),
		                 TC_EINVAL);
		assert_non_null(strstr(d.msg, "name"));
	}
	assert_int_equal(registry_org_add(f->r, longname, SECTOR_CERT, "DE", NULL, 0, NULL, &d),
	                 TC_EINVAL);
	longname[REG_ORG_NAME_MAX] = '\0'; /* exactly the limit */
	assert_int_equal(registry_org_add(f->r, longname, SECTOR_CERT, "DE", NULL, 0, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_org_add(f->r, "Ünïcode Org", SECTOR_CERT, "DE", NULL, 0, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_org_add(f->r, "Y", 0, "DE", NULL, 0, NULL, &d), TC_EINVAL);
	assert_int_equal(registry_org_add(f->r, "Y", SECTOR_MAX + 1, "DE", NULL, 0, NULL, &d),
	                 TC_EINVAL);
}

static void
test_org_groups(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct reg_org o;
	char names[REG_GROUPS_MAX + 1][16];
	const char *g[REG_GROUPS_MAX + 1];

	for (int i = 0; i <= REG_GROUPS_MAX; i++) {
		snprintf(names[i], sizeof names[i], "g%02d", REG_GROUPS_MAX - i);
		g[i] = names[i];
	}
	assert_int_equal(registry_org_add(f->r, "Many", SECTOR_CERT, "DE", g, REG_GROUPS_MAX + 1,
	                                  NULL, &d),
	                 TC_ELIMIT);
	assert_int_equal(registry_org_find(f->r, "Many", &o), TC_ENOTFOUND);
	assert_int_equal(registry_org_add(f->r, "Many", SECTOR_CERT, "DE", g, REG_GROUPS_MAX, &o,
	                                  &d),
	                 TC_OK);
	assert_int_equal(o.ngroups, REG_GROUPS_MAX);
	assert_string_equal(o.groups[0], "g01"); /* sorted */

	const char *dup[] = { "EU-Banks", "eu-banks", "alpha.1" };
	assert_int_equal(registry_org_add(f->r, "Dup", SECTOR_FINANCE, "FR", dup, 3, &o, &d), TC_OK);
	assert_int_equal(o.ngroups, 2);
	assert_string_equal(o.groups[0], "alpha.1");
	assert_string_equal(o.groups[1], "eu-banks");

	const char *bad[] = { "-x" };
	assert_int_equal(registry_org_set_groups(f->r, "Dup", bad, 1, &d), TC_EINVAL);
	const char *bad2[] = { "with space" };
	assert_int_equal(registry_org_set_groups(f->r, "Dup", bad2, 1, &d), TC_EINVAL);
	const char *repl[] = { "zeta" };
	assert_int_equal(registry_org_set_groups(f->r, "dup", repl, 1, &d), TC_OK);
	assert_int_equal(registry_org_find(f->r, "Dup", &o), TC_OK);
	assert_int_equal(o.ngroups, 1);
	assert_string_equal(o.groups[0], "zeta");
	assert_int_equal(registry_org_set_groups(f->r, "Nobody", repl, 1, &d), TC_ENOTFOUND);
	assert_int_equal(registry_org_set_groups(f->r, "Dup", NULL, 0, &d), TC_OK);
	assert_int_equal(registry_org_find(f->r, "Dup", &o), TC_OK);
	assert_int_equal(o.ngroups, 0);
}

struct names {
	char v[8][REG_ORG_NAME_MAX + 1];
	size_t n;
};

static enum tcerr
collect_org(void *ctx, const struct reg_org *o)
{
	struct names *nm = ctx;
	if (nm->n == 8)
		return TC_ELIMIT;
	snprintf(nm->v[nm->n++], sizeof nm->v[0], "%s", o->name);
	return TC_OK;
}

static void
test_org_list_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct names nm = { 0 };
	struct diag d;
	add_org(f, "Zed", SECTOR_TELECOM, NULL);
	add_org(f, "Alpha", SECTOR_FINANCE, "x");
	registry_close(f->r);
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_org_list(f->r, collect_org, &nm), TC_OK);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "Zed"); /* creation order */
	assert_string_equal(nm.v[1], "Alpha");

	/* another SQLite file is not taken for a registry */
	char path[300];
	snprintf(path, sizeof path, "%s/other", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	struct store *s;
	char spec[320];
	snprintf(spec, sizeof spec, "sqlite:%s/other/%s", f->dir, REG_FILE);
	assert_int_equal(store_open(spec, &s, &d), TC_OK);
	store_close(s);
	struct registry *r2;
	assert_int_equal(registry_open(path, &r2, &d), TC_EDB);
	assert_non_null(strstr(d.msg, "not a tocsin registry"));
	snprintf(path, sizeof path, "%s/missing/dir", f->dir);
	assert_int_equal(registry_open(path, &r2, &d), TC_EIO);
}

/* ---------- names ---------- */

static void
test_names(void **state)
{
	enum reg_sector s;
	enum reg_role r;
	struct diag d;
	for (int i = 1; i <= SECTOR_MAX; i++) {
		assert_int_equal(reg_sector_parse(reg_sector_name((enum reg_sector)i), &s, &d), TC_OK);
		assert_int_equal(s, i);
	}
	for (int i = 1; i <= ROLE_MAX; i++) {
		assert_int_equal(reg_role_parse(reg_role_name((enum reg_role)i), &r, &d), TC_OK);
		assert_int_equal(r, i);
	}
	assert_string_equal(reg_sector_name(SECTOR_LAW_ENFORCEMENT), "law-enforcement");
	assert_null(reg_sector_name(0));
	assert_null(reg_role_name(ROLE_MAX + 1));
	assert_int_equal(reg_sector_parse("banking", &s, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "critical-infrastructure"));
	assert_int_equal(reg_role_parse("root", &r, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "coordinator"));
	assert_false(reg_role_writes(ROLE_READER));
	assert_false(reg_role_writes(ROLE_AGENT));
	assert_true(reg_role_writes(ROLE_CONTRIBUTOR));
	assert_true(reg_role_writes(ROLE_PEER));
	assert_true(reg_role_writes(ROLE_ADMIN));
}

/* ---------- keys ---------- */

static void
test_keys(void **state)
{
	struct fixture *f = *state;
	char text[REG_KEY_TEXT_MAX + 1], bad[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p, p2;
	struct diag d;

	int64_t org = add_org(f, "Bank", SECTOR_FINANCE, NULL);
	new_key(f, "bank", ROLE_CONTRIBUTOR, text, &p);
	assert_int_equal(strncmp(text, "tcs_", 4), 0);
	assert_int_equal(strlen(p.key_id), REG_KEY_ID_LEN);
	assert_int_equal(p.key_id[0], 'k');
	assert_int_equal(strspn(p.key_id + 1, "abcdefghijklmnopqrstuvwxyz234567"),
	                 REG_KEY_ID_LEN - 1);
	assert_int_equal(strncmp(text + 4, p.key_id, REG_KEY_ID_LEN), 0);
	assert_int_equal(text[4 + REG_KEY_ID_LEN], '_');
	assert_int_equal(strlen(text), 4 + REG_KEY_ID_LEN + 1 + 43); /* 32 bytes base64url */
	assert_int_equal(p.org, org);
	assert_int_equal(p.cred, REG_CRED_KEY);
	assert_int_equal(p.revoked_us, 0);
	new_key(f, "Bank", ROLE_READER, bad, &p2);
	assert_string_not_equal(p.key_id, p2.key_id);
	assert_string_not_equal(text, bad);

	struct reg_snapshot *sn = snap(f);
	const struct reg_principal *who = reg_snapshot_auth_key(sn, text, strlen(text));
	assert_non_null(who);
	assert_string_equal(who->key_id, p.key_id);
	assert_int_equal(who->role, ROLE_CONTRIBUTOR);
	assert_string_equal(who->name, "test key");
	assert_string_equal(reg_snapshot_org(sn, who->org)->name, "Bank");

	/* a wrong secret, one character off */
	memcpy(bad, text, sizeof bad);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	assert_null(reg_snapshot_auth_key(sn, bad, strlen(bad)));
	/* the right key, truncated or extended */
	assert_null(reg_snapshot_auth_key(sn, text, strlen(text) - 1));
	snprintf(bad, sizeof bad, "%sA", text);
	assert_null(reg_snapshot_auth_key(sn, bad, strlen(bad)));
	/* an unknown key id with the right secret */
	memcpy(bad, text, sizeof bad);
	bad[5] = bad[5] == 'a' ? 'b' : 'a';
	assert_null(reg_snapshot_auth_key(sn, bad, strlen(bad)));
	/* malformed */
	assert_null(reg_snapshot_auth_key(sn, "", 0));
	assert_null(reg_snapshot_auth_key(sn, "tcs_", 4));
	assert_null(reg_snapshot_auth_key(sn, p.key_id, strlen(p.key_id)));
	memcpy(bad, text, sizeof bad);
	bad[0] = 'T';
	assert_null(reg_snapshot_auth_key(sn, bad, strlen(bad)));

	/* revoked: gone from the next snapshot; the old one is immutable */
	assert_int_equal(registry_key_revoke(f->r, p.key_id, &d), TC_OK);
	assert_int_equal(registry_key_revoke(f->r, p.key_id, &d), TC_OK);
	assert_int_equal(registry_key_revoke(f->r, "knotakey0000", &d), TC_ENOTFOUND);
	struct reg_snapshot *sn2 = snap(f);
	assert_null(reg_snapshot_auth_key(sn2, text, strlen(text)));
	assert_int_equal(reg_snapshot_nprincipals(sn2), 1);
	/* by key id (a stream's check that its key still stands): found
	 * before the revocation, not after; the other key still is */
	assert_non_null(reg_snapshot_key(sn, p.key_id));
	assert_string_equal(reg_snapshot_key(sn, p.key_id)->key_id, p.key_id);
	assert_null(reg_snapshot_key(sn2, p.key_id));
	assert_non_null(reg_snapshot_key(sn2, p2.key_id));
	assert_null(reg_snapshot_key(sn2, ""));
	assert_null(reg_snapshot_key(sn2, "knotakey0000"));
	assert_null(reg_snapshot_key(sn2, "toolongakeyid00000000"));
	assert_non_null(reg_snapshot_auth_key(sn, text, strlen(text)));
	reg_snapshot_unref(sn);
	reg_snapshot_unref(sn2);

	/* errors */
	assert_int_equal(registry_key_create(f->r, "Nobody", ROLE_READER, NULL, NULL, text, NULL,
	                                     &d),
	                 TC_ENOTFOUND);
	assert_string_equal(text, "");
	assert_int_equal(registry_key_create(f->r, "Bank", 0, NULL, NULL, text, NULL, &d),
	                 TC_EINVAL);
	char longname[REG_KEY_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(registry_key_create(f->r, "Bank", ROLE_READER, longname, NULL, text, NULL,
	                                     &d),
	                 TC_EINVAL);
}

static enum tcerr
collect_principal(void *ctx, const struct reg_principal *p)
{
	struct reg_principal *v = ctx;
	for (int i = 0; i < 8; i++)
		if (v[i].num == 0) {
			v[i] = *p;
			return TC_OK;
		}
	return TC_ELIMIT;
}

static void
test_key_list(void **state)
{
	struct fixture *f = *state;
	char text[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p1, p2, v[8] = { 0 };
	struct diag d;
	add_org(f, "Telco", SECTOR_TELECOM, NULL);
	new_key(f, "Telco", ROLE_READER, text, &p1);
	new_key(f, "Telco", ROLE_ADMIN, text, &p2);
	assert_int_equal(registry_key_revoke(f->r, p1.key_id, &d), TC_OK);
	assert_int_equal(registry_key_list(f->r, collect_principal, v), TC_OK);
	assert_string_equal(v[0].key_id, p1.key_id);
	assert_true(v[0].revoked_us > 0);
	assert_string_equal(v[1].key_id, p2.key_id);
	assert_int_equal(v[1].revoked_us, 0);
	assert_int_equal(v[1].role, ROLE_ADMIN);
	assert_int_equal(v[2].num, 0);
}

/* Returns true if needle occurs in the file at path. */
static bool
file_has(const char *path, const void *needle, size_t len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	static char data[4 << 20];
	size_t n = fread(data, 1, sizeof data, fp);
	fclose(fp);
	return memmem(data, n, needle, len) != NULL;
}

static void
test_key_stored_hashed(void **state)
{
	struct fixture *f = *state;
	char text[REG_KEY_TEXT_MAX + 1], db[300], wal[300];
	struct reg_principal p;
	uint8_t hash[crypto_hash_sha256_BYTES];

	add_org(f, "Bank", SECTOR_FINANCE, NULL);
	new_key(f, "Bank", ROLE_READER, text, &p);
	snprintf(db, sizeof db, "%s/%s", f->dir, REG_FILE);
	snprintf(wal, sizeof wal, "%s/%s-wal", f->dir, REG_FILE);
	const char *secret = text + 4 + REG_KEY_ID_LEN + 1;
	crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
	/* the key id and the hash are there (so this test can see rows), the
	 * secret is not, in the database or its write-ahead log */
	assert_true(file_has(db, p.key_id, strlen(p.key_id)) ||
	            file_has(wal, p.key_id, strlen(p.key_id)));
	assert_true(file_has(db, hash, sizeof hash) || file_has(wal, hash, sizeof hash));
	assert_false(file_has(db, secret, 16));
	assert_false(file_has(wal, secret, 16));
	/* and still not once the log is checkpointed into the database */
	registry_close(f->r);
	struct diag d;
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_false(file_has(db, secret, 16));
	assert_false(file_has(wal, secret, 16));
}

static void
test_cert(void **state)
{
	struct fixture *f = *state;
	uint8_t fp[32], other[32];
	char text[REG_KEY_TEXT_MAX + 1] = "junk";
	struct reg_principal p;
	struct diag d;

	memset(fp, 0xab, sizeof fp);
	memset(other, 0xac, sizeof other);
	add_org(f, "Cert", SECTOR_CERT, NULL);
	assert_int_equal(registry_key_create(f->r, "Cert", ROLE_PEER, "peer hub", fp, text, &p, &d),
	                 TC_OK);
	assert_string_equal(text, "");
	assert_int_equal(p.cred, REG_CRED_CERT);
	assert_int_equal(strlen(p.key_id), REG_KEY_ID_LEN);
	assert_int_equal(registry_key_create(f->r, "Cert", ROLE_READER, NULL, fp, NULL, NULL, &d),
	                 TC_EEXIST);
	assert_non_null(strstr(d.msg, p.key_id));

	struct reg_snapshot *sn = snap(f);
	const struct reg_principal *who = reg_snapshot_auth_cert(sn, fp);
	assert_non_null(who);
	assert_string_equal(who->key_id, p.key_id);
	assert_int_equal(who->role, ROLE_PEER);
	assert_null(reg_snapshot_auth_cert(sn, other));
	/* a certificate principal's id is no key */
	char fake[REG_KEY_TEXT_MAX + 1];
	snprintf(fake, sizeof fake, "tcs_%s_AAAA", p.key_id);
	assert_null(reg_snapshot_auth_key(sn, fake, strlen(fake)));
	reg_snapshot_unref(sn);

	/* revoked: not accepted, and the certificate may be mapped again */
	assert_int_equal(registry_key_revoke(f->r, p.key_id, &d), TC_OK);
	sn = snap(f);
	assert_null(reg_snapshot_auth_cert(sn, fp));
	reg_snapshot_unref(sn);
	assert_int_equal(registry_key_create(f->r, "Cert", ROLE_READER, NULL, fp, NULL, NULL, &d),
	                 TC_OK);
}

static void
test_cert_fingerprint(void **state)
{
	/* a DER "certificate" and its PEM form give the same fingerprint */
	static const char der[] = "\x30\x03\x02\x01\x05";
	static const char pem[] = "junk before\n-----BEGIN CERTIFICATE-----\r\nMAMC\n AQU=\n"
	                          "-----END CERTIFICATE-----\n";
	uint8_t a[32], b[32], want[32];
	struct diag d;
	crypto_hash_sha256(want, (const unsigned char *)der, 5);
	assert_int_equal(registry_cert_fingerprint(der, 5, a, &d), TC_OK);
	assert_memory_equal(a, want, 32);
	assert_int_equal(registry_cert_fingerprint(pem, strlen(pem), b, &d), TC_OK);
	assert_memory_equal(b, want, 32);
	assert_int_equal(registry_cert_fingerprint("hello", 5, a, &d), TC_EINVAL);
	assert_int_equal(registry_cert_fingerprint("", 0, a, &d), TC_EINVAL);
	static const char nob64[] = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----";
	assert_int_equal(registry_cert_fingerprint(nob64, strlen(nob64), a, &d), TC_EINVAL);
	static const char noend[] = "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n";
	assert_int_equal(registry_cert_fingerprint(noend, strlen(noend), a, &d), TC_EINVAL);
	assert_int_equal(registry_cert_fingerprint(der, (size_t)REG_CERT_MAX + 1, a, &d),
	                 TC_ELIMIT);
}

/* ---------- specs ---------- */

static struct store_collection
add_coll(struct fixture *f, const char *alias)
{
	struct store_collection c;
	struct diag d;
	assert_int_equal(store_collection_add(f->s, alias, NULL, alias, "", &c, &d), TC_OK);
	return c;
}

static enum tcerr
set_read(struct fixture *f, const char *uuid, const char *spec, struct diag *d)
{
	return registry_rights_set(f->r, uuid, spec, "none", d);
}

static void
test_spec_terms(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	int64_t bank = add_org(f, "Bank", SECTOR_FINANCE, "eu-fin");
	int64_t telco = add_org(f, "Telco", SECTOR_TELECOM, NULL);
	struct store_collection c = add_coll(f, "c1");

	/* every term kind, keywords in any case, spaces around terms */
	assert_int_equal(set_read(f, c.uuid,
	                          " org:Telco , Bank,SECTOR:cert, finance, role:Admin, reader,"
	                          " group:EU-fin, telco",
	                          &d),
	                 TC_OK);
	struct reg_snapshot *sn = snap(f);
	const struct reg_collection *rc = reg_snapshot_collection_find(sn, "c1");
	assert_non_null(rc);
	assert_false(rc->read.all);
	assert_int_equal(rc->read.norgs, 2); /* Telco named twice, once kept */
	assert_int_equal(rc->read.orgs[0], bank);
	assert_int_equal(rc->read.orgs[1], telco);
	assert_int_equal(rc->read.sectors, (1u << SECTOR_CERT) | (1u << SECTOR_FINANCE));
	assert_int_equal(rc->read.roles, (1u << ROLE_ADMIN) | (1u << ROLE_READER));
	assert_int_equal(rc->read.ngroups, 1);
	assert_string_equal(rc->read.groups[0], "eu-fin");
	/* write was none: nothing */
	assert_false(rc->write.all);
	assert_int_equal(rc->write.norgs + rc->write.ngroups + rc->write.sectors + rc->write.roles,
	                 0);
	reg_snapshot_unref(sn);

	struct buf r, w;
	buf_init(&r, 0);
	buf_init(&w, 0);
	assert_int_equal(registry_rights_get(f->r, c.uuid, &r, &w), TC_OK);
	assert_non_null(strstr(r.p, "org:Telco"));
	assert_string_equal(w.p, "none");
	buf_reset(&r);
	buf_reset(&w);

	assert_int_equal(registry_rights_set(f->r, c.uuid, "ALL", "all", &d), TC_OK);
	sn = snap(f);
	rc = reg_snapshot_collection_find(sn, c.uuid);
	assert_true(rc->read.all);
	assert_true(rc->write.all);
	reg_snapshot_unref(sn);
}

static void
test_spec_rejected(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	add_org(f, "Bank", SECTOR_FINANCE, "eu-fin");
	struct store_collection c = add_coll(f, "c1");
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "org:Nobody", "org:Nobody" },
		{ "Nobody", "no sector, role or organisation" },
		{ "sector:banking", "unknown sector" },
		{ "role:root", "unknown role" },
		{ "group:eu-tel", "no organisation is in group" },
		{ "group:-x", "group" },
		{ "team:red", "unknown kind" },
		{ "org:", "a name must follow" },
		{ "", "empty" },
		{ "  ", "empty" },
		{ "all,,finance", "term 2 is empty" },
		{ "finance,", "term 2 is empty" },
		{ "none,finance", "'none' cannot be combined" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		diag_clear(&d);
		if (set_read(f, c.uuid, bad[i].spec, &d) != TC_EINVAL)
			fail_msg("spec '%s' was accepted", bad[i].spec);
		if (!strstr(d.msg, bad[i].msg))
			fail_msg("spec '%s': message '%s' lacks '%s'", bad[i].spec, d.msg,
			         bad[i].msg);
		assert_non_null(strstr(d.msg, "read"));
		assert_int_equal(registry_spec_check(f->r, bad[i].spec, &d), TC_EINVAL);
	}
	/* write is checked too, and nothing was stored */
	assert_int_equal(registry_rights_set(f->r, c.uuid, "all", "role:root", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "write"));
	struct buf r, w;
	buf_init(&r, 0);
	buf_init(&w, 0);
	assert_int_equal(registry_rights_get(f->r, c.uuid, &r, &w), TC_ENOTFOUND);
	assert_int_equal(registry_spec_check(f->r, "Bank,finance", &d), TC_OK);

	/* limits: terms and bytes */
	char spec[REG_SPEC_MAX + 2];
	size_t n = 0;
	for (int i = 0; i <= REG_SPEC_TERMS_MAX; i++)
		n += (size_t)snprintf(spec + n, sizeof spec - n, "%sall", i ? "," : "");
	assert_int_equal(set_read(f, c.uuid, spec, &d), TC_ELIMIT);
	n = 0;
	for (int i = 0; i < REG_SPEC_TERMS_MAX; i++)
		n += (size_t)snprintf(spec + n, sizeof spec - n, "%sall", i ? "," : "");
	assert_int_equal(set_read(f, c.uuid, spec, &d), TC_OK);
	memset(spec, ' ', sizeof spec - 1);
	spec[sizeof spec - 1] = '\0';
	memcpy(spec, "all", 3);
	assert_int_equal(set_read(f, c.uuid, spec, &d), TC_ELIMIT);
	spec[REG_SPEC_MAX] = '\0';
	assert_int_equal(set_read(f, c.uuid, spec, &d), TC_OK);

	/* the collection must be a UUID */
	assert_int_equal(registry_rights_set(f->r, "c1", "all", "all", &d), TC_EINVAL);
	assert_int_equal(registry_rights_set(f->r, "not-a-uuid-0000-0000-000000000000", "all",
	                                     "all", &d),
	                 TC_EINVAL);
}

/* Admission matrix: who each SPEC admits among five principals and the hub. */
static void
test_spec_admits(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char text[REG_KEY_TEXT_MAX + 1];
	add_org(f, "Bank", SECTOR_FINANCE, "eu-fin,shared");
	add_org(f, "Telco", SECTOR_TELECOM, "shared");
	add_org(f, "Police", SECTOR_LAW_ENFORCEMENT, NULL);
	struct reg_principal who[5];
	new_key(f, "Bank", ROLE_READER, text, &who[0]);
	new_key(f, "Bank", ROLE_ADMIN, text, &who[1]);
	new_key(f, "Telco", ROLE_CONTRIBUTOR, text, &who[2]);
	new_key(f, "Police", ROLE_READER, text, &who[3]);
	new_key(f, "Police", ROLE_AGENT, text, &who[4]);
	static const struct {
		const char *spec;
		const char *admits; /* who[0..4], then the hub: 1 admitted */
	} m[] = {
		{ "all", "111111" },
		{ "none", "000000" },
		{ "org:Bank", "110000" },
		{ "bank", "110000" },
		{ "finance", "110000" },
		{ "sector:telecom", "001000" },
		{ "law-enforcement,telco", "001110" },
		{ "role:admin", "010000" },
		{ "reader", "100100" },
		{ "agent,contributor", "001010" },
		{ "group:eu-fin", "110000" },
		{ "group:shared", "111000" },
		{ "group:shared,org:police", "111110" },
		{ "all,none_is_not_a_term_here", NULL },
	};
	for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
		char alias[16];
		snprintf(alias, sizeof alias, "m%zu", i);
		struct store_collection c = add_coll(f, alias);
		enum tcerr rc = set_read(f, c.uuid, m[i].spec, &d);
		if (!m[i].admits) {
			assert_int_equal(rc, TC_EINVAL);
			continue;
		}
		if (rc)
			fail_msg("%s: %s", m[i].spec, d.msg);
	}
	struct reg_snapshot *sn = snap(f);
	for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
		if (!m[i].admits)
			continue;
		char alias[16];
		snprintf(alias, sizeof alias, "m%zu", i);
		const struct reg_collection *c = reg_snapshot_collection_find(sn, alias);
		assert_non_null(c);
		for (int k = 0; k < 6; k++) {
			const struct reg_principal *p = k < 5 ? &who[k] : NULL;
			const struct reg_org *o = p ? reg_snapshot_org(sn, p->org) : NULL;
			bool want = m[i].admits[k] == '1';
			if (reg_spec_admits(&c->read, p, o) != want)
				fail_msg("spec '%s', principal %d: admitted %d, want %d", m[i].spec, k,
				         !want, want);
			/* write was none: admits nobody */
			assert_false(reg_spec_admits(&c->write, p, o));
		}
	}
	reg_snapshot_unref(sn);
}

/* ---------- snapshot ---------- */

static void
test_snapshot(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char text[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p;
	uint8_t fp[32] = { 1 };

	struct reg_snapshot *sn = snap(f);
	assert_int_equal(reg_snapshot_norgs(sn), 0);
	assert_int_equal(reg_snapshot_nprincipals(sn), 0);
	assert_int_equal(reg_snapshot_ncollections(sn), 0);
	assert_null(reg_snapshot_org(sn, 1));
	reg_snapshot_unref(sn);

	add_org(f, "A", SECTOR_CERT, NULL);
	add_org(f, "B", SECTOR_CERT, NULL);
	add_org(f, "C", SECTOR_CERT, NULL);
	new_key(f, "A", ROLE_READER, text, &p);
	new_key(f, "B", ROLE_READER, text, &p);
	assert_int_equal(registry_key_revoke(f->r, p.key_id, &d), TC_OK);
	assert_int_equal(registry_key_create(f->r, "C", ROLE_PEER, NULL, fp, NULL, NULL, &d), TC_OK);
	struct store_collection c1 = add_coll(f, "zeta"), c2 = add_coll(f, "alpha");
	assert_int_equal(registry_rights_set(f->r, c2.uuid, "org:A", "org:B", &d), TC_OK);

	sn = snap(f);
	assert_int_equal(reg_snapshot_norgs(sn), 3);
	assert_int_equal(reg_snapshot_nprincipals(sn), 2); /* the revoked key is not there */
	assert_string_equal(reg_snapshot_org(sn, 2)->name, "B");
	assert_null(reg_snapshot_org(sn, 4));
	assert_null(reg_snapshot_org(sn, 0));
	/* by identity id, in any case (issue 8: created_by_ref checks) */
	for (size_t i = 0; i < 3; i++) {
		const struct reg_org *o = reg_snapshot_org_at(sn, i);
		assert_non_null(o);
		assert_ptr_equal(reg_snapshot_org_by_identity(sn, o->identity), o);
		char up[STIX_ID_MAX];
		snprintf(up, sizeof up, "%s", o->identity);
		for (char *q = up; *q; q++)
			if (*q >= 'a' && *q <= 'f' && q > up + strlen("identity--"))
				*q = (char)(*q - 32);
		assert_ptr_equal(reg_snapshot_org_by_identity(sn, up), o);
	}
	assert_null(reg_snapshot_org_at(sn, 3));
	assert_string_equal(reg_snapshot_org_at(sn, 0)->name, "A");
	assert_null(reg_snapshot_org_by_identity(sn, "identity--00000000-0000-4000-8000-000000000000"));
	assert_null(reg_snapshot_org_by_identity(sn, ""));
	assert_int_equal(reg_snapshot_ncollections(sn), 2);
	/* creation order, not alphabetical */
	assert_string_equal(reg_snapshot_collection_at(sn, 0)->c.alias, "zeta");
	assert_string_equal(reg_snapshot_collection_at(sn, 1)->c.alias, "alpha");
	assert_null(reg_snapshot_collection_at(sn, 2));
	/* by alias, by id in any case, by number */
	char upper[37];
	for (int i = 0; i < 37; i++)
		upper[i] = (char)(c2.uuid[i] >= 'a' && c2.uuid[i] <= 'f' ? c2.uuid[i] - 32
		                                                          : c2.uuid[i]);
	const struct reg_collection *a = reg_snapshot_collection_find(sn, "alpha");
	assert_non_null(a);
	assert_ptr_equal(reg_snapshot_collection_find(sn, c2.uuid), a);
	assert_ptr_equal(reg_snapshot_collection_find(sn, upper), a);
	assert_ptr_equal(reg_snapshot_collection(sn, c2.num), a);
	assert_null(reg_snapshot_collection_find(sn, "ALPHA"));
	assert_null(reg_snapshot_collection_find(sn, "beta"));
	assert_null(reg_snapshot_collection(sn, 99));
	assert_int_equal(a->read.norgs, 1);
	assert_int_equal(a->read.orgs[0], 1);
	assert_int_equal(a->write.orgs[0], 2);
	/* a collection without rights admits nobody, not even with all-ish roles */
	const struct reg_collection *z = reg_snapshot_collection_find(sn, "zeta");
	assert_int_equal(z->c.num, c1.num);
	const struct reg_org *oa = reg_snapshot_org(sn, 1);
	struct reg_principal admin = { .num = 1, .org = 1, .role = ROLE_ADMIN };
	assert_false(reg_spec_admits(&z->read, &admin, oa));
	assert_false(reg_spec_admits(&z->write, &admin, oa));
	assert_false(reg_spec_admits(&z->read, NULL, NULL));

	/* reference counting: the snapshot outlives the registry */
	reg_snapshot_ref(sn);
	reg_snapshot_unref(sn);
	registry_close(f->r);
	f->r = NULL;
	assert_string_equal(reg_snapshot_collection_find(sn, "alpha")->c.alias, "alpha");
	reg_snapshot_unref(sn);
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
}

/* ---------- API roots ---------- */

static void
test_api_roots(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	bool created;
	char root[REG_API_ROOT_NAME_MAX + 1];
	struct reg_api_root a = { .name = "trusted", .title = "Trusted", .description = "closed",
		                  .max_content_length = 4096 };
	struct reg_api_root again = { .name = "trusted", .title = "Other title" };
	struct reg_api_root bad = { .name = "Bad Name" };

	assert_int_equal(registry_api_root_ensure(f->r, &a, &created, &d), TC_OK);
	assert_true(created);
	/* an existing root is kept as it is */
	assert_int_equal(registry_api_root_ensure(f->r, &again, &created, &d), TC_OK);
	assert_false(created);
	assert_int_equal(registry_api_root_ensure(f->r, &bad, &created, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "'Bad Name'"));
	assert_int_equal(reg_api_root_name_check("-x", &d), TC_EINVAL);
	assert_int_equal(reg_api_root_name_check("x-1_y", &d), TC_OK);

	struct store_collection c1 = add_coll(f, "one"), c2 = add_coll(f, "two");
	assert_int_equal(registry_collection_root_get(f->r, c1.uuid, root), TC_OK);
	assert_string_equal(root, "");
	assert_int_equal(registry_collection_root_set(f->r, c1.uuid, "trusted", &d), TC_OK);
	assert_int_equal(registry_collection_root_set(f->r, c2.uuid, "nope!", &d), TC_EINVAL);
	assert_int_equal(registry_collection_root_set(f->r, "x", "trusted", &d), TC_EINVAL);
	assert_int_equal(registry_collection_root_get(f->r, c1.uuid, root), TC_OK);
	assert_string_equal(root, "trusted");

	struct reg_snapshot *sn = snap(f);
	assert_int_equal(reg_snapshot_napi_roots(sn), 1);
	const struct reg_api_root *g = reg_snapshot_api_root_at(sn, 0);
	assert_string_equal(g->name, "trusted");
	assert_string_equal(g->title, "Trusted");
	assert_string_equal(g->description, "closed");
	assert_int_equal(g->max_content_length, 4096);
	assert_null(reg_snapshot_api_root_at(sn, 1));
	assert_string_equal(reg_snapshot_collection_find(sn, "one")->api_root, "trusted");
	assert_string_equal(reg_snapshot_collection_find(sn, "two")->api_root, "");
	reg_snapshot_unref(sn);

	/* kept across a reopen */
	registry_close(f->r);
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_collection_root_get(f->r, c1.uuid, root), TC_OK);
	assert_string_equal(root, "trusted");
}

/* ---------- statuses ---------- */

static void
test_status(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct buf b;
	const int64_t t0 = 1700000000000000LL;
	buf_init(&b, 0);

	assert_int_equal(registry_status_put(f->r, "s1", t0, "{\"a\":1}", 7, &d), TC_OK);
	assert_int_equal(registry_status_get(f->r, "s1", t0 + 1, &b), TC_OK);
	assert_string_equal(b.p, "{\"a\":1}");
	buf_clear(&b);
	/* put replaces */
	assert_int_equal(registry_status_put(f->r, "s1", t0, "{\"a\":2}", 7, &d), TC_OK);
	assert_int_equal(registry_status_get(f->r, "s1", t0, &b), TC_OK);
	assert_string_equal(b.p, "{\"a\":2}");
	buf_clear(&b);
	assert_int_equal(registry_status_get(f->r, "s2", t0, &b), TC_ENOTFOUND);
	assert_int_equal(registry_status_put(f->r, "s2", t0 + REG_STATUS_KEEP_US, "{}", 2, &d),
	                 TC_OK);

	/* kept exactly REG_STATUS_KEEP_US, then expired even before a purge */
	assert_int_equal(registry_status_get(f->r, "s1", t0 + REG_STATUS_KEEP_US, &b), TC_OK);
	buf_clear(&b);
	assert_int_equal(registry_status_get(f->r, "s1", t0 + REG_STATUS_KEEP_US + 1, &b),
	                 TC_ENOTFOUND);
	assert_int_equal(b.len, 0);
	/* purge drops the old one only */
	assert_int_equal(registry_status_purge(f->r, t0 + REG_STATUS_KEEP_US + 1, &d), TC_OK);
	assert_int_equal(registry_status_get(f->r, "s1", t0, &b), TC_ENOTFOUND);
	assert_int_equal(registry_status_get(f->r, "s2", t0 + REG_STATUS_KEEP_US + 1, &b), TC_OK);
	assert_string_equal(b.p, "{}");
	buf_reset(&b);

	/* limits and a capped buffer */
	assert_int_equal(registry_status_put(f->r, "big", t0, "{}", (size_t)REG_STATUS_MAX + 1, &d),
	                 TC_ELIMIT);
	assert_int_equal(registry_status_put(f->r, "", t0, "{}", 2, &d), TC_EINVAL);
	assert_int_equal(registry_status_put(f->r, "s3", t0, NULL, 2, &d), TC_EINVAL);
	buf_init(&b, 1);
	assert_int_equal(registry_status_get(f->r, "s2", t0 + REG_STATUS_KEEP_US, &b), TC_ELIMIT);
	buf_reset(&b);
}

/* ---------- threads ---------- */

#define STATUS_THREADS 8
#define STATUS_PUTS 40

struct status_worker {
	struct registry *r;
	int tid;
	int failures;
};

static void *
put_statuses(void *arg)
{
	struct status_worker *w = arg;
	for (int i = 0; i < STATUS_PUTS; i++) {
		char id[32], json[64];
		struct diag d;
		snprintf(id, sizeof(id), "t%d-%d", w->tid, i);
		int n = snprintf(json, sizeof(json), "{\"t\":%d,\"i\":%d}", w->tid, i);
		if (registry_status_put(w->r, id, 1700000000000000LL, json, (size_t)n, &d) != TC_OK)
			w->failures++;
	}
	return NULL;
}

/* Concurrent puts share transactions (group commit): each returns once
 * its own status is stored, none is lost or mixed up. */
static void
test_status_group_commit(void **state)
{
	struct fixture *f = *state;
	pthread_t t[STATUS_THREADS];
	struct status_worker w[STATUS_THREADS];
	struct buf b;

	for (int i = 0; i < STATUS_THREADS; i++) {
		w[i] = (struct status_worker){f->r, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL, put_statuses, &w[i]), 0);
	}
	for (int i = 0; i < STATUS_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	buf_init(&b, 0);
	for (int i = 0; i < STATUS_THREADS; i++)
		for (int k = 0; k < STATUS_PUTS; k++) {
			char id[32], want[64];
			snprintf(id, sizeof(id), "t%d-%d", i, k);
			snprintf(want, sizeof(want), "{\"t\":%d,\"i\":%d}", i, k);
			buf_clear(&b);
			assert_int_equal(registry_status_get(f->r, id, 1700000000000001LL, &b), TC_OK);
			assert_string_equal(b.p, want);
		}
	buf_reset(&b);
}

#define THREAD_KEYS 25

static void *
make_keys(void *arg)
{
	struct fixture *f = arg;
	char text[REG_KEY_TEXT_MAX + 1];
	struct diag d;
	for (int i = 0; i < THREAD_KEYS; i++)
		if (registry_key_create(f->r, "Bank", ROLE_READER, NULL, NULL, text, NULL, &d))
			return (void *)1;
	return NULL;
}

static enum tcerr
count_principal(void *ctx, const struct reg_principal *p)
{
	(*(size_t *)ctx)++;
	return TC_OK;
}

static void
test_threads(void **state)
{
	struct fixture *f = *state;
	pthread_t t[3];
	void *res;
	size_t n = 0;
	add_org(f, "Bank", SECTOR_FINANCE, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_keys, f), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	assert_int_equal(registry_key_list(f->r, count_principal, &n), TC_OK);
	assert_int_equal(n, 3 * THREAD_KEYS);
}

/* ---------- administration (issue 9 point 9) ---------- */

static void
test_country_codes(void **state)
{
	struct diag d;
	(void)state;
	assert_int_equal(reg_country_check("DE", &d), TC_OK);
	assert_int_equal(reg_country_check("de", &d), TC_OK);
	assert_int_equal(reg_country_check("ZW", &d), TC_OK);
	assert_int_equal(reg_country_check("AD", &d), TC_OK);
	assert_int_equal(reg_country_check("XK", &d), TC_OK); /* documented exception */
	const char *refused[] = { "XX", "AA", "ZZ", "QM", "UK", "EU", "D1", "DEU", "", "X" };
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		diag_clear(&d);
		assert_int_equal(reg_country_check(refused[i], &d), TC_EINVAL);
		assert_non_null(strstr(d.msg, "country"));
	}
	/* every letter pair: exactly the 249 assigned codes and XK pass */
	int n = 0;
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++) {
			char cc[3] = { a, b, 0 };
			n += reg_country_check(cc, &d) == TC_OK;
		}
	assert_int_equal(n, 250);
}

static void
test_org_add_refuses_unassigned_country(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	assert_int_equal(registry_org_add(f->r, "Nowhere", SECTOR_OTHER, "XX", NULL, 0, NULL, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "XX"));
	assert_int_equal(registry_org_find(f->r, "Nowhere", &(struct reg_org){ 0 }), TC_ENOTFOUND);
}

static void
test_org_rename(void **state)
{
	struct fixture *f = *state;
	struct reg_org before, after, o;
	struct diag d;
	size_t nrights = 9;
	uint64_t g0, g1;

	assert_int_equal(registry_org_add(f->r, "ACME Bank", SECTOR_FINANCE, "DE", NULL, 0, &before,
	                                  &d),
	                 TC_OK);
	add_org(f, "Other", SECTOR_TELECOM, NULL);
	struct store_collection sc;
	assert_int_equal(store_collection_add(f->s, "feed", NULL, "Feed", "", &sc, &d), TC_OK);
	assert_int_equal(registry_rights_set(f->r, sc.uuid, "org:ACME Bank, telecom",
	                                     "acme bank", &d),
	                 TC_OK);
	assert_int_equal(registry_generation(f->r, &g0, &d), TC_OK);

	assert_int_equal(registry_org_rename(f->r, "acme bank", "ACME Savings", &after, &nrights, &d),
	                 TC_OK);
	assert_int_equal(registry_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0);
	assert_string_equal(after.name, "ACME Savings");
	/* the identity, which objects reference, does not change */
	assert_string_equal(after.identity, before.identity);
	assert_int_equal(after.num, before.num);
	assert_int_equal(nrights, 1);
	assert_int_equal(registry_org_find(f->r, "ACME Bank", &o), TC_ENOTFOUND);
	assert_int_equal(registry_org_find(f->r, "acme savings", &o), TC_OK);
	assert_string_equal(o.identity, before.identity);
	assert_true(o.updated_us >= o.created_us);

	/* rights follow the rename: a snapshot still builds and admits it */
	struct buf rd, wr;
	buf_init(&rd, 0);
	buf_init(&wr, 0);
	assert_int_equal(registry_rights_get(f->r, sc.uuid, &rd, &wr), TC_OK);
	assert_string_equal(rd.p, "org:ACME Savings,telecom");
	assert_string_equal(wr.p, "org:ACME Savings");
	buf_reset(&rd);
	buf_reset(&wr);
	struct reg_snapshot *sn = snap(f);
	const struct reg_collection *c = reg_snapshot_collection_find(sn, "feed");
	assert_non_null(c);
	const struct reg_org *so = reg_snapshot_org(sn, before.num);
	struct reg_principal p = { .org = before.num, .role = ROLE_READER };
	assert_true(reg_spec_admits(&c->read, &p, so));
	assert_true(reg_spec_admits(&c->write, &p, so));
	reg_snapshot_unref(sn);

	/* the old name derives the identity the organisation still holds:
	 * nobody else can take it */
	diag_clear(&d);
	assert_int_equal(registry_org_add(f->r, "ACME Bank", SECTOR_FINANCE, "DE", NULL, 0, NULL,
	                                  &d),
	                 TC_EEXIST);
	assert_non_null(strstr(d.msg, "ACME Savings"));
	/* a name taken by another organisation, bad names */
	assert_int_equal(registry_org_rename(f->r, "ACME Savings", "other", NULL, NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(registry_org_rename(f->r, "ACME Savings", "bad\x1b[2Jname", NULL, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(registry_org_rename(f->r, "nobody", "X", NULL, NULL, &d), TC_ENOTFOUND);
	/* a change of case only, and back to the first name, are fine */
	assert_int_equal(registry_org_rename(f->r, "ACME Savings", "acme savings", NULL, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_org_rename(f->r, "acme savings", "ACME Bank", &after, NULL, &d),
	                 TC_OK);
	assert_string_equal(after.identity, before.identity);
}

static void
test_org_delete(void **state)
{
	struct fixture *f = *state;
	struct reg_org o, gone;
	struct diag d;
	char k1[REG_KEY_TEXT_MAX + 1], k2[REG_KEY_TEXT_MAX + 1], k3[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p1, p2, p3;
	size_t nrevoked = 0;

	assert_int_equal(registry_org_add(f->r, "Gone Ltd", SECTOR_OTHER, "FR", NULL, 0, &o, &d),
	                 TC_OK);
	add_org(f, "Stays", SECTOR_OTHER, NULL);
	new_key(f, "Gone Ltd", ROLE_CONTRIBUTOR, k1, &p1);
	new_key(f, "Gone Ltd", ROLE_READER, k2, &p2);
	new_key(f, "Stays", ROLE_READER, k3, &p3);
	assert_int_equal(registry_key_revoke(f->r, p2.key_id, &d), TC_OK);

	struct reg_snapshot *sn = snap(f);
	assert_non_null(reg_snapshot_auth_key(sn, k1, strlen(k1)));
	reg_snapshot_unref(sn);

	assert_int_equal(registry_org_delete(f->r, "gone ltd", &gone, &nrevoked, &d), TC_OK);
	assert_int_equal(nrevoked, 1); /* the other was revoked already */
	assert_true(gone.deleted_us > 0);
	assert_string_equal(gone.identity, o.identity);

	sn = snap(f);
	/* its keys no longer work; the other organisation's still do */
	assert_null(reg_snapshot_auth_key(sn, k1, strlen(k1)));
	assert_non_null(reg_snapshot_auth_key(sn, k3, strlen(k3)));
	/* its objects stay attributed to it */
	const struct reg_org *so = reg_snapshot_org_by_identity(sn, o.identity);
	assert_non_null(so);
	assert_string_equal(so->name, "Gone Ltd");
	assert_true(so->deleted_us > 0);
	reg_snapshot_unref(sn);

	/* the name and identity stay reserved; nothing more can be done with it */
	assert_int_equal(registry_org_add(f->r, "Gone Ltd", SECTOR_OTHER, "FR", NULL, 0, NULL, &d),
	                 TC_EEXIST);
	assert_non_null(strstr(d.msg, "deleted"));
	assert_int_equal(registry_key_create(f->r, "Gone Ltd", ROLE_READER, "", NULL, k1, NULL, &d),
	                 TC_EINVAL);
	assert_int_equal(registry_org_delete(f->r, "Gone Ltd", NULL, NULL, &d), TC_EINVAL);
	assert_int_equal(registry_org_rename(f->r, "Gone Ltd", "Back", NULL, NULL, &d), TC_EINVAL);
	const char *g[] = { "x" };
	assert_int_equal(registry_org_set_groups(f->r, "Gone Ltd", g, 1, &d), TC_EINVAL);
	diag_clear(&d);
	assert_int_equal(registry_spec_check(f->r, "org:Gone Ltd", &d), TC_EINVAL);
	/* a spec is printable text: "all\n" would trim to all but be stored raw */
	assert_int_equal(registry_spec_check(f->r, "all\n", &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "control"));
	assert_int_equal(registry_spec_check(f->r, "Stays", &d), TC_OK);
	assert_int_equal(registry_org_delete(f->r, "nobody", NULL, NULL, &d), TC_ENOTFOUND);
}

static void
test_key_expiry(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char text[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p;
	add_org(f, "Org", SECTOR_OTHER, NULL);

	/* the past is refused */
	assert_int_equal(registry_key_create_expiring(f->r, "Org", ROLE_READER, "", NULL,
	                                              ts_now_us() - 1000000, text, &p, &d),
	                 TC_EINVAL);
	assert_string_equal(text, "");
	/* a key valid for 1.5 s: accepted now, refused after, by the same
	 * snapshot (the clock is read at authentication) */
	int64_t exp = ts_now_us() + 1500000;
	assert_int_equal(registry_key_create_expiring(f->r, "Org", ROLE_READER, "short", NULL, exp,
	                                              text, &p, &d),
	                 TC_OK);
	assert_int_equal(p.expires_us, exp);
	struct reg_snapshot *sn = snap(f);
	const struct reg_principal *got = reg_snapshot_auth_key(sn, text, strlen(text));
	assert_non_null(got);
	assert_int_equal(got->expires_us, exp);
	while (ts_now_us() < exp + 10000)
		usleep(50000);
	assert_null(reg_snapshot_auth_key(sn, text, strlen(text)));
	reg_snapshot_unref(sn);
	explicit_bzero(text, sizeof text);
}

static enum tcerr
find_expiring(void *ctx, const struct reg_principal *p)
{
	if (strcmp(p->name, "listed") == 0)
		*(int64_t *)ctx = p->expires_us;
	return TC_OK;
}

static void
test_key_expiry_listed(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	char text[REG_KEY_TEXT_MAX + 1];
	int64_t exp = ts_now_us() + 3600000000LL, seen = 0;
	add_org(f, "Org", SECTOR_OTHER, NULL);
	assert_int_equal(registry_key_create_expiring(f->r, "Org", ROLE_READER, "listed", NULL, exp,
	                                              text, NULL, &d),
	                 TC_OK);
	assert_int_equal(registry_key_list(f->r, find_expiring, &seen), TC_OK);
	assert_int_equal(seen, exp);
}

static void
test_collection_deleted(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store_collection a, b;
	bool del = true;
	uint64_t g0, g1;

	assert_int_equal(store_collection_add(f->s, "keep", NULL, "Keep", "", &a, &d), TC_OK);
	assert_int_equal(store_collection_add(f->s, "drop", NULL, "Drop", "", &b, &d), TC_OK);
	assert_int_equal(registry_rights_set(f->r, b.uuid, "all", "all", &d), TC_OK);
	assert_int_equal(registry_collection_root_set(f->r, b.uuid, "other", &d), TC_OK);
	assert_int_equal(registry_collection_deleted(f->r, b.uuid, &del, &d), TC_OK);
	assert_false(del);
	assert_int_equal(registry_generation(f->r, &g0, &d), TC_OK);
	assert_int_equal(registry_collection_deleted_add(f->r, b.uuid, "drop", &d), TC_OK);
	assert_int_equal(registry_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0); /* a running daemon reloads by itself */
	assert_int_equal(registry_collection_deleted(f->r, b.uuid, &del, &d), TC_OK);
	assert_true(del);
	struct buf rd, wr;
	buf_init(&rd, 0);
	buf_init(&wr, 0);
	assert_int_equal(registry_rights_get(f->r, b.uuid, &rd, &wr), TC_ENOTFOUND);
	buf_reset(&rd);
	buf_reset(&wr);
	struct reg_snapshot *sn = snap(f);
	assert_int_equal(reg_snapshot_ncollections(sn), 1);
	assert_non_null(reg_snapshot_collection_find(sn, a.uuid));
	assert_null(reg_snapshot_collection_find(sn, b.uuid));
	reg_snapshot_unref(sn);
}

static void
test_collection_title_checked(void **state)
{
	struct fixture *f = *state;
	struct diag d;
	struct store_collection c;
	assert_int_equal(store_collection_add(f->s, "evil", NULL, "a\nb\x1b[31m", "", &c, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "title"));
	assert_int_equal(store_collection_add(f->s, "evil", NULL, "ok", "\xff", &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "description"));
	assert_int_equal(store_collection_add(f->s, "fine", NULL, "Zürich feed", "", &c, &d), TC_OK);
	/* rename keeps number and id; title checked the same way */
	struct store_collection u;
	assert_int_equal(store_collection_update(f->s, c.num, "zurich", "Zürich", NULL, &u, &d),
	                 TC_OK);
	assert_int_equal(u.num, c.num);
	assert_string_equal(u.uuid, c.uuid);
	assert_string_equal(u.alias, "zurich");
	assert_int_equal(store_collection_find(f->s, "fine", &u), TC_ENOTFOUND);
	assert_int_equal(store_collection_find(f->s, "zurich", &u), TC_OK);
	assert_string_equal(u.title, "Zürich");
	assert_int_equal(store_collection_update(f->s, c.num, NULL, "x\ty", NULL, &u, &d),
	                 TC_EINVAL);
	assert_int_equal(store_collection_add(f->s, "other", NULL, "", "", &u, &d), TC_OK);
	assert_int_equal(store_collection_update(f->s, c.num, "other", NULL, NULL, NULL, &d),
	                 TC_EEXIST);
	assert_int_equal(store_collection_update(f->s, 99, "new", NULL, NULL, NULL, &d),
	                 TC_ENOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_org_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_bad_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_list_and_reopen, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_stored_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert, setup, teardown),
		cmocka_unit_test(test_cert_fingerprint),
		cmocka_unit_test_setup_teardown(test_spec_terms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_admits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test(test_country_codes),
		cmocka_unit_test_setup_teardown(test_org_add_refuses_unassigned_country, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_org_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_org_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_expiry_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collection_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collection_title_checked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
