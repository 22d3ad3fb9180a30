/*
 * backend_nft.c — the nftables backend, through libnftables.
 *
 * It owns one table, `inet TABLE`, and nothing else in the ruleset: sets
 * ipv4_addr and ipv6_addr (flags timeout) for addresses, ipv4_net and
 * ipv6_net (flags interval, timeout) for networks, and a base chain per
 * configured hook whose rules match the sources (and, in forward and
 * output, the destinations) in the sets and drop them, with a counter (in
 * dry-run the rules only count). Addresses are kept out of interval sets
 * because libnftables reads every element of an interval set back from
 * the kernel before each change to it (to check overlaps): with 100,000
 * addresses that cost seconds per event; a hash set costs nothing.
 * start() creates what is missing and makes the sets equal to the agent's
 * set in one transaction (the flushes and the adds are atomic: no packet
 * ever sees an empty set); apply() turns one burst of changes into one
 * transaction of element adds and deletes, never a flush. An element's
 * timeout is the decision's until minus now.
 *
 * The backend keeps what it put in the kernel (its own set, `in`), so a
 * burst is computed as a difference: for each value a change touches,
 * whether it should be in the kernel (a block decision of kind ipv4/ipv6,
 * not expired, and for a network not inside a larger listed network:
 * nftables refuses overlapping intervals) and whether it is. A network
 * that comes takes the smaller networks inside it out of the kernel in the
 * same transaction; a network that goes puts them back. A delete of an
 * element whose timeout is about to run out is written "add element X;
 * delete element X", so it succeeds whether or not the kernel still holds
 * X. Values are checked and rewritten in canonical form (inet_pton,
 * inet_ntop, host bits cleared) before they are put in a command: nothing
 * from the hub reaches nft's parser verbatim. If a transaction is refused
 * anyway (the ruleset changed under the agent), the backend reloads its
 * sets whole, atomically, as at start, and reports the error.
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
#define FLUSH_SETS "flush set inet %s ipv4_addr\nflush set inet %s ipv6_addr\n" \
	"flush set inet %s ipv4_net\nflush set inet %s ipv6_net\n"
#define NFT_EXPIRY_SLACK_US 2000000                        /* a timeout this near may have run out */
#define NFT_ADDR_MAX 64                                    /* bytes of "ADDR/LEN" */

struct net {
	int af;
	unsigned char a[16];
	int plen;
};

