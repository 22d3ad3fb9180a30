/*
 * Unit tests of lib/agent/agent_conf: the agent's configuration file is
 * read with its defaults, and each mistake is refused with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_conf.h"

static char path[64];

static enum tcerr
load(const char *text, struct agent_conf *c, struct diag *d)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	agent_conf_defaults(c);
	diag_clear(d);
	enum tcerr t = agent_conf_load(c, path, d);
	return t ? t : agent_conf_check(c, d);
}

static void
test_good(void **state)
{
	static struct agent_conf c;
	struct diag d;
	assert_int_equal(load("# agent\n[hub]\nurl = https://hub.example:8443\nkey = abc\n"
	                      "pinned_public_key = sha256//AAAA\n[filter]\nkind = ipv4 ipv6\n"
	                      "min_confidence = 50\n[agent]\nstate_file = /tmp/x\ndry_run = yes\n"
	                      "[nftables]\ntable = fw1\nhooks = input\n[file rpz]\nformat = rpz\n"
	                      "path = /tmp/z\nreload = rndc reload\n", &c, &d), TC_OK);
	assert_string_equal(c.url, "https://hub.example:8443");
	assert_string_equal(c.kinds, "ipv4 ipv6");
	assert_int_equal(c.min_confidence, 50);
	assert_true(c.dry_run);
	assert_string_equal(c.nft_table, "fw1");
	assert_int_equal(c.nfiles, 1);
	assert_string_equal(c.files[0].reload, "rndc reload");
	assert_int_equal(c.idle_timeout, 60); /* default */
}

static void
test_errors(void **state)
{
	static struct agent_conf c;
	struct diag d;
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\nbogus = 1\n", &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, ":4: unknown key 'bogus'"));
	assert_int_equal(load("[hub]\nurl = http://h\nurl = http://i\n", &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, ":3:"));
	assert_int_equal(load("[hub]\nurl = http://h\n", &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "key"));
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\npinned_public_key = sha256//A\n",
	                      &c, &d), TC_EINVAL);
	assert_non_null(strstr(d.msg, "https"));
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\n[filter]\nmin_confidence = 101\n",
	                      &c, &d), TC_EINVAL);
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\n[nftables]\ntable = a;b\n", &c, &d),
	                 TC_EINVAL);
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\n[nftables]\nhooks = input evil\n",
	                      &c, &d), TC_EINVAL);
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\n[file a]\nformat = stix\npath = /x\n",
	                      &c, &d), TC_EINVAL);
	assert_int_equal(load("[hub]\nurl = http://h\nkey = k\n[file a]\nformat = rpz\n"
	                      "[file a]\nformat = rpz\n", &c, &d), TC_EINVAL);
	assert_int_equal(load("[nope]\n", &c, &d), TC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
	};
	snprintf(path, sizeof path, "/tmp/agent-conf-%d", (int)getpid());
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
