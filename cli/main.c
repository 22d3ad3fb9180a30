/*
 * main.c — the tocsin command: dispatch to one file per command group.
 *
 * Exit codes (all commands): 0 success, 1 the command ran but found
 * problems (rejected objects, invalid files, values that are no
 * observable), 2 usage or fatal error. The table below is the only list
 * of commands: --help, 'tocsin help CMD' and dispatch all read it.
 */
#include <stdio.h>
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
	{ "match", "look values up in the indicators", cmd_match_usage, cmd_match },
	{ "show", "show one object: its versions, producer, markings, collections",
	  cmd_show_usage, cmd_show },
	{ "export", "write the indicators as STIX, CSV or a plain list", cmd_export_usage,
	  cmd_export },
	{ "stats", "show what the data directory holds", cmd_stats_usage, cmd_stats },
	{ "org", "add and list organisations and their sharing groups", cmd_org_usage, cmd_org },
	{ "key", "create, list and revoke API keys and client certificates", cmd_key_usage,
	  cmd_key },
	{ "collection", "add and list collections and set who may read and write",
	  cmd_collection_usage, cmd_collection },
	{ "audit", "verify the audit log's signed hash chain; print an anchor", cmd_audit_usage, cmd_audit },
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
	fputs("usage: tocsin [--version] [--help] COMMAND [ARGS...]\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (const struct cli_cmd *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Run 'tocsin COMMAND --help' or 'tocsin help COMMAND' for a command's options.\n"
	      "The data directory is --data DIR, else $TOCSIN_DATA, else ./var.\n",
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
	if (argv[1][0] == '-') {
		cli_err("unknown option '%s'", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	c = cli_find_command(argv[1]);
	if (c == NULL) {
		cli_err("unknown command '%s'", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return c->run(c, argc - 1, argv + 1);
}
