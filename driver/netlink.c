// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the "ttyrfc" generic netlink family (docs/netlink/ttyrfc.yaml).
 *
 * One helper (ttyrfcd) registers with HELLO; its socket's port id is where
 * every event goes. Its death is seen at once through the netlink release
 * notifier: ports stay, their streams are kept, and the next helper to say
 * HELLO gets a new session for every open port. Every command needs
 * CAP_NET_ADMIN in the initial user namespace; attributes are checked by
 * strict policies.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "ttyrfc.h"
#include "netlink.h"

static DEFINE_MUTEX(helper_lock);
static u32 helper_portid;	/* 0: no helper; written under helper_lock */

#define TTYRFC_MODEM_MASK	(TIOCM_CTS | TIOCM_DSR | TIOCM_RI | TIOCM_CD)
#define TTYRFC_LINE_MASK	(TTYRFC_LINE_BREAK | TTYRFC_LINE_FRAME | \
				 TTYRFC_LINE_PARITY | TTYRFC_LINE_OVERRUN)

/* What the server says it applied (SERVER nest of STATUS) */
static const struct nla_policy ttyrfc_server_policy[TTYRFC_A_MAX + 1] = {
	[TTYRFC_A_BAUD]		= NLA_POLICY_MIN(NLA_U32, 1),
	[TTYRFC_A_DATA_BITS]	= NLA_POLICY_RANGE(NLA_U8, 5, 8),
	[TTYRFC_A_PARITY]	= NLA_POLICY_MAX(NLA_U8, TTYRFC_PARITY_SPACE),
	[TTYRFC_A_STOP_BITS]	= NLA_POLICY_RANGE(NLA_U8, 1, 2),
	[TTYRFC_A_FLOW]		= NLA_POLICY_MAX(NLA_U8, TTYRFC_FLOW_RTSCTS),
};

/* The helper's own counters (STATS nest of STATUS) */
static const struct nla_policy ttyrfc_stats_policy[TTYRFC_STAT_MAX + 1] = {
	[TTYRFC_STAT_PROTO_ERRORS]	= { .type = NLA_U64 },
	[TTYRFC_STAT_HELPER_STALE]	= { .type = NLA_U64 },
	[TTYRFC_STAT_CONNECTS]		= { .type = NLA_U64 },
	[TTYRFC_STAT_LOG_SUPPRESSED]	= { .type = NLA_U64 },
};

/* How the helper verifies a TLS server (TLS nest of ADD) */
static const struct nla_policy ttyrfc_tls_policy[TTYRFC_TLS_MAX + 1] = {
	[TTYRFC_TLS_CA]		= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_PATH_MAX },
	[TTYRFC_TLS_CERT]	= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_PATH_MAX },
	[TTYRFC_TLS_KEY]	= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_PATH_MAX },
	[TTYRFC_TLS_SERVER_NAME] = { .type = NLA_NUL_STRING,
				     .len = TTYRFC_HOST_MAX },
};

#define TTYRFC_FLAGS_MASK	(TTYRFC_F_RAW | TTYRFC_F_TLS | TTYRFC_F_MDNS)

