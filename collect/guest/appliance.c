/* The appliance: a libguestfs handle with the guest's drives, launched under
 * a watchdog, with the fallback from a KVM that aborts or hangs qemu to
 * software emulation (remembered per host in the state directory, vd_accel),
 * and the libvirt domain's state asked before libguestfs opens it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "collect/vd_accel.h"
#include "common/vd_log.h"
#include "common/vd_str.h"

#include "guest_int.h"

/* ---- opening: libvirt, the handle, the launch (with the KVM fallback) ---- */

static void quiet_libvirt(void *ud, virErrorPtr e) {
        (void)ud;
        (void)e; /* errors are read with virGetLastErrorMessage and said once */
}

/* Ask libvirt about the domain before libguestfs does: one clear line for a
 * URI that cannot be reached or a domain that is not there, and whether the
 * guest is running (only then may its disks change under us). */
int vdg_domain_state(const vd_guest_opts *o, bool *ret_running, vd_err *err) {
        const char *uri = o->connect ? o->connect : "the default libvirt URI";
        virSetErrorFunc(NULL, quiet_libvirt);
        virConnectPtr c = virConnectOpenReadOnly(o->connect);
        if (!c)
                return vd_err_set(err, VD_E_SOURCE, "cannot connect to libvirt at %s: %s", uri,
                                  virGetLastErrorMessage());
        int r = 0;
        virDomainPtr d = virDomainLookupByName(c, o->domain);
        if (!d) {
                r = vd_err_set(err, VD_E_SOURCE, "no libvirt domain '%s' at %s", o->domain, uri);
        } else {
                int state = 0, reason = 0;
                if (virDomainGetState(d, &state, &reason, 0) < 0)
                        r = vd_err_set(err, VD_E_SOURCE, "libvirt domain '%s': cannot read its state: %s", o->domain,
                                       virGetLastErrorMessage());
                else
                        *ret_running = state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED &&
                                       state != VIR_DOMAIN_NOSTATE;
                vd_debug("libvirt domain %s: state %d", o->domain, state);
                virDomainFree(d);
        }
        virConnectClose(c);
        return r;
}

static void on_console(guestfs_h *g, void *ud, uint64_t event, int eh, int flags, const char *buf, size_t len,
                       const uint64_t *array, size_t array_len) {
        struct console *c = ud;
        if (len >= CONSOLE_TAIL) {
                buf += len - CONSOLE_TAIL;
                len = CONSOLE_TAIL;
        }
        if (c->len + len > CONSOLE_TAIL) {
                size_t drop = c->len + len - CONSOLE_TAIL;
                memmove(c->buf, c->buf + drop, c->len - drop);
                c->len -= drop;
        }
        memcpy(c->buf + c->len, buf, len);
        c->len += len;
}

/* The line of qemu's output that says why it died, if one does: into out. */
static void console_reason(const struct console *c, char *out, size_t n) {
        static const char *const marks[] = {"failed to set MSR", "Assertion", "kvm", "KVM", "qemu-system"};
        out[0] = '\0';
        for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
                const char *hit = memmem(c->buf, c->len, marks[m], strlen(marks[m]));
                if (!hit)
                        continue;
                const char *b = hit, *e = hit, *end = c->buf + c->len;
                while (b > c->buf && b[-1] != '\n')
                        b--;
                while (e < end && *e != '\n' && *e != '\r')
                        e++;
                vd_buf t;
                vd_buf_init(&t, 0);
                vd_escape_display(&t, b, (size_t)(e - b) > 300 ? 300 : (size_t)(e - b));
                snprintf(out, n, "%.*s", (int)t.len, t.buf ? t.buf : "");
                vd_buf_release(&t);
                return;
        }
}

enum { ACCEL_DEFAULT, ACCEL_FORCE_TCG, ACCEL_FORCE_KVM };

