/* Real hosts: a /dev/kvm whose KVM makes qemu abort (reproduced on any
 * machine with a qemu wrapper given as LIBGUESTFS_HV), and libvirt domains
 * defined in a real libvirtd started by the test when none runs. Each
 * appliance launch costs 12-25 s here, so each test asserts much per launch. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define A "\x1f"

static char *work;

static void setup(void) {
        work = th_mkdtemp();
        setenv("LIBGUESTFS_BACKEND", "direct", 0);
}
static void teardown(void) {
        th_rmtree(work);
        free(work);
}

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"bash", "-ec", script, work, MKIMAGE, NULL});
        cr_assert_eq(r.status, 0, "%s failed: %s%s", script, r.out, r.err);
        th_run_free(&r);
}

static char *slurp(const char *path) {
        th_run r = th_exec((const char *const[]){"cat", path, NULL});
        free(r.err);
        return r.status == 0 ? r.out : (free(r.out), NULL);
}

static int count_lines(const char *s) {
        int n = 0;
        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

/* ---- KVM that aborts qemu ---- */

TestSuite(kvm, .init = setup, .fini = teardown, .timeout = 1500);

Test(kvm, a_kvm_that_aborts_falls_back_to_emulation_once_remembered_and_never_under_accel_kvm) {
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                cr_skip_test("no usable /dev/kvm: qemu never tries KVM here, so there is nothing to fall back from");
        close(fd);
        sh("bash \"$1\" \"$0/t.img\" 20");
        char *log = th_join(work, "hv.log"), *state = th_join(work, "state");
        setenv("LIBGUESTFS_HV", KVM_ABORTS, 1);
        setenv("VD_HV_LOG", log, 1);
        unsetenv("LIBGUESTFS_BACKEND_SETTINGS");

        /* First run on this host: KVM is tried, qemu aborts, emulation works;
         * one warning line that says so, and the outcome is remembered. */
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "-o" A "%s/t.vdb" A "--state-dir" A "%s",
                              work, work, state);
        cr_assert_eq(r.status, 0, "status %d: %s%s", r.status, r.out, r.err);
        cr_assert_eq(th_lines_with(r.err, "vmdrift: warning: KVM failed to start the appliance",
                                   "failed to set MSR 0x10a", "using software emulation", NULL),
                     1, "%s", r.err);
        cr_assert_eq(count_lines(r.err), 1, "one line, nothing else: %s", r.err);
        cr_assert(strstr(r.out, "captured "), "%s", r.out);
        th_run_free(&r);
        char *l = slurp(log);
        cr_assert_str_eq(l, "kvm\ntcg\n", "one KVM attempt, then emulation");
        free(l);
        char *mem = slurp(th_path(state, "accel"));
        cr_assert(mem && strstr(mem, "kvm=broken\n"), "%s", mem ? mem : "(no memory file)");
        free(mem);
        struct stat st;
        cr_assert_eq(stat(state, &st), 0);
        cr_assert_eq(st.st_mode & 0077, 0, "the state directory is private");

        /* --accel kvm never falls back: one clear line, exit 3. */
        r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--accel" A "kvm" A "--state-dir" A "%s", work, state);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.err, "cannot start the libguestfs appliance with --accel kvm (no fallback to "
                                           "emulation): qemu-system-x86_64: error: failed to set MSR 0x10a",
                                   NULL),
                     1, "%s",
                     r.err);
        cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
        th_run_free(&r);
        l = slurp(log);
        cr_assert_str_eq(l, "kvm\ntcg\nkvm\n", "--accel kvm tried KVM only");
        free(l);

        /* The next run remembers: no failed launch, and the report says why
         * it ran emulated. */
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/t.img" A "--state-dir" A "%s" A "--report" A
                       "json",
                       work, work, state);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "KVM failed to start qemu's appliance on this host",
                                   "using software emulation", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        cr_assert_eq(count_lines(r.err), 0, "nothing on stderr for a remembered fallback: %s", r.err);
        th_run_free(&r);
        l = slurp(log);
        cr_assert_str_eq(l, "kvm\ntcg\nkvm\ntcg\n", "no KVM attempt once remembered");
        free(l);

        /* The user's own LIBGUESTFS_BACKEND_SETTINGS is respected: forced
         * emulation tries no KVM, warns of nothing and remembers nothing. */
        char *state2 = th_join(work, "state2");
        setenv("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", 1);
        r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--state-dir" A "%s", work, state2);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(count_lines(r.err), 0, "%s", r.err);
        cr_assert(strstr(r.out, "debian"), "%s", r.out);
        th_run_free(&r);
        cr_assert_neq(access(th_path(state2, "accel"), F_OK), 0, "nothing remembered");
        l = slurp(log);
        cr_assert_str_eq(l, "kvm\ntcg\nkvm\ntcg\ntcg\n");
        free(l);
        free(state2);
        free(log);
        free(state);
}

