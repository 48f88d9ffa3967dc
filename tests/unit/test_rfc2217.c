// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the RFC 2217 codec.  TAP-style output, final line
 * "N passed, N failed", exit status 1 on any failure.
 */
#include <stdlib.h>

#include "rfc2217.h"
#include "unit.h"

/* ---- recorder for codec callbacks ---- */

#define REC_DATA	(1 << 18)
#define REC_CP		32

struct cp_rec {
	uint8_t cmd;
	uint8_t val[RFC2217_SB_MAX];
	size_t n;
};

struct rec {
	uint8_t data[REC_DATA];
	size_t ndata;
	uint8_t reply[4096];
	size_t nreply;
	struct cp_rec cp[REC_CP];
	int ncp;
	int negotiated;
	int errors;
	const char *last_err;
	bool overflow;
};

static struct rec rec;

static void on_data(void *ctx, const uint8_t *p, size_t n)
{
	struct rec *r = ctx;

	if (n == 0 || r->ndata + n > sizeof(r->data)) {
		r->overflow = true;	/* zero-length call is a bug too */
		return;
	}
	memcpy(r->data + r->ndata, p, n);
	r->ndata += n;
}

static void on_reply(void *ctx, const uint8_t *p, size_t n)
{
	struct rec *r = ctx;

	if (r->nreply + n > sizeof(r->reply)) {
		r->overflow = true;
		return;
	}
	memcpy(r->reply + r->nreply, p, n);
	r->nreply += n;
}

static void on_comport(void *ctx, uint8_t cmd, const uint8_t *val, size_t n)
{
	struct rec *r = ctx;

	if (r->ncp >= REC_CP || n > RFC2217_SB_MAX) {
		r->overflow = true;
		return;
	}
	r->cp[r->ncp].cmd = cmd;
	memcpy(r->cp[r->ncp].val, val, n);
	r->cp[r->ncp].n = n;
	r->ncp++;
}

static void on_negotiated(void *ctx)
{
	((struct rec *)ctx)->negotiated++;
}

static void on_error(void *ctx, const char *what)
{
	struct rec *r = ctx;

	r->errors++;
	r->last_err = what;
}

static const struct rfc2217_ops rec_ops = {
	.data = on_data,
	.reply = on_reply,
	.comport = on_comport,
	.negotiated = on_negotiated,
	.error = on_error,
};

/* fresh codec + recorder; start negotiation unless raw */
static void setup(struct rfc2217 *c, bool start)
{
	uint8_t buf[32];

	memset(&rec, 0, sizeof(rec));
	rfc2217_init(c, &rec_ops, &rec);
	if (start)
		rfc2217_start(c, buf, sizeof(buf));
}

static void feed(struct rfc2217 *c, const uint8_t *p, size_t n)
{
	rfc2217_input(c, p, n);
}

#define FEED(c, ...) do {						\
	static const uint8_t _b[] = { __VA_ARGS__ };			\
	feed(c, _b, sizeof(_b));					\
} while (0)

static bool reply_is(const uint8_t *e, size_t n)
{
	return rec.nreply == n && !memcmp(rec.reply, e, n);
}

#define REPLY_IS(...)							\
	reply_is((const uint8_t[]){ __VA_ARGS__ },			\
		 sizeof((const uint8_t[]){ __VA_ARGS__ }))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* random bytes, heavy on the interesting values */
static void fill_random(uint8_t *p, size_t n)
{
	static const uint8_t hot[] = { 0xff, 0xff, 0xff, '\r', '\n', 0,
				       TN_SE, TN_SB };
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rnd() % 2 ? hot[rnd() % sizeof(hot)] : (uint8_t)rnd();
}

/* reference decoder for escaped output */
static bool unescape_ok(const uint8_t *out, size_t n, const uint8_t *in,
			size_t m)
{
	size_t i = 0, j = 0;

	while (i < n) {
		if (j >= m || out[i] != in[j])
			return false;
		if (out[i] == 0xff && (i + 1 >= n || out[i + 1] != 0xff))
			return false;
		i += out[i] == 0xff ? 2 : 1;
		j++;
	}
	return j == m;
}

