/*
 * taxii_internal.h — what the files of lib/taxii share and nothing else
 * sees: one request in flight (struct taxii__rq), the JSON writer helpers,
 * media-type checks and the `next` cursor.
 *
 * Invariant: a handler either fills rs with a success or calls
 * taxii_error(); whatever it returns, rs holds a complete answer unless
 * the return value is TC_ENOMEM.
 */
#ifndef TOCSIN_TAXII_INTERNAL_H
#define TOCSIN_TAXII_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "taxii_query.h"
#include "taxii_server.h"

/* Bytes of a response body after which a page stops early (more = true),
 * so a page of large objects stays below TAXII_RESPONSE_MAX. */
#define TAXII_PAGE_BYTES_MAX (TAXII_RESPONSE_MAX / 2)
/* Bytes of an object id in a URL path. */
#define TAXII_PATH_ID_MAX STIX_ID_MAX
/* Bytes of the "METHOD PATH" line written to the audit log. */
#define TAXII_AUDIT_REQUEST_MAX 512

/* The endpoints a cursor may belong to; part of what it binds. */
enum taxii__endpoint {
	TAXII__EP_MANIFEST = 1,
	TAXII__EP_OBJECTS,
	TAXII__EP_OBJECT,
	TAXII__EP_VERSIONS,
};

/* The API root a request is under (§4.2), resolved from the
 * configuration and the registry snapshot. */
struct taxii__root {
	char name[REG_API_ROOT_NAME_MAX + 1];
	const char *title;
	const char *description;           /* NULL: none */
	size_t max_content_length;
	bool is_default;
};

/* One request being answered. */
struct taxii__rq {
	const struct taxii_server_cfg *cfg;
	const struct taxii_env *env;
	const struct taxii_request *rq;
	struct taxii_response *rs;
	const struct policy_subject *who;
	struct taxii__root root;           /* name "" above the API root level */
	const struct reg_collection *col;  /* NULL above the collection level */
	struct policy_rights rights;       /* on col */
	char object_id[TAXII_PATH_ID_MAX]; /* "" unless the path names an object */
	char request_line[TAXII_AUDIT_REQUEST_MAX];
};

/* A position in a collection's (date_added, seq) order. */
struct taxii__pos {
	int64_t date_us;
	uint64_t seq;
};

/* Media types (taxii_media.c). */
bool taxii__accept_ok(const char *accept);
bool taxii__content_type_ok(const char *content_type);

/* Cursors (taxii_cursor.c). make writes a NUL-terminated cursor of at most
 * TAXII_NEXT_MAX bytes into out. check returns TC_OK and the position, or
 * TC_EINVAL for a cursor that is forged, damaged, or made for another
 * principal, endpoint, collection, object or set of filters. */
#define TAXII__CURSOR_TEXT 64
void taxii__cursor_make(const struct taxii__rq *r, enum taxii__endpoint ep,
                        const struct taxii_query *q, struct taxii__pos pos,
                        char out[TAXII__CURSOR_TEXT + 1]);
enum tcerr taxii__cursor_check(const struct taxii__rq *r, enum taxii__endpoint ep,
                               const struct taxii_query *q, const char *text,
                               struct taxii__pos *pos);

/* Principal number (0 for the operator) and organisation name, for
 * cursors and audit entries. */
int64_t taxii__principal_num(const struct policy_subject *who);
#define TAXII__STATUS_KEY_MAX 128
void taxii__status_key(const struct taxii__rq *r, const char *id, char out[TAXII__STATUS_KEY_MAX]);
const char *taxii__org_name(const struct policy_subject *who);
const char *taxii__actor(const struct taxii__rq *r);

/* Appends audit entries for this request: action, ids (may be NULL when
 * nids is 0), split into entries of at most AUDIT_IDS_MAX ids. status_id
 * and detail may be NULL. Returns TC_OK or the audit error (not synced). */
enum tcerr taxii__audit(const struct taxii__rq *r, const char *action, int http_status,
                        const char *status_id, const char *const *ids, size_t nids,
                        const char *detail);

/* A list of "id@version" strings for an audit entry, NUL-separated in one
 * buffer. init/reset; add records an allocation failure in l->b. */
struct taxii__idlist {
	struct buf b;
	size_t n;
	struct buf seqs; /* uint64_t log positions the entry covers (recovery, audit.h) */
	size_t nseqs;
};
void taxii__idlist_init(struct taxii__idlist *l);
void taxii__idlist_reset(struct taxii__idlist *l);
void taxii__idlist_add(struct taxii__idlist *l, const char *id, const char *version);
/* Records that the entry covers the commit of log position seq. */
void taxii__idlist_seq(struct taxii__idlist *l, uint64_t seq);
/* taxii__audit() with the list's ids; one entry even when the list is
 * empty unless skip_empty. */
enum tcerr taxii__idlist_audit(const struct taxii__rq *r, const struct taxii__idlist *l,
                               bool skip_empty, const char *action, int http_status,
                               const char *status_id, const char *detail);

/* Writes "YYYY-MM-DDTHH:MM:SS.ssssssZ" (TAXII 2.1 §2: µs) to out. */
void taxii__ts(int64_t us, char out[TS_TEXT_MAX]);
/* Appends "key":"value" (value JSON-escaped) to b, with a leading comma
 * when comma is true. */
void taxii__json_kv(struct buf *b, bool comma, const char *key, const char *value);

/* Endpoints (taxii_read.c, taxii_write.c). Each answers in r->rs and
 * returns TC_OK, or TC_ENOMEM when nothing could be built. */
enum tcerr taxii__get_manifest(struct taxii__rq *r);
enum tcerr taxii__get_objects(struct taxii__rq *r);
enum tcerr taxii__get_object(struct taxii__rq *r);
enum tcerr taxii__get_versions(struct taxii__rq *r);
enum tcerr taxii__post_objects(struct taxii__rq *r);
enum tcerr taxii__delete_object(struct taxii__rq *r);

#endif
