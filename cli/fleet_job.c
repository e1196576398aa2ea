/* One guest's scan in a fleet run: its request built from the inventory
 * record (vd_scan_request, no argv), run in this process or a fork, and
 * what it came to (a vd_scan_outcome record in the run's private
 * directory), read back into the guest's state. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/vd_io.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"

#include "fleet.h"

bool fleet_wants_html(const fleet_opts *o) {
        for (size_t i = 0; i < o->n_reports; i++)
                if (fleet_spec_kind(o->reports[i]) == SPEC_HTML)
                        return true;
        return false;
}

int fleet_spec_kind(const char *spec) {
        const char *k = vd_sink_spec_kind(spec);
        if (k && !strcmp(k, "prometheus"))
                return SPEC_METRICS;
        if (k && !strcmp(k, "html"))
                return SPEC_HTML;
        const char *f = vd_sink_spec_file(spec);
        if (f)
                return strstr(f, "{guest}") ? SPEC_GUEST_FILE : SPEC_FILE;
        if (vd_sink_spec_kind(spec))
                return SPEC_STDOUT; /* text, json, ecs, or KIND:- */
        return SPEC_DIRECT; /* syslog, journal: every process sends its own */
}

/* The directories a {guest} report file goes in (json:/var/log/vmdrift/{guest}.json):
 * made when missing, as a log directory would be. */
void fleet_make_parents(const char *spec) {
        const char *f = vd_sink_spec_file(spec);
        char *d = f ? strdup(f) : NULL;
        for (char *p = d ? d + 1 : NULL; p && *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(d, 0755) < 0 && errno != EEXIST)
                                vd_debug("cannot create %s: %s", d, strerror(errno));
                        *p = '/';
                }
        free(d);
}

/* spec with {guest} replaced by name (malloc'ed). */
char *fleet_subst_guest(const char *spec, const char *name) {
        vd_buf b;
        vd_buf_init(&b, 8192);
        for (const char *p = spec; *p;) {
                const char *q = strstr(p, "{guest}");
                if (!q) {
                        vd_buf_adds(&b, p);
                        break;
                }
                vd_buf_add(&b, p, (size_t)(q - p));
                vd_buf_adds(&b, name);
                p = q + 7;
        }
        vd_buf_adds(&b, "");
        return vd_buf_detach(&b, NULL);
}

char *fleet_priv_file(const char *priv, size_t idx, const char *what) {
        char *p = NULL;
        return asprintf(&p, "%s/%zu.%s", priv, idx, what) < 0 ? NULL : p;
}

/* The strings a request borrows that were made for it. */
typedef struct owned_strs {
        char *v[VD_SCAN_REPORTS_MAX];
        size_t n;
} owned_strs;

static const char *own(owned_strs *os, char *s) {
        return os->n < VD_SCAN_REPORTS_MAX ? (os->v[os->n++] = s) : (free(s), (char *)NULL);
}

static void owned_release(owned_strs *os) {
        for (size_t k = 0; k < os->n; k++)
                free(os->v[k]);
        os->n = 0;
}

/* The scan request of job j (its private reports in priv): 0, or -1 with
 * why (out of memory, more templates than a scan takes). */
/* "KIND:PRIV/GUEST.WHAT": a report of a job's scan that the fleet reads, or nobody. NULL: out of memory. */
static char *priv_spec(const char *priv, size_t idx, const char *kind, const char *what) {
        char *f = fleet_priv_file(priv, idx, what), *sp = NULL;
        if (f && asprintf(&sp, "%s:%s", kind, f) < 0)
                sp = NULL;
        free(f);
        return sp;
}

