// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: the TCP/RFC 2217 session of one port.
 *
 * Everything the kernel sends for a port is turned into bytes in one output
 * buffer, in the order it came, and written with as few send() calls as
 * possible: the two SET-CONTROL commands of one TIOCMSET leave in one TCP
 * segment. While the link is down, data waits (the kernel stops sending once
 * its window is unconfirmed) and settings are remembered; a new session
 * starts with the negotiation and every setting, then the waiting data.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/ttyrfc.h>

#include "log.h"
#include "session.h"

#define CONNECT_TIMEOUT_MS	5000
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define TELNET_HINT_MS		1000
/* the kernel's window bounds data; commands are small but unbounded */
#define OUT_MAX			(2 * TTYRFC_TX_WINDOW + 65536)

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void port_epoll(struct port *p, int op)
{
	struct epoll_event ev = { .data.ptr = p };

	if (p->fd < 0)
		return;
	if (p->state == PORT_CONNECTING)
		ev.events = EPOLLOUT;
	else
		ev.events = (p->rx_stopped ? 0 : EPOLLIN) |
			    (p->want_out ? EPOLLOUT : 0);
	epoll_ctl(env->epfd, op, p->fd, &ev);
}

/* Make room for n more bytes in the output buffer. */
static uint8_t *out_reserve(struct port *p, size_t n)
{
	if (p->out_head && p->out_head + p->out_len + n > p->out_cap) {
		memmove(p->out, p->out + p->out_head, p->out_len);
		p->out_head = 0;
	}
	if (p->out_len + n > p->out_cap) {
		size_t cap = p->out_cap ? p->out_cap : 4096;
		uint8_t *b;

		while (cap < p->out_len + n)
			cap *= 2;
		if (cap > OUT_MAX)
			return NULL;
		b = realloc(p->out, cap);
		if (!b)
			return NULL;
		p->out = b;
		p->out_cap = cap;
	}
	return p->out + p->out_head + p->out_len;
}

static void out_put(struct port *p, const uint8_t *b, size_t n)
{
	uint8_t *d = out_reserve(p, n);

	if (!d) {
		p->proto_errors++;
		log_msg("ttyRFC%u: output buffer full, command dropped",
			p->index);
		return;
	}
	memcpy(d, b, n);
	p->out_len += n;
}

static void cmd_u8(struct port *p, uint8_t cmd, uint8_t v)
{
	uint8_t b[RFC2217_CMD_MAX(1)];

	log_dbg("ttyRFC%u: > %s %u", p->index, rfc2217_cmd_name(cmd), v);
	out_put(p, b, rfc2217_cmd_u8(b, sizeof(b), cmd, v));
}

/*
 * DTR/RTS changes of one call leave in one segment, one line after the
 * other; a USB bridge changes both at once. On ESP32 boards DTR=0,RTS=1
 * pulls EN low, so the order must never pass through that state: both
 * lines dropping goes RTS first, everything else DTR first (which is also
 * the order esp_rfc2217_server's reset detector expects).
 */
static void put_mctrl(struct port *p, uint32_t mctrl, uint32_t changed)
{
	const uint32_t both = TTYRFC_MCTRL_DTR | TTYRFC_MCTRL_RTS;
	uint8_t dtr = (mctrl & TTYRFC_MCTRL_DTR) ? RFC2217_CTL_DTR_ON :
						   RFC2217_CTL_DTR_OFF;
	uint8_t rts = (mctrl & TTYRFC_MCTRL_RTS) ? RFC2217_CTL_RTS_ON :
						   RFC2217_CTL_RTS_OFF;

	if ((changed & both) == both && !(mctrl & both)) {
		cmd_u8(p, RFC2217_SET_CONTROL, rts);
		cmd_u8(p, RFC2217_SET_CONTROL, dtr);
		return;
	}
	if (changed & TTYRFC_MCTRL_DTR)
		cmd_u8(p, RFC2217_SET_CONTROL, dtr);
	if (changed & TTYRFC_MCTRL_RTS)
		cmd_u8(p, RFC2217_SET_CONTROL, rts);
}

