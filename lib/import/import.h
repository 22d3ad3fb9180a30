/*
 * import.h — reading threat-intelligence files into STIX 2.1 objects.
 *
 * import_run() reads one input (a file, stdin, a buffer) through a read
 * callback and hands every STIX object it finds to on_object, one at a
 * time, with a location for messages ("feed.json: objects[3]",
 * "feed.jsonl:12", "feed.csv:7", "event.json: Event.Attribute[4]"). Items
 * the reader itself cannot turn into an object (a CSV row whose value is
 * no observable, a JSON Lines line that does not parse, a MISP attribute of
 * an unsupported type) go to on_reject with the reason; the run goes on.
 * The reader does not validate STIX objects: STIX inputs pass through
 * untouched and validation is the hub's job (hub_ingest).
 *
 * Formats, detected from the content unless opts.format forces one:
 *   bundle    {"type":"bundle","objects":[...]}          (STIX 2.1 §8)
 *   envelope  {"objects":[...], "more":...} without type (TAXII 2.1 §3.6)
 *   object    a single STIX object {"type":...,"id":...}
 *   array     a JSON array of STIX objects
 *   misp      MISP event JSON: {"Event":{...}}, [{"Event":...}, ...] or
 *             {"response":[{"Event":...}, ...]}
 *   jsonl     one STIX object per line (JSON Lines)
 *   csv       value[,kind[,valid_until[,tlp[,labels[,description]]]]] rows
 *             (RFC 4180), or named columns after a header line
 * Detection: the first non-space byte '{' or '[' means JSON; if the first
 * line alone is a complete JSON object and more lines follow, JSON Lines,
 * otherwise one JSON document classified by its keys. Anything else is CSV
 * (which includes a plain list of values, one a line).
 *
 * Memory: JSON Lines and CSV stream record by record in memory bounded by
 * the line limit. Bundles, envelopes and MISP events are parsed as whole
 * documents because jansson has no streaming parser: the document limit
 * (IMPORT_MAX_DOCUMENT) bounds memory to a small multiple of it.
 *
 * Determinism: objects made from CSV rows and MISP attributes get UUIDv5
 * ids (TOCSIN_UUID_NAMESPACE) over what identifies them and timestamps
 * that do not depend on the clock, so importing the same file twice yields
 * duplicates the store recognises, not new versions. See import_opts.
 */
#ifndef TOCSIN_IMPORT_H
#define TOCSIN_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "observable/observable.h"
#include "stix/stix.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

/* Named limits; each can be lowered (or raised) through import_opts. */
#define IMPORT_MAX_DOCUMENT ((size_t)1 << 30) /* bytes of one JSON document */
#define IMPORT_MAX_LINE ((size_t)1 << 20)     /* bytes of one JSONL line or CSV record */
#define IMPORT_MAX_OBJECTS ((size_t)1000000)  /* objects (or MISP attributes) in a document */
#define IMPORT_CSV_MAX_FIELDS 16              /* fields in one CSV record */
#define IMPORT_WHERE_MAX 256                  /* bytes of a location text */
#define IMPORT_CHUNK 65536                    /* bytes asked of the read callback at once */

/* The time given to objects made from CSV rows (created, modified,
 * valid_from) unless the row has a valid_from or the caller sets
 * import_opts.created_us: 2020-01-01T00:00:00.000Z. A fixed time, not the
 * clock, so that re-importing the same CSV gives the same (id, modified)
 * and the store reports duplicates instead of piling up new versions.
 * Known consequence: a changed row (new tlp, new valid_until) re-imported
 * with the same time is also a duplicate and the change is not stored;
 * give the row a valid_from or the import a later created_us to publish
 * a new version. */
#define IMPORT_FIXED_TIME_US INT64_C(1577836800000000)

