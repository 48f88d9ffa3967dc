// SPDX-License-Identifier: GPL-2.0
/*
 * nl_abuse: the "ttyrfc" generic netlink family (ABI 2) against bad callers.
 * Every case expects one precise errno; afterwards the module must still
 * work (tests/vm/abuse.sh checks a port echoes through a real server).
 *
 *   nl_abuse policy        every attribute of every command out of range, of
 *                          the wrong type or length, or missing; oversized
 *                          DATA; unknown commands; the kernel->helper
 *                          commands sent to the kernel; ADD/DEL/GET misuse.
 *                          Needs CAP_NET_ADMIN and a registered ttyrfcd (so
 *                          that no case can make this program the helper).
 *   nl_abuse intruder      a second helper while ttyrfcd is registered: HELLO
 *                          gets EBUSY; LINK/RX/CONFIRM/STATUS naming the live
 *                          sessions (read from GET) get EPERM.
 *   nl_abuse helper        no ttyrfcd may run: this program registers and
 *                          plays a helper that lies (CONFIRM beyond what was
 *                          sent, of old sessions, for deleted ports; RX past
 *                          the credit or out of place; LINK of old sessions;
 *                          STATUS with nonsense), checks each errno and its
 *                          counter, and that tcdrain still waits for the real
 *                          confirmation. The tty side runs in a child process.
 *   nl_abuse eperm [--drop-caps] [--family ID]
 *                          every command must get EPERM (the caller lacks
 *                          CAP_NET_ADMIN in the initial user namespace);
 *                          --drop-caps opens the socket with the capability
 *                          and drops it before sending; --family uses a family
 *                          id found elsewhere (another network namespace,
 *                          where the family is not visible: ENOENT is fine).
 *   nl_abuse stall N       as a helper that stops reading (a 4 KiB socket):
 *                          ports closed and deleted while the kernel's sender
 *                          backs off from the full socket (issue 9, item 1).
 *   nl_abuse race N        as the helper, N rounds of ADD/open/write/DEL
 *                          while a thread sends lies about the port.
 *   nl_abuse fuzz N        N random messages (no DEL) from a non-helper
 *                          socket; ports it created are removed afterwards.
 *   nl_abuse family        print the family's id.
 *
 * Output: TAP-like lines for t_tap (tests/vm/lib.sh), see tlib.h.
 */
#define _GNU_SOURCE
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/serial.h>
#include <linux/ttyrfc.h>

#include "tlib.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define MAX_PORTS	256
#define RXBUF		(256 * 1024)
#define BIGMSG		(80 * 1024)
#define SPAM_SEQ	0x80000000u	/* sequence numbers of the race thread */

static const char *errname(int e)
{
	const char *n;

	if (!e)
		return "0";
	n = strerrorname_np(e < 0 ? -e : e);
	return n ? n : "?";
}

/* ------------------------------------------------------------ the helper's view */

/* What the kernel told us about a port, as a helper keeps it. */
struct fport {
	uint32_t sid;		/* the newest OPEN's session */
	uint8_t kind;
	uint64_t open_tx, open_seq, open_rx, open_limit;
	unsigned int nopen, nclose, nset, ntx, nstale;
	uint32_t close_sid;
	uint64_t tx_end;	/* next TX position expected this session */
	uint64_t seq_end;	/* next control number expected */
	uint64_t last_set_seq, last_set_pos;
	uint64_t rx_limit;
	bool tx_bad;
	char tx_why[160];
	/* TX bytes by position, to check that resent bytes are the same */
	uint8_t hist[1 << 19];	/* > TTYRFC_TX_WINDOW */
	uint64_t hist_hi;	/* positions below this were seen */
};

struct nl {
	struct mnl_socket *sk;
	int fd;
	uint16_t family;
	uint32_t portid;
	uint32_t seq;
	char ext[512];		/* extack message of the last error */
	bool helper;		/* keep track of events */
	size_t rxsize;		/* recv() buffer size; 0: RXBUF */
	pthread_mutex_t lock;	/* the tracker, when the race thread runs */
};

static struct fport *fp[MAX_PORTS];

static struct fport *fport(unsigned int index)
{
	if (index >= MAX_PORTS)
		return NULL;
	if (!fp[index])
		fp[index] = calloc(1, sizeof(struct fport));
	return fp[index];
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if (t > 0 && t <= TTYRFC_A_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static uint64_t u64_of(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) == 8 ? mnl_attr_get_u64(a) : 0;
}

static uint32_t u32_of(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a) : 0;
}

static void track(struct nl *n, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TTYRFC_A_MAX + 1] = { NULL };
	struct fport *p;
	uint32_t sid;

	if (!n->helper || nlh->nlmsg_type != n->family)
		return;
	mnl_attr_parse(nlh, sizeof(*gh), attr_cb, tb);
	if (!tb[TTYRFC_A_INDEX] || !tb[TTYRFC_A_SESSION])
		return;
	p = fport(u32_of(tb[TTYRFC_A_INDEX]));
	if (!p)
		return;
	sid = u32_of(tb[TTYRFC_A_SESSION]);
	pthread_mutex_lock(&n->lock);
	if (gh->cmd == TTYRFC_CMD_OPEN) {
		p->sid = sid;
		p->kind = tb[TTYRFC_A_OPEN_KIND] ?
			  mnl_attr_get_u8(tb[TTYRFC_A_OPEN_KIND]) : 255;
		p->open_tx = u64_of(tb[TTYRFC_A_TX_POS]);
		p->open_seq = u64_of(tb[TTYRFC_A_CTRL_SEQ]);
		p->open_rx = u64_of(tb[TTYRFC_A_RX_POS]);
		p->open_limit = u64_of(tb[TTYRFC_A_RX_LIMIT]);
		p->tx_end = p->open_tx;
		p->seq_end = p->open_seq;
		p->rx_limit = p->open_limit;
		p->nopen++;
	} else if (sid != p->sid) {
		p->nstale++;
	} else if (gh->cmd == TTYRFC_CMD_TX && tb[TTYRFC_A_DATA]) {
		uint64_t pos = u64_of(tb[TTYRFC_A_TX_POS]);
		const uint8_t *d = mnl_attr_get_payload(tb[TTYRFC_A_DATA]);
		size_t len = mnl_attr_get_payload_len(tb[TTYRFC_A_DATA]);

		if (pos != p->tx_end && !p->tx_bad) {
			p->tx_bad = true;
			snprintf(p->tx_why, sizeof(p->tx_why),
				 "TX at %llu, expected %llu",
				 (unsigned long long)pos,
				 (unsigned long long)p->tx_end);
		}
		for (size_t i = 0; i < len; i++) {
			uint64_t at = pos + i;
			uint8_t *h = &p->hist[at % sizeof(p->hist)];

			if (at < p->hist_hi && *h != d[i] && !p->tx_bad) {
				p->tx_bad = true;
				snprintf(p->tx_why, sizeof(p->tx_why),
					 "resent byte %llu differs",
					 (unsigned long long)at);
			}
			*h = d[i];
		}
		if (pos + len > p->hist_hi)
			p->hist_hi = pos + len;
		p->tx_end = pos + len;
		p->ntx++;
	} else if (gh->cmd == TTYRFC_CMD_SET) {
		uint64_t seq = u64_of(tb[TTYRFC_A_CTRL_SEQ]);
		uint64_t pos = u64_of(tb[TTYRFC_A_TX_POS]);

		if ((seq != p->seq_end || pos != p->tx_end) && !p->tx_bad) {
			p->tx_bad = true;
			snprintf(p->tx_why, sizeof(p->tx_why),
				 "SET %llu at %llu, expected %llu at %llu",
				 (unsigned long long)seq,
				 (unsigned long long)pos,
				 (unsigned long long)p->seq_end,
				 (unsigned long long)p->tx_end);
		}
		p->seq_end = seq + 1;
		p->last_set_seq = seq;
		p->last_set_pos = pos;
		p->nset++;
	} else if (gh->cmd == TTYRFC_CMD_RX_LIMIT) {
		uint64_t l = u64_of(tb[TTYRFC_A_RX_LIMIT]);

		if (l > p->rx_limit)
			p->rx_limit = l;
	} else if (gh->cmd == TTYRFC_CMD_CLOSE) {
		p->close_sid = sid;
		p->nclose++;
	}
	pthread_mutex_unlock(&n->lock);
}

/* ------------------------------------------------------------ netlink */

static uint8_t rxbuf[RXBUF];

static int family_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_get_payload_len(a) == 2)
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

/* An NLMSG_ERROR: the errno (negative) and the extack text. */
static int ack_errno(struct nl *n, const struct nlmsghdr *m)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	n->ext[0] = '\0';
	if (!(m->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	if ((m->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    mnl_nlmsg_get_payload_len(m) > off) {
		mnl_attr_for_each(a, m, off)
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG)
				snprintf(n->ext, sizeof(n->ext), "%s",
					 (const char *)mnl_attr_get_payload(a));
	}
	return e->error;
}

typedef void (*reply_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send @len bytes at @msg (sequence @seq) and wait for the answer: 0 or
 * -errno; -ETIMEDOUT if none came in @timeout_ms. Events that arrive
 * meanwhile are tracked; replies (GET, ADD) go to @cb.
 */
static int nl_xfer(struct nl *n, const void *msg, size_t len, uint32_t seq,
		   reply_cb cb, void *data, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	n->ext[0] = '\0';
	if (send(n->fd, msg, len, 0) < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		long long left = end - now_ms();
		const struct nlmsghdr *m = (const void *)rxbuf;
		ssize_t r;
		int rem;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		r = recv(n->fd, rxbuf, n->rxsize ? n->rxsize : sizeof(rxbuf),
			 MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				diag("netlink: our receive buffer overran");
				continue;
			}
			return -errno;
		}
		for (rem = r; mnl_nlmsg_ok(m, rem); m = mnl_nlmsg_next(m, &rem)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(m);

				if (e->msg.nlmsg_seq == seq)
					return ack_errno(n, m);
				continue;	/* the race thread's */
			}
			if (m->nlmsg_type == NLMSG_DONE) {
				if (m->nlmsg_seq == seq)
					return 0;
				continue;
			}
			if (m->nlmsg_seq == seq && m->nlmsg_seq && cb) {
				cb(m, data);
				continue;
			}
			track(n, m);
		}
	}
}

/* Read and track events for @ms. */
static void nl_pump(struct nl *n, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		long long left = end - now_ms();
		const struct nlmsghdr *m = (const void *)rxbuf;
		ssize_t r;
		int rem;

		if (left < 0)
			left = 0;
		if (poll(&pfd, 1, left) <= 0) {
			if (left == 0)
				return;
			continue;
		}
		r = recv(n->fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT);
		if (r <= 0)
			continue;
		for (rem = r; mnl_nlmsg_ok(m, rem); m = mnl_nlmsg_next(m, &rem))
			if (m->nlmsg_type != NLMSG_ERROR &&
			    m->nlmsg_type != NLMSG_DONE)
				track(n, m);
	}
}

static struct nlmsghdr *msg_start(struct nl *n, void *buf, uint16_t type,
				  uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++n->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = TTYRFC_GENL_VERSION;
	return nlh;
}

static struct nlmsghdr *msg_new(struct nl *n, void *buf, uint8_t cmd,
				uint16_t flags)
{
	return msg_start(n, buf, n->family, cmd, flags);
}

static int nl_call(struct nl *n, struct nlmsghdr *nlh, reply_cb cb,
		   void *data)
{
	return nl_xfer(n, nlh, nlh->nlmsg_len, nlh->nlmsg_seq, cb, data, 5000);
}

