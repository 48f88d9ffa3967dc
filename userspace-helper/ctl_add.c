// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl add: a new port.
 *
 *   add HOST:PORT | [V6ADDR]:PORT | tls://HOST:PORT | mdns://SERVICE
 *       [--mdns SERVICE] [--name NAME] [--raw] [--tls]
 *       [--ca FILE] [--cert FILE --key FILE] [--server-name NAME]
 *
 * The kernel keeps what it is told (the TLS settings too, so that a
 * restarted ttyrfcd finds them in OPEN); this only checks what can be
 * checked here, to fail early and clearly: syntax (exit 2), files and
 * their modes, a port for the same remote or name, and for an mDNS
 * service what its announcement says about its stack.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "mdns.h"

#define MDNS_CHECK_MS	2000

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

/* An mDNS instance name: one DNS label of UTF-8, spaces allowed. */
static bool service_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= MDNS_NAME_MAX)
		return false;
	for (; *s; s++)
		if (iscntrl((unsigned char)*s) || *s == ',')
			return false;
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

static int refuse_duplicate(const struct port_spec *s)
{
	const struct port_info *dup = find_remote(s->host, s->tcp_port,
						  s->flags);

	if (!dup)
		return 0;
	fprintf(stderr, "%s: add: %s is already ttyRFC%u\n", prog, remote(dup),
		dup->index);
	return 1;
}

/*
 * A file ttyrfcd will read, as an absolute path (it runs elsewhere). Not
 * through realpath(): a symbolic link such as systemd's /var/lib/ttyrfcd
 * (StateDirectory=, a link into /var/lib/private) must stay as it is.
 * The key's mode is checked here too, so the mistake shows at once.
 */
