/*
 * conf.h — tocsind's configuration: one INI-style file, defaults in one
 * table, every key validated with a "file:line: message" error. It lives
 * in lib/ because the CLI reads the same file (`tocsin import --config`:
 * the [ingest] limits) with the same code.
 *
 * The format (docs/daemon.md, etc/tocsind.conf): `[section]` lines, then
 * `key = value` lines; blank lines and lines starting with '#' or ';' are
 * ignored (no comments after a value: '#' may be part of a title).
 * `[api_root NAME]` sections (any number up to CONF_API_ROOTS_MAX, each
 * name once) define further API roots with their own title, description
 * and max_content_length. A value
 * may be written in double quotes to keep leading or trailing spaces, with
 * \" and \\ as the only escapes. Unknown sections and keys, a key set
 * twice, a key before any section and a value out of its named range are
 * errors. Command-line options override the file through conf_set(), and
 * conf_check() then validates the keys that depend on each other. The
 * effective configuration printed by conf_print() parses back to itself.
 */
#ifndef TOCSIN_CONF_H
#define TOCSIN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define CONF_FILE_MAX (1024 * 1024)        /* bytes of a configuration file */
#define CONF_LINE_MAX 4096                 /* bytes of one line */
#define CONF_PATH_MAX 1024                 /* bytes of a file name value */
#define CONF_ADDR_MAX 64                   /* bytes of "ADDR:PORT" */
#define CONF_TEXT_MAX 1024                 /* bytes of title, description, contact */
#define CONF_API_ROOT_MAX 64               /* bytes of the API root name */
#define CONF_THREADS_MAX 256               /* request threads */
#define CONF_CONNECTION_LIMIT_MAX 100000   /* simultaneous connections */
#define CONF_CONNECTION_TIMEOUT_MAX 86400  /* seconds of idleness */
#define CONF_HEADER_TIMEOUT_MAX 3600       /* seconds to deliver a request's header */
#define CONF_MAX_CONTENT_MIN 1024          /* bytes: below this no envelope fits */
#define CONF_MAX_CONTENT_MAX ((size_t)1 << 30)
#define CONF_BODY_MEMORY_MAX ((size_t)1 << 36)
#define CONF_MAX_PAGE_MAX 100000           /* objects per page */
#define CONF_BATCH_MAX_OBJECTS_MAX 100000  /* = HUB_MAX_BATCH */
#define CONF_BATCH_MAX_WAIT_MAX 1000000    /* µs the writer may wait to fill a batch */
#define CONF_API_ROOTS_MAX 32              /* [api_root NAME] sections */
#define CONF_MATCH_VALUES_MAX 1000000      /* [match] max_values (= HUB_LOOKUP_MAX_VALUES) */
#define CONF_MATCH_VALUE_BYTES_MAX 2048    /* [match] max_value_bytes (= OBS_VALUE_MAX) */
#define CONF_MATCH_CACHE_MAX (1u << 26)    /* [match] cache_entries (= HUB_LOOKUP_CACHE_MAX) */
#define CONF_ESCALATE_MAX (365u * 86400) /* [coord] escalate_lead_after */
#define CONF_WEBHOOK_WORKERS_MAX 64        /* [webhooks] delivery threads */
#define CONF_WEBHOOK_ATTEMPTS_MAX 1000     /* failures before dead-letter */
#define CONF_WEBHOOK_BATCH_MAX 10000       /* events in one delivery */
#define CONF_PEER_BATCH_MAX 100000  /* [peers] batch_max_objects */
#define CONF_WEBHOOK_MS_MAX 3600000        /* any [webhooks] *_ms key: one hour */
#define CONF_REPORTS_BODY_MAX 65536        /* [reports] max_body (= REPORT_JSON_MAX) */
#define CONF_REPORTS_RATE_MAX 1000000      /* [reports] rate_per_minute, rate_burst */
#define CONF_REPORTS_CLIENTS_MAX (1u << 24) /* [reports] rate_clients (= REPORT_RATE_SLOTS_MAX) */
#define CONF_SOURCE_MS_MAX 3600000         /* any [sources] *_ms key: one hour */
#define CONF_SOURCE_BYTES_MAX ((size_t)1 << 31) /* [sources] max_bytes */
#define CONF_SOURCE_ENTRIES_MAX 10000000   /* [sources] max_entries */
#define CONF_BOUNCER_DECISIONS_MAX 10000000 /* [bouncers] *_max_decisions */
#define CONF_BOUNCER_HOURS_MAX 2000000     /* [bouncers] no_expiry_hours (Go's limit: 2562047h) */
#define CONF_HEARTBEAT_MAX 3600            /* seconds between stream heartbeats */
#define CONF_CLIENT_BUFFER_MIN (64 * 1024) /* bytes of a stream client's buffer */
#define CONF_CLIENT_BUFFER_MAX ((size_t)1 << 30)
#define CONF_STREAM_CLIENTS_MAX 100000     /* concurrent stream clients */
#define CONF_RPZ_ZONES_MAX 16              /* [rpz NAME] sections */
#define CONF_DNAME_MAX 256                 /* text of a domain name, final dot included */
#define CONF_LIST_MAX 1024                 /* bytes of a list value (CIDRs, addresses, names) */
#define CONF_RPZ_ACL_MAX 32                /* CIDRs in one zone's allow */
#define CONF_RPZ_NOTIFY_MAX 16             /* secondaries one zone notifies */
#define CONF_SOA_TIMER_MAX 2147483647u     /* RFC 2181 §8: 31 bits */
#define CONF_DNS_RATE_MAX 100000           /* UDP answers per second per source */
#define CONF_DNS_TCP_CLIENTS_MAX 4096
#define CONF_DNS_JOURNAL_MAX 10000000      /* zone changes kept for IXFR */

