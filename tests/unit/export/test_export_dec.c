/* Unit tests of lib/export's decision formats (export_dec.h): decisions
 * made here, as feed_snapshot() hands them out, written in every format;
 * each output checked by the program that consumes it where this machine
 * has it (named-checkzone, nft -c -f and ipset restore in a network
 * namespace of the test's own) and by a parser written from the format's
 * documentation otherwise (Suricata datasets and IP reputation, Zeek
 * intel, MISP feed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <nettle/md5.h>

#include "export/export_dec.h"
#include "export/export_query.h"
#include "index/allowlist.h"

static const int64_t NOW = INT64_C(1735689600000000); /* 2025-01-01T00:00:00Z */
#define HOUR INT64_C(3600000000)

static const struct feed_indicator IND_A[] = {
	{ "indicator--11111111-1111-4111-8111-111111111111", "main", "bank-a", TLP_GREEN, 80, 0 },
};
static const struct feed_indicator IND_B[] = {
	{ "indicator--22222222-2222-4222-8222-222222222222", "main", "cert-b", TLP_AMBER, 60, 0 },
	{ "indicator--33333333-3333-4333-8333-333333333333", "main", "bank-a", TLP_GREEN, 90, 0 },
};

#define DEC(k, v, until, conf, ind)                                                            \
	{ .kind = (k), .value = { (v), sizeof(v) - 1 }, .action = "block", .until_us = (until),  \
	  .confidence = (conf), .tlp = TLP_GREEN, .reason = "published",                         \
	  .nindicators = sizeof(ind) / sizeof((ind)[0]), .indicators = (ind) }

/* sorted by kind, then value, as feed_snapshot hands them out */
static const struct feed_decision decs[] = {
	DEC(OBS_IPV4, "10.0.0.0/8", NOW + HOUR, 80, IND_A),
	DEC(OBS_IPV4, "10.1.2.3", NOW + 2 * HOUR, 80, IND_A),       /* covered by 10/8 */
	DEC(OBS_IPV4, "198.51.100.7", 0, 90, IND_B),
	DEC(OBS_IPV4, "203.0.113.0/24", NOW + HOUR, -1, IND_A),
	DEC(OBS_IPV4, "8.8.8.8", 0, 90, IND_A),                     /* allowlisted */
	DEC(OBS_IPV6, "2001:db8::1", NOW + 90 * 1000000, 50, IND_A),
	DEC(OBS_IPV6, "2001:db8:0:1::/64", 0, 50, IND_B),
	DEC(OBS_IPV6, "2001:db8:1:0:0:0:0:0/48", 0, 50, IND_A),
	DEC(OBS_DOMAIN, "evil.example", 0, 80, IND_A),
	DEC(OBS_DOMAIN, "google.com", 0, 80, IND_A),                /* allowlisted */
	DEC(OBS_DOMAIN, "xn--exmple-cua.test", NOW + HOUR, 70, IND_B),
	DEC(OBS_URL, "http://evil.example/login?a=1", 0, 80, IND_A),
	DEC(OBS_EMAIL, "crook@evil.example", 0, 80, IND_A),
	DEC(OBS_MD5, "d41d8cd98f00b204e9800998ecf8427e", 0, 80, IND_A),
	DEC(OBS_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0, 80,
	    IND_B),
	DEC(OBS_PHONE, "+79991234567", 0, 80, IND_A),
	DEC(OBS_CARD, "hmac-sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
	    0, 80, IND_A),
	DEC(OBS_WALLET, "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT", 0, 80, IND_A),
};
#define NDECS (sizeof(decs) / sizeof(decs[0]))

struct sink {
	struct buf b;
};

static enum tcerr
sink_write(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;
	buf_append(&s->b, p, n);
	return buf_error(&s->b);
}

static struct allowlist *
allow(void)
{
	struct allowlist *al = NULL;
	assert_int_equal(allowlist_new(&al), TC_OK);
	assert_int_equal(allowlist_add(al, OBS_IPV4, slice_from_cstr("8.8.8.8"), "Google DNS"), TC_OK);
	assert_int_equal(allowlist_add(al, OBS_DOMAIN, slice_from_cstr("google.com"), "Google"),
	                 TC_OK);
	return al;
}

