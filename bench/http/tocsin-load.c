/*
 * tocsin-load.c — an HTTP/1.1 load generator for the TAXII benchmarks.
 *
 *   tocsin-load [options] http://HOST:PORT/PATH
 *
 * N keep-alive connections, spread over M threads, each thread one epoll
 * loop; every connection has at most one request in flight (no
 * pipelining), so the concurrency is exactly N. The run stops after a
 * fixed number of requests (-n) or after a duration (-d), whichever comes
 * first, and is always bounded: a hard time limit (--timeout) aborts it.
 * Requests are GET (or any method) of a path, or of paths taken in turn
 * from a file, or POST of a body file, or of bodies taken once each from a
 * file of one body a line (so every POST carries new objects). With
 * --follow-next each connection walks TAXII pages: after a response whose
 * envelope has a "next", it asks for the same path with next=<cursor>.
 *
 * Responses are framed by http_resp.c (Content-Length and chunked);
 * latency runs from the first byte written to the last byte of the
 * response read and is kept in a log-bucket histogram (hist.c). It prints
 * requests/s, objects/s (with --objects), statuses, p50/p90/p99/p99.9/max,
 * and with --name the lines bench/run.sh reads. The invariant: every
 * request sent is counted exactly once, as a response with its status or
 * as a connection error; any status outside --accept (default 2xx) or any
 * error makes the exit status 1 and is reported on stderr as it happens
 * (the first few) and in the summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "hist.h"
#include "http_resp.h"

#define LOAD_CONNS_MAX 10000          /* connections */
#define LOAD_THREADS_MAX 64           /* worker threads */
#define LOAD_HEADERS_MAX 32           /* -H options */
#define LOAD_DURATION_MAX 3600.0      /* seconds of -d and --timeout */
#define LOAD_REQUESTS_MAX 1000000000u /* -n */
#define LOAD_FILE_MAX (1024u << 20)   /* bytes of a --body/--bodies/--paths file */
#define LOAD_HEAD_MAX 16384           /* bytes of a request head */
#define LOAD_RBUF 65536               /* bytes read at once */
#define LOAD_DIAG_KEEP 512            /* body bytes kept to show a failed response */
#define LOAD_WALK_KEEP (64u << 20)    /* body bytes kept to find "next" */
#define LOAD_ERRORS_SHOWN 5           /* failures printed as they happen */
#define LOAD_ERRORS_MAX 1000          /* connection errors before giving up */
#define LOAD_NEXT_MAX 4096            /* bytes of a next cursor */

struct opts {
	const char *url;
	char host[256];    /* for the Host header */
	char port[16];
	char path[4096];
	unsigned conns, threads;
	uint64_t requests; /* 0: no limit */
	double duration;   /* 0: no limit */
	double timeout;
	const char *method;
	const char *headers[LOAD_HEADERS_MAX];
	unsigned nheaders;
	const char *paths_file, *body_file, *bodies_file;
	uint64_t objects; /* per request */
	bool follow_next;
	bool cycle;        /* --bodies used in turn, again and again */
	const char *unit;  /* what --objects counts ("objects") */
	bool accept[600];
	const char *name;
	double target_rps, target_ops, target_p99_ms;
	bool quiet;
};

/* A file's lines (or the whole file as one item). */
struct items {
	char *data;
	const char **p;
	size_t *len;
	size_t n;
};

struct worker;

struct conn {
	int fd;
	struct worker *w;
	struct http_resp resp;
	char head[LOAD_HEAD_MAX];
	size_t head_len;
	const char *body;
	size_t body_len;
	size_t sent;       /* bytes of head + body written */
	uint64_t t0;       /* ns: first byte written */
	bool busy;         /* a request is in flight */
	bool done;         /* no more requests for this connection */
	uint32_t events;   /* registered with epoll */
	char next[LOAD_NEXT_MAX];
	size_t next_len;   /* 0: start a walk */
	const char *walk_path;
	size_t walk_path_len;
};

