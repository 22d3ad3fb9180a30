/*
 * agent_conf.c — reads tocsin-agent's configuration file (agent_conf.h).
 * Every key is in one table with its section, its type and its range;
 * a value is checked where it is read, so an error names its line.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_conf.h"

enum ktype { K_STR, K_UINT, K_INT, K_BOOL };

struct key {
	const char *section; /* "file" for [file NAME] */
	const char *name;
	enum ktype type;
	size_t off, size;
	long min, max;
};

#define S(sec, nm, fld) { sec, nm, K_STR, offsetof(struct agent_conf, fld), \
                          sizeof(((struct agent_conf *)0)->fld), 0, 0 }
#define F(nm, fld, t, lo, hi) { "file", nm, t, offsetof(struct agent_file_conf, fld), \
                               sizeof(((struct agent_file_conf *)0)->fld), lo, hi }
static const struct key keys[] = {
	S("hub", "url", url),
	S("hub", "key", key),
	S("hub", "key_file", key_file),
	S("hub", "ca_file", ca_file),
	S("hub", "pinned_public_key", pinned_public_key),
	{ "hub", "idle_timeout", K_UINT, offsetof(struct agent_conf, idle_timeout), 0, 1,
	  AGENT_IDLE_TIMEOUT_MAX },
	S("filter", "kind", kinds),
	S("filter", "collection", collections),
	{ "filter", "min_confidence", K_INT, offsetof(struct agent_conf, min_confidence), 0, 0,
	  100 },
	S("filter", "tlp", tlp),
	S("agent", "state_file", state_file),
	{ "agent", "state_interval_ms", K_UINT, offsetof(struct agent_conf, state_interval_ms), 0,
	  0, AGENT_INTERVAL_MS_MAX },
	{ "agent", "receipt_interval_ms", K_UINT, offsetof(struct agent_conf, receipt_interval_ms), 0,
	  0, AGENT_INTERVAL_MS_MAX },
	{ "agent", "dry_run", K_BOOL, offsetof(struct agent_conf, dry_run), 0, 0, 0 },
	{ "nftables", "enabled", K_BOOL, offsetof(struct agent_conf, nft), 0, 0, 0 },
	S("nftables", "table", nft_table),
	S("nftables", "hooks", nft_hooks),
	{ "nftables", "priority", K_INT, offsetof(struct agent_conf, nft_priority), 0, -400, 400 },
	F("format", format, K_STR, 0, 0),
	F("path", path, K_STR, 0, 0),
	F("part", part, K_STR, 0, 0),
	F("reload", reload, K_STR, 0, 0),
	F("debounce_ms", debounce_ms, K_UINT, 0, AGENT_INTERVAL_MS_MAX),
};
#undef S
#undef F

