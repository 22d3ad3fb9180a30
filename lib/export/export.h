/*
 * export.h — writing what a hub holds as a STIX bundle, CSV or a plain list.
 *
 * An export writer takes stored object versions one at a time (struct
 * store_row, as store_query() hands them out), keeps those the options
 * select, and writes them to a sink callback in one of three formats:
 *   stix   {"type":"bundle","id":"bundle--<uuid>","objects":[...]}, each
 *          object exactly as stored, streamed object by object
 *   csv    "value,kind,indicator_id,valid_until,tlp" then one row per
 *          observable of each object (RFC 4180 quoting, CRLF); tlp is
 *          the effective level, never blank: an unmarked object's is
 *          the hub's default_tlp (opts.default_tlp)
 *   plain  one normalised value a line, each value once (for firewall
 *          sets, DNS lists, antifraud systems)
 * Observables are taken from each version's JSON with obs_extract(), so
 * they are exactly what the index holds; a payment card is only ever its
 * keyed hash ("hmac-sha256:..."): the PAN is not stored anywhere.
 *
 * By default only current versions (the caller's query asks for the last
 * version) that are neither revoked nor expired (valid_until <= now) are
 * written. export_hub() runs the whole export over a hub's store, as the
 * hub operator or, with opts->who, as that policy subject (`tocsin export
 * --for ORG`): each object's current version goes through policy_row()
 * and is left out when the subject may not see it (an older, visible
 * version is not shown in its place). A caller that serves principals
 * over the network (the daemon's /api/v1/export) may do the same or feed
 * the rows it may show to an export writer itself.
 *
 * Memory: the writer holds one object at a time plus an output buffer of
 * EXPORT_FLUSH bytes; plain additionally keeps 8 bytes per distinct value
 * for de-duplication.
 */
#ifndef TOCSIN_EXPORT_H
#define TOCSIN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"
#include "observable/observable.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/tcerr.h"

#define EXPORT_FLUSH 65536                  /* output buffered before a write */
#define EXPORT_MAX_OBJECT ((size_t)16 << 20) /* bytes of one stored object read back */
#define EXPORT_MAX_VALUES ((size_t)100000000) /* distinct values in a plain export */

enum export_format {
	EXPORT_STIX = 1,
	EXPORT_CSV,
	EXPORT_PLAIN,
};

/* "stix", "csv", "plain" (also "txt"). TC_EINVAL otherwise. */
enum tcerr export_format_parse(const char *name, enum export_format *out);
const char *export_format_name(enum export_format f);

/* The sink: writes n bytes; returns TC_OK or the error (TC_EIO) that
 * stops the export. */
typedef enum tcerr (*export_write_fn)(void *ctx, const char *p, size_t n);

/* The bit of kind k in export_opts.kinds. */
#define EXPORT_KIND_BIT(k) (UINT32_C(1) << (unsigned)(k))

struct export_opts {
	enum export_format format;
	uint32_t kinds;           /* EXPORT_KIND_BIT()s; 0: every kind. With stix,
	                           * keeps objects having an observable of a kind. */
	const char *collection;   /* alias or id; NULL: every collection (export_hub) */
	bool include_revoked;
	bool include_expired;
	int64_t now_us;           /* what "expired" is measured against; 0: the clock */
	const char *bundle_id;    /* "bundle--..." to use; NULL: a new random one */
	/* export_hub: whose view (policy_row() decides each version); NULL:
	 * the operator's, everything. The writer itself ignores it. */
	const struct policy_subject *who;
	/* export_hub: called with each version the writer took (after
	 * policy and the options), e.g. to audit what was shown; NULL: none.
	 * An error it returns stops the export and is returned. */
	enum tcerr (*taken)(void *ctx, const struct store_row *row);
	void *taken_ctx;
	/* What an unmarked version counts as (the csv tlp column). TLP_NONE:
	 * export_hub reads the hub's default_tlp; a writer alone uses
	 * REG_DEFAULT_TLP. */
	enum tlp_level default_tlp;
};

struct export_counts {
	size_t objects;           /* objects written (stix) or that gave a value */
	size_t values;            /* csv rows / plain lines written */
	size_t revoked;           /* versions left out because revoked */
	size_t expired;           /* versions left out because expired */
	size_t unreadable;        /* stored JSON that did not parse (should be 0) */
	size_t hidden;            /* export_hub: current versions policy kept from opts->who */
};

struct export_writer;

/* Makes a writer. obs is the hub's normalisation context (needed to
 * extract card hashes; may be NULL when no cards are stored). Nothing is
 * written until the first row or export_writer_finish(). OUT: *out, freed
 * with export_writer_free(). Errors: TC_EINVAL (bad options), TC_ENOMEM. */
enum tcerr export_writer_new(const struct export_opts *opts, const struct obs_ctx *obs,
                             export_write_fn write, void *wctx, struct export_writer **out,
                             struct diag *d);

/* Offers one stored version; the writer skips it if the options do not
 * select it. Returns TC_OK, or the error of the sink (TC_EIO...), TC_ENOMEM,
 * TC_ELIMIT; after an error the writer only accepts export_writer_free(). */
enum tcerr export_writer_row(struct export_writer *w, const struct store_row *row,
                             struct diag *d);

/* Writes the end (the bundle's closing brackets) and flushes. OUT: *counts
 * (may be NULL). */
enum tcerr export_writer_finish(struct export_writer *w, struct export_counts *counts,
                                struct diag *d);

/* Objects taken so far (export_counts.objects before finish). */
size_t export_writer_objects(const struct export_writer *w);

void export_writer_free(struct export_writer *w);

/* Exports the current versions of h's store (opts->collection or every
 * collection) to write. OUT: *counts (may be NULL). Errors: TC_ENOTFOUND
 * (no such collection), TC_EDB, and those of the writer. */
enum tcerr export_hub(struct hub *h, const struct export_opts *opts, export_write_fn write,
                      void *wctx, struct export_counts *counts, struct diag *d);

#endif
