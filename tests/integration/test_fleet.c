/* vmdrift fleet end to end on directory-tree guests and qemu-img images (no
 * appliance): each guest's drift tagged with its name, a missing guest
 * unreachable, an image nobody lists unmanaged, a clone of a foreign base
 * orphan, per-guest report files, the lock held against a second run,
 * fleet status, and the exit code the worst guest's. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define A "\x1f"

static char *dir;

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"sh", "-c", script, dir, NULL});
        cr_assert_eq(r.status, 0, "%s: %s%s", script, r.out, r.err);
        th_run_free(&r);
}

static void setup(void) {
        dir = th_mkdtemp();
        th_write(dir, "tmpl/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        th_write(dir, "tmpl/etc/hostname", "template\n");
        th_write(dir, "tmpl/usr/bin/tool", "#!/bin/sh\n");
        th_write(dir, "tmpl/var/log/syslog", "boot\n");
        /* copies differ from the template in inode and ctime only */
        th_write(dir, "policy.yaml", "version: 1\ndefault:\n  attrs: type+mode+owner+size+hash+target\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s/tmpl" A "--policy" A "%s/policy.yaml" A
                              "--output" A "%s/t.vdb",
                              dir, dir, dir);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        sh("cd \"$0\" && cp -a tmpl clean && cp -a tmpl web && echo evil >web/usr/bin/tool && "
           "mkdir -p store state && chmod 700 state && "
           "qemu-img create -q -f qcow2 store/base.qcow2 16M && "
           "qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 store/listed.qcow2 && "
           "qemu-img create -q -f qcow2 store/foreign.qcow2 16M && "
           "qemu-img create -q -f qcow2 -b foreign.qcow2 -F qcow2 store/stray.qcow2");
        th_write(dir, "fleet.yaml",
                 "defaults:\n  baseline: t.vdb\n  policy: policy.yaml\n"
                 "guests:\n  - name: clean-01\n    dir: clean\n  - name: web-01\n    dir: web\n"
                 "  - name: gone-01\n    dir: nothere\n"
                 "storage: [store]\ntemplates: [store/base.qcow2]\nstale_after: 7d\n");
}
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(fleet, .init = setup, .fini = teardown, .timeout = 300);

Test(fleet, one_run_reports_each_guest_by_name_and_the_fleet_s_own_findings) {
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--report" A
                              "json" A "--report" A "json:%s/out/{guest}.json" A "--jobs" A "2" A "--progress" A
                              "always",
                              dir, dir, dir);
        cr_assert_eq(r.status, 3, "a guest is unreachable: exit 3\n%s%s", r.out, r.err);
        /* progress: guests done, and what the finished scans read */
        cr_assert(strstr(r.err, "[3/3] ") && strstr(r.err, "; 20 files, 8 hashed (") &&
                      strstr(r.err, "0 untouched, 0 delta"),
                  "%s", r.err);
        /* drift, tagged with the guest's name */
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"web-01\"", "\"path\":\"/usr/bin/tool\"", "\"change\":\"changed\"",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"guest\":\"clean-01\"", "\"total\":0,", NULL), 1,
                     "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"clean-01\"", "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        /* the fleet's findings */
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"gone-01\"", "\"change\":\"unreachable\"", "\"severity\":\"high\"",
                                   "No such file or directory", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"unmanaged\"", "store/foreign.qcow2\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"unmanaged\"", "store/stray.qcow2\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"unmanaged\"", "store/listed.qcow2\"", NULL), 1,
                     "no guest of this inventory lists it: %s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"unmanaged\"", "store/base.qcow2\"", NULL), 0,
                     "a template is covered: %s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"orphan\"", "store/stray.qcow2\"", "foreign.qcow2", NULL), 1,
                     "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"orphan\"", "listed.qcow2", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"source_kind\":\"fleet\"", "\"fleet\":5,", NULL),
                     1, "%s", r.out);
        cr_assert(strstr(r.err, "vmdrift fleet: web-01: drift (1 events"), "%s", r.err);
        cr_assert(strstr(r.err, "vmdrift fleet: gone-01: unreachable: "), "%s", r.err);
        th_run_free(&r);
        /* one file per guest, and the findings under _fleet */
        r = th_exec((const char *const[]){"ls", th_path(dir, "out"), NULL});
        cr_assert_str_eq(r.out, "_fleet.json\nclean-01.json\nweb-01.json\n");
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(dir, "out/web-01.json"), NULL});
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"clean-01\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"web-01\"", "/usr/bin/tool", NULL), 1, "%s", r.out);
        th_run_free(&r);

        /* the state: one line per guest */
        r = th_vmdrift("fleet" A "status" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state", dir, dir);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "clean-01 ", " clean ", " - ", " 0 (0/0/0/0/0)", NULL), 1,
                     "a directory tree has no scan mode: %s", r.out);
        cr_assert(strstr(r.out, " RESULT       SCAN  EVENTS"), "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "web-01 ", " drift ", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "gone-01 ", " unreachable ", "No such file", NULL), 1, "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "status" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--json",
                       dir, dir);
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"web-01\"", "\"result\":\"drift\"", "\"exit_code\":1",
                                   "\"stale\":false", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
}

