/* A tree's scan streams (its entries go through the compare as the walk
 * hands them on; the baseline's stay in its file): it must say exactly what
 * the scan holding both lists says (VMDRIFT_STREAM=0), exit code, events,
 * summary and warnings, after any change a hostile tree can make. Seeded:
 * VD_STREAM_SEED=N replays a failure. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "common/vd_buf.h"

#define A "\x1f"
#define POLICY VD_EXAMPLES "/policies/debian.yaml"

static uint64_t rng;
static unsigned pick(unsigned n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned)(rng % n);
}

/* Names whose children sort after later siblings, bytes a path may hold,
 * configuration files the policy parses, logs, links. */
static const char *const files[] = {
        "etc/passwd",        "etc/group",         "etc/shadow",         "etc/ssh/sshd_config",
        "etc/ssh/sshd_config.d/10.conf",          "etc/sudoers",        "etc/sudoers.d/ops",
        "etc/cron.d/job",    "etc/a/x",           "etc/a!/y",           "etc/a-b",
        "etc/a.conf",        "usr/bin/tool",      "usr/bin/tool.d/p",   "usr/bin/tool-x",
        "var/log/syslog",    "var/log/app/a.log", "tmp/t/x",            "home/u/.ssh/authorized_keys",
        "srv/n\xff/f",       "srv/n\n/f",         "srv/n/f",            "srv/n!",
};

static const char *const contents[] = {
        "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n",
        "root:x:0:\nu:x:1000:\n",
        "PermitRootLogin no\nInclude /etc/ssh/sshd_config.d/*.conf\n",
        "PasswordAuthentication yes\n",
        "root ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n",
        "ops ALL=(ALL) NOPASSWD: ALL\n",
        "* * * * * root /usr/bin/tool\n",
        "ssh-ed25519 AAAA key\n",
        "x",
        "",
        "y\n",
};

static void sh(const char *cmd) {
        th_run r = th_exec((const char *const[]){"sh", "-c", cmd, NULL});
        th_run_free(&r);
}

static void build(const char *root) {
        for (size_t i = 0; i < sizeof files / sizeof *files; i++)
                th_write(root, files[i], contents[pick(sizeof contents / sizeof *contents)]);
        th_write(root, "etc/passwd", contents[0]);
        th_write(root, "etc/group", contents[1]);
        th_write(root, "etc/ssh/sshd_config", contents[2]);
        th_write(root, "etc/sudoers", contents[4]);
        chmod(th_path(root, "tmp"), 01777);
        cr_assert_eq(symlink("sshd_config", th_path(root, "etc/ssh/alias")), 0);
        cr_assert_eq(symlink("/etc/passwd", th_path(root, "etc/pw")), 0);
        cr_assert_eq(link(th_path(root, "usr/bin/tool"), th_path(root, "usr/bin/tool.hard")), 0);
}

/* The changes below are made to a tree that holds links out of it (to
 * /etc/passwd, /etc/shadow): every one goes through directory fds opened
 * with no link followed, and none follows its last component, so nothing
 * outside the tree is ever touched. */

/* The directory rel's last component is in, every component a directory
 * and no link (made where missing when create): an fd, *base its last
 * component; -1 when a link, a file or nothing is in the way. */
static int parent_of(int rootfd, const char *rel, bool create, const char **base) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", rel);
        char *slash = strrchr(buf, '/');
        *base = slash ? rel + (slash - buf) + 1 : rel;
        int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
        if (!slash)
                return fd;
        *slash = '\0';
        for (char *c = buf, *next; fd >= 0 && c; c = next) {
                next = strchr(c, '/');
                if (next)
                        *next++ = '\0';
                if (create)
                        mkdirat(fd, c, 0755);
                struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
                int nfd = (int)syscall(SYS_openat2, fd, c, &how, sizeof how);
                close(fd);
                fd = nfd;
        }
        return fd;
}

/* Is the object itself (not a link's target) there, and not a link? */
static bool plain(int pfd, const char *base) {
        struct stat st;
        return fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode);
}

static void put(int rootfd, const char *rel, const char *content) {
        const char *base;
        int pfd = parent_of(rootfd, rel, true, &base);
        int fd = pfd < 0 ? -1 : openat(pfd, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
                ssize_t w = write(fd, content, strlen(content)); /* short or failed: the change is what it is */
                (void)w;
                close(fd);
        }
        if (pfd >= 0)
                close(pfd);
}

/* rm -rf of a directory reached without a link (rm follows none below it) */
static void remove_tree(const char *root, int rootfd, const char *rel) {
        const char *base;
        int pfd = parent_of(rootfd, rel, false, &base);
        if (pfd < 0)
                return;
        if (plain(pfd, base)) {
                char cmd[1200];
                snprintf(cmd, sizeof cmd, "rm -rf -- '%s/%s'", root, rel);
                sh(cmd);
        } else
                unlinkat(pfd, base, 0);
        close(pfd);
}

