/* The fleet's page: one self-contained HTML file (no script, font, image
 * or request of any kind; a Content-Security-Policy that forbids them)
 * with each guest's status, severity counts, last scan, mode and
 * duration, its recent runs, and its events behind a <details> element;
 * and the fleet's findings. Every string in it came from a guest or an
 * operator's file: each is display-escaped (control, bidirectional and
 * invisible characters, bytes of no UTF-8 as \xNN) and then HTML-escaped,
 * so no name or path can become markup. */
#ifndef VD_HTML_H
#define VD_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "model/vd_event.h"

typedef struct vd_html_event {
        const char *severity, *change, *path; /* path: raw bytes, NUL-terminated */
        const char *what;                     /* rule, detector or configuration format, or NULL */
        const char *details;                  /* "attr: old -> new; ..." or NULL */
} vd_html_event;

typedef struct vd_html_run {
        int64_t time_ns, duration_ms;
        const char *result, *mode;
        size_t total, by_sev[5];
} vd_html_run;

typedef struct vd_html_guest {
        const char *name, *source;
        const char *result; /* clean, drift, error, unreachable; "" never scanned */
        const char *mode;   /* kept, delta, full, or "" */
        const char *error;  /* or "" */
        int64_t time_ns, duration_ms;
        size_t total, by_sev[5];
        const vd_html_run *history; /* oldest first */
        size_t n_history;
        const vd_html_event *events; /* this run's, the first n_events of events_total */
        size_t n_events, events_total;
        int events_known; /* this run's events were read (0: not scanned this run, or unreadable) */
} vd_html_guest;

typedef struct vd_html_fleet {
        const char *inventory, *host;
        int64_t time_ns;
        const vd_html_guest *guests;
        size_t n_guests;
        const vd_events *findings;
} vd_html_fleet;

/* Append the page to b. 0 or VD_E_NOMEM / VD_E_LIMIT (b's cap). */
int vd_html_fleet_render(vd_buf *b, const vd_html_fleet *f);

#endif
