/* One appliance, several guests: the fleet's shared appliance (docs/fleet.md
 * "One appliance, several guests"). The plan (vd_guest_share_new), the
 * launch with every planned guest's overlays, a guest attached by its
 * baseline's layout on its own drives only, and detached again. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vd_imageinfo.h"
#include "common/vd_log.h"
#include "common/vd_str.h"

#include "guest_int.h"

/* ---- one appliance, several guests (vmdrift fleet) ----
 *
 * libguestfs cannot add a drive to a running appliance, so the guests that
 * share one are known before it starts: vd_guest_share_new names them,
 * in the order they will be opened. The first opened starts an appliance
 * with the disks (our overlays) of up to per_appliance guests not yet
 * scanned; each guest then mounts its own file systems from its baseline's
 * layout (found by UUID on its own drives only: every clone of a template
 * carries the template's UUIDs), is walked with the drives renumbered
 * (walker --disks), and is unmounted again. A guest that cannot be mounted
 * that way (no recorded layout, a layout that changed, LVM, a file system
 * other than ext2/3/4 or vfat, an image in use) gets an appliance of its
 * own, as a single scan would. A failed scan retires the shared appliance:
 * the next guest starts a fresh one. */

struct share_guest {
        char *name;    /* for the reports of the guests it shares with */
        char **images; /* as given, and resolved */
        char **real;
        size_t n_images;
        bool done;
        bool in_app;          /* its disks are in the running appliance */
        unsigned first;       /* its first drive there */
        char (*formats)[32]; /* as added */
};

struct vd_guest_share {
        struct share_guest *gs;
        size_t n;
        unsigned per_app;
        vd_source *app; /* the running appliance: handle, every guest's overlay, scratch disk */
        unsigned served, in_app;
        size_t launches;
        char **devs, **parts; /* the appliance's, listed once (each list is a udev settle) */
        bool walker_up;       /* the walker is on its scratch disk */
        bool scratch_mounted; /* at /, nothing else mounted */
        vd_buf reference;     /* the bytes of the /reference on its scratch disk (clones share a baseline) */
        struct held {         /* the images the running appliance holds: not "in use" to its guests */
                dev_t dev;
                ino_t ino;
        } *held;
        size_t n_held;
};

/* Is the walker on the shared appliance's scratch disk? uploaded: it is now. */
bool vdg_share_walker(vd_guest_share *share, bool uploaded) {
        if (share && uploaded)
                share->walker_up = true;
        return share && share->walker_up;
}

/* Is this reference (b) the one on the shared appliance's scratch disk? */
bool vdg_share_reference_is(const vd_guest_share *share, const vd_buf *b) {
        return share && share->walker_up && share->reference.len && share->reference.len == b->len &&
               memcmp(share->reference.buf, b->buf, b->len) == 0;
}

/* It is b now (NULL: unknown, as during an upload that may fail halfway). */
void vdg_share_reference_set(vd_guest_share *share, const vd_buf *b) {
        if (!share)
                return;
        share->reference.len = 0;
        if (b && vd_buf_add(&share->reference, b->buf, b->len) < 0)
                share->reference.len = 0;
}

static void share_close_app(vd_guest_share *share) {
        if (share && share->app) {
                vd_debug("share: retiring the appliance after %u guests", share->served);
                guest_close(share->app);
                share->app = NULL;
                for (size_t i = 0; i < share->n; i++)
                        share->gs[i].in_app = false;
                free(share->held);
                share->held = NULL;
                share->n_held = 0;
                vdg_strv_free(share->devs);
                vdg_strv_free(share->parts);
                share->devs = share->parts = NULL;
                share->walker_up = share->scratch_mounted = false;
                vdg_share_reference_set(share, NULL);
        }
}

static void share_guest_free(struct share_guest *sg) {
        free(sg->name);
        for (size_t i = 0; i < sg->n_images; i++) {
                free(sg->images[i]);
                free(sg->real[i]);
        }
        free(sg->images);
        free(sg->real);
        free(sg->formats);
}

void vd_guest_share_free(vd_guest_share *share) {
        if (!share)
                return;
        share_close_app(share);
        for (size_t i = 0; i < share->n; i++)
                share_guest_free(&share->gs[i]);
        free(share->gs);
        vd_buf_release(&share->reference);
        free(share->held);
        free(share);
}

