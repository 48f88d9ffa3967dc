/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ttyrfc generic netlink ABI, shared by driver/ and userspace-helper/.
 * docs/netlink/ttyrfc.yaml describes the same family in the kernel's YNL
 * style; tests/unit/check_spec.py keeps the two in step.
 *
 * One helper (ttyrfcd) registers with HELLO and from then on receives the
 * kernel's events on that socket as unicast messages. The kernel knows
 * nothing of RFC 2217: it speaks termios-level settings and TIOCM_* bits.
 *
 * Sessions. Every connection attempt of a port is a session with an id the
 * kernel chose (OPEN). Every message about a port, in both directions,
 * carries it; a message of another session is dropped and counted (the
 * kernel answers ESTALE).
 *
 * The ordered stream. What a process does to a port (data, settings, DTR/
 * RTS, break, purge) reaches the helper in order: data as TX at byte
 * positions (TX_POS, 64 bits, never reused on a port), control changes as
 * SET with a control number (CTRL_SEQ) and the data position they follow.
 * The helper reports with CONFIRM the longest prefix of that stream the
 * server's TCP has acknowledged. The kernel keeps everything after it; when
 * a session fails it starts the next one at the confirmed point (OPEN
 * carries the settings in force there) and sends the rest again, in order.
 *
 * Receive credit. The helper sends RX data at positions (RX_POS) below the
 * RX_LIMIT the kernel granted last (OPEN, RX_LIMIT). It stops reading the
 * server's socket when the credit is used up, so TCP pushes back on the
 * server; the kernel grants more as the tty consumes what it got.
 */
#ifndef _UAPI_LINUX_TTYRFC_H
#define _UAPI_LINUX_TTYRFC_H

#define TTYRFC_GENL_NAME	"ttyrfc"
#define TTYRFC_GENL_VERSION	2

enum ttyrfc_cmd {
	TTYRFC_CMD_UNSPEC,

	/* ttyrfcd -> kernel */
	TTYRFC_CMD_HELLO,	/* VERSION: register; open ports get a new session */
	TTYRFC_CMD_LINK,	/* INDEX, SESSION, LINK, ERRNO? */
	TTYRFC_CMD_RX,		/* INDEX, SESSION, RX_POS, DATA */
	TTYRFC_CMD_CONFIRM,	/* INDEX, SESSION, TX_POS, CTRL_SEQ */
	TTYRFC_CMD_STATUS,	/* INDEX, SESSION, MODEM?, LINE?, SERVER?, STATS? */

	/* ttyrfcctl -> kernel */
	TTYRFC_CMD_ADD,		/* HOST, PORT, NAME?, FLAGS?; reply: INDEX */
	TTYRFC_CMD_DEL,		/* INDEX */
	TTYRFC_CMD_GET,		/* dump only: one message per port */

	/* kernel -> ttyrfcd */
	TTYRFC_CMD_OPEN,	/* INDEX, SESSION, OPEN_KIND, HOST, PORT, FLAGS,
				 * TX_POS, CTRL_SEQ, RX_POS, RX_LIMIT, SETTINGS */
	TTYRFC_CMD_CLOSE,	/* INDEX, SESSION: deliver what was sent, end */
	TTYRFC_CMD_TX,		/* INDEX, SESSION, TX_POS, DATA */
	TTYRFC_CMD_SET,		/* INDEX, SESSION, TX_POS, CTRL_SEQ, changes */
	TTYRFC_CMD_RX_LIMIT,	/* INDEX, SESSION, RX_LIMIT */

	__TTYRFC_CMD_MAX,
};
#define TTYRFC_CMD_MAX (__TTYRFC_CMD_MAX - 1)

enum ttyrfc_attr {
	TTYRFC_A_UNSPEC,
	TTYRFC_A_PAD,
	TTYRFC_A_VERSION,	/* u32 */
	TTYRFC_A_INDEX,		/* u32: minor number, ttyRFC<index> */
	TTYRFC_A_SESSION,	/* u32, never 0 */
	TTYRFC_A_HOST,		/* string */
	TTYRFC_A_PORT,		/* u16 */
	TTYRFC_A_NAME,		/* string, [A-Za-z0-9#+-.:=@_]* */
	TTYRFC_A_FLAGS,		/* u32, TTYRFC_F_* */
	TTYRFC_A_OPEN_KIND,	/* u8, enum ttyrfc_open_kind */
	TTYRFC_A_LINK,		/* u8, enum ttyrfc_link */
	TTYRFC_A_ERRNO,		/* u32, positive errno of a failed link */
	TTYRFC_A_DATA,		/* binary, at most TTYRFC_MAX_DATA */
	TTYRFC_A_TX_POS,	/* u64, stream position of data */
	TTYRFC_A_CTRL_SEQ,	/* u64, number of a control change */
	TTYRFC_A_RX_POS,	/* u64, position of received data */
	TTYRFC_A_RX_LIMIT,	/* u64, RX may be sent up to here */

	/* settings: all in OPEN (as of TX_POS), changed ones in SET */
	TTYRFC_A_BAUD,		/* u32, bits per second, > 0 */
	TTYRFC_A_DATA_BITS,	/* u8, 5..8 */
	TTYRFC_A_PARITY,	/* u8, enum ttyrfc_parity */
	TTYRFC_A_STOP_BITS,	/* u8, 1 or 2 */
	TTYRFC_A_FLOW,		/* u8, enum ttyrfc_flow */
	TTYRFC_A_MCTRL,		/* u32, TIOCM_DTR | TIOCM_RTS as they are now */
	TTYRFC_A_MCTRL_MASK,	/* u32, which of them this message sets */
	TTYRFC_A_BREAK,		/* u8, 0 off, 1 on */
	TTYRFC_A_PURGE,		/* u8, TTYRFC_PURGE_* (SET only) */

