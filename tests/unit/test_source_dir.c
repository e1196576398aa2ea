#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "helpers.h"
#include "collect/vd_source.h"
#include "common/vd_str.h"

static char *root;

static void setup(void) { root = th_mkdtemp(); chmod(root, 0755); }
static void teardown(void) {
        th_rmtree(root);
        free(root);
}

TestSuite(source_dir, .init = setup, .fini = teardown);

static int scan_opts(vd_scan *s, vd_scan_opts *o, vd_err *err) {
        vd_source *src = NULL;
        int r = vd_source_open_dir(root, &src, err);
        if (r < 0)
                return r;
        r = vd_source_scan(src, o, s, err);
        vd_source_close(src);
        return r;
}

static void scan(vd_scan *s) {
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        memset(o.seed, 7, sizeof o.seed);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(scan_opts(s, &o, &err), 0, "%s", err.msg);
}

static const vd_entry *get(const vd_scan *s, const char *path) {
        return vd_entries_find(&s->entries, path, strlen(path));
}

Test(source_dir, records_every_attribute) {
        th_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        th_write(root, "etc/group", "root:x:0:\nstaff:x:1000:\n");
        th_write(root, "etc/app.conf", "key=value\n");
        const char *p = th_path(root, "etc/app.conf");
        chmod(p, 02640);
        cr_assert_eq(chown(p, 1000, 1000), 0);
        cr_assert_eq(setxattr(p, "user.tag", "v1", 2, 0), 0);
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1700000000, 123456789}};
        utimensat(AT_FDCWD, p, ts, 0);
        const char *l = th_path(root, "etc/link");
        cr_assert_eq(symlink("app.conf", l), 0);
        vd_scan s;
        scan(&s);
        const vd_entry *e = get(&s, "/etc/app.conf");
        cr_assert_not_null(e);
        cr_assert_eq(e->type, VD_T_REG);
        cr_assert_eq(e->mode, 02640);
        cr_assert_eq(e->uid, 1000);
        cr_assert_str_eq(e->uname, "alice", "owner resolved through the tree's own passwd");
        cr_assert_str_eq(e->gname, "staff");
        cr_assert_eq(e->size, 10);
        cr_assert_eq(e->mtime_ns, 1700000000123456789LL);
        cr_assert_eq(e->n_xattrs, 1);
        cr_assert_str_eq(e->xattrs[0].name, "user.tag");
        cr_assert_eq(e->hash_len, 16);
        cr_assert_eq(e->status, VD_ST_OK);
        const vd_entry *ln = get(&s, "/etc/link");
        cr_assert_eq(ln->type, VD_T_LNK);
        cr_assert_str_eq(ln->target, "app.conf");
        cr_assert_eq(ln->hash_len, 0, "a symlink is never followed to hash its target");
        cr_assert_not_null(get(&s, "/"), "the root itself is an entry");
        cr_assert(s.owners_resolved);
        vd_scan_release(&s);
}

Test(source_dir, never_follows_symlinks_and_survives_loops) {
        mkdir(th_path(root, "d"), 0755);
        cr_assert_eq(symlink("b", th_path(root, "d/a")), 0);
        cr_assert_eq(symlink("a", th_path(root, "d/b")), 0);
        cr_assert_eq(symlink("..", th_path(root, "d/up")), 0);
        cr_assert_eq(symlink("/", th_path(root, "d/hostroot")), 0);
        cr_assert_eq(symlink("/etc/passwd", th_path(root, "d/hostpw")), 0);
        vd_scan s;
        scan(&s);
        cr_assert_eq(s.entries.n, 7, "/, /d and five links: nothing behind a link is walked");
        cr_assert_eq(s.n_warnings, 0);
        cr_assert_str_eq(get(&s, "/d/up")->target, "..");
        vd_scan_release(&s);
}

