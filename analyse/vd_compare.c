#include "analyse/vd_compare.h"
#include "analyse/vd_detect.h"
#include "formats/vd_ntsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>
#include <sys/sysmacros.h>

#include "common/vd_buf.h"
#include "common/vd_str.h"

/* ---- building values ---- */

static int val_bytes(vd_val *v, const void *p, size_t n, bool num) {
        v->s = malloc(n + 1);
        if (!v->s)
                return VD_E_NOMEM;
        if (n)
                memcpy(v->s, p, n);
        v->s[n] = '\0';
        v->len = n;
        v->num = num;
        return 0;
}

static int val_buf(vd_val *v, vd_buf *b, bool num) {
        size_t n;
        v->s = vd_buf_detach(b, &n);
        if (!v->s)
                return VD_E_NOMEM;
        v->len = n;
        v->num = num;
        return 0;
}

enum vkind { V_NULL, V_U64, V_MODE, V_TIME, V_RDEV, V_BYTES, V_HASH, V_STATUS, V_TYPE, V_STR };

/* Format one attribute of e (which may be NULL: null value). */
static int fmt_val(vd_val *v, const vd_entry *e, enum vkind k, uint64_t u, const char *bytes, size_t blen) {
        memset(v, 0, sizeof *v);
        if (!e || k == V_NULL)
                return 0;
        vd_buf b;
        vd_buf_init(&b, 0);
        int r = 0;
        switch (k) {
        case V_U64: r = vd_buf_addf(&b, "%llu", (unsigned long long)u); break;
        case V_MODE: r = vd_buf_addf(&b, "%04llo", (unsigned long long)u); break;
        case V_TIME: r = vd_time_rfc3339(&b, (int64_t)u); break;
        case V_RDEV: r = vd_buf_addf(&b, "%u:%u", major((dev_t)u), minor((dev_t)u)); break;
        case V_TYPE: r = vd_buf_adds(&b, vd_ftype_name((int)u)); break;
        case V_HASH:
                if (e->hash_len == 0)
                        return 0;
                r = vd_buf_addf(&b, "%s:", vd_hash_algo_name(e->hash_algo));
                if (!r)
                        r = vd_hex(&b, e->hash, e->hash_len);
                break;
        case V_STATUS:
                switch (e->status) {
                case VD_ST_OK: r = vd_buf_adds(&b, "ok"); break;
                case VD_ST_UNREADABLE: r = vd_buf_addf(&b, "unreadable (%s)", strerror(e->status_errno)); break;
                case VD_ST_CHANGING: r = vd_buf_adds(&b, "changed while read (not hashed)"); break;
                default: r = vd_buf_adds(&b, "not descended (too deep)"); break;
                }
                break;
        case V_BYTES:
        case V_STR:
                if (!bytes)
                        return 0;
                r = vd_buf_add(&b, bytes, blen);
                break;
        default: break;
        }
        if (r == 0)
                r = val_buf(v, &b, k == V_U64);
        vd_buf_release(&b);
        return r;
}

/* ---- event assembly ---- */

typedef struct builder {
        vd_event ev;
        size_t alloc;
        int sev;
        bool posix_modes; /* the entry's file system has modes (not NTFS, FAT): they raise severity */
        const char *path; /* the entry being described */
        size_t path_len;
} builder;

static int add_change(builder *b, const char *attr, size_t attr_len, vd_val o, vd_val n, int sev) {
        int r = vd_event_add_change(&b->ev, &b->alloc, attr, attr_len, o, n, NULL);
        if (r == 0 && sev > b->sev)
                b->sev = sev;
        return r;
}

/* Add a change for attribute k of old/new (either may be NULL). */
static int add_attr(builder *b, const char *attr, enum vkind k, const vd_entry *o, uint64_t ou, const char *ob,
                    size_t obl, const vd_entry *n, uint64_t nu, const char *nb, size_t nbl, int sev) {
        vd_val ov, nv;
        int r = fmt_val(&ov, o, k, ou, ob, obl);
        if (r < 0)
                return r;
        r = fmt_val(&nv, n, k, nu, nb, nbl);
        if (r < 0) {
                free(ov.s);
                return r;
        }
        return add_change(b, attr, strlen(attr), ov, nv, sev);
}


static int mode_severity(const builder *b, uint32_t om, uint32_t nm, int ftype) {
        if (!b->posix_modes)
                return VD_SEV_MEDIUM;
        if ((nm & 06000) & ~(om & 06000))
                return VD_SEV_HIGH; /* gained setuid/setgid */
        if (ftype != VD_T_LNK && (nm & 0002) && !(om & 0002))
                return VD_SEV_HIGH; /* became world-writable */
        return VD_SEV_MEDIUM;
}

