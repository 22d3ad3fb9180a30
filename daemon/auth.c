/*
 * auth.c — authenticates a request from its Authorization header or its
 * TLS client certificate (see auth.h).
 *
 * Invariant: a decoded key never outlives this call — it is wiped with
 * explicit_bzero before returning — and no message reveals whether a key
 * id exists.
 */
#include "auth.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

long
auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (size_t k = 0; k < 4; k++) {
			char ch = in[i + k];
			const char *p;
			if (ch == '=' && i + 4 == len && k >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (pad || ch == '\0' || !(p = strchr(alpha, ch)))
				return -1;
			v = (v << 6) | (unsigned)(p - alpha);
		}
		size_t n = 3 - (size_t)pad;
		if (o + n > outcap)
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (n > 1)
			out[o++] = (unsigned char)(v >> 8);
		if (n > 2)
			out[o++] = (unsigned char)v;
	}
	return (long)o;
}

static enum auth_result
auth_key(const struct reg_snapshot *snap, const char *key, size_t len,
         const struct reg_principal **who, char actor[AUTH_ACTOR_MAX], const char **why)
{
	const struct reg_principal *p = reg_snapshot_auth_key(snap, key, len);
	if (!p) {
		*why = "the API key is unknown or revoked";
		return AUTH_BAD;
	}
	*who = p;
	snprintf(actor, AUTH_ACTOR_MAX, "%s", p->key_id);
	return AUTH_OK;
}

static enum auth_result
auth_cert(const struct reg_snapshot *snap, gnutls_session_t tls,
          const struct reg_principal **who, char actor[AUTH_ACTOR_MAX], const char **why)
{
	unsigned n = 0, status = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
	uint8_t sha[32];

	if (!certs || n == 0)
		return AUTH_NONE;
	if (gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0) {
		*why = "the client certificate is not signed by a trusted CA, or has expired";
		return AUTH_BAD;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, sha) != 0) {
		*why = "the client certificate could not be hashed";
		return AUTH_BAD;
	}
	const struct reg_principal *p = reg_snapshot_auth_cert(snap, sha);
	if (!p) {
		*why = "the client certificate is not mapped to a principal (tocsin key create --cert)";
		return AUTH_BAD;
	}
	*who = p;
	int off = snprintf(actor, AUTH_ACTOR_MAX, "cert:");
	for (size_t i = 0; i < 32 && off > 0 && (size_t)off + 2 < AUTH_ACTOR_MAX; i++)
		off += snprintf(actor + off, AUTH_ACTOR_MAX - (size_t)off, "%02x", sha[i]);
	return AUTH_OK;
}

enum auth_result
auth_request(const struct reg_snapshot *snap, const char *authorization, gnutls_session_t tls,
             bool check_cert, const struct reg_principal **who, char actor[AUTH_ACTOR_MAX],
             const char **why)
{
	*who = NULL;
	actor[0] = '\0';
	*why = "";
	if (authorization) {
		size_t len = strnlen(authorization, AUTH_HEADER_MAX + 1);
		enum auth_result r;
		if (len > AUTH_HEADER_MAX) {
			*why = "the Authorization header is too long";
			return AUTH_BAD;
		}
		while (*authorization == ' ')
			authorization++;
		if (strncasecmp(authorization, "Basic ", 6) == 0) {
			unsigned char dec[AUTH_HEADER_MAX];
			const char *b = authorization + 6;
			while (*b == ' ')
				b++;
			size_t blen = strlen(b);
			while (blen && b[blen - 1] == ' ')
				blen--;
			long n = auth_base64_decode(b, blen, dec, sizeof dec);
			if (n < 0) {
				*why = "the Basic credentials are not valid base64";
				return AUTH_BAD;
			}
			unsigned char *colon = memchr(dec, ':', (size_t)n);
			if (!colon) {
				explicit_bzero(dec, sizeof dec);
				*why = "the Basic credentials need USER:KEY";
				return AUTH_BAD;
			}
			r = auth_key(snap, (const char *)colon + 1, (size_t)(dec + n - colon - 1), who,
			             actor, why);
			explicit_bzero(dec, sizeof dec);
			return r;
		}
		if (strncasecmp(authorization, "Bearer ", 7) == 0 ||
		    strncasecmp(authorization, "Token ", 6) == 0) {
			const char *k = strchr(authorization, ' ');
			while (*k == ' ')
				k++;
			size_t klen = strlen(k);
			while (klen && k[klen - 1] == ' ')
				klen--;
			return auth_key(snap, k, klen, who, actor, why);
		}
		*why = "unsupported authorization scheme (use Basic, Bearer or Token)";
		return AUTH_BAD;
	}
	if (tls && check_cert)
		return auth_cert(snap, tls, who, actor, why);
	return AUTH_NONE;
}
