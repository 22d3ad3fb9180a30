/*
 * agent_set.c — the agent's applied set (a chained hash table keyed by
 * kind and value), the events that change it and its state file. See
 * agent_set.h for the invariants.
 *
 * State file format (text, one record a line, fields separated by tabs):
 *   tocsin-agent-state 1
 *   position<TAB>N
 *   saved<TAB>µs
 *   applied<TAB>µs
 *   error<TAB>TEXT          (optional)
 *   d<TAB>KIND<TAB>block|alert<TAB>UNTIL_µs<TAB>CONFIDENCE<TAB>TLP<TAB>VALUE
 *   end<TAB>COUNT
 * The end line makes a truncated file detectable even if a file system
 * lied about fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_set.h"
#include "util/buf.h"
#include "util/timestamp.h"

#define AGENT_SET_BUCKETS_MIN 1024
#define AGENT_STATE_MAGIC "tocsin-agent-state 1"

struct node {
	struct agent_entry e;
	uint64_t h;
	struct node *next;
};

struct agent_set {
	struct node **b;
	size_t nb, n;
	int64_t next_until;         /* no entry expires before this; 0: none expires */
	size_t per_kind[OBS_KIND_MAX + 1];
};

static uint64_t
hash(enum obs_kind k, const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)k;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

void
agent_changes_clear(struct agent_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].value);
	c->n = 0;
}

void
agent_changes_reset(struct agent_changes *c)
{
	agent_changes_clear(c);
	free(c->v);
	c->v = NULL;
	c->cap = 0;
}

static enum tcerr
change_add(struct agent_changes *c, enum agent_op op, const struct agent_entry *e,
           int64_t old_until, struct diag *d)
{
	if (!c)
		return TC_OK;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		struct agent_change *v = realloc(c->v, nc * sizeof *v);
		if (!v)
			return diag_set(d, TC_ENOMEM, "out of memory");
		c->v = v;
		c->cap = nc;
	}
	char *val = malloc(e->len + 1);
	if (!val)
		return diag_set(d, TC_ENOMEM, "out of memory");
	memcpy(val, e->value, e->len + 1);
	c->v[c->n++] = (struct agent_change){ op, e->kind, e->alert, e->until_us, old_until, val };
	return TC_OK;
}

struct agent_set *
agent_set_new(void)
{
	struct agent_set *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->b = calloc(AGENT_SET_BUCKETS_MIN, sizeof *s->b);
	if (!s->b) {
		free(s);
		return NULL;
	}
	s->nb = AGENT_SET_BUCKETS_MIN;
	return s;
}

void
agent_set_free(struct agent_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nb; i++) {
		struct node *x = s->b[i];
		while (x) {
			struct node *nx = x->next;
			free(x->e.value);
			free(x);
			x = nx;
		}
	}
	free(s->b);
	free(s);
}

size_t
agent_set_count(const struct agent_set *s)
{
	return s->n;
}

size_t
agent_set_count_kind(const struct agent_set *s, enum obs_kind k)
{
	return (unsigned)k <= OBS_KIND_MAX ? s->per_kind[k] : 0;
}

