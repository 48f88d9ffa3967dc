// SPDX-License-Identifier: GPL-2.0
/*
 * ser2net's mDNS announcements through Avahi; see mdns.h.
 *
 * Each call makes its own simple poll loop and Avahi client (a private
 * D-Bus connection to avahi-daemon), so lookups in several threads do not
 * share state. Avahi's resolvers give one address family each: a lookup
 * asks for IPv4 and IPv6 at once and, once one answered, waits a moment
 * for the other, so that the connection can try both.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>

#include "mdns.h"

#define GRACE_MS	300	/* the other family, after the first answer */
#define BROWSE_MAX	256

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void txt_value(AvahiStringList *txt, const char *key, char *dst,
		      size_t len)
{
	AvahiStringList *l = avahi_string_list_find(txt, key);
	char *k = NULL, *v = NULL;

	*dst = '\0';
	if (!l || avahi_string_list_get_pair(l, &k, &v, NULL) < 0)
		return;
	if (v)
		snprintf(dst, len, "%s", v);
	avahi_free(k);
	avahi_free(v);
}

/* One resolver's answer into @s; its address after those already there. */
static void take(struct mdns_service *s, AvahiIfIndex ifindex,
		 const char *name, const char *host, const AvahiAddress *a,
		 uint16_t port, AvahiStringList *txt)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	char text[AVAHI_ADDRESS_STR_MAX];

	if (!*s->name) {
		snprintf(s->name, sizeof(s->name), "%s", name);
		snprintf(s->host, sizeof(s->host), "%s", host);
		s->port = port;
		txt_value(txt, "provider", s->provider, sizeof(s->provider));
		txt_value(txt, "gensiostack", s->stack, sizeof(s->stack));
		txt_value(txt, "devicetype", s->devicetype,
			  sizeof(s->devicetype));
		txt_value(txt, "idVendor", s->vendor, sizeof(s->vendor));
		txt_value(txt, "idProduct", s->product, sizeof(s->product));
		txt_value(txt, "serial", s->serial, sizeof(s->serial));
		txt_value(txt, "manufacturer", s->manufacturer,
			  sizeof(s->manufacturer));
		txt_value(txt, "product", s->product_name,
			  sizeof(s->product_name));
	}
	if (s->naddr >= MDNS_ADDRS)
		return;
	avahi_address_snprint(text, sizeof(text), a);
	if (a->proto == AVAHI_PROTO_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = a->data.ipv4.address;
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->data.ipv6.address, 16);
		/* a link-local address is only good on its interface */
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr)) {
			sin6->sin6_scope_id = ifindex;
			snprintf(text + strlen(text),
				 sizeof(text) - strlen(text), "%%%d",
				 (int)ifindex);
		}
		sslen = sizeof(*sin6);
	}
	/* IPv4 first: esp_rfc2217_server and many Pis listen on it only */
	if (a->proto == AVAHI_PROTO_INET && s->naddr) {
		memmove(&s->ss[1], &s->ss[0], sizeof(s->ss[0]));
		s->sslen[1] = s->sslen[0];
		s->ss[0] = ss;
		s->sslen[0] = sslen;
		snprintf(s->address, sizeof(s->address), "%s", text);
	} else {
		s->ss[s->naddr] = ss;
		s->sslen[s->naddr] = sslen;
		if (!s->naddr)
			snprintf(s->address, sizeof(s->address), "%s", text);
	}
	s->naddr++;
}

struct loop {
	AvahiSimplePoll *sp;
	AvahiClient *client;
	int err;			/* avahi error of the client, if any */
};

static void client_cb(AvahiClient *c, AvahiClientState state, void *data)
{
	struct loop *l = data;

	if (state == AVAHI_CLIENT_FAILURE) {
		l->err = avahi_client_errno(c);
		avahi_simple_poll_quit(l->sp);
	}
}

static int loop_open(struct loop *l, char *why, size_t len)
{
	int err = 0;

	memset(l, 0, sizeof(*l));
	l->sp = avahi_simple_poll_new();
	if (!l->sp) {
		snprintf(why, len, "mDNS: out of memory");
		return -ENOMEM;
	}
	l->client = avahi_client_new(avahi_simple_poll_get(l->sp), 0,
				     client_cb, l, &err);
	if (!l->client) {
		snprintf(why, len,
			 "mDNS: cannot reach avahi-daemon (%s): is it running, with the D-Bus system bus?",
			 avahi_strerror(err));
		avahi_simple_poll_free(l->sp);
		l->sp = NULL;
		return -ENETDOWN;
	}
	return 0;
}

