/*
 * hub_writer.h — the one writer thread of a hub, with group commit
 * (DESIGN §2.2): the daemon's (daemon/writer.c adapts it to the TAXII
 * server) and `tocsin import`'s.
 *
 * Request threads never write to the store themselves: they submit a
 * batch of hub_items (or a delete) and block until the writer has made it
 * durable. The writer takes everything queued, up to batch_max_objects
 * objects, hands it to the backend as ONE ingest call — one durable
 * transaction — and wakes each submitter with its own results. Under load
 * many POSTs share one fsync; alone, a POST waits for nothing but its own
 * transaction (plus batch_max_wait_us, 0 by default).
 *
 * The backend is a small table of functions: in the daemon hub_ingest_items
 * and hub_delete on the hub the writer thread owns; in tests, a fake. The
 * backend is only ever called from the writer thread.
 */
#ifndef TOCSIN_HUB_WRITER_H
#define TOCSIN_HUB_WRITER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"
#include "store/store.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct hub_writer;

struct hub_writer_backend {
	/* One durable transaction over n items. As hub_ingest_items. */
	enum tcerr (*ingest)(void *ctx, const struct hub_item *items, size_t n,
	                     struct hub_result *res, struct diag *d);
	/* As hub_delete. */
	enum tcerr (*remove)(void *ctx, const struct store_delete_q *q, store_delete_cb may,
	                     void *may_ctx, struct store_delete_out *out, struct diag *d);
	/* Called after each batch, on the writer thread (may be NULL): syncs
	 * the audit log, refreshes gauges. */
	void (*after_batch)(void *ctx);
	void *ctx;
	/* Called on the writer thread when it has had no work for
	 * hub_writer_cfg.tick_us (may be NULL): work the hub's clock asks
	 * for, such as removing expired decisions. Returns true when it
	 * changed the log (after_batch then follows). */
	bool (*tick)(void *ctx);
};

struct hub_writer_cfg {
	size_t batch_max_objects;      /* objects per transaction (a bigger single submission
	                                * still goes alone) */
	unsigned batch_max_wait_us;    /* how long to wait for more before committing */
	unsigned tick_us;              /* idle time between tick calls; 0: 250 ms */
};

/* Counters, read by /metrics without locks. */
struct hub_writer_stats {
	_Atomic uint64_t batches;          /* ingest transactions */
	_Atomic uint64_t submissions;      /* ingest submissions served */
	_Atomic uint64_t objects;          /* objects handed to ingest */
	_Atomic uint64_t accepted;         /* results HUB_ACCEPTED */
	_Atomic uint64_t deletes;
	_Atomic uint64_t max_seq;          /* greatest log position seen in results */
};

/* Starts the writer thread. OUT: *out. Errors: TC_ENOMEM, TC_EIO (no thread). */
enum tcerr hub_writer_start(const struct hub_writer_cfg *cfg, const struct hub_writer_backend *be,
                            struct hub_writer **out, struct diag *d);

/* Finishes every queued submission, stops the thread and frees w. Later
 * submissions are refused; call it once no request thread can submit. */
void hub_writer_stop(struct hub_writer *w);

/* Submits n items and blocks until they are durable or refused. OUT:
 * res[i]. Returns TC_OK when the batch was processed (see res), the
 * backend's error when it could not be (nothing stored), or TC_EBUSY
 * when the writer is stopping. Thread-safe. */
enum tcerr hub_writer_ingest(struct hub_writer *w, const struct hub_item *items, size_t n,
                             struct hub_result *res, struct diag *d);

/* Submits a delete and blocks until done; may is called on the writer
 * thread. As hub_delete, or TC_EBUSY. */
enum tcerr hub_writer_delete(struct hub_writer *w, const struct store_delete_q *q,
                             store_delete_cb may, void *may_ctx, struct store_delete_out *out,
                             struct diag *d);

const struct hub_writer_stats *hub_writer_stats(const struct hub_writer *w);

/* Submits n items without waiting: the caller goes on (parses the next
 * batch) while the writer commits these. items, the memory they point to
 * and res must stay valid and untouched until hub_writer_wait() returns.
 * Submissions are written in the order they are made. OUT: *job, to pass
 * to hub_writer_wait() exactly once. Errors: TC_ENOMEM, TC_EBUSY
 * (stopping); then nothing was queued. Thread-safe. */
struct hub_writer_job;
enum tcerr hub_writer_submit(struct hub_writer *w, const struct hub_item *items, size_t n,
                             struct hub_result *res, struct hub_writer_job **job,
                             struct diag *d);

/* Waits until job is durable or refused, and frees it. OUT: res as given
 * to hub_writer_submit. Returns as hub_writer_ingest. job NULL: TC_OK. */
enum tcerr hub_writer_wait(struct hub_writer *w, struct hub_writer_job *job, struct diag *d);

#endif
