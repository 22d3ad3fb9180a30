/*
 * cli_audit.c — the audit log as the CLI's administrative commands write
 * it (cli_audit.h): open first, change, then append and sync one entry as
 * "operator". An entry that cannot be written after a change succeeded is
 * reported as such (exit 1), never silently dropped.
 */
#include "cli_audit.h"
#include "cli_util.h"
#include "hub/hub.h"

int
cli_audit_open(const char *dir, struct audit **out)
{
	struct diag d;
	diag_clear(&d);
	dir = hub_default_dir(dir);
	enum tcerr rc = audit_open(dir, out, &d);
	if (rc == TC_OK)
		return CLI_EXIT_OK;
	*out = NULL;
	cli_err("audit log: %s%s", d.msg[0] ? d.msg : tcerr_str(rc),
	        rc == TC_ECORRUPT ? " (nothing was changed)" : "");
	return CLI_EXIT_USAGE;
}

int
cli_audit_open_writer(const char *dir, struct store *store, struct audit **out)
{
	struct audit_recovery ar;
	struct diag d;
	diag_clear(&d);
	dir = hub_default_dir(dir);
	enum tcerr rc = audit_open_writer(dir, out, &d);
	if (rc == TC_OK) {
		rc = audit_recover(*out, store, &ar, &d);
		if (rc == TC_OK) {
			if (ar.versions || ar.deletions)
				cli_err("audit log: %llu versions and %llu deletions committed before a "
				        "crash but not audited were entered as recovered",
				        (unsigned long long)ar.versions,
				        (unsigned long long)ar.deletions);
			return CLI_EXIT_OK;
		}
		audit_close(*out);
	}
	*out = NULL;
	cli_err("audit log: %s%s", d.msg[0] ? d.msg : tcerr_str(rc),
	        rc == TC_ECORRUPT ? " (nothing was changed)" : "");
	return CLI_EXIT_USAGE;
}

int
cli_audit_commit(struct audit *a, const struct audit_entry *e, int rc)
{
	struct diag d;
	enum tcerr arc;

	if (!a)
		return rc;
	struct audit_entry copy = *e;
	if (!copy.actor)
		copy.actor = "operator";
	diag_clear(&d);
	if ((arc = audit_append(a, &copy, &d)) == TC_OK)
		arc = audit_sync(a, &d);
	audit_close(a);
	if (arc == TC_OK)
		return rc;
	cli_err("%s was done but could not be written to the audit log: %s", e->action,
	        d.msg[0] ? d.msg : tcerr_str(arc));
	return rc > CLI_EXIT_PROBLEMS ? rc : CLI_EXIT_PROBLEMS;
}

void
cli_audit_abandon(struct audit *a)
{
	if (a)
		audit_close(a);
}
