/* Unit tests of lib/index/allowlist.c and allowlist_default.c: the shipped
 * defaults, exceptions, URL and email hosts, and file loading with a small
 * fake normaliser standing in for the observable module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "index/allowlist.h"

#define S(x) slice_from_cstr(x)

/* ---- a fake normaliser: lowercases; kinds ipv4/ipv6/domain/url ---- */

static enum tcerr
fake_kind_parse(struct slice name, enum obs_kind *out)
{
	static const struct {
		const char *n;
		enum obs_kind k;
	} kinds[] = { { "ipv4", OBS_IPV4 }, { "ipv6", OBS_IPV6 },  { "domain", OBS_DOMAIN },
		      { "url", OBS_URL },   { "email", OBS_EMAIL } };
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (slice_eq_cstr(name, kinds[i].n)) {
			*out = kinds[i].k;
			return TC_OK;
		}
	}
	return TC_EINVAL;
}

static enum tcerr
fake_normalize(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in, struct buf *out,
               struct diag *d)
{
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (kind == OBS_DOMAIN && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                            (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return diag_set(d, TC_EINVAL, "not a domain name");
		buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	return buf_error(out);
}

static enum tcerr
fake_classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind, struct buf *out,
              struct diag *d)
{
	bool digits = true, colon = false, scheme = false, at = false;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (!((c >= '0' && c <= '9') || c == '.' || c == '/'))
			digits = false;
		if (c == ':')
			colon = true;
		if (c == '@')
			at = true;
		if (i + 3 <= in.len && memcmp(in.p + i, "://", 3) == 0)
			scheme = true;
	}
	*kind = scheme ? OBS_URL : at ? OBS_EMAIL : digits ? OBS_IPV4 : colon ? OBS_IPV6 : OBS_DOMAIN;
	return fake_normalize(ctx, *kind, in, out, d);
}

static const struct allowlist_normalizer fake = { NULL, fake_classify, fake_normalize,
	                                          fake_kind_parse };

/* ---- helpers ---- */

static struct allowlist *
defaults(void)
{
	struct allowlist *al;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_add_defaults(al), TC_OK);
	return al;
}

static bool
ok(struct allowlist *al, enum obs_kind k, const char *v)
{
	return allowlist_check(al, k, S(v), NULL);
}

/* ---- tests ---- */

static void
test_defaults(void **state)
{
	struct allowlist *al = defaults();
	const char *why = NULL;
	assert_true(allowlist_count(al) > 150);
	assert_true(allowlist_check(al, OBS_IPV4, S("10.1.2.3"), &why));
	assert_non_null(why);
	assert_non_null(strstr(why, "RFC 1918"));
	assert_true(allowlist_check(al, OBS_IPV4, S("8.8.8.8"), &why));
	assert_non_null(strstr(why, "Google"));
	assert_true(ok(al, OBS_IPV4, "127.0.0.1"));
	assert_true(ok(al, OBS_IPV4, "100.64.1.1"));
	assert_true(ok(al, OBS_IPV4, "192.0.2.55"));
	assert_true(ok(al, OBS_IPV4, "255.255.255.255"));
	assert_true(ok(al, OBS_IPV4, "172.31.255.255"));
	assert_false(ok(al, OBS_IPV4, "172.32.0.1"));
	assert_false(ok(al, OBS_IPV4, "8.8.8.9"));
	assert_false(ok(al, OBS_IPV4, "203.0.114.1"));
	assert_true(ok(al, OBS_IPV4, "192.168.0.0/24")); /* a network inside a range */
	assert_true(ok(al, OBS_IPV6, "::1"));
	assert_true(ok(al, OBS_IPV6, "fe80::1"));
	assert_true(ok(al, OBS_IPV6, "fd12:3456::1"));
	assert_true(ok(al, OBS_IPV6, "2001:db8:abcd::1"));
	assert_true(ok(al, OBS_IPV6, "2001:4860:4860::8888"));
	assert_false(ok(al, OBS_IPV6, "2a00:1450::1"));

	assert_true(allowlist_check(al, OBS_DOMAIN, S("www.google.com"), &why));
	assert_string_equal(why, "popular domain");
	assert_true(ok(al, OBS_DOMAIN, "google.com"));
	assert_true(ok(al, OBS_DOMAIN, "yandex.ru"));
	assert_true(ok(al, OBS_DOMAIN, "esia.gosuslugi.ru"));
	assert_true(ok(al, OBS_DOMAIN, "online.sberbank.ru"));
	assert_false(ok(al, OBS_DOMAIN, "evil.example"));
	assert_false(ok(al, OBS_DOMAIN, "google.com.evil.example"));
	assert_false(ok(al, OBS_DOMAIN, "notgoogle.com"));
	/* user content: exceptions and names left out */
	assert_false(allowlist_check(al, OBS_DOMAIN, S("sites.google.com"), &why));
	assert_null(why);
	assert_false(ok(al, OBS_DOMAIN, "x.sites.google.com"));
	assert_false(ok(al, OBS_DOMAIN, "docs.google.com"));
	assert_false(ok(al, OBS_DOMAIN, "cloud.mail.ru"));
	assert_false(ok(al, OBS_DOMAIN, "foo.blogspot.com"));
	assert_false(ok(al, OBS_DOMAIN, "storage.googleapis.com"));
	assert_false(ok(al, OBS_DOMAIN, "x.github.io"));
	assert_false(ok(al, OBS_DOMAIN, "x.pages.dev"));
	assert_false(ok(al, OBS_DOMAIN, "x.workers.dev"));
	assert_false(ok(al, OBS_DOMAIN, "x.herokuapp.com"));
	assert_false(ok(al, OBS_DOMAIN, "t.me"));
	assert_false(ok(al, OBS_DOMAIN, "bucket.s3.amazonaws.com"));
	assert_true(ok(al, OBS_DOMAIN, "mail.google.com"));
	allowlist_free(al);
}

