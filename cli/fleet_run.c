/* vmdrift fleet run: the lock, every guest's scan (in worker processes or a
 * process each), what is remembered, the fleet's own findings, and the
 * reports put together. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "common/vd_io.h"
#include "common/vd_log.h"
#include "common/vd_state.h"
#include "common/vd_str.h"
#include "common/vd_json.h"
#include "report/vd_html.h"
#include "report/vd_metrics.h"
#include "run/vd_pipeline.h"

#include "fleet.h"

#define OUTPUT_MAX ((size_t)1 << 30)

static void set_idle_priority(void) {
        /* nice 10, and the idle I/O class (ioprio_set: IOPRIO_CLASS_IDLE = 3,
         * IOPRIO_WHO_PROCESS = 1); inherited by every scan and its qemu */
        if (setpriority(PRIO_PROCESS, 0, 10) < 0)
                vd_debug("setpriority: %s", strerror(errno));
#ifdef SYS_ioprio_set
        if (syscall(SYS_ioprio_set, 1, 0, 3 << 13) < 0)
                vd_debug("ioprio_set: %s", strerror(errno));
#endif
}

/* ---- the lock ---- */

static int take_lock(const char *state_dir, bool wait, int *ret_fd) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fleet.lock", state_dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                fprintf(stderr, "vmdrift fleet: cannot open the lock '%s': %s\n", path, strerror(errno));
                return EXIT_RUNTIME;
        }
        if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                int e = errno;
                char pid[32] = "";
                ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
                pid[n > 0 ? n : 0] = '\0';
                pid[strcspn(pid, "\n")] = '\0';
                if (pid[0] && kill((pid_t)atoi(pid), 0) < 0 && errno == ESRCH)
                        pid[0] = '\0'; /* an earlier run's: the holder did not say who it is */
                close(fd);
                if (e == EWOULDBLOCK) {
                        fprintf(stderr,
                                "vmdrift fleet: another fleet run%s%s%s holds %s: not started (--wait waits for it)\n",
                                pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", path);
                        return EXIT_LOCKED;
                }
                fprintf(stderr, "vmdrift fleet: cannot lock '%s': %s\n", path, strerror(e));
                return EXIT_RUNTIME;
        }
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                vd_debug("cannot write the pid into the lock");
        *ret_fd = fd;
        return 0;
}

/* ---- progress ---- */

void fleet_progress(const fleet_opts *o, const job *jobs, size_t n, size_t done, int64_t t0, int64_t now) {
        if (o->progress < 0 || (o->progress == 0 && !isatty(2)))
                return;
        char running[256] = "";
        size_t rl = 0;
        for (size_t i = 0; i < n && rl < sizeof running - 40; i++)
                if (jobs[i].running && !jobs[i].done)
                        rl += (size_t)snprintf(running + rl, sizeof running - rl, "%s%s", rl ? ", " : "", jobs[i].g->name);
        long el = (long)((now - t0) / 1000000000);
        long eta = done ? (long)(el * (long)(n - done) / (long)done) : -1;
        /* what the finished scans did: files seen and hashed, bytes read, how */
        uint64_t files = 0, hashed = 0, bytes = 0;
        size_t kept = 0, delta = 0;
        for (size_t i = 0; i < n; i++)
                if (jobs[i].done) {
                        files += jobs[i].st.totals.entries;
                        hashed += jobs[i].st.totals.files_hashed;
                        bytes += jobs[i].st.totals.bytes_hashed;
                        kept += !strcmp(jobs[i].st.mode, "kept");
                        delta += !strcmp(jobs[i].st.mode, "delta");
                }
        fprintf(stderr, "\r\033[K[%zu/%zu] %s%s %ldm%02lds elapsed", done, n, running[0] ? "scanning " : "", running,
                el / 60, el % 60);
        if (done)
                fprintf(stderr, "; %llu files, %llu hashed (%.1f MiB, %.1f MiB/s); %zu untouched, %zu delta",
                        (unsigned long long)files, (unsigned long long)hashed, (double)bytes / 1048576.0,
                        el ? (double)bytes / 1048576.0 / (double)el : 0.0, kept, delta);
        if (eta >= 0 && done < n)
                fprintf(stderr, ", about %ldm%02lds left", eta / 60, eta % 60);
        if (done == n)
                fputc('\n', stderr);
        fflush(stderr);
}

