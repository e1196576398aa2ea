/* A baseline's entries as rows: decoded and checked one at a time, read in
 * path order with their digest checked at their end (vd_baseline_iter),
 * looked up and listed by prefix; what a lazy open and a writer share. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vd_str.h"

#include "vd_baseline_int.h"

int vdb_bad(vd_err *err, const char *path, const char *fmt, ...) {
        char m[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        return vd_err_set(err, VD_E_BASELINE, "baseline '%s': %s", path, m);
}

char *vdb_col_str(sqlite3_stmt *st, int i, size_t max, bool *ok) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return NULL;
        const void *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        if (n < 0 || (size_t)n > max || (p == NULL && n > 0) || (n > 0 && memchr(p, '\0', (size_t)n))) {
                *ok = false;
                return NULL;
        }
        char *s = malloc((size_t)n + 1);
        if (!s) {
                *ok = false;
                return NULL;
        }
        if (n)
                memcpy(s, p, (size_t)n);
        s[n] = '\0';
        return s;
}

/* One row of ENTRY_COLUMNS as an entry, every field bounded and checked;
 * NULL: malformed (or out of memory). */
vd_entry *vdb_row_entry(sqlite3_stmt *st) {
        vd_entry *e = vd_entry_new();
        bool ok = e != NULL;
        if (ok) {
                int pl = sqlite3_column_bytes(st, 0);
                const void *pp = sqlite3_column_blob(st, 0);
                if (!pp || pl <= 0 || (size_t)pl > VD_PATH_MAX || memchr(pp, '\0', (size_t)pl) ||
                    ((const char *)pp)[0] != '/' || vd_entry_set_path(e, pp, (size_t)pl) < 0)
                        ok = false;
        }
        if (ok) {
                int t = sqlite3_column_int(st, 1), s = sqlite3_column_int(st, 2), ha = sqlite3_column_int(st, 17);
                sqlite3_int64 mode = sqlite3_column_int64(st, 4), uid = sqlite3_column_int64(st, 5),
                              gid = sqlite3_column_int64(st, 6);
                if (t < VD_T_UNKNOWN || t > VD_T_SOCK || s < 0 || s > VD_ST_NOT_DESCENDED || mode < 0 ||
                    mode > 07777 || uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX || ha < 0 ||
                    ha > VD_HASH_SHA256)
                        ok = false;
                e->type = (uint8_t)t;
                e->status = (uint8_t)s;
                e->status_errno = sqlite3_column_int(st, 3);
                e->mode = (uint32_t)mode;
                e->uid = (uint32_t)uid;
                e->gid = (uint32_t)gid;
                e->hash_algo = (uint8_t)ha;
        }
        if (ok) {
                e->uname = vdb_col_str(st, 7, VD_OWNER_NAME_MAX, &ok);
                e->gname = vdb_col_str(st, 8, VD_OWNER_NAME_MAX, &ok);
                e->size = (uint64_t)sqlite3_column_int64(st, 9);
                e->mtime_ns = sqlite3_column_int64(st, 10);
                e->ctime_ns = sqlite3_column_int64(st, 11);
                e->ino = (uint64_t)sqlite3_column_int64(st, 12);
                e->nlink = (uint64_t)sqlite3_column_int64(st, 13);
                e->rdev = (uint64_t)sqlite3_column_int64(st, 14);
        }
        if (ok && sqlite3_column_type(st, 15) != SQLITE_NULL) {
                int tl = sqlite3_column_bytes(st, 15);
                const void *tp = sqlite3_column_blob(st, 15);
                if (tl < 0 || (size_t)tl > VD_TARGET_MAX || (tl > 0 && !tp) || !(e->target = malloc((size_t)tl + 1)))
                        ok = false;
                else {
                        if (tl)
                                memcpy(e->target, tp, (size_t)tl);
                        e->target[tl] = '\0';
                        e->target_len = (size_t)tl;
                }
        }
        if (ok && sqlite3_column_type(st, 16) != SQLITE_NULL) {
                int xl = sqlite3_column_bytes(st, 16);
                vd_err xe = VD_ERR_INIT;
                if (xl < 0 || (size_t)xl > ENTRY_BLOB_MAX ||
                    vd_xattrs_decode(e, sqlite3_column_blob(st, 16), (size_t)xl, &xe) < 0)
                        ok = false;
        }
        if (ok && sqlite3_column_type(st, 18) != SQLITE_NULL) {
                int hl = sqlite3_column_bytes(st, 18);
                if (hl <= 0 || hl != vd_hash_algo_len(e->hash_algo))
                        ok = false;
                else {
                        memcpy(e->hash, sqlite3_column_blob(st, 18), (size_t)hl);
                        e->hash_len = (uint8_t)hl;
                }
        }
        if (!ok) {
                vd_entry_free(e);
                return NULL;
        }
        return e;
}

