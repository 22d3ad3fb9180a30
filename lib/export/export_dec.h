/*
 * export_dec.h — the enforcement formats: decisions in, a file an
 * enforcement point loads out (issue 10).
 *
 * A decision writer takes decisions one at a time (struct feed_decision,
 * as feed_snapshot() hands them out: the decisions current now that the
 * reader may see, sorted by kind then value, policy, expiry and
 * revocation already applied) and writes one of these formats to a sink:
 *
 *   plain             one value a line (external dynamic lists: Palo Alto
 *                     EDL, Fortinet threat feeds); every kind; paging
 *                     (offset, limit) and a per-device cap (max)
 *   rpz               a DNS RPZ zone file: SOA (serial = log position mod
 *                     2^32), NS, "name CNAME ." and "*.name CNAME ." for
 *                     domains, rpz-ip triggers for IPv4/IPv6 addresses and
 *                     networks; policy action NXDOMAIN, NODATA or a
 *                     walled-garden CNAME
 *   nft               an nftables script: table inet TABLE, sets v4 and v6
 *                     (flags interval,timeout), element timeouts from the
 *                     decision's until; an address inside a listed network
 *                     is left out (covered: nft refuses overlapping
 *                     intervals)
 *   ipset             an `ipset restore` file: hash:net sets NAME-v4 and
 *                     NAME-v6 with timeouts, filled under a temporary name
 *                     and swapped in (atomic replacement)
 *   suricata-dataset  one Suricata dataset (part): "domains" or "urls"
 *                     (type string, base64 a line), "md5", "sha256" (hex),
 *                     "ip" (addresses, type ip)
 *   suricata-iprep    Suricata IP reputation: part "categories"
 *                     ("1,tocsin,...") or "reputation" ("ip,1,score",
 *                     score from confidence, 1..127)
 *   zeek              a Zeek intel framework file (tab separated, #fields
 *                     header): Intel::ADDR, SUBNET, DOMAIN, URL, EMAIL,
 *                     FILE_HASH
 *   misp-feed         a MISP feed, one part at a time: "manifest.json",
 *                     "hashes.csv" or "<event uuid>.json"; one event per
 *                     (producer, TLP) of the indicators behind the decisions
 * What each format does not carry (a kind it has no place for, a name too
 * long for DNS, an address covered by a network, values past the cap) is
 * left out and counted per reason in export_dec_counts; docs/integrations.md
 * lists them. The blocking formats (plain, rpz, nft, ipset) also leave out
 * a decision whose action is "alert" (below the hub's confidence to
 * block); the monitoring ones (suricata-*, zeek, misp-feed) carry it.
 *
 * Allowlist: every value passes export_filter_value() (export.h), the one
 * filter, before any format writes it.
 *
 * Memory: one decision at a time and an output buffer of EXPORT_FLUSH
 * bytes, except nft (16 bytes per IPv4 and 32 per IPv6 value, sorted at the
 * end to leave out covered ones; at most EXPORT_DEC_MAX_IPS) and misp-feed
 * manifest (one entry per event, at most EXPORT_MISP_MAX_EVENTS).
 */
#ifndef TOCSIN_EXPORT_DEC_H
#define TOCSIN_EXPORT_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/export.h"
#include "feed/feed.h"

#define EXPORT_DEC_MAX_IPS ((size_t)20000000) /* nft: addresses and networks held */
#define EXPORT_MISP_MAX_EVENTS 4096           /* misp-feed: events in a manifest */
#define EXPORT_RPZ_TTL 60                     /* rpz: TTL of every record */
#define EXPORT_IPSET_MAXELEM 16777216         /* ipset: maxelem of each set */
#define EXPORT_IPSET_MAX_TIMEOUT 2147483      /* ipset: longest timeout (kernel) */
#define EXPORT_NAME_MAX 64                    /* table, set, zone names given */

enum export_rpz_action {
	EXPORT_RPZ_NXDOMAIN = 0,  /* CNAME . */
	EXPORT_RPZ_NODATA,        /* CNAME *. */
	EXPORT_RPZ_CNAME,         /* CNAME rpz_cname (a walled garden) */
};

/* "nxdomain", "nodata", "cname". TC_EINVAL otherwise. */
enum tcerr export_rpz_action_parse(const char *name, enum export_rpz_action *out);

/* Why a decision was not written (export_dec_counts.left_out[]). */
enum export_left_out {
	EXPORT_LEFT_KIND = 0,     /* the format has no place for this kind */
	EXPORT_LEFT_ALLOWLISTED,  /* export_filter_value() */
	EXPORT_LEFT_COVERED,      /* nft: inside a listed network */
	EXPORT_LEFT_TOO_LONG,     /* rpz: the owner name passes 255 bytes */
	EXPORT_LEFT_MAX,          /* plain: past the per-device cap (max) */
	EXPORT_LEFT_UNSAFE,       /* a byte the format cannot carry (a tab, a line break) */
	EXPORT_LEFT_ALERT,        /* a blocking format (plain, rpz, nft, ipset): the decision
	                           * says "alert", not "block" (feed_ctx.block_min_confidence) */
	EXPORT_LEFT_NREASONS
};
/* "kind", "allowlisted", "covered", "too-long", "max", "unsafe", "alert" */
const char *export_left_out_name(enum export_left_out r);

