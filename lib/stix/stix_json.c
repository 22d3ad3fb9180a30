/*
 * stix_json.c — strict JSON parsing for STIX content (I-JSON, RFC 7493).
 *
 * jansson does the lexing: it rejects invalid UTF-8, \u0000 (without
 * JSON_ALLOW_NUL), raw control characters, duplicate keys (with
 * JSON_REJECT_DUPLICATES) and trailing garbage. What it cannot refuse is
 * checked by one walk over the decoded value: integers outside
 * ±(2^53−1), nesting deeper than max_depth, strings longer than
 * max_string, objects with more than max_properties keys, arrays longer
 * than max_array. A pre-scan of the bytes applies the same limits before
 * jansson allocates anything (json_precheck). Invariant: a value returned by stix_json_parse() satisfies
 * every one of those limits, so later code may rely on them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix.h"
#include "util/pan.h"

/* I-JSON (RFC 7493 §2.2): integers must be exactly representable as IEEE
 * doubles, i.e. within ±(2^53−1). */
#define STIX_JSON_INT_MAX 9007199254740991LL
/* Nesting the byte pre-scan can follow; a deeper max_depth is cut to it. */
#define STIX_JSON_PRECHECK_DEPTH 1024
/* How far past a limit a document must go for the pre-scan to refuse it. */
#define STIX_JSON_PRECHECK_SLACK 2

const struct stix_limits stix_default_limits = {
    .max_depth = 64,
    .max_string = 1024 * 1024,
    .max_properties = 10000,
    .max_array = 100000,
    .max_pattern = 64 * 1024,
};

/* Walk state. The path of the value being checked is a chain of frames
 * on the C stack (one per enclosing member or item), turned into text
 * ("objects[3].labels[7]") only when a limit error names the place: the
 * walk of a valid document formats nothing. */
struct jwalk {
	const struct stix_limits *lim;
	struct diag *d;
	char path[256];
	size_t plen;
};

struct jframe {
	const struct jframe *up;   /* NULL: a member or item of the root */
	const char *key;           /* the member's name, or NULL for an item */
	size_t index;              /* the item's index */
};

/* Appends a path component; a path too long for the buffer is cut with
 * "..." (messages stay readable, the walk stays correct). */
static void
jwalk_push(struct jwalk *w, const struct jframe *f)
{
	int n;
	if (f->key)
		n = snprintf(w->path + w->plen, sizeof(w->path) - w->plen, "%s%s",
		             w->plen ? "." : "", f->key);
	else
		n = snprintf(w->path + w->plen, sizeof(w->path) - w->plen, "[%zu]", f->index);
	if (n < 0 || (size_t)n >= sizeof(w->path) - w->plen) {
		memcpy(w->path + sizeof(w->path) - 4, "...", 4);
		w->plen = sizeof(w->path) - 1;
	} else {
		w->plen += (size_t)n;
	}
}

/* Formats the path of frame f (root first) into w->path. */
static void
jwalk_path(struct jwalk *w, const struct jframe *f)
{
	const struct jframe *chain[sizeof(w->path)];
	size_t n = 0, depth = 0;
	/* each component takes a byte at least, so only the outermost
	 * sizeof(chain) can show before the path is cut */
	for (const struct jframe *g = f; g; g = g->up)
		depth++;
	for (; f && depth > sizeof(chain) / sizeof(chain[0]); f = f->up)
		depth--;
	for (; f; f = f->up)
		chain[n++] = f;
	w->plen = 0;
	w->path[0] = '\0';
	while (n)
		jwalk_push(w, chain[--n]);
}

static enum tcerr
jwalk_err(struct jwalk *w, const struct jframe *f, enum tcerr rc, const char *what)
{
	jwalk_path(w, f);
	if (w->plen)
		return pan_suspect(slice_from_cstr(w->path))
		           ? diag_set(w->d, rc, "a property whose name is not quoted (it may hold a "
		                                "card number): %s", what)
		           : diag_set(w->d, rc, "%s: %s", w->path, what);
	return diag_set(w->d, rc, "%s", what);
}

