// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: sessions, and what the helper reports about them.
 *
 * A session is one connection attempt of an open port, with an id chosen
 * here. open() starts one and waits (bounded) for its link. When a session
 * fails, a port that is still open starts the next one (CLOCAL) or hangs up
 * like a modem line (!CLOCAL); the next one resends everything the server
 * had not acknowledged. When the helper dies, open ports keep their stream
 * and the next helper gets a new session for each (replay).
 *
 * Received data is credit-limited: the helper may send up to rx_limit,
 * which only grows by half the room left in the tty's flip buffers, so
 * whatever it sends fits, whatever the buffers' bookkeeping costs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <linux/tty_flip.h>

#include "ttyrfc.h"

/* kept free in the flip buffers: line-status characters, partial buffers */
#define TTYRFC_RX_RESERVE	(8 * 1024)
/*
 * A new limit is worth a message once it grew this much: each costs a
 * worker and a helper wake-up, and the credit is ~300 KiB (half of the
 * tty's 640 KiB of flip buffers), so 64 KiB steps never starve it.
 */
#define TTYRFC_RX_STEP		(4 * TTYRFC_MAX_DATA)
/* look again this often while the helper has no credit left */
#define TTYRFC_RX_POLL_MS	100

static atomic_t ttyrfc_sids = ATOMIC_INIT(0);

bool ttyrfc_session_check_locked(struct ttyrfc_port *p, u32 sid)
{
	if (sid && sid == p->sid)
		return true;
	p->stats[TTYRFC_STAT_STALE]++;
	return false;
}

/* Grow the credit if the flip buffers allow; true if worth telling. */
static bool ttyrfc_rx_grant_locked(struct ttyrfc_port *p)
{
	unsigned int avail = tty_buffer_space_avail(&p->port);
	u64 want = p->rx_pos;

	if (avail > TTYRFC_RX_RESERVE)
		want += (avail - TTYRFC_RX_RESERVE) / 2;
	if (want <= p->rx_limit)
		return false;
	p->rx_limit = want;
	if (p->sess == TTYRFC_SESS_OPENING)
		return false;	/* the OPEN will carry it */
	if (want - p->rx_limit_sent >= TTYRFC_RX_STEP ||
	    p->rx_pos + TTYRFC_RX_STEP > p->rx_limit_sent)
		p->rx_notify = true;
	return p->rx_notify;
}

/*
 * The tty consumed data, was unthrottled or flushed: maybe more credit.
 * While the helper has none left and none can be given, look again later
 * (a flush of the flip buffers frees room without telling anyone).
 */
void ttyrfc_rx_credit(struct ttyrfc_port *p)
{
	unsigned long flags;
	bool notify, starved;

	spin_lock_irqsave(&p->lock, flags);
	notify = p->sid && ttyrfc_rx_grant_locked(p);
	starved = p->sid && p->rx_pos + TTYRFC_RX_STEP > p->rx_limit;
	spin_unlock_irqrestore(&p->lock, flags);

	if (notify)
		ttyrfc_queue_kick(p);
	else if (starved)
		ttyrfc_queue_later(p, TTYRFC_RX_POLL_MS);
}

void ttyrfc_session_start_locked(struct ttyrfc_port *p, u8 kind)
{
	u32 sid;

	do {
		sid = atomic_inc_return(&ttyrfc_sids);
	} while (!sid);
	p->sid = sid;
	p->sess = TTYRFC_SESS_OPENING;
	p->open_kind = kind;
	p->link = TTYRFC_LINK_CONNECTING;
	if (kind == TTYRFC_OPEN_FIRST)
		p->link_err = 0;	/* a reconnect keeps why the last failed */
	p->rx_notify = false;
	p->server_known = false;
	p->stats[TTYRFC_STAT_SESSIONS]++;
	ttyrfc_rx_grant_locked(p);
}

void ttyrfc_session_ended_locked(struct ttyrfc_port *p)
{
	p->sid = 0;
	p->sess = TTYRFC_SESS_NONE;
	p->link = TTYRFC_LINK_DOWN;
	p->rx_notify = false;
	wake_up_interruptible_all(&p->link_wait);
}

/* The session failed (link lost, connect failed, helper gone). */
static void ttyrfc_session_failed_locked(struct ttyrfc_port *p, int err)
{
	if (p->link == TTYRFC_LINK_UP)
		p->stats[TTYRFC_STAT_LINK_LOSSES]++;
	if (p->active)
		ttyrfc_queue_rewind_locked(p);
	else
		ttyrfc_queue_reset_locked(p, false);
	p->link_err = err;
	ttyrfc_session_ended_locked(p);
}

