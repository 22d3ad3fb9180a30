/*
 * cmd_export.c — `tocsin export` (the indicators as STIX, CSV or a plain
 * list, written by lib/export) and `tocsin stats` (what the data directory
 * holds).
 *
 * Invariant: the output file is written completely or not at all: with
 * -o the export goes to a temporary file beside FILE that is renamed over
 * it only once the export succeeded, so a failed run never leaves half a
 * blocklist where an enforcement point would read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "export/export.h"
#include "export/export_dec.h"
#include "feed/feed.h"
#include "policy/policy.h"
#include "cli_audit.h"
#include "registry/registry.h"
#include "util/buf.h"

const char cmd_export_usage[] =
	"usage: tocsin export [--data DIR] --format FORMAT [--kind KIND]\n"
	"                     [--collection NAME] [--for ORG] [--include-allowlisted]\n"
	"                     [--min-confidence N] [--tlp LEVEL] [--part PART]\n"
	"                     [--offset N] [--limit N] [--max N] [--rpz-zone NAME]\n"
	"                     [--rpz-action nxdomain|nodata|cname] [--rpz-cname NAME]\n"
	"                     [--name NAME] [--strip-scheme] [-o FILE|DIR]\n"
	"\n"
	"Writes the current objects (stix, csv) or the current decisions (every\n"
	"other format: the values to block, from indicators neither revoked nor\n"
	"expired nor allowlisted):\n"
	"  stix              one STIX 2.1 bundle, each object as stored\n"
	"  csv               value,kind,indicator_id,valid_until,tlp,producer,key_id:\n"
	"                    one row per observable (tlp: the effective level)\n"
	"  plain             one value a line (firewall lists, Palo Alto / Fortinet\n"
	"                    external lists); --offset, --limit, --max\n"
	"  rpz               a DNS response policy zone (domains, IPv4/IPv6 rpz-ip)\n"
	"  nft               an nftables script: table inet NAME, sets v4 and v6\n"
	"  ipset             an ipset restore file: sets NAME-v4, NAME-v6 (hash:net)\n"
	"  suricata-dataset  Suricata datasets: parts domains, urls, md5, sha256, ip\n"
	"  suricata-iprep    Suricata IP reputation: parts categories, reputation\n"
	"  zeek              a Zeek intel framework file\n"
	"  misp-feed         a MISP feed: manifest.json, hashes.csv, one event file\n"
	"                    per producer and TLP\n"
	"A multi-part format writes one --part to standard output or FILE, or\n"
	"every part into the directory -o DIR. What a format cannot carry (a\n"
	"kind it has no place for, an address inside a listed network...) is left\n"
	"out and counted on stderr (docs/integrations.md).\n"
	"\n"
	"Values on the allowlist (tocsin allowlist list), and networks that hold\n"
	"one, are left out: a value line or CSV row, or in STIX the whole\n"
	"indicator. How many, and why, is said on stderr.\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR          data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -f, --format FORMAT     one of the formats above (required)\n"
	"  -k, --kind KIND         only observables of KIND (stix: objects having one);\n"
	"                          may be repeated\n"
	"  -c, --collection NAME   only this collection (default: every collection)\n"
	"      --for ORG           only what organisation ORG may see (collection\n"
	"                          read rights and TLP, as the hub serves it);\n"
	"                          default: everything (the operator's view)\n"
	"      --include-allowlisted\n"
	"                          keep allowlisted values, marked: plain a line\n"
	"                          '# allowlisted: REASON' before the value, csv a\n"
	"                          sixth column 'allowlisted', stix the property\n"
	"                          x_tocsin_allowlisted on the indicator\n"
	"      --min-confidence N  decisions: only those with a confidence of N or more\n"
	"      --tlp LEVEL         decisions: only those at LEVEL or less restrictive\n"
	"                          (clear, green, amber, amber+strict, red)\n"
	"      --part PART         the part of a multi-part format to write\n"
	"      --offset N, --limit N\n"
	"                          plain: a page of the list, from value N (from 0)\n"
	"      --max N             plain: at most N values (a device's list limit)\n"
	"      --strip-scheme      plain: URLs without http:// or https:// (PAN-OS URL\n"
	"                          lists)\n"
	"      --rpz-zone NAME     rpz: the zone's name (default rpz.tocsin)\n"
	"      --rpz-action A      rpz: nxdomain (default), nodata, or cname (a walled\n"
	"                          garden: --rpz-cname NAME)\n"
	"      --name NAME         nft: the table (default tocsin); ipset: the sets'\n"
	"                          prefix (default tocsin)\n"
	"  -o, --output FILE       write FILE (replaced atomically when complete)\n"
	"                          instead of standard output; a directory for every\n"
	"                          part of a multi-part format\n"
	"  -h, --help              show this help\n";

/* Where the export goes: stdout, or a temporary file renamed over FILE. */
struct export_sink {
	FILE *f;
	const char *target;         /* -o FILE, or NULL */
	char tmp[4096];             /* the temporary file beside it */
	int err;                    /* errno of the first failed write */
};

