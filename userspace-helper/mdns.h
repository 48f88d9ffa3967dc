/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ser2net's mDNS announcements through Avahi (libavahi-client): finding
 * one service by its instance name (ttyrfcd, at every connection, from a
 * lookup thread) and listing them all (ttyrfcctl discover).
 *
 * ser2net with `mdns: true` announces each port as _iostream._tcp with TXT
 * provider=ser2net and gensiostack=<its accepter's layers, top first>, e.g.
 * "telnet,ssl,tcp"; with `mdns-sysattrs: true` also devicetype and, for a
 * USB adapter, idVendor, idProduct, serial, manufacturer and product.
 *
 * These calls block (each makes its own Avahi client and poll loop) and are
 * bounded by their timeout. An announcement is not authentication: anyone
 * on the LAN can announce any name. See docs/security.md.
 */
#ifndef TTYRFC_MDNS_H
#define TTYRFC_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MDNS_TYPE		"_iostream._tcp"
#define MDNS_RESOLVE_MS		3000	/* ttyrfcd, per connection */
#define MDNS_BROWSE_MS		3000	/* ttyrfcctl discover */
#define MDNS_NAME_MAX		64	/* a DNS label, and its NUL */
#define MDNS_ADDRS		2	/* an IPv4 and an IPv6 address */

struct mdns_service {
	char name[MDNS_NAME_MAX];	/* the instance name */
	char host[256];			/* the host it is on: "pi1.local" */
	char address[64];		/* the first, as text: "10.0.0.2" */
	struct sockaddr_storage ss[MDNS_ADDRS];	/* address and port */
	socklen_t sslen[MDNS_ADDRS];
	int naddr;			/* IPv4 first */
	uint16_t port;
	/* from TXT; empty if absent */
	char provider[32];		/* "ser2net" */
	char stack[128];		/* gensiostack: "telnet,ssl,tcp" */
	char devicetype[32];		/* "serialusb", "serial" */
	char vendor[8], product[8];	/* idVendor, idProduct (hex) */
	char serial[64];
	char manufacturer[64];
	char product_name[64];		/* TXT "product" */
};

/*
 * Find service @name of MDNS_TYPE within @timeout_ms. 0, or -errno with
 * @why: -EHOSTUNREACH nobody announces it, -ENETDOWN avahi-daemon is not
 * reachable (not running, or no D-Bus system bus).
 */
int mdns_resolve(const char *name, int timeout_ms, struct mdns_service *out,
		 char *why, size_t len);

/*
 * Every MDNS_TYPE service announced now, each resolved: the number found
 * (*out: malloc'ed array, sorted by name), or -errno with @why.
 */
int mdns_browse(int timeout_ms, struct mdns_service **out, char *why,
		size_t len);

/* Does the gensio stack "telnet(rfc2217),ssl,tcp" have the layer @layer? */
bool mdns_stack_has(const char *stack, const char *layer);

/* What a gensiostack means for a client. */
struct mdns_stack {
	bool known;		/* the TXT had a gensiostack */
	bool telnet;
	bool rfc2217;		/* telnet(rfc2217): modem lines, settings */
	bool tls;		/* ssl */
	bool certauth;		/* gensio's own authentication, on top of ssl */
};
void mdns_stack_parse(const char *stack, struct mdns_stack *st);

#endif