static struct node **
find(const struct agent_set *s, enum obs_kind k, const char *p, size_t n, uint64_t h)
{
	struct node **pp = &s->b[h & (s->nb - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->h == h && (*pp)->e.kind == k && (*pp)->e.len == n &&
		    memcmp((*pp)->e.value, p, n) == 0)
			return pp;
	return pp;
}

const struct agent_entry *
agent_set_get(const struct agent_set *s, enum obs_kind kind, struct slice value)
{
	struct node **pp = find(s, kind, value.p, value.len, hash(kind, value.p, value.len));
	return *pp ? &(*pp)->e : NULL;
}

static void
grow(struct agent_set *s)
{
	size_t nb = s->nb * 2;
	struct node **b = calloc(nb, sizeof *b);
	if (!b)
		return; /* longer chains; still correct */
	for (size_t i = 0; i < s->nb; i++) {
		struct node *x = s->b[i];
		while (x) {
			struct node *nx = x->next;
			x->next = b[x->h & (nb - 1)];
			b[x->h & (nb - 1)] = x;
			x = nx;
		}
	}
	free(s->b);
	s->b = b;
	s->nb = nb;
}

static bool
value_ok(const char *p, size_t n)
{
	if (n == 0 || n > OBS_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

enum tcerr
agent_set_put(struct agent_set *s, const struct agent_entry *e, struct agent_changes *ch,
              struct diag *d)
{
	if ((unsigned)e->kind > OBS_KIND_MAX || !value_ok(e->value, e->len))
		return diag_set(d, TC_EINVAL, "a decision value that is empty, longer than %d bytes "
		                "or holds a control byte", OBS_VALUE_MAX);
	uint64_t h = hash(e->kind, e->value, e->len);
	struct node **pp = find(s, e->kind, e->value, e->len, h);
	if (*pp) {
		struct agent_entry *x = &(*pp)->e;
		bool changed = x->until_us != e->until_us || x->alert != e->alert;
		int64_t old = x->until_us;
		if (changed) {
			enum tcerr t = change_add(ch, AGENT_OP_REPLACE, e, old, d);
			if (t)
				return t;
		}
		x->until_us = e->until_us;
		if (e->until_us && (!s->next_until || e->until_us < s->next_until))
			s->next_until = e->until_us;
		x->alert = e->alert;
		x->confidence = e->confidence;
		x->tlp = e->tlp;
		return TC_OK;
	}
	if (s->n >= AGENT_SET_MAX)
		return diag_set(d, TC_ELIMIT, "more than %zu decisions", AGENT_SET_MAX);
	struct node *x = calloc(1, sizeof *x);
	char *v = malloc(e->len + 1);
	if (!x || !v) {
		free(x);
		free(v);
		return diag_set(d, TC_ENOMEM, "out of memory");
	}
	memcpy(v, e->value, e->len);
	v[e->len] = '\0';
	x->e = *e;
	x->e.value = v;
	x->h = h;
	enum tcerr t = change_add(ch, AGENT_OP_ADD, &x->e, 0, d);
	if (t) {
		free(v);
		free(x);
		return t;
	}
	*pp = x;
	s->n++;
	s->per_kind[e->kind]++;
	if (e->until_us && (!s->next_until || e->until_us < s->next_until))
		s->next_until = e->until_us;
	if (s->n > s->nb)
		grow(s); /* chains of one on average: lookups are what a load costs */
	return TC_OK;
}

static enum tcerr
unlink_node(struct agent_set *s, struct node **pp, struct agent_changes *ch, struct diag *d)
{
	struct node *x = *pp;
	enum tcerr t = change_add(ch, AGENT_OP_REMOVE, &x->e, x->e.until_us, d);
	if (t)
		return t;
	*pp = x->next;
	s->n--;
	s->per_kind[x->e.kind]--;
	free(x->e.value);
	free(x);
	return TC_OK;
}

enum tcerr
agent_set_del(struct agent_set *s, enum obs_kind kind, struct slice value,
              struct agent_changes *ch, struct diag *d)
{
	struct node **pp = find(s, kind, value.p, value.len, hash(kind, value.p, value.len));
	return *pp ? unlink_node(s, pp, ch, d) : TC_OK;
}

enum tcerr
agent_set_expire(struct agent_set *s, int64_t now_us, struct agent_changes *ch, struct diag *d)
{
	/* a walk only when something may have expired: idle costs nothing */
	if (!s->next_until || s->next_until > now_us)
		return TC_OK;
	int64_t next = 0;
	for (size_t i = 0; i < s->nb; i++) {
		struct node **pp = &s->b[i];
		while (*pp) {
			int64_t u = (*pp)->e.until_us;
			if (u && u <= now_us) {
				enum tcerr t = unlink_node(s, pp, ch, d);
				if (t)
					return t; /* next_until stays: the walk is tried again */
			} else {
				if (u && (!next || u < next))
					next = u;
				pp = &(*pp)->next;
			}
		}
	}
	s->next_until = next;
	return TC_OK;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct agent_entry *x = *(const struct agent_entry *const *)a;
	const struct agent_entry *y = *(const struct agent_entry *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->value, y->value, n);
	return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

enum tcerr
agent_set_sorted(const struct agent_set *s, const struct agent_entry ***out, size_t *n)
{
	const struct agent_entry **v = malloc((s->n ? s->n : 1) * sizeof *v);
	size_t k = 0;
	if (!v)
		return TC_ENOMEM;
	for (size_t i = 0; i < s->nb; i++)
		for (struct node *x = s->b[i]; x; x = x->next)
			v[k++] = &x->e;
	qsort(v, k, sizeof *v, cmp_entry);
	*out = v;
	*n = k;
	return TC_OK;
}

enum tcerr
agent_event_parse(struct slice name, struct slice data, struct agent_entry *e, bool *is_add,
                  struct diag *d)
{
	json_error_t je;
	json_t *o = NULL;
	enum tcerr t = TC_OK;

	memset(e, 0, sizeof *e);
	e->confidence = -1;
	if (slice_eq_cstr(name, "add"))
		*is_add = true;
	else if (slice_eq_cstr(name, "remove"))
		*is_add = false;
	else
		return diag_set(d, TC_ENOTFOUND, "not a decision event");
	o = json_loadb(data.p, data.len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		t = diag_set(d, TC_EINVAL, "%s event: not a JSON object", *is_add ? "add" : "remove");
		goto out;
	}
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *val = json_object_get(o, "value");
	if (!kind || !json_is_string(val) ||
	    obs_kind_parse(slice_from_cstr(kind), &e->kind) != TC_OK) {
		t = diag_set(d, TC_EINVAL, "%s event: no known kind or no value",
		             *is_add ? "add" : "remove");
		goto out;
	}
	size_t n = json_string_length(val);
	if (!value_ok(json_string_value(val), n) || strlen(json_string_value(val)) != n) {
		t = diag_set(d, TC_EINVAL, "%s event: a bad value", *is_add ? "add" : "remove");
		goto out;
	}
	if (*is_add) {
		const char *act = json_string_value(json_object_get(o, "action"));
		json_t *until = json_object_get(o, "until");
		json_t *conf = json_object_get(o, "confidence");
		const char *tlp = json_string_value(json_object_get(o, "tlp"));
		if (!act || (strcmp(act, "block") != 0 && strcmp(act, "alert") != 0)) {
			t = diag_set(d, TC_EINVAL, "add event: action is not block or alert");
			goto out;
		}
		e->alert = strcmp(act, "alert") == 0;
		if (json_is_string(until)) {
			int frac;
			if (ts_parse(slice_from_cstr(json_string_value(until)), &e->until_us, &frac) ||
			    e->until_us <= 0) {
				t = diag_set(d, TC_EINVAL, "add event: until is not a timestamp");
				goto out;
			}
		} else if (until && !json_is_null(until)) {
			t = diag_set(d, TC_EINVAL, "add event: until is not a timestamp");
			goto out;
		}
		if (json_is_integer(conf) && json_integer_value(conf) >= 0 &&
		    json_integer_value(conf) <= 100)
			e->confidence = (int)json_integer_value(conf);
		if (!tlp || stix_tlp_parse(tlp, &e->tlp) != TC_OK)
			e->tlp = TLP_NONE;
	}
	e->len = n;
	e->value = malloc(n + 1);
	if (!e->value) {
		t = diag_set(d, TC_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(e->value, json_string_value(val), n + 1);
out:
	json_decref(o);
	return t;
}

enum tcerr
agent_set_apply_event(struct agent_set *s, struct slice name, struct slice data,
                      struct agent_changes *ch, struct diag *d)
{
	struct agent_entry e;
	bool add;
	enum tcerr t = agent_event_parse(name, data, &e, &add, d);
	if (t)
		return t;
	if (add)
		t = agent_set_put(s, &e, ch, d);
	else
		t = agent_set_del(s, e.kind, slice_make(e.value, e.len), ch, d);
	free(e.value);
	return t;
}

/* --- the state file --- */

static const char *
tlp_word(enum tlp_level l)
{
	return l == TLP_NONE ? "none" : stix_tlp_name(l);
}

static enum tcerr
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return TC_EIO;
		p += w;
		n -= (size_t)w;
	}
	return TC_OK;
}

enum tcerr
agent_state_save(const char *path, const struct agent_set *s, const struct agent_state_info *info,
                 struct diag *d)
{
	char tmp[4096], dir[4096];
	struct buf b;
	int fd = -1;
	enum tcerr t = TC_OK;
	const struct agent_entry **v = NULL;
	size_t n = 0;

	int k = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (k < 0 || (size_t)k >= sizeof tmp)
		return diag_set(d, TC_EINVAL, "state file %s: name too long", path);
	if (s && agent_set_sorted(s, &v, &n))
		return diag_set(d, TC_ENOMEM, "out of memory");
	buf_init(&b, 0);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		t = diag_set(d, TC_EIO, "state file %s: %s", tmp, strerror(errno));
		goto out;
	}
	buf_printf(&b, "%s\nposition\t%" PRIu64 "\nsaved\t%" PRId64 "\napplied\t%" PRId64 "\n",
	           AGENT_STATE_MAGIC, info->position, info->saved_us, info->applied_us);
	if (info->error[0]) {
		buf_append_cstr(&b, "error\t");
		for (const char *p = info->error; *p; p++)
			buf_append_char(&b, (unsigned char)*p < 0x20 ? ' ' : *p);
		buf_append_char(&b, '\n');
	}
	for (size_t i = 0; i < n; i++) {
		const struct agent_entry *e = v[i];
		buf_printf(&b, "d\t%s\t%s\t%" PRId64 "\t%d\t%s\t", obs_kind_name(e->kind),
		           e->alert ? "alert" : "block", e->until_us, e->confidence, tlp_word(e->tlp));
		buf_append(&b, e->value, e->len);
		buf_append_char(&b, '\n');
		if (b.len >= (1u << 20)) {
			if (buf_error(&b) || write_all(fd, b.p, b.len)) {
				t = diag_set(d, TC_EIO, "state file %s: %s", tmp,
				             buf_error(&b) ? "out of memory" : strerror(errno));
				goto out;
			}
			buf_clear(&b);
		}
	}
	buf_printf(&b, "end\t%zu\n", n);
	if (buf_error(&b) || write_all(fd, b.p, b.len) || fsync(fd) != 0) {
		t = diag_set(d, TC_EIO, "state file %s: %s", tmp,
		             buf_error(&b) ? "out of memory" : strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		t = diag_set(d, TC_EIO, "state file %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		t = diag_set(d, TC_EIO, "state file %s: rename: %s", path, strerror(errno));
		goto out;
	}
	snprintf(dir, sizeof dir, "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (t)
		unlink(tmp);
	buf_reset(&b);
	free(v);
	return t;
}

static bool
parse_i64(const char *p, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(p, &end, 10);
	if (errno || end == p || *end)
		return false;
	*out = v;
	return true;
}

static enum tcerr journal_replay(const char *state, struct agent_set *s,
                                 struct agent_state_info *info, struct diag *d);

static enum tcerr
state_load_file(const char *path, struct agent_set *s, struct agent_state_info *info,
                struct diag *d)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0, count = 0;
	ssize_t len;
	enum tcerr t = TC_OK;
	bool ended = false;

	memset(info, 0, sizeof *info);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return diag_set(d, TC_ENOTFOUND, "state file %s: none yet", path);
		return diag_set(d, TC_EIO, "state file %s: %s", path, strerror(errno));
	}
#define BAD(...) do { t = diag_set(d, TC_ECORRUPT, __VA_ARGS__); goto out; } while (0)
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len == 0 || line[len - 1] != '\n')
			BAD("%s:%zu: truncated", path, lineno);
		line[--len] = '\0';
		if (len > AGENT_STATE_LINE_MAX + OBS_VALUE_MAX)
			BAD("%s:%zu: line too long", path, lineno);
		if (lineno == 1) {
			if (strcmp(line, AGENT_STATE_MAGIC) != 0)
				BAD("%s:1: not a tocsin-agent state file", path);
			continue;
		}
		if (ended)
			BAD("%s:%zu: after the end line", path, lineno);
		char *tab = strchr(line, '\t');
		if (!tab)
			BAD("%s:%zu: no tab", path, lineno);
		*tab = '\0';
		char *rest = tab + 1;
		int64_t x;
		if (strcmp(line, "position") == 0) {
			if (!parse_i64(rest, &x) || x < 0)
				BAD("%s:%zu: bad position", path, lineno);
			info->position = (uint64_t)x;
		} else if (strcmp(line, "saved") == 0) {
			if (!parse_i64(rest, &info->saved_us))
				BAD("%s:%zu: bad time", path, lineno);
		} else if (strcmp(line, "applied") == 0) {
			if (!parse_i64(rest, &info->applied_us))
				BAD("%s:%zu: bad time", path, lineno);
		} else if (strcmp(line, "error") == 0) {
			snprintf(info->error, sizeof info->error, "%s", rest);
		} else if (strcmp(line, "end") == 0) {
			if (!parse_i64(rest, &x) || (size_t)x != count)
				BAD("%s:%zu: %zu decisions, the end line says %s", path, lineno, count,
				    rest);
			ended = true;
		} else if (strcmp(line, "d") == 0) {
			char *fld[6];
			char *p = rest;
			for (int i = 0; i < 5; i++) {
				fld[i] = p;
				p = strchr(p, '\t');
				if (!p)
					BAD("%s:%zu: a decision line needs 6 fields", path, lineno);
				*p++ = '\0';
			}
			fld[5] = p;
			struct agent_entry e = { 0 };
			int64_t conf;
			if (obs_kind_parse(slice_from_cstr(fld[0]), &e.kind) ||
			    (strcmp(fld[1], "block") != 0 && strcmp(fld[1], "alert") != 0) ||
			    !parse_i64(fld[2], &e.until_us) || e.until_us < 0 ||
			    !parse_i64(fld[3], &conf) || conf < -1 || conf > 100)
				BAD("%s:%zu: a bad decision line", path, lineno);
			e.alert = fld[1][0] == 'a';
			e.confidence = (int)conf;
			if (strcmp(fld[4], "none") == 0)
				e.tlp = TLP_NONE;
			else if (stix_tlp_parse(fld[4], &e.tlp))
				BAD("%s:%zu: a bad TLP", path, lineno);
			e.value = fld[5];
			e.len = strlen(fld[5]);
			count++;
			if (s && (t = agent_set_put(s, &e, NULL, d))) {
				diag_prefix(d, "%s:%zu: ", path, lineno);
				goto out;
			}
		} else {
			BAD("%s:%zu: unknown record '%s'", path, lineno, line);
		}
	}
	if (ferror(f))
		t = diag_set(d, TC_EIO, "state file %s: %s", path, strerror(errno));
	else if (!ended)
		t = diag_set(d, TC_ECORRUPT, "%s: truncated (no end line)", path);
#undef BAD
out:
	free(line);
	fclose(f);
	return t;
}

/* --- the journal --- */

static enum tcerr
journal_path(const char *state, char *out, size_t n, struct diag *d)
{
	int k = snprintf(out, n, "%s.journal", state);
	if (k < 0 || (size_t)k >= n)
		return diag_set(d, TC_EINVAL, "state file %s: name too long", state);
	return TC_OK;
}

enum tcerr
agent_journal_open(struct agent_journal *j, const char *state_path, struct diag *d)
{
	char p[4096];
	enum tcerr t = journal_path(state_path, p, sizeof p, d);
	j->fd = -1;
	j->lines = 0;
	j->hold = false;
	buf_init(&j->held, 0);
	j->held_lines = 0;
	if (t)
		return t;
	j->fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return diag_set(d, TC_EIO, "journal %s: %s", p, strerror(errno));
	return TC_OK;
}

static enum tcerr
journal_write(struct agent_journal *j, struct buf *b, struct diag *d)
{
	if (buf_error(b))
		return diag_set(d, TC_ENOMEM, "out of memory");
	if (j->hold) {
		buf_append(&j->held, b->p, b->len);
		return buf_error(&j->held) ? diag_set(d, TC_ENOMEM, "out of memory") : TC_OK;
	}
	if (j->fd < 0 || write_all(j->fd, b->p, b->len))
		return diag_set(d, TC_EIO, "journal: %s", strerror(errno));
	return TC_OK;
}

enum tcerr
agent_journal_append(struct agent_journal *j, const struct agent_changes *ch,
                     const struct agent_set *s, uint64_t position, int64_t applied_us,
                     struct diag *d)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < ch->n; i++) {
		const struct agent_change *c = &ch->v[i];
		if (c->op == AGENT_OP_REMOVE) {
			buf_printf(&b, "r\t%s\t%s\n", obs_kind_name(c->kind), c->value);
		} else {
			const struct agent_entry *e =
				s ? agent_set_get(s, c->kind, slice_from_cstr(c->value)) : NULL;
			buf_printf(&b, "a\t%s\t%s\t%" PRId64 "\t%d\t%s\t%s\n", obs_kind_name(c->kind),
			           c->alert ? "alert" : "block", c->until_us, e ? e->confidence : -1,
			           tlp_word(e ? e->tlp : TLP_NONE), c->value);
		}
	}
	buf_printf(&b, "p\t%" PRIu64 "\t%" PRId64 "\n", position, applied_us);
	enum tcerr t = journal_write(j, &b, d);
	if (!t)
		j->lines += ch->n + 1;
	if (!t && j->hold)
		j->held_lines += ch->n + 1;
	buf_reset(&b);
	return t;
}

