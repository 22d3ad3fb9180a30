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
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define NFT_TIMEOUT_MAX_S ((int64_t)365 * 24 * 3600 * 10) /* longest element timeout */
#define NFT_BATCH_ELEMS 20000                              /* elements per add command */
#define NFT_EXPIRY_SLACK_US 2000000                        /* a timeout this near may have run out */
#define NFT_ADDR_MAX 64                                    /* bytes of "ADDR/LEN" */
#define NL_ELEMS_PER_MSG 1024        /* set elements in one netlink message */
#define NL_ELEM_BYTES 64             /* netlink bytes of one element, at most */
#define NL_MSG_OVERHEAD 512          /* a message's header, table and set names */
#define NL_RCVBUF (1 << 20)          /* bytes of errors the kernel may send back */

/* The sets, in the order of set indices below. */
static const char *const set_names[] = { "ipv4_addr", "ipv4_net", "ipv6_addr", "ipv6_net" };
enum { SET_V4_ADDR, SET_V4_NET, SET_V6_ADDR, SET_V6_NET, SET_COUNT };

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
	/* address-set changes go to the kernel as one netlink batch built
	 * here (libmnl, libnftnl's batch framing): no text to parse */
	struct mnl_socket *nl;       /* NULL: everything through libnftables */
	uint32_t portid, seq;
	int sndbuf;
	struct buf nlb;
	/* the command (text) or message (netlink) being filled */
	struct {
		bool nl;
		int set;                 /* -1: none open */
		bool del;
		size_t cnt;
		size_t off;              /* netlink: where the message starts */
		struct nlattr *list;     /* netlink: the element list nest */
	} em;
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

/* --- one emitter for both paths: text commands for libnftables, or set
 * element messages of a netlink batch --- */

static int
set_index(enum obs_kind k, const char *v)
{
	const char *name = set_of(k, v);
	for (int i = 0; i < SET_COUNT; i++)
		if (strcmp(set_names[i], name) == 0)
			return i;
	return SET_V4_ADDR;
}

static void
em_close(struct nft *n)
{
	if (n->em.set < 0)
		return;
	if (n->em.nl) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(n->nlb.p + n->em.off);
		if (n->em.list)
			mnl_attr_nest_end(nlh, n->em.list);
		n->nlb.len = n->em.off + nlh->nlmsg_len;
	} else {
		buf_append_cstr(&n->cmd, " }\n");
	}
	n->em.set = -1;
	n->em.list = NULL;
}

/* Starts the netlink batch (or, text, the command buffer). */
static void
em_begin(struct nft *n, bool nl)
{
	n->em.nl = nl && n->nl;
	n->em.set = -1;
	n->em.list = NULL;
	if (!n->em.nl)
		return;
	buf_clear(&n->nlb);
	buf_reserve_more(&n->nlb, NL_MSG_OVERHEAD);
	if (buf_error(&n->nlb))
		return;
	struct nlmsghdr *nlh = nftnl_batch_begin(n->nlb.p, n->seq++);
	n->nlb.len = nlh->nlmsg_len;
}

/* Opens a netlink message of type for set si; with_list: an element
 * list follows (a delete without one flushes the set). false: no memory. */
static bool
nl_open(struct nft *n, uint16_t type, int si, bool with_list)
{
	buf_reserve_more(&n->nlb, NL_MSG_OVERHEAD + (size_t)NL_ELEMS_PER_MSG * NL_ELEM_BYTES);
	if (buf_error(&n->nlb))
		return false;
	n->em.off = n->nlb.len;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(n->nlb.p + n->em.off, type, NFPROTO_INET,
	                                             type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
	                                             n->seq++);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, n->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set_names[si]);
	n->em.list = with_list ? mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS) : NULL;
	return true;
}

/* Empties set si, in the batch or the commands. */
static void
em_flush(struct nft *n, int si)
{
	em_close(n);
	if (!n->em.nl) {
		buf_printf(&n->cmd, "flush set inet %s %s\n", n->table, set_names[si]);
		return;
	}
	if (nl_open(n, NFT_MSG_DELSETELEM, si, false)) {
		n->em.set = si;
		em_close(n);
	}
}

/* Adds (del false) or deletes element (k, v) of set si; an add with
 * until (µs, 0: none) gets the timeout until minus now. false when it has
 * expired already or is not an address (nothing emitted). */