#define CONF_DEFAULT_LISTEN "127.0.0.1:8480"

enum conf_log_level {
	CONF_LOG_DEBUG = 0,
	CONF_LOG_INFO,
	CONF_LOG_WARN,
	CONF_LOG_ERROR,
};

/* Where a key's value came from, for messages about keys that depend on
 * each other: "FILE:LINE" or "--option" or "" for a default. */
#define CONF_ORIGIN_MAX (CONF_PATH_MAX + 24)

/* One [api_root NAME] section: an API root served at /taxii2/NAME/. */
struct conf_api_root {
	char name[CONF_API_ROOT_MAX];
	char title[CONF_TEXT_MAX];         /* "" = [taxii] title for the default root, else NAME */
	char description[CONF_TEXT_MAX];   /* "" = not sent */
	size_t max_content_length;         /* 0 = [taxii] max_content_length */
	long line;                         /* where the section starts, for messages */
};

/* One [rpz NAME] section: an RPZ zone tocsind serves over DNS
 * (docs/dns.md). Lists are words separated by spaces or commas, kept as
 * text (normalised) and parsed again by the DNS server with the
 * conf_*_parse helpers below, which are also what validated them. */
struct conf_rpz {
	char name[CONF_API_ROOT_MAX];
	char origin[CONF_DNAME_MAX];       /* "rpz.example." (lower case, final dot); required */
	char view[CONF_TEXT_MAX];          /* "operator" or "org:NAME": whose decisions; required */
	char kinds[CONF_LIST_MAX];         /* observable kinds: domain, ipv4, ipv6 */
	char collections[CONF_LIST_MAX];   /* aliases; "" = every collection the view may read */
	unsigned min_confidence;           /* 0 = no minimum */
	enum tlp_level tlp;                /* the most restrictive TLP wanted; TLP_NONE = any */
	char action[CONF_DNAME_MAX + 8];   /* "nxdomain", "nodata" or "cname TARGET." */
	char allow[CONF_LIST_MAX];         /* CIDRs that may query and transfer */
	char allow_unsigned_transfer[CONF_LIST_MAX]; /* CIDRs (within allow) that may
	                                    * transfer without TSIG: secondaries that cannot
	                                    * sign (Unbound); "" = none */
	char tsig_key[CONF_DNAME_MAX];     /* TSIG key name (HMAC-SHA256); required */
	char tsig_secret_file[CONF_PATH_MAX]; /* file holding the base64 secret; required */
	char notify[CONF_LIST_MAX];        /* "ADDR:PORT ..." secondaries to NOTIFY */
	unsigned ttl, refresh, retry, expire, minimum; /* SOA (RFC 1035 §3.3.13), seconds */
	long line;                         /* where the section starts, for messages */
};

