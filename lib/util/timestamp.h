/*
 * timestamp.h — RFC 3339 UTC timestamps as used by STIX 2.1 and TAXII 2.1.
 *
 * Times are int64 microseconds since 1970-01-01T00:00:00Z ("µs"). STIX
 * accepts any number of fraction digits; digits past the sixth are kept in
 * the original text but not in the µs value. Only the 'Z' zone is valid
 * (STIX 2.1 §2.16). Leap second 60 is accepted as the grammar allows and
 * counts as second 59.999999. No libc time functions are used: the calendar
 * arithmetic is proleptic Gregorian, years 0000-9999.
 */
#ifndef TOCSIN_TIMESTAMP_H
#define TOCSIN_TIMESTAMP_H

#include <stdint.h>

#include "slice.h"
#include "tcerr.h"

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" plus NUL */
#define TS_TEXT_MAX 32

/* Parses s. OUT: *us; *frac_digits (may be NULL) = number of fraction digits
 * written (0 when there is no '.'). Returns TC_OK or TC_EINVAL. */
enum tcerr ts_parse(struct slice s, int64_t *us, int *frac_digits);

/* Writes us as "YYYY-MM-DDTHH:MM:SS" + "." + digits fraction digits + "Z"
 * (digits 0, 3 or 6; 0 writes no '.'). Returns the length written. */
int ts_format(int64_t us, int digits, char out[TS_TEXT_MAX]);

/* Current wall-clock time in µs. */
int64_t ts_now_us(void);

#endif
