/*
 * auth.h — who is asking: API keys from the Authorization header, client
 * certificates from the TLS session (PLAN3 "Authentication").
 *
 *   Authorization: Basic base64(anything:KEY)   the password is the key
 *   Authorization: Bearer KEY | Token KEY       (taxii2client's TokenAuth)
 *   TLS client certificate                      SHA-256 of its DER form
 *
 * No credential at all is AUTH_NONE (taxii_handle answers 401 where a
 * principal is needed). A credential that is malformed, unknown, revoked
 * or a certificate that does not verify is AUTH_BAD: the daemon answers
 * 401 itself.
 */
#ifndef TOCSIN_DAEMON_AUTH_H
#define TOCSIN_DAEMON_AUTH_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

#include "registry/registry.h"

#define AUTH_HEADER_MAX 1024   /* bytes of an Authorization header we look at */
#define AUTH_ACTOR_MAX 72      /* "cert:" + 64 hex digits, or a key id */

enum auth_result {
	AUTH_NONE = 0,
	AUTH_OK,
	AUTH_BAD,
};

/* Authenticates a request. authorization may be NULL; tls is NULL on the
 * plain listener; check_cert says a client CA is configured. OUT: *who
 * (AUTH_OK), actor (key id or "cert:<sha256 hex>", for logs and the audit
 * log), *why (AUTH_BAD: a static reason, safe to show the client). */
enum auth_result auth_request(const struct reg_snapshot *snap, const char *authorization,
                              gnutls_session_t tls, bool check_cert,
                              const struct reg_principal **who, char actor[AUTH_ACTOR_MAX],
                              const char **why);

/* Decodes standard base64 (RFC 4648 §4, padding required) into out.
 * Returns the decoded length, or -1 if malformed or longer than outcap. */
long auth_base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap);

#endif
