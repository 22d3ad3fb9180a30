/*
 * conf.c — parses tocsind's configuration file and command-line
 * overrides into struct conf.
 *
 * Every key is described once, in conf_keys[]: its section, name, kind,
 * range and where it lives in struct conf. Parsing, overriding, defaults
 * and printing all walk that table, so a key cannot be accepted without
 * being validated and printed. Invariant: whatever conf_set() or
 * conf_parse() leaves in a struct conf is within the table's ranges, and
 * on error the message always names the origin (file:line or --option).
 */
#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "observable/observable.h"
#include "registry/registry.h"
#include "stix/stix.h"
#include "taxii/taxii_server.h"

enum conf_kind {
	K_ADDR,   /* "ADDR:PORT" or "off" */
	K_PATH,   /* a file name */
	K_TEXT,   /* free text, UTF-8 */
	K_NAME,   /* [a-z0-9][a-z0-9_-]* */
	K_UINT,   /* unsigned, decimal */
	K_SIZE,   /* size_t, decimal with an optional k/M/G (binary) suffix */
	K_BOOL,
	K_LEVEL,  /* debug info warn error */
	K_TLP,    /* clear green amber amber+strict red */
	K_TLPANY, /* K_TLP or "any" (TLP_NONE) */
	K_DNAME,  /* a domain name, normalised: lower case, final dot */
	K_VIEW,   /* "operator" or "org:NAME" */
	K_KINDS,  /* list of observable kinds an RPZ zone can carry */
	K_WORDS,  /* list of names ([a-z0-9][a-z0-9_-]*) */
	K_ACTION, /* nxdomain | nodata | cname TARGET */
	K_CIDRS,  /* list of CIDRs */
	K_ADDRS,  /* list of ADDR:PORT */
};

struct conf_key {
	const char *section;
	const char *key;
	enum conf_kind kind;
	size_t off;        /* offsetof(struct conf, ...) */
	size_t size;       /* for strings: sizeof the array */
	uint64_t min, max; /* for numbers */
	size_t origin_off; /* offsetof an origin field, or 0 */
};

#define STR(f) K_PATH, offsetof(struct conf, f), sizeof(((struct conf *)0)->f), 0, 0
#define NUM(kind, f, lo, hi) kind, offsetof(struct conf, f), 0, (lo), (hi)

