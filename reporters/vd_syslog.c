/* The syslog sink: RFC 5424 messages (structured data, @cee JSON or CEF) to
 * the local socket or a remote collector over UDP, TCP (RFC 6587 octet
 * counting) or TLS (RFC 5425, the collector's certificate verified against
 * --syslog-ca and its name).
 *
 * Nothing is lost: a collector that cannot be reached gets bounded retries
 * with backoff; what was not sent goes to a spool file in the state directory
 * and the sink fails (exit 3). The next run to the same collector sends the
 * spool first.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vd_remote.h"
#include "vd_sink_int.h"
#include "vd_state.h"
#include "vd_str.h"

#define MSG_MAX 8000            /* rsyslog's default maxMessageSize is 8k */
#define IO_TIMEOUT_MS 10000
#define SPOOL_MAX ((size_t)64 << 20)
#define SPOOL_MSG_MAX ((size_t)64 << 10)

enum { T_UNIX, T_UDP, T_TCP, T_TLS };

typedef struct syslog_sink {
        int transport;
        char *url;
        char *host, *port, *path; /* path: unix socket */
        vd_sink_opts o;
        char *ca;
        char *spool_dir; /* <state>/spool/<slug> */
        char hostname[256];
        /* connection */
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
        char why[512]; /* the last delivery error */
} syslog_sink;

/* ---- formatting ---- */

static int sd_escape(vd_buf *b, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char c = p[i];
                if ((c == '"' || c == '\\' || c == ']') && vd_buf_addc(b, '\\') < 0)
                        return VD_E_LIMIT;
                if (vd_buf_addc(b, c) < 0)
                        return VD_E_LIMIT;
        }
        return 0;
}

static int cef_escape(vd_buf *b, const char *p, size_t n, bool header) {
        for (size_t i = 0; i < n; i++) {
                char c = p[i];
                if ((c == '\\' || (header ? c == '|' : c == '=')) && vd_buf_addc(b, '\\') < 0)
                        return VD_E_LIMIT;
                if (vd_buf_addc(b, c) < 0)
                        return VD_E_LIMIT;
        }
        return 0;
}

static const vd_rfield *field(const vd_rmsg *m, const char *name) {
        for (size_t i = 0; i < m->nf; i++)
                if (strcmp(m->f[i].name, name) == 0)
                        return &m->f[i];
        return NULL;
}

