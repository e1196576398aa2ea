/* The fleet inventory (docs/fleet.md): which guests a host has, what each
 * is checked against, where sprawl is looked for.
 *
 *   defaults: {baseline: ..., policy: ..., verify_key: ...}   # any guest key
 *   guests:
 *     - name: web-01
 *       images: [/var/lib/libvirt/images/web-01.qcow2]
 *     - name: db-01
 *       domain: db-01
 *       connect: qemu:///system
 *     - name: lab-*                    # one guest per matching image
 *       images_glob: /srv/lab/STAR.qcow2 (STAR: a *)
 *   storage: [/var/lib/libvirt/images] # where unmanaged images are looked for
 *   libvirt: [qemu:///system]          # domains no guest names are unmanaged
 *   templates: [/srv/tmpl/debian12.qcow2]  # linked clones of anything else are orphans
 *   stale_after: 7d
 *   (per guest or in defaults: format: raw|qcow2|..., share: false)
 *
 * Loaded like a policy: one bounded YAML document, every error
 * "file:line:column: what was expected", unknown keys refused. Relative
 * paths are taken from the inventory's own directory. The loaded inventory
 * owns every string in it.
 */
#ifndef VD_INVENTORY_H
#define VD_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"

#define VD_FLEET_GUESTS_MAX 10000

enum { VD_SHARE_DEFAULT = 0, VD_SHARE_YES = 1, VD_SHARE_NO = -1 };

typedef struct vd_inv_guest {
        char *name;
        char **images; /* one guest's disks, in order */
        size_t n_images;
        char *domain, *connect; /* a libvirt domain (connect may be NULL) */
        char *dir;              /* a directory tree */
        /* what it is checked against (its own, else the defaults') */
        char *baseline, *policy, *verify_key, *packages_from, *advisories;
        /* format: its images' format (raw, qcow2, ...), given to the scan as
         * --image-format (never probed from a header its guest wrote);
         * share: VD_SHARE_NO keeps it out of shared appliances */
        char *format;
        int share;
        size_t line; /* where it is written (for a glob: the glob's entry) */
        bool from_glob;
} vd_inv_guest;

typedef struct vd_inventory {
        char *file;
        vd_inv_guest *guests;
        size_t n_guests;
        char **storage, **libvirt, **templates;
        size_t n_storage, n_libvirt, n_templates;
        int64_t stale_after_s; /* default 7 days */
        char **notes;          /* for the operator: a glob that matches nothing now */
        size_t n_notes;
} vd_inventory;

/* A guest's name: 1-128 bytes of UTF-8, no '/', no control characters, not
 * starting with '.' or '_' (it names files: state, --report
 * json:DIR/{guest}.json, where "_fleet" holds the fleet's own findings). */
bool vd_guest_name_ok(const char *name);

/* Parse text (file names it in errors and anchors relative paths); guests
 * with images_glob are expanded against the host's files here, sorted: the
 * glob's '*' in the name becomes the image's file name without extension. */
int vd_inventory_parse(const char *file, const char *text, size_t len, vd_inventory **ret, vd_err *err);
int vd_inventory_load(const char *path, vd_inventory **ret, vd_err *err);
void vd_inventory_free(vd_inventory *inv);

#endif
