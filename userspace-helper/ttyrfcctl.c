// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl: show, add and remove ttyRFC ports at run time.
 *
 *   ttyrfcctl [--json] list
 *   ttyrfcctl [--json] show [PORT]
 *   ttyrfcctl add HOST:PORT [--name NAME] [--raw]
 *   ttyrfcctl del PORT
 *
 * PORT is ttyRFC<n>, /dev/ttyRFC<n> or a port's name. Exit status: 0 ok,
 * 1 the request failed, 2 bad usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>

#include "genl.h"

#define EXIT_USAGE	2
#define HOST_MAX	255	/* driver/ttyrfc.h TTYRFC_HOST_MAX */
#define NAME_MAX_LEN	63	/* driver/ttyrfc.h TTYRFC_NAME_MAX */
#define PORTS_LIMIT	256

static const char *prog = "ttyrfcctl";
static const char *cmd_name = "";
static bool json;

/* One port as TTYRFC_CMD_GET describes it; -1: attribute absent. */
struct port_info {
	unsigned int index;
	char host[HOST_MAX + 1];
	unsigned int tcp_port;
	char name[NAME_MAX_LEN + 1];
	unsigned int flags;
	int link;
	long long session;
	long long baud;
	int data_bits, parity, stop_bits, flow;
	long long mctrl, mctrl_known, modem;
	bool server_known;
	long long server_baud;
	int server_data_bits, server_parity, server_stop_bits, server_flow;
	long long stats[TTYRFC_STAT_MAX + 1];
	int last_errno;
};

struct port_list {
	struct port_info p[PORTS_LIMIT];
	unsigned int n;
};

static struct port_list ports;

/* ------------------------------------------------------------ messages */

static int usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--json] list\n"
		"       %s [--json] show [PORT]\n"
		"       %s add HOST:PORT [--name NAME] [--raw]\n"
		"       %s del PORT\n"
		"PORT is ttyRFC<n>, /dev/ttyRFC<n> or the name given to add.\n"
		"HOST is a name, an IPv4 address or [IPv6 address].\n",
		prog, prog, prog, prog);
	return f == stdout ? 0 : EXIT_USAGE;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	return EXIT_USAGE;
}

/* The usual errnos in words a user can act on; g->err holds the rest. */
static int report(struct genl *g, int err, const char *port)
{
	const char *hint = NULL;
	char text[128];

	switch (-err) {
	case EPERM:
	case EACCES:
		hint = "permission denied: needs CAP_NET_ADMIN (run as root)";
		break;
	case ENODEV:
		snprintf(text, sizeof(text), "%s: no such port",
			 port ? port : "");
		hint = port ? text : "no such port";
		break;
	case ENOSPC:
		hint = "all ports in use (see the ports_max module parameter)";
		break;
	}
	if (hint)
		fprintf(stderr, "%s: %s: %s [%s]\n", prog, cmd_name, hint,
			strerror(-err));
	else
		fprintf(stderr, "%s: %s: %s\n", prog, cmd_name, g->err);
	return 1;
}

/* ------------------------------------------------------------ netlink */

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
	parse_stats(tb[TTYRFC_A_STATS], p);
	p->last_errno = attr_num(tb[TTYRFC_A_ERRNO], 32);
	return MNL_CB_OK;
}

static int dump_ports(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	ports.n = 0;
	nlh = genl_msg(g, buf, TTYRFC_CMD_GET, NLM_F_DUMP);
	return genl_call(g, nlh, dump_cb, &ports);
}

/* Connect (once the arguments are known good) and fetch every port. */
static int load_ports(struct genl *g)
{
	int ret;

	if (!g->nl && open_family(g))
		return 1;
	ret = dump_ports(g);
	return ret ? report(g, ret, NULL) : 0;
}

/* ------------------------------------------------------------ lookups */

/* "ttyRFC3", "/dev/ttyRFC3" -> 3; -1 if @s is not of that form. */
static long parse_dev(const char *s)
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

static struct port_info *find_port(const char *s)
{
	long index = parse_dev(s);
	unsigned int i;

	for (i = 0; i < ports.n; i++) {
		if (index >= 0 ? ports.p[i].index == index :
		    !strcmp(ports.p[i].name, s))
			return &ports.p[i];
	}
	return NULL;
}

static struct port_info *find_remote(const char *host, unsigned int tcp_port)
{
	unsigned int i;

