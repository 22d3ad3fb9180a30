/*
 * webhook_post.c — one bounded HTTPS POST to a receiver, through libcurl.
 *
 * Invariant: the connection goes only to addresses webhook_url_check()
 * approved a moment before: they are handed to libcurl as CURLOPT_RESOLVE
 * entries for the URL's host and port, so libcurl never asks DNS itself
 * (a rebinding name cannot answer differently the second time), and an
 * IP literal is the address checked. Nothing else libcurl could do on its
 * own is left on: no redirects, no proxy from the environment, no other
 * protocol, no cookies, no authentication retries. Each call uses a fresh
 * handle, so no state (connections, DNS cache, cookies) outlives it.
 */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "webhook/webhook.h"

enum tcerr
webhook_global_init(struct diag *d)
{
	CURLcode c = curl_global_init(CURL_GLOBAL_DEFAULT);
	return c == CURLE_OK ? TC_OK : diag_set(d, TC_EIO, "libcurl: %s", curl_easy_strerror(c));
}

/* The answer, kept up to a cap. */
struct answer {
	size_t len, max;
	bool over;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct answer *a = ctx;
	size_t len = size * n;
	(void)p;
	if (len > a->max - a->len) {
		a->over = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	a->len += len;
	return len;
}

/* Abandons the exchange when the caller's cancel flag is set. */
static int
on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const _Atomic bool *cancel = ctx;
	(void)dt, (void)dn, (void)ut, (void)un;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

enum tcerr
webhook_post(const struct webhook_post_cfg *cfg, const char *url, const char *const *headers,
             size_t nheaders, struct slice body, struct webhook_post_result *res,
             struct diag *d)
{
	struct webhook_url w;
	char addrs[WEBHOOK_ADDRS_MAX][WEBHOOK_ADDR_TEXT_MAX];
	size_t naddrs = 0;
	struct curl_slist *hl = NULL, *resolve = NULL;
	CURL *c = NULL;
	struct answer ans = { 0, cfg->response_max, false };
	char errbuf[CURL_ERROR_SIZE] = "";
	enum tcerr rc;
	uint64_t t0 = mono_us();
	struct diag local;

	if (!d)
		d = &local;
	diag_clear(d);
	memset(res, 0, sizeof *res);
	rc = webhook_url_check(&cfg->policy, url, &w, addrs, &naddrs, d);
	if (rc)
		goto out;
	c = curl_easy_init();
	if (!c) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if (!w.host_is_addr) {
		/* "HOST:PORT:ADDR1,ADDR2", IPv6 addresses in brackets */
		struct buf e;
		buf_init(&e, 4096);
		buf_printf(&e, "%s:%u:", w.host, (unsigned)w.port);
		for (size_t i = 0; i < naddrs; i++)
			buf_printf(&e, strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "",
			           addrs[i]);
		struct curl_slist *r = buf_error(&e) ? NULL : curl_slist_append(NULL, e.p);
		buf_reset(&e);
		if (!r) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		resolve = r;
	}
	/* no 100-continue round trip: "Expect:" */
	for (size_t i = 0; i < nheaders + 2; i++) {
		const char *h = i == 0 ? "Content-Type: application/json"
		                : i == 1 ? "Expect:" : headers[i - 2];
		struct curl_slist *nl = curl_slist_append(hl, h);
		if (!nl) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		hl = nl;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, cfg->policy.allow_http ? "https,http" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");        /* never $https_proxy */
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
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->response_max);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tocsin-webhook/1");
	if (cfg->cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)cfg->cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}

	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (ans.over || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = diag_set(d, TC_EIO, "the answer is larger than %zu bytes (response_max_bytes)",
		              cfg->response_max);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		rc = diag_set(d, TC_EBUSY, "abandoned: tocsind is stopping");
	} else if (cc != CURLE_OK) {
		rc = diag_set(d, TC_EIO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else if (res->status >= 300 && res->status < 400) {
		rc = diag_set(d, TC_EIO, "HTTP %ld: a redirect, not followed (give the final URL)",
		              res->status);
	} else if (res->status < 200 || res->status >= 300) {
		rc = diag_set(d, TC_EIO, "HTTP %ld", res->status);
	}
out:
	if (rc)
		snprintf(res->error, sizeof res->error, "%s", d->msg);
	res->elapsed_us = mono_us() - t0;
	curl_slist_free_all(hl);
	curl_slist_free_all(resolve);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}