static const struct nla_policy ttyrfc_policy[TTYRFC_A_MAX + 1] = {
	[TTYRFC_A_VERSION]	= { .type = NLA_U32 },
	[TTYRFC_A_INDEX]	= NLA_POLICY_MAX(NLA_U32, TTYRFC_PORTS_LIMIT - 1),
	[TTYRFC_A_SESSION]	= NLA_POLICY_MIN(NLA_U32, 1),
	[TTYRFC_A_HOST]		= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_HOST_MAX },
	[TTYRFC_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[TTYRFC_A_NAME]		= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_NAME_MAX },
	[TTYRFC_A_FLAGS]	= NLA_POLICY_MASK(NLA_U32, TTYRFC_FLAGS_MASK),
	[TTYRFC_A_LINK]		= NLA_POLICY_MAX(NLA_U8, TTYRFC_LINK_UP),
	[TTYRFC_A_ERRNO]	= NLA_POLICY_MAX(NLA_U32, MAX_ERRNO),
	[TTYRFC_A_DATA]		= { .type = NLA_BINARY,
				    .len = TTYRFC_MAX_DATA },
	[TTYRFC_A_TX_POS]	= { .type = NLA_U64 },
	[TTYRFC_A_CTRL_SEQ]	= { .type = NLA_U64 },
	[TTYRFC_A_RX_POS]	= { .type = NLA_U64 },
	[TTYRFC_A_MODEM]	= NLA_POLICY_MASK(NLA_U32, TTYRFC_MODEM_MASK),
	[TTYRFC_A_LINE]		= NLA_POLICY_MASK(NLA_U32, TTYRFC_LINE_MASK),
	[TTYRFC_A_SERVER]	= NLA_POLICY_NESTED(ttyrfc_server_policy),
	[TTYRFC_A_STATS]	= NLA_POLICY_NESTED(ttyrfc_stats_policy),
	[TTYRFC_A_TLS]		= NLA_POLICY_NESTED(ttyrfc_tls_policy),
};

static struct genl_family ttyrfc_family;

bool ttyrfc_helper_present(void)
{
	return READ_ONCE(helper_portid) != 0;
}

/* ------------------------------------------------------- to the helper */

