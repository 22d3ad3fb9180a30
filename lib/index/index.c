/*
 * index.c — the in-memory match index: hashed values → store refs.
 *
 * Two open-addressing tables with linear probing and backward-shift
 * deletion (no tombstones): `exact` holds every exact value (an IP address
 * is its full-length network), `nets` holds IP networks shorter than the
 * address. A slot is 16 bytes: 63 bits of the XXH3 hash of the key (0 =
 * empty), a ref and the valid_until second; a key named by several refs
 * points instead to an overflow list (until == UNTIL_MULTI, ref = list
 * number). A key's probe starts on the first slot of its 64-byte line.
 * Invariants: a key occupies at most one slot per table; every occupied
 * slot is reachable from its home slot without crossing an empty one; a
 * line whose spilled flag is clear has every key homed on it inside it; a
 * table is never more than 3/4 full; a list holds at least two refs; for
 * IPv4, bit L of v4_blk[b] is set exactly when a network of length L < 32
 * lies in or over /16 block b, and v4_cnt counts them for L > 16; for
 * IPv6, bit L of v6_mask is set exactly when v6_cnt[L] > 0.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "index/index.h"

#define UNTIL_NONE 0u
#define UNTIL_MULTI UINT32_MAX
#define UNTIL_LAST (UINT32_MAX - 1)

#define TABLE_MIN_SLOTS 16
#define SLOTS_PER_LINE 4                  /* 16-byte slots in a 64-byte cache line */
#define SLOT_SPILLED ((uint64_t)1 << 63)  /* in h of a line's first slot: see htab_find */
#define TABLE_MAX_SLOTS ((size_t)1 << 34)  /* 256 GiB of slots: far past any machine */
#define TABLE_MAP_BYTES ((size_t)2 << 20)  /* tables this big are mmapped, huge pages */
#define HUGE_PAGE ((size_t)2 << 20)

#define SEED_IP 0x6a09e667f3bcc908ull    /* IP keys; other kinds seed with the kind */

#define V4_BLOCKS 65536                   /* /16 blocks */
#define V4_LONG_LENS 15                   /* lengths 17..31 are counted per block */

#define PIPE_DEPTH 24                     /* queries in flight in a batch */
#define PIPE_NETS 12                      /* steps before IPv4 network keys */
#define PREP_PARENTS 6                    /* parent-domain hashes computed ahead */
#define PREP_NETS 8                       /* IPv4 network hashes computed ahead */

struct slot {
	uint64_t h;
	uint32_t ref;
	uint32_t until;
};

struct ent {
	uint32_t ref;
	uint32_t until;
};

struct multi {
	uint32_t n, cap;
	struct ent e[];
};

struct htab {
	struct slot *s;
	size_t mask;       /* slots - 1 */
	size_t used;       /* occupied slots */
	size_t map_bytes;  /* mmapped length, 0 if calloc'ed */
};

struct index {
	struct htab exact, nets;
	size_t count;          /* (kind, value, ref) entries */
	struct multi **multi;  /* overflow lists; NULL entries are free */
	uint32_t nmulti, capmulti;
	uint32_t *freemulti;   /* free list numbers, a stack */
	uint32_t nfree;
	size_t multi_bytes;
	uint32_t *v4_blk;      /* [V4_BLOCKS] masks of prefix lengths, or NULL */
	uint16_t *v4_cnt;      /* [V4_BLOCKS][V4_LONG_LENS] */
	uint64_t v6_mask[2];   /* bit L: some IPv6 network of length L < 128 */
	uint32_t v6_cnt[128];
};

/* A parsed IP value: family 4 or 6, prefix length, network bytes. */
struct ipval {
	int fam;
	unsigned plen;
	uint32_t v4;           /* host order, IPv4 only */
	uint8_t a[16];
};

/* ---- time ---- */

static uint32_t
until_encode(int64_t us)
{
	if (us == 0)
		return UNTIL_NONE;
	if (us < 0)
		return 1;
	int64_t s = us / 1000000 + (us % 1000000 != 0);
	if (s >= (int64_t)UNTIL_LAST)
		return UNTIL_LAST;
	return (uint32_t)s;
}

