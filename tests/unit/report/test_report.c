/*
 * Unit tests of lib/report: the form and JSON parsers with their limits,
 * the check (kinds, normalisation, card hashing, card numbers refused in
 * free text), Accept-Language, the bounded rate table, and reports.db
 * (grouping, independent reporters, receipts, decisions, promotion).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"
#include "report/report_db.h"
#include "report/report_rate.h"

static const uint8_t key[OBS_CARD_KEY_LEN] = { 7 };
static const struct obs_ctx ctx = { .card_key = key, .card_key_len = sizeof key };

static struct report_in in;
static struct report_errs e;
static struct report_obs o;

static enum tcerr
form(const char *s)
{
	enum tcerr rc = report_parse_form(slice_from_cstr(s), &in, &e);
	return rc ? rc : report_check(&ctx, &in, &o, &e);
}

static enum tcerr
json(const char *s)
{
	enum tcerr rc = report_parse_json(slice_from_cstr(s), &in, &e);
	return rc ? rc : report_check(&ctx, &in, &o, &e);
}

static void
test_form(void **state)
{
	(void)state;
	assert_int_equal(form("kind=phone&value=8+%28999%29+123-45-67&text=a%0D%0Ab&contact=x%40y.z"
	                      "&lang=ru&submit=Send"),
	                 TC_OK);
	assert_int_equal(in.kind, REPORT_PHONE);
	assert_int_equal(o.kind, OBS_PHONE);
	assert_string_equal(o.value, "+79991234567");
	assert_string_equal(in.text, "a\nb"); /* CR LF folded */
	assert_string_equal(in.contact, "x@y.z");
	assert_string_equal(in.lang, "ru");
	assert_false(in.honeypot);
	/* a site: URL, bare domain, host/path */
	assert_int_equal(form("kind=phishing&value=HTTPS%3A%2F%2FBank.Example%2Fa"), TC_OK);
	assert_int_equal(o.kind, OBS_URL);
	assert_string_equal(o.value, "https://bank.example/a");
	assert_int_equal(form("kind=phishing&value=Bank.Example"), TC_OK);
	assert_int_equal(o.kind, OBS_DOMAIN);
	assert_int_equal(form("kind=phishing&value=bank.example%2Flogin"), TC_OK);
	assert_string_equal(o.value, "http://bank.example/login");
	/* problems, tied to their field */
	assert_int_equal(form("kind=phishing&value=co.uk"), TC_EINVAL);
	assert_int_equal(e.p[RF_VALUE], RP_INVALID);
	assert_int_equal(form("kind=phishing&value=x%40example.com"), TC_EINVAL);
	assert_int_equal(e.p[RF_VALUE], RP_INVALID);
	assert_int_equal(form("kind=fax&value=1"), TC_EINVAL);
	assert_int_equal(e.p[RF_KIND], RP_UNKNOWN_KIND);
	assert_int_equal(form(""), TC_EINVAL);
	assert_int_equal(e.p[RF_KIND], RP_MISSING);
	assert_int_equal(e.p[RF_VALUE], RP_MISSING);
	assert_int_equal(form("kind=phone&kind=email&value=1"), TC_EINVAL);
	assert_int_equal(e.p[RF_BODY], RP_SYNTAX);
	assert_int_equal(form("kind=phone&value=%ZZ"), TC_EINVAL);
	assert_int_equal(e.p[RF_VALUE], RP_ENCODING);
	assert_int_equal(form("kind=phone&value=%2B7999%01"), TC_EINVAL);
	assert_int_equal(e.p[RF_VALUE], RP_ENCODING);
	assert_int_equal(form("kind=phone&value=%2B79991234567&website=x"), TC_OK);
	assert_true(in.honeypot);
	/* limits */
	char *big = malloc(20000);
	assert_non_null(big);
	snprintf(big, 20000, "kind=phone&value=%%2B79991234567&text=");
	memset(big + strlen(big), 'a', 5000);
	big[strlen("kind=phone&value=%2B79991234567&text=") + 5000] = '\0';
	assert_int_equal(form(big), TC_EINVAL);
	assert_int_equal(e.p[RF_TEXT], RP_TOO_LONG);
	assert_int_equal(in.text_len, 0);
	for (int i = 0; i < REPORT_FORM_FIELDS_MAX + 1; i++)
		memcpy(big + 4 * i, "a=1&", 4);
	big[4 * (REPORT_FORM_FIELDS_MAX + 1)] = '\0';
	assert_int_equal(form(big), TC_EINVAL);
	assert_int_equal(e.p[RF_BODY], RP_SYNTAX);
	free(big);
}

