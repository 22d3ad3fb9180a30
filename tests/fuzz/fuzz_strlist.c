/*
 * Fuzz target: strlist_parse_json, strlist_parse_lines and
 * strlist_parse_query (lib/util/strlist.c), the lookup API's request body
 * and query string. Invariants, with jansson as
 * the oracle: what strlist accepts as JSON, jansson parses to an array of
 * the same strings; an array of strings jansson accepts (no NUL in them,
 * within the limits) strlist accepts too. Every value is valid UTF-8 of
 * at most max_value_bytes, never more than max_values of them.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/strlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct strlist_limits lim = { 64, 256 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist l;
	struct diag d;
	json_error_t je;
	struct slice in = slice_make((const char *)data, size);

	strlist_init(&l);
	enum tcerr rc = strlist_parse_json(&l, in, &lim, &d);
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (rc == TC_OK) {
		if (!j || !json_is_array(j) || json_array_size(j) != l.n)
			abort();
		for (size_t i = 0; i < l.n; i++) {
			json_t *s = json_array_get(j, i);
			if (!json_is_string(s) || json_string_length(s) != l.v[i].len ||
			    memcmp(json_string_value(s), l.v[i].p, l.v[i].len) != 0)
				abort();
		}
	} else if (rc == TC_EINVAL && j && json_is_array(j) && json_array_size(j) <= lim.max_values) {
		bool all = true;
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *s = json_array_get(j, i);
			all = all && json_is_string(s) && json_string_length(s) <= lim.max_value_bytes &&
			      strlen(json_string_value(s)) == json_string_length(s);
		}
		if (all)
			abort();
	}
	json_decref(j);

	if (strlist_parse_lines(&l, in, &lim, &d) == TC_OK) {
		if (l.n > lim.max_values)
			abort();
		for (size_t i = 0; i < l.n; i++)
			if (!l.v[i].len || l.v[i].len > lim.max_value_bytes ||
			    memchr(l.v[i].p, '\0', l.v[i].len) || memchr(l.v[i].p, '\n', l.v[i].len))
				abort();
	}
	struct slice kind;
	if (strlist_parse_query(&l, in, &lim, 128, true, &kind, &d) == TC_OK) {
		if (l.n > lim.max_values || kind.len > size)
			abort();
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].len > lim.max_value_bytes || memchr(l.v[i].p, '\0', l.v[i].len) ||
			    memchr(l.v[i].p, '\n', l.v[i].len))
				abort();
	}
	strlist_reset(&l);
	return 0;
}
