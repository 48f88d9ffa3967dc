// SPDX-License-Identifier: GPL-2.0
/* The kernel's settings as RFC 2217 commands, and the server's reports. */
#include <sys/ioctl.h>
#include <linux/ttyrfc.h>

#include "commands.h"

static size_t put_u8(uint8_t *out, size_t cap, size_t o, uint8_t cmd,
		     uint8_t v)
{
	return o + rfc2217_cmd_u8(out + o, cap - o, cmd, v);
}

size_t cmd_session_start(struct rfc2217 *codec, uint8_t *out, size_t cap)
{
	size_t o = rfc2217_start(codec, out, cap);

	if (!o)
		return 0;
	o = put_u8(out, cap, o, RFC2217_SET_LINESTATE_MASK,
		   RFC2217_LINE_BREAK | RFC2217_LINE_FRAMING |
		   RFC2217_LINE_PARITY | RFC2217_LINE_OVERRUN);
	return put_u8(out, cap, o, RFC2217_SET_MODEMSTATE_MASK, 0xff);
}

static uint8_t dtr_cmd(uint32_t mctrl)
{
	return mctrl & TIOCM_DTR ? RFC2217_CTL_DTR_ON : RFC2217_CTL_DTR_OFF;
}

static uint8_t rts_cmd(uint32_t mctrl)
{
	return mctrl & TIOCM_RTS ? RFC2217_CTL_RTS_ON : RFC2217_CTL_RTS_OFF;
}

size_t cmd_mctrl(uint8_t *out, size_t cap, uint32_t mctrl, uint32_t changed)
{
	const uint32_t both = TIOCM_DTR | TIOCM_RTS;
	size_t o = 0;

	if ((changed & both) == both && !(mctrl & both)) {
		o = put_u8(out, cap, o, RFC2217_SET_CONTROL, rts_cmd(mctrl));
		return put_u8(out, cap, o, RFC2217_SET_CONTROL, dtr_cmd(mctrl));
	}
	if (changed & TIOCM_DTR)
		o = put_u8(out, cap, o, RFC2217_SET_CONTROL, dtr_cmd(mctrl));
	if (changed & TIOCM_RTS)
		o = put_u8(out, cap, o, RFC2217_SET_CONTROL, rts_cmd(mctrl));
	return o;
}

static const uint8_t parity_rfc[] = {
	[TTYRFC_PARITY_NONE] = RFC2217_PARITY_NONE,
	[TTYRFC_PARITY_ODD] = RFC2217_PARITY_ODD,
	[TTYRFC_PARITY_EVEN] = RFC2217_PARITY_EVEN,
	[TTYRFC_PARITY_MARK] = RFC2217_PARITY_MARK,
	[TTYRFC_PARITY_SPACE] = RFC2217_PARITY_SPACE,
};

