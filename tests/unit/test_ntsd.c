/* NTFS security descriptors (formats/vd_ntsd.c) and the world-writable
 * detector on NTFS, which reads them instead of ntfs-3g's 0777. The
 * descriptors are built here byte by byte, the first one as ntfs-3g gives
 * a file it creates (read from a test image with guestfish getxattr). */
#include <criterion/criterion.h>
#include <string.h>

#include "analyse/vd_detect.h"
#include "formats/vd_ntsd.h"
#include "policy/vd_policy.h"

static const unsigned char ADMINS[] = {1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 2, 0, 0};
static const unsigned char SYSTEM[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
static const unsigned char EVERYONE[] = {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
static const unsigned char USER1001[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                         3, 0, 0, 0, 0xe9, 3, 0, 0};

struct ace {
        int type, flags;
        unsigned mask;
        const unsigned char *sid;
        size_t sid_len;
};

static void put16(unsigned char *p, unsigned v) { p[0] = v & 0xff, p[1] = v >> 8 & 0xff; }
static void put32(unsigned char *p, unsigned v) { put16(p, v & 0xffff), put16(p + 2, v >> 16); }

/* owner ADMINS, group SYSTEM, the ACEs given (dacl false: no DACL at all) */
static size_t make_sd(unsigned char *b, bool dacl, const struct ace *aces, size_t n) {
        memset(b, 0, 512);
        b[0] = 1;
        put16(b + 2, 0x8000 | (dacl ? 0x0004 : 0));
        size_t off = 20;
        put32(b + 4, (unsigned)off);
        memcpy(b + off, ADMINS, sizeof ADMINS);
        off += sizeof ADMINS;
        put32(b + 8, (unsigned)off);
        memcpy(b + off, SYSTEM, sizeof SYSTEM);
        off += sizeof SYSTEM;
        if (!dacl)
                return off;
        put32(b + 16, (unsigned)off);
        size_t acl = off;
        b[acl] = 2;
        put16(b + acl + 4, (unsigned)n);
        off += 8;
        for (size_t i = 0; i < n; i++) {
                b[off] = (unsigned char)aces[i].type;
                b[off + 1] = (unsigned char)aces[i].flags;
                put16(b + off + 2, (unsigned)(8 + aces[i].sid_len));
                put32(b + off + 4, aces[i].mask);
                memcpy(b + off + 8, aces[i].sid, aces[i].sid_len);
                off += 8 + aces[i].sid_len;
        }
        put16(b + acl + 2, (unsigned)(off - acl));
        return off;
}

#define ACE(t, f, m, s) {t, f, m, s, sizeof s}

static char *describe(const unsigned char *sd, size_t n) {
        vd_buf b;
        vd_buf_init(&b, 0);
        vd_ntsd_describe(sd, n, &b);
        return b.buf;
}

Test(ntsd, owners_and_aces_are_named_and_write_grants_found) {
        unsigned char sd[512];
        struct ace full_everyone[] = {ACE(0, 3, 0x001f01ff, EVERYONE)};
        size_t n = make_sd(sd, true, full_everyone, 1);
        cr_assert_eq(vd_ntsd_world_writable(sd, n), 1);
        char *d = describe(sd, n);
        cr_assert_str_eq(d, "owner BUILTIN\\Administrators, group NT AUTHORITY\\SYSTEM; allow Everyone: full control");
        free(d);

        struct ace locked[] = {ACE(0, 0x10, 0x001f01ff, ADMINS), ACE(0, 0x10, 0x001f01ff, SYSTEM),
                               ACE(0, 0x10, 0x001200a9, EVERYONE), ACE(1, 0, 0x2, USER1001)};
        n = make_sd(sd, true, locked, 4);
        cr_assert_eq(vd_ntsd_world_writable(sd, n), 0, "read and execute for Everyone is not write");
        d = describe(sd, n);
        cr_assert_str_eq(d, "owner BUILTIN\\Administrators, group NT AUTHORITY\\SYSTEM; allow BUILTIN\\Administrators: "
                            "full control (inherited); allow NT AUTHORITY\\SYSTEM: full control (inherited); allow "
                            "Everyone: read and execute (inherited); deny S-1-5-21-1-2-3-1001: write");
        free(d);

        /* inherit-only: applies to children, not to this file */
        struct ace io[] = {ACE(0, 0x0b, 0x001f01ff, EVERYONE)};
        n = make_sd(sd, true, io, 1);
        cr_assert_eq(vd_ntsd_world_writable(sd, n), 0);
        /* Users may append (a drop folder) */
        static const unsigned char USERS[] = {1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x21, 2, 0, 0};
        struct ace users[] = {ACE(0, 0, 0x4, USERS)};
        n = make_sd(sd, true, users, 1);
        cr_assert_eq(vd_ntsd_world_writable(sd, n), 1);
        /* no DACL at all: everyone has full control */
        n = make_sd(sd, false, NULL, 0);
        cr_assert_eq(vd_ntsd_world_writable(sd, n), 1);
        d = describe(sd, n);
        cr_assert(strstr(d, "no DACL (everyone full control)"), "%s", d);
        free(d);
}

Test(ntsd, malformed_descriptors_are_said_and_never_read_past) {
        unsigned char sd[512];
        struct ace a[] = {ACE(0, 0, 0x001f01ff, EVERYONE)};
        size_t n = make_sd(sd, true, a, 1);
        for (size_t cut = 0; cut < n; cut++) { /* every truncation */
                int w = vd_ntsd_world_writable(sd, cut);
                cr_assert(w == -1 || w == 0 || w == 1);
                char *d = describe(sd, cut);
                cr_assert(d);
                free(d);
        }
        struct ace admins[] = {ACE(0, 0, 0x001f01ff, ADMINS)};
        n = make_sd(sd, true, admins, 1);
        sd[48 + 4] = 200; /* the ACE count past the ACL (owner 16 bytes at 20, group 12 at 36, DACL at 48) */
        cr_assert_eq(vd_ntsd_world_writable(sd, n), -1);
        char *d = describe(sd, n);
        cr_assert_str_eq(d, "(malformed security descriptor)");
        free(d);
        n = make_sd(sd, true, a, 1);
        sd[20 + 1] = 16; /* 16 sub-authorities: more than a SID may have */
        d = describe(sd, n);
        cr_assert(strstr(d, "owner (none)") || strstr(d, "malformed"), "%s", d);
        free(d);
        vd_buf b;
        vd_buf_init(&b, 0);
        unsigned char attr[4] = {0x27, 0, 0, 0};
        cr_assert_eq(vd_ntsd_attrib_describe(attr, 4, &b), 0);
        cr_assert_str_eq(b.buf, "readonly,hidden,system,archive");
        vd_buf_release(&b);
}

static vd_entry with_sd(const char *path, int type, vd_xattr *x, const unsigned char *sd, size_t n) {
        vd_entry e = {0};
        e.path = (char *)path;
        e.path_len = strlen(path);
        e.type = type;
        e.mode = 0777;
        x->name = (char *)VD_NTSD_XATTR;
        x->value = (unsigned char *)sd;
        x->len = (uint32_t)n;
        e.xattrs = x;
        e.n_xattrs = 1;
        return e;
}

Test(ntsd, on_ntfs_world_writable_means_a_dacl_broadened_past_its_folder) {
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        unsigned char open_sd[512], shut_sd[512];
        struct ace fe[] = {ACE(0, 0, 0x001f01ff, EVERYONE)}, ad[] = {ACE(0, 0, 0x001f01ff, ADMINS)};
        size_t on = make_sd(open_sd, true, fe, 1), sn = make_sd(shut_sd, true, ad, 1);
        vd_xattr xo, xn, xp;
        vd_entry shut_dir = with_sd("/Windows/System32", VD_T_DIR, &xp, shut_sd, sn);
        vd_entry was = with_sd("/Windows/System32/kernel32.dll", VD_T_REG, &xo, shut_sd, sn);
        vd_entry now = with_sd("/Windows/System32/kernel32.dll", VD_T_REG, &xn, open_sd, on);
        cr_assert_eq(vd_detect_file(p, &shut_dir, &was, &now, false).det, VD_D_WORLD_WRITABLE);
        cr_assert_eq(vd_detect_file(p, &shut_dir, NULL, &now, false).det, VD_D_WORLD_WRITABLE, "new, writable by all");
        cr_assert_eq(vd_detect_file(p, &shut_dir, &now, &now, false).det, -1, "already so in the baseline");
        cr_assert_eq(vd_detect_file(p, &shut_dir, &now, &was, false).det, -1, "narrowed");
        vd_entry open_dir = with_sd("/Users/Public", VD_T_DIR, &xp, open_sd, on);
        now.path = (char *)"/Users/Public/x.txt";
        now.path_len = strlen(now.path);
        cr_assert_eq(vd_detect_file(p, &open_dir, NULL, &now, false).det, -1, "as open as its folder");
        vd_policy_free(p);
}

#include "analyse/vd_compare.h"

static vd_entry *ntfs_entry(const char *path, int type, const unsigned char *sd, size_t n) {
        vd_entry *e = vd_entry_new();
        vd_entry_set_path(e, path, strlen(path));
        e->type = (uint8_t)type;
        e->mode = 0777; /* what ntfs-3g shows */
        e->nlink = 1;
        vd_entry_add_xattr(e, VD_NTSD_XATTR, sd, n);
        vd_entry_sort_xattrs(e);
        return e;
}

static const vd_event *event_of(const vd_events *ev, const char *path) {
        for (size_t i = 0; i < ev->n; i++)
                if (strcmp(ev->v[i].path, path) == 0)
                        return &ev->v[i];
        return NULL;
}

static const vd_attr_change *change_of(const vd_event *e, const char *attr) {
        for (size_t i = 0; e && i < e->n_ch; i++)
                if (strcmp(e->ch[i].attr, attr) == 0)
                        return &e->ch[i];
        return NULL;
}

/* The compare on an NTFS mount (the scan's mount./ fact): 0777 raises
 * nothing, an ACL broadened inside a locked folder is world-writable, a
 * stream on a DLL is high content, and the ACL reads as names. */
Test(ntsd, the_compare_on_ntfs_reads_acls_and_streams_not_modes) {
        unsigned char open_sd[512], shut_sd[512];
        struct ace fe[] = {ACE(0, 0, 0x001f01ff, EVERYONE)}, ad[] = {ACE(0, 0, 0x001f01ff, ADMINS)};
        size_t on = make_sd(open_sd, true, fe, 1), sn = make_sd(shut_sd, true, ad, 1);
        vd_entries base;
        vd_scan scan;
        vd_entries_init(&base);
        vd_scan_init(&scan);
        vd_scan_add_fact(&scan, "mount./", "/dev/sda1 ntfs");
        vd_entries_push(&base, ntfs_entry("/W", VD_T_DIR, shut_sd, sn));
        vd_entries_push(&scan.entries, ntfs_entry("/W", VD_T_DIR, shut_sd, sn));
        vd_entries_push(&base, ntfs_entry("/W/a.dll", VD_T_REG, shut_sd, sn));
        vd_entry *a = ntfs_entry("/W/a.dll", VD_T_REG, open_sd, on);
        vd_entry_add_xattr(a, "user.payload", "MZ", 2);
        vd_entry_sort_xattrs(a);
        vd_entries_push(&scan.entries, a);
        vd_entries_push(&scan.entries, ntfs_entry("/W/new.txt", VD_T_REG, shut_sd, sn));
        vd_entries_sort(&base);
        vd_entries_sort(&scan.entries);
        vd_policy *p;
        cr_assert_eq(vd_policy_new_default(&p, NULL), 0);
        vd_events ev;
        vd_events_init(&ev);
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_compare_scan(&base, &scan, p, &ev, &e), 0, "%s", e.msg);
        const vd_event *ea = event_of(&ev, "/W/a.dll"), *en = event_of(&ev, "/W/new.txt");
        cr_assert(ea && en);
        cr_assert_str_eq(ea->detector, "world-writable");
        cr_assert_eq(ea->severity, VD_SEV_HIGH);
        const vd_attr_change *acl = change_of(ea, "acl"), *st = change_of(ea, "stream:payload");
        cr_assert(acl && st);
        cr_assert(strstr(acl->old_v.s, "allow BUILTIN\\Administrators: full control"), "%s", acl->old_v.s);
        cr_assert(strstr(acl->new_v.s, "allow Everyone: full control"), "%s", acl->new_v.s);
        cr_assert(strstr(st->new_v.s, "2 bytes, sha256:"), "%s", st->new_v.s);
        cr_assert_null(en->detector, "0777 on NTFS is no world-writable file");
        cr_assert_eq(en->severity, VD_SEV_MEDIUM);
        vd_events_release(&ev);
        /* the same entries without the NTFS fact: POSIX modes count */
        vd_events_init(&ev);
        cr_assert_eq(vd_compare(&base, &scan.entries, p, &ev, &e), 0, "%s", e.msg);
        cr_assert_str_eq(event_of(&ev, "/W/new.txt")->detector, "world-writable");
        vd_events_release(&ev);
        vd_policy_free(p);
        vd_entries_release(&base);
        vd_scan_release(&scan);
}

Test(ntsd, policy_globs_match_ntfs_names_case_insensitively) {
        const char *y = "version: 1\nrules:\n  - name: tasks\n    paths: [/Windows/System32/Tasks/**]\n"
                        "    exclude: [\"/**/*.XML\"]\n    severity: high\n  - name: logs\n    paths: [/Windows/Logs/*.log]\n"
                        "    kind: ignore\n";
        vd_policy *p = NULL;
        vd_err e = VD_ERR_INIT;
        cr_assert_eq(vd_policy_parse("w.yaml", y, strlen(y), &p, &e), 0, "%s", e.msg);
        const char *tasks = "/WINDOWS/system32/tasks/Updater", *logs = "/windows/LOGS/CBS.LOG", *xml = "/Windows/System32/Tasks/a.xml";
        cr_assert_str_eq(vd_policy_match_icase(p, tasks, strlen(tasks), VD_T_REG)->name, "tasks");
        cr_assert_str_eq(vd_policy_match(p, tasks, strlen(tasks), VD_T_REG)->name, "default", "exact where case matters");
        cr_assert_str_eq(vd_policy_match_icase(p, logs, strlen(logs), VD_T_REG)->name, "logs");
        cr_assert_str_eq(vd_policy_match_icase(p, xml, strlen(xml), VD_T_REG)->name, "default", "excludes fold too");
        vd_policy_free(p);
}

static const char *test_namer(void *ctx, const char *sid, size_t len) {
        (void)ctx;
        static const char ops[] = "S-1-5-21-1-2-3-1001";
        return len == sizeof ops - 1 && memcmp(sid, ops, len) == 0 ? "WIN01\\ops" : NULL;
}

/* A guest's local accounts replace their SIDs where a SID stands whole in a
 * description; a SID that only begins like one, or sits inside other text,
 * stays as it is. */
Test(ntsd, local_account_sids_are_shown_by_the_guests_names) {
        static const char d[] = "owner S-1-5-21-1-2-3-1001, group S-1-5-21-1-2-3-1002; allow S-1-5-21-1-2-3-1001: "
                                "full control; deny S-1-5-21-1-2-3-10011: write; allow xS-1-5-21-1-2-3-1001: read";
        vd_buf b;
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_ntsd_rename(d, strlen(d), test_namer, NULL, &b), 1);
        cr_assert_str_eq(b.buf, "owner WIN01\\ops, group S-1-5-21-1-2-3-1002; allow WIN01\\ops: full control; deny "
                                "S-1-5-21-1-2-3-10011: write; allow xS-1-5-21-1-2-3-1001: read");
        vd_buf_release(&b);
        static const char none[] = "owner BUILTIN\\Administrators, group S-1-5-21-9-9-9-500";
        vd_buf_init(&b, 0);
        cr_assert_eq(vd_ntsd_rename(none, strlen(none), test_namer, NULL, &b), 0);
        cr_assert_eq(b.len, 0);
        static const char end[] = "owner S-1-5-21-1-2-3-1001";
        cr_assert_eq(vd_ntsd_rename(end, strlen(end), test_namer, NULL, &b), 1);
        cr_assert_str_eq(b.buf, "owner WIN01\\ops");
        vd_buf_release(&b);
}

