/* Metrics for monitoring: the Prometheus text format (version 0.0.4), for
 * node_exporter's textfile collector (the file sinks write atomically).
 * Per guest: its last scan's end, the last that ran to the end (exit 0 or
 * 1), duration, exit code, drift events by severity and how it ran; for a
 * fleet also its findings by kind. Label values are the guest's name
 * (escaped, at most VD_METRIC_LABEL_MAX bytes) and fixed words. */
#ifndef VD_METRICS_H
#define VD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"

#define VD_METRIC_LABEL_MAX 200

typedef struct vd_metric_guest {
        const char *name;
        int64_t end_ns;          /* the last scan's end; 0: never scanned */
        int64_t last_success_ns; /* the last that ran to the end; 0: never */
        int64_t duration_ms;
        int exit_code;           /* -1: not run (unreachable) */
        size_t by_sev[5];
        const char *mode; /* "full", "delta", "kept", "" (a tree) */
} vd_metric_guest;

typedef struct vd_metric_fleet {
        size_t guests, unmanaged, stale, orphan, unreachable;
} vd_metric_fleet;

/* The metrics of n guests (and of their fleet, if fleet), into out:
 * 0 or VD_E_NOMEM. */
int vd_metrics_render(vd_buf *out, const vd_metric_guest *g, size_t n, const vd_metric_fleet *fleet);

#endif
