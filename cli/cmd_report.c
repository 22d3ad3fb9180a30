/*
 * cmd_report.c — `tocsin report list|show|confirm|reject`: the triage
 * queue of citizen reports (docs/reports.md), read from and decided in
 * DATA/reports.db directly, like `tocsin key list` reads the registry.
 *
 * A confirmation here only records the decision: a running tocsind
 * publishes the indicator within a second (its promoter looks for
 * confirmed groups), so the one writer of the log stays the daemon's.
 * `show --contacts` is the only way contact details leave the file, to
 * the hub operator's terminal; decisions are audited with counts only.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_audit.h"
#include "cli_util.h"
#include "cmd.h"
#include "hub/hub.h"
#include "report/report_db.h"
#include "util/timestamp.h"

const char cmd_report_usage[] =
	"usage: tocsin report list [--state STATE] [--limit N] [--json] [--data DIR]\n"
	"       tocsin report show GROUP [--contacts] [--json] [--data DIR]\n"
	"       tocsin report confirm GROUP [--note TEXT] [--data DIR]\n"
	"       tocsin report reject GROUP [--note TEXT] [--data DIR]\n"
	"\n"
	"The triage queue of citizen reports (the public form /report and\n"
	"POST /api/v1/reports): reports grouped by normalised value, with the\n"
	"number of reports, of independent reporters (distinct client addresses)\n"
	"and of contacts given.\n"
	"\n"
	"  list     groups, most reporters first (STATE: open, confirmed,\n"
	"           rejected, promoted)\n"
	"  show     one group: whether the value is allowlisted, the indicators\n"
	"           that already name it, and its reports (text, whether a contact\n"
	"           was given); --contacts adds the contact details, for the hub's\n"
	"           staff only: they never leave the hub otherwise\n"
	"  confirm  marks the group confirmed; a running tocsind publishes it as an\n"
	"           indicator of the organisation 'citizen reports' within a second\n"
	"  reject   marks the group rejected (until promoted, a decision can be\n"
	"           changed)\n"
	"\n"
	"Options:\n"
	"  -s, --state STATE  list only groups in STATE\n"
	"  -n, --limit N      list at most N groups (default 100, at most 10000)\n"
	"  -c, --contacts     show: print the contact details too\n"
	"  -m, --note TEXT    confirm, reject: why (kept with the decision)\n"
	"  -j, --json         one JSON object a line\n"
	"  -d, --data DIR     data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 done, 1 no such group, 2 usage error.\n";

struct rargs {
	const char *dir, *note;
	enum report_state state;
	size_t limit;
	bool json, contacts;
};

static void
print_group(const struct report_group *g, bool json)
{
	char f[TS_TEXT_MAX], l[TS_TEXT_MAX];
	ts_format(g->first_us, 0, f);
	ts_format(g->last_us, 0, l);
	if (json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:b}",
		                      "id", (json_int_t)g->id, "kind", obs_kind_name(g->okind),
		                      "report_kind", report_kind_name(g->rkind), "value", g->value,
		                      "reports", (int)g->nreports, "reporters", (int)g->nreporters,
		                      "contacts", (int)g->ncontacts, "first", f, "last", l, "state",
		                      report_state_name(g->state), "held", g->held);
		if (o && g->indicator[0])
			json_object_set_new(o, "indicator", json_string(g->indicator));
		if (o && g->note[0])
			json_object_set_new(o, "note", json_string(g->note));
		if (o && g->decided_by[0])
			json_object_set_new(o, "decided_by", json_string(g->decided_by));
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
		return;
	}
	printf("%lld\t%s\t%s\t%s\treports=%u reporters=%u contacts=%u\tlast=%s%s%s\n",
	            (long long)g->id, report_state_name(g->state), obs_kind_name(g->okind),
	            cli_esc(g->value), g->nreports, g->nreporters, g->ncontacts, l,
	            g->indicator[0] ? "\tindicator=" : "", g->indicator);
}

static enum tcerr
on_group(void *ctx, const struct report_group *g)
{
	print_group(g, *(bool *)ctx);
	return TC_OK;
}

struct show_ctx {
	bool json;
};

static enum tcerr
on_row(void *ctx, const struct report_row *r)
{
	struct show_ctx *c = ctx;
	char t[TS_TEXT_MAX];
	ts_format(r->received_us, 0, t);
	if (c->json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b}", "report", (json_int_t)r->id,
		                      "received", t, "kind", report_kind_name(r->rkind), "text",
		                      r->text, "has_contact", r->has_contact);
		if (o && r->contact)
			json_object_set_new(o, "contact", json_string(r->contact));
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
		return TC_OK;
	}
	printf("  report %lld\t%s\t%s\t%s%s%s\n", (long long)r->id, t,
	            report_kind_name(r->rkind), cli_esc(r->text),
	            r->contact ? "\tcontact: " : (r->has_contact ? "\t(contact given)" : ""),
	            r->contact ? cli_esc(r->contact) : "");
	return TC_OK;
}

static int
open_db(const char *dir, struct report_db **db)
{
	struct diag d;
	const char *path = hub_default_dir(dir);
	if (hub_check_dir(path, &d) != TC_OK) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	if (report_db_open(path, db, &d) != TC_OK) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static bool
parse_group(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0)
		return false;
	*out = v;
	return true;
}

/* show: the allowlist and the indicators naming the value (the whole
 * hub: the operator sees everything). */