static void
test_cards(void **state)
{
	(void)state;
	assert_int_equal(form("kind=card&value=4111+1111+1111+1111"), TC_OK);
	assert_true(strncmp(o.value, "hmac-sha256:", 12) == 0);
	assert_int_equal(in.value_len, 0);
	assert_int_equal(in.value[0], '\0');
	/* a bad card is wiped too */
	assert_int_equal(form("kind=card&value=4111+1111+1111+1112"), TC_EINVAL);
	assert_int_equal(in.value_len, 0);
	/* no card number in free text or contact */
	assert_int_equal(form("kind=phone&value=%2B79991234567&text=card+4111-1111-1111-1111"),
	                 TC_EINVAL);
	assert_int_equal(e.p[RF_TEXT], RP_CARD_IN_TEXT);
	assert_int_equal(in.text_len, 0);
	assert_int_equal(form("kind=phone&value=%2B79991234567&contact=4111111111111111"), TC_EINVAL);
	assert_int_equal(e.p[RF_CONTACT], RP_CARD_IN_TEXT);
	/* without the hub's key a card is refused, never kept */
	static const struct obs_ctx nokey = { 0 };
	assert_int_equal(report_parse_form(slice_from_cstr("kind=card&value=4111111111111111"), &in, &e),
	                 TC_OK);
	assert_int_equal(report_check(&nokey, &in, &o, &e), TC_EINVAL);
	assert_int_equal(in.value_len, 0);
}

static void
test_json(void **state)
{
	(void)state;
	assert_int_equal(json("{\"kind\":\"email\",\"value\":\"A@Example.COM\",\"text\":\"x\\ny\"}"),
	                 TC_OK);
	assert_int_equal(o.kind, OBS_EMAIL);
	assert_string_equal(o.value, "A@example.com");
	assert_string_equal(in.text, "x\ny");
	assert_int_equal(json("{\"kind\":\"account\",\"value\":\"DE89370400440532013000\"}"), TC_OK);
	assert_int_equal(o.kind, OBS_BANK_ACCOUNT);
	assert_int_equal(json("{\"kind\":\"email\",\"kind\":\"phone\",\"value\":\"x\"}"), TC_EINVAL);
	assert_int_equal(e.p[RF_BODY], RP_SYNTAX);
	assert_int_equal(json("{\"kind\":\"phone\",\"value\":1}"), TC_EINVAL);
	assert_int_equal(json("{\"kind\":\"phone\",\"value\":\"+79991234567\",\"x\":\"1\"}"), TC_EINVAL);
	assert_non_null(strstr(e.why, "unknown member"));
	assert_int_equal(json("[]"), TC_EINVAL);
	assert_int_equal(json("{"), TC_EINVAL);
	assert_int_equal(json("{\"kind\":\"phone\",\"value\":\"+7999\\u0000\"}"), TC_EINVAL);
}

static void
test_lang(void **state)
{
	(void)state;
	assert_string_equal(report_lang_pick(NULL), "en");
	assert_string_equal(report_lang_pick("ru-RU,ru;q=0.9,en-US;q=0.8"), "ru");
	assert_string_equal(report_lang_pick("en;q=0.5, ru;q=0.4"), "en");
	assert_string_equal(report_lang_pick("de, ru;q=0.1"), "ru");
	assert_string_equal(report_lang_pick("ru;q=0, en;q=0.1"), "en");
	assert_string_equal(report_lang_pick("rus, fr"), "en");
	assert_string_equal(report_lang_pick(";;;,,,q=,"), "en");
}

