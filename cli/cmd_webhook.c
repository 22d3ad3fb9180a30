/*
 * cmd_webhook.c — tocsin webhook: an organisation's subscriptions to the
 * log, delivered by tocsind to the organisation's HTTPS receiver (add,
 * list, remove, status, replay; docs/webhooks.md).
 *
 * The CLI checks a URL as tocsind will at every delivery (lib/webhook:
 * HTTPS, a public address after resolving the name), under the same
 * [webhooks] keys, read from tocsind's configuration file (--config or
 * $TOCSIN_CONFIG), and the filter as the feed will read it. Invariant: a
 * secret is never printed, logged or written to the audit log; each
 * change is audited ("webhook.add", "webhook.remove", "webhook.replay").
 * A running tocsind notices a change within a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_audit.h"
#include "cli_util.h"
#include "cmd.h"
#include "conf/conf.h"
#include "feed/feed.h"
#include "registry/registry.h"
#include "util/timestamp.h"
#include "webhook/webhook.h"

const char cmd_webhook_usage[] =
	"usage: tocsin webhook add ORG URL (--secret S | --secret-file FILE)\n"
	"                          [--view stix|decisions] [--collection C]... [--type T]...\n"
	"                          [--kind K]... [--min-confidence N] [--tlp LEVEL]\n"
	"                          [--from POS] [--config FILE] [--data DIR]\n"
	"       tocsin webhook list [--json] [--data DIR]\n"
	"       tocsin webhook status [ID] [--json] [--data DIR]\n"
	"       tocsin webhook remove ID [--data DIR]\n"
	"       tocsin webhook replay ID [--from POS] [--data DIR]\n"
	"\n"
	"tocsind POSTs the log's events to organisation ORG's receiver at URL, in\n"
	"batches signed with HMAC-SHA256 under the secret (header X-Tocsin-Signature),\n"
	"each event judged by policy for ORG as a whole. 'add' prints the\n"
	"subscription's id. A subscription starts after the log's current position\n"
	"(--from POS: after POS; --from 0: the whole log). The URL must be https://\n"
	"and resolve to public addresses only, unless tocsind's configuration allows\n"
	"otherwise ([webhooks] allow_http, allow_private); it is checked again at\n"
	"every delivery. After [webhooks] max_attempts failures in a row a\n"
	"subscription is dead-lettered: 'status' shows it and why, 'replay' revives\n"
	"it and delivers again from its cursor (or from --from POS).\n"
	"\n"
	"Options:\n"
	"  -s, --secret S         the signing secret, 16 to 256 bytes\n"
	"      --secret-file FILE read the secret from FILE's first line ('-': stdin),\n"
	"                         so it stays out of the process list\n"
	"  -v, --view VIEW        stix (object versions and deletions, the default) or\n"
	"                         decisions (add/remove of values to block)\n"
	"  -c, --collection C     only this collection (alias or id; repeatable)\n"
	"  -t, --type T           only objects of this STIX type (repeatable)\n"
	"  -k, --kind K           only this observable kind (repeatable)\n"
	"      --min-confidence N only indicators with a confidence of at least N\n"
	"      --tlp LEVEL        only up to this TLP level (clear, green, amber,\n"
	"                         amber+strict, red)\n"
	"  -f, --from POS         add: start after log position POS; replay: deliver\n"
	"                         again from POS instead of the cursor\n"
	"      --config FILE      tocsind's configuration, for the [webhooks] URL rules\n"
	"                         (default: $TOCSIN_CONFIG)\n"
	"  -j, --json             list, status: JSON instead of a table\n"
	"  -d, --data DIR         data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help             show this help\n";

#define OPT_SECRET_FILE 0x100
#define OPT_MIN_CONF 0x101
#define OPT_TLP 0x102
#define OPT_CONFIG 0x103

static int
wh_fail(enum tcerr rc, const struct diag *d, const char *what)
{
	if (d && d->msg[0])
		cli_err("%s", d->msg);
	else
		cli_err("%s: %s", what, tcerr_str(rc));
	return CLI_EXIT_USAGE;
}

/* Opens the data directory's registry (and its store when s is not NULL). */
static int
wh_open(const char *dir, struct registry **r, struct store **s)
{
	char db[PATH_MAX + 8];
	struct stat st;
	struct diag d;
	enum tcerr rc;
	dir = hub_default_dir(dir);
	int n = snprintf(db, sizeof db, "sqlite:%s/tocsin.db", dir);
	if (n < 0 || (size_t)n >= sizeof db) {
		cli_err("%s: path too long", dir);
		return CLI_EXIT_USAGE;
	}
	if (stat(db + 7, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	if ((rc = registry_open(dir, r, &d)))
		return wh_fail(rc, &d, dir);
	if (s && (rc = store_open(db, s, &d))) {
		registry_close(*r);
		*r = NULL;
		return wh_fail(rc, &d, db);
	}
	return CLI_EXIT_OK;
}

/* Appends key=value to a query string, percent-encoding the value. */
static void
q_add(struct buf *q, const char *key, const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	if (q->len)
		buf_append_char(q, '&');
	buf_append_cstr(q, key);
	buf_append_char(q, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_append_char(q, (char)*p);
		} else {
			buf_append_char(q, '%');
			buf_append_char(q, hexd[*p >> 4]);
			buf_append_char(q, hexd[*p & 15]);
		}
	}
}

/* Reads the secret's first line from path ("-": stdin) into w. */
static int
wh_secret_file(const char *path, struct reg_webhook *w)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char tmp[REG_WEBHOOK_SECRET_MAX + 2];
	size_t len = 0;
	ssize_t k;
	while (len < sizeof tmp && (k = read(fd, tmp + len, sizeof tmp - len)) > 0)
		len += (size_t)k;
	if (fd)
		close(fd);
	char *nl = memchr(tmp, '\n', len);
	if (nl)
		len = (size_t)(nl - tmp);
	if (len && tmp[len - 1] == '\r')
		len--;
	if (len > REG_WEBHOOK_SECRET_MAX) {
		sodium_memzero(tmp, sizeof tmp);
		cli_err("%s: the secret is longer than %d bytes", path, REG_WEBHOOK_SECRET_MAX);
		return CLI_EXIT_USAGE;
	}
	memcpy(w->secret, tmp, len);
	w->secret_len = len;
	sodium_memzero(tmp, sizeof tmp);
	return CLI_EXIT_OK;
}

