/* Unit tests of lib/audit: the chain survives reopening and concurrent
 * writers, and audit_verify names the first entry of every kind of
 * tampering (altered content or hash, removed, reordered, cut off, added). */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "crypto/hubkey.h"
#include "hub/hub.h"

#include <jansson.h>
#include <nettle/sha2.h>

#define MAX_LINES 64

static char dir[256];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/tocsin-audit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static void
rm_file(const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

static int
teardown(void **state)
{
	rm_file(AUDIT_FILE);
	rm_file(AUDIT_HEAD_FILE);
	rm_file(AUDIT_HEAD_FILE ".tmp");
	rm_file(AUDIT_LOCK_FILE);
	rm_file(HUBKEY_FILE);
	rm_file(HUBKEY_PUB_FILE);
	rm_file("tocsin.db");
	rm_file("tocsin.db-wal");
	rm_file("tocsin.db-shm");
	rm_file("card.key");
	rmdir(dir);
	return 0;
}

/* Writes n entries "<word> 1".."<word> n" in directory in (at fixed
 * times, so two logs written alike are byte-identical) and syncs. */
static void
write_entries_in(const char *in, int n, const char *word)
{
	struct audit *a;
	struct diag d;
	char detail[32];
	const char *ids[] = { "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" };

	assert_int_equal(audit_open(in, &a, &d), TC_OK);
	for (int i = 1; i <= n; i++) {
		snprintf(detail, sizeof(detail), "%s %d", word, i);
		struct audit_entry e = {
			.ts_us = 1700000000000000 + i,
			.action = i % 2 ? "write" : "read",
			.actor = "kabcdefghijk",
			.org = "Bank",
			.collection = "9a1b6a9e-3f6c-4e35-bbd6-ff4e1d0b1c7e",
			.http_status = 202,
			.ids = ids,
			.nids = 1,
			.detail = detail,
		};
		assert_int_equal(audit_append(a, &e, &d), TC_OK);
	}
	assert_int_equal(audit_sync(a, &d), TC_OK);
	audit_close(a);
}

static void
write_entries(int n)
{
	write_entries_in(dir, n, "event");
}

/* The log's lines (each with its newline). */
struct lines {
	size_t n;
	char *l[MAX_LINES];
};

static void
lines_read(struct lines *ls)
{
	char p[512], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_FILE);
	f = fopen(p, "r");
	assert_non_null(f);
	ls->n = 0;
	while (getline(&line, &cap, f) > 0) {
		assert_true(ls->n < MAX_LINES);
		ls->l[ls->n++] = strdup(line);
	}
	free(line);
	fclose(f);
}

static void
lines_write(struct lines *ls)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_FILE);
	f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i < ls->n; i++)
		fputs(ls->l[i], f);
	fclose(f);
}

static void
lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	ls->n = 0;
}

static void
verify_bad(uint64_t entry, const char *why_part)
{
	struct audit_report r;
	struct diag d;

	assert_int_equal(audit_verify(dir, &r, &d), TC_OK);
	if (r.ok || r.bad_entry != entry || !strstr(r.why, why_part))
		fail_msg("expected entry %llu (%s), got ok=%d entry %llu: %s",
		         (unsigned long long)entry, why_part, r.ok, (unsigned long long)r.bad_entry,
		         r.why);
}

static void
verify_ok(uint64_t entries)
{
	struct audit_report r;
	struct diag d;

	assert_int_equal(audit_verify(dir, &r, &d), TC_OK);
	if (!r.ok)
		fail_msg("verify: %s", r.why);
	assert_int_equal(r.entries, entries);
}

