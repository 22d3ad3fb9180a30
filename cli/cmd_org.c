/*
 * cmd_org.c — `tocsin org`, `tocsin key` and `tocsin collection`: who may
 * talk to the hub and what each collection lets them do.
 *
 * Each is a group of subcommands over lib/registry (and the store, for
 * collections). Invariant: results go to stdout in the fixed formats the
 * tests and the demo rely on (an identity, a key text, a UUID, or an
 * aligned table with a header line); an API key is printed exactly once,
 * by `key create`, and wiped from memory afterwards. Any error exits 2
 * with nothing changed. Every change appends one entry (actor "operator",
 * never a secret) to the audit log (cli_audit.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_audit.h"
#include "cmd.h"
#include "registry/registry.h"
#include "util/timestamp.h"

#define ORG_LIST_GROUPS_MAX (REG_GROUPS_MAX * (REG_GROUP_NAME_MAX + 1))

const char cmd_org_usage[] =
	"usage: tocsin org add NAME --sector SECTOR --country CC [--groups G1,G2] [--data DIR]\n"
	"       tocsin org list [--json] [--all] [--data DIR]\n"
	"       tocsin org groups NAME G1,G2 [--data DIR]\n"
	"       tocsin org rename NAME NEWNAME [--data DIR]\n"
	"       tocsin org delete NAME [--data DIR]\n"
	"       tocsin org constituency add|remove ORG CIDR|ASN|DOMAIN... [--data DIR]\n"
	"       tocsin org constituency list [ORG] [--data DIR]\n"
	"       tocsin org contact add|remove|list ORG [EMAIL...] [--data DIR]\n"
	"       tocsin org lead SECTOR [ORG|none] [--data DIR]\n"
	"\n"
	"Manages the organisations of the hub. 'add' prints the organisation's STIX\n"
	"identity id (identity--...), by which objects name recipients and their\n"
	"producer (created_by_ref: an organisation publishes only as itself).\n"
	"'list --json' prints one JSON array: per organisation name, identity,\n"
	"sector, country, groups, created and deleted. 'groups' replaces the sharing\n"
	"groups ('' for none). Names are unique in any case.\n"
	"\n"
	"'rename' changes the name only: the STIX identity stays (objects reference\n"
	"it), collection rights that name the organisation follow, and the old name\n"
	"stays reserved (it derives the same identity). 'delete' revokes all its keys\n"
	"and certificates at once; the objects it published stay in the log,\n"
	"attributed to it, and are served as their markings say; its name and\n"
	"identity stay reserved so that nobody can later publish as it. Deleted\n"
	"organisations are listed with --all. A running tocsind applies each change\n"
	"within a second.\n"
	"\n"
	"'constituency' records the networks (192.0.2.0/24), AS numbers (AS64500) and\n"
	"domains (example.ru) an organisation answers for; an entry overlapping\n"
	"another organisation's is refused, naming it. A committed indicator naming\n"
	"a resource inside it gives that organisation a task (docs/coordination.md).\n"
	"'contact' keeps the e-mail addresses task notifications go to; 'lead' names\n"
	"the sector's lead organisation, where overdue tasks escalate last.\n"
	"\n"
	"Sectors: telecom, finance, internet, government, law-enforcement, cert,\n"
	"critical-infrastructure, other. Groups: letters, digits, '.', '_', '-'.\n"
	"\n"
	"Options:\n"
	"  -s, --sector SECTOR   the organisation's sector\n"
	"  -c, --country CC      ISO 3166-1 alpha-2 country code (an assigned one, or\n"
	"                        XK; user-assigned codes such as XX are refused)\n"
	"  -g, --groups G1,G2    sharing groups (TLP:AMBER reaches their members)\n"
	"  -j, --json            list: JSON instead of a table\n"
	"  -a, --all             list: deleted organisations too\n"
	"  -d, --data DIR        data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help            show this help\n";

const char cmd_key_usage[] =
	"usage: tocsin key create ORG --role ROLE [--name N] [--cert PEM_FILE]\n"
	"                         [--expires WHEN] [--data DIR]\n"
	"       tocsin key list [--json] [--data DIR]\n"
	"       tocsin key revoke KEYID [--data DIR]\n"
	"\n"
	"Manages the principals that talk to the hub. 'create' prints the API key\n"
	"(tcs_<keyid>_<secret>) once: only its hash is stored. With --cert it maps a\n"
	"TLS client certificate (PEM or DER) instead and prints the key id. 'list'\n"
	"never shows secrets; 'list --json' prints one JSON array. A running tocsind\n"
	"applies each change within a second, and refuses a key from the moment it\n"
	"expires (as if revoked), without a reload.\n"
	"\n"
	"Roles: reader, contributor, coordinator, admin, agent, peer.\n"
	"\n"
	"Options:\n"
	"  -r, --role ROLE       what the principal may do\n"
	"  -n, --name N          a free-text label (who holds the key)\n"
	"      --cert PEM_FILE   authenticate by this client certificate\n"
	"  -e, --expires WHEN    the key stops working at WHEN: an RFC 3339 time\n"
	"                        (2027-01-01T00:00:00Z) or a delay from now: Nd\n"
	"                        (days) or Nh (hours), e.g. 90d\n"
	"  -j, --json            list: JSON instead of a table\n"
	"  -d, --data DIR        data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help            show this help\n";

const char cmd_collection_usage[] =
	"usage: tocsin collection add ALIAS --read SPEC --write SPEC [--title T]\n"
	"                          [--description D] [--id UUID] [--api-root NAME]\n"
	"                          [--data DIR]\n"
	"       tocsin collection list [--json] [--data DIR]\n"
	"       tocsin collection rights ALIAS --read SPEC --write SPEC [--data DIR]\n"
	"       tocsin collection rename ALIAS [NEWALIAS] [--title T] [--description D]\n"
	"                          [--data DIR]\n"
	"       tocsin collection delete ALIAS [--force] [--data DIR]\n"
	"\n"
	"Manages TAXII collections and who may read and write them. 'add' prints the\n"
	"new collection's id. A SPEC is a comma-separated list of terms, any of which\n"
	"admits: all, none, org:NAME, sector:SECTOR, role:ROLE, group:GROUP, or a bare\n"
	"sector, role or organisation name. A collection without rights admits\n"
	"nobody. A running tocsind applies each change within a second.\n"
	"\n"
	"'rename' changes the alias and/or the title or description; the id, which\n"
	"TAXII clients use, never changes. 'delete' refuses a collection that still\n"
	"holds objects unless --force: then every version of its objects is deleted\n"
	"first, as a TAXII DELETE would (tombstones, so every later reader and peer\n"
	"sees the removals), and the collection is no longer served or listed; its\n"
	"id stays reserved, its alias becomes free. The default collection can be\n"
	"renamed only in title and description, and not deleted. Titles and\n"
	"descriptions are printable text: control characters are refused.\n"
	"\n"
	"Options:\n"
	"  -r, --read SPEC        who may read\n"
	"  -w, --write SPEC       who may write\n"
	"  -t, --title T          title (default: the alias)\n"
	"  -D, --description D    description\n"
	"  -f, --force            delete: delete its objects' versions too\n"
	"  -j, --json             list: JSON instead of a table\n"
	"      --id UUID          the collection id (default: a new random one)\n"
	"      --api-root NAME    the API root that serves it, /taxii2/NAME/ (default:\n"
	"                         tocsind's default root, [taxii] api_root); a new NAME\n"
	"                         is served from the next reload; its title and limits\n"
	"                         come from an [api_root NAME] section of tocsind.conf\n"
	"  -d, --data DIR         data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help             show this help\n";

/* Prints d's message, else rc's description, as an error; returns 2. */
static int
org_fail(enum tcerr rc, const struct diag *d, const char *what)
{
	if (d && d->msg[0])
		cli_err("%s", d->msg);
	else
		cli_err("%s: %s", what, tcerr_str(rc));
	return CLI_EXIT_USAGE;
}

