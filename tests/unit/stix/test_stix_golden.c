/*
 * Golden tests of stix_json_parse() + stix_validate(): every file in
 * tests/data/stix/valid/ must validate; every X.json in
 * tests/data/stix/invalid/ must fail with exactly the message in
 * X.expected.txt. A bundle is validated object by object with the path
 * "objects[i]", as the TAXII and import paths do.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix.h"

#ifndef DATA_DIR
#error "DATA_DIR must name tests/data/stix"
#endif

#define GOLDEN_MIN_CASES 60 /* the suite promises at least this many of each */
#define GOLDEN_FILE_MAX (4 * 1024 * 1024)

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = malloc(GOLDEN_FILE_MAX);
	size_t n = p ? fread(p, 1, GOLDEN_FILE_MAX - 1, f) : 0;
	fclose(f);
	if (p)
		p[n] = '\0';
	*len = n;
	return p;
}

/* Parses and validates one golden file; returns the first error. */
static enum tcerr
check_text(const char *text, size_t len, struct diag *d)
{
	json_t *v = NULL;
	enum tcerr rc = stix_json_parse(slice_make(text, len), NULL, &v, d);
	if (rc)
		return rc;
	const json_t *type = json_object_get(v, "type");
	if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0) {
		const json_t *objs = json_object_get(v, "objects");
		for (size_t i = 0; i < json_array_size(objs) && !rc; i++) {
			char path[32];
			snprintf(path, sizeof(path), "objects[%zu]", i);
			struct stix_meta m;
			rc = stix_validate(json_array_get(objs, i), path, NULL, &m, d);
		}
		if (!json_is_array(objs) || json_array_size(objs) == 0)
			rc = stix_validate(v, NULL, NULL, NULL, d); /* reports the bundle */
	} else {
		struct stix_meta m;
		rc = stix_validate(v, NULL, NULL, &m, d);
	}
	json_decref(v);
	return rc;
}

static bool
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static void
test_valid(void **state)
{
	DIR *dir = opendir(DATA_DIR "/valid");
	assert_non_null(dir);
	struct dirent *e;
	int n = 0, failed = 0;
	while ((e = readdir(dir))) {
		if (!has_suffix(e->d_name, ".json"))
			continue;
		char path[1024];
		size_t len;
		snprintf(path, sizeof(path), "%s/valid/%s", DATA_DIR, e->d_name);
		char *text = read_file(path, &len);
		assert_non_null(text);
		struct diag d;
		enum tcerr rc = check_text(text, len, &d);
		if (rc) {
			print_error("%s: %s (%s)\n", e->d_name, d.msg, tcerr_str(rc));
			failed++;
		}
		free(text);
		n++;
	}
	closedir(dir);
	assert_int_equal(failed, 0);
	assert_true(n >= GOLDEN_MIN_CASES);
}

static void
test_invalid(void **state)
{
	DIR *dir = opendir(DATA_DIR "/invalid");
	assert_non_null(dir);
	struct dirent *e;
	int n = 0, failed = 0;
	while ((e = readdir(dir))) {
		if (!has_suffix(e->d_name, ".json"))
			continue;
		char path[1024], xpath[1024];
		size_t len, xlen;
		snprintf(path, sizeof(path), "%s/invalid/%s", DATA_DIR, e->d_name);
		snprintf(xpath, sizeof(xpath), "%s/invalid/%.*s.expected.txt", DATA_DIR,
		         (int)(strlen(e->d_name) - 5), e->d_name);
		char *text = read_file(path, &len);
		char *want = read_file(xpath, &xlen);
		assert_non_null(text);
		if (!want) {
			print_error("%s: missing %s\n", e->d_name, xpath);
			failed++;
			free(text);
			continue;
		}
		while (xlen && (want[xlen - 1] == '\n' || want[xlen - 1] == '\r'))
			want[--xlen] = '\0';
		struct diag d;
		enum tcerr rc = check_text(text, len, &d);
		if (rc == TC_OK) {
			print_error("%s: accepted, expected \"%s\"\n", e->d_name, want);
			failed++;
		} else if (strcmp(d.msg, want) != 0) {
			print_error("%s: got \"%s\"\n%*s  want \"%s\"\n", e->d_name, d.msg,
			            (int)strlen(e->d_name), "", want);
			failed++;
		}
		free(text);
		free(want);
		n++;
	}
	closedir(dir);
	assert_int_equal(failed, 0);
	assert_true(n >= GOLDEN_MIN_CASES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
