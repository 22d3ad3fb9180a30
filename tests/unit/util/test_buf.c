/* Unit tests of lib/util/buf.c: growth, the hard cap and the sticky error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void
test_append_and_detach(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_int_equal(buf_error(&b), TC_OK);
	assert_true(strncmp(b.p, "0,1,2,", 6) == 0);
	assert_int_equal(b.p[b.len], '\0');
	size_t len;
	char *p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_int_equal(strlen(p), len);
	assert_null(b.p);
	free(p);
}

static void
test_cap_is_sticky(void **state)
{
	struct buf b;
	buf_init(&b, 8);
	buf_append_cstr(&b, "12345");
	buf_append_cstr(&b, "6789"); /* would make 9 > 8 */
	assert_int_equal(buf_error(&b), TC_ELIMIT);
	assert_string_equal(b.p, "12345");
	buf_append_cstr(&b, "a"); /* dropped: the error is sticky */
	assert_string_equal(b.p, "12345");
	assert_null(buf_detach(&b, NULL));
	buf_reset(&b);
}

static void
test_json_string(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_json_str(&b, slice_make("a\"b\\c\n\x01", 7));
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_clear(&b);
	/* DEL is escaped too, so no control byte reaches a terminal */
	buf_append_json_str(&b, slice_make("x\x7fy", 3));
	assert_string_equal(b.p, "\"x\\u007fy\"");
	buf_reset(&b);
}

/* RFC 8259 §8.1: the output is UTF-8 whatever the input; valid sequences
 * pass, each bad byte becomes U+FFFD (a message quoting bad input, a text
 * cut in the middle of a character). */
static void
test_json_string_utf8(void **state)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_json_str(&b, slice_from_cstr("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	assert_string_equal(b.p, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	buf_clear(&b);
	/* lone continuation, overlong '/', surrogate, above U+10FFFF, cut off */
	buf_append_json_str(&b, slice_from_cstr("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf4\x90\x80\x80"
	                                            "e\xe2\x82"));
	assert_string_equal(b.p, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                         "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_reset(&b);
	(void)state;
}

static void
test_hex(void **state)
{
	struct buf b;
	const uint8_t bytes[] = { 0x00, 0xab, 0xff };
	buf_init(&b, 0);
	buf_append_hex(&b, bytes, 3);
	assert_string_equal(b.p, "00abff");
	buf_reset(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_detach),
		cmocka_unit_test(test_cap_is_sticky),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_string_utf8),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
