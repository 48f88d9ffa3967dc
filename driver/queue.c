// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the per-port ordered stream towards the helper.
 *
 * write() may run where sleeping is forbidden, so it only copies into a
 * ring buffer. Control changes (settings, DTR/RTS, break, purge) go into a
 * list, each tagged with the ring position at the time it was made. One
 * sender at a time (send_mutex) hands the helper the ring up to the next
 * change, then the change, and so on: everything reaches the server in the
 * order the process did it. Only one message is on its way at a time
 * (tx_busy): write() itself sends the data it brought when nobody else is
 * sending, without sleeping, which saves the worker's wake-up on every
 * write; anything it cannot send goes to the worker.
 *
 * Nothing is freed when it is sent, only when the helper confirms that the
 * server's TCP acknowledged it (CONFIRM). A failed session rewinds to the
 * confirmed point and the next one sends the rest again; the settings in
 * force at that point (base) travel in its OPEN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "ttyrfc.h"
#include "netlink.h"

static struct workqueue_struct *ttyrfc_wq;

#define TTYRFC_RETRY_MAX_MS	100
/* below this much unconfirmed, a write is a request, not a stream */
#define TTYRFC_DIRECT_INFLIGHT	4096

static void ttyrfc_apply(struct ttyrfc_settings *s, const struct ttyrfc_ctrl *c)
{
	if (c->mask & TTYRFC_SET_BAUD)
		s->baud = c->s.baud;
	if (c->mask & TTYRFC_SET_DATA_BITS)
		s->data_bits = c->s.data_bits;
	if (c->mask & TTYRFC_SET_PARITY)
		s->parity = c->s.parity;
	if (c->mask & TTYRFC_SET_STOP_BITS)
		s->stop_bits = c->s.stop_bits;
	if (c->mask & TTYRFC_SET_FLOW)
		s->flow = c->s.flow;
	if (c->mask & TTYRFC_SET_BREAK)
		s->brk = c->s.brk;
	if (c->mask & TTYRFC_SET_MCTRL) {
		s->mctrl = (s->mctrl & ~c->mctrl_mask) |
			   (c->s.mctrl & c->mctrl_mask);
		s->mctrl_known |= c->mctrl_mask;
	}
}

/* Which fields of @want (in @mask) differ from @cur. */
static u32 ttyrfc_changes(const struct ttyrfc_settings *cur,
			  const struct ttyrfc_settings *want, u32 mask)
{
	u32 changed = 0;

	if ((mask & TTYRFC_SET_BAUD) && want->baud != cur->baud)
		changed |= TTYRFC_SET_BAUD;
	if ((mask & TTYRFC_SET_DATA_BITS) && want->data_bits != cur->data_bits)
		changed |= TTYRFC_SET_DATA_BITS;
	if ((mask & TTYRFC_SET_PARITY) && want->parity != cur->parity)
		changed |= TTYRFC_SET_PARITY;
	if ((mask & TTYRFC_SET_STOP_BITS) && want->stop_bits != cur->stop_bits)
		changed |= TTYRFC_SET_STOP_BITS;
	if ((mask & TTYRFC_SET_FLOW) && want->flow != cur->flow)
		changed |= TTYRFC_SET_FLOW;
	if ((mask & TTYRFC_SET_BREAK) && want->brk != cur->brk)
		changed |= TTYRFC_SET_BREAK;
	return changed;
}

/*
 * Queue a control change behind everything written so far: the fields of
 * @want in @mask that differ from what was queued last, lines @mset raised
 * and @mclear dropped (only real changes, or lines not yet set since open),
 * and a purge. The comparison and the update happen under one lock, so two
 * concurrent changes can never lose each other's lines.
 */
