/* The delta scan against the full scan, on real linked clones drifted
 * through a read-write libguestfs handle: for every clone the delta scan's
 * drift events must be the full scan's, event for event. Appliance launches
 * are bounded: one capture, one guestfish session for all clones, and at
 * most two scans per clone.
 *
 * The first clone gets a delta scan and a full scan (--full); the others a
 * delta scan under VMDRIFT_DELTA_VERIFY=1, which hashes every file as the
 * full scan does and checks each proved file's hash against the baseline's
 * (a wrong proof fails the scan itself): the full scan's events and the
 * delta scan's proofs from one launch. The full scan of the first clone also
 * reads the configuration files after its walk (VMDRIFT_READ_AHEAD=0), the
 * delta scan in its walk's pass. The delta scans answer unchanged inodes
 * from the capture's records of their blocks; the fleet run over the same
 * clones reads every such inode instead (VMDRIFT_BLOCK_RECORDS=0), and
 * must give the same events. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define A "\x1f"

#ifndef MKIMAGE
#define MKIMAGE "tests/guest/mkimage.sh"
#endif
#ifndef GUESTFISH
#define GUESTFISH "tests/guest/guestfish.sh"
#endif
#ifndef MUTATE
#define MUTATE "tests/guest/delta_mutate.py"
#endif
/* mkimage.sh puts the root file system at sector 67584 */
#define ROOT_OFFSET "34603008"

static char *work;

/* The operator's YARA rules every scan here runs (--yara): the EICAR test
 * string, and vmdrift's own secret rules given again (one event each, not
 * two, where the shipped ones match too). */
static const char EICAR_RULE[] = "rule eicar : testing virus {\n"
                                 "  meta:\n    description = \"the EICAR test file\"\n    severity = \"critical\"\n"
                                 "  strings:\n    $e = \"EICAR-STANDARD-ANTIVIRUS-TEST-FILE\"\n"
                                 "  condition:\n    $e\n}\n";

static void setup(void) {
        work = th_mkdtemp();
        setenv("LIBGUESTFS_BACKEND", "direct", 0);
        th_write(work, "rules/eicar.yar", EICAR_RULE);
        FILE *in = fopen(VD_EXAMPLES "/yara/secrets.yar", "r");
        cr_assert(in);
        char buf[16384];
        size_t n = fread(buf, 1, sizeof buf, in);
        fclose(in);
        th_writen(work, "rules/secrets.yar", buf, n);
}
static void teardown(void) {
        th_rmtree(work);
        free(work);
}
TestSuite(delta, .init = setup, .fini = teardown, .timeout = 1500);

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"bash", "-ec", script, work, MKIMAGE, GUESTFISH, MUTATE, NULL});
        cr_assert_eq(r.status, 0, "%s failed: %s%s", script, r.out, r.err);
        if (r.err[0])
                cr_log_info("%s", r.err);
        th_run_free(&r);
}

static unsigned long long summary_num(const char *out, const char *key) {
        const char *s = strstr(out, "\"event\":\"summary\"");
        cr_assert(s, "no summary: %s", out);
        const char *k = strstr(s, key);
        cr_assert(k, "no %s in the summary: %s", key, s);
        return strtoull(k + strlen(key), NULL, 10);
}

/* scan the clone; mode: "" (delta), "--full", or "verify" */
static th_run scan(const char *clone, const char *mode) {
        bool verify = strcmp(mode, "verify") == 0;
        if (verify)
                setenv("VMDRIFT_DELTA_VERIFY", "1", 1);
        th_run r =
            *mode && !verify
                ? th_vmdrift("scan" A "%s" A "--baseline" A "%s/t.vdb" A "--image" A "%s/%s" A "--report" A "json" A
                             "--yara" A "%s/rules",
                             mode, work, work, clone, work)
                : th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/%s" A "--report" A "json" A "--yara" A
                             "%s/rules",
                             work, work, clone, work);
        unsetenv("VMDRIFT_DELTA_VERIFY");
        cr_assert_eq(r.status, 1, "%s %s: exit %d\n%s", clone, mode, r.status, r.err);
        return r;
}