static inline bool
until_live(uint32_t u, int64_t now_us)
{
	return u == UNTIL_NONE || (int64_t)u * 1000000 > now_us;
}

/* ---- keys ---- */

/* A key is 63 bits of XXH3: bit 63 of a slot's h is the line's spilled
 * flag, and 0 marks an empty slot. */
static inline uint64_t
hash_fix(uint64_t h)
{
	h &= ~SLOT_SPILLED;
	return h ? h : 1;
}

static inline uint64_t
key_str(enum obs_kind kind, const char *p, size_t n)
{
	return hash_fix(XXH3_64bits_withSeed(p, n, (uint64_t)kind));
}

static inline uint32_t
v4_netmask(unsigned plen)
{
	return plen == 0 ? 0 : ~(uint32_t)0 << (32 - plen);
}

static inline uint64_t
key_v4(unsigned plen, uint32_t net)
{
	uint64_t k = (uint64_t)net | (uint64_t)plen << 32 | (uint64_t)4 << 40;
	return hash_fix(XXH3_64bits_withSeed(&k, sizeof k, SEED_IP));
}

static void
v6_apply_mask(uint8_t a[16], unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
		if (bits < 8)
			a[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static inline uint64_t
key_v6(unsigned plen, const uint8_t a[16])
{
	uint8_t k[18];
	k[0] = 6;
	k[1] = (uint8_t)plen;
	memcpy(k + 2, a, 16);
	return hash_fix(XXH3_64bits_withSeed(k, sizeof k, SEED_IP));
}

/* Parses decimal 0..max without leading zeros ("0" itself is fine). */
static bool
parse_dec(const char **pp, const char *end, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t nd = 0;
	while (p < end && *p >= '0' && *p <= '9' && nd < 4) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		nd++;
	}
	if (nd == 0 || nd > 3 || v > max || (nd > 1 && **pp == '0'))
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* Parses "a.b.c.d", "a.b.c.d/n", IPv6 text or "ipv6/n" as kind says.
 * strict: a network with host bits set is refused; otherwise they are
 * cleared. Returns false if the text is not such a value. */
static bool
ip_parse(enum obs_kind kind, struct slice v, bool strict, struct ipval *ip)
{
	const char *p = v.p, *end = v.p + v.len;
	const char *slash = v.len ? memchr(v.p, '/', v.len) : NULL;
	const char *aend = slash ? slash : end;
	unsigned full = kind == OBS_IPV4 ? 32 : 128;
	ip->plen = full;
	if (slash) {
		const char *q = slash + 1;
		if (!parse_dec(&q, end, full, &ip->plen) || q != end)
			return false;
	}
	if (kind == OBS_IPV4) {
		uint32_t a = 0;
		for (int i = 0; i < 4; i++) {
			unsigned octet;
			if (i > 0) {
				if (p >= aend || *p != '.')
					return false;
				p++;
			}
			if (!parse_dec(&p, aend, 255, &octet))
				return false;
			a = a << 8 | octet;
		}
		if (p != aend)
			return false;
		uint32_t net = a & v4_netmask(ip->plen);
		if (strict && net != a)
			return false;
		ip->fam = 4;
		ip->v4 = net;
		ip->a[0] = (uint8_t)(net >> 24);
		ip->a[1] = (uint8_t)(net >> 16);
		ip->a[2] = (uint8_t)(net >> 8);
		ip->a[3] = (uint8_t)net;
		return true;
	}
	if (kind != OBS_IPV6)
		return false;
	char text[INET6_ADDRSTRLEN];
	size_t n = (size_t)(aend - p);
	if (n == 0 || n >= sizeof text || memchr(p, '\0', n))
		return false;
	memcpy(text, p, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, ip->a) != 1)
		return false;
	uint8_t orig[16];
	memcpy(orig, ip->a, 16);
	v6_apply_mask(ip->a, ip->plen);
	if (strict && memcmp(orig, ip->a, 16) != 0)
		return false;
	ip->fam = 6;
	ip->v4 = 0;
	return true;
}

static inline uint64_t
key_ip(const struct ipval *ip)
{
	return ip->fam == 4 ? key_v4(ip->plen, ip->v4) : key_v6(ip->plen, ip->a);
}

static inline bool
is_ip_kind(enum obs_kind kind)
{
	return kind == OBS_IPV4 || kind == OBS_IPV6;
}

/* ---- tables ---- */

static void
slots_free(struct slot *s, size_t nslots, size_t map_bytes)
{
	(void)nslots;
	if (map_bytes)
		munmap(s, map_bytes);
	else
		free(s);
}

/* Zeroed slots. Big tables are mmapped on a huge-page boundary and marked
 * for transparent huge pages: a random probe then costs one TLB entry, not
 * a page walk. OUT: *map_bytes (0 if calloc'ed). Returns NULL if out of
 * memory. */
static struct slot *
slots_alloc(size_t nslots, size_t *map_bytes)
{
	size_t bytes = nslots * sizeof(struct slot);
	*map_bytes = 0;
	if (bytes < TABLE_MAP_BYTES) {
		struct slot *s = aligned_alloc(64, bytes); /* bytes: a multiple of 64 */
		if (s)
			memset(s, 0, bytes);
		return s;
	}
	size_t len = bytes + HUGE_PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t u = (uintptr_t)p;
	uintptr_t aligned = (u + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	size_t head = aligned - u, tail = len - head - bytes;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)aligned + bytes, tail);
#ifdef MADV_HUGEPAGE
	madvise((void *)aligned, bytes, MADV_HUGEPAGE);
#endif
	*map_bytes = bytes;
	return (struct slot *)aligned;
}

