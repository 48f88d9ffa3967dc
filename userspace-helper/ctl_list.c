// SPDX-License-Identifier: GPL-2.0
/* ttyrfcctl list: one line per port. */
#include "ctl.h"

int cmd_list(struct genl *g, int argc, char **argv)
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
