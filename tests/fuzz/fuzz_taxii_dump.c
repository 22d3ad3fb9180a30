/*
 * fuzz_taxii_dump.c — libFuzzer target for the medallion dump parser
 * (import_dump_parse; no store involved).
 *
 * Parses the input twice: with the default limits, and with small ones
 * so every limit path is reached. On success it checks the invariants the
 * ingest step relies on: every collection id is a lower-case UUID and
 * unique, every alias is a valid store alias, every item either has a
 * reason or is a JSON object without "__meta", items are in date_added
 * order with undated ones last, and every place names the file. On
 * failure there must be a message and no dump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"

static void
check_alias(const char *a)
{
	size_t n = strlen(a);
	if (n == 0 || n > IMPORT_DUMP_ALIAS_MAX - 5)
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
		if (!ok)
			abort();
	}
	if (a[n - 1] == '-')
		abort();
}

static void
check(const struct import_dump *dump)
{
	char where[IMPORT_WHERE_MAX];

	for (size_t i = 0; i < dump->ncols; i++) {
		const struct import_dump_collection *c = &dump->cols[i];
		if (strlen(c->uuid) != 36 || strspn(c->uuid, "0123456789abcdef-") != 36)
			abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(dump->cols[k].uuid, c->uuid) == 0)
				abort();
		check_alias(c->alias);
		if (!c->title || !c->description || !c->api_root)
			abort();
	}
	size_t rejected = 0;
	for (size_t i = 0; i < dump->nitems; i++) {
		const struct import_dump_item *it = &dump->items[i];
		if (it->collection >= dump->ncols)
			abort();
		const char *why = import_dump_why(dump, i);
		if (why) {
			rejected++;
			if (!why[0] || it->obj)
				abort();
		} else if (!json_is_object(it->obj) || json_object_get(it->obj, "__meta")) {
			abort();
		}
		if ((it->date_added_us == 0) != (it->date_from == IMPORT_DATE_NONE))
			abort();
		if (i > 0) {
			const struct import_dump_item *p = &dump->items[i - 1];
			if (p->date_added_us == 0 && it->date_added_us != 0)
				abort();
			if (it->date_added_us != 0 && p->date_added_us > it->date_added_us)
				abort();
		}
		import_dump_where(dump, i, where);
		if (strncmp(where, "fuzz.json: ", 11) != 0)
			abort();
	}
	if (rejected != dump->nrejected)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct import_dump_opts small = {
		.max_bytes = 4096, .max_depth = 12, .max_api_roots = 3,
		.max_collections = 4, .max_objects = 8, .max_manifest = 8,
	};
	const struct import_dump_opts *opts[] = {NULL, &small};
	struct slice in = slice_make((const char *)data, size);

	for (size_t k = 0; k < 2; k++) {
		struct import_dump *dump = NULL;
		struct diag d;
		enum tcerr rc = import_dump_parse("fuzz.json", in, opts[k], &dump, &d);
		if (rc == TC_OK) {
			if (!dump)
				abort();
			check(dump);
			import_dump_free(dump);
		} else if (dump || !d.msg[0]) {
			abort();
		}
	}
	return 0;
}
