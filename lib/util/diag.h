/*
 * diag.h — the human-readable detail of an error: where and what.
 *
 * A struct diag is an OUT parameter filled by the function that fails. The
 * message names the place in the input ("objects[3].valid_until: must be
 * later than valid_from", "pattern:14: expected ']'"), never a C function.
 * Functions never print; the CLI and the daemon show diag.msg.
 */
#ifndef TOCSIN_DIAG_H
#define TOCSIN_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "tcerr.h"

#define DIAG_MSG_MAX 512

struct diag {
	char msg[DIAG_MSG_MAX]; /* NUL-terminated; "" when nothing was said */
	long line;              /* 1-based line in the input, 0 if unknown */
	long column;            /* 1-based column (or byte offset + 1), 0 if unknown */
};

/* Empties d. d may be NULL in every diag_* call: then nothing is recorded. */
void diag_clear(struct diag *d);
/* Sets the message (truncated with "..." if too long) and returns rc, so a
 * caller can write `return diag_set(d, TC_EINVAL, "...")`. */
enum tcerr diag_set(struct diag *d, enum tcerr rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum tcerr diag_vset(struct diag *d, enum tcerr rc, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Puts "prefix: " in front of the existing message. */
void diag_prefix(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
