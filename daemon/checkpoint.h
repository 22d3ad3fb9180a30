/*
 * checkpoint.h — the daemon's WAL checkpointer: a thread with its own
 * connection to the store that copies committed WAL pages into the
 * database every CHECKPOINT_INTERVAL_MS, so that the writer thread's
 * commits never stop to checkpoint (the writer's connection has automatic
 * checkpoints off: store_wal_autocheckpoint(store, 0)).
 */
#ifndef TOCSIN_DAEMON_CHECKPOINT_H
#define TOCSIN_DAEMON_CHECKPOINT_H

#include "util/diag.h"
#include "util/tcerr.h"

#define CHECKPOINT_INTERVAL_MS 100 /* between two passive checkpoints */

struct checkpointer;

/* Opens a connection to the store at spec and starts the thread. OUT:
 * *out. Errors: as store_checkpointer_open, TC_EIO (no thread). */
enum tcerr checkpointer_start(const char *spec, unsigned interval_ms, struct checkpointer **out,
                              struct diag *d);

/* Runs a last checkpoint, stops the thread and frees c (NULL: nothing). */
void checkpointer_stop(struct checkpointer *c);

#endif
