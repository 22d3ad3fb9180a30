/*
 * stix_id.h — identifiers: UUIDs and deterministic SCO ids.
 *
 * SCO ids are UUIDv5 in the STIX namespace 00abedb4-aa42-466c-9c01-fed23315a9b7
 * over the RFC 8785 (JCS) canonical JSON of the type's ID-contributing
 * properties (STIX 2.1 §2.9); UUIDv4 when none is present. Test vector:
 * {"value":"198.51.100.3"} → ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4.
 */
#ifndef TOCSIN_STIX_ID_H
#define TOCSIN_STIX_ID_H

#include <jansson.h>
#include <stdint.h>

#include "stix.h"
#include "util/buf.h"

#define UUID_TEXT_MAX 37 /* 36 + NUL */
/* STIX 2.1 §2.9: the UUIDv5 namespace of deterministic SCO ids. */
#define STIX_SCO_NAMESPACE "00abedb4-aa42-466c-9c01-fed23315a9b7"

/* Writes a random (v4) UUID in lowercase text. Returns TC_OK or TC_EIO. */
enum tcerr uuid_v4(char out[UUID_TEXT_MAX]);
/* Writes the v5 (SHA-1) UUID of name in namespace ns (text form). Returns
 * TC_OK or TC_EINVAL if ns is not a UUID. */
enum tcerr uuid_v5(const char *ns, struct slice name, char out[UUID_TEXT_MAX]);
/* Shortest key uuid_keyed() takes, in bytes. */
#define UUID_KEY_MIN 16
/* Writes the UUID of name under a secret key: the first 16 bytes of
 * HMAC-SHA256(key, name) with the version (4) and variant bits of a random
 * UUID set. The same key and name give the same UUID; who does not hold
 * the key can neither predict it nor tell it from a random one (issue 9:
 * ids an import makes from values). Returns TC_OK, or TC_EINVAL when key
 * is NULL or shorter than UUID_KEY_MIN. */
enum tcerr uuid_keyed(const uint8_t *key, size_t keylen, struct slice name,
                      char out[UUID_TEXT_MAX]);

/* Appends the RFC 8785 canonical JSON of v to out (sorted keys by UTF-16
 * code units, ECMAScript number form, minimal string escapes). Errors are
 * recorded in out like any append (TC_ENOMEM, TC_ELIMIT; TC_EINVAL if v is
 * NULL). */
void jcs_append(struct buf *out, const json_t *v);

/* Computes the deterministic id of an SCO of the given type from its
 * properties (obj). OUT: out = "<type>--<uuid>". Types without contributing
 * properties, or objects that carry none of them, get a v4 id. */
enum tcerr stix_id_sco(const char *type, const json_t *obj, char out[STIX_ID_MAX]);

/* The fixed UUIDv5 namespace tocsin uses for the ids of objects an import
 * makes (indicators from CSV and MISP, MISP reports) when it is given no
 * key (import_opts.id_key): `tocsin validate`, which stores nothing. A
 * hub's imports use its id key instead (uuid_keyed), so that nobody can
 * compute the id the hub gave a value. */
#define TOCSIN_UUID_NAMESPACE "5c7d2b1e-3a4f-4e8b-9c61-2f0a7d9e4b13"

#endif
