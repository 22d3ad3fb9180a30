/*
 * hubkey.h — the hub's identity key: Ed25519 (libsodium, the default) or
 * GOST R 34.10-2012 with 256-bit keys on the tc26 curve id-tc26-gost-3410-
 * 2012-256-paramSetB with Streebog-256 (nettle's gostdsa).
 *
 * `tocsin init` gives every hub a key pair: DATA/hub.key (mode 0600, the
 * secret) and DATA/hub.pub (the public key, for the operator to copy
 * elsewhere). The audit log signs its head with it (docs/audit.md), and
 * federation names the hub by it (docs/federation.md). Both files are one
 * line of text, "<alg> <lower-case hex>\n": for ed25519 the 32-byte seed
 * and the 32-byte public key; for gost2012-256 the 32-byte big-endian
 * private scalar and the public point X || Y (32 bytes each, big-endian).
 * Signatures are 64 bytes either way (GOST: r || s, big-endian, over the
 * Streebog-256 digest of the message).
 *
 * Rotation (hubkey_rotate) appends the old public key line to
 * DATA/hub.pub.history before replacing the pair, so signatures made
 * before still verify against a listed key.
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
#define HUBKEY_HISTORY_FILE "hub.pub.history"
#define HUBKEY_PK_LEN 32   /* an Ed25519 public key */
#define HUBKEY_PK_MAX 64   /* the longest public key (GOST 256: X || Y) */
#define HUBKEY_SIG_LEN 64
#define HUBKEY_SIG_HEX (2 * HUBKEY_SIG_LEN)
#define HUBKEY_HISTORY_MAX 256 /* old keys listed in hub.pub.history */
/* "ed25519 " + 64 hex digits + NUL */
#define HUBKEY_PUB_TEXT_MAX (8 + 2 * HUBKEY_PK_LEN + 1)
/* "gost2012-256 " or "gost2012-256:" + 128 hex digits + NUL */
#define HUBKEY_ID_MAX (13 + 2 * HUBKEY_PK_MAX + 1)
/* "SHA256:" + 64 hex digits + NUL */
#define HUBKEY_FPR_MAX (7 + 64 + 1)

enum hubkey_alg {
	HUBKEY_ED25519 = 1,
	HUBKEY_GOST2012_256 = 2,
};

/* A public key of either algorithm. */
struct hubkey_pub {
	enum hubkey_alg alg;
	size_t len;                 /* 32 (ed25519) or 64 (gost2012-256) */
	uint8_t pk[HUBKEY_PK_MAX];
};

struct hubkey {
	enum hubkey_alg alg;
	uint8_t pk[HUBKEY_PK_MAX];  /* ed25519: 32 bytes; GOST: X || Y */
	size_t pk_len;
	uint8_t sk[64]; /* ed25519: libsodium's seed and public key; GOST: the scalar (32) */
};

/* "ed25519" or "gost2012-256". */
const char *hubkey_alg_name(enum hubkey_alg alg);
/* Parses an algorithm name. Returns false when unknown. */
bool hubkey_alg_parse(const char *s, size_t len, enum hubkey_alg *out);

/* As hubkey_create with the algorithm chosen. Errors as hubkey_create, and
 * TC_EINVAL (unknown alg). */
enum tcerr hubkey_create_alg(const char *dir, enum hubkey_alg alg, struct diag *d);

/* Replaces DIR's key pair with a fresh one of alg, after appending the old
 * public key line to DIR/hub.pub.history (fsynced): the history keeps
 * every key the hub signed with. A process that loaded the old key keeps
 * signing with it until it reloads. Errors: TC_ENOTFOUND (no hub.key),
 * TC_ELIMIT (history full), TC_EIO, TC_ECORRUPT. */
enum tcerr hubkey_rotate(const char *dir, enum hubkey_alg alg, struct diag *d);

/* Reads DIR/hub.pub.history (absent: none). OUT: *keys (free()), *n, oldest
 * first. Errors: TC_ECORRUPT (a malformed line, named), TC_ELIMIT, TC_EIO,
 * TC_ENOMEM. */