static enum tcerr
htab_init(struct htab *t, size_t nslots)
{
	_Static_assert(sizeof(struct slot) * SLOTS_PER_LINE == 64, "four slots a line");
	t->s = slots_alloc(nslots, &t->map_bytes);
	if (!t->s)
		return TC_ENOMEM;
	t->mask = nslots - 1;
	t->used = 0;
	return TC_OK;
}

static void
htab_free(struct htab *t)
{
	if (t->s)
		slots_free(t->s, t->mask + 1, t->map_bytes);
	t->s = NULL;
}

static inline size_t
htab_slots(const struct htab *t)
{
	return t->mask + 1;
}

/* Where the probe for h starts: the first slot of a 64-byte line, so the
 * first four probes cost one cache line. */
static inline size_t
htab_home(const struct htab *t, uint64_t h)
{
	return (size_t)h & t->mask & ~(size_t)(SLOTS_PER_LINE - 1);
}

static inline uint64_t
slot_key(const struct slot *s)
{
	return s->h & ~SLOT_SPILLED;
}

/* Returns the slot holding h, or NULL. A miss whose home line is full
 * stops there unless a key of that line was ever placed beyond it. */
static inline struct slot *
htab_find(const struct htab *t, uint64_t h)
{
	size_t home = htab_home(t, h), i = home;
	for (;;) {
		struct slot *s = &t->s[i];
		uint64_t k = slot_key(s);
		if (k == h)
			return s;
		if (k == 0)
			return NULL;
		i = (i + 1) & t->mask;
		if (((i - home) & t->mask) == SLOTS_PER_LINE && !(t->s[home].h & SLOT_SPILLED))
			return NULL;
	}
}

/* Writes key data into slot i, keeping the position's spilled flag. */
static inline void
slot_put(struct htab *t, size_t i, uint64_t key, uint32_t ref, uint32_t until)
{
	t->s[i].h = key | (t->s[i].h & SLOT_SPILLED);
	t->s[i].ref = ref;
	t->s[i].until = until;
}

/* Places a key known to be absent; the table has room. */
static void
htab_place(struct htab *t, uint64_t key, uint32_t ref, uint32_t until)
{
	size_t home = htab_home(t, key), i = home;
	while (slot_key(&t->s[i]) != 0)
		i = (i + 1) & t->mask;
	if (((i - home) & t->mask) >= SLOTS_PER_LINE)
		t->s[home].h |= SLOT_SPILLED;
	slot_put(t, i, key, ref, until);
	t->used++;
}