static const struct conf_key conf_keys[] = {
	{ "server", "listen", K_ADDR, offsetof(struct conf, listen), CONF_ADDR_MAX, 0, 0, 0 },
	{ "server", "tls_listen", K_ADDR, offsetof(struct conf, tls_listen), CONF_ADDR_MAX, 0, 0,
	  offsetof(struct conf, origin_tls_listen) },
	{ "server", "tls_cert", STR(tls_cert), offsetof(struct conf, origin_tls_cert) },
	{ "server", "tls_key", STR(tls_key), 0 },
	{ "server", "client_ca", STR(client_ca), offsetof(struct conf, origin_client_ca) },
	{ "server", "threads", NUM(K_UINT, threads, 0, CONF_THREADS_MAX), 0 },
	{ "server", "connection_limit", NUM(K_UINT, connection_limit, 1, CONF_CONNECTION_LIMIT_MAX), 0 },
	{ "server", "connection_timeout",
	  NUM(K_UINT, connection_timeout, 1, CONF_CONNECTION_TIMEOUT_MAX), 0 },
	{ "server", "per_address_limit",
	  NUM(K_UINT, per_address_limit, 1, CONF_CONNECTION_LIMIT_MAX), 0 },
	{ "server", "header_timeout", NUM(K_UINT, header_timeout, 1, CONF_HEADER_TIMEOUT_MAX), 0 },
	{ "server", "body_memory_limit",
	  NUM(K_SIZE, body_memory_limit, CONF_MAX_CONTENT_MIN, CONF_BODY_MEMORY_MAX), 0 },
	{ "taxii", "api_root", K_NAME, offsetof(struct conf, api_root), CONF_API_ROOT_MAX, 0, 0, 0 },
	{ "taxii", "title", K_TEXT, offsetof(struct conf, title), CONF_TEXT_MAX, 0, 0, 0 },
	{ "taxii", "description", K_TEXT, offsetof(struct conf, description), CONF_TEXT_MAX, 0, 0, 0 },
	{ "taxii", "contact", K_TEXT, offsetof(struct conf, contact), CONF_TEXT_MAX, 0, 0, 0 },
	{ "taxii", "max_content_length",
	  NUM(K_SIZE, max_content_length, CONF_MAX_CONTENT_MIN, CONF_MAX_CONTENT_MAX), 0 },
	{ "taxii", "max_page", NUM(K_SIZE, max_page, 1, CONF_MAX_PAGE_MAX), 0 },
	{ "policy", "default_tlp", NUM(K_TLP, default_tlp, TLP_CLEAR, TLP_RED), 0 },
	{ "metrics", "require_auth", NUM(K_BOOL, metrics_require_auth, 0, 1), 0 },
	{ "log", "level", NUM(K_LEVEL, log_level, 0, 3), 0 },
	{ "log", "access", NUM(K_BOOL, log_access, 0, 1), 0 },
	{ "writer", "batch_max_objects",
	  NUM(K_SIZE, batch_max_objects, 1, CONF_BATCH_MAX_OBJECTS_MAX), 0 },
	{ "writer", "batch_max_wait_us",
	  NUM(K_UINT, batch_max_wait_us, 0, CONF_BATCH_MAX_WAIT_MAX), 0 },
	{ "match", "max_values", NUM(K_SIZE, match_max_values, 1, CONF_MATCH_VALUES_MAX), 0 },
	{ "match", "max_value_bytes",
	  NUM(K_SIZE, match_max_value_bytes, 16, CONF_MATCH_VALUE_BYTES_MAX), 0 },
	{ "match", "max_body", NUM(K_SIZE, match_max_body, CONF_MAX_CONTENT_MIN, CONF_MAX_CONTENT_MAX),
	  0 },
	{ "match", "cache_entries", NUM(K_SIZE, match_cache_entries, 0, CONF_MATCH_CACHE_MAX), 0 },
	{ "ingest", "widest_prefix_v4", NUM(K_UINT, widest_prefix_v4, 1, 32), 0 },
	{ "ingest", "widest_prefix_v6", NUM(K_UINT, widest_prefix_v6, 1, 128), 0 },
	{ "decisions", "block_min_confidence", NUM(K_UINT, block_min_confidence, 0, 100), 0 },
	{ "decisions", "confidence_half_life",
	  NUM(K_UINT, confidence_half_life, 0, CONF_HALF_LIFE_DAYS_MAX), 0 },
	{ "decisions", "sighting_boost", NUM(K_UINT, sighting_boost, 0, 100), 0 },
	{ "decisions", "sighting_boost_orgs",
	  NUM(K_UINT, sighting_boost_orgs, 1, CONF_BOOST_ORGS_MAX), 0 },
	{ "bouncers", "startup_max_decisions",
	  NUM(K_SIZE, bouncer_startup_max_decisions, 1, CONF_BOUNCER_DECISIONS_MAX), 0 },
	{ "bouncers", "poll_max_decisions",
	  NUM(K_SIZE, bouncer_poll_max_decisions, 1, CONF_BOUNCER_DECISIONS_MAX), 0 },
	{ "bouncers", "no_expiry_hours",
	  NUM(K_UINT, bouncer_no_expiry_hours, 1, CONF_BOUNCER_HOURS_MAX), 0 },
	{ "coord", "routes", STR(coord_routes), 0 },
	{ "coord", "constituency_tasks", NUM(K_BOOL, coord_constituency_tasks, 0, 1), 0 },
	{ "coord", "escalate_lead_after",
	  NUM(K_UINT, coord_escalate_lead_after, 0, CONF_ESCALATE_MAX), 0 },
	{ "coord", "tasks_collection", K_TEXT, offsetof(struct conf, coord_tasks_collection),
	  CONF_TEXT_MAX, 0, 0, 0 },
	{ "coord", "smtp_url", STR(coord_smtp_url), 0 },
	{ "coord", "mail_from", K_TEXT, offsetof(struct conf, coord_mail_from), CONF_TEXT_MAX, 0, 0,
	  0 },
	{ "coord", "smtp_starttls", NUM(K_BOOL, coord_smtp_starttls, 0, 1), 0 },
	{ "coord", "smtp_timeout_ms", NUM(K_UINT, coord_smtp_timeout_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "webhooks", "allow_http", NUM(K_BOOL, webhook_allow_http, 0, 1), 0 },
	{ "webhooks", "allow_private", NUM(K_BOOL, webhook_allow_private, 0, 1), 0 },
	{ "webhooks", "ca_file", STR(webhook_ca_file), 0 },
	{ "webhooks", "workers", NUM(K_UINT, webhook_workers, 1, CONF_WEBHOOK_WORKERS_MAX), 0 },
	{ "webhooks", "max_attempts",
	  NUM(K_UINT, webhook_max_attempts, 1, CONF_WEBHOOK_ATTEMPTS_MAX), 0 },
	{ "webhooks", "batch_max_events",
	  NUM(K_SIZE, webhook_batch_max_events, 1, CONF_WEBHOOK_BATCH_MAX), 0 },
	{ "webhooks", "batch_max_bytes",
	  NUM(K_SIZE, webhook_batch_max_bytes, CONF_MAX_CONTENT_MIN, CONF_MAX_CONTENT_MAX), 0 },
	{ "webhooks", "backoff_initial_ms",
	  NUM(K_UINT, webhook_backoff_initial_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "webhooks", "backoff_max_ms",
	  NUM(K_UINT, webhook_backoff_max_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "webhooks", "connect_timeout_ms",
	  NUM(K_UINT, webhook_connect_timeout_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "webhooks", "timeout_ms", NUM(K_UINT, webhook_timeout_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "webhooks", "response_max_bytes",
	  NUM(K_SIZE, webhook_response_max_bytes, 1, CONF_MAX_CONTENT_MAX), 0 },
	{ "reports", "enabled", NUM(K_BOOL, reports_enabled, 0, 1), 0 },
	{ "reports", "promote_threshold", NUM(K_UINT, reports_promote_threshold, 0, 1000000), 0 },
	{ "reports", "tlp", NUM(K_TLP, reports_tlp, TLP_CLEAR, TLP_RED), 0 },
	{ "reports", "confidence", NUM(K_UINT, reports_confidence, 0, 100), 0 },
	{ "reports", "valid_days", NUM(K_UINT, reports_valid_days, 1, 3650), 0 },
	{ "reports", "collection", K_NAME, offsetof(struct conf, reports_collection),
	  CONF_API_ROOT_MAX, 0, 0, 0 },
	{ "reports", "country", K_TEXT, offsetof(struct conf, reports_country), CONF_TEXT_MAX, 0, 0,
	  0 },
	{ "reports", "max_body", NUM(K_SIZE, reports_max_body, 1024, CONF_REPORTS_BODY_MAX), 0 },
	{ "reports", "rate_per_minute",
	  NUM(K_UINT, reports_rate_per_minute, 1, CONF_REPORTS_RATE_MAX), 0 },
	{ "reports", "rate_burst", NUM(K_UINT, reports_rate_burst, 1, CONF_REPORTS_RATE_MAX), 0 },
	{ "reports", "rate_clients",
	  NUM(K_SIZE, reports_rate_clients, 64, CONF_REPORTS_CLIENTS_MAX), 0 },
	{ "sources", "enabled", NUM(K_BOOL, sources_enabled, 0, 1), 0 },
	{ "sources", "allow_http", NUM(K_BOOL, source_allow_http, 0, 1), 0 },
	{ "sources", "allow_private", NUM(K_BOOL, source_allow_private, 0, 1), 0 },
	{ "sources", "ca_file", STR(source_ca_file), 0 },
	{ "sources", "connect_timeout_ms",
	  NUM(K_UINT, source_connect_timeout_ms, 1, CONF_SOURCE_MS_MAX), 0 },
	{ "sources", "timeout_ms", NUM(K_UINT, source_timeout_ms, 1, CONF_SOURCE_MS_MAX), 0 },
	{ "sources", "max_bytes", NUM(K_SIZE, source_max_bytes, 1024, CONF_SOURCE_BYTES_MAX), 0 },
	{ "sources", "max_entries",
	  NUM(K_SIZE, source_max_entries, 1, CONF_SOURCE_ENTRIES_MAX), 0 },
	{ "sources", "misp_max_events", NUM(K_SIZE, source_misp_max_events, 1, 100000), 0 },
	{ "peers", "poll_interval_ms",
	  NUM(K_UINT, peer_poll_interval_ms, 10, CONF_WEBHOOK_MS_MAX), 0 },
	{ "peers", "backoff_max_ms", NUM(K_UINT, peer_backoff_max_ms, 10, CONF_WEBHOOK_MS_MAX), 0 },
	{ "peers", "batch_max_objects",
	  NUM(K_SIZE, peer_batch_max_objects, 1, CONF_PEER_BATCH_MAX), 0 },
	{ "peers", "connect_timeout_ms",
	  NUM(K_UINT, peer_connect_timeout_ms, 1, CONF_WEBHOOK_MS_MAX), 0 },
	{ "peers", "ca_file", STR(peer_ca_file), 0 },
	{ "peers", "require_provenance", NUM(K_BOOL, peer_require_provenance, 0, 1), 0 },
	{ "stream", "heartbeat", NUM(K_UINT, stream_heartbeat, 1, CONF_HEARTBEAT_MAX), 0 },
	{ "stream", "client_buffer",
	  NUM(K_SIZE, stream_client_buffer, CONF_CLIENT_BUFFER_MIN, CONF_CLIENT_BUFFER_MAX), 0 },
	{ "stream", "max_clients",
	  NUM(K_UINT, stream_max_clients, 1, CONF_STREAM_CLIENTS_MAX), 0 },
	{ "stream", "max_clients_per_org",
	  NUM(K_UINT, stream_max_clients_per_org, 1, CONF_STREAM_CLIENTS_MAX), 0 },
	{ "dns", "listen", K_ADDR, offsetof(struct conf, dns_listen), CONF_ADDR_MAX, 0, 0, 0 },
	{ "dns", "rate_limit", NUM(K_UINT, dns_rate_limit, 1, CONF_DNS_RATE_MAX), 0 },
	{ "dns", "tcp_clients", NUM(K_UINT, dns_tcp_clients, 1, CONF_DNS_TCP_CLIENTS_MAX), 0 },
	{ "dns", "tcp_idle_timeout",
	  NUM(K_UINT, dns_tcp_idle_timeout, 1, CONF_CONNECTION_TIMEOUT_MAX), 0 },
	{ "dns", "journal_max", NUM(K_UINT, dns_journal_max, 0, CONF_DNS_JOURNAL_MAX), 0 },
};
#define NKEYS (sizeof conf_keys / sizeof conf_keys[0])
#define CONF_SECTIONS_TEXT_MAX 512 /* the list of known sections in a message */

/* The keys of an [api_root NAME] section; offsets into struct conf_api_root. */
#define RSTR(f) offsetof(struct conf_api_root, f), sizeof(((struct conf_api_root *)0)->f)
static const struct conf_key root_keys[] = {
	{ "api_root", "title", K_TEXT, RSTR(title), 0, 0, 0 },
	{ "api_root", "description", K_TEXT, RSTR(description), 0, 0, 0 },
	{ "api_root", "max_content_length", K_SIZE, offsetof(struct conf_api_root, max_content_length),
	  0, CONF_MAX_CONTENT_MIN, CONF_MAX_CONTENT_MAX, 0 },
};
#define NROOTKEYS (sizeof root_keys / sizeof root_keys[0])

/* The keys of an [rpz NAME] section; offsets into struct conf_rpz. */
#define ZSTR(kind, f) kind, offsetof(struct conf_rpz, f), sizeof(((struct conf_rpz *)0)->f), 0, 0
#define ZNUM(kind, f, lo, hi) kind, offsetof(struct conf_rpz, f), 0, (lo), (hi)
static const struct conf_key rpz_keys[] = {
	{ "rpz", "origin", ZSTR(K_DNAME, origin), 0 },
	{ "rpz", "view", ZSTR(K_VIEW, view), 0 },
	{ "rpz", "kinds", ZSTR(K_KINDS, kinds), 0 },
	{ "rpz", "collections", ZSTR(K_WORDS, collections), 0 },
	{ "rpz", "min_confidence", ZNUM(K_UINT, min_confidence, 0, 100), 0 },
	{ "rpz", "tlp", ZNUM(K_TLPANY, tlp, 0, 0), 0 },
	{ "rpz", "action", ZSTR(K_ACTION, action), 0 },
	{ "rpz", "allow", ZSTR(K_CIDRS, allow), 0 },
	{ "rpz", "allow_unsigned_transfer", ZSTR(K_CIDRS, allow_unsigned_transfer), 0 },
	{ "rpz", "tsig_key", ZSTR(K_DNAME, tsig_key), 0 },
	{ "rpz", "tsig_secret_file", ZSTR(K_PATH, tsig_secret_file), 0 },
	{ "rpz", "notify", ZSTR(K_ADDRS, notify), 0 },
	{ "rpz", "ttl", ZNUM(K_UINT, ttl, 0, CONF_SOA_TIMER_MAX), 0 },
	{ "rpz", "refresh", ZNUM(K_UINT, refresh, 1, CONF_SOA_TIMER_MAX), 0 },
	{ "rpz", "retry", ZNUM(K_UINT, retry, 1, CONF_SOA_TIMER_MAX), 0 },
	{ "rpz", "expire", ZNUM(K_UINT, expire, 1, CONF_SOA_TIMER_MAX), 0 },
	{ "rpz", "minimum", ZNUM(K_UINT, minimum, 0, CONF_SOA_TIMER_MAX), 0 },
};
#define NRPZKEYS (sizeof rpz_keys / sizeof rpz_keys[0])

/* A new [rpz NAME] section's defaults (docs/dns.md). */
static void
rpz_defaults(struct conf_rpz *z)
{
	memset(z, 0, sizeof *z);
	snprintf(z->kinds, sizeof z->kinds, "%s", "domain ipv4 ipv6");
	snprintf(z->action, sizeof z->action, "%s", "nxdomain");
	snprintf(z->allow, sizeof z->allow, "%s", "127.0.0.1/32 ::1/128");
	z->tlp = TLP_NONE;
	z->ttl = 60;
	z->refresh = 60;
	z->retry = 10;
	z->expire = 86400;
	z->minimum = 60;
}

static void
root_defaults(void *e)
{
	memset(e, 0, sizeof(struct conf_api_root));
}

static void
rpz_defaults_any(void *e)
{
	rpz_defaults(e);
}

/* A kind of named section, "[WORD NAME]": its keys, where its elements sit
 * in struct conf, their defaults. Every named element begins with
 * char name[CONF_API_ROOT_MAX] and carries the line its section starts on. */
struct named_kind {
	const char *word;
	const struct conf_key *keys;
	size_t nkeys;
	size_t arr_off, count_off, elem_size, max, line_off;
	void (*defaults)(void *e);
};

static const struct named_kind named_kinds[] = {
	{ "api_root", root_keys, NROOTKEYS, offsetof(struct conf, roots),
	  offsetof(struct conf, nroots), sizeof(struct conf_api_root), CONF_API_ROOTS_MAX,
	  offsetof(struct conf_api_root, line), root_defaults },
	{ "rpz", rpz_keys, NRPZKEYS, offsetof(struct conf, rpz), offsetof(struct conf, nrpz),
	  sizeof(struct conf_rpz), CONF_RPZ_ZONES_MAX, offsetof(struct conf_rpz, line),
	  rpz_defaults_any },
};
#define NNAMED (sizeof named_kinds / sizeof named_kinds[0])
#define NAMED_KEYS_MAX (NRPZKEYS > NROOTKEYS ? NRPZKEYS : NROOTKEYS)
#define NAMED_KEYS_TEXT_MAX 512 /* the list of a section's keys in a message */

static char *
named_elem(struct conf *c, const struct named_kind *nk, size_t i)
{
	return (char *)c + nk->arr_off + i * nk->elem_size;
}

static size_t *
named_count(struct conf *c, const struct named_kind *nk)
{
	return (size_t *)(void *)((char *)c + nk->count_off);
}

static long *
named_line(char *e, const struct named_kind *nk)
{
	return (long *)(void *)(e + nk->line_off);
}

/* The kind of "[WORD NAME]" section s is, with *name the NAME; NULL if s
 * names no such kind. */
static const struct named_kind *
named_kind_of(struct slice s, struct slice *name)
{
	for (size_t i = 0; i < NNAMED; i++) {
		size_t n = strlen(named_kinds[i].word);
		if (s.len > n && memcmp(s.p, named_kinds[i].word, n) == 0 &&
		    (s.p[n] == ' ' || s.p[n] == '\t')) {
			*name = slice_trim(slice_make(s.p + n + 1, s.len - n - 1));
			return &named_kinds[i];
		}
	}
	return NULL;
}

/* Opens a new [WORD NAME] element in c. OUT: *elem. Errors: TC_EINVAL (the
 * name), TC_EEXIST (defined before), TC_ELIMIT. */
static enum tcerr
named_open(struct conf *c, const struct named_kind *nk, struct slice nm, long line,
           const char *origin, char **elem, struct diag *d)
{
	if (nm.len == 0 || nm.len >= CONF_API_ROOT_MAX)
		return diag_set(d, TC_EINVAL, "%s: [%s NAME]: the name must be 1..%d characters",
		                origin, nk->word, CONF_API_ROOT_MAX - 1);
	for (size_t i = 0; i < nm.len; i++) {
		char ch = nm.p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (i > 0 && (ch == '-' || ch == '_'))))
			return diag_set(d, TC_EINVAL,
			                "%s: [%s %.*s]: use lower-case letters, digits, '-' and '_' "
			                "(starting with a letter or digit)",
			                origin, nk->word, (int)(nm.len > 64 ? 64 : nm.len), nm.p);
	}
	size_t *n = named_count(c, nk);
	for (size_t i = 0; i < *n; i++) {
		char *e = named_elem(c, nk, i);
		if (slice_eq_cstr(nm, e))
			return diag_set(d, TC_EEXIST, "%s: [%s %s] already defined on line %ld", origin,
			                nk->word, e, *named_line(e, nk));
	}
	if (*n == nk->max)
		return diag_set(d, TC_ELIMIT, "%s: more than %zu [%s] sections", origin, nk->max,
		                nk->word);
	char *e = named_elem(c, nk, (*n)++);
	nk->defaults(e);
	memcpy(e, nm.p, nm.len);
	e[nm.len] = '\0';
	*named_line(e, nk) = line;
	*elem = e;
	return TC_OK;
}

/* The key k of a [WORD NAME] section; NULL with the error in d if unknown. */
static const struct conf_key *
named_key(const struct named_kind *nk, struct slice k, const char *ename, const char *origin,
          struct diag *d)
{
	for (size_t i = 0; i < nk->nkeys; i++)
		if (slice_eq_cstr(k, nk->keys[i].key))
			return &nk->keys[i];
	char known[NAMED_KEYS_TEXT_MAX];
	size_t at = 0;
	known[0] = '\0';
	for (size_t i = 0; i < nk->nkeys && at < sizeof known; i++) {
		int w = snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "",
		                 nk->keys[i].key);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	diag_set(d, TC_ENOTFOUND, "%s: unknown key \"%.*s\" in [%s %s] (known: %s)", origin,
	         (int)(k.len > 64 ? 64 : k.len), k.p, nk->word, ename, known);
	return NULL;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

const char *
conf_log_level_name(enum conf_log_level l)
{
	return (unsigned)l < 4 ? level_names[l] : "info";
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "%s", CONF_DEFAULT_LISTEN);
	c->threads = 0;
	c->connection_limit = 1024;
	c->connection_timeout = 60;
	/* One address may hold a sixteenth of the slots, so 16 hostile
	 * addresses are needed to fill them; header_timeout cuts slow
	 * senders (a byte every few seconds) that the idle timeout never
	 * would. */
	c->per_address_limit = 64;
	c->header_timeout = 10;
	c->body_memory_limit = (size_t)256 << 20;
	snprintf(c->api_root, sizeof c->api_root, "%s", "hub");
	snprintf(c->title, sizeof c->title, "%s", "tocsin hub");
	c->max_content_length = TAXII_DEFAULT_MAX_CONTENT;
	c->max_page = TAXII_DEFAULT_MAX_PAGE;
	c->default_tlp = REG_DEFAULT_TLP;
	c->metrics_require_auth = false;
	c->log_level = CONF_LOG_INFO;
	c->log_access = true;
	c->batch_max_objects = 10000;
	c->batch_max_wait_us = 0;
	c->match_max_values = 10000;
	c->match_max_value_bytes = CONF_MATCH_VALUE_BYTES_MAX;
	c->match_max_body = (size_t)8 << 20;
	c->match_cache_entries = (size_t)1 << 20;
	c->widest_prefix_v4 = OBS_WIDEST_PREFIX_V4;
	c->sighting_boost_orgs = CONF_BOOST_ORGS_DEFAULT;
	c->widest_prefix_v6 = OBS_WIDEST_PREFIX_V6;
	/* bouncers: a whole snapshot at startup up to a million decisions
	 * (about 200 MB of JSON); a poll carries at most 10,000 changes and
	 * the bouncer takes the rest at its next poll; a decision with no
	 * end is given ten years (87600h), which no bouncer outlives */
	c->bouncer_startup_max_decisions = 1000000;
	c->bouncer_poll_max_decisions = 10000;
	c->bouncer_no_expiry_hours = 87600;
	/* webhooks: public HTTPS receivers only; a receiver gets 10 s per
	 * delivery, and after 8 failures in a row (about 4 minutes of
	 * backoff) the subscription is dead-lettered for an operator */
	/* coord: constituency matches make tasks; an overdue task reaches
	 * the sector's lead 4 hours after the assigning organisation */
	c->coord_constituency_tasks = true;
	c->coord_escalate_lead_after = 4 * 3600;
	snprintf(c->coord_mail_from, sizeof c->coord_mail_from, "%s", "tocsin@localhost");
	c->coord_smtp_timeout_ms = 10000;
	c->webhook_workers = 2;
	c->webhook_max_attempts = 8;
	c->webhook_batch_max_events = 100;
	c->webhook_batch_max_bytes = (size_t)1 << 20;
	c->webhook_backoff_initial_ms = 1000;
	c->webhook_backoff_max_ms = 300000;
	c->webhook_connect_timeout_ms = 5000;
	c->webhook_timeout_ms = 10000;
	c->webhook_response_max_bytes = 64 * 1024;
	/* sources: public HTTPS feeds only (the operator names them, but a
	 * feed's URL must not reach the hub's own network unless allowed);
	 * 60 s and 64 MiB per request, a million entries per feed */
	c->sources_enabled = true;
	c->source_connect_timeout_ms = 10000;
	c->source_timeout_ms = 60000;
	c->source_max_bytes = (size_t)64 << 20;
	c->source_max_entries = 1000000;
	c->source_misp_max_events = 1000;
	/* peers (docs/peers.md) */
	c->peer_poll_interval_ms = 5000;
	c->peer_backoff_max_ms = 5000;
	c->peer_batch_max_objects = 5000;
	c->peer_connect_timeout_ms = 5000;
	c->peer_require_provenance = true;
	c->stream_heartbeat = 15;
	c->stream_client_buffer = (size_t)1 << 20;
	/* reports: served; a coordinator promotes (no threshold); a promoted
	 * group is a GREEN indicator at confidence 50 for 30 days in the
	 * default collection; a body of 16 KiB; one address may send 10
	 * reports at once and 6 a minute after that */
	c->reports_enabled = true;
	c->reports_promote_threshold = 0;
	c->reports_tlp = TLP_GREEN;
	c->reports_confidence = 50;
	c->reports_valid_days = 30;
	snprintf(c->reports_collection, sizeof c->reports_collection, "%s", "default");
	snprintf(c->reports_country, sizeof c->reports_country, "%s", "RU");
	c->reports_max_body = 16384;
	c->reports_rate_per_minute = 6;
	c->reports_rate_burst = 10;
	c->reports_rate_clients = 65536;
	c->stream_max_clients = 1000;
	c->stream_max_clients_per_org = 250;
	c->dns_rate_limit = 20;
	c->dns_tcp_clients = 16;
	c->dns_tcp_idle_timeout = 10;
	c->dns_journal_max = 100000;
}

/* true if s is valid UTF-8 without control characters (RFC 3629). */
static bool
text_ok(struct slice s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0;
	while (i < s.len) {
		unsigned char b = p[i];
		size_t n;
		uint32_t cp;
		if (b < 0x80) {
			if (b < 0x20 || b == 0x7f)
				return false;
			i++;
			continue;
		} else if ((b & 0xe0) == 0xc0) {
			n = 1;
			cp = b & 0x1f;
		} else if ((b & 0xf0) == 0xe0) {
			n = 2;
			cp = b & 0x0f;
		} else if ((b & 0xf8) == 0xf0) {
			n = 3;
			cp = b & 0x07;
		} else {
			return false;
		}
		if (i + n >= s.len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static enum tcerr
parse_u64(struct slice v, bool suffix, uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0;
	if (v.len == 0)
		return TC_EINVAL;
	for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
		unsigned dgt = (unsigned)(v.p[i] - '0');
		if (x > (UINT64_MAX - dgt) / 10)
			return TC_ELIMIT;
		x = x * 10 + dgt;
	}
	if (i == 0)
		return TC_EINVAL;
	if (i < v.len) {
		unsigned shift;
		if (!suffix || i + 1 != v.len)
			return TC_EINVAL;
		switch (v.p[i]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return TC_EINVAL;
		}
		if (x > (UINT64_MAX >> shift))
			return TC_ELIMIT;
		x <<= shift;
	}
	*out = x;
	return TC_OK;
}

enum tcerr
conf_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *salen, struct diag *d)
{
	char host[CONF_ADDR_MAX];
	const char *colon;
	size_t hlen;
	bool v6 = false;

	memset(sa, 0, sizeof *sa);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return diag_set(d, TC_EINVAL, "\"%s\": expected [IPv6]:PORT", s);
		hlen = (size_t)(rb - s - 1);
		if (hlen >= sizeof host)
			return diag_set(d, TC_EINVAL, "\"%s\": address too long", s);
		memcpy(host, s + 1, hlen);
		colon = rb + 1;
		v6 = true;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return diag_set(d, TC_EINVAL, "\"%s\": expected ADDRESS:PORT, e.g. %s", s,
			                CONF_DEFAULT_LISTEN);
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof host)
			return diag_set(d, TC_EINVAL, "\"%s\": address too long", s);
		memcpy(host, s, hlen);
	}
	host[hlen] = '\0';
	uint64_t port;
	const char *ps = colon + 1;
	if (parse_u64(slice_from_cstr(ps), false, &port) || port > 65535 || strlen(ps) > 5)
		return diag_set(d, TC_EINVAL, "\"%s\": the port must be a number 0..65535", s);
	if (v6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return diag_set(d, TC_EINVAL, "\"%s\": not a numeric IPv6 address", s);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*salen = sizeof *a6;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return diag_set(d, TC_EINVAL,
			                "\"%s\": not a numeric IPv4 address (IPv6: [ADDR]:PORT)", s);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*salen = sizeof *a4;
	}
	return TC_OK;
}

static const struct conf_key *
key_find(const char *section, struct slice key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    slice_eq_cstr(key, conf_keys[i].key))
			return &conf_keys[i];
	return NULL;
}

static bool
section_known(struct slice name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (slice_eq_cstr(name, conf_keys[i].section))
			return true;
	return false;
}

/* "server, taxii, ..., api_root NAME": the sections of conf_keys in table
 * order, then the named ones, into out (size n). */
static void
sections_text(char *out, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(conf_keys[j].section, conf_keys[i].section) == 0;
		if (seen)
			continue;
		int w = snprintf(out + at, n - at, "%s, ", conf_keys[i].section);
		if (w < 0 || (size_t)w >= n - at)
			return;
		at += (size_t)w;
	}
	for (size_t i = 0; i < NNAMED; i++) {
		int w = snprintf(out + at, n - at, "%s%s NAME", i ? ", " : "", named_kinds[i].word);
		if (w < 0 || (size_t)w >= n - at)
			return;
		at += (size_t)w;
	}
}

