/* Reporters: one sink interface, several sinks at once.
 *
 * A sink gets the whole report of one run (events, warnings, summary) and
 * writes it in its format. Sinks never own the report.
 *
 * Ownership: a vd_report borrows everything it points to (events,
 * warnings, strings) from the run that made it, which outlives its
 * delivery; sinks are vd_sink_open's and the caller's (vd_sink_close). */
#ifndef VD_REPORT_H
#define VD_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "model/vd_event.h"
#include "model/vd_scan.h"

/* Where a run's time went: the whole run is their sum (plus loading the
 * baseline and policy, which is small). */
enum vd_phase { VD_PH_LAUNCH, VD_PH_MOUNT, VD_PH_WALK, VD_PH_HASH, VD_PH_CONFIG, VD_PH_COMPARE, VD_PH_COUNT };
const char *vd_phase_name(int p); /* "launch", "mount", "walk", "hash", "config", "compare" */

/* Guests: whether a report says where content was hashed, and which scan
 * ran (delta or full, and why). */
static inline bool vd_stats_hashing_said(const vd_scan_stats *s) {
        return s && s->is_guest && (s->files_mapped || s->host_hashing || s->host_hashing_off[0]);
}
static inline bool vd_stats_delta_said(const vd_scan_stats *s) {
        return s && s->is_guest && (s->delta || s->delta_off[0]);
}

typedef struct vd_report {
        char scan_id[37];
        const char *guest; /* vmdrift fleet: the inventory's name for the guest; NULL otherwise */
        const char *source_kind, *source;
        const char *baseline_path, *baseline_source, *baseline_digest;
        int64_t baseline_created_ns;
        const char *baseline_trust; /* "verified (signer ...)", "unverified (...)" */
        bool baseline_verified;
        int64_t started_ns, duration_ns; /* the whole run, from the command's start */
        int64_t max_rss_kb; /* the process's peak resident memory when the report was made; 0: not known */
        int64_t phase_ns[VD_PH_COUNT];
        const char *inspection; /* guests: "full" or "baseline layout"; NULL otherwise */
        /* guests: "launched" (for this scan) or "shared" (started for an
         * earlier guest of the same vmdrift fleet run; appliance_guests: how
         * many guests' disks it holds); NULL otherwise */
        const char *appliance;
        unsigned appliance_guests;
        const char *appliance_peers; /* shared: the other guests in it, a name a line */
        /* an untouched guest: the scan whose report this repeats, and when it
         * ran (NULL: this scan looked at the guest itself) */
        const char *reused_scan_id;
        int64_t reused_started_ns;
        /* ... kept for another guest: this one is a linked clone with nothing
         * written above the template image its baseline was captured from */
        bool reused_twin;
        const vd_events *events; /* in compare order (by path) */
        const vd_warning *warnings;
        size_t n_warnings;
        vd_scan_totals totals;
        /* how the scan was done (hashing where, delta scan); borrowed from
         * the scan; NULL: nothing to say (a tree, a kept report) */
        const vd_scan_stats *stats;
        int64_t last_activity_ns; /* the guest's newest sign of life (0: none); its file: */
        const char *last_activity_path;
        size_t last_activity_path_len;
        /* --advisories: the ecosystem matched (NULL: no advisories given)
         * and what the feed held for it */
        const char *advisories_ecosystem;
        size_t advisories_records, advisories_files;
        bool may_be_inconsistent;
        const char *guest_os, *guest_hostname; /* from inspection, or NULL */
        /* a Windows guest's system drive ("C"), from inspection: its files
         * are shown as C:\\Windows\\... in the text report; NULL otherwise */
        const char *guest_drive;
        const char *guest_os_type; /* inspection's "linux", "windows"...; NULL otherwise */
        int fail_on;   /* severity threshold for exit 1 */
        int exit_code; /* what the run will exit with, given the events */
} vd_report;

/* Counts derived from the events. */
typedef struct vd_counts {
        size_t added, removed, changed, violations, total; /* files and configuration */
        size_t packages;                                   /* package drift events (not in the four above) */
        size_t dormant;                                    /* the dormant finding (0 or 1; nor there) */
        size_t vulnerable;                                 /* advisory hits (package events, not in packages) */
        size_t fleet;                                      /* fleet findings (nor in the others) */
        size_t malware, secrets;                           /* YARA matches (nor in the others) */
        size_t by_sev[5];
} vd_counts;
void vd_report_count(const vd_report *r, vd_counts *c);
/* How the scan ran: "kept" (an untouched guest's kept report), "delta",
 * "full", or "" (a directory tree, or not said). */
