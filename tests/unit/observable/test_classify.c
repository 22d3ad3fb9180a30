/* Unit tests of obs_classify(), kind names, obs_kind_from_stix_path() and
 * obs_to_pattern(). */
#include "obs_test.h"

static const struct {
	const char *in;
	enum obs_kind kind;   /* 0: refused */
	const char *want;     /* canonical value, or a message substring when refused */
} classify_cases[] = {
	{ "192.0.2.1", OBS_IPV4, "192.0.2.1" },
	{ "10.0.0.0/8", OBS_IPV4, "10.0.0.0/8" },
	{ "2001:DB8::1", OBS_IPV6, "2001:db8::1" },
	{ "::ffff:1.2.3.4", OBS_IPV4, "1.2.3.4" },
	{ "2001:db8::/32", OBS_IPV6, "2001:db8::/32" },
	{ "HTTP://Example.com:80/a/../b", OBS_URL, "http://example.com/b" },
	{ "User@Example.com", OBS_EMAIL, "User@example.com" },
	{ "D41D8CD98F00B204E9800998ECF8427E", OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e" },
	{ "da39a3ee5e6b4b0d3255bfef95601890afd80709", OBS_SHA1,
	  "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", OBS_SHA256,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "+7 999 123-45-67", OBS_PHONE, "+79991234567" },
	{ "8 (999) 123-45-67", OBS_PHONE, "+79991234567" },
	{ "89991234567", OBS_PHONE, "+79991234567" },
	{ "GB82 WEST 1234 5698 7654 32", OBS_BANK_ACCOUNT, "GB82WEST12345698765432" },
	{ "RU:044525225:30101810400000000225", OBS_BANK_ACCOUNT,
	  "RU:044525225:30101810400000000225" },
	{ "044525225 40817810899910004312", OBS_BANK_ACCOUNT, "RU:044525225:40817810899910004312" },
	{ "4111 1111 1111 1111", OBS_CARD,
	  "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9" },
	{ "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", OBS_WALLET, "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" },
	{ "0x52908400098527886E0F7030069857D2E4169EE7", OBS_WALLET,
	  "eth:0x52908400098527886e0f7030069857d2e4169ee7" },
	{ "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", OBS_WALLET,
	  "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" },
	{ "trx:TSXjbeARfWaF8U9JeZ8AQeNqT2oTrY7M2U", OBS_WALLET, "trx:TSXjbeARfWaF8U9JeZ8AQeNqT2oTrY7M2U" },
	{ "AS64496", OBS_ASN, "AS64496" },
	{ "64496", OBS_ASN, "AS64496" },
	{ "Exämple.COM.", OBS_DOMAIN, "xn--exmple-cua.com" },
	{ "evil.example", OBS_DOMAIN, "evil.example" },
	/* refused, with the guess in the message */
	{ "01.2.3.4", 0, "looks like ipv4: not an IPv4 address" },
	{ "10.0.0.1/8", 0, "the network is 10.0.0.0/8" },
	{ "4111111111111112", 0, "looks like card: card number fails the Luhn check" },
	{ "GB82WEST12345698765433", 0, "IBAN check digits do not match" },
	{ "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", 0, "looks like wallet" },
	{ "hello", 0, "not a recognised observable" },
	{ "", 0, "not a recognised observable" },
	{ "a b.com", 0, "space" },
	{ "+12", 0, "fewer than 8" },
};

static void
test_classify(void **s)
{
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		struct buf b;
		struct diag d;
		enum obs_kind k = 0;
		buf_init(&b, 0);
		diag_clear(&d);
		enum tcerr rc = obs_classify(&test_ctx, slice_from_cstr(classify_cases[i].in), &k, &b,
		                             &d);
		if (classify_cases[i].kind) {
			if (rc != TC_OK || k != classify_cases[i].kind ||
			    strcmp(b.p, classify_cases[i].want) != 0)
				fail_msg("'%s': want %s '%s', got rc %d %s '%s' (%s)",
				         classify_cases[i].in, obs_kind_name(classify_cases[i].kind),
				         classify_cases[i].want, rc, obs_kind_name(k), b.p ? b.p : "",
				         d.msg);
		} else {
			if (rc == TC_OK)
				fail_msg("'%s': accepted as %s '%s'", classify_cases[i].in,
				         obs_kind_name(k), b.p);
			if (!strstr(d.msg, classify_cases[i].want))
				fail_msg("'%s': message '%s' lacks '%s'", classify_cases[i].in, d.msg,
				         classify_cases[i].want);
		}
		buf_reset(&b);
	}
}

