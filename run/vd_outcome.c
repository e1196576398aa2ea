/* What one scan came to (see vd_outcome.h). */
#include "run/vd_outcome.h"

#include <stdio.h>
#include <string.h>

#define MAGIC "vdout\0\0\1"

void vd_scan_outcome_from_report(const vd_report *rep, vd_scan_outcome *o) {
        memset(o, 0, sizeof *o);
        vd_counts c;
        vd_report_count(rep, &c);
        o->exit_code = rep->exit_code;
        o->total = c.total;
        memcpy(o->by_sev, c.by_sev, sizeof o->by_sev);
        o->totals = rep->totals;
        snprintf(o->mode, sizeof o->mode, "%s", vd_report_mode(rep));
        o->launched = rep->appliance && strcmp(rep->appliance, "launched") == 0;
        snprintf(o->baseline_digest, sizeof o->baseline_digest, "%s", rep->baseline_digest ? rep->baseline_digest : "");
        snprintf(o->scan_id, sizeof o->scan_id, "%s", rep->scan_id);
        o->started_ns = rep->started_ns;
        o->ended_ns = rep->started_ns + rep->duration_ns;
}

void vd_scan_outcome_failed(vd_scan_outcome *o, int exit_code, const char *why) {
        o->exit_code = exit_code;
        snprintf(o->error, sizeof o->error, "%s", why ? why : "");
}

static int put_str(vd_buf *b, const char *s) {
        size_t n = strlen(s);
        int r = vd_buf_add_u32(b, (uint32_t)n);
        return r ? r : vd_buf_add(b, s, n);
}

static bool get_str(vd_rd *r, char *dst, size_t cap) {
        uint32_t n;
        const unsigned char *p = vd_rd_u32(r, &n) && n < cap ? vd_rd_take(r, n) : NULL;
        if (!p || memchr(p, '\0', n)) {
                r->bad = true;
                return false;
        }
        memcpy(dst, p, n);
        dst[n] = '\0';
        return true;
}

int vd_scan_outcome_encode(const vd_scan_outcome *o, vd_buf *b) {
        int r = vd_buf_add(b, MAGIC, 8);
        if (!r)
                r = vd_buf_add_u32(b, (uint32_t)o->exit_code);
        if (!r)
                r = vd_buf_add_u64(b, o->total);
        for (int i = 0; i < 5 && !r; i++)
                r = vd_buf_add_u64(b, o->by_sev[i]);
        if (!r)
                r = vd_buf_add_u64(b, o->totals.entries);
        if (!r)
                r = vd_buf_add_u64(b, o->totals.files_hashed);
        if (!r)
                r = vd_buf_add_u64(b, o->totals.bytes_hashed);
        if (!r)
                r = vd_buf_add_u32(b, o->launched);
        if (!r)
                r = vd_buf_add_u64(b, (uint64_t)o->started_ns);
        if (!r)
                r = vd_buf_add_u64(b, (uint64_t)o->ended_ns);
        if (!r)
                r = put_str(b, o->mode);
        if (!r)
                r = put_str(b, o->baseline_digest);
        if (!r)
                r = put_str(b, o->scan_id);
        if (!r)
                r = put_str(b, o->error);
        return r;
}

int vd_scan_outcome_decode(const void *p, size_t n, vd_scan_outcome *o, vd_err *err) {
        memset(o, 0, sizeof *o);
        vd_rd r;
        vd_rd_init(&r, p, n);
        const unsigned char *m = vd_rd_take(&r, 8);
        uint32_t code = 0, launched = 0;
        uint64_t v[12] = {0};
        if (!m || memcmp(m, MAGIC, 8) != 0)
                return vd_err_set(err, VD_E_IO, "scan outcome: not a record");
        vd_rd_u32(&r, &code);
        for (int i = 0; i < 9; i++)
                vd_rd_u64(&r, &v[i]);
        vd_rd_u32(&r, &launched);
        vd_rd_u64(&r, &v[9]);
        vd_rd_u64(&r, &v[10]);
        get_str(&r, o->mode, sizeof o->mode);
        get_str(&r, o->baseline_digest, sizeof o->baseline_digest);
        get_str(&r, o->scan_id, sizeof o->scan_id);
        get_str(&r, o->error, sizeof o->error);
        if (r.bad || vd_rd_left(&r) || code > 255 || launched > 1) {
                memset(o, 0, sizeof *o);
                return vd_err_set(err, VD_E_IO, "scan outcome: a damaged record");
        }
        o->exit_code = (int)code;
        o->total = (size_t)v[0];
        for (int i = 0; i < 5; i++)
                o->by_sev[i] = (size_t)v[1 + i];
        o->totals = (vd_scan_totals){v[6], v[7], v[8]};
        o->launched = launched;
        o->started_ns = (int64_t)v[9];
        o->ended_ns = (int64_t)v[10];
        return 0;
}