static int nl_open(struct nl *n, bool helper, int family)
{
	int one = 1, size = 8 << 20;

	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	n->helper = helper;
	n->seq = 1000;
	n->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!n->sk)
		return -errno;
	if (mnl_socket_bind(n->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	n->fd = mnl_socket_get_fd(n->sk);
	n->portid = mnl_socket_get_portid(n->sk);
	setsockopt(n->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* errors without our 16 KiB payloads echoed back */
	setsockopt(n->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(n->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (family >= 0)
		n->family = family;
	return 0;
}

static void family_reply(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_cb, data);
}

/* nl_open() and the family id; -errno (-ENOENT: not visible here). */
static int nl_connect(struct nl *n, bool helper, int family)
{
	char buf[512];
	struct nlmsghdr *nlh;
	int ret = nl_open(n, helper, family);

	if (ret || family >= 0)
		return ret;
	nlh = msg_start(n, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TTYRFC_GENL_NAME);
	ret = nl_call(n, nlh, family_reply, &n->family);
	if (!ret && !n->family)
		ret = -EPROTO;
	return ret;
}

static void nl_close(struct nl *n)
{
	if (n->sk)
		mnl_socket_close(n->sk);
	n->sk = NULL;
}

/* ------------------------------------------------------------ attribute lists */

enum akind { A_END, A_U8, A_U16, A_U32, A_U64, A_STR, A_BYTES, A_FILL,
	     A_NEST, A_NEST_BARE, A_NEST_END, A_FLAGGED_U32, A_TRAIL };

struct a {
	enum akind k;
	uint16_t type;
	uint64_t v;		/* value; for A_FILL: the length */
	const char *s;		/* A_STR (with NUL), A_BYTES (v bytes) */
};

#define U8(t, x)	{ A_U8, TTYRFC_A_##t, (x), NULL }
#define U16(t, x)	{ A_U16, TTYRFC_A_##t, (x), NULL }
#define U32(t, x)	{ A_U32, TTYRFC_A_##t, (x), NULL }
#define U64(t, x)	{ A_U64, TTYRFC_A_##t, (x), NULL }
#define STR(t, x)	{ A_STR, TTYRFC_A_##t, 0, (x) }
#define BYTES(t, x, n)	{ A_BYTES, TTYRFC_A_##t, (n), (x) }
#define FILL(t, n)	{ A_FILL, TTYRFC_A_##t, (n), NULL }
#define NEST(t)		{ A_NEST, TTYRFC_A_##t, 0, NULL }
#define NEST_BARE(t)	{ A_NEST_BARE, TTYRFC_A_##t, 0, NULL }
#define NEST_END	{ A_NEST_END, 0, 0, NULL }
#define RAWT_U32(t, x)	{ A_U32, (t), (x), NULL }
#define RAWT_U64(t, x)	{ A_U64, (t), (x), NULL }
#define FLAGGED_U32(t, x) { A_FLAGGED_U32, TTYRFC_A_##t, (x), NULL }
#define TRAIL(n)	{ A_TRAIL, 0, (n), NULL }

static uint8_t fillbuf[65536];

static void put_attrs(struct nlmsghdr *nlh, const struct a *a)
{
	struct nlattr *nest[4];
	int depth = 0;

	for (; a->k != A_END; a++) {
		switch (a->k) {
		case A_U8:
			mnl_attr_put_u8(nlh, a->type, a->v);
			break;
		case A_U16:
			mnl_attr_put_u16(nlh, a->type, a->v);
			break;
		case A_U32:
			mnl_attr_put_u32(nlh, a->type, a->v);
			break;
		case A_U64:
			mnl_attr_put_u64(nlh, a->type, a->v);
			break;
		case A_STR:
			mnl_attr_put_strz(nlh, a->type, a->s);
			break;
		case A_BYTES:
			mnl_attr_put(nlh, a->type, a->v, a->s);
			break;
		case A_FILL:
			mnl_attr_put(nlh, a->type, a->v, fillbuf);
			break;
		case A_NEST:
			nest[depth++] = mnl_attr_nest_start(nlh, a->type);
			break;
		case A_NEST_BARE:
			/* a nest without NLA_F_NESTED */
			nest[depth] = mnl_attr_nest_start(nlh, a->type);
			nest[depth++]->nla_type = a->type;
			break;
		case A_NEST_END:
			mnl_attr_nest_end(nlh, nest[--depth]);
			break;
		case A_FLAGGED_U32:
			mnl_attr_put_u32(nlh, a->type | NLA_F_NESTED, a->v);
			break;
		case A_TRAIL: {
			/*
			 * Bytes after the last attribute that are not one: a
			 * header claiming more than there is.
			 */
			uint8_t *t = mnl_nlmsg_get_payload_tail(nlh);

			memset(t, 0, MNL_ALIGN(a->v));
			memset(t, 0xa5, a->v);
			nlh->nlmsg_len += MNL_ALIGN(a->v);
			break;
		}
		case A_END:
			break;
		}
	}
}

/* ------------------------------------------------------------ checks */

static bool expect(int got, int want, const char *what)
{
	bool ok = got == -want;

	if (!ok)
		diag("got %s, want %s%s%s", errname(got), errname(want),
		     *what ? "; kernel said: " : "", what);
	return ok;
}

struct pcase {
	const char *name;
	uint8_t cmd;
	uint16_t flags;
	int want;
	struct a attrs[12];
};

#define IDX0	U32(INDEX, 0)
#define SID1	U32(SESSION, 1)

static void index_reply(const struct nlmsghdr *nlh, void *data);
static int nl_del(struct nl *n, unsigned int index);

static void run_cases(struct nl *n, const struct pcase *c, size_t count,
		      const char *prefix)
{
	static char buf[BIGMSG];

	for (size_t i = 0; i < count; i++, c++) {
		struct nlmsghdr *nlh = msg_new(n, buf, c->cmd, c->flags);
		int ret, index = -1;

		put_attrs(nlh, c->attrs);
		ret = nl_call(n, nlh, index_reply, &index);
		tap(expect(ret, c->want, n->ext), "%s%s: %s", prefix,
		    c->name, errname(c->want));
		/* an ADD that should have failed made a port: remove it */
		if (!ret && c->cmd == TTYRFC_CMD_ADD && index >= 0) {
			diag("(it made ttyRFC%d; removed again)", index);
			nl_del(n, index);
		}
	}
}

/* Ports as GET shows them: index, remote, name. */
struct portlist {
	unsigned int n;
	struct {
		unsigned int index;
		char host[300];
		unsigned int port;
		char name[80];
		uint32_t sid;
	} p[MAX_PORTS];
};

static void list_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1] = { NULL };
	struct portlist *l = data;

	if (l->n >= MAX_PORTS)
		return;
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, tb);
	if (!tb[TTYRFC_A_INDEX])
		return;
	l->p[l->n].index = u32_of(tb[TTYRFC_A_INDEX]);
	snprintf(l->p[l->n].host, sizeof(l->p[0].host), "%s",
		 tb[TTYRFC_A_HOST] ? mnl_attr_get_str(tb[TTYRFC_A_HOST]) : "");
	l->p[l->n].port = tb[TTYRFC_A_PORT] ?
			  mnl_attr_get_u16(tb[TTYRFC_A_PORT]) : 0;
	snprintf(l->p[l->n].name, sizeof(l->p[0].name), "%s",
		 tb[TTYRFC_A_NAME] ? mnl_attr_get_str(tb[TTYRFC_A_NAME]) : "");
	l->p[l->n].sid = u32_of(tb[TTYRFC_A_SESSION]);
	l->n++;
}

static int port_list(struct nl *n, struct portlist *l)
{
	char buf[512];
	struct nlmsghdr *nlh = msg_new(n, buf, TTYRFC_CMD_GET, NLM_F_DUMP);

	memset(l, 0, sizeof(*l));
	return nl_call(n, nlh, list_reply, l);
}

static bool same_ports(const struct portlist *a, const struct portlist *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (a->p[i].index != b->p[i].index ||
		    strcmp(a->p[i].host, b->p[i].host) ||
		    a->p[i].port != b->p[i].port ||
		    strcmp(a->p[i].name, b->p[i].name))
			return false;
	return true;
}

static void index_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1] = { NULL };

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_cb, tb);
	if (tb[TTYRFC_A_INDEX])
		*(int *)data = u32_of(tb[TTYRFC_A_INDEX]);
}

/* ADD over netlink: the index, or -errno. */
static int nl_add(struct nl *n, const char *host, unsigned int port,
		  const char *name)
{
	char buf[1024];
	struct nlmsghdr *nlh = msg_new(n, buf, TTYRFC_CMD_ADD, 0);
	int index = -1, ret;

	mnl_attr_put_strz(nlh, TTYRFC_A_HOST, host);
	mnl_attr_put_u16(nlh, TTYRFC_A_PORT, port);
	if (name)
		mnl_attr_put_strz(nlh, TTYRFC_A_NAME, name);
	ret = nl_call(n, nlh, index_reply, &index);
	return ret ? ret : index;
}

static int nl_del(struct nl *n, unsigned int index)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_new(n, buf, TTYRFC_CMD_DEL, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, index);
	return nl_call(n, nlh, NULL, NULL);
}

static int nl_hello(struct nl *n, uint32_t version)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_new(n, buf, TTYRFC_CMD_HELLO, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, version);
	return nl_call(n, nlh, NULL, NULL);
}

/* ------------------------------------------------------------ mode: policy */

static char long_host[300], long_name[80], long_path[1100];

