// SPDX-License-Identifier: GPL-2.0
/*
 * RFC 2217 (Telnet COM-PORT-OPTION) client codec.
 *
 * Option negotiation follows RFC 1143 ("Q method") without the queue bits:
 * the client never changes its mind after rfc2217_start(), so each side of
 * an option is only ever NO, YES or WANTYES.  We answer a request only when
 * it changes our state; acknowledgements are never answered, so two correct
 * peers cannot loop.
 */
#include <string.h>

#include "rfc2217.h"

enum {
	ST_DATA,
	ST_IAC,		/* got IAC */
	ST_OPT,		/* got IAC WILL/WONT/DO/DONT */
	ST_SB_OPT,	/* got IAC SB */
	ST_SB,		/* inside SB payload */
	ST_SB_IAC,	/* got IAC inside SB */
};

enum { Q_NO, Q_YES, Q_WANTYES };

#define RUN_NONE	SIZE_MAX

/* Options we agree to on both sides; everything else is refused. */
static int opt_index(uint8_t opt)
{
	switch (opt) {
	case TNOPT_BINARY:
		return 0;
	case TNOPT_SGA:
		return 1;
	case TNOPT_COMPORT:
		return 2;
	}
	return -1;
}
#define IDX_COMPORT	2

static void err(struct rfc2217 *c, const char *what)
{
	c->errors++;
	if (c->ops->error)
		c->ops->error(c->ctx, what);
}

static void send3(struct rfc2217 *c, uint8_t verb, uint8_t opt)
{
	uint8_t b[3] = { TN_IAC, verb, opt };

	if (c->ops->reply)
		c->ops->reply(c->ctx, b, sizeof(b));
}

void rfc2217_init(struct rfc2217 *c, const struct rfc2217_ops *ops,
		  void *ctx)
{
	static const struct rfc2217_ops no_ops;

	memset(c, 0, sizeof(*c));
	c->ops = ops ? ops : &no_ops;
	c->ctx = ctx;
	c->state = ST_DATA;
}

size_t rfc2217_start(struct rfc2217 *c, uint8_t *out, size_t cap)
{
	/*
	 * WILL COMPORT is the RFC 2217 request (server answers DO).  BINARY
	 * both ways keeps CR/NUL untranslated.  SGA and ECHO are left to the
	 * server: both ser2net and pyserial's PortManager offer WILL SGA
	 * themselves, and ser2net answers an unasked WILL SGA with DONT.
	 * No DO COMPORT: ser2net would answer WONT.
	 */
	static const uint8_t seq[RFC2217_START_LEN] = {
		TN_IAC, TN_WILL, TNOPT_COMPORT,
		TN_IAC, TN_WILL, TNOPT_BINARY,
		TN_IAC, TN_DO, TNOPT_BINARY,
	};

	if (cap < sizeof(seq))
		return 0;
	memcpy(out, seq, sizeof(seq));
	c->us[IDX_COMPORT] = Q_WANTYES;
	c->us[0] = Q_WANTYES;
	c->him[0] = Q_WANTYES;
	return sizeof(seq);
}

/* Track whether either side of COM-PORT-OPTION is on (pyserial accepts
 * either, so do we) and report changes. */
static void comport_update(struct rfc2217 *c, uint8_t verb, uint8_t prev_us)
{
	bool on = c->us[IDX_COMPORT] == Q_YES || c->him[IDX_COMPORT] == Q_YES;

	if (on) {
		c->comport_ok = true;
		if (!c->negotiated_sent) {
			c->negotiated_sent = true;
			if (c->ops->negotiated)
				c->ops->negotiated(c->ctx);
		}
	} else if (c->comport_ok) {
		c->comport_ok = false;
		err(c, "server withdrew COM-PORT-OPTION");
	} else if (verb == TN_DONT && prev_us == Q_WANTYES &&
		   c->him[IDX_COMPORT] != Q_WANTYES) {
		err(c, "server refused COM-PORT-OPTION");
	}
}

