/*
 * obs_wallet.c — cryptocurrency addresses as "<chain>:<address>".
 *
 * btc: base58check P2PKH (version 0x00, "1...") or P2SH (0x05, "3...")
 * with the double-SHA-256 checksum verified, or a bech32 (BIP-173, witness
 * version 0) / bech32m (BIP-350, versions 1-16) "bc1" address with its
 * checksum and program length verified, written lowercase. ltc: the same
 * with versions 0x30 ("L"), 0x32 ("M"), 0x05 and prefix "ltc1". trx:
 * base58check version 0x41 ("T..."). eth: "0x" and 40 hex digits,
 * lowercased (the EIP-55 mixed-case checksum is not verified: it needs
 * Keccak-256, which nettle does not offer). xmr: 95 or 106 base58
 * characters starting with 4 or 8; only the format is checked (the
 * checksum is Keccak too). Base58 addresses are case-sensitive and kept
 * as written. Input may carry the chain ("btc:1A1z...") or not: then it
 * is guessed from the form.
 */
#include <nettle/sha2.h>
#include <string.h>

#include "obs_internal.h"
#include "util/pan.h"

#define B58CHECK_LEN 25 /* version, 20-byte hash, 4-byte checksum */
#define B58_TEXT_MAX 40
#define BECH32_MAX 90   /* BIP-173 */
#define XMR_LEN_STD 95
#define XMR_LEN_INTEGRATED 106

enum chain { CH_NONE, CH_BTC, CH_ETH, CH_LTC, CH_TRX, CH_XMR };
static const char *const chain_names[] = { "", "btc", "eth", "ltc", "trx", "xmr" };

static const char b58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int
b58_val(char c)
{
	const char *p = c ? strchr(b58_alphabet, c) : NULL;
	return p ? (int)(p - b58_alphabet) : -1;
}

/* Decodes base58 text into exactly B58CHECK_LEN bytes; false if it does
 * not decode to that length. */
static bool
b58_decode25(struct slice s, uint8_t outb[B58CHECK_LEN])
{
	uint8_t num[B58CHECK_LEN + 8] = { 0 };
	const size_t nb = sizeof(num);
	size_t zeros = 0;
	if (s.len == 0 || s.len > B58_TEXT_MAX)
		return false;
	while (zeros < s.len && s.p[zeros] == '1')
		zeros++;
	for (size_t i = 0; i < s.len; i++) {
		int v = b58_val(s.p[i]);
		if (v < 0)
			return false;
		unsigned carry = (unsigned)v;
		for (size_t k = nb; k > 0; k--) {
			carry += 58u * num[k - 1];
			num[k - 1] = (uint8_t)carry;
			carry >>= 8;
		}
		if (carry)
			return false;
	}
	size_t lead = 0;
	while (lead < nb && num[lead] == 0)
		lead++;
	size_t sig = nb - lead;
	if (sig + zeros != B58CHECK_LEN)
		return false;
	memcpy(outb, num + nb - B58CHECK_LEN, B58CHECK_LEN);
	return true;
}

static bool
b58check(struct slice s, uint8_t *version)
{
	uint8_t raw[B58CHECK_LEN], h[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;
	if (!b58_decode25(s, raw))
		return false;
	sha256_init(&c);
	sha256_update(&c, 21, raw);
	sha256_digest(&c, sizeof(h), h);
	sha256_update(&c, sizeof(h), h);
	sha256_digest(&c, sizeof(h), h);
	if (memcmp(h, raw + 21, 4) != 0)
		return false;
	*version = raw[0];
	return true;
}

/* BIP-173 checksum polymod. */
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

#define BECH32_CONST 1u
#define BECH32M_CONST 0x2bc830a3u /* BIP-350 */

/* Verifies a segwit address for hrp; appends it lowercase. */
static enum tcerr
segwit(struct slice s, const char *hrp, struct buf *out, struct diag *d)
{
	static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	size_t hl = strlen(hrp);
	bool lower = false, upper = false;
	char low[BECH32_MAX];
	uint8_t v[2 * 8 + 1 + BECH32_MAX];
	if (s.len > BECH32_MAX)
		return diag_set(d, TC_EINVAL, "bech32 address longer than %d characters", BECH32_MAX);
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c >= 'a' && c <= 'z')
			lower = true;
		if (c >= 'A' && c <= 'Z')
			upper = true;
		low[i] = obs__lower(c);
	}
	if (lower && upper)
		return diag_set(d, TC_EINVAL, "bech32 address mixes upper and lower case");
	if (s.len < hl + 1 + 6 + 1 || memcmp(low, hrp, hl) != 0 || low[hl] != '1')
		return diag_set(d, TC_EINVAL, "not a %s1 bech32 address", hrp);
	size_t nd = s.len - hl - 1;
	size_t n = 0;
	for (size_t i = 0; i < hl; i++)
		v[n++] = (uint8_t)(hrp[i] >> 5);
	v[n++] = 0;
	for (size_t i = 0; i < hl; i++)
		v[n++] = (uint8_t)(hrp[i] & 31);
	size_t data0 = n;
	for (size_t i = 0; i < nd; i++) {
		const char *p = low[hl + 1 + i] ? strchr(charset, low[hl + 1 + i]) : NULL;
		if (!p)
			return diag_set(d, TC_EINVAL, "bech32 address contains '%c'",
			                (low[hl + 1 + i] > 0x20 && low[hl + 1 + i] < 0x7f)
			                        ? low[hl + 1 + i]
			                        : '?');
		v[n++] = (uint8_t)(p - charset);
	}
	uint32_t pm = bech32_polymod(v, n);
	unsigned wv = v[data0];
	if (wv > 16)
		return diag_set(d, TC_EINVAL, "segwit version above 16");
	uint32_t want = wv == 0 ? BECH32_CONST : BECH32M_CONST;
	if (pm != want)
		return diag_set(d, TC_EINVAL, "%s checksum does not match",
		                wv == 0 ? "bech32" : "bech32m");
	/* program: the 5-bit groups after the version, without the checksum */
	size_t bits = 0, plen = 0;
	uint32_t acc = 0;
	for (size_t i = data0 + 1; i < n - 6; i++) {
		acc = (acc << 5 | v[i]) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			plen++;
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return diag_set(d, TC_EINVAL, "bech32 address has non-zero padding");
	if (plen < 2 || plen > 40 || (wv == 0 && plen != 20 && plen != 32))
		return diag_set(d, TC_EINVAL, "segwit program of %zu bytes is not valid for version %u",
		                plen, wv);
	buf_append(out, low, s.len);
	return TC_OK;
}

