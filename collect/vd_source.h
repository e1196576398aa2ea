/* Sources: where entries come from (a directory tree, a guest's disks
 * through libguestfs). The compare engine never sees a source, only the
 * sorted entries of a vd_scan (model/vd_scan.h), so a new source plugs in
 * here alone.
 */
#ifndef VD_SOURCE_H
#define VD_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/vd_delta.h"
#include "collect/vd_extents.h"
#include "collect/vd_hash.h"
#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "model/vd_entry.h"
#include "model/vd_scan.h"

/* Where a streaming scan hands each entry, complete (hashed, owners
 * named) and in path order (vd_path_cmp): put takes e; a negative return
 * (err set) ends the scan with it. */
typedef struct vd_entry_sink {
        int (*put)(void *ctx, vd_entry *e, vd_err *err);
        void *ctx;
} vd_entry_sink;

/* Bytes a source reads on the host to hash a file, handed on as they are
 * (YARA matches them instead of reading the file again): want, before the
 * read, says how many of e's first bytes to keep (0: none); seen gets
 * them once e is hashed (e->hash set). Both are called from hashing
 * threads, concurrently. A file the tap wanted but was not handed (read
 * elsewhere, or no memory) is the tap's to read another way. */
typedef struct vd_content_tap {
        size_t (*want)(void *ctx, const vd_entry *e);
        void (*seen)(void *ctx, const vd_entry *e, const void *data, size_t n);
        void *ctx;
} vd_content_tap;

typedef struct vd_scan_opts {
        int hash_algo;                          /* VD_HASH_XXH3 or VD_HASH_SHA256 */
        unsigned char seed[VD_HASH_SEED_LEN];   /* XXH3 key; from the baseline */
        bool one_file_system;
        unsigned threads;   /* hashing threads; 0 = one per online CPU */
        unsigned max_depth; /* directory levels; 0 = VD_DEPTH_MAX_DEFAULT */
        /* The walker: regular files of at least this many bytes whose
         * extents map to disks get extents instead of a hash (0: off). */
        uint64_t extents_min;
        /* --quick: trust size, mtime, ctime and inode; files whose metadata
         * match an entry of reference (sorted) take its hash unread. */
        const vd_entries *reference;
        /* Walker, delta scan: prove regular files unchanged (vd_delta.h)
         * instead of hashing them; delta_verify: prove and hash both. */
        vd_delta *delta;
        bool delta_verify;
        /* Host, delta scan: the baseline's entries (sorted), whose hashes
         * the proved files take; NULL: no delta scan. */
        const vd_entries *delta_reference;
        /* Walker, delta scan, candidate-only walk: the baseline's entries
         * (sorted). An entry whose inode (and every directory above it up to
         * the nearest one listed for real) vd_delta_same proves unchanged is
         * this entry, unread (delta_proved 2); only the rest is stat'ed and
         * listed. Needs delta. */
        const vd_entries *walk_reference;
        /* Walker, capture: each entry gets the record of the blocks its
         * inode names (vd_delta_record on this empty delta), for a later
         * delta scan's candidate-only walk. NULL: none. */
        vd_delta *record_blocks;
        /* Host, capture: ask the walker for those records. */
        bool want_records;
        /* Files the caller expects to read_file after the scan, at most
         * read_ahead_max bytes each (a guess: the configuration files as the
         * baseline had them). A source that can read them in its walk's
         * pass keeps them for read_file and prefetch; others ignore it. */
        const char *const *read_ahead;
        size_t n_read_ahead;
        size_t read_ahead_max;
        /* ... and the patterns of those files that are globs: a regular
         * file new since the baseline that matches one is read too. */
        const char *const *read_ahead_globs;
        size_t n_read_ahead_globs;
        /* Streaming: every entry goes to sink as soon as it and those
         * before it are complete, and vd_scan.entries stays empty; what is
         * held at once is the walk's in-flight window, not the tree. A
         * source that cannot stream (or options that need the whole walk:
         * reference, delta, extents, records) walks everything, then hands
         * the entries on in order. NULL: vd_scan.entries, sorted. */
        const vd_entry_sink *sink;
        /* Hashing on the host (a guest's files read through qemu-nbd, a tree's
         * files): what it reads, also to this tap; NULL: none. */
        const vd_content_tap *tap;
} vd_scan_opts;

#define VD_DEPTH_MAX_DEFAULT 4096u
#define VD_READ_FILE_MAX ((size_t)16 << 20)

void vd_scan_opts_init(vd_scan_opts *o);

typedef struct vd_source vd_source;

