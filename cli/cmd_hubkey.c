/*
 * cmd_hubkey.c — `tocsin hub-key show|rotate`: the hub's identity key
 * (lib/crypto/hubkey.h; docs/federation.md).
 *
 * Invariant: rotate never loses a key the hub signed with: the old public
 * key is appended to hub.pub.history (fsynced) before the new pair
 * replaces hub.key and hub.pub, so audit seals and provenance signed
 * before still verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cmd.h"
#include "crypto/hubkey.h"
#include "hub/hub.h"

const char cmd_hubkey_usage[] =
	"usage: tocsin hub-key show [--json] [--data DIR]\n"
	"       tocsin hub-key rotate [--alg ed25519|gost2012-256] [--data DIR]\n"
	"\n"
	"show prints the hub's identity: its algorithm, public key, the id peers\n"
	"know it by ('<alg>:<hex>', the origin_hub of the objects it signs), the\n"
	"key's fingerprint (SHA-256 of the hub.pub line) and the keys it used\n"
	"before (hub.pub.history).\n"
	"\n"
	"rotate makes a new key pair (by default of the same algorithm) and lists\n"
	"the old public key in hub.pub.history, so signatures made before still\n"
	"verify. A running tocsind keeps signing with the key it loaded until it\n"
	"is restarted. Peers that pinned the old key must be given the new one.\n"
	"\n"
	"Options:\n"
	"  --json           (show) one JSON object\n"
	"  --alg ALG        (rotate) ed25519 or gost2012-256 (GOST R 34.10-2012,\n"
	"                   256-bit, with Streebog-256)\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help       show this help\n";

static int
show(const char *dir, bool json)
{
	struct hubkey_pub pub, *old = NULL;
	char id[HUBKEY_ID_MAX], line[HUBKEY_ID_MAX], fpr[HUBKEY_FPR_MAX];
	size_t nold = 0;
	struct diag d;
	enum tcerr rc;

	diag_clear(&d);
	if ((rc = hubkey_load_pub(dir, &pub, &d)) || (rc = hubkey_history(dir, &old, &nold, &d))) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	hubkey_pub_id(&pub, id);
	hubkey_pub_line(&pub, line);
	hubkey_fingerprint(&pub, fpr);
	if (json) {
		json_t *j = json_object(), *h = json_array();
		char *text;
		for (size_t i = 0; i < nold; i++) {
			char oid[HUBKEY_ID_MAX];
			hubkey_pub_id(&old[i], oid);
			json_array_append_new(h, json_string(oid));
		}
		json_object_set_new(j, "alg", json_string(hubkey_alg_name(pub.alg)));
		json_object_set_new(j, "public_key", json_string(line + strlen(hubkey_alg_name(pub.alg)) + 1));
		json_object_set_new(j, "id", json_string(id));
		json_object_set_new(j, "fingerprint", json_string(fpr));
		json_object_set_new(j, "previous", h);
		text = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (!text) {
			free(old);
			cli_err("out of memory");
			return CLI_EXIT_USAGE;
		}
		printf("%s\n", text);
		free(text);
	} else {
		printf("algorithm:   %s\n", hubkey_alg_name(pub.alg));
		printf("public key:  %s\n", line + strlen(hubkey_alg_name(pub.alg)) + 1);
		printf("id:          %s\n", id);
		printf("fingerprint: %s\n", fpr);
		for (size_t i = 0; i < nold; i++) {
			char oid[HUBKEY_ID_MAX];
			hubkey_pub_id(&old[i], oid);
			printf("previous:    %s\n", oid);
		}
	}
	free(old);
	return cli_finish_stdout(CLI_EXIT_OK);
}

int
cmd_hubkey(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "alg", required_argument, NULL, 'a' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *sub, *alg_name = NULL;
	bool json = false;
	struct hubkey_pub cur;
	enum hubkey_alg alg;
	struct diag d;
	struct stat st;
	enum tcerr rc;
	int c;

	if (argc < 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "rotate") != 0)) {
		if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error(cmd, "expected 'show' or 'rotate'");
	}
	sub = argv[1];
	argc--;
	argv++;
	while ((c = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'a':
			alg_name = optarg;
			break;
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
	dir = hub_default_dir(dir);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(sub, "show") == 0) {
		if (alg_name)
			return cli_usage_error(cmd, "--alg is for rotate");
		return show(dir, json);
	}
	if (json)
		return cli_usage_error(cmd, "--json is for show");
	diag_clear(&d);
	if ((rc = hubkey_load_pub(dir, &cur, &d))) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	alg = cur.alg;
	if (alg_name && !hubkey_alg_parse(alg_name, strlen(alg_name), &alg))
		return cli_usage_error(cmd, "--alg %s: expected ed25519 or gost2012-256", alg_name);
	if ((rc = hubkey_rotate(dir, alg, &d))) {
		cli_err("%s", d.msg[0] ? d.msg : tcerr_str(rc));
		return CLI_EXIT_USAGE;
	}
	{
		char old[HUBKEY_ID_MAX];
		hubkey_pub_id(&cur, old);
		printf("hub-key: rotated; %s is now listed in %s (restart tocsind to sign with the new "
		       "key)\n",
		       old, HUBKEY_HISTORY_FILE);
	}
	return show(dir, false);
}
