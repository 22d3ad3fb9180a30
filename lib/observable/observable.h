/*
 * observable.h — normalised, classified observable values.
 *
 * An observable is a (kind, value) pair in one canonical text form so that
 * equal things compare equal byte for byte: "::FFFF:1.2.3.4" becomes
 * "1.2.3.4" and "Exämple.COM." becomes "xn--exmple-cua.com"; ambiguous
 * forms such as "001.2.3.4" are rejected rather than guessed. Everything the index, the
 * store and the export see is normalised here, and only here.
 *
 * Canonical forms (the value text after normalisation):
 *   ipv4          dotted quad "192.0.2.1", or a network "192.0.2.0/24"
 *                 (host bits must be zero; "/32" is dropped)
 *   ipv6          RFC 5952 text "2001:db8::1", or "2001:db8::/32";
 *                 IPv4-mapped ::ffff:a.b.c.d is reported as kind ipv4
 *   domain        lowercase A-labels (IDNA 2008 via libidn2), no trailing dot
 *   url           libcurl-normalised: scheme and host lowercase, IDN host
 *                 in punycode, default port removed, dot segments removed,
 *                 percent-encoding of unreserved characters decoded and of
 *                 the rest uppercased; fragment dropped
 *   email         local part as written, domain as a domain
 *   md5 sha1 sha256 sha512 streebog256 streebog512
 *                 lowercase hex of the exact length
 *   phone         E.164 "+79991234567" (8 → +7 for Russian national form)
 *   bank-account  IBAN "DE89370400440532013000" (check digits verified), or
 *                 national "RU:044525225:30101810400000000225" (country,
 *                 bank code, account; the Russian control key verified)
 *   card          "hmac-sha256:<hex>" keyed hash of the Luhn-checked PAN;
 *                 the PAN itself is never kept
 *   wallet        "<chain>:<address>": btc (base58check or bech32/bech32m
 *                 verified), eth (0x + 40 hex, lowercased), xmr, trx, ltc...
 *   asn           "AS64496"
 */
#ifndef TOCSIN_OBSERVABLE_H
#define TOCSIN_OBSERVABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

enum obs_kind {
	OBS_IPV4 = 1,
	OBS_IPV6,
	OBS_DOMAIN,
	OBS_URL,
	OBS_EMAIL,
	OBS_MD5,
	OBS_SHA1,
	OBS_SHA256,
	OBS_SHA512,
	OBS_STREEBOG256,
	OBS_STREEBOG512,
	OBS_PHONE,
	OBS_BANK_ACCOUNT,
	OBS_CARD,
	OBS_WALLET,
	OBS_ASN,
};
#define OBS_KIND_MAX OBS_ASN

#define OBS_VALUE_MAX 2048  /* longest input value accepted (URLs included) */
#define OBS_CARD_KEY_LEN 32

/* What normalisation needs beyond the value: the hub's secret key for
 * payment-card hashes. Without a key (card_key == NULL) cards are refused
 * with TC_EUNSUPPORTED. */
struct obs_ctx {
	const uint8_t *card_key;
	size_t card_key_len;
	/* obs_breadth_check: the widest network an indicator may name, as a
	 * prefix length; 0 = OBS_WIDEST_PREFIX_V4 / _V6. */
	unsigned widest_prefix_v4;
	unsigned widest_prefix_v6;
	/* The hub's provenance hash (enum hubkey_alg, lib/prov): hub_prepare
	 * computes each object's Merkle leaf with it in the request thread;
	 * 0: the hub signs no provenance. */
	int prov_alg;
	/* This hub's id ("<alg>:<hex>", lib/prov); its own provenance on an
	 * object posted back (an export imported again) is dropped and the
	 * object signed again. NULL: none. */
	const char *prov_hub_id;
};

#define OBS_WIDEST_PREFIX_V4 8  /* default: /8 is the widest IPv4 block */
#define OBS_WIDEST_PREFIX_V6 32 /* default: /32, a typical ISP allocation */

/* "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256",
 * "sha512", "streebog256", "streebog512", "phone", "bank-account", "card",
 * "wallet", "asn". */
const char *obs_kind_name(enum obs_kind k);
/* Inverse of obs_kind_name (also accepts common aliases: "ip" is not one,
 * but "domain-name", "ipv4-addr", "email-addr", "sha-256"... are).
 * Returns TC_OK or TC_EINVAL. */
enum tcerr obs_kind_parse(struct slice name, enum obs_kind *out);

/* Normalises in as kind into out (appended). Leading and trailing
 * whitespace is ignored. An IPv4-mapped address given as ipv6 is written
 * in its IPv4 form ("1.2.3.4"): its kind is ipv4, which a caller learns
 * from obs_classify(); "::ffff:1.2.3.4" given as ipv4 is accepted too.
 * On error nothing is appended. The message never repeats the value.
 * Errors: TC_EINVAL with a message saying why ("not an IPv4 address",
 * "IBAN check digits do not match"), TC_ELIMIT, TC_EUNSUPPORTED (card
 * without key), TC_ENOMEM. */
enum tcerr obs_normalize(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in,
                         struct buf *out, struct diag *d);

