/* vmdrift fleet's parts (private to cli/): the options of a run, a guest's
 * job, and each part's entry points. cmd_fleet.c reads the options;
 * fleet_job.c runs one guest's scan (a typed request, a vd_scan_outcome
 * back); fleet_workers.c runs several guests per process, sharing an
 * appliance; fleet_run.c is a run from lock to findings; fleet_status.c is
 * check and status. */
#ifndef VD_CLI_FLEET_H
#define VD_CLI_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "fleet/vd_fleet.h"
#include "fleet/vd_inventory.h"
#include "model/vd_event.h"
#include "report/vd_report.h"
#include "run/vd_outcome.h"

#define MAX_SINKS 8

/* docs/fleet.md "One appliance, several guests": what a hostile guest that
 * took over the appliance's kernel could lie about */
#define PER_APPLIANCE_DEFAULT 8u
#define PER_APPLIANCE_MAX 64u /* --guests-per-appliance: guests a scan task holds */

typedef struct fleet_opts {
        const char *inventory;
        const char *reports[MAX_SINKS];
        size_t n_reports;
        unsigned jobs;
        unsigned per_app; /* guests per shared appliance; 1: a vmdrift scan process each */
        int64_t jitter_s;
        bool idle, wait, json;
        int progress; /* -1 never, 0 auto, 1 always */
        const char *fail_on;
        const char *state_dir;
        vd_scan_request base; /* what every guest's scan is asked the same (--full, --accel...) */
        vd_sink_opts sinko;
        const vd_inventory *inv;
} fleet_opts;

/* ---- one guest's scan ---- */

/* SPEC_METRICS: prometheus[:FILE], written by the fleet from every guest's
 * state after the run, never by the scans */
/* SPEC_HTML: html:FILE, the fleet's page, written by the fleet after the run
 * from every guest's state and this run's events (its private reports) */
enum spec_kind { SPEC_STDOUT, SPEC_FILE, SPEC_GUEST_FILE, SPEC_DIRECT, SPEC_METRICS, SPEC_HTML };
/* the private report of a job's events that the page reads */
#define FLEET_PRIV_EVENTS "events"
bool fleet_wants_html(const fleet_opts *o);

typedef struct job {
        const vd_inv_guest *g;
        size_t idx;
        int64_t started_ns;
        vd_guest_state st;
        bool running; /* a worker said it started the scan */
        bool started; /* ... ever (a worker that dies during it: the scan did not finish) */
        unsigned tries; /* times it was queued for a scan (after its kept report, after a worker's death) */
        bool queued;    /* in the scan queue, not handed out yet */
        bool done, ran;
} job;

/* ---- fleet_job.c ---- */
int fleet_spec_kind(const char *spec);
void fleet_make_parents(const char *spec);
char *fleet_subst_guest(const char *spec, const char *name);
char *fleet_priv_file(const char *priv, size_t idx, const char *what);
/* What a worker lends the scans it runs. */
typedef struct fleet_scan_ctx {
        vd_guest_share *share;        /* the batch's shared appliance; NULL: none */
        vd_baseline_cache *baselines; /* where a kept-report pass opens baselines; NULL: none */
} fleet_scan_ctx;
int fleet_scan_job(const fleet_opts *o, const char *priv, const job *j, bool kept_only, const fleet_scan_ctx *ctx,
                   vd_scan_outcome *ret);
void fleet_finish_job(const char *priv, job *j, const vd_scan_outcome *outcome, int status, int64_t now_ns);
bool fleet_gone(job *j, vd_events *findings);

/* ---- fleet_workers.c ---- */
/* Every reachable guest of jobs scanned in --jobs worker processes; the
 * unreachable ones are findings. Every job is done on return. */
void fleet_scan_in_workers(const fleet_opts *o, const char *priv, job *jobs, size_t n, vd_events *findings,
                           int64_t t0);

/* ---- fleet_run.c ---- */
void fleet_progress(const fleet_opts *o, const job *jobs, size_t n, size_t done, int64_t t0, int64_t now);
int fleet_run(fleet_opts *o, const vd_inventory *inv);

/* ---- fleet_status.c ---- */
int fleet_check(const vd_inventory *inv);
int fleet_status(const fleet_opts *o, const vd_inventory *inv);

#endif
