/*
 * source_fetch.c — one bounded HTTP(S) GET of a feed, through libcurl.
 *
 * Invariant: as webhook_post (lib/webhook): the connection goes only to
 * the addresses webhook_url_check() approved a moment before (handed to
 * libcurl with CURLOPT_RESOLVE), with no redirects, no proxy from the
 * environment, no cookies and a fresh handle per call; the body is kept
 * up to max_bytes (more fails the fetch, never a cut-off feed) and the
 * whole exchange has a time limit. A conditional request (If-None-Match,
 * If-Modified-Since) answered 304 returns TC_OK with no body.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "source/source.h"
#include "webhook/webhook.h"

struct sink {
	struct source_fetch_res *res;
	size_t max;
	bool over;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;
	if (len > s->max - s->res->body.len) {
		s->over = true;
		return 0;
	}
	buf_append(&s->res->body, p, len);
	return buf_error(&s->res->body) ? 0 : len;
}

/* Keeps a header's value if it is name (case-insensitive). */
static void
header_value(const char *p, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return;
	p += nl + 1;
	len -= nl + 1;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (len >= size)
		return; /* too long to send back: not kept */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return;
	memcpy(out, p, len);
	out[len] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct source_fetch_res *r = ctx;
	size_t len = size * n;
	header_value(p, len, "ETag", r->etag, sizeof r->etag);
	header_value(p, len, "Last-Modified", r->last_modified, sizeof r->last_modified);
	header_value(p, len, "X-TAXII-Date-Added-Last", r->taxii_last, sizeof r->taxii_last);
	return len;
}

static int
on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const _Atomic bool *cancel = ctx;
	(void)dt, (void)dn, (void)ut, (void)un;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

enum tcerr
source_url_check(bool allow_http, bool allow_private, const char *url, struct diag *d)
{
	struct webhook_url_policy pol = { allow_http, allow_private };
	if (strncasecmp(url, "http://", 7) == 0 && !allow_http)
		return diag_set(d, TC_EPERM,
		                "URL: must be https:// (tocsind.conf [sources] allow_http = true allows "
		                "http://)");
	enum tcerr rc = webhook_url_check(&pol, url, NULL, NULL, NULL, d);
	char *w = rc ? strstr(d->msg, "[webhooks]") : NULL;
	if (w) {
		/* the same rules under another section: name the one that applies */
		char tail[DIAG_MSG_MAX];
		snprintf(tail, sizeof tail, "%s", w + 10);
		size_t at = (size_t)(w - d->msg);
		snprintf(d->msg + at, sizeof d->msg - at, "[sources]%s", tail);
	}
	return rc;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static enum tcerr
add_header(struct curl_slist **l, const char *name, const char *value, struct diag *d)
{
	char line[SOURCE_HEADER_MAX + 64];
	int n = name ? snprintf(line, sizeof line, "%s: %s", name, value)
	             : snprintf(line, sizeof line, "%s", value);
	if (n < 0 || (size_t)n >= sizeof line)
		return diag_set(d, TC_EINVAL, "a request header is too long");
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			return diag_set(d, TC_EINVAL, "a request header holds a control character");
	struct curl_slist *nl = curl_slist_append(*l, line);
	if (!nl)
		return diag_set(d, TC_ENOMEM, "out of memory");
	*l = nl;
	return TC_OK;
}

enum tcerr
source_fetch(const struct source_fetch_cfg *cfg, const struct source_fetch_req *req,
             struct source_fetch_res *res, struct diag *d)
{
	struct webhook_url_policy pol = { cfg->allow_http, cfg->allow_private };
	struct webhook_url w;
	char addrs[WEBHOOK_ADDRS_MAX][WEBHOOK_ADDR_TEXT_MAX];
	size_t naddrs = 0;
	struct curl_slist *hl = NULL, *resolve = NULL;
	struct sink sink = { res, cfg->max_bytes ? cfg->max_bytes : SOURCE_MAX_BYTES, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	enum tcerr rc;
	uint64_t t0 = mono_us();

	memset(res, 0, sizeof *res);
	buf_init(&res->body, sink.max + 1);
	if ((rc = source_url_check(cfg->allow_http, cfg->allow_private, req->url, d)) ||
	    (rc = webhook_url_check(&pol, req->url, &w, addrs, &naddrs, d)))
		goto out;
	c = curl_easy_init();
	if (!c) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if (!w.host_is_addr) {
		struct buf e;
		buf_init(&e, 4096);
		buf_printf(&e, "%s:%u:", w.host, (unsigned)w.port);
		for (size_t i = 0; i < naddrs; i++)
			buf_printf(&e, strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
		resolve = buf_error(&e) ? NULL : curl_slist_append(NULL, e.p);
		buf_reset(&e);
		if (!resolve) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (req->etag && req->etag[0] && (rc = add_header(&hl, "If-None-Match", req->etag, d)))
		goto out;
	if (req->last_modified && req->last_modified[0] &&
	    (rc = add_header(&hl, "If-Modified-Since", req->last_modified, d)))
		goto out;
	if (req->accept && (rc = add_header(&hl, "Accept", req->accept, d)))
		goto out;
	if (req->auth_header && req->auth_header[0] &&
	    (rc = add_header(&hl, NULL, req->auth_header, d)))
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, cfg->allow_http ? "https,http" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file && cfg->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
	if (resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.max);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tocsin-source/1");
	if (cfg->cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)cfg->cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (sink.over || cc == CURLE_FILESIZE_EXCEEDED)
		rc = diag_set(d, TC_EIO, "the answer is larger than %zu bytes ([sources] max_bytes)",
		              sink.max);
	else if (buf_error(&res->body))
		rc = diag_set(d, TC_ENOMEM, "out of memory");
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		rc = diag_set(d, TC_EBUSY, "abandoned: tocsind is stopping");
	else if (cc != CURLE_OK)
		rc = diag_set(d, TC_EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	else if (res->status >= 300 && res->status < 400 && res->status != 304)
		rc = diag_set(d, TC_EIO, "HTTP %ld: a redirect, not followed (give the final URL)",
		              res->status);
	else if (res->status != 200 && res->status != 304)
		rc = diag_set(d, TC_EIO, "HTTP %ld", res->status);
out:
	res->elapsed_us = mono_us() - t0;
	curl_slist_free_all(hl);
	curl_slist_free_all(resolve);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}
