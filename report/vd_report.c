/* The report of one run, as every sink gets it. */
#include "report/vd_report.h"

#include <string.h>

void vd_report_count(const vd_report *r, vd_counts *c) {
        memset(c, 0, sizeof *c);
        for (size_t i = 0; i < r->events->n; i++) {
                const vd_event *e = &r->events->v[i];
                if (e->fleet)
                        c->fleet++;
                else if (e->kind == VD_CH_VULNERABLE)
                        c->vulnerable++;
                else if (e->kind == VD_CH_MALWARE)
                        c->malware++;
                else if (e->kind == VD_CH_SECRET)
                        c->secrets++;
                else if (e->package)
                        c->packages++;
                else if (e->kind == VD_CH_DORMANT)
                        c->dormant++;
                else if (e->kind == VD_CH_ADDED)
                        c->added++;
                else if (e->kind == VD_CH_REMOVED)
                        c->removed++;
                else if (e->kind == VD_CH_VIOLATION)
                        c->violations++;
                else
                        c->changed++;
                if (e->severity >= 0 && e->severity <= VD_SEV_CRITICAL)
                        c->by_sev[e->severity]++;
                c->total++;
        }
}

const char *vd_phase_name(int p) {
        static const char *const names[VD_PH_COUNT] = {"launch", "mount", "walk", "hash", "config", "compare"};
        return p >= 0 && p < VD_PH_COUNT ? names[p] : "unknown";
}

const char *vd_report_mode(const vd_report *r) {
        return r->reused_scan_id                   ? "kept"
               : vd_stats_delta_said(r->stats) ? (r->stats->delta ? "delta" : "full")
                                                : "";
}
