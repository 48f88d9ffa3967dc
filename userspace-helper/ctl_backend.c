// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl: the thin layer between the subcommands and the kernel: GET
 * (every port, into `ports`), ADD and DEL, plus what ttyrfcd keeps about a
 * port's current connection in /run/ttyrfcd (runinfo.h) until the kernel
 * can keep it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "runinfo.h"

struct port_list ports;

static int open_family(struct genl *g)
{
	int ret = genl_open(g);

	if (ret == -ENOENT)
		fprintf(stderr,
			"%s: the ttyrfc module is not loaded (modprobe ttyrfc)\n",
			prog);
	else if (ret)
		fprintf(stderr, "%s: %s\n", prog, g->err);
	return ret;
}

static long long attr_num(const struct nlattr *a, int bits)
{
	if (!a)
		return -1;
	switch (bits) {
	case 8:
		return mnl_attr_get_u8(a);
	case 16:
		return mnl_attr_get_u16(a);
	case 32:
		return mnl_attr_get_u32(a);
	default:
		return (long long)mnl_attr_get_u64(a);
	}
}

static void attr_str(const struct nlattr *a, char *dst, size_t size)
{
	*dst = '\0';
	if (a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(dst, size, "%s", mnl_attr_get_str(a));
}

static int nest_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type > 0 && type <= TTYRFC_A_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static void parse_stats(const struct nlattr *nest, struct port_info *p)
{
	const struct nlattr *a;
	int i;

	for (i = 0; i <= TTYRFC_STAT_MAX; i++)
		p->stats[i] = -1;
	if (!nest)
		return;
	mnl_attr_for_each_nested(a, nest) {
		int type = mnl_attr_get_type(a);

		if (type > TTYRFC_STAT_PAD && type <= TTYRFC_STAT_MAX &&
		    mnl_attr_validate(a, MNL_TYPE_U64) >= 0)
			p->stats[type] = (long long)mnl_attr_get_u64(a);
	}
}

static void parse_server(const struct nlattr *nest, struct port_info *p)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1] = { NULL };

	p->server_known = nest != NULL;
	p->server_baud = -1;
	p->server_data_bits = p->server_parity = p->server_stop_bits = -1;
	p->server_flow = -1;
	if (!nest)
		return;
	mnl_attr_parse_nested(nest, nest_cb, tb);
	p->server_baud = attr_num(tb[TTYRFC_A_BAUD], 32);
	p->server_data_bits = attr_num(tb[TTYRFC_A_DATA_BITS], 8);
	p->server_parity = attr_num(tb[TTYRFC_A_PARITY], 8);
	p->server_stop_bits = attr_num(tb[TTYRFC_A_STOP_BITS], 8);
	p->server_flow = attr_num(tb[TTYRFC_A_FLOW], 8);
}

static void parse_tls(const struct nlattr *nest, struct port_info *p)
{
	const struct nlattr *a;

	if (!nest)
		return;
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case TTYRFC_TLS_CA:
			attr_str(a, p->tls_ca, sizeof(p->tls_ca));
			break;
		case TTYRFC_TLS_CERT:
			attr_str(a, p->tls_cert, sizeof(p->tls_cert));
			break;
		case TTYRFC_TLS_KEY:
			attr_str(a, p->tls_key, sizeof(p->tls_key));
			break;
		case TTYRFC_TLS_SERVER_NAME:
			attr_str(a, p->tls_server_name,
				 sizeof(p->tls_server_name));
			break;
		}
	}
}

/* ttyrfcd's file about the port, if it is about the current session. */
static void read_runinfo(struct port_info *p)
{
	char path[64], line[600];
	long long session = -1;
	FILE *f;

	if (p->session <= 0)
		return;
	snprintf(path, sizeof(path), "%s/ttyRFC%u", RUNINFO_DIR, p->index);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
#define KEEP(key, field) \
		else if (!strcmp(line, key)) \
			snprintf(p->field, sizeof(p->field), "%s", v)
		if (!strcmp(line, "session"))
			session = atoll(v);
		KEEP("peer", conn_peer);
		KEEP("name", conn_name);
		KEEP("tls_protocol", tls_protocol);
		KEEP("tls_cipher", tls_cipher);
		KEEP("tls_verified_name", tls_verified_name);
		KEEP("tls_subject", tls_subject);
		KEEP("tls_issuer", tls_issuer);
		KEEP("tls_not_after", tls_not_after);
#undef KEEP
	}
	fclose(f);
	/* a file of an earlier session says nothing about this one */
	p->conn_known = session == p->session;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];
	struct port_list *l = data;
	struct port_info *p;

	if (genl_parse(nlh, tb) < 0 || !tb[TTYRFC_A_INDEX] ||
	    !tb[TTYRFC_A_HOST] || !tb[TTYRFC_A_PORT] || l->n >= PORTS_LIMIT)
		return MNL_CB_OK;
	p = &l->p[l->n++];
	memset(p, 0, sizeof(*p));
	p->index = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	attr_str(tb[TTYRFC_A_HOST], p->host, sizeof(p->host));
	p->tcp_port = mnl_attr_get_u16(tb[TTYRFC_A_PORT]);
	attr_str(tb[TTYRFC_A_NAME], p->name, sizeof(p->name));
	if (tb[TTYRFC_A_FLAGS])
		p->flags = mnl_attr_get_u32(tb[TTYRFC_A_FLAGS]);
	p->link = attr_num(tb[TTYRFC_A_LINK], 8);
	p->session = attr_num(tb[TTYRFC_A_SESSION], 32);
	p->baud = attr_num(tb[TTYRFC_A_BAUD], 32);
	p->data_bits = attr_num(tb[TTYRFC_A_DATA_BITS], 8);
	p->parity = attr_num(tb[TTYRFC_A_PARITY], 8);
	p->stop_bits = attr_num(tb[TTYRFC_A_STOP_BITS], 8);
	p->flow = attr_num(tb[TTYRFC_A_FLOW], 8);
	p->mctrl = attr_num(tb[TTYRFC_A_MCTRL], 32);
	p->mctrl_known = attr_num(tb[TTYRFC_A_MCTRL_MASK], 32);
	p->modem = attr_num(tb[TTYRFC_A_MODEM], 32);
	/* a port never opened has no settings yet: the kernel says 0 */
	if (p->baud == 0 || p->data_bits == 0)
		p->baud = p->data_bits = p->parity = p->stop_bits = p->flow = -1;
	parse_server(tb[TTYRFC_A_SERVER], p);
	parse_tls(tb[TTYRFC_A_TLS], p);
	parse_stats(tb[TTYRFC_A_STATS], p);
	p->last_errno = attr_num(tb[TTYRFC_A_ERRNO], 32);
	read_runinfo(p);
	return MNL_CB_OK;
}

