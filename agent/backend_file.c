/*
 * backend_file.c — the file backends: an RPZ zone, a Suricata dataset, a
 * Zeek intel file, a plain list or an ipset restore file, written from the
 * agent's whole set with lib/export's decision writers (the same formats
 * `tocsin export` and GET /api/v1/export give).
 *
 * A burst marks the file dirty; tick() rewrites it once debounce_ms have
 * passed since the last rewrite, to PATH.tmp, fsync'd, renamed over PATH,
 * so a reader sees the old file or the new one and never a half. Then the
 * reload command, if any, runs (`/bin/sh -c COMMAND`, waited for); a
 * failure of either is the agent's last error and the file stays dirty,
 * so the next tick tries again.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "export/export_dec.h"
#include "util/timestamp.h"

extern char **environ;

struct filebk {
	struct agent_file_conf c;
	enum export_format format;
	bool dirty;
	int64_t last_us;
	uint64_t position;
};

struct sink {
	int fd;
	int err;
};

static enum tcerr
sink_write(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;
	while (n) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->err = errno ? errno : EIO;
			return TC_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return TC_OK;
}

static enum tcerr
rewrite(struct filebk *f, const struct agent_set *s, struct diag *d)
{
	char tmp[AGENT_CONF_VALUE_MAX + 16];
	const struct agent_entry **v = NULL;
	size_t n = 0;
	struct export_dec_writer *w = NULL;
	struct export_dec_opts o;
	struct sink sk = { -1, 0 };
	enum tcerr t;

	snprintf(tmp, sizeof tmp, "%s.tmp", f->c.path);
	if (agent_set_sorted(s, &v, &n))
		return diag_set(d, TC_ENOMEM, "out of memory");
	memset(&o, 0, sizeof o);
	o.format = f->format;
	o.part = f->c.part[0] ? f->c.part : NULL;
	o.position = f->position;
	sk.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (sk.fd < 0) {
		t = diag_set(d, TC_EIO, "[file %s] %s: %s", f->c.name, tmp, strerror(errno));
		goto out;
	}
	if ((t = export_dec_writer_new(&o, sink_write, &sk, &w, d)))
		goto out;
	for (size_t i = 0; i < n && !t; i++) {
		struct feed_decision dec = {
			.kind = v[i]->kind,
			.value = slice_make(v[i]->value, v[i]->len),
			.action = v[i]->alert ? "alert" : "block",
			.until_us = v[i]->until_us,
			.confidence = v[i]->confidence,
			.tlp = v[i]->tlp,
			.reason = "published",
		};
		t = export_dec_writer_add(w, &dec, d);
	}
	if (!t)
		t = export_dec_writer_finish(w, NULL, d);
	if (t) {
		if (sk.err)
			diag_set(d, TC_EIO, "[file %s] %s: %s", f->c.name, tmp, strerror(sk.err));
		goto out;
	}
	if (fsync(sk.fd) != 0 || close(sk.fd) != 0) {
		sk.fd = -1;
		t = diag_set(d, TC_EIO, "[file %s] %s: %s", f->c.name, tmp, strerror(errno));
		goto out;
	}
	sk.fd = -1;
	if (rename(tmp, f->c.path) != 0) {
		t = diag_set(d, TC_EIO, "[file %s] %s: %s", f->c.name, f->c.path, strerror(errno));
		goto out;
	}
	if (f->c.reload[0]) {
		pid_t pid;
		char *argv[] = { "/bin/sh", "-c", f->c.reload, NULL };
		int st = 0;
		if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
			t = diag_set(d, TC_EIO, "[file %s] reload: cannot start /bin/sh", f->c.name);
			goto out;
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			t = diag_set(d, TC_EIO, "[file %s] reload command failed (status %d)",
			             f->c.name, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			goto out;
		}
	}
out:
	if (sk.fd >= 0)
		close(sk.fd);
	if (t)
		unlink(tmp);
	export_dec_writer_free(w);
	free(v);
	return t;
}

static enum tcerr
file_start(void *b, const struct agent_set *s, uint64_t position, struct diag *d)
{
	struct filebk *f = b;
	f->position = position;
	f->dirty = false;
	f->last_us = ts_now_us();
	enum tcerr t = rewrite(f, s, d);
	if (t)
		f->dirty = true;
	return t;
}

static enum tcerr
file_apply(void *b, const struct agent_changes *ch, const struct agent_set *s, struct diag *d)
{
	struct filebk *f = b;
	if (ch->n)
		f->dirty = true;
	return TC_OK;
}

static enum tcerr
file_tick(void *b, const struct agent_set *s, uint64_t position, int64_t now_us,
          struct diag *d)
{
	struct filebk *f = b;
	f->position = position;
	if (!f->dirty || now_us - f->last_us < (int64_t)f->c.debounce_ms * 1000)
		return TC_OK;
	f->last_us = now_us;
	enum tcerr t = rewrite(f, s, d);
	f->dirty = t != TC_OK;
	return t;
}

static void
file_free(void *b)
{
	free(b);
}

static const struct backend_ops file_ops = { "file", file_start, file_apply, file_tick,
	                                     file_free };

enum tcerr
backend_file_new(const struct agent_file_conf *c, struct backend *out, struct diag *d)
{
	struct filebk *f = calloc(1, sizeof *f);
	if (!f)
		return diag_set(d, TC_ENOMEM, "out of memory");
	f->c = *c;
	if (export_format_parse(c->format, &f->format) != TC_OK ||
	    !export_format_is_decisions(f->format)) {
		free(f);
		return diag_set(d, TC_EINVAL, "[file %s] format '%s' is not a decision format",
		                c->name, c->format);
	}
	if (c->part[0] && !export_dec_part_ok(f->format, c->part)) {
		free(f);
		return diag_set(d, TC_EINVAL, "[file %s] part '%s' is not one of %s", c->name,
		                c->part, c->format);
	}
	out->ops = &file_ops;
	out->b = f;
	return TC_OK;
}
