/*
 * cmd_match.c — `tocsin match`: look values up in the match index.
 *
 * Each value (argument, or line of stdin with --stdin) gives exactly one
 * line on stdout when it is an observable — a hit or a miss, how it
 * matched, the indicator ids and whether it is allowlisted — and one line
 * on stderr when it is not. Lines come in input order, and with --stdin
 * each answer is written as soon as its line is read, so the command can
 * sit in a pipeline as a filter.
 */
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
	"       tocsin match [--data DIR] [--json] [--kind KIND] --stdin\n"
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
	"  -h, --help        show this help\n"
	"\n"
	"Exit status: 0 every value was looked up, 1 some value was not an\n"
	"observable (the reason is on stderr), 2 usage or fatal error.\n";

/* Longest line read with --stdin; longer lines are reported and skipped. */
#define MATCH_LINE_MAX (OBS_VALUE_MAX * 2)

static const char *
how_name(enum index_how how)
{
	switch (how) {
	case INDEX_EXACT:
		return "exact";
	case INDEX_CIDR:
		return "cidr";
	case INDEX_PARENT_DOMAIN:
		return "parent-domain";
	}
	return "unknown";
}

static const char *
via_name(enum hub_via via)
{
	switch (via) {
	case HUB_VIA_VALUE:
		return "value";
	case HUB_VIA_URL_HOST:
		return "url-host";
	case HUB_VIA_EMAIL_DOMAIN:
		return "email-domain";
	}
	return "unknown";
}

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
		buf_append_cstr(b, how_name(h->how));
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
	buf_printf(b, ",\"how\":\"%s\",\"via\":\"%s\",\"matched\":", how_name(h->how),
	           via_name(h->via));
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

struct match_run {
	struct hub *hub;
	const struct reg_snapshot *snap;  /* producer names; NULL: numbers */
	bool json;
	const enum obs_kind *kind;
	struct buf out;
	struct hub_match m;
	size_t invalid;
	enum tlp_level default_tlp;  /* what an unmarked indicator counts as */
};

/* Looks one value up and prints its line. Returns CLI_EXIT_OK, or
 * CLI_EXIT_USAGE on a fatal error (database, memory, output). */
static int
match_one(struct match_run *r, struct slice value)
{
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

static int
match_stdin(struct match_run *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = CLI_EXIT_OK;
	struct stat st;
	/* A file on disk has no one waiting for each answer: buffer them. */
	bool flush_each = fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode);

	while ((n = getline(&line, &cap, stdin)) != -1) {
		struct slice v = slice_trim(slice_make(line, (size_t)n));
		lineno++;
		if (v.len == 0 || v.p[0] == '#')
			continue;
		if (v.len > MATCH_LINE_MAX) {
			r->invalid++;
			cli_err("stdin:%ld: line longer than %d bytes", lineno, MATCH_LINE_MAX);
			continue;
		}
		rc = match_one(r, v);
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
	if (rc == CLI_EXIT_OK && ferror(stdin)) {
		cli_err("stdin: %s", strerror(errno));
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct match_run r;
	const char *dir = NULL;
	enum obs_kind kind;
	bool from_stdin = false;
	int c, rc;

	memset(&r, 0, sizeof(r));
	while ((c = cli_getopt(cmd, argc, argv, ":d:jk:sh", longopts)) != -1) {
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
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc && !from_stdin)
		return cli_usage_error(cmd, "no VALUE given (or --stdin)");

	rc = cli_open_hub(dir, &r.hub);
	if (rc != CLI_EXIT_OK)
		return rc;
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
	if (rc == CLI_EXIT_OK && from_stdin)
		rc = match_stdin(&r);
	buf_reset(&r.out);
	if (snap)
		reg_snapshot_unref(snap);
	registry_close(reg);
	hub_close(r.hub);
	if (rc == CLI_EXIT_OK && r.invalid)
		rc = CLI_EXIT_PROBLEMS;
	return cli_finish_stdout(rc);
}
