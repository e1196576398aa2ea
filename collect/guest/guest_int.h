/* The guest source's stages and what they share: struct guest_src, one per
 * opened guest, and each stage's entry points. Private to collect/guest/;
 * the public interface is vd_source.h (vd_source_open_guest).
 *
 * Ownership: a guest_src owns every pointer in it except, while it is
 * attached to a fleet's shared appliance (shared), g and overlays[i], which
 * are the shared appliance's (share.c). Functions here return 0 or a
 * negative enum vd_code with err filled, unless their comment says
 * otherwise; strings they return are malloc'ed and the caller's. */
#ifndef VD_GUEST_INT_H
#define VD_GUEST_INT_H

#include <guestfs.h>
#include <stdbool.h>
#include <stdint.h>

#include "collect/vd_hosthash.h"
#include "collect/vd_source.h"
#include "formats/vd_catfile.h"

#define MANIFEST_MAX ((size_t)2 << 30)

struct mnt {
        char *mp, *dev; /* mountpoint inside the guest tree, device */
};

/* The tail of what qemu and the appliance printed, kept to explain a failed
 * launch ("failed to set MSR 0x10a"). */
#define CONSOLE_TAIL 8192

struct console {
        char buf[CONSOLE_TAIL];
        size_t len;
};

struct guest_src {
        guestfs_h *g;
        char *root; /* inspected OS root device, NULL if none */
        struct mnt *mnts;
        size_t n_mnts, mnts_alloc;
        char *prefix; /* where the guest tree is mounted in the appliance: "/guest" or "" */
        bool in_use;
        int strategy;
        char *walker;
        vd_scan pending; /* warnings gathered while mounting */
        vd_scan inv;     /* OS facts and packages, read with the guest mounted at / */
        vd_scan launch_notes; /* how the appliance was started (KVM fallback) */
        struct console con;   /* the handle's event callback writes here for its whole life */
        bool one_cpu;         /* an emulated launch hung with two vCPUs: the next handles get one */
        size_t n_images;
        char (*formats)[32];  /* each image's format, from its header, checked (vd_image_check_chain) */
        bool have_inv;
        bool layout_reused; /* mounted from the baseline's layout, not inspected */
        int64_t launch_ns, mount_ns;
        char *scratch_file; /* the scratch disk, formatted on the host; NULL: made in the appliance */
        char scratch_uuid[37]; /* its file system's UUID: found by it, not by a device name */
        char **cache_paths; /* files read in one batch (guest_prefetch), and their contents */
        vd_catitem *cache;
        size_t n_cache;
        /* Host-side hashing: the appliance runs on qcow2 overlays of ours
         * (the images are their read-only backing files), which qemu-nbd
         * exports to the host with exactly the blocks the appliance sees. */
        char *ovl_dir;
        char **overlays; /* n_images, or NULL: host hashing off */
        char host_off[160]; /* why it is off, when it was wanted */
        uint64_t host_hash_min;
        /* Delta scan (vd_delta.h): per disk, the depth of its template in
         * our overlay's backing chain, the template (real path) and its
         * format when captured; delta_on false: no delta scan, delta_off
         * says why. The geometry the baseline recorded ("geometry KEY
         * VALUE\n"...). */
        bool delta_on;
        int64_t *delta_below;
        char **delta_tmpl;
        char (*delta_tmpl_fmt)[32];
        char delta_off[200];
        char *delta_geometry;
        /* One appliance for several guests (vd_guest_share_new): the
         * handle and the overlays are the shared appliance's, borrowed; the
         * guest's disks are its drives disk_first... */
        bool shared;
        size_t share_idx;
        unsigned disk_first;
        bool failed; /* a scan failed: the shared appliance is not used again */
        char **own_dev;        /* its drives and their partitions, */
        char (*own_uuid)[40];  /* each one's file system UUID ("" if none) */
        size_t n_own;
        vd_guest_knobs knobs; /* vd_guest_opts.knobs */
        char *tmp_dir;        /* vd_guest_opts.tmp_dir, or "/tmp" */
        char *backend;        /* vd_guest_opts.backend (NULL: libguestfs' choice) */
        vd_guest_share *share; /* vd_guest_opts.share: borrowed, may be NULL */
};

/* Sparse; holds the walker (3 MB) and the manifest (about 200 bytes an entry:
 * room for some 4 million entries). */
#define SCRATCH_SIZE ((int64_t)1 << 30)

/* ---- source_guest.c ---- */
int vdg_err(vd_err *err, guestfs_h *g, const char *what);
char *vdg_join(const char *a, const char *b);
void vdg_strv_free(char **v);
void vdg_clear_warnings(vd_scan *sc);
void guest_close(vd_source *src);
int vdg_new(const vd_guest_opts *o, const struct vd_source_ops *ops, int strategy, bool walker, vd_source **ret,
            vd_err *err);
extern const struct vd_source_ops vdg_image_ops;

/* ---- appliance.c ---- */
int vdg_domain_state(const vd_guest_opts *o, bool *ret_running, vd_err *err);
int vdg_launch(struct guest_src *s, const vd_guest_opts *o, vd_err *err);

