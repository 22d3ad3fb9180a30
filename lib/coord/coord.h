/*
 * coord.h — coordinating the response (docs/coordination.md): the lookup
 * of constituencies (which organisation answers for an address, network,
 * AS number or domain) and routing rules (which task a committed
 * indicator makes, for whom), and coord_plan(), which applies both to one
 * object. The tasks themselves are kept by the registry (registry.h,
 * registry_task_*); tocsind's coordination worker and `tocsin route test`
 * run the same coord_plan(), so a dry run says exactly what the hub does.
 */
#ifndef TOCSIN_COORD_H
#define TOCSIN_COORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

/* ---- constituencies ---- */

struct coord_consts;

/* Builds the lookup over entries v[0..n) (as registry_constituency_list
 * gives them; copied). OUT: *out, freed with coord_consts_free. Errors:
 * TC_ENOMEM. */
enum tcerr coord_consts_build(const struct reg_const *v, size_t n, struct coord_consts **out,
                              struct diag *d);
void coord_consts_free(struct coord_consts *c);
size_t coord_consts_count(const struct coord_consts *c);

/* The entry answering for (kind, normalised value), NULL when none: an
 * IPv4/IPv6 address or network by longest prefix (a network only inside
 * an entry at least as wide), a domain by itself or its nearest parent,
 * a URL by its host (name or address), an e-mail address by its domain,
 * an AS number exactly. Other kinds: NULL. O(log n) per prefix length
 * present (addresses) or per label (names). */
const struct reg_const *coord_consts_lookup(const struct coord_consts *c, enum obs_kind kind,
                                            struct slice value);

/* ---- routing rules ---- */

#define COORD_RULE_NAME_MAX 64
#define COORD_RULES_MAX 1024              /* rules in one file */
#define COORD_RULES_FILE_MAX (1024 * 1024) /* bytes of a rules file */
#define COORD_LINE_MAX 4096
#define COORD_DEADLINE_DEFAULT_US (24LL * 3600 * 1000000)
#define COORD_DEADLINE_MAX_US (365LL * 24 * 3600 * 1000000)

struct coord_rule {
	char name[COORD_RULE_NAME_MAX + 1];
	unsigned kinds;                       /* bit (1u << enum obs_kind) */
	int min_confidence;                   /* 0..100; the indicator's confidence must reach it */
	char action[REG_TASK_ACTION_MAX + 1];
	enum reg_sector sector;               /* the target: a sector ... */
	char org[REG_ORG_NAME_MAX + 1];       /* ... or an organisation ("" with a sector) */
	int64_t deadline_us;                  /* from the indicator's commit */
	unsigned line;
};

struct coord_rules {
	struct coord_rule *v;
	size_t n;
};

/* Parses a rules file's text (docs/coordination.md):
 *   # comment
 *   route NAME kind=KIND[,KIND...] [min_confidence=N] action=ACTION
 *         to=sector:SECTOR|org:NAME [deadline=DURATION]
 * one rule a line; DURATION is N followed by s, m, h or d. file names the
 * text in messages ("FILE:LINE: ..."). OUT: *out (reset first; freed with
 * coord_rules_free also on error). Errors: TC_EINVAL, TC_ELIMIT. */
enum tcerr coord_rules_parse(struct slice text, const char *file, struct coord_rules *out,
                             struct diag *d);
/* Reads and parses path. TC_EIO (message names it), as parse. */
enum tcerr coord_rules_load(const char *path, struct coord_rules *out, struct diag *d);
void coord_rules_free(struct coord_rules *r);

/* ---- planning ---- */

/* One task coord_plan proposes. */
struct coord_proposal {
	const char *source;                   /* "route:NAME" or "constituency" */
	const char *action;
	enum reg_sector sector;               /* a sector (org_num 0, org_name NULL) ... */
	int64_t org_num;                      /* ... or a constituency's organisation ... */
	const char *org_name;                 /* ... or a rule's organisation by name */
	int64_t deadline_us;                  /* a duration from now */
	enum obs_kind kind;
	struct slice value;
	const char *dedup;                    /* "SOURCE|ACTION|KIND:VALUE" */
	const char *observables;              /* [{"kind":KIND,"value":VALUE}] */
};

#define COORD_CONST_DEADLINE_US (72LL * 3600 * 1000000) /* constituency tasks */
/* How long after level 1 an overdue task goes to the sector's lead
 * (tocsind: [coord] escalate_lead_after). */
#define COORD_ESCALATE_LEAD_US (4LL * 3600 * 1000000)

/* Applies rules and constituencies (either may be NULL) to one committed
 * object: only an indicator that is not revoked makes tasks; each of its
 * observables (obs_extract with obs) is matched against every rule (kind,
 * confidence) and looked up in the constituencies (an address or network:
 * clean-up; a domain, URL or e-mail address: takedown; an AS number:
 * investigate). cb gets each proposal (valid during the call); its error
 * stops the plan and is returned. OUT: *nproposed (may be NULL).
 * Errors: TC_ENOMEM, cb's; an object whose observables cannot be
 * extracted proposes nothing (TC_OK). */
enum tcerr coord_plan(const json_t *obj, const struct obs_ctx *obs,
                      const struct coord_rules *rules, const struct coord_consts *consts,
                      enum tcerr (*cb)(void *ctx, const struct coord_proposal *p), void *ctx,
                      size_t *nproposed, struct diag *d);

