// SPDX-License-Identifier: GPL-2.0
/*
 * ptyecho PREFIX N — N echoing "boards" for the benchmarks: N pseudo-terminals
 * whose slave ends are linked as PREFIX0 .. PREFIX<N-1>; every byte a server
 * (ser2net's serialdev connector) writes to one comes back from it. One process,
 * one poll loop, in C, so the echo device is never what limits a measurement.
 *
 * The slave ends are held open here too, so a server closing and reopening the
 * device between clients never leaves the master with EIO. Each PTY has a 64 KiB
 * echo buffer; while it is full the master is not read (back-pressure reaches
 * the server through the PTY, as with a UART). Prints "READY N" once the links
 * exist; SIGTERM/SIGINT remove them and exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define BUF (64 * 1024)

struct pty {
	int master, slave;
	char link[256];
	char *buf;
	size_t head, len;	/* pending echo: buf[head .. head + len) */
};

static struct pty *ptys;
static int n;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void setup(struct pty *p, const char *prefix, int i)
{
	struct termios t;
	char *name;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (p->master < 0 || grantpt(p->master) || unlockpt(p->master)) {
		perror("posix_openpt");
		exit(1);
	}
	name = ptsname(p->master);
	p->slave = open(name, O_RDWR | O_NOCTTY);
	if (p->slave < 0) {
		perror(name);
		exit(1);
	}
	tcgetattr(p->slave, &t);
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	tcsetattr(p->slave, TCSANOW, &t);
	snprintf(p->link, sizeof(p->link), "%s%d", prefix, i);
	unlink(p->link);
	if (symlink(name, p->link)) {
		perror(p->link);
		exit(1);
	}
	p->buf = malloc(BUF);
	if (!p->buf)
		exit(1);
}

int main(int argc, char **argv)
{
	struct pollfd *pfd;
	int i;

	if (argc != 3 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s PREFIX N\n", argv[0]);
		return 2;
	}
	ptys = calloc(n, sizeof(*ptys));
	pfd = calloc(n, sizeof(*pfd));
	for (i = 0; i < n; i++)
		setup(&ptys[i], argv[1], i);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	printf("READY %d\n", n);
	fflush(stdout);

	while (!stop) {
		for (i = 0; i < n; i++) {
			struct pty *p = &ptys[i];

			pfd[i].fd = p->master;
			pfd[i].events = (p->len < BUF ? POLLIN : 0) | (p->len ? POLLOUT : 0);
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		for (i = 0; i < n; i++) {
			struct pty *p = &ptys[i];
			ssize_t r;

			if (pfd[i].revents & POLLIN) {
				size_t tail = p->head + p->len, room;

				if (tail >= BUF)
					tail -= BUF;
				room = tail >= p->head ? BUF - tail : p->head - tail;
				if (room > BUF - p->len)
					room = BUF - p->len;
				r = read(p->master, p->buf + tail, room);
				if (r > 0)
					p->len += r;
			}
			while (p->len) {
				size_t chunk = p->head + p->len > BUF ? BUF - p->head : p->len;

				r = write(p->master, p->buf + p->head, chunk);
				if (r <= 0)
					break;
				p->head = (p->head + r) % BUF;
				p->len -= r;
				if ((size_t)r < chunk)
					break;
			}
			if (!p->len)
				p->head = 0;
		}
	}
	for (i = 0; i < n; i++)
		unlink(ptys[i].link);
	return 0;
}
