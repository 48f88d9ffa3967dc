// SPDX-License-Identifier: GPL-2.0
/* ttyrfcd: connections ending well; see linger.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "linger.h"

#define LINGERS		256
#define LINGER_EOF_MS	500	/* after everything is acknowledged */
#define LINGER_END_MS	60000	/* however slowly it goes */

struct lingering {
	bool used;
	int fd;
	uint32_t gen;
	unsigned int index;	/* the port it belonged to */
	struct outq q;
	bool shut;		/* our FIN is out */
	bool eof;		/* and the server's came */
	int64_t deadline;	/* give up if no progress by then */
	int64_t end;		/* and in any case */
	uint64_t left;		/* unacknowledged, when last looked */
	char what[300];		/* "ttyRFC0: host:port" for the log */
};

static struct lingering lingers[LINGERS];
static int epfd = -1;

void (*linger_done)(unsigned int index);

static void watch(struct lingering *l, int op)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (l->q.len ? EPOLLOUT : 0),
		.data.u64 = tok(TOK_LINGER, l - lingers, 0, l->gen),
	};

	epoll_ctl(epfd, op, l->fd, &ev);
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
	int outq = 0;

	/* read what is there: a close with unread input sends a RST */
	while (recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	if (why && (ioctl(l->fd, SIOCOUTQ, &outq) < 0 || outq || l->q.len))
		log_msg("%s: %s; %u bytes were not acknowledged", l->what, why,
			outq + (unsigned int)l->q.len);
	epoll_ctl(epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
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
		ssize_t n = send(l->fd, outq_data(&l->q), l->q.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

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
		shutdown(l->fd, SHUT_WR);
		l->shut = true;
	}
	for (;;) {
		ssize_t n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT);

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
	if (ioctl(l->fd, SIOCOUTQ, &outq) < 0)
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
	uint32_t gen;
	int i;

	for (i = 0; i < LINGERS && !l; i++)
		if (!lingers[i].used)
			l = &lingers[i];
	epfd = env->epfd;
	if (!l) {
		/* more ends in flight than slots: end this one at once */
		int fd = conn_take(&p->conn, &gen);

		if (fd >= 0)
			close(fd);
		return;
	}
	memset(l, 0, sizeof(*l));
	l->fd = conn_take(&p->conn, &gen);
	if (l->fd < 0)
		return;
	l->used = true;
	l->gen = gen;
	l->index = p->index;
	l->q = p->q;			/* the tail goes with it */
	memset(&p->q, 0, sizeof(p->q));
	l->deadline = now_ms() + LINGER_MAX_MS;
	l->end = now_ms() + LINGER_END_MS;
	l->left = UINT64_MAX;
	snprintf(l->what, sizeof(l->what), "ttyRFC%u: %s:%u", p->index,
		 p->host, p->tcp_port);
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
