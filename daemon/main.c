/*
 * main.c — tocsind, the TAXII 2.1 hub daemon: options, start-up, signals
 * and orderly shutdown.
 *
 * The main thread owns the process's signals: SIGHUP, SIGTERM and SIGINT
 * are blocked before any thread starts and taken here with sigtimedwait(),
 * so no handler ever runs inside a request thread. The registry snapshot
 * (keys, revocations, collections, rights) is rebuilt and swapped in when
 * the registry's generation moves (polled every REGISTRY_POLL_MS: the
 * CLI's changes apply within a second) and on SIGHUP; SIGTERM/SIGINT stop
 * accepting, let the requests in flight finish, drain the writer, close
 * the hub and exit 0. DIR/tocsind.pid is locked for the daemon's life:
 * a second tocsind on the same directory exits at once, naming the pid
 * of the first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "api_reports.h"
#include "conf/conf.h"
#include "feed/feed.h"
#include "feed/feed_confidence.h"
#include "hub/hub.h"
#include "hub/hub_lookup.h"
#include "http.h"
#include "log.h"
#include "taxii/taxii_jarena.h"
#include "api_indicators.h"
#include "registry/registry_fp.h"
#include "api_stream.h"
#include "checkpoint.h"
#include "dns.h"
#include "coord.h"
#include "peers.h"
#include "webhooks.h"
#include "sources.h"
#include "writer.h"

#define CURSOR_KEY_FILE "cursor.key"   /* 32 random bytes: HMAC key of TAXII next cursors */
#define PID_FILE "tocsind.pid"       /* locked while a tocsind serves the directory */
#define SECURE_DEPTH 3                 /* directory levels secure_data_dir() visits */
#define REGISTRY_POLL_MS 250           /* how often registry changes are looked for */
#define WRITER_TICK_US 250000          /* how often the writer maintains decisions */
#define EXIT_CONFIG 2

static const char usage[] =
	"usage: tocsind [--data DIR] [--config FILE] [--listen ADDR:PORT]\n"
	"               [--tls-listen ADDR:PORT] [--check]\n"
	"       tocsind --help | --version\n"
	"\n"
	"The tocsin hub daemon: TAXII 2.1 over HTTP(S) on the data directory DIR\n"
	"(default $TOCSIN_DATA, else ./var; create it with `tocsin init`); with\n"
	"[dns] listen in the configuration, RPZ zones over DNS too (docs/dns.md).\n"
	"\n"
	"  --data DIR            the hub's data directory\n"
	"  --config FILE         configuration file (see tocsind(8), etc/tocsind.conf)\n"
	"  --listen ADDR:PORT    plain HTTP listener (default 127.0.0.1:8480; port 0\n"
	"                        picks a free port; \"off\" disables it)\n"
	"  --tls-listen ADDR:PORT  HTTPS listener (needs tls_cert and tls_key)\n"
	"  --check               check the configuration, print the effective one, exit\n"
	"  --help                this text\n"
	"  --version             the version\n"
	"\n"
	"Signals: SIGHUP reloads keys, collections, rights and the allowlist (the\n"
	"allowlist is also re-read within a second of a change, and decisions\n"
	"follow it); SIGTERM or SIGINT finish the requests in flight and stop.\n";

/* The writer's backend: the hub, owned by the writer thread. */
struct backend {
	struct hub *hub;
	struct audit *audit;
	struct app *app;
	struct dns_server *dns;     /* woken after each commit; NULL without [dns] listen */
	int64_t allow_checked_us;   /* when DATA/allowlist.txt was last looked at */
	int64_t ticked_us;          /* when decisions were last maintained */
};

#define ALLOWLIST_CHECK_US 1000000 /* the allowlist file is looked at once a second */

/* Reloads the allowlist (hub_allowlist_reload) and logs what happened. */
static void
allowlist_reload(struct hub *hub, bool force)
{
	struct diag d;
	bool reloaded = false;
	diag_clear(&d);
	if (hub_allowlist_reload(hub, force, &reloaded, &d)) {
		log_error("allowlist reload failed; keeping the previous allowlist", d.msg);
		return;
	}
	if (reloaded) {
		struct allowlist *al = hub_allowlist_get(hub);
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "allowlist reloaded");
		log_int(&l, "entries", (int64_t)allowlist_count(al));
		log_end(&l);
		allowlist_free(al);
	}
}

