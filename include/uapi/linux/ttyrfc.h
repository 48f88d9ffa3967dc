/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ttyrfc generic netlink ABI, shared by driver/ and userspace-helper/.
 *
 * The helper (ttyrfcd) opens one generic netlink socket, sends
 * TTYRFC_CMD_HELLO and from then on receives the kernel's events on that
 * socket as unicast messages. Requests the helper makes are answered
 * synchronously (the kernel runs them in the sender's context).
 *
 * Data flow control:
 *  - kernel -> helper: the kernel sends at most TTYRFC_TX_WINDOW bytes of
 *    unconfirmed TX data per port; the helper confirms each TX message with
 *    TTYRFC_CMD_TX_DONE once it has written its bytes to the TCP socket.
 *  - helper -> kernel: when the tty runs short of room the kernel sends
 *    TTYRFC_CMD_RX_STOP; the helper stops reading that port's TCP socket
 *    until TTYRFC_CMD_RX_READY arrives. The kernel keeps enough spare room
 *    for what the helper may have in flight.
 *
 * Requests from the helper carry no reply on success (errors come back as
 * netlink errors), so the data path is one message per chunk each way.
 */
#ifndef _UAPI_LINUX_TTYRFC_H
#define _UAPI_LINUX_TTYRFC_H

#define TTYRFC_GENL_NAME	"ttyrfc"
#define TTYRFC_GENL_VERSION	1

enum ttyrfc_cmd {
	TTYRFC_CMD_UNSPEC,

	/* helper -> kernel */
	TTYRFC_CMD_HELLO,	/* VERSION; registers the sender as helper */
	TTYRFC_CMD_LINK,	/* INDEX, LINK_STATE, ERRNO: connect result */
	TTYRFC_CMD_RX,		/* INDEX, DATA */
	TTYRFC_CMD_TX_DONE,	/* INDEX, BYTES: return TX credit */
	TTYRFC_CMD_STATUS,	/* INDEX, MSR?, LSR?, STAT_PROTO_ERRORS?:
				 * what the server said */

	/* admin (ttyrfcctl) */
	TTYRFC_CMD_ADD,		/* HOST, PORT, NAME?, FLAGS?; reply: INDEX */
	TTYRFC_CMD_DEL,		/* INDEX */
	TTYRFC_CMD_GET,		/* dump of ports, or INDEX */

	/* kernel -> helper (unicast events) */
	TTYRFC_CMD_OPEN,	/* INDEX, HOST, PORT, FLAGS + current SETTINGS */
	TTYRFC_CMD_CLOSE,	/* INDEX: last close, drop the session */
	TTYRFC_CMD_TX,		/* INDEX, DATA */
	TTYRFC_CMD_SET,		/* INDEX + any of the SETTINGS attributes */
	TTYRFC_CMD_RX_STOP,	/* INDEX: tty is full, stop reading */
	TTYRFC_CMD_RX_READY,	/* INDEX: tty has room again */

	__TTYRFC_CMD_MAX,
};
#define TTYRFC_CMD_MAX (__TTYRFC_CMD_MAX - 1)

enum ttyrfc_attr {
	TTYRFC_A_UNSPEC,
	TTYRFC_A_VERSION,	/* u32 */
	TTYRFC_A_INDEX,		/* u32: minor number, ttyRFC<index> */
	TTYRFC_A_HOST,		/* string */
	TTYRFC_A_PORT,		/* u16 */
	TTYRFC_A_NAME,		/* string, free-form label */
	TTYRFC_A_FLAGS,		/* u32, TTYRFC_F_* */
	TTYRFC_A_LINK_STATE,	/* u8, enum ttyrfc_link */
	TTYRFC_A_ERRNO,		/* u32, positive errno of a failed link */
	TTYRFC_A_DATA,		/* binary */
	TTYRFC_A_BYTES,		/* u32 */

	/* settings: sent in OPEN (all) and SET (changed ones only) */
	TTYRFC_A_BAUD,		/* u32, bits per second */
	TTYRFC_A_DATASIZE,	/* u8, 5..8 */
	TTYRFC_A_PARITY,	/* u8, RFC 2217 value 1..5 */
	TTYRFC_A_STOPSIZE,	/* u8, RFC 2217 value 1..3 */
	TTYRFC_A_FLOW,		/* u8, RFC 2217 SET-CONTROL 1/2/3 */
	TTYRFC_A_MCTRL,		/* u32, TTYRFC_MCTRL_*: DTR/RTS after the change */
	TTYRFC_A_MCTRL_MASK,	/* u32, which MCTRL lines changed */
	TTYRFC_A_BREAK,		/* u8, 0 off, 1 on */
	TTYRFC_A_PURGE,		/* u8, RFC 2217 PURGE-DATA 1/2/3 */
	TTYRFC_A_SUSPEND,	/* u8, 1: tty throttled, 0: resumed */

	/* status from the helper */
	TTYRFC_A_MSR,		/* u8, NOTIFY-MODEMSTATE byte */
	TTYRFC_A_LSR,		/* u8, NOTIFY-LINESTATE byte */

	/* counters (GET reply) */
	TTYRFC_A_STAT_TX_BYTES,		/* u64 */
	TTYRFC_A_STAT_RX_BYTES,		/* u64 */
	TTYRFC_A_STAT_RX_DROPPED,	/* u64 */
	TTYRFC_A_STAT_OPEN_COUNT,	/* u32 */
	TTYRFC_A_STAT_RECONNECTS,	/* u32 */
	TTYRFC_A_STAT_PROTO_ERRORS,	/* u32 */
	TTYRFC_A_PAD,

	__TTYRFC_A_MAX,
};
#define TTYRFC_A_MAX (__TTYRFC_A_MAX - 1)

enum ttyrfc_link {
	TTYRFC_LINK_DOWN,
	TTYRFC_LINK_CONNECTING,
	TTYRFC_LINK_UP,
};

#define TTYRFC_F_RAW		(1U << 0)	/* no telnet: data only */

#define TTYRFC_MCTRL_DTR	(1U << 0)
#define TTYRFC_MCTRL_RTS	(1U << 1)

#define TTYRFC_MAX_DATA		16384	/* largest DATA attribute */
#define TTYRFC_TX_WINDOW	65536	/* unconfirmed TX bytes per port */

#endif /* _UAPI_LINUX_TTYRFC_H */
