// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the tty side of a port.
 *
 * Nothing here waits on the network except open(), which waits (bounded)
 * for the helper to report the TCP session up. Settings and modem lines are
 * cached here and answered from the cache; changes are queued in order with
 * the data.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/serial.h>
#include <linux/tty.h>
#include <linux/tty_flip.h>

#include "compat.h"
#include "ttyrfc.h"

static unsigned int open_timeout = 15;
module_param(open_timeout, uint, 0644);
MODULE_PARM_DESC(open_timeout,
		 "seconds open() waits for the TCP session (default 15)");

/*
 * Ask the helper to stop reading the server below this much flip-buffer
 * room: it covers what the helper may send before the stop reaches it.
 */
#define TTYRFC_RX_LOW		(8 * TTYRFC_MAX_DATA)

/* RFC 2217 NOTIFY-MODEMSTATE bits */
#define MSR_CD		0x80
#define MSR_RI		0x40
#define MSR_DSR		0x20
#define MSR_CTS		0x10

/* RFC 2217 NOTIFY-LINESTATE bits */
#define LSR_OVERRUN	0x02
#define LSR_PARITY	0x04
#define LSR_FRAMING	0x08
#define LSR_BREAK	0x10

static void ttyrfc_termios_settings(const struct ktermios *t, speed_t baud,
				    struct ttyrfc_settings *s)
{
	static const u8 sizes[] = { [CS5 >> 4] = 5, [CS6 >> 4] = 6,
				    [CS7 >> 4] = 7, [CS8 >> 4] = 8 };

	s->baud = baud;
	s->datasize = sizes[(t->c_cflag & CSIZE) >> 4];
	if (!(t->c_cflag & PARENB))
		s->parity = 1;
	else if (t->c_cflag & CMSPAR)
		s->parity = (t->c_cflag & PARODD) ? 4 : 5;
	else
		s->parity = (t->c_cflag & PARODD) ? 2 : 3;
	s->stopsize = (t->c_cflag & CSTOPB) ? 2 : 1;
	if (t->c_cflag & CRTSCTS)
		s->flow = 3;
	else if (t->c_iflag & (IXON | IXOFF))
		s->flow = 2;
	else
		s->flow = 1;
}

