/* Syslog transports: the local socket, UDP, TCP (RFC 6587 octet counting)
 * and TLS (RFC 5425; the collector's certificate verified against the CA and
 * its name). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vd_syslog_int.h"

void vd_syslog_disconnect(syslog_sink *s) {
        if (s->ssl) {
                SSL_shutdown(s->ssl);
                SSL_free(s->ssl);
                s->ssl = NULL;
        }
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

#define why(s, ...) vd_err_set(&(s)->last, VD_E_IO, __VA_ARGS__)

static int wait_fd(int fd, short ev) {
        struct pollfd p = {fd, ev, 0};
        int r;
        do
                r = poll(&p, 1, IO_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0)
                errno = ETIMEDOUT;
        return r > 0 ? 0 : -1;
}

static int ssl_error(syslog_sink *s, const char *what) {
        unsigned long e = ERR_get_error();
        char buf[256] = "";
        if (e)
                ERR_error_string_n(e, buf, sizeof buf);
        long vr = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
        if (vr != X509_V_OK)
                return why(s, "TLS %s: certificate not accepted: %s", what, X509_verify_cert_error_string(vr));
        return why(s, "TLS %s failed%s%s", what, buf[0] ? ": " : "", buf);
}

int vd_syslog_connect(syslog_sink *s) {
        if (s->transport == T_UNIX) {
                struct sockaddr_un a = {.sun_family = AF_UNIX};
                if (strlen(s->path) >= sizeof a.sun_path)
                        return why(s, "socket path too long");
                memcpy(a.sun_path, s->path, strlen(s->path) + 1);
                s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&a, sizeof a) < 0) {
                        int e = errno;
                        vd_syslog_disconnect(s);
                        return why(s, "cannot connect to %s: %s", s->path, strerror(e));
                }
                return 0;
        }
        struct addrinfo hints = {.ai_socktype = s->transport == T_UDP ? SOCK_DGRAM : SOCK_STREAM}, *ai = NULL;
        int g = getaddrinfo(s->host, s->port, &hints, &ai);
        if (g != 0)
                return why(s, "cannot resolve %s: %s", s->host, gai_strerror(g));
        int e = 0;
        for (struct addrinfo *a = ai; a; a = a->ai_next) {
                s->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
                if (s->fd < 0) {
                        e = errno;
                        continue;
                }
                if (connect(s->fd, a->ai_addr, a->ai_addrlen) == 0 ||
                    (errno == EINPROGRESS && wait_fd(s->fd, POLLOUT) == 0)) {
                        int soerr = 0;
                        socklen_t sl = sizeof soerr;
                        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                        if (soerr == 0)
                                break;
                        errno = soerr;
                }
                e = errno;
                close(s->fd);
                s->fd = -1;
        }
        freeaddrinfo(ai);
        if (s->fd < 0)
                return why(s, "cannot connect: %s", strerror(e));
        /* back to blocking, with timeouts */
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
        struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (s->transport != T_TLS)
                return 0;
        s->ssl = SSL_new(s->ctx);
        if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1 || SSL_set_tlsext_host_name(s->ssl, s->host) != 1 ||
            SSL_set1_host(s->ssl, s->host) != 1) {
                ssl_error(s, "setup");
                vd_syslog_disconnect(s);
                return -1;
        }
        if (SSL_connect(s->ssl) != 1) {
                ssl_error(s, "handshake");
                vd_syslog_disconnect(s);
                return -1;
        }
        return 0;
}

int vd_syslog_send(syslog_sink *s, const char *p, size_t n) {
        if (s->transport == T_UNIX || s->transport == T_UDP) {
                ssize_t w;
                do
                        w = send(s->fd, p, n, MSG_NOSIGNAL);
                while (w < 0 && errno == EINTR);
                if (w < 0 || (size_t)w != n)
                        return why(s, "send failed: %s", w < 0 ? strerror(errno) : "short datagram");
                return 0;
        }
        /* RFC 6587 octet counting (and RFC 5425 framing over TLS). */
        char hdr[32];
        int hl = snprintf(hdr, sizeof hdr, "%zu ", n);
        for (int part = 0; part < 2; part++) {
                const char *q = part ? p : hdr;
                size_t left = part ? n : (size_t)hl;
                while (left) {
                        ssize_t w;
                        if (s->ssl) {
                                int k = SSL_write(s->ssl, q, (int)left);
                                if (k <= 0)
                                        return ssl_error(s, "write");
                                w = k;
                        } else {
                                w = send(s->fd, q, left, MSG_NOSIGNAL);
                                if (w < 0 && errno == EINTR)
                                        continue;
                                if (w < 0)
                                        return why(s, "send failed: %s", strerror(errno));
                        }
                        q += w;
                        left -= (size_t)w;
                }
        }
        return 0;
}

/* A stream collector that went away shows as readable EOF (or an error). */
bool vd_syslog_peer_gone(syslog_sink *s) {
        if (s->transport == T_UNIX || s->transport == T_UDP || s->fd < 0)
                return false;
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
                return false;
        char c;
        ssize_t r = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (p.revents & (POLLERR | POLLHUP));
}
