/*
 * http_resp_test.c — checks of the load generator's response parser and
 * histogram: each response is fed whole, byte by byte and in every split
 * into two pieces, and must frame the same way (status, body, where the
 * next response starts); malformed responses must fail, not hang or
 * over-read; quantiles must be within the histogram's 1/64 precision.
 * Prints each failure and exits 1 if any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "http_resp.h"

static int failures;

#define CHECK(cond, ...)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			failures++;                                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
		}                                                                                 \
	} while (0)

struct outcome {
	int rc;          /* 0: complete, 1: incomplete (needs more), -1: error */
	int status;
	size_t consumed; /* bytes of the input that belong to the response */
	char body[256];
	bool close;
};

/* Feeds s in pieces at the given cut points (ascending, within len). */
static struct outcome
feed_cuts(const char *s, size_t len, const size_t *cuts, size_t ncuts, bool eof)
{
	struct outcome out = {0};
	struct http_resp r = {0};
	http_resp_reset(&r, sizeof(out.body) - 1);
	size_t at = 0;
	for (size_t k = 0; k <= ncuts && !r.done; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		while (at < end && !r.done) {
			ssize_t n = http_resp_feed(&r, s + at, end - at);
			if (n < 0) {
				out.rc = -1;
				goto done;
			}
			at += (size_t)n;
		}
	}
	if (!r.done && eof && http_resp_eof(&r) < 0) {
		out.rc = -1;
		goto done;
	}
	out.rc = r.done ? 0 : 1;
	out.status = r.status;
	out.consumed = at;
	out.close = r.close;
	if (r.body)
		snprintf(out.body, sizeof(out.body), "%s", r.body);
done:
	http_resp_free(&r);
	return out;
}

/* The response s must parse to (status, body) whole, byte by byte and in
 * every two-piece split, leaving its last `tail` bytes unconsumed. */
static void
expect(const char *name, const char *s, bool eof, int status, const char *body, size_t tail)
{
	size_t len = strlen(s);
	size_t consumed = len - tail;
	struct outcome w = feed_cuts(s, len, NULL, 0, eof);
	CHECK(w.rc == 0 && w.status == status && strcmp(w.body, body) == 0 && w.consumed == consumed,
	      "%s whole: rc %d status %d body '%s' consumed %zu", name, w.rc, w.status, w.body,
	      w.consumed);
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	struct outcome b = feed_cuts(s, len, cuts, len, eof);
	CHECK(b.rc == 0 && b.status == status && strcmp(b.body, body) == 0 && b.consumed == consumed,
	      "%s byte by byte: rc %d status %d body '%s' consumed %zu", name, b.rc, b.status,
	      b.body, b.consumed);
	for (size_t i = 1; i < len; i++) {
		struct outcome t = feed_cuts(s, len, &i, 1, eof);
		CHECK(t.rc == 0 && t.status == status && strcmp(t.body, body) == 0 &&
		          t.consumed == consumed,
		      "%s split at %zu: rc %d status %d body '%s'", name, i, t.rc, t.status, t.body);
	}
	free(cuts);
}

static void
expect_error(const char *name, const char *s, bool eof)
{
	struct outcome w = feed_cuts(s, strlen(s), NULL, 0, eof);
	CHECK(w.rc == -1, "%s: want an error, got rc %d status %d", name, w.rc, w.status);
}

static void
test_framing(void)
{
	const char *next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	char both[512];

	expect("content-length",
	       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", false,
	       200, "hello", 0);
	/* a second response right behind the first is not consumed */
	snprintf(both, sizeof(both), "%s%s",
	         "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok", next);
	expect("pipelined", both, false, 202, "ok", strlen(next));
	expect("chunked",
	       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
	       false, 200, "hello, world", 0);
	expect("chunked with trailers and hex sizes",
	       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	       "A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
	       false, 200, "0123456789", 0);
	expect("chunked wins over content-length",
	       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "2\r\nab\r\n0\r\n\r\n",
	       false, 200, "ab", 0);
	expect("bare LF line ends", "HTTP/1.1 404 Not Found\nContent-Length: 3\n\nnot", false, 404,
	       "not", 0);
	expect("204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false, 204,
	       "", 0);
	expect("304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\n", false, 304, "", 0);
	expect("100 continue skipped",
	       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
	       false, 201, "x", 0);
	expect("body to the end of the connection", "HTTP/1.0 200 OK\r\n\r\nuntil eof", true, 200,
	       "until eof", 0);
	expect("no reason phrase", "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n", false, 500, "", 0);
}

