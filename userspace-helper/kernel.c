// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: the "ttyrfc" netlink family from the helper's side.
 *
 * Events from the kernel arrive as unicast messages on one socket. The
 * kernel never drops one: when our socket is full it is told and sends
 * again. So an overrun (ENOBUFS) on our socket can only have cost error
 * answers and nlctrl notifications: we then check that the module is
 * still the one we registered with.
 */
#define _GNU_SOURCE	/* recvmmsg */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "genl.h"
#include "kernel.h"
#include "linger.h"
#include "runinfo.h"

static struct genl g;
static struct port *ports[PORTS_LIMIT];
static int64_t hello_at;	/* ms: register again (0: registered) */
/* one recvmmsg() takes what is queued: no extra call to learn it was all */
#define NL_BATCH	8
static char nlbuf[NL_BATCH][TTYRFC_MAX_DATA + 4096];

static int k_rx(struct port *p, uint64_t pos, const uint8_t *d, size_t n);
static int k_link(struct port *p, uint8_t state, int err);
static int k_confirm(struct port *p, uint64_t pos, uint64_t seq);
static int k_status(struct port *p);

static struct session_env kenv = {
	.rx = k_rx,
	.link = k_link,
	.confirm = k_confirm,
	.status = k_status,
	.lingering = linger_active,
	.linger = linger_start,
	.up = runinfo_write,
};
const struct session_env *env = &kenv;

struct port *kernel_port(unsigned int index)
{
	return index < PORTS_LIMIT ? ports[index] : NULL;
}

int kernel_fd(void)
{
	return g.nl ? mnl_socket_get_fd(g.nl) : -1;
}

/* ------------------------------------------------------------ to the kernel */

static struct nlmsghdr *msg(void *buf, uint8_t cmd, struct port *p)
{
	struct nlmsghdr *nlh = genl_msg(&g, buf, cmd, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
	mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, p->sid);
	return nlh;
}

static int send_msg(struct nlmsghdr *nlh)
{
	if (!g.family)
		return -ENOENT;		/* the module is gone */
	return genl_send(&g, nlh);
}

static int k_rx(struct port *p, uint64_t pos, const uint8_t *d, size_t n)
{
	char buf[TTYRFC_MAX_DATA + 512];
	struct nlmsghdr *nlh = msg(buf, TTYRFC_CMD_RX, p);

	mnl_attr_put_u64(nlh, TTYRFC_A_RX_POS, pos);
	mnl_attr_put(nlh, TTYRFC_A_DATA, n, d);
	return send_msg(nlh);
}

static int k_link(struct port *p, uint8_t state, int err)
{
	char buf[256];
	struct nlmsghdr *nlh = msg(buf, TTYRFC_CMD_LINK, p);

	mnl_attr_put_u8(nlh, TTYRFC_A_LINK, state);
	if (err)
		mnl_attr_put_u32(nlh, TTYRFC_A_ERRNO, err);
	return send_msg(nlh);
}

static int k_confirm(struct port *p, uint64_t pos, uint64_t seq)
{
	char buf[256];
	struct nlmsghdr *nlh = msg(buf, TTYRFC_CMD_CONFIRM, p);

	mnl_attr_put_u64(nlh, TTYRFC_A_TX_POS, pos);
	mnl_attr_put_u64(nlh, TTYRFC_A_CTRL_SEQ, seq);
	return send_msg(nlh);
}

static int k_status(struct port *p)
{
	static const int helper_stats[] = {
		TTYRFC_STAT_PROTO_ERRORS, TTYRFC_STAT_HELPER_STALE,
		TTYRFC_STAT_CONNECTS, TTYRFC_STAT_LOG_SUPPRESSED,
	};
	char buf[1024];
	struct nlmsghdr *nlh = msg(buf, TTYRFC_CMD_STATUS, p);
	struct nlattr *nest;
	size_t i;

	if (p->modem_due)
		mnl_attr_put_u32(nlh, TTYRFC_A_MODEM, p->modem);
	if (p->line_events)
		mnl_attr_put_u32(nlh, TTYRFC_A_LINE, p->line_events);
	if (p->server_due && p->server_known) {
		nest = mnl_attr_nest_start(nlh, TTYRFC_A_SERVER);
		if (p->server_known & LS_BAUD)
			mnl_attr_put_u32(nlh, TTYRFC_A_BAUD, p->server.baud);
		if (p->server_known & LS_DATA_BITS)
			mnl_attr_put_u8(nlh, TTYRFC_A_DATA_BITS,
					p->server.data_bits);
		if (p->server_known & LS_PARITY)
			mnl_attr_put_u8(nlh, TTYRFC_A_PARITY, p->server.parity);
		if (p->server_known & LS_STOP_BITS)
			mnl_attr_put_u8(nlh, TTYRFC_A_STOP_BITS,
					p->server.stop_bits);
		if (p->server_known & LS_FLOW)
			mnl_attr_put_u8(nlh, TTYRFC_A_FLOW, p->server.flow);
		mnl_attr_nest_end(nlh, nest);
	}
	if (p->stats_due) {
		nest = mnl_attr_nest_start(nlh, TTYRFC_A_STATS);
		for (i = 0; i < sizeof(helper_stats) / sizeof(int); i++)
			mnl_attr_put_u64(nlh, helper_stats[i],
					 p->stats[helper_stats[i]]);
		mnl_attr_nest_end(nlh, nest);
	}
	return send_msg(nlh);
}

