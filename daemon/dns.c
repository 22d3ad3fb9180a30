/*
 * dns.c — tocsind's authoritative DNS server for its RPZ zones (dns.h,
 * docs/dns.md), on ldns for the wire format and TSIG.
 *
 * One thread owns everything here: the UDP socket, the TCP listener and
 * its connections, each zone's trigger set and journal (lib/rpz) and a
 * store connection of its own. It polls its sockets and an eventfd that
 * dns_log_moved() signals after each commit; when the log moved, it reads
 * each zone's decision events after the zone's position (lib/feed, judged
 * by policy_row for the zone's view, exactly as a stream reader with that
 * view would get them), applies them, and NOTIFYs the zone's secondaries
 * when the zone changed. Invariants: a zone's SOA serial is the log
 * position at which its content is exact (rpz_zone_serial_position, low
 * 32 bits); an IXFR carries exactly the journal's changes after the
 * client's serial, or the whole zone when that serial is older than the
 * journal (RFC 1995 §4 allows it); a transfer is answered only over TCP,
 * to a source inside the zone's allow, with a valid TSIG (HMAC-SHA256,
 * RFC 8945) unless the source is in allow_unsigned_transfer; every other
 * request from outside allow is REFUSED; UDP answers without TSIG are at
 * most DNS_UDP_ANSWER_MAX bytes and [dns] rate_limit per second per
 * source address. A whole-zone answer (AXFR, or IXFR from too old a
 * serial) is written by a thread of its own from a frozen copy of the
 * zone (rpz_zone_freeze), at most DNS_XFR_THREADS_MAX at once, so the DNS
 * thread keeps following the log meanwhile. NOTIFY is resent (same id,
 * after 1, 2, 4, 8 s) until the secondary answers it. Known gap: a
 * change of a view's policy (rights, sharing groups) applies to events
 * after it; the zone is reloaded only when tocsind restarts.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "feed/feed.h"
#include "log.h"
#include "metrics.h"
#include "rpz/rpz.h"
#include "rpz/rpz_msg.h"
#include "util/timestamp.h"

#define DNS_POLL_MS 1000              /* the log is looked at this often even without a wake */
#define DNS_READ_BATCH 10000          /* decision events read per feed_read call */
#define DNS_UDP_MAX 4096              /* bytes of a UDP request read */
#define DNS_UDP_ANSWER_MAX 512        /* bytes of a UDP answer without TSIG (RFC 1035 §4.2.1) */
#define DNS_TCP_MSG_MAX 65535         /* bytes of one TCP message (RFC 7766) */
#define DNS_XFR_MSG_TARGET 16000      /* bytes of RRs per transfer message */
#define DNS_RATE_SLOTS 4096           /* source addresses the UDP rate limiter tracks */
#define DNS_TSIG_FUDGE 300            /* seconds (RFC 8945 §10) */
#define DNS_TSIG_ALG "hmac-sha256."
#define DNS_NOTIFY_TRIES 5            /* NOTIFYs sent to a silent secondary (RFC 1996 §3.6) */
#define DNS_NOTIFY_RETRY_US 1000000   /* before the first resend; doubled each time */
#define DNS_XFR_THREADS_MAX 4         /* whole-zone transfers at once, a thread each */
#define DNS_NS "localhost."           /* the zone's NS: RPZ zones are not delegated */
#define DNS_RNAME "hostmaster.localhost."

/* A NOTIFY waiting for its answer. */
struct notify_pending {
	bool active;
	uint16_t id;
	int tries;
	int64_t next_us;
};

struct zone {
	const struct conf_rpz *cz;
	ldns_rdf *origin;
	char origin_text[CONF_DNAME_MAX];
	ldns_rdf *action;                  /* the CNAME target */
	struct conf_cidr acl[CONF_RPZ_ACL_MAX];
	size_t nacl;
	struct conf_cidr unsigned_acl[CONF_RPZ_ACL_MAX];
	size_t nunsigned;
	struct sockaddr_storage notify[CONF_RPZ_NOTIFY_MAX];
	socklen_t notify_len[CONF_RPZ_NOTIFY_MAX];
	struct notify_pending pend[CONF_RPZ_NOTIFY_MAX];
	size_t nnotify;
	char tsig_key[CONF_DNAME_MAX];
	char tsig_secret[CONF_TSIG_SECRET_MAX];
	struct feed_filter_store filter;
	const struct reg_org *org;         /* view org:NAME, in s->snap; NULL: operator */
	bool org_view;
	struct rpz_zone *rz;
};

struct tcpconn {
	int fd;
	struct sockaddr_storage peer;
	uint8_t *buf;                      /* 2 + DNS_TCP_MSG_MAX */
	size_t have;
	int64_t last_us;                   /* the last byte read */
	int64_t msg_us;                    /* the first byte of the message being read */
	bool detached;                     /* handed to a transfer thread, which closes it */
};

struct rate_slot {
	uint64_t key;
	double tokens;
	int64_t t_us;
};

struct dns_server {
	struct app *app;
	struct hub *hub;
	int udp, tcp, wake;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	struct store *store;
	struct reg_snapshot *snap;
	uint64_t snap_gen;
	uint64_t seen_end;                 /* the log's end when zones were last refreshed */
	struct zone *zones;
	size_t nzones;
	struct tcpconn *conns;
	size_t nconns;
	struct rate_slot rate[DNS_RATE_SLOTS];
	/* whole-zone transfer threads */
	pthread_mutex_t xmu;
	pthread_cond_t xcv;
	int xfds[DNS_XFR_THREADS_MAX];     /* their connections (-1: a free slot) */
	size_t nxfr;
};

/* Text of an address for logs. */
static void
addr_text(const struct sockaddr_storage *sa, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof h);
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%u", h, port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof h);
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%u", h, port);
	}
}

static bool
acl_match(const struct conf_cidr *acl, size_t n, const struct sockaddr_storage *sa)
{
	for (size_t i = 0; i < n; i++)
		if (conf_cidr_match(&acl[i], (const struct sockaddr *)sa))
			return true;
	return false;
}

/* Token bucket per source address (ports ignored): rate_limit answers a
 * second, a burst of as many. A slot is shared by addresses whose hash
 * collides, which only makes the limit stricter for them. */
