/*
 * import_taxii_dump_hub.c — storing a parsed medallion dump through the
 * hub: collections by their original id, versions with their original
 * date_added (import.h).
 *
 * Kept apart from the parser so that the parser (and its fuzz target)
 * links without a store. Invariant: every item of the dump is counted
 * exactly once — imported, duplicate or rejected — and the totals only
 * ever count what a durable batch committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hub/hub.h"
#include "import.h"

_Static_assert(IMPORT_DUMP_ALIAS_MAX == STORE_ALIAS_MAX, "aliases fit the store");

/* Copies at most max bytes of s into out, never cutting a UTF-8
 * sequence (TAXII titles are free text; the store caps their length). */
static void
utf8_cut(const char *s, size_t max, char *out)
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

/* Finds the store's collection with this uuid, else creates it under the
 * first free alias of c->alias, c->alias-2, ... OUT: *sc, *created. */
static enum tcerr
collection_ensure(struct store *s, const struct import_dump_collection *c,
                  struct store_collection *sc, bool *created, struct diag *d)
{
	char title[STORE_TITLE_MAX + 1], desc[STORE_DESCRIPTION_MAX + 1];
	char alias[STORE_ALIAS_MAX + 1];
	enum tcerr rc;

	*created = false;
	rc = store_collection_find(s, c->uuid, sc);
	/* find also matches aliases: only the same uuid counts as "this one". */
	if (rc == TC_OK && strcasecmp(sc->uuid, c->uuid) == 0)
		return TC_OK;
	if (rc != TC_OK && rc != TC_ENOTFOUND)
		return diag_set(d, rc, "collection %s: %s", c->uuid, tcerr_str(rc));
	utf8_cut(c->title, STORE_TITLE_MAX, title);
	utf8_cut(c->description, STORE_DESCRIPTION_MAX, desc);
	for (int k = 1; k <= IMPORT_DUMP_ALIAS_TRIES; k++) {
		int n = k == 1 ? snprintf(alias, sizeof(alias), "%s", c->alias)
		               : snprintf(alias, sizeof(alias), "%s-%d", c->alias, k);
		if (n < 0 || (size_t)n >= sizeof(alias))
			return diag_set(d, TC_EINTERNAL, "collection %s: alias too long", c->uuid);
		struct diag cd;
		diag_clear(&cd);
		rc = store_collection_add(s, alias, c->uuid, title, desc, sc, &cd);
		if (rc == TC_OK) {
			*created = true;
			return TC_OK;
		}
		if (rc != TC_EEXIST)
			return diag_set(d, rc, "collection %s: %s", c->uuid,
			                cd.msg[0] ? cd.msg : tcerr_str(rc));
	}
	return diag_set(d, TC_EEXIST, "collection %s: aliases '%s' to '%s-%d' are all taken",
	                c->uuid, c->alias, c->alias, IMPORT_DUMP_ALIAS_TRIES);
}

/* Stores items [from, to) of the dump (all accepted at parse). */
static enum tcerr
batch_flush(struct hub *h, const struct import_dump *dump, const int64_t *nums,
            const size_t *idx, size_t n, struct hub_item *hi, char (*wheres)[IMPORT_WHERE_MAX],
            struct hub_result *res, const struct import_dump_ingest_cbs *cbs,
            struct import_dump_totals *t, struct diag *d)
{
	enum tcerr rc;

	if (n == 0)
		return TC_OK;
	for (size_t k = 0; k < n; k++) {
		const struct import_dump_item *it = &dump->items[idx[k]];
		import_dump_where(dump, idx[k], wheres[k]);
		hi[k] = (struct hub_item){
			.obj = it->obj,
			.path = wheres[k],
			.collection = nums[it->collection],
			.producer = 0,
			.date_added_us = it->date_added_us,
		};
	}
	rc = hub_ingest_items(h, hi, n, res, d);
	if (rc)
		return rc;
	for (size_t k = 0; k < n; k++) {
		switch (res[k].verdict) {
		case HUB_ACCEPTED:
			t->imported++;
			if (!dump->items[idx[k]].date_added_us)
				t->undated++;
			break;
		case HUB_DUPLICATE:
			t->duplicates++;
			break;
		default:
			t->rejected++;
			if (cbs && cbs->reject)
				cbs->reject(cbs->ctx, wheres[k],
				            res[k].why[0] ? res[k].why : tcerr_str(res[k].rc));
		}
	}
	return TC_OK;
}

enum tcerr
import_dump_ingest(struct hub *h, const struct import_dump *dump,
                   const struct import_dump_ingest_cbs *cbs, struct import_dump_totals *t,
                   struct diag *d)
{
	struct store *s = hub_store(h);
	int64_t *nums = NULL;
	size_t *idx = NULL;
	struct hub_item *hi = NULL;
	char (*wheres)[IMPORT_WHERE_MAX] = NULL;
	struct hub_result *res = NULL;
	size_t n = 0;
	enum tcerr rc = TC_OK;

	diag_clear(d);
	memset(t, 0, sizeof(*t));
	nums = calloc(dump->ncols ? dump->ncols : 1, sizeof(*nums));
	idx = calloc(IMPORT_DUMP_BATCH, sizeof(*idx));
	hi = calloc(IMPORT_DUMP_BATCH, sizeof(*hi));
	wheres = calloc(IMPORT_DUMP_BATCH, sizeof(*wheres));
	res = calloc(IMPORT_DUMP_BATCH, sizeof(*res));
	if (!nums || !idx || !hi || !wheres || !res) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}

	/* Collections first, in file order: a version can only go where
	 * its collection exists. */
	for (size_t i = 0; i < dump->ncols; i++) {
		struct store_collection sc;
		bool created;
		if ((rc = collection_ensure(s, &dump->cols[i], &sc, &created, d)))
			goto out;
		nums[i] = sc.num;
		if (created)
			t->created++;
		else
			t->reused++;
		if (cbs && cbs->collection)
			cbs->collection(cbs->ctx, &dump->cols[i], sc.alias, created);
	}

	/* Then the versions, in date_added order (the dump's order). */
	for (size_t i = 0; i < dump->nitems; i++) {
		const char *why = import_dump_why(dump, i);
		if (why) {
			t->rejected++;
			if (cbs && cbs->reject) {
				char where[IMPORT_WHERE_MAX];
				import_dump_where(dump, i, where);
				cbs->reject(cbs->ctx, where, why);
			}
			continue;
		}
		idx[n++] = i;
		if (n == IMPORT_DUMP_BATCH) {
			if ((rc = batch_flush(h, dump, nums, idx, n, hi, wheres, res, cbs, t, d)))
				goto out;
			n = 0;
		}
	}
	rc = batch_flush(h, dump, nums, idx, n, hi, wheres, res, cbs, t, d);
out:
	free(nums);
	free(idx);
	free(hi);
	free(wheres);
	free(res);
	return rc;
}