/* the two-disk clone (c.qcow2 and cd.qcow2); mode "" or "--full" */
static th_run scan_two(const char *mode) {
        th_run r = *mode ? th_vmdrift("scan" A "%s" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--image" A
                                      "%s/cd.qcow2" A "--report" A "json",
                                      mode, work, work, work)
                         : th_vmdrift("scan" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c.qcow2" A "--image" A
                                      "%s/cd.qcow2" A "--report" A "json",
                                      work, work, work);
        cr_assert_eq(r.status, 1, "two disks %s: exit %d\n%s", mode, r.status, r.err);
        return r;
}

static void same_events(const char *clone, const th_run *delta, const th_run *other, const char *what) {
        char *a = th_drift_lines(delta->out), *b = th_drift_lines(other->out);
        cr_assert_str_eq(a, b, "%s: the delta scan's events differ from the %s's", clone, what);
        cr_assert(strlen(a) > 0);
        free(a);
        free(b);
}

/* One vmdrift fleet run (--jobs 1) over the guests of inventory lines
 * (fleet.yaml's guests: section), reports in out/{guest}.json. */
static th_run fleet(const char *guests) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, "defaults: {baseline: t.vdb}\nguests:\n%stemplates: [t.img]\n", guests);
        th_write(work, "fleet.yaml", yaml);
        sh("cd \"$0\" && rm -rf state out && mkdir -m 700 state");
        th_state_dir(th_path(work, "state"));
        th_run r = th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/state" A "--report" A
                              "json:%s/out/{guest}.json" A "--jobs" A "1" A "--progress" A "never" A "--yara" A "%s/rules",
                              work, work, work, work);
        cr_assert_eq(r.status, 1, "fleet: exit %d\n%s", r.status, r.err);
        return r;
}

/* guest's report from the fleet run, without its "guest" field (the scans
 * it is compared with ran without --guest) */
static char *fleet_report(const char *guest) {
        char rel[64], tag[80];
        snprintf(rel, sizeof rel, "out/%s.json", guest);
        snprintf(tag, sizeof tag, "\"guest\":\"%s\",", guest);
        FILE *f = fopen(th_path(work, rel), "r");
        cr_assert(f, "no report for %s", guest);
        char *buf = NULL;
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char line[65536];
        while (fgets(line, sizeof line, f)) {
                char *t = strstr(line, tag);
                if (t)
                        memmove(t, t + strlen(tag), strlen(t + strlen(tag)) + 1);
                fputs(line, m);
        }
        fclose(f);
        fclose(m);
        return buf;
}

