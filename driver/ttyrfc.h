/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ttyrfc: internal definitions shared by the driver's files.
 *
 * One struct ttyrfc_port per /dev/ttyRFC<n>. Everything the tty side does
 * to a port goes through one ordered stream: data bytes in a ring buffer,
 * control changes in a list tagged with the data position they follow. The
 * stream is kept until the helper confirms the server's TCP has it, so a
 * failed session can be replayed from the confirmed point (session.c).
 */
#ifndef _TTYRFC_H
#define _TTYRFC_H

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
#define TTYRFC_PATH_MAX		1023
#define TTYRFC_TX_BUF		TTYRFC_TX_WINDOW /* ring size, power of 2 */
#define TTYRFC_CTRL_MAX		4096	/* unconfirmed control changes */
#define TTYRFC_PORTS_LIMIT	256

/* How the helper should verify a TLS server; NULL: the default. */
struct ttyrfc_tls {
	char *ca, *cert, *key, *server_name;
};

/* Line settings in the ABI's terms (enum ttyrfc_parity, _flow, TIOCM_*). */
struct ttyrfc_settings {
	u32 baud;
	u8 data_bits;
	u8 parity;
	u8 stop_bits;
	u8 flow;
	u8 brk;
	u32 mctrl;		/* TIOCM_DTR | TIOCM_RTS */
	u32 mctrl_known;	/* lines set since open; others as found */
};

/* Which fields of a control change are present. */
enum {
	TTYRFC_SET_BAUD		= BIT(0),
	TTYRFC_SET_DATA_BITS	= BIT(1),
	TTYRFC_SET_PARITY	= BIT(2),
	TTYRFC_SET_STOP_BITS	= BIT(3),
	TTYRFC_SET_FLOW		= BIT(4),
	TTYRFC_SET_MCTRL	= BIT(5),
	TTYRFC_SET_BREAK	= BIT(6),
	TTYRFC_SET_PURGE	= BIT(7),
	TTYRFC_SET_LINE		= 0x1f,	/* baud..flow */
};

/* One control change, kept until confirmed. */
struct ttyrfc_ctrl {
	struct list_head node;
	u64 seq;		/* control number */
	u64 pos;		/* follows the data before this position */
	u32 mask;		/* TTYRFC_SET_* */
	u32 mctrl_mask;		/* lines this change sets */
	struct ttyrfc_settings s;
	u8 purge;		/* TTYRFC_PURGE_* */
};

/* Where the session of a port is; see session.c. */
enum ttyrfc_sess {
	TTYRFC_SESS_NONE,	/* no session */
	TTYRFC_SESS_OPENING,	/* started, OPEN not yet sent */
	TTYRFC_SESS_RUNNING,	/* OPEN sent */
	TTYRFC_SESS_CLOSING,	/* closed: send the tail, then CLOSE */
};

struct ttyrfc_port {
	struct tty_port port;
	unsigned int index;
	char host[TTYRFC_HOST_MAX + 1];
	u16 tcp_port;
	char name[TTYRFC_NAME_MAX + 1];
	u32 flags;		/* TTYRFC_F_* */
	struct ttyrfc_tls tls;	/* with TTYRFC_F_TLS */
	bool dead;		/* deleted: no new opens (under ports_lock) */

	spinlock_t lock;	/* everything below */

	/* the session */
	u32 sid;		/* 0: none */
	u8 sess;		/* enum ttyrfc_sess */
	u8 open_kind;		/* of the OPEN to send */
	u8 link;		/* enum ttyrfc_link */
	int link_err;		/* positive errno of the last failure */
	bool active;		/* open: the tty wants a link */
	bool dying;		/* destruct: no more work */
	wait_queue_head_t link_wait;

	/* TX stream: ring positions never go back except on a rewind */
	u8 *buf;		/* TTYRFC_TX_BUF bytes */
	u64 tx_queued;		/* written by the tty */
	u64 tx_sent;		/* handed to the helper this session */
	u64 tx_acked;		/* confirmed: the server's TCP has it */
	bool tx_stopped;	/* tty stopped (XOFF): hold data */
	struct list_head ctrl;	/* unconfirmed control changes, in order */
	struct ttyrfc_ctrl *ctrl_next;	/* first one not sent this session */
	unsigned int nctrl;
	u64 ctrl_seq;		/* number of the next control change */
	u64 ctrl_acked;		/* changes below this are confirmed */
	struct ttyrfc_settings cur;	/* as last queued: what ioctls see */
	struct ttyrfc_settings base;	/* as of tx_acked: a new session's */
	u32 gen;		/* bumped on every rewind */

