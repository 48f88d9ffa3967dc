// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfc: the "ttyrfc" generic netlink family.
 *
 * One helper (ttyrfcd) registers with HELLO; its socket's port id is where
 * every event goes. Its death is seen at once through the netlink release
 * notifier: ports stay, queued data is kept, and the next helper to say
 * HELLO is told about every open port again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "ttyrfc.h"

static DEFINE_MUTEX(helper_lock);
static u32 helper_portid;	/* 0: no helper; written under helper_lock */

static const struct nla_policy ttyrfc_policy[TTYRFC_A_MAX + 1] = {
	[TTYRFC_A_VERSION]	= { .type = NLA_U32 },
	[TTYRFC_A_INDEX]	= NLA_POLICY_MAX(NLA_U32, TTYRFC_PORTS_LIMIT - 1),
	[TTYRFC_A_HOST]		= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_HOST_MAX },
	[TTYRFC_A_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[TTYRFC_A_NAME]		= { .type = NLA_NUL_STRING,
				    .len = TTYRFC_NAME_MAX },
	[TTYRFC_A_FLAGS]	= NLA_POLICY_MASK(NLA_U32, TTYRFC_F_RAW),
	[TTYRFC_A_LINK_STATE]	= NLA_POLICY_MAX(NLA_U8, TTYRFC_LINK_UP),
	[TTYRFC_A_ERRNO]	= NLA_POLICY_RANGE(NLA_U32, 0, MAX_ERRNO),
	[TTYRFC_A_DATA]		= { .type = NLA_BINARY,
				    .len = TTYRFC_MAX_DATA },
	[TTYRFC_A_BYTES]	= { .type = NLA_U32 },
	[TTYRFC_A_MSR]		= { .type = NLA_U8 },
	[TTYRFC_A_LSR]		= { .type = NLA_U8 },
	[TTYRFC_A_STAT_PROTO_ERRORS]	= { .type = NLA_U32 },
};

static struct genl_family ttyrfc_family;

bool ttyrfc_helper_present(void)
{
	return READ_ONCE(helper_portid) != 0;
}

struct sk_buff *ttyrfc_event_new(struct ttyrfc_port *p, u8 cmd,
				 size_t payload, void **hdr)
{
	struct sk_buff *skb;

	skb = genlmsg_new(nla_total_size(sizeof(u32)) + payload, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &ttyrfc_family, 0, cmd);
	if (!*hdr || nla_put_u32(skb, TTYRFC_A_INDEX, p->index)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* Unicast to the helper; -EAGAIN when its socket is full. Consumes @skb. */
int ttyrfc_event_send(struct sk_buff *skb, void *hdr)
{
	u32 portid = READ_ONCE(helper_portid);

	genlmsg_end(skb, hdr);
	if (!portid) {
		nlmsg_free(skb);
		return -ENOTCONN;
	}
	return genlmsg_unicast(&init_net, skb, portid);
}

int ttyrfc_send_simple(struct ttyrfc_port *p, u8 cmd)
{
	struct sk_buff *skb;
	void *hdr;

	skb = ttyrfc_event_new(p, cmd, 0, &hdr);
	if (!skb)
		return -ENOMEM;
	return ttyrfc_event_send(skb, hdr);
}

static int ttyrfc_put_ctrl(struct sk_buff *skb, struct ttyrfc_port *p,
			   const struct ttyrfc_ctrl *c)
{
	const struct ttyrfc_settings *s = &c->s;
	u32 m = c->mask;

	if (c->cmd == TTYRFC_CMD_OPEN &&
	    (nla_put_string(skb, TTYRFC_A_HOST, p->host) ||
	     nla_put_u16(skb, TTYRFC_A_PORT, p->tcp_port) ||
	     nla_put_u32(skb, TTYRFC_A_FLAGS, p->flags)))
		return -EMSGSIZE;
	if (((m & TTYRFC_SET_BAUD) &&
	     nla_put_u32(skb, TTYRFC_A_BAUD, s->baud)) ||
	    ((m & TTYRFC_SET_DATASIZE) &&
	     nla_put_u8(skb, TTYRFC_A_DATASIZE, s->datasize)) ||
	    ((m & TTYRFC_SET_PARITY) &&
	     nla_put_u8(skb, TTYRFC_A_PARITY, s->parity)) ||
	    ((m & TTYRFC_SET_STOPSIZE) &&
	     nla_put_u8(skb, TTYRFC_A_STOPSIZE, s->stopsize)) ||
	    ((m & TTYRFC_SET_FLOW) &&
	     nla_put_u8(skb, TTYRFC_A_FLOW, s->flow)) ||
	    ((m & TTYRFC_SET_MCTRL) &&
	     (nla_put_u32(skb, TTYRFC_A_MCTRL, s->mctrl) ||
	      nla_put_u32(skb, TTYRFC_A_MCTRL_MASK, c->mctrl_mask))) ||
	    ((m & TTYRFC_SET_BREAK) &&
	     nla_put_u8(skb, TTYRFC_A_BREAK, c->brk)) ||
	    ((m & TTYRFC_SET_PURGE) &&
	     nla_put_u8(skb, TTYRFC_A_PURGE, c->purge)) ||
	    ((m & TTYRFC_SET_SUSPEND) &&
	     nla_put_u8(skb, TTYRFC_A_SUSPEND, c->suspend)))
		return -EMSGSIZE;
	return 0;
}

int ttyrfc_send_ctrl(struct ttyrfc_port *p, const struct ttyrfc_ctrl *c)
{
	struct sk_buff *skb;
	void *hdr;

	skb = ttyrfc_event_new(p, c->cmd, 512, &hdr);
	if (!skb)
		return -ENOMEM;
	if (ttyrfc_put_ctrl(skb, p, c)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	return ttyrfc_event_send(skb, hdr);
}

static struct ttyrfc_port *ttyrfc_info_port(struct genl_info *info)
{
	struct ttyrfc_port *p;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_INDEX))
		return ERR_PTR(-EINVAL);
	p = ttyrfc_port_get(nla_get_u32(info->attrs[TTYRFC_A_INDEX]));
	if (!p) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TTYRFC_A_INDEX],
				    "no such ttyRFC port");
		return ERR_PTR(-ENODEV);
	}
	return p;
}