/* The data directory's store file; false (reported) if dir is no data directory. */
static bool
org_data_dir(const char *dir, char db[PATH_MAX])
{
	struct stat st;
	int n = snprintf(db, PATH_MAX, "%s/tocsin.db", dir);
	if (n < 0 || n >= PATH_MAX) {
		cli_err("%s: path too long", dir);
		return false;
	}
	if (stat(db, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return false;
	}
	return true;
}

static int
org_open(const char *dir, struct registry **r)
{
	char db[PATH_MAX];
	struct diag d;
	dir = hub_default_dir(dir);
	if (!org_data_dir(dir, db))
		return CLI_EXIT_USAGE;
	diag_clear(&d);
	enum tcerr rc = registry_open(dir, r, &d);
	return rc ? org_fail(rc, &d, dir) : CLI_EXIT_OK;
}

static int
org_open_store(const char *dir, struct store **s)
{
	char db[PATH_MAX], spec[PATH_MAX + 8];
	struct diag d;
	dir = hub_default_dir(dir);
	if (!org_data_dir(dir, db))
		return CLI_EXIT_USAGE;
	snprintf(spec, sizeof spec, "sqlite:%s", db);
	diag_clear(&d);
	enum tcerr rc = store_open(spec, s, &d);
	return rc ? org_fail(rc, &d, db) : CLI_EXIT_OK;
}

/* Opens the registry and then the audit log (so a damaged log stops the
 * command before it changes anything). */
static int
org_open_audited(const char *dir, struct registry **r, struct audit **a)
{
	int ret = org_open(dir, r);
	if (ret)
		return ret;
	if ((ret = cli_audit_open(dir, a))) {
		registry_close(*r);
		*r = NULL;
	}
	return ret;
}

/* A buffer's text ("" when empty or failed: the entry still records the
 * action). */
static const char *
org_bstr(const struct buf *b)
{
	return b->p && !b->err ? b->p : "";
}

/* "groups a,b" (or "groups none") for an audit entry. */
static void
org_groups_detail(const struct reg_org *o, const char *prefix, struct buf *b)
{
	buf_append_cstr(b, prefix);
	buf_append_cstr(b, "groups ");
	if (o->ngroups == 0)
		buf_append_cstr(b, "none");
	for (size_t i = 0; i < o->ngroups; i++) {
		if (i)
			buf_append_char(b, ',');
		buf_append_cstr(b, o->groups[i]);
	}
}

/*
 * Tables: rows of strings printed in aligned columns under a header, two
 * spaces apart, padded by characters (not bytes) so UTF-8 names line up.
 */
#define TABLE_COLS_MAX 8

struct table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, row-major; row 0 is the header */
};

static size_t
table_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Adds a row of ncols strings (copied); false on out of memory. */
static bool
table_row(struct table *t, const char *const *cols)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 16;
		void *p = realloc(t->cells, nc * t->ncols * sizeof *t->cells);
		if (!p)
			return false;
		t->cells = p;
		t->cap = nc;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = strdup(cli_esc(cols[i] ? cols[i] : ""));
		if (!c) {
			for (size_t j = 0; j < i; j++)
				free(t->cells[t->nrows * t->ncols + j]);
			return false;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
	return true;
}