static bool
em_elem(struct nft *n, int si, bool del, enum obs_kind k, const char *v, int64_t until,
        int64_t now)
{
	struct net x;
	int64_t ms = 0;
	if (!parse_net(k, v, &x))
		return false;
	if (!del && until) {
		ms = (until - now + 999) / 1000;
		if (ms <= 0)
			return false;
		if (ms > NFT_TIMEOUT_MAX_S * 1000)
			ms = NFT_TIMEOUT_MAX_S * 1000;
	}
	size_t limit = n->em.nl ? NL_ELEMS_PER_MSG : NFT_BATCH_ELEMS;
	if (n->em.set != si || n->em.del != del || n->em.cnt >= limit) {
		em_close(n);
		if (n->em.nl) {
			if (!nl_open(n, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, si, true))
				return false;
		} else {
			buf_printf(&n->cmd, "%s element inet %s %s { ", del ? "delete" : "add",
			           n->table, set_names[si]);
		}
		n->em.set = si;
		n->em.del = del;
		n->em.cnt = 0;
	}
	if (n->em.nl) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(n->nlb.p + n->em.off);
		struct nlattr *e = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		if (ms)
			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64((uint64_t)ms));
		struct nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, x.af == AF_INET ? 4 : 16, x.a);
		mnl_attr_nest_end(nlh, key);
		mnl_attr_nest_end(nlh, e);
	} else {
		if (n->em.cnt)
			buf_append_cstr(&n->cmd, ", ");
		if (!elem(&n->cmd, k, v, until, now, !del)) {
			/* cannot happen: parse_net took it; keep the command whole */
			buf_append_cstr(&n->cmd, "0.0.0.0");
		}
	}
	n->em.cnt++;
	return true;
}

/* Sends the netlink batch as one transaction and reads what the kernel
 * answered (it handles a batch within the send, so every error is queued
 * when send returns; a batch with no error gets no answer). */
static enum tcerr
nl_commit(struct nft *n, const char *what, struct diag *d)
{
	em_close(n);
	buf_reserve_more(&n->nlb, NL_MSG_OVERHEAD);
	if (buf_error(&n->nlb))
		return diag_set(d, TC_ENOMEM, "nftables: out of memory");
	struct nlmsghdr *end = nftnl_batch_end(n->nlb.p + n->nlb.len, n->seq++);
	n->nlb.len += end->nlmsg_len;
	int fd = mnl_socket_get_fd(n->nl);
	if (n->nlb.len + 4096 > (size_t)n->sndbuf) {
		int want = n->nlb.len > (size_t)(INT32_MAX / 4) ? INT32_MAX / 4
		                                                : (int)n->nlb.len + 65536;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) == 0)
			n->sndbuf = want;
	}
	char rb[8192];
	while (recv(fd, rb, sizeof rb, MSG_DONTWAIT) > 0)
		; /* nothing should be pending; never mix an old answer in */
	if (mnl_socket_sendto(n->nl, n->nlb.p, n->nlb.len) < 0)
		return diag_set(d, TC_EIO, "nftables: %s: sending %zu bytes: %s", what, n->nlb.len,
		                strerror(errno));
	int err = 0;
	for (;;) {
		ssize_t r = recv(fd, rb, sizeof rb, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			err = errno;
			break;
		}
		if (r == 0)
			break;
		if (mnl_cb_run(rb, (size_t)r, 0, n->portid, NULL, NULL) < 0 && !err)
			err = errno;
	}
	if (err)
		return diag_set(d, TC_EIO, "nftables: %s: %s", what, strerror(err));
	return TC_OK;
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

/* Emits the adds of every value of kind k that belongs in set si,
 * recording each in n->in. */
static enum tcerr
add_elements(struct nft *n, const struct agent_set *s, const struct agent_entry *const *v,
             size_t cnt, enum obs_kind k, int si, int64_t now, struct diag *d)
{
	for (size_t i = 0; i < cnt; i++) {
		int64_t until;
		if (v[i]->kind != k || set_index(k, v[i]->value) != si ||
		    !wanted(n, s, k, v[i]->value, now, &until))
			continue;
		if (!em_elem(n, si, false, k, v[i]->value, until, now))
			continue;
		struct agent_entry e = { .kind = k, .until_us = until, .confidence = -1,
		                         .value = v[i]->value, .len = v[i]->len };
		enum tcerr t = agent_set_put(n->in, &e, NULL, d);
		if (t)
			return t;
	}
	return TC_OK;
}

/* Makes the kernel's sets hold exactly what belongs there: the address
 * sets emptied and filled in one netlink transaction, then the network
 * sets in one libnftables transaction (it writes the interval ends). No
 * packet meets an empty set: each flush goes with its adds. n->in becomes
 * exactly what was put. */
static enum tcerr
reload_sets(struct nft *n, const struct agent_set *s, const struct agent_entry *const *v,
            size_t cnt, int64_t now, struct diag *d)
{
	enum tcerr t;
	agent_set_free(n->in);
	if (!(n->in = agent_set_new()))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if ((t = nets_rebuild(n, v, cnt, d)))
		return t;
	buf_clear(&n->cmd);
	em_begin(n, true);
	em_flush(n, SET_V4_ADDR);
	em_flush(n, SET_V6_ADDR);
	if ((t = add_elements(n, s, v, cnt, OBS_IPV4, SET_V4_ADDR, now, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV6, SET_V6_ADDR, now, d)))
		return t;
	if (n->em.nl) {
		if ((t = nl_commit(n, "loading the address sets", d)))
			return t;
		em_begin(n, false);
	}
	em_flush(n, SET_V4_NET);
	em_flush(n, SET_V6_NET);
	if ((t = add_elements(n, s, v, cnt, OBS_IPV4, SET_V4_NET, now, d)) ||
	    (t = add_elements(n, s, v, cnt, OBS_IPV6, SET_V6_NET, now, d)))
		return t;
	em_close(n);
	return run(n, "loading the sets", d);
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
	enum tcerr t = run(n, "creating the table", d);
	if (!t)
		t = reload_sets(n, s, v, cnt, now, d);
	free(v);
	return t;
}

