/*
 * taxii_cursor.c — the opaque, authenticated `next` cursor (TAXII 2.1
 * §3.5, App. B).
 *
 * A cursor is base64url (no padding) of 45 bytes: a format byte, the
 * position (date_added µs and seq of the last row shown, big-endian) and
 * the first TAXII__MAC_LEN bytes of HMAC-SHA256 under cfg->cursor_key over
 * the format byte, the position and what the cursor is bound to: the
 * principal's number, the endpoint, the collection, the object id and
 * every filter of the query (added_after, match[id], match[type],
 * match[version], match[spec_version]; not limit, which a client may
 * lower between pages, as taxii2client does). A cursor therefore only
 * resumes the very query of the very principal it was issued to; anything
 * else fails the constant-time comparison. The position is readable by
 * whoever holds the cursor: it is the date_added of a row that principal
 * was shown, nothing more.
 */
#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <string.h>

#include "taxii_internal.h"

#define TAXII__CURSOR_FORMAT 1
#define TAXII__MAC_LEN 28
#define TAXII__CURSOR_BYTES (1 + 8 + 8 + TAXII__MAC_LEN) /* 45: no base64 padding */

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
mac_u64(struct hmac_sha256_ctx *h, uint64_t v)
{
	uint8_t b[8];
	put_u64(b, v);
	hmac_sha256_update(h, sizeof(b), b);
}

/* A string, length first, so that ("ab","c") and ("a","bc") differ. */
static void
mac_str(struct hmac_sha256_ctx *h, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	mac_u64(h, n);
	if (n)
		hmac_sha256_update(h, n, (const uint8_t *)s);
}

static void
mac_list(struct hmac_sha256_ctx *h, char *const *v, size_t n)
{
	mac_u64(h, n);
	for (size_t i = 0; i < n; i++)
		mac_str(h, v[i]);
}

static void
cursor_mac(const struct taxii__rq *r, enum taxii__endpoint ep, const struct taxii_query *q,
           const uint8_t *head, uint8_t mac[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx h;

	hmac_sha256_set_key(&h, sizeof(r->cfg->cursor_key), r->cfg->cursor_key);
	hmac_sha256_update(&h, 1 + 8 + 8, head);
	mac_u64(&h, (uint64_t)taxii__principal_num(r->who));
	mac_u64(&h, (uint64_t)ep);
	mac_u64(&h, r->col ? (uint64_t)r->col->c.num : 0);
	mac_str(&h, r->object_id);
	mac_u64(&h, (q->present & TAXII_P_ADDED_AFTER) ? 1 : 0);
	mac_u64(&h, (uint64_t)q->added_after_us);
	mac_list(&h, q->ids, q->nids);
	mac_list(&h, q->types, q->ntypes);
	mac_u64(&h, q->versions);
	mac_u64(&h, q->nversion_us);
	for (size_t i = 0; i < q->nversion_us; i++)
		mac_u64(&h, (uint64_t)q->version_us[i]);
	mac_list(&h, q->spec_versions, q->nspec_versions);
	hmac_sha256_digest(&h, SHA256_DIGEST_SIZE, mac);
	explicit_bzero(&h, sizeof(h));
}

void
taxii__cursor_make(const struct taxii__rq *r, enum taxii__endpoint ep, const struct taxii_query *q,
                   struct taxii__pos pos, char out[TAXII__CURSOR_TEXT + 1])
{
	uint8_t raw[TAXII__CURSOR_BYTES];
	uint8_t mac[SHA256_DIGEST_SIZE];
	struct base64_encode_ctx b64;

	raw[0] = TAXII__CURSOR_FORMAT;
	put_u64(raw + 1, (uint64_t)pos.date_us);
	put_u64(raw + 9, pos.seq);
	cursor_mac(r, ep, q, raw, mac);
	memcpy(raw + 17, mac, TAXII__MAC_LEN);

	base64url_encode_init(&b64);
	size_t n = base64_encode_update(&b64, out, sizeof(raw), raw);
	n += base64_encode_final(&b64, out + n);
	out[n] = '\0';
}

enum tcerr
taxii__cursor_check(const struct taxii__rq *r, enum taxii__endpoint ep, const struct taxii_query *q,
                    const char *text, struct taxii__pos *pos)
{
	uint8_t raw[TAXII__CURSOR_BYTES + 3];
	uint8_t mac[SHA256_DIGEST_SIZE];
	struct base64_decode_ctx b64;
	size_t len = strlen(text), n = sizeof(raw);

	if (len != BASE64_ENCODE_RAW_LENGTH(TAXII__CURSOR_BYTES))
		return TC_EINVAL;
	base64url_decode_init(&b64);
	if (!base64_decode_update(&b64, &n, raw, len, text) || !base64_decode_final(&b64) ||
	    n != TAXII__CURSOR_BYTES || raw[0] != TAXII__CURSOR_FORMAT)
		return TC_EINVAL;
	cursor_mac(r, ep, q, raw, mac);
	if (!memeql_sec(mac, raw + 17, TAXII__MAC_LEN))
		return TC_EINVAL;
	pos->date_us = (int64_t)get_u64(raw + 1);
	pos->seq = get_u64(raw + 9);
	if (pos->date_us <= 0)
		return TC_EINVAL;
	return TC_OK;
}
