/*
 * Unit tests of lib/stix/stix_pattern.c and stix_pattern_exact.c: the
 * golden valid/invalid pattern files, the AST the parser builds, the exact
 * values it reports, canonical printing and the named limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stix/stix_pattern.h"
#include "util/buf.h"
#include "util/timestamp.h"

#ifndef DATA_DIR
#error "DATA_DIR must point to tests/data/patterns"
#endif

/* ---- helpers ---------------------------------------------------------- */

static struct stix_pattern *
parse_ok(const char *text)
{
	struct stix_pattern *p = NULL;
	struct diag d;
	enum tcerr rc = stix_pattern_parse(slice_from_cstr(text), NULL, &p, &d);
	if (rc != TC_OK)
		fail_msg("%s: %s", text, d.msg);
	assert_non_null(p);
	return p;
}

static enum tcerr
parse_err(const char *text, const struct sp_limits *lim, struct diag *d)
{
	struct stix_pattern *p = NULL;
	enum tcerr rc = stix_pattern_parse(slice_from_cstr(text), lim, &p, d);
	assert_null(p);
	return rc;
}

static char *
print_str(const struct stix_pattern *p)
{
	struct buf b;
	buf_init(&b, 0);
	stix_pattern_print(p, &b);
	assert_int_equal(buf_error(&b), TC_OK);
	return buf_detach(&b, NULL);
}

static void
assert_prints(const char *in, const char *want)
{
	struct stix_pattern *p = parse_ok(in);
	char *s = print_str(p);
	assert_string_equal(s, want);
	free(s);
	stix_pattern_free(p);
}

/* Reads a golden file into memory; lines are split in place. */
static char *
read_file(const char *name, size_t *len)
{
	char path[1024];
	int n = snprintf(path, sizeof(path), "%s/%s", DATA_DIR, name);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* ---- golden files ----------------------------------------------------- */

/* Every valid pattern parses, and print(parse(print(parse(x)))) is stable. */
static void
test_golden_valid(void **state)
{
	size_t len;
	char *data = read_file("valid.txt", &len);
	int lines = 0;

	for (char *line = data, *nl; line < data + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(data + len - line));
		if (!nl)
			nl = data + len;
		*nl = '\0';
		lines++;
		struct stix_pattern *p = NULL, *q = NULL;
		struct diag d;
		if (stix_pattern_parse(slice_make(line, (size_t)(nl - line)), NULL, &p, &d))
			fail_msg("valid.txt:%d: %s: %s", lines, line, d.msg);
		char *s1 = print_str(p);
		if (stix_pattern_parse(slice_from_cstr(s1), NULL, &q, &d))
			fail_msg("valid.txt:%d: printed %s does not parse: %s", lines, s1, d.msg);
		char *s2 = print_str(q);
		if (strcmp(s1, s2) != 0)
			fail_msg("valid.txt:%d: print unstable:\n%s\n%s", lines, s1, s2);
		assert_int_equal(p->nnodes, q->nnodes);
		free(s1);
		free(s2);
		stix_pattern_free(p);
		stix_pattern_free(q);
	}
	assert_true(lines >= 80);
	free(data);
}

/* Every invalid pattern fails with exactly the message after the TAB, and
 * diag.column agrees with the column in the message. */
static void
test_golden_invalid(void **state)
{
	size_t len;
	char *data = read_file("invalid.txt", &len);
	int lines = 0;

	for (char *line = data, *nl; line < data + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(data + len - line));
		if (!nl)
			nl = data + len;
		*nl = '\0';
		lines++;
		char *tab = strchr(line, '\t');
		if (!tab)
			fail_msg("invalid.txt:%d: no TAB", lines);
		*tab = '\0';
		const char *want = tab + 1;
		struct stix_pattern *p = NULL;
		struct diag d;
		enum tcerr rc =
		    stix_pattern_parse(slice_make(line, (size_t)(tab - line)), NULL, &p, &d);
		if (rc == TC_OK)
			fail_msg("invalid.txt:%d: %s: parsed", lines, line);
		assert_int_equal(rc, TC_EINVAL);
		if (strcmp(d.msg, want) != 0)
			fail_msg("invalid.txt:%d: %s:\n got  %s\n want %s", lines, line, d.msg,
			         want);
		long col = 0;
		assert_int_equal(sscanf(d.msg, "column %ld:", &col), 1);
		assert_int_equal(col, d.column);
	}
	assert_true(lines >= 60);
	free(data);
}