struct export_dec_opts {
	enum export_format format;    /* EXPORT_PLAIN, EXPORT_RPZ ... EXPORT_MISP_FEED */
	/* suricata-dataset: "domains", "urls", "md5", "sha256", "ip";
	 * suricata-iprep: "categories", "reputation"; misp-feed:
	 * "manifest.json", "hashes.csv", "<uuid>.json". NULL: the first. */
	const char *part;
	const struct allowlist *allow;
	bool include_allowlisted;     /* plain: keep them, after a "# allowlisted:" line */
	int64_t now_us;               /* timeouts are until - now; 0: the clock */
	uint64_t position;            /* the log position the decisions are exact at */
	/* plain: the values numbered from 0 in order after the allowlist; the
	 * first max only (0: all), then of those from offset, limit (0: all) */
	uint64_t offset, limit, max;
	/* plain: URLs without "http://" / "https://" (the form PAN-OS URL
	 * lists take: host and path) */
	bool strip_scheme;
	/* rpz */
	const char *rpz_origin;       /* zone name; NULL: "rpz.tocsin." */
	enum export_rpz_action rpz_action;
	const char *rpz_cname;        /* EXPORT_RPZ_CNAME: the garden's name */
	const char *rpz_ns;           /* NS / SOA mname; NULL: "localhost." */
	/* nft table; ipset set prefix. NULL: "tocsin" */
	const char *name;
	/* misp-feed: who publishes the feed, in each event's info and the
	 * names its uuids derive from. NULL: "tocsin" */
	const char *feed_name;
	/* misp-feed: the hub's id key (hub_id_key): the uuids are derived
	 * under it (uuid_keyed), so two hubs' feeds never share an id and
	 * nobody can forge one of this hub's; NULL: UUIDv5 of the names */
	const uint8_t *id_key;
	size_t id_key_len;
	/* export_decisions: called with each decision a format wrote (e.g.
	 * to audit reads); NULL: none. An error it returns stops the export. */
	enum tcerr (*taken)(void *ctx, const struct feed_decision *dec);
	void *taken_ctx;
};

struct export_dec_counts {
	size_t decisions;             /* offered */
	size_t written;               /* values (lines, records, elements, attributes) */
	size_t left_out[EXPORT_LEFT_NREASONS];
	size_t kinds_left_out[OBS_KIND_MAX + 1]; /* EXPORT_LEFT_KIND per kind */
	uint64_t listed;              /* plain: values in the list (after max), every page */
	size_t events;                /* misp-feed: events in the manifest / this event: 1 */
	struct export_counts allow;   /* allowlist reasons (allow.reasons) */
};

/* The parts of a multi-part format, NULL-terminated: suricata-dataset,
 * suricata-iprep; misp-feed has the two fixed ones (the events are named
 * in its manifest). NULL for a single-part format. */
const char *const *export_dec_parts(enum export_format f);

/* Whether part names a part of f (one of export_dec_parts(f), or for
 * misp-feed "<lowercase uuid>.json"). */
bool export_dec_part_ok(enum export_format f, const char *part);

/* Whether f is written from decisions (export_dec_writer) rather than
 * stored rows (export_writer): every format but stix and csv. */
bool export_format_is_decisions(enum export_format f);

/* The media type of f's part (HTTP Content-Type). */
const char *export_dec_media_type(enum export_format f, const char *part);

struct export_dec_writer;

/* Makes a writer. Nothing is written until the first decision or finish.
 * OUT: *out, freed with export_dec_writer_free(). Errors: TC_EINVAL (a
 * format that is not one of these, an unknown part, a name with a byte
 * the format cannot hold, CNAME action without a target), TC_ENOMEM. */
enum tcerr export_dec_writer_new(const struct export_dec_opts *opts, export_write_fn write,
                                 void *wctx, struct export_dec_writer **out, struct diag *d);

/* Offers one decision (an add: kind, value, until, confidence, tlp,
 * indicators). Returns TC_OK, or the sink's error, TC_ENOMEM, TC_ELIMIT;
 * after an error only export_dec_writer_free() is accepted. */
enum tcerr export_dec_writer_add(struct export_dec_writer *w, const struct feed_decision *dec,
                                 struct diag *d);

/* Writes what is held and the end, flushes. OUT: *counts (may be NULL).
 * misp-feed "<uuid>.json" for an event no decision belongs to: TC_ENOTFOUND
 * (nothing was written). */
enum tcerr export_dec_writer_finish(struct export_dec_writer *w, struct export_dec_counts *counts,
                                    struct diag *d);

void export_dec_writer_free(struct export_dec_writer *w);

/* Exports the decisions current now that fc->who may see and f admits
 * (feed_snapshot) in opts' format to write. opts->position 0: the store's
 * log position when the export begins (rpz's serial); opts->allow NULL:
 * fc->allow. OUT: *counts, *position (the position the snapshot is exact
 * at; either may be NULL). Errors: those of feed_snapshot and the writer
 * (TC_ENOTFOUND: a misp-feed event nobody has). */
enum tcerr export_decisions(const struct feed_ctx *fc, const struct feed_filter *f,
                            const struct export_dec_opts *opts, export_write_fn write,
                            void *wctx, struct export_dec_counts *counts, uint64_t *position,
                            struct diag *d);

/* The event uuid misp-feed gives the decisions of producer at tlp (the
 * reader's view), under o's feed name and id key. out: UUID_TEXT_MAX
 * bytes. */
enum tcerr export_misp_event_uuid(const struct export_dec_opts *o, const char *producer,
                                  enum tlp_level tlp, char *out);

/* One line summing up c's left-out counts, e.g. "kind=12 allowlisted=3
 * (url=12)"; "" when nothing was left out. Into out (size n). */
void export_dec_left_out_text(const struct export_dec_counts *c, char *out, size_t n);

#endif
