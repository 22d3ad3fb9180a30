/*
 * registry_bouncer.c — how far each CrowdSec-compatible bouncer has been
 * served (see registry.h): one row per key id in registry.db's settings
 * table.
 *
 * Invariant: a stored cursor only grows (the write is a conditional
 * upsert inside one statement), so answers that complete out of order
 * never move a bouncer back to positions it was already given.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "registry/registry_internal.h"

static enum tcerr
cursor_key(const char *key_id, char out[sizeof REG_BOUNCER_CURSOR_PREFIX + REG_KEY_ID_LEN],
           struct diag *d)
{
	size_t n = key_id ? strlen(key_id) : 0;
	if (n == 0 || n > REG_KEY_ID_LEN ||
	    strspn(key_id, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return diag_set(d, TC_EINVAL, "not a key id");
	snprintf(out, sizeof REG_BOUNCER_CURSOR_PREFIX + REG_KEY_ID_LEN, "%s%s",
	         REG_BOUNCER_CURSOR_PREFIX, key_id);
	return TC_OK;
}

enum tcerr
registry_bouncer_cursor_get(struct registry *r, const char *key_id, uint64_t *seq, bool *found,
                            struct diag *d)
{
	char key[sizeof REG_BOUNCER_CURSOR_PREFIX + REG_KEY_ID_LEN];
	sqlite3_stmt *st = NULL;
	enum tcerr t;

	*seq = 0;
	*found = false;
	if ((t = cursor_key(key_id, key, d)))
		return t;
	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r), "SELECT value FROM settings WHERE key = ?", -1, &st,
	                            NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		if (v && v[0] && strspn((const char *)v, "0123456789") == strlen((const char *)v) &&
		    strlen((const char *)v) <= 19) {
			uint64_t x = 0;
			for (const unsigned char *p = v; *p; p++)
				x = x * 10 + (uint64_t)(*p - '0');
			*seq = x;
			*found = true;
		}
	} else if (rc != SQLITE_DONE) {
		t = reg__dberr(r, rc, d);
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}

enum tcerr
registry_bouncer_cursor_advance(struct registry *r, const char *key_id, uint64_t seq,
                                struct diag *d)
{
	char key[sizeof REG_BOUNCER_CURSOR_PREFIX + REG_KEY_ID_LEN];
	char val[24];
	enum tcerr t;

	if ((t = cursor_key(key_id, key, d)))
		return t;
	if (seq > INT64_MAX)
		return diag_set(d, TC_EINVAL, "position out of range");
	snprintf(val, sizeof val, "%" PRIu64, seq);
	return reg__setting_forward(r, key, val, true, d);
}
