// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for ttyrfcd's sessions (session.c, conn.c, linger.c)
 * against real TCP sockets on 127.0.0.1: this file plays the kernel (it
 * records what the session tells it) and the server (a listening socket it
 * drives by hand). No root, no module.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linger.h"
#include "session.h"
#include "unit.h"

/* ------------------------------------------------------------ the kernel */

#define MAX_EVENTS	256

struct kev {
	char kind;		/* 'L'ink, 'R'x, 'C'onfirm, 'S'tatus */
	uint64_t a, b;
	int err;
};

static struct kev kev[MAX_EVENTS];
static int nkev;
static uint8_t krx[1 << 20];
static size_t nkrx;
static int kernel_refuse;	/* next N messages fail with EAGAIN */

static int rec(char kind, uint64_t a, uint64_t b, int err)
{
	if (kernel_refuse) {
		kernel_refuse--;
		return -EAGAIN;
	}
	if (nkev < MAX_EVENTS)
		kev[nkev++] = (struct kev){ kind, a, b, err };
	return 0;
}

static int t_rx(struct port *p, uint64_t pos, const uint8_t *d, size_t n)
{
	int ret = rec('R', pos, n, 0);

	(void)p;
	if (!ret && nkrx + n <= sizeof(krx)) {
		memcpy(krx + nkrx, d, n);
		nkrx += n;
	}
	return ret;
}

static int t_link(struct port *p, uint8_t state, int err)
{
	(void)p;
	return rec('L', state, 0, err);
}

static int t_confirm(struct port *p, uint64_t pos, uint64_t seq)
{
	(void)p;
	return rec('C', pos, seq, 0);
}

static int t_status(struct port *p)
{
	return rec('S', p->modem_due ? p->modem : ~0u, p->line_events, 0);
}

static struct session_env tenv = {
	.rx = t_rx,
	.link = t_link,
	.confirm = t_confirm,
	.status = t_status,
	.lingering = linger_active,
	.linger = linger_start,
};
const struct session_env *env = &tenv;

static struct port *port;

static void on_linger_done(unsigned int index)
{
	if (port && port->index == index)
		port_linger_done(port);
}

static const struct kev *last(char kind)
{
	int i;

	for (i = nkev - 1; i >= 0; i--)
		if (kev[i].kind == kind)
			return &kev[i];
	return NULL;
}

static int count(char kind)
{
	int i, n = 0;

	for (i = 0; i < nkev; i++)
		n += kev[i].kind == kind;
	return n;
}

/* ------------------------------------------------------------ the loop */

static void loop_once(int ms)
{
	struct epoll_event ev[16];
	int i, n;
	struct resolve_result *r;

	n = epoll_wait(tenv.epfd, ev, 16, ms);
	for (i = 0; i < n; i++) {
		uint64_t t = ev[i].data.u64;

		if (TOK_KIND(t) == TOK_SOCK && port)
			port_sock_event(port, TOK_SLOT(t), TOK_GEN(t),
					ev[i].events);
		else if (TOK_KIND(t) == TOK_LINGER)
			linger_event(TOK_INDEX(t), TOK_GEN(t), ev[i].events);
		else if (TOK_KIND(t) == TOK_RESOLVER)
			while ((r = resolver_read()))
				port_resolved(port, r);
	}
	linger_timer(now_ms());
	if (port) {
		port_timer(port, now_ms());
		port_flush(port);
	}
}

/* Run the loop until @cond or @ms passed; true if @cond came. */
#define RUN_UNTIL(cond, ms) ({						\
	int64_t _end = now_ms() + (ms);					\
	while (!(cond) && now_ms() < _end)				\
		loop_once(5);						\
	(cond);								\
})

/* ------------------------------------------------------------ the server */

static int listener(uint16_t *port_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (void *)&a, &len))
		return -1;
	*port_out = ntohs(a.sin_port);
	return fd;
}

/* Accept while the loop runs (the session connects meanwhile). */
static int accept_peer(int lfd)
{
	int64_t end = now_ms() + 3000;
	struct pollfd pfd = { lfd, POLLIN, 0 };

	while (now_ms() < end) {
		if (poll(&pfd, 1, 0) == 1)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		loop_once(5);
	}
	return -1;
}

