/*
 * export_dec_int.h — what the decision writer's format files share
 * (library-private: export__ names).
 *
 * export_dec.c owns the writer: options, the output buffer and its sink,
 * the kind check and the allowlist filter that every decision passes
 * before a format's add() sees it. Each format file (export_rpz.c,
 * export_fw.c, export_ids.c, export_misp.c; plain is in export_dec.c)
 * fills one struct export__fmt.
 */
#ifndef TOCSIN_EXPORT_DEC_INT_H
#define TOCSIN_EXPORT_DEC_INT_H

#include "export_dec.h"
#include "util/buf.h"

struct export__ip4 {
	uint32_t a;         /* host order */
	uint8_t plen;
	int64_t until_us;
};
struct export__ip6 {
	uint8_t a[16];
	uint8_t plen;
	int64_t until_us;
};

struct export__misp_event {
	char *producer;
	enum tlp_level tlp;
	char uuid[37];
	size_t attributes;
};

struct export_dec_writer {
	struct export_dec_opts o;
	const struct export__fmt *fmt;
	char part[EXPORT_NAME_MAX + 8];
	char name[EXPORT_NAME_MAX];      /* nft table, ipset prefix */
	char origin[EXPORT_NAME_MAX * 4]; /* rpz zone, with its final dot */
	char cname[EXPORT_NAME_MAX * 4];  /* rpz garden, with its final dot */
	char ns[EXPORT_NAME_MAX * 4];
	char feed[EXPORT_NAME_MAX];
	export_write_fn write;
	void *wctx;
	struct buf out;
	enum tcerr err;
	bool started;
	struct export_dec_counts c;
	uint64_t plain_n;                /* plain: values numbered so far */
	/* nft */
	struct export__ip4 *v4;
	size_t n4, cap4;
	struct export__ip6 *v6;
	size_t n6, cap6;
	/* misp-feed */
	struct export__misp_event *ev;
	size_t nev, capev;
	bool misp_event_part;            /* part is "<uuid>.json" */
	char misp_uuid[37];
	size_t misp_attrs;               /* attributes written into that event */
};

struct export__fmt {
	enum export_format format;
	/* whether the format (and part) carries kind at all */
	bool (*carries)(const struct export_dec_writer *w, enum obs_kind kind);
	void (*start)(struct export_dec_writer *w);
	/* after the filter; may leave the value out itself (c.left_out) */
	enum tcerr (*add)(struct export_dec_writer *w, const struct feed_decision *dec,
	                  const char *allowlisted_why);
	enum tcerr (*finish)(struct export_dec_writer *w);
};

extern const struct export__fmt export__rpz, export__nft, export__ipset,
	export__suricata_dataset, export__suricata_iprep, export__zeek, export__misp;

/* Whole seconds from now to until (at least 1); 0 when until is 0. */
int64_t export__timeout_s(const struct export_dec_writer *w, int64_t until_us);

/* Parses a normalised IPv4 value "a.b.c.d[/n]". false if it is not one. */
bool export__ip4_parse(struct slice v, struct export__ip4 *out);
bool export__ip6_parse(struct slice v, struct export__ip6 *out);

/* true when the value is a network (has a prefix shorter than a host's) */
bool export__is_network(struct slice v);

/* true when every byte of v is printable ASCII other than those in bad */
bool export__safe(struct slice v, const char *bad);

/* Appends v in decimal (the hot paths of large exports: no printf). */
void export__u64(struct buf *b, uint64_t v);
/* Appends the dotted quad of a (host order); reversed: "d.c.b.a". */
void export__quad(struct buf *b, uint32_t a, bool reversed);

/* Appends the base64 (RFC 4648 §4, padded) of v. */
void export__base64(struct buf *b, struct slice v);

/* Writes the buffer to the sink once it holds EXPORT_FLUSH bytes (for a
 * finish() that writes much). Returns TC_OK or the sink's error. */
enum tcerr export__flush(struct export_dec_writer *w);

/* Counts dec as left out for r. */
void export__left_out(struct export_dec_writer *w, enum export_left_out r);

#endif
