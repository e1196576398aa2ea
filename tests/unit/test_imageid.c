/* What the shortcuts trust about a template: the identity of every file of
 * its chain (vd_imageid.h), and no file a header names outside the allowed
 * places (a data file is read as the guest's disk). Real qemu-img images. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "collect/vd_imageid.h"
#include "collect/vd_imageinfo.h"
#include "run/vd_reuse.h"

static char *dir;

static void sh(const char *script) {
        th_run r = th_exec((const char *const[]){"sh", "-ec", script, dir, NULL});
        cr_assert_eq(r.status, 0, "%s: %s%s", script, r.out, r.err);
        th_run_free(&r);
}

static void setup(void) {
        dir = th_mkdtemp();
        /* a cloud image under the template, a clone above it */
        sh("cd \"$0\" && mkdir -p t && qemu-img create -q -f qcow2 t/base.qcow2 16M && "
           "qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 t/tmpl.qcow2 && "
           "qemu-img create -q -f qcow2 -b t/tmpl.qcow2 -F qcow2 c.qcow2");
}
static void teardown(void) {
        th_rmtree(dir);
        free(dir);
}
TestSuite(imageid, .init = setup, .fini = teardown, .timeout = 120);

static vd_scan recorded(const char *image, const char *format) {
        vd_scan s;
        vd_scan_init(&s);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_template_record(th_path(dir, image), format, NULL, 0, 0, &s, &e), 0, "%s", e.msg);
        cr_assert_eq(vd_scan_add_fact(&s, "image.0.format", format), 0);
        return s;
}

/* 0 (unchanged) or 1 with why */
static int unchanged(const vd_scan *s, char *why) {
        char *path = NULL, fmt[32];
        vd_err e = VD_ERR_INIT;
        int r = vd_template_unchanged(s->facts, s->n_facts, 0, NULL, 0, &path, fmt, why, 400, &e);
        cr_assert_geq(r, 0, "%s", e.msg);
        if (r == 0) {
                cr_assert(strstr(path, "/t/tmpl.qcow2"), "%s", path);
                cr_assert_str_eq(fmt, "qcow2");
        }
        free(path);
        return r;
}

Test(imageid, an_identity_round_trips_and_hostile_text_is_refused) {
        vd_image_id a = {.ino = 12, .size = 1u << 30, .mtime_ns = -5, .ctime_ns = 1795413839123456789LL}, b;
        snprintf(a.path, sizeof a.path, "/var/lib/images/t with space.qcow2");
        char buf[VD_IMAGE_ID_PATH_MAX + 96];
        vd_image_id_format(&a, buf, sizeof buf);
        cr_assert(vd_image_id_parse(buf, &b), "%s", buf);
        cr_assert(vd_image_id_same(&a, &b));
        const char *bad[] = {"", "1 2 3 /x", "1 2 3 4 x", "1 2 3 4 /x\ny", "-1 2 3 4 /x", "1  2 3 4 /x",
                             "1 2 3 99999999999999999999 /x", "a 2 3 4 /x", "1 2 3 4 "};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                cr_assert_not(vd_image_id_parse(bad[i], &b), "accepted '%s'", bad[i]);
}