struct conf {
	/* [server] */
	char listen[CONF_ADDR_MAX];        /* "" = no plain HTTP listener ("off") */
	char tls_listen[CONF_ADDR_MAX];    /* "" = no TLS listener */
	char tls_cert[CONF_PATH_MAX];      /* PEM certificate chain */
	char tls_key[CONF_PATH_MAX];       /* PEM private key */
	char client_ca[CONF_PATH_MAX];     /* PEM CA bundle: client certificates required */
	unsigned threads;                  /* 0 = 4 per online CPU, at least 8 */
	unsigned connection_limit;
	unsigned connection_timeout;       /* seconds */
	unsigned per_address_limit;        /* connections from one client address */
	unsigned header_timeout;           /* seconds to deliver a request header */
	size_t body_memory_limit;          /* bytes of request bodies held at once */
	/* [taxii] */
	char api_root[CONF_API_ROOT_MAX];
	char title[CONF_TEXT_MAX];
	char description[CONF_TEXT_MAX];   /* "" = not sent */
	char contact[CONF_TEXT_MAX];       /* "" = not sent */
	size_t max_content_length;
	size_t max_page;
	/* [policy] */
	enum tlp_level default_tlp;        /* what an unmarked version counts as */
	/* [metrics] */
	bool metrics_require_auth;
	/* [log] */
	enum conf_log_level log_level;
	bool log_access;
	/* [writer] */
	size_t batch_max_objects;
	unsigned batch_max_wait_us;
	/* [match]: the lookup API (docs/lookup.md) */
	size_t match_max_values;           /* values in one request */
	size_t match_max_value_bytes;      /* bytes of one value */
	size_t match_max_body;             /* bytes of a POST body */
	size_t match_cache_entries;        /* indicators cached for lookups; 0: none */
	/* [ingest] */
	unsigned widest_prefix_v4;         /* obs_breadth_check: 1..32, default 8 */
	unsigned widest_prefix_v6;         /* 1..128, default 32 */
	/* [decisions] */
#define CONF_HALF_LIFE_DAYS_MAX 3650
#define CONF_BOOST_ORGS_MAX 100
#define CONF_BOOST_ORGS_DEFAULT 3
	unsigned block_min_confidence;     /* below it a decision's action is "alert": 0..100,
	                                    * default 0 (every decision blocks) */
	/* the effective confidence rule (docs/sightings.md): days to halve,
	 * 0 = no decay; points per sighting organisation, 0 = none; at most
	 * this many organisations count (default 3) */
	unsigned confidence_half_life, sighting_boost, sighting_boost_orgs;
	/* [bouncers] (docs/bouncers.md): the CrowdSec LAPI endpoints */
	size_t bouncer_startup_max_decisions; /* one startup=true answer; more: 507 */
	size_t bouncer_poll_max_decisions; /* one startup=false answer; the rest next poll */
	unsigned bouncer_no_expiry_hours;  /* duration given to a decision without until */
	/* [coord] (docs/coordination.md) */
	char coord_routes[CONF_PATH_MAX];  /* routing rules file; "" = none */
	bool coord_constituency_tasks;     /* constituency matches make tasks */
	unsigned coord_escalate_lead_after; /* seconds from level 1 to the sector's lead */
	char coord_tasks_collection[CONF_TEXT_MAX]; /* collection tasks are mirrored to; "" = none */
	char coord_smtp_url[CONF_PATH_MAX]; /* smtp://HOST:PORT for task e-mail; "" = none */
	char coord_mail_from[CONF_TEXT_MAX]; /* the envelope and From: address */
	bool coord_smtp_starttls;          /* require STARTTLS on smtp:// */
	unsigned coord_smtp_timeout_ms;    /* one message, connect included */
	/* [webhooks] (docs/webhooks.md) */
	bool webhook_allow_http;           /* http:// URLs accepted */
	bool webhook_allow_private;        /* loopback, private, ULA, link-local accepted */
	char webhook_ca_file[CONF_PATH_MAX]; /* PEM CAs trusted for receivers; "" = system's */
	unsigned webhook_workers;          /* delivery threads */
	unsigned webhook_max_attempts;     /* consecutive failures before dead-letter */
	size_t webhook_batch_max_events;   /* events in one POST */
	size_t webhook_batch_max_bytes;    /* bytes of one POST body (one event may exceed) */
	unsigned webhook_backoff_initial_ms; /* first retry delay */
	unsigned webhook_backoff_max_ms;   /* retry delay cap */
	unsigned webhook_connect_timeout_ms;
	unsigned webhook_timeout_ms;       /* a whole delivery, connect included */
	size_t webhook_response_max_bytes; /* bytes of a receiver's answer read */
	/* [sources] (docs/sources.md): feeds tocsind pulls */
	bool sources_enabled;              /* the scheduler runs */
	bool source_allow_http;            /* http:// feed URLs accepted */
	bool source_allow_private;         /* loopback, private, link-local feed addresses */
	char source_ca_file[CONF_PATH_MAX]; /* PEM CAs trusted for feeds; "" = system's */
	unsigned source_connect_timeout_ms;
	unsigned source_timeout_ms;        /* one request, connect included */
	size_t source_max_bytes;           /* bytes of one answer */
	size_t source_max_entries;         /* entries of one feed */
	size_t source_misp_max_events;     /* events of one MISP feed's manifest */
	/* [peers] (docs/peers.md) */
	unsigned peer_poll_interval_ms;    /* a plain TAXII peer is polled this often */
	unsigned peer_backoff_max_ms;      /* reconnect delay cap after a failure */
	size_t peer_batch_max_objects;     /* objects stored from a peer in one transaction */
	unsigned peer_connect_timeout_ms;
	char peer_ca_file[CONF_PATH_MAX];  /* PEM CAs trusted for peers; "" = system's */
	bool peer_require_provenance;      /* refuse peers' objects without signed provenance */
	/* [stream] */
	unsigned stream_heartbeat;         /* seconds between heartbeat comments */
	size_t stream_client_buffer;       /* bytes buffered per client before it is cut */
	unsigned stream_max_clients;       /* concurrent streams, all organisations */
	unsigned stream_max_clients_per_org; /* concurrent streams of one organisation */
	/* [reports] (docs/reports.md): citizen reports */
	bool reports_enabled;              /* GET/POST /report and /api/v1/reports served */
	unsigned reports_promote_threshold; /* independent reporters that promote a group; 0 off */
	enum tlp_level reports_tlp;        /* TLP of a promoted indicator */
	unsigned reports_confidence;       /* its confidence, 0..100 */
	unsigned reports_valid_days;       /* its valid_until, days after promotion */
	char reports_collection[CONF_API_ROOT_MAX]; /* where it is published */
	char reports_country[CONF_TEXT_MAX]; /* the "citizen reports" organisation's country */
	size_t reports_max_body;           /* bytes of a report body (no login: small) */
	unsigned reports_rate_per_minute;  /* reports one client address may send a minute */
	unsigned reports_rate_burst;       /* ... at once */
	size_t reports_rate_clients;       /* addresses the rate table holds */
	/* [dns] */
	char dns_listen[CONF_ADDR_MAX];    /* "" = no DNS server ("off", the default) */
	unsigned dns_rate_limit;           /* UDP answers per second to one source address */
	unsigned dns_tcp_clients;          /* simultaneous TCP connections */
	unsigned dns_tcp_idle_timeout;     /* seconds a TCP connection may stay silent */
	unsigned dns_journal_max;          /* changes kept per zone to answer IXFR */
	/* [rpz NAME] sections, in file order */
	size_t nrpz;
	struct conf_rpz rpz[CONF_RPZ_ZONES_MAX];
	/* [api_root NAME] sections, in file order */
	size_t nroots;
	struct conf_api_root roots[CONF_API_ROOTS_MAX];

