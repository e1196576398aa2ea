/* A hunter for the next hole in the shortcuts: a whole storage picture
 * (a raw base image, the template as a qcow2 overlay of it, linked clones,
 * a raw copy, a guest with a derived baseline), rounds of random mutations
 * across all of it, and after each round two fleet runs over every guest:
 * the default one (kept reports, twins, delta scans, reused layouts, in a
 * state directory kept across rounds) and one with --full. Each guest's
 * drift events must be the same in both, event for event, or both runs
 * must refuse the guest (a header written by its guest). The fleet shares
 * appliances, so a round costs a few launches, not one per guest.
 *
 * The mutations: files written into a clone's overlay; data, zero and
 * discarded clusters written over a file's blocks in a clone's overlay; a
 * write into the base image below the template; the template file replaced
 * by a copy of itself (same bytes, size and mtime); the policy swapped; the
 * template rebuilt in place and its baseline captured again (--key-from),
 * under the derived baseline; a qcow2 header naming the template written
 * over the raw guest's first sector.
 *
 * VD_HUNT_SEED=N replays a run (the seed is in every failure message). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define A "\x1f"
/* mkimage.sh puts the root file system at sector 67584 */
#define ROOT_OFFSET "34603008"
#define ROUNDS 2 /* and round 0, before any mutation; the last round runs every kind left */
#define N_CLONES 4

static char *work;
static unsigned seed, rng; /* the run's seed (said in failures), the generator's state */

static void setup(void) {
        work = th_mkdtemp();
        setenv("LIBGUESTFS_BACKEND", "direct", 0);
}
static void teardown(void) {
        th_rmtree(work);
        free(work);
}
TestSuite(hunter, .init = setup, .fini = teardown, .timeout = 1700);

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"bash", "-ec", script, work, MKIMAGE, GUESTFISH, NULL});
        cr_assert_eq(r.status, 0, "seed %u: %s failed: %s%s", seed, script, r.out, r.err);
        th_run_free(&r);
}

static const char *guests[] = {"c1", "c2", "c3", "c4", "c5", "r", "tmpl"};
#define N_GUESTS (sizeof guests / sizeof *guests)

static bool debian_policy;
static bool header_written; /* the raw guest carries a qcow2 header now */
static bool blocks_damaged; /* clusters were written over file blocks (a clone's, or the base's) */

/* One fleet run over every guest; mode "" or "--full"; reports in OUT/. */
static void fleet(const char *mode, const char *state, const char *out) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "defaults: {baseline: t.vdb%s}\n"
                 "guests:\n"
                 "  - {name: c1, images: [c1.qcow2]}\n"
                 "  - {name: c2, images: [c2.qcow2]}\n"
                 "  - {name: c3, images: [c3.qcow2]}\n"
                 "  - {name: c4, images: [c4.qcow2]}\n"
                 "  - {name: c5, images: [c5.qcow2], baseline: d5.vdb}\n"
                 "  - {name: r, images: [r.raw], share: false}\n"
                 "  - {name: tmpl, images: [tmpl.qcow2]}\n"
                 "templates: [tmpl.qcow2]\n",
                 debian_policy ? ", policy: " VD_EXAMPLES "/policies/debian.yaml" : "");
        th_write(work, "fleet.yaml", yaml);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cd \"$0\" && rm -rf %s && mkdir -p -m 700 %s", out, state);
        sh(cmd);
        th_state_dir(th_path(work, state));
        th_run r = *mode ? th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/%s" A "--report" A
                                      "json:%s/%s/{guest}.json" A "--jobs" A "1" A "--progress" A "never" A "%s",
                                      work, work, state, work, out, mode)
                           : th_vmdrift("fleet" A "--inventory" A "%s/fleet.yaml" A "--state-dir" A "%s/%s" A
                                        "--report" A "json:%s/%s/{guest}.json" A "--jobs" A "1" A "--progress" A
                                        "never",
                                        work, work, state, work, out);
        cr_assert(r.status == 0 || r.status == 1 || r.status == 3, "seed %u: fleet %s: exit %d\n%s", seed, mode,
                  r.status, r.err);
        th_run_free(&r);
}

