/* What to scan, as typed options: a directory tree, a guest's images or a
 * libvirt domain, and how to open it (vd_source_spec), with the host's
 * settings every source takes (vd_host_env, read once by the program).
 * What vmdrift capture, scan, accept and inspect fill from their options
 * and a fleet worker from an inventory record.
 * Ownership: strings and the baseline are borrowed; nothing here allocates
 * except the source vd_source_spec_open gives the caller. */
#ifndef VD_SOURCE_SPEC_H
#define VD_SOURCE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "baseline/vd_baseline.h"
#include "collect/vd_source.h"
#include "common/vd_err.h"

#define VD_SPEC_IMAGES_MAX 32
#define VD_SPEC_BACKING_MAX 64 /* backing files a scan allows besides the baseline's templates */

/* The host's settings, from the environment (vmdrift(1) ENVIRONMENT). */
typedef struct vd_host_env {
        const char *tmp_dir;         /* TMPDIR, or NULL */
        const char *walker;          /* VMDRIFT_WALKER, or NULL */
        const char *guestfs_backend; /* "direct" unless the operator set LIBGUESTFS_BACKEND */
        const char *state_directory; /* STATE_DIRECTORY (systemd), or NULL */
        uint64_t host_hash_min;      /* VMDRIFT_HOST_HASH_MIN (benchmarks); 0: default */
        vd_guest_knobs knobs;        /* VMDRIFT_LAUNCH_TIMEOUT, _KVM_LAUNCH_TIMEOUT, and the tests' knobs */
        bool no_stream;              /* VMDRIFT_STREAM=0 (tests): a tree's scan holds both lists, as a guest's does */
        /* What the operator should hear while a source opens or a scan runs
         * (the library never prints): VD_NOTICE_PROGRESS, VD_NOTICE_WARNING,
         * or VD_NOTICE_ERROR (a failure that did not end the run: a sink that
         * could not deliver). May be NULL. */
        void (*notice)(void *ud, int level, const char *msg);
        void *notice_ud;
} vd_host_env;

typedef struct vd_source_spec {
        const char *dir;
        const char *images[VD_SPEC_IMAGES_MAX];
        size_t n_images;
        const char *image_format;
        const char *domain, *connect;
        int strategy;
        bool one_file_system;
        unsigned threads;
        unsigned max_depth;
        int accel; /* enum vd_accel */
        /* --allow-backing (a fleet: the inventory's templates), then the baseline's template images */
        const char *allow_backing[VD_SPEC_BACKING_MAX + VD_SPEC_IMAGES_MAX];
        size_t n_allow_backing;
        const char *state_dir; /* --state-dir; NULL: $STATE_DIRECTORY or the default */
        const char *expect_formats[VD_SPEC_IMAGES_MAX]; /* the baseline's image.N.format where captured from the same image */
        bool have_expect;
        bool full_inspection;      /* --full-inspection: never mount from the baseline's layout */
        int hash_in;               /* --hash-in: VD_HASH_IN_HOST (default) or VD_HASH_IN_APPLIANCE */
        /* files this large are read on the host (0: the host's setting);
         * --yara-all: every file, so YARA matches them from those reads */
        uint64_t host_hash_min;
        const vd_baseline *layout; /* the baseline whose layout, facts and packages may be reused */
        vd_guest_share *share;     /* a fleet worker's shared appliance; NULL: none. Borrowed */
} vd_source_spec;

/* Exactly one kind of source, and options that go with it: 0, or
 * VD_E_USAGE saying what is wrong ("--connect goes with --domain"). */
int vd_source_spec_check(const vd_source_spec *o, vd_err *err);

/* Open it; for guests this launches the appliance (or mounts the guest in
 * o->share's). want_walker: false for inspect (no scratch disk). */
int vd_source_spec_open(const vd_source_spec *o, const vd_host_env *env, bool want_walker, vd_source **ret,
                        vd_err *err);

/* Allow the backing files the baseline b was captured from (its template
 * images) in o's image chains; their names are kept in buf (n bytes), which
 * must live as long as o. */
void vd_source_spec_allow_templates(vd_source_spec *o, const vd_baseline *b, char *buf, size_t n);

/* The walk options the source options set (the pipeline adds the hash key). */
void vd_source_spec_walk_opts(const vd_source_spec *o, vd_scan_opts *ret);

/* An input of a run, for vd_refuse_overwrite: what it is and its path
 * (NULL paths are skipped). */
typedef struct vd_input {
        const char *what, *path;
} vd_input;
#define VD_INPUTS_MAX (VD_SPEC_IMAGES_MAX + 8)

/* Add the source's files (its images) to in[*n] (at most VD_INPUTS_MAX). */
void vd_source_spec_inputs(const vd_source_spec *o, vd_input *in, size_t *n);

/* Refuse an output that is one of the run's inputs: the same file (device
 * and inode, symlinks followed) or the same path. 0, or VD_E_USAGE naming
 * which output would have replaced which input. */
int vd_refuse_overwrite(const char *what, const char *out, const vd_input *in, size_t n, vd_err *err);

#endif
