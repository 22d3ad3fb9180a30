/*
 * cmd_task.c — `tocsin task` (response tasks), `tocsin route test` (what
 * routing rules and constituencies would do with a file of objects) and
 * the coordination subcommands of `tocsin org` (constituency, contact,
 * lead): docs/coordination.md. All over the data directory, like the other
 * administrative commands; the logic is lib/registry and lib/coord.
 *
 * Invariant: a task moves only as its assignee: `task ack|done|decline`
 * take --as ORG and the registry refuses a task that is not ORG's as if
 * it did not exist. Every change appends one audit entry (actor
 * "operator").
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_audit.h"
#include "cmd.h"
#include "coord/coord.h"
#include "registry/registry.h"
#include "util/timestamp.h"

const char cmd_task_usage[] =
	"usage: tocsin task assign ACTION (--org ORG | --sector SECTOR) --observable VALUE...\n"
	"                          --deadline DURATION|TIME [--kind KIND] [--note TEXT]\n"
	"                          [--by ORG] [--data DIR]\n"
	"       tocsin task list [--org ORG] [--state STATE] [--json] [--data DIR]\n"
	"       tocsin task show ID [--json] [--data DIR]\n"
	"       tocsin task ack|done ID --as ORG [--note TEXT] [--data DIR]\n"
	"       tocsin task decline ID --as ORG --note TEXT [--data DIR]\n"
	"       tocsin task escalate [--data DIR]\n"
	"       tocsin task stats [--json] [--data DIR]\n"
	"\n"
	"Response tasks: a coordinator asks an organisation, or every organisation of\n"
	"a sector (one task each), to act on observables by a deadline; the assignee\n"
	"acknowledges, completes or declines (with a note). Each change is a\n"
	"timestamped event. An open task past its deadline escalates to the\n"
	"organisation that assigned it (--by), then to the sector's lead ('tocsin\n"
	"org lead'); tocsind does this by itself, 'escalate' does it once now.\n"
	"'stats' shows the time to act per organisation.\n"
	"\n"
	"Actions: " REG_TASK_ACTIONS ".\n"
	"States: assigned, acknowledged, done, declined.\n"
	"\n"
	"Options:\n"
	"  -o, --org ORG          assign: the assignee; list: tasks ORG sees\n"
	"  -s, --sector SECTOR    assign: every organisation of the sector\n"
	"  -v, --observable VAL   what to act on (repeat; normalised like 'match')\n"
	"  -k, --kind KIND        the observables' kind (default: guessed)\n"
	"  -D, --deadline WHEN    a duration (30m, 4h, 2d) or an RFC 3339 time\n"
	"  -n, --note TEXT        the coordinator's words, or the assignee's\n"
	"  -b, --by ORG           assign: the coordinating organisation (default: the hub)\n"
	"  -a, --as ORG           ack/done/decline: the assignee answering\n"
	"  -S, --state STATE      list: only tasks in this state\n"
	"  -j, --json             JSON output\n"
	"  -d, --data DIR         data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help             show this help\n";

const char cmd_route_usage[] =
	"usage: tocsin route test FILE [--rules RULES] [--json] [--data DIR]\n"
	"\n"
	"Dry run: reads STIX objects from FILE (a bundle, an object or an array) and\n"
	"prints the tasks the routing rules in RULES (tocsind's [coord] routes) and\n"
	"the constituencies of the data directory would make for each indicator,\n"
	"and for whom. Nothing is stored. Without --rules only constituencies apply.\n"
	"\n"
	"Options:\n"
	"  -r, --rules RULES  the routing rules file\n"
	"  -j, --json         one JSON object a line\n"
	"  -d, --data DIR     data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help         show this help\n";

#define TASK_LIST_MAX 1000000
#define ROUTE_FILE_MAX (64 * 1024 * 1024)

static int
open_reg(const char *dir, struct registry **r)
{
	struct diag d;
	struct hub *h = NULL;
	/* cli_open_hub says why a directory is not a data directory */
	int ret = cli_open_hub(dir, &h);
	if (ret)
		return ret;
	hub_close(h);
	diag_clear(&d);
	if (registry_open(hub_default_dir(dir), r, &d)) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* A name for organisation num ("" for 0, the hub). */