	/* origins of the keys conf_check() relates */
	char origin_tls_listen[CONF_ORIGIN_MAX];
	char origin_client_ca[CONF_ORIGIN_MAX];
	char origin_tls_cert[CONF_ORIGIN_MAX];
};

/* Fills c with the defaults (the one table in config.c). */
void conf_defaults(struct conf *c);

/* Sets one key. value is untrusted bytes. origin names where it came from
 * in messages ("tocsind.conf:12", "--listen"). Errors: TC_ENOTFOUND
 * (unknown section or key), TC_EINVAL (bad value), TC_ELIMIT (out of
 * range, too long); d->msg is "ORIGIN: message". */
enum tcerr conf_set(struct conf *c, const char *section, const char *key, struct slice value,
                    const char *origin, struct diag *d);

/* Parses a whole file's text (name is used in messages). Keys it sets
 * override what c held. Errors as conf_set, plus TC_EINVAL for syntax and
 * TC_EEXIST for a key set twice; d->msg is "NAME:LINE: message" and
 * d->line the line. */
enum tcerr conf_parse(struct conf *c, const char *name, struct slice text, struct diag *d);

/* Reads and parses the file at path. TC_EIO ("PATH: No such file ..."),
 * TC_ELIMIT (larger than CONF_FILE_MAX), or as conf_parse. */