/* A message about @p for session @sid, with room for @payload more. */
static struct sk_buff *ttyrfc_msg_new(struct ttyrfc_port *p, u8 cmd, u32 sid,
				      size_t payload)
{
	struct sk_buff *skb;

	skb = genlmsg_new(2 * nla_total_size(sizeof(u32)) + payload,
			  GFP_KERNEL);
	if (!skb)
		return NULL;
	if (!genlmsg_put(skb, 0, 0, &ttyrfc_family, 0, cmd) ||
	    nla_put_u32(skb, TTYRFC_A_INDEX, p->index) ||
	    nla_put_u32(skb, TTYRFC_A_SESSION, sid)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/*
 * Unicast to the helper; -EAGAIN when its socket is full. Consumes @skb.
 * Never sleeps (the socket is not waited for), so tty write() can use it.
 */
int ttyrfc_nl_send(struct sk_buff *skb)
{
	u32 portid = READ_ONCE(helper_portid);

	nlmsg_end(skb, nlmsg_hdr(skb));
	if (!portid) {
		nlmsg_free(skb);
		return -ENOTCONN;
	}
	return genlmsg_unicast(&init_net, skb, portid);
}

void ttyrfc_nl_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

#define TTYRFC_U64_SIZE		nla_total_size_64bit(sizeof(u64))
#define TTYRFC_SETTINGS_SIZE	(5 * nla_total_size(sizeof(u32)) + \
				 4 * nla_total_size(sizeof(u8)))

static int ttyrfc_put_settings(struct sk_buff *skb,
			       const struct ttyrfc_settings *s, u32 mask,
			       u32 mctrl_mask)
{
	if (((mask & TTYRFC_SET_BAUD) &&
	     nla_put_u32(skb, TTYRFC_A_BAUD, s->baud)) ||
	    ((mask & TTYRFC_SET_DATA_BITS) &&
	     nla_put_u8(skb, TTYRFC_A_DATA_BITS, s->data_bits)) ||
	    ((mask & TTYRFC_SET_PARITY) &&
	     nla_put_u8(skb, TTYRFC_A_PARITY, s->parity)) ||
	    ((mask & TTYRFC_SET_STOP_BITS) &&
	     nla_put_u8(skb, TTYRFC_A_STOP_BITS, s->stop_bits)) ||
	    ((mask & TTYRFC_SET_FLOW) &&
	     nla_put_u8(skb, TTYRFC_A_FLOW, s->flow)) ||
	    ((mask & TTYRFC_SET_MCTRL) &&
	     (nla_put_u32(skb, TTYRFC_A_MCTRL, s->mctrl) ||
	      nla_put_u32(skb, TTYRFC_A_MCTRL_MASK, mctrl_mask))) ||
	    ((mask & TTYRFC_SET_BREAK) &&
	     nla_put_u8(skb, TTYRFC_A_BREAK, s->brk)))
		return -EMSGSIZE;
	return 0;
}

static size_t ttyrfc_str_size(const char *s)
{
	return s ? nla_total_size(strlen(s) + 1) : 0;
}

static size_t ttyrfc_tls_size(const struct ttyrfc_port *p)
{
	const struct ttyrfc_tls *t = &p->tls;

	return nla_total_size(0) + ttyrfc_str_size(t->ca) +
	       ttyrfc_str_size(t->cert) + ttyrfc_str_size(t->key) +
	       ttyrfc_str_size(t->server_name);
}

static int ttyrfc_put_tls(struct sk_buff *skb, const struct ttyrfc_port *p)
{
	const struct ttyrfc_tls *t = &p->tls;
	struct nlattr *nest;

	if (!(p->flags & TTYRFC_F_TLS))
		return 0;
	nest = nla_nest_start(skb, TTYRFC_A_TLS);
	if (!nest ||
	    (t->ca && nla_put_string(skb, TTYRFC_TLS_CA, t->ca)) ||
	    (t->cert && nla_put_string(skb, TTYRFC_TLS_CERT, t->cert)) ||
	    (t->key && nla_put_string(skb, TTYRFC_TLS_KEY, t->key)) ||
	    (t->server_name &&
	     nla_put_string(skb, TTYRFC_TLS_SERVER_NAME, t->server_name)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

int ttyrfc_nl_open(struct ttyrfc_port *p, const struct ttyrfc_open_msg *m)
{
	struct sk_buff *skb;

	skb = ttyrfc_msg_new(p, TTYRFC_CMD_OPEN, m->sid,
			     ttyrfc_tls_size(p) +
			     nla_total_size(strlen(p->host) + 1) +
			     nla_total_size(sizeof(u16)) +
			     2 * nla_total_size(sizeof(u32)) +
			     nla_total_size(sizeof(u8)) +
			     4 * TTYRFC_U64_SIZE + TTYRFC_SETTINGS_SIZE);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u8(skb, TTYRFC_A_OPEN_KIND, m->kind) ||
	    nla_put_string(skb, TTYRFC_A_HOST, p->host) ||
	    nla_put_u16(skb, TTYRFC_A_PORT, p->tcp_port) ||
	    nla_put_u32(skb, TTYRFC_A_FLAGS, p->flags) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_TX_POS, m->tx_pos, TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_CTRL_SEQ, m->ctrl_seq,
			      TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_RX_POS, m->rx_pos, TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_RX_LIMIT, m->rx_limit,
			      TTYRFC_A_PAD) ||
	    ttyrfc_put_tls(skb, p) ||
	    ttyrfc_put_settings(skb, &m->s,
				TTYRFC_SET_LINE | TTYRFC_SET_BREAK |
				TTYRFC_SET_MCTRL, m->s.mctrl_known)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return ttyrfc_nl_send(skb);
}

int ttyrfc_nl_close(struct ttyrfc_port *p, u32 sid)
{
	struct sk_buff *skb = ttyrfc_msg_new(p, TTYRFC_CMD_CLOSE, sid, 0);

	return skb ? ttyrfc_nl_send(skb) : -ENOMEM;
}

int ttyrfc_nl_set(struct ttyrfc_port *p, u32 sid, const struct ttyrfc_ctrl *c)
{
	struct sk_buff *skb;

	skb = ttyrfc_msg_new(p, TTYRFC_CMD_SET, sid,
			     2 * TTYRFC_U64_SIZE + TTYRFC_SETTINGS_SIZE +
			     nla_total_size(sizeof(u8)));
	if (!skb)
		return -ENOMEM;
	if (nla_put_u64_64bit(skb, TTYRFC_A_TX_POS, c->pos, TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_CTRL_SEQ, c->seq, TTYRFC_A_PAD) ||
	    ttyrfc_put_settings(skb, &c->s, c->mask, c->mctrl_mask) ||
	    ((c->mask & TTYRFC_SET_PURGE) &&
	     nla_put_u8(skb, TTYRFC_A_PURGE, c->purge))) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return ttyrfc_nl_send(skb);
}

int ttyrfc_nl_rx_limit(struct ttyrfc_port *p, u32 sid, u64 limit)
{
	struct sk_buff *skb;

	skb = ttyrfc_msg_new(p, TTYRFC_CMD_RX_LIMIT, sid, TTYRFC_U64_SIZE);
	if (!skb)
		return -ENOMEM;
	if (nla_put_u64_64bit(skb, TTYRFC_A_RX_LIMIT, limit, TTYRFC_A_PAD)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return ttyrfc_nl_send(skb);
}

/* Sized to the payload: one byte written costs a small message. */
struct sk_buff *ttyrfc_nl_tx_alloc(unsigned int n, gfp_t gfp)
{
	return genlmsg_new(2 * nla_total_size(sizeof(u32)) + TTYRFC_U64_SIZE +
			   nla_total_size(n), gfp);
}

/* Under the port's lock: no allocation, the skb has the room. */
u8 *ttyrfc_nl_tx_fill(struct sk_buff *skb, struct ttyrfc_port *p, u32 sid,
		      u64 pos, unsigned int n)
{
	struct nlattr *nla;

	if (!genlmsg_put(skb, 0, 0, &ttyrfc_family, 0, TTYRFC_CMD_TX) ||
	    nla_put_u32(skb, TTYRFC_A_INDEX, p->index) ||
	    nla_put_u32(skb, TTYRFC_A_SESSION, sid) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_TX_POS, pos, TTYRFC_A_PAD))
		return NULL;
	nla = nla_reserve(skb, TTYRFC_A_DATA, n);
	return nla ? nla_data(nla) : NULL;
}

/* ----------------------------------------------------- from the helper */

static struct ttyrfc_port *ttyrfc_info_port(struct genl_info *info,
					    bool dead_too)
{
	struct ttyrfc_port *p;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_INDEX))
		return ERR_PTR(-EINVAL);
	p = ttyrfc_port_get(nla_get_u32(info->attrs[TTYRFC_A_INDEX]),
			    dead_too);
	if (!p) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TTYRFC_A_INDEX],
				    "no such ttyRFC port");
		return ERR_PTR(-ENODEV);
	}
	return p;
}

