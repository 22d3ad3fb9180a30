/*
 * jcs.c — RFC 8785 JSON Canonicalization Scheme (prov.h, prov_int.h).
 *
 * The text is parsed once into a jcs_doc (I-JSON, RFC 7493: valid UTF-8,
 * no lone surrogates, no duplicate member names, finite numbers), then
 * emitted canonically: no whitespace; members sorted by their names' UTF-16
 * code units (RFC 8785 §3.2.3); strings with only the escapes §3.2.2.2
 * names (\" \\ \b \f \n \r \t, other controls as \u00xx, everything else
 * as itself); numbers in ECMAScript Number.prototype.toString form
 * (§3.2.2.3), computed as the shortest digit string that reads back as the
 * same double. strtod runs in the C locale (no tocsin program sets
 * LC_NUMERIC).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov/prov_int.h"
#include "util/hex.h"


/* Frees what json_dumps() returned, with the allocator jansson was given
 * (json_set_alloc_funcs: the daemon's and the importer's arenas). */
static void
dumps_free(char *p)
{
	json_free_t f = NULL;
	json_get_alloc_funcs(NULL, &f);
	if (f)
		f(p);
	else
		free(p);
}

#define JCS_MEMBERS_INLINE 64
#define JCS_NUMBER_MAX 512 /* characters of one number literal */

void
jcs__init(struct jcs_doc *doc)
{
	doc->nodes = doc->inline_nodes;
	doc->n = 0;
	doc->cap = JCS_INLINE_NODES;
	buf_init(&doc->str, PROV_OBJECT_MAX);
	doc->text = NULL;
	doc->len_hint = 0;
}

void
jcs__free(struct jcs_doc *doc)
{
	if (doc->nodes != doc->inline_nodes)
		free(doc->nodes);
	doc->nodes = doc->inline_nodes;
	doc->n = 0;
	doc->cap = JCS_INLINE_NODES;
	buf_reset(&doc->str);
}

/* ---- parsing --------------------------------------------------------- */

struct parser {
	struct jcs_doc *doc;
	const unsigned char *p, *start, *end;
	struct diag *d;
};

static enum tcerr
perr(struct parser *ps, enum tcerr rc, const char *what)
{
	return diag_set(ps->d, rc, "JSON at byte %zu: %s", (size_t)(ps->p - ps->start), what);
}

