/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS under the telnet layer of one connection (OpenSSL, non-blocking).
 *
 * The client verifies the server: its chain against the port's CA file
 * (or the system's CAs), its name against the port's server name (or the
 * host it was reached by). A client certificate is sent if the port has
 * one. Every connection makes a fresh context and a full handshake, so a
 * reconnect reads the files and verifies the server again.
 *
 * The session above counts plaintext ("wire") bytes; TCP acknowledges
 * ciphertext. After every SSL_write we note where the ciphertext of the
 * plaintext so far ended (BIO_number_written), so that what the peer's TCP
 * acknowledged can be answered in plaintext bytes.
 */
#ifndef TTYRFC_TLS_H
#define TTYRFC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_PATH_MAX	1024
#define TLS_NAME_MAX	256
#define TLS_WHY_MAX	320

/* From the kernel's TLS nest; empty strings are unset. */
struct tls_config {
	char ca[TLS_PATH_MAX];		/* CA file or directory (PEM) */
	char cert[TLS_PATH_MAX];	/* client certificate (chain, PEM) */
	char key[TLS_PATH_MAX];		/* its key (PEM), mode 0600 */
	char server_name[TLS_NAME_MAX];	/* the name to check, if not host */
};

/* What was negotiated and who the peer is, for ttyrfcctl show. */
struct tls_info {
	char protocol[16];		/* "TLSv1.3" */
	char cipher[64];
	char subject[256];		/* the peer's, one line */
	char issuer[256];
	char not_after[32];		/* "2027-01-31 12:00:00 UTC" */
	char name[TLS_NAME_MAX];	/* the name that was checked */
};

struct tls;

/*
 * A TLS client on the connected socket @fd. @host is the name the server
 * was reached by (checked unless cfg->server_name is set). NULL on
 * failure: *err is the errno for open(), @why says exactly why.
 */
struct tls *tls_new(int fd, const struct tls_config *cfg, const char *host,
		    int *err, char *why, size_t len);
void tls_free(struct tls *t);

/*
 * One step of the handshake: 1 done, 0 call again when the socket is
 * readable (or writable, if *want_out), -errno with @why on failure.
 */
int tls_handshake(struct tls *t, bool *want_out, char *why, size_t len);

/*
 * Like send() and recv() on a non-blocking socket: bytes, 0 (recv: the
 * server closed), or -1 with errno (EAGAIN: wait for the socket; for a
 * recv that needs to write, tls_wants_out() says so). A failure that has
 * an explanation leaves it in tls_why().
 */
ssize_t tls_send(struct tls *t, const void *buf, size_t n);
ssize_t tls_recv(struct tls *t, void *buf, size_t n);
/* Decrypted bytes are waiting inside the library (no epoll event). */
bool tls_pending(const struct tls *t);
/* The last read or write wants the socket writable. */
bool tls_wants_out(const struct tls *t);
const char *tls_why(const struct tls *t);

/*
 * Send close_notify: 1 sent, 0 again when writable, -1 with errno.
 * The caller shuts the socket's write side down after it.
 */
int tls_shutdown(struct tls *t);

/* Ciphertext bytes the socket took so far. */
uint64_t tls_wire_written(const struct tls *t);
/*
 * The peer's TCP acknowledged @wire_acked ciphertext bytes: how many of
 * the plaintext bytes tls_send() took that covers, in full.
 */
uint64_t tls_plain_acked(struct tls *t, uint64_t wire_acked);

void tls_describe(const struct tls *t, struct tls_info *info);

#endif
