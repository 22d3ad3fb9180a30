/*
 * audit.c — the append-only, hash-chained audit log (audit.h).
 *
 * Each entry is one line of DIR/audit.log:
 *   {"n":N,"ts":"…","prev":"<64 hex>",<event members>,"hash":"<64 hex>"}
 * with the members always in that order. "hash" is the SHA-256 of the
 * exact bytes of the line without its hash member, i.e. the line up to
 * ',"hash":' followed by '}'; a verifier recomputes it from the stored
 * bytes without re-serialising anything. "prev" is the hash of entry N-1
 * (64 zeros for entry 1). DIR/audit.head holds {"n":N,"hash":"…"} of the
 * last entry made durable, replaced atomically (temporary file, fsync,
 * rename, directory fsync) after each sync.
 *
 * Invariants kept under a->mu: a->last_n / a->last_hash describe the last
 * complete line in the file (its size a->size); a->synced_n <= a->last_n
 * is what the head records; at most one thread syncs at a time
 * (a->syncing), the others wait for it and return at once when its sync
 * covered their entries (group commit). Between processes (the daemon
 * and a CLI command) an exclusive flock() on audit.log orders appends and
 * head updates: an appender first takes the chain up from the file's
 * last line if someone else wrote since, and the head only moves forward.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "audit/audit.h"
#include "crypto/hubkey.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/timestamp.h"

#define HASH_HEX 64
#define HASH_SUFFIX_LEN (sizeof(",\"hash\":\"") - 1 + HASH_HEX + 2) /* ,"hash":"…"} */
#define AUDIT_PATH_MAX 4096
#define AUDIT_HEAD_MAX 512     /* bytes of audit.head */
#define AUDIT_TAIL_CHUNK 65536 /* bytes read at a time when looking back for the tail */

/* What audit.head holds. */
struct head {
	uint64_t n;
	char hash[HASH_HEX + 1];
	bool has_ckpt;     /* a recovery checkpoint (absent in heads older than it) */
	struct audit_ckpt ckpt;
	bool has_sig;
	char sig[HUBKEY_SIG_HEX + 1];
};

struct audit {
	pthread_mutex_t mu;
	pthread_cond_t synced; /* signalled when a sync ends */
	int fd;                /* audit.log, O_APPEND */
	int lock_fd;           /* audit.lock: shared while open, exclusive to recover */
	bool exclusive;        /* opened by audit_open_writer() alone: may recover */
	bool has_ckpt;
	struct audit_ckpt ckpt; /* the head's checkpoint at open */
	bool has_key;
	struct hubkey key;     /* signs the head and seals */
	uint64_t last_seal_n;  /* entry number of the last seal (or of the open) */
	char dir[AUDIT_PATH_MAX];
	uint64_t last_n;
	char last_hash[HASH_HEX + 1];
	off_t size;        /* bytes of complete lines */
	uint64_t synced_n; /* entries the head covers */
	bool syncing;
	enum tcerr broken; /* sticky: a write left the file in an unknown state */
};

static const char zero_hash[HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void
sha256_hex(const char *p, size_t len, const char *tail, size_t tail_len, char out[HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx ctx;
	uint8_t dig[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)p);
	if (tail_len)
		sha256_update(&ctx, tail_len, (const uint8_t *)tail);
	sha256_digest(&ctx, sizeof(dig), dig);
	for (size_t i = 0; i < sizeof(dig); i++) {
		out[2 * i] = hex[dig[i] >> 4];
		out[2 * i + 1] = hex[dig[i] & 15];
	}
	out[HASH_HEX] = '\0';
}

static bool
is_hash_hex(const char *s, size_t len)
{
	if (len != HASH_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_digit(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return false;
	return true;
}

static int
path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
	unsigned c = p[0];
	size_t n;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Appends s as a JSON string; bytes that are not UTF-8 become U+FFFD, so
 * an entry is never refused for a caller's bad bytes (a request path, a
 * certificate subject). */
static void
append_text(struct buf *b, const char *s)
{
	size_t len = strlen(s), i = 0;
	struct buf clean;

	while (i < len) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	if (i == len) {
		buf_append_json_str(b, slice_make(s, len));
		return;
	}
	buf_init(&clean, 0);
	for (i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			buf_append_cstr(&clean, "\xef\xbf\xbd");
			i++;
		} else {
			buf_append(&clean, s + i, n);
			i += n;
		}
	}
	if (buf_error(&clean) && !b->err)
		b->err = buf_error(&clean); /* sticky, as buf's own errors */
	else
		buf_append_json_str(b, buf_slice(&clean));
	buf_reset(&clean);
}

/* Appends "key":"s" (after a comma unless first) when s is not NULL. */
static void
member_text(struct buf *b, const char *key, const char *s)
{
	if (!s)
		return;
	if (b->len)
		buf_append_char(b, ',');
	buf_printf(b, "\"%s\":", key);
	append_text(b, s);
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Appends ,"seqs":[[a,b],...]: the positions sorted and run together. */
static void
append_seqs(struct buf *b, const uint64_t *seqs, size_t n)
{
	uint64_t *v = malloc(n * sizeof(*v));
	size_t i = 0;
	bool first = true;

	if (!v) {
		if (!b->err)
			b->err = TC_ENOMEM;
		return;
	}
	memcpy(v, seqs, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u64);
	buf_append_cstr(b, b->len ? ",\"seqs\":[" : "\"seqs\":[");
	while (i < n) {
		size_t j = i;
		while (j + 1 < n && (v[j + 1] == v[j] || v[j + 1] == v[j] + 1))
			j++;
		buf_printf(b, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", v[i], v[j]);
		first = false;
		i = j + 1;
	}
	buf_append_char(b, ']');
	free(v);
}

/* The signed statement "entry n has hash h": what a head's sig, a seal
 * and an anchor sign. OUT: out (NUL-terminated); returns its length. */
static size_t
sign_msg(uint64_t n, const char *hash, char out[128])
{
	int len = snprintf(out, 128, "tocsin audit entry %" PRIu64 " hash %s", n, hash);
	return len < 0 ? 0 : (size_t)len; /* fits: 19 + 20 + 6 + 64 < 128 */
}

/* The event members of e as JSON text without braces ("" if none), the
 * members in this order: action, actor, org, collection, request,
 * status_id, http_status, ids, seqs, recovered, detail, seal. Written
 * directly (a POST lists ~1,000 ids: no JSON tree). seal is a seal
 * entry's signature (NULL for others). Errors: TC_ELIMIT, TC_ENOMEM. OUT:
 * *out (free()). */
static enum tcerr
event_text(const struct audit_entry *e, const char *seal, char **out, size_t *outlen,
           struct diag *d)
{
	struct buf b;
	enum tcerr rc;

	*out = NULL;
	buf_init(&b, AUDIT_LINE_MAX);
	member_text(&b, "action", e->action);
	member_text(&b, "actor", e->actor);
	member_text(&b, "org", e->org);
	member_text(&b, "collection", e->collection);
	member_text(&b, "request", e->request);
	member_text(&b, "status_id", e->status_id);
	if (e->http_status)
		buf_printf(&b, "%s\"http_status\":%d", b.len ? "," : "", e->http_status);
	if (e->nids) {
		buf_append_cstr(&b, b.len ? ",\"ids\":[" : "\"ids\":[");
		for (size_t i = 0; i < e->nids; i++) {
			if (i)
				buf_append_char(&b, ',');
			append_text(&b, e->ids[i] ? e->ids[i] : "");
		}
		buf_append_char(&b, ']');
	}
	if (e->nseqs)
		append_seqs(&b, e->seqs, e->nseqs);
	if (e->recovered)
		buf_append_cstr(&b, b.len ? ",\"recovered\":true" : "\"recovered\":true");
	member_text(&b, "detail", e->detail);
	member_text(&b, "seal", seal);
	rc = buf_error(&b);
	if (rc == TC_ELIMIT || (!rc && b.len + 2 > AUDIT_LINE_MAX)) {
		/* the limit counts the braces, as the entry's object has them */
		rc = diag_set(d, TC_ELIMIT, "audit entry: more than the limit of %d bytes",
		              AUDIT_LINE_MAX);
		goto out;
	}
	if (rc) {
		rc = diag_set(d, rc, "audit entry: out of memory");
		goto out;
	}
	if (!b.p) {
		b.p = malloc(1);
		if (!b.p) {
			rc = diag_set(d, TC_ENOMEM, "audit entry: out of memory");
			goto out;
		}
		b.p[0] = '\0';
	}
	*outlen = b.len;
	*out = b.p;
	return TC_OK;
out:
	buf_reset(&b);
	return rc;
}

static enum tcerr
write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return TC_EIO;
		}
		p += w;
		len -= (size_t)w;
	}
	return TC_OK;
}

