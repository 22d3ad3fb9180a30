/*
 * tocsin-stream-load — publish -> stream event latency (bench/http/
 * bench_stream.py runs it): opens N stream clients on GET /api/v1/stream,
 * then POSTs M indicators one after the other (at a fixed rate, or each as
 * soon as the previous one is acknowledged) on one kept-alive connection,
 * and records when each client reads each event.
 *
 *   tocsin-stream-load HOST PORT KEY COLLECTION_ID CLIENTS PUBLISHES RATE FIRST
 *
 * One thread reads every stream socket with epoll, undoes the chunked
 * framing and finds the indicator's name ("bench-I") in the events; the
 * main thread publishes. Prints one line:
 *   clients N publishes M: ack->event p50 A p99 B max C ms; send->event p50 D
 *   p99 E max F ms; lost L of T
 * An event not read within 10 s of the last publish is lost. Exit 0 when
 * it ran, 1 on a failure (a refused stream, a POST not accepted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_resp.h"

#define PATTERN "\"name\":\"bench-"
#define PATLEN (sizeof PATTERN - 1)
#define TAIL 40               /* bytes kept between reads: a pattern and its digits */
#define LOST_AFTER_NS 10000000000ull

struct conn {
	int fd;
	int state;                /* 0 size line, 1 data, 2 CRLF after data */
	uint64_t left;            /* bytes left in the chunk (state 1), or of the CRLF */
	char tail[TAIL];
	size_t ntail;
	uint64_t *arr;            /* arrival time (ns) per publish, 0 = not yet */
};

static struct conn *conns;
static size_t nconns, npub;
static uint64_t first;
static atomic_bool stop;
static _Atomic uint64_t seen_total;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
dial(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Finds the names in decoded bytes p[0..n), with c->tail before them. */
static void
scan(struct conn *c, const char *p, size_t n, uint64_t t)
{
	char buf[TAIL + 65536];
	size_t len = 0;
	while (n) {
		size_t take = n < 65536 ? n : 65536;
		memcpy(buf, c->tail, c->ntail);
		memcpy(buf + c->ntail, p, take);
		len = c->ntail + take;
		p += take;
		n -= take;
		size_t i = 0;
		while (i + PATLEN < len) {
			char *hit = memmem(buf + i, len - i, PATTERN, PATLEN);
			if (!hit)
				break;
			size_t at = (size_t)(hit - buf) + PATLEN, k = at;
			uint64_t v = 0;
			while (k < len && buf[k] >= '0' && buf[k] <= '9')
				v = v * 10 + (uint64_t)(buf[k++] - '0');
			if (k == len) { /* the digits may go on in the next read */
				i = (size_t)(hit - buf);
				break;
			}
			if (k > at && buf[k] == '"' && v >= first && v < first + npub) {
				uint64_t *slot = &c->arr[v - first];
				if (!*slot) {
					*slot = t;
					atomic_fetch_add(&seen_total, 1);
				}
			}
			i = k;
		}
		/* keep what may hold the start of a pattern */
		size_t keep = len - i < TAIL ? len - i : TAIL;
		if (i < len - keep)
			i = len - keep;
		c->ntail = len - i;
		memmove(c->tail, buf + i, c->ntail);
	}
}

/* Undoes the chunked framing of raw bytes and scans the data. */
static void
dechunk(struct conn *c, const char *p, size_t n, uint64_t t)
{
	while (n) {
		if (c->state == 0) {
			char ch = *p++;
			n--;
			if (ch == '\n') {
				c->state = c->left ? 1 : 2;
				if (!c->left)
					c->left = 0; /* last chunk: the stream ended */
			} else if (ch >= '0' && ch <= '9') {
				c->left = c->left * 16 + (uint64_t)(ch - '0');
			} else if ((ch | 32) >= 'a' && (ch | 32) <= 'f') {
				c->left = c->left * 16 + (uint64_t)((ch | 32) - 'a' + 10);
			}
		} else if (c->state == 1) {
			size_t k = n < c->left ? n : (size_t)c->left;
			scan(c, p, k, t);
			p += k;
			n -= k;
			c->left -= k;
			if (!c->left) {
				c->state = 2;
				c->left = 2;
			}
		} else {
			size_t k = n < c->left ? n : (size_t)c->left;
			p += k;
			n -= k;
			c->left -= k;
			if (!c->left)
				c->state = 0;
		}
	}
}

static void *
reader(void *arg)
{
	int ep = *(int *)arg;
	struct epoll_event evs[256];
	static char buf[1 << 16];
	while (!atomic_load(&stop)) {
		int n = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			for (;;) {
				ssize_t r = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
				if (r > 0) {
					/* the clock after each read: a reading of it per batch
					 * of sockets would date late reads early */
					dechunk(c, buf, (size_t)r, now_ns());
					continue;
				}
				if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				}
				break;
			}
		}
	}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double
pct(const uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)((double)n * p / 100.0);
	return (double)v[i < n ? i : n - 1] / 1e6;
}