/* ---- tests ---- */

static bool t_escape_all_bytes(void)
{
	uint8_t in[256], out[512];
	size_t i, n, used;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = rfc2217_escape(in, 256, out, sizeof(out), &used);
	CHECK(n == 257);
	CHECK(used == 256);
	CHECK(!memcmp(out, in, 255));
	CHECK(out[255] == 0xff && out[256] == 0xff);
	return true;
}

static bool t_escape_ff_runs(void)
{
	uint8_t in[200], out[400];
	size_t len, i, n, used;

	for (len = 1; len <= 50; len++) {
		/* 'a' <run of 0xff> 'b' <run of 0xff> */
		size_t m = 0;

		in[m++] = 'a';
		for (i = 0; i < len; i++)
			in[m++] = 0xff;
		in[m++] = 'b';
		for (i = 0; i < len; i++)
			in[m++] = 0xff;
		n = rfc2217_escape(in, m, out, sizeof(out), &used);
		CHECK(used == m);
		CHECK(n == m + 2 * len);
		CHECK(unescape_ok(out, n, in, m));
	}
	return true;
}

static bool t_escape_small_out(void)
{
	uint8_t in[64], out[160];
	size_t cap, n, used, k;

	for (k = 0; k < 20; k++) {
		fill_random(in, sizeof(in));
		for (cap = 0; cap <= sizeof(out); cap++) {
			memset(out, 0xaa, sizeof(out));
			n = rfc2217_escape(in, sizeof(in), out, cap, &used);
			CHECK(n <= cap);
			CHECK(out[n] == 0xaa || n == sizeof(out));
			CHECK(unescape_ok(out, n, in, used));
			/* maximal: the next byte would not have fit */
			if (used < sizeof(in))
				CHECK(cap - n < (in[used] == 0xff ? 2u : 1u));
		}
	}
	/* exactly one byte short of a pair */
	in[0] = 0xff;
	CHECK(rfc2217_escape(in, 1, out, 1, &used) == 0 && used == 0);
	return true;
}

static bool t_binary_transparent(void)
{
	static const uint8_t d[] = { '\r', 0, '\n', '\r', '\n', 0, 0, '\r' };
	struct rfc2217 c;
	uint8_t out[32];
	size_t used;

	CHECK(rfc2217_escape(d, sizeof(d), out, sizeof(out), &used) ==
	      sizeof(d));
	CHECK(!memcmp(out, d, sizeof(d)));
	setup(&c, true);
	feed(&c, d, sizeof(d));
	CHECK(rec.ndata == sizeof(d) && !memcmp(rec.data, d, sizeof(d)));
	CHECK(rec.nreply == 0 && rec.errors == 0);
	return true;
}

#define RT_LEN 700

static bool t_decode_roundtrip_split(void)
{
	static uint8_t in[RT_LEN], enc[2 * RT_LEN];
	struct rfc2217 c;
	size_t n, used, k, p, i;

	fill_random(in, sizeof(in));
	n = rfc2217_escape(in, sizeof(in), enc, sizeof(enc), &used);
	CHECK(used == sizeof(in));

	/* fixed chunk sizes 1..n */
	for (k = 1; k <= n; k++) {
		setup(&c, true);
		for (i = 0; i < n; i += k)
			feed(&c, enc + i, n - i < k ? n - i : k);
		CHECK(!rec.overflow && rec.errors == 0 && rec.nreply == 0);
		CHECK(rec.ndata == sizeof(in));
		CHECK(!memcmp(rec.data, in, sizeof(in)));
	}
	/* one split at every position, with an empty feed in between */
	for (p = 0; p <= n; p++) {
		setup(&c, true);
		feed(&c, enc, p);
		feed(&c, enc + p, 0);
		feed(&c, enc + p, n - p);
		CHECK(rec.ndata == sizeof(in));
		CHECK(!memcmp(rec.data, in, sizeof(in)));
	}
	return true;
}

