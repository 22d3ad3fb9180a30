/*
 * api_reports.c — citizen reports in tocsind (see api_reports.h).
 *
 * The public pages are plain HTML, built here with every value escaped,
 * served with a Content-Security-Policy that allows nothing but the
 * hub's own style sheet and form target (no script, no frame, no other
 * origin). Errors on the public pages are pages a person reads, in their
 * language; everything under /api/v1/ answers JSON error resources.
 *
 * Order of the intake (form and JSON alike): the rate of the client
 * address, then the parse (bounded: lib/report), the check (the value
 * normalised, a card hashed at once under the hub's card key), the
 * honeypot, and one transaction into DATA/reports.db. Nothing about a
 * report is logged but counts; a card number never reaches a log, a page
 * or a message (lib/report wipes it).
 */
#include "api_reports.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

#include "hub/hub_lookup.h"
#include "stix/stix.h"
#include "log.h"
#include "policy/policy.h"
#include "report/report.h"
#include "report/report_rate.h"
#include "stix/stix_id.h"
#include "util/timestamp.h"

#define HTML_TYPE "text/html; charset=utf-8"
#define JSON_TYPE "application/json"
#define CSS_TYPE "text/css; charset=utf-8"
#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
            "base-uri 'none'; frame-ancestors 'none'"
#define STATUS_PREFIX "/report/status/"
#define API_PREFIX "/api/v1/reports"
#define API_STATUS_PREFIX "/api/v1/reports/status/"
#define API_TRIAGE "/api/v1/reports/triage"

enum refuse { RF_RATE, RF_INVALID, RF_HONEYPOT, RF_SIZE, RF_DISABLED, RF_ERROR, RF_NREASONS };
static const char *const refuse_names[RF_NREASONS] = { "rate", "invalid", "honeypot",
	                                               "size", "disabled", "error" };

static _Atomic uint64_t m_received[2];        /* form, json */
static _Atomic uint64_t m_refused[RF_NREASONS];
static _Atomic uint64_t m_grouped;            /* joined a group that had reports */
static _Atomic uint64_t m_groups_new;
static _Atomic uint64_t m_promoted[2];        /* threshold, coordinator */

struct reports {
	struct report_db *db;
	struct report_rate *rate;
	pthread_mutex_t promote_mu;       /* one promotion pass at a time */
	pthread_mutex_t mu;               /* guards wake and stop */
	pthread_cond_t cv;
	bool wake, stop, started;
	pthread_t thread;
	reports_hook hook;
	void *hook_ctx;
};

/* ---- the organisation and the lifecycle ---- */

enum tcerr
reports_org_ensure(struct registry *reg, const struct conf *c, struct diag *d)
{
	struct reg_org o;
	if (registry_org_find(reg, REPORTS_ORG_NAME, &o) == TC_OK)
		return TC_OK;
	if (reg_country_check(c->reports_country, d))
		return diag_set(d, TC_EINVAL, "[reports] country: %s", d->msg);
	return registry_org_add(reg, REPORTS_ORG_NAME, SECTOR_GOVERNMENT, c->reports_country, NULL, 0,
	                        NULL, d);
}

enum tcerr
reports_open(struct app *a, struct diag *d)
{
	struct reports *r = calloc(1, sizeof *r);
	if (!r)
		return diag_set(d, TC_ENOMEM, "out of memory");
	enum tcerr rc = report_db_open(a->data_dir, &r->db, d);
	if (!rc)
		rc = report_rate_new(a->conf->reports_rate_clients, a->conf->reports_rate_per_minute,
		                     a->conf->reports_rate_burst, &r->rate, d);
	if (rc) {
		report_db_close(r->db);
		free(r);
		return rc;
	}
	pthread_mutex_init(&r->promote_mu, NULL);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	a->reports = r;
	return TC_OK;
}

void
reports_set_hook(struct app *a, reports_hook hook, void *ctx)
{
	if (a->reports) {
		a->reports->hook = hook;
		a->reports->hook_ctx = ctx;
	}
}

static void
promoter_wake(struct reports *r)
{
	pthread_mutex_lock(&r->mu);
	r->wake = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void *
promoter_main(void *arg)
{
	struct app *a = arg;
	struct reports *r = a->reports;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (!r->wake && !r->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)REPORTS_PROMOTE_POLL_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		}
		bool stop = r->stop;
		r->wake = false;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		reports_promote_due(a);
	}
	return NULL;
}

enum tcerr
reports_start(struct app *a, struct diag *d)
{
	struct reports *r = a->reports;
	if (!r)
		return TC_OK;
	if (pthread_create(&r->thread, NULL, promoter_main, a) != 0)
		return diag_set(d, TC_EIO, "cannot start the report promoter thread");
	r->started = true;
	return TC_OK;
}

void
reports_close(struct app *a)
{
	struct reports *r = a->reports;
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	report_db_close(r->db);
	report_rate_free(r->rate);
	pthread_mutex_destroy(&r->promote_mu);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	a->reports = NULL;
}

/* ---- promotion ---- */

struct due {
	struct report_group g[REPORTS_PROMOTE_BATCH];
	size_t n;
};

static enum tcerr
due_add(void *ctx, const struct report_group *g)
{
	struct due *u = ctx;
	if (u->n < REPORTS_PROMOTE_BATCH)
		u->g[u->n++] = *g;
	return TC_OK;
}

/* The indicator a group becomes. Its text names the observable and the
 * counts only: never a report's text, never a contact. */
static json_t *
indicator_new(const struct conf *c, const struct reg_org *org, const struct report_group *g,
              char id[STIX_ID_MAX])
{
	char uuid[UUID_TEXT_MAX], now[TS_TEXT_MAX], until[TS_TEXT_MAX];
	if (uuid_v4(uuid))
		return NULL;
	snprintf(id, STIX_ID_MAX, "indicator--%s", uuid);
	int64_t t = ts_now_us();
	ts_format(t, 3, now);
	ts_format(t + (int64_t)c->reports_valid_days * 86400 * 1000000, 3, until);
	struct buf pat;
	buf_init(&pat, 0);
	obs_to_pattern(g->okind, slice_from_cstr(g->value), &pat);
	buf_append_char(&pat, '\0');
	char name[OBS_VALUE_MAX + 64], desc[256];
	snprintf(name, sizeof name, "Citizen reports: %s %s", obs_kind_name(g->okind),
	         g->okind == OBS_CARD ? "(keyed hash)" : g->value);
	snprintf(desc, sizeof desc,
	         "Reported through the hub's public form by %u independent reporter%s (%u report%s); "
	         "%s.",
	         g->nreporters, g->nreporters == 1 ? "" : "s", g->nreports,
	         g->nreports == 1 ? "" : "s",
	         g->state == RS_CONFIRMED ? "confirmed by a coordinator"
	                                  : "promoted by the hub's reporter threshold");
	json_t *o = buf_error(&pat) ? NULL
	                            : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s, "
	                                        "s:s, s:s, s:i, s:[s], s:[s]}",
	                                        "type", "indicator", "spec_version", "2.1", "id", id,
	                                        "created", now, "modified", now, "created_by_ref",
	                                        org->identity, "name", name, "indicator_types",
	                                        "malicious-activity", "pattern", pat.p,
	                                        "pattern_type", "stix", "valid_from", now,
	                                        "valid_until", until, "confidence",
	                                        (int)c->reports_confidence, "object_marking_refs",
	                                        stix_tlp_marking_id(c->reports_tlp), "labels",
	                                        "citizen-report");
	if (o)
		json_object_set_new(o, "description", json_string(desc));
	buf_reset(&pat);
	return o;
}

