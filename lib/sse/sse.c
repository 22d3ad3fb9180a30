/*
 * sse.c — the bounded Server-Sent Events parser (see sse.h).
 *
 * Invariant: p->line never holds more than max_event bytes and p->data
 * never more than max_event + 1 (the "\n" after the last data line is
 * appended and removed at dispatch), whatever the server sends; the first
 * error is sticky.
 */
#include "sse/sse.h"

#include <string.h>

static const char bom[] = "\xEF\xBB\xBF";

void
sse_init(struct sse_parser *p, size_t max_event)
{
	memset(p, 0, sizeof *p);
	p->max_event = max_event ? max_event : SSE_EVENT_MAX_DEFAULT;
	buf_init(&p->line, p->max_event);
	buf_init(&p->data, p->max_event + 1);
	p->retry_ms = -1;
}

void
sse_reset(struct sse_parser *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
}

/* Dispatches the event gathered so far (§9.2.6 "dispatch the event"). */
static enum tcerr
dispatch(struct sse_parser *p, sse_cb cb, void *ctx)
{
	enum tcerr rc = TC_OK;
	if (p->has_data) {
		struct sse_event ev = {
			.name = p->name_len ? slice_make(p->name, p->name_len) : slice_from_cstr("message"),
			.data = slice_make(p->data.p ? p->data.p : "", p->data.len ? p->data.len - 1 : 0),
			.has_id = p->has_id,
			.id = slice_make(p->id, p->id_len),
		};
		rc = cb(ctx, &ev);
	}
	buf_clear(&p->data);
	p->has_data = false;
	p->has_id = false;
	p->name_len = 0;
	return rc;
}

/* One complete line, without its end. */
static enum tcerr
line(struct sse_parser *p, const char *s, size_t n, sse_cb cb, void *ctx, struct diag *d)
{
	if (n == 0)
		return dispatch(p, cb, ctx);
	if (s[0] == ':') {
		p->comments++;
		return TC_OK;
	}
	const char *colon = memchr(s, ':', n);
	size_t flen = colon ? (size_t)(colon - s) : n;
	const char *v = colon ? colon + 1 : s + n;
	size_t vlen = colon ? n - flen - 1 : 0;
	if (vlen && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (flen == 5 && memcmp(s, "event", 5) == 0) {
		if (vlen > SSE_NAME_MAX)
			return diag_set(d, TC_ELIMIT, "event stream: an event name is longer than %d bytes",
			                SSE_NAME_MAX);
		memcpy(p->name, v, vlen);
		p->name[vlen] = '\0';
		p->name_len = vlen;
	} else if (flen == 4 && memcmp(s, "data", 4) == 0) {
		buf_append(&p->data, v, vlen);
		buf_append_char(&p->data, '\n');
		if (buf_error(&p->data) == TC_ELIMIT)
			return diag_set(d, TC_ELIMIT, "event stream: an event's data is larger than %zu "
			                              "bytes", p->max_event);
		if (buf_error(&p->data))
			return diag_set(d, TC_ENOMEM, "event stream: out of memory");
		p->has_data = true;
	} else if (flen == 2 && memcmp(s, "id", 2) == 0) {
		if (memchr(v, '\0', vlen))
			return TC_OK; /* the standard ignores such an id */
		if (vlen > SSE_ID_MAX)
			return diag_set(d, TC_ELIMIT, "event stream: an id is longer than %d bytes",
			                SSE_ID_MAX);
		memcpy(p->id, v, vlen);
		p->id[vlen] = '\0';
		p->id_len = vlen;
		p->has_id = true;
	} else if (flen == 5 && memcmp(s, "retry", 5) == 0) {
		int64_t ms = 0;
		size_t i = 0;
		for (; i < vlen && v[i] >= '0' && v[i] <= '9' && ms < INT32_MAX; i++)
			ms = ms * 10 + (v[i] - '0');
		if (vlen && i == vlen)
			p->retry_ms = ms;
	}
	/* any other field is ignored */
	return TC_OK;
}

enum tcerr
sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_cb cb, void *ctx,
         struct diag *d)
{
	if (p->err)
		return diag_set(d, p->err, "event stream: the parser failed earlier");
	size_t i = 0;
	if (!p->started) {
		/* a BOM may only open the stream; it can arrive split */
		while (i < n && p->line.len < 3 && (unsigned char)bytes[i] == (unsigned char)bom[p->line.len]) {
			buf_append_char(&p->line, bytes[i]);
			i++;
		}
		if (p->line.len == 3) {
			buf_clear(&p->line);
			p->started = true;
		} else if (i < n) {
			/* not a BOM after all: what was held is ordinary bytes */
			p->started = true;
		} else {
			return TC_OK; /* all so far could still be a BOM */
		}
	}
	while (i < n) {
		if (p->cr) {
			p->cr = false;
			if (bytes[i] == '\n') {
				i++;
				continue;
			}
		}
		const char *s = bytes + i;
		size_t left = n - i, k = 0;
		while (k < left && s[k] != '\n' && s[k] != '\r')
			k++;
		enum tcerr rc = TC_OK;
		if (k == left) {
			buf_append(&p->line, s, k);
			if (buf_error(&p->line))
				rc = diag_set(d, buf_error(&p->line) == TC_ELIMIT ? TC_ELIMIT : TC_ENOMEM,
				              "event stream: a line is longer than %zu bytes", p->max_event);
			i = n;
		} else {
			if (s[k] == '\r')
				p->cr = true;
			if (p->line.len) {
				buf_append(&p->line, s, k);
				if (buf_error(&p->line))
					rc = diag_set(d, buf_error(&p->line) == TC_ELIMIT ? TC_ELIMIT : TC_ENOMEM,
					              "event stream: a line is longer than %zu bytes",
					              p->max_event);
				else
					rc = line(p, p->line.p, p->line.len, cb, ctx, d);
				buf_clear(&p->line);
			} else if (k > p->max_event) {
				rc = diag_set(d, TC_ELIMIT, "event stream: a line is longer than %zu bytes",
				              p->max_event);
			} else {
				rc = line(p, s, k, cb, ctx, d);
			}
			i += k + 1;
		}
		if (rc) {
			p->err = rc;
			return rc;
		}
	}
	return TC_OK;
}
