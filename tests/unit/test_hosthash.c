/* Host-side hashing without an appliance: the real qemu-nbd exports real
 * qcow2 images whose bytes the test wrote itself, and extents chosen by the
 * test (data, holes, unwritten ranges, several disks) must hash exactly as
 * the bytes they describe. Extents that lie outside a disk, or a read budget
 * spent, leave the file to the caller, never a wrong hash. Also: the
 * manifest carries extents through and rejects malformed ones.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "collect/vd_extents.h"
#include "collect/vd_hosthash.h"
#include "collect/vd_manifest.h"
#include "collect/vd_source.h"

static char *dir;
static void setup(void) { dir = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(hosthash, .init = setup, .fini = teardown);

#define DISK (4u << 20)

/* A raw disk of pseudo-random bytes, converted to qcow2 (which is what the
 * appliance's overlays are). */
static char *make_disk(const char *name, unsigned seed, unsigned char **bytes) {
        unsigned char *b = malloc(DISK);
        cr_assert_not_null(b);
        srand(seed);
        for (size_t i = 0; i < DISK; i++)
                b[i] = (unsigned char)rand();
        char raw[64];
        snprintf(raw, sizeof raw, "%s.raw", name);
        th_writen(dir, raw, b, DISK);
        char *rawp = th_join(dir, raw), *q = th_join(dir, name);
        const char *argv[] = {"qemu-img", "convert", "-f", "raw", "-O", "qcow2", rawp, q, NULL};
        th_run r = th_exec(argv);
        cr_assert_eq(r.status, 0, "qemu-img convert: %s", r.err);
        th_run_free(&r);
        free(rawp);
        *bytes = b;
        return q;
}

static vd_entry *reg(const char *path, uint64_t size, const vd_extent *x, uint32_t n) {
        vd_entry *e = vd_entry_new();
        cr_assert_not_null(e);
        vd_entry_set_path(e, path, strlen(path));
        e->type = VD_T_REG;
        e->size = size;
        e->extents = malloc(sizeof *e->extents + n * sizeof *x);
        e->extents->n = n;
        memcpy(e->extents->v, x, n * sizeof *x);
        return e;
}

/* The file the extents describe, from the disks' bytes. */
static void expect_hash(const vd_scan_opts *o, unsigned char *const *disks, const vd_entry *e, const vd_extent *x,
                        uint32_t n, unsigned char out[VD_HASH_MAX]) {
        unsigned char *file = calloc(1, e->size + 1);
        for (uint32_t k = 0; k < n; k++)
                if (!(x[k].flags & VD_EXTENT_ZERO))
                        memcpy(file + x[k].logical, disks[x[k].disk] + x[k].physical, x[k].length);
        vd_hasher *h = vd_hasher_new(o->hash_algo, o->seed);
        vd_hasher_update(h, file, e->size);
        vd_hasher_final(h, out);
        vd_hasher_free(h);
        free(file);
}