size_t
reports_promote_due(struct app *a)
{
	struct reports *r = a->reports;
	if (!r || !a->writer)
		return 0;
	struct due *u = calloc(1, sizeof *u);
	if (!u)
		return 0;
	struct diag d;
	size_t done = 0;
	pthread_mutex_lock(&r->promote_mu);
	if (report_db_due(r->db, a->conf->reports_promote_threshold, REPORTS_PROMOTE_BATCH, due_add,
	                  u, &d)) {
		log_error("report triage: cannot list groups due", d.msg);
		goto out;
	}
	if (u->n == 0)
		goto out;
	struct reg_snapshot *snap = app_snapshot_get(a);
	struct reg_org org;
	const struct reg_collection *col =
		snap ? reg_snapshot_collection_find(snap, a->conf->reports_collection) : NULL;
	/* the organisation is made at the first promotion, so that a hub
	 * nobody reports to lists no organisation it never uses */
	if (snap && registry_org_find(a->registry, REPORTS_ORG_NAME, &org) != TC_OK &&
	    (reports_org_ensure(a->registry, a->conf, &d) ||
	     registry_org_find(a->registry, REPORTS_ORG_NAME, &org) != TC_OK)) {
		log_error("report triage: cannot make the organisation 'citizen reports'", d.msg);
		reg_snapshot_unref(snap);
		goto out;
	}
	if (!snap || !col) {
		log_error("report triage: cannot promote", "[reports] collection names no collection");
		if (snap)
			reg_snapshot_unref(snap);
		goto out;
	}
	struct allowlist *al = hub_allowlist_get(a->hub);
	for (size_t i = 0; i < u->n; i++) {
		struct report_group *g = &u->g[i];
		struct allowlist_hit hit;
		if (g->state == RS_OPEN &&
		    allowlist_check_block(al, g->okind, slice_from_cstr(g->value), &hit)) {
			/* the threshold never publishes what must not be blocked */
			report_db_hold(r->db, g->id,
			               "allowlisted: held for a coordinator (the threshold does not "
			               "promote an allowlisted value)",
			               &d);
			continue;
		}
		char id[STIX_ID_MAX];
		json_t *obj = indicator_new(a->conf, &org, g, id);
		if (!obj) {
			log_error("report triage: cannot build an indicator", "out of memory");
			break;
		}
		struct hub_item it = { .obj = obj, .path = "citizen report", .collection = col->c.num,
			               .producer = org.num };
		struct hub_result res;
		memset(&res, 0, sizeof res);
		enum tcerr rc = hub_writer_ingest(a->writer, &it, 1, &res, &d);
		json_decref(obj);
		if (rc || res.verdict == HUB_REJECTED) {
			log_error("report triage: the indicator was refused", rc ? d.msg : res.why);
			report_db_hold(r->db, g->id, rc ? "the hub's writer refused it" : res.why, &d);
			continue;
		}
		if (a->audit && res.verdict == HUB_ACCEPTED && res.seq) {
			/* the write is audited as a TAXII POST's is, its position
			 * included (else the next start enters it as recovered) */
			const char *ids[1] = { id };
			char detail[128];
			snprintf(detail, sizeof detail,
			         "citizen report group %lld promoted (%u reports, %u reporters)",
			         (long long)g->id, g->nreports, g->nreporters);
			struct audit_entry ae = { .action = "write", .actor = "hub",
				                  .org = org.name, .collection = col->c.uuid,
				                  .ids = ids, .nids = 1, .detail = detail,
				                  .seqs = &res.seq, .nseqs = 1 };
			if (audit_append(a->audit, &ae, &d) || audit_sync(a->audit, &d))
				log_error("report triage: the indicator was written but not audited",
				          d.msg);
		}
		if (report_db_promoted(r->db, g->id, id, ts_now_us(), &d)) {
			log_error("report triage: cannot record a promotion", d.msg);
			continue;
		}
		atomic_fetch_add(&m_promoted[g->state == RS_CONFIRMED], 1);
		done++;
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "citizen reports promoted");
		log_int(&l, "group", g->id);
		log_str(&l, "indicator", id);
		log_int(&l, "reporters", g->nreporters);
		log_str(&l, "by", g->state == RS_CONFIRMED ? "coordinator" : "threshold");
		log_end(&l);
		if (r->hook)
			r->hook(r->hook_ctx, g, id);
	}
	allowlist_free(al);
	reg_snapshot_unref(snap);
out:
	pthread_mutex_unlock(&r->promote_mu);
	free(u);
	return done;
}

/* ---- routing helpers ---- */

bool
api_reports_route(const char *url)
{
	return strcmp(url, "/report") == 0 || strncmp(url, "/report/", 8) == 0 ||
	       strcmp(url, API_PREFIX) == 0 || strncmp(url, API_PREFIX "/", 16) == 0;
}

bool
api_reports_public_body(const struct app *a, const char *url, const char *method)
{
	if (!a->reports || !a->conf->reports_enabled)
		return false; /* off: a body is read from known clients only, as elsewhere */
	return strcmp(method, "POST") == 0 && (strcmp(url, "/report") == 0 ||
	                                       strcmp(url, API_PREFIX) == 0);
}

size_t
api_reports_max_body(const struct app *a)
{
	return a->conf->reports_max_body;
}

size_t
api_reports_log_len(const char *path, size_t len)
{
	static const char *const pre[] = { STATUS_PREFIX, API_STATUS_PREFIX };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(pre[i]);
		if (len > n && strncmp(path, pre[i], n) == 0)
			return n;
	}
	return len;
}

void
api_reports_refused_size(void)
{
	atomic_fetch_add(&m_refused[RF_SIZE], 1);
}