static void
test_append_sync_reopen(void **state)
{
	struct lines ls;
	struct audit *a;
	struct diag d;
	char p[512], head[256];
	FILE *f;

	write_entries(5);
	write_entries(3); /* reopens and continues the chain */
	verify_ok(8);
	lines_read(&ls);
	assert_int_equal(ls.n, 8);
	assert_true(strncmp(ls.l[0], "{\"n\":1,\"ts\":\"", 13) == 0);
	assert_non_null(strstr(ls.l[0], "\"prev\":\"0000000000000000000000000000000000000000000000"
	                                "000000000000000000\""));
	assert_true(strncmp(ls.l[7], "{\"n\":8,", 7) == 0);
	/* members in the documented order, hash last */
	const char *order[] = { "\"n\"", "\"ts\"", "\"prev\"", "\"action\"", "\"actor\"",
		                "\"org\"", "\"collection\"", "\"http_status\"", "\"ids\"",
		                "\"detail\"", "\"hash\"" };
	const char *at = ls.l[3];
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *q = strstr(at, order[i]);
		if (!q)
			fail_msg("%s missing or out of order in %s", order[i], ls.l[3]);
		at = q;
	}
	/* the head names entry 8 and its hash */
	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_HEAD_FILE);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_true(strncmp(head, "{\"n\":8,\"hash\":\"", 15) == 0);
	{
		char want[80];
		snprintf(want, sizeof(want), "\"hash\":\"%.64s\"}", head + 15);
		assert_non_null(strstr(ls.l[7], want)); /* the same hash */
	}
	/* signed with the hub key, which the first open made */
	assert_non_null(strstr(head, "\"sig\":\""));
	snprintf(p, sizeof(p), "%s/%s", dir, HUBKEY_PUB_FILE);
	assert_int_equal(access(p, R_OK), 0);
	lines_free(&ls);

	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	audit_close(a);
}

static void
test_verify_empty_and_missing(void **state)
{
	struct audit_report r;
	struct diag d;
	struct audit *a;

	assert_int_equal(audit_verify(dir, &r, &d), TC_ENOTFOUND);
	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	audit_close(a);
	verify_ok(0);
	/* the whole log removed while the head remembers it */
	write_entries(2);
	rm_file(AUDIT_FILE);
	verify_bad(1, "is gone");
}

static void
test_altered_content(void **state)
{
	struct lines ls;
	write_entries(10);
	lines_read(&ls);
	char *q = strstr(ls.l[4], "event 5");
	assert_non_null(q);
	q[6] = '9';
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(5, "hash does not match");
}

static void
test_altered_hash(void **state)
{
	struct lines ls;
	write_entries(10);
	lines_read(&ls);
	char *q = strstr(ls.l[6], "\"hash\":\"");
	assert_non_null(q);
	q[8] = q[8] == 'a' ? 'b' : 'a';
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(7, "hash does not match");
}

static void
test_rewritten_last_entry(void **state)
{
	/* A last entry replaced by a well-formed, correctly chained and
	 * hashed one is caught by the head. */
	char other[256], from[512], to[512];
	snprintf(other, sizeof(other), "/tmp/tocsin-audit-XXXXXX");
	assert_non_null(mkdtemp(other));
	write_entries_in(dir, 3, "event");
	write_entries_in(other, 2, "event");
	{
		struct audit *a;
		struct diag d;
		assert_int_equal(audit_open(other, &a, &d), TC_OK);
		struct audit_entry e = { .ts_us = 1700000000000003, .action = "write",
			                 .detail = "forged" };
		assert_int_equal(audit_append(a, &e, &d), TC_OK);
		audit_close(a);
	}
	verify_ok(3);
	snprintf(from, sizeof(from), "%s/%s", other, AUDIT_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, AUDIT_FILE);
	assert_int_equal(rename(from, to), 0);
	snprintf(from, sizeof(from), "%s/%s", other, AUDIT_HEAD_FILE);
	unlink(from);
	rmdir(other);
	verify_bad(3, "audit.head");
}

static void
test_removed_entry(void **state)
{
	struct lines ls;
	write_entries(10);
	lines_read(&ls);
	free(ls.l[4]);
	memmove(&ls.l[4], &ls.l[5], (ls.n - 5) * sizeof(ls.l[0]));
	ls.n--;
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(5, "missing");
}

static void
test_removed_first_entry(void **state)
{
	struct lines ls;
	write_entries(4);
	lines_read(&ls);
	free(ls.l[0]);
	memmove(&ls.l[0], &ls.l[1], (ls.n - 1) * sizeof(ls.l[0]));
	ls.n--;
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(1, "missing");
}

static void
test_renumbered_after_removal(void **state)
{
	/* Removing entry 5 and renumbering the rest breaks their hashes. */
	struct lines ls;
	write_entries(8);
	lines_read(&ls);
	free(ls.l[4]);
	memmove(&ls.l[4], &ls.l[5], (ls.n - 5) * sizeof(ls.l[0]));
	ls.n--;
	for (size_t i = 4; i < ls.n; i++) {
		char *q = strstr(ls.l[i], "{\"n\":");
		assert_non_null(q);
		q[5] = (char)('1' + i);
	}
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(5, "hash does not match");
}

