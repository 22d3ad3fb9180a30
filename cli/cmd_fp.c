/*
 * cmd_fp.c — `tocsin fp report|list|show|review` (false positives on
 * indicators, lib/registry/registry_fp.h) and `tocsin sightings ID` (the
 * sightings of an indicator by sector), on the data directory.
 *
 * fp changes go to registry.db; a running tocsind sees them within a
 * second (the registry generation) and holds or releases the indicator's
 * decisions. Each change is audited. `sightings` is the operator's view:
 * every sighting of the indicator, with the organisations that made them.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_audit.h"
#include "cmd.h"
#include "hub/hub.h"
#include "registry/registry.h"
#include "registry/registry_fp.h"
#include "store/store.h"
#include "util/timestamp.h"

#define FP_SECTORS_MAX 16 /* enum reg_sector values fit */

const char cmd_fp_usage[] =
	"usage: tocsin fp report ID --org ORG [--note TEXT] [--data DIR]\n"
	"       tocsin fp list [--json] [--data DIR]\n"
	"       tocsin fp show ID [--data DIR]\n"
	"       tocsin fp review ID --confirm|--reject [--note TEXT] [--data DIR]\n"
	"\n"
	"False positives on indicators (docs/sightings.md). When two or more\n"
	"organisations report an indicator, the hub holds it out of decisions\n"
	"and exports until a coordinator reviews it; a running tocsind applies a\n"
	"change within a second.\n"
	"\n"
	"  report   records ORG's report on indicator ID (what\n"
	"           POST /api/v1/indicators/ID/false-positive does for a key)\n"
	"  list     every reported indicator: state, organisations, last report\n"
	"  show     one indicator's reports, with the organisations that made them\n"
	"  review   the coordinator's verdict: --reject releases the hold (only\n"
	"           reports made later count again); --confirm keeps it held for\n"
	"           good (the hub cannot revoke another organisation's indicator;\n"
	"           its producer is told and may revoke it)\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR     data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -o, --org ORG      the reporting organisation (report)\n"
	"  -n, --note TEXT    a note (at most 1024 bytes)\n"
	"      --confirm      confirm the false positive (review)\n"
	"      --reject       reject it (review)\n"
	"  -j, --json         list as JSON\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 done, 1 no such indicator report, 2 usage error.\n";

const char cmd_sightings_usage[] =
	"usage: tocsin sightings ID [--json] [--data DIR]\n"
	"\n"
	"The sightings of indicator ID (sighting objects whose sighting_of_ref\n"
	"is ID, newest version of each) by the sector of the organisation that\n"
	"made them: how many, the sum of their count, first and last seen, how\n"
	"many were last seen in the last 24 hours, 7 and 30 days, and the\n"
	"organisations. This is the operator's view of every sighting; a member\n"
	"asks GET /api/v1/indicators/ID/sightings and sees only the sightings\n"
	"policy lets it read.\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR     data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -j, --json         print the answer as JSON\n"
	"  -h, --help         show this help\n";

static int
fp_fail(enum tcerr rc, const struct diag *d, const char *what)
{
	if (d && d->msg[0])
		cli_err("%s", d->msg);
	else
		cli_err("%s: %s", what, tcerr_str(rc));
	return rc == TC_ENOTFOUND ? CLI_EXIT_PROBLEMS : CLI_EXIT_USAGE;
}

