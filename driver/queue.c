// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the per-port ordered queue towards the helper.
 *
 * write() may run where sleeping is forbidden, so it only copies into a
 * ring buffer. Settings and modem-line changes are queued as control
 * messages tagged with the ring position at the time they were made; the
 * worker sends the ring up to that position, then the message, so the helper
 * sees everything in the order the process did it.
 *
 * Bytes stay in the ring until the helper confirms it wrote them to its TCP
 * socket (TX_DONE). That confirmation is the kernel->helper credit, and if
 * the helper dies, unconfirmed bytes are simply sent again to its successor.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/genetlink.h>

#include "ttyrfc.h"

static struct workqueue_struct *ttyrfc_wq;

static bool ttyrfc_tx_pump(struct ttyrfc_port *p);

struct ttyrfc_ctrl *ttyrfc_ctrl_alloc(u8 cmd, gfp_t gfp)
{
	struct ttyrfc_ctrl *c = kzalloc(sizeof(*c), gfp);

	if (c) {
		INIT_LIST_HEAD(&c->node);
		c->cmd = cmd;
	}
	return c;
}

static void ttyrfc_ctrl_free(struct ttyrfc_port *p, struct ttyrfc_ctrl *c)
{
	if (c != &p->close_ctrl)
		kfree(c);
}

/*
 * Queue @c behind everything written so far. Takes ownership of @c.
 * Fails only when a process floods control changes while nobody drains them.
 */
int ttyrfc_queue_ctrl(struct ttyrfc_port *p, struct ttyrfc_ctrl *c)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&p->lock, flags);
	if (c == &p->close_ctrl && !list_empty(&c->node)) {
		/* already queued */
	} else if (p->nctrl >= TTYRFC_CTRL_MAX && c != &p->close_ctrl) {
		p->ctrl_dropped++;
		ret = -ENOBUFS;
	} else {
		c->seq = p->tx_queued;
		list_add_tail(&c->node, &p->ctrl);
		p->nctrl++;
	}
	spin_unlock_irqrestore(&p->lock, flags);

	if (ret) {
		kfree(c);
		return ret;
	}
	/*
	 * Callers run in process context: send from here when no one else is
	 * sending, which saves a worker wake-up on the path esptool's resets
	 * take. The worker still runs if anything is left.
	 */
	might_sleep();
	if (mutex_trylock(&p->send_mutex)) {
		bool done = ttyrfc_tx_pump(p);

		mutex_unlock(&p->send_mutex);
		if (done)
			return 0;
	}
	ttyrfc_queue_kick(p);
	return 0;
}

/*
 * A new session starts: data of the old one is gone (close drained or
 * flushed it), but control messages not yet sent, such as its CLOSE and a
 * HUPCL drop of DTR/RTS, still go out first.
 */
void ttyrfc_queue_reset(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	list_for_each_entry(c, &p->ctrl, node)
		c->seq = 0;
	p->tx_queued = 0;
	p->tx_sent = 0;
	p->tx_done = 0;
	p->gen++;
	p->rx_notify = false;
	p->throttled = false;
	p->rx_blocked = false;
	spin_unlock_irqrestore(&p->lock, flags);
}

/* The port is going away: drop whatever is still queued. */
static void ttyrfc_queue_drop(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c, *tmp;
	unsigned long flags;
	LIST_HEAD(drop);

	spin_lock_irqsave(&p->lock, flags);
	list_splice_init(&p->ctrl, &drop);
	p->nctrl = 0;
	spin_unlock_irqrestore(&p->lock, flags);

	list_for_each_entry_safe(c, tmp, &drop, node) {
		list_del_init(&c->node);
		ttyrfc_ctrl_free(p, c);
	}
}

/*
 * The helper went away: whatever it had not confirmed is sent again to the
 * next one. @open, if not NULL, is queued first so the new helper learns
 * the port before its data.
 */
void ttyrfc_queue_rewind(struct ttyrfc_port *p, struct ttyrfc_ctrl *open)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->tx_sent = p->tx_done;
	p->gen++;
	if (open) {
		open->seq = p->tx_sent;
		list_add(&open->node, &p->ctrl);
		p->nctrl++;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	if (open)
		ttyrfc_queue_kick(p);
}

/* Drop data not yet handed to the helper (TCOFLUSH, hangup). */
void ttyrfc_queue_flush(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	p->tx_queued = p->tx_sent;
	list_for_each_entry(c, &p->ctrl, node)
		c->seq = min(c->seq, p->tx_queued);
	spin_unlock_irqrestore(&p->lock, flags);
}

