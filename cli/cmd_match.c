/*
 * cmd_match.c — `tocsin match`: look values up in the match index.
 *
 * Each value (argument, or line of stdin with --stdin) gives exactly one
 * line on stdout when it is an observable — a hit or a miss, how it
 * matched, the indicator ids and whether it is allowlisted — and one line
 * on stderr when it is not. Lines come in input order, and with --stdin
 * each answer is written as soon as its line is read, so the command can
 * sit in a pipeline as a filter.
 *
 * With --hub URL the values are looked up by a running hub instead, over
 * its lookup API (POST /api/v1/match, docs/lookup.md) with an API key, so
 * the answers are what that key's organisation may see; the lines are
 * the same as the local ones. Values go in batches of MATCH_REMOTE_BATCH
 * (one request each), or one by one when stdin is a terminal or a pipe.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "registry/registry.h"
#include "util/buf.h"
#include "util/timestamp.h"

const char cmd_match_usage[] =
	"usage: tocsin match [--data DIR] [--json] [--kind KIND] VALUE...\n"
	"       tocsin match [--data DIR] [--json] [--kind KIND] --stdin | --file FILE\n"
	"       tocsin match --hub URL [--key KEY] [--json] [--kind KIND] VALUE... | --stdin | --file F\n"
	"\n"
	"Looks each VALUE up in the current indicators: exact values, IP\n"
	"addresses inside indicator networks (cidr), names under an indicator\n"
	"domain (parent-domain), and URLs and e-mail addresses whose host or\n"
	"domain is, or is under, an indicator domain (parent-domain; an IP host\n"
	"in an indicator network: cidr). Prints one line per value; each hit\n"
	"with the indicator's effective TLP (\"(default)\" when it is unmarked and\n"
	"the hub's default_tlp applies), who produced it ('hub' for the\n"
	"operator's imports) and the key that posted it:\n"
	"  evil.example  HIT exact indicator--... TLP:AMBER from Bank key kabc...\n"
	"  bad.example  HIT exact indicator--... TLP:GREEN (default) from hub\n"
	"  8.8.8.8  miss [allowlisted: ...]\n"
	"A miss names the indicators that would have hit but expired or are\n"
	"revoked:\n"
	"  old.example  miss (expired: indicator--... valid_until 2025-01-01T...)\n"
	"  gone.example  miss (revoked: indicator--...)\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR    data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -j, --json        one JSON object a line: value, kind, normalized, hit,\n"
	"                    allowlisted, allowlist_reason, hits_total, hits (each:\n"
	"                    indicator_id, how, via, matched, collection, producer,\n"
	"                    key_id, tlp, tlp_default), expired and revoked (the\n"
	"                    same, with valid_until)\n"
	"  -k, --kind KIND   treat every value as KIND (ipv4, ipv6, domain, url,\n"
	"                    email, md5, sha1, sha256, sha512, streebog256,\n"
	"                    streebog512, phone, bank-account, card, wallet, asn)\n"
	"                    instead of guessing\n"
	"  -s, --stdin       read values from standard input, one a line\n"
	"  -f, --file FILE   read values from FILE, one a line\n"
	"  -H, --hub URL     ask the running hub at URL (its lookup API,\n"
	"                    /api/v1/match) instead of the data directory: the\n"
	"                    answers are what KEY's organisation may see\n"
	"  -K, --key KEY     the API key for --hub (default: $TOCSIN_KEY)\n"
	"  -h, --help        show this help\n"
	"\n"
	"Exit status: 0 every value was looked up, 1 some value was not an\n"
	"observable (the reason is on stderr), 2 usage or fatal error.\n";

/* Longest line read with --stdin; longer lines are reported and skipped. */
#define MATCH_LINE_MAX (OBS_VALUE_MAX * 2)
#define MATCH_REMOTE_BATCH 10000            /* values per request to a hub (its default limit) */
#define MATCH_REMOTE_ANSWER_MAX (256u << 20) /* bytes of one answer */
#define MATCH_REMOTE_TIMEOUT 120L           /* seconds per request */

