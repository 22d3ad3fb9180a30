/*
 * source.h — feeds a hub pulls on a schedule (issue 12, point 4;
 * docs/sources.md): plain lists, IP blocklists, URL lists, CSV with
 * headers, MISP feeds and TAXII 2.1 collections, fetched over HTTP(S)
 * and turned into STIX indicators of the source's own organisation.
 *
 * Three parts, each usable alone:
 *   - parsers of untrusted feed bytes (source_list_parse for the line
 *     formats, source_misp_manifest for a MISP feed's manifest.json; MISP
 *     events and TAXII envelopes go through lib/import, which already
 *     reads them): every one bounded by named limits, none trusts the feed;
 *   - the plan (struct source_plan): from what a pull found and what the
 *     source had listed before (struct source_known, kept in the
 *     registry), the object versions to write — new entries, entries
 *     listed again, and a version with valid_until = now for each entry
 *     that dropped off the list — so a value still listed is never
 *     written again and re-pulls are idempotent;
 *   - one bounded HTTP GET (source_fetch) with If-None-Match /
 *     If-Modified-Since, through libcurl, connecting only to addresses
 *     the same check as webhooks (lib/webhook) allowed.
 *
 * Ids are deterministic: an entry of a list is indicator--ID where ID is
 * import_id(hub id key, "source\nNAME\nKIND\nVALUE"), i.e. a UUIDv5-like
 * keyed UUID of the source and the value (keyed, as every id a hub makes
 * from a value, so nobody outside can compute it: issue 9). MISP
 * attributes keep lib/import's ids; TAXII objects keep their own.
 */
#ifndef TOCSIN_SOURCE_H
#define TOCSIN_SOURCE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

/* Named limits (the [sources] keys of tocsind.conf override the sizes). */
#define SOURCE_NAME_MAX 64              /* [a-z0-9][a-z0-9._-]* */
#define SOURCE_LINE_MAX 4096            /* bytes of one line of a list or CSV feed */
#define SOURCE_MAX_ENTRIES 1000000      /* entries of one feed ([sources] max_entries) */
#define SOURCE_MAX_BYTES ((size_t)64 << 20) /* bytes of one answer ([sources] max_bytes) */
#define SOURCE_CSV_MAX_FIELDS 64        /* fields of one CSV record */
#define SOURCE_OPTIONS_MAX 1024         /* bytes of a source's format options text */
#define SOURCE_MISP_MAX_EVENTS 10000    /* events of one MISP manifest */
#define SOURCE_TAXII_MAX_PAGES 100      /* pages of one TAXII pull */
#define SOURCE_TAXII_PAGE 1000          /* objects asked per TAXII page (limit=) */
#define SOURCE_REJECTS_KEPT 5           /* rejection reasons kept for the status */
#define SOURCE_HEADER_MAX 512           /* bytes of ETag, Last-Modified, an auth header */

enum source_format {
	SOURCE_PLAIN = 1,       /* one value a line, any kind (lib/observable classifies it) */
	SOURCE_IP_BLOCKLIST,    /* an address or network a line, trailing comments */
	SOURCE_URL_LIST,        /* a URL a line */
	SOURCE_CSV,             /* CSV with a header line, columns mapped by options */
	SOURCE_MISP,            /* a MISP feed: URL/manifest.json and URL/<uuid>.json */
	SOURCE_TAXII,           /* a TAXII 2.1 collection's objects endpoint */
};
#define SOURCE_FORMAT_MAX SOURCE_TAXII

/* "plain", "ip-blocklist", "url-list", "csv", "misp-feed", "taxii". */
const char *source_format_name(enum source_format f);
/* Inverse of source_format_name. TC_EINVAL (d lists the names). */
enum tcerr source_format_parse(const char *name, enum source_format *out, struct diag *d);
/* true if name is a valid source name. */
bool source_name_ok(const char *name);

/* Format options, stored as text: one "key=value" a line.
 *   value=N|NAME    CSV column of the value (1-based number, or the header's
 *                   name; default: a column named value, url, ip, domain,
 *                   indicator or ioc, else the first)
 *   type=N|NAME     CSV column naming the value's kind (obs kind names, or
 *                   MISP-like ip-dst, url, domain, md5...); default none:
 *                   the value is classified
 *   comment=CHARS   line comment prefixes (default "#;"; CSV default "#")
 *   delimiter=C     CSV field separator (default ',')
 *   header=yes|no   CSV: the first record is a header (default yes) */