static const struct pcase policy_cases[] = {
	/* HELLO */
	{ "HELLO without VERSION", TTYRFC_CMD_HELLO, 0, EINVAL, { } },
	{ "HELLO VERSION as u8", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U8(VERSION, 2) } },
	{ "HELLO VERSION as u64", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U64(VERSION, 2) } },
	{ "HELLO VERSION 1", TTYRFC_CMD_HELLO, 0, EPROTO,
	  { U32(VERSION, 1) } },
	{ "HELLO VERSION 3", TTYRFC_CMD_HELLO, 0, EPROTO,
	  { U32(VERSION, 3) } },
	{ "HELLO VERSION 0xffffffff", TTYRFC_CMD_HELLO, 0, EPROTO,
	  { U32(VERSION, 0xffffffff) } },
	{ "HELLO with attribute type 0", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U32(VERSION, 2), RAWT_U32(0, 1) } },
	{ "HELLO with PAD (no policy)", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U32(VERSION, 2), U32(PAD, 0) } },
	{ "HELLO with an attribute above TTYRFC_A_MAX", TTYRFC_CMD_HELLO, 0,
	  EINVAL, { U32(VERSION, 2), RAWT_U32(TTYRFC_A_MAX + 1, 1) } },
	{ "HELLO with attribute type 0x3fff", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U32(VERSION, 2), RAWT_U32(0x3fff, 1) } },
	{ "HELLO with RX_LIMIT (a kernel->helper attribute)", TTYRFC_CMD_HELLO,
	  0, EINVAL, { U32(VERSION, 2), U64(RX_LIMIT, 1) } },
	{ "HELLO VERSION flagged NLA_F_NESTED", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { FLAGGED_U32(VERSION, 2) } },
	{ "HELLO with trailing bytes", TTYRFC_CMD_HELLO, 0, EINVAL,
	  { U32(VERSION, 2), TRAIL(3) } },

	/* LINK */
	{ "LINK without LINK", TTYRFC_CMD_LINK, 0, EINVAL, { IDX0, SID1 } },
	{ "LINK = 3", TTYRFC_CMD_LINK, 0, ERANGE,
	  { IDX0, SID1, U8(LINK, 3) } },
	{ "LINK = 255", TTYRFC_CMD_LINK, 0, ERANGE,
	  { IDX0, SID1, U8(LINK, 255) } },
	{ "LINK as u32", TTYRFC_CMD_LINK, 0, EINVAL,
	  { IDX0, SID1, U32(LINK, 2) } },
	{ "LINK ERRNO 4096 (> MAX_ERRNO)", TTYRFC_CMD_LINK, 0, ERANGE,
	  { IDX0, SID1, U8(LINK, 0), U32(ERRNO, 4096) } },
	{ "LINK ERRNO as u8", TTYRFC_CMD_LINK, 0, EINVAL,
	  { IDX0, SID1, U8(LINK, 0), U8(ERRNO, 5) } },
	{ "LINK INDEX 256", TTYRFC_CMD_LINK, 0, ERANGE,
	  { U32(INDEX, 256), SID1, U8(LINK, 2) } },
	{ "LINK INDEX 0xffffffff", TTYRFC_CMD_LINK, 0, ERANGE,
	  { U32(INDEX, 0xffffffff), SID1, U8(LINK, 2) } },
	{ "LINK INDEX as u16", TTYRFC_CMD_LINK, 0, EINVAL,
	  { U16(INDEX, 0), SID1, U8(LINK, 2) } },
	{ "LINK SESSION 0", TTYRFC_CMD_LINK, 0, ERANGE,
	  { IDX0, U32(SESSION, 0), U8(LINK, 2) } },
	{ "LINK SESSION as u64", TTYRFC_CMD_LINK, 0, EINVAL,
	  { IDX0, U64(SESSION, 1), U8(LINK, 2) } },
	{ "LINK from a socket that is not the helper", TTYRFC_CMD_LINK, 0,
	  EPERM, { IDX0, SID1, U8(LINK, 2) } },

	/* RX */
	{ "RX without DATA", TTYRFC_CMD_RX, 0, EINVAL,
	  { IDX0, SID1, U64(RX_POS, 0) } },
	{ "RX without RX_POS", TTYRFC_CMD_RX, 0, EINVAL,
	  { IDX0, SID1, FILL(DATA, 4) } },
	{ "RX RX_POS as u32", TTYRFC_CMD_RX, 0, EINVAL,
	  { IDX0, SID1, U32(RX_POS, 0), FILL(DATA, 4) } },
	{ "RX DATA of 16385 bytes (> TTYRFC_MAX_DATA)", TTYRFC_CMD_RX, 0,
	  ERANGE, { IDX0, SID1, U64(RX_POS, 0), FILL(DATA, 16385) } },
	{ "RX DATA of 65000 bytes", TTYRFC_CMD_RX, 0, ERANGE,
	  { IDX0, SID1, U64(RX_POS, 0), FILL(DATA, 65000) } },
	{ "RX DATA of 16384 bytes from a non-helper", TTYRFC_CMD_RX, 0, EPERM,
	  { IDX0, SID1, U64(RX_POS, 0), FILL(DATA, 16384) } },
	{ "RX DATA flagged NLA_F_NESTED", TTYRFC_CMD_RX, 0, EINVAL,
	  { IDX0, SID1, U64(RX_POS, 0), FLAGGED_U32(DATA, 0) } },

	/* CONFIRM */
	{ "CONFIRM without TX_POS", TTYRFC_CMD_CONFIRM, 0, EINVAL,
	  { IDX0, SID1, U64(CTRL_SEQ, 0) } },
	{ "CONFIRM without CTRL_SEQ", TTYRFC_CMD_CONFIRM, 0, EINVAL,
	  { IDX0, SID1, U64(TX_POS, 0) } },
	{ "CONFIRM TX_POS as u32", TTYRFC_CMD_CONFIRM, 0, EINVAL,
	  { IDX0, SID1, U32(TX_POS, 0), U64(CTRL_SEQ, 0) } },
	{ "CONFIRM CTRL_SEQ as u8", TTYRFC_CMD_CONFIRM, 0, EINVAL,
	  { IDX0, SID1, U64(TX_POS, 0), U8(CTRL_SEQ, 0) } },
	{ "CONFIRM from a socket that is not the helper", TTYRFC_CMD_CONFIRM,
	  0, EPERM, { IDX0, SID1, U64(TX_POS, 0), U64(CTRL_SEQ, 0) } },

	/* STATUS */
	{ "STATUS MODEM with TIOCM_LE", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(MODEM, TIOCM_LE) } },
	{ "STATUS MODEM with DTR (a local line)", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(MODEM, TIOCM_DTR | TIOCM_CTS) } },
	{ "STATUS MODEM 0xffffffff", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(MODEM, 0xffffffff) } },
	{ "STATUS MODEM as u8", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U8(MODEM, TIOCM_CTS) } },
	{ "STATUS LINE bit 4", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(LINE, 1 << 4) } },
	{ "STATUS LINE 0x80000000", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(LINE, 0x80000000) } },
	{ "STATUS SERVER without NLA_F_NESTED", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST_BARE(SERVER), U32(BAUD, 9600), NEST_END } },
	{ "STATUS SERVER as u32", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, U32(SERVER, 1) } },
	{ "STATUS SERVER DATA_BITS 4", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(DATA_BITS, 4), NEST_END } },
	{ "STATUS SERVER DATA_BITS 9", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(DATA_BITS, 9), NEST_END } },
	{ "STATUS SERVER PARITY 5", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(PARITY, 5), NEST_END } },
	{ "STATUS SERVER STOP_BITS 0", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(STOP_BITS, 0), NEST_END } },
	{ "STATUS SERVER STOP_BITS 3", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(STOP_BITS, 3), NEST_END } },
	{ "STATUS SERVER FLOW 3", TTYRFC_CMD_STATUS, 0, ERANGE,
	  { IDX0, SID1, NEST(SERVER), U8(FLOW, 3), NEST_END } },
	{ "STATUS SERVER BAUD as u8", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST(SERVER), U8(BAUD, 96), NEST_END } },
	{ "STATUS SERVER with INDEX inside", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST(SERVER), U32(INDEX, 0), NEST_END } },
	{ "STATUS SERVER with trailing bytes", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST(SERVER), U32(BAUD, 9600), TRAIL(2), NEST_END } },
	{ "STATUS STATS setting TX_BYTES (kernel's own)", TTYRFC_CMD_STATUS, 0,
	  EINVAL, { IDX0, SID1, NEST(STATS),
		    RAWT_U64(TTYRFC_STAT_TX_BYTES, 1), NEST_END } },
	{ "STATUS STATS setting BAD_MSGS (kernel's own)", TTYRFC_CMD_STATUS, 0,
	  EINVAL, { IDX0, SID1, NEST(STATS),
		    RAWT_U64(TTYRFC_STAT_BAD_MSGS, 0), NEST_END } },
	{ "STATUS STATS PROTO_ERRORS as u32", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST(STATS), RAWT_U32(TTYRFC_STAT_PROTO_ERRORS, 1),
	    NEST_END } },
	{ "STATUS STATS counter above TTYRFC_STAT_MAX", TTYRFC_CMD_STATUS, 0,
	  EINVAL, { IDX0, SID1, NEST(STATS),
		    RAWT_U64(TTYRFC_STAT_MAX + 1, 1), NEST_END } },
	{ "STATUS STATS nested in SERVER", TTYRFC_CMD_STATUS, 0, EINVAL,
	  { IDX0, SID1, NEST(SERVER), NEST(STATS), NEST_END, NEST_END } },
	{ "STATUS from a socket that is not the helper", TTYRFC_CMD_STATUS, 0,
	  EPERM, { IDX0, SID1, U32(MODEM, TIOCM_CTS) } },

	/* ADD */
	{ "ADD without HOST", TTYRFC_CMD_ADD, 0, EINVAL, { U16(PORT, 9) } },
	{ "ADD without PORT", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9") } },
	{ "ADD HOST not NUL-terminated", TTYRFC_CMD_ADD, 0, EINVAL,
	  { BYTES(HOST, "127.0.0.9", 9), U16(PORT, 9) } },
	{ "ADD HOST empty", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, ""), U16(PORT, 9) } },
	/* a NUL_STRING longer than allowed has no NUL where it may: EINVAL */
	{ "ADD HOST of 256 characters", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, long_host), U16(PORT, 9) } },
	{ "ADD PORT 0", TTYRFC_CMD_ADD, 0, ERANGE,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 0) } },
	{ "ADD PORT as u32", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U32(PORT, 9) } },
	{ "ADD NAME with '/'", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9001), STR(NAME, "a/b") } },
	{ "ADD NAME with a space", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9002), STR(NAME, "a b") } },
	{ "ADD NAME with a newline", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9003), STR(NAME, "a\nb") } },
	{ "ADD NAME with a byte >= 0x80", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9004), STR(NAME, "caf\xc3\xa9") } },
	{ "ADD NAME of 64 characters", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9005), STR(NAME, long_name) } },
	{ "ADD NAME \"..\" (it would become /dev/serial/rfc2217/..)",
	  TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9006), STR(NAME, "..") } },
	{ "ADD NAME \".\"", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9007), STR(NAME, ".") } },
	{ "ADD FLAGS with an unknown bit (1 << 3)", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9008), U32(FLAGS, 1 << 3) } },
	{ "ADD FLAGS 0xffffffff", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9009), U32(FLAGS, 0xffffffff) } },
	{ "ADD FLAGS as u8", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9010), U8(FLAGS, 1) } },
	{ "ADD TLS nest without the TLS flag", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9101), NEST(TLS),
	    { A_STR, TTYRFC_TLS_CA, 0, "/etc/ssl/ca.pem" }, NEST_END } },
	{ "ADD TLS nest without NLA_F_NESTED", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9102), U32(FLAGS, TTYRFC_F_TLS),
	    NEST_BARE(TLS), { A_STR, TTYRFC_TLS_CA, 0, "/x" }, NEST_END } },
	{ "ADD TLS as u32", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9103), U32(FLAGS, TTYRFC_F_TLS),
	    U32(TLS, 1) } },
	{ "ADD TLS CA of 1024 characters", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9104), U32(FLAGS, TTYRFC_F_TLS),
	    NEST(TLS), { A_STR, TTYRFC_TLS_CA, 0, long_path }, NEST_END } },
	{ "ADD TLS SERVER_NAME of 256 characters", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9105), U32(FLAGS, TTYRFC_F_TLS),
	    NEST(TLS), { A_STR, TTYRFC_TLS_SERVER_NAME, 0, long_host }, NEST_END } },
	{ "ADD TLS KEY not NUL-terminated", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9106), U32(FLAGS, TTYRFC_F_TLS),
	    NEST(TLS), { A_BYTES, TTYRFC_TLS_KEY, 4, "/key" }, NEST_END } },
	{ "ADD TLS with an unknown attribute inside", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9107), U32(FLAGS, TTYRFC_F_TLS),
	    NEST(TLS), RAWT_U32(TTYRFC_TLS_MAX + 1, 0), NEST_END } },
	{ "ADD TLS CA of 4 bytes without a NUL", TTYRFC_CMD_ADD, 0, EINVAL,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9108), U32(FLAGS, TTYRFC_F_TLS),
	    NEST(TLS), RAWT_U32(TTYRFC_TLS_CA, 0x41414141), NEST_END } },
	{ "ADD as a dump", TTYRFC_CMD_ADD, NLM_F_DUMP, EOPNOTSUPP,
	  { STR(HOST, "127.0.0.9"), U16(PORT, 9011) } },

	/* DEL */
	{ "DEL without INDEX", TTYRFC_CMD_DEL, 0, EINVAL, { } },
	{ "DEL INDEX 256", TTYRFC_CMD_DEL, 0, ERANGE, { U32(INDEX, 256) } },
	{ "DEL INDEX as u8", TTYRFC_CMD_DEL, 0, EINVAL, { U8(INDEX, 0) } },
	{ "DEL INDEX 255 (no such port)", TTYRFC_CMD_DEL, 0, ENODEV,
	  { U32(INDEX, 255) } },
	{ "DEL as a dump", TTYRFC_CMD_DEL, NLM_F_DUMP, EOPNOTSUPP,
	  { U32(INDEX, 255) } },

	/* GET */
	{ "GET without NLM_F_DUMP", TTYRFC_CMD_GET, 0, EOPNOTSUPP, { } },
	{ "GET dump with INDEX 256", TTYRFC_CMD_GET, NLM_F_DUMP, ERANGE,
	  { U32(INDEX, 256) } },
	{ "GET dump with an unknown attribute", TTYRFC_CMD_GET, NLM_F_DUMP,
	  EINVAL, { RAWT_U32(TTYRFC_A_MAX + 5, 0) } },

	/* commands that do not exist, or go the other way */
	{ "command 0 (UNSPEC)", TTYRFC_CMD_UNSPEC, 0, EOPNOTSUPP, { } },
	{ "OPEN sent to the kernel", TTYRFC_CMD_OPEN, 0, EOPNOTSUPP,
	  { IDX0, SID1 } },
	{ "CLOSE sent to the kernel", TTYRFC_CMD_CLOSE, 0, EOPNOTSUPP,
	  { IDX0, SID1 } },
	{ "TX sent to the kernel", TTYRFC_CMD_TX, 0, EOPNOTSUPP,
	  { IDX0, SID1, U64(TX_POS, 0), FILL(DATA, 8) } },
	{ "SET sent to the kernel", TTYRFC_CMD_SET, 0, EOPNOTSUPP,
	  { IDX0, SID1, U64(TX_POS, 0), U64(CTRL_SEQ, 0), U32(BAUD, 9600) } },
	{ "RX_LIMIT sent to the kernel", TTYRFC_CMD_RX_LIMIT, 0, EOPNOTSUPP,
	  { IDX0, SID1, U64(RX_LIMIT, 1 << 30) } },
	{ "TX sent to the kernel as a dump", TTYRFC_CMD_TX, NLM_F_DUMP,
	  EOPNOTSUPP, { IDX0, SID1 } },
	{ "command TTYRFC_CMD_MAX + 1", TTYRFC_CMD_MAX + 1, 0, EOPNOTSUPP, { } },
	{ "command 100", 100, 0, EOPNOTSUPP, { } },
	{ "command 255", 255, 0, EOPNOTSUPP, { } },
	{ "command 255 as a dump", 255, NLM_F_DUMP, EOPNOTSUPP, { } },
};

