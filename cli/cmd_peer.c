/*
 * cmd_peer.c — tocsin peer: the hubs (and plain TAXII 2.1 servers) this
 * hub federates with (add, list, status, remove; docs/peers.md).
 *
 * A peer is stored in registry.db with the organisation that stands for
 * it (its producer identity here, and the holder of the key it reads this
 * hub with), the API key the remote hub issued to this hub, the remote
 * hub's pinned public key and the border policy (lib/peer). Invariant:
 * the key is never printed, logged or audited; each change is audited
 * ("peer.add", "peer.remove"). A running tocsind starts or stops the
 * peer's replication within a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_audit.h"
#include "cli_util.h"
#include "cmd.h"
#include "peer/peer.h"
#include "registry/registry.h"
#include "util/timestamp.h"

const char cmd_peer_usage[] =
	"usage: tocsin peer add NAME URL (--key KEY | --key-file FILE) --pin PUBKEY\n"
	"                       [--org ORG] [--kind tocsin|taxii] [--policy POLICY]\n"
	"                       [--api-root ROOT] [--collections C1,C2] [--data DIR]\n"
	"       tocsin peer list [--json] [--data DIR]\n"
	"       tocsin peer status [NAME] [--json] [--data DIR]\n"
	"       tocsin peer remove NAME [--data DIR]\n"
	"\n"
	"Federates this hub with another hub at URL (or, --kind taxii, with any\n"
	"TAXII 2.1 server). tocsind replicates from it: the remote's log from its\n"
	"start, then live through its event stream, resuming after a restart or a\n"
	"partition from a durable cursor; deletions propagate. Objects from the peer\n"
	"are stored as produced by organisation ORG (default NAME, which must\n"
	"exist: tocsin org add), so collection rights, policy and the audit log treat\n"
	"the peer as any producer; the key ORG is given with 'tocsin key create ORG\n"
	"--role peer' is what the remote reads this hub with. A --kind taxii peer is\n"
	"polled every [peers] poll_interval seconds per collection (by added_after),\n"
	"and the versions this hub holds that the peer's organisation may read are\n"
	"POSTed to its collections.\n"
	"\n"
	"Border policy (POLICY, ';'-separated; docs/peers.md):\n"
	"  tlp=clear|green|amber   most restrictive level accepted (default green);\n"
	"                          AMBER+STRICT and RED never cross; AMBER only\n"
	"                          within a sharing group ORG is in\n"
	"  types=T1,T2             STIX types accepted (default all)\n"
	"  kinds=K1,K2             observable kinds accepted (default all)\n"
	"  strip=P1,P2             properties removed before storing\n"
	"  rate=N                  objects per second taken at most (0: no limit)\n"
	"\n"
	"Options:\n"
	"  -k, --key KEY           the API key the remote hub issued to this hub\n"
	"      --key-file FILE     read the key from FILE's first line ('-': stdin)\n"
	"  -p, --pin PUBKEY        the remote hub's public key, as its discovery\n"
	"                          shows it (x_tocsin_hub)\n"
	"  -o, --org ORG           the organisation standing for the peer (default NAME)\n"
	"      --kind KIND         tocsin (default) or taxii\n"
	"      --policy POLICY     the border policy (above)\n"
	"      --api-root ROOT     the remote's TAXII API root (default: its default)\n"
	"  -c, --collections C     only these remote collections (comma-separated\n"
	"                          aliases); each is stored in the local collection\n"
	"                          of the same alias\n"
	"  -j, --json              list, status: JSON instead of text\n"
	"  -d, --data DIR          data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -h, --help              show this help\n";

#define OPT_KEY_FILE 0x100
#define OPT_KIND 0x101
#define OPT_POLICY 0x102
#define OPT_API_ROOT 0x103

static const struct option pr_longopts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "pin", required_argument, NULL, 'p' },
	{ "org", required_argument, NULL, 'o' },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "api-root", required_argument, NULL, OPT_API_ROOT },
	{ "collections", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "data", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
pr_fail(enum tcerr rc, const struct diag *d, const char *what)
{
	if (d && d->msg[0])
		cli_err("%s", d->msg);
	else
		cli_err("%s: %s", what, tcerr_str(rc));
	return CLI_EXIT_USAGE;
}

static int
pr_open(const char *dir, struct registry **r)
{
	char db[PATH_MAX + 8];
	struct stat st;
	struct diag d;
	enum tcerr rc;
	dir = hub_default_dir(dir);
	int n = snprintf(db, sizeof db, "%s/tocsin.db", dir);
	if (n < 0 || (size_t)n >= sizeof db) {
		cli_err("%s: path too long", dir);
		return CLI_EXIT_USAGE;
	}
	if (stat(db, &st) != 0) {
		cli_err("%s is not a tocsin data directory (run 'tocsin init')", dir);
		return CLI_EXIT_USAGE;
	}
	diag_clear(&d);
	if ((rc = registry_open(dir, r, &d)))
		return pr_fail(rc, &d, dir);
	return CLI_EXIT_OK;
}

static int
pr_key_file(const char *path, struct reg_peer *p)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	char tmp[REG_PEER_KEY_MAX + 2];
	size_t len = 0;
	ssize_t k;
	while (len < sizeof tmp && (k = read(fd, tmp + len, sizeof tmp - len)) > 0)
		len += (size_t)k;
	if (fd)
		close(fd);
	char *nl = memchr(tmp, '\n', len);
	if (nl)
		len = (size_t)(nl - tmp);
	if (len && tmp[len - 1] == '\r')
		len--;
	if (len == 0 || len > REG_PEER_KEY_MAX) {
		sodium_memzero(tmp, sizeof tmp);
		cli_err("%s: the key must be 1 to %d bytes", path, REG_PEER_KEY_MAX);
		return CLI_EXIT_USAGE;
	}
	memcpy(p->secret, tmp, len);
	p->secret_len = len;
	sodium_memzero(tmp, sizeof tmp);
	return CLI_EXIT_OK;
}

static const char *
ts_or(int64_t us, char out[TS_TEXT_MAX], const char *none)
{
	if (!us)
		return none;
	ts_format(us, 0, out);
	return out;
}

static uint64_t
pos_of(const char *s)
{
	return strtoull(s, NULL, 10);
}

/* Positions of the remote's log not yet replicated (tocsin peers). */
static uint64_t
lag_positions(const struct reg_peer *p)
{
	if (strcmp(p->kind, "tocsin") != 0)
		return 0;
	uint64_t have = pos_of(p->cursor), end = pos_of(p->remote_position);
	return end > have ? end - have : 0;
}

