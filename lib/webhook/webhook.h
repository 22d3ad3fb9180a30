/*
 * webhook.h — what the hub needs to POST the log to an organisation's own
 * HTTPS receiver (issue 10, docs/webhooks.md): the URL check, the
 * signature, the retry schedule and one bounded HTTP delivery.
 *
 * The hub makes these requests on an organisation's behalf, from inside
 * the operator's network, so a URL must not turn it into a proxy towards
 * addresses the organisation could not reach itself (server-side request
 * forgery). The invariant: no delivery connects to an address that
 * webhook_addr_check() refused. A URL is checked when a subscription is
 * created (webhook_url_check, resolving its name) and again at every
 * delivery (webhook_post resolves the name itself, checks every address
 * and hands libcurl only the checked addresses with CURLOPT_RESOLVE, so a
 * DNS answer that changes between check and connect — rebinding — cannot
 * swap them). Redirects are never followed; proxies from the environment
 * are never used; the answer's size and the whole exchange's time are
 * bounded.
 */
#ifndef TOCSIN_WEBHOOK_H
#define TOCSIN_WEBHOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define WEBHOOK_URL_MAX 2048          /* bytes of a receiver's URL */
#define WEBHOOK_SECRET_MIN 16         /* bytes of a signing secret */
#define WEBHOOK_SECRET_MAX 256
#define WEBHOOK_ADDRS_MAX 16          /* addresses of one name checked and used */
#define WEBHOOK_SIG_HEADER "X-Tocsin-Signature"
#define WEBHOOK_TS_HEADER "X-Tocsin-Timestamp"
#define WEBHOOK_ID_HEADER "X-Tocsin-Delivery"
#define WEBHOOK_SUB_HEADER "X-Tocsin-Subscription"
/* "sha256=" + 64 hex digits */
#define WEBHOOK_SIG_TEXT_MAX (7 + 64 + 1)

/* What an address is, for the SSRF check. */
enum webhook_addr_class {
	WA_PUBLIC = 0,
	WA_LOOPBACK,      /* 127/8, ::1 */
	WA_PRIVATE,       /* RFC 1918, 100.64/10 (RFC 6598), fc00::/7 (ULA), fec0::/10 */
	WA_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
	WA_METADATA,      /* 169.254.169.254, fd00:ec2::254: cloud instance metadata */
	WA_UNSPECIFIED,   /* 0/8, :: */
	WA_MULTICAST,     /* 224/4, ff00::/8 */
	WA_RESERVED,      /* 240/4 and broadcast, documentation, benchmarking, IETF
	                   * protocol assignments, discard-only, Teredo */
};
/* "public", "loopback", "private", "link-local", "metadata",
 * "unspecified", "multicast", "reserved". */
const char *webhook_addr_class_name(enum webhook_addr_class c);

/* Classifies an AF_INET or AF_INET6 address. An IPv6 address that carries
 * an IPv4 one (mapped ::ffff:0:0/96, compatible ::/96, NAT64 64:ff9b::/96,
 * 6to4 2002::/16) is judged by the IPv4 address inside. Any other family
 * is WA_RESERVED. */
enum webhook_addr_class webhook_addr_classify(const struct sockaddr *sa);

/* The operator's choices ([webhooks] in tocsind.conf). */
struct webhook_url_policy {
	bool allow_http;      /* http:// as well as https:// */
	bool allow_private;   /* loopback, private and link-local addresses */
};

/* TC_OK if a delivery may connect to sa under pol; else TC_EPERM with a
 * message naming the address, its class and, when the operator could
 * allow it, the configuration key. Metadata, unspecified, multicast and
 * reserved addresses are never allowed. */
enum tcerr webhook_addr_check(const struct webhook_url_policy *pol, const struct sockaddr *sa,
                              struct diag *d);

/* A parsed receiver URL. */
struct webhook_url {
	bool https;
	char host[256];       /* as in the URL, without brackets for IPv6 */
	uint16_t port;
	bool host_is_addr;    /* an IP literal: nothing to resolve */
};

/* Parses and checks url without resolving it: an absolute http(s) URL
 * (http only with allow_http), a host, no user name or password (they
 * would travel to every redirect target and into logs), no fragment, at
 * most WEBHOOK_URL_MAX bytes of printable ASCII. An IP literal host is
 * checked with webhook_addr_check. OUT: *out (may be NULL). Errors:
 * TC_EINVAL (the message says what is wrong), TC_EPERM (scheme or
 * address refused by pol), TC_ENOMEM. */
