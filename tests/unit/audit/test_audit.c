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
	assert_non_null(strstr(ls.l[7], head + 15 - 8)); /* "hash":"<same hex>"} */
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
	const char *ids[3] = { "indicator--1@2024-01-01T00:00:00Z", "a\"b\\c\n\x01", NULL };
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
	                   "\"ids\":[\"indicator--1@2024-01-01T00:00:00Z\","
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
	verify_ok(THREADS * PER_THREAD);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