/* A new handle with every drive added, not launched. */
static int make_handle(struct guest_src *s, const vd_guest_opts *o, int force, struct console *con, vd_err *err) {
        s->g = guestfs_create();
        if (!s->g)
                return vd_err_set(err, VD_E_SOURCE, "cannot create a libguestfs handle");
        guestfs_set_error_handler(s->g, NULL, NULL);
        if (con) {
                con->len = 0;
                guestfs_set_event_callback(s->g, on_console, GUESTFS_EVENT_APPLIANCE, 0, con);
        }
        /* The direct backend needs no daemon; a domain's disks are found
         * through libvirt all the same. */
        if (s->backend && guestfs_set_backend(s->g, s->backend) < 0)
                return vdg_err(err, s->g, "cannot set the libguestfs backend");
        if (force != ACCEL_DEFAULT &&
            guestfs_set_backend_setting(s->g, force == ACCEL_FORCE_TCG ? "force_tcg" : "force_kvm", "1") < 0)
                return vdg_err(err, s->g, "cannot set the accelerator");
        long cpus = s->one_cpu ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
        guestfs_set_smp(s->g, cpus > 1 ? (int)(cpus > 8 ? 8 : cpus) : 1);
        for (size_t i = 0; i < s->n_images; i++) {
                /* the format checked with its backing chain: never probed again */
                int ar = s->overlays ? guestfs_add_drive_opts(s->g, s->overlays[i], GUESTFS_ADD_DRIVE_OPTS_READONLY, 0,
                                                              GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1)
                                     : guestfs_add_drive_opts(s->g, o->images[i], GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                                                              GUESTFS_ADD_DRIVE_OPTS_FORMAT, s->formats[i], -1);
                if (ar < 0)
                        return vdg_err(err, s->g, "cannot add image");
        }
        if (o->domain) {
                int ar = o->connect ? guestfs_add_domain(s->g, o->domain, GUESTFS_ADD_DOMAIN_READONLY, 1,
                                                         GUESTFS_ADD_DOMAIN_LIBVIRTURI, o->connect, -1)
                                    : guestfs_add_domain(s->g, o->domain, GUESTFS_ADD_DOMAIN_READONLY, 1, -1);
                if (ar < 0)
                        return vdg_err(err, s->g, "cannot add libvirt domain");
        }
        if (o->want_walker && o->strategy == VD_GUEST_WALKER) {
                if (!s->scratch_file)
                        s->scratch_file = vdg_host_scratch(s->tmp_dir, s->scratch_uuid);
                int ar = s->scratch_file ? guestfs_add_drive_opts(s->g, s->scratch_file, GUESTFS_ADD_DRIVE_OPTS_FORMAT,
                                                                  "raw", -1)
                                         : guestfs_add_drive_scratch(s->g, SCRATCH_SIZE, -1);
                if (ar < 0)
                        return vdg_err(err, s->g, "cannot add a scratch disk");
        }
        return 0;
}

static void drop_handle(struct guest_src *s) {
        if (s->g) {
                guestfs_close(s->g);
                s->g = NULL;
        }
}

