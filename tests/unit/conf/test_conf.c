/*
 * test_conf.c — tocsind's configuration parser: defaults, every kind of
 * key, file:line errors, overrides, cross-key checks and the round trip
 * of the printed effective configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

static enum tcerr
parse(struct conf *c, const char *text, struct diag *d)
{
	conf_defaults(c);
	return conf_parse(c, "t.conf", slice_from_cstr(text), d);
}

static void
test_defaults(void **state)
{
	struct conf c;
	struct diag d;
	conf_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8480");
	assert_string_equal(c.api_root, "hub");
	assert_int_equal(c.tls_listen[0], 0);
	assert_int_equal(c.default_tlp, TLP_GREEN);
	/* citizen reports: served, promoted by coordinators only */
	assert_true(c.reports_enabled);
	assert_int_equal(c.reports_promote_threshold, 0);
	assert_int_equal(c.reports_rate_burst, 10);
	assert_int_equal(conf_check(&c, &d), TC_OK);
}

static void
test_all_keys(void **state)
{
	struct conf c;
	struct diag d;
	const char *text = "# comment\n"
	                   "; another\n"
	                   "[server]\n"
	                   "listen = [::1]:0\n"
	                   "tls_listen = 0.0.0.0:8443\n"
	                   "tls_cert = /etc/tocsin/cert.pem\n"
	                   "tls_key = /etc/tocsin/key.pem\n"
	                   "client_ca = /etc/tocsin/ca.pem\n"
	                   "threads = 8\n"
	                   "connection_limit = 500\n"
	                   "connection_timeout = 30\n"
	                   "\n"
	                   "[taxii]\n"
	                   "api_root = national-hub\n"
	                   "title = \"  Hub # 1 \\\"FR\\\"  \"\n"
	                   "description = Threat sharing; for members\n"
	                   "contact = soc@example.org\n"
	                   "max_content_length = 10M\n"
	                   "max_page = 500\n"
	                   "[policy]\n"
	                   "default_tlp = TLP:AMBER\n"
	                   "[metrics]\n"
	                   "require_auth = yes\n"
	                   "[log]\n"
	                   "level = debug\n"
	                   "access = off\n"
	                   "  [ writer ]  \n"
	                   "batch_max_objects = 2k\n"
	                   "batch_max_wait_us = 500\n"
	                   "[ingest]\n"
	                   "widest_prefix_v4 = 16\n"
	                   "widest_prefix_v6 = 48\n"
	                   "[reports]\n"
	                   "enabled = no\n"
	                   "promote_threshold = 5\n"
	                   "tlp = amber\n"
	                   "confidence = 80\n"
	                   "valid_days = 7\n"
	                   "collection = citizens\n"
	                   "country = NO\n"
	                   "max_body = 8k\n"
	                   "rate_per_minute = 30\n"
	                   "rate_burst = 3\n"
	                   "rate_clients = 1M\n"
	                   "[stream]\n"
	                   "heartbeat = 5\n"
	                   "client_buffer = 4M\n"
	                   "max_clients = 5000\n"
	                   "max_clients_per_org = 50\n";
	assert_int_equal(parse(&c, text, &d), TC_OK);
	assert_false(c.reports_enabled);
	assert_int_equal(c.reports_promote_threshold, 5);
	assert_int_equal(c.reports_tlp, TLP_AMBER);
	assert_int_equal(c.reports_confidence, 80);
	assert_int_equal(c.reports_valid_days, 7);
	assert_string_equal(c.reports_collection, "citizens");
	assert_string_equal(c.reports_country, "NO");
	assert_int_equal(c.reports_max_body, 8192);
	assert_int_equal(c.reports_rate_per_minute, 30);
	assert_int_equal(c.reports_rate_burst, 3);
	assert_int_equal(c.reports_rate_clients, 1u << 20);
	assert_int_equal(c.stream_heartbeat, 5);
	assert_int_equal(c.stream_client_buffer, 4u << 20);
	assert_int_equal(c.stream_max_clients, 5000);
	assert_int_equal(c.stream_max_clients_per_org, 50);
	assert_int_equal(c.widest_prefix_v4, 16);
	assert_int_equal(c.widest_prefix_v6, 48);
	assert_string_equal(c.listen, "[::1]:0");
	assert_string_equal(c.tls_listen, "0.0.0.0:8443");
	assert_string_equal(c.client_ca, "/etc/tocsin/ca.pem");
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.connection_limit, 500);
	assert_int_equal(c.connection_timeout, 30);
	assert_string_equal(c.api_root, "national-hub");
	assert_string_equal(c.title, "  Hub # 1 \"FR\"  ");
	assert_string_equal(c.description, "Threat sharing; for members");
	assert_int_equal(c.max_content_length, 10 * 1024 * 1024);
	assert_int_equal(c.max_page, 500);
	assert_int_equal(c.default_tlp, TLP_AMBER);
	assert_true(c.metrics_require_auth);
	assert_int_equal(c.log_level, CONF_LOG_DEBUG);
	assert_false(c.log_access);
	assert_int_equal(c.batch_max_objects, 2048);
	assert_int_equal(c.batch_max_wait_us, 500);
	assert_int_equal(conf_check(&c, &d), TC_OK);
	assert_string_equal(c.origin_client_ca, "t.conf:8");
}