/* ---- drives.c ---- */
char *vdg_host_scratch(const char *tmp_dir, char uuid[37]);
int vdg_prepare_scratch(struct guest_src *s, vd_err *err);
const char *vdg_default_walker(void);
void vdg_drop_overlays(struct guest_src *s);
int vdg_make_overlays(struct guest_src *s, const vd_guest_opts *o, vd_err *err);

/* ---- share.c ---- */
bool vdg_share_walker(vd_guest_share *share, bool uploaded);
bool vdg_share_reference_is(const vd_guest_share *share, const vd_buf *b);
void vdg_share_reference_set(vd_guest_share *share, const vd_buf *b);
int vdg_share_own_devices(struct guest_src *s);
char *vdg_share_peers(const vd_guest_share *share, size_t self);
unsigned vdg_share_guests(const vd_guest_share *share);
long vdg_share_find(const vd_guest_opts *o);
/* May guest o be mounted in a shared appliance by its recorded layout? why: if not. */
bool vdg_share_layout_ok(const vd_guest_opts *o, char *why, size_t whylen);
int vdg_share_attach(struct guest_src *s, const vd_guest_opts *o, size_t j, char *why, size_t whylen,
                     vd_err *err);
void vdg_share_detach(struct guest_src *s);

/* ---- mounts.c ---- */
char *vdg_file_sha256(guestfs_h *g, const char *path);
const char *vdg_fact(const vd_guest_opts *o, const char *key);
int vdg_reuse_layout(struct guest_src *s, const vd_guest_opts *o, char *why, size_t whylen, vd_err *err);
int vdg_mount_guest_prepare(struct guest_src *s, const vd_guest_opts *o, vd_err *err);

/* ---- inventory.c ---- */
/* A Windows guest's host name from its SYSTEM hive at path (as the appliance
 * sees it); malloc'ed, or NULL. */
char *vdg_windows_hostname(struct guest_src *s, const char *path);
/* 1 if none of the package databases a layout knows is in the guest
 * (mounted beneath s->prefix). */
int vdg_no_pkgdb(struct guest_src *s);
int vdg_collect_inventory(struct guest_src *s, vd_err *err);

/* ---- walker_run.c ---- */
/* What the walker is asked to do, decided on the host (plan_walk). */
struct vdg_walker_plan {
        int algo;                  /* VD_HASH_NONE: metadata only (--quick) */
        const unsigned char *seed; /* VD_HASH_SEED_LEN bytes, for XXH3 */
        unsigned threads, max_depth;
        uint64_t extents_min;      /* map files this large for the host; 0: host-side reads off */
        bool records;              /* record each inode's blocks (capture) */
        unsigned disk_first;       /* the guest's drives among the appliance's */
        size_t n_disks;
        bool delta, verify;        /* a delta scan (/delta written); prove and hash both */
        bool reference, slim;      /* candidate-only walk against /reference; unread entries as indices */
        bool read_inodes;          /* ... reading every inode, no records */
        bool cat;                  /* read /catlist's files after the walk */
        size_t cat_max;
};
/* Its arguments: v points into a (and at constants). */
struct vdg_walker_argv {
        const char *v[40];
        char seed[2 * VD_HASH_SEED_LEN + 1], threads[16], depth[16], xmin[24], disks[48], cat_max[24];
};
void vdg_walker_argv(const struct vdg_walker_plan *p, struct vdg_walker_argv *a);
int vdg_download_bounded(struct guest_src *s, const char *remote, const char *what, size_t max, char **ret,
                         size_t *ret_len, vd_err *err);
int vdg_run_walker_or_api(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err);

/* ---- hashing.c ---- */
int vdg_hash_by_pread(struct guest_src *s, vd_hasher *h, vd_entry *e, const char *apath, vd_scan *out);
int vdg_fill_hashes(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err);
int vdg_host_hashes(struct guest_src *s, vd_hosthash *hh, const vd_scan_opts *o, vd_scan *out, vd_err *err);
int vdg_no_extents_left(vd_scan *out, vd_err *err);

/* ---- delta_host.c ---- */
void vdg_delta_check(struct guest_src *s, const vd_guest_opts *o);
int vdg_delta_prepare(struct guest_src *s, vd_scan *out, bool *on, vd_err *err);
int vdg_upload_reference(struct guest_src *s, const vd_entries *ref, vd_scan *out);
int vdg_delta_apply(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, bool verify, vd_err *err);

/* ---- api_walk.c ---- */
int vdg_run_api(struct guest_src *s, const vd_scan_opts *o, vd_scan *out, vd_err *err);

/* ---- files.c ---- */
void vdg_drop_cache(struct guest_src *s);
int vdg_write_catlist(struct guest_src *s, const char *const *paths, size_t *n, const char *const *globs,
                      size_t n_globs);
int vdg_load_catout(struct guest_src *s, const char *const *paths, size_t n, size_t max, const char *const *globs,
                    size_t n_globs, vd_err *err);
int guest_prefetch(vd_source *src, const char *const *paths, size_t n, size_t max, vd_err *err);
int guest_read_file(vd_source *src, const char *path, size_t max, vd_buf *out, vd_err *err);
int guest_read_range(vd_source *src, const char *path, uint64_t off, size_t n, vd_buf *out, vd_err *err);

#endif