/* ---- AST ---------------------------------------------------------------- */

static void
test_precedence(void **state)
{
	/* FOLLOWEDBY < OR < AND: a AND b OR c FOLLOWEDBY d = ((a AND b) OR c) FOLLOWEDBY d */
	struct stix_pattern *p =
	    parse_ok("[a:b = 1] AND [c:d = 2] OR [e:f = 3] FOLLOWEDBY [g:h = 4]");
	const struct sp_node *r = p->root;
	assert_int_equal(r->kind, SP_FOLLOWEDBY);
	assert_int_equal(r->right->kind, SP_OBSERVATION);
	assert_string_equal(r->right->left->path.type, "g");
	assert_int_equal(r->left->kind, SP_OBS_OR);
	assert_int_equal(r->left->left->kind, SP_OBS_AND);
	assert_int_equal(r->left->right->kind, SP_OBSERVATION);
	assert_int_equal(p->nnodes, 11);
	assert_int_equal(r->column, 1);
	assert_int_equal(r->right->column, 49);
	stix_pattern_free(p);

	/* left associativity */
	p = parse_ok("[a:b = 1] OR [c:d = 2] OR [e:f = 3]");
	assert_int_equal(p->root->kind, SP_OBS_OR);
	assert_int_equal(p->root->left->kind, SP_OBS_OR);
	assert_int_equal(p->root->right->kind, SP_OBSERVATION);
	stix_pattern_free(p);

	/* comparison level: OR below AND, parentheses override */
	p = parse_ok("[a:b = 1 OR c:d = 2 AND e:f = 3]");
	const struct sp_node *c = p->root->left;
	assert_int_equal(c->kind, SP_CMP_OR);
	assert_int_equal(c->left->kind, SP_COMPARISON);
	assert_int_equal(c->right->kind, SP_CMP_AND);
	stix_pattern_free(p);
	p = parse_ok("[(a:b = 1 OR c:d = 2) AND e:f = 3]");
	c = p->root->left;
	assert_int_equal(c->kind, SP_CMP_AND);
	assert_int_equal(c->left->kind, SP_CMP_OR);
	stix_pattern_free(p);
}

static void
test_qualifiers(void **state)
{
	struct stix_pattern *p =
	    parse_ok("[a:b = 1] REPEATS 5 TIMES WITHIN 180 SECONDS START t'2016-06-01T00:00:00Z' "
	             "STOP t'2016-07-01T00:00:00.5Z'");
	const struct sp_node *o = p->root;
	assert_int_equal(o->kind, SP_OBSERVATION);
	assert_true(o->has_repeats);
	assert_int_equal(o->repeats, 5);
	assert_true(o->has_within);
	assert_true(o->within_seconds == 180.0);
	assert_true(o->has_start_stop);
	assert_int_equal(o->start_us, 1464739200000000LL);
	assert_int_equal(o->stop_us, 1467331200500000LL);
	assert_false(o->within_first);
	stix_pattern_free(p);
	p = parse_ok("[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES");
	assert_true(p->root->within_first);
	stix_pattern_free(p);

	/* a qualifier after a group applies to the group's node */
	p = parse_ok("([a:b = 1] FOLLOWEDBY [c:d = 2]) WITHIN 2.5 SECONDS");
	assert_int_equal(p->root->kind, SP_FOLLOWEDBY);
	assert_true(p->root->has_within);
	assert_true(p->root->within_seconds == 2.5);
	assert_false(p->root->left->has_within);
	stix_pattern_free(p);

	/* qualifiers bind tighter than AND */
	p = parse_ok("[a:b = 1] AND [c:d = 2] REPEATS 2 TIMES");
	assert_int_equal(p->root->kind, SP_OBS_AND);
	assert_false(p->root->has_repeats);
	assert_true(p->root->right->has_repeats);
	stix_pattern_free(p);
}

