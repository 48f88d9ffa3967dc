// SPDX-License-Identifier: GPL-2.0
/* Harness-free helpers for the ttyrfc selftests; see ttyrfc_util.h. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ttyrfc_util.h"

#define CTL_ARGS_MAX	16

int ctl_run(char *out, size_t size, ...)
{
	const char *argv[CTL_ARGS_MAX + 2];
	const char *ctl = getenv("TTYRFCCTL");
	size_t len = 0;
	int fds[2], status, argc = 1;
	va_list ap;
	pid_t pid;
	ssize_t n;

	argv[0] = ctl && *ctl ? ctl : "ttyrfcctl";
	va_start(ap, size);
	while (argc <= CTL_ARGS_MAX &&
	       (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (!pid) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], (char **)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, size - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += n;
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int port_add(uint16_t port, bool raw, char *dev, size_t size)
{
	char remote[32], out[512];
	unsigned int index;
	const char *line;
	int ret;

	snprintf(remote, sizeof(remote), "127.0.0.1:%u", port);
	ret = ctl_run(out, sizeof(out), "add", remote,
		      raw ? "--raw" : NULL, NULL);
	for (line = out; ret == 0 && line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "ttyRFC%u", &index) == 1) {
			snprintf(dev, size, "ttyRFC%u", index);
			return index;
		}
	}
	snprintf(dev, size, "ttyrfcctl add %s: exit %d: %s", remote, ret,
		 out);
	return -1;
}

int port_del(const char *dev)
{
	char out[512];

	return ctl_run(out, sizeof(out), "del", dev, NULL);
}

int dev_open(const char *dev, int flags)
{
	long long end = now_ms() + 2000;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", dev);
	/* the node appears with the device; devtmpfs can lag a little */
	while ((fd = open(path, flags | O_CLOEXEC)) < 0 && errno == ENOENT &&
	       now_ms() < end)
		sleep_ms(10);
	return fd;
}

int tty_get(int fd, struct termios2 *t)
{
	return ioctl(fd, TCGETS2, t);
}

int tty_set(int fd, const struct termios2 *t)
{
	return ioctl(fd, TCSETS2, t);
}

void tty_raw(struct termios2 *t)
{
	t->c_iflag = 0;
	t->c_oflag = 0;
	t->c_lflag = 0;
	t->c_cflag &= ~(CBAUD | CIBAUD | CSIZE | PARENB | PARODD | CMSPAR |
			CSTOPB | CRTSCTS);
	t->c_cflag |= B115200 | CS8 | CREAD | CLOCAL | HUPCL;
	t->c_ispeed = t->c_ospeed = 115200;
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
}

int tty_set_clocal(int fd, bool on)
{
	struct termios2 t;

	if (tty_get(fd, &t))
		return -1;
	if (on)
		t.c_cflag |= CLOCAL;
	else
		t.c_cflag &= ~CLOCAL;
	return tty_set(fd, &t);
}

int tty_set_iflag(int fd, unsigned int iflag)
{
	struct termios2 t;

	if (tty_get(fd, &t))
		return -1;
	t.c_iflag = iflag;
	return tty_set(fd, &t);
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int open_timeout_s(void)
{
	char buf[32];

	if (read_file("/sys/module/ttyrfc/parameters/open_timeout", buf,
		      sizeof(buf)) <= 0)
		return -1;
	return atoi(buf);
}

bool helper_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char path[300], comm[64];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		found = read_file(path, comm, sizeof(comm)) > 0 &&
			!strcmp(comm, "ttyrfcd\n");
	}
	if (d)
		closedir(d);
	return found;
}

int link_state(const char *dev, char *buf, size_t size)
{
	char path[96];
	int n;

	snprintf(path, sizeof(path), "/sys/class/tty/%s/link", dev);
	n = read_file(path, buf, size);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return n < 0 ? n : 0;
}

int wait_link(const char *dev, const char *state, bool negate,
	      int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	char buf[32];

	do {
		if (!link_state(dev, buf, sizeof(buf)) &&
		    !strcmp(buf, state) != negate)
			return 0;
		sleep_ms(10);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

int wait_asleep_in(pid_t pid, pid_t tid, long nr, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	char path[64], buf[256], *p;
	long cur;

	do {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
		/* state is the field after "(comm)" */
		p = read_file(path, buf, sizeof(buf)) > 0 ?
		    strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'S') {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
				 pid, tid);
			if (read_file(path, buf, sizeof(buf)) > 0 &&
			    sscanf(buf, "%ld", &cur) == 1 && cur == nr)
				return 0;
		}
		sleep_ms(5);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

int wait_wchan(pid_t pid, const char *fn, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	do {
		if (read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, fn))
			return 0;
		sleep_ms(5);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

int poll_for(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long end = now_ms() + timeout_ms;
	int n, left = timeout_ms;

	for (;;) {
		n = poll(&pfd, 1, left);
		if (n > 0)
			return pfd.revents;
		if (n == 0 || errno != EINTR)
			return 0;
		left = end - now_ms();
		if (left < 0)
			left = 0;
	}
}

size_t read_until(int fd, uint8_t *buf, size_t size, int marker,
		  int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < size) {
		long long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || !(poll_for(fd, POLLIN, left) & POLLIN))
			break;
		n = read(fd, buf + got, size - got);
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			break;
		}
		got += n;
		if (marker >= 0 && memchr(buf + got - n, marker, n))
			break;
	}
	return got;
}

int child_start(struct child *c, int (*fn)(void *), void *arg)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (!c->pid) {
		int res = fn(arg);

		if (write(fds[1], &res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	c->pipe = fds[0];
	return 0;
}

int child_wait(struct child *c, int timeout_ms, int *res)
{
	int ret = -ETIMEDOUT;

	if (poll_for(c->pipe, POLLIN, timeout_ms))
		/* no result but the pipe closed: the child died */
		ret = read(c->pipe, res, sizeof(*res)) == sizeof(*res) ?
		      0 : -ECHILD;
	if (ret)
		kill(c->pid, SIGKILL);
	close(c->pipe);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	return ret;
}

void hex_render(char *out, size_t size, const uint8_t *b, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o + 4 < size; i++)
		o += snprintf(out + o, size - o, "%s%02x", i ? " " : "", b[i]);
}

uint16_t unused_port(void)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen))
		a.sin_port = 0;
	if (fd >= 0)
		close(fd);
	return ntohs(a.sin_port);
}
