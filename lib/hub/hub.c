/*
 * hub.c — a hub's data directory: the one path from input to index.
 *
 * accept → validate → extract observables → append to the log → index.
 * Invariant: the index holds exactly the observables of the current,
 * non-revoked indicator versions in the store (expiry is checked at lookup
 * time), because it is built from the store at open and changed only after
 * a batch or a deletion is durable — through the store's unindex callback
 * for versions that stop being current (superseded or deleted), by
 * hub_ingest_items for the versions that become current, and by the
 * store's reindex callback for a version that becomes current again when
 * a newer one is deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "hub.h"
#include "hub_int.h"
#include "crypto/hubkey.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define HUB_DB_FILE "tocsin.db"
#define HUB_CARD_KEY_FILE "card.key"
#define HUB_WARN_VALUES 3 /* allowlisted values named in one object's warning */
#define HUB_EXPIRE_BATCH 10000 /* expired decisions removed per transaction */

/* What the allowlist file looked like when read: a change reloads it. */
struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};
/* Statement-marking ids the hub remembers having found in its store, so
 * that a feed whose every object carries the same statement (a copyright,
 * a terms-of-use text) costs one store lookup, not one per object. A
 * marking definition is not versioned: once a statement, always one. */
#define HUB_STATEMENT_CACHE 64
#define HUB_ID_KEY_FILE "id.key"

struct hub {
	char dir[PATH_MAX];
	struct store *store;
	struct index *index;
	struct index *revoked;  /* revoked current versions, for match's "revoked"; NULL until needed */
	/* the concurrent read path (hub_lookup.c): the lock around index
	 * and revoked, the lookup cache and its invalidation */
	struct hub_lk *lk;
	/* replaced by hub_allowlist_reload under allow_mu; users take a
	 * reference under it (hub_allowlist_get). reload_mu: one reload at a
	 * time (it also guards allow_file). */
	struct allowlist *allow;
	pthread_mutex_t allow_mu, reload_mu;
	struct file_id allow_file;
	uint8_t card_key[OBS_CARD_KEY_LEN];
	uint8_t id_key[HUB_ID_KEY_LEN];
	struct obs_ctx obs;
	char statements[HUB_STATEMENT_CACHE][STIX_ID_MAX];
	size_t nstatements, next_statement;
	/* decisions: allow_gen moves at each reload (under reload_mu);
	 * judged_gen is the generation the store's contributions were last
	 * judged against; due_us the earliest valid_until among them (0:
	 * unknown, look) — writer thread only */
	_Atomic uint64_t allow_gen;
	uint64_t judged_gen;
	int64_t due_us;
	bool due_known;
	/* provenance (docs/federation.md): the key that signs each batch's
	 * Merkle root; has_prov_key false when the directory has no hub.key */
	struct hubkey prov_key;
	bool has_prov_key;
	char prov_id[HUBKEY_ID_MAX]; /* its "<alg>:<hex>" (obs.prov_hub_id) */
};

const char *
hub_default_dir(const char *dir)
{
	if (dir && *dir)
		return dir;
	const char *env = getenv("TOCSIN_DATA");
	if (env && *env)
		return env;
	return HUB_DEFAULT_DIR;
}

static enum tcerr
hub_path(char out[PATH_MAX], const char *dir, const char *file, struct diag *d)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);
	if (n < 0 || n >= PATH_MAX)
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	return TC_OK;
}

/* Creates dir and its missing parents; the last component gets mode 0700. */
static enum tcerr
hub_mkdirs(const char *dir, struct diag *d)
{
	char tmp[PATH_MAX];
	size_t len = strlen(dir);
	if (len == 0 || len >= sizeof(tmp))
		return diag_set(d, TC_EINVAL, "invalid data directory '%s'", dir);
	memcpy(tmp, dir, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (tmp[i] != '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) /* parents: not ours to close */
			return diag_set(d, TC_EIO, "%s: %s", tmp, strerror(errno));
		tmp[i] = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return diag_set(d, TC_EIO, "%s: %s", dir, strerror(errno));
	return TC_OK;
}

static enum tcerr
hub_write_card_key(const char *path, struct diag *d)
{
	uint8_t key[OBS_CARD_KEY_LEN];
	enum tcerr rc = TC_OK;

	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return diag_set(d, TC_EIO, "cannot read random bytes: %s", strerror(errno));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = diag_set(d, errno == EEXIST ? TC_EEXIST : TC_EIO, "%s: %s", path,
		              strerror(errno));
		goto out;
	}
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) != 0)
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	close(fd);
out:
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* Writes HUB_ID_KEY_LEN random bytes to path (mode 0600) unless a key is
 * there already. Made beside it and linked into place, so that a daemon
 * and a CLI opening an older directory at once never read half a key:
 * the first link wins, the other finds it. Errors: TC_EIO. */
static enum tcerr
hub_write_id_key(const char *path, struct diag *d)
{
	uint8_t key[HUB_ID_KEY_LEN];
	char tmp[PATH_MAX];
	enum tcerr rc = TC_OK;

	int n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return diag_set(d, TC_ELIMIT, "%s: path too long", path);
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return diag_set(d, TC_EIO, "cannot read random bytes: %s", strerror(errno));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = diag_set(d, TC_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) != 0)
		rc = diag_set(d, TC_EIO, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == TC_OK && link(tmp, path) != 0 && errno != EEXIST)
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	unlink(tmp);
out:
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* Reads the id key, writing it first for a directory made before it
 * existed. */
static enum tcerr
hub_read_id_key(struct hub *h, const char *path, struct diag *d)
{
	struct stat st;
	enum tcerr rc;

	if (lstat(path, &st) != 0 && errno == ENOENT && (rc = hub_write_id_key(path, d)))
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	ssize_t n = read(fd, h->id_key, sizeof(h->id_key));
	close(fd);
	if (n != (ssize_t)sizeof(h->id_key))
		return diag_set(d, TC_EINVAL, "%s: expected %d bytes of key", path,
		                HUB_ID_KEY_LEN);
	return TC_OK;
}

enum tcerr
hub_init(const char *dir, struct diag *d)
{
	return hub_init_alg(dir, HUBKEY_ED25519, d);
}

enum tcerr
hub_init_alg(const char *dir, enum hubkey_alg alg, struct diag *d)
{
	char db[PATH_MAX], keyfile[PATH_MAX], spec[PATH_MAX + 8];
	struct store *s = NULL;
	struct stat st;
	enum tcerr rc;

	dir = hub_default_dir(dir);
	if ((rc = hub_path(db, dir, HUB_DB_FILE, d)) ||
	    (rc = hub_path(keyfile, dir, HUB_CARD_KEY_FILE, d)))
		return rc;
	if (stat(db, &st) == 0)
		return diag_set(d, TC_EEXIST, "%s is already a tocsin data directory", dir);
	if ((rc = hub_mkdirs(dir, d)))
		return rc;
	if (stat(keyfile, &st) != 0 && (rc = hub_write_card_key(keyfile, d)))
		return rc;
	if ((rc = hub_path(keyfile, dir, HUB_ID_KEY_FILE, d)) ||
	    (stat(keyfile, &st) != 0 && (rc = hub_write_id_key(keyfile, d))))
		return rc;
	/* the hub's identity: signs the audit log's head (docs/audit.md) */
	if ((rc = hubkey_create_alg(dir, alg, d)) && rc != TC_EEXIST)
		return rc;
	diag_clear(d);
	int n = snprintf(spec, sizeof(spec), "sqlite:%s", db);
	if (n < 0 || (size_t)n >= sizeof(spec))
		return diag_set(d, TC_ELIMIT, "%s: path too long", db);
	if ((rc = store_open(spec, &s, d)))
		return rc;
	rc = store_collection_add(s, HUB_DEFAULT_COLLECTION, NULL, "Default collection",
	                          "Objects imported without naming a collection", NULL, d);
	store_close(s);
	return rc;
}

static enum tcerr
hub_read_card_key(struct hub *h, const char *path, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	/* no key: the hub works, and refuses card numbers saying why
	 * (obs_ctx without a key) */
	if (fd < 0 && errno == ENOENT)
		return TC_OK;
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	ssize_t n = read(fd, h->card_key, sizeof(h->card_key));
	close(fd);
	if (n != (ssize_t)sizeof(h->card_key))
		return diag_set(d, TC_EINVAL, "%s: expected %d bytes of key", path,
		                OBS_CARD_KEY_LEN);
	h->obs.card_key = h->card_key;
	h->obs.card_key_len = sizeof(h->card_key);
	return TC_OK;
}

