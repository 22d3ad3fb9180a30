/*
 * Unit tests of lib/registry's sources on a real registry.db: add and its
 * checks, list, a run asked for (requested/served and the generation),
 * the daemon's status write, entries recorded and read back, remove (the
 * entries with it) and persistence across a reopen.
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

#include "registry/registry.h"

struct fixture {
	char dir[256];
	struct registry *r;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag d;
	snprintf(f->dir, sizeof f->dir, "/tmp/tocsin-test-regsrc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_org_add(f->r, "abusefeeds", SECTOR_CERT, "CH", NULL, 0, NULL, &d),
	                 TC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[600];
	registry_close(f->r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
fill(struct reg_source *s, const char *name)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->url, sizeof s->url, "%s", "https://feeds.example.org/urls.txt");
	snprintf(s->format, sizeof s->format, "%s", "url-list");
	s->every_s = 900;
	snprintf(s->org_name, sizeof s->org_name, "%s", "abusefeeds");
	snprintf(s->collection, sizeof s->collection, "%s", "default");
	snprintf(s->tlp, sizeof s->tlp, "%s", "green");
	s->confidence = 70;
	snprintf(s->expiry, sizeof s->expiry, "%s", "drop");
	snprintf(s->auth, sizeof s->auth, "%s", "Authorization: Bearer s3cret");
}

static enum tcerr
count_cb(void *ctx, const struct reg_source *s)
{
	(void)s;
	(*(int *)ctx)++;
	return TC_OK;
}

static enum tcerr
entry_cb(void *ctx, const struct reg_source_entry *e)
{
	int *n = ctx;
	if (strcmp(e->id, "indicator--b") == 0) {
		assert_false(e->listed);
		assert_string_equal(e->json, "{\"b\":2}");
	}
	(*n)++;
	return TC_OK;
}

static void
test_sources(void **state)
{
	struct fixture *f = *state;
	struct reg_source *s = calloc(1, sizeof *s), *out = calloc(1, sizeof *out);
	struct diag d;
	uint64_t g0, g1;

	fill(s, "urlhaus");
	s->every_s = 10;
	assert_int_equal(registry_source_add(f->r, s, out, &d), TC_EINVAL);
	fill(s, "urlhaus");
	snprintf(s->org_name, sizeof s->org_name, "nobody");
	assert_int_equal(registry_source_add(f->r, s, out, &d), TC_ENOTFOUND);
	fill(s, "urlhaus");
	snprintf(s->expiry, sizeof s->expiry, "never");
	assert_int_equal(registry_source_add(f->r, s, out, &d), TC_EINVAL);

	assert_int_equal(registry_source_generation(f->r, &g0, &d), TC_OK);
	fill(s, "urlhaus");
	assert_int_equal(registry_source_add(f->r, s, out, &d), TC_OK);
	assert_string_equal(out->auth, "Authorization: Bearer s3cret");
	assert_string_equal(out->org_name, "abusefeeds");
	assert_true(strncmp(out->org_identity, "identity--", 10) == 0);
	assert_int_equal(out->next_run_us, 0); /* due at once */
	assert_int_equal(registry_source_add(f->r, s, out, &d), TC_EEXIST);
	assert_int_equal(registry_source_generation(f->r, &g1, &d), TC_OK);
	assert_true(g1 > g0);

	assert_int_equal(registry_source_request(f->r, "urlhaus", out, &d), TC_OK);
	assert_int_equal(out->requested, 1);
	assert_int_equal(out->served, 0);
	assert_int_equal(registry_source_generation(f->r, &g0, &d), TC_OK);
	assert_true(g0 > g1);
	assert_int_equal(registry_source_request(f->r, "nosuch", NULL, &d), TC_ENOTFOUND);

	/* the daemon's status write: the generation does not move */
	out->served = 1;
	out->entries = 42;
	out->runs = 1;
	snprintf(out->result, sizeof out->result, "ok");
	snprintf(out->etag, sizeof out->etag, "\"abc\"");
	assert_int_equal(registry_source_progress(f->r, out, &d), TC_OK);
	assert_int_equal(registry_source_generation(f->r, &g1, &d), TC_OK);
	assert_int_equal(g1, g0);

	struct reg_source_entry e[2] = {
		{ .id = "indicator--a", .modified_us = 1, .listed = true, .json = "{\"a\":1}" },
		{ .id = "indicator--b", .modified_us = 2, .listed = false, .json = "{\"b\":2}" },
	};
	assert_int_equal(registry_source_entries_put(f->r, "urlhaus", e, 2, &d), TC_OK);
	int n = 0;
	assert_int_equal(registry_source_entries(f->r, "urlhaus", entry_cb, &n, &d), TC_OK);
	assert_int_equal(n, 2);

	/* persists */
	registry_close(f->r);
	assert_int_equal(registry_open(f->dir, &f->r, &d), TC_OK);
	assert_int_equal(registry_source_get(f->r, "urlhaus", out, &d), TC_OK);
	assert_int_equal(out->entries, 42);
	assert_string_equal(out->etag, "\"abc\"");
	assert_string_equal(out->result, "ok");
	int count = 0;
	assert_int_equal(registry_source_list(f->r, count_cb, &count, &d), TC_OK);
	assert_int_equal(count, 1);

	assert_int_equal(registry_source_remove(f->r, "urlhaus", &d), TC_OK);
	assert_int_equal(registry_source_remove(f->r, "urlhaus", &d), TC_ENOTFOUND);
	n = 0;
	assert_int_equal(registry_source_entries(f->r, "urlhaus", entry_cb, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(registry_source_progress(f->r, out, &d), TC_ENOTFOUND);
	reg_source_wipe(s);
	reg_source_wipe(out);
	free(s);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
