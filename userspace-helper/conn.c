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
 * An mDNS port's service is looked up the same way, by a thread that asks
 * avahi-daemon (mdns.c), again for every connection: a board that moved to
 * another Pi, or got a new lease, is found where it is now.
 *
 * A TLS port's connection is up once the handshake on the first socket to
 * connect is done (tls.c); a certificate that fails verification fails the
 * connection, without trying the other addresses.
 *
 * What the peer acknowledged is the bytes given to the socket minus its
 * send queue (SIOCOUTQ); TX ACK timestamps on the error queue say when to
 * look again. Through TLS, that is ciphertext: tls.c maps it back to the
 * plaintext the session counts.
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
#include "mdns.h"

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
	c->hs_slot = -1;
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
	tls_free(c->hs);
	c->hs = NULL;
	c->hs_slot = -1;
}

void conn_reset(struct conn *c)
{
	attempts_close(c);
	close_fd(c, &c->fd);
	tls_free(c->tls);
	c->tls = NULL;
	c->naddr = c->next = 0;
	c->err = 0;
	c->sent = 0;
	c->deadline = c->stagger_at = 0;
	c->resolving = 0;
	c->peer[0] = '\0';
	c->name[0] = '\0';
	c->why[0] = '\0';
	c->why_err = 0;
	c->received = 0;
}

/* ------------------------------------------------------------ lookups */

struct resolve_result {
	unsigned int index;
	uint32_t id;
	int err;
	int naddr;
	struct conn_addr addr[CONN_ADDRS];
	char host[256];			/* a name, or an mDNS service */
	char service[8];
	bool mdns;
	char found[256];		/* mDNS: the host the service is on */
	char why[CONN_WHY_MAX];
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

static void lookup_mdns(struct resolve_result *r)
{
	struct mdns_service s;
	int i, ret;

	r->naddr = 0;
	ret = mdns_resolve(r->host, MDNS_RESOLVE_MS, &s, r->why,
			   sizeof(r->why));
	r->err = -ret;
	if (ret)
		return;
	for (i = 0; i < s.naddr && r->naddr < CONN_ADDRS; i++) {
		memcpy(&r->addr[r->naddr].ss, &s.ss[i], s.sslen[i]);
		r->addr[r->naddr++].len = s.sslen[i];
	}
	/* "pi1.local." and "pi1.local" are the same name */
	snprintf(r->found, sizeof(r->found), "%s", s.host);
	if (*r->found && r->found[strlen(r->found) - 1] == '.')
		r->found[strlen(r->found) - 1] = '\0';
	if (!r->naddr) {
		r->err = EHOSTUNREACH;
		snprintf(r->why, sizeof(r->why),
			 "mDNS: service \"%s\" has no address", r->host);
	}
}

static void *lookup_thread(void *arg)
{
	struct resolve_result *r = arg;

	if (r->mdns)
		lookup_mdns(r);
	else
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

static int start_lookup(struct conn *c, struct resolve_result *r)
{
	static uint32_t ids;
	pthread_attr_t attr;
	pthread_t t;
	int err;

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

int conn_resolve(struct conn *c, const char *host, uint16_t port)
{
	struct resolve_result *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->service, sizeof(r->service), "%u", port);
	snprintf(c->name, sizeof(c->name), "%s", host);
	r->index = c->index;
	/* an address needs no thread */
	lookup(r, AI_NUMERICHOST);
	if (!r->err) {
		keep_addrs(c, r);
		free(r);
		return 1;
	}
	return start_lookup(c, r);
}

int conn_resolve_mdns(struct conn *c, const char *name)
{
	struct resolve_result *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	snprintf(r->host, sizeof(r->host), "%s", name);
	r->mdns = true;
	r->index = c->index;
	c->name[0] = '\0';
	return start_lookup(c, r);
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
		snprintf(c->why, sizeof(c->why), "%s", r->why);
		c->why_err = r->err;
		if (!r->err)
			keep_addrs(c, r);
		if (r->mdns)
			snprintf(c->name, sizeof(c->name), "%s", r->found);
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
	if (c->hs_slot >= 0)
		return false;	/* connected; the TLS handshake runs */
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
	c->why[0] = '\0';
	c->why_err = 0;
	c->deadline = now + CONN_TIMEOUT_MS;
	if (attempt_next(c, now))
		return CONN_PENDING;
	if (!c->err)
		c->err = EHOSTUNREACH;
	return CONN_FAILED;
}

static void tune(int fd)
{
	/* idle: 4 s + 4 unanswered 1 s probes; busy: 7 s without an ACK */
	int one = 1, idle = 4, intvl = 1, cnt = 4;
	unsigned int user_timeout = 7000;
	int ts = SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE |
		 SOF_TIMESTAMPING_OPT_TSONLY | SOF_TIMESTAMPING_OPT_ID;

	/* latency matters more than segment count: esptool is round trips */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* a peer that went silent is noticed within 10 s, with room to spare */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
	/* wake us when the peer acknowledges a send() */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts, sizeof(ts));
}

/* The socket of attempt @slot is the connection now. */
static void promote(struct conn *c, int slot)
{
	struct epoll_event ev = { .events = EPOLLIN };

	c->fd = c->att[slot].fd;
	c->gen = conn_gen();
	describe(c, &c->addr[c->att[slot].addr]);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->att[slot].fd = -1;
	c->tls = c->hs;
	c->hs = NULL;
	attempts_close(c);
	c->sent = c->received = 0;
	c->deadline = c->stagger_at = 0;
	ev.data.u64 = tok(TOK_SOCK, c->index, TOK_SLOT_SOCK, c->gen);
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* A TLS failure: the same certificate on every address, so give up. */
static enum conn_state tls_failed(struct conn *c, int err)
{
	c->err = c->why_err = err;
	attempts_close(c);
	return CONN_FAILED;
}

/* One step of attempt @slot's handshake. */
static enum conn_state handshake(struct conn *c, int slot)
{
	struct epoll_event ev = { 0 };
	bool want_out;
	int ret;

	ret = tls_handshake(c->hs, &want_out, c->why, sizeof(c->why));
	if (ret < 0)
		return tls_failed(c, -ret);
	if (ret == 1) {
		promote(c, slot);
		return CONN_UP;
	}
	ev.events = want_out ? EPOLLOUT : EPOLLIN;
	ev.data.u64 = tok(TOK_SOCK, c->index, slot, c->att[slot].gen);
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->att[slot].fd, &ev);
	return CONN_PENDING;
}

/* Attempt @slot connected: start TLS on it, the others lose. */
static enum conn_state tls_start(struct conn *c, int slot, int64_t now)
{
	int i, err;