static const uint8_t flow_rfc[] = {
	[TTYRFC_FLOW_NONE] = RFC2217_CTL_FLOW_NONE,
	[TTYRFC_FLOW_XONXOFF] = RFC2217_CTL_FLOW_XONXOFF,
	[TTYRFC_FLOW_RTSCTS] = RFC2217_CTL_FLOW_HARDWARE,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

size_t cmd_change(uint8_t *out, size_t cap, const struct line_settings *s,
		  uint32_t mask, uint32_t mctrl_mask, uint8_t purge)
{
	size_t o = 0;

	/* the kernel never sends 0 (B0 keeps the rate): 0 would be a query */
	if ((mask & LS_BAUD) && s->baud)
		o += rfc2217_set_baud(out + o, cap - o, s->baud);
	if ((mask & LS_DATA_BITS) && s->data_bits >= 5 && s->data_bits <= 8)
		o = put_u8(out, cap, o, RFC2217_SET_DATASIZE, s->data_bits);
	if ((mask & LS_PARITY) && s->parity < N(parity_rfc))
		o = put_u8(out, cap, o, RFC2217_SET_PARITY,
			   parity_rfc[s->parity]);
	if ((mask & LS_STOP_BITS) && (s->stop_bits == 1 || s->stop_bits == 2))
		o = put_u8(out, cap, o, RFC2217_SET_STOPSIZE,
			   s->stop_bits == 2 ? RFC2217_STOPSIZE_2 :
					       RFC2217_STOPSIZE_1);
	if ((mask & LS_FLOW) && s->flow < N(flow_rfc))
		o = put_u8(out, cap, o, RFC2217_SET_CONTROL, flow_rfc[s->flow]);
	if (mask & LS_MCTRL)
		o += cmd_mctrl(out + o, cap - o, s->mctrl, mctrl_mask);
	if (mask & LS_BREAK)
		o = put_u8(out, cap, o, RFC2217_SET_CONTROL,
			   s->brk ? RFC2217_CTL_BREAK_ON :
				    RFC2217_CTL_BREAK_OFF);
	purge &= TTYRFC_PURGE_RX | TTYRFC_PURGE_TX;
	if (purge)	/* the bits are RFC 2217's 1, 2, 3 */
		o = put_u8(out, cap, o, RFC2217_PURGE_DATA, purge);
	return o;
}

size_t cmd_baseline(uint8_t *out, size_t cap, const struct line_settings *s,
		    uint32_t known, bool again)
{
	const uint32_t both = TIOCM_DTR | TIOCM_RTS;
	size_t o;

	o = cmd_change(out, cap, s, LS_LINE | (s->brk ? LS_BREAK : 0), 0, 0);
	if (!again)
		return o + cmd_mctrl(out + o, cap - o, s->mctrl, known);
	/*
	 * The server raised both lines on this new connection. Both on and
	 * both off are the same to an ESP auto-reset circuit (EN and IO0
	 * high): send nothing. One on, one off: send the one that is off.
	 */
	if ((known & both) != both || !(s->mctrl & both) ||
	    (s->mctrl & both) == both)
		return o;
	return put_u8(out, cap, o, RFC2217_SET_CONTROL,
		      s->mctrl & TIOCM_DTR ? RFC2217_CTL_RTS_OFF :
					     RFC2217_CTL_DTR_OFF);
}

bool cmd_server_setting(uint8_t cmd, const uint8_t *val, size_t n,
			struct line_settings *s, uint32_t *which)
{
	uint32_t v;
	size_t i;

	if (cmd < RFC2217_SERVER_OFFSET)
		return false;
	cmd -= RFC2217_SERVER_OFFSET;
	if (cmd == RFC2217_SET_BAUDRATE) {
		if (!rfc2217_val_u32(val, n, &v) || !v)
			return false;
		s->baud = v;
		*which = LS_BAUD;
		return true;
	}
	if (n != 1)
		return false;
	switch (cmd) {
	case RFC2217_SET_DATASIZE:
		if (val[0] < 5 || val[0] > 8)
			return false;
		s->data_bits = val[0];
		*which = LS_DATA_BITS;
		return true;
	case RFC2217_SET_PARITY:
		for (i = 0; i < N(parity_rfc); i++) {
			if (parity_rfc[i] == val[0]) {
				s->parity = i;
				*which = LS_PARITY;
				return true;
			}
		}
		return false;
	case RFC2217_SET_STOPSIZE:
		if (val[0] != RFC2217_STOPSIZE_1 && val[0] != RFC2217_STOPSIZE_2)
			return false;
		s->stop_bits = val[0];
		*which = LS_STOP_BITS;
		return true;
	case RFC2217_SET_CONTROL:
		for (i = 0; i < N(flow_rfc); i++) {
			if (flow_rfc[i] == val[0]) {
				s->flow = i;
				*which = LS_FLOW;
				return true;
			}
		}
		return false;	/* DTR/RTS/break answers: not settings */
	}
	return false;
}

uint32_t cmd_modem_lines(uint8_t msr)
{
	return (msr & RFC2217_MODEM_CD ? TIOCM_CD : 0) |
	       (msr & RFC2217_MODEM_RI ? TIOCM_RI : 0) |
	       (msr & RFC2217_MODEM_DSR ? TIOCM_DSR : 0) |
	       (msr & RFC2217_MODEM_CTS ? TIOCM_CTS : 0);
}

uint32_t cmd_line_events(uint8_t lsr)
{
	return (lsr & RFC2217_LINE_BREAK ? TTYRFC_LINE_BREAK : 0) |
	       (lsr & RFC2217_LINE_FRAMING ? TTYRFC_LINE_FRAME : 0) |
	       (lsr & RFC2217_LINE_PARITY ? TTYRFC_LINE_PARITY : 0) |
	       (lsr & RFC2217_LINE_OVERRUN ? TTYRFC_LINE_OVERRUN : 0);
}
