/* The real vmdrift on real disk images built in the test, through a real
 * libguestfs appliance. Every appliance launch costs 12-25 s here (no KVM), so
 * each test launches only what it proves and asserts much per launch. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors.h"
#include "helpers.h"

#define A "\x1f"
#define POLICY VD_EXAMPLES "/policies/debian.yaml"
/* the drifted clone's events: 11 planted changes and violations, plus the
 * new /root/.ssh, its authorized_keys (the file and its keys) and /var/tmp
 * (the file in it falls under an ignore rule) */
#define N_DRIFT 15

#ifndef MKIMAGE
#define MKIMAGE "tests/guest/mkimage.sh"
#endif
#ifndef GUESTFISH
#define GUESTFISH "tests/guest/guestfish.sh"
#endif

static char *work;

static void setup(void) {
        work = th_mkdtemp();
        setenv("LIBGUESTFS_BACKEND", "direct", 0);
}
static void teardown(void) {
        th_rmtree(work);
        free(work);
}
TestSuite(guest, .init = setup, .fini = teardown, .timeout = 900);

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"bash", "-ec", script, work, MKIMAGE, GUESTFISH, NULL});
        cr_assert_eq(r.status, 0, "%s failed: %s%s", script, r.out, r.err);
        th_run_free(&r);
}


static char *sha(const char *rel) {
        th_run r = th_exec((const char *const[]){"sha256sum", th_path(work, rel), NULL});
        cr_assert_eq(r.status, 0);
        free(r.err);
        return r.out;
}