static void
test_reordered(void **state)
{
	struct lines ls;
	write_entries(10);
	lines_read(&ls);
	char *t = ls.l[5];
	ls.l[5] = ls.l[6];
	ls.l[6] = t;
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(6, "reordered");
}

static void
test_truncated_tail(void **state)
{
	struct lines ls;
	struct audit *a;
	struct diag d;

	write_entries(10);
	lines_read(&ls);
	free(ls.l[9]);
	free(ls.l[8]);
	ls.n = 8;
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(9, "cut off");
	assert_int_equal(audit_open(dir, &a, &d), TC_ECORRUPT);
	assert_non_null(strstr(d.msg, "audit verify"));
}

static void
test_extra_lines(void **state)
{
	struct lines ls;
	struct audit *a;
	struct diag d;

	write_entries(10);
	lines_read(&ls);
	/* a copy of entry 3 appended: right shape, wrong place */
	ls.l[ls.n] = strdup(ls.l[2]);
	ls.n++;
	lines_write(&ls);
	verify_bad(11, "line holds entry 3");
	assert_int_equal(audit_open(dir, &a, &d), TC_ECORRUPT);

	/* plain text appended */
	free(ls.l[10]);
	ls.l[10] = strdup("{\"action\":\"read\",\"detail\":\"nothing to see\"}\n");
	lines_write(&ls);
	verify_bad(11, "unchained");

	/* a blank line in the middle */
	free(ls.l[10]);
	ls.l[10] = ls.l[5];
	ls.l[5] = strdup("\n");
	lines_write(&ls);
	verify_bad(6, "not a JSON object");
	lines_free(&ls);
}

static void
test_head_missing(void **state)
{
	struct audit *a;
	struct diag d;

	write_entries(2);
	rm_file(AUDIT_HEAD_FILE);
	verify_bad(0, AUDIT_HEAD_FILE);
	assert_int_equal(audit_open(dir, &a, &d), TC_ECORRUPT);
}

static void
test_crash_leftovers(void **state)
{
	/* Entries appended but never synced (the head lags), then half a line. */
	struct audit *a;
	struct diag d;
	char p[512];
	int fd;

	write_entries(3);
	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	struct audit_entry e = { .action = "write", .detail = "not synced" };
	assert_int_equal(audit_append(a, &e, &d), TC_OK);
	/* simulate a crash: no sync, no close; write half a line behind it */
	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_FILE);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"n\":5,\"ts\":", 12), 12);
	close(fd);
	verify_bad(5, "incomplete");

	struct audit *b;
	assert_int_equal(audit_open(dir, &b, &d), TC_OK); /* cuts the half line */
	struct audit_entry e2 = { .action = "write", .detail = "after the crash" };
	assert_int_equal(audit_append(b, &e2, &d), TC_OK);
	audit_close(b);
	verify_ok(5);
	audit_close(a); /* its sync is harmless */
	verify_ok(5);
}

