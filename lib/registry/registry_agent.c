/*
 * registry_agent.c — the receipts of tocsin-agents (docs/agent.md): for
 * each key of role agent, the log position its enforcement point last
 * reported applied, when it applied it (the agent's clock) and when the
 * hub heard it (the hub's clock). One row per key id in registry.db's
 * settings table, "agent_receipt:KEY_ID" = "POSITION APPLIED_US
 * RECEIVED_US", as the bouncer cursors (registry_bouncer.c) are kept.
 *
 * Invariant: a stored position only grows (a conditional upsert in one
 * statement), so a late receipt never moves an agent back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

static enum tcerr
receipt_key(const char *key_id, char out[sizeof REG_AGENT_RECEIPT_PREFIX + REG_KEY_ID_LEN],
            struct diag *d)
{
	size_t n = key_id ? strlen(key_id) : 0;
	if (n == 0 || n > REG_KEY_ID_LEN ||
	    strspn(key_id, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
		return diag_set(d, TC_EINVAL, "not a key id");
	snprintf(out, sizeof REG_AGENT_RECEIPT_PREFIX + REG_KEY_ID_LEN, "%s%s",
	         REG_AGENT_RECEIPT_PREFIX, key_id);
	return TC_OK;
}

enum tcerr
registry_agent_receipt_put(struct registry *r, const char *key_id,
                           const struct reg_agent_receipt *rc_in, struct diag *d)
{
	char key[sizeof REG_AGENT_RECEIPT_PREFIX + REG_KEY_ID_LEN];
	char val[80];
	enum tcerr t;

	if ((t = receipt_key(key_id, key, d)))
		return t;
	if (rc_in->position > INT64_MAX || rc_in->applied_us < 0 || rc_in->received_us < 0)
		return diag_set(d, TC_EINVAL, "receipt out of range");
	snprintf(val, sizeof val, "%" PRIu64 " %" PRId64 " %" PRId64, rc_in->position,
	         rc_in->applied_us, rc_in->received_us);
	return reg__setting_forward(r, key, val, false, d);
}

static bool
parse_receipt(const char *v, struct reg_agent_receipt *out)
{
	char *end;
	unsigned long long p = strtoull(v, &end, 10);
	if (end == v || *end != ' ')
		return false;
	long long a = strtoll(end + 1, &end, 10);
	if (*end != ' ')
		return false;
	long long b = strtoll(end + 1, &end, 10);
	if (*end)
		return false;
	out->position = p;
	out->applied_us = a;
	out->received_us = b;
	return true;
}

enum tcerr
registry_agent_receipts(struct registry *r, size_t max,
                        enum tcerr (*cb)(void *ctx, const char *key_id,
                                         const struct reg_agent_receipt *rc),
                        void *ctx, struct diag *d)
{
	sqlite3_stmt *st = NULL;
	enum tcerr t = TC_OK;
	size_t n = 0;

	pthread_mutex_lock(reg__mu(r));
	int rc = sqlite3_prepare_v2(reg__db(r),
	                            "SELECT substr(key, ?1), value FROM settings WHERE key >= ?2 "
	                            "AND key < ?3 ORDER BY key",
	                            -1, &st, NULL);
	if (rc) {
		t = reg__dberr(r, rc, d);
		goto out;
	}
	sqlite3_bind_int(st, 1, (int)strlen(REG_AGENT_RECEIPT_PREFIX) + 1);
	sqlite3_bind_text(st, 2, REG_AGENT_RECEIPT_PREFIX, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, "agent_receipt;", -1, SQLITE_STATIC); /* ':' + 1 */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		struct reg_agent_receipt x;
		if (!k || !v || !parse_receipt(v, &x))
			continue;
		n++;
		if ((t = cb(ctx, k, &x)))
			goto out;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		t = reg__dberr(r, rc, d);
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(reg__mu(r));
	return t;
}
