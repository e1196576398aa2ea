/* vmdrift fleet: options and the subcommands run, check and status. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "vd_log.h"
#include "vd_pipeline.h"
#include "vd_state.h"
#include "vd_str.h"

#include "fleet.h"

#define OUTPUT_MAX ((size_t)1 << 30)

static const char fleet_usage[] =
        "usage: vmdrift fleet [run] --inventory FILE [options]\n"
        "       vmdrift fleet check FILE\n"
        "       vmdrift fleet status --inventory FILE [--json]\n"
        "\n"
        "Scan every guest of a fleet inventory (docs/fleet.md), each as vmdrift scan\n"
        "would against its baseline, in --jobs workers at idle I/O priority; then\n"
        "report the fleet's own findings: images and libvirt domains no guest covers\n"
        "(unmanaged), guests not scanned successfully for longer than stale_after (stale),\n"
        "linked clones of none of the templates (orphan), listed guests that are gone\n"
        "(unreachable). Every event carries its guest's name.\n"
        "\n"
        "options:\n"
        "  --inventory FILE     the fleet inventory (YAML)\n"
        "  --report SPEC        as vmdrift scan's (repeatable); in a file name {guest} is\n"
        "                       replaced by each guest's name (json:/var/log/vmdrift/{guest}.json;\n"
        "                       the fleet's own findings go to {guest} = _fleet); files without it\n"
        "                       and stdout get every guest's report, then the findings\n"
        "  --jobs N             worker processes, taking guests as they go, each with one\n"
        "                       appliance at a time (default: what the CPUs and memory allow,\n"
        "                       one appliance needs about 1.5 GiB)\n"
        "  --guests-per-appliance K\n"
        "                       image guests scanned one after another in one appliance (default\n"
        "                       8; 1: each its own vmdrift scan process and appliance); a guest\n"
        "                       that cannot share (no recorded layout, LVM, btrfs, XFS, in use,\n"
        "                       a domain) gets its own, a failed scan retires the shared one\n"
        "  --jitter DURATION    wait a random time up to this long first (300s, 5m... ), so\n"
        "                       that hosts sharing storage do not all start at once\n"
        "  --priority P         idle (default: nice 10 and the idle I/O class for every scan)\n"
        "                       or normal\n"
        "  --wait               if another fleet run holds the lock, wait for it (default:\n"
        "                       exit 4 at once)\n"
        "  --progress WHEN      auto (default: on a terminal), always, never\n"
        "  --fail-on SEVERITY   as vmdrift scan's: exit 1 only for drift at or above it\n"
        "  --state-dir DIR      the lock, each guest's last result (fleet/<guest>.json), and\n"
        "                       what scans remember; default $STATE_DIRECTORY or /var/lib/vmdrift\n"
        "  --accel MODE, --hash-in WHERE, --full-inspection, --threads N, --full, --paranoid\n"
        "                       passed to every scan\n"
        "  --syslog-* , --max-events   as vmdrift scan's, for every scan and the findings\n"
        "  --json               fleet status: JSON instead of a table\n"
        "  -h, --help           this help\n"
        "\n"
        "exit codes (the worst of the run):\n"
        "  0  every guest scanned, no drift and no finding at or above --fail-on\n"
        "  1  drift or a fleet finding at or above --fail-on\n"
        "  2  usage or inventory error\n"
        "  3  a guest's scan failed or a guest is unreachable (the others were still scanned)\n"
        "  4  another fleet run holds the lock (without --wait)\n";

enum {
        OPT_INVENTORY = 256,
        OPT_REPORT,
        OPT_JOBS,
        OPT_PER_APPLIANCE,
        OPT_JITTER,
        OPT_PRIORITY,
        OPT_WAIT,
        OPT_PROGRESS,
        OPT_FAILON,
        OPT_JSON,
        OPT_FULL,
        OPT_PARANOID,
};

/* "300", "300s", "5m", "2h" */
static bool parse_duration(const char *s, int64_t *ret) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        int64_t unit = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;
        if (errno || end == s || v < 0 || !unit || v > 86400 / unit)
                return false;
        *ret = v * unit;
        return true;
}

