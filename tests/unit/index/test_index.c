/* Unit tests of lib/index/index.c: exact, network and parent-domain
 * matching, several refs per value, removal, expiry, batches, memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index/index.h"

#define S(x) slice_from_cstr(x)
#define SEC 1000000LL

static struct index *
mk(void)
{
	struct index *idx;
	assert_int_equal(index_new(&idx), TC_OK);
	return idx;
}

static size_t
look(struct index *idx, enum obs_kind k, const char *v, struct index_hit *h, size_t max)
{
	return index_lookup(idx, k, S(v), 0, h, max);
}

static void
test_exact_per_kind(void **state)
{
	struct index *idx = mk();
	struct index_hit h[4];
	assert_int_equal(index_add(idx, OBS_IPV4, S("192.0.2.1"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8::1"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("evil.example"), 3, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_URL, S("http://evil.example/a"), 4, 0), TC_OK);
	assert_int_equal(
		index_add(idx, OBS_SHA256,
		          S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 5, 0),
		TC_OK);
	assert_int_equal(index_add(idx, OBS_EMAIL, S("ceo@evil.example"), 6, 0), TC_OK);
	assert_int_equal(index_count(idx), 6);

	assert_int_equal(look(idx, OBS_IPV4, "192.0.2.1", h, 4), 1);
	assert_int_equal(h[0].ref, 1);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(h[0].prefix_len, 32);
	assert_int_equal(look(idx, OBS_IPV4, "192.0.2.2", h, 4), 0);
	/* a /32 is the address itself */
	assert_int_equal(look(idx, OBS_IPV4, "192.0.2.1/32", h, 4), 1);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db8::1", h, 4), 1);
	assert_int_equal(h[0].ref, 2);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db8::2", h, 4), 0);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 4), 1);
	assert_int_equal(h[0].ref, 3);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(look(idx, OBS_DOMAIN, "good.example", h, 4), 0);
	assert_int_equal(look(idx, OBS_URL, "http://evil.example/a", h, 4), 1);
	assert_int_equal(h[0].ref, 4);
	assert_int_equal(look(idx, OBS_SHA256,
	                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", h,
	                      4),
	                 1);
	assert_int_equal(h[0].ref, 5);
	assert_int_equal(look(idx, OBS_EMAIL, "ceo@evil.example", h, 4), 1);
	/* the kind is part of the key */
	assert_int_equal(look(idx, OBS_URL, "evil.example", h, 4), 0);
	assert_int_equal(look(idx, OBS_MD5, "e3b0c44298fc1c149afbf4c8996fb924", h, 4), 0);
	index_free(idx);
}

static void
test_bad_values(void **state)
{
	struct index *idx = mk();
	struct index_hit h[2];
	assert_int_equal(index_add(idx, OBS_IPV4, S("300.1.2.3"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV4, S("1.2.3"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV4, S("01.2.3.4"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.1/8"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.0/33"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8::1/32"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8::g"), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S(""), 1, 0), TC_EINVAL);
	assert_int_equal(index_add(idx, (enum obs_kind)99, S("x"), 1, 0), TC_EINVAL);
	assert_int_equal(index_count(idx), 0);
	assert_int_equal(look(idx, OBS_IPV4, "not an ip", h, 2), 0);
	index_free(idx);
}

static void
test_multiple_refs(void **state)
{
	struct index *idx = mk();
	struct index_hit h[8];
	for (uint32_t r = 10; r < 15; r++)
		assert_int_equal(index_add(idx, OBS_DOMAIN, S("evil.example"), r, 0), TC_OK);
	/* the same triple twice is one entry */
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("evil.example"), 12, 0), TC_OK);
	assert_int_equal(index_count(idx), 5);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 8), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(h[i].ref, 10 + i);
	/* max caps what is written, not what is counted */
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 2), 5);

	index_remove(idx, OBS_DOMAIN, S("evil.example"), 11);
	index_remove(idx, OBS_DOMAIN, S("evil.example"), 99); /* absent: ignored */
	assert_int_equal(index_count(idx), 4);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 8), 4);
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(h[i].ref, 11);
	index_remove(idx, OBS_DOMAIN, S("evil.example"), 10);
	index_remove(idx, OBS_DOMAIN, S("evil.example"), 12);
	index_remove(idx, OBS_DOMAIN, S("evil.example"), 13);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 8), 1);
	assert_int_equal(h[0].ref, 14);
	index_remove(idx, OBS_DOMAIN, S("evil.example"), 14);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 8), 0);
	assert_int_equal(index_count(idx), 0);
	/* lists are reused after removal */
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("a.example"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("a.example"), 2, 0), TC_OK);
	assert_int_equal(look(idx, OBS_DOMAIN, "a.example", h, 8), 2);
	index_free(idx);
}

