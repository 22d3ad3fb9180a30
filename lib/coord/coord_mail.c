/*
 * coord_mail.c — task notifications by e-mail (coord.h): one plain-text
 * message per task event, sent over SMTP with libcurl to the contacts of
 * the organisations concerned. Invariants: every header value is stripped
 * of CR and LF (no header injection from a stored text), the message is
 * bounded (COORD_MAIL_MAX), and libcurl does the SMTP dot-stuffing.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coord/coord.h"
#include "util/timestamp.h"

/* Appends s with CR, LF and other controls replaced by spaces. */
static void
header_text(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_append_char(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* Appends s as body text: controls other than LF become spaces, LF
 * becomes CRLF. */
static void
body_text(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\n')
			buf_append_cstr(b, "\r\n");
		else
			buf_append_char(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
	}
}

void
coord_mail_compose(const struct coord_mail_cfg *cfg, const struct reg_task *t,
                   const struct reg_task_event *e, const char *assignee, const char *by,
                   struct buf *out)
{
	char date[TS_TEXT_MAX] = "", dl[TS_TEXT_MAX] = "", at[TS_TEXT_MAX] = "";
	ts_format(e->at_us, 0, at);
	ts_format(t->deadline_us, 0, dl);
	ts_format(e->at_us, 0, date);
	buf_append_cstr(out, "From: ");
	header_text(out, cfg->from);
	buf_printf(out, "\r\nSubject: [tocsin] task %" PRId64 " ", t->num);
	header_text(out, e->what);
	buf_append_cstr(out, ": ");
	header_text(out, t->action);
	buf_append_cstr(out, " (");
	header_text(out, assignee);
	buf_printf(out, ")\r\nMessage-ID: <task-%" PRId64 "-event-%" PRId64 "@", t->num, e->num);
	header_text(out, cfg->hostname[0] ? cfg->hostname : "tocsin");
	buf_append_cstr(out, ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                     "Content-Transfer-Encoding: 8bit\r\n\r\n");
	buf_printf(out, "Task %" PRId64 " was %s at %s", t->num, e->what, at);
	if (by && by[0]) {
		buf_append_cstr(out, " by ");
		body_text(out, by);
	}
	buf_append_cstr(out, ".\r\n\r\naction:      ");
	body_text(out, t->action);
	buf_append_cstr(out, "\r\nassignee:    ");
	body_text(out, assignee);
	buf_printf(out, "\r\nstate:       %s\r\ndeadline:    %s\r\nsource:      ",
	           reg_task_state_name(t->state) ? reg_task_state_name(t->state) : "?", dl);
	body_text(out, t->source);
	buf_append_cstr(out, "\r\nobservables: ");
	body_text(out, t->observables);
	if (t->note[0]) {
		buf_append_cstr(out, "\r\nnote:        ");
		body_text(out, t->note);
	}
	if (e->note[0]) {
		buf_append_cstr(out, "\r\nevent note:  ");
		body_text(out, e->note);
	}
	buf_printf(out, "\r\n\r\nAnswer with: tocsin task ack|done|decline %" PRId64
	                ", or POST /api/v1/tasks/%" PRId64 "/ack|done|decline\r\n",
	           t->num, t->num);
}

struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct reader *r = ctx;
	size_t n = size * nmemb < r->left ? size * nmemb : r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

enum tcerr
coord_mail_send(const struct coord_mail_cfg *cfg, const char *const *rcpts, size_t n,
                struct slice message, struct diag *d)
{
	CURL *c = curl_easy_init();
	struct curl_slist *to = NULL;
	enum tcerr t = TC_OK;
	char from[REG_TASK_EMAIL_MAX + 3];
	if (!c)
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (n == 0 || message.len > COORD_MAIL_MAX) {
		curl_easy_cleanup(c);
		return diag_set(d, TC_EINVAL, "no recipient, or a message over %d bytes",
		                COORD_MAIL_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		char addr[REG_TASK_EMAIL_MAX + 3];
		snprintf(addr, sizeof addr, "<%s>", rcpts[i]);
		struct curl_slist *nt = curl_slist_append(to, addr);
		if (!nt) {
			t = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		to = nt;
	}
	snprintf(from, sizeof from, "<%s>", cfg->from);
	struct reader rd = { message.p, message.len };
	curl_easy_setopt(c, CURLOPT_URL, cfg->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
	if (cfg->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		t = diag_set(d, TC_EIO, "SMTP %s: %s", cfg->url, curl_easy_strerror(rc));
out:
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	return t;
}
