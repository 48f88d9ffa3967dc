// SPDX-License-Identifier: GPL-2.0
/*
 * ttyrfcd: TLS to the server with OpenSSL; see tls.h.
 *
 * Errors become the errnos of ttyrfc(4) and one sentence for the log:
 *
 *   the server's certificate is not trusted, or not for this name  EKEYREJECTED
 *   it has expired or is not valid yet                             EKEYEXPIRED
 *   the server wants a client certificate and the port has none    ENOKEY
 *   ... or has one, and the server refused it                      EACCES
 *   a key file others may read                                     EACCES
 *   a CA, certificate or key file that does not exist              ENOENT
 *   one that cannot be used (no PEM, wrong key for the cert)       ENOKEY
 *   the server does not speak TLS, or shares no version/cipher     EPROTO
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define MARKS_MAX	4096	/* beyond that, later marks stand for more */

struct mark {
	uint64_t plain;		/* plaintext taken up to here ... */
	uint64_t wire;		/* ... is in the ciphertext up to here */
};

struct tls {
	SSL_CTX *ctx;
	SSL *ssl;
	char name[TLS_NAME_MAX];	/* the server's name to check */
	char ca[TLS_PATH_MAX + 16];	/* for messages: what we trust */
	bool have_cert;
	bool cert_requested;		/* the server asked for ours */
	bool done;			/* handshake finished */
	bool want_out;
	uint64_t rx;			/* plaintext read */
	uint64_t plain;			/* plaintext SSL_write took */
	uint64_t plain_acked;
	struct mark *marks;		/* ring, oldest first */
	size_t mhead, mlen, mcap;
	/* the first certificate the chain check failed on */
	int verr, vdepth;
	char vsubject[256], vissuer[256], vnames[256], vtime[32];
	char why[TLS_WHY_MAX];
};

/* ------------------------------------------------------------ text */

static void name_text(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int got;

	*buf = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ &
				     ~ASN1_STRFLGS_ESC_MSB);
	got = BIO_read(b, buf, len - 1);
	buf[got > 0 ? got : 0] = '\0';
	BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	*buf = '\0';
	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* "DNS:pi1.lab, IP:10.0.0.2" (or "CN=pi1" without names) */
static void cert_names(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
					       NULL);
	size_t used = 0;
	int i;

	*buf = '\0';
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		const char *what = NULL;

		if (g->type == GEN_DNS) {
			what = "DNS";
			snprintf(ip, sizeof(ip), "%.*s",
				 ASN1_STRING_length(g->d.dNSName),
				 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			int l = ASN1_STRING_length(g->d.iPAddress);

			what = "IP";
			inet_ntop(l == 16 ? AF_INET6 : AF_INET,
				  ASN1_STRING_get0_data(g->d.iPAddress), ip,
				  sizeof(ip));
		}
		if (what && used < len)
			used += snprintf(buf + used, len - used, "%s%s:%s",
					 used ? ", " : "", what, ip);
	}
	GENERAL_NAMES_free(gens);
	if (!*buf) {
		char cn[200];

		name_text(X509_get_subject_name(x), cn, sizeof(cn));
		snprintf(buf, len, "%s (no subjectAltName)", cn);
	}
}

/* ------------------------------------------------------------ setup */

static int fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(why, len, "TLS: ");
	va_start(ap, fmt);
	vsnprintf(why + n, len - n, fmt, ap);
	va_end(ap);
	return err;
}

/* OpenSSL's own reason for the last failure, or @dflt */
static const char *ssl_reason(const char *dflt)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : dflt;
}

static int stat_file(const char *what, const char *path, struct stat *st,
		     char *why, size_t len)
{
	if (stat(path, st) == 0)
		return 0;
	return fail(why, len, errno == ENOENT ? ENOENT : EACCES,
		    "%s %s: %s", what, path, strerror(errno));
}

/* A passphrase would need someone to type it. */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw;
	*(bool *)u = true;
	return -1;
}

/*
 * The client key: refused when its group or others may access it, read
 * from the descriptor that was checked (no race with a chmod).
 */
static int load_key(SSL_CTX *ctx, const char *path, char *why, size_t len)
{
	bool encrypted = false;
	EVP_PKEY *key;
	struct stat st;
	BIO *b;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(why, len, errno == ENOENT ? ENOENT : EACCES,
			    "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(why, len, ENOKEY, "key file %s is not a file",
			    path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return fail(why, len, EACCES,
			    "key file %s is open to its group or others (mode %04o); refused: chmod 600 it",
			    path, (unsigned int)st.st_mode & 07777);
	}
	b = BIO_new_fd(fd, BIO_CLOSE);
	if (!b) {
		close(fd);
		return fail(why, len, ENOMEM, "out of memory");
	}
	key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, &encrypted);
	BIO_free(b);
	if (!key)
		return fail(why, len, ENOKEY, "key file %s: %s", path,
			    encrypted ? "it is protected by a passphrase, which ttyrfcd cannot ask for" :
			    "no private key in it (PEM)");
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		EVP_PKEY_free(key);
		return fail(why, len, ENOKEY, "key file %s: %s", path,
			    ssl_reason("cannot use it"));
	}
	EVP_PKEY_free(key);
	return 0;
}