static int
fp_open(const char *dir, struct registry **r, struct store **s)
{
	char db[PATH_MAX + 8];
	struct stat st;
	struct diag d;
	enum tcerr rc;
	dir = hub_default_dir(dir);
	int n = snprintf(db, sizeof db, "sqlite:%s/tocsin.db", dir);
	if (n < 0 || (size_t)n >= sizeof db) {
		cli_err("%s: path too long", dir);
		return CLI_EXIT_USAGE;
	}
	if (stat(db + 7, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	if ((rc = registry_open(dir, r, &d)))
		return fp_fail(rc, &d, dir);
	if (s && (rc = store_open(db, s, &d))) {
		registry_close(*r);
		*r = NULL;
		return fp_fail(rc, &d, db);
	}
	return CLI_EXIT_OK;
}

static const char *
ts_text(int64_t us, char out[TS_TEXT_MAX])
{
	if (us <= 0 || ts_format(us, 3, out) < 0)
		return "-";
	return out;
}

static enum tcerr
list_one(void *ctx, const struct reg_fp_summary *s)
{
	char t[TS_TEXT_MAX];
	if (ctx) {
		json_t *o = json_pack("{s:s,s:s,s:b,s:I,s:s}", "indicator", s->indicator, "state",
		                      reg_fp_state_name(s->state), "held",
		                      reg_fp_state_holds(s->state), "organisations",
		                      (json_int_t)s->orgs, "last_report", ts_text(s->last_us, t));
		if (!o || json_array_append_new(ctx, o))
			return TC_ENOMEM;
		return TC_OK;
	}
	printf("%s  %-9s %zu organisation%s  last %s\n", s->indicator, reg_fp_state_name(s->state),
	       s->orgs, s->orgs == 1 ? "" : "s", ts_text(s->last_us, t));
	return TC_OK;
}

static enum tcerr
show_one(void *ctx, const struct reg_fp_report *p)
{
	(void)ctx;
	char t[TS_TEXT_MAX];
	const char *sec = reg_sector_name(p->sector);
	printf("  %s  %s (%s)%s  %s\n", ts_text(p->at_us, t), cli_esc(p->org_name),
	       sec ? sec : "?", p->counted ? "" : " [before the rejection]", cli_esc(p->note));
	return TC_OK;
}

static int
fp_summary_print(const struct reg_fp_summary *s)
{
	char t[TS_TEXT_MAX];
	printf("%s\nstate: %s (%zu organisation%s; held from %d)\n", s->indicator,
	       reg_fp_state_name(s->state), s->orgs, s->orgs == 1 ? "" : "s", REG_FP_HOLD_ORGS);
	if (s->reviewed_us)
		printf("reviewed: %s  %s\n", ts_text(s->reviewed_us, t), cli_esc(s->review_note));
	return CLI_EXIT_OK;
}

enum { OPT_CONFIRM = 256, OPT_REJECT };

static const struct option fp_longopts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "org", required_argument, NULL, 'o' },
	{ "note", required_argument, NULL, 'n' },
	{ "confirm", no_argument, NULL, OPT_CONFIRM },
	{ "reject", no_argument, NULL, OPT_REJECT },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_fp(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *org = NULL, *note = NULL;
	bool json = false, confirm = false, reject = false;
	int c;
	while ((c = cli_getopt(cmd, argc, argv, ":d:o:n:jh", fp_longopts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'o': org = optarg; break;
		case 'n': note = optarg; break;
		case 'j': json = true; break;
		case OPT_CONFIRM: confirm = true; break;
		case OPT_REJECT: reject = true; break;
		case 'h': cli_print_usage(cmd, stdout); return CLI_EXIT_OK;
		default: return CLI_EXIT_USAGE;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos < 1)
		return cli_usage_error(cmd, "a subcommand is needed: report, list, show, review");
	const char *sub = pos[0];
	bool is_report = strcmp(sub, "report") == 0, is_list = strcmp(sub, "list") == 0,
	     is_show = strcmp(sub, "show") == 0, is_review = strcmp(sub, "review") == 0;
	if (!is_report && !is_list && !is_show && !is_review)
		return cli_usage_error(cmd, "unknown subcommand '%s'", cli_esc(sub));
	if (npos != (is_list ? 1 : 2))
		return cli_usage_error(cmd, is_list ? "'fp list' takes no argument"
		                                    : "'fp %s' takes one indicator id", sub);
	if (org && !is_report)
		return cli_usage_error(cmd, "--org belongs to 'fp report'");
	if (is_report && !org)
		return cli_usage_error(cmd, "'fp report' needs --org ORG");
	if ((confirm || reject) && !is_review)
		return cli_usage_error(cmd, "--confirm and --reject belong to 'fp review'");
	if (is_review && confirm == reject)
		return cli_usage_error(cmd, "'fp review' needs one of --confirm and --reject");
	if (note && !is_report && !is_review)
		return cli_usage_error(cmd, "--note belongs to 'fp report' and 'fp review'");
	if (json && !is_list)
		return cli_usage_error(cmd, "--json belongs to 'fp list'");

	struct registry *r = NULL;
	int ret = fp_open(dir, &r, NULL);
	if (ret)
		return ret;
	struct diag d;
	diag_clear(&d);
	enum tcerr rc;
	struct reg_fp_summary s;
	if (is_list) {
		json_t *arr = json ? json_array() : NULL;
		if ((rc = registry_fp_list(r, list_one, arr, &d))) {
			json_decref(arr);
			ret = fp_fail(rc, &d, "fp list");
		} else if (arr) {
			char *t = json_dumps(arr, JSON_COMPACT);
			json_decref(arr);
			if (t)
				printf("%s\n", t);
			free(t);
		}
		registry_close(r);
		return ret ? ret : cli_finish_stdout(CLI_EXIT_OK);
	}
	const char *id = pos[1];
	if (is_show) {
		if ((rc = registry_fp_summary(r, id, &s, &d)) ||
		    (fp_summary_print(&s), rc = registry_fp_reports(r, id, show_one, NULL, &d)))
			ret = fp_fail(rc, &d, "fp show");
		registry_close(r);
		return ret ? ret : cli_finish_stdout(CLI_EXIT_OK);
	}
	struct audit *a = NULL;
	struct reg_org o;
	if (is_report && registry_org_find(r, org, &o)) {
		cli_err("%s: no such organisation", cli_esc(org));
		registry_close(r);
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_audit_open(dir, &a))) {
		registry_close(r);
		return ret;
	}
	int64_t now = ts_now_us();
	rc = is_report ? registry_fp_report(r, id, o.num, note, now, &s, &d)
	               : registry_fp_review(r, id, confirm, note, now, &s, &d);
	if (rc) {
		cli_audit_abandon(a);
		registry_close(r);
		return fp_fail(rc, &d, is_report ? "fp report" : "fp review");
	}
	const char *ids[1] = { id };
	char detail[64];
	snprintf(detail, sizeof detail, "state %s, %zu organisations", reg_fp_state_name(s.state),
	         s.orgs);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = is_report ? "fp.report"
	                                                      : confirm  ? "fp.confirm"
	                                                                 : "fp.reject",
	                                              .org = is_report ? o.name : NULL,
	                                              .ids = ids, .nids = 1, .detail = detail },
	                       CLI_EXIT_OK);
	fp_summary_print(&s);
	registry_close(r);
	return cli_finish_stdout(ret);
}