static void notice(const vd_guest_opts *o, int level, const char *fmt, ...) {
        if (!o->notice)
                return;
        char m[VD_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        o->notice(o->notice_ud, level, m);
}

/* The first launch on a host builds the appliance (supermin): say so. */
static void notice_first_run(struct guest_src *s, const vd_guest_opts *o) {
        char *cache = guestfs_get_cachedir(s->g);
        if (!cache)
                return;
        char p[4096];
        snprintf(p, sizeof p, "%s/.guestfs-%u/appliance.d/root", cache, (unsigned)geteuid());
        free(cache);
        if (access(p, R_OK) != 0)
                notice(o, VD_NOTICE_PROGRESS,
                       "first run on this host: building the libguestfs appliance (about a minute without KVM, "
                       "once)");
}

/* A backend setting the user gave (LIBGUESTFS_BACKEND_SETTINGS). */
static bool has_setting(guestfs_h *g, const char *name) {
        char *v = guestfs_get_backend_setting(g, name);
        if (!v)
                return false;
        free(v);
        return true;
}

/* ---- a launch that never finishes ----
 * guestfs_launch has no timeout, and under emulation on an overloaded host
 * qemu was seen spinning for good before the appliance answered. A
 * watchdog thread kills what our process started during the launch (the
 * hypervisor, whatever its name: LIBGUESTFS_HV may be a wrapper; not
 * supermin building the appliance, which may take minutes the first time,
 * and not our own forks) once it has run longer than VMDRIFT_LAUNCH_TIMEOUT
 * seconds (default 600; a launch takes 12-40 s here); the launch then fails
 * and says why. */
#define LAUNCH_TIMEOUT_DEFAULT 600

struct watchdog {
        pthread_t t;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool done, started;
        int fired; /* seconds it waited, when it killed qemu */
        long timeout_s;
        double since; /* the launch's start, seconds of uptime */
};

static long launch_timeout(const struct guest_src *s) {
        return s->knobs.launch_timeout_s > 0 ? s->knobs.launch_timeout_s : LAUNCH_TIMEOUT_DEFAULT;
}

/* An emulated launch with several vCPUs was seen (rarely: twice in some
 * thirty CI runs, on loaded hosts) to spin for good, as QEMU's TCG is known
 * to leave a kernel bringing up its second CPU. Such a launch gets
 * VMDRIFT_EMULATED_LAUNCH_TIMEOUT seconds (default 240, never above the
 * launch timeout), and then once more, with one vCPU, the whole timeout. */
#define EMULATED_FIRST_TIMEOUT 240

static long emulated_timeout(const struct guest_src *s) {
        long t = s->knobs.emulated_launch_timeout_s > 0 ? s->knobs.emulated_launch_timeout_s : EMULATED_FIRST_TIMEOUT,
             all = launch_timeout(s);
        return s->one_cpu || t > all ? all : t;
}

/* A first launch under KVM on a host not known to break it. KVM starts the
 * appliance in seconds; some hosts' KVM leaves qemu spinning in the kernel
 * for good right after the firmware (seen: nothing past SeaBIOS's "Booting
 * from ROM"). Past this, the launch counts as KVM's failure and falls back
 * to emulation, which is remembered like an abort. */
#define KVM_LAUNCH_TIMEOUT_DEFAULT 90

static long kvm_launch_timeout(const struct guest_src *s) {
        long t = s->knobs.kvm_launch_timeout_s > 0 ? s->knobs.kvm_launch_timeout_s : KVM_LAUNCH_TIMEOUT_DEFAULT,
             all = launch_timeout(s);
        return t < all ? t : all;
}

static double uptime(void) {
        double up = 0;
        FILE *u = fopen("/proc/uptime", "re");
        if (u && fscanf(u, "%lf", &up) != 1)
                up = 0;
        if (u)
                fclose(u);
        return up;
}

/* Our children started since `since` (seconds of uptime) and running longer
 * than t seconds, but supermin and our own forks: killed (another
 * appliance of ours, a fleet's shared one, is older). Returns how many. */
static int kill_old_qemu(double since, long t) {
        char self[64] = "";
        FILE *c = fopen("/proc/self/comm", "re");
        if (c && fgets(self, sizeof self, c))
                self[strcspn(self, "\n")] = '\0';
        if (c)
                fclose(c);
        DIR *d = opendir("/proc");
        struct dirent *de;
        double up = uptime();
        if (!d || up <= 0) {
                if (d)
                        closedir(d);
                return 0;
        }
        long tck = sysconf(_SC_CLK_TCK);
        int killed = 0;
        while ((de = readdir(d))) {
                char p[300], buf[1024];
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(p, sizeof p, "/proc/%.20s/stat", de->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (fd >= 0)
                        close(fd);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                /* pid (comm) state ppid ... field 22: starttime */
                char *l = strchr(buf, '('), *r = strrchr(buf, ')');
                if (!l || !r || r < l || strncmp(l + 1, "supermin", 8) == 0 ||
                    ((size_t)(r - l - 1) == strlen(self) && strncmp(l + 1, self, strlen(self)) == 0))
                        continue;
                int ppid = 0;
                unsigned long long start = 0;
                if (sscanf(r + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                           &ppid, &start) != 2 ||
                    ppid != getpid() || tck <= 0)
                        continue;
                double began = (double)start / (double)tck;
                if (began >= since - 1.0 && up - began > (double)t && kill(atoi(de->d_name), SIGKILL) == 0)
                        killed++;
        }
        closedir(d);
        return killed;
}

static void *watch(void *p) {
        struct watchdog *w = p;
        pthread_mutex_lock(&w->mu);
        while (!w->done) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&w->cv, &w->mu, &ts);
                if (!w->done && !w->fired && kill_old_qemu(w->since, w->timeout_s) > 0)
                        w->fired = 1;
        }
        pthread_mutex_unlock(&w->mu);
        return NULL;
}

/* guestfs_launch under the watchdog: -1 and *timed_out when it killed qemu */
static int watched_launch(guestfs_h *g, long timeout_s, bool *timed_out) {
        struct watchdog w = {.timeout_s = timeout_s, .since = uptime()};
        *timed_out = false;
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        w.started = pthread_create(&w.t, NULL, watch, &w) == 0;
        int r = guestfs_launch(g);
        if (w.started) {
                pthread_mutex_lock(&w.mu);
                w.done = true;
                pthread_cond_signal(&w.cv);
                pthread_mutex_unlock(&w.mu);
                pthread_join(w.t, NULL);
        }
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        *timed_out = r < 0 && w.fired;
        return r;
}