Test(source_dir, hostile_names_are_recorded_byte_for_byte) {
        th_write(root, "new\nline", "1");
        th_write(root, "bad\xff\xfe utf8", "2");
        th_write(root, "esc\x1b[31mred", "3");
        char long_name[256];
        memset(long_name, 'n', 255);
        long_name[255] = '\0';
        th_write(root, long_name, "4");
        /* A path of more than 4000 bytes: 20 levels of 200-byte names. */
        char rel[4400] = "";
        char comp[201];
        memset(comp, 'd', 200);
        comp[200] = '\0';
        for (int i = 0; i < 20; i++) {
                strcat(rel, comp);
                strcat(rel, "/");
        }
        strcat(rel, "leaf");
        th_write(root, rel, "deep");
        vd_scan s;
        scan(&s);
        cr_assert_not_null(get(&s, "/new\nline"));
        cr_assert_not_null(get(&s, "/bad\xff\xfe utf8"));
        cr_assert_not_null(get(&s, "/esc\x1b[31mred"));
        char want[4500] = "/";
        strcat(want, rel);
        const vd_entry *e = get(&s, want);
        cr_assert_not_null(e, "a 4000+ byte path is walked");
        cr_assert_gt(e->path_len, 4000);
        cr_assert_eq(e->hash_len, 16);
        vd_scan_release(&s);
}

Test(source_dir, fifos_devices_and_sockets_are_recorded_not_opened) {
        cr_assert_eq(mkfifo(th_path(root, "fifo"), 0600), 0);
        int have_dev = mknod(th_path(root, "null"), S_IFCHR | 0666, makedev(1, 3)) == 0;
        int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *sp = th_path(root, "sock");
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sp);
        cr_assert_eq(bind(sfd, (struct sockaddr *)&sa, sizeof sa), 0);
        vd_scan s;
        scan(&s); /* would hang here if the FIFO were opened for reading */
        cr_assert_eq(get(&s, "/fifo")->type, VD_T_FIFO);
        cr_assert_eq(get(&s, "/sock")->type, VD_T_SOCK);
        if (have_dev) {
                const vd_entry *d = get(&s, "/null");
                cr_assert_eq(d->type, VD_T_CHR);
                cr_assert_eq(d->rdev, makedev(1, 3));
                cr_assert_eq(d->hash_len, 0, "a device is never read");
        }
        close(sfd);
        vd_scan_release(&s);
}

Test(source_dir, unreadable_files_and_directories_are_reported_not_hidden) {
        th_write(root, "secret", "x");
        th_write(root, "locked/inner", "y");
        chmod(th_path(root, "secret"), 0);
        chmod(th_path(root, "locked"), 0);
        /* Root reads everything: drop to nobody for this test process. */
        if (getuid() == 0) {
                cr_assert_eq(setresgid(65534, 65534, 65534), 0);
                cr_assert_eq(setresuid(65534, 65534, 65534), 0);
        }
        vd_scan s;
        scan(&s);
        const vd_entry *f = get(&s, "/secret"), *d = get(&s, "/locked");
        cr_assert_eq(f->status, VD_ST_UNREADABLE);
        cr_assert_eq(f->status_errno, EACCES);
        cr_assert_eq(f->hash_len, 0);
        cr_assert_eq(d->status, VD_ST_UNREADABLE);
        cr_assert_null(get(&s, "/locked/inner"));
        cr_assert_eq(s.n_warnings, 2, "both are named in warnings");
        vd_scan_release(&s);
}

/* The file grows at a chosen byte of chosen read attempts: after the first
 * 1 MiB chunk, on attempts below grow_attempts. No thread, no timing. */
static const char *grow_path;
static int grow_attempts;
static atomic_int grow_calls;

static void grow_at_first_chunk(const char *path, int attempt, uint64_t offset) {
        if (strcmp(path, "/growing.log") != 0 || offset != (1u << 20) || attempt >= grow_attempts)
                return;
        atomic_fetch_add(&grow_calls, 1);
        int fd = open(grow_path, O_WRONLY | O_APPEND);
        cr_assert_geq(fd, 0);
        cr_assert_eq(write(fd, "g", 1), 1);
        close(fd);
}

static void make_growing(void) {
        const char *p = th_path(root, "growing.log");
        int fd = open(p, O_WRONLY | O_CREAT, 0644);
        char *chunk = calloc(1, 1 << 20);
        for (int i = 0; i < 4; i++)
                cr_assert_eq(write(fd, chunk, 1 << 20), 1 << 20);
        close(fd);
        free(chunk);
        grow_path = p;
        th_write(root, "stable", "s");
}

