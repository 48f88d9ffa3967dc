/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One remote serial port as ttyrfcd sees it: the kernel's wishes (open,
 * settings, data) on one side, a TCP session to the RFC 2217 server on the
 * other, kept alive with reconnects while the tty is open.
 */
#ifndef TTYRFC_PORT_H
#define TTYRFC_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfc2217.h"

enum port_state {
	PORT_IDLE,		/* tty closed: no session */
	PORT_CONNECTING,	/* non-blocking connect() in progress */
	PORT_UP,		/* session established */
	PORT_BACKOFF,		/* waiting to reconnect */
};

struct port_settings {
	uint32_t baud;
	uint8_t datasize, parity, stopsize, flow;
	uint32_t mctrl;		/* TTYRFC_MCTRL_* */
};

struct port {
	uint32_t index;
	char host[256];
	uint16_t tcp_port;
	uint32_t flags;		/* TTYRFC_F_* */
	enum port_state state;
	int fd;
	int64_t deadline;	/* ms, CLOCK_MONOTONIC: connect/backoff/hint */
	int64_t hint_at;	/* ms: check for a telnet answer by then */
	unsigned int attempts;	/* failed connects in a row */
	int last_err;
	bool rx_stopped;	/* kernel asked us to stop reading */
	bool want_out;		/* EPOLLOUT armed */
	bool dirty;		/* output added by this batch of events */
	struct port_settings s;	/* as the kernel last asked */
	uint32_t mctrl_known;	/* lines the kernel has set since open */
	struct rfc2217 codec;

	/* bytes for the server, not yet written; escaped already */
	uint8_t *out;
	size_t out_head, out_len, out_cap;
	uint32_t unconfirmed;	/* kernel bytes in out, TX_DONE pending */

	/* serial data for the kernel, gathered while decoding one read */
	uint8_t rx[16384];
	size_t rx_len;

	/* counters */
	uint64_t tx_bytes, rx_bytes, tx_lost;
	uint32_t reconnects, proto_errors;
};

#endif