/* A KVM that leaves qemu hanging after the firmware (this workplace's own
 * hosts do): the KVM attempt is given VMDRIFT_KVM_LAUNCH_TIMEOUT seconds,
 * then the launch falls back to emulation, says so once and remembers. */
Test(kvm, a_kvm_that_hangs_falls_back_to_emulation_after_its_own_timeout) {
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                cr_skip_test("no usable /dev/kvm: qemu never tries KVM here, so there is nothing to fall back from");
        close(fd);
        sh("bash \"$1\" \"$0/t.img\" 10");
        char *state = th_join(work, "state"), *log = th_join(work, "hv.log");
        setenv("LIBGUESTFS_HV", KVM_ABORTS, 1);
        setenv("VD_KVM_FAILS", "hang", 1);
        setenv("VD_HV_LOG", log, 1);
        setenv("VMDRIFT_KVM_LAUNCH_TIMEOUT", "5", 1);
        unsetenv("LIBGUESTFS_BACKEND_SETTINGS");
        th_run r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--state-dir" A "%s", work, state);
        unsetenv("LIBGUESTFS_HV");
        unsetenv("VD_KVM_FAILS");
        unsetenv("VD_HV_LOG");
        unsetenv("VMDRIFT_KVM_LAUNCH_TIMEOUT");
        cr_assert_eq(r.status, 0, "status %d: %s%s", r.status, r.out, r.err);
        cr_assert(strstr(r.out, "debian"), "%s", r.out);
        cr_assert_eq(th_lines_with(r.err, "vmdrift: warning: KVM failed to start the appliance",
                                   "qemu did not start the appliance within 5 s", "using software emulation", NULL),
                     1, "%s", r.err);
        cr_assert_eq(count_lines(r.err), 1, "one line, nothing else: %s", r.err);
        th_run_free(&r);
        char *l = slurp(log);
        cr_assert_str_eq(l, "kvm\ntcg\n", "one KVM attempt, then emulation");
        free(l);
        char *mem = slurp(th_path(state, "accel"));
        cr_assert(mem && strstr(mem, "kvm=broken\n"), "%s", mem ? mem : "(no memory file)");
        free(mem);
        sh("sleep 2; ! pgrep -f 'qemu-kvm-abort[s].sh'");
        free(log);
        free(state);
}

/* An appliance that never boots (qemu spinning under emulation on an
 * overloaded host) is stopped after VMDRIFT_LAUNCH_TIMEOUT seconds, and the
 * error says so; no qemu is left behind. */
Test(kvm, an_appliance_that_never_starts_is_stopped_and_said) {
        sh("bash \"$1\" \"$0/t.img\" 10");
        setenv("LIBGUESTFS_HV", QEMU_HANGS, 1);
        setenv("VMDRIFT_LAUNCH_TIMEOUT", "5", 1);
        th_run r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--accel" A "tcg", work);
        unsetenv("LIBGUESTFS_HV");
        unsetenv("VMDRIFT_LAUNCH_TIMEOUT");
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "did not start within 5 s (the second time, with one vCPU): qemu killed") &&
                      strstr(r.err, "VMDRIFT_LAUNCH_TIMEOUT=SECONDS allows more"),
                  "%s", r.err);
        th_run_free(&r);
        sh("sleep 2; ! pgrep -f 'qemu-hang[s].sh'");
}

/* An emulated appliance of several vCPUs that hangs (TCG bringing up the
 * second CPU) is started again with one, and the scan says so. */
