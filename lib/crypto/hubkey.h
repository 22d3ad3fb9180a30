/*
 * hubkey.h — the hub's Ed25519 identity key.
 *
 * `tocsin init` gives every hub a key pair: DATA/hub.key (mode 0600, the
 * secret seed) and DATA/hub.pub (the public key, for the operator to copy
 * elsewhere). The audit log signs its head with it (docs/audit.md), and
 * federation (issue 12) will name the hub by it. Both files are one line
 * of text, "ed25519 <64 lower-case hex digits>\n": the 32-byte seed in
 * hub.key, the 32-byte public key in hub.pub, so a new algorithm can be
 * added by its name.
 */
#ifndef TOCSIN_HUBKEY_H
#define TOCSIN_HUBKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"
#include "util/tcerr.h"

#define HUBKEY_FILE "hub.key"
#define HUBKEY_PUB_FILE "hub.pub"
#define HUBKEY_PK_LEN 32
#define HUBKEY_SIG_LEN 64
#define HUBKEY_SIG_HEX (2 * HUBKEY_SIG_LEN)
/* "ed25519 " + 64 hex digits + NUL */
#define HUBKEY_PUB_TEXT_MAX (8 + 2 * HUBKEY_PK_LEN + 1)

struct hubkey {
	uint8_t pk[HUBKEY_PK_LEN];
	uint8_t sk[64]; /* libsodium's secret key: seed and public key */
};

/* Creates DIR/hub.key (0600, O_EXCL) and DIR/hub.pub (0600) from fresh
 * random bytes, both fsynced. Errors: TC_EEXIST (hub.key exists: never
 * replaced), TC_EIO. */
enum tcerr hubkey_create(const char *dir, struct diag *d);

/* Reads DIR/hub.key. OUT: *k (hubkey_wipe() when done). Errors:
 * TC_ENOTFOUND (no hub.key), TC_ECORRUPT (not "ed25519 <hex>"), TC_EIO. */
enum tcerr hubkey_load(const char *dir, struct hubkey *k, struct diag *d);
void hubkey_wipe(struct hubkey *k);

/* Reads a public key from the file path (hub.pub or a copy). OUT: pk.
 * Errors: TC_ENOTFOUND, TC_ECORRUPT, TC_EIO. */
enum tcerr hubkey_load_public(const char *path, uint8_t pk[HUBKEY_PK_LEN], struct diag *d);

/* Parses "ed25519 <64 hex>" (trailing newline allowed). Returns false
 * when text is not that. OUT: pk. */
bool hubkey_parse_public(const char *text, size_t len, uint8_t pk[HUBKEY_PK_LEN]);

/* Writes "ed25519 <64 hex>" (no newline) into out. */
void hubkey_public_text(const uint8_t pk[HUBKEY_PK_LEN], char out[HUBKEY_PUB_TEXT_MAX]);

/* Signs msg; OUT: the signature as 128 lower-case hex digits and a NUL. */
void hubkey_sign_hex(const struct hubkey *k, const void *msg, size_t len,
                     char out[HUBKEY_SIG_HEX + 1]);

/* Whether sig_hex (128 hex digits) is pk's signature of msg. */
bool hubkey_verify_hex(const uint8_t pk[HUBKEY_PK_LEN], const void *msg, size_t len,
                       const char *sig_hex, size_t sig_len);

#endif
