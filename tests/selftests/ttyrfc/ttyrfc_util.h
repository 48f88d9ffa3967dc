/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the ttyrfc selftests that need no test harness: running
 * ttyrfcctl, termios2, waiting with timeouts, and running a call that may
 * block for ever in a child that can be killed.
 *
 * Only user-facing interfaces are used: the tty ABI of /dev/ttyRFC<n>,
 * the ttyrfcctl program, sysfs and /proc.
 */
#ifndef TTYRFC_UTIL_H
#define TTYRFC_UTIL_H

#include <asm/termbits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Run ttyrfcctl (or $TTYRFCCTL) with a NULL-terminated list of arguments.
 * Its stdout and stderr go to @out. Returns its exit status or -errno.
 */
int ctl_run(char *out, size_t size, ...);
/*
 * ttyrfcctl add 127.0.0.1:@port [--raw]; the new device name ("ttyRFC3")
 * in @dev. Returns its index, or -1 with ttyrfcctl's output in @dev.
 */
int port_add(uint16_t port, bool raw, char *dev, size_t size);
/* ttyrfcctl del @dev; its exit status. */
int port_del(const char *dev);
/*
 * A local TCP port nobody listens on (bound once, then closed); 0 if
 * none could be had.
 */
uint16_t unused_port(void);
/* open("/dev/" @dev), waiting up to 2 s for the node to appear. */
int dev_open(const char *dev, int flags);

int tty_get(int fd, struct termios2 *t);
int tty_set(int fd, const struct termios2 *t);
/* 115200 8N1, CREAD | CLOCAL | HUPCL, no input or output processing. */
void tty_raw(struct termios2 *t);
int tty_set_clocal(int fd, bool on);
int tty_set_iflag(int fd, unsigned int iflag);

long long now_ms(void);
void sleep_ms(int ms);
/* /sys/module/ttyrfc/parameters/open_timeout, or -1 */
int open_timeout_s(void);
/* Is a process called ttyrfcd running? */
bool helper_running(void);
/* sysfs link state of @dev ("up", "down", "connecting") into @buf */
int link_state(const char *dev, char *buf, size_t size);
/* Wait until the link of @dev is (or, with @negate, is not) @state. */
int wait_link(const char *dev, const char *state, bool negate,
	      int timeout_ms);

/*
 * Wait until task @tid of process @pid sleeps in system call @nr (e.g.
 * SYS_ioctl), so that an event sent now finds it waiting. 0 or -ETIMEDOUT.
 */
int wait_asleep_in(pid_t pid, pid_t tid, long nr, int timeout_ms);
/* Wait until /proc/@pid/wchan names a function containing @fn. */
int wait_wchan(pid_t pid, const char *fn, int timeout_ms);

/*
 * Read from @fd into @buf until @marker arrives, @size bytes are there or
 * @timeout_ms passed. Returns the length read.
 */
size_t read_until(int fd, uint8_t *buf, size_t size, int marker,
		  int timeout_ms);
/* Poll @fd for @events; the revents, 0 on timeout. */
int poll_for(int fd, short events, int timeout_ms);

/* A function run in a child process; its int result comes back. */
struct child {
	pid_t pid;
	int pipe;
};
int child_start(struct child *c, int (*fn)(void *), void *arg);
/*
 * 0 and the result in @res; -ETIMEDOUT (then it was killed) or -ECHILD
 * if it died without one.
 */
int child_wait(struct child *c, int timeout_ms, int *res);

/* "5:8 5:11" style rendering of command bytes, for failure messages */
void hex_render(char *out, size_t size, const uint8_t *b, size_t n);

#endif /* TTYRFC_UTIL_H */
