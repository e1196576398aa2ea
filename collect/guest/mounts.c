/* Mounting the guest read-only: inspection decides what goes where (the
 * shortest mountpoint first), or the baseline's recorded layout does when
 * every file system, /etc/fstab and the package database are as recorded
 * (reuse_layout: no inspection). Without an OS, each file system is mounted
 * under its device name. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_log.h"
#include "common/vd_str.h"

#include "guest_int.h"

/* qemu holds OFD locks on an image it has open: a running VM's disk is locked. */

static int cmp_mnt(const void *a, const void *b) {
        const struct mnt *x = a, *y = b;
        size_t lx = strlen(x->mp), ly = strlen(y->mp);
        return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->mp, y->mp);
}

static int add_mnt(struct guest_src *s, const char *mp, const char *dev) {
        if (vd_array_grow(&s->mnts, &s->mnts_alloc, s->n_mnts, sizeof *s->mnts, 8) < 0)
                return VD_E_NOMEM;
        struct mnt *n = s->mnts;
        n[s->n_mnts].mp = strdup(mp);
        n[s->n_mnts].dev = strdup(dev);
        if (!n[s->n_mnts].mp || !n[s->n_mnts].dev)
                return VD_E_NOMEM;
        s->n_mnts++;
        return 0;
}

/* Inspect the guest and decide what to mount where (s->mnts). */
static int find_mounts(struct guest_src *s, vd_err *err) {
        guestfs_h *g = s->g;
        char **roots = guestfs_inspect_os(g);
        if (!roots) {
                /* Inspection gave up (a Windows cmd.exe whose architecture it
                 * cannot read, a broken fstab): the file systems are still
                 * there to be checked, each under its device name. */
                if (vd_scan_warn(&s->pending, NULL, 0,
                                 "the guest could not be inspected (%s): every file system is scanned under its "
                                 "device name, without OS facts or packages",
                                 guestfs_last_error(g)) < 0 ||
                    !(roots = calloc(1, sizeof *roots)))
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        if (roots[0]) {
                s->root = strdup(roots[0]);
                if (roots[1])
                        vd_scan_warn(&s->pending, NULL, 0, "several operating systems found; scanning the one on %s",
                                     roots[0]);
                char **mps = guestfs_inspect_get_mountpoints(g, s->root);
                if (!mps) {
                        vdg_strv_free(roots);
                        return vdg_err(err, g, "cannot read the guest's mountpoints");
                }
                for (size_t i = 0; mps[i] && mps[i + 1]; i += 2)
                        if (add_mnt(s, mps[i], mps[i + 1]) < 0) {
                                vdg_strv_free(mps);
                                vdg_strv_free(roots);
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                vdg_strv_free(mps);
        } else {
                /* No OS: every file system under its device name, except
                 * our own scratch disk (formatted on the host with a random
                 * UUID, it has a file system before the guest is mounted). */
                char **fss = guestfs_list_filesystems(g);
                if (!fss) {
                        vdg_strv_free(roots);
                        return vdg_err(err, g, "cannot list file systems");
                }
                char *scratch = NULL;
                if (s->scratch_file && !(scratch = guestfs_findfs_uuid(g, s->scratch_uuid))) {
                        vdg_strv_free(fss);
                        vdg_strv_free(roots);
                        return vdg_err(err, g, "cannot find the scratch disk by its UUID");
                }
                for (size_t i = 0; fss[i] && fss[i + 1]; i += 2) {
                        const char *t = fss[i + 1];
                        if (strcmp(t, "swap") == 0 || strcmp(t, "unknown") == 0 || !*t)
                                continue;
                        size_t sl = scratch ? strlen(scratch) : 0;
                        if (scratch && strncmp(fss[i], scratch, sl) == 0 &&
                            (fss[i][sl] == '\0' || (fss[i][sl] >= '0' && fss[i][sl] <= '9')))
                                continue;
                        if (add_mnt(s, fss[i], fss[i]) < 0) {
                                free(scratch);
                                vdg_strv_free(fss);
                                vdg_strv_free(roots);
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                        }
                }
                free(scratch);
                vdg_strv_free(fss);
        }
        vdg_strv_free(roots);
        if (s->n_mnts == 0)
                return vd_err_set(err, VD_E_SOURCE, "no operating system and no file system found");
        qsort(s->mnts, s->n_mnts, sizeof *s->mnts, cmp_mnt);
        return 0;
}

/* Mount every file system read-only, shortest mountpoint first. */
static int do_mounts(struct guest_src *s, vd_err *err) {
        guestfs_h *g = s->g;
        size_t mounted = 0;
        for (size_t i = 0; i < s->n_mnts; i++) {
                /* A mountpoint is the guest's word (its fstab): one that
                 * leaves the tree is refused, and said. */
                if (s->root && !vd_mountpoint_ok(s->mnts[i].mp)) {
                        vd_scan_warn(&s->pending, s->mnts[i].mp, strlen(s->mnts[i].mp),
                                     "mountpoint refused: %s would be mounted outside the guest's tree",
                                     s->mnts[i].dev);
                        continue;
                }
                char *at = vdg_join(s->prefix, s->mnts[i].mp);
                if (!at)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                /* Without an OS, mountpoints are made on the scratch disk. */
                if (!s->root)
                        guestfs_mkdir_p(g, at); /* on the writable scratch disk */
                if (guestfs_mount_ro(g, s->mnts[i].dev, at) < 0)
                        vd_scan_warn(&s->pending, s->mnts[i].mp, strlen(s->mnts[i].mp), "cannot mount %s read-only: %s",
                                     s->mnts[i].dev, guestfs_last_error(g));
                else
                        mounted++;
                free(at);
        }
        if (mounted == 0)
                return vd_err_set(err, VD_E_SOURCE, "no file system could be mounted");
        return 0;
}

/* "sha256 of the regular file at path" in hex, or NULL if it is not one. */
/* The SHA-256 (hex) of a regular file, or NULL. A small one is read and
 * hashed here: guestfs_checksum runs sha256sum, a process in the appliance
 * (about three round trips' time under emulation). */
#define SHA256_HERE_MAX ((int64_t)8 << 20)

char *vdg_file_sha256(guestfs_h *g, const char *path) {
        struct guestfs_statns *st = guestfs_lstatns(g, path);
        bool reg = st && (st->st_mode & 0170000) == 0100000;
        bool small = reg && st->st_size <= SHA256_HERE_MAX;
        if (st)
                guestfs_free_statns(st);
        if (!reg)
                return NULL;
        if (!small)
                return guestfs_checksum(g, "sha256", path);
        size_t n = 0;
        char *data = guestfs_read_file(g, path, &n), *hex = NULL;
        vd_hasher *h = data ? vd_hasher_new(VD_HASH_SHA256, NULL) : NULL;
        unsigned char d[VD_HASH_MAX];
        int len = h && vd_hasher_update(h, data, n) == 0 ? vd_hasher_final(h, d) : -1;
        if (len == 32 && (hex = malloc(65)))
                vd_hex_to(hex, d, 32);
        vd_hasher_free(h);
        free(data);
        return hex;
}

const char *vdg_fact(const vd_guest_opts *o, const char *key) {
        for (size_t i = 0; i < o->n_layout_facts; i++)
                if (strcmp(o->layout_facts[i].key, key) == 0)
                        return o->layout_facts[i].value;
        return NULL;
}

static void forget_mounts(struct guest_src *s) {
        guestfs_umount_all(s->g);
        for (size_t i = 0; i < s->n_mnts; i++) {
                free(s->mnts[i].mp);
                free(s->mnts[i].dev);
        }
        s->n_mnts = 0;
        free(s->root);
        s->root = NULL;
        vdg_clear_warnings(&s->pending);
}

/* The file system with this UUID. In a shared appliance, only on the
 * guest's own drives, partitions or whole disks: the clones of a template
 * all carry its UUIDs, and the first found could be another guest's. */
static char *find_uuid(struct guest_src *s, const char *uuid) {
        if (!s->shared)
                return guestfs_findfs_uuid(s->g, uuid);
        if (!s->own_dev && vdg_share_own_devices(s) < 0)
                return NULL;
        for (size_t i = 0; i < s->n_own; i++)
                if (s->own_uuid[i][0] && strcasecmp(s->own_uuid[i], uuid) == 0)
                        return strdup(s->own_dev[i]);
        return NULL;
}

/* Mount the guest from the layout the baseline recorded, and take the
 * baseline's OS facts and packages, when that layout still describes it:
 * every file system found by its UUID with its type, /etc/fstab and the
 * package database unchanged. Returns 1 if so (mounted beneath s->prefix,
 * s->inv filled); 0 with why set if not (nothing left mounted, the scratch
 * disk included); or an error. */
int vdg_reuse_layout(struct guest_src *s, const vd_guest_opts *o, char *why, size_t whylen, vd_err *err) {
        guestfs_h *g = s->g;
        char fstab_path[64], hostname_path[64];
        snprintf(fstab_path, sizeof fstab_path, "%s/etc/fstab", s->prefix);
        snprintf(hostname_path, sizeof hostname_path, "%s/etc/hostname", s->prefix);
        const char *fstab = vdg_fact(o, "layout.fstab"), *root = vdg_fact(o, "os.root");
        if (!fstab || !root) {
                /* captured before layouts were recorded, or no OS: nothing to
                 * check against, and nothing the operator must act on */
                vd_debug("the baseline recorded no file system layout: full inspection");
                goto no;
        }
        for (size_t i = 0; i < o->n_layout_facts; i++) {
                const char *k = o->layout_facts[i].key, *v = o->layout_facts[i].value;
                if (strncmp(k, "layout.mount.", 13) != 0)
                        continue;
                char uuid[128], type[64];
                if (sscanf(v, "%127s %63s", uuid, type) != 2) {
                        snprintf(why, whylen, "the baseline's layout entry for %s is malformed", k + 13);
                        goto no;
                }
                char *dev = find_uuid(s, uuid);
                char *t = dev ? guestfs_vfs_type(g, dev) : NULL;
                bool ok = t && strcmp(t, type) == 0;
                if (!dev)
                        snprintf(why, whylen, "no file system with UUID %s (mounted at %s when captured)", uuid, k + 13);
                else if (!ok)
                        snprintf(why, whylen, "the file system with UUID %s is %s now, %s when captured", uuid,
                                 t ? t : "unreadable", type);
                int ar = ok ? add_mnt(s, k + 13, dev) : 0;
                free(t);
                free(dev);
                if (ar < 0)
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                if (!ok)
                        goto no;
        }
        for (size_t i = 0; i < s->n_mnts; i++)
                if (strcmp(s->mnts[i].mp, "/") == 0 && !(s->root = strdup(s->mnts[i].dev)))
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
        if (!s->root) {
                snprintf(why, whylen, "the baseline's layout has no root file system");
                goto no;
        }
        qsort(s->mnts, s->n_mnts, sizeof *s->mnts, cmp_mnt);
        vd_debug("layout: %zu file systems found by UUID", s->n_mnts);
        vd_err merr = VD_ERR_INIT;
        int mr = do_mounts(s, &merr);
        vd_debug("layout: mounted");
        if (mr < 0 || s->pending.n_warnings) {
                snprintf(why, whylen, "%.500s", mr < 0 ? merr.msg : s->pending.warnings[0].msg);
                goto no;
        }
        char *f = vdg_file_sha256(g, fstab_path);
        bool same = strcmp(f ? f : "none", fstab) == 0;
        free(f);
        if (!same) {
                snprintf(why, whylen, "/etc/fstab changed since the baseline");
                goto no;
        }
        vd_debug("layout: /etc/fstab checked");
        const char *pkgdb = vdg_fact(o, "layout.pkgdb");
        if (!pkgdb) {
                /* an older capture that found no package database: its
                 * packages cannot be shown to be this guest's */
                snprintf(why, whylen, "the baseline records no package database to check");
                goto no;
        }
        if (strcmp(pkgdb, "none") == 0) {
                if (!vdg_no_pkgdb(s)) {
                        snprintf(why, whylen, "a package database appeared since the baseline");
                        goto no;
                }
        } else {
                char path[512], h[128], at[600];
                char *now = NULL;
                if (sscanf(pkgdb, "%511s %127s", path, h) == 2 && path[0] == '/') {
                        snprintf(at, sizeof at, "%s%s", s->prefix, path);
                        now = vdg_file_sha256(g, at);
                }
                same = now && strcmp(now, h) == 0;
                free(now);
                if (!same) {
                        snprintf(why, whylen, "the package database changed since the baseline");
                        goto no;
                }
        }
        /* The baseline's facts and packages describe this guest; only the
         * hostname differs between clones of one template. Not what the
         * walker measures again (fs.*: geometry, mounts) nor what describes
         * the capture, not the guest (capture.*: its images' identity). */
        vd_scan *out = &s->inv;
        int r = 0;
        for (size_t i = 0; i < o->n_layout_facts && !r; i++) {
                const char *k = o->layout_facts[i].key;
                if (strcmp(k, "os.hostname") != 0 && strncmp(k, "fs.", 3) != 0 && strncmp(k, "capture.", 8) != 0)
                        r = vd_scan_add_fact(out, k, o->layout_facts[i].value);
        }
        if (!r) {
                vd_buf hn;
                vd_buf_init(&hn, 4096);
                char *c = NULL;
                size_t len = 0;
                struct guestfs_statns *st = guestfs_lstatns(g, hostname_path);
                if (st && (st->st_mode & 0170000) == 0100000 && st->st_size <= 4096 &&
                    (c = guestfs_read_file(g, hostname_path, &len)) != NULL) {
                        size_t n = 0;
                        while (n < len && c[n] != '\n' && c[n] != '\r' && c[n] != '\0')
                                n++;
                        while (n > 0 && (c[n - 1] == ' ' || c[n - 1] == '\t'))
                                n--;
                        if (n)
                                vd_buf_add(&hn, c, n);
                }
                if (st)
                        guestfs_free_statns(st);
                free(c);
                const char *type = vdg_fact(o, "os.type"), *sysroot = vdg_fact(o, "os.systemroot");
                if (!hn.len && type && strcmp(type, "windows") == 0) {
                        /* Windows keeps it in the SYSTEM hive, as inspection reads it */
                        char at[1200];
                        snprintf(at, sizeof at, "%s%s/System32/config/SYSTEM", s->prefix,
                                 sysroot && sysroot[0] == '/' && strlen(sysroot) < 512 ? sysroot : "/Windows");
                        char *w = vdg_windows_hostname(s, at);
                        if (w)
                                vd_buf_adds(&hn, w);
                        free(w);
                }
                if (hn.len)
                        r = vd_scan_add_fact(out, "os.hostname", hn.buf);
                vd_buf_release(&hn);
        }
        out->packages_known = true; /* the package database's hash is the baseline's */
        for (size_t i = 0; i < o->n_layout_packages && !r; i++) {
                r = vd_scan_copy_package(out, &o->layout_packages[i]);
        }
        if (r < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_scan_sort_inventory(out);
        s->have_inv = true;
        return 1;
no:
        forget_mounts(s);
        return 0;
}

/* Inspect; mount at / and read the inventory (libguestfs inspection wants the
 * guest at /); for the walker, remount beneath the scratch disk at /guest. */
int vdg_mount_guest_prepare(struct guest_src *s, const vd_guest_opts *o, vd_err *err) {
        bool walker = o->want_walker && o->strategy == VD_GUEST_WALKER;
        char *prefix = s->prefix;
        int r = 0, reused = 0;
        if (o->layout_facts && !o->inspect_always && vdg_fact(o, "layout.fstab") && vdg_fact(o, "os.root")) {
                /* with the walker: straight beneath the scratch disk, no
                 * mount at / to undo (a failed check unmounts it again:
                 * inspection must never see our scratch disk mounted) */
                if (walker && (r = vdg_prepare_scratch(s, err)) < 0)
                        return r;
                char why[600] = "";
                reused = vdg_reuse_layout(s, o, why, sizeof why, err);
                if (reused < 0)
                        return reused;
                s->layout_reused = reused == 1;
                if (reused)
                        vd_debug("mounted from the baseline's layout: %zu file systems, no inspection", s->n_mnts);
                else if (why[0]) {
                        vd_debug("layout not reused: %s", why);
                        if (vd_scan_warn(&s->launch_notes, NULL, 0,
                                         "the baseline's file system layout does not match the guest (%s): "
                                         "inspected it in full",
                                         why) < 0)
                                return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
        }
        if (!reused) {
                r = find_mounts(s, err);
                if (r < 0)
                        return r;
                vd_debug("inspected: %s, %zu file systems", s->root ? s->root : "no OS", s->n_mnts);
                if (!walker || s->root) {
                        s->prefix = (char *)"";
                        r = do_mounts(s, err);
                        s->prefix = prefix;
                }
                if (r == 0)
                        r = vdg_collect_inventory(s, err);
        }
        vd_debug("inventory: %zu facts, %zu packages", s->inv.n_facts, s->inv.n_packages);
        if (r == 0 && walker && !reused) {
                if (s->root) {
                        vdg_clear_warnings(&s->pending); /* the second pass says them again */
                        if (guestfs_umount_all(s->g) < 0)
                                r = vdg_err(err, s->g, "cannot unmount the guest");
                }
                if (r == 0)
                        r = vdg_prepare_scratch(s, err);
                vd_debug("scratch disk ready");
                if (r == 0)
                        r = do_mounts(s, err);
        }
        return r;
}
