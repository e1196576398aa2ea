/* The delta scan's proofs (collect/vd_delta.c), on real ext4 images made
 * by mke2fs, their inode and block numbers taken from debugfs and dumpe2fs;
 * the host's instructions and qemu-img map's answers as input. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/vd_delta.h"
#include "collect/vd_imageinfo.h"

static char dir[64];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* The first number after needle in the output of cmd. */
static unsigned long long num_after(const char *cmd, const char *needle) {
        FILE *p = popen(cmd, "r");
        cr_assert(p);
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, p);
        buf[n] = '\0';
        pclose(p);
        const char *at = strstr(buf, needle);
        cr_assert(at, "'%s' not in the output of %s:\n%s", needle, cmd, buf);
        return strtoull(at + strlen(needle), NULL, 10);
}

static int file_rd(void *ud, void *buf, size_t len, uint64_t off) {
        return pread(*(int *)ud, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

/* small: 3 blocks in one extent; sparse: 20 extents under an extent-tree
 * block; other: 3 blocks. */
static void make_image(const char *features) {
        snprintf(dir, sizeof dir, "/tmp/vd-delta.XXXXXX");
        cr_assert(mkdtemp(dir));
        sh("mkdir %s/t && head -c 10000 /dev/urandom > %s/t/small && head -c 10000 /dev/urandom > %s/t/other && "
           "printf tiny > %s/t/tiny",
           dir, dir, dir, dir);
        sh("python3 -c \"import os\nf=open('%s/t/sparse','wb')\nfor i in range(20):\n  f.seek(i*65536); "
           "f.write(os.urandom(4096))\"",
           dir);
        sh("mke2fs -q -F -t ext4 -b 4096 %s%s -d %s/t %s/img 64M >/dev/null 2>&1", features ? "-O " : "",
           features ? features : "", dir, dir);
}

static void cleanup(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)!system(cmd);
}

static unsigned long long ino_of(const char *name) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "debugfs -R 'stat /%s' %s/img 2>/dev/null", name, dir);
        return num_after(cmd, "Inode: ");
}

static unsigned long long block_of(const char *name, const char *needle) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "debugfs -R 'stat /%s' %s/img 2>/dev/null", name, dir);
        return num_after(cmd, needle);
}

static vd_delta *delta_of(const char *text) {
        vd_delta *d = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_delta_parse(text, strlen(text), &d, &err), 0, "%s", err.msg);
        return d;
}

/* the test image, read-only, and its size */
static int open_img(uint64_t *size) {
        char p[128];
        snprintf(p, sizeof p, "%s/img", dir);
        int fd = open(p, O_RDONLY);
        cr_assert(fd >= 0);
        struct stat st;
        fstat(fd, &st);
        *size = (uint64_t)st.st_size;
        return fd;
}

/* check ino (vd_delta_prove_image or vd_delta_same_image) with the given
 * changed ranges: 1 proved, else 0 and why */
static int check(const char *ranges, unsigned long long ino, int *why,
                 int (*fn)(vd_delta *, vd_delta_reader, void *, uint64_t, uint64_t, int *)) {
        char text[4096];
        snprintf(text, sizeof text, "vmdrift-delta 1\n%s", ranges);
        vd_delta *d = delta_of(text);
        uint64_t size;
        int fd = open_img(&size);
        *why = -1;
        int r = fn(d, file_rd, &fd, size, ino, why);
        close(fd);
        vd_delta_free(d);
        return r;
}

static int prove(const char *ranges, unsigned long long ino, int *why) {
        return check(ranges, ino, why, vd_delta_prove_image);
}