Test(guest, template_capture_records_os_packages_and_mounts_and_a_rescan_is_clean) {
        sh("VD_HOSTILE=1 bash \"$1\" \"$0/t.img\"");
        char *before = sha("t.img");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "-o" A "%s/t.vdb", work, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "guest: 12.8, 3 packages"), "%s", r.out);
        th_run_free(&r);

        r = th_vmdrift("baseline" A "show" A "%s/t.vdb" A "--entries", work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        const char *want[] = {"os.distro        debian", "os.hostname      template", "mount./boot      /dev/sda1 ext4",
                              "packages:        3 recorded", "/boot/grub.cfg", "/tmp/new\\nline", "/tmp/bad\\xff\\xfe",
                              "/tmp/esc\\x1b[2Jname", "/tmp/loop-a -> loop-b", "/tmp/to-root -> /",
                              "resolved through the source's own passwd/group"};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
                cr_assert(strstr(r.out, want[i]), "missing '%s' in:\n%s", want[i], r.out);
        cr_assert(strstr(r.out, "/leaf"), "a 60-level tree is walked to its leaf");
        cr_assert_null(strchr(r.out, '\x1b'), "no raw escape reaches the terminal");
        th_run_free(&r);

        /* The template against its own baseline: nothing drifted. The image is
         * locked the way a running qemu locks its disks (an OFD lock on a
         * permission byte), so the report must say it may be inconsistent. */
        int lfd = open(th_path(work, "t.img"), O_RDONLY);
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1};
        cr_assert_eq(fcntl(lfd, F_OFD_SETLK, &fl), 0);
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/t.img" A "--report" A "json" A "--report" A
                       "text:%s/t.txt",
                       work, work, work);
        close(lfd);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"source_kind\":\"image\"",
                                   "\"may_be_inconsistent\":true", NULL),
                     1, "%s", r.out);
        /* the template's own layout fits: mounted from it, not inspected */
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"inspection\":\"baseline layout\"",
                                   "\"phases_ms\":{\"launch\":", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(work, "t.txt"), NULL});
        cr_assert(strstr(r.out, "the result may be inconsistent"), "%s", r.out);
        cr_assert(strstr(r.out, "guest 12.8, hostname template (mounted from the baseline layout, not inspected)"),
                  "%s", r.out);
        th_run_free(&r);

        /* The same disks (same UUIDs), but /etc/fstab gained a line: the
         * recorded layout no longer proves where things are mounted, so the
         * guest is inspected in full, and the report says why. */
        sh("VD_HOSTILE=1 VD_DPKG_OLD=1 VD_FSTAB_EXTRA='tmpfs /tmp tmpfs defaults 0 0' bash \"$1\" \"$0/f.img\"");
        /* An offline OSV feed: one advisory the clone's openssh (by its
         * source package) is inside, one base-files is past, one record
         * malformed. */
        sh("mkdir -p \"$0/adv\" && cd \"$0/adv\" && "
           "printf '%s' '{\"id\":\"DSA-5724-1\",\"aliases\":[\"CVE-2024-6387\"],\"affected\":[{\"package\":"
           "{\"ecosystem\":\"Debian:12\",\"name\":\"openssh\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":"
           "[{\"introduced\":\"0\"},{\"fixed\":\"1:9.2p1-2+deb12u3\"}]}]}],\"severity\":[{\"type\":\"CVSS_V3\","
           "\"score\":\"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H\"}]}' >DSA-5724-1.json && "
           "printf '%s' '{\"id\":\"DSA-1-1\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
           "\"base-files\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
           "{\"fixed\":\"12.4+deb12u1\"}]}]}]}' >DSA-1-1.json && "
           "printf '{\"id\": \"BAD\",\n \"affected\": [,]}' >bad.json");
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/f.img" A "--report" A "json" A
                       "--advisories" A "%s/adv",
                       work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"",
                                   "file system layout does not match the guest (/etc/fstab changed since the "
                                   "baseline): inspected it in full",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"inspection\":\"full\"", NULL), 1, "%s",
                     r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/fstab\"", "\"change\":\"changed\"", "\"hash\":{", NULL),
                     1, "%s", r.out);
        /* its packages, read by inspection, drifted from the template's: in dpkg's order */
        cr_assert_eq(th_lines_with(r.out, "\"package\":\"openssh-server\",\"arch\":\"amd64\",\"change\":\"behind\"",
                                   "\"version\":{\"old\":\"1:9.2p1-2+deb12u3\",\"new\":\"1:9.2p1-2+deb12u1\"}", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"package\":\"bash\"", "\"change\":\"removed\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"package\":\"netcat-openbsd\"", "\"change\":\"added\"",
                                   "\"new\":\"1.219-1\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"packages\":3,", "\"vulnerable\":1,",
                                   "\"advisories\":{\"ecosystem\":\"Debian:12\",\"records\":2,\"files\":3}", NULL),
                     1, "%s", r.out);
        /* the advisory hit, matched by source package, severity from its CVSS vector (8.1) */
        cr_assert_eq(th_lines_with(r.out, "\"package\":\"openssh-server\",\"arch\":\"amd64\",\"change\":\"vulnerable\"",
                                   "\"severity\":\"high\",\"rule\":\"advisories\"", "\"advisory\":{\"old\":null,\"new\":\"DSA-5724-1\"}",
                                   "\"aliases\":{\"old\":null,\"new\":\"CVE-2024-6387\"}",
                                   "\"fixed\":{\"old\":null,\"new\":\"1:9.2p1-2+deb12u3\"}", "\"source\":{\"old\":null,\"new\":\"openssh\"}",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "DSA-1-1", NULL), 0, "base-files is past the fix: %s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "adv/bad.json:2:15: expected a value", NULL), 1,
                     "the malformed record is named, the rest still reported: %s", r.out);
        th_run_free(&r);

        char *after = sha("t.img");
        cr_assert_str_eq(before, after, "the image's bytes are unchanged by capture and scan");
        free(before);
        free(after);

        /* The template's raw disk now starts with a qcow2 header (a guest
         * can write one): its format changed since capture, refused before
         * any launch. */
        sh("cd \"$0\" && qemu-img create -q -f qcow2 h.qcow2 16M && "
           "dd if=h.qcow2 of=t.img bs=65536 count=1 conv=notrunc status=none");
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/t.img", work, work);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "reads as qcow2 by its header, but was raw when the baseline was captured"), "%s",
                  r.err);
        th_run_free(&r);
}