Test(delta, clones_drifted_every_way_give_the_full_scans_events_event_for_event) {
        sh("cd \"$0\" && VD_DELTA_TREE=1 bash \"$1\" t.img 100 && "
           "mkdir many && for i in $(seq 1 2000); do echo $i > many/n$i; done && tar cf many.tar -C many . && "
           "for k in 1 2 3; do qemu-img create -q -f qcow2 -b t.img -F raw c$k.qcow2; done && "
           /* what c1 gets besides: malware small (read in the batch) and large
            * (hashed on the host: matched from those reads), a private key
            * added, an AWS key pair written into a file the template has, a
            * large benign file */
           "printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\\n' >eicar.com && "
           "{ head -c 40000 /dev/urandom; cat eicar.com; head -c 30000 /dev/urandom; } >big-eicar.bin && "
           "head -c 2000000 /dev/urandom >benign.bin && "
           "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out key.pem 2>/dev/null");
        th_run r = th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "-o" A "%s/t.vdb", work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* one read-write session drifts all three clones */
        sh("cd \"$0\" && { echo run; "
           "python3 \"$3\" t.img.root t.img " ROOT_OFFSET " sda 1 many.tar; "
           "python3 \"$3\" t.img.root t.img " ROOT_OFFSET " sdb 2; "
           "python3 \"$3\" t.img.root t.img " ROOT_OFFSET " sdc 3; "
           "echo 'mount /dev/sda2 /'; echo 'mkdir-p /home/alice/.ssh'; echo 'mkdir-p /usr/local/bin'; "
           "echo 'upload key.pem /home/alice/.ssh/id_rsa'; echo 'upload eicar.com /usr/local/bin/eicar.com'; "
           "echo 'upload big-eicar.bin /srv/big-eicar.bin'; echo 'upload benign.bin /srv/benign.bin'; "
           "echo 'write-append /etc/hosts \"# aws_access_key_id = AKIAIOSFODNN7EXAMPLE\\n# aws_secret_access_key "
           "= wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\n\"'; echo umount-all; } >mutate.gf && "
           "\"$2\" -a c1.qcow2 -a c2.qcow2 -a c3.qcow2 <mutate.gf");
        /* c1: the delta scan, then the full scan */
        setenv("VMDRIFT_DEBUG", "1", 1);
        th_run d = scan("c1.qcow2", "");
        unsetenv("VMDRIFT_DEBUG");
        cr_assert(strstr(d.out, "\"scan_mode\":\"delta\""), "%s", d.out);
        /* only what changed was walked: the rest is the baseline's, unread */
        cr_assert(strstr(d.out, "\"walk\":\"changed-only\""), "%s", d.out);
        unsigned long long proved = summary_num(d.out, "\"proved\":"), reused = summary_num(d.out, "\"reused\":");
        unsigned long long unvisited = summary_num(d.out, "\"unvisited\":");
        cr_assert_gt(unvisited, 2000, "only %llu entries taken from the baseline", unvisited);
        cr_assert_leq(reused, proved);
        /* and their inodes were answered from the capture's records of
         * their blocks, not read (the fleet run below reads them all) */
        unsigned long long fromrec = summary_num(d.out, "\"inodes_from_records\":"),
                           nread = summary_num(d.out, "\"inodes_read\":");
        cr_assert_gt(fromrec, 2000, "%s", d.out);
        cr_assert_lt(nread, fromrec / 10, "%llu inodes read, %llu from records", nread, fromrec);
        /* the write under a file's data is found although its inode is the template's */
        cr_assert_geq(th_lines_with(d.out, "\"change\":\"changed\"", "\"hash\":{\"old\":\"xxh3-128:", NULL), 1);
        /* the configuration files were read in the walk's pass as the
         * baseline had them (/etc/passwd is a symlink now: its target came
         * after); the full scan reads them after its walk, as before */
        cr_assert(strstr(d.out, "\"detector\":\"uid0\""), "no uid0 event: %s", d.out);
        /* and the new cron job, which the baseline never had, in the same pass */
        cr_assert(strstr(d.out, "\"detector\":\"persistence\""), "no persistence event: %s", d.out);
        cr_assert(strstr(d.err, "read-ahead: 1 files new since the baseline matched the configuration's globs"),
                  "the new cron job was not read in the walk's pass: %s", d.err);
        setenv("VMDRIFT_READ_AHEAD", "0", 1);
        th_run f = scan("c1.qcow2", "--full");
        unsetenv("VMDRIFT_READ_AHEAD");
        cr_assert(strstr(f.out, "\"hashing\"") && !strstr(f.out, "\"scan_mode\""), "%s", f.out);
        same_events("c1.qcow2", &d, &f, "full scan");
        /* YARA (--yara): each planted file by its rule, the same in both
         * scans (same_events); a secret by its line, never its bytes; the
         * large file matched from the host's own reads for its hash */
        cr_assert_eq(th_lines_with(d.out, "\"change\":\"malware\"", "\"path\":\"/usr/local/bin/eicar.com\"",
                                   "\"severity\":\"critical\"", "\"yara.rule\":{\"old\":null,\"new\":\"eicar\"}", NULL),
                     1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"change\":\"malware\"", "\"path\":\"/srv/big-eicar.bin\"", NULL), 1, "%s",
                     d.out);
        cr_assert_eq(th_lines_with(d.out, "\"change\":\"secret\"", "\"path\":\"/home/alice/.ssh/id_rsa\"",
                                   "\"new\":\"pem_private_key\"", "\"severity\":\"high\"", NULL),
                     1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"change\":\"secret\"", "\"path\":\"/etc/hosts\"", "\"new\":\"aws_key_pair\"",
                                   "\"line\":{\"old\":null,\"new\":3}", NULL),
                     1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"change\":\"malware\"", NULL) + th_lines_with(d.out, "\"change\":\"secret\"", NULL),
                     4, "%s", d.out);
        cr_assert(!strstr(d.out, "wJalrXUtnFEMI") && !strstr(d.out, "-----BEGIN") && !strstr(f.out, "wJalrXUtnFEMI"),
                  "a secret's bytes in the report: %s", d.out);
        unsigned long long yfiles = summary_num(d.out, "\"yara\":{\"files\":");
        cr_assert_eq(yfiles, summary_num(f.out, "\"yara\":{\"files\":"), "%s\n%s", d.out, f.out);
        cr_assert_geq(summary_num(f.out, "\"from_host_hashing\":"), 1, "%s", f.out);
        cr_log_info("yara: %llu files matched in the delta scan, %llu of them from the host's hashing reads", yfiles,
                    summary_num(d.out, "\"from_host_hashing\":"));
        char *first = th_drift_lines(d.out), *ev[4] = {NULL};
        th_run_free(&d);
        th_run_free(&f);
        /* c2, c3: one launch each, proving and hashing every file: a proved
         * file whose content is not the baseline's fails the scan */
        for (int k = 2; k <= 3; k++) {
                char clone[16];
                snprintf(clone, sizeof clone, "c%d.qcow2", k);
                th_run v = scan(clone, "verify");
                cr_assert(strstr(v.out, "\"scan_mode\":\"delta\""), "%s: %s", clone, v.out);
                cr_assert(strstr(v.out, "\"walk\":\"whole\",\"walk_whole_because\":\"verifying"), "%s: %s", clone,
                          v.out);
                cr_assert_gt(summary_num(v.out, "\"proved\":"), 2000);
                cr_assert_geq(th_lines_with(v.out, "\"change\":\"changed\"", "\"hash\":{\"old\":\"xxh3-128:", NULL), 1);
                ev[k] = th_drift_lines(v.out);
                th_run_free(&v);
        }
        /* The same guests in one fleet run: c1, c2 and the template share one
         * appliance (c2's disk is its second drive, the template's its
         * third); c3, held open by another process, is "in use" and gets an
         * appliance of its own. Each guest's events are its own scan's. */
        sh("cd \"$0\" && { python3 -c 'import fcntl,time; f=open(\"c3.qcow2\",\"rb\"); "
           "fcntl.lockf(f, fcntl.LOCK_SH); open(\"locked\",\"w\").close(); time.sleep(900)' "
           ">/dev/null 2>&1 & echo $! >lock.pid; } && "
           "for i in $(seq 100); do [ -e locked ] && break; sleep 0.1; done && [ -e locked ]");
        /* (and every inode they prove is read, not answered from the
         * capture's records: c1's events must still be its delta scan's) */
        setenv("VMDRIFT_BLOCK_RECORDS", "0", 1);
        th_run fl = fleet("  - {name: c1, images: [c1.qcow2]}\n  - {name: c2, images: [c2.qcow2]}\n"
                          "  - {name: c3, images: [c3.qcow2]}\n  - {name: t, images: [t.img]}\n");
        unsetenv("VMDRIFT_BLOCK_RECORDS");
        sh("cd \"$0\" && kill $(cat lock.pid)");
        cr_assert(strstr(fl.err, "4 guests in ") && strstr(fl.err, ", 2 appliance launches,"), "%s", fl.err);
        const char *names[] = {"c1", "c2", "c3", "t"};
        for (int k = 0; k < 4; k++) {
                char *rep = fleet_report(names[k]), *got = th_drift_lines(rep);
                cr_assert_str_eq(got, k == 0 ? first : k == 3 ? "" : ev[k + 1],
                                 "%s: the fleet's events differ from its own scan's", names[k]);
                bool own = k == 2;
                /* a shared report names the guests it shared with */
                const char *peers[] = {"[\"c2\",\"t\"]", "[\"c1\",\"t\"]", "", "[\"c1\",\"c2\"]"};
                char want[160];
                snprintf(want, sizeof want, "\"appliance\":{\"started\":\"%s\",\"guests\":%d%s%s%s}",
                         k < 2 && k == 0 ? "launched" : own ? "launched" : "shared", own ? 1 : 3,
                         own ? "" : ",\"shared_with\":", peers[k], "");
                cr_assert(strstr(rep, want), "%s: no %s in %s", names[k], want, rep);
                cr_assert(own ? strstr(rep, "\"scan_mode\":\"full\"") != NULL
                              : strstr(rep, "\"scan_mode\":\"delta\"") != NULL &&
                                    strstr(rep, "\"walk\":\"changed-only\"") != NULL,
                          "%s: %s", names[k], rep);
                if (!own) {
                        cr_assert_eq(summary_num(rep, "\"inodes_from_records\":"), 0, "%s: %s", names[k], rep);
                        cr_assert_gt(summary_num(rep, "\"inodes_read\":"), 2000, "%s: %s", names[k], rep);
                }
                free(rep);
                free(got);
        }
        th_run_free(&fl);
        free(ev[2]);
        free(ev[3]);
        /* the template written since the capture: no delta scan, and it says why */
        sh("cd \"$0\" && touch t.img");
        /* ... and every file matched (--yara-all): the template matches
         * nothing, so the events are the same */
        d = scan("c1.qcow2", "--yara-all");
        cr_assert_gt(summary_num(d.out, "\"yara\":{\"files\":"), yfiles + 1500, "%s", d.out);
        cr_assert(strstr(d.out, "\"scan_mode\":\"full\",\"full_because\":\"the template image "), "%s", d.out);
        cr_assert(strstr(d.out, "changed (or was copied) since the baseline was captured"), "%s", d.out);
        char *again = th_drift_lines(d.out);
        cr_assert_str_eq(first, again);
        free(first);
        free(again);
        th_run_free(&d);
}