Test(delta, instructions_parse_merge_and_answer_intersections) {
        vd_delta *d = delta_of("vmdrift-delta 1\n"
                               "range 0 8192 4096\n"
                               "range 0 4096 4096\n" /* adjacent: merged */
                               "range 0 100000 10\n"
                               "range 1 0 512\n"
                               "geometry 0:1048576 ext4 bs=4096\n");
        cr_assert_eq(vd_delta_n_ranges(d), 3); /* [4096,12288) [100000,100010) disk 1 [0,512) */
        cr_assert(vd_delta_changed(d, 0, 4096, 1));
        cr_assert(vd_delta_changed(d, 0, 0, 4097));
        cr_assert_not(vd_delta_changed(d, 0, 0, 4096)); /* ends where the range begins */
        cr_assert(vd_delta_changed(d, 0, 12287, 1));
        cr_assert_not(vd_delta_changed(d, 0, 12288, 80000));
        cr_assert(vd_delta_changed(d, 0, 12288, 87713));
        cr_assert_not(vd_delta_changed(d, 0, 100010, 1));
        cr_assert(vd_delta_changed(d, 1, 511, 1));
        cr_assert_not(vd_delta_changed(d, 2, 0, 1 << 20)); /* another disk */
        cr_assert_not(vd_delta_changed(d, 0, 5000, 0));    /* nothing */
        cr_assert(vd_delta_changed(d, 0, UINT64_MAX - 5, 100) == false);
        vd_delta_free(d);

        const char *bad[][2] = {
            {"", "empty"},
            {"vmdrift-delta 2\n", "line 1"},
            {"vmdrift-delta 1\nrange 0 1\n", "line 2: expected 'range DISK OFFSET LENGTH'"},
            {"vmdrift-delta 1\nrange 0 1 0\n", "line 2"},
            {"vmdrift-delta 1\nrange 0 18446744073709551615 2\n", "line 2"},
            {"vmdrift-delta 1\nrange 999 0 1\n", "line 2"},
            {"vmdrift-delta 1\n\nrange 0 0 1\n", "line 2: expected 'range', 'geometry' or 'mounts'"},
            {"vmdrift-delta 1\nmounts a\nmounts b\n", "line 3: expected one 'mounts VALUE'"},
            {"vmdrift-delta 1\nrange 0 0 1\ngeometry nokeyvalue\n", "line 3: expected 'geometry KEY VALUE'"},
            {"vmdrift-delta 1\nrm -rf /\n", "line 2"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                vd_err err = VD_ERR_INIT;
                vd_delta *x = NULL;
                cr_assert_eq(vd_delta_parse(bad[i][0], strlen(bad[i][0]), &x, &err), VD_E_INPUT, "%zu", i);
                cr_assert_null(x);
                cr_assert(strstr(err.msg, bad[i][1]), "%zu: %s", i, err.msg);
        }
        /* the mounts recorded at capture, and which paths are mount points */
        vd_delta *m = delta_of("vmdrift-delta 1\nmounts 0:1048576,ext4,sb=00ff,/ 0:68157440,ext4,sb=0a0b,/a\\040b,c "
                               "1:0,vfat,-,/boot/efi\n");
        cr_assert_str_eq(vd_delta_expected_mounts(m),
                         "0:1048576,ext4,sb=00ff,/ 0:68157440,ext4,sb=0a0b,/a\\040b,c 1:0,vfat,-,/boot/efi");
        cr_assert(vd_delta_is_mount(m, "/", 1));
        cr_assert(vd_delta_is_mount(m, "/a b,c", 6));
        cr_assert(vd_delta_is_mount(m, "/boot/efi", 9));
        cr_assert_not(vd_delta_is_mount(m, "/boot", 5));
        cr_assert_not(vd_delta_is_mount(m, "/a\\040b,c", 9));
        vd_delta_free(m);
        cr_assert_null(vd_delta_expected_mounts(NULL));
        char nul[] = "vmdrift-delta 1\nrange 0 0 1\n";
        nul[5] = '\0';
        vd_err err = VD_ERR_INIT;
        vd_delta *x = NULL;
        cr_assert_eq(vd_delta_parse(nul, sizeof nul - 1, &x, &err), VD_E_INPUT);
}

static int collect(void *ud, uint64_t start, uint64_t len) {
        char *out = ud;
        snprintf(out + strlen(out), 256, "%llu+%llu ", (unsigned long long)start, (unsigned long long)len);
        return 0;
}

Test(delta, qemu_img_map_answers_give_what_the_layers_above_the_template_hold) {
        /* depth 0: our overlay (the appliance's writes), 1: the clone, 2: the template */
        const char *j =
            "[{ \"start\": 0, \"length\": 65536, \"depth\": 2, \"present\": true, \"zero\": false, \"data\": true},\n"
            "{ \"start\": 65536, \"length\": 65536, \"depth\": 1, \"present\": true, \"zero\": false, \"data\": "
            "true},\n"
            "{ \"start\": 131072, \"length\": 65536, \"depth\": 0, \"present\": true, \"zero\": true, \"data\": "
            "false},\n"
            "{ \"start\": 196608, \"length\": 65536, \"depth\": 3, \"present\": false, \"zero\": true, \"data\": "
            "false}]";
        char out[1024] = "";
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_image_map_parse(j, strlen(j), 2, UINT64_MAX, collect, out, &err), 0, "%s", err.msg);
        cr_assert_str_eq(out, "65536+65536 131072+65536 ");
        out[0] = '\0';
        cr_assert_eq(vd_image_map_parse(j, strlen(j), 1, UINT64_MAX, collect, out, &err), 0);
        cr_assert_str_eq(out, "131072+65536 ");
        /* out of order, overlapping, past the size, missing members: refused */
        const char *bad[] = {
            "[{\"start\": 65536, \"length\": 1, \"depth\": 0, \"present\": true}]",
            "[{\"start\": 0, \"length\": 10, \"depth\": 0, \"present\": true},{\"start\": 5, \"length\": 10, "
            "\"depth\": 0, \"present\": true}]",
            "[{\"start\": 0, \"length\": 10, \"depth\": 0}]",
            "[{\"start\": 0, \"length\": 0, \"depth\": 0, \"present\": true}]",
            "[{\"start\": 0, \"length\": -1, \"depth\": 0, \"present\": true}]",
            "{\"start\": 0}",
            "[{\"start\": 0, \"length\": 100, \"depth\": 0, \"present\": true}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                vd_err e = VD_ERR_INIT;
                out[0] = '\0';
                cr_assert_lt(vd_image_map_parse(bad[i], strlen(bad[i]), 2, 50, collect, out, &e), 0, "%zu", i);
                cr_assert(e.msg[0]);
        }
}

