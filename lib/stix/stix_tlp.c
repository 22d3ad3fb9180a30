/*
 * stix_tlp.c — the Traffic Light Protocol marking definitions STIX defines.
 *
 * TLP 1.0 (STIX 2.1 §7.2.1.4) and TLP 2.0 (the OASIS extension
 * extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d) each fix one
 * marking-definition id per level. This table is the only place those ids
 * are written; the invariant is that every known id maps to exactly one
 * level and the canonical content checked by stix__tlp_check_definition()
 * matches the object published under that id.
 */
#include <string.h>

#include "stix.h"
#include "stix_internal.h"

struct tlp_def {
	const char *id;
	enum tlp_level lvl;
	int version;      /* 1 = TLP 1.0, 2 = TLP 2.0 */
	const char *word; /* definition.tlp (1.0) or tlp_2_0 (2.0) */
	const char *name; /* "TLP:..." */
};

static const struct tlp_def tlp_defs[] = {
    /* TLP 1.0, STIX 2.1 §7.2.1.4 */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", TLP_CLEAR, 1, "white",
     "TLP:WHITE"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", TLP_GREEN, 1, "green",
     "TLP:GREEN"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", TLP_AMBER, 1, "amber",
     "TLP:AMBER"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", TLP_RED, 1, "red", "TLP:RED"},
    /* TLP 2.0 */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", TLP_CLEAR, 2, "clear",
     "TLP:CLEAR"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", TLP_GREEN, 2, "green",
     "TLP:GREEN"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", TLP_AMBER, 2, "amber",
     "TLP:AMBER"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", TLP_AMBER_STRICT, 2,
     "amber+strict", "TLP:AMBER+STRICT"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", TLP_RED, 2, "red", "TLP:RED"},
};

#define TLP_NDEFS (sizeof(tlp_defs) / sizeof(tlp_defs[0]))
#define TLP_MARKING_PREFIX_LEN (sizeof("marking-definition--") - 1)

static bool
str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static const struct tlp_def *
tlp_find(const char *id)
{
	/* All ids share the prefix and differ in the first UUID byte, so a
	 * prefix test and a short scan cost less than hashing. */
	if (!id || strncmp(id, "marking-definition--", TLP_MARKING_PREFIX_LEN) != 0)
		return NULL;
	for (size_t i = 0; i < TLP_NDEFS; i++)
		if (strcmp(id, tlp_defs[i].id) == 0)
			return &tlp_defs[i];
	return NULL;
}

enum tlp_level
stix_tlp_from_marking(const char *marking_id)
{
	const struct tlp_def *t = tlp_find(marking_id);
	return t ? t->lvl : TLP_NONE;
}

/* One marking ref's level for stix_markings_tlp. */
static enum tlp_level
ref_level(const json_t *ref, stix_statement_fn is_statement, void *ctx, size_t *nother)
{
	const char *id = json_string_value(ref);
	enum tlp_level l = stix_tlp_from_marking(id);
	if (l != TLP_NONE)
		return l;
	(*nother)++;
	if (id && is_statement && is_statement(ctx, id))
		return TLP_NONE;
	return TLP_RED;
}

enum tlp_level
stix_markings_tlp(const json_t *obj, stix_statement_fn is_statement, void *ctx, size_t *nother)
{
	const json_t *omr = json_object_get(obj, "object_marking_refs");
	const json_t *gm = json_object_get(obj, "granular_markings");
	enum tlp_level lvl = TLP_NONE, l;
	size_t other = 0;

	if ((omr && !json_is_array(omr)) || (gm && !json_is_array(gm))) {
		lvl = TLP_RED;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(omr); i++)
		if ((l = ref_level(json_array_get(omr, i), is_statement, ctx, &other)) > lvl)
			lvl = l;
	/* STIX 2.1 §7.2.3: a granular marking applies to the properties its
	 * selectors name; the hub serves objects whole, so it applies to
	 * all of it. An entry with lang and no marking_ref marks nothing. */
	for (size_t i = 0; i < json_array_size(gm); i++) {
		const json_t *e = json_array_get(gm, i);
		const json_t *mr = json_object_get(e, "marking_ref");
		if (!json_is_object(e)) {
			lvl = TLP_RED;
			continue;
		}
		if (mr && (l = ref_level(mr, is_statement, ctx, &other)) > lvl)
			lvl = l;
	}
out:
	if (nother)
		*nother = other;
	return lvl;
}

/* The id of the provenance extension (lib/prov/prov.h PROV_EXT_ID, not
 * included: stix does not depend on prov). */
#define STIX_PROV_EXT_ID "extension-definition--6a1b3c2e-7f4d-4c5a-9b8e-0d1f2a3b4c06"