static void
test_kind_names(void **s)
{
	for (int k = OBS_IPV4; k <= OBS_KIND_MAX; k++) {
		enum obs_kind back = 0;
		const char *name = obs_kind_name((enum obs_kind)k);
		assert_int_equal(obs_kind_parse(slice_from_cstr(name), &back), TC_OK);
		assert_int_equal(back, k);
	}
	assert_string_equal(obs_kind_name(OBS_BANK_ACCOUNT), "bank-account");
	assert_string_equal(obs_kind_name(OBS_STREEBOG512), "streebog512");
	enum obs_kind k;
	assert_int_equal(obs_kind_parse(SLICE_LIT("domain-name"), &k), TC_OK);
	assert_int_equal(k, OBS_DOMAIN);
	assert_int_equal(obs_kind_parse(SLICE_LIT("SHA-256"), &k), TC_OK);
	assert_int_equal(k, OBS_SHA256);
	assert_int_equal(obs_kind_parse(SLICE_LIT("ipv4-addr"), &k), TC_OK);
	assert_int_equal(k, OBS_IPV4);
	assert_int_equal(obs_kind_parse(SLICE_LIT("x-tocsin-payment-card"), &k), TC_OK);
	assert_int_equal(k, OBS_CARD);
	assert_int_equal(obs_kind_parse(SLICE_LIT("ip"), &k), TC_EINVAL);
	assert_int_equal(obs_kind_parse(SLICE_LIT(""), &k), TC_EINVAL);
	assert_int_equal(obs_kind_parse(SLICE_LIT("sha"), &k), TC_EINVAL);
	assert_string_equal(obs_kind_name((enum obs_kind)0), "unknown");
}

