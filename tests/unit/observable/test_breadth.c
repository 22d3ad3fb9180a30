/* Unit tests of lib/observable/obs_breadth.c: values an indicator may not
 * name because blocking them would block everything (issue 8, point 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "observable/observable.h"

static void
refused(const struct obs_ctx *ctx, enum obs_kind k, const char *v, const char *says)
{
	struct diag d;
	diag_clear(&d);
	enum tcerr rc = obs_breadth_check(ctx, k, slice_from_cstr(v), &d);
	if (rc != TC_EINVAL || !strstr(d.msg, says))
		fail_msg("%s: rc %d, message '%s', want '%s'", v, rc, d.msg, says);
}

static void
passes(const struct obs_ctx *ctx, enum obs_kind k, const char *v)
{
	struct diag d;
	diag_clear(&d);
	if (obs_breadth_check(ctx, k, slice_from_cstr(v), &d) != TC_OK)
		fail_msg("%s: refused: %s", v, d.msg);
}

static void
test_networks_default(void **state)
{
	refused(NULL, OBS_IPV4, "0.0.0.0/0", "'0.0.0.0/0' would block every IPv4 address");
	refused(NULL, OBS_IPV6, "::/0", "'::/0' would block every IPv6 address");
	refused(NULL, OBS_IPV4, "128.0.0.0/1", "wider than /8 (widest_prefix_v4)");
	refused(NULL, OBS_IPV4, "44.0.0.0/7", "wider than /8");
	refused(NULL, OBS_IPV6, "2000::/3", "wider than /32 (widest_prefix_v6)");
	refused(NULL, OBS_IPV6, "2001::/31", "wider than /32");
	passes(NULL, OBS_IPV4, "45.0.0.0/8");
	passes(NULL, OBS_IPV4, "198.51.100.7");
	passes(NULL, OBS_IPV4, "0.0.0.0");
	passes(NULL, OBS_IPV6, "2001:db8::/32");
	passes(NULL, OBS_IPV6, "2001:db8::1");
}

static void
test_networks_configured(void **state)
{
	struct obs_ctx c = { .widest_prefix_v4 = 24, .widest_prefix_v6 = 64 };
	refused(&c, OBS_IPV4, "45.0.0.0/8", "wider than /24");
	refused(&c, OBS_IPV4, "45.1.2.0/23", "wider than /24");
	passes(&c, OBS_IPV4, "45.1.2.0/24");
	refused(&c, OBS_IPV6, "2001:db8::/48", "wider than /64");
	passes(&c, OBS_IPV6, "2001:db8:0:1::/64");
	struct obs_ctx wide = { .widest_prefix_v4 = 1, .widest_prefix_v6 = 1 };
	passes(&wide, OBS_IPV4, "128.0.0.0/1");
	refused(&wide, OBS_IPV4, "0.0.0.0/0", "every IPv4 address"); /* never */
}

static void
test_domains(void **state)
{
	refused(NULL, OBS_DOMAIN, "com", "'com' is a top-level domain");
	refused(NULL, OBS_DOMAIN, "xn--p1ai", "top-level domain");
	refused(NULL, OBS_DOMAIN, "co.uk", "'co.uk' is a public suffix");
	refused(NULL, OBS_DOMAIN, "github.io", "public suffix"); /* private section */
	refused(NULL, OBS_DOMAIN, "com.ru", "public suffix");
	passes(NULL, OBS_DOMAIN, "evil.example");
	passes(NULL, OBS_DOMAIN, "evil.co.uk");
	passes(NULL, OBS_DOMAIN, "someone.github.io");
	passes(NULL, OBS_DOMAIN, "example.com");
	/* other kinds are not judged */
	passes(NULL, OBS_URL, "http://com/");
	passes(NULL, OBS_EMAIL, "a@co.uk");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks_default),
		cmocka_unit_test(test_networks_configured),
		cmocka_unit_test(test_domains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
