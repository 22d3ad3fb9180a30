/*
 * text.h — free text a person typed or a file brought (organisation
 * names, collection titles and descriptions): what may be stored and
 * later printed on a terminal. Invariant: text accepted by
 * text_printable() is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and holds no C0 control (U+0000..U+001F), no
 * DEL and no C1 control (U+0080..U+009F), so printing it cannot move a
 * cursor, start an escape sequence or forge a line.
 */
#ifndef TOCSIN_UTIL_TEXT_H
#define TOCSIN_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/slice.h"

/* true if s is printable UTF-8 as above. OUT: *bad (may be NULL) = the
 * offset of the first byte that is not, when false. */
bool text_printable(struct slice s, size_t *bad);

/* The length of the one printable character (as above) that starts s (n
 * bytes left), or 0 when the byte at s is not the start of one. */
size_t text_printable_len(const char *s, size_t n);

#endif
