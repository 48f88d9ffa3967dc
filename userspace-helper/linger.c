// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: connections ending well; see linger.h. A lingering connection
 * keeps its struct conn, so a TLS one sends the rest through TLS and ends
 * with close_notify before its FIN.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "linger.h"

#define LINGERS		256
#define LINGER_EOF_MS	500	/* after everything is acknowledged */
#define LINGER_END_MS	60000	/* however slowly it goes */

struct lingering {
	bool used;
	struct conn c;		/* the connection, moved from the port */
	uint32_t gen;
	unsigned int index;	/* the port it belonged to */
	struct outq q;
	bool shut;		/* our FIN is out */
	bool shut_out;		/* ... once the socket has room */
	bool eof;		/* and the server's came */
	int64_t deadline;	/* give up if no progress by then */
	int64_t end;		/* and in any case */
	uint64_t left;		/* unacknowledged, when last looked */
	char what[320];		/* "ttyRFC0: host:port" for the log */
};

static struct lingering lingers[LINGERS];
static int epfd = -1;

void (*linger_done)(unsigned int index);

static void watch(struct lingering *l, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (l->q.len || l->shut_out ? EPOLLOUT : 0),
		.data.u64 = tok(TOK_LINGER, l - lingers, 0, l->gen),
	};

	epoll_ctl(epfd, op, l->c.fd, &ev);
}

bool linger_active(unsigned int index)
{
	int i;

	for (i = 0; i < LINGERS; i++)
		if (lingers[i].used && lingers[i].index == index)
			return true;
	return false;
}

static void finish(struct lingering *l, const char *why)
{
	char buf[4096];
	int outq;

	/* read what is there: a close with unread input sends a RST */
	while (conn_recv(&l->c, buf, sizeof(buf)) > 0)
		;
	outq = conn_unacked(&l->c);
	if (why && (outq || l->q.len))
		log_msg("%s: %s; %u bytes were not acknowledged", l->what, why,
			(outq > 0 ? outq : 0) + (unsigned int)l->q.len);
	conn_reset(&l->c);	/* closes the socket */
	outq_free(&l->q);
	l->used = false;
	if (!linger_active(l->index) && linger_done)
		linger_done(l->index);
}

/* Send, shut down, read: whatever is due now. */
static void progress(struct lingering *l)
{
	char buf[4096];
	int outq;

	while (l->q.len) {
		ssize_t n = conn_send(&l->c, outq_data(&l->q), l->q.len);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (errno != EINTR) {
				finish(l, strerror(errno));
				return;
			}
			continue;
		}
		outq_sent(&l->q, n);
	}
	if (!l->q.len && !l->shut) {
		int ret = conn_shutdown(&l->c);

		l->shut_out = ret == 0;		/* TLS: again when writable */
		l->shut = ret != 0;
	}
	for (;;) {
		ssize_t n = conn_recv(&l->c, buf, sizeof(buf));

		if (n > 0)
			continue;	/* the session is over: nobody reads it */
		if (n == 0)
			l->eof = true;
		else if (errno != EAGAIN && errno != EINTR) {
			finish(l, strerror(errno));
			return;
		}
		break;
	}
	outq = conn_unacked(&l->c);
	if (outq < 0)
		outq = 0;
	/* a slow server still taking the tail: wait on, within reason */
	if ((uint64_t)outq + l->q.len < l->left) {
		l->left = outq + l->q.len;
		l->deadline = now_ms() + LINGER_MAX_MS;
		if (l->deadline > l->end)
			l->deadline = l->end;
	}
	if (l->shut && !outq) {
		/* everything acknowledged, and the server closed too: done */
		if (l->eof) {
			finish(l, NULL);
			return;
		}
		/* a server that does not close on our FIN: not for long */
		if (l->deadline > now_ms() + LINGER_EOF_MS)
			l->deadline = now_ms() + LINGER_EOF_MS;
	}
	watch(l, EPOLL_CTL_MOD);
}

void linger_start(struct port *p)
{
	struct lingering *l = NULL;
	int i;

	for (i = 0; i < LINGERS && !l; i++)
		if (!lingers[i].used)
			l = &lingers[i];
	epfd = env->epfd;
	if (!l) {
		/* more ends in flight than slots: end this one at once */
		conn_reset(&p->conn);
		return;
	}
	memset(l, 0, sizeof(*l));
	conn_move(&l->c, &p->conn);
	if (l->c.fd < 0)
		return;
	l->used = true;
	l->gen = l->c.gen;
	l->index = p->index;
	l->q = p->q;			/* the tail goes with it */
	memset(&p->q, 0, sizeof(p->q));
	l->deadline = now_ms() + LINGER_MAX_MS;
	l->end = now_ms() + LINGER_END_MS;
	l->left = UINT64_MAX;
	snprintf(l->what, sizeof(l->what), "ttyRFC%u: %s", p->index,
		 p->remote);
	watch(l, EPOLL_CTL_ADD);
	progress(l);
}

void linger_event(unsigned int id, uint32_t gen, uint32_t events)
{
	struct lingering *l;

	(void)events;
	if (id >= LINGERS)
		return;
	l = &lingers[id];
	if (l->used && l->gen == gen)
		progress(l);
}

void linger_timer(int64_t now)
{
	int i;

	for (i = 0; i < LINGERS; i++)
		if (lingers[i].used && now >= lingers[i].deadline)
			finish(&lingers[i], "the server did not close in time");
}

int64_t linger_next_timer(void)
{
	int64_t t = 0;
	int i;

	for (i = 0; i < LINGERS; i++)
		if (lingers[i].used && (!t || lingers[i].deadline < t))
			t = lingers[i].deadline;
	return t;
}

void linger_flush_all(void)
{
	int i;

	for (i = 0; i < LINGERS; i++)
		if (lingers[i].used)
			finish(&lingers[i], "ttyrfcd is exiting");
}