static int scan_request(const fleet_opts *o, const char *priv, const job *j, vd_scan_request *rq, owned_strs *os,
                        char *why, size_t whylen) {
        const vd_inv_guest *g = j->g;
        *rq = o->base;
        os->n = 0;
        vd_source_spec *so = &rq->so;
        rq->guest = g->name;
        rq->baseline = g->baseline;
        rq->policy = g->policy;
        rq->verify_key = g->verify_key;
        rq->packages_from = g->packages_from;
        rq->advisories = g->advisories;
        rq->sink = o->sinko;
        rq->fail_on = o->fail_on ? vd_severity_from_name(o->fail_on) : VD_SEV_INFO;
        if (g->n_images > VD_SPEC_IMAGES_MAX) {
                snprintf(why, whylen, "more than %d images", VD_SPEC_IMAGES_MAX);
                return -1;
        }
        if (g->format && g->n_images)
                so->image_format = g->format;
        for (size_t i = 0; i < g->n_images; i++)
                so->images[i] = g->images[i];
        so->n_images = g->n_images;
        so->domain = g->domain;
        so->connect = g->domain ? g->connect : NULL;
        so->dir = g->dir;
        /* a linked clone's backing file may be any of the inventory's templates */
        if (o->inv->n_templates > VD_SPEC_BACKING_MAX) {
                snprintf(why, whylen, "the inventory names %zu templates: a scan allows at most %d backing files",
                         o->inv->n_templates, VD_SPEC_BACKING_MAX);
                return -1;
        }
        for (size_t i = 0; i < o->inv->n_templates; i++)
                so->allow_backing[i] = o->inv->templates[i];
        so->n_allow_backing = o->inv->n_templates;
        so->state_dir = o->state_dir;
        rq->n_reports = 0;
        for (size_t i = 0; i < o->n_reports; i++) {
                const char *spec = o->reports[i];
                char *sp = NULL;
                switch (fleet_spec_kind(spec)) {
                case SPEC_METRICS:
                case SPEC_HTML: continue; /* the fleet's, after the run */
                case SPEC_GUEST_FILE:
                        sp = fleet_subst_guest(spec, g->name);
                        if (sp)
                                fleet_make_parents(sp);
                        break;
                case SPEC_DIRECT: sp = strdup(spec); break;
                default: {
                        /* stdout and shared files: a private file, put together by the fleet */
                        char what[32];
                        snprintf(what, sizeof what, "out%zu", i);
                        sp = priv_spec(priv, j->idx, vd_sink_spec_kind(spec), what);
                }
                }
                if (!(rq->reports[rq->n_reports++] = own(os, sp))) {
                        owned_release(os);
                        snprintf(why, whylen, "out of memory");
                        return -1;
                }
        }
        /* the page: the scan's events, as JSON, for the fleet to read */
        if (fleet_wants_html(o) && !(rq->reports[rq->n_reports++] = own(os, priv_spec(priv, j->idx, "json",
                                                                                      FLEET_PRIV_EVENTS)))) {
                owned_release(os);
                snprintf(why, whylen, "out of memory");
                return -1;
        }
        /* metrics only: the scan's own report goes where nobody reads it, not to the fleet's stdout */
        if (rq->n_reports == 0 && !(rq->reports[rq->n_reports++] = own(os, priv_spec(priv, j->idx, "json", "quiet")))) {
                owned_release(os);
                snprintf(why, whylen, "out of memory");
                return -1;
        }
        return 0;
}

/* Scan job j in this process (stdout and stderr as they are): its exit
 * code and *oc, or -1 (kept_only: it must be scanned). */
int fleet_scan_job(const fleet_opts *o, const char *priv, const job *j, bool kept_only, const fleet_scan_ctx *ctx,
                   vd_scan_outcome *ret) {
        vd_scan_request rq;
        owned_strs os;
        char why[256];
        vd_scan_outcome oc;
        memset(&oc, 0, sizeof oc);
        int64_t t0 = vd_now_ns();
        int code;
        if (scan_request(o, priv, j, &rq, &os, why, sizeof why) < 0) {
                fprintf(stderr, "vmdrift fleet: %s: %s\n", j->g->name, why);
                vd_scan_outcome_failed(&oc, code = EXIT_RUNTIME, why);
        } else {
                rq.kept_only = kept_only;
                rq.so.share = ctx->share;
                rq.baselines = ctx->baselines;
                code = cli_scan_run(&rq, &oc);
                owned_release(&os);
        }
        if (code >= 0) {
                if (!oc.started_ns) /* a scan that failed before it had a report */
                        oc.started_ns = t0;
                oc.ended_ns = vd_now_ns();
                *ret = oc;
        }
        return code;
}

