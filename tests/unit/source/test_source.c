/*
 * Unit tests of lib/source: the line formats (comments, trailing
 * comments, defanged values, kinds a format refuses, long lines, HTML and
 * binary answers), CSV column mapping by number and by header name, the
 * format options, a MISP manifest, and the plan: deterministic ids, a
 * value still listed is not written again, a dropped one gets
 * valid_until = modified = now, a listed-again one a new current version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/source.h"
#include "util/timestamp.h"

static const struct obs_ctx OBS = { 0 };

struct got {
	int n;
	char kinds[16][16];
	char values[16][256];
};

static enum tcerr
collect(void *ctx, enum obs_kind kind, struct slice value, long line)
{
	struct got *g = ctx;
	(void)line;
	if (g->n < 16) {
		snprintf(g->kinds[g->n], sizeof g->kinds[0], "%s", obs_kind_name(kind));
		snprintf(g->values[g->n], sizeof g->values[0], "%.*s", (int)value.len, value.p);
	}
	g->n++;
	return TC_OK;
}

static enum tcerr
parse(enum source_format f, const char *opts, const char *text, struct got *g,
      struct source_list_counts *c, struct diag *d)
{
	struct source_opts o;
	memset(g, 0, sizeof *g);
	enum tcerr rc = source_opts_parse(f, slice_from_cstr(opts), &o, d);
	if (rc)
		return rc;
	return source_list_parse(f, &o, &OBS, slice_from_cstr(text), 0, collect, g, c, d);
}

static void
test_plain_and_blocklist(void **state)
{
	struct got g;
	struct source_list_counts c;
	struct diag d;
	(void)state;
	assert_int_equal(parse(SOURCE_PLAIN, "",
	                       "# header\n; another\n\n198.51.100.7\r\nevil[.]example trailing\n"
	                       "hxxps://bad.example/x\n44d88612fea8a8f36de82e1278abb02f\n",
	                       &g, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.kinds[0], "ipv4");
	assert_string_equal(g.values[1], "evil.example");
	assert_string_equal(g.kinds[2], "url");
	assert_string_equal(g.kinds[3], "md5");
	assert_int_equal(c.skipped, 3);
	assert_int_equal(c.refanged, 2);

	assert_int_equal(parse(SOURCE_IP_BLOCKLIST, "",
	                       "; DROP\n203.0.113.0/24 ; SBL1\n192.0.2.1# x\n2001:db8::/48\n"
	                       "evil.example\n",
	                       &g, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.values[0], "203.0.113.0/24");
	assert_string_equal(g.values[1], "192.0.2.1");
	assert_string_equal(g.kinds[2], "ipv6");
	assert_int_equal(c.rejected, 1);
	assert_non_null(strstr(c.rejects[0], "line 5"));
	assert_non_null(strstr(c.rejects[0], "domain"));

	assert_int_equal(parse(SOURCE_URL_LIST, "", "http://a.example/1\n198.51.100.1\n", &g, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(c.rejected, 1);
}

static void
test_refused_bodies(void **state)
{
	struct got g;
	struct source_list_counts c;
	struct diag d;
	(void)state;
	assert_int_equal(parse(SOURCE_PLAIN, "", "  <!DOCTYPE html><html>", &g, &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "HTML"));
	assert_int_equal(parse(SOURCE_PLAIN, "", "{\"a\":1}", &g, &c, &d), TC_EINVAL);
	assert_int_equal(parse(SOURCE_PLAIN, "", "nothing here at all\n!!!\n", &g, &c, &d),
	                 TC_EINVAL);
	assert_non_null(strstr(d.msg, "no line"));
	/* a NUL byte: binary */
	struct source_opts o;
	source_opts_parse(SOURCE_PLAIN, slice_from_cstr(""), &o, &d);
	assert_int_equal(source_list_parse(SOURCE_PLAIN, &o, &OBS, slice_make("1.2.3.4\n\0x", 10), 0,
	                                   collect, &g, &c, &d),
	                 TC_EINVAL);
	/* an overlong line is rejected, not cut */
	char *big = malloc(SOURCE_LINE_MAX + 64);
	memset(big, 'a', SOURCE_LINE_MAX + 10);
	memcpy(big + SOURCE_LINE_MAX + 10, "\n8.8.4.4\n", 10);
	assert_int_equal(parse(SOURCE_PLAIN, "", big, &g, &c, &d), TC_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(c.rejected, 1);
	free(big);
	/* max entries */
	source_opts_parse(SOURCE_PLAIN, slice_from_cstr(""), &o, &d);
	assert_int_equal(source_list_parse(SOURCE_PLAIN, &o, &OBS,
	                                   slice_from_cstr("1.1.1.1\n2.2.2.2\n3.3.3.3\n"), 2,
	                                   collect, &g, &c, &d),
	                 TC_ELIMIT);
}

