/*
 * stix.h — STIX 2.1 objects: strict JSON parsing and validation.
 *
 * stix_json_parse() turns bytes into a jansson value as strictly as I-JSON
 * (RFC 7493) asks: invalid UTF-8, duplicate keys, NUL in strings, integers
 * beyond ±(2^53−1), nesting deeper than a limit are errors with a line and
 * column. stix_validate() then checks one STIX 2.1 object against the spec
 * (common properties, id format, timestamps, each type's required
 * properties, markings, extensions, indicator patterns) and fills the
 * extracted columns every store and index needs (struct stix_meta).
 * Every error message starts with the JSON path of the offending value:
 * "objects[3].valid_until: must be later than valid_from".
 */
#ifndef TOCSIN_STIX_H
#define TOCSIN_STIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"
#include "util/timestamp.h"

/* Named limits (STYLE: every limit is named, configurable and tested). */
#define STIX_TYPE_MAX 250        /* STIX 2.1 §3.1: type names 3-250 chars */
#define STIX_ID_MAX (STIX_TYPE_MAX + 2 + 36 + 1)
#define STIX_VERSION_TEXT_MAX 64 /* longest accepted timestamp text */

/* tocsin's x-tocsin-distribution property extension (docs/extensions.md):
 * stix_validate() checks its recipients list (identity ids in canonical
 * form, 1..STIX_RECIPIENTS_MAX); lib/policy reads it. */
#define STIX_EXT_DISTRIBUTION "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c05"
#define STIX_RECIPIENTS_MAX 256

/* tocsin's incident property extension (docs/extensions.md,
 * docs/coordination.md), allowed on an incident only: severity (low,
 * medium, high, critical) and status (open, investigating, contained,
 * resolved, closed) required; affected_sectors (tocsin sector names),
 * affected_organization_refs (identity ids) and timeline (entries
 * {"at": timestamp, "event": text[, "by_ref": identity id]}) optional,
 * each a non-empty list of at most STIX_INCIDENT_LIST_MAX. */
#define STIX_EXT_INCIDENT "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c07"
#define STIX_INCIDENT_LIST_MAX 1000
#define STIX_INCIDENT_TEXT_MAX 4096

struct stix_limits {
	size_t max_depth;        /* JSON nesting depth, default 64 */
	size_t max_string;       /* bytes in one JSON string, default 1 MiB */
	size_t max_properties;   /* keys in one JSON object, default 10,000 */
	size_t max_array;        /* items in one JSON array, default 100,000 */
	size_t max_pattern;      /* bytes in an indicator pattern, default 64 KiB */
};

/* The defaults above. */
extern const struct stix_limits stix_default_limits;

enum stix_class {
	STIX_CLASS_SDO = 1,
	STIX_CLASS_SRO,
	STIX_CLASS_SCO,
	STIX_CLASS_META,     /* marking-definition, language-content, extension-definition */
	STIX_CLASS_BUNDLE,   /* only from stix_classify(); stix_validate() refuses bundles */
	STIX_CLASS_CUSTOM,   /* x-... types defined by extension (new-sdo/sco/sro) */
};

/* TLP, most restrictive marking on the object. TLP 1.0 maps onto TLP 2.0:
 * WHITE→CLEAR, GREEN→GREEN, AMBER→AMBER, RED→RED. The order is the order of
 * restriction, so max() combines. */
enum tlp_level {
	TLP_NONE = 0,        /* no TLP marking on the object */
	TLP_CLEAR,
	TLP_GREEN,
	TLP_AMBER,
	TLP_AMBER_STRICT,
	TLP_RED,
};

/* The extracted columns of one validated object version. */
struct stix_meta {
	char id[STIX_ID_MAX];
	char type[STIX_TYPE_MAX + 1];
	enum stix_class cls;
	char spec_version[8];       /* "2.1" */
	int64_t created_us;         /* 0 if the object has no created (SCO) */
	int64_t modified_us;        /* 0 if the object has no modified */
	/* The version as TAXII reports it: modified's text, else created's,
	 * else "" (unversioned SCO). Kept as written, e.g. "2016-04-06T20:03:48.000Z". */
	char version[STIX_VERSION_TEXT_MAX + 1];
	int64_t version_us;         /* modified, else created, else 0 */
	/* The most restrictive of the TLP markings on the object, its
	 * granular markings included (STIX 2.1 §7.2.3: the hub does not
	 * redact, so a selector's marking applies to the whole object). A
	 * marking ref that is no TLP id counts as TLP_RED here (in doubt,
	 * hide): the hub lowers it with stix_markings_tlp() once it knows
	 * which of those refs are statement markings (other_markings says
	 * how many refs it must look at). */
	enum tlp_level tlp;
	size_t other_markings;
	bool revoked;
	int64_t valid_from_us;      /* indicator only; else 0 */
	int64_t valid_until_us;     /* indicator only; 0 = no end */
	char created_by_ref[STIX_ID_MAX]; /* "" if absent */
	bool has_confidence;        /* the object has a confidence (0..100) */
	int confidence;
};