enum tcerr
agent_journal_error(struct agent_journal *j, const char *text, struct diag *d)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_cstr(&b, "e\t");
	for (const char *p = text; *p; p++)
		buf_append_char(&b, (unsigned char)*p < 0x20 ? ' ' : *p);
	buf_append_char(&b, '\n');
	enum tcerr t = journal_write(j, &b, d);
	if (!t)
		j->lines++;
	if (!t && j->hold)
		j->held_lines++;
	buf_reset(&b);
	return t;
}

enum tcerr
agent_journal_sync(struct agent_journal *j, struct diag *d)
{
	if (j->fd >= 0 && fdatasync(j->fd) != 0)
		return diag_set(d, TC_EIO, "journal: fsync: %s", strerror(errno));
	return TC_OK;
}

enum tcerr
agent_journal_truncate(struct agent_journal *j, struct diag *d)
{
	if (j->fd >= 0 && ftruncate(j->fd, 0) != 0)
		return diag_set(d, TC_EIO, "journal: truncate: %s", strerror(errno));
	j->lines = 0;
	return TC_OK;
}

void
agent_journal_hold(struct agent_journal *j)
{
	j->hold = true;
}

enum tcerr
agent_journal_release(struct agent_journal *j, bool truncate, struct diag *d)
{
	enum tcerr t = TC_OK;
	j->hold = false;
	if (truncate && (t = agent_journal_truncate(j, d)) == TC_OK)
		j->lines = j->held_lines;
	if (!t && j->held.len)
		t = journal_write(j, &j->held, d);
	buf_clear(&j->held);
	j->held_lines = 0;
	return t;
}

