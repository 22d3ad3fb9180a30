/*
 * cmd_verify.c — `tocsin verify FILE`: checks the signed provenance of
 * every object in a STIX bundle or a TAXII envelope (lib/prov; docs/
 * federation.md), offline: no data directory, no network.
 *
 * Invariant: exit 0 only when every object's provenance verifies; each
 * object gets one line saying who its origin hub is or what is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "prov/prov.h"

/* Bytes of a FILE read whole. */
#define VERIFY_FILE_MAX ((size_t)512 << 20)

const char cmd_verify_usage[] =
	"usage: tocsin verify [--json] FILE\n"
	"\n"
	"Verifies the provenance of every object in FILE (a STIX bundle, a TAXII\n"
	"envelope, or one object; '-' reads standard input): the object, its\n"
	"Merkle inclusion proof and the signature of its batch's root by the\n"
	"origin hub (docs/federation.md). Prints one line per object:\n"
	"  ID: verified, origin ALG:KEY (leaf I of N, signed at T[, via HOPS])\n"
	"  ID: NOT VERIFIED: WHY\n"
	"and exits 0 when every object verifies, 1 otherwise. It says who signed,\n"
	"not whether to trust them: compare the origin with the keys you know\n"
	"(tocsin hub-key show on that hub).\n"
	"\n"
	"Options:\n"
	"  --json       one JSON object per line: id, verified, origin_hub, fault, error\n"
	"  -h, --help   show this help\n";

static char *
read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t cap = 1 << 16, n = 0, r;
	char *p;
	if (!f)
		return NULL;
	p = malloc(cap);
	while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *q = cap < VERIFY_FILE_MAX ? realloc(p, cap * 2) : NULL;
			if (!q) {
				free(p);
				p = NULL;
				errno = EFBIG;
				break;
			}
			p = q;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return p;
}

int
cmd_verify(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	char *text;
	size_t len = 0, bad = 0, n;
	json_t *root, *objs;
	json_error_t je;
	struct prov_verifier *v;
	int c;

	while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_print_usage(cmd, stdout);
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(cmd, "expected one FILE");
	if (!(text = read_all(argv[optind], &len))) {
		cli_err("%s: %s", argv[optind], strerror(errno));
		return CLI_EXIT_USAGE;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!root) {
		cli_err("%s:%d:%d: %s", argv[optind], je.line, je.column, je.text);
		return CLI_EXIT_USAGE;
	}
	objs = json_object_get(root, "objects");
	if (!json_is_array(objs)) {
		if (!json_is_object(root) || !json_object_get(root, "type")) {
			json_decref(root);
			cli_err("%s: neither a bundle, a TAXII envelope nor a STIX object", argv[optind]);
			return CLI_EXIT_USAGE;
		}
		objs = json_array();
		json_array_append(objs, root);
	} else {
		json_incref(objs);
	}
	if (!(v = prov_verifier_new(0))) {
		json_decref(objs);
		json_decref(root);
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	n = json_array_size(objs);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(objs, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		struct prov_info info;
		struct diag d;
		enum tcerr rc;

		diag_clear(&d);
		rc = prov_verify_json(v, o, &info, &d);
		if (rc)
			bad++;
		if (json) {
			json_t *j = json_pack("{s:s?,s:b}", "id", id, "verified", rc == TC_OK);
			char *line;
			if (rc == TC_OK || info.origin_hub[0])
				json_object_set_new(j, "origin_hub", json_string(info.origin_hub));
			if (rc) {
				json_object_set_new(j, "fault", json_string(prov_fault_str(info.fault)));
				json_object_set_new(j, "error", json_string(d.msg));
			}
			line = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			if (line)
				printf("%s\n", line);
			free(line);
		} else if (rc == TC_OK) {
			cli_fprintf(stdout, "%s: verified, origin %s (leaf %llu of %llu, signed at %s",
			            id ? id : "(no id)", info.origin_hub,
			            (unsigned long long)info.leaf_index,
			            (unsigned long long)info.leaf_count, info.signed_at);
			for (size_t h = 0; h < info.n_hops; h++)
				cli_fprintf(stdout, "%s%s", h ? ", " : ", via ", info.hops[h]);
			printf(")\n");
		} else {
			cli_fprintf(stdout, "%s: NOT VERIFIED: %s\n", id ? id : "(no id)", d.msg);
		}
	}
	if (!json)
		printf("verify: %zu of %zu objects verified\n", n - bad, n);
	prov_verifier_free(v);
	json_decref(objs);
	json_decref(root);
	return cli_finish_stdout(bad ? CLI_EXIT_PROBLEMS : CLI_EXIT_OK);
}
