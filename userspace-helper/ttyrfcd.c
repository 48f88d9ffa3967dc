// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: the userspace half of ttyrfc.
 *
 * One process, one epoll loop: the netlink socket to the kernel module and
 * one TCP socket per open /dev/ttyRFC<n>. The kernel tells us what the tty
 * does (open, data, settings, close); we speak RFC 2217 to the server and
 * hand back what it sends.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "genl.h"
#include "log.h"
#include "session.h"

#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

#define PORTS_LIMIT 256

static struct genl g;
static struct port *ports[PORTS_LIMIT];
static char nlbuf[TTYRFC_MAX_DATA + 4096];

/* Messages to the kernel: fire and forget, failures arrive as errors. */
static void kernel_send(struct nlmsghdr *nlh)
{
	int ret = genl_send(&g, nlh);

	if (ret)
		log_msg("netlink send: %s", strerror(-ret));
}

static void k_rx(struct port *p, const uint8_t *data, size_t n)
{
	char buf[TTYRFC_MAX_DATA + 512];
	struct nlmsghdr *nlh;

	while (n) {
		size_t chunk = n < TTYRFC_MAX_DATA ? n : TTYRFC_MAX_DATA;

		nlh = genl_msg(&g, buf, TTYRFC_CMD_RX, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
		mnl_attr_put(nlh, TTYRFC_A_DATA, chunk, data);
		kernel_send(nlh);
		data += chunk;
		n -= chunk;
	}
}

static void k_link(struct port *p, int state, int err)
{
	char buf[256];
	struct nlmsghdr *nlh = genl_msg(&g, buf, TTYRFC_CMD_LINK, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
	mnl_attr_put_u8(nlh, TTYRFC_A_LINK_STATE, state);
	mnl_attr_put_u32(nlh, TTYRFC_A_ERRNO, err);
	kernel_send(nlh);
}

static void k_status(struct port *p, int msr, int lsr)
{
	char buf[256];
	struct nlmsghdr *nlh = genl_msg(&g, buf, TTYRFC_CMD_STATUS, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
	if (msr >= 0)
		mnl_attr_put_u8(nlh, TTYRFC_A_MSR, msr);
	if (lsr >= 0)
		mnl_attr_put_u8(nlh, TTYRFC_A_LSR, lsr);
	mnl_attr_put_u32(nlh, TTYRFC_A_STAT_PROTO_ERRORS, p->proto_errors);
	kernel_send(nlh);
}

static void k_tx_done(struct port *p, uint32_t bytes)
{
	char buf[256];
	struct nlmsghdr *nlh;

	nlh = genl_msg(&g, buf, TTYRFC_CMD_TX_DONE, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
	mnl_attr_put_u32(nlh, TTYRFC_A_BYTES, bytes);
	kernel_send(nlh);
}

static struct session_env session_env = {
	.rx = k_rx,
	.link = k_link,
	.status = k_status,
	.tx_done = k_tx_done,
};
const struct session_env *env = &session_env;

static int helper_hello(void);

static int ctrl_name_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type == CTRL_ATTR_FAMILY_NAME || type == CTRL_ATTR_FAMILY_ID)
		tb[type] = attr;
	return MNL_CB_OK;
}

/*
 * The module was unloaded or loaded again (nlctrl notifications): drop
 * every session with the old module, register with the new one.
 */
static void ctrl_event(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[CTRL_ATTR_MAX + 1] = { NULL };
	int i;

	mnl_attr_parse(nlh, sizeof(*gh), ctrl_name_cb, tb);
	if (!tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]),
		   TTYRFC_GENL_NAME))
		return;
	if (gh->cmd == CTRL_CMD_DELFAMILY) {
		log_msg("the ttyrfc module was unloaded; waiting for it to return");
		for (i = 0; i < PORTS_LIMIT; i++) {
			if (ports[i])
				port_free(ports[i]);
			ports[i] = NULL;
		}
		g.family = 0;
	} else if (gh->cmd == CTRL_CMD_NEWFAMILY && tb[CTRL_ATTR_FAMILY_ID]) {
		g.family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
		helper_hello();
	}
}