static int timestamp(vd_buf *b) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        /* RFC 5424 TIME-SECFRAC: at most 6 digits */
        return vd_buf_addf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static int format_msg(const syslog_sink *s, const vd_rmsg *m, vd_buf *b) {
        int pri = s->o.facility * 8 + vd_syslog_severity(m);
        int r = vd_buf_addf(b, "<%d>1 ", pri);
        if (!r)
                r = timestamp(b);
        if (!r)
                r = vd_buf_addf(b, " %s vmdrift %ld %s ", s->hostname, (long)getpid(), vd_rkind_msgid(m->kind));
        if (r)
                return r;
        if (s->o.format == VD_SYSLOG_RFC5424) {
                r = vd_buf_addf(b, "[vmdrift@%u", s->o.enterprise);
                for (size_t i = 0; !r && i < m->nf; i++) {
                        r = vd_buf_addf(b, " %s=\"", m->f[i].name);
                        if (!r)
                                r = sd_escape(b, m->f[i].v, m->f[i].n);
                        if (!r)
                                r = vd_buf_addc(b, '"');
                }
                if (!r)
                        r = vd_buf_adds(b, "] ");
                if (!r)
                        r = vd_buf_add(b, m->text, m->text_len);
        } else if (s->o.format == VD_SYSLOG_CEE) {
                r = vd_buf_adds(b, "- @cee: {\"event\":\"");
                if (!r)
                        r = vd_buf_adds(b, vd_rkind_msgid(m->kind));
                if (!r)
                        r = vd_buf_adds(b, "\"");
                for (size_t i = 0; !r && i < m->nf; i++) {
                        r = vd_buf_addf(b, ",\"%s\":", m->f[i].name);
                        if (!r && m->f[i].json)
                                r = vd_buf_add(b, m->f[i].v, m->f[i].n);
                        else if (!r) {
                                r = vd_buf_addc(b, '"');
                                if (!r)
                                        r = vd_escape_json(b, m->f[i].v, m->f[i].n);
                                if (!r)
                                        r = vd_buf_addc(b, '"');
                        }
                }
                if (!r)
                        r = vd_buf_adds(b, ",\"msg\":\"");
                if (!r)
                        r = vd_escape_json(b, m->text, m->text_len);
                if (!r)
                        r = vd_buf_adds(b, "\"}");
        } else {
                static const int cef_sev[] = {1, 3, 5, 8, 10};
                int sev = m->severity >= 0 && m->severity <= 4 ? cef_sev[m->severity] : 1;
                r = vd_buf_addf(b, "- CEF:0|vmdrift|vmdrift|%s|%s|", VD_VERSION, vd_rkind_msgid(m->kind));
                const vd_rfield *p = field(m, "path");
                if (!r)
                        r = cef_escape(b, m->kind <= VD_RK_VIOLATION && p ? "drift" : vd_rkind_msgid(m->kind),
                                       strlen(m->kind <= VD_RK_VIOLATION && p ? "drift" : vd_rkind_msgid(m->kind)),
                                       true);
                if (!r)
                        r = vd_buf_addf(b, "|%d|", sev);
                static const struct {
                        const char *ours, *cef;
                } map[] = {{"path", "filePath"},         {"change", "act"},       {"scan_id", "cs1"},
                           {"rule", "cs2"},              {"detector", "cs3"},     {"source", "cs4"},
                           {"changes", "cs5"},           {"guest_hostname", "dhost"}};
                static const char *const labels[] = {NULL, NULL, "scan_id", "rule", "detector", "source", "changes",
                                                     NULL};
                bool first = true;
                for (size_t k = 0; !r && k < sizeof map / sizeof map[0]; k++) {
                        const vd_rfield *f = field(m, map[k].ours);
                        if (!f)
                                continue;
                        if (labels[k])
                                r = vd_buf_addf(b, "%s%sLabel=%s", first ? "" : " ", map[k].cef, labels[k]), first = false;
                        if (!r)
                                r = vd_buf_addf(b, "%s%s=", first ? "" : " ", map[k].cef);
                        first = false;
                        if (!r)
                                r = cef_escape(b, f->v, f->n, false);
                }
                if (!r)
                        r = vd_buf_addf(b, "%smsg=", first ? "" : " ");
                if (!r)
                        r = cef_escape(b, m->text, m->text_len, false);
        }
        return r;
}

/* One message, within MSG_MAX: without the changes detail if need be. */
static int render(const syslog_sink *s, vd_rmsg *m, vd_buf *out) {
        for (int pass = 0; pass < 2; pass++) {
                vd_buf b;
                vd_buf_init(&b, MSG_MAX);
                int r = format_msg(s, m, &b);
                if (r == 0) {
                        r = vd_buf_add(out, b.buf, b.len);
                        vd_buf_release(&b);
                        return r;
                }
                vd_buf_release(&b);
                if (r != VD_E_LIMIT)
                        return r;
                vd_rmsg_drop_changes(m);
                /* and a long text is cut */
                if (pass == 0 && m->text_len > 1024) {
                        m->text_len = 1024;
                        while (m->text_len > 0 && ((unsigned char)m->text[m->text_len] & 0xc0) == 0x80)
                                m->text_len--;
                }
        }
        return VD_E_LIMIT;
}

/* ---- transport ---- */

static void disconnect(syslog_sink *s) {
        if (s->ssl) {
                SSL_shutdown(s->ssl);
                SSL_free(s->ssl);
                s->ssl = NULL;
        }
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

static int why(syslog_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why(syslog_sink *s, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->why, sizeof s->why, fmt, ap);
        va_end(ap);
        return -1;
}

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

static int do_connect(syslog_sink *s) {
        if (s->transport == T_UNIX) {
                struct sockaddr_un a = {.sun_family = AF_UNIX};
                if (strlen(s->path) >= sizeof a.sun_path)
                        return why(s, "socket path too long");
                memcpy(a.sun_path, s->path, strlen(s->path) + 1);
                s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&a, sizeof a) < 0) {
                        int e = errno;
                        disconnect(s);
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
                disconnect(s);
                return -1;
        }
        if (SSL_connect(s->ssl) != 1) {
                ssl_error(s, "handshake");
                disconnect(s);
                return -1;
        }
        return 0;
}

