/* What one scan came to, as a typed record: what vmdrift fleet keeps per
 * guest and what a fleet worker hands back for each guest it scanned (a
 * small binary record, never a report parsed again).
 * Ownership: a plain value, no pointers. */
#ifndef VD_OUTCOME_H
#define VD_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "report/vd_report.h"

typedef struct vd_scan_outcome {
        int exit_code;              /* 0 clean, 1 drift at or above fail_on, 2 usage, 3 runtime */
        size_t total, by_sev[5];
        vd_scan_totals totals;
        char mode[8];               /* "kept", "delta", "full", or "" (a directory tree) */
        bool launched;              /* the scan started an appliance */
        char baseline_digest[65];
        char scan_id[37];
        int64_t started_ns, ended_ns;
        char error[256];            /* a failed scan: what it said */
} vd_scan_outcome;

/* The outcome a delivered report stands for. */
void vd_scan_outcome_from_report(const vd_report *rep, vd_scan_outcome *ret);

/* A failed scan: code (2 or 3) and why. */
void vd_scan_outcome_failed(vd_scan_outcome *o, int exit_code, const char *why);

/* The binary record (vd_buf_add_*; read back bounded with vd_rd). */
int vd_scan_outcome_encode(const vd_scan_outcome *o, vd_buf *out);
int vd_scan_outcome_decode(const void *p, size_t n, vd_scan_outcome *ret, vd_err *err);

#endif