/* The scan's table of names: sorted whatever the order added, the first
 * name of a SID kept, and the compare's events renamed through it. */
Test(ntsd, a_scans_account_names_rename_acl_changes_only) {
        vd_scan scan;
        vd_scan_init(&scan);
        cr_assert_eq(vd_scan_add_sid_name(&scan, "S-1-5-21-1-2-3-1001", "WIN01\\ops"), 0);
        cr_assert_eq(vd_scan_add_sid_name(&scan, "S-1-5-21-1-2-3-500", "WIN01\\Administrator"), 0);
        cr_assert_eq(vd_scan_add_sid_name(&scan, "S-1-5-21-1-2-3-1001", "WIN01\\other"), 0);
        cr_assert_eq(scan.n_sid_names, 2);
        cr_assert_str_eq(vd_scan_sid_name(&scan, "S-1-5-21-1-2-3-1001", 19), "WIN01\\ops");
        cr_assert_str_eq(vd_scan_sid_name(&scan, "S-1-5-21-1-2-3-500", 18), "WIN01\\Administrator");
        cr_assert_null(vd_scan_sid_name(&scan, "S-1-5-21-1-2-3-50", 17));

        vd_events ev;
        vd_events_init(&ev);
        vd_event e;
        memset(&e, 0, sizeof e);
        e.path = strdup("/f");
        e.path_len = 2;
        e.n_ch = 2;
        e.ch = calloc(2, sizeof *e.ch);
        e.ch[0].attr = strdup("acl");
        e.ch[0].new_v.s = strdup("owner S-1-5-21-1-2-3-1001, group S-1-5-21-1-2-3-500");
        e.ch[0].new_v.len = strlen(e.ch[0].new_v.s);
        e.ch[1].attr = strdup("xattr.user.note");
        e.ch[1].new_v.s = strdup("S-1-5-21-1-2-3-1001");
        e.ch[1].new_v.len = strlen(e.ch[1].new_v.s);
        cr_assert_eq(vd_events_push(&ev, &e), 0);
        cr_assert_eq(vd_compare_name_accounts(&scan, &ev), 0);
        cr_assert_str_eq(ev.v[0].ch[0].new_v.s, "owner WIN01\\ops, group WIN01\\Administrator");
        cr_assert_eq(ev.v[0].ch[0].new_v.len, strlen(ev.v[0].ch[0].new_v.s));
        cr_assert_null(ev.v[0].ch[0].old_v.s);
        cr_assert_str_eq(ev.v[0].ch[1].new_v.s, "S-1-5-21-1-2-3-1001", "only descriptors are renamed");
        vd_events_release(&ev);
        vd_scan_release(&scan);
}