/* ------------------------------------------------------------ from the kernel */

static bool get_settings(const struct nlattr **tb, struct line_settings *s,
			 uint32_t *mask, uint32_t *mctrl_mask)
{
	*mask = 0;
	if (tb[TTYRFC_A_BAUD]) {
		s->baud = mnl_attr_get_u32(tb[TTYRFC_A_BAUD]);
		*mask |= LS_BAUD;
	}
	if (tb[TTYRFC_A_DATA_BITS]) {
		s->data_bits = mnl_attr_get_u8(tb[TTYRFC_A_DATA_BITS]);
		*mask |= LS_DATA_BITS;
	}
	if (tb[TTYRFC_A_PARITY]) {
		s->parity = mnl_attr_get_u8(tb[TTYRFC_A_PARITY]);
		*mask |= LS_PARITY;
	}
	if (tb[TTYRFC_A_STOP_BITS]) {
		s->stop_bits = mnl_attr_get_u8(tb[TTYRFC_A_STOP_BITS]);
		*mask |= LS_STOP_BITS;
	}
	if (tb[TTYRFC_A_FLOW]) {
		s->flow = mnl_attr_get_u8(tb[TTYRFC_A_FLOW]);
		*mask |= LS_FLOW;
	}
	if (tb[TTYRFC_A_BREAK]) {
		s->brk = mnl_attr_get_u8(tb[TTYRFC_A_BREAK]);
		*mask |= LS_BREAK;
	}
	*mctrl_mask = 0;
	if (tb[TTYRFC_A_MCTRL] && tb[TTYRFC_A_MCTRL_MASK]) {
		s->mctrl = mnl_attr_get_u32(tb[TTYRFC_A_MCTRL]);
		*mctrl_mask = mnl_attr_get_u32(tb[TTYRFC_A_MCTRL_MASK]);
		if (*mctrl_mask)
			*mask |= LS_MCTRL;
	}
	return true;
}

static uint64_t get_u64(const struct nlattr *a)
{
	return a && mnl_attr_validate(a, MNL_TYPE_U64) >= 0 ?
	       mnl_attr_get_u64(a) : 0;
}