Test(source_dir, a_file_growing_on_every_read_is_flagged_not_hashed) {
        make_growing();
        grow_attempts = 1000;
        atomic_store(&grow_calls, 0);
        vd_dir_read_hook = grow_at_first_chunk;
        vd_scan s;
        scan(&s);
        vd_dir_read_hook = NULL;
        cr_assert_eq(atomic_load(&grow_calls), 3, "every one of the 3 attempts saw the file grow");
        const vd_entry *e = get(&s, "/growing.log");
        cr_assert_eq(e->status, VD_ST_CHANGING);
        cr_assert_eq(e->hash_len, 0, "no half-old hash is recorded");
        cr_assert_eq(get(&s, "/stable")->status, VD_ST_OK);
        bool warned = false;
        for (size_t i = 0; i < s.n_warnings; i++)
                warned |= s.warnings[i].path && strcmp(s.warnings[i].path, "/growing.log") == 0 &&
                          strstr(s.warnings[i].msg, "changed while it was read");
        cr_assert(warned);
        vd_scan_release(&s);
}

Test(source_dir, a_file_that_grew_once_is_reread_and_hashed_whole) {
        make_growing();
        grow_attempts = 1;
        atomic_store(&grow_calls, 0);
        vd_dir_read_hook = grow_at_first_chunk;
        vd_scan s;
        scan(&s);
        vd_dir_read_hook = NULL;
        cr_assert_eq(atomic_load(&grow_calls), 1);
        const vd_entry *e = get(&s, "/growing.log");
        cr_assert_eq(e->status, VD_ST_OK, "the second attempt read a stable file");
        cr_assert_eq(e->size, (4u << 20) + 1, "the size of the version hashed, not the walk's stat");
        /* the hash is of the grown file: hashing it again without the hook agrees */
        unsigned char first[VD_HASH_MAX];
        memcpy(first, e->hash, e->hash_len);
        size_t fl = e->hash_len;
        vd_scan s2;
        scan(&s2);
        const vd_entry *e2 = get(&s2, "/growing.log");
        cr_assert_eq(e2->hash_len, fl);
        cr_assert(memcmp(e2->hash, first, fl) == 0);
        vd_scan_release(&s2);
        vd_scan_release(&s);
}

Test(source_dir, hard_links_are_hashed_once) {
        th_write(root, "a", "same content");
        cr_assert_eq(link(th_path(root, "a"), th_path(root, "b")), 0);
        cr_assert_eq(link(th_path(root, "a"), th_path(root, "c")), 0);
        th_write(root, "other", "x");
        vd_scan s;
        scan(&s);
        cr_assert_eq(s.st.files_hashed, 2);
        const vd_entry *a = get(&s, "/a"), *c = get(&s, "/c");
        cr_assert_eq(c->hash_len, 16);
        cr_assert(memcmp(a->hash, c->hash, 16) == 0);
        cr_assert_eq(c->nlink, 3);
        vd_scan_release(&s);
}

Test(source_dir, deep_trees_stop_at_the_depth_limit_with_a_warning) {
        int fd = open(root, O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < 60; i++) {
                mkdirat(fd, "d", 0755);
                int n = openat(fd, "d", O_RDONLY | O_DIRECTORY);
                close(fd);
                fd = n;
        }
        close(fd);
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.max_depth = 50;
        vd_scan s;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(scan_opts(&s, &o, &err), 0, "%s", err.msg);
        cr_assert_eq(s.entries.n, 51, "root and 50 levels");
        const vd_entry *last = s.entries.v[s.entries.n - 1];
        cr_assert_eq(last->status, VD_ST_NOT_DESCENDED);
        cr_assert_eq(s.n_warnings, 1);
        cr_assert(strstr(s.warnings[0].msg, "not descended"));
        vd_scan_release(&s);
}

Test(source_dir, a_very_deep_tree_does_not_exhaust_the_stack_or_fds) {
        int fd = open(root, O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < 3000; i++) {
                mkdirat(fd, "d", 0755);
                int n = openat(fd, "d", O_RDONLY | O_DIRECTORY);
                close(fd);
                fd = n;
        }
        close(fd);
        vd_scan s;
        scan(&s);
        cr_assert_eq(s.entries.n, 3001);
        cr_assert_eq(s.n_warnings, 0);
        vd_scan_release(&s);
}

