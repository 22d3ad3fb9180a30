/*
 * http.h — tocsind's HTTP(S) front: libmicrohttpd listeners that route
 * /taxii2/ to taxii_handle(), serve /healthz and /metrics, and answer
 * everything else with a JSON error resource.
 *
 * Each listener is an MHD daemon with its own polling thread and a pool
 * of conf->threads workers; each worker opens its own read connection to
 * the store on first use and keeps it (reads never wait for the writer).
 */
#ifndef TOCSIN_DAEMON_HTTP_H
#define TOCSIN_DAEMON_HTTP_H

#include "app.h"
#include "conf/conf.h"
#include "util/diag.h"
#include "util/tcerr.h"

/* GnuTLS priorities of the TLS listener: TLS 1.2 and 1.3 only, AEAD
 * ciphers only, forward-secret key exchange only. */
#define HTTP_TLS_PRIORITIES                                                                     \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-RSA:-VERS-SSL3.0:%SERVER_PRECEDENCE"
#define HTTP_PEM_MAX (1024 * 1024)      /* bytes of a certificate, key or CA file */
#define HTTP_URI_MAX 20000              /* bytes of a request URI we keep */
#define HTTP_MEMORY_LIMIT (128 * 1024)  /* MHD's per-connection header memory */
#define HTTP_ADDR_BUCKETS 1024          /* hash buckets of per-address counts */
#define HTTP_REAP_INTERVAL_MS 200       /* how often header deadlines are checked */
#define HTTP_RETRY_AFTER "5"             /* seconds, on a 503 for body memory */
#define HTTP_MMAP_THRESHOLD (4 << 20)  /* allocations this large are mmap'd ... */
#define HTTP_TRIM_THRESHOLD (32 << 20) /* ... and this much free heap is kept */
#define HTTP_DRAIN_MS 30000             /* how long shutdown waits for requests */
#define HTTP_THREADS_PER_CPU 4          /* threads = 0: this many per online CPU ... */
#define HTTP_THREADS_MIN 8              /* ... and at least this many */

struct http_server;

/* Checks that the TLS files (if configured) are readable and hold a
 * matching certificate and key, and a CA bundle. TC_EIO / TC_EINVAL with
 * a message naming the file. */
enum tcerr http_tls_check(const struct conf *c, struct diag *d);

/* Starts the configured listeners and logs a "listening" line for each.
 * OUT: *out. TC_EIO (cannot bind: message names the address), TC_EINVAL. */
enum tcerr http_start(struct app *app, struct http_server **out, struct diag *d);

/* Stops accepting connections (closing the listening sockets), waits up
 * to HTTP_DRAIN_MS for the requests in flight to be answered, then stops
 * the listeners and frees s. */
void http_shutdown(struct http_server *s);

#endif
