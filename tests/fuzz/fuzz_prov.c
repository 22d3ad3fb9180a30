/*
 * Fuzz target: the provenance parsers (lib/prov): RFC 8785 canonicalisation
 * of untrusted JSON (prov_jcs) and the verification of an object received
 * from a peer (prov_verify). Invariants checked: neither crashes; a refusal
 * says why; the canonical form is itself canonical (canonicalising it again
 * gives the same bytes) and parses as JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "prov/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prov_verifier *v;
	struct slice in = slice_make((const char *)data, size);
	struct buf a, b;
	struct diag d;
	enum tcerr rc;

	if (size > 65536)
		return 0;
	if (!v && !(v = prov_verifier_new(16)))
		abort();
	buf_init(&a, 0);
	buf_init(&b, 0);
	diag_clear(&d);
	rc = prov_jcs(in, false, &a, &d);
	if (rc == TC_OK) {
		json_t *j;
		if (prov_jcs(buf_slice(&a), false, &b, &d) != TC_OK || a.len != b.len ||
		    memcmp(a.p, b.p, a.len) != 0)
			abort();
		/* jansson takes no U+0000 in member names: only check without one */
		if (!memmem(a.p, a.len, "\\u0000", 6)) {
			j = json_loadb(a.p, a.len,
			               JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
			if (!j)
				abort();
			json_decref(j);
		}
	} else if (!d.msg[0]) {
		abort();
	}
	diag_clear(&d);
	if (prov_verify(v, (const char *)data, size, NULL, &d) != TC_OK && !d.msg[0])
		abort();
	buf_reset(&a);
	buf_reset(&b);
	return 0;
}
