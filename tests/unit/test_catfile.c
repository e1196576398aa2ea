/* The batch read of configuration files (vmdrift-walker --cat) against the
 * file-by-file read it replaces, on the same tree: same bytes, same codes,
 * never through a symlink. The walker is the real static binary. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "collect/vd_source.h"
#include "formats/vd_catfile.h"

static char *dir;
static void setup(void) { dir = th_mkdtemp(); }
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(catfile, .init = setup, .fini = teardown);

static void read_all(const char *path, char **data, size_t *len) {
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        vd_buf b;
        vd_buf_init(&b, 0);
        char chunk[4096];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
                vd_buf_add(&b, chunk, k);
        fclose(f);
        *data = vd_buf_detach(&b, len);
}

Test(catfile, the_walker_batch_equals_file_by_file_reads) {
        th_write(dir, "tree/etc/ssh/sshd_config", "Port 22\nPermitRootLogin no\n");
        th_write(dir, "tree/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        th_write(dir, "tree/etc/empty", "");
        char big[300];
        memset(big, 'b', sizeof big);
        th_writen(dir, "tree/etc/big", big, sizeof big);
        th_write(dir, "outside", "host secret\n");
        cr_assert_eq(symlink("../../outside", th_path(dir, "tree/etc/link")), 0);
        cr_assert_eq(symlink("/etc", th_path(dir, "tree/etcl")), 0);
        const char *paths[] = {"/etc/ssh/sshd_config", "/etc/passwd", "/etc/empty", "/etc/big",
                               "/etc/link",            "/etcl/passwd", "/etc/missing", "/etc/ssh"};
        size_t n = sizeof paths / sizeof *paths, max = 256;
        vd_buf list;
        vd_buf_init(&list, 0);
        for (size_t i = 0; i < n; i++)
                vd_buf_add(&list, paths[i], strlen(paths[i]) + 1);
        th_writen(dir, "list", list.buf, list.len);
        vd_buf_release(&list);
        char root[600], lp[600], out[600], maxs[16];
        snprintf(root, sizeof root, "%s/tree", dir);
        snprintf(lp, sizeof lp, "%s/list", dir);
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(maxs, sizeof maxs, "%zu", max);
        th_run r = th_exec((const char *const[]){WALKER, "--root", root, "--cat", lp, "--max", maxs, "--out", out, NULL});
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        th_run_free(&r);
        char *data;
        size_t len;
        read_all(out, &data, &len);
        vd_catitem *items;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_catfile_decode(data, len, n, max, &items, &err), 0, "%s", err.msg);
        free(data);

        vd_source *src;
        cr_assert_eq(vd_source_open_dir(root, &src, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < n; i++) {
                vd_buf b;
                vd_buf_init(&b, max + 1);
                vd_err e = VD_ERR_INIT;
                int rc = src->ops->read_file(src, paths[i], max, &b, &e);
                cr_assert_eq(items[i].code, rc < 0 ? rc : 0, "%s: batch %d, file by file %d (%s)", paths[i],
                             items[i].code, rc, e.msg);
                if (rc == 0) {
                        cr_assert_eq(items[i].len, b.len, "%s", paths[i]);
                        cr_assert(b.len == 0 || memcmp(items[i].data, b.buf, b.len) == 0, "%s", paths[i]);
                } else
                        cr_assert_str_eq(items[i].msg, e.msg, "%s", paths[i]);
                vd_buf_release(&b);
        }
        vd_source_close(src);
        cr_assert_eq(items[4].code, VD_E_IO, "a symlink is not followed, even to a real file");
        cr_assert_eq(items[5].code, VD_E_IO, "nor a symlinked directory on the way");
        cr_assert_eq(items[3].code, VD_E_LIMIT, "300 bytes over a 256-byte bound");
        vd_catitems_free(items, n);
}

Test(catfile, encode_then_decode_round_trips) {
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_catfile_begin(&b, 2), 0);
        cr_assert_eq(vd_catfile_add(&b, 0, "", "abc", 3), 0);
        cr_assert_eq(vd_catfile_add(&b, VD_E_IO, "/x: not a regular file", NULL, 0), 0);
        cr_assert_eq(vd_catfile_extra(&b, 0), 0);
        vd_catitem *v;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_catfile_decode(b.buf, b.len, 2, 16, &v, &err), 0, "%s", err.msg);
        cr_assert_eq(v[0].len, 3);
        cr_assert_str_eq(v[0].data, "abc");
        cr_assert_str_eq(v[1].msg, "/x: not a regular file");
        vd_catitems_free(v, 2);
        cr_assert_eq(vd_catfile_decode(b.buf, b.len, 3, 16, &v, &err), VD_E_SOURCE, "another count than asked");
        cr_assert_eq(vd_catfile_decode(b.buf, b.len, 2, 2, &v, &err), VD_E_SOURCE, "data over the bound");
        vd_buf_release(&b);
}

/* After a walk, a pattern asks for the walk's regular files that match it
 * and were not named: a configuration file new since the baseline is read
 * in the same pass. Not a symlink, a directory, or a name with a newline. */
