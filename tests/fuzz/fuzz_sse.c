/*
 * Fuzz target: sse_feed (lib/sse/sse.c), the parser of the hub's event
 * stream that `tocsin stream` (and later the agent) runs on bytes from
 * the network. Invariants: no event's data, name or id passes its limit;
 * feeding the input whole or cut into pieces (sizes from the first byte)
 * gives the same events and the same outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse/sse.h"

#define MAX_EVENT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t h;
	size_t n;
};

static void
mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->h = (t->h ^ b[i]) * 1099511628211ull;
	t->h = (t->h ^ 0xff) * 1099511628211ull;
}

static enum tcerr
on_event(void *ctx, const struct sse_event *ev)
{
	struct trace *t = ctx;
	if (ev->data.len > MAX_EVENT || ev->name.len > SSE_NAME_MAX || ev->id.len > SSE_ID_MAX)
		abort();
	mix(t, ev->name.p, ev->name.len);
	mix(t, ev->data.p, ev->data.len);
	mix(t, ev->id.p, ev->id.len);
	mix(t, &ev->has_id, 1);
	t->n++;
	return TC_OK;
}

static enum tcerr
run(const uint8_t *data, size_t size, size_t piece, struct trace *t)
{
	struct sse_parser p;
	struct diag d;
	enum tcerr rc = TC_OK;
	sse_init(&p, MAX_EVENT);
	for (size_t i = 0; i < size && !rc; i += piece) {
		size_t n = size - i < piece ? size - i : piece;
		rc = sse_feed(&p, (const char *)data + i, n, on_event, t, &d);
	}
	sse_reset(&p);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = (size_t)(data[0] % 16) + 1;
	struct trace a = { 1469598103934665603ull, 0 }, b = a;
	enum tcerr ra = run(data + 1, size - 1, size, &a);
	enum tcerr rb = run(data + 1, size - 1, piece, &b);
	/* a limit may be found a few bytes later when pieces are small, but
	 * every event dispatched before it is the same */
	if (ra == TC_OK && rb == TC_OK && (a.h != b.h || a.n != b.n))
		abort();
	if ((ra == TC_OK) != (rb == TC_OK))
		abort();
	return 0;
}
