// SPDX-License-Identifier: GPL-2.0
/*
 * torture: many threads doing random things to a few ttyrfc ports while
 * the helper is killed, stopped and continued and closed ports are
 * deleted and added again. Run by tests/vm/torture.sh, which also checks
 * dmesg, unloads and reloads the module between rounds and runs --check.
 *
 *   torture --port IDX:HOST:PORT ... [--secs N] [--threads N] [--seed S]
 *           [--helper PATH --helper-log FILE] [--del-closed] [--del-open]
 *           [--state FILE]
 *     Each worker thread picks a port and does one of: open (blocking or
 *     not), close, read, write, poll, TIOCMSET/BIS/BIC/GET, TCSETS2 with a
 *     random (often BOTHER) rate and framing, TCFLSH, TIOCSBRK/TIOCCBRK,
 *     TCSBRK(P), TIOCMIWAIT broken by a signal, TIOCGICOUNT, tcdrain broken
 *     by a signal, TCXONC, TIOCOUTQ/TIOCINQ, TIOCVHANGUP. Every call that
 *     may block is armed with a timeout: a watchdog thread sends SIGUSR1
 *     when it passes; a call that has not returned TTYRFC_HANG_SECS
 *     (default 30) after that is a hang: its kernel stack is printed.
 *     At the end every port is back (same remote; the index may differ)
 *     and a helper runs; --state FILE gets "PORT IDX HOST:PORT" and
 *     "HELPER PID" lines saying which.
 *
 *   torture --check /dev/ttyRFCn:PEER [--size N]
 *     The port and the board end of its server's PTY: drain both, then N
 *     bytes (default 256 KiB) each way must arrive byte-exact.
 */
#define _GNU_SOURCE
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/serial.h>

#include "tlib.h"

#define MAX_PORTS	8
#define MAX_THREADS	32

struct tport {
	pthread_mutex_t lock;
	int index;		/* -1 while deleted */
	char remote[96];
	int users;		/* fds open on it */
	bool draining;		/* about to be deleted: no new opens */
	unsigned int dels, adds, del_open;
};

static struct tport ports[MAX_PORTS];
static int nports;
static atomic_bool stop, wd_stop;
static int hang_secs = 30;

/* ------------------------------------------------------------ watchdog */

struct worker {
	pthread_t th;
	pid_t tid;
	int id;
	unsigned int seed;
	int fd[MAX_PORTS];
	_Atomic long long deadline_us;	/* 0: not in a call that may block */
	_Atomic long long signalled_us;	/* first signal for this call */
	const char *op;			/* what it is doing */
	int op_port;
	bool hang_reported;
};

static struct worker workers[MAX_THREADS];
static int nworkers;
static atomic_int hangs;
static _Atomic long long worst_late_us;	/* longest call after its signal */

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void arm(struct worker *w, const char *op, int port, int ms)
{
	w->op = op;
	w->op_port = port;
	atomic_store(&w->signalled_us, 0);
	atomic_store(&w->deadline_us, now_us() + ms * 1000LL);
}

static void disarm(struct worker *w)
{
	long long sig = atomic_load(&w->signalled_us);

	atomic_store(&w->deadline_us, 0);
	if (sig) {
		long long late = now_us() - sig;

		if (late > atomic_load(&worst_late_us))
			atomic_store(&worst_late_us, late);
	}
}

static void dump_stack(struct worker *w)
{
	char path[96], buf[4096];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", w->tid);
	if (read_text(path, buf, sizeof(buf)) > 0)
		diag("kernel stack of thread %d (%s on port %d):\n%s", w->id,
		     w->op, w->op_port, buf);
	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", w->tid);
	if (read_text(path, buf, sizeof(buf)) > 0)
		diag("wchan: %s", buf);
}