static enum tcerr
set_string(const struct conf_key *k, char *dst, struct slice v, const char *origin, struct diag *d)
{
	if (v.len >= k->size)
		return diag_set(d, TC_ELIMIT, "%s: %s: longer than %zu bytes", origin, k->key,
		                k->size - 1);
	if (memchr(v.p, '\0', v.len) || !text_ok(v))
		return diag_set(d, TC_EINVAL,
		                "%s: %s: must be UTF-8 text without control characters", origin,
		                k->key);
	memcpy(dst, v.p, v.len);
	dst[v.len] = '\0';
	return TC_OK;
}

bool
conf_list_next(struct slice *rest, struct slice *word)
{
	size_t i = 0;
	while (i < rest->len && (rest->p[i] == ' ' || rest->p[i] == '\t' || rest->p[i] == ','))
		i++;
	size_t b = i;
	while (i < rest->len && rest->p[i] != ' ' && rest->p[i] != '\t' && rest->p[i] != ',')
		i++;
	*word = slice_make(rest->p + b, i - b);
	*rest = slice_make(rest->p + i, rest->len - i);
	return word->len > 0;
}

enum tcerr
conf_cidr_parse(struct slice s, struct conf_cidr *out, struct diag *d)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s.p, '/', s.len);
	size_t hlen = slash ? (size_t)(slash - s.p) : s.len;
	memset(out, 0, sizeof *out);
	if (hlen == 0 || hlen >= sizeof host)
		return diag_set(d, TC_EINVAL, "\"%.*s\": not an address or ADDRESS/PREFIX",
		                (int)(s.len > 64 ? 64 : s.len), s.p);
	memcpy(host, s.p, hlen);
	host[hlen] = '\0';
	unsigned max;
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return diag_set(d, TC_EINVAL, "\"%.*s\": not a numeric IPv4 or IPv6 address",
		                (int)(s.len > 64 ? 64 : s.len), s.p);
	}
	out->prefix = max;
	if (slash) {
		uint64_t p;
		struct slice ps = slice_make(slash + 1, s.len - hlen - 1);
		if (ps.len > 3 || parse_u64(ps, false, &p) || p > max)
			return diag_set(d, TC_EINVAL, "\"%.*s\": the prefix must be 0..%u",
			                (int)(s.len > 64 ? 64 : s.len), s.p, max);
		out->prefix = (unsigned)p;
	}
	for (unsigned b = out->prefix; b < max; b++)
		out->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	return TC_OK;
}

