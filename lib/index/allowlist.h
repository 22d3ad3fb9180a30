/*
 * allowlist.h — values that must never be blocked.
 *
 * A hit on an allowlisted value is still reported, marked allowlisted, so a
 * bad indicator ("block 8.8.8.8", "block google.com") is seen and not
 * enforced. The shipped default (allowlist_default.c) holds the private and
 * reserved IPv4/IPv6 ranges (RFC 1918, 6598, 5737, 3849, loopback,
 * link-local, multicast...), the public resolvers' addresses, and the most
 * popular domains (a domain entry covers its subdomains). The operator adds
 * a file: one entry a line, "kind value" or a bare value (classified),
 * '#' comments; errors are reported as "file:line: message".
 *
 * Exceptions: an entry may instead say "not allowlisted", for the parts of
 * a popular name where anyone can publish (sites.google.com under
 * google.com, cloud.mail.ru under mail.ru). The most specific entry decides:
 * walking from the value up (exact value, longer networks before shorter,
 * nearer parent domains before farther), the first entry found wins; an
 * exception and an allow entry on the same key: the exception wins.
 *
 * File format (allowlist_load_file), one entry a line:
 *   # a comment line; blank lines are skipped
 *   10.0.0.0/8                     a bare value: its kind is guessed
 *   domain example.com             a kind name, whitespace, the value
 *   !sites.google.com              '!' first: an exception
 *   ! domain docs.google.com       (spaces after '!' are fine)
 *   mail.example # our mail relay  whitespace then '#': the rest is the
 *                                  entry's reason (else "file:line")
 * Values are normalised as they would be for matching (observable.h).
 */
#ifndef TOCSIN_ALLOWLIST_H
#define TOCSIN_ALLOWLIST_H

#include <stdbool.h>

#include "observable/observable.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

struct allowlist;

#define ALLOWLIST_MAX_ENTRIES 1000000
#define ALLOWLIST_MAX_LINE 4096
#define ALLOWLIST_MAX_FILE ((size_t)64 << 20) /* bytes of one allowlist file */

/* How a loaded file's values are normalised: the observable module's
 * functions, passed in so that this library does not link that module.
 * The hub fills it as { ctx, obs_classify, obs_normalize, obs_kind_parse }. */
struct allowlist_normalizer {
	const struct obs_ctx *ctx;
	/* a bare value: guesses its kind and normalises it (obs_classify) */
	enum tcerr (*classify)(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind,
	                       struct buf *out, struct diag *d);
	/* "kind value": normalises value as kind (obs_normalize) */
	enum tcerr (*normalize)(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in,
	                        struct buf *out, struct diag *d);
	/* the kind name of "kind value" (obs_kind_parse): TC_OK or TC_EINVAL */
	enum tcerr (*kind_parse)(struct slice name, enum obs_kind *out);
};

/* An empty allowlist. OUT: *out. Errors: TC_ENOMEM. Free with allowlist_free. */
enum tcerr allowlist_new(struct allowlist **out);
/* Drops a reference (allowlist_ref); frees al with the last one. */
void allowlist_free(struct allowlist *al);
/* Adds the shipped defaults (allowlist_default.c), exceptions included.
 * Errors: TC_ENOMEM. */
enum tcerr allowlist_add_defaults(struct allowlist *al);
/* Adds one normalised entry; reason is copied ("RFC 1918 private range");
 * NULL reads "allowlist". Errors: TC_EINVAL (unparsable ip/cidr), TC_ELIMIT
 * (ALLOWLIST_MAX_ENTRIES), TC_ENOMEM. */
enum tcerr allowlist_add(struct allowlist *al, enum obs_kind kind, struct slice value,
                         const char *reason);
/* Adds an exception: (kind, value) and what lies under it are not covered
 * by a less specific allow entry. Errors as allowlist_add. */
enum tcerr allowlist_add_exception(struct allowlist *al, enum obs_kind kind, struct slice value,
                                   const char *reason);
/* Loads a file in the format above; norm normalises its values. Stops at
 * the first bad line. Errors: TC_ENOTFOUND / TC_EIO (d: "path: cannot
 * read: ..."), TC_EINVAL (d: "path:line: message", d->line set),
 * TC_ELIMIT (line longer than ALLOWLIST_MAX_LINE, file larger than
 * ALLOWLIST_MAX_FILE, too many entries), TC_EUNSUPPORTED (from norm),
 * TC_ENOMEM. After an error the allowlist may hold some of the file's
 * entries: discard it. */
