/*
 * cmd_import.c — `tocsin import` and `tocsin validate`: read files of
 * threat intelligence (import.h) and store them through hub_ingest(), or
 * only check them; `tocsin import --taxii-dump` moves a medallion server's
 * data file in (import_dump_*).
 *
 * Pipeline: this thread reads, parses and prepares (validation and
 * observable extraction, hub_prepare) one batch while the hub's writer
 * thread (lib/hub/hub_writer.h, the daemon's writer) commits the one
 * before, so an import uses two cores. Invariant: memory stays bounded by
 * IMPORT_INFLIGHT batches of IMPORT_BATCH objects plus what the reader
 * holds (one object of a streamed bundle), whatever the size of the input;
 * each batch is one durable transaction, written in input order, and once
 * one fails no later one is written, so an input that fails part-way
 * leaves the store with every batch before the failure committed and
 * nothing after it.
 * Every object the reader finds is counted exactly once: imported,
 * duplicate or rejected (validate: valid or invalid). An import run
 * appends one entry to the audit log: the collection, the files and the
 * counts, also when it stopped part-way.
 *
 * Authorship (issue 8): with --as ORG the objects are produced by that
 * organisation, under the rules of its POST: policy_author_check()
 * (created_by_ref absent or ORG's identity), producer ORG, the audit
 * entry names ORG. Without --as the hub itself is the producer and may
 * not name an organisation's identity. With --as the answers depend only
 * on what ORG may see (hub_item.may_see = policy_row for ORG, issue 9):
 * a copy not kept (hub_result.unseen_copy) counts as imported, and the
 * audit entry says how many were not kept. Indicators the importers make
 * get ids under the hub's id key (hub_id_key; validate: the fixed
 * namespace). After the run, every stored
 * version that no organisation may read (policy_any_reader: a collection
 * nobody reads, RED naming nobody who can) is counted and warned about
 * on stderr, so nothing disappears silently.
 */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_audit.h"
#include "cmd.h"
#include "hub/hub.h"
#include "conf/conf.h"
#include "hub/hub_writer.h"
#include "import/import.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "util/barena.h"
#include "util/buf.h"

/* Objects in one batch (one transaction): large enough for the commit to
 * pay, small enough to bound memory (≤ HUB_MAX_BATCH). */
#define IMPORT_BATCH 10000
/* Notes of one kind (expired, re-fanged, to_ids false) listed on stderr
 * per run; the rest are only counted in the summary. */
#define IMPORT_NOTES_SHOWN 20
/* Batches alive at once: one filled and prepared here, one written. */
#define IMPORT_INFLIGHT 2
/* Allocations below this size come from the heap, and the heap keeps up
 * to this much free memory instead of returning it (glibc). */
#define IMPORT_MALLOC_KEEP (64 << 20)
/* Bytes of the audit entry's detail (counts and file names). */
#define IMPORT_AUDIT_DETAIL_MAX 4096

const char cmd_import_usage[] =
	"usage: tocsin import [--data DIR] [--collection NAME] [--format FORMAT]\n"
	"                     [--as ORG] [--config FILE] FILE...\n"
	"       tocsin import [--data DIR] [--config FILE] --taxii-dump FILE\n"
	"\n"
	"Validates the objects in each FILE ('-' for standard input) and stores\n"
	"the valid ones. Inputs: STIX 2.1 bundles, TAXII 2.1 envelopes, single\n"
	"objects or arrays of them, JSON Lines of STIX objects, MISP event JSON,\n"
	"CSV (value[,kind[,valid_until[,tlp[,labels[,description]]]]]) or a plain\n"
	"list of values. Prints 'imported N, duplicates M, rejected K' (and\n"
	"', warnings W' when some were given); each rejected object is reported\n"
	"on stderr with its place and the reason, and each warning likewise (an\n"
	"indicator value on the allowlist is stored, but never exported for\n"
	"blocking). An indicator that would block everything (0.0.0.0/0, ::/0, a\n"
	"network wider than widest_prefix_v4/_v6, a top-level domain or public\n"
	"suffix) is rejected.\n"
	"Defanged values (hxxp://, [.], (dot), [at]) are re-fanged; CSV rows\n"
	"already expired are imported (they do not match); MISP attributes with\n"
	"to_ids false are not imported. Each is noted on stderr (the first 20\n"
	"of a kind) and counted on a 'notes:' line after the summary.\n"
	"Indicators made from CSV rows and MISP attributes get ids derived under\n"
	"the hub's secret id.key: importing a file again gives duplicates; other\n"
	"hubs give other ids, and nobody without the key can compute them.\n"
	"\n"
	"With --as ORG the objects are produced by organisation ORG, as if ORG\n"
	"had POSTed them: created_by_ref must be absent or ORG's identity, ORG\n"
	"always sees them and the audit entry names ORG; answers depend only on\n"
	"what ORG may see (a copy of a version hidden from ORG is counted as\n"
	"imported and not kept; the audit entry counts it). Without --as the hub\n"
	"is the producer, and an object naming an organisation's identity in\n"
	"created_by_ref is rejected (import it with --as). A warning on stderr\n"
	"counts the stored objects no organisation can read (a collection\n"
	"nobody may read, TLP:RED or AMBER+STRICT naming no reader).\n"
	"Bundles and envelopes are read object by object, in memory bounded by\n"
	"one object (at most 16 MiB, 64 levels deep) whatever their size; an\n"
	"input that stops part-way keeps every object read before the place it\n"
	"names, and the summary says so.\n"
	"\n"
	"With --taxii-dump, FILE is the data file of a medallion TAXII server\n"
	"(the OASIS reference server's memory backend): its API roots are kept\n"
	"(served at /taxii2/NAME/), each collection is created with its original\n"
	"id in its root (or reused if one has that id already), with medallion's\n"
	"rights (can_read/can_write true: 'all', false: 'none'), every object\n"
	"version keeps its date_added, so TAXII clients keep their added_after\n"
	"cursors, and status resources are kept 48 hours. Prints each\n"
	"collection's id and alias, then 'imported N, duplicates M, rejected K',\n"
	"'collections: created X, reused Y' and 'api roots: created A, kept B;\n"
	"rights from the file: R collections; statuses: S'. A malformed file is\n"
	"refused before anything is stored; importing the same file again gives\n"
	"duplicates and keeps the roots and rights the hub already has.\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR          data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -c, --collection NAME   collection alias or id (default: 'default')\n"
	"  -f, --format FORMAT     auto (default), stix, jsonl, misp or csv\n"
	"  -a, --as ORG            produce the objects as organisation ORG\n"
	"      --config FILE       read [ingest] widest_prefix_v4 / widest_prefix_v6\n"
	"                          from tocsind's configuration FILE (default:\n"
	"                          $TOCSIN_CONFIG; unset: /8 and /32, tocsind's\n"
	"                          defaults), so both paths refuse the same\n"
	"  -t, --taxii-dump FILE   import a medallion data file (no other FILE)\n"
	"  -h, --help              show this help\n"
	"\n"
	"Exit status: 0 every object accepted (duplicates included), 1 some\n"
	"objects rejected (the others are stored), 2 usage or fatal error.\n";