static int xattr_severity(const char *name) {
        if (strcmp(name, "security.capability") == 0)
                return VD_SEV_HIGH;
        if (strncmp(name, "security.", 9) == 0 || strncmp(name, "system.posix_acl", 16) == 0)
                return VD_SEV_MEDIUM;
        return VD_SEV_LOW;
}

/* An NTFS security descriptor or attribute word, as a person reads it
 * ("owner BUILTIN\Administrators, ...; allow Everyone: full control"). */
static int ntfs_val(vd_val *v, const vd_xattr *x) {
        vd_buf b;
        vd_buf_init(&b, 0);
        int r = strcmp(x->name, VD_NTSD_XATTR) == 0 ? vd_ntsd_describe(x->value, x->len, &b)
                                                   : vd_ntsd_attrib_describe(x->value, x->len, &b);
        if (r == VD_E_NOMEM || (b.len == 0 && vd_buf_adds(&b, "(none)") < 0)) {
                vd_buf_release(&b);
                return VD_E_NOMEM;
        }
        return val_buf(v, &b, false);
}

static const char *scan_namer(void *ctx, const char *sid, size_t len) { return vd_scan_sid_name(ctx, sid, len); }

static int rename_val(const vd_scan *scan, vd_val *v) {
        if (!v->s)
                return 0;
        vd_buf b;
        vd_buf_init(&b, 0);
        int r = vd_ntsd_rename(v->s, v->len, scan_namer, (void *)scan, &b);
        if (r == 1) {
                free(v->s);
                return val_buf(v, &b, false);
        }
        vd_buf_release(&b);
        return r;
}

int vd_compare_name_accounts(const vd_scan *scan, vd_events *out) {
        for (size_t i = 0; scan->n_sid_names && i < out->n; i++) {
                vd_event *e = &out->v[i];
                if (e->config || e->package || e->fleet)
                        continue;
                for (size_t k = 0; k < e->n_ch; k++)
                        if (strcmp(e->ch[k].attr, "acl") == 0 &&
                            (rename_val(scan, &e->ch[k].old_v) < 0 || rename_val(scan, &e->ch[k].new_v) < 0))
                                return VD_E_NOMEM;
        }
        return 0;
}

/* attributes newly hidden or system (a file made to vanish from Explorer) */
static bool attrib_hides(const vd_xattr *ox, const vd_xattr *nx) {
        uint32_t o = ox && ox->len == 4 ? ox->value[0] : 0, n = nx && nx->len == 4 ? nx->value[0] : 0;
        return ((n & ~o) & 0x6) != 0;
}

static int ntfs_change(builder *b, const vd_xattr *ox, const vd_xattr *nx) {
        bool acl = strcmp((ox ? ox : nx)->name, VD_NTSD_XATTR) == 0;
        vd_val ov = {0}, nv = {0};
        if (ox && ntfs_val(&ov, ox) < 0)
                return VD_E_NOMEM;
        if (nx && ntfs_val(&nv, nx) < 0) {
                free(ov.s);
                return VD_E_NOMEM;
        }
        int sev = acl || attrib_hides(ox, nx) ? VD_SEV_MEDIUM : VD_SEV_LOW;
        return add_change(b, acl ? "acl" : "attributes", acl ? 3 : 10, ov, nv, sev);
}

/* A program or script, by its name's extension (Windows runs by it). */
static bool runnable(const char *path, size_t len) {
        static const char *const ext[] = {".exe", ".dll", ".sys", ".scr", ".com", ".ps1", ".bat", ".cmd",
                                          ".vbs", ".js",  ".hta", ".msi", ".lnk", NULL};
        size_t d = len;
        while (d > 0 && path[d - 1] != '.' && path[d - 1] != '/')
                d--;
        if (d == 0 || path[d - 1] != '.')
                return false;
        const char *dot = path + d - 1;
        for (size_t i = 0; ext[i]; i++)
                if (strlen(ext[i]) == len - (size_t)(dot - path) && strncasecmp(dot, ext[i], strlen(ext[i])) == 0)
                        return true;
        return false;
}

/* An NTFS alternate data stream (ntfs-3g shows stream NAME as the xattr
 * user.NAME): content, shown by size and digest, at least medium; high on
 * a program or script. */
