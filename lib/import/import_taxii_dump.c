/*
 * import_taxii_dump.c — reading a medallion memory-backend data file (the
 * OASIS reference TAXII 2.1 server) into collections and object versions
 * with their date_added (format: import.h).
 *
 * Invariant: import_dump_parse() either returns a dump in which every
 * collection has a valid, unique id and every item is either rejected
 * (with a reason) or a JSON object without "__meta", ordered by
 * date_added — or it returns an error and nothing. It never touches a
 * store; import_taxii_dump_hub.c does that.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "util/text.h"

/* One manifest record: what date_added medallion gave a version. */
struct mrec {
	const char *id;
	int64_t version_us;
	bool has_version;          /* false: the record names no version (any) */
	int64_t date_added_us;
};

struct dparse {
	struct import_dump *dump;
	const struct import_dump_opts *o;
	struct diag *d;
	size_t nmanifest;           /* records over every collection */
	size_t items_cap, cols_cap;
	struct mrec *recs;          /* the current collection's manifest */
	size_t nrecs, recs_cap;
	size_t st_cap;              /* of dump->statuses */
};

static void
opts_fill(const struct import_dump_opts *in, struct import_dump_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (in)
		*o = *in;
	if (!o->max_bytes)
		o->max_bytes = IMPORT_DUMP_MAX_BYTES;
	if (!o->max_depth)
		o->max_depth = IMPORT_DUMP_MAX_DEPTH;
	if (!o->max_api_roots)
		o->max_api_roots = IMPORT_DUMP_MAX_API_ROOTS;
	if (!o->max_collections)
		o->max_collections = IMPORT_DUMP_MAX_COLLECTIONS;
	if (!o->max_objects)
		o->max_objects = IMPORT_DUMP_MAX_OBJECTS;
	if (!o->max_manifest)
		o->max_manifest = IMPORT_DUMP_MAX_MANIFEST;
}

