/*
 * cli_util.c — shared helpers of the tocsin commands: messages, usage,
 * getopt_long wrapper, data directory opening and the progress bar.
 *
 * Invariant: errors go to stderr prefixed "tocsin: ", results to stdout;
 * the progress bar is only ever drawn on a terminal and is erased before
 * any other stderr line so the two never interleave.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include "cli_util.h"
#include "registry/registry.h"
#include "registry/registry_fp.h"
#include "util/timestamp.h"
#include "util/text.h"

mode_t cli_user_umask = 022;

const struct cli_cmd *
cli_find_command(const char *name)
{
	for (const struct cli_cmd *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cli_esc_append(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t run = 0, k;
		while (i + run < len && (k = text_printable_len(s + i + run, len - i - run)))
			run += k;
		if (run) {
			buf_append(b, p + i, run);
			i += run;
			continue;
		}
		switch (p[i]) {
		case '\n':
			buf_append_cstr(b, "\\n");
			break;
		case '\r':
			buf_append_cstr(b, "\\r");
			break;
		case '\t':
			buf_append_cstr(b, "\\t");
			break;
		default: {
			char e[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
			buf_append(b, e, sizeof e);
		}
		}
		i++;
	}
}

const char *
cli_esc(const char *s)
{
	static struct buf ring[CLI_ESC_RING];
	static bool ready;
	static unsigned next;

	if (!ready) {
		for (size_t i = 0; i < CLI_ESC_RING; i++)
			buf_init(&ring[i], 0);
		ready = true;
	}
	struct buf *b = &ring[next++ % CLI_ESC_RING];
	buf_clear(b);
	cli_esc_append(b, s ? s : "", s ? strlen(s) : 0);
	if (b->err)
		return "(out of memory)";
	return b->p ? b->p : "";
}

/* Formats fmt into a buffer and writes it escaped to f (a final newline
 * kept as it is). */
__attribute__((format(printf, 3, 0))) static void
esc_vfprintf(FILE *f, const char *prefix, const char *fmt, va_list ap, bool newline)
{
	struct buf raw, out;
	buf_init(&raw, 0);
	buf_init(&out, 0);
	buf_vprintf(&raw, fmt, ap);
	size_t n = raw.len;
	bool nl = n && raw.p[n - 1] == '\n';
	if (nl)
		n--;
	cli_esc_append(&out, raw.p ? raw.p : "", n);
	if (prefix)
		fputs(prefix, f);
	if (out.p && !out.err)
		fwrite(out.p, 1, out.len, f);
	else
		fputs("(message lost: out of memory)", f);
	if (nl || newline)
		fputc('\n', f);
	buf_reset(&raw);
	buf_reset(&out);
}

void
cli_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	esc_vfprintf(f, NULL, fmt, ap, false);
	va_end(ap);
}

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	esc_vfprintf(stderr, "tocsin: ", fmt, ap, true);
	va_end(ap);
}

void
cli_print_usage(const struct cli_cmd *cmd, FILE *f)
{
	fputs(cmd->usage, f);
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	esc_vfprintf(stderr, "tocsin: ", fmt, ap, true);
	va_end(ap);
	cli_print_usage(cmd, stderr);
	return CLI_EXIT_USAGE;
}

int
cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, const char *shortopts,
           const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	/* getopt_long leaves the offending word at optind - 1. */
	const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (c == ':')
		cli_usage_error(cmd, "option '%s' needs an argument", word);
	else if (optopt)
		cli_usage_error(cmd, "unknown option '-%c'", optopt);
	else
		cli_usage_error(cmd, "unknown option '%s'", word);
	return '?';
}

/* The indicators held for false positives (registry_fp.h), into h, so
 * that what this command appends or exports treats them as tocsind does.
 * A data directory without a registry holds none. */