static int tls_attr_cb(const struct nlattr *attr, void *data)
{
	struct tls_config *t = data;
	char *dst;
	size_t len;

	switch (mnl_attr_get_type(attr)) {
	case TTYRFC_TLS_CA:
		dst = t->ca, len = sizeof(t->ca);
		break;
	case TTYRFC_TLS_CERT:
		dst = t->cert, len = sizeof(t->cert);
		break;
	case TTYRFC_TLS_KEY:
		dst = t->key, len = sizeof(t->key);
		break;
	case TTYRFC_TLS_SERVER_NAME:
		dst = t->server_name, len = sizeof(t->server_name);
		break;
	default:
		return MNL_CB_OK;
	}
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(dst, len, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static void on_open(struct port *p, const struct nlattr **tb)
{
	static struct tls_config tls;
	struct open_args a = { 0 };
	uint32_t mask;

	if (!tb[TTYRFC_A_HOST] || !tb[TTYRFC_A_PORT] || !tb[TTYRFC_A_TX_POS] ||
	    !tb[TTYRFC_A_CTRL_SEQ] || !tb[TTYRFC_A_RX_POS] ||
	    !tb[TTYRFC_A_RX_LIMIT] ||
	    mnl_attr_validate(tb[TTYRFC_A_HOST], MNL_TYPE_NUL_STRING) < 0) {
		log_msg("ttyRFC%u: OPEN without its attributes", p->index);
		return;
	}
	a.sid = mnl_attr_get_u32(tb[TTYRFC_A_SESSION]);
	a.kind = tb[TTYRFC_A_OPEN_KIND] ?
		 mnl_attr_get_u8(tb[TTYRFC_A_OPEN_KIND]) : TTYRFC_OPEN_FIRST;
	a.host = mnl_attr_get_str(tb[TTYRFC_A_HOST]);
	a.tcp_port = mnl_attr_get_u16(tb[TTYRFC_A_PORT]);
	a.flags = tb[TTYRFC_A_FLAGS] ? mnl_attr_get_u32(tb[TTYRFC_A_FLAGS]) : 0;
	a.tx_pos = get_u64(tb[TTYRFC_A_TX_POS]);
	a.ctrl_seq = get_u64(tb[TTYRFC_A_CTRL_SEQ]);
	a.rx_pos = get_u64(tb[TTYRFC_A_RX_POS]);
	a.rx_limit = get_u64(tb[TTYRFC_A_RX_LIMIT]);
	if (tb[TTYRFC_A_TLS]) {
		memset(&tls, 0, sizeof(tls));
		mnl_attr_parse_nested(tb[TTYRFC_A_TLS], tls_attr_cb, &tls);
		a.tls = &tls;
	}
	get_settings(tb, &a.s, &mask, &a.mctrl_known);
	port_open(p, &a);
}

static void on_set(struct port *p, uint32_t sid, const struct nlattr **tb)
{
	struct change c = { 0 };

	if (!tb[TTYRFC_A_TX_POS] || !tb[TTYRFC_A_CTRL_SEQ])
		return;
	c.pos = get_u64(tb[TTYRFC_A_TX_POS]);
	c.seq = get_u64(tb[TTYRFC_A_CTRL_SEQ]);
	get_settings(tb, &c.s, &c.mask, &c.mctrl_mask);
	if (tb[TTYRFC_A_PURGE])
		c.purge = mnl_attr_get_u8(tb[TTYRFC_A_PURGE]);
	port_set(p, sid, &c);
}

static int helper_hello(void);

static int ctrl_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type == CTRL_ATTR_FAMILY_NAME || type == CTRL_ATTR_FAMILY_ID)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void drop_ports(void)
{
	int i;

	for (i = 0; i < PORTS_LIMIT; i++) {
		if (ports[i])
			port_free(ports[i]);
		ports[i] = NULL;
	}
	runinfo_init();
}

/*
 * The module was unloaded or loaded again (nlctrl notifications): drop
 * every session with the old module, register with the new one.
 */
static void ctrl_event(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[CTRL_ATTR_MAX + 1] = { NULL };

	mnl_attr_parse(nlh, sizeof(*gh), ctrl_attr_cb, tb);
	if (!tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]),
		   TTYRFC_GENL_NAME))
		return;
	if (gh->cmd == CTRL_CMD_DELFAMILY) {
		log_msg("the ttyrfc module was unloaded; waiting for it to return");
		drop_ports();
		g.family = 0;
	} else if (gh->cmd == CTRL_CMD_NEWFAMILY && tb[CTRL_ATTR_FAMILY_ID]) {
		g.family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
		helper_hello();
	}
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TTYRFC_A_MAX + 1];
	uint32_t index, sid;
	struct port *p;

	(void)data;
	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		ctrl_event(nlh);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		int err = genl_error(&g, nlh);

		/* a message of a session that just ended: expected, counted */
		if (err == -ESTALE)
			log_dbg("kernel: %s", g.err);
		else if (err)
			log_msg("kernel refused a message: %s", g.err);
		return MNL_CB_OK;
	}
	if (!g.family || nlh->nlmsg_type != g.family ||
	    genl_parse(nlh, tb) < 0 || !tb[TTYRFC_A_INDEX] ||
	    !tb[TTYRFC_A_SESSION])
		return MNL_CB_OK;
	index = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	sid = mnl_attr_get_u32(tb[TTYRFC_A_SESSION]);
	if (index >= PORTS_LIMIT)
		return MNL_CB_OK;
	p = ports[index];
	if (!p && gh->cmd == TTYRFC_CMD_OPEN)
		p = ports[index] = port_new(index);
	if (!p)
		return MNL_CB_OK;
	p->dirty = true;

	switch (gh->cmd) {
	case TTYRFC_CMD_OPEN:
		on_open(p, tb);
		break;
	case TTYRFC_CMD_CLOSE:
		port_close(p, sid);
		break;
	case TTYRFC_CMD_TX:
		if (tb[TTYRFC_A_DATA] && tb[TTYRFC_A_TX_POS])
			port_tx(p, sid, get_u64(tb[TTYRFC_A_TX_POS]),
				mnl_attr_get_payload(tb[TTYRFC_A_DATA]),
				mnl_attr_get_payload_len(tb[TTYRFC_A_DATA]));
		break;
	case TTYRFC_CMD_SET:
		on_set(p, sid, tb);
		break;
	case TTYRFC_CMD_RX_LIMIT:
		if (tb[TTYRFC_A_RX_LIMIT])
			port_rx_limit(p, sid, get_u64(tb[TTYRFC_A_RX_LIMIT]));
		break;
	}
	return MNL_CB_OK;
}

