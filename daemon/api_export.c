/*
 * api_export.c — GET /api/v1/export/{format}[/{part}] (see api_export.h).
 *
 * The order of a request: route (format and part, 404), query (400), the
 * ETag from what decides the content (log position, registry snapshot,
 * allowlist in force, principal, path, query) and If-None-Match (304,
 * nothing read), then the export into an unlinked temporary file in the
 * data directory, sent from that file with its length. Every export reads
 * through policy (feed_snapshot judges each decision for the principal;
 * stix and csv go through policy_row per version), then the allowlist
 * (export_filter_value), as the library does for every output.
 */
#include "api_export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "export/export.h"
#include "export/export_dec.h"
#include "export/export_query.h"
#include "feed/feed.h"
#include "hub/hub.h"
#include "stix/stix_id.h"
#include "util/buf.h"

#define JSON_TYPE "application/json"
#define ETAG_MAX 48

/* One value per process: ETags of an earlier run never match. */
static uint64_t
boot_nonce(void)
{
	static _Atomic uint64_t nonce;
	uint64_t n = atomic_load(&nonce);
	if (!n) {
		char u[UUID_TEXT_MAX] = "";
		if (uuid_v4(u) != TC_OK)
			snprintf(u, sizeof(u), "%ld", (long)getpid());
		n = XXH3_64bits(u, strlen(u)) | 1;
		atomic_store(&nonce, n);
	}
	return n;
}

static enum MHD_Result
queue(struct MHD_Connection *con, int status, struct MHD_Response *rs, int *st)
{
	MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, rs);
	MHD_destroy_response(rs);
	*st = status;
	return ret;
}

/* A JSON error resource (title, description, http_status). */
static enum MHD_Result
error(struct MHD_Connection *con, int status, const char *title, const char *desc, int *st,
      size_t *bytes)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "{\"title\":");
	buf_append_json_str(&b, slice_from_cstr(title));
	if (desc && *desc) {
		buf_append_cstr(&b, ",\"description\":");
		buf_append_json_str(&b, slice_from_cstr(desc));
	}
	buf_printf(&b, ",\"http_status\":\"%d\"}\n", status);
	size_t len = 0;
	char *p = buf_error(&b) ? NULL : buf_detach(&b, &len);
	if (!p) {
		buf_reset(&b);
		return MHD_NO;
	}
	struct MHD_Response *rs = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
	if (!rs) {
		free(p);
		return MHD_NO;
	}
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
	*bytes = len;
	return queue(con, status, rs, st);
}

/* 503 with Retry-After: too many exports at once. */
static enum MHD_Result
busy(struct MHD_Connection *con, int *st, size_t *bytes)
{
	static const char body[] =
		"{\"title\":\"the hub is busy\",\"description\":\"too many exports are being "
		"computed; retry later\",\"http_status\":\"503\"}\n";
	struct MHD_Response *rs = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
	                                                          MHD_RESPMEM_PERSISTENT);
	if (!rs)
		return MHD_NO;
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
	MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, API_EXPORT_RETRY_AFTER);
	*bytes = sizeof(body) - 1;
	return queue(con, 503, rs, st);
}

/* The temporary file the export goes to, and its bound. */
struct tmp_sink {
	int fd;
	int64_t size;
	int err;
};

static enum tcerr
tmp_write(void *ctx, const char *p, size_t n)
{
	struct tmp_sink *t = ctx;
	if (t->size + (int64_t)n > API_EXPORT_MAX_BYTES) {
		t->err = EFBIG;
		return TC_ELIMIT;
	}
	while (n) {
		ssize_t k = write(t->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			t->err = k < 0 ? errno : EIO;
			return TC_EIO;
		}
		p += k;
		n -= (size_t)k;
		t->size += k;
	}
	return TC_OK;
}

/* An unlinked file in the data directory (the export may be large:
 * /tmp may be a small tmpfs). -1 on error (errno). */
static int
tmp_open(const char *dir)
{
#ifdef O_TMPFILE
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/.export.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd2 = mkstemp(path);
	if (fd2 >= 0)
		unlink(path);
	return fd2;
}

/* Whether the If-None-Match header names etag ("*", a list, weak or not:
 * RFC 9110 §13.1.2 compares weakly). */
