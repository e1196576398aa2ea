/* One scan, from a typed request (cli_scan_request): what vmdrift scan runs
 * after reading its options, and what a fleet worker runs for each guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "baseline/vd_baseline.h"
#include "baseline/vd_rollback.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "policy/vd_policy.h"
#include "report/vd_report.h"
#include "run/vd_outcome.h"
#include "run/vd_pipeline.h"
#include "run/vd_reuse.h"
#include "run/vd_shortcut.h"

static int outcome_fail(vd_scan_outcome *o, int rc, const char *why) {
        if (o)
                vd_scan_outcome_failed(o, rc, why);
        return rc;
}

/* Say it (cli_fail) and keep it in the outcome. */
static int fail(vd_scan_outcome *o, const vd_err *err) {
        int rc = cli_fail(err);
        return outcome_fail(o, rc, err->msg[0] ? err->msg : vd_code_name(err->code));
}

/* The peak resident memory of this process so far, in KiB (0: unknown). */
static int64_t max_rss_kb(void) {
        struct rusage ru;
        return getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss : 0;
}

static void delivered(vd_scan_outcome *o, const vd_report *rep, int rc) {
        if (!o)
                return;
        vd_scan_outcome_from_report(rep, o);
        if (rc != rep->exit_code)
                vd_scan_outcome_failed(o, rc, "a report could not be delivered");
}

/* One scan's state, from its request to its delivered report. */
struct scan {
        const cli_scan_request *rq;
        vd_scan_outcome *ret;
        int64_t t_start;
        cli_source_opts so; /* the request's, with the baseline's template images and layout added */
        vd_sink_opts sinko;
        const char *reports[CLI_MAX_REPORTS];
        size_t n_reports;
        vd_sink *sinks[CLI_MAX_REPORTS];
        vd_baseline *b, *pkgb;
        bool b_owned; /* see cli_baseline_open_kept */
        vd_policy *pol;
        char rollback_warning[VD_ERR_MSG_MAX];
        char dg[65];    /* the policy as written: --ignore is this run's choice, not another policy */
        char trust[96];
        vd_shortcut_keys keys;
};

/* The request's own consistency, and no report over an input. */
static int check_request(struct scan *sc) {
        const cli_scan_request *rq = sc->rq;
        if (!rq->baseline)
                return outcome_fail(sc->ret, cli_usage("scan", "no baseline given: use --baseline FILE"),
                                    "no baseline given");
        if (cli_source_check(&sc->so, "scan"))
                return outcome_fail(sc->ret, EXIT_USAGE, "bad source options");
        if (rq->ecosystem && !rq->advisories)
                return outcome_fail(sc->ret, cli_usage("scan", "--ecosystem needs --advisories"),
                                    "--ecosystem needs --advisories");
        if (rq->advisories && access(rq->advisories, R_OK) < 0)
                return outcome_fail(sc->ret, cli_usage("scan", "--advisories '%s': %s", rq->advisories, strerror(errno)),
                                    "--advisories cannot be read");
        cli_input in[CLI_MAX_INPUTS] = {{"baseline", rq->baseline},
                                        {"policy", rq->policy},
                                        {"verify key", rq->verify_key},
                                        {"syslog CA", sc->sinko.syslog_ca},
                                        {"packages baseline", rq->packages_from},
                                        {"advisories", rq->advisories}};
        size_t nin = 6;
        cli_source_inputs(&sc->so, in, &nin);
        for (size_t i = 0; i < sc->n_reports; i++) {
                const char *f = cli_report_file(sc->reports[i]);
                if (f && cli_refuse_overwrite("scan", "report file", f, in, nin))
                        return outcome_fail(sc->ret, EXIT_USAGE, "a report would overwrite an input");
        }
        return 0;
}

/* The baseline (a fleet worker's kept-report pass opens the same one for
 * every guest: once, while its file is unchanged), the policy, the packages
 * baseline, the rollback check; then the sinks, before the source: a bad
 * --report fails before minutes of scanning. */