bool
conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t v4[4];
	if (sa->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		a = v4;
		if (c->family != AF_INET)
			return false;
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) == 0) {
			if (c->family != AF_INET)
				return false;
			a = b + 12;
		} else {
			if (c->family != AF_INET6)
				return false;
			a = b;
		}
	} else {
		return false;
	}
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	if (rest && ((a[full] ^ c->addr[full]) & (uint8_t)(0xff00u >> rest)))
		return false;
	return true;
}

enum tcerr
conf_cidr_list_parse(const char *list, struct conf_cidr *out, size_t max, size_t *n,
                     struct diag *d)
{
	struct slice rest = slice_from_cstr(list), w;
	*n = 0;
	while (conf_list_next(&rest, &w)) {
		if (*n == max)
			return diag_set(d, TC_ELIMIT, "more than %zu networks", max);
		enum tcerr rc = conf_cidr_parse(w, &out[*n], d);
		if (rc)
			return rc;
		(*n)++;
	}
	return TC_OK;
}

enum tcerr
conf_dname_norm(struct slice s, char out[CONF_DNAME_MAX], struct diag *d)
{
	size_t n = 0, label = 0, labels = 0;
	if (s.len == 1 && s.p[0] == '.') {
		snprintf(out, CONF_DNAME_MAX, "%s", ".");
		return TC_OK;
	}
	if (s.len == 0 || s.len + 1 >= CONF_DNAME_MAX - 1)
		return diag_set(d, TC_EINVAL, "a domain name is 1..253 characters");
	for (size_t i = 0; i < s.len; i++) {
		char ch = s.p[i];
		if (ch == '.') {
			if (label == 0)
				return diag_set(d, TC_EINVAL, "an empty label in a domain name");
			label = 0;
			labels++;
			out[n++] = ch;
			continue;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		          ch == '_' || (ch == '*' && i == 0 && (s.len == 1 || s.p[1] == '.'));
		if (!ok)
			return diag_set(d, TC_EINVAL,
			                "a domain name holds letters, digits, '-', '_' and dots");
		if (++label > 63)
			return diag_set(d, TC_EINVAL, "a label longer than 63 characters");
		out[n++] = ch;
	}
	if (label)
		out[n++] = '.';
	out[n] = '\0';
	(void)labels;
	return TC_OK;
}

/* Decodes base64 (RFC 4648 §4, padded) to count its bytes. -1: invalid. */
static long
b64_len(struct slice s)
{
	size_t pad = 0, i;
	if (s.len == 0 || s.len % 4)
		return -1;
	for (i = 0; i < s.len; i++) {
		char ch = s.p[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		          (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
		if (ch == '=' && i + 2 >= s.len) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return -1;
	}
	return (long)(s.len / 4 * 3 - pad);
}

enum tcerr
conf_tsig_secret_read(const char *path, char out[CONF_TSIG_SECRET_MAX], struct diag *d)
{
	char text[4096];
	size_t len = 0, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	for (;;) {
		ssize_t r = read(fd, text + len, sizeof text - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof text - 1)
			break;
	}
	close(fd);
	struct slice rest = slice_make(text, len);
	while (rest.len) {
		const char *nl = memchr(rest.p, '\n', rest.len);
		size_t l = nl ? (size_t)(nl - rest.p) : rest.len;
		struct slice line = slice_trim(slice_make(rest.p, l));
		rest = nl ? slice_make(nl + 1, rest.len - l - 1) : slice_make(rest.p + l, 0);
		if (line.len == 0 || line.p[0] == '#')
			continue;
		if (n + line.len >= CONF_TSIG_SECRET_MAX) {
			explicit_bzero(text, sizeof text);
			return diag_set(d, TC_EINVAL, "%s: the secret is longer than %d characters",
			                path, CONF_TSIG_SECRET_MAX - 1);
		}
		memcpy(out + n, line.p, line.len);
		n += line.len;
	}
	explicit_bzero(text, sizeof text);
	out[n] = '\0';
	long bytes = b64_len(slice_make(out, n));
	if (bytes < 16) {
		explicit_bzero(out, CONF_TSIG_SECRET_MAX);
		return diag_set(d, TC_EINVAL,
		                "%s: expected a base64 secret of at least 16 bytes (e.g. from "
		                "`tsig-keygen -a hmac-sha256 NAME`, or `head -c 32 /dev/urandom | "
		                "base64`)",
		                path);
	}
	return TC_OK;
}

/* Validates each word of a list value of kind k->kind. */
static enum tcerr
list_check(const struct conf_key *k, struct slice v, const char *origin, struct diag *d)
{
	struct slice rest = v, w;
	size_t n = 0;
	enum tcerr rc;
	while (conf_list_next(&rest, &w)) {
		n++;
		switch (k->kind) {
		case K_KINDS: {
			enum obs_kind kind;
			if (obs_kind_parse(w, &kind) ||
			    (kind != OBS_DOMAIN && kind != OBS_IPV4 && kind != OBS_IPV6))
				return diag_set(d, TC_EINVAL,
				                "%s: %s: \"%.*s\": an RPZ zone carries domain, ipv4 "
				                "and ipv6 decisions only",
				                origin, k->key, (int)(w.len > 64 ? 64 : w.len), w.p);
			break;
		}
		case K_WORDS:
			for (size_t i = 0; i < w.len; i++) {
				char ch = w.p[i];
				if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
				      (i > 0 && (ch == '-' || ch == '_'))))
					return diag_set(d, TC_EINVAL,
					                "%s: %s: \"%.*s\": use lower-case letters, "
					                "digits, '-' and '_'",
					                origin, k->key, (int)(w.len > 64 ? 64 : w.len),
					                w.p);
			}
			break;
		case K_CIDRS: {
			struct conf_cidr c;
			if (n > CONF_RPZ_ACL_MAX)
				return diag_set(d, TC_ELIMIT, "%s: %s: more than %d networks", origin,
				                k->key, CONF_RPZ_ACL_MAX);
			if ((rc = conf_cidr_parse(w, &c, d))) {
				diag_prefix(d, "%s: %s", origin, k->key);
				return rc;
			}
			break;
		}
		case K_ADDRS: {
			char tmp[CONF_ADDR_MAX];
			struct sockaddr_storage sa;
			socklen_t salen;
			if (n > CONF_RPZ_NOTIFY_MAX)
				return diag_set(d, TC_ELIMIT, "%s: %s: more than %d addresses", origin,
				                k->key, CONF_RPZ_NOTIFY_MAX);
			if (w.len >= sizeof tmp)
				return diag_set(d, TC_EINVAL, "%s: %s: an address is too long", origin,
				                k->key);
			memcpy(tmp, w.p, w.len);
			tmp[w.len] = '\0';
			if ((rc = conf_addr_parse(tmp, &sa, &salen, d))) {
				diag_prefix(d, "%s: %s", origin, k->key);
				return rc;
			}
			break;
		}
		default:
			break;
		}
	}
	return TC_OK;
}

/* Sets key k of the structure at base (struct conf or struct
 * conf_api_root) from v. */
static enum tcerr
key_set(const struct conf_key *k, char *base, struct slice v, const char *origin, struct diag *d)
{
	uint64_t x;
	enum tcerr rc;

	switch (k->kind) {
	case K_ADDR: {
		char tmp[CONF_ADDR_MAX];
		struct sockaddr_storage sa;
		socklen_t salen;
		if (slice_eq_cstr(v, "off")) {
			base[k->off] = '\0';
			break;
		}
		if ((rc = set_string(k, tmp, v, origin, d)))
			return rc;
		if ((rc = conf_addr_parse(tmp, &sa, &salen, d))) {
			diag_prefix(d, "%s: %s", origin, k->key);
			return rc;
		}
		memcpy(base + k->off, tmp, v.len + 1);
		break;
	}
	case K_PATH:
		if (v.len == 0)
			return diag_set(d, TC_EINVAL, "%s: %s: empty file name", origin, k->key);
		/* fall through */
	case K_TEXT:
		if ((rc = set_string(k, base + k->off, v, origin, d)))
			return rc;
		break;
	case K_NAME:
		if (v.len == 0 || v.len >= k->size)
			return diag_set(d, TC_EINVAL, "%s: %s: must be 1..%zu characters", origin,
			                k->key, k->size - 1);
		for (size_t i = 0; i < v.len; i++) {
			char ch = v.p[i];
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			          (i > 0 && (ch == '-' || ch == '_'));
			if (!ok)
				return diag_set(d, TC_EINVAL,
				                "%s: %s: use lower-case letters, digits, '-' and '_' "
				                "(starting with a letter or digit)",
				                origin, k->key);
		}
		memcpy(base + k->off, v.p, v.len);
		base[k->off + v.len] = '\0';
		break;
	case K_UINT:
	case K_SIZE:
		rc = parse_u64(v, k->kind == K_SIZE, &x);
		if (rc == TC_EINVAL)
			return diag_set(d, TC_EINVAL, "%s: %s: expected a number%s", origin, k->key,
			                k->kind == K_SIZE ? " (suffix k, M or G allowed)" : "");
		if (rc || x < k->min || x > k->max)
			return diag_set(d, TC_ELIMIT, "%s: %s: must be %llu..%llu", origin, k->key,
			                (unsigned long long)k->min, (unsigned long long)k->max);
		if (k->kind == K_UINT)
			*(unsigned *)(void *)(base + k->off) = (unsigned)x;
		else
			*(size_t *)(void *)(base + k->off) = (size_t)x;
		break;
	case K_BOOL: {
		bool b;
		if (slice_eq_cstr(v, "true") || slice_eq_cstr(v, "yes") || slice_eq_cstr(v, "on"))
			b = true;
		else if (slice_eq_cstr(v, "false") || slice_eq_cstr(v, "no") ||
		         slice_eq_cstr(v, "off"))
			b = false;
		else
			return diag_set(d, TC_EINVAL, "%s: %s: expected true or false", origin,
			                k->key);
		*(bool *)(void *)(base + k->off) = b;
		break;
	}
	case K_LEVEL: {
		size_t i;
		for (i = 0; i < 4; i++)
			if (slice_eq_cstr(v, level_names[i]))
				break;
		if (i == 4)
			return diag_set(d, TC_EINVAL, "%s: %s: expected debug, info, warn or error",
			                origin, k->key);
		*(enum conf_log_level *)(void *)(base + k->off) = (enum conf_log_level)i;
		break;
	}
	case K_TLP: {
		char t[16];
		enum tlp_level l;
		if (v.len >= sizeof t)
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected clear, green, amber, amber+strict or red",
			                origin, k->key);
		memcpy(t, v.p, v.len);
		t[v.len] = '\0';
		if (stix_tlp_parse(t, &l) != TC_OK || l == TLP_NONE)
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected clear, green, amber, amber+strict or red",
			                origin, k->key);
		*(enum tlp_level *)(void *)(base + k->off) = l;
		break;
	}
	case K_TLPANY: {
		char t[16];
		enum tlp_level l = TLP_NONE;
		if (v.len >= sizeof t)
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected any, clear, green, amber, amber+strict or red",
			                origin, k->key);
		memcpy(t, v.p, v.len);
		t[v.len] = '\0';
		if (strcmp(t, "any") != 0 && (stix_tlp_parse(t, &l) != TC_OK || l == TLP_NONE))
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected any, clear, green, amber, amber+strict or red",
			                origin, k->key);
		*(enum tlp_level *)(void *)(base + k->off) = l;
		break;
	}
	case K_DNAME: {
		char n[CONF_DNAME_MAX];
		if ((rc = conf_dname_norm(v, n, d))) {
			diag_prefix(d, "%s: %s", origin, k->key);
			return rc;
		}
		snprintf(base + k->off, k->size, "%s", n);
		break;
	}
	case K_VIEW: {
		if (slice_eq_cstr(v, "operator")) {
			snprintf(base + k->off, k->size, "%s", "operator");
			break;
		}
		if (!slice_starts_with(v, "org:") || v.len == 4)
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected operator (every decision) or org:NAME (what "
			                "organisation NAME may see)",
			                origin, k->key);
		if ((rc = set_string(k, base + k->off, v, origin, d)))
			return rc;
		break;
	}
	case K_KINDS:
	case K_WORDS:
	case K_CIDRS:
	case K_ADDRS:
		if ((rc = list_check(k, v, origin, d)))
			return rc;
		if ((rc = set_string(k, base + k->off, v, origin, d)))
			return rc;
		break;
	case K_ACTION: {
		char n[CONF_DNAME_MAX];
		if (slice_eq_cstr(v, "nxdomain") || slice_eq_cstr(v, "nodata")) {
			memcpy(base + k->off, v.p, v.len);
			base[k->off + v.len] = '\0';
			break;
		}
		if (!slice_starts_with(v, "cname ") ||
		    conf_dname_norm(slice_trim(slice_make(v.p + 6, v.len - 6)), n, d) ||
		    n[0] == '*' || strcmp(n, ".") == 0)
			return diag_set(d, TC_EINVAL,
			                "%s: %s: expected nxdomain, nodata or cname TARGET (a walled "
			                "garden's name, e.g. cname garden.example.)",
			                origin, k->key);
		snprintf(base + k->off, k->size, "cname %s", n);
		break;
	}
	}
	if (k->origin_off)
		snprintf(base + k->origin_off, CONF_ORIGIN_MAX, "%s", origin);
	return TC_OK;
}