/* ---- the entries in path order, loaded or from the file ---- */

struct vd_baseline_iter {
        const vd_baseline *b;
        size_t i;         /* loaded: the next one */
        sqlite3_stmt *st; /* lazy: the rows, checked as they pass */
        EVP_MD_CTX *dg;
        vd_buf xb;
        vd_entry *cur;
        uint64_t n;
        bool ended;
};

/* The work a statement over the whole file may take. */
static void budget_whole(struct vdb_lazy *l) { l->budget = 100000 + l->file_size / 4; }

int vd_baseline_iter_new(const vd_baseline *b, vd_baseline_iter **ret, vd_err *err) {
        vd_baseline_iter *it = calloc(1, sizeof *it);
        if (!it)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        it->b = b;
        vd_buf_init(&it->xb, ENTRY_BLOB_MAX);
        struct vdb_lazy *l = b->lazy;
        if (l) {
                struct kv kv[N_META];
                if (vdb_meta_to_kv(b, l->n_entries, kv) < 0) {
                        free(it);
                        return vd_err_set(err, VD_E_NOMEM, "out of memory");
                }
                it->dg = vdb_digest_begin(b, kv, l->n_entries);
                vdb_kv_free(kv);
                budget_whole(l);
                if (!it->dg || sqlite3_prepare_v2(l->db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1,
                                                  &it->st, NULL) != SQLITE_OK) {
                        int r = it->dg ? vdb_bad(err, l->path, "cannot read entries: %s", sqlite3_errmsg(l->db))
                                       : vd_err_set(err, VD_E_NOMEM, "out of memory");
                        vd_baseline_iter_free(it);
                        return r;
                }
        }
        *ret = it;
        return 0;
}

/* The block records into the digest c: their count, then each, in path
 * order, each checked to be well formed. */