static void
test_constants(void **state)
{
	struct stix_pattern *p = parse_ok("[a:b IN ('it\\'s \\\\', -42, 1.5, true, b'AAEC/w==', "
	                                  "h'00fF', t'2016-04-06T20:03:48.123456789Z', -.25)]");
	const struct sp_node *c = p->root->left;
	assert_int_equal(c->op, SP_OP_IN);
	assert_int_equal(c->value.kind, SP_CONST_SET);
	assert_int_equal(c->value.nitems, 8);
	const struct sp_const *it = c->value.items;
	assert_int_equal(it[0].kind, SP_CONST_STRING);
	assert_int_equal(it[0].len, 6);
	assert_memory_equal(it[0].str, "it's \\", 6);
	assert_int_equal(it[1].kind, SP_CONST_INT);
	assert_int_equal(it[1].i, -42);
	assert_int_equal(it[2].kind, SP_CONST_FLOAT);
	assert_true(it[2].f == 1.5);
	assert_int_equal(it[3].kind, SP_CONST_BOOL);
	assert_true(it[3].b);
	assert_int_equal(it[4].kind, SP_CONST_BINARY);
	assert_int_equal(it[4].len, 4);
	assert_memory_equal(it[4].str, "\x00\x01\x02\xff", 4);
	assert_int_equal(it[5].kind, SP_CONST_HEX);
	assert_int_equal(it[5].len, 2);
	assert_memory_equal(it[5].str, "\x00\xff", 2);
	assert_int_equal(it[6].kind, SP_CONST_TIMESTAMP);
	assert_string_equal(it[6].str, "2016-04-06T20:03:48.123456789Z");
	assert_int_equal(it[6].ts_us, 1459973028123456LL);
	assert_int_equal(it[7].kind, SP_CONST_FLOAT);
	assert_true(it[7].f == -0.25);
	stix_pattern_free(p);

	p = parse_ok(
	    "[a:b = -9223372036854775808 AND a:c = 9223372036854775807 AND a:d = b'QQ==']");
	c = p->root->left;
	assert_int_equal(c->left->left->value.i, INT64_MIN);
	assert_int_equal(c->left->right->value.i, INT64_MAX);
	assert_int_equal(c->right->value.len, 1);
	assert_memory_equal(c->right->value.str, "A", 1);
	stix_pattern_free(p);

	p = parse_ok("[a:b IN ()]");
	assert_int_equal(p->root->left->value.kind, SP_CONST_SET);
	assert_int_equal(p->root->left->value.nitems, 0);
	stix_pattern_free(p);
}

static void
test_paths(void **state)
{
	struct stix_pattern *p =
	    parse_ok("[file:extensions.'windows-pebinary-ext'.sections[*].entropy[-1][+2] > 7.0]");
	const struct sp_node *c = p->root->left;
	assert_string_equal(c->path.type, "file");
	assert_int_equal(c->path.nsteps, 7);
	const struct sp_step *s = c->path.steps;
	assert_int_equal(s[0].kind, SP_STEP_KEY);
	assert_string_equal(s[0].key, "extensions");
	assert_string_equal(s[1].key, "windows-pebinary-ext");
	assert_string_equal(s[2].key, "sections");
	assert_int_equal(s[3].kind, SP_STEP_ANY);
	assert_string_equal(s[4].key, "entropy");
	assert_int_equal(s[5].kind, SP_STEP_INDEX);
	assert_int_equal(s[5].index, -1);
	assert_int_equal(s[6].index, 2);
	assert_int_equal(c->op, SP_OP_GT);
	stix_pattern_free(p);

	p = parse_ok("[x-custom:'first key'.'it\\'s' NOT = 'v']");
	c = p->root->left;
	assert_string_equal(c->path.type, "x-custom");
	assert_string_equal(c->path.steps[0].key, "first key");
	assert_string_equal(c->path.steps[1].key, "it's");
	assert_true(c->negated);
	stix_pattern_free(p);

	p = parse_ok("[NOT EXISTS network-traffic:dst_ref.value]");
	c = p->root->left;
	assert_int_equal(c->kind, SP_EXISTS);
	assert_true(c->negated);
	assert_int_equal(c->path.nsteps, 2);
	assert_string_equal(c->path.steps[0].key, "dst_ref");
	stix_pattern_free(p);
}

/* ---- exact values ----------------------------------------------------- */