static int stream_change(builder *b, const vd_xattr *ox, const vd_xattr *nx) {
        const char *name = (ox ? ox : nx)->name + 5;
        char attr[VD_XATTR_NAME_MAX + 8];
        int al = snprintf(attr, sizeof attr, "stream:%s", name);
        vd_val v[2] = {{0}, {0}};
        const vd_xattr *x[2] = {ox, nx};
        for (int i = 0; i < 2; i++) {
                if (!x[i])
                        continue;
                unsigned char md[32];
                char hex[17];
                SHA256(x[i]->value, x[i]->len, md);
                for (int k = 0; k < 8; k++)
                        snprintf(hex + 2 * k, 3, "%02x", md[k]);
                vd_buf t;
                vd_buf_init(&t, 0);
                if (vd_buf_addf(&t, "%u bytes, sha256:%s...", (unsigned)x[i]->len, hex) < 0 || val_buf(&v[i], &t, false) < 0) {
                        vd_buf_release(&t);
                        free(v[0].s);
                        return VD_E_NOMEM;
                }
        }
        return add_change(b, attr, (size_t)al, v[0], v[1], runnable(b->path, b->path_len) ? VD_SEV_HIGH : VD_SEV_MEDIUM);
}

static int xattr_change(builder *b, const vd_xattr *ox, const vd_xattr *nx) {
        const char *name = ox ? ox->name : nx->name;
        if (strcmp(name, VD_NTSD_XATTR) == 0 || strcmp(name, VD_NTSD_ATTRIB_XATTR) == 0)
                return ntfs_change(b, ox, nx);
        if (!b->posix_modes && strncmp(name, "user.", 5) == 0)
                return stream_change(b, ox, nx);
        char attr[VD_XATTR_NAME_MAX + 8];
        int al = snprintf(attr, sizeof attr, "xattr.%s", name);
        vd_val ov = {0}, nv = {0};
        if (ox && val_bytes(&ov, ox->value, ox->len, false) < 0)
                return VD_E_NOMEM;
        if (nx && val_bytes(&nv, nx->value, nx->len, false) < 0) {
                free(ov.s);
                return VD_E_NOMEM;
        }
        return add_change(b, attr, (size_t)al, ov, nv, xattr_severity(name));
}

static int diff_xattrs(builder *b, const vd_entry *o, const vd_entry *n) {
        size_t i = 0, j = 0;
        int r = 0;
        while (r == 0 && (i < o->n_xattrs || j < n->n_xattrs)) {
                int c = i == o->n_xattrs ? 1 : j == n->n_xattrs ? -1 : strcmp(o->xattrs[i].name, n->xattrs[j].name);
                if (c < 0)
                        r = xattr_change(b, &o->xattrs[i++], NULL);
                else if (c > 0)
                        r = xattr_change(b, NULL, &n->xattrs[j++]);
                else {
                        const vd_xattr *x = &o->xattrs[i++], *y = &n->xattrs[j++];
                        if (x->len != y->len || memcmp(x->value, y->value, x->len) != 0)
                                r = xattr_change(b, x, y);
                }
        }
        return r;
}

static int add_owner_names(builder *b, const vd_entry *o, const vd_entry *n, bool user) {
        const char *on = o ? (user ? o->uname : o->gname) : NULL;
        const char *nn = n ? (user ? n->uname : n->gname) : NULL;
        if (!on && !nn)
                return 0;
        return add_attr(b, user ? "user" : "group", V_STR, on ? o : NULL, 0, on, on ? strlen(on) : 0, nn ? n : NULL,
                        0, nn, nn ? strlen(nn) : 0, VD_SEV_INFO);
}

/* Attributes of one side (added or removed): what the entry is. */
static int describe(builder *b, const vd_entry *e, bool added) {
        const vd_entry *o = added ? NULL : e, *n = added ? e : NULL;
        int r = add_attr(b, "type", V_TYPE, o, e->type, NULL, 0, n, e->type, NULL, 0, VD_SEV_INFO);
        if (!r)
                r = add_attr(b, "mode", V_MODE, o, e->mode, NULL, 0, n, e->mode, NULL, 0, VD_SEV_INFO);
        if (!r)
                r = add_attr(b, "uid", V_U64, o, e->uid, NULL, 0, n, e->uid, NULL, 0, VD_SEV_INFO);
        if (!r)
                r = add_owner_names(b, o, n, true);
        if (!r)
                r = add_attr(b, "gid", V_U64, o, e->gid, NULL, 0, n, e->gid, NULL, 0, VD_SEV_INFO);
        if (!r)
                r = add_owner_names(b, o, n, false);
        if (!r && e->type == VD_T_REG)
                r = add_attr(b, "size", V_U64, o, e->size, NULL, 0, n, e->size, NULL, 0, VD_SEV_INFO);
        if (!r && e->type == VD_T_LNK && e->target)
                r = add_attr(b, "target", V_BYTES, o, 0, e->target, e->target_len, n, 0, e->target, e->target_len,
                             VD_SEV_INFO);
        if (!r && vd_entry_hash_known(e))
                r = add_attr(b, "hash", V_HASH, o, 0, NULL, 0, n, 0, NULL, 0, VD_SEV_INFO);
        if (!r && e->status != VD_ST_OK)
                r = add_attr(b, "status", V_STATUS, o, 0, NULL, 0, n, 0, NULL, 0, VD_SEV_INFO);
        for (size_t i = 0; !r && i < e->n_xattrs; i++)
                r = xattr_change(b, added ? NULL : &e->xattrs[i], added ? &e->xattrs[i] : NULL);
        /* Severity of a new or vanished object. */
        int sev = VD_SEV_MEDIUM;
        if (added && b->posix_modes && e->type == VD_T_REG && (e->mode & 06000))
                sev = VD_SEV_HIGH;
        if (added && b->posix_modes && e->type != VD_T_LNK && (e->mode & 0002) &&
            !(e->type == VD_T_DIR && (e->mode & 01000)))
                sev = VD_SEV_HIGH;
        for (size_t i = 0; added && i < e->n_xattrs; i++)
                if (strcmp(e->xattrs[i].name, "security.capability") == 0)
                        sev = VD_SEV_HIGH;
        if (sev > b->sev)
                b->sev = sev;
        return r;
}