static void
org_name(struct registry *r, int64_t num, char out[REG_ORG_NAME_MAX + 1])
{
	struct reg_org o;
	char key[32];
	out[0] = '\0';
	if (num <= 0)
		return;
	snprintf(key, sizeof key, "#%" PRId64, num);
	if (registry_org_find(r, key, &o) == TC_OK)
		snprintf(out, REG_ORG_NAME_MAX + 1, "%s", o.name);
	else
		snprintf(out, REG_ORG_NAME_MAX + 1, "%s", key);
}

static bool
parse_deadline(const char *s, int64_t now, int64_t *out)
{
	int frac;
	size_t n = strlen(s);
	if (n >= 2 && strspn(s, "0123456789") == n - 1 && strchr("smhd", s[n - 1])) {
		char *end;
		long long v = strtoll(s, &end, 10);
		int64_t unit = s[n - 1] == 's' ? 1 : s[n - 1] == 'm' ? 60 : s[n - 1] == 'h' ? 3600
		             : 86400;
		if (v <= 0 || v > COORD_DEADLINE_MAX_US / 1000000 / unit)
			return false;
		*out = now + v * unit * 1000000;
		return true;
	}
	return ts_parse(slice_from_cstr(s), out, &frac) == TC_OK;
}

struct print_ctx {
	struct registry *r;
	bool json;
	int64_t now;
	size_t n;
};

static void
task_json_line(struct registry *r, const struct reg_task *t, int64_t now, struct buf *b)
{
	char o[REG_ORG_NAME_MAX + 1], c[REG_ORG_NAME_MAX + 1], e[REG_ORG_NAME_MAX + 1];
	org_name(r, t->org, o);
	org_name(r, t->coordinator, c);
	org_name(r, t->escalated_org, e);
	coord_task_json(t, o, c, t->escalated_org ? e : NULL, now, b);
}

static enum tcerr
print_task(void *ctx, const struct reg_task *t)
{
	struct print_ctx *p = ctx;
	p->n++;
	if (p->json) {
		struct buf b;
		buf_init(&b, 0);
		task_json_line(p->r, t, p->now, &b);
		buf_append_char(&b, '\n');
		if (!buf_error(&b))
			cli_write(stdout, b.p, b.len);
		buf_reset(&b);
		return TC_OK;
	}
	char o[REG_ORG_NAME_MAX + 1], dl[TS_TEXT_MAX] = "";
	org_name(p->r, t->org, o);
	ts_format(t->deadline_us, 0, dl);
	bool overdue = reg_task_state_open(t->state) && t->deadline_us < p->now;
	cli_fprintf(stdout, "%-6" PRId64 " %-16s %-24s %-13s %-21s %s\n", t->num, t->action, o,
	            reg_task_state_name(t->state), dl,
	            overdue ? (t->escalation ? "overdue, escalated" : "overdue") : "");
	return TC_OK;
}