Test(hosthash, extents_hash_as_the_bytes_they_name) {
        unsigned char *b0, *b1;
        char *d0 = make_disk("d0.qcow2", 1, &b0), *d1 = make_disk("d1.qcow2", 2, &b1);
        unsigned char *disks[2] = {b0, b1};
        const char *paths[] = {d0, d1}, *fmts[] = {"qcow2", "qcow2"};
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.hash_algo = VD_HASH_SHA256;
        for (int algo = 0; algo < 2; algo++) {
                if (algo) {
                        o.hash_algo = VD_HASH_XXH3;
                        memset(o.seed, 7, sizeof o.seed);
                }
                vd_hosthash *hh = NULL;
                vd_err err = VD_ERR_INIT;
                cr_assert_eq(vd_hosthash_open(paths, fmts, 2, 2, NULL, &hh, &err), 0, "%s", err.msg);
                vd_scan s;
                vd_scan_init(&s);
                /* a: data, a hole, an unwritten range, data on the other disk, a hole at the end */
                vd_extent a[] = {{0, 4096, 8192, 0, 0},
                                 {16384, 0, 4096, 0, VD_EXTENT_ZERO},
                                 {20480, 100000, 5000, 1, 0}};
                /* b: one large extent read in several chunks (over 4 MiB would not fit a disk, so 3 MiB) */
                vd_extent bx[] = {{0, 512, 3u << 20, 1, 0}};
                /* c: nothing allocated at all (a sparse file) */
                vd_extent_map *none = malloc(sizeof *none);
                none->n = 0;
                vd_entry *ea = reg("/a", 30000, a, 3), *eb = reg("/b", 3u << 20, bx, 1), *ec = vd_entry_new();
                vd_entry_set_path(ec, "/c", 2);
                ec->type = VD_T_REG;
                ec->size = 12345;
                ec->extents = none;
                vd_entries_push(&s.entries, ea);
                vd_entries_push(&s.entries, eb);
                vd_entries_push(&s.entries, ec);
                vd_entry *link = reg("/a-link", 30000, a, 3); /* a hard link: the same blocks, read once */
                vd_entries_push(&s.entries, link);
                size_t *failed = NULL, nf = 9;
                cr_assert_eq(vd_hosthash_run(hh, &o, &s, &failed, &nf, &err), 0, "%s", err.msg);
                cr_assert_eq(nf, 0);
                unsigned char want[VD_HASH_MAX];
                expect_hash(&o, disks, ea, a, 3, want);
                cr_assert_eq(ea->hash_len, vd_hash_algo_len(o.hash_algo));
                cr_assert_arr_eq(ea->hash, want, ea->hash_len, "file with a hole, unwritten range and two disks");
                expect_hash(&o, disks, eb, bx, 1, want);
                cr_assert_arr_eq(eb->hash, want, eb->hash_len, "one extent larger than a read chunk");
                expect_hash(&o, disks, ec, NULL, 0, want);
                cr_assert_arr_eq(ec->hash, want, ec->hash_len, "all holes");
                cr_assert_null(ea->extents, "extents are dropped once hashed");
                cr_assert_arr_eq(link->hash, ea->hash, ea->hash_len, "the hard link has the same hash");
                cr_assert_eq(s.st.host_files, 4);
                cr_assert_eq(s.st.host_bytes, 8192 + 5000 + (3u << 20), "only allocated data is read, once");
                cr_assert_eq(s.st.files_hashed, 4);
                free(failed);
                vd_scan_release(&s);
                vd_hosthash_close(hh);
        }
        free(b0);
        free(b1);
        free(d0);
        free(d1);
}

Test(hosthash, extents_off_the_disk_are_left_to_the_caller) {
        unsigned char *b0;
        char *d0 = make_disk("d0.qcow2", 3, &b0);
        const char *paths[] = {d0}, *fmts[] = {"qcow2"};
        vd_scan_opts o;
        vd_scan_opts_init(&o);
        o.hash_algo = VD_HASH_SHA256;
        vd_hosthash *hh = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_hosthash_open(paths, fmts, 1, 1, NULL, &hh, &err), 0, "%s", err.msg);
        vd_scan s;
        vd_scan_init(&s);
        vd_extent past[] = {{0, DISK - 100, 4096, 0, 0}}, other[] = {{0, 0, 4096, 5, 0}}, ok[] = {{0, 0, 4096, 0, 0}};
        vd_entries_push(&s.entries, reg("/past-the-end", 4096, past, 1));
        vd_entries_push(&s.entries, reg("/no-such-disk", 4096, other, 1));
        vd_entries_push(&s.entries, reg("/fine", 4096, ok, 1));
        /* (almost) the whole disk named again and again, each map a little different (identical maps are
         * read once): more than 4 times the disk's size in all */
        char name[32];
        for (int i = 0; i < 6; i++) {
                vd_extent whole[] = {{0, 0, DISK - 4096 * (i + 1), 0, 0}};
                snprintf(name, sizeof name, "/again%d", i);
                vd_entries_push(&s.entries, reg(name, DISK, whole, 1));
        }
        size_t *failed = NULL, nf = 0;
        cr_assert_eq(vd_hosthash_run(hh, &o, &s, &failed, &nf, &err), 0, "%s", err.msg);
        /* budget 16 MiB: /fine and four of the six fit */
        cr_assert_eq(nf, 4, "two off the disk, two over the read budget (got %zu)", nf);
        for (size_t i = 0; i < nf; i++) {
                const vd_entry *e = s.entries.v[failed[i]];
                cr_assert_eq(e->hash_len, 0, "%s: no hash invented", e->path);
                cr_assert_not_null(e->extents, "%s: left for the caller", e->path);
        }
        cr_assert_eq(s.st.host_files, 5);
        cr_assert_eq(s.n_warnings, 4);
        cr_assert(strstr(s.warnings[0].msg, "outside the disks") || strstr(s.warnings[0].msg, "read budget"), "%s",
                  s.warnings[0].msg);
        free(failed);
        vd_scan_release(&s);
        vd_hosthash_close(hh);
        free(b0);
        free(d0);
}