/* Writes decs in opts' format; returns the text (free()) and counts. */
static char *
run_export(struct export_dec_opts o, struct export_dec_counts *c, enum tcerr want_finish)
{
	struct sink s;
	struct export_dec_writer *w = NULL;
	struct diag d;
	struct allowlist *al = allow();
	buf_init(&s.b, 0);
	o.allow = al;
	o.now_us = NOW;
	if (!o.position)
		o.position = 4242;
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_OK);
	for (size_t i = 0; i < NDECS; i++)
		assert_int_equal(export_dec_writer_add(w, &decs[i], &d), TC_OK);
	assert_int_equal(export_dec_writer_finish(w, c, &d), want_finish);
	export_dec_writer_free(w);
	allowlist_free(al);
	buf_append_char(&s.b, '\0');
	size_t len;
	return buf_detach(&s.b, &len);
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* ---- the consumers ---- */

static char tmpdir[64];
static char netns[32];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tocsin-export-dec-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return 1;
	if (netns[0]) {
		snprintf(cmd, sizeof(cmd), "ip netns delete %s 2>/dev/null", netns);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}

static void
write_file(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Whether prog is on PATH (or in /usr/sbin, /sbin). */
static bool
have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin command -v %s >/dev/null 2>&1",
	         prog);
	return system(cmd) == 0;
}

/* A network namespace of this test (nft -c and ipset need one to touch
 * nothing of the host's). false when it cannot be made (not root). */
static bool
have_netns(void)
{
	if (netns[0])
		return true;
	if (getuid() != 0 || !have("ip"))
		return false;
	snprintf(netns, sizeof(netns), "tocsin-ut-%d", (int)getpid());
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin ip netns add %s 2>/dev/null", netns);
	if (system(cmd) != 0) {
		netns[0] = '\0';
		return false;
	}
	return true;
}

/* Runs cmd (a shell line) and returns its exit status; output in out. */
static int
run(const char *cmd, char *out, size_t n)
{
	char line[1024];
	snprintf(line, sizeof(line), "PATH=$PATH:/usr/sbin:/sbin %s 2>&1", cmd);
	FILE *p = popen(line, "r");
	assert_non_null(p);
	size_t got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- plain ---- */

static void
test_plain(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN }, &c, TC_OK);
	assert_true(has_line(t, "10.1.2.3"));
	assert_true(has_line(t, "hmac-sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"));
	assert_false(has_line(t, "8.8.8.8"));
	assert_false(has_line(t, "google.com"));
	assert_int_equal(c.written, NDECS - 2);
	assert_int_equal(c.left_out[EXPORT_LEFT_ALLOWLISTED], 2);
	assert_int_equal(c.allow.nreasons, 2);
	free(t);

	/* a device that takes 5: the first 5, the rest counted */
	t = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN, .max = 5 }, &c, TC_OK);
	assert_int_equal(c.written, 5);
	assert_int_equal(c.left_out[EXPORT_LEFT_MAX], NDECS - 2 - 5);
	free(t);

	/* pages of 4 put back together give the whole list, in order */
	char *all = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN }, &c, TC_OK);
	struct buf joined;
	buf_init(&joined, 0);
	for (uint64_t off = 0; off < NDECS; off += 4) {
		t = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN, .offset = off,
		                                         .limit = 4 },
		               &c, TC_OK);
		assert_true(c.written <= 4);
		buf_append_cstr(&joined, t);
		free(t);
	}
	buf_append_char(&joined, '\0');
	assert_string_equal(joined.p, all);
	buf_reset(&joined);
	free(all);

	/* URLs as PAN-OS URL lists take them */
	t = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN, .strip_scheme = true }, &c,
	               TC_OK);
	assert_true(has_line(t, "evil.example/login?a=1"));
	assert_false(has_line(t, "http://evil.example/login?a=1"));
	assert_true(has_line(t, "crook@evil.example"));
	free(t);

	/* kept, marked */
	t = run_export((struct export_dec_opts){ .format = EXPORT_PLAIN, .include_allowlisted = true },
	               &c, TC_OK);
	assert_non_null(strstr(t, "# allowlisted: Google DNS (allowlist allowlist_add)\n8.8.8.8\n"));
	assert_int_equal(c.allow.allowlisted_kept, 2);
	free(t);
}

/* ---- rpz ---- */