/* Copy from a tty write into the ring. Never sleeps. */
unsigned int ttyrfc_queue_write(struct ttyrfc_port *p, const u8 *data,
				unsigned int len)
{
	unsigned int pos, n, first;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	n = min_t(u64, len, TTYRFC_TX_BUF - (p->tx_queued - p->tx_done));
	pos = p->tx_queued & (TTYRFC_TX_BUF - 1);
	first = min(n, TTYRFC_TX_BUF - pos);
	memcpy(p->buf + pos, data, first);
	memcpy(p->buf, data + first, n - first);
	p->tx_queued += n;
	spin_unlock_irqrestore(&p->lock, flags);

	if (n)
		ttyrfc_queue_kick(p);
	return n;
}

unsigned int ttyrfc_queue_room(struct ttyrfc_port *p)
{
	unsigned long flags;
	unsigned int room;

	spin_lock_irqsave(&p->lock, flags);
	room = TTYRFC_TX_BUF - (p->tx_queued - p->tx_done);
	spin_unlock_irqrestore(&p->lock, flags);
	return room;
}

unsigned int ttyrfc_queue_pending(struct ttyrfc_port *p)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&p->lock, flags);
	n = p->tx_queued - p->tx_done;
	spin_unlock_irqrestore(&p->lock, flags);
	return n;
}

/* The helper wrote @bytes to the network: free them. */
void ttyrfc_queue_done(struct ttyrfc_port *p, u32 bytes)
{
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	if (bytes > p->tx_sent - p->tx_done) {
		/* stale confirmation from before a reset, or a buggy helper */
		p->proto_errors++;
		bytes = p->tx_sent - p->tx_done;
	}
	p->tx_done += bytes;
	p->tx_bytes += bytes;
	spin_unlock_irqrestore(&p->lock, flags);

	tty_port_tty_wakeup(&p->port);
}

/* Send up to TTYRFC_MAX_DATA ring bytes below @limit; 0 or -errno. */
static int ttyrfc_tx_data(struct ttyrfc_port *p)
{
	unsigned int pos, n, first;
	struct ttyrfc_ctrl *c;
	unsigned long flags;
	struct sk_buff *skb;
	struct nlattr *nla;
	u64 start, limit;
	void *hdr;
	u32 gen;
	int ret;

	skb = ttyrfc_event_new(p, TTYRFC_CMD_TX, nla_total_size(TTYRFC_MAX_DATA),
			       &hdr);
	if (!skb)
		return -ENOMEM;

	spin_lock_irqsave(&p->lock, flags);
	c = list_first_entry_or_null(&p->ctrl, struct ttyrfc_ctrl, node);
	limit = c ? c->seq : p->tx_queued;
	n = min_t(u64, limit - p->tx_sent, TTYRFC_MAX_DATA);
	if (!n) {
		spin_unlock_irqrestore(&p->lock, flags);
		nlmsg_free(skb);
		return -ENODATA;
	}
	nla = nla_reserve(skb, TTYRFC_A_DATA, n);
	start = p->tx_sent;
	pos = start & (TTYRFC_TX_BUF - 1);
	first = min(n, TTYRFC_TX_BUF - pos);
	memcpy(nla_data(nla), p->buf + pos, first);
	memcpy((u8 *)nla_data(nla) + first, p->buf, n - first);
	p->tx_sent += n;
	gen = p->gen;
	spin_unlock_irqrestore(&p->lock, flags);

	ret = ttyrfc_event_send(skb, hdr);
	if (ret) {
		spin_lock_irqsave(&p->lock, flags);
		if (p->gen == gen && p->tx_sent == start + n)
			p->tx_sent = start;
		spin_unlock_irqrestore(&p->lock, flags);
	}
	return ret;
}

static int ttyrfc_tx_ctrl(struct ttyrfc_port *p)
{
	struct ttyrfc_ctrl *c;
	unsigned long flags;
	u32 gen;
	int ret;

	spin_lock_irqsave(&p->lock, flags);
	c = list_first_entry_or_null(&p->ctrl, struct ttyrfc_ctrl, node);
	if (!c || c->seq != p->tx_sent) {
		spin_unlock_irqrestore(&p->lock, flags);
		return -ENODATA;
	}
	list_del_init(&c->node);
	p->nctrl--;
	gen = p->gen;
	spin_unlock_irqrestore(&p->lock, flags);

	ret = ttyrfc_send_ctrl(p, c);
	if (ret) {
		spin_lock_irqsave(&p->lock, flags);
		if (p->gen == gen) {
			list_add(&c->node, &p->ctrl);
			p->nctrl++;
			c = NULL;
		}
		spin_unlock_irqrestore(&p->lock, flags);
	}
	if (c)
		ttyrfc_ctrl_free(p, c);
	return ret;
}

