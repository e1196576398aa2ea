/* Prometheus text format; see vd_metrics.h. One family at a time (HELP,
 * TYPE, then a sample per guest), as the format wants each family's
 * samples together. */
#define _GNU_SOURCE
#include "report/vd_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/vd_str.h"
#include "vd_sink_int.h"

/* A label value: backslash, quote and newline escaped as the format says;
 * other control bytes and bytes of no UTF-8 as '?'; at most
 * VD_METRIC_LABEL_MAX bytes (a longer name is cut at a character). */
static int label(vd_buf *b, const char *v) {
        const unsigned char *u = (const unsigned char *)(v ? v : "");
        size_t n = strlen((const char *)u), used = 0;
        int r = vd_buf_addc(b, '"');
        for (size_t i = 0; i < n && !r;) {
                size_t l = 1;
                if (u[i] >= 0x80) {
                        l = 1;
                        while (i + l < n && l < 4 && (u[i + l] & 0xc0) == 0x80)
                                l++;
                        if (!vd_utf8_valid((const char *)u + i, l))
                                l = 1;
                }
                if (used + l > VD_METRIC_LABEL_MAX)
                        break;
                if (u[i] == '\\' || u[i] == '"')
                        r = vd_buf_addf(b, "\\%c", u[i]);
                else if (u[i] == '\n')
                        r = vd_buf_adds(b, "\\n");
                else if (u[i] < 0x20 || u[i] == 0x7f || (u[i] >= 0x80 && l == 1))
                        r = vd_buf_addc(b, '?');
                else
                        r = vd_buf_add(b, u + i, l);
                used += l;
                i += l;
        }
        return r ? r : vd_buf_addc(b, '"');
}

static int family(vd_buf *b, const char *name, const char *type, const char *help) {
        return vd_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* value with decimals digits after the point: seconds to the millisecond, counts whole */
static int sample(vd_buf *b, const char *name, const char *guest, const char *k2, const char *v2, double value,
                  int decimals) {
        int r = vd_buf_addf(b, "%s{guest=", name);
        if (!r)
                r = label(b, guest);
        if (!r && k2)
                r = vd_buf_addf(b, ",%s=\"%s\"", k2, v2);
        if (!r)
                r = vd_buf_addf(b, "} %.*f\n", decimals, value);
        return r;
}

static const char *mode_word(const char *m) { return m && *m ? m : "tree"; }

int vd_metrics_render(vd_buf *b, const vd_metric_guest *g, size_t n, const vd_metric_fleet *fleet) {
        static const char *const sev[5] = {"info", "low", "medium", "high", "critical"};
        static const char *const modes[4] = {"full", "delta", "kept", "tree"};
        int r = family(b, "vmdrift_guest_last_scan_timestamp_seconds", "gauge",
                       "When the guest's last scan ended (Unix time).");
        for (size_t i = 0; i < n && !r; i++)
                if (g[i].end_ns)
                        r = sample(b, "vmdrift_guest_last_scan_timestamp_seconds", g[i].name, NULL, NULL,
                                   (double)g[i].end_ns / 1e9, 3);
        if (!r)
                r = family(b, "vmdrift_guest_last_success_timestamp_seconds", "gauge",
                           "When the guest's last scan that ran to the end (exit 0 or 1) started (Unix time).");
        for (size_t i = 0; i < n && !r; i++)
                if (g[i].last_success_ns)
                        r = sample(b, "vmdrift_guest_last_success_timestamp_seconds", g[i].name, NULL, NULL,
                                   (double)g[i].last_success_ns / 1e9, 3);
        if (!r)
                r = family(b, "vmdrift_guest_scan_duration_seconds", "gauge", "How long the guest's last scan took.");
        for (size_t i = 0; i < n && !r; i++)
                if (g[i].end_ns)
                        r = sample(b, "vmdrift_guest_scan_duration_seconds", g[i].name, NULL, NULL,
                                   (double)g[i].duration_ms / 1e3, 3);
        if (!r)
                r = family(b, "vmdrift_guest_scan_exit_code", "gauge",
                           "The exit code of the guest's last scan: 0 clean, 1 drift, 2 usage, 3 runtime error, -1 "
                           "not run (unreachable).");
        for (size_t i = 0; i < n && !r; i++)
                if (g[i].end_ns || g[i].exit_code < 0)
                        r = sample(b, "vmdrift_guest_scan_exit_code", g[i].name, NULL, NULL, g[i].exit_code, 0);
        if (!r)
                r = family(b, "vmdrift_guest_drift_events", "gauge",
                           "Drift events of the guest's last scan that ran to the end, by severity.");
        for (size_t i = 0; i < n && !r; i++)
                for (int s = 0; s < 5 && !r && g[i].last_success_ns; s++)
                        r = sample(b, "vmdrift_guest_drift_events", g[i].name, "severity", sev[s], (double)g[i].by_sev[s], 0);
        if (!r)
                r = family(b, "vmdrift_guest_scan_mode", "gauge",
                           "How the guest's last scan ran: 1 for its mode (full, delta, kept report, tree), 0 for "
                           "the others.");
        for (size_t i = 0; i < n && !r; i++)
                for (int m = 0; m < 4 && !r && g[i].end_ns; m++)
                        r = sample(b, "vmdrift_guest_scan_mode", g[i].name, "mode", modes[m],
                                   strcmp(mode_word(g[i].mode), modes[m]) == 0, 0);
        if (!r && fleet) {
                static const char *const kinds[] = {"unmanaged", "stale", "orphan", "unreachable"};
                size_t v[] = {fleet->unmanaged, fleet->stale, fleet->orphan, fleet->unreachable};
                r = family(b, "vmdrift_fleet_guests", "gauge", "Guests in the fleet's inventory.");
                if (!r)
                        r = vd_buf_addf(b, "vmdrift_fleet_guests %zu\n", fleet->guests);
                if (!r)
                        r = family(b, "vmdrift_fleet_findings", "gauge",
                                   "The fleet's own findings of its last run, by kind.");
                for (int k = 0; k < 4 && !r; k++)
                        r = vd_buf_addf(b, "vmdrift_fleet_findings{kind=\"%s\"} %zu\n", kinds[k], v[k]);
        }
        return r ? VD_E_NOMEM : 0;
}

/* --report prometheus[:FILE] on a scan: its one guest, named by the
 * fleet's name for it, else its hostname, else the source. */
static int prom_write(vd_sink *s, const vd_report *r, vd_err *err) {
        vd_counts c;
        vd_report_count(r, &c);
        bool ran = r->exit_code == 0 || r->exit_code == 1;
        vd_metric_guest g = {
                .name = r->guest ? r->guest : r->guest_hostname ? r->guest_hostname : r->source,
                .end_ns = r->started_ns + r->duration_ns,
                .last_success_ns = ran ? r->started_ns : 0,
                .duration_ms = r->duration_ns / 1000000,
                .exit_code = r->exit_code,
                .mode = vd_report_mode(r),
        };
        memcpy(g.by_sev, c.by_sev, sizeof g.by_sev);
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = vd_metrics_render(&b, &g, 1, NULL);
        if (!rc && fwrite(b.buf, 1, b.len, s->fp) != b.len)
                rc = vd_err_errno(err, VD_E_IO, errno, "cannot write the metrics");
        else if (rc)
                rc = vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf_release(&b);
        return rc;
}

const struct vd_sink_ops vd_prom_ops = {"prometheus", prom_write, NULL};
