/* The api strategy: the guest walked with libguestfs calls per directory
 * (lstatnslist, lxattrlist, readlinklist, in batches), content hashed on the
 * host (hashing.c). Slower than the walker; used when the walker cannot run. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_int.h"

static int api_dir(struct guest_src *s, const char *gpath, unsigned depth, const vd_scan_opts *o, vd_scan *out,
                   vd_err *err);

/* ---- strategy: api (per-directory calls, pread on the host) ---- */

static uint8_t type_of_mode(int64_t m) {
        switch (m & 0170000) {
        case 0100000: return VD_T_REG;
        case 0040000: return VD_T_DIR;
        case 0120000: return VD_T_LNK;
        case 0020000: return VD_T_CHR;
        case 0060000: return VD_T_BLK;
        case 0010000: return VD_T_FIFO;
        case 0140000: return VD_T_SOCK;
        default: return VD_T_UNKNOWN;
        }
}

static void fill_statns(vd_entry *e, const struct guestfs_statns *st) {
        e->type = type_of_mode(st->st_mode);
        e->mode = (uint32_t)(st->st_mode & 07777);
        e->uid = (uint32_t)st->st_uid;
        e->gid = (uint32_t)st->st_gid;
        e->size = e->type == VD_T_REG || e->type == VD_T_LNK ? (uint64_t)st->st_size : 0;
        e->mtime_ns = st->st_mtime_sec * 1000000000 + st->st_mtime_nsec;
        e->ctime_ns = st->st_ctime_sec * 1000000000 + st->st_ctime_nsec;
        e->ino = (uint64_t)st->st_ino;
        e->nlink = (uint64_t)st->st_nlink;
        e->rdev = e->type == VD_T_CHR || e->type == VD_T_BLK ? (uint64_t)st->st_rdev : 0;
}

static int api_children(struct guest_src *s, const char *gpath, char **names, unsigned depth, const vd_scan_opts *o,
                        vd_scan *out, vd_err *err) {
        guestfs_h *g = s->g;
        char *apath = vdg_join(s->prefix, gpath);
        if (!apath)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        size_t n = 0;
        while (names[n])
                n++;
        struct guestfs_statns_list *sts = guestfs_lstatnslist(g, apath, names);
        struct guestfs_xattr_list *xs = guestfs_lxattrlist(g, apath, names);
        char **links = guestfs_readlinklist(g, apath, names);
        int r = 0;
        if (!sts || sts->len != n) {
                r = vd_scan_warn(out, gpath, strlen(gpath), "cannot stat the entries: %s", guestfs_last_error(g));
                goto out;
        }
        /* lxattrlist: a record with an empty name starts each file; its value is the count. */
        size_t xi = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                vd_entry *e = vd_entry_new();
                char *p = NULL;
                if (!e || asprintf(&p, "%s/%s", strcmp(gpath, "/") ? gpath : "", names[i]) < 0) {
                        vd_entry_free(e);
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                e->path = p;
                e->path_len = strlen(p);
                fill_statns(e, &sts->val[i]);
                if (xs && xi < xs->len && xs->val[xi].attrname[0] == '\0') {
                        unsigned long cnt = strtoul(xs->val[xi].attrval, NULL, 10);
                        xi++;
                        for (unsigned long k = 0; k < cnt && xi < xs->len; k++, xi++)
                                vd_entry_add_xattr(e, xs->val[xi].attrname, xs->val[xi].attrval,
                                                   xs->val[xi].attrval_len);
                        vd_entry_sort_xattrs(e);
                }
                if (e->type == VD_T_LNK && links && links[i] && strlen(links[i]) <= VD_TARGET_MAX) {
                        e->target = strdup(links[i]);
                        e->target_len = e->target ? strlen(e->target) : 0;
                }
                if (vd_entries_push(&out->entries, e) < 0) {
                        vd_entry_free(e);
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                if (e->type == VD_T_DIR) {
                        if (depth + 1 >= (o->max_depth ? o->max_depth : VD_DEPTH_MAX_DEFAULT)) {
                                e->status = VD_ST_NOT_DESCENDED;
                                r = vd_scan_warn(out, e->path, e->path_len, "directory too deep: not descended");
                        } else
                                r = api_dir(s, e->path, depth + 1, o, out, err);
                }
        }
out:
        if (sts)
                guestfs_free_statns_list(sts);
        if (xs)
                guestfs_free_xattr_list(xs);
        vdg_strv_free(links);
        free(apath);
        return r;
}

static int api_dir(struct guest_src *s, const char *gpath, unsigned depth, const vd_scan_opts *o, vd_scan *out,
                   vd_err *err) {
        char *apath = vdg_join(s->prefix, gpath);
        if (!apath)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        char **names = guestfs_ls(s->g, apath);
        free(apath);
        if (!names) {
                vd_entry *d = (vd_entry *)vd_entries_find(&out->entries, gpath, strlen(gpath));
                if (d) {
                        d->status = VD_ST_UNREADABLE;
                        d->status_errno = EIO;
                }
                return vd_scan_warn(out, gpath, strlen(gpath), "cannot list directory: %s", guestfs_last_error(s->g));
        }
        /* lstatnslist & co take up to a protocol message of names: go in batches. */
        size_t n = 0;
        while (names[n])
                n++;
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i += 1000) {
                size_t k = n - i < 1000 ? n - i : 1000;
                char **batch = calloc(k + 1, sizeof *batch);
                if (!batch) {
                        r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                        break;
                }
                memcpy(batch, names + i, k * sizeof *batch);
                r = api_children(s, gpath, batch, depth, o, out, err);
                free(batch);
        }
        vdg_strv_free(names);
        return r;
}

int vdg_run_api(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        guestfs_h *g = s->g;
        char *apath = vdg_join(s->prefix, "/");
        if (!apath)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        struct guestfs_statns *st = guestfs_lstatns(g, apath);
        free(apath);
        if (!st)
                return vdg_err(err, g, "cannot stat the guest's root");
        vd_entry *root = vd_entry_new();
        if (!root || vd_entry_set_path(root, "/", 1) < 0 || vd_entries_push(&out->entries, root) < 0) {
                guestfs_free_statns(st);
                vd_entry_free(root);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        fill_statns(root, st);
        guestfs_free_statns(st);
        int r = api_dir(s, "/", 0, o, out, err);
        if (r == 0) {
                vd_entries_sort(&out->entries);
                r = vdg_fill_hashes(s, o, out, err);
        }
        return r;
}
