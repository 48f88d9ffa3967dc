// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for ttyrfcd's TLS (tls.c through conn.c) against an
 * OpenSSL server on 127.0.0.1 in a thread of this process. Certificates
 * are made here, at run time: a lab CA, a server certificate for pi1.lab
 * and 127.0.0.1, an expired one, one for another name, one from another
 * CA, and a client certificate. No root.
 *
 * The main check is the acknowledgement mapping: what conn_acked() reports
 * (plaintext) must be what the server can decrypt from what its TCP has,
 * without one more byte from the client.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "unit.h"

static char dir[] = "/tmp/ttyrfc-tls-XXXXXX";
static int epfd;

static int64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ certificates */

static char *path(const char *name)
{
	static char bufs[8][512];
	static int n;
	char *b = bufs[n++ % 8];

	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static void write_key(EVP_PKEY *k, const char *name, mode_t mode)
{
	FILE *f = fopen(path(name), "w");

	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(path(name), mode);
}

static void write_cert(X509 *x, const char *name)
{
	FILE *f = fopen(path(name), "w");

	PEM_write_X509(f, x);
	fclose(f);
}

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for @cn, valid from @from to @to days from now. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san,
		       X509 *ca, EVP_PKEY *ca_key, long from, long to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to * 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
	X509_set_pubkey(x, key);
	if (!ca) {
		ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
		ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		ext(x, ca, NID_basic_constraints, "CA:FALSE");
		if (san)
			ext(x, ca, NID_subject_alt_name, san);
	}
	X509_sign(x, ca_key ? ca_key : key, EVP_sha256());
	return x;
}

/* Write @x and free it. */
static void put_cert(X509 *x, const char *name)
{
	write_cert(x, name);
	X509_free(x);
}

static bool make_certs(void)
{
	EVP_PKEY *ca_key = new_key(), *other_key = new_key(), *k = new_key();
	X509 *ca = make_cert(ca_key, "Test Lab CA", NULL, NULL, NULL, -1, 30);
	X509 *other = make_cert(other_key, "Someone Else CA", NULL, NULL,
				NULL, -1, 30);
	const char *san = "DNS:pi1.lab,IP:127.0.0.1";

	if (!mkdtemp(dir))
		return false;
	write_cert(ca, "ca.pem");
	write_cert(other, "other-ca.pem");
	write_key(k, "srv.key", 0600);
	put_cert(make_cert(k, "pi1.lab", san, ca, ca_key, -1, 30), "srv.pem");
	put_cert(make_cert(k, "pi1.lab", san, ca, ca_key, -30, -1),
		 "expired.pem");
	put_cert(make_cert(k, "pi2.lab", "DNS:pi2.lab", ca, ca_key, -1, 30),
		 "pi2.pem");
	put_cert(make_cert(k, "pi1.lab", san, other, other_key, -1, 30),
		 "stranger.pem");
	write_key(k, "client.key", 0600);
	write_key(k, "client-open.key", 0644);
	put_cert(make_cert(k, "vm1", NULL, ca, ca_key, -1, 30), "client.pem");
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(k);
	return true;
}

/* ------------------------------------------------------------ the server */

enum srv_mode { SRV_ECHO, SRV_STALL, SRV_PLAIN };

struct server {
	int lfd;
	uint16_t port;
	enum srv_mode mode;
	const char *cert;	/* file in dir */
	bool want_client;	/* require a client certificate */
	int go[2];		/* SRV_STALL: a byte here lets it read */
	size_t want;		/* ... this many bytes, then it reports */
	size_t got;
	bool got_all;		/* within the time, no more from the client */
	char peer_cn[64];	/* the client's certificate */
	pthread_t th;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	static uint8_t buf[65536];
	SSL_CTX *ctx;
	SSL *ssl;
	X509 *peer;
	int fd = accept(s->lfd, NULL, NULL);
	size_t n;