struct vd_source_ops {
        const char *kind; /* "dir", "image", ... */
        int (*scan)(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err);
        /* Read a regular file of the source (never through a symlink) into out,
         * at most max bytes; VD_E_IO with err->errnum ENOENT if it is absent. */
        int (*read_file)(vd_source *src, const char *path, size_t max, vd_buf *out, vd_err *err);
        void (*close)(vd_source *src);
        /* Optional: the caller is about to read these files (max bytes
         * each); a source where each read costs a round trip reads them in
         * one go, and read_file answers from that batch. */
        int (*prefetch)(vd_source *src, const char *const *paths, size_t n, size_t max, vd_err *err);
        /* Optional: up to n bytes of a regular file (never through a
         * symlink) from offset off, appended to out; fewer at its end, none
         * past it. For files too large to read whole (a guest pads a file
         * to reach a limit): they are read in bounded pieces. */
        int (*read_range)(vd_source *src, const char *path, uint64_t off, size_t n, vd_buf *out, vd_err *err);
        /* scan hands entries to vd_scan_opts.sink itself, in path order,
         * owners not yet named (vd_source_scan names them) */
        bool streams;
};

struct vd_source {
        const struct vd_source_ops *ops;
        char *desc; /* what a person calls it: the directory, the image list */
        void *priv;
};

/* Open a directory tree read-only. path must name a directory. */
int vd_source_open_dir(const char *path, vd_source **ret, vd_err *err);

/* Test seam: when set, the directory source calls it after every chunk it
 * reads while hashing a file (path inside the source, which attempt from 0,
 * bytes read so far in this attempt), from a hashing thread. Tests use it to
 * change a file at a chosen byte; nothing else sets it. */
extern void (*vd_dir_read_hook)(const char *path, int attempt, uint64_t offset);

/* A guest: disk images (all disks of one guest) or a libvirt domain, opened
 * read-only through libguestfs. Opening launches the appliance, inspects the
 * guest and mounts its file systems read-only. */
enum vd_guest_strategy {
        VD_GUEST_WALKER = 0, /* static walker in the appliance, one manifest back (default) */
        VD_GUEST_API = 1,    /* per-directory lstatnslist/lxattrlist/readlinklist + pread, hashed on the host */
};

typedef struct vd_guest_share vd_guest_share;

/* Knobs for tests and benchmarks (the CLI reads them from VMDRIFT_*
 * environment variables, once); all zero is the product's behaviour. */
typedef struct vd_guest_knobs {
        bool delta_verify;       /* prove and hash both, fail on a proved file whose hash differs */
        bool no_read_ahead;      /* configuration files read after the walk, not in its pass */
        bool no_candidate_walk;  /* a delta scan walks the whole tree */
        bool no_block_records;   /* a delta scan reads every inode it proves */
        long launch_timeout_s;   /* 0: 600 */
        long kvm_launch_timeout_s; /* a first launch under KVM; 0: 90 (never above launch_timeout_s) */
        long emulated_launch_timeout_s; /* an emulated one with several vCPUs, before one with one; 0: 240 */
} vd_guest_knobs;

typedef struct vd_guest_opts {
        const char *const *images;
        size_t n_images;
        const char *format; /* NULL: detected */
        const char *domain; /* instead of images */
        const char *connect;
        int strategy;
        const char *walker; /* path of vmdrift-walker; NULL: the built-in default */
        bool want_walker;   /* false for inspect: no scratch disk needed */
        int accel;          /* enum vd_accel (vd_accel.h): auto, kvm or tcg */
        /* Backing files an image's header may name besides those in the
         * image's own directory (files or directories: the template image
         * recorded in the baseline, --allow-backing). */
        const char *const *allow_backing;
        size_t n_allow_backing;
        /* Per image (n_images entries, NULL where unknown): the format it had
         * when the baseline was captured from it; another format now is
         * refused (a header written since). NULL array: no expectation. */
        const char *const *expect_formats;
        const char *state_dir; /* where the host's KVM outcome is remembered; NULL: not remembered */
        /* Things a person waiting at a terminal should hear while the source
         * opens (the library never prints): level VD_NOTICE_PROGRESS ("building
         * the appliance, about a minute") or VD_NOTICE_WARNING (KVM failed,
         * emulation used; also in the scan's warnings). May be NULL. */
        void (*notice)(void *ud, int level, const char *msg);
        void *notice_ud;
        /* The baseline's facts and packages. When its recorded layout still
         * describes the guest (every file system found by its UUID, /etc/fstab
         * and the package database unchanged), the guest is mounted from it
         * and inspection (guestfs_inspect_os, tens of seconds under
         * emulation) is skipped; the facts and packages are the baseline's,
         * the hostname is read. Otherwise, or with inspect_always, full
         * inspection, and a warning says why the layout was not used. */
        const vd_fact *layout_facts;
        size_t n_layout_facts;
        const vd_package *layout_packages;
        size_t n_layout_packages;
        bool inspect_always;
        /* Where file content is hashed (walker strategy): VD_HASH_IN_HOST
         * (default) maps large files' extents in the appliance and reads
         * them from the image on the host (vd_hosthash.h), falling back per
         * file; VD_HASH_IN_APPLIANCE hashes everything in the appliance. */
        int hash_in;
        uint64_t host_hash_min; /* bytes; 0: VD_HOST_HASH_MIN_DEFAULT */
        /* libguestfs backend to set; NULL: libguestfs' own choice (the
         * operator's LIBGUESTFS_BACKEND). The CLI says "direct" unless the
         * operator chose. */
        const char *backend;
        const char *tmp_dir; /* scratch disk, overlays, downloads; NULL: /tmp */
        vd_guest_knobs knobs;
        vd_guest_share *share; /* a fleet's shared appliance (vd_guest_share_new); NULL: none. Borrowed */
} vd_guest_opts;

