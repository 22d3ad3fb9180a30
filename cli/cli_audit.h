/*
 * cli_audit.h — how the CLI's administrative commands write the audit log
 * (lib/audit): org, key and collection changes, imports, and exports for
 * an organisation. Invariant: a command opens the log before it changes
 * anything (a damaged or unwritable log stops it with nothing done), and
 * appends and syncs its entry, actor "operator", after the change
 * succeeded; a key's secret never reaches an entry.
 */
#ifndef TOCSIN_CLI_AUDIT_H
#define TOCSIN_CLI_AUDIT_H

#include "audit/audit.h"

/* Opens the audit log of data directory dir (NULL: the default one).
 * CLI_EXIT_OK with *out set, else CLI_EXIT_USAGE (reported). */
int cli_audit_open(const char *dir, struct audit **out);

/* As cli_audit_open, for a command that commits objects to store (tocsin
 * import): when no other program has the log open, first completes it
 * from the store (audit_recover(): entries a crash kept from the log),
 * saying so on stderr when it wrote any. */
struct store;
int cli_audit_open_writer(const char *dir, struct store *store, struct audit **out);

/* Appends e with actor "operator" (when e->actor is NULL), syncs and
 * closes a (which may be NULL: nothing happens). Returns rc unchanged on
 * success; on failure reports that the change was made but not audited
 * and returns CLI_EXIT_PROBLEMS (rc if rc is already worse). */
int cli_audit_commit(struct audit *a, const struct audit_entry *e, int rc);

/* Closes a without writing (the change failed). */
void cli_audit_abandon(struct audit *a);

#endif