static void
test_rpz(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_RPZ }, &c, TC_OK);
	assert_true(has_line(t, "@ SOA localhost. hostmaster.rpz.tocsin. 4242 3600 600 86400 60"));
	assert_true(has_line(t, "evil.example CNAME ."));
	assert_true(has_line(t, "*.evil.example CNAME ."));
	assert_true(has_line(t, "32.7.100.51.198.rpz-ip CNAME ."));
	assert_true(has_line(t, "8.0.0.0.10.rpz-ip CNAME ."));
	assert_true(has_line(t, "24.0.113.0.203.rpz-ip CNAME ."));
	/* the draft's IPv6 form: words reversed, zeros as zz */
	assert_true(has_line(t, "128.1.zz.db8.2001.rpz-ip CNAME ."));
	assert_true(has_line(t, "64.zz.1.0.db8.2001.rpz-ip CNAME ."));
	assert_true(has_line(t, "48.zz.1.db8.2001.rpz-ip CNAME ."));
	assert_null(strstr(t, "google.com"));
	assert_null(strstr(t, "8.8.8.8.rpz-ip"));
	/* 4 IPv4, 3 IPv6, 2 domains; url, email, hashes, phone, card,
	 * wallet left out by kind */
	assert_int_equal(c.written, 9);
	assert_int_equal(c.left_out[EXPORT_LEFT_KIND], 7);
	assert_int_equal(c.kinds_left_out[OBS_URL], 1);
	char path[128], out[4096];
	write_file("rpz.zone", t, path, sizeof(path));
	free(t);
	if (!have("named-checkzone")) {
		fprintf(stderr, "named-checkzone not installed (bind9-utils): zone not checked\n");
		skip();
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "named-checkzone rpz.tocsin %s", path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "loaded serial 4242"));

	/* NODATA and a walled garden */
	t = run_export((struct export_dec_opts){ .format = EXPORT_RPZ,
	                                         .rpz_action = EXPORT_RPZ_NODATA },
	               &c, TC_OK);
	assert_true(has_line(t, "evil.example CNAME *."));
	free(t);
	t = run_export((struct export_dec_opts){ .format = EXPORT_RPZ, .rpz_action = EXPORT_RPZ_CNAME,
	                                         .rpz_cname = "garden.example.net",
	                                         .rpz_origin = "block.example." },
	               &c, TC_OK);
	assert_true(has_line(t, "evil.example CNAME garden.example.net."));
	write_file("garden.zone", t, path, sizeof(path));
	free(t);
	snprintf(cmd, sizeof(cmd), "named-checkzone block.example %s", path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
}

static void
test_rpz_bad_names(void **state)
{
	(void)state;
	struct export_dec_writer *w = NULL;
	struct diag d;
	struct sink s;
	struct export_dec_opts o = { .format = EXPORT_RPZ, .rpz_action = EXPORT_RPZ_CNAME };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	o.rpz_cname = "bad name;";
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	o = (struct export_dec_opts){ .format = EXPORT_RPZ, .rpz_origin = "a..b" };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	assert_null(w);
}

/* ---- nft ---- */

static void
test_nft(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_NFT }, &c, TC_OK);
	assert_non_null(strstr(t, "add set inet tocsin v4 { type ipv4_addr; flags interval,timeout; }"));
	assert_non_null(strstr(t, "10.0.0.0/8 timeout 1h"));
	assert_null(strstr(t, "10.1.2.3"));           /* covered by 10/8 */
	assert_null(strstr(t, "8.8.8.8"));
	assert_non_null(strstr(t, "198.51.100.7, ")); /* no timeout: never expires */
	assert_non_null(strstr(t, "2001:db8::1 timeout 1m30s"));
	assert_int_equal(c.left_out[EXPORT_LEFT_COVERED], 1);
	assert_int_equal(c.left_out[EXPORT_LEFT_ALLOWLISTED], 1);
	assert_int_equal(c.written, 6);
	char path[128], out[4096], cmd[512];
	write_file("tocsin.nft", t, path, sizeof(path));
	free(t);
	if (!have("nft") || !have_netns()) {
		fprintf(stderr, "nft (nftables) or a network namespace (root) missing: not checked\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft -c -f %s", netns, path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	/* loaded twice (a reload): the same set, replaced */
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft -f %s && ip netns exec %s nft -f %s && "
	                           "ip netns exec %s nft list set inet tocsin v4",
	         netns, path, netns, path, netns);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "198.51.100.7"));
	assert_non_null(strstr(out, "203.0.113.0/24"));
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft delete table inet tocsin", netns);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
}

