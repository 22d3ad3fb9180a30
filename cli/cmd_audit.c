/*
 * cmd_audit.c — `tocsin audit verify`: walks the data directory's audit
 * log (lib/audit) from the first entry to the head and says whether the
 * hash chain holds.
 *
 * Invariant: exit 0 only when every entry chains to the one before it and
 * the last one matches audit.head; the first failing entry is named.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "cmd.h"

const char cmd_audit_usage[] =
	"usage: tocsin audit verify [--data DIR]\n"
	"\n"
	"Checks the audit log DIR/audit.log: every entry's hash matches its\n"
	"content, each entry names the hash of the one before it, entries are\n"
	"numbered without gaps, and the last entry is the one audit.head records.\n"
	"Prints 'audit: N entries, chain intact' (exit 0) or the first entry\n"
	"that fails and why (exit 1).\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help       show this help\n";

static int
audit_verify_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *path;
	struct audit_report r;
	struct diag d;
	struct stat st;
	enum tcerr rc;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
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
	path = hub_default_dir(dir);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", path);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	rc = audit_verify(path, &r, &d);
	if (rc == TC_ENOTFOUND) {
		printf("audit: 0 entries, no audit log yet\n");
		return cli_finish_stdout(CLI_EXIT_OK);
	}
	if (rc != TC_OK) {
		cli_err("audit: %s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	if (!r.ok) {
		/* r.why starts "entry K: " when an entry is to blame */
		cli_fprintf(stdout, "audit: %s\n", r.why);
		return cli_finish_stdout(CLI_EXIT_PROBLEMS);
	}
	printf("audit: %llu entries, chain intact\n", (unsigned long long)r.entries);
	return cli_finish_stdout(CLI_EXIT_OK);
}

int
cmd_audit(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(cmd, "missing subcommand (verify)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_print_usage(cmd, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify_cmd(cmd, argc - 1, argv + 1);
	return cli_usage_error(cmd, "unknown subcommand '%s' (verify)", argv[1]);
}