static enum tcerr
hub_index_one(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value,
              int64_t valid_until_us)
{
	struct hub *h = ctx;
	/* A value the index cannot parse was refused at ingest; an old store
	 * may still hold one, and one bad row must not stop the hub. */
	if (hub__lk_deferring(h->lk) &&
	    hub__lk_queue(h->lk, true, HUB_IOP_INDEX, kind, value, ref, valid_until_us))
		return TC_OK;
	if (hub__lk_deferring(h->lk) && hub__lk_apply(h) == TC_ENOMEM)
		return TC_ENOMEM;
	hub__lk_wlock(h->lk);
	enum tcerr rc = index_add(h->index, kind, value, ref, valid_until_us);
	hub__lk_changed(h->lk, ref);
	hub__lk_wunlock(h->lk);
	return rc == TC_EINVAL ? TC_OK : rc;
}

static void
file_id_of(const char *path, struct file_id *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0)
		return;
	*id = (struct file_id){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim };
}

static bool
file_id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A new allowlist: the built-in entries and DATA/allowlist.txt. OUT: *out,
 * *id (the file as read: identified before reading, so a change while
 * reading is seen by the next reload). */
static enum tcerr
load_allowlist(struct hub *h, struct allowlist **out, struct file_id *id, struct diag *d)
{
	char path[PATH_MAX];
	struct allowlist *al = NULL;
	enum tcerr rc;

	*out = NULL;
	if ((rc = hub_path(path, h->dir, HUB_ALLOWLIST_FILE, d)))
		return rc;
	file_id_of(path, id);
	if ((rc = allowlist_new(&al)) || (rc = allowlist_add_defaults(al))) {
		allowlist_free(al);
		return diag_set(d, rc, "allowlist: %s", tcerr_str(rc));
	}
	struct allowlist_normalizer nz = {&h->obs, obs_classify, obs_normalize, obs_kind_parse};
	if (id->present && (rc = allowlist_load_file(al, &nz, path, d))) {
		/* removed between stat and open: no file, no entries */
		if (rc != TC_ENOTFOUND) {
			allowlist_free(al);
			return rc;
		}
		id->present = false;
	}
	*out = al;
	return TC_OK;
}

/* The store's allowlist judge (store_decisions_set_judge): a value an
 * enforcement point must not block, by the rule of every output
 * (allowlist_check_block: covered by an entry, or a network holding one). */
static bool
hub_judge(void *ctx, enum obs_kind kind, struct slice value)
{
	struct hub *h = ctx;
	pthread_mutex_lock(&h->allow_mu);
	bool r = allowlist_check_block(h->allow, kind, value, NULL);
	pthread_mutex_unlock(&h->allow_mu);
	return r;
}

enum tcerr
hub_decisions_maintain(struct hub *h, int64_t now_us, size_t *events, struct diag *d)
{
	size_t n = 0, e;
	enum tcerr rc = TC_OK;
	if (!now_us)
		now_us = ts_now_us();
	uint64_t gen = atomic_load(&h->allow_gen);
	if (gen != h->judged_gen) {
		if ((rc = store_decisions_rejudge(h->store, &e, d)))
			goto out;
		h->judged_gen = gen;
		n += e;
	}
	if (!h->due_known || (h->due_us && h->due_us <= now_us)) {
		int64_t next = 0;
		do {
			if ((rc = store_decisions_expire(h->store, now_us, HUB_EXPIRE_BATCH, &e, &next,
			                                 d)))
				goto out;
			n += e;
		} while (e == HUB_EXPIRE_BATCH);
		h->due_us = next;
		h->due_known = true;
	}
out:
	if (events)
		*events = n;
	return rc;
}

int64_t
hub_decisions_due(const struct hub *h)
{
	return h->due_known ? h->due_us : 0;
}

enum tcerr
hub_allowlist_reload(struct hub *h, bool force, bool *reloaded, struct diag *d)
{
	char path[PATH_MAX];
	struct file_id now;
	struct allowlist *al, *old;
	enum tcerr rc;

	if (reloaded)
		*reloaded = false;
	if ((rc = hub_path(path, h->dir, HUB_ALLOWLIST_FILE, d)))
		return rc;
	pthread_mutex_lock(&h->reload_mu);
	file_id_of(path, &now);
	if (!force && file_id_eq(&now, &h->allow_file))
		goto out;
	if ((rc = load_allowlist(h, &al, &now, d))) {
		/* not again until the file changes once more */
		h->allow_file = now;
		goto out;
	}
	pthread_mutex_lock(&h->allow_mu);
	old = h->allow;
	h->allow = al;
	pthread_mutex_unlock(&h->allow_mu);
	h->allow_file = now;
	allowlist_free(old);
	atomic_fetch_add(&h->allow_gen, 1);
	if (reloaded)
		*reloaded = true;
out:
	pthread_mutex_unlock(&h->reload_mu);
	return rc;
}

struct allowlist *
hub_allowlist_get(struct hub *h)
{
	pthread_mutex_lock(&h->allow_mu);
	struct allowlist *al = allowlist_ref(h->allow);
	pthread_mutex_unlock(&h->allow_mu);
	return al;
}

void
hub_set_widest_prefix(struct hub *h, unsigned v4, unsigned v6)
{
	h->obs.widest_prefix_v4 = v4;
	h->obs.widest_prefix_v6 = v6;
}

void
hub_result_warn(struct hub_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->why);
	va_list ap;
	if (len && len + 2 < sizeof(r->why)) {
		memcpy(r->why + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	int n = vsnprintf(r->why + len, sizeof(r->why) - len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->why) - len)
		memcpy(r->why + sizeof(r->why) - 4, "...", 4);
	r->warned = true;
}

