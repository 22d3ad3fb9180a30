/*
 * fuzz_observable.c — one fuzz target per observable kind (chosen at
 * compile time with -DFUZZ_KIND_<KIND>) plus one for obs_classify().
 *
 * Besides memory safety it checks the fixed-point invariant: whatever is
 * accepted must normalise again, as the kind it came out as, to the same
 * bytes; it also checks that nothing is left appended on error and that a
 * card number is never echoed; for URLs, that a URL taken as plain
 * (obs__url_is_plain, no libcurl) is what libcurl's path makes of it too.
 * It aborts otherwise. Cards use a fixed test
 * key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "observable/obs_internal.h"
#include "observable/observable.h"

#if defined(FUZZ_KIND_IPV4)
#define KIND OBS_IPV4
#elif defined(FUZZ_KIND_IPV6)
#define KIND OBS_IPV6
#elif defined(FUZZ_KIND_DOMAIN)
#define KIND OBS_DOMAIN
#elif defined(FUZZ_KIND_URL)
#define KIND OBS_URL
#elif defined(FUZZ_KIND_EMAIL)
#define KIND OBS_EMAIL
#elif defined(FUZZ_KIND_SHA256)
#define KIND OBS_SHA256
#elif defined(FUZZ_KIND_PHONE)
#define KIND OBS_PHONE
#elif defined(FUZZ_KIND_BANK_ACCOUNT)
#define KIND OBS_BANK_ACCOUNT
#elif defined(FUZZ_KIND_CARD)
#define KIND OBS_CARD
#elif defined(FUZZ_KIND_WALLET)
#define KIND OBS_WALLET
#elif defined(FUZZ_KIND_ASN)
#define KIND OBS_ASN
#elif defined(FUZZ_KIND_CLASSIFY)
#define KIND 0
#else
#error "define one FUZZ_KIND_*"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[OBS_CARD_KEY_LEN] = "tocsin-fuzz-card-key-0123456789";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct obs_ctx ctx = { .card_key = fuzz_key, .card_key_len = sizeof(fuzz_key) };
	struct slice in = slice_make((const char *)data, size);
	struct buf out, again;
	struct diag d;
	enum obs_kind kind = (enum obs_kind)KIND;
	enum tcerr rc;

	buf_init(&out, 0);
	buf_init(&again, 0);
#if KIND == OBS_URL
	if (obs__url_is_plain(in)) {
		if (obs__url_curl(in, &again, &d) != TC_OK || !slice_eq(in, buf_slice(&again)))
			abort(); /* the fast path would differ */
		buf_clear(&again);
	}
#endif
	buf_append_cstr(&out, "x");
#if KIND == 0
	rc = obs_classify(&ctx, in, &kind, &out, &d);
#else
	rc = obs_normalize(&ctx, kind, in, &out, &d);
#endif
	if (rc != TC_OK) {
		if (out.len != 1)
			abort(); /* output left behind on error */
		goto done;
	}
	struct slice got = slice_make(out.p + 1, out.len - 1);
	if (got.len == 0 || memchr(got.p, '\0', got.len))
		abort();
	/* an IPv4-mapped address normalises as ipv4 */
	if (kind == OBS_IPV6 && !memchr(got.p, ':', got.len))
		kind = OBS_IPV4;
	rc = obs_normalize(&ctx, kind, got, &again, &d);
	if (rc != TC_OK || !slice_eq(got, buf_slice(&again)))
		abort(); /* not a fixed point */
	if (kind == OBS_CARD && (got.len != 12 + 64 || memcmp(got.p, "hmac-sha256:", 12) != 0))
		abort();
	/* the pattern of an accepted value names a path that maps back */
	buf_clear(&again);
	obs_to_pattern(kind, got, &again);
	if (buf_error(&again) != TC_OK || again.len < got.len)
		abort();
done:
	buf_reset(&out);
	buf_reset(&again);
	return 0;
}