Test(source_dir, large_and_many_xattrs_are_kept_whole) {
        const char *p = th_path(root, "x");
        th_write(root, "x", "");
        /* ext4 without ea_inode keeps all xattrs of an inode in one 4 KiB block. */
        char big[3800];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (char)(i * 7);
        cr_assert_eq(setxattr(p, "user.big", big, sizeof big, 0), 0);
        cr_assert_eq(setxattr(p, "user.nl\nname", "v", 1, 0), 0);
        const char cap[20] = {1, 0, 0, 2, 0x20};
        cr_assert_eq(setxattr(p, "security.capability", cap, sizeof cap, 0), 0);
        vd_scan s;
        scan(&s);
        const vd_entry *e = get(&s, "/x");
        cr_assert_eq(e->n_xattrs, 3);
        cr_assert_str_eq(e->xattrs[0].name, "security.capability", "sorted by name");
        cr_assert_eq(e->xattrs[0].len, 20);
        cr_assert_eq(e->xattrs[1].len, sizeof big);
        cr_assert(memcmp(e->xattrs[1].value, big, sizeof big) == 0);
        vd_scan_release(&s);
}

Test(source_dir, a_passwd_that_links_out_of_the_tree_is_not_trusted) {
        mkdir(th_path(root, "etc"), 0755);
        cr_assert_eq(symlink("/etc/passwd", th_path(root, "etc/passwd")), 0);
        th_write(root, "f", "x");
        vd_scan s;
        scan(&s);
        cr_assert_not(s.owners_resolved);
        cr_assert_null(get(&s, "/f")->uname, "the host's passwd is never used");
        vd_scan_release(&s);
}

Test(source_dir, missing_or_non_directory_sources_fail_clearly) {
        vd_source *src = NULL;
        vd_err err = VD_ERR_INIT;
        const char *p = th_path(root, "nope");
        cr_assert_eq(vd_source_open_dir(p, &src, &err), VD_E_SOURCE);
        cr_assert(strstr(err.msg, "nope") && strstr(err.msg, "No such file"), "%s", err.msg);
        th_write(root, "file", "x");
        p = th_path(root, "file");
        cr_assert_eq(vd_source_open_dir(p, &src, &err), VD_E_SOURCE);
        cr_assert(strstr(err.msg, "not a directory"), "%s", err.msg);
}

Test(source_dir, one_file_system_stops_at_mount_points) {
        mkdir(th_path(root, "mnt"), 0755);
        if (mount("tmpfs", th_path(root, "mnt"), "tmpfs", 0, "size=1m") < 0)
                cr_skip_test("cannot mount tmpfs here: %s", strerror(errno));
        th_write(root, "mnt/inside", "x");
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.one_file_system = true;
        vd_scan s;
        vd_err err = VD_ERR_INIT;
        int r = scan_opts(&s, &o, &err);
        umount(th_path(root, "mnt"));
        cr_assert_eq(r, 0, "%s", err.msg);
        cr_assert_not_null(get(&s, "/mnt"));
        cr_assert_null(get(&s, "/mnt/inside"));
        vd_scan_release(&s);
}

Test(source_dir, quick_reuses_hashes_only_when_metadata_match) {
        th_write(root, "same", "unchanged content");
        th_write(root, "touched", "old");
        vd_scan ref;
        scan(&ref);
        /* Poison the reference hashes: a reused hash is then recognisable. */
        for (size_t i = 0; i < ref.entries.n; i++)
                if (ref.entries.v[i]->type == VD_T_REG)
                        memset(ref.entries.v[i]->hash, 0xee, ref.entries.v[i]->hash_len);
        struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
        utimensat(AT_FDCWD, th_path(root, "touched"), ts, 0);
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        memset(o.seed, 7, sizeof o.seed);
        o.reference = &ref.entries;
        vd_scan s;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(scan_opts(&s, &o, &err), 0, "%s", err.msg);
        const vd_entry *same = get(&s, "/same"), *touched = get(&s, "/touched");
        cr_assert_eq(same->hash[0], 0xee, "metadata unchanged: the reference hash is taken unread");
        cr_assert_neq(touched->hash[0], 0xee, "mtime changed: the file is read and hashed");
        cr_assert_eq(s.st.quick_reused, 1, "only /same: %llu", (unsigned long long)s.st.quick_reused);
        vd_scan_release(&s);
        vd_scan_release(&ref);
}

/* The root is held from open to close: swapping it for a symlink to the
 * host's / mid-run must not put the host's files in a baseline. */
