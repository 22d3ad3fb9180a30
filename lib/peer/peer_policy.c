/*
 * peer_policy.c — parsing and applying a peer's border policy (peer.h).
 *
 * Invariant: whatever the text says, AMBER+STRICT and RED never cross
 * (peer_policy_parse refuses to set tlp above amber, and
 * peer_policy_admit refuses those levels before looking at the policy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peer/peer.h"

#define TERM_MAX 1024

static bool
word_ok(const char *w, size_t n)
{
	return n >= 1 && n <= PEER_POLICY_WORD_MAX &&
	       strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789_-") >= n;
}

/* Splits value [v, v+n) at ',' into the list; each item checked by kind. */
static enum tcerr
parse_list(const char *key, const char *v, size_t n, struct peer_policy *p, struct diag *d)
{
	const char *end = v + n;
	while (v <= end) {
		const char *c = memchr(v, ',', (size_t)(end - v));
		size_t len = (size_t)((c ? c : end) - v);
		char item[PEER_POLICY_WORD_MAX + 1];
		if (len == 0 || len > PEER_POLICY_WORD_MAX)
			return diag_set(d, TC_EINVAL, "policy %s: empty or too long item", key);
		memcpy(item, v, len);
		item[len] = '\0';
		if (strcmp(key, "kinds") == 0) {
			enum obs_kind k;
			if (p->nkinds == PEER_POLICY_LIST_MAX)
				return diag_set(d, TC_ELIMIT, "policy kinds: more than %d",
				                PEER_POLICY_LIST_MAX);
			if (obs_kind_parse(slice_make(item, len), &k) != TC_OK)
				return diag_set(d, TC_EINVAL, "policy kinds: '%s' is no observable kind",
				                item);
			p->kinds[p->nkinds++] = k;
		} else {
			bool types = strcmp(key, "types") == 0;
			size_t *cnt = types ? &p->ntypes : &p->nstrip;
			if (!word_ok(item, len))
				return diag_set(d, TC_EINVAL, "policy %s: '%s' is no %s", key, item,
				                types ? "STIX type" : "property name");
			if (!types && (strcmp(item, "id") == 0 || strcmp(item, "type") == 0 ||
			               strcmp(item, "spec_version") == 0 ||
			               strcmp(item, "created") == 0 || strcmp(item, "modified") == 0))
				return diag_set(d, TC_EINVAL, "policy strip: '%s' may not be stripped "
				                "(it identifies the version)", item);
			if (*cnt == PEER_POLICY_LIST_MAX)
				return diag_set(d, TC_ELIMIT, "policy %s: more than %d", key,
				                PEER_POLICY_LIST_MAX);
			memcpy(types ? p->types[*cnt] : p->strip[*cnt], item, len + 1);
			(*cnt)++;
		}
		if (!c)
			break;
		v = c + 1;
	}
	return TC_OK;
}

