/*
 * fuzz_config.c — tocsind's configuration parser on arbitrary bytes.
 *
 * Whatever it accepts must pass through conf_check without crashing, and
 * its printed form must parse back to the same printed form (the
 * effective configuration is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, c2;
	struct diag d;
	struct buf out, out2;

	conf_defaults(&c);
	if (conf_parse(&c, "fuzz.conf", slice_make((const char *)data, size), &d) != TC_OK) {
		if (d.msg[0] == '\0')
			abort(); /* every error says where and why */
		return 0;
	}
	(void)conf_check(&c, &d);
	buf_init(&out, 0);
	buf_init(&out2, 0);
	conf_print(&c, &out);
	conf_defaults(&c2);
	if (buf_error(&out) || conf_parse(&c2, "printed", buf_slice(&out), &d) != TC_OK)
		abort();
	conf_print(&c2, &out2);
	if (out.len != out2.len || memcmp(out.p, out2.p, out.len) != 0)
		abort();
	buf_reset(&out);
	buf_reset(&out2);
	return 0;
}
