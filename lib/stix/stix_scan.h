/*
 * stix_scan.h — a bounded, resumable scanner of the skeleton of one JSON
 * document of the shape {"k1": v1, …, "objects": [E0, E1, …], …}: a STIX
 * bundle (STIX 2.1 §8) or a TAXII envelope (TAXII 2.1 §3.6). It finds the
 * byte span of each element Ei of the top-level "objects" array without
 * building the document's tree, so that each element is parsed on its own
 * (stix_json_parse) and a document of any size is read in memory bounded
 * by the largest element. The TAXII POST path (taxii_envelope_scan) and
 * the importer (lib/import) both use it.
 *
 * The caller owns the input buffer and feeds it as it arrives: each call
 * of stix_scan_next() looks at buf[0..len) (the same bytes as before, plus
 * more at the end, minus what the caller dropped at the front with
 * stix_scan_drop()), and reports one event. Bytes before stix_scan_keep()
 * are no longer needed. The scanner checks only the skeleton: an element
 * span is valid JSON only if the caller's parser says so; a top-level
 * member other than "objects" is returned whole, for the caller to parse
 * (it is bounded by max_member). Depth inside an element is counted, not
 * stacked, so the scanner's memory is constant.
 */
#ifndef TOCSIN_STIX_SCAN_H
#define TOCSIN_STIX_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/slice.h"

/* Named limits (defaults of struct stix_scan_limits). */
#define STIX_SCAN_MAX_OBJECT ((size_t)16 << 20) /* bytes of one element of objects */
#define STIX_SCAN_MAX_DEPTH 64                  /* nesting inside one element */
#define STIX_SCAN_MAX_MEMBER ((size_t)1 << 20)  /* bytes of one other top-level member */
#define STIX_SCAN_MAX_MEMBERS 64                /* top-level members */
#define STIX_SCAN_KEY_MAX 128                   /* bytes of a top-level key */

struct stix_scan_limits {
	size_t max_object;  /* an element longer than this is skipped (STIX_SCAN_SKIPPED) */
	size_t max_depth;   /* an element nested deeper than this is skipped */
	size_t max_member;  /* a longer member other than objects is an error */
};

extern const struct stix_scan_limits stix_scan_default_limits;

enum stix_scan_ev {
	STIX_SCAN_ERROR = -1, /* malformed skeleton or a limit: d says where and why */
	STIX_SCAN_MORE = 0,   /* needs more input (or, with eof, the input ended early: ERROR) */
	STIX_SCAN_MEMBER,     /* a top-level member other than an objects array: key, span */
	STIX_SCAN_OBJECTS,    /* the objects array starts: elements follow */
	STIX_SCAN_ELEMENT,    /* element number index of objects: span, ws */
	STIX_SCAN_SKIPPED,    /* element number index was over a limit and was skipped:
	                       * too_deep says which; span is empty */
	STIX_SCAN_END,        /* the document ended (and only whitespace follows) */
};

struct stix_scan {
	/* Results of the last event (read them, do not change them). */
	char key[STIX_SCAN_KEY_MAX + 1]; /* MEMBER: the key, decoded, NUL-terminated */
	bool key_escaped;      /* MEMBER: the key was written with escapes */
	size_t off, len;       /* MEMBER, ELEMENT: the value's bytes are buf[off .. off+len);
	                        * ERROR: off is where the scan stopped */
	bool ws;               /* ELEMENT: whitespace outside strings (stix_scan_compact) */
	bool too_deep;         /* SKIPPED: for depth; else for size */
	size_t index;          /* ELEMENT, SKIPPED: position in objects, from 0 */
	uint64_t at;           /* offset in the whole input of the event's first byte */

	/* Private. */
	struct stix_scan_limits lim;
	int state;
	size_t pos;            /* next byte to look at, in the caller's buffer */
	size_t start;          /* first byte of the value being scanned */
	uint64_t dropped;      /* bytes the caller dropped so far */
	size_t nmembers;
	size_t depth, maxdepth;
	bool in_str, esc, vws, skip;
	int vkind;
	size_t next_index;
	char seen[STIX_SCAN_MAX_MEMBERS][STIX_SCAN_KEY_MAX + 1];
};

/* Prepares s for a new document; lim NULL means the defaults (a field 0
 * means its default too). */
void stix_scan_init(struct stix_scan *s, const struct stix_scan_limits *lim);

/* Scans on. buf is the input from the caller's current front; eof says
 * no more will come. Returns the next event (see enum stix_scan_ev);
 * MORE when buf is exhausted before an event (never with eof: an input
 * that ends early is an ERROR naming where). After ERROR or END, the
 * scanner returns the same again. Spans are valid while the caller keeps
 * those bytes. Errors name the place: "byte 1234: expected ',' or ']'
 * after objects[6]", "objects[700000]: the input ends inside this
 * element", "key \"type\" given twice". */
enum stix_scan_ev stix_scan_next(struct stix_scan *s, struct slice buf, bool eof,
                                 struct diag *d);

/* Bytes at the front of the buffer the scanner no longer needs (they may
 * be dropped; spans returned before are then invalid). */
size_t stix_scan_keep(const struct stix_scan *s);

/* The caller dropped n (≤ stix_scan_keep()) bytes from the buffer's front. */
void stix_scan_drop(struct stix_scan *s, size_t n);

/* Copies span (an element as returned) to out without the whitespace
 * outside strings. out must have room for span.len bytes. Returns the
 * length written. */
size_t stix_scan_compact(struct slice span, char *out);

#endif