/* Settings as RFC 2217 commands, for the fields in mask. */
static void put_settings(struct port *p, const struct port_settings *s,
			 uint32_t mask, uint32_t mctrl_mask)
{
	uint8_t b[RFC2217_CMD_MAX(4)];

	if (p->flags & TTYRFC_F_RAW)
		return;
	if ((mask & SET_BAUD) && s->baud) {
		log_dbg("ttyRFC%u: > SET-BAUDRATE %u", p->index, s->baud);
		out_put(p, b, rfc2217_set_baud(b, sizeof(b), s->baud));
	}
	if (mask & SET_DATASIZE)
		cmd_u8(p, RFC2217_SET_DATASIZE, s->datasize);
	if (mask & SET_PARITY)
		cmd_u8(p, RFC2217_SET_PARITY, s->parity);
	if (mask & SET_STOPSIZE)
		cmd_u8(p, RFC2217_SET_STOPSIZE, s->stopsize);
	if (mask & SET_FLOW)
		cmd_u8(p, RFC2217_SET_CONTROL, s->flow);
	if (mask & SET_MCTRL)
		put_mctrl(p, s->mctrl, mctrl_mask);
}

/* Write what we can; confirm kernel data once it has all left. */
void port_flush(struct port *p)
{
	bool want;

	while (p->state == PORT_UP && p->out_len) {
		ssize_t n = send(p->fd, p->out + p->out_head, p->out_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				p->last_err = errno;
			break;
		}
		p->out_head += n;
		p->out_len -= n;
	}
	if (!p->out_len)
		p->out_head = 0;
	if (p->state == PORT_UP && !p->out_len && p->unconfirmed) {
		env->tx_done(p, p->unconfirmed);
		p->unconfirmed = 0;
	}
	want = p->state == PORT_UP && p->out_len;
	if (want != p->want_out) {
		p->want_out = want;
		port_epoll(p, EPOLL_CTL_MOD);
	}
}

/* codec callbacks */

static void on_data(void *ctx, const uint8_t *d, size_t n)
{
	struct port *p = ctx;

	/* decoding never grows data, so one read always fits in rx[] */
	memcpy(p->rx + p->rx_len, d, n);
	p->rx_len += n;
}

static void on_reply(void *ctx, const uint8_t *d, size_t n)
{
	out_put(ctx, d, n);
}

static void on_comport(void *ctx, uint8_t cmd, const uint8_t *val, size_t n)
{
	struct port *p = ctx;

	log_dbg("ttyRFC%u: < %s (%zu bytes)%s", p->index,
		rfc2217_cmd_name(cmd), n,
		cmd < RFC2217_SERVER_OFFSET ? " [not a server reply]" : "");
	if (n != 1)
		return;
	/* keep order: data before the status change reaches the tty first */
	if (cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_MODEMSTATE ||
	    cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_LINESTATE) {
		if (p->rx_len) {
			env->rx(p, p->rx, p->rx_len);
			p->rx_len = 0;
		}
		if (cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_MODEMSTATE)
			env->status(p, val[0], -1);
		else
			env->status(p, -1, val[0]);
	}
}

static void on_negotiated(void *ctx)
{
	struct port *p = ctx;

	log_dbg("ttyRFC%u: server accepted COM-PORT-OPTION", p->index);
}

static void on_error(void *ctx, const char *what)
{
	struct port *p = ctx;

	p->proto_errors++;
	log_msg("ttyRFC%u: %s:%u: protocol error: %s", p->index, p->host,
		p->tcp_port, what);
	env->status(p, -1, -1);		/* the count shows in ttyrfcctl */
}

static const struct rfc2217_ops codec_ops = {
	.data = on_data,
	.reply = on_reply,
	.comport = on_comport,
	.negotiated = on_negotiated,
	.error = on_error,
};

struct port *port_new(uint32_t index)
{
	struct port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->index = index;
	p->fd = -1;
	return p;
}

void port_free(struct port *p)
{
	port_close(p);
	free(p->out);
	free(p);
}

