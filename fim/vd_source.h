/* Sources: where entries come from (a directory tree today, a guest image
 * through libguestfs next). The compare engine never sees a source, only the
 * sorted entries of a vd_scan, so a new source plugs in here alone.
 */
#ifndef VD_SOURCE_H
#define VD_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "vd_buf.h"
#include "vd_entry.h"
#include "vd_err.h"
#include "vd_hash.h"

typedef struct vd_warning {
        char *path; /* raw bytes, may be NULL */
        size_t path_len;
        char *msg;
} vd_warning;

/* What one walk of a source produced. Owns everything it points to. */
typedef struct vd_scan {
        vd_entries entries; /* sorted by path */
        vd_warning *warnings;
        size_t n_warnings;
        uint64_t files_hashed, bytes_hashed;
        int64_t started_ns, duration_ns;
        int hash_algo;
        bool owners_resolved; /* the source had its own etc/passwd */
        bool may_be_inconsistent;
} vd_scan;

void vd_scan_init(vd_scan *s);
void vd_scan_release(vd_scan *s);
int vd_scan_warn(vd_scan *s, const char *path, size_t path_len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

typedef struct vd_scan_opts {
        int hash_algo;                          /* VD_HASH_XXH3 or VD_HASH_SHA256 */
        unsigned char seed[VD_HASH_SEED_LEN];   /* XXH3 key; from the baseline */
        bool one_file_system;
        unsigned threads;   /* hashing threads; 0 = one per online CPU */
        unsigned max_depth; /* directory levels; 0 = VD_DEPTH_MAX_DEFAULT */
} vd_scan_opts;

#define VD_DEPTH_MAX_DEFAULT 4096u
#define VD_READ_FILE_MAX ((size_t)16 << 20)

void vd_scan_opts_init(vd_scan_opts *o);

typedef struct vd_source vd_source;

struct vd_source_ops {
        const char *kind; /* "dir", "image", ... */
        int (*scan)(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err);
        /* Read a regular file of the source (never through a symlink) into out,
         * at most max bytes; VD_E_IO with errno ENOENT text if it is absent. */
        int (*read_file)(vd_source *src, const char *path, size_t max, vd_buf *out, vd_err *err);
        void (*close)(vd_source *src);
};

struct vd_source {
        const struct vd_source_ops *ops;
        char *desc; /* what a person calls it: the directory, the image list */
        void *priv;
};

/* Open a directory tree read-only. path must name a directory. */
int vd_source_open_dir(const char *path, vd_source **ret, vd_err *err);

/* Walk and hash the whole source, resolve owners through its own passwd and
 * group, sort. On failure out is left empty. */
int vd_source_scan(vd_source *src, const vd_scan_opts *o, vd_scan *out, vd_err *err);

void vd_source_close(vd_source *src);

/* Fill uname/gname from passwd/group text (exposed for tests and fuzzing). */
typedef struct vd_idmap vd_idmap;
int vd_idmap_parse(const char *text, size_t len, vd_idmap **ret);
const char *vd_idmap_get(const vd_idmap *m, uint32_t id);
void vd_idmap_free(vd_idmap *m);

#endif