static int load_files(struct tls *t, const struct tls_config *cfg, char *why,
		      size_t len)
{
	struct stat st;
	int ret;

	if (*cfg->ca) {
		ret = stat_file("CA file", cfg->ca, &st, why, len);
		if (ret)
			return ret;
		if (SSL_CTX_load_verify_locations(t->ctx,
				S_ISDIR(st.st_mode) ? NULL : cfg->ca,
				S_ISDIR(st.st_mode) ? cfg->ca : NULL) != 1)
			return fail(why, len, ENOKEY,
				    "CA file %s: no certificate in it (PEM): %s",
				    cfg->ca, ssl_reason("unreadable"));
		snprintf(t->ca, sizeof(t->ca), "the CA file %s", cfg->ca);
	} else {
		SSL_CTX_set_default_verify_paths(t->ctx);
		snprintf(t->ca, sizeof(t->ca), "the system's CAs");
	}
	if (!*cfg->cert != !*cfg->key)
		return fail(why, len, ENOKEY,
			    "a client certificate needs its key and a key its certificate (%s given)",
			    *cfg->cert ? "only the certificate" : "only the key");
	if (!*cfg->cert)
		return 0;
	ret = stat_file("certificate file", cfg->cert, &st, why, len);
	if (ret)
		return ret;
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cfg->cert) != 1)
		return fail(why, len, ENOKEY, "certificate file %s: %s",
			    cfg->cert, ssl_reason("no certificate in it (PEM)"));
	ret = load_key(t->ctx, cfg->key, why, len);
	if (ret)
		return ret;
	if (SSL_CTX_check_private_key(t->ctx) != 1)
		return fail(why, len, ENOKEY,
			    "key file %s does not belong to the certificate %s",
			    cfg->key, cfg->cert);
	t->have_cert = true;
	return 0;
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
				SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	int err = X509_STORE_CTX_get_error(x);

	if (ok || !t || t->verr)
		return ok;
	t->verr = err;
	t->vdepth = X509_STORE_CTX_get_error_depth(x);
	if (cert) {
		name_text(X509_get_subject_name(cert), t->vsubject,
			  sizeof(t->vsubject));
		name_text(X509_get_issuer_name(cert), t->vissuer,
			  sizeof(t->vissuer));
		cert_names(cert, t->vnames, sizeof(t->vnames));
		time_text(err == X509_V_ERR_CERT_NOT_YET_VALID ?
			  X509_get0_notBefore(cert) : X509_get0_notAfter(cert),
			  t->vtime, sizeof(t->vtime));
	}
	return ok;
}

/* Called when the server sends a CertificateRequest. */
static int cert_cb(SSL *ssl, void *arg)
{
	struct tls *t = SSL_get_app_data(ssl);

	(void)arg;
	if (t)
		t->cert_requested = true;
	return 1;
}

static bool is_address(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

struct tls *tls_new(int fd, const struct tls_config *cfg, const char *host,
		    int *err, char *why, size_t len)
{
	struct tls *t = calloc(1, sizeof(*t));

	*why = '\0';
	if (!t) {
		*err = fail(why, len, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s",
		 *cfg->server_name ? cfg->server_name : host);
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx) {
		*err = fail(why, len, ENOMEM, "%s", ssl_reason("no context"));
		goto out;
	}
	/* TLS 1.2 and newer; no renegotiation, no resumed sessions */
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
				    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_cert_cb(t->ctx, cert_cb, NULL);
	/* the output queue moves and grows between retries of one write */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	*err = load_files(t, cfg, why, len);
	if (*err)
		goto out;
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || !SSL_set_fd(t->ssl, fd)) {
		*err = fail(why, len, ENOMEM, "%s", ssl_reason("no session"));
		goto out;
	}
	SSL_set_app_data(t->ssl, t);
	/* an address is checked against the certificate's IP names */
	if (SSL_set1_host(t->ssl, t->name) != 1) {
		*err = fail(why, len, EINVAL, "cannot check the name %s",
			    t->name);
		goto out;
	}
	X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(t->ssl),
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!is_address(t->name))
		SSL_set_tlsext_host_name(t->ssl, t->name);
	SSL_set_connect_state(t->ssl);
	ERR_clear_error();
	return t;