/* Reads DIR/audit.head. OUT: *h. TC_ENOTFOUND when absent, TC_ECORRUPT
 * when unreadable, TC_EIO. */
static enum tcerr
head_read(const char *dir, struct head *h, struct diag *d)
{
	char path[AUDIT_PATH_MAX], text[AUDIT_HEAD_MAX];
	json_t *j = NULL, *jn, *jh, *jc, *jcn, *jca, *js;
	enum tcerr rc = TC_ECORRUPT;
	ssize_t len;
	int fd;

	memset(h, 0, sizeof(*h));
	if (path_join(path, sizeof(path), dir, AUDIT_HEAD_FILE))
		return diag_set(d, TC_EIO, "%s: path too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return diag_set(d, TC_ENOTFOUND, "%s: missing", path);
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	}
	len = read(fd, text, sizeof(text));
	close(fd);
	if (len < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	if ((size_t)len == sizeof(text))
		return diag_set(d, TC_ECORRUPT, "%s: longer than %d bytes", path, AUDIT_HEAD_MAX);
	j = json_loadb(text, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	jn = json_object_get(j, "n");
	jh = json_object_get(j, "hash");
	if (!json_is_integer(jn) || json_integer_value(jn) < 0 || !json_is_string(jh) ||
	    !is_hash_hex(json_string_value(jh), json_string_length(jh))) {
		diag_set(d, rc, "%s: not a head record {\"n\":N,\"hash\":\"…\"}", path);
		goto out;
	}
	h->n = (uint64_t)json_integer_value(jn);
	memcpy(h->hash, json_string_value(jh), HASH_HEX + 1);
	jc = json_object_get(j, "ckpt_seq");
	jcn = json_object_get(j, "ckpt_n");
	jca = json_object_get(j, "ckpt_at");
	if (json_is_integer(jc) && json_is_integer(jcn) && json_is_integer(jca) &&
	    json_integer_value(jc) >= 0 && json_integer_value(jcn) >= 0 &&
	    json_integer_value(jca) >= 0) {
		h->has_ckpt = true;
		h->ckpt.seq = (uint64_t)json_integer_value(jc);
		h->ckpt.n = (uint64_t)json_integer_value(jcn);
		h->ckpt.at = json_integer_value(jca);
	}
	js = json_object_get(j, "sig");
	if (js) {
		if (!json_is_string(js) || json_string_length(js) != HUBKEY_SIG_HEX) {
			diag_set(d, rc, "%s: sig is not %d hex digits", path, HUBKEY_SIG_HEX);
			goto out;
		}
		h->has_sig = true;
		memcpy(h->sig, json_string_value(js), HUBKEY_SIG_HEX + 1);
	}
	rc = TC_OK;
out:
	json_decref(j);
	return rc;
}

/* Replaces DIR/audit.head with h atomically and durably, signed with key
 * when not NULL. TC_EIO. */
static enum tcerr
head_write(const char *dir, const struct head *h, const struct hubkey *key, struct diag *d)
{
	char path[AUDIT_PATH_MAX], tmp[AUDIT_PATH_MAX], text[AUDIT_HEAD_MAX], msg[128];
	char sig[HUBKEY_SIG_HEX + 1] = "";
	int fd, len, dfd;

	if (path_join(path, sizeof(path), dir, AUDIT_HEAD_FILE) ||
	    path_join(tmp, sizeof(tmp), dir, AUDIT_HEAD_FILE ".tmp"))
		return diag_set(d, TC_EIO, "%s: path too long", dir);
	if (key)
		hubkey_sign_hex(key, msg, sign_msg(h->n, h->hash, msg), sig);
	/* a head from before checkpoints keeps having none: recovery must not
	 * take "unknown" for "from the start" */
	if (h->has_ckpt)
		len = snprintf(text, sizeof(text),
		               "{\"n\":%" PRIu64 ",\"hash\":\"%s\",\"ckpt_seq\":%" PRIu64
		               ",\"ckpt_n\":%" PRIu64 ",\"ckpt_at\":%" PRId64 "%s%s%s}\n",
		               h->n, h->hash, h->ckpt.seq, h->ckpt.n, h->ckpt.at,
		               key ? ",\"sig\":\"" : "", sig, key ? "\"" : "");
	else
		len = snprintf(text, sizeof(text), "{\"n\":%" PRIu64 ",\"hash\":\"%s\"%s%s%s}\n",
		               h->n, h->hash, key ? ",\"sig\":\"" : "", sig, key ? "\"" : "");
	if (len < 0 || (size_t)len >= sizeof(text))
		return diag_set(d, TC_EINTERNAL, "audit head: does not fit");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", tmp, strerror(errno));
	if (write_all(fd, text, (size_t)len) != TC_OK || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return diag_set(d, TC_EIO, "%s: %s", tmp, strerror(e));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(e));
	}
	/* the rename itself must survive a crash */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return diag_set(d, TC_EIO, "%s: %s", dir, strerror(e));
	}
	close(dfd);
	return TC_OK;
}

