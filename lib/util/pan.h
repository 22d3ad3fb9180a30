/*
 * pan.h — does a text look as if it could hold a payment card number?
 *
 * Messages quote bad values to help the sender, but a payment card number
 * (PAN) must never reach a message, a log or a status (docs/extensions.md).
 * pan_suspect() is the one test every quoting place asks first: it is
 * deliberately wide (no Luhn check), so a value it flags is described,
 * never quoted.
 */
#ifndef TOCSIN_PAN_H
#define TOCSIN_PAN_H

#include <stdbool.h>

#include "util/slice.h"

/* Shortest run of digits that is treated as a possible card number: the
 * shortest PAN (ISO/IEC 7812) has 13 digits. */
#define PAN_SUSPECT_DIGITS 13

/* Returns true if s holds a run of at least PAN_SUSPECT_DIGITS digits,
 * where one space or dash may separate two digits of the run
 * ("4111 1111-1111 1111" counts as one run of 16). */
bool pan_suspect(struct slice s);

#endif