/* Parses text as one JSON value with the strictness described above.
 * lim may be NULL (defaults). OUT: *out, a new reference the caller
 * json_decref()s. Errors: TC_EINVAL (with line:column in d), TC_ELIMIT,
 * TC_ENOMEM (also when jansson's lexer ran out of memory and reported it
 * as a syntax error: see stix_json_alloc_init()). */
/* Routes jansson's allocations through malloc with a per-thread "an
 * allocation failed" flag, so that stix_json_parse() can tell running out
 * of memory from bad input (jansson reports some of its allocation
 * failures as syntax errors). Idempotent and thread-safe;
 * stix_json_parse() calls it. Programs must not call
 * json_set_alloc_funcs() themselves: use stix_json_set_alloc(). */
void stix_json_alloc_init(void);

/* Makes jansson allocate with m and f (e.g. the daemon's request arena,
 * taxii_jarena.h), keeping the out-of-memory flag: a NULL from m is
 * noted. Call before other threads use JSON; m and f must accept
 * pointers the other made before (f of memory m did not give is free). */
void stix_json_set_alloc(void *(*m)(size_t), void (*f)(void *));

enum tcerr stix_json_parse(struct slice text, const struct stix_limits *lim, json_t **out,
                           struct diag *d);

/* Validates one STIX 2.1 object (not a bundle). path is the prefix for
 * messages ("objects[3]"; NULL for none). lim may be NULL. OUT: *meta
 * (may be NULL). Returns TC_OK, TC_EINVAL or TC_ELIMIT with the first
 * problem found in d. obj is not modified. */
enum tcerr stix_validate(const json_t *obj, const char *path, const struct stix_limits *lim,
                         struct stix_meta *meta, struct diag *d);

/* Returns the class of a type name as STIX 2.1 defines it, STIX_CLASS_CUSTOM
 * for syntactically valid names it does not define, 0 for invalid names. */
enum stix_class stix_classify(const char *type);

/* Returns the TLP level a marking-definition id stands for (TLP 1.0 or 2.0
 * ids from the spec), TLP_NONE for any other id. */
enum tlp_level stix_tlp_from_marking(const char *marking_id);
/* Tells whether marking_id names a statement marking the caller knows
 * (stored in the hub, or in the same batch). */
typedef bool (*stix_statement_fn)(void *ctx, const char *marking_id);

/* The effective TLP level of obj's markings: every id in
 * object_marking_refs and every granular_markings[].marking_ref counts,
 * the most restrictive winning. A TLP 1.0 or 2.0 id counts as its level;
 * an id is_statement() says is a known statement marking (a text with no
 * distribution rule) counts as nothing; any other id — a marking this
 * hub does not know, or one whose meaning it cannot read — counts as
 * TLP_RED. TLP_NONE when nothing restricts: the hub's default_tlp then
 * applies. is_statement may be NULL (no statement marking is known).
 * OUT: *nother (may be NULL) = refs that are no TLP id. obj is a
 * validated object; anything unexpected in it counts as TLP_RED. */
enum tlp_level stix_markings_tlp(const json_t *obj, stix_statement_fn is_statement, void *ctx,
                                 size_t *nother);

/* true if md is a statement marking definition: a marking-definition
 * whose definition_type is "statement" (STIX 2.1 §7.2.1.3), without
 * extensions that could add rules the hub cannot read. */
bool stix_marking_is_statement(const json_t *md);

/* Returns the TLP 2.0 marking-definition id for a level (NULL for TLP_NONE). */
const char *stix_tlp_marking_id(enum tlp_level lvl);
/* "clear", "green", "amber", "amber+strict", "red", "none" */
const char *stix_tlp_name(enum tlp_level lvl);
enum tcerr stix_tlp_parse(const char *name, enum tlp_level *out);

/* Returns true if s is "<type>--<RFC 4122 UUID>" as the schema regex requires
 * (identifier.json). OUT: type_len (may be NULL) = length of the type part. */
bool stix_id_valid(struct slice s, size_t *type_len);

#endif
