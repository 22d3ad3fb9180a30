/*
 * peers.h — tocsind's federation workers (issue 12, docs/peers.md): one
 * thread per peer in the registry replicates from it into this hub's
 * log, through the writer, under the peer's border policy.
 */
#ifndef TOCSIN_DAEMON_PEERS_H
#define TOCSIN_DAEMON_PEERS_H

#include <stdint.h>

#include "util/buf.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct app;
struct peers;

#define PEERS_RELOAD_MS 250          /* how often the registry's peers are looked at */
#define PEERS_BACKOFF_MIN_MS 50      /* first reconnect delay after a failure */
#define PEERS_STALL_S 45             /* no byte (not even a heartbeat) for this long: reconnect */
#define PEERS_BODY_MAX (64u << 20)   /* bytes of one TAXII page or discovery answer */
#define PEERS_ERROR_BODY_MAX 2048    /* bytes of an error answer kept for the message */
#define PEERS_RECV_BUFFER (512 * 1024) /* libcurl's receive buffer: catch-up chunks */
#define PEERS_TAXII_PAGE 1000        /* objects asked per TAXII page */
#define PEERS_SAVE_MS 100            /* the cursor is written at most this often while busy */
#define PEERS_POLL_MS 10             /* an idle stream's socket is looked at this often */
#define PEERS_PUSH_MAX 1000          /* versions POSTed to a TAXII peer at once */

/* Starts the manager thread (and a worker per peer). Errors: TC_ENOMEM,
 * TC_EIO (thread), TC_EDB. */
enum tcerr peers_start(struct app *a, struct peers **out, struct diag *d);
/* Stops every thread (a transfer in flight is abandoned) and frees p. NULL is fine. */
void peers_stop(struct peers *p);
/* The stream served n events to a principal of role peer of organisation
 * org (api_stream.c): counted as objects out of that peer. */
void peers_count_out(struct peers *p, int64_t org, uint64_t n);
/* Appends the peer metrics (Prometheus text) to out. NULL p: nothing. */
void peers_metrics(struct peers *p, struct buf *out);

#endif