/* ---- sightings ---- */

struct orgs_by_num {
	struct reg_org *v;
	size_t n, cap;
};

static enum tcerr
org_keep(void *ctx, const struct reg_org *o)
{
	struct orgs_by_num *b = ctx;
	if (b->n == b->cap) {
		size_t nc = b->cap ? 2 * b->cap : 16;
		struct reg_org *nv = realloc(b->v, nc * sizeof *nv);
		if (!nv)
			return TC_ENOMEM;
		b->v = nv;
		b->cap = nc;
	}
	b->v[b->n++] = *o;
	return TC_OK;
}

struct cli_sight {
	const char *id;
	const struct orgs_by_num *orgs;
	json_t *by;     /* sector -> counts */
	size_t total;
	int64_t now;
};

static int64_t
obj_ts(json_t *o, const char *key)
{
	const char *t = json_string_value(json_object_get(o, key));
	int64_t us = 0;
	if (!t || ts_parse(slice_from_cstr(t), &us, NULL))
		return 0;
	return us;
}

static enum store_row_verdict
sight_one(void *ctx, const struct store_row *row)
{
	struct cli_sight *cs = ctx;
	if (!memmem(row->json.p, row->json.len, cs->id, strlen(cs->id)))
		return STORE_ROW_SKIP;
	json_t *o = json_loadb(row->json.p, row->json.len, 0, NULL);
	const char *of = json_string_value(json_object_get(o, "sighting_of_ref"));
	if (!of || strcmp(of, cs->id) != 0) {
		json_decref(o);
		return STORE_ROW_SKIP;
	}
	const struct reg_org *org = NULL;
	for (size_t i = 0; i < cs->orgs->n; i++)
		if (cs->orgs->v[i].num == row->producer)
			org = &cs->orgs->v[i];
	const char *sec = org ? reg_sector_name(org->sector) : NULL;
	if (!sec)
		sec = "unknown";
	json_t *e = json_object_get(cs->by, sec);
	if (!e) {
		e = json_pack("{s:i,s:i,s:i,s:i,s:i,s:[]}", "sightings", 0, "count", 0, "last_24h", 0,
		              "last_7d", 0, "last_30d", 0, "organisations");
		json_object_set_new(cs->by, sec, e);
	}
	json_t *cnt = json_object_get(o, "count");
	json_int_t n = json_is_integer(cnt) ? json_integer_value(cnt) : 1;
	int64_t last = obj_ts(o, "last_seen");
	if (!last)
		last = obj_ts(o, "created");
	json_decref(o);
	int64_t age = cs->now - last;
	const int64_t day = 86400LL * 1000000LL;
	struct {
		const char *k;
		json_int_t add;
	} inc[] = { { "sightings", 1 }, { "count", n > 0 ? n : 0 }, { "last_24h", age <= day },
		    { "last_7d", age <= 7 * day }, { "last_30d", age <= 30 * day } };
	for (size_t i = 0; i < sizeof inc / sizeof inc[0]; i++) {
		json_t *v = json_object_get(e, inc[i].k);
		json_integer_set(v, json_integer_value(v) + inc[i].add);
	}
	json_t *names = json_object_get(e, "organisations");
	const char *name = org ? org->name : "(the hub)";
	bool seen = false;
	size_t i;
	json_t *x;
	json_array_foreach(names, i, x) seen = seen || strcmp(json_string_value(x), name) == 0;
	if (!seen)
		json_array_append_new(names, json_string(name));
	cs->total++;
	return STORE_ROW_TAKE;
}

