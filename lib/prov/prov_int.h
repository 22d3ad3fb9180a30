/*
 * prov_int.h — lib/prov's private parts shared between its files: the
 * small JSON tree the canonicaliser builds (jcs.c) and that verification
 * (prov.c) reads the extension from, so an object is parsed once.
 *
 * A jcs_doc holds nodes in one array; strings without escapes point into
 * the input text, decoded strings into doc->str. Children of an array or
 * an object are a linked list (child, next), members carry their key.
 */
#ifndef TOCSIN_PROV_INT_H
#define TOCSIN_PROV_INT_H

#include <stdint.h>

#include "prov/prov.h"

enum jcs_type { JCS_NULL, JCS_FALSE, JCS_TRUE, JCS_NUM, JCS_STR, JCS_ARR, JCS_OBJ };

struct jcs_node {
	const char *s;      /* string (decoded, no quotes) or number text; key below */
	const char *key;    /* member name (decoded), NULL outside objects */
	uint32_t len, key_len;
	int32_t child;      /* first child, -1 */
	int32_t next;       /* next sibling, -1 */
	uint32_t count;     /* children */
	uint8_t type;
	uint8_t key_ascii;  /* key is ASCII: sort with memcmp */
	uint8_t s_dec, key_dec; /* while parsing: s / key is an offset into str */
};

#define JCS_INLINE_NODES 128

struct jcs_doc {
	struct jcs_node *nodes;
	size_t n, cap;
	struct jcs_node inline_nodes[JCS_INLINE_NODES];
	struct buf str;     /* decoded strings */
	/* decoded strings are recorded as offsets until parsing ends (str may
	 * move); fixed up in one pass */
	const char *text;
	size_t len_hint;    /* bytes of the parsed text: the canonical form is rarely longer */
};

void jcs__init(struct jcs_doc *doc);
void jcs__free(struct jcs_doc *doc);
/* Parses text into doc (root is node 0). Errors: TC_EINVAL, TC_ELIMIT,
 * TC_ENOMEM, with d saying where. */
enum tcerr jcs__parse(struct jcs_doc *doc, struct slice text, struct diag *d);
/* The member of object node obj named key, or -1. */
int32_t jcs__get(const struct jcs_doc *doc, int32_t obj, const char *key);
/* Appends JCS of node i; strip_prov as prov_jcs (i must be the root). */
enum tcerr jcs__emit(const struct jcs_doc *doc, int32_t i, bool strip_prov, struct buf *out,
                     struct diag *d);

#endif
