/*
 * import_int.h — what the files of lib/import share (library-private).
 *
 * One struct import__run holds the state of a run: the options, the counts,
 * the input buffer of the record reader and the place to report. The
 * buffer holds input bytes buf[off..len); records are slices into it valid
 * until the next read.
 */
#ifndef TOCSIN_IMPORT_INT_H
#define TOCSIN_IMPORT_INT_H

#include "import.h"
#include "stix/stix_id.h"
#include "util/buf.h"

struct import__run {
	const char *name;
	const struct import_opts *o;
	struct import_counts *c;
	struct diag *d;
	size_t max_document, max_line, max_objects, max_object, max_depth;
	int64_t csv_time_us;
	int64_t now_us;

	import_read_fn rd;
	void *rctx;
	char *buf;
	size_t len, off, cap;
	bool eof;
	long line; /* line number where the next record starts, from 1 */
	char *compact; /* a streamed object without its whitespace */
	size_t compact_cap;
};

/* Hands obj to on_object (obj stays the caller's). */
enum tcerr import__emit(struct import__run *r, json_t *obj, const char *where);
/* The same with obj's compact text as read (see import_object_text_cb). */
enum tcerr import__emit_text(struct import__run *r, json_t *obj, struct slice text,
                             const char *where);
/* Reports a rejected item. fmt makes the reason. */
enum tcerr import__reject(struct import__run *r, const char *where, enum tcerr rc,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Counts a note and hands it to on_note. fmt makes the text. */
enum tcerr import__note(struct import__run *r, const char *where, enum import_note what,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Writes "name" + suffix into where (truncated with "..." if too long). */
void import__where(const struct import__run *r, char where[IMPORT_WHERE_MAX], const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));

/* Next record: a line, or with csv_quotes an RFC 4180 record whose quoted
 * fields may span lines. OUT: *rec (rec->p NULL at end of input), *lineno
 * (its first line), *too_long (the record exceeded max_line and was
 * skipped; rec is empty then). */
enum tcerr import__next_record(struct import__run *r, bool csv_quotes, struct slice *rec,
                               long *lineno, bool *too_long);

/* Readers of each kind of input, called with the reader positioned at the
 * start of the content. */
enum tcerr import__csv(struct import__run *r);
enum tcerr import__misp(struct import__run *r, const json_t *doc);


/* The UUID of an object the import makes, from name: uuid_keyed under
 * key when there is one, else UUIDv5 in TOCSIN_UUID_NAMESPACE. Errors:
 * TC_EINVAL (a key shorter than UUID_KEY_MIN). */
enum tcerr import__uuid(const uint8_t *key, size_t keylen, struct slice name,
                        char out[UUID_TEXT_MAX]);

/* Builds the STIX 2.1 indicator. OUT: *out (new reference), id. Errors:
 * TC_EINVAL (description is not UTF-8), TC_ENOMEM. */
enum tcerr import__indicator(const struct import_ind *in, json_t **out, char id[STIX_ID_MAX],
                             struct diag *d);

/* Restores a defanged value: "hxxp"/"hxxps" at the start become
 * "http"/"https"; "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}" become
 * "."; "[:]" ":"; "[://]" "://"; "[/]" "/"; "[@]", "[at]", "(at)",
 * "{at}" "@" (letters in any case). OUT: out (cleared first; wipe it
 * after use: it may hold a card number). Returns true if anything was
 * replaced. */
bool import__refang(struct slice in, struct buf *out);

/* Parses an RFC 3339 time or a date "YYYY-MM-DD" (midnight UTC). */
enum tcerr import__parse_time(struct slice s, int64_t *us);

/* Maps "clear", "white", "green", "amber", "amber+strict", "red", with an
 * optional "tlp:" prefix, any case. */
enum tcerr import__parse_tlp(struct slice s, enum tlp_level *out);

#endif
