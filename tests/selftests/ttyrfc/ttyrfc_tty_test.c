// SPDX-License-Identifier: GPL-2.0
/*
 * tty ABI tests for ttyrfc: /dev/ttyRFC<n> must behave like a local serial
 * port (a USB adapter or a UART) while its other end is an RFC 2217 server.
 *
 * Every test brings its own server (rfc2217_peer.c, a thread in the test
 * process) on an ephemeral 127.0.0.1 port, adds a port for it with
 * "ttyrfcctl add", opens it, and checks what the server received, command
 * by command, or what the tty reports when the server acts as the board.
 * Needs: ttyrfc.ko loaded, ttyrfcd running, ttyrfcctl in $PATH or
 * $TTYRFCCTL, root. Run with the module's open_timeout=3 to keep the
 * open-timeout test short.
 *
 * Tests named issue9_<n>_* are regression tests for defects listed in the
 * project's issue 9 (item <n>); they fail until the driver is fixed.
 *
 * Most checks end with a sentinel: TCFLSH(TCIFLUSH) sends PURGE-DATA 1.
 * Data and control reach the server in the order they were made, so once
 * the sentinel is there, everything queued before it is too, and "exactly
 * these commands and nothing else" can be checked without sleeping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rfc2217_peer.h"
#include "ttyrfc_util.h"

#define WIRE_TIMEOUT_MS	5000	/* for anything that should take a moment */

/* A server, the port added for it and an open fd on it. */
struct rig {
	struct peer *peer;
	char dev[256];		/* "ttyRFC<n>", or why the add failed */
	int index;		/* -1: no port (not added, or deleted) */
	int fd;
	int conn;		/* the peer's connection of this session */
};

/* One COM-PORT-OPTION command as the server should receive it. */
struct wire {
	uint8_t cmd;
	uint8_t len;
	uint8_t val[4];
};

#define W1(c, v)	{ .cmd = (c), .len = 1, .val = { (v) } }
#define WCTL(v)		W1(CPO_SET_CONTROL, v)
#define WBAUD(r)	{ .cmd = CPO_SET_BAUDRATE, .len = 4, .val = {	\
			  ((r) >> 24) & 0xff, ((r) >> 16) & 0xff,	\
			  ((r) >> 8) & 0xff, (r) & 0xff } }
#define SENTINEL_VAL	1	/* PURGE-DATA 1, from TCFLSH(TCIFLUSH) */

static bool is_sentinel(const struct wire *w)
{
	return w->cmd == CPO_PURGE_DATA && w->len == 1 &&
	       w->val[0] == SENTINEL_VAL;
}

static void ev_wire(const struct peer_event *e, struct wire *w)
{
	memset(w, 0, sizeof(*w));
	w->cmd = e->cmd;
	w->len = e->val_len;
	memcpy(w->val, e->val, e->val_len < 4 ? e->val_len : 4);
}

static bool wire_eq(const struct wire *a, const struct wire *b)
{
	return a->cmd == b->cmd && a->len == b->len &&
	       !memcmp(a->val, b->val, a->len < 4 ? a->len : 4);
}

static void wire_render(char *out, size_t size, const struct wire *w,
			size_t n)
{
	size_t i, o = 0;
	int j;

	out[0] = '\0';
	for (i = 0; i < n && o + 24 < size; i++) {
		o += snprintf(out + o, size - o, "%s%u:", i ? " " : "",
			      w[i].cmd);
		for (j = 0; j < w[i].len && j < 4; j++)
			o += snprintf(out + o, size - o, "%s%u", j ? "." : "",
				      w[i].val[j]);
	}
}

static int wire_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct wire));
}

/*
 * Send the sentinel, then collect the commands connection @r->conn got from
 * event @mark on up to it. They must be @want (in any order if @any_order);
 * @got, if given, receives the events of the @n wanted ones.
 */
static void __expect_wire(struct __test_metadata *_metadata, struct rig *r,
			  size_t mark, const struct wire *want, size_t n,
			  bool any_order, struct peer_event *got,
			  const char *what)
{
	struct peer_event ev[64], e;
	struct wire w[64], sorted_want[64];
	long long end = now_ms() + WIRE_TIMEOUT_MS;
	char ws[512], gs[512];
	size_t ncmd = 0, i = mark;
	bool done = false;

	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIFLUSH));
	while (!done) {
		long long left = end - now_ms();

		if (left <= 0 || peer_event(r->peer, i++, &e, left))
			break;
		if (e.type != PEER_EV_CMD || (int)e.conn != r->conn)
			continue;
		if (ncmd == ARRAY_SIZE(w))
			break;
		ev[ncmd] = e;
		ev_wire(&e, &w[ncmd++]);
		/* the sentinel ends it, unless one is wanted at that place */
		done = is_sentinel(&w[ncmd - 1]) &&
		       (ncmd > n || !is_sentinel(&want[ncmd - 1]));
	}
	wire_render(ws, sizeof(ws), want, n);
	wire_render(gs, sizeof(gs), w, ncmd);
	ASSERT_TRUE(done) {
		TH_LOG("%s: no sentinel within %d ms; want [%s], got [%s]",
		       what, WIRE_TIMEOUT_MS, ws, gs);
	}
	ncmd--;		/* drop the sentinel */
	ASSERT_LE(n, ARRAY_SIZE(sorted_want));
	memcpy(sorted_want, want, n * sizeof(*want));
	if (any_order) {
		qsort(sorted_want, n, sizeof(*w), wire_cmp);
		qsort(w, ncmd, sizeof(*w), wire_cmp);
	}
	done = ncmd == n;
	for (i = 0; done && i < n; i++)
		done = wire_eq(&w[i], &sorted_want[i]);
	ASSERT_TRUE(done) {
		TH_LOG("%s: want [%s], server got [%s]", what, ws, gs);
	}
	if (got)
		memcpy(got, ev, n * sizeof(*got));
}

#define expect_wire(r, mark, what, ...) do {				\
	const struct wire __w[] = { __VA_ARGS__ };			\
	__expect_wire(_metadata, r, mark, __w, ARRAY_SIZE(__w), false,	\
		      NULL, what);					\
} while (0)

#define expect_nothing(r, mark, what)					\
	__expect_wire(_metadata, r, mark, NULL, 0, false, NULL, what)

/* The index of the first command @cmd (value @val) of @conn from @mark. */
static long wait_cmd(struct peer *p, int conn, size_t mark, uint8_t cmd,
		     int val, int timeout_ms);

/* Wait until everything queued so far has reached the server. */
static void wire_sync(struct __test_metadata *_metadata, struct rig *r)
{
	size_t mark = peer_mark(r->peer);

	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIFLUSH));
	ASSERT_LE(0, wait_cmd(r->peer, r->conn, mark, CPO_PURGE_DATA,
			      SENTINEL_VAL, WIRE_TIMEOUT_MS)) {
		TH_LOG("the sentinel (PURGE-DATA 1) never arrived");
	}
}

/* The index of the first command @cmd (value @val) of @conn from @mark. */
static long wait_cmd(struct peer *p, int conn, size_t mark, uint8_t cmd,
		     int val, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	struct peer_event e;

	for (; now_ms() < end; mark++) {
		if (peer_event(p, mark, &e, end - now_ms()))
			break;
		if (e.type == PEER_EV_CMD && (int)e.conn == conn &&
		    e.cmd == cmd && (val < 0 || (e.val_len == 1 &&
						 e.val[0] == val)))
			return mark;
	}
	return -ETIMEDOUT;
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->index = -1;
	r->fd = -1;
	r->conn = -1;
}

/*
 * Start a peer, add a port for it and open it the way a careful program
 * does (O_NONBLOCK, so that a CLOCAL left cleared by an earlier user of the
 * same index cannot make it wait for carrier), then put it in a known
 * state: raw 115200 8N1, CLOCAL, HUPCL, DTR and RTS on, nothing in flight.
 */