Test(kvm, an_emulated_launch_that_hangs_with_several_vcpus_starts_with_one) {
        if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
                cr_skip_test("one CPU: the appliance has one vCPU already");
        sh("bash \"$1\" \"$0/t.img\" 10");
        setenv("LIBGUESTFS_HV", QEMU_HANGS, 1);
        setenv("VD_HANG_SMP", "several", 1);
        setenv("VMDRIFT_EMULATED_LAUNCH_TIMEOUT", "5", 1);
        th_run r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--accel" A "tcg", work);
        unsetenv("LIBGUESTFS_HV");
        unsetenv("VD_HANG_SMP");
        unsetenv("VMDRIFT_EMULATED_LAUNCH_TIMEOUT");
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "debian"), "%s", r.out);
        cr_assert_eq(th_lines_with(r.err, "vmdrift: warning: the appliance did not start within 5 s under software "
                                          "emulation with several vCPUs (qemu killed); started again with one",
                                   NULL),
                     1, "%s", r.err);
        th_run_free(&r);
        sh("sleep 2; ! pgrep -f 'qemu-hang[s].sh'");
}

Test(kvm, accel_is_checked_before_any_launch) {
        th_run r = th_vmdrift("inspect" A "--image" A "/nonexistent.img" A "--accel" A "kvmm");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "--accel expects auto, kvm or tcg, not 'kvmm'"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("inspect" A "--dir" A "/tmp" A "--accel" A "tcg");
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "--accel goes with --image or --domain"), "%s", r.err);
        th_run_free(&r);
}

/* ---- libvirt domains ---- */

static char domname[64], domname_missing[64];
static bool started_libvirtd, started_virtlogd;

static int virsh(const char *a, const char *b) {
        th_run r = th_exec((const char *const[]){"virsh", "-q", "-c", "qemu:///system", a, b, NULL});
        int st = r.status;
        th_run_free(&r);
        return st;
}

static void libvirt_setup(void) {
        setup();
        /* libvirt runs qemu as its own user: it must reach the disks */
        chmod(work, 0755);
        snprintf(domname, sizeof domname, "vmdrift-test-%d", (int)getpid());
        snprintf(domname_missing, sizeof domname_missing, "vmdrift-test-%d-missing", (int)getpid());
        /* Without systemd nothing socket-activates virtlogd, which starting
         * a domain needs. */
        th_run pg = th_exec((const char *const[]){"pgrep", "-x", "virtlogd", NULL});
        bool running = pg.status == 0;
        th_run_free(&pg);
        if (!running) {
                th_run r = th_exec((const char *const[]){"sh", "-c", "virtlogd --daemon </dev/null >/dev/null 2>&1", NULL});
                cr_assert_eq(r.status, 0, "cannot start virtlogd: %s%s", r.out, r.err);
                th_run_free(&r);
                started_virtlogd = true;
        }
        if (virsh("version", NULL) == 0)
                return;
        /* No libvirtd answers: start Debian's, as root without systemd. */
        /* its output away from our pipes: the daemon keeps them open */
        th_run r = th_exec((const char *const[]){"sh", "-c", "libvirtd --daemon </dev/null >/dev/null 2>&1", NULL});
        cr_assert_eq(r.status, 0, "cannot start libvirtd: %s%s", r.out, r.err);
        th_run_free(&r);
        started_libvirtd = true;
        /* a first start probes qemu's capabilities: slow on a loaded machine */
        for (int i = 0; i < 600 && virsh("version", NULL) != 0; i++)
                usleep(100000);
        cr_assert_eq(virsh("version", NULL), 0, "libvirtd does not answer on qemu:///system after 60 s");
}

static void libvirt_teardown(void) {
        virsh("destroy", domname);
        virsh("undefine", domname);
        virsh("undefine", domname_missing);
        const char *pidfiles[] = {started_libvirtd ? "/run/libvirtd.pid" : NULL,
                                  started_virtlogd ? "/run/virtlogd.pid" : NULL};
        for (size_t i = 0; i < 2; i++) {
                char *pid = pidfiles[i] ? slurp(pidfiles[i]) : NULL;
                if (pid && atoi(pid) > 1)
                        kill(atoi(pid), SIGTERM);
                free(pid);
        }
        teardown();
}