Test(delta, geometry_is_read_from_the_superblock_and_group_descriptors, .fini = cleanup) {
        make_image(NULL);
        char p[128], value[256];
        snprintf(p, sizeof p, "%s/img", dir);
        int fd = open(p, O_RDONLY);
        struct stat st;
        fstat(fd, &st);
        cr_assert_eq(vd_delta_geometry_of(file_rd, &fd, (uint64_t)st.st_size, value, sizeof value), 0);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "dumpe2fs -h %s 2>/dev/null", p);
        char want[128];
        snprintf(want, sizeof want, "ext4 bs=%llu ipg=%llu isz=%llu ", num_after(cmd, "Block size:"),
                 num_after(cmd, "Inodes per group:"), num_after(cmd, "Inode size:"));
        cr_assert(strncmp(value, want, strlen(want)) == 0, "%s vs %s", value, want);
        /* the same image, the same answer; another mke2fs, other tables */
        char again[256];
        cr_assert_eq(vd_delta_geometry_of(file_rd, &fd, (uint64_t)st.st_size, again, sizeof again), 0);
        cr_assert_str_eq(value, again);
        close(fd);
        sh("mke2fs -q -F -t ext4 -b 4096 -G 4 %s/other.img 64M >/dev/null 2>&1", dir);
        snprintf(p, sizeof p, "%s/other.img", dir);
        fd = open(p, O_RDONLY);
        cr_assert_eq(vd_delta_geometry_of(file_rd, &fd, 64u << 20, again, sizeof again), 0);
        cr_assert_str_neq(value, again);
        close(fd);
        /* not ext4 */
        sh("head -c 1048576 /dev/zero > %s/zero.img", dir);
        snprintf(p, sizeof p, "%s/zero.img", dir);
        fd = open(p, O_RDONLY);
        cr_assert_eq(vd_delta_geometry_of(file_rd, &fd, 1u << 20, again, sizeof again), -1);
        close(fd);
}