/* Guesses the kind of a free-form value (as typed to `tocsin match` or in a
 * CSV row without a kind) and normalises it. Order of guesses: IP/CIDR,
 * URL (has "://"), email, hash by length (32 md5, 40 sha1, 64 sha256,
 * 128 sha512: Streebog only when the kind is given), phone ("+..." or the
 * Russian "8 XXX XXX-XX-XX"), bank account (IBAN, "CC:..." or "BIK
 * account"), card ("hmac-sha256:..." or 13-19 digits), wallet, ASN
 * ("AS123" or digits), domain (has a dot). Once a guess is made the value
 * must normalise as that kind: "01.2.3.4" is an error ("looks like ipv4:
 * ..."), not a domain. OUT: *kind. Errors as obs_normalize. */
enum tcerr obs_classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind,
                        struct buf *out, struct diag *d);

/* Maps a STIX object path as stix_pattern_exact() writes it
 * ("ipv4-addr:value", "file:hashes.'SHA-256'", "x-tocsin-phone-number:value",
 * "network-traffic:dst_ref.value", "email-message:from_ref.value",
 * "autonomous-system:number") to the kind of its values.
 * Returns false if the path is not an observable tocsin indexes. */
bool obs_kind_from_stix_path(const char *path_text, enum obs_kind *out);

/* Whether blocking (kind, normalised value) would block far more than
 * one threat — what an indicator must never ask for: "0.0.0.0/0", "::/0",
 * a network wider than ctx's widest_prefix_v4 / _v6, a bare top-level
 * domain ("com") or a public suffix ("co.uk", "github.io": the Public
 * Suffix List through libpsl, private-domain section included, the
 * newest of the system's list and libpsl's built-in one). Other kinds
 * pass. ctx may be NULL (the defaults). Returns TC_OK, or TC_EINVAL with
 * a message naming the value and the limit ("'0.0.0.0/0' would block
 * every IPv4 address"; "'45.0.0.0/7' is wider than /8
 * (widest_prefix_v4)"; "'co.uk' is a public suffix: blocking it would
 * block every name under it"). */
enum tcerr obs_breadth_check(const struct obs_ctx *ctx, enum obs_kind kind, struct slice value,
                             struct diag *d);

/* Builds a one-observation STIX pattern for (kind, normalised value), e.g.
 * [domain-name:value = 'evil.example']. Appended to out. */
void obs_to_pattern(enum obs_kind kind, struct slice value, struct buf *out);

/* Called once per observable found in an object. */
typedef enum tcerr (*obs_extract_cb)(void *cbctx, enum obs_kind kind, struct slice value);

/* Extracts the observables of a validated object: the indexed property of
 * an SCO (ipv4-addr value, file hashes, x-tocsin-* value...), and for an
 * indicator with pattern_type "stix" the sufficient exact values of its
 * pattern (see stix_pattern.h). Values are reported normalised; each
 * distinct (kind, value) once. A value of a known kind that does not
 * normalise is an error (TC_EINVAL, "pattern: 'x' is not an IPv4 address")
 * because a hub must not index garbage it cannot match. */
enum tcerr obs_extract(const struct obs_ctx *ctx, const json_t *obj,
                       const struct stix_meta *meta, obs_extract_cb cb, void *cbctx,
                       struct diag *d);

/* Keeps payment card numbers out of obj before it is stored
 * (docs/extensions.md, "Card numbers at the door"):
 *  - indicator (pattern_type "stix", or none as in STIX 2.0): every string
 *    compared with an x-tocsin-payment-card path that holds a digit and is
 *    not already "hmac-sha256:<hex>" must be a card number compared with
 *    =, != or IN; it is replaced by its keyed hash and the pattern is
 *    printed again canonically (stix_pattern_print) into obj's "pattern".
 *    *rewritten is then true: obj's received text is no longer its text.
 *  - x-tocsin-payment-card: value must be the keyed hash, and the id random
 *    (UUIDv4) or the UUIDv5 of the keyed value; a card number is refused.
 *  - observed-data: an x-tocsin-payment-card in "objects" likewise.
 * Other properties (description, other paths) are not examined.
 * meta may be NULL (obj's type is read). Messages never quote a value.
 * OUT: *rewritten. Errors: TC_EINVAL (refused; obj unchanged),
 * TC_EUNSUPPORTED (a card number and no key: "... DATA/card.key ..."),
 * TC_ENOMEM (obj may hold the new pattern or not: drop it). */
enum tcerr obs_cards_protect(const struct obs_ctx *ctx, json_t *obj,
                             const struct stix_meta *meta, bool *rewritten, struct diag *d);

/* ids of the extension definitions tocsin ships (data/extensions/<type>.json),
 * fixed forever. */
#define TOCSIN_EXT_PHONE "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c01"
#define TOCSIN_EXT_BANK_ACCOUNT "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c02"
#define TOCSIN_EXT_CARD "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c03"
#define TOCSIN_EXT_WALLET "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c04"
/* SCO type names for them */
#define TOCSIN_TYPE_PHONE "x-tocsin-phone-number"
#define TOCSIN_TYPE_BANK_ACCOUNT "x-tocsin-bank-account"
#define TOCSIN_TYPE_CARD "x-tocsin-payment-card"
#define TOCSIN_TYPE_WALLET "x-tocsin-crypto-wallet"

#endif