static int diff_entries(builder *b, const vd_entry *o, const vd_entry *n, uint32_t m) {
        int r = 0;
#define ATTR(bit, name, kind, ofield, nfield, sev)                                                                   \
        if (!r && (m & (bit)) && (ofield) != (nfield))                                                                \
                r = add_attr(b, name, kind, o, (uint64_t)(ofield), NULL, 0, n, (uint64_t)(nfield), NULL, 0, sev);
        ATTR(VD_A_TYPE, "type", V_TYPE, o->type, n->type, VD_SEV_HIGH)
        ATTR(VD_A_MODE, "mode", V_MODE, o->mode, n->mode, mode_severity(b, o->mode, n->mode, n->type))
        if (!r && (m & VD_A_UID) && o->uid != n->uid) {
                r = add_attr(b, "uid", V_U64, o, o->uid, NULL, 0, n, n->uid, NULL, 0, VD_SEV_HIGH);
                if (!r)
                        r = add_owner_names(b, o, n, true);
        }
        if (!r && (m & VD_A_GID) && o->gid != n->gid) {
                r = add_attr(b, "gid", V_U64, o, o->gid, NULL, 0, n, n->gid, NULL, 0, VD_SEV_HIGH);
                if (!r)
                        r = add_owner_names(b, o, n, false);
        }
        bool content_known = o->status == VD_ST_OK && n->status == VD_ST_OK;
        if (content_known || n->type != VD_T_REG) {
                ATTR(VD_A_SIZE, "size", V_U64, o->size, n->size, VD_SEV_MEDIUM)
        }
        if (!r && (m & VD_A_TARGET) &&
            (o->target_len != n->target_len || (o->target && n->target && memcmp(o->target, n->target, o->target_len))))
                r = add_attr(b, "target", V_BYTES, o, 0, o->target, o->target_len, n, 0, n->target, n->target_len,
                             VD_SEV_MEDIUM);
        if (!r && (m & VD_A_HASH) && content_known && (o->type == VD_T_REG || n->type == VD_T_REG) &&
            (o->hash_len != n->hash_len || o->hash_algo != n->hash_algo || memcmp(o->hash, n->hash, o->hash_len)))
                r = add_attr(b, "hash", V_HASH, vd_entry_hash_known(o) ? o : NULL, 0, NULL, 0, vd_entry_hash_known(n) ? n : NULL, 0,
                             NULL, 0, VD_SEV_MEDIUM);
        if (!r && o->status != n->status)
                r = add_attr(b, "status", V_STATUS, o, 0, NULL, 0, n, 0, NULL, 0, VD_SEV_MEDIUM);
        ATTR(VD_A_RDEV, "rdev", V_RDEV, o->rdev, n->rdev, VD_SEV_MEDIUM)
        if (!r && (m & VD_A_XATTRS))
                r = diff_xattrs(b, o, n);
        ATTR(VD_A_MTIME, "mtime", V_TIME, o->mtime_ns, n->mtime_ns, VD_SEV_LOW)
        ATTR(VD_A_CTIME, "ctime", V_TIME, o->ctime_ns, n->ctime_ns, VD_SEV_LOW)
        ATTR(VD_A_INODE, "inode", V_U64, o->ino, n->ino, VD_SEV_LOW)
        ATTR(VD_A_NLINK, "nlink", V_U64, o->nlink, n->nlink, VD_SEV_LOW)
#undef ATTR
        return r;
}

