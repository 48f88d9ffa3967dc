// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: the userspace half of ttyrfc.
 *
 * One process, one epoll loop: the netlink socket to the kernel module,
 * one TCP socket per connected /dev/ttyRFC<n>, connections ending well,
 * and the pipe name lookups answer on. The kernel says what the tty does
 * (kernel.c); each port's session turns that into RFC 2217 for its server
 * and hands back what the server sends (session.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "linger.h"
#include "runinfo.h"

static int epfd;

static void add_fd(int fd, unsigned int kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tok(kind, 0, 0, 0) };

	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void on_linger_done(unsigned int index)
{
	struct port *p = kernel_port(index);

	if (p)
		port_linger_done(p);
}

static void on_resolved(void)
{
	struct resolve_result *r;

	while ((r = resolver_read())) {
		struct port *p = kernel_port(resolve_result_index(r));

		if (p)
			port_resolved(p, r);
		else
			free(r);
	}
}

/* Run what is due; how long epoll may sleep. */
static int timers(void)
{
	int64_t now = now_ms(), next, t;
	unsigned int i;

	linger_timer(now);
	next = linger_next_timer();
	t = kernel_timer(now);
	if (t && (!next || t < next))
		next = t;
	for (i = 0; i < PORTS_LIMIT; i++) {
		struct port *p = kernel_port(i);

		if (!p)
			continue;
		t = port_next_timer(p);
		if (t && t <= now) {
			port_timer(p, now);
			t = port_next_timer(p);
		}
		if (t && (!next || t < next))
			next = t;
	}
	if (!next)
		return -1;
	now = now_ms();
	return next > now ? (int)(next - now) : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ttyrfcd [-v] [-h]\n"
		   "  Serves /dev/ttyRFC* ports of the ttyrfc kernel module.\n"
		   "  -v  log wire traces (RFC 2217 commands)\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct epoll_event ev[64];
	sigset_t mask;
	int sfd, i, n, c;

	while ((c = getopt(argc, argv, "vh")) != -1) {
		switch (c) {
		case 'v':
			log_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	srand(time(NULL) ^ getpid());
	sigaction(SIGPIPE, &sa, NULL);
	linger_done = on_linger_done;
	runinfo_init();

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || resolver_fd() < 0) {
		log_msg("cannot start: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	add_fd(sfd, TOK_SIGNAL);
	add_fd(resolver_fd(), TOK_RESOLVER);
	if (kernel_open(epfd))
		return 1;
	add_fd(kernel_fd(), TOK_KERNEL);
	/* events that came with the HELLO answer */
	if (kernel_read())
		return 1;

	for (;;) {
		n = epoll_wait(epfd, ev, 64, timers());
		if (n < 0 && errno != EINTR) {
			log_msg("epoll: %s", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t t = ev[i].data.u64;
			struct port *p;

			switch (TOK_KIND(t)) {
			case TOK_SIGNAL:
				log_msg("exiting on signal");
				linger_flush_all();
				kernel_close();
				return 0;
			case TOK_KERNEL:
				if (kernel_read())
					return 1;
				break;
			case TOK_RESOLVER:
				on_resolved();
				break;
			case TOK_LINGER:
				linger_event(TOK_INDEX(t), TOK_GEN(t),
					     ev[i].events);
				break;
			case TOK_SOCK:
				/* by index and generation: never a stale port */
				p = kernel_port(TOK_INDEX(t));
				if (p)
					port_sock_event(p, TOK_SLOT(t),
							TOK_GEN(t),
							ev[i].events);
				break;
			}
		}
	}
}
