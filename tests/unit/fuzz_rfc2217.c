// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the RFC 2217 codec.  The first input byte picks
 * how the rest is split into chunks, so split handling is fuzzed too.
 */
#include <assert.h>
#include <string.h>

#include "rfc2217.h"

struct sink {
	size_t in, data, reply;
};

static void f_data(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;

	assert(n > 0 && p);
	s->data += n;
}

static void f_reply(void *ctx, const uint8_t *p, size_t n)
{
	struct sink *s = ctx;

	assert(n == 3 && p[0] == TN_IAC);
	s->reply += n;
}

static void f_comport(void *ctx, uint8_t cmd, const uint8_t *val, size_t n)
{
	(void)ctx;
	(void)cmd;
	assert(n < RFC2217_SB_MAX);
	if (n)
		assert(val);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const struct rfc2217_ops ops = {
		.data = f_data,
		.reply = f_reply,
		.comport = f_comport,
	};
	struct sink s = { 0 };
	struct rfc2217 c;
	uint8_t out[RFC2217_START_LEN], esc[64];
	size_t step, i, used;

	if (!len)
		return 0;
	step = buf[0] ? buf[0] : len;
	buf++;
	len--;
	rfc2217_init(&c, &ops, &s);
	rfc2217_start(&c, out, sizeof(out));
	for (i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;

		rfc2217_input(&c, buf + i, n);
		assert(c.sb_len <= RFC2217_SB_MAX);
	}
	/* data out never exceeds data in */
	assert(s.data <= len);

	/* escape must consume a prefix and never split a pair */
	used = 0;
	i = rfc2217_escape(buf, len, esc, step % sizeof(esc), &used);
	assert(i <= step % sizeof(esc) && used <= len);
	return 0;
}