enum tcerr
hub_check_dir(const char *dir, struct diag *d)
{
	char db[PATH_MAX];
	struct stat st;
	enum tcerr rc;

	dir = hub_default_dir(dir);
	if (stat(dir, &st) != 0)
		return diag_set(d, TC_ENOTFOUND, "data directory %s: %s (run 'tocsin init')", dir,
		                strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return diag_set(d, TC_EINVAL, "data directory %s: not a directory", dir);
	if ((rc = hub_path(db, dir, HUB_DB_FILE, d)))
		return rc;
	if (stat(db, &st) != 0)
		return diag_set(d, TC_ENOTFOUND,
		                "%s is not a tocsin data directory (run 'tocsin init')", dir);
	return TC_OK;
}

enum tcerr
hub_open(const char *dir, struct hub **out, struct diag *d)
{
	char db[PATH_MAX], path[PATH_MAX], spec[PATH_MAX + 8];
	struct hub *h;
	struct stat st;
	enum tcerr rc;

	*out = NULL;
	dir = hub_default_dir(dir);
	if ((rc = hub_path(db, dir, HUB_DB_FILE, d)))
		return rc;
	if (stat(db, &st) != 0)
		return diag_set(d, TC_ENOTFOUND,
		                "%s is not a tocsin data directory (run 'tocsin init')", dir);
	h = calloc(1, sizeof(*h));
	if (!h)
		return diag_set(d, TC_ENOMEM, "out of memory");
	pthread_mutex_init(&h->allow_mu, NULL);
	pthread_mutex_init(&h->reload_mu, NULL);
	if ((rc = hub__lk_new(&h->lk, d)))
		goto fail;
	if (strlen(dir) >= sizeof(h->dir)) {
		rc = diag_set(d, TC_ELIMIT, "%s: path too long", dir);
		goto fail;
	}
	memcpy(h->dir, dir, strlen(dir) + 1);
	if ((rc = hub_path(path, dir, HUB_CARD_KEY_FILE, d)) ||
	    (rc = hub_read_card_key(h, path, d)))
		goto fail;
	if ((rc = hub_path(path, dir, HUB_ID_KEY_FILE, d)) ||
	    (rc = hub_read_id_key(h, path, d)))
		goto fail;
	int n = snprintf(spec, sizeof(spec), "sqlite:%s", db);
	if (n < 0 || (size_t)n >= sizeof(spec)) {
		rc = diag_set(d, TC_ELIMIT, "%s: path too long", db);
		goto fail;
	}
	if ((rc = store_open(spec, &h->store, d)))
		goto fail;
	/* the identity key signs each batch's provenance; a directory made
	 * before keys gets one at the audit log's first write */
	rc = hubkey_load(dir, &h->prov_key, d);
	if (rc == TC_OK) {
		struct hubkey_pub pub;
		h->has_prov_key = true;
		h->obs.prov_alg = (int)h->prov_key.alg;
		hubkey_pub_of(&h->prov_key, &pub);
		hubkey_pub_id(&pub, h->prov_id);
		h->obs.prov_hub_id = h->prov_id;
	} else if (rc != TC_ENOTFOUND) {
		goto fail;
	}
	diag_clear(d);
	if ((rc = load_allowlist(h, &h->allow, &h->allow_file, d)))
		goto fail;
	/* the store judged what it holds against an allowlist that may have
	 * changed since: hub_decisions_maintain judges again (gen 1 != 0) */
	atomic_store(&h->allow_gen, 1);
	store_decisions_set_judge(h->store, hub_judge, h);
	if ((rc = index_new(&h->index))) {
		diag_set(d, rc, "index: %s", tcerr_str(rc));
		goto fail;
	}
	if ((rc = store_scan_indexable(h->store, hub_index_one, h, d)))
		goto fail;
	*out = h;
	return TC_OK;
fail:
	hub_close(h);
	return rc;
}

void
hub_close(struct hub *h)
{
	if (!h)
		return;
	store_close(h->store);
	index_free(h->index);
	index_free(h->revoked);
	hub__lk_free(h->lk);
	allowlist_free(h->allow);
	pthread_mutex_destroy(&h->allow_mu);
	pthread_mutex_destroy(&h->reload_mu);
	explicit_bzero(h->card_key, sizeof(h->card_key));
	explicit_bzero(h->id_key, sizeof(h->id_key));
	hubkey_wipe(&h->prov_key);
	free(h);
}

bool
hub_identity(const struct hub *h, struct hubkey_pub *out)
{
	if (!h->has_prov_key)
		return false;
	hubkey_pub_of(&h->prov_key, out);
	return true;
}

struct store *
hub_store(struct hub *h)
{
	return h->store;
}

const struct obs_ctx *
hub_obs_ctx(const struct hub *h)
{
	return &h->obs;
}

const uint8_t *
hub_id_key(const struct hub *h)
{
	return h->id_key;
}

struct index *
hub_index(struct hub *h)
{
	return h->index;
}

const struct allowlist *
hub_allowlist(const struct hub *h)
{
	return h->allow;
}

enum tcerr
hub_collection(struct hub *h, const char *name, struct store_collection *out, struct diag *d)
{
	if (!name || !*name)
		name = HUB_DEFAULT_COLLECTION;
	enum tcerr rc = store_collection_find(h->store, name, out);
	if (rc == TC_ENOTFOUND)
		return diag_set(d, rc, "no collection '%s'", name);
	if (rc)
		return diag_set(d, rc, "collection '%s': %s", name, tcerr_str(rc));
	return TC_OK;
}

/* ---- ingest ---- */

/* One observable of one object, while the batch is being prepared: the
 * value lives at [off, off+len) of the batch's value buffer, which may
 * move while it grows, so slices are made only once it is complete. */
struct pending_obs {
	size_t obj;
	enum obs_kind kind;
	size_t off, len;
};

struct ingest {
	struct buf values;
	struct pending_obs *obs;
	size_t nobs, capobs;
	size_t cur; /* object being extracted */
};

static enum tcerr
ingest_collect(void *ctx, enum obs_kind kind, struct slice value)
{
	struct ingest *in = ctx;
	if (in->nobs == in->capobs) {
		size_t ncap = in->capobs ? in->capobs * 2 : 256;
		struct pending_obs *p = realloc(in->obs, ncap * sizeof(*p));
		if (!p)
			return TC_ENOMEM;
		in->obs = p;
		in->capobs = ncap;
	}
	size_t off = in->values.len;
	buf_append_slice(&in->values, value);
	if (buf_error(&in->values))
		return buf_error(&in->values);
	in->obs[in->nobs++] = (struct pending_obs){in->cur, kind, off, value.len};
	return TC_OK;
}

static void
hub_unindex(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value)
{
	struct hub *h = ctx;
	if (hub__lk_deferring(h->lk) &&
	    hub__lk_queue(h->lk, false, HUB_IOP_INDEX, kind, value, ref, 0))
		return;
	if (hub__lk_deferring(h->lk))
		(void)hub__lk_apply(h); /* keep the order of changes */
	hub__lk_wlock(h->lk);
	index_remove(h->index, kind, value, ref);
	hub__lk_changed(h->lk, ref);
	hub__lk_wunlock(h->lk);
}

static void
result_reject(struct hub_result *r, enum tcerr rc, const struct diag *d)
{
	r->verdict = HUB_REJECTED;
	r->rc = rc;
	snprintf(r->why, sizeof(r->why), "%s", d->msg[0] ? d->msg : tcerr_str(rc));
}

/* Objects whose observables go to the index: indicators only. An SCO says
 * "this was seen", not "this is malicious"; its values are still checked
 * by obs_extract so that garbage is refused. */
static bool
is_indexed_type(const struct stix_meta *m)
{
	return strcmp(m->type, "indicator") == 0;
}

/* Frees what json_dumps() returned, with the allocator jansson was given
 * (json_set_alloc_funcs: the daemon's request arena). */
static void
json_text_free(char *p)
{
	json_free_t f = NULL;
	json_get_alloc_funcs(NULL, &f);
	if (f)
		f(p);
	else
		free(p);
}

/* "objects[3]: " or "" before a message about an item. */
static void
item_reject(struct hub_result *r, const char *path, enum tcerr rc, const char *msg)
{
	r->verdict = HUB_REJECTED;
	r->rc = rc;
	snprintf(r->why, sizeof(r->why), "%s%s%s", path ? path : "", path ? ": " : "", msg);
}

/* Validates item i, keeps card numbers out of it (obs_cards_protect: may
 * rewrite it->obj; r->cards_hashed then says its text must be serialised
 * again) and collects its observables into in. Returns TC_OK (r->verdict
 * is HUB_REJECTED when the item was refused) or TC_ENOMEM. */
static enum tcerr
prepare_one(const struct obs_ctx *obs, const struct hub_item *it, size_t i, struct stix_meta *meta,
            struct ingest *in, struct hub_result *r)
{
	const char *path = it->path;
	json_t *obj = it->obj;
	struct diag od;

	memset(r, 0, sizeof(*r));
	diag_clear(&od);
	if (!obj) {
		item_reject(r, path, TC_EINVAL, "no object");
		return TC_OK;
	}
	if (it->date_added_us < 0) {
		item_reject(r, path, TC_EINVAL, "date_added before 1970");
		return TC_OK;
	}
	enum tcerr vrc = stix_validate(obj, path, NULL, meta, &od);
	if (vrc == TC_ENOMEM)
		return vrc;
	if (vrc) {
		const char *id = json_string_value(json_object_get(obj, "id"));
		if (id && strlen(id) < sizeof(r->id))
			memcpy(r->id, id, strlen(id) + 1);
		result_reject(r, vrc, &od);
		return TC_OK;
	}
	memcpy(r->id, meta->id, sizeof(r->id));
	/* docs/federation.md: another hub's signed provenance is stored only
	 * as replication brings it (verified), never from a member */
	if (!it->peer_provenance && prov_present_json(obj) && obs->prov_hub_id) {
		json_t *ext = json_object_get(obj, "extensions");
		const char *origin =
		    json_string_value(json_object_get(json_object_get(ext, PROV_EXT_ID), "origin_hub"));
		if (origin && strcmp(origin, obs->prov_hub_id) == 0) {
			/* our own: signed again in this batch */
			json_object_del(ext, PROV_EXT_ID);
			if (json_object_size(ext) == 0)
				json_object_del(obj, "extensions");
			r->prov_dropped = true;
		}
	}
	if (!it->peer_provenance && prov_present_json(obj)) {
		item_reject(r, path, TC_EPERM,
		            "carries the provenance extension " PROV_EXT_ID
		            ": only replication from a peer hub may store another hub's "
		            "provenance; remove the extension (this hub signs what it accepts)");
		return TC_OK;
	}
	/* docs/extensions.md: no card number is stored */
	bool hashed = false;
	enum tcerr crc = obs_cards_protect(obs, obj, meta, &hashed, &od);
	if (crc == TC_ENOMEM)
		return crc;
	if (crc) {
		if (path)
			diag_prefix(&od, "%s", path);
		result_reject(r, crc, &od);
		return TC_OK;
	}
	r->cards_hashed = hashed;
	size_t mark = in->nobs, vmark = in->values.len;
	in->cur = i;
	enum tcerr erc = obs_extract(obs, obj, meta, ingest_collect, in, &od);
	if (erc == TC_ENOMEM || buf_error(&in->values) == TC_ENOMEM)
		return TC_ENOMEM;
	if (erc) {
		in->nobs = mark;
		buf_truncate(&in->values, vmark);
		if (path)
			diag_prefix(&od, "%s", path);
		result_reject(r, erc, &od);
		return TC_OK;
	}
	if (!is_indexed_type(meta)) {
		in->nobs = mark;
		buf_truncate(&in->values, vmark);
		return TC_OK;
	}
	/* An indicator that would block everything is refused whole, even
	 * when the value is one branch of an OR: every branch becomes a
	 * block. */
	for (size_t o = mark; o < in->nobs; o++) {
		struct slice v = slice_make(in->values.p + in->obs[o].off, in->obs[o].len);
		diag_clear(&od);
		if (obs_breadth_check(obs, in->obs[o].kind, v, &od)) {
			in->nobs = mark;
			buf_truncate(&in->values, vmark);
			diag_prefix(&od, "%s%spattern", path ? path : "", path ? ": " : "");
			result_reject(r, TC_EINVAL, &od);
			return TC_OK;
		}
	}
	return TC_OK;
}

struct hub_prep {
	struct stix_meta *metas;
	struct ingest in;
	struct store_obs *sobs;
};

void
hub_prep_free(struct hub_prep *p)
{
	if (!p)
		return;
	free(p->metas);
	free(p->in.obs);
	buf_reset(&p->in.values);
	free(p->sobs);
	free(p);
}

enum tcerr
hub_prepare(const struct obs_ctx *obs, struct hub_item *items, size_t n, struct hub_result *res,
            struct hub_prep **out, struct diag *d)
{
	struct hub_prep *p;
	enum tcerr rc = TC_OK;

	*out = NULL;
	if (n > HUB_MAX_BATCH)
		return diag_set(d, TC_ELIMIT, "batch of %zu objects exceeds the limit of %d", n,
		                HUB_MAX_BATCH);
	p = calloc(1, sizeof(*p));
	if (!p)
		return diag_set(d, TC_ENOMEM, "out of memory");
	buf_init(&p->in.values, 0);
	p->metas = calloc(n ? n : 1, sizeof(*p->metas));
	if (!p->metas) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].meta = NULL;
		items[i].obs = NULL;
		items[i].nobs = 0;
		items[i].cards_hashed = false;
		if (prepare_one(obs, &items[i], i, &p->metas[i], &p->in, &res[i])) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto fail;
		}
		if (res[i].cards_hashed) {
			/* the received text holds the numbers: serialise obj */
			items[i].cards_hashed = true;
			items[i].text = (struct slice){NULL, 0};
		}
		if (res[i].prov_dropped)
			items[i].text = (struct slice){NULL, 0};
		/* the provenance leaf, here in parallel rather than in the writer */
		items[i].has_prov_leaf = false;
		if (obs->prov_alg && res[i].verdict != HUB_REJECTED && !items[i].peer_provenance &&
		    strcmp(p->metas[i].spec_version, "2.1") == 0) {
			struct diag ld;
			enum hubkey_alg alg = (enum hubkey_alg)obs->prov_alg;
			enum tcerr lrc = items[i].text.len
			                     ? prov_leaf(alg, items[i].text, items[i].prov_leaf, &ld)
			                     : prov_leaf_json(alg, items[i].obj, items[i].prov_leaf, &ld);
			if (lrc == TC_ENOMEM) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				goto fail;
			}
			items[i].has_prov_leaf = lrc == TC_OK;
		}
	}
	/* the value buffer is complete: now slices into it stay valid */
	p->sobs = calloc(p->in.nobs ? p->in.nobs : 1, sizeof(*p->sobs));
	if (!p->sobs) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t o = 0; o < p->in.nobs; o++)
		p->sobs[o] = (struct store_obs){
		    p->in.obs[o].kind,
		    slice_make(p->in.values.p + p->in.obs[o].off, p->in.obs[o].len)};
	for (size_t i = 0, o = 0; i < n; i++) {
		if (res[i].verdict == HUB_REJECTED)
			continue;
		items[i].meta = &p->metas[i];
		items[i].obs = &p->sobs[o];
		while (o < p->in.nobs && p->in.obs[o].obj == i) {
			items[i].nobs++;
			o++;
		}
	}
	*out = p;
	return TC_OK;