	for (i = 0; i < ports.n; i++) {
		if (ports.p[i].tcp_port == tcp_port &&
		    !strcasecmp(ports.p[i].host, host))
			return &ports.p[i];
	}
	return NULL;
}

/* ------------------------------------------------------------ text */

static const char *link_name(int s)
{
	switch (s) {
	case TTYRFC_LINK_UP:
		return "up";
	case TTYRFC_LINK_CONNECTING:
		return "connecting";
	case TTYRFC_LINK_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

static const char *parity_name(int v)
{
	static const char * const names[] = {
		[TTYRFC_PARITY_NONE] = "none", [TTYRFC_PARITY_ODD] = "odd",
		[TTYRFC_PARITY_EVEN] = "even", [TTYRFC_PARITY_MARK] = "mark",
		[TTYRFC_PARITY_SPACE] = "space",
	};

	return v >= 0 && v <= TTYRFC_PARITY_SPACE ? names[v] : NULL;
}

static const char *stop_name(int v)
{
	return v == 1 ? "1" : v == 2 ? "2" : NULL;
}

static const char *flow_name(int v)
{
	return v == TTYRFC_FLOW_NONE ? "none" :
	       v == TTYRFC_FLOW_XONXOFF ? "xon/xoff" :
	       v == TTYRFC_FLOW_RTSCTS ? "rts/cts" : NULL;
}

/* Counters by name, for show and --json. */
static const char *const stat_names[TTYRFC_STAT_MAX + 1] = {
	[TTYRFC_STAT_TX_BYTES] = "tx_bytes",
	[TTYRFC_STAT_RX_BYTES] = "rx_bytes",
	[TTYRFC_STAT_RX_DROPPED] = "rx_dropped",
	[TTYRFC_STAT_TX_RESENT] = "tx_resent",
	[TTYRFC_STAT_TX_FLUSHED] = "tx_flushed",
	[TTYRFC_STAT_TX_DISCARDED] = "tx_discarded",
	[TTYRFC_STAT_STALE] = "stale_dropped",
	[TTYRFC_STAT_OPENS] = "opens",
	[TTYRFC_STAT_SESSIONS] = "sessions",
	[TTYRFC_STAT_LINK_LOSSES] = "link_losses",
	[TTYRFC_STAT_CTRL_REFUSED] = "ctrl_refused",
	[TTYRFC_STAT_BAD_MSGS] = "bad_helper_msgs",
	[TTYRFC_STAT_PROTO_ERRORS] = "protocol_errors",
	[TTYRFC_STAT_HELPER_STALE] = "helper_stale_dropped",
	[TTYRFC_STAT_CONNECTS] = "connects",
	[TTYRFC_STAT_LOG_SUPPRESSED] = "log_suppressed",
};

static const char *remote(const struct port_info *p)
{
	static char buf[HOST_MAX + 16];
	bool v6 = strchr(p->host, ':');

	snprintf(buf, sizeof(buf), "%s%s%s:%u", v6 ? "[" : "", p->host,
		 v6 ? "]" : "", p->tcp_port);
	return buf;
}

/* "115200 8N1", or what is known of it */
static const char *framing(const struct port_info *p)
{
	static char buf[48];
	const char *par = parity_name(p->parity);
	const char *stop = stop_name(p->stop_bits);

	if (p->baud < 0)
		return "-";
	if (p->data_bits < 0 || !par || !stop) {
		snprintf(buf, sizeof(buf), "%lld", p->baud);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%lld %d%c%s", p->baud, p->data_bits,
		 toupper((unsigned char)par[0]), stop);
	return buf;
}

static void print_list_line(const struct port_info *p)
{
	const long long *st = p->stats;

	printf("ttyRFC%u\t%s\t%s\t%s", p->index, remote(p), link_name(p->link),
	       framing(p));
	if (st[TTYRFC_STAT_TX_BYTES] >= 0 && st[TTYRFC_STAT_RX_BYTES] >= 0)
		printf("\ttx %lld rx %lld", st[TTYRFC_STAT_TX_BYTES],
		       st[TTYRFC_STAT_RX_BYTES]);
	if (st[TTYRFC_STAT_LINK_LOSSES] >= 0)
		printf("\treconnects %lld", st[TTYRFC_STAT_LINK_LOSSES]);
	if (st[TTYRFC_STAT_PROTO_ERRORS] >= 0)
		printf("\terrors %lld", st[TTYRFC_STAT_PROTO_ERRORS]);
	if (p->flags & TTYRFC_F_RAW)
		printf("\traw");
	if (*p->name)
		printf("\t%s", p->name);
	printf("\n");
}

/* "server: 115200 8N1" when the server says it applied something else */
static void print_server(const struct port_info *p)
{
	if (!p->server_known)
		return;
	printf("  server applied:");
	if (p->server_baud >= 0)
		printf(" baud %lld", p->server_baud);
	if (p->server_data_bits >= 0)
		printf(" data bits %d", p->server_data_bits);
	if (parity_name(p->server_parity))
		printf(" parity %s", parity_name(p->server_parity));
	if (stop_name(p->server_stop_bits))
		printf(" stop bits %s", stop_name(p->server_stop_bits));
	if (flow_name(p->server_flow))
		printf(" flow %s", flow_name(p->server_flow));
	printf("\n");
}

static const char *line_state(long long mctrl, long long known, int bit)
{
	if (known >= 0 && !(known & bit))
		return "as found";
	return mctrl & bit ? "on" : "off";
}

static void print_show(const struct port_info *p)
{
	int i;

	printf("port: ttyRFC%u\n", p->index);
	printf("  remote: %s\n", remote(p));
	if (*p->name)
		printf("  name: %s\n", p->name);
	printf("  protocol: %s\n", p->flags & TTYRFC_F_RAW ?
	       "raw TCP (data only)" : "RFC 2217");
	printf("  link: %s", link_name(p->link));
	if (p->session > 0)
		printf(" (session %lld)", p->session);
	printf("\n");
	if (p->last_errno > 0)
		printf("  last error: %s\n", strerror(p->last_errno));
	if (p->baud < 0)
		printf("  settings: none yet (never opened)");
	else
		printf("  settings: %s", framing(p));
	if (flow_name(p->flow))
		printf(", flow %s", flow_name(p->flow));
	printf("\n");
	print_server(p);
	if (p->mctrl >= 0)
		printf("  dtr/rts: %s/%s\n",
		       line_state(p->mctrl, p->mctrl_known, TIOCM_DTR),
		       line_state(p->mctrl, p->mctrl_known, TIOCM_RTS));
	if (p->modem >= 0)
		printf("  cts/dsr/ri/cd: %s/%s/%s/%s\n",
		       p->modem & TIOCM_CTS ? "on" : "off",
		       p->modem & TIOCM_DSR ? "on" : "off",
		       p->modem & TIOCM_RI ? "on" : "off",
		       p->modem & TIOCM_CD ? "on" : "off");
	for (i = 0; i <= TTYRFC_STAT_MAX; i++)
		if (stat_names[i] && p->stats[i] >= 0)
			printf("  %s: %lld\n", stat_names[i], p->stats[i]);
}

/* ------------------------------------------------------------ json */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_key_str(const char *key, const char *v, bool *first)
{
	printf("%s\n\t\t\"%s\": ", *first ? "" : ",", key);
	*first = false;
	if (v)
		json_str(v);
	else
		printf("null");
}

static void json_key_num(const char *key, long long v, bool *first)
{
	printf("%s\n\t\t\"%s\": ", *first ? "" : ",", key);
	*first = false;
	if (v >= 0)
		printf("%lld", v);
	else
		printf("null");
}

static void json_port(const struct port_info *p)
{
	char dev[16];
	bool first = true;
	int i;

	snprintf(dev, sizeof(dev), "ttyRFC%u", p->index);
	printf("\t{");
	json_key_str("device", dev, &first);
	json_key_num("index", p->index, &first);
	json_key_str("remote", remote(p), &first);
	json_key_str("host", p->host, &first);
	json_key_num("port", p->tcp_port, &first);
	json_key_str("name", p->name, &first);
	printf(",\n\t\t\"raw\": %s",
	       p->flags & TTYRFC_F_RAW ? "true" : "false");
	json_key_str("link", link_name(p->link), &first);
	json_key_str("last_error", p->last_errno > 0 ?
		     strerror(p->last_errno) : NULL, &first);
	json_key_num("session", p->session > 0 ? p->session : -1, &first);
	json_key_num("baud", p->baud, &first);
	json_key_num("data_bits", p->data_bits, &first);
	json_key_str("parity", parity_name(p->parity), &first);
	json_key_str("stop_bits", stop_name(p->stop_bits), &first);
	json_key_str("flow", flow_name(p->flow), &first);
	if (p->mctrl >= 0) {
		printf(",\n\t\t\"dtr\": %s,\n\t\t\"rts\": %s",
		       p->mctrl & TIOCM_DTR ? "true" : "false",
		       p->mctrl & TIOCM_RTS ? "true" : "false");
	}
	if (p->modem >= 0) {
		printf(",\n\t\t\"cts\": %s,\n\t\t\"dsr\": %s,\n\t\t\"ri\": %s,\n\t\t\"cd\": %s",
		       p->modem & TIOCM_CTS ? "true" : "false",
		       p->modem & TIOCM_DSR ? "true" : "false",
		       p->modem & TIOCM_RI ? "true" : "false",
		       p->modem & TIOCM_CD ? "true" : "false");
	}
	if (p->server_known) {
		printf(",\n\t\t\"server\": {");
		first = true;
		json_key_num("baud", p->server_baud, &first);
		json_key_num("data_bits", p->server_data_bits, &first);
		json_key_str("parity", parity_name(p->server_parity), &first);
		json_key_str("stop_bits", stop_name(p->server_stop_bits),
			     &first);
		json_key_str("flow", flow_name(p->server_flow), &first);
		printf("}");
		first = false;
	}
	for (i = 0; i <= TTYRFC_STAT_MAX; i++)
		if (stat_names[i])
			json_key_num(stat_names[i], p->stats[i], &first);
	printf("\n\t}");
}

static void json_ports(const struct port_info *only)
{
	unsigned int i;

	if (only) {
		json_port(only);
		printf("\n");
		return;
	}
	printf("[");
	for (i = 0; i < ports.n; i++) {
		printf("%s\n", i ? "," : "");
		json_port(&ports.p[i]);
	}
	printf("%s]\n", ports.n ? "\n" : "");
}

/* ------------------------------------------------------------ commands */

static int cmd_list(struct genl *g, int argc, char **argv)
{
	unsigned int i;
	int ret;

	(void)argv;
	if (argc != 1)
		return bad_usage("%s takes no arguments", "list");
	ret = load_ports(g);
	if (ret)
		return ret;
	if (json) {
		json_ports(NULL);
		return 0;
	}
	for (i = 0; i < ports.n; i++)
		print_list_line(&ports.p[i]);
	return 0;
}

static int cmd_show(struct genl *g, int argc, char **argv)
{
	struct port_info *only = NULL;
	unsigned int i;
	int ret;

	if (argc > 2)
		return bad_usage("%s takes at most one PORT", "show");
	ret = load_ports(g);
	if (ret)
		return ret;
	if (argc == 2) {
		only = find_port(argv[1]);
		if (!only)
			return report(g, -ENODEV, argv[1]);
	}
	if (json) {
		json_ports(only);
		return 0;
	}
	if (only) {
		print_show(only);
		return 0;
	}
	for (i = 0; i < ports.n; i++) {
		if (i)
			printf("\n");
		print_show(&ports.p[i]);
	}
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	/* what udev keeps in a symlink name (/dev/serial/rfc2217/NAME) */
	if (!n || n > NAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, "..") ||
	    parse_dev(s) >= 0)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("#+-.:=@_", *s))
			return false;
	}
	return true;
}

