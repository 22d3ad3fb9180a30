/*
 * Fuzz target: report_parse_json (lib/report/report.c), the body of
 * POST /api/v1/reports. Invariants, with jansson as the oracle: a body
 * report_parse_json accepts is a JSON object jansson parses too, whose
 * members are all strings among kind, value, text, contact, lang and the
 * honeypot; what it keeps of each is within its limit and NUL-terminated
 * at its length.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_in *in = malloc(sizeof *in);
	struct report_errs e;
	if (!in)
		abort();
	enum tcerr rc = report_parse_json(slice_make((const char *)data, size), in, &e);
	if (in->value_len > REPORT_VALUE_MAX || strlen(in->value) != in->value_len ||
	    in->text_len > REPORT_TEXT_MAX || strlen(in->text) != in->text_len ||
	    in->contact_len > REPORT_CONTACT_MAX || strlen(in->contact) != in->contact_len)
		abort();
	if (rc == TC_OK) {
		json_error_t je;
		json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
		if (!j || !json_is_object(j))
			abort();
		const char *k;
		json_t *v;
		json_object_foreach (j, k, v) {
			if (!json_is_string(v))
				abort();
			if (strcmp(k, "kind") && strcmp(k, "value") && strcmp(k, "text") &&
			    strcmp(k, "contact") && strcmp(k, "lang") && strcmp(k, REPORT_HONEYPOT_FIELD))
				abort();
		}
		json_decref(j);
	}
	free(in);
	return 0;
}
