/*
 * export.h — writing what a hub holds as a STIX bundle, CSV or a plain list.
 *
 * An export writer takes stored object versions one at a time (struct
 * store_row, as store_query() hands them out), keeps those the options
 * select, and writes them to a sink callback in one of three formats:
 *   stix   {"type":"bundle","id":"bundle--<uuid>","objects":[...]}, each
 *          object exactly as stored, streamed object by object, then the
 *          STIX identity of each organisation that produced one of them
 *          (reg_org_identity_sdo), so that created_by_ref — verified at
 *          publish to be the producer's own identity — resolves in the
 *          bundle; the key id is not in a STIX export (csv, the TAXII
 *          manifest and `tocsin show` have it)
 *   csv    "value,kind,indicator_id,valid_until,tlp,producer,key_id" then
 *          one row per observable of each object (RFC 4180 quoting, CRLF);
 *          tlp is the effective level, never
 *          blank (an unmarked object's is the hub's default_tlp,
 *          opts.default_tlp); producer is the organisation's name ("hub"
 *          for the hub's own versions), key_id the key that posted the
 *          version (empty when none did)
 *   plain  one normalised value a line, each value once (for firewall
 *          sets, DNS lists, antifraud systems)
 * Observables are taken from each version's JSON with obs_extract(), so
 * they are exactly what the index holds; a payment card is only ever its
 * keyed hash ("hmac-sha256:..."): the PAN is not stored anywhere.
 *
 * The allowlist (opts->allow; export_hub uses the hub's): every value of
 * every format passes one filter, export_filter_value(), before the format
 * writes it, so a value an enforcement point must never block (8.8.8.8,
 * google.com, 10.0.0.0/8 and what lies in it, a network holding a listed
 * address such as 8.0.0.0/8, a domain above a listed one) never leaves in
 * an export:
 *   plain, csv   the value (line, row) is left out
 *   stix         an indicator with any such value is left out whole; SCOs
 *                and other objects are observations, not blocks: kept
 * Counted in export_counts (allowlisted, and per reason). With
 * opts->include_allowlisted they are kept and marked instead:
 *   plain  a comment line "# allowlisted: REASON (SOURCE)" before the value
 *   csv    a sixth column "allowlisted" (the header says so), holding
 *          "REASON (SOURCE)" or empty
 *   stix   the object gets the custom property "x_tocsin_allowlisted"
 *          (STIX 2.1 §11.1: custom properties; consumers that do not know
 *          it ignore it, the object stays valid): a list of
 *          {"value","kind","how":"covered"|"contains","entry","reason",
 *          "source"}, one per allowlisted value. It is an annotation of the
 *          export: the stored object does not have it.
 * A later format (issue 10: rpz, nft, ipset, ...) adds its case to the
 * writer's per-value switch after the filter, and so cannot skip it.
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
#include "index/allowlist.h"
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
	/* written from decisions by export_dec_writer (export_dec.h) */
	EXPORT_RPZ,
	EXPORT_NFT,
	EXPORT_IPSET,
	EXPORT_SURICATA_DATASET,
	EXPORT_SURICATA_IPREP,
	EXPORT_ZEEK,
	EXPORT_MISP_FEED,
};
#define EXPORT_FORMAT_LAST EXPORT_MISP_FEED

/* "stix", "csv", "plain" (also "txt"), "rpz", "nft", "ipset",
 * "suricata-dataset", "suricata-iprep", "zeek", "misp-feed". TC_EINVAL
 * otherwise. export_writer takes stix, csv and plain; export_dec_writer
 * every format but stix and csv. */
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
	/* Names producers (csv producer column, stix identities); NULL: the
	 * organisation's number ("#7") in csv, no identities in stix. */
	const struct reg_snapshot *names;
	/* The values never to block (see above). NULL: no filter (the writer
	 * alone); export_hub then uses hub_allowlist_get(h). */
	const struct allowlist *allow;
	bool include_allowlisted; /* keep them, marked, instead */
	/* Whether an indicator (by STIX id) is held out of enforcement (false
	 * positives, docs/sightings.md): a held indicator is left out and
	 * counted in held. NULL: none is. */
	bool (*held)(void *ctx, const char *id);
	void *held_ctx;
};