static void loop_close(struct loop *l)
{
	if (l->client)
		avahi_client_free(l->client);
	if (l->sp)
		avahi_simple_poll_free(l->sp);
}

/* Run until @done or @end (ms); false if the loop broke. */
static bool loop_run(struct loop *l, const bool *done, const int64_t *end)
{
	while (!*done) {
		int64_t left = *end - mono_ms();

		if (left <= 0)
			return true;
		if (avahi_simple_poll_iterate(l->sp, (int)left) != 0)
			return !l->err;
	}
	return true;
}

/* ------------------------------------------------------------ resolve */

struct resolve {
	struct mdns_service *out;
	struct loop *l;
	int pending;			/* resolvers still running */
	int found;
	bool done;
	int64_t end;
	char failure[96];
};

static void resolve_cb(AvahiServiceResolver *r, AvahiIfIndex interface,
		       AvahiProtocol protocol, AvahiResolverEvent event,
		       const char *name, const char *type, const char *domain,
		       const char *host, const AvahiAddress *a, uint16_t port,
		       AvahiStringList *txt, AvahiLookupResultFlags flags,
		       void *data)
{
	struct resolve *rs = data;

	(void)protocol; (void)type; (void)domain; (void)flags;
	if (event == AVAHI_RESOLVER_FOUND) {
		take(rs->out, interface, name, host, a, port, txt);
		if (!rs->found++) {
			int64_t grace = mono_ms() + GRACE_MS;

			if (grace < rs->end)
				rs->end = grace;
		}
	} else {
		snprintf(rs->failure, sizeof(rs->failure), "%s",
			 avahi_strerror(avahi_client_errno(
				avahi_service_resolver_get_client(r))));
	}
	avahi_service_resolver_free(r);
	if (!--rs->pending)
		rs->done = true;
}

int mdns_resolve(const char *name, int timeout_ms, struct mdns_service *out,
		 char *why, size_t len)
{
	static const AvahiProtocol protos[] = { AVAHI_PROTO_INET,
						AVAHI_PROTO_INET6 };
	struct resolve rs = { .out = out };
	struct loop l;
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	*why = '\0';
	ret = loop_open(&l, why, len);
	if (ret)
		return ret;
	rs.l = &l;
	rs.end = mono_ms() + timeout_ms;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (avahi_service_resolver_new(l.client, AVAHI_IF_UNSPEC,
					       protos[i], name, MDNS_TYPE,
					       NULL, protos[i], 0, resolve_cb,
					       &rs))
			rs.pending++;
	}
	if (!rs.pending) {
		snprintf(why, len, "mDNS: cannot look up \"%s\": %s", name,
			 avahi_strerror(avahi_client_errno(l.client)));
		loop_close(&l);
		return -ENETDOWN;
	}
	if (!loop_run(&l, &rs.done, &rs.end)) {
		snprintf(why, len, "mDNS: avahi-daemon went away (%s)",
			 avahi_strerror(l.err));
		loop_close(&l);	/* frees the resolvers still running */
		return -ENETDOWN;
	}
	loop_close(&l);
	if (rs.found)
		return 0;
	snprintf(why, len,
		 "mDNS: no service \"%s\" (%s) answered within %d ms%s%s",
		 name, MDNS_TYPE, timeout_ms, *rs.failure ? ": " : "",
		 rs.failure);
	return -EHOSTUNREACH;
}

/* ------------------------------------------------------------ browse */

struct browse {
	struct loop *l;
	struct mdns_service *found;
	int n, cap;
	int resolving;
	bool all_for_now;
	bool done;
	bool failed;
};

static struct mdns_service *by_name(struct browse *b, const char *name)
{
	int i;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->found[i].name, name))
			return &b->found[i];
	return NULL;
}

static void check_done(struct browse *b)
{
	if (b->all_for_now && !b->resolving)
		b->done = true;
}