enum tcerr allowlist_load_file(struct allowlist *al, const struct allowlist_normalizer *norm,
                               const char *path, struct diag *d);
/* The same over text already in memory; name stands for the path in
 * messages. */
enum tcerr allowlist_load_buf(struct allowlist *al, const struct allowlist_normalizer *norm,
                              const char *name, struct slice text, struct diag *d);
/* Returns true if (kind, normalised value) is allowlisted: the value itself,
 * a network containing it, or a parent domain of it. OUT: *reason (may be
 * NULL) = the entry's reason. A URL that names a whole site ("https://host/")
 * is also covered by its host's entry; a URL with a path or query, and an
 * email address, only by an entry for exactly that value, so malware on a
 * popular host and scams from a popular mail domain can still be blocked. */
bool allowlist_check(const struct allowlist *al, enum obs_kind kind, struct slice value,
                     const char **reason);
/* Entries held, exceptions included. */
size_t allowlist_count(const struct allowlist *al);

/* One entry as it was added. Strings belong to the allowlist and live as
 * long as it does. */
struct allowlist_entry {
	enum obs_kind kind;
	const char *value;          /* normalised */
	const char *reason;         /* never NULL */
	const char *source;         /* ALLOWLIST_BUILTIN, the file name given to
	                             * allowlist_load_buf/_file, or "allowlist_add" */
	bool exception;             /* "not allowlisted" ('!' in a file) */
	bool builtin;               /* shipped (allowlist_default.c) */
};
#define ALLOWLIST_BUILTIN "built-in allowlist"

/* Entry i (0 <= i < allowlist_count), in the order added: the built-in
 * ones first when allowlist_add_defaults ran first. Returns false past the
 * end. OUT: *e. */
bool allowlist_entry_at(const struct allowlist *al, size_t i, struct allowlist_entry *e);

enum allowlist_how {
	ALLOWLIST_NONE = 0,
	ALLOWLIST_COVERED,  /* the value, a network holding it or a parent domain is
	                     * listed: allowlist_check() says true */
	ALLOWLIST_CONTAINS, /* the value is a network that holds a listed address or
	                     * network, or a domain above a listed one: blocking
	                     * it would block that entry */
};

struct allowlist_hit {
	enum allowlist_how how;
	struct allowlist_entry entry; /* the deciding entry (how != NONE) */
};

/* What blocking (kind, normalised value) would hit on the allowlist: as
 * allowlist_check(), and for an IPv4/IPv6 network also any allow entry
 * that lies inside it ("8.0.0.0/8" holds 8.8.8.8; the entry of the lowest
 * address is reported), and for a domain any allow entry below it
 * (blocking example.org with its subdomains, as a DNS block list does,
 * would block a listed www.example.org; the first such entry added is
 * reported). An exception inside does not make the value blockable.
 * Returns hit->how != ALLOWLIST_NONE. OUT: *hit (may be NULL).
 * Thread-safe for readers (no writer at the same time). */
bool allowlist_check_block(const struct allowlist *al, enum obs_kind kind, struct slice value,
                           struct allowlist_hit *hit);

/* Another reference to al: allowlist_free() drops one, and the last one
 * frees it. Lets a reader keep using an allowlist its owner replaced
 * (a reload) without a lock held while it works. Returns al. */
struct allowlist *allowlist_ref(struct allowlist *al);

/* One line of the file format, parsed: what `tocsin allowlist remove`
 * compares and rewrites. OUT: *line (value and reason point into val and
 * why, which the caller owns; value NULL for a blank or comment line).
 * Errors: those of allowlist_load_buf for that line. */
struct allowlist_line {
	const char *value;
	const char *reason;         /* NULL if the line has none */
	enum obs_kind kind;
	bool exception;
};
enum tcerr allowlist_parse_line(const struct allowlist_normalizer *norm, const char *name,
                                long lineno, struct slice text, struct allowlist_line *line,
                                struct buf *val, struct buf *why, struct diag *d);

#endif