static int digest_blocks(sqlite3 *db, const char *file, EVP_MD_CTX *c, vd_err *err) {
        sqlite3_stmt *st = NULL;
        sqlite3_int64 nb = -1;
        int r = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM blockmap", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW || (nb = sqlite3_column_int64(st, 0)) < 0)
                r = vdb_bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        st = NULL;
        if (r == 0) {
                vdb_digest_count(c, (uint64_t)nb);
                if (sqlite3_prepare_v2(db, "SELECT path, blocks FROM blockmap ORDER BY path", -1, &st, NULL) !=
                    SQLITE_OK)
                        r = vdb_bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        }
        int rc = SQLITE_DONE;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                int pl = sqlite3_column_bytes(st, 0), bl = sqlite3_column_bytes(st, 1);
                const void *pp = sqlite3_column_blob(st, 0), *bp = sqlite3_column_blob(st, 1);
                if (!pp || pl <= 0 || bl < 0 || (size_t)bl > VD_ENTRY_BLOCKS_MAX || (bl > 0 && !bp) ||
                    !vd_delta_rec_valid(bp ? bp : (const void *)"", (size_t)bl))
                        r = vdb_bad(err, file, "a block record is malformed");
                else
                        vdb_digest_block(c, pp, (size_t)pl, bp ? bp : (const void *)"", (size_t)bl);
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, file, "cannot read the block records: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

/* After the last row: the block records, then the whole digest. */
static int lazy_finish(vd_baseline_iter *it, vd_err *err) {
        const vd_baseline *b = it->b;
        struct vdb_lazy *l = b->lazy;
        if (it->n != l->n_entries)
                return vdb_bad(err, l->path, "damaged or modified while read: %llu entries, not %llu",
                           (unsigned long long)it->n, (unsigned long long)l->n_entries);
        vdb_digest_after_entries(it->dg, b);
        int r = 0;
        if (b->schema >= 6) {
                budget_whole(l);
                r = digest_blocks(l->db, l->path, it->dg, err);
        }
        char got[65];
        EVP_MD_CTX *dg = it->dg;
        it->dg = NULL;
        if (r < 0) {
                EVP_MD_CTX_free(dg);
                return r;
        }
        if (vdb_digest_end(dg, got) < 0)
                return vd_err_set(err, VD_E_INTERNAL, "cannot compute the baseline digest");
        if (strcmp(got, l->stored) != 0)
                return vdb_bad(err, l->path, "damaged or modified: its content does not match its digest");
        return 0;
}

int vd_baseline_iter_next(vd_baseline_iter *it, const vd_entry **ret, vd_err *err) {
        *ret = NULL;
        if (it->ended)
                return 0;
        const vd_baseline *b = it->b;
        if (!b->lazy) {
                if (it->i < b->entries.n)
                        *ret = b->entries.v[it->i++];
                else
                        it->ended = true;
                return 0;
        }
        struct vdb_lazy *l = b->lazy;
        int rc = sqlite3_step(it->st);
        if (rc == SQLITE_DONE) {
                it->ended = true;
                vd_entry_free(it->cur);
                it->cur = NULL;
                return lazy_finish(it, err);
        }
        if (rc != SQLITE_ROW)
                return vdb_bad(err, l->path, "cannot read entries: %s", sqlite3_errmsg(l->db));
        vd_entry *e = vdb_row_entry(it->st);
        if (!e)
                return vdb_bad(err, l->path, "entry %llu is malformed", (unsigned long long)it->n + 1);
        if (it->cur && vd_path_cmp(it->cur->path, it->cur->path_len, e->path, e->path_len) >= 0) {
                vd_entry_free(e);
                return vdb_bad(err, l->path, "entries out of order: damaged");
        }
        vd_entry_free(it->cur);
        it->cur = e;
        it->n++;
        vdb_digest_entry(it->dg, e, &it->xb);
        *ret = e;
        return 0;
}

void vd_baseline_iter_free(vd_baseline_iter *it) {
        if (!it)
                return;
        sqlite3_finalize(it->st);
        EVP_MD_CTX_free(it->dg);
        vd_buf_release(&it->xb);
        vd_entry_free(it->cur);
        free(it);
}

int vdb_db_lookup(sqlite3 *db, const char *file, const char *path, size_t len, vd_entry **ret, vd_err *err) {
        sqlite3_stmt *st = NULL;
        *ret = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries WHERE path = ?1", -1, &st, NULL) !=
                    SQLITE_OK ||
            sqlite3_bind_blob(st, 1, path, (int)len, SQLITE_STATIC) != SQLITE_OK) {
                sqlite3_finalize(st);
                return vdb_bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        }
        int rc = sqlite3_step(st), r = 1;
        if (rc == SQLITE_ROW)
                r = (*ret = vdb_row_entry(st)) ? 0 : vdb_bad(err, file, "an entry is malformed");
        else if (rc != SQLITE_DONE)
                r = vdb_bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

int vd_baseline_lookup(const vd_baseline *b, const char *path, size_t len, vd_entry **ret, vd_err *err) {
        *ret = NULL;
        if (!b->lazy) {
                const vd_entry *e = vd_entries_find(&b->entries, path, len);
                if (!e)
                        return 1;
                return (*ret = vd_entry_dup(e)) ? 0 : vd_err_set(err, VD_E_NOMEM, "out of memory");
        }
        b->lazy->budget = 100000;
        return vdb_db_lookup(b->lazy->db, b->lazy->path, path, len, ret, err);
}

int vdb_db_each_prefix(sqlite3 *db, const char *file, const char *prefix, size_t len,
                       int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries WHERE path >= ?1 ORDER BY path", -1, &st,
                               NULL) != SQLITE_OK ||
            sqlite3_bind_blob(st, 1, prefix, (int)len, SQLITE_STATIC) != SQLITE_OK) {
                sqlite3_finalize(st);
                return vdb_bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        }
        int rc, r = 0;
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                int pl = sqlite3_column_bytes(st, 0);
                const void *pp = sqlite3_column_blob(st, 0);
                if (!pp || (size_t)pl < len || memcmp(pp, prefix, len) != 0)
                        break;
                vd_entry *e = vdb_row_entry(st);
                if (!e) {
                        r = vdb_bad(err, file, "an entry is malformed");
                        break;
                }
                r = fn(ctx, e);
                vd_entry_free(e);
        }
        if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
                r = vdb_bad(err, file, "cannot read entries: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return r;
}

