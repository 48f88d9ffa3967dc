// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: the sessions of one port.
 *
 * OPEN: the bytes a new session must say first (telnet negotiation, the
 * notification masks, every setting as of where the session starts) go
 * into the output queue at once; TX and SET that follow are appended as
 * they come, whether or not the connection is up yet. Once connected, the
 * queue drains to the socket, and what the server's TCP acknowledged is
 * confirmed to the kernel (CONFIRM).
 *
 * A new connection is not "up" until the server proves it serves: it
 * answers a COM-PORT command, or sends data that cannot be the start of a
 * refusal ("Port already in use", see refusal.c), or a short time passes.
 * A refusal becomes the errno the kernel's open() fails with, never data.
 *
 * When anything fails, the session ends: the last confirmation, then LINK
 * down. The kernel starts the next session (or hangs the tty up) and sends
 * again what was not confirmed; nothing here needs to be kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "refusal.h"
#include "session.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define SETUP_TELNET_MS		1000	/* no COM-PORT answer: up anyway */
#define SETUP_RAW_MS		150	/* long enough for a refusal text */
#define STABLE_MS		2000	/* up this long: not a flapping server */
#define ACK_POLL_MS		100	/* if no ACK notification came */
#define KERNEL_RETRY_MS		10

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line about this port, within its log budget. */
static void __attribute__((format(printf, 2, 3)))
plog(struct port *p, const char *fmt, ...)
{
	char line[400];
	uint64_t held;
	va_list ap;

	if (!log_allow(&p->rl, now_ms(),
		       &p->stats[TTYRFC_STAT_LOG_SUPPRESSED], &held))
		return;
	if (held)
		log_msg("ttyRFC%u: %s: (%" PRIu64 " lines held back)",
			p->index, p->remote, held);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg("ttyRFC%u: %s: %s", p->index, p->remote, line);
}

static bool is_raw(const struct port *p)
{
	return p->flags & TTYRFC_F_RAW;
}

static bool connected(const struct port *p)
{
	return (p->state == PS_SETUP || p->state == PS_UP) && p->conn.fd >= 0;
}

static void stale(struct port *p)
{
	p->stats[TTYRFC_STAT_HELPER_STALE]++;
	p->stats_due = true;
}

/* ------------------------------------------------------------ to the kernel */

static bool retryable(int err)
{
	return err == -EAGAIN || err == -ENOBUFS || err == -ENOMEM ||
	       err == -EINTR;
}

/* Up to @upto bytes of received data, within the kernel's credit. */
static int send_rx(struct port *p, size_t upto)
{
	int ret;

	while (upto && p->state == PS_UP) {
		uint64_t credit = p->rx_limit > p->rx_pos ?
				  p->rx_limit - p->rx_pos : 0;
		size_t n = upto;

		if (n > credit)
			n = credit;
		if (n > TTYRFC_MAX_DATA)
			n = TTYRFC_MAX_DATA;
		if (!n)
			break;		/* RX_LIMIT will come */
		ret = env->rx(p, p->rx_pos, p->rx, n);
		if (ret)
			return ret;
		p->rx_pos += n;
		p->rx_len -= n;
		memmove(p->rx, p->rx + n, p->rx_len);
		p->rx_mark -= n < p->rx_mark ? n : p->rx_mark;
		upto -= n;
	}
	return 0;
}

/*
 * Send what is due, in an order the kernel can rely on: LINK up, data
 * and modem/line changes in the order they came, the confirmation, and
 * LINK down last, since it ends the session.
 */
