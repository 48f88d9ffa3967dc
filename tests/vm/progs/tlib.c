// SPDX-License-Identifier: GPL-2.0
/* Shared helpers of the VM suite's C test programs; see tlib.h. */
#define _GNU_SOURCE
#include <asm/termbits.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlib.h"

/* ------------------------------------------------------------ TAP */

unsigned int tap_pass, tap_fail;

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* one line per line, so the wrapper never splits a message */
	for (char *l = buf, *nl; l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		if (*l || !nl)
			printf("%s%s\n", prefix, l);
	}
	fflush(stdout);
}

void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("## ", fmt, ap);
	va_end(ap);
}

bool tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(ok ? "ok - " : "not ok - ", fmt, ap);
	va_end(ap);
	if (ok)
		tap_pass++;
	else
		tap_fail++;
	return ok;
}

void tap_skip(const char *why, const char *fmt, ...)
{
	char name[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	printf("ok - %s # SKIP %s\n", name, why);
	fflush(stdout);
	tap_pass++;
}

int tap_end(void)
{
	printf("## %u passed, %u failed\n", tap_pass, tap_fail);
	fflush(stdout);
	return tap_fail ? 1 : 0;
}

/* ------------------------------------------------------------ time */

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long now_ms(void)
{
	return now_us() / 1000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void stats_ms(double *v, size_t n, double *median, double *worst)
{
	*median = *worst = 0;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*worst = v[n - 1];
}

/* ------------------------------------------------------------ ttyrfcctl */

const char *ctl_path(void)
{
	const char *p = getenv("TTYRFCCTL");

	return p && *p ? p : "userspace-helper/ttyrfcctl";
}

static int run_argv(char *out, size_t size, const char **argv)
{
	size_t len = 0;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

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
	while (len + 1 < size &&
	       ((n = read(fds[0], out + len, size - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			len += n;
	if (size)
		out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int ctl_run(char *out, size_t size, ...)
{
	const char *argv[20];
	int argc = 1;
	va_list ap;

	argv[0] = ctl_path();
	va_start(ap, size);
	while (argc < 19 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return run_argv(out, size, argv);
}

int ctl_add(char *out, size_t size, const char *remote, const char *arg1,
	    const char *arg2)
{
	unsigned int index;
	const char *l;
	int ret;

	ret = ctl_run(out, size, "add", remote, arg1, arg2, NULL);
	for (l = out; ret == 0 && l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (sscanf(l, "ttyRFC%u", &index) == 1)
			return index;
	}
	return -1;
}

int ctl_del_index(unsigned int index)
{
	char dev[32], out[512];

	snprintf(dev, sizeof(dev), "ttyRFC%u", index);
	return ctl_run(out, sizeof(out), "del", dev, NULL);
}

int ctl_json(unsigned int index, char *out, size_t size)
{
	char dev[32];

	snprintf(dev, sizeof(dev), "ttyRFC%u", index);
	return ctl_run(out, size, "--json", "show", dev, NULL);
}

long long json_num(const char *json, const char *key)
{
	char pat[80];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

long long ctl_stat(unsigned int index, const char *key)
{
	char out[8192];

	if (ctl_json(index, out, sizeof(out)))
		return -1;
	return json_num(out, key);
}

int ctl_str(unsigned int index, const char *key, char *buf, size_t size)
{
	char out[8192], pat[80];
	const char *p, *e;

	if (ctl_json(index, out, sizeof(out)))
		return -1;
	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(out, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= size)
		return -1;
	memcpy(buf, p, e - p);
	buf[e - p] = '\0';
	return 0;
}

/* ------------------------------------------------------------ the helper */

pid_t helper_spawn(const char *path, const char *log)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	/* its own session: a signal to our group must not reach it */
	setsid();
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int nul = open("/dev/null", O_RDONLY);

	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (nul >= 0)
		dup2(nul, 0);
	/* undo what a test may have set up for itself */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execl(path, path, (char *)NULL);
	_exit(127);
}

int count_lines(const char *file, const char *needle)
{
	FILE *f = fopen(file, "re");
	char line[2048];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

int helper_wait_registered(const char *log, int before, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	do {
		if (count_lines(log, "registered with") > before)
			return 0;
		sleep_ms(10);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

int kill_wait(pid_t pid, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	if (pid <= 0)
		return 0;
	kill(pid, SIGCONT);
	kill(pid, SIGKILL);
	do {
		/* our child: reap it; otherwise wait for it to vanish */
		if (waitpid(pid, NULL, WNOHANG) == pid ||
		    (kill(pid, 0) && errno == ESRCH))
			return 0;
		sleep_ms(5);
	} while (now_ms() < end);
	return -ETIMEDOUT;
}

pid_t find_comm(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		char path[300], buf[64], state[256];
		const char *p;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (read_text(path, buf, sizeof(buf)) <= 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, comm))
			continue;
		/* not a zombie */
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (read_text(path, state, sizeof(state)) > 0 &&
		    (p = strrchr(state, ')')) && p[1] == ' ' && p[2] == 'Z')
			continue;
		found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/* ------------------------------------------------------------ files */

int read_text(const char *path, char *buf, size_t size)
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

int link_state(unsigned int index, char *buf, size_t size)
{
	char path[96];
	int n;

	snprintf(path, sizeof(path), "/sys/class/tty/ttyRFC%u/link", index);
	n = read_text(path, buf, size);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return n < 0 ? n : 0;
}

/* ------------------------------------------------------------ tty */

int tty_make_raw(int fd)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t))
		return -1;
	t.c_iflag = 0;
	t.c_oflag = 0;
	t.c_lflag = 0;
	t.c_cflag &= ~(CBAUD | CIBAUD | CSIZE | PARENB | PARODD | CMSPAR |
		       CSTOPB | CRTSCTS);
	t.c_cflag |= B115200 | CS8 | CREAD | CLOCAL;
	t.c_ispeed = t.c_ospeed = 115200;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return ioctl(fd, TCSETS2, &t);
}

/* ------------------------------------------------------------ stream */

static uint32_t rec_hash(uint64_t rec)
{
	uint64_t z = rec + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 16) | 1;
}

static void rec_bytes(uint64_t rec, uint8_t out[8])
{
	uint32_t n = (uint32_t)rec, h = rec_hash(rec);

	for (int i = 0; i < 4; i++) {
		out[i] = n >> (8 * i);
		out[4 + i] = h >> (8 * i);
	}
}

uint8_t stream_byte(uint64_t pos)
{
	uint8_t r[8];

	rec_bytes(pos / 8, r);
	return r[pos % 8];
}

void stream_fill(uint8_t *buf, uint64_t pos, size_t len)
{
	uint8_t r[8];
	uint64_t rec = UINT64_MAX;

	for (size_t i = 0; i < len; i++, pos++) {
		if (pos / 8 != rec) {
			rec = pos / 8;
			rec_bytes(rec, r);
		}
		buf[i] = r[pos % 8];
	}
}

void stream_rx_init(struct stream_rx *s)
{
	memset(s, 0, sizeof(*s));
}

/* A record at pend[k..k+8): its stream position, or UINT64_MAX. */
static uint64_t rec_at(const uint8_t *b)
{
	uint32_t n = 0, h = 0;

	for (int i = 0; i < 4; i++) {
		n |= (uint32_t)b[i] << (8 * i);
		h |= (uint32_t)b[4 + i] << (8 * i);
	}
	/* positions are below 2^35 in these tests: the record number fits */
	return h == rec_hash(n) ? (uint64_t)n * 8 : UINT64_MAX;
}

/*
 * Out of step: find a record in the pending bytes, then where the old run
 * ended and the new one began.
 */
static bool resync(struct stream_rx *s)
{
	for (size_t k = 0; k + 8 <= s->npend; k++) {
		uint64_t at = rec_at(s->pend + k), start, end;
		size_t j, i;

		if (at == UINT64_MAX || at < k)
			continue;
		/* the bytes after the record must follow it */
		for (i = k + 8; i < s->npend; i++)
			if (s->pend[i] != stream_byte(at + i - k))
				break;
		if (i < s->npend)
			continue;
		/*
		 * pend[0..j) still belong to the old run (from s->pos),
		 * pend[j..k) already to the new one (ending at @at).
		 */
		for (j = 0; j < k; j++)
			if (s->pend[j] != stream_byte(s->pos + j))
				break;
		while (j > 0) {
			for (i = j; i < k; i++)
				if (s->pend[i] != stream_byte(at - k + i))
					break;
			if (i == k)
				break;
			j--;
		}
		for (i = j; i < k; i++)
			if (s->pend[i] != stream_byte(at - k + i))
				break;
		if (i < k) {
			s->garbage++;
			continue;
		}
		end = s->pos + j;
		start = at - (k - j);
		if (start < end) {
			s->rewinds++;
			s->repeated += end - start;
		} else if (start > end) {
			s->gaps++;
			s->lost += start - end;
		}
		s->pos = at + (s->npend - k);
		if (s->pos > s->high)
			s->high = s->pos;
		s->npend = 0;
		return true;
	}
	return false;
}

void stream_rx_feed(struct stream_rx *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->got++;
		if (!s->npend && b[i] == stream_byte(s->pos)) {
			s->pos++;
			if (s->pos > s->high)
				s->high = s->pos;
			continue;
		}
		s->pend[s->npend++] = b[i];
		if (s->npend >= 9 && resync(s))
			continue;
		if (s->npend == sizeof(s->pend)) {
			/* no record in 64 bytes: junk; keep looking */
			s->garbage++;
			memmove(s->pend, s->pend + 1, --s->npend);
		}
	}
}