/* One change, at random, of the kinds a guest can make to its own files. */
static void mutate(const char *root, char *said, size_t n) {
        const char *f = files[pick(sizeof files / sizeof *files)], *base;
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(rootfd, 0);
        int pfd = parent_of(rootfd, f, false, &base);
        char buf[600];
        unsigned kind = pick(14);
        switch (pfd < 0 ? 99 : kind) {
        case 0: put(rootfd, f, contents[pick(sizeof contents / sizeof *contents)]); break;
        case 1: unlinkat(pfd, base, 0); break;
        case 2:
        case 3:
                if (plain(pfd, base))
                        fchmodat(pfd, base, kind == 2 ? 0666 : 04755, 0);
                break;
        case 4: {
                remove_tree(root, rootfd, f);
                put(rootfd, (snprintf(buf, sizeof buf, "%s/inside", f), buf), "z\n");
                break;
        }
        case 5:
                unlinkat(pfd, base, 0);
                if (symlinkat(pick(2) ? "/etc/shadow" : "../../../../etc/passwd", pfd, base) < 0)
                        break;
                break;
        case 6: {
                struct timespec ts[2] = {{0, UTIME_OMIT}, {pick(2) ? (time_t)4102444800 : (time_t)1000000000, 0}};
                utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
                break;
        }
        case 7: {
                int fd = plain(pfd, base) ? openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
                if (fd >= 0) {
                        fsetxattr(fd, "user.x", "v", 1, 0);
                        close(fd);
                }
                break;
        }
        case 8:
                snprintf(buf, sizeof buf, "%s.new%u", f, pick(3));
                put(rootfd, buf, "new\n");
                break;
        case 9: {
                /* a whole directory gone */
                snprintf(buf, sizeof buf, "%s", f);
                char *sl = strrchr(buf, '/');
                if (sl) {
                        *sl = '\0';
                        remove_tree(root, rootfd, buf);
                }
                break;
        }
        case 10: put(rootfd, "etc/sudoers.d/z\nevil", "evil ALL=(ALL) NOPASSWD: ALL\n"); break;
        case 11: put(rootfd, "etc/passwd", "root:x:0:0::/root:/bin/sh\nx:x:0:0::/:/bin/sh\n"); break;
        case 12: {
                const char *sb, *db;
                int sp = parent_of(rootfd, "usr/bin/tool", false, &sb), dp = parent_of(rootfd, "tmp/t/hard", true, &db);
                if (sp >= 0 && dp >= 0)
                        linkat(sp, sb, dp, db, 0); /* the link itself, were it one */
                if (sp >= 0)
                        close(sp);
                if (dp >= 0)
                        close(dp);
                break;
        }
        case 13:
                if (plain(rootfd, "tmp"))
                        fchmodat(rootfd, "tmp", pick(2) ? 0777 : 01777, 0);
                break;
        default: break;
        }
        if (pfd >= 0)
                close(pfd);
        close(rootfd);
        size_t l = strlen(said);
        snprintf(said + l, n - l, " %u:%s", kind, f);
}

/* The summary without what differs from run to run (ids, times, memory). */
static char *stable(const char *out) {
        const char *s = strstr(out, "{\"event\":\"summary\"");
        if (!s)
                return strdup("(no summary)");
        char *c = strndup(s, strcspn(s, "\n"));
        /* (and how YARA had the bytes: from the hashing reads, or read after) */
        const char *drop[] = {"\"scan_id\":", "\"started\":", "\"duration_ms\":", "\"max_rss_kb\":", "\"phases_ms\":",
                              "\"from_host_hashing\":", "\"ms\":"};
        for (size_t i = 0; i < sizeof drop / sizeof *drop; i++) {
                char *k = strstr(c, drop[i]);
                if (!k)
                        continue;
                char *v = k + strlen(drop[i]), *e;
                if (*v == '"') {
                        for (e = v + 1; *e && !(*e == '"' && e[-1] != '\\'); e++)
                                ;
                        e = *e ? e + 1 : e;
                } else if (*v == '{') {
                        e = strchr(v, '}');
                        e = e ? e + 1 : v + strlen(v);
                } else
                        e = v + strcspn(v, ",}");
                if (*e == ',')
                        e++;
                memmove(k, e, strlen(e) + 1);
        }
        return c;
}