static void browse_resolved(AvahiServiceResolver *r, AvahiIfIndex interface,
			    AvahiProtocol protocol, AvahiResolverEvent event,
			    const char *name, const char *type,
			    const char *domain, const char *host,
			    const AvahiAddress *a, uint16_t port,
			    AvahiStringList *txt, AvahiLookupResultFlags flags,
			    void *data)
{
	struct browse *b = data;
	struct mdns_service *s;

	(void)protocol; (void)type; (void)domain; (void)flags;
	if (event == AVAHI_RESOLVER_FOUND) {
		s = by_name(b, name);
		if (!s && b->n < b->cap) {
			s = &b->found[b->n++];
			memset(s, 0, sizeof(*s));
		}
		if (s)
			take(s, interface, name, host, a, port, txt);
	}
	avahi_service_resolver_free(r);
	b->resolving--;
	check_done(b);
}

static void browse_cb(AvahiServiceBrowser *sb, AvahiIfIndex interface,
		      AvahiProtocol protocol, AvahiBrowserEvent event,
		      const char *name, const char *type, const char *domain,
		      AvahiLookupResultFlags flags, void *data)
{
	struct browse *b = data;

	(void)sb; (void)flags;
	switch (event) {
	case AVAHI_BROWSER_NEW:
		if (avahi_service_resolver_new(b->l->client, interface,
					       protocol, name, type, domain,
					       protocol, 0, browse_resolved, b))
			b->resolving++;
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
		b->all_for_now = true;
		check_done(b);
		break;
	case AVAHI_BROWSER_FAILURE:
		b->failed = true;
		b->done = true;
		break;
	default:
		break;
	}
}

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mdns_service *)a)->name,
		      ((const struct mdns_service *)b)->name);
}

int mdns_browse(int timeout_ms, struct mdns_service **out, char *why,
		size_t len)
{
	struct browse b = { .cap = BROWSE_MAX };
	AvahiServiceBrowser *sb;
	int64_t end = mono_ms() + timeout_ms;
	struct loop l;
	int ret;

	*out = NULL;
	*why = '\0';
	b.found = calloc(b.cap, sizeof(*b.found));
	if (!b.found) {
		snprintf(why, len, "mDNS: out of memory");
		return -ENOMEM;
	}
	ret = loop_open(&l, why, len);
	if (ret) {
		free(b.found);
		return ret;
	}
	b.l = &l;
	sb = avahi_service_browser_new(l.client, AVAHI_IF_UNSPEC,
				       AVAHI_PROTO_UNSPEC, MDNS_TYPE, NULL, 0,
				       browse_cb, &b);
	if (!sb || !loop_run(&l, &b.done, &end) || b.failed) {
		snprintf(why, len, "mDNS: cannot browse %s: %s", MDNS_TYPE,
			 avahi_strerror(l.err ? l.err :
					avahi_client_errno(l.client)));
		loop_close(&l);
		free(b.found);
		return -ENETDOWN;
	}
	loop_close(&l);		/* frees the browser and what still runs */
	qsort(b.found, b.n, sizeof(*b.found), by_name_cmp);
	*out = b.found;
	return b.n;
}

bool mdns_stack_has(const char *stack, const char *layer)
{
	size_t n = strlen(layer);
	const char *p = stack;

	while (p && *p) {
		if (!strncmp(p, layer, n) && (p[n] == ',' || p[n] == '\0' ||
					      p[n] == '('))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

void mdns_stack_parse(const char *stack, struct mdns_stack *st)
{
	const char *t = strstr(stack, "telnet(");
	const char *r = t ? strstr(t, "rfc2217") : NULL;
	const char *end = t ? strchr(t, ')') : NULL;

	memset(st, 0, sizeof(*st));
	st->known = *stack;
	st->telnet = mdns_stack_has(stack, "telnet");
	/* telnet(rfc2217) or telnet(...,rfc2217=true), not rfc2217=false */
	st->rfc2217 = r && (!end || r < end) && strncmp(r, "rfc2217=f", 9) &&
		      strncmp(r, "rfc2217=0", 9);
	st->tls = mdns_stack_has(stack, "ssl");
	st->certauth = mdns_stack_has(stack, "certauth");
}
