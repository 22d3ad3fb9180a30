/*
 * cmd_source.c — tocsin source: feeds tocsind pulls on a schedule (add,
 * list, status, remove, run; docs/sources.md).
 *
 * The CLI checks what tocsind will use before it is stored: the name,
 * the format and its options (lib/source), the URL under the [sources]
 * keys of tocsind's configuration (--config or $TOCSIN_CONFIG), the
 * organisation and the collection. Invariant: an auth header is never
 * printed or written to the audit log; each change is audited
 * ("source.add", "source.remove", "source.run"). A running tocsind
 * notices a change within a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_audit.h"
#include "cli_util.h"
#include "cmd.h"
#include "conf/conf.h"
#include "import/import.h"
#include "registry/registry.h"
#include "source/source.h"
#include "source/source_run.h"
#include "hub/hub.h"
#include "util/timestamp.h"

const char cmd_source_usage[] =
	"usage: tocsin source add NAME URL --format FORMAT --org ORG --collection C\n"
	"                         [--every DURATION] [--tlp LEVEL] [--confidence N]\n"
	"                         [--expiry drop|keep] [--column COL=N|HEADER]...\n"
	"                         [--comment CHARS] [--delimiter C] [--no-header]\n"
	"                         [--auth-header-file FILE] [--config FILE] [--data DIR]\n"
	"       tocsin source list [--json] [--data DIR]\n"
	"       tocsin source status [NAME] [--json] [--data DIR]\n"
	"       tocsin source remove NAME [--data DIR]\n"
	"       tocsin source run NAME [--wait SECONDS | --here [--config FILE]] [--data DIR]\n"
	"\n"
	"tocsind pulls each source's URL on its schedule and writes what it lists as\n"
	"STIX indicators produced by organisation ORG into collection C, with the\n"
	"source's TLP and confidence. A value still listed is not written again; one\n"
	"that drops off the list expires (a new version with valid_until = now), so\n"
	"its decision is removed (--expiry keep: it stays). Conditional requests\n"
	"(ETag, Last-Modified) make an unchanged feed cost one 304.\n"
	"\n"
	"Formats:\n"
	"  plain         one value a line (IP, CIDR, domain, URL, hash...), '#' and ';'\n"
	"                comments, trailing text after a blank ignored\n"
	"  ip-blocklist  an address or network a line, trailing comments ('# ...', '; ...')\n"
	"  url-list      a URL a line\n"
	"  csv           CSV with a header line; --column value=N|HEADER and\n"
	"                --column type=N|HEADER say where the value and its kind are\n"
	"  misp-feed     a MISP feed directory: URL/manifest.json and URL/<uuid>.json\n"
	"  taxii         a TAXII 2.1 collection's objects URL (.../collections/ID/objects/),\n"
	"                pulled with added_after from where the last pull ended\n"
	"Defanged values (hxxp://, [.]) are restored.\n"
	"\n"
	"'run' asks tocsind to pull NAME now (--wait N: wait up to N seconds for the\n"
	"pull and print its result); 'run --here' pulls it in this process, when no\n"
	"tocsind serves the data directory. 'remove' stops the pulls; what the source\n"
	"wrote stays (its entries expire no more).\n"
	"\n"
	"Options:\n"
	"  -f, --format FORMAT    plain, ip-blocklist, url-list, csv, misp-feed, taxii\n"
	"  -o, --org ORG          the organisation the source produces as\n"
	"  -c, --collection C     the collection written to (alias or id)\n"
	"  -e, --every DURATION   the schedule: 90s, 15m, 1h, 1d (default 1h; at least 60s)\n"
	"      --tlp LEVEL        TLP of what it writes (clear, green, amber,\n"
	"                         amber+strict, red; default: none, the hub's default_tlp)\n"
	"      --confidence N     confidence of what it writes, 0 to 100\n"
	"      --expiry POLICY    drop (default): entries that drop off expire; keep\n"
	"      --column COL=WHERE csv: value=2 or value=url, type=3 or type=kind;\n"
	"                         several at once: value=2,type=3\n"
	"      --comment CHARS    line comment prefixes (default '#;', csv '#')\n"
	"      --delimiter C      csv field separator (default ',', '\\t' for tab)\n"
	"      --no-header        csv: the first line is data\n"
	"      --auth-header-file FILE  a header line sent with every request\n"
	"                         ('Authorization: Bearer ...'), read from FILE's first\n"
	"                         line ('-': stdin); kept like a webhook secret\n"
	"      --config FILE      tocsind's configuration, for the [sources] URL rules\n"
	"                         (default: $TOCSIN_CONFIG)\n"
	"  -w, --wait SECONDS     run: wait for the pull's result\n"
	"      --here             run: pull in this process (tocsind not running), with\n"
	"                         the [sources] and [ingest] keys of --config\n"
	"  -j, --json             list, status: JSON instead of a table\n"
	"  -d, --data DIR         data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help             show this help\n";

#define OPT_TLP 0x100
#define OPT_CONF 0x101
#define OPT_EXPIRY 0x102
#define OPT_COLUMN 0x103
#define OPT_COMMENT 0x104
#define OPT_DELIM 0x105
#define OPT_NOHEADER 0x106
#define OPT_AUTH 0x107
#define OPT_CONFIG 0x108
#define OPT_HERE 0x109
#define PID_FILE "tocsind.pid" /* = daemon/main.c: locked while a tocsind serves DIR */

