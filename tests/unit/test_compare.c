#include <criterion/criterion.h>
#include <string.h>

#include "analyse/vd_compare.h"
#include "policy/vd_policy.h"

static vd_entry *mk(const char *path, int type) {
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, path, strlen(path));
        e->type = (uint8_t)type;
        e->mode = type == VD_T_DIR ? 0755 : 0644;
        e->size = type == VD_T_REG ? 10 : 0;
        e->mtime_ns = 1000;
        e->ctime_ns = 2000;
        e->ino = 42;
        e->nlink = 1;
        if (type == VD_T_REG) {
                e->hash_algo = VD_HASH_XXH3;
                e->hash_len = 16;
                memset(e->hash, 0xaa, 16);
        }
        return e;
}

static vd_entries base, scan;
static vd_events ev;
static vd_policy *pol;

static void setup(void) {
        vd_entries_init(&base);
        vd_entries_init(&scan);
        vd_events_init(&ev);
        vd_policy_new_default(&pol, NULL);
}

static void teardown(void) {
        vd_entries_release(&base);
        vd_entries_release(&scan);
        vd_events_release(&ev);
        vd_policy_free(pol);
}

TestSuite(compare, .init = setup, .fini = teardown);

/* Put a copy of the same entry in both lists; return the scan side. */
static vd_entry *both(const char *path, int type) {
        vd_entries_push(&base, mk(path, type));
        vd_entry *e = mk(path, type);
        vd_entries_push(&scan, e);
        return e;
}

static void run(void) {
        vd_entries_sort(&base);
        vd_entries_sort(&scan);
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_compare(&base, &scan, pol, &ev, &err), 0, "%s", err.msg);
}

static const vd_event *find(const char *path) {
        for (size_t i = 0; i < ev.n; i++)
                if (strcmp(ev.v[i].path, path) == 0)
                        return &ev.v[i];
        return NULL;
}

Test(compare, identical_lists_give_no_events) {
        both("/", VD_T_DIR);
        both("/etc", VD_T_DIR);
        both("/etc/passwd", VD_T_REG);
        run();
        cr_assert_eq(ev.n, 0);
}

Test(compare, added_and_removed_with_their_attributes) {
        both("/", VD_T_DIR);
        vd_entries_push(&base, mk("/old", VD_T_REG));
        vd_entry *n = mk("/new", VD_T_REG);
        n->mode = 04755;
        vd_entries_push(&scan, n);
        run();
        cr_assert_eq(ev.n, 2);
        const vd_event *a = find("/new"), *r = find("/old");
        cr_assert_eq(a->kind, VD_CH_ADDED);
        cr_assert_eq(a->severity, VD_SEV_HIGH, "a new setuid file is high");
        cr_assert_str_eq(vd_event_find(a, "mode")->new_v.s, "4755");
        cr_assert_null(vd_event_find(a, "mode")->old_v.s);
        cr_assert_eq(r->kind, VD_CH_REMOVED);
        cr_assert_eq(r->severity, VD_SEV_MEDIUM);
        cr_assert_null(vd_event_find(r, "hash")->new_v.s);
}

Test(compare, every_file_attribute_reports_old_and_new) {
        vd_entry *e = both("/f", VD_T_REG);
        e->mode = 0666;
        e->uid = 1000;
        e->gid = 1000;
        e->size = 11;
        e->mtime_ns = 1001;
        e->ctime_ns = 2001;
        e->ino = 43;
        e->nlink = 2;
        e->hash[0] = 0xbb;
        vd_entry_add_xattr(e, "security.selinux", "x_t", 3);
        run();
        const vd_event *c = find("/f");
        cr_assert_eq(c->kind, VD_CH_CHANGED);
        const char *attrs[] = {"mode", "uid", "gid", "size", "hash", "xattr.security.selinux", "mtime", "ctime",
                               "inode", "nlink"};
        for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
                cr_assert_not_null(vd_event_find(c, attrs[i]), "missing %s", attrs[i]);
        cr_assert_str_eq(vd_event_find(c, "mode")->old_v.s, "0644");
        cr_assert_str_eq(vd_event_find(c, "mode")->new_v.s, "0666");
        cr_assert_str_eq(vd_event_find(c, "size")->new_v.s, "11");
        cr_assert(vd_event_find(c, "size")->new_v.num);
        cr_assert_str_eq(vd_event_find(c, "mtime")->new_v.s, "1970-01-01T00:00:00.000001001Z");
        cr_assert_eq(c->severity, VD_SEV_HIGH, "world-writable and a new owner are high");
}