/* Rebuilds t with nslots slots (a power of two holding t->used). */
static enum tcerr
htab_resize(struct htab *t, size_t nslots)
{
	struct htab nt;
	if (nslots > TABLE_MAX_SLOTS || htab_init(&nt, nslots))
		return TC_ENOMEM;
	for (size_t i = 0; i <= t->mask; i++)
		if (slot_key(&t->s[i]))
			htab_place(&nt, slot_key(&t->s[i]), t->s[i].ref, t->s[i].until);
	htab_free(t);
	*t = nt;
	return TC_OK;
}

static size_t
slots_for(size_t n)
{
	size_t want = TABLE_MIN_SLOTS;
	while (want / 4 * 3 < n && want <= TABLE_MAX_SLOTS)
		want <<= 1;
	return want;
}

/* Makes room for extra more keys. */
static enum tcerr
htab_reserve(struct htab *t, size_t extra)
{
	size_t need = t->used + extra;
	if (need < t->used)
		return TC_ENOMEM;
	if (need <= htab_slots(t) / 4 * 3)
		return TC_OK;
	return htab_resize(t, slots_for(need));
}

/* Empties slot s, shifting back the slots after it that may not be
 * reached otherwise (no tombstones). */
static void
htab_delete(struct htab *t, struct slot *s)
{
	size_t i = (size_t)(s - t->s), j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		uint64_t k = slot_key(&t->s[j]);
		if (k == 0)
			break;
		size_t home = htab_home(t, k);
		/* may slot j move to i? only if its home is not in (i, j]; a key
		 * only ever moves nearer its home, so spilled flags stay true
		 * (at worst stale: one line scanned in vain) */
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			slot_put(t, i, k, t->s[j].ref, t->s[j].until);
			i = j;
		}
	}
	slot_put(t, i, 0, 0, 0);
	t->used--;
}

/* ---- overflow lists ---- */

static size_t
multi_size(uint32_t cap)
{
	return sizeof(struct multi) + (size_t)cap * sizeof(struct ent);
}

/* Takes a free list number and stores m there. Returns false if out of memory. */
static bool
multi_store(struct index *idx, struct multi *m, uint32_t *out)
{
	if (idx->nfree) {
		*out = idx->freemulti[--idx->nfree];
		idx->multi[*out] = m;
		return true;
	}
	if (idx->nmulti == idx->capmulti) {
		if (idx->capmulti >= UINT32_MAX / 2)
			return false;
		uint32_t ncap = idx->capmulti ? idx->capmulti * 2 : 16;
		struct multi **nm = realloc(idx->multi, ncap * sizeof *nm);
		if (!nm)
			return false;
		idx->multi = nm;
		uint32_t *nf = realloc(idx->freemulti, ncap * sizeof *nf);
		if (!nf)
			return false;
		idx->freemulti = nf;
		idx->multi_bytes += (size_t)(ncap - idx->capmulti) * (sizeof *nm + sizeof *nf);
		idx->capmulti = ncap;
	}
	*out = idx->nmulti++;
	idx->multi[*out] = m;
	return true;
}

static void
multi_release(struct index *idx, uint32_t num)
{
	struct multi *m = idx->multi[num];
	idx->multi_bytes -= multi_size(m->cap);
	free(m);
	idx->multi[num] = NULL;
	idx->freemulti[idx->nfree++] = num; /* room: nfree < capmulti */
}

/* ---- IP network masks ---- */

static enum tcerr
v4_masks_alloc(struct index *idx)
{
	if (idx->v4_blk)
		return TC_OK;
	idx->v4_blk = calloc(V4_BLOCKS, sizeof *idx->v4_blk);
	idx->v4_cnt = calloc((size_t)V4_BLOCKS * V4_LONG_LENS, sizeof *idx->v4_cnt);
	if (!idx->v4_blk || !idx->v4_cnt) {
		free(idx->v4_blk);
		free(idx->v4_cnt);
		idx->v4_blk = NULL;
		idx->v4_cnt = NULL;
		return TC_ENOMEM;
	}
	return TC_OK;
}