/*
 * Only the registered helper speaks for the ports, and only about a port
 * and session it names.
 */
static struct ttyrfc_port *ttyrfc_helper_port(struct genl_info *info,
					      u32 *sid)
{
	if (!info->snd_portid ||
	    info->snd_portid != READ_ONCE(helper_portid)) {
		NL_SET_ERR_MSG(info->extack,
			       "sender is not the registered ttyrfcd");
		return ERR_PTR(-EPERM);
	}
	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_SESSION))
		return ERR_PTR(-EINVAL);
	*sid = nla_get_u32(info->attrs[TTYRFC_A_SESSION]);
	return ttyrfc_info_port(info, true);
}

static int ttyrfc_result(struct genl_info *info, int ret)
{
	switch (ret) {
	case -ESTALE:
		NL_SET_ERR_MSG_MOD(info->extack, "not the port's session");
		break;
	case -ERANGE:
		NL_SET_ERR_MSG_MOD(info->extack,
				   "confirms more than was sent");
		break;
	case -EINVAL:
		NL_SET_ERR_MSG_MOD(info->extack,
				   "not the next position in the stream");
		break;
	case -EOVERFLOW:
		NL_SET_ERR_MSG_MOD(info->extack, "beyond the receive credit");
		break;
	}
	return ret;
}

