/*
 * hubkey.c — the hub's Ed25519 identity key (hubkey.h), with libsodium.
 *
 * The files hold text, not raw bytes, so that an operator can read hub.pub,
 * paste it into another system and compare it by eye. hub.key is created
 * with O_EXCL and never replaced here: a key that changes silently would
 * make every signature made before it unverifiable.
 */
#include "crypto/hubkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/hex.h"

#define HUBKEY_PATH_MAX 4096
#define HUBKEY_TEXT_MAX 256 /* bytes read from a key file */
#define HUBKEY_ALG "ed25519 "

static int
path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void
to_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lower-case hex only, exactly 2n digits. */
static bool
from_hex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_digit(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
	return true;
}

/* "ed25519 <2n hex>" with an optional newline. */
static bool
parse_line(const char *text, size_t len, uint8_t *out, size_t n)
{
	const size_t alg = sizeof(HUBKEY_ALG) - 1;
	if (len && text[len - 1] == '\n')
		len--;
	if (len < alg || memcmp(text, HUBKEY_ALG, alg) != 0)
		return false;
	return from_hex(text + alg, len - alg, out, n);
}

static enum tcerr
write_file(const char *path, const char *text, bool excl, struct diag *d)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), 0600);
	if (fd < 0)
		return diag_set(d, errno == EEXIST ? TC_EEXIST : TC_EIO, "%s: %s", path,
		                strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(e));
	}
	close(fd);
	return TC_OK;
}

/* Reads at most HUBKEY_TEXT_MAX - 1 bytes of path. OUT: text, *len. */
static enum tcerr
read_small(const char *path, char *text, size_t *len, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return diag_set(d, errno == ENOENT ? TC_ENOTFOUND : TC_EIO, "%s: %s", path,
		                strerror(errno));
	n = read(fd, text, HUBKEY_TEXT_MAX);
	close(fd);
	if (n < 0)
		return diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	if (n == HUBKEY_TEXT_MAX)
		return diag_set(d, TC_ECORRUPT, "%s: longer than a key file", path);
	*len = (size_t)n;
	return TC_OK;
}

enum tcerr
hubkey_create(const char *dir, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], pub[HUBKEY_PATH_MAX];
	char text[HUBKEY_TEXT_MAX], pubtext[HUBKEY_PUB_TEXT_MAX + 1];
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	enum tcerr rc;

	if (sodium_init() < 0)
		return diag_set(d, TC_EIO, "libsodium: cannot initialise");
	if (path_join(path, sizeof(path), dir, HUBKEY_FILE) ||
	    path_join(pub, sizeof(pub), dir, HUBKEY_PUB_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	memcpy(text, HUBKEY_ALG, sizeof(HUBKEY_ALG) - 1);
	to_hex(seed, sizeof(seed), text + sizeof(HUBKEY_ALG) - 1);
	/* fits: 8 + 64 + newline + NUL < HUBKEY_TEXT_MAX */
	text[sizeof(HUBKEY_ALG) - 1 + 2 * sizeof(seed)] = '\n';
	text[sizeof(HUBKEY_ALG) + 2 * sizeof(seed)] = '\0';
	hubkey_public_text(pk, pubtext);
	pubtext[HUBKEY_PUB_TEXT_MAX - 1] = '\n'; /* the array has room for it and a NUL */
	pubtext[HUBKEY_PUB_TEXT_MAX] = '\0';
	rc = write_file(path, text, true, d);
	if (rc == TC_OK)
		rc = write_file(pub, pubtext, false, d);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(text, sizeof(text));
	return rc;
}

enum tcerr
hubkey_load(const char *dir, struct hubkey *k, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], text[HUBKEY_TEXT_MAX];
	uint8_t seed[crypto_sign_SEEDBYTES];
	size_t len = 0;
	enum tcerr rc;

	if (sodium_init() < 0)
		return diag_set(d, TC_EIO, "libsodium: cannot initialise");
	if (path_join(path, sizeof(path), dir, HUBKEY_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	if ((rc = read_small(path, text, &len, d)))
		return rc;
	if (!parse_line(text, len, seed, sizeof(seed))) {
		sodium_memzero(text, sizeof(text));
		return diag_set(d, TC_ECORRUPT, "%s: not \"ed25519 <64 hex digits>\"", path);
	}
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(text, sizeof(text));
	return TC_OK;
}

void
hubkey_wipe(struct hubkey *k)
{
	sodium_memzero(k, sizeof(*k));
}

bool
hubkey_parse_public(const char *text, size_t len, uint8_t pk[HUBKEY_PK_LEN])
{
	return parse_line(text, len, pk, HUBKEY_PK_LEN);
}

enum tcerr
hubkey_load_public(const char *path, uint8_t pk[HUBKEY_PK_LEN], struct diag *d)
{
	char text[HUBKEY_TEXT_MAX];
	size_t len = 0;
	enum tcerr rc = read_small(path, text, &len, d);

	if (rc)
		return rc;
	if (!hubkey_parse_public(text, len, pk))
		return diag_set(d, TC_ECORRUPT, "%s: not \"ed25519 <64 hex digits>\"", path);
	return TC_OK;
}

void
hubkey_public_text(const uint8_t pk[HUBKEY_PK_LEN], char out[HUBKEY_PUB_TEXT_MAX])
{
	memcpy(out, HUBKEY_ALG, sizeof(HUBKEY_ALG) - 1);
	to_hex(pk, HUBKEY_PK_LEN, out + sizeof(HUBKEY_ALG) - 1);
}

void
hubkey_sign_hex(const struct hubkey *k, const void *msg, size_t len,
                char out[HUBKEY_SIG_HEX + 1])
{
	uint8_t sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
	to_hex(sig, sizeof(sig), out);
}

bool
hubkey_verify_hex(const uint8_t pk[HUBKEY_PK_LEN], const void *msg, size_t len,
                  const char *sig_hex, size_t sig_len)
{
	uint8_t sig[crypto_sign_BYTES];
	if (sodium_init() < 0 || !from_hex(sig_hex, sig_len, sig, sizeof(sig)))
		return false;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}