void
agent_journal_close(struct agent_journal *j)
{
	buf_reset(&j->held);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

/* Replays PATH.journal over s and info (see agent_set.h). */
static enum tcerr
journal_replay(const char *state, struct agent_set *s, struct agent_state_info *info,
               struct diag *d)
{
	char p[4096];
	enum tcerr t = journal_path(state, p, sizeof p, d);
	if (t)
		return t;
	FILE *f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? TC_OK : diag_set(d, TC_EIO, "journal %s: %s", p,
		                                            strerror(errno));
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
#define JBAD(...) do { t = diag_set(d, TC_ECORRUPT, __VA_ARGS__); goto out; } while (0)
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len == 0 || line[len - 1] != '\n')
			break; /* a crash mid-write: the rest never happened */
		line[--len] = '\0';
		char *fld[7];
		size_t nf = 0;
		for (char *q = line; nf < 7;) {
			fld[nf++] = q;
			char *tab = (nf < 7) ? strchr(q, '\t') : NULL;
			if (!tab)
				break;
			*tab = '\0';
			q = tab + 1;
		}
		int64_t x, y;
		if (strcmp(fld[0], "p") == 0 && nf == 3) {
			if (!parse_i64(fld[1], &x) || x < 0 || !parse_i64(fld[2], &y))
				JBAD("%s:%zu: bad position line", p, lineno);
			info->position = (uint64_t)x;
			info->applied_us = y;
		} else if (strcmp(fld[0], "e") == 0 && nf >= 2) {
			snprintf(info->error, sizeof info->error, "%s", line + 2);
		} else if (strcmp(fld[0], "r") == 0 && nf == 3) {
			enum obs_kind k;
			if (obs_kind_parse(slice_from_cstr(fld[1]), &k))
				JBAD("%s:%zu: bad kind", p, lineno);
			if (s && (t = agent_set_del(s, k, slice_from_cstr(fld[2]), NULL, d)))
				goto out;
		} else if (strcmp(fld[0], "a") == 0 && nf == 7) {
			struct agent_entry e = { 0 };
			int64_t conf;
			if (obs_kind_parse(slice_from_cstr(fld[1]), &e.kind) ||
			    (strcmp(fld[2], "block") != 0 && strcmp(fld[2], "alert") != 0) ||
			    !parse_i64(fld[3], &e.until_us) || e.until_us < 0 ||
			    !parse_i64(fld[4], &conf) || conf < -1 || conf > 100)
				JBAD("%s:%zu: a bad decision line", p, lineno);
			e.alert = fld[2][0] == 'a';
			e.confidence = (int)conf;
			if (strcmp(fld[5], "none") == 0)
				e.tlp = TLP_NONE;
			else if (stix_tlp_parse(fld[5], &e.tlp))
				JBAD("%s:%zu: a bad TLP", p, lineno);
			e.value = fld[6];
			e.len = strlen(fld[6]);
			if (s && (t = agent_set_put(s, &e, NULL, d))) {
				diag_prefix(d, "%s:%zu: ", p, lineno);
				goto out;
			}
		} else {
			JBAD("%s:%zu: unknown journal line", p, lineno);
		}
	}
#undef JBAD
out:
	free(line);
	fclose(f);
	return t;
}

enum tcerr
agent_state_load(const char *path, struct agent_set *s, struct agent_state_info *info,
                 struct diag *d)
{
	enum tcerr t = state_load_file(path, s, info, d);
	return t ? t : journal_replay(path, s, info, d);
}