fail:
	hub_prep_free(p);
	return rc;
}

enum tcerr
hub_ingest(struct hub *h, int64_t collection, json_t *const *objs, const char *const *paths,
           size_t n, struct hub_result *res, struct diag *d)
{
	if (n > HUB_MAX_BATCH)
		return diag_set(d, TC_ELIMIT, "batch of %zu objects exceeds the limit of %d", n,
		                HUB_MAX_BATCH);
	if (n == 0)
		return TC_OK;
	struct hub_item *items = calloc(n, sizeof(*items));
	if (!items)
		return diag_set(d, TC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		items[i] = (struct hub_item){
		    .obj = objs[i], .path = paths ? paths[i] : NULL, .collection = collection};
	enum tcerr rc = hub_ingest_items(h, items, n, res, d);
	free(items);
	return rc;
}

/* Warns about the indicator's values that the allowlist covers (or, a
 * network, that hold a listed entry): accepted, since the producer may
 * know better and a reader's match still reports them, but never exported
 * for blocking — the producer learns it at once. */
static void
warn_allowlisted(const struct allowlist *al, const char *path, const struct store_obj_in *in,
                 struct hub_result *r)
{
	size_t named = 0, more = 0;
	for (size_t j = 0; j < in->nobs; j++) {
		struct allowlist_hit hit;
		struct slice v = in->obs[j].value;
		int vl = v.len > 256 ? 256 : (int)v.len;
		if (!allowlist_check_block(al, in->obs[j].kind, v, &hit))
			continue;
		if (named == HUB_WARN_VALUES) {
			more++;
			continue;
		}
		named++;
		const char *pre = path ? path : "", *sep = path ? ": " : "";
		if (hit.how == ALLOWLIST_CONTAINS)
			hub_result_warn(r,
			                "%s%swarning: %.*s holds %s, on the %s%s (%s): accepted, but "
			                "never exported for blocking",
			                pre, sep, vl, v.p, hit.entry.value,
			                hit.entry.builtin ? "" : "allowlist ", hit.entry.source,
			                hit.entry.reason);
		else
			hub_result_warn(r,
			                "%s%swarning: %.*s is on the %s%s (%s): accepted, but never "
			                "exported for blocking",
			                pre, sep, vl, v.p, hit.entry.builtin ? "" : "allowlist ",
			                hit.entry.source, hit.entry.reason);
	}
	if (more)
		hub_result_warn(r, "and %zu more allowlisted values", more);
}

/* ---- markings ---- */

/* While a batch is ingested: is an id a statement marking of the batch
 * itself (any of its valid items) or of the store? */
struct statement_q {
	struct hub *h;
	const struct hub_item *items;
	const struct hub_result *res;
	size_t n;
	/* the batch's own statement markings, collected once on first need
	 * (a feed whose every object names one must not cost n² compares) */
	bool collected;
	const char **batch;
	size_t nbatch;
	bool found;
	enum tcerr rc;
};

/* Collects the ids of the batch's valid statement markings. */
static void
statement_collect(struct statement_q *q)
{
	size_t k = 0;
	q->collected = true;
	for (size_t i = 0; i < q->n; i++)
		k += q->res[i].verdict != HUB_REJECTED && q->items[i].obj &&
		     stix_marking_is_statement(q->items[i].obj);
	if (!k)
		return;
	if (!(q->batch = calloc(k, sizeof *q->batch))) {
		q->rc = TC_ENOMEM;
		return;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->res[i].verdict != HUB_REJECTED && q->items[i].obj &&
		    stix_marking_is_statement(q->items[i].obj))
			q->batch[q->nbatch++] = q->res[i].id;
}

static enum store_row_verdict
statement_row(void *ctx, const struct store_row *row)
{
	struct statement_q *q = ctx;
	json_t *o = json_loadb(row->json.p, row->json.len, 0, NULL);
	if (!o) {
		/* a stored row that does not parse: it tells nothing; out of
		 * memory is the likelier cause, and then "not known" hides */
		return STORE_ROW_SKIP;
	}
	q->found = stix_marking_is_statement(o);
	json_decref(o);
	return q->found ? STORE_ROW_STOP : STORE_ROW_SKIP;
}

static bool
is_statement(void *ctx, const char *id)
{
	struct statement_q *q = ctx;
	struct hub *h = q->h;

	if (strncmp(id, "marking-definition--", 20) != 0)
		return false;
	if (!q->collected)
		statement_collect(q);
	for (size_t i = 0; i < q->nbatch; i++)
		if (strcmp(q->batch[i], id) == 0)
			return true;
	for (size_t i = 0; i < h->nstatements; i++)
		if (strcmp(h->statements[i], id) == 0)
			return true;
	/* any collection: a marking definition's meaning does not depend on
	 * where it was posted, and its id (a random UUID) tells nothing to
	 * who does not already know it */
	const char *ids[1] = {id};
	const char *types[1] = {"marking-definition"};
	struct store_query sq = {
	    .ids = ids, .nids = 1, .types = types, .ntypes = 1, .versions = STORE_V_ALL};
	struct diag d;
	q->found = false;
	enum tcerr rc = store_query(h->store, &sq, statement_row, q, NULL, &d);
	if (rc) {
		q->rc = rc;
		return false;
	}
	if (!q->found)
		return false;
	size_t k = h->next_statement++ % HUB_STATEMENT_CACHE;
	snprintf(h->statements[k], sizeof(h->statements[k]), "%s", id);
	if (h->nstatements < HUB_STATEMENT_CACHE)
		h->nstatements++;
	return true;
}

struct copy_seen {
	const struct hub_item *it;
	uint64_t seq;
	bool seen;
};

static enum store_row_verdict
copy_seen_row(void *ctx, const struct store_row *row)
{
	struct copy_seen *c = ctx;
	if (row->seq != c->seq)
		return STORE_ROW_SKIP;
	c->seen = c->it->may_see(c->it->may_see_ctx, row);
	return STORE_ROW_STOP;
}

/* May it's poster see the stored version at seq (the copy its item
 * repeats)? OUT: *seen. Errors as store_query. */
static enum tcerr
stored_copy_seen(struct hub *h, const struct hub_item *it, const char *id, uint64_t seq,
                 bool *seen, struct diag *d)
{
	const char *ids[1] = {id};
	struct store_query q = {
	    .collection = it->collection, .ids = ids, .nids = 1, .versions = STORE_V_ALL};
	struct copy_seen c = {it, seq, false};
	enum tcerr rc = store_query(h->store, &q, copy_seen_row, &c, NULL, d);
	*seen = c.seen;
	return rc;
}

/* ---- existence oracle (issue 9 point 5) ---- */

struct version_seen {
	const struct hub_item *it;
	bool seen;
};

static enum store_row_verdict
version_seen_row(void *ctx, const struct store_row *row)
{
	struct version_seen *v = ctx;
	if (!v->it->may_see(v->it->may_see_ctx, row))
		return STORE_ROW_SKIP;
	v->seen = true;
	return STORE_ROW_STOP;
}

/* May it's poster see any stored version of id in its collection? Asked
 * when the item would be refused as a version of an object another
 * organisation produced (STORE_FOREIGN): that refusal may be stated only
 * to a poster who can see the object already. OUT: *seen. Errors as
 * store_query. */
static enum tcerr
any_version_seen(struct hub *h, const struct hub_item *it, const char *id, bool *seen,
                 struct diag *d)
{
	const char *ids[1] = {id};
	struct store_query q = {
	    .collection = it->collection, .ids = ids, .nids = 1, .versions = STORE_V_ALL};
	struct version_seen v = {it, false};
	enum tcerr rc = store_query(h->store, &q, version_seen_row, &v, NULL, d);
	*seen = v.seen;
	return rc;
}

/* The answer a new object gets, for an item the hub does not keep because
 * telling the truth would reveal a stored version its poster may not see
 * (hub_result.unseen_copy). */
static void
answer_as_new(struct hub_result *r, const struct stix_meta *meta)
{
	r->verdict = HUB_ACCEPTED;
	r->unseen_copy = true;
	r->tlp = meta->tlp;
	r->seq = 0;
	r->date_added_us = ts_now_us();
}

/* The provenance of one write batch (docs/federation.md): the texts the
 * store keeps, each with its extension. */
struct prov_batch {
	struct buf texts;   /* every rewritten text, one after the other */
	size_t *off, *len;  /* per item: its text in texts; len 0: not signed */
	/* what the store keeps of the batch (store_prov_stage) */
	struct prov_root root;
	char alg[16];
	uint8_t (*leaves)[PROV_HASH_LEN];
	size_t *leaf_item;  /* per leaf: its item */
	size_t nleaves;
	struct store_prov_batch rec;
};

static void
prov_batch_free(struct prov_batch *pb)
{
	buf_reset(&pb->texts);
	free(pb->off);
	free(pb->len);
	free(pb->leaves);
	free(pb->leaf_item);
}

/* Appends to out obj's text (base) with ext as extensions[PROV_EXT_ID]. */
static enum tcerr
prov_splice(json_t *obj, struct slice base, struct slice ext, struct buf *out, struct diag *d)
{
	json_t *exts = json_object_get(obj, "extensions");
	if (!exts) {
		/* a STIX object is a non-empty JSON object: base ends in '}' */
		size_t end = base.len;
		while (end && base.p[end - 1] != '}')
			end--;
		if (!end)
			return diag_set(d, TC_EINTERNAL, "provenance: stored text is no object");
		buf_append(out, base.p, end - 1);
		buf_append_cstr(out, ",\"extensions\":{\"" PROV_EXT_ID "\":");
		buf_append_slice(out, ext);
		buf_append_cstr(out, "}}");
		return TC_OK;
	}
	/* copies of the two levels that change; the caller's obj stays as it was */
	json_t *top = json_copy(obj), *ne = json_copy(exts), *v = json_loadb(ext.p, ext.len, 0, NULL);
	char *text = NULL;
	enum tcerr rc = TC_OK;
	if (!top || !ne || !v || json_object_set(ne, PROV_EXT_ID, v) ||
	    json_object_set(top, "extensions", ne) || !(text = json_dumps(top, JSON_COMPACT)))
		rc = diag_set(d, TC_ENOMEM, "provenance: out of memory");
	else
		buf_append_cstr(out, text);
	if (text)
		json_text_free(text);
	json_decref(v);
	json_decref(ne);
	json_decref(top);
	return rc;
}

/* Signs the batch: the leaves of the items slot[0..nvalid) that are this
 * hub's (not a peer's, stored as received), one Merkle tree, one signature
 * of its root, and each item's text with its extension. An item whose
 * leaf cannot be computed (a number no double holds) is stored unsigned.
 * OUT: *pb. Errors: TC_ENOMEM. */
static enum tcerr
prov_sign_batch(struct hub *h, const struct hub_item *items, const struct stix_meta *metas,
                const size_t *slot, size_t nvalid, char *const *json, const size_t *json_len,
                struct prov_batch *pb, struct diag *d)
{
	enum hubkey_alg alg = h->prov_key.alg;
	uint8_t (*leaves)[PROV_HASH_LEN] = NULL, proof[PROV_PROOF_MAX][PROV_HASH_LEN];
	size_t *at = NULL, m = 0, n = slot[nvalid - 1] + 1;
	struct prov_tree *tree = NULL;
	struct prov_root r;
	struct buf ext;
	enum tcerr rc = TC_OK;

	buf_init(&pb->texts, 0);
	buf_init(&ext, 0);
	pb->off = calloc(n, sizeof(*pb->off));
	pb->len = calloc(n, sizeof(*pb->len));
	leaves = malloc(nvalid * sizeof(*leaves));
	at = malloc(nvalid * sizeof(*at));
	if (!pb->off || !pb->len || !leaves || !at) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nvalid; k++) {
		size_t i = slot[k];
		struct diag ld;
		if (items[i].peer_provenance)
			continue;
		/* a STIX 2.0 object has no extension-definition extensions: it is
		 * stored as it came, unsigned (docs/federation.md, known gaps) */
		if (strcmp((items[i].meta ? items[i].meta : &metas[i])->spec_version, "2.1") != 0)
			continue;
		if (items[i].has_prov_leaf) {
			memcpy(leaves[m], items[i].prov_leaf, PROV_HASH_LEN);
		} else {
			struct slice t = json[i] ? slice_make(json[i], json_len[i]) : items[i].text;
			enum tcerr lrc = prov_leaf(alg, t, leaves[m], &ld);
			if (lrc == TC_ENOMEM) {
				rc = diag_set(d, lrc, "out of memory");
				goto out;
			}
			if (lrc)
				continue;
		}
		at[m++] = i;
	}
	if (m == 0)
		goto out;
	if ((rc = prov_tree_new(alg, (const uint8_t(*)[PROV_HASH_LEN])leaves, m, &tree, d)))
		goto out;
	prov_tree_root(tree, proof[0]);
	if ((rc = prov_sign_root(&h->prov_key, proof[0], m, ts_now_us(), &r, d)))
		goto out;
	pb->root = r;
	snprintf(pb->alg, sizeof(pb->alg), "%s", hubkey_alg_name(alg));
	pb->leaves = leaves;
	pb->leaf_item = at;
	pb->nleaves = m;
	leaves = NULL;
	at = NULL;
	for (size_t j = 0; j < m; j++) {
		size_t i = pb->leaf_item[j], plen = prov_tree_proof(tree, j, proof), start = pb->texts.len;
		struct slice base = json[i] ? slice_make(json[i], json_len[i]) : items[i].text;
		buf_clear(&ext);
		prov_ext_text(&r, j, (const uint8_t(*)[PROV_HASH_LEN])proof, plen, &ext);
		if (buf_error(&ext)) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = prov_splice(items[i].obj, base, buf_slice(&ext), &pb->texts, d)))
			goto out;
		if (buf_error(&pb->texts)) {
			rc = diag_set(d, buf_error(&pb->texts), "provenance: %s",
			              tcerr_str(buf_error(&pb->texts)));
			goto out;
		}
		pb->off[i] = start;
		pb->len[i] = pb->texts.len - start;
	}
