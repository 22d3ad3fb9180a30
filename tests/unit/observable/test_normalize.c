/* Unit tests of obs_normalize(): one table per kind, valid and invalid. */
#include "obs_test.h"

static const struct ncase ipv4_cases[] = {
	{ "192.0.2.1", "192.0.2.1", NULL },
	{ " 192.0.2.1\n", "192.0.2.1", NULL },
	{ "0.0.0.0", "0.0.0.0", NULL },
	{ "255.255.255.255", "255.255.255.255", NULL },
	{ "10.0.0.0/8", "10.0.0.0/8", NULL },
	{ "192.0.2.0/24", "192.0.2.0/24", NULL },
	{ "192.0.2.1/32", "192.0.2.1", NULL },
	{ "0.0.0.0/0", "0.0.0.0/0", NULL },
	{ "198.51.100.128/25", "198.51.100.128/25", NULL },
	{ "::ffff:1.2.3.4", "1.2.3.4", NULL },
	{ "::FFFF:1.2.3.4", "1.2.3.4", NULL },
	{ "::ffff:0102:0304", "1.2.3.4", NULL },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8", NULL },
	{ "100.64.0.0/10", "100.64.0.0/10", NULL },
	{ "8.8.8.8", "8.8.8.8", NULL },
	{ "1.2.3.0/31", "1.2.3.0/31", NULL },
	{ "01.2.3.4", NULL, "leading zeros" },
	{ "1.2.3.004", NULL, "leading zeros" },
	{ "256.1.1.1", NULL, "not an IPv4 address" },
	{ "1.2.3", NULL, "not an IPv4 address" },
	{ "1.2.3.4.5", NULL, "not an IPv4 address" },
	{ "10.0.0.1/8", NULL, "host bits are set after /8: the network is 10.0.0.0/8" },
	{ "1.2.3.4/33", NULL, "prefix length" },
	{ "1.2.3.4/", NULL, "prefix length" },
	{ "1.2.3.4/08", NULL, "prefix length" },
	{ "2001:db8::1", NULL, "not an IPv4 address (an IPv6 address)" },
	{ "example.com", NULL, "not an IPv4 address" },
	{ "", NULL, "empty" },
	{ "1.2.3.4 ", "1.2.3.4", NULL },
	{ "1. 2.3.4", NULL, "not an IPv4 address" },
	{ "0x7f.0.0.1", NULL, "not an IPv4 address" },
};

static const struct ncase ipv6_cases[] = {
	{ "2001:db8::1", "2001:db8::1", NULL },
	{ "2001:DB8::1", "2001:db8::1", NULL },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", NULL },
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", NULL },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", NULL }, /* RFC 5952 §4.2.2 */
	{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1", NULL },
	{ "2001:db8::", "2001:db8::", NULL },
	{ "::", "::", NULL },
	{ "::1", "::1", NULL },
	{ "fe80::1:2", "fe80::1:2", NULL },
	{ "2001:db8::/32", "2001:db8::/32", NULL },
	{ "2001:db8::1/128", "2001:db8::1", NULL },
	{ "::/0", "::/0", NULL },
	{ "::ffff:192.0.2.1", "192.0.2.1", NULL },
	{ "::ffff:c000:0201", "192.0.2.1", NULL },
	{ "::192.0.2.1", "::c000:201", NULL },
	{ "1:0:0:0:0:0:0:0", "1::", NULL },
	{ "0:0:0:0:0:0:0:1", "::1", NULL },
	{ "fe80::1%eth0", NULL, "zone" },
	{ "2001:db8::1/64", NULL, "host bits are set after /64: the network is 2001:db8::/64" },
	{ "2001:db8::/129", NULL, "prefix length" },
	{ "2001:db8:::1", NULL, "not an IPv6 address" },
	{ "2001:db8::g", NULL, "not an IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9", NULL, "not an IPv6 address" },
	{ "192.0.2.1", NULL, "not an IPv6 address" },
	{ "::ffff:01.2.3.4", NULL, "not an IPv6 address" },
	{ "[2001:db8::1]", NULL, "not an IPv6 address" },
	{ "12345::1", NULL, "not an IPv6 address" },
	{ "::ffff:1.2.3.4/97", NULL, "host bits" },
};

