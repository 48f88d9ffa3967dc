/* SPDX-License-Identifier: GPL-2.0 */
/* ttyrfcd logging: one line per event, to stderr (journald keeps it). */
#ifndef TTYRFC_LOG_H
#define TTYRFC_LOG_H

#include <stdbool.h>

extern int log_verbose;		/* -v: wire traces */

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_dbg(...) do { if (log_verbose) log_msg(__VA_ARGS__); } while (0)

#endif