struct worker {
	pthread_t tid;
	int ep;
	struct conn *c;
	unsigned nc, live;
	struct hist lat;
	uint64_t status[600];
	uint64_t ok, bad, errors, bytes_in, objects_out, pages_followed, walks_done;
	char rbuf[LOAD_RBUF];
};

static struct opts o;
static struct addrinfo *addr;
static struct items paths, bodies, body;
static atomic_uint_fast64_t issued;      /* requests claimed */
static atomic_uint_fast64_t next_path, next_body;
static atomic_uint_fast64_t total_errors;
static atomic_uint shown;                /* failures printed so far */
static atomic_bool stop;
static atomic_bool timed_out;
static uint64_t t_start, t_stop_issuing, t_abort; /* ns */

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *f)
{
	fputs("usage: tocsin-load [options] http://HOST:PORT/PATH\n"
	      "  -c, --connections N   keep-alive connections, one request in flight each (16)\n"
	      "  -t, --threads N       worker threads sharing the connections (1)\n"
	      "  -n, --requests N      stop after N requests (1M, 250k allowed)\n"
	      "  -d, --duration S      stop sending after S seconds (10 when -n is not given)\n"
	      "      --timeout S       abort, exit 1, after S seconds (duration + 60, or 600)\n"
	      "  -m, --method M        request method (GET; POST with --body/--bodies)\n"
	      "  -H, --header 'N: V'   add a request header (repeatable)\n"
	      "      --paths FILE      paths (one a line) requested in turn instead of PATH\n"
	      "      --body FILE       request body, the same for every request\n"
	      "      --bodies FILE     request bodies, one a line, each sent once; the run ends\n"
	      "                        when they are used up\n"
	      "      --cycle           with --bodies: send them in turn, again and again\n"
	      "      --objects N       objects per request, to report objects/s\n"
	      "      --unit NAME       what --objects counts, in the report (objects)\n"
	      "      --follow-next     walk TAXII pages: request PATH&next=CURSOR while the\n"
	      "                        envelope has a \"next\"\n"
	      "      --accept LIST     statuses that are not failures (e.g. 200,202,404; default 2xx)\n"
	      "      --name NAME       figure name for the verdict lines bench/run.sh reads\n"
	      "      --target-rps N    verdict: requests/s >= N\n"
	      "      --target-ops N    verdict: objects/s >= N\n"
	      "      --target-p99-ms N verdict: p99 latency <= N ms\n"
	      "  -q, --quiet           only the summary\n"
	      "Exit status: 0 when every response was accepted, 1 on failures, 2 on usage errors.\n",
	      f);
}

static bool
parse_double(const char *s, double *out, double max)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_uint(const char *s, uint64_t *out, uint64_t max)
{
	uint64_t v;
	if (!s || !bench_parse_count(s, &v) || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_accept(const char *s)
{
	memset(o.accept, 0, sizeof(o.accept));
	while (*s) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno || end == s || v < 100 || v > 599 || (*end && *end != ','))
			return false;
		o.accept[v] = true;
		s = *end ? end + 1 : end;
	}
	return true;
}

/* http://HOST[:PORT][/PATH] */
static bool
parse_url(const char *u)
{
	if (strncmp(u, "http://", 7) != 0)
		return false;
	const char *h = u + 7;
	const char *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	const char *colon = memchr(h, ':', hl);
	size_t namel = colon ? (size_t)(colon - h) : hl;
	if (namel == 0 || namel >= sizeof(o.host))
		return false;
	memcpy(o.host, h, namel);
	o.host[namel] = '\0';
	if (colon) {
		size_t pl = hl - namel - 1;
		if (pl == 0 || pl >= sizeof(o.port))
			return false;
		memcpy(o.port, colon + 1, pl);
		o.port[pl] = '\0';
	} else {
		memcpy(o.port, "80", 3);
	}
	int n = snprintf(o.path, sizeof(o.path), "%s", slash ? slash : "/");
	return n > 0 && (size_t)n < sizeof(o.path);
}

