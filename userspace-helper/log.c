// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_verbose;

void log_msg(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line, so concurrent lines never interleave */
	fprintf(stderr, "ttyrfcd: %s\n", line);
}

bool log_allow(struct ratelimit *rl, int64_t now, uint64_t *dropped,
	       uint64_t *held)
{
	if (!rl->primed) {
		rl->primed = true;
		rl->tokens = LOG_BURST;
		rl->last = now;
	}
	while (rl->tokens < LOG_BURST && now - rl->last >= LOG_INTERVAL_MS) {
		rl->tokens++;
		rl->last += LOG_INTERVAL_MS;
	}
	if (rl->tokens == LOG_BURST)
		rl->last = now;
	if (!rl->tokens) {
		rl->suppressed++;
		(*dropped)++;
		return false;
	}
	rl->tokens--;
	*held = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
