// SPDX-License-Identifier: GPL-2.0
/* What stock servers say when they refuse a connection. */
#include <errno.h>
#include <string.h>

#include "refusal.h"

static const struct {
	const char *text;	/* as sent, up to the end of the line */
	int err;
} refusals[] = {
	/* ser2net: another client has the port (no kickolduser) */
	{ "Port already in use", EBUSY },
	{ "Port's device already in use", EBUSY },
	{ "kicked off, new user is coming", EBUSY },
	/* ser2net: the port is configured off, or going away */
	{ "Port disabled", ECONNREFUSED },
	{ "Port closing", ECONNREFUSED },
	{ "port is shutting down", ECONNREFUSED },
	/* ser2net: remaddr rules */
	{ "Accessed denied due to your net address", EACCES },
	/* ser2net: the serial device could not be opened */
	{ "Port's device failed open", EIO },
	{ "Device open failure", EIO },	/* ": <reason>" follows */
};

#define N (sizeof(refusals) / sizeof(refusals[0]))

enum refusal_match refusal_check(const uint8_t *data, size_t n, int *err,
				 const char **text)
{
	enum refusal_match best = REFUSAL_NO;
	size_t i, len;

	for (i = 0; i < N; i++) {
		len = strlen(refusals[i].text);
		if (n < len) {
			if (!memcmp(data, refusals[i].text, n))
				best = REFUSAL_MAYBE;
			continue;
		}
		if (!memcmp(data, refusals[i].text, len)) {
			*err = refusals[i].err;
			*text = refusals[i].text;
			return REFUSAL_YES;
		}
	}
	return best;
}
