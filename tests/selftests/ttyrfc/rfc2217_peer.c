// SPDX-License-Identifier: GPL-2.0
/*
 * The board side of a ttyrfc port for the selftests; see rfc2217_peer.h.
 *
 * Telnet, as a server: WILL COM-PORT-OPTION is answered DO, BINARY is
 * accepted both ways, other options are refused, and no (verb, option) is
 * answered twice, so two peers can never loop. IAC IAC is undone in data
 * and inside subnegotiations. One client at a time: a new connection ends
 * the old one, as with ser2net's kickolduser.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rfc2217_peer.h"

enum req_op { REQ_SEND, REQ_DROP, REQ_REFUSE, REQ_PAUSE, REQ_STOP };

enum parse_state { ST_DATA, ST_IAC, ST_OPT, ST_SB, ST_SBIAC };

struct peer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* a new event, or a request done */
	int wake;		/* eventfd: a request is waiting */
	unsigned int flags;
	uint16_t port;

	/* owned by the peer thread */
	int lfd;		/* listening socket, -1 while refusing */
	int cfd;		/* the client, -1 without one */
	bool paused;
	unsigned int nread;
	size_t off;
	uint8_t rbuf[65536];
	enum parse_state st;
	uint8_t verb;
	uint8_t sb[2 + PEER_VAL_MAX];
	size_t sb_len;
	bool answered[4][256];

	/* the request slot, under lock */
	bool req_busy, req_done;
	enum req_op op;
	const uint8_t *req_buf;
	size_t req_len;
	bool req_arg;
	int req_ret;

	/* the log, under lock */
	unsigned int nconn;
	struct peer_event *ev;
	size_t nev, cap;
};

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Under lock. Events are appended only; a failed allocation drops one. */
static void record(struct peer *p, const struct peer_event *e)
{
	if (p->nev == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct peer_event *n = realloc(p->ev, cap * sizeof(*n));

		if (!n)
			return;
		p->ev = n;
		p->cap = cap;
	}
	p->ev[p->nev++] = *e;
	pthread_cond_broadcast(&p->cond);
}

static void record_simple(struct peer *p, enum peer_ev_type type)
{
	struct peer_event e = {
		.type = type, .conn = p->nconn, .read = p->nread,
		.off = p->off,
	};

	now(&e.ts);
	record(p, &e);
}

