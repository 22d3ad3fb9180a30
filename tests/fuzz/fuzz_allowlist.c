/*
 * fuzz_allowlist.c — the allowlist file parser and the index's value
 * parsing under arbitrary bytes.
 *
 * The input is loaded as an allowlist file (a stand-in normaliser passes
 * values through, lowercased, so the index's own IP/CIDR parsing sees raw
 * bytes); then every line is checked against the allowlist and added to,
 * looked up in and removed from an index as each kind. Invariant checked:
 * nothing crashes or leaks, a value just added is found, and removing what
 * was added empties the index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/allowlist.h"
#include "index/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum tcerr
kind_parse(struct slice name, enum obs_kind *out)
{
	static const char *names[] = { "ipv4", "ipv6", "domain", "url", "email" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (slice_eq_cstr(name, names[i])) {
			*out = (enum obs_kind)(OBS_IPV4 + (int)i);
			return TC_OK;
		}
	}
	return TC_EINVAL;
}

static enum tcerr
normalize(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in, struct buf *out,
          struct diag *d)
{
	(void)ctx;
	(void)kind;
	if (in.len > OBS_VALUE_MAX)
		return diag_set(d, TC_ELIMIT, "value too long");
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		buf_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
	}
	return buf_error(out);
}

static enum tcerr
classify(const struct obs_ctx *ctx, struct slice in, enum obs_kind *kind, struct buf *out,
         struct diag *d)
{
	*kind = OBS_DOMAIN;
	if (in.len && in.p[0] >= '0' && in.p[0] <= '9')
		*kind = OBS_IPV4;
	else if (memchr(in.p, ':', in.len))
		*kind = memchr(in.p, '/', in.len) && in.len > 3 && in.p[0] == 'h' ? OBS_URL : OBS_IPV6;
	else if (memchr(in.p, '@', in.len))
		*kind = OBS_EMAIL;
	return normalize(ctx, *kind, in, out, d);
}

static const struct allowlist_normalizer norm = { NULL, classify, normalize, kind_parse };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allowlist *al;
	struct index *idx;
	struct diag d;
	struct slice text = { (const char *)data, size };
	if (allowlist_new(&al))
		return 0;
	if (index_new(&idx)) {
		allowlist_free(al);
		return 0;
	}
	(void)allowlist_load_buf(al, &norm, "fuzz", text, &d);
	{
		/* the one-line parser tocsin allowlist remove uses */
		struct buf val, why;
		struct allowlist_line line;
		buf_init(&val, 4096);
		buf_init(&why, 8192);
		const char *nl = memchr(text.p, '\n', size);
		(void)allowlist_parse_line(&norm, "fuzz", 1,
		                           (struct slice){ text.p, nl ? (size_t)(nl - text.p) : size },
		                           &line, &val, &why, &d);
		buf_reset(&val);
		buf_reset(&why);
	}
	if (size < 4096)
		(void)allowlist_add_defaults(al);

	static const enum obs_kind kinds[] = { OBS_IPV4, OBS_IPV6, OBS_DOMAIN, OBS_URL,
		                               OBS_EMAIL };
	size_t i = 0, lines = 0;
	while (i < size && lines < 256) {
		const char *p = text.p + i;
		const char *nl = memchr(p, '\n', size - i);
		size_t len = nl ? (size_t)(nl - p) : size - i;
		struct slice v = { p, len };
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			const char *why;
			struct allowlist_hit hit;
			bool covered = allowlist_check(al, kinds[k], v, &why);
			/* what a block would hit: at least what allowlist_check says,
			 * and a hit names an entry (network and domain parsing) */
			if (allowlist_check_block(al, kinds[k], v, &hit)) {
				if (!hit.entry.value || !hit.entry.reason || !hit.entry.source)
					abort();
			} else if (covered) {
				abort();
			}
			struct index_hit h[4];
			if (index_add(idx, kinds[k], v, (uint32_t)lines, 0) == TC_OK &&
			    index_lookup(idx, kinds[k], v, 0, h, 4) == 0)
				abort(); /* added, yet not found */
		}
		i += len + 1;
		lines++;
	}
	i = 0;
	lines = 0;
	while (i < size && lines < 256) {
		const char *p = text.p + i;
		const char *nl = memchr(p, '\n', size - i);
		size_t len = nl ? (size_t)(nl - p) : size - i;
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			index_remove(idx, kinds[k], (struct slice){ p, len }, (uint32_t)lines);
		i += len + 1;
		lines++;
	}
	if (index_count(idx) != 0)
		abort(); /* removal lost track of an entry */
	index_free(idx);
	allowlist_free(al);
	return 0;
}