static bool t_comport_modemstate_split(void)
{
	static const uint8_t s[] = {
		'x', 0xff, 0xff,
		TN_IAC, TN_SB, TNOPT_COMPORT, 107, 0xff, 0xff, TN_IAC, TN_SE,
		'y',
		TN_IAC, TN_SB, TNOPT_COMPORT, 101, 0x00, 0x0e, 0x10, 0x00,
		TN_IAC, TN_SE,
		'\r', '\n',
	};
	static const uint8_t data[] = { 'x', 0xff, 'y', '\r', '\n' };
	struct rfc2217 c;
	size_t p, q;
	uint32_t baud;

	/* two split points anywhere, three chunks */
	for (p = 0; p <= sizeof(s); p++) {
		for (q = p; q <= sizeof(s); q++) {
			setup(&c, true);
			feed(&c, s, p);
			feed(&c, s + p, q - p);
			feed(&c, s + q, sizeof(s) - q);
			CHECK(rec.errors == 0 && !rec.overflow);
			CHECK(rec.ncp == 2);
			CHECK(rec.cp[0].cmd == 107 && rec.cp[0].n == 1);
			CHECK(rec.cp[0].val[0] == 0xff);
			CHECK(rec.cp[1].cmd == 101);
			CHECK(rfc2217_val_u32(rec.cp[1].val, rec.cp[1].n,
					      &baud) && baud == 921600);
			CHECK(rec.ndata == sizeof(data));
			CHECK(!memcmp(rec.data, data, sizeof(data)));
		}
	}
	return true;
}

/* data before a subnegotiation is delivered before its callback */
static size_t order_ndata_at_cp;

static void order_comport(void *ctx, uint8_t cmd, const uint8_t *v,
			  size_t n)
{
	order_ndata_at_cp = rec.ndata;
	on_comport(ctx, cmd, v, n);
}

static bool t_callback_order(void)
{
	struct rfc2217_ops ops = rec_ops;
	struct rfc2217 c;

	ops.comport = order_comport;
	memset(&rec, 0, sizeof(rec));
	rfc2217_init(&c, &ops, &rec);
	FEED(&c, 'a', 'b', TN_IAC, TN_SB, 44, 106, 0x10, TN_IAC, TN_SE, 'c');
	CHECK(order_ndata_at_cp == 2);
	CHECK(rec.ndata == 3 && !memcmp(rec.data, "abc", 3));
	return true;
}

static bool t_start_bytes(void)
{
	static const uint8_t e[] = { 255, 251, 44, 255, 251, 0, 255, 253, 0 };
	struct rfc2217 c;
	uint8_t out[32];

	setup(&c, false);
	CHECK(rfc2217_start(&c, out, RFC2217_START_LEN - 1) == 0);
	CHECK(rfc2217_start(&c, out, sizeof(out)) == sizeof(e));
	CHECK(!memcmp(out, e, sizeof(e)));
	CHECK(!c.comport_ok && !c.saw_telnet);
	return true;
}

static bool t_negotiate_do44(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_DO, 44);
	CHECK(rec.negotiated == 1 && c.comport_ok && c.saw_telnet);
	CHECK(rec.nreply == 0);		/* it was our request's answer */
	FEED(&c, TN_IAC, TN_DO, 44, TN_IAC, TN_DO, 44);
	CHECK(rec.negotiated == 1 && rec.nreply == 0 && rec.errors == 0);
	return true;
}

static bool t_negotiate_unknown(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_WILL, 5);
	CHECK(REPLY_IS(255, 254, 5));
	rec.nreply = 0;
	FEED(&c, TN_IAC, TN_DO, 24);
	CHECK(REPLY_IS(255, 252, 24));
	rec.nreply = 0;
	/* their answers to our refusals, and echo: no reply, no loop */
	FEED(&c, TN_IAC, TN_WONT, 5, TN_IAC, TN_DONT, 24,
	     TN_IAC, TN_WONT, 1, TN_IAC, TN_DONT, 1);
	CHECK(rec.nreply == 0);
	FEED(&c, TN_IAC, TN_WILL, TNOPT_ECHO);
	CHECK(REPLY_IS(255, 254, 1));
	CHECK(rec.errors == 0 && rec.negotiated == 0 && rec.ndata == 0);
	return true;
}