enum tcerr
conf_set(struct conf *c, const char *section, const char *key, struct slice v,
         const char *origin, struct diag *d)
{
	const struct conf_key *k = key_find(section, slice_from_cstr(key));

	if (!k)
		return diag_set(d, TC_ENOTFOUND, "%s: unknown key \"%s\" in [%s]", origin, key,
		                section);
	return key_set(k, (char *)c, v, origin, d);
}

size_t
conf_body_max(const struct conf *c)
{
	size_t m = c->max_content_length;
	for (size_t i = 0; i < c->nroots; i++)
		if (c->roots[i].max_content_length > m)
			m = c->roots[i].max_content_length;
	return m;
}

/* Unquotes a "..." value into out (at most CONF_LINE_MAX bytes). */
static enum tcerr
unquote(struct slice v, char *out, size_t *outlen)
{
	size_t n = 0;
	if (v.len < 2 || v.p[v.len - 1] != '"')
		return TC_EINVAL;
	for (size_t i = 1; i + 1 < v.len; i++) {
		char ch = v.p[i];
		if (ch == '\\') {
			if (i + 2 >= v.len || (v.p[i + 1] != '"' && v.p[i + 1] != '\\'))
				return TC_EINVAL;
			ch = v.p[++i];
		} else if (ch == '"') {
			return TC_EINVAL;
		}
		out[n++] = ch;
	}
	*outlen = n;
	return TC_OK;
}