static void
test_limits_and_bad_input(void **state)
{
	struct audit *a;
	struct diag d;
	static const char *ids[AUDIT_IDS_MAX + 1];

	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	struct audit_entry none = { .detail = "no action" };
	assert_int_equal(audit_append(a, &none, &d), TC_EINVAL);

	for (size_t i = 0; i <= AUDIT_IDS_MAX; i++)
		ids[i] = "x";
	struct audit_entry many = { .action = "read", .ids = ids, .nids = AUDIT_IDS_MAX + 1 };
	assert_int_equal(audit_append(a, &many, &d), TC_ELIMIT);
	many.nids = AUDIT_IDS_MAX;
	assert_int_equal(audit_append(a, &many, &d), TC_OK);

	char *big = malloc(AUDIT_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', AUDIT_LINE_MAX + 1);
	big[AUDIT_LINE_MAX + 1] = '\0';
	struct audit_entry huge = { .action = "read", .detail = big };
	assert_int_equal(audit_append(a, &huge, &d), TC_ELIMIT);
	free(big);

	/* bytes that are not UTF-8 are kept as U+FFFD, never refused */
	struct audit_entry odd = { .action = "read", .request = "GET /\xff\xfe/x", .actor = "k\xc3" };
	assert_int_equal(audit_append(a, &odd, &d), TC_OK);
	assert_int_equal(audit_sync(a, &d), TC_OK);
	audit_close(a);
	verify_ok(2);
}

/* The entry's members, as written (directly, without a JSON tree): their
 * order, escapes, ids, and U+FFFD for bytes that are not UTF-8. */
static void
test_entry_text(void **state)
{
	(void)state;
	struct audit *a;
	struct diag d;
	struct lines ls;
	const char *ids[3] = { "indicator--1@2024-01-01T00:00:00.000Z", "a\"b\\c\n\x01", NULL };
	struct audit_entry e = { .action = "write", .actor = "k\xc3", .org = "Bank",
		                 .collection = "c1", .status_id = "s1", .http_status = 202,
		                 .ids = ids, .nids = 3, .detail = "caf\xc3\xa9" };
	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	assert_int_equal(audit_append(a, &e, &d), TC_OK);
	assert_int_equal(audit_sync(a, &d), TC_OK);
	audit_close(a);
	lines_read(&ls);
	assert_int_equal(ls.n, 1);
	const char *body = strstr(ls.l[0], "\"action\"");
	assert_non_null(body);
	const char *want = "\"action\":\"write\",\"actor\":\"k\xef\xbf\xbd\",\"org\":\"Bank\","
	                   "\"collection\":\"c1\",\"status_id\":\"s1\",\"http_status\":202,"
	                   "\"ids\":[\"indicator--1@2024-01-01T00:00:00.000Z\","
	                   "\"a\\\"b\\\\c\\n\\u0001\",\"\"],\"detail\":\"caf\xc3\xa9\",\"hash\":";
	assert_memory_equal(body, want, strlen(want));
	lines_free(&ls);
	verify_ok(1);
}

static void
test_two_handles(void **state)
{
	/* Two writers on one directory (the daemon and a CLI command) take
	 * turns; the chain stays one chain and the head never goes back. */
	struct audit *a, *b;
	struct diag d;

	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	assert_int_equal(audit_open(dir, &b, &d), TC_OK);
	for (int i = 0; i < 20; i++) {
		struct audit_entry e = { .action = i % 3 ? "read" : "org.add", .detail = "x" };
		assert_int_equal(audit_append(i % 2 ? a : b, &e, &d), TC_OK);
		if (i % 5 == 4)
			assert_int_equal(audit_sync(i % 2 ? b : a, &d), TC_OK);
	}
	assert_int_equal(audit_sync(b, &d), TC_OK);
	assert_int_equal(audit_sync(a, &d), TC_OK); /* its last entry is older */
	audit_close(a);
	audit_close(b);
	verify_ok(20);
	/* the head names entry 20: cutting it off is caught */
	struct lines ls;
	lines_read(&ls);
	free(ls.l[19]);
	ls.n = 19;
	lines_write(&ls);
	lines_free(&ls);
	verify_bad(20, "cut off");
}

#define THREADS 4
#define PER_THREAD 1000

static void *
writer(void *arg)
{
	struct audit *a = arg;
	struct diag d;
	char detail[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(detail, sizeof(detail), "w%d", i);
		struct audit_entry e = { .action = "write", .detail = detail };
		if (audit_append(a, &e, &d) != TC_OK)
			return (void *)1;
		if (i % 10 == 9 && audit_sync(a, &d) != TC_OK)
			return (void *)1;
	}
	return audit_sync(a, &d) == TC_OK ? NULL : (void *)1;
}

static void
test_threads(void **state)
{
	pthread_t t[THREADS];
	struct audit *a;
	struct diag d;
	void *res;

	assert_int_equal(audit_open(dir, &a, &d), TC_OK);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, a), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_null(res);
	}
	audit_close(a);
	/* and a seal every AUDIT_SEAL_EVERY entries */
	verify_ok(THREADS * PER_THREAD + THREADS * PER_THREAD / AUDIT_SEAL_EVERY);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* ---- a chain rebuilt without the hub's key; anchors; recovery ---- */

/* The whole log as lines (dynamic), for rewriting. */
struct biglog {
	size_t n;
	char **l;
};

static void
big_read(struct biglog *b)
{
	char p[512], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_FILE);
	f = fopen(p, "r");
	assert_non_null(f);
	b->n = 0;
	b->l = NULL;
	while ((len = getline(&line, &cap, f)) > 0) {
		b->l = realloc(b->l, (b->n + 1) * sizeof(*b->l));
		assert_non_null(b->l);
		line[len - 1] = '\0';
		b->l[b->n++] = strdup(line);
	}
	free(line);
	fclose(f);
}