/* A network key appeared (delta 1) or vanished (delta -1). */
static void
nets_account(struct index *idx, const struct ipval *ip, int delta)
{
	unsigned L = ip->plen;
	if (ip->fam == 6) {
		idx->v6_cnt[L] = (uint32_t)((int64_t)idx->v6_cnt[L] + delta);
		uint64_t bit = (uint64_t)1 << (L & 63);
		if (idx->v6_cnt[L])
			idx->v6_mask[L >> 6] |= bit;
		else
			idx->v6_mask[L >> 6] &= ~bit;
		return;
	}
	uint32_t first = ip->v4 >> 16;
	if (L <= 16) {
		/* networks of one length are disjoint: one at most per block */
		uint32_t nblk = (uint32_t)1 << (16 - L);
		for (uint32_t b = first; b < first + nblk; b++) {
			if (delta > 0)
				idx->v4_blk[b] |= (uint32_t)1 << L;
			else
				idx->v4_blk[b] &= ~((uint32_t)1 << L);
		}
		return;
	}
	uint16_t *c = &idx->v4_cnt[(size_t)first * V4_LONG_LENS + (L - 17)];
	*c = (uint16_t)(*c + delta);
	if (*c)
		idx->v4_blk[first] |= (uint32_t)1 << L;
	else
		idx->v4_blk[first] &= ~((uint32_t)1 << L);
}

/* ---- life cycle ---- */

enum tcerr
index_new(struct index **out)
{
	*out = NULL;
	struct index *idx = calloc(1, sizeof *idx);
	if (!idx)
		return TC_ENOMEM;
	if (htab_init(&idx->exact, TABLE_MIN_SLOTS) || htab_init(&idx->nets, TABLE_MIN_SLOTS)) {
		index_free(idx);
		return TC_ENOMEM;
	}
	*out = idx;
	return TC_OK;
}

void
index_free(struct index *idx)
{
	if (!idx)
		return;
	htab_free(&idx->exact);
	htab_free(&idx->nets);
	for (uint32_t i = 0; i < idx->nmulti; i++)
		free(idx->multi[i]);
	free(idx->multi);
	free(idx->freemulti);
	free(idx->v4_blk);
	free(idx->v4_cnt);
	free(idx);
}

enum tcerr
index_reserve(struct index *idx, size_t n)
{
	return htab_reserve(&idx->exact, n);
}

size_t
index_count(const struct index *idx)
{
	return idx->count;
}

size_t
index_memory(const struct index *idx)
{
	size_t m = sizeof *idx;
	m += htab_slots(&idx->exact) * sizeof(struct slot);
	m += htab_slots(&idx->nets) * sizeof(struct slot);
	m += idx->multi_bytes;
	if (idx->v4_blk)
		m += (size_t)V4_BLOCKS * (sizeof *idx->v4_blk + V4_LONG_LENS * sizeof *idx->v4_cnt);
	return m;
}

/* ---- add and remove ---- */

/* The key of (kind, value) and its table. Returns false if the value is
 * not valid for kind. OUT: *h, *t, *ip (set when the key is a network). */
static bool
key_of(struct index *idx, enum obs_kind kind, struct slice value, uint64_t *h, struct htab **t,
       struct ipval *ip, bool *is_net)
{
	*is_net = false;
	if (kind < OBS_IPV4 || kind > OBS_KIND_MAX || value.len == 0 || !value.p)
		return false;
	if (is_ip_kind(kind)) {
		if (!ip_parse(kind, value, true, ip))
			return false;
		*h = key_ip(ip);
		*is_net = ip->plen < (ip->fam == 4 ? 32u : 128u);
		*t = *is_net ? &idx->nets : &idx->exact;
		return true;
	}
	*h = key_str(kind, value.p, value.len);
	*t = &idx->exact;
	return true;
}