#define EXPORT_MAX_REASONS 32   /* distinct reasons counted; the rest in reasons_other */
#define EXPORT_REASON_MAX 256   /* bytes of one reason text */

/* How many values (objects, for stix) one reason left out or marked. */
struct export_reason {
	char reason[EXPORT_REASON_MAX]; /* "Google Public DNS (built-in allowlist)",
	                                 * "holds allowlisted 8.8.4.4: Google Public
	                                 * DNS (built-in allowlist)" */
	size_t count;
};

struct export_counts {
	size_t objects;           /* objects written (stix) or that gave a value */
	size_t values;            /* csv rows / plain lines written */
	size_t revoked;           /* versions left out because revoked */
	size_t expired;           /* versions left out because expired */
	size_t unreadable;        /* stored JSON that did not parse (should be 0) */
	size_t hidden;            /* export_hub: current versions policy kept from opts->who */
	size_t allowlisted;       /* left out for the allowlist: values (plain: distinct
	                           * values; csv: rows) or objects (stix) */
	size_t allowlisted_kept;  /* the same, kept and marked (include_allowlisted) */
	size_t held;              /* indicators left out because held (opts->held) */
	size_t nreasons;          /* per reason, per allowlisted value (a stix object
	                           * with two counts twice) */
	struct export_reason reasons[EXPORT_MAX_REASONS];
	size_t reasons_other;     /* values whose reason did not fit */
};

/* The one allowlist filter of every enforcement output (this writer, and
 * the daemon's later ones). Decides (kind, normalised value) against al:
 * returns false when the value may be blocked; true when it is
 * allowlisted (allowlist_check_block: covered by an entry, or a network
 * holding one), with *hit (may be NULL) saying which entry. When counts
 * is not NULL the reason is counted in counts->reasons (not in
 * allowlisted / allowlisted_kept: the caller knows its unit). al NULL:
 * false. */
bool export_filter_value(const struct allowlist *al, enum obs_kind kind, struct slice value,
                         struct allowlist_hit *hit, struct export_counts *counts);

/* The text a hit is counted and marked under, into out (size n):
 * "REASON (SOURCE)" or "holds allowlisted VALUE: REASON (SOURCE)". */
void export_reason_text(const struct allowlist_hit *hit, char *out, size_t n);

/* Library-private: writes out's bytes to write once there are
 * EXPORT_FLUSH of them (any, with force), keeping the first error in
 * *err (sticky: later calls return it). The one sink of every writer. */
enum tcerr export__sink(struct buf *out, export_write_fn write, void *wctx, enum tcerr *err,
                        bool force, struct diag *d);

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

/* Exports the current versions of store s (opts->collection, an alias or
 * id, or every collection) to write, each through policy_row() for
 * opts->who, filtered by opts->allow (NULL: no filter; the daemon passes
 * the hub's). obs: as export_writer_new. OUT: *counts (may be NULL).
 * Errors: TC_ENOTFOUND (no such collection), TC_EDB, and those of the
 * writer. */
enum tcerr export_store(struct store *s, const struct obs_ctx *obs, const struct export_opts *opts,
                        export_write_fn write, void *wctx, struct export_counts *counts,
                        struct diag *d);

/* Exports the current versions of h's store (opts->collection or every
 * collection) to write. OUT: *counts (may be NULL). Errors: TC_ENOTFOUND
 * (no such collection), TC_EDB, and those of the writer. */
enum tcerr export_hub(struct hub *h, const struct export_opts *opts, export_write_fn write,
                      void *wctx, struct export_counts *counts, struct diag *d);

#endif