	if (fd < 0)
		return NULL;
	if (s->mode == SRV_PLAIN) {
		/* a telnet server: negotiation first, as ser2net does */
		static const uint8_t telnet[] = { 0xff, 0xfb, 0x03, 0xff, 0xfd,
						  0x00, 0xff, 0xfb, 0x01 };

		send(fd, telnet, sizeof(telnet), MSG_NOSIGNAL);
		while (recv(fd, buf, sizeof(buf), 0) > 0)
			;
		close(fd);
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate_file(ctx, path(s->cert), SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(ctx, path("srv.key"), SSL_FILETYPE_PEM);
	if (s->want_client) {
		SSL_CTX_load_verify_locations(ctx, path("ca.pem"), NULL);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		goto out;
	peer = SSL_get0_peer_certificate(ssl);
	if (peer)
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
					  NID_commonName, s->peer_cn,
					  sizeof(s->peer_cn));
	if (s->mode == SRV_STALL) {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;

		if (read(s->go[0], &c, 1) != 1)
			goto out;
		/* the bytes acknowledged must all be here, and decryptable */
		while (s->got < s->want) {
			if (!SSL_pending(ssl) && poll(&p, 1, 2000) != 1)
				break;
			if (!SSL_read_ex(ssl, buf, sizeof(buf) < s->want - s->got ?
					 sizeof(buf) : s->want - s->got, &n))
				break;
			s->got += n;
		}
		s->got_all = s->got == s->want;
		goto out;
	}
	while (SSL_read_ex(ssl, buf, sizeof(buf), &n) == 1)
		if (SSL_write(ssl, buf, n) != (int)n)
			break;
out:
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return NULL;
}

static bool server_start(struct server *s, enum srv_mode mode,
			 const char *cert)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->cert = cert;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (void *)&a, sizeof(a)) ||
	    listen(s->lfd, 4) || getsockname(s->lfd, (void *)&a, &len) ||
	    pipe(s->go))
		return false;
	s->port = ntohs(a.sin_port);
	return true;
}

static void server_run(struct server *s)
{
	pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(struct server *s)
{
	char c = 1;

	if (write(s->go[1], &c, 1) != 1)
		return;
	shutdown(s->lfd, SHUT_RDWR);	/* an accept() still waiting ends */
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->go[0]);
	close(s->go[1]);
}

/* ------------------------------------------------------------ the client */

static struct conn c;
static struct tls_config cfg;

static void config(const char *ca, const char *cert, const char *key,
		   const char *name)
{
	memset(&cfg, 0, sizeof(cfg));
	if (ca)
		snprintf(cfg.ca, sizeof(cfg.ca), "%s", path(ca));
	if (cert)
		snprintf(cfg.cert, sizeof(cfg.cert), "%s", path(cert));
	if (key)
		snprintf(cfg.key, sizeof(cfg.key), "%s", path(key));
	if (name)
		snprintf(cfg.server_name, sizeof(cfg.server_name), "%s", name);
}

/* Connect through TLS: CONN_UP, or CONN_FAILED with c.err and c.why. */
static enum conn_state connect_tls(uint16_t port)
{
	enum conn_state st = CONN_PENDING;
	int64_t end = ms() + 5000;

	conn_init(&c, epfd, 0);
	c.tls_cfg = &cfg;
	if (conn_resolve(&c, "127.0.0.1", port) != 1)
		return CONN_FAILED;
	st = conn_start(&c, ms());
	while (st == CONN_PENDING && ms() < end) {
		struct epoll_event ev[4];
		int i, n = epoll_wait(epfd, ev, 4, 10);

		for (i = 0; i < n && st == CONN_PENDING; i++)
			if (TOK_SLOT(ev[i].data.u64) != TOK_SLOT_SOCK)
				st = conn_attempt_ready(&c,
						TOK_SLOT(ev[i].data.u64),
						TOK_GEN(ev[i].data.u64), ms());
		if (st == CONN_PENDING)
			st = conn_timer(&c, ms());
	}
	if (st == CONN_FAILED)
		printf("# conn failed: %s (%s)\n", strerror(c.err), c.why);
	return st;
}

static bool fails_with(enum conn_state st, int err, const char *text)
{
	if (st != CONN_FAILED) {
		printf("# connected, expected %s\n", strerror(err));
		return false;
	}
	if (c.err != err || !strstr(c.why, text)) {
		printf("# wanted %s and \"%s\"\n", strerror(err), text);
		return false;
	}
	return true;
}

