/*
 * webhook_sign.c — the signature of a delivery and the retry schedule.
 *
 * The signed material is TIMESTAMP "." BODY, byte for byte as sent, so a
 * receiver checks the raw body before parsing it, and a recorded delivery
 * replayed later carries an old timestamp the receiver refuses (the
 * timestamp cannot be changed without the secret). Invariant: the
 * secret is only ever read here, never copied.
 */
#include <inttypes.h>
#include <nettle/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "webhook/webhook.h"

void
webhook_sign(struct slice secret, int64_t timestamp, struct slice body,
             char out[WEBHOOK_SIG_TEXT_MAX])
{
	static const char hexd[] = "0123456789abcdef";
	struct hmac_sha256_ctx h;
	uint8_t mac[SHA256_DIGEST_SIZE];
	char ts[24];
	int n = snprintf(ts, sizeof ts, "%" PRId64 ".", timestamp);

	hmac_sha256_set_key(&h, secret.len, (const uint8_t *)secret.p);
	hmac_sha256_update(&h, (size_t)n, (const uint8_t *)ts);
	hmac_sha256_update(&h, body.len, (const uint8_t *)body.p);
	hmac_sha256_digest(&h, sizeof mac, mac);
	memcpy(out, "sha256=", 7);
	for (size_t i = 0; i < sizeof mac; i++) {
		out[7 + 2 * i] = hexd[mac[i] >> 4];
		out[8 + 2 * i] = hexd[mac[i] & 15];
	}
	out[7 + 2 * sizeof mac] = '\0';
	sodium_memzero(&h, sizeof h);
}

bool
webhook_verify(struct slice secret, int64_t timestamp, struct slice body, struct slice header)
{
	char want[WEBHOOK_SIG_TEXT_MAX];
	webhook_sign(secret, timestamp, body, want);
	if (header.len != strlen(want))
		return false;
	return sodium_memcmp(want, header.p, header.len) == 0;
}

uint64_t
webhook_backoff_us(unsigned n, uint64_t initial_us, uint64_t max_us, uint32_t rnd)
{
	if (max_us == 0)
		max_us = 1;
	if (initial_us == 0)
		initial_us = 1;
	uint64_t delay = initial_us;
	for (unsigned i = 1; i < n && delay < max_us; i++)
		delay = delay > max_us / 2 ? max_us : delay * 2;
	if (delay > max_us)
		delay = max_us;
	/* "equal jitter": half fixed, half random */
	uint64_t half = delay / 2;
	uint64_t range = delay - half + 1; /* j in [0, range) */
	uint64_t j = range >> 32 ? (uint64_t)rnd * (range >> 32) : ((uint64_t)rnd * range) >> 32;
	uint64_t r = half + j;
	return r ? r : 1;
}
