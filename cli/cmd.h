/*
 * cmd.h — the entry points and usage texts of the tocsin commands, one
 * command group per file (cmd_init.c, cmd_import.c, cmd_match.c,
 * cmd_export.c, cmd_org.c, cmd_show.c). Each entry point takes argv with argv[0] = the command
 * name and returns a CLI_EXIT_* code.
 */
#ifndef TOCSIN_CLI_CMD_H
#define TOCSIN_CLI_CMD_H

#include "cli_util.h"

extern const char cmd_init_usage[];
int cmd_init(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_import_usage[];
int cmd_import(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_validate_usage[];
int cmd_validate(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_match_usage[];
int cmd_match(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_show_usage[];
int cmd_show(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_export_usage[];
int cmd_export(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_stats_usage[];
int cmd_stats(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_org_usage[];
int cmd_org(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_key_usage[];
int cmd_key(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_collection_usage[];
int cmd_collection(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_allowlist_usage[];
int cmd_allowlist(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_stream_usage[];
int cmd_stream(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_audit_usage[];
int cmd_audit(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_peer_usage[];
int cmd_peer(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_webhook_usage[];
int cmd_webhook(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_hubkey_usage[];
int cmd_hubkey(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_verify_usage[];
int cmd_verify(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_report_usage[];
int cmd_report(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_source_usage[];
int cmd_source(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_fp_usage[];
int cmd_fp(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_sightings_usage[];
int cmd_sightings(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_agents_usage[];
int cmd_agents(const struct cli_cmd *cmd, int argc, char **argv);

extern const char cmd_task_usage[];
int cmd_task(const struct cli_cmd *cmd, int argc, char **argv);
extern const char cmd_route_usage[];
int cmd_route(const struct cli_cmd *cmd, int argc, char **argv);
/* `tocsin org constituency|contact|lead` (cmd_task.c), dispatched by cmd_org. */
bool cmd_org_coord_is(const char *sub);
int cmd_org_coord(const struct cli_cmd *cmd, const char *dir, const char *sub, int npos,
                  char **pos);
/* The time to act per organisation (tocsin stats, tocsin task stats). */
bool cli_task_stats_print(const char *dir, bool json);

#endif
