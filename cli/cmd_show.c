/*
 * cmd_show.c — `tocsin show ID`: one object as the hub holds it, for an
 * analyst: every stored version in every collection (modified, date_added,
 * log position, revoked, TLP), who produced each (the organisation's name
 * and the key id that posted it), the markings and the collections.
 *
 * The operator's view (the CLI holds the data directory): nothing is
 * hidden. Versions come from one store query over every collection, in
 * log order; names come from a registry snapshot. Text on stdout, or one
 * JSON object with --json; a missing object is reported on stderr with
 * exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "policy/policy.h"
#include "registry/registry.h"
#include "util/timestamp.h"

/* Versions shown for one object; more are counted and said. */
#define SHOW_VERSIONS_MAX 10000

const char cmd_show_usage[] =
	"usage: tocsin show [--data DIR] [--json] ID\n"
	"\n"
	"Prints the object ID (a STIX id) as the hub holds it: its type, the\n"
	"collections it is in, the markings of its current version, and every\n"
	"stored version with its modified time, date_added, log position (seq),\n"
	"whether it is revoked, its TLP, the producing organisation and the key\n"
	"id that posted it ('hub' for the operator's imports and migrations).\n"
	"The operator's view: nothing is hidden.\n"
	"\n"
	"Options:\n"
	"  -d, --data DIR   data directory (default: $TOCSIN_DATA, else ./var)\n"
	"  -j, --json       one JSON object: id, type, collections, markings,\n"
	"                   versions (collection, version, date_added, seq,\n"
	"                   revoked, tlp, unmarked, producer, producer_identity,\n"
	"                   key_id)\n"
	"  -h, --help       show this help\n"
	"\n"
	"Exit status: 0 shown, 1 no such object, 2 usage or fatal error.\n";

struct show {
	const struct reg_snapshot *snap;
	json_t *versions;          /* array of version objects, log order */
	json_t *collections;       /* aliases, first-seen order */
	json_t *current;           /* the newest version's JSON (greatest version_us) */
	int64_t current_us;
	uint64_t current_seq;
	char type[STIX_TYPE_MAX + 1];
	size_t n, more;
	bool oom;
};

static const char *
coll_alias(const struct reg_snapshot *snap, int64_t num)
{
	const struct reg_collection *c = reg_snapshot_collection(snap, num);
	return c ? c->c.alias : "?";
}

static enum store_row_verdict
show_row(void *ctx, const struct store_row *row)
{
	struct show *s = ctx;
	char added[TS_TEXT_MAX];
	enum tlp_level tlp = row->tlp == TLP_NONE ? reg_snapshot_default_tlp(s->snap) : row->tlp;
	const struct reg_org *o = row->producer ? reg_snapshot_org(s->snap, row->producer) : NULL;
	const char *alias = coll_alias(s->snap, row->collection);
	json_t *v;
	bool seen = false;
	size_t i;
	json_t *a;

	if (s->n >= SHOW_VERSIONS_MAX) {
		s->more++;
		return STORE_ROW_SKIP;
	}
	snprintf(s->type, sizeof(s->type), "%s", row->type);
	ts_format(row->date_added_us, 6, added);
	v = json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:b}", "collection", alias, "version",
	              row->version && row->version[0] ? row->version : "-", "date_added", added,
	              "seq", (json_int_t)row->seq, "revoked", row->revoked, "tlp",
	              stix_tlp_name(tlp), "unmarked", row->tlp == TLP_NONE);
	if (!v)
		goto oom;
	if (row->producer == 0)
		json_object_set_new(v, "producer", json_string("hub"));
	else if (o) {
		json_object_set_new(v, "producer", json_string(o->name));
		json_object_set_new(v, "producer_identity", json_string(o->identity));
	} else {
		char num[32];
		snprintf(num, sizeof(num), "#%lld", (long long)row->producer);
		json_object_set_new(v, "producer", json_string(num));
	}
	json_object_set_new(v, "key_id", row->key_id && row->key_id[0] ? json_string(row->key_id)
	                                                                : json_null());
	if (json_array_append_new(s->versions, v))
		goto oom;
	json_array_foreach(s->collections, i, a)
		if (strcmp(json_string_value(a), alias) == 0)
			seen = true;
	if (!seen && json_array_append_new(s->collections, json_string(alias)))
		goto oom;
	if (!s->current || row->version_us > s->current_us ||
	    (row->version_us == s->current_us && row->seq > s->current_seq)) {
		json_t *cur = json_loadb(row->json.p, row->json.len, 0, NULL);
		if (cur) {
			json_decref(s->current);
			s->current = cur;
			s->current_us = row->version_us;
			s->current_seq = row->seq;
		}
	}
	s->n++;
	return STORE_ROW_TAKE;
oom:
	s->oom = true;
	return STORE_ROW_STOP;
}

/* The markings of the current version: object_marking_refs, then the
 * marking refs of granular_markings (each once). */
static json_t *
markings_of(const json_t *obj)
{
	json_t *out = json_array(), *m, *g;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(json_object_get(obj, "object_marking_refs"), i, m)
		if (json_is_string(m))
			json_array_append(out, m);
	json_array_foreach(json_object_get(obj, "granular_markings"), i, g) {
		json_t *ref = json_object_get(g, "marking_ref");
		bool dup = false;
		size_t k;
		json_t *x;
		if (!json_is_string(ref))
			continue;
		json_array_foreach(out, k, x)
			if (json_equal(x, ref))
				dup = true;
		if (!dup)
			json_array_append(out, ref);
	}
	return out;
}

