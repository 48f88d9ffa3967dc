// SPDX-License-Identifier: GPL-2.0
/* ttyrfcctl: a port as text (list, show) and as JSON (--json). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ctl.h"

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
	[TTYRFC_STAT_TX_MSGS] = "tx_msgs",
	[TTYRFC_STAT_TX_DIRECT] = "tx_direct",
	[TTYRFC_STAT_RX_MSGS] = "rx_msgs",
	[TTYRFC_STAT_RX_DIRECT] = "rx_direct",
};

/* "host:port", "[v6addr]:port", or "mdns://service" (as sysfs' remote) */
const char *remote(const struct port_info *p)
{
	static char buf[HOST_MAX + 16];
	bool v6 = strchr(p->host, ':');

	if (p->flags & TTYRFC_F_MDNS) {
		snprintf(buf, sizeof(buf), "mdns://%s", p->host);
		return buf;
	}
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

void print_list_line(const struct port_info *p)
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
	if (p->flags & TTYRFC_F_TLS)
		printf("\ttls");
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

/* The name a TLS port's certificate must carry. */
static const char *tls_name(const struct port_info *p)
{
	if (*p->tls_server_name)
		return p->tls_server_name;
	if (p->flags & TTYRFC_F_MDNS)
		return "the host the service is on";
	return p->host;
}

/* How the server is verified, and what the current connection is. */
static void print_tls(const struct port_info *p)
{
	if (p->flags & TTYRFC_F_TLS) {
		if (*p->tls_ca)
			printf("  tls verify: CA file %s, name %s\n",
			       p->tls_ca, tls_name(p));
		else
			printf("  tls verify: the system's CAs, name %s\n",
			       tls_name(p));
		if (*p->tls_cert)
			printf("  tls client certificate: %s (key %s)\n",
			       p->tls_cert, p->tls_key);
	}
	if (!p->conn_known)
		return;
	if (*p->conn_name && strcmp(p->conn_name, p->host))
		printf("  connected to: %s (%s)\n", p->conn_peer,
		       p->conn_name);
	else
		printf("  connected to: %s\n", p->conn_peer);
	if (!*p->tls_protocol)
		return;
	printf("  tls session: %s, %s\n", p->tls_protocol, p->tls_cipher);
	printf("  tls peer: %s, issued by %s, expires %s\n", p->tls_subject,
	       p->tls_issuer, p->tls_not_after);
}

void print_show(const struct port_info *p)
{
	int i;

	printf("port: ttyRFC%u\n", p->index);
	printf("  remote: %s\n", remote(p));
	if (*p->name)
		printf("  name: %s\n", p->name);
	printf("  protocol: %s%s\n", p->flags & TTYRFC_F_RAW ?
	       "raw TCP (data only)" : "RFC 2217",
	       p->flags & TTYRFC_F_TLS ? " over TLS" : "");
	print_tls(p);
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

void json_str(const char *s)
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

static const char *or_null(const char *s)
{
	return *s ? s : NULL;
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
	printf(",\n\t\t\"tls\": %s",
	       p->flags & TTYRFC_F_TLS ? "true" : "false");
	printf(",\n\t\t\"mdns\": %s",
	       p->flags & TTYRFC_F_MDNS ? "true" : "false");
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
	json_key_str("tls_ca", or_null(p->tls_ca), &first);
	json_key_str("tls_cert", or_null(p->tls_cert), &first);
	json_key_str("tls_key", or_null(p->tls_key), &first);
	json_key_str("tls_server_name", or_null(p->tls_server_name), &first);
	if (p->conn_known) {
		printf(",\n\t\t\"connection\": {");
		first = true;
		json_key_str("peer", p->conn_peer, &first);
		json_key_str("host", or_null(p->conn_name), &first);
		json_key_str("tls_protocol", or_null(p->tls_protocol), &first);
		json_key_str("tls_cipher", or_null(p->tls_cipher), &first);
		json_key_str("tls_peer_subject", or_null(p->tls_subject),
			     &first);
		json_key_str("tls_peer_issuer", or_null(p->tls_issuer),
			     &first);
		json_key_str("tls_peer_not_after", or_null(p->tls_not_after),
			     &first);
		printf("}");
		first = false;
	} else {
		printf(",\n\t\t\"connection\": null");
	}
	for (i = 0; i <= TTYRFC_STAT_MAX; i++)
		if (stat_names[i])
			json_key_num(stat_names[i], p->stats[i], &first);
	printf("\n\t}");
}

void json_ports(const struct port_info *only)
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