static enum MHD_Result
answer(struct MHD_Connection *con, int status, const char *ctype, struct buf *b, bool page,
     const char *retry_after, int *st, size_t *bytes)
{
	size_t len = 0;
	char *p = buf_error(b) ? NULL : buf_detach(b, &len);
	if (!p) {
		buf_reset(b);
		p = strdup("{\"title\":\"out of memory\",\"http_status\":\"503\"}");
		if (!p)
			return MHD_NO;
		len = strlen(p);
		status = 503;
		ctype = JSON_TYPE;
	}
	struct MHD_Response *rs = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
	if (!rs) {
		free(p);
		return MHD_NO;
	}
	MHD_add_response_header(rs, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(rs, "Cache-Control", "no-store");
	MHD_add_response_header(rs, "Referrer-Policy", "no-referrer");
	if (page) {
		MHD_add_response_header(rs, "Content-Security-Policy", CSP);
		MHD_add_response_header(rs, "X-Frame-Options", "DENY");
		MHD_add_response_header(rs, "Vary", "Accept-Language");
	}
	if (retry_after)
		MHD_add_response_header(rs, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, rs);
	MHD_destroy_response(rs);
	*st = status;
	*bytes = len;
	return ret;
}

static void
json_error(struct buf *b, int status, const char *title, const char *desc)
{
	buf_append_cstr(b, "{\"title\":");
	buf_append_json_str(b, slice_from_cstr(title));
	if (desc) {
		buf_append_cstr(b, ",\"description\":");
		buf_append_json_str(b, slice_from_cstr(desc));
	}
	buf_printf(b, ",\"http_status\":\"%d\"}", status);
}

static enum MHD_Result
send_json_error(struct MHD_Connection *con, int status, const char *title, const char *desc,
                int *st, size_t *bytes)
{
	struct buf b;
	buf_init(&b, 0);
	json_error(&b, status, title, desc);
	return answer(con, status, JSON_TYPE, &b, false, status == 429 ? REPORTS_RETRY_AFTER : NULL,
	            st, bytes);
}

/* ---- the pages ---- */

enum msg {
	M_TITLE, M_H1, M_INTRO, M_KIND, M_K_PHISHING, M_K_PHONE, M_K_ACCOUNT, M_K_CARD, M_K_EMAIL,
	M_VALUE, M_VALUE_HINT, M_TEXT, M_TEXT_HINT, M_CONTACT_LEGEND, M_CONTACT, M_CONTACT_HINT,
	M_HONEYPOT, M_SEND, M_PROBLEM, M_ERROR, M_THANKS, M_RECEIPT, M_RECEIPT_HINT, M_STATUS_LINK,
	M_STATUS_TITLE, M_STATUS_KIND, M_STATUS_RECEIVED, M_STATUS_STATE, M_S_OPEN, M_S_CONFIRMED,
	M_S_REJECTED, M_S_PROMOTED, M_NOT_FOUND, M_NOT_FOUND_TEXT, M_TOO_MANY, M_TOO_MANY_TEXT,
	M_NEW_REPORT, M_LANG, M_P_MISSING, M_P_TOO_LONG, M_P_ENCODING, M_P_KIND, M_P_INVALID,
	M_P_CARD, M_P_SYNTAX, M_UNAVAILABLE, M_COUNT
};

static const char *const msgs[2][M_COUNT] = {
	{
		[M_TITLE] = "Report fraud",
		[M_H1] = "Report a phishing site, a scam call or another fraud",
		[M_INTRO] = "Tell us what you saw. No account is needed. You get a receipt number to "
		            "check what became of your report.",
		[M_KIND] = "What do you want to report?",
		[M_K_PHISHING] = "A phishing or fake web site",
		[M_K_PHONE] = "A scam call or SMS (phone number)",
		[M_K_ACCOUNT] = "A fraudulent bank account",
		[M_K_CARD] = "A card number used by fraudsters",
		[M_K_EMAIL] = "A suspicious e-mail address",
		[M_VALUE] = "Site address, phone number, account, card number or e-mail address",
		[M_VALUE_HINT] = "For example https://bank-login.example, +7 999 123-45-67, "
		                 "DE89370400440532013000, scam@example.com. A card number is "
		                 "replaced by a secret fingerprint at once and never kept.",
		[M_TEXT] = "What happened (optional)",
		[M_TEXT_HINT] = "Do not write card numbers or passwords here.",
		[M_CONTACT_LEGEND] = "Contact details (optional)",
		[M_CONTACT] = "Your phone number or e-mail address",
		[M_CONTACT_HINT] = "Only the hub's staff can see it, to ask you about the report. It "
		                   "is never passed on.",
		[M_HONEYPOT] = "Leave this field empty",
		[M_SEND] = "Send report",
		[M_PROBLEM] = "There is a problem with your report",
		[M_ERROR] = "Error:",
		[M_THANKS] = "Thank you: your report was received",
		[M_RECEIPT] = "Your receipt number",
		[M_RECEIPT_HINT] = "Keep it: with it, and only with it, you can see the state of your "
		                   "report.",
		[M_STATUS_LINK] = "See the state of your report",
		[M_STATUS_TITLE] = "State of your report",
		[M_STATUS_KIND] = "Reported",
		[M_STATUS_RECEIVED] = "Received",
		[M_STATUS_STATE] = "State",
		[M_S_OPEN] = "Under review",
		[M_S_CONFIRMED] = "Confirmed: being passed to the organisations that can act",
		[M_S_REJECTED] = "Reviewed: not confirmed",
		[M_S_PROMOTED] = "Confirmed and passed to the organisations that can act",
		[M_NOT_FOUND] = "No report with this receipt number",
		[M_NOT_FOUND_TEXT] = "Check the number you typed.",
		[M_TOO_MANY] = "Too many reports",
		[M_TOO_MANY_TEXT] = "Too many reports came from your address. Please try again in a "
		                    "minute.",
		[M_NEW_REPORT] = "Send another report",
		[M_LANG] = "Language",
		[M_P_MISSING] = "is required",
		[M_P_TOO_LONG] = "is too long",
		[M_P_ENCODING] = "holds characters that cannot be accepted",
		[M_P_KIND] = "choose one of the options",
		[M_P_INVALID] = "is not valid for the kind of report chosen",
		[M_P_CARD] = "seems to hold a card number: report the card with the option above",
		[M_P_SYNTAX] = "could not be read",
		[M_UNAVAILABLE] = "The report service is unavailable. Please try again later.",
	},
	{
		[M_TITLE] = "Сообщить о мошенничестве",
		[M_H1] = "Сообщить о фишинговом сайте, мошенническом звонке или другом обмане",
		[M_INTRO] = "Расскажите, что вы увидели. Регистрация не нужна. Вы получите номер "
		            "квитанции, чтобы узнать, что стало с вашим сообщением.",
		[M_KIND] = "О чём вы хотите сообщить?",
		[M_K_PHISHING] = "Фишинговый или поддельный сайт",
		[M_K_PHONE] = "Мошеннический звонок или SMS (номер телефона)",
		[M_K_ACCOUNT] = "Мошеннический банковский счёт",
		[M_K_CARD] = "Номер карты, которым пользуются мошенники",
		[M_K_EMAIL] = "Подозрительный адрес электронной почты",
		[M_VALUE] = "Адрес сайта, номер телефона, счёт, номер карты или адрес почты",
		[M_VALUE_HINT] = "Например https://bank-login.example, +7 999 123-45-67, "
		                 "DE89370400440532013000, scam@example.com. Номер карты сразу "
		                 "заменяется секретным отпечатком и не хранится.",
		[M_TEXT] = "Что произошло (необязательно)",
		[M_TEXT_HINT] = "Не пишите здесь номера карт и пароли.",
		[M_CONTACT_LEGEND] = "Контактные данные (необязательно)",
		[M_CONTACT] = "Ваш телефон или адрес электронной почты",
		[M_CONTACT_HINT] = "Их видят только сотрудники центра, чтобы задать вопрос о "
		                   "сообщении. Они никому не передаются.",
		[M_HONEYPOT] = "Оставьте это поле пустым",
		[M_SEND] = "Отправить сообщение",
		[M_PROBLEM] = "В сообщении есть ошибка",
		[M_ERROR] = "Ошибка:",
		[M_THANKS] = "Спасибо: ваше сообщение получено",
		[M_RECEIPT] = "Номер вашей квитанции",
		[M_RECEIPT_HINT] = "Сохраните его: только по нему можно узнать состояние вашего "
		                   "сообщения.",
		[M_STATUS_LINK] = "Узнать состояние сообщения",
		[M_STATUS_TITLE] = "Состояние вашего сообщения",
		[M_STATUS_KIND] = "О чём",
		[M_STATUS_RECEIVED] = "Получено",
		[M_STATUS_STATE] = "Состояние",
		[M_S_OPEN] = "На проверке",
		[M_S_CONFIRMED] = "Подтверждено: передаётся организациям, которые могут принять меры",
		[M_S_REJECTED] = "Проверено: не подтвердилось",
		[M_S_PROMOTED] = "Подтверждено и передано организациям, которые могут принять меры",
		[M_NOT_FOUND] = "Сообщения с таким номером квитанции нет",
		[M_NOT_FOUND_TEXT] = "Проверьте введённый номер.",
		[M_TOO_MANY] = "Слишком много сообщений",
		[M_TOO_MANY_TEXT] = "С вашего адреса пришло слишком много сообщений. Попробуйте ещё "
		                    "раз через минуту.",
		[M_NEW_REPORT] = "Отправить ещё одно сообщение",
		[M_LANG] = "Язык",
		[M_P_MISSING] = "нужно заполнить",
		[M_P_TOO_LONG] = "слишком длинное значение",
		[M_P_ENCODING] = "содержит недопустимые символы",
		[M_P_KIND] = "выберите один из вариантов",
		[M_P_INVALID] = "не подходит для выбранного вида сообщения",
		[M_P_CARD] = "похоже на номер карты: сообщите о карте, выбрав вариант выше",
		[M_P_SYNTAX] = "не удалось прочитать",
		[M_UNAVAILABLE] = "Сервис сообщений недоступен. Попробуйте позже.",
	},
};

static const char *
T(int ru, enum msg m)
{
	return msgs[ru][m];
}

static void
esc(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		switch (c) {
		case '&': buf_append_cstr(b, "&amp;"); break;
		case '<': buf_append_cstr(b, "&lt;"); break;
		case '>': buf_append_cstr(b, "&gt;"); break;
		case '"': buf_append_cstr(b, "&quot;"); break;
		case '\'': buf_append_cstr(b, "&#39;"); break;
		default: buf_append_char(b, c);
		}
	}
}

static void
escs(struct buf *b, const char *s)
{
	esc(b, s, strlen(s));
}