struct bad {
	const char *text;
	enum tcerr rc;
	const char *msg;  /* the whole expected message */
};

static void
test_errors(void **state)
{
	static const struct bad cases[] = {
		{ "[server]\nlisten = 1.2.3.4\n", TC_EINVAL,
		  "t.conf:2: listen: \"1.2.3.4\": expected ADDRESS:PORT, e.g. 127.0.0.1:8480" },
		{ "[server]\nlisten = localhost:80\n", TC_EINVAL,
		  "t.conf:2: listen: \"localhost:80\": not a numeric IPv4 address (IPv6: [ADDR]:PORT)" },
		{ "[server]\nlisten = 127.0.0.1:65536\n", TC_EINVAL,
		  "t.conf:2: listen: \"127.0.0.1:65536\": the port must be a number 0..65535" },
		{ "[server]\nthreads = 257\n", TC_ELIMIT, "t.conf:2: threads: must be 0..256" },
		{ "[server]\nthreads = -1\n", TC_EINVAL, "t.conf:2: threads: expected a number" },
		{ "[server]\nthreads = 4k\n", TC_EINVAL, "t.conf:2: threads: expected a number" },
		{ "[server]\nconnection_limit = 0\n", TC_ELIMIT,
		  "t.conf:2: connection_limit: must be 1..100000" },
		{ "[server]\nthreads = 99999999999999999999999\n", TC_ELIMIT,
		  "t.conf:2: threads: must be 0..256" },
		{ "[taxii]\nmax_content_length = 1023\n", TC_ELIMIT,
		  "t.conf:2: max_content_length: must be 1024..1073741824" },
		{ "[taxii]\nmax_content_length = 2G\n", TC_ELIMIT,
		  "t.conf:2: max_content_length: must be 1024..1073741824" },
		{ "[taxii]\nmax_page = 0\n", TC_ELIMIT, "t.conf:2: max_page: must be 1..100000" },
		{ "[taxii]\napi_root = Hub\n", TC_EINVAL,
		  "t.conf:2: api_root: use lower-case letters, digits, '-' and '_' (starting with a "
		  "letter or digit)" },
		{ "[taxii]\napi_root = a/b\n", TC_EINVAL,
		  "t.conf:2: api_root: use lower-case letters, digits, '-' and '_' (starting with a "
		  "letter or digit)" },
		{ "[taxii]\napi_root =\n", TC_EINVAL, "t.conf:2: api_root: must be 1..63 characters" },
		{ "[taxii]\ntitle = \"open\n", TC_EINVAL,
		  "t.conf:2: title: bad quoted value (only \\\" and \\\\ escapes)" },
		{ "[taxii]\ntitle = \"a\\nb\"\n", TC_EINVAL,
		  "t.conf:2: title: bad quoted value (only \\\" and \\\\ escapes)" },
		{ "[taxii]\ntitle = bad\xff utf8\n", TC_EINVAL,
		  "t.conf:2: title: must be UTF-8 text without control characters" },
		{ "[taxii]\ntitle = \xed\xa0\x80\n", TC_EINVAL,
		  "t.conf:2: title: must be UTF-8 text without control characters" },
		{ "[metrics]\nrequire_auth = maybe\n", TC_EINVAL,
		  "t.conf:2: require_auth: expected true or false" },
		{ "[policy]\ndefault_tlp = none\n", TC_EINVAL,
		  "t.conf:2: default_tlp: expected clear, green, amber, amber+strict or red" },
		{ "[policy]\ndefault_tlp = purple\n", TC_EINVAL,
		  "t.conf:2: default_tlp: expected clear, green, amber, amber+strict or red" },
		{ "[log]\nlevel = verbose\n", TC_EINVAL,
		  "t.conf:2: level: expected debug, info, warn or error" },
		{ "[writer]\nbatch_max_objects = 100001\n", TC_ELIMIT,
		  "t.conf:2: batch_max_objects: must be 1..100000" },
		{ "[writer]\nbatch_max_wait_us = 1000001\n", TC_ELIMIT,
		  "t.conf:2: batch_max_wait_us: must be 0..1000000" },
		{ "[match]\nmax_values = 0\n", TC_ELIMIT, "t.conf:2: max_values: must be 1..1000000" },
		{ "[match]\nmax_value_bytes = 4096\n", TC_ELIMIT,
		  "t.conf:2: max_value_bytes: must be 16..2048" },
		{ "[ingest]\nwidest_prefix_v4 = 0\n", TC_ELIMIT,
		  "t.conf:2: widest_prefix_v4: must be 1..32" },
		{ "[ingest]\nwidest_prefix_v6 = 129\n", TC_ELIMIT,
		  "t.conf:2: widest_prefix_v6: must be 1..128" },
		{ "[stream]\nheartbeat = 0\n", TC_ELIMIT, "t.conf:2: heartbeat: must be 1..3600" },
		{ "[stream]\nclient_buffer = 1k\n", TC_ELIMIT,
		  "t.conf:2: client_buffer: must be 65536..1073741824" },
		{ "[stream]\nmax_clients = 0\n", TC_ELIMIT, "t.conf:2: max_clients: must be 1..100000" },
		{ "listen = 127.0.0.1:1\n", TC_EINVAL, "t.conf:1: key before any [section]" },
		{ "\n\n[serve]\n", TC_ENOTFOUND,
		  "t.conf:3: unknown section [serve] (known: server, taxii, policy, metrics, log, "
		  "writer, match, ingest, decisions, bouncers, coord, webhooks, reports, sources, peers, stream, dns, api_root NAME, "
		  "rpz NAME)" },
		{ "[server\n", TC_EINVAL, "t.conf:1: expected [section]" },
		{ "[server]\nlisten\n", TC_EINVAL, "t.conf:2: expected key = value" },
		{ "[server]\nport = 80\n", TC_ENOTFOUND, "t.conf:2: unknown key \"port\" in [server]" },
		{ "[taxii]\nlisten = 127.0.0.1:1\n", TC_ENOTFOUND,
		  "t.conf:2: unknown key \"listen\" in [taxii]" },
		{ "[server]\nthreads = 1\n# again\nthreads = 2\n", TC_EEXIST,
		  "t.conf:4: threads already set on line 2" },
		{ "[server]\ntls_cert =\n", TC_EINVAL, "t.conf:2: tls_cert: empty file name" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conf c;
		struct diag d;
		enum tcerr rc = parse(&c, cases[i].text, &d);
		if (rc != cases[i].rc || strcmp(d.msg, cases[i].msg) != 0)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, rc, d.msg, cases[i].rc,
			         cases[i].msg);
	}
}