	/* from the helper */
	TTYRFC_A_MODEM,		/* u32, TIOCM_CTS|TIOCM_DSR|TIOCM_RI|TIOCM_CD */
	TTYRFC_A_LINE,		/* u32, TTYRFC_LINE_* events since the last */
	TTYRFC_A_SERVER,	/* nest, TTYRFC_A_BAUD..FLOW: what the server
				 * says it applied */

	TTYRFC_A_STATS,		/* nest, enum ttyrfc_stat, u64 each */
	TTYRFC_A_TLS,		/* nest, enum ttyrfc_tls_attr: ADD, OPEN, GET */

	__TTYRFC_A_MAX,
};
#define TTYRFC_A_MAX (__TTYRFC_A_MAX - 1)

/* Counters, in the STATS nest of GET (all) and STATUS (the helper's). */
enum ttyrfc_stat {
	TTYRFC_STAT_UNSPEC,
	TTYRFC_STAT_PAD,
	TTYRFC_STAT_TX_BYTES,		/* confirmed: the server's TCP has them */
	TTYRFC_STAT_RX_BYTES,		/* passed to the tty */
	TTYRFC_STAT_RX_DROPPED,		/* did not fit in the tty */
	TTYRFC_STAT_TX_RESENT,		/* sent again after a failed session */
	TTYRFC_STAT_TX_FLUSHED,		/* dropped by TCOFLUSH or hangup */
	TTYRFC_STAT_TX_DISCARDED,	/* unsent when the port closed */
	TTYRFC_STAT_STALE,		/* helper messages of an old session */
	TTYRFC_STAT_OPENS,		/* opens of the tty */
	TTYRFC_STAT_SESSIONS,		/* sessions started */
	TTYRFC_STAT_LINK_LOSSES,	/* sessions that failed after LINK up */
	TTYRFC_STAT_CTRL_REFUSED,	/* control changes refused (ENOBUFS) */
	TTYRFC_STAT_BAD_MSGS,		/* invalid messages from the helper */
	/* kept by the helper, passed up in STATUS */
	TTYRFC_STAT_PROTO_ERRORS,	/* what the server sent made no sense */
	TTYRFC_STAT_HELPER_STALE,	/* kernel messages of an old session */
	TTYRFC_STAT_CONNECTS,		/* TCP connections made */
	TTYRFC_STAT_LOG_SUPPRESSED,	/* log lines rate-limited away */
	/* kept by the module again */
	TTYRFC_STAT_TX_MSGS,		/* data messages handed to the helper */
	TTYRFC_STAT_TX_DIRECT,		/* of them, sent from write() itself */
	TTYRFC_STAT_RX_MSGS,		/* data messages from the helper */
	TTYRFC_STAT_RX_DIRECT,		/* of them, passed to the ldisc at once */

	__TTYRFC_STAT_MAX,
};
#define TTYRFC_STAT_MAX (__TTYRFC_STAT_MAX - 1)

/*
 * How ttyrfcd verifies a TLS server (TTYRFC_F_TLS), in the TLS nest. The
 * kernel only keeps these for the helper; unset means the system's CAs and
 * the port's host name, and no client certificate.
 */
enum ttyrfc_tls_attr {
	TTYRFC_TLS_UNSPEC,
	TTYRFC_TLS_CA,		/* string: CA file (PEM) */
	TTYRFC_TLS_CERT,	/* string: client certificate file (PEM) */
	TTYRFC_TLS_KEY,		/* string: its key file (PEM), mode 0600 */
	TTYRFC_TLS_SERVER_NAME,	/* string: name the certificate must carry */

	__TTYRFC_TLS_MAX,
};
#define TTYRFC_TLS_MAX (__TTYRFC_TLS_MAX - 1)

enum ttyrfc_open_kind {
	TTYRFC_OPEN_FIRST,	/* the tty was opened: connect now */
	TTYRFC_OPEN_RECONNECT,	/* the last session failed: back off first */
	TTYRFC_OPEN_REPLAY,	/* a new helper took over: connect now */
};

enum ttyrfc_link {
	TTYRFC_LINK_DOWN,
	TTYRFC_LINK_CONNECTING,
	TTYRFC_LINK_UP,
};

enum ttyrfc_parity {
	TTYRFC_PARITY_NONE,
	TTYRFC_PARITY_ODD,
	TTYRFC_PARITY_EVEN,
	TTYRFC_PARITY_MARK,
	TTYRFC_PARITY_SPACE,
};

enum ttyrfc_flow {
	TTYRFC_FLOW_NONE,
	TTYRFC_FLOW_XONXOFF,
	TTYRFC_FLOW_RTSCTS,
};

#define TTYRFC_F_RAW		(1U << 0)	/* no telnet: data only */
#define TTYRFC_F_TLS		(1U << 1)	/* TLS to the server */
#define TTYRFC_F_MDNS		(1U << 2)	/* HOST names an mDNS service */

#define TTYRFC_PURGE_RX		(1U << 0)	/* the server's receive side */
#define TTYRFC_PURGE_TX		(1U << 1)	/* the server's transmit side */

#define TTYRFC_LINE_BREAK	(1U << 0)
#define TTYRFC_LINE_FRAME	(1U << 1)
#define TTYRFC_LINE_PARITY	(1U << 2)
#define TTYRFC_LINE_OVERRUN	(1U << 3)

#define TTYRFC_MAX_DATA		16384	/* largest DATA attribute */
#define TTYRFC_TX_WINDOW	262144	/* unconfirmed TX bytes per port */

#endif /* _UAPI_LINUX_TTYRFC_H */