struct source_opts {
	int value_col;                  /* 1-based; 0: by name or default */
	char value_name[64];
	int type_col;                   /* 0: none (unless type_name) */
	char type_name[64];
	char comments[16];
	char delimiter;
	bool header;
	bool comments_set;
};

/* Parses options text (lines "key=value"; "" = defaults) for format f.
 * OUT: *o. Errors: TC_EINVAL naming the key ("option 'value': ..."). */
enum tcerr source_opts_parse(enum source_format f, struct slice text, struct source_opts *o,
                             struct diag *d);
/* Turns a CLI column mapping "value=2", "type=kind" or several at once
 * ("value=2,type=3") into options lines appended to out ("value=2\n").
 * TC_EINVAL for an unknown column or a term without '='. */
enum tcerr source_opts_column(const char *mapping, struct buf *out, struct diag *d);

/* What a list parse found. */
struct source_list_counts {
	size_t lines;           /* records read */
	size_t entries;         /* handed to the callback */
	size_t skipped;         /* blank and comment lines, the CSV header */
	size_t rejected;        /* lines that are no usable value */
	size_t refanged;        /* values restored from a defanged form */
	char rejects[SOURCE_REJECTS_KEPT][DIAG_MSG_MAX]; /* the first reasons, "line 7: ..." */
};

/* One entry of a list: kind and normalised value (valid during the call). */
typedef enum tcerr (*source_entry_cb)(void *ctx, enum obs_kind kind, struct slice value,
                                      long line);

/* Parses a list feed (SOURCE_PLAIN, SOURCE_IP_BLOCKLIST, SOURCE_URL_LIST,
 * SOURCE_CSV) held in data, values re-fanged (import_refang) and
 * normalised by obs. Lines over SOURCE_LINE_MAX, values of the wrong kind
 * for the format and values that are no observable are rejected and
 * counted; the parse goes on. max_entries 0: SOURCE_MAX_ENTRIES. OUT:
 * *c. Errors: TC_EINVAL (the data is no feed of this kind: HTML, a NUL
 * byte, a CSV header without the mapped column — d says why),
 * TC_ELIMIT (more than max_entries entries), TC_ENOMEM, or what cb
 * returned. */
enum tcerr source_list_parse(enum source_format f, const struct source_opts *o,
                             const struct obs_ctx *obs, struct slice data, size_t max_entries,
                             source_entry_cb cb, void *ctx, struct source_list_counts *c,
                             struct diag *d);

/* A MISP feed's manifest.json: {"UUID": {"info":..., "timestamp":...}, ...}.
 * Calls cb with each event's UUID (lower case, checked) in the file's
 * order. Errors: TC_EINVAL (not JSON, not an object, a key that is no
 * UUID — d names it), TC_ELIMIT (more than max_events; 0:
 * SOURCE_MISP_MAX_EVENTS), or what cb returned. */
enum tcerr source_misp_manifest(struct slice data, size_t max_events,
                                enum tcerr (*cb)(void *ctx, const char *uuid), void *ctx,
                                struct diag *d);

/* STIX objects of a MISP event (lib/import's MISP reader) or of a TAXII
 * envelope (lib/import's envelope reader), each handed to cb (borrowed).
 * Items the reader rejects are counted in *rejected and the first reason
 * kept in why (may be NULL). id_key as import_opts.id_key. Errors: as
 * import_buffer (TC_EINVAL for a document that does not parse). */
enum tcerr source_objects_parse(enum source_format f, struct slice data, const char *name,
                                const struct obs_ctx *obs, const uint8_t *id_key,
                                size_t id_key_len,
                                enum tcerr (*cb)(void *ctx, json_t *obj), void *ctx,
                                size_t *rejected, char why[DIAG_MSG_MAX], struct diag *d);

/* ---- the plan ---- */

/* An entry the source wrote before (from the registry). */
struct source_known {
	char *id;               /* owned by the caller */
	int64_t modified_us;    /* of the version last written */
	bool listed;            /* false once expired */
	char *json;             /* that version's text, owned by the caller */
};

/* What the plan keeps per object to write: the registry row to record
 * once the hub accepted it. */
struct source_write {
	json_t *obj;            /* owned by the plan */
	char id[STIX_ID_MAX];
	int64_t modified_us;
	bool listed;            /* false: the version that expires a dropped entry */
	bool track;             /* record it in the source's entries */
};