/* One observable, normalised, as the store indexes it. */
struct coord_obs {
	enum obs_kind kind;
	struct slice value;
};

/* As coord_plan for an indicator (not revoked) whose observables are
 * v[0..n) (at most 1000 are looked at): confidence(cctx) gives its
 * confidence (0..100, absent 0), asked at most once and only when a rule
 * with a min_confidence matches by kind. This is what tocsind runs, on
 * the observables the store already holds, so most indicators cost no
 * parse. */
enum tcerr coord_plan_obs(const struct coord_obs *v, size_t n, int (*confidence)(void *cctx),
                          void *cctx, const struct coord_rules *rules,
                          const struct coord_consts *consts,
                          enum tcerr (*cb)(void *ctx, const struct coord_proposal *p), void *ctx,
                          size_t *nproposed, struct diag *d);

/* The top-level "confidence" of an object's compact JSON text (as the
 * store keeps it), 0 when absent or not an integer 0..100. Nested
 * "confidence" keys (in extensions) are not it. */
int coord_confidence_text(struct slice json);

/* The action a constituency match of kind asks for (NULL: none). */
const char *coord_const_action(enum obs_kind kind);

/* ---- tasks as JSON (the CLI's --json and the HTTP inbox) ---- */

#define COORD_TASK_OBS_MAX 100   /* observables in one task */

/* Normalises n observables (values[i], of kind kinds[i], or guessed with
 * obs_classify when kinds is NULL or kinds[i] is NULL) into the JSON
 * array text a task keeps, [{"kind":K,"value":V},...], in out (cleared
 * first). Errors: TC_EINVAL (message names the value's position and why),
 * TC_ELIMIT (none, more than COORD_TASK_OBS_MAX, or longer than
 * REG_TASK_OBS_TEXT_MAX), TC_ENOMEM. */
enum tcerr coord_task_observables(const struct obs_ctx *obs, const char *const *kinds,
                                  const char *const *values, size_t n, struct buf *out,
                                  struct diag *d);

/* Appends t as one JSON object to out: id, action, org, coordinator
 * ("" for the hub), source, observables, note, reply, state, deadline,
 * created, acknowledged, closed (null until then), overdue, escalation,
 * escalated_to (null), time_to_acknowledge_s, time_to_close_s (null until
 * then). Organisation names are the caller's (NULL: "#NUM"). */
void coord_task_json(const struct reg_task *t, const char *org, const char *coordinator,
                     const char *escalated_to, int64_t now_us, struct buf *out);
/* Appends one event as JSON: at, what, org (name as given, NULL: null), note. */
void coord_event_json(const struct reg_task_event *e, const char *org, struct buf *out);

/* ---- tasks in the log (the stream, webhooks, TAXII) ---- */

/* The x-tocsin-task SDO (docs/extensions.md). */
#define COORD_EXT_TASK "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c08"

/* The identities a task version names: the assignee's (required), the
 * assigning organisation's, the one escalated to and the one that made the
 * change (each NULL when none). */
struct coord_task_ids {
	const char *assignee, *coordinator, *escalated_to, *by;
};

/* Appends to out the task t after event e as one x-tocsin-task version
 * (compact JSON): id (given, "x-tocsin-task--UUID"), created = the task's
 * creation, modified = the event's time (µs), TLP:RED with the
 * x-tocsin-distribution recipients the assignee, the assigning
 * organisation and the one escalated to (so the policy door shows it to
 * them alone, on every read path), and the task's fields with the event.
 * Errors: those of out. */
void coord_task_stix(const struct reg_task *t, const struct reg_task_event *e, const char *id,
                     const struct coord_task_ids *ids, struct buf *out);

/* ---- e-mail notifications (coord_mail.c) ---- */

#define COORD_MAIL_MAX (64 * 1024)   /* bytes of one message */
#define COORD_MAIL_URL_MAX 1024

struct coord_mail_cfg {
	char url[COORD_MAIL_URL_MAX];       /* smtp://host:port or smtps://host:port */
	char from[REG_TASK_EMAIL_MAX + 1];
	char hostname[256];                 /* Message-ID's domain; "" = "tocsin" */
	bool starttls;                      /* require TLS on smtp:// (STARTTLS) */
	unsigned timeout_ms;
};

/* Appends to out one message (headers and body, CRLF lines) about event
 * e of task t: the task's action, assignee, state, deadline, source,
 * observables and notes, and how to answer. assignee and by are
 * organisation names (by may be NULL). Header values are stripped of
 * control characters. Errors: those of out. */
void coord_mail_compose(const struct coord_mail_cfg *cfg, const struct reg_task *t,
                        const struct reg_task_event *e, const char *assignee, const char *by,
                        struct buf *out);
/* Sends message to rcpts[0..n) through cfg's server (libcurl; a slow or
 * silent server costs at most cfg->timeout_ms). Errors: TC_EIO (the
 * message says what the server or connection did), TC_EINVAL (no
 * recipient, message over COORD_MAIL_MAX), TC_ENOMEM. */
enum tcerr coord_mail_send(const struct coord_mail_cfg *cfg, const char *const *rcpts, size_t n,
                           struct slice message, struct diag *d);

#endif
