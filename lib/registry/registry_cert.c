/*
 * registry_cert.c — the fingerprint by which a client certificate maps to
 * a principal: SHA-256 over the certificate's DER bytes, from a PEM or DER
 * file. Invariant: the same bytes a TLS library hands the daemon for the
 * peer certificate give the same fingerprint here; nothing else of the
 * certificate (names, validity) is read: the daemon's TLS layer verifies
 * the chain against the configured CA.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

enum tcerr
registry_cert_fingerprint(const char *data, size_t len, uint8_t sha256[32], struct diag *d)
{
	if (len > REG_CERT_MAX)
		return diag_set(d, TC_ELIMIT, "certificate: larger than %d bytes", REG_CERT_MAX);
	if (len == 0)
		return diag_set(d, TC_EINVAL, "certificate: empty");
	/* DER: an X.509 certificate is a SEQUENCE (RFC 5280 §4.1) */
	if ((unsigned char)data[0] == 0x30) {
		crypto_hash_sha256(sha256, (const unsigned char *)data, len);
		return TC_OK;
	}
	const char *b = memmem(data, len, PEM_BEGIN, sizeof PEM_BEGIN - 1);
	if (!b)
		return diag_set(d, TC_EINVAL, "certificate: no '" PEM_BEGIN "' line (PEM) and not DER");
	b += sizeof PEM_BEGIN - 1;
	const char *e = memmem(b, len - (size_t)(b - data), PEM_END, sizeof PEM_END - 1);
	if (!e)
		return diag_set(d, TC_EINVAL, "certificate: no '" PEM_END "' line");
	/* RFC 7468 §2: base64 with line breaks (and tolerated spaces) */
	size_t b64len = (size_t)(e - b), derlen = 0;
	unsigned char *der = malloc(b64len / 4 * 3 + 3);
	if (!der)
		return diag_set(d, TC_ENOMEM, "out of memory");
	const char *end = NULL;
	int rc = sodium_base642bin(der, b64len / 4 * 3 + 3, b, b64len, " \t\r\n", &derlen, &end,
	                           sodium_base64_VARIANT_ORIGINAL);
	if (rc != 0 || derlen == 0 || (end && end != e)) {
		free(der);
		return diag_set(d, TC_EINVAL, "certificate: bad base64 between the PEM lines");
	}
	crypto_hash_sha256(sha256, der, derlen);
	free(der);
	return TC_OK;
}
