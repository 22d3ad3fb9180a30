/*
 * cmd_stream.c — `tocsin stream`: follow a hub's event stream
 * (GET /api/v1/stream, docs/feeds.md) and print each event.
 *
 * The bytes from the hub are untrusted: lib/sse parses them with limits,
 * and each event's data is parsed as JSON before it is printed. After
 * every event that carries a position (its SSE id) the position is
 * written to the --state file (a new file renamed over the old one, so
 * the file always holds one whole position), and a later run, or a
 * reconnection, resumes exactly after it. When the hub goes away or cuts
 * the stream, the command reconnects with a growing pause; an answer that
 * retrying cannot change (a bad key, a bad filter) stops it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "sse/sse.h"
#include "util/buf.h"

const char cmd_stream_usage[] =
	"usage: tocsin stream --hub URL [--key KEY] [--view stix|decisions]\n"
	"                     [--collection C]... [--type T]... [--kind K]...\n"
	"                     [--min-confidence N] [--tlp LEVEL] [--state FILE]\n"
	"                     [--after POSITION] [--format json|sse] [--max-events N]\n"
	"                     [--cacert FILE] [--idle-timeout SECONDS]\n"
	"\n"
	"Follows the hub's event stream (GET URL/api/v1/stream) and prints each\n"
	"event: one JSON object a line, {\"event\":NAME,\"id\":POSITION|null,\n"
	"\"data\":{...}} (ASCII, non-ASCII characters as \\u escapes), or with\n"
	"--format sse the events as the hub sent them (control bytes escaped).\n"
	"view=stix (the default) gives object versions and deletions as stored;\n"
	"view=decisions gives a snapshot of the current decisions (add events\n"
	"without a position, then snapshot-end), then add/remove events.\n"
	"Without a position the stix view starts at the log's end.\n"
	"\n"
	"With --state FILE the position of the last event printed is saved in\n"
	"FILE after each event and the stream resumes after it: nothing is lost\n"
	"and nothing repeated across restarts. When the hub goes away, restarts\n"
	"or cuts a slow reader, the command reconnects with a growing pause (at\n"
	"most 30 s) and resumes from the last position.\n"
	"\n"
	"Options:\n"
	"  --hub URL             the hub (http://HOST:PORT or https://...)\n"
	"  --key KEY             API key (default: $TOCSIN_KEY)\n"
	"  --view VIEW           stix or decisions\n"
	"  --collection C        only this collection (alias or id; repeatable)\n"
	"  --type T              only this STIX type (repeatable)\n"
	"  --kind K              only observables of this kind (repeatable)\n"
	"  --min-confidence N    only indicators with confidence >= N\n"
	"  --tlp LEVEL           only up to this TLP (clear, green, amber,\n"
	"                        amber+strict, red)\n"
	"  --state FILE          save and resume the position\n"
	"  --after POSITION      start after POSITION when FILE holds none\n"
	"                        (0: the whole log)\n"
	"  --format FORMAT       json (default) or sse\n"
	"  --max-events N        stop after N events (snapshot events count)\n"
	"  --cacert FILE         CA certificates to verify an https hub\n"
	"  --idle-timeout S      reconnect when nothing (not even a heartbeat)\n"
	"                        came for S seconds (default 60)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 --max-events reached, 2 usage error or an answer that\n"
	"retrying cannot change (401, 400: the hub's reason is printed).\n";

#define STREAM_PATH "/api/v1/stream"
#define STREAM_ERROR_BODY_MAX 65536     /* bytes of an error answer kept */
#define STREAM_BACKOFF_MIN_MS 250
#define STREAM_BACKOFF_MAX_MS 30000
#define STREAM_POS_MAX 24               /* digits of a position */
#define STREAM_URL_MAX 32768

enum { O_HUB = 1000, O_KEY, O_VIEW, O_COLL, O_TYPE, O_KIND, O_MINCONF, O_TLP, O_STATE, O_AFTER,
       O_FORMAT, O_MAX, O_CACERT, O_IDLE };