bool
stix_marking_is_statement(const json_t *md)
{
	const json_t *dt = json_object_get(md, "definition_type");
	const json_t *def = json_object_get(md, "definition");
	const json_t *ext = json_object_get(md, "extensions");
	/* a hub's signed provenance (docs/federation.md) changes no meaning */
	bool plain = !ext || (json_is_object(ext) && json_object_size(ext) == 1 &&
	                      json_object_get(ext, STIX_PROV_EXT_ID));
	return json_is_object(md) && str_is(json_object_get(md, "type"), "marking-definition") &&
	       str_is(dt, "statement") && json_is_object(def) &&
	       json_is_string(json_object_get(def, "statement")) && plain;
}

const char *
stix_tlp_marking_id(enum tlp_level lvl)
{
	for (size_t i = 0; i < TLP_NDEFS; i++)
		if (tlp_defs[i].version == 2 && tlp_defs[i].lvl == lvl)
			return tlp_defs[i].id;
	return NULL;
}

const char *
stix_tlp_name(enum tlp_level lvl)
{
	switch (lvl) {
	case TLP_CLEAR:
		return "clear";
	case TLP_GREEN:
		return "green";
	case TLP_AMBER:
		return "amber";
	case TLP_AMBER_STRICT:
		return "amber+strict";
	case TLP_RED:
		return "red";
	case TLP_NONE:
		break;
	}
	return "none";
}

enum tcerr
stix_tlp_parse(const char *name, enum tlp_level *out)
{
	static const enum tlp_level all[] = {TLP_NONE,  TLP_CLEAR,        TLP_GREEN,
	                                     TLP_AMBER, TLP_AMBER_STRICT, TLP_RED};
	if (!name)
		return TC_EINVAL;
	/* Accept "TLP:AMBER+STRICT" as well as "amber+strict", any case;
	 * "white" is TLP 1.0 for clear. */
	if (strncasecmp(name, "tlp:", 4) == 0)
		name += 4;
	if (strcasecmp(name, "white") == 0) {
		*out = TLP_CLEAR;
		return TC_OK;
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcasecmp(name, stix_tlp_name(all[i])) == 0) {
			*out = all[i];
			return TC_OK;
		}
	}
	return TC_EINVAL;
}

#define TLP2_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

enum tcerr
stix__tlp_check_definition(const json_t *obj, const char *id, struct stix__vctx *c)
{
	const struct tlp_def *t = tlp_find(id);
	const json_t *dt = json_object_get(obj, "definition_type");
	const json_t *ext = json_object_get(obj, "extensions");
	const json_t *tlp2 = json_is_object(ext) ? json_object_get(ext, TLP2_EXT) : NULL;

	if (!t) {
		/* Only the published ids may claim to be TLP. */
		if (str_is(dt, "tlp"))
			return stix__verr(
			    c, TC_EINVAL, "definition_type",
			    "\"tlp\" is reserved for the TLP 1.0 marking definitions");
		if (tlp2)
			return stix__verr(c, TC_EINVAL, "extensions",
			                  "the TLP 2.0 extension is reserved for the TLP 2.0 "
			                  "marking definitions");
		return TC_OK;
	}
	const json_t *name = json_object_get(obj, "name");
	if (name && !str_is(name, t->name))
		return stix__verr(c, TC_EINVAL, "name", "must be \"%s\" for this TLP marking id",
		                  t->name);
	if (t->version == 1) {
		const json_t *def = json_object_get(obj, "definition");
		if (!str_is(dt, "tlp"))
			return stix__verr(c, TC_EINVAL, "definition_type",
			                  "must be \"tlp\" for this TLP marking id");
		if (!json_is_object(def) || json_object_size(def) != 1 ||
		    !str_is(json_object_get(def, "tlp"), t->word))
			return stix__verr(c, TC_EINVAL, "definition",
			                  "must be {\"tlp\": \"%s\"} for this TLP marking id",
			                  t->word);
		if (!str_is(json_object_get(obj, "created"), "2017-01-20T00:00:00.000Z"))
			return stix__verr(
			    c, TC_EINVAL, "created",
			    "must be 2017-01-20T00:00:00.000Z for this TLP marking id");
		return TC_OK;
	}
	if (dt || json_object_get(obj, "definition"))
		return stix__verr(c, TC_EINVAL, "definition_type",
		                  "not allowed in a TLP 2.0 marking definition");
	if (!json_is_object(tlp2) ||
	    !str_is(json_object_get(tlp2, "extension_type"), "property-extension") ||
	    !str_is(json_object_get(tlp2, "tlp_2_0"), t->word))
		return stix__verr(c, TC_EINVAL, "extensions",
		                  "must carry the TLP 2.0 extension with tlp_2_0 \"%s\" for this "
		                  "TLP marking id",
		                  t->word);
	if (!str_is(json_object_get(obj, "created"), "2022-10-01T00:00:00.000Z"))
		return stix__verr(c, TC_EINVAL, "created",
		                  "must be 2022-10-01T00:00:00.000Z for this TLP marking id");
	return TC_OK;
}
