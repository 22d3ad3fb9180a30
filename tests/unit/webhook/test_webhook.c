/*
 * Unit tests of lib/webhook: the address classes and the URL check a
 * receiver must pass (SSRF), the signature a receiver verifies (checked
 * against an HMAC-SHA256 computed independently, with Python's hmac
 * module), and the retry schedule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "feed/feed.h"
#include "store/store.h"
#include "webhook/webhook.h"

static enum webhook_addr_class
cls(const char *text)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, text, &s4.sin_addr) == 1)
		return webhook_addr_classify((struct sockaddr *)&s4);
	if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1)
		return webhook_addr_classify((struct sockaddr *)&s6);
	fail_msg("not an address: %s", text);
	return WA_RESERVED;
}

static void
test_classify(void **state)
{
	(void)state;
	static const struct {
		const char *a;
		enum webhook_addr_class c;
	} cases[] = {
		{ "8.8.8.8", WA_PUBLIC },
		{ "1.1.1.1", WA_PUBLIC },
		{ "2a00:1450:4001:80b::200e", WA_PUBLIC },
		{ "127.0.0.1", WA_LOOPBACK },
		{ "127.255.0.9", WA_LOOPBACK },
		{ "::1", WA_LOOPBACK },
		{ "::ffff:127.0.0.1", WA_LOOPBACK },   /* IPv4-mapped */
		{ "64:ff9b::7f00:1", WA_LOOPBACK },    /* NAT64 */
		{ "2002:7f00:1::", WA_LOOPBACK },      /* 6to4 */
		{ "10.1.2.3", WA_PRIVATE },
		{ "172.16.0.1", WA_PRIVATE },
		{ "172.31.255.255", WA_PRIVATE },
		{ "172.32.0.1", WA_PUBLIC },
		{ "192.168.1.1", WA_PRIVATE },
		{ "100.64.0.1", WA_PRIVATE },
		{ "::ffff:10.0.0.1", WA_PRIVATE },
		{ "fd12:3456::1", WA_PRIVATE },
		{ "fc00::1", WA_PRIVATE },
		{ "169.254.1.1", WA_LINK_LOCAL },
		{ "fe80::1", WA_LINK_LOCAL },
		{ "169.254.169.254", WA_METADATA },
		{ "::ffff:169.254.169.254", WA_METADATA },
		{ "fd00:ec2::254", WA_METADATA },
		{ "0.0.0.0", WA_UNSPECIFIED },
		{ "0.1.2.3", WA_UNSPECIFIED },
		{ "::", WA_UNSPECIFIED },
		{ "224.0.0.1", WA_MULTICAST },
		{ "239.255.255.250", WA_MULTICAST },
		{ "ff02::1", WA_MULTICAST },
		{ "255.255.255.255", WA_RESERVED },
		{ "240.0.0.1", WA_RESERVED },
		{ "192.0.2.1", WA_RESERVED },
		{ "2001:db8::1", WA_RESERVED },
		{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", WA_RESERVED }, /* Teredo */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (cls(cases[i].a) != cases[i].c)
			fail_msg("%s: %s, expected %s", cases[i].a,
			         webhook_addr_class_name(cls(cases[i].a)),
			         webhook_addr_class_name(cases[i].c));
}

static enum tcerr
parse(bool http, bool priv, const char *url, struct diag *d)
{
	struct webhook_url_policy pol = { http, priv };
	struct webhook_url w;
	diag_clear(d);
	return webhook_url_parse(&pol, url, &w, d);
}