/* Many elements, given out of numeric order (as a snapshot's text order
 * is): several statements, sorted by address, those inside a listed
 * network left out, every statement accepted by nft. */
static void
test_nft_many(void **state)
{
	(void)state;
	struct sink s;
	struct export_dec_writer *w = NULL;
	struct diag d;
	struct export_dec_opts o = { .format = EXPORT_NFT, .now_us = NOW, .name = "many" };
	buf_init(&s.b, 0);
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_OK);
	char v[64];
	const unsigned N = 6000; /* past the radix sort's threshold */
	for (unsigned k = 0; k < N; k++) {
		unsigned i = (k * 7919u) % N; /* every index once, scattered */
		int n = snprintf(v, sizeof(v), "192.0.%u.%u", 2 + i / 250, 1 + i % 250);
		/* no end, an hour, 20 years (past what nft takes in seconds) */
		int64_t until = i % 3 == 0 ? 0 : i % 3 == 1 ? NOW + HOUR : NOW + 20 * 8766 * HOUR + 5;
		struct feed_decision dec = { .kind = OBS_IPV4, .value = { v, (size_t)n },
		                             .until_us = until, .confidence = -1 };
		assert_int_equal(export_dec_writer_add(w, &dec, &d), TC_OK);
	}
	/* a network holding 250 of them */
	struct feed_decision net = { .kind = OBS_IPV4, .value = { "192.0.5.0/24", 12 },
	                             .confidence = -1 };
	assert_int_equal(export_dec_writer_add(w, &net, &d), TC_OK);
	struct export_dec_counts c;
	assert_int_equal(export_dec_writer_finish(w, &c, &d), TC_OK);
	export_dec_writer_free(w);
	assert_int_equal(c.written, N + 1 - 250);
	assert_int_equal(c.left_out[EXPORT_LEFT_COVERED], 250);
	buf_append_char(&s.b, '\0');
	assert_non_null(strstr(s.b.p, "192.0.2.3 timeout 7305d1s"));
	assert_null(strstr(s.b.p, "192.0.5.1 "));
	assert_non_null(strstr(s.b.p, "192.0.5.0/24, 192.0.6.1"));
	/* ascending: each element's address after the one before */
	uint32_t prev = 0;
	size_t seen = 0;
	for (const char *p = s.b.p; (p = strstr(p, "192.0.")); p++) {
		unsigned x, y;
		assert_int_equal(sscanf(p, "192.0.%u.%u", &x, &y), 2);
		uint32_t a = x << 8 | y;
		assert_true(a > prev || seen == 0);
		prev = a;
		seen++;
	}
	assert_int_equal(seen, N + 1 - 250);
	char path[128], out[4096], cmd[512];
	write_file("many.nft", s.b.p, path, sizeof(path));
	buf_reset(&s.b);
	if (!have("nft") || !have_netns()) {
		fprintf(stderr, "nft (nftables) or a network namespace (root) missing: not checked\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft -c -f %s", netns, path);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
}

/* ---- ipset ---- */

static void
test_ipset(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_IPSET }, &c, TC_OK);
	assert_non_null(strstr(t, "add tocsin-v4-tmp 10.1.2.3 timeout 7200 -exist\n"));
	assert_non_null(strstr(t, "add tocsin-v4-tmp 198.51.100.7 timeout 0 -exist\n"));
	assert_non_null(strstr(t, "add tocsin-v6-tmp 2001:db8:0:1::/64 timeout 0 -exist\n"));
	assert_non_null(strstr(t, "swap tocsin-v4-tmp tocsin-v4\n"));
	assert_null(strstr(t, "8.8.8.8"));
	assert_int_equal(c.written, 7);
	char path[128], out[8192], cmd[768];
	write_file("tocsin.ipset", t, path, sizeof(path));
	free(t);
	if (!have("ipset") || !have_netns()) {
		fprintf(stderr, "ipset or a network namespace (root) missing: not checked\n");
		skip();
	}
	/* restored twice (a reload), then listed */
	snprintf(cmd, sizeof(cmd),
	         "ip netns exec %s ipset restore < %s && ip netns exec %s ipset restore < %s && "
	         "ip netns exec %s ipset list tocsin-v4 && ip netns exec %s ipset list -n",
	         netns, path, netns, path, netns, netns);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Number of entries: 4"));
	assert_non_null(strstr(out, "10.0.0.0/8 timeout"));
	assert_null(strstr(out, "tocsin-v4-tmp")); /* destroyed after the swap */
	snprintf(cmd, sizeof(cmd), "ip netns exec %s ipset destroy", netns);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
}