/* ---- outputs ---- */

/* Append file to b (a guest's report for a shared output; none: a guest
 * that wrote none). 0, or 3 after saying why it could not be read. */
static int append_file(vd_buf *b, const char *path) {
        vd_err e = VD_ERR_INIT;
        bool absent = false;
        if (vd_read_path(path, 0, OUTPUT_MAX - b->len, VD_E_IO, path, b, &absent, &e) < 0 && !absent)
                return cli_fail(&e);
        return 0;
}

static int deliver_findings(const fleet_opts *o, const vd_inventory *inv, const char *priv, vd_events *ev,
                            char **warn, size_t n_warn, int fail_on, const char *run_id) {
        vd_warning *w = calloc(n_warn ? n_warn : 1, sizeof *w);
        for (size_t i = 0; w && i < n_warn; i++)
                w[i].msg = warn[i];
        vd_report rep;
        memset(&rep, 0, sizeof rep);
        snprintf(rep.scan_id, sizeof rep.scan_id, "%s", run_id);
        rep.source_kind = "fleet";
        rep.source = inv->file;
        rep.events = ev;
        rep.warnings = w;
        rep.n_warnings = w ? n_warn : 0;
        rep.started_ns = vd_now_ns();
        rep.fail_on = fail_on;
        const char *specs[MAX_SINKS];
        char *owned[MAX_SINKS] = {0};
        size_t ns = 0;
        for (size_t r = 0; r < o->n_reports; r++) {
                const char *spec = o->reports[r];
                int k = fleet_spec_kind(spec);
                if (k == SPEC_METRICS || k == SPEC_HTML)
                        continue; /* write_metrics, write_html */
                size_t i = ns++;
                if (k == SPEC_GUEST_FILE) {
                        specs[i] = owned[i] = fleet_subst_guest(spec, "_fleet");
                        if (owned[i])
                                fleet_make_parents(owned[i]);
                }
                else if (k == SPEC_DIRECT)
                        specs[i] = spec;
                else {
                        char what[32];
                        snprintf(what, sizeof what, "out%zu", r);
                        char *f = NULL;
                        if (asprintf(&f, "%s/fleet.%s", priv, what) < 0 ||
                            asprintf(&owned[i], "%s:%s", vd_sink_spec_kind(spec), f) < 0)
                                owned[i] = NULL;
                        free(f);
                        specs[i] = owned[i] ? owned[i] : spec;
                }
        }
        vd_sink *sinks[MAX_SINKS] = {0};
        int rc = ns ? cli_open_sinks(specs, ns, &o->sinko, sinks) : 0;
        if (rc == 0 && ns)
                rc = cli_deliver(sinks, ns, &rep);
        for (size_t i = 0; i < ns; i++)
                free(owned[i]);
        free(w);
        return rc;
}

/* Stdout and files without {guest}: every guest's output in inventory
 * order, then the findings; a file is replaced whole at the end. */
static int put_together(const fleet_opts *o, const char *priv, const job *jobs, size_t n) {
        int rc = 0;
        for (size_t i = 0; i < o->n_reports; i++) {
                int k = fleet_spec_kind(o->reports[i]);
                if (k != SPEC_STDOUT && k != SPEC_FILE)
                        continue;
                vd_buf b;
                vd_buf_init(&b, OUTPUT_MAX);
                char what[32];
                snprintf(what, sizeof what, "out%zu", i);
                for (size_t g = 0; g < n; g++) {
                        if (!jobs[g].ran)
                                continue;
                        char *f = fleet_priv_file(priv, jobs[g].idx, what);
                        if (f && append_file(&b, f))
                                rc = EXIT_RUNTIME;
                        free(f);
                        if (k == SPEC_STDOUT && strncmp(o->reports[i], "text", 4) == 0)
                                vd_buf_adds(&b, "\n");
                }
                char fl[4200];
                snprintf(fl, sizeof fl, "%.4096s/fleet.%.31s", priv, what);
                if (append_file(&b, fl))
                        rc = EXIT_RUNTIME;
                if (k == SPEC_STDOUT) {
                        if (b.len && fwrite(b.buf, 1, b.len, stdout) != b.len)
                                rc = EXIT_RUNTIME;
                        fflush(stdout);
                } else {
                        vd_err e = VD_ERR_INIT;
                        if (vd_write_atomic(vd_sink_spec_file(o->reports[i]), b.buf ? b.buf : "", b.len, 0644, &e) < 0)
                                rc = cli_fail(&e);
                }
                vd_buf_release(&b);
        }
        return rc;
}