/* Deletes X, which the backend put in the kernel with timeout until. When
 * that timeout may have run out, as "add X; delete X", which succeeds
 * whether or not the kernel still has X (but nft refuses a network that
 * holds X in the same transaction: the burst is then reloaded whole). */
static void
del_elem(struct nft *n, enum obs_kind k, const char *v, int64_t until, int64_t now)
{
	int si = set_index(k, v);
	if (until && until - now < NFT_EXPIRY_SLACK_US)
		em_elem(n, si, false, k, v, 0, now);
	em_elem(n, si, true, k, v, 0, now);
}

struct touched {
	enum obs_kind kind;
	const char *value;
	bool want, held;            /* belongs in the kernel; is there (after the deletes) */
	int64_t until;
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
	(*t)[(*nt)++] = (struct touched){ .kind = k, .value = v };
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
	/* copies when networks changed: the values of n->in's entries taken
	 * in above go away as they are deleted (the others are the changes') */
	char **vals = calloc(nt ? nt : 1, sizeof *vals);
	if (!vals) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++)
		if (!(vals[i] = netchange ? strdup(tv[i].value) : (char *)tv[i].value))
			t = TC_ENOMEM;
	/* a burst without networks goes to the kernel as one netlink batch; one
	 * with networks as one libnftables transaction (nft computes the
	 * interval ends) */
	buf_clear(&n->cmd);
	em_begin(n, !netchange);
	size_t emitted = 0;
	/* deletes first: then no add can overlap what the kernel still holds */
	for (size_t i = 0; i < nt && !t; i++) {
		struct slice v = slice_from_cstr(vals[i]);
		const struct agent_entry *have = agent_set_get(n->in, tv[i].kind, v);
		tv[i].want = wanted(n, s, tv[i].kind, vals[i], now, &tv[i].until);
		tv[i].held = have != NULL;
		if (have && (!tv[i].want || have->until_us != tv[i].until)) {
			del_elem(n, tv[i].kind, vals[i], have->until_us, now);
			emitted++;
			tv[i].held = false;
			t = agent_set_del(n->in, tv[i].kind, v, NULL, d);
		}
	}
	/* the adds, grouped by set (a snapshot chunk's adds are a few
	 * messages, not one per element) */
	for (int k = 0; k < SET_COUNT && !t; k++) {
		for (size_t i = 0; i < nt && !t; i++) {
			if (!tv[i].want || tv[i].held || set_index(tv[i].kind, vals[i]) != k ||
			    agent_set_get(n->in, tv[i].kind, slice_from_cstr(vals[i])))
				continue; /* (a value touched twice is added once) */
			if (!em_elem(n, k, false, tv[i].kind, vals[i], tv[i].until, now))
				continue; /* expired already, or not an address */
			emitted++;
			struct agent_entry e = { .kind = tv[i].kind, .until_us = tv[i].until,
			                         .confidence = -1, .value = vals[i],
			                         .len = strlen(vals[i]) };
			t = agent_set_put(n->in, &e, NULL, d);
		}
	}
	if (netchange)
		for (size_t i = 0; i < nt; i++)
			free(vals[i]);
	free(vals);
	if (t) {
		if (t == TC_ENOMEM)
			diag_set(d, t, "out of memory");
		goto out;
	}
	if (emitted) {
		if (n->em.nl) {
			t = nl_commit(n, "applying a burst", d);
		} else {
			em_close(n);
			t = run(n, "applying a burst", d);
		}
	}
	if (t == TC_EIO) {
		/* refused (the ruleset changed under the agent?): reload the sets
		 * whole, each in one transaction, and report it */
		struct diag first = *d;
		const struct agent_entry **all = NULL;
		size_t acnt = 0;
		if (agent_set_sorted(s, &all, &acnt) == TC_OK) {
			reload_sets(n, s, all, acnt, now, d);
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
	if (n->nl)
		mnl_socket_close(n->nl);
	buf_reset(&n->nlb);
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
	buf_init(&n->nlb, 0);
	n->em.set = -1;
	/* the netlink socket for address-set batches; without it every change
	 * goes through libnftables, only slower */
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (n->nl && mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(n->nl);
		n->nl = NULL;
	}
	if (n->nl) {
		int one = 1, rcv = NL_RCVBUF, fd = mnl_socket_get_fd(n->nl);
		socklen_t sl = sizeof n->sndbuf;
		n->portid = mnl_socket_get_portid(n->nl);
		n->seq = (uint32_t)time(NULL);
		/* errors carry only the failed message's header */
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n->sndbuf, &sl) != 0)
			n->sndbuf = 0;
	}
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
