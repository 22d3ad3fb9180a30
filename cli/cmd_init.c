/*
 * cmd_init.c — `tocsin init`: create a data directory.
 *
 * Invariant: init never touches a directory that already holds a store;
 * it says so and exits 2, so a typo cannot wipe a hub's keys.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "crypto/hubkey.h"
#include "registry/registry.h"

const char cmd_init_usage[] =
	"usage: tocsin init [--hub-key-alg ed25519|gost2012-256] [--data DIR]\n"
	"\n"
	"Creates a data directory (mode 0700) with an empty store, a fresh\n"
	"payment-card hash key, the hub's identity key pair (hub.key, 0600; hub.pub:\n"
	"copy it elsewhere, it checks the audit log's signatures and the provenance\n"
	"of the objects this hub signs; see tocsin hub-key), the collection\n"
	"'default' and an empty registry.\n"
	"'default' is readable by every organisation's principals (read 'all':\n"
	"TLP still decides what each sees) and writable by none (write 'none');\n"
	"change it with 'tocsin collection rights default --read SPEC --write SPEC'.\n"
	"\n"
	"Options:\n"
	"  --hub-key-alg ALG  the identity key's algorithm: ed25519 (default) or\n"
	"                   gost2012-256 (GOST R 34.10-2012, 256-bit, with Streebog-256)\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help       show this help\n";

int
cmd_init(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "hub-key-alg", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	enum hubkey_alg alg = HUBKEY_ED25519;
	struct diag d;
	enum tcerr rc;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'k':
			if (!hubkey_alg_parse(optarg, strlen(optarg), &alg))
				return cli_usage_error(cmd, "--hub-key-alg %s: expected ed25519 or gost2012-256",
				                       optarg);
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

	dir = hub_default_dir(dir);
	diag_clear(&d);
	rc = hub_init_alg(dir, alg, &d);
	if (rc == TC_EEXIST) {
		cli_err("%s is already a tocsin data directory", dir);
		return CLI_EXIT_USAGE;
	}
	if (rc != TC_OK) {
		if (d.msg[0])
			cli_err("%s", d.msg);
		else
			cli_err("%s: %s", dir, tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	/* the registry (organisations, keys, rights) lives beside the store */
	struct registry *reg;
	diag_clear(&d);
	if ((rc = registry_open(dir, &reg, &d)) != TC_OK) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	/* the default collection: read by all (TLP decides the rest), so what
	 * the operator imports into it is not silently unreadable; written
	 * by nobody until the operator says who */
	struct hub *h = NULL;
	struct store_collection dc;
	diag_clear(&d);
	if ((rc = hub_open(dir, &h, &d)) != TC_OK ||
	    (rc = hub_collection(h, HUB_DEFAULT_COLLECTION, &dc, &d)) != TC_OK ||
	    (rc = registry_rights_set(reg, dc.uuid, "all", "none", &d)) != TC_OK) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		hub_close(h);
		registry_close(reg);
		return CLI_EXIT_USAGE;
	}
	hub_close(h);
	registry_close(reg);
	cli_fprintf(stdout, "initialised %s\n", dir);
	return cli_finish_stdout(CLI_EXIT_OK);
}
