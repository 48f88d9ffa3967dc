/* SPDX-License-Identifier: GPL-2.0 */
/* The TCP/RFC 2217 session of one port, driven by ttyrfcd's epoll loop. */
#ifndef TTYRFC_SESSION_H
#define TTYRFC_SESSION_H

#include "port.h"

/* What a session needs from the daemon around it. */
struct session_env {
	int epfd;
	/* hand serial data / status to the kernel */
	void (*rx)(struct port *p, const uint8_t *data, size_t n);
	void (*link)(struct port *p, int state, int err);
	void (*status)(struct port *p, int msr, int lsr);
	void (*tx_done)(struct port *p, uint32_t bytes);
};
extern const struct session_env *env;

int64_t now_ms(void);

struct port *port_new(uint32_t index);
void port_free(struct port *p);

/* kernel side */
void port_open(struct port *p);
void port_close(struct port *p);
void port_tx(struct port *p, const uint8_t *data, size_t n);
void port_set(struct port *p, const struct port_settings *s, uint32_t mask,
	      uint32_t mctrl_mask, int brk, int purge);
void port_rx_stop(struct port *p, bool stop);
void port_flush(struct port *p);

/* event loop side */
void port_io(struct port *p, uint32_t events);
void port_timer(struct port *p, int64_t now);

/* which fields port_set() applies */
enum {
	SET_BAUD = 1 << 0, SET_DATASIZE = 1 << 1, SET_PARITY = 1 << 2,
	SET_STOPSIZE = 1 << 3, SET_FLOW = 1 << 4, SET_MCTRL = 1 << 5,
	SET_ALL = 0x3f,
};

#endif