static int send_all(int fd, const uint8_t *b, size_t n)
{
	while (n) {
		ssize_t r = send(fd, b, n, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= r;
	}
	return 0;
}

static int listen_on(struct peer *p)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(p->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(a);
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (p->flags & PEER_SMALLBUF) {
		int size = 4096;	/* inherited by accepted sockets */

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		int err = -errno;

		close(fd);
		return err;
	}
	p->port = ntohs(a.sin_port);
	p->lfd = fd;
	return 0;
}

static void client_close(struct peer *p)
{
	if (p->cfd < 0)
		return;
	close(p->cfd);
	p->cfd = -1;
	pthread_mutex_lock(&p->lock);
	record_simple(p, PEER_EV_CLOSE);
	pthread_mutex_unlock(&p->lock);
}

static void client_accept(struct peer *p)
{
	int one = 1;
	int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	client_close(p);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->cfd = fd;
	p->nread = 0;
	p->off = 0;
	p->st = ST_DATA;
	memset(p->answered, 0, sizeof(p->answered));
	pthread_mutex_lock(&p->lock);
	p->nconn++;
	record_simple(p, PEER_EV_CONN);
	pthread_mutex_unlock(&p->lock);
}

static void negotiate(struct peer *p, uint8_t verb, uint8_t opt)
{
	bool want = opt == TNOPT_COMPORT || opt == TNOPT_BINARY;
	uint8_t ans[3] = { TN_IAC, 0, opt };

	if (p->flags & PEER_MUTE)
		return;
	switch (verb) {
	case TN_WILL:
		ans[1] = want ? TN_DO : TN_DONT;
		break;
	case TN_DO:
		/* we offer BINARY only; COM-PORT-OPTION is the client's */
		ans[1] = opt == TNOPT_BINARY ? TN_WILL : TN_WONT;
		break;
	case TN_WONT:
		ans[1] = TN_DONT;
		break;
	default:
		ans[1] = TN_WONT;
		break;
	}
	if (p->answered[verb - TN_WILL][opt])
		return;
	p->answered[verb - TN_WILL][opt] = true;
	send_all(p->cfd, ans, sizeof(ans));
}

struct run {
	uint8_t *buf;
	size_t len;
	size_t esc;
};

/* Under lock: the data run so far becomes one event. */
static void flush_run(struct peer *p, struct run *r,
		      const struct timespec *ts)
{
	struct peer_event e = {
		.type = PEER_EV_DATA, .conn = p->nconn, .read = p->nread,
		.ts = *ts, .off = p->off, .len = r->len,
		.escaped_ff = r->esc,
	};
	uint8_t *copy;

	if (!r->len)
		return;
	copy = malloc(r->len);
	if (copy) {
		memcpy(copy, r->buf, r->len);
		e.data = copy;
		record(p, &e);
	}
	p->off += r->len;
	r->len = 0;
	r->esc = 0;
}

static void sb_end(struct peer *p, struct run *r, const struct timespec *ts)
{
	struct peer_event e = {
		.type = PEER_EV_CMD, .conn = p->nconn, .read = p->nread,
		.ts = *ts,
	};

	if (p->sb_len < 2 || p->sb[0] != TNOPT_COMPORT)
		return;
	flush_run(p, r, ts);
	e.off = p->off;
	e.cmd = p->sb[1];
	e.val_len = p->sb_len - 2;
	memcpy(e.val, p->sb + 2, e.val_len < PEER_VAL_MAX ?
	       e.val_len : PEER_VAL_MAX);
	record(p, &e);
}

static void sb_put(struct peer *p, uint8_t b)
{
	/* keep counting past the end so val_len tells the real length */
	if (p->sb_len < sizeof(p->sb))
		p->sb[p->sb_len] = b;
	p->sb_len++;
}

/* One recv()'s worth of bytes, under lock. */
static void parse(struct peer *p, const uint8_t *b, size_t n,
		  const struct timespec *ts)
{
	struct run r = { .buf = malloc(n ? n : 1) };
	size_t i;

	if (!r.buf)
		return;
	if (p->flags & PEER_RAW) {
		memcpy(r.buf, b, n);
		r.len = n;
		flush_run(p, &r, ts);
		free(r.buf);
		return;
	}
	for (i = 0; i < n; i++) {
		uint8_t c = b[i];

		switch (p->st) {
		case ST_DATA:
			if (c == TN_IAC)
				p->st = ST_IAC;
			else
				r.buf[r.len++] = c;
			break;
		case ST_IAC:
			p->st = ST_DATA;
			if (c == TN_IAC) {
				r.buf[r.len++] = c;
				r.esc++;
			} else if (c >= TN_WILL) {
				p->verb = c;
				p->st = ST_OPT;
			} else if (c == TN_SB) {
				p->sb_len = 0;
				p->st = ST_SB;
			}
			/* NOP, GA, ... are ignored */
			break;
		case ST_OPT:
			negotiate(p, p->verb, c);
			p->st = ST_DATA;
			break;
		case ST_SB:
			if (c == TN_IAC)
				p->st = ST_SBIAC;
			else
				sb_put(p, c);
			break;
		case ST_SBIAC:
			if (c == TN_IAC) {
				sb_put(p, c);
				p->st = ST_SB;
			} else {
				/* SE, or anything else, ends it */
				sb_end(p, &r, ts);
				p->st = ST_DATA;
			}
			break;
		}
	}
	flush_run(p, &r, ts);
	free(r.buf);
}

static void client_read(struct peer *p)
{
	struct timespec ts;
	ssize_t n = recv(p->cfd, p->rbuf, sizeof(p->rbuf), 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_close(p);
		return;
	}
	now(&ts);
	pthread_mutex_lock(&p->lock);
	parse(p, p->rbuf, n, &ts);
	pthread_mutex_unlock(&p->lock);
	p->nread++;
}

/* The escaped form of @b, in @out (room for 2 * @n). */
static size_t escape(uint8_t *out, const uint8_t *b, size_t n, bool raw)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		out[o++] = b[i];
		if (b[i] == TN_IAC && !raw)
			out[o++] = TN_IAC;
	}
	return o;
}