static bool
rate_ok(struct dns_server *s, const struct sockaddr_storage *sa)
{
	uint64_t key = 1469598103934665603ull;
	const uint8_t *p;
	size_t n;
	if (sa->ss_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		n = 4;
	} else {
		p = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		key = (key ^ p[i]) * 1099511628211ull;
	struct rate_slot *r = &s->rate[key % DNS_RATE_SLOTS];
	double limit = s->app->conf->dns_rate_limit;
	int64_t now = ts_now_us();
	if (r->key != key) {
		r->key = key;
		r->tokens = limit;
		r->t_us = now;
	}
	r->tokens += (double)(now - r->t_us) / 1e6 * limit;
	if (r->tokens > limit)
		r->tokens = limit;
	r->t_us = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

/* ---------------------------------------------------------------- zones */

static ldns_rr *
rr_new(ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	if (!rr) {
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static ldns_rr *
soa_rr(const struct zone *z)
{
	const struct conf_rpz *c = z->cz;
	ldns_rr *rr = rr_new(ldns_rdf_clone(z->origin), LDNS_RR_TYPE_SOA, c->minimum);
	if (!rr)
		return NULL;
	ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(DNS_NS));
	ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(DNS_RNAME));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32,
	                                           rpz_serial(rpz_zone_serial_position(z->rz))));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, c->refresh));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, c->retry));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, c->expire));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, c->minimum));
	return rr;
}

/* The SOA with another serial (IXFR's difference sequences). */
static ldns_rr *
soa_rr_at(const struct zone *z, uint64_t pos)
{
	ldns_rr *rr = soa_rr(z);
	if (rr) {
		ldns_rdf *old = ldns_rr_set_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32,
		                                                          rpz_serial(pos)), 2);
		ldns_rdf_deep_free(old);
	}
	return rr;
}

static ldns_rr *
ns_rr(const struct zone *z)
{
	ldns_rr *rr = rr_new(ldns_rdf_clone(z->origin), LDNS_RR_TYPE_NS, z->cz->ttl);
	if (rr)
		ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(DNS_NS));
	return rr;
}

/* The CNAME of trigger name (with "*." when star) in zone z. */
static ldns_rr *
trigger_rr(const struct zone *z, const char *name, bool star)
{
	char text[RPZ_NAME_MAX + CONF_DNAME_MAX + 4];
	int n = snprintf(text, sizeof text, "%s%s.%s", star ? "*." : "", name, z->origin_text);
	if (n < 0 || (size_t)n >= sizeof text || n > 254)
		return NULL;
	ldns_rdf *owner = ldns_dname_new_frm_str(text);
	if (!owner)
		return NULL;
	ldns_rr *rr = rr_new(owner, LDNS_RR_TYPE_CNAME, z->cz->ttl);
	if (rr)
		ldns_rr_push_rdf(rr, ldns_rdf_clone(z->action));
	return rr;
}

struct apply_ctx {
	struct zone *z;
	size_t changes;
	size_t skipped;
};

static enum tcerr
apply_cb(void *ctx, const struct feed_event *ev)
{
	struct apply_ctx *a = ctx;
	const struct feed_decision *dec = ev->decision;
	char name[RPZ_NAME_MAX];
	bool wild, changed = false;
	struct diag d;
	if (!dec)
		return TC_OK;
	if (rpz_trigger(dec->kind, dec->value, name, &wild, &d) != TC_OK) {
		a->skipped++;
		return TC_OK;
	}
	/* an "alert" decision (below [decisions] block_min_confidence) blocks nothing */
	bool add = ev->type == FEED_EV_ADD && !(dec->action && strcmp(dec->action, "alert") == 0);
	if (!ev->pos.seq) /* a snapshot's add */
		return add ? rpz_zone_load(a->z->rz, name, wild) : TC_OK;
	enum tcerr rc = rpz_zone_apply(a->z->rz, ev->pos.seq, add, name, wild, &changed);
	if (rc == TC_EINVAL)
		return TC_OK; /* not after the zone's position: already applied */
	if (changed)
		a->changes++;
	return rc;
}

static void
feed_ctx_of(struct dns_server *s, const struct zone *z, struct policy_subject *who,
            struct feed_ctx *c, struct allowlist *allow)
{
	*c = (struct feed_ctx){ .store = s->store, .names = s->snap, .allow = allow,
		                .block_min_confidence = (int)s->app->conf->block_min_confidence };
	if (z->org_view) {
		policy_subject_org(who, s->snap, z->org);
		c->who = who;
	}
}

/* Takes the registry snapshot again when it changed, and finds each
 * zone's organisation in it. */
static void
snapshot_refresh(struct dns_server *s, bool force)
{
	uint64_t gen = atomic_load(&s->app->snap_gen);
	if (s->snap && gen == s->snap_gen && !force)
		return;
	struct reg_snapshot *ns = app_snapshot_get(s->app);
	if (!ns)
		return;
	if (s->snap)
		reg_snapshot_unref(s->snap);
	s->snap = ns;
	s->snap_gen = gen;
	for (size_t i = 0; i < s->nzones; i++) {
		struct zone *z = &s->zones[i];
		if (!z->org_view)
			continue;
		const char *name = z->cz->view + 4;
		z->org = NULL;
		for (size_t k = 0; k < reg_snapshot_norgs(ns); k++) {
			const struct reg_org *o = reg_snapshot_org_at(ns, k);
			if (o && strcmp(o->name, name) == 0)
				z->org = o;
		}
		if (!z->org) {
			struct logline l;
			log_begin(&l, CONF_LOG_WARN,
			          "rpz: the view's organisation does not exist; the zone carries nothing "
			          "of it");
			log_str(&l, "zone", z->cz->name);
			log_str(&l, "view", z->cz->view);
			log_end(&l);
		}
	}
}

/* Loads zone z from a snapshot of its view's decisions. */
static enum tcerr
zone_load(struct dns_server *s, struct zone *z, struct diag *d)
{
	struct policy_subject who;
	struct feed_ctx c;
	struct allowlist *allow = hub_allowlist_get(s->hub);
	feed_ctx_of(s, z, &who, &c, allow);
	struct apply_ctx a = { .z = z };
	struct feed_pos at = { 0 };
	rpz_zone_reset(z->rz, 0);
	enum tcerr rc = feed_snapshot(&c, &z->filter.f, apply_cb, &a, &at, d);
	allowlist_free(allow);
	if (rc)
		return rc;
	rpz_zone_mark(z->rz, at.seq);
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "rpz zone loaded");
	log_str(&l, "zone", z->cz->name);
	log_str(&l, "origin", z->origin_text);
	log_int(&l, "triggers", (int64_t)rpz_zone_count(z->rz));
	log_int(&l, "serial", (int64_t)rpz_serial(at.seq));
	log_int(&l, "not_applicable", (int64_t)a.skipped);
	log_end(&l);
	return TC_OK;
}