Test(guest, a_linked_clone_reports_every_planted_change_and_quick_agrees) {
        sh("bash \"$1\" \"$0/t.img\" && qemu-img create -q -f qcow2 -b t.img -F raw \"$0/c.qcow2\"");
        /* Under the example Debian policy: the configuration values are read
         * inside the image (through the appliance) at capture and scan. */
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "-o" A "%s/t.vdb" A "--policy" A POLICY,
                              work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "configuration: "), "%s", r.out);
        th_run_free(&r);
        /* Drift the clone through the appliance, as a running guest would. */
        /* Hostile padding too: a key line over 1 KiB before a new key, and an
         * sshd Include that climbs out of /etc/ssh (both used to blind). */
        sh("cd \"$0\" && { printf 'ssh-rsa '; head -c 1100 /dev/zero | tr '\\0' A; "
           "printf '\\nssh-rsa AAAAB3evil x\\n'; } >ak && \"$2\" -a c.qcow2 <<'GF'\n"
           "run\n"
           "mount /dev/sda2 /\n"
           "mount /dev/sda1 /boot\n"
           "mkdir-p /root/.ssh\n"
           "upload ak /root/.ssh/authorized_keys\n"
           "mkdir-p /var/tmp\n"
           "write /var/tmp/x.conf \"X11Forwarding yes\\n\"\n"
           "write /etc/ssh/sshd_config \"Include ../../var/tmp/x.conf\\nPort 22\\nPermitRootLogin yes\\nPasswordAuthentication no\\n\"\n"
           "chmod 04755 /bin/cat\n"
           "chown 1000 1000 /etc/hosts\n"
           "upload /bin/true /usr/sbin/.hidden\n"
           "chmod 04755 /usr/sbin/.hidden\n"
           "rm /var/log/boot.log\n"
           "write /boot/grub.cfg \"menuentry evil\\n\"\n"
           "setxattr user.origin tampered 8 /etc/hostname\n"
           "rm /usr/bin/dir\n"
           "ln-s /tmp/evil /usr/bin/dir\n"
           "write \"/home/alice/new\\nline\" \"x\"\n"
           "GF");
        char *tmpl_before = sha("t.img"), *clone_before = sha("c.qcow2");

        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A "--policy" A
                       POLICY,
                       work, work);
        cr_assert_eq(r.status, 1, "%s", r.err);
        const char *o = r.out;
        cr_assert_eq(th_lines_with(o, "\"/etc/ssh/sshd_config\"", "\"config\":\"sshd\"",
                                   "\"PermitRootLogin\":{\"old\":\"no\",\"new\":\"yes\"", "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/etc/ssh/sshd_config\"", "\"change\":\"violation\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/usr/sbin/.hidden\"", "\"detector\":\"setuid\"", "\"rule\":\"binaries\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/etc/ssh/sshd_config\"", "\"hash\":{\"old\":\"xxh3-128:", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/bin/cat\"", "\"mode\":{\"old\":\"0755\",\"new\":\"4755\"}", "\"high\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/etc/hosts\"", "\"uid\":{\"old\":0,\"new\":1000}", "\"user\":{\"old\":\"root\",\"new\":\"alice\"}", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/usr/sbin/.hidden\"", "\"change\":\"added\"", "\"high\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/var/log/boot.log\"", "\"change\":\"removed\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/boot/grub.cfg\"", "\"change\":\"changed\"", NULL), 1, "/boot is a separate partition: %s", o);
        cr_assert_eq(th_lines_with(o, "\"/etc/hostname\"", "\"xattr.user.origin\":{\"old\":null,\"new\":\"tampered\"}", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/usr/bin/dir\"", "\"target\":{\"old\":\"../../bin/ls\",\"new\":\"/tmp/evil\"}", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/home/alice/new\\nline\"", "\"change\":\"added\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"/root/.ssh/authorized_keys\"", "\"detector\":\"authorized-keys\"",
                                   "\"ssh-rsa AAAAB3evil x\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "a long line does not hide the key after it: %s", o);
        cr_assert_eq(th_lines_with(o, "\"/etc/ssh/sshd_config\"", "\"X11Forwarding\":{\"old\":null,\"new\":\"yes\"",
                                   "/var/tmp/x.conf:1", NULL),
                     1, "the relative Include is followed inside the guest: %s", o);
        cr_assert_eq(th_lines_with(o, "\"event\":\"drift\"", NULL), N_DRIFT,
                     "exactly the planted changes, the sshd key and its violation: %s", o);
        cr_assert_eq(th_lines_with(o, "\"event\":\"summary\"", "\"inspection\":\"baseline layout\"", NULL), 1,
                     "the clone kept the template's layout and packages: %s", o);

        /* The shortcuts proven by difference: full inspection, per-file
         * reads and host-side hashing (--strategy api) find the same events,
         * word for word (scan ids aside), as the reused layout and the
         * walker's batch read of the configuration files did. */
        th_run full = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A
                                 "--policy" A POLICY A "--full-inspection" A "--strategy" A "api",
                                 work, work);
        cr_assert_eq(full.status, 1, "%s", full.err);
        cr_assert_eq(th_lines_with(full.out, "\"event\":\"summary\"", "\"inspection\":\"full\"", NULL), 1, "%s",
                     full.out);
        char *a = th_drift_lines(o), *b = th_drift_lines(full.out);
        cr_assert_str_eq(a, b, "events differ between the reused layout and full inspection");
        free(a);
        free(b);
        th_run_free(&full);
        th_run_free(&r);

        /* --quick trusts unchanged metadata and must find the same drift. */
        /* ... and, in the same run, every event lands in a real rsyslogd over
         * TCP (valid RFC 5424), in the journal with its fields, and in the JSON. */
        coll_rsyslog rs;
        char rsdir[600];
        snprintf(rsdir, sizeof rsdir, "%s/rsyslog", work);
        mkdir(rsdir, 0700);
        coll_rsyslog_start(&rs, rsdir);
        pid_t jd = coll_journald_ensure();
        th_state_dir(th_path(work, "state"));
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A "--quick" A
                       "--policy" A POLICY A "--report" A "syslog:tcp://127.0.0.1:%d" A "--report" A "journal" A
                       "--state-dir" A "%s/state",
                       work, work, rs.tcp, work);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), N_DRIFT, "%s", r.out);
        size_t per = N_DRIFT + (size_t)th_lines_with(r.out, "\"event\":\"warning\"", NULL) + 1;
        char *got = coll_rsyslog_wait(&rs, per);
        coll_line *lines;
        size_t nl = coll_lines(got, &lines);
        cr_assert_eq(nl, per, "%s", got);
        for (size_t i = 0; i < nl; i++) {
                rfc5424 m;
                const char *e = rfc5424_parse(lines[i].raw, &m);
                cr_assert_null(e, "%s: %s", e, lines[i].raw);
                cr_assert_str_eq(lines[i].sd, m.sd_raw);
                rfc5424_free(&m);
        }
        cr_assert_eq(th_lines_with(got, "path=\"/etc/ssh/sshd_config\"", "change=\"changed\"", "config=\"sshd\"",
                                   "PermitRootLogin", NULL),
                     1,
                     "%s", got);
        coll_lines_free(lines, nl);
        free(got);
        const char *sid = strstr(r.out, "\"scan_id\":\"");
        char filter[80];
        snprintf(filter, sizeof filter, "VMDRIFT_SCAN_ID=%.36s", sid + 11);
        const char *jc[] = {"journalctl", "--no-pager", "-o", "json", filter, NULL};
        th_run q = th_exec(jc);
        for (int i = 0; i < 50 && (size_t)th_lines_with(q.out, "\"SYSLOG_IDENTIFIER\":\"vmdrift\"", NULL) < per; i++) {
                th_run_free(&q);
                usleep(100000);
                q = th_exec(jc);
        }
        cr_assert_eq((size_t)th_lines_with(q.out, "\"SYSLOG_IDENTIFIER\":\"vmdrift\"", NULL), per, "%s", q.out);
        cr_assert_eq(th_lines_with(q.out, "\"VMDRIFT_PATH\":\"/usr/sbin/.hidden\"", "\"VMDRIFT_DETECTOR\":\"setuid\"",
                                   "\"PRIORITY\":\"3\"", NULL),
                     1, "%s", q.out);
        th_run_free(&q);
        coll_journald_stop(jd);
        coll_rsyslog_stop(&rs);
        cr_assert_eq(th_lines_with(r.out, "\"/etc/ssh/sshd_config\"", "\"hash\":{\"old\":\"xxh3-128:", NULL), 1, "%s", r.out);
        th_run_free(&r);

        /* baseline accept on the image, plainly and --derive: the clone
         * scanned against either finds nothing but what the policy itself
         * forbids, and neither holds the template's capture.* identity */
        const char *acc[][2] = {{"a.vdb", ""}, {"d.vdb", "--derive"}};
        for (size_t i = 0; i < 2; i++) {
                r = *acc[i][1] ? th_vmdrift("baseline" A "accept" A "--baseline" A "%s/t.vdb" A "--image" A
                                            "%s/c.qcow2" A "--policy" A POLICY A "-o" A "%s/%s" A "--reason" A
                                            "rebuilt by hand" A "%s",
                                            work, work, work, acc[i][0], acc[i][1])
                               : th_vmdrift("baseline" A "accept" A "--baseline" A "%s/t.vdb" A "--image" A
                                            "%s/c.qcow2" A "--policy" A POLICY A "-o" A "%s/%s" A "--reason" A
                                            "rebuilt by hand",
                                            work, work, work, acc[i][0]);
                cr_assert_eq(r.status, 0, "accept %s: %s%s", acc[i][1], r.out, r.err);
                cr_assert(strstr(r.out, "accepted "), "%s", r.out);
                th_run_free(&r);
                r = th_vmdrift("baseline" A "show" A "%s/%s", work, acc[i][0]);
                cr_assert_eq(r.status, 0, "%s", r.err);
                cr_assert_null(strstr(r.out, "capture."), "accept %s kept the capture's identity: %s", acc[i][1], r.out);
                th_run_free(&r);
                r = th_vmdrift("scan" A "--baseline" A "%s/%s" A "--image" A "%s/c.qcow2" A "--report" A "json" A
                               "--policy" A POLICY A "--full",
                               work, acc[i][0], work);
                cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL),
                             th_lines_with(r.out, "\"event\":\"drift\"", "\"change\":\"violation\"", NULL),
                             "accept %s: drift beyond the policy's own violations: %s", acc[i][1], r.out);
                cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", "\"change\":\"changed\"", NULL) +
                                 th_lines_with(r.out, "\"event\":\"drift\"", "\"change\":\"added\"", NULL) +
                                 th_lines_with(r.out, "\"event\":\"drift\"", "\"change\":\"removed\"", NULL),
                             0, "accept %s: %s", acc[i][1], r.out);
                th_run_free(&r);
        }

        char *tmpl_after = sha("t.img"), *clone_after = sha("c.qcow2");
        cr_assert_str_eq(tmpl_before, tmpl_after);
        cr_assert_str_eq(clone_before, clone_after, "scanning never writes to the clone either");
        free(tmpl_before);
        free(tmpl_after);
        free(clone_before);
        free(clone_after);
}

