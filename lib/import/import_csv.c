/*
 * import_csv.c — CSV rows (RFC 4180) to STIX 2.1 indicators.
 *
 * Columns, in this order unless a header line names them: value, kind,
 * valid_until, tlp, labels (';'-separated), description. A header is a
 * first record whose first field is "value", or whose fields are all
 * column names, one of them "value", in any order; it may also name
 * valid_from, name (the indicator's name), confidence (0-100) and
 * indicator_id, producer and key_id (ignored), so tocsin's own CSV export
 * and the CSV of
 * bench's generator (kind,value,name,tlp,confidence,valid_from,
 * valid_until,labels) read back; indicator and ioc stand for value, type
 * for kind, tags for labels, comment for description. The header is not a row: it is neither
 * imported nor rejected. Blank records and records starting with '#' are
 * skipped, so a plain list of values, one a line, is valid input.
 *
 * A defanged value ("hxxp://evil[.]example") is re-fanged before it is
 * classified, and a note says so. A row whose valid_until is not after
 * the time of the run is imported (the log keeps history; the index does
 * not match it) and a note says it is expired. Each row is one record in
 * memory: the field scratch buffer is wiped after each row because a row
 * may hold a card number.
 */
#include <string.h>
#include <strings.h>

#include "import_int.h"
#include "util/timestamp.h"
#include "util/pan.h"

enum csv_col {
	COL_IGNORE = 0,
	COL_VALUE,
	COL_KIND,
	COL_VALID_FROM,
	COL_VALID_UNTIL,
	COL_TLP,
	COL_LABELS,
	COL_DESCRIPTION,
	COL_NAME,
	COL_CONFIDENCE,
};

static const struct {
	const char *name;
	enum csv_col col;
} col_names[] = {
	{ "value", COL_VALUE },
	{ "kind", COL_KIND },
	{ "valid_from", COL_VALID_FROM },
	{ "valid_until", COL_VALID_UNTIL },
	{ "tlp", COL_TLP },
	{ "labels", COL_LABELS },
	{ "description", COL_DESCRIPTION },
	{ "name", COL_NAME },
	{ "confidence", COL_CONFIDENCE },
	{ "indicator_id", COL_IGNORE },
	/* what other tools call them */
	{ "indicator", COL_VALUE },
	{ "ioc", COL_VALUE },
	{ "type", COL_KIND },
	{ "tags", COL_LABELS },
	{ "comment", COL_DESCRIPTION },
	/* tocsin export's attribution columns: who produced a row is decided
	 * by the import (--as), never by the file */
	{ "producer", COL_IGNORE },
	{ "key_id", COL_IGNORE },
};

struct csv_row {
	size_t n;
	size_t start[IMPORT_CSV_MAX_FIELDS], len[IMPORT_CSV_MAX_FIELDS];
	bool quoted[IMPORT_CSV_MAX_FIELDS];
};

/* Splits rec into fields, unescaping quotes into scratch. Returns NULL on
 * success or the reason the record is malformed. */
static const char *
csv_split(struct slice rec, struct buf *scratch, struct csv_row *row)
{
	size_t i = 0;
	row->n = 0;
	buf_clear(scratch);
	for (;;) {
		if (row->n == IMPORT_CSV_MAX_FIELDS)
			return "too many fields";
		size_t f = row->n++;
		row->start[f] = scratch->len;
		row->quoted[f] = false;
		if (i < rec.len && rec.p[i] == '"') {
			/* RFC 4180 §2.5-2.7: quoted field, "" is one quote. */
			row->quoted[f] = true;
			i++;
			for (;;) {
				if (i >= rec.len)
					return "unterminated quoted field";
				if (rec.p[i] == '"') {
					if (i + 1 < rec.len && rec.p[i + 1] == '"') {
						buf_append_char(scratch, '"');
						i += 2;
						continue;
					}
					i++;
					break;
				}
				buf_append_char(scratch, rec.p[i++]);
			}
			if (i < rec.len && rec.p[i] != ',')
				return "text after a closing quote";
		} else {
			while (i < rec.len && rec.p[i] != ',')
				buf_append_char(scratch, rec.p[i++]);
		}
		row->len[f] = scratch->len - row->start[f];
		if (i >= rec.len)
			break;
		i++; /* the comma */
	}
	if (buf_error(scratch))
		return "record too long";
	return NULL;
}