/* guest's events in a fleet run's reports, "" if it has no report; its
 * result ("clean", "drift", "error", ...) from the run's state in res */
static unsigned shortcuts; /* default-run guests reported as kept or delta */

static char *events(const char *state, const char *out, const char *guest, char res[32]) {
        char rel[1024];
        snprintf(rel, sizeof rel, "%s/%s/fleet/%s.json", work, state, guest);
        th_run s = th_exec((const char *const[]){"cat", rel, NULL});
        const char *k = strstr(s.out, "\"result\":\"");
        snprintf(res, 32, "%.*s", k ? (int)strcspn(k + 10, "\"") : 7, k ? k + 10 : "missing");
        if (!strcmp(state, "state") && (strstr(s.out, "\"mode\":\"kept\"") || strstr(s.out, "\"mode\":\"delta\"")))
                shortcuts++;
        th_run_free(&s);
        snprintf(rel, sizeof rel, "%s/%s/%s.json", work, out, guest);
        th_run c = th_exec((const char *const[]){"cat", rel, NULL});
        char *ev = th_drift_lines(c.status == 0 ? c.out : "");
        th_run_free(&c);
        return ev;
}

/* The byte offset in the raw base image of a file's first block, read
 * while the base is as built (writes below the template damage it later:
 * a directory block under the zeros can no longer be read). */
static unsigned long long file_offset(const char *path) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "bmap %s 0", path);
        char img[600];
        snprintf(img, sizeof img, "%s/base.img?offset=" ROOT_OFFSET, work);
        th_run r = th_exec((const char *const[]){"debugfs", "-R", cmd, img, NULL});
        unsigned long long blk = strtoull(r.out, NULL, 10);
        cr_assert(r.status == 0 && blk > 0, "seed %u: debugfs bmap %s: %s%s", seed, path, r.out, r.err);
        th_run_free(&r);
        return strtoull(ROOT_OFFSET, NULL, 10) + blk * 4096;
}

static const char *const files[] = {"/usr/share/data/f3.txt", "/srv/sparse", "/srv/big", "/etc/passwd",
                                    "/usr/share/data/f7.txt", "/bin/ls"};
#define N_FILES (sizeof files / sizeof *files)
static unsigned long long offsets[N_FILES]; /* file_offset of each, before any mutation */

static unsigned pick(unsigned n) { return (unsigned)(rand_r(&rng) % n); }

enum { M_WRITE, M_DATA, M_ZERO, M_DISCARD, M_BELOW, M_REPLACE, M_POLICY, M_REBUILD, M_HEADER, M_COUNT };
static const char *const mname[] = {"files written in a clone", "data over a file's cluster in a clone",
                                    "zeros over a file's cluster in a clone", "a discarded cluster in a clone",
                                    "a write into the base below the template", "the template replaced by a copy",
                                    "the policy swapped", "the template rebuilt in place, recaptured",
                                    "a qcow2 header written over the raw guest"};