/* Connect errors a caller may see; anything else becomes EIO. */
static int ttyrfc_link_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENETUNREACH:
	case ENETDOWN:
	case ETIMEDOUT:
	case EBUSY:
	case EACCES:
	case EPROTO:
	case ENXIO:
	case ENOENT:
	case EKEYREJECTED:
	case EKEYEXPIRED:
	case ENOKEY:
		return err;
	}
	return EIO;
}

/* What a new session applies: the tty's termios; DTR/RTS as found. */
static void ttyrfc_open_settings(struct tty_struct *tty,
				 struct ttyrfc_settings *s)
{
	ttyrfc_termios_settings(&tty->termios, tty_get_baud_rate(tty), s);
	s->brk = 0;
	s->mctrl = 0;
	s->mctrl_known = 0;
}

int ttyrfc_session_open(struct ttyrfc_port *p, struct tty_struct *tty)
{
	long timeout = msecs_to_jiffies(ttyrfc_open_timeout_ms()), left;
	struct ttyrfc_settings s;
	unsigned long flags;
	int err = 0;
	u32 sid;

	/* the tail of the last session leaves first */
	left = wait_event_interruptible_timeout(p->link_wait,
			READ_ONCE(p->sess) != TTYRFC_SESS_CLOSING, timeout);
	if (left < 0)
		return left;
	ttyrfc_open_settings(tty, &s);

	spin_lock_irqsave(&p->lock, flags);
	if (!ttyrfc_helper_present()) {
		err = -ENXIO;
	} else if (p->sess != TTYRFC_SESS_NONE) {
		err = -EBUSY;	/* the last session would not end */
	} else {
		/* DTR/RTS stay as the server has them until dtr_rts() */
		p->cur = s;
		p->base = s;
		p->tx_stopped = false;
		p->modem = 0;
		p->stats[TTYRFC_STAT_OPENS]++;
		ttyrfc_session_start_locked(p, TTYRFC_OPEN_FIRST);
	}
	sid = p->sid;
	spin_unlock_irqrestore(&p->lock, flags);
	if (err == -ENXIO)
		pr_warn_ratelimited("ttyRFC%u: no helper registered; start ttyrfcd\n",
				    p->index);
	if (err)
		return err;

	ttyrfc_queue_kick(p);
	left = wait_event_interruptible_timeout(p->link_wait,
			READ_ONCE(p->sid) != sid ||
			READ_ONCE(p->link) != TTYRFC_LINK_CONNECTING, timeout);

	spin_lock_irqsave(&p->lock, flags);
	if (p->sid == sid && p->link == TTYRFC_LINK_UP) {
		p->active = true;
	} else if (p->sid != sid) {
		err = -(p->link_err ? p->link_err : EIO);
	} else {
		/* no answer in time (or a signal): give the attempt up */
		err = left < 0 ? (int)left : -ETIMEDOUT;
		p->link_err = ETIMEDOUT;
		if (p->sess == TTYRFC_SESS_OPENING)
			ttyrfc_session_ended_locked(p);
		else
			p->sess = TTYRFC_SESS_CLOSING;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	ttyrfc_queue_kick(p);
	return err;
}

/*
 * Last close or hangup. HUPCL's drop of DTR/RTS is already queued; with
 * the link up, the tail goes out before CLOSE. Without a link there is
 * nowhere to deliver it.
 */
void ttyrfc_session_close(struct ttyrfc_port *p)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->active = false;
	/* output held by XOFF when the port closes is dropped, as a UART's */
	if (READ_ONCE(p->tx_stopped)) {
		p->stats[TTYRFC_STAT_TX_DISCARDED] += p->tx_queued - p->tx_sent;
		p->tx_queued = p->tx_sent;
		WRITE_ONCE(p->tx_stopped, false);
	}
	if (p->link != TTYRFC_LINK_UP)
		ttyrfc_queue_reset_locked(p, false);
	if (p->sess == TTYRFC_SESS_OPENING)
		ttyrfc_session_ended_locked(p);
	else if (p->sid)
		p->sess = TTYRFC_SESS_CLOSING;
	spin_unlock_irqrestore(&p->lock, flags);
	ttyrfc_queue_kick(p);
}