static int
task_assign(const struct cli_cmd *cmd, const char *dir, const char *action, const char *org,
            const char *sector_arg, const char *kind, const char **values, size_t nvalues,
            const char *deadline, const char *note, const char *by)
{
	struct hub *h = NULL;
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct diag d;
	struct reg_task t;
	struct buf obs;
	enum reg_sector sector = 0;
	int ret = CLI_EXIT_USAGE;
	size_t made = 0;
	int64_t now = ts_now_us();

	if (!!org == !!sector_arg)
		return cli_usage_error(cmd, "assign takes --org ORG or --sector SECTOR");
	if (!deadline)
		return cli_usage_error(cmd, "assign needs --deadline");
	if (nvalues == 0)
		return cli_usage_error(cmd, "assign needs --observable");
	diag_clear(&d);
	if (sector_arg && reg_sector_parse(sector_arg, &sector, &d))
		return cli_usage_error(cmd, "%s", d.msg);
	memset(&t, 0, sizeof t);
	snprintf(t.action, sizeof t.action, "%s", action);
	if (reg_task_action_check(action, &d))
		return cli_usage_error(cmd, "%s", d.msg);
	if (!parse_deadline(deadline, now, &t.deadline_us))
		return cli_usage_error(cmd, "--deadline is a duration (30m, 4h, 2d) or an RFC 3339 time");
	if (note && strlen(note) >= sizeof t.note)
		return cli_usage_error(cmd, "--note is longer than %d bytes", REG_TASK_NOTE_MAX);
	snprintf(t.note, sizeof t.note, "%s", note ? note : "");
	snprintf(t.source, sizeof t.source, "manual");
	if ((ret = cli_open_hub(dir, &h)))
		return ret;
	ret = CLI_EXIT_USAGE;
	buf_init(&obs, 0);
	const char **kinds = NULL;
	if (kind) {
		kinds = calloc(nvalues, sizeof *kinds);
		if (!kinds)
			goto out;
		for (size_t i = 0; i < nvalues; i++)
			kinds[i] = kind;
	}
	if (coord_task_observables(hub_obs_ctx(h), kinds, values, nvalues, &obs, &d)) {
		cli_err("%s", d.msg);
		goto out;
	}
	snprintf(t.observables, sizeof t.observables, "%s", obs.p);
	if (registry_open(hub_default_dir(dir), &r, &d)) {
		cli_err("%s", d.msg);
		goto out;
	}
	if (by) {
		struct reg_org bo;
		if (registry_org_find(r, by, &bo)) {
			cli_err("no organisation '%s'", by);
			goto out;
		}
		t.coordinator = bo.num;
	}
	if (cli_audit_open(dir, &a))
		goto out;
	struct print_ctx pc = { r, false, now, 0 };
	if (registry_task_assign(r, &t, org, sector, NULL, now, print_task, &pc, &made, &d)) {
		cli_err("%s", d.msg);
		cli_audit_abandon(a);
		goto out;
	}
	char detail[256];
	snprintf(detail, sizeof detail, "%s to %s%s: %zu task(s)", action, org ? "" : "sector ",
	         org ? org : sector_arg, made);
	ret = cli_audit_commit(a, &(struct audit_entry){ .action = "task.assign", .org = by,
	                                                  .detail = detail },
	                       CLI_EXIT_OK);
out:
	free(kinds);
	buf_reset(&obs);
	if (r)
		registry_close(r);
	hub_close(h);
	return ret;
}

static enum tcerr
print_event(void *ctx, const struct reg_task_event *e)
{
	struct print_ctx *p = ctx;
	char o[REG_ORG_NAME_MAX + 1], at[TS_TEXT_MAX] = "";
	org_name(p->r, e->org, o);
	if (p->json) {
		struct buf b;
		buf_init(&b, 0);
		buf_append_cstr(&b, p->n++ ? "," : "");
		coord_event_json(e, e->org ? o : NULL, &b);
		if (!buf_error(&b))
			cli_write(stdout, b.p, b.len);
		buf_reset(&b);
		return TC_OK;
	}
	ts_format(e->at_us, 0, at);
	cli_fprintf(stdout, "  %-21s %-13s %-24s %s\n", at, e->what, e->org ? o : "(hub)",
	            e->note);
	return TC_OK;
}

static int
task_show(const char *dir, int64_t num, bool json)
{
	struct registry *r = NULL;
	struct diag d;
	struct reg_task t;
	int ret;
	if ((ret = open_reg(dir, &r)))
		return ret;
	ret = CLI_EXIT_USAGE;
	int64_t now = ts_now_us();
	if (registry_task_get(r, num, &t, &d)) {
		cli_err("%s", d.msg);
		goto out;
	}
	struct print_ctx pc = { r, json, now, 0 };
	if (json) {
		struct buf b;
		buf_init(&b, 0);
		task_json_line(r, &t, now, &b);
		if (!buf_error(&b) && b.len)
			cli_write(stdout, b.p, b.len - 1); /* without the closing brace */
		buf_reset(&b);
		fputs(",\"events\":[", stdout);
		if (registry_task_events(r, num, print_event, &pc, &d)) {
			cli_err("%s", d.msg);
			goto out;
		}
		fputs("]}\n", stdout);
	} else {
		char o[REG_ORG_NAME_MAX + 1], c[REG_ORG_NAME_MAX + 1], dl[TS_TEXT_MAX] = "";
		org_name(r, t.org, o);
		org_name(r, t.coordinator, c);
		ts_format(t.deadline_us, 0, dl);
		printf("task         %" PRId64 "\n", t.num);
		cli_fprintf(stdout, "action       %s\n", t.action);
		cli_fprintf(stdout, "assignee     %s\n", o);
		cli_fprintf(stdout, "coordinator  %s\n", t.coordinator ? c : "(hub)");
		cli_fprintf(stdout, "source       %s\n", t.source);
		cli_fprintf(stdout, "observables  %s\n", t.observables);
		cli_fprintf(stdout, "state        %s%s\n", reg_task_state_name(t.state),
		            reg_task_state_open(t.state) && t.deadline_us < now ? " (overdue)" : "");
		cli_fprintf(stdout, "deadline     %s\n", dl);
		if (t.note[0])
			cli_fprintf(stdout, "note         %s\n", t.note);
		if (t.reply[0])
			cli_fprintf(stdout, "reply        %s\n", t.reply);
		printf("events\n");
		if (registry_task_events(r, num, print_event, &pc, &d)) {
			cli_err("%s", d.msg);
			goto out;
		}
	}
	ret = CLI_EXIT_OK;
out:
	registry_close(r);
	return ret;
}

