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
#include "vd_catfile.h"
#include "vd_source.h"

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