static const char css[] =
	"body{font-family:system-ui,sans-serif;max-width:42rem;margin:0 auto;padding:1rem;"
	"line-height:1.5;color:#1b1b1b;background:#fff}"
	"a{color:#0b4dad}a:focus,input:focus,textarea:focus,button:focus{outline:3px solid #fd0;"
	"outline-offset:2px}"
	"nav{text-align:right}fieldset{border:1px solid #888;margin:1rem 0;padding:.5rem 1rem}"
	"legend{font-weight:bold}.field{margin:1rem 0}label{display:block;font-weight:bold}"
	".choice label{display:inline;font-weight:normal}"
	"input[type=text],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.4rem;"
	"border:2px solid #1b1b1b}"
	"input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b00020;border-width:3px}.hint{color:#444;margin:.2rem 0}"
	".error{color:#b00020;font-weight:bold;margin:.2rem 0}"
	".summary{border:3px solid #b00020;padding:.5rem 1rem;margin:1rem 0}"
	"button{font:inherit;font-weight:bold;padding:.5rem 1.2rem;background:#0b6b2e;color:#fff;"
	"border:0}"
	".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
	".receipt{font-family:monospace;font-size:1.3rem;letter-spacing:.05em}"
	"dt{font-weight:bold}dd{margin:0 0 .5rem 0}";

static void
page_begin(struct buf *b, int ru, const char *title, const char *self)
{
	buf_printf(b,
	           "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	           "<title>",
	           ru ? "ru" : "en");
	escs(b, title);
	buf_append_cstr(b, "</title>\n<link rel=\"stylesheet\" href=\"/report/style.css\">\n"
	                   "</head>\n<body>\n<nav aria-label=\"");
	escs(b, T(ru, M_LANG));
	buf_append_cstr(b, " / Language\"><a href=\"");
	escs(b, self);
	buf_append_cstr(b, "?lang=ru\" lang=\"ru\" hreflang=\"ru\"");
	if (ru)
		buf_append_cstr(b, " aria-current=\"true\"");
	buf_append_cstr(b, ">Русский</a> | <a href=\"");
	escs(b, self);
	buf_append_cstr(b, "?lang=en\" lang=\"en\" hreflang=\"en\"");
	if (!ru)
		buf_append_cstr(b, " aria-current=\"true\"");
	buf_append_cstr(b, ">English</a></nav>\n<main>\n");
}

static void
page_end(struct buf *b)
{
	buf_append_cstr(b, "</main>\n</body>\n</html>\n");
}

static enum msg
problem_msg(enum report_problem p)
{
	switch (p) {
	case RP_MISSING: return M_P_MISSING;
	case RP_TOO_LONG: return M_P_TOO_LONG;
	case RP_ENCODING: return M_P_ENCODING;
	case RP_UNKNOWN_KIND: return M_P_KIND;
	case RP_INVALID: return M_P_INVALID;
	case RP_CARD_IN_TEXT: return M_P_CARD;
	default: return M_P_SYNTAX;
	}
}

static const enum msg field_label[RF_COUNT] = { M_KIND, M_VALUE, M_TEXT, M_CONTACT, M_TITLE };
static const char *const field_id[RF_COUNT] = { "kind-phishing", "value", "text", "contact",
	                                        "value" };

/* The error of field f, tied to it by id "<name>-error". */
static void
field_error(struct buf *b, int ru, const struct report_errs *e, enum report_field f)
{
	if (!e || e->p[f] == RP_NONE)
		return;
	buf_printf(b, "<p id=\"%s-error\" class=\"error\"><span>", report_field_name(f));
	escs(b, T(ru, M_ERROR));
	buf_append_cstr(b, "</span> ");
	escs(b, T(ru, problem_msg(e->p[f])));
	buf_append_cstr(b, "</p>\n");
}

static void
describedby(struct buf *b, const struct report_errs *e, enum report_field f, bool hint)
{
	bool err = e && e->p[f] != RP_NONE;
	if (!hint && !err)
		return;
	buf_append_cstr(b, " aria-describedby=\"");
	if (hint)
		buf_printf(b, "%s-hint", report_field_name(f));
	if (err)
		buf_printf(b, "%s%s-error", hint ? " " : "", report_field_name(f));
	buf_append_char(b, '"');
	if (err)
		buf_append_cstr(b, " aria-invalid=\"true\"");
}

static void
form_page(struct buf *b, int ru, const struct report_in *in, const struct report_errs *e)
{
	page_begin(b, ru, T(ru, M_TITLE), "/report");
	buf_append_cstr(b, "<h1>");
	escs(b, T(ru, M_H1));
	buf_append_cstr(b, "</h1>\n<p>");
	escs(b, T(ru, M_INTRO));
	buf_append_cstr(b, "</p>\n");
	if (e && report_errs_any(e)) {
		buf_append_cstr(b, "<div class=\"summary\" role=\"alert\" aria-labelledby=\"problem\">"
		                   "<h2 id=\"problem\">");
		escs(b, T(ru, M_PROBLEM));
		buf_append_cstr(b, "</h2>\n<ul>\n");
		for (int f = 0; f < RF_COUNT; f++) {
			if (e->p[f] == RP_NONE)
				continue;
			buf_printf(b, "<li><a href=\"#%s\">", field_id[f]);
			escs(b, T(ru, field_label[f]));
			buf_append_cstr(b, ": ");
			escs(b, T(ru, problem_msg(e->p[f])));
			buf_append_cstr(b, "</a></li>\n");
		}
		buf_append_cstr(b, "</ul>\n</div>\n");
	}
	buf_printf(b, "<form method=\"post\" action=\"/report\" accept-charset=\"utf-8\">\n"
	              "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
	           ru ? "ru" : "en");
	buf_append_cstr(b, "<fieldset");
	describedby(b, e, RF_KIND, false);
	buf_append_cstr(b, ">\n<legend>");
	escs(b, T(ru, M_KIND));
	buf_append_cstr(b, "</legend>\n");
	field_error(b, ru, e, RF_KIND);
	enum report_kind chosen = in && in->kind ? in->kind : REPORT_PHISHING;
	for (int k = REPORT_PHISHING; k <= REPORT_KIND_MAX; k++) {
		const char *n = report_kind_name((enum report_kind)k);
		buf_printf(b,
		           "<div class=\"choice\"><input type=\"radio\" name=\"kind\" id=\"kind-%s\" "
		           "value=\"%s\"%s> <label for=\"kind-%s\">",
		           n, n, (int)chosen == k ? " checked" : "", n);
		escs(b, T(ru, (enum msg)(M_K_PHISHING + k - REPORT_PHISHING)));
		buf_append_cstr(b, "</label></div>\n");
	}
	buf_append_cstr(b, "</fieldset>\n<div class=\"field\">\n<label for=\"value\">");
	escs(b, T(ru, M_VALUE));
	buf_append_cstr(b, "</label>\n<p id=\"value-hint\" class=\"hint\">");
	escs(b, T(ru, M_VALUE_HINT));
	buf_append_cstr(b, "</p>\n");
	field_error(b, ru, e, RF_VALUE);
	buf_printf(b, "<input type=\"text\" id=\"value\" name=\"value\" required "
	              "maxlength=\"%d\" autocomplete=\"off\" spellcheck=\"false\"",
	           REPORT_VALUE_MAX);
	describedby(b, e, RF_VALUE, true);
	if (in && in->value_len && in->kind != REPORT_CARD) {
		buf_append_cstr(b, " value=\"");
		esc(b, in->value, in->value_len);
		buf_append_char(b, '"');
	}
	buf_append_cstr(b, ">\n</div>\n<div class=\"field\">\n<label for=\"text\">");
	escs(b, T(ru, M_TEXT));
	buf_append_cstr(b, "</label>\n<p id=\"text-hint\" class=\"hint\">");
	escs(b, T(ru, M_TEXT_HINT));
	buf_append_cstr(b, "</p>\n");
	field_error(b, ru, e, RF_TEXT);
	buf_printf(b, "<textarea id=\"text\" name=\"text\" rows=\"6\" maxlength=\"%d\"",
	           REPORT_TEXT_MAX);
	describedby(b, e, RF_TEXT, true);
	buf_append_char(b, '>');
	if (in && in->text_len)
		esc(b, in->text, in->text_len);
	buf_append_cstr(b, "</textarea>\n</div>\n<fieldset>\n<legend>");
	escs(b, T(ru, M_CONTACT_LEGEND));
	buf_append_cstr(b, "</legend>\n<p id=\"contact-hint\" class=\"hint\">");
	escs(b, T(ru, M_CONTACT_HINT));
	buf_append_cstr(b, "</p>\n<label for=\"contact\">");
	escs(b, T(ru, M_CONTACT));
	buf_append_cstr(b, "</label>\n");
	field_error(b, ru, e, RF_CONTACT);
	buf_printf(b, "<input type=\"text\" id=\"contact\" name=\"contact\" maxlength=\"%d\" "
	              "autocomplete=\"email\"",
	           REPORT_CONTACT_MAX);
	describedby(b, e, RF_CONTACT, true);
	if (in && in->contact_len) {
		buf_append_cstr(b, " value=\"");
		esc(b, in->contact, in->contact_len);
		buf_append_char(b, '"');
	}
	buf_append_cstr(b, ">\n</fieldset>\n<div class=\"hp\" aria-hidden=\"true\">"
	                   "<label for=\"" REPORT_HONEYPOT_FIELD "\">");
	escs(b, T(ru, M_HONEYPOT));
	buf_append_cstr(b, "</label><input type=\"text\" id=\"" REPORT_HONEYPOT_FIELD
	                   "\" name=\"" REPORT_HONEYPOT_FIELD "\" tabindex=\"-1\" "
	                   "autocomplete=\"off\"></div>\n<button type=\"submit\">");
	escs(b, T(ru, M_SEND));
	buf_append_cstr(b, "</button>\n</form>\n");
	page_end(b);
}