static void
table_print(const struct table *t)
{
	size_t w[TABLE_COLS_MAX] = { 0 };
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t x = table_width(t->cells[r * t->ncols + c]);
			if (x > w[c])
				w[c] = x;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			fputs(s, stdout);
			if (c + 1 < t->ncols)
				for (size_t k = table_width(s); k < w[c] + 2; k++)
					fputc(' ', stdout);
		}
		fputc('\n', stdout);
	}
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Splits "a,b,c" (in place) into at most max parts; "" gives none. */
static size_t
org_split(char *s, const char **out, size_t max, bool *too_many)
{
	size_t n = 0;
	*too_many = false;
	if (!*s)
		return 0;
	for (char *p = s;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (n == max) {
			*too_many = true;
			return n;
		}
		out[n++] = p;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

/* Prints a JSON array (list --json); returns 0, or 2 (reported). */
static int
org_print_json(json_t *arr, const char *what)
{
	char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return org_fail(TC_ENOMEM, NULL, what);
	puts(text);
	free(text);
	return CLI_EXIT_OK;
}

/* ---------- org ---------- */

static const struct option org_longopts[] = {
	{ "sector", required_argument, NULL, 's' },
	{ "country", required_argument, NULL, 'c' },
	{ "groups", required_argument, NULL, 'g' },
	{ "json", no_argument, NULL, 'j' },
	{ "all", no_argument, NULL, 'a' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
org_groups_arg(const struct cli_cmd *cmd, char *arg, const char **groups, size_t *n)
{
	bool too_many;
	*n = org_split(arg, groups, REG_GROUPS_MAX + 1, &too_many);
	if (too_many || *n > REG_GROUPS_MAX) {
		cli_err("--groups: more than %d groups", REG_GROUPS_MAX);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

struct org_list_ctx {
	struct table t;
	bool oom;
	bool all;       /* --all: deleted ones too */
	json_t *arr;    /* --json */
};

/* One organisation as a JSON object (org list --json). NULL: no memory. */
static json_t *
org_json(const struct reg_org *o)
{
	char created[TS_TEXT_MAX];
	json_t *groups = json_array(), *j;

	ts_format(o->created_us, 0, created);
	for (size_t i = 0; groups && i < o->ngroups; i++)
		if (json_array_append_new(groups, json_string(o->groups[i]))) {
			json_decref(groups);
			return NULL;
		}
	char deleted[TS_TEXT_MAX];
	if (o->deleted_us)
		ts_format(o->deleted_us, 0, deleted);
	j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "name", o->name, "identity",
	              o->identity, "sector", reg_sector_name(o->sector), "country", o->country,
	              "groups", groups, "created", created, "deleted",
	              o->deleted_us ? json_string(deleted) : json_null());
	return j;
}

static enum tcerr
org_list_row(void *ctx, const struct reg_org *o)
{
	struct org_list_ctx *c = ctx;
	char groups[ORG_LIST_GROUPS_MAX + 1] = "";
	if (o->deleted_us && !c->all)
		return TC_OK;
	if (c->arr) {
		json_t *j = org_json(o);
		if (!j || json_array_append_new(c->arr, j)) {
			c->oom = true;
			return TC_ENOMEM;
		}
		return TC_OK;
	}
	size_t used = 0;
	for (size_t i = 0; i < o->ngroups; i++) {
		int n = snprintf(groups + used, sizeof groups - used, "%s%s", i ? "," : "",
		                 o->groups[i]);
		if (n < 0 || (size_t)n >= sizeof groups - used)
			break;
		used += (size_t)n;
	}
	char deleted[TS_TEXT_MAX] = "-";
	if (o->deleted_us)
		ts_format(o->deleted_us, 0, deleted);
	const char *row[] = { o->name, reg_sector_name(o->sector), o->country,
		              o->ngroups ? groups : "-", o->identity, deleted };
	if (!table_row(&c->t, row)) {
		c->oom = true;
		return TC_ENOMEM;
	}
	return TC_OK;
}

static int
org_rename(const struct cli_cmd *cmd, const char *dir, int npos, char **pos)
{
	struct registry *r = NULL;
	struct audit *a;
	struct reg_org before, o;
	struct diag d;
	size_t nrights = 0;
	int ret;

	if (npos != 2)
		return cli_usage_error(cmd, "'org rename' takes NAME and NEWNAME (quote names with "
		                            "spaces)");
	if ((ret = org_open_audited(dir, &r, &a)))
		return ret;
	diag_clear(&d);
	enum tcerr rc = registry_org_find(r, pos[0], &before);
	if (rc == TC_ENOTFOUND)
		diag_set(&d, rc, "no organisation '%s'", pos[0]);
	if (!rc)
		rc = registry_org_rename(r, pos[0], pos[1], &o, &nrights, &d);
	registry_close(r);
	if (rc) {
		cli_audit_abandon(a);
		return org_fail(rc, &d, pos[0]);
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "renamed from %s, identity %s unchanged, %zu collection rights rewritten",
	           before.name, o.identity, nrights);
	ret = cli_audit_commit(
	    a,
	    &(struct audit_entry){ .action = "org.rename", .org = o.name, .detail = org_bstr(&detail) },
	    CLI_EXIT_OK);
	buf_reset(&detail);
	printf("%s\n", o.identity);
	cli_fprintf(stderr,
	            "tocsin: renamed '%s' to '%s'; its identity %s is unchanged, so its objects "
	            "keep their attribution; %zu collection rights now name it by the new name; "
	            "the old name stays reserved\n",
	            before.name, o.name, o.identity, nrights);
	return cli_finish_stdout(ret);
}

/* Counts the current versions organisation num produced (store_query). */
struct org_count {
	int64_t org;
	uint64_t n;
};

static enum store_row_verdict
org_count_row(void *ctx, const struct store_row *row)
{
	struct org_count *c = ctx;
	if (row->producer == c->org)
		c->n++;
	return STORE_ROW_SKIP;
}

static int
org_delete(const struct cli_cmd *cmd, const char *dir, int npos, char **pos)
{
	struct registry *r = NULL;
	struct store *s = NULL;
	struct audit *a;
	struct reg_org o;
	struct diag d;
	size_t nrevoked = 0;
	int ret;

	if (npos != 1)
		return cli_usage_error(cmd, "'org delete' takes one NAME (quote names with spaces)");
	if ((ret = org_open_store(dir, &s)))
		return ret;
	if ((ret = org_open_audited(dir, &r, &a))) {
		store_close(s);
		return ret;
	}
	diag_clear(&d);
	struct org_count cnt = { 0 };
	enum tcerr rc = registry_org_find(r, pos[0], &o);
	if (rc == TC_ENOTFOUND)
		diag_set(&d, rc, "no organisation '%s'", pos[0]);
	if (!rc) {
		cnt.org = o.num;
		struct store_query q = { .versions = STORE_V_LAST };
		rc = store_query(s, &q, org_count_row, &cnt, NULL, &d);
	}
	if (!rc)
		rc = registry_org_delete(r, pos[0], &o, &nrevoked, &d);
	registry_close(r);
	store_close(s);
	if (rc) {
		cli_audit_abandon(a);
		return org_fail(rc, &d, pos[0]);
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "identity %s, %zu keys revoked, %llu objects kept attributed to it",
	           o.identity, nrevoked, (unsigned long long)cnt.n);
	ret = cli_audit_commit(
	    a,
	    &(struct audit_entry){ .action = "org.delete", .org = o.name, .detail = org_bstr(&detail) },
	    CLI_EXIT_OK);
	buf_reset(&detail);
	cli_fprintf(stdout,
	            "deleted organisation '%s' (%s): %zu keys revoked; its %llu objects stay in the "
	            "log attributed to it; its name and identity stay reserved\n",
	            o.name, o.identity, nrevoked, (unsigned long long)cnt.n);
	return cli_finish_stdout(ret);
}

int
cmd_org(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *sector_arg = NULL, *country = NULL;
	char *groups_arg = NULL;
	struct registry *r = NULL;
	struct diag d;
	enum tcerr rc;
	int c, ret;
	bool json = false, all = false;

	while ((c = cli_getopt(cmd, argc, argv, ":s:c:g:jad:h", org_longopts)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 's':
			sector_arg = optarg;
			break;
		case 'c':
			country = optarg;
			break;
		case 'g':
			groups_arg = optarg;
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
	/* options may come before or after the subcommand (getopt permutes) */
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos == 0)
		return cli_usage_error(cmd, "missing subcommand (add, list, groups, rename or delete)");
	const char *sub = *pos++;
	npos--;
	if (cmd_org_coord_is(sub))
		return cmd_org_coord(cmd, dir, sub, npos, pos);
	bool add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0,
	     grp = strcmp(sub, "groups") == 0, ren = strcmp(sub, "rename") == 0,
	     del = strcmp(sub, "delete") == 0;
	if (!add && !list && !grp && !ren && !del)
		return cli_usage_error(cmd,
		                       "unknown subcommand '%s' (add, list, groups, rename or delete)",
		                       sub);
	if (!add && (sector_arg || country || groups_arg))
		return cli_usage_error(cmd, "--sector, --country and --groups belong to 'org add'");
	if ((json || all) && !list)
		return cli_usage_error(cmd, "--json and --all belong to 'org list'");
	if (ren)
		return org_rename(cmd, dir, npos, pos);
	if (del)
		return org_delete(cmd, dir, npos, pos);

	if (list) {
		if (npos > 0)
			return cli_usage_error(cmd, "unexpected argument '%s'", pos[0]);
		if ((ret = org_open(dir, &r)))
			return ret;
		struct org_list_ctx lc = { .t = { .ncols = all ? 6 : 5 }, .all = all };
		const char *head[] = { "NAME", "SECTOR", "COUNTRY", "GROUPS", "IDENTITY", "DELETED" };
		if (json)
			rc = (lc.arr = json_array()) ? registry_org_list(r, org_list_row, &lc)
			                             : TC_ENOMEM;
		else if (!table_row(&lc.t, head))
			rc = TC_ENOMEM;
		else
			rc = registry_org_list(r, org_list_row, &lc);
		if (rc) {
			ret = org_fail(rc, NULL, "org list");
		} else if (json) {
			ret = org_print_json(lc.arr, "org list");
		} else {
			table_print(&lc.t);
		}
		json_decref(lc.arr);
		table_free(&lc.t);
		registry_close(r);
		return ret ? ret : cli_finish_stdout(CLI_EXIT_OK);
	}

	if (grp) {
		const char *groups[REG_GROUPS_MAX + 1];
		size_t n;
		if (npos != 2)
			return cli_usage_error(cmd, "'org groups' takes NAME and G1,G2 ('' for none)");
		if ((ret = org_groups_arg(cmd, pos[1], groups, &n)))
			return ret;
		struct audit *a;
		if ((ret = org_open_audited(dir, &r, &a)))
			return ret;
		diag_clear(&d);
		rc = registry_org_set_groups(r, pos[0], groups, n, &d);
		struct reg_org o;
		if (!rc)
			rc = registry_org_find(r, pos[0], &o);
		registry_close(r);
		if (rc) {
			cli_audit_abandon(a);
			return org_fail(rc, &d, pos[0]);
		}
		struct buf detail;
		buf_init(&detail, 0);
		org_groups_detail(&o, "", &detail);
		ret = cli_audit_commit(a,
		                       &(struct audit_entry){ .action = "org.groups",
		                                              .org = o.name,
		                                              .detail = org_bstr(&detail) },
		                       CLI_EXIT_OK);
		buf_reset(&detail);
		return ret;
	}

	/* add */
	const char *groups[REG_GROUPS_MAX + 1];
	size_t ngroups = 0;
	enum reg_sector sector;
	if (npos != 1)
		return cli_usage_error(cmd, npos ? "'org add' takes one NAME (quote names with spaces)"
		                                 : "'org add' needs a NAME");
	if (!sector_arg)
		return cli_usage_error(cmd, "'org add' needs --sector");
	if (!country)
		return cli_usage_error(cmd, "'org add' needs --country");
	diag_clear(&d);
	if (reg_sector_parse(sector_arg, &sector, &d))
		return cli_usage_error(cmd, "%s", d.msg);
	if (groups_arg && (ret = org_groups_arg(cmd, groups_arg, groups, &ngroups)))
		return ret;
	struct audit *a;
	if ((ret = org_open_audited(dir, &r, &a)))
		return ret;
	struct reg_org o;
	rc = registry_org_add(r, pos[0], sector, country, groups, ngroups, &o, &d);
	registry_close(r);
	if (rc) {
		cli_audit_abandon(a);
		return org_fail(rc, &d, pos[0]);
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "sector %s, country %s, identity %s, ", reg_sector_name(o.sector),
	           o.country, o.identity);
	org_groups_detail(&o, "", &detail);
	ret = cli_audit_commit(
	    a, &(struct audit_entry){ .action = "org.add", .org = o.name, .detail = org_bstr(&detail) },
	    CLI_EXIT_OK);
	buf_reset(&detail);
	printf("%s\n", o.identity);
	return cli_finish_stdout(ret);
}

/* ---------- key ---------- */

#define OPT_CERT 0x100
#define KEY_EXPIRES_DAYS_MAX 36525 /* --expires Nd: a hundred years at most */

static const struct option key_longopts[] = {
	{ "role", required_argument, NULL, 'r' },
	{ "name", required_argument, NULL, 'n' },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "expires", required_argument, NULL, 'e' },
	{ "json", no_argument, NULL, 'j' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Reads a certificate file and fingerprints it; false (reported) on error. */
static bool
key_cert_file(const char *path, uint8_t fp[32])
{
	static char data[REG_CERT_MAX + 1];
	struct diag d;
	FILE *f = fopen(path, "rb");
	if (!f) {
		cli_err("%s: %s", path, strerror(errno));
		return false;
	}
	size_t n = fread(data, 1, sizeof data, f);
	bool err = ferror(f);
	fclose(f);
	if (err) {
		cli_err("%s: read error", path);
		return false;
	}
	diag_clear(&d);
	if (registry_cert_fingerprint(data, n, fp, &d)) {
		cli_err("%s: %s", path, d.msg);
		return false;
	}
	return true;
}

/* --expires: an RFC 3339 time, or Nd / Nh from now. false (reported) if
 * it is neither or lies in the past. */
static bool
key_expires_parse(const struct cli_cmd *cmd, const char *arg, int64_t *out)
{
	size_t len = strlen(arg);
	int64_t now = ts_now_us();
	if (len >= 2 && (arg[len - 1] == 'd' || arg[len - 1] == 'h')) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(arg, &end, 10);
		unsigned long long max = arg[len - 1] == 'd' ? KEY_EXPIRES_DAYS_MAX
		                                             : KEY_EXPIRES_DAYS_MAX * 24ULL;
		if (arg[0] >= '0' && arg[0] <= '9' && end == arg + len - 1 && !errno && n >= 1 &&
		    n <= max) {
			int64_t unit = arg[len - 1] == 'd' ? 86400LL * 1000000 : 3600LL * 1000000;
			*out = now + (int64_t)n * unit;
			return true;
		}
	} else if (ts_parse(slice_from_cstr(arg), out, NULL) == TC_OK) {
		if (*out > now)
			return true;
		cli_usage_error(cmd, "--expires '%s' is in the past", arg);
		return false;
	}
	cli_usage_error(cmd,
	                "--expires '%s': give an RFC 3339 time (2027-01-01T00:00:00Z) or a "
	                "number of days or hours from now (90d, 12h; at most %d days)",
	                arg, KEY_EXPIRES_DAYS_MAX);
	return false;
}

struct key_list_ctx {
	struct registry *r;
	struct table t;
	json_t *arr;    /* --json */
};

static enum tcerr
key_list_row(void *ctx, const struct reg_principal *p)
{
	struct key_list_ctx *c = ctx;
	char created[TS_TEXT_MAX], revoked[TS_TEXT_MAX] = "-", org[REG_ORG_NAME_MAX + 1];
	char num[32], expires[TS_TEXT_MAX] = "-";
	struct reg_org o;
	ts_format(p->created_us, 0, created);
	if (p->revoked_us)
		ts_format(p->revoked_us, 0, revoked);
	if (p->expires_us)
		ts_format(p->expires_us, 0, expires);
	snprintf(num, sizeof num, "#%lld", (long long)p->org);
	if (registry_org_find(c->r, num, &o) == TC_OK)
		snprintf(org, sizeof org, "%s", o.name);
	else
		snprintf(org, sizeof org, "%s", num);
	const char *cred = p->cred == REG_CRED_CERT ? "cert" : "key";
	if (c->arr) {
		bool expired = p->expires_us && ts_now_us() >= p->expires_us;
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "key_id",
		                      p->key_id, "org", org, "role", reg_role_name(p->role), "cred",
		                      cred, "name", p->name, "created", created, "revoked",
		                      p->revoked_us ? json_string(revoked) : json_null(), "expires",
		                      p->expires_us ? json_string(expires) : json_null(), "expired",
		                      expired);
		return j && !json_array_append_new(c->arr, j) ? TC_OK : TC_ENOMEM;
	}
	const char *row[] = { p->key_id, org,     reg_role_name(p->role), cred,
		              p->name[0] ? p->name : "-", created, revoked, expires };
	return table_row(&c->t, row) ? TC_OK : TC_ENOMEM;
}

int
cmd_key(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *role_arg = NULL, *name = NULL, *cert = NULL, *expires = NULL;
	struct registry *r = NULL;
	struct diag d;
	enum tcerr rc;
	int c, ret;
	bool json = false;
	int64_t expires_us = 0;

	while ((c = cli_getopt(cmd, argc, argv, ":r:n:e:jd:h", key_longopts)) != -1) {
		switch (c) {
		case 'e':
			expires = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			role_arg = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case OPT_CERT:
			cert = optarg;
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
	/* options may come before or after the subcommand (getopt permutes) */
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos == 0)
		return cli_usage_error(cmd, "missing subcommand (create, list or revoke)");
	const char *sub = *pos++;
	npos--;
	bool create = strcmp(sub, "create") == 0, list = strcmp(sub, "list") == 0,
	     revoke = strcmp(sub, "revoke") == 0;
	if (!create && !list && !revoke)
		return cli_usage_error(cmd, "unknown subcommand '%s' (create, list or revoke)", sub);
	if (!create && (role_arg || name || cert || expires))
		return cli_usage_error(cmd,
		                       "--role, --name, --cert and --expires belong to 'key create'");
	if (json && !list)
		return cli_usage_error(cmd, "--json belongs to 'key list'");

	if (list) {
		if (npos > 0)
			return cli_usage_error(cmd, "unexpected argument '%s'", pos[0]);
		if ((ret = org_open(dir, &r)))
			return ret;
		struct key_list_ctx lc = { .r = r, .t = { .ncols = 8 } };
		const char *head[] = { "KEY ID", "ORG",     "ROLE",   "CRED",
			               "NAME",   "CREATED", "REVOKED", "EXPIRES" };
		if (json)
			rc = (lc.arr = json_array()) ? registry_key_list(r, key_list_row, &lc)
			                             : TC_ENOMEM;
		else
			rc = table_row(&lc.t, head) ? registry_key_list(r, key_list_row, &lc)
			                            : TC_ENOMEM;
		if (rc)
			ret = org_fail(rc, NULL, "key list");
		else if (json)
			ret = org_print_json(lc.arr, "key list");
		else
			table_print(&lc.t);
		json_decref(lc.arr);
		table_free(&lc.t);
		registry_close(r);
		return ret ? ret : cli_finish_stdout(CLI_EXIT_OK);
	}

	if (revoke) {
		if (npos != 1)
			return cli_usage_error(cmd, "'key revoke' takes one KEYID");
		struct audit *a;
		if ((ret = org_open_audited(dir, &r, &a)))
			return ret;
		diag_clear(&d);
		rc = registry_key_revoke(r, pos[0], &d);
		registry_close(r);
		if (rc) {
			cli_audit_abandon(a);
			return org_fail(rc, &d, pos[0]);
		}
		char detail[64];
		snprintf(detail, sizeof detail, "key %.*s", REG_KEY_ID_LEN, pos[0]);
		ret = cli_audit_commit(
		    a, &(struct audit_entry){ .action = "key.revoke", .detail = detail }, CLI_EXIT_OK);
		cli_fprintf(stdout, "revoked %s\n", pos[0]);
		return cli_finish_stdout(ret);
	}

	/* create */
	enum reg_role role;
	uint8_t fp[32];
	if (npos != 1)
		return cli_usage_error(cmd, npos ? "'key create' takes one ORG"
		                                 : "'key create' needs an ORG");
	if (!role_arg)
		return cli_usage_error(cmd, "'key create' needs --role");
	diag_clear(&d);
	if (reg_role_parse(role_arg, &role, &d))
		return cli_usage_error(cmd, "%s", d.msg);
	if (cert && !key_cert_file(cert, fp))
		return CLI_EXIT_USAGE;
	if (expires && !key_expires_parse(cmd, expires, &expires_us))
		return CLI_EXIT_USAGE;
	struct audit *a;
	if ((ret = org_open_audited(dir, &r, &a)))
		return ret;
	diag_clear(&d);
	char text[REG_KEY_TEXT_MAX + 1];
	struct reg_principal p;
	struct reg_org o;
	rc = registry_key_create_expiring(r, pos[0], role, name, cert ? fp : NULL, expires_us, text,
	                                  &p, &d);
	if (!rc)
		rc = registry_org_find(r, pos[0], &o);
	registry_close(r);
	if (rc) {
		explicit_bzero(text, sizeof text);
		cli_audit_abandon(a);
		return org_fail(rc, &d, pos[0]);
	}
	/* the key id and what it may do; never the secret */
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "key %s, role %s, %s", p.key_id, reg_role_name(role),
	           cert ? "client certificate sha256 " : "api key");
	if (cert)
		buf_append_hex(&detail, fp, sizeof fp);
	if (p.name[0])
		buf_printf(&detail, ", name %s", p.name);
	char exp_text[TS_TEXT_MAX] = "";
	if (p.expires_us) {
		ts_format(p.expires_us, 0, exp_text);
		buf_printf(&detail, ", expires %s", exp_text);
	}
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "key.create",
	                                              .org = o.name,
	                                              .detail = org_bstr(&detail) },
	                       CLI_EXIT_OK);
	buf_reset(&detail);
	if (cert) {
		printf("%s\n", p.key_id);
		cli_fprintf(stderr, "tocsin: certificate mapped to key %s (%s, %s%s%s)\n", p.key_id,
		            o.name, reg_role_name(role), exp_text[0] ? ", expires " : "", exp_text);
	} else {
		printf("%s\n", text);
		explicit_bzero(text, sizeof text);
		cli_fprintf(stderr,
		            "tocsin: key %s (%s, %s%s%s) is shown once: store it now; only its hash "
		            "is kept\n",
		            p.key_id, o.name, reg_role_name(role), exp_text[0] ? ", expires " : "",
		            exp_text);
	}
	return cli_finish_stdout(ret);
}

/* ---------- collection ---------- */

#define OPT_ID 0x101
#define OPT_API_ROOT 0x102

static const struct option coll_longopts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "write", required_argument, NULL, 'w' },
	{ "title", required_argument, NULL, 't' },
	{ "description", required_argument, NULL, 'D' },
	{ "id", required_argument, NULL, OPT_ID },
	{ "api-root", required_argument, NULL, OPT_API_ROOT },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Checks both SPECs; false (reported) if either is wrong. */
static bool
coll_check_specs(struct registry *r, const char *read, const char *write)
{
	struct diag d;
	diag_clear(&d);
	if (registry_spec_check(r, read, &d)) {
		cli_err("--read: %s", d.msg);
		return false;
	}
	diag_clear(&d);
	if (registry_spec_check(r, write, &d)) {
		cli_err("--write: %s", d.msg);
		return false;
	}
	return true;
}

struct coll_list_ctx {
	struct registry *r;
	struct table t;
	json_t *arr;    /* --json */
};

static enum tcerr
coll_list_row(void *ctx, const struct store_collection *sc)
{
	struct coll_list_ctx *c = ctx;
	struct buf rd, wr;
	buf_init(&rd, REG_SPEC_MAX);
	buf_init(&wr, REG_SPEC_MAX);
	char root[REG_API_ROOT_NAME_MAX + 1];
	bool deleted = false;
	enum tcerr rc = registry_collection_deleted(c->r, sc->uuid, &deleted, NULL);
	if (rc || deleted)
		goto out;
	rc = registry_collection_root_get(c->r, sc->uuid, root);
	if (!rc)
		rc = registry_rights_get(c->r, sc->uuid, &rd, &wr);
	if ((rc == TC_OK || rc == TC_ENOTFOUND) && c->arr) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", sc->uuid, "alias",
		                      sc->alias, "title", sc->title, "description", sc->description,
		                      "read", rc ? "none" : rd.p, "write", rc ? "none" : wr.p,
		                      "api_root", root[0] ? json_string(root) : json_null());
		rc = j && !json_array_append_new(c->arr, j) ? TC_OK : TC_ENOMEM;
	} else if (rc == TC_OK || rc == TC_ENOTFOUND) {
		const char *row[] = { sc->uuid, sc->alias, sc->title, rc ? "none" : rd.p,
			              rc ? "none" : wr.p, root[0] ? root : "(default)" };
		rc = table_row(&c->t, row) ? TC_OK : TC_ENOMEM;
	}
out:
	buf_reset(&rd);
	buf_reset(&wr);
	return rc;
}