static void notify_zone(struct dns_server *s, struct zone *z);
static void notify_answered(struct dns_server *s, const struct sockaddr_storage *peer,
                            uint16_t id);

/* Reads the decision events after each zone's position; NOTIFYs the
 * secondaries of each zone that changed. */
static void
zones_refresh(struct dns_server *s)
{
	uint64_t end = app_log_position(s->app);
	if (end == s->seen_end)
		return;
	s->seen_end = end;
	snapshot_refresh(s, false);
	struct allowlist *allow = hub_allowlist_get(s->hub);
	for (size_t i = 0; i < s->nzones; i++) {
		struct zone *z = &s->zones[i];
		struct policy_subject who;
		struct feed_ctx c;
		struct apply_ctx a = { .z = z };
		struct diag d;
		feed_ctx_of(s, z, &who, &c, allow);
		for (;;) {
			struct feed_pos from = { rpz_zone_position(z->rz) }, next = from;
			if (feed_read(&c, FEED_DECISIONS, &z->filter.f, from, DNS_READ_BATCH, apply_cb,
			              &a, &next, &d)) {
				log_error("rpz: reading the log failed; retrying at the next change", d.msg);
				s->seen_end = 0;
				break;
			}
			if (next.seq <= from.seq)
				break;
			rpz_zone_advance(z->rz, next.seq);
		}
		if (a.changes) {
			struct logline l;
			log_begin(&l, CONF_LOG_DEBUG, "rpz zone changed");
			log_str(&l, "zone", z->cz->name);
			log_int(&l, "changes", (int64_t)a.changes);
			log_int(&l, "serial", (int64_t)rpz_serial(rpz_zone_serial_position(z->rz)));
			log_end(&l);
			notify_zone(s, z);
		}
	}
	allowlist_free(allow);
}

/* ------------------------------------------------------------- messages */

/* Where answers go: a UDP datagram to peer, or a TCP connection. */
struct sink {
	struct dns_server *s;
	bool tcp;
	int fd;
	const struct sockaddr_storage *peer;
	socklen_t peerlen;
	bool failed;
	bool detached;                     /* TCP: a transfer thread took the connection */
};

static socklen_t
sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Signs pkt when key is set (prev_mac: the previous message's MAC in a
 * multi-message answer, RFC 8945 §5.3.1; else the query's), turns it into
 * wire format and sends it. OUT: *mac (may be NULL), a copy of this
 * message's MAC for the next one. */
static bool
send_pkt(struct sink *k, ldns_pkt *pkt, const struct zone *z, const ldns_rdf *query_mac,
         const ldns_rdf *prev_mac, ldns_rdf **mac)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	if (k->failed)
		return false;
	if (z && query_mac) {
		ldns_status st = prev_mac ? ldns_pkt_tsig_sign_next(pkt, z->tsig_key, z->tsig_secret,
		                                                   DNS_TSIG_FUDGE, DNS_TSIG_ALG,
		                                                   prev_mac, 1)
		                          : ldns_pkt_tsig_sign(pkt, z->tsig_key, z->tsig_secret,
		                                               DNS_TSIG_FUDGE, DNS_TSIG_ALG, query_mac);
		if (st != LDNS_STATUS_OK) {
			log_error("dns: TSIG signing failed", ldns_get_errorstr_by_id(st));
			k->failed = true;
			return false;
		}
		if (mac && ldns_pkt_tsig(pkt))
			*mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
	}
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK) {
		k->failed = true;
		return false;
	}
	bool ok;
	if (k->tcp) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
		ok = len <= DNS_TCP_MSG_MAX && write_all(k->fd, hdr, 2) && write_all(k->fd, wire, len);
	} else {
		/* unsigned UDP answers stay small: never an amplifier */
		ok = (query_mac || len <= DNS_UDP_ANSWER_MAX) &&
		     sendto(k->fd, wire, len, 0, (const struct sockaddr *)k->peer, k->peerlen) ==
		         (ssize_t)len;
	}
	free(wire);
	if (!ok)
		k->failed = true;
	return ok;
}

/* A response skeleton for query q. */
static ldns_pkt *
answer_new(const ldns_pkt *q, ldns_pkt_rcode rcode, bool aa)
{
	ldns_pkt *p = ldns_pkt_new();
	if (!p)
		return NULL;
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_set_aa(p, aa);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_rr_list *ql = ldns_pkt_question(q);
	if (ql && ldns_rr_list_rr_count(ql) == 1)
		ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(ql, 0)));
	return p;
}

static void
reply_rcode(struct sink *k, const ldns_pkt *q, ldns_pkt_rcode rcode, const struct zone *z,
            const ldns_rdf *qmac)
{
	ldns_pkt *p = answer_new(q, rcode, false);
	if (p) {
		send_pkt(k, p, z, qmac, NULL, NULL);
		ldns_pkt_free(p);
	}
}

/* A multi-message transfer answer being written. */
struct xfr {
	struct sink *k;
	const ldns_pkt *q;
	const struct zone *z;
	uint64_t serial;                   /* the SOA position the answer is exact at */
	const ldns_rdf *qmac;
	ldns_rdf *prev_mac;
	ldns_pkt *cur;
	size_t bytes;
	size_t rrs, msgs;
};

static bool
xfr_flush(struct xfr *x)
{
	if (!x->cur)
		return true;
	ldns_rdf *mac = NULL;
	bool ok = send_pkt(x->k, x->cur, x->z, x->qmac, x->prev_mac, &mac);
	ldns_pkt_free(x->cur);
	x->cur = NULL;
	x->bytes = 0;
	x->msgs++;
	if (x->prev_mac)
		ldns_rdf_deep_free(x->prev_mac);
	x->prev_mac = mac;
	return ok;
}

/* Adds rr (taken) to the answer, sending a message when it is full. */
static bool
xfr_push(struct xfr *x, ldns_rr *rr)
{
	if (!rr || x->k->failed) {
		ldns_rr_free(rr);
		x->k->failed = true;
		return false;
	}
	size_t sz = ldns_rr_uncompressed_size(rr);
	if (x->cur && x->bytes + sz > DNS_XFR_MSG_TARGET && !xfr_flush(x)) {
		ldns_rr_free(rr);
		return false;
	}
	if (!x->cur) {
		/* every message repeats the question (RFC 5936 §2.2.1 allows it) */
		x->cur = answer_new(x->q, LDNS_RCODE_NOERROR, true);
		if (!x->cur) {
			ldns_rr_free(rr);
			x->k->failed = true;
			return false;
		}
	}
	ldns_pkt_push_rr(x->cur, LDNS_SECTION_ANSWER, rr);
	x->bytes += sz;
	x->rrs++;
	return true;
}