static void
big_free(struct biglog *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->l[i]);
	free(b->l);
}

static void
hex_sha256(const char *p, size_t len, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	struct sha256_ctx c;
	uint8_t dig[32];
	sha256_init(&c);
	sha256_update(&c, len, (const uint8_t *)p);
	sha256_update(&c, 1, (const uint8_t *)"}");
	sha256_digest(&c, 32, dig);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[dig[i] >> 4];
		out[2 * i + 1] = hx[dig[i] & 15];
	}
	out[64] = '\0';
}

/* What someone who can write audit.log and audit.head but cannot read
 * hub.key does: changes entry `at`'s detail ("event" -> "EVENT"), then
 * re-chains every entry after it and writes a head for the new last
 * entry (unsigned: they have no key; sig_from keeps the old signature
 * text when true). */
static void
rewrite_from(size_t at, bool keep_old_sig)
{
	struct biglog b;
	char prev[65], hash[65], p[512], oldhead[512] = "";
	FILE *f;

	big_read(&b);
	assert_true(at >= 1 && at <= b.n);
	char *q = strstr(b.l[at - 1], "\"event ");
	assert_non_null(q);
	memcpy(q + 1, "EVENT", 5);
	memcpy(prev, "0000000000000000000000000000000000000000000000000000000000000000", 65);
	for (size_t i = 0; i < b.n; i++) {
		char *l = b.l[i];
		if (i + 1 >= at) {
			char *pv = strstr(l, "\"prev\":\"");
			memcpy(pv + 8, prev, 64);
			char *h = strstr(l, ",\"hash\":\"");
			hex_sha256(l, (size_t)(h - l), hash);
			memcpy(h + 9, hash, 64);
		} else {
			char *h = strstr(l, ",\"hash\":\"");
			memcpy(hash, h + 9, 64);
			hash[64] = '\0';
		}
		memcpy(prev, hash, 65);
	}
	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_FILE);
	f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i < b.n; i++)
		fprintf(f, "%s\n", b.l[i]);
	fclose(f);
	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_HEAD_FILE);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_non_null(fgets(oldhead, sizeof(oldhead), f));
	fclose(f);
	f = fopen(p, "w");
	assert_non_null(f);
	const char *sig = strstr(oldhead, ",\"sig\"");
	fprintf(f, "{\"n\":%zu,\"hash\":\"%s\",\"ckpt_seq\":0,\"ckpt_n\":0,\"ckpt_at\":0%s\n", b.n,
	        prev, keep_old_sig && sig ? sig : "}");
	fclose(f);
	big_free(&b);
}

static void
test_rebuilt_chain_without_the_key(void **state)
{
	write_entries(30);
	verify_ok(30);
	rewrite_from(12, false);
	/* unsigned head: nothing before entry 1 is vouched for */
	verify_bad(1, "not signed though the hub has a key");
	teardown(state);
	setup(state);
	write_entries(30);
	rewrite_from(12, true);
	verify_bad(1, "rewritten without the hub's key");
}

static void
test_rebuilt_chain_is_caught_at_the_first_seal_after_it(void **state)
{
	/* seals follow entries 1000 and 2000 of the events: entries 1001 and 2002 */
	write_entries(2500);
	verify_ok(2502);
	rewrite_from(1500, true);
	/* the seal at 1001 still holds, the one at 2002 does not */
	verify_bad(1002, "the seal at entry 2002 does not verify");
}

