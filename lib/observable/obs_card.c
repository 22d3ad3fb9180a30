/*
 * obs_card.c — payment cards as a keyed hash, never in clear.
 *
 * A PAN (13-19 digits, spaces and dashes allowed between them, ISO/IEC
 * 7812 Luhn check digit verified) becomes "hmac-sha256:<64 hex>", the
 * HMAC-SHA256 of the digits under the hub's card key, so two hubs sharing
 * a key can match cards without either storing a number. The copy of the
 * digits is wiped before return on every path. A value already in the
 * keyed form is accepted as it is (lowercased): that is what
 * x-tocsin-payment-card objects carry. Without a key a PAN is refused with
 * TC_EUNSUPPORTED. No message ever contains the digits.
 */
#include <nettle/hmac.h>
#include <string.h>

#include "obs_internal.h"

#define OBS_PAN_MIN 13
#define OBS_PAN_MAX 19
#define CARD_PREFIX "hmac-sha256:"

bool
obs__luhn(const char *digits, size_t len)
{
	unsigned sum = 0;
	bool dbl = false;
	for (size_t i = len; i > 0; i--) {
		unsigned v = (unsigned)(digits[i - 1] - '0');
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

static enum tcerr
keyed_form(struct slice in, struct buf *out, struct diag *d)
{
	size_t pl = sizeof(CARD_PREFIX) - 1;
	struct slice hex = slice_make(in.p + pl, in.len - pl);
	if (hex.len != SHA256_DIGEST_SIZE * 2)
		return diag_set(d, TC_EINVAL, "keyed card hash must be %d hex digits",
		                SHA256_DIGEST_SIZE * 2);
	char tmp[SHA256_DIGEST_SIZE * 2];
	for (size_t i = 0; i < hex.len; i++) {
		if (hex_digit(hex.p[i]) < 0)
			return diag_set(d, TC_EINVAL, "keyed card hash contains a non-hex character");
		tmp[i] = obs__lower(hex.p[i]);
	}
	buf_append_cstr(out, CARD_PREFIX);
	buf_append(out, tmp, sizeof(tmp));
	return TC_OK;
}

enum tcerr
obs__card(const struct obs_ctx *ctx, struct slice in, struct buf *out, struct diag *d)
{
	char dig[OBS_PAN_MAX];
	size_t n = 0;
	enum tcerr rc = TC_OK;

	if (obs__prefix_ci(in, CARD_PREFIX))
		return keyed_form(in, out, d);
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == ' ' || c == '-')
			continue;
		if (!obs__is_digit(c)) {
			rc = diag_set(d, TC_EINVAL,
			              "not a card number: only digits, spaces and dashes are allowed");
			goto out;
		}
		if (n == OBS_PAN_MAX) {
			rc = diag_set(d, TC_EINVAL, "card number has more than %d digits", OBS_PAN_MAX);
			goto out;
		}
		dig[n++] = c;
	}
	if (n < OBS_PAN_MIN) {
		rc = diag_set(d, TC_EINVAL, "card number has fewer than %d digits", OBS_PAN_MIN);
		goto out;
	}
	if (!obs__luhn(dig, n)) {
		rc = diag_set(d, TC_EINVAL, "card number fails the Luhn check");
		goto out;
	}
	if (!ctx || !ctx->card_key || ctx->card_key_len == 0) {
		rc = diag_set(d, TC_EUNSUPPORTED,
		              "payment cards need a card key (none is configured)");
		goto out;
	}
	struct hmac_sha256_ctx h;
	uint8_t mac[SHA256_DIGEST_SIZE];
	hmac_sha256_set_key(&h, ctx->card_key_len, ctx->card_key);
	hmac_sha256_update(&h, n, (const uint8_t *)dig);
	hmac_sha256_digest(&h, sizeof(mac), mac);
	explicit_bzero(&h, sizeof(h));
	buf_append_cstr(out, CARD_PREFIX);
	buf_append_hex(out, mac, sizeof(mac));
out:
	explicit_bzero(dig, sizeof(dig));
	return rc;
}
