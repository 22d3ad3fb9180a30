/*
 * tiny-server.c — a trivial HTTP/1.1 server to measure tocsin-load itself:
 * every request, whatever its method and path, is answered 200 with a
 * fixed body of --body-bytes bytes, on keep-alive connections, by
 * --threads epoll loops sharing one port (SO_REUSEPORT). It reads request
 * heads up to the blank line and skips Content-Length bodies, so GET and
 * POST both work; it does nothing else, so what limits a run against it is
 * the load generator and the kernel.
 *
 *   tiny-server [--port N] [--body-bytes N] [--threads N]
 *
 * Prints "listening 127.0.0.1:PORT" on stdout, then serves until killed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"

#define TINY_HEAD_MAX 16384          /* bytes of a request head */
#define TINY_BODY_MAX (64u << 20)     /* --body-bytes */
#define TINY_THREADS_MAX 64

struct tconn {
	int fd;
	char in[TINY_HEAD_MAX];
	size_t in_len;
	uint64_t skip;     /* request body bytes still to discard */
	size_t out_off;    /* bytes of the response written; 0 when idle */
	unsigned queued;   /* responses owed (pipelined requests) */
	bool want_out;
};

static char *response;
static size_t response_len;
static int port;

static int
listener(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0) {
		close(fd);
		return -1;
	}
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	return fd;
}

static void
drop(int ep, struct tconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Consumes complete request heads (and their bodies) from c->in. */
static bool
parse(struct tconn *c)
{
	for (;;) {
		char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
		if (!end)
			return c->in_len < sizeof(c->in);
		size_t head = (size_t)(end - c->in) + 4;
		uint64_t body = 0;
		for (char *p = c->in; p < end; p++) {
			if ((p == c->in || p[-1] == '\n') && (size_t)(end - p) > 15 &&
			    strncasecmp(p, "content-length:", 15) == 0) {
				body = strtoull(p + 15, NULL, 10);
				break;
			}
		}
		memmove(c->in, c->in + head, c->in_len - head);
		c->in_len -= head;
		c->queued++;
		uint64_t have = c->in_len < body ? c->in_len : body;
		memmove(c->in, c->in + have, c->in_len - have);
		c->in_len -= have;
		c->skip = body - have;
		if (c->skip)
			return true;
	}
}

/* Writes owed responses; false on a dead connection. */
static bool
flush_out(int ep, struct tconn *c)
{
	while (c->queued) {
		ssize_t w = write(c->fd, response + c->out_off, response_len - c->out_off);
		if (w < 0) {
			if (errno == EAGAIN) {
				if (!c->want_out) {
					struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
					c->want_out = true;
				}
				return true;
			}
			return errno == EINTR;
		}
		c->out_off += (size_t)w;
		if (c->out_off == response_len) {
			c->out_off = 0;
			c->queued--;
		}
	}
	if (c->want_out) {
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
		c->want_out = false;
	}
	return true;
}

static bool
readable(struct tconn *c)
{
	char skipbuf[65536];
	for (;;) {
		ssize_t n;
		if (c->skip) {
			size_t want = c->skip < sizeof(skipbuf) ? (size_t)c->skip : sizeof(skipbuf);
			n = read(c->fd, skipbuf, want);
			if (n > 0) {
				c->skip -= (uint64_t)n;
				continue;
			}
		} else {
			n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
			if (n > 0) {
				c->in_len += (size_t)n;
				if (!parse(c))
					return false;
				continue;
			}
		}
		if (n == 0)
			return false;
		return errno == EAGAIN || errno == EINTR;
	}
}

static void *
serve(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev[128];
	struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
	for (;;) {
		int n = epoll_wait(ep, ev, 128, -1);
		for (int i = 0; i < n; i++) {
			struct tconn *c = ev[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					int one = 1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct tconn *nc = calloc(1, sizeof(*nc));
					if (!nc) {
						close(fd);
						continue;
					}
					nc->fd = fd;
					struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			bool ok = true;
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				ok = readable(c);
			if (ok)
				ok = flush_out(ep, c);
			if (!ok)
				drop(ep, c);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	uint64_t body = 100, threads = 1, p = 0;
	for (int i = 1; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t *dst = !strcmp(argv[i], "--port")         ? &p
		                : !strcmp(argv[i], "--body-bytes") ? &body
		                : !strcmp(argv[i], "--threads")    ? &threads
		                                                   : NULL;
		if (!dst || !v || !bench_parse_count(v, dst)) {
			fprintf(stderr, "usage: tiny-server [--port N] [--body-bytes N] [--threads N]\n");
			return 2;
		}
	}
	if (p > 65535 || body > TINY_BODY_MAX || threads == 0 || threads > TINY_THREADS_MAX) {
		fprintf(stderr, "tiny-server: value out of range\n");
		return 2;
	}
	port = (int)p;
	char head[128];
	int hl = snprintf(head, sizeof(head),
	                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %llu\r\n\r\n",
	                  (unsigned long long)body);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return 1;
	response_len = (size_t)hl + body;
	response = malloc(response_len);
	if (!response)
		return 1;
	memcpy(response, head, (size_t)hl);
	memset(response + hl, 'x', body);
	signal(SIGPIPE, SIG_IGN);
	int first = listener();
	if (first < 0) {
		perror("tiny-server: listen");
		return 1;
	}
	printf("listening 127.0.0.1:%d\n", port);
	fflush(stdout);
	pthread_t t;
	for (uint64_t k = 1; k < threads; k++) {
		int fd = listener();
		if (fd < 0 || pthread_create(&t, NULL, serve, (void *)(intptr_t)fd)) {
			perror("tiny-server: thread");
			return 1;
		}
	}
	serve((void *)(intptr_t)first);
	return 0;
}
