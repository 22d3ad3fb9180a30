/*
 * export_ids.c — decisions for network monitors: Suricata datasets,
 * Suricata IP reputation, Zeek intel.
 *
 * Suricata datasets (Suricata user guide, "Datasets"): one file per set,
 * one value a line; a set of type string holds each value base64-encoded
 * (so any byte fits), md5 and sha256 hold lowercase hex, ip holds IPv4 and
 * IPv6 addresses as text. Parts: domains (string), urls (string), md5,
 * sha256, ip (addresses only: a dataset of type ip holds no networks;
 * suricata-iprep carries them).
 *
 * Suricata IP reputation ("IP Reputation Format"): the categories file
 * "<id>,<short name>,<description>" (one category, 1 "tocsin"), and the
 * reputation file "<ip>,<category>,<score>", IPv4/IPv6 addresses or CIDR
 * networks, score 1..127: the decision's confidence scaled from 0..100
 * (at least 1); a decision without a confidence scores 127.
 *
 * Zeek intel (Zeek "Intelligence Framework", "Loading Intelligence"):
 * a "#fields" header, then one tab-separated line per value: indicator,
 * indicator_type, meta.source, meta.desc. Intel::ADDR (addresses),
 * Intel::SUBNET (networks), Intel::DOMAIN, Intel::URL (without the scheme:
 * Zeek sees URLs as host and path), Intel::EMAIL, Intel::FILE_HASH (md5,
 * sha1, sha256, sha512). A value holding a tab or a line break would break
 * the line and is left out (no normalised value has one).
 */
#include <string.h>

#include "export_dec_int.h"

/* ---- suricata-dataset ---- */

static bool
dataset_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	const char *p = w->part;
	if (strcmp(p, "domains") == 0)
		return kind == OBS_DOMAIN;
	if (strcmp(p, "urls") == 0)
		return kind == OBS_URL;
	if (strcmp(p, "md5") == 0)
		return kind == OBS_MD5;
	if (strcmp(p, "sha256") == 0)
		return kind == OBS_SHA256;
	return kind == OBS_IPV4 || kind == OBS_IPV6; /* ip */
}

static void
no_start(struct export_dec_writer *w)
{
	(void)w;
}

static enum tcerr
no_finish(struct export_dec_writer *w)
{
	(void)w;
	return TC_OK;
}

static enum tcerr
dataset_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	switch (dec->kind) {
	case OBS_DOMAIN:
	case OBS_URL:
		export__base64(&w->out, dec->value);
		break;
	case OBS_IPV4:
	case OBS_IPV6:
		if (export__is_network(dec->value)) {
			export__left_out(w, EXPORT_LEFT_KIND);
			w->c.kinds_left_out[dec->kind]++;
			return TC_OK;
		}
		/* fall through */
	default:
		if (!export__safe(dec->value, ",")) {
			export__left_out(w, EXPORT_LEFT_UNSAFE);
			return TC_OK;
		}
		buf_append_slice(&w->out, dec->value);
		break;
	}
	buf_append_char(&w->out, '\n');
	w->c.written++;
	return TC_OK;
}

const struct export__fmt export__suricata_dataset = {
	EXPORT_SURICATA_DATASET, dataset_carries, no_start, dataset_add, no_finish,
};

/* ---- suricata-iprep ---- */

#define IPREP_CATEGORY 1

static bool
iprep_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	if (strcmp(w->part, "categories") == 0)
		return false;
	return kind == OBS_IPV4 || kind == OBS_IPV6;
}

static void
iprep_start(struct export_dec_writer *w)
{
	/* the categories file is the same whatever the decisions */
	if (strcmp(w->part, "categories") == 0)
		buf_printf(&w->out, "%d,tocsin,Blocked by tocsin (%s)\n", IPREP_CATEGORY, w->feed);
}

