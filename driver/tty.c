// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the tty side of a port.
 *
 * Nothing here waits on the network except open(), which waits (bounded)
 * for the session's link. Settings and modem lines are answered from what
 * was queued last and what the server reported; changes join the data in
 * the port's ordered stream (queue.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/serial.h>
#include <linux/tty.h>
#include <linux/tty_flip.h>

#include "compat.h"
#include "ttyrfc.h"

#define TTYRFC_OPEN_TIMEOUT_MAX	3600

static unsigned int open_timeout = 15;

static int ttyrfc_set_open_timeout(const char *val,
				   const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 10, &v);

	if (ret)
		return ret;
	if (!v || v > TTYRFC_OPEN_TIMEOUT_MAX)
		return -ERANGE;
	WRITE_ONCE(open_timeout, v);
	return 0;
}

static const struct kernel_param_ops ttyrfc_open_timeout_ops = {
	.set = ttyrfc_set_open_timeout,
	.get = param_get_uint,
};
module_param_cb(open_timeout, &ttyrfc_open_timeout_ops, &open_timeout, 0644);
MODULE_PARM_DESC(open_timeout,
		 "seconds open() waits for the TCP session (1-3600, default 15)");

unsigned int ttyrfc_open_timeout_ms(void)
{
	return READ_ONCE(open_timeout) * MSEC_PER_SEC;
}

void ttyrfc_termios_settings(const struct ktermios *t, speed_t baud,
			     struct ttyrfc_settings *s)
{
	static const u8 sizes[] = { [CS5 >> 4] = 5, [CS6 >> 4] = 6,
				    [CS7 >> 4] = 7, [CS8 >> 4] = 8 };

	s->baud = baud;
	s->data_bits = sizes[(t->c_cflag & CSIZE) >> 4];
	if (!(t->c_cflag & PARENB))
		s->parity = TTYRFC_PARITY_NONE;
	else if (t->c_cflag & CMSPAR)
		s->parity = (t->c_cflag & PARODD) ? TTYRFC_PARITY_MARK :
						    TTYRFC_PARITY_SPACE;
	else
		s->parity = (t->c_cflag & PARODD) ? TTYRFC_PARITY_ODD :
						    TTYRFC_PARITY_EVEN;
	s->stop_bits = (t->c_cflag & CSTOPB) ? 2 : 1;
	if (t->c_cflag & CRTSCTS)
		s->flow = TTYRFC_FLOW_RTSCTS;
	else if (t->c_iflag & (IXON | IXOFF))
		s->flow = TTYRFC_FLOW_XONXOFF;
	else
		s->flow = TTYRFC_FLOW_NONE;
}

static int ttyrfc_set_mctrl(struct ttyrfc_port *p, u32 set, u32 clear)
{
	return ttyrfc_queue_set(p, NULL, 0, set, clear, 0);
}

/* tty_port operations */

static int ttyrfc_activate(struct tty_port *port, struct tty_struct *tty)
{
	return ttyrfc_session_open(to_rport(port), tty);
}

static void ttyrfc_shutdown(struct tty_port *port)
{
	ttyrfc_session_close(to_rport(port));
}

static TTYRFC_CARRIER_T ttyrfc_carrier_raised(struct tty_port *port)
{
	return !!(READ_ONCE(to_rport(port)->modem) & TIOCM_CD);
}

static void ttyrfc_dtr_rts(struct tty_port *port, TTYRFC_DTR_RTS_T on)
{
	struct ttyrfc_port *p = to_rport(port);
	u32 lines = TIOCM_DTR | TIOCM_RTS;

	if (on)
		ttyrfc_set_mctrl(p, lines, 0);
	else
		ttyrfc_set_mctrl(p, 0, lines);
}

/* The last reference is gone (tty_port_destroy() already ran). */
static void ttyrfc_destruct(struct tty_port *port)
{
	struct ttyrfc_port *p = to_rport(port);

	ttyrfc_queue_free(p);
	ttyrfc_port_release(p);
	kfree(p);
}

const struct tty_port_operations ttyrfc_port_ops = {
	.activate	= ttyrfc_activate,
	.shutdown	= ttyrfc_shutdown,
	.carrier_raised	= ttyrfc_carrier_raised,
	.dtr_rts	= ttyrfc_dtr_rts,
	.destruct	= ttyrfc_destruct,
};

/*
 * Flip buffers are consumed by the line discipline without telling the
 * driver; hook the port's receive path so the receive credit can grow as
 * soon as they are.
 */
struct tty_port_client_operations ttyrfc_client_ops;

static TTYRFC_RECV_RET ttyrfc_receive_buf(struct tty_port *port,
					  const unsigned char *cp,
					  const unsigned char *fp,
					  size_t count)
{
	TTYRFC_RECV_RET n;

	n = tty_port_default_client_ops.receive_buf(port, cp, fp, count);
	if (n)
		ttyrfc_rx_credit(to_rport(port));
	return n;
}

void ttyrfc_client_ops_init(void)
{
	ttyrfc_client_ops = tty_port_default_client_ops;
	ttyrfc_client_ops.receive_buf = ttyrfc_receive_buf;
}

