/*
 * gen_valid.c — the generator's output is accepted by the real hub.
 *
 * Generates 30,000 indicators (and the objects around them), ingests them
 * into a fresh data directory through hub_ingest(), and fails if any
 * object is rejected (printing why and the object), or if single-value
 * indicators of every kind that are current (not revoked, no valid_until)
 * do not match their own value afterwards. This is what makes the
 * benchmarks honest: an ingest rate over rejected objects measures nothing.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"
#include "hub/hub.h"

#define COUNT 30000
#define BATCH 5000
#define CHECKS 400

struct cand {
	char id[GEN_ID_MAX];
	char value[300];
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The value of a single-comparison pattern "[path = 'v']", else NULL. */
static const char *
single_value(const char *pat, char *out, size_t outsz)
{
	const char *eq = strstr(pat, " = '");
	if (!eq || strstr(pat, " OR ") || strstr(pat, " IN ") || pat[0] != '[')
		return NULL;
	const char *v = eq + 4, *end = strchr(v, '\'');
	if (!end || strcmp(end, "']") != 0 || (size_t)(end - v) >= outsz)
		return NULL;
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return out;
}

int
main(void)
{
	char top[] = "/tmp/tocsin-gen-valid-XXXXXX", dir[64];
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/var", top); /* fits: 28 + 4 */

	int failures = 0;
	struct hub *h = NULL;
	struct diag d;
	static struct gen g;
	static struct cand cands[CHECKS];
	static char revoked[COUNT / 20][GEN_ID_MAX];
	size_t ncand = 0, nrevoked = 0;
	struct buf text;
	static size_t off[BATCH + 1];
	static json_t *objs[BATCH];
	static struct hub_result res[BATCH];
	buf_init(&text, 0);
	gen_init(&g, 42, GEN_JSONL);

	if (hub_init(dir, &d) || hub_open(dir, &h, &d)) {
		fprintf(stderr, "FAIL hub: %s\n", d.msg);
		failures++;
		goto out;
	}
	struct store_collection coll;
	if (hub_collection(h, NULL, &coll, &d)) {
		fprintf(stderr, "FAIL collection: %s\n", d.msg);
		failures++;
		goto out;
	}
	size_t indicators = 0, objects = 0;
	while (indicators < COUNT) {
		buf_clear(&text);
		size_t n = 0;
		while (n < BATCH && indicators < COUNT) {
			off[n++] = text.len;
			if (gen_next(&g, &text) == GEN_REC_INDICATOR)
				indicators++;
		}
		off[n] = text.len;
		for (size_t i = 0; i < n; i++) {
			struct slice s = slice_make(text.p + off[i], off[i + 1] - off[i]);
			if (stix_json_parse(s, NULL, &objs[i], &d)) {
				fprintf(stderr, "FAIL object %zu does not parse: %s\n", objects + i, d.msg);
				failures++;
				for (size_t j = 0; j < i; j++)
					json_decref(objs[j]);
				goto out;
			}
		}
		enum tcerr e = hub_ingest(h, coll.num, objs, NULL, n, res, &d);
		if (e) {
			fprintf(stderr, "FAIL hub_ingest: %s\n", d.msg);
			failures++;
		}
		for (size_t i = 0; !e && i < n; i++) {
			const json_t *o = objs[i];
			const char *type = json_string_value(json_object_get(o, "type"));
			const char *id = json_string_value(json_object_get(o, "id"));
			if (res[i].verdict == HUB_REJECTED) {
				if (failures < 10)
					fprintf(stderr, "FAIL rejected object %zu: %s\n  %.*s\n",
					        objects + i, res[i].why,
					        (int)(off[i + 1] - off[i]), text.p + off[i]);
				failures++;
				continue;
			}
			if (!type || strcmp(type, "indicator") != 0 || !id)
				continue;
			if (json_is_true(json_object_get(o, "revoked"))) {
				if (nrevoked < sizeof(revoked) / sizeof(revoked[0]))
					snprintf(revoked[nrevoked++], GEN_ID_MAX, "%s", id);
				continue;
			}
			const char *pat = json_string_value(json_object_get(o, "pattern"));
			char v[300];
			if (ncand < CHECKS && pat && !json_object_get(o, "valid_until") &&
			    single_value(pat, v, sizeof(v))) {
				snprintf(cands[ncand].id, GEN_ID_MAX, "%s", id);
				memcpy(cands[ncand].value, v, sizeof(v));
				ncand++;
			}
		}
		for (size_t i = 0; i < n; i++)
			json_decref(objs[i]);
		objects += n;
	}

	size_t checked = 0;
	for (size_t i = 0; i < ncand; i++) {
		bool gone = false;
		for (size_t k = 0; k < nrevoked && !gone; k++)
			gone = strcmp(revoked[k], cands[i].id) == 0;
		if (gone)
			continue;
		static struct hub_match m;
		enum tcerr e = hub_match(h, slice_from_cstr(cands[i].value), NULL, &m, &d);
		checked++;
		bool found = false;
		for (size_t k = 0; !e && k < m.nhits && k < HUB_MATCH_MAX_HITS; k++)
			found |= strcmp(m.hits[k].indicator_id, cands[i].id) == 0;
		if (e || !found) {
			if (failures < 20)
				fprintf(stderr, "FAIL %s (%s) does not match its indicator %s: %s\n",
				        cands[i].value, e ? "error" : "no hit", cands[i].id,
				        e ? d.msg : "");
			failures++;
		}
	}
	printf("gen_valid: %zu objects ingested, %zu values matched back\n", objects, checked);
	if (checked < CHECKS / 2) {
		fprintf(stderr, "FAIL only %zu values checked\n", checked);
		failures++;
	}
out:
	if (h)
		hub_close(h);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	buf_reset(&text);
	gen_free(&g);
	return failures ? 1 : 0;
}