static void
thanks_page(struct buf *b, int ru, const char *receipt)
{
	page_begin(b, ru, T(ru, M_THANKS), "/report");
	buf_append_cstr(b, "<h1>");
	escs(b, T(ru, M_THANKS));
	buf_append_cstr(b, "</h1>\n<p>");
	escs(b, T(ru, M_RECEIPT));
	buf_append_cstr(b, ":</p>\n<p class=\"receipt\" id=\"receipt\">");
	escs(b, receipt);
	buf_append_cstr(b, "</p>\n<p>");
	escs(b, T(ru, M_RECEIPT_HINT));
	buf_printf(b, "</p>\n<p><a id=\"status-link\" href=\"" STATUS_PREFIX "%s?lang=%s\">", receipt,
	           ru ? "ru" : "en");
	escs(b, T(ru, M_STATUS_LINK));
	buf_printf(b, "</a></p>\n<p><a href=\"/report?lang=%s\">", ru ? "ru" : "en");
	escs(b, T(ru, M_NEW_REPORT));
	buf_append_cstr(b, "</a></p>\n");
	page_end(b);
}

static void
message_page(struct buf *b, int ru, enum msg title, enum msg text, const char *self)
{
	page_begin(b, ru, T(ru, title), self);
	buf_append_cstr(b, "<h1>");
	escs(b, T(ru, title));
	buf_append_cstr(b, "</h1>\n<p>");
	escs(b, T(ru, text));
	buf_printf(b, "</p>\n<p><a href=\"/report?lang=%s\">", ru ? "ru" : "en");
	escs(b, T(ru, M_NEW_REPORT));
	buf_append_cstr(b, "</a></p>\n");
	page_end(b);
}

static enum msg
state_msg(enum report_state s)
{
	switch (s) {
	case RS_CONFIRMED: return M_S_CONFIRMED;
	case RS_REJECTED: return M_S_REJECTED;
	case RS_PROMOTED: return M_S_PROMOTED;
	default: return M_S_OPEN;
	}
}

static void
status_page(struct buf *b, int ru, const char *self, const struct report_status *s)
{
	page_begin(b, ru, T(ru, M_STATUS_TITLE), self);
	buf_append_cstr(b, "<h1>");
	escs(b, T(ru, M_STATUS_TITLE));
	buf_append_cstr(b, "</h1>\n<dl>\n<dt>");
	escs(b, T(ru, M_STATUS_KIND));
	buf_append_cstr(b, "</dt><dd>");
	escs(b, T(ru, (enum msg)(M_K_PHISHING + (s->rkind ? s->rkind : 1) - REPORT_PHISHING)));
	buf_append_cstr(b, "</dd>\n<dt>");
	escs(b, T(ru, M_STATUS_RECEIVED));
	char ts[TS_TEXT_MAX];
	ts_format(s->received_us - s->received_us % 1000000, 0, ts);
	buf_append_cstr(b, "</dt><dd><time>");
	escs(b, ts);
	buf_append_cstr(b, "</time></dd>\n<dt>");
	escs(b, T(ru, M_STATUS_STATE));
	buf_printf(b, "</dt><dd id=\"state\" data-state=\"%s\">", report_state_name(s->state));
	escs(b, T(ru, state_msg(s->state)));
	buf_append_cstr(b, "</dd>\n</dl>\n");
	buf_printf(b, "<p><a href=\"/report?lang=%s\">", ru ? "ru" : "en");
	escs(b, T(ru, M_NEW_REPORT));
	buf_append_cstr(b, "</a></p>\n");
	page_end(b);
}

/* ---- the query string ---- */

/* The value of parameter name in raw_uri's query (undecoded), or an
 * empty slice. */
static struct slice
query_param(const char *raw_uri, const char *name)
{
	const char *q = raw_uri ? strchr(raw_uri, '?') : NULL;
	size_t nl = strlen(name);
	if (!q)
		return slice_make("", 0);
	for (const char *p = q + 1; *p && *p != '#';) {
		size_t l = strcspn(p, "&#");
		if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
			return slice_make(p + nl + 1, l - nl - 1);
		p += l;
		if (*p == '&')
			p++;
	}
	return slice_make("", 0);
}

static int
pick_lang(struct MHD_Connection *con, const struct api_reports_req *rq, const char *form_lang)
{
	struct slice l = query_param(rq->raw_uri, "lang");
	if (slice_eq_cstr(l, "ru"))
		return 1;
	if (slice_eq_cstr(l, "en"))
		return 0;
	if (form_lang && form_lang[0])
		return strcmp(form_lang, "ru") == 0;
	const char *al =
		MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	return strcmp(report_lang_pick(al), "ru") == 0;
}

/* ---- intake ---- */

struct intake {
	struct report_in in;
	struct report_errs e;
	struct report_obs obs;
	struct report_added added;
};

/* The common path of both intakes. Returns the HTTP status: 201 stored
 * (or honeypot), 400 invalid, 429 rate, 503 store. */
static int
intake(const struct api_reports_req *rq, bool json, struct intake *k)
{
	struct app *a = rq->a;
	struct reports *r = a->reports;
	memset(&k->e, 0, sizeof k->e);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t mono = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (!report_rate_take(r->rate, rq->client, mono)) {
		atomic_fetch_add(&m_refused[RF_RATE], 1);
		return 429;
	}
	enum tcerr rc = json ? report_parse_json(rq->body, &k->in, &k->e)
	                     : report_parse_form(rq->body, &k->in, &k->e);
	if (rc == TC_ENOMEM) {
		atomic_fetch_add(&m_refused[RF_ERROR], 1);
		return 503;
	}
	if (!rc)
		rc = report_check(hub_obs_ctx(a->hub), &k->in, &k->obs, &k->e);
	else if (k->in.kind == REPORT_CARD) {
		memset(k->in.value, 0, sizeof k->in.value);
		k->in.value_len = 0;
	}
	if (rc == TC_ENOMEM) {
		atomic_fetch_add(&m_refused[RF_ERROR], 1);
		return 503;
	}
	if (rc) {
		bool size = false;
		for (int f = 0; f < RF_COUNT; f++)
			size |= k->e.p[f] == RP_TOO_LONG;
		atomic_fetch_add(&m_refused[size ? RF_SIZE : RF_INVALID], 1);
		return 400;
	}
	if (k->in.honeypot) {
		/* a robot filled the hidden field: answered as a person would be,
		 * with a receipt that leads nowhere, and nothing kept */
		atomic_fetch_add(&m_refused[RF_HONEYPOT], 1);
		report_receipt_make(k->added.receipt);
		return 201;
	}
	struct report_add ad = {
		.rkind = k->in.kind,
		.obs = &k->obs,
		.text = slice_make(k->in.text, k->in.text_len),
		.contact = slice_make(k->in.contact, k->in.contact_len),
		.lang = k->in.lang[0] ? k->in.lang : "en",
		.now_us = ts_now_us(),
	};
	memcpy(ad.client, rq->client, sizeof ad.client);
	struct diag d;
	if (report_db_add(r->db, &ad, &k->added, &d)) {
		atomic_fetch_add(&m_refused[RF_ERROR], 1);
		log_error("citizen report not stored", d.msg);
		return 503;
	}
	atomic_fetch_add(&m_received[json], 1);
	if (k->added.new_group)
		atomic_fetch_add(&m_groups_new, 1);
	else
		atomic_fetch_add(&m_grouped, 1);
	unsigned th = a->conf->reports_promote_threshold;
	if (th && k->added.state == RS_OPEN && !k->added.held && k->added.nreporters >= th)
		promoter_wake(r);
	return 201;
}