/* tty operations */

static int ttyrfc_install(struct tty_driver *driver, struct tty_struct *tty)
{
	struct ttyrfc_port *p = ttyrfc_port_get(tty->index, false);
	int ret;

	if (!p)
		return -ENODEV;		/* deleted, like an unplugged adapter */
	tty->driver_data = p;
	ret = tty_port_install(&p->port, driver, tty);
	if (ret) {
		ttyrfc_port_put(p);
		return ret;
	}
	/*
	 * write() in 64 KiB pieces, not the tty core's 2 KiB: a stream then
	 * reaches the helper, the server and the board in 16 KiB messages
	 * rather than 2 KiB ones (the ring takes what it has room for).
	 */
	set_bit(TTY_NO_WRITE_SPLIT, &tty->flags);
	return 0;
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
	u32 lines = TIOCM_DTR | TIOCM_RTS;

	ttyrfc_termios_settings(&tty->termios, baud, &want);
	/* B0 is not a rate: keep the server's rate, drop the lines below */
	ttyrfc_queue_set(p, &want, baud ? TTYRFC_SET_LINE :
			 TTYRFC_SET_LINE & ~TTYRFC_SET_BAUD, 0, 0, 0);

	/* B0 hangs up the modem lines, leaving B0 raises them (as 8250) */
	if (old && (old->c_cflag & CBAUD) != B0 && !baud)
		ttyrfc_set_mctrl(p, 0, lines);
	else if (old && (old->c_cflag & CBAUD) == B0 && baud)
		ttyrfc_set_mctrl(p, (tty->termios.c_cflag & CRTSCTS) &&
				 tty_throttled(tty) ? TIOCM_DTR : lines, 0);
}

/*
 * A raw port talks to a server without RFC 2217: it has data only. Refuse
 * line control the way a port without modem lines does (ENOTTY), which
 * pyserial and esptool already handle, and say why once in a while.
 */
static bool ttyrfc_raw(struct ttyrfc_port *p)
{
	if (!ttyrfc_is_raw(p))
		return false;
	pr_info_ratelimited("ttyRFC%u: raw port: no modem lines or break\n",
			    p->index);
	return true;
}

static int ttyrfc_tiocmget(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;
	unsigned long flags;
	int lines;

	if (ttyrfc_raw(p))
		return -ENOTTY;
	spin_lock_irqsave(&p->lock, flags);
	lines = (p->cur.mctrl & (TIOCM_DTR | TIOCM_RTS)) | p->modem;
	spin_unlock_irqrestore(&p->lock, flags);
	return lines;
}

static int ttyrfc_tiocmset(struct tty_struct *tty, unsigned int set,
			   unsigned int clear)
{
	u32 lines = TIOCM_DTR | TIOCM_RTS;

	if (ttyrfc_raw(tty->driver_data))
		return -ENOTTY;
	return ttyrfc_set_mctrl(tty->driver_data, set & lines, clear & lines);
}

static int ttyrfc_break_ctl(struct tty_struct *tty, int state)
{
	struct ttyrfc_port *p = tty->driver_data;
	struct ttyrfc_settings want = { .brk = state ? 1 : 0 };

	if (ttyrfc_raw(p))
		return -ENOTTY;
	return ttyrfc_queue_set(p, &want, TTYRFC_SET_BREAK, 0, 0, 0);
}

static int ttyrfc_purge(struct ttyrfc_port *p, unsigned long arg)
{
	u8 what;

	switch (arg) {
	case TCIFLUSH:
		what = TTYRFC_PURGE_RX;
		break;
	case TCOFLUSH:
		what = TTYRFC_PURGE_TX;
		break;
	case TCIOFLUSH:
		what = TTYRFC_PURGE_RX | TTYRFC_PURGE_TX;
		break;
	default:
		return -EINVAL;
	}
	return ttyrfc_queue_set(p, NULL, 0, 0, 0, what);
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
		if (ttyrfc_raw(p))
			return -ENOTTY;
		return ttyrfc_wait_modem(p, arg);
	case TCFLSH:
		/* the tty core flushes the local buffers; tell the server */
		ret = ttyrfc_is_raw(p) ? 0 : ttyrfc_purge(p, arg);
		/* flushed flip buffers are room for more */
		ttyrfc_rx_credit(p);
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

	if (ttyrfc_raw(p))
		return -ENOTTY;
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

static void ttyrfc_unthrottle(struct tty_struct *tty)
{
	ttyrfc_rx_credit(tty->driver_data);
}

/* XOFF received (IXON) or ^S: hold output as a UART would. Atomic. */
static void ttyrfc_stop(struct tty_struct *tty)
{
	WRITE_ONCE(((struct ttyrfc_port *)tty->driver_data)->tx_stopped, true);
}

static void ttyrfc_start(struct tty_struct *tty)
{
	struct ttyrfc_port *p = tty->driver_data;

	WRITE_ONCE(p->tx_stopped, false);
	ttyrfc_queue_kick(p);
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
	.unthrottle	= ttyrfc_unthrottle,
	.stop		= ttyrfc_stop,
	.start		= ttyrfc_start,
};