/* ---- suricata ---- */

/* RFC 4648 base64 decoding, for the check; returns the length or -1. */
static int
b64dec(const char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int len = 0;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			const char *p = in[i + j] == '=' ? NULL : strchr(t, in[i + j]);
			if (!p && in[i + j] != '=')
				return -1;
			v[j] = p ? (int)(p - t) : -1;
		}
		out[len++] = (char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[len++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			out[len++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	return len;
}

static void
test_suricata_dataset(void **state)
{
	(void)state;
	struct export_dec_counts c;
	/* type string: base64 a line (Suricata "Datasets": load files) */
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_DATASET,
	                                               .part = "domains" },
	                     &c, TC_OK);
	char dec[256];
	size_t lines = 0;
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		int n = b64dec(line, strlen(line), dec);
		assert_true(n > 0);
		dec[n] = '\0';
		assert_true(strcmp(dec, "evil.example") == 0 || strcmp(dec, "xn--exmple-cua.test") == 0);
	}
	assert_int_equal(lines, 2);
	assert_int_equal(c.written, 2);
	free(t);
	t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_DATASET, .part = "urls" },
	               &c, TC_OK);
	int n = b64dec(t, strlen(t) - 1, dec);
	assert_int_equal(n, (int)strlen("http://evil.example/login?a=1"));
	assert_memory_equal(dec, "http://evil.example/login?a=1", (size_t)n);
	free(t);
	/* md5 and sha256: hex of the exact length */
	t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_DATASET, .part = "sha256" },
	               &c, TC_OK);
	assert_string_equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
	free(t);
	/* ip: addresses only */
	t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_DATASET, .part = "ip" },
	               &c, TC_OK);
	assert_string_equal(t, "10.1.2.3\n198.51.100.7\n2001:db8::1\n");
	assert_int_equal(c.kinds_left_out[OBS_IPV4], 2); /* the networks */
	free(t);
}

static void
test_suricata_iprep(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_IPREP,
	                                               .part = "categories" },
	                     &c, TC_OK);
	/* "<id>,<short name>,<description>", id at most 60 */
	int id = 0;
	char shortname[32];
	assert_int_equal(sscanf(t, "%d,%31[^,],", &id, shortname), 2);
	assert_true(id >= 1 && id <= 60);
	assert_string_equal(shortname, "tocsin");
	free(t);
	t = run_export((struct export_dec_opts){ .format = EXPORT_SURICATA_IPREP,
	                                         .part = "reputation" },
	               &c, TC_OK);
	/* "<ip>,<category>,<score>", score 1..127 */
	size_t lines = 0;
	for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		char ip[64];
		int cat, score;
		assert_int_equal(sscanf(line, "%63[^,],%d,%d", ip, &cat, &score), 3);
		assert_int_equal(cat, id);
		assert_true(score >= 1 && score <= 127);
		if (strcmp(ip, "203.0.113.0/24") == 0)
			assert_int_equal(score, 127); /* no confidence */
		if (strcmp(ip, "198.51.100.7") == 0)
			assert_int_equal(score, 114); /* 90 of 100 */
	}
	assert_int_equal(lines, 7);
	free(t);
}

/* ---- zeek ---- */