Test(fleet, a_second_run_is_refused_while_the_lock_is_held) {
        int fd = open(th_path(dir, "state/fleet.lock"), O_RDWR | O_CREAT, 0600);
        cr_assert_geq(fd, 0);
        cr_assert_eq(flock(fd, LOCK_EX), 0);
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state", dir, dir);
        cr_assert_eq(r.status, 4, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "another fleet run holds") && strstr(r.err, "fleet.lock: not started"), "%s", r.err);
        cr_assert_str_eq(r.out, "");
        th_run_free(&r);
        close(fd);
        /* released: it runs; only clean guests, nothing else: exit 0 */
        th_write(dir, "ok.yaml", "defaults: {baseline: t.vdb, policy: policy.yaml}\nguests:\n  - {name: a, dir: clean}\n"
                                 "  - {name: b, dir: clean}\n");
        r = th_vmdrift("fleet" A "--inventory" A "%s/ok.yaml" A "--state-dir" A "%s/state" A "--report" A "text", dir,
                       dir);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "vmdrift scan of guest a: ") && strstr(r.out, "vmdrift scan of guest b: "), "%s", r.out);
        cr_assert(strstr(r.out, "No fleet findings"), "%s", r.out);
        th_run_free(&r);
}

Test(fleet, a_guest_that_stays_broken_becomes_stale) {
        /* a state file from a run long ago: last success 30 days back */
        long long now = (long long)time(NULL), old = (now - 30 * 86400) * 1000000000LL;
        char st[512];
        snprintf(st, sizeof st,
                 "{\"guest\":\"gone-01\",\"time_ns\":%lld,\"last_success_ns\":%lld,\"first_seen_ns\":%lld,"
                 "\"exit_code\":0,\"result\":\"clean\"}\n",
                 old, old, old);
        sh("mkdir -p \"$0/state/fleet\"");
        th_write(dir, "state/fleet/gone-01.json", st);
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--report" A
                              "json",
                              dir, dir);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"gone-01\"", "\"change\":\"stale\"", "\"days\":{\"old\":null,\"new\":\"30\"}",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"stale\"", NULL), 1, "only the broken one: %s", r.out);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "status" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state", dir, dir);
        cr_assert_eq(th_lines_with(r.out, "gone-01 ", "unreachable,stale", NULL), 1, "%s", r.out);
        th_run_free(&r);
}

Test(fleet, bad_inventories_and_options_fail_before_anything_runs) {
        th_write(dir, "bad.yaml", "guests:\n  - name: a\n    dir: clean\n");
        th_run r = th_vmdrift("fleet" A "check" A "%s/bad.yaml", dir);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "bad.yaml:2:5: guest 'a' has no baseline"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "check" A "%s/fleet.yaml", dir);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "fleet.yaml: 3 guests") && strstr(r.out, "web-01"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--report" A "syslog:{guest}", dir);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "{guest} belongs in a text: or json: file name"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--report" A "json:%s/t.vdb", dir, dir);
        cr_assert_eq(r.status, 2, "a report may not replace a baseline: %s", r.err);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--jobs" A "0", dir);
        cr_assert_eq(r.status, 2);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--jitter" A "soon", dir);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "--jitter expects a duration"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "--inventory" A "%s/none.yaml", dir);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "cannot open inventory"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "frobnicate");
        cr_assert_eq(r.status, 2);
        th_run_free(&r);
}

/* A worker killed while it scans a guest ends that guest's scan only: the
 * guest is an error, and every other guest, whichever worker had taken it,
 * still gets its report. */
