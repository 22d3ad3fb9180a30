/*
 * audit.h — the append-only, hash-chained audit log.
 *
 * Every write to the hub (POST, DELETE, key and organisation changes) and
 * every read that shows an AMBER, AMBER+STRICT or RED version is written
 * to DATA/audit.log, one JSON object per line. Entry n carries the
 * SHA-256 of entry n-1 ("prev") and its own hash ("hash") over its
 * canonical text without "hash", so altering or removing any entry breaks
 * the chain; DATA/audit.head records the last entry's number and hash,
 * rewritten atomically (rename) after each sync, so cutting entries off
 * the end is detected too. audit_verify() walks the whole chain.
 *
 * Limits of the scheme (docs/audit.md): someone who can rewrite both
 * files can rebuild a consistent chain; ship audit.head elsewhere (or
 * print it) to anchor it.
 *
 * A struct audit is safe to use from several threads.
 */
#ifndef TOCSIN_AUDIT_H
#define TOCSIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/tcerr.h"

struct audit;

#define AUDIT_FILE "audit.log"
#define AUDIT_HEAD_FILE "audit.head"
#define AUDIT_LINE_MAX (1024 * 1024)    /* bytes of one entry */
#define AUDIT_IDS_MAX 10000             /* object ids listed in one entry */

/* One event. Strings may be NULL (omitted). */
struct audit_entry {
	int64_t ts_us;                 /* 0: now */
	const char *action;            /* "read", "write", "delete", "org.add", "key.create", ... */
	const char *actor;             /* key id, "operator", or a certificate fingerprint */
	const char *org;               /* organisation name */
	const char *collection;        /* collection id */
	const char *request;           /* e.g. "GET /taxii2/hub/collections/.../objects/" */
	const char *status_id;         /* TAXII status id of a POST */
	int http_status;               /* 0: omitted */
	const char *const *ids;        /* object ids ("id" or "id@version") */
	size_t nids;
	const char *detail;            /* free text */
};

/* Opens (creating if needed) DIR/audit.log and checks that its last entry
 * matches DIR/audit.head. Errors: TC_EIO, TC_ECORRUPT (the tail does not
 * match the head: run tocsin audit verify), TC_ENOMEM. */
enum tcerr audit_open(const char *dir, struct audit **out, struct diag *d);
/* Syncs and closes. */
void audit_close(struct audit *a);

/* Appends one entry (buffered in the kernel, not yet durable). Errors:
 * TC_EINVAL (no action), TC_ELIMIT (entry longer than AUDIT_LINE_MAX or
 * more than AUDIT_IDS_MAX ids), TC_EIO. */
enum tcerr audit_append(struct audit *a, const struct audit_entry *e, struct diag *d);
/* Makes everything appended so far durable (fdatasync) and updates the
 * head. The writer calls it before acknowledging a batch. TC_EIO. */
enum tcerr audit_sync(struct audit *a, struct diag *d);

struct audit_report {
	uint64_t entries;              /* entries checked */
	bool ok;
	uint64_t bad_entry;            /* first entry (from 1) that fails, when !ok */
	char why[256];                 /* "entry 17: hash does not match its content" */
};
/* Verifies DIR's chain from the first entry to the head. Returns TC_OK
 * when the files could be read (r->ok says whether the chain holds), or
 * TC_EIO / TC_ENOTFOUND. */
enum tcerr audit_verify(const char *dir, struct audit_report *r, struct diag *d);

#endif