static enum tcerr
xfr_trigger_cb(void *ctx, const char *name, bool wild)
{
	struct xfr *x = ctx;
	if (!xfr_push(x, trigger_rr(x->z, name, false)))
		return TC_EIO;
	if (wild && !xfr_push(x, trigger_rr(x->z, name, true)))
		return TC_EIO;
	return TC_OK;
}

static void
log_transfer(const char *type, const struct zone *z, const struct sockaddr_storage *peer,
             uint64_t from, const struct xfr *x)
{
	char a[80];
	addr_text(peer, a, sizeof a);
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "rpz transfer");
	log_str(&l, "zone", z->cz->name);
	log_str(&l, "type", type);
	log_str(&l, "client", a);
	if (from != UINT64_MAX)
		log_int(&l, "from_serial", (int64_t)rpz_serial(from));
	log_int(&l, "serial", (int64_t)rpz_serial(x->serial));
	log_int(&l, "rrs", (int64_t)x->rrs);
	log_int(&l, "messages", (int64_t)x->msgs);
	log_bool(&l, "complete", !x->k->failed);
	log_end(&l);
}

/* AXFR (RFC 5936), or the whole zone for an IXFR (RFC 1995 §4), from a
 * frozen copy of the zone taken at position serial. */
static void
answer_full(struct sink *k, const ldns_pkt *q, const struct zone *z, const ldns_rdf *qmac,
            const char *type, uint64_t from, const struct rpz_frozen *fz, uint64_t serial)
{
	struct xfr x = { .k = k, .q = q, .z = z, .qmac = qmac, .serial = serial };
	if (xfr_push(&x, soa_rr_at(z, serial)) && xfr_push(&x, ns_rr(z)) &&
	    rpz_frozen_each(fz, xfr_trigger_cb, &x) == TC_OK)
		xfr_push(&x, soa_rr_at(z, serial));
	xfr_flush(&x);
	if (x.prev_mac)
		ldns_rdf_deep_free(x.prev_mac);
	log_transfer(type, z, k->peer, from, &x);
}

/* A whole-zone answer written by a thread of its own, so that the DNS
 * thread goes on following the log, notifying and answering meanwhile. */
struct xfr_job {
	struct dns_server *s;
	const struct zone *z;
	int fd;
	size_t slot;
	struct sockaddr_storage peer;
	ldns_pkt *q;
	ldns_rdf *qmac;
	struct rpz_frozen *fz;
	uint64_t serial, from;
	const char *type;
};

static void *
xfr_thread(void *arg)
{
	struct xfr_job *j = arg;
	struct sink k = { .s = j->s, .tcp = true, .fd = j->fd, .peer = &j->peer,
		          .peerlen = sa_len(&j->peer) };
	answer_full(&k, j->q, j->z, j->qmac, j->type, j->from, j->fz, j->serial);
	struct dns_server *s = j->s;
	pthread_mutex_lock(&s->xmu);
	close(j->fd);
	s->xfds[j->slot] = -1;
	s->nxfr--;
	pthread_cond_broadcast(&s->xcv);
	pthread_mutex_unlock(&s->xmu);
	ldns_pkt_free(j->q);
	if (j->qmac)
		ldns_rdf_deep_free(j->qmac);
	rpz_frozen_free(j->fz);
	free(j);
	return NULL;
}

/* Starts the whole-zone answer to q on k's TCP connection in a transfer
 * thread, which takes the connection (k->detached). At most
 * DNS_XFR_THREADS_MAX at once: past it, SERVFAIL (the secondary retries). */
static void
start_full(struct dns_server *s, struct sink *k, const ldns_pkt *q, const struct zone *z,
           const ldns_rdf *qmac, const char *type, uint64_t from)
{
	struct xfr_job *j = calloc(1, sizeof *j);
	pthread_attr_t attr;
	bool started = false;
	if (!j)
		goto fail;
	*j = (struct xfr_job){ .s = s, .z = z, .fd = k->fd, .peer = *k->peer, .type = type,
		               .from = from, .serial = rpz_zone_serial_position(z->rz) };
	j->q = ldns_pkt_clone(q);
	j->qmac = qmac ? ldns_rdf_clone(qmac) : NULL;
	if (!j->q || (qmac && !j->qmac) || rpz_zone_freeze(z->rz, &j->fz) != TC_OK)
		goto fail;
	pthread_mutex_lock(&s->xmu);
	if (s->nxfr < DNS_XFR_THREADS_MAX) {
		for (j->slot = 0; s->xfds[j->slot] >= 0; j->slot++)
			;
		s->xfds[j->slot] = j->fd;
		s->nxfr++;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&t, &attr, xfr_thread, j) == 0;
		pthread_attr_destroy(&attr);
		if (!started) {
			s->xfds[j->slot] = -1;
			s->nxfr--;
		}
	}
	pthread_mutex_unlock(&s->xmu);
	if (started) {
		k->detached = true;
		return;
	}
fail:
	log_simple(CONF_LOG_WARN, "dns: no transfer thread free; answered SERVFAIL");
	if (j) {
		if (j->q)
			ldns_pkt_free(j->q);
		if (j->qmac)
			ldns_rdf_deep_free(j->qmac);
		rpz_frozen_free(j->fz);
		free(j);
	}
	reply_rcode(k, q, LDNS_RCODE_SERVFAIL, z, qmac);
}

/* IXFR (RFC 1995 §4): SOA(new), then for each change a difference
 * sequence SOA(old) [deleted RRs] SOA(new) [added RRs], then SOA(new). */
