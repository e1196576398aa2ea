/* The fleet inventory: defaults, relative paths, images_glob expansion, and
 * every error with file:line:column and what was expected. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/vd_inventory.h"

static vd_inventory *ok(const char *file, const char *y) {
        vd_inventory *inv = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_inventory_parse(file, y, strlen(y), &inv, &e), 0, "%s", e.msg);
        return inv;
}

static const char *bad(const char *y) {
        static vd_err e;
        vd_inventory *inv = NULL;
        memset(&e, 0, sizeof e);
        cr_assert_eq(vd_inventory_parse("/etc/vmdrift/f.yaml", y, strlen(y), &inv, &e), VD_E_INPUT, "accepted: %s", y);
        cr_assert_null(inv);
        return e.msg;
}

Test(inventory, defaults_apply_and_relative_paths_are_the_inventory_s) {
        vd_inventory *inv = ok("/etc/vmdrift/fleet.yaml",
                               "guests:\n"
                               "  - name: web-01\n    images: [web-01.qcow2, /srv/web-01-data.qcow2]\n"
                               "  - name: db-01\n    domain: db-01\n    policy: /etc/vmdrift/db.yaml\n"
                               "  - name: host\n    dir: /\n    baseline: host.vdb\n"
                               "defaults:\n  baseline: /var/lib/vmdrift/debian12.vdb\n  policy: debian.yaml\n"
                               "  connect: qemu:///system\n  verify_key: keys/signing.pub\n"
                               "storage: [/var/lib/libvirt/images]\nlibvirt: qemu:///system\n"
                               "templates: [tmpl.qcow2]\nstale_after: 3d\n");
        cr_assert_eq(inv->n_guests, 3);
        const vd_inv_guest *w = &inv->guests[0], *d = &inv->guests[1], *h = &inv->guests[2];
        cr_assert_str_eq(w->name, "web-01");
        cr_assert_eq(w->n_images, 2);
        cr_assert_str_eq(w->images[0], "/etc/vmdrift/web-01.qcow2");
        cr_assert_str_eq(w->images[1], "/srv/web-01-data.qcow2");
        cr_assert_str_eq(w->baseline, "/var/lib/vmdrift/debian12.vdb");
        cr_assert_str_eq(w->policy, "/etc/vmdrift/debian.yaml");
        cr_assert_str_eq(w->verify_key, "/etc/vmdrift/keys/signing.pub");
        cr_assert_null(w->connect, "connect is for domains");
        cr_assert_str_eq(d->domain, "db-01");
        cr_assert_str_eq(d->connect, "qemu:///system");
        cr_assert_str_eq(d->policy, "/etc/vmdrift/db.yaml", "a guest's own value wins");
        cr_assert_str_eq(h->dir, "/");
        cr_assert_str_eq(h->baseline, "/etc/vmdrift/host.vdb");
        cr_assert_eq(inv->n_storage, 1);
        cr_assert_str_eq(inv->libvirt[0], "qemu:///system");
        cr_assert_str_eq(inv->templates[0], "/etc/vmdrift/tmpl.qcow2");
        cr_assert_eq(inv->stale_after_s, 3 * 86400);
        vd_inventory_free(inv);
}

Test(inventory, images_glob_gives_one_guest_per_image_sorted) {
        char dir[] = "/tmp/vd-inv-XXXXXX", y[1024];
        cr_assert_not_null(mkdtemp(dir));
        char cmd[512];
        snprintf(cmd, sizeof cmd, "cd %s && touch lab-b.qcow2 lab-a.qcow2 other.img", dir);
        cr_assert_eq(system(cmd), 0);
        snprintf(y, sizeof y,
                 "defaults: {baseline: t.vdb}\nguests:\n  - name: lab-*-vm\n    images_glob: %s/lab-*.qcow2\n"
                 "  - name: none-*\n    images_glob: %s/none-*.qcow2\n",
                 dir, dir);
        vd_inventory *inv = ok("f.yaml", y);
        cr_assert_eq(inv->n_guests, 2);
        cr_assert_str_eq(inv->guests[0].name, "lab-lab-a-vm");
        cr_assert_str_eq(inv->guests[1].name, "lab-lab-b-vm");
        cr_assert(inv->guests[1].from_glob);
        cr_assert(strstr(inv->guests[1].images[0], "/lab-b.qcow2"));
        char cwd[4096], want[4200];
        cr_assert_not_null(getcwd(cwd, sizeof cwd));
        snprintf(want, sizeof want, "%s/t.vdb", cwd);
        cr_assert_str_eq(inv->guests[0].baseline, want, "no directory in the file name: the current one's");
        cr_assert_eq(inv->n_notes, 1);
        cr_assert(strstr(inv->notes[0], "f.yaml:5: guest 'none-*': images_glob") &&
                          strstr(inv->notes[0], "matches no image now"),
                  "%s", inv->notes[0]);
        vd_inventory_free(inv);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        system(cmd);
}

Test(inventory, every_error_names_line_column_and_what_was_expected) {
        cr_assert(strstr(bad(""), "f.yaml:1:1: expected the inventory (a mapping), got an empty file"), "%s",
                  bad(""));
        cr_assert(strstr(bad("guests: []\ncolour: red\n"), "f.yaml:2:1: unknown key 'colour' in the inventory"),
                  "%s", bad("guests: []\ncolour: red\n"));
        const char *m = bad("guests:\n  - name: a\n    images: [a.img]\n    baseline: t.vdb\n    image: x\n");
        cr_assert(strstr(m, "f.yaml:5:5: unknown key 'image' in a guest (expected one of: name, images"), "%s", m);
        m = bad("guests:\n  - name: a\n    images: [a.img]\n");
        cr_assert(strstr(m, "f.yaml:2:5: guest 'a' has no baseline"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - name: a\n    images: [a.img]\n    domain: a\n");
        cr_assert(strstr(m, "f.yaml:3:5: guest 'a': expected exactly one of images, images_glob, domain, dir"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: a, dir: /}\n  - {name: a, dir: /srv}\n");
        cr_assert(strstr(m, "f.yaml:4:1: guest name 'a' is already used at line 3"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: lab, images_glob: /srv/*.qcow2}\n");
        cr_assert(strstr(m, "f.yaml:3:12: guest 'lab': a guest with images_glob needs one '*' in its name"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: a/b, dir: /}\n");
        cr_assert(strstr(m, "f.yaml:3:12: 'a/b' is not a guest name"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: a, domain: a, connect: x}\n  - {name: b, dir: /, "
                "connect: x}\n");
        cr_assert(strstr(m, "f.yaml:4:5: guest 'b': connect is for a domain"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: a, dir: /}\nstale_after: soon\n");
        cr_assert(strstr(m, "f.yaml:4:14: expected a duration such as 90d"), "%s", m);
        m = bad("defaults: {baseline: t}\nguests:\n  - {name: a, images: []}\n");
        cr_assert(strstr(m, "f.yaml:3:23: expected at least one image"), "%s", m);
        m = bad("defaults: &d {baseline: t}\nguests:\n  - {name: a, dir: /}\nx: *d\n");
        cr_assert(strstr(m, "alias") || strstr(m, "unknown key 'x'"), "%s", m);
        m = bad("guests:\n  - {name: a, dir: /, baseline: t}\nguests: []\n");
        cr_assert(strstr(m, "f.yaml:3:1: duplicate key 'guests' in the inventory"), "%s", m);
        m = bad("defaults: {baseline: t}\n");
        cr_assert(strstr(m, "expected guests (a list of at least one guest)"), "%s", m);
        cr_assert(vd_guest_name_ok("web-01.example"));
        cr_assert_not(vd_guest_name_ok(".."));
        cr_assert_not(vd_guest_name_ok("a\nb"));
        cr_assert_not(vd_guest_name_ok("bad\xff"));
}

/* A file that is not there: an error naming it, for inventories and policies
 * alike (they share the reader; it once released a buffer it never made). */