struct source_plan {
	/* set by the caller before source_plan_init */
	const char *name;               /* the source's name */
	const char *identity;           /* created_by_ref of what it writes */
	enum tlp_level tlp;             /* TLP_NONE: none added */
	int confidence;                 /* -1: none added */
	bool expire;                    /* entries that drop off get valid_until = now */
	bool track;                     /* entries are kept (lists, MISP; not TAXII) */
	int64_t now_us;
	const uint8_t *id_key;
	size_t id_key_len;
	/* known, sorted by id (source_known_sort) */
	struct source_known *known;
	size_t nknown;

	/* filled by the plan */
	struct source_write *w;
	size_t nw, capw;
	size_t listed;          /* distinct entries in this pull */
	size_t unchanged;       /* listed before and still: nothing written */
	size_t expiring;        /* expiry versions planned */
	/* private */
	bool *seen;             /* nknown flags */
	char **ids;             /* open-addressing set of new ids */
	size_t nids, capids;
};

/* Sorts known by id so the plan can find entries. */
void source_known_sort(struct source_known *k, size_t n);

/* Prepares p (its caller-set fields filled). Errors: TC_ENOMEM. */
enum tcerr source_plan_init(struct source_plan *p, struct diag *d);
/* Adds an entry of a list: the indicator for (kind, value) unless it is
 * listed already. Errors: TC_ENOMEM, TC_EINVAL. */
enum tcerr source_plan_value(struct source_plan *p, enum obs_kind kind, struct slice value,
                             struct diag *d);
/* Adds a STIX object of a MISP event or TAXII page (borrowed: the plan
 * copies it), with the source's created_by_ref, and its TLP and
 * confidence where it has none; skipped when the same version is listed
 * already. An object without id or modified is refused (TC_EINVAL). */
enum tcerr source_plan_object(struct source_plan *p, const json_t *obj, struct diag *d);
/* Adds the expiry version of every entry listed before and not seen in
 * this pull (when p->expire). Errors: TC_ENOMEM. */
enum tcerr source_plan_finish(struct source_plan *p, struct diag *d);
/* Frees what the plan holds (not known). */
void source_plan_reset(struct source_plan *p);

/* ---- fetching ---- */

struct source_fetch_cfg {
	bool allow_http;                /* http:// as well as https:// */
	bool allow_private;             /* loopback, private, link-local addresses */
	const char *ca_file;            /* "" or NULL: the system's */
	unsigned connect_timeout_ms;
	unsigned timeout_ms;            /* the whole exchange */
	size_t max_bytes;               /* bytes of the answer's body */
	const _Atomic bool *cancel;     /* abandons the exchange when true; may be NULL */
};

struct source_fetch_req {
	const char *url;
	const char *etag;               /* sent as If-None-Match; NULL or "": none */
	const char *last_modified;      /* sent as If-Modified-Since; NULL or "": none */
	const char *auth_header;        /* "Name: value" line; NULL or "": none */
	const char *accept;             /* Accept header; NULL: none */
};

struct source_fetch_res {
	long status;                    /* 200, 304 */
	struct buf body;                /* the body (200); the caller buf_reset()s it */
	char etag[SOURCE_HEADER_MAX];   /* the answer's ETag, "" none */
	char last_modified[SOURCE_HEADER_MAX];
	char taxii_last[64];            /* X-TAXII-Date-Added-Last, "" none */
	uint64_t elapsed_us;
};

/* Checks a feed URL as every pull will (webhook_url_check: scheme,
 * resolving the name, every address allowed), with messages that name
 * the [sources] keys. Errors: as webhook_url_check. */
enum tcerr source_url_check(bool allow_http, bool allow_private, const char *url,
                            struct diag *d);

/* GETs req->url under cfg (webhook_url_check's SSRF rules; no redirects,
 * no proxies). OUT: *res (always initialised; reset its body). Returns
 * TC_OK for a 200 or a 304 (res->status says which). Errors: TC_EPERM (URL
 * or address refused), TC_ENOTFOUND (name does not resolve), TC_EIO
 * (connection, TLS, timeout, another status, an answer over max_bytes —
 * d says which), TC_EBUSY (cancelled), TC_ENOMEM. */
enum tcerr source_fetch(const struct source_fetch_cfg *cfg, const struct source_fetch_req *req,
                        struct source_fetch_res *res, struct diag *d);

#endif
