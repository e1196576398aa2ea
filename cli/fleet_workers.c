/* Several guests per process, sharing one appliance: worker processes that
 * take guests as they go (claim files), give untouched guests their kept
 * reports first, then scan the rest in batches, each batch in one shared
 * appliance (vd_guest_share_new). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

#include "common/vd_log.h"
#include "common/vd_str.h"

#include "fleet.h"

/* One guest in this process (scan_job), with its stdout to /dev/null and
 * stderr to its own file; N.start before, N.result (its vd_scan_outcome)
 * after, unless kept_only finds no kept report (-1: it must be scanned). */
static int worker_scan(const fleet_opts *o, const char *priv, const job *j, bool kept_only, int dn, int out1,
                       int out2) {
        char *sf = fleet_priv_file(priv, j->idx, "start"), *ef = fleet_priv_file(priv, j->idx, "stderr");
        int code = EXIT_RUNTIME;
        if (sf && ef) {
                fleet_put_file(sf, "");
                /* tests: the worker dies as it starts this guest's scan */
                const char *die = cli_env_get()->test_worker_dies;
                if (die && !kept_only && strcmp(die, j->g->name) == 0)
                        raise(SIGKILL);
                int efd = open(ef, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                fflush(stdout);
                fflush(stderr);
                if (dn >= 0)
                        dup2(dn, 1);
                if (efd >= 0)
                        dup2(efd, 2);
                code = fleet_scan_job(o, priv, j, kept_only);
                fflush(stdout);
                fflush(stderr);
                if (out1 >= 0)
                        dup2(out1, 1);
                if (out2 >= 0)
                        dup2(out2, 2);
                if (efd >= 0)
                        close(efd);
                if (code < 0)
                        unlink(sf); /* not started after all: scanned later */
        } else
                fprintf(stderr, "vmdrift fleet: out of memory\n");
        free(sf);
        free(ef);
        return code;
}

/* Guests are shared among the workers as they go, not dealt in advance (a
 * fleet's changed guests can all fall to one worker otherwise): a worker
 * takes a guest by creating its claim file first (O_EXCL), "claim" to give
 * its kept report, "claim2" to scan it; "scan" marks a guest whose kept
 * report will not do, for any worker to scan. Each holds the worker's
 * number (1-based). */
static bool claim(const char *priv, const job *j, const char *what, int w) {
        char *f = fleet_priv_file(priv, j->idx, what);
        int fd = f ? open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        if (fd >= 0) {
                dprintf(fd, "%d\n", w);
                close(fd);
        }
        free(f);
        return fd >= 0;
}

static bool has_file(const char *priv, const job *j, const char *what) {
        char *f = fleet_priv_file(priv, j->idx, what);
        bool r = f && access(f, F_OK) == 0;
        free(f);
        return r;
}

/* The worker that holds job j now (1-based), or 0: none (not claimed yet,
                                    * or marked for any worker's scan pass). */
static int holder(const char *priv, const job *j) {
        const char *order[] = {"claim2", "scan", "claim"};
        for (int k = 0; k < 3; k++) {
                char *f = fleet_priv_file(priv, j->idx, order[k]);
                size_t len = 0;
                char *t = f && access(f, F_OK) == 0 ? fleet_slurp(f, 32, &len) : NULL;
                free(f);
                if (k == 1 && t) {
                        free(t);
                        return 0;
                }
                int w = t ? atoi(t) : 0;
                free(t);
                if (w > 0)
                        return w;
        }
        return 0;
}

/* A worker process (number w of nw): the guests it claims, each exactly as
 * vmdrift scan would scan it (cmd_scan), in this process. First every guest
 * whose kept report (or a twin's) will do is given it; then the others,
 * whoever marked them, are scanned in batches of --guests-per-appliance,
 * the image guests of a batch in one shared appliance
 * (vd_guest_share_new). */
static int run_worker(const fleet_opts *o, const char *priv, job *const *all, size_t n, int w, size_t nw) {
        size_t per = o->per_app ? o->per_app : 1, first = n ? (size_t)(w - 1) * n / nw : 0;
        vd_share_guest *plan = calloc(per, sizeof *plan);
        job **batch = calloc(per, sizeof *batch);
        if (!plan || !batch) {
                /* its guests are claimed by nobody: the fleet scans them one a process */
                fprintf(stderr, "vmdrift fleet: worker %d: out of memory\n", w);
                free(plan);
                free(batch);
                return EXIT_RUNTIME;
        }
        int dn = open("/dev/null", O_RDWR | O_CLOEXEC), out1 = dup(1), out2 = dup(2);
        size_t kept = 0, scanned = 0, launches = 0;
        for (size_t k = 0; k < n; k++) {
                job *j = all[(first + k) % n];
                if (!claim(priv, j, "claim", w))
                        continue;
                const vd_inv_guest *g = j->g;
                bool images = g->n_images && !g->domain && !g->dir;
                if (!images || worker_scan(o, priv, j, true, dn, out1, out2) < 0)
                        claim(priv, j, "scan", w);
                else
                        kept++;
        }
        for (;;) {
                size_t nb = 0, np = 0;
                for (size_t k = 0; k < n && nb < per; k++) {
                        job *j = all[(first + k) % n];
                        if (has_file(priv, j, "scan") && claim(priv, j, "claim2", w))
                                batch[nb++] = j;
                }
                if (nb == 0)
                        break;
                for (size_t i = 0; i < nb; i++) {
                        const vd_inv_guest *g = batch[i]->g;
                        /* share: false: an appliance of its own */
                        if (g->n_images && !g->domain && !g->dir && g->share != VD_SHARE_NO)
                                plan[np++] = (vd_share_guest){(const char *const *)g->images, g->n_images, g->name};
                }
                vd_err err = VD_ERR_INIT;
                vd_guest_share *share = NULL;
                if (vd_guest_share_new(plan, np, o->per_app, &share, &err) < 0)
                        fprintf(stderr, "vmdrift fleet: no shared appliance: %s\n", err.msg);
                cli_share = share;
                for (size_t i = 0; i < nb; i++)
                        worker_scan(o, priv, batch[i], false, dn, out1, out2);
                cli_share = NULL;
                launches += vd_guest_share_launches(share);
                vd_guest_share_free(share);
                scanned += nb;
        }
        free(plan);
        free(batch);
        vd_debug("fleet: worker %d: %zu kept reports, %zu scanned, %zu appliance launches", w, kept, scanned,
                 launches);
        if (dn >= 0)
                close(dn);
        return 0;
}

/* A worker's guest that finished: its rc file. true if it did. */
static bool worker_job_done(const fleet_opts *o, const char *priv, job *j) {
        char *rf = fleet_priv_file(priv, j->idx, "result");
        bool done = rf && access(rf, F_OK) == 0;
        free(rf);
        if (done)
                fleet_finish_job(o, priv, j, W_EXITCODE(EXIT_RUNTIME, 0), vd_now_ns());
        return done;
}

static bool worker_job_started(const char *priv, const job *j) {
        char *sf = fleet_priv_file(priv, j->idx, "start");
        bool s = sf && access(sf, F_OK) == 0;
        free(sf);
        return s;
}

/* Every reachable guest in at most --jobs worker processes, which share
 * the guests out as they go (claim); a guest whose worker died before
 * starting it is scanned again on its own. */
bool fleet_scan_in_workers(const fleet_opts *o, const char *priv, job *jobs, size_t n, vd_events *findings,
                           int64_t t0) {
        size_t done = 0, nt = 0;
        job **todo = calloc(n ? n : 1, sizeof *todo), **single = calloc(n ? n : 1, sizeof *single);
        if (!todo || !single) {
                fprintf(stderr, "vmdrift fleet: warning: out of memory for the worker processes: a process a guest\n");
                free(todo);
                free(single);
                return false;
        }
        for (size_t i = 0; i < n; i++) {
                job *j = &jobs[i];
                if (fleet_gone(j, findings))
                        done++;
                else
                        todo[nt++] = j;
        }
        size_t nw = nt < o->jobs ? nt : o->jobs, workers = 0, ns = 0, si = 0, singles = 0;
        pid_t wpid[64] = {0};
        for (size_t w = 0; w < nw; w++) {
                fflush(stdout);
                fflush(stderr);
                pid_t p = fork();
                if (p == 0) {
                        int rc = run_worker(o, priv, todo, nt, (int)w + 1, nw);
                        free(todo);
                        free(single);
                        exit(rc);
                }
                wpid[w] = p;
                if (p > 0)
                        workers++;
        }
        for (size_t k = 0; k < nt; k++) {
                todo[k]->worker = workers ? -1 : 0; /* whichever worker claims it */
                todo[k]->ran = true;
                if (!workers)
                        single[ns++] = todo[k]; /* no worker: on its own */
        }
        fleet_progress(o, jobs, n, done, t0, vd_now_ns());
        while (done < n) {
                while (si < ns && workers + singles < o->jobs) {
                        job *j = single[si++];
                        j->worker = 0;
                        if (fleet_start_single(o, priv, j))
                                singles++;
                        else
                                done++;
                }
                int status = 0;
                pid_t p = waitpid(-1, &status, WNOHANG);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        break;
                int dead = 0; /* the worker that ended, 1-based */
                for (size_t w = 0; p > 0 && w < nw; w++)
                        if (wpid[w] == p)
                                dead = (int)w + 1;
                if (dead)
                        workers--;
                for (size_t i = 0; i < nt; i++) {
                        job *j = todo[i];
                        if (j->done || !j->worker)
                                continue;
                        if (worker_job_done(o, priv, j))
                                done++;
                        else if ((dead && holder(priv, j) == dead) || (workers == 0 && !holder(priv, j))) {
                                /* its worker ended without it, or every worker did */
                                if (worker_job_started(priv, j)) {
                                        /* it was scanning this guest when it died */
                                        fleet_finish_job(o, priv, j,
                                                   WIFSIGNALED(status) ? status : W_EXITCODE(EXIT_RUNTIME, 0),
                                                   vd_now_ns());
                                        if (!j->st.error[0])
                                                snprintf(j->st.error, sizeof j->st.error, "the scan did not finish");
                                        done++;
                                } else {
                                        j->worker = 0;
                                        single[ns++] = j;
                                }
                        } else if (!j->pid && worker_job_started(priv, j)) {
                                int h = holder(priv, j);
                                j->pid = wpid[h > 0 && (size_t)h <= nw ? h - 1 : 0]; /* in progress */
                                j->started_ns = vd_now_ns();
                        }
                }
                if (!dead && p > 0) {
                        for (size_t i = 0; i < n; i++)
                                if (jobs[i].pid == p && !jobs[i].done && !jobs[i].worker) {
                                        fleet_finish_job(o, priv, &jobs[i], status, vd_now_ns());
                                        singles--;
                                        done++;
                                }
                } else {
                        struct timespec ts = {0, 200 * 1000000};
                        nanosleep(&ts, NULL);
                }
                fleet_progress(o, jobs, n, done, t0, vd_now_ns());
        }
        free(todo);
        free(single);
        return true;
}