static void rig_up(struct __test_metadata *_metadata, struct rig *r,
		   unsigned int flags)
{
	struct termios2 t;
	size_t mark;

	r->peer = peer_start(flags);
	ASSERT_NE(NULL, r->peer) {
		TH_LOG("peer_start: %s", strerror(errno));
	}
	r->index = port_add(peer_port(r->peer), flags & PEER_RAW, r->dev,
			    sizeof(r->dev));
	ASSERT_LE(0, r->index) {
		TH_LOG("%s", r->dev);
	}
	mark = peer_mark(r->peer);
	r->fd = dev_open(r->dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	ASSERT_LE(0, r->fd) {
		TH_LOG("open /dev/%s: %s", r->dev, strerror(errno));
	}
	r->conn = peer_wait_conn(r->peer, mark, WIRE_TIMEOUT_MS);
	ASSERT_LT(0, r->conn) {
		TH_LOG("open succeeded but the server saw no connection");
	}
	ASSERT_EQ(0, tty_get(r->fd, &t));
	tty_raw(&t);
	ASSERT_EQ(0, tty_set(r->fd, &t));
	ASSERT_EQ(0, fcntl(r->fd, F_SETFL, O_RDWR));
	if (!(flags & PEER_RAW))
		wire_sync(_metadata, r);
}

static void rig_down(struct rig *r)
{
	if (r->fd >= 0) {
		/* a test may leave output stopped, or data unsent */
		ioctl(r->fd, TCXONC, TCOON);
		ioctl(r->fd, TCFLSH, TCOFLUSH);
		close(r->fd);
	}
	if (r->index >= 0)
		port_del(r->dev);
	peer_stop(r->peer);
	rig_init(r);
}

static int mget(int fd)
{
	int m = -1;

	if (ioctl(fd, TIOCMGET, &m))
		return -1;
	return m;
}

static int mcall(int fd, unsigned long req, int bits)
{
	return ioctl(fd, req, &bits);
}

/* Poll TIOCMGET until (lines & @mask) == @want; the last value read. */
static int wait_mget(int fd, int mask, int want, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int m;

	while ((m = mget(fd)) >= 0 && (m & mask) != want && now_ms() < end)
		sleep_ms(2);
	return m;
}

static int icount(int fd, struct serial_icounter_struct *ic)
{
	memset(ic, 0, sizeof(*ic));
	return ioctl(fd, TIOCGICOUNT, ic);
}

/* Write all of @buf or fail. */
static ssize_t write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += n;
	}
	return done;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* SIGUSR1 interrupts system calls (no SA_RESTART): used to end waits. */
static void catch_sigusr1(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* A thread sleeping in TIOCMIWAIT. */
struct miwait {
	pthread_t thread;
	int fd;
	unsigned long mask;
	pid_t tid;
	int ret, err;
	int done;		/* eventfd, written when the ioctl returned */
};

static void *miwait_thread(void *arg)
{
	struct miwait *w = arg;
	uint64_t one = 1;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_SEQ_CST);
	w->ret = ioctl(w->fd, TIOCMIWAIT, w->mask);
	w->err = errno;
	if (write(w->done, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

/* Start the waiter: 0 once it sleeps in the ioctl, -ETIMEDOUT if not. */
static int miwait_start(struct miwait *w, int fd, unsigned long mask)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->mask = mask;
	w->done = eventfd(0, EFD_CLOEXEC);
	catch_sigusr1();
	if (w->done < 0 || pthread_create(&w->thread, NULL, miwait_thread, w))
		abort();
	while (!__atomic_load_n(&w->tid, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	return wait_asleep_in(getpid(), w->tid, SYS_ioctl, 3000);
}

static bool miwait_returned(struct miwait *w, int timeout_ms)
{
	return poll_for(w->done, POLLIN, timeout_ms) & POLLIN;
}

/* End the waiter, by signals if need be. */
static void miwait_stop(struct miwait *w)
{
	while (!miwait_returned(w, 50))
		pthread_kill(w->thread, SIGUSR1);
	pthread_join(w->thread, NULL);
	close(w->done);
}

/* ------------------------------------------------------------ open */

FIXTURE(open) {
	int unused;
};

FIXTURE_SETUP(open)
{
}

FIXTURE_TEARDOWN(open)
{
}

struct open_result {
	int err;		/* 0 or errno */
	long long ms;		/* how long open() took */
};

static struct open_result timed_open(const char *dev, int flags)
{
	long long t0 = now_ms();
	struct open_result res;
	int fd = dev_open(dev, flags);

	res.err = fd < 0 ? errno : 0;
	res.ms = now_ms() - t0;
	if (fd >= 0)
		close(fd);
	return res;
}

/*
 * Nothing listens on the remote: open() must fail with ECONNREFUSED, as
 * connect() would, and at once, so that "is the server running?" has a
 * clear answer instead of a wait.
 */
TEST_F(open, no_listener_econnrefused)
{
	struct open_result res;
	char dev[256];
	uint16_t port = unused_port();

	ASSERT_NE(0, port);
	ASSERT_LE(0, port_add(port, false, dev, sizeof(dev))) {
		TH_LOG("%s", dev);
	}
	res = timed_open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	port_del(dev);
	ASSERT_EQ(ECONNREFUSED, res.err) {
		TH_LOG("open: %s after %lld ms", strerror(res.err), res.ms);
	}
	EXPECT_GT(3000, res.ms);
}

/*
 * A server that never answers the TCP handshake (here: a listener whose
 * accept queue is full, so the kernel drops the SYNs), as when the Pi is
 * overloaded or a firewall eats the packets. open() must give up with
 * ETIMEDOUT within open_timeout seconds, never hang.
 */
TEST_F_TIMEOUT(open, unanswered_connect_times_out, 60)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(a);
	int lfd, filler, limit = open_timeout_s();
	struct open_result res;
	char dev[256];

	ASSERT_LT(0, limit);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&a, &alen));
	/* backlog 0 holds one connection; with it queued, SYNs are dropped */
	ASSERT_EQ(0, listen(lfd, 0));
	filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(filler, (struct sockaddr *)&a, sizeof(a)));

	ASSERT_LE(0, port_add(ntohs(a.sin_port), false, dev, sizeof(dev))) {
		TH_LOG("%s", dev);
	}
	res = timed_open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	port_del(dev);
	close(filler);
	close(lfd);
	ASSERT_EQ(ETIMEDOUT, res.err) {
		TH_LOG("open: %s after %lld ms", strerror(res.err), res.ms);
	}
	EXPECT_GE((limit + 3) * 1000LL, res.ms) {
		TH_LOG("open took %lld ms with open_timeout=%d", res.ms,
		       limit);
	}
}

/*
 * A server that accepts but never says a word (no telnet negotiation, no
 * data): the classic "ser2net accepter without telnet(rfc2217)" mistake.
 * open() may succeed (the TCP session is up) or time out, but it must
 * return within open_timeout, and so must the close after it.
 */
TEST_F_TIMEOUT(open, mute_server_bounded, 60)
{
	struct peer *peer = peer_start(PEER_MUTE);
	int fd, err, limit = open_timeout_s();
	long long t0, open_ms, close_ms;
	char dev[256];

	ASSERT_NE(NULL, peer);
	ASSERT_LT(0, limit);
	ASSERT_LE(0, port_add(peer_port(peer), false, dev, sizeof(dev))) {
		TH_LOG("%s", dev);
	}
	t0 = now_ms();
	fd = dev_open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	err = errno;
	open_ms = now_ms() - t0;
	if (fd >= 0) {
		EXPECT_EQ(1, write(fd, "x", 1));
		t0 = now_ms();
		close(fd);
		close_ms = now_ms() - t0;
		EXPECT_GT(5000, close_ms);
	}
	port_del(dev);
	peer_stop(peer);
	TH_LOG("open: %s after %lld ms", fd >= 0 ? "ok" : strerror(err),
	       open_ms);
	ASSERT_TRUE(fd >= 0 || err == ETIMEDOUT);
	EXPECT_GE((limit + 3) * 1000LL, open_ms);
}

/* ------------------------------------------------------------ port */

FIXTURE(port) {
	struct rig r;
	struct rig b;		/* a second port, for tests that need one */
};