static void
test_remove_keeps_neighbours(void **state)
{
	/* many keys in a small table collide; removing some must not lose the
	 * others (backward-shift deletion) */
	struct index *idx = mk();
	struct index_hit h[2];
	char v[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(v, sizeof v, "d%d.example", i);
		assert_int_equal(index_add(idx, OBS_DOMAIN, S(v), (uint32_t)i, 0), TC_OK);
	}
	for (int i = 0; i < 2000; i += 3) {
		snprintf(v, sizeof v, "d%d.example", i);
		index_remove(idx, OBS_DOMAIN, S(v), (uint32_t)i);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(v, sizeof v, "d%d.example", i);
		size_t n = look(idx, OBS_DOMAIN, v, h, 2);
		if (i % 3 == 0) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, 1);
			assert_int_equal(h[0].ref, i);
		}
	}
	assert_int_equal(index_count(idx), 2000 - 667);
	index_free(idx);
}

static void
test_churn_against_model(void **state)
{
	/* random adds and removes over few keys in small tables: spilled
	 * lines, backward shifts and overflow lists all get exercised, and
	 * the index must agree with a plain array after every step */
	enum { KEYS = 600, REFS = 3, STEPS = 30000 };
	static bool model[KEYS][REFS];
	memset(model, 0, sizeof model);
	struct index *idx = mk();
	struct index_hit h[8];
	uint64_t x = 88172645463325252ull;
	size_t live = 0;
	char v[32];
	for (int step = 0; step < STEPS; step++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned k = (unsigned)(x % KEYS), r = (unsigned)((x >> 20) % REFS);
		bool add = (x >> 40) % 3 != 0 || step < KEYS;
		snprintf(v, sizeof v, "k%u.example", k);
		if (add) {
			assert_int_equal(index_add(idx, OBS_DOMAIN, S(v), r, 0), TC_OK);
			live += !model[k][r];
			model[k][r] = true;
		} else {
			index_remove(idx, OBS_DOMAIN, S(v), r);
			live -= model[k][r];
			model[k][r] = false;
		}
		if (step % 1000 != 999)
			continue;
		assert_int_equal(index_count(idx), live);
		for (unsigned kk = 0; kk < KEYS; kk++) {
			snprintf(v, sizeof v, "k%u.example", kk);
			size_t n = look(idx, OBS_DOMAIN, v, h, 8), want = 0;
			for (unsigned rr = 0; rr < REFS; rr++)
				want += model[kk][rr];
			assert_int_equal(n, want);
			for (size_t j = 0; j < n; j++)
				assert_true(model[kk][h[j].ref]);
		}
	}
	index_free(idx);
}

