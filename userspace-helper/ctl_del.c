// SPDX-License-Identifier: GPL-2.0
/* ttyrfcctl del: remove a port (an open one is unplugged). */
#include <errno.h>

#include "ctl.h"

int cmd_del(struct genl *g, int argc, char **argv)
{
	struct port_info *p;
	char dev[16];
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
	ret = del_port(g, p->index);
	return ret ? report(g, ret, dev) : 0;
}