static int check_file(const char *opt, const char *path, bool key,
		      char *abs)
{
	char cwd[PATH_MAX];
	struct stat st;
	int n;

	if (*path == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(abs, PATH_MAX, "%s", path);
	else
		n = snprintf(abs, PATH_MAX, "%s/%s", cwd, path);
	if (n < 0 || n > CTL_PATH_MAX) {
		fprintf(stderr, "%s: add: %s %s: path too long\n", prog, opt,
			path);
		return 1;
	}
	if (stat(abs, &st) < 0) {
		fprintf(stderr, "%s: add: %s %s: %s\n", prog, opt, abs,
			strerror(errno));
		return 1;
	}
	if (key && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		fprintf(stderr,
			"%s: add: key file %s is open to its group or others (mode %04o); ttyrfcd refuses it: chmod 600 %s\n",
			prog, abs, (unsigned int)st.st_mode & 07777, abs);
		return 1;
	}
	return 0;
}

/* What the service's announcement says, before it is added. */
static int check_announcement(const struct port_spec *s)
{
	struct mdns_service svc;
	struct mdns_stack st;
	char why[256];
	bool tls = s->flags & TTYRFC_F_TLS, raw = s->flags & TTYRFC_F_RAW;

	if (mdns_resolve(s->host, MDNS_CHECK_MS, &svc, why, sizeof(why))) {
		fprintf(stderr,
			"%s: add: warning: mdns://%s is not announced now (%s); ttyrfcd looks for it at every open\n",
			prog, s->host, why);
		return 0;
	}
	mdns_stack_parse(svc.stack, &st);
	if (st.tls && !tls) {
		fprintf(stderr,
			"%s: add: mdns://%s announces TLS (gensiostack=%s): add it with --tls [--ca FILE] [--server-name NAME]\n",
			prog, s->host, svc.stack);
		return 1;
	}
	if (!st.known)
		return 0;
	if (!st.telnet && !raw)
		fprintf(stderr,
			"%s: add: warning: mdns://%s has no telnet(rfc2217) in its stack (%s): data only, no settings or modem lines; add it with --raw\n",
			prog, s->host, svc.stack);
	else if (!st.rfc2217 && !raw)
		fprintf(stderr,
			"%s: add: warning: mdns://%s has telnet without rfc2217 (%s): settings and modem lines will not work\n",
			prog, s->host, svc.stack);
	if (tls && !st.tls)
		fprintf(stderr,
			"%s: add: warning: mdns://%s announces no ssl (%s): the TLS handshake will fail\n",
			prog, s->host, svc.stack);
	if (st.certauth)
		fprintf(stderr,
			"%s: add: warning: mdns://%s uses certauth (%s), which ttyrfcd does not speak\n",
			prog, s->host, svc.stack);
	if (tls && !s->server_name)
		fprintf(stderr,
			"%s: add: note: the server's certificate will be checked for the host the announcement names (now %s); --server-name NAME pins the name\n",
			prog, svc.host);
	return 0;
}

int cmd_add(struct genl *g, int argc, char **argv)
{
	static char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	struct port_spec s = { 0 };
	char *arg = NULL, *host;
	const char *mdns = NULL;
	long index = -1;
	int i, ret;

	if (argc < 2)
		return bad_usage("%s needs HOST:PORT", "add");
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(o, "--raw"))
			s.flags |= TTYRFC_F_RAW;
		else if (!strcmp(o, "--tls"))
			s.flags |= TTYRFC_F_TLS;
		else if (!strcmp(o, "--name") && more)
			s.name = argv[++i];
		else if (!strcmp(o, "--mdns") && more)
			mdns = argv[++i];
		else if (!strcmp(o, "--ca") && more)
			s.ca = argv[++i];
		else if (!strcmp(o, "--cert") && more)
			s.cert = argv[++i];
		else if (!strcmp(o, "--key") && more)
			s.key = argv[++i];
		else if (!strcmp(o, "--server-name") && more)
			s.server_name = argv[++i];
		else if (!arg && strncmp(o, "--", 2))
			arg = argv[i];
		else
			return bad_usage("add: unexpected \"%s\"", argv[i]);
	}
	if (s.name && !name_ok(s.name))
		return bad_usage("\"%s\": a name is 1-63 of A-Z a-z 0-9 # + - . : = @ _, not ttyRFC<n>",
				 s.name);
	if (arg && !strncmp(arg, "mdns://", 7)) {
		if (mdns)
			return bad_usage("add: \"%s\" and --mdns: one service",
					 arg);
		mdns = arg + 7;
	} else if (arg && mdns) {
		return bad_usage("add: \"%s\" and --mdns: one remote", arg);
	} else if (!arg && !mdns) {
		return bad_usage("%s needs HOST:PORT", "add");
	}
	if (mdns) {
		if (!service_ok(mdns))
			return bad_usage("\"%s\": an mDNS service name is 1-63 bytes, no control characters or commas",
					 mdns);
		s.host = mdns;
		s.flags |= TTYRFC_F_MDNS;
	} else {
		if (!strncmp(arg, "tls://", 6)) {
			s.flags |= TTYRFC_F_TLS;
			arg += 6;
		}
		if (parse_remote(arg, &host, &s.tcp_port))
			return EXIT_USAGE;
		s.host = host;
	}
	if ((s.ca || s.cert || s.key || s.server_name) &&
	    !(s.flags & TTYRFC_F_TLS))
		return bad_usage("add: %s is for TLS ports (tls://HOST:PORT, or --tls)",
				 s.ca ? "--ca" : s.cert ? "--cert" :
				 s.key ? "--key" : "--server-name");
	if (!s.cert != !s.key)
		return bad_usage("add: %s: a client certificate needs --cert and --key",
				 s.cert ? "--cert without --key" :
					  "--key without --cert");
	if (s.server_name && !host_ok(s.server_name))
		return bad_usage("\"%s\": not a host name or address",
				 s.server_name);
	if ((s.ca && check_file("--ca", s.ca, false, ca)) ||
	    (s.cert && check_file("--cert", s.cert, false, cert)) ||
	    (s.key && check_file("--key", s.key, true, key)))
		return 1;
	if (s.ca)
		s.ca = ca;
	if (s.cert) {
		s.cert = cert;
		s.key = key;
	}

	/* the kernel decides, this only names the port already there */
	ret = load_ports(g);
	if (ret)
		return ret;
	if (refuse_duplicate(&s))
		return 1;
	if (s.name && find_port(s.name)) {
		fprintf(stderr, "%s: add: the name \"%s\" is taken by ttyRFC%u\n",
			prog, s.name, find_port(s.name)->index);
		return 1;
	}
	if ((s.flags & TTYRFC_F_MDNS) && check_announcement(&s))
		return 1;

	ret = add_port(g, &s, &index);
	if (ret == -EEXIST && !dump_ports(g) && refuse_duplicate(&s))
		return 1;
	if (ret)
		return report(g, ret, NULL);
	printf("ttyRFC%ld\n", index);
	return 0;
}