static const struct option si_longopts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
cmd_sightings(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL;
	bool json = false;
	int c;
	while ((c = cli_getopt(cmd, argc, argv, ":d:jh", si_longopts)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'j': json = true; break;
		case 'h': cli_print_usage(cmd, stdout); return CLI_EXIT_OK;
		default: return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "one indicator id is needed");
	struct registry *r = NULL;
	struct store *s = NULL;
	int ret = fp_open(dir, &r, &s);
	if (ret)
		return ret;
	struct orgs_by_num orgs = { 0 };
	struct cli_sight cs = { .id = argv[optind], .orgs = &orgs, .by = json_object(),
		                .now = ts_now_us() };
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = registry_org_list(r, org_keep, &orgs);
	const char *types[1] = { "sighting" };
	struct store_query q = { .types = types, .ntypes = 1, .versions = STORE_V_LAST };
	if (!rc && cs.by)
		rc = store_query(s, &q, sight_one, &cs, NULL, &d);
	if (rc || !cs.by) {
		ret = fp_fail(rc ? rc : TC_ENOMEM, &d, "sightings");
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:I,s:O}", "indicator", cs.id, "sightings",
		                      (json_int_t)cs.total, "by_sector", cs.by);
		char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		if (t)
			printf("%s\n", t);
		free(t);
	} else {
		printf("%s: %zu sighting%s\n", cs.id, cs.total, cs.total == 1 ? "" : "s");
		const char *k;
		json_t *e;
		json_object_foreach(cs.by, k, e) {
			printf("  %-24s %3lld sightings, count %lld, last 24h %lld, 7d %lld, 30d %lld:",
			       k, (long long)json_integer_value(json_object_get(e, "sightings")),
			       (long long)json_integer_value(json_object_get(e, "count")),
			       (long long)json_integer_value(json_object_get(e, "last_24h")),
			       (long long)json_integer_value(json_object_get(e, "last_7d")),
			       (long long)json_integer_value(json_object_get(e, "last_30d")));
			size_t i;
			json_t *x;
			json_array_foreach(json_object_get(e, "organisations"), i, x)
				printf(" %s", cli_esc(json_string_value(x)));
			printf("\n");
		}
	}
	ret = cli_finish_stdout(CLI_EXIT_OK);
out:
	json_decref(cs.by);
	free(orgs.v);
	store_close(s);
	registry_close(r);
	return ret;
}