enum tcerr
index_add(struct index *idx, enum obs_kind kind, struct slice value, uint32_t ref,
          int64_t valid_until_us)
{
	uint64_t h;
	struct htab *t;
	struct ipval ip;
	bool is_net;
	if (!key_of(idx, kind, value, &h, &t, &ip, &is_net))
		return TC_EINVAL;
	uint32_t until = until_encode(valid_until_us);
	struct slot *s = htab_find(t, h);
	if (!s) {
		if (is_net && ip.fam == 4 && v4_masks_alloc(idx))
			return TC_ENOMEM;
		if (htab_reserve(t, 1))
			return TC_ENOMEM;
		htab_place(t, h, ref, until);
		idx->count++;
		if (is_net)
			nets_account(idx, &ip, 1);
		return TC_OK;
	}
	if (s->until != UNTIL_MULTI) {
		if (s->ref == ref) {
			s->until = until;
			return TC_OK;
		}
		struct multi *m = malloc(multi_size(4));
		uint32_t num;
		if (!m)
			return TC_ENOMEM;
		m->n = 2;
		m->cap = 4;
		m->e[0] = (struct ent){ s->ref, s->until };
		m->e[1] = (struct ent){ ref, until };
		if (!multi_store(idx, m, &num)) {
			free(m);
			return TC_ENOMEM;
		}
		idx->multi_bytes += multi_size(m->cap);
		s->ref = num;
		s->until = UNTIL_MULTI;
		idx->count++;
		return TC_OK;
	}
	struct multi *m = idx->multi[s->ref];
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->e[i].ref == ref) {
			m->e[i].until = until;
			return TC_OK;
		}
	}
	if (m->n == m->cap) {
		if (m->cap >= UINT32_MAX / 2)
			return TC_ENOMEM;
		uint32_t ncap = m->cap * 2;
		struct multi *nm = realloc(m, multi_size(ncap));
		if (!nm)
			return TC_ENOMEM;
		idx->multi_bytes += multi_size(ncap) - multi_size(nm->cap);
		nm->cap = ncap;
		idx->multi[s->ref] = m = nm;
	}
	m->e[m->n++] = (struct ent){ ref, until };
	idx->count++;
	return TC_OK;
}

void
index_remove(struct index *idx, enum obs_kind kind, struct slice value, uint32_t ref)
{
	uint64_t h;
	struct htab *t;
	struct ipval ip;
	bool is_net;
	if (!key_of(idx, kind, value, &h, &t, &ip, &is_net))
		return;
	struct slot *s = htab_find(t, h);
	if (!s)
		return;
	if (s->until != UNTIL_MULTI) {
		if (s->ref != ref)
			return;
		htab_delete(t, s);
		idx->count--;
		if (is_net)
			nets_account(idx, &ip, -1);
		return;
	}
	struct multi *m = idx->multi[s->ref];
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->e[i].ref != ref)
			continue;
		memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof m->e[0]);
		m->n--;
		idx->count--;
		if (m->n == 1) {
			struct ent last = m->e[0];
			multi_release(idx, s->ref);
			s->ref = last.ref;
			s->until = last.until;
		}
		return;
	}
}

/* ---- lookup ---- */

struct out {
	struct index_hit *hits;
	size_t max, n;
};

static inline void
emit(struct out *o, uint32_t ref, enum index_how how, unsigned plen, unsigned up)
{
	if (o->n < o->max)
		o->hits[o->n] = (struct index_hit){ .ref = ref,
		                                    .how = how,
		                                    .prefix_len = (uint8_t)plen,
		                                    .labels_up = (uint8_t)up };
	o->n++;
}

static inline void
probe(const struct index *idx, const struct htab *t, uint64_t h, int64_t now_us, struct out *o,
      enum index_how how, unsigned plen, unsigned up)
{
	const struct slot *s = htab_find(t, h);
	if (!s)
		return;
	if (s->until != UNTIL_MULTI) {
		if (until_live(s->until, now_us))
			emit(o, s->ref, how, plen, up);
		return;
	}
	const struct multi *m = idx->multi[s->ref];
	for (uint32_t i = 0; i < m->n; i++)
		if (until_live(m->e[i].until, now_us))
			emit(o, m->e[i].ref, how, plen, up);
}

/* A query prepared for probing: its hashes computed (and, in a batch,
 * their slots prefetched). */
struct prep {
	enum obs_kind kind;
	bool valid;
	struct ipval ip;
	uint64_t h;                 /* the exact key */
	unsigned nparents;          /* parent hashes computed ahead */
	uint64_t ph[PREP_PARENTS];
	size_t pnext;               /* where to resume parent hashing */
	unsigned pup;
	bool nets_ready;            /* IPv4: the network keys below are computed */
	unsigned nnets;
	uint8_t netlen[PREP_NETS];
	uint64_t neth[PREP_NETS];
	uint32_t netrest;           /* lengths still to probe after those */
};

