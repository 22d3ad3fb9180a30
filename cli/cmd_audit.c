/*
 * cmd_audit.c — `tocsin audit verify`: walks the data directory's audit
 * log (lib/audit) from the first entry to the head and says whether the
 * hash chain, its seals and the head's signature hold, optionally
 * against an anchor kept elsewhere; `tocsin audit anchor` prints that
 * anchor (the signed head); `tocsin audit --peer NAME` prints the entries
 * of what crossed the border with one federation peer.
 *
 * Invariant: exit 0 only when every entry chains to the one before it,
 * every seal and the head verify with hub.pub, the last entry matches
 * audit.head (and the anchor's entry its hash); the first failing entry
 * is named.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "cli_util.h"
#include "cmd.h"
#include "registry/registry.h"

const char cmd_audit_usage[] =
	"usage: tocsin audit verify [--anchor FILE] [--data DIR]\n"
	"       tocsin audit anchor [--data DIR]\n"
	"       tocsin audit --peer NAME [--data DIR]\n"
	"\n"
	"verify checks the audit log DIR/audit.log: every entry's hash matches\n"
	"its content, each entry names the hash of the one before it, entries are\n"
	"numbered without gaps, every seal entry and audit.head carry a valid\n"
	"signature by the hub's key (DIR/hub.pub), and the last entry is the one\n"
	"audit.head records. With --anchor, the log must also still hold the\n"
	"entry FILE names, with its hash, and hub.pub must be FILE's key. Prints\n"
	"'audit: N entries, chain intact' (exit 0) or the first entry that fails\n"
	"and why (exit 1).\n"
	"\n"
	"--peer prints, one JSON entry a line, what crossed the border with peer\n"
	"NAME (a peer's name, or the organisation standing for it): 'peer.out'\n"
	"entries name every version and deletion that left towards it, 'peer.in',\n"
	"'peer.delete' and 'peer.refused' what arrived from it and what was\n"
	"refused and why (docs/peers.md).\n"
	"\n"
	"anchor prints the signed head as one line of JSON: keep it outside the\n"
	"data directory (another system, a ticket, paper). Whoever holds the\n"
	"whole data directory can rebuild the chain and sign it; an anchor kept\n"
	"elsewhere proves every entry up to it.\n"
	"\n"
	"Options:\n"
	"  --anchor FILE    (verify) a line 'tocsin audit anchor' printed\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help       show this help\n";

/* Bytes read from an --anchor file. */
#define AUDIT_ANCHOR_FILE_MAX 4096

static int
audit_verify_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "anchor", required_argument, NULL, 'a' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *path, *anchor_file = NULL;
	struct audit_anchor anchor;
	struct audit_report r;
	struct diag d;
	struct stat st;
	enum tcerr rc;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":d:h", longopts)) != -1) {
		switch (c) {
		case 'a':
			anchor_file = optarg;
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
	if (anchor_file) {
		char text[AUDIT_ANCHOR_FILE_MAX];
		size_t len;
		FILE *f = fopen(anchor_file, "re");
		if (!f) {
			cli_err("--anchor %s: %s", anchor_file, strerror(errno));
			return CLI_EXIT_USAGE;
		}
		len = fread(text, 1, sizeof(text), f);
		fclose(f);
		diag_clear(&d);
		if (len == sizeof(text) ||
		    audit_anchor_parse(text, len, &anchor, &d) != TC_OK) {
			cli_err("--anchor %s: %s", anchor_file,
			        len == sizeof(text) ? "longer than an anchor" : d.msg);
			return CLI_EXIT_PROBLEMS;
		}
	}
	path = hub_default_dir(dir);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", path);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	rc = anchor_file ? audit_verify_anchored(path, &anchor, &r, &d) : audit_verify(path, &r, &d);
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
	if (anchor_file)
		printf("audit: %llu entries, chain intact, anchor entry %llu holds\n",
		       (unsigned long long)r.entries, (unsigned long long)anchor.n);
	else
		printf("audit: %llu entries, chain intact\n", (unsigned long long)r.entries);
	return cli_finish_stdout(CLI_EXIT_OK);
}

static int
audit_anchor_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char text[AUDIT_ANCHOR_TEXT_MAX];
	const char *dir = NULL;
	struct diag d;
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
	diag_clear(&d);
	rc = audit_anchor_text(hub_default_dir(dir), text, &d);
	if (rc != TC_OK) {
		cli_err("audit anchor: %s", d.msg[0] ? d.msg : tcerr_str(rc));
		return rc == TC_ECORRUPT ? CLI_EXIT_PROBLEMS : CLI_EXIT_USAGE;
	}
	printf("%s\n", text);
	return cli_finish_stdout(CLI_EXIT_OK);
}

/* tocsin audit --peer NAME: the entries of what crossed the border with
 * one peer, as stored (one JSON object a line). */
static int
audit_peer_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *name = NULL;
	char org[REG_ORG_NAME_MAX + 1];
	int c;
	optind = 1;
	while ((c = cli_getopt(cmd, argc, argv, ":p:d:h", longopts)) != -1) {
		switch (c) {
		case 'p': name = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': cli_print_usage(cmd, stdout); return CLI_EXIT_OK;
		default: return CLI_EXIT_USAGE;
		}
	}
	if (!name)
		return cli_usage_error(cmd, "--peer needs a NAME");
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	dir = hub_default_dir(dir);
	snprintf(org, sizeof org, "%s", name);
	{
		struct registry *r = NULL;
		struct reg_peer *p = calloc(1, sizeof *p);
		struct diag d;
		diag_clear(&d);
		if (p && registry_open(dir, &r, &d) == TC_OK &&
		    registry_peer_get(r, name, p, &d) == TC_OK)
			snprintf(org, sizeof org, "%s", p->org_name);
		if (p)
			reg_peer_wipe(p);
		free(p);
		if (r)
			registry_close(r);
	}
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, AUDIT_FILE);
	if (n < 0 || (size_t)n >= sizeof path) {
		cli_err("%s: path too long", dir);
		return CLI_EXIT_USAGE;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_err("%s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if ((size_t)len > AUDIT_LINE_MAX || !memmem(line, (size_t)len, "\"peer.", 6))
			continue;
		json_t *e = json_loadb(line, (size_t)len, 0, NULL);
		const char *act = json_string_value(json_object_get(e, "action"));
		const char *o = json_string_value(json_object_get(e, "org"));
		if (act && o && strncmp(act, "peer.", 5) == 0 && strcasecmp(o, org) == 0)
			cli_fprintf(stdout, "%.*s", (int)len, line);
		json_decref(e);
	}
	free(line);
	fclose(f);
	return cli_finish_stdout(CLI_EXIT_OK);
}

int
cmd_audit(const struct cli_cmd *cmd, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(cmd, "missing subcommand (verify, anchor)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_print_usage(cmd, stdout);
		return CLI_EXIT_OK;
	}
	if (strncmp(argv[1], "--peer", 6) == 0)
		return audit_peer_cmd(cmd, argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify_cmd(cmd, argc - 1, argv + 1);
	if (strcmp(argv[1], "anchor") == 0)
		return audit_anchor_cmd(cmd, argc - 1, argv + 1);
	return cli_usage_error(cmd, "unknown subcommand '%s' (verify, anchor)", argv[1]);
}