static const char *
ts_or(int64_t us, char out[TS_TEXT_MAX], const char *none)
{
	if (!us)
		return none;
	ts_format(us, 0, out);
	return out;
}

struct wh_list {
	bool json, status;
	const char *only;     /* status ID */
	uint64_t log_position;
	json_t *arr;
	size_t n;
};

/* Positions of the log not yet examined by the subscription. */
static uint64_t
wh_lag(const struct reg_webhook *w, uint64_t log_position)
{
	char *end;
	errno = 0;
	unsigned long long seq = strtoull(w->cursor, &end, 10);
	if (errno || end == w->cursor || seq >= log_position)
		return 0;
	return log_position - seq;
}

static enum tcerr
wh_row(void *ctx, const struct reg_webhook *w)
{
	struct wh_list *c = ctx;
	char created[TS_TEXT_MAX], att[TS_TEXT_MAX], del[TS_TEXT_MAX], next[TS_TEXT_MAX];
	if (c->only && strcmp(c->only, w->id) != 0)
		return TC_OK;
	c->n++;
	if (c->json) {
		json_t *j = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s*, s:s*, s:s*, s:s*, s:I, s:I, "
		        "s:s}",
		        "id", w->id, "org", w->org_name, "url", w->url, "view", w->view, "filter",
		        w->filter, "state", reg_webhook_state_name(w->state), "cursor", w->cursor,
		        "pending_batch_end", w->pending_end, "attempts", (json_int_t)w->attempts,
		        "last_error", w->last_error[0] ? w->last_error : NULL, "last_attempt",
		        ts_or(w->last_attempt_us, att, NULL), "last_delivery",
		        ts_or(w->last_delivery_us, del, NULL), "next_attempt",
		        w->state == REG_WEBHOOK_ACTIVE && w->attempts ? ts_or(w->next_attempt_us, next, NULL)
		                                                     : NULL,
		        "deliveries", (json_int_t)w->deliveries, "lag_positions",
		        (json_int_t)wh_lag(w, c->log_position), "created",
		        ts_or(w->created_us, created, ""));
		return j && !json_array_append_new(c->arr, j) ? TC_OK : TC_ENOMEM;
	}
	if (!c->status) {
		cli_fprintf(stdout, "%-12s  %-16s  %-6s  %-9s  %-10s  %s%s%s\n", w->id, w->org_name,
		            reg_webhook_state_name(w->state), w->view, w->cursor, w->url,
		            w->filter[0] ? "  " : "", w->filter);
		return TC_OK;
	}
	cli_fprintf(stdout, "%s\n", w->id);
	cli_fprintf(stdout, "  organisation:  %s\n", w->org_name);
	cli_fprintf(stdout, "  url:           %s\n", w->url);
	cli_fprintf(stdout, "  view:          %s%s%s\n", w->view, w->filter[0] ? "  filter " : "",
	            w->filter);
	cli_fprintf(stdout, "  state:         %s\n", reg_webhook_state_name(w->state));
	cli_fprintf(stdout, "  cursor:        %s (log at %llu, %llu behind)\n", w->cursor,
	            (unsigned long long)c->log_position,
	            (unsigned long long)wh_lag(w, c->log_position));
	if (w->pending_end[0])
		cli_fprintf(stdout, "  pending batch: up to %s\n", w->pending_end);
	cli_fprintf(stdout, "  deliveries:    %llu, last %s\n", (unsigned long long)w->deliveries,
	            ts_or(w->last_delivery_us, del, "never"));
	cli_fprintf(stdout, "  failures:      %u in a row%s%s\n", w->attempts,
	            w->last_error[0] ? ", last: " : "", w->last_error);
	if (w->state == REG_WEBHOOK_ACTIVE && w->attempts)
		cli_fprintf(stdout, "  next attempt:  %s\n", ts_or(w->next_attempt_us, next, "now"));
	if (w->state == REG_WEBHOOK_DEAD)
		cli_fprintf(stdout, "  dead-letter:   'tocsin webhook replay %s' delivers again\n",
		            w->id);
	return TC_OK;
}