/* What a line says about itself, once its hash is checked. */
struct line_info {
	uint64_t n;
	char prev[HASH_HEX + 1];
	char hash[HASH_HEX + 1];
	bool is_seal;                  /* action audit.seal */
	char seal[HUBKEY_SIG_HEX + 1]; /* its signature ("" if malformed) */
	bool want_seqs;                /* set by the caller: keep the "seqs" member */
	json_t *seqs;                  /* then: the "seqs" member or NULL (json_decref) */
};

/* Checks one line (without its newline): JSON object, hash member last,
 * hash over the rest. Returns NULL when fine, else why (a static text). */
static const char *
line_check(const char *p, size_t len, struct line_info *li)
{
	static const char suffix_start[] = ",\"hash\":\"";
	json_t *j = NULL, *jn, *jp, *jh;
	const char *why = NULL;
	char computed[HASH_HEX + 1];
	size_t body;

	if (len > AUDIT_LINE_MAX + HASH_SUFFIX_LEN + 128)
		return "longer than an entry may be";
	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		why = "not a JSON object (an unchained line)";
		goto out;
	}
	jn = json_object_get(j, "n");
	jp = json_object_get(j, "prev");
	jh = json_object_get(j, "hash");
	if (!json_is_integer(jn) || json_integer_value(jn) < 1 || !json_is_string(jp) ||
	    !is_hash_hex(json_string_value(jp), json_string_length(jp)) || !json_is_string(jh) ||
	    !is_hash_hex(json_string_value(jh), json_string_length(jh))) {
		why = "lacks n, prev or hash (an unchained line)";
		goto out;
	}
	if (len < HASH_SUFFIX_LEN + 1 ||
	    memcmp(p + len - HASH_SUFFIX_LEN, suffix_start, sizeof(suffix_start) - 1) != 0 ||
	    p[len - 1] != '}' || p[len - 2] != '"') {
		why = "hash is not the last member";
		goto out;
	}
	li->n = (uint64_t)json_integer_value(jn);
	memcpy(li->prev, json_string_value(jp), HASH_HEX + 1);
	memcpy(li->hash, json_string_value(jh), HASH_HEX + 1);
	{
		const char *act = json_string_value(json_object_get(j, "action"));
		const json_t *js = json_object_get(j, "seal");
		li->is_seal = act && strcmp(act, "audit.seal") == 0;
		li->seal[0] = '\0';
		if (li->is_seal && json_is_string(js) && json_string_length(js) == HUBKEY_SIG_HEX)
			memcpy(li->seal, json_string_value(js), HUBKEY_SIG_HEX + 1);
		if (li->want_seqs)
			li->seqs = json_incref(json_object_get(j, "seqs"));
	}
	body = len - HASH_SUFFIX_LEN;
	sha256_hex(p, body, "}", 1, computed);
	if (memcmp(computed, li->hash, HASH_HEX) != 0)
		why = "hash does not match its content (the entry or its hash was altered)";
out:
	json_decref(j);
	return why;
}

/* The start of the line that ends just before offset end (the offset of
 * its newline, or the file size for an incomplete last line): the byte
 * after the previous newline, or 0. Scans back AUDIT_TAIL_CHUNK bytes at a
 * time, at most one entry's length. OUT: *start. TC_EIO, TC_ENOMEM. */
static enum tcerr
line_start(int fd, off_t end, off_t *start)
{
	const off_t longest = AUDIT_LINE_MAX + HASH_SUFFIX_LEN + 256;
	char *chunk = malloc(AUDIT_TAIL_CHUNK);
	off_t scan = end;

	if (!chunk)
		return TC_ENOMEM;
	*start = 0;
	while (scan > 0) {
		off_t from = scan >= AUDIT_TAIL_CHUNK ? scan - AUDIT_TAIL_CHUNK : 0;
		size_t n = (size_t)(scan - from);
		if (pread(fd, chunk, n, from) != (ssize_t)n) {
			free(chunk);
			return TC_EIO;
		}
		for (size_t i = n; i > 0; i--)
			if (chunk[i - 1] == '\n') {
				*start = from + (off_t)i;
				free(chunk);
				return TC_OK;
			}
		if (end - from > longest) {
			*start = from; /* too long to be an entry: it will fail its check */
			break;
		}
		scan = from;
	}
	free(chunk);
	return TC_OK;
}

/* Reads the line [start, end) (end: its newline's offset). OUT: *line
 * (free()), NUL-terminated. TC_EIO, TC_ENOMEM. */
static enum tcerr
line_read(int fd, off_t start, off_t end, char **line)
{
	size_t n = (size_t)(end - start);
	char *p = malloc(n + 1);

	*line = NULL;
	if (!p)
		return TC_ENOMEM;
	if (n && pread(fd, p, n, start) != (ssize_t)n) {
		free(p);
		return TC_EIO;
	}
	p[n] = '\0';
	*line = p;
	return TC_OK;
}

/* Takes DIR/audit.lock: exclusive without waiting when writer asks for
 * it and nobody else holds it (a->exclusive), else shared (waiting for a
 * recovery to end). TC_EIO. */