/* The value of key on this line: refused when the key was set already in
 * its section (*seen, on line *seen_line), unquoted into val when quoted
 * (*v then points into val, which holds CONF_LINE_MAX bytes). */
static enum tcerr
value_once(const char *key, bool *seen, long *seen_line, long line, struct slice *v, char *val,
           const char *origin, struct diag *d)
{
	if (*seen)
		return diag_set(d, TC_EEXIST, "%s: %s already set on line %ld", origin, key,
		                *seen_line);
	*seen = true;
	*seen_line = line;
	if (v->len && v->p[0] == '"') {
		size_t n;
		if (unquote(*v, val, &n))
			return diag_set(d, TC_EINVAL,
			                "%s: %s: bad quoted value (only \\\" and \\\\ escapes)",
			                origin, key);
		*v = slice_make(val, n);
	}
	return TC_OK;
}

enum tcerr
conf_parse(struct conf *c, const char *name, struct slice text, struct diag *d)
{
	char section[16] = "";
	const struct named_kind *nk = NULL; /* in a [WORD NAME] section */
	char *elem = NULL;                  /* its element */
	bool named_seen[NAMED_KEYS_MAX];
	long named_seen_line[NAMED_KEYS_MAX];
	bool seen[NKEYS];
	long seen_line[NKEYS];
	char origin[CONF_ORIGIN_MAX];
	char *val = NULL;
	long line = 0;
	size_t pos = 0;
	enum tcerr rc = TC_OK;

	memset(seen, 0, sizeof seen);
	diag_clear(d);
	if (text.len > CONF_FILE_MAX)
		return diag_set(d, TC_ELIMIT, "%s: larger than %d bytes", name, CONF_FILE_MAX);
	val = malloc(CONF_LINE_MAX);
	if (!val)
		return diag_set(d, TC_ENOMEM, "%s: out of memory", name);

	while (pos < text.len) {
		const char *nl = memchr(text.p + pos, '\n', text.len - pos);
		size_t end = nl ? (size_t)(nl - text.p) : text.len;
		struct slice l = slice_make(text.p + pos, end - pos);
		line++;
		pos = end + 1;
		snprintf(origin, sizeof origin, "%s:%ld", name, line);
		if (l.len > CONF_LINE_MAX) {
			rc = diag_set(d, TC_ELIMIT, "%s: line longer than %d bytes", origin,
			              CONF_LINE_MAX);
			goto out;
		}
		if (memchr(l.p, '\0', l.len)) {
			rc = diag_set(d, TC_EINVAL, "%s: NUL byte", origin);
			goto out;
		}
		l = slice_trim(l);
		if (l.len == 0 || l.p[0] == '#' || l.p[0] == ';')
			continue;
		if (l.p[0] == '[') {
			struct slice s;
			if (l.p[l.len - 1] != ']' || l.len < 3) {
				rc = diag_set(d, TC_EINVAL, "%s: expected [section]", origin);
				goto out;
			}
			s = slice_trim(slice_make(l.p + 1, l.len - 2));
			struct slice nm;
			nk = named_kind_of(s, &nm);
			elem = NULL;
			if (nk) {
				if ((rc = named_open(c, nk, nm, line, origin, &elem, d)))
					goto out;
				memset(named_seen, 0, sizeof named_seen);
				snprintf(section, sizeof section, "%s", nk->word);
				continue;
			}
			if (!section_known(s) || s.len >= sizeof section) {
				char known[CONF_SECTIONS_TEXT_MAX];
				sections_text(known, sizeof known);
				rc = diag_set(d, TC_ENOTFOUND, "%s: unknown section [%.*s] (known: %s)",
				              origin, (int)(s.len > 64 ? 64 : s.len), s.p, known);
				goto out;
			}
			memcpy(section, s.p, s.len);
			section[s.len] = '\0';
			continue;
		}
		const char *eq = memchr(l.p, '=', l.len);
		if (!eq) {
			rc = diag_set(d, TC_EINVAL, "%s: expected key = value", origin);
			goto out;
		}
		struct slice k = slice_trim(slice_make(l.p, (size_t)(eq - l.p)));
		struct slice v = slice_trim(slice_make(eq + 1, l.len - (size_t)(eq - l.p) - 1));
		if (!section[0]) {
			rc = diag_set(d, TC_EINVAL, "%s: key before any [section]", origin);
			goto out;
		}
		if (elem) {
			const struct conf_key *nkey = named_key(nk, k, elem, origin, d);
			if (!nkey) {
				rc = TC_ENOTFOUND;
				goto out;
			}
			size_t ni = (size_t)(nkey - nk->keys);
			if ((rc = value_once(nkey->key, &named_seen[ni], &named_seen_line[ni], line, &v,
			                     val, origin, d)))
				goto out;
			if ((rc = key_set(nkey, elem, v, origin, d)))
				goto out;
			continue;
		}
		const struct conf_key *ck = key_find(section, k);
		if (!ck) {
			rc = diag_set(d, TC_ENOTFOUND, "%s: unknown key \"%.*s\" in [%s]", origin,
			              (int)(k.len > 64 ? 64 : k.len), k.p, section);
			goto out;
		}
		size_t ki = (size_t)(ck - conf_keys);
		if ((rc = value_once(ck->key, &seen[ki], &seen_line[ki], line, &v, val, origin, d)))
			goto out;
		if ((rc = conf_set(c, section, ck->key, v, origin, d)))
			goto out;
	}
out:
	if (rc && d)
		d->line = line;
	free(val);
	return rc;
}