static int
wh_list(const char *dir, bool json, bool status, const char *only)
{
	struct registry *r = NULL;
	struct store *s = NULL;
	struct store_stats st;
	struct diag d;
	int ret = wh_open(dir, &r, &s);
	if (ret)
		return ret;
	struct wh_list c = { .json = json, .status = status, .only = only };
	if (store_stats(s, &st) == TC_OK)
		c.log_position = st.log_position;
	store_close(s);
	if (json && !(c.arr = json_array())) {
		registry_close(r);
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	if (!json && !status)
		printf("%-12s  %-16s  %-6s  %-9s  %-10s  %s\n", "ID", "ORGANISATION", "STATE", "VIEW",
		       "CURSOR", "URL  FILTER");
	diag_clear(&d);
	enum tcerr rc = registry_webhook_list(r, wh_row, &c, &d);
	registry_close(r);
	if (rc) {
		json_decref(c.arr);
		return wh_fail(rc, &d, "webhook list");
	}
	if (only && c.n == 0) {
		json_decref(c.arr);
		cli_err("no webhook subscription '%s'", only);
		return CLI_EXIT_USAGE;
	}
	if (json) {
		char *text = json_dumps(only ? json_array_get(c.arr, 0) : c.arr,
		                        JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(c.arr);
		if (!text) {
			cli_err("out of memory");
			return CLI_EXIT_USAGE;
		}
		printf("%s\n", text);
		free(text);
	}
	return cli_finish_stdout(CLI_EXIT_OK);
}


static const struct option wh_longopts[] = {
	{ "secret", required_argument, NULL, 's' },
	{ "secret-file", required_argument, NULL, OPT_SECRET_FILE },
	{ "view", required_argument, NULL, 'v' },
	{ "collection", required_argument, NULL, 'c' },
	{ "type", required_argument, NULL, 't' },
	{ "kind", required_argument, NULL, 'k' },
	{ "min-confidence", required_argument, NULL, OPT_MIN_CONF },
	{ "tlp", required_argument, NULL, OPT_TLP },
	{ "from", required_argument, NULL, 'f' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "json", no_argument, NULL, 'j' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The filter options, as given. */
struct wh_opts {
	const char *colls[FEED_FILTER_LIST_MAX], *types[FEED_FILTER_LIST_MAX];
	const char *kinds[FEED_FILTER_LIST_MAX];
	size_t ncolls, ntypes, nkinds;
	const char *min_conf, *tlp;
};

static bool
wh_push(const char **v, size_t *n, const char *arg)
{
	if (*n == FEED_FILTER_LIST_MAX)
		return false;
	v[(*n)++] = arg;
	return true;
}

/* The filter's query string (lib/feed's feed_filter_set form): every
 * value checked, collections by their id (an alias can be renamed).
 * Returns CLI_EXIT_OK or a reported usage error. */
static int
wh_filter(const struct cli_cmd *cmd, struct store *s, const struct wh_opts *o, struct buf *q)
{
	for (size_t i = 0; i < o->ncolls; i++) {
		struct store_collection c;
		if (store_collection_find(s, o->colls[i], &c) != TC_OK)
			return cli_usage_error(cmd, "--collection: no collection '%s'", o->colls[i]);
		q_add(q, "collection", c.uuid);
	}
	for (size_t i = 0; i < o->ntypes; i++) {
		const char *t = o->types[i];
		size_t n = strlen(t);
		if (n < 3 || n > 250 || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
			return cli_usage_error(cmd, "--type: '%s' is no STIX type", t);
		q_add(q, "type", t);
	}
	for (size_t i = 0; i < o->nkinds; i++) {
		enum obs_kind k;
		if (!cli_parse_kind(cmd, o->kinds[i], &k))
			return CLI_EXIT_USAGE;
		q_add(q, "kind", obs_kind_name(k));
	}
	if (o->min_conf) {
		char *end;
		errno = 0;
		long v = strtol(o->min_conf, &end, 10);
		if (errno || end == o->min_conf || *end || v < 0 || v > 100)
			return cli_usage_error(cmd, "--min-confidence: must be 0 to 100");
		char num[8];
		snprintf(num, sizeof num, "%ld", v);
		q_add(q, "min_confidence", num);
	}
	if (o->tlp) {
		enum tlp_level l;
		if (stix_tlp_parse(o->tlp, &l) != TC_OK || l == TLP_NONE)
			return cli_usage_error(cmd, "--tlp: one of clear, green, amber, amber+strict, red");
		q_add(q, "tlp", stix_tlp_name(l));
	}
	if (buf_error(q) || q->len > REG_WEBHOOK_FILTER_MAX)
		return cli_usage_error(cmd, "the filter is longer than %d bytes",
		                       REG_WEBHOOK_FILTER_MAX);
	return CLI_EXIT_OK;
}

static int
wh_add(const struct cli_cmd *cmd, const char *dir, const char *org, const char *url,
       struct reg_webhook *w, const struct wh_opts *o, const char *from, const char *config)
{
	struct conf conf;
	struct diag d;
	struct registry *r = NULL;
	struct store *s = NULL;
	struct audit *a = NULL;
	struct buf q;
	int ret;

	conf_defaults(&conf);
	diag_clear(&d);
	if (config && *config && conf_load(&conf, config, &d) != TC_OK) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	if (w->secret_len < WEBHOOK_SECRET_MIN)
		return cli_usage_error(cmd, "the secret must be at least %d bytes (32 random bytes, "
		                            "e.g. 'openssl rand -hex 32', is good)",
		                       WEBHOOK_SECRET_MIN);
	if (from && !reg_webhook_pos_ok(from))
		return cli_usage_error(cmd, "--from: '%s' is no log position (a decimal number)", from);
	/* the same check tocsind makes before every delivery */
	struct webhook_url_policy pol = { conf.webhook_allow_http, conf.webhook_allow_private };
	diag_clear(&d);
	enum tcerr rc = webhook_url_check(&pol, url, NULL, NULL, NULL, &d);
	if (rc) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	if ((ret = wh_open(dir, &r, &s)))
		return ret;
	buf_init(&q, REG_WEBHOOK_FILTER_MAX + 1);
	if ((ret = wh_filter(cmd, s, o, &q)))
		goto out;
	{
		/* exactly as tocsind will read it */
		struct feed_filter_store fs;
		feed_filter_init(&fs);
		diag_clear(&d);
		rc = webhook_filter_parse(&fs, s, q.len ? q.p : "", &d);
		feed_filter_reset(&fs);
		if (rc) {
			ret = cli_usage_error(cmd, "%s", d.msg);
			goto out;
		}
	}
	snprintf(w->org_name, sizeof w->org_name, "%s", org);
	snprintf(w->url, sizeof w->url, "%s", url);
	snprintf(w->filter, sizeof w->filter, "%s", q.len ? q.p : "");
	if (from) {
		snprintf(w->cursor, sizeof w->cursor, "%s", from);
	} else {
		struct store_stats st;
		if ((rc = store_stats(s, &st))) {
			ret = wh_fail(rc, NULL, "store");
			goto out;
		}
		snprintf(w->cursor, sizeof w->cursor, "%llu", (unsigned long long)st.log_position);
	}
	if ((ret = cli_audit_open(dir, &a)))
		goto out;
	struct reg_webhook out;
	diag_clear(&d);
	rc = registry_webhook_add(r, w, &out, &d);
	if (rc) {
		cli_audit_abandon(a);
		ret = wh_fail(rc, &d, "webhook add");
		goto out;
	}
	reg_webhook_wipe(&out);
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "%s %s view %s filter '%s' from %s", out.id, out.url, out.view,
	           out.filter, out.cursor);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "webhook.add", .org = out.org_name,
	                                              .detail = buf_error(&detail) ? "" : detail.p },
	                       CLI_EXIT_OK);
	buf_reset(&detail);
	printf("%s\n", out.id);
	ret = cli_finish_stdout(ret);
out:
	buf_reset(&q);
	store_close(s);
	registry_close(r);
	return ret;
}

/* remove and replay: one subscription changed, audited. */
static int
wh_change(const char *dir, const char *id, bool replay, const char *from)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct reg_webhook w;
	struct diag d;
	enum tcerr rc;
	int ret;
	if ((ret = wh_open(dir, &r, NULL)))
		return ret;
	if ((ret = cli_audit_open(dir, &a))) {
		registry_close(r);
		return ret;
	}
	diag_clear(&d);
	rc = registry_webhook_get(r, id, &w, &d);
	reg_webhook_wipe(&w);
	if (!rc)
		rc = replay ? registry_webhook_replay(r, id, from, &w, &d)
		            : registry_webhook_remove(r, id, &d);
	reg_webhook_wipe(&w);
	registry_close(r);
	if (rc) {
		cli_audit_abandon(a);
		return wh_fail(rc, &d, id);
	}
	char detail[REG_WEBHOOK_URL_MAX + 128];
	snprintf(detail, sizeof detail, "%s %s%s%s", id, w.url, replay ? " from " : "",
	         replay ? w.cursor : "");
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = replay ? "webhook.replay"
	                                                               : "webhook.remove",
	                                              .org = w.org_name, .detail = detail },
	                       CLI_EXIT_OK);
	if (replay)
		cli_fprintf(stdout, "%s: active, delivering after %s\n", id, w.cursor);
	return cli_finish_stdout(ret);
}

