/*
 * registry_fp.h — false-positive reports on indicators and the
 * coordinator's review of them, in registry.db (registry_fp.c;
 * docs/sightings.md).
 *
 * An organisation says "this indicator is a false positive for us" once
 * per indicator (a new report replaces its old one). When at least
 * REG_FP_HOLD_ORGS distinct organisations have reported an indicator that
 * no coordinator has reviewed since, the indicator is held: the hub keeps
 * its values out of decisions and exports (hub_holds_set) until a
 * coordinator reviews it. Rejected: the hold is released and only reports
 * made after the rejection count again. Confirmed: the indicator stays
 * held for good — the hub cannot revoke another organisation's object;
 * its producer is told and may revoke it.
 */
#ifndef TOCSIN_REGISTRY_FP_H
#define TOCSIN_REGISTRY_FP_H

#include "registry/registry.h"

#define REG_FP_HOLD_ORGS 2      /* distinct organisations whose reports hold an indicator */
#define REG_FP_NOTE_MAX 1024    /* bytes of a report's or review's note */
#define REG_FP_LIST_MAX 10000   /* indicators one registry_fp_list call reads */

enum reg_fp_state {
	REG_FP_OPEN = 1,        /* reported, by fewer than REG_FP_HOLD_ORGS organisations */
	REG_FP_HELD,            /* held, pending a coordinator's review */
	REG_FP_CONFIRMED,       /* a coordinator confirmed: held for good */
	REG_FP_REJECTED,        /* a coordinator rejected: released */
};
/* "open", "held", "confirmed", "rejected". */
const char *reg_fp_state_name(enum reg_fp_state s);
/* Whether the indicator is kept out of decisions in state s. */
bool reg_fp_state_holds(enum reg_fp_state s);

struct reg_fp_report {
	char indicator[STIX_ID_MAX];
	int64_t org;
	char org_name[REG_ORG_NAME_MAX + 1];
	enum reg_sector sector;
	int64_t at_us;
	bool counted;            /* made after the last rejection (or there is none) */
	char note[REG_FP_NOTE_MAX + 1];
};

struct reg_fp_summary {
	char indicator[STIX_ID_MAX];
	size_t orgs;             /* organisations whose reports count now */
	size_t reports;          /* all reports, counted or not */
	enum reg_fp_state state;
	int64_t last_us;         /* latest report */
	int64_t reviewed_us;     /* 0: never reviewed */
	char review_note[REG_FP_NOTE_MAX + 1];
};

/* Records org's false-positive report on indicator (a STIX indicator id)
 * with note (may be NULL; at most REG_FP_NOTE_MAX bytes, printable UTF-8
 * or newlines) at now_us, replacing its earlier one. OUT: *out (may be
 * NULL): the indicator's summary after it. Errors: TC_EINVAL (id, note),
 * TC_ENOTFOUND (no such organisation), TC_EDB. */
enum tcerr registry_fp_report(struct registry *r, const char *indicator, int64_t org,
                              const char *note, int64_t now_us, struct reg_fp_summary *out,
                              struct diag *d);

/* A coordinator's review of indicator's reports: confirm (held for good)
 * or reject (released), with note (may be NULL), at now_us. OUT: *out
 * (may be NULL). Errors: TC_ENOTFOUND (nobody reported it), TC_EINVAL,
 * TC_EDB. */
enum tcerr registry_fp_review(struct registry *r, const char *indicator, bool confirm,
                              const char *note, int64_t now_us, struct reg_fp_summary *out,
                              struct diag *d);

/* The summary of one indicator. Errors: TC_ENOTFOUND (never reported),
 * TC_EDB. */
enum tcerr registry_fp_summary(struct registry *r, const char *indicator,
                               struct reg_fp_summary *out, struct diag *d);

/* Calls cb with the summary of every reported indicator (at most
 * REG_FP_LIST_MAX), most recently reported first, until cb returns an
 * error (returned). Errors: TC_EDB, cb's. */
enum tcerr registry_fp_list(struct registry *r,
                            enum tcerr (*cb)(void *ctx, const struct reg_fp_summary *s),
                            void *ctx, struct diag *d);

/* Calls cb with every report on indicator, oldest first. Errors: TC_EDB,
 * cb's. */
enum tcerr registry_fp_reports(struct registry *r, const char *indicator,
                               enum tcerr (*cb)(void *ctx, const struct reg_fp_report *p),
                               void *ctx, struct diag *d);

/* A number that moves at every report and review, whoever made it (a
 * running tocsind polls it). OUT: *out. Errors: TC_EDB. */
enum tcerr registry_fp_generation(struct registry *r, uint64_t *out, struct diag *d);

/* The STIX ids of the indicators held now (states held and confirmed).
 * OUT: *ids (an array of *n strings; free each and the array). Errors:
 * TC_ENOMEM, TC_EDB. */
enum tcerr registry_fp_held(struct registry *r, char ***ids, size_t *n, struct diag *d);

#endif
