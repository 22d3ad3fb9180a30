/*
 * agent_conf.h — tocsin-agent's configuration file (docs/agent.md,
 * etc/tocsin-agent.conf): INI-style `[section]` and `key = value` lines,
 * '#' or ';' comment lines, errors as "file:line: message". Unknown
 * sections or keys, a key set twice and a value out of range are errors.
 * Defaults live in agent_conf_defaults().
 *
 * Sections: [hub] url, key, key_file, ca_file, pinned_public_key,
 * idle_timeout; [filter] kind, collection (space-separated lists),
 * min_confidence, tlp; [agent] state_file, state_interval_ms,
 * receipt_interval_ms, dry_run;
 * [nftables] enabled, table, hooks, priority; [file NAME] (up to
 * AGENT_CONF_FILES_MAX) format, path, part, reload, debounce_ms.
 */
#ifndef TOCSIN_AGENT_CONF_H
#define TOCSIN_AGENT_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/tcerr.h"

#define AGENT_CONF_FILE_MAX (256 * 1024)  /* bytes of the configuration file */
#define AGENT_CONF_VALUE_MAX 1024         /* bytes of one value */
#define AGENT_CONF_FILES_MAX 16           /* [file NAME] sections */
#define AGENT_CONF_NAME_MAX 32            /* bytes of a table or file section name */
#define AGENT_IDLE_TIMEOUT_MAX 86400
#define AGENT_INTERVAL_MS_MAX 3600000

struct agent_file_conf {
	char name[AGENT_CONF_NAME_MAX + 1];
	char format[32];                       /* rpz, suricata-dataset, zeek, plain, ipset */
	char path[AGENT_CONF_VALUE_MAX + 1];
	char part[64];                         /* suricata-dataset part; "" the first */
	char reload[AGENT_CONF_VALUE_MAX + 1]; /* a command run after each rewrite; "" none */
	unsigned debounce_ms;
};

struct agent_conf {
	/* [hub] */
	char url[AGENT_CONF_VALUE_MAX + 1];
	char key[AGENT_CONF_VALUE_MAX + 1];     /* key, or read from key_file */
	char key_file[AGENT_CONF_VALUE_MAX + 1];
	char ca_file[AGENT_CONF_VALUE_MAX + 1];
	char pinned_public_key[AGENT_CONF_VALUE_MAX + 1]; /* "sha256//BASE64[;sha256//...]" */
	unsigned idle_timeout;                  /* seconds */
	/* [filter] */
	char kinds[AGENT_CONF_VALUE_MAX + 1];   /* space-separated */
	char collections[AGENT_CONF_VALUE_MAX + 1];
	int min_confidence;                     /* -1: none */
	char tlp[16];                           /* "" none */
	/* [agent] */
	char state_file[AGENT_CONF_VALUE_MAX + 1];
	unsigned state_interval_ms;             /* journal fsync interval */
	unsigned receipt_interval_ms;           /* 0: no receipts */
	bool dry_run;
	/* [nftables] */
	bool nft;
	char nft_table[AGENT_CONF_NAME_MAX + 1];
	char nft_hooks[64];                     /* "input forward", "input", ... */
	int nft_priority;
	/* [file NAME] */
	struct agent_file_conf files[AGENT_CONF_FILES_MAX];
	unsigned nfiles;
};

void agent_conf_defaults(struct agent_conf *c);

/* Reads path over c (after agent_conf_defaults). A key_file is read into
 * key. Errors: TC_ENOTFOUND, TC_EIO, TC_EINVAL ("path:line: why"),
 * TC_ELIMIT. */
enum tcerr agent_conf_load(struct agent_conf *c, const char *path, struct diag *d);

/* Checks what depends on several keys (a hub URL and a key are needed,
 * an https URL for pinning, a file section has a format and a path).
 * TC_EINVAL with the reason. */
enum tcerr agent_conf_check(const struct agent_conf *c, struct diag *d);

#endif
