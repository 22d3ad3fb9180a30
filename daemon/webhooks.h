/*
 * webhooks.h — tocsind's webhook delivery: a small pool of threads that
 * POSTs each active subscription's events (lib/feed, judged for the
 * subscription's organisation) to its receiver, advancing the durable
 * cursor only after a 2xx (docs/webhooks.md).
 */
#ifndef TOCSIN_DAEMON_WEBHOOK_H
#define TOCSIN_DAEMON_WEBHOOK_H

#include "util/buf.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct app;
struct webhooks;

#define WEBHOOK_POLL_MS 100        /* how often the log position is looked at */
#define WEBHOOK_RELOAD_MS 250      /* how often the registry's subscriptions are */
#define WEBHOOK_LAG_SAMPLES 4096   /* (position, time) samples kept for lag in seconds */
#define WEBHOOK_DB_RETRY_MS 1000   /* a hub-side error (database) waits this long */

/* Starts conf->webhook_workers delivery threads over a's registry and
 * store. Errors: TC_ENOMEM, TC_EIO (thread), TC_EDB. */
enum tcerr webhooks_start(struct app *a, struct webhooks **out, struct diag *d);
/* Stops the threads (a delivery in flight ends at its timeout at the
 * latest) and frees w. NULL is fine. */
void webhooks_stop(struct webhooks *w);
/* Appends the webhook metrics (Prometheus text) to out. NULL w: nothing. */
void webhooks_metrics(struct webhooks *w, struct buf *out);

#endif