static void
show_checks(const struct rargs *a, const struct report_group *g)
{
	struct hub *h = NULL;
	if (cli_open_hub(a->dir, &h) != CLI_EXIT_OK)
		return;
	struct hub_match *m = calloc(1, sizeof *m);
	struct diag d;
	enum obs_kind k = g->okind;
	if (m && hub_match(h, slice_from_cstr(g->value), &k, m, &d) == TC_OK) {
		if (a->json) {
			json_t *ids = json_array();
			for (size_t i = 0; i < m->nhits && i < HUB_MATCH_MAX_HITS; i++)
				json_array_append_new(ids, json_string(m->hits[i].indicator_id));
			json_t *o = json_pack("{s:b, s:o, s:I}", "allowlisted", m->allowlisted,
			                      "indicators", ids, "indicators_total",
			                      (json_int_t)m->nhits);
			char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		} else {
			printf("  allowlisted: %s%s%s\n", m->allowlisted ? "yes" : "no",
			            m->allowlisted ? " — " : "",
			            m->allowlisted ? cli_esc(m->allowlist_reason) : "");
			printf("  indicators naming it: %zu\n", m->nhits);
			for (size_t i = 0; i < m->nhits && i < HUB_MATCH_MAX_HITS; i++)
				printf("    %s\n", m->hits[i].indicator_id);
		}
	}
	free(m);
	hub_close(h);
}

int
cmd_report(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' }, { "limit", required_argument, NULL, 'n' },
		{ "contacts", no_argument, NULL, 'c' },    { "note", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },        { "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
	};
	struct rargs a = { .limit = 100 };
	int c;
	if (argc < 2)
		return cli_usage_error(cmd, "a subcommand is required (list, show, confirm, reject)");
	const char *sub = argv[1];
	argv++;
	argc--;
	while ((c = cli_getopt(cmd, argc, argv, ":s:n:cm:jd:h", longopts)) != -1) {
		switch (c) {
		case 's':
			if (!report_state_parse(optarg, &a.state))
				return cli_usage_error(cmd, "--state: open, confirmed, rejected or promoted");
			break;
		case 'n': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || !n || n > REPORT_LIST_MAX)
				return cli_usage_error(cmd, "--limit: 1..%d", REPORT_LIST_MAX);
			a.limit = n;
			break;
		}
		case 'c': a.contacts = true; break;
		case 'm': a.note = optarg; break;
		case 'j': a.json = true; break;
		case 'd': a.dir = optarg; break;
		case 'h': cli_print_usage(cmd, stdout); return CLI_EXIT_OK;
		default: return CLI_EXIT_USAGE;
		}
	}
	bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0;
	bool confirm = strcmp(sub, "confirm") == 0, reject = strcmp(sub, "reject") == 0;
	if (!list && !show && !confirm && !reject)
		return cli_usage_error(cmd, "unknown subcommand '%s'", cli_esc(sub));
	int64_t group = 0;
	if (list && optind != argc)
		return cli_usage_error(cmd, "list takes no argument");
	if (!list && (optind + 1 != argc || !parse_group(argv[optind], &group)))
		return cli_usage_error(cmd, "%s takes one GROUP number", sub);

	struct report_db *db = NULL;
	int rc = open_db(a.dir, &db);
	if (rc != CLI_EXIT_OK)
		return rc;
	struct diag d;
	struct report_group g;
	if (list) {
		if (report_db_groups(db, a.state, a.limit, on_group, &a.json, &d) != TC_OK) {
			cli_err("%s", d.msg);
			rc = CLI_EXIT_USAGE;
		}
		report_db_close(db);
		return cli_finish_stdout(rc);
	}
	enum tcerr e = report_db_group(db, group, &g, &d);
	if (e) {
		cli_err("%s", d.msg);
		report_db_close(db);
		return e == TC_ENOTFOUND ? CLI_EXIT_PROBLEMS : CLI_EXIT_USAGE;
	}
	if (show) {
		print_group(&g, a.json);
		show_checks(&a, &g);
		struct show_ctx sc = { a.json };
		if (report_db_group_reports(db, group, REPORT_LIST_MAX, a.contacts, on_row, &sc, &d)) {
			cli_err("%s", d.msg);
			rc = CLI_EXIT_USAGE;
		}
		report_db_close(db);
		return cli_finish_stdout(rc);
	}
	struct audit *au = NULL;
	if ((rc = cli_audit_open(a.dir, &au)) != CLI_EXIT_OK) {
		report_db_close(db);
		return rc;
	}
	e = report_db_decide(db, group, confirm ? RS_CONFIRMED : RS_REJECTED, "operator (cli)",
	                     a.note ? a.note : "", ts_now_us(), &d);
	report_db_close(db);
	if (e) {
		cli_audit_abandon(au);
		cli_err("%s", d.msg);
		return e == TC_ENOTFOUND || e == TC_EEXIST ? CLI_EXIT_PROBLEMS : CLI_EXIT_USAGE;
	}
	/* counts only: never a value a reporter typed, never a contact */
	char detail[128];
	snprintf(detail, sizeof detail, "report group %lld (%u reports, %u reporters)",
	         (long long)group, g.nreports, g.nreporters);
	rc = cli_audit_commit(au,
	                      &(struct audit_entry){ .action = confirm ? "report.confirm"
	                                                               : "report.reject",
	                                             .detail = detail },
	                      CLI_EXIT_OK);
	printf("report group %lld %s%s\n", (long long)group, confirm ? "confirmed" : "rejected",
	       confirm ? ": a running tocsind publishes it within a second" : "");
	return cli_finish_stdout(rc);
}