/* Tell the helper whether it may read from the server. */
static int ttyrfc_tx_rx_state(struct ttyrfc_port *p)
{
	unsigned long flags;
	bool notify, blocked;
	int ret;

	spin_lock_irqsave(&p->lock, flags);
	notify = p->rx_notify;
	blocked = p->rx_blocked;
	p->rx_notify = false;
	spin_unlock_irqrestore(&p->lock, flags);
	if (!notify)
		return -ENODATA;

	ret = ttyrfc_send_simple(p, blocked ? TTYRFC_CMD_RX_STOP :
				 TTYRFC_CMD_RX_READY);
	if (ret) {
		spin_lock_irqsave(&p->lock, flags);
		p->rx_notify = true;
		spin_unlock_irqrestore(&p->lock, flags);
	}
	return ret;
}

/*
 * Hand everything queued to the helper, in order. Only one sender at a
 * time (send_mutex), always the head of the queue, so whoever sends keeps
 * the order. Returns false if the worker should take over later.
 */
static bool ttyrfc_tx_pump(struct ttyrfc_port *p)
{
	int ret;

	for (;;) {
		if (!ttyrfc_helper_present())
			return true;	/* replayed when it returns */
		ret = ttyrfc_tx_rx_state(p);
		if (ret == -ENODATA)
			ret = ttyrfc_tx_data(p);
		if (ret == -ENODATA)
			ret = ttyrfc_tx_ctrl(p);
		if (ret == -ENODATA)
			return true;	/* nothing left */
		if (ret == -EAGAIN || ret == -ENOMEM || ret == -ENOBUFS)
			return false;
		if (ret)
			return true;	/* helper gone; replayed on return */
		cond_resched();
	}
}

static void ttyrfc_tx_work(struct work_struct *work)
{
	struct ttyrfc_port *p = container_of(work, struct ttyrfc_port, tx_work);
	bool done;

	mutex_lock(&p->send_mutex);
	done = ttyrfc_tx_pump(p);
	mutex_unlock(&p->send_mutex);
	/* helper's socket full: rare, so a short retry is fine */
	if (!done)
		queue_delayed_work(ttyrfc_wq, &p->retry_work, 1);
}

static void ttyrfc_retry_work(struct work_struct *work)
{
	struct ttyrfc_port *p = container_of(to_delayed_work(work),
					     struct ttyrfc_port, retry_work);

	ttyrfc_queue_kick(p);
}

/*
 * The flip buffers ran short without the line discipline throttling us (it
 * only throttles when its own buffer fills), so nothing will call
 * unthrottle: look again shortly. Off the data path; rare.
 */
static void ttyrfc_rx_poll_work(struct work_struct *work)
{
	struct ttyrfc_port *p = container_of(to_delayed_work(work),
					     struct ttyrfc_port, rx_poll_work);

	if (READ_ONCE(p->active))
		ttyrfc_rx_check(p);
}

void ttyrfc_queue_rx_poll(struct ttyrfc_port *p)
{
	queue_delayed_work(ttyrfc_wq, &p->rx_poll_work, msecs_to_jiffies(10));
}

void ttyrfc_queue_kick(struct ttyrfc_port *p)
{
	queue_work(ttyrfc_wq, &p->tx_work);
}

int ttyrfc_queue_init(struct ttyrfc_port *p)
{
	p->buf = kvmalloc(TTYRFC_TX_BUF, GFP_KERNEL);
	if (!p->buf)
		return -ENOMEM;
	spin_lock_init(&p->lock);
	mutex_init(&p->send_mutex);
	INIT_LIST_HEAD(&p->ctrl);
	INIT_LIST_HEAD(&p->close_ctrl.node);
	p->close_ctrl.cmd = TTYRFC_CMD_CLOSE;
	INIT_WORK(&p->tx_work, ttyrfc_tx_work);
	INIT_DELAYED_WORK(&p->retry_work, ttyrfc_retry_work);
	INIT_DELAYED_WORK(&p->rx_poll_work, ttyrfc_rx_poll_work);
	return 0;
}

/* Port is being freed: nothing can queue any more. */
void ttyrfc_queue_free(struct ttyrfc_port *p)
{
	cancel_delayed_work_sync(&p->retry_work);
	cancel_delayed_work_sync(&p->rx_poll_work);
	cancel_work_sync(&p->tx_work);
	ttyrfc_queue_drop(p);
	kvfree(p->buf);
}

int ttyrfc_queue_setup(void)
{
	/* high priority: every byte written waits for this worker */
	ttyrfc_wq = alloc_workqueue("ttyrfc", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	return ttyrfc_wq ? 0 : -ENOMEM;
}

void ttyrfc_queue_teardown(void)
{
	destroy_workqueue(ttyrfc_wq);
}
