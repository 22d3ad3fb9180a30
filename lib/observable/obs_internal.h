/*
 * obs_internal.h — the per-kind normalisers behind obs_normalize(), shared
 * by the files of lib/observable only.
 *
 * Every normaliser takes an already trimmed slice no longer than
 * OBS_VALUE_MAX, appends the canonical text to out and returns TC_OK, or
 * returns an error with the reason in d; on error whatever it appended is
 * cut off again by the caller (obs_normalize). Messages never repeat the
 * input value: the caller decides whether the value may be shown (a card
 * number may not).
 */
#ifndef TOCSIN_OBS_INTERNAL_H
#define TOCSIN_OBS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "util/hex.h"
#include "observable/observable.h"

#define OBS_DOMAIN_MAX 253 /* RFC 1035 §2.3.4: name length without the final dot */
#define OBS_LABEL_MAX 63   /* RFC 1035 §2.3.4 */
#define OBS_EMAIL_LOCAL_MAX 64 /* RFC 5321 §4.5.3.1.1 */
#define OBS_EMAIL_MAX 254      /* RFC 5321 §4.5.3.1.3 path minus the angle brackets */

static inline bool
obs__is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
obs__is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static inline char
obs__lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static inline char
obs__upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

/* ASCII case-insensitive prefix test. */
bool obs__prefix_ci(struct slice s, const char *prefix);

/* obs_ip.c. *kind receives OBS_IPV4 or OBS_IPV6 (an IPv4-mapped IPv6
 * address is written as IPv4 and reported as OBS_IPV4). */
enum tcerr obs__ipv4(struct slice in, struct buf *out, enum obs_kind *kind, struct diag *d);
enum tcerr obs__ipv6(struct slice in, struct buf *out, enum obs_kind *kind, struct diag *d);
/* Strict dotted quad without prefix. Returns true and the address in a. */
bool obs__ipv4_parse(struct slice in, uint8_t a[4]);
/* inet_pton-level IPv6 parse (no zone, no prefix). */
bool obs__ipv6_parse(struct slice in, uint8_t a[16]);
/* RFC 5952 §4 text of a (never the IPv4-mapped shortcut). */
void obs__ipv6_format(const uint8_t a[16], struct buf *out);

enum tcerr obs__domain(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__url(struct slice in, struct buf *out, struct diag *d);
/* true if in is a URL already in the normal form obs__url gives, and
 * simple enough to tell without parsing it (obs_url.c): then obs__url
 * appends in as it is, without libcurl. */
bool obs__url_is_plain(struct slice in);
/* obs__url's libcurl path, for every URL (tests compare the two). */
enum tcerr obs__url_curl(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__email(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__hash(enum obs_kind kind, struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__phone(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__bank(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__card(const struct obs_ctx *ctx, struct slice in, struct buf *out,
                     struct diag *d);
/* Luhn check over len ASCII digits. */
bool obs__luhn(const char *digits, size_t len);
enum tcerr obs__wallet(struct slice in, struct buf *out, struct diag *d);
enum tcerr obs__asn(struct slice in, struct buf *out, struct diag *d);

/* obs_normalize() that also reports the kind the value turned out to be
 * (an IPv4-mapped address asked for as ipv6 is ipv4). OUT: *got. */
enum tcerr obs__normalize_kind(const struct obs_ctx *ctx, enum obs_kind kind, struct slice in,
                               struct buf *out, enum obs_kind *got, struct diag *d);

/* Maps a file hash name ("MD5", "'SHA-256'", "sha256"; quotes optional,
 * case ignored) to its kind. Returns false for other algorithms. */
bool obs__hash_name_kind(struct slice name, enum obs_kind *out);

#endif
