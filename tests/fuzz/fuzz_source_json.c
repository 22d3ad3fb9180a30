/* Fuzz target: lib/source's JSON feeds: a MISP feed's manifest.json
 * (source_misp_manifest), a MISP event and a TAXII envelope through
 * lib/import (source_objects_parse), each object through the plan
 * (source_plan_object), as tocsind reads them. The first byte picks MISP
 * or TAXII; the rest is the document. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum tcerr
uuid_cb(void *ctx, const char *uuid)
{
	(void)ctx, (void)uuid;
	return TC_OK;
}

static enum tcerr
obj_cb(void *ctx, json_t *obj)
{
	struct diag d;
	return source_plan_object(ctx, obj, &d) == TC_ENOMEM ? TC_ENOMEM : TC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 7 };
	struct diag d;
	if (size < 1)
		return 0;
	enum source_format f = data[0] & 1 ? SOURCE_MISP : SOURCE_TAXII;
	struct slice s = slice_make((const char *)data + 1, size - 1);
	if (f == SOURCE_MISP)
		source_misp_manifest(s, 100, uuid_cb, NULL, &d);
	struct source_plan p = { .name = "fuzz", .identity = "identity--8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62",
		                 .tlp = TLP_AMBER, .confidence = 50, .expire = true,
		                 .track = f == SOURCE_MISP, .now_us = INT64_C(1764583200000000),
		                 .id_key = key, .id_key_len = sizeof key };
	if (source_plan_init(&p, &d) != TC_OK)
		return 0;
	struct obs_ctx obs = { 0 };
	size_t rej = 0;
	char why[DIAG_MSG_MAX];
	source_objects_parse(f, s, "fuzz.json", &obs, key, sizeof key, obj_cb, &p, &rej, why, &d);
	source_plan_finish(&p, &d);
	source_plan_reset(&p);
	return 0;
}