/* What the fleet writes itself after the run (metrics, the page): b to
 * each report of kind, a file atomically, else stdout. */
static int fleet_output(const fleet_opts *o, int kind, const vd_buf *b) {
        int rc = 0;
        for (size_t i = 0; i < o->n_reports && !rc; i++) {
                if (fleet_spec_kind(o->reports[i]) != kind)
                        continue;
                const char *f = vd_sink_spec_file(o->reports[i]);
                vd_err e = VD_ERR_INIT;
                if (!f) {
                        if (b->len && fwrite(b->buf, 1, b->len, stdout) != b->len)
                                rc = EXIT_RUNTIME;
                        fflush(stdout);
                } else if (vd_write_atomic(f, b->buf ? b->buf : "", b->len, 0644, &e) < 0)
                        rc = cli_fail(&e);
        }
        return rc;
}

/* prometheus[:FILE]: every guest of the inventory from its state (this
 * run's, or the last it had), and the fleet's findings of this run. */
static int write_metrics(const fleet_opts *o, const vd_inventory *inv, const job *jobs, size_t n,
                         const vd_events *findings) {
        vd_metric_fleet fl = {.guests = inv->n_guests};
        for (size_t i = 0; i < findings->n; i++) {
                int k = findings->v[i].kind;
                fl.unmanaged += k == VD_CH_UNMANAGED;
                fl.stale += k == VD_CH_STALE;
                fl.orphan += k == VD_CH_ORPHAN;
                fl.unreachable += k == VD_CH_UNREACHABLE;
        }
        vd_metric_guest *g = calloc(n ? n : 1, sizeof *g);
        if (!g)
                return EXIT_RUNTIME;
        for (size_t i = 0; i < n; i++) {
                const vd_guest_state *st = &jobs[i].st;
                g[i] = (vd_metric_guest){.name = jobs[i].g->name,
                                         .end_ns = st->present || jobs[i].ran ? st->time_ns + st->duration_ms * 1000000 : 0,
                                         .last_success_ns = st->last_success_ns,
                                         .duration_ms = st->duration_ms,
                                         .exit_code = st->exit_code,
                                         .mode = st->mode};
                memcpy(g[i].by_sev, st->by_sev, sizeof g[i].by_sev);
        }
        vd_buf b;
        vd_buf_init(&b, 0);
        int rc = vd_metrics_render(&b, g, n, &fl) < 0 ? EXIT_RUNTIME : 0;
        if (!rc)
                rc = fleet_output(o, SPEC_METRICS, &b);
        vd_buf_release(&b);
        free(g);
        return rc;
}

/* ---- html:FILE, the fleet's page ---- */

#define PAGE_EVENTS_MAX 500               /* shown per guest; the rest counted */
#define PAGE_EVENTS_FILE_MAX ((size_t)8 << 20) /* of a guest's events read */
#define PAGE_DETAILS_MAX 1000

/* One guest's events for the page: strings it owns. */
typedef struct page_guest {
        vd_html_event *ev;
        size_t n;
        char **owned;
        size_t n_owned, alloc_owned;
        vd_html_run runs[VD_FLEET_HISTORY_MAX];
} page_guest;

static const char *keep(page_guest *pg, const char *s) {
        if (!s)
                return NULL;
        char *c = strdup(s);
        if (c && vd_array_grow(&pg->owned, &pg->alloc_owned, pg->n_owned, sizeof *pg->owned, 64) == 0) {
                pg->owned[pg->n_owned++] = c;
                return c;
        }
        free(c);
        return NULL;
}