static void
test_expiry(void **state)
{
	struct index *idx = mk();
	struct index_hit h[4];
	int64_t t = 1700000000LL * SEC;
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("x.example"), 1, t), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("x.example"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("y.example"), 3, t), TC_OK);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("x.example"), t - 1, h, 4), 2);
	/* valid_until <= now: skipped; no end: kept */
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("x.example"), t, h, 4), 1);
	assert_int_equal(h[0].ref, 2);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("y.example"), t - SEC, h, 4), 1);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("y.example"), t, h, 4), 0);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("y.example"), t + 5 * SEC, h, 4), 0);
	/* a re-add moves valid_until (later add wins), in either direction */
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("y.example"), 3, t + 10 * SEC), TC_OK);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("y.example"), t + 5 * SEC, h, 4), 1);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("x.example"), 2, t - 10 * SEC), TC_OK);
	assert_int_equal(index_lookup(idx, OBS_DOMAIN, S("x.example"), t - 5 * SEC, h, 4), 1);
	assert_int_equal(h[0].ref, 1);
	/* sub-second valid_until is kept to the next whole second, never earlier */
	assert_int_equal(index_add(idx, OBS_URL, S("http://a/"), 4, t + SEC / 2), TC_OK);
	assert_int_equal(index_lookup(idx, OBS_URL, S("http://a/"), t + SEC / 4, h, 4), 1);
	assert_int_equal(index_lookup(idx, OBS_URL, S("http://a/"), t + SEC, h, 4), 0);
	/* networks expire too */
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.0/8"), 5, t), TC_OK);
	assert_int_equal(index_lookup(idx, OBS_IPV4, S("10.1.2.3"), t - SEC, h, 4), 1);
	assert_int_equal(index_lookup(idx, OBS_IPV4, S("10.1.2.3"), t, h, 4), 0);
	index_free(idx);
}

static void
test_cidr_v4(void **state)
{
	struct index *idx = mk();
	struct index_hit h[8];
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.0/8"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.1.0.0/16"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.1.2.0/24"), 3, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.1.2.0/28"), 4, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.1.2.3"), 5, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.1.2.0/24"), 6, 0), TC_OK);
	/* exact first, then every covering network, longest first */
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.3", h, 8), 6);
	assert_int_equal(h[0].ref, 5);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(h[1].ref, 4);
	assert_int_equal(h[1].how, INDEX_CIDR);
	assert_int_equal(h[1].prefix_len, 28);
	assert_int_equal(h[2].prefix_len, 24);
	assert_int_equal(h[3].prefix_len, 24);
	assert_true((h[2].ref == 3 && h[3].ref == 6) || (h[2].ref == 6 && h[3].ref == 3));
	assert_int_equal(h[4].ref, 2);
	assert_int_equal(h[4].prefix_len, 16);
	assert_int_equal(h[5].ref, 1);
	assert_int_equal(h[5].prefix_len, 8);
	/* outside the /28, inside the /24 */
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.200", h, 8), 4);
	assert_int_equal(h[0].prefix_len, 24);
	/* another /16 block of the /8 */
	assert_int_equal(look(idx, OBS_IPV4, "10.200.0.1", h, 8), 1);
	assert_int_equal(h[0].prefix_len, 8);
	assert_int_equal(look(idx, OBS_IPV4, "11.0.0.1", h, 8), 0);
	/* a network query: itself exact, then its covering networks */
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.0/24", h, 8), 4);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(h[0].prefix_len, 24);
	assert_int_equal(h[2].how, INDEX_CIDR);
	assert_int_equal(h[2].prefix_len, 16);
	/* removal of one of two refs keeps the network, of both drops it */
	index_remove(idx, OBS_IPV4, S("10.1.2.0/24"), 3);
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.200", h, 8), 3);
	index_remove(idx, OBS_IPV4, S("10.1.2.0/24"), 6);
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.200", h, 8), 2);
	index_remove(idx, OBS_IPV4, S("10.0.0.0/8"), 1);
	assert_int_equal(look(idx, OBS_IPV4, "10.200.0.1", h, 8), 0);
	/* /0 covers everything */
	assert_int_equal(index_add(idx, OBS_IPV4, S("0.0.0.0/0"), 9, 0), TC_OK);
	assert_int_equal(look(idx, OBS_IPV4, "203.0.113.9", h, 8), 1);
	assert_int_equal(h[0].ref, 9);
	assert_int_equal(h[0].prefix_len, 0);
	assert_int_equal(look(idx, OBS_IPV4, "10.1.2.3", h, 8), 4);
	assert_int_equal(h[3].ref, 9);
	index_remove(idx, OBS_IPV4, S("0.0.0.0/0"), 9);
	assert_int_equal(look(idx, OBS_IPV4, "203.0.113.9", h, 8), 0);
	index_free(idx);
}