FIXTURE_SETUP(port)
{
	rig_init(&self->r);
	rig_init(&self->b);
	rig_up(_metadata, &self->r, 0);
}

FIXTURE_TEARDOWN(port)
{
	rig_down(&self->b);
	rig_down(&self->r);
}

/*
 * esptool resets an ESP32 with DTR/RTS (TIOCMSET, or TIOCMBIS/TIOCMBIC):
 * every call must become exactly the SET-CONTROL commands of the lines it
 * changes (DTR 8/9, RTS 11/12), in order, nothing for lines that stay, and
 * both lines of one TIOCMSET in one TCP write (one recv() here), as a USB
 * bridge changes both at once. When both drop, RTS goes first: DTR=0,RTS=1
 * on the way would pull the board's EN low (ttyrfcd's documented order).
 */
TEST_F(port, modem_tiocmset)
{
	static const struct {
		unsigned long req;
		int bits;
		int n;
		struct wire w[2];
	} steps[] = {
		{ TIOCMSET, 0, 2, { WCTL(CTL_RTS_OFF), WCTL(CTL_DTR_OFF) } },
		{ TIOCMSET, TIOCM_DTR | TIOCM_RTS, 2,
		  { WCTL(CTL_DTR_ON), WCTL(CTL_RTS_ON) } },
		{ TIOCMSET, TIOCM_RTS, 1, { WCTL(CTL_DTR_OFF) } },
		{ TIOCMSET, TIOCM_DTR, 2,
		  { WCTL(CTL_DTR_ON), WCTL(CTL_RTS_OFF) } },
		{ TIOCMBIS, TIOCM_RTS, 1, { WCTL(CTL_RTS_ON) } },
		{ TIOCMBIC, TIOCM_RTS, 1, { WCTL(CTL_RTS_OFF) } },
		{ TIOCMBIC, TIOCM_DTR, 1, { WCTL(CTL_DTR_OFF) } },
		{ TIOCMBIS, TIOCM_DTR, 1, { WCTL(CTL_DTR_ON) } },
		{ TIOCMBIS, TIOCM_DTR, 0, { } },
		{ TIOCMBIS, TIOCM_DTR | TIOCM_RTS, 1, { WCTL(CTL_RTS_ON) } },
		{ TIOCMBIC, TIOCM_DTR | TIOCM_RTS, 2,
		  { WCTL(CTL_RTS_OFF), WCTL(CTL_DTR_OFF) } },
		{ TIOCMSET, 0, 0, { } },
	};
	struct rig *r = &self->r;
	struct peer_event got[2];
	char what[64];
	size_t i, mark;

	ASSERT_EQ(TIOCM_DTR | TIOCM_RTS,
		  mget(r->fd) & (TIOCM_DTR | TIOCM_RTS)) {
		TH_LOG("open did not raise DTR and RTS");
	}
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		snprintf(what, sizeof(what), "step %zu: %s %#x", i,
			 steps[i].req == TIOCMSET ? "TIOCMSET" :
			 steps[i].req == TIOCMBIS ? "TIOCMBIS" : "TIOCMBIC",
			 steps[i].bits);
		mark = peer_mark(r->peer);
		ASSERT_EQ(0, mcall(r->fd, steps[i].req, steps[i].bits));
		__expect_wire(_metadata, r, mark, steps[i].w, steps[i].n,
			      false, got, what);
		if (steps[i].n == 2)
			EXPECT_EQ(got[0].read, got[1].read) {
				TH_LOG("%s: the lines came in 2 TCP reads",
				       what);
			}
	}
}

/*
 * TIOCMGET is what esptool and pyserial read CTS/DSR/RI/CD with: DTR and
 * RTS must read back as last set here, the inputs as the server last
 * notified them (NOTIFY-MODEMSTATE), without waiting on the network.
 */
TEST_F(port, modem_tiocmget)
{
	const int in = TIOCM_CTS | TIOCM_DSR | TIOCM_RNG | TIOCM_CAR;
	struct rig *r = &self->r;
	long long t0;
	int m;

	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CD | MSR_DSR | MSR_CTS));
	m = wait_mget(r->fd, in, TIOCM_CTS | TIOCM_DSR | TIOCM_CAR, 3000);
	ASSERT_EQ(TIOCM_CTS | TIOCM_DSR | TIOCM_CAR, m & in) {
		TH_LOG("TIOCMGET %#x after NOTIFY-MODEMSTATE CD|DSR|CTS", m);
	}
	EXPECT_EQ(TIOCM_DTR | TIOCM_RTS, m & (TIOCM_DTR | TIOCM_RTS));

	/* local lines read back at once, whatever the server does */
	t0 = now_ms();
	ASSERT_EQ(0, mcall(r->fd, TIOCMBIC, TIOCM_DTR));
	m = mget(r->fd);
	EXPECT_EQ(TIOCM_RTS, m & (TIOCM_DTR | TIOCM_RTS));
	EXPECT_GT(1000, now_ms() - t0);

	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_RI));
	m = wait_mget(r->fd, in, TIOCM_RNG, 3000);
	EXPECT_EQ(TIOCM_RNG, m & in) {
		TH_LOG("TIOCMGET %#x after NOTIFY-MODEMSTATE RI", m);
	}
	ASSERT_EQ(0, peer_send_modemstate(r->peer, 0));
	m = wait_mget(r->fd, in, 0, 3000);
	EXPECT_EQ(0, m & in);
}

/*
 * TIOCMIWAIT sleeps until one of the given inputs changes (programs wait
 * for a modem's CD or RI that way): a change of another line must not
 * wake it, a change of a wanted one must.
 */
TEST_F(port, modem_tiocmiwait_wakes)
{
	struct rig *r = &self->r;
	struct miwait w;
	bool early, woke;

	ASSERT_EQ(0, miwait_start(&w, r->fd, TIOCM_RNG)) {
		TH_LOG("TIOCMIWAIT(RI) did not go to sleep");
		miwait_stop(&w);
	}
	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CTS));
	wait_mget(r->fd, TIOCM_CTS, TIOCM_CTS, 3000);
	early = miwait_returned(&w, 100);
	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CTS | MSR_RI));
	woke = miwait_returned(&w, 3000);
	miwait_stop(&w);
	EXPECT_FALSE(early) {
		TH_LOG("TIOCMIWAIT(RI) returned on a CTS change");
	}
	ASSERT_TRUE(woke) {
		TH_LOG("TIOCMIWAIT(RI) did not wake when RI rose");
	}
	EXPECT_EQ(0, w.ret) {
		TH_LOG("TIOCMIWAIT: %s", strerror(w.err));
	}
}

/*
 * A program must be able to give up waiting: a signal interrupts
 * TIOCMIWAIT with EINTR (no SA_RESTART), as on a UART.
 */
TEST_F(port, modem_tiocmiwait_eintr)
{
	struct rig *r = &self->r;
	struct miwait w;
	bool woke;

	ASSERT_EQ(0, miwait_start(&w, r->fd,
				  TIOCM_CAR | TIOCM_DSR | TIOCM_CTS)) {
		TH_LOG("TIOCMIWAIT did not go to sleep");
		miwait_stop(&w);
	}
	EXPECT_FALSE(miwait_returned(&w, 100));
	pthread_kill(w.thread, SIGUSR1);
	woke = miwait_returned(&w, 3000);
	miwait_stop(&w);
	ASSERT_TRUE(woke) {
		TH_LOG("a signal did not interrupt TIOCMIWAIT");
	}
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EINTR, w.err) {
		TH_LOG("TIOCMIWAIT: %s", strerror(w.err));
	}
}

static bool icount_reached(int fd, const struct serial_icounter_struct *base,
			   const struct serial_icounter_struct *want,
			   struct serial_icounter_struct *now, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	do {
		if (icount(fd, now))
			return false;
		if (now->cts - base->cts == want->cts &&
		    now->dsr - base->dsr == want->dsr &&
		    now->rng - base->rng == want->rng &&
		    now->dcd - base->dcd == want->dcd &&
		    now->frame - base->frame == want->frame &&
		    now->parity - base->parity == want->parity &&
		    now->brk - base->brk == want->brk &&
		    now->overrun - base->overrun == want->overrun)
			return true;
		sleep_ms(2);
	} while (now_ms() < end);
	return false;
}

