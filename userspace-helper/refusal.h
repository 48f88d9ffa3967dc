/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Refusals stock servers write as plain text before closing a connection
 * (ser2net 4.x, port.c and dataxfer.c): "Port already in use" and the
 * like. They arrive as data, so they must be recognised before the
 * session is reported up, and become an errno instead of data for the
 * reader.
 */
#ifndef TTYRFC_REFUSAL_H
#define TTYRFC_REFUSAL_H

#include <stddef.h>
#include <stdint.h>

enum refusal_match {
	REFUSAL_NO,		/* not a refusal: ordinary data */
	REFUSAL_MAYBE,		/* the start of one; more bytes would tell */
	REFUSAL_YES,		/* a complete refusal text */
};

/* The longest text worth holding data back for. */
#define REFUSAL_MAX	64

/*
 * Look at the first @n bytes a server sent. On REFUSAL_YES, *err is the
 * errno open() should fail with and *text the server's words (static).
 */
enum refusal_match refusal_check(const uint8_t *data, size_t n, int *err,
				 const char **text);

#endif
