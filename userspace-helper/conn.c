// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: one TCP connection to a server.
 *
 * Names are looked up by a short-lived thread per lookup, so a resolver
 * that hangs stalls only its own port. The addresses are tried in the
 * order getaddrinfo() gives them: one attempt, and if it has not answered
 * within CONN_STAGGER_MS the next one beside it; the first to connect wins
 * (RFC 8305 style). esp_rfc2217_server listens on IPv4 only, so a name
 * that gives ::1 first still works.
 *
 * What the peer acknowledged is the bytes given to the socket minus its
 * send queue (SIOCOUTQ); TX ACK timestamps on the error queue say when to
 * look again.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#include "conn.h"

uint32_t conn_gen(void)
{
	static uint32_t gen;

	if (!++gen)
		++gen;
	return gen;
}

void conn_init(struct conn *c, int epfd, unsigned int index)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->epfd = epfd;
	c->index = index;
	c->fd = -1;
	for (i = 0; i < CONN_ATTEMPTS; i++)
		c->att[i].fd = -1;
}

static void close_fd(struct conn *c, int *fd)
{
	if (*fd >= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, *fd, NULL);
		close(*fd);
	}
	*fd = -1;
}

static void attempts_close(struct conn *c)
{
	int i;

	for (i = 0; i < CONN_ATTEMPTS; i++)
		close_fd(c, &c->att[i].fd);
}

void conn_reset(struct conn *c)
{
	attempts_close(c);
	close_fd(c, &c->fd);
	c->naddr = c->next = 0;
	c->err = 0;
	c->sent = 0;
	c->deadline = c->stagger_at = 0;
	c->resolving = 0;
	c->peer[0] = '\0';
}

/* ------------------------------------------------------------ lookups */

struct resolve_result {
	unsigned int index;
	uint32_t id;
	int err;
	int naddr;
	struct conn_addr addr[CONN_ADDRS];
	char host[256];
	char service[8];
};

static int resolver_pipe[2] = { -1, -1 };

int resolver_fd(void)
{
	if (resolver_pipe[0] < 0 &&
	    pipe2(resolver_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	return resolver_pipe[0];
}

static int gai_errno(int ret)
{
	switch (ret) {
	case 0:
		return 0;
	case EAI_SYSTEM:
		return errno ? errno : EIO;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_MEMORY:
		return ENOMEM;
	default:
		return EHOSTUNREACH;	/* no such name, no address */
	}
}

static void lookup(struct resolve_result *r, int flags)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | flags,
	};
	struct addrinfo *res, *ai;

	r->naddr = 0;
	r->err = gai_errno(getaddrinfo(r->host, r->service, &hints, &res));
	if (r->err)
		return;
	for (ai = res; ai && r->naddr < CONN_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addr[0].ss))
			continue;
		memcpy(&r->addr[r->naddr].ss, ai->ai_addr, ai->ai_addrlen);
		r->addr[r->naddr++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!r->naddr)
		r->err = EHOSTUNREACH;
}

static void *lookup_thread(void *arg)
{
	struct resolve_result *r = arg;

	lookup(r, 0);
	/* a pointer is smaller than PIPE_BUF: the write is atomic */
	if (write(resolver_pipe[1], &r, sizeof(r)) != sizeof(r))
		free(r);
	return NULL;
}

static void keep_addrs(struct conn *c, const struct resolve_result *r)
{
	memcpy(c->addr, r->addr, sizeof(r->addr[0]) * r->naddr);
	c->naddr = r->naddr;
	c->next = 0;
}

int conn_resolve(struct conn *c, const char *host, uint16_t port)
{
	static uint32_t ids;
	struct resolve_result *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (!r)
		return -ENOMEM;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->service, sizeof(r->service), "%u", port);
	r->index = c->index;
	/* an address needs no thread */
	lookup(r, AI_NUMERICHOST);
	if (!r->err) {
		keep_addrs(c, r);
		free(r);
		return 1;
	}
	if (resolver_fd() < 0) {
		free(r);
		return -errno;
	}
	r->id = ++ids ? ids : ++ids;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	err = pthread_create(&t, &attr, lookup_thread, r);
	pthread_attr_destroy(&attr);
	if (err) {
		free(r);
		return -err;
	}
	c->resolving = r->id;
	return 0;
}

struct resolve_result *resolver_read(void)
{
	struct resolve_result *r;

	if (resolver_pipe[0] < 0 ||
	    read(resolver_pipe[0], &r, sizeof(r)) != sizeof(r))
		return NULL;
	return r;
}

unsigned int resolve_result_index(const struct resolve_result *r)
{
	return r->index;
}

int conn_resolved(struct conn *c, struct resolve_result *r)
{
	int ret = 1;

	if (c->resolving && r->id == c->resolving) {
		c->resolving = 0;
		ret = -r->err;
		if (!r->err)
			keep_addrs(c, r);
	}
	free(r);
	return ret;
}

/* ------------------------------------------------------------ connecting */

static void describe(struct conn *c, const struct conn_addr *a)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)&a->ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
	}
}

static void note_err(struct conn *c, int err)
{
	/* a refusal says more than a timeout on another address */
	if (!c->err || (c->err == ETIMEDOUT && err != ETIMEDOUT))
		c->err = err;
}