static int policy_mode(void)
{
	struct portlist before, after;
	static char buf[BIGMSG];
	struct nlmsghdr *nlh;
	struct nl n;
	int ret, idx, idx2;

	memset(long_host, 'h', 256);
	memset(long_name, 'n', 64);
	memset(long_path, 'p', 1024);
	ret = nl_connect(&n, false, -1);
	if (ret) {
		tap(false, "find the ttyrfc family: %s", errname(ret));
		return tap_end();
	}
	tap(port_list(&n, &before) == 0, "GET lists the ports before");

	run_cases(&n, policy_cases, sizeof(policy_cases) / sizeof(*policy_cases),
		  "");

	/* messages the netlink and genetlink cores must turn away */
	nlh = msg_new(&n, buf, TTYRFC_CMD_HELLO, 0);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;	/* half a genetlink header */
	ret = nl_call(&n, nlh, NULL, NULL);
	tap(expect(ret, EINVAL, n.ext), "HELLO cut inside its genetlink header: EINVAL");

	nlh = msg_new(&n, buf, TTYRFC_CMD_HELLO, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, 2);
	((struct nlattr *)((char *)nlh + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 2;
	ret = nl_call(&n, nlh, NULL, NULL);
	tap(expect(ret, EINVAL, n.ext), "attribute with nla_len 2: EINVAL");

	nlh = msg_new(&n, buf, TTYRFC_CMD_HELLO, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, 2);
	((struct nlattr *)((char *)nlh + NLMSG_HDRLEN + GENL_HDRLEN))->nla_len = 200;
	ret = nl_call(&n, nlh, NULL, NULL);
	tap(expect(ret, EINVAL, n.ext),
	    "attribute longer than its message: EINVAL");

	/* a message larger than the socket may send at all */
	{
		size_t big = 1 << 20;
		char *m = calloc(1, big);
		struct nlmsghdr *h = msg_new(&n, m, TTYRFC_CMD_RX, 0);

		h->nlmsg_len = big;
		ret = send(n.fd, m, big, 0) < 0 ? -errno : 0;
		free(m);
		tap(expect(ret, EMSGSIZE, ""),
		    "1 MiB message: send() fails with EMSGSIZE");
	}

	/* an ADD that may succeed, and what must clash with it */
	idx = nl_add(&n, long_host + 1, 9, NULL);	/* 255 characters */
	tap(idx >= 0, "ADD HOST of 255 characters is accepted (%s)",
	    idx < 0 ? errname(idx) : "ok");
	idx2 = nl_add(&n, "127.0.0.9", 4999, "abuse-dup");
	tap(idx2 >= 0, "ADD 127.0.0.9:4999 --name abuse-dup");
	ret = nl_add(&n, "127.0.0.9", 4999, NULL);
	tap(expect(ret, EEXIST, n.ext), "ADD of the same remote again: EEXIST");
	ret = nl_add(&n, "127.0.0.9", 5000, "abuse-dup");
	tap(expect(ret, EEXIST, n.ext), "ADD with the same name again: EEXIST");
	ret = nl_add(&n, "127.0.0.9", 4998, "a-b.c:d=e@f_g#h+i");
	tap(ret >= 0, "ADD NAME with every allowed punctuation: accepted");
	if (ret >= 0)
		nl_del(&n, ret);
	if (idx >= 0) {
		tap(nl_del(&n, idx) == 0, "DEL of the 255-character port");
		ret = nl_del(&n, idx);
		tap(expect(ret, ENODEV, n.ext), "DEL of it again: ENODEV");
	}
	if (idx2 >= 0)
		nl_del(&n, idx2);

	/* an mDNS service needs no PORT */
	{
		char buf[1024];
		struct nlmsghdr *nlh = msg_new(&n, buf, TTYRFC_CMD_ADD, 0);
		int index = -1;

		mnl_attr_put_strz(nlh, TTYRFC_A_HOST, "abuse-board._iostream._tcp");
		mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, TTYRFC_F_MDNS);
		ret = nl_call(&n, nlh, index_reply, &index);
		tap(ret == 0 && index >= 0, "ADD of an mDNS service without PORT: accepted (%s)",
		    errname(ret));
		if (index >= 0) {
			/* another kind of remote with the same name: no clash */
			ret = nl_add(&n, "abuse-board._iostream._tcp", 4000, NULL);
			tap(ret >= 0, "ADD of host:port named like the mDNS service: a port of its own (%s)",
			    ret < 0 ? errname(ret) : "accepted");
			if (ret >= 0)
				nl_del(&n, ret);
			nlh = msg_new(&n, buf, TTYRFC_CMD_ADD, 0);
			mnl_attr_put_strz(nlh, TTYRFC_A_HOST, "ABUSE-board._iostream._tcp");
			mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, TTYRFC_F_MDNS);
			ret = nl_call(&n, nlh, NULL, NULL);
			tap(expect(ret, EEXIST, n.ext),
			    "ADD of the same mDNS service again (other case): EEXIST");
			nl_del(&n, index);
		}
	}
	/*
	 * The largest port there can be (TLS paths of 1023 characters, a
	 * host of 255, a name of 63): GET must list it, and every port after
	 * it, or fail; never end the list quietly without them.
	 */
	{
		static char buf[16384];
		char ca[1024], cert[1024], key[1024], host[256], sni[256], name[64];
		struct nlmsghdr *nlh = msg_new(&n, buf, TTYRFC_CMD_ADD, 0);
		struct nlattr *nest;
		struct portlist l;
		int big = -1, after_big;

		memset(ca, 'c', 1023);
		ca[0] = '/';
		ca[1023] = '\0';
		memcpy(cert, ca, sizeof(cert));
		memcpy(key, ca, sizeof(key));
		memset(host, 'b', 255);
		host[255] = '\0';
		memset(sni, 's', 255);
		sni[255] = '\0';
		memset(name, 'N', 63);
		name[63] = '\0';
		mnl_attr_put_strz(nlh, TTYRFC_A_HOST, host);
		mnl_attr_put_u16(nlh, TTYRFC_A_PORT, 65535);
		mnl_attr_put_strz(nlh, TTYRFC_A_NAME, name);
		mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, TTYRFC_F_TLS);
		nest = mnl_attr_nest_start(nlh, TTYRFC_A_TLS);
		mnl_attr_put_strz(nlh, TTYRFC_TLS_CA, ca);
		mnl_attr_put_strz(nlh, TTYRFC_TLS_CERT, cert);
		mnl_attr_put_strz(nlh, TTYRFC_TLS_KEY, key);
		mnl_attr_put_strz(nlh, TTYRFC_TLS_SERVER_NAME, sni);
		mnl_attr_nest_end(nlh, nest);
		ret = nl_call(&n, nlh, index_reply, &big);
		tap(ret == 0 && big >= 0,
		    "ADD of a TLS port with every string at its longest: accepted (%s)",
		    errname(ret));
		after_big = nl_add(&n, "127.0.0.9", 4997, "after-big");
		/*
		 * As ttyrfcctl asks (a 64 KiB buffer, after other requests),
		 * and as a fresh libmnl client with MNL_SOCKET_BUFFER_SIZE
		 * (4 KiB) would: the kernel sizes dump messages by the
		 * buffer it saw last, a page at first.
		 */
		for (int pass = 0; pass < 2; pass++) {
			struct nl small, *via = &n;
			bool seen_big = false, seen_after = false;

			if (pass) {
				nl_open(&small, false, n.family);
				small.rxsize = 4096;
				via = &small;
			}
			ret = port_list(via, &l);
			for (unsigned int i = 0; i < l.n; i++) {
				seen_big |= (int)l.p[i].index == big;
				seen_after |= (int)l.p[i].index == after_big;
			}
			if (!ret && (!seen_big || !seen_after))
				diag("GET ended without error after %u ports, without %s%s%s",
				     l.n, seen_big ? "" : "the big port",
				     !seen_big && !seen_after ? " and " : "",
				     seen_after ? "" : "the port added after it");
			tap(ret != 0 || (seen_big && seen_after),
			    "GET %s lists the largest port and the one after it, or fails (%s)",
			    pass ? "from a fresh socket reading 4 KiB" :
			    "with a 256 KiB buffer", errname(ret));
			if (pass)
				nl_close(&small);
		}
		if (big >= 0)
			nl_del(&n, big);
		if (after_big >= 0)
			nl_del(&n, after_big);
	}

	/* fill every minor: ENOSPC, then give them back */
	{
		int made[MAX_PORTS], nmade = 0;

		for (int i = 0; i < MAX_PORTS; i++) {
			ret = nl_add(&n, "127.0.0.10", 1000 + i, NULL);
			if (ret < 0)
				break;
			made[nmade++] = ret;
		}
		tap(expect(ret, ENOSPC, n.ext),
		    "ADD once every minor is taken (%d made): ENOSPC", nmade);
		for (int i = 0; i < nmade; i++)
			nl_del(&n, made[i]);
	}

	tap(port_list(&n, &after) == 0 && same_ports(&before, &after),
	    "GET lists the same ports afterwards (%u before, %u after)",
	    before.n, after.n);
	nl_close(&n);
	return tap_end();
}

/* ------------------------------------------------------------ mode: intruder */

