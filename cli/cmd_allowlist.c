/*
 * cmd_allowlist.c — `tocsin allowlist list|add|remove`: the values never
 * exported for blocking (lib/index/allowlist.h).
 *
 * The built-in entries ship with tocsin and cannot be removed; the local
 * ones live in DATA/allowlist.txt, one "VALUE # REASON" a line, which
 * this command edits (a person may too). A built-in entry is taken out
 * locally by an exception ("!VALUE # REASON", `add --except`), which wins
 * over it. Invariant: the file is replaced atomically (a temporary file
 * renamed over it), and only by a text that loads whole, so a running
 * tocsind — which re-reads the file within a second of a change, or on
 * SIGHUP — never sees half a file nor one it would refuse. Each change is
 * audited.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_audit.h"
#include "cmd.h"
#include "util/buf.h"

const char cmd_allowlist_usage[] =
	"usage: tocsin allowlist list [--data DIR] [--json]\n"
	"       tocsin allowlist add [--data DIR] [--kind KIND] [--except] VALUE --reason TEXT\n"
	"       tocsin allowlist remove [--data DIR] [--kind KIND] VALUE\n"
	"\n"
	"The allowlist holds values an enforcement point must never block (public\n"
	"resolvers, private ranges, popular domains...). Exports leave them out\n"
	"(and a network holding one), and publishing one is accepted with a\n"
	"warning. Built-in entries ship with tocsin; local ones are kept in\n"
	"DATA/allowlist.txt, which a running tocsind re-reads within a second of a\n"
	"change (and on SIGHUP).\n"
	"\n"
	"  list     every entry, built-in ones marked 'built-in', local ones with\n"
	"           their file; exceptions start with '!'\n"
	"  add      adds VALUE (normalised as for matching; refused with the reason\n"
	"           if it is no observable) with the reason why it must not be\n"
	"           blocked. With --except, VALUE and what lies under it are taken\n"
	"           out of a wider entry instead: the only way to unlist a built-in\n"
	"           entry locally\n"
	"  remove   removes the local entries of VALUE (allow or exception);\n"
	"           built-in entries cannot be removed (see add --except)\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR     data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -k, --kind KIND    VALUE's kind (default: guessed, as tocsin match does)\n"
	"  -r, --reason TEXT  why (one line; required by add)\n"
	"  -x, --except       add an exception\n"
	"  -j, --json         list as one JSON array of {kind, value, reason,\n"
	"                     exception, builtin, source}\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 done, 2 usage error, bad value or nothing to remove.\n";

struct al_args {
	const char *dir, *kind_name, *reason, *value;
	bool except, json, have_kind;
	enum obs_kind kind;
	char path[4096];
};

static const struct obs_ctx no_key = { .card_key = NULL };

static const struct allowlist_normalizer normalizer = { &no_key, obs_classify, obs_normalize,
	                                                obs_kind_parse };

/* ---- list ---- */

static int
al_list(const struct al_args *a)
{
	struct hub *h = NULL;
	int rc = cli_open_hub(a->dir, &h);
	if (rc != CLI_EXIT_OK)
		return rc;
	const struct allowlist *al = hub_allowlist(h);
	struct allowlist_entry e;
	json_t *arr = a->json ? json_array() : NULL;
	if (a->json && !arr) {
		hub_close(h);
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; allowlist_entry_at(al, i, &e); i++) {
		if (arr) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:s}", "kind", obs_kind_name(e.kind),
			                      "value", e.value, "reason", e.reason, "exception",
			                      e.exception, "builtin", e.builtin, "source", e.source);
			if (!o || json_array_append_new(arr, o)) {
				json_decref(arr);
				hub_close(h);
				cli_err("out of memory");
				return CLI_EXIT_USAGE;
			}
			continue;
		}
		printf("%-9s %-12s %s%-32s %s%s%s\n", e.builtin ? "built-in" : "local",
		       obs_kind_name(e.kind), e.exception ? "!" : "", e.value, e.reason,
		       e.builtin ? "" : "  ", e.builtin ? "" : e.source);
	}
	if (arr) {
		char *s = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		if (!s) {
			hub_close(h);
			cli_err("out of memory");
			return CLI_EXIT_USAGE;
		}
		printf("%s\n", s);
		free(s);
	}
	hub_close(h);
	return cli_finish_stdout(CLI_EXIT_OK);
}