Test(source_dir, the_root_swapped_for_a_symlink_mid_run_changes_nothing) {
        char *tree = th_join(root, "tree"), *moved = th_join(root, "moved");
        th_write(tree, "etc/passwd", "guest:x:0:0::/:/bin/sh\n");
        vd_source *src = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_source_open_dir(tree, &src, &err), 0, "%s", err.msg);
        cr_assert_eq(rename(tree, moved), 0);
        cr_assert_eq(symlink("/", tree), 0);
        vd_buf b;
        vd_buf_init(&b, 1 << 20);
        cr_assert_eq(src->ops->read_file(src, "/etc/passwd", 1 << 20, &b, &err), 0, "%s", err.msg);
        cr_assert_eq(b.len, strlen("guest:x:0:0::/:/bin/sh\n"));
        cr_assert(memcmp(b.buf, "guest:x:0:0::/:/bin/sh\n", b.len) == 0, "the guest's passwd, not the host's");
        vd_buf_release(&b);
        vd_scan s;
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.hash_algo = VD_HASH_XXH3;
        cr_assert_eq(vd_source_scan(src, &o, &s, &err), 0, "%s", err.msg);
        cr_assert_eq(s.entries.n, 3, "/, /etc, /etc/passwd of the tree");
        vd_scan_release(&s);
        vd_source_close(src);
        free(tree);
        free(moved);
}

/* Pseudo file systems hold the kernel's state: not walked, said, and
 * /proc/kmsg (which blocks and consumes messages) is never read. */
Test(source_dir, a_proc_mount_inside_the_tree_is_not_descended, .timeout = 30) {
        th_write(root, "etc/hostname", "x\n");
        mkdir(th_path(root, "proc"), 0555);
        if (mount("proc", th_path(root, "proc"), "proc", 0, NULL) != 0)
                cr_skip_test("cannot mount proc here (%s): needs root", strerror(errno));
        vd_source *src = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_source_open_dir(root, &src, &err), 0, "%s", err.msg);
        vd_scan s;
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.hash_algo = VD_HASH_XXH3;
        int r = vd_source_scan(src, &o, &s, &err);
        umount(th_path(root, "proc"));
        cr_assert_eq(r, 0, "%s", err.msg);
        bool said = false;
        for (size_t i = 0; i < s.n_warnings; i++)
                said |= s.warnings[i].path && strcmp(s.warnings[i].path, "/proc") == 0 &&
                        strstr(s.warnings[i].msg, "a proc file system") != NULL;
        cr_assert(said, "the skip is said");
        for (size_t i = 0; i < s.entries.n; i++)
                cr_assert(strncmp(s.entries.v[i]->path, "/proc/", 6) != 0, "%s", s.entries.v[i]->path);
        vd_scan_release(&s);
        vd_source_close(src);
        err.msg[0] = '\0';
        /* devtmpfs has tmpfs's magic number: told apart by the mount table
         * (where /dev is one: a container may have a plain tmpfs there) */
        th_run fm = th_exec((const char *const[]){"findmnt", "-n", "-o", "FSTYPE", "/dev", NULL});
        if (fm.status == 0 && strcmp(fm.out, "devtmpfs\n") == 0) {
                cr_assert_eq(vd_source_open_dir("/dev", &src, &err), 0);
                cr_assert_eq(vd_source_scan(src, &o, &s, &err), VD_E_SOURCE);
                cr_assert(strstr(err.msg, "'/dev' is a devtmpfs file system"), "%s", err.msg);
                vd_source_close(src);
        }
        th_run_free(&fm);
        cr_assert_eq(vd_source_open_dir("/proc", &src, &err), 0);
        cr_assert_eq(vd_source_scan(src, &o, &s, &err), VD_E_SOURCE);
        cr_assert(strstr(err.msg, "'/proc' is a proc file system"), "%s", err.msg);
        vd_source_close(src);
}

/* Mountpoints come from the guest's fstab: only plain absolute paths. */
Test(source_dir, mountpoints_that_leave_the_tree_are_refused) {
        const char *good[] = {"/", "/boot", "/var/lib/docker", "/home/a b", "/srv/", "//x", "/a..b", "/.hidden"};
        const char *bad[] = {"", "boot", "/..", "/../boot", "/var/../..", "/./x", "/x/.", "/a\nb", "/a\x7f"};
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                cr_assert(vd_mountpoint_ok(good[i]), "%s", good[i]);
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                cr_assert(!vd_mountpoint_ok(bad[i]), "'%s' must be refused", bad[i]);
        char longmp[1100];
        memset(longmp, 'a', sizeof longmp - 1);
        longmp[0] = '/';
        longmp[sizeof longmp - 1] = '\0';
        cr_assert(!vd_mountpoint_ok(longmp));
}

