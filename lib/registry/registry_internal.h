/*
 * registry_internal.h — what the files of lib/registry share and nothing
 * else may use: the loaded rows a snapshot is built from and the SPEC
 * compiler. Invariant: a struct reg__loaded owns everything it points to
 * and reg__loaded_free() releases it, wiping the credential hashes.
 */
#ifndef TOCSIN_REGISTRY_INTERNAL_H
#define TOCSIN_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "registry/registry.h"

/* For the other files of lib/registry that keep tables of their own
 * (registry_webhook.c): the connection, the mutex every call holds while
 * it uses it, and the SQLite error mapping (TC_EBUSY, TC_ENOMEM, TC_EIO,
 * TC_EDB with the file's name). */
sqlite3 *reg__db(struct registry *r);
pthread_mutex_t *reg__mu(struct registry *r);
enum tcerr reg__dberr(struct registry *r, int rc, struct diag *d);
/* Sets the registry setting key to val, a text starting with a decimal
 * number, unless the stored value's number is greater (or, with strict,
 * equal): a per-key position that only moves forward (bouncer cursors,
 * agent receipts). Takes the registry's lock. Errors: TC_EDB. */
enum tcerr reg__setting_forward(struct registry *r, const char *key, const char *val,
                                bool strict, struct diag *d);

/* Reads every row of sql (no parameters) under the registry's lock, each
 * into an element of elem bytes by row(), and hands the elements to
 * cb(ctx, element) once the lock is released (cb may call the registry).
 * The copies hold secrets (webhook secrets, source auth headers, peer
 * keys): they are wiped before they are freed. Errors: cb's, TC_ENOMEM,
 * TC_EDB. */
enum tcerr reg__list_secret_rows(struct registry *r, const char *sql, size_t elem,
                                 void (*row)(sqlite3_stmt *st, void *out),
                                 enum tcerr (*cb)(void *ctx, const void *e), void *ctx,
                                 struct diag *d);
/* Runs sql, a DELETE with one text parameter (key), under the registry's
 * lock. TC_ENOTFOUND ("no WHAT 'KEY'") when it deleted nothing; TC_EDB. */
enum tcerr reg__delete_row(struct registry *r, const char *sql, const char *key, const char *what,
                           struct diag *d);

/* The registry step of false-positive reports (registry_fp.c), appended
 * to reg_migrations as step REG_STEP_FP. */
#define REG_STEP_FP 8
extern const char reg__fp_schema[];

#define REG__HASH_LEN 32 /* SHA-256 */

/* A principal as the snapshot keeps it: hash is the SHA-256 of the whole
 * key text (REG_CRED_KEY) or the certificate fingerprint (REG_CRED_CERT). */
struct reg__principal {
	struct reg_principal p;
	uint8_t hash[REG__HASH_LEN];
};

struct reg__rights {
	char collection[37];   /* lower-case UUID */
	char *read, *write;    /* SPEC texts as stored */
};

struct reg__croot {
	char collection[37];   /* lower-case UUID */
	char api_root[REG_API_ROOT_NAME_MAX + 1];
};

/* Everything reg_snapshot_build() reads from the database, read in one
 * transaction so that it is one consistent picture. */
struct reg__loaded {
	struct reg_org *orgs;          /* in num order */
	size_t norgs;
	struct reg__principal *prs;    /* active (not revoked) only, in num order */
	size_t nprs;
	struct reg__rights *rights;
	size_t nrights;
	struct reg_api_root *roots;    /* in creation order */
	size_t nroots;
	struct reg__croot *croots;
	size_t ncroots;
	char (*deleted_colls)[37];     /* lower-case UUIDs of deleted collections */
	size_t ndeleted_colls;
};

/* Fills *out. Errors: TC_EDB, TC_ENOMEM (with d). */
enum tcerr reg__load(struct registry *r, struct reg__loaded *out, struct diag *d);
void reg__loaded_free(struct reg__loaded *l);

/* Compiles SPEC text against the organisations orgs[0..norgs). With
 * check_groups, a group: term must name a group some organisation is in
 * (a typo is caught when rights are set; a snapshot accepts an empty
 * group, which admits nobody). OUT: *out, freed with reg__spec_free() also
 * on error. Errors: TC_EINVAL (message names the term), TC_ELIMIT,
 * TC_ENOMEM. */
enum tcerr reg__spec_compile(const char *text, const struct reg_org *orgs, size_t norgs,
                             bool check_groups, struct reg_spec *out, struct diag *d);
void reg__spec_free(struct reg_spec *s);

/* Appends to out the SPEC text with every term that names organisation
 * num (by org:NAME or a bare name, resolved against orgs) written as
 * "org:NEWNAME", the other terms as they were (trimmed). OUT: *changed.
 * Errors: those of out (TC_ELIMIT, TC_ENOMEM). */
enum tcerr reg__spec_rename(const char *text, const struct reg_org *orgs, size_t norgs,
                            int64_t num, const char *newname, struct buf *out, bool *changed,
                            struct diag *d);

/* Checks a sharing group name ([a-z0-9][a-z0-9._-]*, ≤ REG_GROUP_NAME_MAX)
 * and writes it lower-cased to out. TC_EINVAL with a message naming it. */
enum tcerr reg__group_norm(const char *g, char out[REG_GROUP_NAME_MAX + 1], struct diag *d);

#endif