/* Only the registered helper may speak for the ports. */
static bool ttyrfc_from_helper(struct genl_info *info)
{
	if (info->snd_portid && info->snd_portid == READ_ONCE(helper_portid))
		return true;
	NL_SET_ERR_MSG(info->extack, "sender is not the registered ttyrfcd");
	return false;
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

	/* tell the new helper about every open port, then its data */
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
	u32 err = 0;

	if (!ttyrfc_from_helper(info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_LINK_STATE))
		return -EINVAL;
	p = ttyrfc_info_port(info);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (info->attrs[TTYRFC_A_ERRNO])
		err = nla_get_u32(info->attrs[TTYRFC_A_ERRNO]);
	ttyrfc_link_changed(p, nla_get_u8(info->attrs[TTYRFC_A_LINK_STATE]),
			    err);
	ttyrfc_port_put(p);
	return 0;
}

static int ttyrfc_nl_rx(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;
	struct nlattr *data;

	if (!ttyrfc_from_helper(info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_DATA))
		return -EINVAL;
	p = ttyrfc_info_port(info);
	if (IS_ERR(p))
		return PTR_ERR(p);
	data = info->attrs[TTYRFC_A_DATA];
	ttyrfc_rx(p, nla_data(data), nla_len(data));
	ttyrfc_port_put(p);
	return 0;
}

static int ttyrfc_nl_tx_done(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;

	if (!ttyrfc_from_helper(info))
		return -EPERM;
	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_BYTES))
		return -EINVAL;
	p = ttyrfc_info_port(info);
	if (IS_ERR(p))
		return PTR_ERR(p);
	ttyrfc_queue_done(p, nla_get_u32(info->attrs[TTYRFC_A_BYTES]));
	ttyrfc_port_put(p);
	return 0;
}

static int ttyrfc_nl_status(struct sk_buff *skb, struct genl_info *info)
{
	struct ttyrfc_port *p;

	if (!ttyrfc_from_helper(info))
		return -EPERM;
	p = ttyrfc_info_port(info);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (info->attrs[TTYRFC_A_MSR])
		ttyrfc_modem_changed(p, nla_get_u8(info->attrs[TTYRFC_A_MSR]));
	if (info->attrs[TTYRFC_A_LSR])
		ttyrfc_line_changed(p, nla_get_u8(info->attrs[TTYRFC_A_LSR]));
	if (info->attrs[TTYRFC_A_STAT_PROTO_ERRORS])
		WRITE_ONCE(p->helper_errors,
			   nla_get_u32(info->attrs[TTYRFC_A_STAT_PROTO_ERRORS]));
	ttyrfc_port_put(p);
	return 0;
}