static void kernel_flush(struct port *p)
{
	int ret = 0;

	/* after LINK down, anything more of this session would be stale */
	if (!p->sid || (p->state == PS_FAILED && !p->link_due))
		return;
	if (p->link_due && p->link_state == TTYRFC_LINK_UP) {
		ret = env->link(p, TTYRFC_LINK_UP, 0);
		if (ret)
			goto busy;
		p->link_due = false;
	}
	/* data that came before a modem/line change, the change, the rest */
	ret = send_rx(p, p->modem_due || p->line_events ? p->rx_mark :
							  p->rx_len);
	if (ret)
		goto busy;
	if (p->modem_due || p->line_events || p->server_due || p->stats_due) {
		if (p->rx_mark && p->state == PS_UP)
			return;		/* credit will come */
		ret = env->status(p);
		if (ret)
			goto busy;
		p->modem_due = p->server_due = p->stats_due = false;
		p->line_events = 0;
	}
	ret = send_rx(p, p->rx_len);
	if (ret)
		goto busy;
	/* after the data, which is what a reader is waiting for */
	if (p->confirm_due) {
		ret = env->confirm(p, p->q.conf_pos, p->q.conf_seq);
		if (ret)
			goto busy;
		p->confirm_due = false;
	}
	if (p->link_due && p->link_state == TTYRFC_LINK_DOWN) {
		ret = env->link(p, TTYRFC_LINK_DOWN, p->link_err);
		if (ret)
			goto busy;
		p->link_due = false;
	}
	p->kernel_busy = false;
	return;
busy:
	if (retryable(ret)) {
		p->kernel_busy = true;
		p->kernel_retry_at = now_ms() + KERNEL_RETRY_MS;
	} else {
		plog(p, "cannot reach the kernel module: %s", strerror(-ret));
	}
}

/* ------------------------------------------------------------ ending */

static int64_t backoff(unsigned int failures)
{
	unsigned int shift = failures ? failures - 1 : 0;
	int64_t delay;

	if (shift > 6)
		shift = 6;
	delay = (int64_t)BACKOFF_MIN_MS << shift;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* jitter: 50-100% of the delay, so many VMs do not retry in step */
	return delay / 2 + rand() % (delay / 2 + 1);
}

/* What the server's TCP acknowledged, as a confirmation due. */
static void ack_check(struct port *p)
{
	int64_t acked = conn_acked(&p->conn);

	if (acked < 0)
		return;
	if (outq_acked(&p->q, acked))
		p->confirm_due = true;
	/* safety net for ACK notifications lost to a full receive buffer */
	if ((uint64_t)acked < p->q.wire_out) {
		if (!p->ack_poll_at)
			p->ack_poll_at = now_ms() + ACK_POLL_MS;
	} else {
		p->ack_poll_at = 0;
	}
}

static void session_reset(struct port *p)
{
	conn_reset(&p->conn);
	outq_reset(&p->q, p->q.conf_pos, p->q.conf_seq);
	p->rx_len = p->rx_mark = 0;
	p->want_out = false;
	p->ack_poll_at = 0;
	p->wake_at = 0;
}

/* The session failed: confirm what the server has, then LINK down. */
static void port_fail(struct port *p, int err, const char *why)
{
	bool was_up = p->state == PS_UP;
	int64_t now = now_ms();

	if (!p->sid || p->state == PS_FAILED || p->state == PS_IDLE)
		return;
	if (p->state == PS_WAIT && p->wake_at > now) {
		/* not before the backoff ends: no storm of sessions */
		p->fail_err = err;
		return;
	}
	if (p->conn.fd >= 0)
		ack_check(p);
	if (was_up)
		plog(p, "disconnected: %s", why ? why : strerror(err));
	else if (!p->failures || why)
		plog(p, "cannot connect: %s", why ? why : strerror(err));
	session_reset(p);
	if (was_up && now - p->up_at >= STABLE_MS)
		p->failures = 1;
	else
		p->failures++;
	p->state = PS_FAILED;
	p->link_due = true;
	p->link_state = TTYRFC_LINK_DOWN;
	p->link_err = err ? err : ECONNRESET;
	kernel_flush(p);
}

/* ------------------------------------------------------------ codec */

static void on_data(void *ctx, const uint8_t *d, size_t n)
{
	struct port *p = ctx;

	/* decoding never grows data, and reads fit what is free */
	memcpy(p->rx + p->rx_len, d, n);
	p->rx_len += n;
}

static void on_reply(void *ctx, const uint8_t *d, size_t n)
{
	struct port *p = ctx;

	if (outq_put(&p->q, d, n, p->q.pos, p->q.seq))
		port_fail(p, ENOMEM, "out of memory");
	p->dirty = true;
}

static const char *setting_name(uint32_t which)
{
	switch (which) {
	case LS_BAUD:
		return "baud rate";
	case LS_DATA_BITS:
		return "data bits";
	case LS_PARITY:
		return "parity";
	case LS_STOP_BITS:
		return "stop bits";
	default:
		return "flow control";
	}
}