static void
test_url_and_email_hosts(void **state)
{
	struct allowlist *al = defaults();
	assert_true(ok(al, OBS_URL, "https://www.google.com/"));
	assert_true(ok(al, OBS_URL, "https://user@yandex.ru:8443/"));
	assert_true(ok(al, OBS_URL, "http://10.0.0.1"));
	assert_true(ok(al, OBS_URL, "http://[::1]:8080/"));
	/* a path or query on a popular host is blockable */
	assert_false(ok(al, OBS_URL, "https://www.google.com/search?q=x"));
	assert_false(ok(al, OBS_URL, "https://github.com/user/repo/raw/x.exe"));
	assert_false(ok(al, OBS_URL, "http://10.0.0.1/admin"));
	assert_false(ok(al, OBS_URL, "https://yandex.ru/?q=1"));
	assert_false(ok(al, OBS_URL, "https://sites.google.com/view/phish"));
	assert_false(ok(al, OBS_URL, "http://evil.example/google.com"));
	assert_false(ok(al, OBS_URL, "http://8.8.8.9/"));
	assert_false(ok(al, OBS_URL, "no scheme"));
	/* scams come from popular mail domains: only exact entries count */
	assert_false(ok(al, OBS_EMAIL, "someone@mail.ru"));
	assert_false(ok(al, OBS_EMAIL, "ceo@evil.example"));
	assert_false(ok(al, OBS_EMAIL, "noatsign"));
	allowlist_free(al);
}

static void
test_exceptions_most_specific_wins(void **state)
{
	struct allowlist *al;
	const char *why;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_add(al, OBS_DOMAIN, S("corp.example"), "ours"), TC_OK);
	assert_int_equal(allowlist_add_exception(al, OBS_DOMAIN, S("users.corp.example"), NULL),
	                 TC_OK);
	assert_int_equal(allowlist_add(al, OBS_DOMAIN, S("it.users.corp.example"), "IT"), TC_OK);
	assert_true(allowlist_check(al, OBS_DOMAIN, S("www.corp.example"), &why));
	assert_string_equal(why, "ours");
	assert_false(ok(al, OBS_DOMAIN, "users.corp.example"));
	assert_false(ok(al, OBS_DOMAIN, "bob.users.corp.example"));
	assert_true(allowlist_check(al, OBS_DOMAIN, S("x.it.users.corp.example"), &why));
	assert_string_equal(why, "IT");
	/* networks: a longer exception inside a range */
	assert_int_equal(allowlist_add(al, OBS_IPV4, S("192.0.2.0/24"), "lab"), TC_OK);
	assert_int_equal(allowlist_add_exception(al, OBS_IPV4, S("192.0.2.128/25"), "dmz"),
	                 TC_OK);
	assert_true(ok(al, OBS_IPV4, "192.0.2.1"));
	assert_false(ok(al, OBS_IPV4, "192.0.2.200"));
	/* the same key both ways: the exception wins */
	assert_int_equal(allowlist_add(al, OBS_DOMAIN, S("both.example"), "a"), TC_OK);
	assert_int_equal(allowlist_add_exception(al, OBS_DOMAIN, S("both.example"), "b"), TC_OK);
	assert_false(ok(al, OBS_DOMAIN, "both.example"));
	assert_int_equal(allowlist_count(al), 7);
	assert_int_equal(allowlist_add(al, OBS_IPV4, S("192.0.2.1/24"), "bad"), TC_EINVAL);
	allowlist_free(al);
}

