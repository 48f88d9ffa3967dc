// SPDX-License-Identifier: GPL-2.0
/* The "ttyrfc" generic netlink family from userspace, on libmnl. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "genl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static int family_cb(const struct nlattr *attr, void *data)
{
	uint16_t *id = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
		*id = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_cb, data);
	return MNL_CB_OK;
}

int genl_open(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct timeval tmo = { .tv_sec = 5 };
	struct genlmsghdr *gh;
	int one = 1, ret;

	memset(g, 0, sizeof(*g));
	g->seq = time(NULL);
	g->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!g->nl) {
		ret = -errno;
		snprintf(g->err, sizeof(g->err), "netlink socket: %s",
			 strerror(errno));
		return ret;
	}
	if (mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(g->err, sizeof(g->err), "netlink bind: %s",
			 strerror(errno));
		goto fail;
	}
	g->portid = mnl_socket_get_portid(g->nl);
	mnl_socket_setsockopt(g->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* a request whose answer got lost must not wait for ever */
	setsockopt(mnl_socket_get_fd(g->nl), SOL_SOCKET, SO_RCVTIMEO, &tmo,
		   sizeof(tmo));

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++g->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TTYRFC_GENL_NAME);
	ret = genl_call(g, nlh, family_msg_cb, &g->family);
	if (ret == -ENOENT) {
		snprintf(g->err, sizeof(g->err),
			 "the ttyrfc kernel module is not loaded (modprobe ttyrfc)");
		goto fail;
	}
	if (ret)
		goto fail;
	if (!g->family) {
		ret = -EPROTO;
		snprintf(g->err, sizeof(g->err), "no family id in reply");
		goto fail;
	}
	return 0;
fail:
	mnl_socket_close(g->nl);
	g->nl = NULL;
	return ret;
}

void genl_close(struct genl *g)
{
	if (g->nl)
		mnl_socket_close(g->nl);
	g->nl = NULL;
}

struct nlmsghdr *genl_msg(struct genl *g, void *buf, uint8_t cmd,
			  uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = g->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++g->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = TTYRFC_GENL_VERSION;
	return nlh;
}

int genl_send(struct genl *g, struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int genl_error(struct genl *g, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	const struct nlattr *a;
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EPROTO;
	if (!e->error)
		return 0;
	/* extack TLVs follow the echoed header (capped: only its header) */
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    mnl_nlmsg_get_payload_len(nlh) > off) {
		mnl_attr_for_each(a, nlh, off) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				msg = mnl_attr_get_str(a);
		}
	}
	snprintf(g->err, sizeof(g->err), "%s%s%s", strerror(-e->error),
		 msg ? ": " : "", msg ? msg : "");
	return e->error;
}

int genl_call(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[65536];
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	ret = genl_send(g, nlh);
	if (ret) {
		snprintf(g->err, sizeof(g->err), "netlink send: %s",
			 strerror(-ret));
		return ret;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(g->nl, buf, sizeof(buf));
		const struct nlmsghdr *m = (const void *)buf;
		int len = n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			ret = -errno;
			snprintf(g->err, sizeof(g->err), "netlink receive: %s",
				 strerror(errno));
			return ret;
		}
		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(m);

				if (e->msg.nlmsg_seq != seq) {
					/* an earlier fire-and-forget failed */
					if (cb)
						cb(m, data);
					continue;
				}
				return genl_error(g, m);
			}
			if (m->nlmsg_type == NLMSG_DONE && m->nlmsg_seq == seq)
				return 0;
			if (cb && m->nlmsg_type != NLMSG_NOOP)
				cb(m, data);
		}
	}
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= TTYRFC_A_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

int genl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(*tb) * (TTYRFC_A_MAX + 1));
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, tb);
}