out:
	ERR_clear_error();
	tls_free(t);
	return NULL;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t->marks);
	free(t);
}

/* ------------------------------------------------------------ failures */

static int verify_failure(struct tls *t, char *why, size_t len)
{
	const char *whose = t->vdepth ? "a certificate in the server's chain" :
					"the server's certificate";
	const char *text = X509_verify_cert_error_string(t->verr);

	switch (t->verr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return fail(why, len, EKEYEXPIRED,
			    "%s has expired (%s, not after %s)", whose,
			    t->vsubject, t->vtime);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return fail(why, len, EKEYEXPIRED,
			    "%s is not valid yet (%s, not before %s): is the clock right?",
			    whose, t->vsubject, t->vtime);
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return fail(why, len, EKEYREJECTED,
			    "the server's certificate is for %s, not %s",
			    t->vnames, t->name);
	default:
		return fail(why, len, EKEYREJECTED,
			    "%s is not trusted: %s (%s, issued by %s; trusting %s)",
			    whose, text, t->vsubject, t->vissuer, t->ca);
	}
}

/*
 * The server ended the connection before it said anything: during the
 * handshake, or (TLS 1.3) right after it, which is when a server checks
 * the client's certificate. ser2net then closes without an alert.
 */
static int closed_early(struct tls *t, char *why, size_t len)
{
	if (t->cert_requested && !t->have_cert)
		return fail(why, len, ENOKEY,
			    "the server requires a client certificate (ssl(clientauth)), and the port has none (ttyrfcctl add ... --cert FILE --key FILE)");
	if (t->cert_requested)
		return fail(why, len, EACCES,
			    "the server closed the connection after checking our client certificate: it does not accept it (ser2net: is the certificate, or its CA, in <authdir>/<its CN>/allowed_certs/ on the server?)");
	return fail(why, len, ECONNRESET,
		    "the server closed the connection during the TLS handshake");
}

static int alert_failure(struct tls *t, int alert, char *why, size_t len)
{
	const char *text = SSL_alert_desc_string_long(alert);

	switch (alert) {
	case TLS13_AD_CERTIFICATE_REQUIRED:
		return closed_early(t, why, len);
	case SSL_AD_CERTIFICATE_EXPIRED:
		return fail(why, len, EKEYEXPIRED,
			    "the server says our client certificate has expired (alert: %s)",
			    text);
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
		if (!t->have_cert)
			return closed_early(t, why, len);
		return fail(why, len, EACCES,
			    "the server refused our client certificate (alert: %s)",
			    text);
	case SSL_AD_HANDSHAKE_FAILURE:
		if (t->cert_requested && !t->have_cert)
			return closed_early(t, why, len);
		/* fall through */
	default:
		return fail(why, len, EPROTO,
			    "the server ended the handshake (alert: %s): no TLS version or cipher in common?",
			    text);
	}
}

/* Why the last SSL_* call failed with SSL_ERROR_SSL. */
static int ssl_failure(struct tls *t, char *why, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	if (t->verr)
		return verify_failure(t, why, len);
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return closed_early(t, why, len);
	if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
		return alert_failure(t, reason - SSL_AD_REASON_OFFSET, why, len);
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return fail(why, len, EPROTO,
			    "the server does not speak TLS (%s): is its accepter missing ssl(...)? Otherwise add the port without tls://",
			    ssl_reason("not a TLS record"));
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_NO_SHARED_CIPHER:
		return fail(why, len, EPROTO,
			    "no TLS version or cipher in common with the server (%s); ttyrfcd speaks TLS 1.2 and 1.3",
			    ssl_reason("?"));
	default:
		return fail(why, len, EPROTO, "%s", ssl_reason("protocol error"));
	}
}

/* ------------------------------------------------------------ I/O */

int tls_handshake(struct tls *t, bool *want_out, char *why, size_t len)
{
	int ret, e;

	*want_out = false;
	ERR_clear_error();
	ret = SSL_do_handshake(t->ssl);
	if (ret == 1) {
		t->done = true;
		return 1;
	}
	e = SSL_get_error(t->ssl, ret);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*want_out = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno && errno != EPIPE && errno != ECONNRESET) {
			int err = errno;

			return -fail(why, len, err, "%s", strerror(err));
		}
		return -closed_early(t, why, len);
	case SSL_ERROR_ZERO_RETURN:
		return -closed_early(t, why, len);
	default:
		return -ssl_failure(t, why, len);
	}
}

