/*
 * dns.h — tocsind's authoritative DNS server for its RPZ zones ([dns],
 * [rpz NAME]; docs/dns.md).
 *
 * One thread of its own, with its own store connection, so that nothing
 * it does (a large AXFR, a flood of queries) can slow TAXII: it follows
 * the log (woken by dns_log_moved after each commit, and every
 * DNS_POLL_MS regardless), keeps each zone's triggers and journal in
 * memory (lib/rpz), answers SOA, AXFR and IXFR over TCP (a whole zone
 * from a thread of its own, so a large AXFR holds up nothing; UDP: SOA and
 * lookups only, small, rate-limited per source), sends NOTIFY to each
 * zone's secondaries after a change, and requires TSIG (HMAC-SHA256) for
 * transfers.
 */
#ifndef TOCSIN_DAEMON_DNS_H
#define TOCSIN_DAEMON_DNS_H

#include "app.h"
#include "hub/hub.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct dns_server;

/* Binds [dns] listen over UDP and TCP and starts the thread, which
 * first loads every [rpz] zone from the log (a snapshot each). Logs {"msg":"dns
 * listening","addr":...}. Errors: TC_EIO (bind), TC_EINVAL (a zone's
 * configuration that only the store can judge: an unknown collection),
 * TC_ENOMEM. Nothing runs when [dns] listen is off: *out = NULL, TC_OK. */
enum tcerr dns_start(struct app *a, struct hub *hub, struct dns_server **out, struct diag *d);

/* Wakes the DNS thread: the log moved. Any thread; s may be NULL. */
void dns_log_moved(struct dns_server *s);

/* Stops the thread and frees everything. s may be NULL. */
void dns_stop(struct dns_server *s);

#endif