static void
print_text(const char *id, const struct show *s, const json_t *markings)
{
	size_t i;
	json_t *v, *m;

	printf("id           %s\n", cli_esc(id));
	printf("type         %s\n", cli_esc(s->type));
	printf("collections  ");
	json_array_foreach(s->collections, i, v)
		printf("%s%s", i ? ", " : "", cli_esc(json_string_value(v)));
	printf("\nmarkings     ");
	if (json_array_size(markings) == 0)
		printf("none");
	json_array_foreach(markings, i, m) {
		const char *mid = json_string_value(m);
		enum tlp_level t = stix_tlp_from_marking(mid);
		printf("%s%s", i ? ", " : "", cli_esc(mid));
		if (t != TLP_NONE)
			printf(" (TLP:%s)", stix_tlp_name(t));
	}
	printf("\nversions     %zu%s\n", s->n, s->more ? " (more not shown)" : "");
	printf("  %-24s  %-27s  %8s  %-7s  %-12s  %-10s  %-24s  %s\n", "MODIFIED", "DATE_ADDED",
	       "SEQ", "REVOKED", "TLP", "COLLECTION", "PRODUCER", "KEY");
	json_array_foreach(s->versions, i, v) {
		char tlp[32];
		const char *key = json_string_value(json_object_get(v, "key_id"));
		snprintf(tlp, sizeof(tlp), "%s%s",
		         json_string_value(json_object_get(v, "tlp")),
		         json_is_true(json_object_get(v, "unmarked")) ? "*" : "");
		printf("  %-24s  %-27s  %8lld  %-7s  %-12s  %-10s  %-24s  %s\n",
		       json_string_value(json_object_get(v, "version")),
		       json_string_value(json_object_get(v, "date_added")),
		       (long long)json_integer_value(json_object_get(v, "seq")),
		       json_is_true(json_object_get(v, "revoked")) ? "yes" : "no", tlp,
		       cli_esc(json_string_value(json_object_get(v, "collection"))),
		       cli_esc(json_string_value(json_object_get(v, "producer"))),
		       key ? cli_esc(key) : "-");
	}
	bool unmarked = false;
	json_array_foreach(s->versions, i, v)
		unmarked = unmarked || json_is_true(json_object_get(v, "unmarked"));
	if (unmarked)
		printf("  (* unmarked: counts as TLP:%s, the hub's default_tlp)\n",
		       stix_tlp_name(reg_snapshot_default_tlp(s->snap)));
}

int
cmd_show(const struct cli_cmd *cmd, int argc, char **argv)
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
	struct registry *reg = NULL;
	struct reg_snapshot *snap = NULL;
	struct show s = { 0 };
	json_t *markings = NULL;
	struct diag d;
	enum tcerr rc;
	int c, ret;

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
	if (argc - optind != 1)
		return cli_usage_error(cmd, argc - optind ? "'show' takes one ID" : "missing ID");
	const char *id = argv[optind];
	if (strlen(id) >= STIX_ID_MAX || !strstr(id, "--"))
		return cli_usage_error(cmd, "'%s' is no STIX id (type--uuid)", id);

	if ((ret = cli_open_hub(dir, &h)))
		return ret;
	ret = CLI_EXIT_USAGE;
	diag_clear(&d);
	if ((rc = registry_open(hub_default_dir(dir), &reg, &d)) ||
	    (rc = reg_snapshot_build(reg, hub_store(h), &snap, &d))) {
		cli_err("registry: %s", d.msg[0] ? d.msg : tcerr_str(rc));
		goto out;
	}
	s.snap = snap;
	s.versions = json_array();
	s.collections = json_array();
	if (!s.versions || !s.collections) {
		cli_err("out of memory");
		goto out;
	}
	const char *ids[1] = { id };
	struct store_query q = { .ids = ids, .nids = 1, .versions = STORE_V_ALL };
	diag_clear(&d);
	if ((rc = store_query(hub_store(h), &q, show_row, &s, NULL, &d)) || s.oom) {
		cli_err("%s", s.oom ? "out of memory" : d.msg[0] ? d.msg : tcerr_str(rc));
		goto out;
	}
	if (s.n == 0) {
		cli_err("no object %s in %s", id, hub_default_dir(dir));
		ret = CLI_EXIT_PROBLEMS;
		goto out;
	}
	markings = s.current ? markings_of(s.current) : json_array();
	if (!markings) {
		cli_err("out of memory");
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:O, s:O, s:O}", "id", id, "type", s.type,
		                      "collections", s.collections, "markings", markings,
		                      "versions", s.versions);
		char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (!text) {
			cli_err("out of memory");
			goto out;
		}
		puts(text);
		free(text);
	} else {
		print_text(id, &s, markings);
	}
	ret = cli_finish_stdout(CLI_EXIT_OK);
out:
	json_decref(markings);
	json_decref(s.current);
	json_decref(s.versions);
	json_decref(s.collections);
	if (snap)
		reg_snapshot_unref(snap);
	registry_close(reg);
	hub_close(h);
	return ret;
}