static void *watchdog(void *arg)
{
	(void)arg;
	while (!atomic_load(&wd_stop)) {
		long long now = now_us();

		for (int i = 0; i < nworkers; i++) {
			struct worker *w = &workers[i];
			long long d = atomic_load(&w->deadline_us);
			long long s = atomic_load(&w->signalled_us);

			if (!d)
				continue;
			if (now < d)
				continue;
			if (!s) {
				atomic_store(&w->signalled_us, now);
				s = now;
			}
			/* again and again: one may land before the sleep */
			pthread_kill(w->th, SIGUSR1);
			if (!w->hang_reported &&
			    now - s > hang_secs * 1000000LL) {
				w->hang_reported = true;
				atomic_fetch_add(&hangs, 1);
				diag("HANG: thread %d has been in %s on port %d for %lld s after SIGUSR1",
				     w->id, w->op, w->op_port,
				     (now - s) / 1000000);
				dump_stack(w);
				/* the kernel's view of every blocked task */
				int fd = open("/proc/sysrq-trigger", O_WRONLY);

				if (fd >= 0) {
					if (write(fd, "w", 1) != 1)
						diag("sysrq-w failed");
					close(fd);
				}
			}
		}
		usleep(5000);
	}
	return NULL;
}

/* ------------------------------------------------------------ results */

enum op {
	OP_OPEN, OP_OPEN_BLOCK, OP_CLOSE, OP_READ, OP_WRITE, OP_POLL,
	OP_MSET, OP_MBIS, OP_MBIC, OP_MGET, OP_TERMIOS, OP_FLUSH, OP_SBRK,
	OP_CBRK, OP_TCSBRK, OP_MIWAIT, OP_ICOUNT, OP_DRAIN, OP_XONC,
	OP_OUTQ, OP_VHANGUP, OP_SERIAL, OP_NONBLOCK, OP_MAX
};

static const char *const op_names[OP_MAX] = {
	"open", "open(blocking)", "close", "read", "write", "poll",
	"TIOCMSET", "TIOCMBIS", "TIOCMBIC", "TIOCMGET", "TCSETS2", "TCFLSH",
	"TIOCSBRK", "TIOCCBRK", "TCSBRK(P)", "TIOCMIWAIT", "TIOCGICOUNT",
	"tcdrain", "TCXONC", "TIOCOUTQ/INQ", "TIOCVHANGUP", "TIOCGSERIAL",
	"O_NONBLOCK",
};

/* weights: how often each is picked when the thread holds an fd */
static const int op_weight[OP_MAX] = {
	[OP_CLOSE] = 8, [OP_READ] = 10, [OP_WRITE] = 14, [OP_POLL] = 3,
	[OP_MSET] = 6, [OP_MBIS] = 4, [OP_MBIC] = 4, [OP_MGET] = 3,
	[OP_TERMIOS] = 8, [OP_FLUSH] = 5, [OP_SBRK] = 2, [OP_CBRK] = 2,
	[OP_TCSBRK] = 1, [OP_MIWAIT] = 3, [OP_ICOUNT] = 2, [OP_DRAIN] = 4,
	[OP_XONC] = 2, [OP_OUTQ] = 2, [OP_VHANGUP] = 1, [OP_SERIAL] = 1,
	[OP_NONBLOCK] = 2,
};

#define NERR 160
static _Atomic unsigned int counts[OP_MAX][NERR];	/* [op][errno] */
static _Atomic unsigned int bad_errno;
static char bad_what[256];

static void note(struct worker *w, enum op op, int ret)
{
	int e = ret < 0 ? errno : 0;

	(void)w;
	atomic_fetch_add(&counts[op][e < NERR ? e : NERR - 1], 1);
	/*
	 * Kernel-internal errnos (ERESTARTSYS 512, ENOIOCTLCMD 515, ...)
	 * must never reach userspace; EFAULT/EBADF would be our own bug.
	 */
	if (ret < 0 && (e > 133 || e == EFAULT || e == EBADF)) {
		if (!atomic_fetch_add(&bad_errno, 1))
			snprintf(bad_what, sizeof(bad_what), "%s returned errno %d",
				 op_names[op], e);
	}
}

/* ------------------------------------------------------------ the ops */

static const char *helper_path, *helper_log, *state_file;
static pid_t helper_pid;
static bool del_closed, del_open;

static int rnd(struct worker *w, int n)
{
	return n > 0 ? (int)(rand_r(&w->seed) % n) : 0;
}

