/*
 * Unit tests of obs__url_is_plain (lib/observable/obs_url.c): a URL it
 * takes as already normal is exactly what libcurl's path makes of it,
 * over a generated mix of hosts, paths and queries with the characters and
 * segments that normalisation changes; and common URLs do take the fast
 * path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "observable/obs_internal.h"

static void
check(const char *u, size_t *plain)
{
	struct buf b;
	struct diag d;
	struct slice in = slice_from_cstr(u);
	if (!obs__url_is_plain(in))
		return;
	(*plain)++;
	buf_init(&b, 0);
	if (obs__url_curl(in, &b, &d) != TC_OK || !slice_eq(in, buf_slice(&b)))
		fail_msg("plain %s, libcurl gives %s", u, b.p ? b.p : d.msg);
	buf_reset(&b);
}

static void
test_plain_is_what_curl_gives(void **state)
{
	static const char *const schemes[] = { "http://", "https://", "HTTP://", "ftp://" };
	static const char *const hosts[] = {
		"evil.example", "a.b.c.example", "shop12.pay-secure.top", "x--y.example", "-a.example",
		"a-.example", "xn--exmple-cua.com", "Evil.example", "1.2.3.4", "1.2.3.com", "a.b1",
		"a..b", "a.b.", "localhost", "a_b.example", "[::1]", "a.example:80", "a.example:8080",
		"u@a.example",
	};
	static const char *const paths[] = {
		"/", "", "/login", "/a/b/", "/a//b", "/./a", "/a/.", "/a/../b", "/..", "/a%41",
		"/a%2f", "/~u/x.php", "/a b", "/a\"b", "/a'b", "/a(b)*!", "/a;b=c,d:e@f$g+h&i",
		"/%7e", "/.a/..b/...", "/A/B", "/a#f", "/a{b}", "/\xc3\xa9",
	};
	static const char *const queries[] = {
		"", "?", "?id=1", "?a=b&c=d", "?a=%20", "?a b", "?x?y", "?a#b", "?q=a/b/../c",
		"?u=http://x.example/", "?e=\xc3\xa9",
	};
	char u[512];
	size_t plain = 0, n = 0;
	(void)state;
	for (size_t s = 0; s < sizeof schemes / sizeof *schemes; s++)
		for (size_t h = 0; h < sizeof hosts / sizeof *hosts; h++)
			for (size_t p = 0; p < sizeof paths / sizeof *paths; p++)
				for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
					snprintf(u, sizeof u, "%s%s%s%s", schemes[s], hosts[h], paths[p],
					         queries[q]);
					check(u, &plain);
					n++;
				}
	assert_true(plain > 100 && plain < n);
}

static void
test_common_urls_are_plain(void **state)
{
	(void)state;
	assert_true(obs__url_is_plain(slice_from_cstr("http://shop1.pay-secure.top/login?id=1")));
	assert_true(obs__url_is_plain(slice_from_cstr("https://evil.example/")));
	assert_false(obs__url_is_plain(slice_from_cstr("https://evil.example")));
	assert_false(obs__url_is_plain(slice_from_cstr("https://evil.example/?")));
	assert_false(obs__url_is_plain(slice_from_cstr("https://evil.example/#x")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_is_what_curl_gives),
		cmocka_unit_test(test_common_urls_are_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