Test(catfile, a_pattern_after_a_walk_reads_the_new_files_that_match) {
        th_write(dir, "tree/etc/cron.d/a", "a\n");
        th_write(dir, "tree/etc/cron.d/b", "b job\n");
        th_write(dir, "tree/etc/cron.d/c", "c job\n");
        th_write(dir, "tree/etc/cron.d/sub/d", "d\n");
        th_write(dir, "tree/etc/cron.d/new\nline", "x\n");
        th_write(dir, "tree/etc/other", "o\n");
        cr_assert_eq(symlink("../other", th_path(dir, "tree/etc/cron.d/l")), 0);
        const char list[] = "/etc/cron.d/a\0*/etc/cron.d/*\0*/etc/cron.d/[bc]\0";
        th_writen(dir, "list", list, sizeof list - 1);
        char root[600], lp[600], out[600], man[600];
        snprintf(root, sizeof root, "%s/tree", dir);
        snprintf(lp, sizeof lp, "%s/list", dir);
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(man, sizeof man, "%s/manifest", dir);
        th_run r = th_exec((const char *const[]){WALKER, "--root", root, "--out", man, "--hash", "sha256", "--cat", lp,
                                                 "--max", "4096", "--cat-out", out, NULL});
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "\ncat 1\n"), "one file named: %s", r.out);
        th_run_free(&r);
        char *data;
        size_t len;
        read_all(out, &data, &len);
        vd_catitem *items, *extra;
        char **xp;
        size_t nx;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_catfile_decode_extra(data, len, 1, 4096, &items, &xp, &extra, &nx, &err), 0, "%s", err.msg);
        cr_assert_str_eq(items[0].data, "a\n");
        cr_assert_eq(nx, 2, "b and c, once each");
        cr_assert_str_eq(xp[0], "/etc/cron.d/b");
        cr_assert_str_eq(extra[0].data, "b job\n");
        cr_assert_str_eq(xp[1], "/etc/cron.d/c");
        cr_assert_str_eq(extra[1].data, "c job\n");
        /* the plain decoder refuses a batch with extras */
        vd_catitem *plain;
        cr_assert_eq(vd_catfile_decode(data, len, 1, 4096, &plain, &err), VD_E_SOURCE);
        free(data);
        vd_catitems_free(items, 1);
        vd_catitems_free(extra, nx);
        for (size_t i = 0; i < nx; i++)
                free(xp[i]);
        free(xp);
        /* an extra path must be absolute */
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_catfile_begin(&b, 0);
        vd_catfile_extra(&b, 1);
        vd_catfile_add_extra(&b, "etc/x", 0, "", "x", 1);
        cr_assert_eq(vd_catfile_decode_extra(b.buf, b.len, 0, 16, &items, &xp, &extra, &nx, &err), VD_E_SOURCE);
        vd_buf_release(&b);
}
