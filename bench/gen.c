/*
 * gen.c — the synthetic STIX 2.1 feed generator (see gen.h).
 *
 * Invariant: every byte written is a function of the seed alone. Each
 * indicator draws all its properties from its own 64-bit subseed, so a
 * later version re-creates the same id, pattern and created time from that
 * subseed and only changes modified, confidence and revoked. Output is
 * assembled with plain appends (no printf on the hot path): the generator
 * must outrun every consumer it feeds.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

/* ---- random numbers: splitmix64 seeding, xoshiro256** ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(uint64_t st[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		st[i] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, n), n < 2^32 (multiply-shift; the bias is negligible). */
static inline uint32_t
rnd(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r->s) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability per_mille / 1000. */
static inline bool
chance(struct rng *r, uint32_t per_mille)
{
	return rnd(r, 1000) < per_mille;
}

#define PICK(r, arr) ((arr)[rnd((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- small appenders ---- */

static inline void
app(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

static void
app_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof(tmp) - i);
}

static void
app_hex(struct buf *b, struct rng *r, size_t ndigits)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[128];
	uint64_t x = 0;
	for (size_t i = 0; i < ndigits; i++) {
		if (i % 16 == 0)
			x = rng_next(r->s);
		tmp[i] = hx[x & 15];
		x >>= 4;
	}
	buf_append(b, tmp, ndigits);
}

static void
app_digits(struct buf *b, struct rng *r, size_t n)
{
	char tmp[40];
	for (size_t i = 0; i < n; i++)
		tmp[i] = (char)('0' + rnd(r, 10));
	buf_append(b, tmp, n);
}

/* Appends a UTF-8 code point. */
static void
app_utf8(struct buf *b, uint32_t c)
{
	char t[4];
	if (c < 0x80) {
		t[0] = (char)c;
		buf_append(b, t, 1);
	} else if (c < 0x800) {
		t[0] = (char)(0xc0 | (c >> 6));
		t[1] = (char)(0x80 | (c & 0x3f));
		buf_append(b, t, 2);
	} else {
		t[0] = (char)(0xe0 | (c >> 12));
		t[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		t[2] = (char)(0x80 | (c & 0x3f));
		buf_append(b, t, 3);
	}
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for µs since the epoch (years 1970-9999),
 * days-to-civil after the usual era arithmetic of the proleptic Gregorian
 * calendar. */
static void
app_ts(struct buf *b, int64_t us)
{
	int64_t secs = us / 1000000;
	int ms = (int)(us / 1000 % 1000);
	int64_t days = secs / 86400;
	int rem = (int)(secs % 86400);
	int64_t z = days + 719468;
	int64_t era = z / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	if (m <= 2)
		y++;
	char t[24];
	int yy = (int)y, hh = rem / 3600, mi = rem / 60 % 60, ss = rem % 60;
	t[0] = (char)('0' + yy / 1000);
	t[1] = (char)('0' + yy / 100 % 10);
	t[2] = (char)('0' + yy / 10 % 10);
	t[3] = (char)('0' + yy % 10);
	t[4] = '-';
	t[5] = (char)('0' + m / 10);
	t[6] = (char)('0' + m % 10);
	t[7] = '-';
	t[8] = (char)('0' + d / 10);
	t[9] = (char)('0' + d % 10);
	t[10] = 'T';
	t[11] = (char)('0' + hh / 10);
	t[12] = (char)('0' + hh % 10);
	t[13] = ':';
	t[14] = (char)('0' + mi / 10);
	t[15] = (char)('0' + mi % 10);
	t[16] = ':';
	t[17] = (char)('0' + ss / 10);
	t[18] = (char)('0' + ss % 10);
	t[19] = '.';
	t[20] = (char)('0' + ms / 100);
	t[21] = (char)('0' + ms / 10 % 10);
	t[22] = (char)('0' + ms % 10);
	t[23] = 'Z';
	buf_append(b, t, 24);
}

/* A v4-shaped UUID drawn from r (RFC 4122 §4.4 layout, not random). */
static void
app_uuid(struct buf *b, struct rng *r)
{
	static const char hx[] = "0123456789abcdef";
	uint64_t a = rng_next(r->s), c = rng_next(r->s);
	char t[36];
	int k = 0;
	for (int i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			t[k++] = '-';
		unsigned nib;
		if (i == 12)
			nib = 4;
		else if (i == 16)
			nib = 8 | (unsigned)(c & 3);
		else if (i < 16)
			nib = (unsigned)((a >> (4 * i)) & 15);
		else
			nib = (unsigned)((c >> (4 * (i - 16) + 2)) & 15);
		t[k++] = hx[nib];
	}
	buf_append(b, t, 36);
}

/* Copies the last n bytes of b into dst (NUL-terminated, dst holds GEN_ID_MAX). */
static void
copy_tail(char dst[GEN_ID_MAX], const struct buf *b, size_t from)
{
	size_t n = b->p && b->len > from ? b->len - from : 0;
	if (n >= GEN_ID_MAX)
		n = GEN_ID_MAX - 1;
	if (n)
		memcpy(dst, b->p + from, n);
	dst[n] = '\0';
}

/* ---- punycode (RFC 3492 §6.3) ---- */

static uint32_t
puny_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;
	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 - 1 + 1) * delta / (delta + 38);
}

static char
puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