static void negotiate(struct rfc2217 *c, uint8_t verb, uint8_t opt)
{
	int idx = opt_index(opt);
	bool pos = verb == TN_WILL || verb == TN_DO;
	bool him = verb == TN_WILL || verb == TN_WONT;
	uint8_t yes = him ? TN_DO : TN_WILL;
	uint8_t no = him ? TN_DONT : TN_WONT;
	uint8_t prev_us, *st;

	if (idx < 0) {
		/* refused option: we stay NO, so only requests get answers */
		if (pos)
			send3(c, no, opt);
		return;
	}
	prev_us = c->us[idx];
	st = him ? &c->him[idx] : &c->us[idx];
	if (pos) {
		if (*st == Q_NO)
			send3(c, yes, opt);
		*st = Q_YES;
	} else {
		if (*st == Q_YES)
			send3(c, no, opt);
		*st = Q_NO;
	}
	if (idx == IDX_COMPORT)
		comport_update(c, verb, prev_us);
}

/* Byte after IAC (not IAC itself): set the next state. */
static void command(struct rfc2217 *c, uint8_t b)
{
	c->saw_telnet = true;
	switch (b) {
	case TN_WILL:
	case TN_WONT:
	case TN_DO:
	case TN_DONT:
		c->verb = b;
		c->state = ST_OPT;
		break;
	case TN_SB:
		c->state = ST_SB_OPT;
		break;
	default:
		/* NOP, GA, AYT, DM, BRK, stray SE, ...: nothing to do */
		c->state = ST_DATA;
		break;
	}
}

static void sb_put(struct rfc2217 *c, uint8_t b)
{
	if (c->sb_len < RFC2217_SB_MAX) {
		c->sb_buf[c->sb_len++] = b;
	} else if (!c->sb_overflow) {
		/* keep parsing until IAC SE, but report only once */
		c->sb_overflow = true;
		err(c, "subnegotiation too long");
	}
}

static void sb_end(struct rfc2217 *c)
{
	if (c->sb_overflow || c->sb_opt != TNOPT_COMPORT)
		return;
	if (!c->sb_len) {
		err(c, "empty COM-PORT-OPTION subnegotiation");
		return;
	}
	if (c->ops->comport)
		c->ops->comport(c->ctx, c->sb_buf[0], c->sb_buf + 1,
				c->sb_len - 1);
}

static void flush(struct rfc2217 *c, const uint8_t *in, size_t *run,
		  size_t end)
{
	if (*run != RUN_NONE && end > *run && c->ops->data)
		c->ops->data(c->ctx, in + *run, end - *run);
	*run = RUN_NONE;
}

void rfc2217_input(struct rfc2217 *c, const uint8_t *in, size_t len)
{
	size_t run = RUN_NONE;	/* start of pending data in "in" */
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t b = in[i];
		const uint8_t *p;

		switch (c->state) {
		case ST_DATA:
			/* fast path: data runs up to the next IAC */
			p = memchr(in + i, TN_IAC, len - i);
			if (run == RUN_NONE)
				run = i;
			if (!p) {
				i = len;
				break;
			}
			i = (size_t)(p - in);
			flush(c, in, &run, i);
			c->state = ST_IAC;
			break;
		case ST_IAC:
			if (b == TN_IAC) {
				/* escaped 0xFF: this second byte is the data */
				c->state = ST_DATA;
				run = i;
			} else {
				command(c, b);
			}
			break;
		case ST_OPT:
			c->state = ST_DATA;
			negotiate(c, c->verb, b);
			break;
		case ST_SB_OPT:
			if (b == TN_IAC) {
				err(c, "subnegotiation without option");
				c->state = ST_IAC;
				break;
			}
			c->sb_opt = b;
			c->sb_len = 0;
			c->sb_overflow = false;
			c->state = ST_SB;
			break;
		case ST_SB:
			if (b == TN_IAC)
				c->state = ST_SB_IAC;
			else
				sb_put(c, b);
			break;
		case ST_SB_IAC:
			if (b == TN_IAC) {
				sb_put(c, b);
				c->state = ST_SB;
			} else if (b == TN_SE) {
				c->state = ST_DATA;
				sb_end(c);
			} else {
				/* RFC 855: IAC x ends the SB; drop it, run x */
				err(c, "unterminated subnegotiation");
				command(c, b);
			}
			break;
		}
	}
	flush(c, in, &run, len);
}

