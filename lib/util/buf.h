/*
 * buf.h — one growable byte buffer with a hard cap and a sticky error.
 *
 * Appends never fail loudly: when memory runs out or the cap would be
 * exceeded the buffer records the error, drops the append and every later
 * one, so a caller appends freely and checks buf_error() once at the end.
 * The contents are always NUL-terminated (the NUL is not counted in len),
 * so a buffer holding text can be handed to C APIs as buf.p.
 */
#ifndef TOCSIN_BUF_H
#define TOCSIN_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"
#include "tcerr.h"

struct buf {
	char *p;      /* NUL-terminated contents; NULL until the first append */
	size_t len;   /* bytes used, without the NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* hard cap on len; 0 means BUF_DEFAULT_MAX */
	enum tcerr err; /* sticky: first failure, TC_OK while healthy */
};

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

/* Initialises an empty buffer whose length may not exceed max (0: default). */
void buf_init(struct buf *b, size_t max);
/* Frees the contents and returns the buffer to the empty, healthy state. */
void buf_reset(struct buf *b);
/* Empties the buffer and clears its error but keeps the allocation. */
void buf_clear(struct buf *b);
/* Returns TC_OK, or the first error (TC_ENOMEM, TC_ELIMIT) since init/clear. */
static inline enum tcerr buf_error(const struct buf *b) { return b->err; }

/* Makes room for extra more bytes without changing the contents (a writer
 * that knows roughly how much it will append avoids regrowing). Records
 * TC_ELIMIT/TC_ENOMEM like an append. */
void buf_reserve_more(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t len);
void buf_append_slice(struct buf *b, struct slice s);
void buf_append_cstr(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
/* printf-style append; records TC_ELIMIT/TC_ENOMEM like any append. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends the JSON string literal of s (quotes included, escaped per RFC 8259). */
void buf_append_json_str(struct buf *b, struct slice s);
/* Appends lowercase hex of len bytes. */
void buf_append_hex(struct buf *b, const uint8_t *p, size_t len);
/* Shortens the buffer to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);

/* Returns the contents as a slice (valid until the next append). */
static inline struct slice buf_slice(const struct buf *b)
{
	return (struct slice){ b->p ? b->p : "", b->len };
}

/* Hands the allocation to the caller (who frees it with free()) and resets
 * the buffer. Returns NULL if the buffer is in error; never NULL otherwise
 * (an empty buffer detaches as ""). OUT: *len, if not NULL. */
char *buf_detach(struct buf *b, size_t *len);

#endif