/* The CPUs, and the memory one appliance needs (about 1.5 GiB with qemu). */
static unsigned default_jobs(void) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned j = cpus > 0 ? (unsigned)cpus : 1;
        FILE *f = fopen("/proc/meminfo", "re");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
                unsigned long long kb;
                if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                        unsigned long long m = kb / (1536ULL * 1024);
                        if (m < j)
                                j = m ? (unsigned)m : 1;
                }
        }
        if (f)
                fclose(f);
        return j;
}

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
                if (jobs[i].pid > 0 && !jobs[i].done)
                        rl += (size_t)snprintf(running + rl, sizeof running - rl, "%s%s", rl ? ", " : "", jobs[i].g->name);
        long el = (long)((now - t0) / 1000000000);
        long eta = done ? (long)(el * (long)(n - done) / (long)done) : -1;
        /* what the finished scans did: files seen and hashed, bytes read, how */
        uint64_t files = 0, hashed = 0, bytes = 0;
        size_t kept = 0, delta = 0;
        for (size_t i = 0; i < n; i++)
                if (jobs[i].done) {
                        files += jobs[i].st.entries;
                        hashed += jobs[i].st.files_hashed;
                        bytes += jobs[i].st.bytes_hashed;
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

/* Append file to b (a guest's report for a shared output). */
static void append_file(vd_buf *b, const char *path) {
        size_t len = 0;
        char *t = fleet_slurp(path, OUTPUT_MAX, &len);
        if (t)
                vd_buf_add(b, t, len);
        free(t);
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
        for (size_t i = 0; i < o->n_reports; i++) {
                const char *spec = o->reports[i];
                int k = fleet_spec_kind(spec);
                if (k == SPEC_GUEST_FILE) {
                        specs[i] = owned[i] = fleet_subst_guest(spec, "_fleet");
                        if (owned[i])
                                fleet_make_parents(owned[i]);
                }
                else if (k == SPEC_DIRECT)
                        specs[i] = spec;
                else {
                        char what[32];
                        snprintf(what, sizeof what, "out%zu", i);
                        char *f = NULL;
                        if (asprintf(&f, "%s/fleet.%s", priv, what) < 0 ||
                            asprintf(&owned[i], "%s:%s", strncmp(spec, "json", 4) == 0 ? "json" : "text", f) < 0)
                                owned[i] = NULL;
                        free(f);
                        specs[i] = owned[i] ? owned[i] : spec;
                }
        }
        vd_sink *sinks[MAX_SINKS] = {0};
        int rc = cli_open_sinks(specs, o->n_reports, &o->sinko, sinks);
        if (rc == 0)
                rc = cli_deliver(sinks, o->n_reports, &rep);
        for (size_t i = 0; i < o->n_reports; i++)
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
                        if (f)
                                append_file(&b, f);
                        free(f);
                        if (k == SPEC_STDOUT && strncmp(o->reports[i], "text", 4) == 0)
                                vd_buf_adds(&b, "\n");
                }
                char fl[4200];
                snprintf(fl, sizeof fl, "%.4096s/fleet.%.31s", priv, what);
                append_file(&b, fl);
                if (k == SPEC_STDOUT) {
                        if (b.len && fwrite(b.buf, 1, b.len, stdout) != b.len)
                                rc = EXIT_RUNTIME;
                        fflush(stdout);
                } else {
                        vd_err e = VD_ERR_INIT;
                        if (vd_write_atomic(cli_report_file(o->reports[i]), b.buf ? b.buf : "", b.len, 0644, &e) < 0)
                                rc = cli_fail(&e);
                }
                vd_buf_release(&b);
        }
        return rc;
}

static void rmtree_priv(const char *priv) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", priv);
        if (strchr(priv, '\'') == NULL && system(cmd) != 0)
                vd_debug("cannot remove %s", priv);
}

/* ---- fleet run ---- */