/* acknowledgements and repeats never produce more than one answer */
static bool t_negotiate_no_loop(void)
{
	struct rfc2217 c;
	int k;

	setup(&c, true);
	/* acks of our WILL 44 / WILL BINARY / DO BINARY: silent */
	FEED(&c, TN_IAC, TN_DO, 44, TN_IAC, TN_DO, 0, TN_IAC, TN_WILL, 0);
	CHECK(rec.nreply == 0);
	/* offers we accept: answered exactly once however often repeated */
	for (k = 0; k < 3; k++)
		FEED(&c, TN_IAC, TN_WILL, TNOPT_SGA, TN_IAC, TN_DO, TNOPT_SGA,
		     TN_IAC, TN_WILL, 44);
	CHECK(REPLY_IS(255, 253, 3, 255, 251, 3, 255, 253, 44));
	/* server disables BINARY: we confirm once, then repeats are quiet */
	rec.nreply = 0;
	for (k = 0; k < 3; k++)
		FEED(&c, TN_IAC, TN_WONT, 0);
	CHECK(REPLY_IS(255, 254, 0));
	CHECK(rec.negotiated == 1 && rec.errors == 0);
	return true;
}

/* ser2net (gensio telnet server with rfc2217) connect sequence */
static bool t_negotiate_ser2net(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_WILL, TNOPT_SGA,
	     TN_IAC, TN_WILL, TNOPT_ECHO,
	     TN_IAC, TN_DONT, TNOPT_ECHO,
	     TN_IAC, TN_DO, TNOPT_BINARY,
	     TN_IAC, TN_WILL, TNOPT_BINARY,
	     TN_IAC, TN_DO, TNOPT_COMPORT);
	/* accept SGA, refuse ECHO, nothing else (the rest are acks) */
	CHECK(REPLY_IS(255, 253, 3, 255, 254, 1));
	CHECK(rec.negotiated == 1 && c.comport_ok && rec.errors == 0);
	return true;
}

/* pyserial PortManager (esp_rfc2217_server) connect sequence + answers */
static bool t_negotiate_portmanager(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_WILL, TNOPT_ECHO,
	     TN_IAC, TN_WILL, TNOPT_SGA,
	     TN_IAC, TN_DO, TNOPT_BINARY,
	     TN_IAC, TN_WILL, TNOPT_COMPORT);
	CHECK(REPLY_IS(255, 254, 1, 255, 253, 3, 255, 253, 44));
	CHECK(rec.negotiated == 1);
	/* its answers to our WILL 44 and DO BINARY, then a modem state */
	FEED(&c, TN_IAC, TN_DO, TNOPT_COMPORT, TN_IAC, TN_WILL, TNOPT_BINARY,
	     TN_IAC, TN_SB, 44, 107, 0xb0, TN_IAC, TN_SE);
	CHECK(rec.nreply == 9 && rec.negotiated == 1 && rec.errors == 0);
	CHECK(rec.ncp == 1 && rec.cp[0].cmd == 107 && rec.cp[0].val[0] == 0xb0);
	return true;
}

static bool t_negotiate_refused(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_DONT, 44);
	CHECK(rec.errors == 1 && !c.comport_ok && rec.negotiated == 0);
	CHECK(!strcmp(rec.last_err, "server refused COM-PORT-OPTION"));
	CHECK(rec.nreply == 0);
	FEED(&c, TN_IAC, TN_DONT, 44);		/* repeat: already refused */
	CHECK(rec.errors == 1 && rec.nreply == 0);

	/* enabled, then withdrawn by WONT 44 */
	setup(&c, true);
	FEED(&c, TN_IAC, TN_WILL, 44);
	CHECK(rec.negotiated == 1 && c.comport_ok);
	FEED(&c, TN_IAC, TN_WONT, 44);
	CHECK(rec.errors == 1 && !c.comport_ok);
	CHECK(!strcmp(rec.last_err, "server withdrew COM-PORT-OPTION"));
	CHECK(REPLY_IS(255, 253, 44, 255, 254, 44));
	return true;
}

