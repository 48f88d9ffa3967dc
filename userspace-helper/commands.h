/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel asks for, as RFC 2217 commands: pure functions from the
 * ABI's settings (include/uapi/linux/ttyrfc.h: enum ttyrfc_parity, TIOCM_*
 * bits, ...) to bytes for the server, and back for what the server
 * reports. No I/O; unit-tested in tests/unit/test_commands.c.
 */
#ifndef TTYRFC_COMMANDS_H
#define TTYRFC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfc2217.h"

/* Line settings in the ABI's terms. */
struct line_settings {
	uint32_t baud;
	uint8_t data_bits;	/* 5..8 */
	uint8_t parity;		/* enum ttyrfc_parity */
	uint8_t stop_bits;	/* 1, 2 */
	uint8_t flow;		/* enum ttyrfc_flow */
	uint8_t brk;		/* 0, 1 */
	uint32_t mctrl;		/* TIOCM_DTR | TIOCM_RTS */
};

/* Which fields a change carries. */
enum {
	LS_BAUD		= 1 << 0,
	LS_DATA_BITS	= 1 << 1,
	LS_PARITY	= 1 << 2,
	LS_STOP_BITS	= 1 << 3,
	LS_FLOW		= 1 << 4,
	LS_MCTRL	= 1 << 5,
	LS_BREAK	= 1 << 6,
	LS_LINE		= 0x1f,	/* baud..flow */
};

/* The longest output of any function below (a whole change, a baseline). */
#define CMD_MAX_LEN	(RFC2217_START_LEN + 12 * RFC2217_CMD_MAX(4))

/*
 * The opening of a session: telnet negotiation, then asking the server
 * for line-state (break, framing, parity, overrun) and modem-state
 * notifications; the RFC's line-state mask starts at 0 and ser2net leaves
 * it there.
 */
size_t cmd_session_start(struct rfc2217 *codec, uint8_t *out, size_t cap);

/*
 * DTR/RTS as SET-CONTROL commands for the lines in @changed, one after the
 * other in one buffer. On ESP32 boards DTR=0,RTS=1 holds EN low, so the
 * order never passes through that state: both lines dropping go RTS
 * first, everything else DTR first (also what esp_rfc2217_server's reset
 * detector expects of esptool's sequences).
 */
size_t cmd_mctrl(uint8_t *out, size_t cap, uint32_t mctrl, uint32_t changed);

/* One change from the kernel: the fields in @mask, lines in @mctrl_mask,
 * a purge (TTYRFC_PURGE_* bits, 0: none). */
size_t cmd_change(uint8_t *out, size_t cap, const struct line_settings *s,
		  uint32_t mask, uint32_t mctrl_mask, uint8_t purge);

/*
 * What a new session applies before anything else: every setting, break if
 * it is on, and the lines in @known. A reconnect or replay (@again) finds a
 * board that is running and a server that raised DTR and RTS for the new
 * connection (both stock servers do); esp_rfc2217_server resets the chip on
 * DTR-on and on RTS-off. Both lines on or both off leave an ESP board
 * running alike, so then nothing is sent; with one line off, that one is.
 */
size_t cmd_baseline(uint8_t *out, size_t cap, const struct line_settings *s,
		    uint32_t known, bool again);

/* Server reports in the ABI's terms; false if the value makes no sense. */
bool cmd_server_setting(uint8_t cmd, const uint8_t *val, size_t n,
			struct line_settings *s, uint32_t *which);
uint32_t cmd_modem_lines(uint8_t msr);	/* -> TIOCM_* */
uint32_t cmd_line_events(uint8_t lsr);	/* -> TTYRFC_LINE_* */

#endif