enum tcerr conf_load(struct conf *c, const char *path, struct diag *d);

/* Checks the keys that depend on each other (a TLS listener needs a
 * certificate and key; client_ca needs a TLS listener; at least one
 * listener). TC_EINVAL with "ORIGIN: message". */
enum tcerr conf_check(const struct conf *c, struct diag *d);

/* The largest request body any API root accepts: the HTTP layer's cap
 * (the lookup API has its own, [match] max_body). */
size_t conf_body_max(const struct conf *c);

/* Appends the effective configuration, in the file format, to out. */
void conf_print(const struct conf *c, struct buf *out);

/* Parses "IPv4:PORT" or "[IPv6]:PORT" (numeric addresses only, port
 * 0..65535, 0 = any free port). OUT: *sa, *salen. TC_EINVAL. */
enum tcerr conf_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *salen,
                           struct diag *d);

const char *conf_log_level_name(enum conf_log_level l);

/* Lists: the next word of *rest (words are separated by spaces, tabs or
 * commas). Returns false at the end. */
bool conf_list_next(struct slice *rest, struct slice *word);

/* A network, "ADDR" (a host) or "ADDR/PREFIX". */
struct conf_cidr {
	int family;                        /* AF_INET or AF_INET6 */
	uint8_t addr[16];                  /* host bits cleared */
	unsigned prefix;
};
/* Errors: TC_EINVAL ("not an address/prefix"). */
enum tcerr conf_cidr_parse(struct slice s, struct conf_cidr *out, struct diag *d);
/* Does sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) lie in c? */
bool conf_cidr_match(const struct conf_cidr *c, const struct sockaddr *sa);
/* Parses an [rpz] allow list into out (at most max). TC_EINVAL, TC_ELIMIT. */
enum tcerr conf_cidr_list_parse(const char *list, struct conf_cidr *out, size_t max, size_t *n,
                                struct diag *d);
/* Normalises a domain name (letters, digits, '-', '_', '*' as a whole
 * first label; labels 1..63 bytes, 255 in all) to lower case with a
 * final dot. TC_EINVAL. */
enum tcerr conf_dname_norm(struct slice s, char out[CONF_DNAME_MAX], struct diag *d);
/* Reads a TSIG secret file: base64 text (blank lines and '#' lines
 * ignored), at least 16 bytes decoded. OUT: the base64 text, trimmed.
 * Errors: TC_EIO, TC_EINVAL. */
#define CONF_TSIG_SECRET_MAX 256           /* bytes of base64 text */
enum tcerr conf_tsig_secret_read(const char *path, char out[CONF_TSIG_SECRET_MAX],
                                 struct diag *d);

#endif
