/* The qcow2 header read without qemu-img (formats/vd_qcow2.c, used by
 * vd_image_probe) against qemu-img itself: on images qemu-img makes (both
 * versions, relative and absolute backing names, formats, extended L2,
 * zstd, the smallest and largest clusters, an external data file) and on
 * hundreds of hostile mutations of a header, whatever the native reader is
 * certain of is what qemu-img says (VD_QCOW2_SEED=N replays a run). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/vd_imageinfo.h"
#include "formats/vd_qcow2.h"
#include "helpers.h"

static char *dir;

static void setup(void) { dir = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(qcow2, .init = setup, .fini = teardown, .timeout = 300);

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"bash", "-ec", script, dir, NULL});
        cr_assert_eq(r.status, 0, "%s: %s%s", script, r.out, r.err);
        th_run_free(&r);
}

/* qemu-img's own answer: 0 and *out, or -1 (it cannot open the image). */
static int qemu_says(const char *path, vd_image_info *out) {
        th_run r = th_exec((const char *const[]){"qemu-img", "info", "-U", "--output=json", "-f", "qcow2", "--", path,
                                                 NULL});
        vd_err err = VD_ERR_INIT;
        int rc = r.status == 0 && vd_image_info_parse(r.out, strlen(r.out), out, &err) == 0 ? 0 : -1;
        if (rc && r.status == 0)
                cr_log_error("%s: qemu-img info said what vd_image_info_parse refuses: %s", path, err.msg);
        th_run_free(&r);
        return rc;
}

/* The native reader on the file's bytes: 0 certain, 1 not. */
static int native_certain(const char *path) {
        unsigned char *buf = malloc(VD_QCOW2_READ_MAX);
        int fd = open(path, O_RDONLY);
        cr_assert(buf && fd >= 0);
        ssize_t n = pread(fd, buf, VD_QCOW2_READ_MAX, 0);
        close(fd);
        vd_qcow2_hdr h;
        int r = vd_qcow2_header_parse(buf, n > 0 ? (size_t)n : 0, &h);
        vd_qcow2_hdr_release(&h);
        free(buf);
        return r;
}

/* vd_image_probe (native where certain) against qemu-img: the same
 * format, backing file and backing format whenever qemu-img opens it.
 * Returns whether qemu-img opened it. */
static bool agree(const char *path, const char *what) {
        vd_image_info a, q;
        vd_err err = VD_ERR_INIT;
        int ra = vd_image_probe(path, "qcow2", &a, &err);
        bool qok = qemu_says(path, &q) == 0;
        if (qok) {
                cr_assert_eq(ra, 0, "%s: qemu-img opens it, the probe says: %s", what, err.msg);
                if (strcmp(a.format, q.format) || strcmp(a.backing ? a.backing : "", q.backing ? q.backing : "") ||
                    strcmp(a.backing_format, q.backing_format)) {
                        th_run x = th_exec((const char *const[]){"xxd", "-l", "512", path, NULL});
                        cr_assert_fail("%s: read as %s, backing '%s' (%s); qemu-img: %s, backing '%s' (%s)\n%s", what,
                                       a.format, a.backing ? a.backing : "", a.backing_format, q.format,
                                       q.backing ? q.backing : "", q.backing_format, x.out);
                }
                cr_assert_eq(a.n_external, q.n_external, "%s", what);
                vd_image_info_release(&q);
        }
        if (ra == 0)
                vd_image_info_release(&a);
        return qok;
}