/* Read until @n bytes or @ms passed; what the server said (ENOKEY...). */
static ssize_t read_some(uint8_t *buf, size_t n, int ms_max, int *err)
{
	int64_t end = ms() + ms_max;
	size_t got = 0;

	*err = 0;
	while (got < n && ms() < end) {
		ssize_t r = conn_recv(&c, buf + got, n - got);

		if (r > 0) {
			got += r;
		} else if (r == 0) {
			break;
		} else if (errno != EAGAIN) {
			*err = errno;
			break;
		} else {
			struct pollfd p = { c.fd, POLLIN, 0 };

			poll(&p, 1, 10);
		}
	}
	return got;
}

static bool send_all(const uint8_t *d, size_t n)
{
	int64_t end = ms() + 5000;
	size_t off = 0;

	while (off < n && ms() < end) {
		ssize_t r = conn_send(&c, d + off, n - off);

		if (r > 0) {
			off += r;
		} else if (r < 0 && errno == EAGAIN) {
			struct pollfd p = { c.fd, POLLOUT, 0 };

			poll(&p, 1, 10);
		} else {
			return false;
		}
	}
	return off == n;
}

/* ------------------------------------------------------------ tests */

/* Verified, and data both ways, every byte value. */
static bool t_echo(void)
{
	static uint8_t out[70000], in[70000];
	struct server s;
	struct tls_info ti;
	size_t i;
	int err;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(connect_tls(s.port) == CONN_UP);
	for (i = 0; i < sizeof(out); i++)
		out[i] = i;
	CHECK(send_all(out, sizeof(out)));
	CHECK(read_some(in, sizeof(in), 3000, &err) == sizeof(in));
	CHECK_MEM(in, out, sizeof(out));
	CHECK(c.sent == sizeof(out));
	tls_describe(c.tls, &ti);
	printf("# %s %s, peer %s, issuer %s, until %s\n", ti.protocol,
	       ti.cipher, ti.subject, ti.issuer, ti.not_after);
	CHECK(!strcmp(ti.protocol, "TLSv1.3"));
	CHECK(strstr(ti.subject, "pi1.lab") && strstr(ti.issuer, "Test Lab"));
	CHECK(*ti.not_after);
	conn_reset(&c);
	server_stop(&s);
	return true;
}

/* The host it was reached by is the name checked: 127.0.0.1 (an IP SAN). */
static bool t_address_name(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, NULL);
	CHECK(connect_tls(s.port) == CONN_UP);
	conn_reset(&c);
	server_stop(&s);
	return true;
}

/*
 * The server does not read: conn_acked() stops short of what was sent,
 * and every plaintext byte it counts is already at the server, in full
 * records: the server gets all of them without another byte from us.
 */
