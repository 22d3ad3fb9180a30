/*
 * obs_card.c — payment cards as a keyed hash, never in clear.
 *
 * A PAN (13-19 digits, spaces and dashes allowed between them, ISO/IEC
 * 7812 Luhn check digit verified) becomes "hmac-sha256:<64 hex>", the
 * HMAC-SHA256 of the digits under the hub's card key, so two hubs sharing
 * a key can match cards without either storing a number. The copy of the
 * digits is wiped before return on every path. A value already in the
 * keyed form is accepted as it is (lowercased): that is what
 * x-tocsin-payment-card objects carry. Without a key a PAN is refused with
 * TC_EUNSUPPORTED. No message ever contains the digits.
 *
 * obs_cards_protect() applies the same rule to whole objects before they
 * are stored: card numbers in an indicator's pattern are replaced by their
 * keyed hash (the pattern is printed again), and an x-tocsin-payment-card
 * SCO must already carry the keyed hash, with an id that is not derived
 * from the number.
 */
#include <nettle/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "obs_internal.h"
#include "stix/stix_id.h"
#include "stix/stix_pattern.h"

#define OBS_PAN_MIN 13
#define OBS_PAN_MAX 19
#define CARD_PREFIX "hmac-sha256:"

bool
obs__luhn(const char *digits, size_t len)
{
	unsigned sum = 0;
	bool dbl = false;
	for (size_t i = len; i > 0; i--) {
		unsigned v = (unsigned)(digits[i - 1] - '0');
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

static enum tcerr
keyed_form(struct slice in, struct buf *out, struct diag *d)
{
	size_t pl = sizeof(CARD_PREFIX) - 1;
	struct slice hex = slice_make(in.p + pl, in.len - pl);
	if (hex.len != SHA256_DIGEST_SIZE * 2)
		return diag_set(d, TC_EINVAL, "keyed card hash must be %d hex digits",
		                SHA256_DIGEST_SIZE * 2);
	char tmp[SHA256_DIGEST_SIZE * 2];
	for (size_t i = 0; i < hex.len; i++) {
		if (hex_digit(hex.p[i]) < 0)
			return diag_set(d, TC_EINVAL, "keyed card hash contains a non-hex character");
		tmp[i] = obs__lower(hex.p[i]);
	}
	buf_append_cstr(out, CARD_PREFIX);
	buf_append(out, tmp, sizeof(tmp));
	return TC_OK;
}

enum tcerr
obs__card(const struct obs_ctx *ctx, struct slice in, struct buf *out, struct diag *d)
{
	char dig[OBS_PAN_MAX];
	size_t n = 0;
	enum tcerr rc = TC_OK;

	if (obs__prefix_ci(in, CARD_PREFIX))
		return keyed_form(in, out, d);
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == ' ' || c == '-')
			continue;
		if (!obs__is_digit(c)) {
			rc = diag_set(d, TC_EINVAL,
			              "not a card number: only digits, spaces and dashes are allowed");
			goto out;
		}
		if (n == OBS_PAN_MAX) {
			rc = diag_set(d, TC_EINVAL, "card number has more than %d digits", OBS_PAN_MAX);
			goto out;
		}
		dig[n++] = c;
	}
	if (n < OBS_PAN_MIN) {
		rc = diag_set(d, TC_EINVAL, "card number has fewer than %d digits", OBS_PAN_MIN);
		goto out;
	}
	if (!obs__luhn(dig, n)) {
		rc = diag_set(d, TC_EINVAL, "card number fails the Luhn check");
		goto out;
	}
	if (!ctx || !ctx->card_key || ctx->card_key_len == 0) {
		rc = diag_set(d, TC_EUNSUPPORTED,
		              "payment card numbers need the hub's card key (DATA/card.key, "
		              "written by 'tocsin init'); this hub has none");
		goto out;
	}
	struct hmac_sha256_ctx h;
	uint8_t mac[SHA256_DIGEST_SIZE];
	hmac_sha256_set_key(&h, ctx->card_key_len, ctx->card_key);
	hmac_sha256_update(&h, n, (const uint8_t *)dig);
	hmac_sha256_digest(&h, sizeof(mac), mac);
	explicit_bzero(&h, sizeof(h));
	buf_append_cstr(out, CARD_PREFIX);
	buf_append_hex(out, mac, sizeof(mac));
out:
	explicit_bzero(dig, sizeof(dig));
	return rc;
}

/* ---- whole objects ---- */

#define CARD_KEYED_LEN (sizeof(CARD_PREFIX) - 1 + SHA256_DIGEST_SIZE * 2)

/* One string constant of a pattern to replace by its keyed hash. */
struct card_fix {
	struct sp_const *c;
	char keyed[CARD_KEYED_LEN + 1];
};

struct protect {
	const struct obs_ctx *ctx;
	struct card_fix *fix;
	size_t nfix, capfix;
	struct buf tmp;
	struct diag *d;
};

