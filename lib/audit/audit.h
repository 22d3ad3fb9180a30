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
 * The head is signed with the hub's Ed25519 key (DATA/hub.key, crypto/
 * hubkey.h), and every AUDIT_SEAL_EVERY entries a seal entry signs the
 * entry before it, so that someone who can write the log and the head but
 * not read hub.key cannot rebuild a consistent chain; against someone who
 * holds the whole data directory, only a copy kept elsewhere helps: an
 * anchor (audit_anchor_text(), `tocsin audit anchor`) proves every entry
 * up to it (docs/audit.md says what is and is not detected).
 *
 * Entries that record a commit to the store carry the log positions
 * (seqs) they cover. A crash between a commit and its entry leaves
 * versions without one: audit_recover() (audit_recover.c), run at the
 * start of every program that commits, writes them from the store,
 * marked "recovered", and moves the head's checkpoint.
 *
 * A struct audit is safe to use from several threads.
 */
#ifndef TOCSIN_AUDIT_H
#define TOCSIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hubkey.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct audit;

#define AUDIT_FILE "audit.log"
#define AUDIT_HEAD_FILE "audit.head"
#define AUDIT_LINE_MAX (1024 * 1024)    /* bytes of one entry */
#define AUDIT_IDS_MAX 10000             /* object ids listed in one entry */
#define AUDIT_SEQS_MAX 10000000        /* log positions one entry covers (written as ranges) */
#define AUDIT_LOCK_FILE "audit.lock"    /* shared by every open log, exclusive to recover */
#define AUDIT_SEAL_EVERY 1000           /* entries between two signed seal entries */

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
	/* The log positions (store seqs of versions and tombstones) this
	 * entry records the commit of, in any order; written as ranges
	 * "seqs":[[first,last],...]. What recovery counts as audited. */
	const uint64_t *seqs;
	size_t nseqs;
	bool recovered;                /* written by audit_recover(): "recovered":true */
};

/* The head's recovery checkpoint: every log position up to seq was
 * audited by entry n at the latest, which ends at byte at of the log. */
struct audit_ckpt {
	uint64_t seq;
	uint64_t n;
	int64_t at;
};

/* Opens (creating if needed) DIR/audit.log and checks that its last entry
 * matches DIR/audit.head. Errors: TC_EIO, TC_ECORRUPT (the tail does not
 * match the head: run tocsin audit verify), TC_ENOMEM. */
enum tcerr audit_open(const char *dir, struct audit **out, struct diag *d);
/* As audit_open, for a program that commits to the store (tocsind,
 * tocsin import): if no other process has the log open, it is opened
 * alone (an exclusive lock on DIR/audit.lock) and audit_may_recover()
 * says true until audit_recover() ran; else it waits for a shared lock as
 * audit_open does, and recovery is left to the next program that starts
 * alone. Errors as audit_open. */
enum tcerr audit_open_writer(const char *dir, struct audit **out, struct diag *d);
bool audit_may_recover(const struct audit *a);

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

/* An anchor: a signed head kept outside the data directory. */
#define AUDIT_ANCHOR_TEXT_MAX 512
struct audit_anchor {
	uint64_t n;
	char hash[65];
	struct hubkey_pub pk;  /* the hub key the anchor was taken with */
};
/* The anchor of DIR's current head, as one line of JSON (no newline):
 * {"hub_key":"<alg> <hex>","n":N,"hash":"…","sig":"…"}. The head is
 * checked against hub.pub first. OUT: text. Errors: TC_ENOTFOUND (no
 * head), TC_ECORRUPT (the head is unsigned or its signature fails), TC_EIO. */
enum tcerr audit_anchor_text(const char *dir, char text[AUDIT_ANCHOR_TEXT_MAX], struct diag *d);
/* Parses an anchor's text and checks its signature with the key it
 * names. OUT: *out. Errors: TC_EINVAL (why in d). */
enum tcerr audit_anchor_parse(const char *text, size_t len, struct audit_anchor *out,
                              struct diag *d);
/* As audit_verify, and the chain must still hold the anchor's entry with
 * its hash, and DIR/hub.pub must be the anchor's key. */
enum tcerr audit_verify_anchored(const char *dir, const struct audit_anchor *anchor,
                                 struct audit_report *r, struct diag *d);

/* What audit_recover() did. */
struct audit_recovery {
	bool skipped;          /* another process had the log open: left for later */
	uint64_t from, through; /* log positions looked at: (from, through] */
	uint64_t versions;     /* versions written as recovered "write" entries */
	uint64_t deletions;    /* tombstones written as recovered "delete" entries */
};
struct store;
/* Writes an entry marked "recovered" for every version and tombstone the
 * store committed after the head's checkpoint that no entry covers (a
 * crash between a commit and its entry), then moves the checkpoint to
 * the store's position and shares the lock. Call it once, after
 * audit_open_writer() and before the first commit; a log that others
 * have open (audit_may_recover() false) is left alone (skipped). A head
 * from before checkpoints starts them at the store's position: nothing
 * before is looked at. OUT: *out. Errors: TC_EDB, TC_EIO, TC_ENOMEM. */
enum tcerr audit_recover(struct audit *a, struct store *s, struct audit_recovery *out,
                         struct diag *d);

/* Recovery support for audit_recover(). The log positions entries
 * written since the head's checkpoint cover. */
struct audit_seqset;
/* OUT: *ckpt (the head's; *has_ckpt false when the head predates
 * checkpoints), *covered (audit_seqset_free()). Errors: TC_EPERM (not
 * opened alone), TC_EIO, TC_ENOMEM. */
enum tcerr audit_covered(struct audit *a, bool *has_ckpt, struct audit_ckpt *ckpt,
                         struct audit_seqset **covered, struct diag *d);
bool audit_seqset_has(const struct audit_seqset *s, uint64_t seq);
/* Whether every position first..last is in s (true when first > last). */
bool audit_seqset_covers(const struct audit_seqset *s, uint64_t first, uint64_t last);
void audit_seqset_free(struct audit_seqset *s);
/* Syncs, moves the head's checkpoint to seq (every position up to it is
 * now audited) and lets other processes open the log (the lock becomes
 * shared). TC_EIO. */
enum tcerr audit_checkpoint(struct audit *a, uint64_t seq, struct diag *d);

#endif
