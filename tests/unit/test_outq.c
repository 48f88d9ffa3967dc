// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for outq.c: what the server's TCP acknowledged, as a
 * position in the kernel's stream. Never more than what was acknowledged;
 * bytes of our own (telnet answers) confirm nothing by themselves.
 */
#include <stdlib.h>

#include "outq.h"
#include "unit.h"

static bool t_confirm_prefix(void)
{
	struct outq q = { 0 };
	uint8_t b[100] = { 0 };

	outq_reset(&q, 1000, 7);
	CHECK(!outq_put(&q, b, 9, 1000, 7));		/* preamble */
	CHECK(!outq_put(&q, b, 20, 1010, 7));	/* 10 data bytes, escaped */
	CHECK(!outq_put(&q, b, 7, 1010, 8));		/* a change */
	CHECK(!outq_put(&q, b, 5, 1015, 8));		/* 5 more */
	outq_sent(&q, q.len);
	CHECK(q.wire_out == 41);
	/* nothing of the data yet */
	CHECK(!outq_acked(&q, 9) && q.conf_pos == 1000);
	/* part of a chunk is not the chunk */
	CHECK(!outq_acked(&q, 28) && q.conf_pos == 1000);
	CHECK(outq_acked(&q, 29) && q.conf_pos == 1010 && q.conf_seq == 7);
	CHECK(outq_acked(&q, 36) && q.conf_pos == 1010 && q.conf_seq == 8);
	CHECK(outq_acked(&q, 41) && q.conf_pos == 1015 && q.conf_seq == 8);
	CHECK(outq_idle(&q, 41));
	outq_free(&q);
	return true;
}

/* Unsent appends share a tag; sent ones keep theirs. */
static bool t_marks_merge(void)
{
	struct outq q = { 0 };
	uint8_t b[10] = { 0 };
	int i;

	outq_reset(&q, 0, 0);
	for (i = 1; i <= 1000; i++)
		CHECK(!outq_put(&q, b, 1, i, 0));
	CHECK(q.mlen == 1);
	outq_sent(&q, 500);
	CHECK(!outq_put(&q, b, 1, 1001, 0));
	CHECK(q.mlen == 1);		/* the tag's end was not sent yet */
	outq_sent(&q, q.len);
	CHECK(!outq_put(&q, b, 1, 1002, 0));
	CHECK(q.mlen == 2);
	CHECK(!outq_acked(&q, 500));	/* merged: only the whole counts */
	CHECK(outq_acked(&q, 1001) && q.conf_pos == 1001);
	outq_free(&q);
	return true;
}

/* Grows far beyond a window of 0xFF (doubled) plus many commands. */
static bool t_never_full(void)
{
	struct outq q = { 0 };
	static uint8_t big[1 << 20];
	uint64_t pos = 0;
	int i;

	outq_reset(&q, 0, 0);
	for (i = 0; i < 4; i++) {
		pos += sizeof(big) / 2;
		CHECK(!outq_put(&q, big, sizeof(big), pos, i));
	}
	CHECK(q.len == 4 * sizeof(big));
	outq_sent(&q, 1000);
	CHECK(q.len == 4 * sizeof(big) - 1000);
	CHECK(!outq_acked(&q, 1000));
	outq_sent(&q, q.len);
	CHECK(outq_acked(&q, q.wire_out) && q.conf_pos == pos);
	outq_free(&q);
	return true;
}

static bool t_zero_length_change(void)
{
	struct outq q = { 0 };

	/* a change a raw port cannot say still has its place in order */
	outq_reset(&q, 5, 5);
	CHECK(!outq_put(&q, NULL, 0, 5, 6));
	CHECK(outq_acked(&q, 0) && q.conf_seq == 6);
	outq_free(&q);
	return true;
}

static const struct unit_test tests[] = {
	{ "confirms exactly the acknowledged prefix", t_confirm_prefix },
	{ "unsent appends share a tag", t_marks_merge },
	{ "never refuses within any window", t_never_full },
	{ "a change without bytes (raw) is confirmed in order",
	  t_zero_length_change },
};

UNIT_MAIN(tests)