static void
test_url_refused(void **state)
{
	(void)state;
	struct diag d;
	assert_int_equal(parse(false, false, "https://example.org/hook", &d), TC_OK);
	assert_int_equal(parse(false, false, "https://93.184.216.34:8443/x?y=1", &d), TC_OK);
	assert_int_equal(parse(false, false, "https://[2a00:1450:4001:80b::200e]/x", &d), TC_OK);

	assert_int_equal(parse(false, false, "http://example.org/hook", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "allow_http"));
	assert_int_equal(parse(true, false, "http://example.org/hook", &d), TC_OK);
	assert_int_equal(parse(true, true, "ftp://example.org/hook", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "gopher://example.org/", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "example.org/hook", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "https://user:pw@example.org/", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "https://example.org/#frag", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "https://exa mple.org/", &d), TC_EINVAL);
	assert_int_equal(parse(true, true, "", &d), TC_EINVAL);

	assert_int_equal(parse(false, false, "https://127.0.0.1:8443/", &d), TC_EPERM);
	assert_non_null(strstr(d.msg, "loopback"));
	assert_non_null(strstr(d.msg, "allow_private"));
	assert_int_equal(parse(false, true, "https://127.0.0.1:8443/", &d), TC_OK);
	assert_int_equal(parse(false, false, "https://10.0.0.5/", &d), TC_EPERM);
	assert_int_equal(parse(false, false, "https://[::1]/", &d), TC_EPERM);
	assert_int_equal(parse(false, false, "https://[::ffff:192.168.0.1]/", &d), TC_EPERM);
	/* never, whatever the operator allows */
	assert_int_equal(parse(true, true, "https://169.254.169.254/latest/meta-data/", &d),
	                 TC_EPERM);
	assert_non_null(strstr(d.msg, "metadata"));
	assert_int_equal(parse(true, true, "https://[fd00:ec2::254]/", &d), TC_EPERM);
	assert_int_equal(parse(true, true, "https://0.0.0.0/", &d), TC_EPERM);
	assert_int_equal(parse(true, true, "https://224.0.0.1/", &d), TC_EPERM);
	/* curl reads these forms of 127.0.0.1 as the address they are */
	assert_int_equal(parse(false, false, "https://2130706433/", &d), TC_EPERM);
	assert_int_equal(parse(false, false, "https://0x7f.1/", &d), TC_EPERM);
	char big[WEBHOOK_URL_MAX + 32];
	memset(big, 'a', sizeof big);
	memcpy(big, "https://e.org/", 14);
	big[sizeof big - 1] = '\0';
	assert_int_equal(parse(true, true, big, &d), TC_EINVAL);
}

static void
test_url_resolved(void **state)
{
	(void)state;
	struct webhook_url_policy strict = { false, false }, loose = { false, true };
	struct diag d;
	char addrs[WEBHOOK_ADDRS_MAX][WEBHOOK_ADDR_TEXT_MAX];
	size_t n = 0;
	/* "localhost" resolves to loopback on every system: refused */
	assert_int_equal(webhook_url_check(&strict, "https://localhost:9/", NULL, addrs, &n, &d),
	                 TC_EPERM);
	assert_non_null(strstr(d.msg, "localhost"));
	assert_int_equal(webhook_url_check(&loose, "https://localhost:9/", NULL, addrs, &n, &d),
	                 TC_OK);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++)
		assert_true(strcmp(addrs[i], "127.0.0.1") == 0 || strcmp(addrs[i], "::1") == 0);
	assert_int_equal(webhook_url_check(&loose, "https://no-such-host.invalid/", NULL, addrs, &n,
	                                   &d),
	                 TC_ENOTFOUND);
}

static void
test_sign(void **state)
{
	(void)state;
	const char *body = "{\"subscription\":\"wabc\",\"events\":[]}";
	const struct slice secret = slice_from_cstr("0123456789abcdef");
	char sig[WEBHOOK_SIG_TEXT_MAX];
	webhook_sign(secret, 1700000000, slice_from_cstr(body), sig);
	/* python3: hmac.new(secret, b"1700000000." + body, sha256).hexdigest() */
	assert_string_equal(sig, "sha256=6e58afa83f3a828da7d97701d3190ae90c4e1e8fec9aa543c66481109fb2b162");
	assert_true(webhook_verify(secret, 1700000000, slice_from_cstr(body), slice_from_cstr(sig)));
	/* another timestamp, body or secret does not verify */
	assert_false(webhook_verify(secret, 1700000001, slice_from_cstr(body), slice_from_cstr(sig)));
	assert_false(webhook_verify(secret, 1700000000, slice_from_cstr("{}"), slice_from_cstr(sig)));
	assert_false(webhook_verify(slice_from_cstr("0123456789abcdeX"), 1700000000,
	                            slice_from_cstr(body), slice_from_cstr(sig)));
	assert_false(webhook_verify(secret, 1700000000, slice_from_cstr(body),
	                            slice_make(sig, strlen(sig) - 1)));
}