#include "policy/vd_policy.h"
Test(inventory, a_missing_file_is_named_not_a_crash) {
        vd_inventory *inv = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_inventory_load("/nonexistent/fleet.yaml", &inv, &e), VD_E_INPUT);
        cr_assert(strstr(e.msg, "cannot open inventory '/nonexistent/fleet.yaml': No such file"), "%s", e.msg);
        cr_assert_null(inv);
        vd_policy *p = NULL;
        cr_assert_eq(vd_policy_load("/nonexistent/p.yaml", &p, &e), VD_E_INPUT);
        cr_assert(strstr(e.msg, "cannot open policy '/nonexistent/p.yaml'"), "%s", e.msg);
        cr_assert_eq(vd_inventory_load("/", &inv, &e), VD_E_INPUT, "a directory");
        cr_assert(strstr(e.msg, "'/'"), "%s", e.msg);
}

/* What a guest's scan came to, as a fleet worker hands it back (a binary
 * record, read bounded) and the fleet keeps it: the counts for the progress
 * line, the mode for status. */
#include "fleet/vd_fleet.h"
#include "run/vd_outcome.h"
Test(inventory, a_scan_outcome_travels_as_a_record_and_the_mode_is_kept) {
        vd_report rep;
        memset(&rep, 0, sizeof rep);
        vd_events ev;
        vd_events_init(&ev);
        rep.events = &ev;
        snprintf(rep.scan_id, sizeof rep.scan_id, "11111111-2222-3333-4444-555555555555");
        rep.totals.entries = 9963;
        rep.totals.files_hashed = 32;
        rep.totals.bytes_hashed = 791512;
        rep.exit_code = 1;
        vd_scan_stats delta = {.is_guest = true, .delta = true};
        rep.stats = &delta;
        rep.appliance = "launched";
        rep.baseline_digest = "abc";
        rep.started_ns = 1000;
        rep.duration_ns = 500;
        vd_scan_outcome oc, back;
        vd_scan_outcome_from_report(&rep, &oc);
        cr_assert_str_eq(oc.mode, "delta");
        cr_assert(oc.launched);
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_scan_outcome_encode(&oc, &b), 0);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_scan_outcome_decode(b.buf, b.len, &back, &e), 0, "%s", e.msg);
        cr_assert_eq(back.exit_code, 1);
        cr_assert_eq(back.totals.entries, 9963);
        cr_assert_eq(back.totals.files_hashed, 32);
        cr_assert_eq(back.totals.bytes_hashed, 791512);
        cr_assert_str_eq(back.mode, "delta");
        cr_assert_str_eq(back.scan_id, rep.scan_id);
        cr_assert_str_eq(back.baseline_digest, "abc");
        cr_assert_eq(back.ended_ns, 1500);
        /* every cut and every changed length is refused, never half-read */
        for (size_t n = 0; n < b.len; n++)
                cr_assert_lt(vd_scan_outcome_decode(b.buf, n, &back, &e), 0, "cut at %zu", n);
        b.buf[b.len - 4] = 'x';
        b.buf[b.len - 8] = 0x7f; /* the error's length, now past the end */
        cr_assert_lt(vd_scan_outcome_decode(b.buf, b.len, &back, &e), 0);
        vd_buf_release(&b);
        /* an untouched guest's kept report says so; a directory tree has no mode */
        rep.reused_scan_id = "x";
        vd_scan_outcome_from_report(&rep, &oc);
        cr_assert_str_eq(oc.mode, "kept");
        rep.reused_scan_id = NULL;
        rep.stats = NULL;
        vd_scan_outcome_from_report(&rep, &oc);
        cr_assert_str_eq(oc.mode, "");
        /* the mode is kept in the state directory, read back */
        vd_guest_state st;
        memset(&st, 0, sizeof st);
        snprintf(st.mode, sizeof st.mode, "delta");
        snprintf(st.result, sizeof st.result, "drift");
        char dir[] = "/tmp/vd-fleetstate.XXXXXX";
        cr_assert(mkdtemp(dir));
        cr_assert_eq(vd_fleet_state_write(dir, "web-01", &st, &e), 0, "%s", e.msg);
        vd_guest_state sb;
        cr_assert_eq(vd_fleet_state_read(dir, "web-01", &sb, &e), 0, "%s", e.msg);
        cr_assert(sb.present);
        cr_assert_str_eq(sb.mode, "delta");
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)!system(cmd);
}