out:
	prov_tree_free(tree);
	buf_reset(&ext);
	free(leaves);
	free(at);
	return rc;
}

enum tcerr
hub_ingest_items(struct hub *h, const struct hub_item *items, size_t n, struct hub_result *res,
                 struct diag *d)
{
	struct prov_batch pb = {0};
	struct ingest in = {0};
	struct stix_meta *metas = NULL;
	struct store_obj_in *sin = NULL;
	struct store_append_out *sout = NULL;
	struct store_obs *sobs = NULL;
	char **json = NULL;
	size_t *json_len = NULL, *slot = NULL;
	bool *marked = NULL;
	bool appended = false;         /* the batch is durable: its index changes are due */
	size_t nvalid = 0;
	struct allowlist *allow = NULL;
	enum tcerr rc = TC_OK;

	if (n > HUB_MAX_BATCH)
		return diag_set(d, TC_ELIMIT, "batch of %zu objects exceeds the limit of %d", n,
		                HUB_MAX_BATCH);
	if (n == 0)
		return TC_OK;
	buf_init(&in.values, 0);
	metas = calloc(n, sizeof(*metas));
	sin = calloc(n, sizeof(*sin));
	sout = calloc(n, sizeof(*sout));
	json = calloc(n, sizeof(*json));
	json_len = calloc(n, sizeof(*json_len));
	slot = calloc(n, sizeof(*slot));
	marked = calloc(n, sizeof(*marked));
	if (!metas || !sin || !sout || !json || !json_len || !slot || !marked) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}

	/* 1. validate, extract (unless prepared), serialise (unless text given) */
	for (size_t i = 0; i < n; i++) {
		struct hub_result *r = &res[i];
		if (items[i].meta) {
			memset(r, 0, sizeof(*r));
			if (items[i].date_added_us < 0) {
				item_reject(r, items[i].path, TC_EINVAL, "date_added before 1970");
				continue;
			}
			memcpy(r->id, items[i].meta->id, sizeof(r->id));
			r->cards_hashed = items[i].cards_hashed;
		} else {
			if (prepare_one(&h->obs, &items[i], i, &metas[i], &in, r)) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				goto out;
			}
			if (r->verdict == HUB_REJECTED)
				continue;
		}
		/* a rewritten object's received text holds card numbers */
		if (items[i].text.len == 0 || r->cards_hashed || r->prov_dropped) {
			json[i] = json_dumps(items[i].obj, JSON_COMPACT);
			if (!json[i]) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				goto out;
			}
			json_len[i] = strlen(json[i]);
		}
		slot[nvalid++] = i;
	}
	if (nvalid == 0)
		goto out;

	/* 1b. markings that are no TLP id: a statement marking known to the
	 * hub restricts nothing; anything else stays TLP_RED (stix_meta.tlp) */
	struct statement_q sq = {.h = h, .items = items, .res = res, .n = n};
	for (size_t k = 0; k < nvalid; k++) {
		size_t i = slot[k];
		const struct stix_meta *m = items[i].meta ? items[i].meta : &metas[i];
		if (m->other_markings == 0)
			continue;
		enum tlp_level lvl = stix_markings_tlp(items[i].obj, is_statement, &sq, NULL);
		if (sq.rc) {
			/* nothing of the batch is stored: an error must not
			 * leave a version judged on half an answer */
			free(sq.batch);
			rc = diag_set(d, sq.rc, "looking up marking definitions: %s",
			              tcerr_str(sq.rc));
			goto out;
		}
		if (items[i].meta)
			metas[i] = *items[i].meta;
		metas[i].tlp = lvl;
		marked[i] = true;
	}
	free(sq.batch);

	/* 1c. provenance: one Merkle tree and one signature per batch */
	if (h->has_prov_key && (rc = prov_sign_batch(h, items, metas, slot, nvalid, json, json_len, &pb, d)))
		goto out;

	/* 2. append durably */
	sobs = calloc(in.nobs ? in.nobs : 1, sizeof(*sobs));
	if (!sobs) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0, o = 0; k < nvalid; k++) {
		size_t i = slot[k];
		sin[k] = (struct store_obj_in){
		    .json = pb.len && pb.len[i] ? slice_make(pb.texts.p + pb.off[i], pb.len[i])
		            : json[i] ? slice_make(json[i], json_len[i])
		                      : items[i].text,
		    .meta = items[i].meta && !marked[i] ? items[i].meta : &metas[i],
		    .collection = items[i].collection,
		    .date_added_us = items[i].date_added_us,
		    .producer = items[i].producer,
		    .key_id = items[i].key_id,
		    .obs = items[i].meta ? items[i].obs : &sobs[o],
		    .nobs = items[i].meta ? items[i].nobs : 0,
		};
		while (!items[i].meta && o < in.nobs && in.obs[o].obj == i) {
			sobs[o] = (struct store_obs){
			    in.obs[o].kind, slice_make(in.values.p + in.obs[o].off, in.obs[o].len)};
			sin[k].nobs++;
			o++;
		}
	}
	/* the signed batch is kept in the append's transaction: leaf j is the
	 * item leaf_item[j], which is sin[k] for slot[k] == leaf_item[j] */
	if (pb.nleaves) {
		size_t *in_of = calloc(n, sizeof(*in_of));
		if (!in_of) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < nvalid; k++)
			in_of[slot[k]] = k;
		for (size_t j = 0; j < pb.nleaves; j++)
			pb.leaf_item[j] = in_of[pb.leaf_item[j]];
		free(in_of);
		pb.rec = (struct store_prov_batch){
		    .alg = pb.alg,
		    .origin_hub = pb.root.origin_hub,
		    .root = pb.root.root,
		    .signed_at = pb.root.signed_at,
		    .signature = pb.root.signature,
		    .leaves = (const uint8_t *)pb.leaves,
		    .leaf_count = pb.nleaves,
		    .leaf_in = pb.leaf_item,
		};
		store_prov_stage(h->store, &pb.rec);
	}
	/* index changes are queued while the store works, and made under
	 * one hold of the readers' lock once the batch is durable */
	hub__lk_defer(h->lk, true);
	rc = store_append(h->store, sin, nvalid, sout, hub_unindex, h, d);
	hub__lk_defer(h->lk, false);
	if (rc) {
		hub__lk_discard(h->lk);
		goto out;
	}
	appended = true;

	/* 3. index what became current; warn about allowlisted values (the
	 * allowlist in force, held while we read it: a reload may replace it) */
	allow = hub_allowlist_get(h);
	for (size_t k = 0; k < nvalid; k++) {
		size_t i = slot[k];
		struct hub_result *r = &res[i];
		if (sout[k].status == STORE_DUPLICATE || sout[k].status == STORE_CONFLICT) {
			/* issue 9: judged only against what the poster may see */
			bool seen = true;
			if (items[i].may_see &&
			    (rc = stored_copy_seen(h, &items[i], sin[k].meta->id, sout[k].seq,
			                           &seen, d)))
				goto out;
			if (!seen) {
				answer_as_new(r, sin[k].meta);
				/* warnings included: a missing warning would tell the
				 * copy exists */
				warn_allowlisted(allow, items[i].path, &sin[k], r);
				continue;
			}
			if (sout[k].status == STORE_CONFLICT) {
				item_reject(r, items[i].path, TC_EEXIST,
				            "conflict: a different version with the same id and "
				            "modified is already stored");
				continue;
			}
		}
		if (sout[k].status == STORE_FOREIGN) {
			/* issue 9: stated only to a poster who sees the object */
			bool seen = true;
			if (items[i].may_see &&
			    (rc = any_version_seen(h, &items[i], sin[k].meta->id, &seen, d)))
				goto out;
			if (!seen) {
				answer_as_new(r, sin[k].meta);
				warn_allowlisted(allow, items[i].path, &sin[k], r);
				continue;
			}
			/* STIX 2.1 §3.6: only the object's creator makes new versions */
			item_reject(r, items[i].path, TC_EPERM,
			            "another organisation produced this object; only its producer "
			            "may add versions");
			continue;
		}
		r->verdict = sout[k].status == STORE_DUPLICATE ? HUB_DUPLICATE : HUB_ACCEPTED;
		r->tlp = sin[k].meta->tlp;
		r->seq = sout[k].seq;
		r->date_added_us = sout[k].date_added_us;
		if (sout[k].status == STORE_ADDED && sout[k].current && sin[k].meta->revoked) {
			/* keep match's revoked index in step once it exists; out of
			 * memory there only costs a "revoked" note, so it is dropped
			 * and rebuilt at the next need (hub__lk_apply) */
			for (size_t j = 0; j < sin[k].nobs; j++)
				if (!hub__lk_queue(h->lk, true, HUB_IOP_REVOKED, sin[k].obs[j].kind,
				                   sin[k].obs[j].value, sout[k].ref, 0)) {
					(void)hub__lk_apply(h);
					hub__lk_wlock(h->lk);
					hub__revoked_drop(h);
					hub__lk_wunlock(h->lk);
					break;
				}
		}
		warn_allowlisted(allow, items[i].path, &sin[k], r);
		if (sout[k].status == STORE_ADDED && !sin[k].nobs &&
		    strcmp(sin[k].meta->type, "indicator") == 0)
			hub_result_warn(r, "%s: warning: the pattern names no exact value an "
			                "enforcement point can apply (only = and IN comparisons, "
			                "alone or under OR, can be); accepted, but it makes no "
			                "decision", items[i].path ? items[i].path : "object");
		if (sout[k].status != STORE_ADDED || !sout[k].current || sin[k].meta->revoked)
			continue;
		if (sin[k].meta->valid_until_us && sin[k].nobs &&
		    (!h->due_us || sin[k].meta->valid_until_us < h->due_us))
			h->due_us = sin[k].meta->valid_until_us;
		for (size_t j = 0; j < sin[k].nobs; j++) {
			if (hub__lk_queue(h->lk, true, HUB_IOP_INDEX, sin[k].obs[j].kind,
			                  sin[k].obs[j].value, sout[k].ref,
			                  sin[k].meta->valid_until_us))
				continue;
			enum tcerr irc = hub__lk_apply(h);
			if (!irc) {
				hub__lk_wlock(h->lk);
				irc = index_add(h->index, sin[k].obs[j].kind, sin[k].obs[j].value,
				                sout[k].ref, sin[k].meta->valid_until_us);
				hub__lk_wunlock(h->lk);
			}
			if (irc == TC_ENOMEM) {
				rc = diag_set(d, irc,
				              "index: out of memory (the log is intact; "
				              "restart to rebuild the index)");
				goto out;
			}
		}
	}
