/*
 * stix_pattern_exact.c — reading a parsed STIX pattern back out: the exact
 * values it compares with '=' / IN, and its canonical text.
 *
 * Invariant: neither walk recurses along a chain of one binary operator
 * (the parser builds long left-deep chains for "a OR b OR c ..."): chains
 * are walked with an explicit stack sized by the node count, so C recursion
 * follows only parentheses, which the parser bounded by max_depth. Printing
 * adds parentheses exactly where the AST needs them, so that
 * stix_pattern_parse(print(p)) rebuilds the same tree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix_pattern.h"
#include "util/buf.h"
#include "util/timestamp.h"

/* ---- shared text helpers --------------------------------------------- */

static bool
is_keyword(const char *s)
{
	static const char *const kw[] = {
	    "AND",      "OR",      "NOT",   "FOLLOWEDBY", "LIKE",  "MATCHES", "ISSUPERSET",
	    "ISSUBSET", "EXISTS",  "LAST",  "IN",         "START", "STOP",    "SECONDS",
	    "WITHIN",   "REPEATS", "TIMES", "true",       "false",
	};
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (strcmp(s, kw[i]) == 0)
			return true;
	return false;
}

/* A key can be written bare when it is [a-zA-Z_][a-zA-Z0-9_]* and not a
 * keyword of the grammar (which the lexer would not take as a name). */
static bool
is_plain_key(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return !is_keyword(s);
}

/* Appends 'text' with ' and \ escaped (STIXPattern.g4 StringLiteral). */
static void
append_quoted(struct buf *b, const char *s, size_t len)
{
	buf_append_char(b, '\'');
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'' || s[i] == '\\') {
			buf_append(b, s + run, i - run);
			buf_append_char(b, '\\');
			run = i;
		}
	}
	buf_append(b, s + run, len - run);
	buf_append_char(b, '\'');
}

static void
append_key(struct buf *b, const char *key)
{
	if (is_plain_key(key))
		buf_append_cstr(b, key);
	else
		append_quoted(b, key, strlen(key));
}

/* Canonical object path: type:key.key[0][*].'quoted key' */
static void
append_path(struct buf *b, const struct sp_path *path)
{
	buf_append_cstr(b, path->type);
	buf_append_char(b, ':');
	for (size_t i = 0; i < path->nsteps; i++) {
		const struct sp_step *st = &path->steps[i];
		switch (st->kind) {
		case SP_STEP_KEY:
			if (i)
				buf_append_char(b, '.');
			append_key(b, st->key);
			break;
		case SP_STEP_INDEX:
			buf_printf(b, "[%lld]", (long long)st->index);
			break;
		case SP_STEP_ANY:
			buf_append_cstr(b, "[*]");
			break;
		}
	}
}

/* Shortest fixed-point decimal (the grammar has no exponent form) that
 * reads back as exactly f; always with a '.' so it lexes as a float. */
static void
append_float(struct buf *b, double f)
{
	char tmp[800];
	int e10 = f == 0 ? 0 : (int)floor(log10(fabs(f)));

	for (int sig = 1; sig <= 18; sig++) {
		int prec = sig - 1 - e10;
		if (prec < 1)
			prec = 1;
		if (prec > 400)
			prec = 400;
		int n = snprintf(tmp, sizeof(tmp), "%.*f", prec, f);
		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			b->err = b->err ? b->err : TC_EINTERNAL;
			return;
		}
		if (strtod(tmp, NULL) == f || sig == 18) {
			while (n > 2 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
				tmp[--n] = '\0';
			buf_append(b, tmp, (size_t)n);
			return;
		}
	}
}

static void
append_base64(struct buf *b, const unsigned char *p, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		char q[4] = {tab[v >> 18], tab[v >> 12 & 63], i + 1 < len ? tab[v >> 6 & 63] : '=',
		             i + 2 < len ? tab[v & 63] : '='};
		buf_append(b, q, 4);
	}
}

static void
append_const(struct buf *b, const struct sp_const *c)
{
	switch (c->kind) {
	case SP_CONST_STRING:
		append_quoted(b, c->str, c->len);
		break;
	case SP_CONST_INT:
		buf_printf(b, "%lld", (long long)c->i);
		break;
	case SP_CONST_FLOAT:
		append_float(b, c->f);
		break;
	case SP_CONST_BOOL:
		buf_append_cstr(b, c->b ? "true" : "false");
		break;
	case SP_CONST_BINARY:
		buf_append_cstr(b, "b'");
		append_base64(b, (const unsigned char *)c->str, c->len);
		buf_append_char(b, '\'');
		break;
	case SP_CONST_HEX:
		buf_append_cstr(b, "h'");
		buf_append_hex(b, (const uint8_t *)c->str, c->len);
		buf_append_char(b, '\'');
		break;
	case SP_CONST_TIMESTAMP:
		buf_append_cstr(b, "t'");
		buf_append(b, c->str, c->len);
		buf_append_char(b, '\'');
		break;
	case SP_CONST_SET:
		buf_append_char(b, '(');
		for (size_t i = 0; i < c->nitems; i++) {
			if (i)
				buf_append_cstr(b, ", ");
			append_const(b, &c->items[i]);
		}
		buf_append_char(b, ')');
		break;
	}
}