static int emit(vd_events *out, builder *b, int kind, const vd_entry *e, const vd_rule *rule, int det, int det_sev) {
        if (b->ev.n_ch == 0 && kind == VD_CH_CHANGED && det < 0)
                return 0;
        b->ev.kind = kind;
        b->ev.path = strndup(e->path, e->path_len);
        if (!b->ev.path)
                return VD_E_NOMEM;
        /* strndup stops at NUL, which a path cannot hold. */
        b->ev.path_len = e->path_len;
        b->ev.ftype = e->type;
        b->ev.rule = rule->name;
        b->ev.severity = rule->severity >= 0 ? rule->severity : b->sev;
        if (det >= 0) {
                b->ev.detector = vd_detector_name(det);
                if (det_sev > b->ev.severity)
                        b->ev.severity = det_sev;
        }
        int r = vd_events_push(out, &b->ev);
        if (r < 0)
                return r;
        memset(b, 0, sizeof *b);
        return 0;
}

/* per-clone: compare owner and mode with the rule's expectations (or, where
 * the rule names none, with the template's). Returns 0 and adds changes. */
static int per_clone_check(builder *b, const vd_rule *ru, const vd_entry *o, const vd_entry *n) {
        int r = 0;
        if (ru->has_mode ? (n->mode & 07777) != ru->mode : (o && o->mode != n->mode)) {
                vd_val ov = {0}, nv = {0};
                char m[16];
                snprintf(m, sizeof m, "%04o", ru->has_mode ? ru->mode : (o ? o->mode : 0));
                if (val_bytes(&ov, m, strlen(m), false) < 0)
                        return VD_E_NOMEM;
                snprintf(m, sizeof m, "%04o", n->mode);
                if (val_bytes(&nv, m, strlen(m), false) < 0) {
                        free(ov.s);
                        return VD_E_NOMEM;
                }
                r = add_change(b, "mode", 4, ov, nv, mode_severity(b, o ? o->mode : ru->mode, n->mode, n->type));
        }
        for (int u = 0; !r && u < 2; u++) {
                bool has = u == 0 ? ru->has_uid : ru->has_gid;
                const char *want_name = u == 0 ? ru->user : ru->group;
                uint32_t want = u == 0 ? ru->uid : ru->gid, got = u == 0 ? n->uid : n->gid;
                const char *got_name = u == 0 ? n->uname : n->gname;
                bool bad;
                char ob[300];
                if (has) {
                        bad = got != want;
                        snprintf(ob, sizeof ob, "%u", want);
                } else if (want_name) {
                        bad = !got_name || strcmp(got_name, want_name) != 0;
                        snprintf(ob, sizeof ob, "%s", want_name);
                } else if (o) {
                        uint32_t ow = u == 0 ? o->uid : o->gid;
                        bad = ow != got;
                        snprintf(ob, sizeof ob, "%u", ow);
                } else {
                        continue;
                }
                if (!bad)
                        continue;
                vd_val ov = {0}, nv = {0};
                char nb[300];
                if (want_name && !has)
                        snprintf(nb, sizeof nb, "%s", got_name ? got_name : "?");
                else
                        snprintf(nb, sizeof nb, "%u", got);
                bool num = !(want_name && !has);
                if (val_bytes(&ov, ob, strlen(ob), num) < 0)
                        return VD_E_NOMEM;
                if (val_bytes(&nv, nb, strlen(nb), num) < 0) {
                        free(ov.s);
                        return VD_E_NOMEM;
                }
                const char *an = u == 0 ? (num ? "uid" : "user") : (num ? "gid" : "group");
                r = add_change(b, an, strlen(an), ov, nv, VD_SEV_HIGH);
        }
        if (!r && o && (ru->attrs & VD_A_TYPE) && o->type != n->type)
                r = add_attr(b, "type", V_TYPE, o, o->type, NULL, 0, n, n->type, NULL, 0, VD_SEV_HIGH);
        if (!r && o && (ru->attrs & VD_A_XATTRS))
                r = diff_xattrs(b, o, n);
        return r;
}

/* ---- the merge, streamed ---- */

/* The scan's entries whose subtree may hold what comes next: those whose
 * range [path, path + "0") holds the last scan entry. Ranges of paths in
 * this order nest or are apart, so they form a stack, and every ancestor of
 * a path not yet passed is on it. Paths live in one buffer. */
struct open_ent {
        size_t off, len;
        uint8_t type, status;
        uint32_t mode;
        vd_xattr sd; /* a directory's NTFS security descriptor (a copy; value NULL: none) */
};

struct vd_cmp {
        const vd_policy *policy;
        vd_cmp_next_fn next;
        void *next_ctx;
        vd_cmp_seen_fn seen;
        void *seen_ctx;
        vd_events *out;
        const vd_entry *o; /* the baseline's next entry, not yet matched; NULL: none left */
        bool o_read;       /* o is read (or the end is) */
        vd_buf paths;
        struct open_ent *st;
        size_t n_st, st_alloc;
        builder b;
        vd_rule watch_all;
        /* Mounts whose file system has no POSIX modes (NTFS, FAT: ntfs-3g
         * shows every file 0777), from the scan's facts, read at the first
         * entry: there the mode detectors have nothing to read. */
        const vd_scan *facts;
        bool mounts_read;
        struct cmp_mnt {
                char *mp;
                size_t len;
                bool posix;
        } *mnts;
        size_t n_mnts, mnts_alloc;
};

