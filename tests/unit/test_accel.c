/* The host's memory of a failing KVM, and the state directory it lives in. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "collect/vd_accel.h"
#include "common/vd_state.h"

Test(accel, names) {
        cr_assert_eq(vd_accel_from_name("auto"), VD_ACCEL_AUTO);
        cr_assert_eq(vd_accel_from_name("kvm"), VD_ACCEL_KVM);
        cr_assert_eq(vd_accel_from_name("tcg"), VD_ACCEL_TCG);
        cr_assert_eq(vd_accel_from_name("KVM"), -1);
        cr_assert_eq(vd_accel_from_name(""), -1);
}

Test(accel, a_memory_holds_for_a_day_on_the_same_host_only) {
        char text[4096];
        int64_t since = 0;
        vd_accel_format("6.1.0|#1 SMP|/usr/bin/qemu|100", 1000000, text, sizeof text);
        cr_assert(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu|100", 1000000, &since));
        cr_assert_eq(since, 1000000);
        cr_assert(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu|100", 1000000 + 86399, NULL));
        cr_assert_not(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu|100", 1000000 + 86400, NULL),
                      "rechecked after a day");
        cr_assert_not(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu|100", 999999, NULL),
                      "a time in the future is not believed");
        cr_assert_not(vd_accel_parse(text, strlen(text), "6.2.0|#1 SMP|/usr/bin/qemu|100", 1000000, NULL),
                      "another kernel rechecks");
        cr_assert_not(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu|101", 1000000, NULL),
                      "an upgraded qemu rechecks");
        cr_assert_not(vd_accel_parse(text, strlen(text), "6.1.0|#1 SMP|/usr/bin/qemu", 1000000, NULL),
                      "a prefix of the key is another key");
}

Test(accel, malformed_memories_are_not_believed) {
        const char *key = "k";
        const char *bad[] = {
                "",
                "vmdrift-accel 2\nkvm=broken\nsince=5\nhost=k\n",
                "vmdrift-accel 1\nkvm=fine\nsince=5\nhost=k\n",
                "vmdrift-accel 1\nkvm=broken\nsince=x5\nhost=k\n",
                "vmdrift-accel 1\nkvm=broken\nsince=\nhost=k\n",
                "vmdrift-accel 1\nkvm=broken\nsince=99999999999999999999999\nhost=k\n",
                "vmdrift-accel 1\nkvm=broken\nhost=k\n",
                "vmdrift-accel 1\nkvm=broken\nsince=5\n",
                "vmdrift-accel 1\nkvm=brokenx\nsince=5\nhost=k\n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                cr_assert_not(vd_accel_parse(bad[i], strlen(bad[i]), key, 10, NULL), "believed: %s", bad[i]);
        const char *good = "vmdrift-accel 1\nkvm=broken\nsince=5\nhost=k\n";
        cr_assert(vd_accel_parse(good, strlen(good), key, 10, NULL));
        /* not NUL-terminated: the length is the bound */
        cr_assert_not(vd_accel_parse(good, strlen(good) - 3, key, 10, NULL));
}