Test(delta, a_file_is_proved_only_when_its_inode_tree_and_data_are_untouched, .fini = cleanup) {
        make_image(NULL);
        unsigned long long small = ino_of("small"), sparse = ino_of("sparse"), other = ino_of("other");
        unsigned long long sdata = block_of("small", "(0-2):"), etb = block_of("sparse", "(ETB0):"),
                           pdata = block_of("sparse", "(128):"), odata = block_of("other", "(0-2):");
        char cmd[256];
        snprintf(cmd, sizeof cmd, "dumpe2fs %s/img 2>/dev/null", dir);
        unsigned long long itable = num_after(cmd, "Inode table at ");
        int why;
        char r[512];

        cr_assert_eq(prove("", small, &why), 1);
        cr_assert_eq(prove("", sparse, &why), 1);
        /* its data */
        snprintf(r, sizeof r, "range 0 %llu 4096\n", sdata * 4096 + 4096);
        cr_assert_eq(prove(r, small, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        /* one byte of its inode */
        snprintf(r, sizeof r, "range 0 %llu 1\n", itable * 4096 + (small - 1) * 256 + 200);
        cr_assert_eq(prove(r, small, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        /* the inode next to it, another file's data, another disk: proved */
        snprintf(r, sizeof r, "range 0 %llu 256\nrange 0 %llu 4096\nrange 1 %llu 4096\n", itable * 4096 + small * 256,
                 odata * 4096, sdata * 4096);
        cr_assert_eq(prove(r, small, &why), 1, "why %d", why);
        /* the extent-tree block under the inode, and data it names */
        snprintf(r, sizeof r, "range 0 %llu 4096\n", etb * 4096);
        cr_assert_eq(prove(r, sparse, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        snprintf(r, sizeof r, "range 0 %llu 1\n", pdata * 4096 + 4095);
        cr_assert_eq(prove(r, sparse, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        /* the hole between its extents is nobody's */
        snprintf(r, sizeof r, "range 0 %llu 4096\n", odata * 4096);
        cr_assert_eq(prove(r, sparse, &why), 1);
        /* a directory is not a regular file; inode 0 or past the last: malformed */
        cr_assert_eq(prove("", 2, &why), 0);
        cr_assert_eq(why, VD_DW_LAYOUT);
        cr_assert_eq(prove("", 0, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
        cr_assert_eq(prove("", 1ull << 40, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
        (void)other;
}

/* Overwrite bytes of the image at off. */
static void poke(unsigned long long off, const void *bytes, size_t n) {
        char p[128];
        snprintf(p, sizeof p, "%s/img", dir);
        int fd = open(p, O_WRONLY);
        cr_assert(fd >= 0);
        cr_assert_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
        close(fd);
}

Test(delta, a_hostile_inode_or_extent_tree_is_not_proved_and_does_not_crash, .fini = cleanup) {
        make_image(NULL);
        unsigned long long small = ino_of("small"), sparse = ino_of("sparse"), etb = block_of("sparse", "(ETB0):");
        char cmd[256];
        snprintf(cmd, sizeof cmd, "dumpe2fs %s/img 2>/dev/null", dir);
        unsigned long long itable = num_after(cmd, "Inode table at ");
        int why;
        /* a bad magic in the inode's extent header */
        poke(itable * 4096 + (small - 1) * 256 + 0x28, "\x00\x00", 2);
        cr_assert_eq(prove("", small, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
        /* the tree block: more entries than fit */
        poke(etb * 4096 + 2, "\xff\xff", 2);
        cr_assert_eq(prove("", sparse, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
        /* an index pointing past the file system, and one pointing at itself */
        unsigned char idx[6] = {0xff, 0xff, 0xff, 0x7f, 0, 0};
        poke(itable * 4096 + (sparse - 1) * 256 + 0x28 + 12 + 4, idx, 6);
        cr_assert_eq(prove("", sparse, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
        /* depth claimed 5 with a tree block that says depth 0 */
        poke(itable * 4096 + (sparse - 1) * 256 + 0x28 + 6, "\x05\x00", 2);
        cr_assert_eq(prove("", sparse, &why), 0);
        cr_assert_eq(why, VD_DW_MALFORMED);
}

Test(delta, inline_data_is_not_proved, .fini = cleanup) {
        make_image("inline_data");
        int why;
        cr_assert_eq(prove("", ino_of("tiny"), &why), 0);
        cr_assert_eq(why, VD_DW_LAYOUT);
        cr_assert_eq(prove("", ino_of("small"), &why), 1);
}

/* A shared appliance finds each guest's file systems by the UUID in their
 * first blocks: as blkid reads it, for ext4, FAT16 and FAT32; nothing for
 * anything else or a short read. */
/* vd_delta_same for ino with the given changed ranges: 1 same, else 0 and why */
static int same(const char *ranges, unsigned long long ino, int *why) {
        return check(ranges, ino, why, vd_delta_same_image);
}

static char *range_of_block(unsigned long long blk) {
        static char r[96];
        snprintf(r, sizeof r, "range 0 %llu 4096\n", blk * 4096);
        return r;
}

/* The candidate-only walk takes an entry from the baseline when its inode,
 * of any type, is untouched with all it names: a directory's blocks (its
 * names), a slow symlink's block, an external xattr block. */
Test(delta, any_inode_is_the_templates_only_when_its_slot_and_all_it_names_are_untouched, .fini = cleanup) {
        make_image(NULL);
        /* a directory of its own, a fast and a slow symlink, a fifo, and a
         * file whose large xattr lives in a block of its own */
        sh("debugfs -w -R 'mkdir /d' %s/img >/dev/null 2>&1 && debugfs -w -R 'symlink /fast small' %s/img >/dev/null 2>&1 "
           "&& debugfs -w -R 'symlink /slow %0200d' %s/img >/dev/null 2>&1 && "
           "debugfs -w -R 'mknod fifo p' %s/img >/dev/null 2>&1 && head -c 3000 /dev/zero | tr '\\0' x > %s/val && "
           "debugfs -w -R 'ea_set -f %s/val /other user.big' %s/img >/dev/null 2>&1",
           dir, dir, 0, dir, dir, dir, dir, dir);
        int why;
        unsigned long long root = 2, d = ino_of("d"), fast = ino_of("fast"), slow = ino_of("slow"),
                           fifo = ino_of("fifo"), other = ino_of("other"), small = ino_of("small");
        /* nothing changed: every inode is the template's */
        unsigned long long all[] = {root, d, fast, slow, fifo, other, small};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
                cr_assert_eq(same("", all[i], &why), 1, "inode %llu: %d", all[i], why);
        /* a directory's block: the directory (its names), not what it names */
        unsigned long long dblk = block_of("d", "(0):");
        cr_assert_eq(same(range_of_block(dblk), d, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        cr_assert_eq(same(range_of_block(dblk), small, &why), 1);
        /* the root directory's block */
        unsigned long long rblk = block_of("", "(0):");
        cr_assert_eq(same(range_of_block(rblk), root, &why), 0);
        cr_assert_eq(same(range_of_block(rblk), d, &why), 1);
        /* the slow symlink's target block; the fast one has none */
        unsigned long long sblk = block_of("slow", "(0):");
        cr_assert_eq(same(range_of_block(sblk), slow, &why), 0);
        cr_assert_eq(same(range_of_block(sblk), fast, &why), 1);
        /* the external xattr block */
        unsigned long long xblk = block_of("other", "File ACL: ");
        cr_assert_gt(xblk, 0);
        cr_assert_eq(same(range_of_block(xblk), other, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        /* (the content proof, for a file visited for real, reads xattrs
         * through the kernel and so does not need the xattr block) */
        cr_assert_eq(prove(range_of_block(xblk), other, &why), 1);
        /* an inode's own slot: that inode only, not the others in its block */
        char cmd[256], slot[96];
        snprintf(cmd, sizeof cmd, "dumpe2fs %s/img 2>/dev/null", dir);
        unsigned long long itable = num_after(cmd, "Inode table at ");
        snprintf(slot, sizeof slot, "range 0 %llu 256\n", itable * 4096 + (fifo - 1) * 256);
        cr_assert_eq(same(slot, fifo, &why), 0);
        cr_assert_eq(why, VD_DW_CHANGED);
        cr_assert_eq(same(slot, small, &why), 1);
        cr_assert_eq(same(slot, other, &why), 1);
}

/* The record of an inode's blocks (a capture's) on the image, or NULL. */
static unsigned char *record_of(unsigned long long ino, size_t *len) {
        vd_delta *d = delta_of("vmdrift-delta 1\n");
        uint64_t size;
        int fd = open_img(&size);
        unsigned char *rec = NULL;
        int r = vd_delta_record_image(d, file_rd, &fd, size, ino, &rec, len);
        cr_assert(r == 0 || r == 1);
        cr_assert_eq(r == 1, rec != NULL);
        close(fd);
        vd_delta_free(d);
        return rec;
}

/* vd_delta_same_recorded on the image with the given changed ranges. */
static int same_rec(const char *ranges, unsigned long long ino, const unsigned char *rec, size_t len) {
        char text[4096];
        snprintf(text, sizeof text, "vmdrift-delta 1\n%s", ranges);
        vd_delta *d = delta_of(text);
        uint64_t size;
        int fd = open_img(&size);
        int r = vd_delta_same_recorded_image(d, file_rd, &fd, size, ino, rec, len);
        close(fd);
        vd_delta_free(d);
        return r;
}

static void rec_blocks(const unsigned char *p, size_t len, unsigned long long *out, size_t *n, size_t cap) {
        /* decode the LEB128 record (vd_delta.h) to the blocks it names */
        const unsigned char *end = p + len;
        unsigned long long v[2048];
        size_t nv = 0;
        while (p < end && nv < 2048) {
                unsigned long long x = 0;
                for (unsigned sh = 0;; sh += 7) {
                        x |= (unsigned long long)(*p & 0x7f) << sh;
                        if (!(*p++ & 0x80))
                                break;
                }
                v[nv++] = x;
        }
        unsigned long long at = 0;
        for (size_t i = 0; i < v[0]; i++) {
                at += v[1 + 2 * i];
                for (unsigned long long b = at; b < at + v[2 + 2 * i] && *n < cap; b++)
                        out[(*n)++] = b;
                at += v[2 + 2 * i];
        }
}

/* A delta scan answers from a capture's record of an inode's blocks instead
 * of reading the inode: the same answer as reading it, for every inode of a
 * real image (files, a file whose extents sit under a tree block, the root
 * and another directory, a fast and a slow symlink, a fifo, an external
 * xattr block), whichever one block,
 * inode-table block or inode slot changed. */
Test(delta, the_records_answer_as_reading_the_inode_does_for_every_change, .fini = cleanup) {
        make_image(NULL);
        sh("debugfs -w -R 'mkdir /d' %s/img >/dev/null 2>&1 && debugfs -w -R 'symlink /fast small' %s/img >/dev/null 2>&1 "
           "&& debugfs -w -R 'symlink /slow %0200d' %s/img >/dev/null 2>&1 && "
           "debugfs -w -R 'mknod fifo p' %s/img >/dev/null 2>&1 && head -c 3000 /dev/zero | tr '\\0' x > %s/val && "
           "debugfs -w -R 'ea_set -f %s/val /other user.big' %s/img >/dev/null 2>&1",
           dir, dir, 0, dir, dir, dir, dir, dir);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "dumpe2fs %s/img 2>/dev/null", dir);
        unsigned long long itable = num_after(cmd, "Inode table at ");
        unsigned long long last = ino_of("other") > ino_of("fifo") ? ino_of("other") : ino_of("fifo");
        cr_assert_lt(last, 64);
        unsigned char *rec[64] = {0};
        size_t rlen[64] = {0};
        static unsigned long long blocks[8192];
        size_t nb = 0;
        int why;
        for (unsigned long long i = 1; i <= last; i++) {
                rec[i] = record_of(i, &rlen[i]);
                /* a record exactly where reading, nothing changed, proves the inode */
                cr_assert_eq(rec[i] != NULL, same("", i, &why) == 1, "inode %llu", i);
                if (rec[i])
                        rec_blocks(rec[i], rlen[i], blocks, &nb, sizeof blocks / sizeof *blocks);
        }
        cr_assert(rec[2] && rec[ino_of("d")] && rec[ino_of("sparse")] && rec[ino_of("slow")] && rec[ino_of("fast")] &&
                  rec[ino_of("fifo")] && rec[ino_of("other")]);
        /* the changes: every block a record names, the inode-table blocks
         * holding these inodes, each inode's slot, and nothing */
        static char changes[8192 + 128][96];
        size_t nc = 0;
        snprintf(changes[nc++], 96, "%s", "");
        for (size_t k = 0; k < nb && nc < 8192; k++)
                snprintf(changes[nc++], 96, "range 0 %llu 4096\n", blocks[k] * 4096);
        for (unsigned long long b = 0; b * 16 < last; b++)
                snprintf(changes[nc++], 96, "range 0 %llu 4096\n", (itable + b) * 4096);
        for (unsigned long long i = 1; i <= last; i++)
                snprintf(changes[nc++], 96, "range 0 %llu 256\n", itable * 4096 + (i - 1) * 256);
        size_t compared = 0, differ = 0;
        for (size_t c = 0; c < nc; c++)
                for (unsigned long long i = 1; i <= last; i++) {
                        if (!rec[i])
                                continue;
                        int read = same(changes[c], i, &why), fromrec = same_rec(changes[c], i, rec[i], rlen[i]);
                        cr_assert_neq(fromrec, -1, "inode %llu, change '%s': the record cannot say", i, changes[c]);
                        cr_assert_eq(fromrec, read, "inode %llu, change '%s': record %d, reading %d", i, changes[c],
                                     fromrec, read);
                        compared++;
                        differ += read == 0;
                }
        cr_assert_gt(compared, 500);
        cr_assert_gt(differ, 50, "changes that did hit an inode: %zu", differ);
        /* a record that is not one: the caller reads the inode instead */
        unsigned long long sp = ino_of("sparse");
        cr_assert_eq(same_rec("", sp, rec[sp], rlen[sp] - 1), -1);
        cr_assert_eq(same_rec("", sp, (const unsigned char *)"\x05\x01", 2), -1);
        cr_assert_eq(same_rec("", sp, (const unsigned char *)"\x01\xff\xff\xff\xff\x0f\x01", 7), -1,
                     "a range past the file system");
        cr_assert_eq(same_rec("", sp, (const unsigned char *)"\x01\x00\x01", 3), 1, "well formed: block 0");
        cr_assert(!vd_delta_rec_valid((const unsigned char *)"\x01\x00\x00", 3), "a range of no blocks");
        cr_assert(!vd_delta_rec_valid((const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10));
        cr_assert(!vd_delta_rec_valid(NULL, 0));
        for (unsigned long long i = 1; i <= last; i++)
                free(rec[i]);
}

/* A file in more pieces than a record holds gets none, and is read. */
Test(delta, a_file_of_too_many_pieces_has_no_record_and_is_read, .fini = cleanup) {
        snprintf(dir, sizeof dir, "/tmp/vd-delta.XXXXXX");
        cr_assert(mkdtemp(dir));
        /* 1,200 one-block files in a row, every other one removed, then a
         * file of 600 blocks: the allocator fills the holes */
        sh("mkdir %s/t && python3 -c \"import os\nfor i in range(1000, 2200): open('%s/t/f%%d' %% i, 'wb')"
           ".write(os.urandom(4096))\" && mke2fs -q -F -t ext4 -b 4096 -d %s/t %s/img 64M >/dev/null && "
           "for i in $(seq 1000 2 2199); do echo rm f$i; done > %s/cmds && debugfs -w -f %s/cmds %s/img >/dev/null 2>&1 && "
           "head -c 2457600 /dev/urandom > %s/frag && debugfs -w -R 'write %s/frag frag' %s/img >/dev/null 2>&1",
           dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
        unsigned long long frag = ino_of("frag"), f = ino_of("f1001");
        size_t len = 0;
        unsigned char *rec = record_of(frag, &len);
        int why;
        cr_assert(!rec, "a record of %zu bytes for 600 pieces", len);
        cr_assert_eq(same("", frag, &why), 1, "reading proves it");
        rec = record_of(f, &len);
        cr_assert(rec);
        cr_assert_eq(same_rec("", f, rec, len), 1);
        free(rec);
}

Test(delta, file_system_uuids_from_the_first_blocks_are_blkid_s, .fini = cleanup) {
        snprintf(dir, sizeof dir, "/tmp/vd-delta.XXXXXX");
        cr_assert(mkdtemp(dir));
        sh("mke2fs -q -F -t ext4 -U 0fe1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b %s/ext4.img 8M >/dev/null 2>&1 && "
           "mkfs.vfat -F 16 -i 1a2b3c4d -C %s/fat16.img 16384 >/dev/null && "
           "mkfs.vfat -F 32 -i 0badcafe -C %s/fat32.img 40000 >/dev/null && head -c 4096 /dev/urandom >%s/noise.img",
           dir, dir, dir, dir);
        const char *imgs[] = {"ext4", "fat16", "fat32", "noise"};
        for (size_t i = 0; i < 4; i++) {
                char path[600], cmd[700], want[64] = "";
                snprintf(path, sizeof path, "%s/%s.img", dir, imgs[i]);
                snprintf(cmd, sizeof cmd, "blkid -s UUID -o value %s", path);
                FILE *p = popen(cmd, "r");
                cr_assert(p);
                if (!fgets(want, sizeof want, p))
                        want[0] = '\0';
                pclose(p);
                want[strcspn(want, "\n")] = '\0';
                unsigned char b[2048];
                int fd = open(path, O_RDONLY);
                cr_assert(fd >= 0 && read(fd, b, sizeof b) == (ssize_t)sizeof b);
                close(fd);
                char got[40];
                vd_fs_uuid(b, sizeof b, got);
                cr_assert_str_eq(got, want, "%s", imgs[i]);
                cr_assert(i == 3 || got[0], "%s: blkid found no UUID", imgs[i]);
                vd_fs_uuid(b, 400, got);
                cr_assert_str_eq(got, "", "a short read is no file system");
        }
}