static int
src_fail(enum tcerr rc, const struct diag *d, const char *what)
{
	if (d && d->msg[0])
		cli_err("%s", d->msg);
	else
		cli_err("%s: %s", what, tcerr_str(rc));
	return CLI_EXIT_USAGE;
}

static int
src_open(const char *dir, struct registry **r, struct store **s)
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
		return src_fail(rc, &d, dir);
	if (s && (rc = store_open(db, s, &d))) {
		registry_close(*r);
		*r = NULL;
		return src_fail(rc, &d, db);
	}
	return CLI_EXIT_OK;
}

/* "90", "90s", "15m", "1h", "1d" → seconds; -1 if it does not parse. */
static int64_t
parse_duration(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || v > 100000000)
		return -1;
	int64_t mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	return *end ? -1 : (int64_t)v * mul;
}

static int
read_auth(const char *path, char *out, size_t size)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char tmp[REG_SOURCE_AUTH_MAX + 2];
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
	int ret = CLI_EXIT_OK;
	const char *colon = memchr(tmp, ':', len);
	if (len >= size) {
		cli_err("%s: the header is longer than %zu bytes", path, size - 1);
		ret = CLI_EXIT_USAGE;
	} else if (!colon || colon == tmp) {
		cli_err("%s: a header line 'Name: value' expected", path);
		ret = CLI_EXIT_USAGE;
	} else {
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)tmp[i] < 0x20 && tmp[i] != '\t') {
				cli_err("%s: the header holds a control character", path);
				ret = CLI_EXIT_USAGE;
				break;
			}
	}
	if (!ret) {
		memcpy(out, tmp, len);
		out[len] = '\0';
	}
	sodium_memzero(tmp, sizeof tmp);
	return ret;
}

static const char *
ts_or(int64_t us, char out[TS_TEXT_MAX], const char *none)
{
	if (!us)
		return none;
	ts_format(us, 0, out);
	return out;
}

struct src_list {
	bool json, status;
	const char *only;
	json_t *arr;
	size_t n;
};