/* The work the hub's clock asks for, on the writer thread: an edited
 * allowlist (tocsin allowlist add) is re-read within a second, and
 * decisions are judged against it again; decisions whose valid_until
 * passed are removed (hub_decisions_maintain). Returns true when the log
 * changed. */
static bool
be_maintain(struct backend *b, int64_t now)
{
	if (now - b->allow_checked_us >= ALLOWLIST_CHECK_US) {
		b->allow_checked_us = now;
		allowlist_reload(b->hub, false);
	}
	b->ticked_us = now;
	struct diag d;
	size_t events = 0;
	diag_clear(&d);
	if (hub_decisions_maintain(b->hub, now, &events, &d)) {
		log_error("decisions: maintenance failed; retrying at the next tick", d.msg);
		return false;
	}
	if (events) {
		struct logline l;
		log_begin(&l, CONF_LOG_DEBUG, "decisions maintained");
		log_int(&l, "events", (int64_t)events);
		log_end(&l);
	}
	return events > 0;
}

static bool
be_tick(void *ctx)
{
	return be_maintain(ctx, ts_now_us());
}

static enum tcerr
be_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res,
          struct diag *d)
{
	struct backend *b = ctx;
	/* under a steady load the writer is never idle: the tick's work is
	 * done between batches too */
	int64_t now = ts_now_us();
	if (now - b->ticked_us >= WRITER_TICK_US)
		be_maintain(b, now);
	return hub_ingest_items(b->hub, items, n, res, d);
}

static enum tcerr
be_remove(void *ctx, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
          struct store_delete_out *out, struct diag *d)
{
	struct backend *b = ctx;
	return hub_delete(b->hub, q, may, may_ctx, out, d);
}

static void
be_after(void *ctx)
{
	struct backend *b = ctx;
	struct diag d;
	/* the log's end: versions, tombstones and decision events alike */
	uint64_t pos = 0;
	if (store_position(hub_store(b->hub), &pos) == TC_OK)
		atomic_store(&b->app->log_end, pos);
	notify_commit(&b->app->notify); /* the batch is durable: wake the streams */
	dns_log_moved(b->dns);          /* and the RPZ zones */
	if (b->audit && audit_sync(b->audit, &d) != TC_OK)
		log_error("audit sync failed", d.msg);
	atomic_store(&b->app->index_entries, index_count(hub_index(b->hub)));
}

/* Reads DIR/cursor.key, creating it (0600) on first start, so next
 * cursors survive restarts. */
static enum tcerr
cursor_key(const char *dir, uint8_t key[32], struct diag *d)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, CURSOR_KEY_FILE);
	if (n < 0 || (size_t)n >= sizeof path)
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, key, 32);
		close(fd);
		if (r != 32)
			return diag_set(d, TC_ECORRUPT, "%s: expected 32 bytes", path);
		return TC_OK;
	}
	if (errno != ENOENT)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	if (getrandom(key, 32, 0) != 32)
		return diag_set(d, TC_EIO, "getrandom: %s", strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	ssize_t w = write(fd, key, 32);
	if (w != 32 || fsync(fd) != 0) {
		close(fd);
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	}
	close(fd);
	return TC_OK;
}

/* Takes DIR/tocsind.pid: an exclusive lock held for the process's life,
 * with this pid written in it. Two daemons on one directory would each
 * number the log and their positions would diverge, so the second one
 * stops at once and names the first. Returns the descriptor, or -1 with
 * d set. */