/* "attr: old -> new; ..." from an event's changes (JSON values as text) */
static void details(const vd_json *ch, vd_buf *t) {
        for (const vd_json *m = ch && ch->type == VD_JSON_OBJECT ? ch->child : NULL; m && t->len < PAGE_DETAILS_MAX;
             m = m->next) {
                if (t->len)
                        vd_buf_adds(t, "; ");
                vd_buf_adds(t, m->key ? m->key : "?");
                const char *side[2] = {"old", "new"};
                for (int k = 0; k < 2; k++) {
                        const vd_json *v = vd_json_get(m, side[k]);
                        vd_buf_adds(t, k ? " -> " : ": ");
                        if (!v || v->type == VD_JSON_NULL)
                                vd_buf_adds(t, "(none)");
                        else if (v->type == VD_JSON_STRING || v->type == VD_JSON_NUMBER)
                                vd_buf_add(t, v->s, v->n > 200 ? 200 : v->n);
                        else
                                vd_buf_adds(t, "(bytes)");
                }
        }
}

/* The guest's drift events from its private JSON report; -1 unreadable. */
static int page_events(const char *file, page_guest *pg, size_t *total) {
        vd_buf b;
        vd_buf_init(&b, PAGE_EVENTS_FILE_MAX);
        vd_err e = VD_ERR_INIT;
        bool absent = false;
        if (vd_read_path(file, 0, PAGE_EVENTS_FILE_MAX, VD_E_IO, file, &b, &absent, &e) < 0 && (absent || e.code != VD_E_LIMIT)) {
                vd_buf_release(&b);
                return -1;
        }
        vd_json_doc d;
        memset(&d, 0, sizeof d);
        *total = 0;
        for (size_t i = 0; i < b.len;) {
                const char *nl = memchr(b.buf + i, '\n', b.len - i);
                size_t end = nl ? (size_t)(nl - b.buf) : b.len;
                vd_err je = VD_ERR_INIT;
                if (vd_json_parse_again(b.buf + i, end - i, file, NULL, &d, &je) == 0 && d.root) {
                        const char *ev = vd_json_get_str(d.root, "event");
                        if (ev && !strcmp(ev, "drift")) {
                                ++*total;
                                if (pg->n < PAGE_EVENTS_MAX) {
                                        vd_html_event *x = &pg->ev[pg->n++];
                                        const char *what = vd_json_get_str(d.root, "detector");
                                        if (!what)
                                                what = vd_json_get_str(d.root, "config");
                                        if (!what)
                                                what = vd_json_get_str(d.root, "rule");
                                        const char *path = vd_json_get_str(d.root, "path");
                                        if (!path)
                                                path = vd_json_get_str(d.root, "package");
                                        vd_buf t;
                                        vd_buf_init(&t, PAGE_DETAILS_MAX + 512);
                                        details(vd_json_get(d.root, "changes"), &t);
                                        vd_buf_addc(&t, '\0');
                                        *x = (vd_html_event){keep(pg, vd_json_get_str(d.root, "severity")),
                                                             keep(pg, vd_json_get_str(d.root, "change")), keep(pg, path),
                                                             keep(pg, what), keep(pg, t.buf)};
                                        vd_buf_release(&t);
                                }
                        }
                }
                i = end + 1;
        }
        vd_json_doc_release(&d);
        vd_buf_release(&b);
        return 0;
}