static enum tcerr
src_row(void *ctx, const struct reg_source *s)
{
	struct src_list *c = ctx;
	char last[TS_TEXT_MAX], ok[TS_TEXT_MAX], next[TS_TEXT_MAX], created[TS_TEXT_MAX];
	if (c->only && strcmp(c->only, s->name) != 0)
		return TC_OK;
	c->n++;
	bool pending = s->requested > s->served;
	if (c->json) {
		json_t *j = json_pack(
		        "{s:s, s:s, s:s, s:I, s:s, s:s, s:s*, s:o, s:s, s:s, s:s*, s:s*, s:s*,"
		        " s:s*, s:s*, s:s*, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s*, s:s*, s:s}",
		        "name", s->name, "url", s->url, "format", s->format, "every_s",
		        (json_int_t)s->every_s, "org", s->org_name, "collection", s->collection, "tlp",
		        s->tlp[0] ? s->tlp : NULL, "confidence",
		        s->confidence >= 0 ? json_integer(s->confidence) : json_null(), "expiry",
		        s->expiry, "options", s->options, "result", s->result[0] ? s->result : NULL,
		        "last_run", ts_or(s->last_run_us, last, NULL), "last_success",
		        ts_or(s->last_success_us, ok, NULL), "next_run",
		        ts_or(s->next_run_us, next, NULL), "last_error",
		        s->last_error[0] ? s->last_error : NULL, "warnings",
		        s->warnings[0] ? s->warnings : NULL, "entries", (json_int_t)s->entries,
		        "added", (json_int_t)s->added, "expired", (json_int_t)s->expired, "rejected",
		        (json_int_t)s->rejected, "runs", (json_int_t)s->runs, "errors",
		        (json_int_t)s->errors, "run_requested", pending, "etag",
		        s->etag[0] ? s->etag : NULL, "last_modified",
		        s->last_modified[0] ? s->last_modified : NULL, "created",
		        ts_or(s->created_us, created, ""));
		if (j && s->auth[0])
			json_object_set_new(j, "auth_header", json_string("(set)"));
		return j && !json_array_append_new(c->arr, j) ? TC_OK : TC_ENOMEM;
	}
	if (!c->status) {
		char every[32];
		snprintf(every, sizeof every, "%llds", (long long)s->every_s);
		cli_fprintf(stdout, "%-20s  %-12s  %-16s  %-12s  %-7s  %-9s  %s\n", s->name, s->format,
		            s->org_name, s->collection, every, s->result[0] ? s->result : "-", s->url);
		return TC_OK;
	}
	cli_fprintf(stdout, "%s\n", s->name);
	cli_fprintf(stdout, "  url:           %s\n", s->url);
	cli_fprintf(stdout, "  format:        %s\n", s->format);
	for (const char *p = s->options; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		cli_fprintf(stdout, "  option:        %.*s\n", (int)n, p);
		p += n + (e ? 1 : 0);
	}
	cli_fprintf(stdout, "  producer:      %s\n", s->org_name);
	cli_fprintf(stdout, "  collection:    %s\n", s->collection);
	cli_fprintf(stdout, "  tlp:           %s\n", s->tlp[0] ? s->tlp : "(none: the hub's default_tlp)");
	if (s->confidence >= 0)
		cli_fprintf(stdout, "  confidence:    %d\n", s->confidence);
	else
		cli_fprintf(stdout, "  confidence:    (none)\n");
	cli_fprintf(stdout, "  schedule:      every %llds, expiry %s\n", (long long)s->every_s,
	            s->expiry);
	cli_fprintf(stdout, "  last run:      %s  result %s\n", ts_or(s->last_run_us, last, "never"),
	            s->result[0] ? s->result : "-");
	cli_fprintf(stdout, "  last success:  %s\n", ts_or(s->last_success_us, ok, "never"));
	cli_fprintf(stdout, "  next run:      %s\n",
	            pending ? "now (asked)" : ts_or(s->next_run_us, next, "now"));
	cli_fprintf(stdout, "  entries:       %llu listed; last pull added %llu, expired %llu, "
	                    "rejected %llu\n",
	            (unsigned long long)s->entries, (unsigned long long)s->added,
	            (unsigned long long)s->expired, (unsigned long long)s->rejected);
	cli_fprintf(stdout, "  runs:          %llu, %llu failed\n", (unsigned long long)s->runs,
	            (unsigned long long)s->errors);
	if (s->last_error[0])
		cli_fprintf(stdout, "  last error:    %s\n", s->last_error);
	if (s->warnings[0])
		cli_fprintf(stdout, "  warnings:      %s\n", s->warnings);
	return TC_OK;
}