static void do_open(struct worker *w, int port, bool block)
{
	struct tport *t = &ports[port];
	char path[32];
	int index, fd;

	pthread_mutex_lock(&t->lock);
	if (t->index < 0 || t->draining) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	t->users++;
	index = t->index;
	pthread_mutex_unlock(&t->lock);
	snprintf(path, sizeof(path), "/dev/ttyRFC%d", index);

	arm(w, block ? "open(blocking)" : "open", port, 2000 + rnd(w, 8000));
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | (block ? 0 : O_NONBLOCK));
	disarm(w);
	note(w, block ? OP_OPEN_BLOCK : OP_OPEN, fd);
	if (fd < 0) {
		pthread_mutex_lock(&t->lock);
		t->users--;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	w->fd[port] = fd;
}

static void do_close(struct worker *w, int port)
{
	struct tport *t = &ports[port];
	int ret;

	/* close waits for output to drain (closing_wait): bounded */
	arm(w, "close", port, 500 + rnd(w, 4000));
	ret = close(w->fd[port]);
	disarm(w);
	note(w, OP_CLOSE, ret);
	w->fd[port] = -1;
	pthread_mutex_lock(&t->lock);
	t->users--;
	pthread_mutex_unlock(&t->lock);
}

static const unsigned int std_rates[] = {
	B50, B300, B1200, B9600, B19200, B38400, B57600, B115200, B230400,
	B460800, B921600, B1000000, B2000000, B3000000, B4000000,
};

static int do_termios(struct worker *w, int fd)
{
	static const unsigned int sizes[] = { CS5, CS6, CS7, CS8 };
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t))
		return -1;
	t.c_cflag &= ~(CBAUD | CIBAUD | CSIZE | PARENB | PARODD | CMSPAR |
		       CSTOPB | CRTSCTS | CLOCAL | HUPCL);
	if (rnd(w, 3)) {
		t.c_cflag |= BOTHER;
		t.c_ospeed = 50 + rnd(w, 4000000);
		/* now and then a nonsense rate */
		if (!rnd(w, 20))
			t.c_ospeed = rnd(w, 2) ? 1 : 0xffffffff;
		t.c_ispeed = rnd(w, 4) ? t.c_ospeed : (speed_t)(50 + rnd(w, 4000000));
		if (!rnd(w, 4))
			t.c_cflag |= BOTHER << IBSHIFT;
	} else {
		t.c_cflag |= std_rates[rnd(w, sizeof(std_rates) / sizeof(int))];
		if (!rnd(w, 30))
			t.c_cflag = (t.c_cflag & ~CBAUD) | B0;
	}
	t.c_cflag |= sizes[rnd(w, 4)] | CREAD;
	if (rnd(w, 2))
		t.c_cflag |= PARENB | (rnd(w, 2) ? PARODD : 0) |
			     (rnd(w, 4) ? 0 : CMSPAR);
	if (rnd(w, 2))
		t.c_cflag |= CSTOPB;
	if (!rnd(w, 8))
		t.c_cflag |= CRTSCTS;
	/* mostly CLOCAL: without it link loss and CD drops hang up */
	if (rnd(w, 10))
		t.c_cflag |= CLOCAL;
	if (rnd(w, 2))
		t.c_cflag |= HUPCL;
	t.c_iflag = 0;
	if (!rnd(w, 8))
		t.c_iflag |= IXON | (rnd(w, 2) ? IXOFF : 0);
	if (!rnd(w, 6))
		t.c_iflag |= INPCK | (rnd(w, 2) ? PARMRK : IGNPAR) |
			     (rnd(w, 2) ? IGNBRK : BRKINT);
	t.c_oflag = 0;
	t.c_lflag = 0;
	t.c_cc[VMIN] = rnd(w, 2);
	t.c_cc[VTIME] = rnd(w, 3);
	return ioctl(fd, rnd(w, 3) ? TCSETS2 : rnd(w, 2) ? TCSETSW2 : TCSETSF2,
		     &t);
}