static int intruder_mode(void)
{
	struct portlist l;
	struct nl n;
	int ret, live = 0;

	ret = nl_connect(&n, false, -1);
	if (ret) {
		tap(false, "find the ttyrfc family: %s", errname(ret));
		return tap_end();
	}
	ret = nl_hello(&n, TTYRFC_GENL_VERSION);
	tap(expect(ret, EBUSY, n.ext),
	    "HELLO version 2 while ttyrfcd is registered: EBUSY");
	ret = nl_hello(&n, TTYRFC_GENL_VERSION);
	tap(expect(ret, EBUSY, n.ext), "and again: EBUSY");
	ret = nl_hello(&n, 1);
	tap(expect(ret, EPROTO, n.ext), "HELLO version 1: EPROTO");

	port_list(&n, &l);
	for (unsigned int i = 0; i < l.n; i++) {
		char buf[32768];
		struct nlmsghdr *nlh;
		unsigned int ix = l.p[i].index;
		uint32_t sid = l.p[i].sid;

		if (!sid)
			continue;
		live++;
		nlh = msg_new(&n, buf, TTYRFC_CMD_LINK, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
		mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
		mnl_attr_put_u8(nlh, TTYRFC_A_LINK, TTYRFC_LINK_DOWN);
		ret = nl_call(&n, nlh, NULL, NULL);
		tap(expect(ret, EPERM, n.ext),
		    "LINK DOWN for live session %u of ttyRFC%u: EPERM", sid, ix);

		nlh = msg_new(&n, buf, TTYRFC_CMD_CONFIRM, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
		mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
		mnl_attr_put_u64(nlh, TTYRFC_A_TX_POS, 1ULL << 40);
		mnl_attr_put_u64(nlh, TTYRFC_A_CTRL_SEQ, 1ULL << 40);
		ret = nl_call(&n, nlh, NULL, NULL);
		tap(expect(ret, EPERM, n.ext),
		    "CONFIRM for live session %u of ttyRFC%u: EPERM", sid, ix);

		nlh = msg_new(&n, buf, TTYRFC_CMD_RX, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
		mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
		mnl_attr_put_u64(nlh, TTYRFC_A_RX_POS, 0);
		mnl_attr_put(nlh, TTYRFC_A_DATA, 16, "injected data!!\n");
		ret = nl_call(&n, nlh, NULL, NULL);
		tap(expect(ret, EPERM, n.ext),
		    "RX into live session %u of ttyRFC%u: EPERM", sid, ix);

		nlh = msg_new(&n, buf, TTYRFC_CMD_STATUS, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
		mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
		mnl_attr_put_u32(nlh, TTYRFC_A_MODEM, 0);
		ret = nl_call(&n, nlh, NULL, NULL);
		tap(expect(ret, EPERM, n.ext),
		    "STATUS for live session %u of ttyRFC%u: EPERM", sid, ix);
	}
	if (!live)
		tap_skip("no port had a session", "messages into live sessions");
	nl_close(&n);
	return tap_end();
}

/* ------------------------------------------------------------ mode: eperm */

static int drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { };

	/* no capabilities left at all, and no way back */
	if (prctl(PR_SET_KEEPCAPS, 0) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int eperm_mode(int argc, char **argv)
{
	static const char *const names[] = {
		"UNSPEC", "HELLO", "LINK", "RX", "CONFIRM", "STATUS", "ADD",
		"DEL", "GET", "OPEN", "CLOSE", "TX", "SET", "RX_LIMIT",
	};
	const char *who = "caller";
	bool drop = false;
	int family = -1, ret;
	struct nl n;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--drop-caps"))
			drop = true;
		else if (!strcmp(argv[i], "--family") && i + 1 < argc)
			family = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--as") && i + 1 < argc)
			who = argv[++i];
	}
	ret = nl_connect(&n, false, family);
	if (ret == -ENOENT && family < 0) {
		tap(true, "%s: the ttyrfc family is not visible in this network namespace",
		    who);
		return tap_end();
	}
	if (ret) {
		tap(false, "open a genetlink socket: %s", errname(ret));
		return tap_end();
	}
	if (drop) {
		ret = drop_caps();
		if (!tap(ret == 0, "%s: socket opened with CAP_NET_ADMIN, then every capability dropped",
			 who))
			return tap_end();
	}
	for (int cmd = 0; cmd <= TTYRFC_CMD_MAX + 2; cmd++) {
		static char buf[32768];
		bool implemented = cmd >= TTYRFC_CMD_HELLO &&
				   cmd <= TTYRFC_CMD_GET;
		struct nlmsghdr *nlh = msg_new(&n, buf, cmd,
				cmd == TTYRFC_CMD_GET ? NLM_F_DUMP : 0);

		/* plausible attributes, so only the permission can fail */
		switch (cmd) {
		case TTYRFC_CMD_HELLO:
			mnl_attr_put_u32(nlh, TTYRFC_A_VERSION, 2);
			break;
		case TTYRFC_CMD_ADD:
			mnl_attr_put_strz(nlh, TTYRFC_A_HOST, "127.0.0.11");
			mnl_attr_put_u16(nlh, TTYRFC_A_PORT, 9);
			break;
		case TTYRFC_CMD_GET:
			break;
		default:
			mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, 0);
			if (cmd == TTYRFC_CMD_DEL)
				break;
			mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, 1);
			mnl_attr_put_u8(nlh, TTYRFC_A_LINK, 2);
			mnl_attr_put_u64(nlh, TTYRFC_A_RX_POS, 0);
			mnl_attr_put(nlh, TTYRFC_A_DATA, 4, "data");
			mnl_attr_put_u64(nlh, TTYRFC_A_TX_POS, 0);
			mnl_attr_put_u64(nlh, TTYRFC_A_CTRL_SEQ, 0);
			break;
		}
		ret = nl_call(&n, nlh, NULL, NULL);
		/*
		 * Outside the initial network namespace the family is not
		 * there at all (ENOENT); commands it lacks are EOPNOTSUPP
		 * before any permission check.
		 */
		bool ok = ret == -EPERM || (family >= 0 && ret == -ENOENT) ||
			  (!implemented && ret == -EOPNOTSUPP);
		if (!ok)
			diag("got %s%s%s", errname(ret), *n.ext ? ": " : "",
			     n.ext);
		tap(ok, "%s: %s: %s", who,
		    cmd < (int)(sizeof(names) / sizeof(*names)) ? names[cmd] :
		    "command > TTYRFC_CMD_MAX", ret ? errname(ret) : "accepted");
	}
	nl_close(&n);
	return tap_end();
}

/* ------------------------------------------------------------ mode: fuzz */

static int fuzz_mode(int argc, char **argv)
{
	long count = argc > 2 ? atol(argv[2]) : 2000;
	struct portlist before, after;
	unsigned int seed = getpid() ^ now_ms();
	unsigned int errs[160] = { 0 };
	static char buf[BIGMSG];
	struct nl n;
	int ret;

	if (getenv("FUZZ_SEED"))
		seed = atoi(getenv("FUZZ_SEED"));
	info("fuzz seed %u (FUZZ_SEED=%u to repeat)", seed, seed);
	memset(fillbuf, 0x5a, sizeof(fillbuf));
	srand(seed);
	ret = nl_connect(&n, false, -1);
	if (ret) {
		tap(false, "find the ttyrfc family: %s", errname(ret));
		return tap_end();
	}
	port_list(&n, &before);
	for (long i = 0; i < count; i++) {
		uint8_t cmd = rand() % (TTYRFC_CMD_MAX + 3);
		struct nlmsghdr *nlh;
		int nattr = rand() % 8;

		if (cmd == TTYRFC_CMD_DEL)
			cmd = TTYRFC_CMD_GET;
		nlh = msg_new(&n, buf, cmd,
			      cmd == TTYRFC_CMD_GET || !(rand() % 16) ?
			      NLM_F_DUMP : 0);
		for (int j = 0; j < nattr; j++) {
			uint16_t type = rand() % (TTYRFC_A_MAX + 3);
			size_t len = rand() % 5 ? (size_t[]){ 0, 1, 2, 4, 8,
				     3, 16 }[rand() % 7] : (size_t)(rand() % 17000);
			uint8_t val[16];

			for (size_t k = 0; k < sizeof(val); k++)
				val[k] = rand() % 4 ? rand() % 4 : rand();
			if (rand() % 8 == 0)
				type |= NLA_F_NESTED;
			if (len > 16) {
				memset(fillbuf, rand(), len);
				mnl_attr_put(nlh, type, len, fillbuf);
			} else if (rand() % 6 == 0) {
				/* a nest with a random inside */
				struct nlattr *nest = mnl_attr_nest_start(nlh, type);

				mnl_attr_put(nlh, rand() % (TTYRFC_STAT_MAX + 3),
					     len, val);
				mnl_attr_nest_end(nlh, nest);
			} else {
				mnl_attr_put(nlh, type, len, val);
			}
		}
		ret = nl_call(&n, nlh, NULL, NULL);
		errs[ret <= 0 && ret > -159 ? -ret : 159]++;
	}
	for (int e = 0; e < 160; e++)
		if (errs[e])
			info("fuzz: %u answered %s", errs[e],
			     e == 159 ? "other" : errname(e));
	tap(errs[ETIMEDOUT] == 0, "fuzz: %ld random messages, every one answered",
	    count);
	/* remove the ports fuzzing created (ADD with random attributes) */
	port_list(&n, &after);
	for (unsigned int i = 0; i < after.n; i++) {
		bool old = false;

		for (unsigned int j = 0; j < before.n; j++)
			old |= before.p[j].index == after.p[i].index;
		if (!old)
			nl_del(&n, after.p[i].index);
	}
	port_list(&n, &after);
	tap(same_ports(&before, &after),
	    "fuzz: the ports it did not create are all still there");
	nl_close(&n);
	return tap_end();
}

/* ------------------------------------------------------------ the tty side */

/*
 * A child process that holds the tty and does what it is told, so the
 * helper side can watch a blocking call (open, tcdrain) from outside.
 */
struct agent {
	pid_t pid;
	int cmd, res;
	char dev[32];
};

struct acmd {
	char op;
	int a, b;
};

struct ares {
	int ret, err;
	long long ms;
	int len;
};

static void agent_loop(const char *dev, int cfd, int rfd)
{
	static uint8_t data[4 << 20];
	uint64_t wpos = 0;
	struct acmd c;
	int fd = -1;

	while (read(cfd, &c, sizeof(c)) == sizeof(c)) {
		struct ares r = { 0 };
		long long t0 = now_ms();

		errno = 0;
		switch (c.op) {
		case 'o':
			fd = open(dev, O_RDWR | O_NOCTTY | (c.a ? O_NONBLOCK : 0));
			r.ret = fd < 0 ? -1 : 0;
			if (fd >= 0 && c.a)
				fcntl(fd, F_SETFL, O_RDWR);
			break;
		case 'r':
			r.ret = tty_make_raw(fd);
			break;
		case 'w':
			stream_fill(data, wpos, c.a);
			r.ret = write(fd, data, c.a);
			if (r.ret > 0)
				wpos += r.ret;
			break;
		case 'd':
			r.ret = ioctl(fd, TCSBRK, 1);
			break;
		case 'R': {
			long long end = now_ms() + c.b;

			while (r.len < c.a && now_ms() < end) {
				struct pollfd pfd = { fd, POLLIN, 0 };
				ssize_t n;

				if (poll(&pfd, 1, end - now_ms()) <= 0)
					continue;
				n = read(fd, data + r.len, c.a - r.len);
				if (n <= 0) {
					r.ret = n < 0 ? -1 : 0;
					break;
				}
				r.len += n;
			}
			break;
		}
		case 'm': {
			int m = 0;

			r.ret = ioctl(fd, TIOCMGET, &m) ? -1 : m;
			break;
		}
		case 'B':
			r.ret = ioctl(fd, TIOCMBIS, &c.a);
			break;
		case 'C':
			r.ret = ioctl(fd, TIOCMBIC, &c.a);
			break;
		case 'T':	/* toggle DTR @a times: as many control changes */
			for (int i = 0; i < c.a; i++) {
				int dtr = TIOCM_DTR;

				r.ret = ioctl(fd, i % 2 ? TIOCMBIS : TIOCMBIC, &dtr);
				if (r.ret)
					break;
			}
			break;
		case 'O': {
			int q = 0;

			r.ret = ioctl(fd, TIOCOUTQ, &q) ? -1 : q;
			break;
		}
		case 'c':
			r.ret = close(fd);
			fd = -1;
			break;
		case 'x':
			_exit(0);
		}
		r.err = errno;
		r.ms = now_ms() - t0;
		if (write(rfd, &r, sizeof(r)) != sizeof(r) ||
		    (r.len && write(rfd, data, r.len) != r.len))
			_exit(1);
	}
	_exit(0);
}

static int agent_start(struct agent *g, unsigned int index)
{
	int c[2], r[2];

	snprintf(g->dev, sizeof(g->dev), "/dev/ttyRFC%u", index);
	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		return -errno;
	g->pid = fork();
	if (g->pid < 0)
		return -errno;
	if (!g->pid) {
		close(c[1]);
		close(r[0]);
		agent_loop(g->dev, c[0], r[1]);
	}
	close(c[0]);
	close(r[1]);
	g->cmd = c[1];
	g->res = r[0];
	return 0;
}

static void agent_send(struct agent *g, char op, int a, int b)
{
	struct acmd c = { op, a, b };

	if (write(g->cmd, &c, sizeof(c)) != sizeof(c))
		diag("agent: lost a command");
}

static bool readn(int fd, void *buf, size_t n, long long end)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return false;
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return false;
		got += r;
	}
	return true;
}

/* The answer to the last command: 0, or -ETIMEDOUT while it still runs. */
static int agent_wait(struct agent *g, struct ares *r, uint8_t *data,
		      size_t size, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	struct pollfd pfd = { g->res, POLLIN, 0 };

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	/* once it answers, the rest follows at once */
	if (!readn(g->res, r, sizeof(*r), end + 5000))
		return -EIO;
	if (r->len) {
		static uint8_t sink[4 << 20];
		uint8_t *to = data && (size_t)r->len <= size ? data : sink;

		if (!readn(g->res, to, r->len, end + 10000))
			return -EIO;
	}
	return 0;
}

/* Run a command and wait for it. */
static int agent_do(struct agent *g, char op, int a, int b, struct ares *r)
{
	struct ares tmp;

	agent_send(g, op, a, b);
	return agent_wait(g, r ? r : &tmp, NULL, 0, 10000);
}

/* SIGKILL it: its fd closes without waiting for output to drain. */
static void agent_kill(struct agent *g)
{
	if (g->pid <= 0)
		return;
	kill(g->pid, SIGKILL);
	waitpid(g->pid, NULL, 0);
	close(g->cmd);
	close(g->res);
	g->pid = 0;
}