static void
answer_ixfr(struct sink *k, const ldns_pkt *q, const struct zone *z, const ldns_rdf *qmac,
            uint64_t from)
{
	const struct rpz_change *ch;
	size_t n;
	if (from == UINT64_MAX || rpz_zone_since(z->rz, from, &ch, &n) != TC_OK) {
		metrics_dns(MD_IXFR_FULL);
		start_full(k->s, k, q, z, qmac, "ixfr-full", from);
		return;
	}
	metrics_dns(MD_IXFR);
	uint64_t serial = rpz_zone_serial_position(z->rz), prev = from;
	struct xfr x = { .k = k, .q = q, .z = z, .qmac = qmac, .serial = serial };
	bool ok = xfr_push(&x, soa_rr(z));
	for (size_t i = 0; ok && i < n; i++) {
		uint64_t to = i + 1 == n ? serial : ch[i].pos;
		ok = xfr_push(&x, soa_rr_at(z, prev));
		if (ok && !ch[i].add)
			ok = xfr_trigger_cb(&x, ch[i].name, ch[i].wild) == TC_OK;
		ok = ok && xfr_push(&x, soa_rr_at(z, to));
		if (ok && ch[i].add)
			ok = xfr_trigger_cb(&x, ch[i].name, ch[i].wild) == TC_OK;
		prev = to;
	}
	if (ok && n)
		xfr_push(&x, soa_rr(z));
	xfr_flush(&x);
	if (x.prev_mac)
		ldns_rdf_deep_free(x.prev_mac);
	log_transfer("ixfr", z, k->peer, from, &x);
}

/* A lookup in the zone: SOA and NS at the apex, a trigger's CNAME,
 * NXDOMAIN otherwise (with the SOA for negative caching). rel is the
 * name relative to the origin ("" for the apex). */
static void
answer_query(struct sink *k, const ldns_pkt *q, const struct zone *z, const ldns_rdf *qmac,
             const char *rel, ldns_rr_type qt)
{
	ldns_pkt *p = answer_new(q, LDNS_RCODE_NOERROR, true);
	if (!p)
		return;
	if (!rel[0]) {
		if (qt == LDNS_RR_TYPE_SOA || qt == LDNS_RR_TYPE_ANY)
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa_rr(z));
		else if (qt == LDNS_RR_TYPE_NS)
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ns_rr(z));
		else
			ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa_rr(z));
	} else {
		bool wild = false, star = false;
		bool found = rpz_zone_find(z->rz, rel, &wild);
		if (!found && rel[0] == '*' && rel[1] == '.') {
			found = rpz_zone_find(z->rz, rel + 2, &wild) && wild;
			star = true;
		}
		ldns_rr *rr = found ? trigger_rr(z, star ? rel + 2 : rel, star) : NULL;
		if (rr) {
			ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
		} else {
			ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
			ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa_rr(z));
		}
	}
	send_pkt(k, p, z, qmac, NULL, NULL);
	ldns_pkt_free(p);
}

/* The zone whose origin is name or its closest ancestor (zones may nest:
 * the longest origin wins). OUT: rel. */
static struct zone *
zone_of(struct dns_server *s, const char *name, char rel[RPZ_NAME_MAX])
{
	struct zone *best = NULL;
	char tmp[RPZ_NAME_MAX];
	for (size_t i = 0; i < s->nzones; i++)
		if (rpz_relative(name, s->zones[i].origin_text, tmp) &&
		    (!best || strlen(s->zones[i].origin_text) > strlen(best->origin_text))) {
			best = &s->zones[i];
			memcpy(rel, tmp, sizeof tmp);
		}
	return best;
}

/* Handles one request (wire, len) from k->peer: parse (lib/rpz
 * rpz_request_parse), find the zone, check the ACL, TSIG and transport,
 * answer. What ldns refuses gets no answer over UDP (no reflection of
 * garbage) and closes a TCP connection. Returns false when a TCP
 * connection should close. */
static bool
dns_handle(struct dns_server *s, struct sink *k, const uint8_t *wire, size_t len)
{
	struct rpz_request r;
	struct diag d;
	char rel[RPZ_NAME_MAX];
	bool keep = true;
	metrics_dns(MD_QUERY);
	if (rpz_request_parse(slice_make((const char *)wire, len), &r, &d))
		return false;
	const ldns_pkt *q = r.pkt;
	if (r.response) {
		/* a secondary acknowledging our NOTIFY (only over UDP: that is how we send it) */
		if (!k->tcp && r.opcode == LDNS_PACKET_NOTIFY)
			notify_answered(s, k->peer, ldns_pkt_id(r.pkt));
		goto out;
	}
	if (r.opcode != LDNS_PACKET_QUERY || !r.one_question) {
		metrics_dns(MD_REFUSED_ZONE);
		if (k->tcp || rate_ok(s, k->peer))
			reply_rcode(k, q, r.opcode != LDNS_PACKET_QUERY ? LDNS_RCODE_NOTIMPL
			                                                : LDNS_RCODE_FORMERR,
			            NULL, NULL);
		goto out;
	}
	ldns_rr_type qt = r.qtype;
	struct zone *z = zone_of(s, r.qname, rel);
	if (!z || r.qclass != LDNS_RR_CLASS_IN) {
		metrics_dns(MD_REFUSED_ZONE);
		if (k->tcp || rate_ok(s, k->peer))
			reply_rcode(k, q, LDNS_RCODE_REFUSED, NULL, NULL);
		goto out;
	}
	if (!acl_match(z->acl, z->nacl, k->peer)) {
		metrics_dns(MD_REFUSED_ACL);
		if (k->tcp || rate_ok(s, k->peer))
			reply_rcode(k, q, LDNS_RCODE_REFUSED, NULL, NULL);
		keep = false;
		goto out;
	}
	/* TSIG (RFC 8945): a signed request must verify with the zone's key */
	const ldns_rdf *qmac = NULL;
	if (r.tsig) {
		if (strcmp(r.tsig_key, z->tsig_key) != 0 ||
		    !ldns_pkt_tsig_verify(r.pkt, wire, len, z->tsig_key, z->tsig_secret, NULL)) {
			metrics_dns(MD_REFUSED_TSIG);
			char a[80];
			addr_text(k->peer, a, sizeof a);
			struct logline l;
			log_begin(&l, CONF_LOG_WARN, "dns: TSIG verification failed");
			log_str(&l, "zone", z->cz->name);
			log_str(&l, "client", a);
			log_end(&l);
			if (k->tcp || rate_ok(s, k->peer))
				reply_rcode(k, q, LDNS_RCODE_NOTAUTH, NULL, NULL);
			keep = false;
			goto out;
		}
		qmac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	}
	if (qt == LDNS_RR_TYPE_AXFR || qt == LDNS_RR_TYPE_IXFR) {
		if (!k->tcp && qt == LDNS_RR_TYPE_AXFR) {
			metrics_dns(MD_REFUSED_UDP);
			if (qmac || rate_ok(s, k->peer))
				reply_rcode(k, q, LDNS_RCODE_REFUSED, z, qmac);
			goto out;
		}
		if (!qmac && !acl_match(z->unsigned_acl, z->nunsigned, k->peer)) {
			metrics_dns(MD_REFUSED_TSIG);
			if (k->tcp || rate_ok(s, k->peer))
				reply_rcode(k, q, LDNS_RCODE_REFUSED, NULL, NULL);
			keep = false;
			goto out;
		}
		if (!k->tcp) {
			/* RFC 1995 §2: over UDP, IXFR answers with the current SOA
			 * only, and the client comes back over TCP */
			if (!qmac && !rate_ok(s, k->peer)) {
				metrics_dns(MD_RATE_LIMITED);
				goto out;
			}
			ldns_pkt *p = answer_new(q, LDNS_RCODE_NOERROR, true);
			if (p) {
				ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa_rr(z));
				send_pkt(k, p, z, qmac, NULL, NULL);
				ldns_pkt_free(p);
			}
			goto out;
		}
		if (qt == LDNS_RR_TYPE_AXFR) {
			metrics_dns(MD_AXFR);
			start_full(s, k, q, z, qmac, "axfr", UINT64_MAX);
			goto out;
		}
		answer_ixfr(k, q, z, qmac, r.has_serial ? rpz_serial_position(z->rz, r.serial)
		                                        : UINT64_MAX);
		goto out;
	}
	if (!k->tcp && !qmac && !rate_ok(s, k->peer)) {
		metrics_dns(MD_RATE_LIMITED);
		goto out;
	}
	answer_query(k, q, z, qmac, rel, qt);
