/* The guest source: disk images or a libvirt domain, read-only, through
 * libguestfs.
 *
 * Drives are added with readonly=1 and every file system is mounted with
 * mount_ro: the images are never written (a test checksums them before and
 * after). The guest's file systems are parsed by the appliance's kernel,
 * never the host's. Inspection finds the OS and mounts each file system at
 * its mountpoint, shortest first, so /boot, /var or /home on other
 * partitions or LVM volumes are one tree; a disk with no recognisable OS is
 * scanned file system by file system, each under its device name.
 *
 * The default strategy uploads vmdrift-walker (collect/walker) to a scratch disk,
 * mounts the guest read-only beneath it at /guest, runs the walker there and
 * downloads one manifest, decoded as untrusted input. The "api" strategy
 * walks with lstatnslist/lxattrlist/readlinklist per directory and reads
 * file content with pread, hashing on the host. --quick walks metadata only
 * and reads just the files whose size, mtime, ctime or inode differ from the
 * baseline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/vd_imageid.h"
#include "collect/vd_imageinfo.h"
#include "common/vd_log.h"
#include "common/vd_str.h"

#include "guest_int.h"

/* libguestfs appends a paragraph of debugging advice to some errors: keep the
 * part that says what failed, and say how to get the rest. */
int vdg_err(vd_err *err, guestfs_h *g, const char *what) {
        const char *m = g ? guestfs_last_error(g) : NULL;
        if (!m)
                m = "unknown libguestfs error";
        const char *cut = strchr(m, '\n');
        int n = cut ? (int)(cut - m) : (int)strlen(m);
        return vd_err_set(err, VD_E_SOURCE, "%s: %.*s%s", what, n, m,
                          cut ? " (LIBGUESTFS_DEBUG=1 LIBGUESTFS_TRACE=1 show more)" : "");
}

char *vdg_join(const char *a, const char *b) {
        char *p;
        if (strcmp(b, "/") == 0)
                b = "";
        if (asprintf(&p, "%s%s", a, b) < 0)
                return NULL;
        return p[0] ? p : (free(p), strdup("/"));
}