static const struct ncase domain_cases[] = {
	{ "example.com", "example.com", NULL },
	{ "EXAMPLE.com.", "example.com", NULL },
	{ "Exämple.COM.", "xn--exmple-cua.com", NULL },
	{ "xn--exmple-cua.com", "xn--exmple-cua.com", NULL },
	{ "XN--EXMPLE-CUA.COM", "xn--exmple-cua.com", NULL },
	{ "пример.рф", "xn--e1afmkfd.xn--p1ai", NULL },
	{ "faß.de", "xn--fa-hia.de", NULL },
	{ "аpple.com", "xn--pple-43d.com", NULL }, /* Cyrillic а: kept as punycode */
	{ "_dmarc.example.com", "_dmarc.example.com", NULL },
	{ "_dmarc.exämple.com", "_dmarc.xn--exmple-cua.com", NULL },
	{ "a.b.c.d.e.example", "a.b.c.d.e.example", NULL },
	{ "r3---sn-4g5e6nsz.googlevideo.com", "r3---sn-4g5e6nsz.googlevideo.com", NULL },
	{ "1.2.3.example", "1.2.3.example", NULL },
	{ "localhost", "localhost", NULL },
	{ "a-b.c-d.org", "a-b.c-d.org", NULL },
	{ "xn--80ak6aa92e.com", "xn--80ak6aa92e.com", NULL },
	{ "ExAmPlE.org", "example.org", NULL },
	{ "", NULL, "empty" },
	{ ".", NULL, "empty" },
	{ "a..b", NULL, "empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "exa mple.com", NULL, "space" },
	{ "1.2.3.4", NULL, "IP address" },
	{ "-a.com", NULL, "starts or ends with '-'" },
	{ "a-.com", NULL, "starts or ends with '-'" },
	{ "2001:db8::1", NULL, "IPv6" },
	{ "http://example.com", NULL, "URL" },
	{ "ex!ample.com", NULL, "contains '!'" },
	{ "xn--zz.com", NULL, "not a valid A-label" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL,
	  "longer than 63" },
	{ "a\tb.com", NULL, "control" },
};

static const struct ncase url_cases[] = {
	{ "http://example.com", "http://example.com/", NULL },
	{ "HTTP://EXAMPLE.COM/", "http://example.com/", NULL },
	{ "http://example.com:80/a", "http://example.com/a", NULL },
	{ "https://example.com:443/", "https://example.com/", NULL },
	{ "https://example.com:8443/", "https://example.com:8443/", NULL },
	{ "ftp://example.com:21/f", "ftp://example.com/f", NULL },
	{ "http://example.com/a/./b/../c", "http://example.com/a/c", NULL },
	{ "http://example.com/%7Euser/%2e%2e/x", "http://example.com/x", NULL },
	{ "http://example.com/%7euser", "http://example.com/~user", NULL },
	{ "http://example.com/a%2fb", "http://example.com/a%2Fb", NULL },
	{ "http://example.com/a b", "http://example.com/a%20b", NULL },
	{ "http://exämple.com/päth", "http://xn--exmple-cua.com/p%C3%A4th", NULL },
	{ "http://example.com/x?q=1#frag", "http://example.com/x?q=1", NULL },
	{ "http://example.com/?", "http://example.com/", NULL },
	{ "http://user:pw@Example.com/", "http://user:pw@example.com/", NULL },
	{ "http://192.0.2.1:8080/x", "http://192.0.2.1:8080/x", NULL },
	{ "http://[2001:DB8::1]/", "http://[2001:db8::1]/", NULL },
	{ "hxxp://evil.example/p", "hxxp://evil.example/p", NULL },
	{ "http://example.com/100%", "http://example.com/100%25", NULL },
	{ "http://example.com/a?b=%41%3d", "http://example.com/a?b=A%3D", NULL },
	{ "example.com/x", NULL, "no scheme" },
	{ "//example.com/x", NULL, "no scheme" },
	{ "", NULL, "empty" },
	{ "http://", NULL, "not a URL" },
	{ "http://exa mple.com/", NULL, "not a URL" },
	{ "http://example.com:99999/", NULL, "not a URL" },
	{ "http://-bad-.com/", NULL, "URL host" },
	{ "http://[fe80::1%25eth0]/", NULL, "zone" },
	{ "http://a..b/", NULL, "URL host" },
	{ "1http://example.com/", NULL, "no scheme" },
	{ "http://1.2.3.999/", NULL, "URL host" },
};

static const struct ncase email_cases[] = {
	{ "user@example.com", "user@example.com", NULL },
	{ "User@Example.COM", "User@example.com", NULL },
	{ "first.last@example.com", "first.last@example.com", NULL },
	{ "a+tag@example.com", "a+tag@example.com", NULL },
	{ "user@exämple.com", "user@xn--exmple-cua.com", NULL },
	{ "user@example.com.", "user@example.com", NULL },
	{ "\"john doe\"@example.com", "\"john doe\"@example.com", NULL },
	{ "\"a@b\"@example.com", "\"a@b\"@example.com", NULL },
	{ "o'brien@example.ie", "o'brien@example.ie", NULL },
	{ "x@localhost", "x@localhost", NULL },
	{ "иван@пример.рф", "иван@xn--e1afmkfd.xn--p1ai", NULL },
	{ "_x@_dmarc.example.com", "_x@_dmarc.example.com", NULL },
	{ "a!#$%&*/=?^`{|}~-@example.com", "a!#$%&*/=?^`{|}~-@example.com", NULL },
	{ " user@example.com ", "user@example.com", NULL },
	{ "1@2.example", "1@2.example", NULL },
	{ "userexample.com", NULL, "no '@'" },
	{ "@example.com", NULL, "empty local part" },
	{ "user@", NULL, "empty" },
	{ ".user@example.com", NULL, "dot" },
	{ "us..er@example.com", NULL, "dot" },
	{ "us er@example.com", NULL, "space" },
	{ "user@[192.0.2.1]", NULL, "literals" },
	{ "user@exa mple.com", NULL, "email domain" },
	{ "a@b@example.com", NULL, "contains '@'" },
	{ "mailto:user@example.com", NULL, "mailto" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com", NULL,
	  "longer than 64" },
	{ "\"unterminated@example.com", NULL, "quote" },
};

static const struct ncase sha256_cases[] = {
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL },
	{ "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL },
	{ " E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "0000000000000000000000000000000000000000000000000000000000000000", NULL },
	{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL },
	{ "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL },
	{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ "0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef",
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", NULL },
	{ "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
	  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
	{ "1111111111111111111111111111111111111111111111111111111111111111",
	  "1111111111111111111111111111111111111111111111111111111111111111", NULL },
	{ "\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL },
	{ "abcdefABCDEF0123456789abcdefABCDEF0123456789abcdefABCDEF01234567",
	  "abcdefabcdef0123456789abcdefabcdef0123456789abcdefabcdef01234567", NULL },
	{ "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
	  "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef", NULL },
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", NULL, "64 hex digits, not 63" },
	{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", NULL, "not 65" },
	{ "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL, "non-hex character at 1" },
	{ "e3b0c44298fc1c149afbf4c8996fb924 7ae41e4649b934ca495991b7852b855", NULL, "non-hex character at 33" },
	{ "d41d8cd98f00b204e9800998ecf8427e", NULL, "not 32" },
	{ "da39a3ee5e6b4b0d3255bfef95601890afd80709", NULL, "not 40" },
	{ "", NULL, "empty" },
	{ "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a", NULL, "non-hex character at 2" },
	{ "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0-", NULL, "non-hex" },
	{ "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", NULL, "not 71" },
};

static const struct ncase other_hash_cases[] = {
	{ "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", NULL },
	{ "da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", NULL },
};

static const struct ncase phone_cases[] = {
	{ "+79991234567", "+79991234567", NULL },
	{ "+7 (999) 123-45-67", "+79991234567", NULL },
	{ "8 (999) 123-45-67", "+79991234567", NULL },
	{ "89991234567", "+79991234567", NULL },
	{ "8-999-123-45-67", "+79991234567", NULL },
	{ "+1 202 555 0143", "+12025550143", NULL },
	{ "+1.202.555.0143", "+12025550143", NULL },
	{ "001 202 555 0143", "+12025550143", NULL },
	{ "0079991234567", "+79991234567", NULL },
	{ "+44 (0)20 7946 0958", "+442079460958", NULL },
	{ "+44 20 7946 0958", "+442079460958", NULL },
	{ "0044 (0)20 7946 0958", "+442079460958", NULL },
	{ "+49 30 901820", "+4930901820", NULL },
	{ "+861012345678", "+861012345678", NULL },
	{ "+123456789012345", "+123456789012345", NULL },
	{ "+12345678", "+12345678", NULL },
	{ "+1234567", NULL, "fewer than 8" },
	{ "+1234567890123456", NULL, "more than 15" },
	{ "+0123456789", NULL, "do not start with 0" },
	{ "9991234567", NULL, "without a country code" },
	{ "79991234567", NULL, "without a country code" },
	{ "0 20 7946 0958", NULL, "without a country code" },
	{ "+7 999 123 45 6a", NULL, "contains 'a'" },
	{ "+7+9991234567", NULL, "'+' after the start" },
	{ "7+9991234567", NULL, "'+' after the start" },
	{ "+", NULL, "no digits" },
	{ "tel:+79991234567", NULL, "contains 't'" },
	{ "00", NULL, "no digits" },
};

static const struct ncase bank_cases[] = {
	{ "GB82WEST12345698765432", "GB82WEST12345698765432", NULL },
	{ "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", NULL },
	{ "gb82west12345698765432", "GB82WEST12345698765432", NULL },
	{ "DE89370400440532013000", "DE89370400440532013000", NULL },
	{ "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", NULL },
	{ "FR1420041010050500013M02606", "FR1420041010050500013M02606", NULL },
	{ "NL91ABNA0417164300", "NL91ABNA0417164300", NULL },
	{ "BE68539007547034", "BE68539007547034", NULL },
	{ "CH9300762011623852957", "CH9300762011623852957", NULL },
	{ "NO9386011117947", "NO9386011117947", NULL },
	{ "IT60X0542811101000000123456", "IT60X0542811101000000123456", NULL },
	{ "PL61109010140000071219812874", "PL61109010140000071219812874", NULL },
	{ "RU:044525225:30101810400000000225", "RU:044525225:30101810400000000225", NULL },
	{ "044525225 40817810899910004312", "RU:044525225:40817810899910004312", NULL },
	{ "044525225/40817810899910004312", "RU:044525225:40817810899910004312", NULL },
	{ "ru:044525974:40817810500001234567", "RU:044525974:40817810500001234567", NULL },
	{ "RU:045004000:40101810800000000001", "RU:045004000:40101810800000000001", NULL },
	{ "us:021000021:123456789", "US:021000021:123456789", NULL },
	{ "GB82WEST12345698765433", NULL, "IBAN check digits do not match" },
	{ "DE89370400440532013001", NULL, "IBAN check digits do not match" },
	{ "DE88370400440532013000", NULL, "IBAN check digits do not match" },
	{ "GB82WEST1234569876543", NULL, "must have 22 characters, not 21" },
	{ "DE8937040044053201300", NULL, "must have 22 characters" },
	{ "GB82-WEST-1234", NULL, "contains '-'" },
	{ "RU:044525225:40817810099910004312", NULL, "control key" },
	{ "044525225 40817810099910004312", NULL, "control key" },
	{ "RU:04452522:40817810899910004312", NULL, "BIK must be 9 digits" },
	{ "RU:044525225:4081781089991000431", NULL, "20 digits" },
	{ "US::123", NULL, "bank code" },
	{ "US:021000021:", NULL, "account number" },
	{ "12345", NULL, "not a bank account" },
	{ "USA:1:2", NULL, "two-letter country code" },
	{ "XX:1:2-3", NULL, "letters or digits" },
	{ "US:1", NULL, "CC:bankcode:account" },
};

static const struct ncase card_cases[] = {
	{ "4111111111111111", "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL },
	{ "4111 1111 1111 1111", "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL },
	{ "4111-1111-1111-1111", "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL },
	{ " 4111111111111111 ", "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL },
	{ "378282246310005", "hmac-sha256:800bccdcf62a4908b23b49512a49f8eae1c94843b5aa14f90ce69a478f296f2c", NULL },
	{ "3782 822463 10005", "hmac-sha256:800bccdcf62a4908b23b49512a49f8eae1c94843b5aa14f90ce69a478f296f2c", NULL },
	{ "4222222222222", "hmac-sha256:04341063668d9318ec6fb53000dca0d7ce4f089ba8d427474fa6ec5976595d46", NULL },
	{ "4111111111111111110", "hmac-sha256:d2da66c58f05537a37060a3c115abdba76e8c8b7a9128eb594fedddfc8c3280c", NULL },
	{ "HMAC-SHA256:0622241201382A45912FB22828B3F7DB5153CF2072722A73DED22623EA79ABC9",
	  "hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL },
	{ "hmac-sha256:800bccdcf62a4908b23b49512a49f8eae1c94843b5aa14f90ce69a478f296f2c",
	  "hmac-sha256:800bccdcf62a4908b23b49512a49f8eae1c94843b5aa14f90ce69a478f296f2c", NULL },
	{ "5500000000000004", NULL, NULL },
	{ "6011111111111117", NULL, NULL },
	{ "5105105105105100", NULL, NULL },
	{ "30569309025904", NULL, NULL },
	{ "3530111333300000", NULL, NULL },
	{ "620000000000000005", NULL, NULL },
	{ "4111111111111112", NULL, "Luhn" },
	{ "4111 1111 1111 1121", NULL, "Luhn" },
	{ "411111111111", NULL, "fewer than 13" },
	{ "41111111111111111111", NULL, "more than 19" },
	{ "4111.1111.1111.1111", NULL, "only digits" },
	{ "4111x111111111111", NULL, "only digits" },
	{ "hmac-sha256:0622", NULL, "64 hex digits" },
	{ "hmac-sha256:z622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9", NULL, "non-hex" },
	{ "", NULL, "empty" },
	{ "-", NULL, "fewer than 13" },
	{ "0000000000000", "hmac-sha256:", NULL },
};

static const struct ncase wallet_cases[] = {
	{ "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", NULL },
	{ "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", NULL },
	{ "BTC:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", NULL },
	{ "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", NULL },
	{ "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", NULL },
	{ "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", NULL },
	{ "bc1qkk5d6gxv26gg7s8zpq44cl63xlxtfmy6vls97pe8mnj0ecpv6ezs732kyz", "btc:bc1qkk5d6gxv26gg7s8zpq44cl63xlxtfmy6vls97pe8mnj0ecpv6ezs732kyz", NULL },
	{ "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", NULL },
	{ "0x52908400098527886E0F7030069857D2E4169EE7", "eth:0x52908400098527886e0f7030069857d2e4169ee7", NULL },
	{ "eth:0xde709f2102306220921060314715629080e2fb77", "eth:0xde709f2102306220921060314715629080e2fb77", NULL },
	{ "LbnUro6XbShME6mqERTkAWkTkTRRhHxfnk", "ltc:LbnUro6XbShME6mqERTkAWkTkTRRhHxfnk", NULL },
	{ "MPJ2euf5SzM8LcN3HkWWmBZsSx9PxcmCKa", "ltc:MPJ2euf5SzM8LcN3HkWWmBZsSx9PxcmCKa", NULL },
	{ "ltc:3MrEYoAwtZ1cBRW8fbXyzJkVoKEctdHvHt", "ltc:3MrEYoAwtZ1cBRW8fbXyzJkVoKEctdHvHt", NULL },
	{ "ltc1qkk5d6gxv26gg7s8zpq44cl63xlxtfmy634395j", "ltc:ltc1qkk5d6gxv26gg7s8zpq44cl63xlxtfmy634395j", NULL },
	{ "TSXjbeARfWaF8U9JeZ8AQeNqT2oTrY7M2U", "trx:TSXjbeARfWaF8U9JeZ8AQeNqT2oTrY7M2U", NULL },
	{ "trx:TCxdQrsYyEG6cjNSCySsbJ8Pd78c25x2Fj", "trx:TCxdQrsYyEG6cjNSCySsbJ8Pd78c25x2Fj", NULL },
	{ "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
	  "xmr:44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A", NULL },
	{ "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", NULL, "checksum does not match" },
	{ "1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", NULL, "checksum does not match" },
	{ "btc:mx5UtdsgKotYkQZHmrSpiQu2QEerWija9Q", NULL, "version byte 0x6f" },
	{ "btc:TSXjbeARfWaF8U9JeZ8AQeNqT2oTrY7M2U", NULL, "version byte 0x41" },
	{ "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr", NULL, "bech32 checksum" },
	{ "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwF5mdq", NULL, "mixes upper and lower" },
	{ "bc1qkk5d6gxv26gg7s8zpq44cl63xlxtfmy6vls97pe8uewy5r", NULL, "not valid for version 0" },
	{ "bc1pkk5d6gxv26gg7s8zpq44cl63xlxtfmy6vls97pe8mnj0ecpv6ezs732kyz", NULL, "bech32m checksum" },
	{ "0x52908400098527886E0F7030069857D2E4169EE", NULL, "0x and 40 hex" },
	{ "eth:0x52908400098527886E0F7030069857D2E4169EEG", NULL, "0x and 40 hex" },
	{ "doge:DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", NULL, "unknown chain 'doge'" },
	{ "xmr:44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3", NULL, "95 or 106" },
	{ "hello", NULL, "not a recognised wallet" },
	{ "btc:", NULL, "empty" },
};

static const struct ncase asn_cases[] = {
	{ "AS64496", "AS64496", NULL },
	{ "as64496", "AS64496", NULL },
	{ "As64496", "AS64496", NULL },
	{ "64496", "AS64496", NULL },
	{ " AS64496 ", "AS64496", NULL },
	{ "1", "AS1", NULL },
	{ "AS1", "AS1", NULL },
	{ "4294967295", "AS4294967295", NULL },
	{ "AS4294967295", "AS4294967295", NULL },
	{ "AS65535", "AS65535", NULL },
	{ "AS65536", "AS65536", NULL },
	{ "AS13335", "AS13335", NULL },
	{ "15169", "AS15169", NULL },
	{ "AS8075", "AS8075", NULL },
	{ "aS3356", "AS3356", NULL },
	{ "0", NULL, "out of range" },
	{ "AS0", NULL, "out of range" },
	{ "4294967296", NULL, "out of range" },
	{ "AS99999999999", NULL, "out of range" },
	{ "AS064496", NULL, "leading zeros" },
	{ "AS", NULL, "no digits" },
	{ "AS1.10", NULL, "asdot" },
	{ "AS-1", NULL, "digits expected" },
	{ "ASN64496", NULL, "digits expected" },
	{ "64496a", NULL, "digits expected" },
	{ "AS 64496", NULL, "digits expected" },
};

static void test_ipv4(void **s) { RUN(OBS_IPV4, ipv4_cases); }
static void test_ipv6(void **s) { RUN(OBS_IPV6, ipv6_cases); }
static void test_domain(void **s) { RUN(OBS_DOMAIN, domain_cases); }
static void test_url(void **s) { RUN(OBS_URL, url_cases); }
static void test_email(void **s) { RUN(OBS_EMAIL, email_cases); }
static void test_sha256(void **s) { RUN(OBS_SHA256, sha256_cases); }
static void test_phone(void **s) { RUN(OBS_PHONE, phone_cases); }
static void test_bank(void **s) { RUN(OBS_BANK_ACCOUNT, bank_cases); }
static void test_wallet(void **s) { RUN(OBS_WALLET, wallet_cases); }
static void test_asn(void **s) { RUN(OBS_ASN, asn_cases); }

static void
test_other_hashes(void **s)
{
	run_cases(OBS_MD5, &other_hash_cases[0], 1, 1, 0);
	run_cases(OBS_SHA1, &other_hash_cases[1], 1, 1, 0);
	static const struct ncase sb[] = {
		{ "3F539A213E97C802CC229D474C6AA32A825A360B2A933A949FD925208D9CE1BB",
		  "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb", NULL },
		{ "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1b", NULL,
		  "streebog256 hash must be 64 hex digits" },
	};
	run_cases(OBS_STREEBOG256, sb, 2, 1, 1);
	struct buf b;
	struct diag d;
	buf_init(&b, 0);
	char h128[129];
	memset(h128, 'A', 128);
	h128[128] = '\0';
	assert_int_equal(obs_normalize(NULL, OBS_SHA512, slice_from_cstr(h128), &b, &d), TC_OK);
	assert_int_equal(b.len, 128);
	assert_int_equal(b.p[0], 'a');
	buf_clear(&b);
	assert_int_equal(obs_normalize(NULL, OBS_STREEBOG512, slice_from_cstr(h128), &b, &d), TC_OK);
	assert_int_equal(obs_normalize(NULL, OBS_MD5, slice_from_cstr(h128), &b, &d), TC_EINVAL);
	buf_reset(&b);
}

/* Cards: the table cases with want == NULL and err == NULL are valid PANs
 * whose hash is not listed; they must produce a keyed hash. */
static void
test_card(void **s)
{
	size_t nvalid = 0, ninvalid = 0;
	for (size_t i = 0; i < sizeof(card_cases) / sizeof(card_cases[0]); i++) {
		const struct ncase *c = &card_cases[i];
		if (!c->want && !c->err) {
			struct buf b;
			struct diag d;
			buf_init(&b, 0);
			assert_int_equal(obs_normalize(&test_ctx, OBS_CARD, slice_from_cstr(c->in), &b,
			                               &d),
			                 TC_OK);
			assert_int_equal(b.len, 12 + 64);
			assert_true(strncmp(b.p, "hmac-sha256:", 12) == 0);
			buf_reset(&b);
			nvalid++;
		} else if (c->want && strcmp(c->want, "hmac-sha256:") == 0) {
			struct buf b;
			struct diag d;
			buf_init(&b, 0);
			assert_int_equal(obs_normalize(&test_ctx, OBS_CARD, slice_from_cstr(c->in), &b,
			                               &d),
			                 TC_OK);
			buf_reset(&b);
			nvalid++;
		} else {
			run_cases(OBS_CARD, c, 1, 0, 0);
			if (c->want)
				nvalid++;
			else
				ninvalid++;
		}
	}
	assert_true(nvalid >= 15);
	assert_true(ninvalid >= 8);
}

/* Without a key a PAN is refused; the keyed form still passes. */
static void
test_card_without_key(void **s)
{
	struct obs_ctx nokey = { .card_key = NULL };
	struct buf b;
	struct diag d;
	buf_init(&b, 0);
	assert_int_equal(obs_normalize(&nokey, OBS_CARD, SLICE_LIT("4111111111111111"), &b, &d),
	                 TC_EUNSUPPORTED);
	assert_non_null(strstr(d.msg, "card key"));
	assert_int_equal(obs_normalize(NULL, OBS_CARD, SLICE_LIT("4111111111111111"), &b, &d),
	                 TC_EUNSUPPORTED);
	assert_int_equal(b.len, 0);
	assert_int_equal(
		obs_normalize(&nokey, OBS_CARD,
	                      SLICE_LIT("hmac-sha256:0622241201382a45912fb22828b3f7db5153cf2072722a73ded22623ea79abc9"),
	                      &b, &d),
		TC_OK);
	buf_reset(&b);
}

/* The PAN never appears in output or in a message, and another key gives
 * another hash. */
static void
test_card_never_in_clear(void **s)
{
	static const char *const pans[] = { "4111111111111111", "4111111111111112",
		                            "4111 1111 1111 1111", "41111111111111111111" };
	uint8_t key2[OBS_CARD_KEY_LEN];
	memset(key2, 7, sizeof(key2));
	struct obs_ctx ctx2 = { .card_key = key2, .card_key_len = sizeof(key2) };
	for (size_t i = 0; i < 4; i++) {
		struct buf b;
		struct diag d;
		enum obs_kind k;
		buf_init(&b, 0);
		diag_clear(&d);
		(void)obs_normalize(&test_ctx, OBS_CARD, slice_from_cstr(pans[i]), &b, &d);
		assert_null(strstr(b.p ? b.p : "", "41111111"));
		assert_null(strstr(d.msg, "41111111"));
		assert_null(strstr(d.msg, "4111 1111"));
		diag_clear(&d);
		(void)obs_classify(&test_ctx, slice_from_cstr(pans[i]), &k, &b, &d);
		assert_null(strstr(b.p ? b.p : "", "41111111"));
		assert_null(strstr(d.msg, "41111111"));
		buf_reset(&b);
	}
	struct buf b1, b2;
	struct diag d;
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	assert_int_equal(obs_normalize(&test_ctx, OBS_CARD, SLICE_LIT("4111111111111111"), &b1, &d),
	                 TC_OK);
	assert_int_equal(obs_normalize(&ctx2, OBS_CARD, SLICE_LIT("4111111111111111"), &b2, &d),
	                 TC_OK);
	assert_string_not_equal(b1.p, b2.p);
	buf_reset(&b1);
	buf_reset(&b2);
}

/* Limits: OBS_VALUE_MAX, and an unknown kind. */
static void
test_limits(void **s)
{
	static char big[OBS_VALUE_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct buf b;
	struct diag d;
	buf_init(&b, 0);
	assert_int_equal(obs_normalize(NULL, OBS_DOMAIN, slice_from_cstr(big), &b, &d), TC_ELIMIT);
	/* a URL of exactly OBS_VALUE_MAX bytes is accepted */
	memcpy(big, "http://example.com/", 19);
	big[OBS_VALUE_MAX] = '\0';
	assert_int_equal(obs_normalize(NULL, OBS_URL, slice_make(big, OBS_VALUE_MAX), &b, &d),
	                 TC_OK);
	assert_int_equal(b.len, OBS_VALUE_MAX);
	buf_clear(&b);
	/* one whose escaping makes it longer than the limit is refused */
	memset(big + 19, ' ', OBS_VALUE_MAX - 20);
	assert_int_equal(obs_normalize(NULL, OBS_URL, slice_make(big, OBS_VALUE_MAX), &b, &d),
	                 TC_ELIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(obs_normalize(NULL, (enum obs_kind)99, SLICE_LIT("x"), &b, &d), TC_EINVAL);
	/* a full output buffer is reported */
	struct buf small;
	buf_init(&small, 4);
	assert_int_equal(obs_normalize(NULL, OBS_DOMAIN, SLICE_LIT("example.com"), &small, &d),
	                 TC_ELIMIT);
	buf_reset(&small);
	buf_reset(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),      cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_domain),    cmocka_unit_test(test_url),
		cmocka_unit_test(test_email),     cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_other_hashes), cmocka_unit_test(test_phone),
		cmocka_unit_test(test_bank),      cmocka_unit_test(test_card),
		cmocka_unit_test(test_card_without_key), cmocka_unit_test(test_card_never_in_clear),
		cmocka_unit_test(test_wallet),    cmocka_unit_test(test_asn),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