Test(fleet, a_worker_that_dies_ends_only_the_scan_it_was_running) {
        sh("cd \"$0\" && for i in 1 2 3 4 5 6; do cp -a tmpl g$i; done && echo evil >g4/usr/bin/tool");
        th_write(dir, "six.yaml",
                 "defaults:\n  baseline: t.vdb\n  policy: policy.yaml\nguests:\n"
                 "  - {name: g1, dir: g1}\n  - {name: g2, dir: g2}\n  - {name: g3, dir: g3}\n"
                 "  - {name: g4, dir: g4}\n  - {name: g5, dir: g5}\n  - {name: g6, dir: g6}\n");
        setenv("VMDRIFT_TEST_WORKER_DIES", "g2", 1);
        /* the run's private directory in a TMPDIR with a quote in its name:
         * made and removed all the same */
        char *tmp = th_join(dir, "it's tmp");
        cr_assert_eq(mkdir(tmp, 0700), 0);
        setenv("TMPDIR", tmp, 1);
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/six.yaml" A "--state-dir" A "%s/state" A "--report" A
                              "json" A "--jobs" A "2" A "--progress" A "never",
                              dir, dir);
        unsetenv("TMPDIR");
        unsetenv("VMDRIFT_TEST_WORKER_DIES");
        th_run left = th_exec((const char *const[]){"ls", "-A", tmp, NULL});
        cr_assert(left.status == 0 && left.out[0] == '\0', "left in TMPDIR: %s", left.out);
        th_run_free(&left);
        free(tmp);
        cr_assert_eq(r.status, 3, "a scan failed: exit 3\n%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "vmdrift fleet: g2: error"), "%s", r.err);
        const char *ok[] = {"g1", "g3", "g5", "g6"};
        for (size_t i = 0; i < 4; i++) {
                char tag[32];
                snprintf(tag, sizeof tag, "\"guest\":\"%s\"", ok[i]);
                cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", tag, "\"total\":0,", NULL), 1, "%s: %s%s",
                             ok[i], r.out, r.err);
        }
        cr_assert_eq(th_lines_with(r.out, "\"guest\":\"g4\"", "\"path\":\"/usr/bin/tool\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"guest\":\"g2\"", NULL), 0, "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("fleet" A "status" A "--inventory" A "%s/six.yaml" A "--state-dir" A "%s/state", dir, dir);
        cr_assert_eq(th_lines_with(r.out, "g2 ", " error ", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, " clean ", NULL), 5 - 1, "%s", r.out);
        th_run_free(&r);
}

/* --report prometheus:FILE on a fleet run: every guest's last scan from
 * its state, the fleet's findings; the file passes promtool's own check
 * (Debian's prometheus), and the scans print nothing of their own. */
Test(fleet, metrics_of_every_guest_and_the_fleet_pass_promtool) {
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--report" A
                              "prometheus:%s/vmdrift.prom",
                              dir, dir, dir);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert_str_eq(r.out, "", "metrics only: nothing on stdout");
        th_run_free(&r);
        r = th_exec((const char *const[]){"sh", "-c", "promtool check metrics <\"$0\"", th_path(dir, "vmdrift.prom"),
                                          NULL});
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(dir, "vmdrift.prom"), NULL});
        const char *o = r.out;
        cr_assert(strstr(o, "# TYPE vmdrift_guest_last_success_timestamp_seconds gauge\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_guest_scan_exit_code{guest=\"web-01\"} 1\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_guest_scan_exit_code{guest=\"clean-01\"} 0\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_guest_scan_exit_code{guest=\"gone-01\"} -1\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_guest_drift_events{guest=\"web-01\",severity=\"medium\"} 1\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_guest_scan_mode{guest=\"web-01\",mode=\"tree\"} 1\n"), "%s", o);
        cr_assert_null(strstr(o, "vmdrift_guest_last_success_timestamp_seconds{guest=\"gone-01\"}"),
                       "never scanned to the end: %s", o);
        cr_assert(strstr(o, "\nvmdrift_fleet_guests 3\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_fleet_findings{kind=\"unreachable\"} 1\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_fleet_findings{kind=\"unmanaged\"} 3\n"), "%s", o);
        cr_assert(strstr(o, "\nvmdrift_fleet_findings{kind=\"orphan\"} 1\n"), "%s", o);
        th_run_free(&r);
}