static int fleet_run(fleet_opts *o, const vd_inventory *inv) {
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
        const char *td = cli_env_get()->tmp_dir;
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
        size_t done = 0, running = 0, next = 0;
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
        if (jobs && o->per_app >= 2 && fleet_scan_in_workers(o, priv, jobs, n, &findings, t0))
                done = n;
        if (o->per_app < 2)
                fleet_progress(o, jobs, n, 0, t0, vd_now_ns());
        while (jobs && done < n) {
                /* start what may start */
                while (next < n && running < o->jobs) {
                        job *j = &jobs[next++];
                        if (fleet_gone(j, &findings) || !fleet_start_single(o, priv, j)) {
                                done++;
                                continue;
                        }
                        j->ran = true;
                        running++;
                        vd_debug("fleet: started %s (pid %d)", j->g->name, (int)j->pid);
                }
                if (!running)
                        continue;
                int status = 0;
                pid_t p = waitpid(-1, &status, 0);
                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < n; i++)
                        if (jobs[i].pid == p && !jobs[i].done) {
                                fleet_finish_job(o, priv, &jobs[i], status, vd_now_ns());
                                running--;
                                done++;
                                vd_debug("fleet: %s: %s (%d)", jobs[i].g->name, jobs[i].st.result,
                                         jobs[i].st.exit_code);
                        }
                fleet_progress(o, jobs, n, done, t0, vd_now_ns());
        }
        /* what is remembered, then the fleet's own findings */
        int64_t now = vd_now_ns();
        for (size_t i = 0; jobs && i < n; i++) {
                if (vd_fleet_state_write(o->state_dir, jobs[i].g->name, &jobs[i].st, &err) < 0)
                        fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
                if (vd_fleet_stale(inv, jobs[i].g, &jobs[i].st, now, &findings, &err) < 0)
                        fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
        }
        if (vd_fleet_unmanaged(inv, &findings, &warn, &n_warn, &err) < 0 ||
            vd_fleet_orphans(inv, &findings, &warn, &n_warn, &err) < 0)
                fprintf(stderr, "vmdrift fleet: %s\n", err.msg);
        int drc = deliver_findings(o, inv, priv, &findings, warn, n_warn, fail_on, run_id);
        int prc = put_together(o, priv, jobs, n);
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