static void agent_stop(struct agent *g)
{
	if (g->pid <= 0)
		return;
	agent_send(g, 'x', 0, 0);
	close(g->cmd);
	close(g->res);
	for (int i = 0; i < 200 && waitpid(g->pid, NULL, WNOHANG) != g->pid; i++)
		sleep_ms(10);
	kill(g->pid, SIGKILL);
	waitpid(g->pid, NULL, 0);
	g->pid = 0;
}

/* ------------------------------------------------------------ mode: helper */

static struct nl H;		/* the registered helper's socket */

static int h_link(unsigned int ix, uint32_t sid, int state, int err)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_new(&H, buf, TTYRFC_CMD_LINK, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
	mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
	mnl_attr_put_u8(nlh, TTYRFC_A_LINK, state);
	if (err)
		mnl_attr_put_u32(nlh, TTYRFC_A_ERRNO, err);
	return nl_call(&H, nlh, NULL, NULL);
}

static int h_confirm(unsigned int ix, uint32_t sid, uint64_t pos, uint64_t seq)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_new(&H, buf, TTYRFC_CMD_CONFIRM, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
	mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
	mnl_attr_put_u64(nlh, TTYRFC_A_TX_POS, pos);
	mnl_attr_put_u64(nlh, TTYRFC_A_CTRL_SEQ, seq);
	return nl_call(&H, nlh, NULL, NULL);
}

static int h_rx(unsigned int ix, uint32_t sid, uint64_t pos, size_t len)
{
	static char buf[BIGMSG];
	static uint8_t data[65536];
	struct nlmsghdr *nlh = msg_new(&H, buf, TTYRFC_CMD_RX, 0);

	stream_fill(data, pos, len);
	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
	mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
	mnl_attr_put_u64(nlh, TTYRFC_A_RX_POS, pos);
	mnl_attr_put(nlh, TTYRFC_A_DATA, len, data);
	return nl_call(&H, nlh, NULL, NULL);
}

static int h_modem(unsigned int ix, uint32_t sid, uint32_t modem)
{
	char buf[256];
	struct nlmsghdr *nlh = msg_new(&H, buf, TTYRFC_CMD_STATUS, 0);

	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
	mnl_attr_put_u32(nlh, TTYRFC_A_SESSION, sid);
	mnl_attr_put_u32(nlh, TTYRFC_A_MODEM, modem);
	return nl_call(&H, nlh, NULL, NULL);
}

/* A message built from a list, from the helper's socket. */
static int h_attrs(uint8_t cmd, const struct a *a)
{
	static char buf[BIGMSG];
	struct nlmsghdr *nlh = msg_new(&H, buf, cmd, 0);

	put_attrs(nlh, a);
	return nl_call(&H, nlh, NULL, NULL);
}

/* Pump events until @cond holds or @ms pass. */
#define PUMP_UNTIL(cond, ms) ({						\
	long long __end = now_ms() + (ms);				\
	while (!(cond) && now_ms() < __end)				\
		nl_pump(&H, 20);					\
	(cond);								\
})

struct counters {
	long long bad, stale, tx_bytes, tx_resent, rx_dropped;
};

static void counters(unsigned int ix, struct counters *c)
{
	static char js[8192];

	if (ctl_json(ix, js, sizeof(js)))
		js[0] = '\0';
	c->bad = json_num(js, "bad_helper_msgs");
	c->stale = json_num(js, "stale_dropped");
	c->tx_bytes = json_num(js, "tx_bytes");
	c->tx_resent = json_num(js, "tx_resent");
	c->rx_dropped = json_num(js, "rx_dropped");
}

/* An errno and the counter that must have moved by one. */
static void check_counted(const char *name, int got, int want,
			  unsigned int ix, const char *counter,
			  long long before)
{
	long long after = ctl_stat(ix, counter);
	bool ok = expect(got, want, H.ext);

	if (after != before + 1) {
		diag("%s went from %lld to %lld, want +1", counter, before,
		     after);
		ok = false;
	}
	tap(ok, "%s: %s, counted in %s", name, errname(want), counter);
}

#define COUNTED(name, call, want, ix, counter) do {			\
	long long __b = ctl_stat(ix, counter);				\
	int __r = (call);						\
	check_counted(name, __r, want, ix, counter, __b);		\
} while (0)

/* The agent's command is still running after @ms. */
static bool still_blocked(struct agent *g, int ms)
{
	struct ares r;

	/* keep reading events meanwhile, as a helper would */
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		nl_pump(&H, 20);
		if (!agent_wait(g, &r, NULL, 0, 0)) {
			diag("it returned %d (%s) after %lld ms", r.ret,
			     strerror(r.err), r.ms);
			return false;
		}
	}
	return true;
}

static bool rx_fill_and_read(unsigned int ix, uint32_t sid, uint64_t *rxp,
			     struct agent *g, uint64_t *filled)
{
	struct fport *p = fport(ix);
	uint64_t start = *rxp;
	long long quiet = now_ms();
	/*
	 * Buffers of plain characters hold twice the bytes they are
	 * accounted for (no flag bytes), so 640 KiB of flip-buffer memory
	 * takes about 1.3 MB: room for that, and a bound.
	 */
	static uint8_t got[4 << 20], want[4 << 20];
	struct ares r;
	int ret;

	/* send up to the credit, let it grow, until it stops growing */
	while (now_ms() - quiet < 700 && *rxp - start < sizeof(got) - 65536) {
		uint64_t lim = p->rx_limit;

		if (*rxp < lim) {
			size_t n = lim - *rxp > 16384 ? 16384 : lim - *rxp;

			ret = h_rx(ix, sid, *rxp, n);
			if (ret) {
				diag("RX of %zu at %llu within the credit %llu: %s (%s)",
				     n, (unsigned long long)*rxp,
				     (unsigned long long)lim, errname(ret), H.ext);
				return false;
			}
			*rxp += n;
			quiet = now_ms();
		}
		nl_pump(&H, 20);
	}
	*filled = *rxp - start;
	if (*rxp - start >= sizeof(got) - 65536) {
		diag("the credit kept growing past %llu bytes without reads",
		     (unsigned long long)(*rxp - start));
		return false;
	}
	/* the credit is used up: one byte more is too much */
	COUNTED("RX beyond the granted RX_LIMIT", h_rx(ix, sid, *rxp, 1),
		EOVERFLOW, ix, "bad_helper_msgs");
	COUNTED("RX of 16 KiB beyond the granted RX_LIMIT",
		h_rx(ix, sid, *rxp, 16384), EOVERFLOW, ix, "bad_helper_msgs");
	/* and the tty gets exactly what was sent within it */
	agent_send(g, 'R', *filled, 20000);
	while (agent_wait(g, &r, got, sizeof(got), 50) == -ETIMEDOUT)
		nl_pump(&H, 0);
	stream_fill(want, start, *filled);
	return tap(r.len == (int)*filled && !memcmp(got, want, *filled),
		   "the tty reads the %llu bytes sent within the credit, byte-exact (got %d)",
		   (unsigned long long)*filled, r.len);
}