/* Seconds behind: 0 when caught up, else how long replication has been
 * behind the remote's log end (as the daemon last recorded it). */
static double
lag_seconds(const struct reg_peer *p, int64_t now_us)
{
	if (lag_positions(p) == 0 || !p->last_event_us)
		return 0;
	return (double)(now_us - p->last_event_us) / 1e6;
}

struct pr_list {
	bool json, status;
	const char *only;
	json_t *arr;
	size_t n;
	int64_t now_us;
};

static enum tcerr
pr_row(void *ctx, const struct reg_peer *p)
{
	struct pr_list *c = ctx;
	char t1[TS_TEXT_MAX], t2[TS_TEXT_MAX], t3[TS_TEXT_MAX], t4[TS_TEXT_MAX];
	if (c->only && strcasecmp(c->only, p->name) != 0)
		return TC_OK;
	c->n++;
	if (c->json) {
		json_t *j = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:I, s:I, "
		        "s:I, s:s*, s:s*, s:s*, s:s*, s:s}",
		        "name", p->name, "org", p->org_name, "url", p->url, "kind", p->kind,
		        "api_root", p->api_root, "pin", p->pin, "policy", p->policy, "collections",
		        p->collections, "cursor", p->cursor, "remote_position", p->remote_position,
		        "lag_positions", (json_int_t)lag_positions(p), "lag_seconds",
		        lag_seconds(p, c->now_us), "objects_in", (json_int_t)p->objects_in,
		        "deleted_in", (json_int_t)p->deleted_in, "refused", (json_int_t)p->refused,
		        "objects_out", (json_int_t)p->objects_out, "last_error",
		        p->last_error[0] ? p->last_error : NULL, "last_error_at",
		        ts_or(p->last_error_us, t1, NULL), "last_ok", ts_or(p->last_ok_us, t2, NULL),
		        "behind_since", ts_or(p->last_event_us, t3, NULL), "created",
		        ts_or(p->created_us, t4, ""));
		return j && !json_array_append_new(c->arr, j) ? TC_OK : TC_ENOMEM;
	}
	if (!c->status) {
		cli_fprintf(stdout, "%-16s  %-6s  %-16s  %-10s  %s\n", p->name, p->kind, p->org_name,
		            p->cursor, p->url);
		return TC_OK;
	}
	cli_fprintf(stdout, "%s\n", p->name);
	cli_fprintf(stdout, "  url:          %s (%s%s%s)\n", p->url, p->kind,
	            p->api_root[0] ? ", api root " : "", p->api_root);
	cli_fprintf(stdout, "  organisation: %s\n", p->org_name);
	cli_fprintf(stdout, "  pin:          %s\n", p->pin);
	cli_fprintf(stdout, "  policy:       %s\n", p->policy[0] ? p->policy : "(defaults)");
	if (p->collections[0])
		cli_fprintf(stdout, "  collections:  %s\n", p->collections);
	if (strcmp(p->kind, "tocsin") == 0)
		cli_fprintf(stdout, "  cursor:       %s (remote at %s, %llu behind, %.1f s)\n",
		            p->cursor, p->remote_position, (unsigned long long)lag_positions(p),
		            lag_seconds(p, c->now_us));
	else
		cli_fprintf(stdout, "  cursor:       %s; pushed up to %s\n", p->cursor, p->pushed);
	cli_fprintf(stdout, "  objects:      %llu in, %llu deleted, %llu refused, %llu out\n",
	            (unsigned long long)p->objects_in, (unsigned long long)p->deleted_in,
	            (unsigned long long)p->refused, (unsigned long long)p->objects_out);
	cli_fprintf(stdout, "  last ok:      %s\n", ts_or(p->last_ok_us, t2, "never"));
	if (p->last_error[0])
		cli_fprintf(stdout, "  last error:   %s (%s)\n", p->last_error,
		            ts_or(p->last_error_us, t1, "?"));
	return TC_OK;
}