struct nft {
	struct nft_ctx *ctx;
	struct agent_set *in;      /* what the kernel holds, as put there (value, until) */
	struct net *nets;          /* the block networks of the agent's set */
	size_t nnets;
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

/* Parses v into *x (host bits cleared). false if it is not an address. */
static bool
parse_net(enum obs_kind k, const char *v, struct net *x)
{
	char a[INET6_ADDRSTRLEN];
	int bits = k == OBS_IPV4 ? 32 : 128;
	const char *sl = strchr(v, '/');
	size_t n = sl ? (size_t)(sl - v) : strlen(v);
	if (k != OBS_IPV4 && k != OBS_IPV6)
		return false;
	if (n == 0 || n >= sizeof a)
		return false;
	memcpy(a, v, n);
	a[n] = '\0';
	x->af = k == OBS_IPV4 ? AF_INET : AF_INET6;
	memset(x->a, 0, sizeof x->a);
	if (inet_pton(x->af, a, x->a) != 1)
		return false;
	x->plen = bits;
	if (sl) {
		char *end;
		long p = strtol(sl + 1, &end, 10);
		if (end == sl + 1 || *end || p < 0 || p > bits)
			return false;
		x->plen = (int)p;
	}
	for (int i = 0; i < bits / 8; i++) {
		int keep = x->plen - i * 8;
		x->a[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	return true;
}

/* Whether network o holds x (and is larger). */
static bool
net_holds(const struct net *o, const struct net *x)
{
	if (o->af != x->af || o->plen >= x->plen)
		return false;
	int full = o->plen / 8, rest = o->plen % 8;
	if (memcmp(o->a, x->a, (size_t)full) != 0)
		return false;
	return !rest || ((o->a[full] ^ x->a[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

static bool
covered(const struct nft *n, const struct net *x)
{
	for (size_t i = 0; i < n->nnets; i++)
		if (net_holds(&n->nets[i], x))
			return true;
	return false;
}

static bool
is_ip(enum obs_kind k)
{
	return k == OBS_IPV4 || k == OBS_IPV6;
}

/* Rebuilds n->nets from the block networks of s. */
static enum tcerr
nets_rebuild(struct nft *n, const struct agent_entry *const *v, size_t cnt, struct diag *d)
{
	size_t k = 0;
	for (size_t i = 0; i < cnt; i++)
		if (is_ip(v[i]->kind) && !v[i]->alert && strchr(v[i]->value, '/'))
			k++;
	struct net *nets = malloc((k ? k : 1) * sizeof *nets);
	if (!nets)
		return diag_set(d, TC_ENOMEM, "out of memory");
	k = 0;
	for (size_t i = 0; i < cnt; i++)
		if (is_ip(v[i]->kind) && !v[i]->alert && strchr(v[i]->value, '/') &&
		    parse_net(v[i]->kind, v[i]->value, &nets[k]))
			k++;
	free(n->nets);
	n->nets = nets;
	n->nnets = k;
	return TC_OK;
}

/* Whether (kind, value) belongs in the kernel now; OUT: *until. */
static bool
wanted(const struct nft *n, const struct agent_set *s, enum obs_kind k, const char *v,
       int64_t now, int64_t *until)
{
	struct net x;
	const struct agent_entry *e = agent_set_get(s, k, slice_from_cstr(v));
	if (!e || e->alert || (e->until_us && e->until_us <= now) || !parse_net(k, v, &x) ||
	    (x.plen < (k == OBS_IPV4 ? 32 : 128) && covered(n, &x)))
		return false;
	*until = e->until_us;
	return true;
}

/* The set a value goes to: a network (prefix shorter than the address)
 * to the interval set, an address to the hash set. */
static const char *
set_of(enum obs_kind k, const char *v)
{
	struct net x;
	bool net = parse_net(k, v, &x) && x.plen < (k == OBS_IPV4 ? 32 : 128);
	if (k == OBS_IPV4)
		return net ? "ipv4_net" : "ipv4_addr";
	return net ? "ipv6_net" : "ipv6_addr";
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

/* Appends "add element" commands for every value of kind k that belongs
 * in the kernel, recording each in n->in. */
static enum tcerr
add_elements(struct nft *n, const struct agent_set *s, const struct agent_entry *const *v,
             size_t cnt, enum obs_kind k, const char *set, int64_t now, struct diag *d)
{
	size_t in_cmd = 0;
	for (size_t i = 0; i < cnt; i++) {
		int64_t until;
		if (v[i]->kind != k || strcmp(set_of(k, v[i]->value), set) != 0 ||
		    !wanted(n, s, k, v[i]->value, now, &until))
			continue;
		size_t mark = n->cmd.len; /* before the header, for the first */
		if (in_cmd == 0)
			buf_printf(&n->cmd, "add element inet %s %s { ", n->table, set);
		else
			buf_append_cstr(&n->cmd, ", ");
		if (!elem(&n->cmd, k, v[i]->value, until, now, true)) {
			buf_truncate(&n->cmd, mark);
			continue;
		}
		struct agent_entry e = { .kind = k, .until_us = until, .confidence = -1,
		                         .value = v[i]->value, .len = v[i]->len };
		enum tcerr t = agent_set_put(n->in, &e, NULL, d);
		if (t)
			return t;
		if (++in_cmd == NFT_BATCH_ELEMS) {
			buf_append_cstr(&n->cmd, " }\n");
			in_cmd = 0;
		}
	}
	if (in_cmd)
		buf_append_cstr(&n->cmd, " }\n");
	return TC_OK;
}

/* Appends the adds of every value that belongs in the kernel, after the
 * caller's flush; n->in becomes exactly that. */
static enum tcerr
reload_sets(struct nft *n, const struct agent_set *s, const struct agent_entry *const *v,
            size_t cnt, int64_t now, struct diag *d)
{
	enum tcerr t;
	agent_set_free(n->in);
	if (!(n->in = agent_set_new()))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if ((t = nets_rebuild(n, v, cnt, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV4, "ipv4_addr", now, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV4, "ipv4_net", now, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV6, "ipv6_addr", now, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV6, "ipv6_net", now, d)))
		return t;
	return TC_OK;
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
	           "add set inet %s ipv4_addr { type ipv4_addr; flags timeout; }\n"
	           "add set inet %s ipv6_addr { type ipv6_addr; flags timeout; }\n"
	           "add set inet %s ipv4_net { type ipv4_addr; flags interval, timeout; }\n"
	           "add set inet %s ipv6_net { type ipv6_addr; flags interval, timeout; }\n",
	           n->table, n->table, n->table, n->table, n->table);
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
		static const char *const sets[] = { "ipv4_addr", "ipv4_net", "ipv6_addr", "ipv6_net" };
		bool both = strcmp(h, "forward") == 0 || strcmp(h, "output") == 0;
		for (size_t j = 0; j < 4; j++) {
			const char *fam = j < 2 ? "ip" : "ip6";
			buf_printf(&n->cmd, "add rule inet %s %s %s saddr @%s %s\n", n->table, h, fam,
			           sets[j], verdict);
			if (both)
				buf_printf(&n->cmd, "add rule inet %s %s %s daddr @%s %s\n", n->table, h,
				           fam, sets[j], verdict);
		}
	}
	buf_printf(&n->cmd, FLUSH_SETS, n->table, n->table, n->table, n->table);
	enum tcerr t = reload_sets(n, s, v, cnt, now, d);
	if (!t)
		t = run(n, "creating the table and loading the sets", d);
	free(v);
	return t;
}

/* Deletes X, which the backend put in the kernel with timeout until. When
 * that timeout may have run out, as "add X; delete X", which succeeds
 * whether or not the kernel still has X (but nft refuses a network that
 * holds X in the same transaction: the burst is then reloaded whole). */
static void
del_cmd(struct nft *n, enum obs_kind k, const char *v, int64_t until, int64_t now)
{
	size_t mark = n->cmd.len;
	if (until && until - now < NFT_EXPIRY_SLACK_US) {
		buf_printf(&n->cmd, "add element inet %s %s { ", n->table, set_of(k, v));
		if (!elem(&n->cmd, k, v, 0, now, false)) {
			buf_truncate(&n->cmd, mark);
			return;
		}
		buf_append_cstr(&n->cmd, " }\n");
	}
	buf_printf(&n->cmd, "delete element inet %s %s { ", n->table, set_of(k, v));
	if (!elem(&n->cmd, k, v, 0, now, false)) {
		buf_truncate(&n->cmd, mark);
		return;
	}
	buf_append_cstr(&n->cmd, " }\n");
}

struct touched {
	enum obs_kind kind;
	const char *value;
};

static enum tcerr
touch(struct touched **t, size_t *nt, size_t *cap, enum obs_kind k, const char *v)
{
	if (*nt == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct touched *x = realloc(*t, nc * sizeof *x);
		if (!x)
			return TC_ENOMEM;
		*t = x;
		*cap = nc;
	}
	(*t)[(*nt)++] = (struct touched){ k, v };
	return TC_OK;
}

static enum tcerr
nft_apply(void *b, const struct agent_changes *ch, const struct agent_set *s, struct diag *d)
{
	struct nft *n = b;
	int64_t now = ts_now_us();
	struct touched *tv = NULL;
	size_t nt = 0, cap = 0;
	const struct agent_entry **sv = NULL, **iv = NULL;
	size_t scnt = 0, icnt = 0;
	bool netchange = false;
	enum tcerr t = TC_OK;

	for (size_t i = 0; i < ch->n; i++)
		if (is_ip(ch->v[i].kind) && strchr(ch->v[i].value, '/'))
			netchange = true;
	if (netchange) {
		/* the values inside a network that came or went change too */
		if (agent_set_sorted(s, &sv, &scnt) || agent_set_sorted(n->in, &iv, &icnt)) {
			t = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		if ((t = nets_rebuild(n, sv, scnt, d)))
			goto out;
	}
	for (size_t i = 0; i < ch->n && !t; i++) {
		const struct agent_change *c = &ch->v[i];
		if (!is_ip(c->kind))
			continue;
		if (touch(&tv, &nt, &cap, c->kind, c->value))
			t = TC_ENOMEM;
		struct net x;
		if (!strchr(c->value, '/') || !parse_net(c->kind, c->value, &x))
			continue;
		for (size_t j = 0; j < scnt && !t; j++) {
			struct net y;
			if (sv[j]->kind == c->kind && parse_net(sv[j]->kind, sv[j]->value, &y) &&
			    net_holds(&x, &y) && touch(&tv, &nt, &cap, sv[j]->kind, sv[j]->value))
				t = TC_ENOMEM;
		}
		for (size_t j = 0; j < icnt && !t; j++) {
			struct net y;
			if (iv[j]->kind == c->kind && parse_net(iv[j]->kind, iv[j]->value, &y) &&
			    net_holds(&x, &y) && touch(&tv, &nt, &cap, iv[j]->kind, iv[j]->value))
				t = TC_ENOMEM;
		}
	}
	if (t) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	/* copies: n->in's entries go away as they are deleted */
	char **vals = calloc(nt ? nt : 1, sizeof *vals);
	if (!vals) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++)
		if (!(vals[i] = strdup(tv[i].value)))
			t = TC_ENOMEM;
	buf_clear(&n->cmd);
	/* deletes first: then no add can overlap what the kernel still holds */
	for (size_t i = 0; i < nt && !t; i++) {
		int64_t until = 0;
		const struct agent_entry *have =
			agent_set_get(n->in, tv[i].kind, slice_from_cstr(vals[i]));
		bool want = wanted(n, s, tv[i].kind, vals[i], now, &until);
		if (have && (!want || have->until_us != until)) {
			del_cmd(n, tv[i].kind, vals[i], have->until_us, now);
			t = agent_set_del(n->in, tv[i].kind, slice_from_cstr(vals[i]), NULL, d);
		}
	}
	/* the adds, one command per set (up to NFT_BATCH_ELEMS elements each):
	 * a snapshot's million adds are a few commands for nft's parser, not a
	 * million */
	static const char *const sets[] = { "ipv4_addr", "ipv4_net", "ipv6_addr", "ipv6_net" };
	for (size_t k = 0; k < 4 && !t; k++) {
		size_t in_cmd = 0;
		for (size_t i = 0; i < nt && !t; i++) {
			int64_t until = 0;
			if (strcmp(set_of(tv[i].kind, vals[i]), sets[k]) != 0 ||
			    !wanted(n, s, tv[i].kind, vals[i], now, &until) ||
			    agent_set_get(n->in, tv[i].kind, slice_from_cstr(vals[i])))
				continue;
			size_t mark = n->cmd.len; /* before the header, for the first */
			if (in_cmd == 0)
				buf_printf(&n->cmd, "add element inet %s %s { ", n->table, sets[k]);
			else
				buf_append_cstr(&n->cmd, ", ");
			if (!elem(&n->cmd, tv[i].kind, vals[i], until, now, true)) {
				buf_truncate(&n->cmd, mark); /* expired already, or not an address */
				continue;
			}
			struct agent_entry e = { .kind = tv[i].kind, .until_us = until,
			                         .confidence = -1, .value = vals[i],
			                         .len = strlen(vals[i]) };
			t = agent_set_put(n->in, &e, NULL, d);
			if (++in_cmd == NFT_BATCH_ELEMS) {
				buf_append_cstr(&n->cmd, " }\n");
				in_cmd = 0;
			}
		}
		if (in_cmd)
			buf_append_cstr(&n->cmd, " }\n");
	}
	for (size_t i = 0; i < nt; i++)
		free(vals[i]);
	free(vals);
	if (t) {
		if (t == TC_ENOMEM)
			diag_set(d, t, "out of memory");
		goto out;
	}
	if (n->cmd.len && (t = run(n, "applying a burst", d)) == TC_EIO) {
		/* refused (the ruleset changed under the agent?): reload the sets
		 * whole, in one transaction, and report it */
		struct diag first = *d;
		const struct agent_entry **all = NULL;
		size_t acnt = 0;
		if (agent_set_sorted(s, &all, &acnt) == TC_OK) {
			buf_clear(&n->cmd);
			buf_printf(&n->cmd, FLUSH_SETS, n->table, n->table, n->table, n->table);
			if (reload_sets(n, s, all, acnt, now, d) == TC_OK)
				run(n, "reloading the sets", d);
			free(all);
		}
		*d = first;
		diag_prefix(d, "the sets were reloaded whole: ");
	}
out:
	free(tv);
	free(sv);
	free(iv);
	return t;
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
	agent_set_free(n->in);
	free(n->nets);
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
				six = set && strncmp(set, "@ipv6", 5) == 0;
			}
			json_t *c = json_object_get(e, "counter");
			if (c)
				pk = (uint64_t)json_integer_value(json_object_get(c, "packets"));
		}
		*(six ? v6 : v4) += pk;
	}
	json_decref(root);
	static const char *const sets[] = { "ipv4_addr", "ipv4_net", "ipv6_addr", "ipv6_net" };
	for (int f = 0; f < 4; f++) {
		snprintf(cmd, sizeof cmd, "list set inet %s %s", table, sets[f]);
		if (nft_run_cmd_from_buffer(ctx, cmd) == 0) {
			json_t *r = json_loads(nft_ctx_get_output_buffer(ctx), 0, NULL);
			*(f >= 2 ? set6 : set4) += count_elems(r);
			json_decref(r);
		}
	}
out:
	nft_ctx_free(ctx);
	return t;
}