static void
test_stix_paths(void **s)
{
	static const struct {
		const char *path;
		enum obs_kind kind; /* 0: not indexed */
	} t[] = {
		{ "ipv4-addr:value", OBS_IPV4 },
		{ "ipv6-addr:value", OBS_IPV6 },
		{ "domain-name:value", OBS_DOMAIN },
		{ "url:value", OBS_URL },
		{ "email-addr:value", OBS_EMAIL },
		{ "email-message:from_ref.value", OBS_EMAIL },
		{ "email-message:sender_ref.value", OBS_EMAIL },
		{ "file:hashes.MD5", OBS_MD5 },
		{ "file:hashes.'MD5'", OBS_MD5 },
		{ "file:hashes.md5", OBS_MD5 },
		{ "file:hashes.'SHA-1'", OBS_SHA1 },
		{ "file:hashes.'SHA-256'", OBS_SHA256 },
		{ "file:hashes.'sha-256'", OBS_SHA256 },
		{ "file:hashes.SHA256", OBS_SHA256 },
		{ "file:hashes.'SHA-512'", OBS_SHA512 },
		{ "file:hashes.'STREEBOG-256'", OBS_STREEBOG256 },
		{ "file:hashes.'STREEBOG-512'", OBS_STREEBOG512 },
		{ "network-traffic:dst_ref.value", OBS_IPV4 },
		{ "network-traffic:src_ref.value", OBS_IPV4 },
		{ "autonomous-system:number", OBS_ASN },
		{ "x-tocsin-phone-number:value", OBS_PHONE },
		{ "x-tocsin-bank-account:value", OBS_BANK_ACCOUNT },
		{ "x-tocsin-payment-card:value", OBS_CARD },
		{ "x-tocsin-crypto-wallet:value", OBS_WALLET },
		{ "file:hashes.'SHA3-256'", 0 },
		{ "file:name", 0 },
		{ "file:hashes.", 0 },
		{ "ipv4-addr:resolves_to_refs[*].value", 0 },
		{ "network-traffic:dst_port", 0 },
		{ "email-message:subject", 0 },
		{ "x-tocsin-phone-number:country", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum obs_kind k = 0;
		bool ok = obs_kind_from_stix_path(t[i].path, &k);
		if (ok != (t[i].kind != 0) || (ok && k != t[i].kind))
			fail_msg("'%s': got %d %s", t[i].path, ok, obs_kind_name(k));
	}
	enum obs_kind k;
	assert_false(obs_kind_from_stix_path(NULL, &k));
}

/* Every kind's pattern names a path that maps back to the kind, and string
 * values are escaped. */
static void
test_to_pattern(void **s)
{
	struct buf b;
	buf_init(&b, 0);
	obs_to_pattern(OBS_DOMAIN, SLICE_LIT("evil.example"), &b);
	assert_string_equal(b.p, "[domain-name:value = 'evil.example']");
	buf_clear(&b);
	obs_to_pattern(OBS_PHONE, SLICE_LIT("+79991234567"), &b);
	assert_string_equal(b.p, "[x-tocsin-phone-number:value = '+79991234567']");
	buf_clear(&b);
	obs_to_pattern(OBS_ASN, SLICE_LIT("AS64496"), &b);
	assert_string_equal(b.p, "[autonomous-system:number = 64496]");
	buf_clear(&b);
	obs_to_pattern(OBS_SHA256, SLICE_LIT("e3b0"), &b);
	assert_string_equal(b.p, "[file:hashes.'SHA-256' = 'e3b0']");
	buf_clear(&b);
	obs_to_pattern(OBS_MD5, SLICE_LIT("d41d"), &b);
	assert_string_equal(b.p, "[file:hashes.MD5 = 'd41d']");
	buf_clear(&b);
	obs_to_pattern(OBS_EMAIL, SLICE_LIT("o'brien\\x@example.ie"), &b);
	assert_string_equal(b.p, "[email-addr:value = 'o\\'brien\\\\x@example.ie']");
	buf_clear(&b);
	obs_to_pattern((enum obs_kind)0, SLICE_LIT("x"), &b);
	assert_int_equal(b.len, 0);

	/* round trip: path of the pattern → kind; unescaped value → value */
	for (int k = OBS_IPV4; k <= OBS_KIND_MAX; k++) {
		const char *v = k == OBS_ASN ? "AS64496" : "a'b\\c";
		buf_clear(&b);
		obs_to_pattern((enum obs_kind)k, slice_from_cstr(v), &b);
		assert_int_equal(buf_error(&b), TC_OK);
		const char *eq = strstr(b.p, " = ");
		assert_non_null(eq);
		char path[128];
		size_t pl = (size_t)(eq - b.p - 1);
		assert_true(pl < sizeof(path));
		memcpy(path, b.p + 1, pl);
		path[pl] = '\0';
		enum obs_kind back = 0;
		assert_true(obs_kind_from_stix_path(path, &back));
		if (k == OBS_IPV6)
			assert_int_equal(back, OBS_IPV6);
		assert_int_equal(back, k);
		if (k == OBS_ASN) {
			assert_string_equal(eq + 3, "64496]");
			continue;
		}
		/* unescape the constant */
		char val[64];
		size_t n = 0;
		const char *p = eq + 4;
		while (*p && *p != '\'' && n < sizeof(val) - 1) {
			if (*p == '\\')
				p++;
			val[n++] = *p++;
		}
		val[n] = '\0';
		assert_string_equal(val, v);
		assert_string_equal(p, "']");
	}
	buf_reset(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_stix_paths),
		cmocka_unit_test(test_to_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