static bool posix_fs(const char *type) {
        static const char *const none[] = {"ntfs", "ntfs3", "fuseblk", "vfat", "msdos", "exfat", NULL};
        for (size_t i = 0; none[i]; i++)
                if (strcmp(type, none[i]) == 0)
                        return false;
        return true;
}

/* mount.MP facts ("DEV FSTYPE") into c->mnts; 0 or VD_E_NOMEM. Only when
 * some file system has no modes: then every mount, so that the longest
 * mount above a path decides. */
static int read_mounts(vd_cmp *c) {
        c->mounts_read = true;
        bool any = false;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; c->facts && i < c->facts->n_facts; i++) {
                        const vd_fact *f = &c->facts->facts[i];
                        const char *type = f->value ? strrchr(f->value, ' ') : NULL;
                        if (strncmp(f->key, "mount./", 7) != 0 || !type)
                                continue;
                        bool posix = posix_fs(type + 1);
                        any |= !posix;
                        if (pass == 0 || !any)
                                continue;
                        if (vd_array_grow(&c->mnts, &c->mnts_alloc, c->n_mnts, sizeof *c->mnts, 4) < 0)
                                return VD_E_NOMEM;
                        struct cmp_mnt *m = &c->mnts[c->n_mnts];
                        if (!(m->mp = strdup(f->key + 6)))
                                return VD_E_NOMEM;
                        m->len = strlen(m->mp);
                        m->posix = posix;
                        c->n_mnts++;
                }
        return 0;
}

/* Do modes mean anything at path (on the file system of the longest mount
 * above it)? */
static bool posix_modes(const vd_cmp *c, const char *path, size_t len) {
        size_t best = 0;
        bool posix = true;
        for (size_t i = 0; i < c->n_mnts; i++) {
                const struct cmp_mnt *m = &c->mnts[i];
                bool above = (m->len == 1 && m->mp[0] == '/') ||
                             (len >= m->len && memcmp(path, m->mp, m->len) == 0 && (len == m->len || path[m->len] == '/'));
                if (above && m->len >= best) {
                        best = m->len;
                        posix = m->posix;
                }
        }
        return posix;
}

/* Does e (len bytes) lie in the subtree range of open entry k? */
static bool in_range(const vd_cmp *c, const struct open_ent *k, const char *p, size_t len) {
        const char *kp = c->paths.buf + k->off;
        if (len < k->len || memcmp(p, kp, k->len) != 0)
                return false;
        /* p starts with k: within its range unless p continues with a byte
         * at or after '0' (k + "0" and beyond) */
        return len == k->len || (unsigned char)p[k->len] < '0';
}

/* The scan entry at exactly path (an ancestor of what comes next), or NULL. */
static const struct open_ent *open_find(const vd_cmp *c, const char *p, size_t len) {
        for (size_t i = c->n_st; i-- > 0;)
                if (c->st[i].len == len && memcmp(c->paths.buf + c->st[i].off, p, len) == 0)
                        return &c->st[i];
        return NULL;
}

/* The nearest ancestor of path in the scan: is it a directory whose
 * content was not read? Then a baseline path under it is unknown, not gone. */
static bool under_unknown_dir(const vd_cmp *c, const char *path, size_t len) {
        while (len > 1) {
                size_t k = len;
                while (k > 0 && path[k - 1] != '/')
                        k--;
                if (k == 0)
                        return false;
                len = k > 1 ? k - 1 : 1;
                const struct open_ent *p = open_find(c, path, len);
                if (p)
                        return p->type == VD_T_DIR && p->status != VD_ST_OK;
        }
        return false;
}

/* n's parent directory in the scan, as the detectors want it. */
static vd_entry parent_of(const vd_cmp *c, const vd_entry *n, bool *have) {
        vd_entry pe;
        memset(&pe, 0, sizeof pe);
        *have = false;
        size_t k = n->path_len;
        while (k > 0 && n->path[k - 1] != '/')
                k--;
        const struct open_ent *p = k ? open_find(c, n->path, k > 1 ? k - 1 : 1) : NULL;
        if (p) {
                pe.type = p->type;
                pe.status = p->status;
                pe.mode = p->mode;
                if (p->sd.value) { /* borrowed: the open entry outlives the detector's look */
                        pe.xattrs = (vd_xattr *)&p->sd;
                        pe.n_xattrs = 1;
                }
                *have = true;
        }
        return pe;
}

