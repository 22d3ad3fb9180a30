/* Fuzz target: the export URL query parser (lib/export/export_query.c):
 * every key and value it hands out is NUL-terminated inside its buffer
 * and holds no control byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct export_query q;
	struct diag d;
	if (export_query_parse(slice_make((const char *)data, size), &q, &d) != TC_OK)
		return 0;
	for (size_t i = 0; i < q.n; i++) {
		const char *s[2] = { q.key[i], q.value[i] };
		for (int j = 0; j < 2; j++) {
			if (s[j] < q.mem || s[j] >= q.mem + sizeof(q.mem))
				abort();
			for (const char *p = s[j]; *p; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f || p >= q.mem + sizeof(q.mem))
					abort();
		}
	}
	return 0;
}