Test(imageid, every_image_below_the_template_counts) {
        vd_scan s = recorded("t/tmpl.qcow2", "qcow2");
        char why[400];
        cr_assert_eq(unchanged(&s, why), 0, "%s", why);
        /* a write into the image below the template: the template file's
         * own stat does not move */
        sh("cd \"$0\" && touch -r t/tmpl.qcow2 ref && qemu-io -c 'write -P 9 0 4096' t/base.qcow2 >/dev/null");
        cr_assert_eq(unchanged(&s, why), 1);
        cr_assert(strstr(why, "below the template image, changed"), "%s", why);
        vd_scan_release(&s);
        /* recorded again: unchanged; then the template replaced by a copy
         * with the same bytes, size and mtime */
        s = recorded("t/tmpl.qcow2", "qcow2");
        cr_assert_eq(unchanged(&s, why), 0, "%s", why);
        sh("cd \"$0\" && cp -p t/tmpl.qcow2 t/x && mv t/x t/tmpl.qcow2");
        cr_assert_eq(unchanged(&s, why), 1);
        cr_assert(strstr(why, "the template image") && strstr(why, "changed (or was copied)"), "%s", why);
        vd_scan_release(&s);
        /* rebased onto another base: another chain */
        s = recorded("t/tmpl.qcow2", "qcow2");
        sh("cd \"$0\" && qemu-img create -q -f qcow2 t/other.qcow2 16M && "
           "qemu-img rebase -u -f qcow2 -b other.qcow2 -F qcow2 t/tmpl.qcow2");
        cr_assert_eq(unchanged(&s, why), 1);
        vd_scan_release(&s);
        /* a baseline without the record: no shortcut, and why */
        vd_scan_init(&s);
        cr_assert_eq(unchanged(&s, why), 1);
        cr_assert(strstr(why, "does not record the chain"), "%s", why);
        vd_scan_release(&s);
}

Test(imageid, a_data_file_is_part_of_the_image_and_obeys_the_backing_rules) {
        /* inside the image's directory: allowed, listed after its image,
         * and a write into it is a change of the template */
        sh("cd \"$0\" && qemu-img create -q -f qcow2 -o data_file=\"$0/t/d.raw\" t/dt.qcow2 16M");
        char **files = NULL;
        size_t nf = 0;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_image_chain_files(th_path(dir, "t/dt.qcow2"), NULL, NULL, 0, &files, &nf, &e), 0, "%s", e.msg);
        cr_assert_eq(nf, 2);
        cr_assert(strstr(files[1], "/t/d.raw"), "%s", files[1]);
        vd_image_files_free(files, nf);
        cr_assert_eq(vd_image_chain(th_path(dir, "t/dt.qcow2"), NULL, NULL, 0, &files, &nf, &e), 0, "%s", e.msg);
        cr_assert_eq(nf, 1, "images only: depth i is index i");
        vd_image_files_free(files, nf);
        /* a vmdk's extents are files of the image too */
        sh("cd \"$0\" && qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse t/v.vmdk 3G");
        cr_assert_eq(vd_image_chain_files(th_path(dir, "t/v.vmdk"), NULL, NULL, 0, &files, &nf, &e), 0, "%s", e.msg);
        cr_assert_eq(nf, 3);
        cr_assert(strstr(files[1], "/t/v-s001.vmdk") && strstr(files[2], "/t/v-s002.vmdk"), "%s %s", files[1],
                  files[2]);
        vd_image_files_free(files, nf);
        vd_scan s = recorded("t/dt.qcow2", "qcow2");
        char *path = NULL, fmt[32], why[400];
        cr_assert_eq(vd_template_unchanged(s.facts, s.n_facts, 0, NULL, 0, &path, fmt, why, sizeof why, &e), 0, "%s",
                     why);
        free(path);
        sh("cd \"$0\" && qemu-io -c 'write -P 3 0 4096' t/dt.qcow2 >/dev/null && touch -d 2001-01-01 t/dt.qcow2");
        cr_assert_eq(vd_template_unchanged(s.facts, s.n_facts, 0, NULL, 0, &path, fmt, why, sizeof why, &e), 1);
        vd_scan_release(&s);

        /* a raw disk whose guest wrote a qcow2 header naming a host file as
         * its data file: probed, it is refused, and no key is made */
        sh("cd \"$0\" && qemu-img create -q -f raw g.raw 16M && "
           "qemu-img create -q -f qcow2 -o data_file=x.raw h.qcow2 16M && "
           "qemu-img amend -f qcow2 -o data_file=/etc/passwd h.qcow2 && "
           "dd if=h.qcow2 of=g.raw conv=notrunc bs=64k count=1 status=none");
        char ret_fmt[32];
        cr_assert_lt(vd_image_check_chain(th_path(dir, "g.raw"), NULL, NULL, 0, ret_fmt, &e), 0);
        cr_assert(strstr(e.msg, "names the external data file '/etc/passwd'") && strstr(e.msg, "refused"), "%s",
                  e.msg);
        const char *images[] = {th_path(dir, "g.raw")};
        vd_reuse_key k;
        why[0] = '\0';
        cr_assert_eq(vd_reuse_key_make(images, 1, NULL, NULL, 0, "b", "p", "o", false, &k, why, sizeof why, &e), 1);
        cr_assert(strstr(why, "/etc/passwd"), "%s", why);
        /* a relative name: qemu would open it from its working directory */
        sh("cd \"$0\" && qemu-img amend -f qcow2 -o data_file=etc/passwd h.qcow2 && "
           "dd if=h.qcow2 of=g.raw conv=notrunc bs=64k count=1 status=none");
        e = (vd_err)VD_ERR_INIT;
        cr_assert_lt(vd_image_check_chain(th_path(dir, "g.raw"), NULL, NULL, 0, ret_fmt, &e), 0);
        cr_assert(strstr(e.msg, "by a relative name") && strstr(e.msg, "refused"), "%s", e.msg);
        /* as raw, it is what it is: a raw disk */
        e = (vd_err)VD_ERR_INIT;
        cr_assert_eq(vd_image_check_chain(th_path(dir, "g.raw"), "raw", NULL, 0, ret_fmt, &e), 0, "%s", e.msg);
}