static int open_push(vd_cmp *c, const vd_entry *n) {
        while (c->n_st && !in_range(c, &c->st[c->n_st - 1], n->path, n->path_len)) {
                c->n_st--;
                c->paths.len = c->st[c->n_st].off;
                free(c->st[c->n_st].sd.value);
        }
        if (vd_array_grow(&c->st, &c->st_alloc, c->n_st, sizeof *c->st, 16) < 0)
                return VD_E_NOMEM;
        size_t off = c->paths.len;
        if (vd_buf_add(&c->paths, n->path, n->path_len) < 0)
                return VD_E_NOMEM;
        struct open_ent oe = {off, n->path_len, n->type, n->status, n->mode, {(char *)VD_NTSD_XATTR, NULL, 0}};
        for (size_t i = 0; n->type == VD_T_DIR && i < n->n_xattrs; i++)
                if (strcmp(n->xattrs[i].name, VD_NTSD_XATTR) == 0) {
                        if (!(oe.sd.value = malloc(n->xattrs[i].len ? n->xattrs[i].len : 1)))
                                return VD_E_NOMEM;
                        memcpy(oe.sd.value, n->xattrs[i].value, n->xattrs[i].len);
                        oe.sd.len = n->xattrs[i].len;
                }
        c->st[c->n_st++] = oe;
        return 0;
}

/* One path: o (the baseline's), n (the scan's), either may be NULL. */
static int one(vd_cmp *c, const vd_entry *o, const vd_entry *n, const vd_entry *parent) {
        builder *b = &c->b;
        const vd_entry *e = o ? o : n;
        b->posix_modes = posix_modes(c, e->path, e->path_len);
        /* NTFS names compare case-insensitively: so do the policy's globs there */
        const vd_rule *rule = b->posix_modes ? vd_policy_match(c->policy, e->path, e->path_len, e->type)
                                             : vd_policy_match_icase(c->policy, e->path, e->path_len, e->type);
        b->path = e->path;
        b->path_len = e->path_len;
        vd_det_hit dh = vd_detect_file(c->policy, parent, o, n, b->posix_modes);
        int r = 0;
        if (rule->kind == VD_K_IGNORE) {
                /* Detectors look everywhere: an ignored /tmp still reports
                 * a new setuid file, in full. */
                if (dh.det < 0)
                        return 0;
                c->watch_all = *rule;
                c->watch_all.kind = VD_K_WATCH;
                c->watch_all.attrs = VD_A_ALL & ~(VD_A_MTIME | VD_A_CTIME | VD_A_INODE | VD_A_NLINK);
                c->watch_all.dir_attrs = c->watch_all.attrs & ~VD_A_DIR_OFF;
                rule = &c->watch_all;
        }
        if (!n) {
                if (under_unknown_dir(c, o->path, o->path_len))
                        return 0;
                r = describe(b, o, false);
                if (!r)
                        r = emit(c->out, b, VD_CH_REMOVED, o, rule, -1, -1);
        } else if (!o) {
                if (rule->kind == VD_K_PER_CLONE) {
                        /* Expected to be new on a clone: only a wrong owner
                         * or mode counts. */
                        r = per_clone_check(b, rule, NULL, n);
                        if (!r && (b->ev.n_ch || dh.det >= 0)) {
                                builder keep = *b;
                                vd_event_release(&b->ev);
                                memset(b, 0, sizeof *b);
                                b->posix_modes = keep.posix_modes;
                                b->path = keep.path;
                                b->path_len = keep.path_len;
                                r = describe(b, n, true);
                                if (!r)
                                        r = emit(c->out, b, VD_CH_ADDED, n, rule, dh.det, dh.sev);
                        } else if (!r) {
                                vd_event_release(&b->ev);
                                memset(b, 0, sizeof *b);
                        }
                } else {
                        r = describe(b, n, true);
                        if (!r)
                                r = emit(c->out, b, VD_CH_ADDED, n, rule, dh.det, dh.sev);
                }
        } else {
                uint32_t m = (o->type == VD_T_DIR && n->type == VD_T_DIR) ? rule->dir_attrs : rule->attrs;
                if (rule->kind == VD_K_PER_CLONE) {
                        r = per_clone_check(b, rule, o, n);
                } else {
                        r = diff_entries(b, o, n, m);
                        if (!r && rule->kind == VD_K_GROWING && o->type == VD_T_REG && n->type == VD_T_REG &&
                            n->size < o->size)
                                r = add_attr(b, "size", V_U64, o, o->size, NULL, 0, n, n->size, NULL, 0, VD_SEV_MEDIUM);
                }
                if (!r)
                        r = emit(c->out, b, VD_CH_CHANGED, n, rule, dh.det, dh.sev);
        }
        if (r < 0) {
                vd_event_release(&b->ev);
                memset(b, 0, sizeof *b);
        }
        return r;
}

