/*
 * Unit tests of lib/stix/stix_validate.c and stix_tlp.c beyond the golden
 * files: type classification, identifier syntax, TLP tables, the extracted
 * columns (struct stix_meta), the pattern hook and the pattern limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "stix/stix.h"

static const char *const sdos[] = {
    "attack-pattern", "campaign",      "course-of-action", "grouping",
    "identity",       "incident",      "indicator",        "infrastructure",
    "intrusion-set",  "location",      "malware",          "malware-analysis",
    "note",           "observed-data", "opinion",          "report",
    "threat-actor",   "tool",          "vulnerability",
};
static const char *const scos[] = {
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
};

static void
test_classify(void **state)
{
	assert_int_equal(sizeof(sdos) / sizeof(sdos[0]), 19);
	assert_int_equal(sizeof(scos) / sizeof(scos[0]), 18);
	for (size_t i = 0; i < sizeof(sdos) / sizeof(sdos[0]); i++)
		assert_int_equal(stix_classify(sdos[i]), STIX_CLASS_SDO);
	for (size_t i = 0; i < sizeof(scos) / sizeof(scos[0]); i++)
		assert_int_equal(stix_classify(scos[i]), STIX_CLASS_SCO);
	assert_int_equal(stix_classify("relationship"), STIX_CLASS_SRO);
	assert_int_equal(stix_classify("sighting"), STIX_CLASS_SRO);
	assert_int_equal(stix_classify("marking-definition"), STIX_CLASS_META);
	assert_int_equal(stix_classify("language-content"), STIX_CLASS_META);
	assert_int_equal(stix_classify("extension-definition"), STIX_CLASS_META);
	assert_int_equal(stix_classify("bundle"), STIX_CLASS_BUNDLE);
	assert_int_equal(stix_classify("x-acme-widget"), STIX_CLASS_CUSTOM);
	assert_int_equal(stix_classify("my-favorite-sdo-1"), STIX_CLASS_CUSTOM);
	assert_int_equal(stix_classify("Indicator"), 0);
	assert_int_equal(stix_classify("ab"), 0);
	assert_int_equal(stix_classify("x-"), 0);
	assert_int_equal(stix_classify("a--b"), 0);
	assert_int_equal(stix_classify("1abc"), 0);
	assert_int_equal(stix_classify(NULL), 0);
}

static void
test_id_valid(void **state)
{
	size_t tl = 0;
	assert_true(
	    stix_id_valid(SLICE_LIT("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), &tl));
	assert_int_equal(tl, 9);
	assert_true(stix_id_valid(SLICE_LIT("x-a1--8e2e2d2b-17d4-4cbf-b38f-98ee46b3cd3f"), NULL));
	/* issue 8: only the canonical lower-case form (RFC 4122 §3) */
	assert_false(stix_id_valid(SLICE_LIT("x-a1--8E2E2D2B-17D4-4CBF-B38F-98EE46B3CD3F"), NULL));
	assert_false(stix_id_valid(
	    SLICE_LIT("marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b-17d4-4cbf-B38f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc---8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("Abc--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b-17d4-6cbf-938f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b-17d4-4cbf-738f-98ee46b3cd3f"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3"), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f "), NULL));
	assert_false(stix_id_valid(SLICE_LIT("abc--8e2e2d2b_17d4-4cbf-938f-98ee46b3cd3f"), NULL));
	assert_false(
	    stix_id_valid(slice_make("abc--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd\0f", 41), NULL));
	assert_false(stix_id_valid(slice_make(NULL, 0), NULL));
}

static void
test_tlp(void **state)
{
	static const struct {
		const char *id;
		enum tlp_level lvl;
	} v[] = {
	    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TLP_CLEAR},
	    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TLP_GREEN},
	    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TLP_AMBER},
	    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TLP_RED},
	    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", TLP_CLEAR},
	    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", TLP_GREEN},
	    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", TLP_AMBER},
	    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", TLP_AMBER_STRICT},
	    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", TLP_RED},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(stix_tlp_from_marking(v[i].id), v[i].lvl);
	assert_int_equal(
	    stix_tlp_from_marking("marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c"),
	    TLP_NONE);
	assert_int_equal(stix_tlp_from_marking(NULL), TLP_NONE);
	/* the TLP 2.0 id for each level */
	for (size_t i = 4; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(stix_tlp_marking_id(v[i].lvl), v[i].id);
	assert_null(stix_tlp_marking_id(TLP_NONE));
	assert_true(TLP_CLEAR < TLP_GREEN && TLP_GREEN < TLP_AMBER &&
	            TLP_AMBER < TLP_AMBER_STRICT && TLP_AMBER_STRICT < TLP_RED);
	enum tlp_level l;
	const char *names[] = {"none", "clear", "green", "amber", "amber+strict", "red"};
	for (int i = TLP_NONE; i <= TLP_RED; i++) {
		assert_string_equal(stix_tlp_name((enum tlp_level)i), names[i]);
		assert_int_equal(stix_tlp_parse(names[i], &l), TC_OK);
		assert_int_equal(l, i);
	}
	assert_int_equal(stix_tlp_parse("TLP:AMBER+STRICT", &l), TC_OK);
	assert_int_equal(l, TLP_AMBER_STRICT);
	assert_int_equal(stix_tlp_parse("white", &l), TC_OK);
	assert_int_equal(l, TLP_CLEAR);
	assert_int_equal(stix_tlp_parse("purple", &l), TC_EINVAL);
}

