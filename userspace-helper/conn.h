/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One TCP connection to a server: name resolution off the event loop (DNS,
 * or an mDNS service), every address tried in order with staggered
 * attempts (happy eyeballs), socket tuning, TLS if the port wants it, and
 * how much of what was sent the peer acknowledged.
 *
 * Everything above speaks plaintext: conn_send() and conn_recv() are
 * send() and recv(), through TLS or not, and conn_acked() counts the
 * plaintext bytes whose ciphertext the peer's TCP acknowledged.
 */
#ifndef TTYRFC_CONN_H
#define TTYRFC_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "tls.h"

#define CONN_ADDRS		8	/* addresses kept per name */
#define CONN_ATTEMPTS		4	/* connects in flight at once */
#define CONN_STAGGER_MS		250	/* next address if no answer by then */
#define CONN_TIMEOUT_MS		5000	/* all addresses together */
#define CONN_TLS_TIMEOUT_MS	10000	/* the TLS handshake, after that */
#define CONN_WHY_MAX		TLS_WHY_MAX

/*
 * epoll tokens: what a ready fd is, without pointers that could be stale.
 * kind | index (port or linger slot) | slot (attempt, or the socket) | gen
 */
enum tok_kind { TOK_NONE, TOK_SOCK, TOK_KERNEL, TOK_SIGNAL, TOK_RESOLVER,
		TOK_LINGER };
#define TOK_SLOT_SOCK	0xff
static inline uint64_t tok(unsigned int kind, unsigned int index,
			   unsigned int slot, uint32_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(index & 0xffff) << 40 |
	       (uint64_t)(slot & 0xff) << 32 | gen;
}
#define TOK_KIND(t)	((unsigned int)((t) >> 56))
#define TOK_INDEX(t)	((unsigned int)((t) >> 40) & 0xffff)
#define TOK_SLOT(t)	((unsigned int)((t) >> 32) & 0xff)
#define TOK_GEN(t)	((uint32_t)(t))

/* A fresh generation for an fd's token; never 0. */
uint32_t conn_gen(void);

struct conn_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct conn {
	int epfd;
	unsigned int index;		/* port index, for tokens */
	/* the connected socket */
	int fd;
	uint32_t gen;
	uint64_t sent;			/* (plaintext) bytes the socket took */
	char peer[64];			/* its address, as text */
	/* TLS: set by the owner before connecting; the session once up */
	const struct tls_config *tls_cfg;
	struct tls *tls;
	int hs_slot;			/* attempt doing its handshake, or -1 */
	struct tls *hs;
	char name[256];			/* the host it was reached by */
	char why[CONN_WHY_MAX];		/* the last failure, explained */
	int why_err;			/* ... and its errno */
	uint64_t received;		/* bytes conn_recv() returned */
	/* getting there */
	struct conn_addr addr[CONN_ADDRS];
	int naddr, next;
	struct {
		int fd;
		uint32_t gen;
		int addr;
	} att[CONN_ATTEMPTS];
	int err;			/* first failure, to report */
	int64_t deadline, stagger_at;	/* ms */
	uint32_t resolving;		/* id of the lookup we wait for */
};

void conn_init(struct conn *c, int epfd, unsigned int index);
/* Close every socket, forget the addresses. */
void conn_reset(struct conn *c);

/*
 * Look @host up. Returns 1 when the addresses are known already (numeric
 * host), 0 when a lookup thread will answer (conn_resolved() with the
 * result read from resolver_fd()), or -errno.
 */
int conn_resolve(struct conn *c, const char *host, uint16_t port);
/* Look the mDNS service @name up (always a thread): 0 or -errno. */
int conn_resolve_mdns(struct conn *c, const char *name);
int resolver_fd(void);
struct resolve_result;
/* The next finished lookup, or NULL; its port index and id are in it. */
struct resolve_result *resolver_read(void);
unsigned int resolve_result_index(const struct resolve_result *r);
/* 0 if @r answered @c's lookup (addresses kept), -errno if it failed
 * (c->why may say why), 1 if it was for an older lookup. Frees @r. */
int conn_resolved(struct conn *c, struct resolve_result *r);

enum conn_state { CONN_PENDING, CONN_UP, CONN_FAILED };

/*
 * Start connecting to the addresses; CONN_FAILED with c->err (and c->why,
 * if there is more to say) if none. With c->tls_cfg the connection is up
 * once the TLS handshake is done.
 */
enum conn_state conn_start(struct conn *c, int64_t now);
/* An attempt's fd is ready (token slot @slot, generation @gen). */
enum conn_state conn_attempt_ready(struct conn *c, unsigned int slot,
				   uint32_t gen, int64_t now);
/* Staggering and the overall timeout. */
enum conn_state conn_timer(struct conn *c, int64_t now);
/* The earliest time conn_timer() wants to run, or 0. */
int64_t conn_next_timer(const struct conn *c);

/* Once up: watch for input (@in), room (@out) and errors (always). */
void conn_watch(struct conn *c, bool in, bool out);
/*
 * send() and recv() of plaintext, non-blocking: bytes, 0 (recv: end of
 * file) or -1 with errno; conn_why() may explain a failure.
 */
ssize_t conn_send(struct conn *c, const void *buf, size_t n);
ssize_t conn_recv(struct conn *c, void *buf, size_t n);
/* Received bytes wait inside TLS: no epoll event will say so. */
bool conn_pending(const struct conn *c);
/* The explanation of the last failure, or NULL; conn_why_err() its errno. */
const char *conn_why(const struct conn *c);
int conn_why_err(const struct conn *c);
/* Bytes of c->sent the peer's TCP has acknowledged; -errno on failure. */
int64_t conn_acked(struct conn *c);
/* Bytes the socket holds that the peer has not acknowledged yet. */
int conn_unacked(const struct conn *c);
/* Throw away ACK notifications; the pending socket error, if any. */
int conn_drain_errors(struct conn *c);
/* End our side: TLS close_notify, then FIN. 1 done, 0 again, -1 errno. */
int conn_shutdown(struct conn *c);

/* Move the connection to @to (for a graceful end elsewhere); @from is reset. */
void conn_move(struct conn *to, struct conn *from);

/* key=value lines for ttyrfcctl show: peer, name, TLS parameters. */
void conn_describe(const struct conn *c, char *buf, size_t len);

#endif
