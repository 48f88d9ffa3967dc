/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One remote serial port as ttyrfcd sees it: the kernel's sessions on one
 * side, a TCP connection to the RFC 2217 server on the other.
 *
 * A session is the kernel's: it starts with OPEN (where in the kernel's
 * stream it begins, the settings in force there) and ends with CLOSE, or
 * when the connection fails and the helper says LINK down. Between the
 * two, the helper turns TX and SET into bytes for the server in order,
 * and confirms what the server's TCP acknowledged.
 */
#ifndef TTYRFC_SESSION_H
#define TTYRFC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/ttyrfc.h>

#include "commands.h"
#include "conn.h"
#include "log.h"
#include "outq.h"
#include "rfc2217.h"

enum port_state {
	PS_IDLE,	/* no session */
	PS_WAIT,	/* backing off, or an old connection is still ending */
	PS_RESOLVING,
	PS_CONNECTING,
	PS_SETUP,	/* TCP up; is the server serving, or refusing? */
	PS_UP,
	PS_FAILED,	/* LINK down said (or to say); the kernel decides */
};

#define PORT_RX_BUF	32768	/* decoded bytes not yet with the kernel */
#define PORT_HOLD_MAX	4096	/* read before the session is up */

struct port {
	uint32_t index;
	char host[256];			/* or the mDNS service (F_MDNS) */
	uint16_t tcp_port;		/* 0 for an mDNS service */
	uint32_t flags;			/* TTYRFC_F_* */
	struct tls_config tls;		/* with TTYRFC_F_TLS */
	char remote[300];		/* for the log: "host:port", "mdns://name" */

	/* the kernel's session */
	uint32_t sid;			/* 0: none */
	uint8_t kind;			/* enum ttyrfc_open_kind */
	enum port_state state;
	int64_t wake_at;		/* ms: WAIT ends, SETUP gives up */
	int64_t up_at;
	unsigned int failures;		/* sessions failed in a row */
	int fail_err;			/* failed while backing off: say later */
	uint64_t tx_next, ctrl_next;	/* what the kernel sends next */

	struct conn conn;
	struct rfc2217 codec;
	struct outq q;
	int64_t ack_poll_at;		/* ms: look at SIOCOUTQ again */
	bool want_in, want_out;		/* as registered with epoll */
	bool answered;			/* the server sent a COM-PORT answer */

	/* settings: requests not yet answered, what the server says it did */
	struct asked {
		uint32_t v[8];
		uint8_t head, n;
	} asked[5];			/* baud, data bits, parity, stop, flow */
	struct line_settings server;
	uint32_t server_known, server_logged;

	/* receive: decoded data waiting for the kernel, within its credit */
	uint64_t rx_pos, rx_limit;
	uint8_t rx[PORT_RX_BUF];
	size_t rx_len;
	size_t rx_mark;			/* of it, before the pending change */

	/* for the kernel: what is due, sent in order by session_flush() */
	bool link_due;
	uint8_t link_state;
	int link_err;
	bool modem_due, server_due, stats_due, confirm_due;
	uint32_t modem, line_events;
	bool kernel_busy;		/* a message could not go: retry */
	int64_t kernel_retry_at;

	uint64_t stats[TTYRFC_STAT_MAX + 1];	/* the helper's counters */
	struct ratelimit rl;
	bool dirty;			/* output added during this batch */
};

/* What a session needs from the daemon around it (the kernel's API). */
struct session_env {
	int epfd;
	/* 0, or -errno: -EAGAIN/-ENOBUFS/-ENOMEM mean "again later" */
	int (*rx)(struct port *p, uint64_t pos, const uint8_t *d, size_t n);
	int (*link)(struct port *p, uint8_t state, int err);
	int (*confirm)(struct port *p, uint64_t pos, uint64_t seq);
	int (*status)(struct port *p);	/* due modem/line/server/stats */
	/* an old connection of this port finished ending */
	bool (*lingering)(unsigned int index);
	void (*linger)(struct port *p);	/* take over conn + q, end well */
	/* the session is up: what ttyrfcctl show should know (or NULL) */
	void (*up)(struct port *p);
};
extern const struct session_env *env;

int64_t now_ms(void);

struct port *port_new(uint32_t index);
void port_free(struct port *p);

/* OPEN's contents */
struct open_args {
	uint32_t sid;
	uint8_t kind;
	const char *host;
	uint16_t tcp_port;
	uint32_t flags;
	const struct tls_config *tls;	/* NULL: none given (the defaults) */
	uint64_t tx_pos, ctrl_seq, rx_pos, rx_limit;
	struct line_settings s;
	uint32_t mctrl_known;
};

/* one SET */
struct change {
	uint64_t pos, seq;
	struct line_settings s;
	uint32_t mask, mctrl_mask;	/* LS_*, lines */
	uint8_t purge;
};

/* the kernel's messages */
void port_open(struct port *p, const struct open_args *a);
void port_close(struct port *p, uint32_t sid);
void port_tx(struct port *p, uint32_t sid, uint64_t pos, const uint8_t *d,
	     size_t n);
void port_set(struct port *p, uint32_t sid, const struct change *c);
void port_rx_limit(struct port *p, uint32_t sid, uint64_t limit);

/* the event loop */
void port_sock_event(struct port *p, unsigned int slot, uint32_t gen,
		     uint32_t events);
void port_resolved(struct port *p, struct resolve_result *r);
void port_timer(struct port *p, int64_t now);
int64_t port_next_timer(const struct port *p);
void port_linger_done(struct port *p);
/* write what is queued; send what is due to the kernel */
void port_flush(struct port *p);

#endif