const char cmd_validate_usage[] =
	"usage: tocsin validate [--format FORMAT] [--config FILE] FILE...\n"
	"\n"
	"Reads each FILE ('-' for standard input) as 'tocsin import' does and\n"
	"checks every object against STIX 2.1 (STIX 2.0 for objects without\n"
	"spec_version) and the observable rules, without storing anything (no\n"
	"data directory needed). Prints each problem and\n"
	"'valid N, invalid K'.\n"
	"\n"
	"Options:\n"
	"  -f, --format FORMAT   auto (default), stix, jsonl, misp or csv\n"
	"      --config FILE     the prefix limits, as for import\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 all valid, 1 some invalid, 2 usage or fatal error.\n";

/* One batch: objects read, prepared, then written by the writer thread. */
struct imp_batch {
	size_t n;                           /* objects read into it */
	json_t *objs[IMPORT_BATCH];
	struct hub_item items[IMPORT_BATCH];
	struct hub_result res[IMPORT_BATCH];
	size_t where_off[IMPORT_BATCH];
	size_t text_off[IMPORT_BATCH];      /* SIZE_MAX: no text (the hub serialises) */
	size_t text_len[IMPORT_BATCH];
	struct buf wheres;                  /* NUL-separated locations */
	struct buf texts;                   /* the objects' compact texts */
	/* handed to the writer: the prepared items, without those rejected */
	struct hub_item witems[IMPORT_BATCH];
	struct hub_result wres[IMPORT_BATCH];
	size_t wslot[IMPORT_BATCH];         /* witems[k] is objs[wslot[k]] */
	size_t nw;
	struct hub_prep *prep;
	struct hub_writer_job *job;         /* NULL: not submitted */
};

/* The writer thread's backend: the hub, and a stop once a batch failed. */
struct imp_backend {
	struct hub *hub;
	atomic_bool failed;
};

struct imp {
	bool validate_only;
	struct hub *hub;            /* NULL when validating */
	int64_t collection;
	struct registry *reg;       /* import: names and rights */
	struct reg_snapshot *snap;
	const struct reg_org *as;   /* --as ORG (in snap); NULL: the hub produces */
	struct policy_subject as_who; /* --as ORG: what ORG may see (issue 9) */
	struct hub_item items[IMPORT_BATCH];
	/* nobody-reads accounting: by TLP for levels that name no recipients
	 * (cached: the collection and producer are fixed for the run) */
	signed char readable_by_tlp[TLP_RED + 1]; /* 0 unknown, 1 yes, -1 no */
	uint64_t unreadable, unreadable_named;
	struct obs_ctx obs;         /* validate: a throwaway card key */
	uint8_t throwaway_key[OBS_CARD_KEY_LEN];
	const char *display;        /* the file name as shown */
	struct cli_progress progress;

	struct imp_backend be;
	struct hub_writer *writer;  /* NULL when validating */
	struct imp_batch *batch[IMPORT_INFLIGHT];
	size_t cur;                 /* the batch being filled */

	/* totals over every file */
	uint64_t accepted, duplicates, rejected, warnings;
	uint64_t not_kept;          /* --as: answered as new, not kept (unseen_copy) */
	struct audit *audit;        /* open while importing; NULL for validate */
	uint64_t *seqs;             /* log positions of the accepted versions (the entry's seqs) */
	size_t nseqs, capseqs;
	uint64_t seen;              /* objects read from the current file */
	bool fatal;
	/* notes over every file, by enum import_note */
	uint64_t notes[IMPORT_NOTE_NOT_IDS + 1];
	bool stopped;               /* a file stopped part-way */
};

