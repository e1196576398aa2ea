/* The fleet's scans in a pool of worker processes (common/vd_pool.h): first
 * every image guest's kept report (or its twin's), a task a guest; then the
 * guests that need a scan, in batches of --guests-per-appliance, the image
 * guests of a batch in one shared appliance (vd_guest_share_new). With
 * --guests-per-appliance 1, every guest is a task of its own in a process
 * of its own. A worker says when it starts a guest's scan and what the scan
 * came to (a vd_scan_outcome record); a worker that dies takes the scan it
 * was running with it (an error) and hands the rest of its batch back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/vd_log.h"
#include "common/vd_pool.h"
#include "common/vd_str.h"

#include "fleet.h"

/* A task: its kind, then the jobs' indexes (u32 each). */
enum { T_KEPT = 'k', T_SCAN = 's' };
/* A message: its kind, the job's index (u32), then for M_RESULT the outcome record. */
enum { M_STARTED = 'S', M_RESULT = 'R', M_MISS = 'M' };

struct fleet_pool {
        const fleet_opts *o;
        const char *priv;
        job *jobs;
        size_t n, done;
        int64_t t0;
        size_t *kept_q, n_kept, kept_next; /* image guests: a kept report first */
        size_t *scan_q, n_scan, scan_next, scan_alloc; /* guests to scan */
        size_t kept_running;               /* kept tasks given out and not ended */
        size_t per;                        /* guests an appliance may hold (--guests-per-appliance) */
        size_t batch;                      /* guests a scan task: per, or fewer so that every worker gets some */
        /* in a worker: its way back, and the fds its scans' output goes through */
        vd_pool *pool;
        int dn, out1, out2;
        vd_guest_share *share;        /* the batch's shared appliance; NULL: none */
        vd_baseline_cache *baselines; /* the kept-report pass's: each baseline loaded once */
};

/* ---- the worker's side ---- */

static void say(struct fleet_pool *fp, char kind, size_t idx, const vd_scan_outcome *oc) {
        vd_buf b;
        vd_buf_init(&b, VD_POOL_MSG_MAX);
        vd_err err = VD_ERR_INIT;
        int r = vd_buf_addc(&b, kind);
        if (!r)
                r = vd_buf_add_u32(&b, (uint32_t)idx);
        if (!r && oc)
                r = vd_scan_outcome_encode(oc, &b);
        if (r < 0 || vd_pool_send(fp->pool, b.buf, b.len, &err) < 0)
                fprintf(stderr, "vmdrift fleet: cannot tell the fleet about %s: %s\n", fp->jobs[idx].g->name,
                        err.msg[0] ? err.msg : "out of memory");
        vd_buf_release(&b);
}

/* One guest in this process, its stdout to /dev/null and its stderr to its
 * own file: its exit code and *oc, or -1 (kept_only: it must be scanned). */