static int ttyrfc_nl_hello(struct sk_buff *skb, struct genl_info *info)
{
	unsigned int index = 0;
	struct ttyrfc_port *p;
	u32 version;
	int ret = 0;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_VERSION))
		return -EINVAL;
	version = nla_get_u32(info->attrs[TTYRFC_A_VERSION]);
	if (version != TTYRFC_GENL_VERSION) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "ttyrfcd and module ABI versions differ");
		return -EPROTO;
	}

	mutex_lock(&helper_lock);
	if (helper_portid && helper_portid != info->snd_portid) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "another ttyrfcd is already registered");
		ret = -EBUSY;
		goto out;
	}
	WRITE_ONCE(helper_portid, info->snd_portid);
	pr_info("ttyrfcd registered (netlink port id %u)\n", info->snd_portid);

	while ((p = ttyrfc_port_next(&index))) {
		ttyrfc_port_replay(p);
		ttyrfc_port_put(p);
		index++;
	}
out:
	mutex_unlock(&helper_lock);
	return ret;
}

static int ttyrfc_nl_link(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;
	u32 sid, err = 0;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_LINK))
		return -EINVAL;
	p = ttyrfc_helper_port(info, &sid);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (info->attrs[TTYRFC_A_ERRNO])
		err = nla_get_u32(info->attrs[TTYRFC_A_ERRNO]);
	ret = ttyrfc_link(p, sid, nla_get_u8(info->attrs[TTYRFC_A_LINK]), err);
	ttyrfc_port_put(p);
	return ttyrfc_result(info, ret);
}

static int ttyrfc_nl_rx(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;
	struct nlattr *data;
	u32 sid;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_RX_POS) ||
	    GENL_REQ_ATTR_CHECK(info, TTYRFC_A_DATA))
		return -EINVAL;
	p = ttyrfc_helper_port(info, &sid);
	if (IS_ERR(p))
		return PTR_ERR(p);
	data = info->attrs[TTYRFC_A_DATA];
	ret = ttyrfc_rx(p, sid, nla_get_u64(info->attrs[TTYRFC_A_RX_POS]),
			nla_data(data), nla_len(data));
	ttyrfc_port_put(p);
	return ttyrfc_result(info, ret);
}

static int ttyrfc_nl_confirm(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;
	u32 sid;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_TX_POS) ||
	    GENL_REQ_ATTR_CHECK(info, TTYRFC_A_CTRL_SEQ))
		return -EINVAL;
	p = ttyrfc_helper_port(info, &sid);
	if (IS_ERR(p))
		return PTR_ERR(p);
	ret = ttyrfc_queue_confirm(p, sid,
				   nla_get_u64(info->attrs[TTYRFC_A_TX_POS]),
				   nla_get_u64(info->attrs[TTYRFC_A_CTRL_SEQ]));
	ttyrfc_port_put(p);
	return ttyrfc_result(info, ret);
}

static int ttyrfc_parse_server(struct genl_info *info,
			       struct ttyrfc_settings *s)
{
	struct nlattr *tb[TTYRFC_A_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, TTYRFC_A_MAX, info->attrs[TTYRFC_A_SERVER],
			       ttyrfc_server_policy, info->extack);
	if (ret)
		return ret;
	memset(s, 0, sizeof(*s));
	if (tb[TTYRFC_A_BAUD])
		s->baud = nla_get_u32(tb[TTYRFC_A_BAUD]);
	if (tb[TTYRFC_A_DATA_BITS])
		s->data_bits = nla_get_u8(tb[TTYRFC_A_DATA_BITS]);
	if (tb[TTYRFC_A_PARITY])
		s->parity = nla_get_u8(tb[TTYRFC_A_PARITY]);
	if (tb[TTYRFC_A_STOP_BITS])
		s->stop_bits = nla_get_u8(tb[TTYRFC_A_STOP_BITS]);
	if (tb[TTYRFC_A_FLOW])
		s->flow = nla_get_u8(tb[TTYRFC_A_FLOW]);
	return 0;
}