Test(hosthash, a_disk_that_cannot_be_exported_is_named) {
        char *missing = th_join(dir, "missing.qcow2");
        const char *paths[] = {missing}, *fmts[] = {"qcow2"};
        vd_hosthash *hh = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_lt(vd_hosthash_open(paths, fmts, 1, 1, NULL, &hh, &err), 0);
        cr_assert_null(hh);
        cr_assert(strstr(err.msg, "missing.qcow2") && strstr(err.msg, "qemu-nbd"), "%s", err.msg);
        free(missing);
}

Test(hosthash, disk_names) {
        cr_assert_eq(vd_disk_index("sda"), 0);
        cr_assert_eq(vd_disk_index("sdb"), 1);
        cr_assert_eq(vd_disk_index("sdz"), 25);
        cr_assert_eq(vd_disk_index("sdaa"), 26);
        cr_assert_eq(vd_disk_index("vdc"), 2);
        cr_assert_eq(vd_disk_index("xvda"), 0);
        cr_assert_eq(vd_disk_index("sda1"), -1);
        cr_assert_eq(vd_disk_index("md0"), -1);
        cr_assert_eq(vd_disk_index("loop0"), -1);
        cr_assert_eq(vd_disk_index("sd"), -1);
        cr_assert_eq(vd_disk_index("dm-0"), -1);
}

/* ---- the manifest carries extents ---- */

static void encode(vd_scan *s, vd_buf *b) {
        vd_buf_init(b, 0);
        cr_assert_eq(vd_manifest_encode(s, b), 0);
}

Test(hosthash, manifest_round_trip_with_extents) {
        vd_scan s, d;
        vd_scan_init(&s);
        vd_scan_init(&d);
        vd_extent x[] = {{0, 1 << 20, 4096, 1, 0}, {8192, 4096, 4000, 0, VD_EXTENT_ZERO}};
        vd_entries_push(&s.entries, reg("/f", 12200, x, 2));
        s.st.files_mapped = 1;
        s.st.hash_fallback[VD_FB_INLINE] = 1;
        vd_buf b;
        encode(&s, &b);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_manifest_decode(b.buf, b.len, &d, &err), 0, "%s", err.msg);
        cr_assert_eq(d.entries.n, 1);
        const vd_extent_map *m = d.entries.v[0]->extents;
        cr_assert_not_null(m);
        cr_assert_eq(m->n, 2);
        cr_assert_arr_eq(m->v, x, sizeof x);
        cr_assert_eq(d.st.files_mapped, 1);
        cr_assert_eq(d.st.hash_fallback[VD_FB_INLINE], 1);
        vd_buf_release(&b);
        vd_scan_release(&s);
        vd_scan_release(&d);
}

