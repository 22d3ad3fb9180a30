/*
 * backend_nft.c — the nftables backend, through libnftables.
 *
 * It owns one table, `inet TABLE`, and nothing else in the ruleset: sets
 * ipv4_addr and ipv6_addr (flags interval, timeout), and a base chain per
 * configured hook whose rules match the sources (and, in forward, the
 * destinations) in the sets and drop them, with a counter (in dry-run the
 * rules only count). start() creates what is missing and makes the sets
 * equal to the agent's set in one transaction (the flush and the adds are
 * atomic: no packet ever sees an empty set); apply() turns one burst of
 * changes into one transaction of element adds and deletes, never a
 * flush. An element's timeout is the decision's until minus now.
 *
 * A delete is written as "add element X; delete element X" in the same
 * transaction, so it succeeds whether or not the kernel still holds X (its
 * timeout may have run out first). Values are checked and rewritten in
 * canonical form (inet_pton/inet_ntop, host bits cleared) before they are
 * put in a command: nothing from the hub reaches nft's parser verbatim.
 *
 * Known gap: nft refuses overlapping intervals, so an address inside a
 * network already in the set (or a network holding one) makes its
 * transaction fail; the burst is then applied one change at a time and
 * the refused ones are reported as the last error (the network blocks the
 * address anyway).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define NFT_TIMEOUT_MAX_S ((int64_t)365 * 24 * 3600 * 10) /* longest element timeout */
#define NFT_BATCH_ELEMS 20000                              /* elements per add command */
#define NFT_ADDR_MAX 64                                    /* bytes of "ADDR/LEN" */

struct nft {
	struct nft_ctx *ctx;
	char table[AGENT_CONF_NAME_MAX + 1];
	char hooks[64];
	int priority;
	bool dry_run;
	struct buf cmd;
};

/* Writes v (an ipv4/ipv6 address or network) in canonical form to out.
 * false if it is not one. */
