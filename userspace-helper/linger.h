/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connections whose session is over, ending well: the rest of their output
 * is sent, the write side shut down, and the server's input read and
 * thrown away until it has acknowledged everything and closed too, or
 * LINGER_MAX_MS passed without progress. Closing a socket with unread input would make
 * Linux answer with a RST, and a RST can drop the tail the server's TCP
 * has not handed on yet.
 */
#ifndef TTYRFC_LINGER_H
#define TTYRFC_LINGER_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"

#define LINGER_MAX_MS	5000

/* Take @p's connection and output queue over. */
void linger_start(struct port *p);
/* Is a connection of port @index still ending? */
bool linger_active(unsigned int index);
/* A lingering socket is ready (token index @id, generation @gen). */
void linger_event(unsigned int id, uint32_t gen, uint32_t events);
void linger_timer(int64_t now);
int64_t linger_next_timer(void);
/* Called for each port whose last lingering connection ended. */
extern void (*linger_done)(unsigned int index);
/* End them all now (exit). */
void linger_flush_all(void);

#endif
