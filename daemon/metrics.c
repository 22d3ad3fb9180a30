/*
 * metrics.c — request counters and latency histograms for /metrics.
 *
 * Counters are _Atomic uint64_t updated with relaxed fetch-add: a scrape
 * may see one request's count before its histogram bucket, which
 * Prometheus tolerates. Invariant: every index used is bounded by the
 * fixed tables below (routes, status slots, buckets), whatever the input.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>

static const char *const route_names[MR_COUNT] = {
	"discovery", "api_root", "status", "collections", "collection", "manifest",
	"objects", "object", "versions", "taxii_other", "healthz", "metrics", "stream", "match",
	"bouncer_stream", "bouncer_decisions", "other",
};

/* The status codes tocsind answers; anything else counts as "other". */
static const int status_codes[] = {
	200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 405, 406,
	408, 409, 413, 415, 416, 422, 429, 500, 501, 503,
};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0])

enum { M_GET, M_POST, M_DELETE, M_OTHER, NMETHODS };
static const char *const method_names[NMETHODS] = { "GET", "POST", "DELETE", "other" };

/* Upper bounds of the latency buckets, µs (+Inf is the count). */
static const uint64_t bucket_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

static _Atomic uint64_t requests[MR_COUNT][NMETHODS][NSTATUS + 1];
static _Atomic uint64_t hist[MR_COUNT][NBUCKETS];   /* non-cumulative */
static _Atomic uint64_t hist_count[MR_COUNT];
static _Atomic uint64_t hist_sum_us[MR_COUNT];
static _Atomic uint64_t conn_refused[MC_COUNT];
static _Atomic uint64_t dns_events[MD_COUNT];
static const char *const refusal_names[MC_COUNT] = { "per_address_limit", "connection_limit",
	                                              "header_timeout" };

static _Atomic uint64_t stream_events, stream_cut, stream_refused[MS_COUNT];
static const char *const stream_refusal_names[MS_COUNT] = { "max_clients",
	                                                     "max_clients_per_org" };

void
metrics_stream_events(uint64_t n)
{
	atomic_fetch_add_explicit(&stream_events, n, memory_order_relaxed);
}

void
metrics_stream_cut(void)
{
	atomic_fetch_add_explicit(&stream_cut, 1, memory_order_relaxed);
}

void
metrics_stream_refused(enum metrics_stream_refusal why)
{
	if ((unsigned)why < MS_COUNT)
		atomic_fetch_add_explicit(&stream_refused[why], 1, memory_order_relaxed);
}

void
metrics_conn_refused(enum metrics_conn_refusal why)
{
	if ((unsigned)why < MC_COUNT)
		atomic_fetch_add_explicit(&conn_refused[why], 1, memory_order_relaxed);
}

static _Atomic uint64_t match_values, match_hits;

void
metrics_match(uint64_t values, uint64_t hits)
{
	atomic_fetch_add_explicit(&match_values, values, memory_order_relaxed);
	atomic_fetch_add_explicit(&match_hits, hits, memory_order_relaxed);
}

void
metrics_dns(enum metrics_dns e)
{
	if ((unsigned)e < MD_COUNT)
		atomic_fetch_add_explicit(&dns_events[e], 1, memory_order_relaxed);
}

const char *
metrics_route_name(enum metrics_route r)
{
	return (unsigned)r < MR_COUNT ? route_names[r] : "other";
}

