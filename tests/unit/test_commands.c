// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for commands.c: the kernel's settings as RFC 2217
 * commands, the DTR/RTS order, the baseline of a new session, and the
 * server's reports; and for refusal.c, ser2net's refusal texts.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <linux/ttyrfc.h>

#include "commands.h"
#include "refusal.h"
#include "unit.h"

#define SB(cmd, ...) TN_IAC, TN_SB, TNOPT_COMPORT, cmd, __VA_ARGS__, TN_IAC, TN_SE
#define CTL(v) SB(RFC2217_SET_CONTROL, v)

static bool bytes_are(const uint8_t *b, size_t n, const uint8_t *want,
		      size_t wn)
{
	if (n != wn) {
		printf("# got %zu bytes, want %zu\n", n, wn);
		return false;
	}
	return !memcmp(b, want, n);
}

#define BYTES_ARE(b, n, ...)						\
	bytes_are(b, n, (const uint8_t[]){ __VA_ARGS__ },		\
		  sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* Every TIOCMSET of esptool's resets: the order on the wire. */
static bool t_mctrl_order(void)
{
	const uint32_t D = TIOCM_DTR, R = TIOCM_RTS;
	uint8_t b[64];
	size_t n;

	/* both drop: RTS first, never DTR=0,RTS=1 (EN low) in between */
	n = cmd_mctrl(b, sizeof(b), 0, D | R);
	CHECK(BYTES_ARE(b, n, CTL(RFC2217_CTL_RTS_OFF),
			CTL(RFC2217_CTL_DTR_OFF)));
	/* both rise: DTR first */
	n = cmd_mctrl(b, sizeof(b), D | R, D | R);
	CHECK(BYTES_ARE(b, n, CTL(RFC2217_CTL_DTR_ON), CTL(RFC2217_CTL_RTS_ON)));
	/* (1,1) -> (0,1) and (0,1) -> (1,0): DTR first */
	n = cmd_mctrl(b, sizeof(b), R, D);
	CHECK(BYTES_ARE(b, n, CTL(RFC2217_CTL_DTR_OFF)));
	n = cmd_mctrl(b, sizeof(b), D, D | R);
	CHECK(BYTES_ARE(b, n, CTL(RFC2217_CTL_DTR_ON), CTL(RFC2217_CTL_RTS_OFF)));
	/* nothing changed: nothing sent */
	CHECK(cmd_mctrl(b, sizeof(b), D | R, 0) == 0);
	return true;
}

static bool t_change_values(void)
{
	struct line_settings s = {
		.baud = 1234567, .data_bits = 7, .parity = TTYRFC_PARITY_MARK,
		.stop_bits = 2, .flow = TTYRFC_FLOW_RTSCTS,
	};
	uint8_t b[CMD_MAX_LEN];
	size_t n;

	n = cmd_change(b, sizeof(b), &s, LS_LINE, 0, 0);
	CHECK(BYTES_ARE(b, n, SB(RFC2217_SET_BAUDRATE, 0x00, 0x12, 0xd6, 0x87),
			SB(RFC2217_SET_DATASIZE, 7),
			SB(RFC2217_SET_PARITY, RFC2217_PARITY_MARK),
			SB(RFC2217_SET_STOPSIZE, RFC2217_STOPSIZE_2),
			CTL(RFC2217_CTL_FLOW_HARDWARE)));
	/* a 0xFF inside a value is doubled */
	s.baud = 0x0001ff00;
	n = cmd_change(b, sizeof(b), &s, LS_BAUD, 0, 0);
	CHECK(BYTES_ARE(b, n, SB(RFC2217_SET_BAUDRATE, 0x00, 0x01, 0xff, 0xff,
				 0x00)));
	/* break and purge; purge bits are RFC 2217's 1, 2, 3 */
	s.brk = 1;
	n = cmd_change(b, sizeof(b), &s, LS_BREAK, 0,
		       TTYRFC_PURGE_RX | TTYRFC_PURGE_TX);
	CHECK(BYTES_ARE(b, n, CTL(RFC2217_CTL_BREAK_ON),
			SB(RFC2217_PURGE_DATA, 3)));
	/* nonsense from the kernel is not sent: no query by accident */
	s.baud = 0;
	s.data_bits = 9;
	s.parity = 7;
	CHECK(cmd_change(b, sizeof(b), &s, LS_BAUD | LS_DATA_BITS | LS_PARITY,
			 0, 0) == 0);
	return true;
}

/*
 * A reconnect or replay leaves a running board alone: DTR/RTS that are on
 * are not sent (esp_rfc2217_server resets on DTR-on and on RTS-off).
 */
static bool t_baseline(void)
{
	const uint32_t D = TIOCM_DTR, R = TIOCM_RTS;
	struct line_settings s = {
		.baud = 115200, .data_bits = 8, .parity = TTYRFC_PARITY_NONE,
		.stop_bits = 1, .flow = TTYRFC_FLOW_NONE, .mctrl = D | R,
	};
	uint8_t b[CMD_MAX_LEN], line[CMD_MAX_LEN];
	size_t n, nl;

	nl = cmd_change(line, sizeof(line), &s, LS_LINE, 0, 0);
	CHECK(nl > 0);
	/* first open: what is known is sent, as cmd_mctrl would */
	n = cmd_baseline(b, sizeof(b), &s, D | R, false);
	CHECK_MEM(b, line, nl);
	CHECK(BYTES_ARE(b + nl, n - nl, CTL(RFC2217_CTL_DTR_ON),
			CTL(RFC2217_CTL_RTS_ON)));
	/* again, both on: only the line settings */
	n = cmd_baseline(b, sizeof(b), &s, D | R, true);
	CHECK(n == nl);
	/* again, both off: as good as both on for an ESP board (esptool
	 * leaves them so); RTS-off would hard-reset it behind
	 * esp_rfc2217_server */
	s.mctrl = 0;
	n = cmd_baseline(b, sizeof(b), &s, D | R, true);
	CHECK(n == nl);
	/* again, one off: that one (DTR on, RTS off: RTS off) */
	s.mctrl = D;
	n = cmd_baseline(b, sizeof(b), &s, D | R, true);
	CHECK(BYTES_ARE(b + nl, n - nl, CTL(RFC2217_CTL_RTS_OFF)));
	s.mctrl = R;
	n = cmd_baseline(b, sizeof(b), &s, D | R, true);
	CHECK(BYTES_ARE(b + nl, n - nl, CTL(RFC2217_CTL_DTR_OFF)));
	s.mctrl = 0;
	/* lines never set since open are left as the server has them */
	n = cmd_baseline(b, sizeof(b), &s, 0, true);
	CHECK(n == nl);
	/* break on is kept */
	s.brk = 1;
	n = cmd_baseline(b, sizeof(b), &s, 0, true);
	CHECK(BYTES_ARE(b + nl, n - nl, CTL(RFC2217_CTL_BREAK_ON)));
	return true;
}

static bool t_session_start(void)
{
	struct rfc2217 codec;
	uint8_t b[64];
	size_t n;

	rfc2217_init(&codec, NULL, NULL);
	n = cmd_session_start(&codec, b, sizeof(b));
	CHECK(n == RFC2217_START_LEN + 7 + 8);
	CHECK(BYTES_ARE(b + RFC2217_START_LEN, n - RFC2217_START_LEN,
			SB(RFC2217_SET_LINESTATE_MASK, 0x1e),
			SB(RFC2217_SET_MODEMSTATE_MASK, 0xff, 0xff)));
	return true;
}

static bool t_server_reports(void)
{
	struct line_settings s = { 0 };
	uint8_t v4[4] = { 0, 0x01, 0xc2, 0x00 }, v;
	uint32_t which = 0;

	CHECK(cmd_server_setting(101, v4, 4, &s, &which));
	CHECK(which == LS_BAUD && s.baud == 115200);
	v = RFC2217_PARITY_EVEN;
	CHECK(cmd_server_setting(103, &v, 1, &s, &which));
	CHECK(which == LS_PARITY && s.parity == TTYRFC_PARITY_EVEN);
	v = RFC2217_CTL_FLOW_XONXOFF;
	CHECK(cmd_server_setting(105, &v, 1, &s, &which));
	CHECK(which == LS_FLOW && s.flow == TTYRFC_FLOW_XONXOFF);
	/* answers to DTR/RTS are not settings; client commands are not
	 * answers; nonsense is refused */
	v = RFC2217_CTL_DTR_ON;
	CHECK(!cmd_server_setting(105, &v, 1, &s, &which));
	CHECK(!cmd_server_setting(1, v4, 4, &s, &which));
	v = 9;
	CHECK(!cmd_server_setting(102, &v, 1, &s, &which));
	CHECK(!cmd_server_setting(101, v4, 3, &s, &which));
	CHECK(cmd_modem_lines(0xf0) ==
	      (TIOCM_CD | TIOCM_RI | TIOCM_DSR | TIOCM_CTS));
	CHECK(cmd_modem_lines(0x0f) == 0);
	CHECK(cmd_line_events(0x1e) ==
	      (TTYRFC_LINE_BREAK | TTYRFC_LINE_FRAME | TTYRFC_LINE_PARITY |
	       TTYRFC_LINE_OVERRUN));
	CHECK(cmd_line_events(0xe1) == 0);
	return true;
}

static bool t_refusals(void)
{
	const char *busy = "Port already in use\r\n", *text;
	int err = 0;
	size_t i;

	/* every prefix could still be one; the whole text is one */
	for (i = 0; i < strlen("Port already in use"); i++)
		CHECK(refusal_check((const uint8_t *)busy, i, &err, &text) ==
		      REFUSAL_MAYBE);
	CHECK(refusal_check((const uint8_t *)busy, strlen(busy), &err,
			    &text) == REFUSAL_YES);
	CHECK(err == EBUSY && !strcmp(text, "Port already in use"));
	CHECK(refusal_check((const uint8_t *)"Device open failure: No such",
			    28, &err, &text) == REFUSAL_YES && err == EIO);
	CHECK(refusal_check((const uint8_t *)"Accessed denied due to your net address\r\n",
			    41, &err, &text) == REFUSAL_YES && err == EACCES);
	/* a board that prints is not refused */
	CHECK(refusal_check((const uint8_t *)"ets Jun  8 2016", 15, &err,
			    &text) == REFUSAL_NO);
	CHECK(refusal_check((const uint8_t *)"Portal", 6, &err, &text) ==
	      REFUSAL_NO);
	return true;
}

static const struct unit_test tests[] = {
	{ "DTR/RTS order never passes DTR=0,RTS=1", t_mctrl_order },
	{ "settings as RFC 2217 values, 0xFF doubled", t_change_values },
	{ "baseline of a new session, replay leaves a board running",
	  t_baseline },
	{ "session start asks for line and modem state", t_session_start },
	{ "server reports in the ABI's terms", t_server_reports },
	{ "ser2net refusal texts", t_refusals },
};

UNIT_MAIN(tests)