void
gen_punycode(const uint32_t *cp, size_t n, struct buf *out)
{
	uint32_t nn = 128, delta = 0, bias = 72, h, b = 0;
	for (size_t i = 0; i < n; i++)
		if (cp[i] < 0x80) {
			buf_append_char(out, (char)cp[i]);
			b++;
		}
	h = b;
	if (b > 0)
		buf_append_char(out, '-');
	while (h < n) {
		uint32_t m = UINT32_MAX;
		for (size_t i = 0; i < n; i++)
			if (cp[i] >= nn && cp[i] < m)
				m = cp[i];
		delta += (m - nn) * (h + 1);
		nn = m;
		for (size_t i = 0; i < n; i++) {
			if (cp[i] < nn)
				delta++;
			if (cp[i] != nn)
				continue;
			uint32_t q = delta;
			for (uint32_t k = 36;; k += 36) {
				uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				buf_append_char(out, puny_digit(t + (q - t) % (36 - t)));
				q = (q - t) / (36 - t);
			}
			buf_append_char(out, puny_digit(q));
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
}

/* ---- SHA-256 (FIPS 180-4), only for Base58Check wallet checksums ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline uint32_t
ror32(uint32_t x, int k)
{
	return (x >> k) | (x << (32 - k));
}

/* Hashes a message of at most 55 bytes (one block), which is all we need. */
static void
sha256_short(const uint8_t *msg, size_t len, uint8_t out[32])
{
	uint8_t blk[64] = { 0 };
	uint32_t w[64], hs[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(blk, msg, len);
	blk[len] = 0x80;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		blk[63 - i] = (uint8_t)(bits >> (8 * i));
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = hs[0], b = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6],
		 h = hs[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	hs[0] += a, hs[1] += b, hs[2] += c, hs[3] += d, hs[4] += e, hs[5] += f, hs[6] += g, hs[7] += h;
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(hs[i] >> 24);
		out[4 * i + 1] = (uint8_t)(hs[i] >> 16);
		out[4 * i + 2] = (uint8_t)(hs[i] >> 8);
		out[4 * i + 3] = (uint8_t)hs[i];
	}
}

/* ---- wallets ---- */

/* Base58Check (Bitcoin P2PKH, version 0): "1..." */
void
gen_p2pkh(const uint8_t hash160[20], struct buf *b)
{
	static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	uint8_t raw[25], h1[32], h2[32];
	raw[0] = 0;
	memcpy(raw + 1, hash160, 20);
	sha256_short(raw, 21, h1);
	sha256_short(h1, 32, h2);
	memcpy(raw + 21, h2, 4);
	/* big-number base conversion, 25 bytes -> base 58, little-endian digits */
	uint8_t digits[40];
	size_t nd = 0;
	for (int i = 0; i < 25; i++) {
		uint32_t carry = raw[i];
		for (size_t j = 0; j < nd; j++) {
			carry += (uint32_t)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[nd++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	for (int i = 0; i < 25 && raw[i] == 0; i++)
		buf_append_char(b, '1');
	while (nd)
		buf_append_char(b, b58[digits[--nd]]);
}

static uint32_t
bech32_polymod(const uint8_t *v, size_t n)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
		                         0x2a1462b3 };
	uint32_t chk = 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t top = chk >> 25;
		chk = (chk & 0x1ffffff) << 5 ^ v[i];
		for (int k = 0; k < 5; k++)
			if ((top >> k) & 1)
				chk ^= gen[k];
	}
	return chk;
}

/* BIP 173 / BIP 350 segwit address on "bc": witness v0 (bech32) or v1
 * (bech32m) program of len bytes (<= 40). */
void
gen_segwit(const uint8_t *prog, size_t len, bool taproot, struct buf *b)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	uint8_t v[5 + 1 + 64 + 6]; /* hrp expansion (5) + witver + data + checksum */
	size_t n = 0;
	if (len > 40)
		return;
	v[n++] = 'b' >> 5;
	v[n++] = 'c' >> 5;
	v[n++] = 0;
	v[n++] = 'b' & 31;
	v[n++] = 'c' & 31;
	size_t data0 = n;
	v[n++] = taproot ? 1 : 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | prog[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			v[n++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	if (bits)
		v[n++] = (uint8_t)((acc << (5 - bits)) & 31);
	for (int i = 0; i < 6; i++)
		v[n + i] = 0;
	uint32_t pm = bech32_polymod(v, n + 6) ^ (taproot ? 0x2bc830a3u : 1u);
	for (int i = 0; i < 6; i++)
		v[n + i] = (uint8_t)((pm >> (5 * (5 - i))) & 31);
	n += 6;
	app(b, "bc1");
	for (size_t i = data0; i < n; i++)
		buf_append_char(b, cs[v[i]]);
}

static void
app_wallet(struct buf *b, struct rng *r)
{
	uint32_t x = rnd(r, 100);
	uint8_t prog[32];
	for (size_t i = 0; i < sizeof(prog); i++)
		prog[i] = (uint8_t)rnd(r, 256);
	if (x < 45) {
		app(b, "eth:0x");
		app_hex(b, r, 40);
	} else if (x < 70) {
		app(b, "btc:");
		gen_segwit(prog, 20, false, b);
	} else if (x < 80) {
		app(b, "btc:");
		gen_segwit(prog, 32, true, b);
	} else {
		app(b, "btc:");
		gen_p2pkh(prog, b);
	}
}

/* ---- IBAN (ISO 13616: check digits make the number ≡ 1 mod 97) ---- */

void
gen_iban(const char *cc, const char *bban, struct buf *out)
{
	unsigned mod = 0;
	const char *parts[2] = { bban, cc };
	for (int p = 0; p < 2; p++)
		for (const char *s = parts[p]; *s; s++) {
			unsigned v = (*s >= 'A' && *s <= 'Z') ? (unsigned)(*s - 'A' + 10)
			                                      : (unsigned)(*s - '0');
			mod = v >= 10 ? (mod * 100 + v) % 97 : (mod * 10 + v) % 97;
		}
	mod = (mod * 100) % 97; /* the "00" placeholder */
	unsigned check = 98 - mod;
	buf_append(out, cc, 2);
	buf_append_char(out, (char)('0' + check / 10));
	buf_append_char(out, (char)('0' + check % 10));
	app(out, bban);
}

static void
app_iban(struct buf *b, struct rng *r)
{
	/* country, BBAN layout: 'n' digit, 'a' capital letter, 'c' either */
	static const struct {
		const char *cc, *layout;
	} fmts[] = {
		{ "DE", "nnnnnnnnnnnnnnnnnn" },       { "GB", "aaaannnnnnnnnnnnnn" },
		{ "FR", "nnnnnnnnnnnnnnnnnnnnnnn" },  { "NL", "aaaannnnnnnnnn" },
		{ "CY", "nnnnnnnncccccccccccccccc" }, { "LV", "aaaaccccccccccccc" },
		{ "KZ", "nnnccccccccccccc" },         { "BY", "ccccnnnncccccccccccccccc" },
		{ "UA", "nnnnnnccccccccccccccccccc" }, { "EE", "nnnnnnnnnnnnnnnn" },
		{ "LT", "nnnnnnnnnnnnnnnn" },         { "AE", "nnnnnnnnnnnnnnnnnnn" },
	};
	size_t i = rnd(r, sizeof(fmts) / sizeof(fmts[0]));
	char bban[40];
	size_t n = 0;
	for (const char *l = fmts[i].layout; *l && n < sizeof(bban) - 1; l++) {
		bool letter = *l == 'a' || (*l == 'c' && chance(r, 300));
		bban[n++] = letter ? (char)('A' + rnd(r, 26)) : (char)('0' + rnd(r, 10));
	}
	bban[n] = '\0';
	gen_iban(fmts[i].cc, bban, b);
}

/* ---- phone numbers (E.164) ---- */

static void
app_phone(struct buf *b, struct rng *r)
{
	uint32_t x = rnd(r, 100);
	if (x < 70) { /* Russian mobile */
		app(b, "+79");
		app_digits(b, r, 9);
	} else if (x < 80) { /* Russian geographic: Moscow, St Petersburg, others */
		static const char *area[] = { "+7495", "+7499", "+7812", "+7343", "+7383", "+7861" };
		app(b, PICK(r, area));
		app_digits(b, r, 7);
	} else if (x < 85) {
		app(b, "+3809");
		app_digits(b, r, 8);
	} else if (x < 90) {
		app(b, "+3752");
		app_digits(b, r, 8);
	} else if (x < 94) {
		app(b, "+447");
		app_digits(b, r, 9);
	} else if (x < 97) {
		app(b, "+4915");
		app_digits(b, r, 9);
	} else { /* NANP: area and exchange codes start 2-9 */
		app(b, "+1");
		buf_append_char(b, (char)('2' + rnd(r, 8)));
		app_digits(b, r, 2);
		buf_append_char(b, (char)('2' + rnd(r, 8)));
		app_digits(b, r, 6);
	}
}

/* ---- IP addresses ---- */

/* True for ranges no feed should name: private, shared, loopback,
 * link-local, documentation, benchmarking, multicast, reserved (RFC 6890),
 * and the public resolvers every allowlist holds. */
static bool
ipv4_special(uint32_t a)
{
	uint32_t o1 = a >> 24, o2 = (a >> 16) & 255;
	if (o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224)
		return true;
	if (o1 == 100 && (o2 & 0xc0) == 64)
		return true;
	if (o1 == 169 && o2 == 254)
		return true;
	if (o1 == 172 && (o2 & 0xf0) == 16)
		return true;
	if (o1 == 192 && (o2 == 168 || (o2 == 0 && ((a >> 8) & 255) <= 2) ||
	                  (o2 == 88 && ((a >> 8) & 255) == 99)))
		return true;
	if (o1 == 198 && (o2 == 18 || o2 == 19 || (o2 == 51 && ((a >> 8) & 255) == 100)))
		return true;
	if (o1 == 203 && o2 == 0 && ((a >> 8) & 255) == 113)
		return true;
	if (a == 0x08080808 || a == 0x08080404 || a == 0x01010101 || a == 0x01000001 ||
	    a == 0x09090909 || a == 0xd043dede || a == 0x4d580808)
		return true;
	return false;
}

static uint32_t
ipv4_public(struct rng *r)
{
	/* A third of the addresses come from a few busy hosting /8s, so
	 * networks and addresses of a feed overlap as in real ones. */
	static const uint8_t hot[] = { 5, 31, 37, 45, 46, 77, 80, 91, 94, 104, 141, 176, 185, 193, 194, 195 };
	for (;;) {
		uint32_t a = (uint32_t)rng_next(r->s);
		if (chance(r, 330))
			a = (a & 0x00ffffff) | (uint32_t)PICK(r, hot) << 24;
		if (!ipv4_special(a))
			return a;
	}
}

static void
app_ipv4(struct buf *b, uint32_t a)
{
	for (int i = 3; i >= 0; i--) {
		app_u64(b, (a >> (8 * i)) & 255);
		if (i)
			buf_append_char(b, '.');
	}
}

static void
app_ipv4_value(struct buf *b, struct rng *r)
{
	if (chance(r, 5)) { /* a few from the documentation ranges, as real feeds have */
		app(b, chance(r, 500) ? "198.51.100." : "203.0.113.");
		app_u64(b, 1 + rnd(r, 254));
		return;
	}
	app_ipv4(b, ipv4_public(r));
}

static void
app_cidr(struct buf *b, struct rng *r)
{
	static const uint8_t lens[] = { 24, 24, 24, 24, 24, 23, 22, 22, 21, 20, 19, 16, 25, 26, 27, 28, 29 };
	unsigned len = PICK(r, lens);
	uint32_t a = ipv4_public(r) & (uint32_t)(0xffffffffu << (32 - len));
	app_ipv4(b, a);
	buf_append_char(b, '/');
	app_u64(b, len);
}

static void
app_hex16(struct buf *b, uint32_t v)
{
	static const char hx[] = "0123456789abcdef";
	char t[4];
	int n = 0;
	bool lead = true;
	for (int i = 3; i >= 0; i--) {
		unsigned nib = (v >> (4 * i)) & 15;
		if (lead && nib == 0 && i > 0)
			continue;
		lead = false;
		t[n++] = hx[nib];
	}
	buf_append(b, t, (size_t)n);
}

/* Global unicast (2000::/3) outside 2001:db8::/32, written in RFC 5952 form. */
static void
app_ipv6(struct buf *b, struct rng *r)
{
	static const uint16_t first[] = { 0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2a05, 0x2a0e,
		                          0x2001, 0x2400, 0x2600, 0x2604, 0x2607, 0x2800, 0x2c0f };
	uint16_t g[8];
	g[0] = PICK(r, first);
	g[1] = (uint16_t)rnd(r, 0x10000);
	if (g[0] == 0x2001 && g[1] == 0xdb8)
		g[1] = 0x4860;
	if (g[1] == 0)
		g[1] = 1;
	uint32_t form = rnd(r, 100);
	if (form < 10) { /* a network */
		static const uint8_t lens[] = { 32, 48, 48, 56, 64, 64 };
		unsigned len = PICK(r, lens);
		g[2] = (uint16_t)(1 + rnd(r, 0xffff));
		g[3] = (uint16_t)(1 + rnd(r, 0xffff));
		if (len <= 32) {
			app_hex16(b, g[0]);
			buf_append_char(b, ':');
			app_hex16(b, g[1]);
		} else if (len == 48) {
			for (int i = 0; i < 3; i++) {
				if (i)
					buf_append_char(b, ':');
				app_hex16(b, g[i]);
			}
		} else {
			if (len == 56)
				g[3] &= 0xff00;
			if (g[3] == 0)
				g[3] = 0x100;
			for (int i = 0; i < 4; i++) {
				if (i)
					buf_append_char(b, ':');
				app_hex16(b, g[i]);
			}
		}
		app(b, "::/");
		app_u64(b, len);
		return;
	}
	if (form < 60) { /* prefix::host, as servers are numbered */
		int np = 2 + (int)rnd(r, 3); /* 2..4 prefix groups, then :: and 1 group */
		for (int i = 2; i < np; i++)
			g[i] = (uint16_t)(1 + rnd(r, 0xffff));
		for (int i = 0; i < np; i++) {
			if (i)
				buf_append_char(b, ':');
			app_hex16(b, g[i]);
		}
		app(b, "::");
		app_hex16(b, 1 + rnd(r, 0xfffe));
		return;
	}
	for (int i = 2; i < 8; i++) /* eight non-zero groups: nothing to compress */
		g[i] = (uint16_t)(1 + rnd(r, 0xffff));
	for (int i = 0; i < 8; i++) {
		if (i)
			buf_append_char(b, ':');
		app_hex16(b, g[i]);
	}
}

/* ---- domains, URLs, e-mail ---- */

static const char *const words[] = {
	"secure", "login", "account", "verify", "update", "bank", "pay", "online", "service",
	"support", "mail", "cloud", "cdn", "auth", "portal", "my", "id", "wallet", "bonus", "promo",
	"delivery", "track", "post", "gift", "crypto", "invest", "trade", "shop", "market", "billing",
	"office", "docs", "drive", "file", "share", "web", "net", "data", "sync", "check", "safe",
	"client", "lk", "cabinet", "gos", "nalog", "refund", "prize", "win", "loan", "credit",
};
static const char *const syll[] = {
	"ka", "ro", "mi", "ne", "to", "va", "li", "san", "tor", "vel", "mar", "den", "ix", "ex",
	"on", "al", "ber", "tek", "zon", "vis", "lo", "ra", "pro", "sta", "nor", "ul", "fin", "sib",
};
static const char *const tlds[] = {
	"com", "com", "com", "net", "org", "ru", "ru", "ru", "info", "xyz", "top", "online", "site",
	"su", "de", "io", "cc", "biz", "shop", "pw", "club", "live", "icu", "me", "co", "uk", "kz",
};
static const char *const subs[] = {
	"www", "login", "secure", "mail", "cdn", "api", "m", "auth", "id", "pay", "update", "static",
};

static void
app_label(struct buf *b, struct rng *r)
{
	uint32_t x = rnd(r, 100);
	if (x < 45) {
		app(b, PICK(r, words));
		if (chance(r, 500))
			buf_append_char(b, '-');
		app(b, PICK(r, words));
	} else if (x < 85) {
		int n = 2 + (int)rnd(r, 3);
		for (int i = 0; i < n; i++)
			app(b, PICK(r, syll));
	} else {
		app(b, PICK(r, words));
		app_u64(b, rnd(r, 1000));
	}
}

/* Brands phishers imitate, written with one Latin letter swapped for its
 * Cyrillic look-alike: the homoglyph domains IDNA turns into xn--. */
static const char *const brands[] = {
	"sberbank", "paypal", "gosuslugi", "tinkoff", "alfabank", "yandex", "apple",
	"microsoft", "amazon", "vtb", "ozon", "wildberries", "avito", "rostelecom", "mos",
};

static uint32_t
cyr_lookalike(char c)
{
	switch (c) {
	case 'a': return 0x430;
	case 'e': return 0x435;
	case 'o': return 0x43e;
	case 'p': return 0x440;
	case 'c': return 0x441;
	case 'x': return 0x445;
	case 'y': return 0x443;
	default: return 0;
	}
}

/* An IDN label as code points (n <= 32). */
static size_t
idn_label(struct rng *r, uint32_t cp[32])
{
	size_t n = 0;
	if (chance(r, 500)) {
		const char *w = PICK(r, brands);
		size_t len = strlen(w), swaps = 0;
		size_t start = rnd(r, (uint32_t)len);
		for (size_t i = 0; i < len; i++)
			cp[n++] = (unsigned char)w[i];
		for (size_t k = 0; k < len && !swaps; k++) {
			size_t i = (start + k) % len;
			uint32_t c = cyr_lookalike(w[i]);
			if (c) {
				cp[i] = c;
				swaps++;
			}
		}
		if (!swaps) /* no look-alike letter: append a Cyrillic 'о' */
			cp[n++] = 0x43e;
		return n;
	}
	/* an all-Cyrillic word of consonant-vowel syllables */
	static const uint32_t cons[] = { 0x431, 0x432, 0x433, 0x434, 0x437, 0x43a, 0x43b, 0x43c,
		                         0x43d, 0x43f, 0x440, 0x441, 0x442, 0x444, 0x445, 0x447 };
	static const uint32_t vow[] = { 0x430, 0x435, 0x438, 0x43e, 0x443, 0x44b, 0x44f };
	int ns = 2 + (int)rnd(r, 3);
	for (int i = 0; i < ns; i++) {
		cp[n++] = PICK(r, cons);
		cp[n++] = PICK(r, vow);
	}
	return n;
}

/* Appends a domain. unicode: write IDN labels as UTF-8 U-labels instead of
 * A-labels (only where the value is normalised by the receiver). */
static void
app_domain(struct buf *b, struct rng *r, bool unicode)
{
	if (chance(r, 280)) {
		app(b, PICK(r, subs));
		buf_append_char(b, '.');
		if (chance(r, 200)) {
			app(b, PICK(r, subs));
			buf_append_char(b, '.');
		}
	}
	if (chance(r, 60)) {
		uint32_t cp[32];
		size_t n = idn_label(r, cp);
		bool cyr_tld = cp[0] >= 0x400 && chance(r, 600);
		if (unicode && chance(r, 500)) {
			for (size_t i = 0; i < n; i++)
				app_utf8(b, cp[i]);
			if (cyr_tld) {
				buf_append_char(b, '.');
				app_utf8(b, 0x440);
				app_utf8(b, 0x444);
			} else {
				app(b, chance(r, 500) ? ".com" : ".ru");
			}
			return;
		}
		app(b, "xn--");
		gen_punycode(cp, n, b);
		app(b, cyr_tld ? ".xn--p1ai" : chance(r, 500) ? ".com" : ".ru");
		return;
	}
	app_label(b, r);
	buf_append_char(b, '.');
	app(b, PICK(r, tlds));
}

static void
app_url(struct buf *b, struct rng *r)
{
	static const char *const paths[] = {
		"/login.php", "/wp-admin/admin-ajax.php", "/wp-content/uploads/2025/inv.zip",
		"/secure/verify", "/account/update.html", "/files/document.exe", "/gate.php",
		"/api/v1/collect", "/panel/", "/download/setup.msi", "/invoice.pdf.exe", "/index.html",
		"/auth/signin", "/bonus", "/lk/", "/payment/confirm", "/s/", "/c2/beacon", "/x.sh",
	};
	app(b, chance(r, 600) ? "https://" : "http://");
	if (chance(r, 180))
		app_ipv4(b, ipv4_public(r));
	else
		app_domain(b, r, false);
	if (chance(r, 50)) {
		static const char *const ports[] = { ":8080", ":8443", ":4443", ":8000", ":2087" };
		app(b, PICK(r, ports));
	}
	app(b, PICK(r, paths));
	uint32_t q = rnd(r, 100);
	if (q < 20) {
		app(b, "?id=");
		app_u64(b, rnd(r, 1000000));
	} else if (q < 30) {
		app(b, "?session=");
		app_hex(b, r, 16);
	} else if (q < 35) {
		app(b, "/");
		app_hex(b, r, 8);
	}
}

static void
app_email(struct buf *b, struct rng *r)
{
	static const char *const locals[] = { "support", "noreply", "admin", "billing", "security",
		                              "info", "service", "robot", "help", "alert" };
	app(b, PICK(r, locals));
	if (chance(r, 500)) {
		buf_append_char(b, '.');
		app(b, PICK(r, words));
	} else if (chance(r, 500)) {
		app_u64(b, rnd(r, 100));
	}
	buf_append_char(b, '@');
	app_domain(b, r, false);
}

/* ---- kinds and patterns ---- */

static const struct {
	enum gen_kind k;
	uint32_t per_mille;
} kind_mix[] = {
	{ GEN_K_IPV4, 450 }, { GEN_K_DOMAIN, 200 }, { GEN_K_URL, 120 }, { GEN_K_HASH, 100 },
	{ GEN_K_CIDR, 30 },  { GEN_K_IPV6, 30 },    { GEN_K_PHONE, 30 }, { GEN_K_IBAN, 20 },
	{ GEN_K_WALLET, 10 }, { GEN_K_EMAIL, 10 },
};

static enum gen_kind
pick_kind(struct rng *r)
{
	uint32_t x = rnd(r, 1000), acc = 0;
	for (size_t i = 0; i < sizeof(kind_mix) / sizeof(kind_mix[0]); i++) {
		acc += kind_mix[i].per_mille;
		if (x < acc)
			return kind_mix[i].k;
	}
	return GEN_K_IPV4;
}

const char *
gen_kind_name(enum gen_kind k)
{
	static const char *const names[GEN_K_COUNT] = {
		"ipv4", "domain", "url", "file hash", "ipv4 network", "ipv6", "phone", "iban",
		"wallet", "email",
	};
	return (unsigned)k < GEN_K_COUNT ? names[k] : "?";
}

/* hash algorithm for GEN_K_HASH: 0 SHA-256, 1 MD5, 2 SHA-1 */
static unsigned
pick_hash(struct rng *r)
{
	uint32_t x = rnd(r, 100);
	return x < 60 ? 0 : x < 85 ? 1 : 2;
}

/* The object path for a kind ("ipv4-addr:value"). */
static const char *
kind_path(enum gen_kind k, unsigned hash)
{
	switch (k) {
	case GEN_K_IPV4:
	case GEN_K_CIDR: return "ipv4-addr:value";
	case GEN_K_IPV6: return "ipv6-addr:value";
	case GEN_K_DOMAIN: return "domain-name:value";
	case GEN_K_URL: return "url:value";
	case GEN_K_EMAIL: return "email-addr:value";
	case GEN_K_PHONE: return "x-tocsin-phone-number:value";
	case GEN_K_IBAN: return "x-tocsin-bank-account:value";
	case GEN_K_WALLET: return "x-tocsin-crypto-wallet:value";
	case GEN_K_HASH:
		return hash == 0 ? "file:hashes.'SHA-256'" : hash == 1 ? "file:hashes.MD5"
		                                                        : "file:hashes.'SHA-1'";
	default: return "ipv4-addr:value";
	}
}

static void
app_value(struct buf *b, struct rng *r, enum gen_kind k, unsigned hash, bool unicode)
{
	switch (k) {
	case GEN_K_IPV4: app_ipv4_value(b, r); break;
	case GEN_K_CIDR: app_cidr(b, r); break;
	case GEN_K_IPV6: app_ipv6(b, r); break;
	case GEN_K_DOMAIN: app_domain(b, r, unicode); break;
	case GEN_K_URL: app_url(b, r); break;
	case GEN_K_EMAIL: app_email(b, r); break;
	case GEN_K_PHONE: app_phone(b, r); break;
	case GEN_K_IBAN: app_iban(b, r); break;
	case GEN_K_WALLET: app_wallet(b, r); break;
	case GEN_K_HASH: app_hex(b, r, hash == 0 ? 64 : hash == 1 ? 32 : 40); break;
	default: break;
	}
}

/* One indicator's pattern and what the rest of the object needs to know.
 * The first value is copied to first[] (for the name and the CSV row). */
struct ind_pattern {
	enum gen_kind kind;
	unsigned hash;
	bool multi;
	char first[256];
};

static void
app_quoted_value(struct buf *b, struct rng *r, struct ind_pattern *ip, bool record)
{
	buf_append_char(b, '\'');
	size_t at = b->len;
	app_value(b, r, ip->kind, ip->hash, true);
	if (record && b->p) {
		size_t n = b->len - at;
		if (n >= sizeof(ip->first))
			n = sizeof(ip->first) - 1;
		memcpy(ip->first, b->p + at, n);
		ip->first[n] = '\0';
	}
	buf_append_char(b, '\'');
}

/* Appends a pattern: one comparison, or (5 %) an OR / IN of 2-3 values. */
static void
app_pattern(struct buf *b, struct rng *r, struct ind_pattern *ip)
{
	ip->kind = pick_kind(r);
	ip->hash = ip->kind == GEN_K_HASH ? pick_hash(r) : 0;
	ip->multi = chance(r, 50);
	ip->first[0] = '\0';
	const char *path = kind_path(ip->kind, ip->hash);
	if (!ip->multi) {
		buf_append_char(b, '[');
		app(b, path);
		app(b, " = ");
		app_quoted_value(b, r, ip, true);
		buf_append_char(b, ']');
		return;
	}
	unsigned n = 2 + rnd(r, 2), form = rnd(r, 10);
	if (form < 5) { /* [p = 'a' OR p = 'b'] */
		buf_append_char(b, '[');
		for (unsigned i = 0; i < n; i++) {
			if (i)
				app(b, " OR ");
			app(b, path);
			app(b, " = ");
			app_quoted_value(b, r, ip, i == 0);
		}
		buf_append_char(b, ']');
	} else if (form < 8) { /* [p IN ('a', 'b')] */
		buf_append_char(b, '[');
		app(b, path);
		app(b, " IN (");
		for (unsigned i = 0; i < n; i++) {
			if (i)
				app(b, ", ");
			app_quoted_value(b, r, ip, i == 0);
		}
		app(b, ")]");
	} else { /* [p = 'a'] OR [q = 'b'], kinds may differ */
		struct ind_pattern other = *ip;
		for (unsigned i = 0; i < n; i++) {
			if (i) {
				app(b, " OR ");
				other.kind = pick_kind(r);
				other.hash = other.kind == GEN_K_HASH ? pick_hash(r) : 0;
			}
			buf_append_char(b, '[');
			app(b, kind_path(other.kind, other.hash));
			app(b, " = ");
			app_quoted_value(b, r, i == 0 ? ip : &other, i == 0);
			buf_append_char(b, ']');
		}
	}
}

void
gen_pattern(struct gen *g, struct buf *out)
{
	struct rng r;
	struct ind_pattern ip;
	memcpy(r.s, g->s, sizeof(r.s));
	app_pattern(out, &r, &ip);
	memcpy(g->s, r.s, sizeof(r.s));
}

/* ---- objects ---- */

/* TLP 2.0 marking definitions (STIX extension-definition--60a3c5c5-...). */
static const char *const tlp_ids[5] = {
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", /* CLEAR */
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", /* GREEN */
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", /* AMBER */
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", /* AMBER+STRICT */
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", /* RED */
};
static const char *const tlp_names[5] = { "clear", "green", "amber", "amber+strict", "red" };

/* CLEAR 30 %, GREEN 40 %, AMBER 20 %, AMBER+STRICT 5 %, RED 5 % */
static unsigned
pick_tlp(struct rng *r)
{
	uint32_t x = rnd(r, 100);
	return x < 30 ? 0 : x < 70 ? 1 : x < 90 ? 2 : x < 95 ? 3 : 4;
}

#define DAY_US (86400LL * 1000000)
/* 2025-01-01T00:00:00Z: feeds start here and span 500 days */
#define GEN_T0_US (1735689600LL * 1000000)

static int64_t
pick_time(struct rng *r, int64_t base, int64_t span_days)
{
	uint64_t ms = (uint64_t)rnd(r, (uint32_t)(span_days * 86400)) * 1000 + rnd(r, 1000);
	return base + (int64_t)ms * 1000;
}

static void
app_str_prop(struct buf *b, const char *key, const char *val)
{
	buf_append_char(b, ',');
	buf_append_char(b, '"');
	app(b, key);
	app(b, "\":");
	buf_append_json_str(b, slice_from_cstr(val));
}

static void
app_ts_prop(struct buf *b, const char *key, int64_t us)
{
	app(b, ",\"");
	app(b, key);
	app(b, "\":\"");
	app_ts(b, us);
	buf_append_char(b, '"');
}

static void
app_common(struct buf *b, const char *type, struct rng *r, char id_out[GEN_ID_MAX])
{
	app(b, "{\"type\":\"");
	app(b, type);
	app(b, "\",\"spec_version\":\"2.1\",\"id\":\"");
	size_t at = b->len;
	app(b, type);
	app(b, "--");
	app_uuid(b, r);
	if (id_out)
		copy_tail(id_out, b, at);
	buf_append_char(b, '"');
}

static void
app_markings(struct buf *b, unsigned tlp)
{
	app(b, ",\"object_marking_refs\":[\"");
	app(b, tlp_ids[tlp]);
	app(b, "\"]");
}

static const char *const name_fmt[GEN_K_COUNT] = {
	"Malicious IP ", "Phishing domain ", "Malicious URL ", "Malware sample ", "Malicious network ",
	"Malicious IPv6 ", "Fraud phone number ", "Money mule account ", "Scam wallet ", "Phishing sender ",
};
static const char *const descriptions[] = {
	"Observed in a phishing campaign against bank customers.",
	"Command and control server of a banking trojan.",
	"Scanning and brute-forcing SSH and RDP services.",
	"Distributes a credential stealer through fake invoices.",
	"Used in vishing calls impersonating a bank security service.",
	"Receives funds from victims of investment fraud.",
	"Hosts a fake government services portal.",
	"Reported by several members after a DDoS attack.",
	"Part of a botnet of compromised routers.",
	"Sends SMS with links to a fake parcel tracking page.",
};
static const char *const labels[] = {
	"phishing", "c2", "botnet", "ransomware", "fraud", "scam", "spam", "bruteforce",
	"malware-distribution", "tor-exit", "carding", "money-mule", "vishing", "ddos",
};
static const struct {
	const char *chain, *phase;
} kcp[] = {
	{ "mitre-attack", "reconnaissance" }, { "mitre-attack", "initial-access" },
	{ "mitre-attack", "execution" }, { "mitre-attack", "command-and-control" },
	{ "mitre-attack", "exfiltration" }, { "mitre-attack", "impact" },
	{ "lockheed-martin-cyber-kill-chain", "delivery" },
	{ "lockheed-martin-cyber-kill-chain", "actions-on-objectives" },
};
static const char *const ind_types[] = {
	"malicious-activity", "malicious-activity", "malicious-activity", "compromised",
	"anomalous-activity", "anonymization", "attribution",
};

/* Writes indicator version v of subseed. CSV: one row instead. */
/* ,"created_by_ref":"..." — the --creator identity, else the generator's
 * identity number ident. */
static void
app_creator(struct gen *g, struct buf *b, size_t ident)
{
	app(b, ",\"created_by_ref\":\"");
	app(b, g->creator[0] ? g->creator : g->identity[ident]);
	buf_append_char(b, '"');
}

static void
emit_indicator(struct gen *g, struct buf *b, uint64_t subseed, unsigned version,
               int64_t modified_us, bool revoked)
{
	struct rng r;
	rng_seed(r.s, subseed);
	char id[GEN_ID_MAX];
	struct ind_pattern ip;
	struct buf *pat = &g->scratch;
	buf_clear(pat);

	/* every draw below happens for every version, in the same order */
	uint64_t uuid_seed = rng_next(r.s);
	unsigned ident = rnd(&r, GEN_IDENTITIES);
	int64_t created = pick_time(&r, GEN_T0_US, 500);
	app_pattern(pat, &r, &ip);
	unsigned tlp = pick_tlp(&r);
	bool has_desc = chance(&r, 600), has_labels = chance(&r, 500), has_conf = chance(&r, 700);
	bool has_kcp = chance(&r, 250), has_until = chance(&r, 200);
	unsigned desc = rnd(&r, sizeof(descriptions) / sizeof(descriptions[0]));
	unsigned l1 = rnd(&r, sizeof(labels) / sizeof(labels[0]));
	unsigned l2 = rnd(&r, sizeof(labels) / sizeof(labels[0]));
	unsigned conf = 15 + 5 * rnd(&r, 18);
	unsigned k = rnd(&r, sizeof(kcp) / sizeof(kcp[0]));
	unsigned itype = ip.kind == GEN_K_IPV4 ? rnd(&r, sizeof(ind_types) / sizeof(ind_types[0])) : 0;
	int64_t until = created + (7 + (int64_t)rnd(&r, 724)) * DAY_US;
	if (version == 1)
		modified_us = created;
	if (version > 1 && conf < 95)
		conf += 5;

	if (g->fmt == GEN_CSV) {
		/* kind,value,name,tlp,confidence,valid_from,valid_until,labels */
		static const char *const csv_kind[GEN_K_COUNT] = {
			"ipv4", "domain", "url", "", "ipv4", "ipv6", "phone", "bank-account", "wallet", "email",
		};
		app(b, ip.kind == GEN_K_HASH ? (ip.hash == 0 ? "sha256" : ip.hash == 1 ? "md5" : "sha1")
		                             : csv_kind[ip.kind]);
		buf_append_char(b, ',');
		app(b, ip.first);
		buf_append_char(b, ',');
		app(b, name_fmt[ip.kind]);
		app(b, ip.first);
		buf_append_char(b, ',');
		app(b, tlp_names[tlp]);
		buf_append_char(b, ',');
		if (has_conf)
			app_u64(b, conf);
		buf_append_char(b, ',');
		app_ts(b, created);
		buf_append_char(b, ',');
		if (has_until)
			app_ts(b, until);
		buf_append_char(b, ',');
		if (has_labels) {
			app(b, labels[l1]);
			if (l2 != l1) {
				buf_append_char(b, ';');
				app(b, labels[l2]);
			}
		}
		buf_append_char(b, '\n');
		goto out;
	}

	struct rng ur;
	rng_seed(ur.s, uuid_seed);
	app_common(b, "indicator", &ur, id);
	app_creator(g, b, ident);
	app_ts_prop(b, "created", created);
	app_ts_prop(b, "modified", modified_us);
	/* values never hold '"', '\\' or control characters: no escaping needed */
	app(b, ",\"name\":\"");
	app(b, name_fmt[ip.kind]);
	app(b, ip.first);
	if (ip.multi)
		app(b, " and others");
	buf_append_char(b, '"');
	if (has_desc)
		app_str_prop(b, "description", descriptions[desc]);
	app(b, ",\"indicator_types\":[\"");
	app(b, ind_types[itype]);
	app(b, "\"],\"pattern\":\"");
	buf_append_slice(b, buf_slice(pat));
	buf_append_char(b, '"');
	app(b, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
	app_ts_prop(b, "valid_from", created);
	if (has_until)
		app_ts_prop(b, "valid_until", until);
	if (has_kcp) {
		app(b, ",\"kill_chain_phases\":[{\"kill_chain_name\":\"");
		app(b, kcp[k].chain);
		app(b, "\",\"phase_name\":\"");
		app(b, kcp[k].phase);
		app(b, "\"}]");
	}
	if (has_labels) {
		app(b, ",\"labels\":[\"");
		app(b, labels[l1]);
		if (l2 != l1) {
			app(b, "\",\"");
			app(b, labels[l2]);
		}
		app(b, "\"]");
	}
	if (has_conf) {
		app(b, ",\"confidence\":");
		app_u64(b, conf);
	}
	if (revoked)
		app(b, ",\"revoked\":true");
	app_markings(b, tlp);
	buf_append_char(b, '}');

	if (version == 1) {
		memcpy(g->recent[g->nrecent % GEN_RECENT_MAX], id, sizeof(id));
		g->nrecent++;
	}
out:
	g->st.indicators++;
	if (version == 1) {
		g->st.kind[ip.kind]++;
		if (ip.multi)
			g->st.multi_value++;
	} else {
		g->st.later_versions++;
	}
	if (revoked)
		g->st.revoked++;
}

static const struct {
	const char *name, *sectors, *contact;
} identities[GEN_IDENTITIES] = {
	{ "National CERT", "government", "cert@cert.example" },
	{ "Northern Telecom SOC", "telecommunications", "soc@telecom.example" },
	{ "Volga Bank CSIRT", "financial-services", "csirt@bank.example" },
	{ "Union of Banks FinCERT", "financial-services", "fincert@banks.example" },
	{ "Metro Internet Exchange", "telecommunications", "noc@ix.example" },
	{ "City Police Cyber Unit", "law-enforcement", "cyber@police.example" },
	{ "Siberian Mobile", "telecommunications", "abuse@mobile.example" },
	{ "Coastal Savings Bank", "financial-services", "security@savings.example" },
	{ "Search and Mail Portal", "technology", "abuse@portal.example" },
	{ "Regional Energy Grid", "energy", "soc@grid.example" },
	{ "University CERT", "education", "cert@uni.example" },
	{ "Hosting Provider Abuse Desk", "technology", "abuse@hosting.example" },
};

static const char *const malware_names[] = {
	"RedLine Stealer", "Lumma Stealer", "Emotet", "QakBot", "AgentTesla", "Formbook",
	"SmokeLoader", "Remcos", "njRAT", "AsyncRAT", "Vidar", "DarkGate", "IcedID", "Mirai",
	"TrickBot", "LockBit", "SpyNote", "Cerberus", "Anubis", "Hydra",
};
#define GEN_MALWARE (sizeof(malware_names) / sizeof(malware_names[0]))

/* Malware ids are fixed for a stream: derived from its id seed. */
static void
app_malware_id(struct buf *b, uint64_t idseed, unsigned i)
{
	struct rng r;
	rng_seed(r.s, idseed + 0x1000 + i);
	app(b, "malware--");
	app_uuid(b, &r);
}

static void
emit_identity(struct gen *g, struct buf *b, size_t i)
{
	app(b, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"");
	app(b, g->identity[i]);
	buf_append_char(b, '"');
	int64_t t = GEN_T0_US - (int64_t)(365 - 20 * i) * DAY_US + 123000;
	app_ts_prop(b, "created", t);
	app_ts_prop(b, "modified", t);
	app_str_prop(b, "name", identities[i].name);
	app(b, ",\"identity_class\":\"organization\",\"sectors\":[\"");
	app(b, identities[i].sectors);
	app(b, "\"]");
	app_str_prop(b, "contact_information", identities[i].contact);
	app_markings(b, 0);
	buf_append_char(b, '}');
	g->st.others++;
}

static uint64_t
gen_idseed(const struct gen *g)
{
	/* stable for the whole stream: hashed from the first identity id */
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = g->identity[0]; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static void
emit_other(struct gen *g, struct buf *b, struct rng *r, uint64_t idseed)
{
	unsigned m = rnd(r, (uint32_t)GEN_MALWARE);
	unsigned ident = rnd(r, GEN_IDENTITIES);
	int64_t t = pick_time(r, GEN_T0_US, 500);
	g->st.others++;
	if (!(g->malware_emitted & (1u << m)) || g->nrecent == 0) {
		g->malware_emitted |= 1u << m;
		app(b, "{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":\"");
		app_malware_id(b, idseed, m);
		buf_append_char(b, '"');
		app_creator(g, b, ident);
		app_ts_prop(b, "created", t);
		app_ts_prop(b, "modified", t);
		app_str_prop(b, "name", malware_names[m]);
		app(b, ",\"is_family\":true,\"malware_types\":[\"");
		app(b, m < 12 ? "trojan" : m == 13 ? "bot" : m == 15 ? "ransomware" : "spyware");
		app(b, "\"]");
		app_markings(b, chance(r, 500) ? 0 : 1);
		buf_append_char(b, '}');
		return;
	}
	size_t n = g->nrecent < GEN_RECENT_MAX ? g->nrecent : GEN_RECENT_MAX;
	const char *ind = g->recent[rnd(r, (uint32_t)n)];
	if (chance(r, 500)) {
		app_common(b, "relationship", r, NULL);
		app_creator(g, b, ident);
		app_ts_prop(b, "created", t);
		app_ts_prop(b, "modified", t);
		app(b, ",\"relationship_type\":\"indicates\",\"source_ref\":\"");
		app(b, ind);
		app(b, "\",\"target_ref\":\"");
		app_malware_id(b, idseed, m);
		buf_append_char(b, '"');
		app_markings(b, pick_tlp(r));
		buf_append_char(b, '}');
		return;
	}
	app_common(b, "sighting", r, NULL);
	app_creator(g, b, ident);
	app_ts_prop(b, "created", t);
	app_ts_prop(b, "modified", t);
	int64_t first = t - (int64_t)rnd(r, 72) * 3600 * 1000000;
	app_ts_prop(b, "first_seen", first);
	app_ts_prop(b, "last_seen", t);
	app(b, ",\"count\":");
	app_u64(b, 1 + rnd(r, 500));
	app(b, ",\"sighting_of_ref\":\"");
	app(b, ind);
	app(b, "\",\"where_sighted_refs\":[\"");
	app(b, g->identity[ident]);
	app(b, "\"]");
	app_markings(b, pick_tlp(r));
	buf_append_char(b, '}');
}

void
gen_init(struct gen *g, uint64_t seed, enum gen_format fmt)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->scratch, 0);
	rng_seed(g->s, seed);
	g->fmt = fmt;
	struct rng r;
	rng_seed(r.s, seed ^ 0x5eed1d5ULL);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < GEN_IDENTITIES; i++) {
		buf_clear(&b);
		app(&b, "identity--");
		app_uuid(&b, &r);
		copy_tail(g->identity[i], &b, 0);
	}
	buf_reset(&b);
}

void
gen_free(struct gen *g)
{
	buf_reset(&g->scratch);
}

void
gen_header(struct gen *g, struct buf *out)
{
	if (g->fmt == GEN_BUNDLE) {
		struct rng r;
		rng_seed(r.s, gen_idseed(g) ^ 0xb0b0);
		app(out, "{\"type\":\"bundle\",\"id\":\"bundle--");
		app_uuid(out, &r);
		app(out, "\",\"objects\":[\n");
	} else if (g->fmt == GEN_CSV) {
		app(out, "kind,value,name,tlp,confidence,valid_from,valid_until,labels\n");
	}
}

void
gen_footer(struct gen *g, struct buf *out)
{
	if (g->fmt == GEN_BUNDLE)
		app(out, "\n]}\n");
}

/* Schedules the next version of an indicator, maybe revoking it. */
static void
schedule(struct gen *g, struct rng *r, uint64_t subseed, unsigned next_version, int64_t after_us)
{
	if (g->pcount == GEN_PENDING_MAX)
		return;
	struct gen_pending *p = &g->pending[(g->phead + g->pcount) % GEN_PENDING_MAX];
	p->subseed = subseed;
	p->version = (uint8_t)next_version;
	p->modified_us = after_us + 3600LL * 1000000 + (int64_t)rnd(r, 30 * 86400) * 1000000 +
	                 rnd(r, 1000) * 1000;
	p->revoked = chance(r, 150);
	g->pcount++;
}

/* The creation time of an indicator, recomputed from its subseed exactly
 * as emit_indicator draws it. */
static int64_t
created_of(uint64_t subseed)
{
	struct rng r;
	rng_seed(r.s, subseed);
	(void)rng_next(r.s);
	(void)rnd(&r, GEN_IDENTITIES);
	return pick_time(&r, GEN_T0_US, 500);
}

enum gen_rec
gen_next(struct gen *g, struct buf *out)
{
	if (g->fmt != GEN_CSV && g->nrecords > 0 && g->fmt == GEN_BUNDLE)
		app(out, ",\n");
	g->nrecords++;
	struct rng r;
	memcpy(r.s, g->s, sizeof(r.s));
	enum gen_rec rec = GEN_REC_INDICATOR;

	if (g->fmt == GEN_CSV) {
		emit_indicator(g, out, rng_next(r.s), 1, 0, false);
		goto out;
	}
	if (g->nidentities < GEN_IDENTITIES) {
		emit_identity(g, out, g->nidentities++);
		rec = GEN_REC_OTHER;
		goto nl;
	}
	uint32_t x = rnd(&r, 1000);
	if (g->pcount && (x < 60 || g->pcount == GEN_PENDING_MAX)) {
		struct gen_pending p = g->pending[g->phead];
		g->phead = (g->phead + 1) % GEN_PENDING_MAX;
		g->pcount--;
		emit_indicator(g, out, p.subseed, p.version, p.modified_us, p.revoked);
		if (p.version < 3 && !p.revoked && chance(&r, 300))
			schedule(g, &r, p.subseed, p.version + 1u, p.modified_us);
		goto nl;
	}
	if (x >= 950 && g->nrecent) {
		emit_other(g, out, &r, gen_idseed(g));
		rec = GEN_REC_OTHER;
		goto nl;
	}
	uint64_t sub = rng_next(r.s);
	emit_indicator(g, out, sub, 1, 0, false);
	if (chance(&r, 55))
		schedule(g, &r, sub, 2, created_of(sub));
nl:
	if (g->fmt == GEN_JSONL)
		buf_append_char(out, '\n');
out:
	memcpy(g->s, r.s, sizeof(r.s));
	return rec;
}