static int ttyrfc_parse_stats(struct genl_info *info, u64 *stats)
{
	struct nlattr *tb[TTYRFC_STAT_MAX + 1];
	int i, ret;

	ret = nla_parse_nested(tb, TTYRFC_STAT_MAX,
			       info->attrs[TTYRFC_A_STATS],
			       ttyrfc_stats_policy, info->extack);
	if (ret)
		return ret;
	for (i = 0; i <= TTYRFC_STAT_MAX; i++)
		stats[i] = tb[i] && ttyrfc_stats_policy[i].type ?
			   nla_get_u64(tb[i]) : 0;
	return 0;
}

static int ttyrfc_nl_status(struct sk_buff *skb, struct genl_info *info)
{
	u64 stats[TTYRFC_STAT_MAX + 1];
	struct ttyrfc_settings server;
	u32 modem = 0, line = 0, sid;
	struct ttyrfc_port *p;
	int ret = 0;

	p = ttyrfc_helper_port(info, &sid);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (info->attrs[TTYRFC_A_MODEM])
		modem = nla_get_u32(info->attrs[TTYRFC_A_MODEM]);
	if (info->attrs[TTYRFC_A_LINE])
		line = nla_get_u32(info->attrs[TTYRFC_A_LINE]);
	if (info->attrs[TTYRFC_A_SERVER])
		ret = ttyrfc_parse_server(info, &server);
	if (!ret && info->attrs[TTYRFC_A_STATS])
		ret = ttyrfc_parse_stats(info, stats);
	if (!ret)
		ret = ttyrfc_status(p, sid,
				    info->attrs[TTYRFC_A_MODEM] ? &modem : NULL,
				    info->attrs[TTYRFC_A_LINE] ? &line : NULL,
				    info->attrs[TTYRFC_A_SERVER] ?
				    &server : NULL,
				    info->attrs[TTYRFC_A_STATS] ?
				    stats : NULL);
	ttyrfc_port_put(p);
	return ttyrfc_result(info, ret);
}

/* -------------------------------------------------------- administration */

static int ttyrfc_parse_tls(struct genl_info *info, struct ttyrfc_tls *t)
{
	struct nlattr *tb[TTYRFC_TLS_MAX + 1];
	int ret;

	memset(t, 0, sizeof(*t));
	if (!info->attrs[TTYRFC_A_TLS])
		return 0;
	ret = nla_parse_nested(tb, TTYRFC_TLS_MAX, info->attrs[TTYRFC_A_TLS],
			       ttyrfc_tls_policy, info->extack);
	if (ret)
		return ret;
	/* the strings stay in the message until the port copied them */
	if (tb[TTYRFC_TLS_CA])
		t->ca = nla_data(tb[TTYRFC_TLS_CA]);
	if (tb[TTYRFC_TLS_CERT])
		t->cert = nla_data(tb[TTYRFC_TLS_CERT]);
	if (tb[TTYRFC_TLS_KEY])
		t->key = nla_data(tb[TTYRFC_TLS_KEY]);
	if (tb[TTYRFC_TLS_SERVER_NAME])
		t->server_name = nla_data(tb[TTYRFC_TLS_SERVER_NAME]);
	return 0;
}