int ttyrfc_queue_set(struct ttyrfc_port *p, const struct ttyrfc_settings *want,
		     u32 mask, u32 mset, u32 mclear, u8 purge)
{
	struct ttyrfc_ctrl *c;
	unsigned long flags;
	u32 lines;
	int ret = 0;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		spin_lock_irqsave(&p->lock, flags);
		p->stats[TTYRFC_STAT_CTRL_REFUSED]++;
		spin_unlock_irqrestore(&p->lock, flags);
		return -ENOMEM;
	}

	spin_lock_irqsave(&p->lock, flags);
	c->mask = want ? ttyrfc_changes(&p->cur, want, mask) : 0;
	if (want)
		c->s = *want;
	lines = ((p->cur.mctrl | mset) & ~mclear) ^ p->cur.mctrl;
	lines |= (mset | mclear) & ~p->cur.mctrl_known;
	if (lines) {
		c->mask |= TTYRFC_SET_MCTRL;
		c->mctrl_mask = lines;
		c->s.mctrl = (p->cur.mctrl | mset) & ~mclear;
	}
	if (purge) {
		c->mask |= TTYRFC_SET_PURGE;
		c->purge = purge;
	}
	if (!c->mask) {
		ret = 1;
	} else if (p->nctrl >= TTYRFC_CTRL_MAX) {
		/* a process floods changes while nobody confirms them */
		p->stats[TTYRFC_STAT_CTRL_REFUSED]++;
		ret = -ENOBUFS;
	} else {
		c->seq = p->ctrl_seq++;
		c->pos = p->tx_queued;
		ttyrfc_apply(&p->cur, c);
		list_add_tail(&c->node, &p->ctrl);
		p->nctrl++;
		if (!p->ctrl_next)
			p->ctrl_next = c;
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (ret) {
		kfree(c);
		return ret < 0 ? ret : 0;
	}
	/*
	 * Callers run in process context: send from here when no one else
	 * is sending, which saves a worker wake-up on the path esptool's
	 * resets take. The worker takes over if anything is left.
	 */
	if (mutex_trylock(&p->send_mutex)) {
		ret = ttyrfc_pump(p);
		mutex_unlock(&p->send_mutex);
		if (ret == -ENODATA)
			return 0;
	}
	ttyrfc_queue_kick(p);
	return 0;
}

unsigned int ttyrfc_queue_room(struct ttyrfc_port *p)
{
	unsigned long flags;
	unsigned int room;

	spin_lock_irqsave(&p->lock, flags);
	room = TTYRFC_TX_BUF - (p->tx_queued - p->tx_acked);
	spin_unlock_irqrestore(&p->lock, flags);
	return room;
}

/* Bytes the server's TCP has not acknowledged: what tcdrain waits for. */
unsigned int ttyrfc_queue_pending(struct ttyrfc_port *p)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&p->lock, flags);
	n = p->tx_queued - p->tx_acked;
	spin_unlock_irqrestore(&p->lock, flags);
	return n;
}

/* TCOFLUSH, hangup: drop data not yet handed to the helper, and count it. */
void ttyrfc_queue_flush(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->stats[TTYRFC_STAT_TX_FLUSHED] += p->tx_queued - p->tx_sent;
	p->tx_queued = p->tx_sent;
	list_for_each_entry(c, &p->ctrl, node)
		c->pos = min(c->pos, p->tx_queued);
	spin_unlock_irqrestore(&p->lock, flags);
}

/* A session failed: the next one starts again at the confirmed point. */
void ttyrfc_queue_rewind_locked(struct ttyrfc_port *p)
{
	p->stats[TTYRFC_STAT_TX_RESENT] += p->tx_sent - p->tx_acked;
	p->tx_sent = p->tx_acked;
	p->ctrl_next = list_first_entry_or_null(&p->ctrl, struct ttyrfc_ctrl,
						node);
	p->gen++;
}

static void ttyrfc_ctrl_free_all_locked(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c, *tmp;

	list_for_each_entry_safe(c, tmp, &p->ctrl, node) {
		list_del(&c->node);
		kfree(c);
	}
	p->nctrl = 0;
	p->ctrl_next = NULL;
	p->ctrl_acked = p->ctrl_seq;
}

/*
 * The port is closed: what is left is either with the helper (@handed) or
 * can go nowhere and is counted as discarded. The stream starts empty for
 * the next open, at the same positions.
 */
void ttyrfc_queue_reset_locked(struct ttyrfc_port *p, bool handed)
{
	if (!handed)
		p->stats[TTYRFC_STAT_TX_DISCARDED] += p->tx_queued - p->tx_acked;
	p->tx_acked = p->tx_queued;
	p->tx_sent = p->tx_queued;
	ttyrfc_ctrl_free_all_locked(p);
	p->base = p->cur;
	p->gen++;
}