static bool host_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > HOST_MAX)
		return false;
	for (; *s; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s) ||
		    strchr(",/[]", *s))
			return false;
	}
	return true;
}

/* "host:port" or "[v6addr]:port"; -1 with a message if malformed */
static int parse_remote(char *s, char **host, unsigned int *tcp_port)
{
	char *colon = strrchr(s, ':'), *p;
	char shown[HOST_MAX + 16];
	unsigned long v;

	snprintf(shown, sizeof(shown), "%s", s);
	if (!colon || !colon[1])
		return bad_usage("\"%s\": expected HOST:PORT", shown), -1;
	for (p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return bad_usage("\"%s\": the port must be a number",
					 shown), -1;
	errno = 0;
	v = strtoul(colon + 1, NULL, 10);
	if (errno || !v || v > 65535)
		return bad_usage("\"%s\": the port must be 1-65535", shown), -1;
	*colon = '\0';
	if (*s == '[') {
		if (colon == s + 1 || colon[-1] != ']')
			return bad_usage("\"%s\": expected [IPv6 address]:PORT",
					 shown), -1;
		colon[-1] = '\0';
		s++;
	} else if (strchr(s, ':')) {
		return bad_usage("\"%s\": put an IPv6 address in brackets: [ADDRESS]:PORT",
				 shown), -1;
	}
	if (!*s)
		return bad_usage("\"%s\": the host is empty", shown), -1;
	if (!host_ok(s))
		return bad_usage("\"%s\": not a host name or address",
				 shown), -1;
	*host = s;
	*tcp_port = v;
	return 0;
}

static int add_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];

	if (genl_parse(nlh, tb) >= 0 && tb[TTYRFC_A_INDEX])
		*(long *)data = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	return MNL_CB_OK;
}