static void
test_rate(void **state)
{
	(void)state;
	struct report_rate *r;
	struct diag d;
	assert_int_equal(report_rate_new(10, 6, 3, &r, &d), TC_EINVAL);
	assert_int_equal(report_rate_new(64, 60, 3, &r, &d), TC_OK);
	uint8_t a[16] = { 1 }, b[16] = { 2 };
	int64_t t = 1000000;
	for (int i = 0; i < 3; i++)
		assert_true(report_rate_take(r, a, t));
	assert_false(report_rate_take(r, a, t));
	assert_true(report_rate_take(r, b, t));    /* another client */
	assert_false(report_rate_take(r, a, t + 500000));
	assert_true(report_rate_take(r, a, t + 1000000)); /* 60 a minute: one a second */
	assert_false(report_rate_take(r, a, t + 1000001));
	/* many clients: memory stays the table's, buckets are evicted */
	for (uint32_t i = 0; i < 10000; i++) {
		uint8_t x[16] = { 0 };
		memcpy(x + 12, &i, 4);
		report_rate_take(r, x, t + 2000000 + i);
	}
	assert_true(report_rate_evictions(r) > 0);
	report_rate_free(r);
}

static enum tcerr
count_cb(void *cbctx, const struct report_group *g)
{
	(void)g;
	(*(int *)cbctx)++;
	return TC_OK;
}