Test(guest, a_disk_without_an_os_is_scanned_per_file_system) {
        sh("cd \"$0\" && mkdir -p d/data && echo x >d/data/a && mke2fs -q -F -t ext4 -d d n.img 16M");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/n.img" A "-o" A "%s/n.vdb", work, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s/n.vdb" A "--entries", work);
        cr_assert(strstr(r.out, "os.type          none"), "%s", r.out);
        cr_assert(strstr(r.out, " /dev/sda/data/a\n"), "under its device name: %s", r.out);
        cr_assert_null(strstr(r.out, " /dev\n"), "no synthetic parent entries: %s", r.out);
        th_run_free(&r);

        /* Without the walker, the api strategy takes over, warns, and reads the
         * very same tree: no drift against the walker's baseline. */
        setenv("VMDRIFT_WALKER", "/nonexistent/vmdrift-walker", 1);
        r = th_vmdrift("scan" A "--baseline" A "%s/n.vdb" A "--image" A "%s/n.img" A "--report" A "json", work, work);
        unsetenv("VMDRIFT_WALKER");
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "used the slower api strategy", NULL), 1, "%s", r.out);
        th_run_free(&r);
}

Test(guest, inspect_says_what_the_guest_is) {
        sh("bash \"$1\" \"$0/t.img\" 10");
        th_run r = th_vmdrift("inspect" A "--image" A "%s/t.img" A "--packages", work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        const char *want[] = {"os.type              linux", "os.distro            debian", "os.version           12.8",
                              "os.hostname          template", "os.arch              x86_64",
                              "mount./boot          /dev/sda1 ext4", "packages.count       3",
                              "openssh-server 1:9.2p1-2+deb12u3 amd64 (source openssh)\n"};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
                cr_assert(strstr(r.out, want[i]), "missing '%s' in:\n%s", want[i], r.out);
        th_run_free(&r);
}

Test(guest, bad_images_fail_with_a_clear_error_and_exit_3) {
        sh("cd \"$0\" && mkdir -p d && echo x >d/a && mke2fs -q -F -t ext4 -d d ok.img 8M && "
           "head -c 1048576 /dev/zero | tr '\\0' 'J' >junk.img && "
           "qemu-img create -q -f qcow2 bad.qcow2 16M && printf 'QFI\\373\\377\\377\\377\\377' | dd of=bad.qcow2 conv=notrunc status=none");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/ok.img" A "-o" A "%s/ok.vdb" A "-q", work, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s/ok.vdb" A "--image" A "%s/missing.img", work, work);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "cannot open image") && strstr(r.err, "missing.img") && strstr(r.err, "No such file"), "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s/ok.vdb" A "--image" A "%s/junk.img", work, work);
        cr_assert_eq(r.status, 3, "%s", r.err);
        cr_assert(strstr(r.err, "junk.img") && strstr(r.err, "no file system found"), "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s/ok.vdb" A "--image" A "%s/bad.qcow2", work, work);
        cr_assert_eq(r.status, 3, "%s", r.err);
        cr_assert(strstr(r.err, "bad.qcow2"), "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s/ok.vdb" A "--image" A "%s", work, work);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "is a directory"), "%s", r.err);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s/ok.vdb" A "--image" A "%s/ok.img" A "--dir" A "%s", work, work, work);
        cr_assert_eq(r.status, 2, "two kinds of source are a usage error");
        th_run_free(&r);
}

