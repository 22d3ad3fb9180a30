/*
 * obs_asn.c — autonomous system numbers as "AS<n>".
 *
 * "AS64496", "as64496" and "64496" are the same ASN; the number is 1 to
 * 4294967295 (RFC 6793 four-octet ASNs; 0 is reserved by RFC 7607) in
 * plain decimal without leading zeros. The "asdot" form "AS1.10" is not
 * accepted.
 */
#include "obs_internal.h"

#define OBS_ASN_MAX 4294967295ULL

enum tcerr
obs__asn(struct slice in, struct buf *out, struct diag *d)
{
	if (obs__prefix_ci(in, "AS")) {
		in.p += 2;
		in.len -= 2;
	}
	if (in.len == 0)
		return diag_set(d, TC_EINVAL, "not an AS number: no digits");
	if (in.len > 10)
		return diag_set(d, TC_EINVAL, "AS number out of range 1-4294967295");
	unsigned long long v = 0;
	for (size_t i = 0; i < in.len; i++) {
		if (!obs__is_digit(in.p[i])) {
			if (in.p[i] == '.')
				return diag_set(d, TC_EINVAL,
				                "asdot notation is not accepted: write the plain number");
			return diag_set(d, TC_EINVAL, "not an AS number: digits expected");
		}
		v = v * 10 + (unsigned)(in.p[i] - '0');
	}
	if (in.len > 1 && in.p[0] == '0')
		return diag_set(d, TC_EINVAL, "AS number has leading zeros");
	if (v == 0 || v > OBS_ASN_MAX)
		return diag_set(d, TC_EINVAL, "AS number out of range 1-4294967295");
	buf_printf(out, "AS%llu", v);
	return TC_OK;
}