static uint32_t setting_value(const struct line_settings *s, uint32_t which)
{
	switch (which) {
	case LS_BAUD:
		return s->baud;
	case LS_DATA_BITS:
		return s->data_bits;
	case LS_PARITY:
		return s->parity;
	case LS_STOP_BITS:
		return s->stop_bits;
	default:
		return s->flow;
	}
}

static int field(uint32_t which)
{
	return which == LS_BAUD ? 0 : which == LS_DATA_BITS ? 1 :
	       which == LS_PARITY ? 2 : which == LS_STOP_BITS ? 3 : 4;
}

/* A request sent: its answer is the next one for that setting. */
static void asked_push(struct port *p, const struct line_settings *s,
		       uint32_t mask)
{
	uint32_t which;

	if (is_raw(p))
		return;
	for (which = LS_BAUD; which <= LS_FLOW; which <<= 1) {
		struct asked *a = &p->asked[field(which)];

		if (!(mask & which))
			continue;
		if (a->n == 8) {	/* a server that never answers */
			a->head = (a->head + 1) % 8;
			a->n--;
		}
		a->v[(a->head + a->n++) % 8] = setting_value(s, which);
	}
}

/*
 * The server says what it applied: believe it, and say so when it is not
 * what was asked. An answer nobody waits for (ser2net tells every client
 * of a port about every change) is only taken note of.
 */
static void server_setting(struct port *p, uint8_t cmd, const uint8_t *val,
			   size_t n)
{
	uint32_t which = 0, got, want;
	struct asked *a;

	if (!cmd_server_setting(cmd, val, n, &p->server, &which))
		return;
	p->server_known |= which;
	p->server_due = true;
	a = &p->asked[field(which)];
	if (!a->n)
		return;
	want = a->v[a->head];
	a->head = (a->head + 1) % 8;
	a->n--;
	got = setting_value(&p->server, which);
	if (got != want && !(p->server_logged & which)) {
		p->server_logged |= which;
		plog(p, "server set %s %u, asked for %u", setting_name(which),
		     got, want);
	} else if (got == want) {
		p->server_logged &= ~which;
	}
}

static void on_comport(void *ctx, uint8_t cmd, const uint8_t *val, size_t n)
{
	struct port *p = ctx;
	bool notify;

	log_dbg("ttyRFC%u: < %s (%zu bytes)%s", p->index,
		rfc2217_cmd_name(cmd), n,
		cmd < RFC2217_SERVER_OFFSET ? " [not a server reply]" : "");
	if (cmd < RFC2217_SERVER_OFFSET)
		return;
	p->answered = true;	/* it serves: see setup_check() */
	notify = cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_MODEMSTATE ||
		 cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_LINESTATE;
	if (notify && n == 1) {
		/* one change at a time, each in its place among the data */
		if ((p->modem_due || p->line_events) && p->state == PS_UP)
			kernel_flush(p);
		if (!p->modem_due && !p->line_events)
			p->rx_mark = p->rx_len;
		if (cmd == RFC2217_SERVER_OFFSET + RFC2217_NOTIFY_MODEMSTATE) {
			p->modem = cmd_modem_lines(val[0]);
			p->modem_due = true;
		} else {
			p->line_events |= cmd_line_events(val[0]);
		}
		return;
	}
	server_setting(p, cmd, val, n);
}

static void on_negotiated(void *ctx)
{
	struct port *p = ctx;

	log_dbg("ttyRFC%u: server accepted COM-PORT-OPTION", p->index);
}

static void on_error(void *ctx, const char *what)
{
	struct port *p = ctx;

	p->stats[TTYRFC_STAT_PROTO_ERRORS]++;
	p->stats_due = true;
	plog(p, "protocol error: %s", what);
}

static const struct rfc2217_ops codec_ops = {
	.data = on_data,
	.reply = on_reply,
	.comport = on_comport,
	.negotiated = on_negotiated,
	.error = on_error,
};

/* ------------------------------------------------------------ connecting */