static int helper_mode(void)
{
	struct agent ag = { 0 }, ag2 = { 0 };
	struct nl other;
	struct fport *p;
	struct ares r;
	uint64_t base, rxp, filled;
	uint32_t sid1, sid2, sid3;
	int ix, ix2, ret;
	long long bad0;

	if (find_comm("ttyrfcd")) {
		tap(false, "no ttyrfcd may run for this mode");
		return tap_end();
	}
	ret = nl_connect(&H, true, -1);
	if (ret) {
		tap(false, "find the ttyrfc family: %s", errname(ret));
		return tap_end();
	}
	ret = nl_hello(&H, TTYRFC_GENL_VERSION);
	if (!tap(ret == 0, "HELLO version 2 registers this program as the helper (%s)",
		 errname(ret)))
		return tap_end();
	ret = nl_hello(&H, TTYRFC_GENL_VERSION);
	tap(ret == 0, "HELLO again from the registered helper is accepted (%s)",
	    errname(ret));
	nl_connect(&other, false, -1);
	ret = nl_hello(&other, TTYRFC_GENL_VERSION);
	tap(expect(ret, EBUSY, other.ext),
	    "a second helper's HELLO while this one is registered: EBUSY");

	ix = nl_add(&H, "127.0.0.2", 7001, NULL);
	ix2 = nl_add(&H, "127.0.0.2", 7002, NULL);
	if (!tap(ix >= 0 && ix2 >= 0, "ADD two ports for the fake helper (%d, %d)",
		 ix, ix2))
		return tap_end();
	p = fport(ix);

	/* ---- open: the kernel asks, we answer */
	agent_start(&ag, ix);
	agent_send(&ag, 'o', 0, 0);
	tap(PUMP_UNTIL(p->nopen == 1, 5000) && p->kind == TTYRFC_OPEN_FIRST,
	    "open() of /dev/ttyRFC%d sends OPEN (kind FIRST)", ix);
	sid1 = p->sid;
	info("session %u: TX_POS %llu CTRL_SEQ %llu RX_POS %llu RX_LIMIT %llu",
	     sid1, (unsigned long long)p->open_tx,
	     (unsigned long long)p->open_seq, (unsigned long long)p->open_rx,
	     (unsigned long long)p->open_limit);

	COUNTED("LINK UP of a session that is not the port's",
		h_link(ix, sid1 + 1000, TTYRFC_LINK_UP, 0), ESTALE, ix,
		"stale_dropped");
	ret = h_link(ix2, sid1, TTYRFC_LINK_UP, 0);
	tap(expect(ret, ESTALE, H.ext), "LINK UP naming another port's session: ESTALE");
	ret = h_link(255, sid1, TTYRFC_LINK_UP, 0);
	tap(expect(ret, ENODEV, H.ext), "LINK UP for a port that does not exist: ENODEV");
	bad0 = ctl_stat(ix, "bad_helper_msgs");
	ret = h_attrs(TTYRFC_CMD_LINK, (struct a[]){ U32(SESSION, sid1),
			U8(LINK, 2), { A_END } });
	tap(expect(ret, EINVAL, H.ext), "LINK without INDEX: EINVAL");
	ret = h_attrs(TTYRFC_CMD_LINK, (struct a[]){ U32(INDEX, ix),
			U8(LINK, 2), { A_END } });
	tap(expect(ret, EINVAL, H.ext), "LINK without SESSION: EINVAL");
	ret = h_attrs(TTYRFC_CMD_LINK, (struct a[]){ U32(INDEX, ix),
			U32(SESSION, sid1), U8(LINK, 7), { A_END } });
	tap(expect(ret, ERANGE, H.ext), "LINK state 7: ERANGE");
	tap(still_blocked(&ag, 300), "open() still waits after those");
	ret = h_link(ix, sid1, TTYRFC_LINK_UP, 0);
	tap(ret == 0, "LINK UP of the right session (%s)", errname(ret));
	tap(agent_wait(&ag, &r, NULL, 0, 5000) == 0 && r.ret == 0,
	    "open() returns 0 once the link is up (%s)",
	    r.ret ? errname(r.err) : "0");

	/* ---- a stream with a control change in the middle */
	tap(agent_do(&ag, 'r', 0, 0, &r) == 0 && r.ret == 0, "raw mode, CLOCAL");
	nl_pump(&H, 200);
	base = p->tx_end;
	agent_do(&ag, 'w', 100, 0, NULL);
	agent_do(&ag, 'C', TIOCM_DTR, 0, NULL);
	agent_do(&ag, 'w', 50, 0, NULL);
	tap(PUMP_UNTIL(p->tx_end == base + 150 &&
		       p->last_set_pos == base + 100, 5000) && !p->tx_bad,
	    "100 bytes, DTR off, 50 bytes reach the helper in order%s%s",
	    p->tx_bad ? ": " : "", p->tx_bad ? p->tx_why : "");
	uint64_t k = p->last_set_seq, seq_end = p->seq_end;

	agent_do(&ag, 'O', 0, 0, &r);
	tap(r.ret == 150, "TIOCOUTQ counts the 150 unconfirmed bytes (%d)", r.ret);

	COUNTED("CONFIRM beyond the data sent",
		h_confirm(ix, sid1, base + 151, seq_end), ERANGE, ix,
		"bad_helper_msgs");
	COUNTED("CONFIRM of a control change never sent",
		h_confirm(ix, sid1, base + 150, seq_end + 1), ERANGE, ix,
		"bad_helper_msgs");
	COUNTED("CONFIRM TX_POS 2^64-1",
		h_confirm(ix, sid1, UINT64_MAX, seq_end), ERANGE, ix,
		"bad_helper_msgs");
	COUNTED("CONFIRM of data past an unconfirmed control change",
		h_confirm(ix, sid1, base + 150, k), EINVAL, ix,
		"bad_helper_msgs");
	COUNTED("CONFIRM of a control change without the data before it",
		h_confirm(ix, sid1, base + 50, k + 1), EINVAL, ix,
		"bad_helper_msgs");
	COUNTED("CONFIRM of another session",
		h_confirm(ix, sid1 + 7, base + 150, seq_end), ESTALE, ix,
		"stale_dropped");
	ret = h_confirm(255, sid1, 0, 0);
	tap(expect(ret, ENODEV, H.ext), "CONFIRM for a port that does not exist: ENODEV");
	agent_do(&ag, 'O', 0, 0, &r);
	tap(r.ret == 150, "after those, TIOCOUTQ still counts 150 (%d)", r.ret);

	struct counters c0, c1;

	counters(ix, &c0);
	ret = h_confirm(ix, sid1, base + 100, k);
	tap(ret == 0, "CONFIRM of the first 100 bytes (%s)", errname(ret));
	agent_do(&ag, 'O', 0, 0, &r);
	tap(r.ret == 50, "TIOCOUTQ counts 50 (%d)", r.ret);
	COUNTED("CONFIRM going back", h_confirm(ix, sid1, base + 50, k),
		ERANGE, ix, "bad_helper_msgs");
	ret = h_confirm(ix, sid1, base + 150, seq_end);
	tap(ret == 0, "CONFIRM of the rest (%s)", errname(ret));
	agent_do(&ag, 'O', 0, 0, &r);
	counters(ix, &c1);
	tap(r.ret == 0 && c1.tx_bytes == c0.tx_bytes + 150,
	    "nothing pending; tx_bytes grew by 150 (TIOCOUTQ %d, tx_bytes %lld -> %lld)",
	    r.ret, c0.tx_bytes, c1.tx_bytes);

	/* ---- receive credit */
	rxp = p->open_rx;
	COUNTED("RX at a wrong RX_POS (one ahead)", h_rx(ix, sid1, rxp + 1, 8),
		EINVAL, ix, "bad_helper_msgs");
	if (rxp)
		COUNTED("RX at a wrong RX_POS (behind)",
			h_rx(ix, sid1, rxp - 1, 8), EINVAL, ix,
			"bad_helper_msgs");
	COUNTED("RX at RX_POS 2^64-8", h_rx(ix, sid1, UINT64_MAX - 7, 8), EINVAL,
		ix, "bad_helper_msgs");
	COUNTED("RX of another session", h_rx(ix, sid1 + 3, rxp, 8), ESTALE,
		ix, "stale_dropped");
	ret = h_rx(ix, sid1, rxp, 0);
	tap(ret == 0, "RX of 0 bytes at the right place (%s)", errname(ret));
	rx_fill_and_read(ix, sid1, &rxp, &ag, &filled);
	tap(PUMP_UNTIL(p->rx_limit > rxp, 3000),
	    "once the tty read it, the credit grows again (RX_LIMIT %llu, RX_POS %llu)",
	    (unsigned long long)p->rx_limit, (unsigned long long)rxp);
	counters(ix, &c1);
	tap(c1.rx_dropped == 0, "rx_dropped is 0 (%lld)", c1.rx_dropped);

	/* ---- STATUS */
	ret = h_modem(ix, sid1, TIOCM_CTS | TIOCM_DSR);
	agent_do(&ag, 'm', 0, 0, &r);
	tap(ret == 0 && (r.ret & (TIOCM_CTS | TIOCM_DSR | TIOCM_CD | TIOCM_RI)) ==
	    (TIOCM_CTS | TIOCM_DSR),
	    "STATUS MODEM CTS|DSR shows in TIOCMGET (%s, 0x%x)", errname(ret),
	    r.ret);
	bad0 = ctl_stat(ix, "bad_helper_msgs");
	{
		static const struct {
			const char *name;
			int want;
			struct a a[8];
		} st[] = {
			{ "STATUS MODEM 0xffffffff", EINVAL,
			  { U32(MODEM, 0xffffffff) } },
			{ "STATUS MODEM TIOCM_LE|CD", EINVAL,
			  { U32(MODEM, TIOCM_LE | TIOCM_CD) } },
			{ "STATUS LINE 0xff", EINVAL, { U32(LINE, 0xff) } },
			{ "STATUS SERVER DATA_BITS 9", ERANGE,
			  { NEST(SERVER), U8(DATA_BITS, 9), NEST_END } },
			{ "STATUS SERVER PARITY 200", ERANGE,
			  { NEST(SERVER), U8(PARITY, 200), NEST_END } },
			{ "STATUS STATS TX_BYTES", EINVAL,
			  { NEST(STATS), RAWT_U64(TTYRFC_STAT_TX_BYTES, 1ULL << 40),
			    NEST_END } },
			{ "STATUS MODEM CD with SERVER STOP_BITS 7", ERANGE,
			  { U32(MODEM, TIOCM_CD), NEST(SERVER),
			    U8(STOP_BITS, 7), NEST_END } },
		};

		for (size_t i = 0; i < sizeof(st) / sizeof(*st); i++) {
			struct a full[12] = { U32(INDEX, ix), U32(SESSION, sid1) };

			memcpy(full + 2, st[i].a, sizeof(st[i].a));
			ret = h_attrs(TTYRFC_CMD_STATUS, full);
			tap(expect(ret, st[i].want, H.ext),
			    "from the helper: %s: %s", st[i].name,
			    errname(st[i].want));
		}
	}
	agent_do(&ag, 'm', 0, 0, &r);
	counters(ix, &c1);
	tap((r.ret & (TIOCM_CTS | TIOCM_DSR | TIOCM_CD | TIOCM_RI)) ==
	    (TIOCM_CTS | TIOCM_DSR) && c1.tx_bytes == c0.tx_bytes + 150,
	    "after the rejected STATUS: modem lines and tx_bytes unchanged (0x%x, %lld)",
	    r.ret, c1.tx_bytes);
	COUNTED("STATUS of another session (MODEM CD)",
		h_modem(ix, sid1 + 11, TIOCM_CD), ESTALE, ix, "stale_dropped");
	agent_do(&ag, 'm', 0, 0, &r);
	tap(!(r.ret & TIOCM_CD), "a stale STATUS does not raise CD (0x%x)", r.ret);
	{
		struct a a[] = { U32(INDEX, ix), U32(SESSION, sid1),
				 NEST(SERVER), U32(BAUD, 0), NEST_END, { A_END } };

		ret = h_attrs(TTYRFC_CMD_STATUS, a);
		tap(expect(ret, ERANGE, H.ext),
		    "from the helper: STATUS SERVER BAUD 0: %s", errname(ERANGE));
	}
	/*
	 * The policy refuses these before the family's handler sees them, so
	 * no port can count them: the sender gets the error and the extack.
	 */
	ret = ctl_stat(ix, "bad_helper_msgs") - bad0;
	tap(ret == 0, "messages the policy refused changed no counter (bad_helper_msgs +%d)",
	    ret);

	/* ---- a failed session, and a stale CONFIRM that must not end tcdrain */
	uint64_t p0 = p->tx_end;

	agent_do(&ag, 'w', 200, 0, NULL);
	tap(PUMP_UNTIL(p->tx_end == p0 + 200, 5000), "200 more bytes sent (session %u)",
	    sid1);
	seq_end = p->seq_end;
	ret = h_link(ix, sid1, TTYRFC_LINK_DOWN, ECONNRESET);
	tap(ret == 0, "LINK DOWN (ECONNRESET) of session %u (%s)", sid1,
	    errname(ret));
	tap(PUMP_UNTIL(p->nopen == 2, 5000) && p->kind == TTYRFC_OPEN_RECONNECT &&
	    p->open_tx == p0,
	    "a CLOCAL port starts the next session at the confirmed point (kind %u, TX_POS %llu, want %llu)",
	    p->kind, (unsigned long long)p->open_tx, (unsigned long long)p0);
	sid2 = p->sid;
	counters(ix, &c0);
	ret = h_link(ix, sid2, TTYRFC_LINK_UP, 0);
	tap(ret == 0 && PUMP_UNTIL(p->tx_end == p0 + 200, 5000) && !p->tx_bad,
	    "session %u: the 200 bytes come again, the same bytes%s%s", sid2,
	    p->tx_bad ? ": " : "", p->tx_bad ? p->tx_why : "");
	agent_send(&ag, 'd', 0, 0);
	tap(still_blocked(&ag, 500), "tcdrain waits for the confirmation");
	COUNTED("CONFIRM of the failed session (all 200 bytes)",
		h_confirm(ix, sid1, p0 + 200, seq_end), ESTALE, ix,
		"stale_dropped");
	tap(still_blocked(&ag, 800), "a stale CONFIRM does not end tcdrain");
	ret = h_confirm(ix, sid2, p0 + 100, p->seq_end);
	tap(ret == 0 && still_blocked(&ag, 500),
	    "CONFIRM of half of it (%s): tcdrain still waits", errname(ret));
	ret = h_confirm(ix, sid2, p0 + 200, p->seq_end);
	tap(ret == 0 && agent_wait(&ag, &r, NULL, 0, 5000) == 0 && r.ret == 0,
	    "CONFIRM of all of it (%s): tcdrain returns", errname(ret));
	counters(ix, &c1);
	tap(c1.tx_resent - c0.tx_resent >= 0 && c1.tx_bytes == c0.tx_bytes + 200,
	    "tx_bytes grew by 200 once (%lld -> %lld), tx_resent %lld",
	    c0.tx_bytes, c1.tx_bytes, c1.tx_resent);

	/* ---- LINK of an old session changes nothing */
	{
		unsigned int opens = p->nopen;
		char st[32] = "";

		COUNTED("LINK DOWN of the old session", h_link(ix, sid1,
			TTYRFC_LINK_DOWN, EIO), ESTALE, ix, "stale_dropped");
		COUNTED("LINK UP of the old session", h_link(ix, sid1,
			TTYRFC_LINK_UP, 0), ESTALE, ix, "stale_dropped");
		nl_pump(&H, 500);
		link_state(ix, st, sizeof(st));
		tap(p->nopen == opens && !strcmp(st, "up"),
		    "the link stays up, no new session (link %s, %u OPENs)", st,
		    p->nopen - opens);
		agent_do(&ag, 'w', 8, 0, NULL);
		tap(PUMP_UNTIL(p->tx_end == p0 + 208, 3000),
		    "data still flows in session %u", sid2);
		h_confirm(ix, sid2, p0 + 208, p->seq_end);
	}

	/* ---- the helper says HELLO again: a replay */
	ret = nl_hello(&H, TTYRFC_GENL_VERSION);
	tap(ret == 0 && PUMP_UNTIL(p->nopen == 3, 5000) &&
	    p->kind == TTYRFC_OPEN_REPLAY,
	    "HELLO again: the open port gets a REPLAY session (%s, kind %u)",
	    errname(ret), p->kind);
	sid3 = p->sid;
	COUNTED("CONFIRM of the session before the replay",
		h_confirm(ix, sid2, p0 + 208, p->seq_end), ESTALE, ix,
		"stale_dropped");
	h_link(ix, sid3, TTYRFC_LINK_UP, 0);

	/* ---- errnos the helper reports are mapped to a fixed set */
	{
		static const struct { int err, want; } map[] = {
			{ 512, EIO },		/* ERESTARTSYS */
			{ 515, EIO },		/* ENOIOCTLCMD */
			{ 4095, EIO },
			{ 0, EIO },
			{ ECONNREFUSED, ECONNREFUSED },
			{ EHOSTUNREACH, EHOSTUNREACH },
		};
		struct fport *q = fport(ix2);

		agent_start(&ag2, ix2);
		for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
			unsigned int opens = q->nopen;

			agent_send(&ag2, 'o', 1, 0);
			if (!PUMP_UNTIL(q->nopen > opens, 5000)) {
				tap(false, "OPEN for ttyRFC%d", ix2);
				break;
			}
			h_link(ix2, q->sid, TTYRFC_LINK_DOWN, map[i].err);
			ret = agent_wait(&ag2, &r, NULL, 0, 5000);
			tap(ret == 0 && r.ret < 0 && r.err == map[i].want,
			    "LINK DOWN with ERRNO %d: open() fails with %s (got %s)",
			    map[i].err, errname(map[i].want),
			    ret ? "no answer" : r.ret >= 0 ? "success" :
			    errname(r.err));
			if (ret == 0 && r.ret >= 0)
				agent_do(&ag2, 'c', 0, 0, NULL);
		}
		agent_stop(&ag2);
	}

	/* ---- delete the open port: an unplug; then messages for it */
	{
		unsigned int closes = p->nclose;

		ret = nl_del(&H, ix);
		tap(ret == 0, "DEL of the open port (%s)", errname(ret));
		agent_do(&ag, 'w', 4, 0, &r);
		tap(r.ret < 0 && r.err == EIO, "its holder's write() fails with EIO (%s)",
		    r.ret < 0 ? errname(r.err) : "success");
		tap(PUMP_UNTIL(p->nclose > closes, 3000) && p->close_sid == sid3,
		    "the kernel sends CLOSE for session %u", sid3);
		ret = h_confirm(ix, sid3, p0 + 208, p->seq_end);
		tap(expect(ret, ESTALE, H.ext),
		    "CONFIRM for the deleted port still held open: ESTALE");
		ret = h_rx(ix, sid3, rxp, 4);
		tap(expect(ret, ESTALE, H.ext),
		    "RX for the deleted port still held open: ESTALE");
		ret = h_modem(ix, sid3, TIOCM_CD);
		tap(expect(ret, ESTALE, H.ext),
		    "STATUS for the deleted port still held open: ESTALE");
		agent_do(&ag, 'c', 0, 0, NULL);
		agent_stop(&ag);
		/* the last holder let go: the port goes away (.destruct) */
		long long end = now_ms() + 5000;

		do {
			ret = h_confirm(ix, sid3, p0 + 208, 0);
			if (ret == -ENODEV)
				break;
			sleep_ms(20);
		} while (now_ms() < end);
		tap(expect(ret, ENODEV, H.ext),
		    "CONFIRM for the deleted port once closed: ENODEV");
		ret = h_rx(ix, sid3, rxp, 4);
		tap(expect(ret, ENODEV, H.ext), "RX for it: ENODEV");
		ret = h_link(ix, sid3, TTYRFC_LINK_DOWN, 0);
		tap(expect(ret, ENODEV, H.ext), "LINK for it: ENODEV");
		ret = h_modem(ix, sid3, 0);
		tap(expect(ret, ENODEV, H.ext), "STATUS for it: ENODEV");
	}
	nl_del(&H, ix2);
	nl_close(&other);
	return tap_end();
}