static void do_op(struct worker *w, int port)
{
	static const int lines[] = { TIOCM_DTR, TIOCM_RTS,
				     TIOCM_DTR | TIOCM_RTS, 0 };
	int fd = w->fd[port], ret = 0, total = 0, pick, arg;
	uint8_t buf[4096];
	enum op op = OP_CLOSE;

	for (int i = 0; i < OP_MAX; i++)
		total += op_weight[i];
	pick = rnd(w, total);
	for (int i = 0; i < OP_MAX; i++) {
		if (pick < op_weight[i]) {
			op = i;
			break;
		}
		pick -= op_weight[i];
	}

	switch (op) {
	case OP_CLOSE:
		do_close(w, port);
		return;
	case OP_READ:
		arm(w, "read", port, 50 + rnd(w, 500));
		ret = read(fd, buf, 1 + rnd(w, sizeof(buf)));
		disarm(w);
		break;
	case OP_WRITE: {
		int n = 1 + rnd(w, rnd(w, 4) ? 256 : sizeof(buf));

		for (int i = 0; i < n; i++)
			buf[i] = rnd(w, 256);
		arm(w, "write", port, 100 + rnd(w, 2000));
		ret = write(fd, buf, n);
		disarm(w);
		break;
	}
	case OP_POLL: {
		struct pollfd pfd = { fd, POLLIN | POLLOUT | POLLPRI, 0 };

		arm(w, "poll", port, 1000);
		ret = poll(&pfd, 1, rnd(w, 100));
		disarm(w);
		break;
	}
	case OP_MSET: {
		int m = lines[rnd(w, 4)];

		ret = ioctl(fd, TIOCMSET, &m);
		break;
	}
	case OP_MBIS:
		arg = lines[rnd(w, 3)];
		ret = ioctl(fd, TIOCMBIS, &arg);
		break;
	case OP_MBIC:
		arg = lines[rnd(w, 3)];
		ret = ioctl(fd, TIOCMBIC, &arg);
		break;
	case OP_MGET:
		ret = ioctl(fd, TIOCMGET, &arg);
		break;
	case OP_TERMIOS:
		/* TCSETSW2/TCSETSF2 drain first: bounded */
		arm(w, "TCSETS2", port, 200 + rnd(w, 2000));
		ret = do_termios(w, fd);
		disarm(w);
		break;
	case OP_FLUSH:
		ret = ioctl(fd, TCFLSH, rnd(w, 3));
		break;
	case OP_SBRK:
		ret = ioctl(fd, TIOCSBRK);
		break;
	case OP_CBRK:
		ret = ioctl(fd, TIOCCBRK);
		break;
	case OP_TCSBRK:
		arm(w, "TCSBRK", port, 300 + rnd(w, 2000));
		ret = ioctl(fd, rnd(w, 2) ? TCSBRK : TCSBRKP, 0);
		disarm(w);
		break;
	case OP_MIWAIT:
		/* nothing changes the lines of a PTY: the signal ends it */
		arm(w, "TIOCMIWAIT", port, 20 + rnd(w, 400));
		ret = ioctl(fd, TIOCMIWAIT,
			    (unsigned long)(TIOCM_CTS | TIOCM_DSR | TIOCM_CD |
					    TIOCM_RI) >> rnd(w, 3));
		disarm(w);
		break;
	case OP_ICOUNT: {
		struct serial_icounter_struct ic;

		ret = ioctl(fd, TIOCGICOUNT, &ic);
		break;
	}
	case OP_DRAIN:
		arm(w, "tcdrain", port, 50 + rnd(w, 3000));
		ret = ioctl(fd, TCSBRK, 1);
		disarm(w);
		break;
	case OP_XONC:
		ret = ioctl(fd, TCXONC, rnd(w, 4));
		break;
	case OP_OUTQ:
		ret = ioctl(fd, rnd(w, 2) ? TIOCOUTQ : TIOCINQ, &arg);
		break;
	case OP_VHANGUP:
		ret = ioctl(fd, TIOCVHANGUP);
		break;
	case OP_SERIAL: {
		struct serial_struct ss;

		ret = ioctl(fd, TIOCGSERIAL, &ss);
		if (!ret && rnd(w, 2))
			ret = ioctl(fd, TIOCSSERIAL, &ss);
		break;
	}
	case OP_NONBLOCK:
		ret = fcntl(fd, F_SETFL, rnd(w, 2) ? O_NONBLOCK : 0);
		break;
	default:
		return;
	}
	note(w, op, ret);
	/* a hung-up port (vhangup, del, link loss without CLOCAL) is dead */
	if (ret < 0 && errno == EIO)
		do_close(w, port);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = syscall(SYS_gettid);
	for (int i = 0; i < MAX_PORTS; i++)
		w->fd[i] = -1;
	while (!atomic_load(&stop)) {
		int port = rnd(w, nports);

		if (w->fd[port] < 0)
			do_open(w, port, !rnd(w, 4));
		else
			do_op(w, port);
		if (!rnd(w, 50))
			usleep(rnd(w, 20000));
	}
	for (int i = 0; i < nports; i++)
		if (w->fd[i] >= 0) {
			ioctl(w->fd[i], TCXONC, TCOON);
			ioctl(w->fd[i], TCFLSH, TCOFLUSH);
			do_close(w, i);
		}
	return NULL;
}

