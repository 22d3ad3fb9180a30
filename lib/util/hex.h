/*
 * hex.h — hexadecimal digits.
 *
 * One definition for every parser that reads hex (hashes, UUIDs, percent-
 * encoding, h'..' pattern constants, stored keys).
 */
#ifndef TOCSIN_HEX_H
#define TOCSIN_HEX_H

/* Returns the value 0-15 of a hex digit (either case), or -1. */
static inline int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