static enum MHD_Result
serve_form_post(struct MHD_Connection *con, const struct api_reports_req *rq, int *st,
                size_t *bytes)
{
	struct intake *k = calloc(1, sizeof *k);
	if (!k)
		return MHD_NO;
	int status = intake(rq, false, k);
	int ru = pick_lang(con, rq, k->in.lang);
	struct buf b;
	buf_init(&b, 0);
	if (status == 201)
		thanks_page(&b, ru, k->added.receipt);
	else if (status == 400)
		form_page(&b, ru, &k->in, &k->e);
	else if (status == 429)
		message_page(&b, ru, M_TOO_MANY, M_TOO_MANY_TEXT, "/report");
	else
		message_page(&b, ru, M_TITLE, M_UNAVAILABLE, "/report");
	sodium_memzero(k, sizeof *k);
	free(k);
	/* a page a browser shows: 200 for a stored report */
	return answer(con, status == 201 ? 200 : status, HTML_TYPE, &b, true,
	            status == 429 ? REPORTS_RETRY_AFTER : NULL, st, bytes);
}

static enum MHD_Result
serve_json_post(struct MHD_Connection *con, const struct api_reports_req *rq, int *st,
                size_t *bytes)
{
	struct intake *k = calloc(1, sizeof *k);
	if (!k)
		return MHD_NO;
	int status = intake(rq, true, k);
	struct buf b;
	buf_init(&b, 0);
	if (status == 201) {
		buf_printf(&b,
		           "{\"receipt\":\"%s\",\"status\":\"" STATUS_PREFIX "%s\","
		           "\"status_api\":\"" API_STATUS_PREFIX "%s\",\"state\":\"%s\"}\n",
		           k->added.receipt, k->added.receipt, k->added.receipt,
		           report_state_name(k->added.state ? k->added.state : RS_OPEN));
	} else if (status == 400) {
		char desc[DIAG_MSG_MAX + 128];
		size_t o = 0;
		desc[0] = '\0';
		for (int f = 0; f < RF_COUNT; f++) {
			if (k->e.p[f] == RP_NONE)
				continue;
			int n = snprintf(desc + o, sizeof desc - o, "%s%s %s", o ? "; " : "",
			                 report_field_name(f), report_problem_text(k->e.p[f]));
			if (n < 0 || (size_t)n >= sizeof desc - o)
				break;
			o += (size_t)n;
		}
		if (k->e.why[0] && o < sizeof desc) {
			int n = snprintf(desc + o, sizeof desc - o, " (%s)", k->e.why);
			(void)n; /* cut: still a useful message */
		}
		buf_append_cstr(&b, "{\"title\":\"invalid report\",\"description\":");
		buf_append_json_str(&b, slice_from_cstr(desc));
		buf_append_cstr(&b, ",\"http_status\":\"400\",\"fields\":{");
		bool first = true;
		for (int f = 0; f < RF_COUNT; f++) {
			if (k->e.p[f] == RP_NONE)
				continue;
			buf_printf(&b, "%s\"%s\":", first ? "" : ",", report_field_name(f));
			buf_append_json_str(&b, slice_from_cstr(report_problem_text(k->e.p[f])));
			first = false;
		}
		buf_append_cstr(&b, "}}");
	} else if (status == 429) {
		json_error(&b, 429, "too many reports",
		           "this address sent more reports than [reports] rate_per_minute allows");
	} else {
		json_error(&b, 503, "reports unavailable", "the report store cannot be written");
	}
	sodium_memzero(k, sizeof *k);
	free(k);
	return answer(con, status, JSON_TYPE, &b, false, status == 429 ? REPORTS_RETRY_AFTER : NULL,
	            st, bytes);
}

/* ---- triage (coordinator, admin) ---- */

static bool
may_see(void *ctx, const struct store_row *row)
{
	return policy_row(ctx, row);
}

/* Appends the allowlist and indicators the caller may see for g. */
static void
triage_checks(const struct api_reports_req *rq, const struct policy_subject *who,
              const struct report_group *g, struct buf *b)
{
	struct allowlist *al = hub_allowlist_get(rq->a->hub);
	struct allowlist_hit hit;
	bool listed = allowlist_check_block(al, g->okind, slice_from_cstr(g->value), &hit);
	buf_printf(b, ",\"allowlisted\":%s", listed ? "true" : "false");
	allowlist_free(al);
	buf_append_cstr(b, ",\"indicators\":[");
	struct hub_lookup lk;
	hub_lookup_init(&lk);
	struct diag d;
	struct slice v = slice_from_cstr(g->value);
	enum obs_kind kind = g->okind;
	size_t shown = 0;
	uint32_t total = 0;
	if (rq->store && hub_lookup_batch(rq->a->hub, rq->store, &v, 1, &kind, may_see, (void *)who,
	                                  &lk, &d) == TC_OK &&
	    lk.nvalues == 1 && lk.values[0].rc == TC_OK) {
		const struct hub_lookup_value *lv = &lk.values[0];
		total = lv->hits_total;
		for (uint32_t i = 0; i < lv->nhits; i++) {
			const struct hub_lookup_ind *ind = &lk.inds[lk.hits[lv->hit0 + i].ind];
			buf_append_cstr(b, shown ? "," : "");
			buf_append_json_str(b, slice_from_cstr(ind->id));
			shown++;
		}
	}
	hub_lookup_reset(&lk);
	buf_printf(b, "],\"indicators_total\":%u", total);
}

static void
group_json(const struct report_group *g, struct buf *b)
{
	char f[TS_TEXT_MAX], l[TS_TEXT_MAX];
	ts_format(g->first_us, 3, f);
	ts_format(g->last_us, 3, l);
	buf_printf(b, "{\"id\":%lld,\"kind\":\"%s\",\"report_kind\":\"%s\",\"value\":",
	           (long long)g->id, obs_kind_name(g->okind), report_kind_name(g->rkind));
	buf_append_json_str(b, slice_from_cstr(g->value));
	buf_printf(b,
	           ",\"reports\":%u,\"reporters\":%u,\"contacts\":%u,\"first\":\"%s\","
	           "\"last\":\"%s\",\"state\":\"%s\",\"held\":%s",
	           g->nreports, g->nreporters, g->ncontacts, f, l, report_state_name(g->state),
	           g->held ? "true" : "false");
	if (g->decided_by[0]) {
		buf_append_cstr(b, ",\"decided_by\":");
		buf_append_json_str(b, slice_from_cstr(g->decided_by));
	}
	if (g->note[0]) {
		buf_append_cstr(b, ",\"note\":");
		buf_append_json_str(b, slice_from_cstr(g->note));
	}
	if (g->indicator[0])
		buf_printf(b, ",\"indicator\":\"%s\"", g->indicator);
}

struct list_ctx {
	const struct api_reports_req *rq;
	const struct policy_subject *who;
	struct buf *b;
	size_t n;
};

struct groups_ctx {
	struct report_group *g;
	size_t n, cap;
};

static enum tcerr
collect(void *ctx, const struct report_group *g)
{
	struct groups_ctx *c = ctx;
	if (c->n < c->cap)
		c->g[c->n++] = *g;
	return TC_OK;
}