/* Read what the session sent, up to @n bytes, running the loop. */
static size_t peer_read(int fd, uint8_t *buf, size_t n, int ms)
{
	int64_t end = now_ms() + ms;
	size_t got = 0;

	while (got < n && now_ms() < end) {
		ssize_t r = recv(fd, buf + got, n - got, MSG_DONTWAIT);

		if (r > 0)
			got += r;
		else if (r == 0)
			break;
		else
			loop_once(2);
	}
	return got;
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *needle,
		     size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

static const uint8_t baud_reply[] = { TN_IAC, TN_SB, TNOPT_COMPORT, 101,
				      0, 1, 0xc2, 0, TN_IAC, TN_SE };

static void reset_kernel(void)
{
	nkev = 0;
	nkrx = 0;
	kernel_refuse = 0;
}

static struct open_args args(uint16_t tcp_port, uint8_t kind)
{
	return (struct open_args){
		.sid = 7, .kind = kind, .host = "127.0.0.1",
		.tcp_port = tcp_port, .tx_pos = 1000, .ctrl_seq = 50,
		.rx_pos = 0, .rx_limit = 1 << 20,
		.s = { .baud = 115200, .data_bits = 8, .stop_bits = 1,
		       .mctrl = TIOCM_DTR | TIOCM_RTS },
		.mctrl_known = TIOCM_DTR | TIOCM_RTS,
	};
}

/* A session with a server that answers: LINK up, and its fd. */
static int start(uint16_t *tcp_port, int *lfd, uint8_t kind)
{
	struct open_args a;
	int fd;

	reset_kernel();
	*lfd = listener(tcp_port);
	if (*lfd < 0)
		return -1;
	port = port_new(0);
	a = args(*tcp_port, kind);
	port_open(port, &a);
	fd = accept_peer(*lfd);
	if (fd < 0)
		return -1;
	send(fd, baud_reply, sizeof(baud_reply), 0);
	if (!RUN_UNTIL(last('L'), 2000))
		return -1;
	return fd;
}

static void finish(int fd, int lfd)
{
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (port) {
		port_close(port, port->sid);
		RUN_UNTIL(!linger_active(0), 1000);
		port_free(port);
	}
	linger_flush_all();
	port = NULL;
}

/* ------------------------------------------------------------ tests */

static bool t_up_and_preamble(void)
{
	static const uint8_t will44[] = { TN_IAC, TN_WILL, TNOPT_COMPORT };
	static const uint8_t lsmask[] = { TN_IAC, TN_SB, TNOPT_COMPORT, 10,
					  0x1e, TN_IAC, TN_SE };
	static const uint8_t dtr_on[] = { TN_IAC, TN_SB, TNOPT_COMPORT, 5, 8,
					  TN_IAC, TN_SE };
	uint8_t buf[512];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);
	size_t n;

	CHECK(fd >= 0);
	CHECK(last('L')->a == TTYRFC_LINK_UP);
	n = peer_read(fd, buf, sizeof(buf), 300);
	CHECK(contains(buf, n, will44, sizeof(will44)));
	CHECK(contains(buf, n, lsmask, sizeof(lsmask)));
	/* a first open applies DTR/RTS as known */
	CHECK(contains(buf, n, dtr_on, sizeof(dtr_on)));
	finish(fd, lfd);
	return true;
}

/* Replay/reconnect: a running board is left alone (no DTR on). */
static bool t_replay_leaves_board(void)
{
	static const uint8_t dtr_on[] = { TN_IAC, TN_SB, TNOPT_COMPORT, 5, 8,
					  TN_IAC, TN_SE };
	uint8_t buf[512];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_REPLAY);
	size_t n;

	CHECK(fd >= 0);
	n = peer_read(fd, buf, sizeof(buf), 300);
	CHECK(n > 0 && !contains(buf, n, dtr_on, sizeof(dtr_on)));
	finish(fd, lfd);
	return true;
}

/*
 * Confirmed means the server's TCP has it: with a server that does not
 * read and small buffers, the confirmation stops short; once it reads,
 * everything is confirmed, in order, 0xFF doubled on the wire.
 */
