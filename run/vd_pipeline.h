/* The scan pipeline: source -> entries -> compare -> configuration values
 * -> events -> report. Every command that looks at a guest (capture, scan,
 * accept; the fleet next) runs it through here and only adds its own
 * options around it and its own output after it.
 */
#ifndef VD_PIPELINE_H
#define VD_PIPELINE_H

#include <stdbool.h>

#include "baseline/vd_baseline.h"
#include "collect/vd_source.h"
#include "formats/vd_config.h"
#include "model/vd_event.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"
#include "run/vd_yarascan.h"

enum vd_run_mode {
        VD_RUN_CAPTURE = 1, /* walk, collect configuration values (and check their desired state) */
        VD_RUN_ACCEPT = 2,  /* walk, file drift against the baseline, collect configuration values */
        VD_RUN_SCAN = 3,    /* walk, file drift, desired state, configuration drift */
};

typedef struct vd_run {
        int mode;                  /* enum vd_run_mode */
        vd_source *src;            /* opened; borrowed */
        const vd_baseline *base;   /* resolved; its hash key and algorithm key the walk */
        const vd_policy *policy;   /* with this run's --ignore applied */
        const char *policy_digest; /* SCAN: of the policy as written; a baseline captured
                                    * under another policy gets a warning */
        vd_scan_opts opts;         /* threads, depth, one file system; key and algorithm come from base */
        bool quick;                /* SCAN: files whose metadata match base keep its hashes unread */
        bool delta;                /* SCAN: a linked clone's files proved unchanged since the template keep base's hashes */
        const char *warning;       /* SCAN: one more warning for the report (a rollback notice), or NULL */
        int64_t started_ns;        /* when the command started (the report's duration); 0: the walk's start */
        /* SCAN: compare the guest's packages with this baseline's (a newer
         * template's: --packages-from) instead of base's; NULL: base. */
        const vd_baseline *packages_from;
        /* SCAN: OSV advisory records (a file or directory) to match the
         * guest's packages against, and the ecosystem to take from them
         * (NULL: the guest's own, from its OS facts). */
        const char *advisories;
        const char *ecosystem;
        /* CAPTURE: the entries go to this writer as the walk hands them on,
         * none kept (vd_baseline_writer_end writes the rest); NULL: they
         * stay in the run's scan for vd_run_capture. */
        vd_baseline_writer *writer;
        /* SCAN: YARA rules for what changed (vd_yarascan.h); all NULL: the
         * policy's secret rules only, if loaded */
        vd_yara_req yara;
} vd_run;

/* What a run produced; owns everything in it. */
typedef struct vd_run_out {
        vd_scan scan;         /* entries, warnings, facts, packages, counters */
        vd_events events;     /* SCAN: file drift, then desired-state violations, then configuration
                               * drift, then package drift; ACCEPT: file drift */
        vd_events violations; /* CAPTURE and ACCEPT: desired-state violations */
        vd_confsets conf;     /* the configuration values read now */
        int64_t config_ns, compare_ns;
        /* SCAN: the guest's newest sign of life (the newest mtime of a file
         * under /var/log: logs, wtmp, lastlog, the journal), not in the
         * future; 0 when there is none. The path points into scan, or
         * into last_activity_buf. */
        int64_t last_activity_ns;
        const char *last_activity_path;
        size_t last_activity_path_len;
        char *last_activity_buf; /* a streamed scan's copy of that path (owned) */
        size_t n_entries;        /* the source's entries (a streamed scan keeps none in scan) */
        /* SCAN with advisories: the ecosystem matched ("" when none could
         * be told) and what the feed held for it */
        char ecosystem[64];
        size_t advisory_records, advisory_files;
        int64_t advisories_ns;
        /* CAPTURE: the text of the files the policy's content: names;
         * SCAN: the text of those found changed or added (vd_texts.h) */
        vd_contents texts;
} vd_run_out;

void vd_run_init(vd_run *run, int mode);
void vd_run_out_init(vd_run_out *out);
void vd_run_out_release(vd_run_out *out);

int vd_run_exec(const vd_run *run, vd_run_out *out, vd_err *err);

/* A directory tree's installed packages (its /var/lib/dpkg/status) into sc;
 * none (and packages_known false) when it has no such file. */
int vd_dir_packages(vd_source *src, vd_scan *sc, vd_err *err);

/* A random (version 4) UUID for a scan. */
void vd_scan_id(char out[37]);

/* Fill rep for a SCAN run: identity of the baseline (trust says whether its
 * signature was verified), the guest, the events, the warnings, counters.
 * rep borrows from run, out, baseline_path and trust (96 bytes). */
void vd_run_report(const vd_run *run, const vd_run_out *out, const char *baseline_path, bool verified,
                   int fail_on, char trust[96], vd_report *rep);

/* The baseline's part of a report: path, source, digest, time, trust. */
void vd_report_baseline(const vd_baseline *b, const char *baseline_path, bool verified, char trust[96],
                        vd_report *rep);

/* CAPTURE: move what the run found into b (entries, configuration values,
 * facts, packages) and record where and under what it was taken (source,
 * policy digest, host, tool version, time). out keeps its warnings. */
int vd_run_capture(const vd_run *run, vd_run_out *out, vd_baseline *b, vd_err *err);

/* Drift between two baselines (template v1 -> v2) under policy. Content is
 * compared only when both hash with the same algorithm and key; otherwise
 * by size, and the report says so (policy loses VD_A_HASH). */
typedef struct vd_diff_out {
        vd_events events;
        bool keys_differ;
        vd_warning keys_warning; /* static text, when keys_differ */
} vd_diff_out;
void vd_diff_out_init(vd_diff_out *d);
void vd_diff_out_release(vd_diff_out *d);
int vd_diff_exec(const vd_baseline *a, const vd_baseline *b, vd_policy *policy, vd_diff_out *out, vd_err *err);
void vd_diff_report(const vd_baseline *a, const vd_baseline *b, const char *path_a, const char *path_b,
                    const vd_diff_out *d, bool verified, int fail_on, char trust[96], vd_report *rep);

#endif