static enum tcerr
jwalk_value(struct jwalk *w, const json_t *v, size_t depth, const struct jframe *at)
{
	char msg[96];
	enum tcerr rc = TC_OK;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		if (depth >= w->lim->max_depth) {
			snprintf(msg, sizeof(msg), "nesting deeper than %zu", w->lim->max_depth);
			return jwalk_err(w, at, TC_ELIMIT, msg);
		}
		if (json_object_size(v) > w->lim->max_properties) {
			snprintf(msg, sizeof(msg), "more than %zu properties",
			         w->lim->max_properties);
			return jwalk_err(w, at, TC_ELIMIT, msg);
		}
		const char *key;
		size_t klen;
		json_t *item;
		json_object_keylen_foreach((json_t *)v, key, klen, item)
		{
			if (klen > w->lim->max_string) {
				snprintf(msg, sizeof(msg), "property name longer than %zu bytes",
				         w->lim->max_string);
				return jwalk_err(w, at, TC_ELIMIT, msg);
			}
			struct jframe f = { at, key, 0 };
			rc = jwalk_value(w, item, depth + 1, &f);
			if (rc)
				return rc;
		}
		return TC_OK;
	}
	case JSON_ARRAY: {
		if (depth >= w->lim->max_depth) {
			snprintf(msg, sizeof(msg), "nesting deeper than %zu", w->lim->max_depth);
			return jwalk_err(w, at, TC_ELIMIT, msg);
		}
		size_t n = json_array_size(v);
		if (n > w->lim->max_array) {
			snprintf(msg, sizeof(msg), "more than %zu array items", w->lim->max_array);
			return jwalk_err(w, at, TC_ELIMIT, msg);
		}
		for (size_t i = 0; i < n; i++) {
			struct jframe f = { at, NULL, i };
			rc = jwalk_value(w, json_array_get(v, i), depth + 1, &f);
			if (rc)
				return rc;
		}
		return TC_OK;
	}
	case JSON_STRING:
		if (json_string_length(v) > w->lim->max_string) {
			snprintf(msg, sizeof(msg), "string longer than %zu bytes",
			         w->lim->max_string);
			return jwalk_err(w, at, TC_ELIMIT, msg);
		}
		return TC_OK;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);
		if (i > STIX_JSON_INT_MAX || i < -STIX_JSON_INT_MAX)
			return jwalk_err(w, at, TC_EINVAL,
			                 "integer outside ±(2^53-1) (I-JSON, RFC 7493 §2.2)");
		return TC_OK;
	}
	default:
		return TC_OK;
	}
}

/* Set when an allocation of jansson's failed on this thread. */
static _Thread_local bool stix_json_oom;
static pthread_once_t stix_json_once = PTHREAD_ONCE_INIT;

static void *(*stix_json_user_malloc)(size_t) = malloc;
static void (*stix_json_user_free)(void *) = free;

static void *
stix_json_malloc(size_t n)
{
	void *p = stix_json_user_malloc(n);
	if (!p)
		stix_json_oom = true;
	return p;
}

static void
stix_json_free(void *p)
{
	stix_json_user_free(p);
}

static void
stix_json_install(void)
{
	json_set_alloc_funcs(stix_json_malloc, stix_json_free);
}

void
stix_json_alloc_init(void)
{
	pthread_once(&stix_json_once, stix_json_install);
}

void
stix_json_set_alloc(void *(*m)(size_t), void (*f)(void *))
{
	stix_json_alloc_init();
	stix_json_user_malloc = m ? m : malloc;
	stix_json_user_free = f ? f : free;
}

/* Sets d to "line L, column C: MSG" for the byte at off of text. */
static enum tcerr
precheck_fail(struct slice text, size_t off, const char *msg, struct diag *d)
{
	long line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text.p[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	diag_set(d, TC_ELIMIT, "line %ld, column %ld: %s", line, col, msg);
	if (d) {
		d->line = line;
		d->column = col;
	}
	return TC_ELIMIT;
}

/* One pass over the bytes, before jansson builds anything: nesting,
 * items per array, members per object and raw string length are held to
 * STIX_JSON_PRECHECK_SLACK times lim, so that a document far beyond a
 * limit costs a scan, not a tree (25 million integers are 50 MB of text
 * and 1.4 GB of json_t). A document just beyond a limit passes here, and
 * the walk after parsing names the place by its path ("objects[3].labels:
 * more than 100000 array items"); this scan can only name a line and a
 * column. It only counts: a malformed document passes here and jansson
 * says where it is wrong. Strings are measured raw, and escapes decode
 * shorter, so the string bound also allows for six bytes per character. */
static enum tcerr
json_precheck(struct slice text, const struct stix_limits *lim, struct diag *d)
{
	size_t count[STIX_JSON_PRECHECK_DEPTH];
	bool is_array[STIX_JSON_PRECHECK_DEPTH];
	size_t depth = 0, str_start = 0;
	bool in_str = false;
	size_t k = STIX_JSON_PRECHECK_SLACK;
	size_t max_depth = lim->max_depth * k < STIX_JSON_PRECHECK_DEPTH ? lim->max_depth * k
	                                                                 : STIX_JSON_PRECHECK_DEPTH;
	char msg[96];

	for (size_t i = 0; i < text.len; i++) {
		char c = text.p[i];
		if (in_str) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = false;
				if (i - str_start > lim->max_string * 6 * k) {
					snprintf(msg, sizeof(msg), "string longer than %zu bytes",
					         lim->max_string);
					return precheck_fail(text, str_start, msg, d);
				}
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			str_start = i;
			break;
		case '{':
		case '[':
			if (depth >= max_depth) {
				snprintf(msg, sizeof(msg), "nesting deeper than %zu", lim->max_depth);
				return precheck_fail(text, i, msg, d);
			}
			is_array[depth] = c == '[';
			count[depth++] = 0;
			break;
		case '}':
		case ']':
			if (depth)
				depth--;
			break;
		case ',':
			if (!depth)
				break;
			/* items = commas + 1 */
			if (++count[depth - 1] >= k * (is_array[depth - 1] ? lim->max_array
			                                                   : lim->max_properties)) {
				if (is_array[depth - 1])
					snprintf(msg, sizeof(msg), "more than %zu array items",
					         lim->max_array);
				else
					snprintf(msg, sizeof(msg), "more than %zu properties",
					         lim->max_properties);
				return precheck_fail(text, i, msg, d);
			}
			break;
		default:
			break;
		}
	}
	return TC_OK;
}