static void mutate(int m, char *log, size_t loglen) {
        char cmd[1400];
        unsigned c = 1 + pick(N_CLONES);
        unsigned fi = pick(N_FILES);
        const char *f = files[fi];
        unsigned long long off = offsets[fi] & ~65535ULL;
        switch (m) {
        case M_WRITE:
                snprintf(cmd, sizeof cmd,
                         "cd \"$0\" && \"$2\" -a c%u.qcow2 <<'GF'\nrun\nmount /dev/sda2 /\n"
                         "write /etc/hunt-%u \"%u\\n\"\nwrite-append /usr/share/data/f%u.txt \"more\\n\"\n"
                         "chmod 0600 /srv/d%u/f1\nGF",
                         c, pick(1000), seed, 1 + pick(20), 1 + pick(9));
                break;
        case M_DATA:
                snprintf(cmd, sizeof cmd, "cd \"$0\" && qemu-io -f qcow2 -c 'write -P %u %llu 4096' c%u.qcow2 >/dev/null",
                         1 + pick(250), off + 4096ULL * pick(16), c);
                break;
        case M_ZERO:
                snprintf(cmd, sizeof cmd, "cd \"$0\" && qemu-io -f qcow2 -c 'write -z %llu 65536' c%u.qcow2 >/dev/null",
                         off, c);
                break;
        case M_DISCARD:
                snprintf(cmd, sizeof cmd,
                         "cd \"$0\" && qemu-io -f qcow2 -c 'write -P 7 %llu 65536' -c 'discard %llu 65536' c%u.qcow2 "
                         ">/dev/null",
                         off, off, c);
                break;
        case M_BELOW:
                snprintf(cmd, sizeof cmd, "cd \"$0\" && qemu-io -f raw -c 'write -P %u %llu 4096' base.img >/dev/null",
                         1 + pick(250), off);
                break;
        case M_REPLACE:
                snprintf(cmd, sizeof cmd, "cd \"$0\" && cp -p tmpl.qcow2 x.qcow2 && mv x.qcow2 tmpl.qcow2");
                break;
        case M_POLICY:
                debian_policy = !debian_policy;
                cmd[0] = '\0';
                break;
        case M_REBUILD:
                snprintf(cmd, sizeof cmd,
                         "cd \"$0\" && \"$2\" -a tmpl.qcow2 <<'GF'\nrun\nmount /dev/sda2 /\n"
                         "write /etc/rebuilt-%u \"patched\\n\"\nwrite-append /etc/hosts \"10.0.0.%u db\\n\"\nGF",
                         pick(1000), pick(250));
                break;
        case M_HEADER:
                snprintf(cmd, sizeof cmd,
                         "cd \"$0\" && qemu-img create -q -f qcow2 -b \"$0/tmpl.qcow2\" -F qcow2 h.qcow2 && "
                         "dd if=h.qcow2 of=r.raw conv=notrunc bs=64k count=1 status=none");
                break;
        }
        if (m == M_WRITE && blocks_damaged) {
                /* a cluster written over a file's blocks may have hit the
                 * inode table or a directory in the same 64 KiB: the kernel
                 * refuses to write to that file system (EBADMSG, EIO), which
                 * is the mutation's outcome, not the test's failure; both
                 * scans then see whatever it left */
                th_run r = th_exec((const char *const[]){"bash", "-ec", cmd, work, MKIMAGE, GUESTFISH, NULL});
                cr_assert(r.status == 0 || strstr(r.err, "Bad message") || strstr(r.err, "Input/output error") ||
                                  strstr(r.err, "Structure needs cleaning") || strstr(r.err, "mount"),
                          "seed %u: %s failed: %s%s", seed, cmd, r.out, r.err);
                if (r.status != 0)
                        cr_log_info("seed %u: c%u's file system refused the write: %s", seed, c, r.err);
                th_run_free(&r);
        } else if (cmd[0])
                sh(cmd);
        if (m == M_DATA || m == M_ZERO || m == M_DISCARD || m == M_BELOW)
                blocks_damaged = true;
        if (m == M_HEADER)
                header_written = true;
        if (m == M_REBUILD) {
                th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--image" A "%s/tmpl.qcow2" A "--key-from" A
                                      "%s/t.vdb" A "-o" A "%s/t.vdb",
                                      work, work, work);
                cr_assert_eq(r.status, 0, "seed %u: recapture: %s%s", seed, r.out, r.err);
                th_run_free(&r);
        }
        size_t used = strlen(log);
        snprintf(log + used, loglen - used, "%s%s (c%u, %s)", used ? "; " : "", mname[m], c, f);
}