/* The guest's drives and their partitions, with the UUID each holds: the
 * appliance's devices listed once, then one read per device of the guest.
 * Drive k is the k-th device listed (guestfs_device_index). */
int vdg_share_own_devices(struct guest_src *s) {
        guestfs_h *g = s->g;
        vd_guest_share *share = s->share;
        if (!share->devs || !share->parts) {
                vdg_strv_free(share->devs);
                vdg_strv_free(share->parts);
                share->devs = guestfs_list_devices(g);
                share->parts = guestfs_list_partitions(g);
                if (!share->devs || !share->parts)
                        return -1;
        }
        size_t nd = 0, np = 0;
        while (share->devs[nd])
                nd++;
        while (share->parts[np])
                np++;
        s->own_dev = calloc(nd + np + 1, sizeof *s->own_dev);
        s->own_uuid = calloc(nd + np + 1, sizeof *s->own_uuid);
        if (!s->own_dev || !s->own_uuid)
                return -1;
        for (size_t i = s->disk_first; i < nd && i - s->disk_first < s->n_images; i++) {
                const char *d = share->devs[i];
                size_t dl = strlen(d);
                s->own_dev[s->n_own++] = strdup(d);
                for (size_t k = 0; k < np; k++) {
                        const char *p = share->parts[k];
                        if (strncmp(p, d, dl) != 0 || !p[dl] || strspn(p + dl, "0123456789") != strlen(p + dl))
                                continue;
                        s->own_dev[s->n_own++] = strdup(p);
                }
        }
        for (size_t i = 0; i < s->n_own; i++) {
                size_t n = 0;
                char *b = s->own_dev[i] ? guestfs_pread_device(g, s->own_dev[i], 2048, 0, &n) : NULL;
                vd_fs_uuid((const unsigned char *)b, b ? n : 0, s->own_uuid[i]); /* blkid is a process a device */
                free(b);
        }
        return 0;
}

/* The other guests in the running shared appliance, a name a line. */
char *vdg_share_peers(const vd_guest_share *share, size_t self) {
        vd_buf b;
        vd_buf_init(&b, 0);
        for (size_t i = 0; share && i < share->n; i++)
                if (i != self && share->gs[i].in_app && (vd_buf_adds(&b, share->gs[i].name) < 0 || vd_buf_addc(&b, '\n') < 0)) {
                        vd_buf_release(&b);
                        return NULL;
                }
        return vd_buf_detach(&b, NULL);
}

unsigned vdg_share_guests(const vd_guest_share *share) {
        return share ? share->in_app : 1;
}

size_t vd_guest_share_launches(const vd_guest_share *share) {
        return share ? share->launches : 0;
}

int vd_guest_share_new(const vd_share_guest *gs, size_t n, unsigned per_appliance, vd_guest_share **ret,
                       vd_err *err) {
        *ret = NULL;
        if (per_appliance < 2 || n == 0)
                return 0;
        vd_guest_share *share = calloc(1, sizeof *share);
        if (!share || !(share->gs = calloc(n, sizeof *share->gs)))
                goto nomem;
        vd_buf_init(&share->reference, MANIFEST_MAX);
        share->n = n;
        share->per_app = per_appliance;
        for (size_t i = 0; i < n; i++) {
                struct share_guest *sg = &share->gs[i];
                sg->n_images = gs[i].n_images;
                const char *nm = gs[i].name ? gs[i].name : gs[i].n_images ? gs[i].images[0] : "?";
                if (!(sg->name = strdup(nm)) || !(sg->images = calloc(gs[i].n_images + 1, sizeof *sg->images)) ||
                    !(sg->real = calloc(gs[i].n_images + 1, sizeof *sg->real)) ||
                    !(sg->formats = calloc(gs[i].n_images + 1, sizeof *sg->formats)))
                        goto nomem;
                for (size_t k = 0; k < gs[i].n_images; k++) {
                        if (!(sg->images[k] = strdup(gs[i].images[k])))
                                goto nomem;
                        sg->real[k] = realpath(gs[i].images[k], NULL); /* NULL: never matched */
                }
        }
        *ret = share;
        return 0;
nomem:
        vd_guest_share_free(share);
        return vd_err_set(err, VD_E_NOMEM, "out of memory");
}

