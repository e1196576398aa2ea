/* Which shortcut a scan of guest images may take, decided from typed
 * inputs: the kept report of this guest (its own images unchanged, vd_reuse.h)
 * and the twin's (a linked clone with nothing written above the unchanged
 * template image its baseline was captured from: byte for byte that
 * template, so any such clone's kept report will do). Each key covers
 * everything the claim rests on; what it cannot cover turns the shortcut off
 * (have_key false). The delta scan is decided where the guest is opened
 * (collect/guest/delta_host.c). */
#ifndef VD_SHORTCUT_H
#define VD_SHORTCUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline/vd_baseline.h"
#include "collect/vd_source.h"
#include "run/vd_reuse.h"

typedef struct vd_shortcut_in {
        const char *const *images; /* one guest's disks (none: a directory or a domain, no shortcut) */
        size_t n_images;
        const char *image_format;              /* --image-format, or NULL */
        const char *const *expect_formats;     /* per image, the format the baseline recorded for it, or NULL */
        const char *const *allow_backing;
        size_t n_allow_backing;
        const char *state_dir;
        const vd_guest_share *share;           /* its appliance's own locks do not make an image "in use" */
        const vd_baseline *baseline;           /* borrowed */
        const vd_baseline *packages_from;      /* or NULL; borrowed */
        const char *policy_digest;
        const char *yara_key; /* the YARA rules' digest and mode (vd_yara_req_key), or NULL */
        /* what changes what a scan of the same bytes finds */
        int strategy, hash_in;
        bool quick, full_inspection, one_file_system, paranoid;
        unsigned max_depth;
        uint32_t ignore;
        /* what rules a kept report out: advisories (their feed changes
         * without the image), a rollback warning, a verifying delta scan */
        bool advisories, rollback_warning, delta_verify;
} vd_shortcut_in;

typedef struct vd_shortcut_keys {
        bool have_key, have_twin;
        bool twin_tried; /* the twin's key is made only when the guest's own finds nothing */
        vd_reuse_key key, twin;
        vd_shortcut_in in; /* what they are made from (its pointers borrowed: they outlive the keys) */
        char opts[768];
} vd_shortcut_keys;

/* The guest's own key (nothing fails: a key that cannot be made is not
 * had, and the debug log says why). */
void vd_shortcut_keys_make(const vd_shortcut_in *in, vd_shortcut_keys *ret);

/* The twin's key, if not made yet: before a scan whose report is kept
 * (the images' identity is taken before the scan, never after). Its
 * claim costs a qemu-img map of every disk, which an untouched guest with
 * its own kept report does not pay. */
void vd_shortcut_twin_make(vd_shortcut_keys *k);

/* The kept report for keys: this guest's, else its twin's (*ret_twin; the
 * twin's key is made here when needed). 0 and *ret (vd_reused_free); 1 none.
 * A damaged kept file is no failure: warn says so (warn->code set) and the
 * scan runs. */
int vd_shortcut_load(vd_shortcut_keys *k, const char *state_dir, vd_reused **ret, bool *ret_twin, vd_err *warn);

/* A twin's report given to this guest: keep it under the guest's own key
 * too (as the scan it repeats: its id and start), so that the next run
 * finds it without proving the twin again. */
int vd_shortcut_save_own(const vd_shortcut_keys *k, const char *state_dir, const vd_report *rep, vd_err *err);

/* Keep rep (a full scan's) under the keys it has. */
int vd_shortcut_save(const vd_shortcut_keys *k, const char *state_dir, const vd_report *rep, vd_err *err);

#endif
