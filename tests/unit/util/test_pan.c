/*
 * Unit tests of lib/util/pan.c: which texts may hold a card number and so
 * are never quoted in a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/pan.h"

static void
test_suspect(void **state)
{
	(void)state;
	assert_true(pan_suspect(SLICE_LIT("4111111111111111")));
	assert_true(pan_suspect(SLICE_LIT("'4111 1111 1111 1111'")));
	assert_true(pan_suspect(SLICE_LIT("x4111-1111-1111-1111y")));
	assert_true(pan_suspect(SLICE_LIT("1234567890123"))); /* 13 digits, no Luhn needed */
	assert_false(pan_suspect(SLICE_LIT("123456789012")));  /* 12 */
	assert_false(pan_suspect(SLICE_LIT("2016-04-06T20:03:48.000Z")));
	assert_false(pan_suspect(SLICE_LIT("198.51.100.7")));
	assert_false(pan_suspect(SLICE_LIT("+79991234567")));
	/* two separators in a row end the run */
	assert_false(pan_suspect(SLICE_LIT("4111111  111111")));
	assert_false(pan_suspect(SLICE_LIT("")));
	/* wide on purpose: hex may hold a long digit run and is then not quoted */
	assert_true(pan_suspect(SLICE_LIT("hmac-sha256:0622241201382a45912fb22828b3f7db")));
	assert_false(pan_suspect(SLICE_LIT("hmac-sha256:8ea1b2c3d4e5f6a7b8c9d0e1f2a3b4c5")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suspect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