static void
test_csv(void **state)
{
	struct got g;
	struct source_list_counts c;
	struct diag d;
	(void)state;
	const char *csv = "# comment\n\"when\",\"ioc\",\"type\"\n"
	                  "\"2026-01-01\",\"c2.example\",\"domain\"\n"
	                  "\"2026-01-01\",\"198.51.100.9\",\"ip\"\n"
	                  "\"2026-01-01\",\"deadbeef\",\"md5_hash\"\n";
	assert_int_equal(parse(SOURCE_CSV, "value=ioc\ntype=type\n", csv, &g, &c, &d), TC_OK);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.values[0], "c2.example");
	assert_string_equal(g.kinds[1], "ipv4");
	assert_int_equal(c.rejected, 1); /* deadbeef is no md5 */
	assert_int_equal(parse(SOURCE_CSV, "value=2\n", csv, &g, &c, &d), TC_OK);
	assert_int_equal(g.n, 2);
	assert_int_equal(parse(SOURCE_CSV, "value=nosuch\n", csv, &g, &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "nosuch"));
	/* a guessed column: "url" */
	assert_int_equal(parse(SOURCE_CSV, "", "id,url\n1,http://x.example/a\n", &g, &c, &d), TC_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.kinds[0], "url");
	/* no header, tab-separated */
	assert_int_equal(parse(SOURCE_CSV, "header=no\ndelimiter=\\t\nvalue=2\n",
	                       "x\t192.0.2.5\ny\t192.0.2.6\n", &g, &c, &d),
	                 TC_OK);
	assert_int_equal(g.n, 2);
}

static void
test_options(void **state)
{
	struct source_opts o;
	struct diag d;
	struct buf b;
	(void)state;
	assert_int_equal(source_opts_parse(SOURCE_PLAIN, slice_from_cstr("value=2\n"), &o, &d),
	                 TC_EINVAL);
	assert_int_equal(source_opts_parse(SOURCE_CSV, slice_from_cstr("value=0\n"), &o, &d),
	                 TC_EINVAL);
	assert_int_equal(source_opts_parse(SOURCE_CSV, slice_from_cstr("colour=2\n"), &o, &d),
	                 TC_EINVAL);
	assert_int_equal(source_opts_parse(SOURCE_CSV, slice_from_cstr("comment=#!\n"), &o, &d),
	                 TC_OK);
	assert_string_equal(o.comments, "#!");
	buf_init(&b, 0);
	assert_int_equal(source_opts_column("value=3", &b, &d), TC_OK);
	assert_int_equal(source_opts_column("colour=3", &b, &d), TC_EINVAL);
	assert_int_equal(source_opts_column("value", &b, &d), TC_EINVAL);
	assert_string_equal(b.p, "value=3\n");
	buf_clear(&b);
	assert_int_equal(source_opts_column("value=ioc,type=3", &b, &d), TC_OK);
	assert_string_equal(b.p, "value=ioc\ntype=3\n");
	assert_int_equal(source_opts_column("value=1,", &b, &d), TC_EINVAL);
	assert_int_equal(source_opts_column("value=1,colour=2", &b, &d), TC_EINVAL);
	buf_reset(&b);
	enum source_format f;
	assert_int_equal(source_format_parse("misp-feed", &f, &d), TC_OK);
	assert_int_equal(f, SOURCE_MISP);
	assert_int_equal(source_format_parse("rss", &f, &d), TC_EINVAL);
	assert_true(source_name_ok("abuse.ch-urlhaus_1"));
	assert_false(source_name_ok("Abuse"));
	assert_false(source_name_ok("-x"));
	assert_false(source_name_ok("a b"));
}