static inline void
prefetch_slot(const struct htab *t, uint64_t h)
{
	__builtin_prefetch(&t->s[htab_home(t, h)]);
}

static void
prepare(const struct index *idx, enum obs_kind kind, struct slice v, struct prep *p,
        bool fetch)
{
	p->kind = kind;
	p->valid = false;
	p->nparents = 0;
	p->pnext = 0;
	p->pup = 0;
	p->nets_ready = false;
	if (kind < OBS_IPV4 || kind > OBS_KIND_MAX || v.len == 0 || !v.p)
		return;
	if (is_ip_kind(kind)) {
		if (!ip_parse(kind, v, false, &p->ip))
			return;
		p->valid = true;
		p->h = key_ip(&p->ip);
		const struct htab *t =
			p->ip.plen == (p->ip.fam == 4 ? 32u : 128u) ? &idx->exact : &idx->nets;
		if (fetch) {
			prefetch_slot(t, p->h);
			if (p->ip.fam == 4 && idx->v4_blk)
				__builtin_prefetch(&idx->v4_blk[p->ip.v4 >> 16]);
		}
		return;
	}
	p->valid = true;
	p->h = key_str(kind, v.p, v.len);
	if (fetch)
		prefetch_slot(&idx->exact, p->h);
	if (kind != OBS_DOMAIN)
		return;
	size_t i = 0;
	while (i < v.len && p->nparents < PREP_PARENTS) {
		const char *dot = memchr(v.p + i, '.', v.len - i);
		if (!dot)
			break;
		i = (size_t)(dot - v.p) + 1;
		p->pup++;
		if (i >= v.len)
			break;
		p->ph[p->nparents] = key_str(OBS_DOMAIN, v.p + i, v.len - i);
		if (fetch)
			prefetch_slot(&idx->exact, p->ph[p->nparents]);
		p->nparents++;
	}
	p->pnext = i;
}

/* The prefix lengths to probe for an IPv4 query: those of networks in or
 * over its /16 block, shorter than the query. */
static inline uint32_t
v4_lengths(const struct index *idx, const struct ipval *ip)
{
	uint32_t m = idx->v4_blk[ip->v4 >> 16];
	if (ip->plen < 32)
		m &= ((uint32_t)1 << ip->plen) - 1;
	return m;
}

/* Batch second stage, once the block masks have arrived: the network keys
 * of an IPv4 query, their slots prefetched. */
static void
prepare_nets(const struct index *idx, struct prep *p)
{
	if (!p->valid || p->kind != OBS_IPV4 || !idx->v4_blk)
		return;
	uint32_t m = v4_lengths(idx, &p->ip);
	p->nnets = 0;
	while (m && p->nnets < PREP_NETS) {
		unsigned L = 31 - (unsigned)__builtin_clz(m);
		m &= ~((uint32_t)1 << L);
		uint64_t h = key_v4(L, p->ip.v4 & v4_netmask(L));
		prefetch_slot(&idx->nets, h);
		p->netlen[p->nnets] = (uint8_t)L;
		p->neth[p->nnets++] = h;
	}
	p->netrest = m;
	p->nets_ready = true;
}

static void
run_ip(const struct index *idx, const struct prep *p, int64_t now_us, struct out *o)
{
	const struct ipval *ip = &p->ip;
	unsigned full = ip->fam == 4 ? 32 : 128;
	probe(idx, ip->plen == full ? &idx->exact : &idx->nets, p->h, now_us, o, INDEX_EXACT,
	      ip->plen, 0);
	if (ip->fam == 4) {
		if (!idx->v4_blk)
			return;
		uint32_t m;
		if (p->nets_ready) {
			for (unsigned k = 0; k < p->nnets; k++)
				probe(idx, &idx->nets, p->neth[k], now_us, o, INDEX_CIDR, p->netlen[k],
				      0);
			m = p->netrest;
		} else {
			m = v4_lengths(idx, ip);
		}
		while (m) {
			unsigned L = 31 - (unsigned)__builtin_clz(m);
			m &= ~((uint32_t)1 << L);
			probe(idx, &idx->nets, key_v4(L, ip->v4 & v4_netmask(L)), now_us, o,
			      INDEX_CIDR, L, 0);
		}
		return;
	}
	for (int w = 1; w >= 0; w--) {
		uint64_t m = idx->v6_mask[w];
		while (m) {
			unsigned bit = 63 - (unsigned)__builtin_clzll(m);
			m &= ~((uint64_t)1 << bit);
			unsigned L = (unsigned)w * 64 + bit;
			if (L >= ip->plen)
				continue;
			uint8_t a[16];
			memcpy(a, ip->a, 16);
			v6_apply_mask(a, L);
			probe(idx, &idx->nets, key_v6(L, a), now_us, o, INDEX_CIDR, L, 0);
		}
	}
}