/*
 * CONFIRM: the server's TCP acknowledged everything before data position
 * @pos and control number @seq. Only a consistent prefix of what was sent
 * is accepted: no change confirmed without the data before it, no data
 * confirmed past a change that is not.
 */
int ttyrfc_queue_confirm(struct ttyrfc_port *p, u32 sid, u64 pos, u64 seq)
{
	struct ttyrfc_ctrl *c, *tmp;
	unsigned long flags;
	u64 sent_seq;
	int ret = 0;

	spin_lock_irqsave(&p->lock, flags);
	if (!ttyrfc_session_check_locked(p, sid)) {
		ret = -ESTALE;
		goto out;
	}
	sent_seq = p->ctrl_next ? p->ctrl_next->seq : p->ctrl_seq;
	if (pos < p->tx_acked || pos > p->tx_sent ||
	    seq < p->ctrl_acked || seq > sent_seq) {
		ret = -ERANGE;
		goto bad;
	}
	list_for_each_entry(c, &p->ctrl, node) {
		if (c->seq < seq ? c->pos > pos : c->pos < pos) {
			ret = -EINVAL;
			goto bad;
		}
		if (c->seq >= seq)
			break;
	}
	list_for_each_entry_safe(c, tmp, &p->ctrl, node) {
		if (c->seq >= seq)
			break;
		ttyrfc_apply(&p->base, c);
		list_del(&c->node);
		p->nctrl--;
		kfree(c);
	}
	p->ctrl_acked = seq;
	p->icount.tx += pos - p->tx_acked;
	p->stats[TTYRFC_STAT_TX_BYTES] += pos - p->tx_acked;
	p->tx_acked = pos;
	spin_unlock_irqrestore(&p->lock, flags);
	/* writers wait for room, tcdrain and close for nothing pending */
	tty_port_tty_wakeup(&p->port);
	return 0;
bad:
	p->stats[TTYRFC_STAT_BAD_MSGS]++;
out:
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/*
 * write() gives tx_busy back. True if the worker is wanted: it found
 * tx_busy taken meanwhile, or something is left to send.
 */
static bool ttyrfc_direct_release(struct ttyrfc_port *p)
{
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&p->lock, flags);
	p->tx_busy = false;
	kick = p->tx_rekick || p->tx_sent != p->tx_queued || p->ctrl_next ||
	       p->rx_notify || p->sess != TTYRFC_SESS_RUNNING;
	p->tx_rekick = false;
	spin_unlock_irqrestore(&p->lock, flags);
	return kick;
}

/*
 * May write() send its @n bytes itself, now? Only into an idle stream:
 * nothing else waiting to be sent, and little sent but unconfirmed (the
 * last request, whose confirmation may come just after its answer). That
 * is a request that wants its answer (esptool, a keystroke), where a
 * worker's wake-up is latency; a stream keeps going through the worker,
 * which batches what the writes bring meanwhile into fewer, larger
 * messages. Not with interrupts off (netlink's delivery wants them on).
 * Takes tx_busy.
 */
static bool ttyrfc_direct_locked(struct ttyrfc_port *p, unsigned long flags,
				 unsigned int n)
{
	if (p->tx_sent - p->tx_acked >= TTYRFC_DIRECT_INFLIGHT ||
	    p->tx_queued - n != p->tx_sent ||
	    irqs_disabled_flags(flags) || p->tx_busy || p->dying ||
	    p->sess != TTYRFC_SESS_RUNNING || p->link != TTYRFC_LINK_UP ||
	    p->rx_notify || READ_ONCE(p->retry_ms) ||
	    READ_ONCE(p->tx_stopped) || !ttyrfc_helper_present() ||
	    (p->ctrl_next && p->ctrl_next->pos <= p->tx_sent))
		return false;
	p->tx_busy = true;
	return true;
}