/* The counters that moved from @b to @n, for failure messages. */
static const char *ic_delta(char *out, size_t size,
			    const struct serial_icounter_struct *n,
			    const struct serial_icounter_struct *b)
{
	snprintf(out, size,
		 "cts %d dsr %d rng %d dcd %d fe %d pe %d brk %d oe %d",
		 n->cts - b->cts, n->dsr - b->dsr, n->rng - b->rng,
		 n->dcd - b->dcd, n->frame - b->frame, n->parity - b->parity,
		 n->brk - b->brk, n->overrun - b->overrun);
	return out;
}

/*
 * TIOCGICOUNT counts every change of CTS/DSR/RI/CD and every line error
 * (framing, parity, break, overrun) the server reports: monitors and
 * statmon-like tools show them, and TIOCMIWAIT users compare them to see
 * which line moved.
 */
TEST_F(port, modem_tiocgicount)
{
	struct serial_icounter_struct base, now, want = { 0 };
	struct rig *r = &self->r;
	char buf[128];

	ASSERT_EQ(0, icount(r->fd, &base));

	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CD | MSR_DSR | MSR_CTS));
	want.cts = want.dsr = want.dcd = 1;
	EXPECT_TRUE(icount_reached(r->fd, &base, &want, &now, 3000)) {
		TH_LOG("after CD|DSR|CTS: %s",
		       ic_delta(buf, sizeof(buf), &now, &base));
	}
	/* CTS drops, RI rises */
	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CD | MSR_DSR | MSR_RI));
	want.cts = 2;
	want.rng = 1;
	EXPECT_TRUE(icount_reached(r->fd, &base, &want, &now, 3000)) {
		TH_LOG("after CD|DSR|RI: %s",
		       ic_delta(buf, sizeof(buf), &now, &base));
	}
	ASSERT_EQ(0, peer_send_linestate(r->peer, LSR_FRAMING));
	ASSERT_EQ(0, peer_send_linestate(r->peer, LSR_PARITY));
	ASSERT_EQ(0, peer_send_linestate(r->peer, LSR_BREAK));
	ASSERT_EQ(0, peer_send_linestate(r->peer, LSR_OVERRUN));
	want.frame = want.parity = want.brk = want.overrun = 1;
	EXPECT_TRUE(icount_reached(r->fd, &base, &want, &now, 3000)) {
		TH_LOG("after line errors: %s",
		       ic_delta(buf, sizeof(buf), &now, &base));
	}
	ioctl(r->fd, TCFLSH, TCIFLUSH);
}

static int set_speed(int fd, unsigned int cbaud, unsigned int rate)
{
	struct termios2 t;

	if (tty_get(fd, &t))
		return -1;
	t.c_cflag = (t.c_cflag & ~(CBAUD | CIBAUD)) | cbaud;
	t.c_ispeed = t.c_ospeed = rate;
	return tty_set(fd, &t);
}

static int set_cflag(int fd, unsigned int clear, unsigned int set)
{
	struct termios2 t;

	if (tty_get(fd, &t))
		return -1;
	t.c_cflag = (t.c_cflag & ~clear) | set;
	return tty_set(fd, &t);
}

/*
 * Baud rates: the standard ones (TCSETS2 with a Bxxx code, as pyserial
 * and esptool's 921600 use) and any rate through BOTHER, as esptool's
 * odd rates and Linux's own termios2 users do, become SET-BAUDRATE with
 * the rate in 4 bytes, network order. Re-setting a rate sends nothing.
 */
TEST_F(port, termios_baud)
{
	static const struct {
		unsigned int cbaud, rate;
	} rates[] = {
		{ B9600, 9600 }, { B921600, 921600 }, { B2000000, 2000000 },
		{ BOTHER, 1234567 }, { BOTHER, 250000 }, { B115200, 115200 },
	};
	struct rig *r = &self->r;
	char what[64];
	size_t i, mark;

	for (i = 0; i < ARRAY_SIZE(rates); i++) {
		unsigned int rate = rates[i].rate;

		snprintf(what, sizeof(what), "%s %u",
			 rates[i].cbaud == BOTHER ? "BOTHER" : "Bxxx", rate);
		mark = peer_mark(r->peer);
		ASSERT_EQ(0, set_speed(r->fd, rates[i].cbaud, rate));
		expect_wire(r, mark, what, WBAUD(rate));
		mark = peer_mark(r->peer);
		ASSERT_EQ(0, set_speed(r->fd, rates[i].cbaud, rate));
		expect_nothing(r, mark, "the same rate again");
	}
}

/* CS5..CS8 become SET-DATASIZE 5..8 (7-bit protocols, old terminals). */
TEST_F(port, termios_datasize)
{
	static const unsigned int cs[] = { CS5, CS6, CS7, CS8 };
	struct rig *r = &self->r;
	char what[16];
	size_t i, mark;

	for (i = 0; i < ARRAY_SIZE(cs); i++) {
		snprintf(what, sizeof(what), "CS%zu", i + 5);
		mark = peer_mark(r->peer);
		ASSERT_EQ(0, set_cflag(r->fd, CSIZE, cs[i]));
		expect_wire(r, mark, what, W1(CPO_SET_DATASIZE, i + 5));
	}
}

/* Parity none/odd/even/mark/space becomes SET-PARITY 1/2/3/4/5. */
TEST_F(port, termios_parity)
{
	static const struct {
		const char *name;
		unsigned int bits;
		uint8_t val;
	} par[] = {
		{ "odd", PARENB | PARODD, 2 },
		{ "even", PARENB, 3 },
		{ "mark", PARENB | CMSPAR | PARODD, 4 },
		{ "space", PARENB | CMSPAR, 5 },
		{ "none", 0, 1 },
	};
	struct rig *r = &self->r;
	size_t i, mark;

	for (i = 0; i < ARRAY_SIZE(par); i++) {
		mark = peer_mark(r->peer);
		ASSERT_EQ(0, set_cflag(r->fd, PARENB | PARODD | CMSPAR,
				       par[i].bits));
		expect_wire(r, mark, par[i].name,
			    W1(CPO_SET_PARITY, par[i].val));
	}
}

/* CSTOPB becomes SET-STOPSIZE 2, and clearing it SET-STOPSIZE 1. */
TEST_F(port, termios_stopsize)
{
	struct rig *r = &self->r;
	size_t mark;

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, 0, CSTOPB));
	expect_wire(r, mark, "CSTOPB", W1(CPO_SET_STOPSIZE, 2));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, CSTOPB, 0));
	expect_wire(r, mark, "no CSTOPB", W1(CPO_SET_STOPSIZE, 1));
}

/*
 * Flow control: CRTSCTS is hardware flow control (SET-CONTROL 3), IXON or
 * IXOFF software flow control (2), neither none (1). Boards that need
 * RTS/CTS lose data without it.
 */
TEST_F(port, termios_flow)
{
	struct rig *r = &self->r;
	size_t mark;

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, 0, CRTSCTS));
	expect_wire(r, mark, "CRTSCTS", WCTL(CTL_FLOW_HW));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, CRTSCTS, 0));
	expect_wire(r, mark, "no CRTSCTS", WCTL(CTL_FLOW_NONE));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, IXON));
	expect_wire(r, mark, "IXON", WCTL(CTL_FLOW_XONXOFF));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, IXON | IXOFF));
	expect_nothing(r, mark, "IXON|IXOFF: still XON/XOFF");
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, 0));
	expect_wire(r, mark, "no IXON/IXOFF", WCTL(CTL_FLOW_NONE));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, IXOFF));
	expect_wire(r, mark, "IXOFF", WCTL(CTL_FLOW_XONXOFF));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, 0));
	expect_wire(r, mark, "no IXOFF", WCTL(CTL_FLOW_NONE));
}

