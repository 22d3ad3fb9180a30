/* Fuzz target: the TAXII 2.1 query-string parser (lib/taxii/taxii_query.c). */
#include <stddef.h>
#include <stdint.h>

#include "taxii/taxii_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct taxii_query q;
	struct diag d;
	taxii_query_init(&q);
	taxii_query_parse(&q, 0x7f, slice_make((const char *)data, size), &d);
	taxii_query_reset(&q);
	return 0;
}
