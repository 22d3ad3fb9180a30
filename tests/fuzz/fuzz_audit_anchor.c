/*
 * Fuzz target: the anchor parser (lib/audit/audit.c, audit_anchor_parse),
 * which reads the file an operator passes to `tocsin audit verify
 * --anchor`. Invariants checked: it never crashes; on success the anchor
 * names a 64-hex-digit hash (the signature held, so a success from
 * random bytes would be a finding).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_anchor a;
	struct diag d;

	if (size > 4096)
		return 0;
	diag_clear(&d);
	if (audit_anchor_parse((const char *)data, size, &a, &d) == TC_OK) {
		if (strlen(a.hash) != 64)
			abort();
	} else if (!d.msg[0]) {
		abort(); /* a refusal says why */
	}
	return 0;
}
