// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcctl: list, add and remove ttyRFC ports at run time.
 *
 *   ttyrfcctl list
 *   ttyrfcctl add HOST:PORT [--name NAME] [--raw]
 *   ttyrfcctl del ttyRFC<n>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"

static const char *link_name(int s)
{
	switch (s) {
	case TTYRFC_LINK_UP:
		return "up";
	case TTYRFC_LINK_CONNECTING:
		return "connecting";
	default:
		return "down";
	}
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];
	const char *host;

	(void)data;
	if (genl_parse(nlh, tb) < 0 || !tb[TTYRFC_A_INDEX] ||
	    !tb[TTYRFC_A_HOST] || !tb[TTYRFC_A_PORT])
		return MNL_CB_OK;
	host = mnl_attr_get_str(tb[TTYRFC_A_HOST]);
	printf("ttyRFC%u\t%s%s%s:%u\t%s",
	       mnl_attr_get_u32(tb[TTYRFC_A_INDEX]),
	       strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	       mnl_attr_get_u16(tb[TTYRFC_A_PORT]),
	       tb[TTYRFC_A_LINK_STATE] ?
	       link_name(mnl_attr_get_u8(tb[TTYRFC_A_LINK_STATE])) : "?");
	if (tb[TTYRFC_A_BAUD])
		printf("\t%u", mnl_attr_get_u32(tb[TTYRFC_A_BAUD]));
	if (tb[TTYRFC_A_STAT_TX_BYTES] && tb[TTYRFC_A_STAT_RX_BYTES])
		printf("\ttx %llu rx %llu",
		       (unsigned long long)mnl_attr_get_u64(tb[TTYRFC_A_STAT_TX_BYTES]),
		       (unsigned long long)mnl_attr_get_u64(tb[TTYRFC_A_STAT_RX_BYTES]));
	if (tb[TTYRFC_A_STAT_RECONNECTS])
		printf("\treconnects %u",
		       mnl_attr_get_u32(tb[TTYRFC_A_STAT_RECONNECTS]));
	if (tb[TTYRFC_A_STAT_PROTO_ERRORS])
		printf("\terrors %u",
		       mnl_attr_get_u32(tb[TTYRFC_A_STAT_PROTO_ERRORS]));
	if (tb[TTYRFC_A_NAME] && *mnl_attr_get_str(tb[TTYRFC_A_NAME]))
		printf("\t%s", mnl_attr_get_str(tb[TTYRFC_A_NAME]));
	printf("\n");
	return MNL_CB_OK;
}

static int add_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TTYRFC_A_MAX + 1];

	if (genl_parse(nlh, tb) >= 0 && tb[TTYRFC_A_INDEX])
		*(int *)data = mnl_attr_get_u32(tb[TTYRFC_A_INDEX]);
	return MNL_CB_OK;
}

static int parse_remote(char *s, char **host, unsigned long *port)
{
	char *colon = strrchr(s, ':'), *end;

	if (!colon || colon == s)
		return -1;
	*colon = '\0';
	*port = strtoul(colon + 1, &end, 10);
	if (*end || !*port || *port > 65535)
		return -1;
	if (*s == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		s++;
	}
	*host = s;
	return **host ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ttyrfcctl list\n"
		"       ttyrfcctl add HOST:PORT [--name NAME] [--raw]\n"
		"       ttyrfcctl del ttyRFC<n>\n");
	return 2;
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct genl g;
	int ret, i;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "list") && strcmp(argv[1], "add") &&
	    strcmp(argv[1], "del"))
		return usage();

	ret = genl_open(&g);
	if (ret) {
		fprintf(stderr, "ttyrfcctl: %s\n", g.err);
		return 1;
	}

	if (!strcmp(argv[1], "list")) {
		nlh = genl_msg(&g, buf, TTYRFC_CMD_GET, NLM_F_DUMP);
		ret = genl_call(&g, nlh, list_cb, NULL);
	} else if (!strcmp(argv[1], "add")) {
		const char *name = NULL;
		unsigned long port;
		uint32_t flags = 0;
		int index = -1;
		char *host;

		if (argc < 3 || parse_remote(argv[2], &host, &port)) {
			fprintf(stderr, "ttyrfcctl: expected HOST:PORT (port 1-65535)\n");
			return 2;
		}
		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--name") && i + 1 < argc)
				name = argv[++i];
			else if (!strcmp(argv[i], "--raw"))
				flags |= TTYRFC_F_RAW;
			else
				return usage();
		}
		nlh = genl_msg(&g, buf, TTYRFC_CMD_ADD, 0);
		mnl_attr_put_strz(nlh, TTYRFC_A_HOST, host);
		mnl_attr_put_u16(nlh, TTYRFC_A_PORT, port);
		if (name)
			mnl_attr_put_strz(nlh, TTYRFC_A_NAME, name);
		mnl_attr_put_u32(nlh, TTYRFC_A_FLAGS, flags);
		ret = genl_call(&g, nlh, add_cb, &index);
		if (!ret)
			printf("ttyRFC%d\n", index);
	} else {
		unsigned long index;
		char *end;

		if (argc != 3)
			return usage();
		index = strtoul(argv[2] + (strncmp(argv[2], "ttyRFC", 6) ?
					   0 : 6), &end, 10);
		if (*end || end == argv[2]) {
			fprintf(stderr, "ttyrfcctl: expected ttyRFC<n>\n");
			return 2;
		}
		nlh = genl_msg(&g, buf, TTYRFC_CMD_DEL, 0);
		mnl_attr_put_u32(nlh, TTYRFC_A_INDEX, index);
		ret = genl_call(&g, nlh, NULL, NULL);
	}
	if (ret)
		fprintf(stderr, "ttyrfcctl: %s: %s\n", argv[1], g.err);
	genl_close(&g);
	return ret ? 1 : 0;
}