static int open_inputs(struct scan *sc) {
        const cli_scan_request *rq = sc->rq;
        bool probe = rq->kept_only;
        vd_err err = VD_ERR_INIT;
        const vd_baseline *kb = NULL;
        int bo = probe ? cli_baseline_open_kept(rq->baseline, rq->verify_key, &kb, &sc->b_owned, &err)
                       : vd_baseline_open(rq->baseline, rq->verify_key, &sc->b, &err);
        if (probe && bo == 0)
                sc->b = (vd_baseline *)kb; /* read only when not owned */
        if (cli_load_policy(rq->policy, &sc->pol, &err) < 0 || bo < 0 ||
            (rq->packages_from && vd_baseline_open(rq->packages_from, rq->verify_key, &sc->pkgb, &err) < 0) ||
            vd_rollback_check(sc->b, rq->baseline, sc->so.state_dir, rq->allow_rollback, sc->rollback_warning, &err) <
                    0)
                return probe ? -1 : fail(sc->ret, &err);
        /* A derived baseline's template is an input too: no report replaces it. */
        for (size_t i = 0; i < sc->n_reports && sc->b->template_path; i++) {
                const char *f = cli_report_file(sc->reports[i]);
                cli_input tin[] = {{"template baseline", sc->b->template_path}};
                int rc = f ? cli_refuse_overwrite("scan", "report file", f, tin, 1) : 0;
                if (rc)
                        return rc;
        }
        int rc = probe ? 0 : cli_open_sinks(sc->reports, sc->n_reports, &sc->sinko, sc->sinks);
        if (rc)
                return rc;
        cli_allow_template_images(&sc->so, sc->b);
        cli_use_baseline_layout(&sc->so, sc->b);
        vd_policy_digest(sc->pol, sc->dg);
        return 0;
}

/* The keys of an untouched guest's kept report and its twin's (vd_shortcut).
 * VMDRIFT_DELTA_VERIFY=1 (tests): the delta scan proves and hashes both, so
 * it must really scan. */
static void make_keys(struct scan *sc) {
        const cli_scan_request *rq = sc->rq;
        const cli_source_opts *so = &sc->so;
        vd_shortcut_in sin = {
                .images = so->images,
                .n_images = so->n_images,
                .image_format = so->image_format,
                .expect_formats = so->expect_formats,
                .allow_backing = so->allow_backing,
                .n_allow_backing = so->n_allow_backing,
                .state_dir = so->state_dir,
                .share = cli_share,
                .baseline = sc->b,
                .packages_from = sc->pkgb,
                .policy_digest = sc->dg,
                .strategy = so->strategy,
                .hash_in = so->hash_in,
                .quick = rq->quick,
                .full_inspection = so->full_inspection,
                .one_file_system = so->one_file_system,
                .paranoid = rq->paranoid,
                .max_depth = so->max_depth,
                .ignore = rq->ignore,
                .advisories = rq->advisories != NULL,
                .rollback_warning = sc->rollback_warning[0] != '\0',
                .delta_verify = cli_env_get()->knobs.delta_verify,
        };
        vd_shortcut_keys_make(&sin, &sc->keys);
}

/* The kept report (or the twin's) delivered: 1 and *rc; 0: it must be
 * scanned. */
static int give_kept(struct scan *sc, int *rc) {
        const cli_scan_request *rq = sc->rq;
        bool probe = rq->kept_only, twin = false;
        vd_reused *u = NULL;
        vd_err warn = VD_ERR_INIT;
        if (!sc->keys.have_key || rq->full)
                return 0;
        int lr = vd_shortcut_load(&sc->keys, sc->so.state_dir, &u, &twin, &warn);
        if (warn.code && !probe)
                fprintf(stderr, "vmdrift: warning: %s\n", warn.msg);
        if (lr != 0)
                return 0;
        if (probe && (*rc = cli_open_sinks(sc->reports, sc->n_reports, &sc->sinko, sc->sinks)) != 0) {
                vd_reused_free(u);
                return 1;
        }
        vd_report rep;
        memset(&rep, 0, sizeof rep);
        vd_scan_id(rep.scan_id);
        vd_reused_report(u, &rep);
        char *desc = NULL;
        if (twin) {
                /* the findings are the twin's; the source is this guest */
                vd_buf d;
                vd_buf_init(&d, 0);
                for (size_t i = 0; i < sc->so.n_images; i++) {
                        if (i)
                                vd_buf_addc(&d, ',');
                        vd_buf_adds(&d, sc->so.images[i]);
                }
                desc = vd_buf_detach(&d, NULL);
                if (desc)
                        rep.source = desc;
                rep.reused_twin = true;
        }
        vd_report_baseline(sc->b, rq->baseline, rq->verify_key != NULL, sc->trust, &rep);
        rep.guest = rq->guest;
        rep.fail_on = rq->fail_on;
        rep.started_ns = sc->t_start;
        rep.duration_ns = vd_now_ns() - sc->t_start;
        rep.max_rss_kb = max_rss_kb();
        *rc = cli_deliver(sc->sinks, sc->n_reports, &rep);
        delivered(sc->ret, &rep, *rc);
        vd_err se = VD_ERR_INIT;
        if (twin && rep.exit_code == *rc && vd_shortcut_save_own(&sc->keys, sc->so.state_dir, &rep, &se) < 0)
                vd_debug("the twin's report is not kept under this guest's own key: %s", se.msg);
        free(desc);
        vd_reused_free(u);
        return 1;
}