/* Reads path whole; with lines, cuts it into non-empty lines. */
static int
items_load(struct items *it, const char *path, bool lines)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tocsin-load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, len = 0;
	char *d = malloc(cap);
	int rc = -1;
	while (d) {
		if (len + 1 >= cap) {
			if (cap >= LOAD_FILE_MAX) {
				fprintf(stderr, "tocsin-load: %s: larger than %u MiB\n", path,
				        LOAD_FILE_MAX >> 20);
				goto out;
			}
			char *nd = realloc(d, cap * 2);
			if (!nd)
				break;
			d = nd;
			cap *= 2;
		}
		size_t r = fread(d + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	if (!d || ferror(f)) {
		fprintf(stderr, "tocsin-load: %s: cannot read\n", path);
		goto out;
	}
	d[len] = '\0';
	size_t n = 1;
	for (size_t i = 0; i < len; i++)
		n += d[i] == '\n';
	it->p = calloc(n, sizeof(*it->p));
	it->len = calloc(n, sizeof(*it->len));
	if (!it->p || !it->len)
		goto out;
	it->data = d;
	it->n = 0;
	if (!lines) {
		it->p[0] = d;
		it->len[0] = len;
		it->n = 1;
	} else {
		char *s = d;
		while (s < d + len) {
			char *e = memchr(s, '\n', (size_t)(d + len - s));
			size_t l = e ? (size_t)(e - s) : (size_t)(d + len - s);
			if (l && s[l - 1] == '\r')
				l--;
			if (l) {
				it->p[it->n] = s;
				it->len[it->n] = l;
				it->n++;
			}
			s += (e ? (size_t)(e - s) + 1 : l);
			if (!e)
				break;
		}
	}
	if (it->n == 0) {
		fprintf(stderr, "tocsin-load: %s: empty\n", path);
		goto out;
	}
	d = NULL;
	rc = 0;
out:
	free(d);
	fclose(f);
	return rc;
}

/* Prints one failure as it happens, for the first few. */
static void
report(const char *what, const char *detail)
{
	if (atomic_fetch_add(&shown, 1) < LOAD_ERRORS_SHOWN)
		fprintf(stderr, "tocsin-load: %s%s\n", what, detail ? detail : "");
}

static int
conn_open(struct conn *c)
{
	int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, addr->ai_addr, addr->ai_addrlen) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct epoll_event ev = {.events = 0, .data.ptr = c};
	if (epoll_ctl(c->w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->events = 0;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
}

static void
conn_finish(struct conn *c)
{
	conn_close(c);
	if (!c->done) {
		c->done = true;
		c->w->live--;
	}
}

static void
conn_events(struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static bool
append(struct conn *c, const char *s, size_t n)
{
	if (c->head_len + n >= sizeof(c->head))
		return false;
	memcpy(c->head + c->head_len, s, n);
	c->head_len += n;
	return true;
}

static bool
append_s(struct conn *c, const char *s)
{
	return append(c, s, strlen(s));
}

/* Percent-encodes a cursor for the query string (RFC 3986 unreserved kept). */
static bool
append_pct(struct conn *c, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			if (!append(c, s + i, 1))
				return false;
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			if (!append(c, e, 3))
				return false;
		}
	}
	return true;
}

/* Claims the next request and writes its head; false when the run is over
 * for this connection. */
static bool
build(struct conn *c)
{
	if (atomic_load(&stop))
		return false;
	if (o.duration > 0 && now_ns() >= t_stop_issuing)
		return false;
	if (o.requests && atomic_fetch_add(&issued, 1) >= o.requests)
		return false;
	if (!o.requests)
		atomic_fetch_add(&issued, 1);
	const char *path = o.path;
	size_t path_len = strlen(o.path);
	c->body = NULL;
	c->body_len = 0;
	if (o.follow_next && c->next_len) {
		path = c->walk_path;
		path_len = c->walk_path_len;
	} else if (paths.n) {
		uint64_t i = atomic_fetch_add(&next_path, 1) % paths.n;
		path = paths.p[i];
		path_len = paths.len[i];
	}
	if (bodies.n) {
		uint64_t i = atomic_fetch_add(&next_body, 1);
		if (i >= bodies.n && !o.cycle)
			return false;
		i %= bodies.n;
		c->body = bodies.p[i];
		c->body_len = bodies.len[i];
	} else if (body.n) {
		c->body = body.p[0];
		c->body_len = body.len[0];
	}
	c->head_len = 0;
	bool ok = append_s(c, o.method) && append(c, " ", 1) && append(c, path, path_len);
	if (o.follow_next) {
		if (c->next_len) {
			ok = ok && append_s(c, memchr(path, '?', path_len) ? "&next=" : "?next=") &&
			     append_pct(c, c->next, c->next_len);
		} else {
			c->walk_path = path;
			c->walk_path_len = path_len;
		}
	}
	ok = ok && append_s(c, " HTTP/1.1\r\nHost: ") && append_s(c, o.host) && append(c, ":", 1) &&
	     append_s(c, o.port) && append(c, "\r\n", 2);
	for (unsigned i = 0; i < o.nheaders; i++)
		ok = ok && append_s(c, o.headers[i]) && append(c, "\r\n", 2);
	if (c->body) {
		char cl[64];
		int n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", c->body_len);
		ok = ok && n > 0 && (size_t)n < sizeof(cl) && append(c, cl, (size_t)n);
	}
	ok = ok && append(c, "\r\n", 2);
	if (!ok) {
		report("request head longer than the load generator allows", NULL);
		atomic_store(&stop, true);
		return false;
	}
	c->sent = 0;
	c->busy = true;
	c->t0 = 0;
	c->resp.no_body = strcmp(o.method, "HEAD") == 0;
	http_resp_reset(&c->resp, o.follow_next ? LOAD_WALK_KEEP : LOAD_DIAG_KEEP);
	return true;
}

/* Writes what the socket takes; switches to reading when all is sent. */
static int
send_some(struct conn *c)
{
	if (!c->t0)
		c->t0 = now_ns();
	while (c->sent < c->head_len + c->body_len) {
		struct iovec iov[2];
		int n = 0;
		if (c->sent < c->head_len) {
			iov[n].iov_base = c->head + c->sent;
			iov[n].iov_len = c->head_len - c->sent;
			n++;
			if (c->body_len) {
				iov[n].iov_base = (void *)c->body;
				iov[n].iov_len = c->body_len;
				n++;
			}
		} else {
			iov[n].iov_base = (void *)(c->body + (c->sent - c->head_len));
			iov[n].iov_len = c->body_len - (c->sent - c->head_len);
			n++;
		}
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_events(c, EPOLLOUT);
				return 0;
			}
			return -1;
		}
		c->sent += (size_t)w;
	}
	conn_events(c, EPOLLIN);
	return 0;
}

