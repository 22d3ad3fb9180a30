/*
 * app.h — what every part of tocsind shares: the configuration, the
 * registry, the audit log, the writer, and the current registry snapshot.
 *
 * The snapshot is swapped on SIGHUP: app_snapshot_swap() installs a new
 * one under snap_mu and bumps snap_gen; request threads keep their own
 * reference (http.c) and take the new one when snap_gen moves, so the hot
 * path reads one atomic and an old snapshot lives until its last request
 * thread has moved on.
 */
#ifndef TOCSIN_DAEMON_APP_H
#define TOCSIN_DAEMON_APP_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "audit/audit.h"
#include "conf/conf.h"
#include "registry/registry.h"
#include "taxii/taxii_server.h"
#include "notify.h"
#include "writer.h"

struct hub;
struct stream_server;
struct reports;
struct coord_worker;

struct app {
	const struct conf *conf;
	const char *data_dir;
	char store_spec[PATH_MAX];      /* "DIR/tocsin.db": each request thread opens it */
	struct registry *registry;
	struct audit *audit;
	struct hub_writer *writer;
	struct taxii_writer tw;
	struct taxii_server_cfg tcfg;
	struct webhooks *webhooks;      /* delivery threads (webhooks.c); NULL until started */
	struct sources *sources;        /* the sources scheduler (sources.c); NULL if off */
	struct peers *peers;            /* federation workers (peers.c); NULL until started */
	struct hub *hub;                /* the writer's; other threads only call its thread-safe
	                                 * functions (hub_allowlist_get, hub_lookup_batch) */
	struct notify notify;           /* the writer's "the log moved" (notify.h) */
	struct stream_server *stream;   /* GET /api/v1/stream (api_stream.h) */
	struct reports *reports;        /* citizen reports (api_reports.h); NULL when off */
	struct coord_worker *coord;     /* routing rules, constituencies, escalation (coord.h) */

	pthread_mutex_t snap_mu;
	struct reg_snapshot *snap;      /* guarded by snap_mu; the app holds one reference */
	_Atomic uint64_t snap_gen;

	_Atomic uint64_t index_entries; /* refreshed by the writer after each batch */
	_Atomic uint64_t log_position0; /* at start; the writer's max_seq takes over */
	_Atomic uint64_t log_end;       /* the store's position after the writer's last change */
	_Atomic int inflight;           /* requests begun and not yet completed */
	_Atomic size_t body_bytes;      /* request bodies held in memory, all requests */
};

/* Installs snap (takes the caller's reference) and drops the old one. */
void app_snapshot_swap(struct app *a, struct reg_snapshot *snap);
/* A new reference to the current snapshot; the caller unrefs it. */
struct reg_snapshot *app_snapshot_get(struct app *a);
/* The hub's log position now. */
uint64_t app_log_position(struct app *a);

#endif