static enum tcerr
iprep_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	if (!export__safe(dec->value, ",")) {
		export__left_out(w, EXPORT_LEFT_UNSAFE);
		return TC_OK;
	}
	int score = 127;
	if (dec->confidence >= 0) {
		score = (dec->confidence * 127 + 50) / 100;
		if (score < 1)
			score = 1;
		if (score > 127)
			score = 127;
	}
	buf_append_slice(&w->out, dec->value);
	buf_printf(&w->out, ",%d,%d\n", IPREP_CATEGORY, score);
	w->c.written++;
	return TC_OK;
}

const struct export__fmt export__suricata_iprep = {
	EXPORT_SURICATA_IPREP, iprep_carries, iprep_start, iprep_add, no_finish,
};

/* ---- zeek ---- */

static bool
zeek_carries(const struct export_dec_writer *w, enum obs_kind kind)
{
	(void)w;
	switch (kind) {
	case OBS_IPV4:
	case OBS_IPV6:
	case OBS_DOMAIN:
	case OBS_URL:
	case OBS_EMAIL:
	case OBS_MD5:
	case OBS_SHA1:
	case OBS_SHA256:
	case OBS_SHA512:
		return true;
	default:
		return false;
	}
}

static void
zeek_start(struct export_dec_writer *w)
{
	buf_printf(&w->out, "# tocsin decisions at log position %llu\n"
	                    "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n",
	           (unsigned long long)w->o.position);
}

/* A meta field: no tab or line break, "-" (Zeek's unset field) when empty. */
static void
zeek_field(struct buf *b, const char *s)
{
	size_t n = 0;
	for (; s && *s; s++, n++)
		buf_append_char(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
	if (!n)
		buf_append_char(b, '-');
}

static enum tcerr
zeek_add(struct export_dec_writer *w, const struct feed_decision *dec, const char *why)
{
	(void)why;
	struct slice v = dec->value;
	const char *type;
	switch (dec->kind) {
	case OBS_IPV4:
	case OBS_IPV6:
		type = export__is_network(v) ? "Intel::SUBNET" : "Intel::ADDR";
		break;
	case OBS_DOMAIN: type = "Intel::DOMAIN"; break;
	case OBS_URL:
		type = "Intel::URL";
		/* Zeek's URL indicators are host and path, no scheme */
		if (v.len > 7 && memcmp(v.p, "http://", 7) == 0)
			v = slice_make(v.p + 7, v.len - 7);
		else if (v.len > 8 && memcmp(v.p, "https://", 8) == 0)
			v = slice_make(v.p + 8, v.len - 8);
		break;
	case OBS_EMAIL: type = "Intel::EMAIL"; break;
	default: type = "Intel::FILE_HASH"; break;
	}
	if (!export__safe(v, NULL)) {
		export__left_out(w, EXPORT_LEFT_UNSAFE);
		return TC_OK;
	}
	buf_append_slice(&w->out, v);
	buf_printf(&w->out, "\t%s\t", type);
	zeek_field(&w->out, w->feed);
	buf_append_char(&w->out, '\t');
	/* the indicators behind it, as the reader may see them */
	size_t n = dec->nindicators < FEED_DECISION_MAX_INDICATORS ? dec->nindicators
	                                                             : FEED_DECISION_MAX_INDICATORS;
	for (size_t i = 0; i < n && dec->indicators; i++) {
		if (i)
			buf_append_char(&w->out, ' ');
		zeek_field(&w->out, dec->indicators[i].id);
	}
	if (!n)
		buf_append_char(&w->out, '-');
	if (dec->confidence >= 0)
		buf_printf(&w->out, " confidence=%d", dec->confidence);
	if (dec->tlp != TLP_NONE)
		buf_printf(&w->out, " tlp=%s", stix_tlp_name(dec->tlp));
	buf_append_char(&w->out, '\n');
	w->c.written++;
	return TC_OK;
}

const struct export__fmt export__zeek = {
	EXPORT_ZEEK, zeek_carries, zeek_start, zeek_add, no_finish,
};
