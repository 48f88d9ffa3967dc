/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ttyrfc: internal definitions shared by the driver's files.
 *
 * One struct ttyrfc_port per /dev/ttyRFC<n>. Everything the tty side does
 * to a port (data, settings, modem lines, open/close) goes through one
 * ordered queue: data bytes sit in a ring buffer, control messages in a list
 * tagged with the ring position they were queued at. A worker drains both
 * in that order and hands them to the helper as netlink messages.
 */
#ifndef _TTYRFC_H
#define _TTYRFC_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/serial.h>
#include <linux/spinlock.h>
#include <linux/tty.h>
#include <linux/tty_port.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/ttyrfc.h>

#define TTYRFC_HOST_MAX		255
#define TTYRFC_NAME_MAX		63
#define TTYRFC_TX_BUF		TTYRFC_TX_WINDOW /* ring size, power of 2 */
#define TTYRFC_CTRL_MAX		4096	/* queued control messages per port */

/* Line settings as RFC 2217 wants them; what the helper should apply. */
struct ttyrfc_settings {
	u32 baud;
	u8 datasize;
	u8 parity;
	u8 stopsize;
	u8 flow;
	u32 mctrl;		/* TTYRFC_MCTRL_* */
};

/* Which fields of a control message are present. */
enum {
	TTYRFC_SET_BAUD		= BIT(0),
	TTYRFC_SET_DATASIZE	= BIT(1),
	TTYRFC_SET_PARITY	= BIT(2),
	TTYRFC_SET_STOPSIZE	= BIT(3),
	TTYRFC_SET_FLOW		= BIT(4),
	TTYRFC_SET_MCTRL	= BIT(5),
	TTYRFC_SET_BREAK	= BIT(6),
	TTYRFC_SET_PURGE	= BIT(7),
	TTYRFC_SET_SUSPEND	= BIT(8),
	TTYRFC_SET_LINE		= 0x1f,	/* baud..flow */
};

struct ttyrfc_ctrl {
	struct list_head node;
	u64 seq;		/* ring position: send after bytes < seq */
	u8 cmd;			/* TTYRFC_CMD_OPEN, _CLOSE or _SET */
	u32 mask;		/* TTYRFC_SET_* present */
	u32 mctrl_mask;
	struct ttyrfc_settings s;
	u8 brk;
	u8 purge;
	u8 suspend;
};

struct ttyrfc_port {
	struct tty_port port;
	unsigned int index;
	struct device *dev;
	char host[TTYRFC_HOST_MAX + 1];
	u16 tcp_port;
	char name[TTYRFC_NAME_MAX + 1];
	u32 flags;
	bool dead;		/* removed: no new opens */

	/* Ordered queue to the helper; all fields under @lock. */
	spinlock_t lock;
	u8 *buf;		/* TX ring, TTYRFC_TX_BUF bytes */
	u64 tx_queued;		/* bytes ever written by the tty */
	u64 tx_sent;		/* bytes ever handed to the helper */
	u64 tx_done;		/* bytes the helper confirmed written */
	struct list_head ctrl;
	unsigned int nctrl;
	u32 gen;		/* bumped when the queue is reset or rewound */
	struct ttyrfc_ctrl close_ctrl;	/* preallocated: close cannot fail */
	bool rx_notify;		/* RX_STOP/RX_READY event pending */
	bool throttled;
	bool rx_blocked;	/* helper told to stop sending */
	struct mutex send_mutex;	/* one sender at a time keeps order */
	struct work_struct tx_work;
	struct delayed_work retry_work;
	struct delayed_work rx_poll_work;

	/* Link and modem state, under @lock. */
	bool active;		/* open and linked (or relinking) */
	u8 link;		/* enum ttyrfc_link */
	int link_err;
	wait_queue_head_t link_wait;
	struct ttyrfc_settings cur;	/* as last queued to the helper */
	u8 msr;
	struct async_icount icount;

	/* counters */
	u64 tx_bytes;
	u64 rx_bytes;
	u64 rx_dropped;
	u32 open_count;
	u32 ctrl_dropped;
	u32 reconnects;
	u32 proto_errors;	/* bad messages from the helper */
	u32 helper_errors;	/* protocol errors the helper saw */
};

static inline struct ttyrfc_port *to_rport(struct tty_port *port)
{
	return container_of(port, struct ttyrfc_port, port);
}

#define TTYRFC_PORTS_LIMIT	256

/* main.c: port registry */
extern struct tty_driver *ttyrfc_driver;
struct ttyrfc_port *ttyrfc_port_get(unsigned int index);
struct ttyrfc_port *ttyrfc_port_next(unsigned int *index);
void ttyrfc_port_put(struct ttyrfc_port *p);
int ttyrfc_port_create(const char *host, u16 tcp_port, const char *name,
		       u32 flags);
int ttyrfc_port_destroy(unsigned int index);

/* tty.c */
extern const struct tty_operations ttyrfc_tty_ops;
extern const struct tty_port_operations ttyrfc_port_ops;
void ttyrfc_link_changed(struct ttyrfc_port *p, u8 state, int err);
void ttyrfc_modem_changed(struct ttyrfc_port *p, u8 msr);
void ttyrfc_line_changed(struct ttyrfc_port *p, u8 lsr);
void ttyrfc_rx(struct ttyrfc_port *p, const u8 *data, size_t len);
void ttyrfc_port_replay(struct ttyrfc_port *p);
void ttyrfc_port_helper_gone(struct ttyrfc_port *p);
void ttyrfc_rx_check(struct ttyrfc_port *p);

/* queue.c */
int ttyrfc_queue_setup(void);
void ttyrfc_queue_teardown(void);
int ttyrfc_queue_init(struct ttyrfc_port *p);
void ttyrfc_queue_free(struct ttyrfc_port *p);
struct ttyrfc_ctrl *ttyrfc_ctrl_alloc(u8 cmd, gfp_t gfp);
int ttyrfc_queue_ctrl(struct ttyrfc_port *p, struct ttyrfc_ctrl *c);
void ttyrfc_queue_reset(struct ttyrfc_port *p);
void ttyrfc_queue_rewind(struct ttyrfc_port *p, struct ttyrfc_ctrl *open);
void ttyrfc_queue_flush(struct ttyrfc_port *p);
unsigned int ttyrfc_queue_write(struct ttyrfc_port *p, const u8 *data,
				unsigned int len);
unsigned int ttyrfc_queue_room(struct ttyrfc_port *p);
unsigned int ttyrfc_queue_pending(struct ttyrfc_port *p);
void ttyrfc_queue_done(struct ttyrfc_port *p, u32 bytes);
void ttyrfc_queue_kick(struct ttyrfc_port *p);
void ttyrfc_queue_rx_poll(struct ttyrfc_port *p);

/* netlink.c */
int ttyrfc_genl_init(void);
void ttyrfc_genl_exit(void);
bool ttyrfc_helper_present(void);
struct sk_buff *ttyrfc_event_new(struct ttyrfc_port *p, u8 cmd,
				 size_t payload, void **hdr);
int ttyrfc_event_send(struct sk_buff *skb, void *hdr);
int ttyrfc_send_simple(struct ttyrfc_port *p, u8 cmd);
int ttyrfc_send_ctrl(struct ttyrfc_port *p, const struct ttyrfc_ctrl *c);

#endif /* _TTYRFC_H */
