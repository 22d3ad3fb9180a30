/* Out-of-memory tests of lib/index: the Nth allocation fails, for every N
 * a scenario makes; each failure must come back as TC_ENOMEM with the index
 * unchanged (what was added before is still found, nothing half-added) and
 * nothing leaked (the sanitizer build checks leaks). malloc, calloc,
 * realloc and aligned_alloc are wrapped at link time (-Wl,--wrap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index/allowlist.h"
#include "index/index.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

static long calls, fail_at;

static bool
fail_now(void)
{
	return ++calls == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

void *
__wrap_aligned_alloc(size_t a, size_t n)
{
	return fail_now() ? NULL : __real_aligned_alloc(a, n);
}

struct added {
	enum obs_kind kind;
	char value[48];
	uint32_t ref;
};

/* Returns true if the scenario ran to its end without the failure firing. */
static bool
index_scenario(void)
{
	struct index *idx;
	struct added ok[128];
	size_t nok = 0;
	bool failed = false;
	if (index_new(&idx) == TC_ENOMEM)
		return false;
	for (int i = 0; i < 60; i++) {
		struct added a;
		switch (i % 6) {
		case 0:
			a.kind = OBS_IPV4;
			snprintf(a.value, sizeof a.value, "10.%d.0.0/16", i);
			break;
		case 1:
			a.kind = OBS_IPV6;
			snprintf(a.value, sizeof a.value, "2001:db8:%x::/48", i);
			break;
		case 2:
		case 3:
			a.kind = OBS_DOMAIN; /* the same value, several refs */
			snprintf(a.value, sizeof a.value, "shared.example");
			break;
		default:
			a.kind = OBS_DOMAIN;
			snprintf(a.value, sizeof a.value, "d%d.example", i);
		}
		a.ref = (uint32_t)i;
		size_t before = index_count(idx);
		enum tcerr rc = index_add(idx, a.kind, slice_from_cstr(a.value), a.ref, 0);
		if (rc) {
			assert_int_equal(rc, TC_ENOMEM);
			assert_int_equal(index_count(idx), before);
			failed = true;
			continue;
		}
		ok[nok++] = a;
	}
	for (size_t i = 0; i < nok; i++) {
		struct index_hit h[64];
		size_t n = index_lookup(idx, ok[i].kind, slice_from_cstr(ok[i].value), 0, h, 64);
		bool found = false;
		for (size_t j = 0; j < n && j < 64; j++)
			found |= h[j].ref == ok[i].ref;
		assert_true(found);
	}
	assert_int_equal(index_count(idx), nok);
	index_free(idx);
	return !failed;
}

static void
test_index_oom(void **state)
{
	for (fail_at = 1;; fail_at++) {
		calls = 0;
		bool done = index_scenario();
		if (done && calls < fail_at)
			break;
		assert_true(fail_at < 10000);
	}
	assert_true(fail_at > 10); /* the scenario did meet failures */
	fail_at = 0;
}

static enum tcerr
pass_kind(struct slice name, enum obs_kind *out)
{
	*out = OBS_DOMAIN;
	return slice_eq_cstr(name, "domain") ? TC_OK : TC_EINVAL;
}

static enum tcerr
pass_norm(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in, struct buf *out,
          struct diag *d)
{
	buf_append_slice(out, in);
	return buf_error(out);
}

static enum tcerr
pass_classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind, struct buf *out,
              struct diag *d)
{
	*kind = OBS_DOMAIN;
	return pass_norm(ctx, *kind, in, out, d);
}

static void
test_allowlist_oom(void **state)
{
	static const struct allowlist_normalizer norm = { NULL, pass_classify, pass_norm,
		                                          pass_kind };
	for (fail_at = 1;; fail_at++) {
		calls = 0;
		struct allowlist *al;
		struct diag d;
		enum tcerr rc = allowlist_new(&al);
		if (rc == TC_OK)
			rc = allowlist_add_defaults(al);
		if (rc == TC_OK)
			rc = allowlist_load_buf(al, &norm, "a.txt",
			                        SLICE_LIT("a.example # reason\n!b.a.example\n"), &d);
		if (rc == TC_OK) {
			assert_true(allowlist_check(al, OBS_DOMAIN, SLICE_LIT("x.a.example"), NULL));
			assert_false(allowlist_check(al, OBS_DOMAIN, SLICE_LIT("b.a.example"), NULL));
		} else {
			assert_int_equal(rc, TC_ENOMEM);
		}
		allowlist_free(al);
		if (rc == TC_OK && calls < fail_at)
			break;
		assert_true(fail_at < 10000);
	}
	assert_true(fail_at > 10); /* the scenario did meet failures */
	fail_at = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_oom),
		cmocka_unit_test(test_allowlist_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