/* Lost notifications: is the module still the one we registered with? */
static void resync(void)
{
	struct genl probe;
	uint16_t family = 0;

	if (!genl_open(&probe)) {
		family = probe.family;
		genl_close(&probe);
	}
	if (family == g.family)
		return;
	log_msg("the ttyrfc module changed while messages were lost; registering again");
	drop_ports();
	g.family = family;
	if (family)
		helper_hello();
}

int kernel_read(void)
{
	struct mmsghdr mm[NL_BATCH];
	struct iovec iov[NL_BATCH];
	int rounds = 0, i, n;

	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < NL_BATCH; i++) {
			iov[i].iov_base = nlbuf[i];
			iov[i].iov_len = sizeof(nlbuf[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		/*
		 * An error after the first message (ENOBUFS) waits for the
		 * next call; the socket stays readable (EPOLLERR) till then.
		 */
		n = recvmmsg(mnl_socket_get_fd(g.nl), mm, NL_BATCH,
			     MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				resync();
				continue;
			}
			log_msg("netlink receive: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			const struct nlmsghdr *nlh = (const void *)nlbuf[i];
			int len = mm[i].msg_len;

			for (; mnl_nlmsg_ok(nlh, len);
			     nlh = mnl_nlmsg_next(nlh, &len))
				on_event(nlh, NULL);
		}
		/*
		 * Fewer than asked for: the queue is empty. Bound the batch
		 * so TCP sockets get their turn.
		 */
		if (n < NL_BATCH || ++rounds >= 8)
			break;
	}
	kernel_flush_ports();
	return 0;
}

int64_t kernel_timer(int64_t now)
{
	if (hello_at && now >= hello_at && g.family)
		helper_hello();
	return hello_at;
}

/* One send() per port for the whole batch of events. */
void kernel_flush_ports(void)
{
	int i;

	for (i = 0; i < PORTS_LIMIT; i++)
		if (ports[i] && ports[i]->dirty)
			port_flush(ports[i]);
}

static bool running;	/* past start-up: failures are retried, not fatal */

static int helper_hello(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	bool retry;
	int ret;

	nlh = genl_msg(&g, buf, TTYRFC_CMD_HELLO, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, TTYRFC_GENL_VERSION);
	ret = genl_call(&g, nlh, on_event, NULL);
	if (ret) {
		/* a version mismatch or another helper: retrying won't help */
		retry = running && ret != -EPROTO && ret != -EBUSY;
		log_msg("cannot register with the kernel module: %s%s", g.err,
			retry ? "; trying again in 1 s" : "");
		hello_at = retry ? now_ms() + 1000 : 0;
		return ret;
	}
	hello_at = 0;
	log_msg("registered with the ttyrfc module (ABI %u)",
		TTYRFC_GENL_VERSION);
	return 0;
}

int kernel_open(int epfd)
{
	unsigned int group = GENL_ID_CTRL;	/* nlctrl's "notify" group */
	int size = 16 << 20;
	int ret;

	kenv.epfd = epfd;
	ret = genl_open(&g);
	if (ret) {
		log_msg("%s", g.err);
		return ret;
	}
	/* events from every port queue here; the kernel retries when full */
	setsockopt(mnl_socket_get_fd(g.nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		   sizeof(size));
	/* hear the module being unloaded and loaded again */
	if (mnl_socket_setsockopt(g.nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		log_msg("cannot follow module reloads: %s", strerror(errno));
	ret = helper_hello();
	running = true;
	return ret;
}

void kernel_close(void)
{
	drop_ports();
	genl_close(&g);
}