#define IND_HEAD                                                                                   \
	"{\"type\":\"indicator\",\"spec_version\":\"2.1\","                                        \
	"\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","                              \
	"\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.123Z\","

static enum tcerr
validate(const char *json, const char *path, const struct stix_limits *lim, struct stix_meta *m,
         struct diag *d)
{
	json_t *v = NULL;
	enum tcerr rc = stix_json_parse(slice_from_cstr(json), NULL, &v, d);
	assert_int_equal(rc, TC_OK);
	rc = stix_validate(v, path, lim, m, d);
	json_decref(v);
	return rc;
}

static void
test_meta_indicator(void **state)
{
	struct stix_meta m;
	struct diag d;
	assert_int_equal(
	    validate(IND_HEAD
	             "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
	             "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\","
	             "\"valid_until\":\"2017-01-01T00:00:00Z\",\"revoked\":true,"
	             "\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
	             "\"object_marking_refs\":["
	             "\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\","
	             "\"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003\","
	             "\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\"]}",
	             NULL, NULL, &m, &d),
	    TC_OK);
	assert_string_equal(m.id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
	assert_string_equal(m.type, "indicator");
	assert_int_equal(m.cls, STIX_CLASS_SDO);
	assert_string_equal(m.spec_version, "2.1");
	assert_int_equal(m.created_us, 1459973028000000LL);
	assert_int_equal(m.modified_us, 1459973028123000LL);
	assert_string_equal(m.version, "2016-04-06T20:03:48.123Z");
	assert_int_equal(m.version_us, m.modified_us);
	/* green, amber+strict and a marking no TLP id names: until the hub
	 * knows it is a statement, the unknown one counts as RED */
	assert_int_equal(m.tlp, TLP_RED);
	assert_int_equal(m.other_markings, 1);
	assert_true(m.revoked);
	assert_int_equal(m.valid_from_us, 1451606400000000LL);
	assert_int_equal(m.valid_until_us, 1483228800000000LL);
	assert_string_equal(m.created_by_ref, "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff");
}

/* issue 8: upper-case ids are refused everywhere, with a reason that
 * says what to fix */
static void
test_upper_case_ids(void **state)
{
	static const char *const bad[] = {
	    /* id */
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	    "\"indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F\",\"created\":\"2016-04-06T20:03:48.000Z\","
	    "\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
	    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}",
	    /* object_marking_refs: TLP:RED written in upper case */
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	    "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
	    "\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
	    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\",\"object_marking_refs\":"
	    "[\"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1\"]}",
	    /* created_by_ref */
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	    "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
	    "\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
	    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\",\"created_by_ref\":"
	    "\"identity--F431F809-377B-45E0-AA1C-6A4751CAE5FF\"}",
	    /* a granular marking_ref */
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	    "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
	    "\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
	    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\",\"granular_markings\":"
	    "[{\"selectors\":[\"pattern\"],\"marking_ref\":"
	    "\"marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1\"}]}",
	    /* any *_refs of a custom property */
	    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
	    "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":\"2016-04-06T20:03:48.000Z\","
	    "\"modified\":\"2016-04-06T20:03:48.000Z\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\","
	    "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\",\"x_seen_refs\":"
	    "[\"identity--F431F809-377B-45E0-AA1C-6A4751CAE5FF\"]}",
	};
	struct stix_meta m;
	struct diag d;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(validate(bad[i], NULL, NULL, &m, &d), TC_EINVAL);
		assert_non_null(strstr(d.msg, "lower case"));
	}
}

