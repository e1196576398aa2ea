/* Reporters: one sink interface, several sinks at once.
 *
 * A sink gets the whole report of one run (events, warnings, summary) and
 * writes it in its format. Sinks never own the report.
 */
#ifndef VD_REPORT_H
#define VD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vd_err.h"
#include "vd_event.h"
#include "vd_source.h"

typedef struct vd_report {
        char scan_id[37];
        const char *source_kind, *source;
        const char *baseline_path, *baseline_source, *baseline_digest;
        int64_t baseline_created_ns;
        const char *baseline_trust; /* "verified (signer ...)", "unverified (...)" */
        bool baseline_verified;
        int64_t started_ns, duration_ns;
        const vd_events *events; /* in compare order (by path) */
        const vd_warning *warnings;
        size_t n_warnings;
        uint64_t entries_scanned, files_hashed, bytes_hashed;
        bool may_be_inconsistent;
        const char *guest_os, *guest_hostname; /* from inspection, or NULL */
        int fail_on;   /* severity threshold for exit 1 */
        int exit_code; /* what the run will exit with, given the events */
} vd_report;

/* Counts derived from the events. */
typedef struct vd_counts {
        size_t added, removed, changed, violations, total;
        size_t by_sev[5];
} vd_counts;
void vd_report_count(const vd_report *r, vd_counts *c);

typedef struct vd_sink vd_sink;

/* Open a sink from a --report spec: "text", "text:FILE", "json", "json:FILE".
 * Unknown kind -> VD_E_USAGE; a FILE that cannot be created -> VD_E_IO. */
int vd_sink_open(const char *spec, vd_sink **ret, vd_err *err);
int vd_sink_write(vd_sink *s, const vd_report *r, vd_err *err);
/* Flush and close; reports a failed final write (disk full) as VD_E_IO. */
int vd_sink_close(vd_sink *s, vd_err *err);
const char *vd_sink_name(const vd_sink *s);

/* For tests and tools: write one event as a JSON object (no newline). */
int vd_json_event(vd_buf *b, const vd_report *r, const vd_event *ev);

#endif
