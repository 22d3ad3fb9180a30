/*
 * stix_pattern.h — the STIX 2.1 patterning language (§9): parser and AST.
 *
 * stix_pattern_parse() accepts exactly the grammar of STIXPattern.g4
 * (observation expressions joined by AND / OR / FOLLOWEDBY with the usual
 * precedence FOLLOWEDBY < OR < AND, the qualifiers WITHIN / START..STOP /
 * REPEATS with at most one of each kind per expression, every comparison
 * operator with optional NOT, all constant kinds, object paths with list
 * indexes and quoted keys, comments and whitespace). An invalid pattern is
 * an error whose message gives the 1-based byte column: "column 14: expected
 * ']'". The AST lives in one arena owned by struct stix_pattern.
 *
 * stix_pattern_exact() walks the AST and reports every value compared with
 * '=' or 'IN' (not negated), together with whether a match of that value
 * alone satisfies the whole pattern ("sufficient": the value sits under
 * ORs only, in an observation expression that is itself joined by OR only
 * and carries no REPEATS qualifier).
 */
#ifndef TOCSIN_STIX_PATTERN_H
#define TOCSIN_STIX_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

#define STIX_PATTERN_MAX_LEN_DEFAULT (64 * 1024)
#define STIX_PATTERN_MAX_DEPTH_DEFAULT 64    /* nesting of parentheses/brackets */
#define STIX_PATTERN_MAX_NODES_DEFAULT 10000 /* AST nodes */

/* A zero field means its default. Exceeding one is TC_ELIMIT, with a
 * message naming the field ("... (max_depth)"). */
struct sp_limits {
	size_t max_len;   /* bytes of pattern text */
	size_t max_depth; /* '(' and '[' nesting, observation and comparison level */
	size_t max_nodes; /* struct sp_node count */
};

enum sp_node_kind {
	SP_FOLLOWEDBY = 1,  /* observation expressions: left FOLLOWEDBY right */
	SP_OBS_OR,          /* left OR right (observation level) */
	SP_OBS_AND,         /* left AND right (observation level) */
	SP_OBSERVATION,     /* [ comparison ] with its qualifiers; child in left */
	SP_CMP_OR,          /* comparison level OR */
	SP_CMP_AND,         /* comparison level AND */
	SP_COMPARISON,      /* path op constant */
	SP_EXISTS,          /* [NOT] EXISTS path */
};

enum sp_op {
	SP_OP_EQ = 1, SP_OP_NEQ, SP_OP_GT, SP_OP_LT, SP_OP_GE, SP_OP_LE,
	SP_OP_IN, SP_OP_LIKE, SP_OP_MATCHES, SP_OP_ISSUBSET, SP_OP_ISSUPERSET,
};

enum sp_const_kind {
	SP_CONST_STRING = 1, /* str/len: the value with \' and \\ unescaped */
	SP_CONST_INT,        /* i */
	SP_CONST_FLOAT,      /* f */
	SP_CONST_BOOL,       /* b */
	SP_CONST_BINARY,     /* str/len: decoded bytes of b'...' */
	SP_CONST_HEX,        /* str/len: decoded bytes of h'...' */
	SP_CONST_TIMESTAMP,  /* ts_us, and str/len: the text between the quotes */
	SP_CONST_SET,        /* items/nitems: the members of an IN (...) set */
};

struct sp_const {
	enum sp_const_kind kind;
	const char *str;
	size_t len;
	int64_t i;
	double f;
	bool b;
	int64_t ts_us;
	struct sp_const *items;
	size_t nitems;
};

enum sp_step_kind {
	SP_STEP_KEY = 1,   /* .name or .'quoted name' (and the first component) */
	SP_STEP_INDEX,     /* [n] (n may be negative, as the grammar allows) */
	SP_STEP_ANY,       /* [*] */
};

struct sp_step {
	enum sp_step_kind kind;
	const char *key;   /* SP_STEP_KEY: NUL-terminated, unquoted */
	int64_t index;     /* SP_STEP_INDEX */
};

struct sp_path {
	const char *type;      /* object type, NUL-terminated */
	struct sp_step *steps; /* at least one: the first property */
	size_t nsteps;
};

struct sp_node {
	enum sp_node_kind kind;
	struct sp_node *left, *right; /* binary nodes; SP_OBSERVATION: left = comparison */
	/* SP_COMPARISON and SP_EXISTS */
	bool negated;
	enum sp_op op;
	struct sp_path path;
	struct sp_const value;
	/* qualifiers, on SP_OBSERVATION and on parenthesised observation groups
	 * (on the group's top node). A group around a single expression merges
	 * its qualifiers into that expression, where a repeated kind is the
	 * "duplicate ... qualifier" error. Of their written order only what
	 * changes the meaning is kept: within_first (below). */
	bool has_within;
	double within_seconds;
	bool has_start_stop;
	int64_t start_us, stop_us;
	bool has_repeats;
	int64_t repeats;
	/* WITHIN was applied before REPEATS ("X WITHIN 5 SECONDS REPEATS 2
	 * TIMES": each repetition within 5 s), not after ("X REPEATS 2 TIMES
	 * WITHIN 5 SECONDS": all repetitions within 5 s). START..STOP commutes
	 * with both. */
	bool within_first;
	size_t column;     /* 1-based column in the pattern text where the node starts */
};

struct stix_pattern {
	struct sp_node *root;
	size_t nnodes;
	void *arena__;     /* private */
};

/* Parses text. lim may be NULL (defaults). OUT: *out, freed with
 * stix_pattern_free(). Errors: TC_EINVAL (message with column), TC_ELIMIT,
 * TC_ENOMEM. */
enum tcerr stix_pattern_parse(struct slice text, const struct sp_limits *lim,
                              struct stix_pattern **out, struct diag *d);
void stix_pattern_free(struct stix_pattern *p);

/* Called once per exact value, in pattern order. path_text is the object
 * path written canonically: "ipv4-addr:value", "file:hashes.'SHA-256'",
 * "network-traffic:dst_ref.value", "email-message:from_ref.value" (a key is
 * quoted unless it is [a-zA-Z_][a-zA-Z0-9_]* and not a keyword);
 * value is the constant (strings unescaped; ints as decimal text; floats
 * as the shortest decimal that reads back exactly; booleans "true"/"false";
 * b'' and h'' as their decoded bytes; timestamps as written). Both are
 * valid only during the call.
 * Return TC_OK to continue, anything else to stop (returned to the caller). */
typedef enum tcerr (*stix_pattern_exact_cb)(void *ctx, const char *path_text,
                                            struct slice value, bool sufficient);

/* Returns the operator as the pattern language writes it ("=", "ISSUBSET");
 * "?" for a value outside enum sp_op. */
const char *stix_pattern_op_text(enum sp_op op);

/* Reports every exact value of p to cb (see top of file). Returns TC_OK,
 * TC_ENOMEM, or the first non-TC_OK value cb returned. */
enum tcerr stix_pattern_exact(const struct stix_pattern *p, stix_pattern_exact_cb cb, void *ctx);

/* Appends a canonical re-serialisation of the pattern (single spaces,
 * canonical paths, parentheses only where needed, qualifiers in the order
 * REPEATS, WITHIN, START..STOP unless within_first, START/STOP times from
 * their µs value);
 * parse(print(p)) yields the same AST. Errors are recorded in out. */
struct buf;
void stix_pattern_print(const struct stix_pattern *p, struct buf *out);

#endif