struct stream_run {
	const char *state;
	bool sse;
	uint64_t max_events;            /* 0: no limit */
	uint64_t events;
	char pos[STREAM_POS_MAX + 1];   /* last position: "" none */
	struct sse_parser parser;
	long status;                    /* HTTP status of this connection */
	bool checked;                   /* status looked at */
	struct buf errbody;
	bool done;                      /* max_events reached */
	bool got_bytes;
	enum tcerr fail;
	struct diag d;
};

static bool
pos_ok(const char *s, size_t n)
{
	if (n == 0 || n > STREAM_POS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Writes pos to the state file: FILE.tmp, then renamed over FILE. */
static bool
state_save(const char *path, const char *pos)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return false;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	char line[STREAM_POS_MAX + 2];
	int len = snprintf(line, sizeof line, "%s\n", pos);
	bool ok = len > 0 && write(fd, line, (size_t)len) == len;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok)
		unlink(tmp);
	return ok;
}

/* Reads a position from the state file. false if it exists and is bad. */
static bool
state_load(const char *path, char pos[STREAM_POS_MAX + 1])
{
	char b[64];
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	size_t n = fread(b, 1, sizeof b - 1, f);
	fclose(f);
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' '))
		n--;
	if (n == 0)
		return true;
	if (!pos_ok(b, n))
		return false;
	memcpy(pos, b, n);
	pos[n] = '\0';
	return true;
}

static enum tcerr
on_event(void *ctx, const struct sse_event *ev)
{
	struct stream_run *r = ctx;
	if (r->sse) {
		/* escaped like everything the CLI echoes (cli_util.h): no
		 * control byte from the hub reaches a terminal */
		if (ev->has_id)
			cli_fprintf(stdout, "id: %.*s\n", (int)ev->id.len, ev->id.p);
		cli_fprintf(stdout, "event: %.*s\n", (int)ev->name.len, ev->name.p);
		/* data holds no newline from a well-behaved hub; split lines anyway */
		const char *p = ev->data.p, *end = p + ev->data.len;
		do {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
			cli_fprintf(stdout, "data: %.*s\n", (int)l, p);
			p = nl ? nl + 1 : end;
		} while (p < end);
		printf("\n");
	} else {
		json_error_t je;
		json_t *data = json_loadb(ev->data.p, ev->data.len, JSON_REJECT_DUPLICATES, &je);
		json_t *name = json_stringn(ev->name.p, ev->name.len);
		json_t *id = ev->has_id ? json_stringn(ev->id.p, ev->id.len) : json_null();
		if (!data)
			data = json_stringn(ev->data.p, ev->data.len); /* not JSON: kept as text */
		json_t *o = json_object();
		char *s = NULL;
		if (o && name && id && data && json_object_set_new(o, "event", name) == 0 &&
		    json_object_set_new(o, "id", id) == 0 && json_object_set_new(o, "data", data) == 0) {
			name = id = data = NULL;
			s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		}
		json_decref(name);
		json_decref(id);
		json_decref(data);
		json_decref(o);
		if (!s)
			return diag_set(&r->d, TC_ENOMEM, "out of memory");
		puts(s);
		free(s);
	}
	fflush(stdout);
	if (ev->has_id && pos_ok(ev->id.p, ev->id.len)) {
		memcpy(r->pos, ev->id.p, ev->id.len);
		r->pos[ev->id.len] = '\0';
		if (r->state && !state_save(r->state, r->pos))
			return diag_set(&r->d, TC_EIO, "--state %s: cannot write: %s", r->state,
			                strerror(errno));
	}
	r->events++;
	if (r->max_events && r->events >= r->max_events) {
		r->done = true;
		return TC_ELIMIT;
	}
	return TC_OK;
}

static size_t
on_bytes(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct stream_run *r = ctx;
	CURL *h = NULL;
	size_t n = size * nmemb;
	(void)h;
	if (!r->checked)
		return 0; /* set by on_header before any body byte */
	r->got_bytes = true;
	if (r->status != 200) {
		if (r->errbody.len < STREAM_ERROR_BODY_MAX)
			buf_append(&r->errbody, p,
			           n < STREAM_ERROR_BODY_MAX - r->errbody.len ? n
			                                                     : STREAM_ERROR_BODY_MAX -
			                                                       r->errbody.len);
		return n;
	}
	enum tcerr rc = sse_feed(&r->parser, p, n, on_event, r, &r->d);
	if (rc) {
		r->fail = rc;
		return 0; /* aborts the transfer */
	}
	return n;
}