static int
src_list(const char *dir, bool json, bool status, const char *only)
{
	struct registry *r = NULL;
	struct diag d;
	int ret = src_open(dir, &r, NULL);
	if (ret)
		return ret;
	struct src_list c = { .json = json, .status = status, .only = only };
	if (json && !(c.arr = json_array())) {
		registry_close(r);
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	if (!json && !status)
		printf("%-20s  %-12s  %-16s  %-12s  %-7s  %-9s  %s\n", "NAME", "FORMAT", "ORGANISATION",
		       "COLLECTION", "EVERY", "RESULT", "URL");
	diag_clear(&d);
	enum tcerr rc = registry_source_list(r, src_row, &c, &d);
	registry_close(r);
	if (rc) {
		json_decref(c.arr);
		return src_fail(rc, &d, "source list");
	}
	if (only && c.n == 0) {
		json_decref(c.arr);
		cli_err("no source '%s'", only);
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

struct add_opts {
	const char *format, *org, *collection, *every, *tlp, *confidence, *expiry, *comment,
	        *delimiter, *auth_file, *config;
	bool no_header;
	struct buf options;
};

static int
src_add(const struct cli_cmd *cmd, const char *dir, const char *name, const char *url,
        struct add_opts *o)
{
	struct conf conf;
	struct diag d;
	struct registry *r = NULL;
	struct store *st = NULL;
	struct audit *a = NULL;
	struct reg_source *s = calloc(1, sizeof *s);
	enum source_format f;
	struct source_opts so;
	enum tcerr rc;
	int ret = CLI_EXIT_OK;

	if (!s) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	conf_defaults(&conf);
	diag_clear(&d);
	if (!source_name_ok(name)) {
		ret = cli_usage_error(cmd, "source name '%s': 1 to %d of a-z, 0-9, '.', '_', '-', "
		                           "starting with a letter or digit",
		                      name, SOURCE_NAME_MAX);
		goto out;
	}
	if (!o->format || !o->org || !o->collection) {
		ret = cli_usage_error(cmd, "'source add' needs --format, --org and --collection");
		goto out;
	}
	if (source_format_parse(o->format, &f, &d)) {
		ret = cli_usage_error(cmd, "--%s", d.msg);
		goto out;
	}
	if (o->config && *o->config && conf_load(&conf, o->config, &d) != TC_OK) {
		cli_err("%s", d.msg);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (o->comment)
		buf_printf(&o->options, "comment=%s\n", o->comment);
	if (o->delimiter)
		buf_printf(&o->options, "delimiter=%s\n", o->delimiter);
	if (o->no_header)
		buf_append_cstr(&o->options, "header=no\n");
	if (buf_error(&o->options) || o->options.len > REG_SOURCE_OPTIONS_MAX) {
		ret = cli_usage_error(cmd, "the format options are longer than %d bytes",
		                      REG_SOURCE_OPTIONS_MAX);
		goto out;
	}
	if ((f == SOURCE_MISP || f == SOURCE_TAXII) && o->options.len) {
		ret = cli_usage_error(cmd, "--column, --comment, --delimiter and --no-header are for "
		                           "the list and csv formats");
		goto out;
	}
	if (source_opts_parse(f, buf_slice(&o->options), &so, &d)) {
		ret = cli_usage_error(cmd, "%s", d.msg);
		goto out;
	}
	int64_t every = o->every ? parse_duration(o->every) : 3600;
	if (every < REG_SOURCE_EVERY_MIN || every > REG_SOURCE_EVERY_MAX) {
		ret = cli_usage_error(cmd, "--every: a duration from 60s to 31d (90s, 15m, 1h, 1d)");
		goto out;
	}
	s->every_s = every;
	s->confidence = -1;
	if (o->confidence) {
		char *end;
		errno = 0;
		long v = strtol(o->confidence, &end, 10);
		if (errno || end == o->confidence || *end || v < 0 || v > 100) {
			ret = cli_usage_error(cmd, "--confidence: must be 0 to 100");
			goto out;
		}
		s->confidence = (int)v;
	}
	if (o->tlp) {
		enum tlp_level l;
		if (import_tlp_parse(slice_from_cstr(o->tlp), &l) != TC_OK || l == TLP_NONE) {
			ret = cli_usage_error(cmd, "--tlp: one of clear, green, amber, amber+strict, red");
			goto out;
		}
		snprintf(s->tlp, sizeof s->tlp, "%s", stix_tlp_name(l));
	}
	const char *expiry = o->expiry ? o->expiry : "drop";
	if (strcmp(expiry, "drop") != 0 && strcmp(expiry, "keep") != 0) {
		ret = cli_usage_error(cmd, "--expiry: drop or keep");
		goto out;
	}
	/* the same URL check tocsind makes before every pull */
	diag_clear(&d);
	if (strlen(url) > REG_SOURCE_URL_MAX) {
		ret = cli_usage_error(cmd, "URL: longer than %d bytes", REG_SOURCE_URL_MAX);
		goto out;
	}
	if (source_url_check(conf.source_allow_http, conf.source_allow_private, url, &d)) {
		cli_err("%s", d.msg);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (o->auth_file && (ret = read_auth(o->auth_file, s->auth, sizeof s->auth)))
		goto out;
	if ((ret = src_open(dir, &r, &st)))
		goto out;
	struct store_collection coll;
	if (store_collection_find(st, o->collection, &coll) != TC_OK) {
		ret = cli_usage_error(cmd, "--collection: no collection '%s'", o->collection);
		goto out;
	}
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->url, sizeof s->url, "%s", url);
	snprintf(s->format, sizeof s->format, "%s", source_format_name(f));
	snprintf(s->org_name, sizeof s->org_name, "%s", o->org);
	snprintf(s->collection, sizeof s->collection, "%s", coll.alias);
	snprintf(s->expiry, sizeof s->expiry, "%s", f == SOURCE_TAXII ? "keep" : expiry);
	snprintf(s->options, sizeof s->options, "%s", o->options.len ? o->options.p : "");
	if ((ret = cli_audit_open(dir, &a)))
		goto out;
	struct reg_source *out = calloc(1, sizeof *out);
	diag_clear(&d);
	rc = out ? registry_source_add(r, s, out, &d) : diag_set(&d, TC_ENOMEM, "out of memory");
	if (rc) {
		cli_audit_abandon(a);
		ret = src_fail(rc, &d, "source add");
		free(out);
		goto out;
	}
	reg_source_wipe(out);
	char detail[REG_SOURCE_URL_MAX + 256];
	snprintf(detail, sizeof detail, "%s %s format %s collection %s every %llds%s", out->name,
	         out->url, out->format, out->collection, (long long)out->every_s,
	         out->auth[0] || s->auth[0] ? " auth header set" : "");
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "source.add", .org = out->org_name,
	                                              .detail = detail },
	                       CLI_EXIT_OK);
	cli_fprintf(stdout, "%s: %s as %s into %s, every %llds\n", out->name, out->format,
	            out->org_name, out->collection, (long long)out->every_s);
	free(out);
	ret = cli_finish_stdout(ret);
out:
	if (st)
		store_close(st);
	if (r)
		registry_close(r);
	reg_source_wipe(s);
	free(s);
	return ret;
}

static int
src_change(const char *dir, const char *name, bool run, long wait_s)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct reg_source *s = calloc(1, sizeof *s);
	struct diag d;
	enum tcerr rc;
	int ret;
	if (!s) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	if ((ret = src_open(dir, &r, NULL))) {
		free(s);
		return ret;
	}
	if ((ret = cli_audit_open(dir, &a))) {
		registry_close(r);
		free(s);
		return ret;
	}
	diag_clear(&d);
	rc = registry_source_get(r, name, s, &d);
	if (!rc)
		rc = run ? registry_source_request(r, name, s, &d) : registry_source_remove(r, name, &d);
	reg_source_wipe(s);
	if (rc) {
		registry_close(r);
		cli_audit_abandon(a);
		free(s);
		return src_fail(rc, &d, name);
	}
	char detail[REG_SOURCE_URL_MAX + 128];
	snprintf(detail, sizeof detail, "%s %s", s->name, s->url);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = run ? "source.run" : "source.remove",
	                                              .org = s->org_name, .detail = detail },
	                       CLI_EXIT_OK);
	if (!run) {
		cli_fprintf(stdout, "%s: removed\n", name);
	} else if (wait_s <= 0) {
		cli_fprintf(stdout, "%s: asked tocsind to pull now\n", name);
	} else {
		int64_t want = s->requested, deadline = ts_now_us() + (int64_t)wait_s * 1000000;
		bool done = false;
		while (!done && ts_now_us() < deadline) {
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			diag_clear(&d);
			if (registry_source_get(r, name, s, &d) != TC_OK)
				break;
			reg_source_wipe(s);
			done = s->served >= want;
		}
		if (!done) {
			cli_err("%s: no pull within %ld s (is tocsind running with [sources] enabled?)",
			        name, wait_s);
			ret = CLI_EXIT_USAGE;
		} else {
			cli_fprintf(stdout, "%s: %s, %llu entries (added %llu, expired %llu, rejected "
			                    "%llu)%s%s\n",
			            name, s->result, (unsigned long long)s->entries,
			            (unsigned long long)s->added, (unsigned long long)s->expired,
			            (unsigned long long)s->rejected, s->last_error[0] ? ": " : "",
			            strcmp(s->result, "error") == 0 ? s->last_error : "");
			if (strcmp(s->result, "error") == 0)
				ret = CLI_EXIT_USAGE;
		}
	}
	registry_close(r);
	free(s);
	return cli_finish_stdout(ret);
}