static void
test_cidr_v4_long_prefixes_share_block(void **state)
{
	/* two /30s in one /16 block: removing one keeps the other matching */
	struct index *idx = mk();
	struct index_hit h[2];
	assert_int_equal(index_add(idx, OBS_IPV4, S("198.51.100.0/30"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("198.51.7.4/30"), 2, 0), TC_OK);
	index_remove(idx, OBS_IPV4, S("198.51.100.0/30"), 1);
	assert_int_equal(look(idx, OBS_IPV4, "198.51.100.1", h, 2), 0);
	assert_int_equal(look(idx, OBS_IPV4, "198.51.7.6", h, 2), 1);
	assert_int_equal(h[0].ref, 2);
	assert_int_equal(h[0].prefix_len, 30);
	index_free(idx);
}

static void
test_cidr_v6(void **state)
{
	struct index *idx = mk();
	struct index_hit h[8];
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8::/32"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8:1::/48"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8:1:2::/64"), 3, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8:1:2::/127"), 4, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV6, S("2001:db8:1:2::1"), 5, 0), TC_OK);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db8:1:2::1", h, 8), 5);
	assert_int_equal(h[0].ref, 5);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(h[0].prefix_len, 128);
	assert_int_equal(h[1].prefix_len, 127);
	assert_int_equal(h[2].prefix_len, 64);
	assert_int_equal(h[3].prefix_len, 48);
	assert_int_equal(h[4].prefix_len, 32);
	assert_int_equal(h[4].ref, 1);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db8:ffff::1", h, 8), 1);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db9::1", h, 8), 0);
	/* /0 */
	assert_int_equal(index_add(idx, OBS_IPV6, S("::/0"), 7, 0), TC_OK);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db9::1", h, 8), 1);
	assert_int_equal(h[0].prefix_len, 0);
	index_remove(idx, OBS_IPV6, S("2001:db8::/32"), 1);
	assert_int_equal(look(idx, OBS_IPV6, "2001:db8:ffff::1", h, 8), 1);
	assert_int_equal(h[0].ref, 7);
	/* an IPv4 network does not cover IPv6 and vice versa */
	assert_int_equal(look(idx, OBS_IPV4, "1.2.3.4", h, 8), 0);
	index_free(idx);
}

static void
test_parent_domains(void **state)
{
	struct index *idx = mk();
	struct index_hit h[8];
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("evil.example"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("example"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("b.evil.example"), 3, 0), TC_OK);
	assert_int_equal(look(idx, OBS_DOMAIN, "a.b.evil.example", h, 8), 3);
	assert_int_equal(h[0].ref, 3);
	assert_int_equal(h[0].how, INDEX_PARENT_DOMAIN);
	assert_int_equal(h[0].labels_up, 1);
	assert_int_equal(h[1].ref, 1);
	assert_int_equal(h[1].labels_up, 2);
	assert_int_equal(h[2].ref, 2);
	assert_int_equal(h[2].labels_up, 3);
	assert_int_equal(look(idx, OBS_DOMAIN, "evil.example", h, 8), 2);
	assert_int_equal(h[0].how, INDEX_EXACT);
	assert_int_equal(h[0].labels_up, 0);
	assert_int_equal(h[1].how, INDEX_PARENT_DOMAIN);
	/* a label boundary, not a string suffix */
	assert_int_equal(look(idx, OBS_DOMAIN, "notevil.example", h, 8), 1);
	assert_int_equal(h[0].ref, 2);
	/* a deep name: parents past the ones hashed ahead are found too */
	assert_int_equal(look(idx, OBS_DOMAIN, "1.2.3.4.5.6.7.8.9.b.evil.example", h, 8), 3);
	assert_int_equal(h[0].labels_up, 9);
	assert_int_equal(h[1].labels_up, 10);
	assert_int_equal(h[2].labels_up, 11);
	/* parents apply to domains only */
	assert_int_equal(look(idx, OBS_URL, "a.evil.example", h, 8), 0);
	index_free(idx);
}