struct got {
	int n;
	char path[8][128];
	char value[8][128];
	bool suff[8];
};

static enum tcerr
collect(void *ctx, const char *path_text, struct slice value, bool sufficient)
{
	struct got *g = ctx;
	if (g->n >= 8)
		return TC_ELIMIT;
	snprintf(g->path[g->n], sizeof(g->path[0]), "%s", path_text);
	snprintf(g->value[g->n], sizeof(g->value[0]), "%.*s", (int)value.len, value.p);
	g->suff[g->n] = sufficient;
	g->n++;
	return TC_OK;
}

static struct got
exact(const char *text)
{
	struct got g = {0};
	struct stix_pattern *p = parse_ok(text);
	assert_int_equal(stix_pattern_exact(p, collect, &g), TC_OK);
	stix_pattern_free(p);
	return g;
}

static void
test_exact_or_in(void **state)
{
	struct got g =
	    exact("[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '203.0.113.33'] "
	          "OR [file:hashes.'SHA-256' = 'aa\\'b']");
	assert_int_equal(g.n, 3);
	assert_string_equal(g.path[0], "ipv4-addr:value");
	assert_string_equal(g.value[0], "198.51.100.1");
	assert_string_equal(g.value[1], "203.0.113.33");
	assert_string_equal(g.path[2], "file:hashes.'SHA-256'");
	assert_string_equal(g.value[2], "aa'b");
	assert_true(g.suff[0] && g.suff[1] && g.suff[2]);

	g = exact("[network-traffic:dst_ref.value IN ('198.51.100.1', '198.51.100.2')]");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.path[1], "network-traffic:dst_ref.value");
	assert_string_equal(g.value[1], "198.51.100.2");
	assert_true(g.suff[0] && g.suff[1]);

	g = exact("[autonomous-system:number = 15169]");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.value[0], "15169");
	assert_true(g.suff[0]);

	/* WITHIN and START/STOP keep sufficiency */
	g = exact("[email-message:from_ref.value = 'a@example.com'] WITHIN 5 SECONDS START "
	          "t'2016-01-01T00:00:00Z' STOP t'2016-01-02T00:00:00Z'");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.path[0], "email-message:from_ref.value");
	assert_true(g.suff[0]);

	/* paths with indexes and keys that need quoting */
	g = exact("[x:a[*].b[-2].'c d'.'AND' = 'v']");
	assert_string_equal(g.path[0], "x:a[*].b[-2].'c d'.'AND'");
}

static void
test_exact_not_sufficient(void **state)
{
	/* AND at comparison level */
	struct got g = exact("[file:hashes.MD5 = 'aa' AND file:name = 'x.exe']");
	assert_int_equal(g.n, 2);
	assert_false(g.suff[0]);
	assert_false(g.suff[1]);
	/* an OR under an AND is still not sufficient */
	g = exact("[(file:name = 'a' OR file:name = 'b') AND file:size > 10]");
	assert_int_equal(g.n, 2);
	assert_false(g.suff[0] || g.suff[1]);
	/* observation AND / FOLLOWEDBY */
	g = exact("[a:b = '1'] AND [c:d = '2']");
	assert_int_equal(g.n, 2);
	assert_false(g.suff[0] || g.suff[1]);
	g = exact("[a:b = '1'] FOLLOWEDBY [c:d = '2'] OR [e:f = '3']");
	assert_int_equal(g.n, 3);
	assert_false(g.suff[0] || g.suff[1] || g.suff[2]);
	/* FOLLOWEDBY at the top makes even the OR branch insufficient ... */
	g = exact("[a:b = '1'] OR [c:d = '2'] FOLLOWEDBY [e:f = '3']");
	assert_false(g.suff[0] || g.suff[1] || g.suff[2]);
	/* ... while an OR at the top keeps its own branch sufficient */
	g = exact("[a:b = '1'] OR [c:d = '2'] AND [e:f = '3']");
	assert_int_equal(g.n, 3);
	assert_true(g.suff[0]);
	assert_false(g.suff[1] || g.suff[2]);
	/* REPEATS, on the observation or on an enclosing group */
	g = exact("[a:b = '1'] REPEATS 2 TIMES OR [c:d = '2']");
	assert_false(g.suff[0]);
	assert_true(g.suff[1]);
	g = exact("([a:b = '1'] OR [c:d = '2']) REPEATS 2 TIMES");
	assert_false(g.suff[0] || g.suff[1]);
}