static void port_up(struct port *p)
{
	p->state = PS_UP;
	p->up_at = now_ms();
	p->wake_at = 0;
	if (p->kind != TTYRFC_OPEN_FIRST || p->failures)
		plog(p, "connected (%s)", p->conn.peer);
	p->link_due = true;
	p->link_state = TTYRFC_LINK_UP;
	p->dirty = true;
	if (env->up)
		env->up(p);
}

/*
 * Before the session is up, decide whether the server serves. A refusal
 * is plain text and then the end of the connection; anything that cannot
 * start one, or any COM-PORT answer, means it serves.
 */
static void setup_check(struct port *p)
{
	enum refusal_match m = REFUSAL_MAYBE;
	const char *text;
	int err;

	if (p->rx_len)
		m = refusal_check(p->rx, p->rx_len, &err, &text);
	if (m == REFUSAL_NO || (p->answered && m != REFUSAL_YES))
		port_up(p);
}

static void feed(struct port *p, const uint8_t *buf, size_t n)
{
	if (is_raw(p)) {
		memcpy(p->rx + p->rx_len, buf, n);
		p->rx_len += n;
	} else {
		rfc2217_input(&p->codec, buf, n);
	}
}

/* The connection ended during setup: was it a refusal? */
static void setup_eof(struct port *p, int err)
{
	uint8_t buf[PORT_HOLD_MAX];
	const char *text = NULL;
	char why[160];
	ssize_t n;
	int rerr;

	/* what it said before it went may still be unread */
	while (p->conn.fd >= 0 && p->rx_len < PORT_HOLD_MAX) {
		n = conn_recv(&p->conn, buf, PORT_HOLD_MAX - p->rx_len);
		if (n <= 0)
			break;
		feed(p, buf, n);
	}

	if (refusal_check(p->rx, p->rx_len, &rerr, &text) == REFUSAL_YES) {
		snprintf(why, sizeof(why), "the server refused: \"%s\"", text);
		port_fail(p, rerr, why);
		return;
	}
	/* the TLS layer's explanation comes with its errno (ENOKEY, ...) */
	if (conn_why(&p->conn)) {
		port_fail(p, conn_why_err(&p->conn) ? conn_why_err(&p->conn) :
			  err ? err : ECONNRESET, conn_why(&p->conn));
		return;
	}
	if (err) {
		port_fail(p, err, NULL);
		return;
	}
	/* a TLS accepter closes a plain client without a word */
	port_fail(p, ECONNRESET, p->flags & TTYRFC_F_TLS || p->rx_len ?
		  "the server closed the connection at once" :
		  "the server closed the connection at once (a TLS accepter, ssl(...)? then add the port as tls://HOST:PORT)");
}

static void on_connected(struct port *p)
{
	p->state = PS_SETUP;
	p->answered = false;
	p->want_in = true;	/* as conn registered it */
	p->want_out = false;
	p->stats[TTYRFC_STAT_CONNECTS]++;
	p->stats_due = true;
	p->wake_at = now_ms() + (is_raw(p) ? SETUP_RAW_MS : SETUP_TELNET_MS);
	p->dirty = true;
	log_dbg("ttyRFC%u: TCP connected to %s", p->index, p->conn.peer);
}

static void do_connect(struct port *p)
{
	p->state = PS_CONNECTING;
	if (conn_start(&p->conn, now_ms()) == CONN_FAILED)
		port_fail(p, p->conn.err, conn_why(&p->conn));
}

static void start_connect(struct port *p)
{
	int ret;

	p->state = PS_RESOLVING;
	/* TLS is checked against the name the server is reached by */
	p->conn.tls_cfg = p->flags & TTYRFC_F_TLS ? &p->tls : NULL;
	if (p->flags & TTYRFC_F_MDNS)
		ret = conn_resolve_mdns(&p->conn, p->host);
	else
		ret = conn_resolve(&p->conn, p->host, p->tcp_port);
	if (ret < 0)
		port_fail(p, -ret, NULL);
	else if (ret == 1)
		do_connect(p);
}

void port_resolved(struct port *p, struct resolve_result *r)
{
	int ret = conn_resolved(&p->conn, r);

	if (p->state != PS_RESOLVING || ret == 1)
		return;
	if (ret < 0) {
		char why[96];

		snprintf(why, sizeof(why), "cannot resolve the name: %s",
			 strerror(-ret));
		port_fail(p, -ret == EAGAIN ? EHOSTUNREACH : -ret,
			  conn_why(&p->conn) ? conn_why(&p->conn) : why);
		return;
	}
	do_connect(p);
}

