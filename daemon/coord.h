/*
 * coord.h — tocsind's coordination worker (docs/coordination.md): one
 * thread that follows the log after the writer commits and, for every
 * committed indicator, applies the routing rules ([coord] routes) and the
 * constituencies (coord_plan), making the tasks they propose for the
 * organisations that may see the indicator; and that escalates overdue
 * tasks. It is woken by the writer's commit notification (notify.h) and
 * keeps its position in the registry (registry_coord_cursor_*), so a
 * restart resumes where it stopped and nothing is planned twice (tasks
 * carry de-duplication keys besides). A hub starting without a position
 * starts at the log's end: rules apply to what is committed from then on.
 */
#ifndef TOCSIN_DAEMON_COORD_H
#define TOCSIN_DAEMON_COORD_H

#include <stdatomic.h>
#include <stdint.h>

#include "app.h"
#include "util/buf.h"
#include "util/diag.h"

#define COORD_BATCH_ROWS 1000          /* log versions read per pass */
#define COORD_ROW_OBS_MAX 256          /* observables of one version planned for */
#define COORD_ESCALATE_MAX 1000        /* tasks escalated per pass */
#define COORD_WAIT_MS 1000             /* longest sleep without a commit */
#define COORD_MAIL_BATCH 100           /* notifications mailed per pass */
#define COORD_LOG_BATCH 100            /* task events mirrored into the log per pass */
#define COORD_MAIL_RETRY_US (30LL * 1000000)   /* after an SMTP failure */
#define COORD_MAIL_STALE_US (24LL * 3600 * 1000000) /* older events are not mailed */

struct coord_worker;

/* Loads the rules ([coord] routes, if set) and starts the thread. Errors:
 * TC_EIO, TC_EINVAL (the rules file: "FILE:LINE: ..."), TC_ENOMEM. */
enum tcerr coord_worker_start(struct app *a, struct coord_worker **out, struct diag *d);
/* Stops the thread and frees w (NULL: nothing). */
void coord_worker_stop(struct coord_worker *w);
/* Appends the worker's counters to out (Prometheus text). */
void coord_worker_metrics(struct coord_worker *w, struct buf *out);

#endif