/* TAXII 2.1 §4-§5 URL shapes, by segment: taxii2 / ROOT / ... */
enum metrics_route
metrics_route_of(const char *path)
{
	const char *seg[8];
	size_t len[8], n = 0;
	const char *p = path;

	if (strcmp(path, "/healthz") == 0)
		return MR_HEALTHZ;
	if (strcmp(path, "/metrics") == 0)
		return MR_METRICS;
	if (strcmp(path, "/api/v1/stream") == 0)
		return MR_STREAM;
	if (strcmp(path, "/api/v1/match") == 0 || strcmp(path, "/api/v1/match/") == 0)
		return MR_MATCH;
	if (strcmp(path, "/v1/decisions/stream") == 0)
		return MR_BOUNCER_STREAM;
	if (strcmp(path, "/v1/decisions") == 0)
		return MR_BOUNCER_DECISIONS;
	if (strncmp(path, "/taxii2/", 8) != 0)
		return MR_OTHER;
	while (*p == '/')
		p++;
	while (*p && n < 8) {
		const char *s = strchr(p, '/');
		size_t l = s ? (size_t)(s - p) : strlen(p);
		seg[n] = p;
		len[n] = l;
		n++;
		p += l;
		while (*p == '/')
			p++;
	}
	if (*p)
		return MR_TAXII_OTHER;
#define IS(i, w) (len[i] == strlen(w) && memcmp(seg[i], w, len[i]) == 0)
	switch (n) {
	case 1: return MR_DISCOVERY;
	case 2: return MR_API_ROOT;
	case 3: return IS(2, "collections") ? MR_COLLECTIONS : MR_TAXII_OTHER;
	case 4:
		if (IS(2, "status"))
			return MR_STATUS;
		return IS(2, "collections") ? MR_COLLECTION : MR_TAXII_OTHER;
	case 5:
		if (!IS(2, "collections"))
			return MR_TAXII_OTHER;
		if (IS(4, "objects"))
			return MR_OBJECTS;
		return IS(4, "manifest") ? MR_MANIFEST : MR_TAXII_OTHER;
	case 6:
		return IS(2, "collections") && IS(4, "objects") ? MR_OBJECT : MR_TAXII_OTHER;
	case 7:
		return IS(2, "collections") && IS(4, "objects") && IS(6, "versions") ? MR_VERSIONS
		                                                                     : MR_TAXII_OTHER;
	default:
		return MR_TAXII_OTHER;
	}
#undef IS
}