/* ------------------------------------------------------------ kernel events */

struct port *port_new(uint32_t index)
{
	struct port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->index = index;
	conn_init(&p->conn, env->epfd, index);
	return p;
}

void port_free(struct port *p)
{
	conn_reset(&p->conn);
	outq_free(&p->q);
	free(p);
}

/* The session is over (CLOSE, or a new OPEN replacing it). */
static void session_end(struct port *p)
{
	uint64_t undelivered = p->q.pos - p->q.conf_pos;

	if (connected(p)) {
		env->linger(p);		/* delivers the tail, ends well */
	} else if (p->state != PS_FAILED && undelivered) {
		plog(p, "closed while not connected: %" PRIu64
		     " bytes not delivered", undelivered);
	}
	session_reset(p);
	p->sid = 0;
	p->state = PS_IDLE;
	p->link_due = p->modem_due = p->server_due = false;
	p->confirm_due = p->kernel_busy = false;
	p->line_events = 0;
}

void port_open(struct port *p, const struct open_args *a)
{
	uint8_t pre[2 * CMD_MAX_LEN];
	int64_t delay = 0;
	size_t n;

	if (p->sid)
		session_end(p);
	snprintf(p->host, sizeof(p->host), "%s", a->host);
	p->tcp_port = a->tcp_port;
	p->flags = a->flags;
	if (a->tls)
		p->tls = *a->tls;
	else
		memset(&p->tls, 0, sizeof(p->tls));
	if (p->flags & TTYRFC_F_MDNS)
		snprintf(p->remote, sizeof(p->remote), "mdns://%s", p->host);
	else if (strchr(p->host, ':'))
		snprintf(p->remote, sizeof(p->remote), "[%s]:%u", p->host,
			 p->tcp_port);
	else
		snprintf(p->remote, sizeof(p->remote), "%s:%u", p->host,
			 p->tcp_port);
	p->sid = a->sid;
	p->kind = a->kind;
	p->fail_err = 0;
	p->tx_next = a->tx_pos;
	p->ctrl_next = a->ctrl_seq;
	outq_reset(&p->q, a->tx_pos, a->ctrl_seq);
	p->rx_pos = a->rx_pos;
	p->rx_limit = a->rx_limit;
	p->rx_len = p->rx_mark = 0;
	memset(p->asked, 0, sizeof(p->asked));
	p->server_known = p->server_logged = 0;
	p->modem = 0;
	p->stats_due = true;
	log_dbg("ttyRFC%u: session %u (%s) to %s", p->index, p->sid,
		a->kind == TTYRFC_OPEN_FIRST ? "open" :
		a->kind == TTYRFC_OPEN_RECONNECT ? "reconnect" : "replay",
		p->remote);

	if (!is_raw(p)) {
		rfc2217_init(&p->codec, &codec_ops, p);
		n = cmd_session_start(&p->codec, pre, sizeof(pre));
		asked_push(p, &a->s, LS_LINE);
		n += cmd_baseline(pre + n, sizeof(pre) - n, &a->s,
				  a->mctrl_known, a->kind != TTYRFC_OPEN_FIRST);
		if (outq_put(&p->q, pre, n, p->q.pos, p->q.seq)) {
			p->state = PS_WAIT;
			port_fail(p, ENOMEM, "out of memory");
			return;
		}
	}
	if (a->kind == TTYRFC_OPEN_RECONNECT)
		delay = backoff(p->failures);
	else
		p->failures = 0;
	p->state = PS_WAIT;
	p->wake_at = now_ms() + delay;
	/* the last connection to this port ends before a new one starts */
	if (!delay && !env->lingering(p->index))
		start_connect(p);
}

void port_close(struct port *p, uint32_t sid)
{
	if (!sid || sid != p->sid) {
		stale(p);
		return;
	}
	log_dbg("ttyRFC%u: close session %u", p->index, sid);
	session_end(p);
	p->failures = 0;
}

static bool session_open(struct port *p, uint32_t sid)
{
	if (sid && sid == p->sid && p->state != PS_FAILED &&
	    p->state != PS_IDLE)
		return true;
	stale(p);
	return false;
}

