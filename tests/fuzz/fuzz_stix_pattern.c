/*
 * fuzz_stix_pattern.c — libFuzzer target for the STIX pattern parser.
 *
 * Parses the input; when it parses, extracts the exact values, prints the
 * canonical text and requires that text to parse again and to print
 * identically (abort otherwise), so the printer and parser agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_pattern.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum tcerr
count_cb(void *ctx, const char *path_text, struct slice value, bool sufficient)
{
	size_t *n = ctx;
	if (!path_text || strchr(path_text, ':') == NULL)
		abort();
	(void)value;
	(void)sufficient;
	(*n)++;
	return TC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stix_pattern *p = NULL, *q = NULL;
	struct diag d;
	struct buf b1, b2;
	size_t n = 0;

	if (stix_pattern_parse(slice_make((const char *)data, size), NULL, &p, &d) != TC_OK)
		return 0;
	if (stix_pattern_exact(p, count_cb, &n) != TC_OK)
		abort();
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	stix_pattern_print(p, &b1);
	if (buf_error(&b1))
		abort();
	/* the printed text may be longer than the input (escapes, canonical
	 * floats), so allow it past the default length limit */
	struct sp_limits lim = {.max_len = b1.len + 1};
	if (stix_pattern_parse(buf_slice(&b1), &lim, &q, &d) != TC_OK)
		abort();
	stix_pattern_print(q, &b2);
	if (buf_error(&b2) || !slice_eq(buf_slice(&b1), buf_slice(&b2)))
		abort();
	buf_reset(&b1);
	buf_reset(&b2);
	stix_pattern_free(q);
	stix_pattern_free(p);
	return 0;
}