TestSuite(libvirt, .init = libvirt_setup, .fini = libvirt_teardown, .timeout = 1500);

static void define(const char *name, const char *disk0, const char *disk1) {
        char xml[2048];
        snprintf(xml, sizeof xml,
                 "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                 "<os><type arch='x86_64'>hvm</type></os><devices>"
                 "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>"
                 "<target dev='vda' bus='virtio'/></disk>"
                 "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>"
                 "<target dev='vdb' bus='virtio'/></disk>"
                 "</devices></domain>",
                 name, disk0, disk1);
        th_write(work, "dom.xml", xml);
        cr_assert_eq(virsh("define", th_path(work, "dom.xml")), 0, "virsh define %s", name);
}

Test(libvirt, a_domain_with_two_disks_is_captured_and_scanned_by_name_and_errors_are_one_line) {
        /* The guest's root file system on one disk, its /boot on another
         * (its fstab names both by UUID). */
        sh("cd \"$0\" && bash \"$1\" t.img 20 && "
           "dd if=t.img of=boot.raw bs=512 skip=2048 count=65536 status=none && "
           "dd if=t.img of=root.raw bs=512 skip=67584 status=none && "
           "qemu-img convert -f raw -O qcow2 root.raw root.qcow2 && qemu-img convert -f raw -O qcow2 boot.raw "
           "boot.qcow2 && rm -f root.raw boot.raw t.img");
        char *d0 = th_join(work, "root.qcow2"), *d1 = th_join(work, "boot.qcow2");
        define(domname, d0, d1);

        th_run r = th_vmdrift("baseline" A "capture" A "--domain" A "%s" A "--connect" A "qemu:///system" A "-o" A
                              "%s/d.vdb",
                              domname, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s/d.vdb" A "--entries", work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "/boot/grub.cfg"), "the second disk is scanned: %s", r.out);
        cr_assert(strstr(r.out, "/etc/hostname"), "%s", r.out);
        cr_assert(strstr(r.out, "os.hostname      template"), "%s", r.out);
        th_run_free(&r);

        /* Shut off: nothing can change under the scan, and it does not say it might. */
        r = th_vmdrift("scan" A "--baseline" A "%s/d.vdb" A "--domain" A "%s" A "--connect" A "qemu:///system" A
                       "--report" A "json",
                       work, domname);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"source_kind\":\"domain\"",
                                   "\"may_be_inconsistent\":false", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        th_run_free(&r);

        /* Running (firmware with no bootable disk, under emulation): libvirt
         * says so, and the report warns that the result may be inconsistent. */
        th_run vs = th_exec((const char *const[]){"virsh", "-q", "-c", "qemu:///system", "start", domname, NULL});
        cr_assert_eq(vs.status, 0, "virsh start: %s%s", vs.out, vs.err);
        th_run_free(&vs);
        r = th_vmdrift("scan" A "--baseline" A "%s/d.vdb" A "--domain" A "%s" A "--connect" A "qemu:///system", work,
                       domname);
        virsh("destroy", domname);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "the result may be inconsistent"), "%s", r.out);
        th_run_free(&r);

        /* Each failure is one line naming what is wrong, and exit 3. */
        r = th_vmdrift("scan" A "--baseline" A "%s/d.vdb" A "--domain" A "no-such-domain" A "--connect" A
                       "qemu:///system",
                       work);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, "no libvirt domain 'no-such-domain' at qemu:///system"), "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("inspect" A "--domain" A "%s" A "--connect" A "qemu+tcp://127.0.0.1:1/system", domname);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, "cannot connect to libvirt at qemu+tcp://127.0.0.1:1/system"), "%s", r.err);
        th_run_free(&r);

        char *gone = th_join(work, "gone.qcow2");
        define(domname_missing, d0, gone);
        r = th_vmdrift("inspect" A "--domain" A "%s" A "--connect" A "qemu:///system", domname_missing);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, gone), "the missing disk is named: %s", r.err);
        th_run_free(&r);
        free(gone);
        free(d0);
        free(d1);
}
