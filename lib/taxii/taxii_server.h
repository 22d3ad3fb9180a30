/*
 * taxii_server.h — the TAXII 2.1 server, as a function from a request to a
 * response, with no HTTP library in it.
 *
 * The daemon (daemon/http.c) authenticates the requester, reads the body
 * and calls taxii_handle() for every path under /taxii2/; tests call it
 * directly. It serves discovery (§4.1), several API roots (§4.2), status
 * (§4.3), collections and collection (§5.1, §5.2), manifest (§5.3),
 * objects GET/POST (§5.4, §5.5), object GET/DELETE (§5.6, §5.7) and
 * versions (§5.8), with the checklist in shared/reference/TAXII-STIX.md:
 * exact media types, Accept and Content-Type checks (406, 415), URL
 * parameters (taxii_query.h, 400), pages sorted by date_added with an
 * opaque, authenticated `next`, X-TAXII-Date-Added-First/Last, error
 * resources on every failure, 401 for a missing or wrong credential and
 * 404 for a collection the requester may not see (never revealing that it
 * exists), or that belongs to another API root. A path that names a
 * resource but lacks its trailing '/' (§3.1) is redirected with 308 to
 * the one with it, query kept. Every stored version it shows has passed policy_row(); reads of
 * AMBER/RED versions and every write are written to the audit log.
 *
 * Writes go through env->writer (the daemon's group-commit writer) and are
 * acknowledged only when durable: POST answers 202 with a status that is
 * already `complete`, kept in the registry for REG_STATUS_KEEP_US.
 *
 * A `next` cursor is base64url(HMAC-SHA256 under cfg->cursor_key over the
 * principal, the endpoint, the query's filters and the position): a cursor
 * used by another principal, for another query or forged is a 400, and
 * since rows are judged by policy_row() on every page, a cursor never
 * shows what the requester may not see now.
 */
#ifndef TOCSIN_TAXII_SERVER_H
#define TOCSIN_TAXII_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "crypto/hubkey.h"
#include "hub/hub.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA_TYPE "application/stix+json;version=2.1"
/* STIX 2.0 objects (no spec_version), stored and served as 2.0 */
#define TAXII_STIX20_MEDIA_TYPE "application/stix+json;version=2.0"
#define TAXII_PREFIX "/taxii2/"
#define TAXII_DEFAULT_MAX_CONTENT (32 * 1024 * 1024)   /* bytes of a POST body */
#define TAXII_DEFAULT_MAX_PAGE 1000                    /* objects per response */
#define TAXII_POST_OBJECTS_MAX 100000                  /* objects in one envelope */
/* A POST body that the envelope scan cannot split is parsed whole, for
 * the precise place of its fault, only up to this size. */
#define TAXII_WHOLE_PARSE_MAX (1024 * 1024)
#define TAXII_RESPONSE_MAX (256 * 1024 * 1024)         /* bytes of one response body */

/* An API root (§4.2) as the configuration defines it. */
struct taxii_api_root {
	const char *name;              /* [a-z0-9][a-z0-9_-]*: serves /taxii2/NAME/ */
	const char *title;             /* NULL or "": the server's title (default root) or name */
	const char *description;       /* NULL or "": none */
	size_t max_content_length;     /* 0: cfg->max_content_length */
};

/* The API roots served: the default one (api_root), those of roots[]
 * (configured), and those the registry snapshot knows (a collection put
 * in them, or a migration). A root's information comes key by key from
 * roots[], else the registry, else the defaults (the server's title and
 * description for the default root; the name as title, and
 * max_content_length, for others); the registry may lower
 * max_content_length, never raise it. Each collection belongs to
 * one root (reg_collection.api_root, "" = the default root) and is not
 * reachable under any other. */
struct taxii_server_cfg {
	const char *api_root;          /* the default API root's name: "hub" serves /taxii2/hub/ */
	const char *title;             /* discovery title (and the default root's) */
	const char *description;       /* may be NULL */
	const char *contact;           /* may be NULL */
	size_t max_content_length;     /* a root's unless it has its own; 413 above it */
	const struct taxii_api_root *roots; /* may be NULL */
	size_t nroots;
	size_t max_page;               /* cap on objects/records per response */
	uint8_t cursor_key[32];        /* HMAC key for next cursors */
	/* The hub's identity (docs/federation.md), shown in discovery as
	 * "x_tocsin_hub": {"alg", "public_key", "id"}; NULL: not shown. */
	const struct hubkey_pub *hub_key;
};

/* The write side: the daemon's group-commit writer, or a direct call in
 * tests. Both return only when the change is durable. */
struct taxii_writer {
	enum tcerr (*ingest)(void *ctx, const struct hub_item *items, size_t n,
	                     struct hub_result *res, struct diag *d);
	enum tcerr (*remove)(void *ctx, const struct store_delete_q *q, store_delete_cb may,
	                     void *may_ctx, struct store_delete_out *out, struct diag *d);
	void *ctx;
	/* Optional: the hub's observable context. When set, a POST validates
	 * and extracts its objects in the request thread (hub_prepare) and
	 * hands only the valid ones, prepared, to ingest. */
	const struct obs_ctx *obs;
};

/* What one request thread brings. */
struct taxii_env {
	struct store *store;                 /* this thread's read connection */
	struct registry *registry;           /* status resources */
	struct audit *audit;
	const struct taxii_writer *writer;
};

struct taxii_request {
	const char *method;                  /* "GET", "POST", "DELETE", ... */
	const char *path;                    /* percent-decoded path, without the query */
	struct slice query;                  /* raw query string, without '?' */
	const char *accept;                  /* NULL when absent */
	const char *content_type;            /* NULL when absent */
	struct slice body;
	/* NULL: no credential (401 with WWW-Authenticate). The daemon answers a
	 * wrong credential with 401 itself. */
	const struct policy_subject *who;
	const char *actor;                   /* for the audit log: key id or certificate */
};

#define TAXII_TS_MAX 32
#define TAXII_LOCATION_MAX 1024
struct taxii_response {
	int status;
	const char *content_type;            /* static; TAXII_MEDIA_TYPE unless no body */
	struct buf body;
	char date_added_first[TAXII_TS_MAX]; /* "" when the header is not sent */
	char date_added_last[TAXII_TS_MAX];
	bool www_authenticate;               /* send WWW-Authenticate: Basic realm="tocsin", Bearer */
	char location[TAXII_LOCATION_MAX];   /* "" unless a redirect (308): the Location header */
	size_t objects;                      /* objects or records in the body, for metrics */
};

void taxii_response_init(struct taxii_response *rs);
void taxii_response_reset(struct taxii_response *rs);

/* Answers rq in rs. Returns TC_OK when rs holds an answer (any status,
 * including errors); TC_ENOMEM when not even an error could be built. */
enum tcerr taxii_handle(const struct taxii_server_cfg *cfg, const struct taxii_env *env,
                        const struct taxii_request *rq, struct taxii_response *rs);

/* Replaces rs with a TAXII error resource (§3.6.1): title, description
 * (may be NULL), http_status as a string equal to status. */
void taxii_error(struct taxii_response *rs, int status, const char *title,
                 const char *description);

#endif