static struct slice
field(const struct buf *scratch, const struct csv_row *row, size_t f)
{
	if (f >= row->n)
		return slice_make(NULL, 0);
	return slice_make(scratch->p ? scratch->p + row->start[f] : "", row->len[f]);
}

/* Splits "a;b; c" into a JSON array of non-empty trimmed labels. */
static json_t *
split_labels(struct slice s)
{
	json_t *arr = json_array();
	if (!arr)
		return NULL;
	size_t i = 0;
	while (i <= s.len) {
		size_t j = i;
		while (j < s.len && s.p[j] != ';')
			j++;
		struct slice l = slice_trim(slice_make(s.p + i, j - i));
		if (l.len) {
			json_t *v = json_stringn(l.p, l.len);
			if (!v || json_array_append_new(arr, v)) {
				json_decref(arr);
				return NULL;
			}
		}
		i = j + 1;
	}
	return arr;
}

/* Turns one data row into an indicator, or rejects it. */
static enum tcerr
csv_row(struct import__run *r, const char *where, const struct buf *scratch,
        const struct csv_row *row, const enum csv_col *cols, size_t ncols)
{
	struct slice val = { NULL, 0 }, kind = { NULL, 0 }, from = { NULL, 0 },
	             until = { NULL, 0 }, tlp = { NULL, 0 }, labels = { NULL, 0 },
	             desc = { NULL, 0 }, name = { NULL, 0 }, conf = { NULL, 0 };
	struct buf norm, fanged;
	bool refanged;
	struct diag od;
	enum tcerr rc = TC_OK, orc;
	json_t *lab = NULL, *obj = NULL;
	char id[STIX_ID_MAX];
	struct import_ind in = { 0 };

	if (row->n > ncols)
		return import__reject(r, where, TC_EINVAL, "%zu fields, at most %zu expected",
		                      row->n, ncols);
	for (size_t f = 0; f < row->n; f++) {
		struct slice s = field(scratch, row, f);
		switch (cols[f]) {
		case COL_VALUE: val = slice_trim(s); break;
		case COL_KIND: kind = slice_trim(s); break;
		case COL_VALID_FROM: from = slice_trim(s); break;
		case COL_VALID_UNTIL: until = slice_trim(s); break;
		case COL_TLP: tlp = slice_trim(s); break;
		case COL_LABELS: labels = s; break;
		case COL_DESCRIPTION: desc = s; break;
		case COL_NAME: name = slice_trim(s); break;
		case COL_CONFIDENCE: conf = slice_trim(s); break;
		case COL_IGNORE: break;
		}
	}
	if (!val.len)
		return import__reject(r, where, TC_EINVAL, "value: empty");
	if (val.len > OBS_VALUE_MAX)
		return import__reject(r, where, TC_ELIMIT, "value: longer than %d bytes",
		                      OBS_VALUE_MAX);

	buf_init(&norm, OBS_VALUE_MAX * 4);
	buf_init(&fanged, OBS_VALUE_MAX);
	diag_clear(&od);
	refanged = import__refang(val, &fanged);
	if (refanged) {
		if (buf_error(&fanged) == TC_ENOMEM) {
			rc = diag_set(r->d, TC_ENOMEM, "%s: out of memory", where);
			goto out;
		}
		if (buf_error(&fanged)) {
			rc = import__reject(r, where, TC_ELIMIT, "value: longer than %d bytes",
			                    OBS_VALUE_MAX);
			goto out;
		}
		val = buf_slice(&fanged);
	}
	if (kind.len) {
		if (obs_kind_parse(kind, &in.kind)) {
			/* never quote what may be a card number (a swapped column) */
			bool hide = pan_suspect(kind);
			rc = import__reject(r, where, TC_EINVAL, "kind: '%.*s' is not an observable kind",
			                    hide ? 12 : (int)(kind.len > 64 ? 64 : kind.len),
			                    hide ? "(not quoted)" : kind.p);
			goto out;
		}
		orc = obs_normalize(r->o->obs, in.kind, val, &norm, &od);
	} else {
		orc = obs_classify(r->o->obs, val, &in.kind, &norm, &od);
	}
	if (orc == TC_ENOMEM) {
		rc = diag_set(r->d, orc, "%s: out of memory", where);
		goto out;
	}
	if (orc) {
		/* The observable module's message does not repeat a card number. */
		rc = import__reject(r, where, orc, "value: %s",
		                    od.msg[0] ? od.msg : "not an observable");
		goto out;
	}
	in.value = buf_slice(&norm);
	/* A card's row names it by its keyed hash only: a name column could
	 * repeat the number in clear. */
	if (name.len && in.kind != OBS_CARD) {
		if (name.len > OBS_VALUE_MAX * 2) {
			rc = import__reject(r, where, TC_ELIMIT, "name: longer than %d bytes",
			                    OBS_VALUE_MAX * 2);
			goto out;
		}
		in.name = name;
	}
	if (conf.len) {
		int v = 0;
		bool ok = conf.len <= 3;
		for (size_t k = 0; ok && k < conf.len; k++) {
			ok = conf.p[k] >= '0' && conf.p[k] <= '9';
			v = v * 10 + (conf.p[k] - '0');
		}
		/* STIX 2.1 §3.2: confidence is an integer 0-100. */
		if (!ok || v > 100) {
			rc = import__reject(r, where, TC_EINVAL,
			                    "confidence: '%.*s' is not an integer from 0 to 100",
			                    (int)(conf.len > 16 ? 16 : conf.len), conf.p);
			goto out;
		}
		in.has_confidence = true;
		in.confidence = v;
	}

	in.created_us = r->csv_time_us;
	if (from.len && import__parse_time(from, &in.created_us)) {
		rc = import__reject(r, where, TC_EINVAL,
		                    "valid_from: not an RFC 3339 time or YYYY-MM-DD date");
		goto out;
	}
	in.valid_from_us = in.created_us;
	if (until.len) {
		if (import__parse_time(until, &in.valid_until_us)) {
			rc = import__reject(r, where, TC_EINVAL,
			                    "valid_until: not an RFC 3339 time or YYYY-MM-DD date");
			goto out;
		}
		/* STIX 2.1 §4.7: valid_until must be later than valid_from. */
		if (in.valid_until_us <= in.valid_from_us) {
			rc = import__reject(r, where, TC_EINVAL,
			                    "valid_until: must be later than valid_from");
			goto out;
		}
	}
	if (tlp.len && import__parse_tlp(tlp, &in.tlp)) {
		bool hide = pan_suspect(tlp);
		rc = import__reject(r, where, TC_EINVAL,
		                    "tlp: '%.*s' is not clear, green, amber, amber+strict or red",
		                    hide ? 12 : (int)(tlp.len > 32 ? 32 : tlp.len),
		                    hide ? "(not quoted)" : tlp.p);
		goto out;
	}
	if (labels.len && !(lab = split_labels(labels))) {
		rc = import__reject(r, where, TC_EINVAL, "labels: not valid UTF-8");
		goto out;
	}
	in.labels = lab;
	if (desc.len)
		in.description = desc;

	/* The id names what the indicator detects: "<kind>:<normalised value>". */
	struct buf idn;
	buf_init(&idn, 0);
	buf_printf(&idn, "%s:", obs_kind_name(in.kind));
	buf_append_slice(&idn, in.value);
	in.id_name = buf_slice(&idn);
	in.id_key = r->o->id_key;
	in.id_key_len = r->o->id_key_len;
	if (buf_error(&idn))
		orc = TC_ENOMEM;
	else
		orc = import__indicator(&in, &obj, id, &od);
	buf_reset(&idn);
	if (orc == TC_ENOMEM) {
		rc = diag_set(r->d, orc, "%s: out of memory", where);
		goto out;
	}
	if (orc) {
		rc = import__reject(r, where, orc, "%s", od.msg);
		goto out;
	}
	if ((rc = import__emit(r, obj, where)))
		goto out;
	/* Cards are never named in a note: their value is a keyed hash, and
	 * the defanged text is the row's, not the hub's. */
	if (refanged && (rc = import__note(r, where, IMPORT_NOTE_REFANGED,
	                                   "defanged value re-fanged to '%.*s'",
	                                   in.kind == OBS_CARD ? 4 : (int)in.value.len,
	                                   in.kind == OBS_CARD ? "card" : in.value.p)))
		goto out;
	if (in.valid_until_us && in.valid_until_us <= r->now_us) {
		char t[TS_TEXT_MAX];
		ts_format(in.valid_until_us, 3, t);
		rc = import__note(r, where, IMPORT_NOTE_EXPIRED,
		                  "expired: valid_until %s is past; imported, it does not match", t);
	}
out:
	json_decref(obj);
	json_decref(lab);
	if (norm.p)
		explicit_bzero(norm.p, norm.cap);
	buf_reset(&norm);
	if (fanged.p)
		explicit_bzero(fanged.p, fanged.cap);
	buf_reset(&fanged);
	return rc;
}