void port_tx(struct port *p, uint32_t sid, uint64_t pos, const uint8_t *d,
	     size_t n)
{
	size_t used = 0;
	uint8_t *o;

	if (!session_open(p, sid))
		return;
	if (pos != p->tx_next) {
		plog(p, "kernel sent data at %" PRIu64 ", expected %" PRIu64,
		     pos, p->tx_next);
		port_fail(p, EPROTO, "stream out of step with the kernel");
		return;
	}
	o = outq_reserve(&p->q, is_raw(p) ? n : 2 * n);
	if (!o) {
		port_fail(p, ENOMEM, "out of memory");
		return;
	}
	if (is_raw(p)) {
		memcpy(o, d, n);
		outq_commit(&p->q, n, pos + n, p->q.seq);
	} else {
		size_t len = rfc2217_escape(d, n, o, 2 * n, &used);

		outq_commit(&p->q, len, pos + n, p->q.seq);
	}
	p->tx_next += n;
	p->dirty = true;
}

void port_set(struct port *p, uint32_t sid, const struct change *c)
{
	uint8_t b[CMD_MAX_LEN];
	size_t n = 0;

	if (!session_open(p, sid))
		return;
	if (c->pos != p->tx_next || c->seq != p->ctrl_next) {
		plog(p, "kernel sent change %" PRIu64 " at %" PRIu64
		     ", expected %" PRIu64 " at %" PRIu64, c->seq, c->pos,
		     p->ctrl_next, p->tx_next);
		port_fail(p, EPROTO, "stream out of step with the kernel");
		return;
	}
	if (!is_raw(p))
		n = cmd_change(b, sizeof(b), &c->s, c->mask, c->mctrl_mask,
			       c->purge);
	if (log_verbose && n)
		log_msg("ttyRFC%u: > change %" PRIu64 " (%zu bytes)", p->index,
			c->seq, n);
	/* even with nothing to say (raw), the change is confirmed in order */
	if (outq_put(&p->q, b, n, c->pos, c->seq + 1)) {
		port_fail(p, ENOMEM, "out of memory");
		return;
	}
	p->ctrl_next++;
	asked_push(p, &c->s, c->mask & LS_LINE);
	p->dirty = true;
}

void port_rx_limit(struct port *p, uint32_t sid, uint64_t limit)
{
	if (!session_open(p, sid))
		return;
	if (limit > p->rx_limit)
		p->rx_limit = limit;
	p->dirty = true;	/* port_flush() reads and passes up again */
}

/* ------------------------------------------------------------ the socket */

/* How much may be read now without outrunning the kernel's credit. */
static size_t rx_room(const struct port *p)
{
	uint64_t credit;
	size_t room = PORT_RX_BUF - p->rx_len;

	if (p->state == PS_SETUP)
		return p->rx_len < PORT_HOLD_MAX ? PORT_HOLD_MAX - p->rx_len : 0;
	if (p->state != PS_UP || p->kernel_busy)
		return 0;
	credit = p->rx_limit > p->rx_pos + p->rx_len ?
		 p->rx_limit - p->rx_pos - p->rx_len : 0;
	return credit < room ? credit : room;
}

static void sock_read(struct port *p)
{
	uint8_t buf[16384];
	size_t room = rx_room(p);
	ssize_t n;

	if (!room)
		return;
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = conn_recv(&p->conn, buf, room);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (p->state == PS_SETUP)
			setup_eof(p, errno);
		else
			port_fail(p, errno, conn_why(&p->conn));
		return;
	}
	if (n == 0) {
		if (p->state == PS_SETUP)
			setup_eof(p, 0);
		else if (p->conn.received || p->flags & TTYRFC_F_TLS)
			port_fail(p, ECONNRESET, "closed by the server");
		else	/* up by the 1 s rule; a slow TLS accepter, then */
			port_fail(p, ECONNRESET, "closed by the server, which never sent a byte (a TLS accepter, ssl(...)? then add the port as tls://HOST:PORT)");
		return;
	}
	feed(p, buf, n);
	if (p->state == PS_SETUP)
		setup_check(p);
}