Test(qcow2, what_qemu_img_makes_is_read_as_qemu_img_reads_it) {
        sh("cd \"$0\" && qemu-img create -q -f raw base.raw 1M && mkdir -p sub && "
           "qemu-img create -q -f qcow2 -b base.raw -F raw rel.qcow2 && "
           "qemu-img create -q -f qcow2 -o compat=0.10 -b \"$0/base.raw\" -F raw v2.qcow2 && "
           "qemu-img create -q -f qcow2 plain.qcow2 1M && "
           "qemu-img create -q -f qcow2 -o extended_l2=on,compression_type=zstd -b rel.qcow2 -F qcow2 ext.qcow2 && "
           "qemu-img create -q -f qcow2 -o cluster_size=512 -b ../base.raw -F raw sub/small.qcow2 && "
           "qemu-img create -q -f qcow2 -o cluster_size=2M -b base.raw -F raw big.qcow2 && "
           "qemu-img create -q -f raw data.raw 1M && "
           "qemu-img create -q -f qcow2 -o data_file=\"$0/data.raw\",data_file_raw=on data.qcow2 1M");
        const char *certain[] = {"rel.qcow2", "v2.qcow2", "plain.qcow2", "ext.qcow2", "sub/small.qcow2", "big.qcow2"};
        for (size_t i = 0; i < sizeof certain / sizeof *certain; i++) {
                cr_assert_eq(native_certain(th_path(dir, certain[i])), 0, "%s: read natively", certain[i]);
                cr_assert(agree(th_path(dir, certain[i]), certain[i]));
        }
        /* an external data file: qemu-img is asked */
        cr_assert_eq(native_certain(th_path(dir, "data.qcow2")), 1);
        cr_assert(agree(th_path(dir, "data.qcow2"), "data.qcow2"));
        /* a relative image name: the backing file's name is relative to it as qemu combines them */
        cr_assert_eq(chdir(dir), 0);
        cr_assert(agree("sub/small.qcow2", "sub/small.qcow2 (relative)"));
        cr_assert(agree("rel.qcow2", "rel.qcow2 (relative)"));
}

Test(qcow2, hostile_headers_are_read_as_qemu_img_reads_them_or_left_to_it) {
        const char *s = getenv("VD_QCOW2_SEED");
        unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
        cr_log_info("qcow2 seed %u (VD_QCOW2_SEED=%u replays it)", seed, seed);
        sh("cd \"$0\" && qemu-img create -q -f raw base.raw 1M && qemu-img create -q -f raw other.raw 1M && "
           "qemu-img create -q -f qcow2 -b base.raw -F raw a.qcow2 && "
           "qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw b.qcow2");
        /* where a header's meaning lives: the fields, the extensions, the backing name */
        static const unsigned hot[] = {4, 7, 8, 15, 16, 19, 20, 23, 32, 35, 72, 79, 100, 103, 104, 112, 120, 128, 200, 250};
        unsigned rng = seed, certain = 0, opened = 0;
        for (int it = 0; it < 150; it++) {
                const char *src = it % 2 ? "b.qcow2" : "a.qcow2";
                char cmd[256];
                snprintf(cmd, sizeof cmd, "cd \"$0\" && cp %s m.qcow2", src);
                sh(cmd);
                int fd = open(th_path(dir, "m.qcow2"), O_RDWR);
                cr_assert(fd >= 0);
                int flips = 1 + (int)(rand_r(&rng) % 4);
                for (int f = 0; f < flips; f++) {
                        /* near a hot spot, or anywhere in the first 1 KiB */
                        off_t at = rand_r(&rng) % 3 ? (off_t)hot[rand_r(&rng) % (sizeof hot / sizeof *hot)] +
                                                              (off_t)(rand_r(&rng) % 8)
                                                    : (off_t)(rand_r(&rng) % 1024);
                        unsigned char v = (unsigned char)rand_r(&rng);
                        if (rand_r(&rng) % 4 == 0)
                                v = (unsigned char)"\0\1\2\x7f\x80\xff/.:"[rand_r(&rng) % 9];
                        cr_assert_eq(pwrite(fd, &v, 1, at), 1);
                }
                close(fd);
                char what[96];
                snprintf(what, sizeof what, "seed %u, mutation %d of %s", seed, it, src);
                certain += native_certain(th_path(dir, "m.qcow2")) == 0;
                opened += agree(th_path(dir, "m.qcow2"), what);
        }
        cr_log_info("qcow2: %u of 150 mutated headers read natively, %u opened by qemu-img", certain, opened);
        cr_assert_gt(certain, 10, "the native reader took part (seed %u)", seed);
        cr_assert_lt(certain, 150, "and left some to qemu-img (seed %u)", seed);
}