static enum tcerr
cli_load_holds(const char *dir, struct hub *h, struct diag *d)
{
	char db[PATH_MAX];
	struct stat st;
	int n = snprintf(db, sizeof db, "%s/registry.db", dir);
	if (n < 0 || (size_t)n >= sizeof db || stat(db, &st) != 0)
		return TC_OK;
	struct registry *r = NULL;
	char **ids = NULL;
	size_t k = 0;
	enum tcerr rc = registry_open(dir, &r, d);
	if (!rc)
		rc = registry_fp_held(r, &ids, &k, d);
	if (!rc)
		rc = hub_holds_set(h, (const char *const *)ids, k, NULL, d);
	for (size_t i = 0; i < k; i++)
		free(ids[i]);
	free(ids);
	registry_close(r);
	return rc;
}

int
cli_open_hub(const char *dir, struct hub **out)
{
	struct diag d;
	const char *path = hub_default_dir(dir);
	enum tcerr rc;

	diag_clear(&d);
	rc = hub_open(path, out, &d);
	if (rc == TC_OK && (rc = cli_load_holds(path, *out, &d)) != TC_OK) {
		hub_close(*out);
		*out = NULL;
	}
	if (rc == TC_OK)
		return CLI_EXIT_OK;
	if (rc == TC_ENOTFOUND)
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", path);
	else if (d.msg[0])
		cli_err("%s", d.msg);
	else
		cli_err("%s: %s", path, tcerr_str(rc));
	*out = NULL;
	return CLI_EXIT_USAGE;
}

bool
cli_parse_kind(const struct cli_cmd *cmd, const char *name, enum obs_kind *out)
{
	if (obs_kind_parse(slice_from_cstr(name), out) == TC_OK)
		return true;
	fprintf(stderr, "tocsin: unknown kind '%s'; kinds are:", cli_esc(name));
	for (int k = 1; k <= OBS_KIND_MAX; k++)
		fprintf(stderr, " %s", obs_kind_name((enum obs_kind)k));
	fputc('\n', stderr);
	cli_print_usage(cmd, stderr);
	return false;
}

bool
cli_write(FILE *f, const void *p, size_t len)
{
	if (len == 0 || fwrite(p, 1, len, f) == len)
		return true;
	return false;
}

int
cli_finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_err("stdout: %s", strerror(errno ? errno : EIO));
		return CLI_EXIT_USAGE;
	}
	return rc;
}

/* Progress bar ---------------------------------------------------------- */

void
cli_progress_start(struct cli_progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO) == 1;
	p->label = label;
	p->total = total;
}

static void
progress_draw(struct cli_progress *p)
{
	char bar[CLI_PROGRESS_WIDTH + 1];
	size_t filled = 0;

	if (p->total && p->done <= p->total)
		filled = (size_t)(p->done * CLI_PROGRESS_WIDTH / p->total);
	for (size_t i = 0; i < CLI_PROGRESS_WIDTH; i++)
		bar[i] = i < filled ? '#' : (p->total ? '.' : ' ');
	bar[CLI_PROGRESS_WIDTH] = '\0';
	if (p->total)
		fprintf(stderr, "\r%s [%s] %3u%% %llu objects", cli_esc(p->label), bar,
		        (unsigned)(p->done * 100 / (p->total ? p->total : 1)),
		        (unsigned long long)p->objects);
	else
		fprintf(stderr, "\r%s %llu MB %llu objects", cli_esc(p->label),
		        (unsigned long long)(p->done >> 20), (unsigned long long)p->objects);
	fflush(stderr);
	p->drawn = true;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t objects)
{
	int64_t now;

	p->done = done;
	p->objects = objects;
	if (!p->tty)
		return;
	if (p->total <= CLI_PROGRESS_MIN_BYTES && done <= CLI_PROGRESS_MIN_BYTES)
		return;
	now = ts_now_us();
	if (p->drawn && now - p->last_draw_us < CLI_PROGRESS_INTERVAL_US)
		return;
	p->last_draw_us = now;
	progress_draw(p);
}

void
cli_progress_clear(struct cli_progress *p)
{
	if (!p->drawn)
		return;
	/* Return to the start of the line and erase it (ECMA-48 EL). */
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
	p->last_draw_us = 0;
}

void
cli_progress_end(struct cli_progress *p)
{
	cli_progress_clear(p);
}