static int ttyrfc_nl_add(struct sk_buff *skb, struct genl_info *info)
{
	const char *name = "", *host;
	struct ttyrfc_tls tls;
	struct sk_buff *msg;
	u16 tcp_port = 0;
	u32 flags = 0;
	void *hdr;
	int index;

	if (info->attrs[TTYRFC_A_FLAGS])
		flags = nla_get_u32(info->attrs[TTYRFC_A_FLAGS]);
	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_HOST) ||
	    (!(flags & TTYRFC_F_MDNS) &&
	     GENL_REQ_ATTR_CHECK(info, TTYRFC_A_PORT)))
		return -EINVAL;
	if (info->attrs[TTYRFC_A_NAME])
		name = nla_data(info->attrs[TTYRFC_A_NAME]);
	if (info->attrs[TTYRFC_A_PORT])
		tcp_port = nla_get_u16(info->attrs[TTYRFC_A_PORT]);
	host = nla_data(info->attrs[TTYRFC_A_HOST]);
	if (info->attrs[TTYRFC_A_TLS] && !(flags & TTYRFC_F_TLS)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TTYRFC_A_TLS],
				    "TLS settings for a port without TLS");
		return -EINVAL;
	}
	index = ttyrfc_parse_tls(info, &tls);
	if (index)
		return index;

	/* the reply first: once the port exists, answering cannot fail */
	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ttyrfc_family, 0, TTYRFC_CMD_ADD);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}

	index = ttyrfc_port_create(host, tcp_port, name, flags, &tls);
	if (index < 0) {
		if (index == -ENOSPC)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "all ports in use (ports_max)");
		else if (index == -EEXIST)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "a port with that remote or name exists");
		else if (index == -EINVAL && !*host)
			NL_SET_ERR_MSG_MOD(info->extack, "empty host");
		else if (index == -EINVAL)
			NL_SET_ERR_MSG_MOD(info->extack,
					   "name may only use A-Z a-z 0-9 # + - . : = @ _");
		nlmsg_free(msg);
		return index;
	}
	/* room for it was reserved by genlmsg_new() */
	nla_put_u32(msg, TTYRFC_A_INDEX, index);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int ttyrfc_nl_del(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_INDEX))
		return -EINVAL;
	ret = ttyrfc_port_destroy(nla_get_u32(info->attrs[TTYRFC_A_INDEX]));
	if (ret == -ENODEV)
		NL_SET_ERR_MSG_MOD(info->extack, "no such ttyRFC port");
	return ret;
}

