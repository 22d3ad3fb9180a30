/*
 * Fuzz target: the streaming skeleton scanner (lib/stix/stix_scan.c).
 * The input is scanned twice: whole, and fed in pieces whose sizes come
 * from the input's first byte, dropping every byte the scanner says it no
 * longer needs (as lib/import does). Invariant: both runs give the same
 * events with the same spans (the same bytes), the same error or end; the
 * scanner never reads outside the buffer, and with small limits an element
 * over them is reported skipped, never returned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_EVENTS 4096

struct ev {
	enum stix_scan_ev ev;
	size_t index, len;
	uint64_t at;
	uint32_t hash; /* of the span's bytes */
	char key[STIX_SCAN_KEY_MAX + 1];
};

static uint32_t
fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

static void
record(const struct stix_scan *s, enum stix_scan_ev e, const char *buf, struct ev *out)
{
	memset(out, 0, sizeof(*out));
	out->ev = e;
	if (e == STIX_SCAN_ELEMENT || e == STIX_SCAN_MEMBER) {
		out->len = s->len;
		out->hash = fnv(buf + s->off, s->len);
		out->at = s->at;
	}
	if (e == STIX_SCAN_ELEMENT || e == STIX_SCAN_SKIPPED)
		out->index = s->index;
	if (e == STIX_SCAN_MEMBER)
		memcpy(out->key, s->key, sizeof(out->key));
}

/* Runs the scanner over data fed `piece` bytes at a time (0: whole). */
static size_t
run(const uint8_t *data, size_t size, size_t piece, struct ev *evs)
{
	const struct stix_scan_limits lim = {.max_object = 64, .max_depth = 4, .max_member = 64};
	struct stix_scan s;
	struct diag d;
	char *buf = malloc(size ? size : 1);
	size_t have = 0, fed = 0, n = 0;

	if (!buf)
		abort();
	stix_scan_init(&s, &lim);
	for (;;) {
		if (piece == 0 && fed == 0) {
			memcpy(buf, data, size);
			have = fed = size;
		}
		bool eof = fed == size;
		enum stix_scan_ev e = stix_scan_next(&s, (struct slice){buf, have}, eof, &d);
		if (e == STIX_SCAN_MORE) {
			if (eof)
				abort(); /* MORE is never the answer at the end */
			size_t keep = stix_scan_keep(&s);
			if (keep > have)
				abort();
			memmove(buf, buf + keep, have - keep);
			have -= keep;
			stix_scan_drop(&s, keep);
			size_t k = size - fed < piece ? size - fed : piece;
			memcpy(buf + have, data + fed, k);
			have += k;
			fed += k;
			continue;
		}
		if (e == STIX_SCAN_ELEMENT && (s.len > lim.max_object + 1 || s.off + s.len > have))
			abort();
		if (n < FUZZ_MAX_EVENTS)
			record(&s, e, buf, &evs[n++]);
		if (e == STIX_SCAN_END || e == STIX_SCAN_ERROR)
			break;
	}
	free(buf);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev a[FUZZ_MAX_EVENTS], b[FUZZ_MAX_EVENTS];
	size_t piece = size ? (size_t)(data[0] % 7) + 1 : 1;
	size_t na = run(data, size, 0, a), nb = run(data, size, piece, b);

	if (na != nb)
		abort();
	for (size_t i = 0; i < na; i++)
		if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0)
			abort();
	return 0;
}
