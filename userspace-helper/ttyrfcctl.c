// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl: show, add and remove ttyRFC ports at run time, and find the
 * ports ser2net announces.
 *
 * The table below is the list of subcommands: it drives dispatch and the
 * usage text. Each subcommand lives in its own file (ctl_*.c, see ctl.h).
 * PORT is ttyRFC<n>, /dev/ttyRFC<n>, a port's name or its mDNS service.
 * Exit status: 0 ok, 1 the request failed, 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

const char *prog = "ttyrfcctl";
const char *cmd_name = "";
bool json;

static const struct subcommand {
	const char *name;
	int (*fn)(struct genl *g, int argc, char **argv);
	const char *args;		/* for the usage line */
	const char *description;
	bool json;			/* takes --json */
	bool hidden;			/* an alias, not in the usage */
} subcommands[] = {
	{ "list", cmd_list, "", "one line per port", true, false },
	{ "show", cmd_show, "[PORT]",
	  "settings, lines, TLS, counters of one port or all", true, false },
	{ "stats", cmd_show, "[PORT]", "the same as show", true, true },
	{ "add", cmd_add,
	  "HOST:PORT|tls://HOST:PORT|mdns://SERVICE [--mdns SERVICE]\n"
	  "\t\t[--name NAME] [--raw] [--tls] [--ca FILE]\n"
	  "\t\t[--cert FILE --key FILE] [--server-name NAME]",
	  "create a port; prints its device", false, false },
	{ "del", cmd_del, "PORT", "remove a port (an open one is unplugged)",
	  false, false },
	{ "discover", cmd_discover, "[--timeout MS]",
	  "list the ports ser2net announces over mDNS", true, false },
};

#define N_SUBCOMMANDS	(sizeof(subcommands) / sizeof(subcommands[0]))

int usage(FILE *f)
{
	size_t i;

	for (i = 0; i < N_SUBCOMMANDS; i++) {
		const struct subcommand *c = &subcommands[i];

		if (c->hidden)
			continue;
		fprintf(f, "%s %s %s%s%s%s\n", i ? "      " : "usage:", prog,
			c->json ? "[--json] " : "", c->name, *c->args ? " " : "",
			c->args);
	}
	fprintf(f, "\n");
	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!subcommands[i].hidden)
			fprintf(f, "  %-9s %s\n", subcommands[i].name,
				subcommands[i].description);
	fprintf(f,
		"PORT is ttyRFC<n>, /dev/ttyRFC<n>, the name given to add, or a port's mDNS service.\n"
		"HOST is a name, an IPv4 address or [IPv6 address].\n");
	return f == stdout ? 0 : EXIT_USAGE;
}

int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	return EXIT_USAGE;
}

int report(struct genl *g, int err, const char *port)
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
	struct genl g;	/* connected by the subcommand, once it needs it */
	size_t i;
	int ret;

	argc = global_options(argc - 1, argv + 1, &help);
	argv++;
	if (help || (argc && !strcmp(argv[0], "help")))
		return usage(stdout);
	if (!argc)
		return usage(stderr);

	for (i = 0; i < N_SUBCOMMANDS; i++) {
		const struct subcommand *c = &subcommands[i];

		if (strcmp(argv[0], c->name))
			continue;
		cmd_name = c->name;
		if (json && !c->json)
			return bad_usage("--json goes with list, show and discover, not %s",
					 cmd_name);
		memset(&g, 0, sizeof(g));
		ret = c->fn(&g, argc, argv);
		genl_close(&g);
		return ret;
	}
	return bad_usage("unknown command \"%s\"", argv[0]);
}