static enum tcerr
sink_write(void *ctx, const char *p, size_t n)
{
	struct export_sink *s = ctx;

	if (fwrite(p, 1, n, s->f) != n) {
		s->err = errno ? errno : EIO;
		return TC_EIO;
	}
	return TC_OK;
}

/* Opens a temporary file in FILE's directory, so the final rename() stays
 * on one file system and is atomic. Returns CLI_EXIT_OK or reports. */
static int
sink_open(struct export_sink *s, const char *target)
{
	const char *slash = strrchr(target, '/');
	int dirlen = slash ? (int)(slash - target + 1) : 0;
	const char *base = slash ? slash + 1 : target;
	mode_t mask;
	int fd, n;

	s->target = target;
	if (*base == '\0') {
		cli_err("%s: is a directory", target);
		return CLI_EXIT_USAGE;
	}
	n = snprintf(s->tmp, sizeof(s->tmp), "%.*s.%s.XXXXXX", dirlen, target, base);
	if (n < 0 || (size_t)n >= sizeof(s->tmp)) {
		cli_err("%s: path too long", target);
		return CLI_EXIT_USAGE;
	}
	fd = mkstemp(s->tmp);
	if (fd < 0) {
		cli_err("%s: %s", target, strerror(errno));
		s->tmp[0] = '\0';
		return CLI_EXIT_USAGE;
	}
	/* mkstemp makes 0600; a block list is read by other daemons, so give
	 * it the mode a new file would get. */
	mask = cli_user_umask;
	if (fchmod(fd, 0666 & ~mask) != 0 || (s->f = fdopen(fd, "w")) == NULL) {
		cli_err("%s: %s", s->tmp, strerror(errno));
		close(fd);
		unlink(s->tmp);
		s->tmp[0] = '\0';
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Makes the output durable and visible (ok), or throws it away. */
static int
sink_close(struct export_sink *s, bool ok)
{
	if (!s->target) {
		if (ok && (fflush(stdout) != 0 || ferror(stdout))) {
			cli_err("stdout: %s", strerror(errno ? errno : EIO));
			return CLI_EXIT_USAGE;
		}
		return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (ok && (fflush(s->f) != 0 || ferror(s->f) || fsync(fileno(s->f)) != 0)) {
		cli_err("%s: %s", s->target, strerror(errno ? errno : EIO));
		ok = false;
	}
	if (fclose(s->f) != 0 && ok) {
		cli_err("%s: %s", s->target, strerror(errno));
		ok = false;
	}
	if (ok && rename(s->tmp, s->target) != 0) {
		cli_err("%s: %s", s->target, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(s->tmp);
	return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Builds the policy subject of organisation name (--for): the registry's
 * snapshot over h's store, and the organisation in it. OUT: *reg, *snap
 * (the caller frees them, also on error), *who. Returns a CLI_EXIT_*. */
static int
for_subject(const char *dir, struct hub *h, const char *name, struct registry **reg,
            struct reg_snapshot **snap, struct policy_subject *who)
{
	const struct reg_org *org;
	struct reg_org found;
	struct diag d;

	diag_clear(&d);
	if (registry_open(hub_default_dir(dir), reg, &d) != TC_OK) {
		cli_err("%s", d.msg[0] ? d.msg : "cannot open the registry");
		return CLI_EXIT_USAGE;
	}
	if (registry_org_find(*reg, name, &found) != TC_OK) {
		cli_err("--for: no organisation '%s' (see tocsin org list)", name);
		return CLI_EXIT_USAGE;
	}
	if (reg_snapshot_build(*reg, hub_store(h), snap, &d) != TC_OK) {
		cli_err("registry: %s", d.msg[0] ? d.msg : "cannot read");
		return CLI_EXIT_USAGE;
	}
	org = reg_snapshot_org(*snap, found.num);
	if (!org) {
		cli_err("--for: organisation '%s' changed while reading; try again", name);
		return CLI_EXIT_USAGE;
	}
	policy_subject_org(who, *snap, org);
	return CLI_EXIT_OK;
}

/* The AMBER, AMBER+STRICT and RED versions an export --for showed, as
 * "id@version" strings NUL-separated in one buffer, for the audit log. */
struct export_reads {
	struct buf ids;
	size_t n;
	const struct policy_subject *who;
};

/* Ids per audit entry: AUDIT_IDS_MAX "id@version" strings of ~90 bytes
 * would come close to AUDIT_LINE_MAX; half keeps well below it. */
#define EXPORT_AUDIT_IDS (AUDIT_IDS_MAX / 2)

static enum tcerr
export_taken(void *ctx, const struct store_row *row)
{
	struct export_reads *r = ctx;
	if (!policy_audit_read(r->who, row))
		return TC_OK;
	buf_printf(&r->ids, "%s@%s", row->id, row->version);
	buf_append_char(&r->ids, '\0');
	r->n++;
	return buf_error(&r->ids);
}

/* Appends the "read" entries of an export for org (one, or more when
 * over EXPORT_AUDIT_IDS ids), syncs and closes a. Returns rc or worse. */
static int
export_audit(struct audit *a, const struct export_reads *r, const char *org, bool ok, int rc)
{
	const char **ids = NULL;
	char detail[128];
	const char *p = r->ids.p;
	struct diag d;
	enum tcerr arc = TC_OK;

	if (r->n && !(ids = calloc(r->n, sizeof(*ids)))) {
		arc = TC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		ids[i] = p;
		p += strlen(p) + 1;
	}
	size_t i = 0;
	do {
		size_t n = r->n - i < EXPORT_AUDIT_IDS ? r->n - i : EXPORT_AUDIT_IDS;
		snprintf(detail, sizeof(detail), "tocsin export --for: %zu amber/red versions%s",
		         r->n, ok ? "" : ", export failed part-way");
		struct audit_entry e = {
			.action = "read",
			.actor = "operator",
			.org = org,
			.request = "tocsin export --for",
			.ids = n ? ids + i : NULL,
			.nids = n,
			.detail = detail,
		};
		diag_clear(&d);
		if ((arc = audit_append(a, &e, &d)))
			goto out;
		i += n;
	} while (i < r->n);
out:
	free(ids);
	/* syncs and closes; an empty entry list cannot happen here */
	if (arc) {
		audit_close(a);
		cli_err("the export was done but could not be written to the audit log: %s",
		        tcerr_str(arc));
		return rc > CLI_EXIT_PROBLEMS ? rc : CLI_EXIT_PROBLEMS;
	}
	diag_clear(&d);
	arc = audit_sync(a, &d);
	audit_close(a);
	if (arc) {
		cli_err("the export was done but the audit log could not be synced: %s",
		        d.msg[0] ? d.msg : tcerr_str(arc));
		return rc > CLI_EXIT_PROBLEMS ? rc : CLI_EXIT_PROBLEMS;
	}
	return rc;
}

/* Says on stderr how many allowlisted values the export left out (or
 * kept, marked), per reason: the operator learns that the feed held them,
 * and the output stays a clean block list. */
static void
report_allowlisted(const struct export_opts *o, const struct export_counts *c)
{
	size_t n = o->include_allowlisted ? c->allowlisted_kept : c->allowlisted;
	if (!n)
		return;
	const char *unit = o->format == EXPORT_STIX ? "indicators" : "values";
	if (o->include_allowlisted)
		cli_err("export: kept %zu allowlisted %s, marked; per reason:", n, unit);
	else
		cli_err("export: left out %zu allowlisted %s (--include-allowlisted keeps them, "
		        "marked); per reason:",
		        n, unit);
	for (size_t i = 0; i < c->nreasons; i++)
		fprintf(stderr, "  %6zu  %s\n", c->reasons[i].count, c->reasons[i].reason);
	if (c->reasons_other)
		fprintf(stderr, "  %6zu  other reasons\n", c->reasons_other);
}

/* Decisions an export --for wrote whose indicators are AMBER or above:
 * their ids, for the audit log (a decision names indicators, not
 * versions). */
static enum tcerr
dec_taken(void *ctx, const struct feed_decision *dec)
{
	struct export_reads *r = ctx;
	size_t n = dec->nindicators < FEED_DECISION_MAX_INDICATORS ? dec->nindicators
	                                                             : FEED_DECISION_MAX_INDICATORS;
	for (size_t i = 0; i < n && dec->indicators; i++) {
		if (dec->indicators[i].tlp < TLP_AMBER || !dec->indicators[i].id)
			continue;
		buf_append_cstr(&r->ids, dec->indicators[i].id);
		buf_append_char(&r->ids, '\0');
		r->n++;
	}
	return buf_error(&r->ids);
}

/* Says on stderr what a decision export left out, per reason, and the
 * allowlist's reasons. */
static void
report_left_out(const char *what, const struct export_dec_opts *o,
                const struct export_dec_counts *c)
{
	char text[512];
	export_dec_left_out_text(c, text, sizeof(text));
	if (text[0])
		cli_err("export %s%s%s: wrote %zu, left out: %s", export_format_name(o->format),
		        what ? " " : "", what ? what : "", c->written, text);
	size_t n = o->include_allowlisted ? c->allow.allowlisted_kept : c->allow.allowlisted;
	if (!n)
		return;
	cli_err("export: %s %zu allowlisted values%s; per reason:",
	        o->include_allowlisted ? "kept" : "left out", n,
	        o->include_allowlisted ? ", marked" : "");
	for (size_t i = 0; i < c->allow.nreasons; i++)
		fprintf(stderr, "  %6zu  %s\n", c->allow.reasons[i].count, c->allow.reasons[i].reason);
	if (c->allow.reasons_other)
		fprintf(stderr, "  %6zu  other reasons\n", c->allow.reasons_other);
}

static enum tcerr
discard(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return TC_OK;
}

/* The decisions hold no allowlisted value: the operator learns what the
 * allowlist keeps out from a count-only pass over the stored objects
 * (what a plain export of them would leave out), as before decisions. */
static void
report_allowlisted_stored(struct hub *h, const struct export_opts *opts)
{
	struct export_opts co = *opts;
	struct export_counts counts;
	struct diag d;
	co.format = EXPORT_PLAIN;
	co.taken = NULL;
	co.include_allowlisted = false;
	diag_clear(&d);
	if (export_hub(h, &co, discard, NULL, &counts, &d) == TC_OK)
		report_allowlisted(&co, &counts);
}

/* One decision export of part (NULL: the format's only or first) to
 * output (a file, replaced atomically, or NULL: stdout). Returns a
 * CLI_EXIT_*; TC_ENOTFOUND (a misp event gone) in *trc_out. */
static int
dec_one(const struct feed_ctx *fc, const struct feed_filter *f, const struct export_dec_opts *o,
        const char *part, const char *output, enum tcerr *trc_out)
{
	struct export_sink sink;
	struct export_dec_opts po = *o;
	struct export_dec_counts counts;
	struct diag d;
	int rc;

	memset(&sink, 0, sizeof(sink));
	if (part)
		po.part = part;
	sink.f = stdout;
	if (output && (rc = sink_open(&sink, output)) != CLI_EXIT_OK)
		return rc;
	diag_clear(&d);
	enum tcerr trc = export_decisions(fc, f, &po, sink_write, &sink, &counts, NULL, &d);
	if (trc_out)
		*trc_out = trc;
	if (trc != TC_OK) {
		if (trc == TC_EIO && sink.err)
			cli_err("%s: %s", output ? output : "stdout", strerror(sink.err));
		else
			cli_err("export: %s", d.msg[0] ? d.msg : tcerr_str(trc));
	}
	rc = sink_close(&sink, trc == TC_OK);
	if (trc == TC_OK)
		report_left_out(part, &po, &counts);
	return rc;
}

/* The file a part goes to in a directory. */
static int
part_path(char *out, size_t n, const char *dir, enum export_format f, const char *part)
{
	const char *ext = "";
	if (f == EXPORT_SURICATA_DATASET)
		ext = ".lst";
	else if (f == EXPORT_SURICATA_IPREP)
		ext = strcmp(part, "categories") == 0 ? ".txt" : ".list";
	int k = snprintf(out, n, "%s/%s%s", dir, part, ext);
	if (k < 0 || (size_t)k >= n) {
		cli_err("%s: path too long", dir);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Every part of a multi-part format into directory outdir (made if
 * missing); misp-feed: the manifest, hashes.csv, then each event the
 * manifest names. Each part is its own snapshot: a change between them
 * shows in the next run. */
static int
dec_all_parts(const struct feed_ctx *fc, const struct feed_filter *f,
              const struct export_dec_opts *o, const char *outdir)
{
	char path[4096];
	int rc;
	if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
		cli_err("%s: %s", outdir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	const char *const *parts = export_dec_parts(o->format);
	for (size_t i = 0; parts[i]; i++) {
		if ((rc = part_path(path, sizeof(path), outdir, o->format, parts[i])) ||
		    (rc = dec_one(fc, f, o, parts[i], path, NULL)))
			return rc;
	}
	if (o->format != EXPORT_MISP_FEED)
		return CLI_EXIT_OK;
	if ((rc = part_path(path, sizeof(path), outdir, o->format, "manifest.json")))
		return rc;
	json_error_t je;
	json_t *man = json_load_file(path, 0, &je);
	if (!json_is_object(man)) {
		json_decref(man);
		cli_err("%s: cannot read back: %s", path, je.text);
		return CLI_EXIT_PROBLEMS;
	}
	const char *uuid;
	json_t *v;
	rc = CLI_EXIT_OK;
	json_object_foreach(man, uuid, v) {
		char part[64];
		snprintf(part, sizeof(part), "%.36s.json", uuid);
		enum tcerr trc = TC_OK;
		if ((rc = part_path(path, sizeof(path), outdir, o->format, part)))
			break;
		rc = dec_one(fc, f, o, part, path, &trc);
		if (trc == TC_ENOTFOUND) {
			/* its last decision went between the two reads: the next
			 * run's manifest no longer names it */
			rc = CLI_EXIT_OK;
			continue;
		}
		if (rc)
			break;
	}
	json_decref(man);
	return rc;
}

int
cmd_export(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "kind", required_argument, NULL, 'k' },
		{ "collection", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "for", required_argument, NULL, 'F' },
		{ "include-allowlisted", no_argument, NULL, 'A' },
		{ "min-confidence", required_argument, NULL, 'M' },
		{ "tlp", required_argument, NULL, 'T' },
		{ "part", required_argument, NULL, 'P' },
		{ "offset", required_argument, NULL, 'O' },
		{ "limit", required_argument, NULL, 'L' },
		{ "max", required_argument, NULL, 'X' },
		{ "rpz-zone", required_argument, NULL, 'Z' },
		{ "rpz-action", required_argument, NULL, 'R' },
		{ "rpz-cname", required_argument, NULL, 'C' },
		{ "name", required_argument, NULL, 'N' },
		{ "strip-scheme", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_opts opts;
	struct export_dec_opts dopts;
	struct policy_subject who;
	struct registry *reg = NULL;
	struct reg_snapshot *snap = NULL;
	struct audit *audit = NULL;
	struct export_reads reads = { .n = 0 };
	const char *for_org = NULL, *min_conf = NULL, *tlp = NULL;
	const char *kinds[OBS_KIND_MAX + 1];
	size_t nkinds = 0;
	bool dec_only = false;
	struct export_sink sink;
	struct export_counts counts;
	const char *dir = NULL, *output = NULL;
	bool have_format = false;
	struct hub *h = NULL;
	enum obs_kind kind;
	struct feed_filter_store fs;
	struct diag d;
	enum tcerr trc;
	int c, rc;

	memset(&opts, 0, sizeof(opts));
	memset(&dopts, 0, sizeof(dopts));
	memset(&sink, 0, sizeof(sink));
	while ((c = cli_getopt(cmd, argc, argv, ":d:f:k:c:o:h", longopts)) != -1) {
		uint64_t *num = NULL;
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			if (export_format_parse(optarg, &opts.format) != TC_OK)
				return cli_usage_error(cmd, "unknown format '%s'", optarg);
			have_format = true;
			break;
		case 'k':
			if (!cli_parse_kind(cmd, optarg, &kind))
				return CLI_EXIT_USAGE;
			opts.kinds |= EXPORT_KIND_BIT(kind);
			if (nkinds <= OBS_KIND_MAX)
				kinds[nkinds++] = obs_kind_name(kind);
			break;
		case 'c':
			opts.collection = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'F':
			for_org = optarg;
			break;
		case 'A':
			opts.include_allowlisted = true;
			break;
		case 'M':
			min_conf = optarg;
			dec_only = true;
			break;
		case 'T':
			tlp = optarg;
			dec_only = true;
			break;
		case 'P':
			dopts.part = optarg;
			break;
		case 'O':
			num = &dopts.offset;
			break;
		case 'L':
			num = &dopts.limit;
			break;
		case 'X':
			num = &dopts.max;
			break;
		case 'Z':
			dopts.rpz_origin = optarg;
			break;
		case 'R':
			if (export_rpz_action_parse(optarg, &dopts.rpz_action) != TC_OK)
				return cli_usage_error(cmd, "--rpz-action: nxdomain, nodata or cname");
			break;
		case 'C':
			dopts.rpz_cname = optarg;
			break;
		case 'N':
			dopts.name = optarg;
			break;
		case 'S':
			dopts.strip_scheme = true;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
		if (num) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-')
				return cli_usage_error(cmd, "%s: not a whole number", argv[optind - 1]);
			*num = n;
		}
	}
	if (!have_format)
		return cli_usage_error(cmd, "--format is required (stix, csv, plain, rpz, nft, "
		                            "ipset, suricata-dataset, suricata-iprep, zeek, misp-feed)");
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	bool dec = export_format_is_decisions(opts.format);
	/* plain with its allowlisted values marked: the stored observables, as
	 * before decisions (the decisions hold no allowlisted value) */
	if (opts.format == EXPORT_PLAIN && opts.include_allowlisted)
		dec = false;
	if (!dec && dec_only)
		return cli_usage_error(cmd, "--min-confidence and --tlp filter decisions: not %s",
		                       export_format_name(opts.format));
	if (opts.include_allowlisted && dec && opts.format != EXPORT_PLAIN)
		return cli_usage_error(cmd, "--include-allowlisted: stix, csv and plain only (an "
		                            "enforcement format never carries an allowlisted value)");
	bool all_parts = dec && export_dec_parts(opts.format) && !dopts.part;
	if (all_parts && !output)
		return cli_usage_error(cmd, "%s has parts: --part PART, or -o DIR for every part",
		                       export_format_name(opts.format));

	rc = cli_open_hub(dir, &h);
	if (rc != CLI_EXIT_OK)
		return rc;
	feed_filter_init(&fs);
	/* Refuse an unknown collection before creating any file. */
	if (opts.collection) {
		struct store_collection coll;
		diag_clear(&d);
		if (hub_collection(h, opts.collection, &coll, &d) != TC_OK) {
			cli_err("%s", d.msg[0] ? d.msg : "no such collection");
			hub_close(h);
			return CLI_EXIT_USAGE;
		}
	}
	if (for_org) {
		rc = for_subject(dir, h, for_org, &reg, &snap, &who);
		if (rc != CLI_EXIT_OK)
			goto out;
		opts.who = &who;
		opts.names = snap;
		/* DESIGN §2.3: an export for an organisation is a read by it */
		if ((rc = cli_audit_open(dir, &audit)) != CLI_EXIT_OK)
			goto out;
		buf_init(&reads.ids, 0);
		opts.taken = export_taken;
		opts.taken_ctx = &reads;
		dopts.taken = dec_taken;
		dopts.taken_ctx = &reads;
		reads.who = &who;
	}
	if (!snap) {
		/* producer names for csv and stix (issue 8); without them the
		 * export still goes, with numbers */
		diag_clear(&d);
		if (registry_open(hub_default_dir(dir), &reg, &d) == TC_OK &&
		    reg_snapshot_build(reg, hub_store(h), &snap, &d) == TC_OK)
			opts.names = snap;
	}
	if (dec) {
		/* offline, nobody else keeps the decisions current: the
		 * allowlist file may have changed, indicators may have expired */
		size_t events = 0;
		diag_clear(&d);
		if (hub_decisions_maintain(h, 0, &events, &d) != TC_OK) {
			cli_err("decisions: %s", d.msg[0] ? d.msg : "cannot bring them up to date");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		/* the feed's filter: the same words as the HTTP query */
		struct filter_word { const char *key, *value; } fl[OBS_KIND_MAX + 4];
		size_t nf = 0;
		if (opts.collection)
			fl[nf++] = (struct filter_word){ "collection", opts.collection };
		for (size_t i = 0; i < nkinds; i++)
			fl[nf++] = (struct filter_word){ "kind", kinds[i] };
		if (min_conf)
			fl[nf++] = (struct filter_word){ "min_confidence", min_conf };
		if (tlp)
			fl[nf++] = (struct filter_word){ "tlp", tlp };
		for (size_t i = 0; i < nf; i++) {
			diag_clear(&d);
			if (feed_filter_set(&fs, hub_store(h), fl[i].key, slice_from_cstr(fl[i].value),
			                    &d) != TC_OK) {
				cli_err("%s", d.msg[0] ? d.msg : "bad filter");
				rc = CLI_EXIT_USAGE;
				goto out;
			}
		}
		struct feed_ctx fc = {
			.store = hub_store(h), .who = opts.who, .names = snap,
			.allow = hub_allowlist(h),
			/* as the hub's tocsind last recorded it */
			.block_min_confidence = feed_block_min_confidence(hub_store(h)),
		};
		dopts.format = opts.format;
		dopts.id_key = hub_id_key(h);
		dopts.id_key_len = HUB_ID_KEY_LEN;
		dopts.include_allowlisted = opts.include_allowlisted;
		if (all_parts)
			rc = dec_all_parts(&fc, &fs.f, &dopts, output);
		else
			rc = dec_one(&fc, &fs.f, &dopts, NULL, output, NULL);
		if (rc == CLI_EXIT_OK)
			report_allowlisted_stored(h, &opts);
		if (audit && (rc == CLI_EXIT_OK || !output)) {
			rc = export_audit(audit, &reads, who.org->name, rc == CLI_EXIT_OK, rc);
			audit = NULL;
		}
		goto out;
	}
	sink.f = stdout;
	if (output && (rc = sink_open(&sink, output)) != CLI_EXIT_OK)
		goto out;
	diag_clear(&d);
	trc = export_hub(h, &opts, sink_write, &sink, &counts, &d);
	if (trc != TC_OK) {
		if (trc == TC_EIO && sink.err)
			cli_err("%s: %s", output ? output : "stdout", strerror(sink.err));
		else
			cli_err("export: %s", d.msg[0] ? d.msg : tcerr_str(trc));
	}
	rc = sink_close(&sink, trc == TC_OK);
	if (trc == TC_OK)
		report_allowlisted(&opts, &counts);
	/* a file is only made visible on success; stdout may have received
	 * part of the output even when the export failed */
	if (audit && (rc == CLI_EXIT_OK || !output)) {
		rc = export_audit(audit, &reads, who.org->name, rc == CLI_EXIT_OK, rc);
		audit = NULL;
	}
out:
	if (audit)
		audit_close(audit);
	feed_filter_reset(&fs);
	buf_reset(&reads.ids);
	if (snap)
		reg_snapshot_unref(snap);
	if (reg)
		registry_close(reg);
	hub_close(h);
	return rc;
}

const char cmd_stats_usage[] =
	"usage: tocsin stats [--data DIR] [--json]\n"
	"\n"
	"Shows what the data directory holds: log position, object versions,\n"
	"objects, collections, current indicators, revoked objects, observables\n"
	"per kind, match index entries and memory, allowlist entries, and the\n"
	"time to act on response tasks per organisation (docs/coordination.md).\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -j, --json       one JSON object instead of text\n"
	"  -h, --help       show this help\n";

int
cmd_stats(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	bool json = false;
	struct hub *h = NULL;
	struct store_stats st;
	enum tcerr trc;
	int c, rc;

	while ((c = cli_getopt(cmd, argc, argv, ":d:jh", longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	rc = cli_open_hub(dir, &h);
	if (rc != CLI_EXIT_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	trc = store_stats(hub_store(h), &st);
	if (trc != TC_OK) {
		cli_err("%s: %s", hub_default_dir(dir), tcerr_str(trc));
		hub_close(h);
		return CLI_EXIT_USAGE;
	}
	size_t entries = index_count(hub_index(h));
	size_t memory = index_memory(hub_index(h));
	size_t allow = allowlist_count(hub_allowlist(h));
	if (json) {
		printf("{\"log_position\":%llu,\"versions\":%llu,\"objects\":%llu,"
		       "\"collections\":%llu,\"indicators\":%llu,\"revoked\":%llu,"
		       "\"observables\":{",
		       (unsigned long long)st.log_position, (unsigned long long)st.versions,
		       (unsigned long long)st.objects, (unsigned long long)st.collections,
		       (unsigned long long)st.indicators, (unsigned long long)st.revoked);
		for (int k = 1; k <= OBS_KIND_MAX; k++)
			printf("%s\"%s\":%llu", k > 1 ? "," : "", obs_kind_name((enum obs_kind)k),
			       (unsigned long long)st.observables[k]);
		printf("},\"index\":{\"entries\":%zu,\"memory_bytes\":%zu},"
		       "\"allowlist_entries\":%zu,\"tasks\":",
		       entries, memory, allow);
		/* time to act per organisation (cmd_task.c) */
		if (!cli_task_stats_print(dir, true))
			fputs("null", stdout);
		fputs("}\n", stdout);
	} else {
		cli_fprintf(stdout, "data directory     %s\n", hub_default_dir(dir));
		printf("log position       %llu\n", (unsigned long long)st.log_position);
		printf("versions           %llu\n", (unsigned long long)st.versions);
		printf("objects            %llu\n", (unsigned long long)st.objects);
		printf("collections        %llu\n", (unsigned long long)st.collections);
		printf("indicators         %llu\n", (unsigned long long)st.indicators);
		printf("revoked            %llu\n", (unsigned long long)st.revoked);
		printf("observables\n");
		for (int k = 1; k <= OBS_KIND_MAX; k++)
			if (st.observables[k])
				printf("  %-16s %llu\n", obs_kind_name((enum obs_kind)k),
				       (unsigned long long)st.observables[k]);
		printf("index entries      %zu\n", entries);
		printf("index memory       %zu bytes", memory);
		if (entries)
			printf(" (%.1f per entry)", (double)memory / (double)entries);
		printf("\n");
		printf("allowlist entries  %zu\n", allow);
		cli_task_stats_print(dir, false);
	}
	hub_close(h);
	return cli_finish_stdout(CLI_EXIT_OK);
}
