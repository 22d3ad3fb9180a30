/*
 * log.c — JSON-lines logging for tocsind (see log.h).
 *
 * Invariant: every line written is one complete JSON object followed by a
 * newline, written by a single write(2) under log_mu; field values are
 * escaped by buf_append_json_str, so no input can break a line.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = CONF_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void
log_set_level(enum conf_log_level level)
{
	atomic_store(&log_level, (int)level);
}

bool
log_enabled(enum conf_log_level level)
{
	return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void
log_begin(struct logline *l, enum conf_log_level level, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char ts[40];

	l->on = log_enabled(level);
	buf_init(&l->b, LOG_LINE_MAX);
	if (!l->on)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	buf_printf(&l->b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts,
	           (long)(tv.tv_usec / 1000), conf_log_level_name(level));
	buf_append_json_str(&l->b, slice_from_cstr(msg));
}

void
log_strn(struct logline *l, const char *key, const char *value, size_t len)
{
	if (!l->on)
		return;
	if (len > LOG_LINE_MAX / 2)
		len = LOG_LINE_MAX / 2;
	buf_printf(&l->b, ",\"%s\":", key);
	if (value)
		buf_append_json_str(&l->b, slice_make(value, len));
	else
		buf_append_cstr(&l->b, "null");
}

void
log_str(struct logline *l, const char *key, const char *value)
{
	log_strn(l, key, value, value ? strlen(value) : 0);
}

void
log_int(struct logline *l, const char *key, int64_t value)
{
	if (l->on)
		buf_printf(&l->b, ",\"%s\":%lld", key, (long long)value);
}

void
log_bool(struct logline *l, const char *key, bool value)
{
	if (l->on)
		buf_printf(&l->b, ",\"%s\":%s", key, value ? "true" : "false");
}

void
log_end(struct logline *l)
{
	if (l->on) {
		buf_append_cstr(&l->b, "}\n");
		if (buf_error(&l->b) == TC_OK) {
			pthread_mutex_lock(&log_mu);
			size_t off = 0;
			while (off < l->b.len) {
				ssize_t w = write(STDERR_FILENO, l->b.p + off, l->b.len - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += (size_t)w;
			}
			pthread_mutex_unlock(&log_mu);
		}
	}
	buf_reset(&l->b);
}

void
log_simple(enum conf_log_level level, const char *msg)
{
	struct logline l;
	log_begin(&l, level, msg);
	log_end(&l);
}

void
log_error(const char *msg, const char *error)
{
	struct logline l;
	log_begin(&l, CONF_LOG_ERROR, msg);
	log_str(&l, "error", error);
	log_end(&l);
}
