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
	long long baud;
	int datasize, parity, stopsize, flow;
	long long mctrl;
	long long tx, rx, dropped;
	long long opens, reconnects, errors;
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
	case EBUSY:
		snprintf(text, sizeof(text), "%s is open; close it first",
			 port ? port : "the port");
		hint = text;
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
	p->link = attr_num(tb[TTYRFC_A_LINK_STATE], 8);
	p->baud = attr_num(tb[TTYRFC_A_BAUD], 32);
	p->datasize = attr_num(tb[TTYRFC_A_DATASIZE], 8);
	p->parity = attr_num(tb[TTYRFC_A_PARITY], 8);
	p->stopsize = attr_num(tb[TTYRFC_A_STOPSIZE], 8);
	p->flow = attr_num(tb[TTYRFC_A_FLOW], 8);
	p->mctrl = attr_num(tb[TTYRFC_A_MCTRL], 32);
	/* a port never opened has no settings yet: the kernel says 0 */
	if (p->baud == 0 || p->datasize == 0)
		p->baud = p->datasize = p->parity = p->stopsize = -1;
	p->tx = attr_num(tb[TTYRFC_A_STAT_TX_BYTES], 64);
	p->rx = attr_num(tb[TTYRFC_A_STAT_RX_BYTES], 64);
	p->dropped = attr_num(tb[TTYRFC_A_STAT_RX_DROPPED], 64);
	p->opens = attr_num(tb[TTYRFC_A_STAT_OPEN_COUNT], 32);
	p->reconnects = attr_num(tb[TTYRFC_A_STAT_RECONNECTS], 32);
	p->errors = attr_num(tb[TTYRFC_A_STAT_PROTO_ERRORS], 32);
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
		[1] = "none", [2] = "odd", [3] = "even", [4] = "mark",
		[5] = "space",
	};

	return v >= 1 && v <= 5 ? names[v] : NULL;
}

static const char *stop_name(int v)
{
	return v == 1 ? "1" : v == 2 ? "2" : v == 3 ? "1.5" : NULL;
}

static const char *flow_name(int v)
{
	return v == 1 ? "none" : v == 2 ? "xon/xoff" :
	       v == 3 ? "rts/cts" : NULL;
}

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
	const char *stop = stop_name(p->stopsize);

	if (p->baud < 0)
		return "-";
	if (p->datasize < 0 || !par || !stop) {
		snprintf(buf, sizeof(buf), "%lld", p->baud);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%lld %d%c%s", p->baud, p->datasize,
		 toupper((unsigned char)par[0]), stop);
	return buf;
}

static void print_list_line(const struct port_info *p)
{
	printf("ttyRFC%u\t%s\t%s\t%s", p->index, remote(p), link_name(p->link),
	       framing(p));
	if (p->tx >= 0 && p->rx >= 0)
		printf("\ttx %lld rx %lld", p->tx, p->rx);
	if (p->reconnects >= 0)
		printf("\treconnects %lld", p->reconnects);
	if (p->errors >= 0)
		printf("\terrors %lld", p->errors);
	if (p->flags & TTYRFC_F_RAW)
		printf("\traw");
	if (*p->name)
		printf("\t%s", p->name);
	printf("\n");
}

static void print_count(const char *what, long long v)
{
	if (v >= 0)
		printf("  %s: %lld\n", what, v);
}

static void print_show(const struct port_info *p)
{
	printf("port: ttyRFC%u\n", p->index);
	printf("  remote: %s\n", remote(p));
	if (*p->name)
		printf("  name: %s\n", p->name);
	printf("  protocol: %s\n", p->flags & TTYRFC_F_RAW ?
	       "raw TCP (data only)" : "RFC 2217");
	printf("  link: %s\n", link_name(p->link));
	if (p->last_errno > 0)
		printf("  last error: %s\n", strerror(p->last_errno));
	if (p->baud < 0)
		printf("  settings: none yet (never opened)");
	else
		printf("  settings: %s", framing(p));
	if (flow_name(p->flow))
		printf(", flow %s", flow_name(p->flow));
	printf("\n");
	if (p->mctrl >= 0)
		printf("  dtr/rts: %s/%s\n",
		       p->mctrl & TTYRFC_MCTRL_DTR ? "on" : "off",
		       p->mctrl & TTYRFC_MCTRL_RTS ? "on" : "off");
	if (p->tx >= 0 && p->rx >= 0)
		printf("  transfer: %lld B sent, %lld B received\n",
		       p->tx, p->rx);
	print_count("rx dropped", p->dropped);
	print_count("opens", p->opens);
	print_count("reconnects", p->reconnects);
	print_count("errors", p->errors);
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
	json_key_num("baud", p->baud, &first);
	json_key_num("data_bits", p->datasize, &first);
	json_key_str("parity", parity_name(p->parity), &first);
	json_key_str("stop_bits", stop_name(p->stopsize), &first);
	json_key_str("flow", flow_name(p->flow), &first);
	if (p->mctrl >= 0) {
		printf(",\n\t\t\"dtr\": %s,\n\t\t\"rts\": %s",
		       p->mctrl & TTYRFC_MCTRL_DTR ? "true" : "false",
		       p->mctrl & TTYRFC_MCTRL_RTS ? "true" : "false");
	}
	json_key_num("tx_bytes", p->tx, &first);
	json_key_num("rx_bytes", p->rx, &first);
	json_key_num("rx_dropped", p->dropped, &first);
	json_key_num("opens", p->opens, &first);
	json_key_num("reconnects", p->reconnects, &first);
	json_key_num("errors", p->errors, &first);
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
