/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the VM suite's C test programs (nl_abuse, torture, faults):
 * TAP lines for tests/vm/lib.sh's t_tap, clocks, ttyrfcctl, starting and
 * killing ttyrfcd by pid, and a self-locating byte stream.
 *
 * Output convention (t_tap in tests/vm/lib.sh turns it into t_ok/t_fail):
 *   "# text"      a diagnostic, shown with the next result if that fails
 *   "## text"     always shown (measurements, progress)
 *   "ok - name" / "not ok - name"
 */
#ifndef TTYRFC_TLIB_H
#define TTYRFC_TLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------ TAP */
extern unsigned int tap_pass, tap_fail;
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One result; returns @ok. */
bool tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Exit status for main(): 0 when nothing failed. */
int tap_end(void);

/* ------------------------------------------------------------ time */
long long now_ms(void);
long long now_us(void);
void sleep_ms(int ms);
/* Sort @v (n values) and give its median and maximum. */
void stats_ms(double *v, size_t n, double *median, double *worst);

/* ------------------------------------------------------------ ttyrfcctl */
/* $TTYRFCCTL, else userspace-helper/ttyrfcctl (relative to the repo). */
const char *ctl_path(void);
/*
 * Run ttyrfcctl with a NULL-terminated argument list; its stdout+stderr
 * into @out. Exit status, or -errno.
 */
int ctl_run(char *out, size_t size, ...);
/* ttyrfcctl add REMOTE [more args...]: the new index, or -1 (@out says). */
int ctl_add(char *out, size_t size, const char *remote, const char *arg1,
	    const char *arg2);
int ctl_del_index(unsigned int index);
/*
 * A counter (or any integer key) of ttyRFC<index> from
 * `ttyrfcctl --json show ttyRFC<index>`; -1 if missing.
 */
long long ctl_stat(unsigned int index, const char *key);
/* `ttyrfcctl --json show ttyRFC<index>` into @out; its exit status. */
int ctl_json(unsigned int index, char *out, size_t size);
/* The integer after "@key": in @json, or -1. */
long long json_num(const char *json, const char *key);
/* A string field ("link", "last_error") into @buf; 0 or -1. */
int ctl_str(unsigned int index, const char *key, char *buf, size_t size);

/* ------------------------------------------------------------ the helper */
/* Start ttyrfcd (path) with stdout/stderr appended to @log; its pid. */
pid_t helper_spawn(const char *path, const char *log);
/* How many lines of @file contain @needle. */
int count_lines(const char *file, const char *needle);
/*
 * Wait until @log has more than @before "registered with" lines: 0, or
 * -ETIMEDOUT.
 */
int helper_wait_registered(const char *log, int before, int timeout_ms);
/* SIGKILL @pid and reap it if it is our child; 0 once it is gone. */
int kill_wait(pid_t pid, int timeout_ms);
/* The pid of a running process whose comm is @comm, or 0. */
pid_t find_comm(const char *comm);

/* ------------------------------------------------------------ files */
int read_text(const char *path, char *buf, size_t size);
/* /sys/class/tty/ttyRFC<index>/link: "up", "down", "connecting" */
int link_state(unsigned int index, char *buf, size_t size);

/* ------------------------------------------------------------ tty */
/* Raw 8N1 at 115200, CLOCAL, CREAD, VMIN 1 (termios2). */
int tty_make_raw(int fd);

/*
 * A self-locating stream: byte i of the stream belongs to 8-byte record
 * i / 8, which holds its record number and a hash of it. A reader that
 * sees bytes repeated (a resend after a helper crash) or missing can tell
 * where it is again from any 8 aligned bytes.
 */
void stream_fill(uint8_t *buf, uint64_t pos, size_t len);
uint8_t stream_byte(uint64_t pos);

struct stream_rx {
	uint64_t got;		/* bytes received */
	uint64_t pos;		/* stream position of the next byte */
	uint64_t high;		/* highest position + 1 seen */
	uint64_t repeated;	/* bytes that came again */
	uint64_t lost;		/* bytes that never came (gaps) */
	unsigned int rewinds, gaps, garbage;
	/* resync: the bytes since the last one that matched */
	uint8_t pend[64];
	size_t npend;
};
void stream_rx_init(struct stream_rx *s);
/*
 * Feed received bytes: @high tells how far the stream got ("data flows
 * again" once it passes what was written before a fault), @repeated and
 * @lost what a fault cost.
 */
void stream_rx_feed(struct stream_rx *s, const uint8_t *b, size_t n);

#endif