/* Sets d to "NAME: PLACE: what" and returns rc. */
static enum tcerr __attribute__((format(printf, 4, 5)))
dfail(struct dparse *p, enum tcerr rc, const char *place, const char *fmt, ...)
{
	char what[DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	if (place && *place)
		return diag_set(p->d, rc, "%s: %s: %s", p->dump->name, place, what);
	return diag_set(p->d, rc, "%s: %s", p->dump->name, what);
}

/* Writes a place into out, cut with "..." if too long. */
static void __attribute__((format(printf, 2, 3)))
place_fmt(char out[IMPORT_WHERE_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(out, IMPORT_WHERE_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		out[0] = '\0';
	else if (n >= IMPORT_WHERE_MAX)
		memcpy(out + IMPORT_WHERE_MAX - 4, "...", 4);
}

/* RFC 4122 text form (any version: medallion's own sample data has ids
 * whose version digit is not 4); copies it lower-cased. */
static bool
uuid_text(const char *u, char out[37])
{
	if (strlen(u) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		char c = u[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
		out[i] = c;
	}
	out[36] = '\0';
	return true;
}

/* A TAXII timestamp (TAXII 2.1 §2.1: RFC 3339, UTC) after the epoch: 0
 * means "none" to the store. */
static bool
date_text(const json_t *v, int64_t *us)
{
	if (!json_is_string(v))
		return false;
	struct slice s = slice_make(json_string_value(v), json_string_length(v));
	return ts_parse(s, us, NULL) == TC_OK && *us > 0;
}

void
import_dump_alias(const char *title, const char *fallback, char out[IMPORT_DUMP_ALIAS_MAX + 1])
{
	const size_t max = IMPORT_DUMP_ALIAS_MAX - 5;
	const char *src[2] = {title, fallback};
	size_t n = 0;

	for (int k = 0; k < 2 && n == 0; k++) {
		bool dash = false;
		for (const char *s = src[k]; s && *s && n < max; s++) {
			char c = *s;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				if (dash && n > 0) {
					if (n + 2 > max)
						break; /* no room for "-c": end on a whole word */
					out[n++] = '-';
				}
				dash = false;
				out[n++] = c;
			} else {
				dash = true;
			}
		}
	}
	if (n == 0) {
		memcpy(out, "collection", sizeof("collection"));
		return;
	}
	out[n] = '\0';
}

static int
mrec_cmp(const void *a, const void *b)
{
	const struct mrec *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	if (x->has_version != y->has_version)
		return x->has_version ? 1 : -1;   /* the versionless record first */
	if (x->version_us != y->version_us)
		return x->version_us < y->version_us ? -1 : 1;
	return 0;
}

static enum tcerr
mrec_add(struct dparse *p, const char *place, const char *id, bool has_version,
         int64_t version_us, int64_t date_us)
{
	if (++p->nmanifest > p->o->max_manifest)
		return dfail(p, TC_ELIMIT, place, "more than %zu manifest records in the file",
		             p->o->max_manifest);
	if (p->nrecs == p->recs_cap) {
		size_t cap = p->recs_cap ? p->recs_cap * 2 : 64;
		struct mrec *r = realloc(p->recs, cap * sizeof(*r));
		if (!r)
			return diag_set(p->d, TC_ENOMEM, "out of memory");
		p->recs = r;
		p->recs_cap = cap;
	}
	p->recs[p->nrecs++] =
	    (struct mrec){.id = id, .has_version = has_version, .version_us = version_us,
	                  .date_added_us = date_us};
	return TC_OK;
}

/* Reads a collection's "manifest" (TAXII 2.1 §3.6 manifest records as
 * medallion keeps them) into p->recs, sorted. */
static enum tcerr
manifest_read(struct dparse *p, const json_t *man, const char *cplace)
{
	char place[IMPORT_WHERE_MAX];
	size_t i;
	const json_t *r;
	enum tcerr rc;

	p->nrecs = 0;
	if (!man || json_is_null(man))
		return TC_OK;
	if (!json_is_array(man))
		return dfail(p, TC_EINVAL, cplace, "manifest: not an array");
	json_array_foreach(man, i, r) {
		int64_t date_us, v_us;
		place_fmt(place, "%s/manifest[%zu]", cplace, i);
		if (!json_is_object(r))
			return dfail(p, TC_EINVAL, place, "not an object");
		const json_t *id = json_object_get(r, "id");
		if (!json_is_string(id) ||
		    !stix_id_valid(slice_make(json_string_value(id), json_string_length(id)), NULL))
			return dfail(p, TC_EINVAL, place, "id: not a STIX identifier");
		if (!date_text(json_object_get(r, "date_added"), &date_us))
			return dfail(p, TC_EINVAL, place,
			             "date_added: not a timestamp (RFC 3339, UTC, after 1970)");
		const json_t *ver = json_object_get(r, "version");
		const json_t *vers = json_object_get(r, "versions");
		if (ver && !json_is_null(ver)) {
			if (!date_text(ver, &v_us))
				return dfail(p, TC_EINVAL, place, "version: not a timestamp");
			rc = mrec_add(p, place, json_string_value(id), true, v_us, date_us);
		} else if (vers && !json_is_null(vers)) {
			/* Older medallion files: one record per object, a list of
			 * versions sharing one date_added. */
			size_t k;
			const json_t *v;
			if (!json_is_array(vers))
				return dfail(p, TC_EINVAL, place, "versions: not an array");
			rc = TC_OK;
			json_array_foreach(vers, k, v) {
				if (!date_text(v, &v_us))
					return dfail(p, TC_EINVAL, place, "versions[%zu]: not a timestamp",
					             k);
				if ((rc = mrec_add(p, place, json_string_value(id), true, v_us, date_us)))
					break;
			}
		} else {
			rc = mrec_add(p, place, json_string_value(id), false, 0, date_us);
		}
		if (rc)
			return rc;
	}
	if (p->nrecs > 1)
		qsort(p->recs, p->nrecs, sizeof(*p->recs), mrec_cmp);
	return TC_OK;
}

/* The manifest record for (id, version): the exact one, else one that
 * names no version, else for an unversioned object (an SCO) the first of
 * its id. NULL if none. */
static const struct mrec *
manifest_find(const struct dparse *p, const char *id, bool has_version, int64_t version_us)
{
	size_t lo = 0, hi = p->nrecs;

	/* lower bound of id */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->recs[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->nrecs || strcmp(p->recs[lo].id, id) != 0)
		return NULL;
	const struct mrec *first = &p->recs[lo];
	if (!has_version)
		return first;
	for (size_t i = lo; i < p->nrecs && strcmp(p->recs[i].id, id) == 0; i++)
		if (p->recs[i].has_version && p->recs[i].version_us == version_us)
			return &p->recs[i];
	return first->has_version ? NULL : first;
}

/* An object's version as TAXII sees it (STIX 2.1 §3.2: modified, else
 * created); false for an object with neither (or unreadable ones: the
 * hub's validation reports those). */
static bool
obj_version(const json_t *obj, int64_t *us)
{
	const json_t *m = json_object_get(obj, "modified");
	if (!m)
		m = json_object_get(obj, "created");
	return m && date_text(m, us);
}

static enum tcerr
item_reject(struct dparse *p, struct import_dump_item *it, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum tcerr
item_reject(struct dparse *p, struct import_dump_item *it, const char *fmt, ...)
{
	va_list ap;

	it->obj = NULL;
	it->why = p->dump->whys.len;
	va_start(ap, fmt);
	buf_vprintf(&p->dump->whys, fmt, ap);
	va_end(ap);
	buf_append_char(&p->dump->whys, '\0');
	p->dump->nrejected++;
	if (buf_error(&p->dump->whys))
		return diag_set(p->d, buf_error(&p->dump->whys), "out of memory");
	return TC_OK;
}

/* Reads one collection's objects into items. */
static enum tcerr
objects_read(struct dparse *p, const json_t *objs, uint32_t ci, const char *cplace)
{
	struct import_dump *dump = p->dump;
	size_t i;
	json_t *obj;
	enum tcerr rc;

	if (!objs || json_is_null(objs))
		return TC_OK;
	if (!json_is_array(objs))
		return dfail(p, TC_EINVAL, cplace, "objects: not an array");
	json_array_foreach(objs, i, obj) {
		if (dump->nitems >= p->o->max_objects)
			return dfail(p, TC_ELIMIT, NULL, "more than %zu object versions in the file",
			             p->o->max_objects);
		if (i > UINT32_MAX)
			return dfail(p, TC_ELIMIT, cplace, "too many objects");
		if (dump->nitems == p->items_cap) {
			size_t cap = p->items_cap ? p->items_cap * 2 : 256;
			struct import_dump_item *n = realloc(dump->items, cap * sizeof(*n));
			if (!n)
				return diag_set(p->d, TC_ENOMEM, "out of memory");
			dump->items = n;
			p->items_cap = cap;
		}
		struct import_dump_item *it = &dump->items[dump->nitems++];
		memset(it, 0, sizeof(*it));
		it->collection = ci;
		it->index = (uint32_t)i;
		it->why = SIZE_MAX;
		dump->cols[ci].nobjects++;
		if (!json_is_object(obj)) {
			if ((rc = item_reject(p, it, "not a JSON object")))
				return rc;
			continue;
		}
		int64_t meta_us = 0;
		json_t *meta = json_object_get(obj, "__meta");
		if (meta) {
			if (!json_is_object(meta)) {
				if ((rc = item_reject(p, it, "__meta: not an object")))
					return rc;
				continue;
			}
			const json_t *da = json_object_get(meta, "date_added");
			if (da && !json_is_null(da) && !date_text(da, &meta_us)) {
				if ((rc = item_reject(p, it, "__meta.date_added: not a timestamp "
				                             "(RFC 3339, UTC, after 1970)")))
					return rc;
				continue;
			}
			/* medallion's bookkeeping, not part of the object. */
			json_object_del(obj, "__meta");
		}
		it->obj = obj;
		const json_t *id = json_object_get(obj, "id");
		int64_t v_us = 0;
		bool has_v = obj_version(obj, &v_us);
		const struct mrec *m =
		    json_is_string(id) ? manifest_find(p, json_string_value(id), has_v, v_us) : NULL;
		if (m) {
			it->date_added_us = m->date_added_us;
			it->date_from = IMPORT_DATE_MANIFEST;
		} else if (meta_us) {
			it->date_added_us = meta_us;
			it->date_from = IMPORT_DATE_META;
		}
	}
	return TC_OK;
}

static enum tcerr
opt_string(struct dparse *p, const json_t *c, const char *key, const char *cplace,
           const char **out)
{
	const json_t *v = json_object_get(c, key);
	*out = "";
	if (!v || json_is_null(v))
		return TC_OK;
	if (!json_is_string(v))
		return dfail(p, TC_EINVAL, cplace, "%s: not a string", key);
	/* titles and descriptions are printed by tocsin and served to
	 * clients: the file is refused, with the place, rather than a
	 * control character or an escape sequence stored or silently changed */
	size_t bad;
	if (!text_printable(slice_make(json_string_value(v), json_string_length(v)), &bad))
		return dfail(p, TC_EINVAL, cplace,
		             "%s: a control character or invalid UTF-8 at byte %zu (titles and "
		             "descriptions must be printable text: fix the file)",
		             key, bad);
	*out = json_string_value(v);
	return TC_OK;
}

static enum tcerr
opt_bool(struct dparse *p, const json_t *c, const char *key, const char *cplace, bool *out)
{
	const json_t *v = json_object_get(c, key);
	*out = false;
	if (!v || json_is_null(v))
		return TC_OK;
	if (!json_is_boolean(v))
		return dfail(p, TC_EINVAL, cplace, "%s: not true or false", key);
	*out = json_is_true(v);
	return TC_OK;
}

/* One collection resource (TAXII 2.1 §5.2) with medallion's additions.
 * key: the member name when collections is keyed by id, else NULL. */
static enum tcerr
collection_read(struct dparse *p, const char *root, const json_t *c, const char *key,
                const char *place)
{
	struct import_dump *dump = p->dump;
	char uuid[37], cplace[IMPORT_WHERE_MAX];
	enum tcerr rc;

	if (!json_is_object(c))
		return dfail(p, TC_EINVAL, place, "not an object");
	const json_t *id = json_object_get(c, "id");
	if (id && !json_is_null(id)) {
		if (!json_is_string(id) || !uuid_text(json_string_value(id), uuid))
			return dfail(p, TC_EINVAL, place, "id: not a UUID");
		char kuuid[37];
		if (key && (!uuid_text(key, kuuid) || strcmp(kuuid, uuid) != 0))
			return dfail(p, TC_EINVAL, place, "id: differs from the collection's key");
	} else if (!key) {
		return dfail(p, TC_EINVAL, place, "id: missing");
	} else if (!uuid_text(key, uuid)) {
		return dfail(p, TC_EINVAL, place, "key is not a UUID");
	}
	for (size_t k = 0; k < dump->ncols; k++)
		if (strcmp(dump->cols[k].uuid, uuid) == 0)
			return dfail(p, TC_EINVAL, place,
			             "collection %s is also in API root '%s'; tocsin keeps one "
			             "collection per id: split the file",
			             uuid, dump->cols[k].api_root);
	if (dump->ncols >= p->o->max_collections)
		return dfail(p, TC_ELIMIT, place, "more than %zu collections in the file",
		             p->o->max_collections);
	if (dump->ncols == p->cols_cap) {
		size_t cap = p->cols_cap ? p->cols_cap * 2 : 16;
		struct import_dump_collection *n = realloc(dump->cols, cap * sizeof(*n));
		if (!n)
			return diag_set(p->d, TC_ENOMEM, "out of memory");
		dump->cols = n;
		p->cols_cap = cap;
	}
	struct import_dump_collection *col = &dump->cols[dump->ncols];
	memset(col, 0, sizeof(*col));
	col->api_root = root;
	memcpy(col->uuid, uuid, sizeof(uuid));
	if ((rc = opt_string(p, c, "title", place, &col->title)) ||
	    (rc = opt_string(p, c, "description", place, &col->description)) ||
	    (rc = opt_bool(p, c, "can_read", place, &col->can_read)) ||
	    (rc = opt_bool(p, c, "can_write", place, &col->can_write)))
		return rc;
	const json_t *mt = json_object_get(c, "media_types");
	if (mt && !json_is_null(mt) && !json_is_array(mt))
		return dfail(p, TC_EINVAL, place, "media_types: not an array");
	char fallback[IMPORT_WHERE_MAX];
	place_fmt(fallback, "%s-%.8s", root, uuid);
	import_dump_alias(col->title, fallback, col->alias);
	uint32_t ci = (uint32_t)dump->ncols++;

	/* Items name their collection by id: stable whatever the shape. */
	place_fmt(cplace, "%s/collections/%s", root, uuid);
	if ((rc = manifest_read(p, json_object_get(c, "manifest"), cplace)))
		return rc;
	return objects_read(p, json_object_get(c, "objects"), ci, cplace);
}

/* true if name can name an API root at the hub ([a-z0-9][a-z0-9_-]*). */
static bool
root_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > IMPORT_DUMP_ROOT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_'))))
			return false;
	}
	return true;
}

/* One status resource (§4.3.1); key: its member name when "status" is
 * keyed by id, else NULL. */
static enum tcerr
status_read(struct dparse *p, uint32_t ri, const json_t *s, const char *key, const char *place)
{
	struct import_dump *dump = p->dump;
	char uuid[37];

	if (!json_is_object(s))
		return dfail(p, TC_EINVAL, place, "not an object");
	const json_t *id = json_object_get(s, "id");
	if (!json_is_string(id) || !uuid_text(json_string_value(id), uuid))
		return dfail(p, TC_EINVAL, place, "id: not a UUID");
	char kuuid[37];
	if (key && (!uuid_text(key, kuuid) || strcmp(kuuid, uuid) != 0))
		return dfail(p, TC_EINVAL, place, "id: differs from the status's key");
	if (dump->nstatuses >= IMPORT_DUMP_MAX_STATUSES)
		return dfail(p, TC_ELIMIT, place, "more than %d status resources in the file",
		             IMPORT_DUMP_MAX_STATUSES);
	if (dump->nstatuses == p->st_cap) {
		size_t cap = p->st_cap ? p->st_cap * 2 : 16;
		struct import_dump_status *n = realloc(dump->statuses, cap * sizeof(*n));
		if (!n)
			return diag_set(p->d, TC_ENOMEM, "out of memory");
		dump->statuses = n;
		p->st_cap = cap;
	}
	struct import_dump_status *st = &dump->statuses[dump->nstatuses++];
	st->root = ri;
	memcpy(st->id, uuid, sizeof(uuid));
	st->obj = s;
	return TC_OK;
}

/* One API root member: information, status, collections. */
static enum tcerr
api_root_read(struct dparse *p, const char *root, const json_t *r)
{
	char place[IMPORT_WHERE_MAX];
	enum tcerr rc;

	if (!json_is_object(r))
		return dfail(p, TC_EINVAL, root, "an API root must be an object");
	if (!root_name_ok(root))
		return dfail(p, TC_EINVAL, root,
		             "not usable as an API root name at the hub (lower-case letters, "
		             "digits, '-' and '_', starting with a letter or digit, at most %d): "
		             "rename the member",
		             IMPORT_DUMP_ROOT_NAME_MAX);
	uint32_t ri = (uint32_t)p->dump->napi_roots - 1;
	struct import_dump_root *ro = &p->dump->roots[ri];
	memset(ro, 0, sizeof(*ro));
	ro->name = root;
	ro->title = ro->description = "";
	const json_t *info = json_object_get(r, "information");
	if (info && !json_is_object(info))
		return dfail(p, TC_EINVAL, root, "information: not an object");
	if (info) {
		place_fmt(place, "%s/information", root);
		if ((rc = opt_string(p, info, "title", place, &ro->title)) ||
		    (rc = opt_string(p, info, "description", place, &ro->description)))
			return rc;
		const json_t *m = json_object_get(info, "max_content_length");
		if (m && !json_is_null(m)) {
			if (!json_is_integer(m) || json_integer_value(m) <= 0)
				return dfail(p, TC_EINVAL, place,
				             "max_content_length: not a positive integer");
			ro->max_content_length = (uint64_t)json_integer_value(m);
		}
	}
	const json_t *st = json_object_get(r, "status");
	if (st && !json_is_null(st) && !json_is_array(st) && !json_is_object(st))
		return dfail(p, TC_EINVAL, root, "status: not an array or object");
	if (json_is_array(st)) {
		size_t i;
		const json_t *s;
		json_array_foreach(st, i, s) {
			place_fmt(place, "%s/status[%zu]", root, i);
			if ((rc = status_read(p, ri, s, NULL, place)))
				return rc;
		}
	} else if (json_is_object(st)) {
		const char *key;
		const json_t *s;
		json_object_foreach((json_t *)st, key, s) {
			place_fmt(place, "%s/status/%s", root, key);
			if ((rc = status_read(p, ri, s, key, place)))
				return rc;
		}
	}
	const json_t *cols = json_object_get(r, "collections");
	if (!cols || json_is_null(cols))
		return TC_OK;
	if (json_is_array(cols)) {
		size_t i;
		const json_t *c;
		json_array_foreach(cols, i, c) {
			place_fmt(place, "%s/collections[%zu]", root, i);
			if ((rc = collection_read(p, root, c, NULL, place)))
				return rc;
		}
	} else if (json_is_object(cols)) {
		const char *key;
		const json_t *c;
		json_object_foreach((json_t *)cols, key, c) {
			place_fmt(place, "%s/collections/%s", root, key);
			if ((rc = collection_read(p, root, c, key, place)))
				return rc;
		}
	} else {
		return dfail(p, TC_EINVAL, root, "collections: not an array or object");
	}
	return TC_OK;
}

/* Date order across collections; undated versions after every dated
 * one; ties in file order (collection, then position). */
static int
item_cmp(const void *a, const void *b)
{
	const struct import_dump_item *x = a, *y = b;
	bool xd = x->date_added_us != 0, yd = y->date_added_us != 0;
	if (xd != yd)
		return xd ? -1 : 1;
	if (x->date_added_us != y->date_added_us)
		return x->date_added_us < y->date_added_us ? -1 : 1;
	if (x->collection != y->collection)
		return x->collection < y->collection ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

void
import_dump_free(struct import_dump *dump)
{
	if (!dump)
		return;
	json_decref(dump->doc);
	free(dump->name);
	free(dump->cols);
	free(dump->roots);
	free(dump->statuses);
	free(dump->items);
	buf_reset(&dump->whys);
	free(dump);
}

enum tcerr
import_dump_parse(const char *name, struct slice data, const struct import_dump_opts *in,
                  struct import_dump **out, struct diag *d)
{
	struct import_dump_opts o;
	struct dparse p;
	struct import_dump *dump;
	struct stix_limits lim;
	enum tcerr rc;

	diag_clear(d);
	*out = NULL;
	opts_fill(in, &o);
	if (!name)
		name = "dump";
	dump = calloc(1, sizeof(*dump));
	if (!dump)
		return diag_set(d, TC_ENOMEM, "out of memory");
	buf_init(&dump->whys, 0);
	dump->name = strdup(name);
	memset(&p, 0, sizeof(p));
	p.dump = dump;
	p.o = &o;
	p.d = d;
	if (!dump->name) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	if (data.len > o.max_bytes) {
		rc = dfail(&p, TC_ELIMIT, NULL, "larger than %zu bytes", o.max_bytes);
		goto out;
	}

	/* The file's framing adds nesting and long arrays around objects:
	 * the JSON limits follow the dump's. Each object is checked again
	 * with the STIX limits by the hub. */
	lim = stix_default_limits;
	lim.max_depth = o.max_depth;
	if (lim.max_array < o.max_objects)
		lim.max_array = o.max_objects;
	if (lim.max_array < o.max_manifest)
		lim.max_array = o.max_manifest;
	if (lim.max_properties < o.max_collections)
		lim.max_properties = o.max_collections;
	if (lim.max_properties < o.max_api_roots + 1)
		lim.max_properties = o.max_api_roots + 1;
	rc = stix_json_parse(data, &lim, &dump->doc, d);
	if (rc) {
		diag_prefix(d, "%s", dump->name);
		goto out;
	}
	if (!json_is_object(dump->doc)) {
		rc = dfail(&p, TC_EINVAL, NULL,
		           "not a medallion data file: the top level must be an object of API "
		           "roots and \"/discovery\"");
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(dump->doc, key, v) {
		if (strcmp(key, "/discovery") == 0) {
			if (!json_is_object(v)) {
				rc = dfail(&p, TC_EINVAL, key, "not an object");
				goto out;
			}
			continue;
		}
		if (++dump->napi_roots > o.max_api_roots) {
			rc = dfail(&p, TC_ELIMIT, NULL, "more than %zu API roots", o.max_api_roots);
			goto out;
		}
		struct import_dump_root *nr =
		    realloc(dump->roots, dump->napi_roots * sizeof(*dump->roots));
		if (!nr) {
			rc = diag_set(d, TC_ENOMEM, "out of memory");
			goto out;
		}
		dump->roots = nr;
		if ((rc = api_root_read(&p, key, v)))
			goto out;
	}
	if (dump->nitems > 1)
		qsort(dump->items, dump->nitems, sizeof(*dump->items), item_cmp);
	rc = TC_OK;
out:
	free(p.recs);
	if (rc) {
		import_dump_free(dump);
		return rc;
	}
	*out = dump;
	return TC_OK;
}

enum tcerr
import_dump_load(const char *path, const struct import_dump_opts *in, struct import_dump **out,
                 struct diag *d)
{
	struct import_dump_opts o;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	enum tcerr rc;
	FILE *f;

	diag_clear(d);
	*out = NULL;
	opts_fill(in, &o);
	f = fopen(path, "rb");
	if (!f)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0) {
		rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = diag_set(d, TC_EIO, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > o.max_bytes) {
		rc = diag_set(d, TC_ELIMIT, "%s: larger than %zu bytes", path, o.max_bytes);
		goto out;
	}
	/* Read to the end, not to st_size: the file may change under us;
	 * the limit holds either way. */
	size_t cap = (size_t)st.st_size + 1;
	data = malloc(cap);
	if (!data) {
		rc = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > o.max_bytes) {
				rc = diag_set(d, TC_ELIMIT, "%s: larger than %zu bytes", path, o.max_bytes);
				goto out;
			}
			size_t ncap = cap * 2 > o.max_bytes + 1 ? o.max_bytes + 1 : cap * 2;
			char *n = realloc(data, ncap);
			if (!n) {
				rc = diag_set(d, TC_ENOMEM, "out of memory");
				goto out;
			}
			data = n;
			cap = ncap;
		}
		size_t got = fread(data + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				rc = diag_set(d, TC_EIO, "%s: read error", path);
				goto out;
			}
			break;
		}
	}
	if (len > o.max_bytes) {
		rc = diag_set(d, TC_ELIMIT, "%s: larger than %zu bytes", path, o.max_bytes);
		goto out;
	}
	rc = import_dump_parse(path, slice_make(data, len), &o, out, d);
out:
	free(data);
	fclose(f);
	return rc;
}

void
import_dump_where(const struct import_dump *dump, size_t i, char where[IMPORT_WHERE_MAX])
{
	const struct import_dump_item *it = &dump->items[i];
	const struct import_dump_collection *c = &dump->cols[it->collection];

	place_fmt(where, "%s: %s/collections/%s/objects[%u]", dump->name, c->api_root, c->uuid,
	          it->index);
}

const char *
import_dump_why(const struct import_dump *dump, size_t i)
{
	const struct import_dump_item *it = &dump->items[i];

	if (it->why == SIZE_MAX || !dump->whys.p || it->why >= dump->whys.len)
		return NULL;
	return dump->whys.p + it->why;
}