static void
test_anchor(void **state)
{
	char text[AUDIT_ANCHOR_TEXT_MAX];
	struct audit_anchor an;
	struct audit_report r;
	struct diag d;

	write_entries(20);
	assert_int_equal(audit_anchor_text(dir, text, &d), TC_OK);
	assert_int_equal(audit_anchor_parse(text, strlen(text), &an, &d), TC_OK);
	assert_int_equal(an.n, 20);
	write_entries(5);
	assert_int_equal(audit_verify_anchored(dir, &an, &r, &d), TC_OK);
	assert_true(r.ok);
	/* a forged anchor is refused */
	char bad[AUDIT_ANCHOR_TEXT_MAX];
	snprintf(bad, sizeof(bad), "%s", text);
	char *n = strstr(bad, "\"n\":20");
	n[5] = '1';
	assert_int_equal(audit_anchor_parse(bad, strlen(bad), &an, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "signature does not verify"));
	assert_int_equal(audit_anchor_parse(text, strlen(text), &an, &d), TC_OK);

	/* the whole data directory: a new key, a rebuilt chain re-signed with
	 * it. Plain verify cannot tell; the anchor can. */
	rewrite_from(3, false);
	rm_file(HUBKEY_FILE);
	rm_file(HUBKEY_PUB_FILE);
	{
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_HEAD_FILE);
		FILE *f = fopen(p, "r");
		char h[512];
		assert_non_null(fgets(h, sizeof(h), f));
		fclose(f);
		(void)h;
	}
	/* the attacker's own key signs their head (audit_open makes a key for
	 * an unsigned head and signs at the next sync) */
	write_entries(1);
	verify_ok(26);
	assert_int_equal(audit_verify_anchored(dir, &an, &r, &d), TC_OK);
	assert_false(r.ok);
	assert_non_null(strstr(r.why, "not the anchor's key"));
	/* with the old key back in hub.pub, the entry itself is named */
	{
		char p[512], pub[HUBKEY_ID_MAX];
		hubkey_pub_line(&an.pk, pub);
		snprintf(p, sizeof(p), "%s/%s", dir, HUBKEY_PUB_FILE);
		FILE *f = fopen(p, "w");
		fprintf(f, "%s\n", pub);
		fclose(f);
	}
	assert_int_equal(audit_verify_anchored(dir, &an, &r, &d), TC_OK);
	assert_false(r.ok);
	assert_int_equal(r.bad_entry, 20);
	assert_non_null(strstr(r.why, "differs from the anchor's"));
}

/* Recovery: versions committed with no entry are entered as recovered,
 * once; those an entry covers are not. */
static void
test_recover(void **state)
{
	struct hub *h;
	struct audit *a, *b;
	struct audit_recovery ar;
	struct hub_result res[3];
	struct diag d;
	json_t *objs[3];

	assert_int_equal(hub_init(dir, &d), TC_OK);
	assert_int_equal(hub_open(dir, &h, &d), TC_OK);
	assert_int_equal(audit_open_writer(dir, &a, &d), TC_OK);
	assert_true(audit_may_recover(a));
	assert_int_equal(audit_recover(a, hub_store(h), &ar, &d), TC_OK);
	assert_false(ar.skipped);
	assert_int_equal(ar.versions, 0);
	assert_false(audit_may_recover(a));
	for (int i = 0; i < 3; i++) {
		char t[512];
		snprintf(t, sizeof(t),
		         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
		         "00000000-0000-4000-8000-00000000000%d\",\"created\":\"2024-01-01T00:00:00.000Z\","
		         "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = "
		         "'198.51.100.%d']\",\"pattern_type\":\"stix\",\"valid_from\":"
		         "\"2024-01-01T00:00:00.000Z\"}",
		         i, i + 1);
		objs[i] = json_loads(t, 0, NULL);
		assert_non_null(objs[i]);
	}
	assert_int_equal(hub_ingest(h, 1, objs, NULL, 3, res, &d), TC_OK);
	for (int i = 0; i < 3; i++) {
		if (res[i].verdict != HUB_ACCEPTED)
			fail_msg("%s", res[i].why);
		json_decref(objs[i]);
	}
	/* only the first is audited before the "crash" */
	const char *id0 = "indicator--00000000-0000-4000-8000-000000000000@x";
	struct audit_entry e = { .action = "write", .ids = &id0, .nids = 1,
		                 .seqs = &res[0].seq, .nseqs = 1 };
	assert_int_equal(audit_append(a, &e, &d), TC_OK);
	audit_close(a); /* as a kill would: the lock goes */

	/* a second handle open: recovery is left for later */
	assert_int_equal(audit_open(dir, &b, &d), TC_OK);
	assert_int_equal(audit_open_writer(dir, &a, &d), TC_OK);
	assert_int_equal(audit_recover(a, hub_store(h), &ar, &d), TC_OK);
	assert_true(ar.skipped);
	audit_close(a);
	audit_close(b);

	assert_int_equal(audit_open_writer(dir, &a, &d), TC_OK);
	assert_int_equal(audit_recover(a, hub_store(h), &ar, &d), TC_OK);
	assert_int_equal(ar.versions, 2);
	assert_int_equal(ar.deletions, 0);
	audit_close(a);
	/* the entry names the two, is marked, and covers their positions */
	struct biglog bl;
	big_read(&bl);
	const char *last = bl.l[bl.n - 1];
	assert_non_null(strstr(last, "\"recovered\":true"));
	assert_non_null(strstr(last, "indicator--00000000-0000-4000-8000-000000000001@"));
	assert_non_null(strstr(last, "indicator--00000000-0000-4000-8000-000000000002@"));
	assert_null(strstr(last, "indicator--00000000-0000-4000-8000-000000000000@"));
	char want[64];
	snprintf(want, sizeof(want), "\"seqs\":[[%llu,%llu]]", (unsigned long long)res[1].seq,
	         (unsigned long long)res[2].seq);
	assert_non_null(strstr(last, want));
	big_free(&bl);
	/* once: the checkpoint moved */
	assert_int_equal(audit_open_writer(dir, &a, &d), TC_OK);
	assert_int_equal(audit_recover(a, hub_store(h), &ar, &d), TC_OK);
	assert_int_equal(ar.versions, 0);
	audit_close(a);
	hub_close(h);
	struct audit_report r;
	assert_int_equal(audit_verify(dir, &r, &d), TC_OK);
	assert_true(r.ok);
}