static th_run scan(const char *vdb, const char *tree, bool stream) {
        if (!stream)
                setenv("VMDRIFT_STREAM", "0", 1);
        th_run r = th_vmdrift("scan" A "--baseline" A "%s" A "--dir" A "%s" A "--policy" A POLICY A "--report" A
                              "json",
                              vdb, tree);
        unsetenv("VMDRIFT_STREAM");
        return r;
}

/* What the tree's links point at, outside it: never touched. */
static void host_files(struct stat st[2]) {
        cr_assert_eq(lstat("/etc/passwd", &st[0]), 0);
        if (lstat("/etc/shadow", &st[1]) < 0)
                memset(&st[1], 0, sizeof st[1]);
}

static bool same_stat(const struct stat *a, const struct stat *b) {
        return a->st_ino == b->st_ino && a->st_mode == b->st_mode && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

Test(stream, a_streamed_scan_says_what_the_collected_one_says, .timeout = 300) {
        struct stat host_before[2], host_after[2];
        host_files(host_before);
        const char *seed_env = getenv("VD_STREAM_SEED");
        uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : (uint64_t)time(NULL);
        char *work = th_mkdtemp();
        vd_buf fails;
        vd_buf_init(&fails, 0);
        size_t events = 0;
        for (int round = 0; round < 16; round++) {
                rng = seed * 2654435761u + (uint64_t)round + 1;
                char *tree = th_join(work, "t"), *vdb = th_join(work, "b.vdb");
                th_run c = th_exec((const char *const[]){"rm", "-rf", tree, vdb, NULL});
                th_run_free(&c);
                build(tree);
                c = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "--policy" A POLICY A "-o" A "%s", tree,
                               vdb);
                cr_assert(c.status == 0 || c.status == 1, "%s", c.err); /* 1: the template breaks the policy */
                th_run_free(&c);
                char said[2048] = "";
                for (unsigned k = 1 + pick(8); k > 0; k--)
                        mutate(tree, said, sizeof said);
                th_run s = scan(vdb, tree, true), f = scan(vdb, tree, false);
                char *ds = th_drift_lines(s.out), *df = th_drift_lines(f.out), *ss = stable(s.out), *sf = stable(f.out),
                     *es = th_sorted_lines(s.err), *ef = th_sorted_lines(f.err);
                if (s.status != f.status || strcmp(ds, df) || strcmp(ss, sf) || strcmp(es, ef))
                        vd_buf_addf(&fails,
                                    "seed %llu round %d (changed:%s): streamed exit %d, collected %d\n"
                                    "--- streamed\n%s%s\n%s--- collected\n%s%s\n%s",
                                    (unsigned long long)seed, round, said, s.status, f.status, ds, ss, es, df, sf, ef);
                cr_assert(s.status == 0 || s.status == 1, "seed %llu round %d: %s", (unsigned long long)seed, round,
                          s.err);
                for (const char *q = ds; (q = strchr(q, '\n')); q++)
                        events++;
                free(ds);
                free(df);
                free(ss);
                free(sf);
                free(es);
                free(ef);
                th_run_free(&s);
                th_run_free(&f);
                free(tree);
                free(vdb);
        }
        host_files(host_after);
        cr_assert(same_stat(&host_before[0], &host_after[0]) && same_stat(&host_before[1], &host_after[1]),
                  "the host's /etc/passwd or /etc/shadow changed: a change followed a link out of the tree");
        cr_assert_eq(fails.len, 0, "%s", fails.buf);
        cr_assert_gt(events, 16, "the changes made events to compare (%zu)", events);
        vd_buf_release(&fails);
        th_rmtree(work);
        free(work);
}

/* The baseline's rows are checked as they stream: an edited row fails the
 * scan before any report is made. */
Test(stream, an_edited_baseline_row_fails_the_scan_before_its_report) {
        char *work = th_mkdtemp(), *tree = th_join(work, "t"), *vdb = th_join(work, "b.vdb");
        rng = 1;
        build(tree);
        th_run c = th_vmdrift("baseline" A "capture" A "-q" A "--dir" A "%s" A "-o" A "%s", tree, vdb);
        cr_assert_eq(c.status, 0, "%s", c.err);
        th_run_free(&c);
        sqlite3 *db = NULL;
        cr_assert_eq(sqlite3_open(vdb, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, "UPDATE entries SET mode=511 WHERE path=CAST('/etc/group' AS BLOB)", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
        sqlite3_close(db);
        th_run s = scan(vdb, tree, true);
        cr_assert_eq(s.status, 3, "%s", s.err);
        cr_assert(strstr(s.err, "damaged or modified"), "%s", s.err);
        cr_assert_null(strstr(s.out, "\"event\":"), "no report: %s", s.out);
        th_run_free(&s);
        th_rmtree(work);
        free(work);
        free(tree);
        free(vdb);
}