/* Open the source, run the comparison, deliver, keep the report. */
static int scan_source(struct scan *sc) {
        const cli_scan_request *rq = sc->rq;
        vd_err err = VD_ERR_INIT;
        vd_source *src = NULL;
        vd_run_out out;
        vd_run_out_init(&out);
        int rc;
        if (cli_open_source(&sc->so, true, &src, &err) < 0) {
                rc = fail(sc->ret, &err);
                goto out;
        }
        vd_policy_ignore(sc->pol, rq->ignore);
        vd_run run;
        vd_run_init(&run, VD_RUN_SCAN);
        run.src = src;
        run.base = sc->b;
        run.policy = sc->pol;
        run.policy_digest = sc->dg;
        run.quick = rq->quick;
        run.delta = !rq->full;
        run.warning = sc->rollback_warning[0] ? sc->rollback_warning : NULL;
        run.started_ns = sc->t_start;
        run.packages_from = sc->pkgb;
        run.advisories = rq->advisories;
        run.ecosystem = rq->ecosystem;
        cli_scan_opts(&sc->so, &run.opts);
        if (vd_run_exec(&run, &out, &err) < 0) {
                rc = fail(sc->ret, &err);
                goto out;
        }
        vd_report rep;
        vd_run_report(&run, &out, rq->baseline, rq->verify_key != NULL, rq->fail_on, sc->trust, &rep);
        rep.guest = rq->guest;
        rep.max_rss_kb = max_rss_kb();
        rc = cli_deliver(sc->sinks, sc->n_reports, &rep);
        delivered(sc->ret, &rep, rc);
        if (sc->keys.have_key && !out.scan.may_be_inconsistent) {
                /* the images' identity was taken before the scan: a change
                 * during it makes the next key differ */
                vd_err se = VD_ERR_INIT;
                if (vd_shortcut_save(&sc->keys, sc->so.state_dir, &rep, &se) < 0)
                        fprintf(stderr, "vmdrift: warning: the report is not kept for the next scan: %s\n", se.msg);
        }
out:
        vd_run_out_release(&out);
        vd_source_close(src);
        return rc;
}

int cli_scan_run(const cli_scan_request *rq, vd_scan_outcome *ret) {
        struct scan sc = {.rq = rq, .ret = ret, .t_start = vd_now_ns(), .so = rq->so, .sinko = rq->sink,
                          .n_reports = rq->n_reports, .b_owned = true};
        if (ret)
                memset(ret, 0, sizeof *ret);
        memcpy(sc.reports, rq->reports, rq->n_reports * sizeof *sc.reports);
        if (sc.n_reports == 0)
                sc.reports[sc.n_reports++] = "text";
        sc.sinko.state_dir = sc.so.state_dir = vd_state_dir(sc.so.state_dir, cli_env_get()->state_directory);
        int rc = check_request(&sc);
        if (rc)
                return rc;
        rc = open_inputs(&sc);
        if (rc == 0) {
                make_keys(&sc);
                if (give_kept(&sc, &rc))
                        ; /* delivered */
                else if (rq->kept_only)
                        rc = -1; /* it must be scanned */
                else {
                        vd_shortcut_twin_make(&sc.keys); /* before the scan: the images as they were */
                        rc = scan_source(&sc);
                }
        }
        cli_close_sinks(sc.sinks, sc.n_reports);
        if (sc.b_owned)
                vd_baseline_free(sc.b);
        vd_baseline_free(sc.pkgb);
        vd_policy_free(sc.pol);
        return rc;
}