static bool attempts_running(const struct conn *c)
{
	int i;

	for (i = 0; i < CONN_ATTEMPTS; i++)
		if (c->att[i].fd >= 0)
			return true;
	return false;
}

/* Start the next address; false if none is left or no slot is free. */
static bool attempt_next(struct conn *c, int64_t now)
{
	while (c->next < c->naddr) {
		const struct conn_addr *a = &c->addr[c->next];
		struct epoll_event ev = { .events = EPOLLOUT };
		int slot, fd;

		for (slot = 0; slot < CONN_ATTEMPTS; slot++)
			if (c->att[slot].fd < 0)
				break;
		if (slot == CONN_ATTEMPTS)
			return false;
		c->next++;
		fd = socket(a->ss.ss_family,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			note_err(c, errno);
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 &&
		    errno != EINPROGRESS) {
			note_err(c, errno);
			close(fd);
			continue;
		}
		c->att[slot].fd = fd;
		c->att[slot].gen = conn_gen();
		c->att[slot].addr = c->next - 1;
		ev.data.u64 = tok(TOK_SOCK, c->index, slot, c->att[slot].gen);
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
		c->stagger_at = now + CONN_STAGGER_MS;
		return true;
	}
	return false;
}

enum conn_state conn_start(struct conn *c, int64_t now)
{
	c->err = 0;
	c->deadline = now + CONN_TIMEOUT_MS;
	if (attempt_next(c, now))
		return CONN_PENDING;
	if (!c->err)
		c->err = EHOSTUNREACH;
	return CONN_FAILED;
}

static void tune(int fd)
{
	int one = 1, idle = 5, intvl = 2, cnt = 3;
	unsigned int user_timeout = 10000;
	int ts = SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE |
		 SOF_TIMESTAMPING_OPT_TSONLY | SOF_TIMESTAMPING_OPT_ID;

	/* latency matters more than segment count: esptool is round trips */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a peer that went silent is noticed within about 10 s */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
	/* wake us when the peer acknowledges a send() */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts));
}

enum conn_state conn_attempt_ready(struct conn *c, unsigned int slot,
				   uint32_t gen, int64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (slot >= CONN_ATTEMPTS || c->att[slot].fd < 0 ||
	    c->att[slot].gen != gen)
		return CONN_PENDING;	/* an event for a socket gone since */
	if (getsockopt(c->att[slot].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err) {
		/* writable and no error: connected. The others lose. */
		c->fd = c->att[slot].fd;
		c->gen = conn_gen();
		describe(c, &c->addr[c->att[slot].addr]);
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->att[slot].fd = -1;
		attempts_close(c);
		tune(c->fd);
		c->sent = 0;
		c->deadline = c->stagger_at = 0;
		{
			struct epoll_event ev = {
				.events = EPOLLIN,
				.data.u64 = tok(TOK_SOCK, c->index,
						TOK_SLOT_SOCK, c->gen),
			};

			epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->fd, &ev);
		}
		return CONN_UP;
	}
	note_err(c, err);
	close_fd(c, &c->att[slot].fd);
	/* a failure makes room for the next address at once */
	if (attempt_next(c, now) || attempts_running(c))
		return CONN_PENDING;
	return CONN_FAILED;
}

enum conn_state conn_timer(struct conn *c, int64_t now)
{
	if (c->fd >= 0 || !attempts_running(c))
		return c->fd >= 0 ? CONN_UP : CONN_PENDING;
	if (c->deadline && now >= c->deadline) {
		note_err(c, ETIMEDOUT);
		attempts_close(c);
		return CONN_FAILED;
	}
	if (c->stagger_at && now >= c->stagger_at) {
		c->stagger_at = 0;
		attempt_next(c, now);
	}
	return CONN_PENDING;
}

int64_t conn_next_timer(const struct conn *c)
{
	int64_t t = c->deadline;

	if (c->fd >= 0 || !attempts_running(c))
		return 0;
	if (c->stagger_at && c->next < c->naddr && c->stagger_at < t)
		t = c->stagger_at;
	return t;
}

/* ------------------------------------------------------------ connected */

void conn_watch(struct conn *c, bool in, bool out)
{
	struct epoll_event ev = {
		.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0),
		.data.u64 = tok(TOK_SOCK, c->index, TOK_SLOT_SOCK, c->gen),
	};

	if (c->fd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int64_t conn_acked(struct conn *c)
{
	int outq;

	if (c->fd < 0 || ioctl(c->fd, SIOCOUTQ, &outq) < 0)
		return -EBADF;
	if (outq < 0 || (uint64_t)outq > c->sent)
		return 0;
	return c->sent - outq;
}

int conn_drain_errors(struct conn *c)
{
	socklen_t len = sizeof(int);
	char ctl[256], dummy;
	int err = 0;

	for (;;) {
		struct iovec iov = { &dummy, 1 };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl, .msg_controllen = sizeof(ctl),
		};

		if (recvmsg(c->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	return err;
}

int conn_take(struct conn *c, uint32_t *gen)
{
	int fd = c->fd;

	if (fd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
	*gen = c->gen;
	c->fd = -1;
	conn_reset(c);
	return fd;
}