static int
task_answer(const struct cli_cmd *cmd, const char *dir, const char *sub, int64_t num,
            const char *as, const char *note)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct diag d;
	struct reg_org o;
	struct reg_task t;
	enum reg_task_state to = strcmp(sub, "ack") == 0    ? REG_TASK_ACKNOWLEDGED
	                         : strcmp(sub, "done") == 0 ? REG_TASK_DONE
	                                                    : REG_TASK_DECLINED;
	int ret;
	if (!as)
		return cli_usage_error(cmd, "%s needs --as ORG (the assignee answering)", sub);
	if (to == REG_TASK_DECLINED && (!note || !note[0]))
		return cli_usage_error(cmd, "decline needs --note saying why");
	if ((ret = open_reg(dir, &r)))
		return ret;
	ret = CLI_EXIT_USAGE;
	if (registry_org_find(r, as, &o)) {
		cli_err("no organisation '%s'", as);
		goto out;
	}
	if (cli_audit_open(dir, &a))
		goto out;
	diag_clear(&d);
	if (registry_task_update(r, num, o.num, to, note, ts_now_us(), &t, &d)) {
		cli_err("%s", d.msg);
		cli_audit_abandon(a);
		goto out;
	}
	char detail[64], action[32];
	snprintf(detail, sizeof detail, "task %" PRId64 " %s", num, reg_task_state_name(to));
	snprintf(action, sizeof action, "task.%s", sub);
	cli_fprintf(stdout, "task %" PRId64 " %s\n", num, reg_task_state_name(to));
	ret = cli_audit_commit(a, &(struct audit_entry){ .action = action, .org = o.name,
	                                                  .detail = detail },
	                       CLI_EXIT_OK);
out:
	registry_close(r);
	return ret;
}

struct stats_ctx {
	struct registry *r;
	bool json;
	size_t n;
};

static enum tcerr
print_stats(void *ctx, const struct reg_task_stats *s)
{
	struct stats_ctx *p = ctx;
	char o[REG_ORG_NAME_MAX + 1];
	org_name(p->r, s->org, o);
	double ack = s->n_acked ? (double)s->ack_us_sum / (double)s->n_acked / 1e6 : -1;
	double close = s->n_closed ? (double)s->close_us_sum / (double)s->n_closed / 1e6 : -1;
	if (p->json) {
		struct buf b;
		buf_init(&b, 0);
		buf_append_cstr(&b, p->n++ ? ",{\"org\":" : "{\"org\":");
		buf_append_json_str(&b, slice_from_cstr(o));
		buf_printf(&b,
		           ",\"assigned\":%" PRIu64 ",\"acknowledged\":%" PRIu64 ",\"done\":%" PRIu64
		           ",\"declined\":%" PRIu64 ",\"overdue\":%" PRIu64,
		           s->assigned, s->acknowledged, s->done, s->declined, s->overdue);
		if (ack >= 0)
			buf_printf(&b, ",\"mean_time_to_acknowledge_s\":%.3f", ack);
		else
			buf_append_cstr(&b, ",\"mean_time_to_acknowledge_s\":null");
		if (close >= 0)
			buf_printf(&b, ",\"mean_time_to_close_s\":%.3f}", close);
		else
			buf_append_cstr(&b, ",\"mean_time_to_close_s\":null}");
		if (!buf_error(&b))
			cli_write(stdout, b.p, b.len);
		buf_reset(&b);
		return TC_OK;
	}
	char a[32] = "-", c[32] = "-";
	if (ack >= 0)
		snprintf(a, sizeof a, "%.1f", ack);
	if (close >= 0)
		snprintf(c, sizeof c, "%.1f", close);
	cli_fprintf(stdout,
	            "  %-24s open %-5" PRIu64 " done %-5" PRIu64 " declined %-5" PRIu64
	            " overdue %-5" PRIu64 " ack %ss close %ss\n",
	            o, s->assigned + s->acknowledged, s->done, s->declined, s->overdue, a, c);
	return TC_OK;
}

