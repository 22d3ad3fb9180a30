/*
 * metrics.h — tocsind's Prometheus metrics, counted with lock-free atomics.
 *
 * Request threads call metrics_request() once per answered request; the
 * /metrics handler renders the text exposition format (version 0.0.4).
 * Route labels are a fixed, small set derived from the path's shape, so
 * no request can create a new time series.
 */
#ifndef TOCSIN_DAEMON_METRICS_H
#define TOCSIN_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "writer.h"

enum metrics_route {
	MR_DISCOVERY = 0,
	MR_API_ROOT,
	MR_STATUS,
	MR_COLLECTIONS,
	MR_COLLECTION,
	MR_MANIFEST,
	MR_OBJECTS,
	MR_OBJECT,
	MR_VERSIONS,
	MR_TAXII_OTHER,
	MR_HEALTHZ,
	MR_METRICS,
	MR_STREAM,
	MR_MATCH,          /* /api/v1/match */
	MR_BOUNCER_STREAM, /* /v1/decisions/stream (CrowdSec LAPI, api_crowdsec.c) */
	MR_BOUNCER_DECISIONS, /* /v1/decisions */
	MR_OTHER,
	MR_COUNT
};

/* The route label of a request path (percent-decoded, without query). */
enum metrics_route metrics_route_of(const char *path);
const char *metrics_route_name(enum metrics_route r);

/* Counts one answered request. Thread-safe, lock-free. */
void metrics_request(enum metrics_route r, const char *method, int status, uint64_t duration_us);

/* Why a connection was refused or cut before its request was answered. */
enum metrics_conn_refusal {
	MC_PER_ADDRESS = 0, /* the client address holds per_address_limit connections */
	MC_TOTAL,           /* the listener holds connection_limit connections */
	MC_HEADER_TIMEOUT,  /* no complete request header within header_timeout */
	MC_COUNT
};

/* Counts one refused or cut connection. Thread-safe, lock-free. */
void metrics_conn_refused(enum metrics_conn_refusal why);

/* The live stream (api_stream.c): events handed to clients, clients cut
 * for a full buffer, streams refused at a limit. Thread-safe, lock-free. */
enum metrics_stream_refusal {
	MS_MAX_CLIENTS = 0,     /* [stream] max_clients */
	MS_MAX_CLIENTS_PER_ORG, /* [stream] max_clients_per_org */
	MS_COUNT
};
void metrics_stream_events(uint64_t n);
void metrics_stream_cut(void);
void metrics_stream_refused(enum metrics_stream_refusal why);
/* Counts one lookup request's values and how many of them hit (the
 * lookup API). Thread-safe, lock-free. */
void metrics_match(uint64_t values, uint64_t hits);

/* The DNS server's events (daemon/dns.c). */
enum metrics_dns {
	MD_QUERY = 0,       /* a DNS message received (query, transfer request) */
	MD_AXFR,            /* AXFR answered */
	MD_IXFR,            /* IXFR answered with the changes */
	MD_IXFR_FULL,       /* IXFR answered with the whole zone (serial too old) */
	MD_NOTIFY,          /* NOTIFY sent to a secondary */
	MD_REFUSED_ACL,     /* refused: the source is outside the zone's allow */
	MD_REFUSED_TSIG,    /* refused: a transfer without TSIG, or a bad signature */
	MD_REFUSED_UDP,     /* refused: AXFR over UDP */
	MD_REFUSED_ZONE,    /* refused: not one of our zones, or not a query */
	MD_RATE_LIMITED,    /* UDP answer dropped: the source is over [dns] rate_limit */
	MD_COUNT
};
/* Counts one DNS event. Thread-safe, lock-free. */
void metrics_dns(enum metrics_dns e);

/* Values /metrics shows that live elsewhere. */
struct metrics_gauges {
	uint64_t log_position;
	uint64_t index_entries;
	uint64_t organisations;
	uint64_t principals;
	uint64_t collections;
	uint64_t stream_clients;                 /* open streams */
	uint64_t stream_buffered;                /* bytes waiting in their buffers */
	const struct hub_writer_stats *writer;   /* may be NULL */
};

/* Appends the whole exposition to out. */
void metrics_render(struct buf *out, const struct metrics_gauges *g);

#endif