enum import_format {
	IMPORT_AUTO = 0,
	IMPORT_BUNDLE,
	IMPORT_ENVELOPE,
	IMPORT_OBJECT,
	IMPORT_ARRAY,
	IMPORT_MISP,
	IMPORT_JSONL,
	IMPORT_CSV,
};

/* "auto", "bundle", "envelope", "object", "array", "misp", "jsonl", "csv". */
const char *import_format_name(enum import_format f);
/* Inverse of import_format_name; also accepts "stix" (any STIX JSON
 * document, classified by content) and "json" (same). TC_EINVAL otherwise. */
enum tcerr import_format_parse(const char *name, enum import_format *out);

/* Called once per object. obj is borrowed: json_incref() it to keep it.
 * where is valid only during the call. Returning anything but TC_OK stops
 * the run, and import_run() returns that code. */
typedef enum tcerr (*import_object_cb)(void *ctx, json_t *obj, const char *where);
/* Called once per item the reader rejects; rc says why in kind (TC_EINVAL,
 * TC_ELIMIT, TC_EUNSUPPORTED), why in words. Returning non-TC_OK stops the
 * run. */
typedef enum tcerr (*import_reject_cb)(void *ctx, const char *where, enum tcerr rc,
                                       const char *why);
/* Called after each chunk read: done bytes so far of total (0 if unknown). */
typedef void (*import_progress_cb)(void *ctx, uint64_t done, uint64_t total);
/* Reads up to cap bytes into p. OUT: *got, 0 at end of input. Returns
 * TC_OK or TC_EIO. */
typedef enum tcerr (*import_read_fn)(void *rctx, char *p, size_t cap, size_t *got);

struct import_opts {
	enum import_format format;      /* IMPORT_AUTO: detect */
	const struct obs_ctx *obs;      /* normalisation (card key); NULL: cards refused */
	const struct stix_limits *lim;  /* JSON limits; NULL: stix_default_limits */
	size_t max_document;            /* 0: IMPORT_MAX_DOCUMENT */
	size_t max_line;                /* 0: IMPORT_MAX_LINE */
	size_t max_objects;             /* 0: IMPORT_MAX_OBJECTS */
	int64_t created_us;             /* CSV time; 0: IMPORT_FIXED_TIME_US */
	bool misp_all;                  /* MISP: also attributes with to_ids false */
	uint64_t total_bytes;           /* for progress; 0 if unknown */
	import_object_cb on_object;     /* required */
	import_reject_cb on_reject;     /* NULL: rejections are only counted */
	import_progress_cb on_progress; /* may be NULL */
	void *ctx;                      /* passed to the three callbacks */
};

struct import_counts {
	enum import_format format; /* the format read (detected or forced) */
	uint64_t bytes;            /* bytes read */
	size_t objects;            /* handed to on_object */
	size_t rejected;           /* handed to on_reject */
	size_t skipped;            /* blank/comment lines, MISP attributes without to_ids */
};

/* Reads the whole input from rd and reports what it holds. name is used in
 * locations ("-" reads as "stdin"). OUT: *counts (may be NULL), filled also
 * on error. Returns TC_OK when the input was read to the end (rejections
 * do not make it fail); otherwise the error that stopped the run with the
 * place in d: TC_EINVAL (a JSON document that does not parse, a bundle
 * whose objects is not an array, a CSV header with an unknown column),
 * TC_ELIMIT (document too big, too many objects), TC_EIO, TC_ENOMEM, or
 * what a callback returned. */
enum tcerr import_run(const char *name, import_read_fn rd, void *rctx,
                      const struct import_opts *opts, struct import_counts *counts,
                      struct diag *d);

/* import_run() over a stdio stream (not closed). */
enum tcerr import_file(const char *name, FILE *in, const struct import_opts *opts,
                       struct import_counts *counts, struct diag *d);

/* import_run() over bytes in memory. */
enum tcerr import_buffer(const char *name, struct slice data, const struct import_opts *opts,
                         struct import_counts *counts, struct diag *d);

#endif