/* Prints one problem found in the input: "LOCATION: reason". */
static void
imp_problem(struct imp *im, const char *where, const char *why)
{
	size_t wl = strlen(where);

	cli_progress_clear(&im->progress);
	/* hub and stix messages already start with the location we passed;
	 * a line location ("feed.jsonl:12") followed by a property path
	 * reads better as "feed.jsonl:12: valid_until: ..." */
	if (wl && strncmp(why, where, wl) == 0 && why[wl] == '.' && wl > 0 &&
	    where[wl - 1] >= '0' && where[wl - 1] <= '9')
		cli_fprintf(stderr, "%s: %s\n", where, why + wl + 1);
	else if (wl && strncmp(why, where, wl) == 0)
		cli_fprintf(stderr, "%s\n", why);
	else
		cli_fprintf(stderr, "%s: %s\n", where, why);
}

static void
imp_batch_release(struct imp_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->objs[i]);
	b->n = 0;
	b->nw = 0;
	hub_prep_free(b->prep);
	b->prep = NULL;
	buf_clear(&b->wheres);
	if (b->texts.p) /* may hold card numbers */
		explicit_bzero(b->texts.p, b->texts.len);
	buf_clear(&b->texts);
}

/* Keeps the log position of an accepted version for the audit entry; with
 * no memory for it the entry goes without, and the next program that
 * opens the log alone enters those versions as recovered. */
static void
imp_note_seq(struct imp *im, uint64_t seq)
{
	if (im->nseqs == im->capseqs) {
		size_t cap = im->capseqs ? 2 * im->capseqs : 1024;
		uint64_t *p = cap <= AUDIT_SEQS_MAX ? realloc(im->seqs, cap * sizeof(*p)) : NULL;
		if (!p)
			return;
		im->seqs = p;
		im->capseqs = cap;
	}
	im->seqs[im->nseqs++] = seq;
}

/* Counts a stored version no organisation may read (policy_any_reader).
 * Levels that name no recipients depend only on the collection, the TLP
 * and the producer, all fixed for the run: asked once per level. Named
 * recipients are read from text, the object as read; without it (the hub
 * serialised the object) the version is not judged: the warning is best
 * effort. */
static void
imp_count_readers(struct imp *im, struct slice text, enum tlp_level tlp)
{
	struct store_row row = { .collection = im->collection, .tlp = tlp,
		                 .producer = im->as ? im->as->num : 0 };

	if (tlp > TLP_RED || !im->snap)
		return;
	if (tlp != TLP_AMBER_STRICT && tlp != TLP_RED) {
		if (!im->readable_by_tlp[tlp])
			im->readable_by_tlp[tlp] = policy_any_reader(im->snap, &row) ? 1 : -1;
		if (im->readable_by_tlp[tlp] < 0)
			im->unreadable++;
		return;
	}
	if (!text.p)
		return;
	row.json = text;
	if (!policy_any_reader(im->snap, &row)) {
		im->unreadable++;
		im->unreadable_named++;
	}
}

/* hub_item.may_see for --as ORG: the answers ORG gets depend only on
 * what ORG may see, as for its TAXII POST (issue 9 point 5). */
static bool
imp_as_may_see(void *ctx, const struct store_row *row)
{
	return policy_row(ctx, row);
}

static enum tcerr
be_ingest(void *ctx, const struct hub_item *items, size_t n, struct hub_result *res,
          struct diag *d)
{
	struct imp_backend *be = ctx;
	if (atomic_load(&be->failed))
		return diag_set(d, TC_EBUSY, "not written: an earlier batch failed");
	enum tcerr rc = hub_ingest_items(be->hub, items, n, res, d);
	if (rc) {
		atomic_store(&be->failed, true);
		return rc; /* the reader frees the objects */
	}
	/* Stored or judged: free the parsed trees here, off the reader
	 * thread, which is the busier one. Exactly once: a job's objects
	 * are freed by the call whose success its waiter sees (imp_collect
	 * then drops its references without freeing). */
	for (size_t i = 0; i < n; i++)
		json_decref(items[i].obj);
	return TC_OK;
}

static enum tcerr
be_remove(void *ctx, const struct store_delete_q *q, store_delete_cb may, void *may_ctx,
          struct store_delete_out *out, struct diag *d)
{
	return diag_set(d, TC_EINTERNAL, "import deletes nothing");
}

/* Waits for batch b's transaction, counts and reports its results in
 * input order, and empties it. Returns TC_OK, or the error that stops
 * the run (reported). */