/*
 * Programs re-apply their whole termios all the time (pyserial on every
 * attribute change): the same termios again must send nothing, and one
 * call changing several fields sends each changed one once.
 */
TEST_F(port, termios_unchanged_sends_nothing)
{
	const struct wire three[] = {
		W1(CPO_SET_DATASIZE, 7), W1(CPO_SET_PARITY, 3),
		W1(CPO_SET_STOPSIZE, 2),
	};
	struct rig *r = &self->r;
	struct termios2 t;
	size_t mark;
	int i;

	ASSERT_EQ(0, tty_get(r->fd, &t));
	mark = peer_mark(r->peer);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, tty_set(r->fd, &t));
	expect_nothing(r, mark, "the same termios three times");

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, CSIZE | PARODD,
			       CS7 | PARENB | CSTOPB));
	__expect_wire(_metadata, r, mark, three, ARRAY_SIZE(three), true,
		      NULL, "7E2 in one call");
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, set_cflag(r->fd, CSIZE | PARENB | CSTOPB, CS7 | PARENB |
			       CSTOPB));
	expect_nothing(r, mark, "7E2 again");
}

/*
 * Break: TIOCSBRK/TIOCCBRK turn it on and off (SET-CONTROL 5/6), and
 * tcsendbreak() (TCSBRK 0) holds it for about 250 ms: some boards enter
 * their boot loader or a debugger on a break.
 */
TEST_F(port, break_ctl)
{
	struct rig *r = &self->r;
	const struct wire pulse[] = {
		WCTL(CTL_BREAK_ON), WCTL(CTL_BREAK_OFF),
	};
	struct peer_event got[2];
	long long gap;
	size_t mark;

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TIOCSBRK));
	expect_wire(r, mark, "TIOCSBRK", WCTL(CTL_BREAK_ON));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TIOCCBRK));
	expect_wire(r, mark, "TIOCCBRK", WCTL(CTL_BREAK_OFF));

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TCSBRK, 0));
	__expect_wire(_metadata, r, mark, pulse, 2, false, got,
		      "tcsendbreak(fd, 0)");
	gap = (got[1].ts.tv_sec - got[0].ts.tv_sec) * 1000LL +
	      (got[1].ts.tv_nsec - got[0].ts.tv_nsec) / 1000000;
	TH_LOG("tcsendbreak: break held %lld ms at the server", gap);
	EXPECT_LE(200, gap);
	EXPECT_GE(2000, gap);
}

/*
 * TCFLSH also empties the server's buffers (PURGE-DATA 1 receive, 2
 * transmit, 3 both): esptool flushes before each sync attempt and must
 * not see stale bytes from the board.
 */
TEST_F(port, flush_purge)
{
	struct rig *r = &self->r;
	size_t mark;

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIFLUSH));
	expect_wire(r, mark, "TCIFLUSH", W1(CPO_PURGE_DATA, 1));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCOFLUSH));
	expect_wire(r, mark, "TCOFLUSH", W1(CPO_PURGE_DATA, 2));
	mark = peer_mark(r->peer);
	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIOFLUSH));
	expect_wire(r, mark, "TCIOFLUSH", W1(CPO_PURGE_DATA, 3));
}

/*
 * Binary data must pass unchanged: every byte value written reaches the
 * board, 0xFF doubled on the wire (telnet IAC) and undone by the server.
 * Firmware images are full of 0xFF.
 */
TEST_F(port, data_to_peer)
{
	struct rig *r = &self->r;
	uint8_t out[1024], in[sizeof(out)];
	size_t i, got, mark, esc = 0;
	struct peer_event e;

	for (i = 0; i < sizeof(out); i++)
		out[i] = i;
	mark = peer_mark(r->peer);
	ASSERT_EQ((ssize_t)sizeof(out), write_all(r->fd, out, sizeof(out)));
	got = peer_wait_data(r->peer, r->conn, mark, in, sizeof(in),
			     WIRE_TIMEOUT_MS);
	ASSERT_EQ(sizeof(out), got);
	ASSERT_EQ(0, memcmp(out, in, sizeof(out))) {
		for (i = 0; i < sizeof(out) && out[i] == in[i]; i++)
			;
		TH_LOG("first difference at byte %zu: %#x, not %#x", i,
		       in[i], out[i]);
	}
	for (i = mark; !peer_event(r->peer, i, &e, 0); i++)
		if (e.type == PEER_EV_DATA && (int)e.conn == r->conn)
			esc += e.escaped_ff;
	EXPECT_EQ(sizeof(out) / 256, esc) {
		TH_LOG("%zu of %zu 0xFF bytes were doubled on the wire", esc,
		       sizeof(out) / 256);
	}
}

/* ... and every byte the board sends reads back unchanged, once. */
TEST_F(port, data_from_peer)
{
	struct rig *r = &self->r;
	uint8_t out[512], in[sizeof(out) + 16];
	size_t i, got;

	for (i = 0; i < sizeof(out); i++)
		out[i] = 255 - i;
	ASSERT_EQ(0, peer_send_data(r->peer, out, sizeof(out)));
	got = read_until(r->fd, in, sizeof(out), -1, WIRE_TIMEOUT_MS);
	ASSERT_EQ(sizeof(out), got);
	ASSERT_EQ(0, memcmp(out, in, sizeof(out)));
	/* nothing extra, e.g. an IAC left doubled */
	EXPECT_EQ(0, poll_for(r->fd, POLLIN, 100) & POLLIN);
}

static uint8_t pattern(size_t i)
{
	return i % 251;		/* a lost or repeated block shows */
}

/*
 * A board that stops reading (its UART slower than the network, ser2net's
 * buffers full): TCP pushes back, and the tty must push back on the
 * writer in turn (a non-blocking write gets EAGAIN, poll() has no
 * POLLOUT, TIOCOUTQ counts what waits) rather than drop data. Once the
 * server reads again, every byte arrives in order and tcdrain() returns.
 */
TEST_F_TIMEOUT(port, data_server_stops_reading, 120)
{
	const size_t cap = 16 << 20;
	struct rig *b = &self->b;
	uint8_t *in = malloc(cap), chunk[4096];
	size_t total = 0, got, i, mark;
	long long end = now_ms() + 60000;
	bool full = false;
	int outq = -1;
	ssize_t n = 0;

	ASSERT_NE(NULL, in);
	rig_up(_metadata, b, PEER_SMALLBUF);
	mark = peer_mark(b->peer);
	ASSERT_EQ(0, peer_pause(b->peer, true));
	ASSERT_EQ(0, fcntl(b->fd, F_SETFL, O_RDWR | O_NONBLOCK));
	while (!full && total < cap && now_ms() < end) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = pattern(total + i);
		n = write(b->fd, chunk, sizeof(chunk));
		if (n > 0)
			total += n;
		else if (n < 0 && errno == EAGAIN)
			/* full: no room comes back while nobody reads */
			full = !(poll_for(b->fd, POLLOUT, 300) & POLLOUT);
		else
			break;
	}
	if (full)
		ioctl(b->fd, TIOCOUTQ, &outq);
	ASSERT_EQ(0, peer_pause(b->peer, false));
	TH_LOG("%zu bytes written before the tty pushed back, TIOCOUTQ %d",
	       total, outq);
	ASSERT_TRUE(full) {
		TH_LOG("never blocked the writer: %s",
		       n < 0 ? strerror(errno) : "(no EAGAIN)");
	}
	EXPECT_LT(0, outq);

	got = peer_wait_data(b->peer, b->conn, mark, in, total, 60000);
	ASSERT_EQ(total, got);
	for (i = 0; i < total && in[i] == pattern(i); i++)
		;
	EXPECT_EQ(total, i) {
		TH_LOG("data differs from byte %zu on", i);
	}
	free(in);
	ASSERT_EQ(0, fcntl(b->fd, F_SETFL, O_RDWR));
	ASSERT_EQ(0, ioctl(b->fd, TCSBRK, 1));		/* tcdrain() */
	ASSERT_EQ(0, ioctl(b->fd, TIOCOUTQ, &outq));
	EXPECT_EQ(0, outq);
	EXPECT_TRUE(poll_for(b->fd, POLLOUT, 0) & POLLOUT);
}