static bool
has_digit(struct slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (obs__is_digit(s.p[i]))
			return true;
	return false;
}

#define CARD_PATH "pattern: " TOCSIN_TYPE_CARD ":value"

/* Judges one constant compared with a payment-card path. */
static enum tcerr
protect_const(struct protect *pr, enum sp_op op, struct sp_const *c)
{
	if (c->kind == SP_CONST_SET) {
		for (size_t i = 0; i < c->nitems; i++) {
			enum tcerr rc = protect_const(pr, op, &c->items[i]);
			if (rc)
				return rc;
		}
		return TC_OK;
	}
	if (c->kind != SP_CONST_STRING)
		return diag_set(pr->d, TC_EINVAL,
		                CARD_PATH ": must be compared with strings (the card's keyed hash)");
	struct slice v = slice_make(c->str, c->len);
	enum tcerr rc;
	buf_clear(&pr->tmp);
	if (obs__prefix_ci(v, CARD_PREFIX)) {
		if ((rc = keyed_form(v, &pr->tmp, pr->d)))
			diag_prefix(pr->d, CARD_PATH);
		return rc;
	}
	if (!has_digit(v))
		return TC_OK; /* holds no number: obs_extract judges it */
	if (op != SP_OP_EQ && op != SP_OP_NEQ && op != SP_OP_IN)
		return diag_set(pr->d, TC_EINVAL,
		                CARD_PATH ": a card number may be compared only with =, != or IN "
		                          "(the hub replaces it by its keyed hash)");
	rc = obs__card(pr->ctx, v, &pr->tmp, pr->d);
	if (!rc && buf_error(&pr->tmp))
		rc = diag_set(pr->d, buf_error(&pr->tmp), "out of memory");
	if (rc) {
		if (rc != TC_ENOMEM)
			diag_prefix(pr->d, CARD_PATH);
		return rc;
	}
	if (pr->nfix == pr->capfix) {
		size_t ncap = pr->capfix ? 2 * pr->capfix : 4;
		struct card_fix *nf = realloc(pr->fix, ncap * sizeof(*nf));
		if (!nf)
			return diag_set(pr->d, TC_ENOMEM, "out of memory");
		pr->fix = nf;
		pr->capfix = ncap;
	}
	struct card_fix *f = &pr->fix[pr->nfix++];
	f->c = c;
	memcpy(f->keyed, pr->tmp.p, CARD_KEYED_LEN);
	f->keyed[CARD_KEYED_LEN] = '\0';
	return TC_OK;
}

static enum tcerr
protect_node(struct protect *pr, struct sp_node *n)
{
	if (!n)
		return TC_OK;
	if (n->kind == SP_COMPARISON) {
		if (strcmp(n->path.type, TOCSIN_TYPE_CARD) != 0)
			return TC_OK;
		return protect_const(pr, n->op, &n->value);
	}
	enum tcerr rc = protect_node(pr, n->left);
	return rc ? rc : protect_node(pr, n->right);
}

/* An indicator: every constant compared with a payment-card path. */
static enum tcerr
protect_indicator(struct protect *pr, json_t *obj, bool *rewritten)
{
	const json_t *ptype = json_object_get(obj, "pattern_type");
	json_t *pat = json_object_get(obj, "pattern");
	struct stix_pattern *p = NULL;
	struct buf out;
	enum tcerr rc;

	/* STIX 2.0 indicators have no pattern_type: their patterns are STIX */
	if ((ptype && strcmp(json_string_value(ptype) ? json_string_value(ptype) : "", "stix")) ||
	    !json_is_string(pat))
		return TC_OK;
	struct slice text = slice_make(json_string_value(pat), json_string_length(pat));
	/* the common case costs a search, not a parse: a payment-card path
	 * names its type (a quoted type is not in the grammar) */
	if (!memmem(text.p, text.len, TOCSIN_TYPE_CARD, sizeof(TOCSIN_TYPE_CARD) - 1))
		return TC_OK;
	rc = stix_pattern_parse(text, NULL, &p, pr->d);
	if (rc) {
		diag_prefix(pr->d, "pattern");
		return rc;
	}
	if ((rc = protect_node(pr, p->root)) || pr->nfix == 0)
		goto out;
	for (size_t i = 0; i < pr->nfix; i++) {
		pr->fix[i].c->str = pr->fix[i].keyed;
		pr->fix[i].c->len = CARD_KEYED_LEN;
	}
	buf_init(&out, text.len + pr->nfix * CARD_KEYED_LEN);
	stix_pattern_print(p, &out);
	json_t *np = buf_error(&out) ? NULL : json_stringn(out.p, out.len);
	buf_reset(&out);
	if (!np || json_object_set_new(obj, "pattern", np) != 0) {
		rc = diag_set(pr->d, TC_ENOMEM, "out of memory");
		goto out;
	}
	*rewritten = true;
out:
	stix_pattern_free(p);
	return rc;
}