static enum tcerr
imp_collect(struct imp *im, struct imp_batch *b)
{
	struct diag d;
	enum tcerr rc = TC_OK;

	if (!b->n)
		return TC_OK;
	if (b->job) {
		diag_clear(&d);
		rc = hub_writer_wait(im->writer, b->job, &d);
		b->job = NULL;
		if (rc != TC_OK) {
			if (!im->fatal) {
				cli_progress_clear(&im->progress);
				cli_err("%s: %s", im->display, d.msg[0] ? d.msg : tcerr_str(rc));
			}
			im->fatal = true;
			goto out;
		}
		for (size_t k = 0; k < b->nw; k++) {
			b->res[b->wslot[k]] = b->wres[k];
			b->objs[b->wslot[k]] = NULL; /* freed by the writer thread */
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		const char *where = b->wheres.p + b->where_off[i];
		if (b->res[i].verdict != HUB_REJECTED && b->res[i].warned) {
			im->warnings++;
			imp_problem(im, where, b->res[i].why);
		}
		switch (b->res[i].verdict) {
		case HUB_ACCEPTED:
			im->accepted++;
			/* the text as read, unless the hub rewrote the object */
			imp_count_readers(im,
			                  b->text_off[i] != SIZE_MAX && !b->res[i].cards_hashed
			                      ? slice_make(b->texts.p + b->text_off[i], b->text_len[i])
			                      : slice_make(NULL, 0),
			                  b->res[i].tlp);
			im->not_kept += b->res[i].unseen_copy;
			if (!b->res[i].unseen_copy) /* not stored: no position */
				imp_note_seq(im, b->res[i].seq);
			break;
		case HUB_DUPLICATE:
			im->duplicates++;
			break;
		default:
			im->rejected++;
			imp_problem(im, where, b->res[i].why);
		}
	}
out:
	imp_batch_release(b);
	return rc;
}

/* Prepares the batch being filled (validation, observables: this thread)
 * and hands it to the writer thread without waiting; the next batch slot
 * is emptied (its results collected) for filling. Returns TC_OK, or the
 * error that stops the run (reported). */
static enum tcerr
imp_flush(struct imp *im)
{
	struct imp_batch *b = im->batch[im->cur];
	struct diag d;
	enum tcerr rc = TC_OK;

	if (b->n == 0)
		return TC_OK;
	if (buf_error(&b->wheres) || buf_error(&b->texts)) {
		rc = buf_error(&b->wheres) ? buf_error(&b->wheres) : buf_error(&b->texts);
		cli_err("%s", tcerr_str(rc));
		im->fatal = true;
		imp_batch_release(b);
		return rc;
	}
	for (size_t i = 0; i < b->n; i++) {
		b->items[i] = (struct hub_item){
		    .obj = b->objs[i],
		    .path = b->wheres.p + b->where_off[i],
		    .collection = im->collection,
		    .producer = im->as ? im->as->num : 0,
		};
		if (im->as) {
			b->items[i].may_see = imp_as_may_see;
			b->items[i].may_see_ctx = &im->as_who;
		}
		if (b->text_off[i] != SIZE_MAX)
			b->items[i].text = slice_make(b->texts.p + b->text_off[i], b->text_len[i]);
		memset(&b->res[i], 0, sizeof(b->res[i]));
	}
	diag_clear(&d);
	rc = hub_prepare(&im->obs, b->items, b->n, b->res, &b->prep, &d);
	if (rc != TC_OK) {
		cli_progress_clear(&im->progress);
		cli_err("%s: %s", im->display, d.msg[0] ? d.msg : tcerr_str(rc));
		im->fatal = true;
		imp_batch_release(b);
		return rc;
	}
	b->nw = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->res[i].verdict != HUB_REJECTED) {
			b->wslot[b->nw] = i;
			b->witems[b->nw++] = b->items[i];
		}
	diag_clear(&d);
	rc = hub_writer_submit(im->writer, b->witems, b->nw, b->wres, &b->job, &d);
	if (rc != TC_OK) {
		cli_progress_clear(&im->progress);
		cli_err("%s: %s", im->display, d.msg[0] ? d.msg : tcerr_str(rc));
		im->fatal = true;
		imp_batch_release(b);
		return rc;
	}
	im->cur = (im->cur + 1) % IMPORT_INFLIGHT;
	rc = imp_collect(im, im->batch[im->cur]);
	/* the next batch's trees go to an arena region nothing lives in
	 * (the collected batch's, once the writer freed its trees) */
	barena_next();
	return rc;
}

/* Hands the last batch to the writer and waits for every batch. Returns
 * TC_OK or the first error (reported). */
static enum tcerr
imp_drain(struct imp *im)
{
	enum tcerr rc = im->fatal ? TC_OK : imp_flush(im), r2;
	for (size_t k = 0; k < IMPORT_INFLIGHT; k++) {
		struct imp_batch *b = im->batch[(im->cur + k) % IMPORT_INFLIGHT];
		if (!b->job) {
			imp_batch_release(b); /* read, never submitted: not stored */
			continue;
		}
		if ((r2 = imp_collect(im, b)) && !rc)
			rc = r2;
	}
	return rc;
}

struct breadth {
	const struct obs_ctx *obs;
	bool indicator;
	struct diag *d;
};

/* validate: what hub_prepare refuses in an indicator's values */
static enum tcerr
obs_breadth(void *ctx, enum obs_kind kind, struct slice value)
{
	struct breadth *b = ctx;
	if (!b->indicator)
		return TC_OK;
	enum tcerr rc = obs_breadth_check(b->obs, kind, value, b->d);
	if (rc)
		diag_prefix(b->d, "pattern");
	return rc;
}

/* validate: the checks hub_ingest() makes, without a store. */
static enum tcerr
imp_check(struct imp *im, json_t *obj, const char *where)
{
	struct stix_meta meta;
	struct diag d;
	enum tcerr rc;

	diag_clear(&d);
	rc = stix_validate(obj, where, NULL, &meta, &d);
	if (rc == TC_OK) {
		struct breadth b = { &im->obs, strcmp(meta.type, "indicator") == 0, &d };
		rc = obs_extract(&im->obs, obj, &meta, obs_breadth, &b, &d);
		if (rc != TC_OK && rc != TC_ENOMEM)
			diag_prefix(&d, "%s", where);
	}
	if (rc == TC_ENOMEM) {
		cli_err("out of memory");
		im->fatal = true;
		return rc;
	}
	if (rc == TC_OK) {
		im->accepted++;
		return TC_OK;
	}
	im->rejected++;
	imp_problem(im, where, d.msg[0] ? d.msg : tcerr_str(rc));
	return TC_OK;
}

