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

#endif