static void
test_load_buf(void **state)
{
	struct allowlist *al;
	struct diag d;
	const char *why;
	assert_int_equal(allowlist_new(&al), TC_OK);
	const char *text = "# operator allowlist\n"
	                   "\n"
	                   "198.51.100.7\n"
	                   "domain Corp.Example   # our domain\n"
	                   "!hr.corp.example\n"
	                   "!  domain   pay.corp.example\n"
	                   "url http://intranet.example/#frag\r\n"
	                   "   2001:db8::/32  \n"
	                   "\tops@partner.example";
	assert_int_equal(allowlist_load_buf(al, &fake, "allow.txt", S(text), &d), TC_OK);
	assert_int_equal(allowlist_count(al), 7);
	assert_true(allowlist_check(al, OBS_IPV4, S("198.51.100.7"), &why));
	assert_string_equal(why, "allow.txt:3");
	assert_true(allowlist_check(al, OBS_DOMAIN, S("www.corp.example"), &why));
	assert_string_equal(why, "our domain");
	assert_false(ok(al, OBS_DOMAIN, "hr.corp.example"));
	assert_false(ok(al, OBS_DOMAIN, "x.pay.corp.example"));
	assert_true(ok(al, OBS_URL, "http://intranet.example/#frag"));
	assert_true(ok(al, OBS_IPV6, "2001:db8::5"));
	assert_true(ok(al, OBS_EMAIL, "ops@partner.example"));
	allowlist_free(al);
}

static void
expect_error_n(const char *text, size_t len, enum tcerr rc, const char *msg, long line)
{
	struct allowlist *al;
	struct diag d;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_load_buf(al, &fake, "allow.txt", slice_make(text, len), &d),
	                 rc);
	assert_string_equal(d.msg, msg);
	assert_int_equal(d.line, line);
	allowlist_free(al);
}

static void
expect_error(const char *text, enum tcerr rc, const char *msg, long line)
{
	expect_error_n(text, strlen(text), rc, msg, line);
}

static void
test_load_errors(void **state)
{
	expect_error("ok.example\nbogus ok.example\n", TC_EINVAL,
	             "allow.txt:2: unknown kind 'bogus'", 2);
	expect_error("\n\n\ndomain bad_name!\n", TC_EINVAL, "allow.txt:4: not a domain name", 4);
	expect_error("!\n", TC_EINVAL, "allow.txt:1: '!' without a value", 1);
	expect_error("domain a.example b.example\n", TC_EINVAL,
	             "allow.txt:1: expected 'kind value' or a value, found more", 1);
	expect_error("ipv4 10.0.0.1/8\n", TC_EINVAL, "allow.txt:1: '10.0.0.1/8' cannot be matched",
	             1);
	expect_error_n("a.example\nb\0c\n", 14, TC_EINVAL, "allow.txt:2: NUL byte in line", 2);

	/* ALLOWLIST_MAX_LINE */
	size_t n = ALLOWLIST_MAX_LINE + 10;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	expect_error(big, TC_ELIMIT, "allow.txt:1: line longer than 4096 bytes", 1);
	memset(big, 'a', ALLOWLIST_MAX_LINE);
	big[ALLOWLIST_MAX_LINE] = '\0'; /* exactly the limit is fine */
	struct allowlist *al;
	struct diag d;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_load_buf(al, &fake, "allow.txt", S(big), &d), TC_OK);
	allowlist_free(al);
	free(big);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/tocsin-allowlist-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# test\nexample.org\nipv4 999.1.1.1\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct allowlist *al;
	struct diag d;
	assert_int_equal(allowlist_new(&al), TC_OK);
	/* the fake normaliser passes 999.1.1.1; the index refuses it */
	assert_int_equal(allowlist_load_file(al, &fake, path, &d), TC_EINVAL);
	char want[128];
	snprintf(want, sizeof want, "%s:3: '999.1.1.1' cannot be matched", path);
	assert_string_equal(d.msg, want);
	assert_int_equal(d.line, 3);
	unlink(path);
	assert_int_equal(allowlist_load_file(al, &fake, path, &d), TC_ENOTFOUND);
	assert_non_null(strstr(d.msg, "cannot read"));
	allowlist_free(al);
}

/* ---- issue 8: what a block would hit, entries listed ---- */

/* A network inside an allowlisted one is covered; a network that holds an
 * allowlisted address would block it: both are reported, with the entry. */