static void
test_backoff(void **state)
{
	(void)state;
	const uint64_t ini = 1000000, max = 60000000;
	/* without jitter's random part (rnd 0) the delay is half the step */
	assert_int_equal(webhook_backoff_us(1, ini, max, 0), ini / 2);
	assert_int_equal(webhook_backoff_us(2, ini, max, 0), ini);
	assert_int_equal(webhook_backoff_us(3, ini, max, 0), 2 * ini);
	assert_int_equal(webhook_backoff_us(1, ini, max, UINT32_MAX), ini);
	assert_int_equal(webhook_backoff_us(4, ini, max, UINT32_MAX), 8 * ini);
	/* capped, also for absurd attempt counts */
	assert_int_equal(webhook_backoff_us(7, ini, max, UINT32_MAX), max);
	assert_int_equal(webhook_backoff_us(1000, ini, max, UINT32_MAX), max);
	assert_int_equal(webhook_backoff_us(UINT32_MAX, ini, max, 0), max / 2);
	/* the jitter spreads over [delay/2, delay] */
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint32_t r = 0; r < 1000; r++) {
		uint64_t v = webhook_backoff_us(3, ini, max, r * 4294967u);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		assert_true(v >= ini && v <= 4 * ini / 2 * 2);
	}
	assert_true(hi - lo > ini / 2);
	assert_true(webhook_backoff_us(1, 1, 1, 0) >= 1);
}

static void
test_filter(void **state)
{
	(void)state;
	struct store *s;
	struct store_collection c;
	struct feed_filter_store fs;
	struct diag d;
	assert_int_equal(store_open("memory:", &s, &d), TC_OK);
	assert_int_equal(store_collection_add(s, "banks", NULL, "Banks", "", &c, &d), TC_OK);

	feed_filter_init(&fs);
	assert_int_equal(webhook_filter_parse(&fs, s, "", &d), TC_OK);
	assert_int_equal(fs.f.ncollections, 0);
	assert_int_equal(fs.f.min_confidence, -1);
	feed_filter_reset(&fs);

	feed_filter_init(&fs);
	char q[256];
	snprintf(q, sizeof q, "collection=%s&kind=ipv4&kind=domain&min_confidence=50&tlp=amber%%2Bstrict"
	                      "&type=indicator",
	         c.uuid);
	assert_int_equal(webhook_filter_parse(&fs, s, q, &d), TC_OK);
	assert_int_equal(fs.f.ncollections, 1);
	assert_int_equal(fs.f.collections[0], c.num);
	assert_int_equal(fs.f.min_confidence, 50);
	assert_int_equal(fs.f.tlp_max, TLP_AMBER_STRICT);
	assert_int_equal(fs.f.kinds, (1u << OBS_IPV4) | (1u << OBS_DOMAIN));
	assert_int_equal(fs.f.ntypes, 1);
	assert_string_equal(fs.f.types[0], "indicator");
	feed_filter_reset(&fs);

	static const char *const bad[] = {
		"kind", "=x", "kind=nothing", "min_confidence=101", "tlp=purple", "collection=nope",
		"kind=ipv4&%zz=1", "type=a%2", "type=a%zzb", "colour=red",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		feed_filter_init(&fs);
		diag_clear(&d);
		if (webhook_filter_parse(&fs, s, bad[i], &d) == TC_OK)
			fail_msg("accepted %s", bad[i]);
		assert_true(d.msg[0] != '\0');
		feed_filter_reset(&fs);
	}
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),     cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_resolved), cmocka_unit_test(test_sign),
		cmocka_unit_test(test_backoff),      cmocka_unit_test(test_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