/* ------------------------------------------------------------ chaos */

static _Atomic unsigned int kills, stops, respawns, del_fail, add_fail;
static _Atomic unsigned int helper_died;
static char helper_death[128];

/* Did the helper die without us? (A crash of ttyrfcd is a finding.) */
static void helper_check(void)
{
	int st;

	if (waitpid(helper_pid, &st, WNOHANG) != helper_pid &&
	    !(kill(helper_pid, 0) && errno == ESRCH))
		return;
	if (!atomic_fetch_add(&helper_died, 1)) {
		if (WIFSIGNALED(st))
			snprintf(helper_death, sizeof(helper_death),
				 "ttyrfcd %d died of signal %d", helper_pid,
				 WTERMSIG(st));
		else
			snprintf(helper_death, sizeof(helper_death),
				 "ttyrfcd %d exited with status %d", helper_pid,
				 WEXITSTATUS(st));
	}
	helper_pid = helper_spawn(helper_path, helper_log);
	atomic_fetch_add(&respawns, 1);
}

static void *chaos_helper(void *arg)
{
	unsigned int seed = (uintptr_t)arg;

	while (!atomic_load(&stop)) {
		/* every 2-6 s */
		for (int ms = 2000 + rand_r(&seed) % 4000; ms > 0 &&
		     !atomic_load(&stop); ms -= 50)
			sleep_ms(50);
		if (atomic_load(&stop))
			break;
		helper_check();
		if (rand_r(&seed) % 2) {
			kill_wait(helper_pid, 5000);
			atomic_fetch_add(&kills, 1);
			sleep_ms(rand_r(&seed) % 1000);
			helper_pid = helper_spawn(helper_path, helper_log);
			atomic_fetch_add(&respawns, 1);
		} else {
			kill(helper_pid, SIGSTOP);
			atomic_fetch_add(&stops, 1);
			sleep_ms(200 + rand_r(&seed) % 2800);
			kill(helper_pid, SIGCONT);
		}
	}
	return NULL;
}

static void readd(struct tport *t)
{
	char out[512];
	int ix = ctl_add(out, sizeof(out), t->remote, NULL, NULL);

	if (ix < 0) {
		atomic_fetch_add(&add_fail, 1);
		return;
	}
	pthread_mutex_lock(&t->lock);
	t->index = ix;
	t->adds++;
	pthread_mutex_unlock(&t->lock);
}

