/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RFC 2217 (Telnet COM-PORT-OPTION) client codec.
 *
 * Pure library: bytes in, callbacks and bytes out.  No I/O, no malloc,
 * no globals; all state lives in struct rfc2217 and has a fixed size,
 * whatever the server sends.
 */
#ifndef TTYRFC_RFC2217_H
#define TTYRFC_RFC2217_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Telnet commands (RFC 854) */
enum {
	TN_SE	= 240,
	TN_NOP	= 241,
	TN_DM	= 242,
	TN_BRK	= 243,
	TN_IP	= 244,
	TN_AO	= 245,
	TN_AYT	= 246,
	TN_EC	= 247,
	TN_EL	= 248,
	TN_GA	= 249,
	TN_SB	= 250,
	TN_WILL	= 251,
	TN_WONT	= 252,
	TN_DO	= 253,
	TN_DONT	= 254,
	TN_IAC	= 255,
};

/* Telnet options */
enum {
	TNOPT_BINARY	= 0,
	TNOPT_ECHO	= 1,
	TNOPT_SGA	= 3,
	TNOPT_COMPORT	= 44,
};

/* COM-PORT-OPTION commands; the server's answer to command n is n + 100 */
enum {
	RFC2217_SIGNATURE		= 0,
	RFC2217_SET_BAUDRATE		= 1,
	RFC2217_SET_DATASIZE		= 2,
	RFC2217_SET_PARITY		= 3,
	RFC2217_SET_STOPSIZE		= 4,
	RFC2217_SET_CONTROL		= 5,
	RFC2217_NOTIFY_LINESTATE	= 6,
	RFC2217_NOTIFY_MODEMSTATE	= 7,
	RFC2217_FLOWCONTROL_SUSPEND	= 8,
	RFC2217_FLOWCONTROL_RESUME	= 9,
	RFC2217_SET_LINESTATE_MASK	= 10,
	RFC2217_SET_MODEMSTATE_MASK	= 11,
	RFC2217_PURGE_DATA		= 12,
};
#define RFC2217_SERVER_OFFSET	100

/* SET-PARITY values */
enum {
	RFC2217_PARITY_REQUEST	= 0,
	RFC2217_PARITY_NONE	= 1,
	RFC2217_PARITY_ODD	= 2,
	RFC2217_PARITY_EVEN	= 3,
	RFC2217_PARITY_MARK	= 4,
	RFC2217_PARITY_SPACE	= 5,
};

/* SET-STOPSIZE values */
enum {
	RFC2217_STOPSIZE_REQUEST = 0,
	RFC2217_STOPSIZE_1	= 1,
	RFC2217_STOPSIZE_2	= 2,
	RFC2217_STOPSIZE_1_5	= 3,
};

/* SET-CONTROL values */
enum {
	RFC2217_CTL_FLOW_REQUEST	= 0,
	RFC2217_CTL_FLOW_NONE		= 1,
	RFC2217_CTL_FLOW_XONXOFF	= 2,
	RFC2217_CTL_FLOW_HARDWARE	= 3,
	RFC2217_CTL_BREAK_REQUEST	= 4,
	RFC2217_CTL_BREAK_ON		= 5,
	RFC2217_CTL_BREAK_OFF		= 6,
	RFC2217_CTL_DTR_REQUEST		= 7,
	RFC2217_CTL_DTR_ON		= 8,
	RFC2217_CTL_DTR_OFF		= 9,
	RFC2217_CTL_RTS_REQUEST		= 10,
	RFC2217_CTL_RTS_ON		= 11,
	RFC2217_CTL_RTS_OFF		= 12,
	RFC2217_CTL_INFLOW_REQUEST	= 13,
	RFC2217_CTL_INFLOW_NONE		= 14,
	RFC2217_CTL_INFLOW_XONXOFF	= 15,
	RFC2217_CTL_INFLOW_HARDWARE	= 16,
};

/* PURGE-DATA values */
enum {
	RFC2217_PURGE_RX	= 1,
	RFC2217_PURGE_TX	= 2,
	RFC2217_PURGE_BOTH	= 3,
};

/* NOTIFY-LINESTATE bits */
enum {
	RFC2217_LINE_TIMEOUT	= 0x80,
	RFC2217_LINE_TSRE	= 0x40,	/* transfer shift register empty */
	RFC2217_LINE_THRE	= 0x20,	/* transfer holding register empty */
	RFC2217_LINE_BREAK	= 0x10,
	RFC2217_LINE_FRAMING	= 0x08,
	RFC2217_LINE_PARITY	= 0x04,
	RFC2217_LINE_OVERRUN	= 0x02,
	RFC2217_LINE_DATA_READY	= 0x01,
};