static void
test_zeek(void **state)
{
	(void)state;
	struct export_dec_counts c;
	char *t = run_export((struct export_dec_opts){ .format = EXPORT_ZEEK }, &c, TC_OK);
	/* Zeek "Loading Intelligence": a #fields line naming the columns,
	 * then tab-separated rows with as many columns */
	char *save = NULL;
	size_t ncols = 0, rows = 0;
	bool url = false;
	for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "#fields\t", 8) == 0) {
			assert_string_equal(line,
			                    "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc");
			ncols = 4;
			continue;
		}
		if (line[0] == '#')
			continue;
		assert_int_equal(ncols, 4); /* the header came first */
		size_t cols = 1;
		for (char *p = line; *p; p++)
			cols += *p == '\t';
		assert_int_equal(cols, ncols);
		char ind[256], type[32];
		assert_int_equal(sscanf(line, "%255[^\t]\t%31[^\t]", ind, type), 2);
		assert_true(strncmp(type, "Intel::", 7) == 0);
		if (strcmp(type, "Intel::URL") == 0) {
			assert_string_equal(ind, "evil.example/login?a=1");
			url = true;
		}
		if (strcmp(ind, "10.0.0.0/8") == 0)
			assert_string_equal(type, "Intel::SUBNET");
		if (strcmp(ind, "crook@evil.example") == 0)
			assert_string_equal(type, "Intel::EMAIL");
		rows++;
	}
	assert_true(url);
	/* 7 addresses/networks, 2 domains, url, email, md5, sha256 */
	assert_int_equal(rows, 13);
	assert_int_equal(c.kinds_left_out[OBS_PHONE], 1);
	free(t);
}

/* ---- misp-feed ---- */

static char *
misp_part(const char *part, enum tcerr want)
{
	struct export_dec_counts c;
	return run_export((struct export_dec_opts){ .format = EXPORT_MISP_FEED, .part = part,
	                                            .feed_name = "hub-ru" },
	                  &c, want);
}

static void
md5hex(const char *s, char out[33])
{
	struct md5_ctx m;
	uint8_t dig[16];
	md5_init(&m);
	md5_update(&m, strlen(s), (const uint8_t *)s);
	md5_digest(&m, 16, dig);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", dig[i]);
}

static void
test_misp_feed(void **state)
{
	(void)state;
	/* MISP's feed: manifest.json names the events; each <uuid>.json is
	 * {"Event": {... "Attribute": [...]}}; hashes.csv holds
	 * md5(value),event-uuid for every attribute */
	char *m = misp_part("manifest.json", TC_OK);
	json_error_t je;
	json_t *man = json_loads(m, 0, &je);
	assert_non_null(man);
	free(m);
	/* events: bank-a green, cert-b amber */
	assert_int_equal(json_object_size(man), 2);
	char *h = misp_part("hashes.csv", TC_OK);
	size_t nhash = 0;
	for (const char *p = h; *p; p = strchr(p, '\n') + 1)
		nhash++;
	size_t nattr = 0;
	const char *uuid;
	json_t *entry;
	json_object_foreach(man, uuid, entry) {
		assert_non_null(json_object_get(entry, "info"));
		assert_non_null(json_object_get(json_object_get(entry, "Orgc"), "uuid"));
		assert_true(json_is_integer(json_object_get(entry, "timestamp")));
		assert_int_equal(strlen(json_string_value(json_object_get(entry, "date"))), 10);
		char part[64];
		snprintf(part, sizeof(part), "%s.json", uuid);
		char *e = misp_part(part, TC_OK);
		json_t *ev = json_loads(e, 0, &je);
		free(e);
		assert_non_null(ev);
		json_t *event = json_object_get(ev, "Event");
		assert_string_equal(json_string_value(json_object_get(event, "uuid")), uuid);
		assert_string_equal(json_string_value(json_object_get(event, "info")),
		                    json_string_value(json_object_get(entry, "info")));
		json_t *attrs = json_object_get(event, "Attribute");
		assert_true(json_array_size(attrs) > 0);
		size_t i;
		json_t *a;
		json_array_foreach(attrs, i, a) {
			const char *v = json_string_value(json_object_get(a, "value"));
			const char *type = json_string_value(json_object_get(a, "type"));
			assert_non_null(v);
			assert_non_null(type);
			assert_true(json_is_true(json_object_get(a, "to_ids")));
			char line[128], hex[33];
			md5hex(v, hex);
			snprintf(line, sizeof(line), "%s,%s", hex, uuid);
			assert_true(has_line(h, line));
			assert_string_not_equal(v, "8.8.8.8");
			if (strcmp(type, "btc") == 0)
				assert_string_equal(v, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT");
			nattr++;
		}
		json_decref(ev);
	}
	/* every line of hashes.csv is an attribute of an event */
	assert_int_equal(nattr, nhash);
	free(h);
	json_decref(man);
	/* an event nobody has */
	free(misp_part("00000000-0000-4000-8000-000000000000.json", TC_ENOTFOUND));
}

static void
test_bad_parts(void **state)
{
	(void)state;
	struct export_dec_writer *w = NULL;
	struct diag d;
	struct sink s;
	struct export_dec_opts o = { .format = EXPORT_MISP_FEED, .part = "../etc/passwd" };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	o = (struct export_dec_opts){ .format = EXPORT_SURICATA_DATASET, .part = "sha1" };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	o = (struct export_dec_opts){ .format = EXPORT_NFT, .name = "bad name" };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	o = (struct export_dec_opts){ .format = EXPORT_STIX };
	assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_EINVAL);
	assert_null(w);
	enum export_format f;
	assert_int_equal(export_format_parse("suricata-dataset", &f), TC_OK);
	assert_int_equal(f, EXPORT_SURICATA_DATASET);
	assert_int_equal(export_format_parse("misp-feed", &f), TC_OK);
	assert_int_equal(export_format_parse("misp", &f), TC_EINVAL);
}