static const char sco_clear_msg[] =
    "a card number in clear is refused in an " TOCSIN_TYPE_CARD " object (its id and the "
    "objects that refer to it would be derived from the number): send the keyed hash, or the "
    "number in an indicator pattern, which the hub replaces by its keyed hash";

/* The value of an x-tocsin-payment-card (top level or inside an
 * observed-data's objects): the keyed form only. where names it. */
static enum tcerr
protect_sco_value(struct protect *pr, const json_t *sco, const char *where)
{
	const json_t *v = json_object_get(sco, "value");
	if (!json_is_string(v))
		return diag_set(pr->d, TC_EINVAL, "%s: must be a string", where);
	struct slice s = slice_make(json_string_value(v), json_string_length(v));
	if (!obs__prefix_ci(s, CARD_PREFIX))
		return diag_set(pr->d, TC_EINVAL, "%s: %s", where, sco_clear_msg);
	buf_clear(&pr->tmp);
	enum tcerr rc = keyed_form(s, &pr->tmp, pr->d);
	if (rc)
		diag_prefix(pr->d, "%s", where);
	return rc;
}

/* A top-level x-tocsin-payment-card: its value, and an id that is random
 * (UUIDv4) or the deterministic one over the keyed value (STIX 2.1 §2.9),
 * never one made from the number. */
static enum tcerr
protect_sco(struct protect *pr, const json_t *obj)
{
	enum tcerr rc = protect_sco_value(pr, obj, "value");
	if (rc)
		return rc;
	const char *id = json_string_value(json_object_get(obj, "id"));
	size_t tl = sizeof(TOCSIN_TYPE_CARD) - 1;
	if (!id || strlen(id) != tl + 2 + 36)
		return diag_set(pr->d, TC_EINVAL, "id: not a valid STIX identifier");
	if (id[tl + 2 + 14] == '4')
		return TC_OK;
	char want[UUID_TEXT_MAX];
	struct buf j;
	buf_init(&j, 0);
	json_t *sub = json_pack("{s:O}", "value", json_object_get(obj, "value"));
	if (sub)
		jcs_append(&j, sub);
	rc = !sub ? TC_ENOMEM : buf_error(&j);
	if (!rc)
		rc = uuid_v5(STIX_SCO_NAMESPACE, buf_slice(&j), want);
	json_decref(sub);
	buf_reset(&j);
	if (rc)
		return diag_set(pr->d, rc, "id: %s", tcerr_str(rc));
	if (strcmp(id + tl + 2, want) != 0)
		return diag_set(pr->d, TC_EINVAL,
		                "id: must be random (UUIDv4) or the UUIDv5 of the keyed value, so "
		                "that it says nothing about the card number");
	return TC_OK;
}

/* observed-data "objects" (STIX 2.0, deprecated in 2.1): embedded cards. */
static enum tcerr
protect_observed(struct protect *pr, const json_t *obj)
{
	const json_t *objs = json_object_get(obj, "objects");
	const char *key;
	json_t *o;
	char where[96];
	if (!json_is_object(objs))
		return TC_OK;
	json_object_foreach((json_t *)objs, key, o)
	{
		const char *t = json_string_value(json_object_get(o, "type"));
		if (!t || strcmp(t, TOCSIN_TYPE_CARD) != 0)
			continue;
		int n = snprintf(where, sizeof(where), "objects.%s.value", key);
		if (n < 0 || (size_t)n >= sizeof(where))
			memcpy(where, "objects", sizeof("objects"));
		enum tcerr rc = protect_sco_value(pr, o, where);
		if (rc)
			return rc;
	}
	return TC_OK;
}

enum tcerr
obs_cards_protect(const struct obs_ctx *ctx, json_t *obj, const struct stix_meta *meta,
                  bool *rewritten, struct diag *d)
{
	struct protect pr = {.ctx = ctx, .d = d};
	const char *type = meta ? meta->type : json_string_value(json_object_get(obj, "type"));
	enum tcerr rc = TC_OK;

	*rewritten = false;
	if (!type || !json_is_object(obj))
		return TC_OK;
	buf_init(&pr.tmp, CARD_KEYED_LEN + 1);
	if (strcmp(type, "indicator") == 0)
		rc = protect_indicator(&pr, obj, rewritten);
	else if (strcmp(type, TOCSIN_TYPE_CARD) == 0)
		rc = protect_sco(&pr, obj);
	else if (strcmp(type, "observed-data") == 0)
		rc = protect_observed(&pr, obj);
	for (size_t i = 0; i < pr.nfix; i++)
		explicit_bzero(pr.fix[i].keyed, sizeof(pr.fix[i].keyed));
	free(pr.fix);
	buf_reset(&pr.tmp);
	return rc;
}
