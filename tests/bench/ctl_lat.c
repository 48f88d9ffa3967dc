// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_lat DEV N [PRELOAD_BYTES]
 *
 * Control latency probe for the benchmarks (tests/bench/ctl_lat.py reads what it
 * prints together with the recording server's log). Opens DEV raw with CLOCAL
 * (the open raises DTR and RTS), then issues N TIOCMSET calls, each flipping DTR
 * (RTS stays on): the first drops it, the next raises it, and so on, so each call
 * is exactly one SET-CONTROL (9 or 8) at the server.
 *
 *   idle (no PRELOAD_BYTES): one call every 4-7 ms, nothing else on the port.
 *   streaming: a second thread writes 4 KiB blocks as fast as the port takes
 *   them; the first call comes once PRELOAD_BYTES (e.g. 1 MiB) have been
 *   written, so the queues (tty buffer, helper, sockets) are full of data
 *   written before it; then one call every 10-13 ms while the writer goes on.
 *   After the last call the writer stops and the port is drained (tcdrain).
 *
 * Prints one JSON line per call:
 *   {"op":i,"dtr":0|1,"t0":..,"t1":..,"w0":..,"w1":..}
 * t0/t1: CLOCK_MONOTONIC seconds just before / after the ioctl; w0/w1: bytes
 * whose write() had returned before the call / by the time it returned (one
 * write in progress may have queued up to 4 KiB more). Then
 *   {"done":1,"streamed":BYTES}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4096

static int fd;
static atomic_long written;
static atomic_int stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *streamer(void *arg)
{
	char buf[CHUNK];

	(void)arg;
	memset(buf, 'A', sizeof(buf));
	while (!atomic_load(&stop)) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("stream write");
			exit(1);
		}
		atomic_fetch_add(&written, n);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n, preload = 0;
	struct termios t;
	pthread_t th;
	int i, bits;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DEV N [PRELOAD_BYTES]\n", argv[0]);
		return 2;
	}
	n = atol(argv[2]);
	if (argc > 3)
		preload = atol(argv[3]);
	fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	tcgetattr(fd, &t);
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	tcsetattr(fd, TCSANOW, &t);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	srand(getpid());
	sleep_us(300000);	/* let the session settle (open's DTR/RTS) */

	if (preload) {
		pthread_create(&th, NULL, streamer, NULL);
		while (atomic_load(&written) < preload)
			sleep_us(1000);
	}
	for (i = 0; i < n; i++) {
		long w0, w1;
		double t0, t1;
		int dtr = i % 2;	/* 0, 1, 0, ...: DTR off first (open raised it) */

		bits = TIOCM_RTS | (dtr ? TIOCM_DTR : 0);
		w0 = atomic_load(&written);
		t0 = now();
		if (ioctl(fd, TIOCMSET, &bits)) {
			perror("TIOCMSET");
			return 1;
		}
		t1 = now();
		w1 = atomic_load(&written);
		printf("{\"op\":%d,\"dtr\":%d,\"t0\":%.6f,\"t1\":%.6f,\"w0\":%ld,\"w1\":%ld}\n",
		       i, dtr, t0, t1, w0, w1);
		sleep_us((preload ? 10000 : 4000) + rand() % 3000);
	}
	if (preload) {
		atomic_store(&stop, 1);
		pthread_join(th, NULL);
	}
	tcdrain(fd);
	printf("{\"done\":1,\"streamed\":%ld}\n", atomic_load(&written));
	fflush(stdout);
	close(fd);
	return 0;
}