/* A decision the hub only alerts on: monitors see it, blockers do not. */
static void
test_alert_is_not_blocked(void **state)
{
	(void)state;
	struct feed_decision dec = DEC(OBS_IPV4, "185.220.101.9", 0, 20, IND_A);
	dec.action = "alert";
	enum export_format fmts[] = { EXPORT_PLAIN, EXPORT_RPZ, EXPORT_NFT, EXPORT_IPSET,
		                      EXPORT_ZEEK, EXPORT_SURICATA_IPREP };
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct sink s;
		struct export_dec_writer *w = NULL;
		struct diag d;
		struct export_dec_counts c;
		struct export_dec_opts o = { .format = fmts[i], .now_us = NOW, .part = NULL };
		if (fmts[i] == EXPORT_SURICATA_IPREP)
			o.part = "reputation";
		buf_init(&s.b, 0);
		assert_int_equal(export_dec_writer_new(&o, sink_write, &s, &w, &d), TC_OK);
		assert_int_equal(export_dec_writer_add(w, &dec, &d), TC_OK);
		assert_int_equal(export_dec_writer_finish(w, &c, &d), TC_OK);
		export_dec_writer_free(w);
		buf_append_char(&s.b, '\0');
		bool blocks = fmts[i] != EXPORT_ZEEK && fmts[i] != EXPORT_SURICATA_IPREP;
		bool has = strstr(s.b.p, "185.220.101.9") || strstr(s.b.p, "9.101.220.185");
		assert_int_equal(has, !blocks);
		assert_int_equal(c.left_out[EXPORT_LEFT_ALERT], blocks ? 1 : 0);
		buf_reset(&s.b);
	}
}

static void
test_query(void **state)
{
	(void)state;
	static struct export_query q;
	struct diag d;
	assert_int_equal(export_query_parse(slice_from_cstr("kind=ipv4&&tlp=amber%2Bstrict&x&a+b=c+d"),
	                                    &q, &d), TC_OK);
	assert_int_equal(q.n, 4);
	assert_string_equal(q.key[0], "kind");
	assert_string_equal(q.value[1], "amber+strict");
	assert_string_equal(q.key[2], "x");
	assert_string_equal(q.value[2], "");
	assert_string_equal(q.key[3], "a b");
	assert_string_equal(q.value[3], "c d");
	assert_int_equal(export_query_parse(slice_from_cstr("a=%0a"), &q, &d), TC_EINVAL);
	assert_int_equal(export_query_parse(slice_from_cstr("a=%2"), &q, &d), TC_EINVAL);
	assert_int_equal(export_query_parse(slice_from_cstr("=x"), &q, &d), TC_EINVAL);
	char many[1024] = "";
	for (int i = 0; i <= EXPORT_QUERY_MAX_PARAMS; i++)
		memcpy(many + 4 * i, "a=1&", 5);
	assert_int_equal(export_query_parse(slice_from_cstr(many), &q, &d), TC_ELIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_rpz),
		cmocka_unit_test(test_rpz_bad_names),
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_nft_many),
		cmocka_unit_test(test_ipset),
		cmocka_unit_test(test_suricata_dataset),
		cmocka_unit_test(test_suricata_iprep),
		cmocka_unit_test(test_zeek),
		cmocka_unit_test(test_misp_feed),
		cmocka_unit_test(test_bad_parts),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_alert_is_not_blocked),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