enum tcerr
conf_load(struct conf *c, const char *path, struct diag *d)
{
	enum tcerr rc = TC_OK;
	char *text = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	/* a regular file, or a pipe (--config <(...)); never a directory */
	if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		rc = diag_set(d, TC_EIO, "%s: not a file", path);
		goto out;
	}
	text = malloc(CONF_FILE_MAX + 1);
	if (!text) {
		rc = diag_set(d, TC_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (len <= CONF_FILE_MAX) {
		ssize_t r = read(fd, text + len, CONF_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONF_FILE_MAX) {
		rc = diag_set(d, TC_ELIMIT, "%s: larger than %d bytes", path, CONF_FILE_MAX);
		goto out;
	}
	rc = conf_parse(c, path, slice_make(text, len), d);
out:
	free(text);
	close(fd);
	return rc;
}

enum tcerr
conf_check(const struct conf *c, struct diag *d)
{
	if (!c->listen[0] && !c->tls_listen[0])
		return diag_set(d, TC_EINVAL,
		                "no listener: set [server] listen or tls_listen (listen = off "
		                "needs tls_listen)");
	if (c->tls_listen[0] && (!c->tls_cert[0] || !c->tls_key[0]))
		return diag_set(d, TC_EINVAL, "%s: tls_listen needs tls_cert and tls_key in [server]",
		                c->origin_tls_listen[0] ? c->origin_tls_listen : "tls_listen");
	if ((c->tls_cert[0] || c->tls_key[0]) && !c->tls_listen[0])
		return diag_set(d, TC_EINVAL, "%s: tls_cert and tls_key need tls_listen in [server]",
		                c->origin_tls_cert[0] ? c->origin_tls_cert : "tls_cert");
	if (c->client_ca[0] && !c->tls_listen[0])
		return diag_set(d, TC_EINVAL,
		                "%s: client_ca needs tls_listen (client certificates come over TLS)",
		                c->origin_client_ca);
	if (c->webhook_backoff_initial_ms > c->webhook_backoff_max_ms)
		return diag_set(d, TC_EINVAL,
		                "[webhooks]: backoff_initial_ms (%u) is above backoff_max_ms (%u)",
		                c->webhook_backoff_initial_ms, c->webhook_backoff_max_ms);
	for (size_t i = 0; i < c->nrpz; i++) {
		const struct conf_rpz *z = &c->rpz[i];
		char secret[CONF_TSIG_SECRET_MAX];
		const char *missing = !z->origin[0] ? "origin" : !z->view[0] ? "view"
		                      : !z->tsig_key[0] ? "tsig_key"
		                      : !z->tsig_secret_file[0] ? "tsig_secret_file" : NULL;
		if (missing)
			return diag_set(d, TC_EINVAL,
			                "[rpz %s] (line %ld): %s is required (docs/dns.md: origin, "
			                "view, tsig_key and tsig_secret_file)",
			                z->name, z->line, missing);
		if (!z->kinds[0])
			return diag_set(d, TC_EINVAL, "[rpz %s] (line %ld): kinds is empty", z->name,
			                z->line);
		if (!c->dns_listen[0])
			return diag_set(d, TC_EINVAL,
			                "[rpz %s] (line %ld): the zone needs a DNS listener: set "
			                "[dns] listen = ADDR:PORT",
			                z->name, z->line);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->rpz[j].origin, z->origin) == 0)
				return diag_set(d, TC_EINVAL, "[rpz %s]: origin %s is [rpz %s]'s too",
				                z->name, z->origin, c->rpz[j].name);
		enum tcerr rc = conf_tsig_secret_read(z->tsig_secret_file, secret, d);
		explicit_bzero(secret, sizeof secret);
		if (rc) {
			diag_prefix(d, "[rpz %s] tsig_secret_file", z->name);
			return rc;
		}
	}
	return TC_OK;
}