static void
test_exact_excluded(void **state)
{
	/* negated, inequality, ordering, LIKE, MATCHES, EXISTS: never reported */
	struct got g = exact("[a:b NOT = '1' OR a:c != '2' OR a:d NOT IN ('3') OR a:e > 4 OR "
	                     "a:f LIKE '5%' OR a:g MATCHES '6' OR EXISTS a:h OR a:i = '7']");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.path[0], "a:i");
	assert_string_equal(g.value[0], "7");
	assert_true(g.suff[0]);

	/* the callback's error stops the walk and is returned */
	struct stix_pattern *p = parse_ok("[a:b IN ('1','2','3','4','5','6','7','8','9')]");
	struct got many = {0};
	assert_int_equal(stix_pattern_exact(p, collect, &many), TC_ELIMIT);
	assert_int_equal(many.n, 8);
	stix_pattern_free(p);
}

/* ---- printing --------------------------------------------------------- */

static void
test_print(void **state)
{
	assert_prints("  [ipv4-addr:value='198.51.100.1']  ", "[ipv4-addr:value = '198.51.100.1']");
	assert_prints("[file : hashes . 'SHA-256' == 'x' ]", "[file:hashes.'SHA-256' = 'x']");
	assert_prints("[a:b <> 1 AND a:'c' NOT IN (1,2)]", "[a:b != 1 AND a:c NOT IN (1, 2)]");
	assert_prints("((([a:b = 1])))", "[a:b = 1]");
	assert_prints("[a:b = 1] OR ([c:d = 2] OR [e:f = 3])",
	              "[a:b = 1] OR ([c:d = 2] OR [e:f = 3])");
	assert_prints("([a:b = 1] OR [c:d = 2]) OR [e:f = 3]",
	              "[a:b = 1] OR [c:d = 2] OR [e:f = 3]");
	assert_prints("([a:b = 1] OR [c:d = 2]) AND [e:f = 3]",
	              "([a:b = 1] OR [c:d = 2]) AND [e:f = 3]");
	/* WITHIN before REPEATS means something else and is kept; other
	 * orders are canonicalised */
	assert_prints("[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES",
	              "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES");
	assert_prints("([a:b = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES",
	              "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES");
	assert_prints("([a:b = 1] REPEATS 2 TIMES) WITHIN 5 SECONDS",
	              "[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS");
	assert_prints("[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z' "
	              "WITHIN 5 SECONDS REPEATS 2 TIMES",
	              "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES START t'2016-06-01T00:00:00Z' "
	              "STOP t'2016-06-02T00:00:00Z'");
	assert_prints("[a:b = 1] REPEATS 2 TIMES START t'2016-06-01T00:00:00Z' "
	              "STOP t'2016-06-02T00:00:00Z' WITHIN 5 SECONDS",
	              "[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS START t'2016-06-01T00:00:00Z' "
	              "STOP t'2016-06-02T00:00:00Z'");
	assert_prints("([a:b = 1] AND [c:d = 2]) WITHIN 0.25 SECONDS",
	              "([a:b = 1] AND [c:d = 2]) WITHIN 0.25 SECONDS");
	assert_prints("[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.5Z'",
	              "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.500Z'");
	assert_prints("[a:b = +.10 OR a:b = -0 OR a:b = 100.0 OR a:b = 0.1]",
	              "[a:b = 0.1 OR a:b = 0 OR a:b = 100.0 OR a:b = 0.1]");
	assert_prints("[a:b = b'AAEC/w==' AND a:c = h'00FF' AND a:d = 'it\\'s']",
	              "[a:b = b'AAEC/w==' AND a:c = h'00ff' AND a:d = 'it\\'s']");
	assert_prints("[NOT EXISTS a:'b c'[0]]", "[NOT EXISTS a:'b c'[0]]");
}

/* ---- limits ----------------------------------------------------------- */