static enum tcerr
lock_take(struct audit *a, bool writer, struct diag *d)
{
	char path[AUDIT_PATH_MAX];

	if (path_join(path, sizeof(path), a->dir, AUDIT_LOCK_FILE))
		return diag_set(d, TC_EIO, "%s: path too long", a->dir);
	a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->lock_fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	if (writer && flock(a->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		a->exclusive = true;
		return TC_OK;
	}
	while (flock(a->lock_fd, LOCK_SH) != 0)
		if (errno != EINTR)
			return diag_set(d, TC_EIO, "%s: lock: %s", path, strerror(errno));
	return TC_OK;
}

/* Whether sig is a signature of (n, hash) by a key in DIR/hub.pub.history
 * (a key the hub signed with before a rotation). */
static bool
sig_holds_old(const char *dir, uint64_t n, const char *hash, const char *sig)
{
	struct hubkey_pub *old = NULL;
	size_t nold = 0;
	char msg[128];
	bool ok = false;
	struct diag d;

	if (!sig[0] || hubkey_history(dir, &old, &nold, &d) != TC_OK)
		return false;
	for (size_t i = nold; i-- > 0 && !ok;)
		ok = hubkey_pub_verify_hex(&old[i], msg, sign_msg(n, hash, msg), sig, strlen(sig));
	free(old);
	return ok;
}

/* Loads the hub key, creating it for a log that no signature covers yet
 * (a new hub, or one made before keys). Checks the head's signature.
 * TC_ECORRUPT, TC_EIO. */
static enum tcerr
key_take(struct audit *a, const struct head *h, bool have_head, struct diag *d)
{
	char msg[128];
	enum tcerr rc = hubkey_load(a->dir, &a->key, d);

	if (rc == TC_ENOTFOUND) {
		if (have_head && h->has_sig)
			return diag_set(d, TC_ECORRUPT,
			                "%s/%s: missing, but %s is signed (run tocsin audit verify)",
			                a->dir, HUBKEY_FILE, AUDIT_HEAD_FILE);
		diag_clear(d);
		rc = hubkey_create(a->dir, d);
		if (rc == TC_EEXIST) /* another process made it meanwhile */
			rc = TC_OK;
		if (rc == TC_OK)
			rc = hubkey_load(a->dir, &a->key, d);
	}
	if (rc != TC_OK)
		return rc;
	a->has_key = true;
	if (have_head && h->has_sig) {
		struct hubkey_pub pub;
		hubkey_pub_of(&a->key, &pub);
		/* a head signed before `tocsin hub-key rotate` holds with an old key */
		if (hubkey_pub_verify_hex(&pub, msg, sign_msg(h->n, h->hash, msg), h->sig,
		                          strlen(h->sig)) ||
		    sig_holds_old(a->dir, h->n, h->hash, h->sig))
			return TC_OK;
	}
	if (have_head && h->has_sig)
		return diag_set(d, TC_ECORRUPT,
		                "%s/%s: its signature does not verify with %s "
		                "(run tocsin audit verify)",
		                a->dir, AUDIT_HEAD_FILE, HUBKEY_FILE);
	return TC_OK;
}

static enum tcerr
audit_open_mode(const char *dir, bool writer, struct audit **out, struct diag *d)
{
	char path[AUDIT_PATH_MAX], head_hash[HASH_HEX + 1];
	struct audit *a = NULL;
	uint64_t head_n = 0;
	struct head head;
	struct stat st;
	enum tcerr rc;
	off_t complete, at;
	bool have_head;

	*out = NULL;
	if (path_join(path, sizeof(path), dir, AUDIT_FILE))
		return diag_set(d, TC_EIO, "%s: path too long", dir);
	a = calloc(1, sizeof(*a));
	if (!a)
		return diag_set(d, TC_ENOMEM, "audit: out of memory");
	a->fd = -1;
	a->lock_fd = -1;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return diag_set(d, TC_ENOMEM, "audit: cannot create a mutex");
	}
	if (pthread_cond_init(&a->synced, NULL) != 0) {
		pthread_mutex_destroy(&a->mu);
		free(a);
		return diag_set(d, TC_ENOMEM, "audit: cannot create a condition variable");
	}
	if (snprintf(a->dir, sizeof(a->dir), "%s", dir) >= (int)sizeof(a->dir)) {
		rc = diag_set(d, TC_EIO, "%s: path too long", dir);
		goto out;
	}
	memcpy(a->last_hash, zero_hash, sizeof(zero_hash));
	if ((rc = lock_take(a, writer, d)) != TC_OK)
		goto out;

	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0 || fstat(a->fd, &st) != 0) {
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = head_read(dir, &head, d);
	have_head = rc == TC_OK;
	if (rc != TC_OK && rc != TC_ENOTFOUND)
		goto out;
	if (!have_head && st.st_size > 0) {
		rc = diag_set(d, TC_ECORRUPT,
		              "%s: has entries but %s is missing (run tocsin audit verify)", path,
		              AUDIT_HEAD_FILE);
		goto out;
	}
	diag_clear(d);
	head_n = head.n;
	memcpy(head_hash, head.hash, sizeof(head_hash));
	if ((rc = key_take(a, &head, have_head, d)) != TC_OK)
		goto out;
	/* A new log starts with a checkpoint at the start of the store's log:
	 * whatever the store holds and no entry covers will be recovered. A
	 * head from before checkpoints has none: recovery starts from the
	 * store's position when it first runs. */
	a->has_ckpt = !have_head || head.has_ckpt;
	a->ckpt = head.ckpt;

	/* An incomplete last line is a write cut short by a crash: it was
	 * never synced, so nothing acknowledged it. Cut it off. */
	complete = st.st_size;
	if (complete > 0) {
		char c;
		if (pread(a->fd, &c, 1, complete - 1) != 1) {
			rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (c != '\n') {
			rc = line_start(a->fd, complete, &complete);
			if (rc != TC_OK) {
				diag_set(d, rc, "%s: cannot read the tail", path);
				goto out;
			}
		}
	}

	/* Walk back from the end to the entry the head names. Entries after
	 * it were appended but not synced before the last stop: kept. */
	at = complete;
	for (;;) {
		struct line_info li = { 0 };
		char *l = NULL;
		off_t s;
		const char *why;

		if (at == 0) {
			if (head_n != 0) {
				rc = diag_set(d, TC_ECORRUPT,
				              "%s: %s records %" PRIu64
				              " entries but the log ends before entry %" PRIu64
				              " (run tocsin audit verify)",
				              path, AUDIT_HEAD_FILE, head_n,
				              a->last_n ? a->last_n : 1);
				goto out;
			}
			break;
		}
		rc = line_start(a->fd, at - 1, &s);
		if (rc == TC_OK)
			rc = line_read(a->fd, s, at - 1, &l);
		if (rc != TC_OK) {
			diag_set(d, rc, "%s: cannot read the tail", path);
			goto out;
		}
		why = line_check(l, (size_t)(at - 1 - s), &li);
		free(l);
		if (why) {
			rc = diag_set(d, TC_ECORRUPT,
			              "%s: last entries: %s (run tocsin audit verify)", path, why);
			goto out;
		}
		if (at == complete) {
			a->last_n = li.n;
			memcpy(a->last_hash, li.hash, sizeof(li.hash));
		}
		if (li.n < head_n) {
			rc = diag_set(d, TC_ECORRUPT,
			              "%s: ends at entry %" PRIu64 " but %s records %" PRIu64
			              " (entries were cut off; run tocsin audit verify)",
			              path, li.n, AUDIT_HEAD_FILE, head_n);
			goto out;
		}
		if (li.n == head_n) {
			if (memcmp(li.hash, head_hash, HASH_HEX) != 0) {
				rc = diag_set(d, TC_ECORRUPT,
				              "%s: entry %" PRIu64
				              " does not match %s (run tocsin audit verify)",
				              path, li.n, AUDIT_HEAD_FILE);
				goto out;
			}
			break;
		}
		at = s;
	}
	if (complete != st.st_size && ftruncate(a->fd, complete) != 0) {
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	a->size = complete;
	a->synced_n = head_n;
	a->last_seal_n = a->last_n;
	if (!have_head) {
		memcpy(head.hash, zero_hash, sizeof(zero_hash));
		head.has_ckpt = true; /* at position 0 */
		rc = head_write(a->dir, &head, &a->key, d);
		if (rc != TC_OK)
			goto out;
	}
	*out = a;
	a = NULL;
	rc = TC_OK;
out:
	if (a) {
		if (a->fd >= 0)
			close(a->fd);
		if (a->lock_fd >= 0)
			close(a->lock_fd);
		hubkey_wipe(&a->key);
		pthread_cond_destroy(&a->synced);
		pthread_mutex_destroy(&a->mu);
		free(a);
	}
	return rc;
}

enum tcerr
audit_open(const char *dir, struct audit **out, struct diag *d)
{
	return audit_open_mode(dir, false, out, d);
}

enum tcerr
audit_open_writer(const char *dir, struct audit **out, struct diag *d)
{
	return audit_open_mode(dir, true, out, d);
}

bool
audit_may_recover(const struct audit *a)
{
	return a->exclusive;
}

void
audit_close(struct audit *a)
{
	if (!a)
		return;
	(void)audit_sync(a, NULL);
	close(a->fd);
	close(a->lock_fd); /* releases the lock */
	hubkey_wipe(&a->key);
	pthread_cond_destroy(&a->synced);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* Called with a->mu and the file lock held: if another process appended
 * since our last write (the CLI's registry commands while the daemon
 * runs), takes the chain up from the file's last line. TC_EIO,
 * TC_ECORRUPT, TC_ENOMEM. */
static enum tcerr
catch_up(struct audit *a, struct diag *d)
{
	struct line_info li = { 0 };
	struct stat st;
	const char *why;
	char *l = NULL;
	enum tcerr rc;
	off_t s;
	char c;

	if (fstat(a->fd, &st) != 0)
		return diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(errno));
	if (st.st_size == a->size)
		return TC_OK;
	if (st.st_size < a->size || pread(a->fd, &c, 1, st.st_size - 1) != 1 || c != '\n')
		return diag_set(d, TC_ECORRUPT, "%s/%s: changed under us (run tocsin audit verify)",
		                a->dir, AUDIT_FILE);
	rc = line_start(a->fd, st.st_size - 1, &s);
	if (rc == TC_OK)
		rc = line_read(a->fd, s, st.st_size - 1, &l);
	if (rc != TC_OK)
		return diag_set(d, rc, "%s/%s: cannot read the tail", a->dir, AUDIT_FILE);
	why = line_check(l, (size_t)(st.st_size - 1 - s), &li);
	free(l);
	if (why || li.n <= a->last_n)
		return diag_set(d, TC_ECORRUPT, "%s/%s: last entry: %s (run tocsin audit verify)",
		                a->dir, AUDIT_FILE, why ? why : "numbered backwards");
	a->last_n = li.n;
	memcpy(a->last_hash, li.hash, sizeof(li.hash));
	a->size = st.st_size;
	return TC_OK;
}

/* Called with a->mu and the file lock held: writes the entry numbered
 * a->last_n + 1 with the event members ev (evlen bytes, may be 0) and
 * takes the chain forward. buf is scratch. TC_EIO, TC_ENOMEM, TC_ELIMIT. */
static enum tcerr
write_entry(struct audit *a, int64_t ts_us, const char *ev, size_t evlen, struct buf *line,
            struct diag *d)
{
	char ts[TS_TEXT_MAX], hash[HASH_HEX + 1];
	enum tcerr rc;

	buf_clear(line);
	ts_format(ts_us ? ts_us : ts_now_us(), 6, ts);
	buf_printf(line, "{\"n\":%" PRIu64 ",\"ts\":\"%s\",\"prev\":\"%s\"", a->last_n + 1, ts,
	           a->last_hash);
	/* the event may be ~100 KB (a POST's ids): appended, not formatted */
	if (evlen) {
		buf_append_char(line, ',');
		buf_append(line, ev, evlen);
	}
	buf_append_char(line, '}');
	if (buf_error(line))
		return diag_set(d, buf_error(line), "audit entry: %s", tcerr_str(buf_error(line)));
	sha256_hex(line->p, line->len, NULL, 0, hash);
	buf_truncate(line, line->len - 1);
	buf_printf(line, ",\"hash\":\"%s\"}\n", hash);
	if (buf_error(line))
		return diag_set(d, buf_error(line), "audit entry: %s", tcerr_str(buf_error(line)));
	rc = write_all(a->fd, line->p, line->len);
	if (rc != TC_OK) {
		int err = errno;
		/* Take the partial line back so the file stays a chain. */
		if (ftruncate(a->fd, a->size) != 0)
			a->broken = TC_EIO;
		return diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(err));
	}
	a->size += (off_t)line->len;
	a->last_n++;
	memcpy(a->last_hash, hash, sizeof(hash));
	return TC_OK;
}

/* Called as write_entry: every AUDIT_SEAL_EVERY entries, a seal entry
 * {"action":"audit.seal","seal":"<sig>"} whose signature says "entry
 * n-1 has hash prev", so that a chain rebuilt without the key fails at
 * the first seal after the change. */
static enum tcerr
maybe_seal(struct audit *a, struct buf *line, struct diag *d)
{
	char msg[128], sig[HUBKEY_SIG_HEX + 1], ev[HUBKEY_SIG_HEX + 64];
	int n;

	if (!a->has_key || a->last_n < a->last_seal_n + AUDIT_SEAL_EVERY)
		return TC_OK;
	hubkey_sign_hex(&a->key, msg, sign_msg(a->last_n, a->last_hash, msg), sig);
	n = snprintf(ev, sizeof(ev), "\"action\":\"audit.seal\",\"seal\":\"%s\"", sig);
	if (n < 0 || (size_t)n >= sizeof(ev))
		return diag_set(d, TC_EINTERNAL, "audit seal: does not fit");
	enum tcerr rc = write_entry(a, 0, ev, (size_t)n, line, d);
	if (rc == TC_OK)
		a->last_seal_n = a->last_n;
	return rc;
}

enum tcerr
audit_append(struct audit *a, const struct audit_entry *e, struct diag *d)
{
	char *ev = NULL;
	size_t evlen = 0;
	struct buf line;
	bool locked = false;
	enum tcerr rc;

	if (!e->action || !*e->action)
		return diag_set(d, TC_EINVAL, "audit entry: no action");
	if (e->nids > AUDIT_IDS_MAX)
		return diag_set(d, TC_ELIMIT, "audit entry: %zu ids, more than the limit of %d",
		                e->nids, AUDIT_IDS_MAX);
	if (e->nseqs > AUDIT_SEQS_MAX)
		return diag_set(d, TC_ELIMIT,
		                "audit entry: %zu log positions, more than the limit of %d",
		                e->nseqs, AUDIT_SEQS_MAX);
	rc = event_text(e, NULL, &ev, &evlen, d);
	if (rc != TC_OK)
		return rc;
	buf_init(&line, AUDIT_LINE_MAX + HASH_SUFFIX_LEN + 256);

	pthread_mutex_lock(&a->mu);
	if (a->broken) {
		rc = diag_set(d, a->broken, "audit log: an earlier write failed; reopen it");
		goto unlock;
	}
	/* Several processes may append (the daemon and the CLI): the file
	 * lock orders them, catch_up() continues the other's chain. */
	while (flock(a->fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			rc = diag_set(d, TC_EIO, "%s/%s: lock: %s", a->dir, AUDIT_FILE,
			              strerror(errno));
			goto unlock;
		}
	locked = true;
	if ((rc = catch_up(a, d)) != TC_OK)
		goto unlock;
	if ((rc = write_entry(a, e->ts_us, ev, evlen, &line, d)) != TC_OK)
		goto unlock;
	/* the entry is written: a seal that fails is retried after the next */
	if (maybe_seal(a, &line, d) != TC_OK)
		diag_clear(d);
unlock:
	if (locked)
		(void)flock(a->fd, LOCK_UN);
	pthread_mutex_unlock(&a->mu);
	buf_reset(&line);
	free(ev);
	return rc;
}

/* Moves the head to entry n unless another process already moved it
 * further (the head never goes back); sets the checkpoint to *ckpt when
 * not NULL, else keeps the head's. TC_EIO. */
static enum tcerr
head_advance(struct audit *a, uint64_t n, const char *hash, const struct audit_ckpt *ckpt,
             struct diag *d)
{
	struct head cur;
	enum tcerr rc;

	while (flock(a->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return diag_set(d, TC_EIO, "%s/%s: lock: %s", a->dir, AUDIT_FILE,
			                strerror(errno));
	rc = head_read(a->dir, &cur, d);
	if (rc != TC_OK || cur.n < n || ckpt) {
		struct head h = { .n = n };
		memcpy(h.hash, hash, HASH_HEX + 1);
		if (rc == TC_OK && cur.n >= n) { /* only the checkpoint moves */
			h.n = cur.n;
			memcpy(h.hash, cur.hash, sizeof(h.hash));
		}
		if (ckpt) {
			h.has_ckpt = true;
			h.ckpt = *ckpt;
		} else if (rc == TC_OK && cur.has_ckpt) {
			h.has_ckpt = true;
			h.ckpt = cur.ckpt;
		} else {
			h.has_ckpt = a->has_ckpt;
			h.ckpt = a->ckpt;
		}
		diag_clear(d);
		rc = head_write(a->dir, &h, a->has_key ? &a->key : NULL, d);
	}
	(void)flock(a->fd, LOCK_UN);
	return rc;
}

enum tcerr
audit_sync(struct audit *a, struct diag *d)
{
	enum tcerr rc = TC_OK;
	uint64_t target;

	pthread_mutex_lock(&a->mu);
	target = a->last_n;
	while (a->synced_n < target) {
		uint64_t n;
		char hash[HASH_HEX + 1];

		if (a->syncing) {
			/* another thread is syncing: its sync may cover us */
			pthread_cond_wait(&a->synced, &a->mu);
			continue;
		}
		a->syncing = true;
		n = a->last_n;
		memcpy(hash, a->last_hash, sizeof(hash));
		pthread_mutex_unlock(&a->mu);

		if (fdatasync(a->fd) != 0)
			rc = diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(errno));
		else
			rc = head_advance(a, n, hash, NULL, d);

		pthread_mutex_lock(&a->mu);
		a->syncing = false;
		if (rc == TC_OK && n > a->synced_n)
			a->synced_n = n;
		pthread_cond_broadcast(&a->synced);
		if (rc != TC_OK)
			break;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static void report_bad(struct audit_report *r, uint64_t entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_bad(struct audit_report *r, uint64_t entry, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->ok = false;
	r->bad_entry = entry;
	if (entry)
		n = snprintf(r->why, sizeof(r->why), "entry %" PRIu64 ": ", entry);
	else
		n = 0;
	if (n < 0 || (size_t)n >= sizeof(r->why))
		return;
	va_start(ap, fmt);
	/* a truncated reason is still a reason */
	(void)vsnprintf(r->why + n, sizeof(r->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Reads DIR/hub.pub. OUT: pk. Returns TC_OK, TC_ENOTFOUND, or another
 * error (with why in d). */
static enum tcerr
pub_read(const char *dir, struct hubkey_pub *pk, struct diag *d)
{
	return hubkey_load_pub(dir, pk, d);
}

static bool
sig_holds(const struct hubkey_pub *pk, uint64_t n, const char *hash, const char *sig)
{
	char msg[128];
	return sig[0] && hubkey_pub_verify_hex(pk, msg, sign_msg(n, hash, msg), sig, strlen(sig));
}

/* As sig_holds with hub.pub, or a key the hub rotated away from. */
static bool
sig_holds_dir(const char *dir, const struct hubkey_pub *pk, uint64_t n, const char *hash,
              const char *sig)
{
	return sig_holds(pk, n, hash, sig) || sig_holds_old(dir, n, hash, sig);
}

static bool
pub_eq(const struct hubkey_pub *a, const struct hubkey_pub *b)
{
	return a->alg == b->alg && a->len == b->len && memcmp(a->pk, b->pk, a->len) == 0;
}

/* The walk of audit_verify and audit_verify_anchored. */
static enum tcerr
verify(const char *dir, const struct audit_anchor *anchor, struct audit_report *r,
       struct diag *d)
{
	char path[AUDIT_PATH_MAX], head_hash[HASH_HEX + 1], prev[HASH_HEX + 1];
	struct hubkey_pub pk;
	uint64_t head_n = 0, expect = 1, good_seal = 0;
	struct head head;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = NULL;
	enum tcerr rc;
	bool head_matched = false, anchor_matched = false, have_pub;

	memset(r, 0, sizeof(*r));
	r->ok = true;
	if (path_join(path, sizeof(path), dir, AUDIT_FILE))
		return diag_set(d, TC_EIO, "%s: path too long", dir);
	rc = pub_read(dir, &pk, d);
	if (rc != TC_OK && rc != TC_ENOTFOUND) {
		report_bad(r, 0, "%s", d && d->msg[0] ? d->msg : "hub.pub unreadable");
		diag_clear(d);
		return TC_OK;
	}
	have_pub = rc == TC_OK;
	diag_clear(d);
	if (anchor) {
		char mine[HUBKEY_ID_MAX], theirs[HUBKEY_ID_MAX];
		if (!have_pub || !pub_eq(&pk, &anchor->pk)) {
			hubkey_pub_line(&anchor->pk, theirs);
			if (have_pub)
				hubkey_pub_line(&pk, mine);
			report_bad(r, 0, "%s is %s, not the anchor's key %s (the hub key was replaced)",
			           HUBKEY_PUB_FILE, have_pub ? mine : "missing", theirs);
			return TC_OK;
		}
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		/* no log: fine only if there never was one */
		rc = head_read(dir, &head, d);
		if (rc == TC_ENOTFOUND && !anchor)
			return diag_set(d, TC_ENOTFOUND, "%s: no audit log", path);
		if (rc == TC_EIO)
			return rc;
		diag_clear(d);
		if (rc != TC_OK || head.n > 0 || anchor)
			report_bad(r, 1, "missing: %s is gone but %s records %" PRIu64 " entries",
			           AUDIT_FILE, rc == TC_OK ? AUDIT_HEAD_FILE : "the anchor",
			           rc == TC_OK ? head.n : anchor->n);
		return TC_OK;
	}
	rc = head_read(dir, &head, d);
	if (rc == TC_EIO)
		goto out;
	if (rc != TC_OK) {
		/* missing or unreadable head: the tail cannot be checked */
		report_bad(r, 0, "%s", d && d->msg[0] ? d->msg : "audit.head unreadable");
		diag_clear(d);
		rc = TC_OK;
		goto out;
	}
	head_n = head.n;
	memcpy(head_hash, head.hash, sizeof(head_hash));
	memcpy(prev, zero_hash, sizeof(prev));
	while ((len = getline(&line, &cap, f)) > 0) {
		struct line_info li = { 0 };
		const char *why;

		if (line[len - 1] != '\n') {
			report_bad(r, expect, "incomplete last line (no newline)");
			goto done;
		}
		why = line_check(line, (size_t)len - 1, &li);
		if (why) {
			report_bad(r, expect, "%s", why);
			goto done;
		}
		if (li.n != expect) {
			if (li.n > expect)
				report_bad(r, expect,
				           "missing: the next line is entry %" PRIu64
				           " (entries removed or reordered)",
				           li.n);
			else
				report_bad(r, expect,
				           "line holds entry %" PRIu64
				           " (entries reordered or repeated)",
				           li.n);
			goto done;
		}
		if (memcmp(li.prev, prev, HASH_HEX) != 0) {
			report_bad(r, expect,
			           "prev does not match the hash of entry %" PRIu64
			           " (an entry before it was removed or altered)",
			           expect - 1);
			goto done;
		}
		if (li.is_seal && have_pub) {
			if (!sig_holds_dir(dir, &pk, li.n - 1, li.prev, li.seal)) {
				report_bad(r, good_seal + 1,
				           "entries %" PRIu64 " to %" PRIu64
				           " were rewritten without the hub's key (the seal at entry "
				           "%" PRIu64 " does not verify with %s)",
				           good_seal + 1, li.n - 1, li.n, HUBKEY_PUB_FILE);
				goto done;
			}
			good_seal = li.n;
		}
		if (li.n == head_n) {
			if (memcmp(li.hash, head_hash, HASH_HEX) != 0) {
				report_bad(r, expect, "hash differs from the one %s records",
				           AUDIT_HEAD_FILE);
				goto done;
			}
			head_matched = true;
		}
		if (anchor && li.n == anchor->n) {
			if (memcmp(li.hash, anchor->hash, HASH_HEX) != 0) {
				report_bad(r, expect,
				           "hash differs from the anchor's (the chain was rewritten up "
				           "to here)");
				goto done;
			}
			anchor_matched = true;
		}
		memcpy(prev, li.hash, sizeof(prev));
		r->entries++;
		expect++;
	}
	if (ferror(f)) {
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (head_n > 0 && !head_matched) {
		report_bad(r, r->entries + 1,
		           "missing: %s records %" PRIu64 " entries, the log ends after %" PRIu64
		           " (entries cut off the end)",
		           AUDIT_HEAD_FILE, head_n, r->entries);
		goto done;
	}
	if (anchor && !anchor_matched && anchor->n > 0) {
		report_bad(r, r->entries + 1,
		           "missing: the anchor records entry %" PRIu64
		           ", the log ends after %" PRIu64 " (entries cut off or the log replaced)",
		           anchor->n, r->entries);
		goto done;
	}
	/* The chain holds: the head must carry the hub's signature. */
	if (have_pub && !head.has_sig)
		report_bad(r, good_seal + 1,
		           "%s is not signed though the hub has a key (%s): entries %" PRIu64
		           " to %" PRIu64 " cannot be trusted",
		           AUDIT_HEAD_FILE, HUBKEY_PUB_FILE, good_seal + 1, head_n);
	else if (head.has_sig && !have_pub)
		report_bad(r, 0, "%s: missing: the signed head cannot be checked", HUBKEY_PUB_FILE);
	else if (have_pub && !sig_holds_dir(dir, &pk, head_n, head_hash, head.sig))
		report_bad(r, good_seal + 1,
		           "entries %" PRIu64 " to %" PRIu64
		           " were rewritten without the hub's key (%s's signature does not "
		           "verify with %s)",
		           good_seal + 1, head_n, AUDIT_HEAD_FILE, HUBKEY_PUB_FILE);
done:
	rc = TC_OK;
out:
	free(line);
	fclose(f);
	return rc;
}

enum tcerr
audit_verify(const char *dir, struct audit_report *r, struct diag *d)
{
	return verify(dir, NULL, r, d);
}

enum tcerr
audit_verify_anchored(const char *dir, const struct audit_anchor *anchor,
                      struct audit_report *r, struct diag *d)
{
	return verify(dir, anchor, r, d);
}

enum tcerr
audit_anchor_text(const char *dir, char text[AUDIT_ANCHOR_TEXT_MAX], struct diag *d)
{
	char pubtext[HUBKEY_ID_MAX];
	struct hubkey_pub pk;
	struct head h;
	enum tcerr rc;
	int n;

	if ((rc = head_read(dir, &h, d)) != TC_OK)
		return rc;
	if ((rc = pub_read(dir, &pk, d)) != TC_OK)
		return rc == TC_ENOTFOUND ? diag_set(d, TC_ECORRUPT, "%s/%s: missing", dir,
		                                      HUBKEY_PUB_FILE)
		                          : rc;
	if (!h.has_sig)
		return diag_set(d, TC_ECORRUPT, "%s/%s: not signed yet (no entry since the key was made)",
		                dir, AUDIT_HEAD_FILE);
	if (!sig_holds(&pk, h.n, h.hash, h.sig))
		return diag_set(d, TC_ECORRUPT,
		                "%s/%s: its signature does not verify with %s (run tocsin audit "
		                "verify)",
		                dir, AUDIT_HEAD_FILE, HUBKEY_PUB_FILE);
	hubkey_pub_line(&pk, pubtext);
	n = snprintf(text, AUDIT_ANCHOR_TEXT_MAX,
	             "{\"hub_key\":\"%s\",\"n\":%" PRIu64 ",\"hash\":\"%s\",\"sig\":\"%s\"}",
	             pubtext, h.n, h.hash, h.sig);
	if (n < 0 || n >= AUDIT_ANCHOR_TEXT_MAX)
		return diag_set(d, TC_EINTERNAL, "audit anchor: does not fit");
	return TC_OK;
}

enum tcerr
audit_anchor_parse(const char *text, size_t len, struct audit_anchor *out, struct diag *d)
{
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *jk = json_object_get(j, "hub_key"), *jn = json_object_get(j, "n");
	json_t *jh = json_object_get(j, "hash"), *js = json_object_get(j, "sig");
	enum tcerr rc = TC_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j) || !json_is_string(jk) || !json_is_integer(jn) ||
	    json_integer_value(jn) < 0 || !json_is_string(jh) ||
	    !is_hash_hex(json_string_value(jh), json_string_length(jh)) || !json_is_string(js)) {
		diag_set(d, rc, "not an anchor {\"hub_key\":…,\"n\":N,\"hash\":…,\"sig\":…} "
		                "(tocsin audit anchor prints one)");
		goto out;
	}
	if (!hubkey_pub_parse(json_string_value(jk), json_string_length(jk), ' ', &out->pk, NULL)) {
		diag_set(d, rc, "anchor: hub_key is not \"<alg> <hex digits>\"");
		goto out;
	}
	out->n = (uint64_t)json_integer_value(jn);
	memcpy(out->hash, json_string_value(jh), HASH_HEX + 1);
	if (!sig_holds(&out->pk, out->n, out->hash, json_string_value(js))) {
		diag_set(d, rc, "anchor: its signature does not verify with its hub_key (the anchor "
		                "was altered)");
		goto out;
	}
	rc = TC_OK;
out:
	json_decref(j);
	return rc;
}

/* ---- recovery support ---- */

struct audit_seqset {
	uint64_t (*r)[2]; /* sorted, disjoint [first, last] */
	size_t n, cap;
};

static int
cmp_range(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

bool
audit_seqset_has(const struct audit_seqset *s, uint64_t seq)
{
	size_t lo = 0, hi = s ? s->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seq < s->r[mid][0])
			hi = mid;
		else if (seq > s->r[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
audit_seqset_covers(const struct audit_seqset *s, uint64_t first, uint64_t last)
{
	size_t lo = 0, hi = s ? s->n : 0;
	if (first > last)
		return true;
	while (lo < hi) { /* the range holding first, if any */
		size_t mid = lo + (hi - lo) / 2;
		if (first < s->r[mid][0])
			hi = mid;
		else if (first > s->r[mid][1])
			lo = mid + 1;
		else
			return last <= s->r[mid][1]; /* ranges are merged: one must hold both */
	}
	return false;
}

void
audit_seqset_free(struct audit_seqset *s)
{
	if (!s)
		return;
	free(s->r);
	free(s);
}

static bool
seqset_add(struct audit_seqset *s, uint64_t first, uint64_t last)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *p = realloc(s->r, cap * sizeof(*s->r));
		if (!p)
			return false;
		s->r = p;
		s->cap = cap;
	}
	s->r[s->n][0] = first;
	s->r[s->n][1] = last;
	s->n++;
	return true;
}

enum tcerr
audit_covered(struct audit *a, bool *has_ckpt, struct audit_ckpt *ckpt,
              struct audit_seqset **covered, struct diag *d)
{
	struct audit_seqset *set = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = NULL;
	int fd = -1;
	enum tcerr rc = TC_OK;
	off_t from, to;

	*covered = NULL;
	if (!a->exclusive)
		return diag_set(d, TC_EPERM, "audit log: opened by other processes too; recovery "
		                             "is left to the next program that opens it alone");
	*has_ckpt = a->has_ckpt;
	*ckpt = a->ckpt;
	if (!(set = calloc(1, sizeof(*set))))
		return diag_set(d, TC_ENOMEM, "audit: out of memory");
	pthread_mutex_lock(&a->mu);
	to = a->size;
	pthread_mutex_unlock(&a->mu);
	from = a->has_ckpt && a->ckpt.at >= 0 && a->ckpt.at <= to ? (off_t)a->ckpt.at : 0;
	if (from > 0) { /* must be a line's start; else read everything */
		char c;
		if (pread(a->fd, &c, 1, from - 1) != 1 || c != '\n')
			from = 0;
	}
	fd = dup(a->fd);
	if (fd < 0 || lseek(fd, from, SEEK_SET) < 0 || !(f = fdopen(fd, "re"))) {
		rc = diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(errno));
		if (fd >= 0 && !f)
			close(fd);
		goto out;
	}
	while (from < to && (len = getline(&line, &cap, f)) > 0) {
		struct line_info li = { .want_seqs = true };
		size_t i;
		json_t *rg;

		from += len;
		if (line[len - 1] != '\n' || line_check(line, (size_t)len - 1, &li))
			continue; /* audit_open checked the tail; verify reports the rest */
		json_array_foreach(li.seqs, i, rg) {
			json_t *j0 = json_array_get(rg, 0), *j1 = json_array_get(rg, 1);
			if (json_is_integer(j0) && json_is_integer(j1) && json_integer_value(j0) > 0 &&
			    json_integer_value(j1) >= json_integer_value(j0) &&
			    !seqset_add(set, (uint64_t)json_integer_value(j0),
			                (uint64_t)json_integer_value(j1))) {
				json_decref(li.seqs);
				rc = diag_set(d, TC_ENOMEM, "audit: out of memory");
				goto out;
			}
		}
		json_decref(li.seqs);
	}
	if (ferror(f)) {
		rc = diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(errno));
		goto out;
	}
	/* sort and merge */
	if (set->n) {
		size_t k = 0;
		qsort(set->r, set->n, sizeof(*set->r), cmp_range);
		for (size_t i = 1; i < set->n; i++) {
			if (set->r[i][0] <= set->r[k][1] + 1) {
				if (set->r[i][1] > set->r[k][1])
					set->r[k][1] = set->r[i][1];
			} else {
				k++;
				set->r[k][0] = set->r[i][0];
				set->r[k][1] = set->r[i][1];
			}
		}
		set->n = k + 1;
	}
	*covered = set;
	set = NULL;
out:
	if (f)
		fclose(f);
	free(line);
	audit_seqset_free(set);
	return rc;
}

enum tcerr
audit_checkpoint(struct audit *a, uint64_t seq, struct diag *d)
{
	struct audit_ckpt c;
	enum tcerr rc;

	if (!a->exclusive)
		return diag_set(d, TC_EPERM, "audit log: not opened alone");
	if ((rc = audit_sync(a, d)) != TC_OK)
		return rc;
	pthread_mutex_lock(&a->mu);
	c = (struct audit_ckpt){ .seq = seq, .n = a->last_n, .at = (int64_t)a->size };
	char hash[HASH_HEX + 1];
	uint64_t n = a->last_n;
	memcpy(hash, a->last_hash, sizeof(hash));
	pthread_mutex_unlock(&a->mu);
	if (fdatasync(a->fd) != 0)
		return diag_set(d, TC_EIO, "%s/%s: %s", a->dir, AUDIT_FILE, strerror(errno));
	if ((rc = head_advance(a, n, hash, &c, d)) != TC_OK)
		return rc;
	a->has_ckpt = true;
	a->ckpt = c;
	/* others may open the log now (converting may drop the lock for a
	 * moment: a process that takes it then sees the checkpoint just made) */
	while (flock(a->lock_fd, LOCK_SH) != 0)
		if (errno != EINTR)
			return diag_set(d, TC_EIO, "%s/%s: lock: %s", a->dir, AUDIT_LOCK_FILE,
			                strerror(errno));
	a->exclusive = false;
	return TC_OK;
}
