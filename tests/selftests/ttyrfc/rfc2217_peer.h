/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small RFC 2217 server for the ttyrfc selftests: it plays the board side
 * of a port. It listens on 127.0.0.1:<ephemeral>, answers the client's
 * telnet negotiation, and records every COM-PORT-OPTION command and every
 * run of data it receives, in order, with timestamps. The test drives it
 * as the board would: send data, NOTIFY-MODEMSTATE, NOTIFY-LINESTATE, drop
 * the connection, refuse new ones, or stop reading.
 *
 * One thread per peer owns the sockets; the calls below hand it requests
 * and wait for them to be done, so they are safe from any test thread.
 */
#ifndef RFC2217_PEER_H
#define RFC2217_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Telnet and RFC 2217 numbers */
#define TN_IAC		255
#define TN_DONT		254
#define TN_DO		253
#define TN_WONT		252
#define TN_WILL		251
#define TN_SB		250
#define TN_SE		240
#define TNOPT_BINARY	0
#define TNOPT_COMPORT	44

#define CPO_SIGNATURE		0
#define CPO_SET_BAUDRATE	1
#define CPO_SET_DATASIZE	2
#define CPO_SET_PARITY		3
#define CPO_SET_STOPSIZE	4
#define CPO_SET_CONTROL		5
#define CPO_NOTIFY_LINESTATE	6
#define CPO_NOTIFY_MODEMSTATE	7
#define CPO_FLOWCONTROL_SUSPEND	8
#define CPO_FLOWCONTROL_RESUME	9
#define CPO_SET_LINESTATE_MASK	10
#define CPO_SET_MODEMSTATE_MASK	11
#define CPO_PURGE_DATA		12
#define CPO_SERVER		100	/* server replies and notifications */

/* SET-CONTROL values */
#define CTL_FLOW_NONE	1
#define CTL_FLOW_XONXOFF 2
#define CTL_FLOW_HW	3
#define CTL_BREAK_ON	5
#define CTL_BREAK_OFF	6
#define CTL_DTR_ON	8
#define CTL_DTR_OFF	9
#define CTL_RTS_ON	11
#define CTL_RTS_OFF	12

/* NOTIFY-MODEMSTATE and NOTIFY-LINESTATE bits */
#define MSR_CD		0x80
#define MSR_RI		0x40
#define MSR_DSR		0x20
#define MSR_CTS		0x10
#define LSR_BREAK	0x10
#define LSR_FRAMING	0x08
#define LSR_PARITY	0x04
#define LSR_OVERRUN	0x02

/* peer_start() flags */
#define PEER_RAW	0x1	/* no telnet: every byte is data */
#define PEER_MUTE	0x2	/* accept, but never answer or send */
#define PEER_SMALLBUF	0x4	/* tiny receive buffer: pushes back early */

#define PEER_VAL_MAX	16	/* longer values are cut; val_len tells */

enum peer_ev_type {
	PEER_EV_CONN,		/* a client connected */
	PEER_EV_CMD,		/* a COM-PORT-OPTION subnegotiation */
	PEER_EV_DATA,		/* a run of data bytes, un-escaped */
	PEER_EV_CLOSE,		/* the connection ended (either side) */
};

struct peer_event {
	enum peer_ev_type type;
	unsigned int conn;	/* connection number, from 1 */
	unsigned int read;	/* index of the recv() within the connection */
	struct timespec ts;	/* CLOCK_MONOTONIC when that recv() returned */
	size_t off;		/* data bytes received on conn before this */
	/* PEER_EV_CMD */
	uint8_t cmd;
	uint8_t val[PEER_VAL_MAX];
	size_t val_len;		/* real length; only PEER_VAL_MAX kept */
	/* PEER_EV_DATA: valid until peer_stop() */
	const uint8_t *data;
	size_t len;
	size_t escaped_ff;	/* 0xFF bytes that came doubled on the wire */
};

struct peer;

/* Start a peer; NULL on failure (errno set). */
struct peer *peer_start(unsigned int flags);
void peer_stop(struct peer *p);
uint16_t peer_port(const struct peer *p);

/* Acting as the board; 0 or -errno (-ENOTCONN without a client). */
int peer_send_data(struct peer *p, const void *buf, size_t len);
int peer_send_cmd(struct peer *p, uint8_t cmd, const void *val, size_t len);
int peer_send_modemstate(struct peer *p, uint8_t msr);
int peer_send_linestate(struct peer *p, uint8_t lsr);
int peer_drop(struct peer *p);			/* close the connection */
int peer_refuse(struct peer *p, bool refuse);	/* close/reopen listener */
int peer_pause(struct peer *p, bool pause);	/* stop/resume reading */

/* The log: events are numbered from 0 and never change once recorded. */
size_t peer_mark(struct peer *p);		/* events so far */
unsigned int peer_conn(struct peer *p);		/* newest connection */
/* Copy event @idx, waiting up to @timeout_ms for it: 0 or -ETIMEDOUT. */
int peer_event(struct peer *p, size_t idx, struct peer_event *ev,
	       int timeout_ms);
/* The number of the first connection made at or after event @mark. */
int peer_wait_conn(struct peer *p, size_t mark, int timeout_ms);
/*
 * Collect the data connection @conn received from event @mark on into @buf
 * until @want bytes are there or @timeout_ms passed; returns the length.
 */
size_t peer_wait_data(struct peer *p, unsigned int conn, size_t mark,
		      uint8_t *buf, size_t want, int timeout_ms);

#endif /* RFC2217_PEER_H */