static int
pid_lock(const char *dir, struct diag *d)
{
	char path[PATH_MAX], buf[32];
	int n = snprintf(path, sizeof path, "%s/%s", dir, PID_FILE);
	if (n < 0 || (size_t)n >= sizeof path) {
		diag_set(d, TC_ELIMIT, "%s: path too long", dir);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		int e = errno;
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if ((e == EAGAIN || e == EACCES) && fcntl(fd, F_GETLK, &who) == 0 &&
		    who.l_type != F_UNLCK)
			diag_set(d, TC_EEXIST,
			         "another tocsind (pid %ld) is serving %s; stop it first (a second "
			         "daemon on one data directory would fork the log)",
			         (long)who.l_pid, dir);
		else
			diag_set(d, TC_EIO, "%s: cannot lock: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Gives every file under dir mode 0600 and every directory 0700 (down to
 * SECURE_DEPTH levels), logging each one it changed: a data directory
 * made by an older tocsin, or copied with cp, may hold databases that
 * anyone on the machine can read. Symbolic links are left alone. */
static void
log_tightened(const char *path, mode_t was, mode_t now)
{
	char w[8], n[8];
	snprintf(w, sizeof w, "%04o", (unsigned)(was & 07777));
	snprintf(n, sizeof n, "%04o", (unsigned)now);
	struct logline l;
	log_begin(&l, CONF_LOG_WARN, "tightened the mode of a data file");
	log_str(&l, "path", path);
	log_str(&l, "was", w);
	log_str(&l, "now", n);
	log_end(&l);
}

static void
secure_tree(int dfd, const char *name, int depth)
{
	DIR *dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		mode_t want = S_ISDIR(st.st_mode) ? 0700 : 0600;
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		if ((st.st_mode & 07777) != want) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/%s", name, e->d_name);
			if (fchmodat(dirfd(dir), e->d_name, want, 0) == 0)
				log_tightened(path, st.st_mode, want);
		}
		if (S_ISDIR(st.st_mode) && depth < SECURE_DEPTH) {
			int sub = openat(dirfd(dir), e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				char path[PATH_MAX];
				snprintf(path, sizeof path, "%s/%s", name, e->d_name);
				secure_tree(sub, path, depth + 1);
			}
		}
	}
	closedir(dir);
}

static void
secure_data_dir(const char *data)
{
	struct stat st;
	if (stat(data, &st) == 0 && (st.st_mode & 07777) != 0700 && chmod(data, 0700) == 0)
		log_tightened(data, st.st_mode, 0700);
	int fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		secure_tree(fd, data, 1);
}

static void
log_snapshot(const char *msg, const struct reg_snapshot *s)
{
	struct logline l;
	log_begin(&l, CONF_LOG_INFO, msg);
	log_int(&l, "organisations", (int64_t)reg_snapshot_norgs(s));
	log_int(&l, "principals", (int64_t)reg_snapshot_nprincipals(s));
	log_int(&l, "collections", (int64_t)reg_snapshot_ncollections(s));
	log_int(&l, "registry_api_roots", (int64_t)reg_snapshot_napi_roots(s));
	log_end(&l);
}