static int write_html(const fleet_opts *o, const vd_inventory *inv, const char *priv, const job *jobs, size_t n,
                      const vd_events *findings, int64_t t0) {
        vd_html_guest *g = calloc(n ? n : 1, sizeof *g);
        page_guest *pg = calloc(n ? n : 1, sizeof *pg);
        char **src = calloc(n ? n : 1, sizeof *src);
        int rc = g && pg && src ? 0 : EXIT_RUNTIME;
        for (size_t i = 0; rc == 0 && i < n; i++) {
                const vd_guest_state *st = &jobs[i].st;
                const vd_inv_guest *ig = jobs[i].g;
                for (size_t k = 0; k < st->n_history; k++)
                        pg[i].runs[k] = (vd_html_run){st->history[k].time_ns, st->history[k].duration_ms,
                                                      st->history[k].result, st->history[k].mode, st->history[k].total,
                                                      {st->history[k].by_sev[0], st->history[k].by_sev[1],
                                                       st->history[k].by_sev[2], st->history[k].by_sev[3],
                                                       st->history[k].by_sev[4]}};
                vd_buf sb;
                vd_buf_init(&sb, 0);
                if (ig->domain)
                        vd_buf_addf(&sb, "domain %s", ig->domain);
                else if (ig->dir)
                        vd_buf_addf(&sb, "dir %s", ig->dir);
                for (size_t k = 0; k < ig->n_images; k++)
                        vd_buf_addf(&sb, "%s%s", k ? ", " : "", ig->images[k]);
                src[i] = vd_buf_detach(&sb, NULL);
                g[i] = (vd_html_guest){.name = ig->name, .source = src[i], .result = st->result, .mode = st->mode,
                                       .error = st->error, .time_ns = st->time_ns, .duration_ms = st->duration_ms,
                                       .total = st->total, .history = pg[i].runs, .n_history = st->n_history};
                memcpy(g[i].by_sev, st->by_sev, sizeof g[i].by_sev);
                char *f = jobs[i].ran ? fleet_priv_file(priv, jobs[i].idx, FLEET_PRIV_EVENTS) : NULL;
                if (f && (pg[i].ev = calloc(PAGE_EVENTS_MAX, sizeof *pg[i].ev)) &&
                    page_events(f, &pg[i], &g[i].events_total) == 0) {
                        g[i].events = pg[i].ev;
                        g[i].n_events = pg[i].n;
                        g[i].events_known = 1;
                }
                free(f);
        }
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        vd_html_fleet page = {inv->file, host[0] ? host : NULL, t0, g, n, findings};
        vd_buf b;
        vd_buf_init(&b, OUTPUT_MAX);
        if (rc == 0 && vd_html_fleet_render(&b, &page) < 0)
                rc = EXIT_RUNTIME;
        if (!rc)
                rc = fleet_output(o, SPEC_HTML, &b);
        vd_buf_release(&b);
        for (size_t i = 0; pg && i < n; i++) {
                for (size_t k = 0; k < pg[i].n_owned; k++)
                        free(pg[i].owned[k]);
                free(pg[i].owned);
                free(pg[i].ev);
                if (src)
                        free(src[i]);
        }
        free(pg);
        free(src);
        free(g);
        return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
                vd_debug("cannot remove %s: %s", path, strerror(errno));
        return 0; /* and the rest */
}

/* The run's private directory, and what its guests left in it (no shell:
 * TMPDIR is the operator's, any byte in it) */
