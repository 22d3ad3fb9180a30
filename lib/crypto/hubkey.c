/*
 * hubkey.c — the hub's identity key (hubkey.h): Ed25519 with libsodium,
 * GOST R 34.10-2012 (256-bit, tc26 paramSetB) with Streebog-256 with nettle.
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/gostdsa.h>
#include <nettle/sha2.h>
#include <nettle/streebog.h>
#include <sodium.h>

#include "util/hex.h"

#define HUBKEY_PATH_MAX 4096
#define HUBKEY_TEXT_MAX 256 /* bytes read from a key file */
#define HUBKEY_ALG "ed25519 "
#define GOST_LEN 32 /* bytes of a coordinate, a scalar, r and s */

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

/* Forward declarations: the helpers below serve both algorithms. */
static void key_line(enum hubkey_alg alg, const uint8_t *p, size_t n, char *out, size_t cap);
static bool parse_secret(const char *text, size_t len, struct hubkey *k);

enum tcerr
hubkey_create(const char *dir, struct diag *d)
{
	return hubkey_create_alg(dir, HUBKEY_ED25519, d);
}

enum tcerr
hubkey_load(const char *dir, struct hubkey *k, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], text[HUBKEY_TEXT_MAX];
	size_t len = 0;
	enum tcerr rc;

	if (sodium_init() < 0)
		return diag_set(d, TC_EIO, "libsodium: cannot initialise");
	if (path_join(path, sizeof(path), dir, HUBKEY_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	if ((rc = read_small(path, text, &len, d)))
		return rc;
	memset(k, 0, sizeof(*k));
	if (!parse_secret(text, len, k)) {
		sodium_memzero(text, sizeof(text));
		sodium_memzero(k, sizeof(*k));
		return diag_set(d, TC_ECORRUPT, "%s: not \"<alg> <hex digits>\"", path);
	}
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
	uint8_t sig[HUBKEY_SIG_LEN];
	hubkey_sign(k, msg, len, sig);
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

/* ---- both algorithms ------------------------------------------------ */

const char *
hubkey_alg_name(enum hubkey_alg alg)
{
	return alg == HUBKEY_GOST2012_256 ? "gost2012-256" : "ed25519";
}

bool
hubkey_alg_parse(const char *s, size_t len, enum hubkey_alg *out)
{
	if (len == 7 && memcmp(s, "ed25519", 7) == 0)
		*out = HUBKEY_ED25519;
	else if (len == 12 && memcmp(s, "gost2012-256", 12) == 0)
		*out = HUBKEY_GOST2012_256;
	else
		return false;
	return true;
}

static size_t
pk_len_of(enum hubkey_alg alg)
{
	return alg == HUBKEY_GOST2012_256 ? 2 * GOST_LEN : HUBKEY_PK_LEN;
}

static void
gost_random(void *ctx, size_t len, uint8_t *dst)
{
	(void)ctx;
	randombytes_buf(dst, len);
}

/* The public point of the scalar z (32 bytes big-endian). OUT: xy. Returns
 * false when z is not a valid private key (0 or >= the group order). */
static bool
gost_public(const uint8_t z[GOST_LEN], uint8_t xy[2 * GOST_LEN])
{
	const struct ecc_curve *c = nettle_get_gost_gc256b();
	struct ecc_scalar s;
	struct ecc_point p;
	mpz_t v, x, y;
	bool ok;

	mpz_init(v);
	mpz_init(x);
	mpz_init(y);
	nettle_mpz_set_str_256_u(v, GOST_LEN, z);
	ecc_scalar_init(&s, c);
	ecc_point_init(&p, c);
	ok = mpz_sgn(v) > 0 && ecc_scalar_set(&s, v) == 1;
	if (ok) {
		ecc_point_mul_g(&p, &s);
		ecc_point_get(&p, x, y);
		nettle_mpz_get_str_256(GOST_LEN, xy, x);
		nettle_mpz_get_str_256(GOST_LEN, xy + GOST_LEN, y);
	}
	ecc_point_clear(&p);
	ecc_scalar_clear(&s);
	mpz_clear(v);
	mpz_clear(x);
	mpz_clear(y);
	return ok;
}

/* A fresh GOST scalar. OUT: z. */
static void
gost_generate(uint8_t z[GOST_LEN])
{
	uint8_t xy[2 * GOST_LEN];
	do
		randombytes_buf(z, GOST_LEN);
	while (!gost_public(z, xy));
}

/* "<alg> <hex>" of n bytes, a newline and a NUL, into out (cap bytes). */
static void
key_line(enum hubkey_alg alg, const uint8_t *p, size_t n, char *out, size_t cap)
{
	const char *name = hubkey_alg_name(alg);
	size_t l = strlen(name);
	/* callers give cap >= l + 1 + 2n + 2 */
	if (cap < l + 2 * n + 3) {
		out[0] = '\0';
		return;
	}
	memcpy(out, name, l);
	out[l] = ' ';
	to_hex(p, n, out + l + 1);
	out[l + 1 + 2 * n] = '\n';
	out[l + 2 + 2 * n] = '\0';
}

/* Parses "<alg> <hex of the secret>" into k. */
static bool
parse_secret(const char *text, size_t len, struct hubkey *k)
{
	const char *sp;
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (len && text[len - 1] == '\n')
		len--;
	sp = memchr(text, ' ', len);
	if (!sp || !hubkey_alg_parse(text, (size_t)(sp - text), &k->alg))
		return false;
	sp++;
	if (k->alg == HUBKEY_ED25519) {
		if (!from_hex(sp, len - (size_t)(sp - text), seed, sizeof(seed)))
			return false;
		crypto_sign_seed_keypair(k->pk, k->sk, seed);
		sodium_memzero(seed, sizeof(seed));
		k->pk_len = HUBKEY_PK_LEN;
		return true;
	}
	if (!from_hex(sp, len - (size_t)(sp - text), k->sk, GOST_LEN) || !gost_public(k->sk, k->pk))
		return false;
	k->pk_len = 2 * GOST_LEN;
	return true;
}

/* Writes a fresh pair of alg: path (the secret, O_EXCL unless replace)
 * and pub. */
static enum tcerr
create_pair(const char *path, const char *pub, enum hubkey_alg alg, bool replace, struct diag *d)
{
	char text[HUBKEY_TEXT_MAX], pubtext[HUBKEY_ID_MAX + 2];
	uint8_t seed[crypto_sign_SEEDBYTES], pk[HUBKEY_PK_MAX];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	enum tcerr rc;

	if (alg == HUBKEY_ED25519) {
		randombytes_buf(seed, sizeof(seed));
		crypto_sign_seed_keypair(pk, sk, seed);
	} else if (alg == HUBKEY_GOST2012_256) {
		gost_generate(seed);
		if (!gost_public(seed, pk))
			return diag_set(d, TC_EINTERNAL, "gost2012-256: key generation failed");
	} else {
		return diag_set(d, TC_EINVAL, "unknown key algorithm %d", (int)alg);
	}
	key_line(alg, seed, sizeof(seed), text, sizeof(text));
	key_line(alg, pk, pk_len_of(alg), pubtext, sizeof(pubtext));
	if (replace) {
		/* write beside, then rename: a crash leaves the old or the new key */
		char tmp[HUBKEY_PATH_MAX];
		if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
			rc = diag_set(d, TC_ELIMIT, "%s: path too long", path);
		} else {
			(void)unlink(tmp);
			rc = write_file(tmp, text, true, d);
			if (rc == TC_OK && rename(tmp, path) != 0)
				rc = diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
		}
	} else {
		rc = write_file(path, text, true, d);
	}
	if (rc == TC_OK)
		rc = write_file(pub, pubtext, false, d);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(text, sizeof(text));
	return rc;
}

enum tcerr
hubkey_create_alg(const char *dir, enum hubkey_alg alg, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], pub[HUBKEY_PATH_MAX];

	if (sodium_init() < 0)
		return diag_set(d, TC_EIO, "libsodium: cannot initialise");
	if (path_join(path, sizeof(path), dir, HUBKEY_FILE) ||
	    path_join(pub, sizeof(pub), dir, HUBKEY_PUB_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	return create_pair(path, pub, alg, false, d);
}

enum tcerr
hubkey_rotate(const char *dir, enum hubkey_alg alg, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], pub[HUBKEY_PATH_MAX], hist[HUBKEY_PATH_MAX];
	char line[HUBKEY_ID_MAX + 2];
	struct hubkey old;
	struct hubkey_pub op, *keys = NULL;
	size_t n = 0, l;
	enum tcerr rc;
	int fd;

	if (path_join(path, sizeof(path), dir, HUBKEY_FILE) ||
	    path_join(pub, sizeof(pub), dir, HUBKEY_PUB_FILE) ||
	    path_join(hist, sizeof(hist), dir, HUBKEY_HISTORY_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	if ((rc = hubkey_load(dir, &old, d)))
		return rc;
	hubkey_pub_of(&old, &op);
	hubkey_wipe(&old);
	if ((rc = hubkey_history(dir, &keys, &n, d)))
		return rc;
	free(keys);
	if (n >= HUBKEY_HISTORY_MAX)
		return diag_set(d, TC_ELIMIT, "%s: already %d old keys", hist, HUBKEY_HISTORY_MAX);
	hubkey_pub_line(&op, line);
	l = strlen(line);
	line[l++] = '\n';
	fd = open(hist, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return diag_set(d, TC_EIO, "%s: %s", hist, strerror(errno));
	if (write(fd, line, l) != (ssize_t)l || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return diag_set(d, TC_EIO, "%s: %s", hist, strerror(e));
	}
	close(fd);
	return create_pair(path, pub, alg, true, d);
}

enum tcerr
hubkey_history(const char *dir, struct hubkey_pub **keys, size_t *n, struct diag *d)
{
	char path[HUBKEY_PATH_MAX];
	enum { LINE = HUBKEY_ID_MAX + 2 };
	char *text;
	const size_t cap = (size_t)HUBKEY_HISTORY_MAX * LINE + 1;
	size_t len = 0, lineno = 0;
	ssize_t r;
	int fd;

	*keys = NULL;
	*n = 0;
	if (path_join(path, sizeof(path), dir, HUBKEY_HISTORY_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? TC_OK : diag_set(d, TC_EIO, "%s: %s", path, strerror(errno));
	text = malloc(cap);
	*keys = calloc(HUBKEY_HISTORY_MAX, sizeof(**keys));
	if (!text || !*keys) {
		close(fd);
		free(text);
		free(*keys);
		*keys = NULL;
		return diag_set(d, TC_ENOMEM, "%s: out of memory", path);
	}
	while (len < cap && (r = read(fd, text + len, cap - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len == cap) {
		free(text);
		free(*keys);
		*keys = NULL;
		return diag_set(d, TC_ELIMIT, "%s: more than %d keys", path, HUBKEY_HISTORY_MAX);
	}
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		lineno++;
		if (e > i) {
			if (*n >= HUBKEY_HISTORY_MAX ||
			    !hubkey_pub_parse(text + i, e - i, ' ', &(*keys)[*n], NULL)) {
				free(text);
				free(*keys);
				*keys = NULL;
				*n = 0;
				return diag_set(d, TC_ECORRUPT, "%s:%zu: not \"<alg> <hex>\"", path,
				                lineno);
			}
			(*n)++;
		}
		i = e + 1;
	}
	free(text);
	return TC_OK;
}

enum tcerr
hubkey_load_pub(const char *dir, struct hubkey_pub *pub, struct diag *d)
{
	char path[HUBKEY_PATH_MAX], text[HUBKEY_TEXT_MAX];
	size_t len = 0;
	enum tcerr rc;

	if (path_join(path, sizeof(path), dir, HUBKEY_PUB_FILE))
		return diag_set(d, TC_ELIMIT, "%s: path too long", dir);
	if ((rc = read_small(path, text, &len, d)))
		return rc;
	if (!hubkey_pub_parse(text, len, ' ', pub, NULL))
		return diag_set(d, TC_ECORRUPT, "%s: not \"<alg> <hex>\"", path);
	return TC_OK;
}

void
hubkey_pub_of(const struct hubkey *k, struct hubkey_pub *out)
{
	memset(out, 0, sizeof(*out));
	out->alg = k->alg;
	out->len = k->pk_len;
	memcpy(out->pk, k->pk, k->pk_len);
}

static void
pub_text(const struct hubkey_pub *p, char sep, char out[HUBKEY_ID_MAX])
{
	const char *name = hubkey_alg_name(p->alg);
	size_t l = strlen(name);
	memcpy(out, name, l);
	out[l] = sep;
	to_hex(p->pk, p->len <= HUBKEY_PK_MAX ? p->len : 0, out + l + 1);
}

void
hubkey_pub_id(const struct hubkey_pub *p, char out[HUBKEY_ID_MAX])
{
	pub_text(p, ':', out);
}

void
hubkey_pub_line(const struct hubkey_pub *p, char out[HUBKEY_ID_MAX])
{
	pub_text(p, ' ', out);
}

bool
hubkey_pub_parse(const char *s, size_t len, char sep, struct hubkey_pub *out, bool *unknown_alg)
{
	const char *m;
	if (unknown_alg)
		*unknown_alg = false;
	if (sep == ' ' && len && s[len - 1] == '\n')
		len--;
	m = memchr(s, sep, len);
	if (!m)
		return false;
	memset(out, 0, sizeof(*out));
	if (!hubkey_alg_parse(s, (size_t)(m - s), &out->alg)) {
		if (unknown_alg)
			*unknown_alg = true;
		return false;
	}
	out->len = pk_len_of(out->alg);
	m++;
	return from_hex(m, len - (size_t)(m - s), out->pk, out->len);
}

void
hubkey_fingerprint(const struct hubkey_pub *p, char out[HUBKEY_FPR_MAX])
{
	char line[HUBKEY_ID_MAX];
	uint8_t h[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;

	hubkey_pub_line(p, line);
	sha256_init(&c);
	sha256_update(&c, strlen(line), (const uint8_t *)line);
	sha256_digest(&c, sizeof(h), h);
	memcpy(out, "SHA256:", 7);
	to_hex(h, sizeof(h), out + 7);
}

void
hubkey_sign(const struct hubkey *k, const void *msg, size_t len, uint8_t sig[HUBKEY_SIG_LEN])
{
	if (k->alg == HUBKEY_GOST2012_256) {
		const struct ecc_curve *c = nettle_get_gost_gc256b();
		uint8_t dg[STREEBOG256_DIGEST_SIZE];
		struct streebog256_ctx h;
		struct ecc_scalar s;
		struct dsa_signature ds;
		mpz_t z;

		streebog256_init(&h);
		streebog256_update(&h, len, msg);
		streebog256_digest(&h, sizeof(dg), dg);
		mpz_init(z);
		nettle_mpz_set_str_256_u(z, GOST_LEN, k->sk);
		ecc_scalar_init(&s, c);
		(void)ecc_scalar_set(&s, z); /* checked when the key was loaded */
		dsa_signature_init(&ds);
		gostdsa_sign(&s, NULL, gost_random, sizeof(dg), dg, &ds);
		nettle_mpz_get_str_256(GOST_LEN, sig, ds.r);
		nettle_mpz_get_str_256(GOST_LEN, sig + GOST_LEN, ds.s);
		dsa_signature_clear(&ds);
		ecc_scalar_clear(&s);
		mpz_clear(z);
		return;
	}
	crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

bool
hubkey_pub_verify(const struct hubkey_pub *p, const void *msg, size_t len,
                  const uint8_t sig[HUBKEY_SIG_LEN])
{
	if (p->alg == HUBKEY_ED25519 && p->len == HUBKEY_PK_LEN)
		return sodium_init() >= 0 && crypto_sign_verify_detached(sig, msg, len, p->pk) == 0;
	if (p->alg == HUBKEY_GOST2012_256 && p->len == 2 * GOST_LEN) {
		const struct ecc_curve *c = nettle_get_gost_gc256b();
		uint8_t dg[STREEBOG256_DIGEST_SIZE];
		struct streebog256_ctx h;
		struct ecc_point pt;
		struct dsa_signature ds;
		mpz_t x, y;
		bool ok;

		mpz_init(x);
		mpz_init(y);
		nettle_mpz_set_str_256_u(x, GOST_LEN, p->pk);
		nettle_mpz_set_str_256_u(y, GOST_LEN, p->pk + GOST_LEN);
		ecc_point_init(&pt, c);
		ok = ecc_point_set(&pt, x, y) == 1;
		if (ok) {
			streebog256_init(&h);
			streebog256_update(&h, len, msg);
			streebog256_digest(&h, sizeof(dg), dg);
			dsa_signature_init(&ds);
			nettle_mpz_set_str_256_u(ds.r, GOST_LEN, sig);
			nettle_mpz_set_str_256_u(ds.s, GOST_LEN, sig + GOST_LEN);
			ok = gostdsa_verify(&pt, sizeof(dg), dg, &ds) == 1;
			dsa_signature_clear(&ds);
		}
		ecc_point_clear(&pt);
		mpz_clear(x);
		mpz_clear(y);
		return ok;
	}
	return false;
}

bool
hubkey_pub_verify_hex(const struct hubkey_pub *p, const void *msg, size_t len,
                      const char *sig_hex, size_t sig_len)
{
	uint8_t sig[HUBKEY_SIG_LEN];
	return from_hex(sig_hex, sig_len, sig, sizeof(sig)) && hubkey_pub_verify(p, msg, len, sig);
}