	for (i = 0; i < CONN_ATTEMPTS; i++)
		if (i != slot)
			close_fd(c, &c->att[i].fd);
	describe(c, &c->addr[c->att[slot].addr]);
	c->hs = tls_new(c->att[slot].fd, c->tls_cfg,
			*c->name ? c->name : c->peer, &err, c->why,
			sizeof(c->why));
	if (!c->hs)
		return tls_failed(c, err);
	c->hs_slot = slot;
	c->stagger_at = 0;
	/* the handshake has a deadline of its own */
	c->deadline = now + CONN_TLS_TIMEOUT_MS;
	return handshake(c, slot);
}

enum conn_state conn_attempt_ready(struct conn *c, unsigned int slot,
				   uint32_t gen, int64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (slot >= CONN_ATTEMPTS || c->att[slot].fd < 0 ||
	    c->att[slot].gen != gen)
		return CONN_PENDING;	/* an event for a socket gone since */
	if (c->hs_slot == (int)slot)
		return handshake(c, slot);
	if (getsockopt(c->att[slot].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err) {
		/* writable and no error: connected. The others lose. */
		tune(c->att[slot].fd);
		if (c->tls_cfg)
			return tls_start(c, slot, now);
		promote(c, slot);
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
		if (c->hs_slot >= 0) {
			snprintf(c->why, sizeof(c->why),
				 "TLS: no handshake with %s within %d s",
				 c->peer, CONN_TLS_TIMEOUT_MS / 1000);
			return tls_failed(c, ETIMEDOUT);
		}
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
		.data.u64 = tok(TOK_SOCK, c->index, TOK_SLOT_SOCK, c->gen),
	};

	/* TLS may have to write to go on reading (a key update) */
	if (c->tls && tls_wants_out(c->tls))
		out = true;
	ev.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
	if (c->fd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

ssize_t conn_send(struct conn *c, const void *buf, size_t n)
{
	ssize_t ret;

	if (c->tls) {
		ret = tls_send(c->tls, buf, n);
		if (ret < 0 && *tls_why(c->tls)) {
			c->why_err = errno;
			snprintf(c->why, sizeof(c->why), "%s",
				 tls_why(c->tls));
		}
	} else {
		ret = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (ret > 0)
		c->sent += ret;
	return ret;
}

ssize_t conn_recv(struct conn *c, void *buf, size_t n)
{
	ssize_t ret;

	if (c->tls) {
		ret = tls_recv(c->tls, buf, n);
		if (ret < 0 && *tls_why(c->tls)) {
			c->why_err = errno;
			snprintf(c->why, sizeof(c->why), "%s",
				 tls_why(c->tls));
		}
	} else {
		ret = recv(c->fd, buf, n, MSG_DONTWAIT);
	}
	if (ret > 0)
		c->received += ret;
	return ret;
}

bool conn_pending(const struct conn *c)
{
	return c->tls && c->fd >= 0 && tls_pending(c->tls);
}

const char *conn_why(const struct conn *c)
{
	return *c->why ? c->why : NULL;
}

int conn_why_err(const struct conn *c)
{
	return c->why_err;
}

int conn_unacked(const struct conn *c)
{
	int outq;

	if (c->fd < 0 || ioctl(c->fd, SIOCOUTQ, &outq) < 0)
		return -1;
	return outq;
}

int64_t conn_acked(struct conn *c)
{
	uint64_t wire;
	int outq = conn_unacked(c);

	if (outq < 0)
		return -EBADF;
	if (c->tls) {
		/* ciphertext acknowledged, as the plaintext it carries */
		wire = tls_wire_written(c->tls);
		wire = (uint64_t)outq > wire ? 0 : wire - outq;
		return tls_plain_acked(c->tls, wire);
	}
	if ((uint64_t)outq > c->sent)
		return 0;
	return c->sent - outq;
}

int conn_drain_errors(struct conn *c)
{
	struct mmsghdr mm[8];
	char ctl[8][128], dummy[8];
	struct iovec iov[8];
	socklen_t len = sizeof(int);
	int err = 0, n, got = 0;

	/* ACK timestamps, several per call; at most one call that finds none */
	do {
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < 8; i++) {
			iov[i] = (struct iovec){ &dummy[i], 1 };
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = ctl[i];
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(c->fd, mm, 8, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (n > 0)
			got += n;
	} while (n == 8);
	/*
	 * Only timestamps: the socket is fine. An error set beside them
	 * keeps EPOLLERR up, and the next call, finding none, reads it.
	 */
	if (got)
		return 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	return err;
}

int conn_shutdown(struct conn *c)
{
	if (c->tls) {
		int ret = tls_shutdown(c->tls);

		if (ret <= 0)
			return ret;
	}
	return shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN ? -1 : 1;
}

void conn_move(struct conn *to, struct conn *from)
{
	if (from->fd >= 0)
		epoll_ctl(from->epfd, EPOLL_CTL_DEL, from->fd, NULL);
	*to = *from;
	/* @from keeps nothing of the connection */
	from->fd = -1;
	from->tls = NULL;
	conn_reset(from);
	/* @to is the connection alone: no attempts, no lookup */
	to->hs = NULL;
	to->hs_slot = -1;
	to->resolving = 0;
	for (int i = 0; i < CONN_ATTEMPTS; i++)
		to->att[i].fd = -1;
}

void conn_describe(const struct conn *c, char *buf, size_t len)
{
	struct tls_info ti;
	size_t n;

	n = snprintf(buf, len, "peer=%s\nname=%s\n", c->peer, c->name);
	if (!c->tls || n >= len)
		return;
	tls_describe(c->tls, &ti);
	snprintf(buf + n, len - n,
		 "tls_protocol=%s\ntls_cipher=%s\ntls_verified_name=%s\n"
		 "tls_subject=%s\ntls_issuer=%s\ntls_not_after=%s\n",
		 ti.protocol, ti.cipher, ti.name, ti.subject, ti.issuer,
		 ti.not_after);
}
