/*
 * Fuzz target: what lib/coord parses — the routing rules file
 * (coord_rules_parse), a constituency entry (reg_const_parse, then the
 * lookup over a table of it and a few fixed entries) and the top-level
 * confidence of a stored object's text (coord_confidence_text). The input
 * goes to all three. Invariants checked: a parsed rule has a name, kinds
 * and an action and a target; a parsed entry overlaps itself and, when it
 * is a network, its own address is found by the lookup; a confidence is
 * 0..100.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coord/coord.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct coord_rules r = { 0 };
	struct slice in = slice_make((const char *)data, size);
	if (coord_rules_parse(in, "fuzz", &r, &d) == TC_OK) {
		for (size_t i = 0; i < r.n; i++)
			if (!r.v[i].name[0] || !r.v[i].kinds || !r.v[i].action[0] ||
			    (!r.v[i].org[0] && !reg_sector_name(r.v[i].sector)))
				abort();
	}
	coord_rules_free(&r);

	int c = coord_confidence_text(in);
	if (c < 0 || c > 100)
		abort();

	char text[REG_CONST_VALUE_MAX];
	if (size < sizeof text) {
		memcpy(text, data, size);
		text[size] = '\0';
		struct reg_const e[3];
		memset(e, 0, sizeof e);
		if (reg_const_parse(text, &e[0], &d) == TC_OK) {
			if (!reg_const_overlaps(&e[0], &e[0]))
				abort();
			e[0].org = 7;
			if (reg_const_parse("198.51.100.0/24", &e[1], &d) ||
			    reg_const_parse("example.ru", &e[2], &d))
				abort();
			struct coord_consts *cs;
			if (coord_consts_build(e, 3, &cs, &d) == TC_OK) {
				if (e[0].kind == REG_CONST_NET) {
					enum obs_kind k = e[0].v6 ? OBS_IPV6 : OBS_IPV4;
					const struct reg_const *hit =
						coord_consts_lookup(cs, k, slice_from_cstr(e[0].value));
					if (!hit)
						abort();
				}
				coord_consts_lookup(cs, OBS_URL, in);
				coord_consts_lookup(cs, OBS_DOMAIN, in);
				coord_consts_lookup(cs, OBS_EMAIL, in);
				coord_consts_lookup(cs, OBS_ASN, in);
				coord_consts_free(cs);
			}
		}
	}
	return 0;
}