static enum tcerr
base58_chain(enum chain ch, struct slice s, struct buf *out, struct diag *d)
{
	uint8_t ver;
	if (!b58check(s, &ver))
		return diag_set(d, TC_EINVAL, "%s address: base58check checksum does not match",
		                chain_names[ch]);
	bool ok = (ch == CH_BTC && (ver == 0x00 || ver == 0x05)) ||
	          (ch == CH_LTC && (ver == 0x30 || ver == 0x32 || ver == 0x05)) ||
	          (ch == CH_TRX && ver == 0x41);
	if (!ok)
		return diag_set(d, TC_EINVAL, "%s address has version byte 0x%02x", chain_names[ch],
		                ver);
	buf_append(out, s.p, s.len);
	return TC_OK;
}

static enum tcerr
address(enum chain ch, struct slice s, struct buf *out, struct diag *d)
{
	switch (ch) {
	case CH_BTC:
		if (obs__prefix_ci(s, "bc1"))
			return segwit(s, "bc", out, d);
		return base58_chain(ch, s, out, d);
	case CH_LTC:
		if (obs__prefix_ci(s, "ltc1"))
			return segwit(s, "ltc", out, d);
		return base58_chain(ch, s, out, d);
	case CH_TRX:
		return base58_chain(ch, s, out, d);
	case CH_ETH:
		if (s.len != 42 || s.p[0] != '0' || (s.p[1] != 'x' && s.p[1] != 'X'))
			return diag_set(d, TC_EINVAL, "eth address must be 0x and 40 hex digits");
		buf_append_cstr(out, "0x");
		for (size_t i = 2; i < s.len; i++) {
			if (hex_digit(s.p[i]) < 0) {
				return diag_set(d, TC_EINVAL, "eth address must be 0x and 40 hex digits");
			}
			buf_append_char(out, obs__lower(s.p[i]));
		}
		return TC_OK;
	case CH_XMR:
		if ((s.len != XMR_LEN_STD && s.len != XMR_LEN_INTEGRATED) ||
		    (s.p[0] != '4' && s.p[0] != '8'))
			return diag_set(d, TC_EINVAL,
			                "xmr address must be 95 or 106 base58 characters starting with "
			                "4 or 8");
		for (size_t i = 0; i < s.len; i++)
			if (b58_val(s.p[i]) < 0)
				return diag_set(d, TC_EINVAL, "xmr address contains a non-base58 character");
		buf_append(out, s.p, s.len);
		return TC_OK;
	default:
		return diag_set(d, TC_EINVAL, "unknown chain");
	}
}

static enum chain
guess(struct slice s)
{
	if (s.len >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X'))
		return CH_ETH;
	if (obs__prefix_ci(s, "bc1"))
		return CH_BTC;
	if (obs__prefix_ci(s, "ltc1"))
		return CH_LTC;
	if (s.len == 34 && s.p[0] == 'T')
		return CH_TRX;
	if ((s.len == XMR_LEN_STD || s.len == XMR_LEN_INTEGRATED) && (s.p[0] == '4' || s.p[0] == '8'))
		return CH_XMR;
	if (s.len && (s.p[0] == '1' || s.p[0] == '3'))
		return CH_BTC;
	if (s.len && (s.p[0] == 'L' || s.p[0] == 'M'))
		return CH_LTC;
	return CH_NONE;
}

enum tcerr
obs__wallet(struct slice in, struct buf *out, struct diag *d)
{
	enum chain ch = CH_NONE;
	const char *colon = memchr(in.p, ':', in.len);
	if (colon) {
		struct slice name = slice_make(in.p, (size_t)(colon - in.p));
		for (int c = CH_BTC; c <= CH_XMR; c++)
			if (name.len == 3 && obs__prefix_ci(name, chain_names[c]))
				ch = (enum chain)c;
		if (ch == CH_NONE)
			return diag_set(d, TC_EINVAL,
			                "unknown chain '%.*s': btc, eth, ltc, trx or xmr expected",
			                pan_suspect(name) ? 12 : (int)(name.len > 16 ? 16 : name.len),
			                pan_suspect(name) ? "(not quoted)" : name.p);
		in = slice_make(colon + 1, in.len - name.len - 1);
	} else {
		ch = guess(in);
		if (ch == CH_NONE)
			return diag_set(d, TC_EINVAL,
			                "not a recognised wallet address (btc, eth, ltc, trx, xmr)");
	}
	if (in.len == 0)
		return diag_set(d, TC_EINVAL, "empty wallet address");
	buf_append_cstr(out, chain_names[ch]);
	buf_append_char(out, ':');
	return address(ch, in, out, d);
}