/* A raw disk's guest writes a qcow2 header naming the (allowed) template as
 * its backing file: the format seen first is remembered, the change refused
 * unless the operator says the format. */
Test(imageid, the_format_seen_first_is_pinned_and_a_change_refused) {
        sh("cd \"$0\" && mkdir -m 700 state && qemu-img create -q -f raw g.raw 16M");
        const char *state = th_path(dir, "state");
        char *img = strdup(th_path(dir, "g.raw")), fmt[32], pinned[32];
        vd_err e = VD_ERR_INIT;
        vd_image_format_pinned(state, img, pinned);
        cr_assert_str_eq(pinned, "", "nothing seen yet");
        cr_assert_eq(vd_image_check_chain(img, NULL, NULL, 0, fmt, &e), 0, "%s", e.msg);
        cr_assert_eq(vd_image_format_pin(state, img, fmt, false, &e), 0, "%s", e.msg);
        vd_image_format_pinned(state, img, pinned);
        cr_assert_str_eq(pinned, "raw");
        /* the guest writes a header whose backing file is the template */
        sh("cd \"$0\" && qemu-img create -q -f qcow2 -b t/tmpl.qcow2 -F qcow2 h.qcow2 && "
           "dd if=h.qcow2 of=g.raw conv=notrunc bs=64k count=1 status=none");
        const char *allow[] = {th_path(dir, "t")};
        cr_assert_eq(vd_image_check_chain(img, NULL, allow, 1, fmt, &e), 0, "%s", e.msg);
        cr_assert_str_eq(fmt, "qcow2", "probed, it passes for a linked clone");
        cr_assert_eq(vd_image_format_pin(state, img, fmt, false, &e), VD_E_SOURCE);
        cr_assert(strstr(e.msg, "reads as qcow2 by its header, but was raw when vmdrift first opened it") &&
                      strstr(e.msg, "--image-format raw"),
                  "%s", e.msg);
        /* told: the new format is the pin */
        e = (vd_err)VD_ERR_INIT;
        cr_assert_eq(vd_image_format_pin(state, img, "qcow2", true, &e), 0, "%s", e.msg);
        vd_image_format_pinned(state, img, pinned);
        cr_assert_str_eq(pinned, "qcow2");
        /* a pin file that is not ours to trust is not believed */
        sh("cd \"$0\" && chmod 666 state/formats/* && chmod 777 state/formats");
        vd_image_format_pinned(state, img, pinned);
        cr_assert_str_eq(pinned, "");
        free(img);
}
