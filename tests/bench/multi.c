// SPDX-License-Identifier: GPL-2.0
/*
 * multi SECONDS HELPER_PID DEV...
 *
 * Many ports streaming at once, for the benchmarks: every DEV (an echoing
 * /dev/ttyRFC<n>) is opened raw; one poll loop keeps writing 4 KiB blocks of
 * data to each (at most 256 KiB ahead of its echo) and reads the echo back.
 * After 1 s of warm-up it counts, for SECONDS, the bytes each port got back,
 * and reads the helper's CPU time (utime + stime, /proc/PID/stat) at both ends
 * of that window and its memory at the end (VmRSS, VmHWM from /proc/PID/status).
 * Then it stops writing, reads until every echo is back (or 60 s pass) and
 * closes the ports.
 *
 * Prints one JSON line:
 *   {"ports":N,"secs":S,"rx":[bytes per port],"tx_total":..,"rx_total":..,
 *    "cpu_s":..,"rss_kib":..,"hwm_kib":..,"unechoed":bytes not back by the deadline}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4096
#define AHEAD (256 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_secs(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');	/* comm may hold spaces */
	for (i = 0; p && i < 12; i++)	/* to field 14 (utime) */
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static long status_kib(int pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key));
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	int n = argc - 3, i, pid, measuring = 0, writing = 1;
	long long *tx, *rx, *rx0, txt = 0, rxt = 0;
	double secs, t_start, t_end, cpu0 = 0, cpu1 = 0, t;
	static char out[CHUNK], in[65536];
	struct pollfd *pfd;

	if (argc < 4) {
		fprintf(stderr, "usage: %s SECONDS HELPER_PID DEV...\n", argv[0]);
		return 2;
	}
	secs = atof(argv[1]);
	pid = atoi(argv[2]);
	pfd = calloc(n, sizeof(*pfd));
	tx = calloc(n, sizeof(*tx));
	rx = calloc(n, sizeof(*rx));
	rx0 = calloc(n, sizeof(*rx0));
	for (i = 0; i < CHUNK; i++)
		out[i] = 'a' + i % 26;
	for (i = 0; i < n; i++) {
		struct termios tio;

		pfd[i].fd = open(argv[3 + i], O_RDWR | O_NOCTTY | O_NONBLOCK);
		if (pfd[i].fd < 0) {
			perror(argv[3 + i]);
			return 1;
		}
		tcgetattr(pfd[i].fd, &tio);
		cfmakeraw(&tio);
		tio.c_cflag |= CLOCAL | CREAD;
		tcsetattr(pfd[i].fd, TCSANOW, &tio);
	}
	t_start = now() + 1.0;
	t_end = t_start + secs;
	for (;;) {
		int busy = 0;

		t = now();
		if (!measuring && t >= t_start) {
			measuring = 1;
			cpu0 = cpu_secs(pid);
			memcpy(rx0, rx, n * sizeof(*rx));
		}
		if (measuring == 1 && t >= t_end) {
			measuring = 2;
			cpu1 = cpu_secs(pid);
			for (i = 0; i < n; i++)
				rx0[i] = rx[i] - rx0[i];
			writing = 0;
			t_end = t + 60;	/* drain deadline */
		}
		if (measuring == 2 && t >= t_end)
			break;
		for (i = 0; i < n; i++) {
			pfd[i].events = POLLIN;
			if (writing && tx[i] - rx[i] < AHEAD)
				pfd[i].events |= POLLOUT;
			if (rx[i] < tx[i] || writing)
				busy = 1;
		}
		if (!busy)
			break;
		if (poll(pfd, n, 100) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		for (i = 0; i < n; i++) {
			ssize_t r;

			if (pfd[i].revents & POLLIN) {
				r = read(pfd[i].fd, in, sizeof(in));
				if (r > 0)
					rx[i] += r;
			}
			if (writing && (pfd[i].revents & POLLOUT)) {
				r = write(pfd[i].fd, out, CHUNK);
				if (r > 0)
					tx[i] += r;
			}
		}
	}
	printf("{\"ports\":%d,\"secs\":%.3f,\"rx\":[", n, secs);
	for (i = 0; i < n; i++) {
		printf("%s%lld", i ? "," : "", rx0[i]);
		txt += tx[i];
		rxt += rx[i];
	}
	printf("],\"tx_total\":%lld,\"rx_total\":%lld,\"cpu_s\":%.3f,\"rss_kib\":%ld,\"hwm_kib\":%ld,\"unechoed\":%lld}\n",
	       txt, rxt, cpu1 - cpu0, status_kib(pid, "VmRSS:"), status_kib(pid, "VmHWM:"), txt - rxt);
	for (i = 0; i < n; i++)
		close(pfd[i].fd);
	return 0;
}