/* Finds the top-level-looking "next": "..." of a TAXII envelope. */
static void
find_next(struct conn *c, const char *b, size_t n)
{
	c->next_len = 0;
	const char *end = b + n;
	const char *p = b;
	while ((p = memmem(p, (size_t)(end - p), "\"next\"", 6)) != NULL) {
		const char *q = p + 6;
		while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
			q++;
		if (q < end && *q == ':') {
			q++;
			while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
				q++;
			if (q >= end || *q != '"')
				return;
			q++;
			size_t l = 0;
			while (q < end && *q != '"') {
				char ch = *q++;
				if (ch == '\\') {
					if (q >= end)
						return;
					ch = *q++;
					if (ch == 'u' || (ch != '"' && ch != '\\' && ch != '/'))
						return; /* cursors are plain ASCII */
				}
				if (l + 1 >= sizeof(c->next))
					return;
				c->next[l++] = ch;
			}
			if (q < end)
				c->next_len = l;
			return;
		}
		p += 6;
	}
}

/* One response is complete: count it, keep or drop the connection, and
 * closes it if the server said so. */
static void
completed(struct conn *c)
{
	struct worker *w = c->w;
	struct http_resp *r = &c->resp;
	uint64_t t = now_ns();
	hist_record(&w->lat, t - c->t0);
	w->status[r->status]++;
	c->busy = false;
	if (o.accept[r->status]) {
		w->ok++;
		w->objects_out += o.objects;
	} else {
		w->bad++;
		char st[64];
		snprintf(st, sizeof(st), "unexpected status %d: ", r->status);
		report(st, r->body);
	}
	if (o.follow_next) {
		bool walking = c->next_len != 0;
		if (o.accept[r->status] && r->body && !r->truncated)
			find_next(c, r->body, r->body_len);
		else
			c->next_len = 0;
		if (walking)
			w->pages_followed++;
		if (walking && !c->next_len)
			w->walks_done++;
	}
	if (r->close)
		conn_close(c);
}

