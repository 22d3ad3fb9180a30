/*
 * diag.c — error detail messages with a fixed-size, always-terminated buffer.
 */
#include <stdio.h>
#include <string.h>

#include "diag.h"

void
diag_clear(struct diag *d)
{
	if (!d)
		return;
	d->msg[0] = '\0';
	d->line = 0;
	d->column = 0;
}

static void
diag_mark_truncated(struct diag *d, int n)
{
	if (n >= DIAG_MSG_MAX)
		memcpy(d->msg + DIAG_MSG_MAX - 4, "...", 4);
}

enum tcerr
diag_vset(struct diag *d, enum tcerr rc, const char *fmt, va_list ap)
{
	if (!d)
		return rc;
	int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	if (n < 0)
		d->msg[0] = '\0';
	else
		diag_mark_truncated(d, n);
	return rc;
}

enum tcerr
diag_set(struct diag *d, enum tcerr rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vset(d, rc, fmt, ap);
	va_end(ap);
	return rc;
}

void
diag_prefix(struct diag *d, const char *fmt, ...)
{
	char pre[DIAG_MSG_MAX], old[DIAG_MSG_MAX];
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	memcpy(old, d->msg, sizeof(old));
	n = snprintf(d->msg, sizeof(d->msg), "%s: %s", pre, old);
	if (n > 0)
		diag_mark_truncated(d, n);
}