static int
col_lookup(struct slice s)
{
	s = slice_trim(s);
	for (size_t k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++)
		if (s.len == strlen(col_names[k].name) &&
		    strncasecmp(s.p, col_names[k].name, s.len) == 0)
			return (int)k;
	return -1;
}

/* A header is a first record whose first field is "value", or whose
 * fields are all column names, one of them "value". */
static bool
csv_is_header(const struct buf *scratch, const struct csv_row *row)
{
	bool value = false;
	for (size_t f = 0; f < row->n; f++) {
		int k = col_lookup(field(scratch, row, f));
		if (k < 0)
			return false;
		if (col_names[k].col == COL_VALUE) {
			if (f == 0)
				return true;
			value = true;
		}
	}
	return value;
}

/* Reads a header record into cols. */
static enum tcerr
csv_header(struct import__run *r, const char *where, const struct buf *scratch,
           const struct csv_row *row, enum csv_col *cols, size_t *ncols)
{
	bool seen_value = false;
	for (size_t f = 0; f < row->n; f++) {
		struct slice s = slice_trim(field(scratch, row, f));
		int k = col_lookup(s);
		if (k < 0)
			/* An unknown column is an error, not ignored: a misspelt
			 * "tlp" must not silently drop a marking. */
			return diag_set(r->d, TC_EINVAL, "%s: unknown column '%.*s'", where,
			                pan_suspect(s) ? 12 : (int)(s.len > 64 ? 64 : s.len),
			                pan_suspect(s) ? "(not quoted)" : s.p);
		for (size_t g = 0; g < f; g++)
			if (cols[g] == col_names[k].col && cols[g] != COL_IGNORE)
				return diag_set(r->d, TC_EINVAL, "%s: column '%s' appears twice",
				                where, col_names[k].name);
		cols[f] = col_names[k].col;
		seen_value |= cols[f] == COL_VALUE;
	}
	*ncols = row->n;
	if (!seen_value)
		return diag_set(r->d, TC_EINVAL, "%s: no 'value' column", where);
	return TC_OK;
}