out:
	/* the batch is durable: its index changes, at once for readers, and
	 * readers drop what they cached of versions that changed */
	if (hub__lk_commit(h, appended) == TC_ENOMEM && !rc)
		rc = diag_set(d, TC_ENOMEM,
		              "index: out of memory (the log is intact; restart to rebuild the "
		              "index)");
	allowlist_free(allow);
	prov_batch_free(&pb);
	if (json)
		for (size_t i = 0; i < n; i++)
			json_text_free(json[i]);
	free(json);
	free(json_len);
	free(slot);
	free(marked);
	free(sobs);
	free(sout);
	free(sin);
	free(metas);
	free(in.obs);
	buf_reset(&in.values);
	return rc;
}

/* ---- delete ---- */

enum tcerr
hub_delete(struct hub *h, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
           struct store_delete_out *out, struct diag *d)
{
	/* unindex: the deleted current version; reindex: the one that took
	 * its place. Only indicators carry observables in the store. */
	hub__lk_defer(h->lk, true);
	enum tcerr rc =
	    store_delete(h->store, q, may, may_ctx, hub_unindex, hub_index_one, h, out, d);
	hub__lk_defer(h->lk, false);
	if (hub__lk_commit(h, rc == TC_OK || out->deleted) == TC_ENOMEM && !rc)
		rc = TC_ENOMEM;
	if (rc == TC_ENOMEM && out->deleted)
		diag_set(d, rc,
		         "index: out of memory (the log is intact; restart to rebuild "
		         "the index)");
	return rc;
}