static void sock_write(struct port *p)
{
	uint64_t before = p->q.wire_out;

	while (p->q.len) {
		ssize_t n = conn_send(&p->conn, outq_data(&p->q), p->q.len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && p->state == PS_SETUP)
				setup_eof(p, errno);
			else if (errno != EAGAIN)
				port_fail(p, errno, conn_why(&p->conn));
			break;
		}
		outq_sent(&p->q, n);
	}
	/*
	 * The ACK's timestamp on the error queue says when to look at what
	 * the server has (one SIOCOUTQ per ACK, not per send); the poll is
	 * for a timestamp lost to a full buffer.
	 */
	if (connected(p) && p->q.wire_out != before && !p->ack_poll_at)
		p->ack_poll_at = now_ms() + ACK_POLL_MS;
}

void port_sock_event(struct port *p, unsigned int slot, uint32_t gen,
		     uint32_t events)
{
	int err;

	if (slot != TOK_SLOT_SOCK) {
		if (p->state != PS_CONNECTING)
			return;
		switch (conn_attempt_ready(&p->conn, slot, gen, now_ms())) {
		case CONN_UP:
			on_connected(p);
			break;
		case CONN_FAILED:
			port_fail(p, p->conn.err, conn_why(&p->conn));
			return;
		case CONN_PENDING:
			return;
		}
	} else {
		if (gen != p->conn.gen || !connected(p))
			return;		/* for a socket gone since */
		if (events & EPOLLERR) {
			err = conn_drain_errors(&p->conn);
			if (err) {
				if (p->state == PS_SETUP)
					setup_eof(p, err);
				else
					port_fail(p, err, NULL);
				return;
			}
			ack_check(p);
		}
		if (events & (EPOLLIN | EPOLLHUP))
			sock_read(p);
	}
	port_flush(p);
}

void port_flush(struct port *p)
{
	bool in;

	p->dirty = false;
	if (connected(p))
		sock_write(p);
	kernel_flush(p);
	/* data the kernel took made room: read on */
	if (!connected(p))
		return;
	/* TLS holds decrypted bytes that no epoll event will announce */
	while (connected(p) && rx_room(p) && conn_pending(&p->conn)) {
		sock_read(p);
		kernel_flush(p);
	}
	if (!connected(p))
		return;
	in = rx_room(p) > 0;
	if (in != p->want_in || (p->q.len > 0) != p->want_out) {
		p->want_out = p->q.len > 0;
		p->want_in = in;
		conn_watch(&p->conn, in, p->want_out);
	}
}

void port_timer(struct port *p, int64_t now)
{
	switch (p->state) {
	case PS_WAIT:
		if (now >= p->wake_at && p->fail_err)
			port_fail(p, p->fail_err, NULL);
		else if (now >= p->wake_at && !env->lingering(p->index))
			start_connect(p);
		break;
	case PS_CONNECTING:
		if (conn_timer(&p->conn, now) == CONN_FAILED)
			port_fail(p, p->conn.err, conn_why(&p->conn));
		break;
	case PS_SETUP:
		if (p->wake_at && now >= p->wake_at) {
			if (!is_raw(p) && !p->codec.saw_telnet)
				plog(p, "sent no telnet negotiation within 1 s: is the server's accepter missing telnet(rfc2217), or is it busy with another client? (ser2net: accepter: telnet(rfc2217),tcp,PORT; or add the port in raw mode)");
			port_up(p);
		}
		break;
	case PS_UP:
		if (p->ack_poll_at && now >= p->ack_poll_at) {
			p->ack_poll_at = 0;
			ack_check(p);
		}
		break;
	default:
		break;
	}
	if (p->kernel_busy && now >= p->kernel_retry_at)
		kernel_flush(p);
	port_flush(p);
}

static int64_t earliest(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

int64_t port_next_timer(const struct port *p)
{
	int64_t t = 0;

	if (p->state == PS_WAIT || p->state == PS_SETUP)
		t = p->wake_at;
	if (p->state == PS_CONNECTING)
		t = conn_next_timer(&p->conn);
	if (p->state == PS_UP)
		t = p->ack_poll_at;
	if (p->kernel_busy)
		t = earliest(t, p->kernel_retry_at);
	return t;
}

void port_linger_done(struct port *p)
{
	if (p->state == PS_WAIT && now_ms() >= p->wake_at)
		start_connect(p);
}