static int send_all(syslog_sink *s, const char *p, size_t n) {
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
static bool peer_gone(syslog_sink *s) {
        if (s->transport == T_UNIX || s->transport == T_UDP || s->fd < 0)
                return false;
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
                return false;
        char c;
        ssize_t r = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (p.revents & (POLLERR | POLLHUP));
}

/* ---- the message list and the spool ---- */

typedef struct msglist {
        char **v;
        size_t *n;
        size_t count, alloc;
} msglist;

static int ml_push(msglist *l, char *p, size_t n) {
        if (l->count == l->alloc) {
                size_t na = l->alloc ? l->alloc * 2 : 64;
                char **nv = realloc(l->v, na * sizeof *nv);
                size_t *nn = realloc(l->n, na * sizeof *nn);
                if (nv)
                        l->v = nv;
                if (nn)
                        l->n = nn;
                if (!nv || !nn)
                        return VD_E_NOMEM;
                l->alloc = na;
        }
        l->v[l->count] = p;
        l->n[l->count++] = n;
        return 0;
}

static void ml_free(msglist *l) {
        for (size_t i = 0; i < l->count; i++)
                free(l->v[i]);
        free(l->v);
        free(l->n);
}

static int mkdirs(const char *path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", path);
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                                return -1;
                        *p = '/';
                }
        return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int spool_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The spool files of this collector, oldest first. */
static size_t spool_list(const syslog_sink *s, char ***ret, size_t *total_bytes) {
        *ret = NULL;
        *total_bytes = 0;
        DIR *d = opendir(s->spool_dir);
        if (!d)
                return 0;
        size_t n = 0;
        char **v = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 7 || strcmp(de->d_name + l - 6, ".spool") != 0)
                        continue;
                char **nv = realloc(v, (n + 1) * sizeof *nv);
                if (!nv)
                        break;
                v = nv;
                if (asprintf(&v[n], "%s/%s", s->spool_dir, de->d_name) < 0)
                        break;
                /* only what we spooled: our own regular files nobody else can write */
                struct stat st;
                if (lstat(v[n], &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
                        free(v[n]);
                        continue;
                }
                *total_bytes += (size_t)st.st_size;
                n++;
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof *v, spool_cmp);
        *ret = v;
        return n;
}

/* Read a spool file ("LEN SP MSG" records) into l; a damaged tail is dropped. */
static void spool_read(const char *file, msglist *l) {
        FILE *f = fopen(file, "re");
        if (!f)
                return;
        for (;;) {
                size_t len = 0;
                int c, digits = 0;
                while ((c = fgetc(f)) != EOF && c >= '0' && c <= '9' && digits < 8) {
                        len = len * 10 + (size_t)(c - '0');
                        digits++;
                }
                if (c != ' ' || digits == 0 || len == 0 || len > SPOOL_MSG_MAX)
                        break;
                char *p = malloc(len);
                if (!p || fread(p, 1, len, f) != len || ml_push(l, p, len) < 0) {
                        free(p);
                        break;
                }
        }
        fclose(f);
}

static int spool_write(syslog_sink *s, const vd_report *r, const msglist *l, size_t from, char *path_out,
                       size_t path_sz) {
        if (mkdirs(s->spool_dir) < 0)
                return why(s, "%s; and the spool directory %s cannot be made: %s", s->why, s->spool_dir,
                           strerror(errno));
        char tmp[4200];
        snprintf(path_out, path_sz, "%s/%019lld-%s.spool", s->spool_dir, (long long)vd_now_ns(), r->scan_id);
        snprintf(tmp, sizeof tmp, "%s.tmp", path_out);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "we") : NULL;
        bool ok = f != NULL;
        for (size_t i = from; ok && i < l->count; i++)
                ok = fprintf(f, "%zu ", l->n[i]) > 0 && fwrite(l->v[i], 1, l->n[i], f) == l->n[i];
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        if (f)
                ok = fclose(f) == 0 && ok;
        else if (fd >= 0)
                close(fd);
        if (!ok || rename(tmp, path_out) < 0) {
                int e = errno;
                unlink(tmp);
                return why(s, "%s; and the spool %s cannot be written: %s", s->why, path_out, strerror(e));
        }
        return 0;
}

/* ---- the sink ---- */

typedef struct render_ctx {
        const syslog_sink *s;
        msglist *l;
} render_ctx;

static int add_rendered(void *ctx, vd_rmsg *m, const vd_event *ev) {
        render_ctx *rc = ctx;
        (void)ev;
        vd_buf b;
        vd_buf_init(&b, MSG_MAX + 1);
        int r = render(rc->s, m, &b);
        if (r == 0) {
                size_t len;
                char *p = vd_buf_detach(&b, &len);
                r = p ? ml_push(rc->l, p, len) : VD_E_NOMEM;
                if (r)
                        free(p);
        }
        vd_buf_release(&b);
        return r;
}

