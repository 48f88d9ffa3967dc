// SPDX-License-Identifier: GPL-2.0
/* The output queue of one session; see outq.h. */
#include <stdlib.h>
#include <string.h>

#include "outq.h"

void outq_reset(struct outq *q, uint64_t pos, uint64_t seq)
{
	q->head = q->len = 0;
	q->wire_in = q->wire_out = 0;
	q->mhead = q->mlen = 0;
	q->pos = q->conf_pos = pos;
	q->seq = q->conf_seq = seq;
}

void outq_free(struct outq *q)
{
	free(q->buf);
	free(q->marks);
	memset(q, 0, sizeof(*q));
}

uint8_t *outq_reserve(struct outq *q, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (q->head + q->len + n <= q->cap)
		return q->buf + q->head + q->len;
	if (q->head) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
		if (q->len + n <= q->cap)
			return q->buf + q->len;
	}
	cap = q->cap ? q->cap : 4096;
	while (cap < q->len + n)
		cap *= 2;
	b = realloc(q->buf, cap);
	if (!b)
		return NULL;
	q->buf = b;
	q->cap = cap;
	return q->buf + q->len;
}

static struct outq_mark *mark_at(struct outq *q, size_t i)
{
	return &q->marks[(q->mhead + i) % q->mcap];
}

/*
 * A new tag. Data after data whose tag has not left yet shares that tag:
 * they leave together, one is enough. A change keeps its own.
 */
static int mark(struct outq *q, uint64_t pos, uint64_t seq)
{
	struct outq_mark *last = q->mlen ? mark_at(q, q->mlen - 1) : NULL;
	bool data = seq == q->seq;

	if (last && last->data && data && last->wire_end > q->wire_out) {
		last->wire_end = q->wire_in;
		last->pos = pos;
		return 0;
	}
	if (q->mlen == q->mcap) {
		size_t cap = q->mcap ? 2 * q->mcap : 64, i;
		struct outq_mark *m = malloc(cap * sizeof(*m));

		if (!m)
			return -1;
		for (i = 0; i < q->mlen; i++)
			m[i] = *mark_at(q, i);
		free(q->marks);
		q->marks = m;
		q->mcap = cap;
		q->mhead = 0;
	}
	*mark_at(q, q->mlen++) = (struct outq_mark){ q->wire_in, pos, seq,
						      data };
	return 0;
}

void outq_commit(struct outq *q, size_t n, uint64_t pos, uint64_t seq)
{
	q->len += n;
	q->wire_in += n;
	if (pos != q->pos || seq != q->seq) {
		/* a failed allocation only delays confirmation to a later tag */
		mark(q, pos, seq);
		q->pos = pos;
		q->seq = seq;
	}
}

int outq_put(struct outq *q, const uint8_t *b, size_t n, uint64_t pos,
	     uint64_t seq)
{
	uint8_t *d = n ? outq_reserve(q, n) : NULL;

	if (n && !d)
		return -1;
	if (n)
		memcpy(d, b, n);
	outq_commit(q, n, pos, seq);
	return 0;
}

void outq_sent(struct outq *q, size_t n)
{
	q->head += n;
	q->len -= n;
	q->wire_out += n;
	if (!q->len)
		q->head = 0;
}

bool outq_acked(struct outq *q, uint64_t acked)
{
	bool more = false;

	while (q->mlen) {
		struct outq_mark *m = mark_at(q, 0);

		if (m->wire_end > acked)
			break;
		more |= m->pos != q->conf_pos || m->seq != q->conf_seq;
		q->conf_pos = m->pos;
		q->conf_seq = m->seq;
		q->mhead = (q->mhead + 1) % q->mcap;
		q->mlen--;
	}
	return more;
}