int
main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: tocsin-stream-load HOST PORT KEY COLLECTION_ID CLIENTS "
		                "PUBLISHES RATE FIRST\n");
		return 2;
	}
	const char *host = argv[1], *key = argv[3], *coll = argv[4];
	int port = atoi(argv[2]);
	nconns = (size_t)strtoul(argv[5], NULL, 10);
	npub = (size_t)strtoul(argv[6], NULL, 10);
	double rate = strtod(argv[7], NULL);
	first = strtoull(argv[8], NULL, 10);
	if (!nconns || !npub)
		return 2;
	conns = calloc(nconns, sizeof *conns);
	uint64_t *sent = calloc(npub, sizeof *sent), *acked = calloc(npub, sizeof *acked);
	if (!conns || !sent || !acked)
		return 1;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char req[1024];
	int rl = snprintf(req, sizeof req,
	                  "GET /api/v1/stream?view=stix HTTP/1.1\r\nHost: hub\r\n"
	                  "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
	                  key);
	for (size_t i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		c->arr = calloc(npub, sizeof *c->arr);
		c->fd = dial(host, port);
		if (!c->arr || c->fd < 0 || send_all(c->fd, req, (size_t)rl)) {
			fprintf(stderr, "stream %zu: cannot connect\n", i);
			return 1;
		}
		/* the header, byte by byte: the body's first bytes stay in the socket */
		char h[4096];
		size_t hl = 0;
		while (hl < sizeof h - 1 && !(hl >= 4 && memcmp(h + hl - 4, "\r\n\r\n", 4) == 0)) {
			ssize_t r = recv(c->fd, h + hl, 1, 0);
			if (r <= 0) {
				fprintf(stderr, "stream %zu: closed before its header\n", i);
				return 1;
			}
			hl++;
		}
		h[hl] = '\0';
		if (strncmp(h, "HTTP/1.1 200", 12) != 0) {
			fprintf(stderr, "stream %zu refused: %.60s\n", i, h);
			return 1;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	pthread_t th;
	pthread_create(&th, NULL, reader, &ep);
	usleep(300000);

	int pfd = dial(host, port);
	if (pfd < 0) {
		fprintf(stderr, "publisher: cannot connect\n");
		return 1;
	}
	struct http_resp hr;
	memset(&hr, 0, sizeof hr);
	char body[2048], head[1024], rbuf[16384];
	uint64_t period = rate > 0 ? (uint64_t)(1e9 / rate) : 0, next = now_ns();
	for (size_t i = 0; i < npub; i++) {
		uint64_t n = first + i;
		int bl = snprintf(body, sizeof body,
		                  "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
		                  "\"id\":\"indicator--%08llx-0000-4000-8000-%012llx\","
		                  "\"created\":\"2024-01-01T00:00:00.000Z\","
		                  "\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"bench-%llu\","
		                  "\"pattern\":\"[ipv4-addr:value = '10.%llu.%llu.%llu']\","
		                  "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00.000Z\"}]}",
		                  (unsigned long long)(now_ns() & 0xffffffffu), (unsigned long long)n,
		                  (unsigned long long)n, (unsigned long long)(n / 62500 % 250 + 1),
		                  (unsigned long long)(n / 250 % 250 + 1),
		                  (unsigned long long)(n % 250 + 1));
		int hl = snprintf(head, sizeof head,
		                  "POST /taxii2/hub/collections/%s/objects/ HTTP/1.1\r\nHost: hub\r\n"
		                  "Authorization: Bearer %s\r\n"
		                  "Accept: application/taxii+json;version=2.1\r\n"
		                  "Content-Type: application/taxii+json;version=2.1\r\n"
		                  "Content-Length: %d\r\n\r\n",
		                  coll, key, bl);
		if (period) {
			uint64_t t = now_ns();
			if (next > t)
				usleep((useconds_t)((next - t) / 1000));
			next += period;
		}
		sent[i] = now_ns();
		if (send_all(pfd, head, (size_t)hl) || send_all(pfd, body, (size_t)bl)) {
			fprintf(stderr, "publish %zu: send failed\n", i);
			return 1;
		}
		http_resp_reset(&hr, 4096);
		while (!hr.done) {
			ssize_t r = recv(pfd, rbuf, sizeof rbuf, 0);
			if (r <= 0 || http_resp_feed(&hr, rbuf, (size_t)r) < 0) {
				fprintf(stderr, "publish %zu: no answer\n", i);
				return 1;
			}
		}
		acked[i] = now_ns();
		if (hr.status != 202 || !hr.body || !strstr(hr.body, "\"success_count\":1")) {
			fprintf(stderr, "publish %zu: %d %.200s\n", i, hr.status, hr.body ? hr.body : "");
			return 1;
		}
	}
	uint64_t want = (uint64_t)nconns * npub, until = now_ns() + LOST_AFTER_NS;
	while (atomic_load(&seen_total) < want && now_ns() < until)
		usleep(10000);
	atomic_store(&stop, true);
	pthread_join(th, NULL);

	uint64_t *a = malloc(want * sizeof *a), *s = malloc(want * sizeof *s);
	size_t na = 0;
	for (size_t c = 0; c < nconns; c++)
		for (size_t i = 0; i < npub; i++) {
			uint64_t t = conns[c].arr[i];
			if (!t)
				continue;
			a[na] = t > acked[i] ? t - acked[i] : 0;
			s[na] = t - sent[i];
			na++;
		}
	qsort(a, na, sizeof *a, cmp_u64);
	qsort(s, na, sizeof *s, cmp_u64);
	printf("clients %zu publishes %zu: ack->event p50 %.2f p99 %.2f max %.2f ms; send->event "
	       "p50 %.2f p99 %.2f max %.2f ms; lost %llu of %llu\n",
	       nconns, npub, pct(a, na, 50), pct(a, na, 99), na ? (double)a[na - 1] / 1e6 : 0,
	       pct(s, na, 50), pct(s, na, 99), na ? (double)s[na - 1] / 1e6 : 0,
	       (unsigned long long)(want - na), (unsigned long long)want);
	http_resp_free(&hr);
	return 0;
}