/* ---- streaming: entries handed on complete, in path order ---- */

struct got {
        vd_entries es;
        size_t fail_at; /* the sink refuses this entry (0: none) */
};

static int got_put(void *ctx, vd_entry *e, vd_err *err) {
        struct got *g = ctx;
        if (g->fail_at && g->es.n + 1 == g->fail_at) {
                vd_entry_free(e);
                return vd_err_set(err, VD_E_IO, "the sink is full");
        }
        cr_assert_eq(vd_entries_push(&g->es, e), 0);
        return 0;
}

/* Names whose children sort after a later sibling ("a.txt" < "a/x"),
 * several levels of it, hard links, more files in one directory than the
 * queue holds, and owners named from the tree's own passwd. */
static void odd_tree(void) {
        th_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        th_write(root, "etc/group", "root:x:0:\n");
        const char *names[] = {"a/x", "a/x!/y", "a/x-/z", "a!/b", "a!!/c", "a-b", "a.txt", "a0", "b/a/b/c",
                               "b/a!", "b/a.b/d", "b/a\x01", "b/a/\x7f", "c\xff/d", "c\xff!"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
                th_write(root, names[i], names[i]);
        for (int i = 0; i < 5000; i++) {
                char p[64];
                snprintf(p, sizeof p, "many/f%04d", i);
                th_write(root, p, i % 3 ? "same" : p);
        }
        cr_assert_eq(link(th_path(root, "a/x"), th_path(root, "a.link")), 0);
        cr_assert_eq(link(th_path(root, "a/x"), th_path(root, "b/a/link")), 0);
        cr_assert_eq(symlink("a/x", th_path(root, "a.sym")), 0);
}

Test(source_dir, streams_what_it_collects_in_path_order) {
        odd_tree();
        vd_scan all, st;
        scan(&all);
        struct got g = {0};
        vd_entries_init(&g.es);
        vd_entry_sink sink = {got_put, &g};
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        memset(o.seed, 7, sizeof o.seed);
        o.sink = &sink;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(scan_opts(&st, &o, &err), 0, "%s", err.msg);
        cr_assert_eq(st.entries.n, 0, "streamed: nothing kept");
        cr_assert_eq(g.es.n, all.entries.n, "%zu streamed, %zu collected", g.es.n, all.entries.n);
        for (size_t i = 0; i < g.es.n; i++) {
                const vd_entry *a = all.entries.v[i], *b = g.es.v[i];
                if (i)
                        cr_assert_lt(vd_path_cmp(g.es.v[i - 1]->path, g.es.v[i - 1]->path_len, b->path, b->path_len), 0,
                                     "out of order: '%s' after '%s'", b->path, g.es.v[i - 1]->path);
                cr_assert(vd_entry_equal(a, b), "'%s' streamed differs from '%s' collected", b->path, a->path);
                cr_assert_eq(a->hash_len, b->hash_len);
                cr_assert_str_eq(b->uname ? b->uname : "?", a->uname ? a->uname : "?");
        }
        const vd_entry *l = vd_entries_find(&g.es, "/b/a/link", 9);
        cr_assert(l && l->hash_len && !memcmp(l->hash, vd_entries_find(&g.es, "/a/x", 4)->hash, l->hash_len),
                  "a hard link has its inode's hash");
        cr_assert_eq(st.n_warnings, all.n_warnings);
        vd_entries_release(&g.es);
        vd_scan_release(&all);
        vd_scan_release(&st);
}

Test(source_dir, a_failing_sink_ends_the_scan_and_frees_the_rest) {
        odd_tree();
        struct got g = {.fail_at = 4500};
        vd_entries_init(&g.es);
        vd_entry_sink sink = {got_put, &g};
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.sink = &sink;
        vd_scan st;
        vd_err err = VD_ERR_INIT;
        cr_assert_lt(scan_opts(&st, &o, &err), 0);
        cr_assert_str_eq(err.msg, "the sink is full");
        cr_assert_eq(g.es.n, 4499);
        vd_entries_release(&g.es);
}
