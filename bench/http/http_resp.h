/*
 * http_resp.h — an incremental HTTP/1.1 response parser for the load
 * generator (tocsin-load): bytes go in as they arrive from the socket, in
 * pieces of any size, and the parser says when one whole response has been
 * read, so the next response on a keep-alive connection starts exactly at
 * the first byte it did not consume.
 *
 * Framing follows RFC 9112 §6.3: no body for 1xx, 204 and 304; chunked
 * transfer coding (§7.1) when Transfer-Encoding's last coding is
 * "chunked", whatever Content-Length says; else Content-Length; else the
 * body runs to the end of the connection. Interim 1xx responses (other
 * than 101) are skipped. Lines may end in CRLF or bare LF. The invariant:
 * `done` is true only when a complete response has been consumed, and an
 * error is sticky: once http_resp_feed returns -1 the parser stays failed.
 */
#ifndef TOCSIN_BENCH_HTTP_RESP_H
#define TOCSIN_BENCH_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_LINE_MAX 8192            /* bytes of a status, header or chunk-size line */
#define HTTP_HEADERS_MAX 200          /* header fields in one response */

enum http_state {
	HTTP_STATUS,      /* reading the status line */
	HTTP_HEADER,      /* reading header lines */
	HTTP_BODY_LEN,    /* Content-Length body */
	HTTP_CHUNK_SIZE,  /* a chunk-size line */
	HTTP_CHUNK_DATA,  /* chunk data */
	HTTP_CHUNK_CRLF,  /* the line break after chunk data */
	HTTP_TRAILER,     /* trailer lines after the last chunk */
	HTTP_BODY_EOF,    /* body delimited by the end of the connection */
	HTTP_DONE,
	HTTP_ERROR,
};

struct http_resp {
	enum http_state state;
	int status;            /* 100..599 once the status line is read */
	int minor;             /* HTTP/1.minor */
	bool chunked;
	bool have_length;
	bool close;            /* the server will close after this response */
	bool done;
	size_t keep_max;       /* keep the first keep_max body bytes in body[] */
	bool truncated;        /* the body was longer than keep_max */
	bool no_body;          /* the request was HEAD: no body whatever the headers say */
	uint64_t length;       /* Content-Length, or bytes left of the current chunk */
	uint64_t body_bytes;   /* body bytes seen (decoded) */
	unsigned headers;
	size_t line_len;
	char line[HTTP_LINE_MAX];
	char *body;            /* when keep_max: malloc'd, NUL-terminated; http_resp_free frees */
	size_t body_len, body_cap;
	const char *err;       /* static text when state == HTTP_ERROR */
};

/* Starts a response whose first keep_max body bytes are to be kept (the
 * rest is counted, not kept); r->body's allocation is reused. */
void http_resp_reset(struct http_resp *r, size_t keep_max);
/* Frees r->body. */
void http_resp_free(struct http_resp *r);
/* Consumes bytes of p[0..n) until the response is complete. Returns how
 * many bytes it consumed (fewer than n only when r->done became true), or
 * -1 on a malformed response (r->err says why). */
ssize_t http_resp_feed(struct http_resp *r, const char *p, size_t n);
/* The connection ended. Returns 0 when that completes the response (a body
 * delimited by the end of the connection), -1 when the response was cut
 * short (r->err says so). */
int http_resp_eof(struct http_resp *r);

#endif