static char *hv_path(guestfs_h *g) {
        char *hv = guestfs_get_hv(g);
        return hv ? hv : strdup("qemu");
}

/* An emulated launch that timed out (qemu killed), once more with one vCPU
 * and the whole timeout, unless it had one already: 0 started (said as a
 * warning), 1 did not (*tmo and *timed_out of the last attempt), or an
 * error making the handle. */
static int relaunch_one_cpu(struct guest_src *s, const vd_guest_opts *o, int force, long *tmo, bool *timed_out,
                            vd_err *err) {
        if (s->one_cpu || sysconf(_SC_NPROCESSORS_ONLN) < 2)
                return 1;
        long first = *tmo;
        vd_debug("emulated launch: nothing within %ld s: once more with one vCPU", first);
        drop_handle(s);
        s->one_cpu = true;
        int r = make_handle(s, o, force, &s->con, err);
        if (r < 0)
                return r;
        *tmo = launch_timeout(s);
        if (watched_launch(s->g, *tmo, timed_out) < 0)
                return 1;
        char msg[300];
        snprintf(msg, sizeof msg,
                 "the appliance did not start within %ld s under software emulation with several vCPUs (qemu "
                 "killed); started again with one (slower)",
                 first);
        if (vd_scan_warn(&s->launch_notes, NULL, 0, "%s", msg) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        notice(o, VD_NOTICE_WARNING, "%s", msg);
        return 0;
}

/* Launch, falling back from KVM to emulation when KVM makes qemu abort.
 * Decides: the user's own force_tcg/force_kvm settings are kept; --accel tcg
 * forces emulation; --accel kvm forces KVM and never falls back; auto uses
 * what this host remembers, else tries KVM and then, once, emulation. */
int vdg_launch(struct guest_src *s, const vd_guest_opts *o, vd_err *err) {
        struct console *con = &s->con;
        int r = make_handle(s, o, ACCEL_DEFAULT, con, err);
        if (r < 0)
                return r;
        bool user_tcg = has_setting(s->g, "force_tcg"), user_kvm = has_setting(s->g, "force_kvm");
        char *hv = hv_path(s->g);
        if (!hv)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int force = ACCEL_DEFAULT;
        bool may_fall_back = false;
        if (o->accel == VD_ACCEL_KVM) {
                if (user_tcg) {
                        r = vd_err_set(err, VD_E_USAGE,
                                       "--accel kvm, but LIBGUESTFS_BACKEND_SETTINGS forces emulation (force_tcg)");
                        goto out;
                }
                if (!vd_accel_kvm_openable()) {
                        r = vd_err_errno(err, VD_E_SOURCE, errno, "--accel kvm: cannot use /dev/kvm");
                        goto out;
                }
                force = ACCEL_FORCE_KVM;
        } else if (o->accel == VD_ACCEL_TCG) {
                if (user_kvm) {
                        r = vd_err_set(err, VD_E_USAGE,
                                       "--accel tcg, but LIBGUESTFS_BACKEND_SETTINGS forces KVM (force_kvm)");
                        goto out;
                }
                force = user_tcg ? ACCEL_DEFAULT : ACCEL_FORCE_TCG;
        } else if (!user_tcg && !user_kvm && vd_accel_kvm_openable()) {
                int64_t since = 0;
                if (o->state_dir && vd_accel_recall(o->state_dir, hv, vd_now_ns() / 1000000000, &since)) {
                        force = ACCEL_FORCE_TCG;
                        vd_buf t;
                        vd_buf_init(&t, 0);
                        vd_time_rfc3339(&t, since * 1000000000);
                        vd_scan_warn(&s->launch_notes, NULL, 0,
                                     "KVM failed to start qemu's appliance on this host at %s: using software emulation (slower; "
                                     "remembered in %s/" VD_ACCEL_FILE " for a day; --accel kvm to insist)",
                                     t.buf ? t.buf : "?", o->state_dir);
                        vd_buf_release(&t);
                        vd_debug("accel: KVM remembered as failing since %lld: emulation", (long long)since);
                } else
                        may_fall_back = true;
        }
        if (force != ACCEL_DEFAULT) {
                drop_handle(s);
                if ((r = make_handle(s, o, force, con, err)) < 0)
                        goto out;
        }
        notice_first_run(s, o);
        vd_debug("launching the appliance (%s)", force == ACCEL_FORCE_TCG   ? "emulation forced"
                                                 : force == ACCEL_FORCE_KVM ? "KVM forced"
                                                                            : "KVM if available");
        bool timed_out;
        /* without KVM to try first: emulated (forced, or no usable /dev/kvm) */
        bool emulated = force == ACCEL_FORCE_TCG || (force == ACCEL_DEFAULT && !may_fall_back && !user_kvm);
        long tmo = may_fall_back ? kvm_launch_timeout(s) : emulated ? emulated_timeout(s) : launch_timeout(s);
        int lr = watched_launch(s->g, tmo, &timed_out);
        if (lr < 0 && timed_out && emulated && (r = relaunch_one_cpu(s, o, force, &tmo, &timed_out, err)) != 1) {
                if (r < 0)
                        goto out;
                lr = 0;
        }
        if (lr == 0) {
                if (may_fall_back && o->state_dir)
                        vd_accel_forget(o->state_dir);
                goto out;
        }
        if (timed_out && !may_fall_back) {
                /* not KVM's failure: no fallback to try */
                r = vd_err_set(err, VD_E_SOURCE,
                               "the libguestfs appliance did not start within %ld s%s: qemu killed (an overloaded "
                               "host? VMDRIFT_LAUNCH_TIMEOUT=SECONDS allows more)",
                               tmo, s->one_cpu ? " (the second time, with one vCPU)" : "");
                goto out;
        }
        char why[400];
        if (timed_out)
                snprintf(why, sizeof why, "qemu did not start the appliance within %ld s: killed", tmo);
        else
                console_reason(con, why, sizeof why);
        const char *head = force == ACCEL_FORCE_KVM ? "cannot start the libguestfs appliance with --accel kvm (no "
                                                      "fallback to emulation)"
                                                    : "cannot start the libguestfs appliance";
        if (why[0])
                r = vd_err_set(err, VD_E_SOURCE, "%s: %s", head, why);
        else {
                char h[200];
                snprintf(h, sizeof h, "%s (is the image readable and a disk image?)", head);
                r = vdg_err(err, s->g, h);
        }
        if (force == ACCEL_FORCE_KVM)
                goto out;
        if (!may_fall_back)
                goto out;
        /* KVM may be what failed: once more, emulated. */
        vd_debug("launch failed (%s): once more under software emulation", err->msg);
        vd_err first = *err;
        drop_handle(s);
        if ((r = make_handle(s, o, ACCEL_FORCE_TCG, con, err)) < 0)
                goto out;
        tmo = emulated_timeout(s);
        int er = watched_launch(s->g, tmo, &timed_out);
        if (er < 0 && timed_out && (r = relaunch_one_cpu(s, o, ACCEL_FORCE_TCG, &tmo, &timed_out, err)) != 1) {
                if (r < 0)
                        goto out;
                er = 0;
        }
        if (er < 0) {
                vd_err second = VD_ERR_INIT;
                if (timed_out)
                        vd_err_set(&second, VD_E_SOURCE, "emulated: did not start within %ld s%s, qemu killed", tmo,
                                   s->one_cpu ? " (the second time, with one vCPU)" : "");
                else
                        vdg_err(&second, s->g, "emulated");
                r = vd_err_set(err, first.code, "%s (and under software emulation: %s)", first.msg, second.msg);
                goto out;
        }
        r = 0;
        vd_err_clear(err);
        vd_err rem = VD_ERR_INIT;
        bool kept = o->state_dir && vd_accel_remember(o->state_dir, hv, vd_now_ns() / 1000000000, &rem) == 0;
        if (!kept)
                vd_debug("accel: not remembered: %s", o->state_dir ? rem.msg : "no state directory");
        char where[600];
        if (kept)
                snprintf(where, sizeof where, "remembered in %.450s/" VD_ACCEL_FILE " for a day", o->state_dir);
        else
                snprintf(where, sizeof where, "not remembered: %.500s", o->state_dir ? rem.msg : "no state directory");
        char msg[VD_ERR_MSG_MAX];
        snprintf(msg, sizeof msg,
                 "KVM failed to start the appliance%s%.300s%s; using software emulation (slower; %.500s; --accel tcg "
                 "skips the KVM attempt)",
                 why[0] ? " (" : "", why, why[0] ? ")" : "", where);
        vd_scan_warn(&s->launch_notes, NULL, 0, "%s", msg);
        notice(o, VD_NOTICE_WARNING, "%s", msg);
out:
        free(hv);
        return r;
}
