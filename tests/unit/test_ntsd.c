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