static bool t_confirm_by_ack(void)
{
	static uint8_t data[4 << 20], wire[8 << 20];
	int small = 32768, lfd, fd;
	uint16_t tp;
	size_t i, n, want = 0;
	uint64_t pos = 1000;

	fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);
	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	peer_read(fd, wire, sizeof(wire), 100);	/* the preamble */
	for (i = 0; i < sizeof(data); i++)
		data[i] = i % 7 ? (uint8_t)(i * 31) : 0xff;
	for (i = 0; i < sizeof(data); i += 16384) {
		port_tx(port, 7, pos, data + i, 16384);
		pos += 16384;
		port_flush(port);
	}
	RUN_UNTIL(false, 200);
	/* partial writes: not all of it can be in the socket yet */
	CHECK(port->q.len > 0);
	CHECK(!last('C') || last('C')->a < pos);
	/* escaped stream arrives whole and in order */
	for (i = 0; i < sizeof(data); i++)
		want += data[i] == 0xff ? 2 : 1;
	n = peer_read(fd, wire, want, 20000);
	CHECK(n == want);
	for (i = 0, n = 0; i < sizeof(data); i++) {
		CHECK(wire[n++] == data[i]);
		if (data[i] == 0xff)
			CHECK(wire[n++] == 0xff);
	}
	CHECK(RUN_UNTIL(last('C') && last('C')->a == pos, 2000));
	CHECK(last('C')->b == 50);
	finish(fd, lfd);
	return true;
}

/* A change is confirmed in its place: after the data before it. */
static bool t_change_in_order(void)
{
	struct change c = { .pos = 1005, .seq = 50, .mask = LS_MCTRL,
			    .mctrl_mask = TIOCM_DTR | TIOCM_RTS };
	static const uint8_t want[] = { 'a', 'b', 'c', 'd', 'e',
		TN_IAC, TN_SB, TNOPT_COMPORT, 5, 12, TN_IAC, TN_SE,
		TN_IAC, TN_SB, TNOPT_COMPORT, 5, 9, TN_IAC, TN_SE, 'f' };
	uint8_t buf[512];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);
	size_t n;

	CHECK(fd >= 0);
	peer_read(fd, buf, sizeof(buf), 100);
	port_tx(port, 7, 1000, (const uint8_t *)"abcde", 5);
	port_set(port, 7, &c);
	port_tx(port, 7, 1005, (const uint8_t *)"f", 1);
	port_flush(port);
	n = peer_read(fd, buf, sizeof(want), 1000);
	CHECK(n == sizeof(want) && !memcmp(buf, want, n));
	CHECK(RUN_UNTIL(last('C') && last('C')->a == 1006, 1000));
	CHECK(last('C')->b == 51);
	finish(fd, lfd);
	return true;
}

static bool t_refused(void)
{
	struct open_args a;
	uint16_t tp;
	int lfd = listener(&tp);

	CHECK(lfd >= 0);
	close(lfd);		/* nobody listens there now */
	reset_kernel();
	port = port_new(0);
	a = args(tp, TTYRFC_OPEN_FIRST);
	port_open(port, &a);
	CHECK(RUN_UNTIL(last('L'), 3000));
	CHECK(last('L')->a == TTYRFC_LINK_DOWN);
	CHECK(last('L')->err == ECONNREFUSED);
	finish(-1, -1);
	return true;
}

/* ser2net's "Port already in use": EBUSY, and not one byte as data. */
static bool t_busy_is_ebusy(void)
{
	static const char busy[] = "Port already in use\r\n";
	static const uint8_t neg[] = { TN_IAC, TN_WILL, TNOPT_SGA };
	struct open_args a;
	uint16_t tp;
	int lfd = listener(&tp), fd;

	CHECK(lfd >= 0);
	reset_kernel();
	port = port_new(0);
	a = args(tp, TTYRFC_OPEN_FIRST);
	port_open(port, &a);
	fd = accept_peer(lfd);
	CHECK(fd >= 0);
	send(fd, neg, sizeof(neg), 0);
	send(fd, busy, strlen(busy), 0);
	close(fd);
	CHECK(RUN_UNTIL(last('L'), 3000));
	CHECK(last('L')->a == TTYRFC_LINK_DOWN && last('L')->err == EBUSY);
	CHECK(count('R') == 0);
	finish(-1, lfd);
	return true;
}