/* Wait for the tty to be hung up; then read gives 0 (or EIO), write EIO. */
static void expect_hung_up(struct __test_metadata *_metadata, int fd,
			   const char *why)
{
	int rev = poll_for(fd, POLLHUP, WIRE_TIMEOUT_MS);
	char c;
	ssize_t n = 0;

	ASSERT_TRUE(rev & POLLHUP) {
		TH_LOG("%s: no hangup within %d ms", why, WIRE_TIMEOUT_MS);
	}
	n = read(fd, &c, 1);
	EXPECT_TRUE(n == 0 || (n < 0 && errno == EIO)) {
		TH_LOG("%s: read after hangup: %zd (%s)", why, n,
		       strerror(errno));
	}
	n = write(fd, "x", 1);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EIO, errno) {
		TH_LOG("%s: write after hangup: %s", why, strerror(errno));
	}
}

/*
 * Without CLOCAL the port is a modem line: losing the server (the TCP
 * session) hangs the tty up, so a reader sees end of file and a writer
 * EIO instead of talking into the void.
 */
TEST_F(port, hangup_link_loss_no_clocal)
{
	struct rig *r = &self->r;

	ASSERT_EQ(0, tty_set_clocal(r->fd, false));
	ASSERT_EQ(0, peer_refuse(r->peer, true));
	ASSERT_EQ(0, peer_drop(r->peer));
	expect_hung_up(_metadata, r->fd, "link loss without CLOCAL");
}

/*
 * With CLOCAL (the default) a lost session is not a hangup: the fd stays
 * usable while the server is away, ttyrfcd reconnects, and data flows
 * again both ways on the same fd, bytes written meanwhile included.
 */
TEST_F_TIMEOUT(port, hangup_link_loss_clocal_reconnects, 60)
{
	struct rig *r = &self->r;
	uint8_t in[64];
	size_t mark, got;
	int conn;

	ASSERT_EQ(0, peer_refuse(r->peer, true));
	ASSERT_EQ(0, peer_drop(r->peer));
	ASSERT_EQ(0, wait_link(r->dev, "up", true, WIRE_TIMEOUT_MS)) {
		TH_LOG("the link never left \"up\" after the server closed");
	}
	EXPECT_EQ(0, poll_for(r->fd, POLLHUP, 200) & POLLHUP) {
		TH_LOG("a CLOCAL tty was hung up by a link loss");
	}
	ASSERT_EQ(4, write(r->fd, "held", 4)) {
		TH_LOG("write while the link is down: %s", strerror(errno));
	}

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, peer_refuse(r->peer, false));
	conn = peer_wait_conn(r->peer, mark, 20000);
	ASSERT_LT(0, conn) {
		TH_LOG("ttyrfcd did not reconnect within 20 s");
	}
	r->conn = conn;
	ASSERT_EQ(5, write(r->fd, "again", 5));
	got = peer_wait_data(r->peer, conn, mark, in, 9, WIRE_TIMEOUT_MS);
	ASSERT_NE(NULL, memmem(in, got, "again", 5)) {
		TH_LOG("data written after the reconnect never arrived");
	}
	EXPECT_TRUE(got == 9 && !memcmp(in, "heldagain", 9)) {
		TH_LOG("data written in the outage lost: got \"%.*s\"",
		       (int)got, in);
	}
	ASSERT_EQ(0, peer_send_data(r->peer, "back", 4));
	got = read_until(r->fd, in, sizeof(in), 'k', WIRE_TIMEOUT_MS);
	EXPECT_TRUE(got == 4 && !memcmp(in, "back", 4)) {
		TH_LOG("read after the reconnect: \"%.*s\"", (int)got, in);
	}
}

/*
 * Carrier: losing CD (NOTIFY-MODEMSTATE without 0x80) hangs up a tty
 * without CLOCAL, as on a modem; with CLOCAL it is just a line change.
 */
TEST_F(port, hangup_cd_loss)
{
	struct rig *r = &self->r;
	int m;

	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CD));
	m = wait_mget(r->fd, TIOCM_CAR, TIOCM_CAR, 3000);
	ASSERT_EQ(TIOCM_CAR, m & TIOCM_CAR);
	ASSERT_EQ(0, peer_send_modemstate(r->peer, 0));
	m = wait_mget(r->fd, TIOCM_CAR, 0, 3000);
	ASSERT_EQ(0, m & TIOCM_CAR);
	EXPECT_EQ(0, poll_for(r->fd, POLLHUP, 200) & POLLHUP) {
		TH_LOG("CD loss hung up a CLOCAL tty");
	}
	ASSERT_EQ(1, write(r->fd, "x", 1));

	ASSERT_EQ(0, peer_send_modemstate(r->peer, MSR_CD));
	m = wait_mget(r->fd, TIOCM_CAR, TIOCM_CAR, 3000);
	ASSERT_EQ(TIOCM_CAR, m & TIOCM_CAR);
	ASSERT_EQ(0, tty_set_clocal(r->fd, false));
	ASSERT_EQ(0, peer_send_modemstate(r->peer, 0));
	expect_hung_up(_metadata, r->fd, "CD loss without CLOCAL");
}

/* ------------------------------------------------ issue 9 regressions */

static int blocking_open(void *arg)
{
	int fd = dev_open(arg, O_RDWR | O_NOCTTY);

	return fd < 0 ? errno : 0;
}

/*
 * regression: issue 9 item 2
 * A blocking open (no O_NONBLOCK) of a tty without CLOCAL waits for
 * carrier, like a dial-in modem line (getty, mgetty, uucp): it must
 * complete once the server raises CD. The driver must wake the opener on
 * the CD change (serial_core and usb-serial wake port->open_wait).
 */
TEST_F_TIMEOUT(port, issue9_2_blocking_open_waits_for_cd, 60)
{
	struct rig *r = &self->r;
	struct child c;
	int conn, ret, res = -1;
	size_t mark;

	/* termios outlives the close: the next open waits for carrier */
	ASSERT_EQ(0, tty_set_clocal(r->fd, false));
	mark = peer_mark(r->peer);
	close(r->fd);
	r->fd = -1;
	/* the old session is over before the new one starts */
	for (;; mark++) {
		struct peer_event e;

		ASSERT_EQ(0, peer_event(r->peer, mark, &e, WIRE_TIMEOUT_MS));
		if (e.type == PEER_EV_CLOSE)
			break;
	}

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, child_start(&c, blocking_open, r->dev));
	conn = peer_wait_conn(r->peer, mark, WIRE_TIMEOUT_MS);
	/* the tty core raises DTR/RTS just before it sleeps for carrier */
	if (conn > 0 &&
	    wait_cmd(r->peer, conn, mark, CPO_SET_CONTROL, CTL_RTS_ON,
		     WIRE_TIMEOUT_MS) >= 0 &&
	    wait_wchan(c.pid, "block_til_ready", 2000))
		TH_LOG("opener not seen asleep in tty_port_block_til_ready");
	if (conn > 0)
		peer_send_modemstate(r->peer, MSR_CD | MSR_DSR | MSR_CTS);
	ret = child_wait(&c, 5000, &res);

	/* back to a usable port for the teardown */
	r->fd = dev_open(r->dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (r->fd >= 0)
		tty_set_clocal(r->fd, true);

	ASSERT_LT(0, conn) {
		TH_LOG("the blocking open made no connection");
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("without CLOCAL: open still blocked 5 s after CD rose");
	}
	ASSERT_EQ(0, res) {
		TH_LOG("blocking open: %s", strerror(res));
	}
}

/* Connections @p got from @mark on. */
static int count_conns(struct peer *p, size_t mark)
{
	struct peer_event e;
	int n = 0;

	for (; !peer_event(p, mark, &e, 0); mark++)
		n += e.type == PEER_EV_CONN;
	return n;
}

/*
 * Open @b's port; it must connect to @b's server, and @old (the server of
 * a deleted port) must get no connection from event @mark_old on.
 */
