/*
 * obs_breadth.c — values an indicator must never name: they would block
 * everything, or everyone under a public suffix.
 *
 * One firewall rule fed by the hub for "0.0.0.0/0", or one RPZ entry for
 * "com", would cut every enforcement point off the internet. Networks are
 * judged by their prefix length against the hub's limits (obs_ctx);
 * domains against the Public Suffix List, read once per process through
 * libpsl (psl_latest: the newer of the system's list and the built-in
 * one) and shared read-only by every thread. A bare top-level domain is
 * refused even when the list is unavailable.
 */
#include <libpsl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "observable/observable.h"

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl_ctx;

static void
psl_load(void)
{
	/* Kept for the life of the process: one list, read-only. */
	psl_ctx = psl_latest(NULL);
	if (!psl_ctx)
		psl_ctx = psl_builtin();
}

/* The prefix length of a normalised "addr/len" (no slash: a host). */
static unsigned
prefix_of(struct slice v, unsigned full)
{
	const char *slash = v.len ? memchr(v.p, '/', v.len) : NULL;
	if (!slash)
		return full;
	unsigned n = 0;
	for (const char *p = slash + 1; p < v.p + v.len; p++) {
		if (*p < '0' || *p > '9' || n > full)
			return full; /* not a normalised value: not ours to judge */
		n = n * 10 + (unsigned)(*p - '0');
	}
	return n;
}

enum tcerr
obs_breadth_check(const struct obs_ctx *ctx, enum obs_kind kind, struct slice value,
                  struct diag *d)
{
	int vl = value.len > 256 ? 256 : (int)value.len;

	if (kind == OBS_IPV4 || kind == OBS_IPV6) {
		bool v4 = kind == OBS_IPV4;
		unsigned full = v4 ? 32 : 128;
		unsigned widest = ctx ? (v4 ? ctx->widest_prefix_v4 : ctx->widest_prefix_v6) : 0;
		if (!widest)
			widest = v4 ? OBS_WIDEST_PREFIX_V4 : OBS_WIDEST_PREFIX_V6;
		unsigned plen = prefix_of(value, full);
		if (plen == 0)
			return diag_set(d, TC_EINVAL, "'%.*s' would block every %s address", vl,
			                value.p, v4 ? "IPv4" : "IPv6");
		if (plen < widest)
			return diag_set(d, TC_EINVAL,
			                "'%.*s' is wider than /%u (%s): an indicator may not "
			                "block so many addresses",
			                vl, value.p, widest, v4 ? "widest_prefix_v4" : "widest_prefix_v6");
		return TC_OK;
	}
	if (kind != OBS_DOMAIN)
		return TC_OK;
	if (!memchr(value.p, '.', value.len))
		return diag_set(d, TC_EINVAL,
		                "'%.*s' is a top-level domain: blocking it would block every name "
		                "under it", vl, value.p);
	pthread_once(&psl_once, psl_load);
	if (!psl_ctx)
		return TC_OK;
	char name[OBS_VALUE_MAX + 1];
	if (value.len >= sizeof name)
		return TC_OK;
	memcpy(name, value.p, value.len);
	name[value.len] = '\0';
	/* NO_STAR_RULE: an unlisted TLD's names are not suffixes (the bare
	 * label was refused above) */
	if (psl_is_public_suffix2(psl_ctx, name, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
		return diag_set(d, TC_EINVAL,
		                "'%.*s' is a public suffix: blocking it would block every name "
		                "under it", vl, value.p);
	return TC_OK;
}