/* A capture's records of its inodes' blocks travel in the manifest (to the
 * host at capture, to the walker as the delta scan's reference); one that
 * does not parse is a malformed entry. */
Test(hosthash, manifest_carries_block_records_and_refuses_bad_ones) {
        const struct {
                const char *rec;
                size_t len;
                bool ok;
        } cases[] = {
                {"\x01\x05\x03", 3, true},          /* blocks 5-7 */
                {"\x00", 1, true},                  /* names no block (inline data, a fast symlink) */
                {"\x02\x05\x03\x80\x01\x01", 6, true},
                {"\x01\x05\x00", 3, false},         /* a range of no blocks */
                {"\x01\x05", 2, false},             /* truncated */
                {"\x01\x05\x03\x00", 4, false},     /* trailing bytes */
                {"\x81", 1, false},                 /* an unfinished number */
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                vd_scan s, d;
                vd_scan_init(&s);
                vd_scan_init(&d);
                vd_extent x1[] = {{0, 0, 100, 0, 0}};
                vd_entry *e = reg("/f", 100, x1, 1);
                e->blocks = malloc(cases[i].len);
                memcpy(e->blocks, cases[i].rec, cases[i].len);
                e->blocks_len = cases[i].len;
                vd_entries_push(&s.entries, e);
                vd_entries_push(&s.entries, reg("/g", 100, x1, 1));
                vd_buf b;
                encode(&s, &b);
                vd_err err = VD_ERR_INIT;
                int r = vd_manifest_decode(b.buf, b.len, &d, &err);
                if (cases[i].ok) {
                        cr_assert_eq(r, 0, "case %zu: %s", i, err.msg);
                        cr_assert_eq(d.entries.v[0]->blocks_len, cases[i].len);
                        cr_assert(memcmp(d.entries.v[0]->blocks, cases[i].rec, cases[i].len) == 0);
                        cr_assert_null(d.entries.v[1]->blocks, "no record stays none");
                } else {
                        cr_assert_lt(r, 0, "case %zu accepted", i);
                        cr_assert(strstr(err.msg, "malformed"), "case %zu: %s", i, err.msg);
                }
                vd_buf_release(&b);
                vd_scan_release(&s);
                vd_scan_release(&d);
        }
}

static vd_entry *named(const char *path, int type, const char *uname) {
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, path, strlen(path));
        e->type = (uint8_t)type;
        e->ino = strlen(path);
        e->uname = uname ? strdup(uname) : NULL;
        return e;
}

/* A delta walk's manifest gives what it took from the reference unchanged as
 * runs of indices into it: decoded with that reference, the same entries as
 * the full manifest; an entry that differs from the reference in anything
 * (here its owner's name) travels in full. */
