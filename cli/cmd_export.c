/*
 * cmd_export.c — `tocsin export` (the indicators as STIX, CSV or a plain
 * list, written by lib/export) and `tocsin stats` (what the data directory
 * holds).
 *
 * Invariant: the output file is written completely or not at all: with
 * -o the export goes to a temporary file beside FILE that is renamed over
 * it only once the export succeeded, so a failed run never leaves half a
 * blocklist where an enforcement point would read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
/* #include "export/export.h" */
#include "util/buf.h"

const char cmd_stats_usage[] =
	"usage: tocsin stats [--data DIR] [--json]\n"
	"\n"
	"Shows what the data directory holds: log position, object versions,\n"
	"objects, collections, current indicators, revoked objects, observables\n"
	"per kind, match index entries and memory, allowlist entries.\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -j, --json       one JSON object instead of text\n"
	"  -h, --help       show this help\n";

int
cmd_stats(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	bool json = false;
	struct hub *h = NULL;
	struct store_stats st;
	enum tcerr trc;
	int c, rc;

	while ((c = cli_getopt(cmd, argc, argv, ":d:jh", longopts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
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
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	rc = cli_open_hub(dir, &h);
	if (rc != CLI_EXIT_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	trc = store_stats(hub_store(h), &st);
	if (trc != TC_OK) {
		cli_err("%s: %s", hub_default_dir(dir), tcerr_str(trc));
		hub_close(h);
		return CLI_EXIT_USAGE;
	}
	size_t entries = index_count(hub_index(h));
	size_t memory = index_memory(hub_index(h));
	size_t allow = allowlist_count(hub_allowlist(h));
	if (json) {
		printf("{\"log_position\":%llu,\"versions\":%llu,\"objects\":%llu,"
		       "\"collections\":%llu,\"indicators\":%llu,\"revoked\":%llu,"
		       "\"observables\":{",
		       (unsigned long long)st.log_position, (unsigned long long)st.versions,
		       (unsigned long long)st.objects, (unsigned long long)st.collections,
		       (unsigned long long)st.indicators, (unsigned long long)st.revoked);
		for (int k = 1; k <= OBS_KIND_MAX; k++)
			printf("%s\"%s\":%llu", k > 1 ? "," : "", obs_kind_name((enum obs_kind)k),
			       (unsigned long long)st.observables[k]);
		printf("},\"index\":{\"entries\":%zu,\"memory_bytes\":%zu},"
		       "\"allowlist_entries\":%zu}\n",
		       entries, memory, allow);
	} else {
		printf("data directory     %s\n", hub_default_dir(dir));
		printf("log position       %llu\n", (unsigned long long)st.log_position);
		printf("versions           %llu\n", (unsigned long long)st.versions);
		printf("objects            %llu\n", (unsigned long long)st.objects);
		printf("collections        %llu\n", (unsigned long long)st.collections);
		printf("indicators         %llu\n", (unsigned long long)st.indicators);
		printf("revoked            %llu\n", (unsigned long long)st.revoked);
		printf("observables\n");
		for (int k = 1; k <= OBS_KIND_MAX; k++)
			if (st.observables[k])
				printf("  %-16s %llu\n", obs_kind_name((enum obs_kind)k),
				       (unsigned long long)st.observables[k]);
		printf("index entries      %zu\n", entries);
		printf("index memory       %zu bytes", memory);
		if (entries)
			printf(" (%.1f per entry)", (double)memory / (double)entries);
		printf("\n");
		printf("allowlist entries  %zu\n", allow);
	}
	hub_close(h);
	return cli_finish_stdout(CLI_EXIT_OK);
}