Test(compare, symlink_target_and_device_numbers) {
        vd_entries_push(&base, mk("/l", VD_T_LNK));
        base.v[0]->target = strdup("a");
        base.v[0]->target_len = 1;
        vd_entry *l = mk("/l", VD_T_LNK);
        l->target = strdup("/etc/shadow");
        l->target_len = 11;
        vd_entries_push(&scan, l);
        vd_entry *d = both("/dev/x", VD_T_CHR);
        base.v[1]->rdev = 0x103;
        d->rdev = 0x105;
        run();
        cr_assert_str_eq(vd_event_find(find("/l"), "target")->new_v.s, "/etc/shadow");
        cr_assert_str_eq(vd_event_find(find("/dev/x"), "rdev")->old_v.s, "1:3");
}

Test(compare, type_change_is_high) {
        vd_entries_push(&base, mk("/x", VD_T_REG));
        vd_entry *n = mk("/x", VD_T_LNK);
        n->target = strdup("/tmp");
        n->target_len = 4;
        vd_entries_push(&scan, n);
        run();
        const vd_event *c = find("/x");
        cr_assert_eq(c->kind, VD_CH_CHANGED);
        cr_assert_str_eq(vd_event_find(c, "type")->old_v.s, "file");
        cr_assert_str_eq(vd_event_find(c, "type")->new_v.s, "symlink");
        cr_assert_eq(c->severity, VD_SEV_HIGH);
}

Test(compare, directory_times_nlink_and_size_are_off_by_default) {
        vd_entry *d = both("/d", VD_T_DIR);
        d->mtime_ns = 5;
        d->ctime_ns = 6;
        d->nlink = 9;
        d->size = 4096;
        run();
        cr_assert_eq(ev.n, 0);
}

Test(compare, ignored_attributes_do_not_count) {
        vd_entry *e = both("/f", VD_T_REG);
        e->ctime_ns = 9;
        e->ino = 9;
        vd_policy_ignore(pol, VD_A_CTIME | VD_A_INODE);
        run();
        cr_assert_eq(ev.n, 0);
}

Test(compare, times_only_is_low) {
        vd_entry *e = both("/f", VD_T_REG);
        e->mtime_ns = 1;
        run();
        cr_assert_eq(find("/f")->severity, VD_SEV_LOW);
}

Test(compare, capability_xattr_is_high) {
        vd_entry *e = both("/bin/ping", VD_T_REG);
        vd_entry_add_xattr(e, "security.capability", "\x01\x00\x00\x02", 4);
        run();
        const vd_event *c = find("/bin/ping");
        cr_assert_eq(c->severity, VD_SEV_HIGH);
        cr_assert_null(vd_event_find(c, "xattr.security.capability")->old_v.s);
}

Test(compare, content_that_could_not_be_read_is_a_status_change_not_a_hash_change) {
        vd_entry *e = both("/var/log/x", VD_T_REG);
        e->status = VD_ST_CHANGING;
        e->hash_len = 0;
        e->size = 99;
        run();
        const vd_event *c = find("/var/log/x");
        cr_assert_not_null(c);
        cr_assert_null(vd_event_find(c, "hash"), "no hash claim when the content is unknown");
        cr_assert_null(vd_event_find(c, "size"));
        cr_assert_str_eq(vd_event_find(c, "status")->new_v.s, "changed while read (not hashed)");
}

Test(compare, children_of_an_unreadable_directory_are_not_reported_removed) {
        vd_entry *d = both("/secret", VD_T_DIR);
        d->status = VD_ST_UNREADABLE;
        d->status_errno = 13;
        vd_entries_push(&base, mk("/secret/a", VD_T_REG));
        vd_entries_push(&base, mk("/secret/b/c", VD_T_REG));
        vd_entries_push(&base, mk("/secret.txt", VD_T_REG)); /* sorts between, truly removed */
        run();
        cr_assert_eq(ev.n, 2);
        cr_assert_str_eq(vd_event_find(find("/secret"), "status")->new_v.s, "unreadable (Permission denied)");
        cr_assert_eq(find("/secret.txt")->kind, VD_CH_REMOVED);
}

Test(compare, events_come_out_in_path_order) {
        vd_entries_push(&scan, mk("/b", VD_T_REG));
        vd_entries_push(&base, mk("/a", VD_T_REG));
        vd_entries_push(&scan, mk("/c", VD_T_REG));
        run();
        cr_assert_eq(ev.n, 3);
        cr_assert_str_eq(ev.v[0].path, "/a");
        cr_assert_str_eq(ev.v[2].path, "/c");
}