static void
test_limits(void **state)
{
	struct conf c;
	struct diag d;
	char big[CONF_LINE_MAX + 64];
	int n = snprintf(big, sizeof big, "[taxii]\ntitle = ");
	memset(big + n, 'x', sizeof big - (size_t)n - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	assert_int_equal(parse(&c, big, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "t.conf:2: line longer than 4096 bytes");
	assert_int_equal(d.line, 2);

	/* a title of exactly CONF_TEXT_MAX - 1 bytes fits, one more does not */
	char t[CONF_TEXT_MAX + 32];
	n = snprintf(t, sizeof t, "[taxii]\ntitle = ");
	memset(t + n, 'y', CONF_TEXT_MAX - 1);
	t[n + CONF_TEXT_MAX - 1] = '\0';
	assert_int_equal(parse(&c, t, &d), TC_OK);
	assert_int_equal(strlen(c.title), CONF_TEXT_MAX - 1);
	t[n + CONF_TEXT_MAX - 1] = 'y';
	t[n + CONF_TEXT_MAX] = '\0';
	assert_int_equal(parse(&c, t, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "t.conf:2: title: longer than 1023 bytes");

	char nul[] = "[taxii]\ntitle = a\0b\n";
	conf_defaults(&c);
	assert_int_equal(conf_parse(&c, "t.conf", slice_make(nul, sizeof nul - 1), &d), TC_EINVAL);
	assert_string_equal(d.msg, "t.conf:2: NUL byte");
}

static void
test_overrides_and_check(void **state)
{
	struct conf c;
	struct diag d;
	assert_int_equal(parse(&c, "[server]\nlisten = 127.0.0.1:9000\n", &d), TC_OK);
	assert_int_equal(conf_set(&c, "server", "listen", slice_from_cstr("127.0.0.1:0"),
	                          "--listen", &d),
	                 TC_OK);
	assert_string_equal(c.listen, "127.0.0.1:0");
	assert_int_equal(conf_set(&c, "server", "listen", slice_from_cstr("nope"), "--listen", &d),
	                 TC_EINVAL);
	assert_string_equal(d.msg, "--listen: listen: \"nope\": expected ADDRESS:PORT, e.g. "
	                           "127.0.0.1:8480");
	assert_string_equal(c.listen, "127.0.0.1:0"); /* unchanged on error */

	/* a TLS listener without a certificate names where it was set */
	assert_int_equal(conf_set(&c, "server", "tls_listen", slice_from_cstr("127.0.0.1:0"),
	                          "--tls-listen", &d),
	                 TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_string_equal(d.msg, "--tls-listen: tls_listen needs tls_cert and tls_key in [server]");

	assert_int_equal(parse(&c, "[server]\nclient_ca = ca.pem\n", &d), TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_string_equal(d.msg, "t.conf:2: client_ca needs tls_listen (client certificates come "
	                           "over TLS)");

	assert_int_equal(parse(&c, "[server]\nlisten = off\n", &d), TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_string_equal(d.msg, "no listener: set [server] listen or tls_listen (listen = off "
	                           "needs tls_listen)");

	/* [webhooks]: the first retry delay may not exceed the cap */
	assert_int_equal(parse(&c, "[webhooks]\nbackoff_initial_ms = 5000\nbackoff_max_ms = 100\n",
	                       &d),
	                 TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_string_equal(d.msg, "[webhooks]: backoff_initial_ms (5000) is above backoff_max_ms "
	                           "(100)");
	assert_int_equal(parse(&c, "[webhooks]\nallow_private = yes\nca_file = /etc/ca.pem\n"
	                           "max_attempts = 3\n",
	                       &d),
	                 TC_OK);
	assert_true(c.webhook_allow_private);
	assert_false(c.webhook_allow_http);
	assert_string_equal(c.webhook_ca_file, "/etc/ca.pem");
	assert_int_equal(c.webhook_max_attempts, 3);
	assert_int_equal(parse(&c, "[webhooks]\nmax_attempts = 0\n", &d), TC_ELIMIT);
}

static void
test_print_round_trip(void **state)
{
	struct conf a, b;
	struct diag d;
	struct buf out, out2;
	buf_init(&out, 0);
	buf_init(&out2, 0);
	assert_int_equal(parse(&a, "[server]\nlisten = off\ntls_listen = [::]:8443\n"
	                           "tls_cert = c \"x\".pem\ntls_key = k.pem\n"
	                           "[taxii]\ntitle = \" spaced \\\\ \"\n[log]\nlevel = warn\n",
	                       &d),
	                 TC_OK);
	conf_print(&a, &out);
	assert_int_equal(buf_error(&out), TC_OK);
	assert_non_null(strstr(out.p, "[server]\nlisten = off\ntls_listen = [::]:8443\n"));
	assert_non_null(strstr(out.p, "tls_cert = \"c \\\"x\\\".pem\"\n"));
	assert_non_null(strstr(out.p, "# client_ca is not set\n"));
	assert_non_null(strstr(out.p, "level = warn\n"));
	/* --check shows the default_tlp in force, and it parses back */
	assert_non_null(strstr(out.p, "[policy]\ndefault_tlp = green\n"));
	conf_defaults(&b);
	assert_int_equal(conf_parse(&b, "printed", buf_slice(&out), &d), TC_OK);
	conf_print(&b, &out2);
	assert_string_equal(out.p, out2.p);
	assert_string_equal(b.title, " spaced \\ ");
	assert_string_equal(b.tls_cert, "c \"x\".pem");
	buf_reset(&out);
	buf_reset(&out2);
}

/* [api_root NAME] sections: each root's own title, description and
 * limit; errors name file:line; printed back; the HTTP cap is the largest
 * limit of any root. */
static void
test_api_roots(void **state)
{
	struct conf c, b;
	struct diag d;
	struct buf out, out2;
	const char *text = "[taxii]\n"
	                   "max_content_length = 1M\n"
	                   "[api_root trusted]\n"
	                   "title = \"Trusted partners\"\n"
	                   "description = Closed group\n"
	                   "max_content_length = 8M\n"
	                   "\n"
	                   "[ api_root  peers ]\n"
	                   "title = Peer hubs\n"
	                   "[log]\n"
	                   "level = warn\n";
	assert_int_equal(parse(&c, text, &d), TC_OK);
	assert_int_equal(c.nroots, 2);
	assert_string_equal(c.roots[0].name, "trusted");
	assert_string_equal(c.roots[0].title, "Trusted partners");
	assert_string_equal(c.roots[0].description, "Closed group");
	assert_int_equal(c.roots[0].max_content_length, 8 * 1024 * 1024);
	assert_string_equal(c.roots[1].name, "peers");
	assert_string_equal(c.roots[1].title, "Peer hubs");
	assert_int_equal(c.roots[1].max_content_length, 0);
	assert_int_equal(c.log_level, CONF_LOG_WARN); /* sections after a root still work */
	assert_int_equal(conf_body_max(&c), 8 * 1024 * 1024);

	buf_init(&out, 0);
	buf_init(&out2, 0);
	conf_print(&c, &out);
	assert_non_null(strstr(out.p, "\n[api_root trusted]\ntitle = \"Trusted partners\"\n"
	                              "description = \"Closed group\"\n"
	                              "max_content_length = 8388608\n"));
	assert_non_null(strstr(out.p, "[api_root peers]\n"));
	conf_defaults(&b);
	assert_int_equal(conf_parse(&b, "printed", buf_slice(&out), &d), TC_OK);
	conf_print(&b, &out2);
	assert_string_equal(out.p, out2.p);
	buf_reset(&out);
	buf_reset(&out2);

	static const struct {
		const char *text, *msg;
		enum tcerr rc;
	} bad[] = {
	    {"[api_root Trusted]\n", "t.conf:1: [api_root Trusted]: use lower-case", TC_EINVAL},
	    {"[api_root]\n", "t.conf:1: unknown section [api_root]", TC_ENOTFOUND},
	    {"[api_root a]\n[api_root a]\n", "t.conf:2: [api_root a] already defined on line 1",
	     TC_EEXIST},
	    {"[api_root a]\ncolour = red\n", "t.conf:2: unknown key \"colour\" in [api_root a]",
	     TC_ENOTFOUND},
	    {"[api_root a]\ntitle = x\ntitle = y\n", "t.conf:3: title already set on line 2",
	     TC_EEXIST},
	    {"[api_root a]\nmax_content_length = 10\n", "t.conf:2: max_content_length: must be",
	     TC_ELIMIT},
	    {"[api_root a]\napi_root = b\n", "t.conf:2: unknown key \"api_root\"", TC_ENOTFOUND},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		diag_clear(&d);
		enum tcerr rc = parse(&c, bad[i].text, &d);
		if (rc != bad[i].rc || strncmp(d.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("%s: got %d \"%s\"", bad[i].text, rc, d.msg);
	}
	/* at most CONF_API_ROOTS_MAX sections */
	struct buf many;
	buf_init(&many, 0);
	for (int i = 0; i <= CONF_API_ROOTS_MAX; i++)
		buf_printf(&many, "[api_root r%d]\n", i);
	assert_int_equal(parse(&c, many.p, &d), TC_ELIMIT);
	assert_non_null(strstr(d.msg, "t.conf:33: more than 32 [api_root] sections"));
	buf_reset(&many);
}

static void
test_load(void **state)
{
	struct conf c;
	struct diag d;
	conf_defaults(&c);
	assert_int_equal(conf_load(&c, "/nonexistent/tocsind.conf", &d), TC_EIO);
	assert_string_equal(d.msg, "/nonexistent/tocsind.conf: No such file or directory");
	assert_int_equal(conf_load(&c, "/", &d), TC_EIO);
	assert_string_equal(d.msg, "/: not a file");
	/* the example shipped in etc/ parses and passes the check */
	assert_int_equal(conf_load(&c, SOURCE_ROOT "/etc/tocsind.conf", &d), TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_OK);
}

/* [dns] and [rpz NAME]: every key validated, required keys checked with
 * the zone named, the secret read from its file (never printed), the
 * ACL matched, and the printed form parses back to itself. */
static void
test_rpz_zones(void **state)
{
	struct conf c, b;
	struct diag d;
	struct buf out, out2;
	char secret[] = "/tmp/tocsin-test-conf-tsig-XXXXXX";
	int fd = mkstemp(secret);
	assert_true(fd >= 0);
	const char *b64 = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=\n";
	assert_int_equal(write(fd, b64, strlen(b64)), (ssize_t)strlen(b64));
	close(fd);
	char text[2048];
	snprintf(text, sizeof text,
	         "[dns]\nlisten = 127.0.0.1:5353\nrate_limit = 50\n"
	         "[rpz phish]\norigin = RPZ.Tocsin.Example\nview = org:Bank\n"
	         "kinds = domain-name, ipv4-addr\ncollections = default\nmin_confidence = 50\n"
	         "tlp = amber\naction = cname Garden.Example\nallow = 10.0.0.0/8 ::1\n"
	         "tsig_key = xfr-key\ntsig_secret_file = %s\nnotify = 127.0.0.1:5354 [::1]:53\n"
	         "refresh = 30\n"
	         "[rpz all]\norigin = all.rpz.\nview = operator\ntsig_key = k2\n"
	         "tsig_secret_file = %s\n",
	         secret, secret);
	assert_int_equal(parse(&c, text, &d), TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_OK);
	assert_int_equal(c.nrpz, 2);
	assert_string_equal(c.dns_listen, "127.0.0.1:5353");
	assert_string_equal(c.rpz[0].origin, "rpz.tocsin.example.");
	assert_string_equal(c.rpz[0].action, "cname garden.example.");
	assert_int_equal(c.rpz[0].tlp, TLP_AMBER);
	assert_int_equal(c.rpz[1].tlp, TLP_NONE);
	assert_string_equal(c.rpz[1].action, "nxdomain");
	assert_string_equal(c.rpz[1].allow, "127.0.0.1/32 ::1/128");

	/* the ACL: 10.1.2.3 in, 11.0.0.1 out, ::1 in, an IPv4-mapped 10.x in */
	struct conf_cidr acl[CONF_RPZ_ACL_MAX];
	size_t n;
	assert_int_equal(conf_cidr_list_parse(c.rpz[0].allow, acl, CONF_RPZ_ACL_MAX, &n, &d), TC_OK);
	assert_int_equal(n, 2);
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET, "10.1.2.3", &a4.sin_addr);
	assert_true(conf_cidr_match(&acl[0], (struct sockaddr *)&a4));
	inet_pton(AF_INET, "11.0.0.1", &a4.sin_addr);
	assert_false(conf_cidr_match(&acl[0], (struct sockaddr *)&a4));
	inet_pton(AF_INET6, "::1", &a6.sin6_addr);
	assert_true(conf_cidr_match(&acl[1], (struct sockaddr *)&a6));
	inet_pton(AF_INET6, "::ffff:10.9.9.9", &a6.sin6_addr);
	assert_true(conf_cidr_match(&acl[0], (struct sockaddr *)&a6));

	/* printed: every key, no secret, parses back to itself */
	buf_init(&out, 0);
	buf_init(&out2, 0);
	conf_print(&c, &out);
	assert_non_null(strstr(out.p, "[rpz phish]\norigin = rpz.tocsin.example.\n"));
	assert_non_null(strstr(out.p, "tlp = any\n"));
	assert_null(strstr(out.p, "c2VjcmV0"));
	conf_defaults(&b);
	assert_int_equal(conf_parse(&b, "printed", buf_slice(&out), &d), TC_OK);
	conf_print(&b, &out2);
	assert_string_equal(out.p, out2.p);
	buf_reset(&out);
	buf_reset(&out2);

	/* errors name the place and the key */
	struct { const char *text; enum tcerr rc; const char *msg; } bad[] = {
		{ "[rpz z]\naction = drop\n", TC_EINVAL, "t.conf:2: action: expected nxdomain" },
		{ "[rpz z]\nkinds = url\n", TC_EINVAL, "t.conf:2: kinds: \"url\": an RPZ zone" },
		{ "[rpz z]\nallow = 10.0.0.0/33\n", TC_EINVAL, "t.conf:2: allow: \"10.0.0.0/33\"" },
		{ "[rpz z]\nnotify = 1.2.3.4\n", TC_EINVAL, "t.conf:2: notify: " },
		{ "[rpz z]\nview = bank\n", TC_EINVAL, "t.conf:2: view: expected operator" },
		{ "[rpz z]\norigin = a..b\n", TC_EINVAL, "t.conf:2: origin: an empty label" },
		{ "[rpz z]\n[rpz z]\n", TC_EEXIST, "t.conf:2: [rpz z] already defined on line 1" },
		{ "[rpz z]\nsecret = x\n", TC_ENOTFOUND, "t.conf:2: unknown key \"secret\" in [rpz z]" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(&c, bad[i].text, &d), bad[i].rc);
		if (strncmp(d.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("%s: got \"%s\"", bad[i].text, d.msg);
	}
	/* cross-key checks */
	assert_int_equal(parse(&c, "[rpz z]\norigin = z.\nview = operator\ntsig_key = k\n", &d),
	                 TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "[rpz z] (line 1): tsig_secret_file is required"));
	snprintf(text, sizeof text,
	         "[rpz z]\norigin = z.\nview = operator\ntsig_key = k\ntsig_secret_file = %s\n",
	         secret);
	assert_int_equal(parse(&c, text, &d), TC_OK);
	assert_int_equal(conf_check(&c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "set [dns] listen"));
	/* a secret too short to be one */
	fd = open(secret, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "c2hvcnQ=\n", 9), 9);
	close(fd);
	char sec[CONF_TSIG_SECRET_MAX];
	assert_int_equal(conf_tsig_secret_read(secret, sec, &d), TC_EINVAL);
	unlink(secret);
	assert_int_equal(conf_tsig_secret_read(secret, sec, &d), TC_EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_overrides_and_check),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_api_roots),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_rpz_zones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
