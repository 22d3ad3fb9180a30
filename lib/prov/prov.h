/*
 * prov.h — signed provenance of object versions (issue 12, point 2;
 * docs/federation.md).
 *
 * The origin hub commits object versions in batches. For each batch it
 * builds an RFC 6962-style Merkle tree over the versions' leaves
 *
 *     leaf = H(0x00 || JCS(object without the provenance extension))
 *     node = H(0x01 || left || right)
 *
 * (JCS = RFC 8785 canonical JSON; `extensions` is dropped when removing the
 * provenance entry leaves it empty; H is SHA-256 on an ed25519 hub and
 * Streebog-256 on a gost2012-256 hub), and signs the root once. Every version
 * it serves carries, in the property extension PROV_EXT_ID, its origin hub,
 * the root, its leaf index, the leaf count, its inclusion proof, the signing
 * time and the signature over JCS({alg, leaf_count, origin_hub, root,
 * signed_at}); `hops` (the hubs that relayed it after the origin, in order)
 * is not signed. A verifier therefore pays one hash chain per object and one
 * signature check per batch (the verifier caches verified batch signatures).
 *
 * Invariant: the leaf depends only on the object's content minus this
 * extension, so the extension can be attached or relayed (hops appended)
 * without changing what was signed.
 *
 * Thread safety: a struct prov_verifier may be shared by any number of
 * threads (its cache takes a lock); every other function is reentrant.
 */
#ifndef TOCSIN_PROV_H
#define TOCSIN_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/hubkey.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/slice.h"
#include "util/tcerr.h"

/* The STIX extension-definition id of the provenance property extension
 * (docs/extensions.md). */
#define PROV_EXT_ID "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"

#define PROV_HASH_LEN 32           /* SHA-256 and Streebog-256 */
#define PROV_HASH_HEX (2 * PROV_HASH_LEN)
#define PROV_PROOF_MAX 40          /* path length: leaf_count <= 2^40 */
#define PROV_LEAF_COUNT_MAX ((uint64_t)1 << 40)
#define PROV_HOPS_MAX 16           /* relays recorded after the origin */
#define PROV_TIME_MAX 40           /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" + NUL, with room */
#define PROV_OBJECT_MAX (8u << 20) /* bytes of one object given to JCS or verify */
#define PROV_JCS_DEPTH_MAX 64      /* nesting of arrays and objects */
#define PROV_VERIFIER_CACHE 4096   /* batch signatures remembered (default) */

/* ------------------------------------------------------------------ */
/* RFC 8785 JSON Canonicalization Scheme                              */
/* ------------------------------------------------------------------ */

/* Appends JCS(text) to out: text is one JSON value (I-JSON: valid UTF-8,
 * no duplicate member names, no lone surrogates, numbers that are finite
 * IEEE 754 doubles). When strip_prov, text must be an object and its
 * extensions.PROV_EXT_ID member is left out (and `extensions` too if that
 * empties it). Returns TC_OK; TC_EINVAL (malformed; d says where),
 * TC_ELIMIT (over PROV_OBJECT_MAX or PROV_JCS_DEPTH_MAX), TC_ENOMEM. On
 * error out may hold a partial value: truncate it. */
enum tcerr prov_jcs(struct slice text, bool strip_prov, struct buf *out, struct diag *d);

/* As prov_jcs for a jansson value (serialised, then canonicalised). */
enum tcerr prov_jcs_json(const json_t *v, bool strip_prov, struct buf *out, struct diag *d);

/* ------------------------------------------------------------------ */
/* Hashes and the Merkle tree                                         */
/* ------------------------------------------------------------------ */

/* The hash a hub's algorithm uses: SHA-256 (ed25519), Streebog-256
 * (gost2012-256). */
void prov_hash(enum hubkey_alg alg, const void *p, size_t len, uint8_t out[PROV_HASH_LEN]);

/* The leaf of an object version: H(0x00 || JCS(object minus provenance)).
 * text is the object's JSON. Errors as prov_jcs. */
