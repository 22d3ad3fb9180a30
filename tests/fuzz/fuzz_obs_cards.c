/*
 * fuzz_obs_cards.c — obs_cards_protect() over arbitrary indicator patterns.
 *
 * The input is the pattern of an indicator. Besides memory safety it
 * checks what the hub relies on: a rewritten pattern parses again and is
 * left unchanged by a second pass (every card number is gone), and no
 * error message holds a run of digits that could be a card number. It
 * aborts otherwise. Cards use a fixed test key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "observable/observable.h"
#include "stix/stix_pattern.h"
#include "util/pan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[OBS_CARD_KEY_LEN] = "tocsin-fuzz-card-key-0123456789";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct obs_ctx ctx = { .card_key = fuzz_key, .card_key_len = sizeof(fuzz_key) };
	struct diag d;
	bool rewritten = false, again = false;

	json_t *pat = json_stringn_nocheck((const char *)data, size);
	json_t *obj = pat ? json_pack("{s:s,s:o,s:s}", "type", "indicator", "pattern", pat,
	                              "pattern_type", "stix")
	                  : NULL;
	if (!obj)
		return 0;
	diag_clear(&d);
	enum tcerr rc = obs_cards_protect(&ctx, obj, NULL, &rewritten, &d);
	if (rc != TC_OK) {
		if (rc != TC_ENOMEM && pan_suspect(slice_from_cstr(d.msg)))
			abort(); /* a message may hold a card number */
		goto done;
	}
	if (!rewritten)
		goto done;
	const json_t *np = json_object_get(obj, "pattern");
	struct stix_pattern *p = NULL;
	if (stix_pattern_parse(slice_make(json_string_value(np), json_string_length(np)), NULL,
	                       &p, &d) != TC_OK)
		abort(); /* the printed pattern must parse */
	stix_pattern_free(p);
	if (obs_cards_protect(&ctx, obj, NULL, &again, &d) != TC_OK || again)
		abort(); /* a card number survived the rewrite */
done:
	json_decref(obj);
	return 0;
}