enum tcerr
peer_policy_parse(const char *text, struct peer_policy *out, struct diag *d)
{
	memset(out, 0, sizeof *out);
	out->tlp_max = TLP_GREEN;
	if (!text)
		return TC_OK;
	const char *s = text, *end = text + strlen(text);
	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *te = semi ? semi : end;
		size_t tl = (size_t)(te - s);
		const char *eq = memchr(s, '=', tl);
		if (tl > TERM_MAX)
			return diag_set(d, TC_ELIMIT, "policy: a term longer than %d bytes", TERM_MAX);
		if (tl == 0) {
			s = te + 1;
			continue;
		}
		if (!eq)
			return diag_set(d, TC_EINVAL, "policy: '%.*s' is not KEY=VALUE", (int)tl, s);
		char key[16];
		size_t kl = (size_t)(eq - s);
		const char *v = eq + 1;
		size_t vl = (size_t)(te - v);
		if (kl == 0 || kl >= sizeof key)
			return diag_set(d, TC_EINVAL, "policy: unknown key '%.*s' (tlp, types, kinds, "
			                "strip, rate)", (int)kl, s);
		memcpy(key, s, kl);
		key[kl] = '\0';
		enum tcerr rc = TC_OK;
		if (strcmp(key, "tlp") == 0) {
			char lv[16];
			enum tlp_level l;
			if (vl >= sizeof lv)
				return diag_set(d, TC_EINVAL, "policy tlp: clear, green or amber");
			memcpy(lv, v, vl);
			lv[vl] = '\0';
			if (stix_tlp_parse(lv, &l) != TC_OK || l == TLP_NONE)
				return diag_set(d, TC_EINVAL, "policy tlp: '%s' is no level (clear, green "
				                "or amber)", lv);
			if (l == TLP_AMBER_STRICT || l == TLP_RED)
				return diag_set(d, TC_EINVAL, "policy tlp: %s never crosses a border "
				                "(clear, green or amber)", stix_tlp_name(l));
			out->tlp_max = l;
		} else if (strcmp(key, "types") == 0 || strcmp(key, "kinds") == 0 ||
		           strcmp(key, "strip") == 0) {
			rc = parse_list(key, v, vl, out, d);
		} else if (strcmp(key, "rate") == 0) {
			char num[16];
			char *e;
			if (vl == 0 || vl >= sizeof num || strspn(v, "0123456789") < vl)
				return diag_set(d, TC_EINVAL, "policy rate: objects per second, 0 to %u",
				                PEER_RATE_MAX);
			memcpy(num, v, vl);
			num[vl] = '\0';
			errno = 0;
			unsigned long r = strtoul(num, &e, 10);
			if (errno || r > PEER_RATE_MAX)
				return diag_set(d, TC_EINVAL, "policy rate: objects per second, 0 to %u",
				                PEER_RATE_MAX);
			out->rate = (unsigned)r;
		} else {
			return diag_set(d, TC_EINVAL, "policy: unknown key '%s' (tlp, types, kinds, "
			                "strip, rate)", key);
		}
		if (rc)
			return rc;
		s = te + 1;
	}
	return TC_OK;
}

static void
list_text(struct buf *out, const char *key, char (*v)[PEER_POLICY_WORD_MAX + 1], size_t n)
{
	if (!n)
		return;
	buf_printf(out, ";%s=", key);
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s%s", i ? "," : "", v[i]);
}

void
peer_policy_text(const struct peer_policy *p, struct buf *out)
{
	buf_printf(out, "tlp=%s", stix_tlp_name(p->tlp_max));
	list_text(out, "types", (char(*)[PEER_POLICY_WORD_MAX + 1])p->types, p->ntypes);
	if (p->nkinds) {
		buf_append_cstr(out, ";kinds=");
		for (size_t i = 0; i < p->nkinds; i++)
			buf_printf(out, "%s%s", i ? "," : "", obs_kind_name(p->kinds[i]));
	}
	list_text(out, "strip", (char(*)[PEER_POLICY_WORD_MAX + 1])p->strip, p->nstrip);
	buf_printf(out, ";rate=%u", p->rate);
}

size_t
peer_policy_strip(const struct peer_policy *p, json_t *obj)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nstrip; i++)
		if (json_object_del(obj, p->strip[i]) == 0)
			n++;
	return n;
}

enum tcerr
peer_policy_admit(const struct peer_policy *p, const struct stix_meta *meta, enum tlp_level tlp,
                  const struct store_obs *obs, size_t nobs, bool in_group, struct diag *d)
{
	if (tlp == TLP_AMBER_STRICT || tlp == TLP_RED)
		return diag_set(d, TC_EPERM, "%s: tlp %s never crosses a border", meta->id,
		                stix_tlp_name(tlp));
	if (tlp > p->tlp_max)
		return diag_set(d, TC_EPERM, "%s: tlp %s is above the peer's policy (tlp=%s)",
		                meta->id, stix_tlp_name(tlp), stix_tlp_name(p->tlp_max));
	if (tlp == TLP_AMBER && !in_group)
		return diag_set(d, TC_EPERM, "%s: tlp amber crosses only within a shared sharing "
		                "group, and the peer's organisation is in none", meta->id);
	if (p->ntypes) {
		size_t i;
		for (i = 0; i < p->ntypes && strcmp(p->types[i], meta->type) != 0; i++)
			;
		if (i == p->ntypes)
			return diag_set(d, TC_EPERM, "%s: type %s is not admitted by the peer's policy",
			                meta->id, meta->type);
	}
	if (p->nkinds) {
		for (size_t j = 0; j < nobs; j++) {
			size_t i;
			for (i = 0; i < p->nkinds && p->kinds[i] != obs[j].kind; i++)
				;
			if (i == p->nkinds)
				return diag_set(d, TC_EPERM, "%s: kind %s is not admitted by the peer's "
				                "policy", meta->id, obs_kind_name(obs[j].kind));
		}
	}
	return TC_OK;
}