/* ---- policy kinds and detectors ---- */

static void use_policy(const char *y) {
        vd_policy_free(pol);
        pol = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_policy_parse("t.yaml", y, strlen(y), &pol, &e), 0, "%s", e.msg);
}

Test(compare, ignore_volatile_growing_and_the_rule_is_named) {
        use_policy("rules:\n"
                   "  - {name: tmp, paths: [/tmp/**], exclude: [/tmp], kind: ignore}\n"
                   "  - {name: logs, paths: [/var/log/**], kind: volatile, severity: low}\n"
                   "  - {name: hist, paths: [/root/h], kind: growing, severity: medium}\n"
                   "  - {name: etc, paths: [/etc/**], severity: high}\n");
        both("/tmp", VD_T_DIR);
        both("/tmp/a", VD_T_REG)->size = 99;          /* ignored */
        vd_entries_push(&scan, mk("/tmp/new", VD_T_REG)); /* ignored */
        vd_entry *l = both("/var/log/syslog", VD_T_REG);
        l->size = 500;
        l->hash[0] = 1;
        l->mtime_ns = 5; /* volatile: content, size and times may change */
        vd_entry *lm = both("/var/log/auth.log", VD_T_REG);
        lm->mode = 0640; /* ... but not the mode */
        vd_entry *h1 = both("/root/h", VD_T_REG);
        h1->size = 20; /* grew: fine */
        h1->hash[0] = 2;
        vd_entry *e = both("/etc/motd", VD_T_REG);
        e->hash[0] = 3;
        run();
        cr_assert_eq(ev.n, 2, "got %zu events", ev.n);
        const vd_event *x = find("/var/log/auth.log");
        cr_assert_str_eq(x->rule, "logs");
        cr_assert_eq(x->severity, VD_SEV_LOW);
        cr_assert_not_null(vd_event_find(x, "mode"));
        x = find("/etc/motd");
        cr_assert_str_eq(x->rule, "etc");
        cr_assert_eq(x->severity, VD_SEV_HIGH);
}

Test(compare, growing_files_may_not_shrink) {
        use_policy("rules:\n  - {name: hist, paths: [/root/h], kind: growing, severity: medium}\n");
        both("/root/h", VD_T_REG)->size = 3;
        run();
        cr_assert_eq(ev.n, 1);
        const vd_attr_change *c = vd_event_find(&ev.v[0], "size");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->old_v.s, "10");
        cr_assert_str_eq(c->new_v.s, "3");
}

Test(compare, per_clone_files_must_exist_with_their_owner_and_mode) {
        use_policy("rules:\n  - {name: keys, paths: [/k/*], kind: per-clone, owner: 0, mode: \"0600\", severity: high}\n");
        both("/k", VD_T_DIR);
        vd_entry *a = both("/k/rsa", VD_T_REG);
        a->mode = 0600;
        a->hash[0] = 9; /* new key on the clone: expected */
        base.v[1]->mode = 0600;
        vd_entry *b = mk("/k/new_ok", VD_T_REG);
        b->mode = 0600;
        vd_entries_push(&scan, b); /* new and right: quiet */
        vd_entry *c = mk("/k/new_bad", VD_T_REG);
        c->mode = 0644;
        vd_entries_push(&scan, c); /* new but world-readable: reported */
        vd_entries_push(&base, mk("/k/gone", VD_T_REG)); /* must exist */
        run();
        cr_assert_eq(ev.n, 2, "got %zu events", ev.n);
        const vd_event *x = find("/k/new_bad");
        cr_assert_eq(x->kind, VD_CH_ADDED);
        cr_assert_eq(x->severity, VD_SEV_HIGH);
        x = find("/k/gone");
        cr_assert_eq(x->kind, VD_CH_REMOVED);
}

