/* One scan, from a typed request (cli_scan_request): what vmdrift scan runs
 * after reading its options, and what a fleet worker runs for each guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vd_baseline.h"
#include "vd_log.h"
#include "vd_outcome.h"
#include "vd_pipeline.h"
#include "vd_policy.h"
#include "vd_report.h"
#include "vd_reuse.h"
#include "vd_rollback.h"
#include "vd_shortcut.h"
#include "vd_state.h"
#include "vd_str.h"

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

static void delivered(vd_scan_outcome *o, const vd_report *rep, int rc) {
        if (!o)
                return;
        vd_scan_outcome_from_report(rep, o);
        if (rc != rep->exit_code)
                vd_scan_outcome_failed(o, rc, "a report could not be delivered");
}

int cli_scan_run(const cli_scan_request *rq, vd_scan_outcome *ret) {
        bool probe = rq->kept_only;
        int64_t t_start = vd_now_ns();
        if (ret)
                memset(ret, 0, sizeof *ret);
        cli_source_opts so = rq->so;
        vd_sink_opts sinko = rq->sink;
        const char *baseline_path = rq->baseline, *verify_key = rq->verify_key, *policy = rq->policy,
                   *packages_from = rq->packages_from, *advisories = rq->advisories, *ecosystem = rq->ecosystem,
                   *guest = rq->guest;
        bool quick = rq->quick, allow_rollback = rq->allow_rollback, full = rq->full, paranoid = rq->paranoid;
        uint32_t ignore = rq->ignore;
        int fail_on = rq->fail_on;
        const char *reports[CLI_MAX_REPORTS];
        size_t n_reports = rq->n_reports;
        memcpy(reports, rq->reports, n_reports * sizeof *reports);
        vd_err err = VD_ERR_INIT;
        if (!baseline_path)
                return outcome_fail(ret, cli_usage("scan", "no baseline given: use --baseline FILE"), "no baseline given");
        if (cli_source_check(&so, "scan"))
                return outcome_fail(ret, EXIT_USAGE, "bad source options");
        if (ecosystem && !advisories)
                return outcome_fail(ret, cli_usage("scan", "--ecosystem needs --advisories"), "--ecosystem needs --advisories");
        if (advisories && access(advisories, R_OK) < 0)
                return outcome_fail(ret, cli_usage("scan", "--advisories '%s': %s", advisories, strerror(errno)),
                                    "--advisories cannot be read");
        if (n_reports == 0)
                reports[n_reports++] = "text";
        sinko.state_dir = so.state_dir = vd_state_dir(so.state_dir, cli_env_get()->state_directory);
        {
                cli_input in[CLI_MAX_INPUTS] = {{"baseline", baseline_path},
                                                {"policy", policy},
                                                {"verify key", verify_key},
                                                {"syslog CA", sinko.syslog_ca},
                                                {"packages baseline", packages_from},
                                                {"advisories", advisories}};
                size_t nin = 6;
                cli_source_inputs(&so, in, &nin);
                for (size_t i = 0; i < n_reports; i++) {
                        const char *f = cli_report_file(reports[i]);
                        if (f && cli_refuse_overwrite("scan", "report file", f, in, nin))
                                return outcome_fail(ret, EXIT_USAGE, "a report would overwrite an input");
                }
        }

        vd_sink *sinks[CLI_MAX_REPORTS] = {0};
        vd_baseline *b = NULL, *pkgb = NULL;
        bool b_owned = true; /* see cli_baseline_open_kept */
        vd_source *src = NULL;
        vd_policy *pol = NULL;
        vd_run_out out;
        vd_run_out_init(&out);
        int rc = 0;

        char rollback_warning[VD_ERR_MSG_MAX] = "";
        /* a fleet worker's kept-report pass opens the same baseline for
         * every guest: once, while its file is unchanged */
        const vd_baseline *kb = NULL;
        int bo = probe ? cli_baseline_open_kept(baseline_path, verify_key, &kb, &b_owned, &err)
                       : vd_baseline_open(baseline_path, verify_key, &b, &err);
        if (probe && bo == 0)
                b = (vd_baseline *)kb; /* read only when not owned */
        if (cli_load_policy(policy, &pol, &err) < 0 || bo < 0 ||
            (packages_from && vd_baseline_open(packages_from, verify_key, &pkgb, &err) < 0) ||
            vd_rollback_check(b, baseline_path, so.state_dir, allow_rollback, rollback_warning, &err) < 0) {
                rc = probe ? -1 : fail(ret, &err);
                goto out;
        }
        /* A derived baseline's template is an input too: no report replaces it. */
        for (size_t i = 0; i < n_reports && b->template_path; i++) {
                const char *f = cli_report_file(reports[i]);
                cli_input tin[] = {{"template baseline", b->template_path}};
                if (f && (rc = cli_refuse_overwrite("scan", "report file", f, tin, 1)) != 0)
                        goto out;
        }
        /* Open every sink before the source: a bad --report fails before
         * minutes of scanning. */
        if (!probe && (rc = cli_open_sinks(reports, n_reports, &sinko, sinks)) != 0)
                goto out;
        cli_allow_template_images(&so, b);
        cli_use_baseline_layout(&so, b);
        /* The digest of the policy as written: --ignore is this run's choice,
         * not another policy. */
        char dg[65] = "";
        vd_policy_digest(pol, dg);
        char trust[96];
        /* An untouched guest: its last report again (or its twin's),
         * nothing launched. VMDRIFT_DELTA_VERIFY=1 (tests): the delta scan
         * proves and hashes both, so it must really scan. */
        vd_shortcut_in sin = {
                .images = so.images,
                .n_images = so.n_images,
                .image_format = so.image_format,
                .expect_formats = so.expect_formats,
                .allow_backing = so.allow_backing,
                .n_allow_backing = so.n_allow_backing,
                .state_dir = so.state_dir,
                .share = cli_share,
                .baseline = b,
                .packages_from = pkgb,
                .policy_digest = dg,
                .strategy = so.strategy,
                .hash_in = so.hash_in,
                .quick = quick,
                .full_inspection = so.full_inspection,
                .one_file_system = so.one_file_system,
                .paranoid = paranoid,
                .max_depth = so.max_depth,
                .ignore = ignore,
                .advisories = advisories != NULL,
                .rollback_warning = rollback_warning[0] != '\0',
                .delta_verify = cli_env_get()->knobs.delta_verify,
        };
        vd_shortcut_keys keys;
        vd_shortcut_keys_make(&sin, &keys);
        if (keys.have_key && !full) {
                vd_reused *u = NULL;
                bool twin = false;
                vd_err warn = VD_ERR_INIT;
                int lr = vd_shortcut_load(&keys, so.state_dir, &u, &twin, &warn);
                if (warn.code && !probe)
                        fprintf(stderr, "vmdrift: warning: %s\n", warn.msg);
                if (lr == 0 && probe && (rc = cli_open_sinks(reports, n_reports, &sinko, sinks)) != 0) {
                        vd_reused_free(u);
                        goto out;
                }
                if (lr == 0) {
                        vd_report rep;
                        memset(&rep, 0, sizeof rep);
                        vd_scan_id(rep.scan_id);
                        vd_reused_report(u, &rep);
                        char *desc = NULL;
                        if (twin) {
                                /* the findings are the twin's; the source is this guest */
                                vd_buf d;
                                vd_buf_init(&d, 0);
                                for (size_t i = 0; i < so.n_images; i++) {
                                        if (i)
                                                vd_buf_addc(&d, ',');
                                        vd_buf_adds(&d, so.images[i]);
                                }
                                desc = vd_buf_detach(&d, NULL);
                                if (desc)
                                        rep.source = desc;
                                rep.reused_twin = true;
                        }
                        vd_report_baseline(b, baseline_path, verify_key != NULL, trust, &rep);
                        rep.guest = guest;
                        rep.fail_on = fail_on;
                        rep.started_ns = t_start;
                        rep.duration_ns = vd_now_ns() - t_start;
                        rc = cli_deliver(sinks, n_reports, &rep);
                        delivered(ret, &rep, rc);
                        free(desc);
                        vd_reused_free(u);
                        goto out;
                }
        }
        if (probe) {
                rc = -1; /* it must be scanned */
                goto out;
        }
        if (cli_open_source(&so, true, &src, &err) < 0) {
                rc = fail(ret, &err);
                goto out;
        }
        vd_policy_ignore(pol, ignore);
        vd_run run;
        vd_run_init(&run, VD_RUN_SCAN);
        run.src = src;
        run.base = b;
        run.policy = pol;
        run.policy_digest = dg;
        run.quick = quick;
        run.delta = !full;
        run.warning = rollback_warning[0] ? rollback_warning : NULL;
        run.started_ns = t_start;
        run.packages_from = pkgb;
        run.advisories = advisories;
        run.ecosystem = ecosystem;
        cli_scan_opts(&so, &run.opts);
        if (vd_run_exec(&run, &out, &err) < 0) {
                rc = fail(ret, &err);
                goto out;
        }
        vd_report rep;
        vd_run_report(&run, &out, baseline_path, verify_key != NULL, fail_on, trust, &rep);
        rep.guest = guest;
        rc = cli_deliver(sinks, n_reports, &rep);
        delivered(ret, &rep, rc);
        if (keys.have_key && !out.scan.may_be_inconsistent) {
                /* the images' identity was taken before the scan: a change
                 * during it makes the next key differ */
                vd_err se = VD_ERR_INIT;
                if (vd_shortcut_save(&keys, so.state_dir, &rep, &se) < 0)
                        fprintf(stderr, "vmdrift: warning: the report is not kept for the next scan: %s\n", se.msg);
        }
out:
        cli_close_sinks(sinks, n_reports);
        vd_run_out_release(&out);
        if (b_owned)
                vd_baseline_free(b);
        vd_baseline_free(pkgb);
        vd_policy_free(pol);
        vd_source_close(src);
        return rc;
}
