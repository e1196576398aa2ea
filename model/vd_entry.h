/* The entry model: one file system object as vmdrift records it.
 *
 * Paths are absolute inside the scanned source ("/etc/shadow"; the root is
 * "/") and are raw bytes: any byte but NUL, including newlines and invalid
 * UTF-8. Every string member is owned by its entry; vd_entries owns entries.
 */
#ifndef VD_ENTRY_H
#define VD_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_buf.h"
#include "common/vd_err.h"
#include "model/vd_event.h"

/* Bounds on what a source or a baseline may hand us. */
#define VD_PATH_MAX ((size_t)32768)        /* whole path, bytes */
#define VD_NAME_MAX ((size_t)255)          /* one component (Linux NAME_MAX) */
#define VD_TARGET_MAX ((size_t)4096)       /* symlink target (Linux PATH_MAX) */
#define VD_XATTR_VALUE_MAX ((size_t)65536) /* Linux XATTR_SIZE_MAX */
#define VD_XATTR_NAME_MAX ((size_t)255)
#define VD_XATTR_COUNT_MAX ((size_t)1024)
#define VD_OWNER_NAME_MAX ((size_t)256)
#define VD_HASH_MAX 32

enum vd_hash_algo {
        VD_HASH_NONE = 0,
        VD_HASH_XXH3 = 1,   /* XXH3-128, keyed with the baseline's secret */
        VD_HASH_SHA256 = 2, /* OpenSSL libcrypto */
};

/* Why an entry's content or children are not (fully) known. */
enum vd_status {
        VD_ST_OK = 0,
        VD_ST_UNREADABLE = 1,   /* open or read failed; errno in status_errno */
        VD_ST_CHANGING = 2,     /* file changed while it was read, every try */
        VD_ST_NOT_DESCENDED = 3 /* directory too deep or path too long: children unknown */
};

typedef struct vd_xattr {
        char *name; /* NUL-terminated; names cannot hold NUL */
        unsigned char *value;
        uint32_t len;
} vd_xattr;

/* Where a regular file's bytes lie on a disk of the guest (the walker maps
 * them with FIEMAP so the host can hash them; see vd_extents.h). Transient:
 * never stored in a baseline. */
typedef struct vd_extent {
        uint64_t logical, physical, length; /* bytes; physical: offset on the disk */
        uint32_t disk;                      /* the appliance's device index (sda = 0) */
        uint32_t flags;                     /* VD_EXTENT_ZERO: allocated, reads as zeros */
} vd_extent;
#define VD_EXTENT_ZERO 1u

typedef struct vd_extent_map {
        uint32_t n;
        vd_extent v[]; /* sorted by logical, not overlapping */
} vd_extent_map;

typedef struct vd_entry {
        char *path;
        size_t path_len;
        uint8_t type; /* enum vd_ftype */
        uint8_t status;
        uint8_t hash_algo;
        uint8_t hash_len;
        int32_t status_errno;
        uint32_t mode; /* permission bits incl. setuid/setgid/sticky (07777) */
        uint32_t uid, gid;
        char *uname, *gname; /* from the source's own passwd/group, or NULL */
        uint64_t size;
        int64_t mtime_ns, ctime_ns;
        uint64_t ino, nlink, rdev;
        char *target; /* symlink target, raw bytes, or NULL */
        size_t target_len;
        vd_xattr *xattrs; /* sorted by name */
        size_t n_xattrs, xattrs_alloc;
        unsigned char hash[VD_HASH_MAX];
        /* A regular file left for the host to hash (status OK, hash_len 0):
         * its extents. Owned; not copied by vd_entry_dup. */
        vd_extent_map *extents;
        /* Delta scan: 1, the walker proved this regular file is block for
         * block the template's inode of the same number (vd_delta.h); 2, the
         * candidate-only walk took this entry from the baseline unread, its
         * inode proved unchanged (any type). Transient. */
        uint8_t delta_proved;
        /* Captured from an ext4 guest: the blocks its inode names
         * (vd_delta.h's record; at most VD_ENTRY_BLOCKS_MAX bytes), which
         * let a delta scan take the entry without reading its inode; NULL:
         * none. Owned; stored in the baseline, not compared. */
        unsigned char *blocks;
        size_t blocks_len;
} vd_entry;
#define VD_ENTRY_BLOCKS_MAX ((size_t)10250)

typedef struct vd_entries {
        vd_entry **v;
        size_t n, alloc;
} vd_entries;

void vd_entries_init(vd_entries *es);
void vd_entries_release(vd_entries *es);
int vd_entries_push(vd_entries *es, vd_entry *e); /* takes ownership of e */
/* Sort by path bytes (memcmp, shorter first): SQLite's BLOB order. */
void vd_entries_sort(vd_entries *es);
/* Returns the entry or NULL. es must be sorted. */
const vd_entry *vd_entries_find(const vd_entries *es, const char *path, size_t len);
/* Its index, or SIZE_MAX. */
size_t vd_entries_index(const vd_entries *es, const char *path, size_t len);
/* The first index whose path is not before path (es->n: none). */
size_t vd_entries_lower_bound(const vd_entries *es, const char *path, size_t len);
/* The entries a glob pattern can match: those whose path starts with its
 * literal directory (the pattern up to the last '/' before its first
 * '*', '?', '[' or '\\'), contiguous in sorted es. Returns the first index;
 * *lit, that prefix's length (each candidate is at least that long and
 * starts with pattern[0..*lit)); candidates run while that holds. */
size_t vd_entries_glob_start(const vd_entries *es, const char *pattern, size_t *lit);

/* A read-only set of entries by path, wherever they are (a sorted list; a
 * baseline's file with a scan's differences over it). find: the entry or
 * NULL, the view's, valid until the next find. each_prefix: fn for each
 * entry whose path starts with prefix, in path order (e valid for the
 * call); a nonzero return stops and is returned. A view that cannot read
 * says so in its own state (its maker checks it after use). */
typedef struct vd_entry_view {
        const vd_entry *(*find)(void *ctx, const char *path, size_t len);
        int (*each_prefix)(void *ctx, const char *prefix, size_t len, int (*fn)(void *fctx, const vd_entry *e),
                           void *fctx);
        void *ctx;
} vd_entry_view;
/* The view of a sorted list (borrowed). */
vd_entry_view vd_entry_view_of(const vd_entries *es);

vd_entry *vd_entry_new(void);
/* Every recorded attribute equal (path included)? */
bool vd_entry_equal(const vd_entry *a, const vd_entry *b);
/* A deep copy, or NULL when out of memory. */
vd_entry *vd_entry_dup(const vd_entry *e);
void vd_entry_free(vd_entry *e);
/* Was the content read and hashed? */
static inline bool vd_entry_hash_known(const vd_entry *e) { return e->status == VD_ST_OK && e->hash_len > 0; }
int vd_entry_set_path(vd_entry *e, const char *p, size_t n);
int vd_entry_add_xattr(vd_entry *e, const char *name, const void *value, size_t len);
void vd_entry_sort_xattrs(vd_entry *e);

const char *vd_hash_algo_name(int a);  /* "xxh3-128", "sha256" */
int vd_hash_algo_from_name(const char *s);
int vd_hash_algo_len(int a);

/* Serialise xattrs to a self-delimiting blob and back (for the baseline).
 * The decoder is fed untrusted bytes: every length is checked. */
int vd_xattrs_encode(const vd_entry *e, vd_buf *out);
int vd_xattrs_decode(vd_entry *e, const void *blob, size_t len, vd_err *err);

#endif