/* Two disks (/data on the second), and a guest killed with metadata still in
 * both journals. */
Test(delta, a_two_disk_clone_whose_guest_crashed_with_a_dirty_journal) {
        sh("cd \"$0\" && VD_DELTA_TREE=1 VD_FSTAB_EXTRA='UUID=5a1d7e0c-2b4f-4c6e-8d9a-0b1c2d3e4f50 /data ext4 defaults "
           "0 2' "
           "bash \"$1\" t.img 20 && mkdir -p data/db && for i in $(seq 1 300); do head -c $((i * 97)) /dev/urandom "
           ">data/db/r$i; done && mke2fs -q -F -t ext4 -b 4096 -U 5a1d7e0c-2b4f-4c6e-8d9a-0b1c2d3e4f50 -d data d.img "
           "64M "
           ">/dev/null && "
           "qemu-img create -q -f qcow2 -b t.img -F raw c.qcow2 && qemu-img create -q -f qcow2 -b d.img -F raw "
           "cd.qcow2");
        th_run r =
            th_vmdrift("baseline" A "capture" A "--image" A "%s/t.img" A "--image" A "%s/d.img" A "-o" A "%s/t.vdb",
                       work, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        /* changes committed to the journals, then qemu killed: the metadata
         * is in the journals and not yet in place */
        sh("cd \"$0\" && { \"$2\" -a c.qcow2 -a cd.qcow2 <<'GF' || true\n"
           "run\n"
           "mount /dev/sda2 /\n"
           "mount /dev/sdb /data\n"
           "write /srv/d6/after_crash \"x\"\n"
           "rm /srv/d7/f1\n"
           "chmod 0700 /srv/d8/f2\n"
           "setxattr user.crash yes 3 /srv/d9/f3\n"
           "copy-file-to-file /srv/big /srv/d10/f4 size:300000 append:true\n"
           "write /data/db/r7 \"rewritten\"\n"
           "rm /data/db/r8\n"
           "write /data/db/new \"n\"\n"
           "sync\n"
           "! pkill -9 -P $PPID\n"
           "GF\n"
           "} && qemu-img convert -O raw c.qcow2 c.raw && "
           "dumpe2fs -h \"c.raw?offset=" ROOT_OFFSET "\" 2>/dev/null | grep -q needs_recovery && rm c.raw");
        th_run d = scan_two("");
        cr_assert(strstr(d.out, "\"scan_mode\":\"delta\""), "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"/srv/d6/after_crash\"", "\"added\"", NULL), 1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"/srv/d9/f3\"", "xattr.user.crash", NULL), 1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"/srv/d10/f4\"", "\"size\":{", NULL), 1, "%s", d.out);
        /* the second disk's changes, through its own journal */
        cr_assert_eq(th_lines_with(d.out, "\"/data/db/r7\"", "\"hash\":{", NULL), 1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"/data/db/r8\"", "\"removed\"", NULL), 1, "%s", d.out);
        cr_assert_eq(th_lines_with(d.out, "\"/data/db/new\"", "\"added\"", NULL), 1, "%s", d.out);
        cr_assert(strstr(d.out, "\"walk\":\"changed-only\""), "%s", d.out);
        cr_assert_gt(summary_num(d.out, "\"unvisited\":"), 2000, "%s", d.out);
        /* both disks' file systems were recognised as the template's */
        cr_assert(!strstr(d.out, "\"geometry\":") && !strstr(d.out, "\"file-system\":"), "%s", d.out);
        cr_assert_geq(th_lines_with(d.out, "\"/data/db/r", "\"removed\"", NULL), 1);
        th_run f = scan_two("--full");
        same_events("c.qcow2 + cd.qcow2", &d, &f, "full scan");
        /* in a fleet, after the template: the clone's disks are the shared
         * appliance's third and fourth drives, its events the same */
        th_run fl = fleet("  - {name: tmpl, images: [t.img, d.img]}\n  - {name: clone, images: [c.qcow2, cd.qcow2]}\n");
        cr_assert(strstr(fl.err, "2 guests in ") && strstr(fl.err, ", 1 appliance launches,"), "%s", fl.err);
        char *rep = fleet_report("clone"), *got = th_drift_lines(rep), *want = th_drift_lines(d.out);
        cr_assert_str_eq(got, want, "the clone's events in the fleet differ from its own scan's");
        cr_assert(strstr(rep, "\"appliance\":{\"started\":\"shared\",\"guests\":2,\"shared_with\":[\"tmpl\"]}") &&
                      strstr(rep, "\"scan_mode\":\"delta\"") && !strstr(rep, "\"geometry\":") &&
                      !strstr(rep, "\"file-system\":"),
                  "%s", rep);
        cr_assert_gt(summary_num(rep, "\"unvisited\":"), 2000, "%s", rep);
        free(rep);
        free(got);
        free(want);
        rep = fleet_report("tmpl");
        got = th_drift_lines(rep);
        cr_assert_str_eq(got, "", "the template has no drift: %s", rep);
        free(rep);
        free(got);
        th_run_free(&fl);
        th_run_free(&d);
        th_run_free(&f);
}