void
agent_conf_defaults(struct agent_conf *c)
{
	memset(c, 0, sizeof *c);
	c->idle_timeout = 60;
	c->min_confidence = -1;
	snprintf(c->state_file, sizeof c->state_file, "/var/lib/tocsin-agent/state");
	c->state_interval_ms = 1000;
	c->receipt_interval_ms = 1000;
	c->nft = true;
	snprintf(c->nft_table, sizeof c->nft_table, "tocsin");
	snprintf(c->nft_hooks, sizeof c->nft_hooks, "input forward");
	c->nft_priority = -10;
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= AGENT_CONF_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static enum tcerr
read_key_file(struct agent_conf *c, const char *where, struct diag *d)
{
	FILE *f = fopen(c->key_file, "re");
	if (!f)
		return diag_set(d, TC_EIO, "%s: key_file %s: %s", where, c->key_file,
		                strerror(errno));
	size_t n = fread(c->key, 1, sizeof c->key - 1, f);
	fclose(f);
	c->key[n] = '\0';
	char *k = trim(c->key);
	size_t kl = strlen(k);
	while (kl && (k[kl - 1] == '\n'))
		k[--kl] = '\0';
	memmove(c->key, k, kl + 1);
	if (!kl || strchr(c->key, '\n'))
		return diag_set(d, TC_EINVAL, "%s: key_file %s: not one key", where, c->key_file);
	return TC_OK;
}

enum tcerr
agent_conf_load(struct agent_conf *c, const char *path, struct diag *d)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, section[64] = "", where[AGENT_CONF_VALUE_MAX + 32];
	size_t cap = 0, lineno = 0, total = 0;
	ssize_t len;
	enum tcerr t = TC_OK;
	uint64_t seen[1 + AGENT_CONF_FILES_MAX] = { 0 }; /* bit per key, per section instance */
	struct agent_file_conf *fc = NULL;

	if (!f)
		return diag_set(d, errno == ENOENT ? TC_ENOTFOUND : TC_EIO, "%s: %s", path,
		                strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		total += (size_t)len;
		if (total > AGENT_CONF_FILE_MAX) {
			t = diag_set(d, TC_ELIMIT, "%s: larger than %d bytes", path, AGENT_CONF_FILE_MAX);
			goto out;
		}
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1]) {
				t = diag_set(d, TC_EINVAL, "%s:%zu: a section line is [NAME]", path, lineno);
				goto out;
			}
			*end = '\0';
			char *nm = trim(s + 1);
			fc = NULL;
			if (strncmp(nm, "file ", 5) == 0) {
				char *fname = trim(nm + 5);
				if (!name_ok(fname)) {
					t = diag_set(d, TC_EINVAL, "%s:%zu: [file NAME]: NAME of letters, "
					             "digits, - and _ (at most %d)", path, lineno,
					             AGENT_CONF_NAME_MAX);
					goto out;
				}
				for (unsigned i = 0; i < c->nfiles; i++)
					if (strcmp(c->files[i].name, fname) == 0) {
						t = diag_set(d, TC_EINVAL, "%s:%zu: [file %s] twice", path,
						             lineno, fname);
						goto out;
					}
				if (c->nfiles >= AGENT_CONF_FILES_MAX) {
					t = diag_set(d, TC_ELIMIT, "%s:%zu: more than %d [file] sections",
					             path, lineno, AGENT_CONF_FILES_MAX);
					goto out;
				}
				fc = &c->files[c->nfiles++];
				memset(fc, 0, sizeof *fc);
				snprintf(fc->name, sizeof fc->name, "%s", fname);
				fc->debounce_ms = 200;
				snprintf(section, sizeof section, "file");
			} else if (strcmp(nm, "hub") == 0 || strcmp(nm, "filter") == 0 ||
			           strcmp(nm, "agent") == 0 || strcmp(nm, "nftables") == 0) {
				snprintf(section, sizeof section, "%s", nm);
			} else {
				t = diag_set(d, TC_EINVAL, "%s:%zu: unknown section [%s]", path, lineno, nm);
				goto out;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			t = diag_set(d, TC_EINVAL, "%s:%zu: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		if (!section[0]) {
			t = diag_set(d, TC_EINVAL, "%s:%zu: '%s' before any [section]", path, lineno, k);
			goto out;
		}
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
			vl -= 2;
		}
		const struct key *key = NULL;
		size_t ki;
		for (ki = 0; ki < sizeof keys / sizeof keys[0]; ki++)
			if (strcmp(keys[ki].section, section) == 0 && strcmp(keys[ki].name, k) == 0) {
				key = &keys[ki];
				break;
			}
		if (!key) {
			t = diag_set(d, TC_EINVAL, "%s:%zu: unknown key '%s' in [%s]", path, lineno, k,
			             section);
			goto out;
		}
		uint64_t *sb = &seen[fc ? (size_t)(fc - c->files) + 1 : 0];
		if (*sb & (UINT64_C(1) << ki)) {
			t = diag_set(d, TC_EINVAL, "%s:%zu: '%s' set twice", path, lineno, k);
			goto out;
		}
		*sb |= UINT64_C(1) << ki;
		char *base = fc ? (char *)fc : (char *)c;
		void *dst = base + key->off;
		switch (key->type) {
		case K_STR:
			if (vl >= key->size) {
				t = diag_set(d, TC_ELIMIT, "%s:%zu: '%s' longer than %zu bytes", path,
				             lineno, k, key->size - 1);
				goto out;
			}
			memcpy(dst, v, vl + 1);
			break;
		case K_UINT:
		case K_INT: {
			char *end;
			errno = 0;
			long x = strtol(v, &end, 10);
			if (errno || end == v || *end || x < key->min || x > key->max) {
				t = diag_set(d, TC_EINVAL, "%s:%zu: '%s': a number from %ld to %ld", path,
				             lineno, k, key->min, key->max);
				goto out;
			}
			if (key->type == K_UINT)
				*(unsigned *)dst = (unsigned)x;
			else
				*(int *)dst = (int)x;
			break;
		}
		case K_BOOL:
			if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
				*(bool *)dst = true;
			} else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
			           strcmp(v, "0") == 0) {
				*(bool *)dst = false;
			} else {
				t = diag_set(d, TC_EINVAL, "%s:%zu: '%s': yes or no", path, lineno, k);
				goto out;
			}
			break;
		}
		if (strcmp(section, "nftables") == 0 && strcmp(k, "table") == 0 && !name_ok(v)) {
			t = diag_set(d, TC_EINVAL, "%s:%zu: table: letters, digits, - and _", path,
			             lineno);
			goto out;
		}
		if (strcmp(section, "hub") == 0 && strcmp(k, "key_file") == 0) {
			snprintf(where, sizeof where, "%s:%zu", path, lineno);
			if ((t = read_key_file(c, where, d)))
				goto out;
		}
	}
