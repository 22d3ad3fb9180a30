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
 */
#ifndef TOCSIN_ALLOWLIST_H
#define TOCSIN_ALLOWLIST_H

#include <stdbool.h>

#include "observable/observable.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

struct allowlist;

#define ALLOWLIST_MAX_ENTRIES 1000000
#define ALLOWLIST_MAX_LINE 4096

/* An empty allowlist. OUT: *out. */
enum tcerr allowlist_new(struct allowlist **out);
void allowlist_free(struct allowlist *al);
/* Adds the shipped defaults. */
enum tcerr allowlist_add_defaults(struct allowlist *al);
/* Adds one normalised entry; reason is kept ("RFC 1918 private range"). */
enum tcerr allowlist_add(struct allowlist *al, enum obs_kind kind, struct slice value,
                         const char *reason);
/* The shape of obs_classify(): the allowlist takes the normaliser as a
 * parameter so the index module does not depend on the observable code. */
typedef enum tcerr (*allowlist_classify_fn)(const struct obs_ctx *ctx, struct slice in,
                                            enum obs_kind *kind, struct buf *out,
                                            struct diag *d);

/* Loads a file as described above; classify (with ctx) normalises its
 * values. Errors: TC_EIO, TC_EINVAL ("path:line: message"), TC_ELIMIT. */
enum tcerr allowlist_load_file(struct allowlist *al, const struct obs_ctx *ctx,
                               allowlist_classify_fn classify, const char *path, struct diag *d);
/* Returns true if (kind, normalised value) is allowlisted: the value itself,
 * a network containing it, or a parent domain of it. OUT: *reason (may be
 * NULL) = the entry's reason. For a URL, its host is checked too; for an
 * email, its domain. */
bool allowlist_check(const struct allowlist *al, enum obs_kind kind, struct slice value,
                     const char **reason);
size_t allowlist_count(const struct allowlist *al);

#endif