static enum tcerr
row_json(void *ctx, const struct report_row *r)
{
	struct list_ctx *c = ctx;
	char t[TS_TEXT_MAX];
	ts_format(r->received_us, 3, t);
	buf_printf(c->b, "%s{\"id\":%lld,\"received\":\"%s\",\"kind\":\"%s\",\"text\":",
	           c->n++ ? "," : "", (long long)r->id, t, report_kind_name(r->rkind));
	buf_append_json_str(c->b, slice_from_cstr(r->text));
	/* whether a contact was given, never the contact (docs/reports.md) */
	buf_printf(c->b, ",\"has_contact\":%s}", r->has_contact ? "true" : "false");
	return TC_OK;
}

static enum MHD_Result
serve_triage(struct MHD_Connection *con, const struct api_reports_req *rq, int *st,
             size_t *bytes)
{
	if (rq->auth_bad || !rq->who)
		return send_json_error(con, 401, rq->auth_bad ? "authentication failed"
		                                              : "authentication required",
		                       rq->auth_bad ? rq->auth_why
		                                    : "the triage queue needs a coordinator's key",
		                       st, bytes);
	if (rq->who->role != ROLE_COORDINATOR && rq->who->role != ROLE_ADMIN)
		return send_json_error(con, 403, "forbidden",
		                       "the triage queue is for the roles coordinator and admin", st,
		                       bytes);
	struct policy_subject who;
	policy_subject_principal(&who, rq->snap, rq->who);
	struct reports *r = rq->a->reports;
	const char *rest = rq->url + strlen(API_TRIAGE);
	struct buf b;
	buf_init(&b, 0);
	struct diag d;
	if (*rest == '\0') {
		if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
			return send_json_error(con, 405, "method not allowed", "the triage list answers GET",
			                       st, bytes);
		enum report_state state = 0;
		char sv[16];
		struct slice s = query_param(rq->raw_uri, "state");
		if (s.len) {
			snprintf(sv, sizeof sv, "%.*s", (int)(s.len < 15 ? s.len : 15), s.p);
			if (!report_state_parse(sv, &state))
				return send_json_error(con, 400, "bad state",
				                       "state is open, confirmed, rejected or promoted", st,
				                       bytes);
		}
		size_t limit = REPORTS_TRIAGE_DEFAULT;
		struct slice ls = query_param(rq->raw_uri, "limit");
		if (ls.len) {
			char lv[12];
			snprintf(lv, sizeof lv, "%.*s", (int)(ls.len < 11 ? ls.len : 11), ls.p);
			char *end;
			unsigned long n = strtoul(lv, &end, 10);
			if (*end || !n || n > REPORT_LIST_MAX)
				return send_json_error(con, 400, "bad limit", "limit is 1..10000", st, bytes);
			limit = n;
		}
		struct groups_ctx gc = { calloc(limit, sizeof *gc.g), 0, limit };
		if (!gc.g)
			return MHD_NO;
		if (report_db_groups(r->db, state, limit, collect, &gc, &d)) {
			free(gc.g);
			return send_json_error(con, 503, "reports unavailable", d.msg, st, bytes);
		}
		buf_append_cstr(&b, "{\"groups\":[");
		for (size_t i = 0; i < gc.n; i++) {
			buf_append_cstr(&b, i ? "," : "");
			group_json(&gc.g[i], &b);
			triage_checks(rq, &who, &gc.g[i], &b);
			buf_append_char(&b, '}');
		}
		buf_printf(&b, "],\"promote_threshold\":%u}\n",
		           rq->a->conf->reports_promote_threshold);
		free(gc.g);
		return answer(con, 200, JSON_TYPE, &b, false, NULL, st, bytes);
	}
	/* /ID, /ID/confirm, /ID/reject */
	if (*rest != '/')
		return send_json_error(con, 404, "not found", NULL, st, bytes);
	char *end;
	long long id = strtoll(rest + 1, &end, 10);
	if (end == rest + 1 || id <= 0)
		return send_json_error(con, 404, "not found", "no such report group", st, bytes);
	struct report_group g;
	if (*end == '\0') {
		if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
			return send_json_error(con, 405, "method not allowed", "a group answers GET", st,
			                       bytes);
		enum tcerr grc = report_db_group(r->db, id, &g, &d);
		if (grc)
			return send_json_error(con, grc == TC_ENOTFOUND ? 404 : 503,
			                       grc == TC_ENOTFOUND ? "not found" : "reports unavailable",
			                       d.msg, st, bytes);
		group_json(&g, &b);
		triage_checks(rq, &who, &g, &b);
		buf_append_cstr(&b, ",\"report_list\":[");
		struct list_ctx lc = { rq, &who, &b, 0 };
		if (report_db_group_reports(r->db, id, REPORTS_TRIAGE_REPORTS, false, row_json, &lc, &d)) {
			buf_reset(&b);
			return send_json_error(con, 503, "reports unavailable", d.msg, st, bytes);
		}
		buf_append_cstr(&b, "]}\n");
		return answer(con, 200, JSON_TYPE, &b, false, NULL, st, bytes);
	}
	enum report_state to;
	if (strcmp(end, "/confirm") == 0)
		to = RS_CONFIRMED;
	else if (strcmp(end, "/reject") == 0)
		to = RS_REJECTED;
	else
		return send_json_error(con, 404, "not found", "use /confirm or /reject", st, bytes);
	if (strcmp(rq->method, "POST"))
		return send_json_error(con, 405, "method not allowed", "a decision is a POST", st, bytes);
	char note[REPORT_NOTE_MAX + 1] = "";
	if (rq->body.len) {
		json_t *o = NULL;
		if (stix_json_parse(rq->body, NULL, &o, &d) || !json_is_object(o)) {
			json_decref(o);
			return send_json_error(con, 400, "bad body", "the body is {\"note\": TEXT} or empty",
			                       st, bytes);
		}
		json_t *n = json_object_get(o, "note");
		if (json_is_string(n))
			snprintf(note, sizeof note, "%s", json_string_value(n));
		json_decref(o);
	}
	const struct reg_org *org = reg_snapshot_org(rq->snap, rq->who->org);
	char by[REPORT_BY_MAX + 1];
	snprintf(by, sizeof by, "%s/%s", org ? org->name : "?", rq->who->key_id);
	enum tcerr drc = report_db_decide(r->db, id, to, by, note, ts_now_us(), &d);
	if (drc)
		return send_json_error(con, drc == TC_ENOTFOUND ? 404 : drc == TC_EEXIST ? 409 : 503,
		                       drc == TC_ENOTFOUND  ? "not found"
		                       : drc == TC_EEXIST ? "already promoted"
		                                          : "reports unavailable",
		                       d.msg, st, bytes);
	{
		/* audited like the CLI's decision: counts only, never a value a
		 * reporter typed nor a contact */
		struct report_group before;
		char detail[128];
		if (report_db_group(r->db, id, &before, &d) == TC_OK)
			snprintf(detail, sizeof detail, "report group %lld (%u reports, %u reporters)",
			         id, before.nreports, before.nreporters);
		else
			snprintf(detail, sizeof detail, "report group %lld", id);
		char request[96];
		snprintf(request, sizeof request, "POST " API_TRIAGE "/%lld%s", id, end);
		struct audit_entry ae = { .action = to == RS_CONFIRMED ? "report.confirm"
		                                                      : "report.reject",
			                  .actor = rq->who->key_id, .org = org ? org->name : NULL,
			                  .request = request, .http_status = 200, .detail = detail };
		if (rq->a->audit && (audit_append(rq->a->audit, &ae, &d) ||
		                     audit_sync(rq->a->audit, &d)))
			log_error("report triage: the decision was made but not audited", d.msg);
		struct logline l;
		log_begin(&l, CONF_LOG_INFO, "report group decided");
		log_int(&l, "group", id);
		log_str(&l, "state", report_state_name(to));
		log_str(&l, "by", by);
		log_end(&l);
	}
	if (to == RS_CONFIRMED)
		reports_promote_due(rq->a); /* now, so the answer can name the indicator */
	if (report_db_group(r->db, id, &g, &d))
		return send_json_error(con, 503, "reports unavailable", d.msg, st, bytes);
	group_json(&g, &b);
	buf_append_cstr(&b, "}\n");
	return answer(con, 200, JSON_TYPE, &b, false, NULL, st, bytes);
}

/* ---- dispatch ---- */