/* format: pins a guest's image format (never probed from a header its guest
 * wrote); share: false keeps a guest out of shared appliances */
Test(inventory, format_and_share_per_guest_or_by_default) {
        vd_inventory *inv = ok("/etc/vmdrift/fleet.yaml",
                               "defaults: {baseline: t.vdb, format: raw, share: false}\n"
                               "guests:\n"
                               "  - {name: a, images: [a.img]}\n"
                               "  - {name: b, images: [b.qcow2], format: qcow2, share: true}\n");
        cr_assert_str_eq(inv->guests[0].format, "raw");
        cr_assert_eq(inv->guests[0].share, VD_SHARE_NO);
        cr_assert_str_eq(inv->guests[1].format, "qcow2", "a guest's own value wins");
        cr_assert_eq(inv->guests[1].share, VD_SHARE_YES);
        vd_inventory_free(inv);
        inv = ok("/etc/vmdrift/fleet.yaml", "defaults: {baseline: t.vdb}\nguests:\n  - {name: a, images: [a.img]}\n");
        cr_assert_null(inv->guests[0].format, "probed (and pinned on first sight)");
        cr_assert_eq(inv->guests[0].share, VD_SHARE_DEFAULT);
        vd_inventory_free(inv);
        const char *m = bad("defaults: {baseline: t.vdb}\nguests:\n  - {name: a, images: [a.img], format: 'qc ow2'}\n");
        cr_assert(strstr(m, "f.yaml:3:") && strstr(m, "expected an image format"), "%s", m);
        m = bad("defaults: {baseline: t.vdb}\nguests:\n  - {name: a, images: [a.img], share: maybe}\n");
        cr_assert(strstr(m, "f.yaml:3:") && strstr(m, "true or false"), "%s", m);
}