static void
test_connection_close(void)
{
	struct outcome a = feed_cuts("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	                             57, NULL, 0, false);
	CHECK(a.rc == 0 && a.close, "Connection: close not noticed");
	struct outcome b = feed_cuts("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
	                             62, NULL, 0, false);
	CHECK(b.rc == 0 && !b.close, "keep-alive taken for close");
	struct outcome c = feed_cuts("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 38, NULL, 0, false);
	CHECK(c.rc == 0 && c.close, "HTTP/1.0 without keep-alive must close");
	struct outcome d = feed_cuts("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
	                             62, NULL, 0, false);
	CHECK(d.rc == 0 && !d.close, "HTTP/1.0 keep-alive must stay open");
}

static void
test_errors(void)
{
	expect_error("not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", false);
	expect_error("HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n", false);
	expect_error("bad status code", "HTTP/1.1 2x0 OK\r\n\r\n", false);
	expect_error("status 600", "HTTP/1.1 600 Huh\r\n\r\n", false);
	expect_error("bad content-length", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", false);
	expect_error("negative content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false);
	expect_error("huge content-length",
	             "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false);
	expect_error("conflicting content-lengths",
	             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false);
	expect_error("gzip without chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false);
	expect_error("bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	             false);
	expect_error("chunk longer than its size",
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", false);
	expect_error("huge chunk size",
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
	             false);
	expect_error("folded header", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false);
	expect_error("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false);
	expect_error("header without colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", false);
	expect_error("stray CR", "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false);
	expect_error("closed before the response", "", true);
	expect_error("closed in the headers", "HTTP/1.1 200 OK\r\nContent-Le", true);
	expect_error("closed in the body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
	expect_error("closed in a chunk",
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true);

	/* an endless header line fails at HTTP_LINE_MAX rather than growing */
	size_t n = HTTP_LINE_MAX + 100;
	char *big = malloc(n + 1);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', n - 20);
	big[n] = '\0';
	expect_error("line too long", big, false);
	free(big);

	/* too many header fields */
	size_t cap = 16 + (HTTP_HEADERS_MAX + 1) * 6 + 3;
	char *many = malloc(cap);
	size_t at = (size_t)snprintf(many, cap, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= HTTP_HEADERS_MAX; i++)
		at += (size_t)snprintf(many + at, cap - at, "X: 1\r\n");
	snprintf(many + at, cap - at, "\r\n");
	expect_error("too many headers", many, false);
	free(many);

	/* errors are sticky */
	struct http_resp r = {0};
	http_resp_reset(&r, 0);
	CHECK(http_resp_feed(&r, "junk\r\n", 6) == -1, "junk accepted");
	CHECK(http_resp_feed(&r, "HTTP/1.1 200 OK\r\n\r\n", 19) == -1, "error not sticky");
	http_resp_free(&r);
}

static void
test_keep_limit(void)
{
	struct http_resp r = {0};
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	http_resp_reset(&r, 4);
	CHECK(http_resp_feed(&r, s, strlen(s)) == (ssize_t)strlen(s) && r.done, "not framed");
	CHECK(r.body && strcmp(r.body, "0123") == 0 && r.truncated && r.body_bytes == 10,
	      "keep_max 4: body '%s' truncated %d bytes %llu", r.body ? r.body : "(null)",
	      r.truncated, (unsigned long long)r.body_bytes);
	/* reset reuses the buffer and clears the old body */
	http_resp_reset(&r, 100);
	CHECK(r.body && r.body[0] == '\0' && !r.done && r.status == 0, "reset left state behind");
	http_resp_free(&r);
}

static void
test_hist(void)
{
	/* buckets are contiguous and cover every value */
	for (unsigned i = 1; i < HIST_BUCKETS; i++)
		CHECK(hist_low(i) == hist_high(i - 1) + 1, "gap between buckets %u and %u", i - 1, i);
	CHECK(hist_bucket(UINT64_MAX) == HIST_BUCKETS - 1, "top bucket %u", hist_bucket(UINT64_MAX));
	uint64_t probes[] = {0, 1, 127, 128, 129, 255, 256, 1000, 123456789, 1ull << 40, UINT64_MAX};
	for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
		unsigned b = hist_bucket(probes[k]);
		CHECK(hist_low(b) <= probes[k] && probes[k] <= hist_high(b), "%llu not in its bucket",
		      (unsigned long long)probes[k]);
		CHECK(hist_high(b) - hist_low(b) <= hist_low(b) / 64, "bucket of %llu too wide",
		      (unsigned long long)probes[k]);
	}
	struct hist *h = malloc(sizeof(*h)), *h2 = malloc(sizeof(*h2));
	hist_init(h);
	hist_init(h2);
	CHECK(hist_quantile(h, 0.5) == 0, "empty histogram");
	/* 1..100,000 µs in ns, split over two histograms and merged */
	for (uint64_t v = 1; v <= 100000; v++)
		hist_record(v % 2 ? h : h2, v * 1000);
	hist_merge(h, h2);
	double qs[] = {0.5, 0.9, 0.99, 0.999};
	for (size_t k = 0; k < 4; k++) {
		double want = qs[k] * 100000 * 1000;
		double got = (double)hist_quantile(h, qs[k]);
		CHECK(got >= want && got <= want * (1 + 1.0 / 64), "p%g: %.0f, want %.0f", qs[k] * 100,
		      got, want);
	}
	CHECK(hist_quantile(h, 1) == 100000000 && h->max == 100000000 && h->min == 1000 &&
	          h->count == 100000,
	      "max/min/count wrong");
	free(h);
	free(h2);
}

int
main(void)
{
	test_framing();
	test_connection_close();
	test_errors();
	test_keep_limit();
	test_hist();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	else
		printf("http_resp_test: all passed\n");
	return failures ? 1 : 0;
}
