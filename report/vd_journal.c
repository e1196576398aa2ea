/* The journal sink: one sd_journal_sendv per event, with a fixed MESSAGE_ID
 * per event kind (report/vmdrift.catalog explains each for journalctl -x),
 * PRIORITY, SYSLOG_IDENTIFIER and VMDRIFT_* fields. Field values are sent as
 * bytes: a path with a newline or invalid UTF-8 arrives exactly. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "report/vd_remote.h"
#include "vd_sink_int.h"

typedef struct journal_sink {
        vd_sink_opts o;
} journal_sink;

static int send_one(const journal_sink *j, const vd_rmsg *m, const vd_event *ev) {
        struct iovec iov[VD_RF_MAX + 8];
        char *own[VD_RF_MAX + 8];
        size_t n = 0, no = 0;
        int r = 0;
#define PUSHF(...)                                                                                                     \
        do {                                                                                                           \
                char *x_ = NULL;                                                                                       \
                int l_ = asprintf(&x_, __VA_ARGS__);                                                                   \
                if (l_ < 0) {                                                                                          \
                        r = -ENOMEM;                                                                                   \
                        goto out;                                                                                      \
                }                                                                                                      \
                own[no++] = x_;                                                                                        \
                iov[n].iov_base = x_;                                                                                  \
                iov[n++].iov_len = (size_t)l_;                                                                         \
        } while (0)
        PUSHF("MESSAGE=%.*s", (int)m->text_len, m->text);
        PUSHF("MESSAGE_ID=%s", vd_rkind_message_id(m->kind));
        PUSHF("PRIORITY=%d", vd_syslog_severity(m));
        PUSHF("SYSLOG_IDENTIFIER=vmdrift");
        PUSHF("SYSLOG_FACILITY=%d", j->o.facility);
        for (size_t i = 0; i < m->nf; i++) {
                const vd_rfield *f = &m->f[i];
                char name[64];
                size_t k = (size_t)snprintf(name, sizeof name, "VMDRIFT_");
                for (const char *p = f->name; *p && k + 1 < sizeof name; p++)
                        name[k++] = (char)toupper((unsigned char)*p);
                name[k] = '\0';
                /* the exact path bytes, not the display form */
                const char *v = f->v;
                size_t vl = f->n;
                if (ev && strcmp(f->name, "path") == 0) {
                        v = ev->path;
                        vl = ev->path_len;
                }
                char *x = malloc(k + 1 + vl);
                if (!x) {
                        r = -ENOMEM;
                        goto out;
                }
                memcpy(x, name, k);
                x[k] = '=';
                memcpy(x + k + 1, v, vl);
                own[no++] = x;
                iov[n].iov_base = x;
                iov[n++].iov_len = k + 1 + vl;
        }
        r = sd_journal_sendv(iov, (int)n);
out:
        for (size_t i = 0; i < no; i++)
                free(own[i]);
        return r;
#undef PUSHF
}

typedef struct send_ctx {
        const journal_sink *j;
        int fails, first_errno;
} send_ctx;

static int send_cb(void *ctx, vd_rmsg *m, const vd_event *ev) {
        send_ctx *c = ctx;
        int s = send_one(c->j, m, ev);
        if (s < 0 && !c->fails++)
                c->first_errno = -s;
        return 0; /* keep sending the others */
}

static int journal_write(vd_sink *sink, const vd_report *r, vd_err *err) {
        journal_sink *j = sink->priv;
        send_ctx c = {j, 0, 0};
        int rc = vd_remote_each(r, j->o.max_events, send_cb, &c);
        if (rc < 0)
                return vd_err_set(err, rc, "journal: cannot format the events");
        if (c.fails)
                return vd_err_errno(err, VD_E_IO, c.first_errno,
                                    "journal: %d of the messages could not be sent (is systemd-journald running?)",
                                    c.fails);
        return 0;
}

static int journal_close(vd_sink *sink, vd_err *err) {
        free(sink->priv);
        free(sink);
        return 0;
}

static const struct vd_sink_ops journal_ops = {"journal", journal_write, journal_close};

int vd_journal_open(const vd_sink_opts *o, vd_sink **ret, vd_err *err) {
        vd_sink *s = calloc(1, sizeof *s);
        journal_sink *j = calloc(1, sizeof *j);
        if (!s || !j) {
                free(s);
                free(j);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        j->o = *o;
        s->ops = &journal_ops;
        s->priv = j;
        *ret = s;
        return 0;
}