static void mark(struct tls *t)
{
	uint64_t wire = tls_wire_written(t);
	struct mark *m;

	if (t->mlen == t->mcap && t->mcap < MARKS_MAX) {
		size_t cap = t->mcap ? 2 * t->mcap : 64, i;
		struct mark *n = malloc(cap * sizeof(*n));

		if (n) {
			for (i = 0; i < t->mlen; i++)
				n[i] = t->marks[(t->mhead + i) % t->mcap];
			free(t->marks);
			t->marks = n;
			t->mcap = cap;
			t->mhead = 0;
		}
	}
	if (t->mlen == t->mcap) {
		if (!t->mlen)
			return;		/* no memory: confirmed at the next */
		/* full: the newest mark stands for what came before it too */
		m = &t->marks[(t->mhead + t->mlen - 1) % t->mcap];
	} else {
		m = &t->marks[(t->mhead + t->mlen++) % t->mcap];
	}
	m->plain = t->plain;
	m->wire = wire;
}

/* The server closed: at once, before saying anything, is a refusal. */
static ssize_t closed(struct tls *t)
{
	int err;

	if (t->rx)
		return 0;
	err = closed_early(t, t->why, sizeof(t->why));
	if (err == ECONNRESET) {
		/* no certificate involved: the session decides what it was */
		t->why[0] = '\0';
		return 0;
	}
	errno = err;
	return -1;
}

static ssize_t io_error(struct tls *t, bool reading)
{
	int e = SSL_get_error(t->ssl, 0);

	t->want_out = false;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->want_out = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return closed(t);
		errno = EPIPE;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (!errno && reading)
			return closed(t);	/* EOF without close_notify */
		if (!errno)
			errno = EPIPE;
		if (!t->rx && t->cert_requested &&
		    (errno == ECONNRESET || errno == EPIPE))
			errno = closed_early(t, t->why, sizeof(t->why));
		return -1;
	default:
		if (reading && ERR_GET_REASON(ERR_peek_last_error()) ==
			       SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return closed(t);
		errno = ssl_failure(t, t->why, sizeof(t->why));
		return -1;
	}
}

ssize_t tls_send(struct tls *t, const void *buf, size_t n)
{
	size_t done = 0;

	if (!n)
		return 0;
	ERR_clear_error();
	/* partial writes: one record at a time; each written whole */
	if (SSL_write_ex(t->ssl, buf, n, &done) != 1)
		return io_error(t, false);
	t->want_out = false;
	t->plain += done;
	mark(t);
	return done;
}

ssize_t tls_recv(struct tls *t, void *buf, size_t n)
{
	size_t got = 0;

	ERR_clear_error();
	if (SSL_read_ex(t->ssl, buf, n, &got) != 1)
		return io_error(t, true);
	t->want_out = false;
	t->rx += got;
	return got;
}

bool tls_pending(const struct tls *t)
{
	return SSL_pending(t->ssl) > 0;
}

bool tls_wants_out(const struct tls *t)
{
	return t->want_out;
}

const char *tls_why(const struct tls *t)
{
	return t->why;
}

int tls_shutdown(struct tls *t)
{
	int ret;

	ERR_clear_error();
	ret = SSL_shutdown(t->ssl);
	if (ret >= 0)
		return 1;	/* 0: ours is out, the server's may follow */
	if (SSL_get_error(t->ssl, ret) == SSL_ERROR_WANT_WRITE)
		return 0;
	if (SSL_get_error(t->ssl, ret) == SSL_ERROR_WANT_READ)
		return 1;
	errno = EPIPE;
	return -1;
}

uint64_t tls_wire_written(const struct tls *t)
{
	BIO *b = SSL_get_wbio(t->ssl);

	return b ? BIO_number_written(b) : 0;
}

uint64_t tls_plain_acked(struct tls *t, uint64_t wire_acked)
{
	while (t->mlen) {
		const struct mark *m = &t->marks[t->mhead];

		if (m->wire > wire_acked)
			break;
		t->plain_acked = m->plain;
		t->mhead = (t->mhead + 1) % t->mcap;
		t->mlen--;
	}
	return t->plain_acked;
}

void tls_describe(const struct tls *t, struct tls_info *info)
{
	X509 *peer = SSL_get0_peer_certificate(t->ssl);
	const char *c = SSL_get_cipher_name(t->ssl);

	memset(info, 0, sizeof(*info));
	snprintf(info->protocol, sizeof(info->protocol), "%s",
		 SSL_get_version(t->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s", c ? c : "");
	snprintf(info->name, sizeof(info->name), "%s", t->name);
	if (!peer)
		return;
	name_text(X509_get_subject_name(peer), info->subject,
		  sizeof(info->subject));
	name_text(X509_get_issuer_name(peer), info->issuer,
		  sizeof(info->issuer));
	time_text(X509_get0_notAfter(peer), info->not_after,
		  sizeof(info->not_after));
}