static bool
canon(enum obs_kind k, const char *v, char out[NFT_ADDR_MAX])
{
	char a[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	int af = k == OBS_IPV4 ? AF_INET : AF_INET6, bits = k == OBS_IPV4 ? 32 : 128;
	long plen = bits;
	const char *sl = strchr(v, '/');
	size_t n = sl ? (size_t)(sl - v) : strlen(v);
	if (n == 0 || n >= sizeof a)
		return false;
	memcpy(a, v, n);
	a[n] = '\0';
	if (inet_pton(af, a, bin) != 1)
		return false;
	if (sl) {
		char *end;
		plen = strtol(sl + 1, &end, 10);
		if (end == sl + 1 || *end || plen < 0 || plen > bits)
			return false;
		for (int i = 0; i < bits / 8; i++) {
			int keep = (int)plen - i * 8;
			bin[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		}
	}
	if (!inet_ntop(af, bin, a, sizeof a))
		return false;
	if (plen == bits)
		snprintf(out, NFT_ADDR_MAX, "%s", a);
	else
		snprintf(out, NFT_ADDR_MAX, "%s/%ld", a, plen);
	return true;
}

static const char *
set_of(enum obs_kind k)
{
	return k == OBS_IPV4 ? "ipv4_addr" : "ipv6_addr";
}

/* Appends "X [timeout Ns]" for an element. false if it has expired or is
 * not an address. */
static bool
elem(struct buf *b, enum obs_kind k, const char *v, int64_t until_us, int64_t now_us,
     bool with_timeout)
{
	char c[NFT_ADDR_MAX];
	if (!canon(k, v, c))
		return false;
	buf_append_cstr(b, c);
	if (with_timeout && until_us) {
		int64_t s = (until_us - now_us + 999999) / 1000000;
		if (s <= 0)
			return false;
		if (s > NFT_TIMEOUT_MAX_S)
			s = NFT_TIMEOUT_MAX_S;
		buf_printf(b, " timeout %" PRId64 "s", s);
	}
	return true;
}

static enum tcerr
run(struct nft *n, const char *what, struct diag *d)
{
	if (buf_error(&n->cmd))
		return diag_set(d, TC_ENOMEM, "nftables: out of memory");
	buf_append_char(&n->cmd, '\0');
	if (buf_error(&n->cmd))
		return diag_set(d, TC_ENOMEM, "nftables: out of memory");
	int rc = nft_run_cmd_from_buffer(n->ctx, n->cmd.p);
	if (rc != 0) {
		const char *e = nft_ctx_get_error_buffer(n->ctx);
		size_t el = e ? strcspn(e, "\n") : 0;
		return diag_set(d, TC_EIO, "nftables: %s: %.*s", what, (int)el, e ? e : "");
	}
	return TC_OK;
}

static bool
hook_on(const struct nft *n, const char *h)
{
	size_t hl = strlen(h);
	for (const char *w = n->hooks; *w;) {
		size_t l = strcspn(w, " ");
		if (l == hl && strncmp(w, h, l) == 0)
			return true;
		w += l;
		w += strspn(w, " ");
	}
	return false;
}

static void
add_elements(struct nft *n, const struct agent_entry *const *v, size_t cnt, enum obs_kind k,
             int64_t now)
{
	size_t in_cmd = 0;
	for (size_t i = 0; i < cnt; i++) {
		if (v[i]->kind != k || v[i]->alert)
			continue;
		if (in_cmd == 0)
			buf_printf(&n->cmd, "add element inet %s %s { ", n->table, set_of(k));
		size_t mark = n->cmd.len;
		if (in_cmd)
			buf_append_cstr(&n->cmd, ", ");
		if (!elem(&n->cmd, k, v[i]->value, v[i]->until_us, now, true)) {
			buf_truncate(&n->cmd, mark);
			continue;
		}
		if (++in_cmd == NFT_BATCH_ELEMS) {
			buf_append_cstr(&n->cmd, " }\n");
			in_cmd = 0;
		}
	}
	if (in_cmd)
		buf_append_cstr(&n->cmd, " }\n");
}

static enum tcerr
nft_start(void *b, const struct agent_set *s, uint64_t position, struct diag *d)
{
	struct nft *n = b;
	const struct agent_entry **v = NULL;
	size_t cnt = 0;
	int64_t now = ts_now_us();
	const char *verdict = n->dry_run ? "counter" : "counter drop";

	if (agent_set_sorted(s, &v, &cnt))
		return diag_set(d, TC_ENOMEM, "out of memory");
	buf_clear(&n->cmd);
	buf_printf(&n->cmd,
	           "add table inet %s\n"
	           "add set inet %s ipv4_addr { type ipv4_addr; flags interval, timeout; }\n"
	           "add set inet %s ipv6_addr { type ipv6_addr; flags interval, timeout; }\n",
	           n->table, n->table, n->table);
	static const char *const hooks[] = { "input", "forward", "output", "prerouting" };
	for (size_t i = 0; i < 4; i++) {
		const char *h = hooks[i];
		bool on = hook_on(n, h);
		/* the chain is ours: its rules are rewritten whole (dry-run may change) */
		buf_printf(&n->cmd, "add chain inet %s %s { type filter hook %s priority %d; "
		           "policy accept; }\nflush chain inet %s %s\n", n->table, h, h, n->priority,
		           n->table, h);
		if (!on) {
			buf_printf(&n->cmd, "delete chain inet %s %s\n", n->table, h);
			continue;
		}
		buf_printf(&n->cmd, "add rule inet %s %s ip saddr @ipv4_addr %s\n"
		           "add rule inet %s %s ip6 saddr @ipv6_addr %s\n",
		           n->table, h, verdict, n->table, h, verdict);
		if (strcmp(h, "forward") == 0 || strcmp(h, "output") == 0)
			buf_printf(&n->cmd, "add rule inet %s %s ip daddr @ipv4_addr %s\n"
			           "add rule inet %s %s ip6 daddr @ipv6_addr %s\n",
			           n->table, h, verdict, n->table, h, verdict);
	}
	buf_printf(&n->cmd, "flush set inet %s ipv4_addr\nflush set inet %s ipv6_addr\n",
	           n->table, n->table);
	add_elements(n, v, cnt, OBS_IPV4, now);
	add_elements(n, v, cnt, OBS_IPV6, now);
	enum tcerr t = run(n, "creating the table and loading the sets", d);
	free(v);
	return t;
}

static void
one_change(struct nft *n, const struct agent_change *c, int64_t now)
{
	size_t mark = n->cmd.len;
	bool del = c->op == AGENT_OP_REMOVE || c->op == AGENT_OP_REPLACE || c->alert;
	if (del) {
		/* add then delete: succeeds whether or not the kernel still has it */
		buf_printf(&n->cmd, "add element inet %s %s { ", n->table, set_of(c->kind));
		if (!elem(&n->cmd, c->kind, c->value, 0, now, false))
			goto bad;
		buf_printf(&n->cmd, " }\ndelete element inet %s %s { ", n->table, set_of(c->kind));
		elem(&n->cmd, c->kind, c->value, 0, now, false);
		buf_append_cstr(&n->cmd, " }\n");
	}
	if (c->op != AGENT_OP_REMOVE && !c->alert) {
		size_t m2 = n->cmd.len;
		buf_printf(&n->cmd, "add element inet %s %s { ", n->table, set_of(c->kind));
		if (!elem(&n->cmd, c->kind, c->value, c->until_us, now, true)) {
			buf_truncate(&n->cmd, m2); /* expired already */
			return;
		}
		buf_append_cstr(&n->cmd, " }\n");
	}
	return;
bad:
	buf_truncate(&n->cmd, mark);
}

static enum tcerr
nft_apply(void *b, const struct agent_changes *ch, const struct agent_set *s, struct diag *d)
{
	struct nft *n = b;
	int64_t now = ts_now_us();
	size_t any = 0;

	buf_clear(&n->cmd);
	for (size_t i = 0; i < ch->n; i++) {
		if (ch->v[i].kind != OBS_IPV4 && ch->v[i].kind != OBS_IPV6)
			continue;
		one_change(n, &ch->v[i], now);
		any++;
	}
	if (!any || n->cmd.len == 0)
		return TC_OK;
	enum tcerr t = run(n, "applying a burst", d);
	if (t != TC_EIO)
		return t;
	/* one transaction refused (an overlapping interval): one change at a time */
	struct diag first = *d;
	unsigned failed = 0;
	for (size_t i = 0; i < ch->n; i++) {
		if (ch->v[i].kind != OBS_IPV4 && ch->v[i].kind != OBS_IPV6)
			continue;
		buf_clear(&n->cmd);
		one_change(n, &ch->v[i], now);
		if (n->cmd.len && run(n, ch->v[i].value, d) != TC_OK) {
			if (!failed)
				first = *d;
			failed++;
		}
	}
	if (failed) {
		*d = first;
		diag_prefix(d, "%u of %zu changes refused: ", failed, ch->n);
		return TC_EIO;
	}
	return TC_OK;
}

static enum tcerr
nft_tick(void *b, const struct agent_set *s, uint64_t position, int64_t now_us, struct diag *d)
{
	return TC_OK;
}

static void
nft_free(void *b)
{
	struct nft *n = b;
	if (!n)
		return;
	if (n->ctx)
		nft_ctx_free(n->ctx);
	buf_reset(&n->cmd);
	free(n);
}

static const struct backend_ops nft_ops = { "nftables", nft_start, nft_apply, nft_tick, nft_free };

enum tcerr
backend_nft_new(const struct agent_conf *c, struct backend *out, struct diag *d)
{
	struct nft *n = calloc(1, sizeof *n);
	if (!n)
		return diag_set(d, TC_ENOMEM, "out of memory");
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx) {
		free(n);
		return diag_set(d, TC_EIO, "nftables: cannot make a context");
	}
	nft_ctx_buffer_output(n->ctx);
	nft_ctx_buffer_error(n->ctx);
	snprintf(n->table, sizeof n->table, "%s", c->nft_table);
	snprintf(n->hooks, sizeof n->hooks, "%s", c->nft_hooks);
	n->priority = c->nft_priority;
	n->dry_run = c->dry_run;
	buf_init(&n->cmd, 0);
	out->ops = &nft_ops;
	out->b = n;
	return TC_OK;
}

/* Counts the elements of one set in nft's JSON. */
static size_t
count_elems(json_t *root)
{
	size_t total = 0, i;
	json_t *x;
	json_array_foreach(json_object_get(root, "nftables"), i, x) {
		json_t *set = json_object_get(x, "set");
		if (set)
			total += json_array_size(json_object_get(set, "elem"));
	}
	return total;
}

enum tcerr
backend_nft_counts(const char *table, uint64_t *v4, uint64_t *v6, size_t *set4, size_t *set6,
                   struct diag *d)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char cmd[256];
	enum tcerr t = TC_OK;
	*v4 = *v6 = 0;
	*set4 = *set6 = 0;
	if (!ctx)
		return diag_set(d, TC_EIO, "nftables: cannot make a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	snprintf(cmd, sizeof cmd, "list table inet %s", table);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		t = diag_set(d, TC_ENOTFOUND, "nftables: no table inet %s", table);
		goto out;
	}
	json_t *root = json_loads(nft_ctx_get_output_buffer(ctx), 0, NULL);
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(root, "nftables"), i, x) {
		json_t *rule = json_object_get(x, "rule");
		if (!rule)
			continue;
		json_t *e;
		size_t j;
		bool six = false;
		uint64_t pk = 0;
		json_array_foreach(json_object_get(rule, "expr"), j, e) {
			json_t *m = json_object_get(e, "match");
			if (m) {
				const char *set = json_string_value(json_object_get(m, "right"));
				six = set && strcmp(set, "@ipv6_addr") == 0;
			}
			json_t *c = json_object_get(e, "counter");
			if (c)
				pk = (uint64_t)json_integer_value(json_object_get(c, "packets"));
		}
		*(six ? v6 : v4) += pk;
	}
	json_decref(root);
	for (int f = 0; f < 2; f++) {
		snprintf(cmd, sizeof cmd, "list set inet %s %s", table, f ? "ipv6_addr" : "ipv4_addr");
		if (nft_run_cmd_from_buffer(ctx, cmd) == 0) {
			json_t *r = json_loads(nft_ctx_get_output_buffer(ctx), 0, NULL);
			*(f ? set6 : set4) = count_elems(r);
			json_decref(r);
		}
	}
out:
	nft_ctx_free(ctx);
	return t;
}
