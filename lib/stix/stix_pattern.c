/*
 * stix_pattern.c — lexer and recursive-descent parser of the STIX 2.1
 * patterning language (§9, STIXPattern.g4) into an arena-allocated AST.
 *
 * Invariant: every byte of a parsed pattern (struct stix_pattern, nodes,
 * path steps, set members, decoded strings) lives in one chain of arena
 * chunks whose first chunk holds struct stix_pattern itself, so freeing is a
 * walk of that chain and a simple pattern costs one malloc. The parser
 * recurses only through '(' and '[', each of which counts against
 * max_depth, so the C stack stays bounded whatever the input; binary
 * operators are parsed by loops (left-associative, as the grammar says).
 * The first error wins: later failures while unwinding never overwrite it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/pan.h"
#include "stix_pattern.h"
#include "util/timestamp.h"

/* ---- arena ---------------------------------------------------------- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	/* cap bytes of data follow, 8-byte aligned (the header is 24 bytes) */
};

#define ARENA_ALIGN 8
#define ARENA_FIRST_MIN 1024        /* a simple indicator pattern fits */
#define ARENA_FIRST_MAX (16 * 1024) /* later chunks double from here */

_Static_assert(sizeof(struct arena_chunk) % ARENA_ALIGN == 0, "chunk header alignment");
_Static_assert(_Alignof(struct sp_node) <= ARENA_ALIGN, "node alignment");
_Static_assert(_Alignof(struct sp_const) <= ARENA_ALIGN, "const alignment");

static struct arena_chunk *
chunk_new(size_t cap)
{
	struct arena_chunk *c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	c->next = NULL;
	c->used = 0;
	c->cap = cap;
	return c;
}

static void
chunk_free_all(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
}

/* ---- tokens --------------------------------------------------------- */

enum tk {
	TK_EOF,
	TK_ERR, /* the lexer failed; the error is already recorded */
	TK_LBRACK,
	TK_RBRACK,
	TK_LPAREN,
	TK_RPAREN,
	TK_COLON,
	TK_DOT,
	TK_COMMA,
	TK_STAR,
	TK_EQ,
	TK_NEQ,
	TK_LT,
	TK_LE,
	TK_GT,
	TK_GE,
	TK_IDENT,        /* [a-zA-Z_][a-zA-Z0-9_]* that is not a keyword */
	TK_IDENT_HYPHEN, /* an identifier with at least one '-' */
	TK_INT,
	TK_FLOAT,
	TK_STRING,
	TK_BINARY,
	TK_HEX,
	TK_TIMESTAMP,
	TK_BOOL,
	TK_AND,
	TK_OR,
	TK_NOT,
	TK_FOLLOWEDBY,
	TK_LIKE,
	TK_MATCHES,
	TK_ISSUPERSET,
	TK_ISSUBSET,
	TK_EXISTS,
	TK_LAST,
	TK_IN,
	TK_START,
	TK_STOP,
	TK_SECONDS,
	TK_WITHIN,
	TK_REPEATS,
	TK_TIMES,
};

struct tok {
	enum tk kind;
	size_t off, len;   /* where in the text */
	bool negative;     /* TK_INT/TK_FLOAT written with '-' (IntNeg/FloatNeg) */
	struct sp_const c; /* literal tokens: the decoded value */
};

struct parser {
	const char *s;
	size_t len, pos;
	struct tok tok;
	struct arena_chunk *cur;
	struct stix_pattern *pat;
	struct sp_limits lim;
	size_t depth;
	enum tcerr rc;
	struct diag *d;
};