/* Send the OPEN of the session being started. */
static int ttyrfc_pump_open(struct ttyrfc_port *p, unsigned long flags)
	__releases(&p->lock)
{
	struct ttyrfc_open_msg m = {
		.sid = p->sid,
		.kind = p->open_kind,
		.tx_pos = p->tx_acked,
		.ctrl_seq = p->ctrl_acked,
		.rx_pos = p->rx_pos,
		.rx_limit = p->rx_limit,
		.s = p->base,
	};
	int ret;

	spin_unlock_irqrestore(&p->lock, flags);
	ret = ttyrfc_nl_open(p, &m);
	spin_lock_irqsave(&p->lock, flags);
	if (!ret && p->sid == m.sid && p->sess == TTYRFC_SESS_OPENING) {
		p->sess = TTYRFC_SESS_RUNNING;
		p->rx_limit_sent = m.rx_limit;
		p->rx_notify = p->rx_limit > m.rx_limit;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

static int ttyrfc_pump_rx_limit(struct ttyrfc_port *p, unsigned long flags)
	__releases(&p->lock)
{
	u64 limit = p->rx_limit;
	u32 sid = p->sid;
	int ret;

	p->rx_notify = false;
	spin_unlock_irqrestore(&p->lock, flags);
	ret = ttyrfc_nl_rx_limit(p, sid, limit);
	spin_lock_irqsave(&p->lock, flags);
	if (p->sid == sid) {
		if (ret)
			p->rx_notify = true;
		else
			p->rx_limit_sent = max(p->rx_limit_sent, limit);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/*
 * Up to TTYRFC_MAX_DATA ring bytes, not past the next control change, to
 * a running session whose link is up. Under tx_busy. Sleeps only if @gfp
 * may.
 */
static int ttyrfc_pump_data(struct ttyrfc_port *p, unsigned long flags,
			    gfp_t gfp)
	__releases(&p->lock)
{
	unsigned int n, pos, first;
	struct sk_buff *skb;
	u64 start, limit;
	u32 gen, sid;
	u8 *data;
	int ret;

	limit = p->ctrl_next ? p->ctrl_next->pos : p->tx_queued;
	n = min_t(u64, limit - p->tx_sent, TTYRFC_MAX_DATA);
	sid = p->sid;
	spin_unlock_irqrestore(&p->lock, flags);

	skb = ttyrfc_nl_tx_alloc(n, gfp);
	if (!skb)
		return -ENOMEM;

	spin_lock_irqsave(&p->lock, flags);
	/*
	 * A flush, a rewind or a new session may have come in between: look
	 * again, and send nothing to a session that is not the one we saw
	 * running (its OPEN would come after the data).
	 */
	limit = p->ctrl_next ? p->ctrl_next->pos : p->tx_queued;
	n = min_t(u64, n, limit - p->tx_sent);
	if (p->sid != sid || p->link != TTYRFC_LINK_UP ||
	    READ_ONCE(p->tx_stopped) || !n) {
		spin_unlock_irqrestore(&p->lock, flags);
		ttyrfc_nl_free(skb);
		return 0;	/* look at the queue again */
	}
	start = p->tx_sent;
	data = ttyrfc_nl_tx_fill(skb, p, p->sid, start, n);
	if (!data) {
		spin_unlock_irqrestore(&p->lock, flags);
		ttyrfc_nl_free(skb);
		return -EMSGSIZE;
	}
	pos = start & (TTYRFC_TX_BUF - 1);
	first = min(n, TTYRFC_TX_BUF - pos);
	memcpy(data, p->buf + pos, first);
	memcpy(data + first, p->buf, n - first);
	p->tx_sent += n;
	gen = p->gen;
	spin_unlock_irqrestore(&p->lock, flags);

	ret = ttyrfc_nl_send(skb);
	spin_lock_irqsave(&p->lock, flags);
	if (ret) {
		if (p->gen == gen && p->tx_sent == start + n)
			p->tx_sent = max(start, p->tx_acked);
	} else {
		p->stats[TTYRFC_STAT_TX_MSGS]++;
		if (!gfpflags_allow_blocking(gfp))
			p->stats[TTYRFC_STAT_TX_DIRECT]++;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/*
 * Copy from a tty write into the ring, and send it on at once if no one
 * else is sending. Never sleeps.
 */
unsigned int ttyrfc_queue_write(struct ttyrfc_port *p, const u8 *data,
				unsigned int len)
{
	unsigned int pos, n, first;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&p->lock, flags);
	n = min_t(u64, len, TTYRFC_TX_BUF - (p->tx_queued - p->tx_acked));
	pos = p->tx_queued & (TTYRFC_TX_BUF - 1);
	first = min(n, TTYRFC_TX_BUF - pos);
	memcpy(p->buf + pos, data, first);
	memcpy(p->buf, data + first, n - first);
	p->tx_queued += n;
	if (n && ttyrfc_direct_locked(p, flags, n)) {
		/* releases the lock; anything left or failed: the worker */
		ret = ttyrfc_pump_data(p, flags, GFP_ATOMIC | __GFP_NOWARN);
		if (!ttyrfc_direct_release(p) && !ret)
			return n;
	} else {
		spin_unlock_irqrestore(&p->lock, flags);
		if (!n)
			return 0;
	}
	ttyrfc_queue_kick(p);
	return n;
}

static int ttyrfc_pump_ctrl(struct ttyrfc_port *p, unsigned long flags)
	__releases(&p->lock)
{
	struct ttyrfc_ctrl *c = p->ctrl_next, copy = *c;
	u32 sid = p->sid, gen = p->gen;
	int ret;

	/*
	 * @c stays the next one to send until it is sent: a CONFIRM cannot
	 * free it meanwhile, since it may only cover changes already sent.
	 */
	spin_unlock_irqrestore(&p->lock, flags);
	ret = ttyrfc_nl_set(p, sid, &copy);
	spin_lock_irqsave(&p->lock, flags);
	if (!ret && p->gen == gen && p->ctrl_next == c)
		p->ctrl_next = list_is_last(&c->node, &p->ctrl) ? NULL :
			       list_next_entry(c, node);
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

static int ttyrfc_pump_close(struct ttyrfc_port *p, unsigned long flags)
	__releases(&p->lock)
{
	u32 sid = p->sid;
	int ret;

	spin_unlock_irqrestore(&p->lock, flags);
	ret = ttyrfc_nl_close(p, sid);
	spin_lock_irqsave(&p->lock, flags);
	/* the helper delivers the tail and ends the connection */
	if (!ret && p->sid == sid) {
		ttyrfc_queue_reset_locked(p, true);
		ttyrfc_session_ended_locked(p);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/*
 * Send the next thing due. 0: something was sent (or looked at again),
 * -ENODATA: nothing left, -EAGAIN/-ENOBUFS/-ENOMEM: try again later,
 * anything else: the helper is gone (the next one gets a replay).
 */
static int ttyrfc_pump_item(struct ttyrfc_port *p, unsigned long flags)
	__releases(&p->lock)
{
	u64 limit;

	if (p->sess == TTYRFC_SESS_OPENING)
		return ttyrfc_pump_open(p, flags);
	if (p->rx_notify)
		return ttyrfc_pump_rx_limit(p, flags);
	/*
	 * The stream waits here while the link is down: what is written
	 * meanwhile stays in the ring, where TCOFLUSH can still drop it.
	 */
	if (p->link != TTYRFC_LINK_UP)
		goto idle;
	limit = p->ctrl_next ? p->ctrl_next->pos : p->tx_queued;
	if (p->tx_sent < limit && !READ_ONCE(p->tx_stopped))
		return ttyrfc_pump_data(p, flags, GFP_KERNEL);
	/* a stopped tty holds its data, not the changes made before it */
	if (p->ctrl_next && p->ctrl_next->pos == p->tx_sent)
		return ttyrfc_pump_ctrl(p, flags);
idle:
	if (p->sess == TTYRFC_SESS_CLOSING && p->tx_sent == p->tx_queued &&
	    !p->ctrl_next)
		return ttyrfc_pump_close(p, flags);
	spin_unlock_irqrestore(&p->lock, flags);
	return -ENODATA;
}

static int ttyrfc_pump_one(struct ttyrfc_port *p)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&p->lock, flags);
	if (p->dying || !p->sid || !ttyrfc_helper_present()) {
		spin_unlock_irqrestore(&p->lock, flags);
		return -ENODATA;	/* replayed when a helper says HELLO */
	}
	if (p->tx_busy) {
		/* a write() is sending: it runs the worker when done */
		p->tx_rekick = true;
		spin_unlock_irqrestore(&p->lock, flags);
		return -EBUSY;
	}
	p->tx_busy = true;
	ret = ttyrfc_pump_item(p, flags);

	spin_lock_irqsave(&p->lock, flags);
	p->tx_busy = false;
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/*
 * Hand everything due to the helper, in order. Under send_mutex. -EBUSY:
 * a write() is sending, and runs the worker when it is done.
 */
int ttyrfc_pump(struct ttyrfc_port *p)
{
	int ret;

	lockdep_assert_held(&p->send_mutex);
	do {
		ret = ttyrfc_pump_one(p);
		cond_resched();
	} while (!ret);
	return ret;
}

static void ttyrfc_work(struct work_struct *work)
{
	struct ttyrfc_port *p = container_of(to_delayed_work(work),
					     struct ttyrfc_port, work);
	unsigned long flags;
	int ret;

	ttyrfc_rx_credit(p);

	mutex_lock(&p->send_mutex);
	ret = ttyrfc_pump(p);
	mutex_unlock(&p->send_mutex);

	spin_lock_irqsave(&p->lock, flags);
	if (ret == -EAGAIN || ret == -ENOBUFS || ret == -ENOMEM) {
		/* the helper's socket is full: back off, don't spin */
		WRITE_ONCE(p->retry_ms,
			   clamp(p->retry_ms * 2, 1U, TTYRFC_RETRY_MAX_MS));
		if (!p->dying)
			queue_delayed_work(ttyrfc_wq, &p->work,
					   msecs_to_jiffies(p->retry_ms));
	} else {
		WRITE_ONCE(p->retry_ms, 0);
	}
	spin_unlock_irqrestore(&p->lock, flags);
}

/*
 * Something is due: run the worker now, even if it was set to look at the
 * receive credit later; but not while it backs off from a full socket.
 */
void ttyrfc_queue_kick(struct ttyrfc_port *p)
{
	if (READ_ONCE(p->dying))
		return;
	if (READ_ONCE(p->retry_ms))
		queue_delayed_work(ttyrfc_wq, &p->work, 0);
	else
		mod_delayed_work(ttyrfc_wq, &p->work, 0);
}

/* Run the worker after @ms, e.g. to look at receive credit again. */
void ttyrfc_queue_later(struct ttyrfc_port *p, unsigned int ms)
{
	if (!READ_ONCE(p->dying))
		queue_delayed_work(ttyrfc_wq, &p->work, msecs_to_jiffies(ms));
}

int ttyrfc_queue_init(struct ttyrfc_port *p)
{
	p->buf = kvmalloc(TTYRFC_TX_BUF, GFP_KERNEL);
	if (!p->buf)
		return -ENOMEM;
	mutex_init(&p->send_mutex);
	INIT_LIST_HEAD(&p->ctrl);
	INIT_DELAYED_WORK(&p->work, ttyrfc_work);
	return 0;
}

/* The port is being freed: nobody can queue any more. */
void ttyrfc_queue_free(struct ttyrfc_port *p)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->dying = true;
	spin_unlock_irqrestore(&p->lock, flags);
	/* the worker re-arms itself only while !dying */
	cancel_delayed_work_sync(&p->work);

	spin_lock_irqsave(&p->lock, flags);
	ttyrfc_ctrl_free_all_locked(p);
	spin_unlock_irqrestore(&p->lock, flags);
	kvfree(p->buf);
	mutex_destroy(&p->send_mutex);
}

int ttyrfc_queue_setup(void)
{
	/*
	 * High priority: every byte written waits for this worker. Unbound:
	 * nothing here is per-CPU, and since 6.17 (and Debian's 6.12.117) a
	 * workqueue must say which it is, or alloc_workqueue() warns.
	 */
	ttyrfc_wq = alloc_workqueue("ttyrfc",
				    WQ_UNBOUND | WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	return ttyrfc_wq ? 0 : -ENOMEM;
}

void ttyrfc_queue_teardown(void)
{
	destroy_workqueue(ttyrfc_wq);
}