static bool t_swallowed_commands(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, 'a', TN_IAC, TN_NOP, 'b', TN_IAC, TN_GA, 'c', TN_IAC, TN_AYT,
	     'd', TN_IAC, TN_DM, 'e', TN_IAC, TN_SE, 'f', TN_IAC, TN_BRK,
	     TN_IAC, 0, 'g', TN_IAC, TN_IAC);
	CHECK(rec.ndata == 8 && !memcmp(rec.data, "abcdefg\xff", 8));
	CHECK(rec.errors == 0 && rec.nreply == 0 && c.saw_telnet);
	return true;
}

static bool t_other_sb_ignored(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_SB, 24, 1, TN_IAC, TN_SE, 'a',
	     TN_IAC, TN_SB, 31, TN_IAC, TN_SE, 'b');
	CHECK(rec.ncp == 0 && rec.errors == 0 && rec.ndata == 2);
	/* empty COM-PORT subnegotiation is an error */
	FEED(&c, TN_IAC, TN_SB, 44, TN_IAC, TN_SE, 'c');
	CHECK(rec.ncp == 0 && rec.errors == 1 && rec.ndata == 3);
	/* value-less command is fine */
	FEED(&c, TN_IAC, TN_SB, 44, 108, TN_IAC, TN_SE);
	CHECK(rec.ncp == 1 && rec.cp[0].cmd == 108 && rec.cp[0].n == 0);
	return true;
}

static bool t_sb_garbage(void)
{
	struct rfc2217 c;

	setup(&c, true);
	/* IAC x inside SB ends it (dropped) */
	FEED(&c, TN_IAC, TN_SB, 44, 107, TN_IAC, 'x', 'a');
	CHECK(rec.errors == 1 && rec.ncp == 0);
	CHECK(rec.ndata == 1 && rec.data[0] == 'a');
	/* ... and a command there is still obeyed */
	FEED(&c, TN_IAC, TN_SB, 44, 107, 0x30, TN_IAC, TN_WILL, 5, 'b');
	CHECK(rec.errors == 2 && rec.ncp == 0 && REPLY_IS(255, 254, 5));
	/* IAC in the option position */
	FEED(&c, TN_IAC, TN_SB, TN_IAC, TN_SE, 'c');
	CHECK(rec.errors == 3 && rec.ndata == 3 && !memcmp(rec.data, "abc", 3));
	/* a good SB after all that */
	FEED(&c, TN_IAC, TN_SB, 44, 106, 0x12, TN_IAC, TN_SE);
	CHECK(rec.ncp == 1 && rec.cp[0].val[0] == 0x12 && rec.errors == 3);
	return true;
}

static bool t_oversized_sb(void)
{
	static uint8_t buf[12000];
	struct rfc2217 c;
	size_t n = 0, i;

	CHECK(sizeof(struct rfc2217) <= 128);
	setup(&c, true);
	buf[n++] = TN_IAC;
	buf[n++] = TN_SB;
	buf[n++] = 44;
	buf[n++] = 107;
	for (i = 0; i < 10240; i++) {
		buf[n++] = (uint8_t)i;
		if ((uint8_t)i == 0xff)
			buf[n++] = 0xff;
	}
	buf[n++] = TN_IAC;
	buf[n++] = TN_SE;
	memcpy(buf + n, "hello\xff\xff", 7);
	n += 7;
	buf[n++] = TN_IAC;
	buf[n++] = TN_SB;
	buf[n++] = 44;
	buf[n++] = 107;
	buf[n++] = 0x20;
	buf[n++] = TN_IAC;
	buf[n++] = TN_SE;
	feed(&c, buf, n);
	CHECK(rec.errors == 1);
	CHECK(!strcmp(rec.last_err, "subnegotiation too long"));
	CHECK(rec.ndata == 6 && !memcmp(rec.data, "hello\xff", 6));
	CHECK(rec.ncp == 1 && rec.cp[0].val[0] == 0x20);
	return true;
}

