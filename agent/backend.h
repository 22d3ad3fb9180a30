/*
 * backend.h — an enforcement backend of tocsin-agent, behind a small table
 * of functions chosen at start-up (nftables, files).
 *
 * start() makes the backend match the whole set (the agent calls it once,
 * after reading its state file or after a snapshot); apply() takes the
 * changes of one burst of events, in order; tick() is called about every
 * 100 ms and after each burst, for what a backend does later (a debounced
 * file rewrite). An error is reported and kept as the agent's last error;
 * the agent goes on (a later burst or tick retries what a backend needs).
 */
#ifndef TOCSIN_AGENT_BACKEND_H
#define TOCSIN_AGENT_BACKEND_H

#include "agent/agent_conf.h"
#include "agent/agent_set.h"

struct backend_ops {
	const char *name;
	enum tcerr (*start)(void *b, const struct agent_set *s, uint64_t position, struct diag *d);
	enum tcerr (*apply)(void *b, const struct agent_changes *ch, const struct agent_set *s,
	                    struct diag *d);
	enum tcerr (*tick)(void *b, const struct agent_set *s, uint64_t position, int64_t now_us,
	                   struct diag *d);
	void (*free)(void *b);
};

struct backend {
	const struct backend_ops *ops;
	void *b;
};

/* nftables: one table inet TABLE, sets ipv4_addr / ipv6_addr, a chain per
 * hook that drops (or, dry_run, only counts) what the sets hold. */
enum tcerr backend_nft_new(const struct agent_conf *c, struct backend *out, struct diag *d);

/* Counters of the nft backend's chain rules (packets matched per family),
 * read from the kernel; for status and tests. */
enum tcerr backend_nft_counts(const char *table, uint64_t *v4, uint64_t *v6, size_t *set4,
                              size_t *set6, struct diag *d);

/* A file written from the whole set in f->format, renamed into place. */
enum tcerr backend_file_new(const struct agent_file_conf *f, struct backend *out,
                            struct diag *d);

#endif