static int syslog_write(vd_sink *sink, const vd_report *r, vd_err *err) {
        syslog_sink *s = sink->priv;
        msglist l = {0};
        char **old = NULL;
        size_t spool_bytes = 0;
        size_t n_old = spool_list(s, &old, &spool_bytes);
        for (size_t i = 0; i < n_old; i++)
                spool_read(old[i], &l);
        size_t n_spooled = l.count;
        /* this run's messages after them */
        int rc = vd_remote_each(r, s->o.max_events, add_rendered, &(render_ctx){s, &l});
        if (rc < 0) {
                ml_free(&l);
                for (size_t i = 0; i < n_old; i++)
                        free(old[i]);
                free(old);
                return vd_err_set(err, rc, "syslog %s: cannot format the events", s->url);
        }
        /* deliver, with retries */
        size_t sent = 0;
        unsigned delay = s->o.backoff_ms;
        for (unsigned attempt = 1; sent < l.count; attempt++) {
                if (s->fd < 0 && do_connect(s) == 0)
                        s->why[0] = '\0';
                while (s->fd >= 0 && sent < l.count) {
                        /* UDP has no flow control: a burst overflows the
                         * collector's socket buffer and is lost without a
                         * word. Pace it (16 datagrams per ms, 16k/s). */
                        if (s->transport == T_UDP && sent % 16 == 15) {
                                struct timespec pace = {0, 1000000L};
                                nanosleep(&pace, NULL);
                        }
                        if (peer_gone(s) || send_all(s, l.v[sent], l.n[sent]) < 0) {
                                if (!s->why[0])
                                        why(s, "the collector closed the connection");
                                disconnect(s);
                                break;
                        }
                        sent++;
                }
                if (sent == l.count || attempt >= s->o.attempts)
                        break;
                struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
                }
                delay = delay * 2 > 8000 ? 8000 : delay * 2;
        }
        int result = 0;
        if (sent < l.count) {
                char spool[4200] = "";
                size_t left = l.count - sent;
                if (spool_bytes > SPOOL_MAX)
                        result = vd_err_set(err, VD_E_IO,
                                            "syslog %s: %s; %zu messages NOT delivered and the spool %s is full (%zu "
                                            "bytes): deliver or remove it",
                                            s->url, s->why, left, s->spool_dir, spool_bytes);
                else if (spool_write(s, r, &l, sent, spool, sizeof spool) < 0)
                        result = vd_err_set(err, VD_E_IO, "syslog %s: %s; %zu messages NOT delivered", s->url, s->why,
                                            left);
                else {
                        for (size_t i = 0; i < n_old; i++)
                                unlink(old[i]);
                        result = vd_err_set(err, VD_E_IO,
                                            "syslog %s: %s (%u attempt%s); %zu messages kept in %s, sent first by "
                                            "the next run",
                                            s->url, s->why, s->o.attempts, s->o.attempts == 1 ? "" : "s", left, spool);
                }
        } else {
                for (size_t i = 0; i < n_old; i++)
                        unlink(old[i]);
                if (n_spooled)
                        fprintf(stderr, "vmdrift: syslog %s: delivered %zu messages spooled by an earlier run\n",
                                s->url, n_spooled);
        }
        ml_free(&l);
        for (size_t i = 0; i < n_old; i++)
                free(old[i]);
        free(old);
        return result;
}

static int syslog_close(vd_sink *sink, vd_err *err) {
        syslog_sink *s = sink->priv;
        disconnect(s);
        if (s->ctx)
                SSL_CTX_free(s->ctx);
        free(s->url);
        free(s->host);
        free(s->port);
        free(s->path);
        free(s->ca);
        free(s->spool_dir);
        free(s);
        free(sink);
        return 0;
}

static const struct vd_sink_ops syslog_ops = {"syslog", syslog_write, syslog_close};

static void sink_free_partial(syslog_sink *s) {
        vd_sink tmp = {.priv = s};
        vd_sink *heap = malloc(sizeof *heap);
        if (heap) {
                *heap = tmp;
                syslog_close(heap, NULL);
        } else {
                free(s);
        }
}