/* Appends s as a JSON string, replacing bytes that are not UTF-8 with
 * U+FFFD so that the output line is always valid JSON (RFC 8259 §8.1). */
static void
json_str_utf8(struct buf *b, struct slice s)
{
	size_t i = 0, start = 0;
	struct buf tmp;

	/* Fast path: plain valid UTF-8 goes straight through. */
	buf_init(&tmp, 0);
	while (i < s.len) {
		unsigned char c = (unsigned char)s.p[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		           (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = n > 0 && i + n <= s.len && !(n == 2 && c < 0xc2) && !(c > 0xf4);
		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)s.p[i + k] & 0xc0) == 0x80;
		if (ok && n == 3) {
			unsigned char c1 = (unsigned char)s.p[i + 1];
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
		}
		if (ok && n == 4) {
			unsigned char c1 = (unsigned char)s.p[i + 1];
			ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
		}
		if (ok) {
			i += n;
			continue;
		}
		buf_append(&tmp, s.p + start, i - start);
		buf_append(&tmp, "\xef\xbf\xbd", 3);
		i++;
		start = i;
	}
	if (start == 0) {
		buf_append_json_str(b, s);
	} else {
		buf_append(&tmp, s.p + start, s.len - start);
		buf_append_json_str(b, buf_slice(&tmp));
		if (buf_error(&tmp))
			b->err = buf_error(&tmp);
	}
	buf_reset(&tmp);
}

