/*
 * obs_test.h — the table runner shared by the observable unit tests.
 *
 * A case is an input and either the canonical text it must normalise to
 * (which must itself normalise to the same text: the fixed-point
 * invariant) or a substring of the error message it must produce.
 */
#ifndef TOCSIN_OBS_TEST_H
#define TOCSIN_OBS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "observable/observable.h"

struct ncase {
	const char *in;
	const char *want; /* canonical form, or NULL if in must be refused */
	const char *err;  /* substring of the message when want is NULL */
};

static const uint8_t test_card_key[OBS_CARD_KEY_LEN] = {
	0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
static const struct obs_ctx test_ctx = { .card_key = test_card_key, .card_key_len = sizeof(test_card_key) };

static inline void
run_cases(enum obs_kind kind, const struct ncase *c, size_t n, size_t min_valid,
          size_t min_invalid)
{
	size_t nvalid = 0, ninvalid = 0;
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		struct diag d;
		buf_init(&b, 0);
		diag_clear(&d);
		buf_append_cstr(&b, "pre|"); /* normalisation appends */
		enum tcerr rc = obs_normalize(&test_ctx, kind, slice_from_cstr(c[i].in), &b, &d);
		if (c[i].want) {
			if (rc != TC_OK || strcmp(b.p + 4, c[i].want) != 0)
				fail_msg("%s '%s': want '%s', got rc %d '%s' (%s)",
				         obs_kind_name(kind), c[i].in, c[i].want, rc, b.p + 4, d.msg);
			/* fixed point */
			struct buf b2;
			buf_init(&b2, 0);
			/* an IPv4-mapped IPv6 address comes out as ipv4 */
			enum obs_kind again = kind == OBS_IPV6 && !strchr(c[i].want, ':') ? OBS_IPV4 : kind;
			rc = obs_normalize(&test_ctx, again, slice_from_cstr(c[i].want), &b2, &d);
			if (rc != TC_OK || strcmp(b2.p, c[i].want) != 0)
				fail_msg("%s '%s' is not a fixed point: '%s' (%s)", obs_kind_name(kind),
				         c[i].want, b2.p ? b2.p : "", d.msg);
			buf_reset(&b2);
			nvalid++;
		} else {
			if (rc == TC_OK)
				fail_msg("%s '%s': accepted as '%s', want error '%s'",
				         obs_kind_name(kind), c[i].in, b.p + 4, c[i].err);
			if (!strstr(d.msg, c[i].err))
				fail_msg("%s '%s': message '%s' lacks '%s'", obs_kind_name(kind),
				         c[i].in, d.msg, c[i].err);
			/* nothing is left appended on error */
			if (strcmp(b.p, "pre|") != 0)
				fail_msg("%s '%s': output left behind: '%s'", obs_kind_name(kind),
				         c[i].in, b.p);
			ninvalid++;
		}
		buf_reset(&b);
	}
	assert_true(nvalid >= min_valid);
	assert_true(ninvalid >= min_invalid);
}

#define RUN(kind, table) run_cases(kind, table, sizeof(table) / sizeof(table[0]), 15, 10)

#endif
