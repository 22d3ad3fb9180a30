/* Unit tests of lib/taxii/taxii_query.c: TAXII 2.1 §3.4 URL parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "taxii/taxii_query.h"

#define ALL_PARAMS 0x7f

static enum tcerr
parse(const char *qs, struct taxii_query *q, struct diag *d)
{
	taxii_query_init(q);
	diag_clear(d);
	return taxii_query_parse(q, ALL_PARAMS, slice_from_cstr(qs), d);
}

static void
test_full_query(void **state)
{
	struct taxii_query q;
	struct diag d;
	assert_int_equal(parse("added_after=2024-01-31T12:00:00.123456Z&limit=100"
	                       "&match%5Btype%5D=indicator,malware"
	                       "&match[id]=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	                       "&match[version]=first,last,2016-04-06T20:03:48.000Z"
	                       "&match[spec_version]=2.1&next=abc123",
	                       &q, &d),
	                 TC_OK);
	assert_int_equal(q.limit, 100);
	assert_int_equal(q.added_after_us, 1706702400123456LL);
	assert_int_equal(q.ntypes, 2);
	assert_string_equal(q.types[1], "malware");
	assert_int_equal(q.nids, 1);
	assert_int_equal(q.versions, TAXII_V_FIRST | TAXII_V_LAST);
	assert_int_equal(q.nversion_us, 1);
	assert_string_equal(q.spec_versions[0], "2.1");
	assert_string_equal(q.next, "abc123");
	taxii_query_reset(&q);
}

static void
test_errors_name_the_parameter(void **state)
{
	static const struct {
		const char *qs;
		const char *msg;
	} bad[] = {
		{ "limit=0", "limit: must be greater than 0" },
		{ "limit=-1", "limit: must be an integer" },
		{ "limit=abc", "limit: must be an integer" },
		{ "limit=10&limit=20", "limit: given more than once" },
		{ "added_after=yesterday", "added_after: not a timestamp" },
		{ "added_after=2024-01-31T12:00:00+01:00", "added_after: not a timestamp" },
		{ "match[type]=indicator,,malware", "match[type]: empty item" },
		{ "match[type]=Indicator", "match[type]: 'Indicator' is not a STIX type name" },
		{ "match[type]=indicator,%20malware", "match[type]: spaces are not allowed" },
		{ "match[id]=indicator--xyz", "match[id]: 'indicator--xyz' is not a STIX identifier" },
		{ "match[version]=all,last", "match[version]: 'all' cannot be combined" },
		{ "match[version]=latest", "match[version]: 'latest' is not first, last, all" },
		{ "match[version]=2016-04-06T20:03:48Z,2016-04-06T20:03:48.000Z",
		  "match[version]: a value is repeated" },
		{ "match[version]=first,first", "match[version]: a value is repeated" },
		{ "match[spec_version]=two", "match[spec_version]: 'two' is not a spec version" },
		{ "limit=%zz", "bad percent-encoding" },
		{ "limit=1%00", "NUL byte" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct taxii_query q;
		struct diag d;
		enum tcerr rc = parse(bad[i].qs, &q, &d);
		if (rc != TC_EINVAL || strstr(d.msg, bad[i].msg) == NULL)
			fail_msg("%s: got rc %d '%s', want '%s'", bad[i].qs, rc, d.msg, bad[i].msg);
		taxii_query_reset(&q);
	}
}

static void
test_unknown_and_disallowed_are_ignored(void **state)
{
	struct taxii_query q;
	struct diag d;
	taxii_query_init(&q);
	assert_int_equal(taxii_query_parse(&q, TAXII_P_LIMIT,
	                                   slice_from_cstr("match[type]=Bad!&foo=bar&limit=5"), &d),
	                 TC_OK);
	assert_int_equal(q.present, TAXII_P_LIMIT);
	assert_int_equal(q.ntypes, 0);
	taxii_query_reset(&q);
}

static void
test_limits(void **state)
{
	struct taxii_query q;
	struct diag d;
	char qs[TAXII_QUERY_MAX_LEN + 100];
	size_t n = 0;

	/* one more value than allowed */
	n += (size_t)snprintf(qs, sizeof(qs), "match[type]=");
	for (int i = 0; i <= TAXII_QUERY_MAX_VALUES; i++)
		n += (size_t)snprintf(qs + n, sizeof(qs) - n, "%sabc", i ? "," : "");
	assert_int_equal(parse(qs, &q, &d), TC_ELIMIT);
	taxii_query_reset(&q);

	memset(qs, 'a', TAXII_QUERY_MAX_LEN + 1);
	qs[TAXII_QUERY_MAX_LEN + 1] = '\0';
	assert_int_equal(parse(qs, &q, &d), TC_ELIMIT);
	taxii_query_reset(&q);

	memset(qs, 'x', sizeof(qs));
	memcpy(qs, "next=", 5);
	qs[5 + TAXII_NEXT_MAX + 1] = '\0';
	assert_int_equal(parse(qs, &q, &d), TC_EINVAL);
	taxii_query_reset(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_query),
		cmocka_unit_test(test_errors_name_the_parameter),
		cmocka_unit_test(test_unknown_and_disallowed_are_ignored),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