/* What a server says at once (a banner) reaches the first read. */
static bool t_banner(void)
{
	struct open_args a;
	uint16_t tp;
	int lfd = listener(&tp), fd, i;

	CHECK(lfd >= 0);
	reset_kernel();
	port = port_new(0);
	a = args(tp, TTYRFC_OPEN_FIRST);
	port_open(port, &a);
	fd = accept_peer(lfd);
	CHECK(fd >= 0);
	send(fd, "Welcome to the Pi\r\n", 19, 0);
	CHECK(RUN_UNTIL(nkrx == 19, 3000));
	CHECK(!memcmp(krx, "Welcome to the Pi\r\n", 19));
	/* the session was up before its first data */
	for (i = 0; kev[i].kind != 'R'; i++)
		;
	CHECK(count('L') == 1 && last('L') < &kev[i] &&
	      last('L')->a == TTYRFC_LINK_UP);
	finish(fd, lfd);
	return true;
}

/* Received data stays within the kernel's credit. */
static bool t_rx_credit(void)
{
	static uint8_t data[100000];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);

	CHECK(fd >= 0);
	port->rx_limit = 10;
	memset(data, 'x', sizeof(data));
	CHECK(send(fd, data, sizeof(data), 0) == sizeof(data));
	RUN_UNTIL(false, 200);
	CHECK(nkrx == 10);
	port_rx_limit(port, 7, 20000);
	port_flush(port);
	CHECK(RUN_UNTIL(nkrx == 20000, 2000));
	RUN_UNTIL(false, 100);
	CHECK(nkrx == 20000);
	port_rx_limit(port, 7, 1 << 20);
	port_flush(port);
	CHECK(RUN_UNTIL(nkrx == sizeof(data), 2000));
	finish(fd, lfd);
	return true;
}

/* The kernel's socket full: nothing lost, sent again in order. */
static bool t_kernel_busy(void)
{
	static uint8_t data[50000];
	uint16_t tp;
	size_t i;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);

	CHECK(fd >= 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = i % 255;	/* no IAC: the server would escape it */
	kernel_refuse = 5;
	CHECK(send(fd, data, sizeof(data), 0) == sizeof(data));
	CHECK(RUN_UNTIL(nkrx == sizeof(data), 3000));
	CHECK(!memcmp(krx, data, sizeof(data)));
	finish(fd, lfd);
	return true;
}

/* Link lost: the last confirmation first, then LINK down. */
static bool t_loss_confirms_then_down(void)
{
	uint8_t buf[256];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);

	CHECK(fd >= 0);
	port_tx(port, 7, 1000, (const uint8_t *)"0123456789", 10);
	port_flush(port);
	peer_read(fd, buf, sizeof(buf), 200);
	close(fd);
	CHECK(RUN_UNTIL(count('L') == 2, 2000));
	CHECK(last('L')->a == TTYRFC_LINK_DOWN);
	CHECK(last('C') && last('C')->a == 1010);
	CHECK(kev[nkev - 1].kind == 'L');
	/* the session is over: more data for it is stale, not sent */
	port_tx(port, 7, 1010, (const uint8_t *)"x", 1);
	CHECK(port->stats[TTYRFC_STAT_HELPER_STALE] == 1);
	finish(-1, lfd);
	return true;
}

/*
 * Close: the tail is delivered, then our FIN; the server sending more
 * meanwhile gets no RST. The server sees all data, then end of file.
 */