static void
test_check_block_networks(void **state)
{
	struct allowlist *al = defaults();
	struct allowlist_hit hit;

	assert_true(allowlist_check_block(al, OBS_IPV4, S("10.1.0.0/16"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_COVERED);
	assert_string_equal(hit.entry.value, "10.0.0.0/8");
	assert_string_equal(hit.entry.reason, "RFC 1918 private range");
	assert_true(hit.entry.builtin);

	assert_true(allowlist_check_block(al, OBS_IPV4, S("8.0.0.0/8"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_CONTAINS);
	assert_string_equal(hit.entry.value, "8.8.4.4");
	assert_true(allowlist_check_block(al, OBS_IPV4, S("8.8.8.0/24"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_CONTAINS);
	assert_string_equal(hit.entry.value, "8.8.8.8");

	assert_false(allowlist_check_block(al, OBS_IPV4, S("8.8.9.0/24"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_NONE);
	assert_false(allowlist_check_block(al, OBS_IPV4, S("203.0.112.7"), &hit));
	assert_true(allowlist_check_block(al, OBS_IPV4, S("8.8.8.8"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_COVERED);
	assert_true(allowlist_check_block(al, OBS_DOMAIN, S("mail.google.com"), &hit));
	assert_string_equal(hit.entry.value, "google.com");
	assert_false(allowlist_check_block(al, OBS_DOMAIN, S("sites.google.com"), &hit));

	/* a domain above a listed one would block it too (RPZ blocks the
	 * subdomains); a parent of an exception only is fine */
	assert_int_equal(allowlist_add(al, OBS_DOMAIN, S("portal.bank.example"), "bank portal"),
	                 TC_OK);
	assert_true(allowlist_check_block(al, OBS_DOMAIN, S("bank.example"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_CONTAINS);
	assert_string_equal(hit.entry.value, "portal.bank.example");
	assert_false(allowlist_check_block(al, OBS_DOMAIN, S("other.example"), &hit));
	assert_false(allowlist_check_block(al, OBS_DOMAIN, S("x.bank.example"), &hit));
	assert_int_equal(allowlist_add_exception(al, OBS_DOMAIN, S("evil.corp.example"), NULL),
	                 TC_OK);
	assert_false(allowlist_check_block(al, OBS_DOMAIN, S("corp.example"), &hit));

	/* an entry added one by one (unsorted) is found as well */
	assert_int_equal(allowlist_add(al, OBS_IPV4, S("5.6.7.8"), "our mail relay"), TC_OK);
	assert_true(allowlist_check_block(al, OBS_IPV4, S("5.6.0.0/16"), &hit));
	assert_int_equal(hit.how, ALLOWLIST_CONTAINS);
	assert_string_equal(hit.entry.reason, "our mail relay");
	assert_false(hit.entry.builtin);
	allowlist_free(al);
}

/* A file's entries carry the file's name as their source. */
static void
test_sources_and_foreach(void **state)
{
	struct allowlist *al = defaults();
	struct allowlist_hit hit;
	const char *text = "198.51.100.7 # partner gateway\n!ex.example.org\n";
	assert_int_equal(allowlist_load_buf(al, &fake, "DATA/allowlist.txt", S(text), NULL), TC_OK);
	assert_true(allowlist_check_block(al, OBS_IPV4, S("198.51.100.7"), &hit));
	assert_false(hit.entry.builtin);
	assert_string_equal(hit.entry.source, "DATA/allowlist.txt");
	/* the partner entry is more specific than the TEST-NET-2 one */
	assert_string_equal(hit.entry.reason, "partner gateway");

	size_t builtin = 0, local = 0, exceptions = 0;
	struct allowlist_entry e;
	for (size_t i = 0; allowlist_entry_at(al, i, &e); i++) {
		if (e.builtin)
			builtin++;
		else
			local++;
		exceptions += e.exception;
		assert_non_null(e.value);
		assert_non_null(e.reason);
	}
	assert_int_equal(builtin + local, allowlist_count(al));
	assert_int_equal(local, 2);
	assert_true(exceptions > 2);
	allowlist_free(al);
}

/* A reference keeps an allowlist alive after its owner let it go. */
static void
test_ref(void **state)
{
	struct allowlist *al = defaults();
	struct allowlist *r = allowlist_ref(al);
	allowlist_free(al);
	assert_true(allowlist_check(r, OBS_IPV4, S("10.0.0.1"), NULL));
	allowlist_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_check_block_networks),
		cmocka_unit_test(test_sources_and_foreach),
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_url_and_email_hosts),
		cmocka_unit_test(test_exceptions_most_specific_wins),
		cmocka_unit_test(test_load_buf),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