/* Finds a collection that was not deleted; false (reported) if none. */
static bool
coll_find_live(struct registry *r, struct store *s, const char *name, struct store_collection *sc)
{
	bool deleted = false;
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = store_collection_find(s, name, sc);
	if (rc == TC_OK)
		rc = registry_collection_deleted(r, sc->uuid, &deleted, &d);
	if (rc == TC_OK && !deleted)
		return true;
	if (rc && rc != TC_ENOTFOUND)
		org_fail(rc, &d, name);
	else
		cli_err("no collection '%s' (see 'tocsin collection list')", name);
	return false;
}

static int
coll_rename(const struct cli_cmd *cmd, const char *dir, int npos, char **pos, const char *title,
            const char *desc)
{
	struct registry *r = NULL;
	struct store *s = NULL;
	struct audit *a = NULL;
	struct store_collection sc, now;
	struct diag d;
	int ret;

	if (npos < 1 || npos > 2)
		return cli_usage_error(cmd, "'collection rename' takes ALIAS and NEWALIAS");
	const char *alias = npos == 2 ? pos[1] : NULL;
	if (!alias && !title && !desc)
		return cli_usage_error(cmd, "'collection rename' needs NEWALIAS, --title or "
		                            "--description");
	if ((ret = org_open(dir, &r)))
		return ret;
	if ((ret = org_open_store(dir, &s)))
		goto out;
	if (!coll_find_live(r, s, pos[0], &sc)) {
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (alias && strcmp(sc.alias, HUB_DEFAULT_COLLECTION) == 0 && strcmp(alias, sc.alias)) {
		cli_err("the default collection keeps its alias (imports without --collection go "
		        "there); change its --title instead");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((ret = cli_audit_open(dir, &a)))
		goto out;
	diag_clear(&d);
	enum tcerr rc = store_collection_update(s, sc.num, alias, title, desc, &now, &d);
	/* the alias and title live in the store: tell a running tocsind */
	if (!rc)
		rc = registry_touch(r, &d);
	if (rc) {
		ret = org_fail(rc, &d, pos[0]);
		goto out;
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "alias %s", sc.alias);
	if (strcmp(sc.alias, now.alias))
		buf_printf(&detail, " renamed %s", now.alias);
	if (title)
		buf_printf(&detail, ", title %s", now.title);
	if (desc)
		buf_printf(&detail, ", description changed");
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "collection.rename",
	                                              .collection = now.uuid,
	                                              .detail = org_bstr(&detail) },
	                       CLI_EXIT_OK);
	a = NULL;
	buf_reset(&detail);
	printf("%s\n", now.uuid);
	ret = cli_finish_stdout(ret);
out:
	cli_audit_abandon(a);
	if (s)
		store_close(s);
	registry_close(r);
	return ret;
}