enum tcerr webhook_url_parse(const struct webhook_url_policy *pol, const char *url,
                             struct webhook_url *out, struct diag *d);

/* webhook_url_parse, then resolves a host name (getaddrinfo) and checks
 * every address it gets: a name that has one refused address is refused
 * (the connection could go to it). OUT: addrs[0..*naddrs) (both may be
 * NULL), the checked addresses in text form. Errors: as
 * webhook_url_parse, TC_ENOTFOUND (the name does not resolve). */
#define WEBHOOK_ADDR_TEXT_MAX 46      /* INET6_ADDRSTRLEN */
enum tcerr webhook_url_check(const struct webhook_url_policy *pol, const char *url,
                             struct webhook_url *out, char (*addrs)[WEBHOOK_ADDR_TEXT_MAX],
                             size_t *naddrs, struct diag *d);

/* The signature of one delivery: "sha256=" + lower-case hex of
 * HMAC-SHA256(secret, TIMESTAMP "." BODY), TIMESTAMP being the decimal
 * Unix seconds sent in X-Tocsin-Timestamp. Signing the timestamp with
 * the body lets a receiver refuse an old delivery replayed by whoever
 * recorded it. out holds WEBHOOK_SIG_TEXT_MAX bytes. */
void webhook_sign(struct slice secret, int64_t timestamp, struct slice body,
                  char out[WEBHOOK_SIG_TEXT_MAX]);
/* Constant-time check of a signature header's value, for receivers
 * written in C and for tests. true if it matches. */
bool webhook_verify(struct slice secret, int64_t timestamp, struct slice body,
                    struct slice header);

/* The retry schedule: the delay before attempt n+1 after n consecutive
 * failures (n >= 1) is initial * 2^(n-1), capped at max, then jittered
 * to a uniformly random point in [delay/2, delay] (rnd is a uniformly
 * random 32-bit number), so receivers that failed together are not
 * retried together. Never 0, never above max. */
uint64_t webhook_backoff_us(unsigned n, uint64_t initial_us, uint64_t max_us, uint32_t rnd);

/* One POST to a receiver. */
struct webhook_post_cfg {
	struct webhook_url_policy policy;
	const char *ca_file;          /* PEM CAs; NULL or "": the system's */
	unsigned connect_timeout_ms;
	unsigned timeout_ms;          /* the whole exchange */
	size_t response_max;          /* bytes of the answer kept; more fails the delivery */
	/* checked while the exchange runs (about once a second and at every
	 * progress): when it reads true the exchange is abandoned with
	 * TC_EBUSY (a daemon shutting down). May be NULL. */
	const _Atomic bool *cancel;
};

struct webhook_post_result {
	long status;                  /* HTTP status; 0: no answer */
	char error[DIAG_MSG_MAX];     /* why it failed, "" on a 2xx */
	uint64_t elapsed_us;
};

/* Resolves and checks url's host (webhook_url_check), then POSTs body
 * with Content-Type application/json and the given extra header lines
 * ("Name: value"), connecting only to the checked addresses. OUT: *res.
 * Returns TC_OK when the receiver answered 2xx within the limits. Errors
 * (res->error and d say why): TC_EPERM (URL or address refused),
 * TC_ENOTFOUND (name does not resolve), TC_EIO (connection, TLS, timeout,
 * an answer that is not 2xx — a redirect included — or larger than
 * response_max), TC_EBUSY (cancelled), TC_ENOMEM. */
enum tcerr webhook_post(const struct webhook_post_cfg *cfg, const char *url,
                        const char *const *headers, size_t nheaders, struct slice body,
                        struct webhook_post_result *res, struct diag *d);

/* A subscription's filter, stored as a URL query string
 * ("kind=ipv4-addr&min_confidence=50&collection=UUID"), into fs (which
 * the caller has feed_filter_init()ed and feed_filter_reset()s): each
 * key=value pair, percent-decoded, goes to feed_filter_set, so the
 * filter means what it means on GET /api/v1/stream. "" is no filter.
 * Errors: TC_EINVAL (a term without '=', a bad %-escape), and those of
 * feed_filter_set (the message names the term). */
struct feed_filter_store;
struct store;
#define WEBHOOK_FILTER_MAX 4096        /* = REG_WEBHOOK_FILTER_MAX */
enum tcerr webhook_filter_parse(struct feed_filter_store *fs, struct store *s, const char *query,
                                struct diag *d);

/* libcurl's global initialisation, once per process before threads
 * post (tocsind's start). TC_EIO. */
enum tcerr webhook_global_init(struct diag *d);

#endif