Test(accel, remember_recall_forget_round_trip) {
        char *dir = th_mkdtemp();
        char *state = th_join(dir, "a/b/state");
        cr_assert_not(vd_accel_recall(state, "/usr/bin/qemu-system-x86_64", 1000, NULL), "nothing yet");
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_accel_remember(state, "/usr/bin/qemu-system-x86_64", 1000, &err), 0, "%s", err.msg);
        struct stat st;
        cr_assert_eq(stat(state, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700);
        cr_assert_eq(stat(th_path(state, "accel"), &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0600);
        int64_t since = 0;
        cr_assert(vd_accel_recall(state, "/usr/bin/qemu-system-x86_64", 1001, &since));
        cr_assert_eq(since, 1000);
        cr_assert_not(vd_accel_recall(state, "/usr/local/bin/qemu", 1001, NULL), "another qemu");
        vd_accel_forget(state);
        cr_assert_not(vd_accel_recall(state, "/usr/bin/qemu-system-x86_64", 1001, NULL));
        th_rmtree(dir);
        free(state);
        free(dir);
}

Test(state, a_directory_others_can_write_is_not_trusted) {
        char *dir = th_mkdtemp();
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(chmod(dir, 0777), 0);
        cr_assert_eq(vd_state_dir_check(dir, false, &err), VD_E_IO);
        cr_assert(strstr(err.msg, "is writable by everyone (mode 0777): refusing to trust it"), "%s", err.msg);
        cr_assert_eq(chmod(dir, 0770), 0);
        cr_assert_eq(vd_state_dir_check(dir, false, &err), VD_E_IO);
        cr_assert(strstr(err.msg, "writable by its group"), "%s", err.msg);
        cr_assert_eq(chmod(dir, 0700), 0);
        cr_assert_eq(vd_state_dir_check(dir, false, &err), 0, "%s", err.msg);
        /* a memory planted in a shared directory is not believed */
        char text[256];
        char key[1024];
        vd_accel_host_key("/q", key, sizeof key);
        vd_accel_format(key, 1000, text, sizeof text);
        th_write(dir, "accel", text);
        cr_assert(vd_accel_recall(dir, "/q", 1000, NULL));
        cr_assert_eq(chmod(th_path(dir, "accel"), 0666), 0);
        cr_assert_not(vd_accel_recall(dir, "/q", 1000, NULL), "a file others can write is not believed");
        cr_assert_eq(chmod(th_path(dir, "accel"), 0600), 0);
        cr_assert_eq(chmod(dir, 0777), 0);
        cr_assert_not(vd_accel_recall(dir, "/q", 1000, NULL), "nor one in a directory others can write");
        chmod(dir, 0700);
        /* a symlink is not a state directory */
        char *link = th_join(dir, "link");
        cr_assert_eq(symlink(dir, link), 0);
        cr_assert_eq(vd_state_dir_check(link, false, &err), VD_E_IO);
        cr_assert(strstr(err.msg, "is not a directory (a symlink)"), "%s", err.msg);
        th_rmtree(dir);
        free(link);
        free(dir);
}

Test(state, the_state_directory_comes_from_the_option_then_systemd_then_the_default) {
        const char *sd = "/var/lib/vmdrift-a:/var/lib/other";
        cr_assert_str_eq(vd_state_dir("/x", sd), "/x");
        cr_assert_str_eq(vd_state_dir(NULL, sd), "/var/lib/vmdrift-a");
        cr_assert_str_eq(vd_state_dir(NULL, NULL), "/var/lib/vmdrift");
        cr_assert_str_eq(vd_state_dir(NULL, ""), "/var/lib/vmdrift");
}

/* qemu-img's JSON, as untrusted input (the header it describes is the
 * guest's). */
#include "collect/vd_imageinfo.h"

Test(imageinfo, format_and_backing_file_are_read_exactly) {
        const char *j = "{\"backing-filename-format\": \"raw\", \"virtual-size\": 1, \"filename\": \"x\","
                        " \"format\": \"qcow2\", \"format-specific\": {\"type\": \"qcow2\", \"data\": {\"a\": [1, "
                        "true, null]}}, \"full-backing-filename\": \"/srv/a\\\"b\\u00e9\", \"backing-filename\": "
                        "\"a\", \"dirty-flag\": false}";
        vd_image_info i;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_image_info_parse(j, strlen(j), &i, &e), 0, "%s", e.msg);
        cr_assert_str_eq(i.format, "qcow2");
        cr_assert_str_eq(i.backing_format, "raw");
        cr_assert_str_eq(i.backing, "/srv/a\"b\xc3\xa9");
        vd_image_info_release(&i);
        j = "{\"format\": \"raw\", \"filename\": \"x\"}";
        cr_assert_eq(vd_image_info_parse(j, strlen(j), &i, &e), 0, "%s", e.msg);
        cr_assert_null(i.backing);
        vd_image_info_release(&i);
}

Test(imageinfo, hostile_json_is_refused_not_misread) {
        const char *bad[] = {
                "",
                "[]",
                "{\"format\": \"qcow2\", \"full-backing-filename\": \"/etc/shadow\\u0000.img\"}",
                "{\"format\": \"qcow2\"",
                "{\"format\": \"qcow2\", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                "{\"format\": \"qcow2\", \"full-backing-filename\": \"a\nb\"}",
                "{\"filename\": \"x\"}",
                "{\"format\": \"qcow2qcow2qcow2qcow2qcow2qcow2qcow2\"}",
        };
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
                vd_image_info i;
                vd_err e = VD_ERR_INIT;
                cr_assert_lt(vd_image_info_parse(bad[k], strlen(bad[k]), &i, &e), 0, "accepted: %s", bad[k]);
                vd_image_info_release(&i);
        }
}