Test(guest, lvm_volumes_are_mounted_as_one_tree) {
        /* Build the disk through the appliance: root and /var on separate LVs. */
        sh("cd \"$0\" && bash \"$1\" t.img 10 && tar -C t.img.root -cf root.tar . && \"$2\" <<'GF'\n"
           "sparse lvm.img 200M\n"
           "run\n"
           "part-disk /dev/sda mbr\n"
           "pvcreate /dev/sda1\n"
           "vgcreate vg0 /dev/sda1\n"
           "lvcreate root vg0 100\n"
           "lvcreate var vg0 40\n"
           "mkfs ext4 /dev/vg0/root\n"
           "mkfs ext4 /dev/vg0/var\n"
           "mount /dev/vg0/root /\n"
           "mkdir /var\n"
           "mount /dev/vg0/var /var\n"
           "tar-in root.tar /\n"
           "write /etc/fstab \"/dev/vg0/root / ext4 defaults 0 1\\n/dev/vg0/var /var ext4 defaults 0 2\\n\"\n"
           "GF");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/lvm.img" A "-o" A "%s/l.vdb", work, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s/l.vdb" A "--entries", work);
        cr_assert(strstr(r.out, "mount./var       /dev/vg0/var ext4"), "%s", r.out);
        cr_assert(strstr(r.out, "os.distro        debian"), "%s", r.out);
        cr_assert(strstr(r.out, " /var/lib/dpkg/status\n"), "/var's LV is walked as part of the tree: %s", r.out);
        cr_assert(strstr(r.out, " /etc/ssh/sshd_config\n"), "%s", r.out);
        th_run_free(&r);
}

