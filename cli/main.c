/*
 * main.c — the tocsin command: dispatch to one file per command group.
 *
 * Exit codes (all commands): 0 success, 1 the command ran but found
 * problems (rejected objects, invalid files, values that are no
 * observable), 2 usage or fatal error. The table below is the only list
 * of commands: --help, 'tocsin help CMD' and dispatch all read it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "cmd.h"

#define TOCSIN_CLI_VERSION "0.1.0"

static int cmd_help(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_commands[] = {
	{ "init", "create a data directory", cmd_init_usage, cmd_init },
	{ "import", "validate and store STIX, JSON Lines, MISP or CSV files", cmd_import_usage,
	  cmd_import },
	{ "validate", "check files without storing them", cmd_validate_usage, cmd_validate },
	{ "match", "look values up in the indicators (here, or a hub's with --hub)", cmd_match_usage, cmd_match },
	{ "show", "show one object: its versions, producer, markings, collections",
	  cmd_show_usage, cmd_show },
	{ "export", "write the indicators as STIX, CSV or a plain list", cmd_export_usage,
	  cmd_export },
	{ "stats", "show what the data directory holds", cmd_stats_usage, cmd_stats },
	{ "org", "add, list, rename and delete organisations", cmd_org_usage, cmd_org },
	{ "key", "create (with an expiry), list and revoke API keys and certificates", cmd_key_usage,
	  cmd_key },
	{ "collection", "add, list, rename and delete collections; who may read and write",
	  cmd_collection_usage, cmd_collection },
	{ "allowlist", "list, add and remove values never exported for blocking",
	  cmd_allowlist_usage, cmd_allowlist },
	{ "fp", "false positives on indicators: report, list, show, review",
	  cmd_fp_usage, cmd_fp },
	{ "sightings", "an indicator's sightings by sector", cmd_sightings_usage,
	  cmd_sightings },
	{ "stream", "follow a hub's event stream, resuming from a saved position",
	  cmd_stream_usage, cmd_stream },
	{ "audit", "verify the audit log's signed hash chain; print an anchor", cmd_audit_usage, cmd_audit },
	{ "webhook", "add, list, remove, replay webhook subscriptions; their delivery status",
	  cmd_webhook_usage, cmd_webhook },
	{ "source", "add, list, remove, run feeds tocsind pulls on a schedule; their status",
	  cmd_source_usage, cmd_source },
	{ "peer", "add, list, remove federation peers; their replication status", cmd_peer_usage,
	  cmd_peer },
	{ "agents", "list tocsin-agents: applied position, time and protection lag",
	  cmd_agents_usage, cmd_agents },
	{ "hub-key", "show the hub's identity key; rotate it, keeping the old one listed",
	  cmd_hubkey_usage, cmd_hubkey },
	{ "verify", "verify the signed provenance of the objects in a bundle or envelope",
	  cmd_verify_usage, cmd_verify },
	{ "report", "the triage queue of citizen reports: list, show, confirm, reject",
	  cmd_report_usage, cmd_report },
	{ "task", "assign response tasks; acknowledge, complete, decline; time to act",
	  cmd_task_usage, cmd_task },
	{ "route", "dry-run routing rules and constituencies on a file of objects",
	  cmd_route_usage, cmd_route },
	{ "help", "show a command's usage",
	  "usage: tocsin help [COMMAND]\n"
	  "\n"
	  "Shows the usage of COMMAND, or the list of commands.\n",
	  cmd_help },
	{ NULL, NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
	fputs("usage: tocsin [--version] [--help] [--data DIR] COMMAND [ARGS...]\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (const struct cli_cmd *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Run 'tocsin COMMAND --help' or 'tocsin help COMMAND' for a command's options.\n"
	      "The data directory is --data DIR (before the command or among its options),\n"
	      "else $TOCSIN_DATA, else ./var.\n",
	      f);
}

static int
cmd_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct cli_cmd *c;

	cli_user_umask = umask(077);
	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error(cmd, "too many arguments");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_print_usage(cmd, stdout);
		return CLI_EXIT_OK;
	}
	c = cli_find_command(argv[1]);
	if (c == NULL) {
		cli_err("unknown command '%s'", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cli_print_usage(c, stdout);
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *c;

	cli_user_umask = umask(077);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		puts("tocsin " TOCSIN_CLI_VERSION);
		return CLI_EXIT_OK;
	}
	/* tocsin --data DIR COMMAND ...: a --data before the command applies
	 * to it, as $TOCSIN_DATA would (a --data among the command's own
	 * options still wins) */
	int at = 1;
	while (at < argc && argv[at][0] == '-') {
		const char *dir = NULL;
		if (strcmp(argv[at], "--data") == 0 || strcmp(argv[at], "-d") == 0) {
			if (at + 1 >= argc) {
				cli_err("option '%s' needs an argument", argv[at]);
				usage(stderr);
				return CLI_EXIT_USAGE;
			}
			dir = argv[at + 1];
			at += 2;
		} else if (strncmp(argv[at], "--data=", 7) == 0) {
			dir = argv[at] + 7;
			at++;
		} else {
			cli_err("unknown option '%s'", argv[at]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
		if (!*dir || setenv("TOCSIN_DATA", dir, 1) != 0) {
			cli_err("--data: %s", *dir ? "cannot set it" : "empty directory name");
			return CLI_EXIT_USAGE;
		}
	}
	if (at >= argc) {
		cli_err("missing command");
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	c = cli_find_command(argv[at]);
	if (c == NULL) {
		cli_err("unknown command '%s'", argv[at]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return c->run(c, argc - at, argv + at);
}
