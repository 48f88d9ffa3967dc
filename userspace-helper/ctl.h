/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ttyrfcctl: what its subcommands share. ttyrfcctl.c holds the table of
 * subcommands (name, function, description) that drives dispatch and
 * usage; each subcommand has its file (ctl_list.c, ctl_show.c, ...);
 * ctl_backend.c is the thin layer that talks to the kernel for them, and
 * ctl_print.c turns a port into text or JSON.
 *
 * Exit status of every subcommand: 0 ok, 1 the request failed, 2 bad
 * usage.
 */
#ifndef TTYRFC_CTL_H
#define TTYRFC_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "genl.h"

#define EXIT_USAGE	2
#define HOST_MAX	255	/* driver/ttyrfc.h TTYRFC_HOST_MAX */
#define NAME_MAX_LEN	63	/* driver/ttyrfc.h TTYRFC_NAME_MAX */
#define CTL_PATH_MAX	1023	/* driver/ttyrfc.h TTYRFC_PATH_MAX */
#define PORTS_LIMIT	256

extern const char *prog;	/* "ttyrfcctl" */
extern const char *cmd_name;	/* the subcommand running */
extern bool json;		/* --json */

/* One port as TTYRFC_CMD_GET describes it; -1: attribute absent. */
struct port_info {
	unsigned int index;
	char host[HOST_MAX + 1];	/* or the mDNS service */
	unsigned int tcp_port;		/* 0 for an mDNS service */
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
	/* the TLS nest: how ttyrfcd verifies the server ("" unset) */
	char tls_ca[CTL_PATH_MAX + 1], tls_cert[CTL_PATH_MAX + 1];
	char tls_key[CTL_PATH_MAX + 1], tls_server_name[HOST_MAX + 1];
	/* ttyrfcd's file about the current session (runinfo.h), if any */
	bool conn_known;
	char conn_peer[64];		/* address:port connected to */
	char conn_name[256];		/* the host name it was reached by */
	char tls_protocol[16], tls_cipher[64], tls_verified_name[256];
	char tls_subject[256], tls_issuer[256], tls_not_after[32];
};

struct port_list {
	struct port_info p[PORTS_LIMIT];
	unsigned int n;
};

extern struct port_list ports;

/* What `add` asks the kernel for. */
struct port_spec {
	const char *host;		/* or the mDNS service */
	unsigned int tcp_port;		/* 0 with TTYRFC_F_MDNS */
	const char *name;		/* NULL: none */
	unsigned int flags;
	const char *ca, *cert, *key, *server_name;	/* NULL: unset */
};

/* ---------------------------------------------------- ttyrfcctl.c */
int usage(FILE *f);
int bad_usage(const char *fmt, const char *arg);
/* The usual errnos in words a user can act on; g->err holds the rest. */
int report(struct genl *g, int err, const char *port);

/* ---------------------------------------------------- ctl_backend.c */
/* Connect (once the arguments are known good) and fetch every port. */
int load_ports(struct genl *g);
/* Fetch again, on a connected @g: 0 or -errno. */
int dump_ports(struct genl *g);
/* Create a port: 0 with *index, or -errno (g->err has the text). */
int add_port(struct genl *g, const struct port_spec *s, long *index);
int del_port(struct genl *g, unsigned int index);

/* ---------------------------------------------------- lookups */
/* "ttyRFC3", "/dev/ttyRFC3" -> 3; -1 if @s is not of that form. */
long parse_dev(const char *s);
/* By device, name, or mDNS service name. */
struct port_info *find_port(const char *s);
struct port_info *find_remote(const char *host, unsigned int tcp_port,
			      unsigned int flags);

/* ---------------------------------------------------- ctl_print.c */
const char *remote(const struct port_info *p);
void print_list_line(const struct port_info *p);
void print_show(const struct port_info *p);
/* One port, or all (@only NULL), as JSON. */
void json_ports(const struct port_info *only);
void json_str(const char *s);

/* ---------------------------------------------------- subcommands */
int cmd_list(struct genl *g, int argc, char **argv);
int cmd_show(struct genl *g, int argc, char **argv);
int cmd_add(struct genl *g, int argc, char **argv);
int cmd_del(struct genl *g, int argc, char **argv);
int cmd_discover(struct genl *g, int argc, char **argv);

#endif