/* ------------------------------------------------------------ mode: stall */

/*
 * Issue 9, item 1: the helper stops reading, its socket fills and the
 * kernel's sender backs off (EAGAIN) with data and control changes still
 * due; then the port is closed and deleted, or deleted while open, under
 * the back-off. Nothing may fire on a freed port (KASAN would say), and
 * the port must be gone once nobody holds it.
 */
static int stall_mode(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 6, gone = 0;
	int small = 4096;
	struct nl other;
	int ret;

	if (find_comm("ttyrfcd")) {
		tap(false, "no ttyrfcd may run for this mode");
		return tap_end();
	}
	ret = nl_connect(&H, true, -1);
	if (!ret)
		ret = nl_connect(&other, false, -1);
	/* a receive buffer that two messages fill */
	setsockopt(H.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (!ret)
		ret = nl_hello(&H, TTYRFC_GENL_VERSION);
	if (!tap(ret == 0, "registered as a helper with a 4 KiB receive buffer (%s)",
		 errname(ret)))
		return tap_end();
	for (int r = 0; r < rounds; r++) {
		struct agent ag = { 0 };
		struct ares res;
		int ix = nl_add(&other, "127.0.0.4", 7200 + r, NULL);
		struct fport *p = fport(ix);
		long long end;

		if (ix < 0 || !p) {
			diag("round %d: ADD: %s", r + 1, errname(ix));
			continue;
		}
		p->nopen = 0;
		agent_start(&ag, ix);
		agent_send(&ag, 'o', 0, 0);
		if (!PUMP_UNTIL(p->nopen > 0, 5000) ||
		    h_link(ix, p->sid, TTYRFC_LINK_UP, 0) ||
		    agent_wait(&ag, &res, NULL, 0, 5000) || res.ret) {
			diag("round %d: open of ttyRFC%d failed", r + 1, ix);
			agent_kill(&ag);
			nl_del(&other, ix);
			continue;
		}
		agent_do(&ag, 'r', 0, 0, NULL);
		nl_pump(&H, 100);
		/* from here on the helper reads nothing */
		agent_do(&ag, 'w', 200000, 0, NULL);
		agent_do(&ag, 'T', 600, 0, NULL);
		sleep_ms(300 + r * 100);	/* the sender backs off, retries */
		switch (r % 3) {
		case 0:		/* closed (no drain), then deleted */
			agent_kill(&ag);
			ret = nl_del(&other, ix);
			break;
		case 1:		/* deleted while open: an unplug */
			ret = nl_del(&other, ix);
			sleep_ms(100);
			agent_kill(&ag);
			break;
		default:	/* closed, deleted, and its remote added again */
			agent_kill(&ag);
			sleep_ms(200);
			ret = nl_del(&other, ix);
			if (!ret) {
				int again = nl_add(&other, "127.0.0.4", 7200 + r,
						   NULL);

				if (again >= 0)
					nl_del(&other, again);
			}
			break;
		}
		if (ret)
			diag("round %d: DEL of ttyRFC%d: %s", r + 1, ix,
			     errname(ret));
		/* let the back-off timers run over the dying port */
		sleep_ms(600);
		/* read again: what was due for the dead port is dropped */
		for (int i = 0; i < 20; i++)
			nl_pump(&H, 50);
		end = now_ms() + 10000;
		do {
			ret = h_confirm(ix, p->sid, 0, 0);
			if (ret == -ENODEV)
				break;
			nl_pump(&H, 50);
		} while (now_ms() < end);
		if (ret == -ENODEV)
			gone++;
		else
			diag("round %d: ttyRFC%d still there 10 s after DEL and close (%s)",
			     r + 1, ix, errname(ret));
	}
	tap(gone == rounds,
	    "%d rounds: ports closed or deleted while the sender backs off from a full helper socket are gone afterwards (%d)",
	    rounds, gone);
	nl_close(&other);
	nl_close(&H);
	return tap_end();
}

/* ------------------------------------------------------------ mode: race */

static volatile int race_ix = -1;
static volatile bool race_stop;

/* Lies from the helper while ports come and go under them. */
static void *race_spam(void *arg)
{
	static char buf[BIGMSG];
	unsigned int seed = 1234;
	uint32_t seq = SPAM_SEQ;

	(void)arg;
	while (!race_stop) {
		int ix = race_ix;
		/* racy reads of the tracker are fine: lies are the point */
		struct fport *p = ix >= 0 ? fp[ix] : NULL;
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct genlmsghdr *gh;
		uint32_t sid = p ? p->sid : 1;
		int what = rand_r(&seed) % 5;

		if (ix < 0 || !p) {
			sleep_ms(1);
			continue;
		}
		nlh->nlmsg_type = H.family;
		nlh->nlmsg_flags = NLM_F_REQUEST;	/* errors come anyway */
		nlh->nlmsg_seq = seq++ | SPAM_SEQ;
		gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
		gh->version = TTYRFC_GENL_VERSION;
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, ix);
		mnl_attr_put_u32(nlh, TTYRFC_A_SESSION,
				 sid + (rand_r(&seed) % 4 == 0));
		switch (what) {
		case 0:
			gh->cmd = TTYRFC_CMD_CONFIRM;
			mnl_attr_put_u64(nlh, TTYRFC_A_TX_POS,
					 p ? p->tx_end - rand_r(&seed) % 64 : 0);
			mnl_attr_put_u64(nlh, TTYRFC_A_CTRL_SEQ,
					 p ? p->seq_end : 0);
			break;
		case 1:
			gh->cmd = TTYRFC_CMD_RX;
			mnl_attr_put_u64(nlh, TTYRFC_A_RX_POS,
					 p ? p->open_rx : 0);
			mnl_attr_put(nlh, TTYRFC_A_DATA, rand_r(&seed) % 2048,
				     fillbuf);
			break;
		case 2:
			gh->cmd = TTYRFC_CMD_STATUS;
			mnl_attr_put_u32(nlh, TTYRFC_A_MODEM,
					 (rand_r(&seed) % 16) << 5 &
					 (TIOCM_CTS | TIOCM_DSR | TIOCM_RI |
					  TIOCM_CD));
			if (rand_r(&seed) % 2)
				mnl_attr_put_u32(nlh, TTYRFC_A_LINE,
						 rand_r(&seed) % 16);
			break;
		default:
			gh->cmd = TTYRFC_CMD_LINK;
			mnl_attr_put_u8(nlh, TTYRFC_A_LINK,
					rand_r(&seed) % 3 ? TTYRFC_LINK_UP :
					TTYRFC_LINK_DOWN);
			break;
		}
		send(H.fd, nlh, nlh->nlmsg_len, MSG_DONTWAIT);
	}
	return NULL;
}

static int race_mode(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 30, opened = 0;
	pthread_t th;
	int ret;

	if (find_comm("ttyrfcd")) {
		tap(false, "no ttyrfcd may run for this mode");
		return tap_end();
	}
	ret = nl_connect(&H, true, -1);
	if (!ret)
		ret = nl_hello(&H, TTYRFC_GENL_VERSION);
	if (!tap(ret == 0, "registered as the helper (%s)", errname(ret)))
		return tap_end();
	pthread_create(&th, NULL, race_spam, NULL);
	for (int i = 0; i < rounds; i++) {
		struct agent ag = { 0 };
		struct ares r;
		int ix = nl_add(&H, "127.0.0.3", 7100 + i % 4, NULL);

		if (ix < 0) {
			diag("round %d: ADD: %s", i, errname(ix));
			continue;
		}
		fport(ix)->nopen = 0;
		race_ix = ix;
		agent_start(&ag, ix);
		agent_send(&ag, 'o', 1, 0);
		PUMP_UNTIL(fport(ix)->nopen > 0, 3000);
		h_link(ix, fport(ix)->sid, TTYRFC_LINK_UP, 0);
		if (agent_wait(&ag, &r, NULL, 0, 5000) == 0 && r.ret == 0) {
			opened++;
			agent_send(&ag, 'w', 1000 + i * 97, 0);
			nl_pump(&H, 30 + i % 7 * 10);
			/* remove it while it is open, or after it closed */
			if (i % 2)
				nl_del(&H, ix);
			agent_wait(&ag, &r, NULL, 0, 2000);
			agent_do(&ag, 'c', 0, 0, NULL);
			if (!(i % 2))
				nl_del(&H, ix);
		} else {
			nl_del(&H, ix);
		}
		agent_stop(&ag);
		nl_pump(&H, 20);
	}
	race_ix = -1;
	race_stop = true;
	pthread_join(th, NULL);
	nl_pump(&H, 200);
	/*
	 * A lie can be a LINK DOWN of the real session: that open fails, as
	 * it should. What counts is that some got through and nothing broke
	 * (the checks after this mode, and dmesg).
	 */
	tap(opened > 0,
	    "%d rounds of open/write/del while the helper sends lies: %d opened",
	    rounds, opened);
	nl_close(&H);
	return tap_end();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "policy"))
		return policy_mode();
	if (!strcmp(mode, "intruder"))
		return intruder_mode();
	if (!strcmp(mode, "helper"))
		return helper_mode();
	if (!strcmp(mode, "race"))
		return race_mode(argc, argv);
	if (!strcmp(mode, "stall"))
		return stall_mode(argc, argv);
	if (!strcmp(mode, "eperm"))
		return eperm_mode(argc, argv);
	if (!strcmp(mode, "fuzz"))
		return fuzz_mode(argc, argv);
	if (!strcmp(mode, "family")) {
		struct nl n;
		int ret = nl_connect(&n, false, -1);

		if (ret)
			return 1;
		printf("%u\n", n.family);
		return 0;
	}
	fprintf(stderr, "usage: %s policy|intruder|helper|stall [N]|race [N]|eperm [--drop-caps] [--family ID] [--as WHO]|fuzz [N]|family\n",
		argv[0]);
	return 2;
}