static void
print_quoted(struct buf *out, const char *s)
{
	buf_append_char(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_char(out, '\\');
		buf_append_char(out, *s);
	}
	buf_append_char(out, '"');
}

static void
print_key(const struct conf_key *k, const char *base, struct buf *out)
{
		switch (k->kind) {
		case K_ADDR:
		case K_PATH:
		case K_TEXT:
		case K_NAME: {
			const char *s = base + k->off;
			if (!*s && k->kind != K_TEXT) {
				if (k->kind == K_ADDR)
					buf_printf(out, "%s = off\n", k->key);
				else
					buf_printf(out, "# %s is not set\n", k->key);
				break;
			}
			if (k->kind == K_ADDR || k->kind == K_NAME) {
				buf_printf(out, "%s = %s\n", k->key, s);
				break;
			}
			buf_printf(out, "%s = ", k->key);
			print_quoted(out, s);
			buf_append_char(out, '\n');
			break;
		}
		case K_UINT:
			buf_printf(out, "%s = %u\n", k->key, *(const unsigned *)(const void *)(base + k->off));
			break;
		case K_SIZE:
			buf_printf(out, "%s = %zu\n", k->key, *(const size_t *)(const void *)(base + k->off));
			break;
		case K_BOOL:
			buf_printf(out, "%s = %s\n", k->key,
			           *(const bool *)(const void *)(base + k->off) ? "true" : "false");
			break;
		case K_LEVEL:
			buf_printf(out, "%s = %s\n", k->key,
			           conf_log_level_name(
			               *(const enum conf_log_level *)(const void *)(base + k->off)));
			break;
		case K_TLP:
			buf_printf(out, "%s = %s\n", k->key,
			           stix_tlp_name(*(const enum tlp_level *)(const void *)(base + k->off)));
			break;
		case K_TLPANY: {
			enum tlp_level l = *(const enum tlp_level *)(const void *)(base + k->off);
			buf_printf(out, "%s = %s\n", k->key, l == TLP_NONE ? "any" : stix_tlp_name(l));
			break;
		}
		case K_DNAME:
		case K_VIEW:
		case K_KINDS:
		case K_WORDS:
		case K_ACTION:
		case K_CIDRS:
		case K_ADDRS:
			if (!base[k->off])
				buf_printf(out, "# %s is not set\n", k->key);
			else
				buf_printf(out, "%s = %s\n", k->key, base + k->off);
			break;
		}
}

void
conf_print(const struct conf *c, struct buf *out)
{
	const char *section = "";
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (strcmp(section, k->section) != 0) {
			buf_printf(out, "%s[%s]\n", i ? "\n" : "", k->section);
			section = k->section;
		}
		print_key(k, (const char *)c, out);
	}
	for (size_t r = 0; r < c->nroots; r++) {
		const struct conf_api_root *root = &c->roots[r];
		buf_printf(out, "\n[api_root %s]\n", root->name);
		for (size_t i = 0; i < NROOTKEYS; i++) {
			const struct conf_key *k = &root_keys[i];
			if (k->kind == K_SIZE && root->max_content_length == 0) {
				buf_printf(out, "# %s is not set: [taxii] max_content_length applies\n",
				           k->key);
				continue;
			}
			print_key(k, (const char *)root, out);
		}
	}
	for (size_t r = 0; r < c->nrpz; r++) {
		buf_printf(out, "\n[rpz %s]\n", c->rpz[r].name);
		for (size_t i = 0; i < NRPZKEYS; i++)
			print_key(&rpz_keys[i], (const char *)&c->rpz[r], out);
	}
}