/* `tocsin stats` and `tocsin task stats`: the time to act per organisation.
 * JSON: an array. Returns false on a registry error (reported). */
bool
cli_task_stats_print(const char *dir, bool json)
{
	struct registry *r = NULL;
	struct diag d;
	diag_clear(&d);
	if (registry_open(hub_default_dir(dir), &r, &d)) {
		cli_err("%s", d.msg);
		return false;
	}
	struct stats_ctx sc = { r, json, 0 };
	if (json)
		fputs("[", stdout);
	else
		printf("tasks (time to act, mean seconds from assignment)\n");
	enum tcerr t = registry_task_stats(r, ts_now_us(), print_stats, &sc, &d);
	if (json)
		fputs("]", stdout);
	registry_close(r);
	if (t)
		cli_err("%s", d.msg);
	return t == TC_OK;
}

int
cmd_task(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "org", required_argument, NULL, 'o' },
		{ "sector", required_argument, NULL, 's' },
		{ "observable", required_argument, NULL, 'v' },
		{ "kind", required_argument, NULL, 'k' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "note", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, 'b' },
		{ "as", required_argument, NULL, 'a' },
		{ "state", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *org = NULL, *sector = NULL, *kind = NULL, *deadline = NULL,
	           *note = NULL, *by = NULL, *as = NULL, *state = NULL;
	const char *values[COORD_TASK_OBS_MAX + 1];
	size_t nvalues = 0;
	bool json = false;
	int c;
	while ((c = cli_getopt(cmd, argc, argv, ":o:s:v:k:D:n:b:a:S:jd:h", longopts)) != -1) {
		switch (c) {
		case 'o': org = optarg; break;
		case 's': sector = optarg; break;
		case 'v':
			if (nvalues == COORD_TASK_OBS_MAX)
				return cli_usage_error(cmd, "at most %d observables", COORD_TASK_OBS_MAX);
			values[nvalues++] = optarg;
			break;
		case 'k': kind = optarg; break;
		case 'D': deadline = optarg; break;
		case 'n': note = optarg; break;
		case 'b': by = optarg; break;
		case 'a': as = optarg; break;
		case 'S': state = optarg; break;
		case 'j': json = true; break;
		case 'd': dir = optarg; break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos == 0)
		return cli_usage_error(cmd, "missing subcommand (assign, list, show, ack, done, "
		                            "decline, escalate or stats)");
	const char *sub = pos[0];
	if (strcmp(sub, "assign") == 0) {
		if (npos != 2)
			return cli_usage_error(cmd, "assign takes one ACTION");
		return task_assign(cmd, dir, pos[1], org, sector, kind, values, nvalues, deadline,
		                   note, by);
	}
	if (strcmp(sub, "list") == 0) {
		struct registry *r = NULL;
		struct diag d;
		unsigned states = 0;
		int64_t viewer = -1;
		int ret;
		if (npos != 1)
			return cli_usage_error(cmd, "unexpected argument '%s'", pos[1]);
		if (state) {
			enum reg_task_state s;
			if (reg_task_state_parse(state, &s))
				return cli_usage_error(cmd, "unknown state '%s' (assigned, acknowledged, "
				                            "done, declined)", state);
			states = 1u << s;
		}
		if ((ret = open_reg(dir, &r)))
			return ret;
		if (org) {
			struct reg_org o;
			if (registry_org_find(r, org, &o)) {
				registry_close(r);
				cli_err("no organisation '%s'", org);
				return CLI_EXIT_USAGE;
			}
			viewer = o.num;
		}
		struct print_ctx pc = { r, json, ts_now_us(), 0 };
		if (!json)
			printf("%-6s %-16s %-24s %-13s %-21s %s\n", "ID", "ACTION", "ORG", "STATE",
			       "DEADLINE", "");
		diag_clear(&d);
		enum tcerr t = registry_task_list(r, viewer, states, 0, TASK_LIST_MAX, print_task, &pc,
		                                  &d);
		registry_close(r);
		if (t) {
			cli_err("%s", d.msg);
			return CLI_EXIT_USAGE;
		}
		return cli_finish_stdout(CLI_EXIT_OK);
	}
	if (strcmp(sub, "escalate") == 0) {
		struct registry *r = NULL;
		struct diag d;
		size_t n = 0;
		int ret;
		if ((ret = open_reg(dir, &r)))
			return ret;
		diag_clear(&d);
		enum tcerr t = registry_task_escalate(r, ts_now_us(), COORD_ESCALATE_LEAD_US, 100000,
		                                      &n, &d);
		registry_close(r);
		if (t) {
			cli_err("%s", d.msg);
			return CLI_EXIT_USAGE;
		}
		printf("%zu escalation(s)\n", n);
		return CLI_EXIT_OK;
	}
	if (strcmp(sub, "stats") == 0) {
		struct hub *h = NULL;
		int ret = cli_open_hub(dir, &h);
		if (ret)
			return ret;
		hub_close(h);
		if (!cli_task_stats_print(dir, json))
			return CLI_EXIT_USAGE;
		if (json)
			putchar('\n');
		return cli_finish_stdout(CLI_EXIT_OK);
	}
	bool show = strcmp(sub, "show") == 0;
	if (show || strcmp(sub, "ack") == 0 || strcmp(sub, "done") == 0 ||
	    strcmp(sub, "decline") == 0) {
		if (npos != 2)
			return cli_usage_error(cmd, "%s takes one task ID", sub);
		char *end;
		long long num = strtoll(pos[1], &end, 10);
		if (*end || num <= 0)
			return cli_usage_error(cmd, "'%s' is not a task ID", pos[1]);
		if (show)
			return cli_finish_stdout(task_show(dir, num, json));
		return task_answer(cmd, dir, sub, num, as, note);
	}
	return cli_usage_error(cmd, "unknown subcommand '%s'", sub);
}

/* ---- tocsin route test ---- */

struct route_ctx {
	struct registry *r;
	bool json;
	const char *id;
	size_t n;
};

static enum tcerr
print_proposal(void *ctx, const struct coord_proposal *p)
{
	struct route_ctx *rc = ctx;
	char who[REG_ORG_NAME_MAX + 16];
	if (p->org_name)
		snprintf(who, sizeof who, "org:%s", p->org_name);
	else if (p->org_num) {
		char o[REG_ORG_NAME_MAX + 1];
		org_name(rc->r, p->org_num, o);
		snprintf(who, sizeof who, "org:%s", o);
	} else
		snprintf(who, sizeof who, "sector:%s", reg_sector_name(p->sector));
	rc->n++;
	if (rc->json) {
		struct buf b;
		buf_init(&b, 0);
		buf_append_cstr(&b, "{\"object\":");
		buf_append_json_str(&b, slice_from_cstr(rc->id));
		buf_append_cstr(&b, ",\"source\":");
		buf_append_json_str(&b, slice_from_cstr(p->source));
		buf_printf(&b, ",\"action\":\"%s\",\"to\":", p->action);
		buf_append_json_str(&b, slice_from_cstr(who));
		buf_printf(&b, ",\"deadline_s\":%" PRId64 ",\"observables\":%s}\n",
		           p->deadline_us / 1000000, p->observables);
		if (!buf_error(&b))
			cli_write(stdout, b.p, b.len);
		buf_reset(&b);
		return TC_OK;
	}
	cli_fprintf(stdout, "%s: %s -> %s to %s (deadline %" PRId64 "s): %s:%.*s\n", rc->id,
	            p->source, p->action, who, p->deadline_us / 1000000, obs_kind_name(p->kind),
	            (int)p->value.len, p->value.p);
	return TC_OK;
}

static enum tcerr
collect_const(void *ctx, const struct reg_const *c)
{
	struct { struct reg_const *v; size_t n, cap; } *cv = ctx;
	if (cv->n == cv->cap) {
		size_t nc = cv->cap ? 2 * cv->cap : 64;
		struct reg_const *v = realloc(cv->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		cv->v = v;
		cv->cap = nc;
	}
	cv->v[cv->n++] = *c;
	return TC_OK;
}

int
cmd_route(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *rules_path = NULL;
	bool json = false;
	int c, ret = CLI_EXIT_USAGE;
	struct coord_rules rules = { 0 };
	struct coord_consts *consts = NULL;
	struct hub *h = NULL;
	struct registry *r = NULL;
	struct diag d;
	json_t *root = NULL;
	struct { struct reg_const *v; size_t n, cap; } cv = { 0 };

	while ((c = cli_getopt(cmd, argc, argv, ":r:jd:h", longopts)) != -1) {
		switch (c) {
		case 'r': rules_path = optarg; break;
		case 'j': json = true; break;
		case 'd': dir = optarg; break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "test") != 0)
		return cli_usage_error(cmd, "usage: tocsin route test FILE");
	const char *file = argv[optind + 1];
	diag_clear(&d);
	if (rules_path && coord_rules_load(rules_path, &rules, &d)) {
		cli_err("%s", d.msg);
		return CLI_EXIT_USAGE;
	}
	if ((ret = cli_open_hub(dir, &h)))
		goto out;
	ret = CLI_EXIT_USAGE;
	if (registry_open(hub_default_dir(dir), &r, &d) ||
	    registry_constituency_list(r, 0, collect_const, &cv, &d) ||
	    coord_consts_build(cv.v, cv.n, &consts, &d)) {
		cli_err("%s", d.msg[0] ? d.msg : "out of memory");
		goto out;
	}
	json_error_t je;
	root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		cli_err("%s:%d:%d: %s", file, je.line, je.column, je.text);
		goto out;
	}
	json_t *objs = root;
	if (json_is_object(root) && json_is_array(json_object_get(root, "objects")))
		objs = json_object_get(root, "objects");
	size_t n = json_is_array(objs) ? json_array_size(objs) : 1;
	struct route_ctx rc = { r, json, "", 0 };
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_is_array(objs) ? json_array_get(objs, i) : objs;
		const char *id = json_string_value(json_object_get(o, "id"));
		char where[64];
		snprintf(where, sizeof where, "objects[%zu]", i);
		rc.id = id ? id : where;
		if (coord_plan(o, hub_obs_ctx(h), &rules, consts, print_proposal, &rc, NULL, &d)) {
			cli_err("%s", d.msg);
			goto out;
		}
	}
	if (!json)
		printf("%zu task(s) would be proposed\n", rc.n);
	ret = cli_finish_stdout(CLI_EXIT_OK);
out:
	json_decref(root);
	free(cv.v);
	coord_consts_free(consts);
	coord_rules_free(&rules);
	if (r)
		registry_close(r);
	hub_close(h);
	return ret;
}