/* Host-side hashing against in-appliance hashing, file for file, on every
 * kind of extent the image set holds (tests/guest/mkextents.sh): inline data,
 * holes, unwritten ranges, a file over many block groups, a linear LV of two
 * segments with a file across the boundary, data journalling, XFS on a
 * whole second disk. The baseline is hashed wholly in the appliance; the
 * scan maps every file of one byte or more for the host: no event may
 * differ, each fallback is counted under its reason, and neither image is
 * written. */
Test(guest, host_hashing_equals_appliance_hashing_on_every_extent_kind) {
        sh("bash \"$(dirname \"$1\")/mkextents.sh\" \"$0\" \"$2\"");
        char *disk_before = sha("disk.img"), *xfs_before = sha("xfs.img");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/disk.img" A "--image" A "%s/xfs.img" A
                              "--hash-in" A "appliance" A "-o" A "%s/e.vdb",
                              work, work, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "60 files hashed"), "%s", r.out);
        th_run_free(&r);

        /* --full: the template against its own baseline would otherwise be a
         * delta scan, which hashes nothing it can prove unchanged */
        setenv("VMDRIFT_HOST_HASH_MIN", "1", 1);
        r = th_vmdrift("scan" A "--full" A "--baseline" A "%s/e.vdb" A "--image" A "%s/disk.img" A "--image" A
                       "%s/xfs.img" A "--report" A "json",
                       work, work, work);
        unsetenv("VMDRIFT_HOST_HASH_MIN");
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "same hashes, file for file: %s", r.out);
        /* 20 medium and 2 large files on p1, 4 on the LV, 3 on XFS: on the host; the 30 inline files and the
         * journalled one in the appliance; no file lost to an unmapped device or a failed FIEMAP */
        cr_assert_eq(th_lines_with(r.out, "\"hashing\":{\"host\":true,\"host_files\":29,", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"appliance_files\":31,\"appliance_reasons\":{\"inline-data\":30,"
                                          "\"data-journal\":1}}",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"phases_ms\":{", "\"hash\":", NULL), 1, "%s", r.out);
        th_run_free(&r);

        char *disk_after = sha("disk.img"), *xfs_after = sha("xfs.img");
        cr_assert_str_eq(disk_before, disk_after, "the image was written");
        cr_assert_str_eq(xfs_before, xfs_after, "the image was written");
        free(disk_before);
        free(disk_after);
        free(xfs_before);
        free(xfs_after);
}

