/*
 * Fuzz target: report_parse_form and report_check (lib/report/report.c),
 * the public report form's x-www-form-urlencoded body. Invariants: every
 * text kept is within its REPORT_*_MAX, NUL-terminated at its length and
 * printable (text_printable, with LF and TAB allowed in the free text);
 * a parse without problems names a kind; after report_check no text of
 * the report holds what pan_suspect flags, and a card report keeps no
 * value. A card key is set, so cards are hashed as the daemon does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/pan.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[OBS_CARD_KEY_LEN] = { 1, 2, 3 };
static const struct obs_ctx ctx = { .card_key = key, .card_key_len = sizeof key };

static void
check_text(const char *s, size_t len, size_t max, bool multiline)
{
	if (len > max || strlen(s) != len)
		abort();
	for (size_t i = 0; i < len;) {
		if (multiline && (s[i] == '\n' || s[i] == '\t')) {
			i++;
			continue;
		}
		size_t n = text_printable_len(s + i, len - i);
		if (!n)
			abort();
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_in *in = malloc(sizeof *in);
	struct report_obs *o = malloc(sizeof *o);
	struct report_errs e;
	if (!in || !o)
		abort();
	enum tcerr rc = report_parse_form(slice_make((const char *)data, size), in, &e);
	check_text(in->value, in->value_len, REPORT_VALUE_MAX, false);
	check_text(in->text, in->text_len, REPORT_TEXT_MAX, true);
	check_text(in->contact, in->contact_len, REPORT_CONTACT_MAX, false);
	if (rc == TC_OK && report_errs_any(&e))
		abort();
	if (rc == TC_OK) {
		bool card = in->kind == REPORT_CARD;
		rc = report_check(&ctx, in, o, &e);
		if (card && in->value_len)
			abort();
		if (pan_suspect(slice_make(in->text, in->text_len)) ||
		    pan_suspect(slice_make(in->contact, in->contact_len)))
			abort();
		if (rc == TC_OK && (o->value_len == 0 || strlen(o->value) != o->value_len))
			abort();
	}
	free(in);
	free(o);
	return 0;
}