/* NOTIFY-MODEMSTATE bits; low nibble are the "changed" deltas */
enum {
	RFC2217_MODEM_CD	= 0x80,
	RFC2217_MODEM_RI	= 0x40,
	RFC2217_MODEM_DSR	= 0x20,
	RFC2217_MODEM_CTS	= 0x10,
	RFC2217_MODEM_DCD_DELTA	= 0x08,
	RFC2217_MODEM_RI_TRAIL	= 0x04,
	RFC2217_MODEM_DSR_DELTA	= 0x02,
	RFC2217_MODEM_CTS_DELTA	= 0x01,
};

/*
 * Callbacks, all optional (NULL = ignore).  They are only ever called from
 * inside rfc2217_input(), in stream order: data that arrived before a
 * command is delivered before that command's callback.  Pointers are only
 * valid during the call.  A callback must not call rfc2217_input() on the
 * same codec; calling the encoders is fine.
 */
struct rfc2217_ops {
	/* unescaped serial data from the server (may point into input) */
	void (*data)(void *ctx, const uint8_t *p, size_t n);
	/* negotiation answer the client must send, in order, before any
	 * later output; at most 3 bytes per call */
	void (*reply)(void *ctx, const uint8_t *p, size_t n);
	/* a COM-PORT-OPTION subnegotiation; cmd is the raw byte (e.g. 101
	 * SET-BAUDRATE reply, 106 NOTIFY-LINESTATE, 107 NOTIFY-MODEMSTATE),
	 * val is unescaped, n may be 0 */
	void (*comport)(void *ctx, uint8_t cmd, const uint8_t *val, size_t n);
	/* the server accepted COM-PORT-OPTION; called once per session */
	void (*negotiated)(void *ctx);
	/* protocol error; parsing continues.  what is a static string. */
	void (*error)(void *ctx, const char *what);
};

/* longest subnegotiation payload kept (command byte + value) */
#define RFC2217_SB_MAX		64
/* bytes rfc2217_start() needs */
#define RFC2217_START_LEN	9

struct rfc2217 {
	const struct rfc2217_ops *ops;
	void *ctx;
	uint8_t state;			/* parser state, private */
	uint8_t verb;			/* WILL/WONT/DO/DONT being parsed */
	uint8_t sb_opt;			/* option of the current SB */
	bool sb_overflow;		/* current SB too long, discarding */
	uint16_t sb_len;
	uint8_t sb_buf[RFC2217_SB_MAX];
	uint8_t us[3], him[3];		/* RFC 1143 state: BINARY, SGA, COMPORT */
	bool saw_telnet;		/* server sent a telnet command */
	bool comport_ok;		/* COM-PORT-OPTION currently enabled */
	bool negotiated_sent;		/* ops->negotiated already called */
	uint32_t errors;		/* protocol errors seen */
};

void rfc2217_init(struct rfc2217 *c, const struct rfc2217_ops *ops,
		  void *ctx);

/*
 * The client's opening negotiation: IAC WILL COMPORT, IAC WILL BINARY,
 * IAC DO BINARY.  Returns bytes written, 0 if cap < RFC2217_START_LEN.
 */
size_t rfc2217_start(struct rfc2217 *c, uint8_t *out, size_t cap);

/* Feed bytes from the server; may be split at any byte boundary. */
void rfc2217_input(struct rfc2217 *c, const uint8_t *in, size_t len);

/*
 * Encoders.  All return bytes written.  Command encoders write a whole
 * command or nothing (0 if cap is too small).
 */

/* Double 0xFF.  Stops when out is full, never splitting an escaped pair;
 * *consumed tells how much of in was encoded. */
size_t rfc2217_escape(const uint8_t *in, size_t len, uint8_t *out,
		      size_t cap, size_t *consumed);
/* IAC SB 44 cmd <val, 0xFF doubled> IAC SE */
size_t rfc2217_cmd(uint8_t *out, size_t cap, uint8_t cmd,
		   const uint8_t *val, size_t n);
/* SET-BAUDRATE, 4 bytes network order (0 = query) */
size_t rfc2217_set_baud(uint8_t *out, size_t cap, uint32_t baud);
/* one-byte commands: datasize, parity, stopsize, control, purge, masks */
size_t rfc2217_cmd_u8(uint8_t *out, size_t cap, uint8_t cmd, uint8_t v);
/* worst-case size of rfc2217_cmd() for an n-byte value */
#define RFC2217_CMD_MAX(n)	(7 + 2 * (n))

/* Decode a 4-byte network-order value (SET-BAUDRATE reply). */
bool rfc2217_val_u32(const uint8_t *val, size_t n, uint32_t *out);

/* "SET-BAUDRATE", "NOTIFY-MODEMSTATE", ... ; server replies get the same
 * name as the client command; never NULL. */
const char *rfc2217_cmd_name(uint8_t cmd);

#endif /* TTYRFC_RFC2217_H */