static int ttyrfc_put_stats(struct sk_buff *skb, const u64 *stats)
{
	struct nlattr *nest = nla_nest_start(skb, TTYRFC_A_STATS);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = TTYRFC_STAT_TX_BYTES; i <= TTYRFC_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, stats[i], TTYRFC_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int ttyrfc_put_server(struct sk_buff *skb,
			     const struct ttyrfc_settings *s)
{
	struct nlattr *nest = nla_nest_start(skb, TTYRFC_A_SERVER);

	if (!nest || ttyrfc_put_settings(skb, s, TTYRFC_SET_LINE, 0))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* One port as GET shows it; a snapshot taken under its lock. */
struct ttyrfc_port_info {
	struct ttyrfc_settings cur, server;
	bool server_known;
	u64 stats[TTYRFC_STAT_MAX + 1];
	u32 sid, modem;
	int err;
	u8 link;
};

static int ttyrfc_fill_port(struct sk_buff *skb, struct ttyrfc_port *p,
			    u32 portid, u32 seq, int flags)
{
	struct ttyrfc_port_info *i;
	unsigned long irqflags;
	void *hdr;
	int ret = -EMSGSIZE;

	i = kmalloc(sizeof(*i), GFP_KERNEL);
	if (!i)
		return -ENOMEM;
	spin_lock_irqsave(&p->lock, irqflags);
	i->cur = p->cur;
	i->server = p->server;
	i->server_known = p->server_known;
	memcpy(i->stats, p->stats, sizeof(i->stats));
	i->sid = p->sid;
	i->modem = p->modem;
	i->err = p->link_err;
	i->link = p->link;
	spin_unlock_irqrestore(&p->lock, irqflags);

	hdr = genlmsg_put(skb, portid, seq, &ttyrfc_family, flags,
			  TTYRFC_CMD_GET);
	if (!hdr)
		goto out;
	if (nla_put_u32(skb, TTYRFC_A_INDEX, p->index) ||
	    nla_put_string(skb, TTYRFC_A_HOST, p->host) ||
	    nla_put_u16(skb, TTYRFC_A_PORT, p->tcp_port) ||
	    nla_put_string(skb, TTYRFC_A_NAME, p->name) ||
	    nla_put_u32(skb, TTYRFC_A_FLAGS, p->flags) ||
	    nla_put_u8(skb, TTYRFC_A_LINK, i->link) ||
	    nla_put_u32(skb, TTYRFC_A_ERRNO, i->err) ||
	    (i->sid && nla_put_u32(skb, TTYRFC_A_SESSION, i->sid)) ||
	    ttyrfc_put_settings(skb, &i->cur, TTYRFC_SET_LINE |
				TTYRFC_SET_MCTRL | TTYRFC_SET_BREAK,
				i->cur.mctrl_known) ||
	    nla_put_u32(skb, TTYRFC_A_MODEM, i->modem) ||
	    (i->server_known && ttyrfc_put_server(skb, &i->server)) ||
	    ttyrfc_put_tls(skb, p) ||
	    ttyrfc_put_stats(skb, i->stats)) {
		genlmsg_cancel(skb, hdr);
		goto out;
	}
	genlmsg_end(skb, hdr);
	ret = 0;
out:
	kfree(i);
	return ret;
}

static int ttyrfc_nl_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned int index = cb->args[0];
	struct ttyrfc_port *p;
	int ret = 0;

	while ((p = ttyrfc_port_next(&index))) {
		if (!READ_ONCE(p->dead))
			ret = ttyrfc_fill_port(skb, p,
					       NETLINK_CB(cb->skb).portid,
					       cb->nlh->nlmsg_seq, NLM_F_MULTI);
		ttyrfc_port_put(p);
		if (ret)
			break;
		index++;
	}
	cb->args[0] = index;
	if (ret == -ENOMEM)
		return ret;
	return skb->len;
}

static const struct genl_small_ops ttyrfc_ops[] = {
	{ .cmd = TTYRFC_CMD_HELLO, .doit = ttyrfc_nl_hello,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_LINK, .doit = ttyrfc_nl_link,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_RX, .doit = ttyrfc_nl_rx,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_CONFIRM, .doit = ttyrfc_nl_confirm,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_STATUS, .doit = ttyrfc_nl_status,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_ADD, .doit = ttyrfc_nl_add,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_DEL, .doit = ttyrfc_nl_del,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_GET, .dumpit = ttyrfc_nl_get_dump,
	  .flags = GENL_ADMIN_PERM },
};

static struct genl_family ttyrfc_family __ro_after_init = {
	.name		= TTYRFC_GENL_NAME,
	.version	= TTYRFC_GENL_VERSION,
	.maxattr	= TTYRFC_A_MAX,
	.policy		= ttyrfc_policy,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.small_ops	= ttyrfc_ops,
	.n_small_ops	= ARRAY_SIZE(ttyrfc_ops),
	.resv_start_op	= TTYRFC_CMD_MAX + 1,
};

/* Runs when any netlink socket closes; we only care about the helper's. */
static int ttyrfc_nl_notify(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct netlink_notify *n = ptr;
	unsigned int index = 0;
	struct ttyrfc_port *p;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid)
		return NOTIFY_DONE;

	mutex_lock(&helper_lock);
	if (n->portid == helper_portid) {
		WRITE_ONCE(helper_portid, 0);
		pr_info("ttyrfcd (netlink port id %u) went away; ports kept until it returns\n",
			n->portid);
		while ((p = ttyrfc_port_next(&index))) {
			ttyrfc_port_helper_gone(p);
			ttyrfc_port_put(p);
			index++;
		}
	}
	mutex_unlock(&helper_lock);
	return NOTIFY_DONE;
}

static struct notifier_block ttyrfc_nl_notifier = {
	.notifier_call = ttyrfc_nl_notify,
};

int __init ttyrfc_genl_init(void)
{
	int ret;

	ret = netlink_register_notifier(&ttyrfc_nl_notifier);
	if (ret)
		return ret;
	ret = genl_register_family(&ttyrfc_family);
	if (ret)
		netlink_unregister_notifier(&ttyrfc_nl_notifier);
	return ret;
}

void ttyrfc_genl_exit(void)
{
	genl_unregister_family(&ttyrfc_family);
	netlink_unregister_notifier(&ttyrfc_nl_notifier);
	/* nothing more goes to a helper of this module */
	WRITE_ONCE(helper_portid, 0);
}