/* ---- exact values ----------------------------------------------------- */

struct exact_walk {
	stix_pattern_exact_cb cb;
	void *ctx;
	struct buf path, val;
};

/* One exact value; value text: strings/binary/hex as their bytes, numbers
 * in decimal, booleans as true/false, timestamps as written. */
static enum tcerr
report(struct exact_walk *w, const struct sp_node *n, const struct sp_const *c, bool sufficient)
{
	struct slice v;

	buf_clear(&w->path);
	append_path(&w->path, &n->path);
	switch (c->kind) {
	case SP_CONST_STRING:
	case SP_CONST_BINARY:
	case SP_CONST_HEX:
	case SP_CONST_TIMESTAMP:
		v = (struct slice){c->str, c->len};
		break;
	case SP_CONST_BOOL:
		v = c->b ? SLICE_LIT("true") : SLICE_LIT("false");
		break;
	default:
		buf_clear(&w->val);
		if (c->kind == SP_CONST_INT)
			buf_printf(&w->val, "%lld", (long long)c->i);
		else
			append_float(&w->val, c->f);
		if (buf_error(&w->val))
			return buf_error(&w->val);
		v = buf_slice(&w->val);
		break;
	}
	if (buf_error(&w->path))
		return buf_error(&w->path);
	return w->cb(w->ctx, w->path.p, v, sufficient);
}

#define EXACT_SMALL_STACK 32

struct exact_item {
	const struct sp_node *n;
	bool sufficient;
};

enum tcerr
stix_pattern_exact(const struct stix_pattern *p, stix_pattern_exact_cb cb, void *ctx)
{
	struct exact_walk w = {.cb = cb, .ctx = ctx};
	enum tcerr rc = TC_OK;

	if (!p || !p->root)
		return TC_OK;
	/* a binary tree of nnodes nodes never needs more than nnodes + 1 slots;
	 * small patterns (nearly all indicators) use the C stack */
	struct exact_item small[EXACT_SMALL_STACK];
	struct exact_item *stack = small;
	if (p->nnodes + 1 > EXACT_SMALL_STACK) {
		stack = malloc((p->nnodes + 1) * sizeof(*stack));
		if (!stack)
			return TC_ENOMEM;
	}
	buf_init(&w.path, 0);
	buf_init(&w.val, 0);
	size_t top = 0;
	stack[top++] = (struct exact_item){p->root, true};
	while (top && !rc) {
		struct exact_item it = stack[--top];
		const struct sp_node *n = it.n;
		bool suff = it.sufficient && !n->has_repeats;
		switch (n->kind) {
		case SP_OBS_OR:
		case SP_CMP_OR:
			/* either side alone satisfies an OR */
			stack[top++] = (struct exact_item){n->right, suff};
			stack[top++] = (struct exact_item){n->left, suff};
			break;
		case SP_FOLLOWEDBY:
		case SP_OBS_AND:
		case SP_CMP_AND:
			/* the other side is needed too */
			stack[top++] = (struct exact_item){n->right, false};
			stack[top++] = (struct exact_item){n->left, false};
			break;
		case SP_OBSERVATION:
			/* WITHIN and START/STOP do not change sufficiency: a single
			 * observation satisfies them; REPEATS needs several. */
			stack[top++] = (struct exact_item){n->left, suff};
			break;
		case SP_COMPARISON:
			if (n->negated)
				break;
			if (n->op == SP_OP_EQ)
				rc = report(&w, n, &n->value, suff);
			else if (n->op == SP_OP_IN)
				for (size_t i = 0; i < n->value.nitems && !rc; i++)
					rc = report(&w, n, &n->value.items[i], suff);
			break;
		case SP_EXISTS:
			break;
		}
	}
	if (stack != small)
		free(stack);
	buf_reset(&w.path);
	buf_reset(&w.val);
	return rc;
}

/* ---- printing -------------------------------------------------------- */

struct printer {
	struct buf *b;
	const struct sp_node **spine; /* shared stack, nnodes slots */
	size_t top;
};

static bool
has_quals(const struct sp_node *n)
{
	return n->has_within || n->has_start_stop || n->has_repeats;
}

static int
prec(const struct sp_node *n)
{
	switch (n->kind) {
	case SP_FOLLOWEDBY:
		return 1;
	case SP_OBS_OR:
		return 2;
	case SP_OBS_AND:
		return 3;
	case SP_CMP_OR:
		return 1;
	case SP_CMP_AND:
		return 2;
	default:
		return 4;
	}
}

static bool
is_binary(const struct sp_node *n)
{
	return n->kind == SP_FOLLOWEDBY || n->kind == SP_OBS_OR || n->kind == SP_OBS_AND ||
	       n->kind == SP_CMP_OR || n->kind == SP_CMP_AND;
}

