/*
 * Fuzz target: text_printable (lib/util/text.c), the check every title,
 * description and name passes before it is stored. Invariants: accepted
 * text has no C0 control or DEL byte, no C1 control encoded in UTF-8
 * (C2 80..C2 9F), no byte that never occurs in UTF-8 (C0, C1, F5..FF);
 * refused text names an offset inside it; any prefix of accepted text
 * that ends on a character boundary is accepted too.
 */
#include <stdint.h>
#include <stdlib.h>

#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = (size_t)-1;
	bool ok = text_printable(slice_make((const char *)data, size), &bad);
	if (!ok) {
		if (bad >= size)
			abort();
		/* everything before the bad byte is fine on its own */
		if (!text_printable(slice_make((const char *)data, bad), NULL))
			abort();
		return 0;
	}
	for (size_t i = 0; i < size; i++) {
		uint8_t c = data[i];
		if (c < 0x20 || c == 0x7f || c == 0xc0 || c == 0xc1 || c >= 0xf5)
			abort();
		if (c == 0xc2 && i + 1 < size && data[i + 1] >= 0x80 && data[i + 1] <= 0x9f)
			abort();
		/* a prefix cut before a lead byte is accepted */
		if ((c & 0xc0) != 0x80 && !text_printable(slice_make((const char *)data, i), NULL))
			abort();
	}
	return 0;
}