/* ---- match ---- */

/* Writes the network of prefix_len bits around an address as "a.b.c.d/n". */
void
hub__network_text(enum obs_kind kind, const char *addr, unsigned prefix_len, char *out, size_t outlen)
{
	unsigned char b[16];
	int af = kind == OBS_IPV6 ? AF_INET6 : AF_INET;
	size_t nbytes = af == AF_INET6 ? 16 : 4;
	char text[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (inet_pton(af, addr, b) != 1 || prefix_len > nbytes * 8)
		return;
	for (size_t i = 0; i < nbytes; i++) {
		unsigned keep = prefix_len > i * 8 ? prefix_len - (unsigned)i * 8 : 0;
		if (keep < 8)
			b[i] &= (unsigned char)(0xff << (8 - keep));
	}
	if (!inet_ntop(af, b, text, sizeof(text)))
		return;
	snprintf(out, outlen, "%s/%u", text, prefix_len);
}

/* Returns the parent domain labels_up labels above name. */
const char *
hub__parent_domain(const char *name, unsigned labels_up)
{
	const char *p = name;
	for (unsigned i = 0; i < labels_up && p; i++) {
		p = strchr(p, '.');
		if (p)
			p++;
	}
	return p ? p : name;
}

struct confirm {
	const struct hub *h;
	enum obs_kind kind;
	struct slice value; /* the indexed value the hit stands for */
	bool found;
	bool revoked;
	int64_t valid_until_us;
	int64_t collection;
	enum tlp_level tlp;
	char id[STIX_ID_MAX];
	int64_t producer;
	char key_id[STORE_KEY_ID_MAX + 1];
};

static enum tcerr
confirm_obs(void *ctx, enum obs_kind kind, struct slice value)
{
	struct confirm *c = ctx;
	if (kind == c->kind && slice_eq(value, c->value))
		c->found = true;
	return TC_OK;
}

/* Re-extracts the observables of the hit's current version and checks that
 * it really names the value, so a hash collision or a stale entry never
 * reaches the user. */
static enum store_row_verdict
confirm_row(void *ctx, const struct store_row *row)
{
	struct confirm *c = ctx;
	json_error_t jerr;
	struct stix_meta meta;
	struct diag d;
	json_t *obj = json_loadb(row->json.p, row->json.len, 0, &jerr);

	if (!obj)
		return STORE_ROW_STOP;
	if (stix_validate(obj, NULL, NULL, &meta, &d) == TC_OK)
		obs_extract(&c->h->obs, obj, &meta, confirm_obs, c, &d);
	json_decref(obj);
	c->collection = row->collection;
	c->revoked = row->revoked;
	c->valid_until_us = row->valid_until_us;
	c->tlp = row->tlp;
	snprintf(c->id, sizeof(c->id), "%s", row->id);
	c->producer = row->producer;
	snprintf(c->key_id, sizeof(c->key_id), "%s", row->key_id ? row->key_id : "");
	return STORE_ROW_TAKE;
}

struct collection_name {
	int64_t num;
	char *alias;
	size_t cap;
};

static enum tcerr
collection_by_num(void *ctx, const struct store_collection *c)
{
	struct collection_name *cn = ctx;
	if (c->num == cn->num)
		snprintf(cn->alias, cn->cap, "%s", c->alias);
	return TC_OK;
}

/* Fills hit->matched: the indexed value the hit stands for, when value
 * (of kind) was looked up. */
static void
hit_matched_value(enum obs_kind kind, const char *value, const struct index_hit *ih,
                  struct hub_hit *hit)
{
	switch (ih->how) {
	case INDEX_CIDR:
		/* a host entry is stored without "/32" or "/128" */
		if ((kind == OBS_IPV4 && ih->prefix_len == 32) ||
		    (kind == OBS_IPV6 && ih->prefix_len == 128))
			snprintf(hit->matched, sizeof(hit->matched), "%s", value);
		else
			hub__network_text(kind, value, ih->prefix_len, hit->matched,
			             sizeof(hit->matched));
		break;
	case INDEX_PARENT_DOMAIN:
		snprintf(hit->matched, sizeof(hit->matched), "%s",
		         hub__parent_domain(value, ih->labels_up));
		break;
	default:
		snprintf(hit->matched, sizeof(hit->matched), "%s", value);
	}
}

/* One lookup of a match: value of kind, standing for the matched value
 * through via. */
struct match_query {
	enum obs_kind kind;
	const char *value;
	enum hub_via via;
};

/* Looks q up in idx and adds what is confirmed: with want LIVE, the hits
 * (live at now) to out->hits; otherwise the expired (want EXPIRED, idx the
 * match index looked up with no time limit) or revoked (idx the revoked
 * index) indicators to out->inactive. */
static void
match_add(struct hub *h, const struct index *idx, const struct match_query *q,
          enum hub_hit_state want, int64_t now_us, struct hub_match *out)
{
	struct index_hit hits[HUB_MATCH_MAX_HITS];
	size_t nhits = index_lookup(idx, q->kind, slice_from_cstr(q->value),
	                            want == HUB_HIT_LIVE ? now_us : 0, hits, HUB_MATCH_MAX_HITS);
	size_t take = nhits < HUB_MATCH_MAX_HITS ? nhits : HUB_MATCH_MAX_HITS;
	for (size_t i = 0; i < take; i++) {
		struct hub_hit *hit;
		if (want == HUB_HIT_LIVE) {
			if (out->nhits >= HUB_MATCH_MAX_HITS) {
				out->nhits++;
				continue;
			}
			hit = &out->hits[out->nhits];
		} else {
			if (out->ninactive >= HUB_MATCH_MAX_INACTIVE)
				return;
			hit = &out->inactive[out->ninactive];
		}
		memset(hit, 0, sizeof(*hit));
		hit->ref = hits[i].ref;
		hit->how = hits[i].how;
		hit->prefix_len = hits[i].prefix_len;
		hit->via = q->via;
		/* a domain found for a URL's host or an e-mail's domain is the
		 * value's parent domain, whichever label it is */
		if (q->via != HUB_VIA_VALUE && q->kind == OBS_DOMAIN)
			hit->how = INDEX_PARENT_DOMAIN;
		/* an address inside a URL lies in the indicator's address or
		 * network */
		if (q->via != HUB_VIA_VALUE && q->kind != OBS_DOMAIN)
			hit->how = INDEX_CIDR;
		hit_matched_value(q->kind, q->value, &hits[i], hit);
		struct confirm c = {
		    .h = h,
		    .kind = hits[i].how == INDEX_PARENT_DOMAIN ? OBS_DOMAIN : q->kind,
		    .value = slice_from_cstr(hit->matched),
		};
		if (store_get_ref(h->store, hits[i].ref, confirm_row, &c) != TC_OK || !c.found)
			continue;
		bool expired = c.valid_until_us != 0 && c.valid_until_us <= now_us;
		enum hub_hit_state state = c.revoked ? HUB_HIT_REVOKED
		                           : expired ? HUB_HIT_EXPIRED
		                                     : HUB_HIT_LIVE;
		if (state != want)
			continue;
		hit->state = state;
		hit->valid_until_us = c.valid_until_us;
		memcpy(hit->indicator_id, c.id, sizeof(hit->indicator_id));
		hit->producer = c.producer;
		memcpy(hit->key_id, c.key_id, sizeof(hit->key_id));
		hit->tlp = c.tlp;
		struct collection_name cn = {c.collection, hit->collection,
		                             sizeof(hit->collection)};
		store_collection_list(h->store, collection_by_num, &cn);
		if (want == HUB_HIT_LIVE)
			out->nhits++;
		else
			out->ninactive++;
	}
	/* hits past the first HUB_MATCH_MAX_HITS are counted, not resolved */
	if (want == HUB_HIT_LIVE)
		out->nhits += nhits - take;
}

/* The host of a normalised URL ("scheme://[userinfo@]host[:port]/..."),
 * or of an e-mail address (after the last '@'), normalised as a domain or
 * an IP address. Returns false if there is none to look up. */
bool
hub__match_host(struct hub *h, enum obs_kind kind, const char *value, struct buf *host,
           enum obs_kind *hkind)
{
	struct slice s;
	struct diag d;

	if (kind == OBS_EMAIL) {
		const char *at = strrchr(value, '@');
		if (!at || !at[1] || at[1] == '[')
			return false;
		s = slice_from_cstr(at + 1);
		*hkind = OBS_DOMAIN;
		return obs_normalize(&h->obs, OBS_DOMAIN, s, host, &d) == TC_OK;
	}
	const char *p = strstr(value, "://");
	if (!p)
		return false;
	p += 3;
	size_t n = strcspn(p, "/?#");
	s = slice_make(p, n);
	/* userinfo: up to the last '@' of the authority */
	for (size_t i = s.len; i > 0; i--)
		if (s.p[i - 1] == '@') {
			s = slice_make(s.p + i, s.len - i);
			break;
		}
	if (s.len && s.p[0] == '[') {
		const char *close = memchr(s.p, ']', s.len);
		if (!close)
			return false;
		s = slice_make(s.p + 1, (size_t)(close - s.p - 1));
		*hkind = OBS_IPV6;
	} else {
		const char *colon = memchr(s.p, ':', s.len);
		if (colon)
			s.len = (size_t)(colon - s.p);
		enum obs_kind k;
		buf_clear(host);
		if (obs_classify(&h->obs, s, &k, host, &d) != TC_OK || k != OBS_IPV4)
			k = OBS_DOMAIN;
		*hkind = k;
	}
	if (!s.len)
		return false;
	buf_clear(host);
	return obs_normalize(&h->obs, *hkind, s, host, &d) == TC_OK && !buf_error(host);
}

static enum tcerr
revoked_add(void *ctx, uint32_t ref, enum obs_kind kind, struct slice value,
            int64_t valid_until_us)
{
	struct index *idx = ctx;
	/* a value the index cannot parse was refused at ingest; skip it */
	enum tcerr rc = index_add(idx, kind, value, ref, 0);
	return rc == TC_EINVAL ? TC_OK : rc;
}

/* Builds the index of revoked current versions, once, reading s. */
static enum tcerr
revoked_index(struct hub *h, struct store *s, struct diag *d)
{
	enum tcerr rc;
	if (h->revoked)
		return TC_OK;
	if ((rc = index_new(&h->revoked)))
		return diag_set(d, rc, "revoked index: %s", tcerr_str(rc));
	if ((rc = store_scan_revoked(s, revoked_add, h->revoked, d))) {
		index_free(h->revoked);
		h->revoked = NULL;
		if (!d->msg[0])
			diag_set(d, rc, "revoked index: %s", tcerr_str(rc));
	}
	return rc;
}

enum tcerr
hub_match(struct hub *h, struct slice value, const enum obs_kind *kind, struct hub_match *out,
          struct diag *d)
{
	struct buf norm, host;
	struct match_query q[2];
	size_t nq = 1;
	enum tcerr rc;
	int64_t now = ts_now_us();

	memset(out, 0, sizeof(*out));
	buf_init(&norm, OBS_VALUE_MAX);
	buf_init(&host, OBS_VALUE_MAX);
	if (kind) {
		out->kind = *kind;
		rc = obs_normalize(&h->obs, *kind, value, &norm, d);
	} else {
		rc = obs_classify(&h->obs, value, &out->kind, &norm, d);
	}
	if (rc)
		goto out;
	if (buf_error(&norm)) {
		rc =
		    diag_set(d, buf_error(&norm), "value too long (limit %d bytes)", OBS_VALUE_MAX);
		goto out;
	}
	memcpy(out->value, norm.p, norm.len + 1);
	const char *reason = NULL;
	out->allowlisted = allowlist_check(h->allow, out->kind, buf_slice(&norm), &reason);
	if (out->allowlisted && reason)
		snprintf(out->allowlist_reason, sizeof(out->allowlist_reason), "%s", reason);

	q[0] = (struct match_query){ out->kind, out->value, HUB_VIA_VALUE };
	enum obs_kind hkind;
	if ((out->kind == OBS_URL || out->kind == OBS_EMAIL) &&
	    hub__match_host(h, out->kind, out->value, &host, &hkind) && host.p)
		q[nq++] = (struct match_query){ hkind, host.p,
			                        out->kind == OBS_URL ? HUB_VIA_URL_HOST
			                                             : HUB_VIA_EMAIL_DOMAIN };
	for (size_t i = 0; i < nq; i++)
		match_add(h, h->index, &q[i], HUB_HIT_LIVE, now, out);
	if (out->nhits)
		goto out;
	/* A miss: say which indicators would have hit but expired or were
	 * revoked, so that a miss is never mistaken for "never listed". */
	for (size_t i = 0; i < nq; i++)
		match_add(h, h->index, &q[i], HUB_HIT_EXPIRED, now, out);
	if ((rc = revoked_index(h, h->store, d)))
		goto out;
	for (size_t i = 0; i < nq; i++)
		match_add(h, h->revoked, &q[i], HUB_HIT_REVOKED, now, out);
out:
	buf_reset(&norm);
	buf_reset(&host);
	return rc;
}

/* ---- for hub_lookup.c (hub_int.h) ---- */

struct hub_lk *
hub__lk(struct hub *h)
{
	return h->lk;
}

struct index *
hub__revoked(struct hub *h)
{
	return h->revoked;
}

void
hub__revoked_drop(struct hub *h)
{
	index_free(h->revoked);
	h->revoked = NULL;
}

enum tcerr
hub__revoked_build(struct hub *h, struct store *s, struct diag *d)
{
	return revoked_index(h, s, d);
}

const char *
hub_via_name(enum hub_via via)
{
	switch (via) {
	case HUB_VIA_VALUE:
		return "value";
	case HUB_VIA_URL_HOST:
		return "url-host";
	case HUB_VIA_EMAIL_DOMAIN:
		return "email-domain";
	}
	return "unknown";
}
