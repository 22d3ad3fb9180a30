/*
 * report_db.h — where citizen reports are kept, and the triage queue
 * (docs/reports.md): DATA/reports.db, a SQLite file of its own, apart
 * from the log store and the registry, so that nothing that copies,
 * exports or federates tocsin.db can carry a reporter's details.
 *
 * Tables: report_groups (one per normalised observable: counts, state,
 * the coordinator's decision, the indicator it became), reports (one per
 * report: its receipt's SHA-256, never the receipt; kind, time, free
 * text, whether a contact was given), reporters (the keyed hash of each
 * distinct client address per group), contacts (the contact details,
 * kept apart, read only by report_db_group_reports(..., contacts=true))
 * and contact_hashes (distinct contacts per group, for counting).
 *
 * Invariant: a group's nreports, nreporters and ncontacts equal what
 * the other tables hold for it: each report is added in one transaction.
 * A group's state only moves open → confirmed/rejected, rejected →
 * confirmed, confirmed → rejected (until promoted), and confirmed or open
 * → promoted (report_db_promoted); promoted is final.
 *
 * Threads: one struct report_db may be used from any number of threads;
 * calls are serialised by its mutex. Another process (the CLI) may open
 * the same file (WAL, busy timeout).
 */
#ifndef TOCSIN_REPORT_DB_H
#define TOCSIN_REPORT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"
#include "stix/stix.h"

#define REPORT_DB_FILE "reports.db"
#define REPORT_RECEIPT_LEN 26          /* base32 characters: 130 random bits */
#define REPORT_DB_BUSY_MS 5000
#define REPORT_NOTE_MAX 256            /* bytes of a coordinator's note */
#define REPORT_BY_MAX 160              /* bytes of who decided ("org/key") */
#define REPORT_LIST_MAX 10000          /* groups or reports listed by one call */

enum report_state {
	RS_OPEN = 1,        /* under review */
	RS_CONFIRMED,       /* a coordinator confirmed it; promotion follows */
	RS_REJECTED,
	RS_PROMOTED,        /* an indicator was published for it */
};
#define RS_MAX RS_PROMOTED

struct report_db;

/* "open", "confirmed", "rejected", "promoted". */
const char *report_state_name(enum report_state s);
bool report_state_parse(const char *s, enum report_state *out);

/* Opens (creating it, mode 0600, with a fresh reporter key) DIR/reports.db.
 * Errors: TC_EDB (message names the file), TC_ENOMEM. */
enum tcerr report_db_open(const char *dir, struct report_db **out, struct diag *d);
void report_db_close(struct report_db *db);

struct report_add {
	enum report_kind rkind;
	const struct report_obs *obs;
	struct slice text;
	struct slice contact;          /* empty: none */
	uint8_t client[16];            /* the sender's address (IPv6, or IPv4-mapped); the
	                                * caller masks an IPv6 one to its /64 */
	const char *lang;              /* "ru", "en" */
	int64_t now_us;
};

struct report_added {
	char receipt[REPORT_RECEIPT_LEN + 1];  /* shown once to the reporter */
	int64_t id, group;
	uint32_t nreporters;           /* the group's, after this report */
	enum report_state state;       /* the group's */
	bool held;                     /* the group's automatic promotion is held */
	bool new_group;
};

/* Writes a fresh receipt: REPORT_RECEIPT_LEN base32 characters (a-z2-7)
 * from 130 random bits. */
void report_receipt_make(char out[REPORT_RECEIPT_LEN + 1]);

/* Adds a report to the group of its observable (made if new), counting
 * its client address and contact once per group. OUT: *out. Errors:
 * TC_EDB, TC_EBUSY, TC_ENOMEM. */
enum tcerr report_db_add(struct report_db *db, const struct report_add *a,
                         struct report_added *out, struct diag *d);

struct report_status {
	enum report_kind rkind;
	int64_t received_us;
	enum report_state state;       /* its group's */
};

/* The state of the report whose receipt is given (compared by hash).
 * Errors: TC_ENOTFOUND (also for a malformed receipt), TC_EDB. */
enum tcerr report_db_status(struct report_db *db, struct slice receipt,
                            struct report_status *out, struct diag *d);

struct report_group {
	int64_t id;
	enum obs_kind okind;
	char value[OBS_VALUE_MAX + 1];
	enum report_kind rkind;        /* the kind of its first report */
	uint32_t nreports, nreporters, ncontacts;
	int64_t first_us, last_us, decided_us;
	enum report_state state;
	bool held;                     /* automatic promotion held (note says why) */
	char decided_by[REPORT_BY_MAX + 1];
	char note[REPORT_NOTE_MAX + 1];
	char indicator[STIX_ID_MAX];   /* "" until promoted */
};

typedef enum tcerr (*report_group_cb)(void *ctx, const struct report_group *g);

/* Calls cb for at most max groups in state (0: any), most reporters
 * first, then the most recent. Errors: TC_EDB, or cb's. */
enum tcerr report_db_groups(struct report_db *db, enum report_state state, size_t max,
                            report_group_cb cb, void *ctx, struct diag *d);
/* One group. Errors: TC_ENOTFOUND, TC_EDB. */
enum tcerr report_db_group(struct report_db *db, int64_t id, struct report_group *out,
                           struct diag *d);

struct report_row {
	int64_t id;
	int64_t received_us;
	enum report_kind rkind;
	const char *text;
	bool has_contact;
	const char *contact;           /* NULL unless asked for (and given) */
};
typedef enum tcerr (*report_row_cb)(void *ctx, const struct report_row *r);

/* Calls cb for the first max reports of group, oldest first. With
 * contacts, each row carries its contact details: only the hub
 * operator's CLI asks for them. Errors: TC_EDB, or cb's. */
enum tcerr report_db_group_reports(struct report_db *db, int64_t group, size_t max,
                                   bool contacts, report_row_cb cb, void *ctx, struct diag *d);

/* A coordinator's decision: to is RS_CONFIRMED or RS_REJECTED; by and
 * note are kept (printable UTF-8, cut to their limits). Errors:
 * TC_ENOTFOUND, TC_EEXIST (promoted already: final), TC_EINVAL, TC_EDB. */
enum tcerr report_db_decide(struct report_db *db, int64_t group, enum report_state to,
                            const char *by, const char *note, int64_t now_us, struct diag *d);

/* Groups due for promotion: confirmed ones, and, when threshold > 0,
 * open ones that are not held with at least threshold reporters. At most
 * max. Errors: TC_EDB, or cb's. */
enum tcerr report_db_due(struct report_db *db, unsigned threshold, size_t max,
                         report_group_cb cb, void *ctx, struct diag *d);

/* Records that group became indicator (state promoted). Errors: TC_EDB,
 * TC_ENOTFOUND. */
enum tcerr report_db_promoted(struct report_db *db, int64_t group, const char *indicator,
                              int64_t now_us, struct diag *d);

/* Holds an open group's automatic promotion, with why (e.g. allowlisted):
 * a coordinator's confirmation still promotes it. Errors: TC_EDB. */
enum tcerr report_db_hold(struct report_db *db, int64_t group, const char *why, struct diag *d);

/* Counts: groups per state (counts[state], index 0 unused) and reports.
 * Errors: TC_EDB. */
enum tcerr report_db_counts(struct report_db *db, uint64_t counts[RS_MAX + 1],
                            uint64_t *reports, struct diag *d);

#endif