static void rmtree_priv(const char *priv) {
        if (nftw(priv, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
                vd_debug("cannot remove %s: %s", priv, strerror(errno));
}

/* ---- fleet run ---- */

int fleet_run(fleet_opts *o, const vd_inventory *inv) {
        vd_err err = VD_ERR_INIT;
        int fail_on = o->fail_on ? vd_severity_from_name(o->fail_on) : VD_SEV_INFO;
        if (vd_state_dir_check(o->state_dir, true, &err) < 0)
                return cli_fail(&err);
        int lock_fd = -1;
        int rc = take_lock(o->state_dir, o->wait, &lock_fd);
        if (rc)
                return rc;
        if (o->idle)
                set_idle_priority();
        if (o->jitter_s > 0) {
                unsigned seed = (unsigned)(vd_now_ns() ^ (int64_t)getpid());
                int64_t d = (int64_t)(rand_r(&seed) % (int)(o->jitter_s * 1000));
                if (isatty(2) && o->progress >= 0)
                        fprintf(stderr, "vmdrift fleet: waiting %.1f s first (--jitter)\n", (double)d / 1000);
                struct timespec ts = {d / 1000, (d % 1000) * 1000000};
                nanosleep(&ts, NULL);
        }
        for (size_t i = 0; i < inv->n_notes; i++)
                fprintf(stderr, "vmdrift fleet: note: %s\n", inv->notes[i]);
        const char *td = cli_env_get()->host.tmp_dir;
        char priv[4096];
        snprintf(priv, sizeof priv, "%s/vmdrift-fleet.XXXXXX", td ? td : "/tmp");
        if (!mkdtemp(priv)) {
                fprintf(stderr, "vmdrift fleet: cannot create a temporary directory: %s\n", strerror(errno));
                close(lock_fd);
                return EXIT_RUNTIME;
        }
        char run_id[37];
        vd_scan_id(run_id);
        size_t n = inv->n_guests;
        job *jobs = calloc(n, sizeof *jobs);
        vd_events findings;
        vd_events_init(&findings);
        char **warn = NULL;
        size_t n_warn = 0;
        int64_t t0 = vd_now_ns();
        for (size_t i = 0; jobs && i < n; i++) {
                jobs[i].g = &inv->guests[i];
                jobs[i].idx = i;
                if (vd_fleet_state_read(o->state_dir, jobs[i].g->name, &jobs[i].st, &err) < 0) {
                        fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
                        memset(&jobs[i].st, 0, sizeof jobs[i].st);
                }
                if (!jobs[i].st.first_seen_ns)
                        jobs[i].st.first_seen_ns = t0;
        }
        if (jobs)
                fleet_scan_in_workers(o, priv, jobs, n, &findings, t0);
        /* what is remembered, then the fleet's own findings */
        int64_t now = vd_now_ns();
        for (size_t i = 0; jobs && i < n; i++) {
                if (jobs[i].done)
                        vd_fleet_history_push(&jobs[i].st);
                if (vd_fleet_state_write(o->state_dir, jobs[i].g->name, &jobs[i].st, &err) < 0)
                        fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
                if (vd_fleet_stale(inv, jobs[i].g, &jobs[i].st, now, &findings, &err) < 0)
                        fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
        }
        if (vd_fleet_unmanaged(inv, &findings, &warn, &n_warn, &err) < 0 ||
            vd_fleet_orphans(inv, o->state_dir, &findings, &warn, &n_warn, &err) < 0)
                fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
        int drc = deliver_findings(o, inv, priv, &findings, warn, n_warn, fail_on, run_id);
        int prc = put_together(o, priv, jobs, n);
        if (!prc && jobs)
                prc = write_metrics(o, inv, jobs, n, &findings);
        if (!prc && jobs && fleet_wants_html(o))
                prc = write_html(o, inv, priv, jobs, n, &findings, t0);
        /* the worst of the run */
        int worst = 0;
        for (size_t i = 0; jobs && i < n; i++) {
                int c = jobs[i].st.exit_code;
                if (c < 0 || c >= EXIT_USAGE)
                        worst = EXIT_RUNTIME;
                else if (c == EXIT_DRIFT && worst == 0)
                        worst = EXIT_DRIFT;
        }
        for (size_t i = 0; i < findings.n && worst == 0; i++)
                if (findings.v[i].severity >= fail_on)
                        worst = EXIT_DRIFT;
        if ((drc >= EXIT_USAGE || prc) && worst < EXIT_RUNTIME)
                worst = EXIT_RUNTIME;
        /* one line per guest for the log of whoever started it */
        for (size_t i = 0; jobs && i < n; i++) {
                const vd_guest_state *st = &jobs[i].st;
                fprintf(stderr, "vmdrift fleet: %s: %s", jobs[i].g->name, st->result[0] ? st->result : "not run");
                if (!strcmp(st->result, "drift") || !strcmp(st->result, "clean"))
                        fprintf(stderr, " (%zu events: %zu critical, %zu high, %zu medium, %zu low, %zu info; %.1f s)",
                                st->total, st->by_sev[4], st->by_sev[3], st->by_sev[2], st->by_sev[1], st->by_sev[0],
                                (double)st->duration_ms / 1000);
                else if (st->error[0])
                        fprintf(stderr, ": %s", st->error);
                fputc('\n', stderr);
        }
        size_t launches = 0;
        for (size_t i = 0; jobs && i < n; i++)
                launches += jobs[i].st.launched;
        fprintf(stderr, "vmdrift fleet: %zu guests in %.1f s, %zu appliance launches, %zu fleet findings; exit %d\n",
                n, (double)(vd_now_ns() - t0) / 1e9, launches, findings.n, worst);
        for (size_t i = 0; i < n_warn; i++)
                free(warn[i]);
        free(warn);
        vd_events_release(&findings);
        free(jobs);
        rmtree_priv(priv);
        close(lock_fd);
        return jobs ? worst : EXIT_RUNTIME;
}