static int refuse_duplicate(const char *host, unsigned int tcp_port)
{
	const struct port_info *dup = find_remote(host, tcp_port);

	if (!dup)
		return 0;
	fprintf(stderr, "%s: add: %s is already ttyRFC%u\n", prog, remote(dup),
		dup->index);
	return 1;
}

static int cmd_add(struct genl *g, int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], *host;
	const char *name = NULL;
	unsigned int tcp_port;
	struct nlmsghdr *nlh;
	uint32_t flags = 0;
	long index = -1;
	int i, ret;

	if (argc < 2)
		return bad_usage("%s needs HOST:PORT", "add");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--raw"))
			flags |= TTYRFC_F_RAW;
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else
			return bad_usage("add: unexpected \"%s\"", argv[i]);
	}
	if (name && !name_ok(name))
		return bad_usage("\"%s\": a name is 1-63 of A-Z a-z 0-9 # + - . : = @ _, not ttyRFC<n>",
				 name);
	if (parse_remote(argv[1], &host, &tcp_port))
		return EXIT_USAGE;

	/* the kernel decides, this only names the port already there */
	ret = load_ports(g);
	if (ret)
		return ret;
	if (refuse_duplicate(host, tcp_port))
		return 1;
	if (name && find_port(name)) {
		fprintf(stderr, "%s: add: the name \"%s\" is taken by ttyRFC%u\n",
			prog, name, find_port(name)->index);
		return 1;
	}

	nlh = genl_msg(g, buf, TTYRFC_CMD_ADD, 0);
	mnl_attr_put_strz(nlh, TTYRFC_A_HOST, host);
	mnl_attr_put_u16(nlh, TTYRFC_A_PORT, tcp_port);
	if (name)
		mnl_attr_put_strz(nlh, TTYRFC_A_NAME, name);
	mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, flags);
	ret = genl_call(g, nlh, add_cb, &index);
	if (ret == -EEXIST && !dump_ports(g) &&
	    refuse_duplicate(host, tcp_port))
		return 1;
	if (ret)
		return report(g, ret, NULL);
	printf("ttyRFC%ld\n", index);
	return 0;
}