enum tcerr hubkey_history(const char *dir, struct hubkey_pub **keys, size_t *n,
                          struct diag *d);

/* Reads DIR/hub.pub. OUT: *pub. Errors: TC_ENOTFOUND, TC_ECORRUPT, TC_EIO. */
enum tcerr hubkey_load_pub(const char *dir, struct hubkey_pub *pub, struct diag *d);

/* The public half of k. */
void hubkey_pub_of(const struct hubkey *k, struct hubkey_pub *out);

/* "<alg>:<hex>", the id federation names a hub by. */
void hubkey_pub_id(const struct hubkey_pub *p, char out[HUBKEY_ID_MAX]);
/* "<alg> <hex>", the hub.pub line (no newline). */
void hubkey_pub_line(const struct hubkey_pub *p, char out[HUBKEY_ID_MAX]);
/* Parses "<alg>:<hex>" (sep ':') or "<alg> <hex>" (sep ' ', a trailing
 * newline allowed). Returns false when malformed or the algorithm is
 * unknown (*unknown_alg then says which). */
bool hubkey_pub_parse(const char *s, size_t len, char sep, struct hubkey_pub *out,
                      bool *unknown_alg);
/* "SHA256:<hex>" of the hub.pub line: what an operator compares by eye. */
void hubkey_fingerprint(const struct hubkey_pub *p, char out[HUBKEY_FPR_MAX]);

/* Signs msg with k (either algorithm). OUT: sig. */
void hubkey_sign(const struct hubkey *k, const void *msg, size_t len,
                 uint8_t sig[HUBKEY_SIG_LEN]);
/* Whether sig is p's signature of msg. */
bool hubkey_pub_verify(const struct hubkey_pub *p, const void *msg, size_t len,
                       const uint8_t sig[HUBKEY_SIG_LEN]);
/* As hubkey_pub_verify with a 128-hex-digit signature. */
bool hubkey_pub_verify_hex(const struct hubkey_pub *p, const void *msg, size_t len,
                           const char *sig_hex, size_t sig_len);

/* Creates an ed25519 DIR/hub.key (0600, O_EXCL) and DIR/hub.pub (0600)
 * from fresh random bytes, both fsynced. Errors: TC_EEXIST (hub.key exists: never
 * replaced), TC_EIO. */
enum tcerr hubkey_create(const char *dir, struct diag *d);

/* Reads DIR/hub.key. OUT: *k (hubkey_wipe() when done). Errors:
 * TC_ENOTFOUND (no hub.key), TC_ECORRUPT (not "<alg> <hex>"), TC_EIO. */
enum tcerr hubkey_load(const char *dir, struct hubkey *k, struct diag *d);
void hubkey_wipe(struct hubkey *k);

/* Reads an ed25519 public key from the file path (hub.pub or a copy). OUT: pk.
 * Errors: TC_ENOTFOUND, TC_ECORRUPT, TC_EIO. */
enum tcerr hubkey_load_public(const char *path, uint8_t pk[HUBKEY_PK_LEN], struct diag *d);

/* Parses "ed25519 <64 hex>" (trailing newline allowed). Returns false
 * when text is not that. OUT: pk. */
bool hubkey_parse_public(const char *text, size_t len, uint8_t pk[HUBKEY_PK_LEN]);

/* Writes "ed25519 <64 hex>" (no newline) into out. */
void hubkey_public_text(const uint8_t pk[HUBKEY_PK_LEN], char out[HUBKEY_PUB_TEXT_MAX]);

/* Signs msg (either algorithm); OUT: the signature as 128 lower-case hex digits and a NUL. */
void hubkey_sign_hex(const struct hubkey *k, const void *msg, size_t len,
                     char out[HUBKEY_SIG_HEX + 1]);

/* Whether sig_hex (128 hex digits) is the ed25519 key pk's signature of msg. */
bool hubkey_verify_hex(const uint8_t pk[HUBKEY_PK_LEN], const void *msg, size_t len,
                       const char *sig_hex, size_t sig_len);

#endif