static bool t_close_delivers_tail(void)
{
	static uint8_t data[1 << 20], buf[1 << 16];
	uint16_t tp;
	size_t i, got = 0;
	ssize_t r;
	int small = 8192, lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);
	uint64_t pos = 1000;

	CHECK(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	peer_read(fd, buf, sizeof(buf), 100);
	memset(data, 'a', sizeof(data));
	for (i = 0; i < sizeof(data); i += 16384) {
		port_tx(port, 7, pos, data + i, 16384);
		pos += 16384;
	}
	port_flush(port);
	/* the server talks while we close: unread input must not RST */
	send(fd, "chatter", 7, 0);
	port_close(port, 7);
	CHECK(linger_active(0));
	for (;;) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			got += r;
			send(fd, "more", 4, MSG_NOSIGNAL);
		} else if (r == 0) {
			break;
		} else {
			CHECK(errno == EAGAIN);
			loop_once(2);
		}
	}
	CHECK(got == sizeof(data));
	close(fd);
	CHECK(RUN_UNTIL(!linger_active(0), 2000));
	port_free(port);
	port = NULL;
	close(lfd);
	return true;
}

/* A modem or line change keeps its place among the data around it. */
static bool t_status_in_order(void)
{
	static const uint8_t in[] = { 'A', TN_IAC, TN_SB, TNOPT_COMPORT, 106,
		0x04, TN_IAC, TN_SE, 'Z', TN_IAC, TN_SB, TNOPT_COMPORT, 107,
		0x80, TN_IAC, TN_SE, TN_IAC, TN_SB, TNOPT_COMPORT, 107, 0x00,
		TN_IAC, TN_SE, '!' };
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST), i, r = 0;
	char order[16] = "";

	CHECK(fd >= 0);
	RUN_UNTIL(false, 50);
	reset_kernel();
	CHECK(send(fd, in, sizeof(in), 0) == sizeof(in));
	CHECK(RUN_UNTIL(nkrx == 3 && count('S') >= 3, 2000));
	for (i = 0; i < nkev && r < 15; i++)
		if (kev[i].kind == 'R' || kev[i].kind == 'S')
			order[r++] = kev[i].kind;
	CHECK(!strcmp(order, "RSRSSR"));
	CHECK(!memcmp(krx, "AZ!", 3));
	finish(fd, lfd);
	return true;
}

/* Messages of another session change nothing, and are counted. */
static bool t_stale(void)
{
	uint8_t buf[256];
	uint16_t tp;
	int lfd, fd = start(&tp, &lfd, TTYRFC_OPEN_FIRST);

	CHECK(fd >= 0);
	peer_read(fd, buf, sizeof(buf), 100);
	port_tx(port, 6, 1000, (const uint8_t *)"old", 3);
	port_close(port, 6);
	port_rx_limit(port, 8, 1 << 30);
	port_flush(port);
	CHECK(port->stats[TTYRFC_STAT_HELPER_STALE] == 3);
	CHECK(peer_read(fd, buf, sizeof(buf), 200) == 0);
	CHECK(port->state == PS_UP);
	finish(fd, lfd);
	return true;
}

static const struct unit_test tests[] = {
	{ "connect, negotiate, LINK up, preamble", t_up_and_preamble },
	{ "replay does not raise DTR (no reset)", t_replay_leaves_board },
	{ "confirmed only when the server's TCP acked; partial writes",
	  t_confirm_by_ack },
	{ "a change goes out and is confirmed in its place",
	  t_change_in_order },
	{ "refused connection: LINK down ECONNREFUSED", t_refused },
	{ "\"Port already in use\": EBUSY, no data", t_busy_is_ebusy },
	{ "a banner reaches the kernel after LINK up", t_banner },
	{ "receive stays within the kernel's credit", t_rx_credit },
	{ "kernel socket full: retried, nothing lost", t_kernel_busy },
	{ "link lost: last CONFIRM, then LINK down; stale after",
	  t_loss_confirms_then_down },
	{ "close delivers the tail, no RST", t_close_delivers_tail },
	{ "modem and line changes keep their place among the data",
	  t_status_in_order },
	{ "messages of another session are dropped and counted", t_stale },
};

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	tenv.epfd = epoll_create1(EPOLL_CLOEXEC);
	linger_done = on_linger_done;
	if (tenv.epfd < 0 || resolver_fd() < 0)
		return 1;
	{
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = tok(TOK_RESOLVER, 0, 0, 0) };

		epoll_ctl(tenv.epfd, EPOLL_CTL_ADD, resolver_fd(), &ev);
	}
	return unit_run(tests, sizeof(tests) / sizeof(tests[0]));
}