int cmd_fleet(int argc, char **argv) {
        const char *sub = "run";
        if (argc > 1 && argv[1][0] != '-') {
                sub = argv[1];
                argc--;
                argv++;
                if (strcmp(sub, "run") != 0 && strcmp(sub, "check") != 0 && strcmp(sub, "status") != 0)
                        return cli_usage("fleet", "unknown subcommand '%s' (run, check, status)", sub);
        }
        static const struct option lo[] = {CLI_REPORT_LONGOPTS,
                                           {"inventory", required_argument, NULL, OPT_INVENTORY},
                                           {"report", required_argument, NULL, OPT_REPORT},
                                           {"jobs", required_argument, NULL, OPT_JOBS},
                                           {"guests-per-appliance", required_argument, NULL, OPT_PER_APPLIANCE},
                                           {"jitter", required_argument, NULL, OPT_JITTER},
                                           {"priority", required_argument, NULL, OPT_PRIORITY},
                                           {"wait", no_argument, NULL, OPT_WAIT},
                                           {"progress", required_argument, NULL, OPT_PROGRESS},
                                           {"fail-on", required_argument, NULL, OPT_FAILON},
                                           {"json", no_argument, NULL, OPT_JSON},
                                           {"state-dir", required_argument, NULL, CLI_OPT_STATE_DIR},
                                           {"accel", required_argument, NULL, CLI_OPT_ACCEL},
                                           {"hash-in", required_argument, NULL, CLI_OPT_HASH_IN},
                                           {"threads", required_argument, NULL, CLI_OPT_THREADS},
                                           {"full-inspection", no_argument, NULL, CLI_OPT_FULL_INSPECTION},
                                           {"full", no_argument, NULL, OPT_FULL},
                                           {"paranoid", no_argument, NULL, OPT_PARANOID},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
        fleet_opts o;
        memset(&o, 0, sizeof o);
        o.idle = true;
        o.per_app = PER_APPLIANCE_DEFAULT;
        vd_sink_opts_init(&o.sinko);
        int c, li = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
                /* report options go to every scan, and to the findings' sinks */
                if (c >= CLI_OPT_SYSLOG_CA && c <= CLI_OPT_MAX_EVENTS && c != CLI_OPT_STATE_DIR) {
                        if (cli_report_opt(&o.sinko, c, optarg, "fleet") == EXIT_USAGE)
                                return EXIT_USAGE;
                        continue;
                }
                /* what every guest's scan is asked the same */
                if (c == CLI_OPT_ACCEL || c == CLI_OPT_HASH_IN || c == CLI_OPT_THREADS || c == CLI_OPT_FULL_INSPECTION) {
                        if (cli_source_opt(&o.base.so, c, optarg, "fleet") == EXIT_USAGE)
                                return EXIT_USAGE;
                        continue;
                }
                switch (c) {
                case OPT_INVENTORY: o.inventory = optarg; break;
                case CLI_OPT_STATE_DIR: o.state_dir = optarg; break;
                case OPT_REPORT:
                        if (o.n_reports == MAX_SINKS)
                                return cli_usage("fleet", "at most %d --report options", MAX_SINKS);
                        if (strstr(optarg, "{guest}") && fleet_spec_kind(optarg) != SPEC_GUEST_FILE)
                                return cli_usage("fleet", "--report %s: {guest} belongs in a text: or json: file name",
                                                 optarg);
                        o.reports[o.n_reports++] = optarg;
                        break;
                case OPT_JOBS:
                        if (!cli_parse_uint(optarg, &o.jobs) || o.jobs == 0 || o.jobs > 64)
                                return cli_usage("fleet", "--jobs expects 1-64, not '%s'", optarg);
                        break;
                case OPT_PER_APPLIANCE:
                        if (!cli_parse_uint(optarg, &o.per_app) || o.per_app == 0 || o.per_app > 64)
                                return cli_usage("fleet", "--guests-per-appliance expects 1-64, not '%s'", optarg);
                        break;
                case OPT_JITTER:
                        if (!parse_duration(optarg, &o.jitter_s))
                                return cli_usage("fleet", "--jitter expects a duration such as 300s, 5m or 1h (at most "
                                                 "a day), not '%s'",
                                                 optarg);
                        break;
                case OPT_PRIORITY:
                        if (strcmp(optarg, "idle") && strcmp(optarg, "normal"))
                                return cli_usage("fleet", "--priority expects idle or normal, not '%s'", optarg);
                        o.idle = strcmp(optarg, "idle") == 0;
                        break;
                case OPT_WAIT: o.wait = true; break;
                case OPT_JSON: o.json = true; break;
                case OPT_PROGRESS:
                        o.progress = !strcmp(optarg, "always") ? 1 : !strcmp(optarg, "never") ? -1 : 0;
                        if (strcmp(optarg, "always") && strcmp(optarg, "never") && strcmp(optarg, "auto"))
                                return cli_usage("fleet", "--progress expects auto, always or never, not '%s'", optarg);
                        break;
                case OPT_FAILON:
                        if (vd_severity_from_name(optarg) < 0)
                                return cli_usage("fleet", "--fail-on expects info, low, medium, high or critical, not "
                                                 "'%s'",
                                                 optarg);
                        o.fail_on = optarg;
                        break;
                case OPT_FULL: o.base.full = true; break;
                case OPT_PARANOID: o.base.paranoid = true; break;
                case 'h': fputs(fleet_usage, stdout); return 0;
                default: return cli_bad_option("fleet", argv);
                }
        }
        if (!strcmp(sub, "check") && !o.inventory && optind < argc)
                o.inventory = argv[optind++];
        if (optind < argc)
                return cli_usage("fleet", "unexpected argument '%s'", argv[optind]);
        if (!o.inventory)
                return cli_usage("fleet", !strcmp(sub, "check") ? "no inventory given: vmdrift fleet check FILE"
                                                                : "no inventory given: use --inventory FILE");
        o.state_dir = vd_state_dir(o.state_dir, cli_env_get()->state_directory);
        o.sinko.state_dir = o.state_dir;
        if (!o.jobs)
                o.jobs = default_jobs();
        if (o.n_reports == 0)
                o.reports[o.n_reports++] = "text";
        vd_inventory *inv = NULL;
        vd_err err = VD_ERR_INIT;
        if (vd_inventory_load(o.inventory, &inv, &err) < 0)
                return cli_fail(&err);
        o.inv = inv;
        int rc;
        if (!strcmp(sub, "check"))
                rc = fleet_check(inv);
        else if (!strcmp(sub, "status"))
                rc = fleet_status(&o, inv);
        else {
                /* no report may replace an input: the inventory, a baseline, an image */
                rc = 0;
                for (size_t r = 0; r < o.n_reports && !rc; r++) {
                        const char *f = cli_report_file(o.reports[r]);
                        if (!f || strstr(f, "{guest}"))
                                continue;
                        cli_input in[CLI_MAX_INPUTS] = {{"inventory", inv->file}};
                        size_t nin = 1;
                        for (size_t g = 0; g < inv->n_guests && !rc; g++) {
                                const vd_inv_guest *x = &inv->guests[g];
                                nin = 1;
                                in[nin++] = (cli_input){"baseline", x->baseline};
                                in[nin++] = (cli_input){"policy", x->policy};
                                for (size_t k = 0; k < x->n_images && nin < CLI_MAX_INPUTS; k++)
                                        in[nin++] = (cli_input){"image", x->images[k]};
                                rc = cli_refuse_overwrite("fleet", "report file", f, in, nin);
                        }
                }
                if (!rc)
                        rc = fleet_run(&o, inv);
        }
        vd_inventory_free(inv);
        return rc;
}
