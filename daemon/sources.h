/*
 * sources.h — tocsind's scheduler of sources (docs/sources.md): one
 * thread that pulls each feed of the registry when it is due, or when
 * `tocsin source run` asked, and writes what it lists through the hub's
 * writer as the source's organisation.
 */
#ifndef TOCSIN_DAEMON_SOURCES_H
#define TOCSIN_DAEMON_SOURCES_H

#include "util/buf.h"
#include "util/diag.h"
#include "util/tcerr.h"

struct app;
struct sources;

#define SOURCES_POLL_MS 500        /* how often the registry's sources are looked at */

/* Starts the thread (nothing when [sources] enabled = false: *out NULL).
 * Errors: TC_ENOMEM, TC_EIO, TC_EDB. */
enum tcerr sources_start(struct app *a, struct sources **out, struct diag *d);
/* Abandons a pull in flight and stops the thread. NULL: nothing. */
void sources_stop(struct sources *s);
/* Appends the tocsin_source_* metrics. NULL: nothing. */
void sources_metrics(struct sources *s, struct buf *out);

#endif
