/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ttyrfcd's side of the "ttyrfc" netlink family: registering with the
 * module, its events turned into port_*() calls, and the messages the
 * sessions send back.
 */
#ifndef TTYRFC_KERNEL_H
#define TTYRFC_KERNEL_H

#include "session.h"

#define PORTS_LIMIT	256

/* Open the socket, follow module reloads, say HELLO. 0 or -errno. */
int kernel_open(int epfd);
void kernel_close(void);
int kernel_fd(void);
/* Read and handle everything the kernel sent; -errno if the socket broke. */
int kernel_read(void);

/* The port with this index, if the kernel told us about it. */
struct port *kernel_port(unsigned int index);
/* Register again if that failed; when to look next (0: nothing to do). */
int64_t kernel_timer(int64_t now);
/* Write out what a batch of events queued, port by port. */
void kernel_flush_ports(void);

#endif