static void *chaos_ports(void *arg)
{
	unsigned int seed = (uintptr_t)arg;

	while (!atomic_load(&stop)) {
		struct tport *t = &ports[rand_r(&seed) % nports];
		int ix = -1;
		bool open;

		bool unplug = del_open && (!del_closed || !(rand_r(&seed) % 3));

		sleep_ms(500 + rand_r(&seed) % 2500);
		/*
		 * A closed port: let no one open it and wait for its users to
		 * close it (threads close often). An open one: an unplug.
		 */
		pthread_mutex_lock(&t->lock);
		t->draining = t->index >= 0 && !unplug;
		pthread_mutex_unlock(&t->lock);
		for (int ms = 0; !unplug && ms < 3000 && !atomic_load(&stop); ms += 10) {
			pthread_mutex_lock(&t->lock);
			open = t->users > 0;
			pthread_mutex_unlock(&t->lock);
			if (!open)
				break;
			sleep_ms(10);
		}
		pthread_mutex_lock(&t->lock);
		open = t->users > 0;
		if (t->index >= 0 && (unplug || !open)) {
			ix = t->index;
			t->index = -1;	/* no new opens from here on */
			t->dels++;
			t->del_open += open;
		}
		t->draining = false;
		pthread_mutex_unlock(&t->lock);
		if (ix >= 0) {
			if (ctl_del_index(ix))
				atomic_fetch_add(&del_fail, 1);
			sleep_ms(rand_r(&seed) % 500);
			/*
			 * Back at once, even while hung-up fds of the old port
			 * are held: the new one must get a minor of its own
			 * and never the old tty.
			 */
			readd(t);
		}
		/* add back what could not be added */
		for (int i = 0; i < nports; i++) {
			pthread_mutex_lock(&ports[i].lock);
			open = ports[i].index >= 0;
			pthread_mutex_unlock(&ports[i].lock);
			if (!open)
				readd(&ports[i]);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ check */

struct xfer {
	int from, to;
	size_t size;
	struct stream_rx rx;
	int err;
};

static void *xfer_read(void *arg)
{
	struct xfer *x = arg;
	long long end = now_ms() + 60000;
	uint8_t buf[16384];

	while (x->rx.high < x->size && now_ms() < end) {
		struct pollfd pfd = { x->to, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(x->to, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			x->err = n < 0 ? errno : EPIPE;
			break;
		}
		stream_rx_feed(&x->rx, buf, n);
		if (x->rx.got > x->size + 65536)
			break;
	}
	return NULL;
}

static bool xfer(int from, int to, size_t size, const char *what)
{
	struct xfer x = { .from = from, .to = to, .size = size };
	static uint8_t buf[65536];
	pthread_t th;
	size_t off = 0;
	long long t0 = now_ms();

	stream_rx_init(&x.rx);
	pthread_create(&th, NULL, xfer_read, &x);
	while (off < size && now_ms() - t0 < 60000) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		struct pollfd pfd = { from, POLLOUT, 0 };
		ssize_t w;

		stream_fill(buf, off, n);
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		w = write(from, buf, n);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			break;
		off += w;
	}
	pthread_join(th, NULL);
	if (x.rx.got != size || x.rx.repeated || x.rx.lost || x.rx.garbage ||
	    x.rx.high != size)
		diag("%s: wrote %zu, received %llu (up to %llu), %llu repeated, %llu lost, %u junk%s%s",
		     what, off, (unsigned long long)x.rx.got,
		     (unsigned long long)x.rx.high,
		     (unsigned long long)x.rx.repeated,
		     (unsigned long long)x.rx.lost, x.rx.garbage,
		     x.err ? ", read error " : "", x.err ? strerror(x.err) : "");
	return x.rx.got == size && !x.rx.repeated && !x.rx.lost &&
	       !x.rx.garbage && x.rx.high == size;
}

static void drain(int a, int b)
{
	uint8_t buf[16384];
	long long quiet = now_ms();

	ioctl(a, TCFLSH, TCIOFLUSH);
	while (now_ms() - quiet < 1500) {
		struct pollfd pfd[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };

		if (poll(pfd, 2, 200) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN &&
			    read(pfd[i].fd, buf, sizeof(buf)) > 0)
				quiet = now_ms();
	}
}

static int check_mode(int argc, char **argv)
{
	size_t size = 262144;

	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = strtoul(argv[++i], NULL, 0);
	for (int i = 2; i < argc; i++) {
		char dev[64], *peer;
		int fd, pfd;

		if (!strcmp(argv[i], "--size")) {
			i++;
			continue;
		}
		snprintf(dev, sizeof(dev), "%s", argv[i]);
		peer = strchr(dev, ':');
		if (!peer)
			continue;
		*peer++ = '\0';
		/*
		 * The board end first: with its echo gone, the tail of the
		 * last session can sit in ser2net's buffers, and until it is
		 * delivered the next open is EBUSY ("the last session would
		 * not end"). A child reads the board end meanwhile, so the
		 * tail goes at the server's pace, not at that of our opens
		 * (each waits open_timeout). The bound is the design's: a
		 * linger ends within 60 s, then the new connection comes up.
		 */
		pfd = open(peer, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		fd = -1;
		if (pfd >= 0) {
			pid_t drainer = fork();

			if (!drainer) {
				uint8_t junk[16384];
				struct pollfd w = { .fd = pfd, .events = POLLIN };

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					if (poll(&w, 1, 1000) > 0 &&
					    read(pfd, junk, sizeof(junk)) <= 0)
						usleep(100000);	/* a hang-up */
			}
			for (long long t0 = now_ms();;) {
				fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK |
					  O_CLOEXEC);
				if (fd >= 0 || errno != EBUSY ||
				    now_ms() - t0 > 90000)
					break;
				diag("%s: EBUSY (the last session's tail is still going out); again",
				     dev);
			}
			int err = errno;

			if (drainer > 0) {
				kill(drainer, SIGKILL);
				waitpid(drainer, NULL, 0);
			}
			errno = err;
		}
		if (fd < 0 || pfd < 0) {
			tap(false, "%s echoes after the torture: open %s: %s",
			    dev, fd < 0 ? dev : peer, strerror(errno));
			continue;
		}
		/* a sane state: raw 115200 8N1, no flow control, output on */
		ioctl(fd, TCXONC, TCOON);
		tty_make_raw(fd);
		tty_make_raw(pfd);
		drain(fd, pfd);
		bool out = xfer(fd, pfd, size, "tty -> board");
		bool in = xfer(pfd, fd, size, "board -> tty");

		tap(out && in,
		    "%s carries %zu bytes each way after the torture, byte-exact",
		    dev, size);
		close(fd);
		close(pfd);
	}
	return tap_end();
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	pthread_t wd, ch, cp;
	int secs = 60, seed = getpid() ^ (int)now_ms();
	bool chaos_h;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "--check"))
		return check_mode(argc, argv);

	nworkers = 8;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc &&
		    nports < MAX_PORTS) {
			struct tport *t = &ports[nports++];
			char *rem;

			pthread_mutex_init(&t->lock, NULL);
			t->index = strtol(argv[++i], &rem, 10);
			snprintf(t->remote, sizeof(t->remote), "%s",
				 *rem == ':' ? rem + 1 : "");
		} else if (!strcmp(argv[i], "--secs") && i + 1 < argc) {
			secs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nworkers = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--helper") && i + 1 < argc) {
			helper_path = argv[++i];
		} else if (!strcmp(argv[i], "--helper-log") && i + 1 < argc) {
			helper_log = argv[++i];
		} else if (!strcmp(argv[i], "--state") && i + 1 < argc) {
			state_file = argv[++i];
		} else if (!strcmp(argv[i], "--del-closed")) {
			del_closed = true;
		} else if (!strcmp(argv[i], "--del-open")) {
			del_open = true;
		} else {
			fprintf(stderr, "torture: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (!nports || nworkers < 1 || nworkers > MAX_THREADS) {
		fprintf(stderr, "usage: torture --port IDX:HOST:PORT... [--secs N] [--threads N] [--seed S]\n"
				"               [--helper PATH --helper-log FILE] [--del-closed] [--del-open]\n"
				"               [--state FILE]\n"
				"       torture --check /dev/ttyRFCn:PEER... [--size N]\n");
		return 2;
	}
	if (getenv("TTYRFC_HANG_SECS"))
		hang_secs = atoi(getenv("TTYRFC_HANG_SECS"));
	info("torture: %d threads, %d ports, %d s, seed %d", nworkers, nports,
	     secs, seed);

	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);

	chaos_h = helper_path && helper_log;
	if (chaos_h) {
		helper_pid = find_comm("ttyrfcd");
		if (!helper_pid)
			helper_pid = helper_spawn(helper_path, helper_log);
	}
	for (int i = 0; i < nworkers; i++) {
		workers[i].id = i;
		workers[i].seed = seed * 31 + i;
		pthread_create(&workers[i].th, NULL, worker_main, &workers[i]);
	}
	pthread_create(&wd, NULL, watchdog, NULL);
	if (chaos_h)
		pthread_create(&ch, NULL, chaos_helper, (void *)(uintptr_t)(seed + 1));
	if (del_closed || del_open)
		pthread_create(&cp, NULL, chaos_ports, (void *)(uintptr_t)(seed + 2));

	for (long long end = now_ms() + secs * 1000LL; now_ms() < end &&
	     atomic_load(&hangs) == 0;)
		sleep_ms(200);
	atomic_store(&stop, true);

	/* the chaos ends with a helper that runs */
	if (chaos_h) {
		pthread_join(ch, NULL);
		kill(helper_pid, SIGCONT);
		helper_check();
	}
	/* workers end their calls and close; a hung one is reported */
	for (int i = 0; i < nworkers; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += hang_secs + 60;
		if (pthread_timedjoin_np(workers[i].th, NULL, &ts))
			diag("thread %d did not end (in %s)", i, workers[i].op);
	}
	if (del_closed || del_open)
		pthread_join(cp, NULL);
	/* every port back, under its remote */
	for (int i = 0; i < nports; i++) {
		for (int tries = 0; ports[i].index < 0 && tries < 50; tries++) {
			readd(&ports[i]);
			if (ports[i].index < 0)
				sleep_ms(100);
		}
	}
	atomic_store(&wd_stop, true);
	pthread_join(wd, NULL);

	/* what happened */
	for (int op = 0; op < OP_MAX; op++) {
		char line[1024];
		size_t n = 0;
		unsigned int total = 0;

		for (int e = 0; e < NERR; e++) {
			unsigned int c = atomic_load(&counts[op][e]);

			total += c;
			if (c && n < sizeof(line) - 40)
				n += snprintf(line + n, sizeof(line) - n, " %s %u",
					      e ? strerrorname_np(e) ?: "?" : "ok", c);
		}
		if (total)
			info("%-14s%s", op_names[op], line);
	}
	for (int i = 0; i < nports; i++)
		info("port %s: deleted %u times (%u while open), added %u times",
		     ports[i].remote, ports[i].dels, ports[i].del_open,
		     ports[i].adds);
	if (chaos_h)
		info("ttyrfcd: %u SIGKILL, %u SIGSTOP/SIGCONT, %u started",
		     kills, stops, respawns);
	if (del_fail || add_fail)
		diag("ttyrfcctl: %u del and %u add failed", del_fail, add_fail);

	tap(atomic_load(&hangs) == 0,
	    "%d threads, %d s: no call stayed blocked %d s after its signal (slowest %lld ms)",
	    nworkers, secs, hang_secs, atomic_load(&worst_late_us) / 1000);
	if (bad_errno)
		diag("%u times, first: %s", bad_errno, bad_what);
	tap(bad_errno == 0,
	    "no kernel-internal errno (ERESTARTSYS, ENOIOCTLCMD, ...) reached userspace");
	if (chaos_h) {
		if (helper_died)
			diag("%u times, first: %s", helper_died, helper_death);
		tap(!helper_died, "ttyrfcd never died on its own");
	}
	bool back = true;
	FILE *f = state_file ? fopen(state_file, "w") : NULL;

	for (int i = 0; i < nports; i++) {
		if (ports[i].index < 0)
			back = false;
		else if (f)
			fprintf(f, "PORT %d %s\n", ports[i].index, ports[i].remote);
	}
	tap(back && !add_fail, "every port is back after the deletes (%u adds failed)",
	    add_fail);
	if (f) {
		if (chaos_h)
			fprintf(f, "HELPER %d\n", helper_pid);
		fclose(f);
	}
	/* a hung thread keeps the process; leave without it */
	_exit(tap_end());
}
