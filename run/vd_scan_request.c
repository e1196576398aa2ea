/* One scan, from a typed request to its delivered report
 * (vd_scan_request.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "run/vd_scan_request.h"
#include "baseline/vd_rollback.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "policy/vd_policy.h"
#include "run/vd_pipeline.h"
#include "run/vd_reuse.h"
#include "run/vd_shortcut.h"

/* One scan's state, from its request to its delivered report. */
struct scan {
        const vd_scan_request *rq;
        const vd_host_env *env;
        vd_scan_outcome *ret;
        vd_err *err;
        int64_t t_start;
        vd_source_spec so; /* the request's, with the baseline's template images and layout added */
        char templates[8192]; /* the template images' names so.allow_backing points at */
        vd_sink_opts sinko;
        const char *reports[VD_SCAN_REPORTS_MAX];
        size_t n_reports;
        vd_sink *sinks[VD_SCAN_REPORTS_MAX];
        vd_baseline *b, *pkgb;
        bool b_owned; /* see vd_baseline_cache_open */
        vd_policy *pol;
        char rollback_warning[VD_ERR_MSG_MAX];
        char dg[65]; /* the policy as written: --ignore is this run's choice, not another policy */
        char trust[96];
        vd_shortcut_keys keys;
};

static void say(const struct scan *sc, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(const struct scan *sc, int level, const char *fmt, ...) {
        if (!sc->env->notice)
                return;
        char msg[VD_ERR_MSG_MAX + 128];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        sc->env->notice(sc->env->notice_ud, level, msg);
}

static void sink_failed(void *ctx, const vd_err *e) {
        say(ctx, VD_NOTICE_ERROR, "%s", e->msg[0] ? e->msg : vd_code_name(e->code));
}

/* The scan ends with sc->err (set by the call that failed): its exit code,
 * kept in the outcome. */
static int fail(struct scan *sc) {
        int rc = vd_code_exit(sc->err->code);
        if (sc->ret)
                vd_scan_outcome_failed(sc->ret, rc, sc->err->msg[0] ? sc->err->msg : vd_code_name(sc->err->code));
        return rc;
}

/* The peak resident memory of this process so far, in KiB (0: unknown). */
static int64_t max_rss_kb(void) {
        struct rusage ru;
        return getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss : 0;
}

static int deliver(struct scan *sc, vd_report *rep) {
        rep->max_rss_kb = max_rss_kb();
        int rc = vd_sinks_deliver(sc->sinks, sc->n_reports, rep, sink_failed, sc);
        if (sc->ret) {
                vd_scan_outcome_from_report(rep, sc->ret);
                if (rc != rep->exit_code)
                        vd_scan_outcome_failed(sc->ret, rc, "a report could not be delivered");
        }
        return rc;
}

/* The request's own consistency, and no report over an input. */
static int check_request(struct scan *sc) {
        const vd_scan_request *rq = sc->rq;
        vd_err *err = sc->err;
        if (!rq->baseline)
                vd_err_set(err, VD_E_USAGE, "no baseline given: use --baseline FILE");
        else if (vd_source_spec_check(&sc->so, err) < 0)
                ;
        else if (rq->ecosystem && !rq->advisories)
                vd_err_set(err, VD_E_USAGE, "--ecosystem needs --advisories");
        else if (rq->advisories && access(rq->advisories, R_OK) < 0)
                vd_err_set(err, VD_E_USAGE, "--advisories '%s': %s", rq->advisories, strerror(errno));
        if (err->code)
                return fail(sc);
        vd_input in[VD_INPUTS_MAX] = {{"baseline", rq->baseline},
                                      {"policy", rq->policy},
                                      {"verify key", rq->verify_key},
                                      {"syslog CA", sc->sinko.syslog_ca},
                                      {"packages baseline", rq->packages_from},
                                      {"advisories", rq->advisories}};
        size_t nin = 6;
        vd_source_spec_inputs(&sc->so, in, &nin);
        for (size_t i = 0; i < sc->n_reports; i++) {
                const char *f = vd_sink_spec_file(sc->reports[i]);
                if (f && vd_refuse_overwrite("report file", f, in, nin, err) < 0)
                        return fail(sc);
        }
        return 0;
}

/* The baseline (through the request's cache for a kept-report pass), the
 * policy, the packages baseline, the rollback check; then the sinks, before
 * the source: a bad --report fails before minutes of scanning. A kept-report
 * pass that cannot open them: -1, nothing said (the scan says it). */
static int open_inputs(struct scan *sc) {
        const vd_scan_request *rq = sc->rq;
        bool probe = rq->kept_only;
        vd_err *err = sc->err;
        const vd_baseline *kb = NULL;
        int bo;
        if (probe && rq->baselines) {
                bo = vd_baseline_cache_open(rq->baselines, rq->baseline, rq->verify_key, &kb, &sc->b_owned, err);
                if (bo == 0)
                        sc->b = (vd_baseline *)kb; /* read only when not owned */
        } else if (sc->so.dir && !rq->quick && !sc->env->no_stream)
                /* a tree streams: its baseline's entries stay in the file */
                bo = vd_baseline_open_lazy(rq->baseline, rq->verify_key, &sc->b, err);
        else
                bo = vd_baseline_open(rq->baseline, rq->verify_key, &sc->b, err);
        if (vd_policy_open(rq->policy, &sc->pol, err) < 0 || bo < 0 ||
            (rq->packages_from && vd_baseline_open(rq->packages_from, rq->verify_key, &sc->pkgb, err) < 0) ||
            vd_rollback_check(sc->b, rq->baseline, sc->so.state_dir, rq->allow_rollback, sc->rollback_warning, err) <
                    0) {
                if (!probe)
                        return fail(sc);
                vd_err_clear(err);
                return -1;
        }
        /* A derived baseline's template is an input too: no report replaces it. */
        for (size_t i = 0; i < sc->n_reports && sc->b->template_path; i++) {
                const char *f = vd_sink_spec_file(sc->reports[i]);
                vd_input tin[] = {{"template baseline", sc->b->template_path}};
                if (f && vd_refuse_overwrite("report file", f, tin, 1, err) < 0)
                        return fail(sc);
        }
        if (!probe && vd_sinks_open(sc->reports, sc->n_reports, &sc->sinko, sc->sinks, err) < 0)
                return fail(sc);
        vd_source_spec_allow_templates(&sc->so, sc->b, sc->templates, sizeof sc->templates);
        sc->so.layout = sc->b;
        vd_policy_digest(sc->pol, sc->dg);
        return 0;
}

/* The keys of an untouched guest's kept report and its twin's (vd_shortcut).
 * The delta_verify knob (tests): the delta scan proves and hashes both, so
 * it must really scan. */
static void make_keys(struct scan *sc) {
        const vd_scan_request *rq = sc->rq;
        const vd_source_spec *so = &sc->so;
        vd_shortcut_in sin = {
                .images = so->images,
                .n_images = so->n_images,
                .image_format = so->image_format,
                .expect_formats = so->expect_formats,
                .allow_backing = so->allow_backing,
                .n_allow_backing = so->n_allow_backing,
                .state_dir = so->state_dir,
                .share = so->share,
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
                .delta_verify = sc->env->knobs.delta_verify,
        };
        char yk[200];
        vd_yara_req_key(&rq->yara, yk, sizeof yk);
        sin.yara_key = yk;
        vd_shortcut_keys_make(&sin, &sc->keys);
}

/* The kept report (or the twin's) delivered: 1 and *rc; 0: it must be
 * scanned. */
static int give_kept(struct scan *sc, int *rc) {
        const vd_scan_request *rq = sc->rq;
        bool probe = rq->kept_only, twin = false;
        vd_reused *u = NULL;
        vd_err warn = VD_ERR_INIT;
        if (!sc->keys.have_key || rq->full)
                return 0;
        int lr = vd_shortcut_load(&sc->keys, sc->so.state_dir, &u, &twin, &warn);
        if (warn.code && !probe)
                say(sc, VD_NOTICE_WARNING, "%s", warn.msg);
        if (lr != 0)
                return 0;
        if (probe && vd_sinks_open(sc->reports, sc->n_reports, &sc->sinko, sc->sinks, sc->err) < 0) {
                *rc = fail(sc);
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
        *rc = deliver(sc, &rep);
        vd_err se = VD_ERR_INIT;
        if (twin && rep.exit_code == *rc && vd_shortcut_save_own(&sc->keys, sc->so.state_dir, &rep, &se) < 0)
                vd_debug("the twin's report is not kept under this guest's own key: %s", se.msg);
        free(desc);
        vd_reused_free(u);
        return 1;
}

/* Open the source, run the comparison, deliver, keep the report. */
static int scan_source(struct scan *sc) {
        const vd_scan_request *rq = sc->rq;
        vd_source *src = NULL;
        vd_run_out out;
        vd_run_out_init(&out);
        int rc;
        /* every file matched: every file the host can read is read there,
         * and matched from that read (not read again through the appliance) */
        if (rq->yara.all && !sc->so.host_hash_min)
                sc->so.host_hash_min = 1;
        if (vd_source_spec_open(&sc->so, sc->env, true, &src, sc->err) < 0) {
                rc = fail(sc);
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
        run.yara = rq->yara;
        vd_source_spec_walk_opts(&sc->so, &run.opts);
        if (vd_run_exec(&run, &out, sc->err) < 0) {
                rc = fail(sc);
                goto out;
        }
        vd_report rep;
        vd_run_report(&run, &out, rq->baseline, rq->verify_key != NULL, rq->fail_on, sc->trust, &rep);
        rep.guest = rq->guest;
        rc = deliver(sc, &rep);
        if (sc->keys.have_key && !out.scan.may_be_inconsistent) {
                /* the images' identity was taken before the scan: a change
                 * during it makes the next key differ */
                vd_err se = VD_ERR_INIT;
                if (vd_shortcut_save(&sc->keys, sc->so.state_dir, &rep, &se) < 0)
                        say(sc, VD_NOTICE_WARNING, "the report is not kept for the next scan: %s", se.msg);
        }
out:
        vd_run_out_release(&out);
        vd_source_close(src);
        return rc;
}

int vd_scan_request_run(const vd_scan_request *rq, const vd_host_env *env, vd_scan_outcome *ret, vd_err *err) {
        struct scan *sc = calloc(1, sizeof *sc);
        vd_err_clear(err);
        if (ret)
                memset(ret, 0, sizeof *ret);
        if (!sc) {
                vd_err_set(err, VD_E_NOMEM, "out of memory");
                if (ret)
                        vd_scan_outcome_failed(ret, vd_code_exit(err->code), err->msg);
                return vd_code_exit(err->code);
        }
        *sc = (struct scan){.rq = rq, .env = env, .ret = ret, .err = err, .t_start = vd_now_ns(), .so = rq->so,
                            .sinko = rq->sink, .n_reports = rq->n_reports, .b_owned = true};
        memcpy(sc->reports, rq->reports, rq->n_reports * sizeof *sc->reports);
        if (sc->n_reports == 0)
                sc->reports[sc->n_reports++] = "text";
        sc->sinko.state_dir = sc->so.state_dir = vd_state_dir(sc->so.state_dir, env->state_directory);
        int rc = check_request(sc);
        if (rc == 0 && (rc = open_inputs(sc)) == 0) {
                make_keys(sc);
                if (give_kept(sc, &rc))
                        ; /* delivered */
                else if (rq->kept_only)
                        rc = -1; /* it must be scanned */
                else {
                        vd_shortcut_twin_make(&sc->keys); /* before the scan: the images as they were */
                        rc = scan_source(sc);
                }
        }
        vd_sinks_close(sc->sinks, sc->n_reports);
        if (sc->b_owned)
                vd_baseline_free(sc->b);
        vd_baseline_free(sc->pkgb);
        vd_policy_free(sc->pol);
        free(sc);
        return rc;
}