static enum tcerr
on_object(void *ctx, json_t *obj, struct slice text, const char *where)
{
	struct imp *im = ctx;

	im->seen++;
	if (im->validate_only)
		return imp_check(im, obj, where);
	/* issue 8: the authorship rule of a POST; a refused object is not
	 * handed to the hub */
	struct diag ad;
	diag_clear(&ad);
	if (policy_author_check(im->snap, im->as, obj, where, &ad)) {
		im->rejected++;
		imp_problem(im, where, ad.msg);
		return TC_OK;
	}
	struct imp_batch *b = im->batch[im->cur];
	b->where_off[b->n] = b->wheres.len;
	buf_append_cstr(&b->wheres, where);
	buf_append_char(&b->wheres, '\0');
	b->text_off[b->n] = SIZE_MAX;
	if (text.p) {
		/* stored as read: the hub need not serialise the object again */
		b->text_off[b->n] = b->texts.len;
		b->text_len[b->n] = text.len;
		buf_append(&b->texts, text.p, text.len);
	}
	b->objs[b->n++] = json_incref(obj);
	if (b->n == IMPORT_BATCH)
		return imp_flush(im);
	return TC_OK;
}

static enum tcerr
on_reject(void *ctx, const char *where, enum tcerr rc, const char *why)
{
	struct imp *im = ctx;

	im->seen++;
	im->rejected++;
	imp_problem(im, where, why);
	return TC_OK;
}

static enum tcerr
on_note(void *ctx, const char *where, enum import_note what, const char *text)
{
	struct imp *im = ctx;

	if ((unsigned)what > IMPORT_NOTE_NOT_IDS)
		return TC_OK;
	if (++im->notes[what] <= IMPORT_NOTES_SHOWN) {
		cli_progress_clear(&im->progress);
		cli_fprintf(stderr, "%s: note: %s\n", where, text);
	}
	return TC_OK;
}

/* The 'notes:' line after the summary, if there is anything to note. */
static void
imp_print_notes(const struct imp *im)
{
	static const char *const what[] = {
		[IMPORT_NOTE_EXPIRED] = "expired (imported; they do not match)",
		[IMPORT_NOTE_REFANGED] = "re-fanged (defanged values restored)",
		[IMPORT_NOTE_NOT_IDS] = "MISP attributes with to_ids false (not imported: not for "
		                        "detection)",
	};
	const char *sep = "notes: ";
	for (unsigned k = IMPORT_NOTE_EXPIRED; k <= IMPORT_NOTE_NOT_IDS; k++) {
		if (!im->notes[k])
			continue;
		printf("%s%llu %s", sep, (unsigned long long)im->notes[k], what[k]);
		sep = ", ";
		if (im->notes[k] > IMPORT_NOTES_SHOWN)
			fprintf(stderr, "note: %llu more notes like the above not listed\n",
			        (unsigned long long)(im->notes[k] - IMPORT_NOTES_SHOWN));
	}
	if (sep[0] == ',')
		printf("\n");
}

static void
on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct imp *im = ctx;

	cli_progress_update(&im->progress, done, im->seen);
}

/* Reads one file. Returns CLI_EXIT_OK (problems are counted in im), or
 * CLI_EXIT_USAGE on a fatal error (reported). */
