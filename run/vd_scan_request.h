/* One scan, typed: what vmdrift scan builds from its options and a fleet
 * worker from an inventory record, run from its request to its delivered
 * report: the baseline, policy and sinks opened, the kept report (or a
 * twin's) given when the guest is as it was (vd_shortcut), otherwise the
 * source scanned (a delta scan where it may) and its report kept for next
 * time.
 * Ownership: the request's strings, baseline cache and shared appliance are
 * borrowed; nothing the run allocates outlives it. */
#ifndef VD_SCAN_REQUEST_H
#define VD_SCAN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "baseline/vd_baseline_cache.h"
#include "common/vd_err.h"
#include "report/vd_report.h"
#include "run/vd_outcome.h"
#include "run/vd_source_spec.h"
#include "run/vd_yarascan.h"

#define VD_SCAN_REPORTS_MAX 16

typedef struct vd_scan_request {
        vd_source_spec so;
        vd_sink_opts sink;
        const char *baseline, *verify_key, *policy, *packages_from, *advisories, *ecosystem;
        const char *guest; /* the name events carry (--guest) */
        const char *reports[VD_SCAN_REPORTS_MAX];
        size_t n_reports; /* 0: the text report on stdout */
        bool quick, allow_rollback, full, paranoid;
        bool kept_only; /* a guest's kept report (or its twin's) or nothing: -1, nothing opened or said */
        uint32_t ignore;
        int fail_on;
        vd_baseline_cache *baselines; /* kept_only: the baseline opened through it; NULL: opened each time */
        vd_yara_req yara;             /* --yara (compiled once by the caller), --yara-all */
} vd_scan_request;

/* Run it. Returns the exit code: 0 clean, 1 drift at or above fail_on, 2 a
 * bad request (err VD_E_USAGE), 3 a runtime failure; -1 for kept_only with
 * nothing kept. A failure that ends the scan is in *err for the caller to
 * say; warnings and sinks that failed while others delivered went to
 * env->notice. With ret, what it came to (exit code, counts, mode, error). */
int vd_scan_request_run(const vd_scan_request *rq, const vd_host_env *env, vd_scan_outcome *ret, vd_err *err);

#endif