/* Queue a SET of the fields in @mask that differ from what was sent. */
static int ttyrfc_queue_set(struct ttyrfc_port *p,
			    const struct ttyrfc_settings *want, u32 mask)
{
	struct ttyrfc_settings *cur = &p->cur;
	struct ttyrfc_ctrl *c;
	unsigned long flags;
	u32 changed = 0;

	c = ttyrfc_ctrl_alloc(TTYRFC_CMD_SET, GFP_KERNEL);
	if (!c)
		return -ENOMEM;

	spin_lock_irqsave(&p->lock, flags);
	if ((mask & TTYRFC_SET_BAUD) && want->baud != cur->baud)
		changed |= TTYRFC_SET_BAUD;
	if ((mask & TTYRFC_SET_DATASIZE) && want->datasize != cur->datasize)
		changed |= TTYRFC_SET_DATASIZE;
	if ((mask & TTYRFC_SET_PARITY) && want->parity != cur->parity)
		changed |= TTYRFC_SET_PARITY;
	if ((mask & TTYRFC_SET_STOPSIZE) && want->stopsize != cur->stopsize)
		changed |= TTYRFC_SET_STOPSIZE;
	if ((mask & TTYRFC_SET_FLOW) && want->flow != cur->flow)
		changed |= TTYRFC_SET_FLOW;
	if ((mask & TTYRFC_SET_MCTRL) && want->mctrl != cur->mctrl) {
		changed |= TTYRFC_SET_MCTRL;
		c->mctrl_mask = want->mctrl ^ cur->mctrl;
	}
	if (changed) {
		*cur = (struct ttyrfc_settings) {
			.baud = (changed & TTYRFC_SET_BAUD) ?
				want->baud : cur->baud,
			.datasize = (changed & TTYRFC_SET_DATASIZE) ?
				want->datasize : cur->datasize,
			.parity = (changed & TTYRFC_SET_PARITY) ?
				want->parity : cur->parity,
			.stopsize = (changed & TTYRFC_SET_STOPSIZE) ?
				want->stopsize : cur->stopsize,
			.flow = (changed & TTYRFC_SET_FLOW) ?
				want->flow : cur->flow,
			.mctrl = (changed & TTYRFC_SET_MCTRL) ?
				want->mctrl : cur->mctrl,
		};
		c->s = *cur;
		c->mask = changed;
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (!changed) {
		kfree(c);
		return 0;
	}
	return ttyrfc_queue_ctrl(p, c);
}

static int ttyrfc_set_mctrl(struct ttyrfc_port *p, u32 set, u32 clear)
{
	struct ttyrfc_settings want;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	want.mctrl = (p->cur.mctrl | set) & ~clear;
	spin_unlock_irqrestore(&p->lock, flags);
	return ttyrfc_queue_set(p, &want, TTYRFC_SET_MCTRL);
}

/* tty_port operations */

static int ttyrfc_activate(struct tty_port *port, struct tty_struct *tty)
{
	struct ttyrfc_port *p = to_rport(port);
	struct ttyrfc_ctrl *c;
	unsigned long flags;
	long left;
	int err;

	if (!ttyrfc_helper_present()) {
		pr_warn_ratelimited("ttyRFC%u: no helper registered; start ttyrfcd\n",
				    p->index);
		return -ENXIO;
	}
	c = ttyrfc_ctrl_alloc(TTYRFC_CMD_OPEN, GFP_KERNEL);
	if (!c)
		return -ENOMEM;

	ttyrfc_queue_reset(p);
	spin_lock_irqsave(&p->lock, flags);
	ttyrfc_termios_settings(&tty->termios, tty_get_baud_rate(tty), &p->cur);
	/* DTR/RTS are left as the server has them until dtr_rts() raises them */
	p->cur.mctrl = 0;
	c->s = p->cur;
	c->mask = TTYRFC_SET_LINE;
	p->link = TTYRFC_LINK_CONNECTING;
	p->link_err = 0;
	p->msr = 0;
	p->open_count++;
	spin_unlock_irqrestore(&p->lock, flags);

	err = ttyrfc_queue_ctrl(p, c);
	if (err)
		goto fail;

	left = wait_event_interruptible_timeout(p->link_wait,
			READ_ONCE(p->link) != TTYRFC_LINK_CONNECTING,
			open_timeout * HZ);
	spin_lock_irqsave(&p->lock, flags);
	if (p->link == TTYRFC_LINK_UP) {
		p->active = true;
		err = 0;
	} else if (p->link == TTYRFC_LINK_DOWN) {
		err = p->link_err ? -p->link_err : -EIO;
	} else {
		err = left < 0 ? (int)left : -ETIMEDOUT;
	}
	if (err)
		p->link = TTYRFC_LINK_DOWN;
	spin_unlock_irqrestore(&p->lock, flags);
	if (!err)
		return 0;
fail:
	/* let the helper drop the attempt */
	ttyrfc_queue_ctrl(p, &p->close_ctrl);
	return err;
}

static void ttyrfc_shutdown(struct tty_port *port)
{
	struct ttyrfc_port *p = to_rport(port);
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->active = false;
	p->link = TTYRFC_LINK_DOWN;
	spin_unlock_irqrestore(&p->lock, flags);
	/* behind anything still queued, e.g. the HUPCL drop of DTR/RTS */
	ttyrfc_queue_ctrl(p, &p->close_ctrl);
}

static TTYRFC_CARRIER_T ttyrfc_carrier_raised(struct tty_port *port)
{
	return !!(READ_ONCE(to_rport(port)->msr) & MSR_CD);
}

static void ttyrfc_dtr_rts(struct tty_port *port, TTYRFC_DTR_RTS_T on)
{
	struct ttyrfc_port *p = to_rport(port);
	u32 lines = TTYRFC_MCTRL_DTR | TTYRFC_MCTRL_RTS;

	if (on)
		ttyrfc_set_mctrl(p, lines, 0);
	else
		ttyrfc_set_mctrl(p, 0, lines);
}

static void ttyrfc_destruct(struct tty_port *port)
{
	struct ttyrfc_port *p = to_rport(port);

	ttyrfc_queue_free(p);
	tty_port_destroy(port);
	kfree(p);
}

const struct tty_port_operations ttyrfc_port_ops = {
	.activate	= ttyrfc_activate,
	.shutdown	= ttyrfc_shutdown,
	.carrier_raised	= ttyrfc_carrier_raised,
	.dtr_rts	= ttyrfc_dtr_rts,
	.destruct	= ttyrfc_destruct,
};

/* tty operations */

static int ttyrfc_install(struct tty_driver *driver, struct tty_struct *tty)
{
	struct ttyrfc_port *p = ttyrfc_port_get(tty->index);
	int ret;

	if (!p)
		return -ENODEV;
	tty->driver_data = p;
	ret = tty_port_install(&p->port, driver, tty);
	if (ret)
		ttyrfc_port_put(p);
	return ret;
}

static void ttyrfc_cleanup(struct tty_struct *tty)
{
	ttyrfc_port_put(tty->driver_data);
}

static int ttyrfc_open(struct tty_struct *tty, struct file *filp)
{
	struct ttyrfc_port *p = tty->driver_data;

	return tty_port_open(&p->port, tty, filp);
}

static void ttyrfc_close(struct tty_struct *tty, struct file *filp)
{
	struct ttyrfc_port *p = tty->driver_data;

	tty_port_close(&p->port, tty, filp);
}

static void ttyrfc_hangup(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;

	tty_port_hangup(&p->port);
}

static TTYRFC_WRITE_RET ttyrfc_write(struct tty_struct *tty, const u8 *buf,
				     TTYRFC_WRITE_LEN count)
{
	return ttyrfc_queue_write(tty->driver_data, buf, count);
}

static unsigned int ttyrfc_write_room(struct tty_struct *tty)
{
	return ttyrfc_queue_room(tty->driver_data);
}

static unsigned int ttyrfc_chars_in_buffer(struct tty_struct *tty)
{
	return ttyrfc_queue_pending(tty->driver_data);
}

static void ttyrfc_flush_buffer(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;

	ttyrfc_queue_flush(p);
	tty_port_tty_wakeup(&p->port);
}

static void ttyrfc_set_termios(struct tty_struct *tty,
			       TTYRFC_OLD_TERMIOS_T *old)
{
	struct ttyrfc_port *p = tty->driver_data;
	struct ttyrfc_settings want;
	speed_t baud = tty_get_baud_rate(tty);
	u32 lines = TTYRFC_MCTRL_DTR | TTYRFC_MCTRL_RTS;

	ttyrfc_termios_settings(&tty->termios, baud, &want);
	/* B0 is not a rate: keep the server's rate, drop the lines below */
	ttyrfc_queue_set(p, &want, baud ? TTYRFC_SET_LINE :
			 TTYRFC_SET_LINE & ~TTYRFC_SET_BAUD);

	/* B0 hangs up the modem lines, leaving B0 raises them (as 8250) */
	if (old && (old->c_cflag & CBAUD) != B0 && !baud)
		ttyrfc_set_mctrl(p, 0, lines);
	else if (old && (old->c_cflag & CBAUD) == B0 && baud)
		ttyrfc_set_mctrl(p, (tty->termios.c_cflag & CRTSCTS) &&
				 tty_throttled(tty) ?
				 TTYRFC_MCTRL_DTR : lines, 0);
}

/*
 * A raw port talks to a server without RFC 2217: it has data only. Refuse
 * line control the way a port without modem lines does (ENOTTY), which
 * pyserial and esptool already handle, and say why once in a while.
 */
static bool ttyrfc_raw(struct ttyrfc_port *p)
{
	if (!(p->flags & TTYRFC_F_RAW))
		return false;
	pr_info_ratelimited("ttyRFC%u: raw port: no modem lines or break\n",
			    p->index);
	return true;
}

static int ttyrfc_tiocmget(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;
	unsigned long flags;
	u32 mctrl;
	u8 msr;

	if (ttyrfc_raw(p))
		return -ENOTTY;

	spin_lock_irqsave(&p->lock, flags);
	mctrl = p->cur.mctrl;
	msr = p->msr;
	spin_unlock_irqrestore(&p->lock, flags);

	return ((mctrl & TTYRFC_MCTRL_DTR) ? TIOCM_DTR : 0) |
	       ((mctrl & TTYRFC_MCTRL_RTS) ? TIOCM_RTS : 0) |
	       ((msr & MSR_CTS) ? TIOCM_CTS : 0) |
	       ((msr & MSR_DSR) ? TIOCM_DSR : 0) |
	       ((msr & MSR_RI) ? TIOCM_RI : 0) |
	       ((msr & MSR_CD) ? TIOCM_CD : 0);
}

static int ttyrfc_tiocmset(struct tty_struct *tty, unsigned int set,
			   unsigned int clear)
{
	u32 s = 0, c = 0;

	if (set & TIOCM_DTR)
		s |= TTYRFC_MCTRL_DTR;
	if (set & TIOCM_RTS)
		s |= TTYRFC_MCTRL_RTS;
	if (clear & TIOCM_DTR)
		c |= TTYRFC_MCTRL_DTR;
	if (clear & TIOCM_RTS)
		c |= TTYRFC_MCTRL_RTS;
	if (ttyrfc_raw(tty->driver_data))
		return -ENOTTY;
	return ttyrfc_set_mctrl(tty->driver_data, s, c);
}

static int ttyrfc_break_ctl(struct tty_struct *tty, int state)
{
	struct ttyrfc_port *p = tty->driver_data;
	struct ttyrfc_ctrl *c;

	if (ttyrfc_raw(p))
		return -ENOTTY;
	c = ttyrfc_ctrl_alloc(TTYRFC_CMD_SET, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->mask = TTYRFC_SET_BREAK;
	c->brk = state ? 1 : 0;
	return ttyrfc_queue_ctrl(p, c);
}

static int ttyrfc_purge(struct ttyrfc_port *p, unsigned long arg)
{
	struct ttyrfc_ctrl *c;
	u8 what;

	switch (arg) {
	case TCIFLUSH:
		what = 1;
		break;
	case TCOFLUSH:
		what = 2;
		break;
	case TCIOFLUSH:
		what = 3;
		break;
	default:
		return -EINVAL;
	}
	c = ttyrfc_ctrl_alloc(TTYRFC_CMD_SET, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->mask = TTYRFC_SET_PURGE;
	c->purge = what;
	return ttyrfc_queue_ctrl(p, c);
}

/* Sleeps until a modem status line in @mask changes; never on the network. */
static int ttyrfc_wait_modem(struct ttyrfc_port *p, unsigned long mask)
{
	struct async_icount prev, now;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&p->lock, flags);
	prev = p->icount;
	spin_unlock_irqrestore(&p->lock, flags);

	for (;;) {
		ret = wait_event_interruptible(p->port.delta_msr_wait,
			({ spin_lock_irqsave(&p->lock, flags);
			   now = p->icount;
			   spin_unlock_irqrestore(&p->lock, flags);
			   memcmp(&now, &prev, sizeof(now)) ||
			   !READ_ONCE(p->active); }));
		if (ret)
			return ret;
		if (!READ_ONCE(p->active))
			return -EIO;
		if (((mask & TIOCM_RNG) && now.rng != prev.rng) ||
		    ((mask & TIOCM_DSR) && now.dsr != prev.dsr) ||
		    ((mask & TIOCM_CD) && now.dcd != prev.dcd) ||
		    ((mask & TIOCM_CTS) && now.cts != prev.cts))
			return 0;
		prev = now;
	}
}

static int ttyrfc_ioctl(struct tty_struct *tty, unsigned int cmd,
			unsigned long arg)
{
	struct ttyrfc_port *p = tty->driver_data;
	int ret;

	switch (cmd) {
	case TIOCMIWAIT:
		return ttyrfc_wait_modem(p, arg);
	case TCFLSH:
		/* the tty core flushes the local buffers; tell the server */
		ret = ttyrfc_purge(p, arg);
		return ret ? ret : -ENOIOCTLCMD;
	}
	return -ENOIOCTLCMD;
}

static int ttyrfc_get_icount(struct tty_struct *tty,
			     struct serial_icounter_struct *ic)
{
	struct ttyrfc_port *p = tty->driver_data;
	struct async_icount c;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	c = p->icount;
	spin_unlock_irqrestore(&p->lock, flags);

	ic->cts = c.cts;
	ic->dsr = c.dsr;
	ic->rng = c.rng;
	ic->dcd = c.dcd;
	ic->rx = c.rx;
	ic->tx = c.tx;
	ic->frame = c.frame;
	ic->overrun = c.overrun;
	ic->parity = c.parity;
	ic->brk = c.brk;
	ic->buf_overrun = c.buf_overrun;
	return 0;
}

static void ttyrfc_throttle(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->throttled = true;
	spin_unlock_irqrestore(&p->lock, flags);
	ttyrfc_rx_check(p);
}

static void ttyrfc_unthrottle(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->throttled = false;
	spin_unlock_irqrestore(&p->lock, flags);
	ttyrfc_rx_check(p);
}

const struct tty_operations ttyrfc_tty_ops = {
	.install	= ttyrfc_install,
	.cleanup	= ttyrfc_cleanup,
	.open		= ttyrfc_open,
	.close		= ttyrfc_close,
	.hangup		= ttyrfc_hangup,
	.write		= ttyrfc_write,
	.write_room	= ttyrfc_write_room,
	.chars_in_buffer = ttyrfc_chars_in_buffer,
	.flush_buffer	= ttyrfc_flush_buffer,
	.set_termios	= ttyrfc_set_termios,
	.tiocmget	= ttyrfc_tiocmget,
	.tiocmset	= ttyrfc_tiocmset,
	.break_ctl	= ttyrfc_break_ctl,
	.ioctl		= ttyrfc_ioctl,
	.get_icount	= ttyrfc_get_icount,
	.throttle	= ttyrfc_throttle,
	.unthrottle	= ttyrfc_unthrottle,
};

/* Events from the helper (netlink context, may sleep) */

void ttyrfc_link_changed(struct ttyrfc_port *p, u8 state, int err)
{
	unsigned long flags;
	bool lost = false;

	spin_lock_irqsave(&p->lock, flags);
	if (p->link == TTYRFC_LINK_CONNECTING) {
		/* the answer open() waits for */
		if (state != TTYRFC_LINK_CONNECTING) {
			p->link = state;
			p->link_err = err;
		}
	} else if (p->active) {
		if (p->link == TTYRFC_LINK_UP && state != TTYRFC_LINK_UP) {
			lost = true;
			p->reconnects++;
		}
		p->link = state;
		p->link_err = err;
	}
	spin_unlock_irqrestore(&p->lock, flags);

	wake_up_interruptible(&p->link_wait);
	/* a lost line hangs up like a modem would, unless CLOCAL */
	if (lost)
		tty_port_tty_hangup(&p->port, true);
}

void ttyrfc_modem_changed(struct ttyrfc_port *p, u8 msr)
{
	unsigned long flags;
	bool cd_lost;
	u8 delta;

	spin_lock_irqsave(&p->lock, flags);
	delta = (p->msr ^ msr) & 0xf0;
	cd_lost = (delta & MSR_CD) && !(msr & MSR_CD);
	if (delta & MSR_CTS)
		p->icount.cts++;
	if (delta & MSR_DSR)
		p->icount.dsr++;
	if (delta & MSR_RI)
		p->icount.rng++;
	if (delta & MSR_CD)
		p->icount.dcd++;
	p->msr = msr;
	spin_unlock_irqrestore(&p->lock, flags);

	if (delta)
		wake_up_interruptible(&p->port.delta_msr_wait);
	if (cd_lost)
		tty_port_tty_hangup(&p->port, true);
}

void ttyrfc_line_changed(struct ttyrfc_port *p, u8 lsr)
{
	unsigned long flags;
	char flag = TTY_NORMAL;

	spin_lock_irqsave(&p->lock, flags);
	if (lsr & LSR_BREAK) {
		p->icount.brk++;
		flag = TTY_BREAK;
	} else if (lsr & LSR_PARITY) {
		p->icount.parity++;
		flag = TTY_PARITY;
	} else if (lsr & LSR_FRAMING) {
		p->icount.frame++;
		flag = TTY_FRAME;
	}
	if (lsr & LSR_OVERRUN)
		p->icount.overrun++;
	spin_unlock_irqrestore(&p->lock, flags);

	if (flag != TTY_NORMAL)
		tty_insert_flip_char(&p->port, 0, flag);
	if (lsr & LSR_OVERRUN)
		tty_insert_flip_char(&p->port, 0, TTY_OVERRUN);
	if (flag != TTY_NORMAL || (lsr & LSR_OVERRUN))
		tty_flip_buffer_push(&p->port);
}

/*
 * Tell the helper to stop or resume reading the server when the room in
 * the tty changes sides of TTYRFC_RX_LOW.
 */
void ttyrfc_rx_check(struct ttyrfc_port *p)
{
	unsigned int room = tty_buffer_space_avail(&p->port);
	unsigned long flags;
	bool blocked, notify;

	spin_lock_irqsave(&p->lock, flags);
	blocked = p->throttled || room < TTYRFC_RX_LOW;
	notify = blocked != p->rx_blocked;
	if (notify) {
		p->rx_blocked = blocked;
		p->rx_notify = true;
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (notify)
		ttyrfc_queue_kick(p);
	/* full without a throttle: nothing will call unthrottle, so poll */
	if (blocked && !READ_ONCE(p->throttled))
		ttyrfc_queue_rx_poll(p);
}

/* Data from the server; the helper keeps within the room we advertise. */
void ttyrfc_rx(struct ttyrfc_port *p, const u8 *data, size_t len)
{
	unsigned long flags;
	unsigned int done = 0;

	if (READ_ONCE(p->active) && len) {
		done = tty_insert_flip_string(&p->port, data, len);
		tty_flip_buffer_push(&p->port);
	}

	spin_lock_irqsave(&p->lock, flags);
	p->rx_bytes += done;
	p->icount.rx += done;
	p->rx_dropped += len - done;
	spin_unlock_irqrestore(&p->lock, flags);

	ttyrfc_rx_check(p);
}

/* A new helper registered: tell it about this port if it is open. */
void ttyrfc_port_replay(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c = ttyrfc_ctrl_alloc(TTYRFC_CMD_OPEN, GFP_KERNEL);
	unsigned long flags;
	bool active;

	if (!c)
		return;
	spin_lock_irqsave(&p->lock, flags);
	active = p->active;
	c->s = p->cur;
	c->mask = TTYRFC_SET_LINE | TTYRFC_SET_MCTRL;
	c->mctrl_mask = TTYRFC_MCTRL_DTR | TTYRFC_MCTRL_RTS;
	if (active)
		p->link = TTYRFC_LINK_CONNECTING;
	spin_unlock_irqrestore(&p->lock, flags);

	if (!active) {
		kfree(c);
		return;
	}
	ttyrfc_queue_rewind(p, c);
}

/* The helper died: fail a pending open; keep open ports and their data. */
void ttyrfc_port_helper_gone(struct ttyrfc_port *p)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	if (p->link == TTYRFC_LINK_CONNECTING && !p->active) {
		p->link = TTYRFC_LINK_DOWN;
		p->link_err = ENXIO;
	} else if (p->active) {
		p->link = TTYRFC_LINK_DOWN;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	wake_up_interruptible(&p->link_wait);
	ttyrfc_queue_rewind(p, NULL);
}
