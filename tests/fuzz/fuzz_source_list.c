/* Fuzz target: lib/source's line formats (source_list_parse) and the
 * format options (source_opts_parse). The first byte picks the format
 * (plain, ip-blocklist, url-list, csv) and the second a set of options;
 * the rest is the feed. Each entry goes through the plan, as tocsind
 * does, so the indicator builder sees what the parser lets through. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum tcerr
entry(void *ctx, enum obs_kind kind, struct slice value, long line)
{
	struct diag d;
	(void)line;
	return source_plan_value(ctx, kind, value, &d) == TC_ENOMEM ? TC_ENOMEM : TC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const opts[] = {
		"", "value=2\ntype=3\n", "value=ioc_value\ntype=ioc_type\n",
		"header=no\ndelimiter=;\ncomment=!\n", "delimiter=\\t\nvalue=1\n",
	};
	static const uint8_t key[32] = { 7 };
	struct diag d;
	struct source_opts o;
	struct source_list_counts c;
	if (size < 2)
		return 0;
	enum source_format f = (enum source_format)(SOURCE_PLAIN + data[0] % 4);
	const char *ot = opts[data[1] % (sizeof opts / sizeof opts[0])];
	if (f != SOURCE_CSV)
		ot = data[1] & 1 ? "comment=#\n" : "";
	if (source_opts_parse(f, slice_from_cstr(ot), &o, &d) != TC_OK)
		return 0;
	/* the options parser also takes the input itself */
	struct source_opts o2;
	source_opts_parse(SOURCE_CSV, slice_make((const char *)data + 2, size - 2), &o2, &d);
	struct source_plan p = { .name = "fuzz", .identity = "identity--8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62",
		                 .tlp = TLP_GREEN, .confidence = 50, .expire = true, .track = true,
		                 .now_us = INT64_C(1764583200000000), .id_key = key,
		                 .id_key_len = sizeof key };
	if (source_plan_init(&p, &d) != TC_OK)
		return 0;
	struct obs_ctx obs = { 0 };
	source_list_parse(f, &o, &obs, slice_make((const char *)data + 2, size - 2), 1000, entry, &p,
	                  &c, &d);
	source_plan_finish(&p, &d);
	source_plan_reset(&p);
	return 0;
}