const char *vd_report_mode(const vd_report *r);

typedef struct vd_sink vd_sink;

enum vd_syslog_format {
        VD_SYSLOG_RFC5424 = 0, /* structured data [vmdrift@PEN ...], readable MSG */
        VD_SYSLOG_CEE = 1,     /* MSG is "@cee: {json}" (rsyslog mmjsonparse, syslog-ng) */
        VD_SYSLOG_CEF = 2,     /* MSG is ArcSight CEF:0|vmdrift|... */
        VD_SYSLOG_ECS = 3,     /* MSG is "@cee: {ECS document}" (docs/events.md) */
};

/* Settings of the remote sinks (syslog, journal). */
typedef struct vd_sink_opts {
        const char *syslog_ca; /* tls://: CA bundle that must verify the collector */
        int facility;          /* 0..23, default 13 (log audit)... see vd_sink_opts_init */
        unsigned enterprise;   /* SD-ID "vmdrift@<enterprise>" */
        int format;            /* enum vd_syslog_format */
        size_t max_events;     /* flood control: drift events per scan and sink; 0: no limit */
        const char *state_dir; /* the spool lives in <state_dir>/spool */
        unsigned attempts;     /* connection attempts before spooling */
        unsigned backoff_ms;   /* first retry delay, doubled each time */
        const char *hostname;  /* HOSTNAME field; NULL: this host's name */
        bool no_color;         /* the text report to a terminal without colour (NO_COLOR) */
        /* Something the operator should hear that is not an error (a spool
         * from an earlier run delivered): the sinks never print; NULL: dropped. */
        void (*notice)(void *ctx, const char *msg);
        void *notice_ctx;
} vd_sink_opts;

#define VD_DEFAULT_ENTERPRISE 32473u /* RFC 5612's example PEN: set your own */
#define VD_DEFAULT_MAX_EVENTS 1000
void vd_sink_opts_init(vd_sink_opts *o);
int vd_facility_from_name(const char *s); /* "daemon", "local3", "13", ...; -1 if unknown */

/* Open a sink from a --report spec: "text[:FILE]", "json[:FILE]",
 * "syslog[:URL]" (unix:/dev/log, udp://h:p, tcp://h:p, tls://h:p) or
 * "journal". o may be NULL (defaults). Unknown kind or a bad URL ->
 * VD_E_USAGE; a FILE that cannot be created -> VD_E_IO. Remote sinks do not
 * connect here: delivery (with retries, then the spool) happens in write. */
int vd_sink_open(const char *spec, const vd_sink_opts *o, vd_sink **ret, vd_err *err);
int vd_sink_write(vd_sink *s, const vd_report *r, vd_err *err);
/* Flush and close; reports a failed final write (disk full) as VD_E_IO. */
int vd_sink_close(vd_sink *s, vd_err *err);
const char *vd_sink_name(const vd_sink *s);

/* The file a spec writes ("text:F", "json:F", "ecs:F"), or NULL (stdout,
 * syslog, the journal). */
const char *vd_sink_spec_file(const char *spec);
/* A file sink's kind ("text", "json", "ecs", "ocsf", "prometheus"), or NULL (syslog, journal). */
const char *vd_sink_spec_kind(const char *spec);
/* Open one sink per spec, before any long work: 0, or the first failure
 * with the sinks opened so far closed (every entry NULL). */
int vd_sinks_open(const char *const *specs, size_t n, const vd_sink_opts *o, vd_sink **sinks, vd_err *err);
/* Close the sinks left open on an error path (NULL entries are skipped). */
void vd_sinks_close(vd_sink **sinks, size_t n);
/* Set rep->exit_code (1: an event at or above rep->fail_on, else 0), give
 * every sink the report (each gets it even if an earlier one failed), close
 * them. A sink that fails is said through failed(ctx, err). Returns
 * rep->exit_code, or vd_code_exit of the last failure. */
int vd_sinks_deliver(vd_sink **sinks, size_t n, vd_report *rep, void (*failed)(void *ctx, const vd_err *err),
                     void *ctx);

/* For tests and tools: write one event as a JSON object (no newline). */
int vd_json_event(vd_buf *b, const vd_report *r, const vd_event *ev);
/* The "changes" object of an event: {"mode":{"old":"0644","new":"4755"},...} */
int vd_json_changes(vd_buf *b, const vd_event *ev);

#endif