static void
conn_error(struct conn *c, const char *why)
{
	struct worker *w = c->w;
	if (c->busy) {
		w->errors++;
		atomic_fetch_add(&total_errors, 1);
		report("connection error: ", why);
	}
	c->busy = false;
	c->next_len = 0;
	conn_close(c);
	if (atomic_load(&total_errors) >= LOAD_ERRORS_MAX) {
		report("too many connection errors, stopping", NULL);
		atomic_store(&stop, true);
	}
}

/* Starts the next request on c (reconnecting if needed), or retires c. */
static void
kick(struct conn *c)
{
	while (!c->done) {
		if (!build(c)) {
			conn_finish(c);
			return;
		}
		if (c->fd < 0 && conn_open(c) < 0) {
			conn_error(c, strerror(errno));
			continue;
		}
		if (send_some(c) < 0) {
			conn_error(c, strerror(errno));
			continue;
		}
		return;
	}
}

static void
on_readable(struct conn *c)
{
	struct worker *w = c->w;
	for (;;) {
		ssize_t n = read(c->fd, w->rbuf, sizeof(w->rbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_error(c, strerror(errno));
			kick(c);
			return;
		}
		if (n == 0) {
			if (c->busy && http_resp_eof(&c->resp) == 0) {
				completed(c);
				conn_close(c);
			} else if (c->busy) {
				conn_error(c, c->resp.err);
			} else {
				conn_close(c);
			}
			kick(c);
			return;
		}
		w->bytes_in += (uint64_t)n;
		size_t off = 0;
		while (off < (size_t)n) {
			if (!c->busy) {
				conn_error(c, "bytes after the response");
				kick(c);
				return;
			}
			ssize_t used = http_resp_feed(&c->resp, w->rbuf + off, (size_t)n - off);
			if (used < 0) {
				conn_error(c, c->resp.err);
				kick(c);
				return;
			}
			off += (size_t)used;
			if (c->resp.done) {
				completed(c);
				if (off < (size_t)n) {
					conn_error(c, "bytes after the response");
					kick(c);
					return;
				}
				kick(c);
				if (c->fd < 0 || c->done)
					return;
			}
		}
	}
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[256];
	for (unsigned i = 0; i < w->nc; i++)
		kick(&w->c[i]);
	while (w->live) {
		int n = epoll_wait(w->ep, ev, 256, 100);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (c->busy && c->sent < c->head_len + c->body_len &&
				    !(ev[i].events & EPOLLIN)) {
					conn_error(c, "connection closed while sending");
					kick(c);
				} else {
					on_readable(c);
				}
			} else if (ev[i].events & EPOLLOUT) {
				if (send_some(c) < 0) {
					conn_error(c, strerror(errno));
					kick(c);
				}
			}
		}
		if (now_ns() >= t_abort) {
			atomic_store(&timed_out, true);
			atomic_store(&stop, true);
		}
		if (atomic_load(&stop)) {
			/* abort: in-flight requests are counted as errors */
			for (unsigned i = 0; i < w->nc; i++) {
				struct conn *c = &w->c[i];
				if (c->busy && atomic_load(&timed_out)) {
					w->errors++;
					c->busy = false;
				}
				if (!c->busy)
					conn_finish(c);
			}
		}
	}
	return NULL;
}

