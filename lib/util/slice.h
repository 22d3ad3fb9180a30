/*
 * slice.h — a borrowed, length-delimited view of bytes.
 *
 * Untrusted bytes are never a bare NUL-terminated char *: they travel as a
 * slice, which may contain NULs and is not terminated. A slice owns nothing.
 */
#ifndef TOCSIN_SLICE_H
#define TOCSIN_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
	const char *p;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

static inline struct slice
slice_from_cstr(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline struct slice
slice_make(const char *p, size_t len)
{
	return (struct slice){ p, len };
}

static inline bool
slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool
slice_eq_cstr(struct slice a, const char *s)
{
	return slice_eq(a, slice_from_cstr(s));
}

static inline bool
slice_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && memcmp(a.p, prefix, n) == 0;
}

/* Returns true and the slice without leading and trailing ASCII spaces and tabs. */
static inline struct slice
slice_trim(struct slice a)
{
	while (a.len && (a.p[0] == ' ' || a.p[0] == '\t' || a.p[0] == '\r' || a.p[0] == '\n')) {
		a.p++;
		a.len--;
	}
	while (a.len && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t' ||
	                 a.p[a.len - 1] == '\r' || a.p[a.len - 1] == '\n'))
		a.len--;
	return a;
}

#endif