static enum MHD_Result
serve_status(struct MHD_Connection *con, const struct api_reports_req *rq, bool json, int *st,
             size_t *bytes)
{
	const char *tok = rq->url + strlen(json ? API_STATUS_PREFIX : STATUS_PREFIX);
	struct report_status s;
	struct diag d;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t mono = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	int ru = json ? 0 : pick_lang(con, rq, NULL);
	struct buf b;
	buf_init(&b, 0);
	/* status look-ups share the reporter's bucket: guessing receipts costs
	 * the same as reporting (and 130 random bits make it hopeless anyway) */
	if (!report_rate_take(rq->a->reports->rate, rq->client, mono)) {
		atomic_fetch_add(&m_refused[RF_RATE], 1);
		if (json)
			return send_json_error(con, 429, "too many requests", NULL, st, bytes);
		message_page(&b, ru, M_TOO_MANY, M_TOO_MANY_TEXT, "/report");
		return answer(con, 429, HTML_TYPE, &b, true, REPORTS_RETRY_AFTER, st, bytes);
	}
	enum tcerr rc = report_db_status(rq->a->reports->db, slice_from_cstr(tok), &s, &d);
	if (rc && rc != TC_ENOTFOUND) {
		if (json)
			return send_json_error(con, 503, "reports unavailable", NULL, st, bytes);
		message_page(&b, ru, M_TITLE, M_UNAVAILABLE, "/report");
		return answer(con, 503, HTML_TYPE, &b, true, NULL, st, bytes);
	}
	if (rc == TC_ENOTFOUND) {
		if (json)
			return send_json_error(con, 404, "not found", "no report with this receipt", st,
			                       bytes);
		message_page(&b, ru, M_NOT_FOUND, M_NOT_FOUND_TEXT, "/report");
		return answer(con, 404, HTML_TYPE, &b, true, NULL, st, bytes);
	}
	if (json) {
		char t[TS_TEXT_MAX];
		ts_format(s.received_us - s.received_us % 1000000, 0, t);
		buf_printf(&b, "{\"kind\":\"%s\",\"received\":\"%s\",\"state\":\"%s\"}\n",
		           report_kind_name(s.rkind), t, report_state_name(s.state));
		return answer(con, 200, JSON_TYPE, &b, false, NULL, st, bytes);
	}
	char self[128];
	snprintf(self, sizeof self, STATUS_PREFIX "%.*s", REPORT_RECEIPT_LEN, tok);
	status_page(&b, ru, self, &s);
	return answer(con, 200, HTML_TYPE, &b, true, NULL, st, bytes);
}

enum MHD_Result
api_reports_serve(struct MHD_Connection *con, const struct api_reports_req *rq, int *st,
                  size_t *bytes)
{
	const char *u = rq->url;
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	bool post = strcmp(rq->method, "POST") == 0;
	struct buf b;
	buf_init(&b, 0);
	if (strncmp(u, API_TRIAGE, strlen(API_TRIAGE)) == 0 &&
	    (u[strlen(API_TRIAGE)] == '\0' || u[strlen(API_TRIAGE)] == '/'))
		return rq->a->reports ? serve_triage(con, rq, st, bytes)
		                      : send_json_error(con, 404, "not found",
		                                        "citizen reports are off ([reports] enabled)",
		                                        st, bytes);
	if (!rq->a->reports || !rq->a->conf->reports_enabled) {
		if (post)
			atomic_fetch_add(&m_refused[RF_DISABLED], 1);
		return send_json_error(con, 404, "not found",
		                       "citizen reports are off ([reports] enabled)", st, bytes);
	}
	if (strcmp(u, "/report/style.css") == 0 && get) {
		buf_append(&b, css, sizeof css - 1);
		return answer(con, 200, CSS_TYPE, &b, false, NULL, st, bytes);
	}
	if (strcmp(u, "/report") == 0 && get) {
		form_page(&b, pick_lang(con, rq, NULL), NULL, NULL);
		return answer(con, 200, HTML_TYPE, &b, true, NULL, st, bytes);
	}
	if (strcmp(u, "/report") == 0 && post)
		return serve_form_post(con, rq, st, bytes);
	if (strncmp(u, STATUS_PREFIX, strlen(STATUS_PREFIX)) == 0 && get)
		return serve_status(con, rq, false, st, bytes);
	if (strncmp(u, API_STATUS_PREFIX, strlen(API_STATUS_PREFIX)) == 0 && get)
		return serve_status(con, rq, true, st, bytes);
	if (strcmp(u, API_PREFIX) == 0 && post)
		return serve_json_post(con, rq, st, bytes);
	if (strcmp(u, API_PREFIX) == 0 || strcmp(u, "/report") == 0)
		return send_json_error(con, 405, "method not allowed",
		                       "reports are sent with POST; the form is read with GET", st,
		                       bytes);
	return send_json_error(con, 404, "not found",
	                       "reports: /report, /report/status/RECEIPT, /api/v1/reports, "
	                       "/api/v1/reports/status/RECEIPT, /api/v1/reports/triage",
	                       st, bytes);
}

void
api_reports_metrics(struct app *a, struct buf *out)
{
	buf_append_cstr(out, "# HELP tocsin_reports_received_total Citizen reports stored, by "
	                     "intake.\n# TYPE tocsin_reports_received_total counter\n");
	buf_printf(out, "tocsin_reports_received_total{via=\"form\"} %llu\n",
	           (unsigned long long)atomic_load(&m_received[0]));
	buf_printf(out, "tocsin_reports_received_total{via=\"json\"} %llu\n",
	           (unsigned long long)atomic_load(&m_received[1]));
	buf_append_cstr(out, "# HELP tocsin_reports_refused_total Citizen reports refused, by "
	                     "reason.\n# TYPE tocsin_reports_refused_total counter\n");
	for (int i = 0; i < RF_NREASONS; i++)
		buf_printf(out, "tocsin_reports_refused_total{reason=\"%s\"} %llu\n", refuse_names[i],
		           (unsigned long long)atomic_load(&m_refused[i]));
	buf_append_cstr(out, "# HELP tocsin_reports_grouped_total Citizen reports that joined a "
	                     "group with earlier reports.\n"
	                     "# TYPE tocsin_reports_grouped_total counter\n");
	buf_printf(out, "tocsin_reports_grouped_total %llu\n",
	           (unsigned long long)atomic_load(&m_grouped));
	buf_append_cstr(out, "# HELP tocsin_report_groups_created_total Triage groups made by a "
	                     "first report.\n# TYPE tocsin_report_groups_created_total counter\n");
	buf_printf(out, "tocsin_report_groups_created_total %llu\n",
	           (unsigned long long)atomic_load(&m_groups_new));
	buf_append_cstr(out, "# HELP tocsin_reports_promoted_total Triage groups published as "
	                     "indicators, by who decided.\n"
	                     "# TYPE tocsin_reports_promoted_total counter\n");
	buf_printf(out, "tocsin_reports_promoted_total{by=\"threshold\"} %llu\n",
	           (unsigned long long)atomic_load(&m_promoted[0]));
	buf_printf(out, "tocsin_reports_promoted_total{by=\"coordinator\"} %llu\n",
	           (unsigned long long)atomic_load(&m_promoted[1]));
	if (!a->reports)
		return;
	uint64_t counts[RS_MAX + 1], reports = 0;
	struct diag d;
	if (report_db_counts(a->reports->db, counts, &reports, &d) == TC_OK) {
		buf_append_cstr(out, "# HELP tocsin_report_groups Triage groups, by state.\n"
		                     "# TYPE tocsin_report_groups gauge\n");
		for (int s = RS_OPEN; s <= RS_MAX; s++)
			buf_printf(out, "tocsin_report_groups{state=\"%s\"} %llu\n",
			           report_state_name((enum report_state)s),
			           (unsigned long long)counts[s]);
	}
	buf_append_cstr(out, "# HELP tocsin_report_rate_evictions_total Client buckets evicted "
	                     "from the full rate table.\n"
	                     "# TYPE tocsin_report_rate_evictions_total counter\n");
	buf_printf(out, "tocsin_report_rate_evictions_total %llu\n",
	           (unsigned long long)report_rate_evictions(a->reports->rate));
}