static enum tcerr
count_uuid(void *ctx, const char *uuid)
{
	(void)uuid;
	(*(int *)ctx)++;
	return TC_OK;
}

static void
test_misp_manifest(void **state)
{
	struct diag d;
	int n = 0;
	(void)state;
	assert_int_equal(source_misp_manifest(slice_from_cstr("{\"5f1a7c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
	                                                      "\":{\"timestamp\":\"1\"}}"),
	                                      0, count_uuid, &n, &d),
	                 TC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(source_misp_manifest(slice_from_cstr("{\"../etc/passwd\":{}}"), 0,
	                                      count_uuid, &n, &d),
	                 TC_EINVAL);
	assert_int_equal(source_misp_manifest(slice_from_cstr("[1]"), 0, count_uuid, &n, &d),
	                 TC_EINVAL);
	assert_int_equal(source_misp_manifest(slice_from_cstr("{\"5f1a7c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
	                                                      "\":{},\"6f1a7c1e-1a2b-4c3d-8e9f-0a1b2"
	                                                      "c3d4e5f\":{}}"),
	                                      1, count_uuid, &n, &d),
	                 TC_ELIMIT);
}

static const uint8_t KEY[32] = { 1, 2, 3 };

static void
plan_init(struct source_plan *p, struct source_known *k, size_t nk, int64_t now)
{
	struct diag d;
	memset(p, 0, sizeof *p);
	p->name = "feed";
	p->identity = "identity--8d6f1c3a-2b7e-4f90-a5d4-3e1b9c7f0a62";
	p->tlp = TLP_GREEN;
	p->confidence = 70;
	p->expire = true;
	p->track = true;
	p->now_us = now;
	p->id_key = KEY;
	p->id_key_len = sizeof KEY;
	source_known_sort(k, nk);
	p->known = k;
	p->nknown = nk;
	assert_int_equal(source_plan_init(p, &d), TC_OK);
}

static void
test_plan(void **state)
{
	struct source_plan p;
	struct diag d;
	int64_t t1 = INT64_C(1764583200000000), t2 = t1 + 3600000000;
	(void)state;

	plan_init(&p, NULL, 0, t1);
	assert_int_equal(source_plan_value(&p, OBS_IPV4, slice_from_cstr("192.0.2.1"), &d), TC_OK);
	assert_int_equal(source_plan_value(&p, OBS_DOMAIN, slice_from_cstr("evil.example"), &d),
	                 TC_OK);
	assert_int_equal(source_plan_value(&p, OBS_IPV4, slice_from_cstr("192.0.2.1"), &d), TC_OK);
	assert_int_equal(source_plan_finish(&p, &d), TC_OK);
	assert_int_equal(p.nw, 2); /* the repeat is one entry */
	assert_int_equal(p.listed, 2);
	json_t *o = p.w[0].obj;
	assert_string_equal(json_string_value(json_object_get(o, "created_by_ref")), p.identity);
	assert_int_equal(json_integer_value(json_object_get(o, "confidence")), 70);
	assert_string_equal(json_string_value(json_object_get(o, "modified")),
	                    "2025-12-01T10:00:00.000Z");
	char id_ip[STIX_ID_MAX], id_dom[STIX_ID_MAX];
	snprintf(id_ip, sizeof id_ip, "%s", p.w[0].id);
	snprintf(id_dom, sizeof id_dom, "%s", p.w[1].id);
	struct source_known k[2] = {
		{ .id = id_ip, .modified_us = t1, .listed = true, .json = json_dumps(p.w[0].obj, 0) },
		{ .id = id_dom, .modified_us = t1, .listed = true, .json = json_dumps(p.w[1].obj, 0) },
	};
	source_plan_reset(&p);

	/* deterministic: the same value of another run has the same id */
	plan_init(&p, NULL, 0, t2);
	source_plan_value(&p, OBS_IPV4, slice_from_cstr("192.0.2.1"), &d);
	assert_string_equal(p.w[0].id, id_ip);
	source_plan_reset(&p);

	/* a second pull: the address still listed (nothing written), the
	 * domain dropped (expired at t2) */
	plan_init(&p, k, 2, t2);
	assert_int_equal(source_plan_value(&p, OBS_IPV4, slice_from_cstr("192.0.2.1"), &d), TC_OK);
	assert_int_equal(source_plan_finish(&p, &d), TC_OK);
	assert_int_equal(p.unchanged, 1);
	assert_int_equal(p.expiring, 1);
	assert_int_equal(p.nw, 1);
	assert_string_equal(p.w[0].id, id_dom);
	assert_false(p.w[0].listed);
	o = p.w[0].obj;
	assert_string_equal(json_string_value(json_object_get(o, "valid_until")),
	                    "2025-12-01T11:00:00.000Z");
	assert_string_equal(json_string_value(json_object_get(o, "modified")),
	                    "2025-12-01T11:00:00.000Z");
	assert_string_equal(json_string_value(json_object_get(o, "created")),
	                    "2025-12-01T10:00:00.000Z");
	/* listed again later: valid_until gone, modified later still */
	struct source_known *kd = strcmp(k[0].id, id_dom) == 0 ? &k[0] : &k[1];
	free(kd->json);
	kd->json = json_dumps(o, 0);
	kd->listed = false;
	kd->modified_us = t2;
	source_plan_reset(&p);
	plan_init(&p, k, 2, t2 + 1000);
	source_plan_value(&p, OBS_IPV4, slice_from_cstr("192.0.2.1"), &d);
	source_plan_value(&p, OBS_DOMAIN, slice_from_cstr("evil.example"), &d);
	assert_int_equal(source_plan_finish(&p, &d), TC_OK);
	assert_int_equal(p.nw, 1);
	assert_true(p.w[0].listed);
	assert_null(json_object_get(p.w[0].obj, "valid_until"));
	assert_string_equal(json_string_value(json_object_get(p.w[0].obj, "modified")),
	                    "2025-12-01T11:00:00.001Z");
	source_plan_reset(&p);
	free(k[0].json);
	free(k[1].json);
}

static void
test_plan_objects(void **state)
{
	struct source_plan p;
	struct diag d;
	(void)state;
	json_error_t je;
	json_t *ind = json_loads("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	                         "\"indicator--0b4f6c8e-5a2d-4e3f-9a1b-2c3d4e5f6a7b\",\"created\":"
	                         "\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
	                         "\"created_by_ref\":\"identity--00000000-0000-4000-8000-000000000000\","
	                         "\"pattern\":\"[domain-name:value = 'a.example']\",\"pattern_type\":"
	                         "\"stix\",\"valid_from\":\"2026-01-01T00:00:00.000Z\",\"confidence\":5}",
	                         0, &je);
	assert_non_null(ind);
	plan_init(&p, NULL, 0, INT64_C(1764583200000000));
	assert_int_equal(source_plan_object(&p, ind, &d), TC_OK);
	assert_int_equal(p.nw, 1);
	json_t *o = p.w[0].obj;
	assert_string_equal(json_string_value(json_object_get(o, "created_by_ref")), p.identity);
	assert_int_equal(json_integer_value(json_object_get(o, "confidence")), 5); /* its own kept */
	assert_int_equal(json_array_size(json_object_get(o, "object_marking_refs")), 1);
	/* the input is not changed */
	assert_string_equal(json_string_value(json_object_get(ind, "created_by_ref")),
	                    "identity--00000000-0000-4000-8000-000000000000");
	json_t *noid = json_pack("{s:s}", "type", "indicator");
	assert_int_equal(source_plan_object(&p, noid, &d), TC_EINVAL);
	json_decref(noid);
	source_plan_reset(&p);
	json_decref(ind);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_blocklist), cmocka_unit_test(test_refused_bodies),
		cmocka_unit_test(test_csv),                 cmocka_unit_test(test_options),
		cmocka_unit_test(test_misp_manifest),       cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