	/* RX credit */
	u64 rx_pos;		/* next RX position expected */
	u64 rx_limit;		/* granted */
	u64 rx_limit_sent;	/* as the helper knows it */
	bool rx_notify;		/* send RX_LIMIT */

	/* what the server says */
	u32 modem;		/* TIOCM_CTS | TIOCM_DSR | TIOCM_RI | TIOCM_CD */
	struct ttyrfc_settings server;
	bool server_known;
	struct async_icount icount;

	/* sending to the helper */
	struct mutex send_mutex;	/* one sleeping sender at a time */
	bool tx_busy;		/* a message is being sent: order (queue.c) */
	bool tx_rekick;		/* someone found tx_busy: run the worker */
	struct delayed_work work;
	unsigned int retry_ms;	/* backoff while the helper's socket is full */

	u64 stats[TTYRFC_STAT_MAX + 1];	/* enum ttyrfc_stat */
};

static inline struct ttyrfc_port *to_rport(struct tty_port *port)
{
	return container_of(port, struct ttyrfc_port, port);
}

static inline bool ttyrfc_is_raw(const struct ttyrfc_port *p)
{
	return p->flags & TTYRFC_F_RAW;
}

/* main.c: the port registry */
extern struct tty_driver *ttyrfc_driver;
struct ttyrfc_port *ttyrfc_port_get(unsigned int index, bool dead_too);
struct ttyrfc_port *ttyrfc_port_next(unsigned int *index);
void ttyrfc_port_put(struct ttyrfc_port *p);
int ttyrfc_port_create(const char *host, u16 tcp_port, const char *name,
		       u32 flags, const struct ttyrfc_tls *tls);
int ttyrfc_port_destroy(unsigned int index);
void ttyrfc_port_release(struct ttyrfc_port *p);

/* tty.c */
extern const struct tty_operations ttyrfc_tty_ops;
extern const struct tty_port_operations ttyrfc_port_ops;
extern struct tty_port_client_operations ttyrfc_client_ops;
void ttyrfc_client_ops_init(void);
unsigned int ttyrfc_open_timeout_ms(void);
void ttyrfc_termios_settings(const struct ktermios *t, speed_t baud,
			     struct ttyrfc_settings *s);

/* queue.c: the TX stream */
int ttyrfc_queue_setup(void);
void ttyrfc_queue_teardown(void);
int ttyrfc_queue_init(struct ttyrfc_port *p);
void ttyrfc_queue_free(struct ttyrfc_port *p);
int ttyrfc_queue_set(struct ttyrfc_port *p, const struct ttyrfc_settings *want,
		     u32 mask, u32 mset, u32 mclear, u8 purge);
unsigned int ttyrfc_queue_write(struct ttyrfc_port *p, const u8 *data,
				unsigned int len);
unsigned int ttyrfc_queue_room(struct ttyrfc_port *p);
unsigned int ttyrfc_queue_pending(struct ttyrfc_port *p);
void ttyrfc_queue_flush(struct ttyrfc_port *p);
void ttyrfc_queue_rewind_locked(struct ttyrfc_port *p);
void ttyrfc_queue_reset_locked(struct ttyrfc_port *p, bool handed);
int ttyrfc_queue_confirm(struct ttyrfc_port *p, u32 sid, u64 pos, u64 seq);
int ttyrfc_pump(struct ttyrfc_port *p);
void ttyrfc_queue_kick(struct ttyrfc_port *p);
void ttyrfc_queue_later(struct ttyrfc_port *p, unsigned int ms);

/* session.c */
int ttyrfc_session_open(struct ttyrfc_port *p, struct tty_struct *tty);
void ttyrfc_session_close(struct ttyrfc_port *p);
void ttyrfc_session_start_locked(struct ttyrfc_port *p, u8 kind);
void ttyrfc_session_ended_locked(struct ttyrfc_port *p);
bool ttyrfc_session_check_locked(struct ttyrfc_port *p, u32 sid);
int ttyrfc_link(struct ttyrfc_port *p, u32 sid, u8 state, int err);
int ttyrfc_rx(struct ttyrfc_port *p, u32 sid, u64 pos, const u8 *data,
	      size_t len);
int ttyrfc_status(struct ttyrfc_port *p, u32 sid, const u32 *modem,
		  const u32 *line, const struct ttyrfc_settings *server,
		  const u64 *hstats);
void ttyrfc_rx_credit(struct ttyrfc_port *p);
void ttyrfc_port_replay(struct ttyrfc_port *p);
void ttyrfc_port_helper_gone(struct ttyrfc_port *p);

/* netlink.c (messages to the helper: netlink.h) */
int ttyrfc_genl_init(void);
void ttyrfc_genl_exit(void);
bool ttyrfc_helper_present(void);

#endif /* _TTYRFC_H */