/* One appliance for several guests (vmdrift fleet): the caller makes the
 * plan, owns it and names it in each guest's vd_guest_opts.share. Name the
 * guests that will be opened one after another (each its images). The
 * first one opened starts an appliance holding the disks of up to
 * per_appliance guests not yet scanned; the next ones are mounted in it,
 * each from its baseline's layout and found on its own drives only,
 * instead of launching their own. A guest that cannot be (no recorded
 * layout or one that changed, LVM, btrfs, XFS, an image in use, a domain)
 * gets an appliance of its own; a failed scan retires the shared
 * appliance. per_appliance < 2 or n 0: *ret NULL (no sharing), not an
 * error. The plan copies what it needs of g. */
typedef struct vd_share_guest {
        const char *const *images;
        size_t n_images;
        const char *name; /* how reports name it to the guests it shares with (NULL: its first image) */
} vd_share_guest;
int vd_guest_share_new(const vd_share_guest *g, size_t n, unsigned per_appliance, vd_guest_share **ret,
                       vd_err *err);
/* Shut the shared appliance down and free the plan; NULL is fine. Every
 * source opened with it must be closed first. */
void vd_guest_share_free(vd_guest_share *share);
/* Appliances started for the plan so far (0 for NULL). */
size_t vd_guest_share_launches(const vd_guest_share *share);
/* vd_image_in_use, except that the locks of share's own appliance (NULL:
 * none) do not count: a VM cannot start on those images meanwhile. */
bool vd_guest_image_in_use(const vd_guest_share *share, const char *path);

enum { VD_HASH_IN_HOST = 0, VD_HASH_IN_APPLIANCE = 1 };
#define VD_HOST_HASH_MIN_DEFAULT ((uint64_t)4096)

/* VD_NOTICE_ERROR: a failure that did not end the run (a scan's sink) */
enum { VD_NOTICE_PROGRESS = 0, VD_NOTICE_WARNING = 1, VD_NOTICE_ERROR = 2 };

int vd_source_open_guest(const vd_guest_opts *o, vd_source **ret, vd_err *err);
/* OS facts and packages of an opened guest (for `vmdrift inspect`). */
int vd_source_inventory(vd_source *src, vd_scan *out, vd_err *err);

/* Walk and hash the whole source, resolve owners through its own passwd and
 * group, sort. On failure out is left empty. */
int vd_source_scan(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err);

void vd_source_close(vd_source *src);
/* May a guest file system be mounted at mp (from the guest's own fstab,
 * through inspection, or from a baseline's layout)? Absolute, at most
 * 1024 bytes, no "." or ".." component, no control character (extra
 * slashes are harmless): anything else could put a guest file system outside the tree
 * being scanned (over the scratch disk that holds the walker). */
bool vd_mountpoint_ok(const char *mp);

/* See vd_source_ops.prefetch; 0 for a source that has none. */
int vd_source_prefetch(vd_source *src, const char *const *paths, size_t n, size_t max, vd_err *err);

/* Fill uname/gname from passwd/group text (exposed for tests and fuzzing). */
typedef struct vd_idmap vd_idmap;
int vd_idmap_parse(const char *text, size_t len, vd_idmap **ret);
const char *vd_idmap_get(const vd_idmap *m, uint32_t id);
void vd_idmap_free(vd_idmap *m);

#endif
