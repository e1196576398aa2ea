/* The baseline's parts (private to baseline/): what writing and loading
 * share with the object itself: metadata as key/value text and the content
 * digest. Strings returned are malloc'ed and the caller's. */
#ifndef VD_BASELINE_INT_H
#define VD_BASELINE_INT_H

#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "baseline/vd_baseline.h"
#include "common/vd_buf.h"

/* ---- metadata as key/value text ---- */

struct kv {
        const char *key;
        char *val; /* owned */
};

#define META_VALUE_MAX 4096

#define ENTRY_BLOB_MAX ((size_t)4 << 20)

#define N_META 12

/* ---- vd_baseline.c ---- */
/* n_entries: the entries the file holds (a derived baseline's own) */
int vdb_meta_to_kv(const vd_baseline *b, uint64_t n_entries, struct kv kv[N_META]);
void vdb_kv_free(struct kv kv[N_META]);
int vdb_compute_digest(const vd_baseline *b, struct kv kv[N_META], char out[65]);
/* The same digest in parts, for entries streamed from the file: begin (the
 * metadata and the entries' count; NULL: out of memory), each entry, what
 * follows them, the block records' count and each record, end (frees c). */
EVP_MD_CTX *vdb_digest_begin(const vd_baseline *b, struct kv kv[N_META], uint64_t n_entries);
void vdb_digest_entry(EVP_MD_CTX *c, const vd_entry *e, vd_buf *xb);
void vdb_digest_after_entries(EVP_MD_CTX *c, const vd_baseline *b);
void vdb_digest_count(EVP_MD_CTX *c, uint64_t n);
void vdb_digest_block(EVP_MD_CTX *c, const char *path, size_t path_len, const void *blocks, size_t len);
int vdb_digest_end(EVP_MD_CTX *c, char out[65]);

/* ---- rows (vd_baseline_rows.c) ---- */

/* "baseline '<path>': <what>" as VD_E_BASELINE. */
int vdb_bad(vd_err *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A BLOB column of at most max bytes without NUL as a string (malloc'd), or
 * NULL (NULL column; *ok false if malformed or out of memory). */
char *vdb_col_str(sqlite3_stmt *st, int i, size_t max, bool *ok);
#define ENTRY_COLUMNS                                                                                                  \
        "path, type, status, status_errno, mode, uid, gid, uname, gname, size, mtime_ns, ctime_ns, ino, nlink, rdev," \
        " target, xattrs, hash_algo, hash"
/* One row of ENTRY_COLUMNS as an entry, every field bounded and checked;
 * NULL: malformed (or out of memory). */
vd_entry *vdb_row_entry(sqlite3_stmt *st);

/* A baseline opened with its entries left in the file (vd_baseline_open_lazy). */
struct vdb_lazy {
        sqlite3 *db;         /* read only, open until vd_baseline_free */
        char *path;
        uint64_t n_entries;  /* rows counted at open */
        uint64_t file_size;
        uint64_t budget;     /* SQLite's work left for the current statement (a bound, whatever the file says) */
        char stored[65];     /* the digest the file claims, checked when the entries have been read */
};
void vdb_lazy_close(struct vdb_lazy *l);
/* vd_baseline_load, the entries left in the file when lazy and the baseline
 * is not derived. */
int vdb_load(const char *path, bool lazy, vd_baseline **ret, vd_err *err);
/* Rows of db (file names it in messages): the entry at path (0, 1 absent),
 * the entries under a prefix, the content digest of b whose n entries and
 * block records they are. */
int vdb_db_lookup(sqlite3 *db, const char *file, const char *path, size_t len, vd_entry **ret, vd_err *err);
int vdb_db_each_prefix(sqlite3 *db, const char *file, const char *prefix, size_t len,
                       int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err);
int vdb_digest_db(sqlite3 *db, const char *file, const vd_baseline *b, uint64_t n, char out[65], vd_err *err);

#endif