struct hdr_ctx {
	struct stream_run *r;
	CURL *h;
};

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct hdr_ctx *hc = ctx;
	size_t n = size * nmemb;
	if (n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) {
		/* end of a header block: the status is known */
		long st = 0;
		curl_easy_getinfo(hc->h, CURLINFO_RESPONSE_CODE, &st);
		if (st >= 200) {
			hc->r->status = st;
			hc->r->checked = true;
		}
	}
	return n;
}

/* Prints the hub's error answer (a JSON error resource) and says whether
 * retrying may help. */
static bool
report_status(struct stream_run *r)
{
	const char *title = "", *desc = "";
	json_t *e = json_loadb(r->errbody.p ? r->errbody.p : "", r->errbody.len, 0, NULL);
	if (e) {
		const char *t = json_string_value(json_object_get(e, "title"));
		const char *ds = json_string_value(json_object_get(e, "description"));
		title = t ? t : "";
		desc = ds ? ds : "";
	}
	cli_err("the hub answered %ld: %s%s%s", r->status, title, desc[0] ? ": " : "", desc);
	json_decref(e);
	return r->status == 503 || r->status == 429 || r->status >= 500;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
cmd_stream(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hub", required_argument, NULL, O_HUB },
		{ "key", required_argument, NULL, O_KEY },
		{ "view", required_argument, NULL, O_VIEW },
		{ "collection", required_argument, NULL, O_COLL },
		{ "type", required_argument, NULL, O_TYPE },
		{ "kind", required_argument, NULL, O_KIND },
		{ "min-confidence", required_argument, NULL, O_MINCONF },
		{ "tlp", required_argument, NULL, O_TLP },
		{ "state", required_argument, NULL, O_STATE },
		{ "after", required_argument, NULL, O_AFTER },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "max-events", required_argument, NULL, O_MAX },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *hub = NULL, *key = getenv("TOCSIN_KEY"), *cacert = NULL, *after = NULL;
	struct stream_run r;
	struct buf query, url;
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	int c, status = CLI_EXIT_USAGE;
	long idle = 60;

	memset(&r, 0, sizeof r);
	buf_init(&query, STREAM_URL_MAX);
	buf_init(&url, STREAM_URL_MAX);
	buf_init(&r.errbody, STREAM_ERROR_BODY_MAX);
	h = curl_easy_init();
	if (!h) {
		cli_err("cannot start libcurl");
		goto out;
	}
	while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
		const char *param = NULL;
		switch (c) {
		case O_HUB:
			hub = optarg;
			break;
		case O_KEY:
			key = optarg;
			break;
		case O_VIEW:
			if (strcmp(optarg, "stix") != 0 && strcmp(optarg, "decisions") != 0) {
				status = cli_usage_error(cmd, "--view: stix or decisions");
				goto out;
			}
			param = "view";
			break;
		case O_COLL:
			param = "collection";
			break;
		case O_TYPE:
			param = "type";
			break;
		case O_KIND:
			param = "kind";
			break;
		case O_MINCONF:
			param = "min_confidence";
			break;
		case O_TLP:
			param = "tlp";
			break;
		case O_STATE:
			r.state = optarg;
			break;
		case O_AFTER:
			if (!pos_ok(optarg, strlen(optarg))) {
				status = cli_usage_error(cmd, "--after: a log position (a number)");
				goto out;
			}
			after = optarg;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "sse") != 0) {
				status = cli_usage_error(cmd, "--format: json or sse");
				goto out;
			}
			r.sse = strcmp(optarg, "sse") == 0;
			break;
		case O_MAX: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || v == 0 || optarg[0] == '-') {
				status = cli_usage_error(cmd, "--max-events: a positive number");
				goto out;
			}
			r.max_events = v;
			break;
		}
		case O_CACERT:
			cacert = optarg;
			break;
		case O_IDLE: {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 86400) {
				status = cli_usage_error(cmd, "--idle-timeout: 1 to 86400 seconds");
				goto out;
			}
			idle = v;
			break;
		}
		case 'h':
			cli_print_usage(cmd, stdout);
			status = CLI_EXIT_OK;
			goto out;
		default:
			goto out;
		}
		if (param) {
			char *e = curl_easy_escape(h, optarg, 0);
			if (!e) {
				cli_err("out of memory");
				goto out;
			}
			buf_printf(&query, "%s%s=%s", query.len ? "&" : "", param, e);
			curl_free(e);
		}
	}
	if (optind < argc) {
		status = cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!hub) {
		status = cli_usage_error(cmd, "--hub URL is required");
		goto out;
	}
	if (strncmp(hub, "http://", 7) != 0 && strncmp(hub, "https://", 8) != 0) {
		status = cli_usage_error(cmd, "--hub: an http:// or https:// URL");
		goto out;
	}
	if (!key || !*key) {
		status = cli_usage_error(cmd, "no key: --key KEY or $TOCSIN_KEY");
		goto out;
	}
	if (buf_error(&query)) {
		cli_err("the filter is too long");
		goto out;
	}
	if (r.state && !state_load(r.state, r.pos)) {
		cli_err("--state %s: does not hold a position", r.state);
		goto out;
	}
	if (!r.pos[0] && after)
		snprintf(r.pos, sizeof r.pos, "%s", after);

	char auth[1024];
	int an = snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
	if (an < 0 || (size_t)an >= sizeof auth) {
		cli_err("--key: too long");
		goto out;
	}
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = hdrs ? curl_slist_append(hdrs, "Accept: text/event-stream") : NULL;
	explicit_bzero(auth, sizeof auth);
	if (!hdrs) {
		cli_err("out of memory");
		goto out;
	}

	unsigned backoff = STREAM_BACKOFF_MIN_MS;
	size_t hublen = strlen(hub);
	while (hublen && hub[hublen - 1] == '/')
		hublen--;
	for (;;) {
		struct hdr_ctx hc = { &r, h };
		buf_clear(&url);
		buf_printf(&url, "%.*s%s?%s", (int)hublen, hub, STREAM_PATH, query.p ? query.p : "");
		if (r.pos[0])
			buf_printf(&url, "%slast_event_id=%s", query.len ? "&" : "", r.pos);
		if (buf_error(&url)) {
			cli_err("the URL is too long");
			goto out;
		}
		sse_init(&r.parser, 0);
		buf_clear(&r.errbody);
		r.status = 0;
		r.checked = r.got_bytes = false;
		r.fail = TC_OK;
		diag_clear(&r.d);
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, url.p);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_bytes);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &hc);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, idle);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
		if (cacert)
			curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
		CURLcode cc = curl_easy_perform(h);
		sse_reset(&r.parser);
		if (r.done) {
			status = CLI_EXIT_OK;
			goto out;
		}
		if (r.fail && r.fail != TC_ELIMIT && r.fail != TC_EINVAL) {
			cli_err("%s", r.d.msg[0] ? r.d.msg : tcerr_str(r.fail));
			if (r.fail == TC_EIO || r.fail == TC_ENOMEM)
				goto out;
		} else if (r.fail) {
			cli_err("%s; reconnecting", r.d.msg[0] ? r.d.msg : tcerr_str(r.fail));
		}
		if (r.checked && r.status != 200) {
			if (!report_status(&r))
				goto out;
		} else if (cc != CURLE_OK && !r.fail) {
			cli_err("%s: %s; reconnecting", hub, curl_easy_strerror(cc));
		}
		if (r.got_bytes && r.status == 200)
			backoff = STREAM_BACKOFF_MIN_MS; /* it worked for a while */
		sleep_ms(backoff);
		backoff = backoff * 2 > STREAM_BACKOFF_MAX_MS ? STREAM_BACKOFF_MAX_MS : backoff * 2;
	}
out:
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	buf_reset(&query);
	buf_reset(&url);
	buf_reset(&r.errbody);
	return status;
}