static const char *
binop_text(enum sp_node_kind k)
{
	switch (k) {
	case SP_FOLLOWEDBY:
		return " FOLLOWEDBY ";
	case SP_OBS_OR:
	case SP_CMP_OR:
		return " OR ";
	default:
		return " AND ";
	}
}

static const char *const op_text[] = {
    [SP_OP_EQ] = "=",
    [SP_OP_NEQ] = "!=",
    [SP_OP_GT] = ">",
    [SP_OP_LT] = "<",
    [SP_OP_GE] = ">=",
    [SP_OP_LE] = "<=",
    [SP_OP_IN] = "IN",
    [SP_OP_LIKE] = "LIKE",
    [SP_OP_MATCHES] = "MATCHES",
    [SP_OP_ISSUBSET] = "ISSUBSET",
    [SP_OP_ISSUPERSET] = "ISSUPERSET",
};

const char *
stix_pattern_op_text(enum sp_op op)
{
	if (op < SP_OP_EQ || op > SP_OP_ISSUPERSET)
		return "?";
	return op_text[op];
}

static void print_node(struct printer *pr, const struct sp_node *n);

static void
print_timestamp(struct buf *b, int64_t us)
{
	char t[TS_TEXT_MAX];
	int digits = us % 1000000 == 0 ? 0 : us % 1000 == 0 ? 3 : 6;
	ts_format(us, digits, t);
	buf_append_cstr(b, "t'");
	buf_append_cstr(b, t);
	buf_append_char(b, '\'');
}

static void
print_within(struct buf *b, const struct sp_node *n)
{
	buf_append_cstr(b, " WITHIN ");
	if (n->within_seconds == floor(n->within_seconds) && n->within_seconds < 9e15)
		buf_printf(b, "%.0f", n->within_seconds);
	else
		append_float(b, n->within_seconds);
	buf_append_cstr(b, " SECONDS");
}

static void
print_quals(struct buf *b, const struct sp_node *n)
{
	bool within_first = n->has_within && n->has_repeats && n->within_first;

	if (within_first)
		print_within(b, n);
	if (n->has_repeats)
		buf_printf(b, " REPEATS %lld TIMES", (long long)n->repeats);
	if (n->has_within && !within_first)
		print_within(b, n);
	if (n->has_start_stop) {
		buf_append_cstr(b, " START ");
		print_timestamp(b, n->start_us);
		buf_append_cstr(b, " STOP ");
		print_timestamp(b, n->stop_us);
	}
}

static void
print_operand(struct printer *pr, const struct sp_node *c, int parent_prec, bool right)
{
	bool paren = is_binary(c) && !has_quals(c) &&
	             (prec(c) < parent_prec || (right && prec(c) == parent_prec));
	if (paren)
		buf_append_char(pr->b, '(');
	print_node(pr, c);
	if (paren)
		buf_append_char(pr->b, ')');
}

/* A chain of one operator: walk its left spine into the shared stack, then
 * print bottom-up without recursing along it. */
static void
print_chain(struct printer *pr, const struct sp_node *n)
{
	size_t base = pr->top;
	const struct sp_node *s = n;

	pr->spine[pr->top++] = s;
	while (s->left->kind == n->kind && !has_quals(s->left)) {
		s = s->left;
		pr->spine[pr->top++] = s;
	}
	print_operand(pr, s->left, prec(n), false);
	while (pr->top > base) {
		const struct sp_node *x = pr->spine[--pr->top];
		buf_append_cstr(pr->b, binop_text(x->kind));
		print_operand(pr, x->right, prec(x), true);
	}
}

static void
print_node(struct printer *pr, const struct sp_node *n)
{
	struct buf *b = pr->b;

	switch (n->kind) {
	case SP_OBSERVATION:
		buf_append_char(b, '[');
		print_node(pr, n->left);
		buf_append_char(b, ']');
		print_quals(b, n);
		break;
	case SP_COMPARISON:
		append_path(b, &n->path);
		buf_append_cstr(b, n->negated ? " NOT " : " ");
		buf_append_cstr(b, stix_pattern_op_text(n->op));
		buf_append_char(b, ' ');
		append_const(b, &n->value);
		break;
	case SP_EXISTS:
		buf_append_cstr(b, n->negated ? "NOT EXISTS " : "EXISTS ");
		append_path(b, &n->path);
		break;
	default:
		if (has_quals(n)) {
			buf_append_char(b, '(');
			print_chain(pr, n);
			buf_append_char(b, ')');
			print_quals(b, n);
		} else {
			print_chain(pr, n);
		}
		break;
	}
}

void
stix_pattern_print(const struct stix_pattern *p, struct buf *out)
{
	if (!p || !p->root || buf_error(out))
		return;
	struct printer pr = {.b = out};
	pr.spine = malloc((p->nnodes + 1) * sizeof(*pr.spine));
	if (!pr.spine) {
		out->err = TC_ENOMEM;
		return;
	}
	print_node(&pr, p->root);
	free(pr.spine);
}
