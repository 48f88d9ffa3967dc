/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ttyrfc: the kernel API differences between the kernels we build for
 * (Debian's 6.1, 6.12 and newer). Nothing else in driver/ checks versions.
 */
#ifndef _TTYRFC_COMPAT_H
#define _TTYRFC_COMPAT_H

#include <linux/version.h>

/* 6.6: tty write takes a size_t and returns ssize_t */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define TTYRFC_WRITE_RET	ssize_t
#define TTYRFC_WRITE_LEN	size_t
#else
#define TTYRFC_WRITE_RET	int
#define TTYRFC_WRITE_LEN	int
#endif

/* 6.2: carrier_raised returns bool, dtr_rts takes bool */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define TTYRFC_CARRIER_T	bool
#define TTYRFC_DTR_RTS_T	bool
#else
#define TTYRFC_CARRIER_T	int
#define TTYRFC_DTR_RTS_T	int
#endif

#define TTYRFC_OLD_TERMIOS_T	const struct ktermios

/* 6.6: the port's receive_buf returns size_t */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define TTYRFC_RECV_RET		size_t
#else
#define TTYRFC_RECV_RET		int
#endif

#endif /* _TTYRFC_COMPAT_H */