static void expect_own_remote(struct __test_metadata *_metadata,
			      struct rig *b, struct peer *old,
			      size_t mark_old, const char *why)
{
	size_t mark = peer_mark(b->peer), got;
	long long t0 = now_ms();
	uint8_t in[8];
	int err;

	b->fd = dev_open(b->dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	err = errno;
	ASSERT_LE(0, b->fd) {
		TH_LOG("%s: open /dev/%s: %s after %lld ms", why, b->dev,
		       strerror(err), now_ms() - t0);
		TH_LOG("%s: the old server got %d connection(s) meanwhile",
		       why, count_conns(old, mark_old));
	}
	b->conn = peer_wait_conn(b->peer, mark, WIRE_TIMEOUT_MS);
	ASSERT_LT(0, b->conn) {
		TH_LOG("%s: /dev/%s did not connect to its server", why,
		       b->dev);
		TH_LOG("%s: the old server got %d connection(s)", why,
		       count_conns(old, mark_old));
	}
	EXPECT_EQ(0, count_conns(old, mark_old)) {
		TH_LOG("%s: the old server got the new port's connection",
		       why);
	}
	ASSERT_EQ(0, tty_set_clocal(b->fd, true));
	ASSERT_EQ(4, write(b->fd, "to-b", 4));
	got = peer_wait_data(b->peer, b->conn, mark, in, 4, WIRE_TIMEOUT_MS);
	ASSERT_TRUE(got == 4 && !memcmp(in, "to-b", 4));
}

/*
 * regression: issue 9 item 3
 * "ttyrfcctl del" of an open port must work like unplugging a USB serial
 * adapter: the open fd sees a hangup (read 0, write EIO), the device goes
 * away, and a port added afterwards works with its own server while the
 * old fd is still held, even if it gets the same index.
 */
TEST_F(port, issue9_3_del_open_port_is_unplug)
{
	struct rig *r = &self->r, *b = &self->b;
	char old[sizeof(r->dev)];
	size_t mark_a;
	int ret;

	strcpy(old, r->dev);
	ret = port_del(r->dev);
	ASSERT_EQ(0, ret) {
		TH_LOG("del of an open port: exit %d, not a hangup", ret);
	}
	r->index = -1;
	expect_hung_up(_metadata, r->fd, "del of an open port");

	mark_a = peer_mark(r->peer);
	b->peer = peer_start(0);
	ASSERT_NE(NULL, b->peer);
	b->index = port_add(peer_port(b->peer), false, b->dev, sizeof(b->dev));
	ASSERT_LE(0, b->index) {
		TH_LOG("%s", b->dev);
	}
	TH_LOG("deleted port %s (still held), new port %s", old, b->dev);
	expect_own_remote(_metadata, b, r->peer, mark_a,
			  "after del of an open port");
}

/*
 * regression: issue 9 item 3
 * A tty hung up by a link loss can still be held by its opener after the
 * port is deleted. A new port that gets the same index must connect to
 * ITS server, not to the old one: the minor may be reused only once the
 * old tty is gone (released in .destruct, as rpmsg_tty and usb-serial).
 */
TEST_F_TIMEOUT(port, issue9_3_reused_index_own_remote, 60)
{
	struct rig *r = &self->r, *b = &self->b;
	char old[sizeof(r->dev)];
	size_t mark_a;
	int ret;

	ASSERT_EQ(0, tty_set_clocal(r->fd, false));
	ASSERT_EQ(0, peer_drop(r->peer));
	expect_hung_up(_metadata, r->fd, "link loss without CLOCAL");
	/* the old fd stays open on purpose */
	ret = port_del(r->dev);
	ASSERT_EQ(0, ret) {
		TH_LOG("ttyrfcctl del of a hung-up port: exit %d", ret);
	}
	strcpy(old, r->dev);
	r->index = -1;
	mark_a = peer_mark(r->peer);

	b->peer = peer_start(0);
	ASSERT_NE(NULL, b->peer);
	b->index = port_add(peer_port(b->peer), false, b->dev, sizeof(b->dev));
	ASSERT_LE(0, b->index) {
		TH_LOG("%s", b->dev);
	}
	TH_LOG("old port %s (still held), new port %s", old, b->dev);
	expect_own_remote(_metadata, b, r->peer, mark_a,
			  "regression: issue 9 item 3: index reuse");
}

struct mbis {
	pthread_barrier_t *go;
	int fd, bit;
	bool *stop;
	int err;
};

static void *mbis_thread(void *arg)
{
	struct mbis *m = arg;

	for (;;) {
		pthread_barrier_wait(m->go);
		if (__atomic_load_n(m->stop, __ATOMIC_SEQ_CST))
			return NULL;
		if (mcall(m->fd, TIOCMBIS, m->bit) && !m->err)
			m->err = errno;
		pthread_barrier_wait(m->go);
	}
}

/*
 * regression: issue 9 item 5
 * Two threads raising different lines at the same time (TIOCMBIS DTR and
 * TIOCMBIS RTS) must both win, as on a UART: neither TIOCMGET nor the
 * server may lose a line. A read-modify-write of the lines split over two
 * locked sections loses one now and then.
 */
TEST_F_TIMEOUT(port, issue9_5_concurrent_tiocmbis, 90)
{
	const int both = TIOCM_DTR | TIOCM_RTS;
	struct rig *r = &self->r;
	pthread_barrier_t go;
	pthread_t th[2];
	struct mbis m[2];
	bool stop = false;
	int round, lost = -1, seen = 0, dtr = 1, rts = 1;
	long long end = now_ms() + 15000;
	struct peer_event e;
	size_t mark, i;

	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 3));
	for (i = 0; i < 2; i++) {
		m[i] = (struct mbis){ &go, r->fd, i ? TIOCM_RTS : TIOCM_DTR,
				      &stop, 0 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mbis_thread, &m[i]));
	}
	mark = peer_mark(r->peer);
	for (round = 0; round < 2000 && now_ms() < end; round++) {
		if (mcall(r->fd, TIOCMBIC, both))
			break;
		pthread_barrier_wait(&go);	/* both threads: TIOCMBIS */
		pthread_barrier_wait(&go);	/* both done */
		seen = mget(r->fd);
		if ((seen & both) != both) {
			lost = round;
			break;
		}
	}
	__atomic_store_n(&stop, true, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&go);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	TH_LOG("%d rounds", round);
	EXPECT_EQ(0, m[0].err + m[1].err);

	ASSERT_EQ(-1, lost) {
		TH_LOG("round %d: TIOCMGET %#x after TIOCMBIS DTR || RTS",
		       lost, seen);
	}
	/* the server's view, replaying its SET-CONTROL commands */
	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIFLUSH));
	for (i = mark;; i++) {
		ASSERT_EQ(0, peer_event(r->peer, i, &e, WIRE_TIMEOUT_MS));
		if (e.type != PEER_EV_CMD || (int)e.conn != r->conn)
			continue;
		if (e.cmd == CPO_PURGE_DATA)
			break;
		if (e.cmd != CPO_SET_CONTROL)
			continue;
		if (e.val[0] == CTL_DTR_ON || e.val[0] == CTL_DTR_OFF)
			dtr = e.val[0] == CTL_DTR_ON;
		if (e.val[0] == CTL_RTS_ON || e.val[0] == CTL_RTS_OFF)
			rts = e.val[0] == CTL_RTS_ON;
	}
	ASSERT_TRUE(dtr && rts) {
		TH_LOG("the server ends with DTR %d RTS %d", dtr, rts);
	}
}

/*
 * regression: issue 9 item 7
 * Software flow control on output: with IXON, an XOFF (0x13) from the
 * board stops our output until XON (0x11), as on a UART. Boards and
 * modems with small buffers rely on it; the driver must honour the tty's
 * stop/start and hold data in its ring meanwhile.
 */