/* The planned guest o is, by its images' real paths; -1 if none. */
long vdg_share_find(const vd_guest_opts *o) {
        const vd_guest_share *share = o->share;
        if (!share || o->domain || o->n_images == 0)
                return -1;
        char *real[VD_DISKS_MAX];
        if (o->n_images >= VD_DISKS_MAX)
                return -1;
        for (size_t i = 0; i < o->n_images; i++)
                real[i] = realpath(o->images[i], NULL);
        long found = -1;
        for (size_t j = 0; j < share->n && found < 0; j++) {
                struct share_guest *sg = &share->gs[j];
                bool same = !sg->done && sg->n_images == o->n_images;
                for (size_t i = 0; same && i < o->n_images; i++)
                        same = real[i] && sg->real[i] && strcmp(real[i], sg->real[i]) == 0;
                if (same)
                        found = (long)j;
        }
        for (size_t i = 0; i < o->n_images; i++)
                free(real[i]);
        return found;
}

/* Only file systems whose clones the appliance's kernel tells apart by
 * device: ext2/3/4 and vfat (btrfs registers devices by file system UUID,
 * and LVM finds volume groups by name on every drive). why: if not. */
bool vdg_share_layout_ok(const vd_guest_opts *o, char *why, size_t whylen) {
        if (o->inspect_always || !vdg_fact(o, "layout.fstab") || !vdg_fact(o, "os.root")) {
                snprintf(why, whylen, "%s", o->inspect_always ? "full inspection asked for"
                                                                : "the baseline records no file system layout");
                return false;
        }
        for (size_t i = 0; i < o->n_layout_facts; i++) {
                if (strncmp(o->layout_facts[i].key, "layout.mount.", 13) != 0)
                        continue;
                char uuid[128], type[64];
                if (sscanf(o->layout_facts[i].value, "%127s %63s", uuid, type) != 2 ||
                    (strcmp(type, "ext4") && strcmp(type, "ext3") && strcmp(type, "ext2") && strcmp(type, "vfat"))) {
                        snprintf(why, whylen, "%.100s is %.40s, not ext2/3/4 or vfat", o->layout_facts[i].key + 13,
                                 type);
                        return false;
                }
        }
        return true;
}

/* Start an appliance with guest j's disks and those of the next planned
 * guests not yet scanned, up to per_app guests. o: guest j's options (the
 * accelerator, the backing files allowed, the walker). */
