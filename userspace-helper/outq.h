/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bytes of one session on their way to the server, and what they
 * stand for in the kernel's stream.
 *
 * Every append is tagged with the kernel's stream position it completes
 * (data position, control number). Once the server's TCP has acknowledged
 * the wire bytes up to a tag, that position is confirmed. Data is bounded
 * by the kernel's window and commands by its count of unconfirmed changes,
 * so nothing is ever refused or dropped here: the buffer grows instead.
 */
#ifndef TTYRFC_OUTQ_H
#define TTYRFC_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outq_mark {
	uint64_t wire_end;	/* appended bytes up to here ... */
	uint64_t pos, seq;	/* ... complete the stream up to here */
	bool data;		/* only data since the tag before */
};

struct outq {
	uint8_t *buf;
	size_t head, len, cap;	/* bytes not yet given to the socket */
	uint64_t wire_in;	/* appended, ever (this session) */
	uint64_t wire_out;	/* given to the socket, ever */
	struct outq_mark *marks;	/* ring, oldest first */
	size_t mhead, mlen, mcap;
	uint64_t pos, seq;	/* stream position of the last append */
	uint64_t conf_pos, conf_seq;	/* confirmed */
};

/* Start a session at the kernel's stream position (pos, seq). */
void outq_reset(struct outq *q, uint64_t pos, uint64_t seq);
void outq_free(struct outq *q);

/*
 * Append @n wire bytes that bring the stream to (pos, seq); for bytes of
 * our own (telnet answers), pass the current q->pos, q->seq. -1: no memory.
 */
int outq_put(struct outq *q, const uint8_t *b, size_t n, uint64_t pos,
	     uint64_t seq);
/* Room for @n bytes at the end, to encode into; NULL: no memory. */
uint8_t *outq_reserve(struct outq *q, size_t n);
/* Commit @n of the reserved bytes, bringing the stream to (pos, seq). */
void outq_commit(struct outq *q, size_t n, uint64_t pos, uint64_t seq);

/* The bytes to give the socket next, and how many it took. */
static inline const uint8_t *outq_data(const struct outq *q)
{
	return q->buf + q->head;
}
void outq_sent(struct outq *q, size_t n);

/*
 * The server's TCP acknowledged @acked of the bytes given to the socket:
 * true if that confirms more of the stream (q->conf_pos, q->conf_seq).
 */
bool outq_acked(struct outq *q, uint64_t acked);

/* Everything given to the socket is acknowledged and nothing waits. */
static inline bool outq_idle(const struct outq *q, uint64_t acked)
{
	return !q->len && acked == q->wire_out;
}

#endif