/* An untouched clone: its last report again, nothing launched (the same
 * events, the summary naming the scan it repeats). A clone touched since,
 * even where no file system is, is scanned in full again, and that full
 * scan finds exactly the events of the first. */
Test(guest, an_untouched_clone_is_not_scanned_again_and_a_touched_one_is) {
        sh("bash \"$1\" \"$0/t.img\" 10 && qemu-img create -q -f qcow2 -b t.img -F raw \"$0/c.qcow2\"");
        th_state_dir(th_path(work, "state"));
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "-o" A "%s/t.vdb" A "--state-dir" A
                              "%s/state",
                              work, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* Two clones with nothing written above the template: the first is
         * scanned, the second is its twin and gets its findings without a
         * launch, under its own name; once written to, it is scanned (here a
         * qemu that cannot start proves that it tries). */
        sh("cd \"$0\" && for e in e1 e2; do qemu-img create -q -f qcow2 -b t.img -F raw $e.qcow2; done");
        th_run e1 = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/e1.qcow2" A "--report" A "json" A
                               "--state-dir" A "%s/state",
                               work, work, work);
        cr_assert_eq(e1.status, 0, "%s%s", e1.out, e1.err);
        cr_assert(!strstr(e1.out, "\"unchanged_since\"") && strstr(e1.out, "\"appliance\":{\"started\":\"launched\""),
                  "%s", e1.out);
        th_run e2 = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/e2.qcow2" A "--report" A "json" A
                               "--report" A "text" A "--state-dir" A "%s/state",
                               work, work, work);
        cr_assert_eq(e2.status, 0, "%s%s", e2.out, e2.err);
        char src2[600];
        snprintf(src2, sizeof src2, "\"source\":\"%s/e2.qcow2\"", work);
        cr_assert_eq(th_lines_with(e2.out, "\"event\":\"summary\"", "\"identical_to_template\":true", src2,
                                   "\"phases_ms\":{\"launch\":0,", NULL),
                     1, "%s", e2.out);
        cr_assert(strstr(e2.out, "identical to its template image (nothing written above it)"), "%s", e2.out);
        const char *n1 = strstr(e1.out, "\"entries_scanned\":"), *n2 = strstr(e2.out, "\"entries_scanned\":");
        cr_assert(n1 && n2 && strtoull(n1 + 18, NULL, 10) == strtoull(n2 + 18, NULL, 10) &&
                      strtoull(n1 + 18, NULL, 10) > 10,
                  "the twin's findings are the first clone's: %s\n%s", e1.out, e2.out);
        /* given again under e2's own key: the next run proves no twin (no
         * qemu-img map), and says which scan it repeats (e1's) */
        const char *id1 = strstr(e1.out, "\"event\":\"summary\",\"scan_id\":\"");
        cr_assert_not_null(id1);
        char since1[128];
        snprintf(since1, sizeof since1, "\"unchanged_since\":{\"scan_id\":\"%.36s\"", id1 + 29);
        th_run_free(&e2);
        e2 = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/e2.qcow2" A "--report" A "json" A
                        "--state-dir" A "%s/state",
                        work, work, work);
        cr_assert_eq(e2.status, 0, "%s%s", e2.out, e2.err);
        cr_assert_eq(th_lines_with(e2.out, "\"event\":\"summary\"", since1, src2, "\"phases_ms\":{\"launch\":0,", NULL),
                     1, "%s", e2.out);
        cr_assert(!strstr(e2.out, "\"identical_to_template\""), "its own kept report now: %s", e2.out);
        th_run_free(&e1);
        th_run_free(&e2);
        sh("cd \"$0\" && qemu-io -f qcow2 -c 'write -P 90 65536 512' e2.qcow2 >/dev/null");
        setenv("LIBGUESTFS_HV", "/bin/false", 1);
        e2 = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/e2.qcow2" A "--report" A "json" A
                        "--state-dir" A "%s/state",
                        work, work, work);
        unsetenv("LIBGUESTFS_HV");
        cr_assert_eq(e2.status, 3, "written to: no twin any more, a launch (that fails here)\n%s%s", e2.out, e2.err);
        th_run_free(&e2);
        sh("cd \"$0\" && \"$2\" -a c.qcow2 <<'GF'\nrun\nmount /dev/sda2 /\nwrite /etc/motd \"changed\\n\"\n"
           "chmod 04755 /bin/cat\nGF");
        th_run first = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A
                                  "--state-dir" A "%s/state",
                                  work, work, work);
        cr_assert_eq(first.status, 1, "%s%s", first.out, first.err);
        cr_assert_eq(th_lines_with(first.out, "\"unchanged_since\"", NULL), 0, "%s", first.out);
        const char *sid = strstr(first.out, "\"event\":\"summary\",\"scan_id\":\"");
        cr_assert_not_null(sid);
        char want[128];
        snprintf(want, sizeof want, "\"unchanged_since\":{\"scan_id\":\"%.36s\"", sid + 29);
        char *a = th_drift_lines(first.out);
        cr_assert(strstr(a, "/bin/cat") && strstr(a, "/etc/motd"), "%s", a);

        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A
                       "--state-dir" A "%s/state",
                       work, work, work);
        cr_assert_eq(r.status, 1, "the same exit code: %s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", want, "\"phases_ms\":{\"launch\":0,", NULL), 1,
                     "%s", r.out);
        char *b = th_drift_lines(r.out);
        cr_assert_str_eq(a, b, "the repeated report has the first scan's events");
        free(b);
        th_run_free(&r);

        /* a write into the overlay where no file system is: not untouched */
        sh("cd \"$0\" && qemu-io -f qcow2 -c 'write -P 90 65536 512' c.qcow2 >/dev/null");
        r = th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--report" A "json" A
                       "--state-dir" A "%s/state",
                       work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"unchanged_since\"", NULL), 0, "scanned in full: %s", r.out);
        b = th_drift_lines(r.out);
        cr_assert_str_eq(a, b, "the full scan and the kept report agree, event for event");
        free(b);
        free(a);
        th_run_free(&r);
        th_run_free(&first);
}
