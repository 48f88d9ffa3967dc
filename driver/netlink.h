/* SPDX-License-Identifier: GPL-2.0 */
/* ttyrfc: messages to the helper, built by netlink.c for queue.c. */
#ifndef _TTYRFC_NETLINK_H
#define _TTYRFC_NETLINK_H

#include <linux/skbuff.h>

#include "ttyrfc.h"

/* What an OPEN tells the helper: where the session starts, and how. */
struct ttyrfc_open_msg {
	u32 sid;
	u8 kind;		/* enum ttyrfc_open_kind */
	u64 tx_pos;
	u64 ctrl_seq;
	u64 rx_pos;
	u64 rx_limit;
	struct ttyrfc_settings s;
};

/*
 * Each returns 0 once the helper's socket has the message, -EAGAIN (or
 * -ENOBUFS/-ENOMEM) when it should be sent again later, anything else when
 * there is no helper.
 */
int ttyrfc_nl_open(struct ttyrfc_port *p, const struct ttyrfc_open_msg *m);
int ttyrfc_nl_close(struct ttyrfc_port *p, u32 sid);
int ttyrfc_nl_set(struct ttyrfc_port *p, u32 sid, const struct ttyrfc_ctrl *c);
int ttyrfc_nl_rx_limit(struct ttyrfc_port *p, u32 sid, u64 limit);

/* TX in three steps, so the copy from the ring can happen under its lock. */
struct sk_buff *ttyrfc_nl_tx_alloc(unsigned int n, gfp_t gfp);
u8 *ttyrfc_nl_tx_fill(struct sk_buff *skb, struct ttyrfc_port *p, u32 sid,
		      u64 pos, unsigned int n);
int ttyrfc_nl_send(struct sk_buff *skb);
void ttyrfc_nl_free(struct sk_buff *skb);

#endif /* _TTYRFC_NETLINK_H */