static bool
etag_matches(const char *inm, const char *etag)
{
	if (!inm)
		return false;
	size_t elen = strlen(etag);
	const char *p = inm;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		size_t n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(p, etag, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

struct export_plan {
	enum export_format format;
	char part[96];
	struct export_dec_opts dec;
	struct export_opts rows;
	struct feed_filter_store fs;
	bool fs_init;
	char *coll;                 /* rows: the collection parameter */
};

/* Parses a non-negative decimal parameter. */
static bool
param_u64(const char *v, uint64_t *out)
{
	char *end;
	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return false;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

/* Fills plan from the query. Returns 0 or an HTTP status with msg set. */
static int
plan_query(struct export_plan *pl, const struct api_export_req *rq, const struct export_query *q,
           char *msg, size_t msz)
{
	struct diag d;
	bool rows = !export_format_is_decisions(pl->format);
	for (size_t i = 0; i < q->n; i++) {
		const char *k = q->key[i], *v = q->value[i];
		bool filter = strcmp(k, "collection") == 0 || strcmp(k, "kind") == 0 ||
		              strcmp(k, "min_confidence") == 0 || strcmp(k, "tlp") == 0;
		if (rows && filter) {
			if (strcmp(k, "collection") == 0) {
				if (pl->coll) {
					snprintf(msg, msz, "%s takes one collection",
					         export_format_name(pl->format));
					return 400;
				}
				if (!(pl->coll = strdup(v)))
					return 503;
				pl->rows.collection = pl->coll;
			} else if (strcmp(k, "kind") == 0) {
				enum obs_kind kind;
				if (obs_kind_parse(slice_from_cstr(v), &kind) != TC_OK) {
					snprintf(msg, msz, "kind: no kind '%.64s'", v);
					return 400;
				}
				pl->rows.kinds |= EXPORT_KIND_BIT(kind);
			} else {
				snprintf(msg, msz, "%s is a filter of the decision formats, not of %s", k,
				         export_format_name(pl->format));
				return 400;
			}
			continue;
		}
		if (filter) {
			diag_clear(&d);
			enum tcerr rc = feed_filter_set(&pl->fs, rq->store, k, slice_from_cstr(v), &d);
			if (rc) {
				snprintf(msg, msz, "%s", d.msg[0] ? d.msg : tcerr_str(rc));
				return rc == TC_ENOTFOUND ? 404 : rc == TC_EDB ? 503 : 400;
			}
			continue;
		}
		uint64_t n;
		if (pl->format == EXPORT_PLAIN && (strcmp(k, "offset") == 0 ||
		                                   strcmp(k, "limit") == 0 || strcmp(k, "max") == 0)) {
			if (!param_u64(v, &n)) {
				snprintf(msg, msz, "%s: not a whole number", k);
				return 400;
			}
			if (k[0] == 'o')
				pl->dec.offset = n;
			else if (k[0] == 'l')
				pl->dec.limit = n;
			else
				pl->dec.max = n;
		} else if (pl->format == EXPORT_PLAIN && strcmp(k, "strip_scheme") == 0) {
			if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0) {
				snprintf(msg, msz, "strip_scheme: 1 or 0");
				return 400;
			}
			pl->dec.strip_scheme = v[0] == '1';
		} else if (pl->format == EXPORT_RPZ && strcmp(k, "zone") == 0) {
			pl->dec.rpz_origin = v;
		} else if (pl->format == EXPORT_RPZ && strcmp(k, "cname") == 0) {
			pl->dec.rpz_cname = v;
		} else if (pl->format == EXPORT_RPZ && strcmp(k, "action") == 0) {
			if (export_rpz_action_parse(v, &pl->dec.rpz_action) != TC_OK) {
				snprintf(msg, msz, "action: nxdomain, nodata or cname");
				return 400;
			}
		} else if ((pl->format == EXPORT_NFT || pl->format == EXPORT_IPSET) &&
		           strcmp(k, "name") == 0) {
			pl->dec.name = v;
		} else {
			snprintf(msg, msz, "%s takes no parameter '%.64s'", export_format_name(pl->format),
			         k);
			return 400;
		}
	}
	return 0;
}

/* Splits the path after the prefix into format and part. 0 or 404. */
static int
plan_route(struct export_plan *pl, const char *rest, char *msg, size_t msz)
{
	char fmt[64];
	const char *slash = strchr(rest, '/');
	size_t flen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *part = slash ? slash + 1 : NULL;
	if (flen >= sizeof(fmt) || strcmp(rest, "") == 0)
		goto unknown;
	memcpy(fmt, rest, flen);
	fmt[flen] = '\0';
	/* the names exactly as the issue lists them (no aliases over HTTP) */
	if (export_format_parse(fmt, &pl->format) != TC_OK ||
	    strcmp(export_format_name(pl->format), fmt) != 0)
		goto unknown;
	bool multi = export_dec_parts(pl->format) != NULL;
	if (multi && (!part || !*part)) {
		const char *const *parts = export_dec_parts(pl->format);
		struct buf b;
		buf_init(&b, msz - 1);
		buf_printf(&b, "%s is served in parts: %s/", fmt, API_EXPORT_PREFIX);
		for (size_t i = 0; parts[i]; i++)
			buf_printf(&b, "%s%s/%s", i ? ", " : "", fmt, parts[i]);
		if (pl->format == EXPORT_MISP_FEED)
			buf_append_cstr(&b, " and the events the manifest names");
		snprintf(msg, msz, "%.*s", buf_error(&b) ? 0 : (int)b.len, b.p ? b.p : "");
		buf_reset(&b);
		return 404;
	}
	if (!multi && part) {
		snprintf(msg, msz, "%s has no parts", fmt);
		return 404;
	}
	if (part) {
		if (strlen(part) >= sizeof(pl->part) || !export_dec_part_ok(pl->format, part)) {
			snprintf(msg, msz, "no part of that name");
			return 404;
		}
		snprintf(pl->part, sizeof(pl->part), "%s", part);
		pl->dec.part = pl->part;
	}
	return 0;
unknown:
	snprintf(msg, msz, "formats: plain, csv, stix, rpz, nft, ipset, suricata-dataset, "
	                   "suricata-iprep, zeek, misp-feed");
	return 404;
}

static void
plan_reset(struct export_plan *pl)
{
	if (pl->fs_init)
		feed_filter_reset(&pl->fs);
	free(pl->coll);
}

enum MHD_Result
api_export_serve(struct MHD_Connection *con, const struct api_export_req *rq, int *status,
                 size_t *bytes)
{
	struct export_plan pl;
	static _Thread_local struct export_query q;
	char msg[512] = "";
	struct diag d;
	enum MHD_Result ret;
	int st;

	*bytes = 0;
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		return error(con, 405, "method not allowed", "/api/v1/export answers GET", status,
		             bytes);
	memset(&pl, 0, sizeof(pl));
	feed_filter_init(&pl.fs);
	pl.fs_init = true;
	if ((st = plan_route(&pl, rq->path + strlen(API_EXPORT_PREFIX), msg, sizeof(msg)))) {
		plan_reset(&pl);
		return error(con, st, "not found", msg, status, bytes);
	}
	diag_clear(&d);
	if (export_query_parse(slice_from_cstr(rq->query), &q, &d) != TC_OK) {
		plan_reset(&pl);
		return error(con, 400, "bad query", d.msg, status, bytes);
	}
	if ((st = plan_query(&pl, rq, &q, msg, sizeof(msg)))) {
		plan_reset(&pl);
		return error(con, st, st == 503 ? "the hub could not answer" : "bad query", msg, status,
		             bytes);
	}

	/* What decides the content, before anything is read. */
	uint64_t pos = 0;
	if (store_position(rq->store, &pos) != TC_OK) {
		plan_reset(&pl);
		return error(con, 503, "the hub's store is unavailable", "try again later", status,
		             bytes);
	}
	struct allowlist *al = hub_allowlist_get(rq->app->hub);
	XXH3_state_t *hs = XXH3_createState();
	if (!hs) {
		allowlist_free(al);
		plan_reset(&pl);
		return MHD_NO;
	}
	uint64_t nums[5] = {
		boot_nonce(), pos, rq->snap_gen, (uint64_t)(uintptr_t)al,
		rq->who && rq->who->principal ? (uint64_t)rq->who->principal->num : 0,
	};
	XXH3_128bits_reset(hs);
	XXH3_128bits_update(hs, nums, sizeof(nums));
	XXH3_128bits_update(hs, rq->path, strlen(rq->path) + 1);
	XXH3_128bits_update(hs, rq->query, strlen(rq->query) + 1);
	XXH128_hash_t hv = XXH3_128bits_digest(hs);
	XXH3_freeState(hs);
	char etag[ETAG_MAX];
	snprintf(etag, sizeof(etag), "\"%016llx%016llx\"", (unsigned long long)hv.high64,
	         (unsigned long long)hv.low64);
	const char *ctype = export_dec_media_type(pl.format, pl.dec.part);
	if (etag_matches(rq->if_none_match, etag)) {
		allowlist_free(al);
		plan_reset(&pl);
		struct MHD_Response *rs = MHD_create_response_from_buffer(0, NULL,
		                                                          MHD_RESPMEM_PERSISTENT);
		if (!rs)
			return MHD_NO;
		MHD_add_response_header(rs, MHD_HTTP_HEADER_ETAG, etag);
		return queue(con, 304, rs, status);
	}

	static _Atomic int running;
	if (atomic_fetch_add(&running, 1) >= API_EXPORT_MAX_RUNNING) {
		atomic_fetch_sub(&running, 1);
		allowlist_free(al);
		plan_reset(&pl);
		return busy(con, status, bytes);
	}
	struct tmp_sink sink = { .fd = tmp_open(rq->app->data_dir) };
	if (sink.fd < 0) {
		atomic_fetch_sub(&running, 1);
		allowlist_free(al);
		plan_reset(&pl);
		snprintf(msg, sizeof(msg), "cannot make a temporary file in the data directory: %s",
		         strerror(errno));
		return error(con, 503, "the hub could not answer", msg, status, bytes);
	}
	char left[512] = "", total[32] = "";
	uint64_t at = pos;
	enum tcerr rc;
	diag_clear(&d);
	if (export_format_is_decisions(pl.format)) {
		struct feed_ctx fc = {
			.store = rq->store, .who = rq->who, .names = rq->snap, .allow = al,
			.block_min_confidence = (int)rq->app->conf->block_min_confidence,
		};
		struct export_dec_counts c;
		pl.dec.format = pl.format;
		/* misp-feed ids: under the hub's id key, as the CLI's */
		pl.dec.id_key = hub_id_key(rq->app->hub);
		pl.dec.id_key_len = HUB_ID_KEY_LEN;
		rc = export_decisions(&fc, &pl.fs.f, &pl.dec, tmp_write, &sink, &c, &at, &d);
		if (!rc) {
			export_dec_left_out_text(&c, left, sizeof(left));
			if (pl.format == EXPORT_PLAIN)
				snprintf(total, sizeof(total), "%llu", (unsigned long long)c.listed);
		}
	} else {
		struct export_counts c;
		pl.rows.format = pl.format;
		pl.rows.who = rq->who;
		pl.rows.names = rq->snap;
		pl.rows.allow = al;
		pl.rows.held = hub_held;
		pl.rows.held_ctx = rq->app->hub;
		rc = export_store(rq->store, rq->app->tw.obs, &pl.rows, tmp_write, &sink, &c, &d);
		if (!rc && c.allowlisted && c.held)
			snprintf(left, sizeof(left), "allowlisted=%zu held=%zu", c.allowlisted, c.held);
		else if (!rc && c.allowlisted)
			snprintf(left, sizeof(left), "allowlisted=%zu", c.allowlisted);
		else if (!rc && c.held)
			snprintf(left, sizeof(left), "held=%zu", c.held);
	}
	allowlist_free(al);
	plan_reset(&pl);
	atomic_fetch_sub(&running, 1);
	if (rc) {
		close(sink.fd);
		if (rc == TC_ENOTFOUND)
			return error(con, 404, "not found", d.msg, status, bytes);
		if (rc == TC_EINVAL) /* the format's options (a name, an rpz garden) */
			return error(con, 400, "bad query", d.msg, status, bytes);
		if (rc == TC_ELIMIT && sink.err == EFBIG)
			return error(con, 503, "export too large",
			             "the export passes the hub's limit; filter it (kind, collection)",
			             status, bytes);
		return error(con, 503, "the hub could not answer", d.msg[0] ? d.msg : tcerr_str(rc),
		             status, bytes);
	}
	if (lseek(sink.fd, 0, SEEK_SET) != 0) {
		close(sink.fd);
		return error(con, 503, "the hub could not answer", strerror(errno), status, bytes);
	}
	/* MHD closes the descriptor when the response is destroyed */
	struct MHD_Response *rs = MHD_create_response_from_fd64((uint64_t)sink.size, sink.fd);
	if (!rs) {
		close(sink.fd);
		return MHD_NO;
	}
	char position[32];
	snprintf(position, sizeof(position), "%llu", (unsigned long long)at);
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(rs, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(rs, "X-Tocsin-Position", position);
	if (left[0])
		MHD_add_response_header(rs, "X-Tocsin-Left-Out", left);
	if (total[0])
		MHD_add_response_header(rs, "X-Tocsin-Total", total);
	*bytes = (size_t)sink.size;
	ret = queue(con, 200, rs, status);
	return ret;
}