/* ---- tocsin org constituency|contact|lead ---- */

bool
cmd_org_coord_is(const char *sub)
{
	return strcmp(sub, "constituency") == 0 || strcmp(sub, "contact") == 0 ||
	       strcmp(sub, "lead") == 0;
}

static enum tcerr
print_const(void *ctx, const struct reg_const *c)
{
	struct print_ctx *p = ctx;
	char o[REG_ORG_NAME_MAX + 1];
	org_name(p->r, c->org, o);
	static const char *const kinds[] = { "", "network", "asn", "domain" };
	cli_fprintf(stdout, "%-40s %-8s %s\n", c->value, kinds[c->kind], o);
	return TC_OK;
}

static enum tcerr
print_contact(void *ctx, const char *email)
{
	(void)ctx;
	cli_fprintf(stdout, "%s\n", email);
	return TC_OK;
}

int
cmd_org_coord(const struct cli_cmd *cmd, const char *dir, const char *sub, int npos,
              char **pos)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct diag d;
	int ret;
	const char *op = npos > 0 ? pos[0] : "";
	diag_clear(&d);
	if (strcmp(sub, "lead") == 0) {
		/* org lead SECTOR [ORG|--none] */
		enum reg_sector s;
		if (npos < 1 || npos > 2)
			return cli_usage_error(cmd, "usage: tocsin org lead SECTOR [ORG|none]");
		if (reg_sector_parse(pos[0], &s, &d))
			return cli_usage_error(cmd, "%s", d.msg);
		if ((ret = open_reg(dir, &r)))
			return ret;
		ret = CLI_EXIT_USAGE;
		if (npos == 1) {
			int64_t org = 0;
			char o[REG_ORG_NAME_MAX + 1];
			registry_sector_lead_get(r, s, &org, &d);
			org_name(r, org, o);
			cli_fprintf(stdout, "%s\n", org ? o : "(none)");
			registry_close(r);
			return CLI_EXIT_OK;
		}
		if (cli_audit_open(dir, &a))
			goto out;
		bool clear = strcmp(pos[1], "none") == 0;
		if (registry_sector_lead_set(r, s, clear ? NULL : pos[1], &d)) {
			cli_err("%s", d.msg);
			cli_audit_abandon(a);
			goto out;
		}
		char detail[REG_ORG_NAME_MAX + 64];
		snprintf(detail, sizeof detail, "lead of %s: %s", reg_sector_name(s), pos[1]);
		ret = cli_audit_commit(a, &(struct audit_entry){ .action = "org.lead",
		                                                  .org = clear ? NULL : pos[1],
		                                                  .detail = detail },
		                       CLI_EXIT_OK);
		goto out;
	}
	bool constituency = strcmp(sub, "constituency") == 0;
	bool add = strcmp(op, "add") == 0, rm = strcmp(op, "remove") == 0,
	     list = strcmp(op, "list") == 0;
	if (!add && !rm && !list)
		return cli_usage_error(cmd, "usage: tocsin org %s add|remove|list ORG [%s...]", sub,
		                       constituency ? "CIDR|ASN|DOMAIN" : "EMAIL");
	if ((add || rm) && npos < 3)
		return cli_usage_error(cmd, "%s %s needs ORG and at least one value", sub, op);
	if (list && npos > 2)
		return cli_usage_error(cmd, "unexpected argument '%s'", pos[2]);
	if ((ret = open_reg(dir, &r)))
		return ret;
	ret = CLI_EXIT_USAGE;
	if (list) {
		int64_t org = 0;
		if (npos == 2) {
			struct reg_org o;
			if (registry_org_find(r, pos[1], &o)) {
				cli_err("no organisation '%s'", pos[1]);
				goto out;
			}
			org = o.num;
		} else if (!constituency) {
			cli_err("contact list needs ORG");
			goto out;
		}
		struct print_ctx pc = { r, false, 0, 0 };
		enum tcerr t = constituency ? registry_constituency_list(r, org, print_const, &pc, &d)
		                            : registry_contact_list(r, org, print_contact, &pc, &d);
		if (t) {
			cli_err("%s", d.msg);
			goto out;
		}
		ret = cli_finish_stdout(CLI_EXIT_OK);
		goto out;
	}
	if (cli_audit_open(dir, &a))
		goto out;
	size_t done = 0;
	for (int i = 2; i < npos; i++) {
		struct reg_const rc;
		enum tcerr t;
		if (constituency)
			t = add ? registry_constituency_add(r, pos[1], pos[i], &rc, &d)
			        : registry_constituency_remove(r, pos[1], pos[i], &d);
		else
			t = add ? registry_contact_add(r, pos[1], pos[i], &d)
			        : registry_contact_remove(r, pos[1], pos[i], &d);
		if (t) {
			cli_err("%s", d.msg);
			break;
		}
		done++;
		if (constituency && add)
			cli_fprintf(stdout, "%s\n", rc.value);
	}
	if (done == 0) {
		cli_audit_abandon(a);
		goto out;
	}
	char detail[128], action[48];
	snprintf(detail, sizeof detail, "%s %s: %zu value(s)", sub, op, done);
	snprintf(action, sizeof action, "org.%s.%s", sub, op);
	ret = cli_audit_commit(a, &(struct audit_entry){ .action = action, .org = pos[1],
	                                                  .detail = detail },
	                       done == (size_t)(npos - 2) ? CLI_EXIT_OK : CLI_EXIT_USAGE);
out:
	if (r)
		registry_close(r);
	return ret;
}