void
metrics_request(enum metrics_route r, const char *method, int status, uint64_t duration_us)
{
	size_t s = NSTATUS, m = M_OTHER, b;
	if ((unsigned)r >= MR_COUNT)
		r = MR_OTHER;
	for (size_t i = 0; i < NSTATUS; i++)
		if (status_codes[i] == status) {
			s = i;
			break;
		}
	if (method) {
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
			m = M_GET;
		else if (strcmp(method, "POST") == 0)
			m = M_POST;
		else if (strcmp(method, "DELETE") == 0)
			m = M_DELETE;
	}
	atomic_fetch_add_explicit(&requests[r][m][s], 1, memory_order_relaxed);
	for (b = 0; b < NBUCKETS && duration_us > bucket_us[b]; b++)
		;
	if (b < NBUCKETS)
		atomic_fetch_add_explicit(&hist[r][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_count[r], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_sum_us[r], duration_us, memory_order_relaxed);
}

static uint64_t
ld(const _Atomic uint64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

void
metrics_render(struct buf *out, const struct metrics_gauges *g)
{
	buf_append_cstr(out, "# HELP tocsin_http_requests_total HTTP requests answered.\n"
	                     "# TYPE tocsin_http_requests_total counter\n");
	for (size_t r = 0; r < MR_COUNT; r++)
		for (size_t m = 0; m < NMETHODS; m++)
			for (size_t s = 0; s <= NSTATUS; s++) {
				uint64_t v = ld(&requests[r][m][s]);
				if (!v)
					continue;
				buf_printf(out,
				           "tocsin_http_requests_total{route=\"%s\",method=\"%s\","
				           "status=\"",
				           route_names[r], method_names[m]);
				if (s < NSTATUS)
					buf_printf(out, "%d", status_codes[s]);
				else
					buf_append_cstr(out, "other");
				buf_printf(out, "\"} %llu\n", (unsigned long long)v);
			}
	buf_append_cstr(out, "# HELP tocsin_http_request_duration_seconds Time from the request's "
	                     "first byte to the answer.\n"
	                     "# TYPE tocsin_http_request_duration_seconds histogram\n");
	for (size_t r = 0; r < MR_COUNT; r++) {
		uint64_t count = ld(&hist_count[r]), cum = 0;
		if (!count)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += ld(&hist[r][b]);
			buf_printf(out,
			           "tocsin_http_request_duration_seconds_bucket{route=\"%s\","
			           "le=\"%g\"} %llu\n",
			           route_names[r], (double)bucket_us[b] / 1e6, (unsigned long long)cum);
		}
		buf_printf(out,
		           "tocsin_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
		           "%llu\n"
		           "tocsin_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		           "tocsin_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		           route_names[r], (unsigned long long)count, route_names[r],
		           (double)ld(&hist_sum_us[r]) / 1e6, route_names[r],
		           (unsigned long long)count);
	}
	buf_append_cstr(out, "# HELP tocsin_connections_refused_total Connections refused at "
	                     "accept or cut before their request header was complete, by "
	                     "limit.\n"
	                     "# TYPE tocsin_connections_refused_total counter\n");
	for (size_t i = 0; i < MC_COUNT; i++)
		buf_printf(out, "tocsin_connections_refused_total{limit=\"%s\"} %llu\n",
		           refusal_names[i], (unsigned long long)ld(&conn_refused[i]));
	buf_printf(out,
	           "# HELP tocsin_match_values_total Values looked up through /api/v1/match.\n"
	           "# TYPE tocsin_match_values_total counter\ntocsin_match_values_total %llu\n"
	           "# HELP tocsin_match_hits_total Looked-up values that hit an indicator the "
	           "caller may see.\n"
	           "# TYPE tocsin_match_hits_total counter\ntocsin_match_hits_total %llu\n",
	           (unsigned long long)ld(&match_values), (unsigned long long)ld(&match_hits));
	buf_printf(out,
	           "# HELP tocsin_dns_queries_total DNS messages received by the RPZ server.\n"
	           "# TYPE tocsin_dns_queries_total counter\ntocsin_dns_queries_total %llu\n"
	           "# HELP tocsin_dns_transfers_total Zone transfers answered, by type (ixfr_full: "
	           "an IXFR answered with the whole zone).\n"
	           "# TYPE tocsin_dns_transfers_total counter\n"
	           "tocsin_dns_transfers_total{type=\"axfr\"} %llu\n"
	           "tocsin_dns_transfers_total{type=\"ixfr\"} %llu\n"
	           "tocsin_dns_transfers_total{type=\"ixfr_full\"} %llu\n"
	           "# HELP tocsin_dns_notifies_total NOTIFY messages sent to secondaries.\n"
	           "# TYPE tocsin_dns_notifies_total counter\ntocsin_dns_notifies_total %llu\n"
	           "# HELP tocsin_dns_refused_total DNS requests refused, by reason.\n"
	           "# TYPE tocsin_dns_refused_total counter\n"
	           "tocsin_dns_refused_total{reason=\"acl\"} %llu\n"
	           "tocsin_dns_refused_total{reason=\"tsig\"} %llu\n"
	           "tocsin_dns_refused_total{reason=\"udp_transfer\"} %llu\n"
	           "tocsin_dns_refused_total{reason=\"zone\"} %llu\n"
	           "# HELP tocsin_dns_rate_limited_total UDP answers dropped by [dns] rate_limit.\n"
	           "# TYPE tocsin_dns_rate_limited_total counter\n"
	           "tocsin_dns_rate_limited_total %llu\n",
	           (unsigned long long)ld(&dns_events[MD_QUERY]),
	           (unsigned long long)ld(&dns_events[MD_AXFR]),
	           (unsigned long long)ld(&dns_events[MD_IXFR]),
	           (unsigned long long)ld(&dns_events[MD_IXFR_FULL]),
	           (unsigned long long)ld(&dns_events[MD_NOTIFY]),
	           (unsigned long long)ld(&dns_events[MD_REFUSED_ACL]),
	           (unsigned long long)ld(&dns_events[MD_REFUSED_TSIG]),
	           (unsigned long long)ld(&dns_events[MD_REFUSED_UDP]),
	           (unsigned long long)ld(&dns_events[MD_REFUSED_ZONE]),
	           (unsigned long long)ld(&dns_events[MD_RATE_LIMITED]));
	buf_printf(out,
	           "# HELP tocsin_log_position The hub's log position (greatest sequence number).\n"
	           "# TYPE tocsin_log_position gauge\ntocsin_log_position %llu\n"
	           "# HELP tocsin_index_entries Observables in the match index.\n"
	           "# TYPE tocsin_index_entries gauge\ntocsin_index_entries %llu\n"
	           "# HELP tocsin_organisations Organisations in the registry snapshot.\n"
	           "# TYPE tocsin_organisations gauge\ntocsin_organisations %llu\n"
	           "# HELP tocsin_principals Principals (keys, certificates) in the snapshot.\n"
	           "# TYPE tocsin_principals gauge\ntocsin_principals %llu\n"
	           "# HELP tocsin_collections TAXII collections served.\n"
	           "# TYPE tocsin_collections gauge\ntocsin_collections %llu\n",
	           (unsigned long long)g->log_position, (unsigned long long)g->index_entries,
	           (unsigned long long)g->organisations, (unsigned long long)g->principals,
	           (unsigned long long)g->collections);
	buf_printf(out,
	           "# HELP tocsin_stream_clients Open event streams (GET /api/v1/stream).\n"
	           "# TYPE tocsin_stream_clients gauge\ntocsin_stream_clients %llu\n"
	           "# HELP tocsin_stream_buffered_bytes Bytes waiting in stream clients' buffers "
	           "(each at most [stream] client_buffer).\n"
	           "# TYPE tocsin_stream_buffered_bytes gauge\ntocsin_stream_buffered_bytes %llu\n"
	           "# HELP tocsin_stream_events_total Events handed to stream clients.\n"
	           "# TYPE tocsin_stream_events_total counter\ntocsin_stream_events_total %llu\n"
	           "# HELP tocsin_stream_clients_cut_total Stream clients disconnected because "
	           "their buffer was full (slow consumers).\n"
	           "# TYPE tocsin_stream_clients_cut_total counter\n"
	           "tocsin_stream_clients_cut_total %llu\n"
	           "# HELP tocsin_stream_refused_total Streams refused with 503 at a limit.\n"
	           "# TYPE tocsin_stream_refused_total counter\n",
	           (unsigned long long)g->stream_clients, (unsigned long long)g->stream_buffered,
	           (unsigned long long)ld(&stream_events),
	           (unsigned long long)ld(&stream_cut));
	for (size_t i = 0; i < MS_COUNT; i++)
		buf_printf(out, "tocsin_stream_refused_total{limit=\"%s\"} %llu\n",
		           stream_refusal_names[i], (unsigned long long)ld(&stream_refused[i]));
	if (g->writer) {
		const struct hub_writer_stats *w = g->writer;
		buf_printf(out,
		           "# HELP tocsin_objects_ingested_total Objects accepted into the log.\n"
		           "# TYPE tocsin_objects_ingested_total counter\n"
		           "tocsin_objects_ingested_total %llu\n"
		           "# HELP tocsin_writer_batches_total Write transactions (group commits).\n"
		           "# TYPE tocsin_writer_batches_total counter\n"
		           "tocsin_writer_batches_total %llu\n"
		           "# HELP tocsin_writer_batch_objects_total Objects handed to write "
		           "transactions (divide by batches for the mean batch size).\n"
		           "# TYPE tocsin_writer_batch_objects_total counter\n"
		           "tocsin_writer_batch_objects_total %llu\n"
		           "# HELP tocsin_writer_submissions_total Write requests served by the "
		           "writer.\n"
		           "# TYPE tocsin_writer_submissions_total counter\n"
		           "tocsin_writer_submissions_total %llu\n"
		           "# HELP tocsin_writer_deletes_total Delete transactions.\n"
		           "# TYPE tocsin_writer_deletes_total counter\n"
		           "tocsin_writer_deletes_total %llu\n",
		           (unsigned long long)ld(&w->accepted), (unsigned long long)ld(&w->batches),
		           (unsigned long long)ld(&w->objects),
		           (unsigned long long)ld(&w->submissions),
		           (unsigned long long)ld(&w->deletes));
	}
}