static int share_launch(vd_guest_share *share, const vd_guest_opts *o, size_t j, const char (*formats_j)[32], vd_err *err) {
        vd_source *src = NULL;
        int r = vdg_new(o, &vdg_image_ops, VD_GUEST_WALKER, true, &src, err);
        if (r < 0)
                return r;
        struct guest_src *a = src->priv;
        size_t total = 0;
        for (size_t p = j; p < share->n; p++)
                total += share->gs[p].n_images;
        if (!(a->overlays = calloc(total + 1, sizeof *a->overlays)) ||
            !(a->formats = calloc(total + 1, sizeof *a->formats)) ||
            asprintf(&a->ovl_dir, "%s/vmdrift-ovl.XXXXXX", a->tmp_dir) < 0) {
                a->ovl_dir = NULL;
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
        } else if (!mkdtemp(a->ovl_dir)) {
                r = vd_err_errno(err, VD_E_IO, errno, "cannot create a directory for the overlays");
                free(a->ovl_dir);
                a->ovl_dir = NULL;
        }
        guestfs_h *t = r == 0 ? guestfs_create() : NULL;
        if (r == 0 && !t)
                r = vd_err_set(err, VD_E_SOURCE, "cannot create a libguestfs handle");
        if (t)
                guestfs_set_error_handler(t, NULL, NULL);
        unsigned guests = 0;
        for (size_t p = j; r == 0 && p < share->n && guests < share->per_app; p++) {
                struct share_guest *sg = &share->gs[p];
                if (sg->done)
                        continue;
                /* another guest's images, checked as its own scan will
                 * check them (with this guest's allowed backing files: a
                 * fleet gives every guest the same) */
                bool ok = true;
                size_t k0 = a->n_images;
                for (size_t i = 0; ok && i < sg->n_images; i++) {
                        vd_err e = VD_ERR_INIT;
                        if (p == j)
                                memcpy(sg->formats[i], formats_j[i], sizeof sg->formats[i]);
                        else if (!sg->real[i] || vd_image_in_use(sg->images[i]) ||
                                 vd_image_check_chain(sg->images[i], o->format, o->allow_backing, o->n_allow_backing,
                                                      sg->formats[i], &e) < 0)
                                ok = false;
                        size_t k = a->n_images;
                        if (ok && asprintf(&a->overlays[k], "%s/disk%zu.qcow2", a->ovl_dir, k) < 0) {
                                a->overlays[k] = NULL;
                                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                                ok = false;
                        }
                        if (ok && guestfs_disk_create(t, a->overlays[k], "qcow2", -1, GUESTFS_DISK_CREATE_BACKINGFILE,
                                                      sg->real[i], GUESTFS_DISK_CREATE_BACKINGFORMAT, sg->formats[i],
                                                      -1) < 0) {
                                if (p == j)
                                        r = vd_err_set(err, VD_E_SOURCE, "cannot create an overlay of '%s': %s",
                                                       sg->images[i], guestfs_last_error(t));
                                ok = false;
                        }
                        if (a->overlays[k])
                                snprintf(a->formats[k], sizeof a->formats[k], "qcow2");
                        if (a->overlays[k])
                                a->n_images++;
                        if (!ok && e.msg[0])
                                vd_debug("share: %s not added: %s", sg->images[i], e.msg);
                }
                if (!ok) {
                        /* not this guest's drives after all */
                        while (a->n_images > k0) {
                                a->n_images--;
                                unlink(a->overlays[a->n_images]);
                                free(a->overlays[a->n_images]);
                                a->overlays[a->n_images] = NULL;
                        }
                        if (p == j && r == 0)
                                r = vd_err_set(err, VD_E_SOURCE, "cannot add guest's disks to the appliance");
                        continue;
                }
                sg->in_app = true;
                sg->first = (unsigned)k0;
                guests++;
        }
        if (t)
                guestfs_close(t);
        if (r == 0 && a->n_images + 1 > VD_DRIVES_MAX)
                r = vd_err_set(err, VD_E_LIMIT, "more than %u drives", VD_DRIVES_MAX - 1);
        int64_t t0 = vd_now_ns();
        if (r == 0)
                r = vdg_launch(a, o, err);
        if (r < 0) {
                for (size_t p = 0; p < share->n; p++)
                        share->gs[p].in_app = false;
                guest_close(src);
                return r;
        }
        a->launch_ns = vd_now_ns() - t0;
        if (a->scratch_file)
                unlink(a->scratch_file); /* qemu holds it open */
        /* the images are ours now: not "in use" to the guests' own checks */
        free(share->held);
        share->n_held = 0;
        share->held = calloc(a->n_images + 1, sizeof *share->held);
        for (size_t p = 0; share->held && p < share->n; p++)
                for (size_t i = 0; share->gs[p].in_app && i < share->gs[p].n_images; i++) {
                        struct stat st;
                        if (share->gs[p].real[i] && stat(share->gs[p].real[i], &st) == 0)
                                share->held[share->n_held++] = (struct held){st.st_dev, st.st_ino};
                }
        if (!share->held) {
                for (size_t p = 0; p < share->n; p++)
                        share->gs[p].in_app = false;
                guest_close(src);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        share->app = src;
        share->served = 0;
        share->in_app = guests;
        share->launches++;
        vd_debug("share: appliance up with %u guests, %zu drives", guests, a->n_images);
        return 0;
}

/* Scan guest o (planned as j) in the shared appliance: 1 and s mounted, 0
 * and why when it must have an appliance of its own, or an error. */
int vdg_share_attach(struct guest_src *s, const vd_guest_opts *o, size_t j, char *why, size_t whylen,
                     vd_err *err) {
        vd_guest_share *share = o->share;
        struct share_guest *sg = &share->gs[j];
        vd_debug("share: attaching guest %zu", j);
        if (!vdg_share_layout_ok(o, why, whylen))
                return 0;
        if (s->in_use) {
                snprintf(why, whylen, "an image is in use by a running VM");
                return 0;
        }
        if (o->hash_in != VD_HASH_IN_HOST || !o->want_walker || o->strategy != VD_GUEST_WALKER) {
                snprintf(why, whylen, "not the walker with host-side reads");
                return 0;
        }
        struct guest_src *a = share->app ? share->app->priv : NULL;
        if (a && (!sg->in_app || share->served >= share->per_app || guestfs_is_ready(a->g) != 1))
                share_close_app(share);
        bool launched = false;
        if (!share->app) {
                int r = share_launch(share, o, j, (const char(*)[32])s->formats, err);
                if (r < 0)
                        return r;
                launched = true;
        }
        a = share->app->priv;
        if (!sg->in_app) {
                snprintf(why, whylen, "its disks could not be added to a shared appliance");
                return 0;
        }
        for (size_t i = 0; i < o->n_images; i++)
                if (strcmp(s->formats[i], sg->formats[i]) != 0) {
                        snprintf(why, whylen, "image %zu's format changed", i);
                        return 0;
                }
        s->g = a->g;
        s->shared = true;
        s->share_idx = j;
        s->disk_first = sg->first;
        s->overlays = calloc(o->n_images, sizeof *s->overlays);
        if (!s->overlays)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        for (size_t i = 0; i < o->n_images; i++)
                s->overlays[i] = a->overlays[sg->first + i];
        if (launched) {
                s->launch_ns = a->launch_ns;
                for (size_t i = 0; i < a->launch_notes.n_warnings; i++)
                        vd_scan_warn(&s->launch_notes, NULL, 0, "%s", a->launch_notes.warnings[i].msg);
        }
        int64_t t0 = vd_now_ns();
        /* the scratch disk at /, nothing of the previous guest mounted */
        int r = 0;
        if (!share->scratch_mounted) {
                if (guestfs_umount_all(a->g) < 0)
                        r = vdg_err(err, a->g, "cannot unmount the previous guest");
                if (r == 0)
                        r = vdg_prepare_scratch(a, err);
                share->scratch_mounted = r == 0;
                vd_debug("share: scratch disk mounted");
        }
        int reused = r == 0 ? vdg_reuse_layout(s, o, why, whylen, err) : r;
        if (reused == 0)
                share->scratch_mounted = false; /* reuse_layout unmounted everything */
        if (reused <= 0) {
                free(s->overlays);
                s->overlays = NULL;
                s->g = NULL;
                s->shared = false;
                if (reused < 0)
                        share_close_app(share);
                return reused;
        }
        s->layout_reused = true;
        s->mount_ns = vd_now_ns() - t0;
        vd_debug("share: guest %zu mounted in the shared appliance (drives %u-%zu)", j, sg->first,
                 sg->first + o->n_images - 1);
        return 1;
}

/* The guest is done: leave the appliance clean for the next, or retire it. */
void vdg_share_detach(struct guest_src *s) {
        vd_guest_share *share = s->share;
        guestfs_h *g = s->g;
        /* The files this guest left on the scratch disk stay (a round trip
         * each to remove): the next guest's host writes /delta and /catlist
         * before naming them to the walker, and the walker removes /manifest
         * and /catout before it writes them, so none is ever read stale.
         * /reference stays on purpose (share_reference_is). */
        /* the guest's file systems, deepest first; the scratch disk stays */
        bool clean = true;
        char **m = guestfs_mountpoints(g); /* device, mountpoint, ... */
        for (size_t i = s->n_mnts; i-- > 0 && clean && m;) {
                char *at = vdg_join(s->prefix, s->mnts[i].mp);
                bool mounted = false; /* a refused or failed mount is not in the table */
                for (size_t k = 0; at && m[k] && m[k + 1]; k += 2)
                        mounted |= strcmp(m[k + 1], at) == 0;
                if (!at || (mounted && guestfs_umount_opts(g, at, GUESTFS_UMOUNT_OPTS_FORCE, 0, -1) < 0))
                        clean = false;
                free(at);
        }
        clean = clean && m;
        vdg_strv_free(m);
        if (!clean) {
                clean = guestfs_umount_all(g) == 0;
                share->scratch_mounted = false;
        }
        vd_debug("share: guest %zu detached", s->share_idx);
        share->gs[s->share_idx].done = true;
        share->served++;
        if (s->failed || !clean)
                share_close_app(share);
        free(s->overlays);
        s->overlays = NULL;
        s->g = NULL;
        s->shared = false;
}

bool vd_guest_image_in_use(const vd_guest_share *share, const char *path) {
        struct stat st;
        for (size_t i = 0; share && i < share->n_held && stat(path, &st) == 0; i++)
                if (share->held[i].dev == st.st_dev && share->held[i].ino == st.st_ino)
                        return false; /* ours: the shared appliance's */
        return vd_image_in_use(path);
}