static bool t_endless_sb(void)
{
	static uint8_t chunk[4096];
	struct rfc2217 c;
	int k;

	setup(&c, true);
	FEED(&c, TN_IAC, TN_SB, 44, 107);
	memset(chunk, 'z', sizeof(chunk));
	for (k = 0; k < 256; k++)		/* 1 MiB, never terminated */
		feed(&c, chunk, sizeof(chunk));
	CHECK(rec.errors == 1 && rec.ndata == 0 && rec.ncp == 0);
	CHECK(c.sb_len <= RFC2217_SB_MAX);
	FEED(&c, TN_IAC, TN_SE, 'o', 'k');
	CHECK(rec.ndata == 2 && !memcmp(rec.data, "ok", 2));
	CHECK(rec.errors == 1 && rec.ncp == 0);
	return true;
}

static bool t_saw_telnet(void)
{
	struct rfc2217 c;

	setup(&c, true);
	FEED(&c, 'r', 'a', 'w', 0xff, 0xff, '\n');
	CHECK(!c.saw_telnet);		/* escaped data is not a command */
	FEED(&c, TN_IAC, TN_NOP);
	CHECK(c.saw_telnet);
	return true;
}

static bool bytes_eq(const uint8_t *a, size_t n, const uint8_t *b, size_t m)
{
	return n == m && !memcmp(a, b, n);
}

static bool t_encoders(void)
{
	static const uint8_t baud[] = { 0xff, 0xfa, 0x2c, 0x01, 0x00, 0x0e,
					0x10, 0x00, 0xff, 0xf0 };
	static const uint8_t baud_ff[] = { 0xff, 0xfa, 0x2c, 0x01, 0x00, 0x00,
					   0xff, 0xff, 0xff, 0xff, 0xff,
					   0xf0 };
	static const uint8_t dtr[] = { 0xff, 0xfa, 0x2c, 0x05, 0x08, 0xff,
				       0xf0 };
	static const uint8_t mask_ff[] = { 0xff, 0xfa, 0x2c, 0x0b, 0xff, 0xff,
					   0xff, 0xf0 };
	uint8_t out[64];
	size_t n, cap;

	n = rfc2217_set_baud(out, sizeof(out), 921600);
	CHECK(bytes_eq(out, n, baud, sizeof(baud)));
	n = rfc2217_set_baud(out, sizeof(out), 65535);
	CHECK(bytes_eq(out, n, baud_ff, sizeof(baud_ff)));
	n = rfc2217_cmd_u8(out, sizeof(out), RFC2217_SET_CONTROL,
			   RFC2217_CTL_DTR_ON);
	CHECK(bytes_eq(out, n, dtr, sizeof(dtr)));
	n = rfc2217_cmd_u8(out, sizeof(out), RFC2217_SET_MODEMSTATE_MASK, 0xff);
	CHECK(bytes_eq(out, n, mask_ff, sizeof(mask_ff)));
	CHECK(sizeof(baud_ff) <= RFC2217_CMD_MAX(4));
	/* all or nothing */
	for (cap = 0; cap < sizeof(baud_ff); cap++) {
		memset(out, 0xaa, sizeof(out));
		CHECK(rfc2217_set_baud(out, cap, 65535) == 0);
		CHECK(out[0] == 0xaa);
	}
	CHECK(rfc2217_set_baud(out, sizeof(baud_ff), 65535) == sizeof(baud_ff));
	n = rfc2217_cmd(out, sizeof(out), RFC2217_SIGNATURE, NULL, 0);
	CHECK(n == 6 && out[3] == 0 && out[4] == 0xff && out[5] == 0xf0);
	return true;
}

