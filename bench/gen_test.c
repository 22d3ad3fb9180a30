/*
 * gen_test.c — checks of the feed generator that need no library module:
 * the same seed gives the same bytes, published vectors for punycode
 * (RFC 3492), IBAN (ISO 13616) and Bitcoin addresses (BIP 173, BIP 350,
 * Base58Check), and the mix of kinds and TLP levels the task promises.
 * Prints each failure and exits 1 if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static int failures;

#define CHECK(cond, ...)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			failures++;                                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
		}                                                                                 \
	} while (0)

static void
generate(uint64_t seed, enum gen_format fmt, size_t count, struct buf *out, struct gen *g)
{
	gen_init(g, seed, fmt);
	gen_header(g, out);
	for (size_t n = 0; n < count;)
		if (gen_next(g, out) == GEN_REC_INDICATOR)
			n++;
	gen_footer(g, out);
	gen_free(g);
}

static void
test_deterministic(void)
{
	static struct gen g1, g2;
	struct buf a, b, c;
	buf_init(&a, 0);
	buf_init(&b, 0);
	buf_init(&c, 0);
	generate(7, GEN_JSONL, 5000, &a, &g1);
	generate(7, GEN_JSONL, 5000, &b, &g2);
	generate(8, GEN_JSONL, 5000, &c, &g2);
	CHECK(a.len > 0 && slice_eq(buf_slice(&a), buf_slice(&b)), "seed 7 twice differs");
	CHECK(!slice_eq(buf_slice(&a), buf_slice(&c)), "seeds 7 and 8 give the same feed");
	buf_reset(&a);
	buf_reset(&b);
	buf_reset(&c);
}

static void
expect_puny(const uint32_t *cp, size_t n, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	gen_punycode(cp, n, &b);
	CHECK(b.p && strcmp(b.p, want) == 0, "punycode: got '%s', want '%s'", b.p ? b.p : "",
	      want);
	buf_reset(&b);
}

static void
test_vectors(void)
{
	static const uint32_t buecher[] = { 'b', 0xfc, 'c', 'h', 'e', 'r' };
	static const uint32_t primer[] = { 0x43f, 0x440, 0x438, 0x43c, 0x435, 0x440 };
	static const uint32_t rf[] = { 0x440, 0x444 };
	expect_puny(buecher, 6, "bcher-kva");
	expect_puny(primer, 6, "e1afmkfd");
	expect_puny(rf, 2, "p1ai");

	struct buf b;
	buf_init(&b, 0);
	gen_iban("DE", "370400440532013000", &b);
	CHECK(strcmp(b.p, "DE89370400440532013000") == 0, "IBAN DE: %s", b.p);
	buf_clear(&b);
	gen_iban("GB", "WEST12345698765432", &b);
	CHECK(strcmp(b.p, "GB82WEST12345698765432") == 0, "IBAN GB: %s", b.p);
	buf_clear(&b);

	static const uint8_t p2wpkh[20] = { 0x75, 0x1e, 0x76, 0xe8, 0x19, 0x91, 0x96, 0xd4, 0x54, 0x94,
		                            0x1c, 0x45, 0xd1, 0xb3, 0xa3, 0x23, 0xf1, 0x43, 0x3b, 0xd6 };
	gen_segwit(p2wpkh, 20, false, &b);
	CHECK(strcmp(b.p, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") == 0, "bech32: %s", b.p);
	buf_clear(&b);
	static const uint8_t tap[32] = { 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62,
		                         0x95, 0xce, 0x87, 0x0b, 0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce,
		                         0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98 };
	gen_segwit(tap, 32, true, &b);
	CHECK(strcmp(b.p, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0") == 0,
	      "bech32m: %s", b.p);
	buf_clear(&b);
	static const uint8_t genesis[20] = { 0x62, 0xe9, 0x07, 0xb1, 0x5c, 0xbf, 0x27, 0xd5, 0x42, 0x53,
		                             0x99, 0xeb, 0xf6, 0xf0, 0xfb, 0x50, 0xeb, 0xb8, 0x8f, 0x18 };
	gen_p2pkh(genesis, &b);
	CHECK(strcmp(b.p, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == 0, "base58check: %s", b.p);
	buf_reset(&b);
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = hay; (p = strstr(p, needle)); p += len)
		n++;
	return n;
}

static void
test_mix(void)
{
	static struct gen g;
	struct buf b;
	buf_init(&b, 0);
	const size_t count = 40000;
	generate(1, GEN_JSONL, count, &b, &g);
	CHECK(buf_error(&b) == TC_OK, "buffer error");
	const struct gen_stats *st = &g.st;
	CHECK(st->indicators == count, "%zu indicator records, want %zu", st->indicators, count);
	size_t first = st->indicators - st->later_versions;
	static const double want[GEN_K_COUNT] = { 45, 20, 12, 10, 3, 3, 3, 2, 1, 1 };
	for (int k = 0; k < GEN_K_COUNT; k++) {
		double pct = 100.0 * (double)st->kind[k] / (double)first;
		CHECK(pct > want[k] * 0.75 && pct < want[k] * 1.25, "%s: %.2f %%, want ~%.0f %%",
		      gen_kind_name((enum gen_kind)k), pct, want[k]);
	}
	double others = 100.0 * (double)st->others / (double)(st->indicators + st->others);
	CHECK(others > 3 && others < 7, "other objects %.1f %%, want ~5 %%", others);
	CHECK(st->later_versions > count / 50 && st->later_versions < count / 8,
	      "%zu later versions", st->later_versions);
	CHECK(st->revoked > 0 && st->revoked < count / 50, "%zu revoked", st->revoked);
	double multi = 100.0 * (double)st->multi_value / (double)first;
	CHECK(multi > 3.5 && multi < 6.5, "OR/IN patterns %.1f %%, want ~5 %%", multi);

	/* TLP on indicators: count the marking ids on indicator lines only */
	static const char *const tlp[5] = { "94868c89", "bab4a63c", "55d920b0", "939a9414",
		                            "e828b379" };
	static const double tlp_want[5] = { 30, 40, 20, 5, 5 };
	size_t tlpn[5] = { 0 }, lines = 0, ind_lines = 0;
	for (char *line = b.p; line && *line;) {
		char *nl = strchr(line, '\n');
		CHECK(nl != NULL, "last line not terminated");
		if (!nl)
			break;
		*nl = '\0';
		CHECK(line[0] == '{' && nl[-1] == '}', "line %zu is not one object", lines + 1);
		lines++;
		if (strncmp(line, "{\"type\":\"indicator\"", 19) == 0) {
			ind_lines++;
			for (int i = 0; i < 5; i++)
				if (strstr(line, tlp[i]))
					tlpn[i]++;
		}
		line = nl + 1;
	}
	CHECK(ind_lines == count, "%zu indicator lines", ind_lines);
	for (int i = 0; i < 5; i++) {
		double pct = 100.0 * (double)tlpn[i] / (double)ind_lines;
		CHECK(pct > tlp_want[i] * 0.8 && pct < tlp_want[i] * 1.2, "TLP %d: %.1f %%", i, pct);
	}
	buf_reset(&b);

	/* bundle framing and CSV rows */
	buf_init(&b, 0);
	generate(3, GEN_BUNDLE, 100, &b, &g);
	CHECK(strncmp(b.p, "{\"type\":\"bundle\",\"id\":\"bundle--", 31) == 0, "bundle head");
	CHECK(b.len > 4 && strcmp(b.p + b.len - 4, "\n]}\n") == 0, "bundle tail");
	CHECK(count_str(b.p, "\"type\":\"indicator\"") == 100, "bundle indicators");
	buf_reset(&b);
	buf_init(&b, 0);
	generate(3, GEN_CSV, 100, &b, &g);
	CHECK(count_str(b.p, "\n") == 101, "CSV: header and 100 rows");
	CHECK(strncmp(b.p, "kind,value,", 11) == 0, "CSV header");
	buf_reset(&b);
}

int
main(void)
{
	test_deterministic();
	test_vectors();
	test_mix();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	puts("gen_test: all checks passed");
	return 0;
}