static int
fail(const char *what, const struct diag *d)
{
	log_error(what, d->msg);
	fprintf(stderr, "tocsind: %s: %s\n", what, d->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-listen", required_argument, NULL, 't' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct conf conf;
	const char *data = NULL, *config = NULL, *listen = NULL, *tls_listen = NULL;
	bool check = false;
	struct diag d;
	int ch, status = 1;

	/* before any JSON value exists: POST envelopes parse into a per-request arena */
	taxii_jarena_install();

	/* Every file and directory tocsind creates in the data directory
	 * (databases, their -wal and -shm, keys, logs) is its own alone,
	 * whatever umask it was started with. */
	umask(077);
	/* Large allocations (big request bodies and their compacted copies)
	 * come from mmap and go back to the system when freed: with glibc's
	 * default the threshold rises after each large free, and a few large
	 * bodies would stay in the heap, RSS never falling. Below it, the
	 * heap serves (a lower threshold made every 1 MiB parse arena an
	 * mmap, munmap and page faults: a fifth of POST's CPU), and keeps up
	 * to HTTP_TRIM_THRESHOLD free for the next request. */
	mallopt(M_MMAP_THRESHOLD, HTTP_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, HTTP_TRIM_THRESHOLD);

	while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': data = optarg; break;
		case 'c': config = optarg; break;
		case 'l': listen = optarg; break;
		case 't': tls_listen = optarg; break;
		case 'k': check = true; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("tocsind %s\n", TOCSIN_VERSION); return 0;
		default: fputs(usage, stderr); return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tocsind: unexpected argument \"%s\"\n%s", argv[optind], usage);
		return EXIT_CONFIG;
	}

	/* Configuration: defaults, then the file, then the options. */
	conf_defaults(&conf);
	diag_clear(&d);
	if ((config && conf_load(&conf, config, &d)) ||
	    (listen && conf_set(&conf, "server", "listen", slice_from_cstr(listen), "--listen", &d)) ||
	    (tls_listen && conf_set(&conf, "server", "tls_listen", slice_from_cstr(tls_listen),
	                            "--tls-listen", &d)) ||
	    conf_check(&conf, &d) || http_tls_check(&conf, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return EXIT_CONFIG;
	}
	data = hub_default_dir(data);
	if (check && hub_check_dir(data, &d)) {
		fprintf(stderr, "tocsind: %s\n", d.msg);
		return EXIT_CONFIG;
	}
	if (check) {
		struct buf out;
		buf_init(&out, 0);
		buf_printf(&out, "# tocsind %s: configuration OK (data directory %s)\n\n",
		           TOCSIN_VERSION, data);
		conf_print(&conf, &out);
		if (buf_error(&out))
			return 1;
		fputs(out.p, stdout);
		buf_reset(&out);
		return 0;
	}
	log_set_level(conf.log_level);

	/* Signals belong to this thread only: block them before any thread starts. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	static struct app app;
	struct hub *hub = NULL;
	struct checkpointer *ckpt = NULL;
	struct store *ctl = NULL;          /* this thread's store connection, for snapshots */
	struct reg_snapshot *snap = NULL;
	struct http_server *srv = NULL;
	struct dns_server *dns = NULL;
	struct backend be = { 0 };
	int lock_fd = -1;
	struct store_stats st;

	{
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "starting");
		log_str(&l, "version", TOCSIN_VERSION);
		log_str(&l, "data", data);
		log_int(&l, "pid", (int64_t)getpid());
		log_end(&l);
	}
	app.conf = &conf;
	app.data_dir = data;
	pthread_mutex_init(&app.snap_mu, NULL);
	notify_init(&app.notify);
	int n = snprintf(app.store_spec, sizeof app.store_spec, "%s/tocsin.db", data);
	if (n < 0 || (size_t)n >= sizeof app.store_spec) {
		fprintf(stderr, "tocsind: --data: path too long\n");
		return EXIT_CONFIG;
	}
	if ((lock_fd = pid_lock(data, &d)) < 0) {
		status = fail("cannot start", &d);
		goto out;
	}
	secure_data_dir(data);
	if (hub_open(data, &hub, &d)) {
		status = fail("cannot open the data directory", &d);
		goto out;
	}
	hub_set_widest_prefix(hub, conf.widest_prefix_v4, conf.widest_prefix_v6);
	/* default_tlp is kept with the data so that the CLI (export --for,
	 * match) judges unmarked objects as this daemon does */
	if (reg_default_tlp_set(hub_store(hub), conf.default_tlp, &d)) {
		status = fail("cannot record default_tlp", &d);
		goto out;
	}
	/* the effective confidence rule every decision read uses */
	feed_set_conf_rule(&(struct feed_conf_rule){ .half_life_days = conf.confidence_half_life,
	                                             .sighting_boost = conf.sighting_boost,
	                                             .boost_orgs = conf.sighting_boost_orgs });
	/* and so is block_min_confidence, for the CLI's exports */
	if (feed_set_block_min_confidence(hub_store(hub), (int)conf.block_min_confidence)) {
		diag_set(&d, TC_EDB, "cannot write the store's settings");
		status = fail("cannot record block_min_confidence", &d);
		goto out;
	}
	if (registry_open(data, &app.registry, &d)) {
		status = fail("cannot open the registry", &d);
		goto out;
	}
	if (conf.reports_enabled && reg_country_check(conf.reports_country, &d)) {
		diag_prefix(&d, "[reports] country: ");
		status = fail("bad configuration", &d);
		goto out;
	}
	if (audit_open_writer(data, &app.audit, &d)) {
		status = fail("cannot open the audit log", &d);
		goto out;
	}
	{
		/* before the first commit: entries a crash kept from the log */
		struct audit_recovery ar;
		if (audit_recover(app.audit, hub_store(hub), &ar, &d)) {
			status = fail("cannot complete the audit log from the store", &d);
			goto out;
		}
		struct logline l;
		log_begin(&l, ar.versions || ar.deletions ? CONF_LOG_WARN : CONF_LOG_INFO,
		          ar.skipped ? "audit recovery left to the next start (a tocsin command has "
		                       "the audit log open)"
		          : ar.versions || ar.deletions
		              ? "audit recovered: committed but unaudited writes entered as recovered"
		              : "audit log complete");
		log_int(&l, "recovered_versions", (int64_t)ar.versions);
		log_int(&l, "recovered_deletions", (int64_t)ar.deletions);
		log_int(&l, "log_position", (int64_t)ar.through);
		log_end(&l);
	}
	if (store_open(app.store_spec, &ctl, &d)) {
		status = fail("cannot open the store", &d);
		goto out;
	}
	if (reg_snapshot_build(app.registry, ctl, &snap, &d)) {
		status = fail("cannot read the registry", &d);
		goto out;
	}
	app_snapshot_swap(&app, snap);
	log_snapshot("registry loaded", snap);
	if (cursor_key(data, app.tcfg.cursor_key, &d)) {
		status = fail("cannot read the cursor key", &d);
		goto out;
	}
	if (store_stats(hub_store(hub), &st) == TC_OK)
		atomic_store(&app.log_position0, st.log_position);
	atomic_store(&app.index_entries, index_count(hub_index(hub)));

	app.tcfg.api_root = conf.api_root;
	app.tcfg.title = conf.title;
	app.tcfg.description = conf.description[0] ? conf.description : NULL;
	app.tcfg.contact = conf.contact[0] ? conf.contact : NULL;
	app.tcfg.max_content_length = conf.max_content_length;
	app.tcfg.max_page = conf.max_page;
	/* the hub's identity in discovery (docs/federation.md) */
	static struct hubkey_pub hub_pub;
	if (hub_identity(hub, &hub_pub))
		app.tcfg.hub_key = &hub_pub;
	static struct taxii_api_root roots[CONF_API_ROOTS_MAX];
	for (size_t i = 0; i < conf.nroots; i++)
		roots[i] = (struct taxii_api_root){
			.name = conf.roots[i].name,
			.title = conf.roots[i].title,
			.description = conf.roots[i].description,
			.max_content_length = conf.roots[i].max_content_length,
		};
	app.tcfg.roots = roots;
	app.tcfg.nroots = conf.nroots;

	/* The writer's commits do not stop to checkpoint the WAL: another
	 * thread does (without it, SQLite's automatic checkpoints stay on). */
	if (checkpointer_start(app.store_spec, CHECKPOINT_INTERVAL_MS, &ckpt, &d) == TC_OK)
		store_wal_autocheckpoint(hub_store(hub), 0);
	else
		log_error("no checkpoint thread; the writer checkpoints as it commits", d.msg);

	if (dns_start(&app, hub, &dns, &d)) {
		status = fail("cannot start the DNS server", &d);
		goto out;
	}
	be = (struct backend){
		.hub = hub, .audit = app.audit, .app = &app, .dns = dns,
		.allow_checked_us = ts_now_us()
	};
	struct hub_writer_backend wb = { be_ingest, be_remove, be_after, &be, be_tick };
	struct hub_writer_cfg wc = { .batch_max_objects = conf.batch_max_objects,
		                 .batch_max_wait_us = conf.batch_max_wait_us };
	if (hub_writer_start(&wc, &wb, &app.writer, &d)) {
		status = fail("cannot start the writer", &d);
		goto out;
	}
	writer_taxii(app.writer, &app.tw);
	app.tw.obs = hub_obs_ctx(hub); /* request threads validate and extract */
	app.hub = hub;
	api_indicators_reload_holds(&app); /* false positives held (docs/sightings.md) */
	/* the lookup API reads the index beside the writer (hub_lookup.h) */
	if (conf.match_cache_entries && hub_lookup_cache(hub, conf.match_cache_entries, &d)) {
		status = fail("cannot set up the lookup cache", &d);
		goto out;
	}
	/* webhook delivery: after the writer (it reads the log position) */
	if (webhooks_start(&app, &app.webhooks, &d)) {
		status = fail("cannot start the webhook delivery", &d);
		goto out;
	}
	/* sources: after the writer (they write through it) */
	if (sources_start(&app, &app.sources, &d)) {
		status = fail("cannot start the sources scheduler", &d);
		goto out;
	}
	/* tasks from committed indicators: after the writer (notify, position) */
	if (coord_worker_start(&app, &app.coord, &d)) {
		status = fail("cannot start the coordination worker", &d);
		goto out;
	}
	/* federation: after the writer (it stores through it) */
	if (peers_start(&app, &app.peers, &d)) {
		status = fail("cannot start the peer replication", &d);
		goto out;
	}
	if (stream_start(&app, &app.stream, &d)) {
		status = fail("cannot start the stream thread", &d);
		goto out;
	}
	if (conf.reports_enabled && (reports_open(&app, &d) || reports_start(&app, &d))) {
		status = fail("cannot open the citizen reports", &d);
		goto out;
	}
	if (http_start(&app, &srv, &d)) {
		status = fail("cannot start", &d);
		goto out;
	}

	uint64_t gen = 0, fpgen = 0;
	if (registry_generation(app.registry, &gen, &d))
		log_error("cannot read the registry generation", d.msg);
	if (registry_fp_generation(app.registry, &fpgen, &d))
		log_error("cannot read the false-positive generation", d.msg);
	for (;;) {
		/* Wakes every REGISTRY_POLL_MS to see whether the CLI changed the
		 * registry, so that a new or revoked key applies within a second
		 * without SIGHUP. */
		const struct timespec poll = { 0, REGISTRY_POLL_MS * 1000000L };
		int sig = sigtimedwait(&sigs, NULL, &poll);
		uint64_t g = gen, fg = fpgen;
		/* false positives reported or reviewed (tocsin fp, or a POST):
		 * the held indicators (docs/sightings.md) */
		if (!registry_fp_generation(app.registry, &fg, &d) && fg != fpgen) {
			fpgen = fg;
			api_indicators_reload_holds(&app);
		}
		if (sig < 0 && errno == EAGAIN) {
			if (registry_generation(app.registry, &g, &d) || g == gen)
				continue;
		} else if (sig < 0) {
			continue;
		}
		if (sig < 0 || sig == SIGHUP) {
			gen = g;
			struct reg_snapshot *ns = NULL;
			allowlist_reload(hub, true);
			if (reg_snapshot_build(app.registry, ctl, &ns, &d)) {
				log_error("reload failed; keeping the previous registry", d.msg);
				continue;
			}
			app_snapshot_swap(&app, ns);
			log_snapshot(sig == SIGHUP ? "reloaded" : "registry changed: reloaded", ns);
			continue;
		}
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "shutting down");
		log_str(&l, "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		log_end(&l);
		break;
	}
	status = 0;
