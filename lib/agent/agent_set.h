/*
 * agent_set.h — what tocsin-agent has applied: the current set of
 * decisions (kind, value, action, expiry, confidence, TLP), the stream
 * events that change it, and the state file that keeps it, with the log
 * position it is exact at, across restarts (docs/agent.md).
 *
 * Invariant: the set and its position always go together. An `add` event
 * sets or replaces a value's decision, a `remove` event takes it away;
 * both are idempotent, so replaying events after an older saved position
 * gives the same set as applying them once. The state file is written
 * whole to FILE.tmp, fsync'd and renamed over FILE (then the directory is
 * fsync'd), so after a crash it holds either the old or the new state,
 * never a mix.
 *
 * Values come from the hub, which is untrusted: a value longer than
 * OBS_VALUE_MAX or holding a control byte is refused (TC_EINVAL) and never
 * reaches a backend.
 */
#ifndef TOCSIN_AGENT_SET_H
#define TOCSIN_AGENT_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observable/observable.h"
#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define AGENT_SET_MAX ((size_t)50000000)   /* decisions held */
#define AGENT_STATE_LINE_MAX 4096          /* bytes of one state file line */
#define AGENT_STATE_ERROR_MAX 512          /* bytes of the last error kept */

struct agent_entry {
	enum obs_kind kind;
	bool alert;                 /* action "alert" rather than "block" */
	int confidence;             /* -1: none */
	enum tlp_level tlp;
	int64_t until_us;           /* 0: no expiry */
	size_t len;
	char *value;                /* NUL-terminated, len bytes */
};

enum agent_op { AGENT_OP_ADD = 1, AGENT_OP_REPLACE, AGENT_OP_REMOVE };

/* One change to the set, as backends receive it. value is owned by the
 * change list. For REPLACE, old_until_us is the expiry it had. */
struct agent_change {
	enum agent_op op;
	enum obs_kind kind;
	bool alert;
	int64_t until_us, old_until_us;
	char *value;
};

struct agent_changes {
	struct agent_change *v;
	size_t n, cap;
};

void agent_changes_clear(struct agent_changes *c);
void agent_changes_reset(struct agent_changes *c);

struct agent_set;

/* An empty set. NULL on out of memory. Freed with agent_set_free(). */
struct agent_set *agent_set_new(void);
void agent_set_free(struct agent_set *s);

size_t agent_set_count(const struct agent_set *s);
size_t agent_set_count_kind(const struct agent_set *s, enum obs_kind k);

/* The entry for (kind, value), or NULL. Valid until the set changes. */
const struct agent_entry *agent_set_get(const struct agent_set *s, enum obs_kind kind,
                                        struct slice value);

/* Sets or replaces (kind, value). If ch is not NULL a change is appended
 * to it when the set changed (ADD, or REPLACE when expiry or action
 * differ). Errors: TC_EINVAL (a bad value), TC_ELIMIT (AGENT_SET_MAX),
 * TC_ENOMEM. */
enum tcerr agent_set_put(struct agent_set *s, const struct agent_entry *e,
                         struct agent_changes *ch, struct diag *d);

/* Removes (kind, value) if held (appending a REMOVE to ch). TC_OK either
 * way; TC_ENOMEM if the change cannot be recorded (the set unchanged). */
enum tcerr agent_set_del(struct agent_set *s, enum obs_kind kind, struct slice value,
                         struct agent_changes *ch, struct diag *d);

/* Removes every entry whose expiry is at or before now_us (REMOVEs to ch).
 * Walks the set only when the earliest expiry it knows of has come, so
 * calling it often on an idle set costs nothing. */
enum tcerr agent_set_expire(struct agent_set *s, int64_t now_us, struct agent_changes *ch,
                            struct diag *d);

/* Every entry, sorted by kind then value (an array of pointers into the
 * set, valid until it changes). OUT: *out (free() it), *n. TC_ENOMEM. */
enum tcerr agent_set_sorted(const struct agent_set *s, const struct agent_entry ***out, size_t *n);