/* true when a tocsind holds the data directory's pid lock; *pid its pid. */
static bool
daemon_running(const char *dir, long *pid)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", hub_default_dir(dir), PID_FILE);
	if (n < 0 || (size_t)n >= sizeof path)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	bool held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	*pid = held ? (long)fl.l_pid : 0;
	close(fd);
	return held;
}

static enum tcerr
here_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res,
            struct diag *d)
{
	return hub_ingest_items(ctx, items, n, res, d);
}

/* tocsin source run NAME --here: the pull tocsind would make, in this
 * process, over the hub opened here (one thread: hub_ingest_items). */
static int
src_here(const char *dir, const char *name, const char *config)
{
	struct conf conf;
	struct diag d;
	struct hub *hub = NULL;
	struct registry *r = NULL;
	struct reg_snapshot *snap = NULL;
	struct audit *a = NULL;
	struct reg_source *s = calloc(1, sizeof *s);
	long pid = 0;
	int ret = CLI_EXIT_OK;
	enum tcerr rc;

	if (!s) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	conf_defaults(&conf);
	diag_clear(&d);
	if (config && *config && conf_load(&conf, config, &d) != TC_OK) {
		cli_err("%s", d.msg);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (daemon_running(dir, &pid)) {
		cli_err("tocsind (pid %ld) serves %s: 'tocsin source run %s' asks it to pull", pid,
		        hub_default_dir(dir), name);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((ret = cli_open_hub(dir, &hub)))
		goto out;
	hub_set_widest_prefix(hub, conf.widest_prefix_v4, conf.widest_prefix_v6);
	diag_clear(&d);
	if ((rc = registry_open(hub_default_dir(dir), &r, &d)) ||
	    (rc = reg_snapshot_build(r, hub_store(hub), &snap, &d)) ||
	    (rc = registry_source_get(r, name, s, &d))) {
		ret = src_fail(rc, &d, name);
		goto out;
	}
	if ((ret = cli_audit_open_writer(dir, hub_store(hub), &a)))
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_err("libcurl: cannot initialise");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	struct source_env env = {
		.reg = r, .store = hub_store(hub), .obs = hub_obs_ctx(hub), .id_key = hub_id_key(hub),
		.id_key_len = HUB_ID_KEY_LEN, .snap = snap, .audit = a,
		.fetch = { .allow_http = conf.source_allow_http,
		           .allow_private = conf.source_allow_private, .ca_file = conf.source_ca_file,
		           .connect_timeout_ms = conf.source_connect_timeout_ms,
		           .timeout_ms = conf.source_timeout_ms, .max_bytes = conf.source_max_bytes },
		.max_entries = conf.source_max_entries, .misp_max_events = conf.source_misp_max_events,
		.ingest = here_ingest, .ingest_ctx = hub,
	};
	uint64_t added = 0;
	diag_clear(&d);
	rc = source_pull(&env, s, &added, &d);
	curl_global_cleanup();
	if (!rc) {
		/* what tocsind's writer does within a quarter of a second: the
		 * decisions of entries that expired go now */
		struct diag md;
		diag_clear(&md);
		enum tcerr m = hub_decisions_maintain(hub, 0, NULL, &md);
		if (m && m != TC_EUNSUPPORTED)
			cli_err("decisions: %s", md.msg);
	}
	reg_source_wipe(s);
	if (rc) {
		cli_audit_abandon(a);
		a = NULL;
		ret = src_fail(rc, &d, name);
		goto out;
	}
	char detail[REG_SOURCE_URL_MAX + 128];
	snprintf(detail, sizeof detail, "%s %s here: %s", s->name, s->url, s->result);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "source.run", .org = s->org_name,
	                                              .detail = detail },
	                       CLI_EXIT_OK);
	a = NULL;
	bool failed = strcmp(s->result, "error") == 0;
	cli_fprintf(stdout, "%s: %s, %llu entries (added %llu, expired %llu, rejected %llu)%s%s\n",
	            name, s->result, (unsigned long long)s->entries, (unsigned long long)added,
	            (unsigned long long)(strcmp(s->result, "ok") == 0 ? s->expired : 0),
	            (unsigned long long)(strcmp(s->result, "ok") == 0 ? s->rejected : 0),
	            failed ? ": " : "", failed ? s->last_error : "");
	if (failed && ret == CLI_EXIT_OK)
		ret = CLI_EXIT_USAGE;
	ret = cli_finish_stdout(ret);
out:
	if (a)
		cli_audit_abandon(a);
	if (snap)
		reg_snapshot_unref(snap);
	if (r)
		registry_close(r);
	if (hub)
		hub_close(hub);
	reg_source_wipe(s);
	free(s);
	return ret;
}