static void
print_ms(const char *label, uint64_t ns)
{
	printf(" %s %.3f ms", label, (double)ns / 1e6);
}

int
main(int argc, char **argv)
{
	o.conns = 16;
	o.threads = 1;
	o.method = NULL;
	for (int s = 200; s < 300; s++)
		o.accept[s] = true;
	uint64_t u;
	const char *method = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--connections")) {
			if (!parse_uint(v, &u, LOAD_CONNS_MAX) || u == 0)
				goto bad;
			o.conns = (unsigned)u;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
			if (!parse_uint(v, &u, LOAD_THREADS_MAX) || u == 0)
				goto bad;
			o.threads = (unsigned)u;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--requests")) {
			if (!parse_uint(v, &o.requests, LOAD_REQUESTS_MAX) || o.requests == 0)
				goto bad;
		} else if (!strcmp(a, "-d") || !strcmp(a, "--duration")) {
			if (!parse_double(v, &o.duration, LOAD_DURATION_MAX) || o.duration <= 0)
				goto bad;
		} else if (!strcmp(a, "--timeout")) {
			if (!parse_double(v, &o.timeout, LOAD_DURATION_MAX) || o.timeout <= 0)
				goto bad;
		} else if (!strcmp(a, "-m") || !strcmp(a, "--method")) {
			if (!v || !*v || strpbrk(v, " \r\n"))
				goto bad;
			method = v;
		} else if (!strcmp(a, "-H") || !strcmp(a, "--header")) {
			if (!v || !strchr(v, ':') || strpbrk(v, "\r\n") || o.nheaders == LOAD_HEADERS_MAX)
				goto bad;
			o.headers[o.nheaders++] = v;
		} else if (!strcmp(a, "--paths")) {
			if (!v)
				goto bad;
			o.paths_file = v;
		} else if (!strcmp(a, "--body")) {
			if (!v)
				goto bad;
			o.body_file = v;
		} else if (!strcmp(a, "--bodies")) {
			if (!v)
				goto bad;
			o.bodies_file = v;
		} else if (!strcmp(a, "--objects")) {
			if (!parse_uint(v, &o.objects, LOAD_REQUESTS_MAX))
				goto bad;
		} else if (!strcmp(a, "--unit")) {
			if (!v)
				goto bad;
			o.unit = v;
		} else if (!strcmp(a, "--accept")) {
			if (!v || !parse_accept(v))
				goto bad;
		} else if (!strcmp(a, "--name")) {
			if (!v)
				goto bad;
			o.name = v;
		} else if (!strcmp(a, "--target-rps")) {
			if (!parse_double(v, &o.target_rps, 1e12))
				goto bad;
		} else if (!strcmp(a, "--target-ops")) {
			if (!parse_double(v, &o.target_ops, 1e12))
				goto bad;
		} else if (!strcmp(a, "--target-p99-ms")) {
			if (!parse_double(v, &o.target_p99_ms, 1e9))
				goto bad;
		} else {
			takes = false;
			if (!strcmp(a, "--follow-next")) {
				o.follow_next = true;
			} else if (!strcmp(a, "--cycle")) {
				o.cycle = true;
			} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
				o.quiet = true;
			} else if (a[0] != '-' && !o.url) {
				o.url = a;
			} else {
				v = NULL;
				goto bad;
			}
		}
		if (takes)
			i++;
		continue;
	bad:
		fprintf(stderr, "tocsin-load: bad argument: %s%s%s\n", a, v ? " " : "", v ? v : "");
		usage(stderr);
		return 2;
	}
	if (!o.url || !parse_url(o.url)) {
		fprintf(stderr, "tocsin-load: need a URL http://HOST:PORT/PATH\n");
		usage(stderr);
		return 2;
	}
	if (o.body_file && o.bodies_file) {
		fprintf(stderr, "tocsin-load: --body and --bodies exclude each other\n");
		return 2;
	}
	o.method = method ? method : (o.body_file || o.bodies_file) ? "POST" : "GET";
	if (!o.requests && !o.duration)
		o.duration = 10;
	if (!o.timeout)
		o.timeout = o.duration ? o.duration + 60 : 600;
	if (o.conns < o.threads)
		o.threads = o.conns;
	if ((o.paths_file && items_load(&paths, o.paths_file, true)) ||
	    (o.body_file && items_load(&body, o.body_file, false)) ||
	    (o.bodies_file && items_load(&bodies, o.bodies_file, true)))
		return 2;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int gai = getaddrinfo(o.host, o.port, &hints, &addr);
	if (gai) {
		fprintf(stderr, "tocsin-load: %s:%s: %s\n", o.host, o.port, gai_strerror(gai));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	struct worker *ws = calloc(o.threads, sizeof(*ws));
	struct conn *cs = calloc(o.conns, sizeof(*cs));
	if (!ws || !cs) {
		fprintf(stderr, "tocsin-load: out of memory\n");
		free(ws);
		free(cs);
		return 1;
	}
	for (unsigned t = 0; t < o.threads; t++) {
		struct worker *w = &ws[t];
		hist_init(&w->lat);
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0) {
			perror("tocsin-load: epoll_create1");
			free(ws);
			free(cs);
			return 1;
		}
		/* each worker has a contiguous share of the connections */
		w->c = cs + (size_t)t * (o.conns / o.threads) + (t < o.conns % o.threads ? t : o.conns % o.threads);
		w->nc = o.conns / o.threads + (t < o.conns % o.threads);
		w->live = w->nc;
		for (unsigned i = 0; i < w->nc; i++) {
			w->c[i].fd = -1;
			w->c[i].w = w;
		}
	}
	/* open every connection before the clock starts */
	for (unsigned i = 0; i < o.conns; i++) {
		if (conn_open(&cs[i]) < 0) {
			fprintf(stderr, "tocsin-load: connect %s:%s: %s\n", o.host, o.port, strerror(errno));
			free(ws);
			free(cs);
			return 1;
		}
	}
	t_start = now_ns();
	t_stop_issuing = t_start + (uint64_t)(o.duration * 1e9);
	t_abort = t_start + (uint64_t)(o.timeout * 1e9);
	for (unsigned t = 0; t < o.threads; t++) {
		if (pthread_create(&ws[t].tid, NULL, work, &ws[t])) {
			fprintf(stderr, "tocsin-load: cannot start a thread\n");
			return 1;
		}
	}
	struct worker tot = {0};
	hist_init(&tot.lat);
	for (unsigned t = 0; t < o.threads; t++) {
		pthread_join(ws[t].tid, NULL);
		struct worker *w = &ws[t];
		hist_merge(&tot.lat, &w->lat);
		for (int s = 0; s < 600; s++)
			tot.status[s] += w->status[s];
		tot.ok += w->ok;
		tot.bad += w->bad;
		tot.errors += w->errors;
		tot.bytes_in += w->bytes_in;
		tot.objects_out += w->objects_out;
		tot.pages_followed += w->pages_followed;
		tot.walks_done += w->walks_done;
	}
	double secs = (double)(now_ns() - t_start) / 1e9;
	if (secs <= 0)
		secs = 1e-9;

	char a[BENCH_NUM_MAX], b[BENCH_NUM_MAX];
	uint64_t done = tot.ok + tot.bad;
	double rps = (double)tot.ok / secs, ops = (double)tot.objects_out / secs;
	printf("tocsin-load: %s %s%s — %u connections, %u thread%s, %.2f s\n", o.method, o.url,
	       o.paths_file ? " (paths from a file)" : o.bodies_file ? " (bodies from a file)" : "",
	       o.conns, o.threads, o.threads == 1 ? "" : "s", secs);
	printf("requests: %s answered, %s accepted, %s req/s\n", bench_fmt(done, a), bench_fmt(tot.ok, b),
	       bench_fmt((uint64_t)(rps + 0.5), (char[BENCH_NUM_MAX]){0}));
	if (o.objects)
		printf("objects: %s in accepted requests, %s objects/s\n", bench_fmt(tot.objects_out, a),
		       bench_fmt((uint64_t)(ops + 0.5), b));
	printf("received: %.1f MB, %.1f MB/s\n", (double)tot.bytes_in / 1e6, (double)tot.bytes_in / 1e6 / secs);
	printf("status:");
	for (int s = 0; s < 600; s++)
		if (tot.status[s])
			printf(" %d×%s", s, bench_fmt(tot.status[s], a));
	if (tot.errors)
		printf(" connection-errors×%s", bench_fmt(tot.errors, a));
	printf("\n");
	printf("latency:");
	print_ms("p50", hist_quantile(&tot.lat, 0.50));
	print_ms("p90", hist_quantile(&tot.lat, 0.90));
	print_ms("p99", hist_quantile(&tot.lat, 0.99));
	print_ms("p99.9", hist_quantile(&tot.lat, 0.999));
	print_ms("max", tot.lat.count ? tot.lat.max : 0);
	printf(" mean %.3f ms\n", tot.lat.count ? tot.lat.sum / (double)tot.lat.count / 1e6 : 0.0);
	if (o.follow_next)
		printf("next-cursor walk: %s pages reached through next, %s walks to the end\n",
		       bench_fmt(tot.pages_followed, a), bench_fmt(tot.walks_done, b));
	if (!o.quiet && o.bodies_file && !o.cycle && atomic_load(&next_body) >= bodies.n &&
	    !o.requests)
		printf("note: the %zu bodies were used up before the duration ended\n", bodies.n);
	if (o.name) {
		char fig[512];
		if (o.target_rps > 0 || !(o.target_ops > 0 || o.target_p99_ms > 0)) {
			snprintf(fig, sizeof(fig), "%s", o.name);
			if (o.target_rps > 0)
				bench_verdict(fig, rps, "requests/s", o.target_rps, false);
			else
				printf("%s: %s requests/s\n", fig, bench_fmt((uint64_t)(rps + 0.5), a));
		}
		if (o.target_ops > 0) {
			snprintf(fig, sizeof(fig), "%s", o.name);
			char unit[64];
			snprintf(unit, sizeof unit, "%s/s", o.unit ? o.unit : "objects");
			bench_verdict(fig, ops, unit, o.target_ops, false);
		}
		double p99 = (double)hist_quantile(&tot.lat, 0.99) / 1e6;
		if (o.target_p99_ms > 0)
			printf("%s p99 latency: %.2f ms (p50 %.2f, p99.9 %.2f; target <= %g ms) %s\n", o.name,
			       p99, (double)hist_quantile(&tot.lat, 0.5) / 1e6,
			       (double)hist_quantile(&tot.lat, 0.999) / 1e6, o.target_p99_ms,
			       p99 <= o.target_p99_ms ? "PASS" : "BELOW");
	}
	int rc = 0;
	if (atomic_load(&timed_out)) {
		fprintf(stderr, "tocsin-load: FAILED: aborted after the %.0f s time limit\n", o.timeout);
		rc = 1;
	}
	if (tot.bad || tot.errors) {
		fprintf(stderr, "tocsin-load: FAILED: %s responses with a status not accepted, %s connection errors\n",
		        bench_fmt(tot.bad, a), bench_fmt(tot.errors, b));
		rc = 1;
	}
	if (done == 0 && !tot.errors) {
		fprintf(stderr, "tocsin-load: FAILED: no request was answered\n");
		rc = 1;
	}
	freeaddrinfo(addr);
	for (unsigned i = 0; i < o.conns; i++)
		http_resp_free(&cs[i].resp);
	for (unsigned t = 0; t < o.threads; t++)
		close(ws[t].ep);
	free(cs);
	free(ws);
	return rc;
}