static uint8_t attr_u8(const struct nlattr **tb, int type)
{
	return mnl_attr_get_u8(tb[type]);
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	struct port_settings s = { 0 };
	uint32_t mask = 0, index;
	struct port *p;

	(void)data;
	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		ctrl_event(nlh);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (genl_error(&g, nlh))
			log_msg("kernel refused a message: %s", g.err);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type != g.family || genl_parse(nlh, tb) < 0 ||
	    !tb[TTYRFC_A_INDEX])
		return MNL_CB_OK;
	index = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	if (index >= PORTS_LIMIT)
		return MNL_CB_OK;
	p = ports[index];

	if (gh->cmd == TTYRFC_CMD_OPEN) {
		if (!p)
			p = ports[index] = port_new(index);
		if (!p || !tb[TTYRFC_A_HOST] || !tb[TTYRFC_A_PORT])
			return MNL_CB_OK;
		snprintf(p->host, sizeof(p->host), "%s",
			 mnl_attr_get_str(tb[TTYRFC_A_HOST]));
		p->tcp_port = mnl_attr_get_u16(tb[TTYRFC_A_PORT]);
		p->flags = tb[TTYRFC_A_FLAGS] ?
			   mnl_attr_get_u32(tb[TTYRFC_A_FLAGS]) : 0;
		log_dbg("ttyRFC%u: open %s:%u", index, p->host, p->tcp_port);
	}
	if (!p)
		return MNL_CB_OK;
	p->dirty = true;

	switch (gh->cmd) {
	case TTYRFC_CMD_CLOSE:
		log_dbg("ttyRFC%u: close", index);
		port_close(p);
		return MNL_CB_OK;
	case TTYRFC_CMD_TX:
		if (tb[TTYRFC_A_DATA])
			port_tx(p, mnl_attr_get_payload(tb[TTYRFC_A_DATA]),
				mnl_attr_get_payload_len(tb[TTYRFC_A_DATA]));
		return MNL_CB_OK;
	case TTYRFC_CMD_RX_STOP:
	case TTYRFC_CMD_RX_READY:
		port_rx_stop(p, gh->cmd == TTYRFC_CMD_RX_STOP);
		return MNL_CB_OK;
	case TTYRFC_CMD_OPEN:
	case TTYRFC_CMD_SET:
		break;
	default:
		return MNL_CB_OK;
	}

	if (tb[TTYRFC_A_BAUD]) {
		s.baud = mnl_attr_get_u32(tb[TTYRFC_A_BAUD]);
		mask |= SET_BAUD;
	}
	if (tb[TTYRFC_A_DATASIZE]) {
		s.datasize = attr_u8(tb, TTYRFC_A_DATASIZE);
		mask |= SET_DATASIZE;
	}
	if (tb[TTYRFC_A_PARITY]) {
		s.parity = attr_u8(tb, TTYRFC_A_PARITY);
		mask |= SET_PARITY;
	}
	if (tb[TTYRFC_A_STOPSIZE]) {
		s.stopsize = attr_u8(tb, TTYRFC_A_STOPSIZE);
		mask |= SET_STOPSIZE;
	}
	if (tb[TTYRFC_A_FLOW]) {
		s.flow = attr_u8(tb, TTYRFC_A_FLOW);
		mask |= SET_FLOW;
	}
	if (tb[TTYRFC_A_MCTRL] && tb[TTYRFC_A_MCTRL_MASK]) {
		s.mctrl = mnl_attr_get_u32(tb[TTYRFC_A_MCTRL]);
		mask |= SET_MCTRL;
	}
	if (gh->cmd == TTYRFC_CMD_OPEN) {
		/* a new session: forget the old one's settings and lines */
		memset(&p->s, 0, sizeof(p->s));
		p->mctrl_known = 0;
		p->state = PORT_IDLE;
		/* everything is sent when the session comes up */
		port_set(p, &s, mask,
			 tb[TTYRFC_A_MCTRL_MASK] ?
			 mnl_attr_get_u32(tb[TTYRFC_A_MCTRL_MASK]) : 0, -1, -1);
		port_open(p);
		return MNL_CB_OK;
	}
	port_set(p, &s, mask,
		 tb[TTYRFC_A_MCTRL_MASK] ?
		 mnl_attr_get_u32(tb[TTYRFC_A_MCTRL_MASK]) : 0,
		 tb[TTYRFC_A_BREAK] ? attr_u8(tb, TTYRFC_A_BREAK) : -1,
		 tb[TTYRFC_A_PURGE] ? attr_u8(tb, TTYRFC_A_PURGE) : -1);
	return MNL_CB_OK;
}

