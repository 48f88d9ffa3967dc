// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl discover: the serial ports ser2net announces over mDNS
 * (_iostream._tcp), through avahi-daemon: name, host:port, address, what
 * the stack offers (RFC 2217 or data only, TLS) and the USB identity of
 * the device when ser2net has mdns-sysattrs. What it shows is what the
 * LAN claims, not verified: see docs/security.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mdns.h"

/* "rfc2217 tls", "raw (no telnet)", ... */
static const char *stack_summary(const struct mdns_service *s)
{
	static char buf[96];
	struct mdns_stack st;

	mdns_stack_parse(s->stack, &st);
	if (!st.known)
		return "? (no gensiostack)";
	snprintf(buf, sizeof(buf), "%s%s%s",
		 st.rfc2217 ? "rfc2217" : st.telnet ? "telnet (no rfc2217)" :
		 "raw (no telnet)", st.tls ? " tls" : "",
		 st.certauth ? " certauth" : "");
	return buf;
}

static bool has_usb(const struct mdns_service *s)
{
	return *s->vendor || *s->product || *s->serial;
}

/* "usb 10c4:ea60 serial 0001 (Silicon Labs CP2102)" */
static const char *usb_text(const struct mdns_service *s)
{
	static char buf[256];
	size_t n;

	if (!has_usb(s))
		return *s->devicetype ? s->devicetype : "-";
	n = snprintf(buf, sizeof(buf), "usb %s:%s", *s->vendor ? s->vendor : "?",
		     *s->product ? s->product : "?");
	if (*s->serial && n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " serial %s", s->serial);
	if ((*s->manufacturer || *s->product_name) && n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, " (%s%s%s)", s->manufacturer,
			 *s->manufacturer && *s->product_name ? " " : "",
			 s->product_name);
	return buf;
}

/* The port added for this service, if the module is there to say. */
static const struct port_info *added_as(const struct mdns_service *s)
{
	return find_remote(s->name, 0, TTYRFC_F_MDNS);
}

static void json_field(const char *key, const char *v, bool first)
{
	printf("%s\n\t\t\"%s\": ", first ? "" : ",", key);
	if (v && *v)
		json_str(v);
	else
		printf("null");
}

static void json_service(const struct mdns_service *s)
{
	const struct port_info *p = added_as(s);
	struct mdns_stack st;
	char dev[16];

	mdns_stack_parse(s->stack, &st);
	snprintf(dev, sizeof(dev), "ttyRFC%u", p ? p->index : 0);
	printf("\t{");
	json_field("name", s->name, true);
	json_field("host", s->host, false);
	printf(",\n\t\t\"port\": %u", s->port);
	json_field("address", s->address, false);
	json_field("provider", s->provider, false);
	json_field("gensiostack", s->stack, false);
	printf(",\n\t\t\"telnet\": %s,\n\t\t\"rfc2217\": %s,\n\t\t\"tls\": %s,\n\t\t\"certauth\": %s",
	       st.telnet ? "true" : "false", st.rfc2217 ? "true" : "false",
	       st.tls ? "true" : "false", st.certauth ? "true" : "false");
	json_field("devicetype", s->devicetype, false);
	if (has_usb(s)) {
		printf(",\n\t\t\"usb\": {");
		json_field("vendor", s->vendor, true);
		json_field("product", s->product, false);
		json_field("serial", s->serial, false);
		json_field("manufacturer", s->manufacturer, false);
		json_field("product_name", s->product_name, false);
		printf("}");
	} else {
		printf(",\n\t\t\"usb\": null");
	}
	json_field("device", p ? dev : NULL, false);
	printf("\n\t}");
}

/* Advice for what the stack cannot do through a plain port. */
static void advise(const struct mdns_service *s)
{
	struct mdns_stack st;

	mdns_stack_parse(s->stack, &st);
	if (!st.known)
		return;
	if (!st.telnet)
		fprintf(stderr,
			"%s: discover: warning: \"%s\" has no telnet(rfc2217) in its stack (%s): data only, no settings or modem lines; add it with: %s add --mdns '%s' --raw%s\n",
			prog, s->name, s->stack, prog, s->name,
			st.tls ? " --tls" : "");
	else if (!st.rfc2217)
		fprintf(stderr,
			"%s: discover: warning: \"%s\" has telnet without rfc2217 (%s): settings and modem lines will not work; --raw for data only\n",
			prog, s->name, s->stack);
	if (st.certauth)
		fprintf(stderr,
			"%s: discover: warning: \"%s\" uses certauth (%s), which ttyrfcd does not speak\n",
			prog, s->name, s->stack);
}

int cmd_discover(struct genl *g, int argc, char **argv)
{
	struct mdns_service *found;
	int timeout = MDNS_BROWSE_MS, i, n;
	char why[256], *end;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = strtol(argv[++i], &end, 10);
			if (*end || timeout < 100 || timeout > 60000)
				return bad_usage("\"%s\": --timeout is 100-60000 ms",
						 argv[i]);
		} else {
			return bad_usage("discover: unexpected \"%s\"",
					 argv[i]);
		}
	}
	n = mdns_browse(timeout, &found, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "%s: discover: %s\n", prog, why);
		return 1;
	}
	/* which of them are ports already: only if the module can say */
	ports.n = 0;
	if (!genl_open(g) && dump_ports(g))
		ports.n = 0;
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf("%s\n", i ? "," : "");
			json_service(&found[i]);
		}
		printf("%s]\n", n ? "\n" : "");
	} else {
		for (i = 0; i < n; i++) {
			const struct port_info *p = added_as(&found[i]);

			printf("%s\t%s:%u\t%s\t%s\t%s", found[i].name,
			       found[i].host, found[i].port, found[i].address,
			       stack_summary(&found[i]), usb_text(&found[i]));
			if (*found[i].provider &&
			    strcmp(found[i].provider, "ser2net"))
				printf("\tprovider %s", found[i].provider);
			if (p)
				printf("\tttyRFC%u", p->index);
			printf("\n");
		}
		if (!n)
			fprintf(stderr,
				"%s: discover: no %s service announced within %d ms\n",
				prog, MDNS_TYPE, timeout);
	}
	for (i = 0; i < n; i++)
		advise(&found[i]);
	free(found);
	return 0;
}