int dump_ports(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	ports.n = 0;
	nlh = genl_msg(g, buf, TTYRFC_CMD_GET, NLM_F_DUMP);
	return genl_call(g, nlh, dump_cb, &ports);
}

int load_ports(struct genl *g)
{
	int ret;

	if (!g->nl && open_family(g))
		return 1;
	ret = dump_ports(g);
	return ret ? report(g, ret, NULL) : 0;
}

static int add_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];

	if (genl_parse(nlh, tb) >= 0 && tb[TTYRFC_A_INDEX])
		*(long *)data = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	return MNL_CB_OK;
}

int add_port(struct genl *g, const struct port_spec *s, long *index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = genl_msg(g, buf, TTYRFC_CMD_ADD, 0);
	mnl_attr_put_strz(nlh, TTYRFC_A_HOST, s->host);
	/* an mDNS service has its port in its announcement */
	if (!(s->flags & TTYRFC_F_MDNS))
		mnl_attr_put_u16(nlh, TTYRFC_A_PORT, s->tcp_port);
	if (s->name)
		mnl_attr_put_strz(nlh, TTYRFC_A_NAME, s->name);
	mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, s->flags);
	if (s->ca || s->cert || s->key || s->server_name) {
		nest = mnl_attr_nest_start(nlh, TTYRFC_A_TLS);
		if (s->ca)
			mnl_attr_put_strz(nlh, TTYRFC_TLS_CA, s->ca);
		if (s->cert)
			mnl_attr_put_strz(nlh, TTYRFC_TLS_CERT, s->cert);
		if (s->key)
			mnl_attr_put_strz(nlh, TTYRFC_TLS_KEY, s->key);
		if (s->server_name)
			mnl_attr_put_strz(nlh, TTYRFC_TLS_SERVER_NAME,
					  s->server_name);
		mnl_attr_nest_end(nlh, nest);
	}
	return genl_call(g, nlh, add_cb, index);
}

int del_port(struct genl *g, unsigned int index)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = genl_msg(g, buf, TTYRFC_CMD_DEL, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, index);
	return genl_call(g, nlh, NULL, NULL);
}

/* ------------------------------------------------------------ lookups */

long parse_dev(const char *s)
{
	char *end;
	long n;

	if (!strncmp(s, "/dev/", 5))
		s += 5;
	if (strncmp(s, "ttyRFC", 6) || !isdigit((unsigned char)s[6]))
		return -1;
	n = strtol(s + 6, &end, 10);
	return *end || n >= PORTS_LIMIT ? -1 : n;
}

struct port_info *find_port(const char *s)
{
	long index = parse_dev(s);
	unsigned int i;

	for (i = 0; i < ports.n; i++) {
		if (index >= 0 ? ports.p[i].index == index :
		    !strcmp(ports.p[i].name, s))
			return &ports.p[i];
	}
	/* an mDNS port is also known by its service */
	for (i = 0; index < 0 && i < ports.n; i++) {
		if ((ports.p[i].flags & TTYRFC_F_MDNS) &&
		    (!strcmp(ports.p[i].host, s) ||
		     (!strncmp(s, "mdns://", 7) &&
		      !strcmp(ports.p[i].host, s + 7))))
			return &ports.p[i];
	}
	return NULL;
}

struct port_info *find_remote(const char *host, unsigned int tcp_port,
			      unsigned int flags)
{
	unsigned int i;

	for (i = 0; i < ports.n; i++) {
		const struct port_info *p = &ports.p[i];

		if ((p->flags & TTYRFC_F_MDNS) != (flags & TTYRFC_F_MDNS) ||
		    strcasecmp(p->host, host))
			continue;
		if ((flags & TTYRFC_F_MDNS) || p->tcp_port == tcp_port)
			return &ports.p[i];
	}
	return NULL;
}