out:
	rpz_request_free(&r);
	return keep && !k->failed && !k->detached;
}

/* Sends NOTIFY (RFC 1996) with id to z's secondary i, signed with the
 * zone's key (unless the secondary is in allow_unsigned_transfer: one
 * that cannot sign cannot verify either, and Unbound answers a signed
 * NOTIFY with FORMERR), from the server's own UDP socket (secondaries
 * match the source address against their primary). */
static void
notify_send(struct dns_server *s, struct zone *z, size_t i, uint16_t id)
{
	ldns_pkt *p = ldns_pkt_new();
	if (!p)
		return;
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_opcode(p, LDNS_PACKET_NOTIFY);
	ldns_pkt_set_aa(p, true);
	ldns_rr *qr = ldns_rr_new();
	if (qr) {
		ldns_rr_set_owner(qr, ldns_rdf_clone(z->origin));
		ldns_rr_set_type(qr, LDNS_RR_TYPE_SOA);
		ldns_rr_set_class(qr, LDNS_RR_CLASS_IN);
		ldns_rr_set_question(qr, true);
		ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qr);
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, soa_rr(z));
	uint8_t *wire = NULL;
	size_t len = 0;
	bool sign = !acl_match(z->unsigned_acl, z->nunsigned, &z->notify[i]);
	if ((!sign || ldns_pkt_tsig_sign(p, z->tsig_key, z->tsig_secret, DNS_TSIG_FUDGE,
	                                 DNS_TSIG_ALG, NULL) == LDNS_STATUS_OK) &&
	    ldns_pkt2wire(&wire, p, &len) == LDNS_STATUS_OK &&
	    sendto(s->udp, wire, len, 0, (const struct sockaddr *)&z->notify[i], z->notify_len[i]) ==
	        (ssize_t)len) {
		metrics_dns(MD_NOTIFY);
	} else {
		char a[80];
		addr_text(&z->notify[i], a, sizeof a);
		struct logline l;
		log_begin(&l, CONF_LOG_WARN, "dns: NOTIFY not sent");
		log_str(&l, "zone", z->cz->name);
		log_str(&l, "to", a);
		log_str(&l, "error", strerror(errno));
		log_end(&l);
	}
	free(wire);
	ldns_pkt_free(p);
}

/* NOTIFY to each of z's secondaries, each retried (RFC 1996 §3.6) until
 * it answers or DNS_NOTIFY_TRIES were sent. */
static void
notify_zone(struct dns_server *s, struct zone *z)
{
	int64_t now = ts_now_us();
	for (size_t i = 0; i < z->nnotify; i++) {
		uint16_t id;
		if (getrandom(&id, sizeof id, 0) != sizeof id)
			id = (uint16_t)now;
		z->pend[i] = (struct notify_pending){ true, id, 1, now + DNS_NOTIFY_RETRY_US };
		notify_send(s, z, i, id);
	}
}

/* Resends the NOTIFYs not answered in time; returns the microseconds
 * until the next resend is due (INT64_MAX: none). */