Test(hunter, after_every_random_mutation_the_default_scan_gives_exactly_the_full_scans_events) {
        const char *s = getenv("VD_HUNT_SEED");
        seed = s && *s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
        rng = seed;
        cr_log_info("hunter seed %u (VD_HUNT_SEED=%u replays it)", seed, seed);
        /* the storage picture: base <- template <- clones; a raw copy; a
         * guest accepted into a derived baseline */
        sh("cd \"$0\" && VD_DELTA_TREE=1 bash \"$1\" base.img 40 && "
           "qemu-img create -q -f qcow2 -b base.img -F raw tmpl.qcow2 && "
           "\"$2\" -a tmpl.qcow2 <<'GF'\nrun\nmount /dev/sda2 /\nwrite /etc/motd \"template\\n\"\nGF\n"
           "for k in 1 2 3 4 5; do qemu-img create -q -f qcow2 -b tmpl.qcow2 -F qcow2 c$k.qcow2; done && "
           "qemu-img convert -O raw tmpl.qcow2 r.raw && "
           "\"$2\" -a c5.qcow2 <<'GF'\nrun\nmount /dev/sda2 /\nwrite /etc/app.conf \"c5 only\\n\"\nGF");
        th_run r = th_vmdrift("baseline" A "capture" A "-q" A "--image" A "%s/tmpl.qcow2" A "-o" A "%s/t.vdb", work,
                              work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        r = th_vmdrift("baseline" A "accept" A "-q" A "--baseline" A "%s/t.vdb" A "--image" A "%s/c5.qcow2" A "-o" A
                       "%s/d5.vdb" A "--derive" A "--reason" A "its app",
                       work, work, work);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);

        for (size_t i = 0; i < N_FILES; i++)
                offsets[i] = file_offset(files[i]);
        /* the mutations of a run: every kind at least once, in random order,
         * two or three a round (the header last: the raw guest is refused
         * from then on) */
        int order[M_COUNT];
        for (int i = 0; i < M_COUNT; i++)
                order[i] = i;
        for (int i = M_COUNT - 2; i > 0; i--) {
                int j = (int)pick((unsigned)i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
        int next = 0;
        for (int round = 0; round <= ROUNDS; round++) {
                char log[2048] = "";
                int n = round == 0 ? 0 : round == ROUNDS ? M_COUNT - next : 2 + (int)pick(2);
                for (int i = 0; i < n && next < M_COUNT; i++)
                        mutate(order[next++], log, sizeof log);
                fleet("", "state", "out");
                fleet("--full", "statef", "outf");
                size_t refused = 0;
                for (size_t g = 0; g < N_GUESTS; g++) {
                        char rd[32], rf[32];
                        char *d = events("state", "out", guests[g], rd), *f = events("statef", "outf", guests[g], rf);
                        bool header = header_written && !strcmp(guests[g], "r");
                        if (header || !strcmp(rd, "error") || !strcmp(rf, "error")) {
                                /* refused, by both: the raw guest after its
                                 * header; a clone whose file system the
                                 * zeros broke (it cannot be mounted) */
                                cr_assert(!strcmp(rd, "error") && !strcmp(rf, "error"),
                                          "seed %u, round %d (%s): %s is %s by default, %s in full", seed, round, log,
                                          guests[g], rd, rf);
                                refused++;
                        } else
                                cr_assert_str_eq(d, f,
                                                 "seed %u, round %d (%s): %s: the default scan's events differ from "
                                                 "--full's",
                                                 seed, round, log, guests[g]);
                        free(d);
                        free(f);
                }
                cr_assert_lt(refused, N_GUESTS, "seed %u, round %d (%s): every guest refused", seed, round, log);
                if (round == 0) {
                        /* share: false: an appliance of its own, in nobody's list */
                        th_run rr = th_exec((const char *const[]){"cat", th_path(work, "outf/r.json"), NULL});
                        cr_assert(strstr(rr.out, "\"appliance\":{\"started\":\"launched\",\"guests\":1}"), "%s",
                                  rr.out);
                        th_run_free(&rr);
                        th_run rc = th_exec((const char *const[]){"cat", th_path(work, "outf/c1.json"), NULL});
                        cr_assert(strstr(rc.out, "\"shared_with\":[") && !strstr(rc.out, "\"r\""), "%s", rc.out);
                        th_run_free(&rc);
                }
                cr_log_info("seed %u round %d: %s: every guest as --full", seed, round, log[0] ? log : "no mutation");
        }
        cr_assert_eq(next, M_COUNT, "every kind of mutation ran");
        /* the default runs took shortcuts: the comparison was not vacuous */
        cr_assert_geq(shortcuts, 2 * ROUNDS, "seed %u: only %u guests were kept or delta-scanned", seed, shortcuts);
}