enum tcerr prov_leaf(enum hubkey_alg alg, struct slice text, uint8_t out[PROV_HASH_LEN],
                     struct diag *d);
enum tcerr prov_leaf_json(enum hubkey_alg alg, const json_t *obj, uint8_t out[PROV_HASH_LEN],
                          struct diag *d);

/* The RFC 6962 §2.1 Merkle Tree Hash of leaves[0..n) (n >= 1; leaves are
 * leaf hashes, already 0x00-prefixed-hashed). OUT: root. Errors:
 * TC_EINVAL (n == 0 or over PROV_LEAF_COUNT_MAX), TC_ENOMEM. */
enum tcerr prov_merkle_root(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
                            uint8_t root[PROV_HASH_LEN], struct diag *d);

/* The RFC 6962 §2.1.1 audit path of leaf index in leaves[0..n). OUT:
 * proof[0..*len) (proof has room for PROV_PROOF_MAX). Errors: TC_EINVAL
 * (index >= n), TC_ENOMEM. */
enum tcerr prov_merkle_proof(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
                             size_t index, uint8_t (*proof)[PROV_HASH_LEN], size_t *len,
                             struct diag *d);

/* A built tree: every level kept, so the proofs of all its leaves cost no
 * more hashing (the writer and the store's proof path use it). */
struct prov_tree;

/* Builds the tree of leaves[0..n) (copied). OUT: *out (prov_tree_free()).
 * Errors: TC_EINVAL (n == 0 or too big), TC_ENOMEM. */
enum tcerr prov_tree_new(enum hubkey_alg alg, const uint8_t (*leaves)[PROV_HASH_LEN], size_t n,
                         struct prov_tree **out, struct diag *d);
void prov_tree_free(struct prov_tree *t);
/* The root; the number of leaves. */
void prov_tree_root(const struct prov_tree *t, uint8_t root[PROV_HASH_LEN]);
size_t prov_tree_size(const struct prov_tree *t);
/* The audit path of leaf index (< size). OUT: proof (room for
 * PROV_PROOF_MAX). Returns its length. */
size_t prov_tree_proof(const struct prov_tree *t, size_t index, uint8_t (*proof)[PROV_HASH_LEN]);

/* Whether proof[0..len) proves leaf is leaf index of a tree of n leaves
 * with this root (RFC 9162 §2.1.3.2 verification). */
bool prov_merkle_verify(enum hubkey_alg alg, const uint8_t leaf[PROV_HASH_LEN], uint64_t index,
                        uint64_t n, const uint8_t (*proof)[PROV_HASH_LEN], size_t len,
                        const uint8_t root[PROV_HASH_LEN]);

/* ------------------------------------------------------------------ */
/* Signing a batch and attaching the extension                        */
/* ------------------------------------------------------------------ */

/* A signed batch root: what the store keeps per batch. */
struct prov_root {
	enum hubkey_alg alg;
	char origin_hub[HUBKEY_ID_MAX];      /* "<alg>:<public key hex>" */
	uint8_t root[PROV_HASH_LEN];
	uint64_t leaf_count;
	char signed_at[PROV_TIME_MAX];       /* RFC 3339 UTC, microseconds */
	char signature[HUBKEY_SIG_HEX + 1];  /* lower-case hex */
};

/* The message a batch signature covers: JCS({"alg","leaf_count",
 * "origin_hub","root","signed_at"}) appended to out. */
void prov_signed_message(const struct prov_root *r, struct buf *out);

/* Signs root over leaf_count leaves with k at signed_at_us (µs since the
 * epoch). OUT: *r. Errors: TC_EINVAL (leaf_count 0 or too big, bad
 * time), TC_ENOMEM. */
enum tcerr prov_sign_root(const struct hubkey *k, const uint8_t root[PROV_HASH_LEN],
                          uint64_t leaf_count, int64_t signed_at_us, struct prov_root *r,
                          struct diag *d);

/* Appends to out the JSON text of the provenance extension's value (the
 * object under extensions.PROV_EXT_ID) for leaf index of r with proof,
 * with no hops. */