/* encoded commands decode back through the parser */
static bool t_encode_decode(void)
{
	struct rfc2217 c;
	uint8_t out[64];
	uint32_t b, v, got;
	size_t n;

	setup(&c, true);
	for (b = 0; b < 2000; b++) {
		v = b * 2654435761u;
		v |= b % 3 ? 0xff00u : 0;
		n = rfc2217_set_baud(out, sizeof(out), v);
		CHECK(n);
		out[3] += RFC2217_SERVER_OFFSET;	/* as a server reply */
		rec.ncp = 0;
		feed(&c, out, n);
		CHECK(rec.ncp == 1 && rec.cp[0].cmd == 101);
		CHECK(rfc2217_val_u32(rec.cp[0].val, rec.cp[0].n, &got));
		CHECK(got == v);
	}
	CHECK(rec.errors == 0 && rec.ndata == 0);
	return true;
}

static bool t_cmd_names(void)
{
	CHECK(!strcmp(rfc2217_cmd_name(1), "SET-BAUDRATE"));
	CHECK(!strcmp(rfc2217_cmd_name(107), "NOTIFY-MODEMSTATE"));
	CHECK(!strcmp(rfc2217_cmd_name(12), "PURGE-DATA"));
	CHECK(!strcmp(rfc2217_cmd_name(112), "PURGE-DATA"));
	CHECK(!strcmp(rfc2217_cmd_name(13), "UNKNOWN"));
	CHECK(!strcmp(rfc2217_cmd_name(99), "UNKNOWN"));
	CHECK(!strcmp(rfc2217_cmd_name(255), "UNKNOWN"));
	return true;
}

static bool t_fuzz(void)
{
	static const uint8_t hot[] = { TN_IAC, TN_SB, TN_SE, TN_WILL, TN_WONT,
				       TN_DO, TN_DONT, 44, 0, 3, 107 };
	static uint8_t buf[256];
	struct rfc2217 c;
	size_t n, i;
	long k;

	setup(&c, true);
	for (k = 0; k < 100000; k++) {
		n = rnd() % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = rnd() % 4 ? hot[rnd() % sizeof(hot)] :
					     (uint8_t)rnd();
		rec.ndata = 0;
		rec.nreply = 0;
		rec.ncp = 0;
		feed(&c, buf, n);
		CHECK(c.sb_len <= RFC2217_SB_MAX);
		CHECK(rec.ndata <= n && rec.nreply % 3 == 0);
		if (k % 1000 == 0)
			rfc2217_init(&c, &rec_ops, &rec);
	}
	CHECK(!rec.overflow);
	/* the codec still works afterwards */
	setup(&c, true);
	FEED(&c, 'o', 'k');
	CHECK(rec.ndata == 2);
	return true;
}

/* ---- runner ---- */

static const struct unit_test tests[] = {
	{ "escape every byte value", t_escape_all_bytes },
	{ "escape runs of 0xFF", t_escape_ff_runs },
	{ "escape into every small out size", t_escape_small_out },
	{ "CR LF NUL pass through both ways", t_binary_transparent },
	{ "decode round trip split at every boundary",
	  t_decode_roundtrip_split },
	{ "comport SB with 0xFF value split anywhere",
	  t_comport_modemstate_split },
	{ "data delivered before following command", t_callback_order },
	{ "opening negotiation bytes", t_start_bytes },
	{ "server DO 44 -> negotiated once", t_negotiate_do44 },
	{ "unknown options refused", t_negotiate_unknown },
	{ "acks and repeats do not loop", t_negotiate_no_loop },
	{ "ser2net connect sequence", t_negotiate_ser2net },
	{ "PortManager connect sequence", t_negotiate_portmanager },
	{ "COM-PORT refused / withdrawn", t_negotiate_refused },
	{ "other telnet commands swallowed", t_swallowed_commands },
	{ "non-44 SB ignored, empty 44 SB error", t_other_sb_ignored },
	{ "garbage inside SB", t_sb_garbage },
	{ "oversized SB: one error, bounded, recovers", t_oversized_sb },
	{ "endless SB: one error, recovers", t_endless_sb },
	{ "saw_telnet only on commands", t_saw_telnet },
	{ "encoders exact bytes", t_encoders },
	{ "encoded commands parse back", t_encode_decode },
	{ "command names", t_cmd_names },
	{ "fuzz 1e5 random chunks", t_fuzz },
};

UNIT_MAIN(tests)
