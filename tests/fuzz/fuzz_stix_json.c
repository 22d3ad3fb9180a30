/*
 * fuzz_stix_json.c — libFuzzer target for strict JSON parsing, STIX
 * validation and JCS canonicalisation.
 *
 * Bytes go through stix_json_parse(); an object is validated (a bundle
 * object by object, with the objects[i] path), and any parsed value is
 * canonicalised with jcs_append(), which is then parsed back: JCS output
 * must itself be valid JSON that canonicalises to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL;
	struct diag d;
	struct stix_meta m;

	if (stix_json_parse(slice_make((const char *)data, size), NULL, &v, &d) != TC_OK)
		return 0;
	if (json_is_object(v)) {
		const json_t *type = json_object_get(v, "type");
		if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0) {
			const json_t *objs = json_object_get(v, "objects");
			for (size_t i = 0; i < json_array_size(objs); i++) {
				char path[32];
				snprintf(path, sizeof(path), "objects[%zu]", i);
				stix_validate(json_array_get(objs, i), path, NULL, &m, &d);
			}
		} else if (stix_validate(v, NULL, NULL, &m, &d) == TC_OK) {
			if (m.cls == STIX_CLASS_SCO) {
				char id[STIX_ID_MAX];
				stix_id_sco(m.type, v, id);
			}
		}
	}
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	jcs_append(&a, v);
	if (buf_error(&a) == TC_OK) {
		json_error_t e;
		json_t *w = json_loadb(a.p, a.len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
		/* JCS output must be JSON. A real of 1e19 or more is written
		 * in integer form, which jansson cannot hold: skip those. */
		if (!w && json_error_code(&e) != json_error_numeric_overflow)
			abort();
		if (w)
			jcs_append(&b, w);
		/* Canonical form is a fixed point (reals printed shortest may
		 * re-read as integers, which print identically). */
		if (w && buf_error(&b) == TC_OK && (a.len != b.len || memcmp(a.p, b.p, a.len) != 0))
			abort();
		json_decref(w);
	}
	buf_reset(&a);
	buf_reset(&b);
	json_decref(v);
	return 0;
}