static char *
nested(size_t depth)
{
	/* depth '(' around one observation: (((...[a:b = 1]...))) */
	size_t len = 2 * depth + 16;
	char *s = malloc(len);
	assert_non_null(s);
	memset(s, '(', depth);
	memcpy(s + depth, "[a:b = 1]", 9);
	memset(s + depth + 9, ')', depth);
	s[2 * depth + 9] = '\0';
	return s;
}

static void
test_limits(void **state)
{
	struct diag d;
	struct stix_pattern *p;

	/* max_len */
	struct sp_limits lim = {.max_len = 20};
	assert_int_equal(parse_err("[ipv4-addr:value = '198.51.100.1']", &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "pattern is 34 bytes, more than the limit of 20 (max_len)");
	lim.max_len = 34;
	assert_int_equal(
	    stix_pattern_parse(SLICE_LIT("[ipv4-addr:value = '198.51.100.1']"), &lim, &p, &d),
	    TC_OK);
	stix_pattern_free(p);

	/* max_depth: the observation's '[' counts as one level */
	char *s = nested(STIX_PATTERN_MAX_DEPTH_DEFAULT - 1);
	p = parse_ok(s);
	stix_pattern_free(p);
	free(s);
	s = nested(STIX_PATTERN_MAX_DEPTH_DEFAULT);
	assert_int_equal(parse_err(s, NULL, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "column 65: nesting deeper than the limit of 64 (max_depth)");
	free(s);
	/* a deep pattern far past the limit fails cleanly, without deep recursion */
	s = nested(60000);
	assert_int_equal(parse_err(s, NULL, &d), TC_ELIMIT);
	free(s);
	/* parentheses inside an observation count too */
	lim = (struct sp_limits){.max_depth = 1};
	assert_int_equal(parse_err("[(a:b = 1)]", &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "column 2: nesting deeper than the limit of 1 (max_depth)");
	assert_int_equal(d.column, 2);
	assert_int_equal(stix_pattern_parse(SLICE_LIT("[a:b = 1]"), &lim, &p, &d), TC_OK);
	stix_pattern_free(p);
}

static void
test_limits_nodes(void **state)
{
	struct diag d;
	struct sp_limits lim = {.max_nodes = 3};
	struct stix_pattern *p;

	/* OR of two observations: 5 nodes */
	assert_int_equal(parse_err("[a:b = 1] OR [c:d = 2]", &lim, &d), TC_ELIMIT);
	assert_string_equal(d.msg, "column 14: pattern has more than 3 AST nodes (max_nodes)");
	lim.max_nodes = 5;
	assert_int_equal(stix_pattern_parse(SLICE_LIT("[a:b = 1] OR [c:d = 2]"), &lim, &p, &d),
	                 TC_OK);
	assert_int_equal(p->nnodes, 5);
	stix_pattern_free(p);

	/* a long left-deep OR chain: within limits it parses, prints and is
	 * walked without recursion along the chain */
	struct buf b;
	buf_init(&b, 0);
	for (int i = 0; i < 3000; i++)
		buf_printf(&b, "%s[a:b = %d]", i ? " OR " : "", i);
	assert_int_equal(stix_pattern_parse(buf_slice(&b), NULL, &p, &d), TC_OK);
	struct got g = {0};
	assert_int_equal(stix_pattern_exact(p, collect, &g), TC_ELIMIT);
	char *s = print_str(p);
	assert_string_equal(s, b.p);
	free(s);
	stix_pattern_free(p);
	/* past the default node limit */
	for (int i = 3000; i < 6000; i++)
		buf_printf(&b, " OR [a:b = %d]", i);
	lim = (struct sp_limits){.max_len = 1 << 20};
	assert_int_equal(stix_pattern_parse(buf_slice(&b), &lim, &p, &d), TC_ELIMIT);
	assert_non_null(strstr(d.msg, "AST nodes (max_nodes)"));
	buf_reset(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_valid),   cmocka_unit_test(test_golden_invalid),
	    cmocka_unit_test(test_precedence),     cmocka_unit_test(test_qualifiers),
	    cmocka_unit_test(test_constants),      cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_exact_or_in),    cmocka_unit_test(test_exact_not_sufficient),
	    cmocka_unit_test(test_exact_excluded), cmocka_unit_test(test_print),
	    cmocka_unit_test(test_limits),         cmocka_unit_test(test_limits_nodes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
