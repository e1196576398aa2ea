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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/vd_state.h"
#include "common/vd_str.h"
#include "vd_syslog_int.h"

typedef struct render_ctx {
        const syslog_sink *s;
        const vd_report *r;
        vd_msglist *l;
} render_ctx;

static int add_rendered(void *ctx, vd_rmsg *m, const vd_event *ev) {
        render_ctx *rc = ctx;
        vd_buf b;
        vd_buf_init(&b, MSG_MAX + 1);
        int r = vd_syslog_render(rc->s, rc->r, m, ev, &b);
        if (r == 0) {
                size_t len;
                char *p = vd_buf_detach(&b, &len);
                r = p ? vd_msglist_push(rc->l, p, len) : VD_E_NOMEM;
                if (r)
                        free(p);
        }
        vd_buf_release(&b);
        return r;
}

static int syslog_write(vd_sink *sink, const vd_report *r, vd_err *err) {
        syslog_sink *s = sink->priv;
        vd_msglist l = {0};
        char **old = NULL;
        size_t spool_bytes = 0;
        size_t n_old = vd_spool_list(s->spool_dir, &old, &spool_bytes);
        for (size_t i = 0; i < n_old; i++)
                vd_spool_read(old[i], &l);
        size_t n_spooled = l.count;
        /* this run's messages after them */
        int rc = vd_remote_each(r, s->o.max_events, add_rendered, &(render_ctx){s, r, &l});
        if (rc < 0) {
                vd_msglist_free(&l);
                for (size_t i = 0; i < n_old; i++)
                        free(old[i]);
                free(old);
                return vd_err_set(err, rc, "syslog %s: cannot format the events", s->url);
        }
        /* deliver, with retries */
        size_t sent = 0;
        unsigned delay = s->o.backoff_ms;
        for (unsigned attempt = 1; sent < l.count; attempt++) {
                if (s->fd < 0 && vd_syslog_connect(s) == 0)
                        vd_err_clear(&s->last);
                while (s->fd >= 0 && sent < l.count) {
                        /* UDP has no flow control: a burst overflows the
                         * collector's socket buffer and is lost without a
                         * word. Pace it (16 datagrams per ms, 16k/s). */
                        if (s->transport == T_UDP && sent % 16 == 15) {
                                struct timespec pace = {0, 1000000L};
                                nanosleep(&pace, NULL);
                        }
                        if (vd_syslog_peer_gone(s) || vd_syslog_send(s, l.v[sent], l.n[sent]) < 0) {
                                if (!s->last.msg[0])
                                        vd_err_set(&s->last, VD_E_IO, "the collector closed the connection");
                                vd_syslog_disconnect(s);
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
                vd_err se = VD_ERR_INIT;
                size_t left = l.count - sent;
                if (spool_bytes > SPOOL_MAX)
                        result = vd_err_set(err, VD_E_IO,
                                            "syslog %s: %s; %zu messages NOT delivered and the spool %s is full (%zu "
                                            "bytes): deliver or remove it",
                                            s->url, s->last.msg, left, s->spool_dir, spool_bytes);
                else if (vd_spool_write(s->spool_dir, r->scan_id, &l, sent, spool, sizeof spool, &se) < 0)
                        result = vd_err_set(err, VD_E_IO, "syslog %s: %s; and %s; %zu messages NOT delivered", s->url,
                                            s->last.msg, se.msg, left);
                else {
                        for (size_t i = 0; i < n_old; i++)
                                unlink(old[i]);
                        result = vd_err_set(err, VD_E_IO,
                                            "syslog %s: %s (%u attempt%s); %zu messages kept in %s, sent first by "
                                            "the next run",
                                            s->url, s->last.msg, s->o.attempts, s->o.attempts == 1 ? "" : "s", left, spool);
                }
        } else {
                for (size_t i = 0; i < n_old; i++)
                        unlink(old[i]);
                if (n_spooled && s->o.notice) {
                        char msg[4300];
                        snprintf(msg, sizeof msg, "syslog %s: delivered %zu messages spooled by an earlier run",
                                 s->url, n_spooled);
                        s->o.notice(s->o.notice_ctx, msg);
                }
        }
        vd_msglist_free(&l);
        for (size_t i = 0; i < n_old; i++)
                free(old[i]);
        free(old);
        return result;
}

static void syslog_free(syslog_sink *s) {
        if (!s)
                return;
        vd_syslog_disconnect(s);
        if (s->ctx)
                SSL_CTX_free(s->ctx);
        free(s->url);
        free(s->host);
        free(s->port);
        free(s->path);
        free(s->ca);
        free(s->spool_dir);
        free(s);
}

static int syslog_close(vd_sink *sink, vd_err *err) {
        syslog_free(sink->priv);
        free(sink);
        return 0;
}

static const struct vd_sink_ops syslog_ops = {"syslog", syslog_write, syslog_close};

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
                const char *state = vd_state_dir(o->state_dir, NULL);
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
                syslog_free(s);
                return r;
        }
        sink->ops = &syslog_ops;
        sink->priv = s;
        *ret = sink;
        return 0;
}