/* The ids of the objects of one collection (collection delete). */
struct coll_ids {
	char **v;
	size_t n, cap;
	bool oom;
};

static enum store_row_verdict
coll_ids_row(void *ctx, const struct store_row *row)
{
	struct coll_ids *x = ctx;
	if (x->n == x->cap) {
		size_t nc = x->cap ? 2 * x->cap : 64;
		void *p = realloc(x->v, nc * sizeof *x->v);
		if (!p) {
			x->oom = true;
			return STORE_ROW_STOP;
		}
		x->v = p;
		x->cap = nc;
	}
	if (!(x->v[x->n] = strdup(row->id))) {
		x->oom = true;
		return STORE_ROW_STOP;
	}
	x->n++;
	return STORE_ROW_SKIP;
}

static enum store_delete_verdict
coll_delete_all(void *ctx, const struct store_row *row)
{
	(void)ctx;
	(void)row;
	return STORE_DEL_YES;
}

static int
coll_delete(const struct cli_cmd *cmd, const char *dir, int npos, char **pos, bool force)
{
	struct registry *r = NULL;
	struct hub *h = NULL;
	struct audit *a = NULL;
	struct store_collection sc;
	struct coll_ids ids = { 0 };
	struct diag d;
	size_t versions = 0;
	int ret;

	if (npos != 1)
		return cli_usage_error(cmd, "'collection delete' takes one ALIAS");
	if ((ret = org_open(dir, &r)))
		return ret;
	if ((ret = cli_open_hub(dir, &h)))
		goto out;
	if (!coll_find_live(r, hub_store(h), pos[0], &sc)) {
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (strcmp(sc.alias, HUB_DEFAULT_COLLECTION) == 0) {
		cli_err("the default collection cannot be deleted (imports without --collection go "
		        "there)");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	diag_clear(&d);
	struct store_query q = { .collection = sc.num, .versions = STORE_V_LAST };
	enum tcerr rc = store_query(hub_store(h), &q, coll_ids_row, &ids, NULL, &d);
	if (!rc && ids.oom)
		rc = diag_set(&d, TC_ENOMEM, "out of memory");
	if (rc) {
		ret = org_fail(rc, &d, pos[0]);
		goto out;
	}
	if (ids.n && !force) {
		cli_err("collection '%s' holds %zu objects: nothing was deleted; --force deletes "
		        "every version of them first (as tombstones, which readers and peers see)",
		        sc.alias, ids.n);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((ret = cli_audit_open(dir, &a)))
		goto out;
	for (size_t i = 0; !rc && i < ids.n; i++) {
		struct store_delete_q dq = { .collection = sc.num, .id = ids.v[i] };
		struct store_delete_out o = { 0 };
		rc = hub_delete(h, &dq, coll_delete_all, NULL, &o, &d);
		versions += o.deleted;
	}
	/* free the alias; the row stays (the tombstones name it) */
	char gone[STORE_ALIAS_MAX + 1];
	snprintf(gone, sizeof gone, "deleted.%s", sc.uuid); /* 44 bytes: fits */
	if (!rc)
		rc = store_collection_update(hub_store(h), sc.num, gone, NULL, NULL, NULL, &d);
	if (!rc)
		rc = registry_collection_deleted_add(r, sc.uuid, sc.alias, &d);
	if (rc) {
		ret = org_fail(rc, &d, pos[0]);
		if (versions) { /* some were deleted: record that much */
			char detail[160];
			snprintf(detail, sizeof detail,
			         "alias %s: %zu versions deleted, then failed; collection kept",
			         sc.alias, versions);
			ret = cli_audit_commit(a,
			                       &(struct audit_entry){ .action = "collection.delete",
			                                              .collection = sc.uuid,
			                                              .detail = detail },
			                       ret);
			a = NULL;
		}
		goto out;
	}
	char detail[200];
	snprintf(detail, sizeof detail, "alias %s, %zu objects, %zu versions deleted as tombstones",
	         sc.alias, ids.n, versions);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "collection.delete",
	                                              .collection = sc.uuid,
	                                              .detail = detail },
	                       CLI_EXIT_OK);
	a = NULL;
	cli_fprintf(stdout,
	            "deleted collection %s (%s): %zu objects, %zu versions deleted as tombstones\n",
	            sc.uuid, sc.alias, ids.n, versions);
	ret = cli_finish_stdout(ret);
out:
	for (size_t i = 0; i < ids.n; i++)
		free(ids.v[i]);
	free(ids.v);
	cli_audit_abandon(a);
	hub_close(h);
	registry_close(r);
	return ret;
}

int
cmd_collection(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *read = NULL, *write = NULL, *title = NULL, *desc = NULL,
		   *id = NULL, *api_root = NULL;
	struct registry *r = NULL;
	struct store *s = NULL;
	struct diag d;
	struct audit *a = NULL;
	enum tcerr rc = TC_OK;
	int c, ret;
	bool force = false, json = false;

	while ((c = cli_getopt(cmd, argc, argv, ":r:w:t:D:fjd:h", coll_longopts)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			read = optarg;
			break;
		case 'w':
			write = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'D':
			desc = optarg;
			break;
		case OPT_ID:
			id = optarg;
			break;
		case OPT_API_ROOT:
			api_root = optarg;
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
	/* options may come before or after the subcommand (getopt permutes) */
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos == 0)
		return cli_usage_error(cmd,
		                       "missing subcommand (add, list, rights, rename or delete)");
	const char *sub = *pos++;
	npos--;
	bool add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0,
	     rights = strcmp(sub, "rights") == 0, ren = strcmp(sub, "rename") == 0,
	     del = strcmp(sub, "delete") == 0;
	if (!add && !list && !rights && !ren && !del)
		return cli_usage_error(cmd,
		                       "unknown subcommand '%s' (add, list, rights, rename or delete)",
		                       sub);
	if (!add && !ren && (title || desc))
		return cli_usage_error(cmd, "--title and --description belong to 'collection add' "
		                            "and 'collection rename'");
	if (!add && (id || api_root))
		return cli_usage_error(cmd, "--id and --api-root belong to 'collection add'");
	if (force && !del)
		return cli_usage_error(cmd, "--force belongs to 'collection delete'");
	if (json && !list)
		return cli_usage_error(cmd, "--json belongs to 'collection list'");
	if ((ren || del) && (read || write))
		return cli_usage_error(cmd, "--read and --write belong to 'add' and 'rights'");
	if (ren)
		return coll_rename(cmd, dir, npos, pos, title, desc);
	if (del)
		return coll_delete(cmd, dir, npos, pos, force);
	if (api_root) {
		diag_clear(&d);
		if (reg_api_root_name_check(api_root, &d))
			return cli_usage_error(cmd, "--api-root: %s", d.msg);
	}
	if (list && (read || write))
		return cli_usage_error(cmd, "--read and --write belong to 'add' and 'rights'");
	if (list) {
		if (npos > 0)
			return cli_usage_error(cmd, "unexpected argument '%s'", pos[0]);
	} else {
		if (npos != 1)
			return cli_usage_error(cmd, npos ? "'collection %s' takes one ALIAS"
			                                 : "'collection %s' needs an ALIAS",
			                       sub);
		if (!read || !write)
			return cli_usage_error(cmd, "'collection %s' needs --read and --write", sub);
	}
	if ((ret = org_open(dir, &r)))
		return ret;
	if ((ret = org_open_store(dir, &s)))
		goto out;

	if (list) {
		struct coll_list_ctx lc = { .r = r, .t = { .ncols = 6 } };
		const char *head[] = { "ID", "ALIAS", "TITLE", "READ", "WRITE", "API ROOT" };
		if (json)
			rc = (lc.arr = json_array()) ? store_collection_list(s, coll_list_row, &lc)
			                             : TC_ENOMEM;
		else
			rc = table_row(&lc.t, head) ? store_collection_list(s, coll_list_row, &lc)
			                            : TC_ENOMEM;
		if (rc)
			ret = org_fail(rc, NULL, "collection list");
		else if (json)
			ret = org_print_json(lc.arr, "collection list");
		else
			table_print(&lc.t);
		json_decref(lc.arr);
		table_free(&lc.t);
		if (!ret)
			ret = cli_finish_stdout(CLI_EXIT_OK);
		goto out;
	}

	if (!coll_check_specs(r, read, write)) {
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if ((ret = cli_audit_open(dir, &a)))
		goto out;
	struct store_collection sc;
	diag_clear(&d);
	if (rights) {
		if (!coll_find_live(r, s, pos[0], &sc)) {
			ret = CLI_EXIT_USAGE;
			goto out;
		}
	} else {
		rc = store_collection_add(s, pos[0], id, title ? title : pos[0], desc ? desc : "",
		                          &sc, &d);
	}
	bool created = add && rc == TC_OK;
	if (!rc)
		rc = registry_rights_set(r, sc.uuid, read, write, &d);
	if (!rc && api_root) {
		struct reg_api_root ar = { 0 };
		snprintf(ar.name, sizeof ar.name, "%s", api_root); /* checked: fits */
		rc = registry_api_root_ensure(r, &ar, NULL, &d);
		if (!rc)
			rc = registry_collection_root_set(r, sc.uuid, api_root, &d);
	}
	if (rc) {
		ret = org_fail(rc, &d, pos[0]);
		if (created) { /* the collection exists now: record that much */
			ret = cli_audit_commit(
			    a,
			    &(struct audit_entry){ .action = "collection.add",
			                           .collection = sc.uuid,
			                           .detail = "rights could not be set: nobody" },
			    ret);
			a = NULL;
		}
		goto out;
	}
	struct buf detail;
	buf_init(&detail, 0);
	if (add)
		buf_printf(&detail, "alias %s, ", sc.alias);
	if (api_root)
		buf_printf(&detail, "API root %s, ", api_root);
	buf_printf(&detail, "read %s; write %s", read, write);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = add ? "collection.add"
	                                                            : "collection.rights",
	                                              .collection = sc.uuid,
	                                              .detail = org_bstr(&detail) },
	                       CLI_EXIT_OK);
	a = NULL;
	buf_reset(&detail);
	if (add)
		printf("%s\n", sc.uuid);
	ret = cli_finish_stdout(ret);
out:
	cli_audit_abandon(a);
	if (s)
		store_close(s);
	registry_close(r);
	return ret;
}
