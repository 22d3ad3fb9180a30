/*
 * Unit tests of lib/sse: the event stream parser `tocsin stream` runs on
 * what the hub sends (HTML Living Standard §9.2.6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sse/sse.h"

struct got {
	char text[4096];
	size_t n;
};

/* Records each event as "NAME|ID|HAS_ID|DATA;". */
static enum tcerr
rec(void *ctx, const struct sse_event *ev)
{
	struct got *g = ctx;
	size_t l = strlen(g->text);
	snprintf(g->text + l, sizeof g->text - l, "%.*s|%.*s|%d|%.*s;", (int)ev->name.len,
	         ev->name.p, (int)ev->id.len, ev->id.p, ev->has_id, (int)ev->data.len, ev->data.p);
	g->n++;
	return TC_OK;
}

static enum tcerr
parse(const char *in, size_t piece, size_t max, struct got *g)
{
	struct sse_parser p;
	struct diag d;
	enum tcerr rc = TC_OK;
	size_t n = strlen(in);
	memset(g, 0, sizeof *g);
	sse_init(&p, max);
	for (size_t i = 0; i < n && !rc; i += piece)
		rc = sse_feed(&p, in + i, n - i < piece ? n - i : piece, rec, g, &d);
	sse_reset(&p);
	return rc;
}

static void
test_hub_events(void **state)
{
	(void)state;
	const char *in = "id: 7\nevent: version\ndata: {\"position\":\"7\"}\n\n"
	                 ": heartbeat\n\n"
	                 "event: add\ndata: {\"kind\":\"domain\"}\n\n"
	                 "id: 9\nevent: snapshot-end\ndata: {\"position\":\"9\"}\n\n";
	struct got g;
	for (size_t piece = 1; piece <= strlen(in); piece++) {
		assert_int_equal(parse(in, piece, 0, &g), TC_OK);
		assert_string_equal(g.text, "version|7|1|{\"position\":\"7\"};"
		                            "add|7|0|{\"kind\":\"domain\"};"
		                            "snapshot-end|9|1|{\"position\":\"9\"};");
	}
}

static void
test_line_ends_and_fields(void **state)
{
	(void)state;
	struct got g;
	/* CRLF, CR, LF; a BOM; multi-line data; one space stripped; no data:
	 * no event; a name-less event is "message" */
	const char *in = "\xEF\xBB\xBF" "data: a\r\ndata:  b\r\revent: x\n\ndata\n\n";
	for (size_t piece = 1; piece <= strlen(in); piece++) {
		assert_int_equal(parse(in, piece, 0, &g), TC_OK);
		assert_string_equal(g.text, "message||0|a\n b;message||0|;");
	}
}

static void
test_limits(void **state)
{
	(void)state;
	struct got g;
	char big[400];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char in[600];
	snprintf(in, sizeof in, "data: %s\n\n", big);
	assert_int_equal(parse(in, 7, 256, &g), TC_ELIMIT);
	assert_int_equal(g.n, 0);
	/* many short data lines pass the data limit too */
	char lines[2000] = "";
	for (int i = 0; i < 100; i++)
		strcat(lines, "data: 0123456789\n");
	strcat(lines, "\n");
	assert_int_equal(parse(lines, 5, 256, &g), TC_ELIMIT);
	char id[200];
	snprintf(id, sizeof id, "id: %0100d\ndata: x\n\n", 1);
	assert_int_equal(parse(id, 3, 0, &g), TC_ELIMIT);
	/* an id with NUL is ignored, not an error */
	struct sse_parser p;
	struct diag d;
	memset(&g, 0, sizeof g);
	sse_init(&p, 0);
	assert_int_equal(sse_feed(&p, "id: a\0b\ndata: x\n\n", 17, rec, &g, &d), TC_OK);
	assert_string_equal(g.text, "message||0|x;");
	/* and the parser goes on after it */
	assert_int_equal(sse_feed(&p, "data: y\n\n", 9, rec, &g, &d), TC_OK);
	sse_reset(&p);
}

static void
test_retry_and_comments(void **state)
{
	(void)state;
	struct sse_parser p;
	struct diag d;
	struct got g = { 0 };
	sse_init(&p, 0);
	assert_int_equal(sse_feed(&p, "retry: 1500\n: hb\n: hb\n\n", 23, rec, &g, &d), TC_OK);
	assert_int_equal(p.retry_ms, 1500);
	assert_int_equal(p.comments, 2);
	assert_int_equal(g.n, 0);
	sse_reset(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_events),
		cmocka_unit_test(test_line_ends_and_fields),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_retry_and_comments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
