/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "ttyrfc" generic netlink family from userspace, on libmnl.
 * Shared by ttyrfcd and ttyrfcctl.
 */
#ifndef TTYRFC_GENL_H
#define TTYRFC_GENL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <linux/ttyrfc.h>

struct genl {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t portid;
	uint32_t seq;
	char err[256];		/* last error text, with the kernel's extack */
};

/* Open a socket and find the family; -errno, with g->err set. */
int genl_open(struct genl *g);
void genl_close(struct genl *g);

/* Start a request in buf (at least MNL_SOCKET_BUFFER_SIZE). */
struct nlmsghdr *genl_msg(struct genl *g, void *buf, uint8_t cmd,
			  uint16_t flags);

/* Fire and forget: errors come back later as NLMSG_ERROR. */
int genl_send(struct genl *g, struct nlmsghdr *nlh);

/*
 * Send with NLM_F_ACK and wait for the answer; replies (and, for the
 * helper, any event that arrives meanwhile) go to cb. 0 or -errno.
 */
int genl_call(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* Parse a ttyrfc message's attributes into tb[TTYRFC_A_MAX + 1]. */
int genl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/* Describe a NLMSG_ERROR (errno + extack message) into g->err. */
int genl_error(struct genl *g, const struct nlmsghdr *nlh);

#endif