static int32_t
node_new(struct parser *ps, uint8_t type)
{
	struct jcs_doc *doc = ps->doc;
	struct jcs_node *n;
	if (doc->n == doc->cap) {
		size_t cap = doc->cap * 2;
		struct jcs_node *nn;
		if (cap > INT32_MAX)
			return -1;
		if (doc->nodes == doc->inline_nodes) {
			nn = malloc(cap * sizeof(*nn));
			if (nn)
				memcpy(nn, doc->nodes, doc->n * sizeof(*nn));
		} else {
			nn = realloc(doc->nodes, cap * sizeof(*nn));
		}
		if (!nn)
			return -1;
		doc->nodes = nn;
		doc->cap = cap;
	}
	n = &doc->nodes[doc->n];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->child = n->next = -1;
	return (int32_t)doc->n++;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = (size_t)(end - p);
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

static int
hex4(const unsigned char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex_digit((char)p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(b, u, n);
}

/* Parses the string at ps->p ('"'). OUT: *s (pointer into the text, or an
 * offset into doc->str when *dec), *len, *ascii. */
static enum tcerr
parse_string(struct parser *ps, const char **s, uint32_t *len, uint8_t *dec, uint8_t *ascii)
{
	const unsigned char *q = ++ps->p, *run;
	struct buf *b = &ps->doc->str;
	size_t off;

	*ascii = 1;
	*dec = 0;
	while (q < ps->end && *q != '"' && *q != '\\') {
		if (*q < 0x20) {
			ps->p = q;
			return perr(ps, TC_EINVAL, "control character in a string");
		}
		if (*q < 0x80) {
			q++;
		} else {
			size_t l = utf8_len(q, ps->end);
			if (!l) {
				ps->p = q;
				return perr(ps, TC_EINVAL, "invalid UTF-8");
			}
			q += l;
			*ascii = 0;
		}
	}
	if (q >= ps->end) {
		ps->p = q;
		return perr(ps, TC_EINVAL, "unterminated string");
	}
	if (*q == '"') {
		if ((size_t)(q - ps->p) > UINT32_MAX)
			return perr(ps, TC_ELIMIT, "string too long");
		*s = (const char *)ps->p;
		*len = (uint32_t)(q - ps->p);
		ps->p = q + 1;
		return TC_OK;
	}
	/* escapes: decode into doc->str */
	*dec = 1;
	off = b->len;
	run = ps->p;
	buf_append(b, run, (size_t)(q - run));
	while (q < ps->end && *q != '"') {
		if (*q == '\\') {
			uint32_t cp;
			if (ps->end - q < 2)
				break;
			switch (q[1]) {
			case '"': buf_append_char(b, '"'); q += 2; continue;
			case '\\': buf_append_char(b, '\\'); q += 2; continue;
			case '/': buf_append_char(b, '/'); q += 2; continue;
			case 'b': buf_append_char(b, '\b'); q += 2; continue;
			case 'f': buf_append_char(b, '\f'); q += 2; continue;
			case 'n': buf_append_char(b, '\n'); q += 2; continue;
			case 'r': buf_append_char(b, '\r'); q += 2; continue;
			case 't': buf_append_char(b, '\t'); q += 2; continue;
			case 'u': break;
			default:
				ps->p = q;
				return perr(ps, TC_EINVAL, "invalid escape");
			}
			if (ps->end - q < 6 || hex4(q + 2) < 0) {
				ps->p = q;
				return perr(ps, TC_EINVAL, "invalid \\u escape");
			}
			cp = (uint32_t)hex4(q + 2);
			q += 6;
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				ps->p = q;
				return perr(ps, TC_EINVAL, "lone low surrogate");
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				int lo;
				if (ps->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
				    (lo = hex4(q + 2)) < 0xDC00 || lo > 0xDFFF) {
					ps->p = q;
					return perr(ps, TC_EINVAL, "lone high surrogate");
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
				q += 6;
			}
			if (cp >= 0x80)
				*ascii = 0;
			put_utf8(b, cp);
		} else if (*q < 0x20) {
			ps->p = q;
			return perr(ps, TC_EINVAL, "control character in a string");
		} else {
			size_t l = *q < 0x80 ? 1 : utf8_len(q, ps->end);
			if (!l) {
				ps->p = q;
				return perr(ps, TC_EINVAL, "invalid UTF-8");
			}
			if (l > 1)
				*ascii = 0;
			buf_append(b, q, l);
			q += l;
		}
	}
	if (q >= ps->end) {
		ps->p = q;
		return perr(ps, TC_EINVAL, "unterminated string");
	}
	if (buf_error(b))
		return perr(ps, buf_error(b), "decoded strings over the limit");
	if (b->len - off > UINT32_MAX)
		return perr(ps, TC_ELIMIT, "string too long");
	*s = (const char *)(uintptr_t)off;
	*len = (uint32_t)(b->len - off);
	ps->p = q + 1;
	return TC_OK;
}

static enum tcerr
parse_number(struct parser *ps, struct jcs_node *n)
{
	const unsigned char *q = ps->p;
	if (q < ps->end && *q == '-')
		q++;
	if (q < ps->end && *q == '0') {
		q++;
	} else if (q < ps->end && *q >= '1' && *q <= '9') {
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		return perr(ps, TC_EINVAL, "invalid number");
	}
	if (q < ps->end && *q == '.') {
		q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return perr(ps, TC_EINVAL, "invalid number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9')
			return perr(ps, TC_EINVAL, "invalid number");
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q - ps->p > JCS_NUMBER_MAX)
		return perr(ps, TC_ELIMIT, "number literal too long");
	n->s = (const char *)ps->p;
	n->len = (uint32_t)(q - ps->p);
	ps->p = q;
	return TC_OK;
}

static enum tcerr parse_value(struct parser *ps, int depth, int32_t *out);

static enum tcerr
parse_container(struct parser *ps, int depth, int32_t self, bool obj)
{
	int32_t last = -1;
	uint32_t count = 0;
	enum tcerr rc;
	const char close = obj ? '}' : ']';

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return TC_OK;
	}
	for (;;) {
		const char *key = NULL;
		uint32_t key_len = 0;
		uint8_t key_dec = 0, key_ascii = 1;
		int32_t v;

		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				return perr(ps, TC_EINVAL, "expected a member name");
			if ((rc = parse_string(ps, &key, &key_len, &key_dec, &key_ascii)))
				return rc;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return perr(ps, TC_EINVAL, "expected ':'");
			ps->p++;
			skip_ws(ps);
		}
		if ((rc = parse_value(ps, depth + 1, &v)))
			return rc;
		{
			struct jcs_node *vn = &ps->doc->nodes[v];
			vn->key = key;
			vn->key_len = key_len;
			vn->key_dec = key_dec;
			vn->key_ascii = key_ascii;
		}
		if (last < 0)
			ps->doc->nodes[self].child = v;
		else
			ps->doc->nodes[last].next = v;
		last = v;
		count++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		return perr(ps, TC_EINVAL, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	ps->doc->nodes[self].count = count;
	return TC_OK;
}

static enum tcerr
parse_value(struct parser *ps, int depth, int32_t *out)
{
	int32_t i;
	enum tcerr rc;

	if (depth > PROV_JCS_DEPTH_MAX)
		return perr(ps, TC_ELIMIT, "nested too deeply");
	if (ps->p >= ps->end)
		return perr(ps, TC_EINVAL, "expected a value");
	switch (*ps->p) {
	case '{':
	case '[': {
		bool obj = *ps->p == '{';
		if ((i = node_new(ps, obj ? JCS_OBJ : JCS_ARR)) < 0)
			return perr(ps, TC_ENOMEM, "out of memory");
		*out = i;
		return parse_container(ps, depth, i, obj);
	}
	case '"': {
		const char *s;
		uint32_t len;
		uint8_t dec, ascii;
		if ((i = node_new(ps, JCS_STR)) < 0)
			return perr(ps, TC_ENOMEM, "out of memory");
		if ((rc = parse_string(ps, &s, &len, &dec, &ascii)))
			return rc;
		ps->doc->nodes[i].s = s;
		ps->doc->nodes[i].len = len;
		ps->doc->nodes[i].s_dec = dec;
		*out = i;
		return TC_OK;
	}
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = { "true", "false", "null" };
		static const uint8_t type[] = { JCS_TRUE, JCS_FALSE, JCS_NULL };
		int k = *ps->p == 't' ? 0 : *ps->p == 'f' ? 1 : 2;
		size_t l = strlen(lit[k]);
		if ((size_t)(ps->end - ps->p) < l || memcmp(ps->p, lit[k], l) != 0)
			return perr(ps, TC_EINVAL, "invalid literal");
		if ((i = node_new(ps, type[k])) < 0)
			return perr(ps, TC_ENOMEM, "out of memory");
		ps->p += l;
		*out = i;
		return TC_OK;
	}
	default:
		if ((i = node_new(ps, JCS_NUM)) < 0)
			return perr(ps, TC_ENOMEM, "out of memory");
		*out = i;
		return parse_number(ps, &ps->doc->nodes[i]);
	}
}

enum tcerr
jcs__parse(struct jcs_doc *doc, struct slice text, struct diag *d)
{
	struct parser ps = { doc, (const unsigned char *)text.p, (const unsigned char *)text.p,
		             (const unsigned char *)text.p + text.len, d };
	int32_t root;
	enum tcerr rc;

	doc->n = 0;
	buf_clear(&doc->str);
	doc->text = text.p;
	doc->len_hint = text.len;
	if (text.len > PROV_OBJECT_MAX)
		return diag_set(d, TC_ELIMIT, "JSON: %zu bytes, over the limit of %u", text.len,
		                PROV_OBJECT_MAX);
	skip_ws(&ps);
	if ((rc = parse_value(&ps, 0, &root)))
		return rc;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return perr(&ps, TC_EINVAL, "text after the value");
	/* decoded strings: offsets to pointers, now that str no longer moves */
	for (size_t i = 0; i < doc->n; i++) {
		struct jcs_node *n = &doc->nodes[i];
		if (n->s_dec) {
			n->s = doc->str.p + (uintptr_t)n->s;
			n->s_dec = 0;
		}
		if (n->key_dec) {
			n->key = doc->str.p + (uintptr_t)n->key;
			n->key_dec = 0;
		}
	}
	return TC_OK;
}

int32_t
jcs__get(const struct jcs_doc *doc, int32_t obj, const char *key)
{
	size_t l = strlen(key);
	if (obj < 0 || doc->nodes[obj].type != JCS_OBJ)
		return -1;
	for (int32_t c = doc->nodes[obj].child; c >= 0; c = doc->nodes[c].next)
		if (doc->nodes[c].key_len == l && memcmp(doc->nodes[c].key, key, l) == 0)
			return c;
	return -1;
}

/* ---- emitting -------------------------------------------------------- */

/* The next UTF-16 code unit of the (valid) UTF-8 at *p. */
static unsigned
next_unit(const unsigned char **p, unsigned *pending)
{
	const unsigned char *q = *p;
	uint32_t cp;
	if (*pending) {
		unsigned u = *pending;
		*pending = 0;
		return u;
	}
	if (q[0] < 0x80) {
		cp = q[0];
		*p = q + 1;
	} else if (q[0] < 0xE0) {
		cp = (uint32_t)(q[0] & 0x1F) << 6 | (q[1] & 0x3F);
		*p = q + 2;
	} else if (q[0] < 0xF0) {
		cp = (uint32_t)(q[0] & 0x0F) << 12 | (uint32_t)(q[1] & 0x3F) << 6 | (q[2] & 0x3F);
		*p = q + 3;
	} else {
		cp = (uint32_t)(q[0] & 0x07) << 18 | (uint32_t)(q[1] & 0x3F) << 12 |
		     (uint32_t)(q[2] & 0x3F) << 6 | (q[3] & 0x3F);
		*p = q + 4;
	}
	if (cp < 0x10000)
		return cp;
	cp -= 0x10000;
	*pending = 0xDC00 + (cp & 0x3FF);
	return 0xD800 + (cp >> 10);
}

/* RFC 8785 §3.2.3: member names compared as arrays of UTF-16 code units. */
static int
key_cmp(const void *pa, const void *pb)
{
	const struct jcs_node *a = *(const struct jcs_node *const *)pa;
	const struct jcs_node *b = *(const struct jcs_node *const *)pb;
	const unsigned char *p, *q, *pe, *qe;
	unsigned pp = 0, qp = 0;

	if (a->key_ascii && b->key_ascii) {
		size_t m = a->key_len < b->key_len ? a->key_len : b->key_len;
		int c = memcmp(a->key, b->key, m);
		if (c)
			return c;
		return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
	}
	p = (const unsigned char *)a->key;
	q = (const unsigned char *)b->key;
	pe = p + a->key_len;
	qe = q + b->key_len;
	while ((p < pe || pp) && (q < qe || qp)) {
		unsigned x = next_unit(&p, &pp), y = next_unit(&q, &qp);
		if (x != y)
			return x < y ? -1 : 1;
	}
	if ((p < pe || pp))
		return 1;
	if ((q < qe || qp))
		return -1;
	return 0;
}

static void
emit_string(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	buf_append_char(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		char u[7];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			e = u;
		}
		buf_append_cstr(out, e);
	}
	buf_append(out, s + run, len - run);
	buf_append_char(out, '"');
}

/* ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) of the number literal
 * s: the shortest round-tripping digits, then the notation rules. */
static enum tcerr
emit_number(const char *s, size_t len, struct buf *out, struct diag *d)
{
	char lit[JCS_NUMBER_MAX + 1], tmp[40], digits[20];
	size_t neg = s[0] == '-', k = 0, i;
	double v;
	int n, e;
	bool plain = true;

	for (i = neg; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			plain = false;
	/* an integer of at most 15 digits is exact and already canonical */
	if (plain && len - neg <= 15) {
		if (len - neg == 1 && s[neg] == '0')
			buf_append_char(out, '0'); /* -0 too */
		else
			buf_append(out, s, len);
		return TC_OK;
	}
	memcpy(lit, s, len);
	lit[len] = '\0';
	v = strtod(lit, NULL);
	if (!isfinite(v))
		return diag_set(d, TC_EINVAL, "JSON: number %.40s is not a finite double", lit);
	if (v == 0) {
		buf_append_char(out, '0');
		return TC_OK;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp: [-]d[.ddd]e[+-]xx */
	i = tmp[0] == '-';
	for (; tmp[i] && tmp[i] != 'e'; i++)
		if (tmp[i] != '.' && k < sizeof(digits))
			digits[k++] = tmp[i];
	e = (int)strtol(tmp + i + 1, NULL, 10);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	n = e + 1; /* value = 0.digits × 10^n */
	if (v < 0)
		buf_append_char(out, '-');
	if ((int)k <= n && n <= 21) {
		buf_append(out, digits, k);
		for (int z = 0; z < n - (int)k; z++)
			buf_append_char(out, '0');
	} else if (0 < n && n <= 21) {
		buf_append(out, digits, (size_t)n);
		buf_append_char(out, '.');
		buf_append(out, digits + n, k - (size_t)n);
	} else if (-6 < n && n <= 0) {
		buf_append(out, "0.", 2);
		for (int z = 0; z < -n; z++)
			buf_append_char(out, '0');
		buf_append(out, digits, k);
	} else {
		buf_append_char(out, digits[0]);
		if (k > 1) {
			buf_append_char(out, '.');
			buf_append(out, digits + 1, k - 1);
		}
		buf_printf(out, "e%c%d", n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
	}
	return TC_OK;
}

static enum tcerr emit(const struct jcs_doc *doc, int32_t i, int root_strip, struct buf *out,
                       struct diag *d);

/* Emits object i; skip names a member to leave out (NULL: none); when
 * root_strip, also its `extensions` member when skipping PROV_EXT_ID in it
 * leaves it empty. */
static enum tcerr
emit_object(const struct jcs_doc *doc, int32_t i, const char *skip, bool root_strip,
            struct buf *out, struct diag *d)
{
	const struct jcs_node *inl[JCS_MEMBERS_INLINE], **m = inl;
	const struct jcs_node *o = &doc->nodes[i];
	size_t n = 0, skip_len = skip ? strlen(skip) : 0;
	bool first = true;
	enum tcerr rc = TC_OK;

	if (o->count > JCS_MEMBERS_INLINE && !(m = malloc(o->count * sizeof(*m))))
		return diag_set(d, TC_ENOMEM, "JSON: out of memory");
	for (int32_t c = o->child; c >= 0; c = doc->nodes[c].next)
		m[n++] = &doc->nodes[c];
	if (n > 24) {
		qsort(m, n, sizeof(*m), key_cmp);
	} else {
		/* a STIX object has a dozen members: insertion sort is quicker */
		for (size_t k = 1; k < n; k++) {
			const struct jcs_node *x = m[k];
			size_t j = k;
			while (j > 0 && key_cmp(&m[j - 1], &x) > 0) {
				m[j] = m[j - 1];
				j--;
			}
			m[j] = x;
		}
	}
	for (size_t k = 1; k < n; k++)
		if (key_cmp(&m[k - 1], &m[k]) == 0) {
			rc = diag_set(d, TC_EINVAL, "JSON: duplicate member name \"%.*s\"",
			              (int)(m[k]->key_len > 64 ? 64 : m[k]->key_len), m[k]->key);
			goto out;
		}
	buf_append_char(out, '{');
	for (size_t k = 0; k < n; k++) {
		const struct jcs_node *c = m[k];
		bool ext = false;
		if (skip && c->key_len == skip_len && memcmp(c->key, skip, skip_len) == 0)
			continue;
		if (root_strip && c->key_len == 10 && memcmp(c->key, "extensions", 10) == 0 &&
		    c->type == JCS_OBJ) {
			ext = true;
			if (c->count == 1 && jcs__get(doc, (int32_t)(c - doc->nodes), PROV_EXT_ID) >= 0)
				continue;
		}
		if (!first)
			buf_append_char(out, ',');
		first = false;
		emit_string(c->key, c->key_len, out);
		buf_append_char(out, ':');
		if (ext)
			rc = emit_object(doc, (int32_t)(c - doc->nodes), PROV_EXT_ID, false, out, d);
		else
			rc = emit(doc, (int32_t)(c - doc->nodes), 0, out, d);
		if (rc)
			goto out;
	}
	buf_append_char(out, '}');
out:
	if (m != inl)
		free(m);
	return rc;
}

static enum tcerr
emit(const struct jcs_doc *doc, int32_t i, int root_strip, struct buf *out, struct diag *d)
{
	const struct jcs_node *n = &doc->nodes[i];
	enum tcerr rc;
	switch (n->type) {
	case JCS_NULL: buf_append(out, "null", 4); return TC_OK;
	case JCS_TRUE: buf_append(out, "true", 4); return TC_OK;
	case JCS_FALSE: buf_append(out, "false", 5); return TC_OK;
	case JCS_NUM: return emit_number(n->s, n->len, out, d);
	case JCS_STR: emit_string(n->s, n->len, out); return TC_OK;
	case JCS_ARR:
		buf_append_char(out, '[');
		for (int32_t c = n->child; c >= 0; c = doc->nodes[c].next) {
			if (c != n->child)
				buf_append_char(out, ',');
			if ((rc = emit(doc, c, 0, out, d)))
				return rc;
		}
		buf_append_char(out, ']');
		return TC_OK;
	default:
		return emit_object(doc, i, NULL, root_strip, out, d);
	}
}

enum tcerr
jcs__emit(const struct jcs_doc *doc, int32_t i, bool strip_prov, struct buf *out, struct diag *d)
{
	enum tcerr rc;
	if (strip_prov && doc->nodes[i].type != JCS_OBJ)
		return diag_set(d, TC_EINVAL, "JSON: an object was expected");
	rc = emit(doc, i, strip_prov, out, d);
	if (rc == TC_OK && buf_error(out))
		rc = diag_set(d, buf_error(out), "JSON: canonical form: %s",
		              tcerr_str(buf_error(out)));
	return rc;
}

enum tcerr
prov_jcs(struct slice text, bool strip_prov, struct buf *out, struct diag *d)
{
	struct jcs_doc doc;
	enum tcerr rc;
	jcs__init(&doc);
	rc = jcs__parse(&doc, text, d);
	if (rc == TC_OK)
		rc = jcs__emit(&doc, 0, strip_prov, out, d);
	jcs__free(&doc);
	return rc;
}

enum tcerr
prov_jcs_json(const json_t *v, bool strip_prov, struct buf *out, struct diag *d)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	enum tcerr rc;
	if (!text)
		return diag_set(d, TC_ENOMEM, "JSON: cannot serialise");
	rc = prov_jcs(slice_from_cstr(text), strip_prov, out, d);
	dumps_free(text);
	return rc;
}