static void fail_at(struct parser *ps, enum tcerr rc, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error; off is the byte offset the message points at. */
static void
fail_at(struct parser *ps, enum tcerr rc, size_t off, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;

	if (ps->rc)
		return;
	ps->rc = rc;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	diag_set(ps->d, rc, "column %zu: %s", off + 1, msg);
	if (ps->d)
		ps->d->column = (long)(off + 1);
}

static void
fail_nomem(struct parser *ps)
{
	if (ps->rc)
		return;
	ps->rc = TC_ENOMEM;
	diag_set(ps->d, TC_ENOMEM, "out of memory parsing pattern");
}

static void *
arena_alloc(struct parser *ps, size_t n)
{
	struct arena_chunk *c = ps->cur;

	if (n > SIZE_MAX / 4) {
		fail_nomem(ps);
		return NULL;
	}
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (c->cap - c->used < n) {
		size_t cap = c->cap < ARENA_FIRST_MAX ? ARENA_FIRST_MAX : c->cap * 2;
		if (cap < n)
			cap = n;
		struct arena_chunk *nc = chunk_new(cap);
		if (!nc) {
			fail_nomem(ps);
			return NULL;
		}
		c->next = nc;
		ps->cur = c = nc;
	}
	void *p = (char *)(c + 1) + c->used;
	c->used += n;
	return p;
}

/* Copies len bytes into the arena with a terminating NUL. */
static char *
arena_strndup(struct parser *ps, const char *s, size_t len)
{
	char *p = arena_alloc(ps, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* ---- lexer ---------------------------------------------------------- */

/* Length of the STIXPattern.g4 WS character at s (n bytes available), or 0.
 * The Unicode spaces of the grammar are matched in their UTF-8 form. */
static size_t
ws_len(const unsigned char *s, size_t n)
{
	switch (s[0]) {
	case ' ':
	case '\t':
	case '\r':
	case '\n':
	case 0x0b:
	case 0x0c:
		return 1;
	case 0xc2: /* U+0085, U+00A0 */
		return n >= 2 && (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
	case 0xe1: /* U+1680 */
		return n >= 3 && s[1] == 0x9a && s[2] == 0x80 ? 3 : 0;
	case 0xe2: /* U+2000..U+200A, U+2028, U+2029, U+202F, U+205F */
		if (n < 3)
			return 0;
		if (s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
		                     s[2] == 0xa9 || s[2] == 0xaf))
			return 3;
		return s[1] == 0x81 && s[2] == 0x9f ? 3 : 0;
	case 0xe3: /* U+3000 */
		return n >= 3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
	default:
		return 0;
	}
}

/* Skips whitespace and comments. Returns false (error recorded) on an
 * unterminated block comment. */
static bool
skip_space(struct parser *ps)
{
	const char *s = ps->s;
	size_t len = ps->len;

	while (ps->pos < len) {
		size_t w = ws_len((const unsigned char *)s + ps->pos, len - ps->pos);
		if (w) {
			ps->pos += w;
			continue;
		}
		if (s[ps->pos] != '/' || ps->pos + 1 >= len)
			break;
		if (s[ps->pos + 1] == '*') {
			size_t start = ps->pos;
			size_t i = ps->pos + 2;
			while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'))
				i++;
			if (i + 1 >= len) {
				fail_at(ps, TC_EINVAL, start, "unterminated /* comment");
				return false;
			}
			ps->pos = i + 2;
		} else if (s[ps->pos + 1] == '/') {
			size_t i = ps->pos + 2;
			while (i < len && s[i] != '\n' && s[i] != '\r')
				i++;
			ps->pos = i;
		} else {
			break;
		}
	}
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}


static enum tk
keyword(const char *p, size_t n)
{
	static const struct {
		const char *w;
		enum tk k;
	} kw[] = {
	    {"AND", TK_AND},
	    {"OR", TK_OR},
	    {"NOT", TK_NOT},
	    {"FOLLOWEDBY", TK_FOLLOWEDBY},
	    {"LIKE", TK_LIKE},
	    {"MATCHES", TK_MATCHES},
	    {"ISSUPERSET", TK_ISSUPERSET},
	    {"ISSUBSET", TK_ISSUBSET},
	    {"EXISTS", TK_EXISTS},
	    {"LAST", TK_LAST},
	    {"IN", TK_IN},
	    {"START", TK_START},
	    {"STOP", TK_STOP},
	    {"SECONDS", TK_SECONDS},
	    {"WITHIN", TK_WITHIN},
	    {"REPEATS", TK_REPEATS},
	    {"TIMES", TK_TIMES},
	    {"true", TK_BOOL},
	    {"false", TK_BOOL},
	};
	/* keywords are upper case but for true/false; most names are not */
	if (n < 2 || n > 10 || !((p[0] >= 'A' && p[0] <= 'Z') || p[0] == 't' || p[0] == 'f'))
		return TK_IDENT;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (kw[i].w[0] == p[0] && strlen(kw[i].w) == n && memcmp(kw[i].w, p, n) == 0)
			return kw[i].k;
	return TK_IDENT;
}

/* Finds the closing quote of a b'', h'' or t'' literal whose opening quote
 * is at q. Returns its offset, or 0 (error recorded) if there is none. */
static size_t
find_quote(struct parser *ps, size_t q, const char *what)
{
	const char *e = memchr(ps->s + q + 1, '\'', ps->len - q - 1);
	if (!e) {
		fail_at(ps, TC_EINVAL, q - 1, "unterminated %s literal", what);
		return 0;
	}
	return (size_t)(e - ps->s);
}

/* STIXPattern.g4 StringLiteral: only \' and \\ are escapes. */
static void
lex_string(struct parser *ps, struct tok *t)
{
	const char *s = ps->s;
	size_t i = ps->pos + 1, nesc = 0;

	while (i < ps->len && s[i] != '\'') {
		if (s[i] == '\\') {
			if (i + 1 < ps->len && (s[i + 1] == '\'' || s[i + 1] == '\\')) {
				i += 2;
				nesc++;
				continue;
			}
			fail_at(ps, TC_EINVAL, i,
			        "invalid escape in string: only \\' and \\\\ are allowed");
			t->kind = TK_ERR;
			return;
		}
		i++;
	}
	if (i >= ps->len) {
		fail_at(ps, TC_EINVAL, ps->pos, "unterminated string");
		t->kind = TK_ERR;
		return;
	}
	size_t raw = i - ps->pos - 1;
	char *out = arena_alloc(ps, raw - nesc + 1);
	if (!out) {
		t->kind = TK_ERR;
		return;
	}
	size_t o = 0;
	for (size_t k = ps->pos + 1; k < i; k++) {
		if (s[k] == '\\')
			k++;
		out[o++] = s[k];
	}
	out[o] = '\0';
	t->kind = TK_STRING;
	t->c.kind = SP_CONST_STRING;
	t->c.str = out;
	t->c.len = o;
	ps->pos = i + 1;
}

/* b'...': STIXPattern.g4 BinaryLiteral, base64 with padding, at least one
 * quantum. Decoded into the arena. */
static void
lex_binary(struct parser *ps, struct tok *t)
{
	size_t q = ps->pos + 1;
	size_t e = find_quote(ps, q, "binary");
	if (!e) {
		t->kind = TK_ERR;
		return;
	}
	const char *b = ps->s + q + 1;
	size_t n = e - q - 1;
	size_t pad = 0;
	if (n >= 1 && b[n - 1] == '=')
		pad = (n >= 2 && b[n - 2] == '=') ? 2 : 1;
	bool ok = n > 0 && n % 4 == 0;
	for (size_t i = 0; ok && i < n - pad; i++)
		ok = b64_val(b[i]) >= 0;
	if (!ok) {
		fail_at(ps, TC_EINVAL, ps->pos, "invalid base64 in binary literal");
		t->kind = TK_ERR;
		return;
	}
	size_t outlen = n / 4 * 3 - pad;
	char *out = arena_alloc(ps, outlen + 1);
	if (!out) {
		t->kind = TK_ERR;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++)
			v = v << 6 | (uint32_t)(b[i + k] == '=' ? 0 : b64_val(b[i + k]));
		char tri[3] = {(char)(v >> 16), (char)(v >> 8 & 0xff), (char)(v & 0xff)};
		for (size_t k = 0; k < 3 && o < outlen; k++)
			out[o++] = tri[k];
	}
	out[o] = '\0';
	t->kind = TK_BINARY;
	t->c.kind = SP_CONST_BINARY;
	t->c.str = out;
	t->c.len = o;
	ps->pos = e + 1;
}

/* h'...': STIXPattern.g4 HexLiteral, an even number of hex digits. */
static void
lex_hex(struct parser *ps, struct tok *t)
{
	size_t q = ps->pos + 1;
	size_t e = find_quote(ps, q, "hex");
	if (!e) {
		t->kind = TK_ERR;
		return;
	}
	const char *h = ps->s + q + 1;
	size_t n = e - q - 1;
	bool ok = n % 2 == 0;
	for (size_t i = 0; ok && i < n; i++)
		ok = hex_digit(h[i]) >= 0;
	if (!ok) {
		fail_at(ps, TC_EINVAL, ps->pos,
		        "invalid hex literal: needs an even number of hex digits");
		t->kind = TK_ERR;
		return;
	}
	char *out = arena_alloc(ps, n / 2 + 1);
	if (!out) {
		t->kind = TK_ERR;
		return;
	}
	for (size_t i = 0; i < n; i += 2)
		out[i / 2] = (char)(hex_digit(h[i]) << 4 | hex_digit(h[i + 1]));
	out[n / 2] = '\0';
	t->kind = TK_HEX;
	t->c.kind = SP_CONST_HEX;
	t->c.str = out;
	t->c.len = n / 2;
	ps->pos = e + 1;
}

/* t'...': STIXPattern.g4 TimestampLiteral, checked by ts_parse (which also
 * rejects impossible dates such as February 30). */
static void
lex_timestamp(struct parser *ps, struct tok *t)
{
	size_t q = ps->pos + 1;
	size_t e = find_quote(ps, q, "timestamp");
	if (!e) {
		t->kind = TK_ERR;
		return;
	}
	struct slice text = {ps->s + q + 1, e - q - 1};
	if (ts_parse(text, &t->c.ts_us, NULL) != TC_OK) {
		fail_at(ps, TC_EINVAL, ps->pos,
		        "invalid timestamp literal: expected t'YYYY-MM-DDTHH:MM:SS[.s+]Z'");
		t->kind = TK_ERR;
		return;
	}
	t->c.str = arena_strndup(ps, text.p, text.len);
	if (!t->c.str) {
		t->kind = TK_ERR;
		return;
	}
	t->kind = TK_TIMESTAMP;
	t->c.kind = SP_CONST_TIMESTAMP;
	t->c.len = text.len;
	ps->pos = e + 1;
}

/* IntPosLiteral, IntNegLiteral, FloatPosLiteral, FloatNegLiteral. The caller
 * has checked that a digit, or '.' and a digit, follows any sign. */
static void
lex_number(struct parser *ps, struct tok *t)
{
	const char *s = ps->s;
	size_t i = ps->pos;

	t->negative = s[i] == '-';
	if (s[i] == '+' || s[i] == '-')
		i++;
	size_t ds = i;
	while (i < ps->len && is_digit(s[i]))
		i++;
	if (i + 1 < ps->len && s[i] == '.' && is_digit(s[i + 1])) {
		i++;
		while (i < ps->len && is_digit(s[i]))
			i++;
		char *copy = arena_strndup(ps, s + ps->pos, i - ps->pos);
		if (!copy) {
			t->kind = TK_ERR;
			return;
		}
		/* strtod follows LC_NUMERIC; lib/ assumes the "C" locale. */
		double f = strtod(copy, NULL);
		if (!isfinite(f)) {
			fail_at(ps, TC_EINVAL, ps->pos, "number out of range");
			t->kind = TK_ERR;
			return;
		}
		t->kind = TK_FLOAT;
		t->c.kind = SP_CONST_FLOAT;
		t->c.f = f;
		ps->pos = i;
		return;
	}
	/* '0' | [1-9][0-9]*: "0123" lexes as 0 followed by 123, as in ANTLR */
	if (s[ds] == '0')
		i = ds + 1;
	uint64_t v = 0;
	uint64_t max = t->negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t k = ds; k < i; k++) {
		unsigned dg = (unsigned)(s[k] - '0');
		if (v > (max - dg) / 10) {
			fail_at(ps, TC_EINVAL, ps->pos, "integer out of range");
			t->kind = TK_ERR;
			return;
		}
		v = v * 10 + dg;
	}
	t->kind = TK_INT;
	t->c.kind = SP_CONST_INT;
	t->c.i =
	    t->negative ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	ps->pos = i;
}

/* Reads the next token into ps->tok. */
static void
advance(struct parser *ps)
{
	struct tok *t = &ps->tok;
	const char *s = ps->s;

	t->negative = false;
	t->c.kind = 0;
	if (ps->rc || !skip_space(ps)) {
		t->kind = TK_ERR;
		t->off = t->len = 0;
		return;
	}
	size_t p = ps->pos;
	t->off = p;
	if (p >= ps->len) {
		t->kind = TK_EOF;
		t->len = 0;
		return;
	}
	char c = s[p], n1 = p + 1 < ps->len ? s[p + 1] : '\0';
	char n2 = p + 2 < ps->len ? s[p + 2] : '\0';
	size_t l = 1;
	switch (c) {
	case '[':
		t->kind = TK_LBRACK;
		break;
	case ']':
		t->kind = TK_RBRACK;
		break;
	case '(':
		t->kind = TK_LPAREN;
		break;
	case ')':
		t->kind = TK_RPAREN;
		break;
	case ':':
		t->kind = TK_COLON;
		break;
	case ',':
		t->kind = TK_COMMA;
		break;
	case '*':
		t->kind = TK_STAR;
		break;
	case '=':
		t->kind = TK_EQ;
		l = n1 == '=' ? 2 : 1;
		break;
	case '!':
		if (n1 != '=')
			goto bad;
		t->kind = TK_NEQ;
		l = 2;
		break;
	case '<':
		t->kind = n1 == '=' ? TK_LE : n1 == '>' ? TK_NEQ : TK_LT;
		l = n1 == '=' || n1 == '>' ? 2 : 1;
		break;
	case '>':
		t->kind = n1 == '=' ? TK_GE : TK_GT;
		l = n1 == '=' ? 2 : 1;
		break;
	case '\'':
		lex_string(ps, t);
		goto done;
	case '.':
		if (is_digit(n1)) {
			lex_number(ps, t);
			goto done;
		}
		t->kind = TK_DOT;
		break;
	case '+':
	case '-':
		if (is_digit(n1) || (n1 == '.' && is_digit(n2))) {
			lex_number(ps, t);
			goto done;
		}
		goto bad;
	default:
		if (is_digit(c)) {
			lex_number(ps, t);
			goto done;
		}
		if (!is_ident_start(c))
			goto bad;
		if (n1 == '\'' && (c == 'b' || c == 'h' || c == 't')) {
			if (c == 'b')
				lex_binary(ps, t);
			else if (c == 'h')
				lex_hex(ps, t);
			else
				lex_timestamp(ps, t);
			goto done;
		}
		bool hyphen = false;
		while (p + l < ps->len && (is_ident_char(s[p + l]) || s[p + l] == '-')) {
			hyphen |= s[p + l] == '-';
			l++;
		}
		t->kind = hyphen ? TK_IDENT_HYPHEN : keyword(s + p, l);
		if (t->kind == TK_BOOL) {
			t->c.kind = SP_CONST_BOOL;
			t->c.b = s[p] == 't';
		}
		break;
	}
	ps->pos = p + l;
	t->len = l;
	return;
done:
	t->len = ps->pos - t->off;
	return;
bad:
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		fail_at(ps, TC_EINVAL, p, "unexpected character '%c'", c);
	else
		fail_at(ps, TC_EINVAL, p, "unexpected byte 0x%02X", (unsigned char)c);
	t->kind = TK_ERR;
	t->len = 0;
}

/* ---- parser --------------------------------------------------------- */

/* How a token is named in "expected X, found Y" messages. */
static const char *
tok_name(enum tk k)
{
	switch (k) {
	case TK_EOF:
		return "end of pattern";
	case TK_LBRACK:
		return "'['";
	case TK_RBRACK:
		return "']'";
	case TK_LPAREN:
		return "'('";
	case TK_RPAREN:
		return "')'";
	case TK_COLON:
		return "':'";
	case TK_DOT:
		return "'.'";
	case TK_COMMA:
		return "','";
	case TK_STAR:
		return "'*'";
	case TK_EQ:
	case TK_NEQ:
	case TK_LT:
	case TK_LE:
	case TK_GT:
	case TK_GE:
		return "operator";
	case TK_IDENT:
	case TK_IDENT_HYPHEN:
		return "identifier";
	case TK_INT:
		return "integer";
	case TK_FLOAT:
		return "number";
	case TK_STRING:
		return "string";
	case TK_BINARY:
		return "binary literal";
	case TK_HEX:
		return "hex literal";
	case TK_TIMESTAMP:
		return "timestamp";
	case TK_BOOL:
		return "boolean";
	default:
		return "keyword";
	}
}

static void
expected(struct parser *ps, const char *what)
{
	const struct tok *t = &ps->tok;
	int n = (int)(t->len > 40 ? 40 : t->len);
	const char *text = ps->s + t->off;

	switch (t->kind) {
	case TK_EOF:
	case TK_LBRACK:
	case TK_RBRACK:
	case TK_LPAREN:
	case TK_RPAREN:
	case TK_COLON:
	case TK_DOT:
	case TK_COMMA:
	case TK_STAR:
		fail_at(ps, TC_EINVAL, t->off, "expected %s, found %s", what, tok_name(t->kind));
		break;
	default:
		break;
	}
	if (ps->rc)
		return;
	/* a token that may hold a card number is named, never quoted */
	if (pan_suspect(slice_make(text, t->len))) {
		fail_at(ps, TC_EINVAL, t->off, "expected %s, found %s (not quoted: it may hold a "
		        "card number)", what, tok_name(t->kind));
		return;
	}
	switch (t->kind) {
	case TK_STRING:
	case TK_BINARY:
	case TK_HEX:
	case TK_TIMESTAMP:
		/* the token text carries its own quotes */
		fail_at(ps, TC_EINVAL, t->off, "expected %s, found %s %.*s%s", what,
		        tok_name(t->kind), n, text, t->len > 40 ? "..." : "");
		break;
	default:
		fail_at(ps, TC_EINVAL, t->off, "expected %s, found %s '%.*s'%s", what,
		        tok_name(t->kind), n, text, t->len > 40 ? "..." : "");
		break;
	}
}

static bool
enter(struct parser *ps)
{
	if (++ps->depth > ps->lim.max_depth) {
		fail_at(ps, TC_ELIMIT, ps->tok.off,
		        "nesting deeper than the limit of %zu (max_depth)", ps->lim.max_depth);
		return false;
	}
	return true;
}

static struct sp_node *
new_node(struct parser *ps, enum sp_node_kind kind, size_t off)
{
	if (ps->pat->nnodes >= ps->lim.max_nodes) {
		fail_at(ps, TC_ELIMIT, off, "pattern has more than %zu AST nodes (max_nodes)",
		        ps->lim.max_nodes);
		return NULL;
	}
	struct sp_node *n = arena_alloc(ps, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->column = off + 1;
	ps->pat->nnodes++;
	return n;
}

typedef struct sp_node *(*parse_fn)(struct parser *);

/* Left-associative chain sub (op sub)*. */
static struct sp_node *
parse_chain(struct parser *ps, enum tk op, enum sp_node_kind kind, parse_fn sub)
{
	struct sp_node *l = sub(ps);
	while (l && ps->tok.kind == op) {
		advance(ps);
		struct sp_node *r = sub(ps);
		if (!r)
			return NULL;
		struct sp_node *n = new_node(ps, kind, l->column - 1);
		if (!n)
			return NULL;
		n->left = l;
		n->right = r;
		l = n;
	}
	return l;
}

/* Appends step to a growable arena array (cap doubles; the old copy is
 * abandoned in the arena, bounding waste at 2x). */
static bool
push_step(struct parser *ps, struct sp_path *path, size_t *cap, struct sp_step st)
{
	if (path->nsteps == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct sp_step *a = arena_alloc(ps, ncap * sizeof(*a));
		if (!a)
			return false;
		if (path->nsteps)
			memcpy(a, path->steps, path->nsteps * sizeof(*a));
		path->steps = a;
		*cap = ncap;
	}
	path->steps[path->nsteps++] = st;
	return true;
}

/* A property name: an identifier without '-', or a quoted string. */
static const char *
parse_key(struct parser *ps, const char *after)
{
	char what[64];
	const char *key = NULL;

	switch (ps->tok.kind) {
	case TK_IDENT:
		key = arena_strndup(ps, ps->s + ps->tok.off, ps->tok.len);
		break;
	case TK_STRING:
		if (memchr(ps->tok.c.str, '\0', ps->tok.c.len)) {
			fail_at(ps, TC_EINVAL, ps->tok.off, "NUL byte in property name");
			return NULL;
		}
		key = ps->tok.c.str;
		break;
	case TK_IDENT_HYPHEN:
		fail_at(ps, TC_EINVAL, ps->tok.off,
		        "property name may not contain '-' unless quoted");
		return NULL;
	default:
		snprintf(what, sizeof(what), "property name after %s", after);
		expected(ps, what);
		return NULL;
	}
	if (key)
		advance(ps);
	return key;
}

/* objectPath: type ':' first (('.' key) | ('[' index ']'))* */
static bool
parse_path(struct parser *ps, struct sp_path *path)
{
	size_t cap = 0;

	if (ps->tok.kind != TK_IDENT && ps->tok.kind != TK_IDENT_HYPHEN) {
		expected(ps, "object path (type:property)");
		return false;
	}
	path->type = arena_strndup(ps, ps->s + ps->tok.off, ps->tok.len);
	if (!path->type)
		return false;
	advance(ps);
	if (ps->tok.kind != TK_COLON) {
		expected(ps, "':' after object type");
		return false;
	}
	advance(ps);
	struct sp_step st = {.kind = SP_STEP_KEY};
	if (!(st.key = parse_key(ps, "':'")) || !push_step(ps, path, &cap, st))
		return false;
	for (;;) {
		if (ps->tok.kind == TK_DOT) {
			advance(ps);
			st = (struct sp_step){.kind = SP_STEP_KEY};
			if (!(st.key = parse_key(ps, "'.'")))
				return false;
		} else if (ps->tok.kind == TK_LBRACK) {
			advance(ps);
			if (ps->tok.kind == TK_INT) {
				st = (struct sp_step){.kind = SP_STEP_INDEX, .index = ps->tok.c.i};
			} else if (ps->tok.kind == TK_STAR) {
				st = (struct sp_step){.kind = SP_STEP_ANY};
			} else {
				expected(ps, "integer or '*' in list index");
				return false;
			}
			advance(ps);
			if (ps->tok.kind != TK_RBRACK) {
				expected(ps, "']' after list index");
				return false;
			}
			advance(ps);
		} else {
			return !ps->rc;
		}
		if (!push_step(ps, path, &cap, st))
			return false;
	}
}

static bool
is_primitive_tok(enum tk k)
{
	return k == TK_INT || k == TK_FLOAT || k == TK_STRING || k == TK_BINARY || k == TK_HEX ||
	       k == TK_TIMESTAMP || k == TK_BOOL;
}

/* setLiteral: '(' ')' | '(' primitive (',' primitive)* ')'. The grammar
 * allows the empty set; it matches nothing. */
static bool
parse_set(struct parser *ps, struct sp_const *set)
{
	size_t cap = 0;

	set->kind = SP_CONST_SET;
	advance(ps); /* '(' */
	if (ps->tok.kind == TK_RPAREN) {
		advance(ps);
		return !ps->rc;
	}
	for (;;) {
		if (!is_primitive_tok(ps->tok.kind)) {
			expected(ps, "a value in set");
			return false;
		}
		if (set->nitems == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct sp_const *a = arena_alloc(ps, ncap * sizeof(*a));
			if (!a)
				return false;
			if (set->nitems)
				memcpy(a, set->items, set->nitems * sizeof(*a));
			set->items = a;
			cap = ncap;
		}
		set->items[set->nitems++] = ps->tok.c;
		advance(ps);
		if (ps->tok.kind == TK_RPAREN)
			break;
		if (ps->tok.kind != TK_COMMA) {
			expected(ps, "',' or ')' in set");
			return false;
		}
		advance(ps);
	}
	advance(ps);
	return !ps->rc;
}

static struct sp_node *parse_cmp_or(struct parser *ps);

/* propTest: path NOT? op value | '(' comparison ')' | NOT? EXISTS path */
static struct sp_node *
parse_prop_test(struct parser *ps)
{
	size_t off = ps->tok.off;
	bool neg = false;

	if (ps->tok.kind == TK_LPAREN) {
		if (!enter(ps))
			return NULL;
		advance(ps);
		struct sp_node *n = parse_cmp_or(ps);
		if (!n)
			return NULL;
		if (ps->tok.kind != TK_RPAREN) {
			expected(ps, "')' after comparison expression");
			return NULL;
		}
		advance(ps);
		ps->depth--;
		return n;
	}
	if (ps->tok.kind == TK_NOT) {
		neg = true;
		advance(ps);
		if (ps->tok.kind != TK_EXISTS) {
			expected(ps, "EXISTS after NOT");
			return NULL;
		}
	}
	if (ps->tok.kind == TK_EXISTS) {
		advance(ps);
		struct sp_node *n = new_node(ps, SP_EXISTS, off);
		if (!n || !parse_path(ps, &n->path))
			return NULL;
		n->negated = neg;
		return n;
	}
	struct sp_node *n = new_node(ps, SP_COMPARISON, off);
	if (!n || !parse_path(ps, &n->path))
		return NULL;
	if (ps->tok.kind == TK_NOT) {
		n->negated = true;
		advance(ps);
	}
	switch (ps->tok.kind) {
	case TK_EQ:
		n->op = SP_OP_EQ;
		break;
	case TK_NEQ:
		n->op = SP_OP_NEQ;
		break;
	case TK_GT:
		n->op = SP_OP_GT;
		break;
	case TK_LT:
		n->op = SP_OP_LT;
		break;
	case TK_GE:
		n->op = SP_OP_GE;
		break;
	case TK_LE:
		n->op = SP_OP_LE;
		break;
	case TK_IN:
		n->op = SP_OP_IN;
		break;
	case TK_LIKE:
		n->op = SP_OP_LIKE;
		break;
	case TK_MATCHES:
		n->op = SP_OP_MATCHES;
		break;
	case TK_ISSUBSET:
		n->op = SP_OP_ISSUBSET;
		break;
	case TK_ISSUPERSET:
		n->op = SP_OP_ISSUPERSET;
		break;
	default:
		expected(ps, "comparison operator after object path");
		return NULL;
	}
	advance(ps);
	enum tk k = ps->tok.kind;
	char what[64];
	switch (n->op) {
	case SP_OP_EQ:
	case SP_OP_NEQ: /* propTestEqual: primitiveLiteral */
	case SP_OP_GT:
	case SP_OP_LT:
	case SP_OP_GE:
	case SP_OP_LE: /* orderableLiteral */
		if (k == TK_LPAREN) {
			fail_at(ps, TC_EINVAL, ps->tok.off,
			        "'%s' compares with a single value, not a set (use IN)",
			        stix_pattern_op_text(n->op));
			return NULL;
		}
		if (k == TK_BOOL && n->op != SP_OP_EQ && n->op != SP_OP_NEQ) {
			fail_at(ps, TC_EINVAL, ps->tok.off,
			        "'%s' needs an orderable value, not a boolean", stix_pattern_op_text(n->op));
			return NULL;
		}
		if (!is_primitive_tok(k)) {
			snprintf(what, sizeof(what), "a value after '%s'", stix_pattern_op_text(n->op));
			expected(ps, what);
			return NULL;
		}
		n->value = ps->tok.c;
		advance(ps);
		break;
	case SP_OP_IN: /* propTestSet */
		if (k != TK_LPAREN) {
			expected(ps, "a set (a, b, ...) after IN");
			return NULL;
		}
		if (!parse_set(ps, &n->value))
			return NULL;
		break;
	default:
		/* LIKE, MATCHES, ISSUBSET, ISSUPERSET take a StringLiteral. The
		 * MATCHES string is a PCRE (STIX 2.1 §9, Comparison Operators);
		 * it is NOT compiled or checked here (known gap): a bad
		 * regular expression parses and fails only where matched. */
		if (k != TK_STRING) {
			snprintf(what, sizeof(what), "a string after %s", stix_pattern_op_text(n->op));
			expected(ps, what);
			return NULL;
		}
		n->value = ps->tok.c;
		advance(ps);
		break;
	}
	return ps->rc ? NULL : n;
}

static struct sp_node *
parse_cmp_and(struct parser *ps)
{
	return parse_chain(ps, TK_AND, SP_CMP_AND, parse_prop_test);
}

static struct sp_node *
parse_cmp_or(struct parser *ps)
{
	return parse_chain(ps, TK_OR, SP_CMP_OR, parse_cmp_and);
}

/* Qualifiers after an observation expression or a parenthesised group,
 * any number and order, at most one of each kind on one expression
 * (STIX 2.1 §9, Pattern Qualifiers). The qualifiers of a group around a
 * single expression merge into that expression's node; their order is kept
 * only where it changes the meaning (within_first). */
static bool
parse_qualifiers(struct parser *ps, struct sp_node *n)
{
	for (;;) {
		size_t off = ps->tok.off;
		switch (ps->tok.kind) {
		case TK_WITHIN:
			/* STIX 2.1 §9, Pattern Qualifiers: WITHIN <int|float>
			 * SECONDS, a positive number */
			if (n->has_within) {
				fail_at(ps, TC_EINVAL, off, "duplicate WITHIN qualifier");
				return false;
			}
			advance(ps);
			if ((ps->tok.kind != TK_INT && ps->tok.kind != TK_FLOAT) ||
			    ps->tok.negative ||
			    (ps->tok.kind == TK_INT ? ps->tok.c.i <= 0 : !(ps->tok.c.f > 0))) {
				expected(ps, "a positive number of seconds after WITHIN");
				return false;
			}
			n->within_seconds =
			    ps->tok.kind == TK_INT ? (double)ps->tok.c.i : ps->tok.c.f;
			n->has_within = true;
			advance(ps);
			if (ps->tok.kind != TK_SECONDS) {
				expected(ps, "SECONDS after WITHIN n");
				return false;
			}
			advance(ps);
			break;
		case TK_START:
			if (n->has_start_stop) {
				fail_at(ps, TC_EINVAL, off, "duplicate START/STOP qualifier");
				return false;
			}
			advance(ps);
			if (ps->tok.kind != TK_TIMESTAMP) {
				expected(ps, "t'...' timestamp after START");
				return false;
			}
			n->start_us = ps->tok.c.ts_us;
			advance(ps);
			if (ps->tok.kind != TK_STOP) {
				expected(ps, "STOP after START t'...'");
				return false;
			}
			advance(ps);
			if (ps->tok.kind != TK_TIMESTAMP) {
				expected(ps, "t'...' timestamp after STOP");
				return false;
			}
			n->stop_us = ps->tok.c.ts_us;
			if (n->stop_us <= n->start_us) {
				fail_at(ps, TC_EINVAL, ps->tok.off,
				        "STOP must be later than START");
				return false;
			}
			n->has_start_stop = true;
			advance(ps);
			break;
		case TK_REPEATS:
			if (n->has_repeats) {
				fail_at(ps, TC_EINVAL, off, "duplicate REPEATS qualifier");
				return false;
			}
			advance(ps);
			if (ps->tok.kind != TK_INT || ps->tok.negative || ps->tok.c.i <= 0) {
				expected(ps, "a positive integer after REPEATS");
				return false;
			}
			n->repeats = ps->tok.c.i;
			n->has_repeats = true;
			n->within_first = n->has_within;
			advance(ps);
			if (ps->tok.kind != TK_TIMES) {
				expected(ps, "TIMES after REPEATS n");
				return false;
			}
			advance(ps);
			break;
		default:
			return !ps->rc;
		}
	}
}

static struct sp_node *parse_obs_expressions(struct parser *ps);

/* observationExpression: '[' comparison ']' | '(' observations ')', then
 * qualifiers. */
static struct sp_node *
parse_obs_expr(struct parser *ps)
{
	size_t off = ps->tok.off;
	struct sp_node *n;

	if (ps->tok.kind == TK_LBRACK) {
		if (!enter(ps))
			return NULL;
		advance(ps);
		struct sp_node *c = parse_cmp_or(ps);
		if (!c)
			return NULL;
		if (ps->tok.kind != TK_RBRACK) {
			expected(ps, "']' after comparison expression");
			return NULL;
		}
		advance(ps);
		ps->depth--;
		n = new_node(ps, SP_OBSERVATION, off);
		if (!n)
			return NULL;
		n->left = c;
	} else if (ps->tok.kind == TK_LPAREN) {
		if (!enter(ps))
			return NULL;
		advance(ps);
		n = parse_obs_expressions(ps);
		if (!n)
			return NULL;
		if (ps->tok.kind != TK_RPAREN) {
			expected(ps, "')' after observation expression");
			return NULL;
		}
		advance(ps);
		ps->depth--;
	} else {
		expected(ps, "'[' or '(' to start an observation expression");
		return NULL;
	}
	return parse_qualifiers(ps, n) ? n : NULL;
}

static struct sp_node *
parse_obs_and(struct parser *ps)
{
	return parse_chain(ps, TK_AND, SP_OBS_AND, parse_obs_expr);
}

static struct sp_node *
parse_obs_or(struct parser *ps)
{
	return parse_chain(ps, TK_OR, SP_OBS_OR, parse_obs_and);
}

/* STIX 2.1 §9, Operator Precedence: FOLLOWEDBY binds loosest, then OR,
 * then AND. */
static struct sp_node *
parse_obs_expressions(struct parser *ps)
{
	return parse_chain(ps, TK_FOLLOWEDBY, SP_FOLLOWEDBY, parse_obs_or);
}

enum tcerr
stix_pattern_parse(struct slice text, const struct sp_limits *lim, struct stix_pattern **out,
                   struct diag *d)
{
	struct parser ps = {.s = text.p ? text.p : "", .len = text.len, .d = d};

	*out = NULL;
	diag_clear(d);
	ps.lim.max_len = lim && lim->max_len ? lim->max_len : STIX_PATTERN_MAX_LEN_DEFAULT;
	ps.lim.max_depth = lim && lim->max_depth ? lim->max_depth : STIX_PATTERN_MAX_DEPTH_DEFAULT;
	ps.lim.max_nodes = lim && lim->max_nodes ? lim->max_nodes : STIX_PATTERN_MAX_NODES_DEFAULT;
	if (!text.p && text.len)
		return diag_set(d, TC_EINVAL, "pattern text is NULL");
	if (text.len > ps.lim.max_len)
		return diag_set(d, TC_ELIMIT,
		                "pattern is %zu bytes, more than the limit of %zu (max_len)",
		                text.len, ps.lim.max_len);

	size_t cap = ARENA_FIRST_MIN + 8 * text.len;
	if (cap > ARENA_FIRST_MAX)
		cap = ARENA_FIRST_MAX;
	struct arena_chunk *first = chunk_new(cap);
	if (!first)
		return diag_set(d, TC_ENOMEM, "out of memory parsing pattern");
	ps.cur = first;
	ps.pat = arena_alloc(&ps, sizeof(*ps.pat));
	ps.pat->root = NULL;
	ps.pat->nnodes = 0;
	ps.pat->arena__ = first;

	advance(&ps);
	if (ps.tok.kind == TK_EOF)
		fail_at(&ps, TC_EINVAL, ps.tok.off, "empty pattern");
	else
		ps.pat->root = parse_obs_expressions(&ps);
	if (!ps.rc && ps.tok.kind != TK_EOF)
		expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern");
	if (ps.rc) {
		chunk_free_all(first);
		return ps.rc;
	}
	*out = ps.pat;
	return TC_OK;
}

void
stix_pattern_free(struct stix_pattern *p)
{
	if (p)
		chunk_free_all(p->arena__);
}