size_t rfc2217_escape(const uint8_t *in, size_t len, uint8_t *out,
		      size_t cap, size_t *consumed)
{
	size_t i = 0, o = 0;

	while (i < len && o < cap) {
		const uint8_t *p = memchr(in + i, TN_IAC, len - i);
		size_t n = (p ? (size_t)(p - in) : len) - i;

		if (n > cap - o)
			n = cap - o;
		memcpy(out + o, in + i, n);
		i += n;
		o += n;
		if (!p || i < (size_t)(p - in))
			break;			/* out is full */
		if (cap - o < 2)
			break;			/* no half pairs */
		out[o++] = TN_IAC;
		out[o++] = TN_IAC;
		i++;
	}
	if (consumed)
		*consumed = i;
	return o;
}

size_t rfc2217_cmd(uint8_t *out, size_t cap, uint8_t cmd,
		   const uint8_t *val, size_t n)
{
	size_t need = 6 + n + (cmd == TN_IAC);
	size_t i, o = 0;

	for (i = 0; i < n; i++)
		need += val[i] == TN_IAC;
	if (need > cap)
		return 0;
	out[o++] = TN_IAC;
	out[o++] = TN_SB;
	out[o++] = TNOPT_COMPORT;
	out[o++] = cmd;
	if (cmd == TN_IAC)
		out[o++] = TN_IAC;
	for (i = 0; i < n; i++) {
		out[o++] = val[i];
		if (val[i] == TN_IAC)
			out[o++] = TN_IAC;
	}
	out[o++] = TN_IAC;
	out[o++] = TN_SE;
	return o;
}

size_t rfc2217_set_baud(uint8_t *out, size_t cap, uint32_t baud)
{
	uint8_t v[4] = {
		(uint8_t)(baud >> 24), (uint8_t)(baud >> 16),
		(uint8_t)(baud >> 8), (uint8_t)baud,
	};

	return rfc2217_cmd(out, cap, RFC2217_SET_BAUDRATE, v, sizeof(v));
}

size_t rfc2217_cmd_u8(uint8_t *out, size_t cap, uint8_t cmd, uint8_t v)
{
	return rfc2217_cmd(out, cap, cmd, &v, 1);
}

bool rfc2217_val_u32(const uint8_t *val, size_t n, uint32_t *out)
{
	if (n != 4)
		return false;
	*out = (uint32_t)val[0] << 24 | (uint32_t)val[1] << 16 |
	       (uint32_t)val[2] << 8 | val[3];
	return true;
}

const char *rfc2217_cmd_name(uint8_t cmd)
{
	static const char *const names[] = {
		"SIGNATURE", "SET-BAUDRATE", "SET-DATASIZE", "SET-PARITY",
		"SET-STOPSIZE", "SET-CONTROL", "NOTIFY-LINESTATE",
		"NOTIFY-MODEMSTATE", "FLOWCONTROL-SUSPEND",
		"FLOWCONTROL-RESUME", "SET-LINESTATE-MASK",
		"SET-MODEMSTATE-MASK", "PURGE-DATA",
	};

	if (cmd >= RFC2217_SERVER_OFFSET)
		cmd -= RFC2217_SERVER_OFFSET;
	if (cmd < sizeof(names) / sizeof(names[0]))
		return names[cmd];
	return "UNKNOWN";
}
