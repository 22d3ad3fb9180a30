/*
 * webhook_filter.c — a subscription's filter from its stored query string.
 *
 * The CLI writes the string (percent-encoding every value) and the daemon
 * reads it at every delivery; both go through this one parser and
 * lib/feed's feed_filter_set, so what `tocsin webhook add` accepted is
 * exactly what tocsind applies. Invariant: no term is longer than the
 * whole string, and a decoded value never exceeds WEBHOOK_FILTER_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "feed/feed.h"
#include "util/hex.h"
#include "webhook/webhook.h"

enum tcerr
webhook_filter_parse(struct feed_filter_store *fs, struct store *s, const char *query,
                     struct diag *d)
{
	size_t qlen = query ? strlen(query) : 0;
	if (qlen > WEBHOOK_FILTER_MAX)
		return diag_set(d, TC_ELIMIT, "filter: longer than %d bytes", WEBHOOK_FILTER_MAX);
	char *val = malloc(qlen + 1);
	if (!val)
		return diag_set(d, TC_ENOMEM, "out of memory");
	enum tcerr rc = TC_OK;
	const char *p = query, *end = query + qlen;
	while (!rc && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *te = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(te - p));
		char key[32];
		size_t kl = eq ? (size_t)(eq - p) : 0, vl = 0;
		if (!eq || kl == 0 || kl >= sizeof key) {
			rc = diag_set(d, TC_EINVAL, "filter: '%.*s' is not KEY=VALUE",
			              (int)((size_t)(te - p) > 64 ? 64 : (size_t)(te - p)), p);
			break;
		}
		memcpy(key, p, kl);
		key[kl] = '\0';
		for (const char *v = eq + 1; v < te; v++) {
			if (*v != '%') {
				val[vl++] = *v;
				continue;
			}
			if (te - v >= 3) {
				int hi = hex_digit(v[1]), lo = hex_digit(v[2]);
				if (hi >= 0 && lo >= 0) {
					val[vl++] = (char)(hi << 4 | lo);
					v += 2;
					continue;
				}
			}
			rc = diag_set(d, TC_EINVAL, "filter: %s: a bad %%-escape", key);
			break;
		}
		if (!rc && memchr(val, '\0', vl))
			rc = diag_set(d, TC_EINVAL, "filter: %s: a NUL byte", key);
		if (!rc)
			rc = feed_filter_set(fs, s, key, slice_make(val, vl), d);
		p = amp ? amp + 1 : end;
	}
	free(val);
	return rc;
}