out:
	http_shutdown(srv);           /* no request thread is left after this */
	dns_stop(dns);                /* before the writer: it reads the writer's position */
	reports_close(&app);          /* its promoter writes through the writer */
	sources_stop(app.sources);    /* before the writer: a pull writes through it */
	app.sources = NULL;
	webhooks_stop(app.webhooks);  /* a delivery in flight ends by its timeout */
	peers_stop(app.peers);        /* before the writer: workers store through it */
	app.peers = NULL;
	app.webhooks = NULL;
	coord_worker_stop(app.coord);
	app.coord = NULL;
	stream_stop(app.stream);      /* (already, if the listeners ran) */
	stream_free(app.stream);
	app.stream = NULL;
	if (app.writer) {
		hub_writer_stop(app.writer);  /* drains the queue */
		app.writer = NULL;
	}
	checkpointer_stop(ckpt);        /* a last checkpoint */
	app_snapshot_swap(&app, NULL);
	if (ctl)
		store_close(ctl);
	if (app.audit)
		audit_close(app.audit);
	if (app.registry)
		registry_close(app.registry);
	if (hub)
		hub_close(hub);
	if (lock_fd >= 0)
		close(lock_fd); /* the file stays: only its lock says who runs */
	log_simple(status ? CONF_LOG_ERROR : CONF_LOG_INFO, "stopped");
	return status;
}
