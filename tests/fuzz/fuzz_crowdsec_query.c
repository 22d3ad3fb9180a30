/* Fuzz target: the query string a CrowdSec bouncer sends to
 * /v1/decisions/stream and /v1/decisions (lib/crowdsec/crowdsec.c), for
 * both routes, then the live match of what was parsed against a few
 * decisions and the candidate values a live query is looked up by. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crowdsec/crowdsec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const have[] = { "45.33.32.1", "45.33.0.0/16", "2a01:4f8::/32",
	                                    "::1", "0.0.0.0/0" };
	struct slice in = slice_make((const char *)data, size);
	for (int stream = 0; stream < 2; stream++) {
		struct cs_query q;
		struct diag d;
		static char cand[CS_CANDIDATES_MAX][CS_VALUE_MAX + 1];
		if (crowdsec_query_parse(in, stream != 0, &q, &d) != TC_OK)
			continue;
		size_t nc = crowdsec_live_candidates(&q, cand);
		for (size_t i = 0; i < nc; i++)
			if (strnlen(cand[i], CS_VALUE_MAX + 1) > CS_VALUE_MAX)
				abort();
		for (size_t i = 0; i < sizeof have / sizeof have[0]; i++) {
			struct slice v = slice_from_cstr(have[i]);
			unsigned sc = crowdsec_scope_of(strchr(have[i], ':') ? OBS_IPV6 : OBS_IPV4, v);
			(void)crowdsec_live_match(&q, sc, v);
			(void)crowdsec_admits(&q, "tocsin/open/indicator--1");
		}
	}
	return 0;
}