/* " TLP:AMBER", or " TLP:GREEN (default)" for an unmarked indicator. */
static void
tlp_text(struct buf *b, enum tlp_level stored, enum tlp_level dflt)
{
	enum tlp_level l = stored == TLP_NONE ? dflt : stored;
	buf_append_cstr(b, " TLP:");
	for (const char *p = stix_tlp_name(l); *p; p++)
		buf_append_char(b, (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
	if (stored == TLP_NONE)
		buf_append_cstr(b, " (default)");
}

/* The producer's name for a hit: "hub" for the hub's own versions, the
 * organisation's name, or "#N" when the registry does not know it. */
static const char *
producer_name(const struct reg_snapshot *snap, int64_t producer, char tmp[32])
{
	const struct reg_org *o = snap && producer ? reg_snapshot_org(snap, producer) : NULL;

	if (producer == 0)
		return "hub";
	if (o)
		return o->name;
	snprintf(tmp, 32, "#%lld", (long long)producer);
	return tmp;
}

static void
format_text(struct buf *b, struct slice input, const struct hub_match *m,
            const struct reg_snapshot *snap, enum tlp_level dflt)
{
	char tmp[32];
	size_t shown = m->nhits < HUB_MATCH_MAX_HITS ? m->nhits : HUB_MATCH_MAX_HITS;

	cli_esc_append(b, input.p, input.len);
	buf_append_cstr(b, m->nhits ? "  HIT" : "  miss");
	for (size_t i = 0; i < shown; i++) {
		const struct hub_hit *h = &m->hits[i];
		buf_append_cstr(b, i ? ", " : " ");
		buf_append_cstr(b, index_how_name(h->how));
		if (h->how != INDEX_EXACT) {
			buf_append_char(b, ' ');
			buf_append_cstr(b, cli_esc(h->matched));
		}
		buf_append_char(b, ' ');
		buf_append_cstr(b, h->indicator_id);
		tlp_text(b, h->tlp, dflt);
		buf_append_cstr(b, " from ");
		buf_append_cstr(b, cli_esc(producer_name(snap, h->producer, tmp)));
		if (h->key_id[0]) {
			buf_append_cstr(b, " key ");
			buf_append_cstr(b, h->key_id);
		}
	}
	if (m->nhits > shown)
		buf_printf(b, " (+%zu more)", m->nhits - shown);
	for (size_t i = 0; i < m->ninactive; i++) {
		const struct hub_hit *h = &m->inactive[i];
		if (h->state == HUB_HIT_REVOKED) {
			buf_printf(b, " (revoked: %s)", h->indicator_id);
		} else {
			char t[TS_TEXT_MAX];
			ts_format(h->valid_until_us, 3, t);
			buf_printf(b, " (expired: %s valid_until %s)", h->indicator_id, t);
		}
	}
	if (m->allowlisted)
		buf_printf(b, " [allowlisted: %s]", cli_esc(m->allowlist_reason));
	buf_append_char(b, '\n');
}

/* One hit as a JSON object; expired and revoked ones with valid_until. */
static void
format_json_hit(struct buf *b, const struct hub_hit *h, const struct reg_snapshot *snap,
                enum tlp_level dflt)
{
	char tmp[32];
	buf_append_cstr(b, "{\"indicator_id\":");
	json_str_utf8(b, slice_from_cstr(h->indicator_id));
	buf_printf(b, ",\"how\":\"%s\",\"via\":\"%s\",\"matched\":", index_how_name(h->how),
	           hub_via_name(h->via));
	json_str_utf8(b, slice_from_cstr(h->matched));
	buf_append_cstr(b, ",\"collection\":");
	json_str_utf8(b, slice_from_cstr(h->collection));
	buf_append_cstr(b, ",\"producer\":");
	json_str_utf8(b, slice_from_cstr(producer_name(snap, h->producer, tmp)));
	buf_append_cstr(b, ",\"key_id\":");
	if (h->key_id[0])
		json_str_utf8(b, slice_from_cstr(h->key_id));
	else
		buf_append_cstr(b, "null");
	buf_printf(b, ",\"tlp\":\"%s\",\"tlp_default\":%s",
	           stix_tlp_name(h->tlp == TLP_NONE ? dflt : h->tlp),
	           h->tlp == TLP_NONE ? "true" : "false");
	if (h->state != HUB_HIT_LIVE) {
		buf_append_cstr(b, ",\"valid_until\":");
		if (h->valid_until_us) {
			char t[TS_TEXT_MAX];
			ts_format(h->valid_until_us, 3, t);
			buf_printf(b, "\"%s\"", t);
		} else {
			buf_append_cstr(b, "null");
		}
	}
	buf_append_char(b, '}');
}

static void
format_json(struct buf *b, struct slice input, const struct hub_match *m,
            const struct reg_snapshot *snap, enum tlp_level dflt)
{
	size_t shown = m->nhits < HUB_MATCH_MAX_HITS ? m->nhits : HUB_MATCH_MAX_HITS;

	buf_append_cstr(b, "{\"value\":");
	json_str_utf8(b, input);
	buf_printf(b, ",\"kind\":\"%s\",\"normalized\":", obs_kind_name(m->kind));
	json_str_utf8(b, slice_from_cstr(m->value));
	buf_printf(b, ",\"hit\":%s,\"allowlisted\":%s,\"allowlist_reason\":",
	           m->nhits ? "true" : "false", m->allowlisted ? "true" : "false");
	if (m->allowlisted)
		json_str_utf8(b, slice_from_cstr(m->allowlist_reason));
	else
		buf_append_cstr(b, "null");
	buf_printf(b, ",\"hits_total\":%zu,\"hits\":[", m->nhits);
	for (size_t i = 0; i < shown; i++) {
		if (i)
			buf_append_char(b, ',');
		format_json_hit(b, &m->hits[i], snap, dflt);
	}
	for (int st = HUB_HIT_EXPIRED; st <= HUB_HIT_REVOKED; st++) {
		bool first = true;
		buf_append_cstr(b, st == HUB_HIT_EXPIRED ? "],\"expired\":[" : "],\"revoked\":[");
		for (size_t i = 0; i < m->ninactive; i++) {
			if (m->inactive[i].state != (enum hub_hit_state)st)
				continue;
			if (!first)
				buf_append_char(b, ',');
			first = false;
			format_json_hit(b, &m->inactive[i], snap, dflt);
		}
	}
	buf_append_cstr(b, "]}\n");
}

struct match_remote;

struct match_run {
	struct match_remote *remote;      /* --hub: ask the hub, not the data directory */
	struct hub *hub;
	const struct reg_snapshot *snap;  /* producer names; NULL: numbers */
	bool json;
	const enum obs_kind *kind;
	struct buf out;
	struct hub_match m;
	size_t invalid;
	enum tlp_level default_tlp;  /* what an unmarked indicator counts as */
};

/* ---- --hub: the hub's lookup API ---- */

struct match_remote {
	CURL *curl;
	struct curl_slist *headers;
	char url[2048];
	const char *hub;                  /* as given, for messages */
	struct buf values;                /* the queued inputs, each NUL-terminated */
	size_t *off;                      /* where each starts in values */
	size_t n, cap;
	struct buf body, answer;
};

static size_t
remote_write(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * nmemb);
	return buf_error(b) ? 0 : size * nmemb;
}

/* Sets up the connection to hub (a base URL) with key. CLI_EXIT_OK or
 * CLI_EXIT_USAGE (reported). */
static int
remote_open(struct match_remote *rm, const char *hub, const char *key, const enum obs_kind *kind)
{
	char auth[600];
	size_t hl = strlen(hub);
	while (hl && hub[hl - 1] == '/')
		hl--;
	int n = snprintf(rm->url, sizeof rm->url, "%.*s/api/v1/match%s%s", (int)hl, hub,
	                 kind ? "?kind=" : "", kind ? obs_kind_name(*kind) : "");
	if (n < 0 || (size_t)n >= sizeof rm->url) {
		cli_err("--hub: URL too long");
		return CLI_EXIT_USAGE;
	}
	n = snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
	if (n < 0 || (size_t)n >= sizeof auth || strpbrk(key, "\r\n")) {
		cli_err("--key: not an API key");
		return CLI_EXIT_USAGE;
	}
	rm->hub = hub;
	buf_init(&rm->values, 0);
	buf_init(&rm->body, 0);
	buf_init(&rm->answer, MATCH_REMOTE_ANSWER_MAX);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(rm->curl = curl_easy_init())) {
		cli_err("cannot start libcurl");
		return CLI_EXIT_USAGE;
	}
	rm->headers = curl_slist_append(rm->headers, auth);
	rm->headers = curl_slist_append(rm->headers, "Content-Type: application/json");
	rm->headers = curl_slist_append(rm->headers, "Accept: application/json");
	explicit_bzero(auth, sizeof auth);
	if (!rm->headers) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	curl_easy_setopt(rm->curl, CURLOPT_URL, rm->url);
	curl_easy_setopt(rm->curl, CURLOPT_HTTPHEADER, rm->headers);
	curl_easy_setopt(rm->curl, CURLOPT_WRITEFUNCTION, remote_write);
	curl_easy_setopt(rm->curl, CURLOPT_WRITEDATA, &rm->answer);
	curl_easy_setopt(rm->curl, CURLOPT_TIMEOUT, MATCH_REMOTE_TIMEOUT);
	curl_easy_setopt(rm->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(rm->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(rm->curl, CURLOPT_NOSIGNAL, 1L);
	return CLI_EXIT_OK;
}

static void
remote_close(struct match_remote *rm)
{
	if (rm->curl)
		curl_easy_cleanup(rm->curl);
	curl_slist_free_all(rm->headers);
	buf_reset(&rm->values);
	buf_reset(&rm->body);
	buf_reset(&rm->answer);
	free(rm->off);
	curl_global_cleanup();
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "";
}

/* One line as format_text() writes it, from the hub's result o. */
static void
remote_text(struct buf *b, struct slice input, const json_t *o)
{
	const json_t *hits = json_object_get(o, "hits");
	size_t shown = json_array_size(hits);
	cli_esc_append(b, input.p, input.len);
	buf_append_cstr(b, json_is_true(json_object_get(o, "hit")) ? "  HIT" : "  miss");
	for (size_t i = 0; i < shown; i++) {
		const json_t *h = json_array_get(hits, i);
		buf_append_cstr(b, i ? ", " : " ");
		buf_append_cstr(b, cli_esc(jstr(h, "how")));
		if (strcmp(jstr(h, "how"), "exact") != 0) {
			buf_append_char(b, ' ');
			buf_append_cstr(b, cli_esc(jstr(h, "matched")));
		}
		buf_append_char(b, ' ');
		buf_append_cstr(b, cli_esc(jstr(h, "indicator_id")));
		buf_append_cstr(b, " TLP:");
		for (const char *p = jstr(h, "tlp"); *p; p++)
			buf_append_char(b, (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
		if (json_is_true(json_object_get(h, "tlp_default")))
			buf_append_cstr(b, " (default)");
		buf_append_cstr(b, " from ");
		buf_append_cstr(b, cli_esc(jstr(h, "producer")));
		if (jstr(h, "key_id")[0]) {
			buf_append_cstr(b, " key ");
			buf_append_cstr(b, cli_esc(jstr(h, "key_id")));
		}
	}
	json_int_t total = json_integer_value(json_object_get(o, "hits_total"));
	if (total > (json_int_t)shown)
		buf_printf(b, " (+%lld more)", (long long)(total - (json_int_t)shown));
	const json_t *h;
	size_t i;
	json_array_foreach(json_object_get(o, "expired"), i, h)
		buf_printf(b, " (expired: %s valid_until %s)", cli_esc(jstr(h, "indicator_id")),
		           cli_esc(jstr(h, "valid_until")));
	json_array_foreach(json_object_get(o, "revoked"), i, h)
		buf_printf(b, " (revoked: %s)", cli_esc(jstr(h, "indicator_id")));
	if (json_is_true(json_object_get(o, "allowlisted")))
		buf_printf(b, " [allowlisted: %s]", cli_esc(jstr(o, "allowlist_reason")));
	buf_append_char(b, '\n');
}

static void
remote_json_str(struct buf *b, const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (v)
		json_str_utf8(b, slice_from_cstr(v));
	else
		buf_append_cstr(b, "null");
}

static void
remote_json_hit(struct buf *b, const json_t *h, bool inactive)
{
	static const char *const keys[] = { "indicator_id", "how", "via", "matched",
		                            "collection", "producer", "key_id", "tlp" };
	buf_append_char(b, '{');
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		buf_printf(b, "%s\"%s\":", k ? "," : "", keys[k]);
		remote_json_str(b, h, keys[k]);
	}
	buf_printf(b, ",\"tlp_default\":%s",
	           json_is_true(json_object_get(h, "tlp_default")) ? "true" : "false");
	if (inactive) {
		buf_append_cstr(b, ",\"valid_until\":");
		remote_json_str(b, h, "valid_until");
	}
	buf_append_char(b, '}');
}

/* One line as format_json() writes it, from the hub's result o. */
static void
remote_json(struct buf *b, struct slice input, const json_t *o)
{
	const json_t *h;
	size_t i;
	buf_append_cstr(b, "{\"value\":");
	json_str_utf8(b, input);
	buf_append_cstr(b, ",\"kind\":");
	remote_json_str(b, o, "kind");
	buf_append_cstr(b, ",\"normalized\":");
	remote_json_str(b, o, "normalized");
	buf_printf(b, ",\"hit\":%s,\"allowlisted\":%s,\"allowlist_reason\":",
	           json_is_true(json_object_get(o, "hit")) ? "true" : "false",
	           json_is_true(json_object_get(o, "allowlisted")) ? "true" : "false");
	remote_json_str(b, o, "allowlist_reason");
	buf_printf(b, ",\"hits_total\":%lld,\"hits\":[",
	           (long long)json_integer_value(json_object_get(o, "hits_total")));
	json_array_foreach(json_object_get(o, "hits"), i, h) {
		if (i)
			buf_append_char(b, ',');
		remote_json_hit(b, h, false);
	}
	buf_append_cstr(b, "],\"expired\":[");
	json_array_foreach(json_object_get(o, "expired"), i, h) {
		if (i)
			buf_append_char(b, ',');
		remote_json_hit(b, h, true);
	}
	buf_append_cstr(b, "],\"revoked\":[");
	json_array_foreach(json_object_get(o, "revoked"), i, h) {
		if (i)
			buf_append_char(b, ',');
		remote_json_hit(b, h, true);
	}
	buf_append_cstr(b, "]}\n");
}

/* Sends the queued values and prints their lines. CLI_EXIT_OK, or
 * CLI_EXIT_USAGE on a fatal error (the hub unreachable or refusing, an
 * answer that is not one result per value, output). */
static int
remote_flush(struct match_run *r)
{
	struct match_remote *rm = r->remote;
	json_error_t jerr;
	long status = 0;
	int rc = CLI_EXIT_OK;

	if (rm->n == 0)
		return CLI_EXIT_OK;
	buf_clear(&rm->body);
	buf_clear(&rm->answer);
	buf_append_char(&rm->body, '[');
	for (size_t i = 0; i < rm->n; i++) {
		if (i)
			buf_append_char(&rm->body, ',');
		json_str_utf8(&rm->body, slice_from_cstr(rm->values.p + rm->off[i]));
	}
	buf_append_char(&rm->body, ']');
	if (buf_error(&rm->body) || buf_error(&rm->values)) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	curl_easy_setopt(rm->curl, CURLOPT_POSTFIELDS, rm->body.p);
	curl_easy_setopt(rm->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rm->body.len);
	CURLcode cc = curl_easy_perform(rm->curl);
	if (cc != CURLE_OK) {
		cli_err("%s: %s", cli_esc(rm->url), curl_easy_strerror(cc));
		return CLI_EXIT_USAGE;
	}
	curl_easy_getinfo(rm->curl, CURLINFO_RESPONSE_CODE, &status);
	json_t *doc = rm->answer.p ? json_loadb(rm->answer.p, rm->answer.len, 0, &jerr) : NULL;
	const json_t *res = json_object_get(doc, "results");
	if (status != 200 || json_array_size(res) != rm->n) {
		const char *title = json_string_value(json_object_get(doc, "title"));
		const char *desc = json_string_value(json_object_get(doc, "description"));
		cli_err("%s: %ld %s%s%s", cli_esc(rm->url), status,
		        title ? cli_esc(title) : "unexpected answer", desc ? ": " : "",
		        desc ? cli_esc(desc) : "");
		json_decref(doc);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < rm->n && rc == CLI_EXIT_OK; i++) {
		const json_t *o = json_array_get(res, i);
		struct slice input = slice_from_cstr(rm->values.p + rm->off[i]);
		const char *err = json_string_value(json_object_get(o, "error"));
		if (err) {
			r->invalid++;
			fflush(stdout);
			cli_err("'%.*s': %s", (int)(input.len > 200 ? 200 : input.len),
			        cli_esc(input.p), cli_esc(err));
			continue;
		}
		buf_clear(&r->out);
		if (r->json)
			remote_json(&r->out, input, o);
		else
			remote_text(&r->out, input, o);
		if (buf_error(&r->out)) {
			cli_err("%s", tcerr_str(buf_error(&r->out)));
			rc = CLI_EXIT_USAGE;
		} else if (!cli_write(stdout, r->out.p, r->out.len)) {
			cli_err("stdout: %s", strerror(errno));
			rc = CLI_EXIT_USAGE;
		}
	}
	json_decref(doc);
	rm->n = 0;
	buf_clear(&rm->values);
	return rc;
}

/* Queues one value for the hub; sends the batch when it is full. */
static int
remote_one(struct match_run *r, struct slice value)
{
	struct match_remote *rm = r->remote;
	if (rm->n == rm->cap) {
		size_t cap = rm->cap ? rm->cap * 2 : 64;
		size_t *off = realloc(rm->off, cap * sizeof *off);
		if (!off) {
			cli_err("out of memory");
			return CLI_EXIT_USAGE;
		}
		rm->off = off;
		rm->cap = cap;
	}
	rm->off[rm->n++] = rm->values.len;
	buf_append(&rm->values, value.p, value.len);
	buf_append_char(&rm->values, '\0');
	return rm->n >= MATCH_REMOTE_BATCH ? remote_flush(r) : CLI_EXIT_OK;
}

/* Looks one value up and prints its line. Returns CLI_EXIT_OK, or
 * CLI_EXIT_USAGE on a fatal error (database, memory, output). */
static int
match_one(struct match_run *r, struct slice value)
{
	if (r->remote)
		return remote_one(r, value);
	struct diag d;
	enum tcerr rc;

	diag_clear(&d);
	rc = hub_match(r->hub, value, r->kind, &r->m, &d);
	if (rc == TC_ENOMEM || rc == TC_EDB || rc == TC_EIO || rc == TC_EINTERNAL) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	if (rc != TC_OK) {
		r->invalid++;
		fflush(stdout);
		cli_err("'%.*s': %s", (int)(value.len > 200 ? 200 : value.len), value.p,
		        d.msg[0] ? d.msg : "not an observable");
		return CLI_EXIT_OK;
	}
	buf_clear(&r->out);
	if (r->json)
		format_json(&r->out, value, &r->m, r->snap, r->default_tlp);
	else
		format_text(&r->out, value, &r->m, r->snap, r->default_tlp);
	if (buf_error(&r->out)) {
		cli_err("%s", tcerr_str(buf_error(&r->out)));
		return CLI_EXIT_USAGE;
	}
	if (!cli_write(stdout, r->out.p, r->out.len)) {
		cli_err("stdout: %s", strerror(errno));
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Looks up every line of f (name in messages). */
static int
match_lines(struct match_run *r, FILE *f, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = CLI_EXIT_OK;
	struct stat st;
	/* A file on disk has no one waiting for each answer: buffer them. */
	bool flush_each = fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode);

	while ((n = getline(&line, &cap, f)) != -1) {
		struct slice v = slice_trim(slice_make(line, (size_t)n));
		lineno++;
		if (v.len == 0 || v.p[0] == '#')
			continue;
		if (v.len > MATCH_LINE_MAX) {
			r->invalid++;
			cli_err("%s:%ld: line longer than %d bytes", cli_esc(name), lineno,
			        MATCH_LINE_MAX);
			continue;
		}
		rc = match_one(r, v);
		if (rc == CLI_EXIT_OK && flush_each && r->remote)
			rc = remote_flush(r);
		if (rc != CLI_EXIT_OK)
			break;
		/* Answer as soon as asked when the writer may wait for each
		 * answer (a terminal, a coprocess on a pipe). */
		if (flush_each && fflush(stdout) != 0) {
			cli_err("stdout: %s", strerror(errno));
			rc = CLI_EXIT_USAGE;
			break;
		}
	}
	if (rc == CLI_EXIT_OK && ferror(f)) {
		cli_err("%s: %s", cli_esc(name), strerror(errno));
		rc = CLI_EXIT_USAGE;
	}
	free(line);
	return rc;
}

int
cmd_match(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "kind", required_argument, NULL, 'k' },
		{ "stdin", no_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "hub", required_argument, NULL, 'H' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct match_run r;
	const char *dir = NULL, *file = NULL, *hub_url = NULL, *key = NULL;
	enum obs_kind kind;
	bool from_stdin = false;
	struct match_remote remote;
	int c, rc;

	memset(&r, 0, sizeof(r));
	memset(&remote, 0, sizeof(remote));
	while ((c = cli_getopt(cmd, argc, argv, ":d:jk:sf:H:K:h", longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			r.json = true;
			break;
		case 'k':
			if (!cli_parse_kind(cmd, optarg, &kind))
				return CLI_EXIT_USAGE;
			r.kind = &kind;
			break;
		case 's':
			from_stdin = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'H':
			hub_url = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc && !from_stdin && !file)
		return cli_usage_error(cmd, "no VALUE given (or --stdin, --file FILE)");
	if (from_stdin && file)
		return cli_usage_error(cmd, "--stdin and --file exclude each other");
	FILE *in = from_stdin ? stdin : NULL;
	if (file && !(in = fopen(file, "r"))) {
		cli_err("%s: %s", cli_esc(file), strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (hub_url) {
		if (dir)
			return cli_usage_error(cmd, "--hub and --data exclude each other");
		if (!key)
			key = getenv("TOCSIN_KEY");
		if (!key || !*key) {
			cli_err("--hub needs an API key: --key KEY or $TOCSIN_KEY");
			if (file)
				fclose(in);
			return CLI_EXIT_USAGE;
		}
		r.remote = &remote;
		buf_init(&r.out, 0);
		rc = remote_open(&remote, hub_url, key, r.kind);
		for (int i = optind; i < argc && rc == CLI_EXIT_OK; i++)
			rc = match_one(&r, slice_from_cstr(argv[i]));
		if (rc == CLI_EXIT_OK && in)
			rc = match_lines(&r, in, file ? file : "stdin");
		if (rc == CLI_EXIT_OK)
			rc = remote_flush(&r);
		remote_close(&remote);
		buf_reset(&r.out);
		if (file)
			fclose(in);
		if (rc == CLI_EXIT_OK && r.invalid)
			rc = CLI_EXIT_PROBLEMS;
		return cli_finish_stdout(rc);
	}

	rc = cli_open_hub(dir, &r.hub);
	if (rc != CLI_EXIT_OK) {
		if (file)
			fclose(in);
		return rc;
	}
	/* producer names (issue 8); without a registry hits name numbers */
	struct registry *reg = NULL;
	struct reg_snapshot *snap = NULL;
	struct diag d;
	diag_clear(&d);
	if (registry_open(hub_default_dir(dir), &reg, &d) == TC_OK &&
	    reg_snapshot_build(reg, hub_store(r.hub), &snap, &d) == TC_OK)
		r.snap = snap;
	diag_clear(&d);
	if (reg_default_tlp_get(hub_store(r.hub), &r.default_tlp, &d) != TC_OK) {
		cli_err("%s", d.msg);
		if (snap)
			reg_snapshot_unref(snap);
		registry_close(reg);
		hub_close(r.hub);
		return CLI_EXIT_USAGE;
	}
	buf_init(&r.out, 0);
	for (int i = optind; i < argc && rc == CLI_EXIT_OK; i++)
		rc = match_one(&r, slice_from_cstr(argv[i]));
	if (rc == CLI_EXIT_OK && in)
		rc = match_lines(&r, in, file ? file : "stdin");
	if (file)
		fclose(in);
	buf_reset(&r.out);
	if (snap)
		reg_snapshot_unref(snap);
	registry_close(reg);
	hub_close(r.hub);
	if (rc == CLI_EXIT_OK && r.invalid)
		rc = CLI_EXIT_PROBLEMS;
	return cli_finish_stdout(rc);
}