Test(hosthash, a_delta_walks_manifest_points_into_the_reference) {
        vd_entries ref;
        vd_entries_init(&ref);
        const char *paths[] = {"/", "/a", "/a/x", "/a/y", "/b", "/b/z", "/c"};
        for (size_t i = 0; i < 7; i++) {
                vd_entry *e = named(paths[i], i == 0 || i == 1 || i == 4 ? VD_T_DIR : VD_T_REG, "root");
                e->blocks = malloc(1);
                e->blocks[0] = 0;
                e->blocks_len = 1;
                vd_entries_push(&ref, e);
        }
        vd_scan s;
        vd_scan_init(&s);
        for (size_t i = 0; i < 7; i++) {
                vd_entry *e = vd_entry_dup(ref.v[i]);
                free(e->blocks);
                e->blocks = NULL;
                e->blocks_len = 0;
                e->delta_proved = 2;
                if (i == 0) /* the root: visited */
                        e->delta_proved = 0;
                if (i == 5) { /* an owner renamed in the guest's passwd */
                        free(e->uname);
                        e->uname = strdup("alice");
                }
                vd_entries_push(&s.entries, e);
        }
        vd_entries_push(&s.entries, named("/b/new", VD_T_REG, NULL)); /* visited, new */
        vd_entries_sort(&s.entries);
        vd_buf full, slim;
        vd_buf_init(&full, 1 << 20);
        vd_buf_init(&slim, 1 << 20);
        cr_assert_eq(vd_manifest_encode(&s, &full), 0);
        cr_assert_eq(vd_manifest_encode_ref(&s, &ref, &slim), 0);
        cr_assert_lt(slim.len + 4 * 90, full.len, "%zu of %zu bytes: five entries as one run", slim.len, full.len);
        vd_scan d;
        vd_scan_init(&d);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_manifest_decode_ref(slim.buf, slim.len, &ref, &d, &err), 0, "%s", err.msg);
        cr_assert_eq(d.entries.n, s.entries.n);
        for (size_t i = 0; i < d.entries.n; i++) {
                const vd_entry *a = d.entries.v[i], *b = s.entries.v[i];
                cr_assert(vd_entry_equal(a, b), "%s", b->path);
                cr_assert_eq(a->delta_proved, b->delta_proved, "%s", b->path);
                cr_assert_null(a->blocks, "%s: no block record in a scan's entry", b->path);
        }
        vd_scan_release(&d);
        /* without the reference it cannot be read */
        vd_scan_init(&d);
        cr_assert_lt(vd_manifest_decode(slim.buf, slim.len, &d, &err), 0);
        cr_assert(strstr(err.msg, "no reference"), "%s", err.msg);
        vd_scan_release(&d);
        /* a shorter reference than the runs point into */
        vd_entries shorter = ref;
        shorter.n = 3;
        vd_scan_init(&d);
        cr_assert_lt(vd_manifest_decode_ref(slim.buf, slim.len, &shorter, &d, &err), 0);
        cr_assert(strstr(err.msg, "reference run"), "%s", err.msg);
        vd_scan_release(&d);
        vd_buf_release(&full);
        vd_buf_release(&slim);
        vd_scan_release(&s);
        vd_entries_release(&ref);
}

/* Each malformed map, encoded by our own encoder, must be refused. */
Test(hosthash, manifest_rejects_malformed_extents) {
        struct {
                const char *why;
                uint64_t size;
                vd_extent x[2];
                uint32_t n;
                int type;
        } bad[] = {
                {"overlapping", 20000, {{0, 0, 8192, 0, 0}, {4096, 0, 4096, 0, 0}}, 2, VD_T_REG},
                {"out of order", 20000, {{8192, 0, 4096, 0, 0}, {0, 0, 4096, 0, 0}}, 2, VD_T_REG},
                {"past the file's size", 4000, {{0, 0, 4096, 0, 0}}, 1, VD_T_REG},
                {"empty extent", 4096, {{0, 0, 0, 0, 0}}, 1, VD_T_REG},
                {"disk out of range", 4096, {{0, 0, 4096, VD_DISKS_MAX, 0}}, 1, VD_T_REG},
                {"unknown flag", 4096, {{0, 0, 4096, 0, 2}}, 1, VD_T_REG},
                {"physical offset wraps", 4096, {{0, UINT64_MAX - 10, 4096, 0, 0}}, 1, VD_T_REG},
                {"on a directory", 4096, {{0, 0, 4096, 0, 0}}, 1, VD_T_DIR},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                vd_scan s, d;
                vd_scan_init(&s);
                vd_scan_init(&d);
                vd_entry *e = reg("/f", bad[i].size, bad[i].x, bad[i].n);
                e->type = (uint8_t)bad[i].type;
                vd_entries_push(&s.entries, e);
                vd_buf b;
                encode(&s, &b);
                vd_err err = VD_ERR_INIT;
                cr_assert_lt(vd_manifest_decode(b.buf, b.len, &d, &err), 0, "%s accepted", bad[i].why);
                cr_assert(strstr(err.msg, "malformed"), "%s: %s", bad[i].why, err.msg);
                vd_buf_release(&b);
                vd_scan_release(&s);
                vd_scan_release(&d);
        }
}