static int64_t
notify_retry(struct dns_server *s)
{
	int64_t now = ts_now_us(), next = INT64_MAX;
	for (size_t k = 0; k < s->nzones; k++) {
		struct zone *z = &s->zones[k];
		for (size_t i = 0; i < z->nnotify; i++) {
			struct notify_pending *p = &z->pend[i];
			if (!p->active)
				continue;
			if (now >= p->next_us) {
				if (p->tries >= DNS_NOTIFY_TRIES) {
					char a[80];
					addr_text(&z->notify[i], a, sizeof a);
					struct logline l;
					log_begin(&l, CONF_LOG_WARN,
					          "dns: a secondary did not answer NOTIFY; it catches up at "
					          "its SOA refresh");
					log_str(&l, "zone", z->cz->name);
					log_str(&l, "to", a);
					log_end(&l);
					p->active = false;
					continue;
				}
				notify_send(s, z, i, p->id);
				p->next_us = now + (DNS_NOTIFY_RETRY_US << p->tries);
				p->tries++;
			}
			if (p->next_us - now < next)
				next = p->next_us - now;
		}
	}
	return next;
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* A secondary's answer to our NOTIFY: no more resends to it. */
static void
notify_answered(struct dns_server *s, const struct sockaddr_storage *peer, uint16_t id)
{
	for (size_t k = 0; k < s->nzones; k++) {
		struct zone *z = &s->zones[k];
		for (size_t i = 0; i < z->nnotify; i++)
			if (z->pend[i].active && z->pend[i].id == id && same_addr(&z->notify[i], peer))
				z->pend[i].active = false;
	}
}

/* ------------------------------------------------------------ the loop */

static void
udp_read(struct dns_server *s)
{
	uint8_t buf[DNS_UDP_MAX];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		ssize_t n = recvfrom(s->udp, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return;
		struct sink k = { .s = s, .tcp = false, .fd = s->udp, .peer = &peer, .peerlen = pl };
		dns_handle(s, &k, buf, (size_t)n);
	}
}

static void
conn_close(struct dns_server *s, size_t i)
{
	if (!s->conns[i].detached)
		close(s->conns[i].fd);
	free(s->conns[i].buf);
	s->conns[i] = s->conns[--s->nconns];
}

static void
tcp_accept(struct dns_server *s)
{
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	int fd = accept4(s->tcp, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->nconns >= s->app->conf->dns_tcp_clients) {
		close(fd); /* bounded: the oldest keep their slots */
		return;
	}
	/* a slot only for an address some zone allows: nobody else can hold
	 * the secondaries' connections */
	bool allowed = false;
	for (size_t i = 0; i < s->nzones && !allowed; i++)
		allowed = acl_match(s->zones[i].acl, s->zones[i].nacl, &peer);
	if (!allowed) {
		metrics_dns(MD_REFUSED_ACL);
		close(fd);
		return;
	}
	struct timeval tv = { .tv_sec = (time_t)s->app->conf->dns_tcp_idle_timeout };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	uint8_t *buf = malloc(2 + DNS_TCP_MSG_MAX);
	if (!buf) {
		close(fd);
		return;
	}
	s->conns[s->nconns++] = (struct tcpconn){ fd, peer, buf, 0, ts_now_us(), 0, false };
}

/* Reads what conn i has; handles each complete message. Returns false
 * when the connection is to be closed. */
static bool
tcp_read(struct dns_server *s, size_t i)
{
	struct tcpconn *c = &s->conns[i];
	ssize_t n = recv(c->fd, c->buf + c->have, 2 + DNS_TCP_MSG_MAX - c->have, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	if (n < 0)
		return true;
	if (!c->have)
		c->msg_us = ts_now_us();
	c->have += (size_t)n;
	c->last_us = ts_now_us();
	while (c->have >= 2) {
		size_t mlen = (size_t)c->buf[0] << 8 | c->buf[1];
		if (mlen < LDNS_HEADER_SIZE)
			return false;
		if (c->have < 2 + mlen)
			break;
		struct sink k = { .s = s, .tcp = true, .fd = c->fd, .peer = &c->peer,
			          .peerlen = sa_len(&c->peer) };
		if (!dns_handle(s, &k, c->buf + 2, mlen)) {
			c->detached = k.detached;
			return false;
		}
		memmove(c->buf, c->buf + 2 + mlen, c->have - 2 - mlen);
		c->have -= 2 + mlen;
		c->msg_us = c->last_us;
	}
	return true;
}

static void *
dns_thread(void *arg)
{
	struct dns_server *s = arg;
	size_t maxfds = 3 + s->app->conf->dns_tcp_clients;
	struct pollfd *pfd = calloc(maxfds, sizeof *pfd);
	if (!pfd) {
		log_simple(CONF_LOG_ERROR, "dns: out of memory; the DNS server stops");
		return NULL;
	}
	/* the zones load here, not in dns_start: tocsind serves TAXII meanwhile,
	 * and DNS requests wait in the sockets' queues */
	for (size_t i = 0; i < s->nzones; i++) {
		struct diag d;
		if (zone_load(s, &s->zones[i], &d))
			log_error("rpz: loading the zone failed; it stays empty until the next change",
			          d.msg);
	}
	s->seen_end = 0;
	while (!atomic_load(&s->stop)) {
		size_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = s->wake, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->udp, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->tcp, .events = POLLIN };
		for (size_t i = 0; i < s->nconns; i++)
			pfd[n++] = (struct pollfd){ .fd = s->conns[i].fd, .events = POLLIN };
		int64_t due = notify_retry(s);
		int timeout = due / 1000 < DNS_POLL_MS ? (int)(due / 1000) + 1 : DNS_POLL_MS;
		int r = poll(pfd, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			if (read(s->wake, &v, sizeof v) < 0 && errno != EAGAIN)
				break;
		}
		if (atomic_load(&s->stop))
			break;
		/* the log first: a change reaches secondaries before more queries */
		zones_refresh(s);
		if (pfd[1].revents & POLLIN)
			udp_read(s);
		/* connections polled this round, newest last; closing swaps in
		 * the last one, so walk backwards */
		size_t polled = n - 3;
		for (size_t i = polled; i-- > 0;) {
			if (i >= s->nconns)
				continue;
			short re = pfd[3 + i].revents;
			bool keep = true;
			if (re & (POLLIN | POLLHUP | POLLERR))
				keep = tcp_read(s, i);
			/* idle, or a message trickling in (a byte now and then
			 * never makes a connection idle) */
			int64_t now = ts_now_us(), idle = (int64_t)s->app->conf->dns_tcp_idle_timeout * 1000000;
			if (keep && (now - s->conns[i].last_us > idle ||
			             (s->conns[i].have && now - s->conns[i].msg_us > idle)))
				keep = false;
			if (!keep)
				conn_close(s, i);
		}
		if (pfd[2].revents & POLLIN)
			tcp_accept(s);
	}
	free(pfd);
	return NULL;
}

/* ------------------------------------------------------- start and stop */

static enum tcerr
zone_init(struct dns_server *s, struct zone *z, const struct conf_rpz *c, struct diag *d)
{
	enum tcerr rc;
	z->cz = c;
	snprintf(z->origin_text, sizeof z->origin_text, "%s", c->origin);
	z->origin = ldns_dname_new_frm_str(c->origin);
	if (!z->origin)
		return diag_set(d, TC_EINVAL, "[rpz %s]: origin %s is not a domain name", c->name,
		                c->origin);
	const char *target = strcmp(c->action, "nxdomain") == 0 ? "."
	                     : strcmp(c->action, "nodata") == 0 ? "*."
	                                                          : c->action + 6;
	z->action = ldns_dname_new_frm_str(target);
	if (!z->action)
		return diag_set(d, TC_EINVAL, "[rpz %s]: action: bad target", c->name);
	if ((rc = conf_cidr_list_parse(c->allow, z->acl, CONF_RPZ_ACL_MAX, &z->nacl, d)) ||
	    (rc = conf_cidr_list_parse(c->allow_unsigned_transfer, z->unsigned_acl,
	                               CONF_RPZ_ACL_MAX, &z->nunsigned, d))) {
		diag_prefix(d, "[rpz %s]", c->name);
		return rc;
	}
	struct slice rest = slice_from_cstr(c->notify), w;
	while (conf_list_next(&rest, &w) && z->nnotify < CONF_RPZ_NOTIFY_MAX) {
		char tmp[CONF_ADDR_MAX];
		snprintf(tmp, sizeof tmp, "%.*s", (int)w.len, w.p);
		if ((rc = conf_addr_parse(tmp, &z->notify[z->nnotify], &z->notify_len[z->nnotify], d)))
			return rc;
		z->nnotify++;
	}
	/* ldns compares the key name as a domain name: give it the final dot */
	snprintf(z->tsig_key, sizeof z->tsig_key, "%s", c->tsig_key);
	if ((rc = conf_tsig_secret_read(c->tsig_secret_file, z->tsig_secret, d)))
		return rc;
	feed_filter_init(&z->filter);
	rest = slice_from_cstr(c->kinds);
	while (conf_list_next(&rest, &w))
		if ((rc = feed_filter_set(&z->filter, s->store, "kind", w, d)))
			return rc;
	rest = slice_from_cstr(c->collections);
	while (conf_list_next(&rest, &w))
		if ((rc = feed_filter_set(&z->filter, s->store, "collection", w, d))) {
			diag_prefix(d, "[rpz %s] collections", c->name);
			return rc;
		}
	if (c->min_confidence) {
		char num[16];
		snprintf(num, sizeof num, "%u", c->min_confidence);
		if ((rc = feed_filter_set(&z->filter, s->store, "min_confidence",
		                          slice_from_cstr(num), d)))
			return rc;
	}
	if (c->tlp != TLP_NONE &&
	    (rc = feed_filter_set(&z->filter, s->store, "tlp", slice_from_cstr(stix_tlp_name(c->tlp)),
	                          d)))
		return rc;
	z->org_view = strncmp(c->view, "org:", 4) == 0;
	return rpz_zone_new(s->app->conf->dns_journal_max, &z->rz);
}

static int
listen_socket(int type, const struct sockaddr_storage *sa, socklen_t len, struct diag *d)
{
	int fd = socket(sa->ss_family, type | SOCK_CLOEXEC | (type == SOCK_DGRAM ? SOCK_NONBLOCK : 0), 0);
	int one = 1;
	if (fd < 0) {
		diag_set(d, TC_EIO, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)sa, len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		diag_set(d, TC_EIO, "[dns] listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

enum tcerr
dns_start(struct app *a, struct hub *hub, struct dns_server **out, struct diag *d)
{
	const struct conf *c = a->conf;
	struct sockaddr_storage sa;
	socklen_t salen;
	enum tcerr rc;
	*out = NULL;
	if (!c->dns_listen[0])
		return TC_OK;
	if ((rc = conf_addr_parse(c->dns_listen, &sa, &salen, d)))
		return rc;
	struct dns_server *s = calloc(1, sizeof *s);
	if (!s)
		return diag_set(d, TC_ENOMEM, "dns: out of memory");
	s->app = a;
	s->hub = hub;
	s->udp = s->tcp = s->wake = -1;
	pthread_mutex_init(&s->xmu, NULL);
	pthread_cond_init(&s->xcv, NULL);
	for (size_t i = 0; i < DNS_XFR_THREADS_MAX; i++)
		s->xfds[i] = -1;
	s->zones = calloc(c->nrpz ? c->nrpz : 1, sizeof *s->zones);
	s->conns = calloc(c->dns_tcp_clients, sizeof *s->conns);
	if (!s->zones || !s->conns) {
		rc = diag_set(d, TC_ENOMEM, "dns: out of memory");
		goto fail;
	}
	if ((rc = store_open(a->store_spec, &s->store, d)))
		goto fail;
	snapshot_refresh(s, false);
	for (size_t i = 0; i < c->nrpz; i++) {
		s->nzones++;
		if ((rc = zone_init(s, &s->zones[i], &c->rpz[i], d)))
			goto fail;
	}
	snapshot_refresh(s, true); /* the zones find their views' organisations */
	if ((s->udp = listen_socket(SOCK_DGRAM, &sa, salen, d)) < 0) {
		rc = TC_EIO;
		goto fail;
	}
	/* TCP on the UDP socket's port (it may have been 0: any free port) */
	struct sockaddr_storage bound;
	socklen_t bl = sizeof bound;
	getsockname(s->udp, (struct sockaddr *)&bound, &bl);
	if ((s->tcp = listen_socket(SOCK_STREAM, &bound, bl, d)) < 0) {
		rc = TC_EIO;
		goto fail;
	}
	if ((s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = diag_set(d, TC_EIO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&s->thread, NULL, dns_thread, s) != 0) {
		rc = diag_set(d, TC_EIO, "dns: cannot start the thread");
		goto fail;
	}
	s->started = true;
	char at[80];
	addr_text(&bound, at, sizeof at);
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, "dns listening");
	log_str(&l, "addr", at);
	log_int(&l, "zones", (int64_t)s->nzones);
	log_end(&l);
	*out = s;
	return TC_OK;
fail:
	dns_stop(s);
	return rc;
}

void
dns_log_moved(struct dns_server *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	if (write(s->wake, &one, sizeof one) < 0) {
		/* the counter is full: the thread is awake already */
	}
}

void
dns_stop(struct dns_server *s)
{
	if (!s)
		return;
	if (s->started) {
		atomic_store(&s->stop, true);
		dns_log_moved(s);
		pthread_join(s->thread, NULL);
	}
	/* transfers in flight: cut their connections, wait for their threads */
	pthread_mutex_lock(&s->xmu);
	for (size_t i = 0; i < DNS_XFR_THREADS_MAX; i++)
		if (s->xfds[i] >= 0)
			shutdown(s->xfds[i], SHUT_RDWR);
	while (s->nxfr)
		pthread_cond_wait(&s->xcv, &s->xmu);
	pthread_mutex_unlock(&s->xmu);
	pthread_mutex_destroy(&s->xmu);
	pthread_cond_destroy(&s->xcv);
	for (size_t i = 0; i < s->nconns; i++) {
		close(s->conns[i].fd);
		free(s->conns[i].buf);
	}
	for (size_t i = 0; i < s->nzones; i++) {
		struct zone *z = &s->zones[i];
		ldns_rdf_deep_free(z->origin);
		ldns_rdf_deep_free(z->action);
		feed_filter_reset(&z->filter);
		rpz_zone_free(z->rz);
		explicit_bzero(z->tsig_secret, sizeof z->tsig_secret);
	}
	if (s->udp >= 0)
		close(s->udp);
	if (s->tcp >= 0)
		close(s->tcp);
	if (s->wake >= 0)
		close(s->wake);
	if (s->snap)
		reg_snapshot_unref(s->snap);
	if (s->store)
		store_close(s->store);
	free(s->zones);
	free(s->conns);
	free(s);
}