/* issue 8: granular markings count for the whole object; known statement
 * markings restrict nothing; any other marking counts as RED */
static bool
statement_known(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c") == 0;
}

static void
test_markings_tlp(void **state)
{
	static const struct {
		const char *markings;
		enum tlp_level validated, resolved;
		size_t other;
	} v[] = {
	    {"", TLP_NONE, TLP_NONE, 0},
	    /* TLP:RED on the pattern only: the whole indicator is RED */
	    {",\"object_marking_refs\":[\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\"],"
	     "\"granular_markings\":[{\"selectors\":[\"pattern\"],\"marking_ref\":"
	     "\"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"}]",
	     TLP_RED, TLP_RED, 0},
	    {",\"granular_markings\":[{\"selectors\":[\"description\"],\"marking_ref\":"
	     "\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"}]",
	     TLP_AMBER, TLP_AMBER, 0},
	    {",\"granular_markings\":[{\"selectors\":[\"description\"],\"lang\":\"en\"}]",
	     TLP_NONE, TLP_NONE, 0},
	    /* a known statement alone: unmarked */
	    {",\"object_marking_refs\":[\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\"]",
	     TLP_RED, TLP_NONE, 1},
	    /* a statement and GREEN: GREEN */
	    {",\"object_marking_refs\":[\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\","
	     "\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]",
	     TLP_RED, TLP_GREEN, 1},
	    /* an unknown marking: RED either way */
	    {",\"object_marking_refs\":[\"marking-definition--0b5e6e3b-0c1a-4f27-a3c8-3d2a0e8e6c1c\","
	     "\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]",
	     TLP_RED, TLP_RED, 1},
	    {",\"granular_markings\":[{\"selectors\":[\"pattern\"],\"marking_ref\":"
	     "\"marking-definition--0b5e6e3b-0c1a-4f27-a3c8-3d2a0e8e6c1c\"}]",
	     TLP_RED, TLP_RED, 1},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char json[2048];
		struct stix_meta m;
		struct diag d;
		json_t *o;
		snprintf(json, sizeof json,
		         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
		         "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":"
		         "\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
		         "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"description\":\"d\","
		         "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"%s}",
		         v[i].markings);
		if (validate(json, NULL, NULL, &m, &d) != TC_OK)
			fail_msg("case %zu: %s", i, d.msg);
		assert_int_equal(m.tlp, v[i].validated);
		assert_int_equal(m.other_markings, v[i].other);
		o = json_loads(json, 0, NULL);
		assert_non_null(o);
		size_t other = 99;
		assert_int_equal(stix_markings_tlp(o, statement_known, NULL, &other), v[i].resolved);
		assert_int_equal(other, v[i].other);
		json_decref(o);
	}
}

static void
test_statement_marking(void **state)
{
	json_t *st = json_loads("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	                        "\"id\":\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\","
	                        "\"created\":\"2020-01-01T00:00:00.000Z\",\"definition_type\":"
	                        "\"statement\",\"definition\":{\"statement\":\"(c) ACME\"}}",
	                        0, NULL);
	json_t *ext = json_loads("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	                         "\"id\":\"marking-definition--4a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\","
	                         "\"created\":\"2020-01-01T00:00:00.000Z\",\"extensions\":"
	                         "{\"extension-definition--3a6dc8a3-6c0e-4f27-a3c8-3d2a0e8e6c1c\":"
	                         "{\"extension_type\":\"property-extension\",\"pap\":\"red\"}}}",
	                         0, NULL);
	assert_true(stix_marking_is_statement(st));
	assert_false(stix_marking_is_statement(ext));
	assert_false(stix_marking_is_statement(NULL));
	json_decref(st);
	json_decref(ext);
}