/* A hub whose head predates checkpoints (and keys): its versions are not
 * taken for unaudited ones, whoever opens the log first. */
static void
test_recover_legacy_head(void **state)
{
	struct hub *h;
	struct audit *a;
	struct audit_recovery ar;
	struct hub_result res[2];
	struct diag d;
	json_t *objs[2];
	char p[512], head[512];
	FILE *f;

	assert_int_equal(hub_init(dir, &d), TC_OK);
	assert_int_equal(hub_open(dir, &h, &d), TC_OK);
	for (int i = 0; i < 2; i++) {
		char t[512];
		snprintf(t, sizeof(t),
		         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
		         "00000000-0000-4000-8000-00000000001%d\",\"created\":\"2024-01-01T00:00:00.000Z\","
		         "\"modified\":\"2024-01-01T00:00:00.000Z\",\"pattern\":\"[ipv4-addr:value = "
		         "'198.51.100.%d']\",\"pattern_type\":\"stix\",\"valid_from\":"
		         "\"2024-01-01T00:00:00.000Z\"}",
		         i, i + 1);
		objs[i] = json_loads(t, 0, NULL);
	}
	assert_int_equal(hub_ingest(h, 1, objs, NULL, 2, res, &d), TC_OK);
	json_decref(objs[0]);
	json_decref(objs[1]);
	write_entries(3);
	/* the head as an older tocsin wrote it; no key yet */
	snprintf(p, sizeof(p), "%s/%s", dir, AUDIT_HEAD_FILE);
	f = fopen(p, "r");
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	f = fopen(p, "w");
	fprintf(f, "{\"n\":3,\"hash\":\"%.64s\"}\n", strstr(head, "\"hash\":\"") + 8);
	fclose(f);
	rm_file(HUBKEY_FILE);
	rm_file(HUBKEY_PUB_FILE);
	verify_ok(3);
	/* a registry command first: the head it writes keeps "no checkpoint" */
	write_entries(1);
	f = fopen(p, "r");
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_null(strstr(head, "ckpt_seq"));
	assert_non_null(strstr(head, "\"sig\""));
	assert_int_equal(audit_open_writer(dir, &a, &d), TC_OK);
	assert_int_equal(audit_recover(a, hub_store(h), &ar, &d), TC_OK);
	assert_int_equal(ar.versions, 0);
	assert_int_equal(ar.through, 2);
	audit_close(a);
	f = fopen(p, "r");
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_non_null(strstr(head, "\"ckpt_seq\":2"));
	hub_close(h);
	verify_ok(4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_append_sync_reopen),
		T(test_verify_empty_and_missing),
		T(test_altered_content),
		T(test_altered_hash),
		T(test_rewritten_last_entry),
		T(test_removed_entry),
		T(test_removed_first_entry),
		T(test_renumbered_after_removal),
		T(test_reordered),
		T(test_truncated_tail),
		T(test_extra_lines),
		T(test_head_missing),
		T(test_crash_leftovers),
		T(test_limits_and_bad_input),
		T(test_entry_text),
		T(test_two_handles),
		T(test_threads),
		T(test_rebuilt_chain_without_the_key),
		T(test_rebuilt_chain_is_caught_at_the_first_seal_after_it),
		T(test_anchor),
		T(test_recover),
		T(test_recover_legacy_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
