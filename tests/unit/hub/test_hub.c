/*
 * Unit tests of lib/hub/hub.c: the ingest path and matching through a real
 * SQLite data directory in a temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/hub.h"

struct fixture {
	char dir[256];
	struct hub *hub;
	int64_t coll;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag d;
	struct store_collection c;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tocsin-test-hub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strncat(f->dir, "/data", sizeof(f->dir) - strlen(f->dir) - 1);
	assert_int_equal(hub_init(f->dir, &d), TC_OK);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(hub_collection(f->hub, NULL, &c, &d), TC_OK);
	f->coll = c.num;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	hub_close(f->hub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 5), f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static json_t *
indicator(const char *uuid_tail, const char *modified, const char *pattern, const char *extra)
{
	char text[2048];
	json_error_t e;
	snprintf(text, sizeof(text),
	         "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
	         "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3%s\","
	         "\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"%s\","
	         "\"pattern\":\"%s\",\"pattern_type\":\"stix\","
	         "\"valid_from\":\"2024-01-01T00:00:00Z\"%s}",
	         uuid_tail, modified, pattern, extra ? extra : "");
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static void
ingest1(struct fixture *f, json_t *obj, enum hub_verdict want)
{
	struct hub_result r;
	struct diag d;
	assert_int_equal(hub_ingest(f->hub, f->coll, &obj, NULL, 1, &r, &d), TC_OK);
	if (r.verdict != want)
		fail_msg("verdict %d, want %d: %s", r.verdict, want, r.why);
	json_decref(obj);
}

static size_t
match(struct fixture *f, const char *value, struct hub_match *m)
{
	struct diag d;
	assert_int_equal(hub_match(f->hub, slice_from_cstr(value), NULL, m, &d), TC_OK);
	return m->nhits;
}

static void
test_ingest_and_match(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;

	ingest1(f, indicator("0001", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example']",
	                     NULL),
	        HUB_ACCEPTED);
	ingest1(f, indicator("0002", "2024-01-01T00:00:00.000Z",
	                     "[ipv4-addr:value = '203.0.113.0/24']", NULL),
	        HUB_ACCEPTED);

	assert_int_equal(match(f, "198.51.100.7", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_EXACT);
	assert_string_equal(m.hits[0].indicator_id,
	                    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b30001");
	assert_string_equal(m.hits[0].collection, "default");

	assert_int_equal(match(f, "a.b.EVIL.example.", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_PARENT_DOMAIN);
	assert_string_equal(m.hits[0].matched, "evil.example");

	assert_int_equal(match(f, "203.0.113.99", &m), 1);
	assert_int_equal(m.hits[0].how, INDEX_CIDR);
	assert_string_equal(m.hits[0].matched, "203.0.113.0/24");

	assert_int_equal(match(f, "198.51.100.8", &m), 0);
	assert_int_equal(match(f, "8.8.8.8", &m), 0);
	assert_true(m.allowlisted);
}

static void
test_duplicate_version_and_revocation(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	const char *p1 = "[domain-name:value = 'one.example']";
	const char *p2 = "[domain-name:value = 'two.example']";

	ingest1(f, indicator("0003", "2024-01-01T00:00:00.000Z", p1, NULL), HUB_ACCEPTED);
	ingest1(f, indicator("0003", "2024-01-01T00:00:00.000Z", p1, NULL), HUB_DUPLICATE);
	assert_int_equal(match(f, "one.example", &m), 1);
	/* a new version that names another value replaces the first in the index */
	ingest1(f, indicator("0003", "2024-02-01T00:00:00.000Z", p2, NULL), HUB_ACCEPTED);
	assert_int_equal(match(f, "one.example", &m), 0);
	assert_int_equal(match(f, "two.example", &m), 1);
	/* an older version arriving late changes nothing */
	ingest1(f, indicator("0003", "2024-01-15T00:00:00.000Z", p1, NULL), HUB_ACCEPTED);
	assert_int_equal(match(f, "one.example", &m), 0);
	/* revocation removes it */
	ingest1(f, indicator("0003", "2024-03-01T00:00:00.000Z", p2, ",\"revoked\":true"),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "two.example", &m), 0);
}

static void
test_expired_does_not_match(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	ingest1(f, indicator("0004", "2024-01-01T00:00:00.000Z",
	                     "[url:value = 'http://old.example/x']",
	                     ",\"valid_until\":\"2024-06-01T00:00:00Z\""),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "http://old.example/x", &m), 0);
	ingest1(f, indicator("0005", "2024-01-01T00:00:00.000Z",
	                     "[url:value = 'HTTP://New.Example:80/a/../x']",
	                     ",\"valid_until\":\"2999-01-01T00:00:00Z\""),
	        HUB_ACCEPTED);
	assert_int_equal(match(f, "http://new.example/x", &m), 1);
}

static void
test_rejections_keep_the_rest(void **state)
{
	struct fixture *f = *state;
	struct hub_result r[3];
	struct diag d;
	struct hub_match m;
	json_t *objs[3] = {
		indicator("0006", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.77']", NULL),
		indicator("0007", "2024-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.78'",
		          NULL),
		indicator("0008", "2023-01-01T00:00:00.000Z", "[ipv4-addr:value = '192.0.2.79']",
		          NULL),
	};
	const char *paths[3] = { "objects[0]", "objects[1]", "objects[2]" };

	assert_int_equal(hub_ingest(f->hub, f->coll, objs, paths, 3, r, &d), TC_OK);
	assert_int_equal(r[0].verdict, HUB_ACCEPTED);
	assert_int_equal(r[1].verdict, HUB_REJECTED);
	assert_non_null(strstr(r[1].why, "objects[1].pattern"));
	assert_int_equal(r[2].verdict, HUB_REJECTED); /* modified before created */
	assert_non_null(strstr(r[2].why, "objects[2].modified"));
	assert_int_equal(match(f, "192.0.2.77", &m), 1);
	assert_int_equal(match(f, "192.0.2.78", &m), 0);
	for (int i = 0; i < 3; i++)
		json_decref(objs[i]);
}

static void
test_reopen_rebuilds_index(void **state)
{
	struct fixture *f = *state;
	struct hub_match m;
	struct diag d;
	ingest1(f, indicator("0009", "2024-01-01T00:00:00.000Z",
	                     "[x-tocsin-phone-number:value = '+79991234567']", NULL),
	        HUB_ACCEPTED);
	hub_close(f->hub);
	assert_int_equal(hub_open(f->dir, &f->hub, &d), TC_OK);
	assert_int_equal(match(f, "+7 (999) 123-45-67", &m), 1);
}

static void
test_open_uninitialised(void **state)
{
	struct hub *h;
	struct diag d;
	assert_int_equal(hub_open("/nonexistent/tocsin", &h, &d), TC_ENOTFOUND);
	assert_non_null(strstr(d.msg, "tocsin init"));
	struct fixture *f = *state;
	assert_int_equal(hub_init(f->dir, &d), TC_EEXIST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ingest_and_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_version_and_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_does_not_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejections_keep_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_rebuilds_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_uninitialised, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