static void sock_drop(struct port *p)
{
	if (p->fd >= 0) {
		epoll_ctl(env->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	p->fd = -1;
	p->want_out = false;
}

static void schedule_reconnect(struct port *p)
{
	unsigned int shift = p->attempts < 6 ? p->attempts : 6;
	int64_t delay = (int64_t)BACKOFF_MIN_MS << shift;

	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* jitter: 50-100% of the delay, so many VMs do not retry in step */
	delay = delay / 2 + rand() % (delay / 2 + 1);
	p->attempts++;
	p->state = PORT_BACKOFF;
	p->deadline = now_ms() + delay;
}

/* The session ended or could not start; keep trying while the tty is open. */
static void port_fail(struct port *p, int err)
{
	bool was_up = p->state == PORT_UP;

	sock_drop(p);
	p->last_err = err;
	if (was_up) {
		log_msg("ttyRFC%u: %s:%u: disconnected: %s", p->index, p->host,
			p->tcp_port, err ? strerror(err) : "closed by server");
		p->reconnects++;
	} else if (p->attempts == 0) {
		log_msg("ttyRFC%u: %s:%u: cannot connect: %s", p->index,
			p->host, p->tcp_port, strerror(err));
	}
	/*
	 * What was in the output buffer may be half a command; a new session
	 * starts clean. Those bytes of data are lost with the link, like the
	 * ones already in the dead socket; count them.
	 */
	if (p->unconfirmed) {
		p->tx_lost += p->unconfirmed;
		env->tx_done(p, p->unconfirmed);
		p->unconfirmed = 0;
	}
	p->out_len = 0;
	p->out_head = 0;
	p->rx_len = 0;
	env->link(p, TTYRFC_LINK_DOWN, err ? err : ECONNRESET);
	schedule_reconnect(p);
}

static int resolve(struct port *p, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char service[8];
	int ret;

	snprintf(service, sizeof(service), "%u", p->tcp_port);
	ret = getaddrinfo(p->host, service, &hints, &res);
	if (ret) {
		log_msg("ttyRFC%u: %s: %s", p->index, p->host,
			gai_strerror(ret));
		return ret == EAI_SYSTEM ? errno : EHOSTUNREACH;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void port_connect(struct port *p)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int err;

	err = resolve(p, &ss, &len);
	if (err) {
		port_fail(p, err);
		return;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (p->fd < 0) {
		port_fail(p, errno);
		return;
	}
	p->state = PORT_CONNECTING;
	p->deadline = now_ms() + CONNECT_TIMEOUT_MS;
	if (connect(p->fd, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS) {
		port_fail(p, errno);
		return;
	}
	port_epoll(p, EPOLL_CTL_ADD);
}

static void sock_tune(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned int user_timeout = 20000;

	/* latency matters more than segment count: esptool is all round trips */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
}

/* Connected: negotiation, then every setting, then data that waited. */
static void port_up(struct port *p)
{
	uint8_t start[RFC2217_START_LEN];
	size_t waiting = p->out_len, n = 0;

	sock_tune(p->fd);
	p->state = PORT_UP;
	if (p->attempts || p->reconnects)
		log_msg("ttyRFC%u: %s:%u: connected", p->index, p->host,
			p->tcp_port);
	p->attempts = 0;
	p->last_err = 0;
	p->deadline = 0;
	p->hint_at = 0;

	if (!(p->flags & TTYRFC_F_RAW)) {
		rfc2217_init(&p->codec, &codec_ops, p);
		n = rfc2217_start(&p->codec, start, sizeof(start));
		p->hint_at = now_ms() + TELNET_HINT_MS;
	}
	/* move waiting data behind what a new session must say first */
	p->out_len = 0;
	if (waiting) {
		uint8_t *save = malloc(waiting);

		if (save)
			memcpy(save, p->out + p->out_head, waiting);
		p->out_head = 0;
		out_put(p, start, n);
		put_settings(p, &p->s, SET_ALL, p->mctrl_known);
		if (save) {
			out_put(p, save, waiting);
			free(save);
		}
	} else {
		out_put(p, start, n);
		put_settings(p, &p->s, SET_ALL, p->mctrl_known);
	}
	port_epoll(p, EPOLL_CTL_MOD);
	env->link(p, TTYRFC_LINK_UP, 0);
	port_flush(p);
}

void port_open(struct port *p)
{
	if (p->state == PORT_UP)
		log_msg("ttyRFC%u: reopened by the kernel; new session",
			p->index);
	sock_drop(p);
	p->attempts = 0;
	p->rx_stopped = false;
	p->out_len = p->out_head = 0;
	p->unconfirmed = 0;
	port_connect(p);
}

void port_close(struct port *p)
{
	if (p->state == PORT_UP)
		port_flush(p);	/* best effort: e.g. HUPCL's DTR drop */
	sock_drop(p);
	p->state = PORT_IDLE;
	p->deadline = 0;
	p->hint_at = 0;
	p->out_len = p->out_head = 0;
	p->unconfirmed = 0;
}

void port_tx(struct port *p, const uint8_t *data, size_t n)
{
	size_t done = 0, used;
	uint8_t *d;

	if (p->state == PORT_IDLE) {
		env->tx_done(p, n);	/* stale data for a closed port */
		return;
	}
	if (p->flags & TTYRFC_F_RAW) {
		d = out_reserve(p, n);
		if (d) {
			memcpy(d, data, n);
			p->out_len += n;
			done = n;
		}
	} else {
		d = out_reserve(p, 2 * n);
		if (d) {
			p->out_len += rfc2217_escape(data, n, d, 2 * n, &used);
			done = used;
		}
	}
	if (done < n) {
		/* cannot happen within the kernel's window; never silent */
		log_msg("ttyRFC%u: output buffer full, %zu bytes lost",
			p->index, n - done);
		p->tx_lost += n - done;
		env->tx_done(p, n - done);
	}
	p->unconfirmed += done;
	p->tx_bytes += done;
}

void port_set(struct port *p, const struct port_settings *s, uint32_t mask,
	      uint32_t mctrl_mask, int brk, int purge)
{
	if (mask & SET_BAUD)
		p->s.baud = s->baud;
	if (mask & SET_DATASIZE)
		p->s.datasize = s->datasize;
	if (mask & SET_PARITY)
		p->s.parity = s->parity;
	if (mask & SET_STOPSIZE)
		p->s.stopsize = s->stopsize;
	if (mask & SET_FLOW)
		p->s.flow = s->flow;
	if (mask & SET_MCTRL) {
		p->s.mctrl = (p->s.mctrl & ~mctrl_mask) |
			     (s->mctrl & mctrl_mask);
		p->mctrl_known |= mctrl_mask;
	}
	/* while down, only remember: a new session sends it all */
	if (p->state != PORT_UP)
		return;
	put_settings(p, s, mask, mctrl_mask);
	if (p->flags & TTYRFC_F_RAW)
		return;
	if (brk >= 0)
		cmd_u8(p, RFC2217_SET_CONTROL,
		       brk ? RFC2217_CTL_BREAK_ON : RFC2217_CTL_BREAK_OFF);
	if (purge > 0)
		cmd_u8(p, RFC2217_PURGE_DATA, purge);
}

void port_rx_stop(struct port *p, bool stop)
{
	if (p->rx_stopped == stop)
		return;
	p->rx_stopped = stop;
	if (p->state == PORT_UP) {
		if (!(p->flags & TTYRFC_F_RAW)) {
			uint8_t b[RFC2217_CMD_MAX(0)];
			uint8_t cmd = stop ? RFC2217_FLOWCONTROL_SUSPEND :
					     RFC2217_FLOWCONTROL_RESUME;

			/* these two carry no value (RFC 2217) */
			log_dbg("ttyRFC%u: > %s", p->index,
				rfc2217_cmd_name(cmd));
			out_put(p, b, rfc2217_cmd(b, sizeof(b), cmd, NULL, 0));
		}
		port_epoll(p, EPOLL_CTL_MOD);
	}
}

static void port_read(struct port *p)
{
	uint8_t buf[sizeof(p->rx)];
	ssize_t n;

	n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			port_fail(p, errno);
		return;
	}
	if (n == 0) {
		port_fail(p, 0);
		return;
	}
	p->rx_bytes += n;
	if (p->flags & TTYRFC_F_RAW) {
		env->rx(p, buf, n);
		return;
	}
	p->rx_len = 0;
	rfc2217_input(&p->codec, buf, n);
	if (p->rx_len)
		env->rx(p, p->rx, p->rx_len);
	p->rx_len = 0;
}

void port_io(struct port *p, uint32_t events)
{
	if (p->state == PORT_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			port_fail(p, err);
		else
			port_up(p);
		return;
	}
	if (p->state != PORT_UP)
		return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		port_read(p);
	if (p->state == PORT_UP)
		port_flush(p);	/* replies, or room after EPOLLOUT */
}

void port_timer(struct port *p, int64_t now)
{
	if (p->hint_at && now >= p->hint_at) {
		p->hint_at = 0;
		if (p->state == PORT_UP && !p->codec.saw_telnet)
			log_msg("ttyRFC%u: %s:%u sent no telnet negotiation within 1 s: is the server's accepter missing telnet(rfc2217)? (ser2net: accepter: telnet(rfc2217),tcp,PORT; or add the port in raw mode)",
				p->index, p->host, p->tcp_port);
	}
	if (!p->deadline || now < p->deadline)
		return;
	if (p->state == PORT_CONNECTING)
		port_fail(p, ETIMEDOUT);
	else if (p->state == PORT_BACKOFF)
		port_connect(p);
}