static int worker_scan(struct fleet_pool *fp, const job *j, bool kept_only, vd_scan_outcome *oc) {
        char *ef = fleet_priv_file(fp->priv, j->idx, "stderr");
        if (!ef) {
                vd_scan_outcome_failed(oc, EXIT_RUNTIME, "out of memory");
                return EXIT_RUNTIME;
        }
        int efd = open(ef, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        free(ef);
        fflush(stdout);
        fflush(stderr);
        if (fp->dn >= 0)
                dup2(fp->dn, 1);
        if (efd >= 0)
                dup2(efd, 2);
        fleet_scan_ctx ctx = {fp->share, fp->baselines};
        int code = fleet_scan_job(fp->o, fp->priv, j, kept_only, &ctx, oc);
        fflush(stdout);
        fflush(stderr);
        if (fp->out1 >= 0)
                dup2(fp->out1, 1);
        if (fp->out2 >= 0)
                dup2(fp->out2, 2);
        if (efd >= 0)
                close(efd);
        return code;
}

/* A batch: the image guests that may share in one appliance, each guest's
 * scan said as it starts and as it ends. */
static void scan_batch(struct fleet_pool *fp, const size_t *idx, size_t nb) {
        vd_share_guest plan[PER_APPLIANCE_MAX];
        size_t np = 0;
        for (size_t i = 0; fp->o->per_app >= 2 && i < nb && np < sizeof plan / sizeof *plan; i++) {
                const vd_inv_guest *g = fp->jobs[idx[i]].g;
                /* share: false: an appliance of its own */
                if (g->n_images && !g->domain && !g->dir && g->share != VD_SHARE_NO)
                        plan[np++] = (vd_share_guest){(const char *const *)g->images, g->n_images, g->name};
        }
        vd_err err = VD_ERR_INIT;
        vd_guest_share *share = NULL;
        if (np && vd_guest_share_new(plan, np, fp->o->per_app, &share, &err) < 0)
                fprintf(stderr, "vmdrift fleet: no shared appliance: %s\n", err.msg);
        fp->share = share;
        for (size_t i = 0; i < nb; i++) {
                const job *j = &fp->jobs[idx[i]];
                say(fp, M_STARTED, j->idx, NULL);
                /* tests: the worker dies as it starts this guest's scan */
                const char *die = cli_env_get()->test_worker_dies;
                if (die && strcmp(die, j->g->name) == 0)
                        raise(SIGKILL);
                vd_scan_outcome oc;
                memset(&oc, 0, sizeof oc);
                int code = worker_scan(fp, j, false, &oc);
                if (code < 0)
                        vd_scan_outcome_failed(&oc, EXIT_RUNTIME, "no result");
                say(fp, M_RESULT, j->idx, &oc);
        }
        fp->share = NULL;
        vd_debug("fleet: worker %d: %zu guests, %zu appliance launches", (int)getpid(), nb,
                 vd_guest_share_launches(share));
        vd_guest_share_free(share);
}

static void run(void *ctx, vd_pool *pool, const void *task, size_t len) {
        struct fleet_pool *fp = ctx;
        fp->pool = pool;
        if (fp->dn < 0) {
                fp->dn = open("/dev/null", O_RDWR | O_CLOEXEC);
                fp->out1 = dup(1);
                fp->out2 = dup(2);
                fp->baselines = vd_baseline_cache_new(); /* NULL: each opened every time */
        }
        const unsigned char *t = task;
        size_t nb = len ? (len - 1) / 4 : 0;
        size_t idx[PER_APPLIANCE_MAX];
        if (nb > PER_APPLIANCE_MAX)
                nb = PER_APPLIANCE_MAX; /* never: the parent's tasks hold at most per_app */
        for (size_t i = 0; i < nb; i++) {
                uint32_t v;
                memcpy(&v, t + 1 + 4 * i, 4); /* our own little-endian u32s (vd_buf_add_u32) */
                idx[i] = v;
        }
        if (len && t[0] == T_KEPT && nb == 1) {
                vd_scan_outcome oc;
                memset(&oc, 0, sizeof oc);
                if (worker_scan(fp, &fp->jobs[idx[0]], true, &oc) < 0)
                        say(fp, M_MISS, idx[0], NULL);
                else
                        say(fp, M_RESULT, idx[0], &oc);
        } else if (len && t[0] == T_SCAN)
                scan_batch(fp, idx, nb);
}

/* ---- the parent's side ---- */

static void finished(struct fleet_pool *fp, job *j, const vd_scan_outcome *oc, int status);

/* j goes (back) to the scan queue; a guest whose workers died twice before
 * its scan started is not tried again (an error) */
static void to_scan(struct fleet_pool *fp, job *j) {
        if (j->queued)
                return; /* once in the queue at a time */
        if (j->tries++ >= 2 || vd_array_grow(&fp->scan_q, &fp->scan_alloc, fp->n_scan, sizeof *fp->scan_q, 16) < 0) {
                finished(fp, j, NULL, W_EXITCODE(EXIT_RUNTIME, 0));
                snprintf(j->st.error, sizeof j->st.error, "%s",
                         j->tries > 2 ? "its worker processes died before its scan started" : "out of memory");
                return;
        }
        fp->scan_q[fp->n_scan++] = j->idx;
        j->queued = true;
}

static bool next(void *ctx, vd_buf *task) {
        struct fleet_pool *fp = ctx;
        if (fp->kept_next < fp->n_kept) {
                fp->kept_running++;
                return vd_buf_addc(task, T_KEPT) == 0 &&
                       vd_buf_add_u32(task, (uint32_t)fp->kept_q[fp->kept_next++]) == 0;
        }
        size_t left = fp->n_scan - fp->scan_next;
        /* while kept reports are still being looked for, a batch waits
         * until it is full: the guests they miss may join it */
        if (!left || (left < fp->batch && fp->kept_running))
                return false;
        size_t nb = left < fp->batch ? left : fp->batch;
        int r = vd_buf_addc(task, T_SCAN);
        for (size_t i = 0; !r && i < nb; i++) {
                job *j = &fp->jobs[fp->scan_q[fp->scan_next++]];
                j->queued = false;
                r = vd_buf_add_u32(task, (uint32_t)j->idx);
        }
        return r == 0;
}

static job *job_of(struct fleet_pool *fp, const unsigned char *p, size_t len) {
        uint32_t v;
        if (len < 5)
                return NULL;
        memcpy(&v, p + 1, 4);
        return v < fp->n ? &fp->jobs[v] : NULL;
}

static void finished(struct fleet_pool *fp, job *j, const vd_scan_outcome *oc, int status) {
        j->running = false;
        fleet_finish_job(fp->priv, j, oc, status, vd_now_ns());
        fp->done++;
        vd_debug("fleet: %s: %s (%d)", j->g->name, j->st.result, j->st.exit_code);
        fleet_progress(fp->o, fp->jobs, fp->n, fp->done, fp->t0, vd_now_ns());
}

static void message(void *ctx, unsigned worker, const void *task, size_t task_len, const void *msg, size_t len) {
        struct fleet_pool *fp = ctx;
        const unsigned char *m = msg;
        job *j = job_of(fp, m, len);
        if (!j || j->done)
                return;
        if (m[0] == M_STARTED) {
                j->running = j->started = true;
                j->started_ns = vd_now_ns();
                fleet_progress(fp->o, fp->jobs, fp->n, fp->done, fp->t0, vd_now_ns());
        } else if (m[0] == M_MISS) {
                to_scan(fp, j); /* its kept report will not do */
        } else if (m[0] == M_RESULT) {
                vd_scan_outcome oc;
                vd_err err = VD_ERR_INIT;
                if (vd_scan_outcome_decode(m + 5, len - 5, &oc, &err) < 0) {
                        vd_debug("fleet: %s: %s", j->g->name, err.msg);
                        finished(fp, j, NULL, W_EXITCODE(EXIT_RUNTIME, 0));
                } else
                        finished(fp, j, &oc, 0);
        }
}

static void done(void *ctx, unsigned worker, const void *task, size_t len, bool died, int status) {
        struct fleet_pool *fp = ctx;
        const unsigned char *t = task;
        bool kept = len && t[0] == T_KEPT;
        if (kept)
                fp->kept_running--;
        for (size_t i = 0; len && i < (len - 1) / 4; i++) {
                job *j = job_of(fp, t + 4 * i, 5);
                if (!j || j->done)
                        continue;
                if (!died && kept)
                        continue; /* said: its kept report, or that it must be scanned (M_MISS) */
                if (j->started || !died) {
                        /* its worker died during its scan, or said nothing of its end */
                        finished(fp, j, NULL, died && WIFSIGNALED(status) ? status : W_EXITCODE(EXIT_RUNTIME, 0));
                        if (!j->st.error[0])
                                snprintf(j->st.error, sizeof j->st.error, "the scan did not finish");
                } else
                        to_scan(fp, j); /* not started: scanned again, by another worker */
        }
}

void fleet_scan_in_workers(const fleet_opts *o, const char *priv, job *jobs, size_t n, vd_events *findings,
                           int64_t t0) {
        struct fleet_pool fp = {.o = o, .priv = priv, .jobs = jobs, .n = n, .t0 = t0, .dn = -1, .out1 = -1,
                                .out2 = -1};
        fp.per = o->per_app ? o->per_app : 1;
        fp.kept_q = calloc(n ? n : 1, sizeof *fp.kept_q);
        fp.scan_alloc = n ? n : 1;
        fp.scan_q = calloc(fp.scan_alloc, sizeof *fp.scan_q);
        for (size_t i = 0; i < n; i++) {
                job *j = &jobs[i];
                if (fleet_gone(j, findings)) {
                        fp.done++;
                        continue;
                }
                j->ran = true;
                bool images = j->g->n_images && !j->g->domain && !j->g->dir;
                /* a process a guest (--guests-per-appliance 1): the scan looks for its kept report itself */
                if (fp.kept_q && images && fp.per >= 2)
                        fp.kept_q[fp.n_kept++] = i;
                else if (fp.scan_q) {
                        fp.scan_q[fp.n_scan++] = i;
                        j->queued = true;
                }
        }
        /* A fleet smaller than its workers' appliances: spread it, each
         * worker's appliance launched at the same time as the others' */
        size_t todo = fp.n_kept + fp.n_scan, workers = o->jobs ? o->jobs : 1;
        size_t spread = (todo + workers - 1) / workers;
        fp.batch = spread && spread < fp.per ? spread : fp.per;
        vd_err err = VD_ERR_INIT;
        const char *why = "out of memory";
        if (fp.kept_q && fp.scan_q) {
                fleet_progress(o, jobs, n, fp.done, t0, vd_now_ns());
                vd_pool_opts po = {.workers = o->jobs, .tasks_per_worker = fp.per >= 2 ? 0 : 1};
                vd_pool_ops ops = {next, run, message, done};
                if (vd_pool_run(&po, &ops, &fp, &err) < 0)
                        why = err.msg;
        }
        /* what the pool could not do: each left guest an error, said */
        for (size_t i = 0; i < n; i++)
                if (!jobs[i].done && jobs[i].ran) {
                        finished(&fp, &jobs[i], NULL, W_EXITCODE(EXIT_RUNTIME, 0));
                        snprintf(jobs[i].st.error, sizeof jobs[i].st.error, "not scanned: %.200s", why);
                }
        free(fp.kept_q);
        free(fp.scan_q);
        vd_baseline_cache_free(fp.baselines); /* made where the tasks ran: a worker process, or here */
}
