/*
 * crowdsec_map.c — decisions by value, for the live query (see
 * crowdsec.h): an open-addressing hash table keyed by the value's text.
 *
 * Invariant: at most half the slots are in use (live or removed), so a
 * probe always ends at an empty slot; a put that cannot grow the table
 * leaves it as it was.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "crowdsec/crowdsec.h"

char cs_map_tomb;

void
cs_map_init(struct cs_map *m)
{
	memset(m, 0, sizeof *m);
}

static void
entry_free(struct cs_map_entry *e)
{
	if (e->value && e->value != &cs_map_tomb) {
		free(e->value);
		free(e->scenario);
	}
}

void
cs_map_reset(struct cs_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		entry_free(&m->slots[i]);
	free(m->slots);
	cs_map_init(m);
}

static size_t
slot_of(const struct cs_map *m, struct slice v, bool *found)
{
	size_t mask = m->cap - 1, i = (size_t)XXH3_64bits(v.p, v.len) & mask;
	size_t tomb = SIZE_MAX;
	*found = false;
	for (;;) {
		struct cs_map_entry *e = &m->slots[i];
		if (!e->value)
			return tomb != SIZE_MAX ? tomb : i;
		if (e->value == &cs_map_tomb) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (e->vlen == v.len && memcmp(e->value, v.p, v.len) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static bool
grow(struct cs_map *m)
{
	size_t nc = m->cap ? m->cap * 2 : 64;
	if (m->n * 4 < m->cap)
		nc = m->cap; /* mostly removed slots: rebuild at the same size */
	struct cs_map_entry *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return false;
	struct cs_map old = *m;
	m->slots = ns;
	m->cap = nc;
	m->n = m->used = 0;
	for (size_t i = 0; i < old.cap; i++) {
		struct cs_map_entry *e = &old.slots[i];
		if (!e->value || e->value == &cs_map_tomb)
			continue;
		bool found;
		size_t j = slot_of(m, slice_make(e->value, e->vlen), &found);
		m->slots[j] = *e;
		m->n++;
		m->used++;
	}
	free(old.slots);
	return true;
}

enum tcerr
cs_map_put(struct cs_map *m, enum obs_kind kind, struct slice value, bool block,
           int64_t until_us, const char *scenario)
{
	if ((m->used + 1) * 2 > m->cap && !grow(m))
		return TC_ENOMEM;
	char *sc = strdup(scenario ? scenario : "");
	if (!sc)
		return TC_ENOMEM;
	bool found;
	size_t i = slot_of(m, value, &found);
	struct cs_map_entry *e = &m->slots[i];
	if (found) {
		free(e->scenario);
	} else {
		char *v = malloc(value.len + 1);
		if (!v) {
			free(sc);
			return TC_ENOMEM;
		}
		memcpy(v, value.p, value.len);
		v[value.len] = '\0';
		if (e->value != &cs_map_tomb)
			m->used++;
		e->value = v;
		e->vlen = value.len;
		m->n++;
	}
	e->kind = kind;
	e->block = block;
	e->until_us = until_us;
	e->scenario = sc;
	return TC_OK;
}

void
cs_map_del(struct cs_map *m, struct slice value)
{
	bool found;
	if (!m->cap)
		return;
	size_t i = slot_of(m, value, &found);
	if (!found)
		return;
	entry_free(&m->slots[i]);
	m->slots[i].value = &cs_map_tomb;
	m->slots[i].scenario = NULL;
	m->n--;
}

const struct cs_map_entry *
cs_map_get(const struct cs_map *m, struct slice value)
{
	bool found;
	if (!m->cap)
		return NULL;
	size_t i = slot_of(m, value, &found);
	return found ? &m->slots[i] : NULL;
}