enum tcerr
import__csv(struct import__run *r)
{
	/* Default order: value, kind, valid_until, tlp, labels, description. */
	enum csv_col cols[IMPORT_CSV_MAX_FIELDS] = {
		COL_VALUE, COL_KIND, COL_VALID_UNTIL, COL_TLP, COL_LABELS, COL_DESCRIPTION,
	};
	size_t ncols = 6;
	struct buf scratch;
	struct csv_row row;
	struct slice rec;
	long lineno;
	bool too_long, first = true;
	char where[IMPORT_WHERE_MAX];
	enum tcerr rc = TC_OK;

	buf_init(&scratch, r->max_line + 1);
	for (;;) {
		if ((rc = import__next_record(r, true, &rec, &lineno, &too_long)))
			break;
		if (!rec.p)
			break;
		import__where(r, where, ":%ld", lineno);
		if (too_long) {
			if ((rc = import__reject(r, where, TC_ELIMIT, "record longer than %zu bytes",
			                         r->max_line)))
				break;
			continue;
		}
		struct slice t = slice_trim(rec);
		if (t.len == 0 || t.p[0] == '#') {
			r->c->skipped++;
			continue;
		}
		const char *bad = csv_split(rec, &scratch, &row);
		if (bad) {
			if ((rc = import__reject(r, where, TC_EINVAL, "%s", bad)))
				break;
			continue;
		}
		if (first) {
			first = false;
			if (csv_is_header(&scratch, &row)) {
				if ((rc = csv_header(r, where, &scratch, &row, cols, &ncols)))
					break;
				continue;
			}
		}
		rc = csv_row(r, where, &scratch, &row, cols, ncols);
		if (scratch.p)
			explicit_bzero(scratch.p, scratch.cap);
		if (rc)
			break;
	}
	if (scratch.p)
		explicit_bzero(scratch.p, scratch.cap);
	buf_reset(&scratch);
	return rc;
}