static bool t_acked_is_received(void)
{
	static uint8_t data[4 << 20];
	struct server s;
	int small = 32768, sndbuf = 65536;
	int64_t acked = 0, end;
	size_t off = 0;

	CHECK(server_start(&s, SRV_STALL, "srv.pem"));
	setsockopt(s.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(connect_tls(s.port) == CONN_UP);
	setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(data, 0xa5, sizeof(data));
	/* fill everything up to the point where the socket takes no more */
	end = ms() + 3000;
	while (off < sizeof(data) && ms() < end) {
		ssize_t r = conn_send(&c, data + off,
				      sizeof(data) - off < 5000 ?
				      sizeof(data) - off : 5000);

		if (r > 0) {
			off += r;
			continue;
		}
		CHECK(r < 0 && errno == EAGAIN);
		usleep(20000);
		/* two looks in a row with no change: settled */
		if (conn_acked(&c) == acked)
			break;
		acked = conn_acked(&c);
	}
	usleep(100000);
	acked = conn_acked(&c);
	printf("# sent %zu plaintext bytes (%llu on the wire), %lld acked\n",
	       off, (unsigned long long)tls_wire_written(c.tls),
	       (long long)acked);
	CHECK(acked > 0 && (uint64_t)acked < c.sent);
	/* now the server reads exactly that much; we send nothing more */
	s.want = acked;
	server_stop(&s);
	CHECK(s.got_all);
	conn_reset(&c);
	return true;
}

/* Once the server reads, everything sent is acknowledged. */
static bool t_acked_all(void)
{
	static uint8_t data[1 << 20], in[1 << 20];
	struct server s;
	int64_t end;
	int err;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(connect_tls(s.port) == CONN_UP);
	memset(data, 0xff, sizeof(data));
	CHECK(send_all(data, 100000));
	CHECK(read_some(in, 100000, 3000, &err) == 100000);
	end = ms() + 2000;
	while (conn_acked(&c) != 100000 && ms() < end)
		usleep(5000);
	CHECK(conn_acked(&c) == 100000);
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_unknown_ca(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "stranger.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EKEYREJECTED, "not trusted"));
	CHECK(strstr(c.why, "Someone Else CA") && strstr(c.why, "ca.pem"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_system_cas(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	/* a lab CA is not among the system's */
	config(NULL, NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EKEYREJECTED,
			 "trusting the system's CAs"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_expired(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "expired.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EKEYEXPIRED, "has expired"));
	CHECK(strstr(c.why, "not after 20"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_wrong_name(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "pi2.pem"));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EKEYREJECTED,
			 "is for DNS:pi2.lab, not pi1.lab"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

/* TLS 1.3: the handshake ends before the server checks us; it says so. */
static bool t_client_cert_missing(void)
{
	uint8_t buf[16];
	struct server s;
	int err;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	s.want_client = true;
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	if (connect_tls(s.port) == CONN_UP) {
		conn_send(&c, "x", 1);
		CHECK(read_some(buf, sizeof(buf), 3000, &err) == 0);
		CHECK(err == ENOKEY);
	} else {
		CHECK(c.err == ENOKEY);
	}
	printf("# %s\n", c.why);
	CHECK(strstr(c.why, "requires a client certificate"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_client_cert_given(void)
{
	uint8_t buf[3];
	struct server s;
	int err;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	s.want_client = true;
	server_run(&s);
	config("ca.pem", "client.pem", "client.key", "pi1.lab");
	CHECK(connect_tls(s.port) == CONN_UP);
	CHECK(send_all((const uint8_t *)"abc", 3));
	CHECK(read_some(buf, 3, 3000, &err) == 3 && !memcmp(buf, "abc", 3));
	CHECK(!strcmp(s.peer_cn, "vm1"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static bool t_key_mode_refused(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	config("ca.pem", "client.pem", "client-open.key", "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EACCES,
			 "is open to its group or others (mode 0644)"));
	conn_reset(&c);
	/* the server saw a connection, then nothing */
	server_stop(&s);
	return true;
}

static bool t_missing_ca(void)
{
	struct server s;

	CHECK(server_start(&s, SRV_ECHO, "srv.pem"));
	server_run(&s);
	config("nosuch.pem", NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), ENOENT, "CA file"));
	conn_reset(&c);
	server_stop(&s);
	return true;
}

/* A plain telnet server answers a TLS hello with telnet: EPROTO, at once. */
static bool t_plain_server(void)
{
	struct server s;
	int64_t t0 = ms();

	CHECK(server_start(&s, SRV_PLAIN, NULL));
	server_run(&s);
	config("ca.pem", NULL, NULL, "pi1.lab");
	CHECK(fails_with(connect_tls(s.port), EPROTO, "does not speak TLS"));
	CHECK(ms() - t0 < 4000);
	conn_reset(&c);
	server_stop(&s);
	return true;
}

static const struct unit_test tests[] = {
	{ "verified server, 70000 bytes of every value echoed", t_echo },
	{ "the host's address is the name checked (IP SAN)", t_address_name },
	{ "acked plaintext is at the server in full records", t_acked_is_received },
	{ "everything acked once the server read it", t_acked_all },
	{ "unknown CA: EKEYREJECTED, names issuer and trust", t_unknown_ca },
	{ "lab CA not in the system's CAs: EKEYREJECTED", t_system_cas },
	{ "expired certificate: EKEYEXPIRED with the date", t_expired },
	{ "wrong name: EKEYREJECTED with the names", t_wrong_name },
	{ "client certificate required, none: ENOKEY", t_client_cert_missing },
	{ "client certificate required and given", t_client_cert_given },
	{ "key file mode 0644: EACCES, refused", t_key_mode_refused },
	{ "missing CA file: ENOENT", t_missing_ca },
	{ "TLS client, plain telnet server: EPROTO", t_plain_server },
};

static void cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	int ret;

	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!make_certs()) {
		printf("not ok 1 - certificates made\n0 passed, 1 failed\n");
		return 1;
	}
	ret = unit_run(tests, sizeof(tests) / sizeof(tests[0]));
	cleanup();
	return ret;
}
