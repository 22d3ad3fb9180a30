/*
 * import_taxii_dump_registry.c — recording in the registry what a
 * medallion dump says beyond its objects: API roots with their
 * information, which root each new collection belongs to, its rights, and
 * the status resources (import.h, import_dump_register()).
 *
 * Kept apart from the parser (which links without a registry) and from
 * the store part. Invariant: nothing already in the registry is changed —
 * a root of the same name, a reused collection's root and rights keep
 * what they had — except a status resource of the same id, which the
 * file's copy replaces (both are the same medallion status).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "registry/registry.h"
#include "util/timestamp.h"

_Static_assert(IMPORT_DUMP_ROOT_NAME_MAX == REG_API_ROOT_NAME_MAX, "root names fit the registry");

/* Copies at most max bytes of s into out, never cutting a UTF-8 sequence. */
static void
cut(const char *s, size_t max, char *out)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

enum tcerr
import_dump_register(struct registry *r, const struct import_dump *dump, const bool *created,
                     struct import_dump_reg_totals *t, struct diag *d)
{
	enum tcerr rc;
	int64_t now = ts_now_us();

	diag_clear(d);
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < dump->napi_roots; i++) {
		const struct import_dump_root *dr = &dump->roots[i];
		struct reg_api_root ar = {.max_content_length = dr->max_content_length};
		bool made;
		cut(dr->name, REG_API_ROOT_NAME_MAX, ar.name);
		cut(dr->title, STORE_TITLE_MAX, ar.title);
		cut(dr->description, STORE_DESCRIPTION_MAX, ar.description);
		if ((rc = registry_api_root_ensure(r, &ar, &made, d))) {
			diag_prefix(d, "%s: %s", dump->name, dr->name);
			return rc;
		}
		if (made)
			t->roots_created++;
		else
			t->roots_kept++;
	}
	for (size_t i = 0; i < dump->ncols; i++) {
		const struct import_dump_collection *c = &dump->cols[i];
		if (!created || !created[i])
			continue;
		/* medallion answers can_read/can_write alike to every
		 * authenticated user: `all` is every principal here (roles
		 * still apply: a reader never writes) */
		if ((rc = registry_collection_root_set(r, c->uuid, c->api_root, d)) ||
		    (rc = registry_rights_set(r, c->uuid, c->can_read ? "all" : "none",
		                              c->can_write ? "all" : "none", d))) {
			diag_prefix(d, "%s: collection %s", dump->name, c->uuid);
			return rc;
		}
		t->rights_set++;
	}
	for (size_t i = 0; i < dump->nstatuses; i++) {
		const struct import_dump_status *s = &dump->statuses[i];
		char key[sizeof(REG_STATUS_IMPORTED_PREFIX) + REG_API_ROOT_NAME_MAX + 40];
		int n = snprintf(key, sizeof(key), REG_STATUS_IMPORTED_PREFIX "%s/%s",
		                 dump->roots[s->root].name, s->id);
		if (n < 0 || (size_t)n >= sizeof(key))
			return diag_set(d, TC_EINTERNAL, "status %s: key too long", s->id);
		char *text = json_dumps(s->obj, JSON_COMPACT);
		if (!text)
			return diag_set(d, TC_ENOMEM, "out of memory");
		rc = registry_status_put(r, key, now, text, strlen(text), d);
		free(text);
		if (rc) {
			diag_prefix(d, "%s: %s/status/%s", dump->name, dump->roots[s->root].name,
			            s->id);
			return rc;
		}
		t->statuses++;
	}
	return TC_OK;
}