int vd_syslog_open(const char *url, const vd_sink_opts *o, vd_sink **ret, vd_err *err) {
        syslog_sink *s = calloc(1, sizeof *s);
        if (!s)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        s->fd = -1;
        s->o = *o;
        s->url = strdup(url);
        int r = 0;
        const char *rest = NULL;
        if (strncmp(url, "unix:", 5) == 0) {
                s->transport = T_UNIX;
                s->path = strdup(url + 5);
                if (!url[5] || url[5] != '/')
                        r = vd_err_set(err, VD_E_USAGE, "syslog '%s': expected unix:/ABSOLUTE/PATH", url);
        } else if (strncmp(url, "udp://", 6) == 0) {
                s->transport = T_UDP;
                rest = url + 6;
        } else if (strncmp(url, "tcp://", 6) == 0) {
                s->transport = T_TCP;
                rest = url + 6;
        } else if (strncmp(url, "tls://", 6) == 0) {
                s->transport = T_TLS;
                rest = url + 6;
        } else
                r = vd_err_set(err, VD_E_USAGE,
                               "syslog '%s': expected unix:/dev/log, udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT",
                               url);
        if (r == 0 && rest) {
                /* HOST:PORT, [V6]:PORT; the port defaults to 514 (6514 for TLS) */
                const char *hs = rest, *he, *ps;
                if (*rest == '[') {
                        hs = rest + 1;
                        he = strchr(hs, ']');
                        ps = he && he[1] == ':' ? he + 2 : NULL;
                        if (!he)
                                r = vd_err_set(err, VD_E_USAGE, "syslog '%s': unclosed '[' in the address", url);
                } else {
                        he = strrchr(rest, ':');
                        ps = he ? he + 1 : NULL;
                        if (!he)
                                he = rest + strlen(rest);
                }
                if (r == 0) {
                        s->host = strndup(hs, (size_t)(he - hs));
                        s->port = strdup(ps && *ps ? ps : s->transport == T_TLS ? "6514" : "514");
                        uint64_t pn;
                        if (!s->host || !*s->host || strchr(s->port, '/') || !vd_parse_u64(s->port, &pn) || pn == 0 ||
                            pn > 65535)
                                r = vd_err_set(err, VD_E_USAGE, "syslog '%s': expected HOST:PORT with a port 1-65535",
                                               url);
                }
        }
        if (r == 0 && s->transport == T_TLS) {
                if (!o->syslog_ca)
                        r = vd_err_set(err, VD_E_USAGE, "syslog '%s': tls:// needs --syslog-ca FILE (the CA that signed "
                                                        "the collector's certificate)",
                                       url);
                else {
                        s->ctx = SSL_CTX_new(TLS_client_method());
                        if (!s->ctx)
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        else {
                                SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
                                SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
                                if (SSL_CTX_load_verify_locations(s->ctx, o->syslog_ca, NULL) != 1)
                                        r = vd_err_set(err, VD_E_INPUT,
                                                       "--syslog-ca '%s': not a readable PEM certificate file",
                                                       o->syslog_ca);
                        }
                }
        }
        if (r == 0) {
                const char *state = vd_state_dir(o->state_dir);
                vd_buf slug;
                vd_buf_init(&slug, 0);
                vd_buf_addf(&slug, "%s/spool/", state);
                for (const char *p = url; *p; p++)
                        vd_buf_addc(&slug, (isalnum((unsigned char)*p) || *p == '.' || *p == '-') ? *p : '_');
                s->spool_dir = vd_buf_detach(&slug, NULL);
                /* Messages found in the spool are sent as ours: refuse a
                 * state directory another user could have written them into. */
                char sp[4200];
                snprintf(sp, sizeof sp, "%s/spool", state);
                const char *dirs[] = {state, sp, s->spool_dir};
                for (size_t i = 0; i < 3 && r == 0 && s->spool_dir; i++) {
                        struct stat st;
                        if (lstat(dirs[i], &st) == 0)
                                r = vd_state_dir_check(dirs[i], false, err);
                }
                if (o->hostname)
                        snprintf(s->hostname, sizeof s->hostname, "%s", o->hostname);
                else if (gethostname(s->hostname, sizeof s->hostname - 1) < 0 || !s->hostname[0])
                        snprintf(s->hostname, sizeof s->hostname, "-");
                /* HOSTNAME is PRINTUSASCII, no spaces */
                for (char *p = s->hostname; *p; p++)
                        if (*p <= ' ' || *p > '~')
                                *p = '_';
        }
        vd_sink *sink = r == 0 ? calloc(1, sizeof *sink) : NULL;
        if (r == 0 && (!sink || !s->url || !s->spool_dir || (s->transport == T_UNIX && !s->path)))
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (r < 0) {
                free(sink);
                sink_free_partial(s);
                return r;
        }
        sink->ops = &syslog_ops;
        sink->priv = s;
        *ret = sink;
        return 0;
}