void prov_ext_text(const struct prov_root *r, uint64_t index,
                   const uint8_t (*proof)[PROV_HASH_LEN], size_t proof_len, struct buf *out);

/* Sets obj.extensions[PROV_EXT_ID] (creating `extensions`) to the
 * extension for leaf index of r. Errors: TC_EINVAL (obj not an object,
 * extensions not an object), TC_ENOMEM. */
enum tcerr prov_attach(json_t *obj, const struct prov_root *r, uint64_t index,
                       const uint8_t (*proof)[PROV_HASH_LEN], size_t proof_len, struct diag *d);

/* Whether obj carries extensions[PROV_EXT_ID] (in any shape). */
bool prov_present_json(const json_t *obj);
/* The same on JSON text, without a full parse: true when the text holds
 * the string PROV_EXT_ID anywhere (a cheap pre-check; false means
 * certainly absent). */
bool prov_maybe_present(struct slice text);

/* Appends hub (an "<alg>:<hex>" id) to obj's provenance hops, for a relay
 * that stores a peer's object. Errors: TC_ENOTFOUND (no provenance),
 * TC_EINVAL (hub malformed, extension malformed), TC_ELIMIT (already
 * PROV_HOPS_MAX hops), TC_ENOMEM. */
enum tcerr prov_add_hop(json_t *obj, const char *hub, struct diag *d);

/* ------------------------------------------------------------------ */
/* Verifying                                                          */
/* ------------------------------------------------------------------ */

/* What is wrong with an object's provenance; PROV_OK when it verifies. */
enum prov_fault {
	PROV_OK = 0,
	PROV_MISSING,        /* no extensions[PROV_EXT_ID] */
	PROV_MALFORMED,      /* the object or the extension is not well formed */
	PROV_UNKNOWN_ALG,    /* origin_hub names an algorithm this build lacks */
	PROV_WRONG_PROOF,    /* the leaf and proof do not lead to root (tampered or replayed) */
	PROV_BAD_SIGNATURE,  /* the root's signature does not verify */
};

/* A short lower-case name of f ("missing", "wrong proof", ...). */
const char *prov_fault_str(enum prov_fault f);

/* What a verified object's provenance says. */
struct prov_info {
	enum prov_fault fault;               /* also set when verification fails */
	struct hubkey_pub origin;            /* the origin hub's key */
	char origin_hub[HUBKEY_ID_MAX];      /* "<alg>:<hex>" as carried */
	uint8_t root[PROV_HASH_LEN];
	uint8_t leaf[PROV_HASH_LEN];         /* the object's recomputed leaf */
	uint64_t leaf_index, leaf_count;
	char signed_at[PROV_TIME_MAX];
	size_t n_hops;
	char hops[PROV_HOPS_MAX][HUBKEY_ID_MAX];
};

struct prov_verifier;

/* A verifier remembering up to cache_entries verified batch signatures
 * (0: PROV_VERIFIER_CACHE). Returns NULL when out of memory. Free with
 * prov_verifier_free(). */
struct prov_verifier *prov_verifier_new(size_t cache_entries);
void prov_verifier_free(struct prov_verifier *v);

/* Verifies the provenance of one STIX object given as JSON text: the
 * extension is well formed, the object's leaf and the proof lead to root,
 * and root's signature by origin_hub verifies (or a signature with the
 * same signed fields was verified before). Returns TC_OK with out filled;
 * otherwise TC_EINVAL (or TC_ELIMIT / TC_ENOMEM) with out->fault saying
 * which check failed and d naming it ("provenance: wrong proof: ...").
 * out may be NULL. Thread-safe. */
enum tcerr prov_verify(struct prov_verifier *v, const char *json, size_t len,
                       struct prov_info *out, struct diag *d);
/* As prov_verify for a parsed object. */
enum tcerr prov_verify_json(struct prov_verifier *v, const json_t *obj, struct prov_info *out,
                            struct diag *d);

/* Counters: signatures checked, cache hits. */
void prov_verifier_stats(const struct prov_verifier *v, uint64_t *sig_checks,
                         uint64_t *cache_hits);

#endif