static void
run(const struct index *idx, const struct prep *p, struct slice v, int64_t now_us,
    struct out *o)
{
	if (!p->valid)
		return;
	if (is_ip_kind(p->kind)) {
		run_ip(idx, p, now_us, o);
		return;
	}
	probe(idx, &idx->exact, p->h, now_us, o, INDEX_EXACT, 0, 0);
	if (p->kind != OBS_DOMAIN)
		return;
	for (unsigned k = 0; k < p->nparents; k++)
		probe(idx, &idx->exact, p->ph[k], now_us, o, INDEX_PARENT_DOMAIN, 0, k + 1);
	/* names deeper than PREP_PARENTS labels: hash the rest now */
	size_t i = p->pnext;
	unsigned up = p->pup;
	if (p->nparents < PREP_PARENTS)
		return;
	while (i < v.len) {
		const char *dot = memchr(v.p + i, '.', v.len - i);
		if (!dot)
			break;
		i = (size_t)(dot - v.p) + 1;
		up++;
		if (i >= v.len)
			break;
		probe(idx, &idx->exact, key_str(OBS_DOMAIN, v.p + i, v.len - i), now_us, o,
		      INDEX_PARENT_DOMAIN, 0, up);
	}
}

size_t
index_lookup(const struct index *idx, enum obs_kind kind, struct slice value, int64_t now_us,
             struct index_hit *hits, size_t max)
{
	struct prep p;
	struct out o = { hits, max, 0 };
	/* even alone, a query's probes overlap: the exact slot, the parents'
	 * slots and the block mask are fetched at once */
	prepare(idx, kind, value, &p, true);
	prepare_nets(idx, &p);
	run(idx, &p, value, now_us, &o);
	return o.n;
}

size_t
index_lookup_batch(const struct index *idx, const struct index_query *q, size_t n,
                   int64_t now_us, struct index_hit *hits, size_t max, size_t *counts)
{
	/* a software pipeline: query k is hashed and its slots prefetched,
	 * PIPE_NETS steps later its IPv4 network keys, PIPE_DEPTH - 1 steps later
	 * it is probed, by which time its cache lines have arrived */
	struct prep p[PIPE_DEPTH];
	size_t total = 0, written = 0;
	for (size_t k = 0; k < n + PIPE_DEPTH; k++) {
		if (k < n)
			prepare(idx, q[k].kind, q[k].value, &p[k % PIPE_DEPTH], true);
		if (k >= PIPE_NETS && k - PIPE_NETS < n)
			prepare_nets(idx, &p[(k - PIPE_NETS) % PIPE_DEPTH]);
		if (k + 1 < PIPE_DEPTH || k + 1 - PIPE_DEPTH >= n)
			continue;
		size_t i = k + 1 - PIPE_DEPTH;
		struct out o = { written < max ? hits + written : NULL, max - written, 0 };
		run(idx, &p[i % PIPE_DEPTH], q[i].value, now_us, &o);
		counts[i] = o.n;
		total += o.n;
		written += o.n < o.max ? o.n : o.max;
	}
	return total;
}

const char *
index_how_name(enum index_how how)
{
	switch (how) {
	case INDEX_EXACT:
		return "exact";
	case INDEX_CIDR:
		return "cidr";
	case INDEX_PARENT_DOMAIN:
		return "parent-domain";
	}
	return "unknown";
}