/* Could text break a limit by the pre-scan's slack at all? Every item or
 * member takes two bytes at least, so a document shorter than four times
 * the smaller of max_array and max_properties cannot; nor can its strings
 * reach six times max_string, and its depth is bounded by jansson's own
 * stack limit. Such a document builds a tree in proportion to its size,
 * which is all the pre-scan guards against, so the one object of a POST
 * or an import line skips the second pass. */
static bool
precheck_needed(struct slice text, const struct stix_limits *lim)
{
	size_t few = lim->max_array < lim->max_properties ? lim->max_array : lim->max_properties;
	return text.len / 4 >= few;
}

enum tcerr
stix_json_parse(struct slice text, const struct stix_limits *lim, json_t **out, struct diag *d)
{
	json_error_t err;
	json_t *v;
	enum tcerr rc;

	diag_clear(d);
	*out = NULL;
	if (!lim)
		lim = &stix_default_limits;
	/* JSON_REJECT_DUPLICATES: I-JSON §2.3 names must be unique.
	 * JSON_DECODE_ANY: callers decide which top-level kinds they accept.
	 * No JSON_ALLOW_NUL: "\u0000" is refused (I-JSON §2.1 forbids
	 * noncharacters; NUL breaks every C consumer downstream). */
	if (precheck_needed(text, lim) && (rc = json_precheck(text, lim, d)))
		return rc;
	stix_json_alloc_init();
	stix_json_oom = false;
	v = json_loadb(text.p ? text.p : "", text.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	               &err);
	if (!v) {
		/* jansson reports some allocation failures as syntax errors, and
		 * leaves the error blank (its code byte unset) when its lexer's
		 * first buffer cannot be allocated */
		if (stix_json_oom || err.text[0] == '\0')
			return diag_set(d, TC_ENOMEM, "out of memory");
		enum json_error_code code = json_error_code(&err);
		rc = code == json_error_out_of_memory ? TC_ENOMEM : TC_EINVAL;
		if (code == json_error_stack_overflow)
			rc = TC_ELIMIT;
		/* jansson's text names its own flag for NUL; say it plainly. */
		if (code == json_error_null_character)
			diag_set(d, rc, "line %d, column %d: \\u0000 is not allowed in strings",
			         err.line, err.column);
		else if (pan_suspect(slice_from_cstr(err.text)))
			/* jansson quotes the text near the error: never a card number */
			diag_set(d, rc, "line %d, column %d: %.*s (the text there is not quoted: "
			         "it may hold a card number)", err.line, err.column,
			         (int)(strstr(err.text, " near ") ? (size_t)(strstr(err.text, " near ") - err.text)
			                                          : 0),
			         err.text);
		else
			diag_set(d, rc, "line %d, column %d: %s", err.line, err.column, err.text);
		if (d) {
			d->line = err.line;
			d->column = err.column;
		}
		return rc;
	}
	if (stix_json_oom) {
		/* jansson's lexer drops a character whose buffer could not
		 * grow and carries on: the value may be silently damaged */
		json_decref(v);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	struct jwalk w = {.lim = lim, .d = d};
	w.path[0] = '\0';
	rc = jwalk_value(&w, v, 0, NULL);
	if (rc) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return TC_OK;
}
