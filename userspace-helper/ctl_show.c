// SPDX-License-Identifier: GPL-2.0
/* ttyrfcctl show (and stats): everything known about one port or all. */
#include <errno.h>

#include "ctl.h"

int cmd_show(struct genl *g, int argc, char **argv)
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
