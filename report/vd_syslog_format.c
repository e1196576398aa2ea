/* Syslog messages: RFC 5424 with structured data, @cee JSON or CEF. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/vd_json.h"
#include "common/vd_str.h"
#include "vd_syslog_int.h"

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

static int format_msg(const syslog_sink *s, const vd_report *rep, const vd_rmsg *m, const vd_event *ev, bool compact,
                      vd_buf *b) {
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
        } else if (s->o.format == VD_SYSLOG_ECS) {
                r = vd_buf_adds(b, "- @cee: ");
                if (!r)
                        r = ev ? vd_ecs_document(b, rep, ev, s->hostname, compact)
                               : vd_ecs_notice(b, rep, m, vd_rkind_msgid(m->kind), s->hostname);
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
                        else if (!r)
                                r = vd_json_put_str(b, m->f[i].v, m->f[i].n);
                }
                if (!r)
                        r = vd_buf_adds(b, ",\"msg\":");
                if (!r)
                        r = vd_json_put_str(b, m->text, m->text_len);
                if (!r)
                        r = vd_buf_addc(b, '}');
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
int vd_syslog_render(const syslog_sink *s, const vd_report *rep, vd_rmsg *m, const vd_event *ev, vd_buf *out) {
        for (int pass = 0; pass < 2; pass++) {
                vd_buf b;
                vd_buf_init(&b, MSG_MAX);
                int r = format_msg(s, rep, m, ev, pass > 0, &b);
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