void vdg_strv_free(char **v) {
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

void vdg_clear_warnings(vd_scan *sc) {
        for (size_t i = 0; i < sc->n_warnings; i++) {
                free(sc->warnings[i].path);
                free(sc->warnings[i].msg);
        }
        sc->n_warnings = 0;
}

void guest_close(vd_source *src) {
        struct guest_src *s = src->priv;
        if (s) {
                if (s->shared)
                        vdg_share_detach(s);
                for (size_t i = 0; i < s->n_own; i++)
                        free(s->own_dev[i]);
                free(s->own_dev);
                free(s->own_uuid);
                if (s->g) {
                        vd_debug("shutting the appliance down");
                        guestfs_umount_all(s->g);
                        guestfs_shutdown(s->g);
                        guestfs_close(s->g);
                        vd_debug("appliance gone");
                }
                for (size_t i = 0; i < s->n_mnts; i++) {
                        free(s->mnts[i].mp);
                        free(s->mnts[i].dev);
                }
                free(s->mnts);
                free(s->root);
                free(s->prefix);
                free(s->walker);
                free(s->tmp_dir);
                free(s->backend);
                vd_scan_release(&s->pending);
                vd_scan_release(&s->inv);
                vd_scan_release(&s->launch_notes);
                free(s->formats);
                free(s->delta_geometry);
                for (size_t i = 0; s->delta_tmpl && i < s->n_images; i++)
                        free(s->delta_tmpl[i]);
                free(s->delta_tmpl);
                free(s->delta_below);
                free(s->delta_tmpl_fmt);
                vdg_drop_overlays(s);
                if (s->scratch_file)
                        unlink(s->scratch_file);
                free(s->scratch_file);
                vdg_drop_cache(s);
                free(s);
        }
        free(src->desc);
        free(src);
}

/* Entries the appliance layout adds: ancestors of a no-OS mountpoint ("/",
                                                                       * "/dev") that are directories of our scratch disk, not of the guest. */
static void drop_synthetic(struct guest_src *s, vd_scan *out) {
        if (s->root)
                return;
        size_t k = 0;
        for (size_t i = 0; i < out->entries.n; i++) {
                vd_entry *e = out->entries.v[i];
                bool synthetic = false;
                for (size_t m = 0; m < s->n_mnts && !synthetic; m++) {
                        const char *mp = s->mnts[m].mp;
                        size_t ml = strlen(mp);
                        if (e->path_len == 1 && e->path[0] == '/')
                                synthetic = true;
                        else if (e->path_len < ml && memcmp(mp, e->path, e->path_len) == 0 && mp[e->path_len] == '/')
                                synthetic = true;
                }
                if (synthetic)
                        vd_entry_free(e);
                else
                        out->entries.v[k++] = e;
        }
        out->entries.n = k;
}

static int guest_scan(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err) {
        struct guest_src *s = src->priv;
        for (size_t i = 0; i < s->launch_notes.n_warnings; i++)
                vd_scan_warn(out, NULL, 0, "%s", s->launch_notes.warnings[i].msg);
        for (size_t i = 0; i < s->pending.n_warnings; i++)
                vd_scan_warn(out, s->pending.warnings[i].path, s->pending.warnings[i].path_len, "%s",
                             s->pending.warnings[i].msg);
        out->may_be_inconsistent = s->in_use;
        out->st.layout_reused = s->layout_reused;
        out->st.is_guest = true;
        out->st.launch_ns = s->launch_ns;
        out->st.mount_ns = s->mount_ns;
        out->st.appliance_shared = s->shared && s->launch_ns == 0;
        out->st.appliance_guests = s->shared ? vdg_share_guests(s->share) : 1;
        free(out->appliance_peers);
        out->appliance_peers = NULL;
        if (s->shared && !(out->appliance_peers = vdg_share_peers(s->share, s->share_idx)))
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        int r = s->strategy == VD_GUEST_API ? vdg_run_api(s, o, out, err) : vdg_run_walker_or_api(s, o, out, err);
        if (r < 0) {
                s->failed = true;
                return r;
        }
        drop_synthetic(s, out);
        return vd_source_inventory(src, out, err);
}

/* The guest's entries come from the walker's manifest, whole: not streamed. */
const struct vd_source_ops vdg_image_ops = {"image", guest_scan, guest_read_file, guest_close, guest_prefetch,
                                               guest_read_range, false};

static const struct vd_source_ops domain_ops = {"domain", guest_scan, guest_read_file, guest_close, guest_prefetch,
                                                guest_read_range, false};

/* A source of these options, not opened: ops, the strategy, the walker
 * beneath a scratch disk (prefix /guest) or not. */
int vdg_new(const vd_guest_opts *o, const struct vd_source_ops *ops, int strategy, bool walker, vd_source **ret,
            vd_err *err) {
        vd_source *src = calloc(1, sizeof *src);
        struct guest_src *s = calloc(1, sizeof *s);
        if (!src || !s) {
                free(src);
                free(s);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        src->ops = ops;
        src->priv = s;
        vd_scan_init(&s->pending);
        vd_scan_init(&s->inv);
        vd_scan_init(&s->launch_notes);
        s->strategy = strategy;
        s->knobs = o->knobs;
        s->share = o->share;
        s->prefix = strdup(walker ? "/guest" : "");
        s->walker = strdup(o->walker ? o->walker : vdg_default_walker());
        s->tmp_dir = strdup(o->tmp_dir && *o->tmp_dir ? o->tmp_dir : "/tmp");
        if (!s->prefix || !s->walker || !s->tmp_dir || (o->backend && !(s->backend = strdup(o->backend)))) {
                guest_close(src);
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        *ret = src;
        return 0;
}

int vd_source_open_guest(const vd_guest_opts *o, vd_source **ret, vd_err *err) {
        if (!o->domain && o->n_images == 0)
                return vd_err_set(err, VD_E_USAGE, "no image or domain given");
        for (size_t i = 0; i < o->n_images; i++) {
                struct stat st;
                if (stat(o->images[i], &st) < 0)
                        return vd_err_errno(err, VD_E_SOURCE, errno, "cannot open image '%s'", o->images[i]);
                if (S_ISDIR(st.st_mode))
                        return vd_err_set(err, VD_E_SOURCE, "image '%s' is a directory (use --dir)", o->images[i]);
                if (access(o->images[i], R_OK) < 0)
                        return vd_err_errno(err, VD_E_SOURCE, errno, "cannot read image '%s'", o->images[i]);
        }
        bool running = false;
        if (o->domain) {
                int dr = vdg_domain_state(o, &running, err);
                if (dr < 0)
                        return dr;
        }
        vd_source *src = NULL;
        int r = vdg_new(o, o->domain ? &domain_ops : &vdg_image_ops, o->strategy,
                        o->want_walker && o->strategy == VD_GUEST_WALKER, &src, err);
        if (r < 0)
                return r;
        struct guest_src *s = src->priv;
        {
                vd_buf d;
                vd_buf_init(&d, 0);
                if (o->domain)
                        vd_buf_adds(&d, o->domain);
                for (size_t i = 0; i < o->n_images; i++) {
                        if (i)
                                vd_buf_addc(&d, ',');
                        vd_buf_adds(&d, o->images[i]);
                }
                src->desc = vd_buf_detach(&d, NULL);
        }
        if (!src->desc) {
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                goto fail;
        }
        /* Each image's header, read by qemu-img as untrusted input: its
         * format, and a backing chain that stays where the operator allows
         * (a raw disk whose guest wrote a qcow2 header naming a host file
         * would otherwise make the appliance read that file). */
        s->n_images = o->n_images;
        s->formats = calloc(o->n_images ? o->n_images : 1, sizeof *s->formats);
        if (!s->formats) {
                r = vd_err_set(err, VD_E_NOMEM, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < o->n_images; i++) {
                if ((r = vd_image_check_chain(o->images[i], o->format, o->allow_backing, o->n_allow_backing,
                                              s->formats[i], err)) < 0) {
                        guest_close(src);
                        return r;
                }
                const char *want = o->expect_formats ? o->expect_formats[i] : NULL;
                if (want && !o->format && strcmp(want, s->formats[i]) != 0) {
                        r = vd_err_set(err, VD_E_SOURCE,
                                       "image '%s' reads as %s by its header, but was %s when the baseline was "
                                       "captured from it: a header written since? refused (--image-format %s to "
                                       "read it as before)",
                                       o->images[i], s->formats[i], want, want);
                        guest_close(src);
                        return r;
                }
                /* the format it had on first sight, unless told otherwise */
                if ((r = vd_image_format_pin(o->state_dir, o->images[i], s->formats[i], o->format != NULL, err)) < 0) {
                        guest_close(src);
                        return r;
                }
        }
        /* A running guest's disks may change while we read them; a stopped
         * domain's are as still as an image nobody has open. */
        s->in_use = running;
        for (size_t i = 0; i < o->n_images; i++)
                if (vd_guest_image_in_use(o->share, o->images[i]))
                        s->in_use = true;
        /* a guest of a fleet run: in the appliance it shares with others */
        bool attached = false;
        long sj = vdg_share_find(o);
        if (sj >= 0) {
                char why[300] = "";
                int ar = vdg_share_attach(s, o, (size_t)sj, why, sizeof why, err);
                if (ar < 0)
                        goto fail;
                attached = ar == 1;
                if (!attached)
                        vd_debug("share: %s: an appliance of its own: %s", src->desc, why);
        }
        s->host_hash_min = o->host_hash_min ? o->host_hash_min : VD_HOST_HASH_MIN_DEFAULT;
        if (attached)
                ; /* host-side reads through the shared appliance's overlays */
        else if (o->hash_in == VD_HASH_IN_HOST && o->want_walker && o->strategy == VD_GUEST_WALKER) {
                vd_err oe = VD_ERR_INIT;
                if (o->domain)
                        snprintf(s->host_off, sizeof s->host_off, "a libvirt domain: libguestfs adds its disks");
                else if (s->in_use)
                        snprintf(s->host_off, sizeof s->host_off, "an image is in use by a running VM");
                else if (vdg_make_overlays(s, o, &oe) < 0)
                        snprintf(s->host_off, sizeof s->host_off, "%.150s", oe.msg);
                if (s->host_off[0])
                        vd_debug("host-side hashing off: %s", s->host_off);
        } else if (o->hash_in == VD_HASH_IN_APPLIANCE && o->want_walker && o->strategy == VD_GUEST_WALKER)
                snprintf(s->host_off, sizeof s->host_off, "--hash-in appliance");
        if (s->overlays)
                vdg_delta_check(s, o);
        else
                snprintf(s->delta_off, sizeof s->delta_off, "host-side reads are off (%s)",
                         s->host_off[0] ? s->host_off : "not the walker");
        if (attached) {
                *ret = src;
                return 0;
        }
        int64_t t0 = vd_now_ns();
        if ((r = vdg_launch(s, o, err)) < 0)
                goto fail;
        int64_t t1 = vd_now_ns();
        s->launch_ns = t1 - t0;
        if (s->scratch_file)
                unlink(s->scratch_file); /* qemu holds it open; nothing is left behind if we are killed */
        vd_debug("appliance up");
        if ((r = vdg_mount_guest_prepare(s, o, err)) < 0)
                goto fail;
        s->mount_ns = vd_now_ns() - t1;
        vd_debug("guest mounted");
        *ret = src;
        return 0;
fail:
        if ((r == VD_E_SOURCE || r == VD_E_USAGE) && src->desc)
                vd_err_prefix(err, "%s", src->desc);
        guest_close(src);
        return r;
}