int
cmd_webhook(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *from = NULL, *secret_file = NULL, *view = NULL;
	const char *config = getenv("TOCSIN_CONFIG");
	bool json = false, have_secret = false;
	struct wh_opts o = { 0 };
	struct reg_webhook *w = calloc(1, sizeof *w);
	int c, ret = CLI_EXIT_OK;

	if (!w) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	while ((c = cli_getopt(cmd, argc, argv, ":s:v:c:t:k:f:jd:h", wh_longopts)) != -1) {
		switch (c) {
		case 's': {
			size_t n = strlen(optarg);
			if (n > REG_WEBHOOK_SECRET_MAX) {
				ret = cli_usage_error(cmd, "--secret: longer than %d bytes",
				                      REG_WEBHOOK_SECRET_MAX);
				goto out;
			}
			memcpy(w->secret, optarg, n);
			w->secret_len = n;
			have_secret = true;
			break;
		}
		case OPT_SECRET_FILE: secret_file = optarg; break;
		case 'v': view = optarg; break;
		case 'c':
		case 't':
		case 'k':
			if (!wh_push(c == 'c' ? o.colls : c == 't' ? o.types : o.kinds,
			             c == 'c' ? &o.ncolls : c == 't' ? &o.ntypes : &o.nkinds, optarg)) {
				ret = cli_usage_error(cmd, "more than %d --collection, --type or --kind",
				                      FEED_FILTER_LIST_MAX);
				goto out;
			}
			break;
		case OPT_MIN_CONF: o.min_conf = optarg; break;
		case OPT_TLP: o.tlp = optarg; break;
		case 'f': from = optarg; break;
		case OPT_CONFIG: config = optarg; break;
		case 'j': json = true; break;
		case 'd': dir = optarg; break;
		case 'h': cli_print_usage(cmd, stdout); goto out;
		default: ret = CLI_EXIT_USAGE; goto out;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos < 1) {
		ret = cli_usage_error(cmd, "a subcommand is needed: add, list, status, remove, replay");
		goto out;
	}
	const char *sub = pos[0];
	bool is_add = strcmp(sub, "add") == 0;
	bool filters = o.ncolls || o.ntypes || o.nkinds || o.min_conf || o.tlp || view;
	if (!is_add && (have_secret || secret_file || filters)) {
		ret = cli_usage_error(cmd, "--secret, --view and the filters belong to 'webhook add'");
		goto out;
	}
	if (json && strcmp(sub, "list") != 0 && strcmp(sub, "status") != 0) {
		ret = cli_usage_error(cmd, "--json belongs to 'list' and 'status'");
		goto out;
	}
	if (from && !is_add && strcmp(sub, "replay") != 0) {
		ret = cli_usage_error(cmd, "--from belongs to 'add' and 'replay'");
		goto out;
	}
	if (is_add) {
		if (npos != 3) {
			ret = cli_usage_error(cmd, "'webhook add' takes ORG and URL");
			goto out;
		}
		if (have_secret == !!secret_file) {
			ret = cli_usage_error(cmd, "'webhook add' needs one of --secret and --secret-file");
			goto out;
		}
		if (secret_file && (ret = wh_secret_file(secret_file, w)))
			goto out;
		enum feed_view v = FEED_STIX;
		if (view && strcmp(view, "stix") != 0 && strcmp(view, "decisions") != 0) {
			ret = cli_usage_error(cmd, "--view: stix or decisions");
			goto out;
		}
		if (view && strcmp(view, "decisions") == 0)
			v = FEED_DECISIONS;
		snprintf(w->view, sizeof w->view, "%s", v == FEED_DECISIONS ? "decisions" : "stix");
		ret = wh_add(cmd, dir, pos[1], pos[2], w, &o, from, config);
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "status") == 0) {
		bool status = sub[0] == 's';
		if (npos > (status ? 2 : 1)) {
			ret = cli_usage_error(cmd, status ? "'webhook status' takes at most one ID"
			                                  : "'webhook list' takes no argument");
			goto out;
		}
		ret = wh_list(dir, json, status, npos == 2 ? pos[1] : NULL);
	} else if (strcmp(sub, "remove") == 0 || strcmp(sub, "replay") == 0) {
		if (npos != 2) {
			ret = cli_usage_error(cmd, "'webhook %s' takes one ID", sub);
			goto out;
		}
		if (from && !reg_webhook_pos_ok(from)) {
			ret = cli_usage_error(cmd, "--from: '%s' is no log position (a decimal number)",
			                      from);
			goto out;
		}
		ret = wh_change(dir, pos[1], sub[2] == 'p', from);
	} else {
		ret = cli_usage_error(cmd, "unknown subcommand '%s' (add, list, status, remove, "
		                           "replay)",
		                      sub);
	}
out:
	reg_webhook_wipe(w);
	free(w);
	return ret;
}