TEST_F(port, issue9_7_xoff_stops_output)
{
	struct rig *r = &self->r;
	uint8_t in[32];
	size_t mark, got;

	mark = peer_mark(r->peer);
	ASSERT_EQ(0, tty_set_iflag(r->fd, IXON));
	expect_wire(r, mark, "IXON", WCTL(CTL_FLOW_XONXOFF));
	/* XOFF, then a byte that shows the XOFF has been processed */
	ASSERT_EQ(0, peer_send_data(r->peer, "\x13M", 2));
	got = read_until(r->fd, in, sizeof(in), 'M', WIRE_TIMEOUT_MS);
	ASSERT_TRUE(got == 1 && in[0] == 'M') {
		TH_LOG("read \"%.*s\": XOFF not consumed by IXON", (int)got,
		       in);
	}
	mark = peer_mark(r->peer);
	ASSERT_EQ(10, write(r->fd, "after-xoff", 10));
	got = peer_wait_data(r->peer, r->conn, mark, in, 10, 500);
	EXPECT_EQ(0U, got) {
		TH_LOG("%zu bytes reached the server after XOFF", got);
	}
	ASSERT_EQ(0, peer_send_data(r->peer, "\x11", 1));
	got = peer_wait_data(r->peer, r->conn, mark, in, 10, WIRE_TIMEOUT_MS);
	EXPECT_EQ(10U, got) {
		TH_LOG("output did not resume after XON");
	}
}

/*
 * Line status events meet the tty's input flags the way a UART's do
 * (uart_insert_char() in drivers/tty/serial/serial_core.c). ttyrfc is a
 * TTY_DRIVER_REAL_RAW driver, so in raw mode n_tty trusts it to have
 * filtered them already.
 */
static void linestate_case(struct __test_metadata *_metadata, struct rig *r,
			   unsigned int iflag, uint8_t lsr,
			   const char *want, size_t want_len, const char *what)
{
	uint8_t in[32];
	char ws[128], gs[128];
	size_t got;

	ASSERT_EQ(0, tty_set_iflag(r->fd, iflag));
	ASSERT_EQ(0, ioctl(r->fd, TCFLSH, TCIFLUSH));
	ASSERT_EQ(0, peer_send_data(r->peer, "A", 1));
	ASSERT_EQ(0, peer_send_linestate(r->peer, lsr));
	ASSERT_EQ(0, peer_send_data(r->peer, "Z", 1));
	got = read_until(r->fd, in, sizeof(in), 'Z', WIRE_TIMEOUT_MS);
	hex_render(ws, sizeof(ws), (const uint8_t *)want, want_len);
	hex_render(gs, sizeof(gs), in, got);
	EXPECT_TRUE(got == want_len && !memcmp(in, want, got)) {
		TH_LOG("%s: read [%s], want [%s]", what, gs, ws);
	}
}

/*
 * regression: issue 9 item 8
 * IGNBRK: a break inserts nothing at all (the counter still counts it).
 */
TEST_F(port, issue9_8_linestate_ignbrk)
{
	struct serial_icounter_struct base, now, want = { .brk = 1 };
	struct rig *r = &self->r;
	char buf[128];

	ASSERT_EQ(0, icount(r->fd, &base));
	linestate_case(_metadata, r, IGNBRK, LSR_BREAK, "AZ", 2,
		       "IGNBRK, break");
	EXPECT_TRUE(icount_reached(r->fd, &base, &want, &now, 1000)) {
		TH_LOG("%s", ic_delta(buf, sizeof(buf), &now, &base));
	}
}

/*
 * regression: issue 9 item 8
 * INPCK|IGNPAR: parity and framing errors insert nothing.
 */
TEST_F(port, issue9_8_linestate_ignpar)
{
	struct rig *r = &self->r;

	linestate_case(_metadata, r, INPCK | IGNPAR, LSR_PARITY, "AZ", 2,
		       "INPCK|IGNPAR, parity error");
	linestate_case(_metadata, r, INPCK | IGNPAR, LSR_FRAMING, "AZ", 2,
		       "INPCK|IGNPAR, framing error");
}

/*
 * regression: issue 9 item 8
 * PARMRK without IGNPAR/IGNBRK: a break and a parity or framing error each
 * read as \377 \0 \0 in place, between the bytes around them.
 */
TEST_F(port, issue9_8_linestate_parmrk)
{
	struct rig *r = &self->r;

	linestate_case(_metadata, r, INPCK | PARMRK, LSR_BREAK,
		       "A\377\0\0Z", 5, "PARMRK, break");
	linestate_case(_metadata, r, INPCK | PARMRK, LSR_PARITY,
		       "A\377\0\0Z", 5, "PARMRK, parity error");
	linestate_case(_metadata, r, INPCK | PARMRK, LSR_FRAMING,
		       "A\377\0\0Z", 5, "PARMRK, framing error");
}

/* ------------------------------------------------------------ raw port */

FIXTURE(raw_port) {
	struct rig r;
};

FIXTURE_SETUP(raw_port)
{
	rig_init(&self->r);
	rig_up(_metadata, &self->r, PEER_RAW);
}

FIXTURE_TEARDOWN(raw_port)
{
	rig_down(&self->r);
}

/*
 * A raw port (ttyrfcctl add --raw, for servers without telnet) has no
 * modem lines and no break: the modem ioctls fail with ENOTTY, like on a
 * port without modem lines, which pyserial and esptool handle.
 */
TEST_F(raw_port, modem_ioctls_enotty)
{
	struct rig *r = &self->r;
	int m;

	errno = 0;
	EXPECT_EQ(-1, ioctl(r->fd, TIOCMGET, &m));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, mcall(r->fd, TIOCMSET, TIOCM_DTR));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, mcall(r->fd, TIOCMBIS, TIOCM_RTS));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(r->fd, TIOCSBRK));
	EXPECT_EQ(ENOTTY, errno);
}

/* On a raw port bytes go as they are: 0xFF is not doubled either way. */
TEST_F(raw_port, data_unescaped)
{
	struct rig *r = &self->r;
	uint8_t out[256], in[sizeof(out)];
	size_t i, got, mark;

	for (i = 0; i < sizeof(out); i++)
		out[i] = i;
	mark = peer_mark(r->peer);
	ASSERT_EQ((ssize_t)sizeof(out), write_all(r->fd, out, sizeof(out)));
	got = peer_wait_data(r->peer, r->conn, mark, in, sizeof(in),
			     WIRE_TIMEOUT_MS);
	ASSERT_EQ(sizeof(out), got);
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
	EXPECT_EQ(0, poll_for(r->fd, POLLIN, 0) & POLLIN);

	ASSERT_EQ(0, peer_send_data(r->peer, out, sizeof(out)));
	got = read_until(r->fd, in, sizeof(in), -1, WIRE_TIMEOUT_MS);
	ASSERT_EQ(sizeof(out), got);
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
}

static int miwait_once(void *arg)
{
	int fd = *(int *)arg;

	if (ioctl(fd, TIOCMIWAIT, TIOCM_CAR | TIOCM_DSR | TIOCM_CTS |
		  TIOCM_RNG))
		return errno;
	return 0;
}

/*
 * regression: issue 9 item 8
 * TIOCMIWAIT and TIOCGICOUNT on a raw port fail with ENOTTY like the
 * other modem ioctls, instead of waiting for ever for lines that do not
 * exist, or reporting counters of them.
 */
TEST_F(raw_port, issue9_8_tiocmiwait_tiocgicount_enotty)
{
	struct serial_icounter_struct ic;
	struct rig *r = &self->r;
	struct child c;
	int ret, res = -1, err;

	errno = 0;
	ret = ioctl(r->fd, TIOCGICOUNT, &ic);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, err) {
		TH_LOG("TIOCGICOUNT on a raw port: %s",
		       ret ? strerror(err) : "succeeded");
	}
	ASSERT_EQ(0, child_start(&c, miwait_once, &r->fd));
	ret = child_wait(&c, 2000, &res);
	EXPECT_EQ(0, ret) {
		TH_LOG("TIOCMIWAIT on a raw port still waits after 2 s");
	}
	if (!ret)
		EXPECT_EQ(ENOTTY, res) {
			TH_LOG("TIOCMIWAIT on a raw port: %s",
			       res ? strerror(res) : "returned 0");
		}
}

TEST_HARNESS_MAIN