static const struct option src_longopts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "org", required_argument, NULL, 'o' },
	{ "collection", required_argument, NULL, 'c' },
	{ "every", required_argument, NULL, 'e' },
	{ "tlp", required_argument, NULL, OPT_TLP },
	{ "confidence", required_argument, NULL, OPT_CONF },
	{ "expiry", required_argument, NULL, OPT_EXPIRY },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "comment", required_argument, NULL, OPT_COMMENT },
	{ "delimiter", required_argument, NULL, OPT_DELIM },
	{ "no-header", no_argument, NULL, OPT_NOHEADER },
	{ "auth-header-file", required_argument, NULL, OPT_AUTH },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "wait", required_argument, NULL, 'w' },
	{ "here", no_argument, NULL, OPT_HERE },
	{ "json", no_argument, NULL, 'j' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_source(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct add_opts o = { .config = getenv("TOCSIN_CONFIG") };
	const char *dir = NULL, *wait = NULL;
	bool json = false, add_opts = false, here = false;
	struct diag d;
	int c, ret = CLI_EXIT_OK;

	buf_init(&o.options, REG_SOURCE_OPTIONS_MAX + 1);
	while ((c = cli_getopt(cmd, argc, argv, ":f:o:c:e:w:jd:h", src_longopts)) != -1) {
		if (c != 'j' && c != 'd' && c != 'h' && c != 'w' && c != OPT_CONFIG && c != OPT_HERE &&
		    c != -1)
			add_opts = true;
		switch (c) {
		case 'f': o.format = optarg; break;
		case 'o': o.org = optarg; break;
		case 'c': o.collection = optarg; break;
		case 'e': o.every = optarg; break;
		case OPT_TLP: o.tlp = optarg; break;
		case OPT_CONF: o.confidence = optarg; break;
		case OPT_EXPIRY: o.expiry = optarg; break;
		case OPT_COLUMN:
			diag_clear(&d);
			if (source_opts_column(optarg, &o.options, &d)) {
				ret = cli_usage_error(cmd, "%s", d.msg);
				goto out;
			}
			break;
		case OPT_COMMENT: o.comment = optarg; break;
		case OPT_DELIM: o.delimiter = optarg; break;
		case OPT_NOHEADER: o.no_header = true; break;
		case OPT_AUTH: o.auth_file = optarg; break;
		case OPT_CONFIG: o.config = optarg; break;
		case 'w': wait = optarg; break;
		case OPT_HERE: here = true; break;
		case 'j': json = true; break;
		case 'd': dir = optarg; break;
		case 'h': cli_print_usage(cmd, stdout); goto out;
		default: ret = CLI_EXIT_USAGE; goto out;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos < 1) {
		ret = cli_usage_error(cmd, "a subcommand is needed: add, list, status, remove, run");
		goto out;
	}
	const char *sub = pos[0];
	bool is_add = strcmp(sub, "add") == 0;
	if (!is_add && add_opts) {
		ret = cli_usage_error(cmd, "--format, --org, --collection and the other settings "
		                           "belong to 'source add'");
		goto out;
	}
	if (json && strcmp(sub, "list") != 0 && strcmp(sub, "status") != 0) {
		ret = cli_usage_error(cmd, "--json belongs to 'list' and 'status'");
		goto out;
	}
	if ((wait || here) && strcmp(sub, "run") != 0) {
		ret = cli_usage_error(cmd, "--wait and --here belong to 'run'");
		goto out;
	}
	if (wait && here) {
		ret = cli_usage_error(cmd, "--here pulls at once: --wait is for a running tocsind");
		goto out;
	}
	if (is_add) {
		if (npos != 3) {
			ret = cli_usage_error(cmd, "'source add' takes NAME and URL");
			goto out;
		}
		ret = src_add(cmd, dir, pos[1], pos[2], &o);
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "status") == 0) {
		bool status = sub[0] == 's';
		if (npos > (status ? 2 : 1)) {
			ret = cli_usage_error(cmd, status ? "'source status' takes at most one NAME"
			                                  : "'source list' takes no argument");
			goto out;
		}
		ret = src_list(dir, json, status, npos == 2 ? pos[1] : NULL);
	} else if (strcmp(sub, "remove") == 0 || strcmp(sub, "run") == 0) {
		if (npos != 2) {
			ret = cli_usage_error(cmd, "'source %s' takes one NAME", sub);
			goto out;
		}
		long w = 0;
		if (wait) {
			char *end;
			errno = 0;
			w = strtol(wait, &end, 10);
			if (errno || end == wait || *end || w < 1 || w > 3600) {
				ret = cli_usage_error(cmd, "--wait: 1 to 3600 seconds");
				goto out;
			}
		}
		if (here)
			ret = src_here(dir, pos[1], o.config);
		else
			ret = src_change(dir, pos[1], sub[1] == 'u', w);
	} else {
		ret = cli_usage_error(cmd, "unknown subcommand '%s' (add, list, status, remove, run)",
		                      sub);
	}
out:
	buf_reset(&o.options);
	return ret;
}