static void
test_batch(void **state)
{
	struct index *idx = mk();
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.0/8"), 1, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_IPV4, S("10.0.0.1"), 2, 0), TC_OK);
	assert_int_equal(index_add(idx, OBS_DOMAIN, S("evil.example"), 3, 0), TC_OK);
	struct index_query q[40];
	char names[40][32];
	for (int i = 0; i < 40; i++) {
		switch (i % 4) {
		case 0:
			q[i] = (struct index_query){ OBS_IPV4, S("10.0.0.1") };
			break;
		case 1:
			q[i] = (struct index_query){ OBS_IPV4, S("11.0.0.1") };
			break;
		case 2:
			snprintf(names[i], sizeof names[i], "h%d.evil.example", i);
			q[i] = (struct index_query){ OBS_DOMAIN, S(names[i]) };
			break;
		default:
			q[i] = (struct index_query){ OBS_URL, S("http://x/") };
		}
	}
	struct index_hit h[100];
	size_t counts[40];
	assert_int_equal(index_lookup_batch(idx, q, 40, 0, h, 100, counts), 30);
	size_t off = 0;
	for (int i = 0; i < 40; i++) {
		struct index_hit one[4];
		size_t n = index_lookup(idx, q[i].kind, q[i].value, 0, one, 4);
		assert_int_equal(counts[i], n);
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(h[off + j].ref, one[j].ref);
			assert_int_equal(h[off + j].how, one[j].how);
		}
		off += n;
	}
	/* a short hits array: counts still complete */
	assert_int_equal(index_lookup_batch(idx, q, 40, 0, h, 5, counts), 30);
	assert_int_equal(counts[39 - 1], 1);
	assert_int_equal(index_lookup_batch(idx, q, 40, 0, NULL, 0, counts), 30);
	index_free(idx);
}

static void
test_memory_per_entry(void **state)
{
	/* 1M entries, mostly exact, some networks: well under 100 bytes each */
	struct index *idx = mk();
	char v[64];
	size_t n = 1000000;
	assert_int_equal(index_reserve(idx, n), TC_OK);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = (uint32_t)(i * 2654435761u);
		enum tcerr rc;
		if (i % 100 == 0) {
			snprintf(v, sizeof v, "%u.%u.%u.0/24", (x >> 24) & 255, (x >> 16) & 255,
			         (x >> 8) & 255);
			rc = index_add(idx, OBS_IPV4, S(v), (uint32_t)i, 0);
		} else if (i % 2) {
			snprintf(v, sizeof v, "%u.%u.%u.%u", (x >> 24) & 255, (x >> 16) & 255,
			         (x >> 8) & 255, x & 255);
			rc = index_add(idx, OBS_IPV4, S(v), (uint32_t)i, 0);
		} else {
			snprintf(v, sizeof v, "host%zu.example", i);
			rc = index_add(idx, OBS_DOMAIN, S(v), (uint32_t)i, 0);
		}
		assert_int_equal(rc, TC_OK);
	}
	size_t count = index_count(idx), mem = index_memory(idx);
	assert_true(count > n * 99 / 100); /* a few random addresses repeat: two refs */
	assert_true(mem > count * 16);     /* at least the slots: the figure is not made up */
	assert_true(mem / count < 100);
	index_free(idx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_per_kind),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_multiple_refs),
		cmocka_unit_test(test_remove_keeps_neighbours),
		cmocka_unit_test(test_churn_against_model),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v4_long_prefixes_share_block),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_parent_domains),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_memory_per_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
