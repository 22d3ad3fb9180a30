/*
 * app.c — the shared state of tocsind: the registry snapshot swap and the
 * log position (see app.h). Invariant: a->snap always holds one reference
 * of its own; a snapshot handed out by app_snapshot_get() carries one
 * more, taken under snap_mu so it cannot be freed in between.
 */
#include "app.h"

void
app_snapshot_swap(struct app *a, struct reg_snapshot *snap)
{
	pthread_mutex_lock(&a->snap_mu);
	struct reg_snapshot *old = a->snap;
	a->snap = snap;
	atomic_fetch_add_explicit(&a->snap_gen, 1, memory_order_release);
	pthread_mutex_unlock(&a->snap_mu);
	if (old)
		reg_snapshot_unref(old);
}

struct reg_snapshot *
app_snapshot_get(struct app *a)
{
	pthread_mutex_lock(&a->snap_mu);
	struct reg_snapshot *s = a->snap;
	if (s)
		reg_snapshot_ref(s);
	pthread_mutex_unlock(&a->snap_mu);
	return s;
}

uint64_t
app_log_position(struct app *a)
{
	uint64_t p0 = atomic_load(&a->log_position0);
	uint64_t w = a->writer ? atomic_load(&hub_writer_stats(a->writer)->max_seq) : 0;
	uint64_t e = atomic_load(&a->log_end);
	if (e > w)
		w = e;
	return w > p0 ? w : p0;
}