static int peek(vd_cmp *c, vd_err *err) {
        if (c->o_read)
                return 0;
        int r = c->next(c->next_ctx, &c->o, err);
        if (r < 0)
                return r;
        c->o_read = true;
        return 0;
}

static int nomem(vd_err *err) { return vd_err_set(err, VD_E_NOMEM, "out of memory comparing entries"); }

/* The baseline's entries before n (all of them: n NULL), gone from the scan. */
static int removed_before(vd_cmp *c, const vd_entry *n, vd_err *err) {
        for (;;) {
                int r = peek(c, err);
                if (r < 0)
                        return r;
                if (!c->o || (n && vd_path_cmp(c->o->path, c->o->path_len, n->path, n->path_len) >= 0))
                        return 0;
                if (one(c, c->o, NULL, NULL) < 0)
                        return nomem(err);
                if (c->seen)
                        c->seen(c->seen_ctx, c->o, NULL);
                c->o_read = false;
        }
}

int vd_cmp_new(const vd_policy *policy, vd_cmp_next_fn next, void *next_ctx, vd_events *out, vd_cmp **ret,
               vd_err *err) {
        vd_cmp *c = calloc(1, sizeof *c);
        if (!c)
                return nomem(err);
        c->policy = policy;
        c->next = next;
        c->next_ctx = next_ctx;
        c->out = out;
        vd_buf_init(&c->paths, 0);
        *ret = c;
        return 0;
}

void vd_cmp_observe(vd_cmp *c, vd_cmp_seen_fn seen, void *ctx) {
        c->seen = seen;
        c->seen_ctx = ctx;
}

void vd_cmp_facts(vd_cmp *c, const vd_scan *scan) { c->facts = scan; }

int vd_cmp_put(vd_cmp *c, const vd_entry *n, vd_err *err) {
        if (!c->mounts_read && read_mounts(c) < 0)
                return nomem(err);
        if (c->n_st) {
                const struct open_ent *l = &c->st[c->n_st - 1];
                if (vd_path_cmp(c->paths.buf + l->off, l->len, n->path, n->path_len) >= 0)
                        return vd_err_set(err, VD_E_INTERNAL, "entries out of path order at '%.*s'",
                                          (int)(n->path_len > 200 ? 200 : n->path_len), n->path);
        }
        int r = removed_before(c, n, err);
        if (r < 0)
                return r;
        const vd_entry *o = c->o && vd_path_cmp(c->o->path, c->o->path_len, n->path, n->path_len) == 0 ? c->o : NULL;
        if (open_push(c, n) < 0)
                return nomem(err);
        bool have;
        vd_entry pe = parent_of(c, n, &have);
        if (one(c, o, n, have ? &pe : NULL) < 0)
                return nomem(err);
        if (c->seen)
                c->seen(c->seen_ctx, o, n);
        if (o)
                c->o_read = false;
        return 0;
}

int vd_cmp_end(vd_cmp *c, vd_err *err) { return removed_before(c, NULL, err); }

void vd_cmp_free(vd_cmp *c) {
        if (!c)
                return;
        vd_event_release(&c->b.ev);
        vd_buf_release(&c->paths);
        for (size_t i = 0; i < c->n_st; i++)
                free(c->st[i].sd.value);
        free(c->st);
        for (size_t i = 0; i < c->n_mnts; i++)
                free(c->mnts[i].mp);
        free(c->mnts);
        free(c);
}

/* A sorted list as the baseline's stream. */
struct vec_next {
        const vd_entries *es;
        size_t i;
};

static int vec_next(void *ctx, const vd_entry **ret, vd_err *err) {
        (void)err;
        struct vec_next *v = ctx;
        *ret = v->i < v->es->n ? v->es->v[v->i++] : NULL;
        return 0;
}

static int compare(const vd_entries *base, const vd_entries *scan, const vd_scan *facts, const vd_policy *policy,
                   vd_events *out, vd_err *err) {
        struct vec_next vn = {base, 0};
        vd_cmp *c = NULL;
        int r = vd_cmp_new(policy, vec_next, &vn, out, &c, err);
        if (r == 0)
                vd_cmp_facts(c, facts);
        for (size_t j = 0; r == 0 && j < scan->n; j++)
                r = vd_cmp_put(c, scan->v[j], err);
        if (r == 0)
                r = vd_cmp_end(c, err);
        vd_cmp_free(c);
        return r;
}

int vd_compare(const vd_entries *base, const vd_entries *scan, const vd_policy *policy, vd_events *out,
               vd_err *err) {
        return compare(base, scan, NULL, policy, out, err);
}

int vd_compare_scan(const vd_entries *base, const vd_scan *scan, const vd_policy *policy, vd_events *out,
                    vd_err *err) {
        return compare(base, &scan->entries, scan, policy, out, err);
}