/* Under lock, in the peer thread. */
static int do_request(struct peer *p)
{
	int ret;

	switch (p->op) {
	case REQ_SEND:
		if (p->cfd < 0)
			return -ENOTCONN;
		return send_all(p->cfd, p->req_buf, p->req_len);
	case REQ_DROP:
		if (p->cfd < 0)
			return -ENOTCONN;
		pthread_mutex_unlock(&p->lock);
		client_close(p);
		pthread_mutex_lock(&p->lock);
		return 0;
	case REQ_REFUSE:
		if (p->req_arg && p->lfd >= 0) {
			close(p->lfd);
			p->lfd = -1;
		} else if (!p->req_arg && p->lfd < 0) {
			ret = listen_on(p);
			if (ret)
				return ret;
		}
		return 0;
	case REQ_PAUSE:
		p->paused = p->req_arg;
		return 0;
	case REQ_STOP:
		return 0;
	}
	return -EINVAL;
}

static void *peer_thread(void *arg)
{
	struct peer *p = arg;
	bool stop = false;

	while (!stop) {
		struct pollfd pfd[3] = { { .fd = p->wake, .events = POLLIN } };
		int n = 1, il = -1, ic = -1;
		uint64_t v;

		if (p->lfd >= 0) {
			il = n;
			pfd[n++] = (struct pollfd){ p->lfd, POLLIN, 0 };
		}
		if (p->cfd >= 0 && !p->paused) {
			ic = n;
			pfd[n++] = (struct pollfd){ p->cfd, POLLIN, 0 };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (ic >= 0 && pfd[ic].revents)
			client_read(p);
		if (il >= 0 && pfd[il].revents && p->lfd >= 0)
			client_accept(p);
		if (!(pfd[0].revents & POLLIN) ||
		    read(p->wake, &v, sizeof(v)) != sizeof(v))
			continue;
		pthread_mutex_lock(&p->lock);
		if (p->req_busy && !p->req_done) {
			p->req_ret = do_request(p);
			stop = p->op == REQ_STOP;
			p->req_done = true;
			pthread_cond_broadcast(&p->cond);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

static int request(struct peer *p, enum req_op op, const uint8_t *buf,
		   size_t len, bool arg)
{
	uint64_t one = 1;
	int ret;

	pthread_mutex_lock(&p->lock);
	while (p->req_busy)
		pthread_cond_wait(&p->cond, &p->lock);
	p->req_busy = true;
	p->req_done = false;
	p->op = op;
	p->req_buf = buf;
	p->req_len = len;
	p->req_arg = arg;
	if (write(p->wake, &one, sizeof(one)) != sizeof(one)) {
		p->req_busy = false;
		pthread_mutex_unlock(&p->lock);
		return -EIO;
	}
	while (!p->req_done)
		pthread_cond_wait(&p->cond, &p->lock);
	ret = p->req_ret;
	p->req_busy = false;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

struct peer *peer_start(unsigned int flags)
{
	struct peer *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int err;

	if (!p)
		return NULL;
	p->flags = flags;
	p->lfd = p->cfd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->wake = eventfd(0, EFD_CLOEXEC);
	err = p->wake < 0 ? -errno : listen_on(p);
	if (!err)
		err = -pthread_create(&p->thread, NULL, peer_thread, p);
	if (err) {
		if (p->lfd >= 0)
			close(p->lfd);
		if (p->wake >= 0)
			close(p->wake);
		free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

void peer_stop(struct peer *p)
{
	size_t i;

	if (!p)
		return;
	request(p, REQ_STOP, NULL, 0, false);
	pthread_join(p->thread, NULL);
	if (p->cfd >= 0)
		close(p->cfd);
	if (p->lfd >= 0)
		close(p->lfd);
	close(p->wake);
	for (i = 0; i < p->nev; i++)
		free((void *)p->ev[i].data);
	free(p->ev);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

uint16_t peer_port(const struct peer *p)
{
	return p->port;
}

int peer_send_data(struct peer *p, const void *buf, size_t len)
{
	uint8_t *out = malloc(2 * len + 1);
	size_t n;
	int ret;

	if (!out)
		return -ENOMEM;
	n = escape(out, buf, len, p->flags & PEER_RAW);
	ret = request(p, REQ_SEND, out, n, false);
	free(out);
	return ret;
}

int peer_send_cmd(struct peer *p, uint8_t cmd, const void *val, size_t len)
{
	uint8_t *out = malloc(2 * len + 6);
	size_t n = 0;
	int ret;

	if (!out)
		return -ENOMEM;
	out[n++] = TN_IAC;
	out[n++] = TN_SB;
	out[n++] = TNOPT_COMPORT;
	out[n++] = cmd;
	n += escape(out + n, val, len, false);
	out[n++] = TN_IAC;
	out[n++] = TN_SE;
	ret = request(p, REQ_SEND, out, n, false);
	free(out);
	return ret;
}

int peer_send_modemstate(struct peer *p, uint8_t msr)
{
	return peer_send_cmd(p, CPO_SERVER + CPO_NOTIFY_MODEMSTATE, &msr, 1);
}

int peer_send_linestate(struct peer *p, uint8_t lsr)
{
	return peer_send_cmd(p, CPO_SERVER + CPO_NOTIFY_LINESTATE, &lsr, 1);
}

int peer_drop(struct peer *p)
{
	return request(p, REQ_DROP, NULL, 0, false);
}

int peer_refuse(struct peer *p, bool refuse)
{
	return request(p, REQ_REFUSE, NULL, 0, refuse);
}

int peer_pause(struct peer *p, bool pause)
{
	return request(p, REQ_PAUSE, NULL, 0, pause);
}

size_t peer_mark(struct peer *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->nev;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned int peer_conn(struct peer *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = p->nconn;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static void deadline(struct timespec *ts, int timeout_ms)
{
	now(ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static int event_until(struct peer *p, size_t idx, struct peer_event *ev,
		       const struct timespec *end)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	while (idx >= p->nev && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&p->cond, &p->lock, end);
	if (idx < p->nev) {
		*ev = p->ev[idx];
		ret = 0;
	} else {
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int peer_event(struct peer *p, size_t idx, struct peer_event *ev,
	       int timeout_ms)
{
	struct timespec end;

	deadline(&end, timeout_ms);
	return event_until(p, idx, ev, &end);
}

int peer_wait_conn(struct peer *p, size_t mark, int timeout_ms)
{
	struct peer_event e;
	struct timespec end;

	deadline(&end, timeout_ms);
	for (; !event_until(p, mark, &e, &end); mark++)
		if (e.type == PEER_EV_CONN)
			return e.conn;
	return -ETIMEDOUT;
}

size_t peer_wait_data(struct peer *p, unsigned int conn, size_t mark,
		      uint8_t *buf, size_t want, int timeout_ms)
{
	struct peer_event e;
	struct timespec end;
	size_t got = 0, n;

	deadline(&end, timeout_ms);
	for (; got < want && !event_until(p, mark, &e, &end); mark++) {
		if (e.type != PEER_EV_DATA || e.conn != conn)
			continue;
		n = e.len < want - got ? e.len : want - got;
		memcpy(buf + got, e.data, n);
		got += n;
	}
	return got;
}