static int
imp_file(struct imp *im, const char *name, enum import_format format)
{
	struct import_opts opts;
	struct import_counts counts;
	struct diag d;
	struct stat st;
	bool is_stdin = strcmp(name, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(name, "rb");
	enum tcerr rc;

	im->display = is_stdin ? "stdin" : name;
	if (!f) {
		cli_err("%s: %s", name, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	memset(&opts, 0, sizeof(opts));
	opts.format = format;
	opts.obs = &im->obs;
	if (im->hub) {
		/* issue 9: ids nobody without this hub's key can compute */
		opts.id_key = hub_id_key(im->hub);
		opts.id_key_len = HUB_ID_KEY_LEN;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		opts.total_bytes = (uint64_t)st.st_size;
	opts.on_object_text = on_object;
	opts.on_reject = on_reject;
	opts.on_progress = on_progress;
	opts.on_note = on_note;
	opts.ctx = im;
	im->seen = 0;
	cli_progress_start(&im->progress, im->display, opts.total_bytes);

	diag_clear(&d);
	memset(&counts, 0, sizeof(counts));
	rc = import_file(name, f, &opts, &counts, &d);
	if (!is_stdin)
		fclose(f);
	/* Store what was read before the reader stopped, if it did (not
	 * after an error of the store itself: nothing more is written then). */
	if (!im->validate_only && imp_drain(im) != TC_OK) {
		cli_progress_end(&im->progress);
		im->stopped = true;
		return CLI_EXIT_USAGE;
	}
	if (im->fatal || rc == TC_ENOMEM || rc == TC_EIO || rc == TC_EDB ||
	    rc == TC_EINTERNAL) {
		/* A callback already reported its own error. */
		if (!im->fatal) {
			cli_progress_clear(&im->progress);
			cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		}
		cli_progress_end(&im->progress);
		im->stopped = true;
		return CLI_EXIT_USAGE;
	}
	cli_progress_end(&im->progress);
	if (rc != TC_OK) {
		im->stopped = true;
		/* The rest of the input could not be read (a document that
		 * does not parse, a limit): one problem, the run goes on. */
		im->rejected++;
		if (d.msg[0] && strncmp(d.msg, im->display, strlen(im->display)) == 0)
			cli_fprintf(stderr, "%s\n", d.msg);
		else if (d.line > 0)
			cli_fprintf(stderr, "%s:%ld:%ld: %s\n", im->display, d.line, d.column,
			            d.msg[0] ? d.msg : tcerr_str(rc));
		else
			cli_fprintf(stderr, "%s: %s\n", im->display,
			            d.msg[0] ? d.msg : tcerr_str(rc));
	}
	return CLI_EXIT_OK;
}

struct dump_ctx {
	const struct import_dump *dump;
	bool *created;        /* per collection of the dump */
};

static void
dump_on_collection(void *ctx, const struct import_dump_collection *c, const char *alias,
                   bool created)
{
	struct dump_ctx *x = ctx;

	x->created[c - x->dump->cols] = created;
	cli_fprintf(stdout, "%s collection %s %s (%s: %s)\n", created ? "created" : "reused", c->uuid,
	            alias, c->api_root, c->title[0] ? c->title : "no title");
}

static void
dump_on_reject(void *ctx, const char *where, const char *why)
{
	size_t wl = strlen(where);

	/* hub messages already start with the place we passed */
	if (strncmp(why, where, wl) == 0 && why[wl] == '.')
		cli_fprintf(stderr, "%s: %s\n", where, why + wl + 1);
	else if (strncmp(why, where, wl) == 0)
		cli_fprintf(stderr, "%s\n", why);
	else
		cli_fprintf(stderr, "%s: %s\n", where, why);
}

/* `tocsin import --taxii-dump FILE`: parse the whole file first (nothing
 * is stored from a malformed one), then store it. */
static int
imp_taxii_dump(const char *dir, const char *path, unsigned widest_v4, unsigned widest_v6)
{
	struct import_dump *dump = NULL;
	struct import_dump_totals t;
	struct import_dump_reg_totals rt;
	struct hub *hub = NULL;
	struct registry *reg = NULL;
	struct diag d;
	struct dump_ctx x = {0};
	struct import_dump_ingest_cbs cbs = {dump_on_collection, dump_on_reject, &x};
	enum tcerr rc;
	int ret;

	memset(&t, 0, sizeof(t));
	ret = cli_open_hub(dir, &hub);
	if (ret == CLI_EXIT_OK)
		hub_set_widest_prefix(hub, widest_v4, widest_v6);
	if (ret != CLI_EXIT_OK)
		return cli_finish_stdout(ret);
	diag_clear(&d);
	if (registry_open(hub_default_dir(dir), &reg, &d) != TC_OK) {
		cli_err("%s", d.msg);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	diag_clear(&d);
	rc = import_dump_load(path, NULL, &dump, &d);
	if (rc != TC_OK) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		cli_err("%s: nothing imported", path);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	x.dump = dump;
	x.created = calloc(dump->ncols ? dump->ncols : 1, sizeof(*x.created));
	if (!x.created) {
		cli_err("out of memory");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	diag_clear(&d);
	rc = import_dump_ingest(hub, dump, &cbs, &t, &d);
	/* The totals count what was committed, even after an error. */
	printf("imported %zu, duplicates %zu, rejected %zu\n", t.imported, t.duplicates,
	       t.rejected);
	printf("collections: created %zu, reused %zu\n", t.created, t.reused);
	if (rc != TC_OK) {
		cli_err("%s: %s", path, d.msg[0] ? d.msg : tcerr_str(rc));
		cli_err("%s: stopped; the counts above are what was stored", path);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (t.undated)
		cli_err("%s: %zu object versions had no date_added in the file; they got the "
		        "import time",
		        path, t.undated);
	/* API roots, each new collection's root and rights, statuses */
	diag_clear(&d);
	rc = import_dump_register(reg, dump, x.created, &rt, &d);
	printf("api roots: created %zu, kept %zu; rights from the file: %zu collections; "
	       "statuses: %zu\n",
	       rt.roots_created, rt.roots_kept, rt.rights_set, rt.statuses);
	if (rc != TC_OK) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		cli_err("%s: the objects are stored; API roots, rights or statuses are not all "
		        "recorded",
		        path);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (rt.rights_set)
		cli_err("new collections got medallion's rights for every user (can_read/can_write "
		        "true: all, false: none); narrow them with 'tocsin collection rights "
		        "ALIAS --read SPEC --write SPEC'");
	if (rt.roots_created || rt.statuses)
		cli_err("reload tocsind (SIGHUP) to serve the new API roots and collections");
	ret = t.rejected ? CLI_EXIT_PROBLEMS : CLI_EXIT_OK;
out:
	free(x.created);
	import_dump_free(dump);
	if (reg)
		registry_close(reg);
	hub_close(hub);
	return cli_finish_stdout(ret);
}

/* The warning of issue 8: stored objects no organisation can read. */
static void
imp_warn_unreadable(struct imp *im, const struct store_collection *coll)
{
	const struct reg_collection *rc = reg_snapshot_collection(im->snap, coll->num);
	bool nobody = true;
	size_t n = reg_snapshot_norgs(im->snap);

	for (size_t i = 0; rc && i < n && nobody; i++) {
		struct policy_subject who;
		policy_subject_org(&who, im->snap, reg_snapshot_org_at(im->snap, i));
		nobody = !policy_collection(&who, rc).can_read;
	}
	if (nobody)
		cli_err("warning: %llu imported objects can be read by no organisation: "
		        "collection '%s' is readable by nobody (set 'tocsin collection rights "
		        "%s --read SPEC --write SPEC')",
		        (unsigned long long)im->unreadable, coll->alias, coll->alias);
	else
		cli_err("warning: %llu imported objects can be read by no organisation "
		        "(%llu of them TLP:RED or AMBER+STRICT naming no organisation that may "
		        "read collection '%s'; the rest at a TLP level no reader of it gets)",
		        (unsigned long long)im->unreadable,
		        (unsigned long long)im->unreadable_named, coll->alias);
}

/* Both commands: parse options, check the files exist, run each. */
static int
imp_main(const struct cli_cmd *cmd, int argc, char **argv, bool validate_only)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "collection", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "taxii-dump", required_argument, NULL, 't' },
		{ "as", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option validate_longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *collection = NULL, *dump = NULL, *as = NULL;
	const char *config = getenv("TOCSIN_CONFIG");
	struct conf conf;
	bool format_given = false;
	enum import_format format = IMPORT_AUTO;
	struct imp *im = NULL;
	struct store_collection coll;
	struct diag d;
	int c, rc = CLI_EXIT_OK;
	int nstdin = 0;

	while ((c = cli_getopt(cmd, argc, argv, validate_only ? ":f:h" : ":d:c:f:t:a:h",
	                       validate_only ? validate_longopts : longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			collection = optarg;
			break;
		case 'f':
			if (import_format_parse(optarg, &format) != TC_OK)
				return cli_usage_error(cmd, "unknown format '%s'", optarg);
			format_given = true;
			break;
		case 't':
			dump = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'C':
			config = optarg;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	/* the prefix limits: tocsind's [ingest] keys, from its own file */
	conf_defaults(&conf);
	diag_clear(&d);
	if (config && *config && conf_load(&conf, config, &d) != TC_OK) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	if (dump) {
		if (collection || format_given || as)
			return cli_usage_error(cmd, "--taxii-dump keeps the file's collections and "
			                            "format: no --collection, --format or --as");
		if (optind < argc)
			return cli_usage_error(cmd, "--taxii-dump takes one FILE, no others");
		return imp_taxii_dump(dir, dump, conf.widest_prefix_v4, conf.widest_prefix_v6);
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "no FILE given ('-' reads standard input)");

	/* Refuse before storing anything if a file cannot be opened. */
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (strcmp(argv[i], "-") == 0) {
			if (++nstdin > 1)
				return cli_usage_error(cmd, "'-' given more than once");
			continue;
		}
		if (stat(argv[i], &st) != 0 || access(argv[i], R_OK) != 0) {
			cli_err("%s: %s", argv[i], strerror(errno));
			return CLI_EXIT_USAGE;
		}
		if (S_ISDIR(st.st_mode)) {
			cli_err("%s: is a directory", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}

	im = calloc(1, sizeof(*im));
	if (!im) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	im->validate_only = validate_only;
	if (validate_only) {
		/* Cards normalise to a keyed hash; any key will do to see
		 * whether the number is one, and this one is never kept. */
		im->obs.card_key = im->throwaway_key;
		im->obs.card_key_len = sizeof(im->throwaway_key);
		im->obs.widest_prefix_v4 = conf.widest_prefix_v4;
		im->obs.widest_prefix_v6 = conf.widest_prefix_v6;
	} else {
		rc = cli_open_hub(dir, &im->hub);
		if (rc != CLI_EXIT_OK)
			goto out;
		hub_set_widest_prefix(im->hub, conf.widest_prefix_v4, conf.widest_prefix_v6);
		diag_clear(&d);
		if (hub_collection(im->hub, collection, &coll, &d) != TC_OK) {
			cli_err("%s", d.msg[0] ? d.msg : "no such collection");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		im->collection = coll.num;
		im->obs = *hub_obs_ctx(im->hub);
		diag_clear(&d);
		if (registry_open(hub_default_dir(dir), &im->reg, &d) != TC_OK ||
		    reg_snapshot_build(im->reg, hub_store(im->hub), &im->snap, &d) != TC_OK) {
			cli_err("registry: %s", d.msg[0] ? d.msg : "cannot read");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		/* a deleted collection stays in the store but takes nothing */
		if (!reg_snapshot_collection(im->snap, coll.num)) {
			cli_err("collection '%s' was deleted (see tocsin collection list)",
			        coll.uuid);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (as) {
			struct reg_org found;
			if (registry_org_find(im->reg, as, &found) != TC_OK ||
			    !(im->as = reg_snapshot_org(im->snap, found.num))) {
				cli_err("--as: no organisation '%s' (see tocsin org list)", as);
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			policy_subject_org(&im->as_who, im->snap, im->as);
		}
		if ((rc = cli_audit_open_writer(dir, hub_store(im->hub), &im->audit)) !=
		    CLI_EXIT_OK)
			goto out;
		for (size_t k = 0; k < IMPORT_INFLIGHT; k++) {
			if (!(im->batch[k] = calloc(1, sizeof(*im->batch[k])))) {
				cli_err("out of memory");
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			buf_init(&im->batch[k]->wheres, 0);
			buf_init(&im->batch[k]->texts, 0);
		}
#ifdef __GLIBC__
		/* Each batch allocates and frees the same few large arrays:
		 * keep them in the heap instead of mapping fresh pages (which
		 * the kernel clears) every batch. Costs nothing in peak RSS. */
		mallopt(M_MMAP_THRESHOLD, IMPORT_MALLOC_KEEP);
		mallopt(M_TRIM_THRESHOLD, IMPORT_MALLOC_KEEP);
#endif
		/* The trees of a batch are allocated here and freed by the
		 * writer thread: from a batch arena (util/barena.h), each
		 * batch from a region reused once all its blocks are freed.
		 * Installed before the writer thread starts; never removed
		 * (a value it gave may be freed at any time). */
		if (barena_init()) {
			stix_json_set_alloc(barena_malloc, barena_free);
			barena_set_on(true);
		}
		/* From here until hub_writer_stop() only the writer thread
		 * touches the hub. */
		im->be.hub = im->hub;
		atomic_init(&im->be.failed, false);
		struct hub_writer_backend wb = {be_ingest, be_remove, NULL, &im->be, NULL};
		struct hub_writer_cfg wc = {.batch_max_objects = IMPORT_BATCH};
		diag_clear(&d);
		if (hub_writer_start(&wc, &wb, &im->writer, &d) != TC_OK) {
			cli_err("%s", d.msg);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}

	for (int i = optind; i < argc && rc == CLI_EXIT_OK; i++)
		rc = imp_file(im, argv[i], format);
	if (im->writer) {
		hub_writer_stop(im->writer); /* every batch was collected: nothing queued */
		im->writer = NULL;
	}
	barena_set_on(false);

	/* The summary is printed even after a fatal error: it says what
	 * was committed before. */
	if (validate_only)
		printf("valid %llu, invalid %llu\n", (unsigned long long)im->accepted,
		       (unsigned long long)im->rejected);
	else if (im->warnings)
		printf("imported %llu, duplicates %llu, rejected %llu, warnings %llu\n",
		       (unsigned long long)im->accepted, (unsigned long long)im->duplicates,
		       (unsigned long long)im->rejected, (unsigned long long)im->warnings);
	else
		printf("imported %llu, duplicates %llu, rejected %llu\n",
		       (unsigned long long)im->accepted, (unsigned long long)im->duplicates,
		       (unsigned long long)im->rejected);
	imp_print_notes(im);
	/* a hub with no organisations yet serves nobody: nothing to warn of */
	if (!validate_only && im->unreadable && im->snap && reg_snapshot_norgs(im->snap))
		imp_warn_unreadable(im, &coll);
	if (!validate_only && im->stopped)
		printf("stopped part-way (see above): the objects counted as imported and "
		       "duplicates are stored durably, nothing after the place named\n");
	if (rc == CLI_EXIT_OK && im->rejected)
		rc = CLI_EXIT_PROBLEMS;
	if (im->audit) {
		struct buf detail;
		buf_init(&detail, IMPORT_AUDIT_DETAIL_MAX);
		buf_printf(&detail, "imported %llu, duplicates %llu, rejected %llu%s",
		           (unsigned long long)(im->accepted - im->not_kept),
		           (unsigned long long)im->duplicates, (unsigned long long)im->rejected,
		           rc == CLI_EXIT_USAGE ? ", stopped by an error" : "");
		/* the operator's record says what the poster was not told */
		if (im->not_kept)
			buf_printf(&detail, ", %llu not kept (a stored version %s may not see)",
			           (unsigned long long)im->not_kept, im->as->name);
		buf_append_cstr(&detail, "; files");
		for (int i = optind; i < argc; i++)
			buf_printf(&detail, " %s", argv[i]);
		if (buf_error(&detail)) { /* too many names: the counts are what matters */
			buf_clear(&detail);
			buf_printf(&detail, "imported %llu, duplicates %llu, rejected %llu; %d files",
			           (unsigned long long)(im->accepted - im->not_kept),
			           (unsigned long long)im->duplicates,
			           (unsigned long long)im->rejected, argc - optind);
		}
		rc = cli_audit_commit(im->audit,
		                      &(struct audit_entry){ .action = "import",
		                                             .org = im->as ? im->as->name : NULL,
		                                             .collection = coll.uuid,
		                                             .detail = detail.p ? detail.p : "",
		                                             .seqs = im->seqs,
		                                             .nseqs = im->nseqs },
		                      rc);
		im->audit = NULL;
		buf_reset(&detail);
	}
out:
	if (im) {
		cli_audit_abandon(im->audit);
		hub_writer_stop(im->writer);
		for (size_t k = 0; k < IMPORT_INFLIGHT; k++)
			if (im->batch[k]) {
				imp_batch_release(im->batch[k]);
				buf_reset(&im->batch[k]->wheres);
				buf_reset(&im->batch[k]->texts);
				free(im->batch[k]);
			}
		free(im->seqs);
		if (im->snap)
			reg_snapshot_unref(im->snap);
		registry_close(im->reg);
		hub_close(im->hub);
		explicit_bzero(im->throwaway_key, sizeof(im->throwaway_key));
		free(im);
	}
	return cli_finish_stdout(rc);
}

int
cmd_import(const struct cli_cmd *cmd, int argc, char **argv)
{
	return imp_main(cmd, argc, argv, false);
}

int
cmd_validate(const struct cli_cmd *cmd, int argc, char **argv)
{
	return imp_main(cmd, argc, argv, true);
}