static int cmd_del(struct genl *g, int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], dev[16];
	struct port_info *p;
	struct nlmsghdr *nlh;
	int ret;

	if (argc != 2)
		return bad_usage("%s needs one PORT", "del");
	ret = load_ports(g);
	if (ret)
		return ret;
	p = find_port(argv[1]);
	if (!p)
		return report(g, -ENODEV, argv[1]);
	snprintf(dev, sizeof(dev), "ttyRFC%u", p->index);

	nlh = genl_msg(g, buf, TTYRFC_CMD_DEL, 0);
	mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, p->index);
	ret = genl_call(g, nlh, NULL, NULL);
	return ret ? report(g, ret, dev) : 0;
}

static const struct {
	const char *name;
	int (*fn)(struct genl *g, int argc, char **argv);
} commands[] = {
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "stats", cmd_show },
	{ "add", cmd_add },
	{ "del", cmd_del },
};

/* Take --json and --help out of argv wherever they are; argc left. */
static int global_options(int argc, char **argv, bool *help)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			*help = true;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	bool help = false;
	struct genl g;	/* connected by load_ports() */
	size_t i;
	int ret;

	argc = global_options(argc - 1, argv + 1, &help);
	argv++;
	if (help || (argc && !strcmp(argv[0], "help")))
		return usage(stdout);
	if (!argc)
		return usage(stderr);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		cmd_name = commands[i].name;
		if (json && (commands[i].fn == cmd_add ||
			     commands[i].fn == cmd_del))
			return bad_usage("--json goes with list and show, not %s",
					 cmd_name);
		memset(&g, 0, sizeof(g));
		ret = commands[i].fn(&g, argc, argv);
		genl_close(&g);
		return ret;
	}
	return bad_usage("unknown command \"%s\"", argv[0]);
}
