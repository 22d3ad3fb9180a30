/*
 * log.h — tocsind's structured logs: one JSON object per line on stderr.
 *
 * Every line has "ts" (RFC 3339 UTC, milliseconds), "level" and "msg",
 * then the fields the caller adds, in order. A line is built in a buffer
 * and written with one write(2) under a lock, so lines from request
 * threads never interleave. Tests read the first "msg":"listening" line to
 * learn the port (PLAN3).
 */
#ifndef TOCSIN_DAEMON_LOG_H
#define TOCSIN_DAEMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf.h"
#include "util/buf.h"

#define LOG_LINE_MAX 8192   /* bytes of one line; longer field values are cut */

struct logline {
	struct buf b;
	bool on;                /* false: below the level, every call is a no-op */
};

/* Sets the lowest level written (default info). */
void log_set_level(enum conf_log_level level);
bool log_enabled(enum conf_log_level level);

/* log_begin, any number of log_str/log_int/log_bool, then log_end, which
 * writes the line and frees the buffer. */
void log_begin(struct logline *l, enum conf_log_level level, const char *msg);
void log_str(struct logline *l, const char *key, const char *value);
void log_strn(struct logline *l, const char *key, const char *value, size_t len);
void log_int(struct logline *l, const char *key, int64_t value);
void log_bool(struct logline *l, const char *key, bool value);
void log_end(struct logline *l);

/* One-liners: a message without fields, or with one "error" field. */
void log_simple(enum conf_log_level level, const char *msg);
void log_error(const char *msg, const char *error);

#endif
