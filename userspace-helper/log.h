/* SPDX-License-Identifier: GPL-2.0 */
/* ttyrfcd logging: one line per event, to stderr (journald keeps it). */
#ifndef TTYRFC_LOG_H
#define TTYRFC_LOG_H

#include <stdbool.h>
#include <stdint.h>

extern int log_verbose;		/* -v: wire traces */

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_dbg(...) do { if (log_verbose) log_msg(__VA_ARGS__); } while (0)

/*
 * Per-port budget: a burst of LOG_BURST lines, then one per
 * LOG_INTERVAL_MS; what is held back is counted and said once later.
 */
#define LOG_BURST		10
#define LOG_INTERVAL_MS		1000

struct ratelimit {
	int64_t last;		/* ms */
	unsigned int tokens;
	uint64_t suppressed;	/* since the last line that went out */
	bool primed;
};

/*
 * true: log it now, and *held lines were held back before it; false: held
 * back (and counted in *dropped).
 */
bool log_allow(struct ratelimit *rl, int64_t now, uint64_t *dropped,
	       uint64_t *held);

#endif