static void
test_db(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_report_XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct report_db *db;
	struct diag d;
	assert_int_equal(report_db_open(dir, &db, &d), TC_OK);
	struct report_obs ob = { .kind = OBS_PHONE };
	snprintf(ob.value, sizeof ob.value, "+79991234567");
	ob.value_len = strlen(ob.value);
	struct report_add ad = { .rkind = REPORT_PHONE, .obs = &ob, .text = slice_from_cstr("t"),
		                 .contact = slice_from_cstr("Me@x.org"), .lang = "ru",
		                 .now_us = 1000 };
	struct report_added r1, r2, r3;
	ad.client[15] = 1;
	assert_int_equal(report_db_add(db, &ad, &r1, &d), TC_OK);
	assert_true(r1.new_group);
	assert_int_equal(r1.nreporters, 1);
	ad.contact = slice_from_cstr("me@X.org"); /* the same contact, the same address */
	assert_int_equal(report_db_add(db, &ad, &r2, &d), TC_OK);
	assert_false(r2.new_group);
	assert_int_equal(r2.nreporters, 1);
	ad.client[15] = 2;
	ad.contact = slice_make("", 0);
	assert_int_equal(report_db_add(db, &ad, &r3, &d), TC_OK);
	assert_int_equal(r3.nreporters, 2);
	assert_int_equal(r1.group, r3.group);
	assert_string_not_equal(r1.receipt, r2.receipt);
	struct report_group g;
	assert_int_equal(report_db_group(db, r1.group, &g, &d), TC_OK);
	assert_int_equal(g.nreports, 3);
	assert_int_equal(g.nreporters, 2);
	assert_int_equal(g.ncontacts, 1);
	assert_int_equal(g.state, RS_OPEN);
	/* receipts */
	struct report_status s;
	assert_int_equal(report_db_status(db, slice_from_cstr(r2.receipt), &s, &d), TC_OK);
	assert_int_equal(s.state, RS_OPEN);
	assert_int_equal(s.rkind, REPORT_PHONE);
	assert_int_equal(report_db_status(db, slice_from_cstr("aaaaaaaaaaaaaaaaaaaaaaaaaa"), &s, &d),
	                 TC_ENOTFOUND);
	assert_int_equal(report_db_status(db, slice_from_cstr("x' OR 1=1 --"), &s, &d),
	                 TC_ENOTFOUND);
	/* the threshold: due at 2 reporters, not at 3 */
	int n = 0;
	assert_int_equal(report_db_due(db, 3, 10, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(report_db_due(db, 2, 10, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(report_db_due(db, 0, 10, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	/* held groups wait for a coordinator */
	assert_int_equal(report_db_hold(db, r1.group, "allowlisted", &d), TC_OK);
	assert_int_equal(report_db_due(db, 2, 10, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(report_db_decide(db, r1.group, RS_CONFIRMED, "coord", "ok", 2000, &d), TC_OK);
	assert_int_equal(report_db_due(db, 0, 10, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(report_db_promoted(db, r1.group, "indicator--x", 3000, &d), TC_OK);
	assert_int_equal(report_db_decide(db, r1.group, RS_REJECTED, "coord", "", 4000, &d), TC_EEXIST);
	assert_int_equal(report_db_decide(db, 999, RS_REJECTED, "coord", "", 4000, &d), TC_ENOTFOUND);
	assert_int_equal(report_db_status(db, slice_from_cstr(r1.receipt), &s, &d), TC_OK);
	assert_int_equal(s.state, RS_PROMOTED);
	uint64_t counts[RS_MAX + 1], reports;
	assert_int_equal(report_db_counts(db, counts, &reports, &d), TC_OK);
	assert_int_equal(counts[RS_PROMOTED], 1);
	assert_int_equal(reports, 3);
	report_db_close(db);
	/* reopened: the same reporter key, the same counts */
	assert_int_equal(report_db_open(dir, &db, &d), TC_OK);
	ad.client[15] = 2;
	assert_int_equal(report_db_add(db, &ad, &r3, &d), TC_OK);
	assert_int_equal(r3.nreporters, 2);
	report_db_close(db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

struct adder {
	struct report_db *db;
	int t;
	int failed;
	char receipts[200][REPORT_RECEIPT_LEN + 1];
};

static void *
adder_main(void *arg)
{
	struct adder *ad = arg;
	struct report_obs ob = { .kind = OBS_PHONE };
	for (int i = 0; i < 200; i++) {
		ob.value_len = (size_t)snprintf(ob.value, sizeof ob.value, "+7999000%04d", i % 50);
		struct report_add a = { .rkind = REPORT_PHONE, .obs = &ob, .text = slice_from_cstr("x"),
			                .lang = "en", .now_us = 1000 + i };
		a.client[0] = (uint8_t)ad->t;
		a.client[1] = (uint8_t)i;
		struct report_added out;
		struct diag d;
		if (report_db_add(ad->db, &a, &out, &d) != TC_OK)
			ad->failed++;
		memcpy(ad->receipts[i], out.receipt, sizeof out.receipt);
	}
	return NULL;
}

/* Group commit: reports added from many threads at once are all there,
 * counted once each, and every receipt answered is one that was kept. */
static void
test_db_concurrent(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_report_XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct report_db *db;
	struct diag d;
	assert_int_equal(report_db_open(dir, &db, &d), TC_OK);
	enum { NT = 8 };
	static struct adder ad[NT];
	pthread_t th[NT];
	for (int t = 0; t < NT; t++) {
		ad[t] = (struct adder){ .db = db, .t = t };
		assert_int_equal(pthread_create(&th[t], NULL, adder_main, &ad[t]), 0);
	}
	for (int t = 0; t < NT; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(ad[t].failed, 0);
	}
	uint64_t counts[RS_MAX + 1], reports;
	assert_int_equal(report_db_counts(db, counts, &reports, &d), TC_OK);
	assert_int_equal(reports, NT * 200);
	assert_int_equal(counts[RS_OPEN], 50);
	int n = 0;
	assert_int_equal(report_db_due(db, NT * 4, 100, count_cb, &n, &d), TC_OK);
	assert_int_equal(n, 50); /* each number: 4 reports from each of 8 threads' distinct addresses */
	for (int t = 0; t < NT; t += 3) {
		struct report_status s;
		assert_int_equal(report_db_status(db, slice_from_cstr(ad[t].receipts[199]), &s, &d), TC_OK);
	}
	report_db_close(db);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form), cmocka_unit_test(test_cards), cmocka_unit_test(test_json),
		cmocka_unit_test(test_lang), cmocka_unit_test(test_rate), cmocka_unit_test(test_db),
		cmocka_unit_test(test_db_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