int vd_baseline_each_prefix(const vd_baseline *b, const char *prefix, size_t len,
                            int (*fn)(void *ctx, const vd_entry *e), void *ctx, vd_err *err) {
        if (!b->lazy) {
                vd_entry_view v = vd_entry_view_of(&b->entries);
                return v.each_prefix(v.ctx, prefix, len, fn, ctx);
        }
        budget_whole(b->lazy);
        return vdb_db_each_prefix(b->lazy->db, b->lazy->path, prefix, len, fn, ctx, err);
}

/* The digest of b whose entries (n) and block records are db's rows: what
 * a writer signs, computed from what it wrote. */
int vdb_digest_db(sqlite3 *db, const char *file, const vd_baseline *b, uint64_t n, char out[65], vd_err *err) {
        struct kv kv[N_META];
        if (vdb_meta_to_kv(b, n, kv) < 0)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        EVP_MD_CTX *c = vdb_digest_begin(b, kv, n);
        vdb_kv_free(kv);
        if (!c)
                return vd_err_set(err, VD_E_NOMEM, "out of memory");
        vd_buf xb;
        vd_buf_init(&xb, ENTRY_BLOB_MAX);
        sqlite3_stmt *st = NULL;
        int r = 0, rc = SQLITE_DONE;
        uint64_t got = 0;
        if (sqlite3_prepare_v2(db, "SELECT " ENTRY_COLUMNS " FROM entries ORDER BY path", -1, &st, NULL) != SQLITE_OK)
                r = vdb_bad(err, file, "cannot read entries back: %s", sqlite3_errmsg(db));
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                vd_entry *e = vdb_row_entry(st);
                if (!e) {
                        r = vdb_bad(err, file, "an entry written cannot be read back");
                        break;
                }
                vdb_digest_entry(c, e, &xb);
                vd_entry_free(e);
                got++;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = vdb_bad(err, file, "cannot read entries back: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        vd_buf_release(&xb);
        if (r == 0 && got != n)
                r = vdb_bad(err, file, "%llu entries written, %llu read back", (unsigned long long)n,
                        (unsigned long long)got);
        if (r == 0) {
                vdb_digest_after_entries(c, b);
                if (b->schema >= 6)
                        r = digest_blocks(db, file, c, err);
        }
        if (r < 0) {
                EVP_MD_CTX_free(c);
                return r;
        }
        return vdb_digest_end(c, out) < 0 ? vd_err_set(err, VD_E_INTERNAL, "cannot compute the baseline digest") : 0;
}