/* Drain the netlink socket; then write what the events produced. */
static int kernel_read(void)
{
	int i, count = 0;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(g.nl), nlbuf, sizeof(nlbuf),
				 MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const void *)nlbuf;
		int len = n;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_msg("netlink receive: %s", strerror(errno));
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			on_event(nlh, NULL);
		/* bound the batch so TCP sockets get their turn */
		if (++count >= 64)
			break;
	}
	/* one send() per port for the whole batch */
	for (i = 0; i < PORTS_LIMIT; i++) {
		if (ports[i] && ports[i]->dirty) {
			ports[i]->dirty = false;
			port_flush(ports[i]);
		}
	}
	return 0;
}

static int helper_hello(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = genl_msg(&g, buf, TTYRFC_CMD_HELLO, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, TTYRFC_GENL_VERSION);
	ret = genl_call(&g, nlh, on_event, NULL);
	if (ret) {
		log_msg("cannot register with the kernel module: %s", g.err);
		return ret;
	}
	log_msg("registered with the ttyrfc module (ABI %u)",
		TTYRFC_GENL_VERSION);
	return 0;
}

static int helper_register(void)
{
	unsigned int group = GENL_ID_CTRL;	/* nlctrl's "notify" group */
	int one = 1, size = 16 << 20;
	int ret;

	ret = genl_open(&g);
	if (ret) {
		log_msg("%s", g.err);
		return ret;
	}
	/* events from every port queue here; the kernel retries when full */
	setsockopt(mnl_socket_get_fd(g.nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		   sizeof(size));
	mnl_socket_setsockopt(g.nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	/* hear the module being unloaded and loaded again */
	if (mnl_socket_setsockopt(g.nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		log_msg("cannot follow module reloads: %s", strerror(errno));
	return helper_hello();
}

static int next_timeout(void)
{
	int64_t now = now_ms(), next = -1;
	int i;

	for (i = 0; i < PORTS_LIMIT; i++) {
		struct port *p = ports[i];

		if (!p)
			continue;
		port_timer(p, now);
		if (p->deadline && (next < 0 || p->deadline < next))
			next = p->deadline;
		if (p->hint_at && (next < 0 || p->hint_at < next))
			next = p->hint_at;
	}
	if (next < 0)
		return -1;
	return next > now ? (int)(next - now) : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ttyrfcd [-v] [-h]\n"
		   "  Serves /dev/ttyRFC* ports of the ttyrfc kernel module.\n"
		   "  -v  log wire traces (RFC 2217 commands)\n");
}

int main(int argc, char **argv)
{
	struct epoll_event ev[64];
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t mask;
	int sfd, nlfd, i, n, c;

	while ((c = getopt(argc, argv, "vh")) != -1) {
		switch (c) {
		case 'v':
			log_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	srand(time(NULL) ^ getpid());
	sigaction(SIGPIPE, &sa, NULL);

	session_env.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (session_env.epfd < 0 || helper_register())
		return 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	nlfd = mnl_socket_get_fd(g.nl);
	epoll_ctl(session_env.epfd, EPOLL_CTL_ADD, sfd,
		  &(struct epoll_event){ .events = EPOLLIN,
					 .data.ptr = &sfd });
	epoll_ctl(session_env.epfd, EPOLL_CTL_ADD, nlfd,
		  &(struct epoll_event){ .events = EPOLLIN,
					 .data.ptr = &nlfd });
	/* events that came with the HELLO answer */
	if (kernel_read())
		return 1;

	for (;;) {
		n = epoll_wait(session_env.epfd, ev, 64, next_timeout());
		if (n < 0 && errno != EINTR) {
			log_msg("epoll: %s", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &sfd) {
				log_msg("exiting on signal");
				return 0;
			}
			if (ev[i].data.ptr == &nlfd) {
				if (kernel_read())
					return 1;
				continue;
			}
			port_io(ev[i].data.ptr, ev[i].events);
		}
		/* data we just passed up may have filled a tty: hear it now */
		if (n > 0 && kernel_read())
			return 1;
	}
}