static int
pr_list(const char *dir, bool json, bool status, const char *only)
{
	struct registry *r = NULL;
	struct diag d;
	int ret = pr_open(dir, &r);
	if (ret)
		return ret;
	struct pr_list c = { .json = json, .status = status, .only = only, .now_us = ts_now_us() };
	if (json && !(c.arr = json_array())) {
		registry_close(r);
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	if (!json && !status)
		printf("%-16s  %-6s  %-16s  %-10s  %s\n", "NAME", "KIND", "ORGANISATION", "CURSOR",
		       "URL");
	diag_clear(&d);
	enum tcerr rc = registry_peer_list(r, pr_row, &c, &d);
	registry_close(r);
	if (rc) {
		json_decref(c.arr);
		return pr_fail(rc, &d, "peer list");
	}
	if (only && c.n == 0) {
		json_decref(c.arr);
		cli_err("no peer '%s'", only);
		return CLI_EXIT_USAGE;
	}
	if (json) {
		char *text = json_dumps(only ? json_array_get(c.arr, 0) : c.arr,
		                        JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(c.arr);
		if (!text) {
			cli_err("out of memory");
			return CLI_EXIT_USAGE;
		}
		printf("%s\n", text);
		free(text);
	}
	return cli_finish_stdout(CLI_EXIT_OK);
}

static int
pr_add(const struct cli_cmd *cmd, const char *dir, struct reg_peer *p)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct peer_policy pol;
	struct diag d;
	struct buf canon;
	enum tcerr rc;
	int ret;

	diag_clear(&d);
	if (reg_peer_name_check(p->name, &d))
		return cli_usage_error(cmd, "%s", d.msg);
	if (strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0)
		return cli_usage_error(cmd, "URL: must start with https:// (or http://)");
	if (peer_policy_parse(p->policy, &pol, &d))
		return cli_usage_error(cmd, "--policy: %s", d.msg);
	buf_init(&canon, REG_PEER_POLICY_MAX + 1);
	peer_policy_text(&pol, &canon);
	if (buf_error(&canon) || canon.len > REG_PEER_POLICY_MAX) {
		buf_reset(&canon);
		return cli_usage_error(cmd, "--policy: longer than %d bytes", REG_PEER_POLICY_MAX);
	}
	snprintf(p->policy, sizeof p->policy, "%s", canon.p);
	buf_reset(&canon);
	if ((ret = pr_open(dir, &r)))
		return ret;
	if ((ret = cli_audit_open(hub_default_dir(dir), &a))) {
		registry_close(r);
		return ret;
	}
	struct reg_peer out;
	diag_clear(&d);
	rc = registry_peer_add(r, p, &out, &d);
	reg_peer_wipe(&out);
	registry_close(r);
	if (rc) {
		cli_audit_abandon(a);
		return pr_fail(rc, &d, "peer add");
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "%s %s %s pin %s policy %s", out.name, out.kind, out.url, out.pin,
	           out.policy);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "peer.add", .org = out.org_name,
	                                              .detail = buf_error(&detail) ? "" : detail.p },
	                       CLI_EXIT_OK);
	buf_reset(&detail);
	cli_fprintf(stdout, "%s\n", out.name);
	return cli_finish_stdout(ret);
}