/* The last line of the scan's stderr: why it failed. */
static void last_error(const char *priv, size_t idx, char *out, size_t n) {
        char *f = fleet_priv_file(priv, idx, "stderr");
        vd_buf b;
        vd_buf_init(&b, (1 << 20) + 1);
        vd_err e = VD_ERR_INIT;
        /* more than that: its first MiB, where the error is as likely */
        int r = f ? vd_read_path(f, 0, 1 << 20, VD_E_IO, "the scan's error output", &b, NULL, &e) : VD_E_NOMEM;
        size_t len = 0;
        char *t = (r == 0 || r == VD_E_LIMIT) && vd_buf_adds(&b, "") == 0 ? vd_buf_detach(&b, &len) : NULL;
        vd_buf_release(&b);
        out[0] = '\0';
        while (t && len && (t[len - 1] == '\n' || t[len - 1] == '\r'))
                t[--len] = '\0';
        const char *l = t ? strrchr(t, '\n') : NULL;
        if (t)
                snprintf(out, n, "%s", l ? l + 1 : t);
        for (char *c = out; *c; c++)
                if ((unsigned char)*c < 0x20)
                        *c = ' ';
        free(t);
        free(f);
}

/* Job j ended: its scan's outcome, or NULL and the status of the process
 * that ran it (a scan that left no outcome). */
void fleet_finish_job(const char *priv, job *j, const vd_scan_outcome *outcome, int status, int64_t now_ns) {
        vd_guest_state *st = &j->st;
        vd_scan_outcome oc;
        bool have = outcome != NULL;
        if (have)
                oc = *outcome;
        int code = have ? oc.exit_code : WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUNTIME;
        if (have && oc.started_ns)
                j->started_ns = oc.started_ns;
        memset(st->by_sev, 0, sizeof st->by_sev);
        st->total = 0;
        st->launched = false;
        st->mode[0] = '\0';
        st->totals = (vd_scan_totals){0};
        st->error[0] = '\0';
        if ((code == 0 || code == EXIT_DRIFT) && !have) {
                code = EXIT_RUNTIME;
                snprintf(st->error, sizeof st->error, "no result");
        } else if (have && (code == 0 || code == EXIT_DRIFT)) {
                st->total = oc.total;
                memcpy(st->by_sev, oc.by_sev, sizeof st->by_sev);
                st->totals = oc.totals;
                st->launched = oc.launched;
                snprintf(st->mode, sizeof st->mode, "%s", oc.mode);
                snprintf(st->baseline_digest, sizeof st->baseline_digest, "%s", oc.baseline_digest);
                snprintf(st->scan_id, sizeof st->scan_id, "%s", oc.scan_id);
        } else if (have)
                snprintf(st->error, sizeof st->error, "%s", oc.error);
        st->exit_code = code;
        st->time_ns = j->started_ns;
        int64_t end = have && oc.ended_ns ? oc.ended_ns : now_ns;
        st->duration_ms = (end - j->started_ns) / 1000000;
        if (code == 0 || code == EXIT_DRIFT) {
                st->last_success_ns = j->started_ns;
                snprintf(st->result, sizeof st->result, "%s", code ? "drift" : "clean");
        } else {
                snprintf(st->result, sizeof st->result, "error");
                if (!st->error[0])
                        last_error(priv, j->idx, st->error, sizeof st->error);
                if (!have && !WIFEXITED(status))
                        snprintf(st->error, sizeof st->error, "the scan was killed by signal %d", WTERMSIG(status));
        }
        j->done = true;
}

/* A guest whose source is gone: done, unreachable, and a finding. */
bool fleet_gone(job *j, vd_events *findings) {
        char why[1024];
        if (vd_fleet_reachable(j->g, why, sizeof why))
                return false;
        vd_err err = VD_ERR_INIT;
        j->st.exit_code = -1;
        j->st.time_ns = vd_now_ns();
        snprintf(j->st.result, sizeof j->st.result, "unreachable");
        snprintf(j->st.error, sizeof j->st.error, "%.255s", why);
        j->done = true;
        vd_fleet_event(findings, VD_CH_UNREACHABLE, VD_FLEET_SEV_UNREACHABLE, j->g->name,
                       j->g->images ? j->g->images[0] : j->g->domain ? j->g->domain : j->g->dir, &err, "why", why,
                       NULL);
        return true;
}