/* Parses one stream event of view=decisions (name "add" or "remove", data
 * its JSON, docs/feeds.md) into *e (value pointing into a copy the caller
 * frees with free(*valbuf)). OUT: *is_add. Errors: TC_EINVAL (not JSON,
 * a field missing or bad, an unknown kind — the message says which),
 * TC_ENOMEM. Events of other names are TC_ENOTFOUND. */
enum tcerr agent_event_parse(struct slice name, struct slice data, struct agent_entry *e,
                             bool *is_add, struct diag *d);

/* Applies one add/remove event to s (agent_event_parse, then put/del). */
enum tcerr agent_set_apply_event(struct agent_set *s, struct slice name, struct slice data,
                                 struct agent_changes *ch, struct diag *d);

/* The state that goes with a set. */
struct agent_state_info {
	uint64_t position;          /* 0: none (a snapshot is needed) */
	int64_t saved_us;           /* when it was written */
	int64_t applied_us;         /* when the backends last took a change */
	char error[AGENT_STATE_ERROR_MAX]; /* the last error, "" none */
};

/* Writes info and s to path atomically (above). Errors: TC_EIO (the
 * message names the file and the reason), TC_ENOMEM. */
enum tcerr agent_state_save(const char *path, const struct agent_set *s,
                            const struct agent_state_info *info, struct diag *d);

/* The journal, PATH.journal beside the state file: what changed since the
 * state file was written, appended after each burst without rewriting
 * the set (a state file of a million decisions takes a while to write;
 * a journal line does not). Lines: "a<TAB>KIND<TAB>ACTION<TAB>UNTIL<TAB>
 * CONFIDENCE<TAB>TLP<TAB>VALUE" (set), "r<TAB>KIND<TAB>VALUE" (remove),
 * "p<TAB>POSITION<TAB>APPLIED_µs" (the set is exact at POSITION), "e<TAB>
 * TEXT" (the last error). agent_state_load replays it after the state
 * file; a last line without its newline (a crash mid-write) is ignored.
 * Replaying lines already in the state file is harmless: events are
 * idempotent and the position goes with them. */
struct agent_journal {
	int fd;                     /* -1: closed */
	uint64_t lines;             /* appended since the state file was written */
	/* held: appends are kept in memory (while another process writes the
	 * state file, a journal line must not follow a state it is not about) */
	bool hold;
	struct buf held;
	uint64_t held_lines;
};

/* Opens (creating) the journal of the state file path for appending.
 * Errors: TC_EIO. */
enum tcerr agent_journal_open(struct agent_journal *j, const char *state_path, struct diag *d);
/* Appends ch (looking each value's confidence and TLP up in s), then the
 * position line, in one write. Errors: TC_EIO, TC_ENOMEM. */
enum tcerr agent_journal_append(struct agent_journal *j, const struct agent_changes *ch,
                                const struct agent_set *s, uint64_t position, int64_t applied_us,
                                struct diag *d);
/* Appends the last error. */
enum tcerr agent_journal_error(struct agent_journal *j, const char *text, struct diag *d);
/* fsync. Errors: TC_EIO. */
enum tcerr agent_journal_sync(struct agent_journal *j, struct diag *d);
/* From now on appends are kept in memory, not written. */
void agent_journal_hold(struct agent_journal *j);
/* Writes what was held (after emptying the journal first when truncate:
 * the state file written meanwhile holds everything before) and appends
 * directly again. Errors: TC_EIO, TC_ENOMEM (what was held is lost; the
 * position it carried is replayed from the hub after a restart). */
enum tcerr agent_journal_release(struct agent_journal *j, bool truncate, struct diag *d);
/* Empties the journal (after the state file was written whole). */
enum tcerr agent_journal_truncate(struct agent_journal *j, struct diag *d);
void agent_journal_close(struct agent_journal *j);

/* Reads path into s (which must be empty) and *info. A missing file is
 * TC_ENOTFOUND (s and info left empty). Errors: TC_EIO, TC_ECORRUPT
 * ("path:line: why"), TC_ENOMEM. s may be NULL to read only the header. */
enum tcerr agent_state_load(const char *path, struct agent_set *s, struct agent_state_info *info,
                            struct diag *d);

#endif