static int
pr_remove(const char *dir, const char *name)
{
	struct registry *r = NULL;
	struct audit *a = NULL;
	struct reg_peer p;
	struct diag d;
	int ret;
	if ((ret = pr_open(dir, &r)))
		return ret;
	if ((ret = cli_audit_open(hub_default_dir(dir), &a))) {
		registry_close(r);
		return ret;
	}
	diag_clear(&d);
	enum tcerr rc = registry_peer_get(r, name, &p, &d);
	reg_peer_wipe(&p);
	if (!rc)
		rc = registry_peer_remove(r, name, &d);
	registry_close(r);
	if (rc) {
		cli_audit_abandon(a);
		return pr_fail(rc, &d, name);
	}
	struct buf detail;
	buf_init(&detail, 0);
	buf_printf(&detail, "%s %s at cursor %s", p.name, p.url, p.cursor);
	ret = cli_audit_commit(a,
	                       &(struct audit_entry){ .action = "peer.remove", .org = p.org_name,
	                                              .detail = buf_error(&detail) ? "" : detail.p },
	                       CLI_EXIT_OK);
	buf_reset(&detail);
	return cli_finish_stdout(ret);
}

int
cmd_peer(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *dir = NULL, *key_file = NULL, *org = NULL;
	bool json = false, have_key = false, add_opts = false;
	struct reg_peer *p = calloc(1, sizeof *p);
	int c, ret = CLI_EXIT_OK;

	if (!p) {
		cli_err("out of memory");
		return CLI_EXIT_USAGE;
	}
	snprintf(p->kind, sizeof p->kind, "tocsin");
	while ((c = cli_getopt(cmd, argc, argv, ":k:p:o:c:jd:h", pr_longopts)) != -1) {
		switch (c) {
		case 'k': {
			size_t n = strlen(optarg);
			if (n == 0 || n > REG_PEER_KEY_MAX) {
				ret = cli_usage_error(cmd, "--key: 1 to %d bytes", REG_PEER_KEY_MAX);
				goto out;
			}
			memcpy(p->secret, optarg, n);
			p->secret_len = n;
			have_key = add_opts = true;
			break;
		}
		case OPT_KEY_FILE: key_file = optarg; add_opts = true; break;
		case 'p':
			if (strlen(optarg) > REG_PEER_PIN_MAX) {
				ret = cli_usage_error(cmd, "--pin: longer than %d bytes", REG_PEER_PIN_MAX);
				goto out;
			}
			snprintf(p->pin, sizeof p->pin, "%s", optarg);
			add_opts = true;
			break;
		case 'o': org = optarg; add_opts = true; break;
		case OPT_KIND:
			if (strcmp(optarg, "tocsin") != 0 && strcmp(optarg, "taxii") != 0) {
				ret = cli_usage_error(cmd, "--kind: tocsin or taxii");
				goto out;
			}
			snprintf(p->kind, sizeof p->kind, "%s", optarg);
			add_opts = true;
			break;
		case OPT_POLICY:
			if (strlen(optarg) > REG_PEER_POLICY_MAX) {
				ret = cli_usage_error(cmd, "--policy: longer than %d bytes",
				                      REG_PEER_POLICY_MAX);
				goto out;
			}
			snprintf(p->policy, sizeof p->policy, "%s", optarg);
			add_opts = true;
			break;
		case OPT_API_ROOT:
			if (strlen(optarg) > REG_API_ROOT_NAME_MAX) {
				ret = cli_usage_error(cmd, "--api-root: longer than %d bytes",
				                      REG_API_ROOT_NAME_MAX);
				goto out;
			}
			snprintf(p->api_root, sizeof p->api_root, "%s", optarg);
			add_opts = true;
			break;
		case 'c':
			if (strlen(optarg) > REG_PEER_COLLS_MAX) {
				ret = cli_usage_error(cmd, "--collections: longer than %d bytes",
				                      REG_PEER_COLLS_MAX);
				goto out;
			}
			snprintf(p->collections, sizeof p->collections, "%s", optarg);
			add_opts = true;
			break;
		case 'j': json = true; break;
		case 'd': dir = optarg; break;
		case 'h': cli_print_usage(cmd, stdout); goto out;
		default: ret = CLI_EXIT_USAGE; goto out;
		}
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (npos < 1) {
		ret = cli_usage_error(cmd, "a subcommand is needed: add, list, status, remove");
		goto out;
	}
	const char *sub = pos[0];
	bool is_add = strcmp(sub, "add") == 0;
	if (!is_add && add_opts) {
		ret = cli_usage_error(cmd, "--key, --pin, --org, --kind, --policy, --api-root and "
		                           "--collections belong to 'peer add'");
		goto out;
	}
	if (json && strcmp(sub, "list") != 0 && strcmp(sub, "status") != 0) {
		ret = cli_usage_error(cmd, "--json belongs to 'list' and 'status'");
		goto out;
	}
	if (is_add) {
		if (npos != 3) {
			ret = cli_usage_error(cmd, "'peer add' takes NAME and URL");
			goto out;
		}
		if (have_key == !!key_file) {
			ret = cli_usage_error(cmd, "'peer add' needs one of --key and --key-file");
			goto out;
		}
		if (key_file && (ret = pr_key_file(key_file, p)))
			goto out;
		if (!p->pin[0]) {
			ret = cli_usage_error(cmd, "'peer add' needs --pin: the remote hub's public key "
			                           "(its discovery shows it as x_tocsin_hub; for a plain "
			                           "TAXII server, 'none')");
			goto out;
		}
		if (strlen(pos[1]) > REG_PEER_NAME_MAX || strlen(pos[2]) > REG_PEER_URL_MAX) {
			ret = cli_usage_error(cmd, "NAME or URL too long");
			goto out;
		}
		snprintf(p->name, sizeof p->name, "%s", pos[1]);
		snprintf(p->url, sizeof p->url, "%s", pos[2]);
		snprintf(p->org_name, sizeof p->org_name, "%s", org ? org : pos[1]);
		ret = pr_add(cmd, dir, p);
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "status") == 0) {
		bool status = sub[0] == 's';
		if (npos > (status ? 2 : 1)) {
			ret = cli_usage_error(cmd, status ? "'peer status' takes at most one NAME"
			                                  : "'peer list' takes no argument");
			goto out;
		}
		ret = pr_list(dir, json, status, npos == 2 ? pos[1] : NULL);
	} else if (strcmp(sub, "remove") == 0) {
		if (npos != 2) {
			ret = cli_usage_error(cmd, "'peer remove' takes one NAME");
			goto out;
		}
		ret = pr_remove(dir, pos[1]);
	} else {
		ret = cli_usage_error(cmd, "unknown subcommand '%s' (add, list, status, remove)", sub);
	}
out:
	reg_peer_wipe(p);
	free(p);
	return ret;
}