/* LINK from the helper: the session's connection came up or failed. */
int ttyrfc_link(struct ttyrfc_port *p, u32 sid, u8 state, int err)
{
	struct tty_struct *tty = NULL;
	unsigned long flags;
	bool hangup = false;

	spin_lock_irqsave(&p->lock, flags);
	if (!ttyrfc_session_check_locked(p, sid)) {
		spin_unlock_irqrestore(&p->lock, flags);
		return -ESTALE;
	}
	if (state == TTYRFC_LINK_UP) {
		if (p->link == TTYRFC_LINK_CONNECTING) {
			p->link = TTYRFC_LINK_UP;
			p->link_err = 0;
			wake_up_interruptible_all(&p->link_wait);
		}
	} else if (state == TTYRFC_LINK_DOWN) {
		bool active = p->active;

		ttyrfc_session_failed_locked(p, ttyrfc_link_errno(err));
		if (active) {
			/* like a modem line: !CLOCAL hangs up, CLOCAL waits */
			tty = tty_port_tty_get(&p->port);
			if (tty && !C_CLOCAL(tty))
				hangup = true;
			else
				ttyrfc_session_start_locked(p,
						TTYRFC_OPEN_RECONNECT);
		}
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (hangup)
		tty_hangup(tty);
	tty_kref_put(tty);
	ttyrfc_queue_kick(p);
	return 0;
}

/*
 * Nothing waits in the flip buffers. Call with them locked exclusively, so
 * flush_to_ldisc() is not half-way through them.
 */
static bool ttyrfc_flip_empty(struct tty_port *port)
{
	struct tty_buffer *head = port->buf.head;
	/* acquire, paired with the tty core's release of what it linked... */
	struct tty_buffer *next = smp_load_acquire(&head->next);
	/* ...and of what it committed, as flush_to_ldisc() reads them */
	unsigned int commit = smp_load_acquire(&head->commit);

	return commit == head->read && !next;
}

/*
 * RX from the helper: data at position @pos, within the credit given.
 *
 * When the flip buffers are empty the data goes to the line discipline
 * here, in the helper's send, as flush_to_ldisc() would pass it: one work
 * item and its wake-up less on every reply esptool waits for. The buffers
 * locked exclusively keep the ldisc's receive_buf() single-threaded and
 * the order with anything already buffered. Whatever the ldisc does not
 * take now is buffered as before.
 */
int ttyrfc_rx(struct ttyrfc_port *p, u32 sid, u64 pos, const u8 *data,
	      size_t len)
{
	struct tty_port *port = &p->port;
	unsigned long flags;
	size_t took = 0, n;
	bool direct = false;
	int ret = 0;

	tty_buffer_lock_exclusive(port);
	spin_lock_irqsave(&p->lock, flags);
	if (!ttyrfc_session_check_locked(p, sid)) {
		ret = -ESTALE;
	} else if (pos != p->rx_pos || pos + len > p->rx_limit) {
		p->stats[TTYRFC_STAT_BAD_MSGS]++;
		ret = pos != p->rx_pos ? -EINVAL : -EOVERFLOW;
	} else {
		p->rx_pos += len;
		p->stats[TTYRFC_STAT_RX_MSGS]++;
		direct = ttyrfc_flip_empty(port);
		if (direct)
			p->stats[TTYRFC_STAT_RX_DIRECT]++;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	if (ret)
		goto out;

	/* not under p->lock: the ldisc may echo, i.e. call our write() */
	if (direct)
		took = port->client_ops->receive_buf(port, data, NULL, len);

	spin_lock_irqsave(&p->lock, flags);
	n = took + tty_insert_flip_string(port, data + took, len - took);
	p->icount.rx += n;
	p->stats[TTYRFC_STAT_RX_BYTES] += n;
	if (n < len) {
		/* cannot happen within the credit; never silent */
		p->stats[TTYRFC_STAT_RX_DROPPED] += len - n;
		p->icount.buf_overrun++;
	}
	spin_unlock_irqrestore(&p->lock, flags);
out:
	tty_buffer_unlock_exclusive(port);
	/*
	 * Our exclusive hold may have stopped flush_to_ldisc() at an empty
	 * buffer with more behind it, which the unlock does not restart.
	 */
	if (!direct || took < len)
		tty_flip_buffer_push(port);
	if (!ret)
		ttyrfc_rx_credit(p);
	return ret;
}

/*
 * A line-status event, as a UART would report it (uart_insert_char()):
 * a break reads as NUL (flagged when BRKINT/PARMRK want to know) unless
 * IGNBRK; parity and framing errors are flagged only with INPCK and without
 * IGNPAR. The server does not say which byte was bad, so the flagged NUL
 * marks where the report came in the stream.
 */
static void ttyrfc_line_event(struct ttyrfc_port *p, u32 line)
{
	struct tty_struct *tty = tty_port_tty_get(&p->port);
	tcflag_t iflag = tty ? tty->termios.c_iflag : 0;
	bool check = (iflag & INPCK) && !(iflag & IGNPAR);
	unsigned long flags;

	tty_kref_put(tty);
	spin_lock_irqsave(&p->lock, flags);
	if (line & TTYRFC_LINE_BREAK) {
		p->icount.brk++;
		if (!(iflag & IGNBRK))
			tty_insert_flip_char(&p->port, 0,
					     (iflag & (BRKINT | PARMRK)) ?
					     TTY_BREAK : TTY_NORMAL);
	}
	if (line & TTYRFC_LINE_PARITY) {
		p->icount.parity++;
		if (check)
			tty_insert_flip_char(&p->port, 0, TTY_PARITY);
	}
	if (line & TTYRFC_LINE_FRAME) {
		p->icount.frame++;
		if (check)
			tty_insert_flip_char(&p->port, 0, TTY_FRAME);
	}
	if (line & TTYRFC_LINE_OVERRUN) {
		p->icount.overrun++;
		if ((iflag & (IGNPAR | IGNBRK)) != (IGNPAR | IGNBRK))
			tty_insert_flip_char(&p->port, 0, TTY_OVERRUN);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	tty_flip_buffer_push(&p->port);
}

/* CD changed: what serial_core does (uart_handle_dcd_change()). */
static void ttyrfc_dcd_change(struct ttyrfc_port *p, bool up)
{
	struct tty_struct *tty = tty_port_tty_get(&p->port);
	struct tty_ldisc *ld;

	if (tty) {
		ld = tty_ldisc_ref(tty);
		if (ld) {
			if (ld->ops->dcd_change)
				ld->ops->dcd_change(tty, up);
			tty_ldisc_deref(ld);
		}
	}
	if (up)
		wake_up_interruptible(&p->port.open_wait);
	else if (tty && !C_CLOCAL(tty))
		tty_hangup(tty);
	tty_kref_put(tty);
}

#define TTYRFC_MODEM_LINES (TIOCM_CTS | TIOCM_DSR | TIOCM_RI | TIOCM_CD)

/* STATUS from the helper: modem lines, line events, server state, counters. */
int ttyrfc_status(struct ttyrfc_port *p, u32 sid, const u32 *modem,
		  const u32 *line, const struct ttyrfc_settings *server,
		  const u64 *hstats)
{
	unsigned long flags;
	u32 delta = 0;
	int i;

	spin_lock_irqsave(&p->lock, flags);
	if (!ttyrfc_session_check_locked(p, sid)) {
		spin_unlock_irqrestore(&p->lock, flags);
		return -ESTALE;
	}
	if (modem) {
		delta = (p->modem ^ *modem) & TTYRFC_MODEM_LINES;
		if (delta & TIOCM_CTS)
			p->icount.cts++;
		if (delta & TIOCM_DSR)
			p->icount.dsr++;
		if (delta & TIOCM_RI)
			p->icount.rng++;
		if (delta & TIOCM_CD)
			p->icount.dcd++;
		p->modem = *modem & TTYRFC_MODEM_LINES;
	}
	if (server) {
		p->server = *server;
		p->server_known = true;
	}
	if (hstats) {
		for (i = TTYRFC_STAT_PROTO_ERRORS;
		     i <= TTYRFC_STAT_LOG_SUPPRESSED; i++)
			p->stats[i] = hstats[i];
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (delta)
		wake_up_interruptible(&p->port.delta_msr_wait);
	if (delta & TIOCM_CD)
		ttyrfc_dcd_change(p, *modem & TIOCM_CD);
	if (line && *line)
		ttyrfc_line_event(p, *line);
	return 0;
}

/* A helper registered: every open port gets a session with it. */
void ttyrfc_port_replay(struct ttyrfc_port *p)
{
	unsigned long flags;
	bool kick = false;

	spin_lock_irqsave(&p->lock, flags);
	if (p->active) {
		/* a registered helper saying HELLO again lost track: resync */
		if (p->sid)
			ttyrfc_session_failed_locked(p, 0);
		ttyrfc_session_start_locked(p, TTYRFC_OPEN_REPLAY);
		kick = true;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	if (kick)
		ttyrfc_queue_kick(p);
}

/* The helper died: fail a pending open; open ports keep everything. */
void ttyrfc_port_helper_gone(struct ttyrfc_port *p)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	if (p->sid)
		ttyrfc_session_failed_locked(p, ENXIO);
	spin_unlock_irqrestore(&p->lock, flags);
}
