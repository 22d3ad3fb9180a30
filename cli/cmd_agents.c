/*
 * cmd_agents.c — tocsin agents: which enforcement points are protected and
 * since when (docs/agent.md). For every key of role agent it prints the
 * organisation, the log position the agent last reported applied (its
 * receipt, POST /api/v1/agents/receipt), when, and the protection lag:
 * log positions not yet applied and, while the agent is behind, the
 * seconds since its applied time. Reads the data directory (registry and
 * store) directly, like `tocsin key list`.
 */
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "cmd.h"
#include "hub/hub.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/timestamp.h"

const char cmd_agents_usage[] =
	"usage: tocsin agents [--json] [--data DIR]\n"
	"\n"
	"Lists every key of role agent: its organisation, the log position its\n"
	"tocsin-agent last reported applied and when, and its protection lag (log\n"
	"positions not applied yet; while behind, seconds since it applied). A key\n"
	"whose agent never reported shows '-'.\n"
	"\n"
	"Options:\n"
	"  -j, --json      one JSON object a line\n"
	"  -d, --data DIR  data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help      show this help\n";

#define AGENTS_MAX 100000 /* agent keys listed */

struct row {
	struct reg_principal p;
	bool has;
	struct reg_agent_receipt rc;
};

struct rows {
	struct row *v;
	size_t n, cap;
	struct registry *r;
};

static enum tcerr
on_key(void *ctx, const struct reg_principal *p)
{
	struct rows *rs = ctx;
	if (p->role != ROLE_AGENT || rs->n >= AGENTS_MAX)
		return TC_OK;
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 16;
		struct row *v = realloc(rs->v, nc * sizeof *v);
		if (!v)
			return TC_ENOMEM;
		rs->v = v;
		rs->cap = nc;
	}
	memset(&rs->v[rs->n], 0, sizeof rs->v[0]);
	rs->v[rs->n++].p = *p;
	return TC_OK;
}

static enum tcerr
on_receipt(void *ctx, const char *key_id, const struct reg_agent_receipt *rc)
{
	struct rows *rs = ctx;
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].p.key_id, key_id) == 0) {
			rs->v[i].has = true;
			rs->v[i].rc = *rc;
		}
	return TC_OK;
}

struct orgname {
	int64_t num;
	char *out;
	size_t n;
};

static enum tcerr
on_org(void *ctx, const struct reg_org *o)
{
	struct orgname *on = ctx;
	if (o->num == on->num)
		snprintf(on->out, on->n, "%s", o->name);
	return TC_OK;
}

int
cmd_agents(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	bool as_json = false;
	int c, status = CLI_EXIT_USAGE;
	struct registry *r = NULL;
	struct store *s = NULL;
	struct rows rs = { 0 };
	struct diag d;
	char db[PATH_MAX + 8];
	struct stat st;
	uint64_t pos = 0;

	while ((c = cli_getopt(cmd, argc, argv, ":jd:h", longopts)) != -1) {
		switch (c) {
		case 'j': as_json = true; break;
		case 'd': dir = optarg; break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	dir = hub_default_dir(dir);
	int n = snprintf(db, sizeof db, "sqlite:%s/tocsin.db", dir);
	if (n < 0 || (size_t)n >= sizeof db || stat(db + 7, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	if (registry_open(dir, &r, &d) || store_open(db, &s, &d) || store_position(s, &pos)) {
		cli_err("%s", d.msg[0] ? d.msg : "cannot open the data directory");
		goto out;
	}
	if (registry_key_list(r, on_key, &rs) ||
	    registry_agent_receipts(r, AGENTS_MAX, on_receipt, &rs, &d)) {
		cli_err("%s", d.msg[0] ? d.msg : "cannot read the keys");
		goto out;
	}
	int64_t now = ts_now_us();
	if (!as_json)
		printf("%-16s %-20s %-10s %-20s %-10s %s\n", "KEY", "ORG", "APPLIED", "AT",
		       "LAG", "LAG_S");
	for (size_t i = 0; i < rs.n; i++) {
		const struct row *w = &rs.v[i];
		char org[REG_ORG_NAME_MAX + 1] = "";
		struct orgname on = { w->p.org, org, sizeof org };
		registry_org_list(r, on_org, &on);
		uint64_t lag = w->has && pos > w->rc.position ? pos - w->rc.position : 0;
		double lag_s = w->has && lag ? (double)(now - w->rc.applied_us) / 1e6 : 0.0;
		char at[TS_TEXT_MAX] = "-";
		if (w->has)
			ts_format(w->rc.applied_us, 0, at);
		if (as_json) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "key", w->p.key_id, "name",
			                      w->p.name, "org", org, "revoked", w->p.revoked_us != 0);
			if (!o)
				goto out;
			json_object_set_new(o, "applied_position",
			                    w->has ? json_integer((json_int_t)w->rc.position)
			                           : json_null());
			json_object_set_new(o, "applied_at", w->has ? json_string(at) : json_null());
			json_object_set_new(o, "log_position", json_integer((json_int_t)pos));
			json_object_set_new(o, "lag_positions",
			                    w->has ? json_integer((json_int_t)lag) : json_null());
			json_object_set_new(o, "lag_seconds", w->has ? json_real(lag_s) : json_null());
			char *txt = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
			json_decref(o);
			if (!txt)
				goto out;
			puts(txt);
			free(txt);
		} else if (w->has) {
			cli_fprintf(stdout, "%-16s %-20s %-10" PRIu64 " %-20s %-10" PRIu64 " %.1f\n",
			            w->p.key_id, org, w->rc.position, at, lag, lag_s);
		} else {
			cli_fprintf(stdout, "%-16s %-20s %-10s %-20s %-10s %s\n", w->p.key_id, org, "-",
			            "-", "-", "-");
		}
	}
	status = CLI_EXIT_OK;
out:
	free(rs.v);
	if (s)
		store_close(s);
	if (r)
		registry_close(r);
	return status;
}