Test(compare, detectors_fire_even_under_ignore_and_name_themselves) {
        use_policy("rules:\n  - {name: tmp, paths: [/tmp/**, /srv/**], kind: ignore}\n"
                   "detectors:\n  world-writable: {exclude: [/srv/ok]}\n");
        both("/tmp", VD_T_DIR)->mode = 01777;
        base.v[0]->mode = 01777;
        vd_entry *s = mk("/tmp/suid", VD_T_REG);
        s->mode = 04755;
        vd_entries_push(&scan, s);
        vd_entry *w = mk("/tmp/ww", VD_T_REG); /* world-writable in a sticky dir: fine */
        w->mode = 0666;
        vd_entries_push(&scan, w);
        both("/srv", VD_T_DIR);
        vd_entry *w2 = mk("/srv/ww", VD_T_REG);
        w2->mode = 0666;
        vd_entries_push(&scan, w2);
        vd_entry *w3 = mk("/srv/ok", VD_T_REG);
        w3->mode = 0666;
        vd_entries_push(&scan, w3);
        vd_entry *cap = both("/srv/ping", VD_T_REG);
        vd_entry_add_xattr(cap, "security.capability", "\x01\x00\x00\x02", 4);
        run();
        cr_assert_eq(ev.n, 3, "got %zu events", ev.n);
        cr_assert_str_eq(find("/tmp/suid")->detector, "setuid");
        cr_assert_eq(find("/tmp/suid")->severity, VD_SEV_HIGH);
        cr_assert_str_eq(find("/srv/ww")->detector, "world-writable");
        cr_assert_str_eq(find("/srv/ping")->detector, "file-capability");
        cr_assert_null(find("/tmp/ww"));
        cr_assert_null(find("/srv/ok"));
}

Test(compare, persistence_detector_on_units_and_cron) {
        both("/etc", VD_T_DIR);
        vd_entries_push(&scan, mk("/etc/cron.d/job", VD_T_REG));
        vd_entry *u = both("/etc/systemd/system/x.service", VD_T_REG);
        u->hash[0] = 7;
        vd_entry *l = mk("/etc/systemd/system/multi-user.target.wants/x.service", VD_T_LNK);
        l->target = strdup("/etc/systemd/system/x.service");
        l->target_len = strlen(l->target);
        vd_entries_push(&scan, l);
        vd_entry *m = both("/etc/motd", VD_T_REG);
        m->hash[0] = 7;
        run();
        cr_assert_str_eq(find("/etc/cron.d/job")->detector, "persistence");
        cr_assert_str_eq(find("/etc/systemd/system/x.service")->detector, "persistence");
        cr_assert_str_eq(find("/etc/systemd/system/multi-user.target.wants/x.service")->detector, "persistence");
        cr_assert_null(find("/etc/motd")->detector);
}

/* The streamed merge keeps only the current path's ancestors: a sibling
 * that sorts between a directory and its children ("/d!x" between "/d" and
 * "/d/c") must not make it forget them. */
Test(compare, ancestors_survive_siblings_that_sort_between) {
        both("/", VD_T_DIR);
        vd_entry *d = both("/d", VD_T_DIR);
        d->status = VD_ST_NOT_DESCENDED;
        both("/d!x", VD_T_DIR);
        both("/d!x/f", VD_T_REG);
        both("/d-y", VD_T_REG);
        vd_entries_push(&base, mk("/d/child", VD_T_REG)); /* unknown now, not gone */
        vd_entry *t = both("/t", VD_T_DIR);
        t->mode = 01777;
        both("/t.old", VD_T_REG);
        vd_entry *w = mk("/t/w", VD_T_REG);
        w->mode = 0666;
        vd_entries_push(&scan, w);
        vd_entry *u = mk("/t.old!/w", VD_T_REG);
        u->mode = 0666;
        vd_entries_push(&scan, mk("/t.old!", VD_T_DIR));
        vd_entries_push(&scan, u);
        run();
        cr_assert_null(find("/d/child"), "under a directory not descended: not reported removed");
        const vd_event *e = find("/t/w");
        cr_assert_not_null(e);
        cr_assert_null(e->detector, "world-writable in a sticky directory (found past '/t.old'): no detector");
        e = find("/t.old!/w");
        cr_assert_not_null(e);
        cr_assert_str_eq(e->detector ? e->detector : "", "world-writable", "its parent is not sticky");
}

static int none(void *ctx, const vd_entry **ret, vd_err *err) {
        (void)ctx;
        (void)err;
        *ret = NULL;
        return 0;
}

Test(compare, a_stream_out_of_order_is_an_error) {
        vd_cmp *c = NULL;
        vd_err err = VD_ERR_INIT;
        cr_assert_eq(vd_cmp_new(pol, none, NULL, &ev, &c, &err), 0);
        vd_entry *a = mk("/b", VD_T_REG), *b = mk("/a", VD_T_REG);
        cr_assert_eq(vd_cmp_put(c, a, &err), 0);
        cr_assert_eq(vd_cmp_put(c, b, &err), VD_E_INTERNAL);
        cr_assert(strstr(err.msg, "out of path order"), "%s", err.msg);
        vd_cmp_free(c);
        vd_entry_free(a);
        vd_entry_free(b);
}
