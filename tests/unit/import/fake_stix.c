/*
 * fake_stix.c — stand-ins for the lib/stix functions the import and export
 * tests need, linked only while lib/stix has no implementation (see
 * meson.build). They follow stix.h/stix_id.h closely enough for the tests:
 * strict-ish JSON via jansson, real RFC 4122 UUIDv5, the TLP 2.0 ids.
 * Delete this file once lib/stix is merged.
 */
#include <ctype.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix.h"
#include "stix/stix_id.h"

const struct stix_limits stix_default_limits = { 64, 1 << 20, 10000, 100000, 65536 };

enum tcerr
stix_json_parse(struct slice text, const struct stix_limits *lim, json_t **out, struct diag *d)
{
	json_error_t e;
	*out = json_loadb(text.p, text.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!*out) {
		diag_set(d, TC_EINVAL, "%s", e.text);
		if (d) {
			d->line = e.line;
			d->column = e.column;
		}
		return TC_EINVAL;
	}
	return TC_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
uuid_text(const uint8_t u[16], char out[UUID_TEXT_MAX])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[u[i] >> 4];
		out[o++] = hx[u[i] & 15];
	}
	out[o] = '\0';
}

enum tcerr
uuid_v5(const char *ns, struct slice name, char out[UUID_TEXT_MAX])
{
	uint8_t nsb[16], dg[SHA1_DIGEST_SIZE];
	size_t k = 0;
	for (const char *p = ns; *p; p++) {
		if (*p == '-')
			continue;
		int h = hexval(p[0]), l = p[1] ? hexval(p[1]) : -1;
		if (h < 0 || l < 0 || k >= 16)
			return TC_EINVAL;
		nsb[k++] = (uint8_t)(h << 4 | l);
		p++;
	}
	if (k != 16)
		return TC_EINVAL;
	struct sha1_ctx c;
	sha1_init(&c);
	sha1_update(&c, 16, nsb);
	sha1_update(&c, name.len, (const uint8_t *)name.p);
	sha1_digest(&c, sizeof(dg), dg);
	dg[6] = (dg[6] & 0x0f) | 0x50;
	dg[8] = (dg[8] & 0x3f) | 0x80;
	uuid_text(dg, out);
	return TC_OK;
}

enum tcerr
uuid_v4(char out[UUID_TEXT_MAX])
{
	uint8_t u[16];
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)random();
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	uuid_text(u, out);
	return TC_OK;
}

static const char *const tlp_ids[] = {
	[TLP_CLEAR] = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	[TLP_GREEN] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	[TLP_AMBER] = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	[TLP_AMBER_STRICT] = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	[TLP_RED] = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};
static const char *const tlp_names[] = { "none", "clear", "green", "amber", "amber+strict", "red" };

const char *
stix_tlp_marking_id(enum tlp_level lvl)
{
	return lvl >= TLP_CLEAR && lvl <= TLP_RED ? tlp_ids[lvl] : NULL;
}

enum tlp_level
stix_tlp_from_marking(const char *marking_id)
{
	for (int l = TLP_CLEAR; l <= TLP_RED; l++)
		if (strcmp(marking_id, tlp_ids[l]) == 0)
			return (enum tlp_level)l;
	return TLP_NONE;
}

const char *
stix_tlp_name(enum tlp_level lvl)
{
	return lvl <= TLP_RED ? tlp_names[lvl] : "none";
}

enum tcerr
stix_tlp_parse(const char *name, enum tlp_level *out)
{
	for (int l = TLP_CLEAR; l <= TLP_RED; l++)
		if (strcmp(name, tlp_names[l]) == 0) {
			*out = (enum tlp_level)l;
			return TC_OK;
		}
	return TC_EINVAL;
}

enum stix_class
stix_classify(const char *type)
{
	static const char *const sco[] = { "ipv4-addr", "ipv6-addr", "domain-name", "url",
		                           "email-addr", "file", NULL };
	if (strcmp(type, "bundle") == 0)
		return STIX_CLASS_BUNDLE;
	if (strcmp(type, "relationship") == 0 || strcmp(type, "sighting") == 0)
		return STIX_CLASS_SRO;
	if (strcmp(type, "marking-definition") == 0)
		return STIX_CLASS_META;
	for (int i = 0; sco[i]; i++)
		if (strcmp(type, sco[i]) == 0)
			return STIX_CLASS_SCO;
	return STIX_CLASS_SDO;
}