static int ttyrfc_nl_add(struct sk_buff *skb, struct genl_info *info)
{
	const char *name = "", *host;
	struct sk_buff *msg;
	u32 flags = 0;
	void *hdr;
	int index;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_HOST) ||
	    GENL_REQ_ATTR_CHECK(info, TTYRFC_A_PORT))
		return -EINVAL;
	if (info->attrs[TTYRFC_A_NAME])
		name = nla_data(info->attrs[TTYRFC_A_NAME]);
	if (info->attrs[TTYRFC_A_FLAGS])
		flags = nla_get_u32(info->attrs[TTYRFC_A_FLAGS]);

	host = nla_data(info->attrs[TTYRFC_A_HOST]);
	index = ttyrfc_port_create(host, nla_get_u16(info->attrs[TTYRFC_A_PORT]),
				   name, flags);
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
		return index;
	}

	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ttyrfc_family, 0, TTYRFC_CMD_ADD);
	if (!hdr || nla_put_u32(msg, TTYRFC_A_INDEX, index)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int ttyrfc_nl_del(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, TTYRFC_A_INDEX))
		return -EINVAL;
	ret = ttyrfc_port_destroy(nla_get_u32(info->attrs[TTYRFC_A_INDEX]));
	if (ret == -EBUSY)
		NL_SET_ERR_MSG_MOD(info->extack, "port is open; close it first");
	else if (ret == -ENODEV)
		NL_SET_ERR_MSG_MOD(info->extack, "no such ttyRFC port");
	return ret;
}

static int ttyrfc_fill_port(struct sk_buff *skb, struct ttyrfc_port *p,
			    u32 portid, u32 seq, int flags)
{
	unsigned long irqflags;
	struct ttyrfc_settings s;
	u64 tx, rx, drop;
	void *hdr;
	int err;
	u8 link;

	spin_lock_irqsave(&p->lock, irqflags);
	s = p->cur;
	tx = p->tx_bytes;
	rx = p->rx_bytes;
	drop = p->rx_dropped;
	link = p->link;
	err = p->link_err;
	spin_unlock_irqrestore(&p->lock, irqflags);

	hdr = genlmsg_put(skb, portid, seq, &ttyrfc_family, flags,
			  TTYRFC_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, TTYRFC_A_INDEX, p->index) ||
	    nla_put_string(skb, TTYRFC_A_HOST, p->host) ||
	    nla_put_u16(skb, TTYRFC_A_PORT, p->tcp_port) ||
	    nla_put_string(skb, TTYRFC_A_NAME, p->name) ||
	    nla_put_u32(skb, TTYRFC_A_FLAGS, p->flags) ||
	    nla_put_u8(skb, TTYRFC_A_LINK_STATE, link) ||
	    nla_put_u32(skb, TTYRFC_A_BAUD, s.baud) ||
	    nla_put_u8(skb, TTYRFC_A_DATASIZE, s.datasize) ||
	    nla_put_u8(skb, TTYRFC_A_PARITY, s.parity) ||
	    nla_put_u8(skb, TTYRFC_A_STOPSIZE, s.stopsize) ||
	    nla_put_u8(skb, TTYRFC_A_FLOW, s.flow) ||
	    nla_put_u32(skb, TTYRFC_A_ERRNO, err) ||
	    nla_put_u32(skb, TTYRFC_A_MCTRL, s.mctrl) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_STAT_TX_BYTES, tx, TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_STAT_RX_BYTES, rx, TTYRFC_A_PAD) ||
	    nla_put_u64_64bit(skb, TTYRFC_A_STAT_RX_DROPPED, drop,
			      TTYRFC_A_PAD) ||
	    nla_put_u32(skb, TTYRFC_A_STAT_OPEN_COUNT,
			READ_ONCE(p->open_count)) ||
	    nla_put_u32(skb, TTYRFC_A_STAT_RECONNECTS,
			READ_ONCE(p->reconnects)) ||
	    nla_put_u32(skb, TTYRFC_A_STAT_PROTO_ERRORS,
			READ_ONCE(p->helper_errors) +
			READ_ONCE(p->proto_errors))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ttyrfc_nl_get_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned int index = cb->args[0];
	struct ttyrfc_port *p;
	int ret;

	while ((p = ttyrfc_port_next(&index))) {
		ret = ttyrfc_fill_port(skb, p, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI);
		ttyrfc_port_put(p);
		if (ret)
			break;
		index++;
	}
	cb->args[0] = index;
	return skb->len;
}

static const struct genl_small_ops ttyrfc_ops[] = {
	{ .cmd = TTYRFC_CMD_HELLO, .doit = ttyrfc_nl_hello,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_LINK, .doit = ttyrfc_nl_link,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_RX, .doit = ttyrfc_nl_rx,
	  .flags = GENL_ADMIN_PERM },
	{ .cmd = TTYRFC_CMD_TX_DONE, .doit = ttyrfc_nl_tx_done,
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

	ret = genl_register_family(&ttyrfc_family);
	if (ret)
		return ret;
	ret = netlink_register_notifier(&ttyrfc_nl_notifier);
	if (ret)
		genl_unregister_family(&ttyrfc_family);
	return ret;
}

void ttyrfc_genl_exit(void)
{
	netlink_unregister_notifier(&ttyrfc_nl_notifier);
	genl_unregister_family(&ttyrfc_family);
}
