/*
 * obs_hash.c — file hashes as lowercase hex of the exact length.
 *
 * The length is the only check a hash allows: 32 hex digits for MD5, 40
 * for SHA-1, 64 for SHA-256 and GOST R 34.11-2012 (Streebog) 256, 128 for
 * SHA-512 and Streebog 512.
 */
#include "obs_internal.h"

static size_t
hash_len(enum obs_kind kind)
{
	switch (kind) {
	case OBS_MD5:
		return 32;
	case OBS_SHA1:
		return 40;
	case OBS_SHA256:
	case OBS_STREEBOG256:
		return 64;
	case OBS_SHA512:
	case OBS_STREEBOG512:
		return 128;
	default:
		return 0;
	}
}

enum tcerr
obs__hash(enum obs_kind kind, struct slice in, struct buf *out, struct diag *d)
{
	size_t want = hash_len(kind);
	char tmp[128];
	if (in.len != want)
		return diag_set(d, TC_EINVAL, "%s hash must be %zu hex digits, not %zu",
		                obs_kind_name(kind), want, in.len);
	for (size_t i = 0; i < in.len; i++) {
		if (hex_digit(in.p[i]) < 0)
			return diag_set(d, TC_EINVAL, "%s hash contains a non-hex character at %zu",
			                obs_kind_name(kind), i + 1);
		tmp[i] = obs__lower(in.p[i]);
	}
	buf_append(out, tmp, want);
	return TC_OK;
}