out:
	free(line);
	fclose(f);
	return t;
}

enum tcerr
agent_conf_check(const struct agent_conf *c, struct diag *d)
{
	if (!c->url[0])
		return diag_set(d, TC_EINVAL, "[hub] url is required");
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
		return diag_set(d, TC_EINVAL, "[hub] url: an http:// or https:// URL");
	if (!c->key[0])
		return diag_set(d, TC_EINVAL, "[hub] key or key_file is required (a key of role "
		                "agent: tocsin org key-create ORG --role agent)");
	if (c->pinned_public_key[0] && strncmp(c->url, "https://", 8) != 0)
		return diag_set(d, TC_EINVAL, "[hub] pinned_public_key needs an https:// url");
	if (!c->state_file[0])
		return diag_set(d, TC_EINVAL, "[agent] state_file is required");
	for (const char *w = c->nft_hooks; *w;) {
		size_t n = strcspn(w, " ");
		if (n && !((n == 5 && strncmp(w, "input", 5) == 0) ||
		           (n == 7 && strncmp(w, "forward", 7) == 0) ||
		           (n == 6 && strncmp(w, "output", 6) == 0) ||
		           (n == 10 && strncmp(w, "prerouting", 10) == 0)))
			return diag_set(d, TC_EINVAL, "[nftables] hooks: input, forward, output, "
			                "prerouting (not '%.*s')", (int)n, w);
		w += n;
		w += strspn(w, " ");
	}
	for (unsigned i = 0; i < c->nfiles; i++) {
		const struct agent_file_conf *f = &c->files[i];
		if (!f->path[0])
			return diag_set(d, TC_EINVAL, "[file %s] path is required", f->name);
		if (strcmp(f->format, "rpz") != 0 && strcmp(f->format, "suricata-dataset") != 0 &&
		    strcmp(f->format, "zeek") != 0 && strcmp(f->format, "plain") != 0 &&
		    strcmp(f->format, "ipset") != 0)
			return diag_set(d, TC_EINVAL, "[file %s] format: rpz, suricata-dataset, zeek, "
			                "plain or ipset", f->name);
	}
	return TC_OK;
}
