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
 *             (RFC 4180), or named columns after a header line (any
 *             order; also name, confidence, valid_from: the CSV of
 *             tocsin export and of bench's generator read back)
 * MISP events may also come unwrapped (the event object itself, with
 * "info" and "Attribute" or "Object", but no "Event" around it).
 *
 * Notes: what the reader did to an item it still imported, or why it left
 * a well-formed item out on purpose, goes to on_note (and is counted):
 * a CSV row whose valid_until is past (imported: the history is kept,
 * the index does not match it), a defanged value ("hxxp://evil[.]example")
 * restored before normalisation, a MISP attribute with to_ids false (not
 * imported: MISP marks it as context, not for detection or blocking).
 * Detection: the first non-space byte '{' or '[' means JSON; if the first
 * line alone is a complete JSON object and more lines follow, JSON Lines,
 * otherwise one JSON document classified by its keys. Anything else is CSV
 * (which includes a plain list of values, one a line).
 *
 * Memory: JSON Lines and CSV stream record by record in memory bounded by
 * the line limit. Bundles and envelopes stream too: lib/stix/stix_scan
 * finds each element of "objects" as the input arrives and each is parsed
 * alone (stix_json_parse), so memory is bounded by the largest object
 * (max_object) whatever the number of objects; an object over max_object
 * or nested deeper than max_depth is rejected alone and the run goes on.
 * Until the "objects" array starts the reader keeps the document's first
 * members; a document that turns out to be no bundle or envelope (a single
 * object, MISP, a top-level array, an objects member that is no array) is
 * parsed whole, as are MISP events and arrays: the document limit
 * (IMPORT_MAX_DOCUMENT) bounds memory to a small multiple of it. A
 * streamed document that breaks off (truncated, malformed between objects,
 * a read error) stops the run with the place; everything before it has
 * been handed on already.
 *
 * Determinism: objects made from CSV rows and MISP attributes get ids
 * derived from what identifies them (a CSV row's kind and value, a MISP
 * attribute's uuid) under the hub's secret id key (import_opts.id_key,
 * uuid_keyed), and timestamps that do not depend on the clock, so
 * importing the same file twice into the same hub yields duplicates the
 * store recognises, not new versions, while another hub, or anyone without
 * the key, cannot compute the id a hub gave a value (issue 9: no asking
 * the hub by id whether it holds an indicator for an address). Without a
 * key the ids are UUIDv5 in TOCSIN_UUID_NAMESPACE. See import_opts.
 */
#ifndef TOCSIN_IMPORT_H
#define TOCSIN_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "observable/observable.h"
#include "stix/stix.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

/* Named limits; each can be lowered (or raised) through import_opts. */
#define IMPORT_MAX_DOCUMENT ((size_t)1 << 30) /* bytes of one JSON document */
#define IMPORT_MAX_LINE ((size_t)1 << 20)     /* bytes of one JSONL line or CSV record */
#define IMPORT_MAX_OBJECTS ((size_t)1000000)  /* objects (or MISP attributes) in a document
                                               * read whole (not a streamed bundle) */
#define IMPORT_MAX_OBJECT ((size_t)16 << 20)  /* bytes of one object of a streamed bundle */
#define IMPORT_MAX_DEPTH 64                   /* nesting of a streamed bundle, its framing
                                               * included (= stix_default_limits) */
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
/* As import_object_cb, with obj's JSON text as read when the reader has
 * it: text holds no insignificant whitespace and parses to obj (an object
 * of a streamed bundle or envelope, a JSON Lines record without
 * whitespace); {NULL, 0} otherwise (objects built from CSV or MISP, or
 * parsed from a whole document). text is valid only during the call. */
typedef enum tcerr (*import_object_text_cb)(void *ctx, json_t *obj, struct slice text,
                                            const char *where);
/* Called once per item the reader rejects; rc says why in kind (TC_EINVAL,
 * TC_ELIMIT, TC_EUNSUPPORTED), why in words. Returning non-TC_OK stops the
 * run. */
typedef enum tcerr (*import_reject_cb)(void *ctx, const char *where, enum tcerr rc,
                                       const char *why);
enum import_note {
	IMPORT_NOTE_EXPIRED = 1, /* imported, but valid_until is not after now */
	IMPORT_NOTE_REFANGED,    /* a defanged value was restored, then imported */
	IMPORT_NOTE_NOT_IDS,     /* a MISP attribute with to_ids false, not imported */
};
/* Called once per note; text says what, in words ("valid_until
 * 2024-01-01T00:00:00.000Z is past: imported, it does not match").
 * Returning non-TC_OK stops the run. */
typedef enum tcerr (*import_note_cb)(void *ctx, const char *where, enum import_note what,
                                     const char *text);
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
	size_t max_object;              /* 0: IMPORT_MAX_OBJECT (streamed bundles) */
	size_t max_depth;               /* 0: IMPORT_MAX_DEPTH (streamed bundles) */
	int64_t created_us;             /* CSV time; 0: IMPORT_FIXED_TIME_US */
	bool misp_all;                  /* MISP: also attributes with to_ids false */
	int64_t now_us;                 /* what "expired" is judged against; 0: the clock */
	uint64_t total_bytes;           /* for progress; 0 if unknown */
	import_object_cb on_object;     /* required unless on_object_text is set */
	import_object_text_cb on_object_text; /* if set, called instead of on_object */
	import_reject_cb on_reject;     /* NULL: rejections are only counted */
	import_progress_cb on_progress; /* may be NULL */
	import_note_cb on_note;         /* NULL: notes are only counted */
	/* The key the ids of objects the import makes are derived under
	 * (uuid_keyed; a hub's id key, hub_id_key), at least UUID_KEY_MIN
	 * bytes; NULL: UUIDv5 in TOCSIN_UUID_NAMESPACE, which anyone can
	 * compute — for checking files only, never for what a hub stores. */
	const uint8_t *id_key;
	size_t id_key_len;
	void *ctx;                      /* passed to the callbacks */
};

/* What an indicator made by the import is built from. */
struct import_ind {
	enum obs_kind kind;
	struct slice value;       /* normalised */
	struct slice id_name;     /* name the id is derived from (import_id) */
	const uint8_t *id_key;    /* import_opts.id_key (NULL: UUIDv5) */
	size_t id_key_len;
	int64_t created_us;       /* also modified */
	int64_t valid_from_us;
	int64_t valid_until_us;   /* 0: none */
	enum tlp_level tlp;
	struct slice name;        /* p NULL: "<kind> <value>" */
	struct slice description; /* p NULL: none */
	bool has_confidence;
	int confidence;           /* 0..100, if has_confidence */
	json_t *ext_refs;         /* external_references array or NULL; borrowed */
	json_t *labels;           /* array or NULL; borrowed */
	const char *extra_desc;   /* appended to the description, may be NULL */
};

/* Builds the STIX 2.1 indicator of one observable, a pure function of in
 * (the same in gives the same object byte for byte). OUT: *out (new
 * reference, the caller decrefs it), id. Errors: TC_EINVAL (a text is
 * not UTF-8, a key shorter than UUID_KEY_MIN), TC_ENOMEM. */
enum tcerr import_indicator(const struct import_ind *in, json_t **out, char id[STIX_ID_MAX],
                            struct diag *d);

/* The UUID text of an object an import makes, from name: uuid_keyed
 * under key when key is not NULL, else UUIDv5 in TOCSIN_UUID_NAMESPACE.
 * out holds UUID_TEXT_MAX (37) bytes. Errors: TC_EINVAL (key too short). */
enum tcerr import_id(const uint8_t *key, size_t keylen, struct slice name, char out[37]);

/* Restores a defanged value: "hxxp"/"hxxps" at the start become
 * "http"/"https"; "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}" become
 * ".", "[:]" ":", "[://]" "://", "[/]" "/", "[@]", "[at]", "(at)", "{at}"
 * "@" (letters in any case). OUT: out (cleared first; the caller resets
 * it). Returns true if anything was replaced. */
bool import_refang(struct slice in, struct buf *out);

/* Maps "clear", "white", "green", "amber", "amber+strict", "red", with an
 * optional "tlp:" prefix, any case. TC_EINVAL otherwise. */
enum tcerr import_tlp_parse(struct slice s, enum tlp_level *out);

struct import_counts {
	enum import_format format; /* the format read (detected or forced) */
	uint64_t bytes;            /* bytes read */
	size_t objects;            /* handed to on_object */
	size_t rejected;           /* handed to on_reject */
	size_t skipped;            /* blank and comment lines */
	size_t expired;            /* IMPORT_NOTE_EXPIRED: imported, already expired */
	size_t refanged;           /* IMPORT_NOTE_REFANGED: imported after re-fanging */
	size_t not_ids;            /* IMPORT_NOTE_NOT_IDS: MISP to_ids false, not imported */
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

/*
 * Migration from medallion, the OASIS reference TAXII 2.1 server: its
 * memory-backend data file ("dump") is one JSON object with
 *   "/discovery"   the discovery resource (read, not imported: tocsind
 *                  serves its own),
 *   NAME           one member per API root ("api1", "trustgroup1"), an
 *                  object with "information" (the API root resource),
 *                  "status" (status resources) and "collections".
 * "collections" is an array of collection resources (id, title,
 * description, can_read, can_write, media_types) each with "objects" (the
 * STIX object versions) and optionally "manifest" (records id, date_added,
 * version, media_type; older files: "versions" and "media_types" lists).
 * Later medallion files key "collections" and "status" by id instead of
 * listing them, and carry each object's manifest data in a member
 * "__meta" {"date_added", "media_type", "version"} of the object; both
 * shapes are read.
 *
 * Parsing (import_dump_parse) needs no store: it checks the structure,
 * finds each object version's date_added (the manifest record with the
 * same id and version, else __meta.date_added), strips __meta, and orders
 * the versions by date_added across collections. A structural problem
 * (not an object, a collection without a valid id, a manifest record
 * without a valid date_added, a limit) fails the whole parse with its
 * place: nothing is imported from a malformed dump. A problem confined to
 * one object (not a JSON object, a malformed __meta) marks that object
 * rejected; STIX validation is left to the hub, as for other imports.
 *
 * Ingesting (import_dump_ingest) creates each collection with its
 * original id (or reuses the collection that has it) and appends every
 * version with its original date_added, so TAXII clients that move from
 * medallion keep their added_after cursors.
 */
#define IMPORT_DUMP_MAX_BYTES ((size_t)1 << 30)       /* bytes of the file */
#define IMPORT_DUMP_MAX_DEPTH 70                      /* JSON nesting: an object's 64 + the framing */
#define IMPORT_DUMP_MAX_API_ROOTS 1000                /* API roots in the file */
#define IMPORT_DUMP_MAX_COLLECTIONS 10000             /* collections over all API roots */
#define IMPORT_DUMP_MAX_OBJECTS ((size_t)1000000)     /* object versions over all collections */
#define IMPORT_DUMP_MAX_MANIFEST ((size_t)2000000)    /* manifest records (each version counts) */
#define IMPORT_DUMP_ALIAS_MAX 64                      /* = STORE_ALIAS_MAX */
#define IMPORT_DUMP_ALIAS_TRIES 1000                  /* "alias", "alias-2", ... "alias-1000" */
#define IMPORT_DUMP_BATCH 10000                       /* versions per durable batch */

struct import_dump_opts {
	/* Limits; 0 means the IMPORT_DUMP_MAX_* default. */
	size_t max_bytes, max_depth, max_api_roots, max_collections, max_objects, max_manifest;
};

/* One API root of the file (its member name, its "information"). */
#define IMPORT_DUMP_ROOT_NAME_MAX 63          /* = REG_API_ROOT_NAME_MAX */
#define IMPORT_DUMP_MAX_STATUSES 100000       /* status resources over all API roots */
struct import_dump_root {
	const char *name;          /* [a-z0-9][a-z0-9_-]*, checked; borrowed from the dump */
	const char *title;         /* "" if none; borrowed */
	const char *description;   /* "" if none; borrowed */
	uint64_t max_content_length; /* 0 if none */
};

/* One status resource (TAXII 2.1 §4.3.1) of an API root. */
struct import_dump_status {
	uint32_t root;             /* index in import_dump.roots */
	char id[37];               /* a UUID, lower case */
	const json_t *obj;         /* the resource as the file has it; borrowed */
};

struct import_dump_collection {
	const char *api_root;      /* the API root's name in the file; borrowed from the dump */
	char uuid[37];             /* the collection id, lower case */
	const char *title;         /* "" if none; borrowed from the dump */
	const char *description;   /* "" if none; borrowed from the dump */
	char alias[IMPORT_DUMP_ALIAS_MAX + 1]; /* from the title (import_dump_alias) */
	bool can_read, can_write;  /* as medallion answered them to every user */
	size_t nobjects;           /* object versions in the file */
};

enum import_dump_date {
	IMPORT_DATE_NONE = 0,      /* the file gives none: the store assigns the import time */
	IMPORT_DATE_MANIFEST,      /* the manifest record with the same id and version */
	IMPORT_DATE_META,          /* the object's __meta.date_added */
};

struct import_dump_item {
	json_t *obj;               /* the version without __meta (the dump's); NULL if rejected */
	uint32_t collection;       /* index in import_dump.cols */
	uint32_t index;            /* position in its collection's objects */
	int64_t date_added_us;     /* 0 with IMPORT_DATE_NONE */
	enum import_dump_date date_from;
	size_t why;                /* rejected: offset of the reason in import_dump.whys */
};

struct import_dump {
	json_t *doc;               /* the parsed file */
	char *name;                /* the file name as given, for messages */
	size_t napi_roots;
	struct import_dump_root *roots;   /* napi_roots of them, in file order */
	struct import_dump_status *statuses;
	size_t nstatuses;
	struct import_dump_collection *cols;
	size_t ncols;
	struct import_dump_item *items; /* every version, in (date_added, collection, index)
	                                 * order; undated versions last, in file order */
	size_t nitems;
	size_t nrejected;          /* items rejected while parsing */
	struct buf whys;           /* NUL-separated reasons of the rejected items */
};

/* Parses a dump held in data. name is used in messages ("dump.json"). o
 * may be NULL (defaults). OUT: *out, freed with import_dump_free(); NULL
 * on error. Errors: TC_EINVAL (not JSON, or not medallion's shape: the
 * message names the place, "dump.json: trustgroup1/collections[2].id: not
 * a UUID"), TC_ELIMIT (a limit of o; d names it), TC_ENOMEM. */
enum tcerr import_dump_parse(const char *name, struct slice data, const struct import_dump_opts *o,
                             struct import_dump **out, struct diag *d);

/* Reads the file at path (at most o->max_bytes) and parses it. Errors as
 * import_dump_parse, and TC_EIO (cannot read: "PATH: reason"), TC_ELIMIT
 * (larger than max_bytes). */
enum tcerr import_dump_load(const char *path, const struct import_dump_opts *o,
                            struct import_dump **out, struct diag *d);

void import_dump_free(struct import_dump *dump);

/* Writes the place of item i in the file: "dump.json:
 * api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects[3]". */
void import_dump_where(const struct import_dump *dump, size_t i, char where[IMPORT_WHERE_MAX]);

/* The reason item i was rejected while parsing, or NULL if it was not. */
const char *import_dump_why(const struct import_dump *dump, size_t i);

/* Makes a collection alias ([a-z0-9][a-z0-9._-]*, at most
 * IMPORT_DUMP_ALIAS_MAX - 5 bytes so that a "-1000" suffix fits) from a
 * title: ASCII letters lower-cased, digits kept, every other run of bytes
 * one '-'. A title that gives nothing gives fallback's alias, and if
 * that gives nothing too, "collection". */
void import_dump_alias(const char *title, const char *fallback, char out[IMPORT_DUMP_ALIAS_MAX + 1]);

struct hub;

/* What import_dump_ingest() tells its caller as it goes. Each may be NULL. */
struct import_dump_ingest_cbs {
	/* A collection of the dump, created (with this alias) or reused (the
	 * store already had its id; alias is the store's). */
	void (*collection)(void *ctx, const struct import_dump_collection *c, const char *alias,
	                   bool created);
	/* An object version not stored: its place and why. */
	void (*reject)(void *ctx, const char *where, const char *why);
	void *ctx;
};

struct import_dump_totals {
	size_t imported, duplicates, rejected;
	size_t created, reused;      /* collections */
	size_t undated;              /* versions stored with the import time as date_added */
};

/* Creates or reuses each collection of dump (by id), then appends every
 * version in dump order with its date_added, producer 0 (the hub), in
 * batches of IMPORT_DUMP_BATCH, each one durable transaction. Running it
 * again over the same dump gives duplicates, not errors. OUT: *totals
 * (always filled: on error it counts what was committed). Errors: TC_EDB,
 * TC_EIO, TC_ENOMEM (the batch being written is not stored; batches
 * before it are), TC_EEXIST (no free alias after IMPORT_DUMP_ALIAS_TRIES),
 * TC_EINVAL (the store refused a collection). */
enum tcerr import_dump_ingest(struct hub *h, const struct import_dump *dump,
                              const struct import_dump_ingest_cbs *cbs,
                              struct import_dump_totals *totals, struct diag *d);

struct registry;

struct import_dump_reg_totals {
	size_t roots_created, roots_kept;   /* API roots new to the registry, already there */
	size_t rights_set;                  /* collections whose rights came from the file */
	size_t statuses;                    /* status resources kept */
};

/* Records in the registry what the file says beyond objects (after
 * import_dump_ingest): each API root with its information (a root the
 * registry has is kept as it is); for each collection created[i] says was
 * created by this import, its API root and its rights, mapped from
 * medallion's can_read/can_write (which medallion answers alike to every
 * authenticated user) to the SPEC `all` (true) or `none` (false) — a
 * reused collection keeps its root and rights; and every status
 * resource, under REG_STATUS_IMPORTED_PREFIX "ROOT/ID", kept
 * REG_STATUS_KEEP_US from now. OUT: *t (always filled). Errors: TC_EDB,
 * TC_EINVAL, TC_ENOMEM (with d; what was recorded before stays). */
enum tcerr import_dump_register(struct registry *r, const struct import_dump *dump,
                                const bool *created, struct import_dump_reg_totals *t,
                                struct diag *d);

#endif
