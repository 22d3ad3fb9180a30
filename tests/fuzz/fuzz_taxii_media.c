/*
 * Fuzz target: the Accept and Content-Type checks of lib/taxii/taxii_media.c
 * (taxii__accept_ok, taxii__content_type_ok). The input is one header
 * value. Besides not crashing, the two must agree where TAXII 2.1 §1.6.8
 * says they do: a Content-Type that is acceptable (and names no q and no
 * ',') is also an acceptable Accept, and an Accept is acceptable exactly
 * when one of its comma-separated ranges is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "taxii/taxii_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0; /* the daemon caps header sizes far below this */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	bool ct = taxii__content_type_ok(s);
	bool acc = taxii__accept_ok(s);
	if (ct && !strchr(s, ',') && !strstr(s, "q") && !strstr(s, "Q") && !acc)
		abort();

	/* Accept: one range at a time */
	bool any = false;
	char *start = s;
	for (char *p = s;; p++) {
		if (*p != ',' && *p != '\0')
			continue;
		char save = *p;
		*p = '\0';
		any |= taxii__accept_ok(start);
		*p = save;
		if (save == '\0')
			break;
		start = p + 1;
	}
	if (any != acc)
		abort();
	free(s);
	return 0;
}