/* issue 8: recipients lists hold identity ids in canonical form */
static void
test_recipients_checked(void **state)
{
	static const struct {
		const char *rec;
		bool ok;
		const char *why;
	} v[] = {
	    {"[\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\"]", true, NULL},
	    {"[\"identity--F431F809-377B-45E0-AA1C-6A4751CAE5FF\"]", false, "lower case"},
	    {"[\"malware--f431f809-377b-45e0-aa1c-6a4751cae5ff\"]", false, "identity id"},
	    {"[42]", false, "not a valid STIX identifier"},
	    {"[]", false, "list of 1 to 256"},
	    {"\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\"", false, "list of 1 to 256"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char json[1024];
		struct stix_meta m;
		struct diag d;
		snprintf(json, sizeof json,
		         "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
		         "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"created\":"
		         "\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.000Z\","
		         "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":\"stix\","
		         "\"valid_from\":\"2016-01-01T00:00:00Z\",\"extensions\":{\"" STIX_EXT_DISTRIBUTION
		         "\":{\"extension_type\":\"property-extension\",\"recipients\":%s}}}",
		         v[i].rec);
		enum tcerr rc = validate(json, NULL, NULL, &m, &d);
		if (v[i].ok) {
			assert_int_equal(rc, TC_OK);
			continue;
		}
		assert_int_equal(rc, TC_EINVAL);
		if (!strstr(d.msg, v[i].why) || !strstr(d.msg, "recipients"))
			fail_msg("case %zu: %s", i, d.msg);
	}
}

static void
test_meta_sco_and_marking(void **state)
{
	struct stix_meta m;
	struct diag d;
	assert_int_equal(validate("{\"type\":\"domain-name\",\"id\":"
	                          "\"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5\","
	                          "\"value\":\"example.com\"}",
	                          NULL, NULL, &m, &d),
	                 TC_OK);
	assert_int_equal(m.cls, STIX_CLASS_SCO);
	assert_string_equal(m.version, "");
	assert_int_equal(m.version_us, 0);
	assert_int_equal(m.created_us, 0);
	assert_int_equal(m.tlp, TLP_NONE);
	assert_false(m.revoked);
	assert_string_equal(m.created_by_ref, "");
	/* marking definitions are versioned by created only */
	assert_int_equal(
	    validate("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\","
	             "\"id\":\"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9\","
	             "\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\","
	             "\"name\":\"TLP:WHITE\",\"definition\":{\"tlp\":\"white\"}}",
	             NULL, NULL, &m, &d),
	    TC_OK);
	assert_int_equal(m.cls, STIX_CLASS_META);
	assert_string_equal(m.version, "2017-01-20T00:00:00.000Z");
	assert_int_equal(m.modified_us, 0);
}

static void
test_path_prefix(void **state)
{
	struct diag d;
	assert_int_equal(validate(IND_HEAD "\"pattern\":\"[x:y = 1]\",\"pattern_type\":\"stix\","
	                                   "\"valid_from\":\"2016-01-01T00:00:00Z\","
	                                   "\"valid_until\":\"2016-01-01T00:00:00Z\"}",
	                          "objects[3]", NULL, NULL, &d),
	                 TC_EINVAL);
	assert_string_equal(d.msg, "objects[3].valid_until: must be later than valid_from");
	assert_int_equal(stix_validate(NULL, "objects[0]", NULL, NULL, &d), TC_EINVAL);
	assert_string_equal(d.msg, "objects[0]: must be a JSON object");
	/* an empty path is no path */
	assert_int_equal(validate("{\"type\":\"ab\"}", "", NULL, NULL, &d), TC_EINVAL);
	assert_string_equal(
	    d.msg,
	    "type: invalid type name (3-250 characters a-z, 0-9, '-', starting with a letter)");
}

static void
test_pattern_hook(void **state)
{
	struct diag d;
	/* the pattern parser's message is prefixed with the property path */
	assert_int_equal(
	    validate(IND_HEAD "\"pattern\":\"ipv4-addr:value = '1.2.3.4'\","
	                      "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\"}",
	             "objects[0]", NULL, NULL, &d),
	    TC_EINVAL);
	assert_memory_equal(d.msg, "objects[0].pattern: column ", 27);
	/* other pattern languages are not parsed */
	assert_int_equal(
	    validate(IND_HEAD "\"pattern\":\"alert tcp any any -> any any\","
	                      "\"pattern_type\":\"snort\",\"valid_from\":\"2016-01-01T00:00:00Z\"}",
	             NULL, NULL, NULL, &d),
	    TC_OK);
	/* the pattern length limit applies to every pattern language */
	struct stix_limits lim = stix_default_limits;
	lim.max_pattern = 8;
	assert_int_equal(validate(IND_HEAD
	                          "\"pattern\":\"alert tcp any\",\"pattern_type\":\"snort\","
	                          "\"valid_from\":\"2016-01-01T00:00:00Z\"}",
	                          NULL, &lim, NULL, &d),
	                 TC_ELIMIT);
	assert_string_equal(d.msg, "pattern: longer than 8 bytes");
}

static void
test_version_text_limit(void **state)
{
	struct diag d;
	char json[512];
	/* 64 characters of timestamp are kept; 65 are refused as a limit */
	snprintf(
	    json, sizeof(json),
	    "{\"type\":\"campaign\",\"spec_version\":\"2.1\","
	    "\"id\":\"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"name\":\"c\","
	    "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.%sZ\"}",
	    "0000000000000000000000000000000000000000000");
	assert_int_equal(validate(json, NULL, NULL, NULL, &d), TC_OK);
	snprintf(
	    json, sizeof(json),
	    "{\"type\":\"campaign\",\"spec_version\":\"2.1\","
	    "\"id\":\"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\"name\":\"c\","
	    "\"created\":\"2016-04-06T20:03:48.000Z\",\"modified\":\"2016-04-06T20:03:48.%sZ\"}",
	    "00000000000000000000000000000000000000000000");
	assert_int_equal(validate(json, NULL, NULL, NULL, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "modified: timestamp longer than 64 characters");
}

static void
test_speed(void **state)
{
	/* Not an assertion on time (machines differ); prints the figure the
	 * ingest budget depends on. The loop is bounded to stay short. */
	const char *json =
	    IND_HEAD "\"name\":\"bad ip\",\"indicator_types\":[\"malicious-activity\"],"
	             "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
	             "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\","
	             "\"created_by_ref\":\"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff\","
	             "\"object_marking_refs\":["
	             "\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\"]}";
	json_t *v = NULL;
	struct diag d;
	struct stix_meta m;
	assert_int_equal(stix_json_parse(slice_from_cstr(json), NULL, &v, &d), TC_OK);
	struct timespec a, b;
	const int n = 20000;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		assert_int_equal(stix_validate(v, NULL, NULL, &m, &d), TC_OK);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double us =
	    ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / n;
	print_message("stix_validate: %.2f µs per indicator\n", us);
	json_decref(v);
}

/* A property name that may hold a card number is not quoted. */
static void
test_card_number_property_not_quoted(void **state)
{
	struct diag d;
	(void)state;
	json_t *o = json_pack("{s:s,s:s,s:s,s:i}", "type", "ipv4-addr", "id",
	                      "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value",
	                      "198.51.100.3", "4111 1111 1111 1111", 1);
	assert_non_null(o);
	assert_int_equal(stix_validate(o, "objects[0]", NULL, NULL, &d), TC_EINVAL);
	assert_null(strstr(d.msg, "1111"));
	assert_non_null(strstr(d.msg, "property names must be"));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_id_valid),
	    cmocka_unit_test(test_tlp),
	    cmocka_unit_test(test_meta_indicator),
	    cmocka_unit_test(test_meta_sco_and_marking),
	    cmocka_unit_test(test_upper_case_ids),
	    cmocka_unit_test(test_markings_tlp),
	    cmocka_unit_test(test_statement_marking),
	    cmocka_unit_test(test_recipients_checked),
	    cmocka_unit_test(test_path_prefix),
	    cmocka_unit_test(test_pattern_hook),
	    cmocka_unit_test(test_version_text_limit),
	    cmocka_unit_test(test_speed),
	    cmocka_unit_test(test_card_number_property_not_quoted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
