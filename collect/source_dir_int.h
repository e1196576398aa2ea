/* The directory source's parts (private to collect/): the source, the
 * hashing pool (dir_hash.c) and the walk (dir_walk.c). */
#ifndef VD_SOURCE_DIR_INT_H
#define VD_SOURCE_DIR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "collect/vd_delta.h"
#include "collect/vd_source.h"

#define QUEUE_MAX 1024

struct dir_src {
        char *root;
        int rootfd; /* held from open to close: swapping the root for a symlink mid-run changes nothing */
};

/* ---------- hashing pool ---------- */

struct job {
        vd_entry *e;
        int fd;     /* O_PATH fd of the file; the job owns it */
        bool *done; /* streaming: set (under mu, emitted_cv signalled) once e is hashed; NULL: none */
};

struct pool {
        pthread_mutex_t mu;
        pthread_cond_t not_empty, not_full, emitted_cv;
        struct job q[QUEUE_MAX];
        size_t head, count;
        bool done;
        int algo;
        const unsigned char *seed;
        atomic_uint_fast64_t files, bytes;
        uint64_t extents_min; /* files this large are mapped for the host, not hashed (0: off) */
        atomic_uint_fast64_t mapped, fallback[VD_FB_N];
        vd_delta *delta;
        bool delta_verify;
        atomic_uint_fast64_t proved, why[VD_DW_N];
        atomic_int failed; /* a worker could not allocate: the scan fails */
        const vd_content_tap *tap; /* what the hashing reads, also to it (vd_source.h); NULL: none */
        pthread_t *th;
        unsigned n_th;
};

/* ---------- hard links: hash each inode once ---------- */

struct hl_slot {
        uint64_t dev, ino;
        vd_entry *first; /* streaming: only a mark (it is emitted and gone); its results are in res */
        struct hl_res {
                unsigned char hash[VD_HASH_MAX];
                uint8_t hash_len, hash_algo, status, delta_proved;
                int32_t status_errno;
                uint64_t size;
                int64_t mtime_ns, ctime_ns;
        } res;
};

struct hl_map {
        struct hl_slot *v;
        size_t cap, n;
        vd_entry **dup_e, **dup_first; /* pairs to copy the hash into afterwards */
        size_t n_dup, alloc_dup;
};

/* ---------- streaming: entries handed on complete and in path order ---------- */

struct qslot {
        vd_entry *e;
        bool done; /* hashed (or needing no hash); under pool.mu */
        bool hl;   /* a regular file with other names: its inode is in the hard-link map (dev) */
        bool dup;  /* ... seen before under another name: its results are the first's */
        uint64_t dev;
};

struct emitq {
        struct qslot *v; /* a ring of cap slots */
        size_t cap, head, n;
        vd_scan late; /* its warnings only: "changed while read", "cannot read", said after the walk */
};
#define EMITQ_MAX 4096

/* ---------- the walk ---------- */

struct frame {
        int fd; /* O_PATH fd of the directory, used as dirfd */
        char **names;
        uint64_t *inos; /* each name's inode number, as the directory says (d_ino) */
        size_t n, i;
        size_t plen; /* length of this directory's path in the path buffer */
        dev_t dev;
        /* Subdirectories listed but not yet walked, because a later sibling
         * sorts before their children ("a.txt" < "a/x"): the walk goes in
         * path order (memcmp, the baseline's). A stack: each is a name the
         * one below it starts, so its children sort first. */
        struct pending *pend;
        size_t n_pend, pend_alloc;
};

struct pending {
        char *name;           /* the subdirectory's name in its parent */
        struct frame f;       /* its listing, ready to walk */
};

struct walk {
        const vd_scan_opts *o;
        vd_scan *out;
        struct pool pool;
        struct hl_map hl;
        uint64_t root_dev;
        unsigned max_depth;
        char *path;
        size_t path_len, path_alloc;
        struct frame *st;
        size_t depth, st_alloc;
        /* the candidate-only walk (o->walk_reference): each reference
         * entry's first child and next sibling (SIZE_MAX: none), the root */
        const vd_entries *ref;
        size_t *ref_child, *ref_next;
        int rootfd;
        uint64_t taken;
        struct frame *visiting_in; /* the frame whose name vdd_visit is recording; NULL: none (a path) */
        const vd_entry_sink *sink; /* streaming (vd_scan_opts.sink); NULL: entries go to out->entries */
        struct emitq q;
        /* the last device asked whether it is NTFS (its security descriptors
         * are read as xattrs listxattr does not name): ntfs_dev's answer */
        uint64_t ntfs_dev;
        int ntfs_is; /* -1: not asked yet */
};

#define HASH_TRIES 3

/* ---- dir_hash.c ---- */
int64_t vdd_ts_ns(const struct timespec *t);
void vdd_pool_push(struct pool *pl, vd_entry *e, int fd, bool *done);
int vdd_pool_start(struct pool *pl, const vd_scan_opts *o, vd_err *err);
void vdd_pool_finish(struct pool *pl);

/* ---- dir_walk.c ---- */
const char *vdd_pseudo_fs(int fd);
int vdd_open_magic(int fd, int flags);
void vdd_hl_release(struct hl_map *m);
/* A hard link's results: those of its inode's first name (hash, status, size, times). */
struct hl_res vdd_hl_res(const vd_entry *e);
void vdd_hl_take(vd_entry *e, const struct hl_res *r);
void vdd_frame_release(struct frame *f);
int vdd_visit(struct walk *w, int fd, vd_err *err);
int vdd_ref_index(struct walk *w, const vd_entries *ref);
int vdd_drain(struct walk *w, size_t base, vd_err *err);
/* Streaming: hand on the entries at the queue's head that are complete;
 * all: wait for every one. */
int vdd_emit(struct walk *w, bool all, vd_err *err);
/* After a failed walk (the pool finished): free what was not handed on. */
void vdd_emitq_release(struct walk *w);

#endif