/* ---- the file ---- */

/* Reads DATA/allowlist.txt into text (empty when absent). */
static int
read_file(const char *path, struct buf *text)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return CLI_EXIT_OK;
		cli_err("%s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(text, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	if (bad || buf_error(text)) {
		cli_err("%s: %s", path, bad ? "cannot read" : tcerr_str(buf_error(text)));
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Checks that text loads whole as an allowlist file, then replaces path
 * with it atomically. */
static int
write_file(const char *path, struct slice text)
{
	struct allowlist *al = NULL;
	struct diag d;
	char tmp[4096 + 16];
	int fd, n;

	diag_clear(&d);
	if (allowlist_new(&al) || allowlist_load_buf(al, &normalizer, path, text, &d)) {
		allowlist_free(al);
		cli_err("%s", d.msg[0] ? d.msg : "out of memory");
		return CLI_EXIT_USAGE;
	}
	allowlist_free(al);
	n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		cli_err("%s: path too long", path);
		return CLI_EXIT_USAGE;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		cli_err("%s: %s", tmp, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t off = 0;
	while (off < text.len) {
		ssize_t w = write(fd, text.p + off, text.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != text.len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		cli_err("%s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Normalises a->value (as a->kind if given). OUT: val (NUL-terminated),
 * *kind. */
static int
normalise(const struct al_args *a, struct buf *val, enum obs_kind *kind, const char *verb)
{
	struct diag d;
	enum tcerr rc;
	diag_clear(&d);
	if (a->have_kind) {
		*kind = a->kind;
		rc = obs_normalize(&no_key, a->kind, slice_from_cstr(a->value), val, &d);
	} else {
		rc = obs_classify(&no_key, slice_from_cstr(a->value), kind, val, &d);
	}
	if (!rc)
		rc = buf_error(val);
	if (rc) {
		cli_err("allowlist %s: '%s': %s", verb, a->value, d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	buf_append_char(val, '\0');
	return buf_error(val) ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* Writes the new file text, audited: the log is opened first (a damaged
 * log stops the change), the entry appended after the file is in place. */
static int
write_audited(const struct al_args *a, struct slice text, const char *action,
              const char *detail)
{
	struct audit *au = NULL;
	int rc = cli_audit_open(a->dir, &au);
	if (rc != CLI_EXIT_OK)
		return rc;
	if ((rc = write_file(a->path, text)) != CLI_EXIT_OK) {
		cli_audit_abandon(au);
		return rc;
	}
	return cli_audit_commit(au, &(struct audit_entry){ .action = action, .detail = detail },
	                        CLI_EXIT_OK);
}

/* ---- add ---- */

static int
al_add(const struct al_args *a)
{
	struct buf val, text, lval, lwhy;
	enum obs_kind kind;
	struct diag d;
	int rc;

	if (!a->reason)
		return cli_err("allowlist add: --reason TEXT is required: say why VALUE must "
		               "never be blocked"),
		       CLI_EXIT_USAGE;
	struct slice why = slice_trim(slice_from_cstr(a->reason));
	if (why.len == 0 || memchr(why.p, '\n', why.len) || memchr(why.p, '\r', why.len))
		return cli_err("allowlist add: --reason must be one line of text"), CLI_EXIT_USAGE;
	buf_init(&val, OBS_VALUE_MAX * 4);
	buf_init(&text, ALLOWLIST_MAX_FILE);
	buf_init(&lval, OBS_VALUE_MAX * 4);
	buf_init(&lwhy, ALLOWLIST_MAX_LINE + 64);
	if ((rc = normalise(a, &val, &kind, "add")) != CLI_EXIT_OK)
		goto out;
	/* an entry that would keep everything from being blocked */
	struct obs_ctx widest = { .widest_prefix_v4 = 1, .widest_prefix_v6 = 1 };
	diag_clear(&d);
	if (obs_breadth_check(&widest, kind, slice_from_cstr(val.p), &d)) {
		cli_err("allowlist add: %s", d.msg);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = read_file(a->path, &text)) != CLI_EXIT_OK)
		goto out;
	/* the same value listed already */
	long lineno = 0;
	for (size_t i = 0; i < text.len;) {
		const char *nl = memchr(text.p + i, '\n', text.len - i);
		size_t len = nl ? (size_t)(nl - text.p - i) : text.len - i;
		struct allowlist_line line;
		lineno++;
		diag_clear(&d);
		if (allowlist_parse_line(&normalizer, a->path, lineno, slice_make(text.p + i, len),
		                         &line, &lval, &lwhy, &d) == TC_OK &&
		    line.value && line.kind == kind && strcmp(line.value, val.p) == 0) {
			cli_err("allowlist add: %s is already on the local allowlist (%s:%ld%s%s); "
			        "remove it first to change it",
			        val.p, a->path, lineno, line.reason ? ": " : "",
			        line.reason ? line.reason : "");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		i += len + 1;
	}
	if (text.len && text.p[text.len - 1] != '\n')
		buf_append_char(&text, '\n');
	buf_printf(&text, "%s%s%s%s # %.*s\n", a->except ? "!" : "",
	           a->have_kind ? obs_kind_name(kind) : "", a->have_kind ? " " : "", val.p,
	           (int)why.len, why.p);
	if (buf_error(&text)) {
		cli_err("%s: %s", a->path, tcerr_str(buf_error(&text)));
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	char what[1024];
	snprintf(what, sizeof what, "%s%s (%s): %.*s", a->except ? "!" : "", val.p,
	         obs_kind_name(kind), (int)why.len, why.p);
	rc = write_audited(a, buf_slice(&text), "allowlist.add", what);
	if (rc == CLI_EXIT_USAGE)
		goto out;
	printf("added %s%s (%s) to %s\n", a->except ? "exception !" : "", val.p, obs_kind_name(kind),
	       a->path);
out:
	buf_reset(&val);
	buf_reset(&text);
	buf_reset(&lval);
	buf_reset(&lwhy);
	return cli_finish_stdout(rc);
}

/* ---- remove ---- */

static int
al_remove(const struct al_args *a)
{
	struct buf val, text, out, lval, lwhy;
	struct allowlist *builtin = NULL;
	enum obs_kind kind;
	struct diag d;
	size_t removed = 0;
	int rc;

	buf_init(&val, OBS_VALUE_MAX * 4);
	buf_init(&text, ALLOWLIST_MAX_FILE);
	buf_init(&out, ALLOWLIST_MAX_FILE);
	buf_init(&lval, OBS_VALUE_MAX * 4);
	buf_init(&lwhy, ALLOWLIST_MAX_LINE + 64);
	if ((rc = normalise(a, &val, &kind, "remove")) != CLI_EXIT_OK)
		goto done;
	if ((rc = read_file(a->path, &text)) != CLI_EXIT_OK)
		goto done;
	long lineno = 0;
	for (size_t i = 0; i < text.len;) {
		const char *nl = memchr(text.p + i, '\n', text.len - i);
		size_t len = nl ? (size_t)(nl - text.p - i) : text.len - i;
		struct allowlist_line line;
		lineno++;
		diag_clear(&d);
		/* a line that does not parse is kept as it is */
		if (allowlist_parse_line(&normalizer, a->path, lineno, slice_make(text.p + i, len),
		                         &line, &lval, &lwhy, &d) == TC_OK &&
		    line.value && line.kind == kind && strcmp(line.value, val.p) == 0) {
			removed++;
		} else {
			buf_append(&out, text.p + i, len);
			if (nl)
				buf_append_char(&out, '\n');
		}
		i += len + 1;
	}
	if (!removed) {
		struct allowlist_hit hit;
		if (allowlist_new(&builtin) == TC_OK && allowlist_add_defaults(builtin) == TC_OK &&
		    allowlist_check_block(builtin, kind, slice_from_cstr(val.p), &hit) &&
		    hit.how == ALLOWLIST_COVERED) {
			if (strcmp(hit.entry.value, val.p) == 0)
				cli_err("allowlist remove: %s is a built-in entry (%s); built-in entries "
				        "cannot be removed: 'tocsin allowlist add --except %s --reason "
				        "TEXT' takes it out locally",
				        val.p, hit.entry.reason, val.p);
			else
				cli_err("allowlist remove: %s is not on the local allowlist; the "
				        "built-in entry %s (%s) covers it: 'tocsin allowlist add "
				        "--except %s --reason TEXT' takes it out locally",
				        val.p, hit.entry.value, hit.entry.reason, val.p);
		} else {
			cli_err("allowlist remove: %s is not on the local allowlist (%s)", val.p,
			        a->path);
		}
		rc = CLI_EXIT_USAGE;
		goto done;
	}
	if (buf_error(&out)) {
		cli_err("%s: %s", a->path, tcerr_str(buf_error(&out)));
		rc = CLI_EXIT_USAGE;
		goto done;
	}
	char what[1024];
	snprintf(what, sizeof what, "%s (%s): %zu local %s", val.p, obs_kind_name(kind), removed,
	         removed == 1 ? "entry" : "entries");
	rc = write_audited(a, buf_slice(&out), "allowlist.remove", what);
	if (rc == CLI_EXIT_USAGE)
		goto done;
	printf("removed %s (%zu %s) from %s\n", val.p, removed, removed == 1 ? "entry" : "entries",
	       a->path);
done:
	allowlist_free(builtin);
	buf_reset(&val);
	buf_reset(&text);
	buf_reset(&out);
	buf_reset(&lval);
	buf_reset(&lwhy);
	return cli_finish_stdout(rc);
}

int
cmd_allowlist(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "kind", required_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'r' },
		{ "except", no_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct al_args a = { 0 };
	struct stat st;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":d:k:r:xjh", longopts)) != -1) {
		switch (c) {
		case 'd':
			a.dir = optarg;
			break;
		case 'k':
			if (!cli_parse_kind(cmd, optarg, &a.kind))
				return CLI_EXIT_USAGE;
			a.have_kind = true;
			break;
		case 'r':
			a.reason = optarg;
			break;
		case 'x':
			a.except = true;
			break;
		case 'j':
			a.json = true;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos == 0)
		return cli_usage_error(cmd, "missing subcommand (list, add or remove)");
	const char *sub = pos[0];
	bool list = strcmp(sub, "list") == 0, add = strcmp(sub, "add") == 0,
	     rem = strcmp(sub, "remove") == 0;
	if (!list && !add && !rem)
		return cli_usage_error(cmd, "unknown subcommand '%s' (list, add or remove)", sub);
	if (list) {
		if (npos > 1)
			return cli_usage_error(cmd, "list takes no VALUE");
		if (a.reason || a.except || a.have_kind)
			return cli_usage_error(cmd, "list takes only --data and --json");
		return al_list(&a);
	}
	if (npos != 2)
		return cli_usage_error(cmd, "%s takes one VALUE", sub);
	if (a.json)
		return cli_usage_error(cmd, "--json is for list");
	if (rem && (a.reason || a.except))
		return cli_usage_error(cmd, "remove takes no --reason or --except");
	a.value = pos[1];
	const char *dir = hub_default_dir(a.dir);
	int n = snprintf(a.path, sizeof a.path, "%s/tocsin.db", dir);
	if (n < 0 || (size_t)n >= sizeof a.path || stat(a.path, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	snprintf(a.path, sizeof a.path, "%s/%s", dir, HUB_ALLOWLIST_FILE);
	return add ? al_add(&a) : al_remove(&a);
}
