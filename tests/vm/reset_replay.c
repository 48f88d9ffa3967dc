// SPDX-License-Identifier: GPL-2.0
/*
 * reset_replay DEV tight|classic [STREAM_BYTES]
 *
 * Replays esptool's reset sequences on DEV, then writes esptool's SYNC frame:
 *   tight:   TIOCMGET; TIOCMSET (DTR,RTS) = (0,0), (1,1), (0,1); 100 ms; (1,0);
 *            50 ms; (0,0)
 *   classic: TIOCMBIC DTR; TIOCMBIS RTS; 100 ms; TIOCMBIS DTR; TIOCMBIC RTS; 50 ms;
 *            TIOCMBIC DTR
 * With STREAM_BYTES, a second thread writes that many bytes ('A', 4 KiB per
 * write, 1 ms pause after each, so 1 MiB spans the ~160 ms sequence) meanwhile;
 * the sequence starts once 64 KiB of it have been written.
 *
 * Prints one JSON line per operation:
 *   {"op":"tiocmset","dtr":0,"rts":0,"t0":..,"t1":..,"w0":..,"w1":..}
 * t0/t1: CLOCK_MONOTONIC seconds before/after the call; w0/w1: streamed bytes
 * whose write() had returned before the call / by the time it returned (data
 * of one write in progress may be queued too: at most CHUNK more). Exit 0 if
 * every call succeeded.
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
static long stream_total;
static atomic_long written;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *streamer(void *arg)
{
	char buf[CHUNK];
	long left = stream_total;

	(void)arg;
	memset(buf, 'A', sizeof(buf));
	while (left > 0) {
		ssize_t n = write(fd, buf, left < CHUNK ? left : CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("stream write");
			exit(1);
		}
		left -= n;
		atomic_fetch_add(&written, n);
		sleep_ms(1);
	}
	return NULL;
}

static void report(const char *op, int dtr, int rts, double t0, double t1,
		   long w0, long w1)
{
	printf("{\"op\":\"%s\",\"dtr\":%d,\"rts\":%d,\"t0\":%.6f,\"t1\":%.6f,\"w0\":%ld,\"w1\":%ld}\n",
	       op, dtr, rts, t0, t1, w0, w1);
}

static void xioctl(const char *name, unsigned long req, int *arg, int dtr,
		   int rts)
{
	long w0 = atomic_load(&written), w1;
	double t0 = now(), t1;

	if (ioctl(fd, req, arg) < 0) {
		fprintf(stderr, "%s: %s\n", name, strerror(errno));
		exit(1);
	}
	t1 = now();
	w1 = atomic_load(&written);
	report(name, dtr, rts, t0, t1, w0, w1);
}

static void set_lines(int dtr, int rts)
{
	int m;

	if (ioctl(fd, TIOCMGET, &m) < 0) {
		perror("TIOCMGET");
		exit(1);
	}
	m = (m & ~(TIOCM_DTR | TIOCM_RTS)) | (dtr ? TIOCM_DTR : 0) |
	    (rts ? TIOCM_RTS : 0);
	xioctl("tiocmset", TIOCMSET, &m, dtr, rts);
}

static void bis(int line, int on)
{
	int dtr = line == TIOCM_DTR ? on : -1, rts = line == TIOCM_RTS ? on : -1;

	xioctl(on ? "tiocmbis" : "tiocmbic", on ? TIOCMBIS : TIOCMBIC, &line,
	       dtr, rts);
}

int main(int argc, char **argv)
{
	static const unsigned char sync_hdr[] = {
		0xc0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x07, 0x07, 0x12, 0x20 };
	unsigned char frame[sizeof(sync_hdr) + 32 + 1];
	struct termios t;
	pthread_t th;
	double t0;
	long w0;
	int m;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DEV tight|classic [STREAM_BYTES]\n",
			argv[0]);
		return 2;
	}
	stream_total = argc > 3 ? atol(argv[3]) : 0;
	fd = open(argv[1], O_RDWR | O_NOCTTY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	tcgetattr(fd, &t);
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL;
	tcsetattr(fd, TCSANOW, &t);

	if (stream_total) {
		pthread_create(&th, NULL, streamer, NULL);
		while (atomic_load(&written) < 65536 &&
		       atomic_load(&written) < stream_total)
			sleep_ms(1);
	}

	if (!strcmp(argv[2], "tight")) {
		xioctl("tiocmget", TIOCMGET, &m, -1, -1);
		set_lines(0, 0);
		set_lines(1, 1);
		set_lines(0, 1);
		sleep_ms(100);
		set_lines(1, 0);
		sleep_ms(50);
		set_lines(0, 0);
	} else {
		bis(TIOCM_DTR, 0);
		bis(TIOCM_RTS, 1);
		sleep_ms(100);
		bis(TIOCM_DTR, 1);
		bis(TIOCM_RTS, 0);
		sleep_ms(50);
		bis(TIOCM_DTR, 0);
	}

	memcpy(frame, sync_hdr, sizeof(sync_hdr));
	memset(frame + sizeof(sync_hdr), 0x55, 32);
	frame[sizeof(frame) - 1] = 0xc0;
	w0 = atomic_load(&written);
	t0 = now();
	if (write(fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame)) {
		perror("sync write");
		return 1;
	}
	report("sync", -1, -1, t0, now(), w0, atomic_load(&written));
	if (stream_total)
		pthread_join(th, NULL);
	tcdrain(fd);
	printf("{\"op\":\"done\",\"streamed\":%ld}\n", atomic_load(&written));
	fflush(stdout);
	close(fd);
	return 0;
}
