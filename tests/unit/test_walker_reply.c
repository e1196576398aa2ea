/* The walker's answer lines, parsed on the host as untrusted input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/vd_walker_reply.h"

static void parse(const char *text, vd_walker_reply *r) {
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_walker_reply_parse(text, strlen(text), r, &err), 0, "%s", err.msg);
}

Test(walker_reply, every_line_the_walker_prints_is_read) {
        vd_walker_reply r;
        parse("73012 entries, 512 files hashed\n"
              "geometry 0:1048576 ext4 bs=4096 ipg=8192\n"
              "geometry 1:0 ext4 bs=1024 ipg=2048\n"
              "mounts / 0:1048576 ext4\n"
              "walk changed-only\n"
              "inodes: 2041 answered from the baseline's records, 37 read\n"
              "cat 12\n"
              "times: setup 0.10 s, walk 1.20 s\n",
              &r);
        cr_assert_str_eq(r.summary, "73012 entries, 512 files hashed");
        cr_assert_eq(r.n_geometry, 2);
        cr_assert_str_eq(r.geometry[0].key, "fs.ext4.0:1048576");
        cr_assert_str_eq(r.geometry[0].value, "ext4 bs=4096 ipg=8192");
        cr_assert_str_eq(r.geometry[1].key, "fs.ext4.1:0");
        cr_assert_str_eq(r.mounts, "/ 0:1048576 ext4");
        cr_assert(r.walk_changed_only);
        cr_assert(r.have_inodes);
        cr_assert_eq(r.inodes_recorded, 2041);
        cr_assert_eq(r.inodes_read, 37);
        cr_assert(r.have_cat);
        cr_assert_eq(r.cat_files, 12);
        cr_assert_str_eq(r.times, "times: setup 0.10 s, walk 1.20 s");
        cr_assert_str_eq(r.walk_whole, "");
        vd_walker_reply_release(&r);
}

Test(walker_reply, a_malformed_line_gives_nothing_rather_than_half) {
        vd_walker_reply r;
        parse("summary\n"
              "inodes: 18446744073709551616 answered from the baseline's records, 1 read\n" /* 2^64 */
              "inodes: 5 answered from the baseline's records, 1 read and more\n"
              "cat 12 files\n"
              "cat -1\n"
              "cat \n"
              "geometry nospace\n"
              "geometry 0123456789012345678901234567890123456789012345678 v\n" /* a key of 49 bytes */
              "geometry 0:0 bad\001byte\n"
              "mounts \n"
              "walk changed-only please\n",
              &r);
        cr_assert_not(r.have_inodes);
        cr_assert_not(r.have_cat);
        cr_assert_eq(r.n_geometry, 0);
        cr_assert_null(r.mounts);
        cr_assert_not(r.walk_changed_only);
        vd_walker_reply_release(&r);
}

Test(walker_reply, what_is_shown_is_printable_and_cut) {
        vd_walker_reply r;
        char text[1200];
        snprintf(text, sizeof text, "s\nwalk whole: a\x1b[31mb\ncat failed: %0400d\n", 7);
        parse(text, &r);
        cr_assert_str_eq(r.walk_whole, "a?[31mb");
        cr_assert_eq(strlen(r.cat_failed), sizeof r.cat_failed - 1);
        vd_walker_reply_release(&r);
}

Test(walker_reply, geometry_lines_past_the_bound_are_not_kept) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_buf_adds(&b, "s\n");
        for (int i = 0; i < VD_WALKER_GEOMETRY_MAX + 10; i++)
                vd_buf_addf(&b, "geometry %d:0 ext4 bs=4096\n", i);
        vd_walker_reply r;
        parse(b.buf, &r);
        cr_assert_eq(r.n_geometry, VD_WALKER_GEOMETRY_MAX);
        vd_walker_reply_release(&r);
        vd_buf_release(&b);
}

Test(walker_reply, an_answer_too_long_is_refused) {
        size_t n = VD_WALKER_REPLY_MAX + 1;
        char *big = malloc(n);
        memset(big, 'x', n);
        vd_walker_reply r;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_walker_reply_parse(big, n, &r, &err), VD_E_LIMIT);
        cr_assert(strstr(err.msg, "longer than"), "%s", err.msg);
        free(big);
}

/* ---- the mount table, as the appliance's kernel writes it ---- */
#include "formats/vd_mountinfo.h"

Test(mountinfo, fields_are_split_and_unescaped_and_odd_lines_skipped) {
        const char *t = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root "
                        "rw,errors=continue\n"
                        "garbage line\n"
                        "1 2 3:x / / rw - ext4 /dev/sda rw\n"
                        "9 9 8:1 / /x rw - ext4 /dev/sda1 rw,data=journal";
        vd_mount *m = NULL;
        size_t n = 0;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_mountinfo_parse(t, strlen(t), &m, &n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 2);
        cr_assert_eq(m[0].major, 98);
        cr_assert_eq(m[0].minor, 0);
        cr_assert_str_eq(m[0].root, "/mnt1");
        cr_assert_str_eq(m[0].mount_point, "/mnt/with space");
        cr_assert_str_eq(m[0].mount_point_raw, "/mnt/with\\040space");
        cr_assert_str_eq(m[0].fstype, "ext3");
        cr_assert_str_eq(m[0].source, "/dev/root");
        cr_assert_str_eq(m[0].super_options, "rw,errors=continue");
        cr_assert_str_eq(m[1].mount_point, "/x");
        cr_assert_str_eq(m[1].super_options, "rw,data=journal");
        vd_mounts_free(m, n);
}

Test(mountinfo, this_process_has_a_root_mount) {
        vd_mount *m = NULL;
        size_t n = 0;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_mountinfo_read(&m, &n, &err), 0, "%s", err.msg);
        bool root = false;
        for (size_t i = 0; i < n; i++)
                root |= strcmp(m[i].mount_point, "/") == 0;
        cr_assert(root);
        vd_mounts_free(m, n);
}
