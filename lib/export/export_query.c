/*
 * export_query.c — splits and decodes an export URL query (see
 * export_query.h). Decoded text is never longer than its source, so every
 * key and value fits in q->mem with its NUL.
 */
#include <string.h>

#include "export_query.h"
#include "util/hex.h"

/* Decodes [p, p+n) onto out (NUL-terminated). Returns the bytes written
 * or -1 on a bad escape or control byte. */
static long
decode(const char *p, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '%') {
			if (i + 2 >= n) /* "%X" or "%" at the end */
				return -1;
			int hi = hex_digit(p[i + 1]), lo = hex_digit(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (ch < 0x20 || ch == 0x7f)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return (long)o;
}

enum tcerr
export_query_parse(struct slice raw, struct export_query *q, struct diag *d)
{
	q->n = 0;
	if (raw.len > EXPORT_QUERY_MAX_LEN)
		return diag_set(d, TC_ELIMIT, "the query is longer than %d bytes",
		                EXPORT_QUERY_MAX_LEN);
	size_t used = 0, i = 0;
	while (i < raw.len) {
		size_t end = i;
		while (end < raw.len && raw.p[end] != '&')
			end++;
		if (end > i) {
			if (q->n == EXPORT_QUERY_MAX_PARAMS)
				return diag_set(d, TC_ELIMIT, "more than %d query parameters",
				                EXPORT_QUERY_MAX_PARAMS);
			const char *eq = memchr(raw.p + i, '=', end - i);
			size_t klen = eq ? (size_t)(eq - (raw.p + i)) : end - i;
			char *k = q->mem + used;
			long kn = decode(raw.p + i, klen, k);
			if (kn <= 0)
				return diag_set(d, TC_EINVAL, "query parameter %zu: %s", q->n + 1,
				                kn == 0 ? "empty name" : "bad %-escape or control byte");
			used += (size_t)kn + 1;
			char *v = q->mem + used;
			long vn = eq ? decode(eq + 1, (size_t)(raw.p + end - eq - 1), v) : 0;
			if (!eq)
				v[0] = '\0';
			if (vn < 0)
				return diag_set(d, TC_EINVAL, "query parameter '%.64s': bad %%-escape or "
				                "control byte", k);
			used += (size_t)vn + 1;
			q->key[q->n] = k;
			q->value[q->n] = v;
			q->n++;
		}
		i = end + 1;
	}
	return TC_OK;
}
